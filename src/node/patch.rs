//! Pure translation of `ltc update`: what it changes in an app's run spec (with, in words,
//! what changed) and in its routes; and how volumes become a container's mounts.

use super::resolve::{DEFAULT_PORT, ImageChoice, resolve_monitor, routes_for, validate_env};
use crate::engine::ImageConfig;
use crate::error::{Error, Kind, Result};
use crate::model::{
    self, AppName, CreateRequest, Monitor, Routes, RunSpec, UpdateRequest, default_routes,
    parse_http_route, validate_env_name,
};

/// An update applied to what runs: the new run spec and, in words, what changed (empty when
/// nothing did). `image` is the new image when the update names one.
///
/// With a new image, what came from the old image's metadata and was not given again follows
/// the new one: the user (USER) and the ports (EXPOSE, or Lattice's 8080 when it had none).
pub fn patch_run(
    app: &AppName,
    current: &RunSpec,
    request: &UpdateRequest,
    image: Option<ImageChoice<'_>>,
    old_image: Option<&ImageConfig>,
) -> Result<(RunSpec, Vec<String>)> {
    let mut run = current.clone();
    let mut changed = Vec::new();
    if let Some(image) = &image {
        run.image = image.name.clone();
        run.image_ref = image.reference.clone();
        run.image_id = image.config.id.clone();
        run.builtin = image.builtin;
        if current.image_id != run.image_id || current.image != run.image {
            changed.push(format!("image {}", run.image));
        }
        if let Some(old) = old_image {
            if request.user.is_none() && current.user == old.user {
                run.user = image.config.user.clone();
                if run.user != current.user {
                    changed.push(format!(
                        "user {} (the image's)",
                        run.user.as_deref().unwrap_or("root")
                    ));
                }
            }
            let derived_ports = if old.exposed_ports.is_empty() {
                current.ports == [DEFAULT_PORT]
            } else {
                current.ports == old.exposed_ports
            };
            let new_ports = &image.config.exposed_ports;
            if request.ports.is_none() && derived_ports && !new_ports.is_empty() {
                run.ports = new_ports.clone();
                if run.ports != current.ports {
                    changed.push(format!(
                        "ports {} (the image's)",
                        model::join_ports(&run.ports)
                    ));
                }
            }
        }
    }
    patch_env(app, &mut run, request, &mut changed)?;
    if let Some(command) = &request.start_command {
        if command.is_empty() || command[0].is_empty() {
            return Err(Error::usage("the start command after `--` is empty"));
        }
        run.start_command = Some(command.clone());
    }
    if run.start_command.is_none()
        && let Some(image) = &image
    {
        let config = image.config;
        run.effective_command = config
            .entrypoint
            .iter()
            .chain(config.cmd.iter())
            .cloned()
            .collect();
        if run.effective_command.is_empty() {
            return Err(Error::new(
                Kind::Image,
                format!(
                    "unable to determine a start command: image `{}` has no ENTRYPOINT or CMD",
                    image.name
                ),
            )
            .with_hint("give the command after `--`: `ltc update APP --image IMAGE -- CMD...`"));
        }
    } else if let Some(command) = &run.start_command {
        run.effective_command = command.clone();
    }
    if run.effective_command != current.effective_command {
        changed.push(format!("command {}", run.effective_command.join(" ")));
    }
    for text in &request.volumes {
        let volume = model::parse_volume(text, run.privileged)?;
        if !run.volumes.contains(&volume) {
            changed.push(format!("volume {}", volume.describe()));
            mount(&mut run.volumes, volume);
        }
    }
    patch_limits(&mut run, request, &mut changed)?;
    patch_monitor(&mut run, current, request, &mut changed)?;
    Ok((run, changed))
}

