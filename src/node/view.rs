//! What the router asks of the node on its own address: `/health`, and the dashboard's apps,
//! changes, logs and actions (the same methods the node's API calls for the CLI).

use super::Node;
use crate::error::{Error, Result};
use crate::model::{AppStatus, Event, LogLine, RestartRequest};
use std::sync::{Arc, Weak};

/// The node as the router sees it, held weakly: the node owns the router.
pub struct View(pub Weak<Node>);

impl View {
    fn node(&self) -> Result<Arc<Node>> {
        self.0
            .upgrade()
            .ok_or_else(|| Error::failed("the node is stopping"))
    }
}

impl crate::router::metrics::NodeMetrics for View {
    fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        if let Ok(node) = self.node() {
            node.register_metrics(registry);
        }
    }
}

#[async_trait::async_trait]
impl crate::router::NodeView for View {
    fn health(&self) -> (bool, String) {
        let Ok(node) = self.node() else {
            return (false, r#"{"status":"stopping"}"#.to_string());
        };
        node.health_text()
    }

    fn apps(&self) -> (Vec<AppStatus>, Vec<Event>) {
        let Ok(node) = self.node() else {
            return (Vec::new(), Vec::new());
        };
        node.refresh_stats();
        let (mut apps, _) = node.list();
        for app in &mut apps {
            app.env.clear();
        }
        (apps, node.logs().recent_events())
    }

    fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        match self.node() {
            Ok(node) => node.changes.subscribe(),
            // A stream of a stopping node ends at once.
            Err(_) => tokio::sync::watch::channel(0).1,
        }
    }

    fn log(&self, app: &str) -> Option<(Vec<LogLine>, tokio::sync::broadcast::Receiver<LogLine>)> {
        let node = self.node().ok()?;
        let known = node.lock().desired.apps.contains_key(app);
        known.then(|| node.logs().subscribe(app))
    }

    async fn scale(&self, app: &str, instances: u32) -> Result<()> {
        crate::model::validate_instances(instances)?;
        self.node()?.scale(app, instances).await.map(|_| ())
    }

    async fn restart(&self, app: &str) -> Result<()> {
        let node = self.node()?;
        node.restart(app, RestartRequest::default())
            .await
            .map(|_| ())
    }

    async fn remove(&self, app: &str) -> Result<()> {
        let node = self.node()?;
        if !node.lock().desired.apps.contains_key(app) {
            return Err(Error::app_not_found(app));
        }
        node.remove(app, false).await.map(|_| ())
    }
}

impl Node {
    fn health_text(&self) -> (bool, String) {
        let (engine_error, apps) = {
            let inner = self.lock();
            (inner.engine_error.clone(), inner.desired.apps.len())
        };
        let body = serde_json::json!({
            "status": "ok",
            "router": "serving",
            "engine": match &engine_error {
                None => "reachable".to_string(),
                Some(e) => format!("unreachable: {e}"),
            },
            "apps": apps,
            "pid": std::process::id(),
        });
        // The router serves whatever the engine does: a load balancer keeps sending to it.
        (true, body.to_string())
    }
}
