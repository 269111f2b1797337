//! ltc's integration tests: one binary (`autotests = false`).
//!
//! - `cli`: the built binary's usage errors and scripting contract (no Docker needed).
//! - `docker`: the node and commands against the real Docker engine.
//! - `engine`: one contract, run against both the fake and the Docker engine.
//!
//! Tests that need Docker fail loudly when the engine does not answer; they never skip.

mod support;

mod cli;
mod docker;
mod engine;
