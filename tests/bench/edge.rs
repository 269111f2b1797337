//! Benchmarks of the router's edge:
//!
//! - https: four demo-app instances behind the ltc router's HTTPS and nginx terminating TLS
//!   with the same certificate (wrk, keep-alive and a new connection per request);
//! - tcp: a TCP route against the instance's own published port: redis-benchmark
//!   (`-t get,set -n 100000`) and an iperf3 bulk transfer both ways, in an image made here
//!   from this machine's `redis-server` and `iperf3` (no registry needed).

use super::*;

/// An image with `redis-server` and `iperf3` and the libraries they load, imported from this
/// machine's files.
fn tools_image() -> Option<String> {
    let tag = "ltc-bench-tools:1".to_string();
    let present = Command::new("docker")
        .args(["image", "inspect", &tag])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Some(tag);
    }
    let root = tempfile::tempdir().unwrap();
    for binary in ["/usr/bin/redis-server", "/usr/bin/iperf3"] {
        let libraries = run(Command::new("ldd").arg(binary));
        let files = std::iter::once(binary.to_string()).chain(
            libraries
                .split_whitespace()
                .filter(|w| w.starts_with('/'))
                .map(str::to_string),
        );
        for file in files {
            let to = root.path().join(file.trim_start_matches('/'));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&file, &to).ok()?;
        }
    }
    std::fs::create_dir_all(root.path().join("tmp")).unwrap();
    let archive = root.path().with_extension("tar");
    let packed = Command::new("tar")
        .args(["-C", root.path().to_str().unwrap(), "-cf"])
        .arg(&archive)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success());
    if !packed {
        return None;
    }
    let imported = Command::new("docker")
        .args(["import", "-c", "EXPOSE 6379"])
        .arg(&archive)
        .arg(&tag)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&archive);
    imported.status.success().then_some(tag)
}

/// The port Docker published for an instance's container port.
fn published(ltc: &Ltc, app: &str, port: u16) -> u16 {
    let status: serde_json::Value =
        serde_json::from_str(&ltc.ok(&["status", app, "--json"])).unwrap();
    status["instances"][0]["ports"][port.to_string()]
        .as_u64()
        .unwrap() as u16
}

/// The docker-proxy serving a published port, whose CPU the direct path spends.
fn docker_proxy(port: u16) -> Vec<u32> {
    run(Command::new("pgrep").args(["-f", &format!("docker-proxy.*-host-port {port} ")]))
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn node_pid(ltc: &Ltc) -> u32 {
    let node: serde_json::Value =
        serde_json::from_str(&ltc.ok(&["daemon", "status", "--json"])).unwrap();
    node["node"]["pid"].as_u64().unwrap() as u32
}

/// redis-benchmark's GET and SET rates, and the CPU `pids` spent per request.
fn redis_benchmark(port: u16, pids: &[u32]) -> (f64, f64, f64) {
    let before = cpu_us(pids);
    let out = run(Command::new("redis-benchmark").args([
        "-p",
        &port.to_string(),
        "-t",
        "get,set",
        "-n",
        "100000",
        "-q",
        "--csv",
    ]));
    let cpu = cpu_us(pids) - before;
    let rate = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("\"{name}\"")))
            .and_then(|l| l.split(',').nth(1))
            .and_then(|v| v.trim_matches('"').parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (rate("SET"), rate("GET"), cpu / 200_000.0)
}

