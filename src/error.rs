//! The one error type that crosses every layer, and the one place that maps errors to exit codes.
//!
//! Errors travel from the engine through the node's API to the CLI as JSON, so they are plain
//! data: a [`Kind`] (which decides the exit code), a one-line lowercase message that names things
//! in backticks, and an optional hint that tells the user what to do next.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, at the granularity a script needs. The exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The target or the configuration is unusable (exit 10).
    Config,
    /// Not enough memory on this machine for the requested instances (exit 11).
    Placement,
    /// A file under `LTC_HOME` could not be read or written (exit 12).
    FileSystem,
    /// The command line or request is malformed (exit 13).
    Usage,
    /// The app does not exist (exit 14).
    NotFound,
    /// The app already exists, or another request changed it first (exit 14).
    Conflict,
    /// Anything else that failed (exit 14).
    Failed,
    /// The Docker engine cannot be reached or refused the request (exit 15).
    Engine,
    /// The image does not exist and cannot be pulled, or has nothing to run (exit 15).
    Image,
    /// Waiting timed out; the node keeps converging in the background (exit 16).
    Timeout,
    /// The user pressed Ctrl-C (exit 130).
    Interrupted,
    /// A command ltc ran for the user (`ltc ssh`, `ltc run`) exited with a status of its own,
    /// which is ltc's exit status; nothing is printed.
    Exited,
}

impl Kind {
    /// The exit code table, documented in the README and `ltc help`.
    /// The kind a process that exited with `code` reported (the node's own exit).
    pub fn from_exit_code(code: i32) -> Kind {
        match code {
            10 => Kind::Config,
            11 => Kind::Placement,
            12 => Kind::FileSystem,
            13 => Kind::Usage,
            15 => Kind::Engine,
            16 => Kind::Timeout,
            130 => Kind::Interrupted,
            _ => Kind::Failed,
        }
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Config => 10,
            Kind::Placement => 11,
            Kind::FileSystem => 12,
            Kind::Usage => 13,
            Kind::NotFound | Kind::Conflict | Kind::Failed => 14,
            Kind::Engine | Kind::Image => 15,
            Kind::Timeout => 16,
            Kind::Interrupted => 130,
            Kind::Exited => 14,
        }
    }
}

/// An error with its kind, a one-line message and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub kind: Kind,
    #[serde(rename = "error")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For [`Kind::Exited`]: the status to exit with.
    #[serde(skip)]
    pub status: Option<i32>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            status: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(Kind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(Kind::Conflict, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Error::new(Kind::Failed, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config, message)
    }

    pub fn fs(message: impl Into<String>) -> Self {
        Error::new(Kind::FileSystem, message)
    }

    pub fn exit_code(&self) -> i32 {
        match (self.kind, self.status) {
            (Kind::Exited, Some(status)) => status,
            (kind, _) => kind.exit_code(),
        }
    }

    /// A command ltc ran for the user exited with `status` (not 0).
    pub fn exited(status: i32) -> Self {
        let mut error = Error::new(
            Kind::Exited,
            format!("the command exited with status {status}"),
        );
        error.status = Some(status);
        error
    }

    /// The app-not-found error every command uses, with the hint to list apps.
    pub fn app_not_found(name: &str) -> Self {
        Error::not_found(format!("app `{name}` not found"))
            .with_hint("`ltc list` shows the apps that exist")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        let table = [
            (Kind::Config, 10),
            (Kind::Placement, 11),
            (Kind::FileSystem, 12),
            (Kind::Usage, 13),
            (Kind::NotFound, 14),
            (Kind::Conflict, 14),
            (Kind::Failed, 14),
            (Kind::Engine, 15),
            (Kind::Image, 15),
            (Kind::Timeout, 16),
            (Kind::Interrupted, 130),
        ];
        for (kind, code) in table {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn errors_round_trip_through_json_with_their_hint() {
        let error = Error::app_not_found("web");
        let json = serde_json::to_string(&error).unwrap();
        assert!(json.contains(r#""kind":"not_found""#), "{json}");
        assert!(json.contains(r#""error":"app `web` not found""#), "{json}");
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), error);
    }
}
