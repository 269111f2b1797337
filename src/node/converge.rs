//! The converger's pure core: what the node knows about each instance (a [`Slot`]), Diego's
//! crash-restart policy, and [`plan`], the diff of desired state against known instances that
//! says which instances to start and which to stop. No I/O here: the node applies the plan.
//!
//! Rules the plan keeps:
//! - an app has exactly one live instance per index `0..instances`, of its current generation;
//! - scaling down stops the highest indices, scaling up adds the missing ones, and nothing else
//!   is touched;
//! - a slot with an operation in flight is never planned again until that operation ends;
//! - a duplicate index (two containers adopted after a crash of the node) keeps the healthiest,
//!   oldest instance and stops the rest.

use crate::engine::ContainerId;
use crate::model::{AppSpec, InstanceState};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

pub use crate::model::IMMEDIATE_RESTARTS;
/// First backoff delay, doubled per crash (Diego's `CrashBackoffMinDuration`).
pub const BACKOFF_MIN: Duration = Duration::from_secs(30);
/// Backoff cap (Diego's `DefaultMaxBackoffDuration`).
pub const BACKOFF_MAX: Duration = Duration::from_secs(16 * 60);
/// After this many crashes an instance is left CRASHED (Diego's `DefaultMaxRestarts`).
pub const MAX_RESTARTS: u32 = 200;
/// Running this long resets the crash count (Diego's `CrashResetTimeout`).
pub const CRASH_RESET_AFTER: Duration = Duration::from_secs(5 * 60);

/// How long to wait before restarting an instance that has crashed `crash_count` times, or
/// `None` when it is never restarted again.
pub fn restart_delay(crash_count: u32) -> Option<Duration> {
    if crash_count < IMMEDIATE_RESTARTS {
        return Some(Duration::ZERO);
    }
    if crash_count >= MAX_RESTARTS {
        return None;
    }
    let doublings = (crash_count - IMMEDIATE_RESTARTS).min(5);
    Some((BACKOFF_MIN * 2u32.pow(doublings)).min(BACKOFF_MAX))
}

/// The crash count after one more crash: reset to 1 when the instance had been RUNNING for
/// longer than [`CRASH_RESET_AFTER`].
pub fn next_crash_count(previous: u32, running_for: Option<Duration>) -> u32 {
    match running_for {
        Some(ran) if ran > CRASH_RESET_AFTER => 1,
        _ => previous.saturating_add(1),
    }
}

/// What is in flight for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Idle,
    /// Creating and starting its container.
    Starting,
    /// Removing the container of a crashed instance, which then waits for its restart.
    Cleaning,
    /// Stopping and removing it for good (scale-down, remove, stray).
    Stopping,
}

/// One instance as the node knows it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub app: String,
    pub generation: u64,
    pub index: u32,
    pub guid: String,
    pub container: Option<ContainerId>,
    /// Sequence number of the node when `container` was set; a listing started before that
    /// cannot be expected to show the container.
    pub container_seq: u64,
    pub state: InstanceState,
    /// When the current state began (wall clock, for display).
    pub since: SystemTime,
    /// When the instance became RUNNING (monotonic, for the crash-count reset).
    pub running_since: Option<Instant>,
    pub crash_count: u32,
    pub next_restart: Option<Instant>,
    pub next_restart_wall: Option<SystemTime>,
    pub ports: BTreeMap<u16, u16>,
    pub op: Op,
    pub last_error: Option<String>,
    /// While CLAIMED: when a start that has not passed its monitor becomes a crash.
    pub start_deadline: Option<(Instant, SystemTime)>,
    /// The last crash's reason and when it happened, kept after the instance runs again.
    pub last_crash: Option<(String, SystemTime)>,
    /// The engine said its container ran out of memory (the `die` that follows is an OOM kill).
    pub out_of_memory: bool,
    /// Monitor failures in a row while RUNNING; routed only at zero.
    pub failures: u32,
}

impl Slot {
    /// Marks the instance CLAIMED: its container runs and its monitor has `start_timeout` to
    /// pass.
    pub fn claim(&mut self, start_timeout: Duration) {
        self.state = InstanceState::Claimed;
        self.start_deadline = Some((
            Instant::now() + start_timeout,
            SystemTime::now() + start_timeout,
        ));
    }

    pub fn new(app: &str, generation: u64, index: u32, guid: String) -> Slot {
        Slot {
            app: app.to_string(),
            generation,
            index,
            guid,
            container: None,
            container_seq: 0,
            state: InstanceState::Unclaimed,
            since: SystemTime::now(),
            running_since: None,
            crash_count: 0,
            next_restart: None,
            next_restart_wall: None,
            ports: BTreeMap::new(),
            op: Op::Idle,
            last_error: None,
            last_crash: None,
            start_deadline: None,
            out_of_memory: false,
            failures: 0,
        }
    }

