//! Seeing what runs: logs, events, debug-logs, cells, visualize and status against real
//! containers, including the faults: crash loops, scaling while following, and a flood.

use crate::support::{Follow, Home, Run, http_get, require_docker};
use std::time::{Duration, Instant};

fn node_counts(home: &Home) -> (u64, u64) {
    let status = home.json(&["daemon", "status"]);
    (
        status["node"]["log_followers"].as_u64().unwrap(),
        status["node"]["stream_subscribers"].as_u64().unwrap(),
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn logs_follow_every_instance_as_the_app_scales_and_leak_nothing() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let follow = Follow::start(&home, &["logs", "web"]);
    home.wait_stream_subscribers(1);
    home.ltc(&["scale", "web", "4"]).ok();
    std::thread::sleep(Duration::from_millis(2500));
    home.ltc(&["scale", "web", "1"]).ok();
    std::thread::sleep(Duration::from_millis(1500));
    let Run {
        code, stdout: out, ..
    } = follow.stop();
    assert_eq!(code, 0, "Ctrl-C ends it with 0");
    for index in 0..4 {
        let hello = format!("[APP|{index}] Lattice-app. Says Hello. on index: {index}");
        assert!(out.contains(&hello), "{hello} in:\n{out}");
    }
    for index in 1..4 {
        assert!(out.contains(&format!("[CELL|{index}] Stopped")), "{out}");
    }
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.len() > 18 && first.as_bytes()[2] == b'/' && first.as_bytes()[5] == b' ',
        "MM/DD HH:MM:SS.cc [SRC|I] message: {first}"
    );
    // One container followed, nobody streaming: nothing leaked in the node.
    wait_until("the node has one follower and no subscriber", || {
        node_counts(&home) == (1, 0)
    });
}

#[test]
fn an_app_created_again_under_a_removed_apps_name_starts_with_an_empty_log() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let first = home.ltc(&["logs", "web", "--recent"]).ok().stdout;
    assert!(first.contains("[CELL|0] Creating container"), "{first}");
    home.ltc(&["remove", "web"]).ok();
    home.ltc(&["create", "web", "--", "/lattice-app", "--ports", "8080"])
        .ok();
    let second = home.ltc(&["logs", "web", "--recent"]).ok().stdout;
    assert!(
        !second.contains("[CELL|0] Stopped"),
        "the removed app's lines are gone:\n{second}"
    );
    assert_eq!(
        second.matches("[CELL|0] Creating container").count(),
        1,
        "one creation, this app's:\n{second}"
    );
}

#[test]
fn a_crash_loop_shows_each_crash_once_in_the_logs() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "bad", "--", "/lattice-app", "--bogus-flag"])
        .code(14);
    let run = home.ltc(&["logs", "bad", "--recent"]).ok();
    for crash in 1..=3 {
        assert!(
            run.stdout
                .contains(&format!("Crashed ({crash}): exited with status 2")),
            "{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("restarting in 30s"), "{}", run.stdout);
    // Each crash once, never doubled. The output of a process that dies within milliseconds
    // can still be in Docker's log copier when `die` arrives, so one of the three complaints
    // may be missing (Docker's timing); more than three would be a duplicate.
    let complaints = run
        .stdout
        .matches("lattice-app: unknown flag `--bogus-flag`")
        .count();
    assert!(
        (1..=3).contains(&complaints),
        "{complaints} complaints:\n{}",
        run.stdout
    );
    for crash in 1..=3 {
        let line = format!("Crashed ({crash}):");
        assert_eq!(
            run.stdout.matches(&line).count(),
            1,
            "{line}:\n{}",
            run.stdout
        );
    }
    let json = home
        .ltc(&["logs", "bad", "--recent", "--tail", "2", "--json"])
        .ok();
    let lines: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["app"], "bad");
}

