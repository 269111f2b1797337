//! `ltc status`: one app's settings and instances, once, in detail, or redrawn at a rate.

use super::app_path;
use super::list::instances_cell;
use crate::cli::StatusArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{AppName, AppStatus, InstanceState, InstanceStatus};
use crate::ui::{Cell, Color, Ui, format_bytes, format_duration, table};
use std::time::SystemTime;

const RULE_WIDTH: usize = 90;

fn state_color(state: InstanceState) -> Color {
    match state {
        InstanceState::Running => Color::Green,
        InstanceState::Claimed => Color::Yellow,
        InstanceState::Unclaimed => Color::Cyan,
        InstanceState::Crashed => Color::Red,
    }
}

fn since(text: &str) -> Option<std::time::Duration> {
    let at = humantime::parse_rfc3339(text).ok()?;
    SystemTime::now().duration_since(at).ok()
}

/// What the last column says: why an instance is not running, or when it restarts.
fn instance_note(instance: &InstanceStatus) -> String {
    if instance.stopping {
        return "stopping".into();
    }
    let mut parts = Vec::new();
    if !instance.healthy {
        parts.push("unhealthy, out of the routes".to_string());
    }
    if let Some(at) = instance.start_deadline.as_deref() {
        let left = humantime::parse_rfc3339(at)
            .ok()
            .and_then(|t| t.duration_since(SystemTime::now()).ok())
            .unwrap_or_default();
        parts.push(format!(
            "must be healthy within {} (start timeout)",
            format_duration(left)
        ));
    }
    if let Some(at) = instance.next_restart.as_deref() {
        let wait = humantime::parse_rfc3339(at)
            .ok()
            .and_then(|t| t.duration_since(SystemTime::now()).ok())
            .unwrap_or_default();
        parts.push(format!("restarts in {}", format_duration(wait)));
    } else if instance.state == InstanceState::Crashed {
        parts.push("not restarted again".into());
    }
    if let Some(error) = &instance.last_error {
        parts.push(error.clone());
    } else if let Some(crash) = &instance.last_crash {
        let ago = humantime::parse_rfc3339(&crash.time)
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        parts.push(format!(
            "last crash {} ago: {}",
            format_duration(ago),
            crash.reason
        ));
    }
    parts.join("; ")
}

pub async fn run(args: StatusArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    if args.rate.is_some() {
        super::require_terminal(ui)?;
    }
    let client = client::connect(settings, ui).await?;
    let _redraw = args.rate.map(|_| ui.start_redraw());
    loop {
        let (app, engine): (AppStatus, _) = client.get_known(&app_path(name.as_str())).await?;
        let Some(rate) = args.rate else {
            if ui.json {
                ui.json(&app);
            } else if args.detailed {
                print_status(ui, &app, false, args.show_env);
                print_detailed(ui, &app);
            } else {
                print_status(ui, &app, true, args.show_env);
            }
            // What the node knows is shown; a script still learns that the engine is gone.
            return engine.map_or(Ok(()), Err);
        };
        ui.begin_frame();
        print_status(ui, &app, true, args.show_env);
        ui.end_frame();
        tokio::time::sleep(rate).await;
    }
}

fn cpu(instance: &InstanceStatus) -> String {
    instance
        .cpu_percent
        .map(|c| format!("{c:.2}%"))
        .unwrap_or_else(|| "N/A".into())
}

fn memory(instance: &InstanceStatus) -> String {
    instance
        .memory_bytes
        .map(format_bytes)
        .unwrap_or_else(|| "N/A".into())
}

fn print_detailed(ui: &Ui, app: &AppStatus) {
    for instance in &app.instances {
        ui.out(ui.paint(
            Color::Bold,
            format!(
                "      Instance {}  [{}]",
                instance.index,
                instance.state.as_str()
            ),
        ));
        ui.out("-".repeat(RULE_WIDTH));
        let ports = instance
            .ports
            .iter()
            .map(|(c, h)| format!("{h}:{c}"))
            .collect::<Vec<_>>()
            .join(";");
        let mut rows = vec![
            vec![Cell::plain("InstanceGuid"), Cell::plain(&instance.guid)],
            vec![
                Cell::plain("Container"),
                Cell::plain(
                    instance
                        .container_id
                        .as_deref()
                        .map_or("-", |c| &c[..c.len().min(12)]),
                ),
            ],
            vec![
                Cell::plain("Cell"),
                Cell::plain(match (&instance.cell, &instance.address) {
                    (Some(cell), Some(address)) if address != "127.0.0.1" => {
                        format!("{cell} ({address})")
                    }
                    (Some(cell), _) => cell.clone(),
                    (None, _) => "-".into(),
                }),
            ],
            vec![
                Cell::plain("Port Mapping"),
                Cell::plain(if ports.is_empty() { "-".into() } else { ports }),
            ],
            vec![
                Cell::plain("Revision"),
                Cell::plain(
                    instance
                        .revision
                        .map_or_else(|| "-".to_string(), |r| r.to_string()),
                ),
            ],
            vec![
                Cell::plain("Crash Count"),
                Cell::plain(instance.crash_count),
            ],
            vec![Cell::plain("CPU"), Cell::plain(cpu(instance))],
            vec![Cell::plain("Memory"), Cell::plain(memory(instance))],
        ];
        let note = instance_note(instance);
        if !note.is_empty() {
            rows.push(vec![Cell::plain("Info"), Cell::plain(note)]);
        }
        for line in table(ui, &rows) {
            ui.out(line.trim_end());
        }
        ui.out("");
    }
}

