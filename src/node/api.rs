//! The node's versioned HTTP/JSON API on its Unix socket (mode 0600 in a 0700 `LTC_HOME`).
//!
//! | method and path | what |
//! |---|---|
//! | `GET /v1/health` | the node answers (no engine call) |
//! | `GET /v1/info` | node and engine versions |
//! | `GET`, `PUT /v1/target` | the system domain |
//! | `POST /v1/images` | build or pull an image; NDJSON progress, then `done` or `failed` |
//! | `GET`, `POST /v1/apps` | list apps; create one |
//! | `GET /v1/apps/{name}?since=V&wait_ms=N` | one app, after the state moved past version V |
//! | `PUT /v1/apps/{name}/instances` | scale |
//! | `PUT /v1/apps/{name}/routes` | replace the routes |
//! | `DELETE /v1/apps/{name}` | remove |
//! | `GET /v1/apps/{name}/logs?tail=N&index=I&recent=true` | an app's log lines, NDJSON |
//! | `GET /v1/events?app=NAME` | lifecycle events as they happen, NDJSON |
//! | `GET /v1/debug-logs` | the node's own log as it is written, NDJSON |
//! | `POST /v1/shutdown` | stop the node (apps keep running) |
//!
//! Errors are `{"error": ..., "kind": ..., "hint": ...}` (see [`crate::error::Error`]). Every
//! response carries `ltc-version`, the node's state version, for waiting without polling.

use super::Node;
use crate::error::{Error, Kind, Result};
use crate::model::{
    CreateRequest, ImageProgress, ImageRequest, RestartRequest, RollbackRequest, RouteRequest,
    RunRequest, ScaleRequest, TargetRequest, Task, UpdateRequest,
};
use crate::model::{ENGINE_ERROR_HEADER, VERSION_HEADER};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Largest request body the API reads.
const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Longest a `GET /v1/apps/{name}` may wait for a change.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Adds the engine's error to an answer the node could give from what it knows.
fn with_engine_error(mut response: Response<Body>, error: Option<Error>) -> Response<Body> {
    if let Some(error) = error
        && let Ok(value) = hyper::header::HeaderValue::from_str(&error.message)
    {
        response.headers_mut().insert(ENGINE_ERROR_HEADER, value);
    }
    response
}

/// Accepts connections until `cancel` fires.
pub async fn serve(node: Arc<Node>, listener: UnixListener, cancel: CancellationToken) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    super::log(format!("api: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => return,
        };
        let node = node.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let node = node.clone();
                async move { Ok::<_, Infallible>(handle(node, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = cancel.cancelled() => {
                    // Answers already made (the shutdown request's own) are still written.
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(1), connection).await;
                }
            }
        });
    }
}

fn full(status: StatusCode, bytes: Vec<u8>, version: u64) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header(VERSION_HEADER, version)
        .body(Full::new(Bytes::from(bytes)).boxed_unsync())
        .expect("valid response")
}

fn json<T: Serialize>(value: &T, version: u64) -> Response<Body> {
    full(
        StatusCode::OK,
        serde_json::to_vec(value).expect("serialisable"),
        version,
    )
}

