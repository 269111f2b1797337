//! The long-running node: one per `LTC_HOME`, the only writer of its desired state.
//!
//! It serves the API on a Unix socket ([`api`]), keeps desired state on disk ([`store`]), and
//! converges the engine to it: a loop that lists this home's containers, folds what it sees into
//! the known instances (adopting, noticing crashes and containers removed behind its back), and
//! applies [`converge::plan`]. The loop runs on every engine event, after every operation it
//! started, when a restart backoff ends, and every [`RESYNC_INTERVAL`] (Docker drops events).
//!
//! Stopping the node never stops apps. A node that starts adopts the containers its home made
//! earlier (matched by the home's install id) and converges them.

pub mod api;
pub mod converge;
pub mod health;
pub mod logs;
pub mod probe;
pub mod records;
pub mod resolve;
pub mod store;

use crate::config::{Paths, Settings};
use crate::demo;
use crate::engine::{
    ContainerId, ContainerState, Engine, EngineError, EngineInfo, Observed, PullProgress, labels,
};
use crate::error::{Error, Kind, Result};
use crate::model::{
    self, AppName, AppSpec, AppStatus, CreateRequest, CreateResponse, EngineStatus, ImageProgress,
    InstanceState, InstanceStatus, NodeInfo, RouteStatus, TargetInfo, TcpRouteStatus,
};
use crate::router::table::{AppRoutes, RouteTable};
use crate::router::{DRAIN_TIMEOUT, Router, RouterConfig};
use converge::{Action, Op, Slot};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{DesiredState, NodeConfig};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A full resync runs at least this often, whatever events say.
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// How long the previous node's instance records are kept after start (see
/// `Inner::startup_records`): far longer than the engine takes to create a container.
pub const STARTUP_RECORDS_KEPT: Duration = Duration::from_secs(60);
/// How long a stopping node waits for the starts it has sent to the engine.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// SIGTERM, then SIGKILL after this long (Diego's and Docker's 10 s).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Resource samples are taken at most this often.
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// An engine check younger than this is not repeated (keeps `ltc list` fast).
const ENGINE_CHECK_TTL: Duration = Duration::from_millis(1000);

/// The API version in `/v1/...` paths and in `ltc version`.
pub const API_VERSION: u32 = 1;

/// The node's state behind one mutex. A std mutex: it is never held across an await.
struct Inner {
    config: NodeConfig,
    desired: DesiredState,
    /// Specs of removed apps whose containers are still being stopped.
    removing: BTreeMap<String, AppSpec>,
    slots: Vec<Slot>,
    /// Containers of this home that belong to no slot, being removed.
    strays: HashSet<ContainerId>,
    engine_error: Option<String>,
    /// Bumped whenever a slot's container is set (see [`Slot::container_seq`]).
    seq: u64,
    /// Bumped on every visible change; waiters watch it.
    version: u64,
    /// Host ports handed out recently, so concurrent starts never pick the same one.
    recent_ports: VecDeque<u16>,
    /// The records as last written to `instances.json`.
    records: records::Records,
    /// The records found at start, and until when they are kept. A previous node killed in
    /// the middle of a start leaves a create request in the engine that may finish after
    /// this node's first resync; its container is then known as the previous node's, and
    /// removed, instead of being taken for one ltc did not create.
    startup_records: Option<(records::Records, Instant)>,
    /// Containers with this home's labels that this home did not create: never touched.
    foreign: HashSet<ContainerId>,
}

