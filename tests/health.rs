//! Monitors and self-healing against real containers: what starts slowly is not routed early,
//! what never becomes healthy is reported, what is killed or removed comes back, and what only
//! looks like an ltc container is left alone.

use crate::support::{Home, Load, converged, http_get, require_docker};
use std::process::Command;
use std::time::{Duration, Instant};

fn instances(status: &serde_json::Value) -> Vec<serde_json::Value> {
    status["instances"].as_array().unwrap().clone()
}

fn guid(instance: &serde_json::Value) -> String {
    instance["guid"].as_str().unwrap().to_string()
}

#[test]
fn a_slow_starter_is_never_routed_before_it_listens_and_create_waits_for_it() {
    require_docker();
    let home = Home::new();
    let create = home
        .command(&[
            "create",
            "slow",
            "--",
            "/lattice-app",
            "--startup-delay",
            "3s",
        ])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut before_running = Vec::new();
    loop {
        let (status, _) =
            http_get(home.router_port, "/index", "slow.localhost").unwrap_or((0, String::new()));
        if status == 200 {
            break;
        }
        before_running.push(status);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never became routable"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = create.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        before_running
            .iter()
            .all(|s| *s == 503 || *s == 404 || *s == 0),
        "no request reached it before it listened: {before_running:?}"
    );
    assert!(
        before_running.contains(&503),
        "it was known but not routed: {before_running:?}"
    );
}

#[test]
fn url_and_absent_monitors_decide_when_an_instance_runs() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "url", "-U", "8080:/index"]).ok();
    let status = home.json(&["status", "url"]);
    assert_eq!(
        status["monitor"],
        serde_json::json!({"type": "url", "port": 8080, "path": "/index"})
    );
    assert!(
        home.ltc(&["status", "url"])
            .ok()
            .stdout
            .contains("URL (8080:/index)")
    );

    // A worker that never listens runs at once without a monitor...
    let run = home
        .ltc(&[
            "create",
            "worker",
            "--no-monitor",
            "--",
            "/lattice-app",
            "--startup-delay",
            "60s",
        ])
        .ok();
    assert!(
        run.stderr.contains("No ports will be monitored."),
        "{run:#?}"
    );
    assert!(converged(&home.json(&["status", "worker"]), 1));

    // ...and a URL that never answers 200 keeps it CLAIMED, saying why.
    let run = home
        .ltc(&["create", "bad", "-U", "8080:/nope", "-t", "2s"])
        .code(16);
    assert!(
        run.stderr.contains("timed out waiting for `bad`"),
        "{run:#?}"
    );
    // It stays CLAIMED (never RUNNING) and says why, once its container exists.
    let status = home.wait_status("bad", Duration::from_secs(20), |s| {
        s["instances"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("/nope answered 404"))
    });
    assert_eq!(status["instances"][0]["state"], "CLAIMED", "{status:#}");

    let run = home.ltc(&["create", "nope", "-M", "9090"]).code(13);
    assert!(
        run.stderr
            .contains("Must have an exposed port that matches the monitored port"),
        "{run:#?}"
    );
}

#[test]
fn a_command_monitor_in_an_image_without_a_shell_fails_clearly() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&["create", "cmd", "--monitor-command", "true"])
        .code(14);
    assert!(run.stderr.contains("no /bin/sh"), "{run:#?}");
    assert!(
        run.stderr.contains("--monitor-port or --monitor-url"),
        "{run:#?}"
    );
}

