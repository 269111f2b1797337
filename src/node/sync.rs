//! The converger: a loop that folds the engine's view of this home's containers into the
//! known instances (adopting, noticing crashes and containers removed behind its back), then
//! applies [`converge::plan`]. It runs on every engine event, after every operation it
//! started, when a restart backoff ends, and every [`super::RESYNC_INTERVAL`].

use super::converge::{self, Action, Op, Slot};
use super::instance::crash_container;
use super::records;
use super::store::DesiredState;
use super::{Inner, Node};
use super::{RESYNC_INTERVAL, STARTUP_GRACE, STARTUP_RECORDS_KEPT, new_guid};
use crate::engine::{ContainerId, ContainerState, EngineError, Observed, labels};
use crate::error::Result;
use crate::logging::{log, now_millis};
use crate::model::InstanceState;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

impl Node {
    // ----- converger ----------------------------------------------------------------------

    /// Runs until the node is cancelled.
    pub async fn converge_loop(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let wait = match self.resync().await {
                Ok(()) => {
                    failures = 0;
                    self.resynced
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    self.apply();
                    self.end_startup();
                    // A handed-over table gives way to this node's once it knows as much.
                    if self.inherited.load(std::sync::atomic::Ordering::SeqCst) {
                        self.publish_routes();
                    }
                    let next = converge::next_wakeup(&self.lock().slots);
                    next.map_or(RESYNC_INTERVAL, |at| {
                        at.saturating_duration_since(Instant::now())
                            .min(RESYNC_INTERVAL)
                    })
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let message = error.to_string();
                    let mut inner = self.lock();
                    if inner.engine_error.as_deref() != Some(message.as_str()) {
                        log(format!("engine: {message}"));
                        inner.engine_error = Some(message);
                        self.changed(&mut inner);
                    }
                    Duration::from_millis(250 * 2u64.pow(failures.min(4)))
                        .min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                _ = self.kick.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = self.cancel.cancelled() => return,
            }
        }
    }

    /// Ends the router's "starting" once nothing adopted is still waiting for its first check.
    fn end_startup(&self) {
        if !self.router.is_starting() {
            return;
        }
        let adopting = self
            .lock()
            .slots
            .iter()
            .any(|s| s.state == InstanceState::Claimed && s.op == Op::Idle);
        if !adopting || self.started.elapsed() >= STARTUP_GRACE {
            self.router.set_starting(false);
        }
    }

    /// Folds the engine's view of this home's containers into the known slots.
    pub(super) async fn resync(self: &Arc<Self>) -> Result<(), EngineError> {
        let seq_before = self.lock().seq;
        let observed = self.engine.list_instances(&self.owner_labels()).await?;
        let now = Instant::now();
        let mut found = Found::default();
        let mut inner = self.lock();
        let mut dirty = false;
        if inner.engine_error.take().is_some() {
            log("engine: reachable again");
            dirty = true;
        }
        dirty |= self.fold_known(&mut inner, &observed, seq_before, now, &mut found);
        dirty |= self.fold_unknown(&mut inner, &observed, &mut found);
        dirty |= settle_pending(&mut inner, &observed, now);
        // Removed apps whose last instance is gone are forgotten.
        dirty |= self.forget_removed(&mut inner);
        if dirty {
            self.changed(&mut inner);
        }
        drop(inner);
        for guid in found.to_clean {
            tokio::spawn(self.clone().clean_crashed(guid));
        }
        for guid in found.to_probe {
            tokio::spawn(self.clone().monitor(guid));
        }
        let now_secs = now_millis() as i64 / 1000;
        for (app, index, guid, id) in found.to_follow {
            self.follow_output(super::instance::Followed { app, index, guid }, id, now_secs);
        }
        for id in found.strays {
            tokio::spawn(self.clone().remove_stray(id));
        }
        self.sync_tasks(&observed);
        Ok(())
    }

