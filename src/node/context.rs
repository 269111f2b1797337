//! A build context from a directory, as `docker build DIR` sends it: every file under DIR
//! except what `.dockerignore` excludes, packed as a tar.
//!
//! `.dockerignore` patterns are Docker's: relative to the context's root (a leading `/` or
//! `./` changes nothing), `*` and `?` within a path segment, `**` across segments, `!` to
//! take a path back, later lines winning, and an excluded directory excluding what it holds.
//! They are matched as root-anchored gitignore patterns, which have the same meaning for all
//! of these. The Dockerfile and `.dockerignore` are always sent, as Docker does.

use crate::error::{Error, Kind, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::{Path, PathBuf};

/// Largest context packed (the engine holds it in memory to build).
const MAX_CONTEXT_BYTES: u64 = 2 << 30;

/// Packs `dir` as a build context whose Dockerfile is `dockerfile` (relative to `dir`).
pub fn pack(dir: &Path, dockerfile: &str) -> Result<Vec<u8>> {
    check(dir, dockerfile)?;
    let ignore = dockerignore(dir)?;
    let always = [PathBuf::from(dockerfile), PathBuf::from(".dockerignore")];
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut total = 0u64;
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    let mut entries = walk.into_iter();
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|e| unreadable(dir, &e.to_string()))?;
        let relative = entry
            .path()
            .strip_prefix(dir)
            .expect("walked under dir")
            .to_path_buf();
        let is_dir = entry.file_type().is_dir();
        let excluded = ignore
            .matched_path_or_any_parents(&relative, is_dir)
            .is_ignore();
        if excluded && !always.contains(&relative) {
            // An excluded directory may still hold a path taken back with `!`: walk into it
            // only then (Docker does the same).
            if is_dir && ignore.num_whitelists() == 0 {
                entries.skip_current_dir();
            }
            continue;
        }
        total += entry.metadata().map(|m| m.len()).unwrap_or(0);
        if total > MAX_CONTEXT_BYTES {
            return Err(Error::usage(format!(
                "the build context {} is larger than {} GiB",
                dir.display(),
                MAX_CONTEXT_BYTES >> 30
            ))
            .with_hint("exclude what the image does not need in .dockerignore"));
        }
        builder
            .append_path_with_name(entry.path(), &relative)
            .map_err(|e| unreadable(entry.path(), &e.to_string()))?;
    }
    builder
        .into_inner()
        .map_err(|e| unreadable(dir, &e.to_string()))
}

/// The directory exists and holds the Dockerfile (exit 13 otherwise).
pub fn check(dir: &Path, dockerfile: &str) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "`{}` is not a directory to build from",
            dir.display()
        )));
    }
    let relative = Path::new(dockerfile);
    if relative.is_absolute() || relative.components().any(|c| c.as_os_str() == "..") {
        return Err(Error::usage(format!(
            "`--dockerfile {dockerfile}` must be a path inside {}",
            dir.display()
        )));
    }
    if !dir.join(relative).is_file() {
        return Err(Error::usage(format!(
            "{} has no {dockerfile}: there is nothing to build",
            dir.display()
        ))
        .with_hint("add a Dockerfile, or name another with `--dockerfile FILE`"));
    }
    Ok(())
}

fn unreadable(path: &Path, reason: &str) -> Error {
    Error::new(
        Kind::Usage,
        format!("cannot read {} to build it: {reason}", path.display()),
    )
}

/// The context's `.dockerignore`, as root-anchored gitignore patterns.
fn dockerignore(dir: &Path) -> Result<Gitignore> {
    let mut builder = GitignoreBuilder::new(dir);
    let path = dir.join(".dockerignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(unreadable(&path, &e.to_string())),
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negate, pattern) = match line.strip_prefix('!') {
            Some(rest) => ("!", rest.trim()),
            None => ("", line),
        };
        let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
        let pattern = pattern.trim_end_matches('/');
        if pattern.is_empty() {
            continue;
        }
        builder
            .add_line(None, &format!("{negate}/{pattern}"))
            .map_err(|e| Error::usage(format!("{}: bad pattern `{line}`: {e}", path.display())))?;
    }
    builder
        .build()
        .map_err(|e| Error::usage(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        names
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn dockerignore_excludes_as_docker_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "Dockerfile", "FROM scratch\n");
        write(d, "app/main", "x");
        write(d, "app/secret.key", "x");
        write(d, "node_modules/a/b.js", "x");
        write(d, "docs/keep.md", "x");
        write(d, "docs/drop.md", "x");
        write(d, "sub/node_modules/c", "x");
        write(
            d,
            ".dockerignore",
            "# comment\n/node_modules\n**/*.key\ndocs\n!docs/keep.md\n./.git\nDockerfile\n",
        );
        let sent = names(&pack(d, "Dockerfile").unwrap());
        assert_eq!(
            sent,
            [
                ".dockerignore",
                "Dockerfile",
                "app",
                "app/main",
                "docs/keep.md",
                "sub",
                "sub/node_modules",
                "sub/node_modules/c"
            ]
        );
    }

    #[test]
    fn a_directory_without_its_dockerfile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = pack(dir.path(), "Dockerfile").unwrap_err();
        assert_eq!(error.exit_code(), 13);
        assert!(
            error.message.contains("has no Dockerfile"),
            "{}",
            error.message
        );
        let error = pack(&dir.path().join("missing"), "Dockerfile").unwrap_err();
        assert!(
            error.message.contains("not a directory"),
            "{}",
            error.message
        );
        write(dir.path(), "Dockerfile", "FROM scratch\n");
        assert!(pack(dir.path(), "../Dockerfile").is_err());
        assert!(pack(dir.path(), "Dockerfile").is_ok());
    }
}
