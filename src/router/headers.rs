//! Header rules for a proxy, both ways.
//!
//! RFC 9110 §7.6.1: a proxy removes the fields named in `Connection`, then `Connection` itself
//! and the other hop-by-hop fields. A client must not be able to strip the forwarding headers
//! this way (`Connection: X-Forwarded-For` is a known trick), so those names are protected, as
//! gorouter protects them. Forwarding headers are then set: `X-Forwarded-For` appended,
//! `X-Forwarded-Proto` and `X-Forwarded-Host` overwritten (ltc is the edge), `X-Request-Start`
//! added when absent, and a fresh `X-Vcap-Request-Id` that is also returned to the client.

use hyper::header::{
    CONNECTION, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE,
    TRAILER, TRANSFER_ENCODING, UPGRADE,
};

// Names as constants: a name given as a string is parsed and validated on every use, which
// showed in the router's profile.
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub const X_REQUEST_START: HeaderName = HeaderName::from_static("x-request-start");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-vcap-request-id");
pub const ROUTER_ERROR: HeaderName = HeaderName::from_static("x-cf-routererror");
pub const APPLICATION_ID: HeaderName = HeaderName::from_static("x-cf-applicationid");
pub const INSTANCE_ID: HeaderName = HeaderName::from_static("x-cf-instanceid");

/// Hop-by-hop fields (RFC 9110 §7.6.1, plus the proxy-only ones).
const HOP_BY_HOP: [HeaderName; 9] = [
    CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    TE,
    TRANSFER_ENCODING,
    UPGRADE,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TRAILER,
];

/// Fields a client's `Connection` header may not remove.
const PROTECTED: [&str; 6] = [
    "host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-request-start",
    "x-vcap-request-id",
];

/// Removes hop-by-hop fields. With `upgrade`, `Upgrade` is kept and `Connection: upgrade` set,
/// so a WebSocket handshake passes through.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<String> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty() && !PROTECTED.contains(&token.as_str()))
        .collect();
    for name in named {
        if upgrade && name == "upgrade" {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            headers.remove(name);
        }
    }
    for name in &HOP_BY_HOP {
        if upgrade && name == UPGRADE {
            continue;
        }
        headers.remove(name);
    }
    if upgrade {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Prepares a client's request for an instance.
pub fn prepare_request(
    headers: &mut HeaderMap,
    client: super::Client,
    host: &str,
    request_id: &str,
    upgrade: bool,
    now_millis: u64,
) {
    strip_hop_by_hop(headers, upgrade);
    let forwarded_for = match headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
    {
        previous if previous.is_empty() => client.peer.ip().to_string(),
        previous => format!("{}, {}", previous.join(", "), client.peer.ip()),
    };
    set(headers, X_FORWARDED_FOR, &forwarded_for);
    let proto = if client.secure { "https" } else { "http" };
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    set(headers, X_FORWARDED_HOST, host);
    if !headers.contains_key(&X_REQUEST_START) {
        headers.insert(X_REQUEST_START, HeaderValue::from(now_millis));
    }
    set(headers, REQUEST_ID, request_id);
}

/// Prepares an instance's response for the client.
pub fn prepare_response(headers: &mut HeaderMap, request_id: &str, upgrade: bool) {
    strip_hop_by_hop(headers, upgrade);
    set(headers, REQUEST_ID, request_id);
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Whether the client asks to switch protocols (WebSocket and other `Upgrade`s).
pub fn wants_upgrade(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade && headers.contains_key(UPGRADE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn hop_by_hop_fields_and_those_named_in_connection_are_removed() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("proxy-authorization", "Basic x"),
            ("upgrade", "websocket"),
            ("x-kept", "yes"),
        ]);
        strip_hop_by_hop(&mut h, false);
        let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["x-kept"]);
    }

    fn plain() -> crate::router::Client {
        crate::router::Client {
            peer: "127.0.0.1:5000".parse().unwrap(),
            secure: false,
        }
    }

    #[test]
    fn over_https_the_forwarded_proto_says_so() {
        let mut h = headers(&[("x-forwarded-proto", "http")]);
        let client = crate::router::Client {
            secure: true,
            ..plain()
        };
        prepare_request(&mut h, client, "web.d.io", "id", false, 1);
        assert_eq!(h["x-forwarded-proto"], "https");
    }

    #[test]
    fn a_client_cannot_strip_the_forwarding_headers() {
        let mut h = headers(&[
            ("connection", "X-Forwarded-For, x-vcap-request-id, host"),
            ("x-forwarded-for", "10.0.0.1"),
            ("host", "web.d.io"),
        ]);
        prepare_request(&mut h, plain(), "web.d.io", "id-1", false, 5);
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(h["host"], "web.d.io");
        assert_eq!(h[REQUEST_ID], "id-1");
    }

    #[test]
    fn forwarding_headers_are_set_and_a_request_start_is_kept() {
        let mut h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil"),
            ("x-request-start", "42"),
            ("x-vcap-request-id", "forged"),
        ]);
        prepare_request(&mut h, plain(), "web.d.io:8080", "id-2", false, 7);
        assert_eq!(h["x-forwarded-for"], "127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "web.d.io:8080");
        assert_eq!(h["x-request-start"], "42");
        assert_eq!(h[REQUEST_ID], "id-2");
        let mut fresh = HeaderMap::new();
        prepare_request(&mut fresh, plain(), "h", "id", false, 7);
        assert_eq!(fresh["x-request-start"], "7");
    }

    #[test]
    fn an_upgrade_keeps_its_upgrade_header() {
        let mut h = headers(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        assert!(wants_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "upgrade");
        assert!(!wants_upgrade(&headers(&[("upgrade", "websocket")])));
    }
}
