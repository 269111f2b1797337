//! The node API's requests and answers, and the vocabulary both sides of it share: what the
//! CLI sends, what `--json` prints, log lines, events and the API's headers. Re-exported from
//! [`crate::model`].

use super::{EnvVar, InstanceState, Monitor, RolloutKind, RolloutResult, route_line};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What `ltc create` asks the node for. The CLI has already resolved what depends on the
/// caller's side (bare `-e NAME` values are copied from the caller's environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRequest {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    /// The directory `image` was built from, shown as the app's image.
    #[serde(default)]
    pub built_from: Option<String>,
    #[serde(default)]
    pub start_command: Option<Vec<String>>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub ports: Vec<u16>,
    pub instances: u32,
    pub memory_mb: u64,
    #[serde(default)]
    pub disk_mb: u64,
    pub cpu_weight: u8,
    /// [`DEFAULT_PIDS_LIMIT`] when absent.
    #[serde(default)]
    pub pids_limit: Option<u32>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub http_routes: Vec<String>,
    #[serde(default)]
    pub tcp_routes: Vec<String>,
    #[serde(default)]
    pub no_routes: bool,
    #[serde(default)]
    pub monitor_port: Option<u16>,
    #[serde(default)]
    pub monitor_url: Option<String>,
    #[serde(default)]
    pub monitor_command: Option<String>,
    #[serde(default)]
    pub no_monitor: bool,
    #[serde(default)]
    pub monitor_timeout_ms: Option<u64>,
    /// [`DEFAULT_START_TIMEOUT`] when absent.
    #[serde(default)]
    pub start_timeout_ms: Option<u64>,
    /// `--volume SOURCE:/path[:ro]`.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `--response-timeout`, `--drain-timeout`, `--redirect-https`, `--cert`/`--key`.
    #[serde(default)]
    pub edge: EdgeRequest,
}

/// Changes to an app's edge settings (create and update); absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeRequest {
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    #[serde(default)]
    pub drain_timeout_ms: Option<u64>,
    #[serde(default)]
    pub redirect_https: Option<bool>,
    /// Certificates to use, each for one of the app's hostnames.
    #[serde(default)]
    pub certificates: Vec<CertificateRequest>,
    /// Hostnames whose certificate goes back to the local CA's.
    #[serde(default)]
    pub remove_certificates: Vec<String>,
}

impl EdgeRequest {
    pub fn is_empty(&self) -> bool {
        *self == EdgeRequest::default()
    }
}

/// `--cert FILE --key FILE [--cert-host HOST]`: paths on this machine, read by the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRequest {
    /// The hostname it is for; the app's first route when absent.
    #[serde(default)]
    pub hostname: Option<String>,
    pub cert_file: String,
    pub key_file: String,
}

/// What `ltc update` asks for: changes to what runs (a new revision, rolled out) and to the
/// routes (live). Absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRequest {
    #[serde(default)]
    pub image: Option<String>,
    /// The directory `image` was built from, shown as the app's image.
    #[serde(default)]
    pub built_from: Option<String>,
    /// Set or replaced.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub unset_env: Vec<String>,
    #[serde(default)]
    pub start_command: Option<Vec<String>>,
    #[serde(default)]
    pub ports: Option<Vec<u16>>,
    #[serde(default)]
    pub memory_mb: Option<u64>,
    #[serde(default)]
    pub disk_mb: Option<u64>,
    #[serde(default)]
    pub cpu_weight: Option<u8>,
    #[serde(default)]
    pub pids_limit: Option<u32>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub monitor_port: Option<u16>,
    #[serde(default)]
    pub monitor_url: Option<String>,
    #[serde(default)]
    pub monitor_command: Option<String>,
    #[serde(default)]
    pub no_monitor: bool,
    #[serde(default)]
    pub monitor_timeout_ms: Option<u64>,
    #[serde(default)]
    pub start_timeout_ms: Option<u64>,
    /// Replaces every route (as Lattice's `update` did).
    #[serde(default)]
    pub routes: RouteRequest,
    /// `--volume SOURCE:/path[:ro]`: mounted at that path, replacing what was there.
    #[serde(default)]
    pub volumes: Vec<String>,
    #[serde(default)]
    pub add_routes: Vec<String>,
    #[serde(default)]
    pub remove_routes: Vec<String>,
    #[serde(default)]
    pub rollout: RolloutOptions,
    /// Edge settings, changed live.
    #[serde(default)]
    pub edge: EdgeRequest,
}

impl UpdateRequest {
    pub fn with_rollout(mut self, rollout: RolloutOptions) -> Self {
        self.rollout = rollout;
        self
    }
}

