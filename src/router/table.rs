//! The route table as a plain value: hostnames and TCP ports to pools of routable instances.
//!
//! The node rebuilds it from desired state and known instances on every change, in the same
//! process and under the same lock as the lifecycle, so a route change is visible to the very
//! next request (no polling, no TTL). Only RUNNING instances that are not being stopped are in
//! a pool. A pool keeps its round-robin position across rebuilds.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One routable instance, with its failure mark and in-flight count as atomics, so the
/// per-request path takes no lock. The same `Arc` survives table rebuilds while the instance
/// stays routable.
#[derive(Debug)]
pub struct Backend {
    pub guid: String,
    pub index: u32,
    pub addr: SocketAddr,
    /// The guid as `X-CF-InstanceID`.
    pub instance_header: hyper::header::HeaderValue,
    /// Milliseconds on [`clock`] until which the instance is skipped; 0 when healthy.
    failed_until: AtomicU64,
    inflight: AtomicUsize,
    /// Requests sent and not yet answered with a response head (see [`Backend::claim`]).
    pending: AtomicUsize,
    /// Set once someone waits for the instance to drain: only then does the last request's
    /// end wake [`Backend::idle`], so the request path pays nothing for draining.
    draining: AtomicBool,
    drained: tokio::sync::Notify,
    /// Set when the instance failed its monitor: requests still waiting on it that can be
    /// retried go elsewhere (see `router::http`).
    abandoned: AtomicBool,
}

impl Backend {
    pub fn new(guid: &str, index: u32, addr: SocketAddr) -> Backend {
        Backend {
            guid: guid.to_string(),
            index,
            addr,
            instance_header: hyper::header::HeaderValue::from_str(guid)
                .unwrap_or(hyper::header::HeaderValue::from_static("")),
            failed_until: AtomicU64::new(0),
            inflight: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            drained: tokio::sync::Notify::new(),
            abandoned: AtomicBool::new(false),
        }
    }

    /// Skips this instance for [`FAILED_BACKEND_SKIP`] (gorouter's `RetryAfterFailure`).
    pub fn mark_failed(&self) {
        let until = clock() + FAILED_BACKEND_SKIP.as_millis() as u64;
        self.failed_until.store(until, Ordering::Relaxed);
    }

    pub fn is_failed(&self) -> bool {
        let until = self.failed_until.load(Ordering::Relaxed);
        until != 0 && until > clock()
    }

    pub fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    pub fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }

    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::SeqCst)
    }

    /// Returns once no request is in flight.
    pub async fn idle(&self) {
        // SeqCst on both sides: either the last guard sees `draining` and wakes us, or we see
        // its decrement.
        self.draining.store(true, Ordering::SeqCst);
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.inflight() == 0 {
                return;
            }
            drained.await;
        }
    }

    /// A place among the requests this instance is working on (sent, no response head yet),
    /// if it has fewer than `limit` (0: no limit); held until the head arrives or the attempt
    /// fails. An instance at its limit is not sent more: the request goes to another one, or
    /// waits in the router (gorouter's `max_conns`; HAProxy's `maxconn` and queue). Streaming
    /// and upgraded responses do not count once their head is in: a WebSocket or SSE app's
    /// clients are not limited by it.
    pub fn claim<'a>(&'a self, limit: usize, waiting: &'a Waiting) -> Option<PendingSlot<'a>> {
        let mut pending = self.pending.load(Ordering::Relaxed);
        loop {
            if limit != 0 && pending >= limit {
                return None;
            }
            match self.pending.compare_exchange_weak(
                pending,
                pending + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Some(PendingSlot {
                        backend: self,
                        waiting,
                    });
                }
                Err(now) => pending = now,
            }
        }
    }

    /// Counts a request in flight until the guard is dropped.
    pub fn track(self: &Arc<Self>) -> InflightGuard {
        self.inflight.fetch_add(1, Ordering::SeqCst);
        InflightGuard {
            backend: self.clone(),
        }
    }
}

pub struct InflightGuard {
    backend: Arc<Backend>,
}

impl InflightGuard {
    /// The instance the request went to.
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        let backend = &self.backend;
        if backend.inflight.fetch_sub(1, Ordering::SeqCst) == 1
            && backend.draining.load(Ordering::SeqCst)
        {
            backend.drained.notify_waiters();
        }
    }
}

