//! The node's logic against the fake engine: fast, no Docker. The same behaviours are tested
//! against the real engine through the binary in `tests/`.

use super::*;
use crate::config::Paths;
use crate::engine::ImageConfig;
use crate::engine::fake::FakeEngine;
use crate::error::Kind;
use crate::model::{AppStatus, CreateRequest, CreateResponse, ImageProgress, InstanceState};
use std::time::Duration;

pub(super) struct Harness {
    _dir: tempfile::TempDir,
    pub(super) settings: Settings,
    pub(super) engine: Arc<FakeEngine>,
    pub(super) node: Arc<Node>,
}

fn settings(dir: &std::path::Path) -> Settings {
    Settings {
        paths: Paths::new(dir),
        docker_host: "fake://engine".into(),
        router_addr: "127.0.0.1:8080".parse().unwrap(),
        router_tls_addr: None,
        router_tls_explicit: false,
        color_allowed: false,
        node_timeout: crate::config::DEFAULT_NODE_TIMEOUT,
        router_max_conns: crate::router::MAX_PENDING_PER_INSTANCE,
    }
}

fn image() -> ImageConfig {
    ImageConfig {
        entrypoint: vec!["/app".into()],
        ..ImageConfig::default()
    }
}

impl Harness {
    pub(super) fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let engine = Arc::new(FakeEngine::new());
        engine.add_image("img", image());
        let node = Self::start_node(&settings, engine.clone());
        Harness {
            _dir: dir,
            settings,
            engine,
            node,
        }
    }

    /// A node over the state on disk, as a restarted node would be; health checks are
    /// quick so liveness can be watched in milliseconds.
    fn start_node(settings: &Settings, engine: Arc<FakeEngine>) -> Arc<Node> {
        let desired = store::load(&settings.paths.state_file()).unwrap();
        let saved = store::load(&settings.paths.instances_file()).unwrap();
        let tuning = health::Tuning {
            liveness_interval: Duration::from_millis(30),
            failure_threshold: 3,
            attach_wait: Duration::from_millis(300),
        };
        let node = Node::new(
            engine,
            settings,
            "test-install".into(),
            NodeConfig::default(),
            desired,
            saved,
            tuning,
        );
        tokio::spawn(node.clone().converge_loop());
        tokio::spawn(node.clone().watch_events());
        node
    }

    fn restart_node(&mut self) {
        self.node.shutdown();
        self.node = Self::start_node(&self.settings, self.engine.clone());
    }

    pub(super) async fn create(&self, name: &str, instances: u32) -> Result<CreateResponse> {
        self.create_with(CreateRequest {
            name: name.into(),
            instances,
            ..CreateRequest::default()
        })
        .await
    }

    async fn create_with(&self, request: CreateRequest) -> Result<CreateResponse> {
        self.node
            .create(CreateRequest {
                image: Some("img".into()),
                memory_mb: 128,
                cpu_weight: 100,
                ..request
            })
            .await
    }

    /// Backends the router would use for `<name>.<default domain>`.
    fn routed(&self, name: &str) -> Vec<String> {
        let table = self.node.router().table();
        match table.lookup(&format!("{name}.{}", crate::model::DEFAULT_DOMAIN)) {
            crate::router::table::Lookup::Found(pool) => {
                pool.backends.iter().map(|b| b.guid.clone()).collect()
            }
            crate::router::table::Lookup::Unknown => Vec::new(),
        }
    }

    /// Waits (real time, bounded) until the app satisfies `done`.
    async fn until(&self, name: &str, done: impl Fn(&AppStatus) -> bool) -> AppStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let (Some(app), _) = self.node.app(name)
                && done(&app)
            {
                return app;
            }
            assert!(
                Instant::now() < deadline,
                "timed out: {:?}",
                self.node.app(name).0
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The container spec of `web`'s instance `index` under `guid`, with this home's labels,
    /// as a node would make it.
    fn web_instance(&self, index: u32, guid: &str) -> crate::engine::InstanceSpec {
        let spec = self.node.lock().desired.apps["web"].clone();
        let owner = resolve::Owner {
            install_id: "test-install",
            home: "/h",
        };
        let ports = BTreeMap::from([(8080, free_port())]);
        resolve::instance_spec(&spec, index, guid, &ports, &owner)
    }

    /// Stops the node as one killed in the middle of a start: the new instance's guid is
    /// recorded, with no container id yet.
    fn stop_during_start(&self, index: u32, guid: &str) {
        let mut saved: records::Records =
            store::load(&self.settings.paths.instances_file()).unwrap();
        let mut record = saved.instances[0].clone();
        record.guid = guid.into();
        record.index = index;
        record.container = None;
        saved.instances.push(record);
        self.node.shutdown();
        store::save(&self.settings.paths.instances_file(), &saved).unwrap();
    }

    /// Waits (real time, bounded) until the engine holds `count` containers.
    async fn until_containers(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.engine.container_names().len() != count {
            assert!(
                Instant::now() < deadline,
                "{:?}",
                self.engine.container_names()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Crashes `web`'s only instance `times` times, each once it runs again.
    async fn crash_web(&self, times: u32) {
        for crash in 1..=times {
            let app = self.converged("web", 1).await;
            let id = ContainerId(app.instances[0].container_id.clone().unwrap());
            self.engine.exit_container(&id, 1);
            self.until("web", |app| app.instances[0].crash_count == crash)
                .await;
        }
    }

    async fn converged(&self, name: &str, count: u32) -> AppStatus {
        self.until(name, |app| {
            app.desired_instances == count
                && app.instances.len() == count as usize
                && app
                    .instances
                    .iter()
                    .all(|i| i.state == InstanceState::Running && !i.stopping)
        })
        .await
    }
}

fn indices(app: &AppStatus) -> Vec<u32> {
    app.instances.iter().map(|i| i.index).collect()
}

#[tokio::test]
async fn create_runs_every_instance_and_persists_the_app() {
    let h = Harness::new();
    h.create("web", 3).await.unwrap();
    let app = h.converged("web", 3).await;
    assert_eq!(indices(&app), [0, 1, 2]);
    assert_eq!(app.running_instances, 3);
    let names = h.engine.container_names();
    assert_eq!(names.len(), 3);
    assert!(names[0].starts_with("ltc-web-0-"), "{names:?}");
    let saved: DesiredState = store::load(&h.settings.paths.state_file()).unwrap();
    assert_eq!(saved.apps["web"].instances, 3);
}

#[tokio::test]
async fn creating_an_existing_app_is_a_conflict_and_changes_nothing() {
    let h = Harness::new();
    h.create("web", 1).await.unwrap();
    let before: DesiredState = store::load(&h.settings.paths.state_file()).unwrap();
    let error = h.create("web", 5).await.unwrap_err();
    assert_eq!(error.kind, Kind::Conflict);
    let after: DesiredState = store::load(&h.settings.paths.state_file()).unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_missing_image_leaves_no_desired_state() {
    let h = Harness::new();
    let error = h
        .node
        .create(CreateRequest {
            name: "web".into(),
            image: Some("nope:1".into()),
            instances: 1,
            memory_mb: 128,
            cpu_weight: 100,
            ..CreateRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 15);
    assert!(error.message.contains("nope:1"), "{}", error.message);
    assert!(h.node.list().0.is_empty());
    assert!(!h.settings.paths.state_file().exists());
}

#[tokio::test]
async fn scale_touches_only_the_difference() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    let before = h.converged("web", 2).await;
    h.node.scale("web", 4).await.unwrap();
    let up = h.converged("web", 4).await;
    assert_eq!(indices(&up), [0, 1, 2, 3]);
    assert_eq!(
        up.instances[..2],
        before.instances[..],
        "the first two were untouched"
    );
    h.node.scale("web", 1).await.unwrap();
    let down = h.converged("web", 1).await;
    assert_eq!(down.instances[0].guid, before.instances[0].guid);
    assert_eq!(h.engine.container_names().len(), 1);
}

#[tokio::test]
async fn scaling_a_missing_app_is_not_found() {
    let h = Harness::new();
    let error = h.node.scale("ghost", 2).await.unwrap_err();
    assert_eq!(error.kind, Kind::NotFound);
}

#[tokio::test]
async fn more_memory_than_the_machine_has_is_a_placement_error() {
    let h = Harness::new();
    // The fake machine has 8 GiB; 100 × 128 MB does not fit.
    let error = h.create("web", 100).await.unwrap_err();
    assert_eq!(error.exit_code(), 11);
    assert!(h.node.list().0.is_empty());
    h.create("web", 1).await.unwrap();
    let error = h.node.scale("web", 100).await.unwrap_err();
    assert_eq!(error.exit_code(), 11);
    assert_eq!(h.node.app("web").0.unwrap().desired_instances, 1);
}

#[tokio::test]
async fn a_crashed_instance_restarts_at_its_index_with_a_new_guid() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    let before = h.converged("web", 2).await;
    let victim = &before.instances[1];
    let id = ContainerId(victim.container_id.clone().unwrap());
    h.engine.exit_container(&id, 1);
    let after = h
        .until("web", |app| {
            app.instances.len() == 2
                && app.instances[1].crash_count == 1
                && app.instances[1].state == InstanceState::Running
        })
        .await;
    assert_eq!(after.instances[1].index, 1);
    assert_ne!(after.instances[1].guid, victim.guid);
    assert_eq!(after.instances[0].guid, before.instances[0].guid);
    assert_eq!(h.engine.container_names().len(), 2);
}

#[tokio::test]
async fn the_third_crash_waits_for_the_backoff() {
    let h = Harness::new();
    h.create("web", 1).await.unwrap();
    h.crash_web(3).await;
    let app = h
        .until("web", |app| {
            app.instances[0].state == InstanceState::Crashed
        })
        .await;
    assert!(app.instances[0].next_restart.is_some(), "{app:?}");
    assert!(h.engine.container_names().is_empty(), "no restart storm");
}

#[tokio::test]
async fn a_container_removed_behind_the_nodes_back_is_replaced() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    let before = h.converged("web", 2).await;
    let id = ContainerId(before.instances[0].container_id.clone().unwrap());
    h.engine.remove_behind_back(&id);
    let after = h
        .until("web", |app| {
            app.instances.len() == 2
                && app.instances[0].guid != before.instances[0].guid
                && app.instances[0].state == InstanceState::Running
        })
        .await;
    assert_eq!(indices(&after), [0, 1]);
    assert_eq!(h.engine.container_names().len(), 2);
}

#[tokio::test]
async fn a_restarted_node_adopts_every_instance_without_duplicates() {
    let mut h = Harness::new();
    h.create("web", 3).await.unwrap();
    let before = h.converged("web", 3).await;
    let names = h.engine.container_names();
    h.restart_node();
    let after = h.converged("web", 3).await;
    let guids = |app: &AppStatus| {
        app.instances
            .iter()
            .map(|i| i.guid.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(guids(&after), guids(&before));
    assert_eq!(h.engine.container_names(), names);
}

#[tokio::test]
async fn a_duplicate_index_is_removed_on_adoption() {
    let mut h = Harness::new();
    h.create("web", 1).await.unwrap();
    h.converged("web", 1).await;
    // A second container claiming index 0, as a node killed mid-start could leave behind.
    let twin = h.web_instance(0, "ffffffffffffffff");
    h.stop_during_start(0, "ffffffffffffffff");
    h.engine.run_instance(&twin).await.unwrap();
    h.restart_node();
    let after = h
        .until("web", |a| {
            a.instances.len() == 1 && a.instances[0].state == InstanceState::Running
        })
        .await;
    assert_eq!(after.instances[0].index, 0);
    h.until_containers(1).await;
}

#[tokio::test]
async fn a_start_the_engine_finishes_after_the_node_restarted_is_removed() {
    let mut h = Harness::new();
    h.create("web", 1).await.unwrap();
    h.converged("web", 1).await;
    // The previous node recorded a new instance's guid, sent the create and was killed: the
    // engine finishes the create only after the next node has looked at its containers.
    h.stop_during_start(1, "abababababababab");
    h.restart_node();
    h.converged("web", 1).await;
    let late_id = h
        .engine
        .run_instance(&h.web_instance(1, "abababababababab"))
        .await
        .unwrap()
        .id;
    h.engine.never_started(&late_id);
    h.until_containers(1).await;
    assert!(!h.node.lock().foreign.contains(&late_id));
}

#[tokio::test]
async fn a_late_create_survives_a_node_killed_before_it_saw_it() {
    let mut h = Harness::new();
    h.create("web", 1).await.unwrap();
    h.converged("web", 1).await;
    // Node A recorded a start and was killed; its create finishes only later.
    h.stop_during_start(1, "cdcdcdcdcdcdcdcd");
    // Node B changes something (so it writes its records) and is killed before it ever
    // sees A's container.
    h.restart_node();
    h.node.scale("web", 2).await.unwrap();
    h.converged("web", 2).await;
    h.node.shutdown();
    let late_id = h
        .engine
        .run_instance(&h.web_instance(1, "cdcdcdcdcdcdcdcd"))
        .await
        .unwrap()
        .id;
    // Node C still knows it as this home's and removes it (index 1 is B's instance).
    h.restart_node();
    h.converged("web", 2).await;
    h.until_containers(2).await;
    assert!(!h.node.lock().foreign.contains(&late_id));
    assert!(!h.engine.container_names().is_empty());
}

#[tokio::test]
async fn another_homes_containers_are_never_touched() {
    let h = Harness::new();
    let spec = {
        h.create("web", 1).await.unwrap();
        h.converged("web", 1).await;
        h.node.lock().desired.apps["web"].clone()
    };
    let other = resolve::Owner {
        install_id: "other-home",
        home: "/other",
    };
    let ports = BTreeMap::from([(8080, free_port())]);
    let foreign = resolve::instance_spec(&spec, 5, "eeeeeeeeeeeeeeee", &ports, &other);
    h.engine.run_instance(&foreign).await.unwrap();
    h.node.kick();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        h.engine.container_names().len(),
        2,
        "the other home's container stays"
    );
    assert_eq!(h.node.app("web").0.unwrap().instances.len(), 1);
}

#[tokio::test]
async fn remove_stops_every_instance_and_forgets_the_app() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    h.converged("web", 2).await;
    let removing = h.node.remove("web", false).await.unwrap();
    assert!(removing.removing);
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.node.app("web").0.is_some() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(h.engine.container_names().is_empty());
    let saved: DesiredState = store::load(&h.settings.paths.state_file()).unwrap();
    assert!(saved.apps.is_empty());
}

#[tokio::test]
async fn an_unreachable_engine_fails_requests_with_exit_15() {
    let h = Harness::new();
    h.engine.set_unreachable(true);
    let error = h.create("web", 1).await.unwrap_err();
    assert_eq!(error.exit_code(), 15);
    assert!(h.node.list().0.is_empty());
}

#[tokio::test]
async fn an_app_created_again_after_removal_never_adopts_the_old_containers() {
    let h = Harness::new();
    h.create("web", 1).await.unwrap();
    let old = h.converged("web", 1).await;
    h.node.remove("web", false).await.unwrap();
    h.create("web", 1).await.unwrap();
    let new = h.converged("web", 1).await;
    assert_ne!(new.instances[0].guid, old.instances[0].guid);
    assert!(new.generation > old.generation);
}

#[tokio::test]
async fn a_container_with_copied_labels_is_never_adopted_routed_or_removed() {
    let mut h = Harness::new();
    h.create("web", 1).await.unwrap();
    let app = h.converged("web", 1).await;
    // This home's install id and labels, but a guid the node never recorded.
    let impostor = h.web_instance(0, "dddddddddddddddd");
    let impostor_id = h.engine.run_instance(&impostor).await.unwrap().id;
    h.restart_node();
    let after = h.converged("web", 1).await;
    assert_eq!(after.instances[0].guid, app.instances[0].guid);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.routed("web"), [app.instances[0].guid.clone()]);
    assert_eq!(
        h.engine.container_names().len(),
        2,
        "the impostor is left alone"
    );
    assert!(h.node.lock().foreign.contains(&impostor_id));
}

#[tokio::test]
async fn crash_counts_and_backoff_survive_a_restart_of_the_node() {
    let mut h = Harness::new();
    h.create("web", 1).await.unwrap();
    h.crash_web(3).await;
    let waiting = h
        .until("web", |app| {
            app.instances[0].state == InstanceState::Crashed
                && app.instances[0].container_id.is_none()
        })
        .await;
    h.restart_node();
    let restored = h.until("web", |app| app.instances.len() == 1).await;
    assert_eq!(restored.instances[0].crash_count, 3);
    assert_eq!(restored.instances[0].state, InstanceState::Crashed);
    let due = |app: &AppStatus| {
        humantime::parse_rfc3339(app.instances[0].next_restart.as_deref().unwrap()).unwrap()
    };
    let drift = due(&restored)
        .duration_since(due(&waiting))
        .unwrap_or_else(|e| e.duration());
    assert!(
        drift < Duration::from_millis(50),
        "the backoff deadline is kept: {drift:?}"
    );
    // The 3rd crash waits 30 s (Diego): on a paused clock, nothing starts before it is due,
    // and the instance starts once it is.
    tokio::time::pause();
    let due_in = due(&restored)
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(due_in.saturating_sub(Duration::from_secs(1))).await;
    assert!(h.engine.container_names().is_empty(), "still backing off");
    tokio::time::sleep(Duration::from_secs(2)).await;
    h.until_containers(1).await;
}

#[tokio::test]
async fn an_instance_that_stops_answering_leaves_the_routes_then_crashes() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    let app = h.converged("web", 2).await;
    assert_eq!(h.routed("web").len(), 2);
    let sick = &app.instances[1];
    h.engine
        .stop_listening(&ContainerId(sick.container_id.clone().unwrap()));
    h.until("web", |app| !app.instances[1].healthy).await;
    assert_eq!(
        h.routed("web"),
        [app.instances[0].guid.clone()],
        "out of the routes at once"
    );
    let after = h
        .until("web", |app| {
            app.instances[1].crash_count == 1 && app.instances[1].state == InstanceState::Running
        })
        .await;
    assert_ne!(
        after.instances[1].guid, sick.guid,
        "replaced after the threshold"
    );
    assert_eq!(h.routed("web").len(), 2);
}

