//! The router: an HTTP reverse proxy (HTTP/1.1 and h2c to clients, HTTP/1.1 to instances) and
//! a TCP proxy, both round-robin over an app's routable instances, in the node's process.
//!
//! - [`table`]: the route table, a plain value the node rebuilds on every change.
//! - [`body`]: request bodies on a clock (idle and total timeouts).
//! - [`headers`]: hop-by-hop stripping and forwarding headers.
//! - [`http`]: the HTTP proxy: Host rules, retries, errors, upgrades.
//! - [`connections`]: keep-alive connections to instances, one set per router thread.
//! - [`sniff`]: telling h2c from HTTP/1.1 by a connection's first bytes.
//! - [`tcp`]: TCP routes: one listener per external port.
//!
//! Every limit and timeout is a named constant in [`RouterConfig`]'s defaults, with a test.

pub mod body;
pub mod connections;
mod dashboard;
pub mod headers;
pub mod http;
pub mod listen;
pub mod metrics;
mod own;
pub mod refusal;
mod sniff;
mod splice;
pub mod sticky;
pub mod table;
pub mod tcp;
pub mod tls;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use table::{AppRoutes, Backend, RouteTable};
use tokio::sync::watch;

/// Client header read timeout. hyper enforces none unless a timer is set. For HTTP/1 it is
/// also the idle keep-alive timeout: hyper's timer runs while a kept-alive connection waits
/// for its next request head.
pub const CLIENT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) accepted; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most request headers accepted; more gets 431.
pub const MAX_HEADERS: usize = 100;
/// Connecting to an instance on loopback: a second is generous.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest pause between two chunks of a request body; then 408.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A body kept for a retry (at most [`MAX_REPLAY_BODY`]) must arrive whole within this; it is
/// read before anything is sent to an instance.
pub const REPLAY_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a streamed request body may take, all told.
pub const STREAM_BODY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// A request waiting this long for its response looks again whether its instance was
/// abandoned (it failed its monitor, e.g. it is frozen), and if so is retried elsewhere when
/// that is safe. Fast responses never see this timer fire.
pub const ABANDON_POLL: Duration = Duration::from_secs(1);
/// How long an instance may take to start its response, unless its app says otherwise
/// (`--response-timeout`); then 504. gorouter's default.
pub const RESPONSE_HEADER_TIMEOUT: Duration = Duration::from_secs(900);
/// Idle pooled connections to instances are closed after this long (hyper-util's default).
pub const BACKEND_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Attempts per request, each on a different instance (gorouter's `max_attempts`).
pub const MAX_ATTEMPTS: usize = 3;
/// Router threads, each with its own event loop and backend connections (as nginx's workers):
/// a request never changes threads, which keeps futex wake-ups off the hot path.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
/// Request bodies up to this size (with a Content-Length) are kept so a failed dial can be
/// retried; larger and chunked bodies stream through once and are not retried.
pub const MAX_REPLAY_BODY: u64 = 64 * 1024;
/// How long a request whose every instance refuses connections keeps trying before its 502:
/// long enough to ride out the engine's port proxy restarting (an engine restart with
/// live-restore), short enough that a dead app still fails fast.
pub const DIAL_RETRY_BUDGET: Duration = Duration::from_secs(3);

/// Requests one instance may be working on at once (sent, not yet answered with a response
/// head); more wait in the router for a place, up to [`QUEUE_TIMEOUT`], then 503.
/// gorouter's `backends.max_conns` default. Keeps a flood of concurrent requests (an h2load
/// run's thousands of streams) from opening as many connections to an app as it has clients.
pub const MAX_PENDING_PER_INSTANCE: usize = 500;
/// How long a request may wait for an instance below its limit (never longer than its
/// response may take); then 503. Past this the app is overloaded, not busy for a moment.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stopping router lets the requests in flight finish before it exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a stopping instance's in-flight requests may take before it is stopped anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The router's own hostname on this machine (and `ltc.<domain>`): no app may route it.
pub const RESERVED_HOST_LOCALHOST: &str = "ltc.localhost";

/// The router's limits and timeouts; tests shorten them.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub client_header_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub replay_body_timeout: Duration,
    pub stream_body_timeout: Duration,
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub dial_timeout: Duration,
    pub response_header_timeout: Duration,
    pub backend_idle_timeout: Duration,
    pub max_attempts: usize,
    pub workers: usize,
    pub shutdown_grace: Duration,
    /// How long a request may wait, trying again, while every instance of its app refuses
    /// connections (0: answer 502 at once).
    pub dial_retry_budget: Duration,
    /// Requests one instance may be working on at once (0: no limit).
    pub max_pending_per_instance: usize,
    pub queue_timeout: Duration,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            client_header_timeout: CLIENT_HEADER_TIMEOUT,
            body_idle_timeout: BODY_IDLE_TIMEOUT,
            replay_body_timeout: REPLAY_BODY_TIMEOUT,
            stream_body_timeout: STREAM_BODY_TIMEOUT,
            max_head_bytes: MAX_HEAD_BYTES,
            max_headers: MAX_HEADERS,
            dial_timeout: DIAL_TIMEOUT,
            response_header_timeout: RESPONSE_HEADER_TIMEOUT,
            backend_idle_timeout: BACKEND_IDLE_TIMEOUT,
            max_attempts: MAX_ATTEMPTS,
            workers: default_workers(),
            shutdown_grace: SHUTDOWN_GRACE,
            dial_retry_budget: DIAL_RETRY_BUDGET,
            max_pending_per_instance: MAX_PENDING_PER_INSTANCE,
            queue_timeout: QUEUE_TIMEOUT,
        }
    }
}

