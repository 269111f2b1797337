//! The node as a service: restarts that refuse nothing (the router's sockets are handed to
//! the new node), what `daemon stop` says, and the systemd unit.

use crate::support::*;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A GET through a TCP route, on a new connection each time, until stopped.
fn tcp_load(
    port: u16,
) -> (
    Arc<AtomicBool>,
    std::thread::JoinHandle<(usize, Vec<String>)>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let (mut ok, mut errors) = (0, Vec::new());
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while !flag.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            let answer = (|| -> std::io::Result<String> {
                let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
                stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                stream.write_all(b"GET /index HTTP/1.0\r\n\r\n")?;
                let mut response = String::new();
                stream.read_to_string(&mut response)?;
                Ok(response)
            })();
            match answer {
                Ok(text)
                    if text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200") =>
                {
                    ok += 1
                }
                other => errors.push(format!("{other:?}")),
            }
        }
        (ok, errors)
    });
    (stop, thread)
}

#[test]
fn twenty_node_restarts_refuse_no_connection_and_fail_no_request() {
    require_docker();
    let home = Home::new();
    let tcp = free_port();
    home.ltc(&[
        "create",
        "web",
        "-i",
        "2",
        "-R",
        "web",
        "-T",
        &format!("{tcp}:8080"),
    ])
    .ok();
    let before = home.json(&["status", "web"]);
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(120));
    let (stop_tcp, tcp_thread) = tcp_load(tcp);
    let mut pids = vec![home.node_pid().unwrap()];
    for _ in 0..20 {
        let run = home.ltc(&["daemon", "restart"]).ok();
        assert!(run.stdout.contains("the ltc node is restarted"), "{run:#?}");
        pids.push(home.node_pid().unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    let (ok, failed, errors) = load.finish();
    stop_tcp.store(true, Ordering::SeqCst);
    let (tcp_ok, tcp_errors) = tcp_thread.join().unwrap();
    println!(
        "20 restarts: {ok} HTTP requests answered, {failed} failed; {tcp_ok} TCP exchanges, {} failed",
        tcp_errors.len()
    );
    assert_eq!(failed, 0, "{errors:?}");
    assert!(
        tcp_errors.is_empty(),
        "{:?}",
        &tcp_errors[..tcp_errors.len().min(5)]
    );
    assert!(ok > 0 && tcp_ok > 0);
    pids.dedup();
    assert_eq!(pids.len(), 21, "a new node each time: {pids:?}");
    // The apps were not touched: the same instances serve.
    let after = home.json(&["status", "web"]);
    assert_eq!(guids(&after), guids(&before));
    // One node runs, and answers.
    assert_eq!(home.json(&["daemon", "status"])["running"], true);
}

#[test]
fn a_node_started_beside_a_running_one_takes_over_and_stop_says_routing_stops() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let old = home.node_pid().unwrap();
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(60));
    // As after an upgrade: `ltc daemon run` while a node serves the home.
    let mut new = home
        .command(&["daemon", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while home.node_pid() != Some(new.id() as i32) {
        assert!(
            std::time::Instant::now() < deadline,
            "the new node never took over"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (ok, failed, errors) = load.finish();
    assert_eq!(failed, 0, "{errors:?}");
    assert!(ok > 0);
    // Exited (a zombie when nothing reaps it counts: it no longer runs).
    let state = std::fs::read_to_string(format!("/proc/{old}/stat")).unwrap_or_default();
    let running = state
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| !rest.starts_with('Z'));
    assert!(!running, "the old node exited: {state}");
    let run = home.ltc(&["daemon", "stop"]).ok();
    assert!(
        run.stdout
            .contains("their routes no longer answer until a node runs again"),
        "{run:#?}"
    );
    let _ = new.wait();
    assert!(
        http_get(home.router_port, "/index", "web.localhost").is_err(),
        "routing stops with the node"
    );
}

#[test]
fn install_writes_the_unit_and_says_when_systemd_is_missing() {
    let home = Home::new();
    let config = home.path().join("config");
    let run = |args: &[&str]| {
        Run::from(
            home.command(args)
                .env("XDG_CONFIG_HOME", &config)
                .output()
                .unwrap(),
        )
    };
    let unit = config.join("systemd/user/ltc.service");
    let systemd = std::path::Path::new("/run/systemd/system").is_dir();
    if systemd {
        // Where systemd runs, the install path is the real one; not exercised here.
        return;
    }
    let installed = run(&["daemon", "install"]).code(14);
    assert!(
        installed
            .stderr
            .contains("systemd is not running on this machine"),
        "{installed:#?}"
    );
    assert!(
        installed.stderr.contains(&unit.display().to_string()),
        "{installed:#?}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains(&format!("ExecStart={LTC} daemon run")),
        "{text}"
    );
    assert!(text.contains("Restart=always"), "{text}");
    assert!(
        text.contains(&format!(
            "Environment=\"LTC_HOME={}\"",
            home.path().display()
        )),
        "{text}"
    );
    assert_eq!(run(&["daemon", "install", "--print"]).ok().stdout, text);
    let removed = run(&["daemon", "uninstall"]).ok();
    assert!(removed.stdout.contains("removed"), "{removed:#?}");
    assert!(!unit.exists());
    let again = run(&["daemon", "uninstall"]).ok();
    assert!(again.stdout.contains("nothing to remove"), "{again:#?}");
}

fn node_containers(engine: &PrivateEngine) -> Vec<String> {
    engine.running()
}

#[test]
fn engine_faults_on_a_private_engine_hang_stop_restart_and_missed_events() {
    require_docker();
    let mut engine = PrivateEngine::start(false);
    let home = Home::new().with_env("DOCKER_HOST", &engine.host);
    let socket = engine.host.trim_start_matches("unix://").to_string();
    home.ltc(&["create", "web", "-i", "2"]).ok();

    // Hung (SIGSTOP): commands fail at ltc's own timeout, naming the engine; routes keep
    // serving what the node knew.
    engine.pause();
    // The node's last engine check (kept a second) has expired.
    std::thread::sleep(Duration::from_millis(1200));
    let started = Instant::now();
    let run = home
        .ltc(&["scale", "web", "3", "--timeout", "30s"])
        .code(15);
    println!("hung engine: scale failed after {:?}", started.elapsed());
    assert!(
        run.stderr.contains("did not respond") && run.stderr.contains(&socket),
        "{run:#?}"
    );
    assert_eq!(
        http_get(home.router_port, "/index", "web.localhost")
            .unwrap()
            .0,
        200,
        "routes serve from the last known table"
    );
    engine.resume();

    // Events missed while the node was frozen: one resync puts it right.
    let before = home.json(&["status", "web"]);
    let victim = before["instances"][1]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    let node = home.node_pid().unwrap().to_string();
    Command::new("kill")
        .args(["-STOP", &node])
        .status()
        .unwrap();
    let removed = engine.docker(&["rm", "-f", &victim]);
    assert!(removed.status.success(), "{removed:?}");
    Command::new("kill")
        .args(["-CONT", &node])
        .status()
        .unwrap();
    let started = Instant::now();
    home.wait_status("web", Duration::from_secs(30), |s| {
        converged(s, 2) && s["instances"][1]["guid"] != before["instances"][1]["guid"]
    });
    println!("missed events: right again after {:?}", started.elapsed());
    assert_eq!(node_containers(&engine).len(), 2);

    // Stopped, live-restore off (every container dies): routes answer at once, commands fail
    // naming the socket, and the apps come back when the engine does, without duplicates.
    engine.stop();
    let started = Instant::now();
    let answer = http_get(home.router_port, "/index", "web.localhost")
        .unwrap()
        .0;
    println!(
        "engine stopped: the router answered {answer} after {:?}",
        started.elapsed()
    );
    assert!(matches!(answer, 502 | 503), "{answer}");
    let started = Instant::now();
    let run = home
        .ltc(&["scale", "web", "2", "--timeout", "30s"])
        .code(15);
    println!(
        "engine stopped: a command failed after {:?}",
        started.elapsed()
    );
    assert!(run.stderr.contains(&socket), "{run:#?}");
    engine.run();
    let started = Instant::now();
    home.wait_status("web", Duration::from_secs(60), |s| converged(s, 2));
    println!(
        "engine back: 2/2 running again after {:?}",
        started.elapsed()
    );
    assert_eq!(node_containers(&engine).len(), 2, "no duplicate instances");
    assert_eq!(
        http_get(home.router_port, "/index", "web.localhost")
            .unwrap()
            .0,
        200
    );

    // Restarted with live-restore on: no container is replaced, and no request fails. The
    // 127.0.0.1 ports are published by Docker's userland proxy, which goes and comes with the
    // engine even when containers are kept; the router holds a request whose instances all
    // refuse (or whose kept connections died) and tries again, for up to its dial retry
    // budget. So the promise holds when the engine is back within that budget.
    engine.stop();
    engine.configure(true);
    engine.run();
    home.wait_status("web", Duration::from_secs(60), |s| converged(s, 2));
    let kept = node_containers(&engine);
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(300));
    let restarting = Instant::now();
    engine.stop();
    engine.run();
    let took = restarting.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (ok, failed, errors) = load.finish();
    println!(
        "live-restore restart: the engine was back after {took:?}; {ok} requests answered, \
         {failed} failed ({:?})",
        errors.first()
    );
    assert!(ok > 0);
    if took < ltc::router::DIAL_RETRY_BUDGET - Duration::from_millis(500) {
        assert_eq!(failed, 0, "{errors:?}");
    }
    home.wait_status("web", Duration::from_secs(30), |s| converged(s, 2));
    assert_eq!(
        http_get(home.router_port, "/index", "web.localhost")
            .unwrap()
            .0,
        200
    );
    let mut now = node_containers(&engine);
    let mut kept = kept;
    now.sort();
    kept.sort();
    assert_eq!(now, kept, "the same containers");
}

#[test]
fn a_killed_node_restarted_by_its_service_manager_routes_again_and_the_gap_is_shown() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(300));
    let pid = home.node_pid().unwrap();
    let killed = Instant::now();
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    // What the unit does: Restart=always, RestartSec=100ms.
    std::thread::sleep(Duration::from_millis(100));
    let mut node = home
        .command(&["daemon", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(
        http_get(home.router_port, "/index", "web.localhost"),
        Ok((200, _))
    ) {
        assert!(Instant::now() < deadline, "routes never came back");
        std::thread::sleep(Duration::from_millis(1));
    }
    let gap = killed.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (ok, failed, _) = load.finish();
    println!(
        "SIGKILLed node, restarted 100 ms later: routes answered again after {gap:?} ({ok} requests answered, {failed} failed meanwhile)"
    );
    home.ltc(&["daemon", "stop"]).ok();
    let _ = node.wait();
}
