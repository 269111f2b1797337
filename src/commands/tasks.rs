//! One-off tasks, Lattice's `submit-task`, `task`, `cancel-task` and `delete-task` (`ltc run`
//! is in `run.rs`), and `ltc volumes`.

use super::create;
use crate::cli::{SubmitTaskArgs, TaskArgs, TaskGuidArgs};
use crate::client;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::model::{EnvVar, ImageRequest, Task, TaskState};
use crate::model::{new_task, validate_guid};
use crate::ui::{Cell, Color, Ui};
use hyper::Method;

/// `ltc volumes [--remove NAME]`.
pub async fn volumes(args: crate::cli::VolumesArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    if let Some(name) = args.remove {
        let path = format!("/v1/volumes/{name}");
        let (removed, _): (serde_json::Value, u64) =
            client.call(Method::DELETE, &path, None::<&()>).await?;
        if ui.json {
            ui.json(&removed);
        } else {
            ui.out(ui.paint(Color::Green, "OK"));
        }
        return Ok(());
    }
    let volumes: Vec<crate::model::VolumeStatus> = client.get("/v1/volumes").await?;
    if ui.json {
        ui.json(&volumes);
        return Ok(());
    }
    if volumes.is_empty() {
        ui.out("No volumes to display.");
        return Ok(());
    }
    let mut rows = vec![
        ["Volume", "Size", "Apps", "Docker Volume"]
            .iter()
            .map(|h| Cell::colored(h, Color::Bold))
            .collect::<Vec<_>>(),
    ];
    for volume in &volumes {
        rows.push(vec![
            Cell::plain(&volume.name),
            Cell::plain(
                volume
                    .size_bytes
                    .map_or_else(|| "N/A".to_string(), crate::ui::format_bytes),
            ),
            Cell::plain(match volume.apps.is_empty() {
                true => "-".to_string(),
                false => volume.apps.join(", "),
            }),
            Cell::plain(&volume.docker_name),
        ]);
    }
    for line in crate::ui::table(ui, &rows) {
        ui.out(line.trim_end());
    }
    Ok(())
}

pub(super) fn task_path(guid: &str) -> String {
    format!("/v1/tasks/{guid}")
}

pub async fn submit(args: SubmitTaskArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::usage(format!("Error reading file {}: {e}", args.file.display())))?;
    let task = parse_task_file(&text)?;
    let client = client::connect(settings, ui).await?;
    create::prepare_image(
        &client,
        ImageRequest {
            image: Some(task.image.clone()),
            ..ImageRequest::default()
        },
        ui,
    )
    .await?;
    let (task, _): (Task, u64) = client.call(Method::POST, "/v1/tasks", Some(&task)).await?;
    if ui.json {
        ui.json(&task);
    } else {
        ui.out(ui.paint(
            Color::Green,
            format!("Successfully submitted {}", task.task_guid),
        ));
    }
    Ok(())
}

pub async fn show(args: TaskArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let Some(guid) = args.guid else {
        let tasks: Vec<Task> = client.get("/v1/tasks").await?;
        if ui.json {
            ui.json(&tasks);
        } else {
            print_tasks(ui, &tasks);
        }
        return Ok(());
    };
    validate_guid(&guid)?;
    let task: Task = client.get(&task_path(&guid)).await?;
    if ui.json {
        ui.json(&task);
        return Ok(());
    }
    let status = match (task.state, task.failed) {
        (TaskState::Completed, false) => Cell::colored(task.state.as_str(), Color::Green),
        (TaskState::Completed, true) => Cell::colored(task.state.as_str(), Color::Red),
        _ => Cell::colored(task.state.as_str(), Color::Yellow),
    };
    let mut rows = vec![
        vec![Cell::plain("Task GUID"), Cell::plain(&task.task_guid)],
        vec![Cell::plain("Cell ID"), Cell::plain(&task.cell_id)],
        vec![Cell::plain("Status"), status],
        vec![Cell::plain("Image"), Cell::plain(&task.image)],
        vec![Cell::plain("Command"), Cell::plain(task.command.join(" "))],
    ];
    if task.state == TaskState::Completed {
        if task.failed {
            rows.push(vec![
                Cell::plain("Failure Reason"),
                Cell::colored(&task.failure_reason, Color::Red),
            ]);
        } else {
            rows.push(vec![Cell::plain("Result"), Cell::plain(&task.result)]);
        }
    }
    for line in crate::ui::table(ui, &rows) {
        ui.out(line.trim_end());
    }
    Ok(())
}