#[test]
fn logs_of_a_missing_app_wait_for_it() {
    require_docker();
    let home = Home::new();
    home.ltc(&["list"]).ok();
    let follow = Follow::start(&home, &["logs", "later"]);
    follow.wait_for("waiting for later to appear", Duration::from_secs(10));
    home.ltc(&["create", "later"]).ok();
    follow.wait_for("Says Hello. on index: 0", Duration::from_secs(10));
    let Run {
        code,
        stdout: out,
        stderr: err,
    } = follow.stop();
    assert_eq!(code, 0);
    assert!(
        err.contains("Application or task later not found."),
        "{err}"
    );
    assert!(
        err.contains("Tailing logs and waiting for later to appear..."),
        "{err}"
    );
    assert!(
        out.contains("Lattice-app. Says Hello. on index: 0"),
        "{out}"
    );
    home.ltc(&["logs", "ghost", "--recent"]).code(14);
}

#[test]
fn router_lines_join_the_stream_while_someone_watches() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let follow = Follow::start(&home, &["logs", "web"]);
    home.wait_stream_subscribers(1);
    assert_eq!(
        http_get(home.router_port, "/index?probe=1", "web.localhost")
            .unwrap()
            .0,
        200
    );
    follow.wait_for("/index?probe=1", Duration::from_secs(10));
    let out = follow.stop().stdout;
    assert!(out.contains("[RTR|0] web.localhost"), "{out}");
    assert!(out.contains("\"GET /index?probe=1 HTTP/1.1\" 200"), "{out}");
}

#[test]
fn a_flood_of_output_keeps_the_node_bounded() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "loud"]).ok();
    let pid = home.node_pid().unwrap();
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .to_string();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = rss();
    let follow = Follow::start(&home, &["logs", "loud", "--json"]);
    home.wait_stream_subscribers(1);
    let (status, _) = http_get(home.router_port, "/log/10000000", "loud.localhost").unwrap();
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_secs(4));
    let after = rss();
    let Run {
        code, stdout: out, ..
    } = follow.stop();
    assert_eq!(code, 0);
    let lines = out.lines().count();
    let dropped = out.contains("lines dropped");
    assert!(
        lines > 10_000 || dropped,
        "the reader kept up or was told: {lines} lines"
    );
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "node RSS grew from {before} KiB to {after} KiB"
    );
    let recent = home.ltc(&["logs", "loud", "--recent"]).ok();
    assert!(
        recent.stdout.lines().count() <= 1000,
        "only the last lines are kept"
    );
}

#[test]
fn events_tell_scripts_what_happened() {
    require_docker();
    let home = Home::new();
    home.ltc(&["list"]).ok();
    let follow = Follow::start(&home, &["events", "--json"]);
    home.wait_stream_subscribers(1);
    home.ltc(&["create", "web"]).ok();
    home.ltc(&["scale", "web", "0"]).ok();
    home.ltc(&["remove", "web"]).ok();
    follow.wait_for("route_removed", Duration::from_secs(10));
    let Run {
        code, stdout: out, ..
    } = follow.stop();
    assert_eq!(code, 0);
    let kinds: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected = [
        "app_created",
        "route_added",
        "instance_claimed",
        "instance_running",
        "app_scaled",
        "instance_stopped",
        "app_removed",
        "route_removed",
    ];
    let mut at = 0;
    for kind in &kinds {
        if at < expected.len() && kind == expected[at] {
            at += 1;
        }
    }
    assert_eq!(
        at,
        expected.len(),
        "in order: {expected:?} within {kinds:?}"
    );
}

