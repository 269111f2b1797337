//! The command line, as clap derive types. The doc comment on each field is its help text.

use crate::model::{self, EnvVar};
use clap::{Args, Parser, Subcommand};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use std::time::Duration;

mod deploy;
mod inside;
pub use deploy::*;
pub use inside::*;

pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  10   bad target or configuration
  11   placement failed (not enough memory for the instances)
  12   a file under LTC_HOME could not be read or written
  13   invalid usage
  14   the command failed (app missing, already exists, superseded, crashing)
  15   the Docker engine is unreachable, or the image is missing or unusable
  16   timed out waiting (the node keeps converging in the background)
  130  interrupted";

/// ltc runs apps on the local Docker engine the way Cloud Foundry Lattice did: create an app
/// from an image, scale it, and reach its instances in turn through the built-in router at
/// http://<app>.localhost:8080.
#[derive(Debug, Parser)]
#[command(
    name = "ltc",
    version,
    propagate_version = true,
    after_help = EXIT_CODES,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Print results as JSON on stdout, and errors as one JSON object on stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// Print nothing but results and errors (no progress, notes or warnings)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or set the system domain apps are routed under
    #[command(alias = "ta")]
    Target(TargetArgs),

    /// Create an app from a Docker image (the built-in lattice-app when none is named)
    #[command(alias = "cr")]
    Create(Box<CreateArgs>),

    /// Change the number of instances of an app (0 stops it)
    #[command(alias = "sc")]
    Scale(ScaleArgs),

    /// Change a running app without downtime: a new revision rolled out instance by instance
    /// (image, environment, command, limits, monitor), or its routes, live
    #[command(alias = "up")]
    Update(Box<UpdateArgs>),

    /// Roll an app back to its previous revision (or `--to N`), instance by instance
    #[command(alias = "rb")]
    Rollback(RollbackArgs),

    /// Replace an app's instances with new ones of the same revision, one at a time
    #[command(alias = "rs")]
    Restart(RestartArgs),

    /// List an app's revisions: number, time, what changed, image, outcome
    #[command(alias = "hi")]
    History(HistoryArgs),

    /// Remove apps and their instances
    #[command(alias = "rm")]
    Remove(RemoveArgs),

    /// A shell or a command in an instance, or a local port forwarded to it
    Ssh(SshArgs),

    /// List the named volumes: size and the apps that mount them
    #[command(alias = "vo")]
    Volumes(VolumesArgs),

    /// Run a one-off command with an app's image, environment and limits (not routed)
    ///
    /// The command gets ltc's stdin, and its stdout and stderr come back apart, byte for byte;
    /// on a terminal it gets one (`ltc run APP -- sh`). ltc exits with its status and leaves
    /// nothing behind; Ctrl-C stops it.
    Run(RunArgs),

    /// Submit a one-off task from a Lattice task JSON file
    #[command(alias = "su")]
    SubmitTask(SubmitTaskArgs),

    /// Show a task (or every task)
    #[command(alias = "tk")]
    Task(TaskArgs),

    /// Stop a pending or running task
    #[command(alias = "ct")]
    CancelTask(TaskGuidArgs),

    /// Cancel a task if it still runs, and forget it
    #[command(alias = "dt")]
    DeleteTask(TaskGuidArgs),

    /// List the apps
    #[command(alias = "ls")]
    List,

    /// Show an app's settings and its instances
    #[command(alias = "st")]
    Status(StatusArgs),

    /// Show this machine as Lattice showed a cell: memory, CPUs, instances
    #[command(alias = "ce")]
    Cells,

    /// Show the local certificate authority HTTPS uses, and how to trust it
    Ca,

    /// Show where instances run: a dot per instance, green running, yellow starting
    #[command(alias = "vz")]
    Visualize(VisualizeArgs),

    /// Stream an app's logs: every instance, its lifecycle, health checks and router lines
    #[command(alias = "lg")]
    Logs(LogsArgs),

    /// Stream the node's own log
    #[command(alias = "dl")]
    DebugLogs(DebugLogsArgs),

    /// Stream lifecycle events (app created, instance crashed, route added, ...)
    #[command(alias = "ev")]
    Events(EventsArgs),

    /// Run Lattice's integration test against this machine: create, route, logs, scale, TCP, remove
    #[command(alias = "te")]
    Test(TestArgs),

    /// Show the versions of ltc, its node and the Docker engine
    #[command(alias = "vr")]
    Version,

    /// Run, start, stop or check the node that keeps apps converged
    Daemon(DaemonArgs),

    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish)
    Completions(CompletionsArgs),

    /// Show the commands by topic, or one command's help
    #[command(alias = "h")]
    Help(HelpArgs),
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// Print the lines kept so far and exit, instead of following
    #[arg(long)]
    pub recent: bool,

    /// Start with the last N lines kept so far
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,

    /// Only the lines of this instance
    #[arg(long, value_name = "N")]
    pub index: Option<u32>,
}

