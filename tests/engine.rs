//! One contract for every engine: the fake must behave as Docker does (or stricter), so tests
//! of the node's logic against the fake mean something.

use crate::support::{free_port, require_docker};
use futures_util::StreamExt;
use ltc::engine::docker::DockerEngine;
use ltc::engine::fake::FakeEngine;
use ltc::engine::{ContainerState, Engine, EngineError, ImageConfig, InstanceSpec, labels};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Removes the contract's containers even when an assertion fails.
struct Cleanup {
    install: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let label = format!("io.ltc.install={}", self.install);
        let ids: Vec<String> = crate::support::containers_with_label(&label)
            .into_iter()
            .map(|c| c.id)
            .collect();
        if !ids.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .output();
        }
    }
}

fn spec(install: &str, image: &str, name: &str, host_port: u16) -> InstanceSpec {
    InstanceSpec {
        name: name.to_string(),
        image: image.to_string(),
        command: None,
        env: vec!["PORT=8080".into()],
        working_dir: None,
        user: None,
        labels: BTreeMap::from([
            (labels::INSTALL.to_string(), install.to_string()),
            (labels::APP.to_string(), "contract".to_string()),
            (labels::INDEX.to_string(), "0".to_string()),
        ]),
        ports: vec![(8080, host_port)],
        memory_bytes: 64 << 20,
        cpu_shares: 1024,
        pids_limit: 64,
        privileged: false,
        mounts: Vec::new(),
    }
}

/// The built-in app's image on `engine`, built there unless it is present.
pub async fn demo_image(engine: &dyn Engine) -> String {
    let image = ltc::demo::image_ref();
    if engine.image_config(&image).await.unwrap().is_none() {
        engine
            .build_image(
                &image,
                ltc::demo::build_context().unwrap(),
                &Default::default(),
                &|_| {},
            )
            .await
            .unwrap();
    }
    image
}

pub async fn contract(engine: Arc<dyn Engine>, image: &str) {
    let install = format!("contract-{}", uuid::Uuid::new_v4().simple());
    let _cleanup = Cleanup {
        install: install.clone(),
    };
    let ours = [(labels::INSTALL.to_string(), install.clone())];

    assert!(engine.info().await.unwrap().memory_bytes > 0);
    assert_eq!(
        engine.image_config("ltc-test/absent:1").await.unwrap(),
        None
    );
    let config = engine
        .image_config(image)
        .await
        .unwrap()
        .expect("image present");
    assert_eq!(config.entrypoint, ["/lattice-app"]);

    let missing = spec(
        &install,
        "ltc-test/absent:1",
        &format!("{install}-missing"),
        free_port(),
    );
    assert!(matches!(
        engine.run_instance(&missing).await,
        Err(EngineError::ImageNotFound(_))
    ));

    let mut events = engine.events(&ours).await.unwrap();
    let host_port = free_port();
    let name = format!("{install}-a");
    let id = engine
        .run_instance(&spec(&install, image, &name, host_port))
        .await
        .unwrap()
        .id;

    let listed = engine.list_instances(&ours).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].state, ContainerState::Running);
    assert_eq!(listed[0].ports, BTreeMap::from([(8080, host_port)]));
    assert_eq!(listed[0].labels[labels::APP], "contract");
    let others = [(labels::INSTALL.to_string(), "someone-else".to_string())];
    assert!(engine.list_instances(&others).await.unwrap().is_empty());

    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events.next().await.expect("stream open").expect("event");
            if event.id == id {
                return event;
            }
        }
    })
    .await
    .expect("an event for the new container");
    assert!(!event.action.is_empty());

    let twin = spec(&install, image, &name, free_port());
    assert!(matches!(
        engine.run_instance(&twin).await,
        Err(EngineError::Conflict(_))
    ));

    engine
        .remove_instance(&id, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(engine.list_instances(&ours).await.unwrap().is_empty());
    engine
        .remove_instance(&id, Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_fake_engine_keeps_the_contract() {
    let fake = Arc::new(FakeEngine::new());
    fake.add_image(
        "ltc-test/fake:1",
        ImageConfig {
            entrypoint: vec!["/lattice-app".into()],
            ..ImageConfig::default()
        },
    );
    contract(fake, "ltc-test/fake:1").await;
}

#[tokio::test]
async fn the_docker_engine_keeps_the_contract() {
    require_docker();
    let docker = Arc::new(DockerEngine::new(ltc::config::DEFAULT_DOCKER_HOST));
    let image = demo_image(docker.as_ref()).await;
    contract(docker, &image).await;
}

#[tokio::test]
async fn an_unreachable_docker_engine_fails_at_once_naming_its_socket() {
    let docker = DockerEngine::new("unix:///nonexistent/docker.sock");
    let started = std::time::Instant::now();
    let error = docker.info().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(error, EngineError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("unix:///nonexistent/docker.sock"),
        "{error}"
    );
}
