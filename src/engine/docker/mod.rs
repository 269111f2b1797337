//! The Docker engine over bollard: the only module that imports bollard.
//!
//! Facts this module leans on (measured on Docker 20.10, see DESIGN.md): bollard asks for a
//! newer API than 20.10 speaks, so the version is negotiated on connect; bollard's own timeout
//! is 120 s, so every call here has ltc's [`CALL_TIMEOUT`] instead, except the calls that are
//! long by nature (pulls, builds, a stop that waits out its grace period). The connection is
//! made lazily and dropped on failure, so a node started while Docker was down, or kept running
//! across a Docker restart, reconnects by itself.

use super::{
    BuildOptions, ContainerId, ContainerState, Engine, EngineError, EngineEvent, EngineInfo,
    EngineResult, ExecOutcome, ImageConfig, InstanceSpec, Observed, Placement, PullProgress,
    Started, StatsSample, VolumeInfo,
};
use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long one ordinary engine call may take before ltc gives up on it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a pull or build may take (they stream progress while they run).
pub(in crate::engine) const LONG_CALL_TIMEOUT: Duration = Duration::from_secs(3600);

mod create;
mod exec;
mod storage;
pub use exec::{Attached, ExecOutput, ExecSession};

#[derive(Clone)]
pub struct DockerEngine {
    host: String,
    /// The negotiated client, once connected. A std mutex: it is never held across an await.
    client: std::sync::Arc<Mutex<Option<Docker>>>,
}

impl DockerEngine {
    /// Prepares a connection to the engine at `host` (`unix:///...`, `tcp://...`). Nothing is
    /// sent until the first call.
    pub fn new(host: &str) -> DockerEngine {
        DockerEngine {
            host: host.to_string(),
            client: std::sync::Arc::new(Mutex::new(None)),
        }
    }

    fn unreachable(&self, reason: impl std::fmt::Display) -> EngineError {
        EngineError::Unreachable {
            endpoint: self.host.clone(),
            reason: reason.to_string(),
        }
    }

    pub(in crate::engine) async fn client(&self) -> EngineResult<Docker> {
        if let Some(client) = self.client.lock().expect("client lock").clone() {
            return Ok(client);
        }
        let docker = Docker::connect_with_host(&self.host)
            .map_err(|e| self.unreachable(describe(&e)))?
            .with_timeout(CALL_TIMEOUT);
        let docker = match tokio::time::timeout(CALL_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(docker)) => docker,
            Ok(Err(e)) => return Err(self.unreachable(describe(&e))),
            Err(_) => return Err(self.timeout("version negotiation")),
        };
        *self.client.lock().expect("client lock") = Some(docker.clone());
        Ok(docker)
    }

    fn timeout(&self, operation: &str) -> EngineError {
        EngineError::Timeout {
            endpoint: self.host.clone(),
            operation: operation.to_string(),
            seconds: CALL_TIMEOUT.as_secs(),
        }
    }

    /// Maps a bollard error, forgetting the connection when the engine is unreachable so the
    /// next call reconnects.
    pub(in crate::engine) fn map_error(&self, operation: &str, error: BollardError) -> EngineError {
        match error {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => match status_code {
                404 => EngineError::NotFound(message),
                409 => EngineError::Conflict(message),
                _ if message.contains("port is already allocated")
                    || message.contains("address already in use") =>
                {
                    EngineError::PortInUse(port_in_message(&message))
                }
                _ => EngineError::Api {
                    operation: operation.to_string(),
                    message,
                },
            },
            BollardError::RequestTimeoutError => self.timeout(operation),
            other => {
                *self.client.lock().expect("client lock") = None;
                self.unreachable(describe(&other))
            }
        }
    }
}

