//! What the node adds to the router's `/metrics` and `/health`: its instances by state,
//! crashes, each instance's CPU and memory, and whether the engine answers. Read at scrape
//! time from what the node already keeps; nothing here is on the request path.

use super::Node;
use crate::model::InstanceState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AppLabels {
    app: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    app: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    app: String,
    index: String,
}

impl Node {
    /// Adds the node's metrics to one scrape's registry.
    pub(super) fn register_metrics(&self, registry: &mut Registry) {
        let instances = Family::<StateLabels, Gauge>::default();
        let crashes = Family::<AppLabels, Counter>::default();
        let cpu = Family::<InstanceLabels, Gauge<f64, AtomicU64>>::default();
        let memory = Family::<InstanceLabels, Gauge>::default();
        let desired = Family::<AppLabels, Gauge>::default();
        let engine_up = Gauge::<i64>::default();
        {
            let inner = self.lock();
            let stats = self.stats.lock().expect("stats lock");
            for (name, spec) in &inner.desired.apps {
                let app = AppLabels { app: name.clone() };
                desired.get_or_create(&app).set(i64::from(spec.instances));
                let _ = crashes.get_or_create(&app);
                for state in [
                    InstanceState::Unclaimed,
                    InstanceState::Claimed,
                    InstanceState::Running,
                    InstanceState::Crashed,
                ] {
                    let _ = instances.get_or_create(&StateLabels {
                        app: name.clone(),
                        state: state.as_str().to_string(),
                    });
                }
            }
            for slot in &inner.slots {
                let app = AppLabels {
                    app: slot.app.clone(),
                };
                crashes
                    .get_or_create(&app)
                    .inc_by(u64::from(slot.crash_count));
                instances
                    .get_or_create(&StateLabels {
                        app: slot.app.clone(),
                        state: slot.state.as_str().to_string(),
                    })
                    .inc();
                let sample = slot.container.as_ref().and_then(|id| stats.get(id));
                if let Some((sample, cpu_percent)) = sample {
                    let labels = InstanceLabels {
                        app: slot.app.clone(),
                        index: slot.index.to_string(),
                    };
                    memory
                        .get_or_create(&labels)
                        .set(sample.memory_bytes as i64);
                    if let Some(percent) = cpu_percent {
                        cpu.get_or_create(&labels).set(percent / 100.0);
                    }
                }
            }
            engine_up.set(i64::from(inner.engine_error.is_none()));
        }
        registry.register(
            "ltc_app_desired_instances",
            "Instances each app should have",
            desired,
        );
        registry.register(
            "ltc_instances",
            "Instances by app and state (UNCLAIMED, CLAIMED, RUNNING, CRASHED)",
            instances,
        );
        registry.register(
            "ltc_instance_crashes",
            "Crashes of the app's current instances (each one restarted with backoff)",
            crashes,
        );
        registry.register(
            "ltc_instance_cpu_ratio",
            "CPU each instance used at the last sample (1.0 = one core)",
            cpu,
        );
        registry.register(
            "ltc_instance_memory_bytes",
            "Memory each instance used at the last sample",
            memory,
        );
        registry.register(
            "ltc_engine_up",
            "1 when the Docker engine answered the node's last request, else 0",
            engine_up,
        );
    }
}
