//! Snapshots of what each command prints, human and `--json`, so a change of output is a
//! deliberate change of `tests/snapshots/*.txt` (`LTC_REGENERATE=1 cargo test snapshots`).
//! What differs from run to run — ids, host ports, times, machine sizes, resource samples — is
//! replaced by placeholders; everything else must match to the byte.

use crate::support::{Home, require_docker};
use std::path::PathBuf;

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

/// `0.02%`, `2.2M`, `N/A`: a resource sample or its absence.
fn is_sample(word: &str) -> bool {
    word == "N/A"
        || (word.ends_with('%') && word.trim_end_matches('%').parse::<f64>().is_ok())
        || word
            .strip_suffix(['K', 'M', 'G'])
            .is_some_and(|n| n.parse::<f64>().is_ok())
}

fn normalize_human(text: &str, home: &Home) -> String {
    let text = text
        .replace(home.path().to_str().unwrap(), "<LTC_HOME>")
        .replace(&home.router_port.to_string(), "<ROUTER_PORT>");
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
                    if is_hex_run(&word) {
                        "<ID>".to_string()
                    } else if is_time(&word) {
                        "<TIME>".to_string()
                    } else if is_duration(&word) {
                        "<DURATION>".to_string()
                    } else if is_sample(&word) {
                        "<SAMPLE>".to_string()
                    } else {
                        word
                    }
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
    const VARYING: [&str; 20] = [
        "guid",
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
                .replace(&home.router_port.to_string(), "<ROUTER_PORT>");
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

#[test]
fn every_reporting_command_prints_what_its_snapshot_says() {
    require_docker();
    let home = Home::new();
    let mut mismatches = Vec::new();
    let mut snap = |name: &str, args: &[&str], human: bool| {
        let run = home.ltc(args);
        let text = if human {
            format!(
                "$ ltc {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}\n",
                args.join(" "),
                run.code,
                normalize_human(&run.stdout, &home),
                normalize_human(&run.stderr, &home)
                    .lines()
                    // Progress lines depend on timing; the rest of stderr must match.
                    .filter(|l| {
                        !l.starts_with("starting the ltc node") && !l.ends_with("instances running")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        } else {
            let mut value: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {run:#?}"));
            normalize_json(&mut value, &home);
            format!(
                "$ ltc {}\nexit {}\n{}\n",
                args.join(" "),
                run.code,
                serde_json::to_string_pretty(&value).unwrap()
            )
        };
        if let Some(mismatch) = check(name, &text) {
            mismatches.push(mismatch);
        }
    };
    snap("list-empty", &["list"], true);
    snap("list-empty-json", &["list", "--json"], false);
    snap("target", &["target"], true);
    snap("target-json", &["target", "--json"], false);
    snap(
        "create",
        &["create", "snap", "-i", "2", "-e", "GREETING=hi"],
        true,
    );
    snap("list", &["list"], true);
    snap("list-json", &["list", "--json"], false);
    snap("status", &["status", "snap"], true);
    snap("status-json", &["status", "snap", "--json"], false);
    snap("status-detailed", &["status", "snap", "--detailed"], true);
    snap("visualize", &["visualize"], true);
    snap("visualize-json", &["visualize", "--json"], false);
    snap("cells-json", &["cells", "--json"], false);
    snap("version-json", &["version", "--json"], false);
    snap("update", &["update", "snap", "-R", "greet"], true);
    snap(
        "update-json",
        &["update", "snap", "-R", "greet", "--json"],
        false,
    );
    snap("scale", &["scale", "snap", "1"], true);
    snap("scale-json", &["scale", "snap", "1", "--json"], false);
    snap("remove", &["remove", "snap"], true);
    snap(
        "create-json",
        &["create", "snap2", "--json", "--quiet"],
        false,
    );
    snap("remove-json", &["remove", "snap2", "--json"], false);
    snap("status-missing", &["status", "snap"], true);
    snap("help", &["help"], true);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
