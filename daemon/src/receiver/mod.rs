//! Flux notification-controller `Receiver`s: push-triggered scans.
//!
//! `verify` checks one webhook request the way notification-controller does for each receiver
//! type (signature, token or Google OIDC token) and reads which images the payload names, so the
//! caller can scan just the matching `ImageRepository` objects (`matches`) instead of every listed
//! resource. `server` is the HTTP route and the receiver table; the scans it asks for go through
//! the runtime's board to the scanners.

mod google;
mod payload;
pub mod server;
mod verify;

#[cfg(test)]
mod tests;

pub use google::GoogleVerifier;
pub use payload::matches;
pub use verify::{ReceiverSecret, Rejection, Verdict, WebhookType, verify};