/// One request an instance is working on (see [`Backend::claim`]); its end lets a waiting
/// request look again.
pub struct PendingSlot<'a> {
    backend: &'a Backend,
    waiting: &'a Waiting,
}

impl Drop for PendingSlot<'_> {
    fn drop(&mut self) {
        self.backend.pending.fetch_sub(1, Ordering::AcqRel);
        self.waiting.freed();
    }
}

/// Requests of one app waiting for an instance below its limit, woken one at a time as places
/// free up. One per app, as the limit is its instances' (every hostname of the app shares it),
/// and kept across table rebuilds.
#[derive(Debug, Default)]
pub struct Waiting {
    count: AtomicUsize,
    freed: tokio::sync::Notify,
}

impl Waiting {
    /// A place was freed: the longest waiting request looks again. Free when none waits.
    pub fn freed(&self) {
        if self.count.load(Ordering::Acquire) > 0 {
            self.freed.notify_one();
        }
    }

    /// Waits until a place may have freed up, or `by`.
    pub async fn wait(&self, by: tokio::time::Instant) {
        self.count.fetch_add(1, Ordering::AcqRel);
        let _ = tokio::time::timeout_at(by, self.freed.notified()).await;
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Milliseconds since the router's clock started: a cheap monotonic clock for failure marks.
fn clock() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// The instances behind one hostname or TCP port.
#[derive(Debug)]
pub struct Pool {
    pub app: String,
    /// The app as `X-CF-ApplicationID`.
    pub app_header: hyper::header::HeaderValue,
    pub backends: Vec<Arc<Backend>>,
    next: Arc<AtomicUsize>,
    /// The app's requests waiting for an instance below its limit.
    pub waiting: Arc<Waiting>,
    /// This route's counters (see `router::metrics`).
    pub metrics: super::metrics::RouteMetrics,
    /// How long an instance of this app may take to start its response (the app's
    /// `--response-timeout`); `None`: the router's default.
    pub response_timeout: Option<Duration>,
    /// Plain HTTP requests are redirected to HTTPS (the app's `--redirect-https`).
    pub redirect_https: bool,
}

impl Pool {
    /// Up to `attempts` distinct backends in round-robin order, skipping those marked failed
    /// unless every one of them is (fail open, as gorouter does).
    pub fn candidates(&self, attempts: usize) -> Vec<Arc<Backend>> {
        let n = self.backends.len();
        let mut picked = Vec::with_capacity(attempts.min(n));
        if n == 0 {
            return picked;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let backend = &self.backends[(start + i) % n];
            if !backend.is_failed() {
                picked.push(backend.clone());
                if picked.len() == attempts {
                    return picked;
                }
            }
        }
        if picked.is_empty() {
            for i in 0..n.min(attempts) {
                picked.push(self.backends[(start + i) % n].clone());
            }
        }
        picked
    }
}

/// What the node knows about one app, for building the table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AppRoutes {
    pub app: String,
    /// (hostname, container port)
    pub http: Vec<(String, u16)>,
    /// (external port, container port)
    pub tcp: Vec<(u16, u16)>,
    /// Routable instances: guid, index, container port → host port.
    pub instances: Vec<(String, u32, BTreeMap<u16, u16>)>,
    /// The app's `--response-timeout`, in milliseconds.
    #[serde(default)]
    pub response_timeout_ms: Option<u64>,
    /// The app's `--redirect-https`.
    #[serde(default)]
    pub redirect_https: bool,
    /// Where an instance's ports answer when not on 127.0.0.1 (an instance on another
    /// machine of a swarm), by guid.
    #[serde(default)]
    pub addresses: BTreeMap<String, std::net::IpAddr>,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    http: HashMap<String, Arc<Pool>>,
    tcp: BTreeMap<u16, Arc<Pool>>,
}

pub enum Lookup<'a> {
    Unknown,
    Found(&'a Arc<Pool>),
}

impl RouteTable {
    /// Builds the table, keeping each pool's round-robin position from `previous`. A route
    /// `<label>.<domain>` is also served as `<label>.localhost`.
    pub fn build(
        apps: &[AppRoutes],
        domain: &str,
        previous: &RouteTable,
        metrics: &super::metrics::RouterMetrics,
    ) -> RouteTable {
        let mut table = RouteTable::default();
        // One `Backend` per instance address, shared by every pool that routes to it (an app's
        // hostnames and their `.localhost` aliases) and kept from the previous table, so its
        // failure mark and in-flight count are one and survive rebuilds.
        let mut shared: HashMap<(String, SocketAddr), Arc<Backend>> = previous
            .backends()
            .map(|b| ((b.guid.clone(), b.addr), b.clone()))
            .collect();
        let mut waiting: HashMap<&str, Arc<Waiting>> = previous
            .http
            .values()
            .chain(previous.tcp.values())
            .map(|p| (p.app.as_str(), p.waiting.clone()))
            .collect();
        for app in apps {
            let waiting = waiting.remove(app.app.as_str()).unwrap_or_default();
            let mut pool = |port: u16, route: &str, previous: Option<&Arc<Pool>>| {
                let previous = previous.filter(|p| p.app == app.app);
                let backends = app
                    .instances
                    .iter()
                    .filter_map(|(guid, index, ports)| {
                        let ip = app.addresses.get(guid).copied();
                        let ip = ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
                        let addr = SocketAddr::new(ip, *ports.get(&port)?);
                        let backend = shared
                            .entry((guid.clone(), addr))
                            .or_insert_with(|| Arc::new(Backend::new(guid, *index, addr)));
                        Some(backend.clone())
                    })
                    .collect();
                let next = previous
                    .map(|p| p.next.clone())
                    .unwrap_or_else(|| Arc::new(AtomicUsize::new(random_start())));
                Arc::new(Pool {
                    app: app.app.clone(),
                    app_header: hyper::header::HeaderValue::from_str(&app.app)
                        .unwrap_or(hyper::header::HeaderValue::from_static("")),
                    backends,
                    next,
                    waiting: waiting.clone(),
                    metrics: metrics.for_route(&app.app, route),
                    response_timeout: app.response_timeout_ms.map(Duration::from_millis),
                    redirect_https: app.redirect_https,
                })
            };
            for (hostname, port) in &app.http {
                for name in crate::model::served_names(hostname, domain) {
                    // The first app to claim a hostname keeps it (the node refuses duplicates).
                    if let Entry::Vacant(slot) = table.http.entry(name) {
                        let built = pool(*port, slot.key(), previous.http.get(slot.key()));
                        slot.insert(built);
                    }
                }
            }
            for (external, port) in &app.tcp {
                if !table.tcp.contains_key(external) {
                    let route = format!("tcp:{external}");
                    let built = pool(*port, &route, previous.tcp.get(external));
                    table.tcp.insert(*external, built);
                }
            }
        }
        table
    }

