//! One module per subcommand: its `run` function is glue between the CLI arguments, the node
//! API ([`crate::client`]) and the printer ([`crate::ui`]).

mod create;
mod daemon;
mod list;
mod remove;
mod scale;
mod status;
mod target;
mod update;
mod version;
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
        Command::Update(args) => update::run(args, settings, ui).await,
        Command::Remove(args) => remove::run(args, settings, ui).await,
        Command::List => list::run(settings, ui).await,
        Command::Status(args) => status::run(args, settings, ui).await,
        Command::Version => version::run(settings, ui).await,
        Command::Daemon(args) => daemon::run(args.command, settings, ui).await,
    }
}

/// The path of an app in the node API.
fn app_path(name: &str) -> String {
    format!("/v1/apps/{name}")
}
