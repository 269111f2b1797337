//! The commands and the node against the real Docker engine, through the built binary.

use crate::support::{
    Follow, Home, converged, guids, http_get, indices, instance_ports, require_docker,
};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

#[test]
fn the_demo_app_is_created_scaled_and_removed() {
    require_docker();
    let home = Home::new();
    let run = home.ltc(&["create", "lattice-app", "-i", "3"]).ok();
    assert!(
        run.stdout.contains("lattice-app is now running."),
        "{run:#?}"
    );
    assert!(run.stdout.contains("App is reachable at:"), "{run:#?}");
    let url = format!("http://lattice-app.localhost:{}", home.router_port);
    assert!(run.stdout.contains(&url), "{run:#?}");
    // Beside it, the URL under the domain, for programs that do not resolve `.localhost`.
    let domain_url = format!("(http://lattice-app.127.0.0.1.xip.io:{})", home.router_port);
    assert!(run.stdout.contains(&domain_url), "{run:#?}");
    assert!(run.stderr.contains("Creating App: lattice-app"), "{run:#?}");
    assert!(run.stderr.contains("Defaulting to 8080"), "{run:#?}");

    let status = home.json(&["status", "lattice-app"]);
    assert_eq!(status["running_instances"], 3);
    assert_eq!(indices(&status), [0, 1, 2]);
    // Each instance answers on its own published port with its own index.
    for (index, port) in instance_ports(&status, 8080) {
        let (code, body) = http_get(port, "/index", "localhost").unwrap();
        assert_eq!((code, body), (200, index.to_string()));
    }

    home.ltc(&["scale", "lattice-app", "5"]).ok();
    let up = home.json(&["status", "lattice-app"]);
    assert_eq!(indices(&up), [0, 1, 2, 3, 4]);
    assert_eq!(
        guids(&up)[..3],
        guids(&status)[..],
        "scale up left 0..2 alone"
    );

    let run = home.ltc(&["scale", "lattice-app", "1"]).ok();
    assert!(run.stdout.contains("App Scaled Successfully"), "{run:#?}");
    let down = home.json(&["status", "lattice-app"]);
    assert_eq!(
        guids(&down),
        [guids(&status)[0].clone()],
        "the highest indices went"
    );
    assert_eq!(home.containers().len(), 1);

    home.ltc(&["scale", "lattice-app", "0"]).ok();
    let stopped = home.json(&["status", "lattice-app"]);
    assert_eq!(stopped["desired_instances"], 0);
    assert!(home.containers().is_empty());

    home.ltc(&["remove", "lattice-app"]).ok();
    assert!(home.containers().is_empty());
    assert_eq!(home.json(&["list"]), serde_json::json!([]));
    home.ltc(&["status", "lattice-app"]).code(14);
}

