//! `ltc visualize` and `ltc cells`: this machine as Lattice showed its cells.

use crate::cli::VisualizeArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{AppStatus, InstanceState};
use crate::ui::{Cell, Color, Ui, table};

use crate::model::{CELL_ID as CELL, CellInfo};

fn dots(ui: &Ui, apps: &[AppStatus], app: Option<&str>) -> String {
    let mut out = String::new();
    for instance in apps
        .iter()
        .filter(|a| app.is_none_or(|name| a.name == name))
        .flat_map(|a| a.instances.iter().filter(|i| !i.stopping))
    {
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

pub async fn run(args: VisualizeArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    if args.rate.is_some() {
        super::require_terminal(ui)?;
    }
    let client = client::connect(settings, ui).await?;
    let _redraw = args.rate.map(|_| ui.start_redraw());
    loop {
        let (apps, engine): (Vec<AppStatus>, _) = client.get_known("/v1/apps").await?;
        if ui.json && args.rate.is_none() {
            let count = |state| {
                apps.iter()
                    .flat_map(|a| &a.instances)
                    .filter(|i| i.state == state && !i.stopping)
                    .count()
            };
            ui.json(&serde_json::json!({
                "cell_id": CELL,
                "running": count(InstanceState::Running),
                "claimed": count(InstanceState::Claimed),
                "apps": apps.iter().map(|a| serde_json::json!({
                    "name": a.name,
                    "running": a.instances.iter().filter(|i| i.state == InstanceState::Running && !i.stopping).count(),
                    "claimed": a.instances.iter().filter(|i| i.state == InstanceState::Claimed && !i.stopping).count(),
                })).collect::<Vec<_>>(),
            }));
            return engine.map_or(Ok(()), Err);
        }
        if args.rate.is_some() {
            ui.begin_frame();
        }
        ui.out(ui.paint(Color::Bold, "Distribution"));
        ui.out(format!("{CELL}: {}", dots(ui, &apps, None)));
        for app in &apps {
            ui.out(format!(
                "  {}: {}",
                app.name,
                dots(ui, &apps, Some(&app.name))
            ));
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
    let cell: CellInfo = client.get("/v1/cells").await?;
    if ui.json {
        ui.json(&cell);
        return Ok(());
    }
    let rows = vec![
        ["Cells", "Memory", "Disk", "CPUs", "Apps"]
            .iter()
            .map(|h| Cell::colored(h, Color::Bold))
            .collect(),
        vec![
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
        ],
    ];
    for line in table(ui, &rows) {
        ui.out(line.trim_end());
    }
    Ok(())
}
