//! The node's own log and the clock both sides of the API format time with.
//!
//! [`log`] writes one line to the node's stderr (its log file when it runs in the background)
//! and to the broadcast [`node_log`] that `ltc debug-logs` follows. It lives outside `node/`
//! so the router, which runs in the node's process but knows nothing of it, can log too.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// Lines of the node's log a live `ltc debug-logs` may fall behind before it misses some.
pub const NODE_LOG_BUFFER: usize = 1024;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 in UTC with milliseconds: how every time on the wire and in logs is written.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// [`rfc3339`] of a time given as milliseconds since the Unix epoch.
pub fn rfc3339_millis(millis: u64) -> String {
    rfc3339(UNIX_EPOCH + std::time::Duration::from_millis(millis))
}

/// The node's own log, for `ltc debug-logs`.
pub fn node_log() -> &'static broadcast::Sender<String> {
    static LOG: OnceLock<broadcast::Sender<String>> = OnceLock::new();
    LOG.get_or_init(|| broadcast::channel(NODE_LOG_BUFFER).0)
}

/// Logs one line to the node's log (its stderr) and to `ltc debug-logs` followers.
pub fn log(message: impl std::fmt::Display) {
    let line = format!("{} {message}", rfc3339(SystemTime::now()));
    eprintln!("{line}");
    let _ = node_log().send(line);
}
