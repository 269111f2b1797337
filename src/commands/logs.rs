//! `ltc logs`, `ltc debug-logs` and `ltc events`: streams that run until Ctrl-C (exit 0).

use super::app_path;
use crate::cli::{DebugLogsArgs, EventsArgs, LogsArgs};
use crate::client;
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::{AppName, AppStatus};
use crate::model::{Event, LogLine};
use crate::ui::{Color, Ui};
use hyper::Method;

/// `2026-11-30T06:12:36.711Z` → `11/30 06:12:36.71`, Lattice's `MM/DD HH:MM:SS.cc` (UTC).
pub fn lattice_time(rfc3339: &str) -> String {
    let (date, time) = rfc3339.split_once('T').unwrap_or(("", rfc3339));
    let month_day = date.get(5..10).unwrap_or("").replace('-', "/");
    let clock = time.trim_end_matches('Z');
    let clock = clock.get(..11).unwrap_or(clock);
    format!("{month_day} {clock}")
}

pub fn format_line(ui: &Ui, line: &LogLine) -> String {
    let source = match line.index {
        Some(index) => format!("[{}|{index}]", line.source),
        None => format!("[{}]", line.source),
    };
    format!(
        "{} {} {}",
        ui.paint(Color::Cyan, lattice_time(&line.time)),
        ui.paint(Color::Yellow, source),
        line.message
    )
}

pub async fn logs(args: LogsArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    // An app's name, or a task's guid (which may hold what app names may not).
    let app = AppName::parse(&args.name);
    if app.is_err() {
        crate::model::validate_guid(&args.name).map_err(|_| app.clone().unwrap_err())?;
    }
    let name = args.name.as_str();
    let client = client::connect(settings, ui).await?;
    let task_path = format!("/v1/tasks/{name}");
    let found = match &app {
        Ok(app) => client
            .get::<AppStatus>(&app_path(app.as_str()))
            .await
            .map(|_| false),
        Err(e) => Err(e.clone()),
    };
    let base = match found {
        Ok(_) => app_path(name),
        Err(e) if e.kind == Kind::NotFound || e.kind == Kind::Usage => {
            match client.get::<crate::model::Task>(&task_path).await {
                Ok(_) => task_path,
                Err(_) if args.recent || app.is_err() => {
                    return Err(
                        Error::not_found(format!("Application or task {name} not found."))
                            .with_hint("`ltc list` shows the apps and tasks that exist"),
                    );
                }
                Err(_) => {
                    ui.note(format!("Application or task {name} not found."));
                    ui.note(format!("Tailing logs and waiting for {name} to appear..."));
                    app_path(name)
                }
            }
        }
        Err(e) => return Err(e),
    };
    let mut path = format!("{base}/logs?recent={}", args.recent);
    if let Some(tail) = args.tail {
        path.push_str(&format!("&tail={tail}"));
    }
    if let Some(index) = args.index {
        path.push_str(&format!("&index={index}"));
    }
    client
        .stream(Method::GET, &path, &(), |line: LogLine| {
            if ui.json {
                ui.out(serde_json::to_string(&line).expect("serialisable"));
            } else {
                ui.out(format_line(ui, &line));
            }
        })
        .await?;
    if args.recent {
        return Ok(());
    }
    Err(Error::failed("the ltc node stopped sending logs")
        .with_hint("`ltc daemon status` says whether it runs"))
}

pub async fn debug_logs(args: DebugLogsArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    client
        .stream(Method::GET, "/v1/debug-logs", &(), |line: String| {
            // Every line the node logs starts with its time.
            let (time, message) = line.split_once(' ').unwrap_or(("", line.as_str()));
            if ui.json {
                ui.out(serde_json::json!({ "time": time, "message": message }).to_string());
            } else if args.raw {
                ui.out(&line);
            } else {
                ui.out(format!(
                    "{} {} {message}",
                    ui.paint(Color::Cyan, lattice_time(time)),
                    ui.paint(Color::Yellow, "[node]")
                ));
            }
        })
        .await?;
    Err(Error::failed("the ltc node stopped"))
}

pub async fn events(args: EventsArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let path = match &args.app {
        Some(app) => format!("/v1/events?app={}", AppName::parse(app)?),
        None => "/v1/events".to_string(),
    };
    let client = client::connect(settings, ui).await?;
    client
        .stream(Method::GET, &path, &(), |event: Event| {
            if ui.json {
                ui.out(serde_json::to_string(&event).expect("serialisable"));
            } else {
                let instance = event.index.map(|i| format!("/{i}")).unwrap_or_default();
                ui.out(format!(
                    "{} {} {}{instance}: {}",
                    ui.paint(Color::Cyan, lattice_time(&event.time)),
                    ui.paint(Color::Yellow, &event.kind),
                    event.app,
                    event.message
                ));
            }
        })
        .await?;
    Err(Error::failed("the ltc node stopped"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_lattices() {
        assert_eq!(
            lattice_time("2026-11-30T06:12:36.711Z"),
            "11/30 06:12:36.71"
        );
    }

    #[test]
    fn lines_name_their_source_and_instance() {
        let ui = Ui::plain(false);
        let line = LogLine {
            time: "2026-11-30T06:12:36.711Z".into(),
            app: "web".into(),
            source: "APP".into(),
            index: Some(2),
            message: "Lattice-app. Says Hello. on index: 2".into(),
        };
        assert_eq!(
            format_line(&ui, &line),
            "11/30 06:12:36.71 [APP|2] Lattice-app. Says Hello. on index: 2"
        );
    }
}