/// How a rollout goes: `--max-surge`, `--health-timeout`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutOptions {
    #[serde(default)]
    pub max_surge: Option<u32>,
    #[serde(default)]
    pub health_timeout_ms: Option<u64>,
}

/// Extra instances a rollout starts at once unless told otherwise.
pub const DEFAULT_MAX_SURGE: u32 = 1;
/// How long a new instance of a rollout has to become healthy unless told otherwise.
pub const DEFAULT_HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Build an image from a directory on the node's machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRequest {
    /// The build context: an absolute directory.
    pub path: String,
    /// The Dockerfile, relative to the context [default: Dockerfile].
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub build_args: Vec<EnvVar>,
}

/// `ltc rollback APP [--to N]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    #[serde(default)]
    pub to: Option<u64>,
    #[serde(default)]
    pub rollout: RolloutOptions,
}

/// `ltc restart APP [--index N]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRequest {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub rollout: RolloutOptions,
}

/// One revision as `ltc history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionStatus {
    pub revision: u64,
    /// RFC 3339.
    pub created_at: String,
    pub description: String,
    pub image: String,
    pub image_id: Option<String>,
    /// `deploying`, `active`, `superseded`, `failed`.
    pub outcome: String,
}

/// A rollout in progress, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStatus {
    pub kind: RolloutKind,
    /// The revision being rolled out, and the one it replaces.
    pub revision: u64,
    pub from_revision: u64,
    /// Indices that already run the new revision, of all.
    pub updated: u32,
    pub total: u32,
    pub max_surge: u32,
    /// RFC 3339.
    pub started_at: String,
}

/// What `ltc update` asks for: the app's new route set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRequest {
    #[serde(default)]
    pub http_routes: Vec<String>,
    #[serde(default)]
    pub tcp_routes: Vec<String>,
    #[serde(default)]
    pub no_routes: bool,
}

impl RouteRequest {
    /// Says nothing: no route given and `--no-routes` not set.
    pub fn is_empty(&self) -> bool {
        !self.no_routes && self.http_routes.is_empty() && self.tcp_routes.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleRequest {
    pub instances: u32,
}

/// One instance as `status --json` and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub index: u32,
    pub guid: String,
    pub state: InstanceState,
    pub crash_count: u32,
    /// When the instance entered its current state (RFC 3339).
    pub since: String,
    /// Container port to host port on `address`.
    pub ports: BTreeMap<u16, u16>,
    #[serde(default)]
    pub container_id: Option<String>,
    /// The cell (machine) the instance runs on.
    #[serde(default)]
    pub cell: Option<String>,
    /// The address its published ports answer on (127.0.0.1 on one machine).
    #[serde(default)]
    pub address: Option<String>,
    /// For CRASHED instances: when the next restart is due (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_restart: Option<String>,
    /// Why the last start or run failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// For CLAIMED instances: when a start that is still not healthy counts as a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_deadline: Option<String>,
    /// The last crash, kept after the instance runs again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_crash: Option<LastCrash>,
    /// True while the instance is being stopped (scale-down or remove).
    #[serde(default)]
    pub stopping: bool,
    /// False while a RUNNING instance fails its monitor: it is out of the routes until it
    /// passes again, and crashes when it keeps failing.
    #[serde(default = "healthy_default")]
    pub healthy: bool,
    /// Requests in flight to this instance through the router (what a drain waits for).
    #[serde(default)]
    pub requests_in_flight: u32,
    /// The revision this instance runs.
    #[serde(default)]
    pub revision: Option<u64>,
    /// CPU use in percent of one core, from the engine's last two samples.
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    /// Memory in use, from the engine's last sample.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
}

/// Why and when an instance last crashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCrash {
    pub reason: String,
    /// RFC 3339.
    pub time: String,
}

fn healthy_default() -> bool {
    true
}

/// A route as shown to users, with the URL that works on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStatus {
    pub hostname: String,
    pub port: u16,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpRouteStatus {
    pub external_port: u16,
    pub port: u16,
    pub address: String,
}