    /// Preference when two slots claim one index: healthier first, then older.
    fn rank(&self) -> (u8, SystemTime) {
        let health = match self.state {
            InstanceState::Running => 0,
            InstanceState::Claimed => 1,
            InstanceState::Unclaimed => 2,
            InstanceState::Crashed => 3,
        };
        (health, self.since)
    }
}

/// One step the node should take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start an instance at `index`; `replaces` names the crashed slot it restarts.
    Start {
        app: String,
        generation: u64,
        index: u32,
        replaces: Option<String>,
    },
    /// Stop the slot with this guid and forget it.
    Stop { guid: String },
}

/// The diff of desired apps against known slots, at time `now`.
pub fn plan(apps: &BTreeMap<String, AppSpec>, slots: &[Slot], now: Instant) -> Vec<Action> {
    let mut actions = Vec::new();
    // Slots that still count for their index, grouped by (app, index).
    let mut by_index: HashMap<(&str, u32), Vec<&Slot>> = HashMap::new();
    for slot in slots {
        if slot.op == Op::Stopping {
            continue;
        }
        let wanted = apps
            .get(&slot.app)
            .is_some_and(|spec| spec.generation == slot.generation && slot.index < spec.instances);
        if !wanted {
            if slot.op == Op::Idle {
                actions.push(Action::Stop {
                    guid: slot.guid.clone(),
                });
            }
            continue;
        }
        by_index
            .entry((slot.app.as_str(), slot.index))
            .or_default()
            .push(slot);
    }
    for (name, spec) in apps {
        for index in 0..spec.instances {
            let Some(group) = by_index.get_mut(&(name.as_str(), index)) else {
                actions.push(Action::Start {
                    app: name.clone(),
                    generation: spec.generation,
                    index,
                    replaces: None,
                });
                continue;
            };
            group.sort_by_key(|slot| slot.rank());
            for extra in &group[1..] {
                if extra.op == Op::Idle {
                    actions.push(Action::Stop {
                        guid: extra.guid.clone(),
                    });
                }
            }
            let kept = group[0];
            // A crashed instance waits for its backoff; an unclaimed one (its start failed
            // before the engine said anything, e.g. while it was unreachable) starts again.
            let restart_due = kept.op == Op::Idle
                && kept.container.is_none()
                && match kept.state {
                    InstanceState::Crashed => kept.next_restart.is_some_and(|due| due <= now),
                    InstanceState::Unclaimed => true,
                    _ => false,
                };
            if restart_due {
                actions.push(Action::Start {
                    app: name.clone(),
                    generation: spec.generation,
                    index,
                    replaces: Some(kept.guid.clone()),
                });
            }
        }
    }
    actions
}