/// A one-line description of a bollard error, without bollard's type names.
pub(in crate::engine) fn describe(error: &BollardError) -> String {
    match error {
        BollardError::SocketNotFoundError(path) => format!("no socket at `{path}`"),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

/// A container's or task's output as ltc's stream of bytes; an error of the stream is the
/// engine lost.
pub(in crate::engine) fn output_stream(
    host: &str,
    stream: impl futures_util::Stream<Item = Result<bollard::container::LogOutput, BollardError>>
    + Send
    + 'static,
) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
    let host = host.to_string();
    stream
        .map(move |item| match item {
            Ok(output) => Ok(output.into_bytes()),
            Err(e) => Err(EngineError::Unreachable {
                endpoint: host.clone(),
                reason: describe(&e),
            }),
        })
        .boxed()
}

/// Docker names the port in "Bind for 127.0.0.1:49153 failed: port is already allocated".
pub(in crate::engine) fn port_in_message(message: &str) -> u16 {
    message
        .split(|c: char| !c.is_ascii_digit() && c != ':')
        .filter_map(|word| word.rsplit(':').next()?.parse().ok())
        .find(|port| *port > 1024)
        .unwrap_or(0)
}

pub(in crate::engine) fn label_filters(
    labels: &[(String, String)],
) -> HashMap<String, Vec<String>> {
    let values = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    HashMap::from([("label".to_string(), values)])
}

/// `redis` → (`redis`, `latest`); `host:5000/a/b:1.2` → (`host:5000/a/b`, `1.2`).
fn split_reference(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(at) => (&image[..name_start + at], &image[name_start + at + 1..]),
        None => (image, "latest"),
    }
}

/// "Exited (137) 3 seconds ago" → 137.
fn exit_code_from_status(status: &str) -> Option<i64> {
    let start = status.find('(')? + 1;
    let end = status[start..].find(')')? + start;
    status[start..end].parse().ok()
}

