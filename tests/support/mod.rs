//! Test fixtures: a private `LTC_HOME` per test that runs the real `ltc` binary, and removes
//! its node and every container it made when dropped (also when the test fails).

#![allow(dead_code)]

pub mod swarm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const LTC: &str = env!("CARGO_BIN_EXE_ltc");

/// Fails the test, loudly, when no Docker engine answers.
pub fn require_docker() {
    let output = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "this test needs a Docker engine, and `docker info` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!("this test needs a Docker engine, and the docker CLI could not run: {e}"),
    }
}

/// A free TCP port on 127.0.0.1, never one this test process was given before: the kernel
/// can hand a just-released port out again at once, and two of a home's ports (router and
/// HTTPS) must differ.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut given = GIVEN.lock().unwrap();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(self.code, code, "expected exit {code}: {self:#?}");
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// A private `LTC_HOME` with its own router port.
pub struct Home {
    dir: tempfile::TempDir,
    pub router_port: u16,
    /// A fixed HTTPS port (snapshots name it); otherwise the node takes any free one
    /// (`127.0.0.1:0`, so no two tests race for a port) and [`Home::tls_port`] asks it.
    pub fixed_tls_port: Option<u16>,
    env: Vec<(String, String)>,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::Builder::new()
            .prefix("ltc-test-")
            .tempdir()
            .unwrap();
        Home {
            dir,
            router_port: free_port(),
            fixed_tls_port: None,
            env: Vec::new(),
        }
    }

    /// A home whose router serves HTTPS on a port chosen now, as snapshots need.
    pub fn with_fixed_tls_port(mut self) -> Home {
        self.fixed_tls_port = Some(free_port());
        self
    }

    /// Where the running node serves HTTPS (starting the node when none runs).
    #[track_caller]
    pub fn tls_port(&self) -> u16 {
        let ca = self.json(&["ca"]);
        let address = ca["https_address"].as_str().expect("HTTPS is served");
        address.rsplit_once(':').unwrap().1.parse().unwrap()
    }

    /// A home whose commands (and node) see `name=value`.
    pub fn with_env(mut self, name: &str, value: &str) -> Home {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(LTC);
        command
            .args(args)
            .env("LTC_HOME", self.dir.path())
            .env("LTC_ROUTER_ADDR", format!("127.0.0.1:{}", self.router_port))
            .env(
                "LTC_ROUTER_TLS_ADDR",
                format!("127.0.0.1:{}", self.fixed_tls_port.unwrap_or(0)),
            )
            .env("NO_COLOR", "1")
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    pub fn ltc(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    /// What the shell would offer for the last of `words` (bash protocol of clap_complete).
    pub fn complete(&self, words: &[&str]) -> Run {
        let mut args = vec!["--", "ltc"];
        args.extend_from_slice(words);
        let mut command = self.command(&args);
        command
            .env("COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
            .env("_CLAP_COMPLETE_COMP_TYPE", "9")
            .env("_CLAP_COMPLETE_SPACE", "true")
            .env("_CLAP_IFS", "\n");
        Run::from(command.output().unwrap())
    }

    /// Runs a command that must succeed with `--json`, and returns its JSON.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.ltc(&all).ok().json()
    }

    pub fn install_id(&self) -> Option<String> {
        std::fs::read_to_string(self.path().join("install-id"))
            .ok()
            .map(|s| s.trim().to_string())
    }

    pub fn node_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.path().join("node.lock"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// This home's containers as Docker lists them.
    pub fn containers(&self) -> Vec<Container> {
        match self.install_id() {
            Some(id) => containers_with_label(&format!("io.ltc.install={id}")),
            None => Vec::new(),
        }
    }

    /// Waits until `ltc status APP --json` satisfies `done`, for at most `timeout`.
    #[track_caller]
    pub fn wait_status(
        &self,
        app: &str,
        timeout: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.ltc(&["status", app, "--json"]);
            if run.code == 0 {
                let status = run.json();
                if done(&status) {
                    return status;
                }
                if Instant::now() >= deadline {
                    panic!("timed out waiting for `{app}`: {status:#}");
                }
            } else if Instant::now() >= deadline {
                panic!("timed out waiting for `{app}`: {run:#?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Home {
    /// Waits until the node counts `count` clients following logs, events or its own log, so
    /// a stream just started misses nothing that follows.
    #[track_caller]
    pub fn wait_stream_subscribers(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.json(&["daemon", "status"])["node"]["stream_subscribers"] != count {
            assert!(Instant::now() < deadline, "{count} streams never opened");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let install = self.install_id();
        let _ = self.command(&["daemon", "stop"]).output();
        let sweep = |home: &Home| {
            let ids: Vec<String> = home.containers().into_iter().map(|c| c.id).collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["rm", "-f"])
                    .args(&ids)
                    .output();
            }
        };
        sweep(self);
        // A node killed by the test may have asked the engine for containers that appear
        // only after the first sweep: once more, a moment later.
        let starts = std::fs::read_to_string(self.path().join("node.log"))
            .unwrap_or_default()
            .matches(" started (pid ")
            .count();
        if starts > 1 {
            std::thread::sleep(Duration::from_millis(1500));
            sweep(self);
        }
        // The names the home gave its revisions' images (`ltc/<app>:<revision>-<home>`).
        if let Some(install) = install {
            let home = &install[..install.len().min(8)];
            let listed = Command::new("docker")
                .args(["images", "--filter", "reference=ltc/*", "--format"])
                .arg("{{.Repository}}:{{.Tag}}")
                .output();
            let names: Vec<String> = listed
                .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
                .unwrap_or_default()
                .lines()
                .filter(|name| name.ends_with(&format!("-{home}")))
                .map(String::from)
                .collect();
            if !names.is_empty() {
                let _ = Command::new("docker").arg("rmi").args(&names).output();
            }
        }
    }
}

/// A container as `docker ps` shows it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub app: String,
    pub index: String,
    pub state: String,
}

pub fn containers_with_label(label: &str) -> Vec<Container> {
    let output = Command::new("docker")
        .args(["ps", "-a", "--filter", &format!("label={label}"), "--format"])
        .arg("{{.ID}}\t{{.Names}}\t{{.Label \"io.ltc.app\"}}\t{{.Label \"io.ltc.index\"}}\t{{.State}}")
        .output()
        .expect("docker ps runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
            Some(Container {
                id: f.next()?.into(),
                name: f.next()?.into(),
                app: f.next()?.into(),
                index: f.next()?.into(),
                state: f.next()?.into(),
            })
        })
        .collect()
}

/// GET `http://127.0.0.1:<port><path>` with a plain socket; returns (status, body).
pub fn http_get(port: u16, path: &str, host: &str) -> std::io::Result<(u16, String)> {
    http_get_within(port, path, host, 10)
}

/// GET as [`http_get`], waiting at most `seconds` for the answer.
pub fn http_get_within(
    port: u16,
    path: &str,
    host: &str,
    seconds: u64,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(seconds)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// POST `body` to `http://127.0.0.1:<port><path>`; returns (status, body).
pub fn http_post(port: u16, path: &str, host: &str, body: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Host ports of an app's instances (the primary container port), by index.
pub fn instance_ports(status: &serde_json::Value, container_port: u16) -> Vec<(u64, u16)> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let port = i["ports"][container_port.to_string()].as_u64().unwrap() as u16;
            (i["index"].as_u64().unwrap(), port)
        })
        .collect()
}

pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(name)
}