/// The earliest pending restart, so the converger wakes up for it.
pub fn next_wakeup(slots: &[Slot]) -> Option<Instant> {
    slots
        .iter()
        .filter(|s| s.op == Op::Idle && s.state == InstanceState::Crashed)
        .filter_map(|s| s.next_restart)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppName, Routes};

    fn spec(name: &str, generation: u64, instances: u32) -> AppSpec {
        AppSpec {
            name: AppName::parse(name).unwrap(),
            image: "img".into(),
            image_ref: "img".into(),
            builtin: false,
            start_command: None,
            effective_command: vec!["/app".into()],
            env: vec![],
            ports: vec![8080],
            primary_port: 8080,
            instances,
            memory_mb: 128,
            disk_mb: 0,
            cpu_weight: 100,
            pids_limit: crate::model::DEFAULT_PIDS_LIMIT,
            working_dir: None,
            user: None,
            privileged: false,
            routes: Routes::default(),
            monitor: crate::model::Monitor::Port { port: 8080 },
            monitor_timeout_ms: 1000,
            start_timeout_ms: 60_000,
            generation,
            revision: generation,
            created_at: 0,
        }
    }

    fn apps(specs: &[AppSpec]) -> BTreeMap<String, AppSpec> {
        specs
            .iter()
            .map(|s| (s.name.to_string(), s.clone()))
            .collect()
    }

    fn running(app: &str, generation: u64, index: u32) -> Slot {
        let mut slot = Slot::new(
            app,
            generation,
            index,
            format!("{app}-{generation}-{index}"),
        );
        slot.state = InstanceState::Running;
        slot.container = Some(ContainerId(format!("c-{app}-{index}")));
        slot
    }

    fn starts(actions: &[Action]) -> Vec<u32> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Start { index, .. } => Some(*index),
                _ => None,
            })
            .collect()
    }

    fn stops(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Stop { guid } => Some(guid.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_new_app_starts_every_index() {
        let actions = plan(&apps(&[spec("web", 1, 3)]), &[], Instant::now());
        assert_eq!(starts(&actions), [0, 1, 2]);
        assert!(stops(&actions).is_empty());
    }

    #[test]
    fn scale_up_adds_only_the_missing_indices() {
        let slots = [running("web", 1, 0), running("web", 1, 1)];
        let actions = plan(&apps(&[spec("web", 1, 4)]), &slots, Instant::now());
        assert_eq!(starts(&actions), [2, 3]);
        assert!(stops(&actions).is_empty());
    }

    #[test]
    fn scale_down_removes_highest_indices_first() {
        let slots: Vec<Slot> = (0..4).map(|i| running("web", 1, i)).collect();
        let actions = plan(&apps(&[spec("web", 1, 2)]), &slots, Instant::now());
        assert!(starts(&actions).is_empty());
        assert_eq!(stops(&actions), ["web-1-2", "web-1-3"]);
    }

    #[test]
    fn a_removed_app_stops_all_its_instances() {
        let slots = [running("web", 1, 0), running("web", 1, 1)];
        let actions = plan(&apps(&[]), &slots, Instant::now());
        assert_eq!(stops(&actions), ["web-1-0", "web-1-1"]);
    }

    #[test]
    fn instances_of_an_older_generation_are_replaced() {
        let slots = [running("web", 1, 0)];
        let actions = plan(&apps(&[spec("web", 2, 1)]), &slots, Instant::now());
        assert_eq!(starts(&actions), [0]);
        assert_eq!(stops(&actions), ["web-1-0"]);
    }

    #[test]
    fn slots_in_flight_are_not_planned_twice() {
        let mut starting = Slot::new("web", 1, 0, "g0".into());
        starting.op = Op::Starting;
        let mut stopping = running("web", 1, 1);
        stopping.op = Op::Stopping;
        let actions = plan(
            &apps(&[spec("web", 1, 1)]),
            &[starting, stopping],
            Instant::now(),
        );
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn a_duplicate_index_keeps_the_healthy_instance() {
        let mut claimed = running("web", 1, 0);
        claimed.guid = "claimed".into();
        claimed.state = InstanceState::Claimed;
        let mut healthy = running("web", 1, 0);
        healthy.guid = "healthy".into();
        let actions = plan(
            &apps(&[spec("web", 1, 1)]),
            &[claimed, healthy],
            Instant::now(),
        );
        assert!(starts(&actions).is_empty());
        assert_eq!(stops(&actions), ["claimed"]);
    }

    #[test]
    fn a_crashed_instance_restarts_only_when_its_backoff_is_over() {
        let now = Instant::now();
        let mut crashed = Slot::new("web", 1, 0, "g".into());
        crashed.state = InstanceState::Crashed;
        crashed.crash_count = 3;
        crashed.next_restart = Some(now + Duration::from_secs(30));
        let specs = apps(&[spec("web", 1, 1)]);
        assert!(plan(&specs, std::slice::from_ref(&crashed), now).is_empty());
        let later = plan(&specs, &[crashed], now + Duration::from_secs(30));
        assert_eq!(
            later,
            [Action::Start {
                app: "web".into(),
                generation: 1,
                index: 0,
                replaces: Some("g".into())
            }]
        );
    }

    #[test]
    fn an_instance_past_the_restart_limit_stays_crashed() {
        let mut crashed = Slot::new("web", 1, 0, "g".into());
        crashed.state = InstanceState::Crashed;
        crashed.crash_count = MAX_RESTARTS;
        crashed.next_restart = None;
        let actions = plan(&apps(&[spec("web", 1, 1)]), &[crashed], Instant::now());
        assert!(actions.is_empty(), "{actions:?}");
    }

    #[test]
    fn restart_delays_follow_diego() {
        let secs = |n| restart_delay(n).map(|d| d.as_secs());
        assert_eq!(secs(1), Some(0));
        assert_eq!(secs(2), Some(0));
        assert_eq!(secs(3), Some(30));
        assert_eq!(secs(4), Some(60));
        assert_eq!(secs(5), Some(120));
        assert_eq!(secs(7), Some(480));
        assert_eq!(secs(8), Some(960));
        assert_eq!(secs(199), Some(960));
        assert_eq!(secs(200), None);
    }

    #[test]
    fn the_crash_count_resets_after_five_minutes_running() {
        assert_eq!(next_crash_count(4, None), 5);
        assert_eq!(next_crash_count(4, Some(Duration::from_secs(299))), 5);
        assert_eq!(next_crash_count(4, Some(Duration::from_secs(301))), 1);
    }
}