#[test]
fn each_instance_gets_lattices_environment_and_docker_settings() {
    require_docker();
    let home = Home::new().with_env("FROM_CALLER", "copied");
    home.ltc(&[
        "create",
        "envy",
        "-p",
        "7777,8888",
        "-e",
        "FOO=bar",
        "-e",
        "FROM_CALLER",
        "-m",
        "64",
        "-c",
        "50",
        "--",
        "/lattice-app",
        "--ports",
        "7777,8888",
    ])
    .ok();
    let status = home.json(&["status", "envy"]);
    assert_eq!(status["ports"], serde_json::json!([7777, 8888]));
    assert_eq!(status["env"]["FROM_CALLER"], "copied");
    let instance = &status["instances"][0];
    let port_a = instance["ports"]["7777"].as_u64().unwrap() as u16;
    let port_b = instance["ports"]["8888"].as_u64().unwrap() as u16;
    assert_eq!(
        http_get(port_a, "/port", "x").unwrap(),
        (200, "7777".into())
    );
    assert_eq!(
        http_get(port_b, "/port", "x").unwrap(),
        (200, "8888".into())
    );

    let (_, env) = http_get(port_a, "/env?json=true", "x").unwrap();
    let pairs: Vec<(String, String)> = serde_json::from_str(&env).unwrap();
    let env: std::collections::BTreeMap<_, _> = pairs.into_iter().collect();
    assert_eq!(env["FOO"], "bar");
    assert_eq!(env["FROM_CALLER"], "copied");
    assert_eq!(env["PORT"], "7777");
    assert_eq!(env["INSTANCE_INDEX"], "0");
    assert_eq!(env["CF_INSTANCE_INDEX"], "0");
    assert_eq!(env["INSTANCE_GUID"], instance["guid"].as_str().unwrap());
    assert_eq!(env["CF_INSTANCE_GUID"], instance["guid"].as_str().unwrap());
    assert_eq!(env["CF_INSTANCE_IP"], "127.0.0.1");
    assert_eq!(env["CF_INSTANCE_PORT"], port_a.to_string());
    assert_eq!(env["CF_INSTANCE_ADDR"], format!("127.0.0.1:{port_a}"));
    assert!(env["CF_INSTANCE_PORTS"].contains(&format!("\"external\":{port_b}")));
    assert_eq!(env["PROCESS_GUID"], "envy");
    assert_eq!(env["VCAP_SERVICES"], "{}");
    assert!(env["VCAP_APPLICATION"].contains("\"application_name\":\"envy\""));

    let id = home.containers()[0].id.clone();
    let inspect = Command::new("docker")
        .args(["inspect", "--format"])
        .arg("{{.HostConfig.Init}} {{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{.Name}} {{.HostConfig.PidsLimit}}")
        .arg(&id)
        .output()
        .unwrap();
    let inspect = String::from_utf8_lossy(&inspect.stdout);
    let fields: Vec<&str> = inspect.split_whitespace().collect();
    assert_eq!(fields[0], "true", "containers run under Docker's init");
    assert_eq!(fields[1], (64u64 << 20).to_string());
    assert_eq!(fields[2], "512");
    assert!(fields[3].starts_with("/ltc-envy-0-"), "{inspect}");
    assert_eq!(
        fields[4], "1024",
        "a fork bomb stays inside the default pids limit"
    );
    let bindings = Command::new("docker").args(["port", &id]).output().unwrap();
    let bindings = String::from_utf8_lossy(&bindings.stdout);
    assert!(
        bindings.lines().all(|l| l.contains("-> 127.0.0.1:")),
        "published on loopback only: {bindings}"
    );
}

#[test]
fn creating_an_existing_app_fails_and_keeps_it() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let before = home.json(&["status", "web"]);
    let run = home.ltc(&["create", "web"]).code(14);
    assert!(run.stderr.contains("app `web` already exists"), "{run:#?}");
    let after = home.json(&["status", "web"]);
    assert_eq!(guids(&after), guids(&before));
    assert_eq!(home.containers().len(), 2);
}

#[test]
fn missing_apps_are_reported_with_exit_14() {
    require_docker();
    let home = Home::new();
    for args in [
        vec!["scale", "ghost", "2"],
        vec!["remove", "ghost"],
        vec!["status", "ghost"],
    ] {
        let run = home.ltc(&args).code(14);
        assert!(run.stderr.contains("app `ghost` not found"), "{run:#?}");
    }
}

#[test]
fn an_image_that_cannot_be_pulled_exits_15_and_leaves_nothing() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&["create", "web", "ltc-test/no-such-image:1"])
        .code(15);
    assert!(run.stderr.contains("ltc-test/no-such-image:1"), "{run:#?}");
    assert_eq!(home.json(&["list"]), serde_json::json!([]));
    let state = std::fs::read_to_string(home.path().join("state.json")).unwrap_or_default();
    assert!(!state.contains("\"web\""), "{state}");
    assert!(home.containers().is_empty());
}