/// iperf3's received rate in Gbit/s, client to server (or back with `reverse`).
fn iperf(port: u16, reverse: bool) -> f64 {
    let mut command = Command::new("iperf3");
    command.args(["-c", "127.0.0.1", "-p", &port.to_string(), "-t", "5", "-J"]);
    if reverse {
        command.arg("-R");
    }
    let out = run(&mut command);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    json["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or(f64::NAN)
        / 1e9
}

pub fn bench_tcp(ltc: &Ltc, rounds: usize) -> Vec<String> {
    let missing: Vec<&str> = ["redis-server", "redis-benchmark", "iperf3", "ldd"]
        .into_iter()
        .filter(|t| !tool(t))
        .collect();
    if !missing.is_empty() {
        return vec![format!(
            "tcp: skipped, missing {}: `apt-get install redis-server redis-tools iperf3`",
            missing.join(", ")
        )];
    }
    let Some(image) = tools_image() else {
        return vec!["tcp: skipped, the tools image could not be made".into()];
    };
    let (redis_route, iperf_route) = (free_port(), free_port());
    ltc.ok(&[
        "create",
        "redisbench",
        &image,
        "-p",
        "6379",
        "-T",
        &format!("{redis_route}:6379"),
        "-q",
        "--",
        "/usr/bin/redis-server",
        "--port",
        "6379",
        "--protected-mode",
        "no",
        "--save",
        "",
    ]);
    ltc.ok(&[
        "create",
        "iperfbench",
        &image,
        "-p",
        "5201",
        "-T",
        &format!("{iperf_route}:5201"),
        "-q",
        "--",
        "/usr/bin/iperf3",
        "-s",
    ]);
    let node = vec![node_pid(ltc)];
    let redis_direct = published(ltc, "redisbench", 6379);
    let iperf_direct = published(ltc, "iperfbench", 5201);
    let direct_proxy = docker_proxy(redis_direct);
    let mut redis: [Vec<(f64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
    let mut bulk: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..rounds.min(3) {
        redis[0].push(redis_benchmark(redis_direct, &direct_proxy));
        redis[1].push(redis_benchmark(redis_route, &node));
        for (i, port) in [iperf_direct, iperf_route].into_iter().enumerate() {
            bulk[i].push((iperf(port, false), iperf(port, true)));
        }
    }
    let summary = |runs: &Vec<(f64, f64, f64)>| {
        (
            median(runs.iter().map(|r| r.0).collect()),
            median(runs.iter().map(|r| r.1).collect()),
            median(runs.iter().map(|r| r.2).collect()),
        )
    };
    let (direct, route) = (summary(&redis[0]), summary(&redis[1]));
    let gbit = |runs: &Vec<(f64, f64)>| {
        (
            median(runs.iter().map(|r| r.0).collect()),
            median(runs.iter().map(|r| r.1).collect()),
        )
    };
    let (bulk_direct, bulk_route) = (gbit(&bulk[0]), gbit(&bulk[1]));
    ltc.ok(&["remove", "redisbench", "iperfbench"]);
    vec![
        format!(
            "| redis-benchmark SET | {:.0} req/s | {:.0} req/s | {:.2} |",
            direct.0,
            route.0,
            route.0 / direct.0
        ),
        format!(
            "| redis-benchmark GET | {:.0} req/s | {:.0} req/s | {:.2} |",
            direct.1,
            route.1,
            route.1 / direct.1
        ),
        format!(
            "| proxy CPU per redis request | {:.1} µs (docker-proxy) | {:.1} µs (ltc router) | |",
            direct.2, route.2
        ),
        format!(
            "| iperf3 bulk, client → app | {:.1} Gbit/s | {:.1} Gbit/s | {:.2} |",
            bulk_direct.0,
            bulk_route.0,
            bulk_route.0 / bulk_direct.0
        ),
        format!(
            "| iperf3 bulk, app → client | {:.1} Gbit/s | {:.1} Gbit/s | {:.2} |",
            bulk_direct.1,
            bulk_route.1,
            bulk_route.1 / bulk_direct.1
        ),
        String::new(),
        format!(
            "Versions: {}; {}.",
            version_of("redis-server", &["--version"]),
            version_of("iperf3", &["--version"])
        ),
    ]
}

/// A certificate for `host` and its key, self-signed, in `dir`.
fn certificate(dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![host.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("bench.pem"), dir.join("bench-key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn start_nginx_tls(dir: &Path, port: u16, backends: &[u16], cert: &Path, key: &Path) -> Child {
    let servers: String = backends
        .iter()
        .map(|p| format!("server 127.0.0.1:{p};\n"))
        .collect();
    let conf = format!(
        "worker_processes auto;\npid {dir}/nginx-tls.pid;\nerror_log {dir}/error-tls.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n access_log off;\n upstream app {{\n {servers} keepalive 128;\n }}\n\
         server {{\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {cert};\n\
         ssl_certificate_key {key};\n location / {{\n proxy_pass http://app;\n\
         proxy_http_version 1.1;\n proxy_set_header Connection \"\";\n proxy_set_header Host $host;\n }}\n }}\n}}\n",
        dir = dir.display(),
        cert = cert.display(),
        key = key.display(),
    );
    let path = dir.join("nginx-tls.conf");
    std::fs::write(&path, conf).unwrap();
    Command::new("nginx")
        .args(["-c", path.to_str().unwrap(), "-p", dir.to_str().unwrap()])
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx-tls.stderr")).unwrap())
        .spawn()
        .unwrap()
}

pub fn bench_https(ltc: &Ltc, rounds: usize, seconds: u64) -> Vec<String> {
    const HOST: &str = "tlsbench.localhost";
    let missing: Vec<&str> = ["wrk", "nginx"].into_iter().filter(|t| !tool(t)).collect();
    if !missing.is_empty() {
        return vec![format!(
            "https: skipped, missing {}: `apt-get install wrk nginx-light`",
            missing.join(", ")
        )];
    }
    // wrk takes the TLS name (SNI) from its URL and resolves it once at start.
    if !Command::new("getent")
        .args(["hosts", HOST])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return vec![
            "https: skipped, `.localhost` names do not resolve: `apt-get install libnss-myhostname`"
                .into(),
        ];
    }
    ltc.ok(&["create", "tlsbench", "-i", "4", "-q"]);
    let dir = tempfile::Builder::new()
        .prefix("ltc-bench-tls-")
        .tempdir()
        .unwrap();
    let (cert, key) = certificate(dir.path(), HOST);
    ltc.ok(&[
        "update",
        "tlsbench",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--cert-host",
        HOST,
    ]);
    let status: serde_json::Value =
        serde_json::from_str(&ltc.ok(&["status", "tlsbench", "--json"])).unwrap();
    let backends: Vec<u16> = crate::support::instance_ports(&status, 8080)
        .into_iter()
        .map(|(_, port)| port)
        .collect();
    let ca: serde_json::Value = serde_json::from_str(&ltc.ok(&["ca", "--json"])).unwrap();
    let ltc_port: u16 = ca["https_address"]
        .as_str()
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .expect("the router serves HTTPS");
    let nginx_port = free_port();
    let nginx = Proxy(start_nginx_tls(
        dir.path(),
        nginx_port,
        &backends,
        &cert,
        &key,
    ));
    std::thread::sleep(Duration::from_millis(500));
    let proxies = [
        ("ltc router", ltc_port, vec![node_pid(ltc)]),
        ("nginx", nginx_port, with_children(nginx.0.id())),
    ];
    let mut lines = Vec::new();
    for (mode, close) in [("keep-alive", false), ("new connection per request", true)] {
        let mut results: Vec<Vec<Wrk>> = proxies.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds.min(3) {
            for (i, (_, port, pids)) in proxies.iter().enumerate() {
                // Connect to 127.0.0.1 whatever the name resolves to (often ::1).
                let script = dir.path().join(format!("addr-{port}.lua"));
                std::fs::write(
                    &script,
                    format!(
                        "function setup(thread)\n  thread.addr = wrk.lookup(\"127.0.0.1\", \"{port}\")[1]\nend\n"
                    ),
                )
                .unwrap();
                let url = format!("https://{HOST}:{port}/index");
                let extra = ["-s", script.to_str().unwrap()];
                results[i].push(wrk_url(&url, &extra, seconds, close, pids));
            }
        }
        let names: Vec<&str> = proxies.iter().map(|(name, _, _)| *name).collect();
        lines.extend(wrk_rows(&format!("HTTPS {mode}"), &names, &results));
    }
    drop(nginx);
    ltc.ok(&["remove", "tlsbench"]);
    lines
}
