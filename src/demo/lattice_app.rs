//! The built-in demo app, ltc's equivalent of `cloudfoundry/lattice-app`.
//!
//! This file is not a module of the `ltc` crate: `build.rs` compiles it on its own with
//! `rustc -C target-feature=+crt-static` into a static binary that `ltc` embeds and places in a
//! `FROM scratch` image. It therefore uses the standard library only (no crates, no shell, no
//! libc calls), and it stays small enough to build in a second.
//!
//! Behaviour, as the original: listens on `--ports` or `$PORT` or 8080 (every port serves the
//! same handlers); `/` shows the index and uptime, `/env` the environment (`?json=true` as a JSON
//! array of `[name, value]` pairs), `/index` the index as plain text, `/port` the port the request
//! came in on, `/exit` exits with status 1; logs `Lattice-app. Says Hello. on index: N` every
//! second. Added for testing a PaaS: `/sleep/<millis>` answers after that delay, `/log/<bytes>`
//! writes that much output at once, and
//! `--startup-delay <duration>` waits before listening. SIGTERM stops it at once because ltc runs
//! it under Docker's init (`Init: true`), where it is not PID 1 and keeps the default action.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::exit;
use std::thread;
use std::time::{Duration, Instant};

struct Options {
    ports: Vec<u16>,
    startup_delay: Duration,
    message: String,
}

fn usage_error(message: &str) -> ! {
    eprintln!("lattice-app: {message}");
    eprintln!(
        "usage: /lattice-app [--ports 8080,9090] [--startup-delay 3s] [--message Hello]"
    );
    exit(2)
}

fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn parse_ports(text: &str) -> Vec<u16> {
    text.split(',')
        .map(|p| match p.trim().parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => usage_error(&format!("invalid port `{p}`")),
        })
        .collect()
}

fn parse_options() -> Options {
    let mut options = Options {
        ports: Vec::new(),
        startup_delay: Duration::ZERO,
        message: "Hello".to_string(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .unwrap_or_else(|| usage_error(&format!("{flag} needs a value")))
        };
        match flag.trim_start_matches('-') {
            "ports" => options.ports = parse_ports(&value()),
            "startup-delay" => {
                let text = value();
                options.startup_delay = parse_duration(&text)
                    .unwrap_or_else(|| usage_error(&format!("invalid duration `{text}`")));
            }
            "message" => options.message = value(),
            "quiet" => {}
            _ => usage_error(&format!("unknown flag `{arg}`")),
        }
    }
    if options.ports.is_empty() {
        options.ports = match std::env::var("PORT") {
            Ok(port) => parse_ports(&port),
            Err(_) => vec![8080],
        };
    }
    options
}

fn instance_index() -> String {
    for name in ["CF_INSTANCE_INDEX", "INSTANCE_INDEX"] {
        if let Ok(value) = std::env::var(name) {
            if !value.is_empty() {
                return value;
            }
        }
    }
    "-1".to_string()
}

/// Uptime in Go's duration style (`1h2m3.5s`), as the original printed it.
fn format_uptime(elapsed: Duration) -> String {
    let total = elapsed.as_secs();
    let (hours, minutes) = (total / 3600, (total / 60) % 60);
    let seconds = (total % 60) as f64 + f64::from(elapsed.subsec_millis()) / 1000.0;
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Request {
    path: String,
    query: String,
    keep_alive: bool,
}

/// Reads one HTTP/1.x request head and discards its body. `None` when the peer closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let _method = parts.next()?;
    let target = parts.next()?.to_string();
    let version = parts.next().unwrap_or("HTTP/1.0").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: u64 = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > 0 {
        std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink()).ok()?;
    }
    let connection = headers
        .get("connection")
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    let keep_alive = if version == "HTTP/1.0" {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        path,
        query,
        keep_alive,
    })
}

struct App {
    index: String,
    started: Instant,
}

impl App {
    fn page(&self, title: &str, body: &str) -> String {
        format!(
            "<html><head><title>Lattice</title></head><body style=\"font-family: sans-serif\">\
             <h1>{title}</h1>{body}</body></html>\n"
        )
    }

