//! ltc: Cloud Foundry Lattice reborn as one binary for one machine.
//!
//! Crate map, in the order a request flows:
//! - [`cli`]: the command line (clap); [`commands`]: one module per subcommand, glue only.
//! - [`client`]: the CLI's side of the node API over a Unix socket, and node auto-start.
//! - [`node`]: the long-running process that owns desired state ([`node::store`]), converges
//!   the engine to it ([`node::converge`]) and serves the API ([`node::api`]).
//! - [`router`]: the HTTP and TCP reverse proxy inside the node, fed by its route table.
//! - [`engine`]: the container engine in ltc's words; Docker over bollard, and a fake.
//! - [`demo`]: the built-in lattice-app image. [`model`]: names, specs and wire types.
//! - [`ui`]: everything that prints. [`error`]: errors and the exit-code table.
//! - [`config`]: the one place environment variables are read. [`generate`]: completions and
//!   man pages from the command-line definition.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod generate;
pub mod logging;
pub mod model;
pub mod node;
pub mod router;
pub mod ui;

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use error::{Error, Kind};
use std::ffi::OsString;

/// Runs ltc with these arguments and returns the process exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    // A shell asking for completions (`source <(COMPLETE=bash ltc)` registers it): answer and
    // stop. App names come from the running node.
    {
        use clap::CommandFactory;
        let current_dir = std::env::current_dir().ok();
        match clap_complete::CompleteEnv::with_factory(cli::Cli::command)
            .try_complete(args.clone(), current_dir.as_deref())
        {
            Ok(true) => return 0,
            Ok(false) => {}
            Err(e) => {
                let _ = e.print();
                return Kind::Usage.exit_code();
            }
        }
    }
    let wants_json = args.iter().any(|a| a == "--json");
    if args.len() <= 1 {
        // A bare `ltc`: the topics, as a usage error for scripts.
        eprint!("{}", with_router_address(&cli::grouped_help()));
        return Kind::Usage.exit_code();
    }
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &args, wants_json),
    };
    let settings = match config::Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            ui::Ui::plain(cli.json).error(&e);
            return e.exit_code();
        }
    };
    let ui = ui::Ui::new(&settings, cli.json, cli.quiet);
    let is_node = matches!(
        &cli.command,
        cli::Command::Daemon(cli::DaemonArgs {
            command: cli::DaemonCommand::Run
        })
    );
    let runtime = if is_node {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            let error = Error::failed(format!("cannot start the async runtime: {e}"));
            ui.error(&error);
            return error.exit_code();
        }
    };
    // `ltc test` and `ltc run` handle Ctrl-C themselves, to remove what they made first.
    let handles_interrupt = matches!(&cli.command, cli::Command::Test(_))
        || matches!(&cli.command, cli::Command::Run(a) if !a.detach);
    // Following a stream ends with Ctrl-C, and that is success.
    let streaming = matches!(
        &cli.command,
        cli::Command::Logs(_) | cli::Command::DebugLogs(_) | cli::Command::Events(_)
    ) || matches!(&cli.command, cli::Command::Status(a) if a.rate.is_some())
        || matches!(&cli.command, cli::Command::Ssh(a) if a.no_command)
        || matches!(&cli.command, cli::Command::Visualize(a) if a.rate.is_some());
    let result = runtime.block_on(async {
        tokio::select! {
            result = commands::dispatch(cli.command, &settings, &ui) => result,
            _ = tokio::signal::ctrl_c(), if !is_node && !handles_interrupt => {
                if streaming {
                    Ok(())
                } else {
                    Err(Error::new(Kind::Interrupted, "interrupted"))
                }
            }
        }
    });
    // Do not wait for background tasks (a stream left open by an interrupted command).
    runtime.shutdown_background();
    match result {
        Ok(()) => 0,
        Err(e) => {
            if !matches!(e.kind, Kind::Interrupted | Kind::Exited) {
                ui.error(&e);
            }
            e.exit_code()
        }
    }
}

