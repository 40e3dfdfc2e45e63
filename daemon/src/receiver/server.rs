//! The receivers' HTTP side: `POST /hook/<digest>` finds the receiver, verifies the request
//! as its type demands, and asks the scanners of the repositories it names (and that the
//! payload's image matches) to scan now. The scan, the policy and the commit follow through
//! the actors' usual channels, so a pushed tag becomes a commit without waiting for any
//! interval.
//!
//! A rejected request costs no more than reading the capped body and one HMAC or token
//! comparison: nothing is stored and nothing is scanned.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use imagebump_registry::ImageRef;
use tokio::sync::watch;
use tracing::{Instrument as _, info, warn};

use super::{GoogleVerifier, ReceiverSecret, Rejection, Verdict, WebhookType, matches, verify};
use crate::config::resolved::{NamespacedName, Objects};
use crate::runtime::Shared;
use crate::runtime::access::Secrets;
use crate::runtime::status::hook_digest;
use crate::time;

/// One receiver, ready to answer.
pub struct Hook {
    /// The `Receiver`.
    pub key: NamespacedName,
    /// `spec.type`.
    pub kind: WebhookType,
    /// The token (and, for `gcr`, audience and email) from `spec.secretRef`.
    pub secret: ReceiverSecret,
    /// `spec.events`.
    pub events: Vec<String>,
    /// The `ImageRepository` objects `spec.resources` selects, with their images.
    pub targets: Vec<(NamespacedName, ImageRef)>,
    /// `spec.suspend`.
    pub suspended: bool,
}

/// Receivers by the hex digest of their path.
pub type Hooks = HashMap<String, Arc<Hook>>;

/// What the route needs.
#[derive(Clone)]
pub struct HookState {
    /// The receivers of the last load.
    pub hooks: watch::Receiver<Arc<Hooks>>,
    /// Board (to request scans), metrics, store.
    pub shared: Arc<Shared>,
    /// Google's keys, for `gcr`.
    pub google: Arc<GoogleVerifier>,
    /// Refusals logged per receiver.
    pub refusals: Arc<RefusalLog>,
}

/// Logs refused requests at most once per receiver every [`RefusalLog::EVERY`], with how many
/// were refused since: anyone who can reach the listener can send bad requests, and one line
/// each would let them fill the disk (the metric still counts every one).
#[derive(Default)]
pub struct RefusalLog {
    last: std::sync::Mutex<HashMap<NamespacedName, (Instant, u64)>>,
}

impl RefusalLog {
    /// One line per receiver per this long, at most.
    const EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// Whether to log this refusal now, and how many went unlogged before it.
    fn should_log(&self, receiver: &NamespacedName) -> Option<u64> {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match last.get_mut(receiver) {
            Some((at, quiet)) if now.duration_since(*at) < Self::EVERY => {
                *quiet += 1;
                None
            }
            Some((at, quiet)) => {
                *at = now;
                Some(std::mem::take(quiet))
            }
            None => {
                last.insert(receiver.clone(), (now, 0));
                Some(0)
            }
        }
    }
}

/// `POST /hook/{digest}`, bodies capped at `max_body` bytes (413 above).
pub fn routes(state: HookState, max_body: usize) -> Router {
    Router::new()
        .route("/hook/{digest}", post(handle))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// The receivers of `objects`, each with its Secret read now. A receiver whose Secret cannot
/// be read is left out (its path answers 404) and logged.
pub fn build(objects: &Objects, secrets: Secrets<'_>) -> Hooks {
    let mut hooks = Hooks::new();
    for (key, receiver) in &objects.receivers {
        // `check` reports unknown types; such a receiver has no path.
        let Ok(kind) = receiver.webhook_type.parse::<WebhookType>() else {
            continue;
        };
        let secret = match receiver_secret(secrets, &receiver.secret_ref) {
            Ok(secret) => secret,
            Err(e) => {
                warn!(receiver = %key, error = %e, "receiver disabled: cannot read its Secret");
                continue;
            }
        };
        let mut targets = Vec::new();
        for resource in &receiver.resources {
            if resource.kind != "ImageRepository" {
                info!(receiver = %key, kind = %resource.kind, "only ImageRepository resources trigger anything here; ignored");
                continue;
            }
            for (repo_key, repository) in &objects.image_repositories {
                let selected = if resource.key.name == "*" {
                    repo_key.namespace == resource.key.namespace
                        && resource
                            .match_labels
                            .iter()
                            .all(|(l, v)| repository.meta.labels.get(l) == Some(v))
                } else {
                    *repo_key == resource.key
                };
                if selected {
                    targets.push((repo_key.clone(), repository.image.clone()));
                }
            }
        }
        let digest = hook_digest(&String::from_utf8_lossy(&secret.token), key);
        hooks.insert(
            digest,
            Arc::new(Hook {
                key: receiver.meta.key.clone(),
                kind,
                secret,
                events: receiver.events.clone(),
                targets,
                suspended: receiver.suspend,
            }),
        );
    }
    hooks
}

/// The token, and for `gcr` the audience and email, of a receiver's Secret.
pub fn receiver_secret(secrets: Secrets<'_>, key: &NamespacedName) -> Result<ReceiverSecret, String> {
    let secret = secrets.get(key).map_err(|e| e.to_string())?;
    let text = |k: &str| -> Result<Option<String>, String> {
        match secret.get(k).map_err(|e| format!("{e:#}"))? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
                .map_err(|_| format!("Secret {key}: {k} is not UTF-8")),
        }
    };
    let token = text("token")?.ok_or_else(|| format!("Secret {key} has no `token` key"))?;
    Ok(ReceiverSecret {
        token: token.into_bytes(),
        audience: text("audience")?,
        email: text("email")?,
    })
}

