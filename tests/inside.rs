//! Into the instances on the real engine: `ltc ssh` with a command, plain streams, an
//! interactive terminal (driven through a pseudo-terminal), port forwarding, and its errors.

use crate::support::*;
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn create_box(home: &Home, instances: &str) {
    let image = busybox_image();
    home.ltc(&["create", "box", &image, "-i", instances]).ok();
}

#[test]
fn ssh_runs_a_command_in_the_chosen_instance_and_exits_with_its_status() {
    require_docker();
    let home = Home::new();
    create_box(&home, "2");
    let run = home
        .ltc(&[
            "ssh",
            "box",
            "--index",
            "1",
            "--",
            "sh",
            "-c",
            "echo $CF_INSTANCE_INDEX; echo to-stderr >&2; exit 3",
        ])
        .code(3);
    assert_eq!(run.stdout, "1\n");
    assert_eq!(
        run.stderr, "to-stderr\n",
        "stderr stays stderr, and ltc adds nothing"
    );

    // Without a terminal, stdin and stdout pass through byte for byte.
    let mut child = home
        .command(&["ssh", "box", "-T", "--", "cat"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let mut stdin = child.stdin.take().unwrap();
    let sent = bytes.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&sent).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stdout == bytes, "binary-safe round trip");
}

#[test]
fn ssh_refuses_what_it_cannot_reach_with_clear_errors() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    let run = home.ltc(&["ssh", "box", "--index", "4"]).code(13);
    assert!(
        run.stderr
            .contains("Instance box/4 does not exist: `box` has 1 instance"),
        "{run:#?}"
    );
    let run = home.ltc(&["ssh", "nope"]).code(14);
    assert!(run.stderr.contains("app `nope` not found"), "{run:#?}");
    let run = home.ltc(&["ssh", "box", "-L", "9:7070", "-N"]).code(13);
    assert!(
        run.stderr
            .contains("port 7070 is not one of `box`'s ports (8080)"),
        "{run:#?}"
    );
    home.ltc(&["scale", "box", "0"]).ok();
    let run = home.ltc(&["ssh", "box"]).code(13);
    assert!(run.stderr.contains("`box` has no instances"), "{run:#?}");

    // The built-in app's image has no shell: the error names it instead of failing oddly.
    home.ltc(&["create", "web"]).ok();
    let run = home.ltc(&["ssh", "web"]).code(15);
    assert!(
        run.stderr
            .contains("image `cloudfoundry/lattice-app` has no shell (/bin/bash or /bin/sh)"),
        "{run:#?}"
    );
    // A program the image has still runs.
    let run = home
        .ltc(&["ssh", "web", "--", "/lattice-app", "--bad"])
        .code(2);
    assert!(run.stderr.contains("unknown flag"), "{run:#?}");
}

#[test]
fn ssh_forwards_a_local_port_to_the_instance() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    let port = free_port();
    let forward = Follow::start(&home, &["ssh", "box", "-L", &format!("{port}:8080"), "-N"]);
    forward.wait_for(
        &format!("Forwarding 127.0.0.1:{port} to box/0:8080"),
        Duration::from_secs(20),
    );
    let (status, body) = http_get(port, "/index.html", "anything").unwrap();
    assert_eq!((status, body.as_str()), (200, "hello\n"));
    let run = forward.stop();
    assert_eq!(run.code, 0, "Ctrl-C ends forwarding: {run:#?}");
}

/// Reads a pseudo-terminal into a shared buffer as output comes.
fn read_into(mut reader: Box<dyn Read + Send>) -> Arc<Mutex<Vec<u8>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buffer) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    });
    seen
}