    /// Returns status, content type, body and whether to exit after answering.
    fn handle(&self, request: &Request, port: u16) -> (u16, &'static str, String, bool) {
        let html = "text/html; charset=utf-8";
        let text = "text/plain; charset=utf-8";
        let uptime = format_uptime(self.started.elapsed());
        match request.path.as_str() {
            "/" => {
                let body = format!(
                    "<h2>My Index Is</h2><h1 class=\"index\">{}</h1><p>Uptime: {uptime}</p>",
                    self.index
                );
                (200, html, self.page("Lattice", &body), false)
            }
            "/index" => (200, text, self.index.clone(), false),
            "/port" => (200, text, port.to_string(), false),
            "/env" => {
                let mut vars: Vec<(String, String)> = std::env::vars().collect();
                vars.sort();
                if request.query.split('&').any(|kv| kv == "json=true") {
                    let pairs: Vec<String> = vars
                        .iter()
                        .map(|(k, v)| format!("[{},{}]", json_string(k), json_string(v)))
                        .collect();
                    (200, "application/json", format!("[{}]", pairs.join(",")), false)
                } else {
                    let items: String = vars
                        .iter()
                        .map(|(k, v)| {
                            format!("<dt>{}</dt><dd>{}</dd>", html_escape(k), html_escape(v))
                        })
                        .collect();
                    (200, html, self.page("Environment", &format!("<dl>{items}</dl>")), false)
                }
            }
            "/exit" => {
                let body = format!(
                    "<h2>My Index Is</h2><h1>{}</h1><p>Uptime: {uptime}</p>",
                    self.index
                );
                (200, html, self.page("Shutting Down", &body), true)
            }
            path if path.starts_with("/log/") => match path["/log/".len()..].parse::<usize>() {
                Ok(bytes) => {
                    // Writes about `bytes` of output at once: a flood for tests of log handling.
                    let line = format!("{}\n", "x".repeat(99));
                    let mut out = std::io::stdout().lock();
                    for _ in 0..bytes.div_ceil(line.len()) {
                        if out.write_all(line.as_bytes()).is_err() {
                            break;
                        }
                    }
                    let _ = out.flush();
                    (200, text, format!("wrote {bytes} bytes"), false)
                }
                Err(_) => (400, text, "log takes a whole number of bytes".to_string(), false),
            },
            path if path.starts_with("/line/") => match path["/line/".len()..].parse::<usize>() {
                Ok(bytes) => {
                    // One line of `bytes` characters: for tests of long log lines.
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(format!("{}\n", "y".repeat(bytes)).as_bytes());
                    let _ = out.flush();
                    (200, text, format!("wrote a line of {bytes} bytes"), false)
                }
                Err(_) => (400, text, "line takes a whole number of bytes".to_string(), false),
            },
            path if path.starts_with("/alloc/") => match path["/alloc/".len()..].parse::<usize>() {
                Ok(mb) => {
                    // Holds `mb` MiB, touched page by page: for tests of the memory limit.
                    let mut held: Vec<Vec<u8>> = Vec::new();
                    for _ in 0..mb {
                        held.push(vec![1u8; 1 << 20]);
                    }
                    let total: usize = held.iter().map(|b| b[b.len() - 1] as usize).sum();
                    (200, text, format!("held {total} MiB"), false)
                }
                Err(_) => (400, text, "alloc takes whole MiB".to_string(), false),
            },
            path if path.starts_with("/sleep/") => match path["/sleep/".len()..].parse::<u64>() {
                Ok(millis) => {
                    thread::sleep(Duration::from_millis(millis));
                    (200, text, format!("slept {millis}ms"), false)
                }
                Err(_) => (400, text, "sleep takes whole milliseconds".to_string(), false),
            },
            _ => (404, text, "not found".to_string(), false),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Not Found",
    }
}

fn serve_connection(app: &App, stream: TcpStream, port: u16) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (status, content_type, body, exit_after) = app.handle(&request, port);
        let connection = if request.keep_alive && !exit_after {
            "keep-alive"
        } else {
            "close"
        };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: {connection}\r\n\r\n",
            reason(status),
            body.len()
        );
        let mut response = head.into_bytes();
        response.extend_from_slice(body.as_bytes());
        if writer.write_all(&response).is_err() {
            return;
        }
        if exit_after {
            let _ = writer.flush();
            thread::sleep(Duration::from_millis(100));
            println!("Lattice-App shutting down");
            exit(1);
        }
        if !request.keep_alive {
            return;
        }
    }
}

/// A connection's thread needs little stack: its buffers are on the heap.
const CONNECTION_STACK: usize = 256 * 1024;

/// A thread per connection. When no thread can be had (the container's process limit, memory)
/// or no descriptor is left, the connection is closed and the app goes on serving the ones it
/// has: a demo under a load generator's thousands of connections must not die of it.
fn accept_loop(app: &'static App, listener: TcpListener, port: u16) {
    let mut last_report: Option<Instant> = None;
    let mut refused = 0u64;
    let mut refuse = |what: String| {
        refused += 1;
        if last_report.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            eprintln!("lattice-app: {what}; {refused} connection(s) refused so far");
            last_report = Some(Instant::now());
        }
    };
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                refuse(format!("cannot accept a connection: {err}"));
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let spawned = thread::Builder::new()
            .stack_size(CONNECTION_STACK)
            .spawn(move || serve_connection(app, stream, port));
        if let Err(err) = spawned {
            // The stream went down with the closure: the connection is closed.
            refuse(format!("cannot start a thread for a connection: {err}"));
        }
    }
}

fn main() {
    let options = parse_options();
    let app: &'static App = Box::leak(Box::new(App {
        index: instance_index(),
        started: Instant::now(),
    }));
    let name = std::env::var("APP_NAME").unwrap_or_else(|_| "Lattice-app".to_string());
    let message = options.message.clone();
    thread::spawn(move || {
        loop {
            println!("{name}. Says {message}. on index: {}", app.index);
            thread::sleep(Duration::from_secs(1));
        }
    });
    if !options.startup_delay.is_zero() {
        println!("lattice-app: waiting {:?} before listening", options.startup_delay);
        thread::sleep(options.startup_delay);
    }
    let mut listeners = Vec::new();
    for port in &options.ports {
        match TcpListener::bind(("0.0.0.0", *port)) {
            Ok(listener) => listeners.push((listener, *port)),
            Err(err) => {
                eprintln!("lattice-app: cannot listen on port {port}: {err}");
                exit(1);
            }
        }
    }
    println!("lattice-app: listening on {:?}", options.ports);
    let mut handles = Vec::new();
    for (listener, port) in listeners {
        handles.push(thread::spawn(move || accept_loop(app, listener, port)));
    }
    for handle in handles {
        let _ = handle.join();
    }
}
