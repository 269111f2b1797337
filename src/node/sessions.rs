//! `ltc run` with its streams attached: the task's container is made, waits for the session
//! to attach to it, and starts when the session says it has. Attached before the start, the
//! session misses none of the output and its stdin reaches the command from the first byte.
//!
//! The wait is bounded ([`ATTACH_WAIT`]): a session that never attaches (its `ltc` killed)
//! leaves no container behind, and the task fails saying why. A node that stops while a
//! container waits leaves it created and never started, which the next node removes and fails
//! (never runs), as it does for any start it did not see end.

use super::Node;
use crate::engine::ContainerId;
use crate::error::{Error, Result};
use crate::logging::log;
use crate::model::Task;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a container made for a session waits for it to attach.
pub const ATTACH_WAIT: Duration = Duration::from_secs(60);

/// A run whose container waits for its session.
pub struct Held {
    /// Whether the session has a terminal.
    tty: bool,
    /// Fired when the session has attached, with what the start drops once it is done;
    /// dropped when the task is cancelled.
    start: Option<oneshot::Sender<oneshot::Sender<()>>>,
}

impl Node {
    /// Marks the next start of task `guid` as one a session attaches to first.
    pub(super) fn hold_for_session(&self, guid: &str, tty: bool) {
        self.held_runs
            .lock()
            .expect("held runs lock")
            .insert(guid.to_string(), Held { tty, start: None });
    }

    /// Whether the task's start waits for a session, and on which kind of stream.
    pub(super) fn held_tty(&self, guid: &str) -> Option<bool> {
        self.held_runs
            .lock()
            .expect("held runs lock")
            .get(guid)
            .map(|held| held.tty)
    }

    /// Forgets a held start: a cancelled task's container is removed without starting.
    pub(super) fn release_held(&self, guid: &str) {
        self.held_runs.lock().expect("held runs lock").remove(guid);
    }

    /// Makes a held task's container and starts it once its session has attached (or removes
    /// it when no session comes, or the task is cancelled). The task is RUNNING already.
    pub(super) async fn start_held(self: &Arc<Self>, task: &Task, tty: bool) {
        let guid = task.task_guid.clone();
        let (start, started) = oneshot::channel();
        if let Some(held) = self
            .held_runs
            .lock()
            .expect("held runs lock")
            .get_mut(&guid)
        {
            held.start = Some(start);
        }
        let spec = self.container_of(task);
        let id = match self.engine.create_attachable(&spec, tty).await {
            Ok(id) => id,
            Err(e) => {
                self.release_held(&guid);
                self.complete(
                    &guid,
                    None,
                    Some(format!("cannot start: {e}")),
                    String::new(),
                );
                return;
            }
        };
        if !self.record_container(&guid, &id) {
            self.release_held(&guid);
            self.discard(&id).await;
            return;
        }
        let wait = self.tuning.attach_wait;
        let attached = tokio::time::timeout(wait, started).await;
        self.release_held(&guid);
        // The session's answer goes when this returns: after the task is recorded either way.
        let (failure, _answer) = match attached {
            Ok(Ok(answer)) => match self.engine.start_created(&id).await {
                Ok(()) => {
                    self.task_started(&guid, &id);
                    return;
                }
                Err(e) => (format!("cannot start: {e}"), Some(answer)),
            },
            Ok(Err(_)) => ("cancelled".to_string(), None),
            Err(_) => (
                format!("no session attached to it within {wait:?}; it was not run"),
                None,
            ),
        };
        self.discard(&id).await;
        self.complete(&guid, None, Some(failure), String::new());
    }

    /// The session of task `guid` has attached: its container starts. Answers once the start
    /// is done, with the task (COMPLETED and failed if it could not start).
    pub async fn session_attached(self: &Arc<Self>, guid: &str) -> Result<Task> {
        let start = self
            .held_runs
            .lock()
            .expect("held runs lock")
            .get_mut(guid)
            .and_then(|held| held.start.take());
        let Some(start) = start else {
            let task = self.task(guid)?;
            return Err(Error::failed(format!(
                "task {guid} is {}: it does not wait for a session",
                task.state.as_str()
            )));
        };
        let (answer, answered) = oneshot::channel();
        if start.send(answer).is_ok() {
            // Dropped by the start once it is done, whichever way it went.
            let _ = answered.await;
        }
        self.task(guid)
    }

