//! The router's HTTP rules against real sockets: an in-process router in front of in-process
//! backends, and raw TCP clients for what well-behaved clients never send.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ltc::router::table::AppRoutes;
use ltc::router::{Router, RouterConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// What a backend saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request-target exactly as received (origin form expected).
    target: String,
    path: String,
    headers: hyper::HeaderMap,
    body_len: usize,
}

#[derive(Default)]
struct Recorder {
    requests: Mutex<Vec<Seen>>,
}

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

/// An HTTP/1.1 backend that answers `name` (or sleeps on `/sleep/<ms>`, or upgrades).
async fn backend(name: &'static str) -> (SocketAddr, Arc<Recorder>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let recorder = Arc::new(Recorder::default());
    let rec = recorder.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let rec = rec.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                    let rec = rec.clone();
                    async move {
                        let path = request.uri().path().to_string();
                        let target = request.uri().to_string();
                        let upgrade = request.headers().contains_key("upgrade");
                        let on_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
                        let method = request.method().to_string();
                        let headers = request.headers().clone();
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        rec.requests.lock().unwrap().push(Seen {
                            method,
                            target,
                            path: path.clone(),
                            headers,
                            body_len: body.len(),
                        });
                        if let Some(on_upgrade) = on_upgrade {
                            tokio::spawn(async move {
                                if let Ok(upgraded) = on_upgrade.await {
                                    let mut io = TokioIo::new(upgraded);
                                    let mut buf = [0u8; 64];
                                    while let Ok(n) = io.read(&mut buf).await {
                                        if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                                            break;
                                        }
                                    }
                                }
                            });
                            return Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(101)
                                    .header("connection", "upgrade")
                                    .header("upgrade", "echo")
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            );
                        }
                        if let Some(ms) = path.strip_prefix("/sleep/") {
                            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
                        }
                        Ok(Response::builder()
                            .header("keep-alive", "timeout=5")
                            .header("x-backend-secret", "hop")
                            .header("connection", "x-backend-secret")
                            .body(Full::new(Bytes::from(name)))
                            .unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    (addr, recorder)
}

/// A port where nothing listens.
fn dead_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Docker's proxy with nothing behind it: accepts, then closes at once.
async fn closing_backend() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, accepted)
}

/// Reads the request head, then resets the connection (an app that died mid-request).
async fn resetting_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.set_zero_linger();
            drop(stream);
        }
    });
    addr
}

struct Proxy {
    addr: SocketAddr,
    router: Arc<Router>,
    cancel: CancellationToken,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn app(name: &str, backends: &[SocketAddr]) -> AppRoutes {
    AppRoutes {
        app: name.into(),
        http: vec![(format!("{name}.d.io"), 8080)],
        tcp: vec![],
        instances: backends
            .iter()
            .enumerate()
            .map(|(i, addr)| {
                (
                    format!("{name}-{i}"),
                    i as u32,
                    BTreeMap::from([(8080, addr.port())]),
                )
            })
            .collect(),
        response_timeout_ms: None,
        redirect_https: false,
        addresses: BTreeMap::new(),
    }
}

/// Collects the router's `[RTR]` lines: (app, index, line).
#[derive(Default)]
struct Lines(Mutex<Vec<(String, Option<u32>, String)>>);

impl ltc::router::AccessLog for Lines {
    fn record(&self, app: &str, index: Option<u32>, line: &str) {
        self.0
            .lock()
            .unwrap()
            .push((app.to_string(), index, line.to_string()));
    }
}

async fn proxy_with(config: RouterConfig, apps: Vec<AppRoutes>) -> Proxy {
    proxy_logging(config, apps, None).await
}

async fn proxy_logging(
    config: RouterConfig,
    apps: Vec<AppRoutes>,
    lines: Option<Arc<Lines>>,
) -> Proxy {
    let lines = lines.map(|l| l as Arc<dyn ltc::router::AccessLog>);
    let router = Router::with_access_log(config, "127.0.0.1".parse().unwrap(), lines);
    router.publish("d.io", &apps);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(ltc::router::listen::serve(
        router.clone(),
        listener,
        cancel.clone(),
    ));
    tokio::spawn(ltc::router::tcp::serve(router.clone(), cancel.clone()));
    Proxy {
        addr,
        router,
        cancel,
    }
}

/// A router for one app `web` on one backend, with a short client header timeout.
async fn proxy_with_header_timeout(timeout: Duration) -> (Proxy, Arc<Recorder>) {
    let (a, recorder) = backend("a").await;
    let config = RouterConfig {
        client_header_timeout: timeout,
        ..RouterConfig::default()
    };
    (proxy_with(config, vec![app("web", &[a])]).await, recorder)
}

async fn proxy(apps: Vec<AppRoutes>) -> Proxy {
    proxy_with(RouterConfig::default(), apps).await
}

/// Sends raw bytes and reads until the server closes (or `wait` passes).
async fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, hyper::HeaderMap, String) {
    let text = raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        Duration::from_secs(10),
    )
    .await;
    parse_response(&text)
}

