//! A Docker Swarm as ltc's engine, through one of its managers.
//!
//! An instance is a service of one replica that Swarm never restarts (see `shape.rs` and
//! docs/architecture.md for why): the service's id stands for the container, its task's node
//! is the instance's cell, and its host ports are published on that machine. Images, builds
//! and volumes are the manager's engine's; an image reaches the other machines through the
//! registry set with `ltc target --registry`, or, without one, instances stay on the
//! manager's machine. Swarm has no task events, so [`SwarmEngine::events`] polls.

mod shape;

use super::docker::{
    CALL_TIMEOUT, DockerEngine, LONG_CALL_TIMEOUT, label_filters, output_stream, port_in_message,
};
use super::{
    BuildOptions, CellReport, ContainerId, ContainerState, Engine, EngineError, EngineEvent,
    EngineInfo, EngineResult, ExecOutcome, ImageConfig, InstanceSpec, Observed, Placement,
    PullProgress, Started, StatsSample, VolumeInfo, labels,
};
use crate::model::EngineKind;
use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{Service, Task};
use bollard::query_parameters::{
    ListNodesOptions, ListServicesOptionsBuilder, ListTasksOptionsBuilder, LogsOptionsBuilder,
    PushImageOptionsBuilder,
};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub use shape::ADDRESS_LABEL;

/// How long a service may wait for a machine to take its task before the start fails.
const PLACE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a machine may take to pull the image and start the task.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(600);

/// How often the task list is read for the event stream.
const POLL: Duration = Duration::from_millis(500);

/// The grace a service's task gets to stop (SIGTERM, then SIGKILL), as the node's.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SwarmEngine {
    docker: DockerEngine,
    registry: Option<String>,
    /// Images pushed to the registry by this process, so each is pushed once.
    pushed: Arc<tokio::sync::Mutex<HashSet<String>>>,
    /// The swarm node of the engine ltc talks to, as [`SwarmEngine::manager`] last found it.
    local: Arc<std::sync::Mutex<Option<String>>>,
}

impl SwarmEngine {
    /// A swarm through the manager at `host`; images go through `registry` (`HOST:PORT`).
    pub fn new(host: &str, registry: Option<String>) -> SwarmEngine {
        SwarmEngine {
            docker: DockerEngine::new(host),
            registry,
            pushed: Arc::default(),
            local: Arc::default(),
        }
    }

    fn api(&self, operation: &str, message: impl Into<String>) -> EngineError {
        EngineError::Api {
            operation: operation.to_string(),
            message: message.into(),
        }
    }

    /// The swarm node of the engine ltc talks to, when that engine is a swarm's manager.
    pub async fn manager(&self) -> EngineResult<String> {
        let docker = self.docker.client().await?;
        let info = docker
            .info()
            .await
            .map_err(|e| self.docker.map_error("info", e))?;
        let swarm = info.swarm.unwrap_or_default();
        match (swarm.node_id, swarm.control_available) {
            (Some(node), Some(true)) if !node.is_empty() => {
                *self.local.lock().expect("local node lock") = Some(node.clone());
                Ok(node)
            }
            (Some(node), _) if !node.is_empty() => Err(EngineError::Swarm(format!(
                "the engine at `{}` is a worker of its swarm, not a manager",
                self.docker.endpoint()
            ))),
            _ => Err(EngineError::Swarm(format!(
                "the engine at `{}` is not part of a swarm",
                self.docker.endpoint()
            ))),
        }
    }

    /// The manager's node id, asked of the engine once (every task lookup needs it).
    async fn local_node(&self) -> EngineResult<String> {
        let known = self.local.lock().expect("local node lock").clone();
        match known {
            Some(node) => Ok(node),
            None => self.manager().await,
        }
    }

    async fn client(&self) -> EngineResult<Docker> {
        self.docker.client().await
    }

    async fn services(&self, labels: &[(String, String)]) -> EngineResult<Vec<Service>> {
        let options = ListServicesOptionsBuilder::default()
            .filters(&label_filters(labels))
            .build();
        self.client()
            .await?
            .list_services(Some(options))
            .await
            .map_err(|e| self.docker.map_error("service list", e))
    }

