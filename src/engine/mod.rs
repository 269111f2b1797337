//! The container engine, in ltc's words: images, instances, ports and labels.
//!
//! [`Engine`] is what the node drives. [`docker::DockerEngine`] implements it over bollard (the
//! only module that imports bollard), and [`fake::FakeEngine`] implements it in memory for fast
//! tests of the node's logic. The fake is stricter than Docker, and the contract tests in
//! `tests/engine.rs` run against both so they cannot drift. [`swarm::SwarmEngine`] runs the
//! same instances as Swarm services, on the machines of a Docker Swarm.

pub mod docker;
pub mod fake;
pub mod swarm;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Label keys every ltc container carries.
pub mod labels {
    /// The random id of the `LTC_HOME` that created the container.
    pub const INSTALL: &str = "io.ltc.install";
    /// The path of that `LTC_HOME`, for humans looking at `docker ps`.
    pub const HOME: &str = "io.ltc.home";
    pub const APP: &str = "io.ltc.app";
    pub const INDEX: &str = "io.ltc.index";
    pub const GUID: &str = "io.ltc.guid";
    pub const GENERATION: &str = "io.ltc.generation";
    /// The guid of the one-off task a container runs.
    pub const TASK: &str = "io.ltc.task";
    /// The name an app gives a named volume (`--volume NAME:/path`).
    pub const VOLUME: &str = "io.ltc.volume";
}

/// A container id as the engine gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerId(pub String);

impl ContainerId {
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl std::fmt::Display for ContainerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an image says about how to run it (Lattice read the same from the registry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// The engine's id of the image (`sha256:...`).
    pub id: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub env: Vec<String>,
    /// TCP ports from EXPOSE, ascending.
    pub exposed_ports: Vec<u16>,
}

/// The engine's identity, for `ltc version` and `ltc cells`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
    pub memory_bytes: u64,
    pub cpus: u64,
    /// Where the engine keeps images and containers (`/var/lib/docker`).
    pub root_dir: Option<String>,
}

/// One instance to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    /// The container name, `ltc-<app>-<index>-<short guid>`.
    pub name: String,
    pub image: String,
    /// Replaces the image's ENTRYPOINT and CMD when set.
    pub command: Option<Vec<String>>,
    /// `NAME=VALUE`, laid over the image's ENV by the engine.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Container port to host port, published on 127.0.0.1.
    pub ports: Vec<(u16, u16)>,
    /// 0 = unlimited.
    pub memory_bytes: u64,
    pub cpu_shares: u64,
    /// Most processes and threads; 0 = unlimited.
    pub pids_limit: u32,
    pub privileged: bool,
    /// (source, target, read-only): a named volume, or a host path when it starts with `/`.
    pub mounts: Vec<(String, String, bool)>,
}

/// A named volume of this home's, as `ltc volumes` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Bytes used, when the engine says.
    pub size: Option<u64>,
}

/// Where an instance runs: the cell (machine) and the address its published ports answer on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub cell: String,
    pub address: IpAddr,
}

impl Placement {
    /// The one machine of a single engine: ports are published on loopback.
    pub fn local() -> Placement {
        Placement {
            cell: crate::model::CELL_ID.to_string(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }
}

/// A started instance: its id and where it landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub id: ContainerId,
    pub placement: Placement,
}

/// A machine that runs instances, as the engine reports it (`ltc cells`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellReport {
    pub cell_id: String,
    pub address: IpAddr,
    pub memory_bytes: u64,
    pub cpus: u64,
    pub engine_version: String,
    /// `ready`, `down`, `disconnected`, `unknown`.
    pub state: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// The machine the engine ltc talks to runs on (its disk is the node's to measure).
    pub local: bool,
}

/// The lifecycle state of an observed container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    Running,
    /// Exited or dead, with its exit code when known.
    Exited(Option<i64>),
    /// Stopped by the engine, not by its process: its machine left (a swarm node drained or
    /// down). Not a crash: the instance is placed again at once.
    Evacuated,
    /// Paused, restarting, being removed.
    Other,
}

/// An ltc container as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub id: ContainerId,
    pub labels: BTreeMap<String, String>,
    pub state: ContainerState,
    /// Container port to host port on the placement's address.
    pub ports: BTreeMap<u16, u16>,
    /// Unix seconds.
    pub created: i64,
    pub placement: Placement,
}

/// Progress of an image pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullProgress {
    Status(String),
    Layer {
        id: String,
        status: String,
        current: u64,
        total: u64,
    },
}

