//! Sticky sessions, as gorouter keeps them: an app that sets `JSESSIONID` gets a
//! `__VCAP_ID__` cookie naming the instance that answered, and a request carrying it goes
//! back to that instance while it is routable. When it is not (stopped, drained, crashed,
//! failing), the request goes round-robin and the answer names its new instance.

use super::table::Backend;
use hyper::HeaderMap;
use hyper::header::{COOKIE, HeaderValue, SET_COOKIE};
use std::sync::Arc;

/// The cookie that names an instance.
pub const VCAP_ID: &str = "__VCAP_ID__";
/// The session cookie that asks for stickiness.
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// What a request said about its session.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Session {
    /// The instance its `__VCAP_ID__` names.
    pub instance: Option<String>,
    /// Whether it carries a `JSESSIONID`.
    pub has_session: bool,
}

impl Session {
    /// Reads the request's cookies. A request without cookies costs one header lookup.
    pub fn of(headers: &HeaderMap) -> Session {
        let mut session = Session::default();
        for value in headers.get_all(COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for pair in text.split(';') {
                let (name, value) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
                if name == VCAP_ID && !value.is_empty() {
                    session.instance = Some(value.to_string());
                } else if name == SESSION_COOKIE {
                    session.has_session = true;
                }
            }
        }
        session
    }

    /// Puts the instance the session names first, when it is among the pool's routable and
    /// healthy ones; the other candidates keep their order.
    pub fn prefer(&self, backends: &[Arc<Backend>], candidates: &mut Vec<Arc<Backend>>) {
        let Some(guid) = &self.instance else { return };
        let Some(sticky) = backends.iter().find(|b| &b.guid == guid && !b.is_failed()) else {
            return;
        };
        let limit = candidates.len().max(1);
        candidates.retain(|b| &b.guid != guid);
        candidates.insert(0, sticky.clone());
        candidates.truncate(limit);
    }
}

/// Adds `__VCAP_ID__` to a response when the app set `JSESSIONID` (with that cookie's path,
/// lifetime and flags), or when the request's session moved to another instance.
pub fn stamp(headers: &mut HeaderMap, session: &Session, answered_by: &str) {
    let set_by_app = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| cookie_name(v) == SESSION_COOKIE)
        .map(str::to_string);
    let cookie = match set_by_app {
        Some(session_cookie) => vcap_cookie(&session_cookie, answered_by),
        None if session.has_session && session.instance.as_deref() != Some(answered_by) => {
            format!("{VCAP_ID}={answered_by}; Path=/; HttpOnly")
        }
        None => return,
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(SET_COOKIE, value);
    }
}

fn cookie_name(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map_or("", |(name, _)| name.trim())
}

/// `__VCAP_ID__` with the attributes of the app's `JSESSIONID` that decide where and how long
/// it is sent: Path, Max-Age, Expires, Secure, SameSite, Partitioned.
fn vcap_cookie(session_cookie: &str, guid: &str) -> String {
    let mut cookie = format!("{VCAP_ID}={guid}");
    let mut has_path = false;
    for attribute in session_cookie.split(';').skip(1) {
        let attribute = attribute.trim();
        let name = attribute
            .split_once('=')
            .map_or(attribute, |(name, _)| name)
            .trim()
            .to_ascii_lowercase();
        if matches!(
            name.as_str(),
            "path" | "max-age" | "expires" | "secure" | "samesite" | "partitioned"
        ) {
            has_path |= name == "path";
            cookie.push_str("; ");
            cookie.push_str(attribute);
        }
    }
    if !has_path {
        cookie.push_str("; Path=/");
    }
    cookie.push_str("; HttpOnly");
    cookie
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
    fn a_session_is_read_from_any_cookie_header() {
        let h = headers(&[
            ("cookie", "a=1"),
            ("cookie", "JSESSIONID=x; __VCAP_ID__=g-1"),
        ]);
        assert_eq!(
            Session::of(&h),
            Session {
                instance: Some("g-1".into()),
                has_session: true
            }
        );
        assert_eq!(Session::of(&HeaderMap::new()), Session::default());
    }

    #[test]
    fn the_vcap_cookie_copies_the_session_cookies_lifetime_and_flags() {
        let mut h = headers(&[(
            "set-cookie",
            "JSESSIONID=abc; Path=/app; Max-Age=60; Secure; SameSite=None; Domain=x",
        )]);
        stamp(&mut h, &Session::default(), "g-2");
        let cookies: Vec<_> = h.get_all(SET_COOKIE).iter().collect();
        assert_eq!(
            cookies[1],
            "__VCAP_ID__=g-2; Path=/app; Max-Age=60; Secure; SameSite=None; HttpOnly"
        );
    }

    #[test]
    fn no_session_no_cookie_and_a_moved_session_gets_a_new_one() {
        let mut h = HeaderMap::new();
        stamp(&mut h, &Session::default(), "g-1");
        assert!(h.get(SET_COOKIE).is_none());
        let kept = Session {
            instance: Some("g-1".into()),
            has_session: true,
        };
        stamp(&mut h, &kept, "g-1");
        assert!(h.get(SET_COOKIE).is_none(), "still on its instance");
        stamp(&mut h, &kept, "g-3");
        assert_eq!(h[SET_COOKIE], "__VCAP_ID__=g-3; Path=/; HttpOnly");
    }

    #[test]
    fn the_named_instance_goes_first_unless_it_is_gone_or_failing() {
        let backend =
            |guid: &str, port| Arc::new(Backend::new(guid, 0, ([127, 0, 0, 1], port).into()));
        let (a, b, c) = (backend("a", 1), backend("b", 2), backend("c", 3));
        let all = vec![a.clone(), b.clone(), c.clone()];
        let session = Session {
            instance: Some("c".into()),
            has_session: true,
        };
        let mut candidates = vec![a.clone(), b.clone()];
        session.prefer(&all, &mut candidates);
        let guids: Vec<_> = candidates.iter().map(|b| b.guid.as_str()).collect();
        assert_eq!(guids, ["c", "a"]);
        c.mark_failed();
        let mut candidates = vec![a.clone(), b.clone()];
        session.prefer(&all, &mut candidates);
        let guids: Vec<_> = candidates.iter().map(|b| b.guid.as_str()).collect();
        assert_eq!(guids, ["a", "b"]);
        let mut candidates = vec![a.clone()];
        Session {
            instance: Some("gone".into()),
            has_session: true,
        }
        .prefer(&all, &mut candidates);
        assert_eq!(candidates.len(), 1);
    }
}
