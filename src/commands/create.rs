//! `ltc create`: resolves the image, asks the node to create the app, and waits until its
//! instances run.

use super::{app_path, wait};
use crate::cli::CreateArgs;
use crate::client::{self, Client};
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::{
    AppName, AppStatus, BuildRequest, CreateRequest, CreateResponse, ImageProgress, ImageRequest,
};
use crate::ui::progress::PullDisplay;
use crate::ui::{Color, Ui};
use hyper::Method;

pub async fn run(args: CreateArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let mut env = Vec::new();
    for file in &args.env_file {
        env.extend(crate::cli::read_env_file(file, |n| settings.caller_var(n))?);
    }
    env.extend(
        args.env
            .iter()
            .map(|e| e.resolve(|n| settings.caller_var(n))),
    );
    let build = build_request(args.image.as_deref(), &args.build, settings)?;
    let mut request = CreateRequest {
        name: name.to_string(),
        image: args.image.clone(),
        built_from: None,
        start_command: (!args.command.is_empty()).then(|| args.command.clone()),
        env,
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
        volumes: args.volumes.clone(),
        edge: args.edge.request()?,
    };
    for volume in &args.volumes {
        crate::model::parse_volume(volume, args.privileged)?;
    }
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
    let prepared = prepare_image(
        &client,
        ImageRequest {
            image: args.image.clone(),
            app: Some(name.to_string()),
            build: build.clone(),
        },
        ui,
    )
    .await?;
    if let Some(build) = build {
        request.image = Some(prepared);
        request.built_from = Some(build.path);
    }

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
        created.app.change,
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
/// Returns the image to run.
pub async fn prepare_image(client: &Client, request: ImageRequest, ui: &Ui) -> Result<String> {
    let mut display = PullDisplay::new(ui);
    let mut failure = None;
    let mut image = String::new();
    client
        .stream(
            Method::POST,
            "/v1/images",
            &request,
            |progress: ImageProgress| match progress {
                ImageProgress::Failed { error } => failure = Some(error),
                ImageProgress::Done { image: done } => image = done,
                other => display.update(&other),
            },
        )
        .await?;
    display.finish();
    failure.map_or(Ok(image), Err)
}

/// The build `--path` (or an IMAGE that is a directory) asks for, with an absolute path.
pub fn build_request(
    image: Option<&str>,
    args: &crate::cli::BuildArgs,
    settings: &Settings,
) -> Result<Option<BuildRequest>> {
    let dir = match (&args.path, image) {
        (Some(_), Some(image)) => {
            return Err(Error::usage(format!(
                "give either an image (`{image}`) or `--path DIR`, not both"
            )));
        }
        (Some(path), None) => path.clone(),
        (None, Some(image)) if crate::cli::is_directory_image(image) => image.into(),
        (None, _) => {
            if args.dockerfile.is_some() || !args.build_arg.is_empty() {
                return Err(Error::usage(
                    "`--dockerfile` and `--build-arg` go with a directory to build (`--path DIR`)",
                ));
            }
            return Ok(None);
        }
    };
    let dir = std::path::absolute(&dir)
        .map_err(|e| Error::usage(format!("bad directory `{}`: {e}", dir.display())))?;
    Ok(Some(BuildRequest {
        path: dir.display().to_string(),
        dockerfile: args.dockerfile.clone(),
        build_args: args
            .build_arg
            .iter()
            .map(|a| a.resolve(|n| settings.caller_var(n)))
            .collect(),
    }))
}

/// The app's addresses: the result of `create` and `update`, printed under `--quiet` too (as
/// bare lines, without the heading).
pub fn print_reachable(ui: &Ui, app: &AppStatus, heading: &str) {
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