    pub fn lookup(&self, host: &str) -> Lookup<'_> {
        match self.http.get(host) {
            Some(pool) => Lookup::Found(pool),
            None => Lookup::Unknown,
        }
    }

    pub fn tcp_pool(&self, port: u16) -> Option<&Arc<Pool>> {
        self.tcp.get(&port)
    }

    pub fn tcp_ports(&self) -> Vec<u16> {
        self.tcp.keys().copied().collect()
    }

    /// Every backend in the table, by guid.
    pub fn backends(&self) -> impl Iterator<Item = &Arc<Backend>> {
        self.http
            .values()
            .chain(self.tcp.values())
            .flat_map(|pool| pool.backends.iter())
    }

    /// Requests answered and 5xx answers per app, over its HTTP routes.
    pub fn request_totals(&self) -> HashMap<String, (u64, u64)> {
        let mut totals: HashMap<String, (u64, u64)> = HashMap::new();
        for pool in self.http.values() {
            let (all, errors) = pool.metrics.totals();
            let entry = totals.entry(pool.app.clone()).or_default();
            entry.0 += all;
            entry.1 += errors;
        }
        totals
    }

    /// Every (app, route) the table serves, as metrics label them.
    pub fn routes(&self) -> std::collections::HashSet<(String, String)> {
        let http = self
            .http
            .iter()
            .map(|(host, pool)| (pool.app.clone(), host.clone()));
        let tcp = self
            .tcp
            .iter()
            .map(|(port, pool)| (pool.app.clone(), format!("tcp:{port}")));
        http.chain(tcp).collect()
    }

