//! `ltc target`: shows or sets the system domain that routes are made under.

use crate::cli::TargetArgs;
use crate::client;
use crate::config::Settings;
use crate::error::Result;
use crate::model::{TargetInfo, TargetRequest};
use crate::ui::{Color, Ui};
use hyper::Method;

pub async fn run(args: TargetArgs, settings: &Settings, ui: &Ui) -> Result<()> {
    if let Some(domain) = &args.domain {
        // Checked here too, so a bad domain never starts a node.
        crate::model::validate_domain(domain.trim_end_matches('.'))?;
    }
    let client = client::connect(settings, ui).await?;
    let target: TargetInfo = match &args.domain {
        Some(domain) => {
            let request = TargetRequest {
                domain: domain.clone(),
            };
            client
                .call(Method::PUT, "/v1/target", Some(&request))
                .await?
                .0
        }
        None => client.get("/v1/target").await?,
    };
    if ui.json {
        ui.json(&target);
        return Ok(());
    }
    if args.domain.is_some() {
        ui.note(ui.paint_err(Color::Green, "Target set."));
    }
    ui.out(format!("Target:\t\t{}", target.domain));
    ui.out(format!("Router:\t\t{}", target.router_address));
    ui.out(format!("LTC_HOME:\t{}", target.ltc_home));
    Ok(())
}
