//! The HTTP proxy: gorouter's rules on hyper 1.x.
//!
//! Per request: validate `Host` (RFC 9112 §3.2: exactly one, well formed; an absolute-form
//! target's authority wins), look the host up (404 unknown, 503 known with no routable
//! instance), prepare headers, and send to up to [`super::MAX_ATTEMPTS`] distinct instances in
//! round-robin order. A failed dial — a refused connect, or Docker's proxy closing the
//! connection before any response byte — is retried for any replayable request and marks the
//! instance failed for 30 s; a reset before any response byte is retried only for idempotent
//! requests (gorouter and nginx: once a non-idempotent request may have been processed it is
//! never sent twice). Bodies stream both ways; small request bodies with a Content-Length are
//! kept for replay. Upgrades (WebSocket) are spliced once the instance answers 101.

use super::body::{BodyTimeout, TimedBody};
use super::connections::{Connections, PooledBody, Return, SendError};
use super::headers;
use super::refusal::Refusal;
use super::sticky;
use super::table::{Backend, HostError, InflightGuard, Lookup, Pool, normalize_host};
use super::{Client, MAX_REPLAY_BODY, ProxyBody, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue, TRANSFER_ENCODING};
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::TokioIo;
use std::sync::Arc;

pub(super) fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// The routing host of a request and the raw value to forward as `Host`.
fn request_host(request: &Request<Incoming>) -> Result<(String, String), HostError> {
    let hosts: Vec<&HeaderValue> = request.headers().get_all(HOST).iter().collect();
    if hosts.len() > 1 {
        return Err(HostError::Duplicate);
    }
    // An absolute-form target (and HTTP/2's :authority) overrides Host (RFC 9112 §3.2.2).
    let raw = match request.uri().authority() {
        Some(authority) => authority.as_str().to_string(),
        None => match hosts.first() {
            Some(value) => value
                .to_str()
                .map_err(|_| HostError::Malformed)?
                .to_string(),
            None => return Err(HostError::Missing),
        },
    };
    Ok((normalize_host(&raw)?, raw))
}

/// The size of a request's head as it came: request line and header lines, with their CRLFs.
fn head_size(request: &Request<Incoming>) -> usize {
    let line = request.method().as_str().len()
        + request
            .uri()
            .path_and_query()
            .map_or(1, |p| p.as_str().len())
        + "HTTP/1.1".len()
        + 4;
    request
        .headers()
        .iter()
        .fold(line + 2, |size, (name, value)| {
            size + name.as_str().len() + value.len() + 4
        })
}

/// GET, HEAD, OPTIONS and TRACE without a body, or any request with an idempotency key.
fn is_idempotent(request: &Request<Incoming>, has_body: bool) -> bool {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    (safe && !has_body)
        || request.headers().contains_key("idempotency-key")
        || request.headers().contains_key("x-idempotency-key")
}

/// Routes one request: to an instance of the app its host names, or an answer of the router's
/// own when it cannot.
pub async fn handle(
    router: &Router,
    connections: &Arc<Connections>,
    client: Client,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let request_id = uuid::Uuid::new_v4().hyphenated().to_string();
    match proxy(router, connections, client, request, &request_id).await {
        Ok(response) => response,
        Err(refusal) => refusal.response(&request_id),
    }
}

/// A request on its way to an instance: its head as forwarded, and its body, kept for a retry
/// when small and of known length.
struct Outbound {
    parts: hyper::http::request::Parts,
    path: Option<PathAndQuery>,
    replay: Option<Bytes>,
    stream_once: Option<ProxyBody>,
    /// Set when the streamed body timed out on its way to the instance.
    body_expired: Option<Arc<std::sync::atomic::AtomicBool>>,
    idempotent: bool,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
}

