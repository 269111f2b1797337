//! The dashboard at `http://ltc.localhost/`: one page built into the binary, fed by
//! Server-Sent Events, with scale, restart and remove going to the node's own methods.
//!
//! - `GET /`: the page, carrying this router's token.
//! - `GET /api/stream`: a snapshot whenever the node's state changes, and every
//!   [`SNAPSHOT_EVERY`] for request rates, CPU and memory. EventSource reconnects by itself
//!   when the node restarts.
//! - `GET /api/apps/{app}/logs`: the app's recent log lines, then live ones.
//! - `POST /api/apps/{app}/scale` (`{"instances": N}`), `POST /api/apps/{app}/restart`,
//!   `DELETE /api/apps/{app}`: only with the token in `X-Ltc-Token` (a header no other site
//!   can make a browser send without asking first) and, when a browser says where the request
//!   comes from, an `Origin` of this very host. Anything else is 403 and changes nothing.
//!
//! The router answers these only on its reserved host, so a name another site resolves to
//! 127.0.0.1 (DNS rebinding) gets the 404 of an unknown route. Environment values never
//! leave the node: the page's snapshot has no environment at all.

use super::http::full;
use super::{ProxyBody, Router};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;
use std::time::Duration;

/// How often the stream sends a snapshot when nothing changed, for rates and resources.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);
/// Largest action body accepted.
const MAX_ACTION_BODY: usize = 4096;

const PAGE: &str = include_str!("dashboard.html");

pub async fn answer(router: &Router, request: Request<Incoming>) -> Response<ProxyBody> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, [""]) => page(router),
        (&Method::GET, ["api", "stream"]) => stream(router),
        (&Method::GET, ["api", "apps", app, "logs"]) => log(router, app),
        (&Method::POST, ["api", "apps", app, "scale" | "restart"])
        | (&Method::DELETE, ["api", "apps", app]) => {
            if let Err(refused) = allowed(router, &request) {
                return json_error(StatusCode::FORBIDDEN, refused);
            }
            act(router, request, app).await
        }
        _ => text(StatusCode::NOT_FOUND, "404 Not Found\n"),
    }
}

fn text(status: StatusCode, body: &str) -> Response<ProxyBody> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(full(body.to_string()))
        .expect("valid response")
}

fn json_error(status: StatusCode, message: &str) -> Response<ProxyBody> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(full(json!({ "error": message }).to_string()))
        .expect("valid response")
}

fn page(router: &Router) -> Response<ProxyBody> {
    Response::builder()
        .header(CONTENT_TYPE, "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; frame-ancestors 'none'",
        )
        .header("x-frame-options", "DENY")
        .body(full(PAGE.replace("{{TOKEN}}", &router.dashboard_token)))
        .expect("valid response")
}

/// Whether a state-changing request may go on: the token, and an `Origin` (when sent) of the
/// host it was sent to.
fn allowed(router: &Router, request: &Request<Incoming>) -> Result<(), &'static str> {
    let headers = request.headers();
    let token = headers.get("x-ltc-token").and_then(|v| v.to_str().ok());
    if token != Some(router.dashboard_token.as_str()) {
        return Err("the dashboard's token is missing or stale: reload the page");
    }
    if let Some(origin) = headers.get("origin") {
        let host = headers
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin = origin.to_str().unwrap_or("");
        let same = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme) == Some(host));
        if !same {
            return Err("requests from another origin are refused");
        }
    }
    Ok(())
}

async fn act(router: &Router, request: Request<Incoming>, app: &str) -> Response<ProxyBody> {
    let Some(node) = router.node() else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the node is starting");
    };
    let method = request.method().clone();
    let action = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let body = match http_body_util::Limited::new(request.into_body(), MAX_ACTION_BODY)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "the request body is too large"),
    };
    let done = match (method, action.as_str()) {
        (Method::DELETE, _) => node.remove(app).await,
        (_, "restart") => node.restart(app).await,
        _ => {
            let instances = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["instances"].as_u64())
                .and_then(|n| u32::try_from(n).ok());
            match instances {
                Some(n) => node.scale(app, n).await,
                None => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        "send {\"instances\": N} with N a whole number",
                    );
                }
            }
        }
    };
    match done {
        Ok(()) => json_response(json!({ "ok": true }).to_string()),
        Err(e) => {
            let status = match e.exit_code() {
                13 => StatusCode::BAD_REQUEST,
                14 if e.kind == crate::error::Kind::NotFound => StatusCode::NOT_FOUND,
                14 => StatusCode::CONFLICT,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            json_error(status, &e.message)
        }
    }
}

