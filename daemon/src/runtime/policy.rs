//! The actor of one `ImagePolicy`: whenever its repository publishes a new tag set (and on
//! `reconcile`, after a resume, and on its interval with `digestReflectionPolicy: Always`),
//! select the latest tag, resolve its digest if asked, store and publish the result.
//!
//! A changed result wakes the automations of the namespace. That is also how a revert works:
//! a narrower range selects an older tag, which is published like any other change.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imagebump_registry::digest;
use imagebump_writer::result::LatestImage;
use tracing::{info, warn};

use super::actor::{Command, Ctx};
use super::board::TagSnapshot;
use crate::config::resolved::{ImagePolicy, ImageRepository};
use crate::metrics::SelectionOutcome;
use crate::state::{ImageRefRecord, PolicyRecord};
use crate::time;

/// Flux re-resolves digests every 10 minutes under `Always` when no interval is given.
const DEFAULT_DIGEST_INTERVAL: Duration = Duration::from_mins(10);

/// Runs until the inbox closes.
pub async fn run(ctx: Ctx<ImagePolicy>) {
    let mut inbox = ctx.inbox.lock().await;
    let mut suspended = ctx.suspended.clone();
    let mut tags = ctx.shared.board.tags(&ctx.object.repository);
    tags.mark_changed();
    let always = ctx.object.digest_reflection_policy == "Always";
    let digest_interval = ctx.object.interval.unwrap_or(DEFAULT_DIGEST_INTERVAL);
    let mut next_digest = Instant::now() + digest_interval;
    loop {
        let is_suspended = *suspended.borrow_and_update();
        tokio::select! {
            changed = tags.changed(), if !is_suspended => {
                if changed.is_err() {
                    return;
                }
                let snapshot = tags.borrow_and_update().clone();
                let _ = Box::pin(evaluate(&ctx, snapshot, false)).await;
            }
            () = tokio::time::sleep_until(next_digest.into()), if always && !is_suspended => {
                next_digest = Instant::now() + digest_interval;
                let snapshot = tags.borrow().clone();
                let _ = Box::pin(evaluate(&ctx, snapshot, true)).await;
            }
            command = inbox.recv() => match command {
                None => return,
                Some(Command::Reconcile(reply)) => {
                    let result = if is_suspended {
                        Err(format!("ImagePolicy {} is suspended", ctx.key))
                    } else {
                        let snapshot = tags.borrow().clone();
                        Box::pin(evaluate(&ctx, snapshot, true)).await
                    };
                    let _ = reply.send(result);
                }
            },
            changed = suspended.changed() => {
                if changed.is_err() {
                    return;
                }
                if !*suspended.borrow() {
                    tags.mark_changed();
                }
            }
        }
    }
}

/// Selects, stores and publishes. `Ok` is the status message.
async fn evaluate(
    ctx: &Ctx<ImagePolicy>,
    snapshot: Option<Arc<TagSnapshot>>,
    refresh_digest: bool,
) -> Result<String, String> {
    let shared = &ctx.shared;
    let key = ctx.store_key();
    let mut record = match shared.store.policy(&key) {
        Ok(record) => record.unwrap_or_default(),
        Err(e) => {
            warn!(error = %e, "stored policy result unreadable; replacing it");
            PolicyRecord::default()
        }
    };
    let result = select(ctx, snapshot.as_deref(), &record, refresh_digest).await;
    let outcome = match &result {
        Ok(latest) => {
            let changed = record.latest.as_ref() != Some(latest);
            if changed {
                record.previous = record.latest.replace(latest.clone());
            }
            record.tag_revision = snapshot.as_ref().map(|s| s.revision.clone()).unwrap_or_default();
            record.select_time = Some(time::now_millis());
            record.last_error = None;
            if changed {
                let message = resolved_message(latest, record.previous.as_ref());
                info!(tag = %latest.tag, previous = record.previous.as_ref().map(|p| p.tag.as_str()), "{message}");
                SelectionOutcome::Changed
            } else {
                SelectionOutcome::Unchanged
            }
        }
        Err((outcome, message)) => {
            warn!(error = %message, "no latest image");
            record.last_error = Some(message.clone());
            *outcome
        }
    };
    shared
        .metrics
        .policy_selected(&ctx.key.namespace, &ctx.key.name, outcome);
    // Published before it is stored: the policies of one repository then publish within
    // microseconds of each other, and the writer's short settle catches them all. (A crash
    // in between loses nothing: after a restart the policy selects again from stored tags.)
    // On failure the previous result stays published, as Flux keeps `latestRef`.
    if let Some(latest) = &record.latest {
        shared
            .board
            .publish_latest(&ctx.key, Some(LatestImage::from(latest)));
    }
    if let Err(e) = shared.store.put_policy(&key, &record) {
        warn!(error = %e, "cannot store the policy result");
        shared.metrics.error("state");
    }
    match result {
        Ok(latest) => Ok(resolved_message(&latest, record.previous.as_ref())),
        Err((_, message)) => Err(message),
    }
}

