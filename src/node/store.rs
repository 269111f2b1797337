//! Desired state on disk. The node is the only writer (it holds `node.lock` for its lifetime),
//! so there is no read-modify-write race between processes; within the node, writes happen
//! under the state mutex.
//!
//! Every write is durable and atomic: a temporary file in the same directory, fsync, rename
//! over the old file, fsync of the directory. A reader sees the old or the new file, never a
//! torn one, even after SIGKILL or power loss.

use crate::error::{Error, Result};
use crate::model::{AppSpec, DEFAULT_DOMAIN};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The desired state of every app (`state.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    pub format: u32,
    /// The next generation to hand out. Generations never repeat within one `LTC_HOME`, so an
    /// app removed and created again never adopts the old app's containers.
    pub next_generation: u64,
    pub apps: BTreeMap<String, AppSpec>,
    /// One-off tasks, until deleted (the oldest completed ones beyond
    /// [`crate::node::tasks::COMPLETED_KEPT`] are pruned).
    #[serde(default)]
    pub tasks: BTreeMap<String, crate::model::Task>,
}

impl Default for DesiredState {
    fn default() -> Self {
        DesiredState {
            format: 1,
            next_generation: 1,
            apps: BTreeMap::new(),
            tasks: BTreeMap::new(),
        }
    }
}

/// The node's configuration (`config.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeConfig {
    pub domain: String,
    /// `ltc target --engine`.
    #[serde(default)]
    pub engine: crate::model::EngineKind,
    /// `ltc target --registry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            domain: DEFAULT_DOMAIN.to_string(),
            engine: crate::model::EngineKind::Docker,
            registry: None,
        }
    }
}

/// The engine the configuration in `LTC_HOME` names, at `host`.
pub fn engine_for(
    paths: &crate::config::Paths,
    host: &str,
) -> crate::error::Result<std::sync::Arc<dyn crate::engine::Engine>> {
    let config: NodeConfig = load(&paths.config_file())?;
    Ok(match config.engine {
        crate::model::EngineKind::Docker => {
            std::sync::Arc::new(crate::engine::docker::DockerEngine::new(host))
        }
        crate::model::EngineKind::Swarm => std::sync::Arc::new(
            crate::engine::swarm::SwarmEngine::new(host, config.registry),
        ),
    })
}

/// The format of `state.json` and `instances.json` this ltc reads and writes.
pub const FORMAT: u64 = 1;

/// Reads a JSON file, or the default when it does not exist yet. A file that says it has a
/// format other than [`FORMAT`] (written by another version of ltc) is refused, untouched:
/// reading it as this format could lose what it holds when it is written back.
pub fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T> {
    let damaged = |e: serde_json::Error| {
        Error::config(format!("`{}` is damaged: {e}", path.display()))
            .with_hint("restore it from a backup, or move it away to start with no apps")
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => return Err(Error::fs(format!("cannot read `{}`: {e}", path.display()))),
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(damaged)?;
    if let Some(format) = value.get("format")
        && format.as_u64() != Some(FORMAT)
    {
        return Err(Error::fs(format!(
            "`{}` has format {format}; this ltc reads format {FORMAT}",
            path.display()
        ))
        .with_hint("run the ltc that wrote it, or move the file away to start afresh"));
    }
    serde_json::from_value(value).map_err(damaged)
}

/// Removes the temporary files of writes that never finished (a node killed in the middle of
/// one, or a full disk): `.<name>.<pid>.tmp` in `dir`. Called with the home's lock held.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes a JSON file atomically and durably, readable by its owner only.
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("state serialises");
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Replaces a file's content atomically and durably (temp file, fsync, rename, fsync dir).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Error::fs(format!("cannot write `{}`: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        // A write that failed (a full disk) leaves nothing behind.
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail)?;
    Ok(())
}

/// The random id of this `LTC_HOME`, made on first use. Every container carries it, so two
/// homes on one engine never touch each other's containers.
pub fn install_id(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_string()),
        Ok(_) => new_install_id(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_install_id(path),
        Err(e) => Err(Error::fs(format!("cannot read `{}`: {e}", path.display()))),
    }
}

fn new_install_id(path: &Path) -> Result<String> {
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    write_atomic(path, format!("{id}\n").as_bytes())?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_state_loads_back_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = DesiredState {
            next_generation: 7,
            ..DesiredState::default()
        };
        save(&path, &state).unwrap();
        assert_eq!(load::<DesiredState>(&path).unwrap(), state);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "only state.json remains");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_missing_file_is_the_default_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(
            load::<DesiredState>(&path).unwrap(),
            DesiredState::default()
        );
        std::fs::write(&path, b"{ not json").unwrap();
        let error = load::<DesiredState>(&path).unwrap_err();
        assert_eq!(error.kind, crate::error::Kind::Config);
        assert!(error.message.contains("damaged"), "{}", error.message);
    }

    #[test]
    fn a_file_of_an_unknown_format_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["state.json", "instances.json"] {
            let path = dir.path().join(name);
            let written = br#"{"format": 999, "next_generation": 3, "apps": {}, "instances": []}"#;
            std::fs::write(&path, written).unwrap();
            let error = if name == "state.json" {
                load::<DesiredState>(&path).unwrap_err()
            } else {
                load::<crate::node::records::Records>(&path).unwrap_err()
            };
            assert_eq!(error.exit_code(), 12, "{}", error.message);
            assert!(error.message.contains(name), "{}", error.message);
            assert!(error.message.contains("format 999"), "{}", error.message);
            assert!(
                error.message.contains("reads format 1"),
                "{}",
                error.message
            );
            assert_eq!(std::fs::read(&path).unwrap(), written);
        }
    }

    #[test]
    fn temp_files_of_unfinished_writes_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".state.json.77.tmp", ".instances.json.78.tmp", "state.json"] {
            std::fs::write(dir.path().join(name), b"{}").unwrap();
        }
        remove_stale_temp_files(dir.path());
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["state.json"]);
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming over a directory fails after the temp file was written.
        let path = dir.path().join("state.json");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), b"x").unwrap();
        assert!(save(&path, &DesiredState::default()).is_err());
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["state.json"], "no temp file left");
    }

    #[test]
    fn the_install_id_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install-id");
        let first = install_id(&path).unwrap();
        assert_eq!(first.len(), 16);
        assert_eq!(install_id(&path).unwrap(), first);
    }
}
