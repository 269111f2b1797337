//! `ltc visualize` and `ltc cells`: the machines that run instances, as Lattice showed its
//! cells (one for a single engine, a swarm's nodes for a swarm).

use crate::cli::VisualizeArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{AppStatus, CellInfo, InstanceState, InstanceStatus};
use crate::ui::{Cell, Color, Ui, table};

/// The instances that count: not being stopped, optionally of one app and on one cell.
fn counted<'a>(
    apps: &'a [AppStatus],
    app: Option<&'a str>,
    cell: Option<&'a str>,
) -> impl Iterator<Item = &'a InstanceStatus> + 'a {
    apps.iter()
        .filter(move |a| app.is_none_or(|name| a.name == name))
        .flat_map(|a| a.instances.iter().filter(|i| !i.stopping))
        .filter(move |i| cell.is_none_or(|c| i.cell.as_deref() == Some(c)))
}

fn dots<'a>(ui: &Ui, instances: impl Iterator<Item = &'a InstanceStatus>) -> String {
    let mut out = String::new();
    for instance in instances {
        match instance.state {
            InstanceState::Running => out.push_str(&ui.paint(Color::Green, "•")),
            InstanceState::Claimed => out.push_str(&ui.paint(Color::Yellow, "•")),
            _ => {}
        }
    }
    if out.is_empty() {
        ui.paint(Color::Red, "empty")
    } else {
        out
    }
}

/// (running, claimed) among these instances.
fn tally<'a>(instances: impl Iterator<Item = &'a InstanceStatus>) -> (usize, usize) {
    instances.fold((0, 0), |(running, claimed), i| match i.state {
        InstanceState::Running => (running + 1, claimed),
        InstanceState::Claimed => (running, claimed + 1),
        _ => (running, claimed),
    })
}

pub async fn run(args: VisualizeArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    if args.rate.is_some() {
        super::require_terminal(ui)?;
    }
    let client = client::connect(settings, ui).await?;
    let _redraw = args.rate.map(|_| ui.start_redraw());
    loop {
        let (apps, engine): (Vec<AppStatus>, _) = client.get_known("/v1/apps").await?;
        let cells: Vec<CellInfo> = client.get("/v1/cells").await.unwrap_or_default();
        let single = cells.len() <= 1;
        // Each cell with the instances it holds: one engine's one cell holds every instance.
        // (When the cells cannot be had, the apps are still shown, on the one cell.)
        let mut scopes: Vec<(&str, Option<&str>)> = cells
            .iter()
            .map(|c| (c.cell_id.as_str(), (!single).then_some(c.cell_id.as_str())))
            .collect();
        if scopes.is_empty() {
            scopes.push((crate::model::CELL_ID, None));
        }
        if ui.json && args.rate.is_none() {
            let per_app = |cell: Option<&str>| {
                apps.iter()
                    .map(|a| {
                        let (running, claimed) = tally(counted(&apps, Some(&a.name), cell));
                        serde_json::json!({ "name": a.name, "running": running, "claimed": claimed })
                    })
                    .collect::<Vec<_>>()
            };
            let (running, claimed) = tally(counted(&apps, None, None));
            ui.json(&serde_json::json!({
                "cell_id": scopes[0].0,
                "running": running,
                "claimed": claimed,
                "apps": per_app(None),
                "cells": scopes.iter().map(|(id, scope)| {
                    let (running, claimed) = tally(counted(&apps, None, *scope));
                    serde_json::json!({
                        "cell_id": id,
                        "running": running,
                        "claimed": claimed,
                        "apps": per_app(*scope),
                    })
                }).collect::<Vec<_>>(),
            }));
            return engine.map_or(Ok(()), Err);
        }
        if args.rate.is_some() {
            ui.begin_frame();
        }
        ui.out(ui.paint(Color::Bold, "Distribution"));
        for (id, scope) in &scopes {
            ui.out(format!("{id}: {}", dots(ui, counted(&apps, None, *scope))));
            for app in &apps {
                let mut here = counted(&apps, Some(&app.name), *scope).peekable();
                // On a swarm a cell lists only the apps it runs.
                if scope.is_some() && here.peek().is_none() {
                    continue;
                }
                ui.out(format!("  {}: {}", app.name, dots(ui, here)));
            }
        }
        let Some(rate) = args.rate else {
            return engine.map_or(Ok(()), Err);
        };
        ui.end_frame();
        tokio::time::sleep(rate).await;
    }
}

pub async fn cells(settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let cells: Vec<CellInfo> = client.get("/v1/cells").await?;
    if ui.json {
        ui.json(&cells);
        return Ok(());
    }
    let swarm = cells.len() > 1
        || cells
            .first()
            .is_some_and(|c| c.engine.kind == crate::model::EngineKind::Swarm);
    let mut header = vec!["Cells", "Memory", "Disk", "CPUs", "Apps"];
    if swarm {
        header.extend(["Address", "State"]);
    }
    let mut rows = vec![
        header
            .iter()
            .map(|h| Cell::colored(h, Color::Bold))
            .collect::<Vec<_>>(),
    ];
    for cell in &cells {
        let mut row = vec![
            Cell::plain(&cell.cell_id),
            Cell::plain(format!("{}M", cell.memory_mb)),
            Cell::plain(match cell.disk_mb {
                Some(mb) => format!("{mb}M"),
                None => "N/A".to_string(),
            }),
            Cell::plain(cell.cpus),
            Cell::plain(format!(
                "{}/{}",
                cell.running_instances, cell.claimed_instances
            )),
        ];
        if swarm {
            row.push(Cell::plain(&cell.address));
            row.push(match (cell.state.as_str(), cell.availability.as_str()) {
                ("ready", "active") => Cell::colored("ready", Color::Green),
                ("ready", availability) => Cell::colored(availability, Color::Yellow),
                (state, _) => Cell::colored(state, Color::Red),
            });
        }
        rows.push(row);
    }
    for line in table(ui, &rows) {
        ui.out(line.trim_end());
    }
    Ok(())
}
