//! `ltc test`: Lattice's built-in integration test, against this machine's node and router.
//! It creates the demo app under a unique name, checks the route, the logs, the environment,
//! scaling and round-robin, a TCP route, and removal; each step is printed with its prefix. The
//! app is removed whatever happens, Ctrl-C included.

use super::{app_path, wait};
use crate::cli::TestArgs;
use crate::client::{self, Client};
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::LogLine;
use crate::model::{AppStatus, CreateRequest, ImageRequest, RouteRequest, ScaleRequest};
use crate::ui::{Color, Ui};
use hyper::Method;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// One plain HTTP/1.0 exchange: (status, body).
async fn http_get(addr: SocketAddr, host: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::other("no answer"))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

struct Run<'a> {
    client: Client,
    ui: &'a Ui,
    router: SocketAddr,
    name: String,
    host: String,
    deadline: Instant,
    verbose: bool,
    /// Held while the app's creation is in flight.
    creating: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Run<'_> {
    fn say(&self, step: &str, message: impl std::fmt::Display) {
        let prefix = self.ui.paint_err(Color::Yellow, format!("[{step}]"));
        self.ui.note(format!("{prefix} {message}"));
    }

    fn fail(&self, step: &str, message: impl std::fmt::Display) -> Error {
        Error::failed(format!("ltc test failed at [{step}]: {message}"))
    }

    /// Retries `check` until it passes or the test's time is up.
    async fn until<T>(
        &self,
        step: &str,
        mut check: impl AsyncFnMut() -> std::result::Result<T, String>,
    ) -> Result<T> {
        loop {
            match check().await {
                Ok(value) => return Ok(value),
                Err(reason) if Instant::now() >= self.deadline => {
                    return Err(self.fail(step, reason));
                }
                Err(reason) => {
                    if self.verbose {
                        self.say(step, format!("not yet: {reason}"));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    async fn get(&self, host: &str, path: &str) -> std::result::Result<(u16, String), String> {
        http_get(self.router, host, path)
            .await
            .map_err(|e| format!("the router at {}: {e}", self.router))
    }

    async fn steps(&self) -> Result<()> {
        let step = "create";
        self.say(
            step,
            format!("creating {} from the built-in lattice-app", self.name),
        );
        let mut failed = None;
        self.client
            .stream(
                Method::POST,
                "/v1/images",
                &ImageRequest::default(),
                |p: crate::model::ImageProgress| {
                    if let crate::model::ImageProgress::Failed { error } = p {
                        failed = Some(error);
                    }
                },
            )
            .await?;
        if let Some(error) = failed {
            return Err(self.fail(step, error));
        }
        let request = CreateRequest {
            name: self.name.clone(),
            instances: 1,
            memory_mb: 64,
            cpu_weight: 100,
            ..CreateRequest::default()
        };
        // The request runs to its end in its own task, even when Ctrl-C drops these steps
        // midway, and holds `creating` until it has: the cleanup waits for that lock, so its
        // removal can never reach the node before the creation it undoes.
        let settled = self.creating.clone().lock_owned().await;
        let client = self.client.clone();
        let (created, version): (crate::model::CreateResponse, u64) = tokio::spawn(async move {
            let created = client.call(Method::POST, "/v1/apps", Some(&request)).await;
            drop(settled);
            created
        })
        .await
        .map_err(|e| self.fail(step, e))??;
        let left = self.deadline.saturating_duration_since(Instant::now());
        wait::until_converged(
            &self.client,
            &self.name,
            created.app.change,
            version,
            left,
            self.ui,
        )
        .await
        .map_err(|e| self.fail(step, e))?;
        self.say(step, format!("{} is now running.", self.name));

        let step = "route";
        let (_, body) = self
            .until(step, async || {
                match self.get(&self.host, "/index").await? {
                    (200, body) => Ok(((), body)),
                    (status, _) => Err(format!("http://{} answered {status}", self.host)),
                }
            })
            .await?;
        self.say(
            step,
            format!(
                "http://{}:{}/index answered 200 ({body})",
                self.host,
                self.router.port()
            ),
        );

        let step = "logs";
        let logs = format!("{}/logs?recent=true", app_path(&self.name));
        self.until(step, async || {
            let mut said_hello = false;
            self.client
                .stream(Method::GET, &logs, &(), |line: LogLine| {
                    said_hello |= line.message.contains("Lattice-app. Says Hello.");
                })
                .await
                .map_err(|e| e.to_string())?;
            said_hello
                .then_some(())
                .ok_or_else(|| "no `Lattice-app. Says Hello.` yet".to_string())
        })
        .await?;
        self.say(step, "the logs say `Lattice-app. Says Hello.`");

        let step = "env";
        let env = self
            .until(step, async || {
                match self.get(&self.host, "/env?json=true").await? {
                    (200, body) => Ok(body),
                    (status, _) => Err(format!("/env answered {status}")),
                }
            })
            .await?;
        let pairs: Vec<(String, String)> =
            serde_json::from_str(&env).map_err(|e| self.fail(step, e))?;
        let user = pairs
            .iter()
            .find(|(k, _)| k == "USER")
            .map(|(_, v)| v.as_str());
        if user != Some("lattice") {
            return Err(self.fail(step, format!("USER is {user:?}, not `lattice`")));
        }
        self.say(
            step,
            "the instance runs as `lattice` and sees its environment",
        );

        let step = "scale";
        let path = format!("{}/instances", app_path(&self.name));
        let (app, version): (AppStatus, u64) = self
            .client
            .call(Method::PUT, &path, Some(&ScaleRequest { instances: 3 }))
            .await?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        wait::until_converged(&self.client, &self.name, app.change, version, left, self.ui)
            .await
            .map_err(|e| self.fail(step, e))?;
        self.say(step, "App Scaled Successfully");

        let step = "round-robin";
        let mut seen = std::collections::BTreeSet::new();
        self.until(step, async || {
            if let (200, index) = self.get(&self.host, "/index").await? {
                seen.insert(index);
            }
            (seen.len() == 3)
                .then_some(())
                .ok_or_else(|| format!("indices seen: {seen:?}"))
        })
        .await?;
        self.say(step, format!("three instances answered in turn: {seen:?}"));

        let step = "tcp";
        let external = std::net::TcpListener::bind((self.router.ip(), 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| self.fail(step, e))?
            .port();
        let routes = RouteRequest {
            http_routes: vec![self.name.clone()],
            tcp_routes: vec![format!("{external}:8080")],
            no_routes: false,
        };
        let path = format!("{}/routes", app_path(&self.name));
        let _: (AppStatus, u64) = self.client.call(Method::PUT, &path, Some(&routes)).await?;
        let tcp = SocketAddr::new(self.router.ip(), external);
        self.until(step, async || match http_get(tcp, "tcp", "/index").await {
            Ok((200, _)) => Ok(()),
            Ok((status, _)) => Err(format!("{tcp} answered {status}")),
            Err(e) => Err(format!("{tcp}: {e}")),
        })
        .await?;
        self.say(step, format!("the TCP route {tcp} reaches the app"));
        Ok(())
    }

    /// Removes the app and checks that its route goes with it.
    async fn remove(&self, check_route: bool) -> Result<()> {
        let step = "remove";
        let _settled = self.creating.lock().await;
        match self
            .client
            .call::<AppStatus>(Method::DELETE, &app_path(&self.name), None::<&()>)
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind == Kind::NotFound => return Ok(()),
            Err(e) => return Err(self.fail(step, e)),
        }
        // Gone means gone: no desired state and no container left.
        let gone_by = Instant::now() + Duration::from_secs(30);
        loop {
            match self.client.get::<AppStatus>(&app_path(&self.name)).await {
                Err(e) if e.kind == Kind::NotFound => break,
                _ if Instant::now() >= gone_by => return Err(self.fail(step, "the app did not go")),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        if !check_route {
            return Ok(());
        }
        self.until(step, async || {
            match self.get(&self.host, "/index").await? {
                (404, _) => Ok(()),
                (status, _) => Err(format!("the route still answers {status}")),
            }
        })
        .await?;
        self.say(step, "removed; its route answers 404");
        Ok(())
    }
}

pub async fn run(args: TestArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let name = format!(
        "lattice-test-app-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let test = Run {
        client,
        ui,
        router: settings.router_addr,
        host: format!("{name}.localhost"),
        name,
        deadline: Instant::now() + args.timeout,
        verbose: args.verbose,
        creating: Default::default(),
    };
    let outcome = tokio::select! {
        outcome = test.steps() => outcome,
        // A CI timeout (SIGTERM) or a closed terminal (SIGHUP) stops it like Ctrl-C does.
        _ = super::interrupted() => Err(Error::new(Kind::Interrupted, "interrupted")),
    };
    match outcome {
        Ok(()) => {
            test.remove(true).await?;
            if ui.json {
                ui.json(&serde_json::json!({ "passed": true, "app": test.name }));
            } else {
                ui.out(ui.paint(Color::Green, "ltc test passed"));
            }
            Ok(())
        }
        Err(error) => {
            // Leave nothing behind, whatever stopped the test.
            test.say("remove", format!("removing {}", test.name));
            let _ = test.remove(false).await;
            Err(error)
        }
    }
}
