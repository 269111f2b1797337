//! The router in the node, in front of real containers: round-robin, routes that follow the
//! lifecycle, no failed request while instances die or are scaled away, TCP routes, `update`.

use crate::support::{Home, Load, converged, free_port, guids, http_get, require_docker};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn the_router_cycles_through_every_instance_in_turn() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "lattice-app", "-i", "3"]).ok();
    for host in [
        "lattice-app.localhost",
        "lattice-app.127.0.0.1.xip.io",
        "lattice-app-8080.localhost",
    ] {
        let indices: Vec<String> = (0..6)
            .map(|_| http_get(home.router_port, "/index", host).unwrap())
            .map(|(status, body)| {
                assert_eq!(status, 200);
                body
            })
            .collect();
        assert_eq!(
            indices[..3],
            indices[3..],
            "{host}: strict round-robin: {indices:?}"
        );
        let mut distinct = indices[..3].to_vec();
        distinct.sort();
        assert_eq!(distinct, ["0", "1", "2"], "{host}");
    }
    let (status, body) = http_get(home.router_port, "/", "nope.localhost").unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("Requested route ('nope.localhost') does not exist."));
}

#[test]
fn an_instance_killed_under_load_loses_no_get_and_comes_back() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "3"]).ok();
    let before = home.json(&["status", "web"]);
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(800));
    let victim = before["instances"][1]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    let killed_at = Instant::now();
    std::process::Command::new("docker")
        .args(["kill", "-s", "KILL", &victim])
        .output()
        .unwrap();
    let after = home.wait_status("web", Duration::from_secs(20), |s| {
        converged(s, 3)
            && !guids(s).contains(&before["instances"][1]["guid"].as_str().unwrap().to_string())
    });
    let back_after = killed_at.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let (ok, failed, errors) = load.finish();
    assert_eq!(failed, 0, "failed GETs: {errors:?}");
    assert!(ok > 50, "the load ran: {ok}");
    assert_eq!(after["instances"][1]["index"], 1);
    // Counted as one crash: the restart is not a second one.
    assert_eq!(after["instances"][1]["crash_count"], 1, "{after:#}");
    eprintln!("instance back RUNNING {back_after:?} after SIGKILL; {ok} GETs, none failed");
}

#[test]
fn scaling_ten_to_one_under_load_fails_no_request_and_zero_is_503() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "10", "-m", "32"]).ok();
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    home.ltc(&["scale", "web", "1"]).ok();
    std::thread::sleep(Duration::from_millis(500));
    let (ok, failed, errors) = load.finish();
    assert_eq!(failed, 0, "failed requests: {errors:?}");
    assert!(ok > 20, "the load ran: {ok}");
    assert_eq!(home.containers().len(), 1);

    home.ltc(&["scale", "web", "0"]).ok();
    let started = Instant::now();
    let (status, body) = http_get(home.router_port, "/index", "web.localhost").unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(started.elapsed() < Duration::from_secs(2), "not a hang");
}

#[test]
fn a_request_in_flight_finishes_before_its_instance_is_stopped() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let port = home.router_port;
    let slow = std::thread::spawn(move || http_get(port, "/sleep/1500", "web.localhost"));
    std::thread::sleep(Duration::from_millis(300));
    let scaled = Instant::now();
    home.ltc(&["scale", "web", "0"]).ok();
    let (status, body) = slow.join().unwrap().unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, "slept 1500ms"),
        "drained, not cut off"
    );
    assert!(
        scaled.elapsed() >= Duration::from_millis(900),
        "scale waited for the drain"
    );
    assert!(home.containers().is_empty());
}