/// Applies `--unset-env` and `-e` to `run`, naming each variable changed (never its value).
fn patch_env(
    app: &AppName,
    run: &mut RunSpec,
    request: &UpdateRequest,
    changed: &mut Vec<String>,
) -> Result<()> {
    validate_env(&request.env)?;
    for name in &request.unset_env {
        validate_env_name(name)?;
        if !run.env.iter().any(|v| v.name == *name) {
            return Err(Error::usage(format!(
                "`--unset-env {name}`: `{app}` has no environment variable `{name}`"
            ))
            .with_hint(format!("`ltc status {app}` lists its environment")));
        }
        run.env.retain(|v| v.name != *name);
        changed.push(format!("env {name} unset"));
    }
    for var in &request.env {
        match run.env.iter_mut().find(|v| v.name == var.name) {
            Some(existing) if existing.value == var.value => continue,
            Some(existing) => existing.value = var.value.clone(),
            None => run.env.push(var.clone()),
        }
        changed.push(format!("env {} set", var.name));
    }
    Ok(())
}

/// Mounts `volume` at its path, in place of what was mounted there.
pub(super) fn mount(volumes: &mut Vec<model::Volume>, volume: model::Volume) {
    volumes.retain(|v| v.target != volume.target);
    volumes.push(volume);
}

/// The engine's name of an app's named volume: `ltc-<home>-<name>`, so two homes on one
/// engine never share one by accident.
pub fn volume_name(install_id: &str, name: &str) -> String {
    format!("ltc-{}-{name}", &install_id[..install_id.len().min(8)])
}

/// The mounts of a container: named volumes by their engine name, directories as they are.
pub fn mounts(install_id: &str, volumes: &[model::Volume]) -> Vec<(String, String, bool)> {
    volumes
        .iter()
        .map(|v| {
            let source = match v.is_bind() {
                true => v.source.clone(),
                false => volume_name(install_id, &v.source),
            };
            (source, v.target.clone(), v.read_only)
        })
        .collect()
}

/// `--ports`, `-m`, `-d`, `-c`, `--pids-limit`, `-w`, `-u` of an update.
fn patch_limits(
    run: &mut RunSpec,
    request: &UpdateRequest,
    changed: &mut Vec<String>,
) -> Result<()> {
    if let Some(ports) = &request.ports {
        let mut ports = ports.clone();
        if ports.is_empty() || ports.contains(&0) {
            return Err(model::parse_port("0").unwrap_err());
        }
        ports.sort_unstable();
        ports.dedup();
        if ports != run.ports {
            changed.push(format!("ports {}", model::join_ports(&ports)));
            run.ports = ports;
        }
    }
    if let Some(mb) = request.memory_mb.filter(|mb| *mb != run.memory_mb) {
        run.memory_mb = mb;
        changed.push(format!("memory {mb} MB"));
    }
    if let Some(mb) = request.disk_mb.filter(|mb| *mb != run.disk_mb) {
        run.disk_mb = mb;
        changed.push(format!("disk {mb} MB"));
    }
    if let Some(weight) = request.cpu_weight {
        if !(1..=100).contains(&weight) {
            return Err(Error::usage(format!(
                "invalid CPU weight {weight}: it must be from 1 to 100"
            )));
        }
        if weight != run.cpu_weight {
            run.cpu_weight = weight;
            changed.push(format!("cpu weight {weight}"));
        }
    }
    if let Some(limit) = request.pids_limit.filter(|l| *l != run.pids_limit) {
        run.pids_limit = limit;
        changed.push(format!("pids limit {limit}"));
    }
    if let Some(dir) = &request.working_dir
        && run.working_dir.as_ref() != Some(dir)
    {
        run.working_dir = Some(dir.clone());
        changed.push(format!("working dir {dir}"));
    }
    if let Some(user) = &request.user
        && run.user.as_ref() != Some(user)
    {
        run.user = Some(user.clone());
        changed.push(format!("user {user}"));
    }
    Ok(())
}

