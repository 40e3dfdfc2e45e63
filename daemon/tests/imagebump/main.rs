//! End-to-end tests of the `imagebump` binary: each module drives one command as a user would.

mod check;
mod control;
mod create;
mod credentials;
mod daemon;
mod daemon_support;
mod policy_select;
mod refresh_script;
mod scan;
mod support;
mod update;
mod webhooks;
