//! The arguments of what goes into instances: `ssh`, `run`, Lattice's tasks and `volumes`.

use super::{EnvArg, app_names, instance_indices, parse_env, task_guids};
use clap::Args;
use clap_complete::engine::ArgValueCandidates;

#[derive(Debug, Args)]
pub struct SshArgs {
    /// The app
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// The command and its arguments, after `--` [default: an interactive shell]
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,

    /// The instance
    #[arg(short, long, default_value_t = 0, value_name = "N",
          add = ArgValueCandidates::new(instance_indices))]
    pub index: u32,

    /// Forward [BIND:]LOCAL_PORT to INSTANCE_PORT of the instance (one of the app's ports)
    #[arg(short = 'L', value_name = "[BIND:]LOCAL_PORT:INSTANCE_PORT")]
    pub forward: Vec<String>,

    /// Forward ports only: run no command (with -L)
    #[arg(short = 'N', requires = "forward")]
    pub no_command: bool,

    /// Give the command a terminal even when ltc's input is not one
    #[arg(short = 't', conflicts_with = "no_tty")]
    pub tty: bool,

    /// No terminal: stdin, stdout and stderr pass through as plain streams
    #[arg(short = 'T')]
    pub no_tty: bool,
}

#[derive(Debug, Args)]
pub struct VolumesArgs {
    /// Remove this named volume (no app may mount it)
    #[arg(long, value_name = "NAME")]
    pub remove: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The app whose image and settings the command runs with
    #[arg(add = ArgValueCandidates::new(app_names))]
    pub name: String,

    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,

    /// Set an environment variable NAME=VALUE over the app's (a bare NAME copies yours)
    #[arg(short, long = "env", value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub env: Vec<EnvArg>,

    /// Print the task's guid and return; `ltc logs GUID` and `ltc task GUID` follow it
    #[arg(short, long)]
    pub detach: bool,

    /// Give the command a terminal even when ltc's input or output is not one
    #[arg(short = 't', conflicts_with = "no_tty")]
    pub tty: bool,

    /// No terminal: stdin, stdout and stderr pass through as plain streams
    #[arg(short = 'T')]
    pub no_tty: bool,
}

#[derive(Debug, Args)]
pub struct SubmitTaskArgs {
    /// The task's JSON (Lattice's: task_guid, rootfs, action.run.path and args, env, ...)
    #[arg(value_hint = clap::ValueHint::FilePath)]
    pub file: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The task's guid [default: every task]
    #[arg(add = ArgValueCandidates::new(task_guids))]
    pub guid: Option<String>,
}

#[derive(Debug, Args)]
pub struct TaskGuidArgs {
    /// The task's guid
    #[arg(add = ArgValueCandidates::new(task_guids))]
    pub guid: String,
}
