//! Resolved settings: the only place that reads ltc's environment variables.
//!
//! `LTC_HOME`, when set, holds everything one node owns: `config.json` (the target domain),
//! `state.json` (desired state), `instances.json` (the containers it made), `node.sock`, `node.log`, `node.lock` and `install-id`. When it
//! is unset, ltc uses the platform's data directory (`~/.local/share/ltc` on Linux).

use crate::error::{Error, Result};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Where the router listens unless `LTC_ROUTER_ADDR` says otherwise.
pub const DEFAULT_ROUTER_ADDR: &str = "127.0.0.1:8080";
/// Where the router serves HTTPS unless `LTC_ROUTER_TLS_ADDR` says otherwise (`off`: nowhere).
pub const DEFAULT_ROUTER_TLS_ADDR: &str = "127.0.0.1:8443";

/// How long a command waits for the node to answer unless `LTC_NODE_TIMEOUT` says otherwise:
/// longer than any engine call the node makes on a request's behalf (10 s each).
pub const DEFAULT_NODE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Docker's own default when `DOCKER_HOST` is unset.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The files of one `LTC_HOME`.
#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
}

impl Paths {
    /// Creates `LTC_HOME` (mode 0700) when it does not exist.
    pub fn ensure_home(&self) -> Result<()> {
        let home = &self.home;
        std::fs::create_dir_all(home)
            .and_then(|()| std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)))
            .map_err(|e| Error::fs(format!("cannot create `{}`: {e}", home.display())))
    }

    pub fn new(home: impl Into<PathBuf>) -> Paths {
        Paths { home: home.into() }
    }
    pub fn config_file(&self) -> PathBuf {
        self.home.join("config.json")
    }
    pub fn state_file(&self) -> PathBuf {
        self.home.join("state.json")
    }
    pub fn instances_file(&self) -> PathBuf {
        self.home.join("instances.json")
    }
    pub fn socket(&self) -> PathBuf {
        self.home.join("node.sock")
    }
    /// Where the running node offers its router to the node that replaces it.
    pub fn handover_socket(&self) -> PathBuf {
        self.home.join("handover.sock")
    }
    pub fn log_file(&self) -> PathBuf {
        self.home.join("node.log")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.home.join("node.lock")
    }
    pub fn install_id_file(&self) -> PathBuf {
        self.home.join("install-id")
    }
}

/// Everything a command or the node needs from the environment, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Paths,
    pub docker_host: String,
    pub router_addr: SocketAddr,
    /// Where HTTPS is served: `None` when `LTC_ROUTER_TLS_ADDR=off`.
    pub router_tls_addr: Option<SocketAddr>,
    /// Whether `LTC_ROUTER_TLS_ADDR` was set: then a port the router cannot take stops the node,
    /// as for `LTC_ROUTER_ADDR`; the default port taken only turns HTTPS off, with a warning.
    pub router_tls_explicit: bool,
    /// Colour is allowed (`NO_COLOR` unset and `TERM` not empty or `dumb`); whether a stream is
    /// a terminal is decided by the printer.
    pub color_allowed: bool,
    /// How long a command waits for the node to answer a request before it gives up (16).
    pub node_timeout: std::time::Duration,
    /// Requests the router sends one instance at once (`LTC_ROUTER_MAX_CONNS`; 0: no limit).
    pub router_max_conns: usize,
}

