//! New versions of running apps on the real engine: update, rollback, restart, history,
//! builds from a directory, a broken revision undone, a node killed mid-rollout; each with
//! GETs and POSTs through the router the whole time.

use crate::support::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// The environment an instance's process sees, asked of the instance itself (its host port).
fn instance_env(host_port: u16) -> BTreeMap<String, String> {
    let (status, body) = http_get(host_port, "/env?json=true", "x").unwrap();
    assert_eq!(status, 200, "{body}");
    let pairs: Vec<(String, String)> = serde_json::from_str(&body).unwrap();
    pairs.into_iter().collect()
}

/// Every instance's environment, asked of each one.
fn every_env(status: &serde_json::Value) -> Vec<BTreeMap<String, String>> {
    instance_ports(status, 8080)
        .into_iter()
        .map(|(_, port)| instance_env(port))
        .collect()
}

/// Runs `args` while GETs and POSTs go through the router; returns the run and the failures.
fn under_load(home: &Home, host: &str, args: &[&str]) -> (Run, usize, usize, Vec<String>) {
    let load = Load::mixed(home.router_port, host, Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(300));
    let run = home.ltc(args);
    std::thread::sleep(Duration::from_millis(300));
    let (ok, failed, errors) = load.finish();
    (run, ok, failed, errors)
}

fn revisions(status: &serde_json::Value) -> Vec<u64> {
    status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["revision"].as_u64().unwrap())
        .collect()
}

#[test]
fn env_update_restart_and_rollback_roll_out_without_a_failed_request() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "4"]).ok();
    let before = home.json(&["status", "web"]);
    assert_eq!(before["revision"], 1);

    // A new environment, one instance at a time.
    let (run, ok, failed, errors) = under_load(
        &home,
        "web.localhost",
        &["update", "web", "-e", "FLAVOR=two"],
    );
    let run = run.ok();
    println!("env update: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0, "{errors:?}");
    assert!(ok > 0);
    assert!(
        run.stdout.contains("web runs revision 2 on 4 instances."),
        "{run:#?}"
    );
    let after = home.json(&["status", "web"]);
    assert!(converged(&after, 4), "{after:#}");
    assert_eq!(revisions(&after), [2, 2, 2, 2]);
    assert!(after["rollout"].is_null());
    let old_guids = guids(&before);
    assert!(guids(&after).iter().all(|g| !old_guids.contains(g)));
    for env in every_env(&after) {
        assert_eq!(env.get("FLAVOR").map(String::as_str), Some("two"));
    }
    // Indices and routes stay.
    assert_eq!(indices(&after), [0, 1, 2, 3]);
    assert_eq!(after["routes"], before["routes"]);

    // A rolling restart: new instances, same revision.
    let (run, ok, failed, errors) = under_load(&home, "web.localhost", &["restart", "web"]);
    run.ok();
    println!("restart: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0, "{errors:?}");
    let restarted = home.json(&["status", "web"]);
    assert!(converged(&restarted, 4));
    assert_eq!(revisions(&restarted), [2, 2, 2, 2]);
    let previous = guids(&after);
    assert!(guids(&restarted).iter().all(|g| !previous.contains(g)));

    // Back to revision 1, as a new revision 3.
    let (run, ok, failed, errors) = under_load(&home, "web.localhost", &["rollback", "web"]);
    run.ok();
    println!("rollback: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0, "{errors:?}");
    let rolled = home.json(&["status", "web"]);
    assert_eq!(revisions(&rolled), [3, 3, 3, 3]);
    for env in every_env(&rolled) {
        assert!(!env.contains_key("FLAVOR"), "{env:?}");
    }
    let history = home.json(&["history", "web"]);
    let rows: Vec<(u64, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap(),
                r["description"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "created", "superseded"),
            (2, "env FLAVOR set", "superseded"),
            (3, "rollback to 1", "active")
        ]
    );
}

#[test]
fn an_image_update_and_a_restart_of_one_index_keep_serving() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    // A second image: the built-in one with one more layer.
    let tag = format!("ltc-test-image:{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {}\nENV IMAGE_FLAVOR=second\n", ltc::demo::image_ref()),
    )
    .unwrap();
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &tag])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let (run, ok, failed, errors) =
        under_load(&home, "web.localhost", &["update", "web", "--image", &tag]);
    run.ok();
    println!("image update: {ok} requests answered, {failed} failed");
    assert_eq!(failed, 0, "{errors:?}");
    let after = home.json(&["status", "web"]);
    assert_eq!(after["image"], tag.as_str());
    for env in every_env(&after) {
        assert_eq!(env.get("IMAGE_FLAVOR").map(String::as_str), Some("second"));
    }
    // The revision runs the image by id and keeps it named for itself: removing the name
    // the user gave changes nothing.
    let removed = Command::new("docker").args(["rmi", &tag]).output().unwrap();
    assert!(removed.status.success(), "{removed:?}");
    let before = guids(&after);
    let (run, _, failed, errors) =
        under_load(&home, "web.localhost", &["restart", "web", "--index", "1"]);
    run.ok();
    assert_eq!(failed, 0, "{errors:?}");
    let restarted = home.json(&["status", "web"]);
    assert!(converged(&restarted, 2));
    let now = guids(&restarted);
    assert_eq!(now[0], before[0], "only instance 1 is replaced");
    assert_ne!(now[1], before[1]);
    assert_eq!(
        instance_env(instance_ports(&restarted, 8080)[1].1)["IMAGE_FLAVOR"],
        "second"
    );
    home.ltc(&["rollback", "web", "--to", "1"]).ok();
    for env in every_env(&home.json(&["status", "web"])) {
        assert!(!env.contains_key("IMAGE_FLAVOR"));
    }
}

