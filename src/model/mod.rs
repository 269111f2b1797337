//! ltc's vocabulary: app names, the desired state of an app, instances and their states, and
//! the JSON shapes the node's API and `--json` output share.
//!
//! Everything here is plain data with pure validation, so both the CLI (to reject bad input
//! before anything is sent) and the node (which never trusts a request) use the same rules.

mod revision;
mod task;
mod volume;
mod wire;
pub use revision::*;
pub use task::*;
pub use volume::*;
pub use wire::*;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Longest app name accepted. A DNS label may be 63 characters; `<app>-<port>` routes and the
/// container name `ltc-<app>-<index>-<guid>` need the rest.
pub const MAX_APP_NAME: usize = 50;

/// Most instances one app may ask for on one machine.
pub const MAX_INSTANCES: u32 = 256;

/// The name Lattice reserved for its component log stream; `ltc debug-logs` uses it the same way.
pub const RESERVED_APP_NAME: &str = "lattice-debug";
/// The app name whose hostname is the router's own (`ltc.localhost`).
pub const ROUTER_APP_NAME: &str = "ltc";

/// The image name that selects the built-in demo app (the original's image name).
pub const LATTICE_APP_IMAGE: &str = "cloudfoundry/lattice-app";

/// Default system domain, as Lattice's Vagrant box used `<ip>.xip.io`.
pub const DEFAULT_DOMAIN: &str = "127.0.0.1.xip.io";

/// A validated app name: a lowercase DNS label of at most [`MAX_APP_NAME`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppName(String);

impl AppName {
    pub fn parse(name: &str) -> Result<AppName> {
        if name.is_empty() {
            return Err(Error::usage("app name must not be empty"));
        }
        if name.len() > MAX_APP_NAME {
            return Err(Error::usage(format!(
                "app name `{name}` is longer than {MAX_APP_NAME} characters"
            )));
        }
        let valid_chars = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || name.starts_with('-') || name.ends_with('-') {
            return Err(Error::usage(format!(
                "app name `{name}` is not valid: use lowercase letters, digits and `-`, \
                 starting and ending with a letter or digit"
            )));
        }
        if name == ROUTER_APP_NAME {
            return Err(Error::usage(format!(
                "`{name}` is a reserved app name: `{name}.localhost` is the router's own address \
                 (its dashboard, /metrics and /health)"
            ))
            .with_hint("choose another name for the app"));
        }
        if name == RESERVED_APP_NAME {
            return Err(Error::usage(format!(
                "`{name}` is a reserved app name: it is used to stream the node's own logs"
            )));
        }
        Ok(AppName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AppName {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        AppName::parse(&value)
    }
}

impl From<AppName> for String {
    fn from(name: AppName) -> String {
        name.0
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a system domain given to `ltc target`: dot-separated DNS labels.
pub fn validate_domain(domain: &str) -> Result<()> {
    let bad = || {
        Error::config(format!(
            "`{domain}` is not a valid domain: use DNS labels separated by dots, e.g. `127.0.0.1.xip.io`"
        ))
    };
    if domain.is_empty() || domain.len() > 200 {
        return Err(bad());
    }
    for label in domain.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

/// Checks a registry given to `ltc target --registry`: `HOST:PORT` (or a host alone), the
/// way an image reference starts.
pub fn validate_registry(registry: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::usage(format!(
            "`{registry}` is not a registry address: {why}; use HOST:PORT, e.g. `127.0.0.1:5000`"
        ))
    };
    if registry.contains("://") {
        return Err(bad("leave out the scheme"));
    }
    if registry.contains('/') || registry.contains(char::is_whitespace) || registry.is_empty() {
        return Err(bad("it is a host and a port, nothing else"));
    }
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    if let Some(port) = port {
        parse_port(port).map_err(|_| bad("its port is not a number from 1 to 65535"))?;
    }
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(bad("its host is not a name or an address"));
    }
    Ok(registry.to_ascii_lowercase())
}

/// Parses a port given on the command line or in a request: 1–65535.
pub fn parse_port(text: &str) -> Result<u16> {
    match text.trim().parse::<u32>() {
        Ok(port) if (1..=65535).contains(&port) => Ok(port as u16),
        _ => Err(Error::usage(format!(
            "invalid port `{text}`: ports must be whole numbers from 1 to 65535"
        ))),
    }
}

/// An environment variable name as `-e` accepts it: what a POSIX shell accepts.
pub fn validate_env_name(name: &str) -> Result<()> {
    let mut bytes = name.bytes();
    let first_ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::usage(format!(
            "invalid environment variable `{name}`: use `NAME=VALUE` or `NAME`, where NAME is \
             letters, digits and `_`, not starting with a digit"
        )));
    }
    Ok(())
}

/// One `NAME=VALUE` pair of an app's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// An HTTP route: a fully qualified hostname served on the router, to a container port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HttpRoute {
    pub hostname: String,
    pub port: u16,
}

