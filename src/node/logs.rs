//! What the node says as things happen: per-app log lines (`ltc logs`), lifecycle events
//! (`ltc events`) and the node's own log (`ltc debug-logs`).
//!
//! Everything is bounded so a process that floods its output cannot grow the node: each app
//! keeps its last [`RECENT_LINES`] lines, live followers read from a broadcast of
//! [`LIVE_BUFFER`] lines (a follower that falls behind is told how many lines it missed), and a
//! line is cut at [`MAX_LINE`] bytes.

use crate::logging::rfc3339;
pub use crate::model::{Event, LogLine};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Lines kept per app for `--recent` and `--tail`.
pub const RECENT_LINES: usize = 1000;
/// Lines a live follower may fall behind before it misses some.
pub const LIVE_BUFFER: usize = 1024;
/// Longest line kept; the rest is cut.
pub const MAX_LINE: usize = 4096;

/// Joins a container's output into lines. Docker hands a long line over in pieces (16 KiB
/// each, and chunks split anywhere), so pieces are joined first; a line longer than
/// [`MAX_LINE`] is then cut once, saying how long it was, and what is past the limit is never
/// held in memory.
#[derive(Default)]
pub struct LineAssembler {
    kept: Vec<u8>,
    /// Bytes of the current line, including those not kept.
    length: usize,
}

impl LineAssembler {
    /// The lines `chunk` completes.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.take(&rest[..end]);
            lines.push(self.line());
            rest = &rest[end + 1..];
        }
        self.take(rest);
        lines
    }

    /// What is left when the output ends without a newline.
    pub fn finish(mut self) -> Option<String> {
        (self.length > 0).then(|| self.line())
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.length += bytes.len();
    }

    fn line(&mut self) -> String {
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        self.kept.clear();
        let length = std::mem::take(&mut self.length);
        if length > MAX_LINE {
            // A character cut in two shows as U+FFFD; it goes.
            let text = text.trim_end_matches('\u{fffd}');
            return format!("{text}… [line of {length} bytes cut at {MAX_LINE}]");
        }
        text.truncate(text.trim_end().len());
        text
    }
}

fn now() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// A line of the node's own making is never this long; an app's output is cut to [`MAX_LINE`]
/// by [`LineAssembler`], with room here for its marker.
const MAX_PUBLISHED: usize = MAX_LINE + 64;