fn tcp_exchange(port: u16) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /index HTTP/1.0\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn tcp_routes_and_live_route_updates() {
    require_docker();
    let home = Home::new();
    let first = free_port();
    home.ltc(&["create", "tcp", "-T", &format!("{first}:8080")])
        .ok();
    let status = home.json(&["status", "tcp"]);
    assert_eq!(
        status["tcp_routes"][0]["address"],
        format!("127.0.0.1:{first}")
    );
    assert!(
        status["routes"].as_array().unwrap().is_empty(),
        "explicit routes replace the defaults"
    );
    let response = tcp_exchange(first).unwrap();
    assert!(response.ends_with("\r\n\r\n0"), "{response}");

    let second = free_port();
    let run = home
        .ltc(&[
            "update",
            "tcp",
            "-T",
            &format!("{second}:8080"),
            "-R",
            "api",
        ])
        .ok();
    assert!(run.stderr.contains("Updating tcp routes."), "{run:#?}");
    assert!(tcp_exchange(second).unwrap().ends_with("0"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while tcp_exchange(first).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(tcp_exchange(first).is_err(), "the old TCP route is closed");
    assert_eq!(
        http_get(home.router_port, "/index", "api.localhost").unwrap(),
        (200, "0".into())
    );
    let after = home.json(&["status", "tcp"]);
    assert_eq!(guids(&after), guids(&status), "no instance restarted");

    home.ltc(&["update", "tcp", "--no-routes"]).ok();
    assert_eq!(
        http_get(home.router_port, "/index", "api.localhost")
            .unwrap()
            .0,
        404
    );
    let run = home.ltc(&["update", "tcp"]).code(13);
    assert!(
        run.stderr.contains("followed by at least one of"),
        "{run:#?}"
    );

    // A TCP route whose instances are gone closes connections at once.
    home.ltc(&["update", "tcp", "-T", &format!("{second}:8080")])
        .ok();
    home.ltc(&["scale", "tcp", "0"]).ok();
    let started = Instant::now();
    let outcome = tcp_exchange(second);
    assert!(
        matches!(&outcome, Ok(s) if s.is_empty()) || outcome.is_err(),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_route_used_by_another_app_is_refused() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "one", "-R", "shared"]).ok();
    let run = home.ltc(&["create", "two", "-R", "shared"]).code(14);
    assert!(
        run.stderr
            .contains("route `shared.127.0.0.1.xip.io` is already used by app `one`"),
        "{run:#?}"
    );
    assert_eq!(home.json(&["list"]).as_array().unwrap().len(), 1);
}

#[test]
fn an_app_cannot_take_another_apps_url_through_its_localhost_alias() {
    require_docker();
    let home = Home::new();
    // `thief.localhost`-style routes are the same route as `<name>.<domain>`: claimed first
    // by `thief`, the victim's default URL is refused instead of silently served by the thief.
    home.ltc(&["create", "thief", "-R", "victim.localhost", "--no-wait"])
        .ok();
    let run = home.ltc(&["create", "victim", "--no-wait"]).code(14);
    assert!(
        run.stderr
            .contains("route `victim.127.0.0.1.xip.io` is already used by app `thief`"),
        "{run:#?}"
    );
    let names: Vec<String> = home
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["thief"], "nothing of the victim was created");

    // And in the other order: the alias of an existing app's route cannot be claimed.
    home.ltc(&["create", "owner", "--no-wait"]).ok();
    let run = home
        .ltc(&["update", "thief", "-R", "owner.localhost"])
        .code(14);
    assert!(
        run.stderr.contains("is already used by app `owner`"),
        "{run:#?}"
    );

    // This machine's own names are nobody's route.
    for taken in ["127.0.0.1", "127.0.0.1:8080"] {
        let run = home.ltc(&["update", "thief", "-R", taken]).code(13);
        assert!(run.stderr.contains("cannot be a route"), "{run:#?}");
    }
    let status = home.json(&["status", "thief"]);
    assert_eq!(
        status["routes"][0]["hostname"], "victim.127.0.0.1.xip.io",
        "the refused updates changed nothing"
    );
}

#[test]
fn daemon_stop_finishes_the_requests_in_flight() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let port = home.router_port;
    let slow = std::thread::spawn(move || http_get(port, "/sleep/1500", "web.localhost"));
    std::thread::sleep(Duration::from_millis(400));
    home.ltc(&["daemon", "stop"]).ok();
    let answer = slow.join().unwrap();
    assert!(
        matches!(&answer, Ok((200, _))),
        "the request in flight is answered: {answer:?}"
    );
}

