//! The arguments of new versions: `update`, `rollback`, `restart`, `history`, builds from a
//! directory, how rollouts go, and Docker env files.

use super::{
    EnvArg, RouteArgs, WaitArgs, app_names, image_names, parse_env, parse_port, parse_timeout,
};
use crate::model::{self, EnvVar};
use clap::Args;
use clap_complete::engine::ArgValueCandidates;
use std::time::Duration;

/// Building the image from a directory (`create`, `update`).
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Build the image from this directory's Dockerfile (honouring .dockerignore)
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub path: Option<std::path::PathBuf>,

    /// The Dockerfile to build, relative to the directory [default: Dockerfile]
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<String>,

    /// A build argument NAME=VALUE (a bare NAME copies your environment's value)
    #[arg(long, value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub build_arg: Vec<EnvArg>,
}

/// How the router treats an app's requests (`create`, `update`); changed live, restarting
/// nothing.
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// How long an instance may take to start its response before the router answers 504
    /// [default: 15m]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub response_timeout: Option<Duration>,

    /// How long a stopping instance's requests in flight may take before it stops anyway
    /// [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub drain_timeout: Option<Duration>,

    /// Answer plain HTTP requests with a redirect to the HTTPS URL
    #[arg(long)]
    pub redirect_https: bool,

    /// A certificate (PEM, with its chain) to serve for one of the app's hostnames instead of
    /// one from the local CA
    #[arg(long, value_name = "FILE", requires = "key", value_hint = clap::ValueHint::FilePath)]
    pub cert: Option<std::path::PathBuf>,

    /// The private key of --cert (PEM)
    #[arg(long, value_name = "FILE", requires = "cert", value_hint = clap::ValueHint::FilePath)]
    pub key: Option<std::path::PathBuf>,

    /// The hostname --cert is for [default: the app's first HTTP route]
    #[arg(long, value_name = "HOST", requires = "cert")]
    pub cert_host: Option<String>,
}

impl EdgeArgs {
    /// The request, with the certificate's paths made absolute (the node reads them from its
    /// own directory).
    pub fn request(&self) -> crate::error::Result<model::EdgeRequest> {
        let absolute = |path: &std::path::Path| {
            std::path::absolute(path)
                .map(|p| p.display().to_string())
                .map_err(|e| {
                    crate::error::Error::new(
                        crate::error::Kind::FileSystem,
                        format!("cannot resolve {}: {e}", path.display()),
                    )
                })
        };
        let certificates = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => vec![model::CertificateRequest {
                hostname: self.cert_host.clone(),
                cert_file: absolute(cert)?,
                key_file: absolute(key)?,
            }],
            _ => Vec::new(),
        };
        Ok(model::EdgeRequest {
            response_timeout_ms: self.response_timeout.map(|d| d.as_millis() as u64),
            drain_timeout_ms: self.drain_timeout.map(|d| d.as_millis() as u64),
            redirect_https: self.redirect_https.then_some(true),
            certificates,
            remove_certificates: Vec::new(),
        })
    }
}

/// How a rollout goes.
#[derive(Debug, Clone, Copy, Args)]
pub struct RolloutArgs {
    /// Extra new instances started at once (the app never has fewer healthy instances)
    #[arg(long, value_name = "N", default_value_t = crate::model::DEFAULT_MAX_SURGE,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub max_surge: u32,

    /// How long a new instance may take to become healthy before the rollout is undone
    #[arg(long, default_value = "60s", value_parser = parse_timeout)]
    pub health_timeout: Duration,
}

impl RolloutArgs {
    pub fn options(&self) -> crate::model::RolloutOptions {
        crate::model::RolloutOptions {
            max_surge: Some(self.max_surge),
            health_timeout_ms: Some(self.health_timeout.as_millis() as u64),
        }
    }
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// The new start command and its arguments, after `--`
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,

    /// A new image (a path starting with `.` or `/` is a directory to build)
    #[arg(long, add = ArgValueCandidates::new(image_names))]
    pub image: Option<String>,

    #[command(flatten)]
    pub build: BuildArgs,

    /// Set or replace an environment variable NAME=VALUE (a bare NAME copies your value)
    #[arg(short, long = "env", value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub env: Vec<EnvArg>,

    /// Remove an environment variable
    #[arg(long, value_name = "NAME")]
    pub unset_env: Vec<String>,

    /// Set environment variables from a file, as `docker run --env-file` reads it
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,

    /// Mount a named volume or a directory at PATH (replacing what is mounted there)
    #[arg(long = "volume", value_name = "SOURCE:/PATH[:ro]")]
    pub volumes: Vec<String>,

    /// New ports the app listens on, comma separated
    #[arg(short, long, value_delimiter = ',', value_parser = parse_port)]
    pub ports: Vec<u16>,

    /// Memory limit per instance in MB (0 = unlimited)
    #[arg(short, long)]
    pub memory_mb: Option<u64>,

