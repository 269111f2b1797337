//! ltc's integration tests: one binary (`autotests = false`).
//!
//! - `cli`: the built binary's usage errors and scripting contract (no Docker needed).
//! - `dashboard`: the page at `ltc.localhost` in a real headless Chromium (chromedriver).
//! - `deploy`: update, rollback, restart, history and builds, under load.
//! - `docker`: the node and commands against the real Docker engine.
//! - `edge`: HTTPS, sticky sessions, metrics and per-app timeouts, with curl and openssl.
//! - `engine`: one contract, run against both the fake and the Docker engine.
//! - `inside`: `ltc ssh` into real containers, through a pseudo-terminal too.
//! - `health`: monitors and self-healing against real containers.
//! - `observe`: logs, events, debug-logs, cells, visualize and status against real containers.
//! - `router`: the router's HTTP and TCP rules against real sockets and in-process backends.
//! - `routing`: the router inside the node, in front of real containers.
//! - `service`: node restarts that refuse nothing, `daemon stop`, the systemd unit.
//! - `snapshots`: what each reporting command prints, human and JSON.
//! - `swarm`: the engine contract and the apps' life on Swarms of private engines.
//!
//! Tests that need Docker fail loudly when the engine does not answer; they never skip.

mod support;

mod cli;
mod dashboard;
mod deploy;
mod docker;
mod edge;
mod engine;
mod health;
mod inside;
mod observe;
mod router;
mod routing;
mod service;
mod snapshots;
mod swarm;