    pub fn hostnames(&self) -> Vec<String> {
        let mut names: Vec<String> = self.http.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Round robin starts at a random backend per pool, as gorouter's did.
fn random_start() -> usize {
    uuid::Uuid::new_v4().as_u128() as usize
}

/// Why a `Host` cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    Missing,
    Duplicate,
    Malformed,
}

/// The routing key of a `Host` value: lowercase, without the port and without a trailing dot.
/// IPv6 literals keep their brackets (and so match no route).
pub fn normalize_host(raw: &str) -> Result<String, HostError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(HostError::Missing);
    }
    let host = if let Some(rest) = raw.strip_prefix('[') {
        let end = rest.find(']').ok_or(HostError::Malformed)?;
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(port) => valid_port(port)?,
            None if after.is_empty() => {}
            None => return Err(HostError::Malformed),
        }
        format!("[{}]", &rest[..end])
    } else {
        let host = match raw.rsplit_once(':') {
            Some((host, port)) => {
                valid_port(port)?;
                host
            }
            None => raw,
        };
        // One trailing dot is the fully qualified form; any other empty label is not a name.
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.split('.').any(str::is_empty) {
            return Err(HostError::Malformed);
        }
        host.to_string()
    };
    let host = host.to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
    if !valid {
        return Err(HostError::Malformed);
    }
    Ok(host)
}

/// A `Host` port: 1 to 65535 in decimal (RFC 9110 §4.2.1 and RFC 3986's `port`).
fn valid_port(port: &str) -> Result<(), HostError> {
    let digits = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(n) if digits && n > 0 => Ok(()),
        _ => Err(HostError::Malformed),
    }
}