#[tokio::test]
async fn a_frozen_instance_fails_its_port_monitor_leaves_the_routes_and_is_replaced() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    let app = h.converged("web", 2).await;
    let frozen = &app.instances[1];
    // Its port still accepts (the kernel and Docker's proxy do), its processes do not run.
    h.engine
        .set_frozen(&ContainerId(frozen.container_id.clone().unwrap()), true);
    let sick = h.until("web", |app| !app.instances[1].healthy).await;
    assert_eq!(
        sick.instances[1].last_error.as_deref(),
        Some(health::FROZEN)
    );
    assert_eq!(h.routed("web"), [app.instances[0].guid.clone()]);
    let after = h
        .until("web", |app| {
            app.instances[1].crash_count == 1 && app.instances[1].state == InstanceState::Running
        })
        .await;
    assert_ne!(after.instances[1].guid, frozen.guid, "replaced");
    assert_eq!(h.routed("web").len(), 2);
}

#[tokio::test]
async fn without_a_monitor_an_instance_runs_as_soon_as_it_starts() {
    let h = Harness::new();
    h.create_with(CreateRequest {
        name: "worker".into(),
        instances: 1,
        no_monitor: true,
        ..CreateRequest::default()
    })
    .await
    .unwrap();
    let app = h.converged("worker", 1).await;
    h.engine
        .stop_listening(&ContainerId(app.instances[0].container_id.clone().unwrap()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let still = h.node.app("worker").0.unwrap();
    assert_eq!(still.instances[0].guid, app.instances[0].guid);
    assert!(still.instances[0].healthy);
}

#[tokio::test]
async fn a_command_monitor_in_an_image_without_a_shell_says_so() {
    let h = Harness::new();
    h.engine.set_exec_exit(127);
    h.create_with(CreateRequest {
        name: "web".into(),
        instances: 1,
        monitor_command: Some("true".into()),
        ..CreateRequest::default()
    })
    .await
    .unwrap();
    let app = h
        .until("web", |app| {
            app.instances.first().is_some_and(|i| i.crash_count >= 1)
        })
        .await;
    let error = app.instances[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("no /bin/sh"), "{error}");
}

#[tokio::test]
async fn a_command_monitor_that_exits_zero_runs_the_instance() {
    let h = Harness::new();
    h.create_with(CreateRequest {
        name: "web".into(),
        instances: 1,
        monitor_command: Some("true".into()),
        ..CreateRequest::default()
    })
    .await
    .unwrap();
    h.converged("web", 1).await;
}

#[tokio::test]
async fn while_the_engine_is_unreachable_the_routes_stay() {
    let h = Harness::new();
    h.create("web", 2).await.unwrap();
    h.converged("web", 2).await;
    h.engine.set_unreachable(true);
    h.node.kick();
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.node.engine_error().is_none() {
        assert!(Instant::now() < deadline, "the node notices");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.routed("web").len(), 2, "known instances are still routed");
    h.engine.set_unreachable(false);
    h.node.kick();
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.node.engine_error().is_some() {
        assert!(Instant::now() < deadline, "and recovers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.converged("web", 2).await;
}

#[tokio::test]
async fn a_missing_image_is_pulled_with_progress_per_layer() {
    let h = Harness::new();
    h.engine.add_pullable_image("team/app:1", image());
    let seen = std::sync::Mutex::new(Vec::new());
    let pulled = h
        .node
        .prepare_image(Some("team/app:1"), &|p| seen.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(pulled, "team/app:1");
    let seen = seen.into_inner().unwrap();
    assert!(matches!(&seen[0], ImageProgress::Status { message } if message.contains("Pulling")));
    assert!(
        seen.iter()
            .any(|p| matches!(p, ImageProgress::Layer { .. })),
        "{seen:?}"
    );
    let error = h
        .node
        .prepare_image(Some("team/none:1"), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 15);
    assert!(error.message.contains("team/none:1"), "{}", error.message);
}

#[test]
fn placement_counts_memory_of_every_app() {
    let mut apps = BTreeMap::new();
    let mut spec = crate::node::resolve::resolve_create(
        &CreateRequest {
            name: "a".into(),
            instances: 4,
            memory_mb: 256,
            cpu_weight: 100,
            ..CreateRequest::default()
        },
        resolve::ImageChoice {
            name: "img".into(),
            reference: "img".into(),
            builtin: false,
            config: &image(),
        },
        "d.io",
        1,
        0,
    )
    .unwrap()
    .spec;
    apps.insert("a".to_string(), spec.clone());
    assert!(check_placement(&apps, 1024 << 20).is_ok());
    spec.instances = 5;
    apps.insert("a".to_string(), spec);
    assert_eq!(
        check_placement(&apps, 1024 << 20).unwrap_err().exit_code(),
        11
    );
    assert!(
        check_placement(&apps, 0).is_ok(),
        "unknown machine size is not refused"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