impl Outbound {
    fn body_timed_out(&self) -> bool {
        self.body_expired
            .as_ref()
            .is_some_and(|e| e.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The body for the next attempt, or `None` when a streamed body was already sent.
    fn next_body(&mut self) -> Option<ProxyBody> {
        match (&self.replay, self.stream_once.take()) {
            (Some(bytes), _) => Some(full(bytes.clone())),
            (None, body) => body,
        }
    }
}

async fn proxy(
    router: &Router,
    connections: &Arc<Connections>,
    client: Client,
    request: Request<Incoming>,
    request_id: &str,
) -> Result<Response<ProxyBody>, Refusal> {
    let started = std::time::Instant::now();
    // hyper's read buffer lets a head through well past its size; the limit is ours.
    if head_size(&request) > router.config.max_head_bytes {
        return Err(Refusal::HeadTooLarge);
    }
    let (host, raw_host) = request_host(&request)?;
    let pool = match router.table().lookup(&host) {
        Lookup::Found(pool) => pool.clone(),
        Lookup::Unknown if router.is_reserved_host(&host) => {
            return Ok(super::own::answer(router, request, request_id).await);
        }
        Lookup::Unknown => return Err(Refusal::UnknownRoute(host)),
    };
    let access = Access::new(router, &pool, &request, raw_host, started, request_id);
    if pool.redirect_https
        && !client.secure
        && let Some(port) = router.https_port()
    {
        let response = super::own::redirect_to_https(&request, &host, port, request_id);
        access.record(None, response.status(), "0");
        return Ok(response);
    }
    let session = sticky::Session::of(request.headers());
    let mut candidates = pool.candidates(router.config.max_attempts);
    session.prefer(&pool.backends, &mut candidates);
    if candidates.is_empty() {
        let starting = router.is_starting();
        return Err(access.refused(None, Refusal::NoEndpoints { host, starting }));
    }
    let mut outbound =
        match outbound(router, request, client, &access.host, &pool, request_id).await {
            Ok(outbound) => outbound,
            Err(refusal @ Refusal::BodyTimeout) => return Err(access.refused(None, refusal)),
            Err(refusal) => return Err(refusal),
        };
    let mut last = None;
    let mut not_http1 = false;
    let mut pause = DIAL_RETRY_FIRST;
    // Set when every instance first refuses: a request that is answered pays nothing for it.
    let mut give_up = None;
    // Set when every instance is first at its limit of requests.
    let mut queue_until = None;
    loop {
        let pass = attempt(
            router,
            connections,
            &pool,
            &mut outbound,
            &candidates,
            &mut last,
        )
        .await;
        let done = match pass {
            Pass::Refused(refusal) => return Err(access.refused(last, refusal)),
            Pass::Done(done) => done,
        };
        not_http1 |= done.not_http1;
        if let Some((index, mut response, guard)) = done.answered {
            sticky::stamp(response.headers_mut(), &session, &guard.backend().guid);
            access.record(Some(index), response.status(), content_length(&response));
            return Ok(pass_back(
                response,
                guard,
                outbound.client_upgrade,
                request_id,
                pool.metrics.bytes_out.clone(),
            ));
        }
        if done.full {
            if !wait_for_room(router, &pool, started, &mut queue_until).await {
                return Err(access.refused(last, Refusal::ConnectionLimit(host)));
            }
        } else {
            // Every instance refused the connection (nothing was sent, so any request may go
            // again), or a kept connection died before answering one that may go again: a
            // blip such as the engine's port proxy restarting. Tried again shortly, against
            // the table as it is then, within the dial retry budget.
            let replayable = outbound.replay.is_some();
            let now = std::time::Instant::now();
            let give_up = *give_up.get_or_insert(now + router.config.dial_retry_budget);
            if !(done.only_refused && replayable) || now + pause > give_up {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(DIAL_RETRY_MAX);
        }
        match candidates_now(router, &host) {
            Some(now) => candidates = now,
            None => break,
        }
    }
    Err(access.refused(last, Refusal::EndpointFailure { not_http1 }))
}

/// Every instance is working on as many requests as it may: waits for one of them to be
/// answered, for the queue timeout at most and never longer than the response itself may take
/// (counted from `started`); false once that time is up.
async fn wait_for_room(
    router: &Router,
    pool: &Pool,
    started: std::time::Instant,
    until: &mut Option<tokio::time::Instant>,
) -> bool {
    let by = *until.get_or_insert_with(|| {
        let wait = router
            .config
            .queue_timeout
            .min(response_timeout(router, pool));
        tokio::time::Instant::from_std(started) + wait
    });
    let now = tokio::time::Instant::now();
    if now >= by {
        return false;
    }
    pool.waiting.wait(by.min(now + QUEUE_POLL)).await;
    true
}

/// The candidates for another pass, against the table as it is now; `None` when the app has
/// none left.
fn candidates_now(router: &Router, host: &str) -> Option<Vec<Arc<Backend>>> {
    match router.table().lookup(host) {
        Lookup::Found(pool) => Some(pool.candidates(router.config.max_attempts))
            .filter(|candidates| !candidates.is_empty()),
        Lookup::Unknown => None,
    }
}

/// A response's Content-Length as the access line shows it.
fn content_length(response: &Response<Incoming>) -> &str {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// What one pass over the candidates came to.
enum Pass {
    Done(Done),
    /// The router answers the client itself.
    Refused(Refusal),
}

/// Answered by an instance, or not, and whether every failure was a refused connection.
struct Done {
    answered: Option<(u32, Response<Incoming>, InflightGuard)>,
    only_refused: bool,
    not_http1: bool,
    /// Nothing was sent: every candidate was at its limit of requests.
    full: bool,
}

/// Sends the request to each candidate in turn until one answers or none may be tried.
async fn attempt(
    router: &Router,
    connections: &Arc<Connections>,
    pool: &Pool,
    outbound: &mut Outbound,
    candidates: &[Arc<Backend>],
    last: &mut Option<u32>,
) -> Pass {
    let mut only_refused = true;
    let mut not_http1 = false;
    let timeout = response_timeout(router, pool);
    let limit = router.config.max_pending_per_instance;
    let mut at_limit = false;
    let mut sent = false;
    for backend in candidates {
        let Some(slot) = backend.claim(limit, &pool.waiting) else {
            at_limit = true;
            continue;
        };
        let Some(body) = outbound.next_body() else {
            only_refused = false;
            break;
        };
        sent = true;
        if last.is_some() {
            pool.metrics.retries.inc();
        }
        *last = Some(backend.index);
        let upstream = build_upstream(&outbound.parts, backend, &outbound.path, body);
        let guard = backend.track();
        let send = connections.send(backend.addr, upstream, !outbound.idempotent);
        let retry_safe = outbound.replay.is_some() && outbound.idempotent;
        let waited = wait_response(timeout, backend, send, retry_safe).await;
        // The instance is done with it as soon as the head is in (or it failed).
        drop(slot);
        let response = match waited {
            Waited::TimedOut => return Pass::Refused(Refusal::Timeout),
            Waited::Abandoned => {
                only_refused = false;
                continue;
            }
            Waited::Answered(Ok(response)) => response,
            Waited::Answered(Err(SendError::Dial(_))) => {
                backend.mark_failed();
                if outbound.replay.is_some() {
                    continue;
                }
                break;
            }
            Waited::Answered(Err(SendError::AfterSend { .. })) if outbound.body_timed_out() => {
                return Pass::Refused(Refusal::BodyTimeout);
            }
            Waited::Answered(Err(SendError::AfterSend { fresh, error })) => {
                // A kept connection that died before any answer (a port proxy that
                // went away) is as good as refused for a request that may go again.
                // A new one closed by the instance is the app failing: at most
                // `max_attempts` of those, as gorouter.
                only_refused &= !fresh && outbound.idempotent && !error.is_parse();
                not_http1 |= error.is_parse();
                if fresh {
                    backend.mark_failed();
                }
                if outbound.replay.is_some() && outbound.idempotent {
                    continue;
                }
                break;
            }
        };
        return Pass::Done(Done {
            answered: Some((backend.index, response, guard)),
            only_refused,
            not_http1,
            full: false,
        });
    }
    Pass::Done(Done {
        answered: None,
        only_refused,
        not_http1,
        full: at_limit && !sent,
    })
}

/// How long an instance of the pool's app may take to start its response.
fn response_timeout(router: &Router, pool: &Pool) -> std::time::Duration {
    pool.response_timeout
        .unwrap_or(router.config.response_header_timeout)
}

/// A request waiting for an instance below its limit looks again at least this often (it is
/// woken earlier when a place frees up).
const QUEUE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// First pause before every instance is tried again after all refused the connection; it
/// doubles up to [`DIAL_RETRY_MAX`].
const DIAL_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(50);
const DIAL_RETRY_MAX: std::time::Duration = std::time::Duration::from_millis(400);

/// How waiting for an instance's response ended.
enum Waited<T> {
    Answered(T),
    TimedOut,
    /// The instance was abandoned (it failed its monitor) and the request may go elsewhere.
    Abandoned,
}

/// Waits for a response, at most the response timeout; a request that is safe to retry stops
/// waiting on an instance that was abandoned in the meantime.
async fn wait_response<F: std::future::Future>(
    timeout: std::time::Duration,
    backend: &Backend,
    send: F,
    retry_safe: bool,
) -> Waited<F::Output> {
    let deadline = tokio::time::Instant::now() + timeout;
    tokio::pin!(send);
    loop {
        let step = deadline.min(tokio::time::Instant::now() + super::ABANDON_POLL);
        match tokio::time::timeout_at(step, &mut send).await {
            Ok(answer) => return Waited::Answered(answer),
            Err(_) if tokio::time::Instant::now() >= deadline => return Waited::TimedOut,
            Err(_) if retry_safe && backend.is_abandoned() => return Waited::Abandoned,
            Err(_) => {}
        }
    }
}

/// What the `[RTR]` line of a request for a known app says.
struct Access<'a> {
    router: &'a Router,
    app: &'a str,
    host: String,
    method: Method,
    target: Option<PathAndQuery>,
    version: Version,
    started: std::time::Instant,
    request_id: &'a str,
    metrics: &'a super::metrics::RouteMetrics,
}

impl<'a> Access<'a> {
    fn new(
        router: &'a Router,
        pool: &'a Pool,
        request: &Request<Incoming>,
        host: String,
        started: std::time::Instant,
        request_id: &'a str,
    ) -> Access<'a> {
        Access {
            router,
            app: &pool.app,
            host,
            method: request.method().clone(),
            target: request.uri().path_and_query().cloned(),
            version: request.version(),
            started,
            request_id,
            metrics: &pool.metrics,
        }
    }

    /// Writes the line: which instance answered (none when the router answered before
    /// choosing one), the status and the body's length.
    fn record(&self, index: Option<u32>, status: StatusCode, length: &str) {
        self.metrics
            .observe(status.as_u16(), self.started.elapsed());
        let Some(log) = &self.router.access_log else {
            return;
        };
        let target = self.target.as_ref().map_or("/", |p| p.as_str());
        log.record(
            self.app,
            index,
            &format!(
                "{} - \"{} {target} {:?}\" {} {length} {:.1}ms vcap_request_id:{}",
                self.host,
                self.method,
                self.version,
                status.as_u16(),
                self.started.elapsed().as_secs_f64() * 1000.0,
                self.request_id,
            ),
        );
    }

    /// Records an answer the router makes itself (502, 503, 504), and passes it on.
    fn refused(&self, index: Option<u32>, refusal: Refusal) -> Refusal {
        self.record(index, refusal.status(), "-");
        refusal
    }
}

/// Prepares a request for its instance: forwarding headers, the app's id, and its body read
/// for replay when it is small and its length known.
async fn outbound(
    router: &Router,
    mut request: Request<Incoming>,
    client: Client,
    raw_host: &str,
    pool: &Pool,
    request_id: &str,
) -> Result<Outbound, Refusal> {
    let upgrade = headers::wants_upgrade(request.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
    let content_length: Option<u64> = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let chunked = request.headers().contains_key(TRANSFER_ENCODING);
    let has_body = chunked || content_length.is_some_and(|n| n > 0);
    let idempotent = is_idempotent(&request, has_body);
    let (mut parts, body) = request.into_parts();
    headers::prepare_request(
        &mut parts.headers,
        client,
        raw_host,
        request_id,
        upgrade,
        crate::logging::now_millis(),
    );
    if let Ok(value) = HeaderValue::from_str(raw_host) {
        parts.headers.insert(HOST, value);
    }
    parts
        .headers
        .insert(headers::APPLICATION_ID, pool.app_header.clone());
    let config = &router.config;
    let mut body_expired = None;
    let (replay, stream_once) = if !has_body {
        (Some(Bytes::new()), None)
    } else if !chunked && content_length.is_some_and(|n| n <= MAX_REPLAY_BODY) {
        // Read whole before anything is sent, so it can be retried; a client that sends it too
        // slowly gets 408 and the instance sees nothing.
        let limited = Limited::new(body, MAX_REPLAY_BODY as usize);
        let timed = TimedBody::new(
            limited,
            config.body_idle_timeout,
            config.replay_body_timeout,
        );
        match timed.collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                pool.metrics.bytes_in.inc_by(bytes.len() as u64);
                (Some(bytes), None)
            }
            Err(e) if e.is::<BodyTimeout>() => return Err(Refusal::BodyTimeout),
            Err(_) => return Err(Refusal::UnreadableBody),
        }
    } else {
        let timed = TimedBody::new(body, config.body_idle_timeout, config.stream_body_timeout);
        body_expired = Some(timed.expired());
        let received = pool.metrics.bytes_in.clone();
        let counted = timed.map_frame(move |frame| {
            if let Some(data) = frame.data_ref() {
                received.inc_by(data.len() as u64);
            }
            frame
        });
        (None, Some(counted.boxed()))
    };
    let path = parts.uri.path_and_query().cloned();
    Ok(Outbound {
        parts,
        path,
        replay,
        stream_once,
        body_expired,
        idempotent,
        client_upgrade,
    })
}

/// Hands an instance's response to the client: an upgrade is spliced through; otherwise the
/// instance counts as busy until the body has been passed on, and the connection then goes
/// back to the pool.
fn pass_back(
    mut response: Response<Incoming>,
    guard: InflightGuard,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
    request_id: &str,
    bytes_out: prometheus_client::metrics::counter::Counter,
) -> Response<ProxyBody> {
    let switching = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    headers::prepare_response(response.headers_mut(), request_id, switching);
    if let (true, Some(client_upgrade)) = (switching, client_upgrade) {
        let backend_upgrade = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            let _guard = guard;
            if let (Ok(client), Ok(backend)) = tokio::join!(client_upgrade, backend_upgrade) {
                let _ = tokio::io::copy_bidirectional(
                    &mut TokioIo::new(client),
                    &mut TokioIo::new(backend),
                )
                .await;
            }
        });
        return response.map(|_| full(Bytes::new()));
    }
    let on_end = response.extensions().get::<Return>().cloned();
    response.map(|body| {
        PooledBody::new(body, on_end)
            .map_frame(move |frame| {
                let _ = &guard;
                if let Some(data) = frame.data_ref() {
                    bytes_out.inc_by(data.len() as u64);
                }
                frame
            })
            .map_err(Into::into)
            .boxed()
    })
}

fn build_upstream(
    parts: &hyper::http::request::Parts,
    backend: &Backend,
    path: &Option<PathAndQuery>,
    body: ProxyBody,
) -> Request<ProxyBody> {
    // Origin form (`/path?query`): hyper's connection API writes the URI as given.
    let mut uri = hyper::http::uri::Parts::default();
    uri.path_and_query = Some(
        path.clone()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
    );
    let mut upstream = Request::new(body);
    *upstream.method_mut() = parts.method.clone();
    *upstream.uri_mut() = Uri::from_parts(uri).expect("valid upstream URI");
    *upstream.version_mut() = Version::HTTP_11;
    *upstream.headers_mut() = parts.headers.clone();
    upstream
        .headers_mut()
        .insert(headers::INSTANCE_ID, backend.instance_header.clone());
    upstream
}
