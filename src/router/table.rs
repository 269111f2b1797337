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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One routable instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub guid: String,
    pub index: u32,
    pub addr: SocketAddr,
}

/// The instances behind one hostname or TCP port.
#[derive(Debug)]
pub struct Pool {
    pub app: String,
    pub backends: Vec<Backend>,
    next: Arc<AtomicUsize>,
}

impl Pool {
    /// Up to `attempts` distinct backends in round-robin order, skipping those marked failed
    /// unless every one of them is (fail open, as gorouter does).
    pub fn candidates(&self, attempts: usize, failures: &Failures) -> Vec<Backend> {
        let n = self.backends.len();
        if n == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let ordered = (0..n).map(|i| &self.backends[(start + i) % n]);
        let healthy: Vec<Backend> = ordered
            .clone()
            .filter(|b| !failures.is_failed(&b.guid))
            .cloned()
            .collect();
        let pick = if healthy.is_empty() {
            ordered.cloned().collect()
        } else {
            healthy
        };
        pick.into_iter().take(attempts).collect()
    }
}

/// What the node knows about one app, for building the table.
#[derive(Debug, Clone)]
pub struct AppRoutes {
    pub app: String,
    /// (hostname, container port)
    pub http: Vec<(String, u16)>,
    /// (external port, container port)
    pub tcp: Vec<(u16, u16)>,
    /// Routable instances: guid, index, container port → host port.
    pub instances: Vec<(String, u32, BTreeMap<u16, u16>)>,
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
    pub fn build(apps: &[AppRoutes], domain: &str, previous: &RouteTable) -> RouteTable {
        let suffix = format!(".{domain}");
        let mut table = RouteTable::default();
        for app in apps {
            let pool = |port: u16, previous: Option<&Arc<Pool>>| {
                let backends = app
                    .instances
                    .iter()
                    .filter_map(|(guid, index, ports)| {
                        Some(Backend {
                            guid: guid.clone(),
                            index: *index,
                            addr: SocketAddr::from(([127, 0, 0, 1], *ports.get(&port)?)),
                        })
                    })
                    .collect();
                let next = previous
                    .filter(|p| p.app == app.app)
                    .map(|p| p.next.clone())
                    .unwrap_or_else(|| Arc::new(AtomicUsize::new(random_start())));
                Arc::new(Pool {
                    app: app.app.clone(),
                    backends,
                    next,
                })
            };
            for (hostname, port) in &app.http {
                let mut names = vec![hostname.clone()];
                if let Some(label) = hostname.strip_suffix(&suffix) {
                    names.push(format!("{label}.localhost"));
                }
                for name in names {
                    // The first app to claim a hostname keeps it (the node refuses duplicates).
                    if let Entry::Vacant(slot) = table.http.entry(name) {
                        let built = pool(*port, previous.http.get(slot.key()));
                        slot.insert(built);
                    }
                }
            }
            for (external, port) in &app.tcp {
                if !table.tcp.contains_key(external) {
                    let built = pool(*port, previous.tcp.get(external));
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
        if !(after.is_empty() || after.starts_with(':')) {
            return Err(HostError::Malformed);
        }
        format!("[{}]", &rest[..end])
    } else {
        let host = match raw.rsplit_once(':') {
            Some((host, port)) => {
                if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(HostError::Malformed);
                }
                host
            }
            None => raw,
        };
        host.to_string()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
    if !valid {
        return Err(HostError::Malformed);
    }
    Ok(host)
}

/// How long an instance that failed a dial is skipped (gorouter's `RetryAfterFailure`).
pub const FAILED_BACKEND_SKIP: Duration = Duration::from_secs(30);

/// Instances that recently failed a dial, by guid.
#[derive(Debug, Default)]
pub struct Failures {
    until: std::sync::Mutex<HashMap<String, Instant>>,
}

impl Failures {
    pub fn mark(&self, guid: &str) {
        self.until
            .lock()
            .expect("failures lock")
            .insert(guid.to_string(), Instant::now() + FAILED_BACKEND_SKIP);
    }

    pub fn is_failed(&self, guid: &str) -> bool {
        let mut until = self.until.lock().expect("failures lock");
        match until.get(guid) {
            Some(at) if *at > Instant::now() => true,
            Some(_) => {
                until.remove(guid);
                false
            }
            None => false,
        }
    }
}

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
        );
        let pool = found(&table, "web.d.io");
        let failures = Failures::default();
        let firsts: Vec<String> = (0..6)
            .map(|_| pool.candidates(1, &failures)[0].guid.clone())
            .collect();
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
        );
        let pool = found(&table, "web.d.io");
        let failures = Failures::default();
        let both = pool.candidates(3, &failures);
        assert_eq!(both.len(), 2);
        assert_ne!(both[0].guid, both[1].guid);
        failures.mark("a");
        for _ in 0..4 {
            let picked = pool.candidates(3, &failures);
            assert_eq!(picked.len(), 1);
            assert_eq!(picked[0].guid, "b");
        }
        failures.mark("b");
        assert_eq!(pool.candidates(3, &failures).len(), 2, "fail open");
    }

    #[test]
    fn a_rebuilt_table_keeps_the_round_robin_position() {
        let apps = [app("web", &[("a", 1), ("b", 2)])];
        let first = RouteTable::build(&apps, "d.io", &RouteTable::default());
        let pool = found(&first, "web.d.io");
        let failures = Failures::default();
        let before = pool.candidates(1, &failures)[0].guid.clone();
        let second = RouteTable::build(&apps, "d.io", &first);
        let after = found(&second, "web.d.io").candidates(1, &failures)[0]
            .guid
            .clone();
        assert_ne!(before, after, "the next request goes to the other instance");
    }

    #[test]
    fn an_app_with_no_routable_instance_is_known_but_empty() {
        let table = RouteTable::build(&[app("web", &[])], "d.io", &RouteTable::default());
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
        ] {
            assert_eq!(normalize_host(bad), Err(HostError::Malformed), "{bad:?}");
        }
    }
}