/// An app as `list --json`, `status --json` and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppStatus {
    pub name: String,
    pub image: String,
    pub builtin: bool,
    pub command: Vec<String>,
    pub desired_instances: u32,
    pub running_instances: u32,
    pub ports: Vec<u16>,
    pub primary_port: u16,
    pub memory_mb: u64,
    pub disk_mb: u64,
    pub cpu_weight: u8,
    pub pids_limit: u32,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub privileged: bool,
    pub env: BTreeMap<String, String>,
    /// Mounted volumes.
    #[serde(default)]
    pub volumes: Vec<super::Volume>,
    pub routes: Vec<RouteStatus>,
    pub tcp_routes: Vec<TcpRouteStatus>,
    pub monitor: Monitor,
    pub monitor_timeout_ms: u64,
    pub start_timeout_ms: u64,
    pub instances: Vec<InstanceStatus>,
    /// True once `remove` was accepted and containers are still being stopped.
    pub removing: bool,
    pub generation: u64,
    /// The app's revision: 1 at create, one more per change of what runs.
    pub revision: u64,
    /// Changes with every accepted request; a waiter that sees a later one was overtaken.
    pub change: u64,
    /// The rollout in progress.
    #[serde(default)]
    pub rollout: Option<RolloutStatus>,
    /// How the last rollout ended.
    #[serde(default)]
    pub last_rollout: Option<RolloutResult>,
    /// How long an instance may take to start its response.
    #[serde(default)]
    pub response_timeout_ms: u64,
    /// How long a stopping instance's requests in flight may take.
    #[serde(default)]
    pub drain_timeout_ms: u64,
    /// Plain HTTP is redirected to HTTPS.
    #[serde(default)]
    pub redirect_https: bool,
    /// The app's HTTPS URLs (empty when HTTPS is off).
    #[serde(default)]
    pub https_urls: Vec<String>,
    /// Certificates the user gave, by hostname, with their last valid day.
    #[serde(default)]
    pub certificates: BTreeMap<String, String>,
    pub created_at: String,
}

impl AppStatus {
    /// One line per route as `list` and `status` show them: HTTP routes by hostname, TCP
    /// routes by the address they listen on.
    pub fn route_lines(&self) -> Vec<String> {
        let http = self.routes.iter().map(|r| route_line(&r.hostname, r.port));
        let tcp = self
            .tcp_routes
            .iter()
            .map(|r| route_line(&r.address, r.port));
        http.chain(tcp).collect()
    }
}

/// What `ltc target` shows and sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub domain: String,
    pub router_address: String,
    pub ltc_home: String,
    /// The engine ltc drives: `docker` (one machine) or `swarm` (a Swarm's machines).
    #[serde(default)]
    pub engine: EngineKind,
    /// The registry images go through to reach every machine of a swarm (`HOST:PORT`).
    #[serde(default)]
    pub registry: Option<String>,
}

/// What `ltc target` sets; what is absent stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRequest {
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub engine: Option<EngineKind>,
    /// `HOST:PORT`; empty to stop using one.
    #[serde(default)]
    pub registry: Option<String>,
}

/// What `PUT /v1/target` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetChange {
    #[serde(flatten)]
    pub target: TargetInfo,
    /// The engine or registry changed: it takes effect when the node restarts.
    #[serde(default)]
    pub restart: bool,
}

/// Which engine ltc drives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// One Docker engine: instances are its containers.
    #[default]
    Docker,
    /// A Docker Swarm through one of its managers: instances are services.
    Swarm,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Swarm => "swarm",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Docker engine as the node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStatus {
    pub endpoint: String,
    #[serde(default)]
    pub kind: EngineKind,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub error: Option<String>,
}

/// `GET /v1/info`: the node and its engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub version: String,
    pub api_version: u32,
    pub pid: u32,
    pub install_id: String,
    pub ltc_home: String,
    pub started_at: String,
    pub engine: EngineStatus,
    /// Tasks following containers' output.
    #[serde(default)]
    pub log_followers: usize,
    /// Clients following app logs, events or the node's own log.
    #[serde(default)]
    pub stream_subscribers: usize,
}

/// One line of the image preparation stream (`POST /v1/images`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageProgress {
    /// A line of status ("Pulling from library/redis", "Building the built-in image").
    Status { message: String },
    /// Progress of one layer.
    Layer {
        id: String,
        status: String,
        current: u64,
        total: u64,
    },
    /// A line of a build's output (`Step 2/5 : COPY . /app`, what a step printed).
    Output { line: String },
    /// The image is ready.
    Done { image: String },
    /// Preparing the image failed.
    Failed { error: Error },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRequest {
    #[serde(default)]
    pub image: Option<String>,
    /// Build the image from a directory for this app instead.
    #[serde(default)]
    pub build: Option<BuildRequest>,
    #[serde(default)]
    pub app: Option<String>,
}

/// The reply to create: the app and the notes the node made while resolving it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateResponse {
    pub app: AppStatus,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// One line of an app's log stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub app: String,
    /// `APP` (the process), `CELL` (lifecycle), `HEALTH` (monitor), `RTR` (router), `LTC`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    pub message: String,
}

/// One lifecycle event (`ltc events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub time: String,
    /// `app_created`, `app_scaled`, `app_updated`, `app_removed`, `instance_claimed`,
    /// `instance_running`, `instance_crashed`, `instance_stopped`, `route_added`,
    /// `route_removed`.
    pub kind: String,
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    pub message: String,
}

