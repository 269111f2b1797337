//! What the router answers itself, instead of an instance: each refusal's status and its
//! message in Lattice's words.

use super::ProxyBody;
use super::headers::{REQUEST_ID, ROUTER_ERROR};
use super::http::full;
use super::table::HostError;
use hyper::{Response, StatusCode};

/// Why the router answers a request itself, in Lattice's words (`X-Cf-RouterError`).
#[derive(Debug)]
pub(super) enum Refusal {
    Host(HostError),
    UnknownRoute(String),
    /// No routable instance; `starting` when the node is still adopting its instances.
    NoEndpoints {
        host: String,
        starting: bool,
    },
    UnreadableBody,
    HeadTooLarge,
    BodyTimeout,
    Timeout,
    /// `true` when an instance answered something that is not HTTP/1.1.
    EndpointFailure {
        not_http1: bool,
    },
    /// Every instance stayed at its limit of requests for as long as the request could wait.
    ConnectionLimit(String),
}

impl From<HostError> for Refusal {
    fn from(error: HostError) -> Refusal {
        Refusal::Host(error)
    }
}

impl Refusal {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Refusal::Host(_) | Refusal::UnreadableBody => StatusCode::BAD_REQUEST,
            Refusal::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Refusal::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Refusal::UnknownRoute(_) => StatusCode::NOT_FOUND,
            Refusal::NoEndpoints { .. } | Refusal::ConnectionLimit(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Refusal::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Refusal::EndpointFailure { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    pub(super) fn response(&self, request_id: &str) -> Response<ProxyBody> {
        let (kind, message) = match self {
            Refusal::Host(HostError::Missing) => {
                ("empty_host", "Request had empty Host header".to_string())
            }
            Refusal::Host(HostError::Duplicate) => (
                "bad_host",
                "Request had more than one Host header".to_string(),
            ),
            Refusal::Host(HostError::Malformed) => (
                "bad_host",
                "Request had a malformed Host header".to_string(),
            ),
            Refusal::UnknownRoute(host) => (
                "unknown_route",
                format!("Requested route ('{host}') does not exist."),
            ),
            Refusal::NoEndpoints { host, starting } => (
                "no_endpoints",
                if *starting {
                    format!(
                        "Requested route ('{host}') has no available endpoints yet: the router \
                         is starting."
                    )
                } else {
                    format!("Requested route ('{host}') has no available endpoints.")
                },
            ),
            Refusal::ConnectionLimit(host) => (
                "connection_limit",
                format!(
                    "Requested route ('{host}') has reached the connection limit: every instance \
                     is working on as many requests as it may."
                ),
            ),
            Refusal::UnreadableBody => {
                ("bad_request", "Request body could not be read".to_string())
            }
            Refusal::HeadTooLarge => ("bad_request", "Request header fields too large".to_string()),
            Refusal::BodyTimeout => (
                "request_timeout",
                "The request body did not arrive in time.".to_string(),
            ),
            Refusal::Timeout => (
                "endpoint_timeout",
                "Registered endpoint did not respond in time.".to_string(),
            ),
            Refusal::EndpointFailure { not_http1 } => (
                "endpoint_failure",
                if *not_http1 {
                    "Registered endpoint failed to handle the request: it did not answer in \
                     HTTP/1.1, which the router speaks to instances (an HTTP/2-only server needs \
                     HTTP/1.1 enabled)."
                        .to_string()
                } else {
                    "Registered endpoint failed to handle the request.".to_string()
                },
            ),
        };
        error_response(self.status(), kind, &message, request_id)
    }
}

/// A router error in Lattice's words, as text/plain with `nosniff` (the host is echoed).
pub(super) fn error_response(
    status: StatusCode,
    kind: &str,
    message: &str,
    request_id: &str,
) -> Response<ProxyBody> {
    let reason = status.canonical_reason().unwrap_or("");
    let body = format!("{} {reason}: {message}\n", status.as_u16());
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .header(ROUTER_ERROR, kind)
        .header(REQUEST_ID, request_id)
        .body(full(body))
        .expect("valid response")
}