/// The tasks as `ltc list` and `ltc task` show them: Lattice's table.
pub fn print_tasks(ui: &Ui, tasks: &[Task]) {
    if tasks.is_empty() {
        ui.out("No tasks to display.");
        return;
    }
    let mut rows = vec![
        ["Task GUID", "Cell ID", "Status", "Result", "Failure Reason"]
            .iter()
            .map(|h| Cell::colored(h, Color::Bold))
            .collect::<Vec<_>>(),
    ];
    let or_na = |text: &str| match text.trim() {
        "" => "N/A".to_string(),
        text => text.lines().next().unwrap_or(text).to_string(),
    };
    for task in tasks {
        let color = match (task.state, task.failed) {
            (TaskState::Completed, false) => Color::Green,
            (TaskState::Completed, true) => Color::Red,
            _ => Color::Yellow,
        };
        rows.push(vec![
            Cell::plain(&task.task_guid),
            Cell::plain(&task.cell_id),
            Cell::colored(task.state.as_str(), color),
            Cell::plain(or_na(&task.result)),
            Cell::plain(or_na(&task.failure_reason)),
        ]);
    }
    for line in crate::ui::table(ui, &rows) {
        ui.out(line.trim_end());
    }
}

pub async fn cancel(args: TaskGuidArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    validate_guid(&args.guid)?;
    let client = client::connect(settings, ui).await?;
    let path = format!("{}/cancel", task_path(&args.guid));
    let (task, _): (Task, u64) = client.call(Method::POST, &path, None::<&()>).await?;
    done(ui, &task);
    Ok(())
}

pub async fn delete(args: TaskGuidArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    validate_guid(&args.guid)?;
    let client = client::connect(settings, ui).await?;
    let (task, _): (Task, u64) = client
        .call(Method::DELETE, &task_path(&args.guid), None::<&()>)
        .await?;
    done(ui, &task);
    Ok(())
}

fn done(ui: &Ui, task: &Task) {
    if ui.json {
        ui.json(task);
    } else {
        ui.out(ui.paint(Color::Green, "OK"));
    }
}

/// Reads Lattice's task JSON: `task_guid`, `rootfs` (`docker:///IMAGE#TAG`) or `image`,
/// `action.run.path` with `args`, `dir` and `user`, and optionally `env` (a list of `name`
/// and `value`), `memory_mb`, `cpu_weight`, `privileged`, `result_file`. A missing or
/// mistyped field is named.
pub fn parse_task_file(text: &str) -> Result<Task> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::usage(format!("the task file is not JSON: {e}")))?;
    let missing = |field: &str| Error::usage(format!("the task file has no `{field}`"));
    let wrong =
        |field: &str, what: &str| Error::usage(format!("the task file's `{field}` must be {what}"));
    let string = |field: &str, v: Option<&serde_json::Value>| -> Result<Option<String>> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(field, "a string")),
        }
    };
    if !value.is_object() {
        return Err(Error::usage("the task file must hold one JSON object"));
    }
    let guid = string("task_guid", value.get("task_guid"))?.ok_or_else(|| missing("task_guid"))?;
    validate_guid(&guid)?;
    let image = match (
        string("rootfs", value.get("rootfs"))?,
        string("image", value.get("image"))?,
    ) {
        (_, Some(image)) => image,
        (Some(rootfs), None) => docker_image(&rootfs)?,
        (None, None) => return Err(missing("rootfs")),
    };
    let run = value
        .get("action")
        .ok_or_else(|| missing("action"))?
        .get("run")
        .ok_or_else(|| missing("action.run"))?;
    let path =
        string("action.run.path", run.get("path"))?.ok_or_else(|| missing("action.run.path"))?;
    let args: Vec<String> = match run.get("args") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| wrong("action.run.args", "a list of strings"))?,
    };
    let env: Vec<EnvVar> = match value.get("env") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| wrong("env", "a list of {\"name\", \"value\"}"))?,
    };
    let number = |field: &str, default: u64| -> Result<u64> {
        match value.get(field) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| wrong(field, "a whole number")),
        }
    };
    let mut command = vec![path];
    command.extend(args);
    let mut task = new_task(&guid, &image, &image, command);
    task.env = env;
    task.memory_mb = number("memory_mb", 0)?;
    let weight = number("cpu_weight", 100)?;
    task.cpu_weight = u8::try_from(weight)
        .ok()
        .filter(|w| (1..=100).contains(w))
        .ok_or_else(|| wrong("cpu_weight", "from 1 to 100"))?;
    task.privileged = match value.get("privileged") {
        None | Some(serde_json::Value::Null) => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| wrong("privileged", "true or false"))?,
    };
    task.user = string("action.run.user", run.get("user"))?;
    task.working_dir = string("action.run.dir", run.get("dir"))?;
    task.result_file = string("result_file", value.get("result_file"))?;
    Ok(task)
}