/// How long an instance that failed a dial is skipped (gorouter's `RetryAfterFailure`).
pub const FAILED_BACKEND_SKIP: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, instances: &[(&str, u16)]) -> AppRoutes {
        AppRoutes {
            app: name.into(),
            http: vec![(format!("{name}.d.io"), 8080)],
            tcp: vec![],
            instances: instances
                .iter()
                .enumerate()
                .map(|(i, (guid, port))| {
                    (guid.to_string(), i as u32, BTreeMap::from([(8080, *port)]))
                })
                .collect(),
            response_timeout_ms: None,
            redirect_https: false,
            addresses: BTreeMap::new(),
        }
    }

    fn found(table: &RouteTable, host: &str) -> Arc<Pool> {
        match table.lookup(host) {
            Lookup::Found(pool) => pool.clone(),
            Lookup::Unknown => panic!("{host} not found"),
        }
    }

    #[test]
    fn routes_are_served_on_their_hostname_and_on_localhost() {
        let table = RouteTable::build(
            &[app("web", &[("a", 1000)])],
            "d.io",
            &RouteTable::default(),
            &Default::default(),
        );
        assert_eq!(found(&table, "web.d.io").backends[0].addr.port(), 1000);
        assert_eq!(found(&table, "web.localhost").app, "web");
        assert!(matches!(table.lookup("other.d.io"), Lookup::Unknown));
    }

    #[test]
    fn round_robin_visits_every_backend_in_turn() {
        let table = RouteTable::build(
            &[app("web", &[("a", 1), ("b", 2), ("c", 3)])],
            "d.io",
            &RouteTable::default(),
            &Default::default(),
        );
        let pool = found(&table, "web.d.io");
        let firsts: Vec<String> = (0..6).map(|_| pool.candidates(1)[0].guid.clone()).collect();
        assert_eq!(firsts[..3], firsts[3..], "strict order: {firsts:?}");
        let mut seen = firsts[..3].to_vec();
        seen.sort();
        assert_eq!(seen, ["a", "b", "c"]);
    }

    #[test]
    fn candidates_are_distinct_and_skip_failed_backends_unless_all_failed() {
        let table = RouteTable::build(
            &[app("web", &[("a", 1), ("b", 2)])],
            "d.io",
            &RouteTable::default(),
            &Default::default(),
        );
        let pool = found(&table, "web.d.io");
        let both = pool.candidates(3);
        assert_eq!(both.len(), 2);
        assert_ne!(both[0].guid, both[1].guid);
        let a = pool.backends.iter().find(|b| b.guid == "a").unwrap();
        a.mark_failed();
        for _ in 0..4 {
            let picked = pool.candidates(3);
            assert_eq!(picked.len(), 1);
            assert_eq!(picked[0].guid, "b");
        }
        pool.backends.iter().for_each(|b| b.mark_failed());
        assert_eq!(pool.candidates(3).len(), 2, "fail open");
    }

    #[test]
    fn a_rebuilt_table_keeps_the_round_robin_position_and_failure_marks() {
        let apps = [app("web", &[("a", 1), ("b", 2)])];
        let first = RouteTable::build(&apps, "d.io", &RouteTable::default(), &Default::default());
        let pool = found(&first, "web.d.io");
        let before = pool.candidates(1)[0].clone();
        let second = RouteTable::build(&apps, "d.io", &first, &Default::default());
        let rebuilt = found(&second, "web.d.io");
        let after = rebuilt.candidates(1)[0].guid.clone();
        assert_ne!(
            before.guid, after,
            "the next request goes to the other instance"
        );
        before.mark_failed();
        let same = rebuilt
            .backends
            .iter()
            .find(|b| b.guid == before.guid)
            .unwrap();
        assert!(same.is_failed(), "the same backend survives a rebuild");
    }

    #[test]
    fn every_hostname_of_an_instance_shares_one_backend() {
        let table = RouteTable::build(
            &[app("web", &[("a", 1)])],
            "d.io",
            &RouteTable::default(),
            &Default::default(),
        );
        let main = found(&table, "web.d.io").backends[0].clone();
        let alias = found(&table, "web.localhost").backends[0].clone();
        assert!(
            Arc::ptr_eq(&main, &alias),
            "one failure mark and in-flight count per instance"
        );
        let _guard = main.track();
        assert_eq!(alias.inflight(), 1);
    }

    #[test]
    fn every_hostname_of_an_app_shares_one_queue_across_rebuilds() {
        let apps = [app("web", &[("a", 1)]), app("api", &[("b", 2)])];
        let first = RouteTable::build(&apps, "d.io", &RouteTable::default(), &Default::default());
        let queue = found(&first, "web.d.io").waiting.clone();
        assert!(Arc::ptr_eq(&queue, &found(&first, "web.localhost").waiting));
        assert!(!Arc::ptr_eq(&queue, &found(&first, "api.d.io").waiting));
        let second = RouteTable::build(&apps, "d.io", &first, &Default::default());
        assert!(Arc::ptr_eq(
            &queue,
            &found(&second, "web.localhost").waiting
        ));
        // A place freed through one hostname wakes a request waiting through another.
        let alias = found(&second, "web.localhost");
        let backend = alias.backends[0].clone();
        let slot = backend.claim(1, &alias.waiting).unwrap();
        assert!(backend.claim(1, &queue).is_none(), "at its limit");
        let waiter = queue.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let far = tokio::time::Instant::now() + Duration::from_secs(600);
            let waited = tokio::spawn(async move { waiter.wait(far).await });
            tokio::task::yield_now().await;
            drop(slot);
            tokio::time::timeout(Duration::from_secs(10), waited)
                .await
                .expect("woken by the freed place, not by its deadline")
                .unwrap();
        });
    }

    #[test]
    fn an_app_with_no_routable_instance_is_known_but_empty() {
        let table = RouteTable::build(
            &[app("web", &[])],
            "d.io",
            &RouteTable::default(),
            &Default::default(),
        );
        assert!(found(&table, "web.d.io").backends.is_empty());
    }

    #[test]
    fn hosts_are_normalised_for_matching() {
        assert_eq!(normalize_host("Web.D.io").unwrap(), "web.d.io");
        assert_eq!(normalize_host("web.d.io:8080").unwrap(), "web.d.io");
        assert_eq!(normalize_host("web.d.io.").unwrap(), "web.d.io");
        assert_eq!(normalize_host("web.d.io.:80").unwrap(), "web.d.io");
        assert_eq!(normalize_host("[::1]:8080").unwrap(), "[::1]");
        assert_eq!(normalize_host(""), Err(HostError::Missing));
        for bad in [
            "web d.io",
            "web.d.io:",
            "web.d.io:x",
            "[::1",
            "[::1]x",
            "we/b",
            "a\u{7f}b",
            "web.d.io:99999",
            "web.d.io:0",
            "web.d.io:+80",
            "[::1]:99999",
            "web..d.io",
            ".web.d.io",
            "web.d.io..",
            ".",
        ] {
            assert_eq!(normalize_host(bad), Err(HostError::Malformed), "{bad:?}");
        }
    }
}