fn parse_response(text: &str) -> (u16, hyper::HeaderMap, String) {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = hyper::HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.append(
                hyper::header::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                v.trim().parse().unwrap(),
            );
        }
    }
    (status, headers, body.to_string())
}

#[tokio::test]
async fn an_unknown_host_is_404_in_lattices_words() {
    let p = proxy(vec![]).await;
    let (status, headers, body) = get(p.addr, "nope.d.io", "/").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        "404 Not Found: Requested route ('nope.d.io') does not exist.\n"
    );
    assert_eq!(headers["x-cf-routererror"], "unknown_route");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("x-vcap-request-id"));
}

#[tokio::test]
async fn hosts_match_ignoring_case_port_and_a_trailing_dot_and_localhost_aliases() {
    let (a, _) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    for host in [
        "web.d.io",
        "WEB.D.IO",
        "web.d.io:8080",
        "web.d.io.",
        "web.localhost:80",
    ] {
        let (status, _, body) = get(p.addr, host, "/").await;
        assert_eq!((status, body.as_str()), (200, "a"), "{host}");
    }
    let (status, _, _) = get(p.addr, "[::1]:8080", "/").await;
    assert_eq!(status, 404, "an IPv6 literal is not a route");
}

#[tokio::test]
async fn a_missing_duplicate_or_malformed_host_is_400() {
    let (a, _) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let cases = [
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: web.d.io\r\nHost: web.d.io\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: web d.io\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
        // A port out of range and empty labels are not hosts, not unknown routes.
        "GET / HTTP/1.1\r\nHost: web.d.io:99999\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: web.d.io:0\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: web..d.io\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: .web.d.io\r\nConnection: close\r\n\r\n",
    ];
    for case in cases {
        let (status, _, _) =
            parse_response(&raw(p.addr, case.as_bytes(), Duration::from_secs(5)).await);
        assert_eq!(status, 400, "{case:?}");
    }
}

#[tokio::test]
async fn a_client_that_half_closes_after_its_request_gets_the_response() {
    // socat, `nc -N` and scripts calling shutdown(SHUT_WR) send the request and then close
    // their write side; HTTP/1.1 lets them, and the response must still come back.
    let (a, recorder) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let mut stream = TcpStream::connect(p.addr).await.unwrap();
    stream
        .write_all(b"GET /index HTTP/1.1\r\nHost: web.d.io\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out))
        .await
        .expect("the router answers and closes")
        .unwrap();
    let (status, _, body) = parse_response(&String::from_utf8_lossy(&out));
    assert_eq!((status, body.as_str()), (200, "a"));
    assert_eq!(recorder.seen().len(), 1, "the request reached the app once");
}

#[tokio::test]
async fn targets_with_quotes_braces_and_angle_brackets_reach_the_app_as_nginx_lets_them() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    // Two requests on one kept-alive connection, then a third that closes it.
    let requests = "GET /?filter={\"a\":1} HTTP/1.1\r\nHost: web.d.io\r\n\r\n";
    let mut stream = TcpStream::connect(p.addr).await.unwrap();
    let mut answers = Vec::new();
    for last in [false, false, true] {
        let close = if last { "Connection: close\r\n" } else { "" };
        let request = requests.replace("\r\n\r\n", &format!("\r\n{close}\r\n"));
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        answers.push(parse_response(&String::from_utf8_lossy(&buf[..n])).0);
    }
    assert_eq!(answers, [200, 200, 200]);
    let seen = rec.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.target == "/?filter=%7B%22a%22:1%7D"),
        "{:?}",
        seen.iter().map(|s| &s.target).collect::<Vec<_>>()
    );
    for bad in [
        "GET /a b HTTP/1.1\r\nHost: web.d.io\r\nConnection: close\r\n\r\n",
        "GET /a\x01{ HTTP/1.1\r\nHost: web.d.io\r\nConnection: close\r\n\r\n",
    ] {
        let (status, _, _) =
            parse_response(&raw(p.addr, bad.as_bytes(), Duration::from_secs(5)).await);
        assert_eq!(status, 400, "{bad:?}");
    }
}

