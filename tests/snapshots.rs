//! Snapshots of what each command prints, human and `--json`, so a change of output is a
//! deliberate change of `tests/snapshots/*.txt` (`LTC_REGENERATE=1 cargo test snapshots`).
//! What differs from run to run — ids, host ports, times, machine sizes, resource samples — is
//! replaced by placeholders; everything else must match to the byte.

use crate::support::{Follow, Home, Run, http_get, require_docker};
use std::path::PathBuf;
use std::time::Duration;

fn is_hex_run(word: &str) -> bool {
    word.len() >= 12
        && word.chars().all(|c| c.is_ascii_hexdigit())
        && word.chars().any(|c| c.is_ascii_digit())
}

fn is_time(word: &str) -> bool {
    word.len() >= 20 && word.as_bytes()[4] == b'-' && word.contains('T') && word.ends_with('Z')
}

/// `12s`, `3m4s`, `1h2m3s`.
fn is_duration(word: &str) -> bool {
    !word.is_empty()
        && word.ends_with('s')
        && word
            .trim_end_matches('s')
            .split(['h', 'm'])
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `0.8ms`, a router line's response time.
fn is_millis(word: &str) -> bool {
    word.strip_suffix("ms")
        .is_some_and(|n| n.parse::<f64>().is_ok())
}

/// A log line's `08:05:50.01`.
fn is_log_clock(word: &str) -> bool {
    let shape = |pattern: &str| {
        word.len() == pattern.len()
            && word
                .chars()
                .zip(pattern.chars())
                .all(|(c, p)| if p == '9' { c.is_ascii_digit() } else { c == p })
    };
    shape("99:99:99.99")
}

/// A log line's `11/30`.
fn is_log_date(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() == 5 && bytes[2] == b'/' && word.split('/').all(|p| p.parse::<u8>().is_ok())
}

/// `ltc test`'s app, `lattice-test-app-1a2b3c4d`, wherever it appears in a word.
fn test_app_name(word: &str) -> String {
    const PREFIX: &str = "lattice-test-app-";
    match word.split_once(PREFIX) {
        Some((head, tail))
            if tail.len() >= 8 && tail[..8].chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            format!("{head}{PREFIX}<ID>{}", &tail[8..])
        }
        _ => word.to_string(),
    }
}

/// `0.02%`, `2.2M`, `N/A`: a resource sample or its absence.
fn is_sample(word: &str) -> bool {
    word == "N/A"
        || (word.ends_with('%') && word.trim_end_matches('%').parse::<f64>().is_ok())
        || word
            .strip_suffix(['K', 'M', 'G'])
            .is_some_and(|n| n.parse::<f64>().is_ok())
}

/// Tells whether a word is one kind of varying value.
type Matcher = fn(&str) -> bool;

