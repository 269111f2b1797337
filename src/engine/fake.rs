//! An in-memory engine for fast tests of the node's logic, stricter than Docker.
//!
//! A running fake container really listens on its published host ports (on 127.0.0.1), so the
//! node's port checks behave as they do against Docker with an app that listens. Strictness:
//! unknown images, duplicate names, host ports taken by anything, empty commands and images with
//! nothing to run are all refused, where Docker would sometimes accept and fail later.

use super::{
    BuildOptions, ContainerId, ContainerState, Engine, EngineError, EngineEvent, EngineInfo,
    EngineResult, ExecOutcome, ImageConfig, InstanceSpec, Observed, Placement, PullProgress,
    Started, StatsSample, VolumeInfo,
};
use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

struct FakeContainer {
    /// Output of the container's process, for `logs`.
    output: broadcast::Sender<bytes::Bytes>,
    name: String,
    labels: BTreeMap<String, String>,
    state: ContainerState,
    ports: BTreeMap<u16, u16>,
    created: i64,
    listeners: Vec<JoinHandle<()>>,
    frozen: bool,
}

impl FakeContainer {
    fn stop_listening(&mut self) {
        for listener in self.listeners.drain(..) {
            listener.abort();
        }
    }
}

pub struct FakeEngine {
    images: Mutex<HashMap<String, ImageConfig>>,
    /// Images a pull would find, as if a registry had them.
    pullable: Mutex<HashMap<String, ImageConfig>>,
    containers: Mutex<BTreeMap<ContainerId, FakeContainer>>,
    next_id: AtomicU64,
    unreachable: AtomicBool,
    events: broadcast::Sender<EngineEvent>,
    /// What `exec` answers: an exit code, as `/bin/sh -c` would.
    exec_exit: std::sync::atomic::AtomicI64,
}

impl Default for FakeEngine {
    fn default() -> Self {
        FakeEngine {
            images: Mutex::default(),
            pullable: Mutex::default(),
            containers: Mutex::default(),
            next_id: AtomicU64::new(1),
            unreachable: AtomicBool::new(false),
            events: broadcast::channel(1024).0,
            exec_exit: std::sync::atomic::AtomicI64::new(0),
        }
    }
}

impl FakeEngine {
    /// A container of `spec` in `state` (Running, or Created for a session to attach to).
    async fn make(&self, spec: &InstanceSpec, state: ContainerState) -> EngineResult<ContainerId> {
        self.check_reachable()?;
        let image = self
            .images
            .lock()
            .unwrap()
            .get(&spec.image)
            .cloned()
            .ok_or_else(|| EngineError::ImageNotFound(spec.image.clone()))?;
        let has_command = match &spec.command {
            Some(command) => !command.is_empty() && !command[0].is_empty(),
            None => !image.entrypoint.is_empty() || !image.cmd.is_empty(),
        };
        if !has_command {
            return Err(EngineError::Api {
                operation: "container create".into(),
                message: "no command specified".into(),
            });
        }
        let mut listeners = Vec::new();
        for (_, host_port) in &spec.ports {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", *host_port))
                .await
                .map_err(|_| EngineError::PortInUse(*host_port))?;
            listeners.push(tokio::spawn(async move {
                // Accept and hold every connection, as a listening app would.
                let mut held = Vec::new();
                while let Ok((stream, _)) = listener.accept().await {
                    held.push(stream);
                }
            }));
        }
        let mut containers = self.containers.lock().unwrap();
        if containers.values().any(|c| c.name == spec.name) {
            for listener in listeners {
                listener.abort();
            }
            return Err(EngineError::Conflict(format!(
                "the container name `{}` is already in use",
                spec.name
            )));
        }
        let id = ContainerId(format!(
            "fake{:060}",
            self.next_id.fetch_add(1, Ordering::SeqCst)
        ));
        containers.insert(
            id.clone(),
            FakeContainer {
                output: broadcast::channel(4096).0,
                name: spec.name.clone(),
                labels: spec.labels.clone(),
                state,
                ports: spec.ports.iter().copied().collect(),
                created: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
                listeners,
                frozen: false,
            },
        );
        Ok(id)
    }

    pub fn new() -> FakeEngine {
        FakeEngine::default()
    }

    /// Makes an image present locally.
    pub fn add_image(&self, name: &str, config: ImageConfig) {
        self.images.lock().unwrap().insert(name.to_string(), config);
    }

    /// Makes an image available to `pull_image`.
    pub fn add_pullable_image(&self, name: &str, config: ImageConfig) {
        self.pullable
            .lock()
            .unwrap()
            .insert(name.to_string(), config);
    }

    /// Every later call fails as if the engine's socket were gone, until set back.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    /// The process of a container exits with `code`, as a crash would.
    pub fn exit_container(&self, id: &ContainerId, code: i64) {
        if let Some(container) = self.containers.lock().unwrap().get_mut(id) {
            container.stop_listening();
            // As Docker does, a followed output stream ends when the process exits.
            container.output = broadcast::channel(1).0;
            container.state = ContainerState::Exited(Some(code));
        }
        let _ = self.events.send(EngineEvent {
            action: "die".into(),
            id: id.clone(),
            exit_code: Some(code),
        });
    }

