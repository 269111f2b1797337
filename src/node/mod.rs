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
mod apps;
pub mod context;
pub mod converge;
mod daemon;
mod edge;
mod handover;
pub mod health;
mod images;
mod instance;
pub mod logs;
mod metrics;
mod patch;
pub mod probe;
pub mod records;
pub mod resolve;
mod rollout;
mod sessions;
mod status;
pub mod store;
mod sync;
pub mod tasks;
mod view;
mod volumes;

pub use apps::check_placement;
pub use daemon::run;
pub use store::engine_for;

use crate::config::{Paths, Settings};
use crate::engine::{ContainerId, Engine, EngineInfo, labels};
use crate::error::Result;
use crate::logging::{log, now_millis};
use crate::model::{AppSpec, InstanceState};
use crate::router::table::AppRoutes;
use crate::router::{Router, RouterConfig};
use converge::{Op, Slot};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{DesiredState, NodeConfig};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The router says "starting" for an app with no routable instance until the node's first
/// resync has adopted its instances and checked them, or for at most this long.
pub const STARTUP_GRACE: Duration = Duration::from_secs(10);

/// A full resync runs at least this often, whatever events say.
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(5);
/// How long records of creates the previous node sent are kept after start (see
/// `Inner::pending`), and how long removed containers are remembered: far longer than the
/// engine takes to create or list a container.
pub const STARTUP_RECORDS_KEPT: Duration = Duration::from_secs(60);
/// How long a stopping node waits for the starts it has sent to the engine.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a crashed instance's output follower may take to read its last lines before the
/// container is removed. The container has stopped, so the read ends by itself; on a busy
/// machine it can take more than a moment, and those lines are why it crashed.
pub(crate) const CRASH_OUTPUT_WAIT: Duration = Duration::from_secs(3);

/// Without a monitor, an instance is RUNNING once its process has stayed up this long.
pub const NO_MONITOR_GRACE: Duration = Duration::from_secs(1);

/// SIGTERM, then SIGKILL after this long (Diego's and Docker's 10 s).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Resource samples are taken at most this often.
pub(crate) const STATS_INTERVAL: Duration = Duration::from_secs(1);

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
    /// Records of containers this home made that no slot accounts for yet: the previous
    /// node's (until adopted or removed), and crashed containers whose removal failed. They
    /// are written with the slots' records, so a node killed before it resolved them leaves
    /// them to the next one instead of losing them (a lost record makes a container foreign,
    /// left forever). A record without a container id is a create the previous node sent and
    /// may finish after this node's first resync: kept until `pending_creates_until`.
    pending: Vec<records::InstanceRecord>,
    pending_creates_until: Instant,
    /// Containers this node removed lately: a container list taken before the removal still
    /// shows them, and they are not to be taken for containers ltc did not create.
    removed: HashMap<ContainerId, Instant>,
    /// Containers with this home's labels that this home did not create: never touched.
    foreign: HashSet<ContainerId>,
}

impl Inner {
    /// The instance with this guid, if the node still knows it.
    fn slot(&self, guid: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.guid == guid)
    }

    fn slot_mut(&mut self, guid: &str) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.guid == guid)
    }

    /// What runs in an instance: its app's spec of the instance's generation.
    fn run_of(&self, slot: &Slot) -> Option<&crate::model::RunSpec> {
        let spec = self.desired.apps.get(&slot.app)?;
        Some(spec.run_of(slot.generation))
    }

    /// How long a new instance has to pass its first check (its start timeout).
    fn start_timeout(&self, slot: &Slot) -> Duration {
        self.run_of(slot)
            .map_or(crate::model::DEFAULT_START_TIMEOUT, |run| {
                Duration::from_millis(run.start_timeout_ms)
            })
    }

    /// Whether a slot accounts for this record: the same guid, and the same container when
    /// the record names one.
    fn accounts_for(&self, record: &records::InstanceRecord) -> bool {
        self.slots.iter().any(|s| {
            s.guid == record.guid
                && record
                    .container
                    .as_ref()
                    .is_none_or(|c| s.container.as_ref().is_some_and(|id| id.0 == *c))
        })
    }

    /// Remembers a container this node removed (or found removed).
    fn note_removed(&mut self, id: &ContainerId) {
        self.pending
            .retain(|r| r.container.as_deref() != Some(id.0.as_str()));
        self.removed.insert(id.clone(), Instant::now());
    }
}