pub struct Node {
    engine: Arc<dyn Engine>,
    router: Arc<Router>,
    logs: Arc<logs::LogHub>,
    /// Whether this node serves its router (false when only its logic runs, in tests).
    router_serving: std::sync::atomic::AtomicBool,
    /// Tasks following each container's output into the log hub.
    followers: Mutex<HashMap<ContainerId, tokio::task::AbortHandle>>,
    /// The last two resource samples of each container, and when they were taken.
    stats: Mutex<HashMap<ContainerId, (crate::engine::StatsSample, Option<f64>)>>,
    stats_taken: Mutex<Option<Instant>>,
    paths: Paths,
    install_id: String,
    router_addr: SocketAddr,
    started_at: SystemTime,
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
    kick: Notify,
    cancel: CancellationToken,
    /// One build of the built-in image at a time.
    demo_build: tokio::sync::Mutex<()>,
    engine_checked: Mutex<Option<(Instant, EngineInfo)>>,
    tuning: health::Tuning,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

fn new_guid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Refuses a change that would reserve more memory than the machine has (Lattice's placement
/// error, exit 11).
pub fn check_placement(apps: &BTreeMap<String, AppSpec>, memory_bytes: u64) -> Result<()> {
    let reserved_mb: u64 = apps
        .values()
        .map(|app| app.memory_mb * u64::from(app.instances))
        .sum();
    let machine_mb = memory_bytes / (1024 * 1024);
    if machine_mb > 0 && reserved_mb > machine_mb {
        return Err(Error::new(
            Kind::Placement,
            format!(
                "insufficient resources: the apps would reserve {reserved_mb} MB of memory and \
                 this machine has {machine_mb} MB"
            ),
        )
        .with_hint("request fewer instances or less memory (`--memory-mb`)"));
    }
    Ok(())
}

/// `1 instance`, `3 instances`.
fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Logs one line to the node's log (its stderr).
pub fn log(message: impl std::fmt::Display) {
    let line = format!("{} {message}", rfc3339(SystemTime::now()));
    eprintln!("{line}");
    let _ = logs::node_log().send(line);
}

impl Node {
    pub fn new(
        engine: Arc<dyn Engine>,
        settings: &Settings,
        install_id: String,
        config: NodeConfig,
        desired: DesiredState,
        saved: records::Records,
        tuning: health::Tuning,
    ) -> Arc<Node> {
        let slots = restore_crashed(&desired, &saved);
        let hub = Arc::new(logs::LogHub::default());
        let access_log: Arc<dyn crate::router::AccessLog> = hub.clone();
        Arc::new(Node {
            engine,
            router: Router::with_access_log(
                RouterConfig::default(),
                settings.router_addr.ip(),
                Some(access_log),
            ),
            logs: hub,
            router_serving: std::sync::atomic::AtomicBool::new(false),
            followers: Mutex::new(HashMap::new()),
            stats: Mutex::new(HashMap::new()),
            stats_taken: Mutex::new(None),
            paths: settings.paths.clone(),
            install_id,
            router_addr: settings.router_addr,
            started_at: SystemTime::now(),
            inner: Mutex::new(Inner {
                config,
                desired,
                removing: BTreeMap::new(),
                slots,
                strays: HashSet::new(),
                engine_error: None,
                seq: 0,
                version: 0,
                recent_ports: VecDeque::new(),
                records: saved.clone(),
                startup_records: Some((saved, Instant::now() + STARTUP_RECORDS_KEPT)),
                foreign: HashSet::new(),
            }),
            changes: watch::channel(0).0,
            kick: Notify::new(),
            cancel: CancellationToken::new(),
            demo_build: tokio::sync::Mutex::new(()),
            engine_checked: Mutex::new(None),
            tuning,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("node state lock")
    }

    /// Publishes a change: a new route table for the very next request, and a new version
    /// for waiters.
    fn changed(&self, inner: &mut Inner) {
        self.router.set_table(self.route_table(inner));
        self.save_records(inner);
        inner.version += 1;
        self.changes.send_replace(inner.version);
    }

    /// Writes `instances.json` when what it records changed. Called under the state lock, so
    /// a new instance's guid is on disk before its container is created.
    fn save_records(&self, inner: &mut Inner) {
        let now = Instant::now();
        let now_ms = now_millis();
        let instances = inner
            .slots
            .iter()
            .map(|s| records::InstanceRecord {
                guid: s.guid.clone(),
                app: s.app.clone(),
                index: s.index,
                generation: s.generation,
                container: s.container.as_ref().map(|c| c.0.clone()),
                crash_count: s.crash_count,
                next_restart_ms: s
                    .next_restart
                    .map(|at| now_ms + at.saturating_duration_since(now).as_millis() as u64),
                last_error: s.last_error.clone(),
            })
            .collect::<Vec<_>>();
        let unchanged = instances.len() == inner.records.instances.len()
            && instances
                .iter()
                .zip(&inner.records.instances)
                .all(|(a, b)| {
                    (&a.guid, &a.container, a.crash_count) == (&b.guid, &b.container, b.crash_count)
                });
        if unchanged {
            return;
        }
        inner.records.instances = instances;
        if let Err(e) = store::save(&self.paths.instances_file(), &inner.records) {
            log(format!("cannot record instances: {e}"));
        }
    }

    /// Routes of every desired app over its routable instances: RUNNING, of the current
    /// generation, wanted, and not being stopped.
    fn route_table(&self, inner: &Inner) -> RouteTable {
        let apps: Vec<AppRoutes> = inner
            .desired
            .apps
            .values()
            .map(|spec| AppRoutes {
                app: spec.name.to_string(),
                http: spec
                    .routes
                    .http
                    .iter()
                    .map(|r| (r.hostname.clone(), r.port))
                    .collect(),
                tcp: spec
                    .routes
                    .tcp
                    .iter()
                    .map(|r| (r.external_port, r.port))
                    .collect(),
                instances: inner
                    .slots
                    .iter()
                    .filter(|s| {
                        s.app == spec.name.as_str()
                            && s.generation == spec.generation
                            && s.index < spec.instances
                            && s.state == InstanceState::Running
                            && s.op == Op::Idle
                            && s.failures == 0
                    })
                    .map(|s| (s.guid.clone(), s.index, s.ports.clone()))
                    .collect(),
            })
            .collect();
        RouteTable::build(&apps, &inner.config.domain, &self.router.table())
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// Wakes the converger.
    pub fn kick(&self) {
        self.kick.notify_one();
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Asks the node to stop (apps keep running).
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Waits, at most `timeout`, until no instance start is in flight.
    async fn settle_starts(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && self.lock().slots.iter().any(|s| s.op == Op::Starting) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn owner_labels(&self) -> Vec<(String, String)> {
        vec![(labels::INSTALL.to_string(), self.install_id.clone())]
    }

    /// The engine's identity, checked at most once per [`ENGINE_CHECK_TTL`]. Fails with exit
    /// code 15 when the engine cannot be reached.
    pub async fn check_engine(&self) -> Result<EngineInfo> {
        if let Some((at, info)) = self.engine_checked.lock().expect("engine check").as_ref()
            && at.elapsed() < ENGINE_CHECK_TTL
        {
            return Ok(info.clone());
        }
        match self.engine.info().await {
            Ok(info) => {
                *self.engine_checked.lock().expect("engine check") =
                    Some((Instant::now(), info.clone()));
                Ok(info)
            }
            Err(e) => {
                *self.engine_checked.lock().expect("engine check") = None;
                Err(e.into())
            }
        }
    }

    /// The machine's memory for placement: the engine's answer is kept once known (it does
    /// not change), so create and scale add no engine call for it.
    async fn machine_memory(&self) -> Result<u64> {
        if let Some((_, info)) = self.engine_checked.lock().expect("engine check").as_ref() {
            return Ok(info.memory_bytes);
        }
        Ok(self.check_engine().await?.memory_bytes)
    }

    pub async fn info(&self) -> NodeInfo {
        let engine = match self.check_engine().await {
            Ok(info) => EngineStatus {
                endpoint: self.engine.endpoint(),
                version: Some(info.version),
                api_version: Some(info.api_version),
                error: None,
            },
            Err(e) => EngineStatus {
                endpoint: self.engine.endpoint(),
                version: None,
                api_version: None,
                error: Some(e.message),
            },
        };
        NodeInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: API_VERSION,
            pid: std::process::id(),
            install_id: self.install_id.clone(),
            ltc_home: self.paths.home.display().to_string(),
            started_at: rfc3339(self.started_at),
            engine,
            log_followers: self.stream_counts().0,
            stream_subscribers: self.stream_counts().1,
        }
    }

    // ----- target -------------------------------------------------------------------------

    pub fn target(&self) -> TargetInfo {
        let inner = self.lock();
        TargetInfo {
            domain: inner.config.domain.clone(),
            router_address: self.router_addr.to_string(),
            ltc_home: self.paths.home.display().to_string(),
        }
    }

    pub fn set_target(&self, domain: &str) -> Result<TargetInfo> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        model::validate_domain(&domain)?;
        {
            let mut inner = self.lock();
            let config = NodeConfig {
                domain: domain.clone(),
            };
            store::save(&self.paths.config_file(), &config)?;
            inner.config = config;
            self.changed(&mut inner);
        }
        log(format!("target set to {domain}"));
        Ok(self.target())
    }

    // ----- images -------------------------------------------------------------------------

    /// Makes sure the image exists locally: builds the built-in one, pulls any other.
    pub async fn prepare_image(
        &self,
        image: Option<&str>,
        progress: &(dyn Fn(ImageProgress) + Send + Sync),
    ) -> Result<String> {
        if demo::is_builtin(image) {
            self.ensure_demo_image(progress).await?;
            return Ok(demo::image_ref());
        }
        let image = image.unwrap_or_default().trim();
        if image.is_empty() || image.contains(char::is_whitespace) {
            return Err(Error::usage(format!("`{image}` is not an image name")));
        }
        if self.engine.image_config(image).await?.is_some() {
            return Ok(image.to_string());
        }
        progress(ImageProgress::Status {
            message: format!("Pulling image {image}"),
        });
        let forward = |p: PullProgress| {
            progress(match p {
                PullProgress::Status(message) => ImageProgress::Status { message },
                PullProgress::Layer {
                    id,
                    status,
                    current,
                    total,
                } => ImageProgress::Layer {
                    id,
                    status,
                    current,
                    total,
                },
            })
        };
        self.engine.pull_image(image, &forward).await?;
        Ok(image.to_string())
    }

    async fn ensure_demo_image(
        &self,
        progress: &(dyn Fn(ImageProgress) + Send + Sync),
    ) -> Result<()> {
        let _one_build = self.demo_build.lock().await;
        let reference = demo::image_ref();
        if self.engine.image_config(&reference).await?.is_some() {
            return Ok(());
        }
        progress(ImageProgress::Status {
            message: format!("Building the built-in lattice-app image {reference}"),
        });
        let context = demo::build_context()?;
        self.engine.build_image(&reference, context).await?;
        log(format!("built {reference}"));
        Ok(())
    }

    // ----- apps ---------------------------------------------------------------------------

    pub async fn create(&self, request: CreateRequest) -> Result<CreateResponse> {
        let name = AppName::parse(&request.name)?;
        if self.lock().desired.apps.contains_key(name.as_str()) {
            return Err(already_exists(&name));
        }
        let builtin = demo::is_builtin(request.image.as_deref());
        let (image_name, reference) = if builtin {
            let shown = request
                .image
                .clone()
                .unwrap_or_else(|| model::LATTICE_APP_IMAGE.to_string());
            (shown, demo::image_ref())
        } else {
            let image = request.image.clone().unwrap_or_default();
            (image.clone(), image)
        };
        let config = match self.engine.image_config(&reference).await? {
            Some(config) => config,
            None if builtin => {
                self.ensure_demo_image(&|_| {}).await?;
                self.engine
                    .image_config(&reference)
                    .await?
                    .ok_or_else(|| EngineError::ImageNotFound(reference.clone()))?
            }
            None => return Err(EngineError::ImageNotFound(reference).into()),
        };
        let memory = self.machine_memory().await?;

        let (resolved, status) = {
            let mut inner = self.lock();
            if inner.desired.apps.contains_key(name.as_str()) {
                return Err(already_exists(&name));
            }
            let generation = inner.desired.next_generation;
            let resolved = resolve::resolve_create(
                &request,
                resolve::ImageChoice {
                    name: image_name,
                    reference,
                    builtin,
                    config: &config,
                },
                &inner.config.domain,
                generation,
                now_millis(),
            )?;
            self.check_routes(&inner, &resolved.spec)?;
            let mut next = inner.desired.clone();
            next.next_generation += 1;
            next.apps.insert(name.to_string(), resolved.spec.clone());
            check_placement(&next.apps, memory)?;
            store::save(&self.paths.state_file(), &next)?;
            inner.desired = next;
            self.changed(&mut inner);
            let status = self.status_of(&inner, name.as_str()).expect("just created");
            (resolved, status)
        };
        self.wait_for_tcp_routes(&resolved.spec.routes).await?;
        let what = format!(
            "{} of {}",
            plural(resolved.spec.instances, "instance"),
            resolved.spec.image
        );
        log(format!("created {name} ({what})"));
        self.logs
            .event("app_created", name.as_str(), None, None, what);
        self.route_events(
            name.as_str(),
            &model::Routes::default(),
            &resolved.spec.routes,
        );
        self.kick();
        Ok(CreateResponse {
            app: status,
            notes: resolved.notes,
            warnings: resolved.warnings,
        })
    }

    fn check_routes(&self, inner: &Inner, spec: &AppSpec) -> Result<()> {
        for route in &spec.routes.http {
            let taken = inner.desired.apps.values().find(|other| {
                other.name != spec.name
                    && other
                        .routes
                        .http
                        .iter()
                        .any(|r| r.hostname == route.hostname)
            });
            if let Some(other) = taken {
                return Err(Error::conflict(format!(
                    "route `{}` is already used by app `{}`",
                    route.hostname, other.name
                )));
            }
        }
        for route in &spec.routes.tcp {
            if route.external_port == self.router_addr.port() {
                return Err(Error::usage(format!(
                    "TCP route port {} is the router's own HTTP port",
                    route.external_port
                )));
            }
            let taken = inner.desired.apps.values().find(|other| {
                other.name != spec.name
                    && other
                        .routes
                        .tcp
                        .iter()
                        .any(|r| r.external_port == route.external_port)
            });
            if let Some(other) = taken {
                return Err(Error::conflict(format!(
                    "TCP route port {} is already used by app `{}`",
                    route.external_port, other.name
                )));
            }
        }
        Ok(())
    }

    pub async fn scale(&self, name: &str, instances: u32) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        model::validate_instances(instances)?;
        // Scale needs the engine; a cached size would hide an engine that went away.
        let memory = self.check_engine().await?.memory_bytes;
        let status = {
            let mut inner = self.lock();
            if !inner.desired.apps.contains_key(name.as_str()) {
                return Err(Error::app_not_found(name.as_str()));
            }
            let mut next = inner.desired.clone();
            let revision = next.next_generation;
            next.next_generation += 1;
            let spec = next.apps.get_mut(name.as_str()).expect("checked above");
            let growing = instances > spec.instances;
            spec.instances = instances;
            spec.revision = revision;
            if growing {
                check_placement(&next.apps, memory)?;
            }
            store::save(&self.paths.state_file(), &next)?;
            inner.desired = next;
            self.changed(&mut inner);
            self.status_of(&inner, name.as_str()).expect("app exists")
        };
        log(format!("scaled {name} to {instances}"));
        self.logs.event(
            "app_scaled",
            name.as_str(),
            None,
            None,
            plural(instances, "instance"),
        );
        self.kick();
        Ok(status)
    }

    /// Replaces an app's routes, live: no instance restarts, the next request sees them.
    pub async fn update_routes(
        &self,
        name: &str,
        request: model::RouteRequest,
    ) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        if !request.no_routes && request.http_routes.is_empty() && request.tcp_routes.is_empty() {
            return Err(Error::usage(format!(
                "Please enter 'ltc update {name}' followed by at least one of: '--no-routes', \
                 '--http-route' or '--tcp-route' flag."
            )));
        }
        let (before, after);
        let status = {
            let mut inner = self.lock();
            let Some(spec) = inner.desired.apps.get(name.as_str()).cloned() else {
                return Err(Error::app_not_found(name.as_str()));
            };
            let routes = resolve::routes_for(
                &name,
                &inner.config.domain,
                &spec.ports,
                spec.primary_port,
                &request,
            )?;
            before = spec.routes.clone();
            after = routes.clone();
            let mut next = inner.desired.clone();
            let revision = next.next_generation;
            next.next_generation += 1;
            let updated = next.apps.get_mut(name.as_str()).expect("checked above");
            updated.routes = routes;
            updated.revision = revision;
            let updated = updated.clone();
            self.check_routes(&inner, &updated)?;
            store::save(&self.paths.state_file(), &next)?;
            inner.desired = next;
            self.changed(&mut inner);
            self.status_of(&inner, name.as_str()).expect("app exists")
        };
        self.wait_for_tcp_routes(&after).await?;
        log(format!("updated the routes of {name}"));
        self.logs.event(
            "app_updated",
            name.as_str(),
            None,
            None,
            "routes replaced".into(),
        );
        self.route_events(name.as_str(), &before, &after);
        Ok(status)
    }

    pub async fn remove(&self, name: &str) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        self.check_engine().await?;
        let status_routes;
        let status = {
            let mut inner = self.lock();
            let Some(spec) = inner.desired.apps.get(name.as_str()).cloned() else {
                return Err(Error::app_not_found(name.as_str()));
            };
            let mut next = inner.desired.clone();
            next.apps.remove(name.as_str());
            store::save(&self.paths.state_file(), &next)?;
            inner.desired = next;
            status_routes = spec.routes.clone();
            inner.removing.insert(name.to_string(), spec);
            self.changed(&mut inner);
            self.status_of(&inner, name.as_str())
                .expect("still removing")
        };
        log(format!("removing {name}"));
        self.logs
            .event("app_removed", name.as_str(), None, None, "removing".into());
        self.route_events(name.as_str(), &status_routes, &model::Routes::default());
        self.kick();
        Ok(status)
    }

    /// Returns once the router listens on every TCP route of `routes` (the change is then in
    /// effect for the next connection), or says which port could not be opened.
    async fn wait_for_tcp_routes(&self, routes: &model::Routes) -> Result<()> {
        // Without a running router (the node's own tests) there is nothing to wait for.
        if !self
            .router_serving
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let ports: Vec<u16> = routes.tcp.iter().map(|r| r.external_port).collect();
        self.router
            .wait_tcp(&ports, Duration::from_secs(2))
            .await
            .map_err(|missing| {
                Error::failed(format!(
                    "the router could not open TCP route port {}",
                    model::join_ports(&missing)
                ))
                .with_hint(
                    "another program may use it; `ltc update APP -T OTHER:PORT` picks another",
                )
            })
    }

    /// `route_added` and `route_removed` events for a change of an app's routes.
    fn route_events(&self, app: &str, before: &model::Routes, after: &model::Routes) {
        let names = |routes: &model::Routes| -> Vec<String> {
            routes
                .http
                .iter()
                .map(|r| format!("{} => {}", r.hostname, r.port))
                .chain(
                    routes
                        .tcp
                        .iter()
                        .map(|r| format!("tcp {} => {}", r.external_port, r.port)),
                )
                .collect()
        };
        let (old, new) = (names(before), names(after));
        for route in new.iter().filter(|r| !old.contains(r)) {
            self.logs
                .event("route_added", app, None, None, route.clone());
        }
        for route in old.iter().filter(|r| !new.contains(r)) {
            self.logs
                .event("route_removed", app, None, None, route.clone());
        }
    }

    pub fn list(&self) -> (Vec<AppStatus>, u64) {
        let inner = self.lock();
        let names: std::collections::BTreeSet<&String> = inner
            .desired
            .apps
            .keys()
            .chain(inner.removing.keys())
            .collect();
        let apps = names
            .into_iter()
            .filter_map(|name| self.status_of(&inner, name))
            .collect();
        (apps, inner.version)
    }

    pub fn app(&self, name: &str) -> (Option<AppStatus>, u64) {
        let inner = self.lock();
        (self.status_of(&inner, name), inner.version)
    }

    /// Waits until the node's state changes after version `since`, at most `wait`, then
    /// returns the app. Lets the CLI wait for convergence without polling.
    pub async fn watch_app(
        &self,
        name: &str,
        since: Option<u64>,
        wait: Duration,
    ) -> (Option<AppStatus>, u64) {
        if let Some(since) = since {
            let mut changes = self.changes.subscribe();
            if *changes.borrow_and_update() <= since {
                let _ = tokio::time::timeout(wait, changes.changed()).await;
            }
        }
        self.app(name)
    }

    /// The state version: bumped on every visible change.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    pub fn engine_error(&self) -> Option<String> {
        self.lock().engine_error.clone()
    }

    fn status_of(&self, inner: &Inner, name: &str) -> Option<AppStatus> {
        let (spec, removing) = match inner.desired.apps.get(name) {
            Some(spec) => (spec, false),
            None => (inner.removing.get(name)?, true),
        };
        let desired = if removing { 0 } else { spec.instances };
        let mut slots: Vec<&Slot> = inner.slots.iter().filter(|s| s.app == name).collect();
        slots.sort_by_key(|s| (s.index, s.op == Op::Stopping));
        let current = |s: &Slot| {
            !removing
                && s.generation == spec.generation
                && s.index < desired
                && s.op != Op::Stopping
        };
        let stats = self.stats.lock().expect("stats lock");
        let running = slots
            .iter()
            .filter(|s| current(s))
            .filter(|s| s.state == InstanceState::Running)
            .count() as u32;
        let instances = slots
            .iter()
            .map(|slot| InstanceStatus {
                index: slot.index,
                guid: slot.guid.clone(),
                state: slot.state,
                crash_count: slot.crash_count,
                since: rfc3339(slot.since),
                ports: slot.ports.clone(),
                container_id: slot.container.as_ref().map(|c| c.0.clone()),
                next_restart: match (slot.state, slot.next_restart_wall) {
                    (InstanceState::Crashed, Some(at)) => Some(rfc3339(at)),
                    _ => None,
                },
                last_error: slot.last_error.clone(),
                stopping: slot.op == Op::Stopping || !current(slot),
                healthy: slot.failures == 0,
                cpu_percent: slot.container.as_ref().and_then(|id| stats.get(id)?.1),
                memory_bytes: slot
                    .container
                    .as_ref()
                    .and_then(|id| stats.get(id).map(|(sample, _)| sample.memory_bytes)),
            })
            .collect();
        Some(AppStatus {
            name: name.to_string(),
            image: spec.image.clone(),
            builtin: spec.builtin,
            command: spec.effective_command.clone(),
            desired_instances: desired,
            running_instances: running,
            ports: spec.ports.clone(),
            primary_port: spec.primary_port,
            memory_mb: spec.memory_mb,
            disk_mb: spec.disk_mb,
            cpu_weight: spec.cpu_weight,
            user: spec.user.clone(),
            working_dir: spec.working_dir.clone(),
            privileged: spec.privileged,
            env: spec
                .env
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            routes: spec
                .routes
                .http
                .iter()
                .map(|r| RouteStatus {
                    hostname: r.hostname.clone(),
                    port: r.port,
                    url: self.route_url(&r.hostname, &inner.config.domain),
                })
                .collect(),
            tcp_routes: spec
                .routes
                .tcp
                .iter()
                .map(|r| TcpRouteStatus {
                    external_port: r.external_port,
                    port: r.port,
                    address: SocketAddr::new(self.router_addr.ip(), r.external_port).to_string(),
                })
                .collect(),
            monitor: spec.monitor.clone(),
            monitor_timeout_ms: spec.monitor_timeout_ms,
            instances,
            removing,
            generation: spec.generation,
            revision: spec.revision,
            created_at: model::rfc3339_millis(spec.created_at),
        })
    }

    /// The URL that reaches a route from this machine: the public xip.io service no longer
    /// resolves, so `<h>.<domain>` is shown as `<h>.localhost`, which resolves to loopback
    /// without DNS and which the router serves as the same route.
    fn route_url(&self, hostname: &str, domain: &str) -> String {
        let host = match hostname.strip_suffix(&format!(".{domain}")) {
            Some(label) if self.router_addr.ip().is_loopback() => format!("{label}.localhost"),
            _ => hostname.to_string(),
        };
        match self.router_addr.port() {
            80 => format!("http://{host}"),
            port => format!("http://{host}:{port}"),
        }
    }

    // ----- converger ----------------------------------------------------------------------

    /// Runs until the node is cancelled.
    pub async fn converge_loop(self: Arc<Self>) {
        let mut failures: u32 = 0;
        loop {
            let wait = match self.resync().await {
                Ok(()) => {
                    failures = 0;
                    self.apply();
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

    /// Folds the engine's view of this home's containers into the known slots.
    async fn resync(self: &Arc<Self>) -> Result<(), EngineError> {
        let seq_before = self.lock().seq;
        let observed = self.engine.list_instances(&self.owner_labels()).await?;
        let now = Instant::now();
        let mut inner = self.lock();
        let mut dirty = false;
        if inner.engine_error.take().is_some() {
            log("engine: reachable again");
            dirty = true;
        }
        let by_id: HashMap<&ContainerId, &Observed> = observed.iter().map(|o| (&o.id, o)).collect();
        let mut to_clean = Vec::new();
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
            match by_id.get(&id).map(|o| o.state) {
                None => vanished.push(slot.guid.clone()),
                Some(ContainerState::Running) | Some(ContainerState::Other) => {}
                Some(ContainerState::Exited(code)) => {
                    let reason = match code {
                        Some(code) => format!("exited with status {code}"),
                        None => "exited".to_string(),
                    };
                    log(format!("{}/{} crashed: {reason}", slot.app, slot.index));
                    record_crash(slot, reason, now, &self.logs);
                    slot.op = Op::Cleaning;
                    to_clean.push(slot.guid.clone());
                    dirty = true;
                }
                Some(ContainerState::Created) => {
                    record_crash(slot, "its container never started".into(), now, &self.logs);
                    slot.op = Op::Cleaning;
                    to_clean.push(slot.guid.clone());
                    dirty = true;
                }
            }
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

        let mut to_probe = Vec::new();
        let mut to_follow = Vec::new();
        let mut strays = Vec::new();
        for o in &observed {
            let guid = o.labels.get(labels::GUID).cloned().unwrap_or_default();
            let known = inner.slots.iter().any(|s| {
                s.container.as_ref() == Some(&o.id) || (!guid.is_empty() && s.guid == guid)
            });
            if known || inner.strays.contains(&o.id) || inner.foreign.contains(&o.id) {
                continue;
            }
            let record = inner
                .startup_records
                .as_ref()
                .map(|(records, _)| records)
                .filter(|r| r.owns(&guid, &o.id.0))
                .or(Some(&inner.records).filter(|r| r.owns(&guid, &o.id.0)))
                .and_then(|r| r.get(&guid))
                .cloned();
            let Some(record) = record else {
                log(format!(
                    "ignoring container {}: it carries this home's labels but ltc did not create it",
                    o.id.short()
                ));
                inner.foreign.insert(o.id.clone());
                dirty = true;
                continue;
            };
            match adoptable(&inner, o) {
                Some((app, generation, index)) => {
                    let mut slot = Slot::new(&app, generation, index, guid.clone());
                    inner.seq += 1;
                    slot.container_seq = inner.seq;
                    slot.container = Some(o.id.clone());
                    slot.state = InstanceState::Claimed;
                    slot.ports = o.ports.clone();
                    slot.crash_count = record.crash_count;
                    slot.since = UNIX_EPOCH + Duration::from_secs(o.created.max(0) as u64);
                    log(format!("adopted {app}/{index} ({})", o.id.short()));
                    inner.slots.push(slot);
                    to_probe.push(guid);
                    to_follow.push((app.clone(), index, o.id.clone()));
                }
                None => {
                    inner.strays.insert(o.id.clone());
                    strays.push(o.id.clone());
                }
            }
            dirty = true;
        }
        // What the records of the previous node described has now been adopted or removed,
        // but for containers whose creation the engine is still finishing.
        if inner
            .startup_records
            .as_ref()
            .is_some_and(|(_, until)| *until <= now)
        {
            inner.startup_records = None;
        }
        // Removed apps whose last instance is gone are forgotten.
        let with_slots: HashSet<String> = inner.slots.iter().map(|s| s.app.clone()).collect();
        let before = inner.removing.len();
        inner.removing.retain(|name, _| with_slots.contains(name));
        dirty |= inner.removing.len() != before;
        if dirty {
            self.changed(&mut inner);
        }
        drop(inner);
        for guid in to_clean {
            tokio::spawn(self.clone().clean_crashed(guid));
        }
        for guid in to_probe {
            tokio::spawn(self.clone().monitor(guid));
        }
        let now_secs = now_millis() as i64 / 1000;
        for (app, index, id) in to_follow {
            self.follow_output(app, index, id, now_secs);
        }
        for id in strays {
            tokio::spawn(self.clone().remove_stray(id));
        }
        Ok(())
    }

    /// Applies the plan: marks slots and spawns the operations.
    fn apply(self: &Arc<Self>) {
        let mut inner = self.lock();
        let actions = converge::plan(&inner.desired.apps, &inner.slots, Instant::now());
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
                    let existing =
                        replaces.and_then(|old| inner.slots.iter_mut().find(|s| s.guid == old));
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
                    if let Some(slot) = inner.slots.iter_mut().find(|s| s.guid == guid) {
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

    /// Host ports for an instance's container ports, on 127.0.0.1. Chosen here rather than by
    /// Docker so the instance's environment (`CF_INSTANCE_PORT`, `CF_INSTANCE_PORTS`) can name
    /// them; a port taken in between is retried by [`Node::start_instance`].
    fn allocate_ports(&self, container_ports: &[u16]) -> BTreeMap<u16, u16> {
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

    async fn start_instance(self: Arc<Self>, guid: String) {
        let found = {
            let inner = self.lock();
            inner
                .slots
                .iter()
                .find(|s| s.guid == guid)
                .and_then(|slot| {
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
            let ports = self.allocate_ports(&spec.ports);
            let instance = resolve::instance_spec(&spec, index, &guid, &ports, &owner);
            match self.engine.run_instance(&instance).await {
                Ok(id) => {
                    self.finish_start(&guid, Ok((id, ports)));
                    tokio::spawn(self.clone().monitor(guid));
                    return;
                }
                Err(EngineError::PortInUse(_)) => continue,
                Err(EngineError::ImageNotFound(_)) if spec.builtin && attempt == 0 => {
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
    fn finish_start(
        self: &Arc<Self>,
        guid: &str,
        outcome: std::result::Result<(ContainerId, BTreeMap<u16, u16>), Option<String>>,
    ) {
        let mut inner = self.lock();
        inner.seq += 1;
        let seq = inner.seq;
        let Some(slot) = inner.slots.iter_mut().find(|s| s.guid == guid) else {
            return;
        };
        let mut follow = None;
        slot.op = Op::Idle;
        slot.since = SystemTime::now();
        match outcome {
            Ok((id, ports)) => {
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
                follow = Some((slot.app.clone(), slot.index, id.clone()));
                slot.container = Some(id);
                slot.container_seq = seq;
                slot.ports = ports;
                slot.state = InstanceState::Claimed;
                slot.last_error = None;
            }
            Err(None) => slot.state = InstanceState::Unclaimed,
            Err(Some(reason)) => {
                log(format!(
                    "{}/{}: start failed: {reason}",
                    slot.app, slot.index
                ));
                record_crash(slot, reason, Instant::now(), &self.logs);
            }
        }
        // Registered before the lock is released, so a `die` handled right after waits for
        // this follower to read the crash output before the container is removed.
        if let Some((app, index, id)) = follow {
            self.follow_output(app, index, id, 0);
        }
        self.changed(&mut inner);
        drop(inner);
        self.kick();
    }

    /// Follows a container's output into the app's log stream until the container stops.
    /// `since` (Unix seconds) skips what an adopted container wrote before this node.
    fn follow_output(self: &Arc<Self>, app: String, index: u32, id: ContainerId, since: i64) {
        let node = self.clone();
        let key = id.clone();
        let task = tokio::spawn(async move {
            use futures_util::StreamExt;
            if let Ok(mut stream) = node.engine.logs(&id, since).await {
                let mut pending = String::new();
                while let Some(Ok(chunk)) = stream.next().await {
                    pending.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = pending.find('\n') {
                        let line: String = pending.drain(..=end).collect();
                        node.logs.publish(&app, "APP", Some(index), line.trim_end());
                    }
                    if pending.len() > logs::MAX_LINE {
                        node.logs.publish(&app, "APP", Some(index), &pending);
                        pending.clear();
                    }
                }
                if !pending.is_empty() {
                    node.logs
                        .publish(&app, "APP", Some(index), pending.trim_end());
                }
            }
            node.followers.lock().expect("followers lock").remove(&id);
        });
        self.followers
            .lock()
            .expect("followers lock")
            .insert(key, task.abort_handle());
    }

    fn unfollow(&self, id: &ContainerId) {
        if let Some(task) = self.followers.lock().expect("followers lock").remove(id) {
            task.abort();
        }
    }

    /// Output followers and live log or event subscribers, for leak checks.
    pub fn stream_counts(&self) -> (usize, usize) {
        (
            self.followers.lock().expect("followers lock").len(),
            self.logs.followers(),
        )
    }

    pub fn logs(&self) -> &Arc<logs::LogHub> {
        &self.logs
    }

    /// Samples every running container's CPU and memory in the background, at most once a
    /// second. `status` shows the latest samples; CPU needs two, so it appears from the second.
    pub fn refresh_stats(self: &Arc<Self>) {
        {
            let mut taken = self.stats_taken.lock().expect("stats lock");
            if taken.is_some_and(|at| at.elapsed() < STATS_INTERVAL) {
                return;
            }
            *taken = Some(Instant::now());
        }
        let containers: Vec<ContainerId> = self
            .lock()
            .slots
            .iter()
            .filter_map(|s| s.container.clone())
            .collect();
        let node = self.clone();
        tokio::spawn(async move {
            let samples =
                futures_util::future::join_all(containers.iter().map(|id| node.engine.stats(id)))
                    .await;
            let mut stats = node.stats.lock().expect("stats lock");
            let mut next = HashMap::new();
            for (id, sample) in containers.into_iter().zip(samples) {
                let Ok(sample) = sample else { continue };
                let cpu = stats
                    .get(&id)
                    .and_then(|(earlier, _)| sample.cpu_percent_since(earlier));
                next.insert(id, (sample, cpu));
            }
            *stats = next;
        });
    }

    /// A cell's view of this machine, for `ltc cells` (Lattice's one line per cell).
    pub async fn cell(&self) -> Result<serde_json::Value> {
        let info = self.check_engine().await?;
        // The node runs beside the engine: the filesystem of its root directory is the cell's
        // disk (unknown when the engine is elsewhere, e.g. in a VM).
        let disk = info
            .root_dir
            .as_deref()
            .and_then(|dir| fs4::statvfs(dir).ok());
        let inner = self.lock();
        let count = |state: InstanceState| {
            inner
                .slots
                .iter()
                .filter(|s| s.state == state && s.op != Op::Stopping)
                .count()
        };
        Ok(serde_json::json!({
            "cell_id": "cell-01",
            "engine": { "endpoint": self.engine.endpoint(), "version": info.version },
            "memory_mb": info.memory_bytes / (1024 * 1024),
            "cpus": info.cpus,
            "disk_mb": disk.as_ref().map(|d| d.total_space() / (1024 * 1024)),
            "disk_free_mb": disk.as_ref().map(|d| d.available_space() / (1024 * 1024)),
            "running_instances": count(InstanceState::Running),
            "claimed_instances": count(InstanceState::Claimed),
            "crashed_instances": count(InstanceState::Crashed),
            "reserved_memory_mb": inner.desired.apps.values().map(|a| a.memory_mb * u64::from(a.instances)).sum::<u64>(),
        }))
    }

    /// Watches one instance with its app's monitor for as long as it lives: quickly while it
    /// starts (CLAIMED → RUNNING on the first pass), then every liveness interval (out of the
    /// routes on a failure, a crash after the threshold; see [`health`]).
    async fn monitor(self: Arc<Self>, guid: String) {
        let mut attempt = 0;
        loop {
            let target = {
                let inner = self.lock();
                inner
                    .slots
                    .iter()
                    .find(|s| {
                        s.guid == guid
                            && s.op == Op::Idle
                            && matches!(s.state, InstanceState::Claimed | InstanceState::Running)
                    })
                    .and_then(|slot| {
                        let spec = inner.desired.apps.get(&slot.app)?;
                        Some((
                            slot.state,
                            slot.container.clone()?,
                            slot.ports.clone(),
                            spec.monitor.clone(),
                            Duration::from_millis(spec.monitor_timeout_ms.max(1)),
                        ))
                    })
            };
            let Some((state, container, ports, monitor, timeout)) = target else {
                return;
            };
            let result =
                health::check(self.engine.as_ref(), &monitor, &container, &ports, timeout).await;
            let crashed = {
                let mut inner = self.lock();
                let threshold = self.tuning.failure_threshold;
                let Some(slot) = inner
                    .slots
                    .iter_mut()
                    .find(|s| s.guid == guid && s.op == Op::Idle && s.state == state)
                else {
                    return;
                };
                // An image without a shell never passes a command monitor: no point waiting.
                let hopeless = matches!(&result, Err(reason) if reason == health::NO_SHELL);
                let (verdict, failures) = if hopeless {
                    (health::Verdict::Crash, threshold)
                } else {
                    health::judge(state, slot.failures, result.is_ok(), threshold)
                };
                slot.failures = failures;
                let reason = result.err();
                let mut visible = false;
                match verdict {
                    health::Verdict::BecameRunning => {
                        self.logs.publish(
                            &slot.app,
                            "HEALTH",
                            Some(slot.index),
                            "healthcheck passed",
                        );
                        self.logs.event(
                            "instance_running",
                            &slot.app,
                            Some(slot.index),
                            Some(&slot.guid),
                            "healthy and routed".into(),
                        );
                        slot.state = InstanceState::Running;
                        slot.since = SystemTime::now();
                        slot.running_since = Some(Instant::now());
                        slot.last_error = None;
                        visible = true;
                    }
                    health::Verdict::StillStarting | health::Verdict::Healthy => {
                        if slot.last_error != reason && state == InstanceState::Claimed {
                            if let Some(reason) = &reason {
                                self.logs.publish(
                                    &slot.app,
                                    "HEALTH",
                                    Some(slot.index),
                                    &format!("healthcheck failed: {reason}"),
                                );
                            }
                            slot.last_error = reason;
                            visible = true;
                        }
                    }
                    health::Verdict::Recovered => {
                        log(format!("{}/{} is healthy again", slot.app, slot.index));
                        self.logs.publish(
                            &slot.app,
                            "HEALTH",
                            Some(slot.index),
                            "healthcheck passed",
                        );
                        slot.last_error = None;
                        visible = true;
                    }
                    health::Verdict::Unhealthy => {
                        let reason = reason.unwrap_or_default();
                        log(format!(
                            "{}/{} failed its monitor ({failures}/{threshold}): {reason}; out of the routes",
                            slot.app, slot.index
                        ));
                        self.logs.publish(
                            &slot.app,
                            "HEALTH",
                            Some(slot.index),
                            &format!("healthcheck failed ({failures}/{threshold}): {reason}"),
                        );
                        slot.last_error = Some(reason);
                        visible = true;
                    }
                    health::Verdict::Crash => {
                        let reason = format!(
                            "failed its monitor {failures} times: {}",
                            reason.unwrap_or_default()
                        );
                        log(format!("{}/{} crashed: {reason}", slot.app, slot.index));
                        record_crash(slot, reason, Instant::now(), &self.logs);
                        slot.op = Op::Cleaning;
                        visible = true;
                    }
                }
                let crashed = verdict == health::Verdict::Crash;
                if visible {
                    self.changed(&mut inner);
                }
                crashed
            };
            if crashed {
                tokio::spawn(self.clone().clean_crashed(guid));
                return;
            }
            let delay = match state {
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

    /// Stops an instance that is already out of the route table: its in-flight requests
    /// finish first (bounded), then SIGTERM, then SIGKILL after the grace period.
    async fn stop_instance(self: Arc<Self>, guid: String) {
        let container = {
            let inner = self.lock();
            inner
                .slots
                .iter()
                .find(|s| s.guid == guid)
                .and_then(|s| s.container.clone())
        };
        self.router.drain(&guid, DRAIN_TIMEOUT).await;
        if let Some(id) = &container {
            self.unfollow(id);
        }
        if let Some(id) = container
            && let Err(e) = self.engine.remove_instance(&id, STOP_GRACE).await
        {
            log(format!("cannot stop {}: {e}", id.short()));
            let mut inner = self.lock();
            if let Some(slot) = inner.slots.iter_mut().find(|s| s.guid == guid) {
                slot.op = Op::Idle;
            }
            return;
        }
        let mut inner = self.lock();
        if let Some(slot) = inner.slots.iter().find(|s| s.guid == guid) {
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
        let with_slots: HashSet<String> = inner.slots.iter().map(|s| s.app.clone()).collect();
        inner.removing.retain(|name, _| with_slots.contains(name));
        self.changed(&mut inner);
    }

    /// Removes the exited container of a crashed instance; the plan restarts it when due.
    async fn clean_crashed(self: Arc<Self>, guid: String) {
        let container = {
            let inner = self.lock();
            inner
                .slots
                .iter()
                .find(|s| s.guid == guid)
                .and_then(|s| s.container.clone())
        };
        // Its last lines (usually why it crashed) are read before the container goes.
        if let Some(id) = &container {
            let deadline = Instant::now() + Duration::from_millis(500);
            while self
                .followers
                .lock()
                .expect("followers lock")
                .contains_key(id)
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            self.unfollow(id);
        }
        if let Some(id) = container
            && let Err(e) = self.engine.remove_instance(&id, Duration::ZERO).await
        {
            log(format!(
                "cannot remove crashed container {}: {e}",
                id.short()
            ));
        }
        let mut inner = self.lock();
        if let Some(slot) = inner.slots.iter_mut().find(|s| s.guid == guid) {
            slot.container = None;
            slot.ports.clear();
            slot.op = Op::Idle;
        }
        self.changed(&mut inner);
        drop(inner);
        self.kick();
    }

    async fn remove_stray(self: Arc<Self>, id: ContainerId) {
        log(format!(
            "removing container {} (not wanted by any app)",
            id.short()
        ));
        if let Err(e) = self.engine.remove_instance(&id, STOP_GRACE).await {
            log(format!("cannot remove {}: {e}", id.short()));
        }
        self.lock().strays.remove(&id);
    }

    /// Acts on what an event says by itself: a `die` of a watched instance is a crash, a
    /// `destroy` of one the node did not remove is an instance to replace. Docker's container
    /// list can still show a dead container as running when `die` arrives.
    fn on_event(self: &Arc<Self>, event: &crate::engine::EngineEvent) {
        let mut inner = self.lock();
        let Some(slot) = inner
            .slots
            .iter_mut()
            .find(|s| s.container.as_ref() == Some(&event.id) && s.op == Op::Idle)
        else {
            return;
        };
        match event.action.as_str() {
            "die" if slot.state != InstanceState::Crashed => {
                let reason = match event.exit_code {
                    Some(code) => format!("exited with status {code}"),
                    None => "exited".to_string(),
                };
                log(format!("{}/{} crashed: {reason}", slot.app, slot.index));
                record_crash(slot, reason, Instant::now(), &self.logs);
                slot.op = Op::Cleaning;
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

fn already_exists(name: &AppName) -> Error {
    Error::conflict(format!("app `{name}` already exists")).with_hint(format!(
        "`ltc scale {name} N` changes its instances; `ltc remove {name}` removes it"
    ))
}

/// Whether an unknown container of this home can fill a slot: its app is desired with its
/// generation, its index is wanted and free, and it runs. Returns (app, generation, index).
fn adoptable(inner: &Inner, observed: &Observed) -> Option<(String, u64, u32)> {
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
    (spec.generation == generation && index < spec.instances && !taken)
        .then(|| (app.clone(), generation, index))
}

fn record_crash(slot: &mut Slot, reason: String, now: Instant, hub: &logs::LogHub) {
    slot.failures = 0;
    let ran = slot
        .running_since
        .map(|since| now.saturating_duration_since(since));
    slot.crash_count = converge::next_crash_count(slot.crash_count, ran);
    slot.state = InstanceState::Crashed;
    slot.since = SystemTime::now();
    slot.running_since = None;
    slot.last_error = Some(reason);
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

/// Crashed instances waiting for their restart, as the previous node recorded them, so their
/// crash count and backoff survive a restart of the node.
fn restore_crashed(desired: &DesiredState, saved: &records::Records) -> Vec<Slot> {
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
            let mut slot = Slot::new(&r.app, r.generation, r.index, r.guid.clone());
            slot.state = InstanceState::Crashed;
            slot.crash_count = r.crash_count;
            slot.last_error = r.last_error.clone();
            if let Some(due) = r.next_restart_ms {
                let wait = Duration::from_millis(due.saturating_sub(now_ms));
                slot.next_restart = Some(now + wait);
                slot.next_restart_wall = Some(SystemTime::now() + wait);
            }
            slot
        })
        .collect()
}

/// Runs the node in this process until SIGTERM, SIGINT or `ltc daemon stop`.
pub async fn run(settings: &Settings, engine: Arc<dyn Engine>) -> Result<()> {
    let paths = &settings.paths;
    store::ensure_home(&paths.home)?;
    let lock_path = paths.lock_file();
    let mut lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| Error::fs(format!("cannot open `{}`: {e}", lock_path.display())))?;
    if let Err(std::fs::TryLockError::WouldBlock) = lock.try_lock() {
        let pid = std::fs::read_to_string(&lock_path).unwrap_or_default();
        return Err(Error::conflict(format!(
            "a node is already running for `{}` (pid {})",
            paths.home.display(),
            pid.trim()
        ))
        .with_hint("`ltc daemon stop` stops it"));
    }
    {
        use std::io::Write;
        lock.set_len(0)
            .and_then(|()| write!(lock, "{}", std::process::id()))
            .map_err(|e| Error::fs(format!("cannot write `{}`: {e}", lock_path.display())))?;
    }
    let router_listener = tokio::net::TcpListener::bind(settings.router_addr)
        .await
        .map_err(|e| {
            Error::config(format!(
                "the router cannot listen on {}: {e}",
                settings.router_addr
            ))
            .with_hint("set LTC_ROUTER_ADDR to a free address, e.g. 127.0.0.1:8081")
        })?;
    let config: NodeConfig = store::load(&paths.config_file())?;
    let desired: DesiredState = store::load(&paths.state_file())?;
    let install_id = store::install_id(&paths.install_id_file())?;
    let saved: records::Records = store::load(&paths.instances_file())?;
    let node = Node::new(
        engine,
        settings,
        install_id,
        config,
        desired,
        saved,
        health::Tuning::default(),
    );

    let socket = paths.socket();
    match std::fs::remove_file(&socket) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::fs(format!(
                "cannot remove `{}`: {e}",
                socket.display()
            )));
        }
    }
    let listener = tokio::net::UnixListener::bind(&socket)
        .map_err(|e| Error::fs(format!("cannot listen on `{}`: {e}", socket.display())))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::fs(format!("cannot protect `{}`: {e}", socket.display())))?;
    }
    log(format!(
        "ltc node {} started (pid {}, home {}, engine {}, router {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        paths.home.display(),
        node.engine.endpoint(),
        settings.router_addr
    ));

    let cancel = node.cancel_token();
    let signals = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = cancel.cancelled() => return,
            }
            cancel.cancel();
        }
    });
    let converger = tokio::spawn(node.clone().converge_loop());
    let events = tokio::spawn(node.clone().watch_events());
    let http = tokio::spawn(crate::router::http::serve(
        node.router.clone(),
        router_listener,
        cancel.clone(),
    ));
    let tcp = tokio::spawn(crate::router::tcp::serve(
        node.router.clone(),
        cancel.clone(),
    ));
    node.router_serving
        .store(true, std::sync::atomic::Ordering::SeqCst);
    api::serve(node.clone(), listener, cancel.clone()).await;
    cancel.cancel();
    let _ = tokio::join!(converger, events, signals, http, tcp);
    // Containers the engine is creating for this node finish and are recorded, so the next
    // node adopts or removes them; otherwise they would appear after this one is gone.
    node.settle_starts(SETTLE_TIMEOUT).await;
    let _ = std::fs::remove_file(&socket);
    log("ltc node stopped; apps keep running");
    drop(lock);
    Ok(())
}

#[cfg(test)]
mod tests;