    /// Known instances whose containers exited, never started or vanished. True when
    /// anything changed.
    fn fold_known(
        &self,
        inner: &mut Inner,
        observed: &[Observed],
        seq_before: u64,
        now: Instant,
        found: &mut Found,
    ) -> bool {
        let by_id: HashMap<&ContainerId, &Observed> = observed.iter().map(|o| (&o.id, o)).collect();
        let mut dirty = false;
        let mut vanished = Vec::new();
        for slot in inner.slots.iter_mut().filter(|s| s.op == Op::Idle) {
            let Some(id) = slot.container.clone() else {
                continue;
            };
            // A list taken before this container was recorded may show it missing, or still
            // `created` before its start returned: it says nothing about it yet.
            if slot.container_seq > seq_before {
                continue;
            }
            let Some(o) = by_id.get(&id) else {
                vanished.push(slot.guid.clone());
                continue;
            };
            let reason = match o.state {
                ContainerState::Running | ContainerState::Other => {
                    // Where it runs as the engine says now (a start that returned before its
                    // machine was known is put right).
                    if !o.placement.cell.is_empty() && slot.placement != o.placement {
                        slot.placement = o.placement.clone();
                        dirty = true;
                    }
                    continue;
                }
                ContainerState::Evacuated => {
                    super::instance::evacuate_container(slot, &self.logs);
                    found.to_clean.push(slot.guid.clone());
                    dirty = true;
                    continue;
                }
                ContainerState::Exited(code) => exit_reason(code),
                ContainerState::Created => "its container never started".to_string(),
            };
            crash_container(slot, reason, now, &self.logs);
            found.to_clean.push(slot.guid.clone());
            dirty = true;
        }
        if !vanished.is_empty() {
            inner.slots.retain(|s| {
                let gone = vanished.contains(&s.guid);
                if gone {
                    log(format!(
                        "{}/{}: container removed outside ltc; replacing it",
                        s.app, s.index
                    ));
                }
                !gone
            });
            dirty = true;
        }
        dirty
    }

    /// Containers of this home that no slot knows: adopted when a record says this home made
    /// them and they fill a wanted index, removed when they are this home's but unwanted, and
    /// left alone when nothing says this home made them. True when anything changed.
    fn fold_unknown(&self, inner: &mut Inner, observed: &[Observed], found: &mut Found) -> bool {
        let mut dirty = false;
        for o in observed {
            // A task's container is the tasks' business (`sync_tasks`).
            if o.labels.contains_key(labels::TASK) {
                continue;
            }
            let guid = o.labels.get(labels::GUID).cloned().unwrap_or_default();
            // Known: the slot's container, or a start in flight whose container the slot
            // has not recorded yet.
            let known = inner.slots.iter().any(|s| {
                s.container.as_ref() == Some(&o.id)
                    || (!guid.is_empty() && s.guid == guid && s.container.is_none())
            });
            // A container this node removed a while ago and still listed was being created
            // when it was removed (a create a killed node sent): the engine finished making
            // it. It is removed again.
            let back = inner
                .removed
                .get(&o.id)
                .is_some_and(|at| at.elapsed() >= REMOVED_SETTLE);
            if back && !known && !inner.strays.contains(&o.id) {
                log(format!(
                    "container {} is back after its removal; removing it again",
                    o.id.short()
                ));
                inner.removed.remove(&o.id);
                inner.strays.insert(o.id.clone());
                found.strays.push(o.id.clone());
                dirty = true;
                continue;
            }
            if known
                || inner.strays.contains(&o.id)
                || inner.foreign.contains(&o.id)
                || inner.removed.contains_key(&o.id)
            {
                continue;
            }
            dirty = true;

            let owns = |r: &records::InstanceRecord| {
                r.guid == guid && r.container.as_deref().is_none_or(|c| c == o.id.0)
            };
            let record = inner
                .pending
                .iter()
                .chain(&inner.records.instances)
                .find(|r| owns(r))
                .cloned();
            let Some(record) = record else {
                log(format!(
                    "ignoring container {}: it carries this home's labels but ltc did not create it",
                    o.id.short()
                ));
                inner.foreign.insert(o.id.clone());
                continue;
            };
            let Some((app, generation, index)) = adoptable(inner, o) else {
                inner.strays.insert(o.id.clone());
                found.strays.push(o.id.clone());
                continue;
            };
            let mut slot = Slot::new(&app, generation, index, guid.clone());
            let start_timeout = inner.start_timeout(&slot);
            inner.seq += 1;
            slot.container_seq = inner.seq;
            slot.container = Some(o.id.clone());
            slot.claim(start_timeout);
            slot.ports = o.ports.clone();
            slot.placement = o.placement.clone();
            slot.crash_count = record.crash_count;
            slot.last_crash = restored_crash(&record);
            slot.since = UNIX_EPOCH + Duration::from_secs(o.created.max(0) as u64);
            slot.adopted = true;
            log(format!("adopted {app}/{index} ({})", o.id.short()));
            inner.slots.push(slot);
            found.to_probe.push(guid.clone());
            found.to_follow.push((app, index, guid, o.id.clone()));
        }
        dirty
    }