fn tcp_ports(exposed: &[String]) -> Vec<u16> {
    let mut ports: Vec<u16> = exposed
        .iter()
        .filter_map(|p| p.strip_suffix("/tcp").unwrap_or(p).parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[async_trait]
impl Engine for DockerEngine {
    fn endpoint(&self) -> String {
        self.host.clone()
    }

    async fn info(&self) -> EngineResult<EngineInfo> {
        let docker = self.client().await?;
        let version = docker
            .version()
            .await
            .map_err(|e| self.map_error("version", e))?;
        let info = docker.info().await.map_err(|e| self.map_error("info", e))?;
        Ok(EngineInfo {
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            memory_bytes: info.mem_total.unwrap_or(0).max(0) as u64,
            cpus: info.ncpu.unwrap_or(0).max(0) as u64,
            root_dir: info.docker_root_dir.filter(|d| !d.is_empty()),
        })
    }

    async fn image_config(&self, image: &str) -> EngineResult<Option<ImageConfig>> {
        let docker = self.client().await?;
        let inspect = match docker.inspect_image(image).await {
            Ok(inspect) => inspect,
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(self.map_error("image inspect", e)),
        };
        let config = inspect.config.unwrap_or_default();
        Ok(Some(ImageConfig {
            id: inspect.id,
            entrypoint: config.entrypoint.unwrap_or_default(),
            cmd: config.cmd.unwrap_or_default(),
            working_dir: config.working_dir.filter(|d| !d.is_empty()),
            user: config.user.filter(|u| !u.is_empty()),
            env: config.env.unwrap_or_default(),
            exposed_ports: tcp_ports(&config.exposed_ports.unwrap_or_default()),
        }))
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> EngineResult<()> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let (name, tag) = split_reference(image);
        let options = CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        let mut stream = docker.create_image(Some(options), None, None);
        let failed = |reason: String| EngineError::Pull {
            image: image.to_string(),
            reason,
        };
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| match e {
                BollardError::DockerResponseServerError { message, .. } => failed(message),
                other => self.map_error("image pull", other),
            })?;
            if let Some(detail) = info.error_detail {
                return Err(failed(detail.message.unwrap_or_default()));
            }
            let status = info.status.unwrap_or_default();
            match (info.id, info.progress_detail) {
                (Some(id), Some(detail)) => progress(PullProgress::Layer {
                    id,
                    status,
                    current: detail.current.unwrap_or(0).max(0) as u64,
                    total: detail.total.unwrap_or(0).max(0) as u64,
                }),
                (Some(id), None) => progress(PullProgress::Status(format!("{id}: {status}"))),
                (None, _) => progress(PullProgress::Status(status)),
            }
        }
        Ok(())
    }

    async fn build_image(
        &self,
        tag: &str,
        context: Vec<u8>,
        options: &BuildOptions,
        output: &(dyn Fn(String) + Send + Sync),
    ) -> EngineResult<()> {
        self.build(tag, context, options, output).await
    }

    async fn read_file(&self, id: &ContainerId, path: &str) -> EngineResult<Option<Vec<u8>>> {
        self.read_container_file(id, path).await
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> EngineResult<()> {
        self.make_volume(name, labels).await
    }

    async fn list_volumes(&self, labels: &[(String, String)]) -> EngineResult<Vec<VolumeInfo>> {
        self.volumes_labelled(labels).await
    }

    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        self.drop_volume(name).await
    }

    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> EngineResult<()> {
        self.name_image(image, repository, tag).await
    }

    async fn untag_image(&self, reference: &str) -> EngineResult<()> {
        self.unname_image(reference).await
    }

    async fn list_instances(&self, labels: &[(String, String)]) -> EngineResult<Vec<Observed>> {
        let docker = self.client().await?;
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filters(labels))
            .build();
        let summaries = docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.map_error("container list", e))?;
        Ok(summaries
            .into_iter()
            .filter_map(|summary| {
                let id = ContainerId(summary.id?);
                let state = match summary.state {
                    Some(ContainerSummaryStateEnum::CREATED) => ContainerState::Created,
                    Some(ContainerSummaryStateEnum::RUNNING) => ContainerState::Running,
                    Some(ContainerSummaryStateEnum::EXITED | ContainerSummaryStateEnum::DEAD) => {
                        ContainerState::Exited(
                            summary.status.as_deref().and_then(exit_code_from_status),
                        )
                    }
                    _ => ContainerState::Other,
                };
                let ports = summary
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| Some((p.private_port, p.public_port?)))
                    .collect();
                Some(Observed {
                    id,
                    labels: summary.labels.unwrap_or_default().into_iter().collect(),
                    state,
                    ports,
                    created: summary.created.unwrap_or(0),
                    placement: Placement::local(),
                })
            })
            .collect())
    }

    async fn run_instance(&self, spec: &InstanceSpec) -> EngineResult<Started> {
        let id = self.create(spec, None).await?;
        self.start_created(&id).await?;
        Ok(Started {
            id,
            placement: Placement::local(),
        })
    }

    async fn create_attachable(&self, spec: &InstanceSpec, tty: bool) -> EngineResult<ContainerId> {
        self.create(spec, Some(tty)).await
    }

    async fn start_created(&self, id: &ContainerId) -> EngineResult<()> {
        let docker = self.client().await?;
        if let Err(e) = docker.start_container(&id.0, None).await {
            let error = self.map_error("container start", e);
            let _ = self.remove_instance(id, Duration::ZERO).await;
            return Err(error);
        }
        Ok(())
    }

    async fn remove_instance(&self, id: &ContainerId, grace: Duration) -> EngineResult<()> {
        let docker = self.client().await?;
        if !grace.is_zero() {
            let stopping = docker.clone().with_timeout(grace + CALL_TIMEOUT);
            let options = StopContainerOptionsBuilder::default()
                .t(grace.as_secs() as i32)
                .build();
            match stopping.stop_container(&id.0, Some(options)).await {
                Ok(())
                | Err(BollardError::DockerResponseServerError {
                    status_code: 304 | 404,
                    ..
                }) => {}
                Err(e) => return Err(self.map_error("container stop", e)),
            }
        }
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        match docker.remove_container(&id.0, Some(options)).await {
            Ok(()) => Ok(()),
            // Gone; unless the engine is still making it (a create a killed node sent), when
            // a removal can say "no such container" although the container is listed: then
            // it is an error, and the caller tries again later.
            Err(BollardError::DockerResponseServerError {
                status_code: 404,
                message,
            }) => match docker.inspect_container(&id.0, None).await {
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(()),
                _ => Err(EngineError::Conflict(message)),
            },
            // "removal of container ... is already in progress": done once it is gone. A
            // removal that does not finish (or any other conflict) is an error, so the caller
            // tries again later instead of taking the container for removed.
            Err(BollardError::DockerResponseServerError {
                status_code: 409,
                message,
            }) => {
                for _ in 0..20 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    match docker.inspect_container(&id.0, None).await {
                        Err(BollardError::DockerResponseServerError {
                            status_code: 404, ..
                        }) => return Ok(()),
                        Err(e) => return Err(self.map_error("container inspect", e)),
                        Ok(_) => {}
                    }
                }
                Err(EngineError::Conflict(message))
            }
            Err(e) => Err(self.map_error("container remove", e)),
        }
    }

    async fn exec(
        &self,
        id: &ContainerId,
        command: &[String],
        timeout: Duration,
    ) -> EngineResult<ExecOutcome> {
        let docker = self.client().await?;
        let run = async {
            let config = bollard::models::ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(command.to_vec()),
                ..Default::default()
            };
            let created = docker
                .create_exec(&id.0, config)
                .await
                .map_err(|e| self.map_error("exec create", e))?;
            let mut output = String::new();
            let started = docker
                .start_exec(&created.id, None)
                .await
                .map_err(|e| self.map_error("exec start", e))?;
            if let bollard::exec::StartExecResults::Attached {
                output: mut stream, ..
            } = started
            {
                while let Some(Ok(chunk)) = stream.next().await {
                    if output.len() < 4096 {
                        output.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                    }
                }
            }
            let inspect = docker
                .inspect_exec(&created.id)
                .await
                .map_err(|e| self.map_error("exec inspect", e))?;
            Ok(ExecOutcome {
                exit_code: inspect.exit_code.unwrap_or(-1),
                output,
            })
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(EngineError::Timeout {
                endpoint: self.host.clone(),
                operation: "exec".into(),
                seconds: timeout.as_secs(),
            }),
        }
    }

    async fn image_names(&self) -> EngineResult<Vec<String>> {
        let docker = self.client().await?;
        let images = docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await
            .map_err(|e| self.map_error("image list", e))?;
        let mut names: Vec<String> = images
            .into_iter()
            .flat_map(|image| image.repo_tags)
            .filter(|tag| tag != "<none>:<none>")
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn running(&self, id: &ContainerId) -> EngineResult<bool> {
        let docker = self.client().await?;
        match docker.inspect_container(&id.0, None).await {
            Ok(inspected) => Ok(inspected
                .state
                .is_some_and(|s| s.running.unwrap_or(false) && !s.paused.unwrap_or(false))),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(self.map_error("container inspect", e)),
        }
    }

    async fn frozen(&self, id: &ContainerId) -> EngineResult<bool> {
        let docker = self.client().await?;
        let inspected = docker
            .inspect_container(&id.0, None)
            .await
            .map_err(|e| self.map_error("container inspect", e))?;
        if inspected.state.and_then(|s| s.paused).unwrap_or(false) {
            return Ok(true);
        }
        // `docker top` runs ps on the engine's host (it needs the PID column to pick the
        // container's processes); STAT `T` is stopped (SIGSTOP), `t`
        // stopped by a tracer.
        let options = bollard::query_parameters::TopOptionsBuilder::default()
            .ps_args("-o pid,stat,args")
            .build();
        let top = docker
            .top_processes(&id.0, Some(options))
            .await
            .map_err(|e| self.map_error("container top", e))?;
        Ok(processes_stopped(
            &top.titles.unwrap_or_default(),
            &top.processes.unwrap_or_default(),
        ))
    }

    async fn stats(&self, id: &ContainerId) -> EngineResult<StatsSample> {
        let docker = self.client().await?;
        // One shot: Docker answers at once instead of waiting a second for a second sample.
        let options = bollard::query_parameters::StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let mut stream = docker.stats(&id.0, Some(options));
        let stats = match stream.next().await {
            Some(Ok(stats)) => stats,
            Some(Err(e)) => return Err(self.map_error("container stats", e)),
            None => return Err(EngineError::NotFound(id.0.clone())),
        };
        let cpu = stats.cpu_stats.unwrap_or_default();
        let memory = stats.memory_stats.unwrap_or_default();
        Ok(StatsSample {
            cpu_total_ns: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
            system_total_ns: cpu.system_cpu_usage.unwrap_or(0),
            online_cpus: cpu.online_cpus.unwrap_or(1),
            memory_bytes: memory.usage.unwrap_or(0),
            memory_limit_bytes: memory.limit.unwrap_or(0),
        })
    }

    async fn logs(
        &self,
        id: &ContainerId,
        since: i64,
    ) -> EngineResult<BoxStream<'static, EngineResult<bytes::Bytes>>> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let options = bollard::query_parameters::LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .since(since.clamp(0, i64::from(i32::MAX)) as i32)
            .build();
        Ok(output_stream(&self.host, docker.logs(&id.0, Some(options))))
    }

    async fn events(
        &self,
        labels: &[(String, String)],
    ) -> EngineResult<BoxStream<'static, EngineResult<EngineEvent>>> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let mut filters = label_filters(labels);
        filters.insert("type".into(), vec!["container".into()]);
        // bollard sends the request only when the stream is first polled; `since` makes the
        // subscription start now, so events between this call and the first poll are kept.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let since = format!("{}.{:09}", now.as_secs(), now.subsec_nanos());
        let options = EventsOptionsBuilder::default()
            .filters(&filters)
            .since(&since)
            .build();
        let host = self.host.clone();
        let stream = docker.events(Some(options)).filter_map(move |item| {
            let host = host.clone();
            async move {
                match item {
                    Ok(message) => {
                        let actor = message.actor?;
                        let exit_code = actor
                            .attributes
                            .as_ref()
                            .and_then(|a| a.get("exitCode")?.parse().ok());
                        Some(Ok(EngineEvent {
                            action: message.action.unwrap_or_default(),
                            id: ContainerId(actor.id?),
                            exit_code,
                        }))
                    }
                    Err(e) => Some(Err(EngineError::Unreachable {
                        endpoint: host,
                        reason: describe(&e),
                    })),
                }
            }
        });
        Ok(stream.boxed())
    }
}

