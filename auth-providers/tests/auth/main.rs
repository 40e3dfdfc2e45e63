//! Integration tests for `imagebump-auth`, one module per source module they exercise.

// Tests may unwrap: a panic there is the failure report. clippy.toml's `allow-unwrap-in-tests`
// covers `#[test]` functions only, not the helpers and child-process bodies here.
#![allow(clippy::unwrap_used)]

mod cloud;
mod host_docker_config;
mod provider;
