//! Volumes an app mounts (`--volume`): named ones ltc owns, or directories of this machine,
//! and the mounts refused to apps that are not privileged.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A volume mounted in an app's instances: a named volume ltc owns (shared by every instance
/// and kept across restarts, crashes and new revisions), or a directory of this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// The volume's name, or an absolute host path for a bind mount.
    pub source: String,
    /// Where it is mounted in the container (absolute).
    pub target: String,
    #[serde(default)]
    pub read_only: bool,
}

impl Volume {
    /// A directory of this machine rather than a named volume.
    pub fn is_bind(&self) -> bool {
        self.source.starts_with('/')
    }

    /// `--volume` as given: `SOURCE:TARGET[:ro]`.
    pub fn describe(&self) -> String {
        match self.read_only {
            true => format!("{}:{}:ro", self.source, self.target),
            false => format!("{}:{}", self.source, self.target),
        }
    }
}

/// Paths whose mount would hand an app the Docker engine or the whole machine.
const DANGEROUS_MOUNTS: [&str; 2] = ["/var/run/docker.sock", "/run/docker.sock"];

/// Parses `--volume NAME:/path[:ro]` or `--volume /host/dir:/path[:ro]`. A bind mount of `/`,
/// of the Docker socket or of a directory holding it is refused unless `privileged`.
pub fn parse_volume(text: &str, privileged: bool) -> Result<Volume> {
    let bad = |why: &str| {
        Error::usage(format!(
            "invalid --volume `{text}`: {why}; use NAME:/PATH[:ro] or /HOST/DIR:/PATH[:ro]"
        ))
    };
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [source, target] => (*source, *target, false),
        [source, target, "ro"] => (*source, *target, true),
        [source, target, "rw"] => (*source, *target, false),
        [_, _, mode] => return Err(bad(&format!("`{mode}` is not `ro` or `rw`"))),
        _ => return Err(bad("it needs a source and a path")),
    };
    if !target.starts_with('/') {
        return Err(bad(&format!("the path `{target}` is not absolute")));
    }
    if target.split('/').any(|part| part == "..") || source.split('/').any(|p| p == "..") {
        return Err(bad("`..` is not allowed"));
    }
    if source.starts_with('/') {
        let normal = source.trim_end_matches('/');
        let exposes_engine = normal.is_empty()
            || DANGEROUS_MOUNTS
                .iter()
                .any(|socket| *socket == normal || socket.starts_with(&format!("{normal}/")));
        if exposes_engine && !privileged {
            return Err(Error::usage(format!(
                "--volume `{text}` would give the app {}: refused",
                if normal.is_empty() {
                    "this whole machine".to_string()
                } else {
                    "the Docker engine (and with it this machine)".to_string()
                }
            ))
            .with_hint("only a privileged app (`--privileged`) may mount it"));
        }
    } else {
        let mut bytes = source.bytes();
        let valid = source.len() >= 2
            && source.len() <= 64
            && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !valid {
            return Err(bad(&format!(
                "`{source}` is not a valid volume name (letters, digits, `_`, `.`, `-`, \
                 starting with a letter or digit, 2 to 64 characters)"
            )));
        }
    }
    Ok(Volume {
        source: source.to_string(),
        target: target.to_string(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_are_named_or_absolute_and_never_the_engine_unless_privileged() {
        let v = parse_volume("data:/var/data", false).unwrap();
        assert_eq!(
            (v.source.as_str(), v.target.as_str(), v.is_bind()),
            ("data", "/var/data", false)
        );
        let v = parse_volume("/srv/site:/www:ro", false).unwrap();
        assert!(v.is_bind() && v.read_only);
        for bad in [
            "data",
            "data:relative",
            "d:/x",
            "-data:/x",
            "da ta:/x",
            "data:/x:rx",
            "data:/x/../y",
            "/:/host",
            "/var/run/docker.sock:/s",
            "/var/run:/r",
            "/run:/r",
            "/var:/v",
        ] {
            assert_eq!(
                parse_volume(bad, false).unwrap_err().exit_code(),
                13,
                "{bad}"
            );
        }
        assert!(parse_volume("/var/run/docker.sock:/s", true).is_ok());
        assert!(parse_volume("/var/lib/app:/d", false).is_ok());
    }
}
