//! The node as a process: the home's lock, the router's and the API's listeners, signals, and
//! an orderly shutdown that leaves every app running.

use super::Node;
use super::{SETTLE_TIMEOUT, api, handover};
use super::{health, store};
use crate::config::{Paths, Settings};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::logging::log;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs the node in this process until SIGTERM, SIGINT or `ltc daemon stop`. When a node
/// already runs for this home, this one takes its router over without a gap (see
/// [`handover`]) and replaces it.
pub async fn run(settings: &Settings, engine: Arc<dyn Engine>) -> Result<()> {
    let paths = &settings.paths;
    paths.ensure_home()?;
    let (router, hub) = Node::router_for(settings);
    let cancel = CancellationToken::new();
    let certificates = https_certificates(settings, &router);
    let (lock, serving, handed_over) = match lock_home(paths) {
        Ok(lock) => {
            let listener = bind_router(settings).await?;
            let tls = match &certificates {
                Some(_) => bind_https(settings).await?,
                None => None,
            };
            (lock, Serving::Ready(listener, tls), false)
        }
        Err(busy) => {
            let Some(mut inherited) = handover::take_over(paths)? else {
                return Err(busy);
            };
            let Some(http) = inherited.sockets.remove(&0) else {
                return Err(Error::failed(
                    "handover: the running node passed no HTTP socket",
                ));
            };
            let tls = match inherited.https.take() {
                Some(socket) if certificates.is_some() => Some(listener_from(socket)?),
                None if certificates.is_some() => bind_https(settings).await?,
                _ => None,
            };
            router.publish(&inherited.domain, &inherited.routes);
            router.inherit_tcp(std::mem::take(&mut inherited.sockets));
            let tasks = serve_router(&router, listener_from(http)?, tls, &cancel);
            inherited.ready()?;
            log("took the router over from the running node; waiting for it to finish");
            (wait_for_lock(paths).await?, Serving::Started(tasks), true)
        }
    };
    store::remove_stale_temp_files(&paths.home);
    let node = Node::with_router(
        engine,
        settings,
        super::Stored {
            install_id: store::install_id(&paths.install_id_file())?,
            config: store::load(&paths.config_file())?,
            desired: store::load(&paths.state_file())?,
            saved: store::load(&paths.instances_file())?,
        },
        (router, hub, cancel.clone()),
        health::Tuning::default(),
    );
    let view = super::view::View(Arc::downgrade(&node));
    node.router.set_node(Arc::new(view));
    node.publish_certificates();
    let socket = paths.socket();
    let api_listener = bind_api(&socket)?;
    let handover_listener = bind_api(&paths.handover_socket())?;
    log(format!(
        "ltc node {} started (pid {}, home {}, engine {}, router {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        paths.home.display(),
        node.engine.endpoint(),
        settings.router_addr
    ));
    if handed_over {
        // The handed-over table serves until this node has adopted and checked its instances.
        node.inherited
            .store(true, std::sync::atomic::Ordering::SeqCst);
    } else {
        // Known apps are routes before the first request: until their instances are adopted
        // they answer 503 "starting", never 404.
        node.router.set_starting(true);
        node.publish_routes();
    }
    let signals = tokio::spawn(cancel_on_signal(cancel.clone()));
    let converger = tokio::spawn(node.clone().converge_loop());
    let events = tokio::spawn(node.clone().watch_events());
    let offers = tokio::spawn(node.clone().offer_handover(handover_listener));
    let (http, tcp) = match serving {
        Serving::Ready(listener, tls) => serve_router(&node.router, listener, tls, &cancel),
        Serving::Started(tasks) => tasks,
    };
    node.router_serving
        .store(true, std::sync::atomic::Ordering::SeqCst);
    api::serve(node.clone(), api_listener, cancel.clone()).await;
    cancel.cancel();
    let _ = tokio::join!(converger, events, signals, http, tcp, offers);
    // Containers the engine is creating for this node finish and are recorded, so the next
    // node adopts or removes them; otherwise they would appear after this one is gone.
    node.settle_starts(SETTLE_TIMEOUT).await;
    // The next node (after a handover) has bound its own sockets only once this one let go
    // of the lock, so these are still this node's to remove.
    let _ = std::fs::remove_file(&socket);
    let _ = std::fs::remove_file(paths.handover_socket());
    log("ltc node stopped; apps keep running");
    drop(lock);
    Ok(())
}