#[test]
fn removed_killed_and_stopped_instances_come_back() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "3"]).ok();
    let before = instances(&home.json(&["status", "web"]));

    let removed = before[0]["container_id"].as_str().unwrap();
    Command::new("docker")
        .args(["rm", "-f", removed])
        .output()
        .unwrap();
    let after = home.wait_status("web", Duration::from_secs(20), |s| {
        converged(s, 3) && guid(&instances(s)[0]) != guid(&before[0])
    });
    assert_eq!(after["instances"][0]["index"], 0);
    // Docker reports the process's death (`die`) before the removal (`destroy`).
    assert_eq!(after["instances"][0]["crash_count"], 1, "{after:#}");

    let killed = before[1]["container_id"].as_str().unwrap();
    Command::new("docker")
        .args(["kill", killed])
        .output()
        .unwrap();
    let after = home.wait_status("web", Duration::from_secs(20), |s| {
        converged(s, 3) && instances(s)[1]["crash_count"] == 1
    });
    assert_ne!(guid(&instances(&after)[1]), guid(&before[1]));

    let ids: Vec<String> = home.containers().into_iter().map(|c| c.id).collect();
    Command::new("docker")
        .arg("stop")
        .args(&ids)
        .output()
        .unwrap();
    let after = home.wait_status("web", Duration::from_secs(30), |s| {
        converged(s, 3)
            && instances(s)
                .iter()
                .all(|i| i["crash_count"].as_u64().unwrap() >= 1)
    });
    let indices: Vec<u64> = instances(&after)
        .iter()
        .map(|i| i["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2]);
    assert_eq!(home.containers().len(), 3);
}

#[test]
fn a_container_with_copied_labels_is_never_adopted_or_routed() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let before = home.json(&["status", "web"]);
    let real = before["instances"][0]["container_id"].as_str().unwrap();
    let inspect = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{json .Config.Labels}} {{.Config.Image}}",
            real,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout).to_string();
    let (labels, image) = text.trim().rsplit_once(' ').unwrap();
    let labels: std::collections::BTreeMap<String, String> = serde_json::from_str(labels).unwrap();
    let mut run = Command::new("docker");
    run.args(["run", "-d", "--init", "-p", "127.0.0.1::8080"]);
    for (key, value) in &labels {
        run.args(["--label", &format!("{key}={value}")]);
    }
    let impostor = String::from_utf8_lossy(&run.arg(image).output().unwrap().stdout)
        .trim()
        .to_string();
    assert!(!impostor.is_empty());
    // A restart of the node makes it look again at everything carrying its labels.
    home.ltc(&["daemon", "stop"]).ok();
    let after = home.wait_status("web", Duration::from_secs(10), |s| converged(s, 2));
    let guids = |s: &serde_json::Value| instances(s).iter().map(guid).collect::<Vec<_>>();
    assert_eq!(guids(&after), guids(&before));
    // The impostor has no INSTANCE_INDEX and would answer -1: it is never routed.
    for _ in 0..20 {
        let (status, body) = http_get(home.router_port, "/index", "web.localhost").unwrap();
        assert_eq!(status, 200);
        assert_ne!(body, "-1");
    }
    let still_there = Command::new("docker")
        .args(["inspect", "--format", "{{.State.Running}}", &impostor])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&still_there.stdout).trim(),
        "true",
        "never removed"
    );
    let log = std::fs::read_to_string(home.path().join("node.log")).unwrap();
    assert!(log.contains("ltc did not create it"), "{log}");
}

#[test]
fn a_node_killed_under_load_adopts_everything_and_routes_again() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let before = home.json(&["status", "web"]);
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    let pid = home.node_pid().unwrap();
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    // Apps keep running while the node is gone.
    assert_eq!(
        home.containers()
            .iter()
            .filter(|c| c.state == "running")
            .count(),
        2
    );
    let restarted = Instant::now();
    home.ltc(&["daemon", "start"]).ok();
    let mut first_200 = None;
    while restarted.elapsed() < Duration::from_secs(10) {
        if let Ok((200, _)) = http_get(home.router_port, "/index", "web.localhost") {
            first_200 = Some(restarted.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let first_200 = first_200.expect("routes again after the restart");
    // While the node (and so the router) was down, requests failed; none fail once it is back.
    let (_, failed_during_outage, _) = load.finish();
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1000));
    let (ok, failed, errors) = load.finish();
    assert_eq!(failed, 0, "after the restart: {errors:?}");
    assert!(ok > 20);
    let after = home.wait_status("web", Duration::from_secs(10), |s| converged(s, 2));
    let guids = |s: &serde_json::Value| instances(s).iter().map(guid).collect::<Vec<_>>();
    assert_eq!(guids(&after), guids(&before), "adopted, not replaced");
    assert_eq!(home.containers().len(), 2);
    eprintln!(
        "routing again {first_200:?} after `ltc daemon start`; {failed_during_outage} requests failed while the node was down"
    );
}

#[test]
fn with_the_engine_gone_status_shows_what_the_node_knows_and_exits_15() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    // The node is restarted against a dead socket: it knows the app, not the engine.
    home.ltc(&["daemon", "stop"]).ok();
    let mut command = home.command(&["status", "web"]);
    command.env("DOCKER_HOST", "unix:///nonexistent");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(15));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unix:///nonexistent"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("web"),
        "what the node knows is shown: {stdout}"
    );
    home.ltc(&["daemon", "stop"]).ok();
}

