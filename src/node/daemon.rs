//! The node as a process: the home's lock, the router's and the API's listeners, signals, and
//! an orderly shutdown that leaves every app running.

use super::Node;
use super::{SETTLE_TIMEOUT, api};
use super::{health, store};
use crate::config::{Paths, Settings};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::logging::log;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs the node in this process until SIGTERM, SIGINT or `ltc daemon stop`.
pub async fn run(settings: &Settings, engine: Arc<dyn Engine>) -> Result<()> {
    let paths = &settings.paths;
    paths.ensure_home()?;
    let lock = lock_home(paths)?;
    store::remove_stale_temp_files(&paths.home);
    let router_listener = tokio::net::TcpListener::bind(settings.router_addr)
        .await
        .map_err(|e| {
            Error::config(format!(
                "the router cannot listen on {}: {e}",
                settings.router_addr
            ))
            .with_hint("set LTC_ROUTER_ADDR to a free address, e.g. 127.0.0.1:8081")
        })?;
    let node = Node::new(
        engine,
        settings,
        store::install_id(&paths.install_id_file())?,
        store::load(&paths.config_file())?,
        store::load(&paths.state_file())?,
        store::load(&paths.instances_file())?,
        health::Tuning::default(),
    );
    let socket = paths.socket();
    let api_listener = bind_api(&socket)?;
    log(format!(
        "ltc node {} started (pid {}, home {}, engine {}, router {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        paths.home.display(),
        node.engine.endpoint(),
        settings.router_addr
    ));

    // Known apps are routes before the first request: until their instances are adopted they
    // answer 503 "starting", never 404.
    node.router.set_starting(true);
    node.publish_routes();
    let cancel = node.cancel_token();
    let signals = tokio::spawn(cancel_on_signal(cancel.clone()));
    let converger = tokio::spawn(node.clone().converge_loop());
    let events = tokio::spawn(node.clone().watch_events());
    let http = tokio::spawn(crate::router::http::serve(
        node.router.clone(),
        router_listener,
        cancel.clone(),
    ));
    let tcp = tokio::spawn(crate::router::tcp::serve(
        node.router.clone(),
        cancel.clone(),
    ));
    node.router_serving
        .store(true, std::sync::atomic::Ordering::SeqCst);
    api::serve(node.clone(), api_listener, cancel.clone()).await;
    cancel.cancel();
    let _ = tokio::join!(converger, events, signals, http, tcp);
    // Containers the engine is creating for this node finish and are recorded, so the next
    // node adopts or removes them; otherwise they would appear after this one is gone.
    node.settle_starts(SETTLE_TIMEOUT).await;
    let _ = std::fs::remove_file(&socket);
    log("ltc node stopped; apps keep running");
    drop(lock);
    Ok(())
}

/// Takes the home's lock (one node per `LTC_HOME`) and writes this process's pid into it.
/// The lock is held as long as the returned file is open.
fn lock_home(paths: &Paths) -> Result<std::fs::File> {
    let lock_path = paths.lock_file();
    let mut lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| Error::fs(format!("cannot open `{}`: {e}", lock_path.display())))?;
    if let Err(std::fs::TryLockError::WouldBlock) = lock.try_lock() {
        let pid = std::fs::read_to_string(&lock_path).unwrap_or_default();
        return Err(Error::conflict(format!(
            "a node is already running for `{}` (pid {})",
            paths.home.display(),
            pid.trim()
        ))
        .with_hint("`ltc daemon stop` stops it"));
    }
    use std::io::Write;
    lock.set_len(0)
        .and_then(|()| write!(lock, "{}", std::process::id()))
        .map_err(|e| Error::fs(format!("cannot write `{}`: {e}", lock_path.display())))?;
    Ok(lock)
}

/// Listens on the API's Unix socket, readable by this user only. A socket left by a node that
/// died is replaced (the home's lock says no node runs).
fn bind_api(socket: &Path) -> Result<tokio::net::UnixListener> {
    match std::fs::remove_file(socket) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::fs(format!(
                "cannot remove `{}`: {e}",
                socket.display()
            )));
        }
    }
    let listener = tokio::net::UnixListener::bind(socket)
        .map_err(|e| Error::fs(format!("cannot listen on `{}`: {e}", socket.display())))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::fs(format!("cannot protect `{}`: {e}", socket.display())))?;
    Ok(listener)
}

/// Cancels the node on SIGTERM or SIGINT.
async fn cancel_on_signal(cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = cancel.cancelled() => return,
    }
    cancel.cancel();
}