/// The router's listener: bound here, or already serving (handed over).
enum Serving {
    Ready(tokio::net::TcpListener, Option<tokio::net::TcpListener>),
    Started(RouterTasks),
}

/// The router's HTTP and TCP serving tasks.
type RouterTasks = (tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>);

/// Starts serving HTTP on `listener` (and HTTPS on `tls`) and the TCP routes, keeping a copy
/// of each socket for the next handover.
fn serve_router(
    router: &Arc<crate::router::Router>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio::net::TcpListener>,
    cancel: &CancellationToken,
) -> RouterTasks {
    let tls = tls.and_then(|listener| {
        let std = listener.into_std().ok()?;
        router.keep_https_socket(&std);
        let config = crate::router::tls::server_config(router.certificates()?);
        Some((tokio::net::TcpListener::from_std(std).ok()?, config))
    });
    if let Ok(std) = listener.into_std() {
        router.keep_socket(0, &std);
        if let Ok(listener) = tokio::net::TcpListener::from_std(std) {
            let http = tokio::spawn(crate::router::listen::serve_with_tls(
                router.clone(),
                listener,
                tls,
                cancel.clone(),
            ));
            let tcp = tokio::spawn(crate::router::tcp::serve(router.clone(), cancel.clone()));
            return (http, tcp);
        }
    }
    log("router: cannot serve its listening socket");
    (tokio::spawn(async {}), tokio::spawn(async {}))
}

/// The local CA and the certificates HTTPS serves, unless HTTPS is off. A CA that cannot be
/// read or made turns HTTPS off with a line in the node's log; plain HTTP is unaffected.
fn https_certificates(
    settings: &Settings,
    router: &Arc<crate::router::Router>,
) -> Option<Arc<crate::router::tls::Certificates>> {
    settings.router_tls_addr?;
    match crate::router::tls::LocalCa::load_or_create(&settings.paths.home) {
        Ok(ca) => {
            let certificates = Arc::new(crate::router::tls::Certificates::new(ca, router));
            router.set_certificates(certificates.clone());
            Some(certificates)
        }
        Err(e) => {
            log(format!("HTTPS is off: {e}"));
            None
        }
    }
}

/// The HTTPS listener. A port set with `LTC_ROUTER_TLS_ADDR` that cannot be taken stops the
/// node (10); the default one taken turns HTTPS off with a line in the node's log.
async fn bind_https(settings: &Settings) -> Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = settings.router_tls_addr else {
        return Ok(None);
    };
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => Ok(Some(listener)),
        Err(e) if settings.router_tls_explicit => Err(Error::config(format!(
            "the router cannot serve HTTPS on {addr}: {e}"
        ))
        .with_hint("set LTC_ROUTER_TLS_ADDR to a free address, or to `off`")),
        Err(e) => {
            log(format!(
                "HTTPS is off: the router cannot listen on {addr}: {e} (set LTC_ROUTER_TLS_ADDR)"
            ));
            Ok(None)
        }
    }
}

fn listener_from(socket: std::net::TcpListener) -> Result<tokio::net::TcpListener> {
    socket
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(socket))
        .map_err(|e| Error::failed(format!("handover: the passed socket is unusable: {e}")))
}

async fn bind_router(settings: &Settings) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(settings.router_addr)
        .await
        .map_err(|e| {
            Error::config(format!(
                "the router cannot listen on {}: {e}",
                settings.router_addr
            ))
            .with_hint("set LTC_ROUTER_ADDR to a free address, e.g. 127.0.0.1:8081")
        })
}

/// After a handover: the old node finishes its requests in flight and exits, releasing the
/// home's lock.
async fn wait_for_lock(paths: &Paths) -> Result<std::fs::File> {
    let deadline = tokio::time::Instant::now() + HANDOVER_EXIT;
    loop {
        match lock_home(paths) {
            Ok(lock) => return Ok(lock),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

/// How long the node that handed its router over may take to exit.
const HANDOVER_EXIT: std::time::Duration = std::time::Duration::from_secs(60);

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