/// Whether every process of a container but Docker's init is stopped, from `ps -o stat,args`
/// as `docker top` reports it. A container with no such process is not frozen.
fn processes_stopped(titles: &[String], processes: &[Vec<String>]) -> bool {
    let column = |name: &str| titles.iter().position(|t| t == name);
    let (Some(stat), Some(args)) = (column("STAT"), column("COMMAND")) else {
        return false;
    };
    let apps: Vec<&Vec<String>> = processes
        .iter()
        .filter(|p| !p.get(args).is_some_and(|a| a.contains("docker-init")))
        .collect();
    !apps.is_empty()
        && apps
            .iter()
            .all(|p| p.get(stat).is_some_and(|s| s.starts_with(['T', 't'])))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_container_is_frozen_when_every_process_but_its_init_is_stopped() {
        let titles = vec!["STAT".to_string(), "COMMAND".to_string()];
        let row = |stat: &str, args: &str| vec![stat.to_string(), args.to_string()];
        let init = row("Ss", "/sbin/docker-init -- /app");
        assert!(processes_stopped(
            &titles,
            &[init.clone(), row("Tl", "/app")]
        ));
        assert!(!processes_stopped(
            &titles,
            &[init.clone(), row("Sl", "/app")]
        ));
        assert!(!processes_stopped(
            &titles,
            &[init.clone(), row("Tl", "/app"), row("S", "/app --worker")]
        ));
        // Init stopped (a signal sent to PID 1) while the app runs: not frozen.
        assert!(!processes_stopped(
            &titles,
            &[row("Ts", "/sbin/docker-init -- /app"), row("Sl", "/app")]
        ));
        assert!(!processes_stopped(&titles, &[init]));
        assert!(!processes_stopped(&[], &[]));
    }
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(split_reference("redis"), ("redis", "latest"));
        assert_eq!(split_reference("redis:7"), ("redis", "7"));
        assert_eq!(
            split_reference("host:5000/team/app:1.2"),
            ("host:5000/team/app", "1.2")
        );
        assert_eq!(
            split_reference("host:5000/team/app"),
            ("host:5000/team/app", "latest")
        );
    }

    #[test]
    fn exit_codes_are_read_from_the_status_line() {
        assert_eq!(
            exit_code_from_status("Exited (137) 3 seconds ago"),
            Some(137)
        );
        assert_eq!(exit_code_from_status("Up 2 seconds"), None);
    }

    #[test]
    fn the_port_in_a_bind_failure_is_found() {
        let message = "driver failed programming external connectivity on endpoint ltc-web-0 \
                       (abc): Bind for 127.0.0.1:49153 failed: port is already allocated";
        assert_eq!(port_in_message(message), 49153);
    }

    #[test]
    fn only_tcp_ports_are_taken_from_expose() {
        let exposed = ["8080/tcp", "53/udp", "7777/tcp", "8080/tcp"].map(String::from);
        assert_eq!(tcp_ports(&exposed), [7777, 8080]);
    }
}