/// Flux's Ready message: `Latest image tag for 'IMG' resolved to TAG`, the digest and the
/// previous image when there are.
pub fn resolved_message(latest: &ImageRefRecord, previous: Option<&ImageRefRecord>) -> String {
    let mut message = format!(
        "Latest image tag for '{}' resolved to {}",
        latest.name, latest.tag
    );
    if !latest.digest.is_empty() {
        let _ = write!(message, " with digest {}", latest.digest);
    }
    if let Some(previous) = previous.filter(|p| *p != latest) {
        let _ = write!(message, " (previously {})", LatestImage::from(previous).full());
    }
    message
}

async fn select(
    ctx: &Ctx<ImagePolicy>,
    snapshot: Option<&TagSnapshot>,
    record: &PolicyRecord,
    refresh_digest: bool,
) -> Result<ImageRefRecord, (SelectionOutcome, String)> {
    let policy = &ctx.object;
    let objects = ctx.shared.objects.borrow().clone();
    let Some(repository) = objects.image_repositories.get(&policy.repository) else {
        return Err((
            SelectionOutcome::Failed,
            format!("referenced ImageRepository {} does not exist", policy.repository),
        ));
    };
    let Some(snapshot) = snapshot else {
        return Err((
            SelectionOutcome::NoMatch,
            format!(
                "no tags in database yet: waiting for ImageRepository {} to be scanned",
                policy.repository
            ),
        ));
    };
    let selection = policy.policy.select(&snapshot.tags).map_err(|e| {
        (
            SelectionOutcome::Failed,
            format!("failed to evaluate the policy: {e}"),
        )
    })?;
    let Some(tag) = selection.tag() else {
        let reason = selection.no_match().map(|r| r.to_string()).unwrap_or_default();
        return Err((
            SelectionOutcome::NoMatch,
            format!("unable to determine latest version from provided list: {reason}"),
        ));
    };
    let mut latest = ImageRefRecord {
        name: repository.image_name.clone(),
        tag: tag.to_owned(),
        digest: String::new(),
    };
    let reuse = record
        .latest
        .as_ref()
        .filter(|l| l.name == latest.name && l.tag == latest.tag && !l.digest.is_empty());
    latest.digest = match (policy.digest_reflection_policy.as_str(), reuse) {
        ("IfNotPresent", Some(stored)) => stored.digest.clone(),
        ("Always", Some(stored)) if !refresh_digest => stored.digest.clone(),
        ("IfNotPresent" | "Always", _) => resolve_digest(ctx, repository, tag).await?,
        _ => String::new(),
    };
    Ok(latest)
}

async fn resolve_digest(
    ctx: &Ctx<ImagePolicy>,
    repository: &ImageRepository,
    tag: &str,
) -> Result<String, (SelectionOutcome, String)> {
    let failed = |e: String| {
        (
            SelectionOutcome::Failed,
            format!("failed to resolve the digest of {tag}: {e}"),
        )
    };
    let access = ctx
        .shared
        .registry_access(repository)
        .await
        .map_err(|e| failed(e.to_string()))?;
    digest(
        &access.client,
        &repository.image,
        tag,
        &access.credential,
        &access.options,
    )
    .await
    .map_err(|e| failed(e.to_string()))
}
