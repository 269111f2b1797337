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
        text.push_str(&format!(", {stopping} {}", draining(app)));
    }
    text
}

/// What stopping instances wait for: "stopping", or "draining N requests" while requests to
/// them are still in flight (each finishes first, up to the app's drain timeout).
pub fn draining(app: &AppStatus) -> String {
    let requests: u32 = app
        .instances
        .iter()
        .filter(|i| i.stopping)
        .map(|i| i.requests_in_flight)
        .sum();
    match requests {
        0 => "stopping".to_string(),
        1 => "draining 1 request".to_string(),
        n => format!("draining {n} requests"),
    }
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
        let (app, seen) = match next_state(client, name, version).await {
            Ok(answer) => answer,
            Err(e) => break Err(e),
        };
        version = seen;
        if app.change != revision {
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

/// One answer of a wait: the app, once the node's state moved past `version`.
async fn next_state(client: &Client, name: &str, version: u64) -> Result<(AppStatus, u64)> {
    let path = format!("{}?since={version}&wait_ms=1000", app_path(name));
    match client.call(hyper::Method::GET, &path, None::<&()>).await {
        Err(e) if e.kind == Kind::NotFound => Err(Error::conflict(format!(
            "`{name}` was removed while ltc waited for it"
        ))),
        other => other,
    }
}

/// Where a rollout is, for the spinner.
pub fn rollout_progress(app: &AppStatus) -> String {
    match &app.rollout {
        Some(r) => format!(
            "revision {}: {}/{} instances replaced ({})",
            r.revision,
            r.updated,
            r.total,
            progress(app)
        ),
        None => progress(app),
    }
}

/// Waits until the rollout started by request `change` ends. Fails with exit 14 when it was
/// rolled back (naming the instance, its reason and its last lines), when another request
/// overtook it, or at `timeout` (exit 16; the rollout goes on).
pub async fn until_rolled_out(
    client: &Client,
    name: &str,
    change: u64,
    mut version: u64,
    timeout: Duration,
    ui: &Ui,
) -> Result<AppStatus> {
    let deadline = Instant::now() + timeout;
    let mut spinner = Spinner::new(ui);
    let result = loop {
        let (app, seen) = match next_state(client, name, version).await {
            Ok(answer) => answer,
            Err(e) => break Err(e),
        };
        version = seen;
        spinner.set(rollout_progress(&app));
        if let Some(result) = app.last_rollout.as_ref().filter(|r| r.change == change) {
            match &result.failure {
                None if converged(&app) => break Ok(app),
                None => {}
                Some(failure) => break Err(rollout_failed(name, &app, result.release, failure)),
            }
        } else if app.change != change {
            break Err(Error::conflict(format!(
                "`{name}` was changed by another request before this rollout ended"
            ))
            .with_hint(format!("`ltc status {name}` shows where it is now")));
        }
        if Instant::now() >= deadline {
            break Err(Error::new(
                Kind::Timeout,
                format!("timed out waiting for `{name}`: {}", rollout_progress(&app)),
            )
            .with_hint(format!(
                "the rollout goes on in the background; `ltc status {name}` shows its progress"
            )));
        }
    };
    spinner.finish();
    result
}

/// The error of a rollout that was undone.
fn rollout_failed(
    name: &str,
    app: &AppStatus,
    release: u64,
    failure: &crate::model::RolloutFailure,
) -> Error {
    let mut message = format!(
        "revision {release} of `{name}` failed: instance {} {}; `{name}` is back on revision {}, \
         its instances untouched",
        failure.index, failure.reason, app.revision
    );
    if failure.logs.is_empty() {
        message.push_str(&format!(
            "\nThe new instance {} wrote nothing.",
            failure.index
        ));
    } else {
        message.push_str(&format!(
            "\nLast lines of the new instance {}:\n  {}",
            failure.index,
            failure.logs.join("\n  ")
        ));
    }
    Error::failed(message).with_hint(format!(
        "`ltc logs {name} --recent` shows more; `ltc history {name}` lists the revisions"
    ))
}

/// Waits until instance `index` is a new one (none of `old`) and the app has converged.
#[allow(clippy::too_many_arguments)]
pub async fn until_replaced(
    client: &Client,
    name: &str,
    change: u64,
    mut version: u64,
    index: u32,
    old: &[String],
    timeout: Duration,
    ui: &Ui,
) -> Result<AppStatus> {
    let deadline = Instant::now() + timeout;
    let mut spinner = Spinner::new(ui);
    let result = loop {
        let (app, seen) = match next_state(client, name, version).await {
            Ok(answer) => answer,
            Err(e) => break Err(e),
        };
        version = seen;
        spinner.set(progress(&app));
        if app.change != change {
            break Err(Error::conflict(format!(
                "`{name}` was changed by another request before instance {index} was replaced"
            )));
        }
        let at_index: Vec<_> = app.instances.iter().filter(|i| i.index == index).collect();
        if let Some(crashed) = at_index
            .iter()
            .find(|i| !old.contains(&i.guid) && i.state == InstanceState::Crashed)
        {
            break Err(Error::failed(format!(
                "the new instance {index} of `{name}` crashed{}; the old one keeps serving",
                crashed
                    .last_error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )));
        }
        if converged(&app) && at_index.iter().all(|i| !old.contains(&i.guid)) {
            break Ok(app);
        }
        if Instant::now() >= deadline {
            break Err(Error::new(
                Kind::Timeout,
                format!("timed out waiting for instance {index} of `{name}` to be replaced"),
            ));
        }
    };
    spinner.finish();
    result
}
