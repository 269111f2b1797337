//! `ltc update`: a new revision of what runs, rolled out instance by instance; or the routes,
//! live. `ltc rollback`, `ltc restart` and `ltc history` work on the same revisions.

use super::{app_path, create, wait};
use crate::cli::{HistoryArgs, RestartArgs, RollbackArgs, UpdateArgs};
use crate::client::{self, Client};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::model::{
    AppName, AppStatus, ImageRequest, RestartRequest, RevisionStatus, RollbackRequest,
    UpdateRequest,
};
use crate::ui::{Cell, Color, Ui};
use hyper::Method;

pub async fn run(args: UpdateArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let request = request(&args, settings)?;
    let nothing = request.clone().with_rollout(Default::default()) == UpdateRequest::default();
    if nothing && args.image.is_none() && args.build.path.is_none() {
        return Err(Error::usage(format!(
            "Please enter 'ltc update {name}' followed by at least one of: '--no-routes', \
             '--http-route', '--tcp-route', '--add-route', '--remove-route', or what runs: \
             '--image', '--path', '-e', '--unset-env', '--env-file', '-m', '--ports', a \
             command after '--', ..."
        )));
    }
    let build = create::build_request(args.image.as_deref(), &args.build, settings)?;
    let client = client::connect(settings, ui).await?;
    // The app must exist before an image is pulled or built for it.
    let before: AppStatus = client.get(&app_path(name.as_str())).await?;
    let mut request = request;
    if build.is_some() || args.image.is_some() {
        let image = create::prepare_image(
            &client,
            ImageRequest {
                image: args.image.clone(),
                app: Some(name.to_string()),
                build: build.clone(),
            },
            ui,
        )
        .await?;
        request.built_from = build.map(|b| b.path);
        request.image = Some(image);
    }
    let (app, version): (AppStatus, u64) = client
        .call(Method::PATCH, &app_path(name.as_str()), Some(&request))
        .await?;
    if app.change == before.change {
        ui.note(format!(
            "Nothing to change: {name} already has these settings (revision {}).",
            app.revision
        ));
        return finish(&client, &name, app, version, args.timeout, false, ui).await;
    }
    warn_expired(&app, ui);
    // Only routes or edge settings changed: live already.
    if app.rollout.is_none() {
        let routes_asked = !request.routes.is_empty()
            || !request.add_routes.is_empty()
            || !request.remove_routes.is_empty();
        if !routes_asked {
            return edge_changed(&name, &app, ui);
        }
        return routes_changed(&name, &app, ui);
    }
    ui.note(format!(
        "Rolling out revision {} of {name}...",
        app.revision
    ));
    finish(
        &client,
        &name,
        app,
        version,
        args.timeout,
        args.wait.waits(),
        ui,
    )
    .await
}

/// The update request of the flags (the image is filled in once it is ready).
fn request(args: &UpdateArgs, settings: &Settings) -> Result<UpdateRequest> {
    let mut env = Vec::new();
    for file in &args.env_file {
        env.extend(crate::cli::read_env_file(file, |n| settings.caller_var(n))?);
    }
    env.extend(
        args.env
            .iter()
            .map(|e| e.resolve(|n| settings.caller_var(n))),
    );
    for name in &args.unset_env {
        crate::model::validate_env_name(name)?;
    }
    if let Some(url) = &args.monitor_url {
        crate::model::parse_monitor_url(url)?;
    }
    Ok(UpdateRequest {
        image: None,
        built_from: None,
        env,
        unset_env: args.unset_env.clone(),
        start_command: (!args.command.is_empty()).then(|| args.command.clone()),
        ports: (!args.ports.is_empty()).then(|| args.ports.clone()),
        memory_mb: args.memory_mb,
        disk_mb: args.disk_mb,
        cpu_weight: args.cpu_weight,
        pids_limit: args.pids_limit,
        working_dir: args.working_dir.clone(),
        user: args.user.clone(),
        monitor_port: args.monitor_port,
        monitor_url: args.monitor_url.clone(),
        monitor_command: args.monitor_command.clone(),
        no_monitor: args.no_monitor,
        monitor_timeout_ms: args.monitor_timeout.map(|d| d.as_millis() as u64),
        start_timeout_ms: args.start_timeout.map(|d| d.as_millis() as u64),
        routes: args.routes.request(),
        volumes: args.volumes.clone(),
        add_routes: args.add_route.clone(),
        remove_routes: args.remove_route.clone(),
        rollout: Default::default(),
        edge: crate::model::EdgeRequest {
            redirect_https: match (args.edge.redirect_https, args.no_redirect_https) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            remove_certificates: args.remove_cert.clone(),
            ..args.edge.request()?
        },
    }
    .with_rollout(args.rollout.options()))
}

/// What a route-only update prints: Lattice's line, then the routes (the result, printed
/// under `--quiet` too).
fn routes_changed(name: &AppName, app: &AppStatus, ui: &Ui) -> Result<()> {
    if ui.json {
        ui.json(app);
        return Ok(());
    }
    ui.note(format!(
        "Updating {name} routes. You can check this app's current routes by running 'ltc status {name}'"
    ));
    for route in &app.tcp_routes {
        ui.out(ui.paint(Color::Green, &route.address));
    }
    for route in &app.routes {
        ui.out(create::route_urls(ui, route));
    }
    Ok(())
}

