//! The node's logic against the fake engine: fast, no Docker.