/// The command (or alias) closest to a mistyped one, if any is close enough.
fn suggest_command(typed: &str) -> Option<String> {
    use clap::CommandFactory;
    let command = cli::Cli::command();
    let names = command.get_subcommands().flat_map(|sub| {
        std::iter::once(sub.get_name().to_string())
            .chain(sub.get_visible_aliases().map(str::to_string))
            .map(move |alias| (alias, sub.get_name().to_string()))
    });
    names
        .map(|(alias, name)| (edit_distance(typed, &alias), name))
        .filter(|(distance, _)| *distance <= 2.max(typed.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance, for did-you-mean suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Turns a clap error into ltc's usage error (exit 13), or prints help/version (exit 0).
/// Help text with the router's address as this environment sets it (`LTC_ROUTER_ADDR`), not the
/// default the generated man pages show.
pub fn with_router_address(help: &str) -> String {
    let default = config::DEFAULT_ROUTER_ADDR
        .rsplit_once(':')
        .map_or("8080", |(_, port)| port);
    let port = config::Settings::from_env()
        .map(|s| s.router_addr.port())
        .unwrap_or(8080);
    let url = match port {
        80 => "localhost".to_string(),
        port => format!("localhost:{port}"),
    };
    help.replace(&format!("localhost:{default}"), &url)
}

/// `Usage: ltc scale [OPTIONS] <NAME> <INSTANCES>`: a subcommand's (or ltc's) usage as the
/// help shows it, whatever flags the failed command line had.
fn usage_line(subcommand: &str) -> Option<String> {
    use clap::CommandFactory;
    let mut command = cli::Cli::command();
    let usage = match command.find_subcommand_mut(subcommand) {
        Some(sub) => {
            let mut sub = sub.clone().bin_name(format!("ltc {}", sub.get_name()));
            sub.render_usage()
        }
        None => command.render_usage(),
    };
    let text = usage.to_string();
    let line = text.lines().next()?.trim().to_string();
    Some(if line.starts_with("Usage:") {
        line
    } else {
        format!("Usage: {line}")
    })
}

fn usage_error(error: clap::Error, args: &[OsString], json: bool) -> i32 {
    match error.kind() {
        ErrorKind::DisplayHelp => {
            print!("{}", with_router_address(&error.render().to_string()));
            return 0;
        }
        ErrorKind::DisplayVersion => {
            let _ = error.print();
            return 0;
        }
        _ => {}
    }
    let subcommand = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let message = match error.kind() {
        ErrorKind::InvalidSubcommand => {
            let name = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            let mut text = format!("'{name}' is not a registered command. See 'ltc help'");
            if let Some(suggestion) = suggest_command(&name) {
                text.push_str(&format!(" (did you mean '{suggestion}'?)"));
            }
            Some(text)
        }
        // clap echoes the whole `NAME=VALUE` of a bad `-e`: the value may be a secret.
        ErrorKind::ValueValidation
            if context(ContextKind::InvalidArg).is_some_and(|a| a.starts_with("--env")) =>
        {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            let rendered = error.to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let cause = first
                .split_once(&format!("for '{arg}': "))
                .map_or("", |(_, cause)| cause);
            Some(format!("invalid value for '{arg}': {cause}"))
        }
        ErrorKind::UnknownArgument if matches!(subcommand, "create" | "cr") => {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            (!arg.starts_with('-')).then(|| "'--' Required before start command".to_string())
        }
        _ => None,
    };
    let code = Kind::Usage.exit_code();
    match (message, json) {
        (Some(message), _) => {
            let mut e = Error::usage(message);
            if let Some(usage) = usage_line(subcommand) {
                e = e.with_hint(usage);
            }
            ui::Ui::plain(json).error(&e);
        }
        (None, true) => {
            // The same as without --json: the one-line error, and the usage as the hint.
            // clap's first paragraph, on one line: "... not provided: <INSTANCES>".
            let rendered = error.to_string();
            let first = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let mut e = Error::usage(first.trim_start_matches("error: ").to_string());
            if let Some(usage) = usage_line(subcommand) {
                e = e.with_hint(usage);
            }
            ui::Ui::plain(true).error(&e);
        }
        (None, false) => {
            let _ = error.print();
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_commands_get_the_closest_suggestion() {
        assert_eq!(suggest_command("creat").as_deref(), Some("create"));
        assert_eq!(suggest_command("lsit").as_deref(), Some("list"));
        assert_eq!(suggest_command("stauts").as_deref(), Some("status"));
        assert_eq!(suggest_command("frobnicate"), None);
    }
}