#[track_caller]
fn wait_for(seen: &Arc<Mutex<Vec<u8>>>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
        if text.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {needle:?} in {text:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A program on a pseudo-terminal: what it printed so far, its keyboard, the terminal.
struct OnTerminal {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    seen: Arc<Mutex<Vec<u8>>>,
    keys: Box<dyn Write + Send>,
    master: Box<dyn portable_pty::MasterPty + Send>,
}

/// Runs `script` under `sh -c` on a pseudo-terminal of `rows` × `cols`, with this home's
/// settings.
fn on_a_terminal(home: &Home, script: &str, (rows, cols): (u16, u16)) -> OnTerminal {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let size = PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    let pty = native_pty_system().openpty(size).unwrap();
    let mut command = CommandBuilder::new("sh");
    command.args(["-c", script]);
    command.env("LTC_HOME", home.path());
    command.env("LTC_ROUTER_ADDR", format!("127.0.0.1:{}", home.router_port));
    command.env("TERM", "xterm");
    command.env("NO_COLOR", "1");
    let child = pty.slave.spawn_command(command).unwrap();
    drop(pty.slave);
    OnTerminal {
        child,
        seen: read_into(pty.master.try_clone_reader().unwrap()),
        keys: pty.master.take_writer().unwrap(),
        master: pty.master,
    }
}

#[test]
fn an_interactive_session_has_a_real_terminal_and_restores_ours() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    // The terminal's settings before and after the session, around it.
    let script = format!("stty -g; echo BEGIN; {LTC} ssh box; echo; echo END; stty -g");
    let OnTerminal {
        mut child,
        seen,
        mut keys,
        master,
    } = on_a_terminal(&home, &script, (24, 80));
    wait_for(&seen, "BEGIN");
    wait_for(&seen, "/ # ");
    keys.write_all(b"echo hi-$((40+2))\r").unwrap();
    wait_for(&seen, "hi-42");
    keys.write_all(b"stty size\r").unwrap();
    wait_for(&seen, "24 80");
    master
        .resize(portable_pty::PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    keys.write_all(b"stty size\r").unwrap();
    wait_for(&seen, "30 100");
    keys.write_all(b"exit 0\r").unwrap();
    wait_for(&seen, "END");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let before = lines.first().unwrap().to_string();
    let after = lines
        .iter()
        .rev()
        .find(|l| l.contains(':') && l.len() > 20)
        .unwrap()
        .to_string();
    assert_eq!(
        before, after,
        "the terminal's settings are restored: {text:?}"
    );
}

#[test]
fn ltc_run_runs_a_one_off_with_the_apps_settings_and_leaves_nothing() {
    require_docker();
    let home = Home::new();
    let image = busybox_image();
    home.ltc(&["create", "box", &image, "-e", "FROM_APP=yes", "-m", "64"])
        .ok();
    let run = home
        .ltc(&[
            "run",
            "box",
            "-e",
            "EXTRA=1",
            "--",
            "sh",
            "-c",
            "echo $FROM_APP $EXTRA; exit 5",
        ])
        .code(5);
    assert_eq!(run.stdout, "yes 1\n");
    assert!(
        containers_with_label("io.ltc.task").is_empty()
            || home.containers().iter().all(|c| c.app == "box"),
        "no task container is left"
    );
    assert_eq!(
        home.json(&["task"]),
        serde_json::json!([]),
        "nor a task record"
    );
    let run = home.ltc(&["run", "nope", "--", "true"]).code(14);
    assert!(run.stderr.contains("app `nope` not found"), "{run:#?}");
}

/// No task container and no task record of this home's are left.
#[track_caller]
fn nothing_left_of_runs(home: &Home) {
    assert!(
        home.containers().iter().all(|c| c.app == "box"),
        "no task container is left: {:?}",
        home.containers()
    );
    assert_eq!(
        home.json(&["task"]),
        serde_json::json!([]),
        "nor a task record"
    );
}

#[test]
fn ltc_run_passes_stdin_and_keeps_stdout_and_stderr_apart_byte_for_byte() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    // Every byte value, and a line longer than a log line may be.
    let mut input: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    input.extend(std::iter::repeat_n(b'x', 10_000));
    let script = "cat; echo to-stderr >&2; exit 3";
    let mut child = home
        .command(&["run", "box", "--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let sent = input.clone();
    // The end of ltc's input is the end of the command's: `cat` ends.
    let writer = std::thread::spawn(move || stdin.write_all(&sent));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == input,
        "stdout is stdin, byte for byte ({} bytes of {})",
        out.stdout.len(),
        input.len()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("to-stderr"), "{stderr}");
    nothing_left_of_runs(&home);
    // -t with input from a pipe: the input's end reaches the command as a terminal's (Ctrl-D),
    // and the output is not cut short by it.
    let mut child = home
        .command(&[
            "run",
            "-t",
            "box",
            "--",
            "sh",
            "-c",
            "read x; echo got-$x; cat; echo done",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a\nb\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("got-a") && text.contains("done"), "{text:?}");
    // A reader that has what it wants ends the run, and its container, at once.
    let envs: Vec<_> = home
        .command(&[])
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let piped = std::process::Command::new("bash")
        .args([
            "-c",
            &format!("set -o pipefail; {LTC} run box -- yes | head -2"),
        ])
        .envs(envs)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0), "{piped:?}");
    assert_eq!(String::from_utf8_lossy(&piped.stdout), "y\ny\n");
    nothing_left_of_runs(&home);
    // With --json the output is the task's log, a JSON object a line, then the task's.
    let run = home
        .ltc(&["run", "box", "--json", "--", "sh", "-c", "echo one; exit 2"])
        .code(2);
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&run.stdout)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(values.iter().any(|l| l["message"] == "one"), "{run:#?}");
    assert_eq!(values.last().unwrap()["exit_code"], 2, "{run:#?}");
    nothing_left_of_runs(&home);
}

