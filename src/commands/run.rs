//! `ltc run APP -- CMD`: a one-off container with the app's image and settings, as Heroku's
//! `run`. On one Docker engine ltc attaches to the container before it starts, so the command
//! gets ltc's stdin, its stdout and stderr arrive apart and byte for byte, and on a terminal it
//! gets a real one (`ltc run APP -- sh`). With `--json`, or on a swarm (whose services cannot
//! be attached to), the output is read from the task's log instead, a line at a time.
//!
//! Either way ltc exits with the command's status and leaves nothing behind; an interrupted
//! run (Ctrl-C without a terminal, SIGTERM, SIGHUP) stops its container.

use super::tasks::task_path;
use super::{app_path, ssh};
use crate::cli::RunArgs;
use crate::client::{self, Client};
use crate::config::Settings;
use crate::engine::docker::DockerEngine;
use crate::error::{Error, Kind, Result};
use crate::model::TaskState;
use crate::model::{AppName, EngineKind, LogLine, RunAttach, RunRequest, TASK_END_SOURCE, Task};
use crate::ui::{Ui, terminal};
use hyper::Method;
use std::io::IsTerminal;
use std::time::Duration;

pub async fn run(args: RunArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let client = client::connect(settings, ui).await?;
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let tty = !args.no_tty && (args.tty || interactive);
    let engine = match args.detach || ui.json {
        true => None,
        false => attachable_engine(&client, settings).await?,
    };
    let request = RunRequest {
        command: args.command.clone(),
        env: args
            .env
            .iter()
            .map(|e| e.resolve(|n| settings.caller_var(n)))
            .collect(),
        attach: engine.as_ref().map(|_| RunAttach { tty }),
    };
    let path = format!("{}/tasks", app_path(name.as_str()));
    let (task, _): (Task, u64) = client.call(Method::POST, &path, Some(&request)).await?;
    let guid = task.task_guid.clone();
    if args.detach {
        if ui.json {
            ui.json(&task);
        } else {
            ui.note(format!(
                "Running `{}` as task {guid}",
                args.command.join(" ")
            ));
            ui.out(&guid);
        }
        return Ok(());
    }
    let ran = tokio::select! {
        ran = async {
            match &engine {
                Some(engine) => attached(&client, engine, &guid, tty).await,
                None => follow(&client, &guid, ui).await.map(|()| true),
            }
        } => ran,
        () = super::interrupted() => Err(Error::new(Kind::Interrupted, "interrupted")),
    };
    let task: Result<Task> = match &ran {
        Ok(true) => ended(&client, &guid).await,
        Ok(false) => Err(Error::new(Kind::Interrupted, "output closed")),
        Err(e) => Err(e.clone()),
    };
    // `ltc run` leaves nothing behind: the task goes with its container (stopped if it runs).
    let _ = client
        .call::<Task>(Method::DELETE, &task_path(&guid), None::<&()>)
        .await;
    // Whoever read the output has all they wanted (`ltc run APP -- CMD | head`).
    if !ran? {
        return Ok(());
    }
    let task = task?;
    if ui.json {
        ui.json(&task);
    }
    match (task.exit_code, task.failed) {
        (Some(0), _) | (None, false) => Ok(()),
        (Some(code), _) => Err(Error::exited(code as i32)),
        (None, true) => Err(Error::failed(format!(
            "task {guid} failed: {}",
            task.failure_reason
        ))),
    }
}

/// The node's engine when ltc can attach to its containers: one Docker engine, not a swarm.
async fn attachable_engine(client: &Client, settings: &Settings) -> Result<Option<DockerEngine>> {
    let endpoint = ssh::engine_endpoint(client, settings).await?;
    let kind = crate::node::engine_for(&settings.paths, &endpoint)?.kind();
    Ok((kind == EngineKind::Docker).then(|| DockerEngine::new(&endpoint)))
}

/// Attaches to the task's container, which waits for it, starts it, and joins ltc's streams to
/// the command's until its output ends; whether it was read to its end (see [`ssh::pump`]).
async fn attached(client: &Client, engine: &DockerEngine, guid: &str, tty: bool) -> Result<bool> {
    let container = loop {
        let task: Task = client.get(&task_path(guid)).await?;
        match (task.state, task.container_id) {
            (TaskState::Completed, _) => return Ok(true),
            (TaskState::Running, Some(id)) => break id,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let session = engine.attach_session(&container).await?;
    let (task, _): (Task, u64) = client
        .call(
            Method::POST,
            &format!("{}/attached", task_path(guid)),
            None::<&()>,
        )
        .await?;
    if task.state == TaskState::Completed {
        return Ok(true);
    }
    let size = tty.then(|| terminal::size().unwrap_or((80, 24)));
    ssh::pump(engine, session, size).await
}

/// Prints a task's output as its log has it until the log says it ended.
async fn follow(client: &Client, guid: &str, ui: &Ui) -> Result<()> {
    let mut ended = false;
    let path = format!("{}/logs?tail=100000", task_path(guid));
    client
        .stream_until(Method::GET, &path, &(), |line: LogLine| {
            if line.source == TASK_END_SOURCE {
                ended = true;
                return false;
            }
            match (line.source.as_str(), ui.json) {
                (_, true) => ui.out(serde_json::to_string(&line).expect("serialisable")),
                ("APP", false) => ui.out(&line.message),
                _ => {}
            }
            true
        })
        .await?;
    if ended {
        Ok(())
    } else {
        Err(Error::failed(
            "the ltc node stopped sending the task's output",
        ))
    }
}

/// The task once the node has recorded its end (its exit status, or why it failed).
async fn ended(client: &Client, guid: &str) -> Result<Task> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let late = tokio::time::Instant::now() >= deadline;
        match client.get::<Task>(&task_path(guid)).await {
            Ok(task) if task.state == TaskState::Completed || late => return Ok(task),
            Err(e) if late || e.kind == Kind::NotFound => return Err(e),
            // A node restarted meanwhile (`ltc daemon restart`) answers again in a moment, and
            // finishes the task it adopted.
            Ok(_) | Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
