//! ltc on a Docker Swarm: swarms of private engines made by the tests (never the machine's own
//! engine), with a registry on loopback for their images.

use crate::support::swarm::{Registry, Swarm};
use crate::support::{Follow, Home, Load, busybox_image, converged, http_get, require_docker};
use ltc::engine::Engine;
use ltc::engine::swarm::SwarmEngine;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether every instance runs on the manager's machine (127.0.0.1).
fn all_on_the_manager(status: &serde_json::Value) -> bool {
    cells_of(status)
        .values()
        .all(|(_, address)| address == "127.0.0.1")
}

/// Each instance's (cell, address) by index, from `ltc status APP --json`.
fn cells_of(status: &serde_json::Value) -> BTreeMap<u64, (String, String)> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["stopping"] == false)
        .map(|i| {
            (
                i["index"].as_u64().unwrap(),
                (
                    i["cell"].as_str().unwrap_or_default().to_string(),
                    i["address"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

/// The crashes of an app's instances, together.
fn crash_total(status: &serde_json::Value) -> u64 {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["crash_count"].as_u64().unwrap())
        .sum()
}

/// The indices that answer through the router in `tries` requests.
fn answering(home: &Home, host: &str, tries: usize) -> BTreeSet<String> {
    (0..tries)
        .map(|_| {
            let (code, body) = http_get(home.router_port, "/index", host).unwrap();
            assert_eq!(code, 200, "{body}");
            body.trim().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_swarm_engine_keeps_the_engine_contract() {
    require_docker();
    let swarm = Swarm::init();
    let engine = Arc::new(SwarmEngine::new(&swarm.manager.host, None));
    let image = crate::engine::demo_image(engine.as_ref()).await;
    let cells = engine.cells().await.unwrap();
    assert_eq!(cells.len(), 1, "{cells:?}");
    assert!(cells[0].local);
    crate::engine::contract(engine, &image).await;
    assert!(swarm.services().is_empty(), "{:?}", swarm.services());
}

#[test]
fn apps_on_a_two_machine_swarm_are_placed_routed_restarted_updated_and_moved() {
    require_docker();
    let registry = Registry::start();
    let mut swarm = Swarm::init();
    let worker = swarm.join("127.0.0.2");
    // The engine is chosen with nothing running; the node restarts on it.
    let (home, target) = swarm.home(&registry);
    assert!(target.stdout.contains("Engine:\t\tswarm"), "{target:#?}");
    let version = home.ltc(&["version"]).ok();
    assert!(version.stdout.contains("Swarm: "), "{version:#?}");
    let cells = home.json(&["cells"]);
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 2, "{cells:?}");
    let addresses: BTreeSet<&str> = cells
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, BTreeSet::from(["127.0.0.1", "127.0.0.2"]));

    // An image from a registry is pulled on the manager with progress per layer, as on one
    // engine, and runs on both machines. `ltc ssh` reaches the manager's instance, and says
    // where the other one runs.
    let image = format!("{}/ltc-test-busybox:1", registry.address);
    let docker = |args: &[&str]| {
        let out = std::process::Command::new("docker")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "docker {args:?}: {out:?}");
    };
    docker(&["tag", &busybox_image(), &image]);
    docker(&["push", &image]);
    docker(&["rmi", &image]);
    let run = home.ltc(&["create", "shell", &image, "-i", "2"]).ok();
    assert!(run.stderr.contains("Pull complete"), "{run:#?}");
    let status = home.json(&["status", "shell"]);
    let placed = cells_of(&status);
    assert_eq!(placed.len(), 2, "{status:#}");
    for (index, (cell, address)) in &placed {
        let index = index.to_string();
        let run = home.ltc(&["ssh", "shell", "-i", &index, "--", "cat", "/www/index.html"]);
        match address.as_str() {
            "127.0.0.1" => assert_eq!(run.ok().stdout.trim(), "hello"),
            _ => {
                let run = run.code(15);
                assert!(run.stderr.contains(cell.as_str()), "{run:#?}");
            }
        }
    }
    let (code, body) = http_get(home.router_port, "/", "shell.localhost").unwrap();
    assert_eq!((code, body.trim()), (200, "hello"));
    // A one-off on a swarm is a service too: its output comes from its log (no attaching).
    let run = home
        .ltc(&[
            "run",
            "shell",
            "--",
            "sh",
            "-c",
            "cat /www/index.html; exit 3",
        ])
        .code(3);
    assert_eq!(run.stdout.trim(), "hello", "{run:#?}");

    // A build from a directory happens on the manager and reaches the other machine through
    // the registry too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {image}\nRUN echo built > /www/index.html\n"),
    )
    .unwrap();
    let path = dir.path().display().to_string();
    home.ltc(&["create", "built", "--path", &path, "-i", "2"])
        .ok();
    assert!(
        registry.catalog().contains("ltc-built"),
        "{}",
        registry.catalog()
    );
    for _ in 0..4 {
        let (code, body) = http_get(home.router_port, "/", "built.localhost").unwrap();
        assert_eq!((code, body.trim()), (200, "built"));
    }
    home.ltc(&["remove", "built", "shell"]).ok();

    // Create and scale: the built-in app's image is built on the manager and pushed to the
    // registry; Swarm spreads the instances over both machines and the router reaches both.
    let started = Instant::now();
    home.ltc(&["create", "web", "-i", "4"]).ok();
    println!("create of 4 on the swarm: {:?}", started.elapsed());
    assert!(
        registry.catalog().contains("ltc-web"),
        "{}",
        registry.catalog()
    );
    let status = home.json(&["status", "web"]);
    assert!(converged(&status, 4), "{status:#}");
    let placed = cells_of(&status);
    let used: BTreeSet<&str> = placed.values().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        used,
        BTreeSet::from(["127.0.0.1", "127.0.0.2"]),
        "instances on both machines: {placed:?}"
    );
    assert_eq!(
        answering(&home, "web.localhost", 12),
        BTreeSet::from(["0", "1", "2", "3"].map(String::from))
    );
    let visualize = home.ltc(&["visualize"]).ok();
    assert_eq!(
        visualize.stdout.matches("web: ").count(),
        2,
        "{visualize:#?}"
    );
    let human = home.ltc(&["status", "web"]).ok();
    assert!(human.stdout.contains("->127.0.0.2:"), "{human:#?}");
    home.ltc(&["scale", "web", "6"]).ok();
    home.ltc(&["scale", "web", "4"]).ok();
    assert_eq!(
        home.json(&["status", "web"])["instances"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Logs: the lines of instances on both machines.
    let logs = Follow::start(&home, &["logs", "web"]);
    for (index, _) in placed.iter().take(4) {
        logs.wait_for(
            &format!("Says Hello. on index: {index}"),
            Duration::from_secs(20),
        );
    }
    logs.stop();

    // A crash is ltc's to restart (Swarm never restarts a task): counted, and back.
    let (code, _) = http_get(home.router_port, "/exit", "web.localhost").unwrap();
    assert_eq!(code, 200);
    let status = home.wait_status("web", Duration::from_secs(60), |s| {
        converged(s, 4)
            && s["instances"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["crash_count"] == 1)
    });
    assert!(converged(&status, 4));

    // A rolling update under load: every request answered.
    let load = Load::start(home.router_port, "web.localhost", Duration::from_secs(120));
    let started = Instant::now();
    home.ltc(&["update", "web", "-e", "COLOR=blue"]).ok();
    println!("rolling update of 4 on the swarm: {:?}", started.elapsed());
    // A scale-down drains: a slow request in flight completes.
    let slow = std::thread::spawn({
        let port = home.router_port;
        move || http_get(port, "/sleep/1500", "web.localhost").unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    home.ltc(&["scale", "web", "1"]).ok();
    assert_eq!(slow.join().unwrap().0, 200);
    home.ltc(&["scale", "web", "4"]).ok();
    let (ok, failed, errors) = load.finish();
    println!("load over update and scale on the swarm: {ok} ok, {failed} failed");
    assert!(ok > 0);
    assert_eq!(failed, 0, "{errors:?}");
    let env = http_get(home.router_port, "/env?json=true", "web.localhost").unwrap();
    assert!(env.1.contains("COLOR"), "{env:?}");

    // The worker is drained: its instances move to the manager's machine, are routed there,
    // and count no crash; no index is run twice.
    let before = home.json(&["status", "web"]);
    let crashes = crash_total(&before);
    swarm.availability(&worker, "drain");
    let status = home.wait_status("web", Duration::from_secs(60), |s| {
        converged(s, 4) && all_on_the_manager(s)
    });
    assert_eq!(
        crash_total(&status),
        crashes,
        "a move is not a crash: {status:#}"
    );
    assert_eq!(
        answering(&home, "web.localhost", 12),
        BTreeSet::from(["0", "1", "2", "3"].map(String::from))
    );
    assert_eq!(swarm.services().len(), 4, "{:?}", swarm.services());
    let cells = home.json(&["cells"]);
    let drained = cells
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "127.0.0.2")
        .unwrap();
    assert_eq!(drained["availability"], "drain");
    assert_eq!(drained["running_instances"], 0);

    // The worker back, then cut off (its engine frozen, as a machine that drops off the
    // network): the manager marks it down, and its instances move as a drained one's did.
    swarm.availability(&worker, "active");
    home.ltc(&["scale", "web", "8"]).ok();
    let status = home.json(&["status", "web"]);
    assert!(
        cells_of(&status)
            .values()
            .any(|(_, address)| address == "127.0.0.2"),
        "new instances on the emptier machine: {status:#}"
    );
    let crashes = crash_total(&status);
    swarm.workers[0].pause();
    let started = Instant::now();
    let status = home.wait_status("web", Duration::from_secs(120), |s| {
        converged(s, 8) && all_on_the_manager(s)
    });
    println!(
        "a machine down: its instances moved after {:?}",
        started.elapsed()
    );
    swarm.workers[0].resume();
    assert_eq!(
        crash_total(&status),
        crashes,
        "a move is not a crash: {status:#}"
    );
    assert_eq!(answering(&home, "web.localhost", 24).len(), 8);

    // Removed: no service and, once Swarm has reaped its tasks, no container anywhere.
    home.ltc(&["remove", "web"]).ok();
    assert!(swarm.services().is_empty(), "{:?}", swarm.services());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !swarm.containers().is_empty() {
        assert!(
            Instant::now() < deadline,
            "containers left: {:?}",
            swarm.containers()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_engine_changes_only_to_a_swarm_manager_and_only_with_nothing_running() {
    require_docker();
    // The machine's engine is no swarm: refused, naming it, and nothing saved.
    let home = Home::new();
    let run = home.ltc(&["target", "--engine", "swarm"]).code(15);
    assert!(run.stderr.contains("not part of a swarm"), "{run:#?}");
    assert!(run.stderr.contains("docker swarm init"), "{run:#?}");
    assert_eq!(home.json(&["target"])["engine"], "docker");

    // A registry that is not HOST:PORT.
    for bad in [
        "http://127.0.0.1:5000",
        "127.0.0.1:5000/ltc",
        "127.0.0.1:99999",
    ] {
        let run = home.ltc(&["target", "--registry", bad]).code(13);
        assert!(run.stderr.contains(bad), "{run:#?}");
    }
    assert_eq!(home.json(&["target"])["registry"], serde_json::Value::Null);

    // On one engine a registry is kept for a later swarm, and the node goes on as it is.
    let pid = home.node_pid();
    let set = home.json(&["target", "--registry", "127.0.0.1:5000"]);
    assert_eq!(set["registry"], "127.0.0.1:5000");
    assert_eq!(set["engine"], "docker");
    assert_eq!(
        home.node_pid(),
        pid,
        "no restart for a registry on one engine"
    );
    home.ltc(&["target", "--registry", ""]).ok();
    assert_eq!(home.json(&["target"])["registry"], serde_json::Value::Null);

    // With an app running, another engine would not see it: refused, the app untouched.
    home.ltc(&["create", "web"]).ok();
    let run = home.ltc(&["target", "--engine", "swarm"]).code(13);
    assert!(run.stderr.contains("1 app"), "{run:#?}");
    assert_eq!(home.json(&["target"])["engine"], "docker");
    assert!(converged(&home.json(&["status", "web"]), 1));
}