    /// Removes a task's container that was made and never ran.
    pub(super) async fn discard(&self, id: &ContainerId) {
        if let Err(e) = self.engine.remove_instance(id, Duration::ZERO).await {
            log(format!("removing container {}: {e}", id.short()));
        }
        self.lock().note_removed(id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Harness;
    use crate::engine::{ContainerId, ContainerState, Engine};
    use crate::model::{RunAttach, RunRequest, Task, TaskState};
    use std::time::Duration;

    fn request(tty: bool) -> RunRequest {
        RunRequest {
            command: vec!["sh".into()],
            env: Vec::new(),
            attach: Some(RunAttach { tty }),
        }
    }

    /// The task once `ready` holds of it.
    async fn task_when(h: &Harness, guid: &str, ready: impl Fn(&Task) -> bool) -> Task {
        for _ in 0..500 {
            let task = h.node.task(guid).unwrap();
            if ready(&task) {
                return task;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("task {guid} never got there: {:?}", h.node.task(guid));
    }

    /// The task once its container is made (or it ended).
    async fn made(h: &Harness, guid: &str) -> Task {
        task_when(h, guid, |t| {
            t.container_id.is_some() || t.state == TaskState::Completed
        })
        .await
    }

    async fn completed(h: &Harness, guid: &str) -> Task {
        task_when(h, guid, |t| t.state == TaskState::Completed).await
    }

    async fn state(h: &Harness, id: &str) -> Option<ContainerState> {
        let all = h.engine.list_instances(&[]).await.unwrap();
        all.into_iter().find(|o| o.id.0 == id).map(|o| o.state)
    }

    #[tokio::test]
    async fn a_held_run_starts_only_once_its_session_has_attached() {
        let h = Harness::new();
        h.create("web", 1).await.unwrap();
        let task = h.node.run_task("web", request(true)).await.unwrap();
        let guid = task.task_guid.clone();
        let task = made(&h, &guid).await;
        assert_eq!(task.state, TaskState::Running);
        let id = task.container_id.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(state(&h, &id).await, Some(ContainerState::Created));
        let answered = h.node.session_attached(&guid).await.unwrap();
        assert_eq!(answered.state, TaskState::Running);
        assert_eq!(state(&h, &id).await, Some(ContainerState::Running));
        // Once started it is a task like any other: its exit completes it.
        h.engine.exit_container(&ContainerId(id.clone()), 4);
        let task = completed(&h, &guid).await;
        assert_eq!(task.exit_code, Some(4));
        // A second attach is refused: nothing waits any more.
        let error = h.node.session_attached(&guid).await.unwrap_err();
        assert!(error.message.contains("does not wait"), "{}", error.message);
    }

    /// A node with an app, and a run of it held for a session: its guid and container.
    async fn held_run() -> (Harness, String, String) {
        let h = Harness::new();
        h.create("web", 1).await.unwrap();
        let guid = h
            .node
            .run_task("web", request(false))
            .await
            .unwrap()
            .task_guid;
        let id = made(&h, &guid).await.container_id.unwrap();
        (h, guid, id)
    }

    #[tokio::test]
    async fn a_run_no_session_attaches_to_is_removed_unrun() {
        let (h, guid, id) = held_run().await;
        let task = completed(&h, &guid).await;
        assert!(task.failed);
        assert!(
            task.failure_reason.contains("no session attached"),
            "{}",
            task.failure_reason
        );
        assert_eq!(state(&h, &id).await, None, "its container is gone");
    }

    #[tokio::test]
    async fn cancelling_a_held_run_removes_its_container_at_once() {
        let (h, guid, id) = held_run().await;
        let task = h.node.cancel_task(&guid).await.unwrap();
        assert_eq!(task.state, TaskState::Completed);
        assert_eq!(task.failure_reason, "cancelled");
        assert_eq!(state(&h, &id).await, None, "its container is gone");
    }

    #[tokio::test]
    async fn a_run_without_a_session_starts_at_once() {
        let h = Harness::new();
        h.create("web", 1).await.unwrap();
        let mut unattached = request(false);
        unattached.attach = None;
        let guid = h.node.run_task("web", unattached).await.unwrap().task_guid;
        let id = made(&h, &guid).await.container_id.unwrap();
        assert_eq!(state(&h, &id).await, Some(ContainerState::Running));
        assert!(h.node.session_attached(&guid).await.is_err());
    }
}