fn print_status(ui: &Ui, app: &AppStatus, with_instances: bool, show_env: bool) {
    let heavy = "=".repeat(RULE_WIDTH);
    let light = "-".repeat(RULE_WIDTH);
    ui.out(&heavy);
    ui.out(ui.paint(Color::Bold, format!("      {}", app.name)));
    ui.out(&light);
    let mut rows = vec![
        vec![Cell::plain("Instances"), instances_cell(app)],
        vec![Cell::plain("DiskMB"), Cell::plain(app.disk_mb)],
        vec![Cell::plain("MemoryMB"), Cell::plain(app.memory_mb)],
        vec![Cell::plain("CPUWeight"), Cell::plain(app.cpu_weight)],
        vec![
            Cell::plain("PidsLimit"),
            Cell::plain(match app.pids_limit {
                0 => "unlimited".to_string(),
                n => n.to_string(),
            }),
        ],
        vec![
            Cell::plain("Ports"),
            Cell::plain(crate::model::join_ports(&app.ports)),
        ],
    ];
    let routes = app.route_lines();
    for (i, route) in routes.iter().enumerate() {
        let label = if i == 0 { "Routes" } else { "" };
        rows.push(vec![Cell::plain(label), Cell::colored(route, Color::Cyan)]);
    }
    for (i, url) in app.https_urls.iter().enumerate() {
        let label = if i == 0 { "HTTPS" } else { "" };
        rows.push(vec![Cell::plain(label), Cell::colored(url, Color::Cyan)]);
    }
    if app.redirect_https {
        rows.push(vec![
            Cell::plain("HTTP"),
            Cell::plain("redirected to HTTPS"),
        ]);
    }
    for (i, (host, not_after)) in app.certificates.iter().enumerate() {
        let label = if i == 0 { "Certificates" } else { "" };
        rows.push(vec![
            Cell::plain(label),
            Cell::plain(format!("{host} (yours, valid until {not_after})")),
        ]);
    }
    let seconds = |ms: u64| humantime::format_duration(std::time::Duration::from_millis(ms));
    rows.push(vec![
        Cell::plain("Timeouts"),
        Cell::plain(format!(
            "response {}, drain {}",
            seconds(app.response_timeout_ms),
            seconds(app.drain_timeout_ms)
        )),
    ]);
    let image = if app.builtin {
        format!("{} (built-in)", app.image)
    } else {
        app.image.clone()
    };
    rows.push(vec![
        Cell::plain("Monitor"),
        Cell::plain(app.monitor.describe()),
    ]);
    rows.push(vec![Cell::plain("Docker Image"), Cell::plain(image)]);
    rows.push(vec![Cell::plain("Revision"), Cell::plain(app.revision)]);
    if let Some(rollout) = &app.rollout {
        rows.push(vec![
            Cell::plain("Rollout"),
            Cell::colored(
                format!(
                    "{} revision {} over {}: {}/{} instances replaced",
                    match rollout.kind {
                        crate::model::RolloutKind::Update => "rolling out",
                        crate::model::RolloutKind::Rollback => "rolling back to",
                        crate::model::RolloutKind::Restart => "restarting",
                    },
                    rollout.revision,
                    rollout.from_revision,
                    rollout.updated,
                    rollout.total
                ),
                Color::Yellow,
            ),
        ]);
    }
    rows.push(vec![
        Cell::plain("Command"),
        Cell::plain(app.command.join(" ")),
    ]);
    if let Some(user) = &app.user {
        rows.push(vec![Cell::plain("User"), Cell::plain(user)]);
    }
    for (i, volume) in app.volumes.iter().enumerate() {
        let label = if i == 0 { "Volumes" } else { "" };
        rows.push(vec![Cell::plain(label), Cell::plain(volume.describe())]);
    }
    if app.removing {
        rows.push(vec![
            Cell::plain("Removing"),
            Cell::colored("yes", Color::Red),
        ]);
    }
    for line in table(ui, &rows) {
        ui.out(line.trim_end());
    }
    if !app.env.is_empty() {
        ui.out(&light);
        ui.out("Environment");
        ui.out("");
        // Values are often secrets: names only, unless asked (`--show-env`; JSON has both).
        for (key, value) in &app.env {
            if show_env {
                ui.out(format!("{key}={value:?}"));
            } else {
                ui.out(key);
            }
        }
        if !show_env {
            ui.note("values hidden; `--show-env` shows them");
        }
    }
    ui.out(&heavy);
    if !with_instances {
        return;
    }
    if app.instances.is_empty() {
        ui.out("No instances.");
        return;
    }
    let mut rows = vec![
        [
            "Instance", "State", "Rev", "Crashes", "CPU", "Memory", "Uptime", "Ports", "",
        ]
        .iter()
        .map(|h| Cell::colored(h, Color::Bold))
        .collect::<Vec<_>>(),
    ];
    for instance in &app.instances {
        let uptime = match instance.state {
            InstanceState::Crashed => "N/A".to_string(),
            _ => since(&instance.since)
                .map(format_duration)
                .unwrap_or_else(|| "N/A".into()),
        };
        let ports = instance
            .ports
            .iter()
            .map(|(c, h)| {
                let address = instance.address.as_deref().unwrap_or("127.0.0.1");
                format!("{c}->{address}:{h}")
            })
            .collect::<Vec<_>>()
            .join(",");
        rows.push(vec![
            Cell::plain(instance.index),
            Cell::colored(instance.state.as_str(), state_color(instance.state)),
            Cell::plain(
                instance
                    .revision
                    .map_or_else(|| "-".to_string(), |r| r.to_string()),
            ),
            Cell::plain(instance.crash_count),
            Cell::plain(cpu(instance)),
            Cell::plain(memory(instance)),
            Cell::plain(uptime),
            Cell::plain(if ports.is_empty() { "-".into() } else { ports }),
            Cell::plain(instance_note(instance)),
        ]);
    }
    for line in table(ui, &rows) {
        ui.out(line.trim_end());
    }
}