fn error_response(error: &Error, version: u64) -> Response<Body> {
    let status = match error.kind {
        Kind::Usage => StatusCode::BAD_REQUEST,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Config => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Placement => StatusCode::INSUFFICIENT_STORAGE,
        Kind::Engine | Kind::Image => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        Kind::FileSystem | Kind::Failed | Kind::Interrupted | Kind::Exited => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    full(
        status,
        serde_json::to_vec(error).expect("serialisable"),
        version,
    )
}

async fn read_json<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T> {
    let body = Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
        .map_err(|e| Error::usage(format!("cannot read the request body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| Error::usage(format!("malformed request: {e}")))
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn handle(node: Arc<Node>, request: Request<Incoming>) -> Response<Body> {
    route(&node, request)
        .await
        .unwrap_or_else(|error| error_response(&error, node.version()))
}

/// An answer that reports the node's state version after the change it made.
fn done<T: Serialize>(node: &Node, value: &T) -> Response<Body> {
    json(value, node.version())
}

async fn route(node: &Arc<Node>, request: Request<Incoming>) -> Result<Response<Body>> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "apps", _, ..] => route_app(node, request).await,
        ["v1", "tasks" | "volumes", ..] => route_tasks(node, request).await,
        _ => route_node(node, request).await,
    }
}

/// The node's own endpoints: health, info, target, images, cells, the app list, events.
async fn route_node(node: &Arc<Node>, request: Request<Incoming>) -> Result<Response<Body>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let param = |name: &str| query_param(&query, name);
    Ok(match (&method, segments.as_slice()) {
        (&Method::GET, ["v1", "health"]) => done(node, &node.health()),
        (&Method::GET, ["v1", "info"]) => done(node, &node.info().await),
        (&Method::GET, ["v1", "target"]) => {
            node.check_engine().await?;
            done(node, &node.target())
        }
        (&Method::PUT, ["v1", "target"]) => {
            let body: TargetRequest = read_json(request).await?;
            done(node, &node.set_target(body).await?)
        }
        (&Method::POST, ["v1", "images"]) => {
            let body: ImageRequest = read_json(request).await?;
            prepare_image(node.clone(), body)
        }
        (&Method::GET, ["v1", "cells"]) => done(node, &node.cells().await?),
        (&Method::GET, ["v1", "ca"]) => done(node, &node.ca()?),
        (&Method::GET, ["v1", "apps"]) => {
            node.refresh_stats();
            let engine = node.check_engine().await.err();
            let (apps, version) = node.list();
            with_engine_error(json(&apps, version), engine)
        }
        (&Method::POST, ["v1", "apps"]) => {
            let body: CreateRequest = read_json(request).await?;
            done(node, &node.create(body).await?)
        }
        (&Method::GET, ["v1", "events"]) => events(node.clone(), param("app").map(str::to_string)),
        (&Method::GET, ["v1", "debug-logs"]) => debug_logs(),
        (&Method::POST, ["v1", "shutdown"]) => {
            node.shutdown();
            json(&serde_json::json!({"stopping": true}), 0)
        }
        _ => {
            return Err(Error::not_found(format!(
                "the node has no API endpoint `{method} {path}`"
            )));
        }
    })
}

/// One app's endpoints: `/v1/apps/{name}/...`.
async fn route_app(node: &Arc<Node>, request: Request<Incoming>) -> Result<Response<Body>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let param = |name: &str| query_param(&query, name);
    Ok(match (&method, segments.as_slice()) {
        (&Method::GET, ["v1", "apps", name]) => {
            let since = param("since").and_then(|v| v.parse().ok());
            let wait = param("wait_ms")
                .and_then(|v| v.parse().ok())
                .map_or(Duration::ZERO, Duration::from_millis)
                .min(MAX_WAIT);
            get_app(node, name, since, wait).await?
        }
        (&Method::PUT, ["v1", "apps", name, "instances"]) => {
            let body: ScaleRequest = read_json(request).await?;
            done(node, &node.scale(name, body.instances).await?)
        }
        (&Method::PUT, ["v1", "apps", name, "routes"]) => {
            let body: RouteRequest = read_json(request).await?;
            done(node, &node.update_routes(name, body).await?)
        }
        (&Method::PATCH, ["v1", "apps", name]) => {
            let body: UpdateRequest = read_json(request).await?;
            done(node, &node.update(name, body).await?)
        }
        (&Method::POST, ["v1", "apps", name, "rollback"]) => {
            let body: RollbackRequest = read_json(request).await?;
            done(node, &node.rollback(name, body).await?)
        }
        (&Method::POST, ["v1", "apps", name, "restart"]) => {
            let body: RestartRequest = read_json(request).await?;
            done(node, &node.restart(name, body).await?)
        }
        (&Method::GET, ["v1", "apps", name, "history"]) => done(node, &node.history(name)?),
        (&Method::DELETE, ["v1", "apps", name]) => {
            let volumes = param("volumes") == Some("true");
            done(node, &node.remove(name, volumes).await?)
        }
        (&Method::GET, ["v1", "apps", name, "logs"]) => {
            let tail = param("tail").and_then(|v| v.parse().ok());
            let index = param("index").and_then(|v| v.parse().ok());
            let recent = param("recent") == Some("true");
            app_logs(node.clone(), name, tail, index, recent)
        }
        (&Method::POST, ["v1", "apps", name, "tasks"]) => {
            let body: RunRequest = read_json(request).await?;
            done(node, &node.run_task(name, body).await?)
        }
        _ => {
            return Err(Error::not_found(format!(
                "the node has no API endpoint `{method} {path}`"
            )));
        }
    })
}

