//! `ltc scale`: changes an app's instance count and waits until it converges.

use super::{app_path, wait};
use crate::cli::ScaleArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{AppName, AppStatus, ScaleRequest};
use crate::ui::{Color, Ui};
use hyper::Method;

pub async fn run(args: ScaleArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let client = client::connect(settings, ui).await?;
    let request = ScaleRequest {
        instances: args.instances,
    };
    let path = format!("{}/instances", app_path(name.as_str()));
    let (app, version): (AppStatus, u64) = client.call(Method::PUT, &path, Some(&request)).await?;
    ui.note(format!("Scaling {name} to {} instances", args.instances));
    if !args.wait.waits() {
        if ui.json {
            ui.json(&app);
        }
        return Ok(());
    }
    let app = wait::until_converged(
        &client,
        name.as_str(),
        app.change,
        version,
        args.timeout,
        ui,
    )
    .await?;
    if ui.json {
        ui.json(&app);
    } else if !ui.quiet {
        ui.out(ui.paint(Color::Green, "App Scaled Successfully"));
    }
    Ok(())
}