#[derive(Debug, Args)]
pub struct DebugLogsArgs {
    /// Plain lines, without colour
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this app's events
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// How long the whole test may take
    #[arg(short, long, default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Say what each step is waiting for
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct HelpArgs {
    /// The command to explain
    pub command: Option<String>,
}

/// The commands by topic, as Lattice's `ltc help` grouped them.
pub const GROUPS: [(&str, &[&str]); 8] = [
    ("TARGET", &["target"]),
    (
        "MANAGE APPS",
        &[
            "create", "scale", "update", "rollback", "restart", "history", "remove",
        ],
    ),
    ("INSIDE INSTANCES", &["ssh", "run", "volumes"]),
    (
        "TASKS",
        &["submit-task", "task", "cancel-task", "delete-task"],
    ),
    (
        "SEE WHAT'S RUNNING",
        &["list", "status", "visualize", "cells", "events"],
    ),
    ("STREAM LOGS", &["logs", "debug-logs"]),
    ("ADVANCED", &["daemon", "ca", "completions"]),
    ("HELP AND DEBUG", &["help", "version", "test"]),
];

/// `ltc help`: the commands under their topics, then the global options and exit codes.
pub fn grouped_help() -> String {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut text = format!(
        "ltc {}\n{}\n\nUsage: ltc [--json] [--quiet] <COMMAND> [ARGS]...\n",
        env!("CARGO_PKG_VERSION"),
        command
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
    for (topic, names) in GROUPS {
        text.push_str(&format!("\n{topic}\n"));
        for name in names {
            let Some(sub) = command.find_subcommand(name) else {
                continue;
            };
            // Aliases are hidden from completion (so `s<TAB>` offers names, not `sc st`) but
            // listed here.
            let aliases: Vec<&str> = sub.get_all_aliases().collect();
            let label = match aliases.as_slice() {
                [] => name.to_string(),
                aliases => format!("{name}, {}", aliases.join(", ")),
            };
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            text.push_str(&format!("  {label:<18}{about}\n"));
        }
    }
    text.push_str(
        "\nGLOBAL OPTIONS\n  --json            results as JSON on stdout, errors as JSON on stderr\n  \
         -q, --quiet       only results and errors\n\nRun `ltc help COMMAND` or `ltc COMMAND --help` for a command's options.\n\n",
    );
    text.push_str(EXIT_CODES);
    text.push('\n');
    text
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: clap_complete::Shell,

    /// Install the script where the shell looks for it, and the man pages where `man` does,
    /// for this user (bash, zsh and fish)
    #[arg(long)]
    pub install: bool,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The system domain, e.g. 127.0.0.1.xip.io; apps get <app>.<domain>
    pub domain: Option<String>,

    /// The engine to drive: `docker` (one machine) or `swarm` (every machine of the Docker
    /// Swarm whose manager DOCKER_HOST names). Only with no apps; the node restarts on it
    #[arg(long, value_enum)]
    pub engine: Option<EngineChoice>,

    /// The registry (HOST:PORT) that carries local and built images to a swarm's machines;
    /// "" for none (instances then stay on the manager's machine)
    #[arg(long, value_name = "HOST:PORT")]
    pub registry: Option<String>,
}

/// `ltc target --engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    Docker,
    Swarm,
}

impl From<EngineChoice> for model::EngineKind {
    fn from(choice: EngineChoice) -> Self {
        match choice {
            EngineChoice::Docker => model::EngineKind::Docker,
            EngineChoice::Swarm => model::EngineKind::Swarm,
        }
    }
}

/// Parses `-e NAME=VALUE` or `-e NAME`.
fn parse_env(text: &str) -> Result<EnvArg, String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (text, None),
    };
    model::validate_env_name(name).map_err(|e| e.message)?;
    Ok(EnvArg {
        name: name.to_string(),
        value,
    })
}

