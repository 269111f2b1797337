//! One instance's life: host ports, start, following its output, its monitor (CLAIMED →
//! RUNNING, then liveness), drain and stop, and the cleanup after a crash.

use super::Node;
use super::converge::{self, Op, Slot};
use super::{CRASH_OUTPUT_WAIT, NO_MONITOR_GRACE, STOP_GRACE};
use super::{health, logs, probe, records, resolve};
use crate::engine::{ContainerId, EngineError, Started};
use crate::logging::log;
use crate::model::InstanceState;
use crate::router::DRAIN_TIMEOUT;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

impl Node {
    /// Host ports for an instance's container ports, on 127.0.0.1. Chosen here rather than by
    /// Docker so the instance's environment (`CF_INSTANCE_PORT`, `CF_INSTANCE_PORTS`) can name
    /// them; a port taken in between is retried by [`Node::start_instance`].
    pub(super) fn allocate_ports(&self, container_ports: &[u16]) -> BTreeMap<u16, u16> {
        let mut ports = BTreeMap::new();
        let mut held = Vec::new();
        for container_port in container_ports {
            let port = loop {
                let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") else {
                    break 0;
                };
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                held.push(listener);
                let mut inner = self.lock();
                if !inner.recent_ports.contains(&port) {
                    inner.recent_ports.push_back(port);
                    if inner.recent_ports.len() > 1024 {
                        inner.recent_ports.pop_front();
                    }
                    break port;
                }
            };
            ports.insert(*container_port, port);
        }
        ports
    }

    pub(super) async fn start_instance(self: Arc<Self>, guid: String) {
        let found = {
            let inner = self.lock();
            inner.slot(&guid).and_then(|slot| {
                let spec = inner.desired.apps.get(&slot.app)?;
                (spec.generation == slot.generation).then(|| (spec.clone(), slot.index))
            })
        };
        let Some((spec, index)) = found else {
            self.finish_start(&guid, Err(None));
            return;
        };
        let home = self.paths.home.display().to_string();
        let owner = resolve::Owner {
            install_id: &self.install_id,
            home: &home,
        };
        let mut failure = None;
        for attempt in 0..3 {
            let ports = self.allocate_ports(&spec.run.ports);
            let instance = resolve::instance_spec(&spec, index, &guid, &ports, &owner);
            match self.engine.run_instance(&instance).await {
                Ok(started) => {
                    self.finish_start(&guid, Ok((started, ports)));
                    tokio::spawn(self.clone().monitor(guid));
                    return;
                }
                Err(EngineError::PortInUse(_)) => continue,
                Err(EngineError::ImageNotFound(_)) if spec.run.builtin && attempt == 0 => {
                    if let Err(e) = self.ensure_demo_image(&|_| {}).await {
                        failure = Some(e.message);
                        break;
                    }
                }
                Err(e @ (EngineError::Unreachable { .. } | EngineError::Timeout { .. })) => {
                    log(format!("{}/{index}: cannot start: {e}", spec.name));
                    failure = None;
                    break;
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        self.finish_start(&guid, Err(failure));
    }

    /// Records the outcome of a start. `Err(None)`: nothing happened (the slot goes back to
    /// UNCLAIMED and is retried); `Err(Some(reason))`: the start failed and counts as a crash.
    pub(super) fn finish_start(
        self: &Arc<Self>,
        guid: &str,
        outcome: std::result::Result<(Started, BTreeMap<u16, u16>), Option<String>>,
    ) {
        let mut inner = self.lock();
        inner.seq += 1;
        let seq = inner.seq;
        let start_timeout = inner
            .slot(guid)
            .map(|slot| inner.start_timeout(slot))
            .unwrap_or_default();
        let Some(slot) = inner.slot_mut(guid) else {
            return;
        };
        let mut follow = None;
        slot.op = Op::Idle;
        slot.since = SystemTime::now();
        slot.adopted = false;
        match outcome {
            Ok((Started { id, placement }, ports)) => {
                self.logs.publish(
                    &slot.app,
                    "CELL",
                    Some(slot.index),
                    "Successfully created container",
                );
                self.logs.event(
                    "instance_claimed",
                    &slot.app,
                    Some(slot.index),
                    Some(&slot.guid),
                    format!("container {} started", id.short()),
                );
                follow = Some((slot.app.clone(), slot.index, slot.guid.clone(), id.clone()));
                slot.container = Some(id);
                slot.container_seq = seq;
                slot.ports = ports;
                slot.placement = placement;
                slot.claim(start_timeout);
                slot.last_error = None;
            }
            Err(None) => slot.state = InstanceState::Unclaimed,
            Err(Some(reason)) => {
                record_crash(slot, reason, Instant::now(), &self.logs);
            }
        }
        // Registered before the lock is released, so a `die` handled right after waits for
        // this follower to read the crash output before the container is removed.
        if let Some((app, index, guid, id)) = follow {
            self.follow_output(Followed { app, index, guid }, id, 0);
        }
        self.changed(&mut inner);
        drop(inner);
        self.kick();
    }

    /// Follows a container's output into the app's log stream until the container stops,
    /// then leaves its last lines with the instance (a failed rollout reports them).
    /// `since` (Unix seconds) skips what an adopted container wrote before this node.
    pub(super) fn follow_output(self: &Arc<Self>, who: Followed, id: ContainerId, since: i64) {
        let node = self.clone();
        // Registered before the task can finish and deregister itself.
        let mut followers = self.followers.lock().expect("followers lock");
        let key = id.clone();
        let task = tokio::spawn(async move {
            use futures_util::StreamExt;
            let Followed { app, index, guid } = who;
            let mut tail = std::collections::VecDeque::new();
            let mut keep = |line: &str| {
                if tail.len() == OUTPUT_KEPT {
                    tail.pop_front();
                }
                tail.push_back(line.to_string());
            };
            if let Ok(mut stream) = node.engine.logs(&id, since).await {
                let mut lines = logs::LineAssembler::default();
                while let Some(Ok(chunk)) = stream.next().await {
                    for line in lines.push(&chunk) {
                        keep(&line);
                        node.logs.publish(&app, "APP", Some(index), &line);
                    }
                }
                if let Some(line) = lines.finish() {
                    keep(&line);
                    node.logs.publish(&app, "APP", Some(index), &line);
                }
            }
            if let Some(slot) = node.lock().slot_mut(&guid) {
                slot.last_output = tail.into();
            }
            node.followers.lock().expect("followers lock").remove(&id);
        });
        followers.insert(key, task);
    }

    /// Stops following a container's output.
    pub(super) fn unfollow(&self, id: &ContainerId) {
        if let Some(task) = self.followers.lock().expect("followers lock").remove(id) {
            task.abort();
        }
    }

    /// Watches one instance with its app's monitor for as long as it lives: quickly while it
    /// starts (CLAIMED → RUNNING on the first pass), then every liveness interval (out of the
    /// routes on a failure, a crash after the threshold; see [`health`]).
    pub(super) async fn monitor(self: Arc<Self>, guid: String) {
        let mut attempt = 0;
        loop {
            let Some(mut target) = self.monitor_target(&guid) else {
                return;
            };
            let unmonitored = matches!(target.monitor, crate::model::Monitor::None);
            if unmonitored && target.state == InstanceState::Claimed {
                // Without a monitor, running means its process stays up: a process that exits
                // at once is a crash, never "running".
                tokio::select! {
                    _ = tokio::time::sleep(NO_MONITOR_GRACE) => {}
                    _ = self.cancel.cancelled() => return,
                }
                match self.monitor_target(&guid) {
                    Some(now) => target = now,
                    None => return,
                }
            }
            let result = health::check(
                self.engine.as_ref(),
                &target.monitor,
                &target.container,
                target.address,
                &target.ports,
                target.timeout,
                target.state == InstanceState::Running,
            )
            .await;
            match self.judge_check(&guid, target.state, result, unmonitored) {
                Checked::Gone => return,
                Checked::Crashed => {
                    tokio::spawn(self.clone().clean_crashed(guid));
                    return;
                }
                Checked::Alive => {}
            }
            let delay = match target.state {
                InstanceState::Claimed => probe::startup_delay(attempt),
                _ => self.tuning.liveness_interval,
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return,
            }
            attempt += 1;
        }
    }

    /// What the next check of an instance looks at, while it is CLAIMED or RUNNING and idle.
    fn monitor_target(&self, guid: &str) -> Option<MonitorTarget> {
        let inner = self.lock();
        let slot = inner.slot(guid).filter(|s| {
            s.op == Op::Idle && matches!(s.state, InstanceState::Claimed | InstanceState::Running)
        })?;
        let run = inner.run_of(slot)?;
        Some(MonitorTarget {
            state: slot.state,
            container: slot.container.clone()?,
            ports: slot.ports.clone(),
            address: slot.placement.address,
            monitor: run.monitor.clone(),
            timeout: Duration::from_millis(run.monitor_timeout_ms.max(1)),
        })
    }

    /// Applies one check's result to the instance, if it is still as it was when checked.
    fn judge_check(
        &self,
        guid: &str,
        state: InstanceState,
        result: std::result::Result<(), String>,
        unmonitored: bool,
    ) -> Checked {
        let mut inner = self.lock();
        let threshold = self.tuning.failure_threshold;
        let start_timeout = inner.slot(guid).map(|slot| inner.start_timeout(slot));
        let Some(slot) = inner
            .slot_mut(guid)
            .filter(|s| s.op == Op::Idle && s.state == state)
        else {
            return Checked::Gone;
        };
        // A start that is still not healthy at its deadline is a crash (Diego's start
        // timeout), so it is retried with the crash backoff instead of waiting forever.
        let late = state == InstanceState::Claimed
            && slot
                .start_deadline
                .is_some_and(|(at, _)| Instant::now() >= at);
        if let (Err(reason), true, Some(limit)) = (&result, late, start_timeout) {
            let reason = format!(
                "not healthy within {} (start timeout): {reason}",
                crate::ui::format_duration(limit)
            );
            self.logs.publish(
                &slot.app,
                "HEALTH",
                Some(slot.index),
                &format!("healthcheck failed: {reason}"),
            );
            crash_container(slot, reason, Instant::now(), &self.logs);
            self.changed(&mut inner);
            return Checked::Crashed;
        }
        // An image without a shell never passes a command monitor: no point waiting.
        let hopeless = matches!(&result, Err(reason) if reason == health::NO_SHELL);
        let (verdict, failures) = if hopeless {
            (health::Verdict::Crash, threshold)
        } else {
            health::judge(state, slot.failures, result.is_ok(), threshold)
        };
        slot.failures = failures;
        let visible = self.apply_verdict(slot, verdict, result.err(), threshold, unmonitored);
        if visible {
            self.changed(&mut inner);
        }
        // A rollout or a scale may be waiting for this instance: the plan goes on now rather
        // than at the next resync (an engine whose events come late, as a swarm's polled
        // ones, would otherwise hold it up).
        if matches!(
            verdict,
            health::Verdict::BecameRunning | health::Verdict::Crash
        ) {
            self.kick();
        }
        if verdict == health::Verdict::Crash {
            Checked::Crashed
        } else {
            Checked::Alive
        }
    }

    /// Changes an instance as a monitor's verdict says and tells the logs; true when what
    /// status shows changed.
    fn apply_verdict(
        &self,
        slot: &mut Slot,
        verdict: health::Verdict,
        reason: Option<String>,
        threshold: u32,
        unmonitored: bool,
    ) -> bool {
        let failures = slot.failures;
        let health_line = |message: &str| {
            self.logs
                .publish(&slot.app, "HEALTH", Some(slot.index), message)
        };
        match verdict {
            health::Verdict::BecameRunning => {
                health_line(if unmonitored {
                    "no monitor: running, its process stayed up"
                } else {
                    "healthcheck passed"
                });
                self.logs.event(
                    "instance_running",
                    &slot.app,
                    Some(slot.index),
                    Some(&slot.guid),
                    "healthy and routed".into(),
                );
                slot.state = InstanceState::Running;
                if !std::mem::take(&mut slot.adopted) {
                    slot.since = SystemTime::now();
                }
                slot.running_since = Some(Instant::now());
                slot.last_error = None;
                true
            }
            health::Verdict::StillStarting | health::Verdict::Healthy => {
                if slot.last_error == reason || slot.state != InstanceState::Claimed {
                    return false;
                }
                if let Some(reason) = &reason {
                    health_line(&format!("healthcheck failed: {reason}"));
                }
                slot.last_error = reason;
                true
            }
            health::Verdict::Recovered => {
                log(format!("{}/{} is healthy again", slot.app, slot.index));
                health_line("healthcheck passed");
                slot.last_error = None;
                true
            }
            health::Verdict::Unhealthy => {
                self.router.abandon(&slot.guid);
                let reason = reason.unwrap_or_default();
                log(format!(
                    "{}/{} failed its monitor ({failures}/{threshold}): {reason}; out of the routes",
                    slot.app, slot.index
                ));
                health_line(&format!(
                    "healthcheck failed ({failures}/{threshold}): {reason}"
                ));
                slot.last_error = Some(reason);
                true
            }
            health::Verdict::Crash => {
                self.router.abandon(&slot.guid);
                let reason = format!(
                    "failed its monitor {failures} times: {}",
                    reason.unwrap_or_default()
                );
                crash_container(slot, reason, Instant::now(), &self.logs);
                true
            }
        }
    }

    /// Stops an instance that is already out of the route table: its in-flight requests
    /// finish first (bounded), then SIGTERM, then SIGKILL after the grace period.
    pub(super) async fn stop_instance(self: Arc<Self>, guid: String) {
        let (container, drain) = {
            let inner = self.lock();
            let slot = inner.slot(&guid);
            let drain = slot
                .and_then(|s| {
                    let apps = &inner.desired.apps;
                    apps.get(&s.app).or_else(|| inner.removing.get(&s.app))
                })
                .map_or(DRAIN_TIMEOUT, |spec| {
                    Duration::from_millis(spec.edge.drain_timeout_ms())
                });
            (slot.and_then(|s| s.container.clone()), drain)
        };
        self.router.drain(&guid, drain).await;
        if let Some(id) = &container {
            self.unfollow(id);
        }
        if let Some(id) = &container
            && let Err(e) = self.engine.remove_instance(id, STOP_GRACE).await
        {
            log(format!("cannot stop {}: {e}", id.short()));
            let mut inner = self.lock();
            if let Some(slot) = inner.slot_mut(&guid) {
                slot.op = Op::Idle;
            }
            return;
        }
        let mut inner = self.lock();
        if let Some(id) = &container {
            inner.note_removed(id);
        }
        if let Some(slot) = inner.slot(&guid) {
            self.logs
                .publish(&slot.app, "CELL", Some(slot.index), "Stopped");
            self.logs.event(
                "instance_stopped",
                &slot.app,
                Some(slot.index),
                Some(&guid),
                "stopped".into(),
            );
        }
        inner.slots.retain(|s| s.guid != guid);
        self.forget_removed(&mut inner);
        self.changed(&mut inner);
        drop(inner);
        // What waited for this stop (the next step of a rollout) goes on now.
        self.kick();
    }

    /// Removes the exited container of a crashed instance; the plan restarts it when due.
    pub(super) async fn clean_crashed(self: Arc<Self>, guid: String) {
        let container = {
            let inner = self.lock();
            inner.slot(&guid).and_then(|s| s.container.clone())
        };
        // Its last lines (usually why it crashed) are read before the container goes.
        if let Some(id) = &container {
            let follower = self.followers.lock().expect("followers lock").remove(id);
            if let Some(mut follower) = follower
                && tokio::time::timeout(CRASH_OUTPUT_WAIT, &mut follower)
                    .await
                    .is_err()
            {
                follower.abort();
            }
        }
        let removed = match &container {
            Some(id) => match self.engine.remove_instance(id, Duration::ZERO).await {
                Ok(()) => true,
                Err(e) => {
                    log(format!(
                        "cannot remove crashed container {}: {e}",
                        id.short()
                    ));
                    false
                }
            },
            None => true,
        };
        let mut inner = self.lock();
        let leftover = inner.slot(&guid).and_then(|slot| {
            let id = container.as_ref()?;
            // Kept on record so this node, or the next, removes it as a stray later.
            (!removed).then(|| records::InstanceRecord {
                guid: slot.guid.clone(),
                app: slot.app.clone(),
                index: slot.index,
                generation: slot.generation,
                container: Some(id.0.clone()),
                crash_count: slot.crash_count,
                next_restart_ms: None,
                last_error: None,
                last_crash: None,
                starting: false,
            })
        });
        inner.pending.extend(leftover);
        if let (true, Some(id)) = (removed, &container) {
            inner.note_removed(id);
        }
        if let Some(slot) = inner.slot_mut(&guid) {
            slot.container = None;
            slot.ports.clear();
            slot.op = Op::Idle;
        }
        self.changed(&mut inner);
        drop(inner);
        self.kick();
    }

    pub(super) async fn remove_stray(self: Arc<Self>, id: ContainerId) {
        log(format!(
            "removing container {} (not wanted by any app)",
            id.short()
        ));
        let result = self.engine.remove_instance(&id, STOP_GRACE).await;
        let mut inner = self.lock();
        match result {
            Ok(()) => inner.note_removed(&id),
            // Still on record: the next resync finds it and tries again.
            Err(e) => log(format!("cannot remove {}: {e}", id.short())),
        }
        inner.strays.remove(&id);
    }
}

/// Records a crash of an instance whose container is still there (exited, or running but
/// failing its monitor): the container is to be removed, and the instance restarted when its
/// backoff says.
pub(super) fn crash_container(slot: &mut Slot, reason: String, now: Instant, hub: &logs::LogHub) {
    record_crash(slot, reason, now, hub);
    slot.op = Op::Cleaning;
}

/// An instance the engine stopped because its machine left (a swarm node drained or down):
/// not a crash. Its container goes and it is started again at once elsewhere, with its crash
/// count as it was.
pub(super) fn evacuate_container(slot: &mut Slot, hub: &logs::LogHub) {
    let reason = format!(
        "its cell `{}` left; placing it on another",
        slot.placement.cell
    );
    log(format!("{}/{}: {reason}", slot.app, slot.index));
    hub.publish(&slot.app, "CELL", Some(slot.index), &reason);
    slot.failures = 0;
    slot.out_of_memory = false;
    slot.state = InstanceState::Crashed;
    slot.since = SystemTime::now();
    slot.adopted = false;
    slot.running_since = None;
    slot.next_restart = Some(Instant::now());
    slot.next_restart_wall = Some(SystemTime::now());
    slot.last_error = Some(reason);
    slot.op = Op::Cleaning;
}

/// Records a crash: the count (reset after a long run, as Diego), the backoff until the next
/// start, and the lines that tell the node's log, the app's log and the events.
pub(super) fn record_crash(slot: &mut Slot, reason: String, now: Instant, hub: &logs::LogHub) {
    log(format!("{}/{} crashed: {reason}", slot.app, slot.index));
    slot.failures = 0;
    slot.out_of_memory = false;
    let ran = slot
        .running_since
        .map(|since| now.saturating_duration_since(since));
    slot.crash_count = converge::next_crash_count(slot.crash_count, ran);
    slot.state = InstanceState::Crashed;
    slot.since = SystemTime::now();
    slot.adopted = false;
    slot.running_since = None;
    slot.last_error = Some(reason.clone());
    slot.last_crash = Some((reason, SystemTime::now()));
    let then = match converge::restart_delay(slot.crash_count) {
        Some(delay) => {
            slot.next_restart = Some(now + delay);
            slot.next_restart_wall = Some(SystemTime::now() + delay);
            if delay.is_zero() {
                "restarting now".to_string()
            } else {
                format!("restarting in {}", crate::ui::format_duration(delay))
            }
        }
        None => {
            slot.next_restart = None;
            slot.next_restart_wall = None;
            format!("not restarted again after {} crashes", slot.crash_count)
        }
    };
    let reason = slot.last_error.clone().unwrap_or_default();
    hub.publish(
        &slot.app,
        "CELL",
        Some(slot.index),
        &format!("Crashed ({}): {reason}; {then}", slot.crash_count),
    );
    hub.event(
        "instance_crashed",
        &slot.app,
        Some(slot.index),
        Some(&slot.guid),
        format!("crash {}: {reason}; {then}", slot.crash_count),
    );
}

/// Lines of an instance's output kept with it after its container stops.
const OUTPUT_KEPT: usize = 10;

/// The instance whose output is followed.
pub(super) struct Followed {
    pub app: String,
    pub index: u32,
    pub guid: String,
}

/// What one monitor check looks at.
struct MonitorTarget {
    state: InstanceState,
    container: ContainerId,
    ports: BTreeMap<u16, u16>,
    address: std::net::IpAddr,
    monitor: crate::model::Monitor,
    timeout: Duration,
}

/// What became of an instance after a check.
enum Checked {
    /// Still watched: check again later.
    Alive,
    /// Crashed by its monitor: its container is to be cleaned up.
    Crashed,
    /// Stopped, replaced or changed while it was checked: this monitor ends.
    Gone,
}