/// Words that vary from run to run, and what replaces them, in order.
/// A router line's `vcap_request_id:<uuid>`.
fn is_request_id(word: &str) -> bool {
    word.strip_prefix("vcap_request_id:")
        .is_some_and(|id| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

const PLACEHOLDERS: [(Matcher, &str); 8] = [
    (is_request_id, "vcap_request_id:<ID>"),
    (is_hex_run, "<ID>"),
    (is_log_clock, "<CLOCK>"),
    (is_log_date, "<DATE>"),
    (is_millis, "<DURATION>"),
    (is_time, "<TIME>"),
    (is_duration, "<DURATION>"),
    (is_sample, "<SAMPLE>"),
];

fn tls_port(home: &Home) -> String {
    let port = home
        .fixed_tls_port
        .expect("snapshot homes fix their HTTPS port");
    port.to_string()
}

fn normalize_human(text: &str, home: &Home) -> String {
    let text = text
        .replace(home.path().to_str().unwrap(), "<LTC_HOME>")
        .replace(&home.router_port.to_string(), "<ROUTER_PORT>")
        .replace(&tls_port(home), "<TLS_PORT>");
    text.lines()
        .map(|line| {
            line.split_whitespace()
                .map(|word| {
                    let (head, port) = match word.rsplit_once("127.0.0.1:") {
                        Some((head, port))
                            if port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty() =>
                        {
                            (format!("{head}127.0.0.1:"), Some("<PORT>"))
                        }
                        _ => (word.to_string(), None),
                    };
                    let word = match port {
                        Some(p) => format!("{head}{p}"),
                        None => head,
                    };
                    // `--detailed` shows host:container port pairs.
                    let numeric = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
                    if let Some((host, container)) = word.split_once(':')
                        && numeric(host)
                        && numeric(container)
                    {
                        return format!("<PORT>:{container}");
                    }
                    PLACEHOLDERS
                        .iter()
                        .find(|(matches, _)| matches(&word))
                        .map_or_else(|| test_app_name(&word), |(_, p)| p.to_string())
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces the values that vary with placeholders, keeping the JSON's shape.
fn normalize_json(value: &mut serde_json::Value, home: &Home) {
    use serde_json::Value;
    const VARYING: [&str; 24] = [
        "guid",
        "image_id",
        "finished_at",
        "container_id",
        "since",
        "created_at",
        "next_restart",
        "install_id",
        "pid",
        "started_at",
        "cpu_percent",
        "memory_bytes",
        "memory_mb",
        "disk_mb",
        "disk_free_mb",
        "cpus",
        "reserved_memory_mb",
        "version",
        "api_version",
        "endpoint",
        "time",
        "address",
        "fingerprint_sha256",
        "not_after",
    ];
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                // A sample may not exist yet (null) or already (a number): both are `<key>`.
                let sampled = matches!(key.as_str(), "cpu_percent" | "memory_bytes");
                if VARYING.contains(&key.as_str())
                    && (sampled || !item.is_null())
                    && !item.is_object()
                {
                    *item = Value::String(format!("<{key}>"));
                } else if key == "message" && item.is_string() {
                    // What a log line or event says: words, normalised like human output.
                    *item = Value::String(normalize_human(item.as_str().unwrap(), home));
                } else if key == "app" && item.is_string() {
                    *item = Value::String(test_app_name(item.as_str().unwrap()));
                } else if key == "ports" && item.is_object() {
                    for port in item.as_object_mut().unwrap().values_mut() {
                        *port = Value::String("<PORT>".into());
                    }
                } else {
                    normalize_json(item, home);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| normalize_json(i, home)),
        Value::String(text) => {
            *text = text
                .replace(home.path().to_str().unwrap(), "<LTC_HOME>")
                .replace(&home.router_port.to_string(), "<ROUTER_PORT>")
                .replace(&tls_port(home), "<TLS_PORT>");
        }
        _ => {}
    }
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"))
}

/// Compares (or, with `LTC_REGENERATE`, writes) a snapshot; returns a mismatch description.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = snapshot_path(name);
    if std::env::var_os("LTC_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| format!("--- {name} expected:\n{expected}\n--- got:\n{actual}"))
}

/// Progress lines depend on timing; the rest of stderr must match.
fn is_progress(line: &str) -> bool {
    line.starts_with("starting the ltc node")
        || line.ends_with("instances running")
        || line.contains("instances running, ")
        || line.contains(" draining ")
        || line.ends_with(" stopping")
        || line.contains("instances replaced (")
}

/// Collects the differences between what commands print and their snapshots.
struct Snapshots<'a> {
    home: &'a Home,
    mismatches: Vec<String>,
    /// Further (text, placeholder) pairs known only at run time: a pid, the engine's version.
    known: Vec<(String, &'static str)>,
}

impl<'a> Snapshots<'a> {
    fn new(home: &'a Home) -> Self {
        Snapshots {
            home,
            mismatches: Vec::new(),
            known: Vec::new(),
        }
    }

    fn human_text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (value, placeholder) in &self.known {
            text = text.replace(value.as_str(), placeholder);
        }
        normalize_human(&text, self.home)
    }

    fn check(&mut self, name: &str, text: String) {
        if let Some(mismatch) = check(name, &text) {
            self.mismatches.push(mismatch);
        }
    }

    /// Runs `ltc ARGS` and checks its exit code, stdout and stderr.
    fn human(&mut self, name: &str, args: &[&str]) {
        let run = self.home.ltc(args);
        self.human_run(name, args, &run, |_| true);
    }

    /// Checks a finished run; `keep` picks the stdout lines that do not depend on timing.
    fn human_run(&mut self, name: &str, args: &[&str], run: &Run, keep: impl Fn(&str) -> bool) {
        let lines = |text: &str| -> Vec<String> {
            text.lines().map(|line| self.human_text(line)).collect()
        };
        let stdout: Vec<String> = lines(&run.stdout).into_iter().filter(|l| keep(l)).collect();
        let stderr: Vec<String> = lines(&run.stderr)
            .into_iter()
            .filter(|l| !is_progress(l))
            .collect();
        let text = format!(
            "$ ltc {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}\n",
            args.join(" "),
            run.code,
            stdout.join("\n"),
            stderr.join("\n"),
        );
        self.check(name, text);
    }

    /// Runs `ltc ARGS` (with `--json`) and checks its exit code and the JSON's shape: what it
    /// printed on stdout, or the error object on stderr when it failed.
    fn json(&mut self, name: &str, args: &[&str]) {
        let run = self.home.ltc(args);
        let printed = if run.code == 0 {
            &run.stdout
        } else {
            &run.stderr
        };
        let mut value: serde_json::Value = serde_json::from_str(printed)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {run:#?}"));
        if run.code != 0 {
            assert!(run.stdout.is_empty(), "{args:?}: a failure prints no data");
        }
        normalize_json(&mut value, self.home);
        let text = format!(
            "$ ltc {}\nexit {}\n{}\n",
            args.join(" "),
            run.code,
            serde_json::to_string_pretty(&value).unwrap()
        );
        self.check(name, text);
    }

    /// Checks a finished NDJSON stream, one normalised object a line; `keep` as above.
    fn ndjson_run(
        &mut self,
        name: &str,
        args: &[&str],
        run: &Run,
        keep: impl Fn(&serde_json::Value) -> bool,
    ) {
        let lines: Vec<String> = run
            .stdout
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("{args:?}: not NDJSON ({e}): {line}"))
            })
            .filter(|value| keep(value))
            .map(|mut value| {
                normalize_json(&mut value, self.home);
                serde_json::to_string(&value).unwrap()
            })
            .collect();
        let text = format!(
            "$ ltc {}\nexit {}\n{}\n",
            args.join(" "),
            run.code,
            lines.join("\n")
        );
        self.check(name, text);
    }

    #[track_caller]
    fn assert_all_match(self) {
        assert!(self.mismatches.is_empty(), "{}", self.mismatches.join("\n"));
    }
}

#[test]
fn every_reporting_command_prints_what_its_snapshot_says() {
    require_docker();
    let home = Home::new().with_fixed_tls_port();
    let mut snap = Snapshots::new(&home);
    snap.human("list-empty", &["list"]);
    snap.json("list-empty-json", &["list", "--json"]);
    snap.human("target", &["target"]);
    snap.json("target-json", &["target", "--json"]);
    snap.human("target-set", &["target", "apps.example.com"]);
    snap.json("target-set-json", &["target", "127.0.0.1.xip.io", "--json"]);
    snap.human(
        "create",
        &["create", "snap", "-i", "2", "-e", "GREETING=hi"],
    );
    snap.human("list", &["list"]);
    snap.json("list-json", &["list", "--json"]);
    snap.human("status", &["status", "snap"]);
    snap.json("status-json", &["status", "snap", "--json"]);
    snap.human("status-detailed", &["status", "snap", "--detailed"]);
    snap.human("visualize", &["visualize"]);
    snap.json("visualize-json", &["visualize", "--json"]);
    snap.json("cells-json", &["cells", "--json"]);
    snap.json("ca-json", &["ca", "--json"]);
    // The machine's CPUs, the fourth column of the cell's line.
    let mut cells = home.ltc(&["cells"]);
    cells.stdout = cells
        .stdout
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let mut fields: Vec<&str> = line.split_whitespace().collect();
            if n == 1 && fields.len() > 3 {
                fields[3] = "<CPUS>";
            }
            fields.join(" ") + "\n"
        })
        .collect();
    snap.human_run("cells", &["cells"], &cells, |_| true);
    let node = home.json(&["daemon", "status"])["node"].clone();
    let engine = &node["engine"];
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    let client = env!("CARGO_PKG_VERSION");
    snap.known = vec![
        (format!("Client: {client}"), "Client: <VERSION>"),
        (format!("{client} (API v"), "<VERSION> (API v"),
        (format!("pid {}", node["pid"]), "pid <PID>"),
        (
            format!(
                "{} (API {}, {})",
                text(&engine["version"]),
                text(&engine["api_version"]),
                text(&engine["endpoint"])
            ),
            "<VERSION> (API <API_VERSION>, <ENDPOINT>)",
        ),
    ];
    snap.human("version", &["version"]);
    snap.json("version-json", &["version", "--json"]);
    snap.human("update", &["update", "snap", "-R", "greet"]);
    snap.json("update-json", &["update", "snap", "-R", "greet", "--json"]);
    snap.human("update-env", &["update", "snap", "-e", "GREETING=hello"]);
    snap.json(
        "update-env-json",
        &["update", "snap", "-e", "GREETING=bye", "--json"],
    );
    snap.human("restart", &["restart", "snap"]);
    snap.human("rollback", &["rollback", "snap", "--to", "2"]);
    snap.json(
        "restart-json",
        &["restart", "snap", "--index", "0", "--json"],
    );
    snap.human("history", &["history", "snap"]);
    snap.json("history-json", &["history", "snap", "--json"]);
    snap.human("scale", &["scale", "snap", "1"]);
    snap.json("scale-json", &["scale", "snap", "1", "--json"]);
    snap.human("remove", &["remove", "snap"]);
    snap.json("create-json", &["create", "snap2", "--json", "--quiet"]);
    snap.json("remove-json", &["remove", "snap2", "--json"]);
    snap.human("status-missing", &["status", "snap"]);
    snap.json("status-missing-json", &["status", "snap", "--json"]);
    snap.human("help", &["help"]);
    snap.assert_all_match();
}

#[test]
fn streaming_and_daemon_commands_print_what_their_snapshots_say() {
    require_docker();
    let home = Home::new().with_fixed_tls_port();
    let mut snap = Snapshots::new(&home);
    snap.known.push((crate::support::LTC.to_string(), "<LTC>"));
    snap.human("daemon-install-print", &["daemon", "install", "--print"]);
    snap.human("daemon-status-stopped", &["daemon", "status"]);
    snap.json(
        "daemon-status-stopped-json",
        &["daemon", "status", "--json"],
    );
    let started = home.json(&["daemon", "start"]);
    let engine = &started["node"]["engine"];
    snap.known = vec![
        (format!("pid {}", started["node"]["pid"]), "pid <PID>"),
        (
            format!(
                "Docker {} at {}",
                engine["version"].as_str().unwrap(),
                engine["endpoint"].as_str().unwrap()
            ),
            "Docker <VERSION> at <ENDPOINT>",
        ),
    ];
    snap.human("daemon-start-running", &["daemon", "start"]);
    snap.human("daemon-status", &["daemon", "status"]);
    snap.json("daemon-status-json", &["daemon", "status", "--json"]);

    let events = Follow::start(&home, &["events"]);
    let events_json = Follow::start(&home, &["events", "--json"]);
    let debug = Follow::start(&home, &["debug-logs"]);
    let debug_json = Follow::start(&home, &["debug-logs", "--json"]);
    home.wait_stream_subscribers(4);

    home.ltc(&["create", "snap", "-e", "GREETING=hi"]).ok();
    // An instance's stdout, its stderr and the node's probes race each other, so a log
    // snapshot is sorted by source and text; and whether the first probe comes before the app
    // listens is timing.
    let settled = |line: &str| !line.contains("nothing listens");
    let args = ["logs", "snap", "--recent"];
    let mut recent = home.ltc(&args);
    let mut lines: Vec<&str> = recent.stdout.lines().filter(|l| settled(l)).collect();
    lines.sort_by_key(|line| line.splitn(3, ' ').nth(2));
    recent.stdout = lines.join("\n");
    snap.human_run("logs-recent", &args, &recent, |_| true);
    let args = ["logs", "snap", "--recent", "--json"];
    let mut recent = home.ltc(&args);
    let mut lines: Vec<serde_json::Value> = recent
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|v: &serde_json::Value| settled(v["message"].as_str().unwrap()))
        .collect();
    lines.sort_by_key(|v| (v["source"].to_string(), v["message"].to_string()));
    recent.stdout = lines.iter().map(|v| format!("{v}\n")).collect();
    snap.ndjson_run("logs-recent-json", &args, &recent, |_| true);

    let logs = Follow::start(&home, &["logs", "snap"]);
    let logs_json = Follow::start(&home, &["logs", "snap", "--json"]);
    home.wait_stream_subscribers(6);
    for path in ["/index", "/nothing"] {
        http_get(home.router_port, path, "snap.localhost").unwrap();
    }
    logs.wait_for("GET /nothing", Duration::from_secs(10));
    logs_json.wait_for("GET /nothing", Duration::from_secs(10));
    // What the app printed as it started may arrive after `logs` began; the router's lines
    // for the two requests are what this stream is known to hold.
    let routed = |line: &str| line.contains("[RTR|");
    snap.human_run("logs", &["logs", "snap"], &logs.stop(), routed);
    snap.ndjson_run(
        "logs-json",
        &["logs", "snap", "--json"],
        &logs_json.stop(),
        |v| v["source"] == "RTR",
    );

    home.ltc(&["update", "snap", "-R", "greet"]).ok();
    home.ltc(&["remove", "snap"]).ok();
    events.wait_for("instance_stopped", Duration::from_secs(20));
    events_json.wait_for("instance_stopped", Duration::from_secs(20));
    debug.wait_for("removing snap", Duration::from_secs(20));
    debug_json.wait_for("removing snap", Duration::from_secs(20));
    snap.human_run("events", &["events"], &events.stop(), |_| true);
    snap.ndjson_run(
        "events-json",
        &["events", "--json"],
        &events_json.stop(),
        |_| true,
    );
    // Whether the node had to build the demo image depends on what ran before.
    let built = |line: &str| line.contains("built ltc/lattice-app");
    snap.human_run("debug-logs", &["debug-logs"], &debug.stop(), |l| !built(l));
    snap.ndjson_run(
        "debug-logs-json",
        &["debug-logs", "--json"],
        &debug_json.stop(),
        |v| !built(v["message"].as_str().unwrap_or_default()),
    );

    snap.human("daemon-stop", &["daemon", "stop"]);
    snap.human("daemon-stop-stopped", &["daemon", "stop"]);
    snap.json("daemon-start-json", &["daemon", "start", "--json"]);
    snap.json("daemon-stop-json", &["daemon", "stop", "--json"]);
    snap.assert_all_match();
}