/// Load through the router from a few threads, each request on a new connection, until
/// stopped (and never longer than `limit`). Counts answers that are not 200.
pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// GETs only.
    pub fn start(port: u16, host: &str, limit: Duration) -> Load {
        Load::run(port, host, limit, false)
    }

    /// GETs and POSTs in turn.
    pub fn mixed(port: u16, host: &str, limit: Duration) -> Load {
        Load::run(port, host, limit, true)
    }

    fn run(port: u16, host: &str, limit: Duration, posts: bool) -> Load {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let ok = std::sync::Arc::new(AtomicUsize::new(0));
        let failed = std::sync::Arc::new(AtomicUsize::new(0));
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let deadline = Instant::now() + limit;
        let threads = (0..4)
            .map(|_| {
                let (stop, ok, failed, errors) =
                    (stop.clone(), ok.clone(), failed.clone(), errors.clone());
                let host = host.to_string();
                std::thread::spawn(move || {
                    let mut post = false;
                    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                        // GETs and POSTs in turn: a POST is never retried by the router, so
                        // one cut by a stopping instance shows as a failure.
                        post = posts && !post;
                        let answer = match post {
                            true => http_post(port, "/index", &host, "payload=1"),
                            false => http_get(port, "/index", &host),
                        };
                        match answer {
                            Ok((200, _)) => {
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            other => {
                                failed.fetch_add(1, Ordering::SeqCst);
                                errors.lock().unwrap().push(format!("{other:?}"));
                            }
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            ok,
            failed,
            errors,
            threads,
        }
    }

    /// Stops the load and returns (ok, failed, first errors).
    pub fn finish(self) -> (usize, usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads {
            thread.join().unwrap();
        }
        let errors = self
            .errors
            .lock()
            .unwrap()
            .iter()
            .take(5)
            .cloned()
            .collect();
        (
            self.ok.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
            errors,
        )
    }
}

/// Instance guids of a `status --json`, by index.
pub fn guids(status: &serde_json::Value) -> Vec<String> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["guid"].as_str().unwrap().to_string())
        .collect()
}

/// Instance indices of a `status --json`.
pub fn indices(status: &serde_json::Value) -> Vec<u64> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["index"].as_u64().unwrap())
        .collect()
}