    /// Leaves a container created and never started, as the engine does when it finishes
    /// the create request of a node that was killed before asking for the start.
    pub fn never_started(&self, id: &ContainerId) {
        if let Some(container) = self.containers.lock().unwrap().get_mut(id) {
            container.stop_listening();
            container.state = ContainerState::Created;
        }
        self.emit("create", id);
    }

    /// Removes a container behind the node's back, as `docker rm -f` would.
    pub fn remove_behind_back(&self, id: &ContainerId) {
        if let Some(mut container) = self.containers.lock().unwrap().remove(id) {
            container.stop_listening();
        }
        self.emit("destroy", id);
    }

    /// The process in a container writes `text` to its stdout.
    pub fn write_output(&self, id: &ContainerId, text: &str) {
        if let Some(container) = self.containers.lock().unwrap().get(id) {
            let _ = container.output.send(bytes::Bytes::from(text.to_string()));
        }
    }

    /// Every later `exec` exits with this code.
    pub fn set_exec_exit(&self, code: i64) {
        self.exec_exit.store(code, Ordering::SeqCst);
    }

    /// The container's processes are stopped (as SIGSTOP or `docker pause` would), or go on.
    pub fn set_frozen(&self, id: &ContainerId, frozen: bool) {
        if let Some(container) = self.containers.lock().unwrap().get_mut(id) {
            container.frozen = frozen;
        }
    }

    /// The app in a container stops listening while its process keeps running.
    pub fn stop_listening(&self, id: &ContainerId) {
        if let Some(container) = self.containers.lock().unwrap().get_mut(id) {
            container.stop_listening();
        }
    }

    /// Names of all containers, sorted.
    pub fn container_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .containers
            .lock()
            .unwrap()
            .values()
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        names
    }

    fn emit(&self, action: &str, id: &ContainerId) {
        let _ = self.events.send(EngineEvent {
            action: action.to_string(),
            id: id.clone(),
            exit_code: None,
        });
    }

    fn check_reachable(&self) -> EngineResult<()> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(EngineError::Unreachable {
                endpoint: self.endpoint(),
                reason: "the fake engine is switched off".into(),
            });
        }
        Ok(())
    }
}

