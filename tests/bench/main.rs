//! ltc's benchmarks, side by side with what users would run instead. Not a test: it asserts
//! nothing and prints a Markdown report for `docs/benchmarks.md`.
//!
//!     cargo bench --bench ltc -- [--rounds N] [--seconds S] [--only create,scale,recovery,deploy,node,router,https,tcp,swarm,cli]
//!
//! - create: `ltc create` to the first 200 through the router, against `docker run` of the
//!   same image to its first 200 on the published port;
//! - scale: `ltc scale 0 → 20` against 20 concurrent `docker run`s, until all answer;
//! - router: four demo-app instances behind the ltc router, nginx and haproxy (the same
//!   published backends, interleaved rounds), with wrk, keep-alive and a new connection per
//!   request (needs `wrk`, `nginx` and `haproxy`: `apt-get install wrk nginx-light haproxy`);
//! - recovery: SIGKILL of one instance under GET load, until its replacement is RUNNING;
//! - deploy: a rolling `ltc update` of 4 instances under GET and POST load, against the floor
//!   (4 sequential `docker run`s to their first 200) and against what a user does without it
//!   (`ltc remove` + `ltc create`), counting the requests each fails;
//! - node: 20 `ltc daemon restart`s under GET load (failed requests), and the routing gap
//!   when the node is SIGKILLed and its service manager starts a new one 100 ms later
//!   (systemd's `Restart=always`, `RestartSec=100ms`, as `ltc daemon install` writes it);
//! - https, tcp: the router's HTTPS against nginx's, and TCP routes against the published
//!   port (see `edge.rs`);
//! - swarm: on a two-machine swarm of private engines, `ltc create`, `update` and `remove` of
//!   4 instances against Swarm's own replicated service doing the same (see `swarm.rs`);
//! - cli: wall time of `ltc list`, `ltc status` and `ltc --version`.
//!
//! Everything it starts is labelled or owned by a temporary LTC_HOME and removed at the end.

mod edge;
#[path = "../support/mod.rs"]
mod support;
mod swarm;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LTC: &str = env!("CARGO_BIN_EXE_ltc");
const BENCH_LABEL: &str = "io.ltc.bench=1";

struct Options {
    rounds: usize,
    seconds: u64,
    only: Vec<String>,
}

