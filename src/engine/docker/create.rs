//! A container as Docker is asked to make it: published on loopback, with ltc's limits, and
//! for `ltc run`'s sessions, with its streams held open for the session to attach.

use super::DockerEngine;
use crate::engine::{ContainerId, EngineError, EngineResult, InstanceSpec};
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use std::collections::HashMap;

impl DockerEngine {
    /// Creates the container of `spec`, not started. With `attach` (whether on a terminal),
    /// its stdin, stdout and stderr are attachable and stdin stays open until the first session
    /// attached to it closes it.
    pub(super) async fn create(
        &self,
        spec: &InstanceSpec,
        attach: Option<bool>,
    ) -> EngineResult<ContainerId> {
        let docker = self.client().await?;
        let exposed: Vec<String> = spec.ports.iter().map(|(c, _)| format!("{c}/tcp")).collect();
        let bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
            .ports
            .iter()
            .map(|(container, host)| {
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(host.to_string()),
                };
                (format!("{container}/tcp"), Some(vec![binding]))
            })
            .collect();
        let host_config = HostConfig {
            // Docker's bundled init forwards SIGTERM, so a stop takes milliseconds, not the grace.
            init: Some(true),
            port_bindings: Some(bindings),
            memory: (spec.memory_bytes > 0).then_some(spec.memory_bytes as i64),
            cpu_shares: Some(spec.cpu_shares as i64),
            pids_limit: (spec.pids_limit > 0).then_some(i64::from(spec.pids_limit)),
            privileged: Some(spec.privileged),
            security_opt: (!spec.privileged).then(|| vec!["no-new-privileges".to_string()]),
            mounts: (!spec.mounts.is_empty()).then(|| {
                spec.mounts
                    .iter()
                    .map(|(source, target, read_only)| bollard::models::Mount {
                        target: Some(target.clone()),
                        source: Some(source.clone()),
                        typ: Some(if source.starts_with('/') {
                            bollard::models::MountType::BIND
                        } else {
                            bollard::models::MountType::VOLUME
                        }),
                        read_only: Some(*read_only),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            // A session attaches before the start: stdin stays open until it closes it.
            open_stdin: attach.map(|_| true),
            stdin_once: attach.map(|_| true),
            attach_stdin: attach.map(|_| true),
            attach_stdout: attach.map(|_| true),
            attach_stderr: attach.map(|_| true),
            tty: attach,
            image: Some(spec.image.clone()),
            entrypoint: spec.command.as_ref().map(|c| c[..1].to_vec()),
            cmd: spec.command.as_ref().map(|c| c[1..].to_vec()),
            env: Some(spec.env.clone()),
            working_dir: spec.working_dir.clone(),
            user: spec.user.clone(),
            labels: Some(spec.labels.clone().into_iter().collect()),
            exposed_ports: Some(exposed),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| match e {
                BollardError::DockerResponseServerError {
                    status_code: 404, ..
                } => EngineError::ImageNotFound(spec.image.clone()),
                other => self.map_error("container create", other),
            })?;
        Ok(ContainerId(created.id))
    }
}