/// A TCP route: a port opened on the router's address, to a container port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TcpRoute {
    pub external_port: u16,
    pub port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    #[serde(default)]
    pub http: Vec<HttpRoute>,
    #[serde(default)]
    pub tcp: Vec<TcpRoute>,
}

impl Routes {
    /// One line per route as events name them: `HOST => PORT`, `tcp EXTERNAL => PORT`.
    pub fn lines(&self) -> Vec<String> {
        let http = self.http.iter().map(|r| route_line(&r.hostname, r.port));
        let tcp = self
            .tcp
            .iter()
            .map(|r| route_line(&format!("tcp {}", r.external_port), r.port));
        http.chain(tcp).collect()
    }
}

/// How a route is shown everywhere: where it is reached, `=>`, the container port.
pub fn route_line(from: &str, port: u16) -> String {
    format!("{from} => {port}")
}

/// The routes Lattice made when none were given: `<app>.<domain>` to the primary port and
/// `<app>-<port>.<domain>` to every port.
pub fn default_routes(app: &AppName, domain: &str, ports: &[u16], primary: u16) -> Routes {
    let mut http = vec![HttpRoute {
        hostname: format!("{app}.{domain}"),
        port: primary,
    }];
    for port in ports {
        http.push(HttpRoute {
            hostname: format!("{app}-{port}.{domain}"),
            port: *port,
        });
    }
    Routes { http, tcp: vec![] }
}

/// The container port a route names, or the app's only port when it names none.
fn route_port(given: Option<&str>, ports: &[u16], flag: &str) -> Result<u16> {
    match given {
        Some(text) => {
            let port = parse_port(text)?;
            if !ports.contains(&port) {
                return Err(Error::usage(format!(
                    "{flag} names port {port}, which the app does not expose (ports: {})",
                    join_ports(ports)
                )));
            }
            Ok(port)
        }
        None => match ports {
            [only] => Ok(*only),
            [] => Err(Error::usage(
                "cannot assign default port to route: no ports are exposed",
            )),
            _ => Err(Error::usage(format!(
                "cannot assign default port to route: more than one exposed port ({}); \
                 name one as {flag} HOST:PORT",
                join_ports(ports)
            ))),
        },
    }
}

pub fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `--http-route HOST[:PORT]`: a host without a dot gets `.<domain>` appended, a host
/// with a dot is used as given (Lattice's custom FQDN routes).
pub fn parse_http_route(text: &str, domain: &str, ports: &[u16]) -> Result<HttpRoute> {
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let hostname = route_hostname(text, host, domain)?;
    let port = route_port(port, ports, "--http-route")?;
    Ok(HttpRoute { hostname, port })
}