fn options() -> Options {
    let mut options = Options {
        rounds: 5,
        seconds: 8,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => options.rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(5),
            "--seconds" => options.seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(8),
            "--only" => {
                options.only = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            _ => {}
        }
    }
    options
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_status(port: u16, host: &str, path: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Polls until `GET path` answers 200, every millisecond, at most 60 s.
fn wait_200(port: u16, host: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_status(port, host, "/index") == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if values.is_empty() {
        return f64::NAN;
    }
    values[values.len() / 2]
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("command runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A private LTC_HOME with a running node; removes everything on drop.
struct Ltc {
    home: tempfile::TempDir,
    router_port: u16,
}

impl Ltc {
    fn new() -> Ltc {
        let ltc = Ltc {
            home: tempfile::Builder::new()
                .prefix("ltc-bench-")
                .tempdir()
                .unwrap(),
            router_port: free_port(),
        };
        ltc.cmd(&["daemon", "start"]).output().unwrap();
        ltc
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut command = Command::new(LTC);
        command
            .args(args)
            .env("LTC_HOME", self.home.path())
            .env("LTC_ROUTER_ADDR", format!("127.0.0.1:{}", self.router_port))
            .env("LTC_ROUTER_TLS_ADDR", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.cmd(args).output().unwrap();
        assert!(output.status.success(), "ltc {args:?} failed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn install_id(&self) -> String {
        std::fs::read_to_string(self.home.path().join("install-id"))
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

impl Drop for Ltc {
    fn drop(&mut self) {
        let _ = self.cmd(&["daemon", "stop"]).output();
        let ids = run(Command::new("docker").args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=io.ltc.install={}", self.install_id()),
        ]));
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(ids.split_whitespace())
                .output();
        }
    }
}

fn remove_bench_containers() {
    let ids = run(Command::new("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("label={BENCH_LABEL}"),
    ]));
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f"])
            .args(ids.split_whitespace())
            .output();
    }
}

fn docker_run(image: &str, port: u16) -> String {
    run(Command::new("docker").args([
        "run",
        "-d",
        "--init",
        "--label",
        BENCH_LABEL,
        "-p",
        &format!("127.0.0.1:{port}:8080"),
        image,
    ]))
}

fn bench_create(ltc: &Ltc, image: &str, rounds: usize) -> Vec<String> {
    let (mut raw, mut routed, mut command) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let port = free_port();
        let started = Instant::now();
        let id = docker_run(image, port);
        assert!(wait_200(port, "x"), "docker run answered");
        raw.push(started.elapsed().as_secs_f64());
        let _ = Command::new("docker").args(["rm", "-f", &id]).output();

        let name = format!("create{round}");
        let host = format!("{name}.localhost");
        let started = Instant::now();
        let mut child = ltc.cmd(&["create", &name, "-q"]).spawn().unwrap();
        assert!(
            wait_200(ltc.router_port, &host),
            "ltc create answered through the router"
        );
        routed.push(started.elapsed().as_secs_f64());
        child.wait().unwrap();
        command.push(started.elapsed().as_secs_f64());
        ltc.ok(&["remove", &name]);
    }
    let (raw, routed, command) = (median(raw), median(routed), median(command));
    vec![
        format!(
            "| `docker run -d --init -p 127.0.0.1:P:8080` → first 200 on P | {:.0} ms | 1.00 |",
            raw * 1000.0
        ),
        format!(
            "| `ltc create` → first 200 through the router | {:.0} ms | {:.2} |",
            routed * 1000.0,
            routed / raw
        ),
        format!(
            "| `ltc create` → command returns (every instance RUNNING) | {:.0} ms | {:.2} |",
            command * 1000.0,
            command / raw
        ),
    ]
}

fn bench_scale(ltc: &Ltc, image: &str, rounds: usize) -> Vec<String> {
    let (mut raw, mut scaled) = (Vec::new(), Vec::new());
    for round in 0..rounds.min(3) {
        let ports: Vec<u16> = (0..20).map(|_| free_port()).collect();
        let started = Instant::now();
        let threads: Vec<_> = ports
            .iter()
            .map(|port| {
                let (image, port) = (image.to_string(), *port);
                std::thread::spawn(move || {
                    docker_run(&image, port);
                    wait_200(port, "x")
                })
            })
            .collect();
        assert!(threads.into_iter().all(|t| t.join().unwrap()));
        raw.push(started.elapsed().as_secs_f64());
        remove_bench_containers();

        let name = format!("scale{round}");
        ltc.ok(&["create", &name, "-i", "0", "-m", "32", "-q"]);
        let started = Instant::now();
        ltc.ok(&["scale", &name, "20", "-q"]);
        scaled.push(started.elapsed().as_secs_f64());
        ltc.ok(&["remove", &name]);
    }
    let (raw, scaled) = (median(raw), median(scaled));
    vec![
        format!(
            "| 20 concurrent `docker run`s → all answer 200 | {:.0} ms | 1.00 |",
            raw * 1000.0
        ),
        format!(
            "| `ltc scale 0 → 20` → every instance RUNNING | {:.0} ms | {:.2} |",
            scaled * 1000.0,
            scaled / raw
        ),
    ]
}

struct Wrk {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// CPU time the proxy's processes used per request, in microseconds.
    cpu_us: f64,
}

/// CPU time (user + system) these processes have used so far, in microseconds.
fn cpu_us(pids: &[u32]) -> f64 {
    // Linux counts it in clock ticks of 1/100 s (USER_HZ).
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // The fields after the command name, which may itself contain spaces.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
            ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)
        })
        .sum::<f64>()
        * 10_000.0
}

/// A process and its child processes (nginx's master and its workers).
fn with_children(pid: u32) -> Vec<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    std::iter::once(pid)
        .chain(children.split_whitespace().filter_map(|c| c.parse().ok()))
        .collect()
}

fn parse_latency(text: &str) -> f64 {
    let (number, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        _ => f64::NAN,
    }
}

fn wrk(port: u16, host: &str, seconds: u64, close: bool, proxy: &[u32]) -> Wrk {
    let url = format!("http://127.0.0.1:{port}/index");
    wrk_url(
        &url,
        &["-H", &format!("Host: {host}")],
        seconds,
        close,
        proxy,
    )
}