#[tokio::test]
async fn an_app_with_no_routable_instance_is_503() {
    let p = proxy(vec![app("web", &[])]).await;
    let (status, headers, body) = get(p.addr, "web.d.io", "/").await;
    assert_eq!(status, 503);
    assert_eq!(headers["x-cf-routererror"], "no_endpoints");
    assert!(body.contains("has no available endpoints"), "{body}");
}

#[tokio::test]
async fn requests_go_round_robin_in_strict_order() {
    let (a, _) = backend("a").await;
    let (b, _) = backend("b").await;
    let (c, _) = backend("c").await;
    let p = proxy(vec![app("web", &[a, b, c])]).await;
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(get(p.addr, "web.d.io", "/").await.2);
    }
    assert_eq!(answers[..3], answers[3..], "{answers:?}");
    let mut first: Vec<_> = answers[..3].to_vec();
    first.sort();
    assert_eq!(first, ["a", "b", "c"]);
}

#[tokio::test]
async fn a_failed_dial_is_retried_elsewhere_and_the_instance_skipped() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[dead_port(), a])]).await;
    for _ in 0..4 {
        let (status, _, body) = get(p.addr, "web.d.io", "/").await;
        assert_eq!((status, body.as_str()), (200, "a"));
    }
    assert_eq!(rec.seen().len(), 4);
    assert!(
        p.router
            .table()
            .hostnames()
            .contains(&"web.d.io".to_string())
    );
}

#[tokio::test]
async fn dockers_proxy_closing_at_once_is_a_failed_dial_even_for_a_post() {
    let (closing, accepted) = closing_backend().await;
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[closing, a])]).await;
    for _ in 0..2 {
        let request = "POST /pay HTTP/1.1\r\nHost: web.d.io\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
        let (status, _, body) =
            parse_response(&raw(p.addr, request.as_bytes(), Duration::from_secs(5)).await);
        assert_eq!((status, body.as_str()), (200, "a"));
    }
    let posts = rec.seen();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|s| s.method == "POST" && s.body_len == 3));
    assert!(
        accepted.load(std::sync::atomic::Ordering::SeqCst) <= 1,
        "skipped once failed"
    );
}

#[tokio::test]
async fn a_reset_is_retried_for_get_but_not_for_post() {
    let reset = resetting_backend().await;
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[reset]), app("other", &[a])]).await;
    // Only the resetting instance: a GET fails after its attempts, as does a POST.
    let (status, headers, _) = get(p.addr, "web.d.io", "/").await;
    assert_eq!(status, 502);
    assert_eq!(headers["x-cf-routererror"], "endpoint_failure");
    drop(p);

    let reset = resetting_backend().await;
    let p = proxy(vec![app("web", &[reset, a])]).await;
    let mut gets_ok = 0;
    for _ in 0..4 {
        if get(p.addr, "web.d.io", "/").await.0 == 200 {
            gets_ok += 1;
        }
    }
    assert_eq!(gets_ok, 4, "every GET was retried on the healthy instance");
    drop(p);

    // POSTs through a fresh router: the one that meets the reset is answered 502 and never
    // sent to the other instance; the reset instance is then skipped, so the rest go through.
    let reset = resetting_backend().await;
    let p = proxy(vec![app("web", &[reset, a])]).await;
    let before = rec.seen().iter().filter(|s| s.method == "POST").count();
    let mut posts_failed = 0;
    for _ in 0..4 {
        let post = "POST /pay HTTP/1.1\r\nHost: web.d.io\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
        if parse_response(&raw(p.addr, post.as_bytes(), Duration::from_secs(5)).await).0 == 502 {
            posts_failed += 1;
        }
    }
    let posts_seen = rec.seen().iter().filter(|s| s.method == "POST").count() - before;
    assert_eq!(
        (posts_failed, posts_seen),
        (1, 3),
        "a reset POST is not sent again"
    );
}

