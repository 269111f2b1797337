//! The dashboard at `http://ltc.localhost:<router port>/`, driven in a real headless Chromium
//! through chromedriver (WebDriver), beside the CLI: what the page shows follows the node
//! live, its actions change the apps, and requests without its token or from another origin
//! change nothing.

use crate::support::*;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a port of its own; killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the tests need chromium-driver: apt-get install chromium chromium-driver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }

    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,800"],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Evaluates `script` in the page until it returns something truthy, or fails after `limit`.
async fn until(browser: &Client, script: &str, limit: Duration) -> serde_json::Value {
    let deadline = Instant::now() + limit;
    loop {
        let value = browser.execute(script, vec![]).await.unwrap();
        let truthy = match &value {
            serde_json::Value::Null | serde_json::Value::Bool(false) => false,
            serde_json::Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return value;
        }
        if Instant::now() > deadline {
            let html = browser.source().await.unwrap_or_default();
            panic!("the page never satisfied `{script}`:\n{html}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The "running/desired" text the page shows for an app.
fn count_of(app: &str) -> String {
    format!(
        "const row = document.querySelector('tr[data-app=\"{app}\"]'); \
         return row ? row.querySelector('.count').textContent : null;"
    )
}

/// A POST to the dashboard's API from outside the page; returns the status.
fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: ltc.localhost:{port}\r\n{extra}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_follows_the_node_live_and_its_actions_change_the_apps() {
    require_docker();
    let home = Home::new();
    home.ltc(&["create", "web", "-i", "2"]).ok();
    home.ltc(&["create", "api"]).ok();
    // A crash loop: its process exits a second after it starts.
    home.ltc(&[
        "create",
        "crashy",
        &busybox_image(),
        "--no-monitor",
        "--no-wait",
        "--",
        "/bin/sh",
        "-c",
        "sleep 1; exit 3",
    ])
    .ok();
    let driver = Driver::start();
    let browser = driver.browser().await;
    let url = format!("http://ltc.localhost:{}/", home.router_port);
    browser.goto(&url).await.unwrap();
    let load = browser
        .execute(
            "const t = performance.getEntriesByType('navigation')[0]; \
             return [t.transferSize, Math.round(t.loadEventEnd - t.startTime)];",
            vec![],
        )
        .await
        .unwrap();
    println!("the page: {} bytes, loaded in {} ms", load[0], load[1]);
    until(
        &browser,
        "return document.getElementById('connection').textContent === 'live';",
        Duration::from_secs(20),
    )
    .await;
    for app in ["web", "api", "crashy"] {
        until(&browser, &count_of(app), Duration::from_secs(10)).await;
    }
    assert_eq!(
        until(&browser, &count_of("web"), Duration::from_secs(10)).await,
        "2/2"
    );
    // Routes are links; the page carries no environment. Read in one script: the page
    // redraws a row's links on every change, so an element found first can be gone by the
    // time it is read (seen in CI).
    let href = until(
        &browser,
        "const a = document.querySelector(\"tr[data-app='web'] a\"); return a ? a.href : null;",
        Duration::from_secs(5),
    )
    .await;
    assert!(href.as_str().unwrap().contains("web.localhost"), "{href}");

    // A scale from the CLI shows up without a reload.
    let started = Instant::now();
    home.ltc(&["scale", "web", "3", "--no-wait"]).ok();
    until(
        &browser,
        "const c = document.querySelector('tr[data-app=\"web\"] .count'); return c && c.textContent.endsWith('/3');",
        Duration::from_secs(5),
    )
    .await;
    println!(
        "the page showed the CLI's scale {} ms after it was asked",
        started.elapsed().as_millis()
    );

    // An app's log, opened on the page, shows its lines as they come (a router line here).
    browser
        .find(Locator::Css(
            "tr[data-app='web'] button[aria-label='Show the log of web']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &browser,
        "return !document.getElementById('logs').hidden;",
        Duration::from_secs(5),
    )
    .await;
    let port = home.router_port;
    std::thread::spawn(move || http_get(port, "/index?from-the-test", "web.localhost"))
        .join()
        .unwrap()
        .unwrap();
    until(
        &browser,
        "return document.getElementById('log').textContent.includes('/index?from-the-test');",
        Duration::from_secs(10),
    )
    .await;

    // A node restart: the page reconnects by itself and follows the new node.
    home.ltc(&["daemon", "restart"]).ok();
    home.ltc(&["scale", "web", "2", "--no-wait"]).ok();
    until(
        &browser,
        "const c = document.querySelector('tr[data-app=\"web\"] .count'); \
         return c && c.textContent.endsWith('/2') && document.getElementById('connection').textContent === 'live';",
        Duration::from_secs(30),
    )
    .await;

    // The crash loop shows in the crashed colour, with the next restart's time.
    until(
        &browser,
        "return document.querySelector('tr[data-app=\"crashy\"] .dot[data-state=\"CRASHED\"]') !== null \
         && document.querySelector('tr[data-app=\"crashy\"] details').textContent.includes('restarts at');",
        Duration::from_secs(60),
    )
    .await;
    let colour = browser
        .execute(
            "return getComputedStyle(document.querySelector('tr[data-app=\"crashy\"] .dot[data-state=\"CRASHED\"]')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    let running = browser
        .execute(
            "return getComputedStyle(document.querySelector('tr[data-app=\"api\"] .dot')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        colour, running,
        "a crashed instance is not drawn as a running one"
    );

    if std::env::var_os("LTC_REGENERATE").is_some() {
        let png = browser.screenshot().await.unwrap();
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.png"),
            png,
        )
        .unwrap();
    }

    // The page's own scale action goes to the node.
    let input = browser
        .find(Locator::Css("tr[data-app='api'] input[type=number]"))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys("2").await.unwrap();
    browser
        .find(Locator::Css("tr[data-app='api'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while home.json(&["status", "api"])["desired_instances"] != 2 {
        if Instant::now() > deadline {
            let said = browser
                .execute("return document.getElementById('message').textContent + ' / ' + document.querySelector('tr[data-app=\"api\"] input').value;", vec![])
                .await
                .unwrap();
            panic!("the page's scale did not reach the node: {said}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // Without the page's token, or from another origin: 403, and nothing changes.
    let token: String = browser
        // The page's current token: a node restart gave it a new one.
        .execute("return token;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let port = home.router_port;
    let body = r#"{"instances": 5}"#;
    assert_eq!(post(port, "/api/apps/api/scale", &[], body), 403);
    assert_eq!(
        post(
            port,
            "/api/apps/api/scale",
            &[("X-Ltc-Token", "guess")],
            body
        ),
        403
    );
    assert_eq!(
        post(
            port,
            "/api/apps/api/scale",
            &[("X-Ltc-Token", &token), ("Origin", "http://evil.example")],
            body
        ),
        403
    );
    assert_eq!(home.json(&["status", "api"])["desired_instances"], 2);
    // The page's origin with its token is the one that works.
    let origin = format!("http://ltc.localhost:{port}");
    assert_eq!(
        post(
            port,
            "/api/apps/api/scale",
            &[("X-Ltc-Token", &token), ("Origin", &origin)],
            r#"{"instances": 1}"#
        ),
        200
    );
    assert_eq!(home.json(&["status", "api"])["desired_instances"], 1);

    // No environment value reaches the page's stream.
    home.ltc(&["update", "api", "-e", "SECRET=hunter2", "--no-wait"])
        .ok();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let html = browser.source().await.unwrap();
    assert!(!html.contains("hunter2"));
    browser.close().await.unwrap();
}
