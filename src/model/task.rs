//! One-off tasks' identity: the guid rules and a task as submitted, shared by the CLI and
//! the node.

use super::{CELL_ID, Task, TaskState};
use crate::error::{Error, Result};
use crate::logging::rfc3339;
use std::time::SystemTime;

/// Longest task guid accepted.
pub const MAX_GUID: usize = 100;

/// Checks a task guid: letters, digits, `-` and `_`.
pub fn validate_guid(guid: &str) -> Result<()> {
    let valid = !guid.is_empty()
        && guid.len() <= MAX_GUID
        && guid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Error::usage(format!(
            "`{guid}` is not a valid task guid: use letters, digits, `-` and `_`, at most \
             {MAX_GUID} characters"
        )));
    }
    Ok(())
}

/// A task as submitted, before the node accepted it.
pub fn new_task(guid: &str, image: &str, image_ref: &str, command: Vec<String>) -> Task {
    Task {
        task_guid: guid.to_string(),
        image: image.to_string(),
        image_ref: image_ref.to_string(),
        command,
        env: Vec::new(),
        memory_mb: 0,
        cpu_weight: 100,
        privileged: false,
        user: None,
        working_dir: None,
        result_file: None,
        app: None,
        volumes: Vec::new(),
        state: TaskState::Pending,
        failed: false,
        failure_reason: String::new(),
        result: String::new(),
        exit_code: None,
        container_id: None,
        cell_id: CELL_ID.to_string(),
        created_at: rfc3339(SystemTime::now()),
        finished_at: None,
    }
}
