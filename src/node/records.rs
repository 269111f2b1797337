//! What the node remembers about its instances across its own restarts (`instances.json`):
//! which containers it created, and each instance's crash count and backoff.
//!
//! Labels are free text: anyone on the Docker socket can start a container with this home's
//! labels. So a container is adopted only when its guid is recorded here, with its id or, for
//! a start the node was killed in the middle of, with no id yet (the record is written before
//! the engine is asked to create the container). Anything else is foreign: never adopted,
//! routed, counted or removed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub guid: String,
    pub app: String,
    pub index: u32,
    pub generation: u64,
    /// The container's id; `None` while it is being created.
    pub container: Option<String>,
    pub crash_count: u32,
    /// For a crashed instance: when its restart is due (Unix milliseconds).
    pub next_restart_ms: Option<u64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// The last crash's reason and time (Unix milliseconds).
    #[serde(default)]
    pub last_crash: Option<(String, u64)>,
    /// A start was in flight: the engine may still be creating this guid's container.
    #[serde(default)]
    pub starting: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    pub format: u32,
    pub instances: Vec<InstanceRecord>,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            format: 1,
            instances: Vec::new(),
        }
    }
}

impl Records {
    /// Whether a container with this guid and id was created by this home.
    pub fn owns(&self, guid: &str, container: &str) -> bool {
        self.instances
            .iter()
            .any(|r| r.guid == guid && r.container.as_deref().is_none_or(|c| c == container))
    }

    pub fn get(&self, guid: &str) -> Option<&InstanceRecord> {
        self.instances.iter().find(|r| r.guid == guid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(guid: &str, container: Option<&str>) -> InstanceRecord {
        InstanceRecord {
            guid: guid.into(),
            app: "web".into(),
            index: 0,
            generation: 1,
            container: container.map(String::from),
            crash_count: 0,
            next_restart_ms: None,
            last_error: None,
            last_crash: None,
            starting: false,
        }
    }

    #[test]
    fn a_container_is_ours_only_with_a_recorded_guid_and_matching_id() {
        let records = Records {
            format: 1,
            instances: vec![record("a", Some("c1")), record("b", None)],
        };
        assert!(records.owns("a", "c1"));
        assert!(
            !records.owns("a", "c2"),
            "copied labels on another container"
        );
        assert!(records.owns("b", "c9"), "created while the node was killed");
        assert!(!records.owns("z", "c1"), "unknown guid");
    }
}
