//! What only the CLI asks of Docker directly: a command in a container with its streams
//! attached (`ltc ssh`) or a container's own (`ltc run`), its terminal's size and its exit status; and the engine's disk usage
//! report, read as JSON because its shape changed across API versions.

use super::{CALL_TIMEOUT, DockerEngine, LONG_CALL_TIMEOUT, describe};
use crate::engine::{EngineError, EngineResult};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

/// What a command run with [`DockerEngine::exec_session`] writes: its stdout or its stderr (a
/// terminal's output is all stdout).
pub enum ExecOutput {
    Stdout(bytes::Bytes),
    Stderr(bytes::Bytes),
}

/// What a session is attached to: a command run in a container (`ltc ssh`), or a container's
/// own process (`ltc run`).
#[derive(Clone, Debug)]
pub enum Attached {
    /// An exec's id.
    Exec(String),
    /// A container's id.
    Container(String),
}

impl Attached {
    pub fn id(&self) -> &str {
        match self {
            Attached::Exec(id) | Attached::Container(id) => id,
        }
    }
}

/// A command running in a container with its streams attached (`ltc ssh`, `ltc run`).
pub struct ExecSession {
    /// What it is attached to, to resize its terminal.
    pub of: Attached,
    pub output: BoxStream<'static, EngineResult<ExecOutput>>,
    pub input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
}

impl DockerEngine {
    /// Bytes each named volume uses, from the engine's disk usage report (`GET /system/df`,
    /// read as JSON: its shape changed across API versions, `Volumes` up to 1.51).
    pub(super) async fn volume_sizes(&self) -> Option<std::collections::HashMap<String, u64>> {
        use http_body_util::BodyExt;
        let path = self.host.strip_prefix("unix://")?;
        let stream = tokio::net::UnixStream::connect(path).await.ok()?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(connection);
        let request = hyper::Request::get("/system/df?type=volume")
            .header(hyper::header::HOST, "docker")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .ok()?;
        let response = tokio::time::timeout(CALL_TIMEOUT, sender.send_request(request))
            .await
            .ok()?
            .ok()?;
        let body = tokio::time::timeout(CALL_TIMEOUT, response.into_body().collect())
            .await
            .ok()?
            .ok()?
            .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
        let volumes = value
            .get("Volumes")
            .or_else(|| value.get("VolumeUsage").and_then(|u| u.get("Items")))?
            .as_array()?;
        Some(
            volumes
                .iter()
                .filter_map(|v| {
                    let name = v.get("Name")?.as_str()?.to_string();
                    let size = v.get("UsageData")?.get("Size")?.as_i64()?;
                    (size >= 0).then_some((name, size as u64))
                })
                .collect(),
        )
    }

    /// Starts `command` in a running container with stdin, stdout and stderr attached, on a
    /// terminal of `size` (columns, rows) when given. The session lasts as long as the command.
    pub async fn exec_session(
        &self,
        container: &str,
        command: &[String],
        env: &[String],
        size: Option<(u16, u16)>,
    ) -> EngineResult<ExecSession> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let tty = size.is_some();
        let config = bollard::models::ExecConfig {
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(tty),
            env: Some(env.to_vec()),
            cmd: Some(command.to_vec()),
            ..Default::default()
        };
        let created = docker
            .create_exec(container, config)
            .await
            .map_err(|e| self.map_error("exec create", e))?;
        let options = bollard::exec::StartExecOptions {
            detach: false,
            tty,
            output_capacity: Some(64 * 1024),
        };
        let started = docker
            .start_exec(&created.id, Some(options))
            .await
            .map_err(|e| self.map_error("exec start", e))?;
        let bollard::exec::StartExecResults::Attached { output, input } = started else {
            return Err(EngineError::Api {
                operation: "exec start".into(),
                message: "the engine did not attach the command's streams".into(),
            });
        };
        Ok(ExecSession {
            of: Attached::Exec(created.id),
            output: self.session_output(output),
            input,
        })
    }

    /// Attaches to the streams of a container made by `create_attachable`, before it starts:
    /// nothing it writes is missed.
    pub async fn attach_session(&self, container: &str) -> EngineResult<ExecSession> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let options = bollard::query_parameters::AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .logs(false)
            .build();
        let attached = docker
            .attach_container(container, Some(options))
            .await
            .map_err(|e| self.map_error("container attach", e))?;
        Ok(ExecSession {
            of: Attached::Container(container.to_string()),
            output: self.session_output(attached.output),
            input: attached.input,
        })
    }

    fn session_output(
        &self,
        output: impl futures_util::Stream<
            Item = Result<bollard::container::LogOutput, bollard::errors::Error>,
        > + Send
        + 'static,
    ) -> BoxStream<'static, EngineResult<ExecOutput>> {
        let host = self.host.clone();
        Box::pin(output.map(move |item| match item {
            Ok(bollard::container::LogOutput::StdErr { message }) => {
                Ok(ExecOutput::Stderr(message))
            }
            Ok(other) => Ok(ExecOutput::Stdout(other.into_bytes())),
            Err(e) => Err(EngineError::Unreachable {
                endpoint: host.clone(),
                reason: describe(&e),
            }),
        }))
    }

    /// Gives a session's terminal a new size (columns, rows).
    pub async fn resize_session(&self, of: &Attached, columns: u16, rows: u16) -> EngineResult<()> {
        let docker = self.client().await?;
        match of {
            Attached::Exec(id) => {
                let options = bollard::exec::ResizeExecOptions {
                    height: rows,
                    width: columns,
                };
                docker
                    .resize_exec(id, options)
                    .await
                    .map_err(|e| self.map_error("exec resize", e))
            }
            Attached::Container(id) => {
                let options =
                    bollard::query_parameters::ResizeContainerTTYOptionsBuilder::default()
                        .h(i32::from(rows))
                        .w(i32::from(columns))
                        .build();
                docker
                    .resize_container_tty(id, options)
                    .await
                    .map_err(|e| self.map_error("container resize", e))
            }
        }
    }

    /// The exit status of a session's command, once it has ended.
    pub async fn exec_status(&self, id: &str) -> EngineResult<Option<i64>> {
        let docker = self.client().await?;
        let inspect = docker
            .inspect_exec(id)
            .await
            .map_err(|e| self.map_error("exec inspect", e))?;
        Ok(inspect.exit_code)
    }
}