/// The canonical hostname of a route's HOST part, as [`parse_http_route`] keeps it.
pub fn route_hostname(text: &str, host: &str, domain: &str) -> Result<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(Error::usage(format!(
            "malformed route `{text}`: routes must be of the form HOST[:PORT]"
        )));
    }
    // `<h>.localhost` is how the router serves `<h>.<domain>` on this machine: it is the same
    // route, kept under its canonical name so ownership is checked once.
    let hostname = match host.strip_suffix(".localhost") {
        Some(label) if !label.is_empty() => format!("{label}.{domain}"),
        _ if host.contains('.') => host,
        _ => format!("{host}.{domain}"),
    };
    validate_domain(&hostname).map_err(|_| {
        Error::usage(format!(
            "malformed route `{text}`: `{hostname}` is not a valid hostname"
        ))
    })?;
    if hostname.parse::<std::net::IpAddr>().is_ok() || hostname == "localhost" {
        return Err(Error::usage(format!(
            "`{hostname}` cannot be a route: it is an address of this machine, not an app's name"
        ))
        .with_hint(format!(
            "use a name such as `myapp` (served as `myapp.{domain}` and `myapp.localhost`)"
        )));
    }
    Ok(hostname)
}

/// Every name the router serves an HTTP route under: the route itself and, for a route under
/// the system domain, its `.localhost` alias. Two apps may not share any of them.
pub fn served_names(hostname: &str, domain: &str) -> Vec<String> {
    let mut names = vec![hostname.to_string()];
    if let Some(label) = hostname.strip_suffix(&format!(".{domain}")) {
        names.push(format!("{label}.localhost"));
    }
    names
}

/// External ports Lattice refused for TCP routes (its components' ports); ltc keeps the list
/// so a route that worked there works here, and its own router port is checked by the node.
pub const LATTICE_RESERVED_PORTS: [u16; 34] = [
    22, 53, 80, 1169, 1234, 1700, 2222, 2380, 4001, 4222, 4223, 7001, 7777, 8070, 8080, 8081, 8082,
    8090, 8300, 8301, 8302, 8400, 8444, 8500, 8888, 8889, 9016, 9999, 17009, 17014, 17110, 17111,
    17222, 44445,
];

/// Parses `--tcp-route EXTERNAL[:PORT]`.
pub fn parse_tcp_route(text: &str, ports: &[u16]) -> Result<TcpRoute> {
    let (external, port) = match text.split_once(':') {
        Some((external, port)) => (external, Some(port)),
        None => (text, None),
    };
    let external_port = parse_port(external)?;
    if LATTICE_RESERVED_PORTS.contains(&external_port) {
        return Err(
            Error::usage(format!("Port {external_port} is reserved by Lattice."))
                .with_hint("pick another external port for the TCP route"),
        );
    }
    let port = route_port(port, ports, "--tcp-route")?;
    Ok(TcpRoute {
        external_port,
        port,
    })
}

/// How the node decides that an instance is healthy (Lattice's `--monitor-*` flags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Monitor {
    /// Something listens on this container port (the default: the primary port).
    Port { port: u16 },
    /// `GET <path>` on this container port answers 200.
    Url { port: u16, path: String },
    /// `/bin/sh -c <command>` inside the instance exits 0.
    Command { command: String },
    /// Healthy as soon as the process runs.
    None,
}

impl Monitor {
    /// How `status` shows it, as Lattice did: `Port (8080)`, `URL (8080:/health)`, ...
    pub fn describe(&self) -> String {
        match self {
            Monitor::Port { port } => format!("Port ({port})"),
            Monitor::Url { port, path } => format!("URL ({port}:{path})"),
            Monitor::Command { command } => format!("Command (/bin/sh -c {command})"),
            Monitor::None => "None".to_string(),
        }
    }
}

/// Parses `--monitor-url PORT:/path`.
pub fn parse_monitor_url(text: &str) -> Result<(u16, String)> {
    let bad = || {
        Error::usage(format!(
            "invalid --monitor-url `{text}`: use PORT:/PATH, e.g. 8080:/health"
        ))
    };
    let (port, path) = text.split_once(':').ok_or_else(bad)?;
    let port = parse_port(port).map_err(|_| bad())?;
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(bad());
    }
    Ok((port, path.to_string()))
}

