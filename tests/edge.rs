//! The router's edge against real containers and real clients: HTTPS from the local CA and
//! from users' certificates (curl, openssl), sticky sessions, `/metrics` read by a Prometheus
//! text parser, `/health`, per-app response and drain timeouts, and each bad input.

use crate::support::*;
use std::process::Command;
use std::time::Duration;

/// A busybox app whose CGI script `/cgi-bin/s` sets `JSESSIONID` and answers its index and
/// the `X-Forwarded-Proto` it saw; `/cgi-bin/slow?N` answers after N seconds.
fn create_cgi_app(home: &Home, name: &str, instances: &str, extra: &[&str]) {
    let script = "mkdir -p /www/cgi-bin; \
        printf '#!/bin/sh\\necho Content-Type: text/plain\\necho \"Set-Cookie: JSESSIONID=s1; Path=/\"\\necho\\necho $CF_INSTANCE_INDEX $HTTP_X_FORWARDED_PROTO\\n' > /www/cgi-bin/s; \
        printf '#!/bin/sh\\nsleep $QUERY_STRING\\necho Content-Type: text/plain\\necho\\necho slept $QUERY_STRING\\n' > /www/cgi-bin/slow; \
        chmod +x /www/cgi-bin/s /www/cgi-bin/slow; exec httpd -f -p 8080 -h /www";
    let image = busybox_image();
    let mut args = vec!["create", name, image.as_str(), "-i", instances];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "/bin/sh", "-c", script]);
    home.ltc(&args).ok();
}

/// curl with the given arguments; returns (exit code, stdout, stderr).
fn curl(args: &[&str]) -> (i32, String, String) {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "100"])
        .args(args)
        .output()
        .expect("the tests need curl");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `https://<host>:<tls port><path>`, resolved to 127.0.0.1 whatever the name.
fn https(home: &Home, host: &str, path: &str) -> (String, String) {
    let port = home.tls_port();
    (
        format!("https://{host}:{port}{path}"),
        format!("{host}:{port}:127.0.0.1"),
    )
}