#[tokio::test]
async fn at_most_three_attempts_on_distinct_instances() {
    let mut closing = Vec::new();
    let mut counters = Vec::new();
    for _ in 0..5 {
        let (addr, count) = closing_backend().await;
        closing.push(addr);
        counters.push(count);
    }
    // One pass over the instances: whether the router sees these closes as refused dials
    // (which it would try again within its dial retry budget, as when the engine's port proxy
    // restarts) or as instances failing depends on timing, so the budget is off here.
    let config = RouterConfig {
        dial_retry_budget: Duration::ZERO,
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &closing)]).await;
    let (status, _, _) = get(p.addr, "web.d.io", "/").await;
    assert_eq!(status, 502);
    let total: usize = counters
        .iter()
        .map(|c| c.load(std::sync::atomic::Ordering::SeqCst))
        .sum();
    assert_eq!(total, 3);
    assert!(
        counters
            .iter()
            .all(|c| c.load(std::sync::atomic::Ordering::SeqCst) <= 1)
    );
}

#[tokio::test]
async fn a_slow_response_header_is_504() {
    let (a, _) = backend("a").await;
    let config = RouterConfig {
        response_header_timeout: Duration::from_millis(300),
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &[a])]).await;
    let (status, headers, _) = get(p.addr, "web.d.io", "/sleep/2000").await;
    assert_eq!(status, 504);
    assert_eq!(headers["x-cf-routererror"], "endpoint_timeout");
    assert_eq!(get(p.addr, "web.d.io", "/sleep/10").await.0, 200);
    assert_eq!(
        ltc::router::RESPONSE_HEADER_TIMEOUT,
        Duration::from_secs(900),
        "gorouter's default"
    );
}

#[tokio::test]
async fn every_answer_for_a_known_app_has_an_access_line_with_its_request_id() {
    let (a, _) = backend("a").await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let config = RouterConfig {
        response_header_timeout: Duration::from_millis(300),
        ..RouterConfig::default()
    };
    let lines = Arc::new(Lines::default());
    let apps = vec![app("web", &[a]), app("dead", &[closed]), app("empty", &[])];
    let p = proxy_logging(config, apps, Some(lines.clone())).await;
    let cases = [
        ("web.d.io", "/index", 200, Some(0)),
        ("web.d.io", "/sleep/2000", 504, Some(0)),
        ("dead.d.io", "/", 502, Some(0)),
        ("empty.d.io", "/", 503, None),
    ];
    for (host, path, expected, index) in cases {
        let (status, headers, _) = get(p.addr, host, path).await;
        assert_eq!(status, expected, "{host}{path}");
        let id = headers["x-vcap-request-id"].to_str().unwrap().to_string();
        let seen = lines.0.lock().unwrap().clone();
        let line = seen
            .iter()
            .find(|(_, _, line)| line.ends_with(&format!("vcap_request_id:{id}")))
            .unwrap_or_else(|| panic!("no line for {host}{path} ({id}): {seen:#?}"));
        assert_eq!(line.0, host.split('.').next().unwrap());
        assert_eq!(line.1, index, "{line:?}");
        assert!(
            line.2
                .contains(&format!("\"GET {path} HTTP/1.1\" {expected} ")),
            "{line:?}"
        );
    }
    let (status, _, _) = get(p.addr, "nope.d.io", "/").await;
    assert_eq!(status, 404);
    assert_eq!(
        lines.0.lock().unwrap().len(),
        cases.len(),
        "an unknown host belongs to no app's log"
    );
}