/// What runs in each instance of an app: everything a revision fixes. A change to any of it
/// is a new revision, rolled out instance by instance; routes and the instance count are not
/// part of it (they change live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The image as the user named it (or the built-in one's name, or the directory built).
    pub image: String,
    /// The image reference containers are created from (the built-in image is tagged by digest).
    pub image_ref: String,
    /// The engine's id of the image when the revision was made (`sha256:...`).
    #[serde(default)]
    pub image_id: Option<String>,
    /// True for the built-in demo app, whose image the node builds when it is missing.
    #[serde(default)]
    pub builtin: bool,
    /// The command after `--`, replacing the image's ENTRYPOINT and CMD.
    #[serde(default)]
    pub start_command: Option<Vec<String>>,
    /// The command that runs, for display: the start command, or the image's ENTRYPOINT + CMD.
    pub effective_command: Vec<String>,
    /// `-e` values, in the order given (the image ENV lies under them).
    #[serde(default)]
    pub env: Vec<EnvVar>,
    pub ports: Vec<u16>,
    pub primary_port: u16,
    pub memory_mb: u64,
    #[serde(default)]
    pub disk_mb: u64,
    pub cpu_weight: u8,
    /// Most processes and threads an instance may have (0 = unlimited).
    #[serde(default = "default_pids_limit")]
    pub pids_limit: u32,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub privileged: bool,
    pub monitor: Monitor,
    /// How long one check may take (`--monitor-timeout`).
    pub monitor_timeout_ms: u64,
    /// How long a new instance may take to pass its first check before it counts as a crash
    /// (`--start-timeout`, Diego's start timeout).
    #[serde(default = "default_start_timeout_ms")]
    pub start_timeout_ms: u64,
    /// Volumes mounted in each instance (`--volume`).
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

/// Everything the node keeps about one app: the desired state, persisted in `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSpec {
    pub name: AppName,
    /// What runs in each instance: the current revision's.
    #[serde(flatten)]
    pub run: RunSpec,
    pub instances: u32,
    #[serde(default)]
    pub routes: Routes,
    /// The container set: changes whenever instances are to be replaced (a new revision, a
    /// restart, a rollback); every container carries it as a label. Unique within a home.
    pub generation: u64,
    /// Changes on every accepted request (create, scale, update, ...), so waiters can see they
    /// were overtaken by a later request. (Named `revision` on disk by the first format.)
    #[serde(rename = "revision")]
    pub change: u64,
    /// The app's revision number as users see it: 1 at create, +1 per change of what runs.
    #[serde(default = "first_release")]
    pub release: u64,
    /// Unix milliseconds.
    pub created_at: u64,
    /// The last [`HISTORY_KEPT`] revisions, oldest first; the last one is the current.
    #[serde(default)]
    pub history: Vec<Revision>,
    /// The rollout in progress, if any: persisted so a node that restarts finishes it.
    #[serde(default)]
    pub rollout: Option<Rollout>,
    /// How the last rollout ended, for the request that started it.
    #[serde(default)]
    pub last_rollout: Option<RolloutResult>,
    /// How the router and the node treat the app's requests; changed live.
    #[serde(default)]
    pub edge: Edge,
}

/// How long an instance may take to start its response, unless the app says otherwise
/// (gorouter's default).
pub const DEFAULT_RESPONSE_TIMEOUT_MS: u64 = 900_000;
/// How long a stopping instance's requests in flight may take, unless the app says otherwise.
pub const DEFAULT_DRAIN_TIMEOUT_MS: u64 = 10_000;

/// An app's edge settings: what the router does with its requests, and how long a stopping
/// instance drains. Changing them starts no new revision and restarts nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// `--response-timeout`; [`DEFAULT_RESPONSE_TIMEOUT_MS`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_timeout_ms: Option<u64>,
    /// `--drain-timeout`; [`DEFAULT_DRAIN_TIMEOUT_MS`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_timeout_ms: Option<u64>,
    /// `--redirect-https`: plain HTTP requests get a redirect to HTTPS.
    #[serde(default)]
    pub redirect_https: bool,
    /// Certificates the user gave (`--cert`/`--key`), by hostname; the files are copies kept
    /// in the home.
    #[serde(default)]
    pub certificates: BTreeMap<String, UserCertificate>,
}

impl Edge {
    pub fn response_timeout_ms(&self) -> u64 {
        self.response_timeout_ms
            .unwrap_or(DEFAULT_RESPONSE_TIMEOUT_MS)
    }