#[test]
fn ltc_test_passes_as_its_snapshot_says_and_leaves_nothing_behind() {
    require_docker();
    let home = Home::new().with_fixed_tls_port();
    let mut snap = Snapshots::new(&home);
    // Each step's line is in the snapshot, so a missing or reordered step fails here.
    snap.human("test", &["test", "--timeout", "2m"]);
    snap.json(
        "test-json",
        &["test", "--timeout", "2m", "--json", "--quiet"],
    );
    assert_eq!(home.json(&["list"]), serde_json::json!([]));
    assert!(home.containers().is_empty());
    snap.assert_all_match();
}

/// Every key of a JSON value, except those that are data (environment names, port numbers).
fn keys(value: &serde_json::Value, found: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                found.insert(key.clone());
                if key != "env" && key != "ports" {
                    keys(item, found);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| keys(item, found)),
        _ => {}
    }
}

#[test]
fn every_field_the_json_snapshots_show_is_documented() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut found = std::collections::BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with("-json.txt") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        // `$ ltc ...`, `exit N`, then one JSON document or NDJSON lines.
        let body: String = text.lines().skip(2).collect::<Vec<_>>().join("\n");
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(value) => keys(&value, &mut found),
            Err(_) => {
                for line in body.lines() {
                    let value = serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("{}: {e}: {line}", path.display()));
                    keys(&value, &mut found);
                }
            }
        }
    }
    assert!(files >= 20, "the JSON snapshots are there: {files}");
    let doc =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/json.md"))
            .unwrap();
    let missing: Vec<&String> = found
        .iter()
        .filter(|key| !doc.contains(&format!("`{key}`")))
        .collect();
    assert!(missing.is_empty(), "docs/json.md does not name {missing:?}");
}