/// Sends `head`, then each chunk after `pause`, and returns the status line's code and when
/// the response came (measured from the start).
async fn trickle(
    addr: SocketAddr,
    head: &str,
    chunks: &[&str],
    pause: Duration,
) -> (u16, Duration) {
    let started = std::time::Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let chunks: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
    let sender = tokio::spawn(async move {
        for chunk in chunks {
            tokio::time::sleep(pause).await;
            if writer.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        // Hold the connection open, sending nothing more.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(writer);
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            _ => break,
        }
    }
    sender.abort();
    (
        parse_response(&String::from_utf8_lossy(&out)).0,
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_request_body_that_stalls_or_trickles_is_408_and_never_forwarded_whole() {
    let (a, recorder) = backend("a").await;
    let config = RouterConfig {
        body_idle_timeout: Duration::from_millis(300),
        replay_body_timeout: Duration::from_secs(1),
        stream_body_timeout: Duration::from_secs(2),
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &[a])]).await;
    let small = "POST /pay HTTP/1.1\r\nHost: web.d.io\r\nContent-Length: 20\r\n\r\n";
    // Stalls: one byte, then nothing.
    let (status, took) = trickle(p.addr, small, &["x"], Duration::from_millis(10)).await;
    assert_eq!(status, 408);
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Trickles: a byte every 200 ms (under the idle timeout) would take 4 s, past the total.
    let bytes = ["x"; 20];
    let (status, took) = trickle(p.addr, small, &bytes, Duration::from_millis(200)).await;
    assert_eq!(status, 408);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(
        recorder.seen().is_empty(),
        "a partial small body reaches no app"
    );

    // A streamed (chunked) body goes on as it arrives; when it stalls the instance gets a
    // broken request, never a complete one, and the client 408.
    let chunked = "POST /upload HTTP/1.1\r\nHost: web.d.io\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (status, _) = trickle(
        p.addr,
        chunked,
        &["5\r\nhello\r\n"],
        Duration::from_millis(10),
    )
    .await;
    assert_eq!(status, 408);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        recorder.seen().iter().all(|s| s.body_len == 0),
        "no complete body was forwarded: {:?}",
        recorder
            .seen()
            .iter()
            .map(|s| s.body_len)
            .collect::<Vec<_>>()
    );
    // A body that keeps moving passes.
    let parts = ["5\r\nhello\r\n", "5\r\nworld\r\n", "0\r\n\r\n"];
    let (status, _) = trickle(p.addr, chunked, &parts, Duration::from_millis(100)).await;
    assert_eq!(status, 200);
    assert!(recorder.seen().iter().any(|s| s.body_len == 10));
    assert_eq!(ltc::router::BODY_IDLE_TIMEOUT, Duration::from_secs(10));
}

#[tokio::test]
async fn an_instance_that_only_speaks_http2_is_a_502_that_says_so() {
    // A prior-knowledge h2c server answers an HTTP/1.1 request with HTTP/2 frames: its
    // SETTINGS, then GOAWAY.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let settings = [0u8, 0, 0, 4, 0, 0, 0, 0, 0];
                let goaway = [0u8, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
                let _ = stream.write_all(&settings).await;
                let _ = stream.write_all(&goaway).await;
            });
        }
    });
    let p = proxy(vec![app("web", &[addr])]).await;
    let (status, headers, body) = get(p.addr, "web.d.io", "/").await;
    assert_eq!(status, 502);
    assert_eq!(headers["x-cf-routererror"], "endpoint_failure");
    assert!(
        body.contains("HTTP/1.1") && body.contains("HTTP/2-only"),
        "{body}"
    );
}

