//! The CLI's side of the node API: HTTP/1.1 over the node's Unix socket, and node auto-start.
//!
//! Every command that needs the node calls [`connect`], which starts the node in the background
//! (and says so on stderr) when its socket does not answer. Several commands may race to start
//! it: every spawned node but one loses the `node.lock` and exits, and every client simply waits
//! for the socket to answer.

use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::{ENGINE_ERROR_HEADER, VERSION_HEADER};
use crate::ui::Ui;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::UnixStream;

/// How long a command waits for a node it started to answer.
pub const NODE_START_TIMEOUT: Duration = Duration::from_secs(10);

/// A node that has not answered after this long (beyond what the request itself waits for) is
/// named on stderr, so a command never waits in silence.
pub const SLOW_NODE_NOTE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    log_file: PathBuf,
    lock_file: PathBuf,
    timeout: Duration,
    /// Where to say that the node is slow to answer; nowhere when `None`.
    notes: Option<Ui>,
}

/// Why a request got no answer from the node.
enum Unanswered {
    /// Nothing listens on the socket (no node, or a stale socket file).
    NoNode,
    /// The node was there but the exchange failed.
    Broken(String),
    /// The node took the connection and did not answer in time (stopped, hung).
    Hung,
}

impl Client {
    pub fn new(settings: &Settings) -> Client {
        Client {
            socket: settings.paths.socket(),
            log_file: settings.paths.log_file(),
            lock_file: settings.paths.lock_file(),
            timeout: settings.node_timeout,
            notes: None,
        }
    }

    /// Says on `ui`'s stderr when the node is slow to answer.
    pub fn with_notes(mut self, ui: &Ui) -> Client {
        self.notes = Some(ui.clone());
        self
    }

    /// The node's pid as its lock file records it.
    fn node_pid(&self) -> String {
        std::fs::read_to_string(&self.lock_file)
            .map(|pid| pid.trim().to_string())
            .ok()
            .filter(|pid| !pid.is_empty())
            .unwrap_or_else(|| "?".into())
    }

