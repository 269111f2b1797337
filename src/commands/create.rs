//! `ltc create`: resolves the image, asks the node to create the app, and waits until its
//! instances run.

use super::{app_path, wait};
use crate::cli::CreateArgs;
use crate::client::{self, Client};
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::{
    AppName, AppStatus, CreateRequest, CreateResponse, ImageProgress, ImageRequest,
};
use crate::ui::progress::PullDisplay;
use crate::ui::{Color, Ui};
use hyper::Method;

pub async fn run(args: CreateArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let request = CreateRequest {
        name: name.to_string(),
        image: args.image.clone(),
        start_command: (!args.command.is_empty()).then(|| args.command.clone()),
        env: args
            .env
            .iter()
            .map(|e| e.resolve(|n| settings.caller_var(n)))
            .collect(),
        ports: args.ports.clone(),
        instances: args.instances,
        memory_mb: args.memory_mb,
        disk_mb: args.disk_mb,
        cpu_weight: args.cpu_weight,
        pids_limit: Some(args.pids_limit),
        working_dir: args.working_dir.clone(),
        user: args.user.clone(),
        privileged: args.privileged,
        http_routes: args.routes.http_routes.clone(),
        tcp_routes: args.routes.tcp_routes.clone(),
        no_routes: args.routes.no_routes,
        monitor_port: args.monitor_port,
        monitor_url: args.monitor_url.clone(),
        monitor_command: args.monitor_command.clone(),
        no_monitor: args.no_monitor,
        monitor_timeout_ms: Some(args.monitor_timeout.as_millis() as u64),
        start_timeout_ms: Some(args.start_timeout.as_millis() as u64),
    };
    if let Some(url) = &args.monitor_url {
        crate::model::parse_monitor_url(url)?;
    }
    let client = client::connect(settings, ui).await?;
    // An existing app is reported before any image is pulled (the node checks again).
    match client.get::<AppStatus>(&app_path(name.as_str())).await {
        Ok(app) if !app.removing => {
            return Err(
                Error::conflict(format!("app `{name}` already exists")).with_hint(format!(
                    "`ltc scale {name} N` changes its instances; `ltc remove {name}` removes it"
                )),
            );
        }
        Ok(_) => {}
        Err(e) if e.kind == Kind::NotFound => {}
        Err(e) => return Err(e),
    }
    prepare_image(&client, args.image.clone(), ui).await?;

    let (created, version): (CreateResponse, u64) = client
        .call(Method::POST, "/v1/apps", Some(&request))
        .await?;
    for warning in &created.warnings {
        ui.warn(warning);
    }
    for note in &created.notes {
        ui.note(note);
    }
    ui.note(format!("Creating App: {name}"));
    if !args.wait.waits() {
        if ui.json {
            ui.json(&created.app);
        } else {
            print_reachable(ui, &created.app, "App will be reachable at:");
        }
        return Ok(());
    }
    let waited = wait::until_converged(
        &client,
        name.as_str(),
        created.app.revision,
        version,
        args.timeout,
        ui,
    )
    .await;
    match waited {
        Ok(app) => {
            if ui.json {
                ui.json(&app);
            } else {
                if !ui.quiet {
                    ui.out(ui.paint(Color::Green, format!("{name} is now running.")));
                }
                print_reachable(ui, &app, "App is reachable at:");
            }
            Ok(())
        }
        Err(e) => {
            if e.kind == Kind::Timeout && !ui.json && !ui.quiet {
                print_reachable(ui, &created.app, "App will be reachable at:");
            }
            Err(e)
        }
    }
}

/// Builds or pulls the image, showing progress; `failed` lines end it with their error.
async fn prepare_image(client: &Client, image: Option<String>, ui: &Ui) -> Result<()> {
    let mut display = PullDisplay::new(ui);
    let mut failure = None;
    client
        .stream(
            Method::POST,
            "/v1/images",
            &ImageRequest { image },
            |progress: ImageProgress| match progress {
                ImageProgress::Failed { error } => failure = Some(error),
                other => display.update(&other),
            },
        )
        .await?;
    display.finish();
    failure.map_or(Ok(()), Err)
}

/// The app's addresses: the result of `create` and `update`, printed under `--quiet` too (as
/// bare lines, without the heading).
fn print_reachable(ui: &Ui, app: &AppStatus, heading: &str) {
    if app.routes.is_empty() && app.tcp_routes.is_empty() {
        return;
    }
    if !ui.quiet {
        ui.out(heading);
    }
    for route in &app.tcp_routes {
        ui.out(ui.paint(Color::Green, &route.address));
    }
    for route in &app.routes {
        ui.out(route_urls(ui, route));
    }
}

/// A route's URL on this machine and, when it differs, the URL under the system domain (which
/// needs DNS for it): `.localhost` names resolve in curl and browsers but not through every
/// resolver (glibc's, on Debian, without `libnss-myhostname`).
pub fn route_urls(ui: &Ui, route: &crate::model::RouteStatus) -> String {
    let url = ui.paint(Color::Green, &route.url);
    let host = route
        .url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split([':', '/']).next())
        .unwrap_or_default();
    if host.is_empty() || host == route.hostname {
        return url;
    }
    format!("{url}  ({})", route.url.replacen(host, &route.hostname, 1))
}