/// wrk against `url` with `extra` arguments; `proxy` are the processes whose CPU is counted.
fn wrk_url(url: &str, extra: &[&str], seconds: u64, close: bool, proxy: &[u32]) -> Wrk {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"]);
    command.args(extra);
    if close {
        command.args(["-H", "Connection: close"]);
    }
    let cpu_before = cpu_us(proxy);
    let out = run(command.arg(url));
    let cpu = cpu_us(proxy) - cpu_before;
    let mut result = Wrk {
        rps: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
        cpu_us: f64::NAN,
    };
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [requests, "requests", "in", ..] => {
                result.cpu_us = cpu / requests.parse::<f64>().unwrap_or(f64::NAN)
            }
            ["Requests/sec:", value] => result.rps = value.parse().unwrap_or(0.0),
            ["50%", value] => result.p50_ms = parse_latency(value),
            ["99%", value] => result.p99_ms = parse_latency(value),
            ["Non-2xx", "or", "3xx", "responses:", n] => {
                result.errors += n.parse::<u64>().unwrap_or(0)
            }
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0": read errors are the server closing
                // as asked with Connection: close, so only connect/write/timeout count.
                let text = rest.join(" ");
                for part in text.split(',') {
                    let mut kv = part.split_whitespace();
                    if let (Some(kind), Some(n)) = (kv.next(), kv.next())
                        && kind != "read"
                    {
                        result.errors += n.parse::<u64>().unwrap_or(0);
                    }
                }
            }
            _ => {}
        }
    }
    result
}

