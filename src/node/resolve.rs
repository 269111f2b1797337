//! Pure translation: a create request plus the image's metadata becomes an [`AppSpec`] (with
//! Lattice's notes about every default it chose), and an app spec plus an index becomes the
//! [`InstanceSpec`] of one container (labels, published ports, and the environment Lattice gave
//! every instance).

use crate::engine::{ImageConfig, InstanceSpec, labels};
use crate::error::{Error, Kind, Result};
use crate::model::{
    self, AppName, AppSpec, CreateRequest, EnvVar, Monitor, RouteRequest, Routes, RunSpec,
    default_routes, parse_http_route, parse_tcp_route, validate_env_name, validate_instances,
};
use std::collections::BTreeMap;

/// The port Lattice used when neither `--ports` nor the image named one.
pub const DEFAULT_PORT: u16 = 8080;

/// Lattice's `--monitor-timeout` default.
pub const DEFAULT_MONITOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The monitor, and the primary port: the monitored port when there is one (as Lattice chose
/// it), else the lowest port.
pub(super) fn resolve_monitor(request: &CreateRequest, ports: &[u16]) -> Result<(Monitor, u16)> {
    let given = [
        request.monitor_port.is_some(),
        request.monitor_url.is_some(),
        request.monitor_command.is_some(),
        request.no_monitor,
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::usage(
            "give at most one of --monitor-port, --monitor-url, --monitor-command and --no-monitor",
        ));
    }
    if request.monitor_timeout_ms == Some(0) {
        return Err(Error::usage("--monitor-timeout must be longer than zero"));
    }
    let exposed = |port: u16| {
        if ports.contains(&port) {
            Ok(port)
        } else {
            Err(Error::usage(format!(
                "Must have an exposed port that matches the monitored port: {port} is not one of {}",
                model::join_ports(ports)
            )))
        }
    };
    Ok(if let Some(port) = request.monitor_port {
        let port = exposed(port)?;
        (Monitor::Port { port }, port)
    } else if let Some(url) = &request.monitor_url {
        let (port, path) = model::parse_monitor_url(url)?;
        let port = exposed(port)?;
        (Monitor::Url { port, path }, port)
    } else if let Some(command) = &request.monitor_command {
        if command.trim().is_empty() {
            return Err(Error::usage("--monitor-command must not be empty"));
        }
        (
            Monitor::Command {
                command: command.clone(),
            },
            ports[0],
        )
    } else if request.no_monitor {
        (Monitor::None, ports[0])
    } else {
        (Monitor::Port { port: ports[0] }, ports[0])
    })
}

/// The result of resolving a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub spec: AppSpec,
    /// What ltc chose and why, in Lattice's words (printed on stderr by `create`).
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Where the image comes from, as the node determined it.
pub struct ImageChoice<'a> {
    pub name: String,
    pub reference: String,
    pub builtin: bool,
    pub config: &'a ImageConfig,
}

pub fn resolve_create(
    request: &CreateRequest,
    image: ImageChoice<'_>,
    domain: &str,
    generation: u64,
    now_millis: u64,
) -> Result<Resolved> {
    let name = AppName::parse(&request.name)?;
    validate_instances(request.instances)?;
    if !(1..=100).contains(&request.cpu_weight) {
        return Err(Error::usage(format!(
            "invalid CPU weight {}: it must be from 1 to 100",
            request.cpu_weight
        )));
    }
    validate_env(&request.env)?;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let config = image.config;

    let ports = resolve_ports(request, config, &mut notes)?;
    let (monitor, primary_port) = resolve_monitor(request, &ports)?;
    explain(request, config, &monitor, &mut notes, &mut warnings);

    let (start_command, effective_command) = resolve_command(request, &image, &mut notes)?;

    let routes = routes_for(
        &name,
        domain,
        &ports,
        primary_port,
        &RouteRequest {
            http_routes: request.http_routes.clone(),
            tcp_routes: request.tcp_routes.clone(),
            no_routes: request.no_routes,
        },
    )?;

    let run = RunSpec {
        image: image.name,
        image_ref: image.reference,
        image_id: config.id.clone(),
        builtin: image.builtin,
        start_command,
        effective_command,
        env: request.env.clone(),
        ports,
        primary_port,
        memory_mb: request.memory_mb,
        disk_mb: request.disk_mb,
        cpu_weight: request.cpu_weight,
        pids_limit: request
            .pids_limit
            .unwrap_or(crate::model::DEFAULT_PIDS_LIMIT),
        working_dir: request.working_dir.clone(),
        user: request.user.clone().or_else(|| config.user.clone()),
        privileged: request.privileged,
        monitor,
        monitor_timeout_ms: request
            .monitor_timeout_ms
            .unwrap_or(DEFAULT_MONITOR_TIMEOUT.as_millis() as u64),
        start_timeout_ms: request
            .start_timeout_ms
            .unwrap_or(crate::model::DEFAULT_START_TIMEOUT.as_millis() as u64)
            .max(1),
        volumes: Vec::new(),
    };
    let mut run = run;
    for text in &request.volumes {
        super::patch::mount(
            &mut run.volumes,
            model::parse_volume(text, request.privileged)?,
        );
    }
    let mut spec = AppSpec {
        name,
        run,
        instances: request.instances,
        routes,
        generation,
        change: generation,
        release: 1,
        created_at: now_millis,
        history: Vec::new(),
        rollout: None,
        last_rollout: None,
        edge: Default::default(),
    };
    spec.ensure_history();
    Ok(Resolved {
        spec,
        notes,
        warnings,
    })
}