pub struct Node {
    engine: Arc<dyn Engine>,
    router: Arc<Router>,
    logs: Arc<logs::LogHub>,
    /// Whether this node serves its router (false when only its logic runs, in tests).
    router_serving: std::sync::atomic::AtomicBool,
    /// Tasks following each container's output into the log hub.
    followers: Mutex<HashMap<ContainerId, tokio::task::JoinHandle<()>>>,
    /// The last two resource samples of each container, and when they were taken.
    stats: Mutex<HashMap<ContainerId, (crate::engine::StatsSample, Option<f64>)>>,
    stats_taken: Mutex<Option<Instant>>,
    paths: Paths,
    install_id: String,
    router_addr: SocketAddr,
    /// Where HTTPS is asked for (it may still be off: see `Router::https_socket`).
    router_tls_addr: Option<SocketAddr>,
    started_at: SystemTime,
    /// When this node started (monotonic).
    started: Instant,
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
    kick: Notify,
    cancel: CancellationToken,
    /// Apps being removed whose named volumes go with them (`remove --volumes`).
    remove_volumes: Mutex<HashSet<String>>,
    /// Set while the router serves the table the previous node handed over: this node's
    /// own (from its state, before its instances are adopted and checked) is not published
    /// until it knows as much.
    inherited: std::sync::atomic::AtomicBool,
    /// Set once the first resync with the engine is done.
    resynced: std::sync::atomic::AtomicBool,
    /// Tasks whose start is in flight.
    task_starts: Mutex<HashSet<String>>,
    /// `ltc run` tasks whose container waits for its session to attach.
    held_runs: Mutex<HashMap<String, sessions::Held>>,
    /// Tasks whose end is being recorded.
    tasks_finishing: Mutex<HashSet<String>>,
    /// Tasks whose output this node has followed (once each).
    tasks_followed: Mutex<HashSet<String>>,
    /// One build of the built-in image at a time.
    demo_build: tokio::sync::Mutex<()>,
    engine_checked: Mutex<Option<(Instant, EngineInfo)>>,
    tuning: health::Tuning,
}

/// What a node restores from its home.
pub struct Stored {
    pub install_id: String,
    pub config: NodeConfig,
    pub desired: DesiredState,
    pub saved: records::Records,
}