/// A proxy the benchmark started. Dropping it stops it with SIGTERM, on which nginx's master
/// stops its workers too (a SIGKILL would leave them running).
struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &Path, port: u16, backends: &[u16]) -> Child {
    let servers: String = backends
        .iter()
        .map(|p| format!("server 127.0.0.1:{p};\n"))
        .collect();
    let conf = format!(
        "worker_processes auto;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n access_log off;\n upstream app {{\n {servers} keepalive 128;\n }}\n\
         server {{\n listen 127.0.0.1:{port};\n location / {{\n proxy_pass http://app;\n\
         proxy_http_version 1.1;\n proxy_set_header Connection \"\";\n proxy_set_header Host $host;\n }}\n }}\n}}\n",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    Command::new("nginx")
        .args([
            "-c",
            path.to_str().unwrap(),
            "-p",
            dir.to_str().unwrap(),
            "-g",
            "daemon off;",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx.stderr")).unwrap())
        .spawn()
        .unwrap()
}

fn start_haproxy(dir: &Path, port: u16, backends: &[u16]) -> Child {
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server s{i} 127.0.0.1:{p}\n"))
        .collect();
    let conf = format!(
        "global\n  nbthread 2\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n\
         timeout client 60s\n  timeout server 60s\n  http-reuse always\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  balance roundrobin\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, conf).unwrap();
    Command::new("haproxy")
        .args(["-f", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("haproxy.stderr")).unwrap())
        .spawn()
        .unwrap()
}

fn version_of(command: &str, args: &[&str]) -> String {
    let output = Command::new(command).args(args).output();
    output
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

/// One table row per proxy: the medians of its wrk runs, against the second proxy's (nginx)
/// rate.
fn wrk_rows(mode: &str, names: &[&str], results: &[Vec<Wrk>]) -> Vec<String> {
    let summary: Vec<(f64, f64, f64, u64, f64)> = results
        .iter()
        .map(|runs| {
            (
                median(runs.iter().map(|r| r.rps).collect()),
                median(runs.iter().map(|r| r.p50_ms).collect()),
                median(runs.iter().map(|r| r.p99_ms).collect()),
                runs.iter().map(|r| r.errors).sum(),
                median(runs.iter().map(|r| r.cpu_us).collect()),
            )
        })
        .collect();
    let nginx_rps = summary[1].0;
    names
        .iter()
        .zip(&summary)
        .map(|(name, (rps, p50, p99, errors, cpu))| {
            format!(
                "| {mode} | {name} | {rps:.0} | {:.2} | {p50:.2} ms | {p99:.2} ms | {cpu:.0} µs | {errors} |",
                rps / nginx_rps
            )
        })
        .collect()
}

fn bench_router(ltc: &Ltc, rounds: usize, seconds: u64) -> Vec<String> {
    let missing: Vec<&str> = ["wrk", "nginx", "haproxy"]
        .into_iter()
        .filter(|t| !tool(t))
        .collect();
    if !missing.is_empty() {
        return vec![format!(
            "router: skipped, missing {}: `apt-get install wrk nginx-light haproxy`",
            missing.join(", ")
        )];
    }
    ltc.ok(&["create", "bench", "-i", "4", "-q"]);
    let status: serde_json::Value =
        serde_json::from_str(&ltc.ok(&["status", "bench", "--json"])).unwrap();
    let backends: Vec<u16> = crate::support::instance_ports(&status, 8080)
        .into_iter()
        .map(|(_, port)| port)
        .collect();
    let dir = tempfile::Builder::new()
        .prefix("ltc-bench-proxies-")
        .tempdir()
        .unwrap();
    let (nginx_port, haproxy_port) = (free_port(), free_port());
    let nginx = Proxy(start_nginx(dir.path(), nginx_port, &backends));
    let haproxy = Proxy(start_haproxy(dir.path(), haproxy_port, &backends));
    for (name, port) in [("nginx", nginx_port), ("haproxy", haproxy_port)] {
        if !wait_200(port, "bench.localhost") {
            let log = std::fs::read_to_string(dir.path().join(format!("{name}.stderr")))
                .unwrap_or_default();
            panic!("{name} on port {port} does not answer: {log}");
        }
    }
    let node: serde_json::Value =
        serde_json::from_str(&ltc.ok(&["daemon", "status", "--json"])).unwrap();
    let node_pid = node["node"]["pid"].as_u64().unwrap() as u32;
    let proxies = [
        ("ltc router", ltc.router_port, vec![node_pid]),
        ("nginx", nginx_port, with_children(nginx.0.id())),
        ("haproxy", haproxy_port, vec![haproxy.0.id()]),
    ];
    let mut lines = Vec::new();
    for (mode, close) in [("keep-alive", false), ("new connection per request", true)] {
        let mut results: Vec<Vec<Wrk>> = proxies.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds.min(3) {
            for (i, (_, port, pids)) in proxies.iter().enumerate() {
                results[i].push(wrk(*port, "bench.localhost", seconds, close, pids));
            }
        }
        let names: Vec<&str> = proxies.iter().map(|(name, _, _)| *name).collect();
        lines.extend(wrk_rows(mode, &names, &results));
    }
    drop((nginx, haproxy));
    ltc.ok(&["remove", "bench"]);
    lines.push(String::new());
    lines.push(format!(
        "Versions: {}; {}; {}.",
        version_of("nginx", &["-v"]),
        version_of("haproxy", &["-v"]),
        version_of("wrk", &["-v"])
    ));
    lines
}

/// SIGKILL of one instance of three: time until its replacement is RUNNING (and so routed),
/// and GETs through the router during it.
fn bench_recovery(ltc: &Ltc, rounds: usize) -> Vec<String> {
    ltc.ok(&["create", "heal", "-i", "3", "-q"]);
    let mut times = Vec::new();
    let (mut ok, mut failed) = (0u64, 0u64);
    for _ in 0..rounds {
        let status: serde_json::Value =
            serde_json::from_str(&ltc.ok(&["status", "heal", "--json"])).unwrap();
        let victim = status["instances"][1]["container_id"]
            .as_str()
            .unwrap()
            .to_string();
        let old_guid = status["instances"][1]["guid"].as_str().unwrap().to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load = {
            let (stop, port) = (stop.clone(), ltc.router_port);
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0u64, 0u64);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match http_status(port, "heal.localhost", "/index") {
                        Some(200) => ok += 1,
                        _ => failed += 1,
                    }
                }
                (ok, failed)
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        run(Command::new("docker").args(["kill", "-s", "KILL", &victim]));
        loop {
            let status: serde_json::Value =
                serde_json::from_str(&ltc.ok(&["status", "heal", "--json"])).unwrap();
            let instance = &status["instances"][1];
            if instance["state"] == "RUNNING" && instance["guid"] != old_guid.as_str() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance came back"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        times.push(started.elapsed().as_secs_f64());
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (o, f) = load.join().unwrap();
        ok += o;
        failed += f;
        // Crash counts reset only after 5 minutes; a fresh app per round keeps the restart
        // immediate (the 3rd crash would wait 30 s by design).
        ltc.ok(&["remove", "heal"]);
        ltc.ok(&["create", "heal", "-i", "3", "-q"]);
    }
    ltc.ok(&["remove", "heal"]);
    let max = times.iter().cloned().fold(0.0, f64::max);
    vec![
        format!(
            "| SIGKILL of 1 of 3 instances → replacement RUNNING and routed | {:.0} ms | {:.0} ms |",
            median(times) * 1000.0,
            max * 1000.0
        ),
        String::new(),
        format!("GETs through the router meanwhile: {ok} answered 200, {failed} failed."),
    ]
}

/// GETs and POSTs in turn through the router until stopped: (answered 200, failed).
fn mixed_load(
    port: u16,
    host: &str,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<(u64, u64)>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, host) = (stop.clone(), host.to_string());
    let thread = std::thread::spawn(move || {
        let (mut ok, mut failed, mut post) = (0u64, 0u64, false);
        let deadline = Instant::now() + Duration::from_secs(300);
        while !flag.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
            post = !post;
            let status = if post {
                http_post_status(port, &host)
            } else {
                http_status(port, &host, "/index")
            };
            match status {
                Some(200) => ok += 1,
                _ => failed += 1,
            }
        }
        (ok, failed)
    });
    (stop, thread)
}

fn http_post_status(port: u16, host: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "POST /index HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

fn bench_deploy(ltc: &Ltc, image: &str, rounds: usize) -> Vec<String> {
    let (mut floor, mut rolling, mut recreate) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rolling_failed, mut rolling_total) = (0u64, 0u64);
    let (mut recreate_failed, mut recreate_total) = (0u64, 0u64);
    ltc.ok(&["create", "deploy", "-i", "4", "-q"]);
    for round in 0..rounds.min(3) {
        let started = Instant::now();
        for _ in 0..4 {
            let port = free_port();
            docker_run(image, port);
            assert!(wait_200(port, "x"));
        }
        floor.push(started.elapsed().as_secs_f64());
        remove_bench_containers();

        let (stop, load) = mixed_load(ltc.router_port, "deploy.localhost");
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        ltc.ok(&["update", "deploy", "-e", &format!("ROUND={round}"), "-q"]);
        rolling.push(started.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (ok, failed) = load.join().unwrap();
        rolling_failed += failed;
        rolling_total += ok + failed;

        let (stop, load) = mixed_load(ltc.router_port, "deploy.localhost");
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        ltc.ok(&["remove", "deploy"]);
        ltc.ok(&[
            "create",
            "deploy",
            "-i",
            "4",
            "-q",
            "-e",
            &format!("ROUND={round}"),
        ]);
        assert!(wait_200(ltc.router_port, "deploy.localhost"));
        recreate.push(started.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (ok, failed) = load.join().unwrap();
        recreate_failed += failed;
        recreate_total += ok + failed;
    }
    ltc.ok(&["remove", "deploy"]);
    let (floor, rolling, recreate) = (median(floor), median(rolling), median(recreate));
    vec![
        format!(
            "| 4 sequential `docker run`s → each answers 200 (the floor) | {:.0} ms | 1.00 | — |",
            floor * 1000.0
        ),
        format!(
            "| `ltc update -e` of 4 instances, rolling → command returns | {:.0} ms | {:.2} | {rolling_failed} of {rolling_total} |",
            rolling * 1000.0,
            rolling / floor
        ),
        format!(
            "| `ltc remove` + `ltc create -i 4` → 200 again | {:.0} ms | {:.2} | {recreate_failed} of {recreate_total} |",
            recreate * 1000.0,
            recreate / floor
        ),
    ]
}

fn node_pid(ltc: &Ltc) -> Option<u32> {
    std::fs::read_to_string(ltc.home.path().join("node.lock"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn bench_node(ltc: &Ltc, rounds: usize) -> Vec<String> {
    ltc.ok(&["create", "up", "-i", "2", "-q"]);
    let (stop, load) = mixed_load(ltc.router_port, "up.localhost");
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..20 {
        ltc.ok(&["daemon", "restart"]);
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (restart_ok, restart_failed) = load.join().unwrap();

    let mut gaps = Vec::new();
    let (mut failed_total, mut total) = (0u64, 0u64);
    for _ in 0..rounds.min(5) {
        let (stop, load) = mixed_load(ltc.router_port, "up.localhost");
        std::thread::sleep(Duration::from_millis(200));
        let pid = node_pid(ltc).expect("node runs");
        let killed = Instant::now();
        run(Command::new("kill").args(["-KILL", &pid.to_string()]));
        // The service manager's RestartSec.
        std::thread::sleep(Duration::from_millis(100));
        let mut child = ltc.cmd(&["daemon", "run"]).spawn().unwrap();
        while http_status(ltc.router_port, "up.localhost", "/index") != Some(200) {
            std::thread::sleep(Duration::from_millis(1));
        }
        gaps.push(killed.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let (ok, failed) = load.join().unwrap();
        failed_total += failed;
        total += ok + failed;
        // Detached from this process, as under a service manager.
        std::thread::spawn(move || child.wait());
    }
    ltc.ok(&["remove", "up"]);
    vec![
        format!(
            "| 20 × `ltc daemon restart` (sockets handed over) | — | {restart_failed} of {} |",
            restart_ok + restart_failed
        ),
        format!(
            "| SIGKILL of the node, new node 100 ms later (`Restart=always`, `RestartSec=100ms`) → routes answer again | {:.0} ms | {failed_total} of {total} |",
            median(gaps) * 1000.0
        ),
    ]
}

fn bench_cli(ltc: &Ltc) -> Vec<String> {
    ltc.ok(&["create", "cli", "-q"]);
    let time = |args: &[&str]| {
        let mut runs = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            ltc.cmd(args).output().unwrap();
            runs.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        median(runs)
    };
    let lines = vec![
        format!("| `ltc list` | {:.1} ms |", time(&["list"])),
        format!("| `ltc status cli` | {:.1} ms |", time(&["status", "cli"])),
        format!("| `ltc --version` | {:.1} ms |", time(&["--version"])),
    ];
    ltc.ok(&["remove", "cli"]);
    lines
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let docker = run(Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]));
    format!("{cores} cores ({cpu}), Docker {docker}")
}

fn main() {
    let options = options();
    let wanted = |part: &str| options.only.is_empty() || options.only.iter().any(|o| o == part);
    let ltc = Ltc::new();
    // Build the demo image once, outside any measurement.
    ltc.ok(&["create", "warmup", "-q"]);
    let image: String =
        serde_json::from_str::<serde_json::Value>(&ltc.ok(&["status", "warmup", "--json"]))
            .ok()
            .and_then(|_| {
                let out = run(Command::new("docker").args([
                    "ps",
                    "--filter",
                    &format!("label=io.ltc.install={}", ltc.install_id()),
                    "--format",
                    "{{.Image}}",
                ]));
                out.lines().next().map(String::from)
            })
            .unwrap_or_default();
    ltc.ok(&["remove", "warmup"]);

    println!("Machine: {}. Rounds: {}.", machine(), options.rounds);
    if wanted("create") {
        println!("\n| create | median | vs docker run |\n|---|---|---|");
        bench_create(&ltc, &image, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("scale") {
        println!("\n| scale | median | vs docker run |\n|---|---|---|");
        bench_scale(&ltc, &image, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
        remove_bench_containers();
    }
    if wanted("recovery") {
        println!("\n| recovery | median | max |\n|---|---|---|");
        bench_recovery(&ltc, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("deploy") {
        println!("\n| deploy | median | vs floor | GET+POST failed |\n|---|---|---|---|");
        bench_deploy(&ltc, &image, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
        remove_bench_containers();
    }
    if wanted("node") {
        println!("\n| node | gap (median) | GET+POST failed |\n|---|---|---|");
        bench_node(&ltc, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("router") {
        println!(
            "\n| mode | proxy | req/s | vs nginx | p50 | p99 | proxy CPU per request | errors |\n|---|---|---|---|---|---|---|---|"
        );
        bench_router(&ltc, options.rounds, options.seconds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("https") {
        println!(
            "\n| mode | proxy | req/s | vs nginx | p50 | p99 | proxy CPU per request | errors |\n|---|---|---|---|---|---|---|---|"
        );
        edge::bench_https(&ltc, options.rounds, options.seconds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("tcp") {
        println!(
            "\n| TCP route | published port | through the router | ratio |\n|---|---|---|---|"
        );
        edge::bench_tcp(&ltc, options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("swarm") {
        println!("\n| on a swarm of 2 machines | median | vs Swarm's own |\n|---|---|---|");
        swarm::bench_swarm(options.rounds)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if wanted("cli") {
        println!("\n| command | median wall time |\n|---|---|");
        bench_cli(&ltc).iter().for_each(|l| println!("{l}"));
        let size = std::fs::metadata(PathBuf::from(LTC))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "\nBinary size: {:.1} MiB ({LTC}).",
            size as f64 / (1024.0 * 1024.0)
        );
    }
    remove_bench_containers();
}