/// One-off tasks and volumes.
async fn route_tasks(node: &Arc<Node>, request: Request<Incoming>) -> Result<Response<Body>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let param = |name: &str| query_param(&query, name);
    Ok(match (&method, segments.as_slice()) {
        (&Method::DELETE, ["v1", "apps", name]) => {
            let volumes = param("volumes") == Some("true");
            done(node, &node.remove(name, volumes).await?)
        }
        (&Method::GET, ["v1", "volumes"]) => done(node, &node.volumes().await?),
        (&Method::DELETE, ["v1", "volumes", name]) => {
            node.remove_volume(name).await?;
            json(&serde_json::json!({ "removed": [name] }), node.version())
        }
        (&Method::GET, ["v1", "tasks"]) => done(node, &node.tasks()),
        (&Method::POST, ["v1", "tasks"]) => {
            let body: Task = read_json(request).await?;
            done(node, &node.submit_task(body).await?)
        }
        (&Method::GET, ["v1", "tasks", guid]) => done(node, &node.task(guid)?),
        (&Method::POST, ["v1", "tasks", guid, "attached"]) => {
            done(node, &node.session_attached(guid).await?)
        }
        (&Method::POST, ["v1", "tasks", guid, "cancel"]) => {
            done(node, &node.cancel_task(guid).await?)
        }
        (&Method::DELETE, ["v1", "tasks", guid]) => done(node, &node.delete_task(guid).await?),
        (&Method::GET, ["v1", "tasks", guid, "logs"]) => {
            node.task(guid)?;
            let tail = param("tail").and_then(|v| v.parse().ok());
            let recent = param("recent") == Some("true");
            app_logs(
                node.clone(),
                &super::tasks::log_key(guid),
                tail,
                None,
                recent,
            )
        }
        _ => {
            return Err(Error::not_found(format!(
                "the node has no API endpoint `{method} {path}`"
            )));
        }
    })
}

/// One app; with `since`, once the node's state has changed after that version (at most
/// `wait`), so the CLI waits for convergence without polling.
async fn get_app(
    node: &Arc<Node>,
    name: &str,
    since: Option<u64>,
    wait: Duration,
) -> Result<Response<Body>> {
    let engine = match since {
        Some(_) => None,
        None => {
            node.refresh_stats();
            node.check_engine().await.err()
        }
    };
    match node.watch_app(name, since, wait).await {
        (Some(app), version) => Ok(with_engine_error(json(&app, version), engine)),
        (None, _) => Err(engine.unwrap_or_else(|| Error::app_not_found(name))),
    }
}

fn ndjson<T: Serialize>(value: &T) -> Bytes {
    let mut bytes = serde_json::to_vec(value).expect("serialisable");
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// A streamed NDJSON response fed by `receiver`; it ends when the sender is dropped.
fn stream_response(receiver: tokio::sync::mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let bytes = receiver.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(bytes)), receiver))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-ndjson")
        .body(BodyExt::boxed_unsync(StreamBody::new(stream)))
        .expect("valid response")
}