#[test]
fn a_known_app_is_never_404_while_the_node_starts() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    home.ltc(&["daemon", "stop"]).ok();
    let port = home.router_port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen: Vec<(u16, String)> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
                // Refused connections are expected until the new node listens.
                if let Ok(answer) = http_get(port, "/index", "web.localhost") {
                    seen.push(answer);
                }
            }
            seen
        })
    };
    home.ltc(&["daemon", "start"]).ok();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !matches!(http_get(port, "/index", "web.localhost"), Ok((200, _))) {
        assert!(Instant::now() < deadline, "the app answers again");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = hammer.join().unwrap();
    assert!(seen.iter().any(|(s, _)| *s == 200), "{seen:?}");
    assert!(
        seen.iter().all(|(s, _)| *s != 404),
        "never unknown: {:?}",
        seen.iter().filter(|(s, _)| *s != 200).collect::<Vec<_>>()
    );
    for (_, body) in seen.iter().filter(|(s, _)| *s == 503) {
        assert!(body.contains("the router is starting"), "{body}");
    }
}

#[test]
fn a_tcp_route_on_a_taken_or_reserved_port_is_refused_before_anything_is_made() {
    require_docker();
    let home = Home::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let run = home
        .ltc(&["create", "tcp", "-T", &format!("{port}:8080")])
        .code(14);
    assert!(
        run.stderr
            .contains(&format!("TCP route port {port} cannot be opened")),
        "{run:#?}"
    );
    assert_eq!(home.json(&["list"]), serde_json::json!([]), "no app");
    assert!(home.containers().is_empty(), "no container");
    // On an update too, and the app keeps its routes.
    home.ltc(&["create", "web", "--no-wait"]).ok();
    let run = home
        .ltc(&["update", "web", "-T", &format!("{port}:8080")])
        .code(14);
    assert!(run.stderr.contains("cannot be opened"), "{run:#?}");
    assert_eq!(
        home.json(&["status", "web"])["tcp_routes"],
        serde_json::json!([])
    );
    // Lattice's reserved ports are refused as it did.
    let run = home.ltc(&["create", "ssh", "-T", "2222:8080"]).code(13);
    assert!(
        run.stderr.contains("Port 2222 is reserved by Lattice."),
        "{run:#?}"
    );
    drop(taken);
    home.ltc(&["create", "tcp", "-T", &format!("{port}:8080")])
        .ok();
}

#[test]
fn ltc_router_max_conns_bounds_the_requests_an_instance_works_on_at_once() {
    require_docker();
    let bad = Home::new().with_env("LTC_ROUTER_MAX_CONNS", "lots");
    let run = bad.ltc(&["list"]).code(10);
    assert!(
        run.stderr
            .contains("LTC_ROUTER_MAX_CONNS `lots` is not a number")
            && run.stderr.contains("unset it for the default of 500"),
        "{run:#?}"
    );
    let home = Home::new().with_env("LTC_ROUTER_MAX_CONNS", "1");
    // A CGI that notes when it runs beside another of itself.
    let script = "mkdir -p /www/cgi-bin && cat > /www/cgi-bin/slow <<'EOS'\n#!/bin/sh\n\
                  mkdir /tmp/busy 2>/dev/null || touch /tmp/overlapped\nsleep 0.3\n\
                  rmdir /tmp/busy\nprintf 'Content-Type: text/plain\\r\\n\\r\\ndone\\n'\nEOS\n\
                  chmod +x /www/cgi-bin/slow && exec httpd -f -p 8080 -h /www";
    let image = crate::support::busybox_image();
    home.ltc(&["create", "slow", &image, "--", "sh", "-c", script])
        .ok();
    let requests: Vec<_> = (0..4)
        .map(|_| {
            let port = home.router_port;
            std::thread::spawn(move || http_get(port, "/cgi-bin/slow", "slow.localhost"))
        })
        .collect();
    for request in requests {
        let (status, body) = request.join().unwrap().unwrap();
        assert!(status == 200 && body.contains("done"), "{status} {body}");
    }
    let seen = home
        .ltc(&["ssh", "slow", "--", "sh", "-c", "ls /tmp"])
        .ok()
        .stdout;
    assert!(
        !seen.contains("overlapped"),
        "one request at a time: {seen}"
    );
}