#[test]
fn ltc_run_on_a_terminal_gives_the_command_one() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    let script = format!("{LTC} run box -- sh; echo \"END $?\"");
    let OnTerminal {
        mut child,
        seen,
        mut keys,
        // Kept open: a closed terminal hangs its programs up.
        master: _master,
    } = on_a_terminal(&home, &script, (30, 100));
    wait_for(&seen, "/ # ");
    keys.write_all(b"tty; stty size\r").unwrap();
    wait_for(&seen, "/dev/pts/");
    wait_for(&seen, "30 100");
    keys.write_all(b"exit 4\r").unwrap();
    wait_for(&seen, "END 4");
    assert!(child.wait().unwrap().success());
    nothing_left_of_runs(&home);
}

#[test]
fn an_interrupted_ltc_run_stops_its_container() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    let install = home.install_id().unwrap();
    let run = Follow::start(
        &home,
        &["run", "box", "--", "sh", "-c", "echo started; sleep 60"],
    );
    run.wait_for("started", Duration::from_secs(30));
    let label = format!("io.ltc.install={install}");
    assert!(
        containers_with_label(&label).len() == 2,
        "the app's instance and the run's container"
    );
    let run = run.stop();
    assert_eq!(run.code, 130, "{run:#?}");
    nothing_left_of_runs(&home);
}

fn task_file(home: &Home, guid: &str, script: &str) -> std::path::PathBuf {
    let path = home.path().join(format!("{guid}.json"));
    let image = busybox_image();
    let (repository, tag) = image.split_once(':').unwrap();
    std::fs::write(
        &path,
        serde_json::json!({
            "task_guid": guid,
            "rootfs": format!("docker:///{repository}#{tag}"),
            "action": {"run": {"path": "sh", "args": ["-c", script]}},
            "env": [{"name": "GREETING", "value": "hi"}],
            "result_file": "/tmp/result",
        })
        .to_string(),
    )
    .unwrap();
    path
}