#[test]
fn the_last_crash_stays_in_status_after_the_instance_runs_again() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let status = home.json(&["status", "web"]);
    let port = status["instances"][0]["ports"]["8080"].as_u64().unwrap() as u16;
    // The demo app's `/exit` ends the process with status 1.
    let _ = http_get(port, "/exit", "web");
    let status = home.wait_status("web", Duration::from_secs(20), |s| {
        let i = &s["instances"][0];
        i["crash_count"] == 1 && i["state"] == "RUNNING"
    });
    let crash = &status["instances"][0]["last_crash"];
    assert_eq!(crash["reason"], "exited with status 1", "{status:#}");
    assert!(
        humantime::parse_rfc3339(crash["time"].as_str().unwrap()).is_ok(),
        "{crash}"
    );
    let human = home.ltc(&["status", "web"]).ok().stdout;
    assert!(
        human.contains("last crash") && human.contains("exited with status 1"),
        "{human}"
    );
    // The node's records keep it across a restart of the node.
    home.ltc(&["daemon", "stop"]).ok();
    home.wait_status("web", Duration::from_secs(20), |s| {
        s["instances"][0]["last_crash"]["reason"] == "exited with status 1"
    });
}

#[test]
fn a_start_that_never_becomes_healthy_is_a_crash_after_the_start_timeout() {
    require_docker();
    let home = Home::new();
    // The app listens on 8080 only; the monitor watches 9999 and never passes.
    home.ltc(&[
        "create",
        "stuck",
        "--ports",
        "8080,9999",
        "--monitor-port",
        "9999",
        "--start-timeout",
        "2s",
        "--no-wait",
        "--",
        "/lattice-app",
        "--ports",
        "8080",
    ])
    .ok();
    let claimed = home.wait_status("stuck", Duration::from_secs(20), |s| {
        s["instances"][0]["state"] == "CLAIMED"
    });
    assert!(
        claimed["instances"][0]["start_deadline"].is_string(),
        "{claimed:#}"
    );
    assert_eq!(claimed["start_timeout_ms"], 2000);
    let human = home.ltc(&["status", "stuck"]).ok().stdout;
    assert!(human.contains("(start timeout)"), "{human}");
    let crashed = home.wait_status("stuck", Duration::from_secs(20), |s| {
        s["instances"][0]["crash_count"].as_u64().unwrap_or(0) >= 1
    });
    let reason = crashed["instances"][0]["last_crash"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.starts_with("not healthy within 2s (start timeout)"),
        "{crashed:#}"
    );
    // Retried as a crash: the third one backs off (Diego), with the reason in status.
    let backing_off = home.wait_status("stuck", Duration::from_secs(30), |s| {
        s["instances"][0]["crash_count"].as_u64().unwrap_or(0) >= 3
    });
    assert!(
        backing_off["instances"][0]["next_restart"].is_string(),
        "{backing_off:#}"
    );
}