#[test]
fn a_broken_revision_is_undone_and_the_old_containers_keep_serving() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "3"]).ok();
    let before = home.json(&["status", "web"]);
    let containers: Vec<String> = before["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["container_id"].as_str().unwrap().to_string())
        .collect();
    // Its command exits at once.
    let started = Instant::now();
    let (run, ok, failed, errors) = under_load(
        &home,
        "web.localhost",
        &[
            "update",
            "web",
            "-e",
            "BROKEN=1",
            "--",
            "/lattice-app",
            "--no-such-flag",
        ],
    );
    println!(
        "broken revision: exit {} after {:?}; {ok} requests answered, {failed} failed",
        run.code,
        started.elapsed()
    );
    let run = run.code(14);
    assert_eq!(failed, 0, "{errors:?}");
    assert!(
        run.stderr
            .contains("revision 2 of `web` failed: instance 0")
            && run.stderr.contains("back on revision 1"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("Last lines of the new instance 0"),
        "{run:#?}"
    );
    let after = home.wait_status("web", Duration::from_secs(30), |s| converged(s, 3));
    assert_eq!(after["revision"], 1);
    let kept: Vec<String> = after["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["container_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, containers, "the old containers were not touched");
    assert_eq!(after["last_rollout"]["ok"], false);
    assert_eq!(after["last_rollout"]["failure"]["index"], 0);
    let history = home.json(&["history", "web"]);
    assert_eq!(history[1]["outcome"], "failed");
    assert_eq!(history[0]["outcome"], "active");
    for env in every_env(&after) {
        assert!(!env.contains_key("BROKEN"));
    }

    // A new instance that runs but never becomes healthy fails at the health timeout.
    let run = home
        .ltc(&[
            "update",
            "web",
            "--monitor-url",
            "8080:/never-there",
            "--health-timeout",
            "3s",
        ])
        .code(14);
    assert!(
        run.stderr
            .contains("not healthy within 3s (`--health-timeout`)"),
        "{run:#?}"
    );
    let after = home.wait_status("web", Duration::from_secs(30), |s| converged(s, 3));
    assert_eq!(after["monitor"]["type"], "port");
}

#[test]
fn a_node_killed_mid_rollout_converges_to_one_revision() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "4"]).ok();
    home.ltc(&["update", "web", "-e", "NEXT=1", "--no-wait"])
        .ok();
    // Once the first new instance serves, the node is killed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = home.json(&["status", "web"]);
        if revisions(&status).contains(&2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rollout never began: {status:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = home.node_pid().expect("node runs");
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Never more than instances + max-surge containers, while the next node finishes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut most = 0;
    let done = loop {
        most = most.max(
            home.containers()
                .iter()
                .filter(|c| c.state == "running")
                .count(),
        );
        let status = home.json(&["status", "web"]);
        if converged(&status, 4) && status["rollout"].is_null() {
            break status;
        }
        assert!(Instant::now() < deadline, "never converged: {status:#}");
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("at most {most} containers ran while the next node finished the rollout");
    let log = std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default();
    assert!(
        most <= 5,
        "{most} containers for 4 instances and a surge of 1:\n{log}"
    );
    assert_eq!(revisions(&done), [2, 2, 2, 2]);
    assert_eq!(home.containers().len(), 4);
    for env in every_env(&done) {
        assert_eq!(env.get("NEXT").map(String::as_str), Some("1"));
    }
}

/// A directory to build from: a Dockerfile on the built-in image, a file kept, one excluded.
fn build_dir(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("Dockerfile", dockerfile);
    write("site/kept.txt", "kept\n");
    write("site/secret.key", "secret\n");
    write(".dockerignore", "**/*.key\n");
    dir
}

fn copied(container: &str, path: &str) -> bool {
    Command::new("docker")
        .args(["cp", &format!("{container}:{path}"), "-"])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn apps_are_built_from_a_directory_on_create_and_update() {
    require_docker();
    let home = Home::new();
    let base = ltc::demo::image_ref();
    // The built-in image is built by the node on first use.
    home.ltc(&["create", "warm", "--no-wait"]).ok();
    let dir = build_dir(&format!(
        "FROM {base}\nARG GREETING\nENV GREETING=$GREETING\nCOPY site /site\n"
    ));
    let path = dir.path().to_str().unwrap();
    let run = home
        .ltc(&["create", "web", path, "--build-arg", "GREETING=hello"])
        .ok();
    assert!(run.stderr.contains("Step 1/4"), "{run:#?}");
    let status = home.json(&["status", "web"]);
    assert_eq!(status["image"], path);
    assert_eq!(every_env(&status)[0]["GREETING"], "hello");
    let container = status["instances"][0]["container_id"].as_str().unwrap();
    assert!(copied(container, "/site/kept.txt"));
    assert!(
        !copied(container, "/site/secret.key"),
        ".dockerignore honoured"
    );

    // Update from the same directory, with another Dockerfile; NDJSON with --json.
    std::fs::write(
        dir.path().join("Other.dockerfile"),
        format!("FROM {base}\nENV GREETING=again\n"),
    )
    .unwrap();
    let run = home
        .ltc(&[
            "update",
            "web",
            "--path",
            path,
            "--dockerfile",
            "Other.dockerfile",
            "--json",
        ])
        .ok();
    let mut values =
        serde_json::Deserializer::from_str(&run.stdout).into_iter::<serde_json::Value>();
    let first = values.next().unwrap().unwrap();
    assert!(
        first["build"]["line"]
            .as_str()
            .unwrap()
            .starts_with("Step 1/2"),
        "{first}"
    );
    let last = values.last().unwrap().unwrap();
    assert_eq!(last["revision"], 2);
    assert_eq!(
        every_env(&home.json(&["status", "web"]))[0]["GREETING"],
        "again"
    );
}

#[test]
fn bad_updates_are_refused_and_change_nothing() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2", "-e", "KEEP=1"]).ok();
    let before = home.json(&["status", "web"]);
    let unchanged = |why: &str| {
        let now = home.json(&["status", "web"]);
        assert_eq!(guids(&now), guids(&before), "{why}: instances replaced");
        assert_eq!(now["revision"], 1, "{why}");
        assert_eq!(now["env"], before["env"], "{why}");
        assert_eq!(
            home.json(&["history", "web"]).as_array().unwrap().len(),
            1,
            "{why}"
        );
    };

    let run = home.ltc(&["update", "nope", "-e", "A=1"]).code(14);
    assert!(run.stderr.contains("nope"), "{run:#?}");

    let run = home
        .ltc(&["update", "web", "--image", "ltc-test-missing:never"])
        .code(15);
    assert!(run.stderr.contains("ltc-test-missing:never"), "{run:#?}");
    unchanged("missing image");

    let empty = tempfile::tempdir().unwrap();
    let run = home
        .ltc(&["update", "web", "--path", empty.path().to_str().unwrap()])
        .code(13);
    assert!(run.stderr.contains("has no Dockerfile"), "{run:#?}");
    unchanged("no Dockerfile");

    // `ltc create APP .` builds the current directory, as `docker build .` does.
    let run = Run::from(
        home.command(&["create", "other", "."])
            .current_dir(empty.path())
            .output()
            .unwrap(),
    )
    .code(13);
    assert!(run.stderr.contains("has no Dockerfile"), "{run:#?}");
    assert_eq!(
        home.json(&["list"]).as_array().unwrap().len(),
        1,
        "nothing created"
    );

    let failing = build_dir(&format!(
        "FROM {}\nCOPY no-such-file /x\n",
        ltc::demo::image_ref()
    ));
    let run = home
        .ltc(&["update", "web", "--path", failing.path().to_str().unwrap()])
        .code(14);
    assert!(
        run.stderr
            .contains("failed at Step 2/2 : COPY no-such-file /x"),
        "{run:#?}"
    );
    unchanged("failed build");

    // A step that fails in its container leaves no container behind (Docker keeps it unless
    // asked not to).
    let nonce = format!("ltc-failing-step-{}", std::process::id());
    let failing = build_dir(&format!(
        "FROM {}\nRUN echo {nonce} && exit 3\n",
        busybox_image()
    ));
    let run = home
        .ltc(&["update", "web", "--path", failing.path().to_str().unwrap()])
        .code(14);
    assert!(
        run.stderr.contains("returned a non-zero code: 3"),
        "{run:#?}"
    );
    unchanged("failed RUN step");
    let listed = Command::new("docker")
        .args(["ps", "-a", "--no-trunc", "--format", "{{.Command}}"])
        .output()
        .unwrap();
    let commands = String::from_utf8_lossy(&listed.stdout);
    assert!(
        !commands.contains(&nonce),
        "the failed step's container is left: {commands}"
    );

    let run = home
        .ltc(&["update", "web", "--unset-env", "NOT_SET"])
        .code(13);
    assert!(
        run.stderr.contains("has no environment variable `NOT_SET`"),
        "{run:#?}"
    );
    unchanged("unset of a missing name");

    let run = home.ltc(&["update", "web"]).code(13);
    assert!(
        run.stderr.contains("Please enter 'ltc update web'"),
        "{run:#?}"
    );
    // The same settings again change nothing and succeed, as a script expects.
    let run = home.ltc(&["update", "web", "-e", "KEEP=1"]).ok();
    assert!(run.stderr.contains("Nothing to change"), "{run:#?}");
    let run = home
        .ltc(&["update", "web", "--remove-route", "nope"])
        .code(13);
    assert!(run.stderr.contains("is not a route of `web`"), "{run:#?}");
    let run = home.ltc(&["rollback", "web"]).code(14);
    assert!(run.stderr.contains("no earlier revision"), "{run:#?}");
    let run = home.ltc(&["rollback", "web", "--to", "7"]).code(13);
    assert!(run.stderr.contains("has no revision 7"), "{run:#?}");
    let run = home.ltc(&["restart", "web", "--index", "5"]).code(13);
    assert!(run.stderr.contains("has no instance 5"), "{run:#?}");
    unchanged("refused requests");

    // A second update while a rollout runs is refused, not queued.
    home.ltc(&[
        "update",
        "web",
        "--monitor-url",
        "8080:/never-there",
        "--no-wait",
    ])
    .ok();
    let run = home.ltc(&["update", "web", "-e", "OTHER=1"]).code(14);
    assert!(
        run.stderr.contains("changed by another request"),
        "{run:#?}"
    );
}

#[test]
fn route_only_updates_are_live_and_single_routes_are_added_and_removed() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web"]).ok();
    let before = home.json(&["status", "web"]);
    let run = home.ltc(&["update", "web", "--add-route", "extra"]).ok();
    assert!(run.stdout.contains("extra.localhost"), "{run:#?}");
    let after = home.json(&["status", "web"]);
    assert_eq!(
        guids(&after),
        guids(&before),
        "a route change restarts nothing"
    );
    assert_eq!(after["revision"], 1);
    assert_eq!(
        http_get(home.router_port, "/index", "extra.localhost")
            .unwrap()
            .0,
        200
    );
    home.ltc(&["update", "web", "--remove-route", "extra.localhost"])
        .ok();
    assert_eq!(
        http_get(home.router_port, "/index", "extra.localhost")
            .unwrap()
            .0,
        404
    );
    assert_eq!(
        http_get(home.router_port, "/index", "web.localhost")
            .unwrap()
            .0,
        200
    );
}

#[test]
fn an_image_of_other_software_takes_its_user_and_ports_from_its_own_metadata() {
    require_docker();
    let home = Home::new();
    // The built-in app runs as its image's user `lattice`, which the busybox image lacks.
    home.ltc(&["create", "web", "-i", "2"]).ok();
    assert_eq!(home.json(&["status", "web"])["user"], "lattice");
    let image = busybox_image();
    home.ltc(&["update", "web", "--image", &image]).ok();
    let status = home.json(&["status", "web"]);
    assert_eq!(
        status["user"],
        serde_json::Value::Null,
        "the new image's user"
    );
    assert_eq!(status["ports"], serde_json::json!([8080]));
    assert_eq!(
        http_get(home.router_port, "/index.html", "web.localhost").unwrap(),
        (200, "hello\n".into())
    );
    let history = home.json(&["history", "web"]);
    assert_eq!(
        history[1]["description"],
        format!("image {image}, user root (the image's), command /bin/httpd -f -p 8080 -h /www")
    );
}

#[test]
fn only_the_last_ten_revisions_keep_their_images() {
    require_docker();
    let home = Home::new();
    let image = busybox_image();
    home.ltc(&["create", "box", &image]).ok();
    for n in 2..=12 {
        home.ltc(&["update", "box", "-e", &format!("N={n}")]).ok();
    }
    let history = home.json(&["history", "box"]);
    let numbers: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (3..=12).collect::<Vec<_>>());
    let install = home.install_id().unwrap();
    let tags: Vec<String> = String::from_utf8_lossy(
        &Command::new("docker")
            .args(["images", "ltc/box", "--format", "{{.Tag}}"])
            .output()
            .unwrap()
            .stdout,
    )
    .lines()
    .map(String::from)
    .filter(|tag| tag.ends_with(&install[..8]))
    .collect();
    let mut revisions: Vec<u64> = tags
        .iter()
        .filter_map(|tag| tag.split('-').next()?.parse().ok())
        .collect();
    revisions.sort();
    assert_eq!(revisions, (3..=12).collect::<Vec<_>>(), "{tags:?}");
    // Rolling back to the oldest kept revision finds its image.
    home.ltc(&["rollback", "box", "--to", "3"]).ok();
    let status = home.json(&["status", "box"]);
    assert_eq!(status["revision"], 13);
    let run = home.ltc(&["ssh", "box", "--", "sh", "-c", "echo $N"]).ok();
    assert_eq!(run.stdout, "3\n");
}