#[tokio::test]
async fn forwarding_headers_are_set_and_hop_by_hop_headers_stripped_both_ways() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let request = "GET /h HTTP/1.1\r\nHost: web.d.io:8080\r\nX-Forwarded-For: 10.1.1.1\r\n\
                   X-Vcap-Request-Id: forged\r\nKeep-Alive: timeout=1\r\nX-Secret: s\r\n\
                   Connection: close, X-Secret, X-Forwarded-For\r\n\r\n";
    let (status, headers, _) =
        parse_response(&raw(p.addr, request.as_bytes(), Duration::from_secs(5)).await);
    assert_eq!(status, 200);
    assert_eq!(rec.seen()[0].target, "/h", "origin form, as an app expects");
    let seen = &rec.seen()[0].headers;
    assert_eq!(seen["x-forwarded-for"], "10.1.1.1, 127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"], "http");
    assert_eq!(seen["x-forwarded-host"], "web.d.io:8080");
    assert_eq!(seen["host"], "web.d.io:8080");
    assert!(
        seen["x-request-start"]
            .to_str()
            .unwrap()
            .parse::<u128>()
            .is_ok()
    );
    assert!(!seen.contains_key("x-secret"));
    assert!(!seen.contains_key("keep-alive"));
    let id = seen["x-vcap-request-id"].to_str().unwrap();
    assert_ne!(id, "forged");
    assert_eq!(
        headers["x-vcap-request-id"], id,
        "the client gets the same id"
    );
    assert!(!headers.contains_key("x-backend-secret"));
    assert!(!headers.contains_key("keep-alive"));
}

#[tokio::test]
async fn oversized_or_too_many_headers_are_431() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: web.d.io\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "x".repeat(1 << 20)
    );
    let (status, _, _) =
        parse_response(&raw(p.addr, huge.as_bytes(), Duration::from_secs(5)).await);
    assert_eq!(status, 431);
    // The documented limit holds in between too: 100 KB is refused, 60 KB passes.
    for (size, expected) in [(100_000, 431), (60_000, 200)] {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: web.d.io\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
            "x".repeat(size)
        );
        let (status, _, _) =
            parse_response(&raw(p.addr, request.as_bytes(), Duration::from_secs(5)).await);
        assert_eq!(status, expected, "{size}");
    }
    rec.requests.lock().unwrap().clear();
    let many: String = (0..101).map(|i| format!("X-H{i}: v\r\n")).collect();
    let request = format!("GET / HTTP/1.1\r\nHost: web.d.io\r\n{many}Connection: close\r\n\r\n");
    let (status, _, _) =
        parse_response(&raw(p.addr, request.as_bytes(), Duration::from_secs(5)).await);
    assert_eq!(status, 431);
    assert!(rec.seen().is_empty());
    assert_eq!(
        (ltc::router::MAX_HEAD_BYTES, ltc::router::MAX_HEADERS),
        (64 * 1024, 100)
    );
}

