//! Revisions of an app and their rollouts: what ran, how each rollout went, and what a
//! rollout in progress needs to go back to.

use super::RunSpec;
use serde::{Deserialize, Serialize};

/// Revisions kept per app (with their images), as `ltc history` lists them.
pub const HISTORY_KEPT: usize = 10;

/// One revision of an app: what ran, when it was made and how its rollout went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u64,
    /// Unix milliseconds.
    pub created_at: u64,
    /// What changed, in words: `created`, `env FOO set`, `image redis:7`, `rollback to 2`.
    pub description: String,
    pub run: RunSpec,
    /// The container sets that ran it (a restart makes a new one of the same revision).
    #[serde(default)]
    pub generations: Vec<u64>,
    pub outcome: Outcome,
}

/// How a revision's rollout went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Being rolled out.
    Deploying,
    /// What runs now.
    Active,
    /// Ran, and was replaced by a later revision.
    Superseded,
    /// Its rollout failed and the app went back to the revision before it.
    Failed,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Deploying => "deploying",
            Outcome::Active => "active",
            Outcome::Superseded => "superseded",
            Outcome::Failed => "failed",
        }
    }
}

/// What started a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutKind {
    Update,
    Rollback,
    Restart,
}

/// A rolling replacement in progress: every index gets an instance of `generation` before its
/// old one is drained and stopped, at most `max_surge` extra containers at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    pub kind: RolloutKind,
    /// The request (the app's `change`) that started it.
    pub change: u64,
    /// What ran before, to go back to when the rollout fails.
    pub from: RunSpec,
    pub from_generation: u64,
    pub from_release: u64,
    pub max_surge: u32,
    /// A new instance that is not healthy this long after its start fails the rollout.
    pub health_timeout_ms: u64,
    /// Unix milliseconds.
    pub started_at: u64,
}

/// How a rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutResult {
    pub kind: RolloutKind,
    /// The request (the app's `change`) that started it.
    pub change: u64,
    /// The revision rolled out.
    pub release: u64,
    pub ok: bool,
    /// Why it failed: the instance, its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<RolloutFailure>,
    /// Unix milliseconds.
    pub finished_at: u64,
}

/// The new instance that failed a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutFailure {
    pub index: u32,
    pub reason: String,
    /// Its last log lines.
    pub logs: Vec<String>,
}