/// What the router asks of the node for its own address (`ltc.localhost`): metrics beyond
/// its own, and whether the node is healthy.
#[async_trait::async_trait]
pub trait NodeView: metrics::NodeMetrics {
    /// A short JSON document for `/health`, and whether the node is healthy.
    fn health(&self) -> (bool, String);
    /// Every app as the dashboard shows it (environment values left out), and the last
    /// events, oldest first.
    fn apps(&self) -> (Vec<crate::model::AppStatus>, Vec<crate::model::Event>);
    /// Changes whenever the node's state does.
    fn changes(&self) -> watch::Receiver<u64>;
    /// An app's recent log lines and a live feed of what follows; `None` for no such app.
    fn log(
        &self,
        app: &str,
    ) -> Option<(
        Vec<crate::model::LogLine>,
        tokio::sync::broadcast::Receiver<crate::model::LogLine>,
    )>;
    /// The dashboard's actions: the node's own `scale`, `restart` and `remove`.
    async fn scale(&self, app: &str, instances: u32) -> crate::error::Result<()>;
    async fn restart(&self, app: &str) -> crate::error::Result<()>;
    async fn remove(&self, app: &str) -> crate::error::Result<()>;
}

/// Who sent a request: the client's address, and whether it came over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub peer: std::net::SocketAddr,
    pub secure: bool,
}

/// Bodies the router passes on, both ways.
pub type ProxyBody = BoxBody<Bytes, body::BodyError>;

/// Where the router writes one access line per routed request (`[RTR]` in `ltc logs`), and
/// per answer it makes itself for a known app.
pub trait AccessLog: Send + Sync {
    /// One line; `index` is the instance that answered, `None` when the router answered
    /// before choosing one.
    fn record(&self, app: &str, index: Option<u32>, line: &str);
}

/// The router's shared state: the current table, failure marks, in-flight counts, and the
/// pooled client to instances.
pub struct Router {
    table: RwLock<Arc<RouteTable>>,
    table_changes: watch::Sender<u64>,
    /// Held while a table is rebuilt, so two publishes never build on the same predecessor.
    publishing: Mutex<()>,
    /// Backends that are in the table or still have requests in flight, for draining.
    known: Mutex<HashMap<String, Arc<Backend>>>,
    pub config: RouterConfig,
    /// The address TCP routes listen on (the router's IP).
    pub(crate) listen_ip: IpAddr,
    pub(crate) access_log: Option<Arc<dyn AccessLog>>,
    /// Set while the node that owns this router is starting: its instances are being adopted,
    /// so an app with none routable yet is "starting", not down.
    starting: std::sync::atomic::AtomicBool,
    /// TCP route ports with an open listener, kept by [`tcp::serve`].
    pub(crate) tcp_listening: watch::Sender<HashSet<u16>>,
    /// A copy of every listening socket this router accepts on (the HTTP one under port 0),
    /// to hand over to the next node; and sockets handed over by the previous node, for
    /// [`tcp::serve`] to accept on instead of binding.
    sockets: Mutex<Sockets>,
    /// The routes last published, and their domain: what a handover passes on.
    published: Mutex<(String, Vec<AppRoutes>)>,
    /// Requests, latencies, bytes and connections, for `/metrics`.
    pub metrics: metrics::RouterMetrics,
    /// What the node adds to `/metrics` and `/health`, and the dashboard's view of it, once
    /// it is up (it holds the node weakly).
    node: std::sync::OnceLock<Arc<dyn NodeView>>,
    /// The certificates HTTPS serves, once the node set them (HTTPS on).
    certificates: std::sync::OnceLock<Arc<tls::Certificates>>,
    /// What the dashboard's state-changing requests must carry: only its page has it.
    pub dashboard_token: String,
    /// This router, for streams that outlive the request that started them.
    this: std::sync::Weak<Router>,
    /// Cancelled when the router stops serving: streams end with it.
    pub closing: tokio_util::sync::CancellationToken,
}