#[tokio::test]
async fn a_client_sending_headers_one_byte_a_second_is_cut_off() {
    let (p, rec) = proxy_with_header_timeout(Duration::from_millis(500)).await;
    let mut stream = TcpStream::connect(p.addr).await.unwrap();
    let started = std::time::Instant::now();
    let mut closed = false;
    for byte in b"GET / HTTP/1.1\r\nHost: web.d.io\r\n\r\n" {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the router closed the slow connection");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(rec.seen().is_empty());
    assert_eq!(ltc::router::CLIENT_HEADER_TIMEOUT, Duration::from_secs(10));
}

#[tokio::test]
async fn a_client_that_connects_and_sends_nothing_is_cut_off() {
    let (p, _) = proxy_with_header_timeout(Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(p.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "closed when silent: {closed:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let (p, _) = proxy_with_header_timeout(Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(p.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: web.d.io\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let eof = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await;
    assert!(
        matches!(eof, Ok(Ok(0)) | Ok(Err(_))),
        "closed when idle: {eof:?}"
    );
}

#[tokio::test]
async fn smuggling_probes_never_reach_the_backend_as_a_second_request() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let probes = [
        "POST / HTTP/1.1\r\nHost: web.d.io\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web.d.io\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: web.d.io\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabcGET /smuggled HTTP/1.1\r\nHost: web.d.io\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: web.d.io\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web.d.io\r\n\r\n",
    ];
    for probe in probes {
        let _ = raw(p.addr, probe.as_bytes(), Duration::from_secs(3)).await;
    }
    let seen = rec.seen();
    assert!(seen.iter().all(|s| s.path != "/smuggled"), "{seen:?}");
    assert!(
        seen.len() <= 1,
        "only the CL+TE request, normalised: {seen:?}"
    );
}

#[tokio::test]
async fn large_bodies_stream_through_both_ways() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let stream = TcpStream::connect(p.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let body = Bytes::from(vec![7u8; 8 << 20]);
    let request = Request::post("/upload")
        .header("host", "web.d.io")
        .body(Full::new(body))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(rec.seen()[0].body_len, 8 << 20);
}

#[tokio::test]
async fn h2c_clients_are_served() {
    let (a, rec) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let stream = TcpStream::connect(p.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let request = Request::get("http://web.d.io/h2")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "a");
    assert_eq!(rec.seen()[0].headers["host"], "web.d.io");
}

/// A connection to `web.d.io` upgraded to the test backend's echo protocol.
async fn upgraded(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: web.d.io\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

#[tokio::test]
async fn upgrades_are_spliced_through() {
    let (a, _) = backend("a").await;
    let p = proxy(vec![app("web", &[a])]).await;
    let mut stream = upgraded(p.addr).await;
    let mut buf = vec![0u8; 1024];
    stream.write_all(b"ping").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"ping");
}

#[tokio::test]
async fn tcp_routes_forward_whole_connections_and_close_at_once_without_instances() {
    let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let external = dead_port().port();
    let mut with_route = app("tcp", &[echo_addr]);
    with_route.tcp = vec![(external, 8080)];
    let p = proxy(vec![with_route]).await;
    let target = SocketAddr::from(([127, 0, 0, 1], external));
    let stream = connect_route(target).await;
    let mut stream = stream;
    stream.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");

    let mut empty = app("tcp", &[]);
    empty.tcp = vec![(external, 8080)];
    p.router.publish("d.io", &[empty]);
    let mut closed = TcpStream::connect(target).await.unwrap();
    let started = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(2), closed.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(0)) | Ok(Err(_))), "closed at once: {n:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_tcp_route_carries_large_streams_both_ways_and_passes_a_half_close_on() {
    let (_p, stream) = tcp_route_to_echo().await;

    const SIZE: usize = 32 << 20;
    let pattern = |i: usize| (i % 251) as u8;
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let chunk: Vec<u8> = (0..SIZE).map(pattern).collect();
        writer.write_all(&chunk).await.unwrap();
        writer.shutdown().await.unwrap();
    });
    let mut received = Vec::with_capacity(SIZE + 16);
    tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut received))
        .await
        .expect("the stream ends")
        .unwrap();
    sending.await.unwrap();
    let (echoed, tail) = received.split_at(SIZE.min(received.len()));
    assert_eq!(echoed.len(), SIZE);
    assert!(
        echoed.iter().enumerate().all(|(i, b)| *b == pattern(i)),
        "every byte arrives, in order"
    );
    assert_eq!(
        String::from_utf8_lossy(tail),
        format!("got {SIZE}"),
        "the half-close reached the backend, whose answer came back"
    );
}

#[tokio::test]
async fn a_tcp_route_answers_small_messages_after_bulk_and_bulk_after_small_ones() {
    // Request and answer, as Redis clients talk: each message waits for its echo. Small
    // messages are copied through memory and a bulk transfer is spliced; the route must go
    // from one to the other and back without losing or holding a byte.
    let (_p, mut stream) = tcp_route_to_echo().await;

    async fn exchange(stream: &mut TcpStream, message: &[u8]) {
        stream.write_all(message).await.unwrap();
        let mut back = vec![0u8; message.len()];
        tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut back))
            .await
            .expect("the echo comes back")
            .unwrap();
        assert_eq!(back, message);
    }
    for i in 0..300u32 {
        exchange(&mut stream, format!("*1\r\n$4\r\nPING{i}\r\n").as_bytes()).await;
    }
    let bulk: Vec<u8> = (0..(4usize << 20)).map(|i| (i % 253) as u8).collect();
    exchange(&mut stream, &bulk).await;
    for i in 0..300u32 {
        exchange(&mut stream, format!("GET key:{i}\r\n").as_bytes()).await;
    }
    // Exactly the buffer's size and one byte more, the edges of the switch.
    for size in [16 * 1024, 16 * 1024 + 1, 16 * 1024 - 1] {
        exchange(&mut stream, &bulk[..size]).await;
        exchange(&mut stream, b"+OK\r\n").await;
    }
}