    /// The node took the request and did not answer in time (16).
    fn hung(&self) -> Error {
        let pid = self.node_pid();
        Error::new(
            Kind::Timeout,
            format!(
                "the ltc node (pid {pid}) did not respond within {}",
                humantime::format_duration(self.timeout)
            ),
        )
        .with_hint(format!(
            "its log is `{}`; `kill {pid}` stops it and the next command starts a new one \
             (LTC_NODE_TIMEOUT changes how long to wait)",
            self.log_file.display()
        ))
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> std::result::Result<Response<Incoming>, Unanswered> {
        // A long poll (`wait_ms`) is answered that much later by design.
        let expected = path
            .split_once('?')
            .and_then(|(_, query)| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("wait_ms="))
                    .and_then(|ms| ms.parse().ok())
            })
            .map_or(Duration::ZERO, Duration::from_millis);
        let attempt = async {
            let stream = UnixStream::connect(&self.socket)
                .await
                .map_err(|_| Unanswered::NoNode)?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|e| Unanswered::Broken(e.to_string()))?;
            tokio::spawn(connection);
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header("host", "ltc-node")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.unwrap_or_default())))
                .expect("valid request");
            sender
                .send_request(request)
                .await
                .map_err(|e| Unanswered::Broken(e.to_string()))
        };
        tokio::pin!(attempt);
        tokio::select! {
            answer = &mut attempt => return answer,
            _ = tokio::time::sleep(expected + SLOW_NODE_NOTE) => {}
        }
        if let Some(ui) = &self.notes {
            ui.note(format!(
                "waiting for the ltc node (pid {}) to answer...",
                self.node_pid()
            ));
        }
        let rest = (expected + self.timeout).saturating_sub(expected + SLOW_NODE_NOTE);
        tokio::time::timeout(rest, attempt)
            .await
            .unwrap_or(Err(Unanswered::Hung))
    }

    fn lost(&self, reason: &str) -> Error {
        Error::failed(format!("lost the connection to the ltc node: {reason}"))
            .with_hint(format!("the node's log is `{}`", self.log_file.display()))
    }

    /// Sends a request and decodes the JSON answer, with the node's state version.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<(T, u64)> {
        self.call_reporting(method, path, body)
            .await
            .map(|(value, version, _)| (value, version))
    }

    /// A `GET` the node answers from what it knows even when the engine is unreachable; the
    /// engine's error comes with it.
    pub async fn get_known<T: DeserializeOwned>(&self, path: &str) -> Result<(T, Option<Error>)> {
        let (value, _, engine) = self.call_reporting(Method::GET, path, None::<&()>).await?;
        let engine = engine.map(|message| {
            Error::new(crate::error::Kind::Engine, message)
                .with_hint("start Docker, or point DOCKER_HOST at its socket, then retry")
        });
        Ok((value, engine))
    }

    async fn call_reporting<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<(T, u64, Option<String>)> {
        let body = body.map(|b| serde_json::to_vec(b).expect("serialisable"));
        let response = match self.exchange(method, path, body).await {
            Ok(response) => response,
            Err(Unanswered::NoNode) => return Err(self.lost("the node is not running")),
            Err(Unanswered::Broken(reason)) => return Err(self.lost(&reason)),
            Err(Unanswered::Hung) => return Err(self.hung()),
        };
        let status = response.status();
        let version = response
            .headers()
            .get(VERSION_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        let engine_error = response
            .headers()
            .get(ENGINE_ERROR_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.lost(&e.to_string()))?
            .to_bytes();
        if status.is_success() {
            let value = serde_json::from_slice(&bytes)
                .map_err(|e| self.lost(&format!("unexpected answer: {e}")))?;
            return Ok((value, version, engine_error));
        }
        Err(serde_json::from_slice::<Error>(&bytes).unwrap_or_else(|_| {
            self.lost(&format!(
                "the node answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            ))
        }))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(Method::GET, path, None::<&()>)
            .await
            .map(|(v, _)| v)
    }

    /// Sends a request whose answer is NDJSON and hands each line to `on_line` as it arrives.
    pub async fn stream<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &(impl Serialize + ?Sized),
        mut on_line: impl FnMut(T),
    ) -> Result<()> {
        self.stream_until(method, path, body, |line| {
            on_line(line);
            true
        })
        .await
    }

    /// As [`Client::stream`], until `on_line` returns false.
    pub async fn stream_until<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &(impl Serialize + ?Sized),
        mut on_line: impl FnMut(T) -> bool,
    ) -> Result<()> {
        let body = serde_json::to_vec(body).expect("serialisable");
        let response = match self.exchange(method, path, Some(body)).await {
            Ok(response) => response,
            Err(Unanswered::NoNode) => return Err(self.lost("the node is not running")),
            Err(Unanswered::Broken(reason)) => return Err(self.lost(&reason)),
            Err(Unanswered::Hung) => return Err(self.hung()),
        };
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body
                .collect()
                .await
                .map_err(|e| self.lost(&e.to_string()))?
                .to_bytes();
            return Err(serde_json::from_slice::<Error>(&bytes)
                .unwrap_or_else(|_| self.lost(&format!("the node answered {status}"))));
        }
        let mut pending = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| self.lost(&e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let value = serde_json::from_slice(&line)
                    .map_err(|e| self.lost(&format!("unexpected answer: {e}")))?;
                if !on_line(value) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Whether a node answers on the socket; an error (16) when one took the request and did
    /// not answer in time.
    pub async fn ping(&self) -> Result<bool> {
        Ok(self.health().await?.is_some())
    }

    /// The node's health answer (its pid, router address and engine), `None` when no node
    /// answers; an error (16) when one took the request and did not answer in time.
    pub async fn health(&self) -> Result<Option<crate::model::NodeHealth>> {
        let response = match self.exchange(Method::GET, "/v1/health", None).await {
            Ok(response) if response.status().is_success() => response,
            Ok(_) | Err(Unanswered::NoNode | Unanswered::Broken(_)) => return Ok(None),
            Err(Unanswered::Hung) => return Err(self.hung()),
        };
        let Ok(body) = response.into_body().collect().await else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&body.to_bytes()).ok())
    }
}