/// The id of the one cell: a single-engine node is one machine.
pub const CELL_ID: &str = "cell-01";

/// A cell: one machine that runs instances (`GET /v1/cells`, `ltc cells`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellInfo {
    pub cell_id: String,
    /// The address its instances' ports answer on.
    pub address: String,
    /// `ready`, `down`, `disconnected` or `unknown`.
    pub state: String,
    /// `active`, `pause` or `drain` (a drained cell runs no instances).
    pub availability: String,
    pub engine: CellEngine,
    pub memory_mb: u64,
    pub cpus: u64,
    /// The filesystem of the engine's root directory; unknown when the engine runs elsewhere.
    pub disk_mb: Option<u64>,
    pub disk_free_mb: Option<u64>,
    pub running_instances: usize,
    pub claimed_instances: usize,
    pub crashed_instances: usize,
    /// Memory the desired instances reserve.
    pub reserved_memory_mb: u64,
}

/// The engine behind a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellEngine {
    /// The engine ltc talks to (a swarm's manager for every cell of the swarm).
    pub endpoint: String,
    pub version: String,
    #[serde(default)]
    pub kind: EngineKind,
}

/// The API's response header carrying the node's state version (waiters pass it back).
pub const VERSION_HEADER: &str = "ltc-version";

/// Set when the engine cannot be reached: the answer is what the node last knew.
pub const ENGINE_ERROR_HEADER: &str = "ltc-engine-error";

/// Crashes restarted at once before backoff begins (Diego: the 1st and 2nd). An instance that
/// has crashed this often is crash-looping, which `--wait` reports instead of waiting on.
pub const IMMEDIATE_RESTARTS: u32 = 3;

/// `GET /v1/health`: the node answers, and with what it was started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    pub ok: bool,
    pub pid: u32,
    /// The router's address (`LTC_ROUTER_ADDR` when the node started).
    #[serde(default)]
    pub router: Option<String>,
    /// The engine's endpoint (`DOCKER_HOST` or the Docker context when the node started).
    #[serde(default)]
    pub engine: Option<String>,
}

/// A one-off task's state, as Lattice named them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    /// Accepted; its container is not running yet.
    Pending,
    Running,
    /// Ended: succeeded, failed or cancelled (`failed` and `failure_reason` say which).
    Completed,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Running => "RUNNING",
            TaskState::Completed => "COMPLETED",
        }
    }
}

/// A one-off task (`ltc submit-task`, `ltc run`): a command in a container of its own, not
/// routed, not monitored, run once. Kept in the node's state until deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_guid: String,
    /// The image as given.
    pub image: String,
    /// What the container runs from.
    pub image_ref: String,
    pub command: Vec<String>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    pub memory_mb: u64,
    pub cpu_weight: u8,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    /// A file in the container whose contents become the task's `result`.
    #[serde(default)]
    pub result_file: Option<String>,
    /// For `ltc run`: the app whose image and settings it runs with.
    #[serde(default)]
    pub app: Option<String>,
    /// The app's volumes, for `ltc run`.
    #[serde(default)]
    pub volumes: Vec<super::Volume>,
    pub state: TaskState,
    pub failed: bool,
    pub failure_reason: String,
    pub result: String,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub container_id: Option<String>,
    pub cell_id: String,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// `ltc run APP -- CMD`: a task with the app's image, environment, user and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    pub command: Vec<String>,
    /// Set or replaced over the app's environment.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// A session attaches to the container's streams before it starts (`ltc run` without
    /// `--detach`); without one the output is read from the task's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<RunAttach>,
}

/// How an `ltc run` session attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAttach {
    /// On a terminal (stdout and stderr are then one stream).
    pub tty: bool,
}

/// The source of the line a task's log ends with: its message says how the task ended.
pub const TASK_END_SOURCE: &str = "TASK";

/// A named volume as `ltc volumes` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeStatus {
    /// The name apps give it (`--volume NAME:/path`).
    pub name: String,
    /// The engine's name of it.
    pub docker_name: String,
    /// Bytes it holds, when the engine says.
    pub size_bytes: Option<u64>,
    /// The apps that mount it.
    pub apps: Vec<String>,
}

/// `ltc ca`: the local certificate authority HTTPS certificates are issued by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaInfo {
    /// The CA's certificate (PEM): what to trust.
    pub cert_path: String,
    /// SHA-256 of the certificate (DER), as browsers show it.
    pub fingerprint_sha256: String,
    /// The CA's last valid day (RFC 3339).
    pub not_after: String,
    /// Where the router serves HTTPS; `None` when it does not (`LTC_ROUTER_TLS_ADDR=off`, or
    /// its port was taken).
    pub https_address: Option<String>,
}