fn parse_port(text: &str) -> Result<u16, String> {
    model::parse_port(text).map_err(|e| e.message)
}

fn parse_instances(text: &str) -> Result<u32, String> {
    let count: u32 = text.parse().map_err(|_| {
        format!(
            "`{text}` is not a number of instances: use a whole number from 0 to {}",
            model::MAX_INSTANCES
        )
    })?;
    model::validate_instances(count).map_err(|e| e.message)?;
    Ok(count)
}

/// Parses `2m`, `90s`, `500ms`, or plain seconds.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|_| format!("`{text}` is not a duration like 2m, 90s or 500ms"))
}

/// What the running node lists at `path`, for shell completion. It never starts a node and
/// gives nothing when none answers within two seconds.
fn listed_by_node<T: serde::de::DeserializeOwned>(path: &str) -> Vec<T> {
    let Ok(settings) = crate::config::Settings::from_env() else {
        return Vec::new();
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    runtime.block_on(async {
        let client = crate::client::Client::new(&settings);
        tokio::time::timeout(std::time::Duration::from_secs(2), async {
            if !client.ping().await.unwrap_or(false) {
                return Vec::new();
            }
            client.get::<Vec<T>>(path).await.unwrap_or_default()
        })
        .await
        .unwrap_or_default()
    })
}

/// Names of the apps of the running node, for shell completion.
fn app_names() -> Vec<CompletionCandidate> {
    listed_by_node::<model::AppStatus>("/v1/apps")
        .into_iter()
        .map(|app| CompletionCandidate::new(app.name))
        .collect()
}

/// Instance indices, for shell completion: 0 up to the most instances any app has.
fn instance_indices() -> Vec<CompletionCandidate> {
    let most = listed_by_node::<model::AppStatus>("/v1/apps")
        .iter()
        .map(|app| app.desired_instances)
        .max()
        .unwrap_or(1);
    (0..most.max(1))
        .map(|i| CompletionCandidate::new(i.to_string()))
        .collect()
}

/// Guids of the running node's tasks, for shell completion.
fn task_guids() -> Vec<CompletionCandidate> {
    listed_by_node::<model::Task>("/v1/tasks")
        .into_iter()
        .map(|task| CompletionCandidate::new(task.task_guid))
        .collect()
}

/// Images the engine has locally, and the built-in app's name, for shell completion of IMAGE.
/// Asks the engine directly (no node is started), for at most two seconds.
fn image_names() -> Vec<CompletionCandidate> {
    use crate::engine::Engine;
    let mut names = vec![CompletionCandidate::new(model::LATTICE_APP_IMAGE)];
    let Ok(settings) = crate::config::Settings::from_env() else {
        return names;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return names;
    };
    let engine = crate::engine::docker::DockerEngine::new(&settings.docker_host);
    let local = runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(2), engine.image_names())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    });
    names.extend(
        local
            .into_iter()
            .filter(|name| !name.starts_with("ltc/"))
            .map(CompletionCandidate::new),
    );
    names
}

/// `--wait` (the default, as in Lattice) or `--no-wait`.
#[derive(Debug, Clone, Copy, Args)]
pub struct WaitArgs {
    /// Wait until the change is done (the default)
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Return as soon as the node has accepted the change
    #[arg(long)]
    pub no_wait: bool,
}

impl WaitArgs {
    pub fn waits(&self) -> bool {
        !self.no_wait
    }
}

/// `-e NAME=VALUE`, or a bare `-e NAME` whose value comes from the caller's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvArg {
    pub name: String,
    pub value: Option<String>,
}