/// Starts `ltc daemon run` in the background, detached from this terminal, with its output
/// appended to `node.log`.
pub fn spawn_node(settings: &Settings) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    settings.paths.ensure_home()?;
    let log_path = settings.paths.log_file();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| Error::fs(format!("cannot open `{}`: {e}", log_path.display())))?;
    let log_err = log
        .try_clone()
        .map_err(|e| Error::fs(format!("cannot open `{}`: {e}", log_path.display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::fs(format!("cannot find the ltc executable: {e}")))?;
    Command::new(exe)
        .args(["daemon", "run"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| Error::failed(format!("cannot start the ltc node: {e}")))
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A node reads `LTC_ROUTER_ADDR` and `DOCKER_HOST` (or the Docker context) when it starts: a
/// command run with other values talks to it all the same, so it says which values apply.
fn warn_if_started_otherwise(health: &crate::model::NodeHealth, settings: &Settings, ui: &Ui) {
    let mut differ = Vec::new();
    let router = settings.router_addr.to_string();
    if let Some(node) = health.router.as_ref().filter(|node| **node != router) {
        differ.push(format!("router {node} (not LTC_ROUTER_ADDR {router})"));
    }
    if let Some(node) = health
        .engine
        .as_ref()
        .filter(|node| **node != settings.docker_host)
    {
        differ.push(format!(
            "Docker engine {node} (not {})",
            settings.docker_host
        ));
    }
    if !differ.is_empty() {
        ui.warn(format!(
            "the running ltc node (pid {}) uses {}; other values apply to a new node: `ltc daemon stop`, then run the command again",
            health.pid,
            differ.join(" and ")
        ));
    }
}

/// Why a node that exited did not start, as it said it in its log: its `ltc: ` line and its
/// `hint: `, with the kind its exit code says (a router address in use is configuration, 10).
fn node_start_error(log: &Path, exit_code: Option<i32>) -> Error {
    let text = log_tail(log, 20);
    let lines: Vec<&str> = text.lines().collect();
    let said = lines.iter().rposition(|l| l.starts_with("ltc: "));
    let kind = exit_code.map_or(Kind::Failed, Kind::from_exit_code);
    let Some(at) = said else {
        let last = lines
            .last()
            .copied()
            .unwrap_or("it wrote nothing to its log");
        return Error::new(kind, format!("the ltc node did not start: {last}"))
            .with_hint(format!("its log is `{}`", log.display()));
    };
    let message = lines[at].trim_start_matches("ltc: ");
    let hint = lines
        .get(at + 1)
        .and_then(|l| l.strip_prefix("hint: "))
        .map_or(String::new(), |h| format!("{h}; "));
    Error::new(kind, format!("the ltc node did not start: {message}"))
        .with_hint(format!("{hint}its log is `{}`", log.display()))
}

/// Connects to the node of this `LTC_HOME`, starting it when it does not answer.
pub async fn connect(settings: &Settings, ui: &Ui) -> Result<Client> {
    let client = Client::new(settings).with_notes(ui);
    if let Some(health) = client.health().await? {
        warn_if_started_otherwise(&health, settings, ui);
        return Ok(client);
    }
    ui.note(format!(
        "starting the ltc node in the background (log: {})",
        settings.paths.log_file().display()
    ));
    let child = spawn_node(settings)?;
    wait_for_node(&client, settings, child, NODE_START_TIMEOUT).await?;
    Ok(client)
}

/// Waits until a node just spawned answers. A spawned node that exits at once usually lost
/// the race for `node.lock` to another one, so its exit alone is not a failure; one that
/// exited and nothing answers for 2 s is (14), and one still starting when `timeout` is up
/// is a timeout (16).
pub async fn wait_for_node(
    client: &Client,
    settings: &Settings,
    mut child: Child,
    timeout: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut exited_at = None;
    let mut exit_code = None;
    loop {
        if matches!(client.ping().await, Ok(true)) {
            return Ok(());
        }
        if exited_at.is_none()
            && let Ok(Some(status)) = child.try_wait()
        {
            exited_at = Some(tokio::time::Instant::now());
            exit_code = status.code();
        }
        let gave_up = exited_at.is_some_and(|at| at.elapsed() > Duration::from_secs(2));
        let timed_out = tokio::time::Instant::now() >= deadline;
        if gave_up || timed_out {
            let log = settings.paths.log_file();
            if exited_at.is_some() {
                return Err(node_start_error(&log, exit_code));
            }
            let tail = log_tail(&log, 3);
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            };
            let error = if exited_at.is_some() {
                Error::failed(format!("the ltc node did not start{tail}"))
            } else {
                Error::new(
                    Kind::Timeout,
                    format!(
                        "the ltc node did not answer within {}{tail}",
                        humantime::format_duration(timeout)
                    ),
                )
            };
            return Err(error.with_hint(format!("its log is `{}`", log.display())));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Paths;

    fn settings(dir: &Path) -> Settings {
        Settings {
            paths: Paths::new(dir),
            docker_host: "unix:///nonexistent".into(),
            router_addr: "127.0.0.1:8080".parse().unwrap(),
            router_tls_addr: None,
            router_tls_explicit: false,
            color_allowed: false,
            node_timeout: crate::config::DEFAULT_NODE_TIMEOUT,
            router_max_conns: crate::router::MAX_PENDING_PER_INSTANCE,
        }
    }

    #[tokio::test]
    async fn a_node_still_starting_when_the_time_is_up_is_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        // A process that lives on and never answers on the socket.
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let error = wait_for_node(
            &Client::new(&settings),
            &settings,
            child,
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind, Kind::Timeout);
        assert_eq!(error.exit_code(), 16);
        assert!(
            error.message.contains("did not answer within 100ms"),
            "{error:?}"
        );
        assert!(error.hint.unwrap().contains("node.log"));
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }

    #[tokio::test]
    async fn a_node_whose_process_exited_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        std::fs::write(settings.paths.log_file(), "cannot bind 127.0.0.1:8080\n").unwrap();
        let child = Command::new("true").spawn().unwrap();
        let error = wait_for_node(
            &Client::new(&settings),
            &settings,
            child,
            Duration::from_secs(30),
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind, Kind::Failed);
        assert!(error.message.contains("cannot bind"), "{error:?}");
    }
}