fn ca_path(home: &Home) -> String {
    let ca = home.json(&["ca"]);
    assert!(
        ca["https_address"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{ca}"
    );
    ca["cert_path"].as_str().unwrap().to_string()
}

#[test]
fn https_serves_every_route_with_a_certificate_of_the_local_ca() {
    require_docker();
    let home = Home::new();
    create_cgi_app(&home, "web", "1", &[]);
    let ca = ca_path(&home);
    use std::os::unix::fs::PermissionsExt;
    let key = home.path().join("ca/ltc-ca-key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the CA's key is its owner's only");

    let (url, resolve) = https(&home, "web.localhost", "/cgi-bin/s");
    let (code, body, err) = curl(&["--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        body.trim(),
        "0 https",
        "the app sees X-Forwarded-Proto: https"
    );
    let (code, version, err) = curl(&[
        "--cacert",
        &ca,
        "--resolve",
        &resolve,
        "--http2",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        &url,
    ]);
    assert_eq!(
        (code, version.as_str()),
        (0, "2 200"),
        "HTTP/2 over TLS: {err}"
    );
    // The chain: a certificate for this name alone, issued by the CA.
    let chain = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{}", home.tls_port()))
        .args(["-servername", "web.localhost", "-CAfile", &ca, "-showcerts"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the tests need openssl");
    let text = String::from_utf8_lossy(&chain.stdout);
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("CN = web.localhost"), "{text}");
    assert!(text.contains("CN = ltc local CA"), "{text}");

    // A name nobody routes gets no certificate: the handshake ends with an alert.
    let (url, resolve) = https(&home, "nobody.localhost", "/");
    let (code, _, err) = curl(&["--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!(code, 35, "a handshake failure: {err}");
    assert!(err.contains("alert"), "{err}");
    // Plain HTTP to the HTTPS port: a 400 that says so.
    let (status, body) = http_get(home.tls_port(), "/", "web.localhost").unwrap();
    assert_eq!(status, 400);
    assert!(body.contains("speaks HTTPS"), "{body}");
    // TLS to the plain port: an alert, and the router goes on serving.
    let url = format!("https://web.localhost:{}/", home.router_port);
    let resolve = format!("web.localhost:{}:127.0.0.1", home.router_port);
    let (code, _, err) = curl(&["--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!(code, 35, "{err}");
    assert!(err.contains("alert protocol version"), "{err}");
    let (status, body) = http_get(home.router_port, "/cgi-bin/s", "web.localhost").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("0 http\n"), "{body}");

    // The same CA after a node restart: trusted once, trusted for good.
    let before = std::fs::read(&ca).unwrap();
    home.ltc(&["daemon", "stop"]).ok();
    assert_eq!(ca_path(&home), ca);
    assert_eq!(std::fs::read(&ca).unwrap(), before);
}

/// A certificate and key for `names`, valid from `from` to `to` days from now.
fn certificate(names: &[&str], from: i64, to: i64) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let day = Duration::from_secs(24 * 3600);
    let at = |days: i64| {
        let now = std::time::SystemTime::now();
        match days >= 0 {
            true => now + day * days as u32,
            false => now - day * (-days) as u32,
        }
    };
    params.not_before = at(from).into();
    params.not_after = at(to).into();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn a_users_certificate_wins_over_the_ca_and_bad_ones_are_refused() {
    require_docker();
    let home = Home::new();
    create_cgi_app(&home, "web", "1", &[]);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (good_cert, good_key) = certificate(&["web.localhost"], -1, 30);
    let (other_cert, other_key) = certificate(&["other.localhost"], -1, 30);
    let (old_cert, old_key) = certificate(&["web.localhost"], -60, -30);
    let (good_cert, good_key) = (
        write("good.pem", &good_cert),
        write("good-key.pem", &good_key),
    );
    let (other_cert, other_key) = (
        write("other.pem", &other_cert),
        write("other-key.pem", &other_key),
    );
    let (old_cert, old_key) = (write("old.pem", &old_cert), write("old-key.pem", &old_key));
    let cert_of = |home: &Home| home.json(&["status", "web"])["certificates"].clone();

    // A key that is not the certificate's: 13, naming both.
    let run = home
        .ltc(&[
            "update",
            "web",
            "--cert",
            &good_cert,
            "--key",
            &other_key,
            "--cert-host",
            "web.localhost",
        ])
        .code(13);
    assert!(
        run.stderr.contains("does not belong to the certificate"),
        "{run:#?}"
    );
    // A certificate for another name: 13, naming what it is for.
    let run = home
        .ltc(&[
            "update",
            "web",
            "--cert",
            &other_cert,
            "--key",
            &other_key,
            "--cert-host",
            "web.localhost",
        ])
        .code(13);
    assert!(run.stderr.contains("is not for web.localhost"), "{run:#?}");
    assert!(run.stderr.contains("other.localhost"), "{run:#?}");
    // A host that is not the app's: 13.
    let run = home
        .ltc(&[
            "update",
            "web",
            "--cert",
            &other_cert,
            "--key",
            &other_key,
            "--cert-host",
            "other.localhost",
        ])
        .code(13);
    assert!(run.stderr.contains("not a route of `web`"), "{run:#?}");
    // An unreadable file: 12.
    let missing = dir.path().join("missing.pem").display().to_string();
    let run = home
        .ltc(&[
            "update",
            "web",
            "--cert",
            &missing,
            "--key",
            &good_key,
            "--cert-host",
            "web.localhost",
        ])
        .code(12);
    assert!(run.stderr.contains("missing.pem"), "{run:#?}");
    // --cert without --key is a usage error before anything is asked.
    home.ltc(&["update", "web", "--cert", &good_cert]).code(13);
    assert_eq!(cert_of(&home), serde_json::json!({}), "nothing was taken");

    // An expired certificate is taken, with a warning that names its date.
    let run = home
        .ltc(&[
            "update",
            "web",
            "--cert",
            &old_cert,
            "--key",
            &old_key,
            "--cert-host",
            "web.localhost",
        ])
        .ok();
    assert!(run.stderr.contains("expired on"), "{run:#?}");
    // The good one replaces it and wins over the local CA: curl trusts it alone.
    home.ltc(&[
        "update",
        "web",
        "--cert",
        &good_cert,
        "--key",
        &good_key,
        "--cert-host",
        "web.localhost",
    ])
    .ok();
    let (url, resolve) = https(&home, "web.localhost", "/cgi-bin/s");
    let (code, body, err) = curl(&["--cacert", &good_cert, "--resolve", &resolve, &url]);
    assert_eq!((code, body.trim()), (0, "0 https"), "{err}");
    assert!(cert_of(&home)["web.localhost"].is_string());
    // It is a copy: the original may go, and a new node serves it too.
    std::fs::remove_file(&good_key).unwrap();
    home.ltc(&["daemon", "stop"]).ok();
    home.ltc(&["list"]).ok();
    let ca = ca_path(&home);
    let (url, resolve) = https(&home, "web.localhost", "/cgi-bin/s");
    let served = wait_for_curl(&["--cacert", &good_cert, "--resolve", &resolve, &url]);
    assert_eq!(served.trim(), "0 https");
    // Removed, the host is back on the local CA's certificate.
    home.ltc(&["update", "web", "--remove-cert", "web.localhost"])
        .ok();
    let (code, body, err) = curl(&["--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!((code, body.trim()), (0, "0 https"), "{err}");
    home.ltc(&["update", "web", "--remove-cert", "web.localhost"])
        .code(13);
}

/// Retries curl while the node adopts its instances (503 "starting").
fn wait_for_curl(args: &[&str]) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = vec!["-f"];
        all.extend_from_slice(args);
        let (code, body, err) = curl(&all);
        if code == 0 {
            return body;
        }
        assert!(std::time::Instant::now() < deadline, "{err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn redirect_https_sends_plain_requests_to_the_https_url() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "--redirect-https"]).ok();
    let ca = ca_path(&home);
    let url = format!("http://web.localhost:{}/index?x=1", home.router_port);
    let (code, out, err) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        &url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("301 https://web.localhost:{}/index?x=1", home.tls_port())
    );
    let (_, out, _) = curl(&["-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", &url]);
    assert_eq!(out, "308", "the method and body are kept");
    let resolve = format!("web.localhost:{}:127.0.0.1", home.tls_port());
    let (code, out, err) = curl(&["-L", "--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!((code, out.trim()), (0, "0"), "{err}");
    // Turned off live: plain HTTP is served again, nothing restarted.
    let before = home.json(&["status", "web"])["instances"][0]["guid"].clone();
    home.ltc(&["update", "web", "--no-redirect-https"]).ok();
    assert_eq!(
        http_get(home.router_port, "/index", "web.localhost")
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        home.json(&["status", "web"])["instances"][0]["guid"],
        before
    );
}

#[test]
fn sticky_sessions_follow_jsessionid_and_move_when_the_instance_goes() {
    require_docker();
    let home = Home::new();
    create_cgi_app(&home, "web", "3", &[]);
    let url = format!("http://web.localhost:{}/cgi-bin/s", home.router_port);
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("jar");
    let jar = jar.to_str().unwrap();
    // A session on instance 1 or 2, which the scale-down below stops.
    let index = loop {
        let _ = std::fs::remove_file(jar);
        let first = curl(&["-c", jar, "-b", jar, &url]).1;
        let index = first.split_whitespace().next().unwrap().to_string();
        if index != "0" {
            break index;
        }
    };
    for _ in 0..6 {
        let body = curl(&["-c", jar, "-b", jar, &url]).1;
        assert_eq!(body.split_whitespace().next().unwrap(), index, "sticky");
    }
    // Without the cookie, round-robin as before.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3 {
        seen.insert(curl(&[&url]).1);
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    // Its instance goes: the session moves to another one, and stays there.
    let status = home.json(&["status", "web"]);
    let guid = status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["index"].as_u64().map(|n| n.to_string()).as_deref() == Some(index.as_str()))
        .unwrap()["guid"]
        .as_str()
        .unwrap()
        .to_string();
    home.ltc(&["scale", "web", "1"]).ok();
    let (code, headers, _) = curl(&["-i", "-c", jar, "-b", jar, &url]);
    assert_eq!(code, 0);
    assert!(
        headers.contains("__VCAP_ID__=") && !headers.contains(&guid),
        "a new instance is named: {headers}"
    );
    let body = curl(&["-c", jar, "-b", jar, &url]).1;
    assert_eq!(body.split_whitespace().next().unwrap(), "0");
}

#[test]
fn metrics_and_health_answer_on_the_routers_own_host_and_count_every_request() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let port = home.router_port;
    for _ in 0..7 {
        assert_eq!(http_get(port, "/index", "web.localhost").unwrap().0, 200);
    }
    for _ in 0..3 {
        assert_eq!(
            http_get(port, "/no-such-page", "web.localhost").unwrap().0,
            404
        );
    }
    // Two bodies: one small enough to be kept for a retry, one streamed through.
    let (small, large) = ("x".repeat(1000), "y".repeat(100_000));
    for body in [&small, &large] {
        assert_eq!(
            http_post(port, "/index", "web.localhost", body).unwrap().0,
            200
        );
    }
    let (status, text) = http_get(port, "/metrics", "ltc.localhost").unwrap();
    assert_eq!(status, 200);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                other => panic!("{name}: {other:?}"),
            })
            .sum()
    };
    let route = [("app", "web"), ("route", "web.localhost")];
    let ok = [route[0], route[1], ("status", "2xx")];
    let missing = [route[0], route[1], ("status", "4xx")];
    assert_eq!(value("ltc_router_requests_total", &ok), 9.0, "{text}");
    assert_eq!(value("ltc_router_requests_total", &missing), 3.0, "{text}");
    assert_eq!(
        value("ltc_router_request_duration_seconds_count", &route),
        12.0,
        "{text}"
    );
    assert!(value("ltc_router_sent_bytes_total", &route) > 0.0, "{text}");
    assert_eq!(
        value("ltc_router_received_bytes_total", &route),
        101_000.0,
        "{text}"
    );
    assert_eq!(
        value("ltc_instances", &[("app", "web"), ("state", "RUNNING")]),
        2.0,
        "{text}"
    );
    assert_eq!(value("ltc_engine_up", &[]), 1.0, "{text}");
    assert_eq!(value("ltc_app_desired_instances", &[("app", "web")]), 2.0);

    let (status, body) = http_get(port, "/health", "ltc.localhost").unwrap();
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["engine"], "reachable");
    // Nothing else of the node is reachable there.
    assert_eq!(http_get(port, "/v1/apps", "ltc.localhost").unwrap().0, 404);
    // Over HTTPS too, with a certificate for the router's own name.
    let ca = ca_path(&home);
    let (url, resolve) = https(&home, "ltc.localhost", "/health");
    let (code, _, err) = curl(&["-f", "--cacert", &ca, "--resolve", &resolve, &url]);
    assert_eq!(code, 0, "{err}");

    // The name is the router's: no app may take it.
    home.ltc(&["create", "ltc"]).code(13);
    let run = home
        .ltc(&["create", "thief", "-R", "ltc.localhost"])
        .code(13);
    assert!(run.stderr.contains("router's own address"), "{run:#?}");
    assert_eq!(
        home.json(&["list"]).as_array().unwrap().len(),
        1,
        "nothing made"
    );
}

#[test]
fn a_70_second_response_passes_with_a_response_timeout_of_90_seconds() {
    require_docker();
    let home = Home::new();
    create_cgi_app(&home, "slow", "1", &["--response-timeout", "90s"]);
    create_cgi_app(&home, "quick", "1", &["--response-timeout", "2s"]);
    let status = home.json(&["status", "slow"]);
    assert_eq!(status["response_timeout_ms"], 90_000);
    assert_eq!(status["drain_timeout_ms"], 10_000);
    let port = home.router_port;
    let slow = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let answer = http_get_within(port, "/cgi-bin/slow?70", "slow.localhost", 100);
        (answer, started.elapsed())
    });
    let (status, body) = http_get_within(port, "/cgi-bin/slow?5", "quick.localhost", 30).unwrap();
    assert_eq!(status, 504, "{body}");
    let ((status, body), took) = match slow.join().unwrap() {
        (Ok(answer), took) => (answer, took),
        (Err(e), _) => panic!("{e}"),
    };
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("slept 70"), "{body}");
    println!("a 70 s response passed in {:.1} s", took.as_secs_f64());
    // The default is gorouter's 900 s; a bad value is refused before anything changes.
    home.ltc(&["update", "quick", "--response-timeout", "0s"])
        .code(13);
    assert_eq!(home.json(&["status", "quick"])["response_timeout_ms"], 2000);
}

#[test]
fn a_drain_timeout_bounds_how_long_a_stopping_instance_waits_for_its_requests() {
    require_docker();
    let home = Home::new();
    create_cgi_app(&home, "web", "1", &["--drain-timeout", "2s"]);
    let port = home.router_port;
    let slow =
        std::thread::spawn(move || http_get_within(port, "/cgi-bin/slow?30", "web.localhost", 60));
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let run = home.ltc(&["scale", "web", "0"]).ok();
    let took = started.elapsed();
    assert!(run.stderr.contains("draining 1 request"), "{run:#?}");
    // Cut after its drain timeout rather than the 30 s the request wanted.
    let answer = slow.join().unwrap();
    assert!(
        !matches!(answer, Ok((200, _))),
        "the request was cut at the drain timeout: {answer:?}"
    );
    println!(
        "scale to 0 with a 2 s drain took {:.1} s",
        took.as_secs_f64()
    );
    assert_eq!(home.json(&["status", "web"])["drain_timeout_ms"], 2000);
}
