//! One-off tasks, as Lattice's: a command in a container of its own, run once, not routed
//! and not monitored (`ltc submit-task`, `ltc task`, `ltc cancel-task`, `ltc delete-task`,
//! and `ltc run APP`, a task with an app's image and settings).
//!
//! Tasks are in the desired state (`state.json`), so a node restart neither loses nor reruns
//! one: a RUNNING task's container is found again by its `io.ltc.task` label and followed to
//! its end; a task whose start the previous node sent but did not record is failed, never
//! started twice. A task's output is its log (`ltc logs GUID`), which ends with a `TASK`
//! line saying how it ended. Completed tasks are kept until deleted; beyond
//! [`COMPLETED_KEPT`] the oldest are pruned.

use super::Node;
use super::instance::Followed;
use crate::engine::{ContainerId, ContainerState, InstanceSpec, Observed, labels};
use crate::error::{Error, Result};
use crate::logging::{log, rfc3339};
use crate::model::{
    AppName, CELL_ID, EnvVar, RunRequest, TASK_END_SOURCE, Task, TaskState, new_task,
    validate_env_name, validate_guid,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

/// Completed tasks kept; older ones are pruned when more complete.
pub const COMPLETED_KEPT: usize = 100;

/// How long a finished task's output may take to be read before its container goes.
const OUTPUT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The log stream of a task (apart from apps' of the same name).
pub fn log_key(guid: &str) -> String {
    format!("task:{guid}")
}

impl Node {
    /// Accepts a task: its guid is new, its image is on the engine.
    pub async fn submit_task(self: &Arc<Self>, mut task: Task) -> Result<Task> {
        validate_guid(&task.task_guid)?;
        if task.command.is_empty() || task.command[0].is_empty() {
            return Err(Error::usage("a task needs a command to run"));
        }
        for var in &task.env {
            validate_env_name(&var.name)?;
        }
        if self.lock().desired.tasks.contains_key(&task.task_guid) {
            return Err(already_submitted(&task.task_guid));
        }
        if self.engine.image_config(&task.image_ref).await?.is_none() {
            return Err(crate::engine::EngineError::ImageNotFound(task.image.clone()).into());
        }
        task.state = TaskState::Pending;
        task.cell_id = CELL_ID.to_string();
        {
            let mut inner = self.lock();
            if inner.desired.tasks.contains_key(&task.task_guid) {
                return Err(already_submitted(&task.task_guid));
            }
            let mut next = inner.desired.clone();
            next.tasks.insert(task.task_guid.clone(), task.clone());
            self.commit(&mut inner, next)?;
        }
        self.logs.clear_recent(&log_key(&task.task_guid));
        log(format!("task {} submitted", task.task_guid));
        self.logs.event(
            "task_submitted",
            &task.task_guid,
            None,
            None,
            task.command.join(" "),
        );
        tokio::spawn(self.clone().start_task(task.task_guid.clone()));
        Ok(task)
    }

    /// `ltc run`: a task with the app's image, environment (with `request.env` over it),
    /// user, working directory and limits.
    pub async fn run_task(self: &Arc<Self>, app: &str, request: RunRequest) -> Result<Task> {
        let name = AppName::parse(app)?;
        if request.command.is_empty() || request.command[0].is_empty() {
            return Err(Error::usage("`ltc run` needs a command after `--`"));
        }
        let spec = self
            .lock()
            .desired
            .apps
            .get(name.as_str())
            .cloned()
            .ok_or_else(|| Error::app_not_found(name.as_str()))?;
        let guid = format!("{name}-run-{}", &super::new_guid()[..8]);
        let run = &spec.run;
        let mut task = new_task(&guid, &run.image, &run.image_ref, request.command);
        let mut env: Vec<EnvVar> = run.env.clone();
        for var in request.env {
            env.retain(|v| v.name != var.name);
            env.push(var);
        }
        task.env = env;
        task.memory_mb = run.memory_mb;
        task.cpu_weight = run.cpu_weight;
        task.privileged = run.privileged;
        task.user = run.user.clone();
        task.working_dir = run.working_dir.clone();
        task.app = Some(name.to_string());
        task.volumes = run.volumes.clone();
        if run.builtin {
            self.ensure_demo_image(&|_| {}).await?;
        }
        // A session attaches to the container before it starts, where the engine can attach.
        let attach = request
            .attach
            .filter(|_| self.engine.kind() == crate::model::EngineKind::Docker);
        if let Some(attach) = attach {
            self.hold_for_session(&guid, attach.tty);
        }
        let submitted = self.submit_task(task).await;
        if submitted.is_err() {
            self.release_held(&guid);
        }
        submitted
    }

    pub fn task(&self, guid: &str) -> Result<Task> {
        self.lock()
            .desired
            .tasks
            .get(guid)
            .cloned()
            .ok_or_else(|| task_not_found(guid))
    }

    pub fn tasks(&self) -> Vec<Task> {
        self.lock().desired.tasks.values().cloned().collect()
    }

    /// Stops a PENDING or RUNNING task; it completes as failed, "cancelled".
    pub async fn cancel_task(self: &Arc<Self>, guid: &str) -> Result<Task> {
        let task = self.task(guid)?;
        match task.state {
            TaskState::Completed => {
                return Err(Error::failed(format!(
                    "Unable to cancel COMPLETED task {guid}"
                )));
            }
            TaskState::Pending => {
                self.complete(guid, None, Some("cancelled".into()), String::new());
            }
            TaskState::Running => {
                self.update_task(guid, |t| {
                    t.failure_reason = "cancelled".into();
                });
                // A container waiting for its session is removed without starting.
                self.release_held(guid);
                // A start in flight ends first: its container is then known, or never made.
                let deadline = tokio::time::Instant::now() + OUTPUT_WAIT;
                while self.starting_task(guid) && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                let task = self.task(guid)?;
                if task.state == TaskState::Completed {
                    return Ok(task);
                }
                if let Some(id) = task.container_id {
                    let id = ContainerId(id);
                    // Stopped, and removed (again, if need be) as the task finishes.
                    if let Err(e) = self.engine.remove_instance(&id, super::STOP_GRACE).await {
                        log(format!("task {guid}: removing its container: {e}"));
                    }
                    self.clone().finish_task(guid.to_string(), id, None).await;
                } else {
                    self.complete(guid, None, Some("cancelled".into()), String::new());
                }
            }
        }
        self.task(guid)
    }

    /// Cancels a task that has not ended, then forgets it and its log.
    pub async fn delete_task(self: &Arc<Self>, guid: &str) -> Result<Task> {
        let task = self.task(guid)?;
        if task.state != TaskState::Completed {
            self.cancel_task(guid).await?;
        }
        {
            let mut inner = self.lock();
            let mut next = inner.desired.clone();
            next.tasks.remove(guid);
            self.commit(&mut inner, next)?;
        }
        self.logs.forget(&log_key(guid));
        self.tasks_followed
            .lock()
            .expect("tasks followed lock")
            .remove(guid);
        self.logs
            .event("task_deleted", guid, None, None, "deleted".into());
        Ok(task)
    }

    /// Starts a PENDING task's container.
    pub(super) async fn start_task(self: Arc<Self>, guid: String) {
        if !self
            .task_starts
            .lock()
            .expect("task starts lock")
            .insert(guid.clone())
        {
            return;
        }
        self.start_task_once(&guid).await;
        self.task_starts
            .lock()
            .expect("task starts lock")
            .remove(&guid);
    }

    async fn start_task_once(self: &Arc<Self>, guid: &str) {
        let guid = guid.to_string();
        let Ok(task) = self.task(&guid) else {
            return;
        };
        if task.state != TaskState::Pending {
            return;
        }
        // Recorded before the engine is asked: a node killed in between leaves a RUNNING task
        // without a container, which the next node fails rather than runs twice.
        self.update_task(&guid, |t| t.state = TaskState::Running);
        if let Some(tty) = self.held_tty(&guid) {
            return self.start_held(&task, tty).await;
        }
        let spec = self.container_of(&task);
        match self.engine.run_instance(&spec).await {
            Ok(started) => {
                let id = started.id;
                if !self.record_container(&guid, &id) {
                    // Cancelled (or deleted) while its container was being made.
                    self.discard(&id).await;
                    return;
                }
                self.task_started(&guid, &id);
            }
            Err(e) => self.complete(
                &guid,
                None,
                Some(format!("cannot start: {e}")),
                String::new(),
            ),
        }
    }

    /// A task's container runs: its output is followed.
    pub(super) fn task_started(self: &Arc<Self>, guid: &str, id: &ContainerId) {
        self.follow_task(guid, id.clone(), 0);
        self.logs.event(
            "task_running",
            guid,
            None,
            None,
            format!("container {}", id.short()),
        );
        self.kick();
    }

    /// The container of a task: no ports, labelled with the task's guid.
    pub(super) fn container_of(&self, task: &Task) -> InstanceSpec {
        let home = self.paths.home.display().to_string();
        let labels = BTreeMap::from([
            (labels::INSTALL.to_string(), self.install_id.clone()),
            (labels::HOME.to_string(), home),
            (labels::TASK.to_string(), task.task_guid.clone()),
        ]);
        let short: String = task.task_guid.chars().take(40).collect();
        InstanceSpec {
            name: format!("ltc-task-{short}-{}", &super::new_guid()[..8]),
            image: task.image_ref.clone(),
            command: Some(task.command.clone()),
            env: task
                .env
                .iter()
                .map(|v| format!("{}={}", v.name, v.value))
                .collect(),
            working_dir: task.working_dir.clone(),
            user: task.user.clone(),
            labels,
            ports: Vec::new(),
            memory_bytes: task.memory_mb * 1024 * 1024,
            cpu_shares: (u64::from(task.cpu_weight) * 1024 / 100).max(2),
            pids_limit: crate::model::DEFAULT_PIDS_LIMIT,
            privileged: task.privileged,
            mounts: super::patch::mounts(&self.install_id, &task.volumes),
        }
    }

    /// A task's container exited (or was removed): its last output is read, its result file
    /// too, the container goes, and the task completes.
    pub(super) async fn finish_task(
        self: Arc<Self>,
        guid: String,
        id: ContainerId,
        code: Option<i64>,
    ) {
        // One finish at a time per task (events and resyncs both ask for it).
        if !self
            .tasks_finishing
            .lock()
            .expect("tasks finishing lock")
            .insert(guid.clone())
        {
            return;
        }
        self.clone().finish_task_once(guid.clone(), id, code).await;
        self.tasks_finishing
            .lock()
            .expect("tasks finishing lock")
            .remove(&guid);
    }

    async fn finish_task_once(self: Arc<Self>, guid: String, id: ContainerId, code: Option<i64>) {
        // A task that ran while no node did: its output is read whole before the container goes.
        self.follow_task(&guid, id.clone(), 0);
        // Its output is all there is of it: the container stays until it has been read (the
        // container has stopped, so the read ends), or at most OUTPUT_WAIT.
        let follower = self.followers.lock().expect("followers lock").remove(&id);
        if let Some(mut follower) = follower
            && tokio::time::timeout(OUTPUT_WAIT, &mut follower)
                .await
                .is_err()
        {
            follower.abort();
        }
        let Ok(task) = self.task(&guid) else {
            return;
        };
        if task.state == TaskState::Completed {
            return;
        }
        let result = match &task.result_file {
            Some(path) => match self.engine.read_file(&id, path).await {
                Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).to_string(),
                _ => String::new(),
            },
            None => String::new(),
        };
        let code = match code {
            Some(code) => Some(code),
            None => self
                .engine
                .list_instances(&self.owner_labels())
                .await
                .ok()
                .and_then(|all| {
                    all.into_iter()
                        .find(|o| o.id == id)
                        .and_then(|o| match o.state {
                            ContainerState::Exited(code) => code,
                            _ => None,
                        })
                }),
        };
        // The engine's storage driver can refuse a removal for a moment ("directory not
        // empty"): tried a few times, so no task leaves its container behind.
        let mut removed = false;
        for attempt in 0..5 {
            match self
                .engine
                .remove_instance(&id, std::time::Duration::ZERO)
                .await
            {
                Ok(()) => {
                    removed = true;
                    break;
                }
                Err(e) if attempt == 4 => {
                    log(format!("cannot remove the container of task {guid}: {e}"));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            }
        }
        if removed {
            self.lock().note_removed(&id);
        }
        let failure = match (task.failure_reason.is_empty(), code) {
            (false, _) => Some(task.failure_reason.clone()),
            (true, Some(0)) => None,
            (true, Some(code)) => Some(format!("exited with status {code}")),
            (true, None) => Some("its container was removed before it ended".into()),
        };
        self.complete(&guid, code, failure, result);
    }

    /// Marks a task COMPLETED, ends its log with how, and prunes old completed tasks.
    pub(super) fn complete(
        &self,
        guid: &str,
        code: Option<i64>,
        failure: Option<String>,
        result: String,
    ) {
        let message = match (&failure, code) {
            (None, _) => "completed".to_string(),
            (Some(reason), _) => format!("failed: {reason}"),
        };
        {
            let mut inner = self.lock();
            let mut next = inner.desired.clone();
            let Some(task) = next.tasks.get_mut(guid) else {
                return;
            };
            if task.state == TaskState::Completed {
                return;
            }
            task.state = TaskState::Completed;
            task.exit_code = code;
            task.failed = failure.is_some();
            task.failure_reason = failure.unwrap_or_default();
            task.result = result;
            task.container_id = None;
            task.finished_at = Some(rfc3339(SystemTime::now()));
            prune(&mut next.tasks);
            if let Err(e) = self.commit(&mut inner, next) {
                log(format!("cannot record the end of task {guid}: {e}"));
            }
        }
        log(format!("task {guid} {message}"));
        self.logs
            .publish(&log_key(guid), TASK_END_SOURCE, None, &message);
        self.logs.event("task_completed", guid, None, None, message);
    }

    /// Records a task's container, unless the task ended meanwhile; true when recorded.
    pub(super) fn record_container(&self, guid: &str, id: &ContainerId) -> bool {
        let mut inner = self.lock();
        let mut next = inner.desired.clone();
        let Some(task) = next.tasks.get_mut(guid) else {
            return false;
        };
        if task.state != TaskState::Running {
            return false;
        }
        task.container_id = Some(id.0.clone());
        if let Err(e) = self.commit(&mut inner, next) {
            log(format!("cannot record task {guid}: {e}"));
        }
        true
    }

    fn update_task(&self, guid: &str, change: impl FnOnce(&mut Task)) {
        let mut inner = self.lock();
        let mut next = inner.desired.clone();
        if let Some(task) = next.tasks.get_mut(guid) {
            change(task);
            if let Err(e) = self.commit(&mut inner, next) {
                log(format!("cannot record task {guid}: {e}"));
            }
        }
    }

    /// Folds what the engine shows into the tasks: PENDING ones start, RUNNING ones whose
    /// container exited or vanished complete, a RUNNING one without a recorded container is
    /// matched by its label or failed. Called by every resync.
    pub(super) fn sync_tasks(self: &Arc<Self>, observed: &[Observed]) {
        let tasks: Vec<Task> = self.lock().desired.tasks.values().cloned().collect();
        for task in tasks {
            let guid = task.task_guid.clone();
            // A start in flight is its own business: its container may still be only created.
            if self.starting_task(&guid) {
                continue;
            }
            let mine = observed
                .iter()
                .find(|o| o.labels.get(labels::TASK) == Some(&guid));
            match (task.state, &task.container_id, mine) {
                (TaskState::Pending, _, _) => {
                    tokio::spawn(self.clone().start_task(guid));
                }
                (TaskState::Running, None, Some(o)) => {
                    self.update_task(&guid, |t| t.container_id = Some(o.id.0.clone()));
                }
                (TaskState::Running, None, None) => {
                    self.complete(
                        &guid,
                        None,
                        Some("the node stopped while starting it; it was not run".into()),
                        String::new(),
                    );
                }
                (TaskState::Running, Some(id), Some(o)) if o.state == ContainerState::Created => {
                    // Made, never started: a node stopped between the two. Not run now either.
                    let (node, id) = (self.clone(), ContainerId(id.clone()));
                    tokio::spawn(async move {
                        node.discard(&id).await;
                        node.complete(
                            &guid,
                            None,
                            Some("the node stopped while starting it; it was not run".into()),
                            String::new(),
                        );
                    });
                }
                (TaskState::Running, Some(id), found) => {
                    let id = ContainerId(id.clone());
                    let ended = match found.map(|o| o.state) {
                        None => Some(None),
                        Some(ContainerState::Exited(code)) => Some(code),
                        Some(ContainerState::Evacuated) => Some(None),
                        Some(_) => None,
                    };
                    match ended {
                        Some(code) => {
                            tokio::spawn(self.clone().finish_task(guid, id, code));
                        }
                        None => {
                            // Adopted from the previous node, whose log of it went with it: its
                            // output is read again from the start.
                            self.follow_task(&guid, id, 0);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Follows a task's output into its log, once in this node's life.
    fn follow_task(self: &Arc<Self>, guid: &str, id: ContainerId, since: i64) {
        let first = self
            .tasks_followed
            .lock()
            .expect("tasks followed lock")
            .insert(guid.to_string());
        if first {
            let who = Followed {
                app: log_key(guid),
                index: 0,
                guid: guid.to_string(),
            };
            self.follow_output(who, id, since);
        }
    }

    /// Whether this node is starting the task right now (its start is in flight).
    pub(super) fn starting_task(&self, guid: &str) -> bool {
        self.task_starts
            .lock()
            .expect("task starts lock")
            .contains(guid)
    }
}

/// Drops the oldest completed tasks beyond [`COMPLETED_KEPT`].
fn prune(tasks: &mut BTreeMap<String, Task>) {
    let mut completed: Vec<(String, String)> = tasks
        .values()
        .filter(|t| t.state == TaskState::Completed)
        .map(|t| {
            (
                t.finished_at.clone().unwrap_or_default(),
                t.task_guid.clone(),
            )
        })
        .collect();
    if completed.len() <= COMPLETED_KEPT {
        return;
    }
    completed.sort();
    for (_, guid) in &completed[..completed.len() - COMPLETED_KEPT] {
        tasks.remove(guid);
    }
}

fn already_submitted(guid: &str) -> Error {
    Error::conflict(format!("{guid} has already been submitted"))
        .with_hint("a task guid names one task; `ltc delete-task GUID` frees it")
}

fn task_not_found(guid: &str) -> Error {
    Error::not_found(format!("No task '{guid}' was found")).with_hint("`ltc task` lists the tasks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_letters_digits_dashes_and_underscores() {
        assert!(validate_guid("task-1_A").is_ok());
        for bad in ["", "a b", "a/b", "../x", &"x".repeat(101)] {
            assert_eq!(validate_guid(bad).unwrap_err().exit_code(), 13, "{bad}");
        }
    }

    #[test]
    fn only_the_oldest_completed_tasks_are_pruned() {
        let mut tasks = BTreeMap::new();
        for n in 0..(COMPLETED_KEPT + 3) {
            let mut task = new_task(&format!("t{n:03}"), "img", "img", vec!["true".into()]);
            task.state = TaskState::Completed;
            task.finished_at = Some(format!("2026-11-30T00:00:{:02}.{n:03}Z", n % 60));
            tasks.insert(task.task_guid.clone(), task);
        }
        let running = new_task("running", "img", "img", vec!["sleep".into()]);
        tasks.insert("running".into(), running);
        prune(&mut tasks);
        assert_eq!(tasks.len(), COMPLETED_KEPT + 1);
        assert!(tasks.contains_key("running"));
    }
}