    /// Applies the plan: marks slots and spawns the operations.
    pub(super) fn apply(self: &Arc<Self>) {
        let mut inner = self.lock();
        self.check_rollouts(&mut inner);
        // Creates a previous node sent that have not shown up yet count as containers, for
        // as long as such a create can still show up. (Their records are kept longer, to
        // recognise a container that does; and a killed create may never show up.)
        let mut creating: HashMap<String, u32> = HashMap::new();
        if self.started.elapsed() < CREATES_COUNTED {
            for record in inner.pending.iter().filter(|r| r.container.is_none()) {
                if !inner.accounts_for(record) {
                    *creating.entry(record.app.clone()).or_default() += 1;
                }
            }
        }
        let actions = converge::plan(&inner.desired.apps, &inner.slots, &creating, Instant::now());
        if actions.is_empty() {
            return;
        }
        let mut starts = Vec::new();
        let mut stops = Vec::new();
        for action in actions {
            match action {
                Action::Start {
                    app,
                    generation,
                    index,
                    replaces,
                } => {
                    let guid = new_guid();
                    let existing = replaces.and_then(|old| inner.slot_mut(&old));
                    match existing {
                        Some(slot) => {
                            slot.guid = guid.clone();
                            slot.state = InstanceState::Unclaimed;
                            slot.since = SystemTime::now();
                            slot.next_restart = None;
                            slot.next_restart_wall = None;
                            slot.op = Op::Starting;
                        }
                        None => {
                            let mut slot = Slot::new(&app, generation, index, guid.clone());
                            slot.op = Op::Starting;
                            inner.slots.push(slot);
                        }
                    }
                    self.logs
                        .publish(&app, "CELL", Some(index), "Creating container");
                    starts.push(guid);
                }
                Action::Stop { guid } => {
                    if let Some(slot) = inner.slot_mut(&guid) {
                        slot.op = Op::Stopping;
                        stops.push(guid);
                    }
                }
            }
        }
        self.changed(&mut inner);
        drop(inner);
        for guid in starts {
            tokio::spawn(self.clone().start_instance(guid));
        }
        for guid in stops {
            tokio::spawn(self.clone().stop_instance(guid));
        }
    }