    pub fn drain_timeout_ms(&self) -> u64 {
        self.drain_timeout_ms.unwrap_or(DEFAULT_DRAIN_TIMEOUT_MS)
    }
}

/// A certificate a user gave for one hostname.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCertificate {
    /// The copy of the certificate chain in the home (PEM).
    pub cert_file: String,
    /// The copy of the key in the home (PEM, 0600).
    pub key_file: String,
    /// The certificate's last valid day (RFC 3339).
    pub not_after: String,
}

impl AppSpec {
    /// The run spec of the revision whose containers carry `generation`: the current one, the
    /// one being replaced, or one kept in the history.
    pub fn run_of(&self, generation: u64) -> &RunSpec {
        if generation == self.generation {
            return &self.run;
        }
        if let Some(rollout) = &self.rollout
            && rollout.from_generation == generation
        {
            return &rollout.from;
        }
        self.history
            .iter()
            .rev()
            .find(|r| r.generations.contains(&generation))
            .map_or(&self.run, |r| &r.run)
    }

    /// Whether containers of `generation` are this app's: its current one, the one a rollout
    /// replaces, or one of a kept revision (an app created again under a removed one's name
    /// has none of the old one's).
    pub fn owns_generation(&self, generation: u64) -> bool {
        generation == self.generation
            || self
                .rollout
                .as_ref()
                .is_some_and(|r| r.from_generation == generation)
            || self
                .history
                .iter()
                .any(|r| r.generations.contains(&generation))
    }

    /// The revision number of the containers carrying `generation`, when known.
    pub fn release_of(&self, generation: u64) -> Option<u64> {
        if generation == self.generation {
            return Some(self.release);
        }
        if let Some(rollout) = &self.rollout
            && rollout.from_generation == generation
        {
            return Some(rollout.from_release);
        }
        self.history
            .iter()
            .rev()
            .find(|r| r.generations.contains(&generation))
            .map(|r| r.number)
    }

    /// The current revision's history entry, made for a state written before revisions
    /// existed.
    pub fn ensure_history(&mut self) {
        if self.history.is_empty() {
            self.history.push(Revision {
                number: self.release,
                created_at: self.created_at,
                description: "created".into(),
                run: self.run.clone(),
                generations: vec![self.generation],
                outcome: Outcome::Active,
            });
        }
    }
}

fn first_release() -> u64 {
    1
}

/// Checks an instance count against [`MAX_INSTANCES`].
pub fn validate_instances(count: u32) -> Result<()> {
    if count > MAX_INSTANCES {
        return Err(Error::usage(format!(
            "{count} instances is more than the {MAX_INSTANCES} one app may have on one machine"
        )));
    }
    Ok(())
}

/// Lattice's instance states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceState {
    /// Desired, but no container yet.
    Unclaimed,
    /// The container is starting and has not yet passed its check.
    Claimed,
    /// Running and healthy: routed.
    Running,
    /// Exited or failed, waiting to be restarted.
    Crashed,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Unclaimed => "UNCLAIMED",
            InstanceState::Claimed => "CLAIMED",
            InstanceState::Running => "RUNNING",
            InstanceState::Crashed => "CRASHED",
        }
    }
}

/// Most processes and threads an instance may have unless its app says otherwise: a fork bomb
/// in one app must not take the machine (Docker and Kubernetes set no limit by default;
/// Heroku's dynos have 256 to 32768).
pub const DEFAULT_PIDS_LIMIT: u32 = 1024;

/// How long a new instance may take to become healthy before its start counts as a crash,
/// unless its app says otherwise (Cloud Foundry's and Diego's default start timeout).
pub const DEFAULT_START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn default_start_timeout_ms() -> u64 {
    DEFAULT_START_TIMEOUT.as_millis() as u64
}