fn cut(message: &str) -> String {
    if message.len() <= MAX_PUBLISHED {
        return message.to_string();
    }
    let mut end = MAX_PUBLISHED;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

struct AppLog {
    recent: VecDeque<LogLine>,
    live: broadcast::Sender<LogLine>,
}

/// Log lines of every app, and the event stream.
pub struct LogHub {
    apps: Mutex<HashMap<String, AppLog>>,
    events: broadcast::Sender<Event>,
    /// The last [`RECENT_EVENTS`] events, for the dashboard.
    recent_events: Mutex<VecDeque<Event>>,
}

/// Events kept for the dashboard's "last events".
pub const RECENT_EVENTS: usize = 30;

impl Default for LogHub {
    fn default() -> Self {
        LogHub {
            apps: Mutex::new(HashMap::new()),
            events: broadcast::channel(LIVE_BUFFER).0,
            recent_events: Mutex::new(VecDeque::with_capacity(RECENT_EVENTS)),
        }
    }
}

impl LogHub {
    pub fn publish(&self, app: &str, source: &str, index: Option<u32>, message: &str) {
        let line = LogLine {
            time: now(),
            app: app.to_string(),
            source: source.to_string(),
            index,
            message: cut(message),
        };
        // The router publishes a line per request: the common path allocates no key and makes
        // no copy for followers when there are none.
        let mut apps = self.apps.lock().expect("log hub lock");
        if !apps.contains_key(app) {
            apps.insert(
                app.to_string(),
                AppLog {
                    recent: VecDeque::with_capacity(64),
                    live: broadcast::channel(LIVE_BUFFER).0,
                },
            );
        }
        let log = apps.get_mut(app).expect("inserted above");
        if log.recent.len() == RECENT_LINES {
            log.recent.pop_front();
        }
        if log.live.receiver_count() > 0 {
            let _ = log.live.send(line.clone());
        }
        log.recent.push_back(line);
    }

    /// The recent lines of an app, and a live feed of what follows.
    pub fn subscribe(&self, app: &str) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let mut apps = self.apps.lock().expect("log hub lock");
        let log = apps.entry(app.to_string()).or_insert_with(|| AppLog {
            recent: VecDeque::new(),
            live: broadcast::channel(LIVE_BUFFER).0,
        });
        (log.recent.iter().cloned().collect(), log.live.subscribe())
    }

    /// Live readers of app logs, events and the node's own log, for `ltc daemon status` and
    /// leak checks.
    pub fn followers(&self) -> usize {
        self.apps
            .lock()
            .expect("log hub lock")
            .values()
            .map(|log| log.live.receiver_count())
            .sum::<usize>()
            + self.events.receiver_count()
            + crate::logging::node_log().receiver_count()
    }

    /// Starts an app's log afresh (a new app under a removed one's name): its recent lines go,
    /// live followers stay.
    pub fn clear_recent(&self, app: &str) {
        if let Some(log) = self.apps.lock().expect("log hub lock").get_mut(app) {
            log.recent.clear();
        }
    }

    /// Forgets a removed app's lines (unless someone still follows it).
    pub fn forget(&self, app: &str) {
        let mut apps = self.apps.lock().expect("log hub lock");
        if apps
            .get(app)
            .is_some_and(|log| log.live.receiver_count() == 0)
        {
            apps.remove(app);
        }
    }

    pub fn event(
        &self,
        kind: &str,
        app: &str,
        index: Option<u32>,
        guid: Option<&str>,
        message: String,
    ) {
        let event = Event {
            time: now(),
            kind: kind.to_string(),
            app: app.to_string(),
            index,
            guid: guid.map(str::to_string),
            message,
        };
        {
            let mut recent = self.recent_events.lock().expect("recent events lock");
            if recent.len() == RECENT_EVENTS {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        let _ = self.events.send(event);
    }

    /// The last events, oldest first.
    pub fn recent_events(&self) -> Vec<Event> {
        let recent = self.recent_events.lock().expect("recent events lock");
        recent.iter().cloned().collect()
    }

    /// Whether an app has a log (it exists, or existed in this node's life).
    pub fn has(&self, app: &str) -> bool {
        self.apps.lock().expect("log hub lock").contains_key(app)
    }

    pub fn subscribe_events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

impl crate::router::AccessLog for LogHub {
    fn record(&self, app: &str, index: Option<u32>, line: &str) {
        self.publish(app, "RTR", index, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_lines_are_bounded_and_followers_see_new_ones() {
        let hub = LogHub::default();
        for i in 0..RECENT_LINES + 10 {
            hub.publish("web", "APP", Some(0), &format!("line {i}"));
        }
        let (recent, mut live) = hub.subscribe("web");
        assert_eq!(recent.len(), RECENT_LINES);
        assert_eq!(recent[0].message, "line 10");
        assert_eq!(hub.followers(), 1);
        hub.publish("web", "CELL", Some(1), "Successfully created container");
        let line = live.try_recv().unwrap();
        assert_eq!((line.source.as_str(), line.index), ("CELL", Some(1)));
        drop(live);
        assert_eq!(hub.followers(), 0);
    }

    #[test]
    fn long_lines_are_cut() {
        let hub = LogHub::default();
        hub.publish("web", "APP", None, &"é".repeat(MAX_LINE));
        let (recent, _) = hub.subscribe("web");
        assert!(recent[0].message.len() <= MAX_PUBLISHED + 3);
        assert!(recent[0].message.ends_with('…'));
    }

    #[test]
    fn a_long_line_in_pieces_is_joined_then_cut_once_visibly() {
        let mut lines = LineAssembler::default();
        let line = "y".repeat(40_000);
        // Docker's 16 KiB pieces, in chunks split anywhere.
        let mut out = Vec::new();
        for piece in line.as_bytes().chunks(16 * 1024) {
            out.extend(lines.push(piece));
        }
        out.extend(lines.push(b"\nshort\r\nlast"));
        out.extend(lines.finish());
        assert_eq!(
            out.len(),
            3,
            "{:?}",
            out.iter().map(String::len).collect::<Vec<_>>()
        );
        assert!(out[0].starts_with(&"y".repeat(MAX_LINE)));
        assert!(
            out[0].ends_with("… [line of 40000 bytes cut at 4096]"),
            "{}",
            &out[0][MAX_LINE..]
        );
        assert_eq!(out[1], "short");
        assert_eq!(out[2], "last");
    }

    #[test]
    fn a_character_split_between_chunks_is_kept_whole() {
        let mut lines = LineAssembler::default();
        let bytes = "é\n".as_bytes();
        assert!(lines.push(&bytes[..1]).is_empty());
        assert_eq!(lines.push(&bytes[1..]), ["é"]);
    }

    #[test]
    fn a_slow_follower_learns_how_many_lines_it_missed() {
        let hub = LogHub::default();
        let (_, mut live) = hub.subscribe("web");
        for i in 0..LIVE_BUFFER + 5 {
            hub.publish("web", "APP", Some(0), &format!("{i}"));
        }
        assert!(matches!(
            live.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(5))
        ));
    }
}