#[test]
fn ten_concurrent_scales_end_at_the_last_accepted_count() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let children: Vec<_> = (1..=10)
        .map(|count| {
            let child = home
                .command(&["scale", "web", &count.to_string()])
                .spawn()
                .unwrap();
            (count, child)
        })
        .collect();
    let mut outcomes = Vec::new();
    for (count, child) in children {
        let output = child.wait_with_output().unwrap();
        outcomes.push((
            count,
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    let status = home.wait_status("web", Duration::from_secs(60), |s| {
        let desired = s["desired_instances"].as_u64().unwrap();
        converged(s, desired)
    });
    let last = status["desired_instances"].as_u64().unwrap();
    // The winner saw its own count through; the others were told they were overtaken.
    for (count, code, stderr) in &outcomes {
        if *count == last {
            assert_eq!(*code, Some(0), "the last accepted scale succeeds: {stderr}");
        } else {
            assert!(
                *code == Some(0)
                    || (*code == Some(14) && stderr.contains("changed by another request")),
                "scale {count}: {code:?} {stderr}"
            );
        }
    }
    let containers = home.containers();
    assert_eq!(containers.len() as u64, last, "{containers:#?}");
    let unique: BTreeSet<&str> = containers.iter().map(|c| c.index.as_str()).collect();
    assert_eq!(unique.len() as u64, last, "no duplicate indices");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(state["apps"]["web"]["instances"], last);
}

#[test]
fn a_node_killed_mid_scale_is_replaced_without_duplicate_indices() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let scale = home.command(&["scale", "web", "8"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let pid = home.node_pid().expect("the node wrote its pid");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let _ = scale.wait_with_output();
    // The next command starts a new node, which adopts what exists and converges.
    let status = home.wait_status("web", Duration::from_secs(60), |s| converged(s, 8));
    assert_eq!(indices(&status), (0..8).collect::<Vec<u64>>());
    let containers = home.containers();
    // Containers the killed node had asked for may show up late, and go as strays.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut containers = containers;
    while containers.len() != 8 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        containers = home.containers();
    }
    assert_eq!(
        containers.len(),
        8,
        "{containers:#?}\n{}",
        std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default()
    );
    let unique: BTreeSet<&str> = containers.iter().map(|c| c.index.as_str()).collect();
    assert_eq!(unique.len(), 8, "{containers:#?}");
}

#[test]
fn a_node_stopped_mid_scale_records_every_container_it_started() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    home.ltc(&["scale", "web", "8", "--no-wait"]).ok();
    home.ltc(&["daemon", "stop"]).ok();
    // A create the node sent and did not wait for would show up only now.
    std::thread::sleep(Duration::from_secs(2));
    let records = std::fs::read_to_string(home.path().join("instances.json")).unwrap();
    for container in home.containers() {
        assert!(
            records.contains(&container.id),
            "{container:?} is not in the records: {records}"
        );
    }
    // The next node takes them over: the app converges with nothing left over.
    let status = home.wait_status("web", Duration::from_secs(60), |s| converged(s, 8));
    assert_eq!(indices(&status), (0..8).collect::<Vec<u64>>());
    home.ltc(&["remove", "web"]).ok();
    assert!(home.containers().is_empty(), "{:?}", home.containers());
}

#[test]
fn stopping_the_node_keeps_apps_and_the_next_node_adopts_them() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    let before = home.json(&["status", "web"]);
    let run = home.ltc(&["daemon", "stop"]).ok();
    assert!(run.stdout.contains("stopped"), "{run:#?}");
    let status = home.ltc(&["daemon", "status", "--json"]).code(14);
    assert!(status.stdout.is_empty(), "{status:#?}");
    assert!(status.stderr.contains("not running"), "{status:#?}");
    assert!(home.containers().iter().all(|c| c.state == "running"));
    assert_eq!(home.containers().len(), 2);
    let run = home.ltc(&["daemon", "start"]).ok();
    assert!(run.stdout.contains("started"), "{run:#?}");
    let after = home.wait_status("web", Duration::from_secs(10), |s| converged(s, 2));
    assert_eq!(guids(&after), guids(&before), "adopted, not replaced");
    assert_eq!(home.containers().len(), 2);
    // Their uptime goes on: running since their containers were made, not since this node.
    let since = |status: &serde_json::Value| {
        let mut all: Vec<(String, String)> = status["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["guid"].to_string(),
                    i["since"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        all.sort();
        all
    };
    for ((guid, earlier), (_, later)) in since(&before).into_iter().zip(since(&after)) {
        assert!(
            later <= earlier,
            "{guid}: running since {later}, was {earlier}"
        );
    }
    let run = home.ltc(&["daemon", "start"]).ok();
    assert!(run.stdout.contains("already running"), "{run:#?}");
}

#[test]
fn two_homes_never_see_or_touch_each_others_apps() {
    require_docker();
    let a = Home::new();
    let b = Home::new();
    a.ltc(&["create", "web"]).ok();
    b.ltc(&["create", "web", "-i", "2"]).ok();
    assert_eq!(a.json(&["list"]).as_array().unwrap().len(), 1);
    assert_eq!(a.json(&["status", "web"])["desired_instances"], 1);
    assert_eq!(b.json(&["status", "web"])["desired_instances"], 2);
    a.ltc(&["remove", "web"]).ok();
    assert!(a.containers().is_empty());
    assert_eq!(b.containers().len(), 2);
    assert!(converged(&b.json(&["status", "web"]), 2));
}

#[test]
fn an_app_that_never_listens_times_out_with_exit_16_and_keeps_starting() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&[
            "create",
            "slow",
            "-t",
            "1s",
            "--",
            "/lattice-app",
            "--startup-delay",
            "60s",
        ])
        .code(16);
    assert!(
        run.stderr.contains("timed out waiting for `slow`"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("hint: "), "{run:#?}");
    assert!(run.stdout.contains("App will be reachable at:"), "{run:#?}");
    // On a busy machine the container may still be in creation (UNCLAIMED) when create gives
    // up; once created it is CLAIMED, and it stays that, never RUNNING, while nothing listens.
    home.wait_status("slow", Duration::from_secs(20), |s| {
        s["instances"][0]["state"] == "CLAIMED"
    });
    std::thread::sleep(Duration::from_millis(500));
    let status = home.json(&["status", "slow"]);
    assert_eq!(
        status["instances"][0]["state"], "CLAIMED",
        "not RUNNING before it listens"
    );
}

#[test]
fn an_app_that_exits_at_once_is_reported_as_crashing() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&["create", "bad", "--", "/lattice-app", "--bogus-flag"])
        .code(14);
    assert!(run.stderr.contains("crashed 3 times"), "{run:#?}");
    let status = home.json(&["status", "bad"]);
    let instance = &status["instances"][0];
    assert_eq!(instance["state"], "CRASHED");
    assert!(instance["next_restart"].is_string(), "{status:#}");
    assert!(
        instance["last_error"]
            .as_str()
            .unwrap()
            .contains("status 2"),
        "{status:#}"
    );
}