    /// Disk limit per instance in MB (recorded)
    #[arg(short, long)]
    pub disk_mb: Option<u64>,

    /// Relative CPU weight, 1 to 100
    #[arg(short, long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub cpu_weight: Option<u8>,

    /// Most processes and threads per instance (0 = unlimited)
    #[arg(long)]
    pub pids_limit: Option<u32>,

    /// Working directory
    #[arg(short, long)]
    pub working_dir: Option<String>,

    /// User to run as
    #[arg(short, long)]
    pub user: Option<String>,

    #[command(flatten)]
    pub routes: RouteArgs,

    /// Add one HTTP route HOST[:PORT], keeping the others
    #[arg(long, value_name = "HOST[:PORT]")]
    pub add_route: Vec<String>,

    /// Remove one HTTP route, keeping the others
    #[arg(long, value_name = "HOST")]
    pub remove_route: Vec<String>,

    /// Check that this port listens
    #[arg(short = 'M', long, value_parser = parse_port, group = "monitor")]
    pub monitor_port: Option<u16>,

    /// Check that GET PORT:/PATH answers 200
    #[arg(short = 'U', long, value_name = "PORT:/PATH", group = "monitor")]
    pub monitor_url: Option<String>,

    /// Check that `/bin/sh -c COMMAND` exits 0 inside the instance
    #[arg(long, value_name = "COMMAND", group = "monitor")]
    pub monitor_command: Option<String>,

    /// No check: an instance is running as soon as its process runs
    #[arg(long, group = "monitor")]
    pub no_monitor: bool,

    /// How long one check may take
    #[arg(long, value_parser = parse_timeout)]
    pub monitor_timeout: Option<Duration>,

    /// How long a new instance may take to pass its first check before it counts as a crash
    #[arg(long, value_parser = parse_timeout)]
    pub start_timeout: Option<Duration>,

    #[command(flatten)]
    pub edge: EdgeArgs,

    /// Serve plain HTTP again instead of redirecting it to HTTPS
    #[arg(long, conflicts_with = "redirect_https")]
    pub no_redirect_https: bool,

    /// Serve the local CA's certificate again for this hostname instead of the one given
    #[arg(long, value_name = "HOST")]
    pub remove_cert: Vec<String>,

    #[command(flatten)]
    pub rollout: RolloutArgs,

    /// How long to wait for the rollout
    #[arg(short, long, default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// The revision to go back to [default: the one before the current]
    #[arg(long, value_name = "REVISION")]
    pub to: Option<u64>,

    #[command(flatten)]
    pub rollout: RolloutArgs,

    /// How long to wait for the rollout
    #[arg(short, long, default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// Only this instance
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,

    #[command(flatten)]
    pub rollout: RolloutArgs,

    /// How long to wait for the restart
    #[arg(short, long, default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,
}

/// Reads a Docker env file: `NAME=VALUE` per line (the value as written, quotes and all), a
/// bare `NAME` copies `lookup`'s value and is skipped when it has none, `#` lines and blank
/// lines are skipped.
pub fn read_env_file(
    path: &std::path::Path,
    lookup: impl Fn(&str) -> Option<String>,
) -> crate::error::Result<Vec<EnvVar>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::error::Error::usage(format!("cannot read env file {}: {e}", path.display()))
    })?;
    let mut vars = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (line.trim_end(), None),
        };
        model::validate_env_name(name).map_err(|e| {
            crate::error::Error::usage(format!(
                "{} line {}: {}",
                path.display(),
                number + 1,
                e.message
            ))
        })?;
        let Some(value) = value.or_else(|| lookup(name)) else {
            continue;
        };
        vars.retain(|v: &EnvVar| v.name != name);
        vars.push(EnvVar {
            name: name.to_string(),
            value,
        });
    }
    Ok(vars)
}

/// An IMAGE argument that names a directory to build, as `docker build .` takes it.
pub fn is_directory_image(image: &str) -> bool {
    image.starts_with('.') || image.starts_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_read_as_docker_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        std::fs::write(
            &path,
            "# comment\n\nFOO=bar baz\nQUOTED=\"x\"\n  HOME\nMISSING\nFOO=again\nEMPTY=\n",
        )
        .unwrap();
        let vars = read_env_file(&path, |n| (n == "HOME").then(|| "/root".into())).unwrap();
        let pairs: Vec<(&str, &str)> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("QUOTED", "\"x\""),
                ("HOME", "/root"),
                ("FOO", "again"),
                ("EMPTY", "")
            ]
        );
        std::fs::write(&path, "OK=1\nBAD-NAME=2\n").unwrap();
        let error = read_env_file(&path, |_| None).unwrap_err();
        assert_eq!(error.exit_code(), 13);
        assert!(error.message.contains("line 2"), "{}", error.message);
        let error = read_env_file(&dir.path().join("none"), |_| None).unwrap_err();
        assert!(
            error.message.contains("cannot read env file"),
            "{}",
            error.message
        );
    }
}