    /// Acts on what an event says by itself: a `die` of a watched instance is a crash, a
    /// `destroy` of one the node did not remove is an instance to replace. Docker's container
    /// list can still show a dead container as running when `die` arrives.
    pub(super) fn on_event(self: &Arc<Self>, event: &crate::engine::EngineEvent) {
        let mut inner = self.lock();
        let task = inner
            .desired
            .tasks
            .values()
            .find(|t| t.container_id.as_deref() == Some(event.id.0.as_str()))
            .map(|t| t.task_guid.clone());
        if let Some(guid) = task {
            drop(inner);
            if event.action == "die" {
                tokio::spawn(
                    self.clone()
                        .finish_task(guid, event.id.clone(), event.exit_code),
                );
            }
            return;
        }
        let Some(limit) = inner
            .slots
            .iter()
            .find(|s| s.container.as_ref() == Some(&event.id))
            .map(|s| inner.run_of(s).map_or(0, |run| run.memory_mb))
        else {
            return;
        };
        let Some(slot) = inner
            .slots
            .iter_mut()
            .find(|s| s.container.as_ref() == Some(&event.id) && s.op == Op::Idle)
        else {
            return;
        };
        match event.action.as_str() {
            // Docker says `oom` just before the `die` of a process the kernel killed for memory.
            "oom" => slot.out_of_memory = true,
            "die" if slot.state != InstanceState::Crashed => {
                let reason = match slot.out_of_memory {
                    true => out_of_memory(limit, event.exit_code),
                    false => exit_reason(event.exit_code),
                };
                crash_container(slot, reason, Instant::now(), &self.logs);
                let guid = slot.guid.clone();
                self.changed(&mut inner);
                drop(inner);
                tokio::spawn(self.clone().clean_crashed(guid));
            }
            "destroy" => {
                let guid = slot.guid.clone();
                log(format!(
                    "{}/{}: container removed outside ltc; replacing it",
                    slot.app, slot.index
                ));
                inner.slots.retain(|s| s.guid != guid);
                self.changed(&mut inner);
            }
            _ => {}
        }
    }