/// One sample of a container's resource use. CPU is cumulative: a rate needs two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSample {
    /// Nanoseconds of CPU the container used, in total.
    pub cpu_total_ns: u64,
    /// Nanoseconds of CPU the whole machine used, in total.
    pub system_total_ns: u64,
    pub online_cpus: u32,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
}

impl StatsSample {
    /// CPU use between two samples in percent of one CPU (100 % = one core busy), as
    /// `docker stats` computes it.
    pub fn cpu_percent_since(&self, earlier: &StatsSample) -> Option<f64> {
        let cpu = self.cpu_total_ns.checked_sub(earlier.cpu_total_ns)? as f64;
        let system = self.system_total_ns.checked_sub(earlier.system_total_ns)? as f64;
        (system > 0.0).then(|| cpu / system * f64::from(self.online_cpus.max(1)) * 100.0)
    }
}

/// What a command run inside an instance did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    pub exit_code: i64,
    /// The start of its output (stdout and stderr).
    pub output: String,
}

/// Something happened to a container. Docker 20.10 sends `die` before its container list
/// shows the exit (measured here), so the node acts on `die` and `destroy` themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineEvent {
    pub action: String,
    pub id: ContainerId,
    /// With `die`: the process's exit code.
    pub exit_code: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_is_the_share_of_machine_time_times_cpus() {
        let earlier = StatsSample {
            cpu_total_ns: 1_000,
            system_total_ns: 10_000,
            online_cpus: 2,
            ..Default::default()
        };
        let later = StatsSample {
            cpu_total_ns: 2_000,
            system_total_ns: 20_000,
            online_cpus: 2,
            ..Default::default()
        };
        assert_eq!(later.cpu_percent_since(&earlier), Some(20.0));
        assert_eq!(earlier.cpu_percent_since(&later), None);
    }
}

/// How to build an image from a context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// The Dockerfile's path inside the context.
    pub dockerfile: String,
    /// `--build-arg NAME=VALUE`.
    pub build_args: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker engine at `{endpoint}`: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error(
        "the Docker engine at `{endpoint}` did not respond to `{operation}` within {seconds} s"
    )]
    Timeout {
        endpoint: String,
        operation: String,
        seconds: u64,
    },
    #[error("image `{0}` not found")]
    ImageNotFound(String),
    #[error("cannot pull image `{image}`: {reason}")]
    Pull { image: String, reason: String },
    #[error("host port {0} is already in use")]
    PortInUse(u16),
    #[error("container `{0}` not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("Docker refused `{operation}`: {message}")]
    Api { operation: String, message: String },
    #[error("the build failed: {message}")]
    Build { message: String },
    /// The engine is not what a swarm needs (not a manager), or cannot reach an instance on
    /// another machine of its swarm.
    #[error("{0}")]
    Swarm(String),
}