/// The router's listening sockets, by the port they serve (0: the HTTP listener).
#[derive(Default)]
struct Sockets {
    serving: HashMap<u16, std::net::TcpListener>,
    https: Option<std::net::TcpListener>,
    inherited: HashMap<u16, std::net::TcpListener>,
}

impl Router {
    pub fn new(config: RouterConfig, listen_ip: IpAddr) -> Arc<Router> {
        Router::with_access_log(config, listen_ip, None)
    }

    pub fn with_access_log(
        config: RouterConfig,
        listen_ip: IpAddr,
        access_log: Option<Arc<dyn AccessLog>>,
    ) -> Arc<Router> {
        Arc::new_cyclic(|this| Router {
            this: this.clone(),
            table: RwLock::new(Arc::new(RouteTable::default())),
            table_changes: watch::channel(0).0,
            publishing: Mutex::new(()),
            starting: std::sync::atomic::AtomicBool::new(false),
            known: Mutex::new(HashMap::new()),
            config,
            listen_ip,
            access_log,
            tcp_listening: watch::channel(HashSet::new()).0,
            sockets: Mutex::new(Sockets::default()),
            published: Mutex::new((String::new(), Vec::new())),
            certificates: std::sync::OnceLock::new(),
            metrics: metrics::RouterMetrics::default(),
            node: std::sync::OnceLock::new(),
            dashboard_token: uuid::Uuid::new_v4().simple().to_string(),
            closing: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// Lets `/metrics`, `/health` and the dashboard ask the node (the view holds the node
    /// weakly: the node owns the router).
    pub fn set_node(&self, node: Arc<dyn NodeView>) {
        let _ = self.node.set(node);
    }

    /// This router, held weakly (the node owns it).
    pub fn weak(&self) -> std::sync::Weak<Router> {
        self.this.clone()
    }

    /// The node's view, once it is up.
    pub fn node(&self) -> Option<Arc<dyn NodeView>> {
        self.node.get().cloned()
    }

    /// Turns HTTPS on with these certificates.
    pub fn set_certificates(&self, certificates: Arc<tls::Certificates>) {
        let _ = self.certificates.set(certificates);
    }

    /// The certificates HTTPS serves, when it is on.
    pub fn certificates(&self) -> Option<Arc<tls::Certificates>> {
        self.certificates.get().cloned()
    }

    /// The routes it serves, as last published, with their domain.
    pub fn published(&self) -> (String, Vec<AppRoutes>) {
        self.published.lock().expect("published lock").clone()
    }

    /// Keeps a copy of a listening socket this router accepts on, for a handover (`port` 0:
    /// the HTTP listener).
    pub fn keep_socket(&self, port: u16, listener: &std::net::TcpListener) {
        if let Ok(copy) = listener.try_clone() {
            self.sockets
                .lock()
                .expect("sockets lock")
                .serving
                .insert(port, copy);
        }
    }

    /// Forgets the socket of a TCP route that closed.
    pub(crate) fn drop_socket(&self, port: u16) {
        self.sockets
            .lock()
            .expect("sockets lock")
            .serving
            .remove(&port);
    }

    /// Copies of the sockets this router accepts on, by port (0: HTTP).
    pub fn sockets(&self) -> Vec<(u16, std::net::TcpListener)> {
        let sockets = self.sockets.lock().expect("sockets lock");
        sockets
            .serving
            .iter()
            .filter_map(|(port, l)| Some((*port, l.try_clone().ok()?)))
            .collect()
    }

    /// Keeps a copy of the HTTPS listening socket, for a handover.
    pub fn keep_https_socket(&self, listener: &std::net::TcpListener) {
        self.sockets.lock().expect("sockets lock").https = listener.try_clone().ok();
    }

    /// A copy of the HTTPS listening socket, when HTTPS is served.
    pub fn https_socket(&self) -> Option<std::net::TcpListener> {
        let sockets = self.sockets.lock().expect("sockets lock");
        sockets.https.as_ref().and_then(|l| l.try_clone().ok())
    }

    /// TCP route sockets handed over by the previous node, accepted on as they are.
    pub fn inherit_tcp(&self, sockets: HashMap<u16, std::net::TcpListener>) {
        self.sockets.lock().expect("sockets lock").inherited = sockets;
    }

    /// The handed-over socket of a TCP route port, if any.
    pub(crate) fn take_inherited(&self, port: u16) -> Option<std::net::TcpListener> {
        self.sockets
            .lock()
            .expect("sockets lock")
            .inherited
            .remove(&port)
    }

    pub fn table(&self) -> Arc<RouteTable> {
        self.table.read().expect("table lock").clone()
    }

    /// Whether `host` (lowercase, no port) is the router's own: `ltc.localhost` or
    /// `ltc.<domain>`, where it answers `/metrics` and `/health` itself.
    pub fn is_reserved_host(&self, host: &str) -> bool {
        if host == RESERVED_HOST_LOCALHOST {
            return true;
        }
        let published = self.published.lock().expect("published lock");
        let domain = &published.0;
        !domain.is_empty()
            && host
                .strip_prefix("ltc.")
                .is_some_and(|rest| rest == domain.as_str())
    }

    /// Whether the router answers for `host`: a route, or its own reserved host.
    pub fn serves_host(&self, host: &str) -> bool {
        matches!(self.table().lookup(host), table::Lookup::Found(_)) || self.is_reserved_host(host)
    }

    /// Publishes the routes the node wants. The table is rebuilt against the current one, so
    /// round-robin positions, failure marks and in-flight counts carry over, and the very next
    /// request sees it. Routes flow one way: the node never reads the table back.
    pub fn publish(&self, domain: &str, apps: &[AppRoutes]) {
        let _one_at_a_time = self.publishing.lock().expect("publish lock");
        *self.published.lock().expect("published lock") = (domain.to_string(), apps.to_vec());
        let previous = self.table();
        let table = RouteTable::build(apps, domain, &previous, &self.metrics);
        let served = table.routes();
        for (app, route) in previous.routes() {
            if !served.contains(&(app.clone(), route.clone())) {
                self.metrics.forget(&app, &route);
            }
        }
        {
            let mut known = self.known.lock().expect("known lock");
            known.retain(|_, backend| backend.inflight() > 0);
            for backend in table.backends() {
                known.insert(backend.guid.clone(), backend.clone());
            }
        }
        *self.table.write().expect("table lock") = Arc::new(table);
        self.table_changes.send_modify(|n| *n += 1);
    }

    /// Says whether the node is still adopting its instances (see [`Router::is_starting`]).
    pub fn set_starting(&self, starting: bool) {
        self.starting
            .store(starting, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_starting(&self) -> bool {
        self.starting.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.table_changes.subscribe()
    }

    /// Waits (at most `timeout`) until every one of these TCP route ports listens, so a route
    /// change is in effect when the command that made it returns. Says which did not open.
    pub async fn wait_tcp(&self, ports: &[u16], timeout: Duration) -> Result<(), Vec<u16>> {
        let mut listening = self.tcp_listening.subscribe();
        let all_open = |open: &HashSet<u16>| ports.iter().all(|p| open.contains(p));
        if tokio::time::timeout(timeout, listening.wait_for(all_open))
            .await
            .is_ok_and(|waited| waited.is_ok())
        {
            return Ok(());
        }
        let open = self.tcp_listening.borrow();
        Err(ports
            .iter()
            .copied()
            .filter(|p| !open.contains(p))
            .collect())
    }

    /// Gives up on an instance that failed its monitor: requests waiting on it that are safe
    /// to retry are sent elsewhere within [`ABANDON_POLL`].
    pub fn abandon(&self, guid: &str) {
        if let Some(backend) = self.known.lock().expect("known lock").get(guid) {
            backend.abandon();
        }
    }

    /// Waits until an instance (already out of the table) has no request in flight, at most
    /// `timeout`. Called before an instance is stopped.
    /// Requests in flight to each instance, by guid (only those with any).
    pub fn requests_in_flight(&self) -> HashMap<String, usize> {
        let known = self.known.lock().expect("known lock");
        known
            .iter()
            .map(|(guid, backend)| (guid.clone(), backend.inflight()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The port HTTPS is served on, when it is.
    pub fn https_port(&self) -> Option<u16> {
        let sockets = self.sockets.lock().expect("sockets lock");
        sockets.https.as_ref()?.local_addr().ok().map(|a| a.port())
    }

    pub async fn drain(&self, guid: &str, timeout: Duration) {
        let backend = self.known.lock().expect("known lock").get(guid).cloned();
        if let Some(backend) = backend {
            let _ = tokio::time::timeout(timeout, backend.idle()).await;
        }
    }
}