/// Warns of a certificate the app serves that is past its last valid day.
pub fn warn_expired(app: &AppStatus, ui: &Ui) {
    let now = std::time::SystemTime::now();
    for (host, not_after) in &app.certificates {
        if humantime::parse_rfc3339(not_after).is_ok_and(|at| at < now) {
            ui.warn(format!(
                "the certificate for {host} expired on {not_after}: clients will refuse it"
            ));
        }
    }
}

/// What an update of the edge settings alone prints: the app's timeouts and HTTPS.
fn edge_changed(name: &AppName, app: &AppStatus, ui: &Ui) -> Result<()> {
    if ui.json {
        ui.json(app);
        return Ok(());
    }
    let seconds = |ms: u64| humantime::format_duration(std::time::Duration::from_millis(ms));
    ui.note(format!(
        "Updated {name}: response timeout {}, drain timeout {}{}. Nothing restarted.",
        seconds(app.response_timeout_ms),
        seconds(app.drain_timeout_ms),
        match app.redirect_https {
            true => ", HTTP redirected to HTTPS",
            false => "",
        }
    ));
    for url in &app.https_urls {
        ui.out(ui.paint(Color::Green, url));
    }
    Ok(())
}

/// Waits for a rollout (unless `--no-wait`) and prints the app.
async fn finish(
    client: &Client,
    name: &AppName,
    app: AppStatus,
    version: u64,
    timeout: std::time::Duration,
    waits: bool,
    ui: &Ui,
) -> Result<()> {
    let app = if waits {
        wait::until_rolled_out(client, name.as_str(), app.change, version, timeout, ui).await?
    } else {
        app
    };
    if ui.json {
        ui.json(&app);
        return Ok(());
    }
    if waits && !ui.quiet {
        ui.out(ui.paint(
            Color::Green,
            format!(
                "{name} runs revision {} on {}.",
                app.revision,
                match app.running_instances {
                    1 => "1 instance".to_string(),
                    n => format!("{n} instances"),
                }
            ),
        ));
    }
    create::print_reachable(ui, &app, "App is reachable at:");
    Ok(())
}

pub async fn rollback(args: RollbackArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let client = client::connect(settings, ui).await?;
    let request = RollbackRequest {
        to: args.to,
        rollout: args.rollout.options(),
    };
    let path = format!("{}/rollback", app_path(name.as_str()));
    let (app, version): (AppStatus, u64) = client.call(Method::POST, &path, Some(&request)).await?;
    ui.note(format!(
        "Rolling {name} back: revision {} ({})...",
        app.revision, app.image
    ));
    finish(
        &client,
        &name,
        app,
        version,
        args.timeout,
        args.wait.waits(),
        ui,
    )
    .await
}

pub async fn restart(args: RestartArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let client = client::connect(settings, ui).await?;
    let before: AppStatus = client.get(&app_path(name.as_str())).await?;
    let request = RestartRequest {
        index: args.index,
        rollout: args.rollout.options(),
    };
    let path = format!("{}/restart", app_path(name.as_str()));
    let (app, version): (AppStatus, u64) = client.call(Method::POST, &path, Some(&request)).await?;
    let Some(index) = args.index else {
        ui.note(format!("Restarting {name}, one instance at a time..."));
        return finish(
            &client,
            &name,
            app,
            version,
            args.timeout,
            args.wait.waits(),
            ui,
        )
        .await;
    };
    ui.note(format!("Restarting instance {index} of {name}..."));
    let old: Vec<String> = before
        .instances
        .iter()
        .filter(|i| i.index == index)
        .map(|i| i.guid.clone())
        .collect();
    let app = if args.wait.waits() {
        wait::until_replaced(
            &client,
            name.as_str(),
            app.change,
            version,
            index,
            &old,
            args.timeout,
            ui,
        )
        .await?
    } else {
        app
    };
    if ui.json {
        ui.json(&app);
    }
    Ok(())
}

pub async fn history(args: HistoryArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let client = client::connect(settings, ui).await?;
    let path = format!("{}/history", app_path(name.as_str()));
    let revisions: Vec<RevisionStatus> = client.get(&path).await?;
    if ui.json {
        ui.json(&revisions);
        return Ok(());
    }
    let header = [
        "Revision", "Created", "Outcome", "Image", "Image ID", "Change",
    ];
    let mut rows = vec![header.iter().map(Cell::plain).collect::<Vec<_>>()];
    for r in revisions.iter().rev() {
        let outcome = match r.outcome.as_str() {
            "active" => Cell::colored(&r.outcome, Color::Green),
            "failed" => Cell::colored(&r.outcome, Color::Red),
            "deploying" => Cell::colored(&r.outcome, Color::Yellow),
            _ => Cell::plain(&r.outcome),
        };
        let id: String = r
            .image_id
            .as_deref()
            .map(|id| id.trim_start_matches("sha256:").chars().take(12).collect())
            .unwrap_or_default();
        rows.push(vec![
            Cell::plain(r.revision),
            Cell::plain(&r.created_at),
            outcome,
            Cell::plain(&r.image),
            Cell::plain(id),
            Cell::plain(&r.description),
        ]);
    }
    for line in crate::ui::table(ui, &rows) {
        ui.out(line);
    }
    Ok(())
}