#[test]
fn list_status_target_and_version_have_their_documented_json() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let list = home.json(&["list"]);
    let app = &list[0];
    for field in [
        "name",
        "image",
        "desired_instances",
        "running_instances",
        "routes",
        "env",
        "instances",
        "ports",
        "memory_mb",
        "disk_mb",
        "cpu_weight",
    ] {
        assert!(app.get(field).is_some(), "list has `{field}`: {app:#}");
    }
    let instance = &app["instances"][0];
    for field in ["index", "guid", "state", "crash_count", "since", "ports"] {
        assert!(
            instance.get(field).is_some(),
            "instance has `{field}`: {instance:#}"
        );
    }
    assert_eq!(app["routes"][0]["hostname"], "web.127.0.0.1.xip.io");

    let target = home.json(&["target"]);
    assert_eq!(target["domain"], "127.0.0.1.xip.io");
    let target = home.json(&["target", "apps.test"]);
    assert_eq!(target["domain"], "apps.test");
    assert_eq!(
        target["router_address"],
        format!("127.0.0.1:{}", home.router_port)
    );

    let version = home.json(&["version"]);
    assert_eq!(version["client"], env!("CARGO_PKG_VERSION"));
    assert!(version["docker"]["version"].is_string(), "{version:#}");
    assert!(version["node"]["pid"].is_u64(), "{version:#}");

    let run = home.ltc(&["list"]).ok();
    assert!(run.stdout.starts_with("App Name"), "{run:#?}");
    assert!(
        run.stdout.contains("web.127.0.0.1.xip.io => 8080"),
        "{run:#?}"
    );
}

