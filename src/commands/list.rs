//! `ltc list`: every app with running/desired instances, memory, disk and routes.

use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::AppStatus;
use crate::ui::{Cell, Color, Ui, table};

/// Lattice's colours for `running/desired`: green when equal, red when none run, else yellow.
pub fn instances_cell(app: &AppStatus) -> Cell {
    let text = format!("{}/{}", app.running_instances, app.desired_instances);
    let color = if app.running_instances == app.desired_instances {
        Color::Green
    } else if app.running_instances == 0 {
        Color::Red
    } else {
        Color::Yellow
    };
    Cell::colored(text, color)
}

pub async fn run(settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let (apps, engine): (Vec<AppStatus>, _) = client.get_known("/v1/apps").await?;
    // "No apps" is not said when the engine is gone: the error says what is known.
    if !(apps.is_empty() && engine.is_some() && !ui.json) {
        print_list(ui, &apps);
    }
    // Tasks in their own table, as Lattice listed them (`ltc task --json` lists them as JSON;
    // `list --json` stays the array of apps).
    if !ui.json {
        let tasks: Vec<crate::model::Task> = client.get("/v1/tasks").await?;
        if !tasks.is_empty() {
            ui.out("");
            super::tasks::print_tasks(ui, &tasks);
        }
    }
    // What the node knows is shown; a script still learns that the engine is gone.
    engine.map_or(Ok(()), Err)
}

fn print_list(ui: &Ui, apps: &[AppStatus]) {
    if ui.json {
        ui.json(&apps);
        return;
    }
    if apps.is_empty() {
        ui.out("No apps to display.");
        return;
    }
    let mut rows = vec![
        ["App Name", "Instances", "DiskMB", "MemoryMB", "Route"]
            .iter()
            .map(|h| Cell::colored(h, Color::Bold))
            .collect::<Vec<_>>(),
    ];
    for app in apps {
        let routes = app.route_lines();
        let name = if app.removing {
            format!("{} (removing)", app.name)
        } else {
            app.name.clone()
        };
        rows.push(vec![
            Cell::colored(name, Color::Bold),
            instances_cell(app),
            Cell::plain(app.disk_mb),
            Cell::plain(app.memory_mb),
            Cell::colored(routes.join(", "), Color::Cyan),
        ]);
    }
    for line in table(ui, &rows) {
        ui.out(line.trim_end());
    }
}