/// The monitor flags of an update; the primary port follows the monitored one, and a port
/// monitor follows the ports when its port is no longer one of them.
fn patch_monitor(
    run: &mut RunSpec,
    current: &RunSpec,
    request: &UpdateRequest,
    changed: &mut Vec<String>,
) -> Result<()> {
    let given = CreateRequest {
        monitor_port: request.monitor_port,
        monitor_url: request.monitor_url.clone(),
        monitor_command: request.monitor_command.clone(),
        no_monitor: request.no_monitor,
        monitor_timeout_ms: request.monitor_timeout_ms,
        ..CreateRequest::default()
    };
    let asked = given.monitor_port.is_some()
        || given.monitor_url.is_some()
        || given.monitor_command.is_some()
        || given.no_monitor;
    if asked {
        (run.monitor, run.primary_port) = resolve_monitor(&given, &run.ports)?;
    } else {
        match &run.monitor {
            Monitor::Port { port } | Monitor::Url { port, .. } if !run.ports.contains(port) => {
                if matches!(run.monitor, Monitor::Url { .. }) {
                    return Err(Error::usage(format!(
                        "the monitor URL's port {port} is not one of the new ports ({})",
                        model::join_ports(&run.ports)
                    ))
                    .with_hint("give a new one with `--monitor-url PORT:/PATH`"));
                }
                run.monitor = Monitor::Port { port: run.ports[0] };
                run.primary_port = run.ports[0];
            }
            Monitor::Port { port } | Monitor::Url { port, .. } => run.primary_port = *port,
            _ if !run.ports.contains(&run.primary_port) => run.primary_port = run.ports[0],
            _ => {}
        }
    }
    if run.monitor != current.monitor {
        changed.push(format!("monitor {}", run.monitor.describe()));
    }
    if let Some(ms) = request.monitor_timeout_ms {
        if ms == 0 {
            return Err(Error::usage("--monitor-timeout must be longer than zero"));
        }
        if ms != run.monitor_timeout_ms {
            run.monitor_timeout_ms = ms;
            changed.push("monitor timeout".into());
        }
    }
    if let Some(ms) = request.start_timeout_ms.map(|ms| ms.max(1))
        && ms != run.start_timeout_ms
    {
        run.start_timeout_ms = ms;
        changed.push("start timeout".into());
    }
    Ok(())
}

/// An update applied to the routes: replaced (`-R`, `-T`, `--no-routes`), then single ones
/// added and removed. Every HTTP route must name one of `ports`.
pub fn patch_routes(
    app: &AppName,
    domain: &str,
    current: &Routes,
    before: &RunSpec,
    run: &RunSpec,
    request: &UpdateRequest,
) -> Result<Routes> {
    // Lattice's default routes follow the ports when those change.
    let defaults = default_routes(app, domain, &before.ports, before.primary_port);
    let mut routes = if request.routes.is_empty() && *current == defaults {
        default_routes(app, domain, &run.ports, run.primary_port)
    } else if request.routes.is_empty() {
        current.clone()
    } else {
        routes_for(app, domain, &run.ports, run.primary_port, &request.routes)?
    };
    for text in &request.add_routes {
        let route = match text.rsplit_once(':') {
            Some(_) => parse_http_route(text, domain, &run.ports)?,
            // Without a port, a route goes to the primary port (the app may have several).
            None => model::HttpRoute {
                hostname: model::route_hostname(text, text, domain)?,
                port: run.primary_port,
            },
        };
        routes.http.retain(|r| r.hostname != route.hostname);
        routes.http.push(route);
    }
    for text in &request.remove_routes {
        let host = text.rsplit_once(':').map_or(text.as_str(), |(h, _)| h);
        let hostname = model::route_hostname(text, host, domain)?;
        if !routes.http.iter().any(|r| r.hostname == hostname) {
            return Err(Error::usage(format!(
                "`--remove-route {text}`: `{hostname}` is not a route of `{app}`"
            ))
            .with_hint(format!("`ltc status {app}` lists its routes")));
        }
        routes.http.retain(|r| r.hostname != hostname);
    }
    let stale = routes
        .http
        .iter()
        .map(|r| r.port)
        .chain(routes.tcp.iter().map(|r| r.port))
        .find(|port| !run.ports.contains(port));
    if let Some(port) = stale {
        return Err(Error::usage(format!(
            "a route of `{app}` goes to port {port}, which is not one of its ports ({})",
            model::join_ports(&run.ports)
        ))
        .with_hint("give the routes again with `-R HOST:PORT` (or `--no-routes`)"));
    }
    Ok(routes)
}
