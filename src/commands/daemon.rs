//! `ltc daemon run|start|stop|status`: the node in the foreground, or started, stopped and shown
//! in the background.

use crate::cli::DaemonCommand;
use crate::client::{self, Client};
use crate::config::Settings;
use crate::error::Result;
use crate::model::NodeInfo;
use crate::node;
use crate::ui::Ui;
use hyper::Method;
use std::time::Duration;

pub async fn run(command: DaemonCommand, settings: &Settings, ui: &Ui) -> Result<()> {
    match command {
        DaemonCommand::Run => {
            let engine = node::engine_for(&settings.paths, &settings.docker_host)?;
            node::run(settings, engine).await
        }
        DaemonCommand::Start { timeout } => {
            let client = Client::new(settings).with_notes(ui);
            let already = client.ping().await?;
            if !already {
                let child = client::spawn_node(settings)?;
                client::wait_for_node(&client, settings, child, timeout).await?;
            }
            let info: NodeInfo = client.get("/v1/info").await?;
            report(
                ui,
                &info,
                if already {
                    "already running"
                } else {
                    "started"
                },
            );
            Ok(())
        }
        DaemonCommand::Restart { timeout } => {
            let (info, was_running) = restart(settings, ui, timeout).await?;
            report(ui, &info, if was_running { "restarted" } else { "started" });
            Ok(())
        }
        DaemonCommand::Stop { timeout } => {
            let client = Client::new(settings).with_notes(ui);
            if !client.ping().await? {
                say(ui, false, "the ltc node is not running");
                return Ok(());
            }
            // A node that goes away while it answers has done what was asked; whether it is
            // gone is checked below either way.
            let _ = client
                .call::<serde_json::Value>(Method::POST, "/v1/shutdown", None::<&()>)
                .await;
            let deadline = tokio::time::Instant::now() + timeout;
            while client.ping().await.unwrap_or(true) || node_holds_lock(settings) {
                if tokio::time::Instant::now() >= deadline {
                    return Err(crate::error::Error::new(
                        crate::error::Kind::Timeout,
                        format!(
                            "the ltc node did not stop within {}",
                            humantime::format_duration(timeout)
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            say(
                ui,
                false,
                "the ltc node stopped; apps keep running, but their routes no longer answer \
                 until a node runs again (`ltc daemon start`; `ltc daemon restart` replaces a \
                 node without that gap)",
            );
            Ok(())
        }
        DaemonCommand::Install { system, print } => {
            super::service::install(settings, ui, system, print)
        }
        DaemonCommand::Uninstall { system } => super::service::uninstall(ui, system),
        DaemonCommand::Status => {
            let client = Client::new(settings).with_notes(ui);
            if !client.ping().await? {
                // A script asks `ltc daemon status || ltc daemon start`.
                return Err(
                    crate::error::Error::failed("the ltc node is not running").with_hint(
                        "`ltc daemon start` starts it; any command that needs it does too",
                    ),
                );
            }
            let info: NodeInfo = client.get("/v1/info").await?;
            report(ui, &info, "running");
            Ok(())
        }
    }
}

/// Whether a node process still holds this home's lock.
fn node_holds_lock(settings: &Settings) -> bool {
    let Ok(file) = std::fs::File::open(settings.paths.lock_file()) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

fn say(ui: &Ui, running: bool, message: &str) {
    if ui.json {
        ui.json(&serde_json::json!({ "running": running }));
    } else {
        ui.out(message);
    }
}

fn report(ui: &Ui, info: &NodeInfo, what: &str) {
    if ui.json {
        ui.json(&serde_json::json!({ "running": true, "node": info }));
        return;
    }
    ui.out(format!("the ltc node is {what} (pid {})", info.pid));
    ui.out(format!("  home:   {}", info.ltc_home));
    match &info.engine.error {
        None => ui.out(format!(
            "  engine: {} {} at {}",
            match info.engine.kind {
                crate::model::EngineKind::Docker => "Docker",
                crate::model::EngineKind::Swarm => "Docker Swarm, manager",
            },
            info.engine.version.as_deref().unwrap_or("?"),
            info.engine.endpoint
        )),
        Some(error) => ui.out(format!("  engine: {error}")),
    }
}

/// Starts a new node that takes over from the running one (the router's sockets pass
/// between them, so no route goes down), or starts one. Says whether one was running.
pub async fn restart(settings: &Settings, ui: &Ui, timeout: Duration) -> Result<(NodeInfo, bool)> {
    let client = Client::new(settings).with_notes(ui);
    let old = match client.health().await? {
        Some(health) => Some(health.pid),
        None => None,
    };
    let child = client::spawn_node(settings)?;
    let deadline = tokio::time::Instant::now() + timeout;
    if old.is_none() {
        client::wait_for_node(&client, settings, child, timeout).await?;
    } else {
        // The new node answers once the old one has handed over and exited.
        let mut child = child;
        loop {
            match client.health().await {
                Ok(Some(health)) if Some(health.pid) != old => break,
                _ => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(crate::error::Error::failed(format!(
                    "the new node exited ({status}) before it took over; the old one \
                     still serves"
                ))
                .with_hint(format!("its log: {}", settings.paths.log_file().display())));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(crate::error::Error::new(
                    crate::error::Kind::Timeout,
                    "the new node did not take over in time",
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let info: NodeInfo = client.get("/v1/info").await?;
    Ok((info, old.is_some()))
}
