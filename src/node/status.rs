//! The read side: the node's identity, every app's status, waiting for a change, resource
//! samples and the cell view. Nothing here changes desired state.

use super::converge::{self, Op, Slot};
use super::logs;
use super::{API_VERSION, STATS_INTERVAL};
use super::{Inner, Node};
use crate::engine::ContainerId;
use crate::error::Result;
use crate::logging::rfc3339;
use crate::model::AppSpec;
use crate::model::{
    AppStatus, CellEngine, CellInfo, EngineStatus, InstanceState, InstanceStatus, LastCrash,
    NodeInfo, RolloutStatus, RouteStatus, TcpRouteStatus,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

impl Node {
    /// That the node answers, and the router address and engine it was started with.
    pub fn health(&self) -> crate::model::NodeHealth {
        crate::model::NodeHealth {
            ok: true,
            pid: std::process::id(),
            router: Some(self.router_addr.to_string()),
            engine: Some(self.engine.endpoint()),
        }
    }

    pub async fn info(&self) -> NodeInfo {
        let engine = match self.check_engine().await {
            Ok(info) => EngineStatus {
                endpoint: self.engine.endpoint(),
                kind: self.engine.kind(),
                version: Some(info.version),
                api_version: Some(info.api_version),
                error: None,
            },
            Err(e) => EngineStatus {
                endpoint: self.engine.endpoint(),
                kind: self.engine.kind(),
                version: None,
                api_version: None,
                error: Some(e.message),
            },
        };
        NodeInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: API_VERSION,
            pid: std::process::id(),
            install_id: self.install_id.clone(),
            ltc_home: self.paths.home.display().to_string(),
            started_at: rfc3339(self.started_at),
            engine,
            log_followers: self.stream_counts().0,
            stream_subscribers: self.stream_counts().1,
        }
    }

    pub fn list(&self) -> (Vec<AppStatus>, u64) {
        let inner = self.lock();
        let names: std::collections::BTreeSet<&String> = inner
            .desired
            .apps
            .keys()
            .chain(inner.removing.keys())
            .collect();
        let apps = names
            .into_iter()
            .filter_map(|name| self.status_of(&inner, name))
            .collect();
        (apps, inner.version)
    }

    pub fn app(&self, name: &str) -> (Option<AppStatus>, u64) {
        let inner = self.lock();
        (self.status_of(&inner, name), inner.version)
    }

    /// Waits until the node's state changes after version `since`, at most `wait`, then
    /// returns the app. Lets the CLI wait for convergence without polling.
    pub async fn watch_app(
        &self,
        name: &str,
        since: Option<u64>,
        wait: Duration,
    ) -> (Option<AppStatus>, u64) {
        if let Some(since) = since {
            let mut changes = self.changes.subscribe();
            if *changes.borrow_and_update() <= since {
                let _ = tokio::time::timeout(wait, changes.changed()).await;
            }
        }
        self.app(name)
    }

    /// The state version: bumped on every visible change.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    pub fn engine_error(&self) -> Option<String> {
        self.lock().engine_error.clone()
    }

    pub(super) fn status_of(&self, inner: &Inner, name: &str) -> Option<AppStatus> {
        let (spec, removing) = match inner.desired.apps.get(name) {
            Some(spec) => (spec, false),
            None => (inner.removing.get(name)?, true),
        };
        let desired = if removing { 0 } else { spec.instances };
        let mut slots: Vec<&Slot> = inner.slots.iter().filter(|s| s.app == name).collect();
        slots.sort_by_key(|s| (s.index, s.op == Op::Stopping));
        // An old instance a rollout has not replaced yet still counts: it serves.
        let current = |s: &Slot| {
            !removing
                && s.index < desired
                && s.op != Op::Stopping
                && spec.owns_generation(s.generation)
        };
        let stats = self.stats.lock().expect("stats lock");
        let running = slots
            .iter()
            .filter(|s| current(s) && s.state == InstanceState::Running)
            .map(|s| s.index)
            .collect::<std::collections::BTreeSet<u32>>()
            .len() as u32;
        let in_flight = self.router.requests_in_flight();
        let instances = slots
            .iter()
            .map(|slot| {
                let sample = slot.container.as_ref().and_then(|id| stats.get(id));
                let mut status = instance_status(slot, !current(slot), sample);
                status.requests_in_flight = in_flight.get(&slot.guid).copied().unwrap_or(0) as u32;
                status.revision = spec.release_of(slot.generation);
                status
            })
            .collect();
        let rollout = rollout_status(spec, &inner.slots);
        Some(AppStatus {
            name: name.to_string(),
            image: spec.run.image.clone(),
            builtin: spec.run.builtin,
            command: spec.run.effective_command.clone(),
            desired_instances: desired,
            running_instances: running,
            ports: spec.run.ports.clone(),
            primary_port: spec.run.primary_port,
            memory_mb: spec.run.memory_mb,
            disk_mb: spec.run.disk_mb,
            cpu_weight: spec.run.cpu_weight,
            pids_limit: spec.run.pids_limit,
            user: spec.run.user.clone(),
            working_dir: spec.run.working_dir.clone(),
            privileged: spec.run.privileged,
            env: spec
                .run
                .env
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            volumes: spec.run.volumes.clone(),
            routes: self.route_statuses(spec, &inner.config.domain),
            tcp_routes: self.tcp_route_statuses(spec),
            monitor: spec.run.monitor.clone(),
            monitor_timeout_ms: spec.run.monitor_timeout_ms,
            start_timeout_ms: spec.run.start_timeout_ms,
            instances,
            removing,
            generation: spec.generation,
            revision: spec.release,
            change: spec.change,
            rollout,
            last_rollout: spec.last_rollout.clone(),
            response_timeout_ms: spec.edge.response_timeout_ms(),
            drain_timeout_ms: spec.edge.drain_timeout_ms(),
            redirect_https: spec.edge.redirect_https,
            https_urls: spec
                .routes
                .http
                .iter()
                .filter_map(|r| self.https_url(&r.hostname, &inner.config.domain))
                .collect(),
            certificates: spec
                .edge
                .certificates
                .iter()
                .map(|(host, cert)| (host.clone(), cert.not_after.clone()))
                .collect(),
            created_at: crate::logging::rfc3339_millis(spec.created_at),
        })
    }

    fn route_statuses(&self, spec: &AppSpec, domain: &str) -> Vec<RouteStatus> {
        spec.routes
            .http
            .iter()
            .map(|r| RouteStatus {
                hostname: r.hostname.clone(),
                port: r.port,
                url: self.route_url(&r.hostname, domain),
            })
            .collect()
    }

    fn tcp_route_statuses(&self, spec: &AppSpec) -> Vec<TcpRouteStatus> {
        spec.routes
            .tcp
            .iter()
            .map(|r| TcpRouteStatus {
                external_port: r.external_port,
                port: r.port,
                address: SocketAddr::new(self.router_addr.ip(), r.external_port).to_string(),
            })
            .collect()
    }

    /// The URL that reaches a route from this machine: the public xip.io service no longer
    /// resolves, so `<h>.<domain>` is shown as `<h>.localhost`, which resolves to loopback
    /// without DNS and which the router serves as the same route.
    pub(super) fn route_url(&self, hostname: &str, domain: &str) -> String {
        let host = self.url_host(hostname, domain);
        match self.router_addr.port() {
            80 => format!("http://{host}"),
            port => format!("http://{host}:{port}"),
        }
    }

    /// The HTTPS URL of a route, when HTTPS is served.
    fn https_url(&self, hostname: &str, domain: &str) -> Option<String> {
        let host = self.url_host(hostname, domain);
        Some(match self.router.https_port()? {
            443 => format!("https://{host}"),
            port => format!("https://{host}:{port}"),
        })
    }

    /// `<h>.<domain>` as `<h>.localhost` when the router is on loopback (see `route_url`).
    fn url_host(&self, hostname: &str, domain: &str) -> String {
        match hostname.strip_suffix(&format!(".{domain}")) {
            Some(label) if self.router_addr.ip().is_loopback() => format!("{label}.localhost"),
            _ => hostname.to_string(),
        }
    }

    /// Output followers and live log or event subscribers, for leak checks.
    pub fn stream_counts(&self) -> (usize, usize) {
        (
            self.followers.lock().expect("followers lock").len(),
            self.logs.followers(),
        )
    }

    pub fn logs(&self) -> &Arc<logs::LogHub> {
        &self.logs
    }

    /// Samples every running container's CPU and memory in the background, at most once a
    /// second. `status` shows the latest samples; CPU needs two, so it appears from the second.
    pub fn refresh_stats(self: &Arc<Self>) {
        {
            let mut taken = self.stats_taken.lock().expect("stats lock");
            if taken.is_some_and(|at| at.elapsed() < STATS_INTERVAL) {
                return;
            }
            *taken = Some(Instant::now());
        }
        let containers: Vec<ContainerId> = self
            .lock()
            .slots
            .iter()
            .filter_map(|s| s.container.clone())
            .collect();
        let node = self.clone();
        tokio::spawn(async move {
            let samples =
                futures_util::future::join_all(containers.iter().map(|id| node.engine.stats(id)))
                    .await;
            let mut stats = node.stats.lock().expect("stats lock");
            let mut next = HashMap::new();
            for (id, sample) in containers.into_iter().zip(samples) {
                let Ok(sample) = sample else { continue };
                // A pair of samples that says nothing (the engine's clock did not move) keeps
                // the last figure rather than showing N/A for a frame.
                let cpu = stats
                    .get(&id)
                    .and_then(|(earlier, last)| sample.cpu_percent_since(earlier).or(*last));
                next.insert(id, (sample, cpu));
            }
            *stats = next;
        });
    }

    /// The cells (machines) that run instances, for `ltc cells` (Lattice's one line per
    /// cell): one for a single engine, a swarm's nodes for a swarm.
    pub async fn cells(&self) -> Result<Vec<CellInfo>> {
        let info = self.check_engine().await?;
        let reports = self
            .engine
            .cells()
            .await
            .map_err(crate::error::Error::from)?;
        // The node runs beside the engine: the filesystem of its root directory is its
        // cell's disk (unknown when the engine is elsewhere, e.g. in a VM).
        let disk = info
            .root_dir
            .as_deref()
            .and_then(|dir| fs4::statvfs(dir).ok());
        let inner = self.lock();
        let single = reports.len() == 1;
        Ok(reports
            .into_iter()
            .map(|cell| {
                let count = |state: InstanceState| {
                    inner
                        .slots
                        .iter()
                        .filter(|s| s.state == state && s.op != Op::Stopping)
                        .filter(|s| single || s.placement.cell == cell.cell_id)
                        .count()
                };
                let disk = disk.as_ref().filter(|_| cell.local);
                CellInfo {
                    engine: CellEngine {
                        endpoint: self.engine.endpoint(),
                        version: cell.engine_version.clone(),
                        kind: self.engine.kind(),
                    },
                    address: cell.address.to_string(),
                    state: cell.state.clone(),
                    availability: cell.availability.clone(),
                    memory_mb: cell.memory_bytes / (1024 * 1024),
                    cpus: cell.cpus,
                    disk_mb: disk.map(|d| d.total_space() / (1024 * 1024)),
                    disk_free_mb: disk.map(|d| d.available_space() / (1024 * 1024)),
                    running_instances: count(InstanceState::Running),
                    claimed_instances: count(InstanceState::Claimed),
                    crashed_instances: count(InstanceState::Crashed),
                    // One machine reserves what every desired instance asks for; a
                    // swarm's cell what the instances placed on it ask for.
                    reserved_memory_mb: match single {
                        true => inner
                            .desired
                            .apps
                            .values()
                            .map(|a| a.run.memory_mb * u64::from(a.instances))
                            .sum(),
                        false => inner
                            .slots
                            .iter()
                            .filter(|s| s.placement.cell == cell.cell_id)
                            .filter(|s| s.container.is_some() && s.op != Op::Stopping)
                            .filter_map(|s| inner.desired.apps.get(&s.app))
                            .map(|a| a.run.memory_mb)
                            .sum(),
                    },
                    cell_id: cell.cell_id,
                }
            })
            .collect())
    }
}