/// Forwards a broadcast to a streamed response until the client goes away (noticed even when
/// nothing is sent), telling a client that fell behind how many items it missed.
async fn forward<T: Clone + Serialize>(
    mut live: tokio::sync::broadcast::Receiver<T>,
    sender: tokio::sync::mpsc::Sender<Bytes>,
    keep: impl Fn(&T) -> bool,
    missed: impl Fn(u64) -> T,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let item = tokio::select! {
            item = live.recv() => item,
            _ = sender.closed() => return,
        };
        let bytes = match item {
            Ok(item) if keep(&item) => ndjson(&item),
            Ok(_) => continue,
            Err(RecvError::Lagged(n)) => ndjson(&missed(n)),
            Err(RecvError::Closed) => return,
        };
        if sender.send(bytes).await.is_err() {
            return;
        }
    }
}

/// `GET /v1/apps/{name}/logs`: the last `tail` lines (all kept lines with `recent`), then,
/// unless `recent`, every new line.
fn app_logs(
    node: Arc<Node>,
    app: &str,
    tail: Option<usize>,
    index: Option<u32>,
    recent: bool,
) -> Response<Body> {
    use super::logs::LogLine;
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let (kept, live) = node.logs().subscribe(app);
    let app = app.to_string();
    tokio::spawn(async move {
        let wanted = move |line: &LogLine| index.is_none_or(|i| line.index == Some(i));
        let mut backlog: Vec<LogLine> = kept.into_iter().filter(|l| wanted(l)).collect();
        let keep = match (tail, recent) {
            (Some(n), _) => n,
            (None, true) => backlog.len(),
            (None, false) => 0,
        };
        backlog.drain(..backlog.len().saturating_sub(keep));
        for line in &backlog {
            if sender.send(ndjson(line)).await.is_err() {
                return;
            }
        }
        if recent {
            return;
        }
        let missed = move |n: u64| LogLine {
            time: String::new(),
            app: app.clone(),
            source: "LTC".into(),
            index: None,
            message: format!("{n} lines dropped: this reader fell behind"),
        };
        forward(live, sender, wanted, missed).await;
    });
    stream_response(receiver)
}

/// `GET /v1/events`: every event (of one app with `app`), as it happens.
fn events(node: Arc<Node>, app: Option<String>) -> Response<Body> {
    use super::logs::Event;
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let live = node.logs().subscribe_events();
    tokio::spawn(async move {
        let wanted = move |event: &Event| app.as_ref().is_none_or(|a| *a == event.app);
        let missed = |n: u64| Event {
            time: String::new(),
            kind: "events_dropped".into(),
            app: String::new(),
            index: None,
            guid: None,
            message: format!("{n} events dropped: this reader fell behind"),
        };
        forward(live, sender, wanted, missed).await;
    });
    stream_response(receiver)
}

/// `GET /v1/debug-logs`: the node's own log lines as they are written, each `<RFC 3339> <text>`.
fn debug_logs() -> Response<Body> {
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    let live = crate::logging::node_log().subscribe();
    tokio::spawn(forward(
        live,
        sender,
        |_| true,
        |n| {
            format!(
                "{} {n} lines dropped: this reader fell behind",
                crate::logging::rfc3339(std::time::SystemTime::now())
            )
        },
    ));
    stream_response(receiver)
}

/// Streams image preparation as NDJSON lines of [`ImageProgress`].
fn prepare_image(node: Arc<Node>, request: ImageRequest) -> Response<Body> {
    let (sender, receiver) = tokio::sync::mpsc::channel(256);
    tokio::spawn(async move {
        let progress_sender = sender.clone();
        // Progress lines are dropped when the client reads slower than the pull reports; the
        // last line, which carries the outcome, is always delivered.
        let report = move |progress: ImageProgress| {
            let _ = progress_sender.try_send(ndjson(&progress));
        };
        let prepared = match (&request.build, &request.app) {
            (Some(build), Some(app)) => node.build_image(app, build, &report).await,
            (Some(_), None) => Err(Error::usage("a build needs the app it is for")),
            (None, _) => node.prepare_image(request.image.as_deref(), &report).await,
        };
        let last = match prepared {
            Ok(image) => ImageProgress::Done { image },
            Err(error) => ImageProgress::Failed { error },
        };
        let _ = sender.send(ndjson(&last)).await;
    });
    stream_response(receiver)
}
