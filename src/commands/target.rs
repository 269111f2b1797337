//! `ltc target`: shows or sets the system domain that routes are made under, and the engine
//! (one Docker engine, or a Docker Swarm) with the registry a swarm's images go through.

use crate::cli::TargetArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{EngineKind, TargetChange, TargetInfo, TargetRequest};
use crate::ui::{Color, Ui};
use hyper::Method;
use std::time::Duration;

/// How long the node restarted on a new engine may take to answer.
const RESTART_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(args: TargetArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    if let Some(domain) = &args.domain {
        // Checked here too, so a bad domain never starts a node.
        crate::model::validate_domain(domain.trim_end_matches('.'))?;
    }
    if let Some(registry) = args.registry.as_deref().filter(|r| !r.trim().is_empty()) {
        crate::model::validate_registry(registry.trim())?;
    }
    let client = client::connect(settings, ui).await?;
    let changing = args.domain.is_some() || args.engine.is_some() || args.registry.is_some();
    let target: TargetInfo = if changing {
        let request = TargetRequest {
            domain: args.domain.clone(),
            engine: args.engine.map(EngineKind::from),
            registry: args.registry.clone(),
        };
        let change: TargetChange = client
            .call(Method::PUT, "/v1/target", Some(&request))
            .await?
            .0;
        if change.restart {
            ui.note(format!(
                "Restarting the ltc node on the {} engine...",
                change.target.engine
            ));
            super::daemon::restart(settings, ui, RESTART_TIMEOUT).await?;
        }
        change.target
    } else {
        client.get("/v1/target").await?
    };
    if ui.json {
        ui.json(&target);
        return Ok(());
    }
    if changing {
        ui.note(ui.paint_err(Color::Green, "Target set."));
    }
    ui.out(format!("Target:\t\t{}", target.domain));
    ui.out(format!("Router:\t\t{}", target.router_address));
    ui.out(format!("Engine:\t\t{}", target.engine));
    if target.engine == EngineKind::Swarm || target.registry.is_some() {
        ui.out(format!(
            "Registry:\t{}",
            target
                .registry
                .as_deref()
                .unwrap_or("none (instances run on the manager's machine)")
        ));
    }
    ui.out(format!("LTC_HOME:\t{}", target.ltc_home));
    Ok(())
}
