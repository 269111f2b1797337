//! A Docker Swarm of the test's own, on private engines (never the machine's), and a registry
//! on loopback (Debian's `docker-registry`) for its images.

use super::{Home, PrivateEngine, Run, free_port};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A registry on 127.0.0.1, with its storage in a directory of its own.
pub struct Registry {
    pub address: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("ltc-registry-")
            .tempdir()
            .unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
                 delete:\n    enabled: true\nhttp:\n  addr: {address}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the swarm tests need a registry: apt-get install docker-registry");
        let registry = Registry {
            address,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !registry.answers() {
            assert!(Instant::now() < deadline, "the registry never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn answers(&self) -> bool {
        let port: u16 = self.address.rsplit_once(':').unwrap().1.parse().unwrap();
        matches!(super::http_get(port, "/v2/", "127.0.0.1"), Ok((200, _)))
    }

    /// The repositories it holds.
    pub fn catalog(&self) -> String {
        let port: u16 = self.address.rsplit_once(':').unwrap().1.parse().unwrap();
        super::http_get(port, "/v2/_catalog", "127.0.0.1")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A swarm of private engines: the first is its manager, advertising 127.0.0.1; each one
/// joined later is a worker advertising an address of its own (127.0.0.2, ...).
pub struct Swarm {
    /// Workers first, so they leave before the manager goes.
    pub workers: Vec<PrivateEngine>,
    pub manager: PrivateEngine,
    listen_port: u16,
}

impl Swarm {
    pub fn init() -> Swarm {
        let manager = PrivateEngine::start(false);
        let listen_port = free_port();
        let out = manager.docker(&[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &format!("127.0.0.1:{listen_port}"),
        ]);
        assert!(out.status.success(), "swarm init: {out:?}");
        Swarm {
            workers: Vec::new(),
            manager,
            listen_port,
        }
    }

    /// Joins a new private engine as a worker advertising `address`, and labels its node
    /// with the address ltc routes its instances at (the manager sees every machine here
    /// connect from 127.0.0.1). Returns the worker's node id.
    pub fn join(&mut self, address: &str) -> String {
        let worker = PrivateEngine::start(false);
        let token = self
            .manager
            .docker(&["swarm", "join-token", "-q", "worker"]);
        let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
        let out = worker.docker(&[
            "swarm",
            "join",
            "--token",
            &token,
            "--advertise-addr",
            address,
            "--listen-addr",
            &format!("{address}:{}", free_port()),
            &format!("127.0.0.1:{}", self.listen_port),
        ]);
        assert!(out.status.success(), "swarm join: {out:?}");
        let id = worker.docker(&["info", "--format", "{{.Swarm.NodeID}}"]);
        let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
        let out = self.manager.docker(&[
            "node",
            "update",
            "--label-add",
            &format!("io.ltc.address={address}"),
            &id,
        ]);
        assert!(out.status.success(), "node update: {out:?}");
        self.workers.push(worker);
        id
    }

    /// A home whose node drives this swarm, its images going through `registry`, with what
    /// `ltc target` printed when it was set.
    pub fn home(&self, registry: &Registry) -> (Home, Run) {
        let home = Home::new().with_env("DOCKER_HOST", &self.manager.host);
        let target = home
            .ltc(&[
                "target",
                "--engine",
                "swarm",
                "--registry",
                &registry.address,
            ])
            .ok();
        (home, target)
    }

    /// Sets a node's availability (`active`, `pause`, `drain`).
    pub fn availability(&self, node: &str, availability: &str) {
        let out = self
            .manager
            .docker(&["node", "update", "--availability", availability, node]);
        assert!(out.status.success(), "node update: {out:?}");
    }

    /// The services on the swarm, by name.
    pub fn services(&self) -> Vec<String> {
        let out = self
            .manager
            .docker(&["service", "ls", "--format", "{{.Name}}"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect()
    }

    /// Every container on every engine of the swarm, running or not.
    pub fn containers(&self) -> Vec<String> {
        std::iter::once(&self.manager)
            .chain(&self.workers)
            .flat_map(|engine| {
                let out = engine.docker(&["ps", "-aq"]);
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        for worker in &self.workers {
            let _ = worker.docker(&["swarm", "leave", "--force"]);
        }
        // The engines themselves go with their own drop.
        let _ = self.manager.docker(&["swarm", "leave", "--force"]);
    }
}
