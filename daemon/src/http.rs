//! The daemon's HTTP listener: `/healthz`, `/readyz`, `/metrics`, and later the webhook
//! receivers, all on one axum router.
//!
//! `/healthz` answers as long as the process serves requests (a liveness probe must not fail
//! because a registry is down); `/readyz` reflects [`Health`], published by the runtime over a
//! `watch` channel; `/metrics` is the [`Metrics`] registry in `OpenMetrics` text.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;

/// The content type Prometheus negotiates for the `OpenMetrics` text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether the daemon can do its work, as `/readyz` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Objects or the state store are still loading.
    Starting,
    /// Objects are loaded and the state store is open.
    Ready,
    /// Not ready, and why (shown as the `/readyz` body).
    NotReady(String),
}

/// What the handlers read: shared metrics and the latest published health.
#[derive(Clone, Debug)]
pub struct HttpState {
    /// The daemon's metrics, encoded on each scrape.
    pub metrics: Arc<Metrics>,
    /// The runtime's latest readiness.
    pub health: watch::Receiver<Health>,
}

/// Why the HTTP listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {reason}; set [http] listen in imagebump.toml")]
    Bind {
        /// The address from `[http] listen`.
        addr: SocketAddr,
        /// Why, in a few words.
        reason: String,
    },
}

/// Binds `addr` for [`serve`]; the error names the address and the setting that chooses it.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, HttpError> {
    TcpListener::bind(addr).await.map_err(|error| HttpError::Bind {
        addr,
        reason: bind_reason(&error),
    })
}

// The io::Error text ("Address already in use (os error 98)") is fine for rarer causes, but the
// common ones read better in the user's terms.
fn bind_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "address in use".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => "address not available on this host".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => error.to_string(),
    }
}

/// The router for health, readiness and metrics.
///
/// It has no state left to supply, so other routers merge into it: the webhook receivers add
/// theirs with `http::router(state).merge(receivers_router)` (routes `/hook/{digest}`). Paths
/// no router claims answer 404.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<HttpState>) -> (StatusCode, String) {
    // Cloned at once so the watch lock is never held while the response is written.
    let health = state.health.borrow().clone();
    match health {
        Health::Ready => (StatusCode::OK, "ready".to_owned()),
        Health::Starting => (StatusCode::SERVICE_UNAVAILABLE, "starting".to_owned()),
        Health::NotReady(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, OPENMETRICS)], state.metrics.encode())
}

#[cfg(test)]
mod tests;