    /// Follows the engine's events and wakes the converger on each; resubscribes with backoff
    /// when the stream ends (the converger also resyncs then, as events may have been lost).
    pub async fn watch_events(self: Arc<Self>) {
        use futures_util::StreamExt;
        let mut delay = Duration::from_millis(500);
        loop {
            match self.engine.events(&self.owner_labels()).await {
                Ok(mut stream) => {
                    delay = Duration::from_millis(500);
                    self.kick();
                    loop {
                        tokio::select! {
                            item = stream.next() => match item {
                                Some(Ok(event)) => {
                                    self.on_event(&event);
                                    self.kick();
                                }
                                Some(Err(e)) => {
                                    log(format!("engine events: {e}; resubscribing"));
                                    break;
                                }
                                None => break,
                            },
                            _ = self.cancel.cancelled() => return,
                        }
                    }
                    self.kick();
                }
                Err(e) => log(format!("engine events: {e}")),
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return,
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

/// How long after its removal a container that lists still counts as a listing taken before
/// the removal; after that it is one the engine made again.
const REMOVED_SETTLE: Duration = Duration::from_secs(3);

/// How long after a node starts the creates its predecessor sent count toward a rollout's
/// surge budget.
const CREATES_COUNTED: Duration = Duration::from_secs(10);

/// Whether an unknown container of this home can fill a slot: its app is desired, its index
/// is wanted and no known instance of its generation holds it, and it runs. A container of
/// another generation is adopted too: a rollout the previous node left half done goes on from
/// it (it serves until its replacement runs). Returns (app, generation, index).
pub(super) fn adoptable(inner: &Inner, observed: &Observed) -> Option<(String, u64, u32)> {
    if observed.state != ContainerState::Running {
        return None;
    }
    let app = observed.labels.get(labels::APP)?;
    let generation: u64 = observed.labels.get(labels::GENERATION)?.parse().ok()?;
    let index: u32 = observed.labels.get(labels::INDEX)?.parse().ok()?;
    let spec = inner.desired.apps.get(app)?;
    let taken = inner.slots.iter().any(|s| {
        s.app == *app && s.generation == generation && s.index == index && s.op != Op::Stopping
    });
    (spec.owns_generation(generation) && index < spec.instances && !taken)
        .then(|| (app.clone(), generation, index))
}

/// Crashed instances waiting for their restart (or restarting), as the previous node recorded
/// them, so their crash count and backoff survive a restart of the node.
pub(super) fn restore_crashed(desired: &DesiredState, saved: &records::Records) -> Vec<Slot> {
    let now = Instant::now();
    let now_ms = now_millis();
    saved
        .instances
        .iter()
        .filter(|r| r.container.is_none() && r.crash_count > 0)
        .filter(|r| {
            desired
                .apps
                .get(&r.app)
                .is_some_and(|spec| spec.generation == r.generation && r.index < spec.instances)
        })
        .map(|r| {
            // A restart that was in flight keeps its crash count but not its guid: the engine
            // may still create that guid's container, which then is a stray of this home's
            // (the guid's record stays pending), not this slot's.
            let guid = if r.starting {
                new_guid()
            } else {
                r.guid.clone()
            };
            let mut slot = Slot::new(&r.app, r.generation, r.index, guid);
            slot.state = InstanceState::Crashed;
            slot.crash_count = r.crash_count;
            slot.last_error = r.last_error.clone();
            slot.last_crash = restored_crash(r);
            if r.starting {
                slot.next_restart = Some(now);
                slot.next_restart_wall = Some(SystemTime::now());
            } else if let Some(due) = r.next_restart_ms {
                let wait = Duration::from_millis(due.saturating_sub(now_ms));
                slot.next_restart = Some(now + wait);
                slot.next_restart_wall = Some(SystemTime::now() + wait);
            }
            slot
        })
        .collect()
}

/// What a resync found to do once the state lock is released.
#[derive(Default)]
struct Found {
    /// Crashed instances whose containers are to be removed.
    to_clean: Vec<String>,
    /// Adopted instances to monitor.
    to_probe: Vec<String>,
    /// Adopted containers whose output to follow: app, index, guid, container.
    to_follow: Vec<(String, u32, String, ContainerId)>,
    /// This home's containers that no app wants.
    strays: Vec<ContainerId>,
}

/// Why an instance the kernel killed for memory crashed.
fn out_of_memory(limit_mb: u64, code: Option<i64>) -> String {
    let limit = match limit_mb {
        0 => "out of memory".to_string(),
        mb => format!("out of memory: it reached its {mb} MB limit (`--memory-mb`)"),
    };
    format!("{limit}; {}", exit_reason(code))
}

/// Why an instance whose process exited crashed.
fn exit_reason(code: Option<i64>) -> String {
    match code {
        Some(code) => format!("exited with status {code}"),
        None => "exited".to_string(),
    }
}

/// The last crash an instance record kept.
fn restored_crash(record: &records::InstanceRecord) -> Option<(String, SystemTime)> {
    let (reason, at_ms) = record.last_crash.clone()?;
    Some((reason, UNIX_EPOCH + Duration::from_millis(at_ms)))
}

/// Drops the pending records that are resolved: adopted by a slot, whose container is gone,
/// or (for a create the previous node sent) kept long enough. Forgets removed containers after
/// the same while. True when the records to write changed.
fn settle_pending(inner: &mut Inner, observed: &[Observed], now: Instant) -> bool {
    let before = inner.pending.len();
    let creates_expired = now >= inner.pending_creates_until;
    let seen: HashSet<&str> = observed.iter().map(|o| o.id.0.as_str()).collect();
    let pending = std::mem::take(&mut inner.pending);
    inner.pending = pending
        .into_iter()
        .filter(|r| !inner.accounts_for(r))
        .filter(|r| match &r.container {
            Some(id) => seen.contains(id.as_str()),
            None => !creates_expired,
        })
        .collect();
    inner
        .removed
        .retain(|_, at| now.saturating_duration_since(*at) < STARTUP_RECORDS_KEPT);
    inner.pending.len() != before
}
