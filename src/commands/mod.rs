//! One module per subcommand: its `run` function is glue between the CLI arguments, the node
//! API ([`crate::client`]) and the printer ([`crate::ui`]).

mod ca;
mod create;
mod daemon;
mod list;
mod logs;
mod remove;
mod run;
mod scale;
mod selftest;
mod service;
mod ssh;
mod status;
mod target;
mod tasks;
mod update;
mod version;
mod visualize;
mod wait;

use crate::cli::Command;
use crate::config::Settings;
use crate::error::Result;
use crate::ui::Ui;

pub async fn dispatch(command: Command, settings: &Settings, ui: &Ui) -> Result<()> {
    match command {
        Command::Target(args) => target::run(args, settings, ui).await,
        Command::Create(args) => create::run(*args, settings, ui).await,
        Command::Scale(args) => scale::run(args, settings, ui).await,
        Command::Update(args) => update::run(*args, settings, ui).await,
        Command::Rollback(args) => update::rollback(args, settings, ui).await,
        Command::Restart(args) => update::restart(args, settings, ui).await,
        Command::History(args) => update::history(args, settings, ui).await,
        Command::Remove(args) => remove::run(args, settings, ui).await,
        Command::Ssh(args) => ssh::run(args, settings, ui).await,
        Command::Volumes(args) => tasks::volumes(args, settings, ui).await,
        Command::Run(args) => run::run(args, settings, ui).await,
        Command::SubmitTask(args) => tasks::submit(args, settings, ui).await,
        Command::Task(args) => tasks::show(args, settings, ui).await,
        Command::CancelTask(args) => tasks::cancel(args, settings, ui).await,
        Command::DeleteTask(args) => tasks::delete(args, settings, ui).await,
        Command::List => list::run(settings, ui).await,
        Command::Status(args) => status::run(args, settings, ui).await,
        Command::Version => version::run(settings, ui).await,
        Command::Cells => visualize::cells(settings, ui).await,
        Command::Ca => ca::run(settings, ui).await,
        Command::Test(args) => selftest::run(args, settings, ui).await,
        Command::Visualize(args) => visualize::run(args, settings, ui).await,
        Command::Logs(args) => logs::logs(args, settings, ui).await,
        Command::DebugLogs(args) => logs::debug_logs(args, settings, ui).await,
        Command::Events(args) => logs::events(args, settings, ui).await,
        Command::Daemon(args) => daemon::run(args.command, settings, ui).await,
        Command::Help(args) => help(args.command.as_deref(), ui),
        Command::Completions(args) if args.install => {
            for path in crate::generate::install(args.shell)? {
                ui.out(path.display());
            }
            Ok(())
        }
        Command::Completions(args) => {
            ui.out_bytes(&crate::generate::completions(args.shell));
            Ok(())
        }
    }
}

/// The path of an app in the node API.
fn app_path(name: &str) -> String {
    format!("/v1/apps/{name}")
}

/// `ltc help [COMMAND]`.
fn help(command: Option<&str>, ui: &Ui) -> Result<()> {
    use clap::CommandFactory;
    let Some(name) = command else {
        ui.out(crate::with_router_address(&crate::cli::grouped_help()).trim_end());
        return Ok(());
    };
    let mut cli = crate::cli::Cli::command();
    let found = cli
        .get_subcommands_mut()
        .find(|sub| sub.get_name() == name || sub.get_all_aliases().any(|a| a == name));
    match found {
        Some(sub) => {
            let mut sub = sub.clone().bin_name(format!("ltc {}", sub.get_name()));
            ui.out(sub.render_long_help().to_string().trim_end());
            Ok(())
        }
        None => Err(crate::error::Error::usage(format!(
            "'{name}' is not a registered command. See 'ltc help'"
        ))),
    }
}

/// `--rate` redraws in place, which only a terminal can show.
fn require_terminal(ui: &Ui) -> Result<()> {
    if ui.out_is_terminal && !ui.json {
        return Ok(());
    }
    Err(crate::error::Error::usage(
        "--rate redraws in place and needs a terminal (and no --json); run the command repeatedly instead",
    ))
}

/// Clears the terminal and moves to its top left, for a redraw.
/// Resolves on Ctrl-C (SIGINT), SIGTERM or SIGHUP: what a user, a CI timeout or a closed
/// terminal sends to stop a command.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}