/// Checks `-e` values: shell names, and no NUL byte.
pub(super) fn validate_env(env: &[EnvVar]) -> Result<()> {
    for var in env {
        validate_env_name(&var.name)?;
        // A process's environment is NUL-terminated strings: Docker would start a container
        // that can never run. The value itself is never echoed (it may be a secret).
        if var.value.contains('\0') {
            return Err(Error::usage(format!(
                "the value of environment variable `{}` contains a NUL byte",
                var.name
            )));
        }
    }
    Ok(())
}

/// The app's container ports: the ones asked for, else the image's EXPOSE, else 8080.
fn resolve_ports(
    request: &CreateRequest,
    config: &ImageConfig,
    notes: &mut Vec<String>,
) -> Result<Vec<u16>> {
    Ok(if request.ports.is_empty() {
        if config.exposed_ports.is_empty() {
            notes.push(format!(
                "No port specified, image metadata did not contain exposed ports. Defaulting to {DEFAULT_PORT}."
            ));
            vec![DEFAULT_PORT]
        } else {
            notes.push(format!(
                "No port specified, using exposed ports from the image metadata.\n\tExposed Ports: {}",
                config
                    .exposed_ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            config.exposed_ports.clone()
        }
    } else {
        let mut ports = request.ports.clone();
        if ports.contains(&0) {
            return Err(model::parse_port("0").unwrap_err());
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    })
}

/// Lattice's notes and warnings about what the app will run as and how it is monitored.
fn explain(
    request: &CreateRequest,
    config: &ImageConfig,
    monitor: &Monitor,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    if request.privileged {
        warnings.push(
            "It is possible for a privileged app to break out of its container and access the host OS!"
                .to_string(),
        );
    }
    match (&request.user, &config.user) {
        (Some(user), _) => notes.push(format!("Setting the user to {user} from option...")),
        (None, Some(user)) => notes.push(format!(
            "Setting the user to {user} (obtained from docker image metadata)..."
        )),
        (None, None) => warnings.push(
            "No container user specified to run your app, your app will be run as root!"
                .to_string(),
        ),
    }
    if request.working_dir.is_none() {
        notes.push(
            "No working directory specified, using working directory from the image metadata..."
                .to_string(),
        );
        notes.push(format!(
            "Working directory is:\n{}",
            config.working_dir.as_deref().unwrap_or("/")
        ));
    }
    notes.push(match monitor {
        Monitor::Port { port } => format!("Monitoring the app on port {port}..."),
        Monitor::Url { port, path } => format!("Monitoring the app on url {port}:{path}..."),
        Monitor::Command { command } => format!("Monitoring the app with command {command}"),
        Monitor::None => "No ports will be monitored.".to_string(),
    });
}

/// The start command as given (`None`: the image's), and the command that will run.
fn resolve_command(
    request: &CreateRequest,
    image: &ImageChoice<'_>,
    notes: &mut Vec<String>,
) -> Result<(Option<Vec<String>>, Vec<String>)> {
    let config = image.config;
    let start_command = match &request.start_command {
        Some(command) if command.is_empty() || command[0].is_empty() => {
            return Err(Error::usage("the start command after `--` is empty"));
        }
        Some(command) => Some(command.clone()),
        None => None,
    };
    let effective_command = match &start_command {
        Some(command) => command.clone(),
        None => {
            let command: Vec<String> = config
                .entrypoint
                .iter()
                .chain(config.cmd.iter())
                .cloned()
                .collect();
            if command.is_empty() {
                return Err(Error::new(
                    Kind::Image,
                    format!(
                        "unable to determine a start command: image `{}` has no ENTRYPOINT or CMD",
                        image.name
                    ),
                )
                .with_hint("give the command after `--`: `ltc create APP IMAGE -- CMD ARGS...`"));
            }
            notes.push(
                "No start command specified, using start command from the image metadata...".into(),
            );
            notes.push(format!("Start command is:\n{}", command.join(" ")));
            command
        }
    };
    Ok((start_command, effective_command))
}

/// An app's routes from `--http-route`, `--tcp-route` and `--no-routes`: none, the given
/// ones, or (when neither is given) Lattice's defaults.
pub fn routes_for(
    name: &AppName,
    domain: &str,
    ports: &[u16],
    primary_port: u16,
    request: &RouteRequest,
) -> Result<Routes> {
    if request.no_routes {
        return Ok(Routes::default());
    }
    if request.http_routes.is_empty() && request.tcp_routes.is_empty() {
        return Ok(default_routes(name, domain, ports, primary_port));
    }
    let http = request
        .http_routes
        .iter()
        .map(|r| parse_http_route(r, domain, ports))
        .collect::<Result<Vec<_>>>()?;
    let tcp = request
        .tcp_routes
        .iter()
        .map(|r| parse_tcp_route(r, ports))
        .collect::<Result<Vec<_>>>()?;
    Ok(Routes { http, tcp })
}

/// The container name: `ltc-<app>-<index>-<first 8 of the guid>`.
pub fn container_name(app: &str, index: u32, guid: &str) -> String {
    format!("ltc-{app}-{index}-{}", &guid[..guid.len().min(8)])
}

/// `VCAP_APPLICATION` as Lattice set it: the app's name, its HTTP hostnames and limits.
fn vcap_application(spec: &AppSpec) -> String {
    let uris: Vec<&str> = spec
        .routes
        .http
        .iter()
        .map(|r| r.hostname.as_str())
        .collect();
    let mut limits = serde_json::Map::new();
    if spec.run.disk_mb > 0 {
        limits.insert("disk".into(), spec.run.disk_mb.into());
    }
    if spec.run.memory_mb > 0 {
        limits.insert("mem".into(), spec.run.memory_mb.into());
    }
    serde_json::json!({
        "application_name": spec.name.as_str(),
        "application_uris": uris,
        "name": spec.name.as_str(),
        "uris": uris,
        "limits": limits,
    })
    .to_string()
}

/// Identity of the node that creates the container.
pub struct Owner<'a> {
    pub install_id: &'a str,
    pub home: &'a str,
}

/// The container of instance `index` of `spec`, with `host_ports` (container port → host port
/// on 127.0.0.1) chosen by the node.
pub fn instance_spec(
    spec: &AppSpec,
    index: u32,
    guid: &str,
    host_ports: &BTreeMap<u16, u16>,
    owner: &Owner<'_>,
) -> InstanceSpec {
    let primary_host_port = host_ports.get(&spec.run.primary_port).copied().unwrap_or(0);
    let instance_ports: Vec<serde_json::Value> = spec
        .run.ports
        .iter()
        .map(|p| serde_json::json!({"external": host_ports.get(p).copied().unwrap_or(0), "internal": p}))
        .collect();
    let given = |name: &str| spec.run.env.iter().any(|v| v.name == name);

    // Later entries win: the -e values, then what ltc sets for every instance.
    let mut env: Vec<EnvVar> = spec.run.env.clone();
    let mut set = |name: &str, value: String| {
        env.retain(|v| v.name != name);
        env.push(EnvVar {
            name: name.to_string(),
            value,
        });
    };
    if !given("PROCESS_GUID") {
        set("PROCESS_GUID", spec.name.to_string());
    }
    if !given("VCAP_SERVICES") {
        set("VCAP_SERVICES", "{}".into());
    }
    set("VCAP_APPLICATION", vcap_application(spec));
    set("PORT", spec.run.primary_port.to_string());
    set("INSTANCE_INDEX", index.to_string());
    set("CF_INSTANCE_INDEX", index.to_string());
    set("INSTANCE_GUID", guid.to_string());
    set("CF_INSTANCE_GUID", guid.to_string());
    set("CF_INSTANCE_IP", "127.0.0.1".into());
    set("CF_INSTANCE_PORT", primary_host_port.to_string());
    set("CF_INSTANCE_ADDR", format!("127.0.0.1:{primary_host_port}"));
    set(
        "CF_INSTANCE_PORTS",
        serde_json::Value::Array(instance_ports).to_string(),
    );
    if let Some(user) = &spec.run.user
        && !given("USER")
    {
        set("USER", user.clone());
    }

    let labels = BTreeMap::from([
        (labels::INSTALL.to_string(), owner.install_id.to_string()),
        (labels::HOME.to_string(), owner.home.to_string()),
        (labels::APP.to_string(), spec.name.to_string()),
        (labels::INDEX.to_string(), index.to_string()),
        (labels::GUID.to_string(), guid.to_string()),
        (labels::GENERATION.to_string(), spec.generation.to_string()),
    ]);
    InstanceSpec {
        name: container_name(spec.name.as_str(), index, guid),
        image: spec.run.image_ref.clone(),
        command: spec.run.start_command.clone(),
        env: env
            .into_iter()
            .map(|v| format!("{}={}", v.name, v.value))
            .collect(),
        working_dir: spec.run.working_dir.clone(),
        user: spec.run.user.clone(),
        labels,
        ports: spec
            .run
            .ports
            .iter()
            .map(|p| (*p, host_ports.get(p).copied().unwrap_or(0)))
            .collect(),
        memory_bytes: spec.run.memory_mb * 1024 * 1024,
        // Lattice's weight 1–100 maps onto Docker's shares the way Diego mapped it.
        cpu_shares: (u64::from(spec.run.cpu_weight) * 1024 / 100).max(2),
        pids_limit: spec.run.pids_limit,
        privileged: spec.run.privileged,
        mounts: super::patch::mounts(owner.install_id, &spec.run.volumes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str) -> CreateRequest {
        CreateRequest {
            name: name.into(),
            instances: 1,
            memory_mb: 128,
            cpu_weight: 100,
            ..CreateRequest::default()
        }
    }

    fn image(config: &ImageConfig) -> ImageChoice<'_> {
        ImageChoice {
            name: "img".into(),
            reference: "img".into(),
            builtin: false,
            config,
        }
    }

    fn demo_config() -> ImageConfig {
        ImageConfig {
            entrypoint: vec!["/lattice-app".into()],
            user: Some("lattice".into()),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn an_image_without_expose_defaults_to_8080_as_lattice_did() {
        let config = demo_config();
        let resolved = resolve_create(&request("web"), image(&config), "d.io", 1, 0).unwrap();
        assert_eq!(resolved.spec.run.ports, [8080]);
        assert_eq!(resolved.spec.run.primary_port, 8080);
        assert!(resolved.notes[0].contains("Defaulting to 8080"));
        let hosts: Vec<_> = resolved
            .spec
            .routes
            .http
            .iter()
            .map(|r| r.hostname.clone())
            .collect();
        assert_eq!(hosts, ["web.d.io", "web-8080.d.io"]);
    }

    #[test]
    fn exposed_ports_are_used_and_the_lowest_is_primary() {
        let config = ImageConfig {
            exposed_ports: vec![80, 8080],
            ..demo_config()
        };
        let resolved = resolve_create(&request("web"), image(&config), "d.io", 1, 0).unwrap();
        assert_eq!(resolved.spec.run.ports, [80, 8080]);
        assert_eq!(resolved.spec.run.primary_port, 80);
        assert!(resolved.notes[0].contains("Exposed Ports: 80, 8080"));
    }

    #[test]
    fn an_image_with_nothing_to_run_needs_a_start_command() {
        let config = ImageConfig::default();
        let error = resolve_create(&request("web"), image(&config), "d.io", 1, 0).unwrap_err();
        assert_eq!(error.kind, Kind::Image);
        let mut with_command = request("web");
        with_command.start_command = Some(vec!["/bin/app".into(), "-x".into()]);
        let resolved = resolve_create(&with_command, image(&config), "d.io", 1, 0).unwrap();
        assert_eq!(resolved.spec.run.effective_command, ["/bin/app", "-x"]);
    }

    #[test]
    fn the_monitored_port_is_primary_and_must_be_exposed() {
        let config = ImageConfig {
            exposed_ports: vec![80, 8080],
            ..demo_config()
        };
        let mut req = request("web");
        req.monitor_url = Some("8080:/health".into());
        let spec = resolve_create(&req, image(&config), "d.io", 1, 0)
            .unwrap()
            .spec;
        assert_eq!(
            spec.run.monitor,
            Monitor::Url {
                port: 8080,
                path: "/health".into()
            }
        );
        assert_eq!(spec.run.primary_port, 8080);
        assert_eq!(spec.run.monitor_timeout_ms, 1000);
        let mut req = request("web");
        req.monitor_port = Some(9090);
        let error = resolve_create(&req, image(&config), "d.io", 1, 0).unwrap_err();
        assert!(
            error.message.contains("Must have an exposed port"),
            "{}",
            error.message
        );
        let mut req = request("web");
        req.no_monitor = true;
        req.monitor_port = Some(80);
        assert!(resolve_create(&req, image(&config), "d.io", 1, 0).is_err());
        let mut req = request("web");
        req.no_monitor = true;
        let resolved = resolve_create(&req, image(&config), "d.io", 1, 0).unwrap();
        assert_eq!(resolved.spec.run.monitor, Monitor::None);
        assert!(
            resolved
                .notes
                .iter()
                .any(|n| n == "No ports will be monitored.")
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let config = demo_config();
        let mut bad_weight = request("web");
        bad_weight.cpu_weight = 0;
        let mut bad_env = request("web");
        bad_env.env = vec![EnvVar {
            name: "1X".into(),
            value: String::new(),
        }];
        let mut too_many = request("web");
        too_many.instances = model::MAX_INSTANCES + 1;
        for bad in [request("Web"), bad_weight, bad_env, too_many] {
            let error = resolve_create(&bad, image(&config), "d.io", 1, 0).unwrap_err();
            assert_eq!(error.kind, Kind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn every_instance_gets_lattices_environment() {
        let config = demo_config();
        let mut req = request("web");
        req.env = vec![
            EnvVar {
                name: "FOO".into(),
                value: "bar".into(),
            },
            EnvVar {
                name: "PORT".into(),
                value: "1".into(),
            },
        ];
        let spec = resolve_create(&req, image(&config), "d.io", 4, 0)
            .unwrap()
            .spec;
        let ports = BTreeMap::from([(8080, 49000)]);
        let owner = Owner {
            install_id: "abc",
            home: "/h",
        };
        let instance = instance_spec(&spec, 2, "0123456789abcdef", &ports, &owner);
        let env: BTreeMap<_, _> = instance
            .env
            .iter()
            .map(|kv| kv.split_once('=').unwrap())
            .collect();
        assert_eq!(env["FOO"], "bar");
        assert_eq!(env["PORT"], "8080", "ltc's PORT wins over -e");
        assert_eq!(env["INSTANCE_INDEX"], "2");
        assert_eq!(env["CF_INSTANCE_INDEX"], "2");
        assert_eq!(env["INSTANCE_GUID"], "0123456789abcdef");
        assert_eq!(env["CF_INSTANCE_ADDR"], "127.0.0.1:49000");
        assert_eq!(env["CF_INSTANCE_PORT"], "49000");
        assert_eq!(
            env["CF_INSTANCE_PORTS"],
            r#"[{"external":49000,"internal":8080}]"#
        );
        assert_eq!(env["PROCESS_GUID"], "web");
        assert_eq!(env["VCAP_SERVICES"], "{}");
        assert_eq!(env["USER"], "lattice");
        assert!(env["VCAP_APPLICATION"].contains(r#""uris":["web.d.io","web-8080.d.io"]"#));
        assert_eq!(instance.name, "ltc-web-2-01234567");
        assert_eq!(instance.labels["io.ltc.generation"], "4");
        assert_eq!(instance.labels["io.ltc.install"], "abc");
        assert_eq!(instance.ports, [(8080, 49000)]);
        assert_eq!(instance.memory_bytes, 128 << 20);
        assert_eq!(instance.cpu_shares, 1024);
    }
}