#[test]
fn no_wait_returns_once_the_node_accepted_the_change() {
    require_docker();
    let home = Home::new();
    let run = home
        .ltc(&[
            "create",
            "slow",
            "--no-wait",
            "--json",
            "--",
            "/lattice-app",
            "--startup-delay",
            "60s",
        ])
        .ok();
    assert_eq!(run.json()["name"], "slow");
    let status = home.json(&["status", "slow"]);
    assert_ne!(status["running_instances"], 1, "create did not wait for it");
    home.ltc(&["scale", "slow", "2", "--no-wait"]).ok();
    assert_eq!(home.json(&["status", "slow"])["desired_instances"], 2);
    home.ltc(&["remove", "slow", "--no-wait"]).ok();
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "3"]).ok();
    let ltc = crate::support::LTC;
    // `head -1` as users write it, and a reader that closes the pipe before ltc writes, so
    // the broken pipe is certain rather than a race with the pipe's buffer.
    let script = format!(
        "set -o pipefail; {ltc} status web | head -1; \
         {ltc} status web | (exec 0<&-; sleep 0.3); {ltc} list | (exec 0<&-; sleep 0.3)"
    );
    let command = home.command(&[]);
    let envs: Vec<_> = command
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let output = Command::new("bash")
        .args(["-c", &script])
        .envs(envs)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn ltc_test_names_the_failing_step_when_the_router_is_unreachable() {
    require_docker();
    let home = Home::new();
    home.ltc(&["daemon", "start"]).ok();
    let dead = crate::support::free_port();
    let output = home
        .command(&["test", "--timeout", "5s"])
        .env("LTC_ROUTER_ADDR", format!("127.0.0.1:{dead}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(14), "{stderr}");
    assert!(stderr.contains("ltc test failed at [route]"), "{stderr}");
    assert_eq!(
        home.json(&["list"]),
        serde_json::json!([]),
        "nothing left behind"
    );
    assert!(home.containers().is_empty());
}

#[test]
fn ltc_test_interrupted_at_any_step_leaves_nothing_behind() {
    require_docker();
    let home = Home::new();
    home.ltc(&["daemon", "start"]).ok();
    // While the app is created, as its scale-up is asked for, and while it scales up; by
    // Ctrl-C, and as a CI timeout or a closed terminal would stop it.
    let steps = [
        ("[create] creating", "-INT"),
        ("[env]", "-INT"),
        ("1/3 instances running", "-INT"),
        ("[env]", "-TERM"),
        ("1/3 instances running", "-HUP"),
    ];
    for (step, signal) in steps {
        let test = Follow::start(&home, &["test", "--timeout", "2m"]);
        test.wait_for(step, Duration::from_secs(60));
        let run = test.signal(signal);
        assert_eq!(run.code, 130, "{step} {signal}: {run:#?}");
        assert!(
            run.stderr.contains("[remove] removing lattice-test-app-"),
            "{step}: {run:#?}"
        );
        assert!(!run.stdout.contains("passed"), "{step}: {run:#?}");
        assert_eq!(home.json(&["list"]), serde_json::json!([]), "{step}");
        assert!(home.containers().is_empty(), "{step}");
    }
}

#[test]
fn app_names_complete_from_the_running_node() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "webapp"]).ok();
    for command in ["scale", "status", "logs", "remove", "update"] {
        let run = home.complete(&[command, ""]).ok();
        assert!(
            run.stdout.lines().any(|l| l == "webapp"),
            "{command}: {run:#?}"
        );
    }
    let run = home.complete(&["scale", "web"]).ok();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["webapp"]);
}