/// Pseudo-random numbers for spreading kills over time, seeded so a failure can be replayed.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn a_node_killed_at_random_moments_while_scaling_leaks_no_container() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "--no-wait"]).ok();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut state = seed;
    const KILLS: usize = 25;
    for _ in 0..KILLS {
        let count = (xorshift(&mut state) % 4 + 1).to_string();
        // Each command starts a node when none runs; kill it somewhere in the scale.
        let _ = home.ltc(&["scale", "web", &count, "--no-wait"]);
        std::thread::sleep(Duration::from_millis(xorshift(&mut state) % 250));
        if let Some(pid) = home.node_pid() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
    home.ltc(&["scale", "web", "2", "--no-wait"]).ok();
    // Every container is one of the app's instances: none exited and left, none unknown. (An
    // instance may still wait out a crash backoff: containers a killed node was removing die
    // under the next one, which counts them as crashes.)
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let containers = home.containers();
        let status = home.json(&["status", "web"]);
        let known: Vec<&str> = status["instances"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["container_id"].as_str())
            .collect();
        let accounted = containers
            .iter()
            .all(|c| c.state == "running" && known.iter().any(|id| id.starts_with(&c.id)));
        if accounted && containers.len() <= 2 && status["instances"].as_array().unwrap().len() == 2
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: {} containers for 2 wanted: {:?}\n{status:#}\n{}",
            containers.len(),
            containers.iter().map(|c| &c.state).collect::<Vec<_>>(),
            std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    home.ltc(&["remove", "web"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !home.containers().is_empty() {
        assert!(Instant::now() < deadline, "seed {seed}: left after remove");
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default();
    assert!(
        !log.contains("did not create it"),
        "seed {seed}: every container was accounted for:\n{log}"
    );
}

#[test]
fn removing_a_large_app_takes_no_container_of_its_own_for_a_stranger() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "big", "-i", "12", "-m", "32"]).ok();
    home.ltc(&["remove", "big"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !home.containers().is_empty() {
        assert!(Instant::now() < deadline, "left after remove");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let a resync whose list was taken during the removal run.
    std::thread::sleep(Duration::from_millis(5500));
    let log = std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default();
    assert!(!log.contains("did not create it"), "{log}");
}

/// The host pid of an instance's app process (not Docker's init), from `docker top`.
fn app_pid(container: &str) -> String {
    let top = Command::new("docker")
        .args(["top", container, "-o", "pid,args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&top.stdout)
        .lines()
        .skip(1)
        .find(|l| !l.contains("docker-init"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the app's process")
        .to_string()
}

#[test]
fn a_frozen_instance_leaves_the_routes_within_seconds_and_is_replaced() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let status = home.json(&["status", "web"]);
    let container = |s: &serde_json::Value, i: usize| {
        s["instances"][i]["container_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(60));

    // `docker pause`: the kernel and Docker's proxy still accept on its port.
    let paused = container(&status, 0);
    Command::new("docker")
        .args(["pause", &paused])
        .status()
        .unwrap();
    let frozen_at = Instant::now();
    let unhealthy = home.wait_status("web", Duration::from_secs(20), |s| {
        s["instances"][0]["healthy"] == false
    });
    let unrouted = frozen_at.elapsed();
    assert!(
        unhealthy["instances"][0]["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("frozen"),
        "{unhealthy:#}"
    );
    home.wait_status("web", Duration::from_secs(30), |s| {
        s["instances"][0]["crash_count"] == 1 && converged(s, 2)
    });
    let replaced = frozen_at.elapsed();

    // SIGSTOP of the app's process in the other instance.
    let stopped = container(&home.json(&["status", "web"]), 1);
    let pid = app_pid(&stopped);
    Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    let stopped_at = Instant::now();
    home.wait_status("web", Duration::from_secs(20), |s| {
        s["instances"][1]["healthy"] == false || s["instances"][1]["crash_count"] == 1
    });
    let unrouted_stopped = stopped_at.elapsed();
    home.wait_status("web", Duration::from_secs(30), |s| {
        s["instances"][1]["crash_count"] == 1 && converged(s, 2)
    });
    let (ok, failed, errors) = load.finish();
    eprintln!(
        "paused: out of the routes after {unrouted:?}, replaced after {replaced:?}; \
         SIGSTOPped: out after {unrouted_stopped:?}; {ok} GETs answered, {failed} failed"
    );
    assert_eq!(
        failed, 0,
        "requests that met a frozen instance went elsewhere: {errors:?}"
    );
    assert!(ok > 50);
}

#[test]
fn an_instance_killed_for_memory_says_so_with_its_limit() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "hog", "-m", "16"]).ok();
    // The demo app holds 64 MiB on /alloc/64: the kernel kills it at the 16 MB limit.
    let _ = http_get(home.router_port, "/alloc/64", "hog.localhost");
    let status = home.wait_status("hog", Duration::from_secs(20), |s| {
        s["instances"][0]["last_crash"]["reason"].is_string()
    });
    let reason = status["instances"][0]["last_crash"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("out of memory") && reason.contains("16 MB") && reason.contains("137"),
        "{reason}"
    );
    let logs = home.ltc(&["logs", "hog", "--recent"]).ok().stdout;
    assert!(logs.contains("out of memory"), "{logs}");
}

#[test]
fn without_a_monitor_a_process_that_exits_at_once_is_a_crash_not_running() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&[
            "create",
            "worker",
            "--no-monitor",
            "--",
            "/lattice-app",
            "--bogus-flag",
        ])
        .code(14);
    assert!(!run.stdout.contains("is now running"), "{run:#?}");
    let logs = home.ltc(&["logs", "worker", "--recent"]).ok().stdout;
    assert!(!logs.contains("healthcheck passed"), "{logs}");
    assert!(logs.contains("Crashed (1)"), "{logs}");
    // One that stays up is running, and its log says how it was judged.
    home.ltc(&["create", "steady", "--no-monitor"]).ok();
    let logs = home.ltc(&["logs", "steady", "--recent"]).ok().stdout;
    assert!(
        logs.contains("[HEALTH|0] no monitor: running, its process stayed up"),
        "{logs}"
    );
}