/// One instance as status shows it; `leaving` when it no longer counts for its app (being
/// stopped, of an old generation, or above the instance count).
fn instance_status(
    slot: &Slot,
    leaving: bool,
    sample: Option<&(crate::engine::StatsSample, Option<f64>)>,
) -> InstanceStatus {
    // Where it runs, once it has a container.
    let placed = slot.container.is_some().then_some(&slot.placement);
    InstanceStatus {
        index: slot.index,
        guid: slot.guid.clone(),
        state: slot.state,
        crash_count: slot.crash_count,
        since: rfc3339(slot.since),
        ports: slot.ports.clone(),
        container_id: slot.container.as_ref().map(|c| c.0.clone()),
        cell: placed.map(|p| p.cell.clone()).filter(|c| !c.is_empty()),
        address: placed.map(|p| p.address.to_string()),
        next_restart: match (slot.state, slot.next_restart_wall) {
            (InstanceState::Crashed, Some(at)) => Some(rfc3339(at)),
            _ => None,
        },
        last_error: slot.last_error.clone(),
        start_deadline: match (slot.state, slot.start_deadline) {
            (InstanceState::Claimed, Some((_, at))) => Some(rfc3339(at)),
            _ => None,
        },
        last_crash: slot.last_crash.as_ref().map(|(reason, at)| LastCrash {
            reason: reason.clone(),
            time: rfc3339(*at),
        }),
        stopping: slot.op == Op::Stopping || leaving,
        requests_in_flight: 0,
        healthy: slot.failures == 0,
        revision: None,
        cpu_percent: sample.and_then(|(_, cpu)| *cpu),
        memory_bytes: sample.map(|(sample, _)| sample.memory_bytes),
    }
}

/// How far an app's rollout has come, when one runs.
fn rollout_status(spec: &AppSpec, slots: &[Slot]) -> Option<RolloutStatus> {
    let r = spec.rollout.as_ref()?;
    let updated = match converge::judge_rollout(spec, slots, SystemTime::now()) {
        converge::RolloutVerdict::InProgress { updated, .. } => updated,
        converge::RolloutVerdict::Done => spec.instances,
        converge::RolloutVerdict::Failed { .. } => 0,
    };
    Some(RolloutStatus {
        kind: r.kind,
        revision: spec.release,
        from_revision: r.from_release,
        updated,
        total: spec.instances,
        max_surge: r.max_surge,
        started_at: crate::logging::rfc3339_millis(r.started_at),
    })
}
