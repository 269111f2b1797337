//! `ltc update`: replaces an app's routes, live.

use super::app_path;
use crate::cli::UpdateArgs;
use crate::client;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::model::{AppName, AppStatus};
use crate::ui::{Color, Ui};
use hyper::Method;

pub async fn run(args: UpdateArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let request = args.routes.request();
    if request.is_empty() {
        return Err(Error::usage(format!(
            "Please enter 'ltc update {name}' followed by at least one of: '--no-routes', \
             '--http-route' or '--tcp-route' flag."
        )));
    }
    let client = client::connect(settings, ui).await?;
    let path = format!("{}/routes", app_path(name.as_str()));
    let (app, _): (AppStatus, u64) = client.call(Method::PUT, &path, Some(&request)).await?;
    if ui.json {
        ui.json(&app);
        return Ok(());
    }
    ui.note(format!(
        "Updating {name} routes. You can check this app's current routes by running 'ltc status {name}'"
    ));
    // The routes are the result: printed under --quiet too.
    for route in &app.tcp_routes {
        ui.out(ui.paint(Color::Green, &route.address));
    }
    for route in &app.routes {
        ui.out(super::create::route_urls(ui, route));
    }
    Ok(())
}