fn default_pids_limit() -> u32 {
    DEFAULT_PIDS_LIMIT
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_registry_is_a_host_and_a_port() {
        assert_eq!(
            super::validate_registry("Registry.local:5000").unwrap(),
            "registry.local:5000"
        );
        assert_eq!(super::validate_registry("127.0.0.1").unwrap(), "127.0.0.1");
        for bad in [
            "http://127.0.0.1:5000",
            "127.0.0.1:5000/ltc",
            "127.0.0.1:70000",
            "127.0.0.1:x",
            ":5000",
            "a b:5000",
        ] {
            let error = super::validate_registry(bad).unwrap_err();
            assert_eq!(error.exit_code(), 13, "{bad}");
            assert!(error.message.contains(bad), "{}", error.message);
        }
    }

    use super::*;

    #[test]
    fn app_names_must_be_dns_labels() {
        for good in ["a", "lattice-app", "web1", "1web", &"a".repeat(50)] {
            assert!(AppName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Web",
            "my_app",
            "a..b",
            "../x",
            "a.b",
            "-web",
            "web-",
            "web app",
            "wéb",
            &"a".repeat(51),
        ] {
            let error = AppName::parse(bad).unwrap_err();
            assert_eq!(error.kind, crate::error::Kind::Usage, "{bad}");
        }
    }

    #[test]
    fn the_reserved_log_name_is_refused() {
        let error = AppName::parse(RESERVED_APP_NAME).unwrap_err();
        assert!(error.message.contains("reserved"), "{}", error.message);
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert_eq!(parse_port("8080").unwrap(), 8080);
        assert_eq!(parse_port("65535").unwrap(), 65535);
        for bad in ["0", "65536", "-1", "http", ""] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_routes_serve_the_primary_port_and_each_port() {
        let app = AppName::parse("web").unwrap();
        let routes = default_routes(&app, "example.io", &[8080, 9090], 8080);
        let hosts: Vec<_> = routes
            .http
            .iter()
            .map(|r| (r.hostname.as_str(), r.port))
            .collect();
        assert_eq!(
            hosts,
            [
                ("web.example.io", 8080),
                ("web-8080.example.io", 8080),
                ("web-9090.example.io", 9090)
            ]
        );
    }

    #[test]
    fn http_routes_append_the_domain_unless_they_have_a_dot() {
        let r = parse_http_route("api", "d.io", &[8080]).unwrap();
        assert_eq!((r.hostname.as_str(), r.port), ("api.d.io", 8080));
        let r = parse_http_route("API.Example.com.:9090", "d.io", &[8080, 9090]).unwrap();
        assert_eq!((r.hostname.as_str(), r.port), ("api.example.com", 9090));
        assert!(parse_http_route("api", "d.io", &[8080, 9090]).is_err());
        assert!(parse_http_route(":8080", "d.io", &[8080]).is_err());
        assert!(parse_http_route("api:7000", "d.io", &[8080]).is_err());
        assert!(parse_http_route("bad_host", "d.io", &[8080]).is_err());
    }

    #[test]
    fn tcp_routes_take_an_external_port_and_an_optional_container_port() {
        let r = parse_tcp_route("50000", &[5222]).unwrap();
        assert_eq!((r.external_port, r.port), (50000, 5222));
        let r = parse_tcp_route("50001:9090", &[8080, 9090]).unwrap();
        assert_eq!((r.external_port, r.port), (50001, 9090));
        assert!(parse_tcp_route("70000", &[8080]).is_err());
    }

    #[test]
    fn monitor_urls_are_port_and_path() {
        assert_eq!(
            parse_monitor_url("8080:/health").unwrap(),
            (8080, "/health".to_string())
        );
        for bad in ["8080", "x:/h", "8080:health", ":/h", "8080:/a b", "0:/h"] {
            assert!(parse_monitor_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_names_follow_the_shell() {
        assert!(validate_env_name("FOO_1").is_ok());
        assert!(validate_env_name("_x").is_ok());
        for bad in ["", "1A", "A-B", "A B", "=x"] {
            assert!(validate_env_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_are_dns_names() {
        assert!(validate_domain("127.0.0.1.xip.io").is_ok());
        assert!(validate_domain("local.lattice.cf").is_ok());
        for bad in ["", "a..b", "-a.b", "a_b.c", "a b"] {
            assert!(validate_domain(bad).is_err(), "{bad}");
        }
    }
}