/// `docker:///busybox#1.36` → `busybox:1.36`; `docker://registry:5000/app` → `registry:5000/app`.
fn docker_image(rootfs: &str) -> Result<String> {
    let Some(rest) = rootfs.strip_prefix("docker://") else {
        return Err(Error::usage(format!(
            "the task file's `rootfs` `{rootfs}` is not a Docker image: use docker:///IMAGE#TAG"
        )));
    };
    let rest = rest.trim_start_matches('/');
    Ok(match rest.split_once('#') {
        Some((image, tag)) => format!("{image}:{tag}"),
        None => rest.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattice_task_files_are_read() {
        let task = parse_task_file(
            r#"{"task_guid": "migrate-1", "rootfs": "docker:///busybox#1.36",
                "action": {"run": {"path": "sh", "args": ["-c", "echo hi"], "user": "root"}},
                "env": [{"name": "A", "value": "1"}], "memory_mb": 64, "result_file": "/r"}"#,
        )
        .unwrap();
        assert_eq!(task.task_guid, "migrate-1");
        assert_eq!(task.image, "busybox:1.36");
        assert_eq!(task.command, ["sh", "-c", "echo hi"]);
        assert_eq!(task.env[0].name, "A");
        assert_eq!(task.memory_mb, 64);
        assert_eq!(task.user.as_deref(), Some("root"));
        assert_eq!(task.result_file.as_deref(), Some("/r"));
        assert_eq!(task.cpu_weight, 100);
    }

    #[test]
    fn a_bad_task_file_names_what_is_wrong() {
        let cases = [
            ("not json", "is not JSON"),
            ("[]", "one JSON object"),
            (
                r#"{"rootfs": "docker:///x", "action": {"run": {"path": "p"}}}"#,
                "`task_guid`",
            ),
            (
                r#"{"task_guid": "t", "action": {"run": {"path": "p"}}}"#,
                "`rootfs`",
            ),
            (r#"{"task_guid": "t", "rootfs": "docker:///x"}"#, "`action`"),
            (
                r#"{"task_guid": "t", "rootfs": "docker:///x", "action": {"run": {}}}"#,
                "`action.run.path`",
            ),
            (
                r#"{"task_guid": "t", "image": "x", "action": {"run": {"path": "p", "args": "a"}}}"#,
                "`action.run.args`",
            ),
            (
                r#"{"task_guid": "t", "image": "x", "action": {"run": {"path": "p"}}, "memory_mb": "x"}"#,
                "`memory_mb`",
            ),
            (
                r#"{"task_guid": "a b", "image": "x", "action": {"run": {"path": "p"}}}"#,
                "not a valid task guid",
            ),
            (
                r#"{"task_guid": "t", "rootfs": "preloaded:cflinuxfs2", "action": {"run": {"path": "p"}}}"#,
                "not a Docker image",
            ),
        ];
        for (text, says) in cases {
            let error = parse_task_file(text).unwrap_err();
            assert_eq!(error.exit_code(), 13, "{text}");
            assert!(error.message.contains(says), "{text}: {}", error.message);
        }
    }
}
