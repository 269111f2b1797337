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

fn dots(
    ui: &Ui,
    instances: impl Iterator<Item = impl std::ops::Deref<Target = InstanceStatus>>,
) -> String {
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

fn count(
    instances: impl Iterator<Item = impl std::ops::Deref<Target = InstanceStatus>>,
    state: InstanceState,
) -> usize {
    instances.filter(|i| i.state == state).count()
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
        // One engine is one cell, which holds every instance.
        fn on(cell: &CellInfo, single: bool) -> Option<&str> {
            (!single).then_some(cell.cell_id.as_str())
        }
        if ui.json && args.rate.is_none() {
            let per_app = |cell: Option<&str>| {
                apps.iter()
                    .map(|a| {
                        serde_json::json!({
                            "name": a.name,
                            "running": count(counted(&apps, Some(&a.name), cell), InstanceState::Running),
                            "claimed": count(counted(&apps, Some(&a.name), cell), InstanceState::Claimed),
                        })
                    })
                    .collect::<Vec<_>>()
            };
            ui.json(&serde_json::json!({
                "cell_id": cells.first().map_or(crate::model::CELL_ID, |c| c.cell_id.as_str()),
                "running": count(counted(&apps, None, None), InstanceState::Running),
                "claimed": count(counted(&apps, None, None), InstanceState::Claimed),
                "apps": per_app(None),
                "cells": cells.iter().map(|c| serde_json::json!({
                    "cell_id": c.cell_id,
                    "running": count(counted(&apps, None, on(c, single)), InstanceState::Running),
                    "claimed": count(counted(&apps, None, on(c, single)), InstanceState::Claimed),
                    "apps": per_app(on(c, single)),
                })).collect::<Vec<_>>(),
            }));
            return engine.map_or(Ok(()), Err);
        }
        if args.rate.is_some() {
            ui.begin_frame();
        }
        ui.out(ui.paint(Color::Bold, "Distribution"));
        if cells.is_empty() {
            ui.out(format!(
                "{}: {}",
                crate::model::CELL_ID,
                dots(ui, counted(&apps, None, None))
            ));
        }
        for cell in &cells {
            ui.out(format!(
                "{}: {}",
                cell.cell_id,
                dots(ui, counted(&apps, None, on(cell, single)))
            ));
            for app in &apps {
                if !single
                    && counted(&apps, Some(&app.name), on(cell, single))
                        .next()
                        .is_none()
                {
                    continue;
                }
                ui.out(format!(
                    "  {}: {}",
                    app.name,
                    dots(ui, counted(&apps, Some(&app.name), on(cell, single)))
                ));
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
