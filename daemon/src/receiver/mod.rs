//! Flux notification-controller `Receiver`s: push-triggered scans.
//!
//! `verify` checks one webhook request the way notification-controller does for each receiver
//! type (signature, token or Google OIDC token) and reads which images the payload names, so the
//! caller can scan just the matching `ImageRepository` objects (`matches`) instead of every listed
//! resource. The HTTP route, the receiver table and the wiring into the scanners live elsewhere.

mod google;
mod payload;
mod verify;

#[cfg(test)]
mod tests;

// Used once the server module routes requests here.
#[allow(unused_imports, reason = "wired into the daemon by the runtime change")]
pub use google::{GOOGLE_JWKS_URL, GoogleVerifier};
#[allow(unused_imports, reason = "wired into the daemon by the runtime change")]
pub use payload::{PushedImage, matches};
#[allow(unused_imports, reason = "wired into the daemon by the runtime change")]
pub use verify::{ReceiverSecret, Rejection, UnknownWebhookType, Verdict, WebhookType, verify};
