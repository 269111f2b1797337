//! `ltc ssh`: a shell or a command inside an instance, as `docker exec` runs it, and local
//! ports forwarded to the instance's published ports.
//!
//! The node says which container is the instance and which engine it uses; the command's
//! streams go straight between this process and the engine (an exec changes nothing the node
//! owns). With a terminal, ltc's own terminal is in raw mode for the session and its size is
//! passed on every resize; without one, stdin, stdout and stderr pass through byte for byte.

use super::app_path;
use crate::cli::SshArgs;
use crate::client;
use crate::config::Settings;
use crate::engine::docker::{Attached, DockerEngine, ExecOutput, ExecSession};
use crate::engine::{ContainerId, Engine};
use crate::error::{Error, Kind, Result};
use crate::model::{AppName, AppStatus, InstanceState, InstanceStatus};
use crate::ui::Ui;
use crate::ui::terminal::{self, RawMode};
use futures_util::StreamExt;
use std::io::{IsTerminal, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// End of transmission (Ctrl-D): a terminal's end of input.
const EOT: u8 = 0x04;

/// The shells tried, in order, for an interactive session.
const SHELLS: [&str; 2] = ["/bin/bash", "/bin/sh"];

pub async fn run(args: SshArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let name = AppName::parse(&args.name)?;
    let forwards = args
        .forward
        .iter()
        .map(|text| parse_forward(text))
        .collect::<Result<Vec<_>>>()?;
    let client = client::connect(settings, ui).await?;
    let app: AppStatus = client.get(&app_path(name.as_str())).await?;
    let instance = pick_instance(&app, args.index)?;
    let container = instance
        .container_id
        .clone()
        .expect("picked with a container");
    // On a swarm the instance's ports answer on its machine's address.
    let address: IpAddr = instance
        .address
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    for forward in &forwards {
        let host_port = instance
            .ports
            .get(&forward.instance_port)
            .copied()
            .ok_or_else(|| {
                Error::usage(format!(
                    "-L: port {} is not one of `{name}`'s ports ({})",
                    forward.instance_port,
                    crate::model::join_ports(&app.ports)
                ))
                .with_hint("ltc forwards to the ports the app exposes (`ltc update APP --ports`)")
            })?;
        let listener = tokio::net::TcpListener::bind(forward.local)
            .await
            .map_err(|e| Error::failed(format!("-L: cannot listen on {}: {e}", forward.local)))?;
        ui.note(format!(
            "Forwarding {} to {name}/{}:{}",
            forward.local, args.index, forward.instance_port
        ));
        tokio::spawn(serve_forward(listener, SocketAddr::new(address, host_port)));
    }
    if args.no_command {
        // Forwarding until Ctrl-C, which ends the command successfully.
        std::future::pending::<()>().await;
    }
    let endpoint = engine_endpoint(&client, settings).await?;
    // A swarm's instance is a service: the session goes to its task's container, which
    // the manager's engine reaches when it runs on the manager's machine.
    let container = crate::node::engine_for(&settings.paths, &endpoint)?
        .local_container(&ContainerId(container))
        .await
        .map_err(|e| {
            Error::from(e).with_hint(format!(
                "on a swarm, ltc ssh reaches the instances on the manager's machine: `ltc status \
                 {name}` shows each instance's cell (`-i N` picks another)"
            ))
        })?
        .0;
    let engine = DockerEngine::new(&endpoint);
    let command = match args.command.is_empty() {
        false => args.command.clone(),
        true => vec![shell(&engine, &container, &app).await?],
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let tty = !args.no_tty && (args.tty || (args.command.is_empty() && interactive));
    let status = session(&engine, &container, command, tty).await?;
    match status {
        0 => Ok(()),
        status => Err(Error::exited(status)),
    }
}

/// The engine the node drives (it may have been started with another `DOCKER_HOST` than this
/// command's): sessions go straight to it.
pub(super) async fn engine_endpoint(
    client: &client::Client,
    settings: &Settings,
) -> Result<String> {
    Ok(match client.health().await? {
        Some(health) => health
            .engine
            .unwrap_or_else(|| settings.docker_host.clone()),
        None => settings.docker_host.clone(),
    })
}

/// The instance at `index` that runs (the newest revision's during a rollout).
fn pick_instance(app: &AppStatus, index: u32) -> Result<&InstanceStatus> {
    let name = &app.name;
    if index >= app.desired_instances {
        return Err(Error::usage(format!(
            "Instance {name}/{index} does not exist: `{name}` has {}",
            match app.desired_instances {
                1 => "1 instance (index 0)".to_string(),
                0 => "no instances".to_string(),
                n => format!("{n} instances (indices 0 to {})", n - 1),
            }
        ))
        .with_hint(format!(
            "`ltc status {name}` shows its instances; `ltc scale {name} N` changes how many"
        )));
    }
    let at_index = app
        .instances
        .iter()
        .filter(|i| i.index == index && !i.stopping);
    let running = at_index
        .clone()
        .filter(|i| {
            matches!(i.state, InstanceState::Running | InstanceState::Claimed)
                && i.container_id.is_some()
        })
        .max_by_key(|i| i.revision);
    running.ok_or_else(|| {
        let state = at_index
            .map(|i| i.state.as_str())
            .next()
            .unwrap_or("not started");
        Error::failed(format!(
            "instance {name}/{index} is not running ({state}): there is nothing to connect to"
        ))
        .with_hint(format!("`ltc status {name}` shows its instances"))
    })
}

/// The first shell the image has, or an error naming the image.
async fn shell(engine: &DockerEngine, container: &str, app: &AppStatus) -> Result<String> {
    let id = ContainerId(container.to_string());
    for shell in SHELLS {
        let probe = vec![shell.to_string(), "-c".into(), "exit 0".into()];
        if let Ok(outcome) = engine.exec(&id, &probe, Duration::from_secs(10)).await
            && outcome.exit_code == 0
        {
            return Ok(shell.to_string());
        }
    }
    Err(Error::new(
        Kind::Image,
        format!(
            "image `{}` has no shell ({}): there is no interactive session to open",
            app.image,
            SHELLS.join(" or ")
        ),
    )
    .with_hint(format!(
        "run a program the image has: `ltc ssh {} -- PROGRAM ARGS...`",
        app.name
    )))
}

/// Runs the command with ltc's streams attached; returns its exit status.
async fn session(
    engine: &DockerEngine,
    container: &str,
    command: Vec<String>,
    tty: bool,
) -> Result<i32> {
    let size = tty.then(|| terminal::size().unwrap_or((80, 24)));
    let env = terminal_env(tty);
    let session = engine.exec_session(container, &command, &env, size).await?;
    let id = session.of.id().to_string();
    pump(engine, session, size).await?;
    let status = engine.exec_status(&id).await?;
    Ok(status.map_or(1, |code| code as i32))
}

/// The environment a session's terminal needs.
fn terminal_env(tty: bool) -> Vec<String> {
    match (tty, std::env::var("TERM")) {
        (true, Ok(term)) => vec![format!("TERM={term}")],
        (true, Err(_)) => vec!["TERM=xterm".into()],
        (false, _) => Vec::new(),
    }
}

/// Joins ltc's own streams to an attached session until its output ends: on a terminal of
/// `size` (raw mode for the session, every resize passed on), else stdin, stdout and stderr
/// byte for byte. The end of ltc's stdin closes the session's. Whether the session's output
/// was read to its end (not cut short by ltc's own output closing, as `| head` does).
pub(crate) async fn pump(
    engine: &DockerEngine,
    mut session: ExecSession,
    size: Option<(u16, u16)>,
) -> Result<bool> {
    let tty = size.is_some();
    // Restored when this function returns, by any path.
    let raw = match tty {
        true => RawMode::enable()
            .map_err(|e| Error::failed(format!("cannot set the terminal to raw mode: {e}")))?,
        false => None,
    };
    if let Some((columns, rows)) = size {
        let _ = engine.resize_session(&session.of, columns, rows).await;
    }
    let resizes = tty.then(|| tokio::spawn(follow_resizes(engine.clone(), session.of.clone())));
    // stdin is read on a thread of its own: a read blocked on the terminal never holds up
    // the end of the session.
    let (sender, mut keys) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buffer = vec![0u8; 8192];
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sender.blocking_send(buffer[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut input = session.input;
    let pump = tokio::spawn(async move {
        while let Some(bytes) = keys.recv().await {
            if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                return;
            }
        }
        // End of ltc's input: the command's stdin ends too. On a terminal the engine would end
        // the output with the input, so the end is sent as a terminal sends it: Ctrl-D.
        if tty {
            let _ = input.write_all(&[EOT]).await;
            let _ = input.flush().await;
        } else {
            let _ = input.shutdown().await;
        }
        // Keep the connection's other half open until the output ends.
        std::future::pending::<()>().await;
    });
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let mut ended = true;
    while let Some(chunk) = session.output.next().await {
        let written = match chunk? {
            ExecOutput::Stdout(bytes) => stdout.write_all(&bytes).and_then(|()| stdout.flush()),
            ExecOutput::Stderr(bytes) => stderr.write_all(&bytes).and_then(|()| stderr.flush()),
        };
        if written.is_err() {
            ended = false;
            break;
        }
    }
    pump.abort();
    if let Some(resizes) = resizes {
        resizes.abort();
    }
    drop(raw);
    Ok(ended)
}

/// Passes every change of the terminal's size on to the session.
async fn follow_resizes(engine: DockerEngine, of: Attached) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut changes) = signal(SignalKind::window_change()) else {
        return;
    };
    while changes.recv().await.is_some() {
        if let Some((columns, rows)) = terminal::size() {
            let _ = engine.resize_session(&of, columns, rows).await;
        }
    }
}

/// One `-L [BIND:]LOCAL_PORT:INSTANCE_PORT`.
#[derive(Debug, PartialEq, Eq)]
struct Forward {
    local: SocketAddr,
    instance_port: u16,
}

fn parse_forward(text: &str) -> Result<Forward> {
    let bad = || {
        Error::usage(format!(
            "invalid -L `{text}`: use [BIND:]LOCAL_PORT:INSTANCE_PORT, e.g. -L 9000:8080"
        ))
    };
    let parts: Vec<&str> = text.rsplitn(3, ':').collect();
    let (bind, local, remote) = match parts.as_slice() {
        [remote, local] => ("127.0.0.1", *local, *remote),
        [remote, local, bind] => (*bind, *local, *remote),
        _ => return Err(bad()),
    };
    let bind = match bind {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        other => other
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .map_err(|_| bad())?,
    };
    if !bind.is_loopback() {
        return Err(Error::usage(format!(
            "-L binds loopback addresses only (127.0.0.1, ::1), not {bind}: a forward reaches \
             into the instance"
        )));
    }
    let local = local.parse::<u16>().map_err(|_| bad())?;
    let instance_port = crate::model::parse_port(remote).map_err(|_| bad())?;
    Ok(Forward {
        local: SocketAddr::new(bind, local),
        instance_port,
    })
}

/// Accepts connections on a forwarded port and joins each to the instance's published port.
async fn serve_forward(listener: tokio::net::TcpListener, target: SocketAddr) {
    loop {
        let Ok((mut local, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut remote) = tokio::net::TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut local, &mut remote).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_are_bind_local_and_instance_port() {
        assert_eq!(
            parse_forward("9000:8080").unwrap(),
            Forward {
                local: "127.0.0.1:9000".parse().unwrap(),
                instance_port: 8080
            }
        );
        assert_eq!(
            parse_forward("localhost:9000:8080").unwrap().local,
            "127.0.0.1:9000".parse().unwrap()
        );
        assert_eq!(
            parse_forward("[::1]:9000:8080").unwrap().local,
            "[::1]:9000".parse().unwrap()
        );
        for bad in ["8080", "x:8080", "9000:0", "a:b:c:d"] {
            assert_eq!(parse_forward(bad).unwrap_err().exit_code(), 13, "{bad}");
        }
        let error = parse_forward("0.0.0.0:9000:8080").unwrap_err();
        assert!(error.message.contains("loopback"), "{}", error.message);
    }
}