#[test]
fn the_pids_limit_is_set_per_app() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "small", "--pids-limit", "32", "--no-wait"])
        .ok();
    home.ltc(&["create", "free", "--pids-limit", "0", "--no-wait"])
        .ok();
    let limit = |app: &str| {
        let status = home.wait_status(app, Duration::from_secs(20), |s| {
            s["instances"][0]["container_id"].is_string()
        });
        let id = status["instances"][0]["container_id"]
            .as_str()
            .unwrap()
            .to_string();
        let out = Command::new("docker")
            .args(["inspect", "--format", "{{.HostConfig.PidsLimit}}", &id])
            .output()
            .unwrap();
        (
            status["pids_limit"].as_u64().unwrap(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    assert_eq!(limit("small"), (32, "32".to_string()));
    let (free, inspected) = limit("free");
    assert_eq!(free, 0);
    assert!(
        matches!(inspected.as_str(), "<nil>" | "0" | "-1"),
        "unlimited: {inspected}"
    );
    let human = home.ltc(&["status", "free"]).ok().stdout;
    assert!(human.contains("unlimited"), "{human}");
}

#[test]
fn the_demo_app_outlives_more_connections_than_it_has_threads_for() {
    // The demo serves a thread per connection. Past its pids limit a connection is closed and
    // the app goes on; it used to abort (panic = abort) and crash every instance under a load
    // generator's thousands of connections.
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "--pids-limit", "16"]).ok();
    let status = home.json(&["status", "web"]);
    let (_, port) = instance_ports(&status, 8080)[0];
    let held: Vec<std::net::TcpStream> = (0..40)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert_eq!(held.len(), 40, "Docker's proxy accepts every connection");
    // Each connection reaches the app, which has threads for a dozen of them. The refusal is
    // reported once, in a burst as the connections arrive: read it from the node's recent
    // lines, which a `logs` stream started alongside could attach too late to see.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let recent = home.ltc(&["logs", "web", "--recent"]).ok().stdout;
        if recent.contains("connection(s) refused so far") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refusal reported within 30s:\n{recent}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(held);
    // The held connections' threads end as they read their end of stream; until then a new
    // connection may still be one too many and be closed without an answer.
    let mut answer = http_get(port, "/index", "localhost");
    for _ in 0..100 {
        if matches!(answer, Ok((200, _))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        answer = http_get(port, "/index", "localhost");
    }
    assert_eq!(answer.unwrap(), (200, "0".to_string()));
    let after = home.json(&["status", "web"]);
    assert_eq!(after["instances"][0]["crash_count"], 0, "{after:#}");
    assert_eq!(
        after["instances"][0]["guid"], status["instances"][0]["guid"],
        "the same instance answers"
    );
}

#[test]
fn quiet_prints_results_and_nothing_else() {
    require_docker();
    let home = Home::new();
    let run = home.ltc(&["create", "web", "--quiet"]).ok();
    let url = format!("http://web.localhost:{}", home.router_port);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("http://")), "{run:#?}");
    assert!(lines.iter().any(|l| l.starts_with(&url)), "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    let run = home.ltc(&["update", "web", "-R", "other", "--quiet"]).ok();
    assert!(run.stdout.contains("http://other.localhost"), "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    let run = home.ltc(&["target", "--quiet"]).ok();
    assert!(run.stdout.contains("Target:"), "{run:#?}");
    assert!(run.stderr.is_empty(), "{run:#?}");
    let run = home.ltc(&["scale", "web", "2", "--quiet"]).ok();
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn commands_complete_by_name_and_images_from_the_engine() {
    require_docker();
    let home = Home::new();
    let run = home.complete(&["s"]).ok();
    let offered: Vec<&str> = run.stdout.lines().collect();
    assert!(
        offered.contains(&"scale") && offered.contains(&"status"),
        "{run:#?}"
    );
    assert!(
        !offered.contains(&"sc") && !offered.contains(&"st"),
        "{run:#?}"
    );
    // A local image (tagged for this test) and the built-in app's name.
    let tag = format!("ltc-test-complete-{}:1", std::process::id());
    let demo = Command::new("docker")
        .args([
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "ltc/lattice-app",
        ])
        .output()
        .unwrap();
    let demo = String::from_utf8_lossy(&demo.stdout)
        .lines()
        .next()
        .map(str::to_string);
    if let Some(demo) = &demo {
        Command::new("docker")
            .args(["tag", demo, &tag])
            .status()
            .unwrap();
    }
    let run = home.complete(&["create", "web", ""]).ok();
    let _ = Command::new("docker").args(["rmi", &tag]).output();
    assert!(
        run.stdout.lines().any(|l| l == "cloudfoundry/lattice-app"),
        "{run:#?}"
    );
    if demo.is_some() {
        assert!(run.stdout.lines().any(|l| l == tag), "{run:#?}");
    }
    assert_eq!(
        home.json(&["list"]),
        serde_json::json!([]),
        "completion starts nothing"
    );
}

#[test]
fn waits_say_what_they_wait_for_including_drains() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    // Two slow requests through the router, one on each instance in turn: instance 1's
    // drain waits for its own before it stops.
    let port = home.router_port;
    let slow: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || http_get(port, "/sleep/1500", "web.localhost")))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let run = home.ltc(&["scale", "web", "1"]).ok();
    assert!(
        run.stderr
            .contains("1/1 instances running, 1 draining 1 request"),
        "a scale-down is not shown as done while its instance drains: {run:#?}"
    );
    for request in slow {
        assert!(
            matches!(request.join().unwrap(), Ok((200, _))),
            "drained, not cut"
        );
    }
    // A request in flight holds the last instance in its drain, so the wait has something to
    // say however quickly the container itself stops.
    let slow = std::thread::spawn(move || http_get(port, "/sleep/1500", "web.localhost"));
    std::thread::sleep(Duration::from_millis(300));
    let run = home.ltc(&["remove", "web"]).ok();
    assert!(
        matches!(slow.join().unwrap(), Ok((200, _))),
        "drained, not cut"
    );
    assert!(
        run.stderr.contains("web: 1 instance draining 1 request"),
        "{run:#?}"
    );
}