pub(crate) fn new_guid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `1 instance`, `3 instances`.
pub(crate) fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
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
        let (router, hub) = Node::router_for(settings);
        Node::with_router(
            engine,
            settings,
            Stored {
                install_id,
                config,
                desired,
                saved,
            },
            (router, hub, CancellationToken::new()),
            tuning,
        )
    }

    /// The router a node serves with, and the log hub its access lines go to.
    pub fn router_for(settings: &Settings) -> (Arc<Router>, Arc<logs::LogHub>) {
        let hub = Arc::new(logs::LogHub::default());
        let access_log: Arc<dyn crate::router::AccessLog> = hub.clone();
        let config = RouterConfig {
            max_pending_per_instance: settings.router_max_conns,
            ..RouterConfig::default()
        };
        let router = Router::with_access_log(config, settings.router_addr.ip(), Some(access_log));
        (router, hub)
    }

    /// A node around a router that may already serve (handed over by the previous node), with
    /// the token that stops them both.
    fn with_router(
        engine: Arc<dyn Engine>,
        settings: &Settings,
        stored: Stored,
        (router, hub, cancel): (Arc<Router>, Arc<logs::LogHub>, CancellationToken),
        tuning: health::Tuning,
    ) -> Arc<Node> {
        let Stored {
            install_id,
            config,
            desired,
            saved,
        } = stored;
        let slots = sync::restore_crashed(&desired, &saved);
        Arc::new(Node {
            engine,
            router,
            logs: hub,
            router_serving: std::sync::atomic::AtomicBool::new(false),
            followers: Mutex::new(HashMap::new()),
            stats: Mutex::new(HashMap::new()),
            stats_taken: Mutex::new(None),
            paths: settings.paths.clone(),
            install_id,
            router_addr: settings.router_addr,
            router_tls_addr: settings.router_tls_addr,
            started_at: SystemTime::now(),
            started: Instant::now(),
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
                pending: saved.instances.clone(),
                records: saved,
                pending_creates_until: Instant::now() + STARTUP_RECORDS_KEPT,
                removed: HashMap::new(),
                foreign: HashSet::new(),
            }),
            changes: watch::channel(0).0,
            kick: Notify::new(),
            cancel,
            inherited: std::sync::atomic::AtomicBool::new(false),
            resynced: std::sync::atomic::AtomicBool::new(false),
            task_starts: Mutex::new(HashSet::new()),
            held_runs: Mutex::new(HashMap::new()),
            remove_volumes: Mutex::new(HashSet::new()),
            tasks_followed: Mutex::new(HashSet::new()),
            tasks_finishing: Mutex::new(HashSet::new()),
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
        if self.own_table(inner) {
            self.router
                .publish(&inner.config.domain, &self.routes(inner));
        }
        self.save_records(inner);
        inner.version += 1;
        self.changes.send_replace(inner.version);
    }

    /// Publishes the routes as the state says now.
    fn publish_routes(&self) {
        let inner = self.lock();
        if self.own_table(&inner) {
            self.router
                .publish(&inner.config.domain, &self.routes(&inner));
        }
    }

    /// Whether this node's own table is to be published: always, unless it serves a handed
    /// over one and has not yet adopted and checked its instances (or waited long enough).
    fn own_table(&self, inner: &Inner) -> bool {
        use std::sync::atomic::Ordering;
        if !self.inherited.load(Ordering::SeqCst) {
            return true;
        }
        let adopting = inner
            .slots
            .iter()
            .any(|s| s.state == InstanceState::Claimed && s.op == Op::Idle);
        let known = self.resynced.load(Ordering::SeqCst) && !adopting;
        if known || self.started.elapsed() >= STARTUP_GRACE {
            self.inherited.store(false, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// Makes `next` the desired state: saved to `state.json` first (a change that cannot be
    /// saved is not made), then published.
    fn commit(&self, inner: &mut Inner, next: DesiredState) -> Result<()> {
        store::save(&self.paths.state_file(), &next)?;
        inner.desired = next;
        self.changed(inner);
        Ok(())
    }

    /// Forgets removed apps whose last instance is gone, and their log lines. True when any
    /// was forgotten.
    fn forget_removed(self: &Arc<Self>, inner: &mut Inner) -> bool {
        let with_slots: HashSet<String> = inner.slots.iter().map(|s| s.app.clone()).collect();
        let gone: Vec<String> = inner
            .removing
            .keys()
            .filter(|name| !with_slots.contains(*name))
            .cloned()
            .collect();
        for name in &gone {
            if let Some(spec) = inner.removing.remove(name) {
                // Its containers are gone: the names of its revisions' images can go too, and
                // its named volumes when the removal asked for them.
                let images = rollout::image_names(&self.install_id, &spec);
                let with_volumes = self
                    .remove_volumes
                    .lock()
                    .expect("remove volumes lock")
                    .remove(name);
                let node = self.clone();
                tokio::spawn(async move {
                    rollout::release_images(node.engine.as_ref(), images).await;
                    if with_volumes {
                        node.release_volumes(spec.run.volumes.clone()).await;
                    }
                });
            }
            self.logs.forget(name);
        }
        !gone.is_empty()
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
                last_crash: s.last_crash.as_ref().map(|(reason, at)| {
                    let at_ms = at
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    (reason.clone(), at_ms)
                }),
                starting: s.op == Op::Starting,
            })
            .chain(
                inner
                    .pending
                    .iter()
                    .filter(|r| !inner.accounts_for(r))
                    .cloned(),
            )
            .collect::<Vec<_>>();
        let unchanged = instances.len() == inner.records.instances.len()
            && instances
                .iter()
                .zip(&inner.records.instances)
                .all(|(a, b)| {
                    (&a.guid, &a.container, a.crash_count, a.starting)
                        == (&b.guid, &b.container, b.crash_count, b.starting)
                });
        if unchanged {
            return;
        }
        inner.records.instances = instances;
        if let Err(e) = store::save(&self.paths.instances_file(), &inner.records) {
            log(format!("cannot record instances: {e}"));
        }
    }

    /// Routes of every desired app over its routable instances: RUNNING, healthy, wanted, and
    /// not being stopped.
    fn routes(&self, inner: &Inner) -> Vec<AppRoutes> {
        inner
            .desired
            .apps
            .values()
            .map(|spec| {
                // Old and new instances both serve while a rollout replaces them.
                let serving: Vec<&Slot> = inner
                    .slots
                    .iter()
                    .filter(|s| {
                        s.app == spec.name.as_str()
                            && s.index < spec.instances
                            && spec.owns_generation(s.generation)
                            && s.serves()
                    })
                    .collect();
                AppRoutes {
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
                    instances: serving
                        .iter()
                        .map(|s| (s.guid.clone(), s.index, s.ports.clone()))
                        .collect(),
                    addresses: serving
                        .iter()
                        .filter(|s| !s.placement.address.is_loopback())
                        .map(|s| (s.guid.clone(), s.placement.address))
                        .collect(),
                    response_timeout_ms: Some(spec.edge.response_timeout_ms()),
                    redirect_https: spec.edge.redirect_https,
                }
            })
            .collect()
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

    /// Waits, at most `timeout`, until no instance or task start is in flight.
    async fn settle_starts(&self, timeout: Duration) {
        let mut changes = self.changes.subscribe();
        let settled = async {
            loop {
                changes.borrow_and_update();
                // Checked after marking the version seen, so a start that ends in between
                // wakes the wait below.
                let instances = self.lock().slots.iter().any(|s| s.op == Op::Starting);
                let tasks = !self
                    .task_starts
                    .lock()
                    .expect("task starts lock")
                    .is_empty();
                if !instances && !tasks {
                    return;
                }
                // A task start ends after its last change: looked at again shortly.
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        };
        let _ = tokio::time::timeout(timeout, settled).await;
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
}

#[cfg(test)]
mod tests;
