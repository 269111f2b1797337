//! What the router answers itself, on its own hostname (`ltc.localhost`, `ltc.<domain>`):
//! `/metrics` for Prometheus and `/health` for load balancers; nothing else of the node is
//! reachable there. And the redirect of plain HTTP to HTTPS for apps that ask for it.

use super::http::full;
use super::{ProxyBody, Router};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use hyper::{Method, Request, Response, StatusCode};

/// The content type of `/metrics`: what `prometheus-client` writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Answers a request to the router's own hostname.
pub async fn answer(
    router: &Router,
    request: Request<Incoming>,
    request_id: &str,
) -> Response<ProxyBody> {
    let path = request.uri().path();
    if path == "/" || path.starts_with("/api/") {
        let mut response = super::dashboard::answer(router, request).await;
        if let Ok(id) = hyper::header::HeaderValue::from_str(request_id) {
            response
                .headers_mut()
                .insert(super::headers::REQUEST_ID, id);
        }
        return response;
    }
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let node = router.node();
            let node = node
                .as_deref()
                .map(|n| n as &dyn super::metrics::NodeMetrics);
            let text = super::metrics::scrape(&router.metrics, node);
            (StatusCode::OK, OPENMETRICS, text)
        }
        (&Method::GET | &Method::HEAD, "/health") => match router.node() {
            Some(node) => {
                let (healthy, text) = node.health();
                let status = match healthy {
                    true => StatusCode::OK,
                    false => StatusCode::SERVICE_UNAVAILABLE,
                };
                (status, "application/json", text)
            }
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                r#"{"status":"starting"}"#.to_string(),
            ),
        },
        (&Method::GET | &Method::HEAD, _) => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 Not Found: the router's own address serves the dashboard (/), /metrics and /health\n"
                .to_string(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "405 Method Not Allowed: /metrics and /health answer GET\n".to_string(),
        ),
    };
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, content_type)
        .header(CACHE_CONTROL, "no-store")
        .header(super::headers::REQUEST_ID, request_id)
        .body(full(body))
        .expect("valid response")
}

/// The redirect of a plain HTTP request to the same URL over HTTPS: 301 for GET and HEAD,
/// 308 (which keeps the method and body) for the rest.
pub fn redirect_to_https(
    request: &Request<Incoming>,
    host: &str,
    port: u16,
    request_id: &str,
) -> Response<ProxyBody> {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = match port {
        443 => format!("https://{host}{target}"),
        port => format!("https://{host}:{port}{target}"),
    };
    let status = match *request.method() {
        Method::GET | Method::HEAD => StatusCode::MOVED_PERMANENTLY,
        _ => StatusCode::PERMANENT_REDIRECT,
    };
    Response::builder()
        .status(status)
        .header(LOCATION, location)
        .header(super::headers::REQUEST_ID, request_id)
        .body(full(""))
        .expect("valid response")
}
