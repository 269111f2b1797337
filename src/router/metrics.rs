//! The router's metrics, in Prometheus' text format at `http://ltc.localhost/metrics`.
//!
//! Counters live in a `prometheus-client` registry. Each route's pool holds its own handles
//! (made when the table is built), so a request costs a few atomic increments and one
//! uncontended lock for its latency, never a label lookup. What the node knows (instances,
//! restarts, CPU, memory, the engine) is read at scrape time through [`NodeMetrics`].

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The labels of a route's requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub app: String,
    pub route: String,
}

/// The labels of a route's requests by status class (`2xx`...).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub app: String,
    pub route: String,
    pub status: String,
}

/// Latency buckets, in seconds: from a fast local answer to gorouter's 900 s limit.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 900.0,
];

/// Every metric the router keeps itself.
#[derive(Clone)]
pub struct RouterMetrics {
    requests: Family<StatusLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    bytes_in: Family<RouteLabels, Counter>,
    bytes_out: Family<RouteLabels, Counter>,
    retries: Family<RouteLabels, Counter>,
    pub connections: Gauge,
}

impl Default for RouterMetrics {
    fn default() -> Self {
        RouterMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(LATENCY_BUCKETS.iter().copied())
            }),
            bytes_in: Family::default(),
            bytes_out: Family::default(),
            retries: Family::default(),
            connections: Gauge::default(),
        }
    }
}

impl RouterMetrics {
    /// The handles a route's pool counts its requests with.
    pub fn for_route(&self, app: &str, route: &str) -> RouteMetrics {
        let labels = RouteLabels {
            app: app.to_string(),
            route: route.to_string(),
        };
        let class = |status: &str| {
            self.requests
                .get_or_create(&StatusLabels {
                    app: app.to_string(),
                    route: route.to_string(),
                    status: status.to_string(),
                })
                .clone()
        };
        RouteMetrics {
            by_class: [
                class("1xx"),
                class("2xx"),
                class("3xx"),
                class("4xx"),
                class("5xx"),
            ],
            latency: self.latency.get_or_create(&labels).clone(),
            bytes_in: self.bytes_in.get_or_create(&labels).clone(),
            bytes_out: self.bytes_out.get_or_create(&labels).clone(),
            retries: self.retries.get_or_create(&labels).clone(),
        }
    }

    /// Forgets the series of a route no longer served.
    pub fn forget(&self, app: &str, route: &str) {
        let labels = RouteLabels {
            app: app.to_string(),
            route: route.to_string(),
        };
        for status in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
            self.requests.remove(&StatusLabels {
                app: app.to_string(),
                route: route.to_string(),
                status: status.to_string(),
            });
        }
        self.latency.remove(&labels);
        self.bytes_in.remove(&labels);
        self.bytes_out.remove(&labels);
        self.retries.remove(&labels);
    }

    /// Adds the router's metrics to a registry for one scrape.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "ltc_router_requests",
            "Requests answered, by app, route and status class",
            self.requests.clone(),
        );
        registry.register(
            "ltc_router_request_duration_seconds",
            "Time from a request's arrival to its response's head, by app and route",
            self.latency.clone(),
        );
        registry.register(
            "ltc_router_received_bytes",
            "Request body bytes received from clients, by app and route",
            self.bytes_in.clone(),
        );
        registry.register(
            "ltc_router_sent_bytes",
            "Response body bytes sent to clients, by app and route",
            self.bytes_out.clone(),
        );
        registry.register(
            "ltc_router_retries",
            "Requests tried again on another instance, by app and route",
            self.retries.clone(),
        );
        registry.register(
            "ltc_router_open_connections",
            "Client connections open to the router (HTTP and HTTPS)",
            self.connections.clone(),
        );
    }
}

/// One route's handles, kept in its pool.
#[derive(Debug, Clone)]
pub struct RouteMetrics {
    by_class: [Counter; 5],
    latency: Histogram,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
    pub retries: Counter,
}

impl RouteMetrics {
    /// Requests answered, and those answered with a 5xx.
    pub fn totals(&self) -> (u64, u64) {
        let all = self.by_class.iter().map(|c| c.get()).sum();
        (all, self.by_class[4].get())
    }

    /// Counts one answered request.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].inc();
        self.latency.observe(elapsed.as_secs_f64());
    }
}

/// What the node adds to a scrape: its instances, restarts, resources and the engine.
pub trait NodeMetrics: Send + Sync {
    fn register(&self, registry: &mut Registry);
}

/// The text of one scrape.
pub fn scrape(router: &RouterMetrics, node: Option<&dyn NodeMetrics>) -> String {
    let mut registry = Registry::default();
    router.register(&mut registry);
    if let Some(node) = node {
        node.register(&mut registry);
    }
    let mut text = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}