impl EnvArg {
    /// Resolves a bare name with `lookup` (the caller's environment; "" when unset).
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> EnvVar {
        EnvVar {
            name: self.name.clone(),
            value: self
                .value
                .clone()
                .unwrap_or_else(|| lookup(&self.name).unwrap_or_default()),
        }
    }
}

/// An app's routes, as `create` and `update` take them.
#[derive(Debug, Clone, Args)]
pub struct RouteArgs {
    /// HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the
    /// default routes]
    #[arg(short = 'R', long = "http-route", value_name = "HOST[:PORT]")]
    pub http_routes: Vec<String>,

    /// TCP route EXTERNAL[:PORT], opened on the router's address
    #[arg(short = 'T', long = "tcp-route", value_name = "EXTERNAL[:PORT]")]
    pub tcp_routes: Vec<String>,

    /// No routes [update: removes every route]
    #[arg(long, conflicts_with_all = ["http_routes", "tcp_routes"])]
    pub no_routes: bool,
}

impl RouteArgs {
    /// The request the node takes for these flags.
    pub fn request(&self) -> crate::model::RouteRequest {
        crate::model::RouteRequest {
            http_routes: self.http_routes.clone(),
            tcp_routes: self.tcp_routes.clone(),
            no_routes: self.no_routes,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The app's name: a lowercase DNS label (letters, digits, '-'), at most 50 characters
    pub name: String,

    /// The Docker image; without one, the built-in lattice-app (also `cloudfoundry/lattice-app`).
    /// A path starting with `.` or `/` is a directory to build, as with `--path`
    #[arg(add = ArgValueCandidates::new(image_names))]
    pub image: Option<String>,

    #[command(flatten)]
    pub build: BuildArgs,

    /// Environment variables from a file, as `docker run --env-file` reads it (`-e` wins)
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,

    /// Mount a named volume (kept across restarts, shared by the instances) or a directory
    /// of this machine: NAME:/PATH[:ro] or /HOST/DIR:/PATH[:ro]
    #[arg(long = "volume", short_alias = 'v', value_name = "SOURCE:/PATH[:ro]")]
    pub volumes: Vec<String>,

    /// The start command and its arguments, after `--` (replaces ENTRYPOINT and CMD)
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,

    /// Number of instances
    #[arg(short, long, default_value_t = 1, value_parser = parse_instances)]
    pub instances: u32,

    /// Ports the app listens on, comma separated [default: the image's EXPOSE, else 8080]
    #[arg(short, long, value_delimiter = ',', value_parser = parse_port)]
    pub ports: Vec<u16>,

    /// Environment variable NAME=VALUE; a bare NAME copies its value from your environment
    #[arg(short, long = "env", value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub env: Vec<EnvArg>,

    /// Memory limit per instance in MB (0 = unlimited)
    #[arg(short, long, default_value_t = 128)]
    pub memory_mb: u64,

    /// Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)
    #[arg(short, long, default_value_t = 0)]
    pub disk_mb: u64,

    /// Relative CPU weight, 1 to 100
    #[arg(short, long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub cpu_weight: u8,

    /// Most processes and threads per instance (0 = unlimited), so a fork bomb stays inside
    #[arg(long, default_value_t = crate::model::DEFAULT_PIDS_LIMIT)]
    pub pids_limit: u32,

    /// Working directory [default: the image's WORKDIR, else /]
    #[arg(short, long)]
    pub working_dir: Option<String>,

    /// User to run as [default: the image's USER, else root]
    #[arg(short, long)]
    pub user: Option<String>,

    /// Run privileged (the app can break out of its container)
    #[arg(long)]
    pub privileged: bool,

    #[command(flatten)]
    pub routes: RouteArgs,

    /// Check that this port listens [default: the lowest port]
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
    #[arg(long, default_value = "1s", value_parser = parse_timeout)]
    pub monitor_timeout: Duration,

    /// How long a new instance may take to pass its first check before its start counts as a
    /// crash (and is retried with the crash backoff)
    #[arg(long, default_value = "60s", value_parser = parse_timeout)]
    pub start_timeout: Duration,

    #[command(flatten)]
    pub edge: deploy::EdgeArgs,

    /// How long to wait for every instance to run (2m, 90s, ...)
    #[arg(short, long, default_value = "2m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// The number of instances (0 stops the app and keeps it)
    #[arg(value_parser = parse_instances, allow_negative_numbers = true)]
    pub instances: u32,

    /// How long to wait for the app to reach that number
    #[arg(short, long, default_value = "2m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The apps to remove
    #[arg(required = true, add = ArgValueCandidates::new(app_names))]
    pub names: Vec<String>,

    /// Remove their named volumes too (those no other app mounts); kept otherwise
    #[arg(long)]
    pub volumes: bool,

    /// How long to wait for each app's instances to stop
    #[arg(short, long, default_value = "1m", value_parser = parse_timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// One block per instance: guid, container, ports, crashes, next restart, CPU, memory
    #[arg(short, long, conflicts_with = "rate")]
    pub detailed: bool,

    /// Redraw every DURATION until Ctrl-C (needs a terminal)
    #[arg(short, long, value_name = "DURATION", value_parser = parse_timeout)]
    pub rate: Option<Duration>,

    /// Show environment values (only names are shown otherwise; `--json` always has both)
    #[arg(long)]
    pub show_env: bool,
}

#[derive(Debug, Args)]
pub struct VisualizeArgs {
    /// Redraw every DURATION until Ctrl-C (needs a terminal)
    #[arg(short, long, value_name = "DURATION", value_parser = parse_timeout)]
    pub rate: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub command: DaemonCommand,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run the node in the foreground (for systemd and the like)
    Run,
    /// Start the node in the background, unless it already runs
    Start {
        /// How long to wait for the node to answer
        #[arg(short, long, default_value = "10s", value_parser = parse_timeout)]
        timeout: Duration,
    },
    /// Replace the running node with a new one (e.g. after an upgrade) without refusing a
    /// connection: the new node takes the router's sockets over before the old one stops
    Restart {
        /// How long to wait for the new node to answer
        #[arg(short, long, default_value = "30s", value_parser = parse_timeout)]
        timeout: Duration,
    },
    /// Stop the node: apps keep running, but routing stops until a node runs again
    Stop {
        /// How long to wait for the node to exit
        #[arg(short, long, default_value = "15s", value_parser = parse_timeout)]
        timeout: Duration,
    },
    /// Say whether the node runs
    Status,
    /// Run the node as a systemd service: at boot (or login), restarted when it exits
    Install {
        /// A system unit (/etc/systemd/system) rather than this user's
        #[arg(long)]
        system: bool,
        /// Print the unit instead of installing it
        #[arg(long)]
        print: bool,
    },
    /// Remove the systemd service (its node stops, and with it routing)
    Uninstall {
        /// The system unit rather than this user's
        #[arg(long)]
        system: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_a_topic_in_help() {
        let command = Cli::command();
        let grouped: Vec<&str> = GROUPS
            .iter()
            .flat_map(|(_, names)| names.iter().copied())
            .collect();
        for sub in command.get_subcommands() {
            assert!(
                grouped.contains(&sub.get_name()),
                "{} has no topic",
                sub.get_name()
            );
        }
        let help = grouped_help();
        assert!(
            help.contains("MANAGE APPS") && help.contains("  scale, sc"),
            "{help}"
        );
    }

    #[test]
    fn env_arguments_parse_and_bare_names_copy_the_callers_value() {
        let arg = parse_env("FOO=a=b").unwrap();
        assert_eq!(arg.resolve(|_| None).value, "a=b");
        let bare = parse_env("HOME").unwrap();
        assert_eq!(bare.resolve(|_| Some("/root".into())).value, "/root");
        assert_eq!(bare.resolve(|_| None).value, "");
        assert!(parse_env("=x").is_err());
        assert!(parse_env("1X=y").is_err());
    }

    #[test]
    fn timeouts_take_units_or_seconds() {
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_timeout("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn instance_counts_are_whole_and_bounded() {
        assert_eq!(parse_instances("0").unwrap(), 0);
        assert!(parse_instances("-1").is_err());
        assert!(parse_instances("two").is_err());
        assert!(parse_instances("100000").is_err());
    }
}