    /// Tasks, of one service or of all.
    async fn tasks(&self, service: Option<&str>) -> EngineResult<Vec<Task>> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(service) = service {
            filters.insert("service".into(), vec![service.to_string()]);
        }
        let options = ListTasksOptionsBuilder::default().filters(&filters).build();
        self.client()
            .await?
            .list_tasks(Some(options))
            .await
            .map_err(|e| self.docker.map_error("task list", e))
    }

    async fn cell_map(&self) -> EngineResult<Vec<(String, CellReport)>> {
        let local = self.local_node().await?;
        let nodes = self
            .client()
            .await?
            .list_nodes(None::<ListNodesOptions>)
            .await
            .map_err(|e| self.docker.map_error("node list", e))?;
        Ok(shape::cells(&nodes, &local))
    }

    /// The newest task of a service; `NotFound` when the service is gone.
    async fn task_of(&self, id: &ContainerId) -> EngineResult<Option<Task>> {
        let tasks = match self.tasks(Some(&id.0)).await {
            Ok(tasks) => tasks,
            Err(EngineError::NotFound(_)) => return Err(EngineError::NotFound(id.0.clone())),
            Err(e) => return Err(e),
        };
        if tasks.is_empty() {
            match self.client().await?.inspect_service(&id.0, None).await {
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Err(EngineError::NotFound(id.0.clone())),
                Err(e) => return Err(self.docker.map_error("service inspect", e)),
                Ok(_) => {}
            }
        }
        Ok(shape::newest(tasks.iter()).cloned())
    }

    /// The container of an instance when it runs on the manager's machine (where the
    /// engine ltc talks to can reach it), with the cell it runs on otherwise.
    async fn container(&self, id: &ContainerId) -> EngineResult<Result<ContainerId, String>> {
        let task = self.task_of(id).await?;
        self.locate(id, task.as_ref()).await
    }

    /// [`SwarmEngine::container`] of a task already read.
    async fn locate(
        &self,
        id: &ContainerId,
        task: Option<&Task>,
    ) -> EngineResult<Result<ContainerId, String>> {
        let Some(node) = task.and_then(shape::node_of) else {
            return Err(EngineError::NotFound(id.0.clone()));
        };
        match task.and_then(shape::container_of) {
            Some(container) if node == self.local_node().await? => {
                Ok(Ok(ContainerId(container.to_string())))
            }
            _ => {
                let cells = self.cell_map().await?;
                let cell = shape::cell_of(&cells, node).map_or(node, |c| c.cell_id.as_str());
                Ok(Err(cell.to_string()))
            }
        }
    }

    /// The container on this machine, or an error naming the cell the instance runs on.
    async fn here(&self, id: &ContainerId, operation: &str) -> EngineResult<ContainerId> {
        self.container(id).await?.map_err(|cell| {
            EngineError::Swarm(format!(
                "no {operation} here: the instance runs on cell `{cell}`, and the engine at \
                 `{}` reaches only the containers of its own machine",
                self.docker.endpoint()
            ))
        })
    }

    /// The image as the swarm's machines can pull it: pushed to the registry under
    /// `REGISTRY/ltc-<app>:<image id>`, or as it is when there is no registry.
    async fn distribute(&self, spec: &InstanceSpec) -> EngineResult<String> {
        // The manager has every image an instance runs (ltc pulls and builds there).
        let config = self
            .docker
            .image_config(&spec.image)
            .await?
            .ok_or_else(|| EngineError::ImageNotFound(spec.image.clone()))?;
        let Some(registry) = &self.registry else {
            return Ok(spec.image.clone());
        };
        let id = config.id.unwrap_or_default();
        let hex = id.trim_start_matches("sha256:");
        let owner = spec.labels.get(labels::APP).map_or("task", String::as_str);
        let repository = format!("{registry}/ltc-{owner}");
        let tag = &hex[..hex.len().min(12)];
        let reference = format!("{repository}:{tag}");
        // Held across the push: instances started together push their image once.
        let mut pushed = self.pushed.lock().await;
        if pushed.contains(&reference) {
            return Ok(reference);
        }
        self.docker.tag_image(&spec.image, &repository, tag).await?;
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = docker.push_image(&repository, Some(options), None);
        let failed = |reason: String| EngineError::Pull {
            image: reference.clone(),
            reason: format!("pushing it to the registry `{registry}`: {reason}"),
        };
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| match e {
                BollardError::DockerResponseServerError { message, .. } => failed(message),
                BollardError::DockerStreamError { error } => failed(error),
                other => self.docker.map_error("image push", other),
            })?;
            if let Some(detail) = info.error_detail {
                return Err(failed(detail.message.unwrap_or_default()));
            }
        }
        pushed.insert(reference.clone());
        Ok(reference)
    }

    /// Waits until the service's task started on a machine (as a single engine's start
    /// returns once the container runs), and says which machine. A task that never started
    /// (no machine could take it, its image could not be pulled, its port was taken) is an
    /// error in Swarm's words.
    async fn placed(&self, id: &str) -> EngineResult<Placement> {
        let started = Instant::now();
        let mut why = String::from("no machine took its task");
        loop {
            let tasks = self.tasks(Some(id)).await?;
            let task = shape::newest(tasks.iter());
            if let Some(reason) = task.and_then(shape::why_not) {
                why = reason;
            }
            let node = task.and_then(shape::node_of);
            let ended = task.is_some_and(shape::ended);
            // Started: it runs, or it ran and already ended (its `die` follows, as on one
            // engine).
            let ran = shape::state_of(task) == ContainerState::Running
                || (ended && task.and_then(shape::container_of).is_some());
            match (node, ran, ended) {
                (Some(node), true, _) => {
                    let cells = self.cell_map().await?;
                    return Ok(shape::cell_of(&cells, node)
                        .map_or_else(Placement::local, shape::placement));
                }
                (_, false, true) => return Err(self.not_started(why)),
                _ => {}
            }
            let limit = match node {
                Some(_) => PREPARE_TIMEOUT,
                None => PLACE_TIMEOUT,
            };
            if started.elapsed() >= limit {
                return Err(self.not_started(why));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn not_started(&self, why: String) -> EngineError {
        if why.contains("already in use") || why.contains("already allocated") {
            return EngineError::PortInUse(port_in_message(&why));
        }
        self.api("service create", why)
    }

    /// Waits until no task of a removed service runs (its ports are free again).
    async fn stopped(&self, id: &str, limit: Duration) -> EngineResult<()> {
        let deadline = Instant::now() + limit;
        loop {
            // Listed unfiltered: a filter by a removed service is refused, while its tasks
            // still stop.
            let tasks = self.tasks(None).await?;
            // A machine that is down stops nothing now; Swarm removes what it ran when it
            // comes back.
            let down: HashSet<String> = self
                .cell_map()
                .await?
                .into_iter()
                .filter(|(_, cell)| cell.state != "ready")
                .map(|(node, _)| node)
                .collect();
            let running = tasks
                .iter()
                .filter(|t| t.service_id.as_deref() == Some(id))
                .filter(|t| !t.node_id.as_ref().is_some_and(|n| down.contains(n)))
                .any(|t| {
                    matches!(
                        shape::state_of(Some(t)),
                        ContainerState::Running | ContainerState::Created
                    ) && t.node_id.is_some()
                });
            if !running {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EngineError::Timeout {
                    endpoint: self.docker.endpoint(),
                    operation: "service remove".into(),
                    seconds: limit.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[async_trait]
impl Engine for SwarmEngine {
    fn endpoint(&self) -> String {
        self.docker.endpoint()
    }

    fn kind(&self) -> EngineKind {
        EngineKind::Swarm
    }

    fn registry(&self) -> Option<String> {
        self.registry.clone()
    }

    /// The manager's engine, with the memory and CPUs of every machine that takes
    /// instances (what placement checks count).
    async fn info(&self) -> EngineResult<EngineInfo> {
        let mut info = self.docker.info().await?;
        let cells = self.cell_map().await?;
        let open: Vec<&CellReport> = cells
            .iter()
            .map(|(_, c)| c)
            .filter(|c| c.state == "ready" && c.availability == "active")
            .collect();
        if !open.is_empty() {
            info.memory_bytes = open.iter().map(|c| c.memory_bytes).sum();
            info.cpus = open.iter().map(|c| c.cpus).sum();
        }
        Ok(info)
    }

    async fn cells(&self) -> EngineResult<Vec<CellReport>> {
        Ok(self.cell_map().await?.into_iter().map(|(_, c)| c).collect())
    }

    async fn image_config(&self, image: &str) -> EngineResult<Option<ImageConfig>> {
        self.docker.image_config(image).await
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> EngineResult<()> {
        self.docker.pull_image(image, progress).await
    }

    async fn build_image(
        &self,
        tag: &str,
        context: Vec<u8>,
        options: &BuildOptions,
        output: &(dyn Fn(String) + Send + Sync),
    ) -> EngineResult<()> {
        self.docker.build_image(tag, context, options, output).await
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<()> {
        self.docker.create_volume(name, labels).await
    }

    async fn list_volumes(&self, labels: &[(String, String)]) -> EngineResult<Vec<VolumeInfo>> {
        self.docker.list_volumes(labels).await
    }

    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        self.docker.remove_volume(name).await
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> EngineResult<()> {
        self.docker.tag_image(image, repository, tag).await
    }

    async fn untag_image(&self, reference: &str) -> EngineResult<()> {
        self.docker.untag_image(reference).await
    }

    async fn list_instances(&self, labels: &[(String, String)]) -> EngineResult<Vec<Observed>> {
        let services = self.services(labels).await?;
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let tasks = self.tasks(None).await?;
        let cells = self.cell_map().await?;
        let mut by_service: HashMap<&str, Vec<&Task>> = HashMap::new();
        for task in &tasks {
            if let Some(service) = task.service_id.as_deref() {
                by_service.entry(service).or_default().push(task);
            }
        }
        Ok(services
            .iter()
            .filter_map(|service| {
                let tasks = by_service.get(service.id.as_deref()?);
                let task = tasks.and_then(|t| shape::newest(t.iter().copied()));
                shape::observe(service, task, &cells)
            })
            .collect())
    }

    async fn run_instance(&self, spec: &InstanceSpec) -> EngineResult<Started> {
        if spec.privileged {
            return Err(self.api(
                "service create",
                "Swarm runs no privileged containers: run this app on a single engine",
            ));
        }
        let local = self.manager().await?;
        let image = self.distribute(spec).await?;
        // Without a registry the other machines cannot pull the image: stay on this one.
        let constraint = self.registry.is_none().then(|| format!("node.id=={local}"));
        let service = shape::service_spec(spec, &image, constraint.as_deref(), STOP_GRACE);
        let created = self
            .client()
            .await?
            .create_service(service, None)
            .await
            .map_err(|e| match e {
                BollardError::DockerResponseServerError {
                    status_code: 409,
                    message,
                } => EngineError::Conflict(message),
                other => self.docker.map_error("service create", other),
            })?;
        let id = created
            .id
            .ok_or_else(|| self.api("service create", "the manager returned no service id"))?;
        match self.placed(&id).await {
            Ok(placement) => Ok(Started {
                id: ContainerId(id),
                placement,
            }),
            Err(e) => {
                let _ = self.remove_instance(&ContainerId(id), Duration::ZERO).await;
                Err(e)
            }
        }
    }

    async fn remove_instance(&self, id: &ContainerId, grace: Duration) -> EngineResult<()> {
        match self.client().await?.delete_service(&id.0).await {
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(self.docker.map_error("service remove", e)),
        }
        // The task stops with the grace its service was made with; the wait covers it.
        self.stopped(&id.0, grace.max(STOP_GRACE) + CALL_TIMEOUT)
            .await
    }

    async fn exec(
        &self,
        id: &ContainerId,
        command: &[String],
        timeout: Duration,
    ) -> EngineResult<ExecOutcome> {
        let container = self.here(id, "exec").await?;
        self.docker.exec(&container, command, timeout).await
    }

    async fn read_file(&self, id: &ContainerId, path: &str) -> EngineResult<Option<Vec<u8>>> {
        let container = self.here(id, "file read").await?;
        self.docker.read_file(&container, path).await
    }

    async fn stats(&self, id: &ContainerId) -> EngineResult<StatsSample> {
        let container = self.here(id, "stats").await?;
        self.docker.stats(&container).await
    }

    async fn image_names(&self) -> EngineResult<Vec<String>> {
        self.docker.image_names().await
    }

    async fn running(&self, id: &ContainerId) -> EngineResult<bool> {
        match self.task_of(id).await {
            Ok(task) => Ok(shape::state_of(task.as_ref()) == ContainerState::Running),
            Err(EngineError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn frozen(&self, id: &ContainerId) -> EngineResult<bool> {
        match self.container(id).await? {
            Ok(container) => self.docker.frozen(&container).await,
            // Another machine's processes cannot be seen from here.
            Err(_) => Ok(false),
        }
    }

    async fn local_container(&self, id: &ContainerId) -> EngineResult<ContainerId> {
        self.here(id, "ssh").await
    }

    async fn logs(
        &self,
        id: &ContainerId,
        since: i64,
    ) -> EngineResult<BoxStream<'static, EngineResult<bytes::Bytes>>> {
        // The task has a container once its machine made it.
        let deadline = Instant::now() + PLACE_TIMEOUT;
        let task = loop {
            let task = self.task_of(id).await?;
            let settled = task
                .as_ref()
                .is_some_and(|t| shape::container_of(t).is_some() || shape::ended(t));
            if settled || Instant::now() >= deadline {
                break task;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if let Ok(Ok(container)) = self.locate(id, task.as_ref()).await {
            return self.docker.logs(&container, since).await;
        }
        let Some(task_id) = task.and_then(|t| t.id) else {
            return Ok(futures_util::stream::empty().boxed());
        };
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .since(since.clamp(0, i64::from(i32::MAX)) as i32)
            .build();
        Ok(output_stream(
            &self.endpoint(),
            docker.task_logs(&task_id, Some(options)),
        ))
    }

    async fn events(
        &self,
        labels: &[(String, String)],
    ) -> EngineResult<BoxStream<'static, EngineResult<EngineEvent>>> {
        let first = self.list_instances(labels).await?;
        let watcher = Watcher {
            engine: self.clone(),
            labels: labels.to_vec(),
            known: states(&first),
            pending: VecDeque::new(),
        };
        Ok(
            futures_util::stream::unfold(watcher, |mut watcher| async move {
                loop {
                    if let Some(event) = watcher.pending.pop_front() {
                        return Some((Ok(event), watcher));
                    }
                    tokio::time::sleep(POLL).await;
                    match watcher.engine.list_instances(&watcher.labels).await {
                        Ok(now) => {
                            let now = states(&now);
                            watcher.pending.extend(changes(&watcher.known, &now));
                            watcher.known = now;
                        }
                        Err(e) => return Some((Err(e), watcher)),
                    }
                }
            })
            .boxed(),
        )
    }
}

/// What the polling event stream knows between two reads.
struct Watcher {
    engine: SwarmEngine,
    labels: Vec<(String, String)>,
    known: HashMap<ContainerId, ContainerState>,
    pending: VecDeque<EngineEvent>,
}

fn states(observed: &[Observed]) -> HashMap<ContainerId, ContainerState> {
    observed.iter().map(|o| (o.id.clone(), o.state)).collect()
}

/// The events between two reads of the instances: `start` for a new one, `die` when one
/// stopped running (with its exit code), `destroy` when one is gone, as a single engine
/// reports them.
fn changes(
    before: &HashMap<ContainerId, ContainerState>,
    now: &HashMap<ContainerId, ContainerState>,
) -> Vec<EngineEvent> {
    let exited = |state: &ContainerState| {
        matches!(state, ContainerState::Exited(_) | ContainerState::Evacuated)
    };
    let mut events = Vec::new();
    for (id, state) in now {
        let was = before.get(id);
        if was.is_none() && !exited(state) {
            events.push(EngineEvent {
                action: "start".into(),
                id: id.clone(),
                exit_code: None,
            });
        }
        if exited(state) && !was.is_some_and(exited) {
            events.push(EngineEvent {
                action: match state {
                    ContainerState::Evacuated => "evacuate",
                    _ => "die",
                }
                .into(),
                id: id.clone(),
                exit_code: match state {
                    ContainerState::Exited(code) => *code,
                    _ => None,
                },
            });
        }
    }
    for (id, state) in before {
        if !now.contains_key(id) {
            if !exited(state) {
                events.push(EngineEvent {
                    action: "die".into(),
                    id: id.clone(),
                    exit_code: None,
                });
            }
            events.push(EngineEvent {
                action: "destroy".into(),
                id: id.clone(),
                exit_code: None,
            });
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ContainerId {
        ContainerId(text.into())
    }

    #[test]
    fn polling_reports_exits_and_removals_once_as_a_single_engine_does() {
        let before = HashMap::from([
            (id("a"), ContainerState::Running),
            (id("b"), ContainerState::Running),
            (id("c"), ContainerState::Exited(Some(1))),
            (id("d"), ContainerState::Running),
            (id("g"), ContainerState::Running),
        ]);
        let now = HashMap::from([
            (id("a"), ContainerState::Running),
            (id("b"), ContainerState::Exited(Some(137))),
            (id("c"), ContainerState::Exited(Some(1))),
            (id("e"), ContainerState::Exited(None)),
            (id("f"), ContainerState::Created),
            (id("g"), ContainerState::Evacuated),
        ]);
        let mut events: Vec<(String, String, Option<i64>)> = changes(&before, &now)
            .into_iter()
            .map(|e| (e.action, e.id.0, e.exit_code))
            .collect();
        events.sort();
        assert_eq!(
            events,
            [
                ("destroy".to_string(), "d".to_string(), None),
                ("die".to_string(), "b".to_string(), Some(137)),
                ("die".to_string(), "d".to_string(), None),
                ("die".to_string(), "e".to_string(), None),
                ("evacuate".to_string(), "g".to_string(), None),
                ("start".to_string(), "f".to_string(), None),
            ]
        );
        assert!(changes(&now, &now).is_empty());
    }
}
