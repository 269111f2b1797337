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

use crate::engine::{ContainerId, Placement};
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
    /// The cell it runs on and the address its ports answer on.
    pub placement: Placement,
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
    /// To be replaced by a new instance of the same generation (`ltc restart --index`).
    pub retire: bool,
    /// The last lines its container wrote, once the container stopped.
    pub last_output: Vec<String>,
    /// Adopted from an earlier node: it has been running since `since` (its container's
    /// creation), which passing its first check here does not change.
    pub adopted: bool,
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
            placement: Placement::local(),
            op: Op::Idle,
            last_error: None,
            last_crash: None,
            start_deadline: None,
            out_of_memory: false,
            failures: 0,
            retire: false,
            last_output: Vec::new(),
            adopted: false,
        }
    }

    /// RUNNING, healthy and idle: routed.
    pub fn serves(&self) -> bool {
        self.state == InstanceState::Running && self.failures == 0 && self.op == Op::Idle
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

/// Whether a slot is of the app's current revision (not being replaced).
fn is_target(spec: &AppSpec, slot: &Slot) -> bool {
    slot.generation == spec.generation && !slot.retire
}

/// How many more containers than instances an app may have while instances are replaced.
fn surge(spec: &AppSpec) -> u32 {
    spec.rollout
        .as_ref()
        .map_or(crate::model::DEFAULT_MAX_SURGE, |r| r.max_surge)
        .max(1)
}

/// The diff of desired apps against known slots, at time `now`.
///
/// Instances of another generation (a new revision, a restart, a rollback) are replaced one
/// index at a time: the new instance starts while the old one serves, and the old one is
/// stopped only once the new one is RUNNING and healthy. At most [`surge`] extra containers
/// exist at once, counting those still draining.
///
/// `creating` counts, per app, containers a previous node asked the engine for that have not
/// shown up yet: they count toward the surge budget too.
pub fn plan(
    apps: &BTreeMap<String, AppSpec>,
    slots: &[Slot],
    creating: &HashMap<String, u32>,
    now: Instant,
) -> Vec<Action> {
    let mut actions = Vec::new();
    // Slots that still count for their index, grouped by (app, index).
    let mut by_index: HashMap<(&str, u32), Vec<&Slot>> = HashMap::new();
    let mut containers: HashMap<&str, u32> =
        creating.iter().map(|(app, n)| (app.as_str(), *n)).collect();
    for slot in slots {
        if slot.container.is_some() || slot.op == Op::Starting {
            *containers.entry(slot.app.as_str()).or_default() += 1;
        }
        if slot.op == Op::Stopping {
            continue;
        }
        let wanted = apps.get(&slot.app).is_some_and(|spec| {
            slot.index < spec.instances && spec.owns_generation(slot.generation)
        });
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
        let limit = spec.instances + surge(spec);
        let mut count = containers.get(name.as_str()).copied().unwrap_or(0);
        for index in 0..spec.instances {
            let group = by_index.remove(&(name.as_str(), index)).unwrap_or_default();
            let (mut target, old): (Vec<&Slot>, Vec<&Slot>) =
                group.into_iter().partition(|s| is_target(spec, s));
            // An old instance without a container serves nothing: it goes at once.
            let (dead, live): (Vec<&Slot>, Vec<&Slot>) = old
                .into_iter()
                .partition(|s| s.container.is_none() && s.op == Op::Idle);
            actions.extend(dead.into_iter().map(|s| Action::Stop {
                guid: s.guid.clone(),
            }));
            if target.is_empty() {
                // A new instance beside an old one is a surge, within the budget.
                if !live.is_empty() && count >= limit {
                    continue;
                }
                count += 1;
                actions.push(Action::Start {
                    app: name.clone(),
                    generation: spec.generation,
                    index,
                    replaces: None,
                });
                continue;
            }
            target.sort_by_key(|slot| slot.rank());
            for extra in &target[1..] {
                if extra.op == Op::Idle {
                    actions.push(Action::Stop {
                        guid: extra.guid.clone(),
                    });
                }
            }
            let kept = target[0];
            if kept.serves() {
                actions.extend(
                    live.iter()
                        .filter(|s| s.op == Op::Idle)
                        .map(|s| Action::Stop {
                            guid: s.guid.clone(),
                        }),
                );
            }
            let restart_due = restart_due(kept, now);
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

/// Whether an instance without a container starts again now. A crashed instance waits for its
/// backoff; an unclaimed one (its start failed before the engine said anything, e.g. while it
/// was unreachable) starts again at once.
fn restart_due(kept: &Slot, now: Instant) -> bool {
    kept.op == Op::Idle
        && kept.container.is_none()
        && match kept.state {
            InstanceState::Crashed => kept.next_restart.is_some_and(|due| due <= now),
            InstanceState::Unclaimed => true,
            _ => false,
        }
}

/// Where an app's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutVerdict {
    /// `updated` of `total` indices run a healthy new instance.
    InProgress { updated: u32, total: u32 },
    /// Every index runs the new revision and no old instance is left.
    Done,
    /// A new instance crashed or was not healthy in time.
    Failed {
        index: u32,
        guid: String,
        reason: String,
    },
}

/// Judges an app's rollout from its instances at wall-clock time `now`.
pub fn judge_rollout(spec: &AppSpec, slots: &[Slot], now: SystemTime) -> RolloutVerdict {
    let health_timeout = spec
        .rollout
        .as_ref()
        .map_or(crate::model::DEFAULT_HEALTH_TIMEOUT, |r| {
            Duration::from_millis(r.health_timeout_ms)
        });
    let mine = slots.iter().filter(|s| s.app == spec.name.as_str());
    let mut updated = std::collections::BTreeSet::new();
    let mut old_left = false;
    for slot in mine {
        if !is_target(spec, slot) {
            old_left = true;
            continue;
        }
        if slot.index >= spec.instances || slot.op == Op::Stopping {
            continue;
        }
        // Judged once its container is cleaned up, when its last output has been read.
        if slot.state == InstanceState::Crashed && slot.op == Op::Idle {
            return RolloutVerdict::Failed {
                index: slot.index,
                guid: slot.guid.clone(),
                reason: slot
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "crashed".to_string()),
            };
        }
        let waited = now.duration_since(slot.since).unwrap_or_default();
        if slot.state == InstanceState::Claimed && waited >= health_timeout {
            let why = slot
                .last_error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            return RolloutVerdict::Failed {
                index: slot.index,
                guid: slot.guid.clone(),
                reason: format!(
                    "not healthy within {} (`--health-timeout`){why}",
                    crate::ui::format_duration(health_timeout)
                ),
            };
        }
        if slot.serves() {
            updated.insert(slot.index);
        }
    }
    let updated = updated.len() as u32;
    if updated == spec.instances && !old_left {
        RolloutVerdict::Done
    } else {
        RolloutVerdict::InProgress {
            updated,
            total: spec.instances,
        }
    }
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
    use crate::model::{AppName, Routes, RunSpec};

    fn spec(name: &str, generation: u64, instances: u32) -> AppSpec {
        let mut spec = AppSpec {
            name: AppName::parse(name).unwrap(),
            run: RunSpec {
                image: "img".into(),
                image_ref: "img".into(),
                image_id: None,
                builtin: false,
                start_command: None,
                effective_command: vec!["/app".into()],
                env: vec![],
                ports: vec![8080],
                primary_port: 8080,
                memory_mb: 128,
                disk_mb: 0,
                cpu_weight: 100,
                pids_limit: crate::model::DEFAULT_PIDS_LIMIT,
                working_dir: None,
                user: None,
                privileged: false,
                monitor: crate::model::Monitor::Port { port: 8080 },
                monitor_timeout_ms: 1000,
                start_timeout_ms: 60_000,
                volumes: vec![],
            },
            instances,
            routes: Routes::default(),
            generation,
            change: generation,
            release: 1,
            created_at: 0,
            history: vec![],
            rollout: None,
            last_rollout: None,
            edge: Default::default(),
        };
        spec.ensure_history();
        // Earlier generations are the app's too (its revisions so far).
        spec.history[0].generations = (1..=generation).collect();
        spec
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
        let actions = plan(
            &apps(&[spec("web", 1, 3)]),
            &[],
            &HashMap::new(),
            Instant::now(),
        );
        assert_eq!(starts(&actions), [0, 1, 2]);
        assert!(stops(&actions).is_empty());
    }

    #[test]
    fn scale_up_adds_only_the_missing_indices() {
        let slots = [running("web", 1, 0), running("web", 1, 1)];
        let actions = plan(
            &apps(&[spec("web", 1, 4)]),
            &slots,
            &HashMap::new(),
            Instant::now(),
        );
        assert_eq!(starts(&actions), [2, 3]);
        assert!(stops(&actions).is_empty());
    }

    #[test]
    fn scale_down_removes_highest_indices_first() {
        let slots: Vec<Slot> = (0..4).map(|i| running("web", 1, i)).collect();
        let actions = plan(
            &apps(&[spec("web", 1, 2)]),
            &slots,
            &HashMap::new(),
            Instant::now(),
        );
        assert!(starts(&actions).is_empty());
        assert_eq!(stops(&actions), ["web-1-2", "web-1-3"]);
    }

    #[test]
    fn a_removed_app_stops_all_its_instances() {
        let slots = [running("web", 1, 0), running("web", 1, 1)];
        let actions = plan(&apps(&[]), &slots, &HashMap::new(), Instant::now());
        assert_eq!(stops(&actions), ["web-1-0", "web-1-1"]);
    }

    #[test]
    fn an_old_instance_serves_until_its_replacement_runs() {
        let slots = [running("web", 1, 0)];
        let actions = plan(
            &apps(&[spec("web", 2, 1)]),
            &slots,
            &HashMap::new(),
            Instant::now(),
        );
        assert_eq!(starts(&actions), [0]);
        assert!(stops(&actions).is_empty(), "{actions:?}");
        let mut new = running("web", 2, 0);
        new.state = InstanceState::Claimed;
        let both = [running("web", 1, 0), new.clone()];
        let actions = plan(
            &apps(&[spec("web", 2, 1)]),
            &both,
            &HashMap::new(),
            Instant::now(),
        );
        assert!(actions.is_empty(), "still starting: {actions:?}");
        new.state = InstanceState::Running;
        let both = [running("web", 1, 0), new];
        let actions = plan(
            &apps(&[spec("web", 2, 1)]),
            &both,
            &HashMap::new(),
            Instant::now(),
        );
        assert_eq!(stops(&actions), ["web-1-0"]);
        assert!(starts(&actions).is_empty());
    }

    #[test]
    fn a_rollout_keeps_within_instances_plus_surge_counting_draining_containers() {
        let old: Vec<Slot> = (0..4).map(|i| running("web", 1, i)).collect();
        let specs = apps(&[spec("web", 2, 4)]);
        assert_eq!(
            starts(&plan(&specs, &old, &HashMap::new(), Instant::now())),
            [0]
        );
        let mut with_surge = specs.clone();
        with_surge.get_mut("web").unwrap().rollout = Some(crate::model::Rollout {
            kind: crate::model::RolloutKind::Update,
            change: 2,
            from: specs["web"].run.clone(),
            from_generation: 1,
            from_release: 1,
            max_surge: 2,
            health_timeout_ms: 60_000,
            started_at: 0,
        });
        assert_eq!(
            starts(&plan(&with_surge, &old, &HashMap::new(), Instant::now())),
            [0, 1]
        );
        // Index 0 replaced, its old instance still draining: no room for index 1 yet.
        let mut slots = old.clone();
        slots[0].op = Op::Stopping;
        slots.push(running("web", 2, 0));
        assert!(starts(&plan(&specs, &slots, &HashMap::new(), Instant::now())).is_empty());
        slots.remove(0);
        assert_eq!(
            starts(&plan(&specs, &slots, &HashMap::new(), Instant::now())),
            [1]
        );
    }

    #[test]
    fn creates_a_previous_node_sent_count_toward_the_surge() {
        let old: Vec<Slot> = (0..4).map(|i| running("web", 1, i)).collect();
        let specs = apps(&[spec("web", 2, 4)]);
        let creating = HashMap::from([("web".to_string(), 1)]);
        assert!(starts(&plan(&specs, &old, &creating, Instant::now())).is_empty());
        assert_eq!(
            starts(&plan(&specs, &old, &HashMap::new(), Instant::now())),
            [0]
        );
    }

    #[test]
    fn an_old_crashed_instance_is_dropped_and_replaced_at_once() {
        let mut crashed = Slot::new("web", 1, 0, "old".into());
        crashed.state = InstanceState::Crashed;
        crashed.next_restart = Some(Instant::now());
        let actions = plan(
            &apps(&[spec("web", 2, 1)]),
            &[crashed],
            &HashMap::new(),
            Instant::now(),
        );
        assert_eq!(starts(&actions), [0]);
        assert_eq!(stops(&actions), ["old"]);
    }

    #[test]
    fn rollouts_are_judged_done_failed_or_in_progress() {
        let spec = spec("web", 2, 2);
        let now = SystemTime::now();
        let mut slots = vec![running("web", 1, 0), running("web", 2, 1)];
        assert_eq!(
            judge_rollout(&spec, &slots, now),
            RolloutVerdict::InProgress {
                updated: 1,
                total: 2
            }
        );
        slots[0] = running("web", 2, 0);
        assert_eq!(judge_rollout(&spec, &slots, now), RolloutVerdict::Done);
        slots[1].state = InstanceState::Crashed;
        slots[1].last_error = Some("exited with status 1".into());
        assert!(matches!(
            judge_rollout(&spec, &slots, now),
            RolloutVerdict::Failed { index: 1, reason, .. } if reason == "exited with status 1"
        ));
        slots[1].state = InstanceState::Claimed;
        slots[1].since = now - Duration::from_secs(61);
        assert!(matches!(
            judge_rollout(&spec, &slots, now),
            RolloutVerdict::Failed { index: 1, reason, .. } if reason.contains("not healthy within 1m")
        ));
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
            &HashMap::new(),
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
            &HashMap::new(),
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
        assert!(plan(&specs, std::slice::from_ref(&crashed), &HashMap::new(), now).is_empty());
        let later = plan(
            &specs,
            &[crashed],
            &HashMap::new(),
            now + Duration::from_secs(30),
        );
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
        let actions = plan(
            &apps(&[spec("web", 1, 1)]),
            &[crashed],
            &HashMap::new(),
            Instant::now(),
        );
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