fn wait_task(home: &Home, guid: &str, state: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = home.json(&["task", guid]);
        if task["state"] == state {
            return task;
        }
        if Instant::now() >= deadline {
            let log = std::fs::read_to_string(home.path().join("node.log")).unwrap_or_default();
            panic!("{guid} never {state}: {task:#}\n--- node log\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_attached_run_outlives_a_node_restart() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    // The command waits for its input while the node is replaced; its streams go straight to
    // the engine, and the next node adopts the task and records its end.
    let (mut child, mut stdin, seen) = a_run_waiting_for_input(&home);
    home.ltc(&["daemon", "restart"]).ok();
    stdin.write_all(b"restart\n").unwrap();
    wait_for(&seen, "after-restart");
    assert_eq!(child.wait().unwrap().code(), Some(7));
    nothing_left_of_runs(&home);

    // It may even end while no node runs: ltc waits for the next one to record the end.
    let (mut child, mut stdin, seen) = a_run_waiting_for_input(&home);
    home.ltc(&["daemon", "stop"]).ok();
    stdin.write_all(b"stop\n").unwrap();
    wait_for(&seen, "after-stop");
    std::thread::sleep(Duration::from_millis(500));
    home.ltc(&["daemon", "start"]).ok();
    assert_eq!(child.wait().unwrap().code(), Some(7));
    nothing_left_of_runs(&home);
}

/// `ltc run` of a command that has started and waits for a line of input, which it echoes as
/// `after-LINE` before it exits 7: the process, its input and what it printed so far.
fn a_run_waiting_for_input(
    home: &Home,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    Arc<Mutex<Vec<u8>>>,
) {
    let waits = "echo started; read go; echo after-$go; exit 7";
    let mut child = home
        .command(&["run", "box", "--", "sh", "-c", waits])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let seen = read_into(Box::new(child.stdout.take().unwrap()));
    wait_for(&seen, "started");
    (child, stdin, seen)
}

#[test]
fn a_detached_run_is_a_task_to_follow_and_delete() {
    require_docker();
    let home = Home::new();
    create_box(&home, "1");
    let run = home
        .ltc(&[
            "run",
            "box",
            "--detach",
            "--",
            "sh",
            "-c",
            "echo detached-out; exit 4",
        ])
        .ok();
    let guid = run.stdout.trim().to_string();
    assert!(guid.starts_with("box-run-"), "{run:#?}");
    let task = wait_task(&home, &guid, "COMPLETED");
    assert_eq!(task["failed"], true, "{task:#}");
    let logs = home.ltc(&["logs", &guid, "--recent"]).ok();
    assert!(logs.stdout.contains("detached-out"), "{logs:#?}");
    home.ltc(&["delete-task", &guid]).ok();
    nothing_left_of_runs(&home);
}

#[test]
fn a_task_survives_a_node_restart_and_keeps_its_output_and_result() {
    require_docker();
    let home = Home::new();
    let file = task_file(
        &home,
        "long-1",
        "echo before $GREETING; sleep 3; echo after; echo 42 > /tmp/result",
    );
    let run = home.ltc(&["submit-task", file.to_str().unwrap()]).ok();
    assert!(
        run.stdout.contains("Successfully submitted long-1"),
        "{run:#?}"
    );
    wait_task(&home, "long-1", "RUNNING");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !home
        .ltc(&["logs", "long-1", "--recent"])
        .stdout
        .contains("before hi")
    {
        assert!(Instant::now() < deadline, "the task never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    home.ltc(&["daemon", "stop"]).ok();
    // It ends while no node runs; the next node finds it, reads its output and result.
    std::thread::sleep(Duration::from_secs(4));
    let task = wait_task(&home, "long-1", "COMPLETED");
    assert_eq!(task["failed"], false, "{task:#}");
    assert_eq!(task["result"], "42\n");
    assert_eq!(task["exit_code"], 0);
    let logs = home.ltc(&["logs", "long-1", "--recent"]).ok();
    assert!(
        logs.stdout.contains("before hi") && logs.stdout.contains("after"),
        "{logs:#?}"
    );
    assert!(logs.stdout.contains("[TASK] completed"), "{logs:#?}");
    // Not run twice: one container was ever made for it, and it is gone.
    assert!(home.containers().is_empty());
    let list = home.ltc(&["list"]).ok();
    assert!(
        list.stdout.contains("long-1") && list.stdout.contains("COMPLETED"),
        "{list:#?}"
    );
    home.ltc(&["delete-task", "long-1"]).ok();
    let run = home.ltc(&["task", "long-1"]).code(14);
    assert!(
        run.stderr.contains("No task 'long-1' was found"),
        "{run:#?}"
    );
}

#[test]
fn tasks_are_cancelled_deleted_and_refused_as_lattice_did() {
    require_docker();
    let home = Home::new();
    let file = task_file(&home, "slow-1", "sleep 60");
    home.ltc(&["submit-task", file.to_str().unwrap()]).ok();
    let run = home.ltc(&["submit-task", file.to_str().unwrap()]).code(14);
    assert!(
        run.stderr.contains("slow-1 has already been submitted"),
        "{run:#?}"
    );
    wait_task(&home, "slow-1", "RUNNING");
    home.ltc(&["cancel-task", "slow-1"]).ok();
    let task = wait_task(&home, "slow-1", "COMPLETED");
    assert_eq!(task["failed"], true);
    assert_eq!(task["failure_reason"], "cancelled");
    let run = home.ltc(&["cancel-task", "slow-1"]).code(14);
    assert!(
        run.stderr
            .contains("Unable to cancel COMPLETED task slow-1"),
        "{run:#?}"
    );
    assert!(home.containers().is_empty(), "its container is gone");

    let failing = task_file(&home, "fail-1", "echo oops; exit 7");
    home.ltc(&["submit-task", failing.to_str().unwrap()]).ok();
    let task = wait_task(&home, "fail-1", "COMPLETED");
    assert_eq!(task["failed"], true);
    assert_eq!(task["failure_reason"], "exited with status 7");

    let bad = home.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let run = home.ltc(&["submit-task", bad.to_str().unwrap()]).code(13);
    assert!(run.stderr.contains("not JSON"), "{run:#?}");
    std::fs::write(&bad, r#"{"task_guid": "x", "rootfs": "docker:///busybox"}"#).unwrap();
    let run = home.ltc(&["submit-task", bad.to_str().unwrap()]).code(13);
    assert!(run.stderr.contains("has no `action`"), "{run:#?}");
    let missing = home.path().join("absent.json");
    let run = home
        .ltc(&["submit-task", missing.to_str().unwrap()])
        .code(13);
    assert!(run.stderr.contains("Error reading file"), "{run:#?}");
    let run = home.ltc(&["cancel-task", "nope"]).code(14);
    assert!(run.stderr.contains("No task 'nope' was found"), "{run:#?}");
    let tasks = home.json(&["task"]);
    assert_eq!(
        tasks.as_array().unwrap().len(),
        2,
        "nothing half-created: {tasks:#}"
    );
}

fn read_data(home: &Home, index: &str) -> String {
    home.ltc(&["ssh", "box", "--index", index, "--", "cat", "/data/f"])
        .ok()
        .stdout
}

#[test]
fn a_named_volume_is_shared_and_outlives_restarts_crashes_and_new_revisions() {
    require_docker();
    let home = Home::new();
    let image = busybox_image();
    home.ltc(&["create", "box", &image, "-i", "2", "--volume", "data:/data"])
        .ok();
    home.ltc(&[
        "ssh",
        "box",
        "--index",
        "0",
        "--",
        "sh",
        "-c",
        "echo kept > /data/f",
    ])
    .ok();
    assert_eq!(
        read_data(&home, "1"),
        "kept\n",
        "instance 1 reads what 0 wrote"
    );

    home.ltc(&["restart", "box"]).ok();
    assert_eq!(read_data(&home, "0"), "kept\n", "after a rolling restart");

    // A crash: the instance's process is killed, and its replacement reads the file.
    let before = home.json(&["status", "box"]);
    home.ltc(&[
        "ssh",
        "box",
        "--index",
        "1",
        "--",
        "sh",
        "-c",
        "kill -9 $(pidof httpd)",
    ])
    .code(0);
    home.wait_status("box", Duration::from_secs(60), |s| {
        converged(s, 2) && s["instances"][1]["guid"] != before["instances"][1]["guid"]
    });
    assert_eq!(read_data(&home, "1"), "kept\n", "after a crash");

    home.ltc(&["update", "box", "-e", "NEXT=1"]).ok();
    assert_eq!(read_data(&home, "0"), "kept\n", "after a rolling update");
    home.ltc(&["daemon", "stop"]).ok();
    assert_eq!(read_data(&home, "1"), "kept\n", "after a node restart");

    let volumes = home.json(&["volumes"]);
    assert_eq!(volumes[0]["name"], "data");
    assert_eq!(volumes[0]["apps"], serde_json::json!(["box"]));
    assert!(
        volumes[0]["size_bytes"].as_u64().is_some_and(|n| n > 0),
        "{volumes:#}"
    );

    // Removing the app keeps its volume unless asked, and says so.
    let run = home.ltc(&["remove", "box"]).ok();
    assert!(run.stderr.contains("Keeping its volume data"), "{run:#?}");
    home.ltc(&["create", "box", &image, "--volume", "data:/data"])
        .ok();
    assert_eq!(
        read_data(&home, "0"),
        "kept\n",
        "a new app mounts the kept volume"
    );
    home.ltc(&["remove", "box", "--volumes"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    while home.json(&["volumes"]) != serde_json::json!([]) {
        assert!(Instant::now() < deadline, "the volume was never removed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn bad_volumes_are_refused_and_nothing_is_created() {
    require_docker();
    let home = Home::new();
    let image = busybox_image();
    for (volume, says) in [
        ("b@d:/data", "not a valid volume name"),
        ("data:relative", "is not absolute"),
        ("data:/data:rx", "is not `ro` or `rw`"),
        (
            "/var/run/docker.sock:/docker.sock",
            "would give the app the Docker engine",
        ),
        ("/:/host", "this whole machine"),
        ("/no/such/dir/here:/x", "does not exist on this machine"),
    ] {
        let run = home
            .ltc(&["create", "box", &image, "--volume", volume])
            .code(13);
        assert!(run.stderr.contains(says), "{volume}: {run:#?}");
    }
    assert_eq!(home.json(&["list"]), serde_json::json!([]), "no app");
    assert_eq!(home.json(&["volumes"]), serde_json::json!([]), "no volume");
    assert!(home.containers().is_empty(), "no container");
    // (That a privileged app may mount it is a unit test: privileged containers cannot run
    // on every engine the tests meet.)
}
