//! The write side: the target, and create, scale, update and remove, with the checks that
//! come before a change is saved (route ownership, placement). Each change goes through
//! [`Node::commit`]: saved to `state.json`, then published to the router and to waiters.

use super::{Inner, Node};
use super::{plural, resolve, store};
use crate::demo;
use crate::engine::EngineError;
use crate::error::{Error, Kind, Result};
use crate::logging::{log, now_millis};
use crate::model::{
    self, AppName, AppSpec, AppStatus, CreateRequest, CreateResponse, TargetChange, TargetInfo,
    TargetRequest,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// Refuses a change that would reserve more memory than the machine has (Lattice's placement
/// error, exit 11).
pub fn check_placement(apps: &BTreeMap<String, AppSpec>, memory_bytes: u64) -> Result<()> {
    let reserved_mb: u64 = apps
        .values()
        .map(|app| app.run.memory_mb * u64::from(app.instances))
        .sum();
    let machine_mb = memory_bytes / (1024 * 1024);
    if machine_mb > 0 && reserved_mb > machine_mb {
        return Err(Error::new(
            Kind::Placement,
            format!(
                "insufficient resources: the apps would reserve {reserved_mb} MB of memory and \
                 this machine has {machine_mb} MB"
            ),
        )
        .with_hint("request fewer instances or less memory (`--memory-mb`)"));
    }
    Ok(())
}

impl Node {
    // ----- target -------------------------------------------------------------------------

    pub fn target(&self) -> TargetInfo {
        let inner = self.lock();
        TargetInfo {
            domain: inner.config.domain.clone(),
            router_address: self.router_addr.to_string(),
            ltc_home: self.paths.home.display().to_string(),
            engine: inner.config.engine,
            registry: inner.config.registry.clone(),
        }
    }

    /// Sets the domain at once; an engine or registry is checked and saved, and takes
    /// effect when the node restarts (`restart` says so; `ltc target` restarts it).
    pub async fn set_target(&self, request: TargetRequest) -> Result<TargetChange> {
        let mut config = self.lock().config.clone();
        if let Some(domain) = &request.domain {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            model::validate_domain(&domain)?;
            config.domain = domain;
        }
        if let Some(registry) = &request.registry {
            config.registry = match registry.trim() {
                "" => None,
                text => Some(model::validate_registry(text)?),
            };
        }
        if let Some(engine) = request.engine {
            config.engine = engine;
        }
        if config.engine != self.engine.kind() {
            self.check_engine_change(config.engine).await?;
        }
        // A registry matters to a swarm only: on one engine it is kept for later.
        let restart = config.engine != self.engine.kind()
            || (config.engine == model::EngineKind::Swarm
                && config.registry != self.engine.registry());
        {
            let mut inner = self.lock();
            store::save(&self.paths.config_file(), &config)?;
            inner.config = config.clone();
            self.changed(&mut inner);
        }
        log(format!(
            "target set to {} on the {} engine{}",
            config.domain,
            config.engine,
            match &config.registry {
                Some(registry) => format!(" with the registry {registry}"),
                None => String::new(),
            }
        ));
        Ok(TargetChange {
            target: self.target(),
            restart,
        })
    }

    /// Another engine would not see this one's instances: it is taken only with nothing
    /// running, and a swarm only through a manager.
    async fn check_engine_change(&self, engine: model::EngineKind) -> Result<()> {
        let (apps, tasks) = {
            let inner = self.lock();
            let tasks = inner
                .desired
                .tasks
                .values()
                .filter(|t| t.state != model::TaskState::Completed)
                .count();
            (inner.desired.apps.len() as u64, tasks as u64)
        };
        if apps > 0 || tasks > 0 {
            let running = [(apps, "app"), (tasks, "unfinished task")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, noun)| plural(n, noun))
                .collect::<Vec<_>>()
                .join(" and ");
            return Err(Error::usage(format!(
                "ltc runs {running} on the {} engine: another engine would not see them",
                self.engine.kind()
            ))
            .with_hint("remove them first (`ltc remove APP`), then change the engine"));
        }
        if engine == model::EngineKind::Swarm {
            let swarm = crate::engine::swarm::SwarmEngine::new(&self.engine.endpoint(), None);
            swarm.manager().await.map_err(|e| {
                Error::from(e).with_hint(
                    "make the engine a swarm's manager (`docker swarm init`, or `docker node \
                     promote` on a manager), or point DOCKER_HOST at a manager",
                )
            })?;
        }
        Ok(())
    }

    // ----- apps ---------------------------------------------------------------------------

    pub async fn create(&self, request: CreateRequest) -> Result<CreateResponse> {
        let name = AppName::parse(&request.name)?;
        if self.lock().desired.apps.contains_key(name.as_str()) {
            return Err(already_exists(&name));
        }
        let (image_name, reference, builtin, config) = self.image_for_create(&request).await?;
        let memory = self.machine_memory().await?;
        let volumes: Vec<crate::model::Volume> = request
            .volumes
            .iter()
            .map(|v| model::parse_volume(v, request.privileged))
            .collect::<Result<_>>()?;
        check_binds(&volumes)?;
        // What runs is pinned by id: a later pull of the same name changes nothing that runs.
        let reference = match (&config.id, builtin) {
            (Some(id), false) => id.clone(),
            _ => reference,
        };

        if self.lock().desired.apps.contains_key(name.as_str()) {
            return Err(already_exists(&name));
        }
        self.ensure_volumes(&volumes).await?;
        let (resolved, status) = {
            let mut inner = self.lock();
            if inner.desired.apps.contains_key(name.as_str()) {
                return Err(already_exists(&name));
            }
            let generation = inner.desired.next_generation;
            let resolved = resolve::resolve_create(
                &request,
                resolve::ImageChoice {
                    name: image_name,
                    reference,
                    builtin,
                    config: &config,
                },
                &inner.config.domain,
                generation,
                now_millis(),
            )?;
            let mut resolved = resolved;
            let (edge, _, edge_warnings) = super::edge::patch_edge(
                &self.paths.home,
                &name,
                &Default::default(),
                (&resolved.spec.routes, &inner.config.domain),
                &request.edge,
            )?;
            resolved.spec.edge = edge;
            resolved.warnings.extend(edge_warnings);
            self.check_routes(&inner, &resolved.spec)?;
            check_binds(&resolved.spec.run.volumes)?;
            let mut next = inner.desired.clone();
            next.next_generation += 1;
            next.apps.insert(name.to_string(), resolved.spec.clone());
            check_placement(&next.apps, memory)?;
            self.commit(&mut inner, next)?;
            // A removed app of the same name may have left lines: this app's log starts here.
            self.logs.clear_recent(name.as_str());
            let status = self.status_of(&inner, name.as_str()).expect("just created");
            (resolved, status)
        };
        if !builtin {
            // Keeps revision 1's image on the engine while the revision is kept.
            let (repository, tag) =
                super::rollout::revision_image(&self.install_id, name.as_str(), 1);
            if let Err(e) = self
                .engine
                .tag_image(&resolved.spec.run.image_ref, &repository, &tag)
                .await
            {
                log(format!("cannot name the image of {name}: {e}"));
            }
        }
        if !resolved.spec.edge.certificates.is_empty() {
            self.publish_certificates();
        }
        self.wait_for_tcp_routes(&resolved.spec.routes).await?;
        let what = format!(
            "{} of {}",
            plural(resolved.spec.instances, "instance"),
            resolved.spec.run.image
        );
        log(format!("created {name} ({what})"));
        self.logs
            .event("app_created", name.as_str(), None, None, what);
        self.route_events(
            name.as_str(),
            &model::Routes::default(),
            &resolved.spec.routes,
        );
        self.kick();
        Ok(CreateResponse {
            app: status,
            notes: resolved.notes,
            warnings: resolved.warnings,
        })
    }

    /// The image a create runs: its shown name, the reference to run, whether it is the built-in
    /// demo app, and its config. The demo app's image is made here when it is missing.
    async fn image_for_create(
        &self,
        request: &CreateRequest,
    ) -> Result<(String, String, bool, crate::engine::ImageConfig)> {
        let builtin = demo::is_builtin(request.image.as_deref());
        let (image_name, reference) = if builtin {
            let shown = request
                .image
                .clone()
                .unwrap_or_else(|| model::LATTICE_APP_IMAGE.to_string());
            (shown, demo::image_ref())
        } else {
            let image = request.image.clone().unwrap_or_default();
            (request.built_from.clone().unwrap_or(image.clone()), image)
        };
        let config = match self.engine.image_config(&reference).await? {
            Some(config) => config,
            None if builtin => {
                self.ensure_demo_image(&|_| {}).await?;
                self.engine
                    .image_config(&reference)
                    .await?
                    .ok_or_else(|| EngineError::ImageNotFound(reference.clone()))?
            }
            None => return Err(EngineError::ImageNotFound(reference).into()),
        };
        Ok((image_name, reference, builtin, config))
    }

    /// Refuses, before anything is made, a TCP route on a port another program holds: the
    /// router could not open it, and the app would exist with a dead route.
    fn check_tcp_ports_free(&self, inner: &Inner, spec: &AppSpec) -> Result<()> {
        if !self
            .router_serving
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let ours: Vec<u16> = inner
            .desired
            .apps
            .values()
            .flat_map(|app| app.routes.tcp.iter().map(|r| r.external_port))
            .collect();
        for route in spec
            .routes
            .tcp
            .iter()
            .filter(|r| !ours.contains(&r.external_port))
        {
            let addr = std::net::SocketAddr::new(self.router_addr.ip(), route.external_port);
            if let Err(e) = std::net::TcpListener::bind(addr) {
                return Err(Error::conflict(format!(
                    "TCP route port {} cannot be opened on {}: {e}",
                    route.external_port,
                    self.router_addr.ip()
                ))
                .with_hint("another program uses it; `-T OTHER:PORT` picks another"));
            }
        }
        Ok(())
    }

    pub(super) fn check_routes(&self, inner: &Inner, spec: &AppSpec) -> Result<()> {
        let domain = &inner.config.domain;
        for route in &spec.routes.http {
            let names = model::served_names(&route.hostname, domain);
            if let Some(name) = names.iter().find(|n| self.router.is_reserved_host(n)) {
                return Err(Error::usage(format!(
                    "route `{name}` is the router's own address (its dashboard, /metrics and /health)"
                ))
                .with_hint("choose another hostname with `-R HOST`"));
            }
            let taken = inner
                .desired
                .apps
                .values()
                .filter(|other| other.name != spec.name)
                .find_map(|other| {
                    other.routes.http.iter().find_map(|r| {
                        model::served_names(&r.hostname, domain)
                            .into_iter()
                            .find(|name| names.contains(name))
                            .map(|name| (other, name))
                    })
                });
            if let Some((other, name)) = taken {
                return Err(Error::conflict(format!(
                    "route `{name}` is already used by app `{}`",
                    other.name
                ))
                .with_hint(format!(
                    "choose another with `-R HOST`, or free it first: `ltc update {} -R OTHER`",
                    other.name
                )));
            }
        }
        for route in &spec.routes.tcp {
            let https_port = self.router_tls_addr.map(|a| a.port());
            if https_port == Some(route.external_port) {
                return Err(Error::usage(format!(
                    "TCP route port {} is the router's own HTTPS port",
                    route.external_port
                ))
                .with_hint("pick another external port: `-T OTHER:PORT`"));
            }
            if route.external_port == self.router_addr.port() {
                return Err(Error::usage(format!(
                    "TCP route port {} is the router's own HTTP port",
                    route.external_port
                ))
                .with_hint("pick another external port: `-T OTHER:PORT`"));
            }
            let taken = inner.desired.apps.values().find(|other| {
                other.name != spec.name
                    && other
                        .routes
                        .tcp
                        .iter()
                        .any(|r| r.external_port == route.external_port)
            });
            if let Some(other) = taken {
                return Err(Error::conflict(format!(
                    "TCP route port {} is already used by app `{}`",
                    route.external_port, other.name
                ))
                .with_hint("pick another external port: `-T OTHER:PORT`"));
            }
        }
        // Last: the more specific errors above say more than "cannot be opened".
        self.check_tcp_ports_free(inner, spec)
    }

    pub async fn scale(&self, name: &str, instances: u32) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        model::validate_instances(instances)?;
        // Scale needs the engine; a cached size would hide an engine that went away.
        let memory = self.check_engine().await?.memory_bytes;
        let status = {
            let mut inner = self.lock();
            if !inner.desired.apps.contains_key(name.as_str()) {
                return Err(Error::app_not_found(name.as_str()));
            }
            let mut next = inner.desired.clone();
            let revision = next.next_generation;
            next.next_generation += 1;
            let spec = next.apps.get_mut(name.as_str()).expect("checked above");
            let growing = instances > spec.instances;
            spec.instances = instances;
            spec.change = revision;
            if growing {
                check_placement(&next.apps, memory)?;
            }
            self.commit(&mut inner, next)?;
            self.status_of(&inner, name.as_str()).expect("app exists")
        };
        log(format!("scaled {name} to {instances}"));
        self.logs.event(
            "app_scaled",
            name.as_str(),
            None,
            None,
            plural(instances, "instance"),
        );
        self.kick();
        Ok(status)
    }

    /// Replaces an app's routes, live: no instance restarts, the next request sees them.
    pub async fn update_routes(
        &self,
        name: &str,
        request: model::RouteRequest,
    ) -> Result<AppStatus> {
        if request.is_empty() {
            return Err(Error::usage(format!(
                "Please enter 'ltc update {name}' followed by at least one of: '--no-routes', \
                 '--http-route' or '--tcp-route' flag."
            )));
        }
        self.update(
            name,
            model::UpdateRequest {
                routes: request,
                ..model::UpdateRequest::default()
            },
        )
        .await
    }

    /// Removes an app; its named volumes go too when `volumes` (once no other app mounts
    /// them), and are kept otherwise.
    pub async fn remove(&self, name: &str, volumes: bool) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        self.check_engine().await?;
        if volumes {
            self.remove_volumes
                .lock()
                .expect("remove volumes lock")
                .insert(name.to_string());
        }
        let status_routes;
        let status = {
            let mut inner = self.lock();
            let Some(spec) = inner.desired.apps.get(name.as_str()).cloned() else {
                return Err(Error::app_not_found(name.as_str()));
            };
            let mut next = inner.desired.clone();
            next.apps.remove(name.as_str());
            status_routes = spec.routes.clone();
            inner.removing.insert(name.to_string(), spec);
            if let Err(e) = self.commit(&mut inner, next) {
                inner.removing.remove(name.as_str());
                return Err(e);
            }
            self.status_of(&inner, name.as_str())
                .expect("still removing")
        };
        log(format!("removing {name}"));
        self.logs
            .event("app_removed", name.as_str(), None, None, "removing".into());
        self.route_events(name.as_str(), &status_routes, &model::Routes::default());
        self.kick();
        Ok(status)
    }

    /// Returns once the router listens on every TCP route of `routes` (the change is then in
    /// effect for the next connection), or says which port could not be opened.
    pub(super) async fn wait_for_tcp_routes(&self, routes: &model::Routes) -> Result<()> {
        // Without a running router (the node's own tests) there is nothing to wait for.
        if !self
            .router_serving
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let ports: Vec<u16> = routes.tcp.iter().map(|r| r.external_port).collect();
        self.router
            .wait_tcp(&ports, Duration::from_secs(2))
            .await
            .map_err(|missing| {
                Error::failed(format!(
                    "the router could not open TCP route port {}",
                    model::join_ports(&missing)
                ))
                .with_hint(
                    "another program may use it; `ltc update APP -T OTHER:PORT` picks another",
                )
            })
    }

    /// `route_added` and `route_removed` events for a change of an app's routes.
    pub(super) fn route_events(&self, app: &str, before: &model::Routes, after: &model::Routes) {
        let (old, new) = (before.lines(), after.lines());
        for route in new.iter().filter(|r| !old.contains(r)) {
            self.logs
                .event("route_added", app, None, None, route.clone());
        }
        for route in old.iter().filter(|r| !new.contains(r)) {
            self.logs
                .event("route_removed", app, None, None, route.clone());
        }
    }
}

/// A directory (or file) mounted into instances must exist on this machine (exit 13).
pub(super) fn check_binds(volumes: &[crate::model::Volume]) -> Result<()> {
    for volume in volumes.iter().filter(|v| v.is_bind()) {
        if !std::path::Path::new(&volume.source).exists() {
            return Err(Error::usage(format!(
                "--volume `{}`: {} does not exist on this machine",
                volume.describe(),
                volume.source
            )));
        }
    }
    Ok(())
}

pub(super) fn already_exists(name: &AppName) -> Error {
    Error::conflict(format!("app `{name}` already exists")).with_hint(format!(
        "`ltc scale {name} N` changes its instances; `ltc remove {name}` removes it"
    ))
}