impl Settings {
    pub fn from_env() -> Result<Settings> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let home = match var("LTC_HOME") {
            Some(home) => absolute(Path::new(&home))?,
            None => dirs::data_local_dir()
                .or_else(dirs::home_dir)
                .map(|dir| dir.join("ltc"))
                .ok_or_else(|| {
                    Error::config("cannot find a data directory for ltc")
                        .with_hint("set LTC_HOME to a directory ltc may use")
                })?,
        };
        let router_text = var("LTC_ROUTER_ADDR").unwrap_or_else(|| DEFAULT_ROUTER_ADDR.into());
        let router_addr = router_text.parse().map_err(|_| {
            Error::config(format!(
                "LTC_ROUTER_ADDR `{router_text}` is not an address like `127.0.0.1:8080`"
            ))
        })?;
        let tls_text = var("LTC_ROUTER_TLS_ADDR");
        let router_tls_addr = match tls_text.as_deref() {
            Some("off") => None,
            Some(text) => Some(text.parse().map_err(|_| {
                Error::config(format!(
                    "LTC_ROUTER_TLS_ADDR `{text}` is not an address like `127.0.0.1:8443` (or `off`)"
                ))
            })?),
            None => Some(DEFAULT_ROUTER_TLS_ADDR.parse().expect("a valid default")),
        };
        let node_timeout = match var("LTC_NODE_TIMEOUT") {
            Some(text) => crate::cli::parse_timeout(&text).map_err(|e| {
                Error::config(format!("LTC_NODE_TIMEOUT `{text}` is not a duration: {e}"))
            })?,
            None => DEFAULT_NODE_TIMEOUT,
        };
        let router_max_conns = match var("LTC_ROUTER_MAX_CONNS") {
            Some(text) => text.parse().map_err(|_| {
                Error::config(format!(
                    "LTC_ROUTER_MAX_CONNS `{text}` is not a number of requests (0: no limit)"
                ))
                .with_hint(format!(
                    "give a whole number, or unset it for the default of {}",
                    crate::router::MAX_PENDING_PER_INSTANCE
                ))
            })?,
            None => crate::router::MAX_PENDING_PER_INSTANCE,
        };
        let term = var("TERM");
        Ok(Settings {
            paths: Paths::new(home),
            docker_host: docker_endpoint(&var)?,
            router_addr,
            router_tls_addr,
            router_tls_explicit: tls_text.is_some(),
            color_allowed: var("NO_COLOR").is_none() && term.is_some_and(|t| t != "dumb"),
            node_timeout,
            router_max_conns,
        })
    }
}

/// The Docker endpoint as the Docker CLI and Compose pick it: `DOCKER_HOST`, else the context
/// `DOCKER_CONTEXT` names, else the current context in the Docker CLI's `config.json`
/// (`DOCKER_CONFIG` moves it from `~/.docker`), else Docker's default socket.
fn docker_endpoint(var: &impl Fn(&str) -> Option<String>) -> Result<String> {
    if let Some(host) = var("DOCKER_HOST") {
        return Ok(host);
    }
    let config_dir = var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".docker")));
    let context = var("DOCKER_CONTEXT").or_else(|| {
        let bytes = std::fs::read(config_dir.as_ref()?.join("config.json")).ok()?;
        let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        config.get("currentContext")?.as_str().map(str::to_string)
    });
    let Some(name) = context.filter(|name| !name.is_empty() && name != "default") else {
        return Ok(DEFAULT_DOCKER_HOST.into());
    };
    // The Docker CLI keeps a context under the SHA-256 of its name.
    let digest = {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(name.as_bytes());
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let meta = config_dir
        .unwrap_or_default()
        .join("contexts/meta")
        .join(digest)
        .join("meta.json");
    let unusable = |why: String| {
        Error::config(format!("Docker context `{name}` {why}"))
            .with_hint("`docker context ls` lists the contexts; DOCKER_HOST overrides them")
    };
    let bytes = std::fs::read(&meta)
        .map_err(|e| unusable(format!("cannot be read from `{}`: {e}", meta.display())))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| unusable(format!("is damaged (`{}`: {e})", meta.display())))?;
    value["Endpoints"]["docker"]["Host"]
        .as_str()
        .filter(|host| !host.is_empty())
        .map(str::to_string)
        .ok_or_else(|| unusable("names no Docker endpoint".to_string()))
}

impl Settings {
    /// A variable of the caller's environment, for `-e NAME` without a value (Lattice copied
    /// the value from the environment `ltc` ran in).
    pub fn caller_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    std::env::current_dir()
        .map(|dir| dir.join(path))
        .map_err(|e| Error::fs(format!("cannot resolve LTC_HOME `{}`: {e}", path.display())))
}