#[test]
fn debug_logs_cells_visualize_and_status_show_the_machine() {
    require_docker();
    let home = Home::new();
    home.ltc(&["list"]).ok();
    let follow = Follow::start(&home, &["debug-logs", "--raw"]);
    home.wait_stream_subscribers(1);
    home.ltc(&["create", "web", "-i", "2"]).ok();
    follow.wait_for("created web", Duration::from_secs(10));
    let out = follow.stop().stdout;
    assert!(out.contains("created web (2 instances"), "{out}");

    let cells = home.json(&["cells"]);
    assert_eq!(
        cells.as_array().unwrap().len(),
        1,
        "one engine, one cell: {cells:#}"
    );
    let cell = &cells[0];
    assert_eq!(cell["cell_id"], "cell-01");
    assert_eq!(cell["running_instances"], 2);
    assert!(cell["memory_mb"].as_u64().unwrap() > 0);
    assert!(cell["cpus"].as_u64().unwrap() > 0);
    assert!(cell["disk_mb"].as_u64().unwrap() > 0, "{cell:#}");
    let run = home.ltc(&["visualize"]).ok();
    assert!(run.stdout.contains("cell-01: ••"), "{}", run.stdout);
    assert!(run.stdout.contains("  web: ••"), "{}", run.stdout);

    // Resource samples arrive in the background: the second sample gives CPU.
    wait_until("status shows CPU and memory", || {
        let status = home.json(&["status", "web"]);
        let first = &status["instances"][0];
        first["cpu_percent"].is_number() && first["memory_bytes"].as_u64().unwrap_or(0) > 0
    });
    let run = home.ltc(&["status", "web", "--detailed"]).ok();
    assert!(
        run.stdout.contains("Instance 1  [RUNNING]"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Port Mapping"), "{}", run.stdout);
    home.ltc(&["status", "web", "--rate", "1s"]).code(13);
}

#[test]
fn a_long_line_is_one_line_cut_once_at_the_documented_limit() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let (status, _) = http_get(home.router_port, "/line/40000", "web.localhost").unwrap();
    assert_eq!(status, 200);
    let mut recent = String::new();
    wait_until("the long line is in the log", || {
        recent = home.ltc(&["logs", "web", "--recent"]).ok().stdout;
        recent.contains("[line of 40000 bytes cut at 4096]")
    });
    let long: Vec<&str> = recent.lines().filter(|l| l.contains("yyyy")).collect();
    assert_eq!(
        long.len(),
        1,
        "one line, not Docker's 16 KiB pieces:\n{recent}"
    );
    let kept = long[0].split('…').next().unwrap();
    assert_eq!(kept.matches('y').count(), 4096, "{}", long[0].len());
}

#[test]
fn router_lines_are_kept_when_nobody_follows_the_logs() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    for i in 0..10 {
        let path = format!("/index?unwatched={i}");
        assert_eq!(
            http_get(home.router_port, &path, "web.localhost")
                .unwrap()
                .0,
            200
        );
    }
    let recent = home.ltc(&["logs", "web", "--recent"]).ok().stdout;
    let routed = recent
        .lines()
        .filter(|l| l.contains("[RTR|0]") && l.contains("/index?unwatched="))
        .count();
    assert_eq!(routed, 10, "{recent}");
}

#[test]
fn status_rate_redraws_in_place_and_gives_the_cursor_back() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let typescript = home.path().join("typescript");
    // A real terminal for `--rate`, stopped by SIGINT as a user's Ctrl-C would.
    let inner = format!(
        "timeout -s INT 1.5 {} status web --rate 200ms",
        env!("CARGO_BIN_EXE_ltc")
    );
    let run = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &inner])
        .arg(&typescript)
        .env("LTC_HOME", home.path())
        .env("LTC_ROUTER_ADDR", format!("127.0.0.1:{}", home.router_port))
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    // `timeout` exits 124 when it had to send the signal; ltc itself ended on it.
    assert_eq!(run.status.code(), Some(124), "{out:?}");
    assert_eq!(out.matches("\x1b[2J").count(), 1, "cleared once: {out:?}");
    let frames = out.matches("\x1b[H").count();
    assert!(frames >= 3, "{frames} frames: {out:?}");
    let hidden = out.find("\x1b[?25l").expect("the cursor is hidden");
    let shown = out.rfind("\x1b[?25h").expect("and shown again on Ctrl-C");
    assert!(hidden < shown);
    assert!(out.contains("web"), "{out:?}");
}
