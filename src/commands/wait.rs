//! Waiting for an app to converge after create or scale, without polling: each request asks
//! the node to answer once its state has moved past the version the CLI last saw.

use super::app_path;
use crate::client::Client;
use crate::error::{Error, Kind, Result};
use crate::model::IMMEDIATE_RESTARTS;
use crate::model::{AppStatus, InstanceState};
use crate::ui::Ui;
use crate::ui::progress::Spinner;
use std::time::Duration;
use tokio::time::Instant;

/// The app has exactly its desired instances, all RUNNING, and nothing is still stopping.
pub fn converged(app: &AppStatus) -> bool {
    app.running_instances == app.desired_instances
        && app.instances.len() == app.desired_instances as usize
        && app
            .instances
            .iter()
            .all(|i| i.state == InstanceState::Running && !i.stopping)
}

/// What a wait is waiting for: instances running of those wanted, and those still starting
/// or being drained and stopped (a scale-down is not done while `1/1` run).
pub fn progress(app: &AppStatus) -> String {
    let mut text = format!(
        "{}/{} instances running",
        app.running_instances, app.desired_instances
    );
    let stopping = app.instances.iter().filter(|i| i.stopping).count();
    let starting = app
        .instances
        .iter()
        .filter(|i| !i.stopping && i.state != InstanceState::Running)
        .count();
    if starting > 0 {
        text.push_str(&format!(", {starting} starting"));
    }
    if stopping > 0 {
        text.push_str(&format!(
            ", {stopping} draining and stopping (requests in flight finish first)"
        ));
    }
    text
}

/// Waits until the app converges at `revision`. Fails when another request changed the app
/// first, when an instance keeps crashing, or at `timeout` (exit 16).
pub async fn until_converged(
    client: &Client,
    name: &str,
    revision: u64,
    mut version: u64,
    timeout: Duration,
    ui: &Ui,
) -> Result<AppStatus> {
    let deadline = Instant::now() + timeout;
    let mut spinner = Spinner::new(ui);
    let result = loop {
        let path = format!("{}?since={version}&wait_ms=1000", app_path(name));
        let (app, seen): (AppStatus, u64) =
            match client.call(hyper::Method::GET, &path, None::<&()>).await {
                Ok(answer) => answer,
                Err(e) if e.kind == Kind::NotFound => {
                    break Err(Error::conflict(format!(
                        "`{name}` was removed while ltc waited for it"
                    )));
                }
                Err(e) => break Err(e),
            };
        version = seen;
        if app.revision != revision {
            break Err(Error::conflict(format!(
                "`{name}` was changed by another request (now {} instances) before it converged",
                app.desired_instances
            ))
            .with_hint(format!("`ltc status {name}` shows where it is now")));
        }
        spinner.set(progress(&app));
        if converged(&app) {
            break Ok(app);
        }
        let crashing = app.instances.iter().find(|i| {
            !i.stopping && i.state == InstanceState::Crashed && i.crash_count >= IMMEDIATE_RESTARTS
        });
        if let Some(instance) = crashing {
            break Err(Error::failed(format!(
                "instance {} of `{name}` crashed {} times{}",
                instance.index,
                instance.crash_count,
                instance
                    .last_error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ))
            .with_hint(format!(
                "`ltc status {name}` shows its instances; ltc keeps restarting it with a backoff"
            )));
        }
        if Instant::now() >= deadline {
            break Err(Error::new(
                Kind::Timeout,
                format!(
                    "timed out waiting for `{name}`: {}/{} instances running",
                    app.running_instances, app.desired_instances
                ),
            )
            .with_hint(format!(
                "ltc keeps converging it in the background; `ltc status {name}` shows its instances"
            )));
        }
    };
    spinner.finish();
    result
}