impl From<EngineError> for crate::error::Error {
    fn from(error: EngineError) -> Self {
        use crate::error::{Error, Kind};
        let message = error.to_string();
        match error {
            EngineError::Unreachable { .. } => Error::new(Kind::Engine, message)
                .with_hint("start Docker, or point DOCKER_HOST at its socket, then retry"),
            EngineError::Timeout { .. } => Error::new(Kind::Engine, message).with_hint(
                "it accepts connections but does not answer: it may be hung or overloaded \
                 (restart it); the router keeps serving what it knows",
            ),
            EngineError::ImageNotFound(_) | EngineError::Pull { .. } => {
                Error::new(Kind::Image, message)
                    .with_hint("build or load the image locally (`docker images` lists them)")
            }
            EngineError::NotFound(_) | EngineError::Conflict(_) | EngineError::PortInUse(_) => {
                Error::failed(message)
            }
            EngineError::Api { .. } | EngineError::Swarm(_) => Error::new(Kind::Engine, message),
            EngineError::Build { .. } => Error::failed(message),
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// What the node needs from a container engine.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// The address of the engine, for messages (`unix:///var/run/docker.sock`).
    fn endpoint(&self) -> String;

    async fn info(&self) -> EngineResult<EngineInfo>;

    /// The image's run configuration, or `None` when the image is not present locally.
    async fn image_config(&self, image: &str) -> EngineResult<Option<ImageConfig>>;

    /// Pulls an image, reporting progress as it goes.
    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> EngineResult<()>;

    /// Builds an image from a tar of a build context (a Dockerfile and its files), reporting
    /// each line of the build's output.
    async fn build_image(
        &self,
        tag: &str,
        context: Vec<u8>,
        options: &BuildOptions,
        output: &(dyn Fn(String) + Send + Sync),
    ) -> EngineResult<()>;

    /// Creates a named volume with these labels, unless it exists.
    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<()>;

    /// The named volumes carrying all these labels, with their sizes.
    async fn list_volumes(&self, labels: &[(String, String)]) -> EngineResult<Vec<VolumeInfo>>;

    /// Removes a named volume; a volume that is gone is not an error.
    async fn remove_volume(&self, name: &str) -> EngineResult<()>;

    /// Gives an image another name, `repository:tag`.
    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> EngineResult<()>;

    /// Removes one name of an image (the image goes with its last name, unless a container
    /// uses it). A name that is already gone is not an error.
    async fn untag_image(&self, reference: &str) -> EngineResult<()>;

    /// Every container carrying all these labels, running or not.
    async fn list_instances(&self, labels: &[(String, String)]) -> EngineResult<Vec<Observed>>;

    /// Creates and starts a container. When the start fails the container is removed again.
    async fn run_instance(&self, spec: &InstanceSpec) -> EngineResult<Started>;

    /// Creates a container, not started, for a session to attach to first (`ltc run`): stdin
    /// open until the session closes it, on a terminal when `tty`. An engine that cannot attach
    /// to its containers (a swarm's services) says so.
    async fn create_attachable(
        &self,
        _spec: &InstanceSpec,
        _tty: bool,
    ) -> EngineResult<ContainerId> {
        Err(EngineError::Api {
            operation: "container create".into(),
            message: "this engine cannot attach to what it runs".into(),
        })
    }

    /// Starts a container made by [`Engine::create_attachable`]. When the start fails the
    /// container is removed.
    async fn start_created(&self, _id: &ContainerId) -> EngineResult<()> {
        Err(EngineError::Api {
            operation: "container start".into(),
            message: "this engine cannot attach to what it runs".into(),
        })
    }

    /// Which engine this is (`ltc target --engine`).
    fn kind(&self) -> crate::model::EngineKind {
        crate::model::EngineKind::Docker
    }

    /// The registry images go through to reach the engine's machines (`ltc target
    /// --registry`).
    fn registry(&self) -> Option<String> {
        None
    }

    /// The machines that run instances. One engine is one cell.
    async fn cells(&self) -> EngineResult<Vec<CellReport>> {
        let info = self.info().await?;
        let local = Placement::local();
        Ok(vec![CellReport {
            cell_id: local.cell,
            address: local.address,
            memory_bytes: info.memory_bytes,
            cpus: info.cpus,
            engine_version: info.version,
            state: "ready".into(),
            availability: "active".into(),
            local: true,
        }])
    }

    /// The container of an instance on the engine ltc talks to, for an interactive session
    /// (`ltc ssh`). An engine whose instances are containers answers with the id itself.
    async fn local_container(&self, id: &ContainerId) -> EngineResult<ContainerId> {
        Ok(id.clone())
    }

    /// Stops a container (SIGTERM, then SIGKILL after `grace`) and removes it. A container that
    /// is already gone is not an error.
    async fn remove_instance(&self, id: &ContainerId, grace: Duration) -> EngineResult<()>;

    /// Runs a command inside a running container and waits for it, at most `timeout`.
    async fn exec(
        &self,
        id: &ContainerId,
        command: &[String],
        timeout: Duration,
    ) -> EngineResult<ExecOutcome>;

    /// The contents of a file in a container, running or stopped (at most 1 MiB); `None` when
    /// there is no such file.
    async fn read_file(&self, id: &ContainerId, path: &str) -> EngineResult<Option<Vec<u8>>>;

    /// One sample of a running container's resource use.
    async fn stats(&self, id: &ContainerId) -> EngineResult<StatsSample>;

    /// The `repository:tag` names of the images the engine has locally.
    async fn image_names(&self) -> EngineResult<Vec<String>>;

    /// Whether a container's process runs now (started, not exited, not paused).
    async fn running(&self, id: &ContainerId) -> EngineResult<bool>;

    /// Whether a running container's processes are frozen: the container is paused, or every
    /// process but its init is stopped (SIGSTOP). A frozen app still has its port accepted by
    /// the kernel and by Docker's proxy, so a port check alone passes.
    async fn frozen(&self, id: &ContainerId) -> EngineResult<bool>;

    /// The output of a container (stdout and stderr), following it until the container
    /// stops. Only output written at or after `since` (Unix seconds; 0 for all) is sent.
    async fn logs(
        &self,
        id: &ContainerId,
        since: i64,
    ) -> EngineResult<BoxStream<'static, EngineResult<bytes::Bytes>>>;

    /// Lifecycle events of containers carrying all these labels. The stream ends when the
    /// connection to the engine is lost; the caller resubscribes.
    async fn events(
        &self,
        labels: &[(String, String)],
    ) -> EngineResult<BoxStream<'static, EngineResult<EngineEvent>>>;
}
