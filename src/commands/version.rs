//! `ltc version`: the versions of ltc, its node and the Docker engine.

use crate::client;
use crate::config::Settings;
use crate::error::{Error, Kind, Result};
use crate::model::NodeInfo;
use crate::ui::Ui;

pub async fn run(settings: &Settings, ui: &Ui) -> Result<()> {
    let client = client::connect(settings, ui).await?;
    let info: NodeInfo = client.get("/v1/info").await?;
    // What is known is printed either way; an engine that does not answer fails it (15).
    let engine = info.engine.error.clone().map(|error| {
        Error::new(Kind::Engine, error)
            .with_hint("start Docker, or point DOCKER_HOST at its socket, then retry")
    });
    let client_version = env!("CARGO_PKG_VERSION");
    if let (true, Some(error)) = (ui.json, engine.clone()) {
        // Under --json a failure prints no data: the error says it all.
        return Err(error);
    }
    if ui.json {
        ui.json(&serde_json::json!({
            "client": client_version,
            "node": {
                "version": info.version,
                "api_version": info.api_version,
                "pid": info.pid,
                "started_at": info.started_at,
            },
            "docker": {
                "kind": info.engine.kind,
                "endpoint": info.engine.endpoint,
                "version": info.engine.version,
                "api_version": info.engine.api_version,
            },
        }));
        return engine.map_or(Ok(()), Err);
    }
    ui.out(format!("Client: {client_version}"));
    ui.out(format!(
        "Node:   {} (API v{}, pid {})",
        info.version, info.api_version, info.pid
    ));
    // A swarm is driven through one of its managers: its engine's version is shown.
    let label = match info.engine.kind {
        crate::model::EngineKind::Docker => "Docker:",
        crate::model::EngineKind::Swarm => "Swarm: ",
    };
    match &engine {
        None => ui.out(format!(
            "{label} {} (API {}, {})",
            info.engine.version.unwrap_or_default(),
            info.engine.api_version.unwrap_or_default(),
            info.engine.endpoint
        )),
        Some(_) => ui.out(format!("{label} unreachable ({})", info.engine.endpoint)),
    }
    engine.map_or(Ok(()), Err)
}