fn matches(labels: &BTreeMap<String, String>, wanted: &[(String, String)]) -> bool {
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[async_trait]
impl Engine for FakeEngine {
    fn endpoint(&self) -> String {
        "fake://engine".to_string()
    }

    async fn info(&self) -> EngineResult<EngineInfo> {
        self.check_reachable()?;
        Ok(EngineInfo {
            version: "fake".into(),
            api_version: "1.41".into(),
            memory_bytes: 8 << 30,
            cpus: 2,
            root_dir: None,
        })
    }

    async fn image_config(&self, image: &str) -> EngineResult<Option<ImageConfig>> {
        self.check_reachable()?;
        Ok(self.images.lock().unwrap().get(image).cloned())
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> EngineResult<()> {
        self.check_reachable()?;
        let found = self.pullable.lock().unwrap().get(image).cloned();
        let Some(config) = found else {
            return Err(EngineError::Pull {
                image: image.to_string(),
                reason: "repository does not exist or may require 'docker login'".into(),
            });
        };
        progress(PullProgress::Layer {
            id: "layer0".into(),
            status: "Downloading".into(),
            current: 1,
            total: 1,
        });
        self.add_image(image, config);
        Ok(())
    }

    async fn build_image(
        &self,
        tag: &str,
        context: Vec<u8>,
        _options: &BuildOptions,
        output: &(dyn Fn(String) + Send + Sync),
    ) -> EngineResult<()> {
        self.check_reachable()?;
        if context.is_empty() {
            return Err(EngineError::Build {
                message: "empty build context".into(),
            });
        }
        output("Step 1/1 : FROM scratch".into());
        self.add_image(
            tag,
            ImageConfig {
                entrypoint: vec!["/lattice-app".into()],
                ..ImageConfig::default()
            },
        );
        Ok(())
    }

    async fn read_file(&self, _id: &ContainerId, _path: &str) -> EngineResult<Option<Vec<u8>>> {
        self.check_reachable()?;
        Ok(None)
    }

    async fn create_volume(
        &self,
        _name: &str,
        _labels: &std::collections::BTreeMap<String, String>,
    ) -> EngineResult<()> {
        self.check_reachable()
    }

    async fn list_volumes(&self, _labels: &[(String, String)]) -> EngineResult<Vec<VolumeInfo>> {
        self.check_reachable()?;
        Ok(Vec::new())
    }

    async fn remove_volume(&self, _name: &str) -> EngineResult<()> {
        self.check_reachable()
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> EngineResult<()> {
        self.check_reachable()?;
        let config = self.images.lock().unwrap().get(image).cloned();
        let config = config.ok_or_else(|| EngineError::ImageNotFound(image.to_string()))?;
        self.add_image(&format!("{repository}:{tag}"), config);
        Ok(())
    }

    async fn untag_image(&self, reference: &str) -> EngineResult<()> {
        self.check_reachable()?;
        self.images.lock().unwrap().remove(reference);
        Ok(())
    }

    async fn list_instances(&self, labels: &[(String, String)]) -> EngineResult<Vec<Observed>> {
        self.check_reachable()?;
        Ok(self
            .containers
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, c)| matches(&c.labels, labels))
            .map(|(id, c)| Observed {
                id: id.clone(),
                labels: c.labels.clone(),
                state: c.state,
                ports: c.ports.clone(),
                created: c.created,
                placement: Placement::local(),
            })
            .collect())
    }

    async fn run_instance(&self, spec: &InstanceSpec) -> EngineResult<Started> {
        let id = self.make(spec, ContainerState::Running).await?;
        self.emit("start", &id);
        Ok(Started {
            id,
            placement: Placement::local(),
        })
    }

    async fn create_attachable(
        &self,
        spec: &InstanceSpec,
        _tty: bool,
    ) -> EngineResult<ContainerId> {
        self.make(spec, ContainerState::Created).await
    }

    async fn start_created(&self, id: &ContainerId) -> EngineResult<()> {
        self.check_reachable()?;
        match self.containers.lock().unwrap().get_mut(id) {
            Some(container) => container.state = ContainerState::Running,
            None => return Err(EngineError::NotFound(id.0.clone())),
        }
        self.emit("start", id);
        Ok(())
    }

    async fn remove_instance(&self, id: &ContainerId, _grace: Duration) -> EngineResult<()> {
        self.check_reachable()?;
        let removed = self.containers.lock().unwrap().remove(id);
        if let Some(mut container) = removed {
            container.stop_listening();
            self.emit("destroy", id);
        }
        Ok(())
    }

    async fn exec(
        &self,
        id: &ContainerId,
        command: &[String],
        _timeout: Duration,
    ) -> EngineResult<ExecOutcome> {
        self.check_reachable()?;
        let running = self
            .containers
            .lock()
            .unwrap()
            .get(id)
            .map(|c| c.state == ContainerState::Running);
        match running {
            None => Err(EngineError::NotFound(id.0.clone())),
            Some(false) => Err(EngineError::Conflict(format!(
                "container {id} is not running"
            ))),
            Some(true) if command.is_empty() => Err(EngineError::Api {
                operation: "exec create".into(),
                message: "no command specified".into(),
            }),
            Some(true) => Ok(ExecOutcome {
                exit_code: self.exec_exit.load(Ordering::SeqCst),
                output: String::new(),
            }),
        }
    }

    async fn image_names(&self) -> EngineResult<Vec<String>> {
        self.check_reachable()?;
        let mut names: Vec<String> = self.images.lock().unwrap().keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    async fn running(&self, id: &ContainerId) -> EngineResult<bool> {
        self.check_reachable()?;
        Ok(self
            .containers
            .lock()
            .unwrap()
            .get(id)
            .is_some_and(|c| c.state == ContainerState::Running && !c.frozen))
    }

    async fn frozen(&self, id: &ContainerId) -> EngineResult<bool> {
        self.check_reachable()?;
        match self.containers.lock().unwrap().get(id) {
            Some(container) => Ok(container.frozen),
            None => Err(EngineError::NotFound(id.0.clone())),
        }
    }

    async fn stats(&self, id: &ContainerId) -> EngineResult<StatsSample> {
        self.check_reachable()?;
        if !self.containers.lock().unwrap().contains_key(id) {
            return Err(EngineError::NotFound(id.0.clone()));
        }
        // A steady 10 % of one CPU and 4 MiB, ticking with the clock.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Ok(StatsSample {
            cpu_total_ns: now / 10,
            system_total_ns: now,
            online_cpus: 1,
            memory_bytes: 4 << 20,
            memory_limit_bytes: 128 << 20,
        })
    }

    async fn logs(
        &self,
        id: &ContainerId,
        _since: i64,
    ) -> EngineResult<BoxStream<'static, EngineResult<bytes::Bytes>>> {
        self.check_reachable()?;
        let receiver = match self.containers.lock().unwrap().get(id) {
            Some(container) => container.output.subscribe(),
            None => return Err(EngineError::NotFound(id.0.clone())),
        };
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(bytes) => return Some((Ok(bytes), receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream.boxed())
    }

    async fn events(
        &self,
        labels: &[(String, String)],
    ) -> EngineResult<BoxStream<'static, EngineResult<EngineEvent>>> {
        self.check_reachable()?;
        let _ = labels;
        let receiver = self.events.subscribe();
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((Ok(event), receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream.boxed())
    }
}
