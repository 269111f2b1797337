//! Health monitors: one check of an instance, and what a result means for it.
//!
//! While an instance starts (CLAIMED) it is checked quickly (see [`super::probe`]); its first
//! pass makes it RUNNING and routed. A RUNNING instance is checked every
//! [`LIVENESS_INTERVAL`]: one failure takes it out of the routes at once, and
//! [`FAILURE_THRESHOLD`] failures in a row make it a crash (it is stopped and restarted with
//! the crash policy). A pass in between puts it back. The interval and threshold are
//! Kubernetes-like (10 s × 3 there; reliability.md §8 proposes 5 s × 3): quicker than
//! Lattice's 30 s so a sick instance stops receiving traffic within seconds.

use super::probe;
use crate::engine::{ContainerId, Engine, EngineError};
use crate::model::{InstanceState, Monitor};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// How often a RUNNING instance is checked.
pub const LIVENESS_INTERVAL: Duration = Duration::from_secs(5);

/// Failures in a row that make a RUNNING instance a crash.
pub const FAILURE_THRESHOLD: u32 = 3;

/// The node's timings; tests shorten them.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub liveness_interval: Duration,
    pub failure_threshold: u32,
    /// How long an `ltc run` container waits for its session to attach.
    pub attach_wait: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            liveness_interval: LIVENESS_INTERVAL,
            failure_threshold: FAILURE_THRESHOLD,
            attach_wait: super::sessions::ATTACH_WAIT,
        }
    }
}

/// What one check result means for an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A starting instance passed: RUNNING, routed.
    BecameRunning,
    /// A starting instance has not passed yet.
    StillStarting,
    /// Healthy, as before.
    Healthy,
    /// Passed after failing: routed again.
    Recovered,
    /// Failed, below the threshold: out of the routes.
    Unhealthy,
    /// Failed the threshold: a crash.
    Crash,
}

/// The verdict and the new count of failures in a row.
pub fn judge(state: InstanceState, failures: u32, passed: bool, threshold: u32) -> (Verdict, u32) {
    match (state, passed) {
        (InstanceState::Claimed, true) => (Verdict::BecameRunning, 0),
        (InstanceState::Claimed, false) => (Verdict::StillStarting, 0),
        (InstanceState::Running, true) if failures > 0 => (Verdict::Recovered, 0),
        (InstanceState::Running, true) => (Verdict::Healthy, 0),
        (InstanceState::Running, false) if failures + 1 >= threshold => {
            (Verdict::Crash, failures + 1)
        }
        (InstanceState::Running, false) => (Verdict::Unhealthy, failures + 1),
        _ => (Verdict::Healthy, failures),
    }
}

/// Runs one check of an instance. `Err` says why it failed, in words for `status`.
/// Why a frozen instance fails its port monitor.
pub const FROZEN: &str = "its processes are stopped or paused (frozen)";

pub async fn check(
    engine: &dyn Engine,
    monitor: &Monitor,
    container: &ContainerId,
    address: std::net::IpAddr,
    ports: &BTreeMap<u16, u16>,
    timeout: Duration,
    running: bool,
) -> Result<(), String> {
    let published = |port: &u16| {
        ports
            .get(port)
            .map(|host| SocketAddr::new(address, *host))
            .ok_or_else(|| format!("port {port} is not published"))
    };
    match monitor {
        Monitor::None => Ok(()),
        Monitor::Port { port } => {
            if !probe::port_listens(published(port)?, timeout).await {
                return Err(format!("nothing listens on port {port}"));
            }
            // The kernel and Docker's proxy accept connections for a process that is stopped
            // or paused: a RUNNING instance's processes must also be running. (An engine that
            // cannot say is no reason to take the instance out.)
            if running && matches!(engine.frozen(container).await, Ok(true)) {
                return Err(FROZEN.to_string());
            }
            // Docker's proxy can be slow to close a connection when the machine is busy: a
            // starting instance counts as listening only while its process still runs.
            if !running && matches!(engine.running(container).await, Ok(false)) {
                return Err("its process is not running".to_string());
            }
            Ok(())
        }
        Monitor::Url { port, path } => {
            probe::url_answers_200(published(port)?, path, timeout).await
        }
        Monitor::Command { command } => {
            let argv = ["/bin/sh".to_string(), "-c".to_string(), command.clone()];
            match engine.exec(container, &argv, timeout).await {
                Ok(outcome) if outcome.exit_code == 0 => Ok(()),
                Ok(outcome) if missing_shell(outcome.exit_code, &outcome.output) => {
                    Err(NO_SHELL.to_string())
                }
                Ok(outcome) => Err(format!(
                    "the monitor command exited with status {}",
                    outcome.exit_code
                )),
                Err(EngineError::Api { message, .. }) if missing_shell(127, &message) => {
                    Err(NO_SHELL.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// The message for an image without a shell, where `--monitor-command` cannot run.
pub const NO_SHELL: &str = "the image has no /bin/sh, so --monitor-command cannot run; use --monitor-port or --monitor-url";

fn missing_shell(exit_code: i64, output: &str) -> bool {
    (exit_code == 126 || exit_code == 127)
        && (output.contains("no such file") || output.contains("not found") || output.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceState::*;

    #[test]
    fn a_starting_instance_runs_on_its_first_pass() {
        assert_eq!(judge(Claimed, 0, false, 3), (Verdict::StillStarting, 0));
        assert_eq!(judge(Claimed, 0, true, 3), (Verdict::BecameRunning, 0));
    }

    #[test]
    fn a_running_instance_is_unrouted_at_once_and_crashes_at_the_threshold() {
        assert_eq!(judge(Running, 0, false, 3), (Verdict::Unhealthy, 1));
        assert_eq!(judge(Running, 1, false, 3), (Verdict::Unhealthy, 2));
        assert_eq!(judge(Running, 2, false, 3), (Verdict::Crash, 3));
    }

    #[test]
    fn a_pass_between_failures_routes_it_again() {
        assert_eq!(judge(Running, 2, true, 3), (Verdict::Recovered, 0));
        assert_eq!(judge(Running, 0, true, 3), (Verdict::Healthy, 0));
    }

    #[test]
    fn a_missing_shell_is_recognised() {
        assert!(missing_shell(
            127,
            "exec: \"/bin/sh\": stat /bin/sh: no such file or directory"
        ));
        assert!(missing_shell(126, ""));
        assert!(!missing_shell(1, "no such file"));
        assert!(!missing_shell(127, "curl: (7) failed to connect"));
    }
}