fn json_response(body: String) -> Response<ProxyBody> {
    Response::builder()
        .header(CONTENT_TYPE, "application/json")
        .body(full(body))
        .expect("valid response")
}

/// One snapshot for the page: apps without their environment, request totals from the
/// router's counters, the last events, and the current token (a page that outlived a node
/// restart keeps working).
fn snapshot(router: &Router) -> String {
    let Some(node) = router.node() else {
        return json!({ "apps": [], "events": [], "token": router.dashboard_token }).to_string();
    };
    let (apps, events) = node.apps();
    let totals = router.table().request_totals();
    let apps: Vec<_> = apps
        .iter()
        .map(|app| {
            let (requests, errors) = totals.get(&app.name).copied().unwrap_or((0, 0));
            let urls: Vec<&String> = app
                .routes
                .iter()
                .map(|r| &r.url)
                .chain(app.https_urls.iter())
                .collect();
            json!({
                "name": app.name,
                "desired": app.desired_instances,
                "running": app.running_instances,
                "removing": app.removing,
                "urls": urls,
                "tcp": app.tcp_routes.iter().map(|r| &r.address).collect::<Vec<_>>(),
                "requests": requests,
                "errors": errors,
                "instances": app.instances.iter().map(|i| json!({
                    "index": i.index,
                    "state": i.state,
                    "healthy": i.healthy,
                    "stopping": i.stopping,
                    "crash_count": i.crash_count,
                    "next_restart": i.next_restart,
                    "last_crash": i.last_crash,
                    "cpu_percent": i.cpu_percent,
                    "memory_bytes": i.memory_bytes,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "apps": apps, "events": events, "token": router.dashboard_token }).to_string()
}

/// A body fed by a channel, for streams.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = super::body::BodyError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

fn event_stream(receiver: tokio::sync::mpsc::Receiver<Bytes>) -> Response<ProxyBody> {
    Response::builder()
        .header(CONTENT_TYPE, "text/event-stream")
        .header("cache-control", "no-store")
        .body(ChannelBody(receiver).boxed())
        .expect("valid response")
}

fn sse(data: &str) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

fn stream(router: &Router) -> Response<ProxyBody> {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let Some(node) = router.node() else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the node is starting");
    };
    let mut changes = node.changes();
    drop(node);
    let closing = router.closing.clone();
    // The router is owned by the node; the stream holds it only weakly through `node()`.
    let router = router.weak();
    tokio::spawn(async move {
        // Reconnect quickly after a node restart.
        if sender
            .send(Bytes::from_static(b"retry: 1000\n\n"))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let Some(router) = router.upgrade() else {
                return;
            };
            if sender.send(sse(&snapshot(&router))).await.is_err() {
                return;
            }
            drop(router);
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(SNAPSHOT_EVERY) => {}
                _ = sender.closed() => return,
                _ = closing.cancelled() => return,
            }
        }
    });
    event_stream(receiver)
}

fn log(router: &Router, app: &str) -> Response<ProxyBody> {
    let Some(node) = router.node() else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the node is starting");
    };
    let Some((recent, mut live)) = node.log(app) else {
        return json_error(StatusCode::NOT_FOUND, &format!("no app `{app}`"));
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let closing = router.closing.clone();
    tokio::spawn(async move {
        for line in recent {
            let text = serde_json::to_string(&line).unwrap_or_default();
            if sender.send(sse(&text)).await.is_err() {
                return;
            }
        }
        loop {
            tokio::select! {
                line = live.recv() => match line {
                    Ok(line) => {
                        let text = serde_json::to_string(&line).unwrap_or_default();
                        if sender.send(sse(&text)).await.is_err() { return }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
                _ = sender.closed() => return,
                _ = closing.cancelled() => return,
            }
        }
    });
    event_stream(receiver)
}