/// A TCP route to an echo server, and a connection through it. The server writes back
/// everything it reads; once the client has half-closed, it says how many bytes it got, then
/// closes.
async fn tcp_route_to_echo() -> (Proxy, TcpStream) {
    let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut total = 0u64;
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) if s.write_all(&buf[..n]).await.is_ok() => total += n as u64,
                        _ => return,
                    }
                }
                let _ = s.write_all(format!("got {total}").as_bytes()).await;
            });
        }
    });
    let external = dead_port().port();
    let mut with_route = app("tcp", &[echo_addr]);
    with_route.tcp = vec![(external, 8080)];
    let proxy = proxy(vec![with_route]).await;
    let stream = connect_route(SocketAddr::from(([127, 0, 0, 1], external))).await;
    (proxy, stream)
}

/// Connects to a TCP route once its listener is open.
async fn connect_route(target: SocketAddr) -> TcpStream {
    for _ in 0..50 {
        if let Ok(stream) = TcpStream::connect(target).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the TCP route on {target} never listened");
}

/// A backend that takes `ms` per request and counts how many it works on at once: (now, most).
async fn counting_backend(ms: u64) -> (SocketAddr, Arc<(AtomicUsize, AtomicUsize)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let shared = counts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counts = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_: Request<Incoming>| {
                    let counts = counts.clone();
                    async move {
                        let now = counts.0.fetch_add(1, Ordering::SeqCst) + 1;
                        counts.1.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        counts.0.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(
                            "done",
                        ))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, counts)
}

#[tokio::test]
async fn an_instance_works_on_at_most_its_limit_and_the_rest_wait_their_turn() {
    let (a, counts) = counting_backend(100).await;
    let config = RouterConfig {
        max_pending_per_instance: 2,
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &[a])]).await;
    let requests: Vec<_> = (0..12)
        .map(|_| tokio::spawn(get(p.addr, "web.d.io", "/")))
        .collect();
    for request in requests {
        let (status, _, body) = request.await.unwrap();
        assert_eq!((status, body.as_str()), (200, "done"));
    }
    assert_eq!(
        counts.1.load(Ordering::SeqCst),
        2,
        "never more than its limit at once"
    );
}

#[tokio::test]
async fn a_request_that_waits_past_the_queue_timeout_is_503() {
    let (a, _) = backend("a").await;
    let config = RouterConfig {
        max_pending_per_instance: 1,
        queue_timeout: Duration::from_millis(300),
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &[a])]).await;
    let slow = tokio::spawn(get(p.addr, "web.d.io", "/sleep/1500"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, headers, body) = get(p.addr, "web.d.io", "/").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["x-cf-routererror"], "connection_limit");
    assert!(body.contains("has reached the connection limit"), "{body}");
    assert_eq!(slow.await.unwrap().0, 200);
    // Once the instance is free it takes requests again.
    assert_eq!(get(p.addr, "web.d.io", "/").await.0, 200);
}

#[tokio::test]
async fn upgraded_connections_do_not_count_against_the_limit() {
    let (a, _) = backend("a").await;
    let config = RouterConfig {
        max_pending_per_instance: 1,
        ..RouterConfig::default()
    };
    let p = proxy_with(config, vec![app("web", &[a])]).await;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(upgraded(p.addr).await);
    }
    assert_eq!(get(p.addr, "web.d.io", "/").await.0, 200);
    for stream in &mut open {
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
    }
}
