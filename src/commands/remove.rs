//! `ltc remove`: removes apps; waits until their containers are gone.

use super::app_path;
use crate::cli::RemoveArgs;
use crate::client;
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::{AppName, AppStatus};
use crate::ui::Ui;
use crate::ui::progress::Spinner;
use hyper::Method;
use tokio::time::Instant;

pub async fn run(args: RemoveArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    // Every name is checked before anything is removed.
    let names = args
        .names
        .iter()
        .map(|n| AppName::parse(n))
        .collect::<Result<Vec<_>>>()?;
    let client = client::connect(settings, ui).await?;
    let mut removed = Vec::new();
    for name in &names {
        let path = app_path(name.as_str());
        let delete = format!("{path}?volumes={}", args.volumes);
        let (app, mut version): (AppStatus, u64) =
            client.call(Method::DELETE, &delete, None::<&()>).await?;
        ui.note(format!("Removing {name}..."));
        let named: Vec<&str> = app
            .volumes
            .iter()
            .filter(|v| !v.is_bind())
            .map(|v| v.source.as_str())
            .collect();
        if !named.is_empty() && !args.volumes {
            ui.note(format!(
                "Keeping its volume{} {} (`ltc remove {name} --volumes` removes them; `ltc volumes --remove NAME` later)",
                if named.len() == 1 { "" } else { "s" },
                named.join(", ")
            ));
        }
        removed.push(name.to_string());
        if !args.wait.waits() {
            continue;
        }
        let deadline = Instant::now() + args.timeout;
        let mut spinner = Spinner::new(ui);
        loop {
            let watch = format!("{path}?since={version}&wait_ms=1000");
            match client
                .call::<AppStatus>(Method::GET, &watch, None::<&()>)
                .await
            {
                Ok((app, seen)) => {
                    version = seen;
                    spinner.set(format!(
                        "{name}: {} {}",
                        match app.instances.len() {
                            1 => "1 instance".to_string(),
                            n => format!("{n} instances"),
                        },
                        super::wait::draining(&app)
                    ));
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            Kind::Timeout,
                            format!(
                                "timed out waiting for `{name}` to stop ({} instances left)",
                                app.instances.len()
                            ),
                        )
                        .with_hint("ltc keeps removing it in the background; `ltc list` shows it until it is gone"));
                    }
                }
                Err(e) if e.kind == Kind::NotFound => {
                    spinner.finish();
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    if ui.json {
        ui.json(&serde_json::json!({ "removed": removed }));
    }
    Ok(())
}