/// The app wants `count` instances and has exactly those, all RUNNING and none stopping.
pub fn converged(status: &serde_json::Value, count: u64) -> bool {
    let instances = status["instances"].as_array().unwrap();
    status["desired_instances"] == count
        && status["running_instances"] == count
        && instances.len() as u64 == count
        && instances
            .iter()
            .all(|i| i["state"] == "RUNNING" && i["stopping"] == false)
}

/// A long-running command (`logs`, `events`, `debug-logs`, `test`) in the background. Its
/// output is read as it comes, as a terminal or a script would, so it never blocks on a full
/// pipe and a test can wait for a line before acting.
pub struct Follow {
    child: std::process::Child,
    stdout: Arc<std::sync::Mutex<Vec<u8>>>,
    stderr: Arc<std::sync::Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Follow {
    pub fn start(home: &Home, args: &[&str]) -> Follow {
        let mut child = home.command(args).spawn().unwrap();
        let stdout = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = Arc::new(std::sync::Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().unwrap(), stdout.clone()),
            drain(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Follow {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has printed on stdout and stderr so far.
    pub fn output(&self) -> (String, String) {
        let text = |buffer: &Arc<std::sync::Mutex<Vec<u8>>>| {
            String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
        };
        (text(&self.stdout), text(&self.stderr))
    }

    /// Waits until stdout or stderr holds `needle`; fails the test after `limit`.
    #[track_caller]
    pub fn wait_for(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let (out, err) = self.output();
            if out.contains(needle) || err.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no `{needle}` within {limit:?}:\n--- stdout\n{out}\n--- stderr\n{err}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ends it as a user would (Ctrl-C) and returns how it ended and all it printed.
    pub fn stop(self) -> Run {
        self.signal("-INT")
    }

    /// Sends `signal` (as `kill` names it, e.g. `-TERM`) and waits for the process to end.
    pub fn signal(self, signal: &str) -> Run {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        self.wait()
    }

    /// Waits for the process to end by itself.
    pub fn wait(mut self) -> Run {
        let status = self.child.wait().unwrap();
        for reader in std::mem::take(&mut self.readers) {
            reader.join().unwrap();
        }
        let (stdout, stderr) = self.output();
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// Copies a pipe into `buffer` until it closes.
fn drain(
    mut pipe: impl std::io::Read + Send + 'static,
    buffer: Arc<std::sync::Mutex<Vec<u8>>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buffer.lock().unwrap().extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("reading the stream: {e}"),
            }
        }
    })
}

/// A small image with a shell: busybox (Debian's `busybox-static`) on `scratch`, serving
/// HTTP on 8080 (`httpd`). Built once per test run, kept between runs.
pub fn busybox_image() -> String {
    static IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let tag = "ltc-test-busybox:1".to_string();
            let present = Command::new("docker")
                .args(["image", "inspect", &tag])
                .output()
                .unwrap();
            if present.status.success() {
                return tag;
            }
            let busybox = Path::new("/bin/busybox");
            assert!(
                busybox.exists(),
                "the tests need a static busybox: apt-get install busybox-static"
            );
            let dir = tempfile::tempdir().unwrap();
            std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
            std::fs::write(
                dir.path().join("Dockerfile"),
                "FROM scratch\n\
                 COPY busybox /bin/busybox\n\
                 RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
                 RUN [\"/bin/sh\", \"-c\", \"mkdir -p /www /tmp && echo hello > /www/index.html\"]\n\
                 EXPOSE 8080\n\
                 CMD [\"/bin/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
            )
            .unwrap();
            let built = Command::new("docker")
                .args(["build", "-q", "-t", &tag])
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(built.status.success(), "{built:?}");
            tag
        })
        .clone()
}

/// A Docker engine of a test's own, for faults that must never touch the machine's engine
/// (stop, hang, restart): its own config, data, exec root, pid file, socket and bridge.
pub struct PrivateEngine {
    dir: tempfile::TempDir,
    /// `unix:///.../sock`, for DOCKER_HOST.
    pub host: String,
    bridge: String,
    pid: Option<u32>,
}

impl PrivateEngine {
    pub fn start(live_restore: bool) -> PrivateEngine {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = (std::process::id() as usize * 7 + NEXT.fetch_add(1, Ordering::SeqCst)) % 200;
        let dir = tempfile::Builder::new()
            .prefix("ltc-engine-")
            .tempdir()
            .unwrap();
        let bridge = format!("ltcb{n:03}{:04x}", std::process::id() % 0xffff);
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(out.status.success(), "ip {args:?}: {out:?}");
        };
        let _ = Command::new("ip").args(["link", "del", &bridge]).output();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&["addr", "add", &format!("10.214.{n}.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        let mut engine = PrivateEngine {
            host: format!("unix://{}/sock", dir.path().display()),
            dir,
            bridge,
            pid: None,
        };
        engine.configure(live_restore);
        engine.run();
        engine
    }

    pub fn configure(&self, live_restore: bool) {
        std::fs::write(
            self.dir.path().join("config.json"),
            serde_json::json!({ "live-restore": live_restore }).to_string(),
        )
        .unwrap();
    }

    /// Starts the engine and waits until it answers.
    pub fn run(&mut self) {
        let d = self.dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(d.join("config.json"))
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("pid"))
            .args(["-H", &self.host, "--bridge", &self.bridge])
            .args(["--iptables=false", "--ip-masq=false"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.pid = Some(child.id());
        // Reaped by a thread of its own: the engine outlives no test.
        std::thread::spawn(move || {
            let mut child = child;
            let _ = child.wait();
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.docker(&["info"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "the private engine never answered: {}",
                std::fs::read_to_string(d.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the engine (SIGTERM) and waits until its process is gone.
    pub fn stop(&mut self) {
        let Some(pid) = self.pid.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-CONT", &pid.to_string()])
            .output();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .output();
        let deadline = Instant::now() + Duration::from_secs(60);
        while process_runs(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Freezes the engine: it accepts connections and answers nothing.
    pub fn pause(&self) {
        let _ = Command::new("kill")
            .args(["-STOP", &self.pid.unwrap().to_string()])
            .output();
    }

    pub fn resume(&self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid.unwrap().to_string()])
            .output();
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(["-H", &self.host])
            .args(args)
            .output()
            .unwrap()
    }

    /// Ids of its containers that run.
    pub fn running(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.docker(&["ps", "-q", "--no-trunc"]).stdout)
            .lines()
            .map(String::from)
            .collect()
    }
}

/// Whether a process runs (a zombie does not).
pub fn process_runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        if self.pid.is_some() {
            self.resume();
            let ids = String::from_utf8_lossy(&self.docker(&["ps", "-aq"]).stdout).to_string();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = self.docker(&args);
            }
        }
        self.stop();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        // Mounts the engine left (its overlay layers, a swarm's network namespaces under
        // exec/netns) are undone, deepest first, before its directory goes.
        let dir = self.dir.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .filter(|point| point.starts_with(&dir))
            .collect();
        points.sort_by_key(|point| std::cmp::Reverse(point.len()));
        for point in points {
            let _ = Command::new("umount").args(["-l", point]).output();
        }
    }
}