async fn handle(
    State(state): State<HookState>,
    Path(digest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let received = Instant::now();
    let hook = state.hooks.borrow().get(&digest).cloned();
    let Some(hook) = hook else {
        // Unknown paths share one label value: random paths must not grow the metric.
        state.shared.metrics.webhook_request("", "", "not_found");
        return StatusCode::NOT_FOUND;
    };
    let span = tracing::info_span!("receiver", kind = "Receiver", namespace = %hook.key.namespace, name = %hook.key.name);
    let (status, outcome) = respond(&state, &hook, &headers, &body, received)
        .instrument(span)
        .await;
    state
        .shared
        .metrics
        .webhook_request(&hook.key.to_string(), &hook.kind.to_string(), outcome);
    status
}

/// The answer to a request for `hook`, and the metric's outcome label.
async fn respond(
    state: &HookState,
    hook: &Hook,
    headers: &HeaderMap,
    body: &[u8],
    received: Instant,
) -> (StatusCode, &'static str) {
    if hook.suspended {
        return (StatusCode::SERVICE_UNAVAILABLE, "suspended");
    }
    let images = match verify(
        hook.kind,
        &hook.secret,
        &hook.events,
        headers,
        body,
        &state.google,
    )
    .await
    {
        Err(rejection) => {
            let (outcome, reason) = match &rejection {
                Rejection::Unauthorized(reason) => ("unauthorized", reason),
                Rejection::BadRequest(reason) => ("bad_request", reason),
                Rejection::Unavailable(reason) => ("unavailable", reason),
            };
            let status = rejection.status();
            if let Some(unlogged) = state.refusals.should_log(&hook.key) {
                warn!(%reason, status = status.as_u16(), unlogged, "webhook refused");
            }
            return (status, outcome);
        }
        Ok(Verdict::Ignore(reason)) => {
            info!(%reason, "webhook ignored");
            return (StatusCode::OK, "ignored");
        }
        Ok(Verdict::Accept { images }) => images,
    };
    // Scan the resources the payload's images match; when it names none of them (a mirror,
    // a payload this receiver's resources do not spell alike), scan them all, as Flux does.
    let matching: Vec<_> = hook
        .targets
        .iter()
        .filter(|(_, image)| images.iter().any(|pushed| matches(pushed, image)))
        .collect();
    let chosen = if matching.is_empty() {
        hook.targets.iter().collect()
    } else {
        matching
    };
    let mut scans = Vec::new();
    for (target, _) in chosen {
        state.shared.board.note_webhook(&target.namespace, received);
        state.shared.board.request_scan(target);
        scans.push(target.to_string());
    }
    let pushed: Vec<String> = images
        .iter()
        .map(|i| format!("{}:{}", i.repository, i.tag.as_deref().unwrap_or("*")))
        .collect();
    info!(?pushed, ?scans, "webhook accepted");
    // The store's commit waits for the disk; the sender need not.
    let shared = Arc::clone(&state.shared);
    let key = hook.key.to_string();
    tokio::task::spawn_blocking(move || record(&shared, &key));
    (StatusCode::ACCEPTED, "accepted")
}

/// Counts an accepted event in the store (shown by `imagebump get receivers`).
fn record(shared: &Shared, receiver: &str) {
    let mut record = shared.store.receiver(receiver).ok().flatten().unwrap_or_default();
    record.last_event_time = Some(time::now_millis());
    record.events_accepted += 1;
    if let Err(e) = shared.store.put_receiver(receiver, &record) {
        warn!(error = %e, "cannot record the webhook event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_logged_once_per_receiver_then_counted() {
        let log = RefusalLog::default();
        let key = |name: &str| NamespacedName {
            namespace: "flux-system".to_owned(),
            name: name.to_owned(),
        };
        assert_eq!(log.should_log(&key("a")), Some(0));
        assert_eq!(log.should_log(&key("a")), None);
        assert_eq!(log.should_log(&key("a")), None);
        assert_eq!(
            log.should_log(&key("b")),
            Some(0),
            "each receiver has its own budget"
        );
        // Ten seconds later the next refusal is logged with the count of the quiet ones.
        if let Some((at, _)) = log.last.lock().unwrap().get_mut(&key("a")) {
            *at -= RefusalLog::EVERY;
        }
        assert_eq!(log.should_log(&key("a")), Some(2));
    }
}
