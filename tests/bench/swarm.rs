//! ltc on a two-machine Docker Swarm of private engines (as `tests/swarm.rs` makes it), against
//! Swarm's own replicated services: placing and starting 4 instances, a rolling update of
//! them, removing them. Needs `docker-registry` (`apt-get install docker-registry`).

use crate::support::swarm::{Registry, Swarm};
use crate::{median, tool};
use std::time::{Duration, Instant};

/// Polls `done` every 20 ms, at most 120 s.
fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 120 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The states of a service's tasks that are meant to run, as `docker service ps` lists them.
fn running_tasks(swarm: &Swarm, service: &str, env: Option<&str>) -> usize {
    let out = swarm.manager.docker(&[
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.CurrentState}}",
    ]);
    let running = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Running"))
        .count();
    match env {
        // During an update the old tasks run too: only a spec with the new value counts.
        Some(value) => {
            let spec = swarm.manager.docker(&[
                "service",
                "inspect",
                service,
                "--format",
                "{{json .Spec.TaskTemplate.ContainerSpec.Env}} {{.UpdateStatus.State}}",
            ]);
            let spec = String::from_utf8_lossy(&spec.stdout).to_string();
            if spec.contains(value) && spec.trim_end().ends_with("completed") {
                running
            } else {
                0
            }
        }
        None => running,
    }
}

pub fn bench_swarm(rounds: usize) -> Vec<String> {
    if !tool("docker-registry") {
        return vec![
            "swarm: skipped, missing docker-registry: `apt-get install docker-registry`".into(),
        ];
    }
    let registry = Registry::start();
    let mut swarm = Swarm::init();
    swarm.join("127.0.0.2");
    let (home, _) = swarm.home(&registry);
    // The built-in image, built on the manager and pushed, outside any measurement; Swarm's
    // own services run the same pushed image.
    home.ltc(&["create", "warmup"]).ok();
    let status = home.json(&["status", "warmup"]);
    let service = status["instances"][0]["container_id"].as_str().unwrap();
    let image = swarm.manager.docker(&[
        "service",
        "inspect",
        service,
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
    ]);
    let image = String::from_utf8_lossy(&image.stdout).trim().to_string();
    home.ltc(&["remove", "warmup"]).ok();

    let mut times: [Vec<f64>; 6] = Default::default();
    for round in 0..rounds.min(3) {
        let name = format!("raw{round}");
        let started = Instant::now();
        let out = swarm.manager.docker(&[
            "service",
            "create",
            "--detach",
            "--quiet",
            "--name",
            &name,
            "--replicas",
            "4",
            // As ltc's instances: Docker's init forwards SIGTERM to the app.
            "--init",
            "--publish",
            "mode=host,target=8080",
            "--env",
            "X=0",
            &image,
        ]);
        assert!(out.status.success(), "{out:?}");
        until("docker service create", || {
            running_tasks(&swarm, &name, None) == 4
        });
        times[0].push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let out = swarm.manager.docker(&[
            "service",
            "update",
            "--detach",
            "--quiet",
            "--env-add",
            "X=1",
            "--update-order",
            "start-first",
            "--update-monitor",
            "1ms",
            &name,
        ]);
        assert!(out.status.success(), "{out:?}");
        until("docker service update", || {
            running_tasks(&swarm, &name, Some("X=1")) == 4
        });
        times[2].push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        swarm.manager.docker(&["service", "rm", &name]);
        until("docker service rm", || swarm.containers().is_empty());
        times[4].push(started.elapsed().as_secs_f64());

        let name = format!("web{round}");
        let started = Instant::now();
        home.ltc(&["create", &name, "-i", "4"]).ok();
        times[1].push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        home.ltc(&["update", &name, "-e", "X=1"]).ok();
        times[3].push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        home.ltc(&["remove", &name]).ok();
        until("ltc remove", || swarm.containers().is_empty());
        times[5].push(started.elapsed().as_secs_f64());
    }
    let [raw_create, create, raw_update, update, raw_remove, remove] = times.map(median);
    let row = |what: &str, seconds: f64, floor: f64| {
        format!(
            "| {what} | {:.0} ms | {:.2} |",
            seconds * 1000.0,
            seconds / floor
        )
    };
    vec![
        row(
            "`docker service create --replicas 4 --init` (host-mode port) → 4 tasks running",
            raw_create,
            raw_create,
        ),
        row(
            "`ltc create -i 4` → command returns (every instance RUNNING and routed)",
            create,
            raw_create,
        ),
        row(
            "`docker service update --env-add` (start-first, 1 ms monitor) → 4 new tasks running",
            raw_update,
            raw_update,
        ),
        row(
            "`ltc update -e` of 4, rolling → command returns",
            update,
            raw_update,
        ),
        row(
            "`docker service rm` → no container left on either machine",
            raw_remove,
            raw_remove,
        ),
        row(
            "`ltc remove` (drain, then stop) → no container left",
            remove,
            raw_remove,
        ),
    ]
}
