//! The scanner of one `ImageRepository`: on its interval, on `reconcile` and after a resume,
//! list the tags, store them and publish them to the repository's policies.

use std::time::Instant;

use imagebump_registry::{TagSet, list_tags};
use tracing::{info, warn};

use super::actor::{Command, Ctx, Schedule};
use super::board::TagSnapshot;
use crate::config::resolved::ImageRepository;
use crate::state::RepositoryRecord;
use crate::time;

/// Runs until the inbox closes.
pub async fn run(ctx: Ctx<ImageRepository>) {
    let mut inbox = ctx.inbox.lock().await;
    let mut suspended = ctx.suspended.clone();
    let mut requests = ctx.shared.board.scan_requests(&ctx.key);
    let mut schedule = Schedule::new(resume_point(&ctx), ctx.object.interval);
    loop {
        let is_suspended = *suspended.borrow_and_update();
        tokio::select! {
            () = tokio::time::sleep_until(schedule.due().into()), if !is_suspended => {
                schedule.ran(Box::pin(scan(&ctx)).await.is_ok());
            }
            requested = requests.changed(), if !is_suspended => {
                if requested.is_err() {
                    return;
                }
                requests.borrow_and_update();
                schedule.ran(Box::pin(scan(&ctx)).await.is_ok());
            }
            command = inbox.recv() => match command {
                None => return,
                Some(Command::Reconcile(reply)) => {
                    let result = if is_suspended {
                        Err(format!("ImageRepository {} is suspended", ctx.key))
                    } else {
                        let result = Box::pin(scan(&ctx)).await;
                        schedule.ran(result.is_ok());
                        result.map(|n| format!("scan fetched {n} tags"))
                    };
                    // The caller may have gone away; the scan counts all the same.
                    let _ = reply.send(result);
                }
            },
            changed = suspended.changed() => {
                if changed.is_err() {
                    return;
                }
                if !*suspended.borrow() {
                    schedule.now();
                }
            }
        }
    }
}

/// Publishes the stored tags and says when to scan: at once when nothing usable is stored,
/// else when the interval since the last scan runs out, so a restart causes no scan storm.
fn resume_point(ctx: &Ctx<ImageRepository>) -> Instant {
    let repository = &ctx.object;
    let record = match ctx.shared.store.repository(&ctx.store_key()) {
        Ok(record) => record,
        Err(e) => {
            warn!(error = %e, "cannot read the stored scan; scanning now");
            None
        }
    };
    let Some(record) = record else {
        return Instant::now();
    };
    let same_config = record.canonical_image_name == repository.image.canonical_name()
        && record
            .observed_exclusion_list
            .iter()
            .map(String::as_str)
            .eq(repository.exclusions.patterns());
    let Some(scan_time) = record
        .scan_time
        .filter(|_| same_config && !record.tags.is_empty())
    else {
        return Instant::now();
    };
    let tags = record.tags.len();
    ctx.shared.board.publish_tags(
        &ctx.key,
        TagSnapshot {
            tags: record.tags,
            revision: record.revision,
        },
    );
    let remaining = repository.interval.saturating_sub(time::since(scan_time));
    info!(tags, next_scan_in = ?remaining, "resumed from the stored scan");
    Instant::now() + remaining
}

/// One scan. `Ok` is the number of tags kept.
async fn scan(ctx: &Ctx<ImageRepository>) -> Result<usize, String> {
    let started = Instant::now();
    let result = list(ctx).await;
    let shared = &ctx.shared;
    let key = ctx.store_key();
    let now = Some(time::now_millis());
    let (record, failure) = match result {
        Ok(set) => {
            let count = set.len();
            let (tags, revision) = set.into_parts();
            info!(tags = count, revision, "successful scan: found {count} tags");
            // A success replaces the whole record: the stored one need not be read.
            let record = RepositoryRecord {
                tags,
                revision,
                canonical_image_name: ctx.object.image.canonical_name(),
                observed_exclusion_list: ctx.object.exclusions.patterns().map(str::to_owned).collect(),
                scan_time: now,
                last_attempt: now,
                last_error: None,
            };
            (record, None)
        }
        Err((kind, message)) => {
            warn!(error = %message, "scan failed");
            shared.metrics.error(kind);
            // A failure keeps the last good tags and says why this attempt failed.
            let mut record = match shared.store.repository(&key) {
                Ok(record) => record.unwrap_or_default(),
                Err(e) => {
                    warn!(error = %e, "stored scan unreadable; replacing it");
                    RepositoryRecord::default()
                }
            };
            record.last_attempt = now;
            record.last_error = Some(message.clone());
            (record, Some(message))
        }
    };
    if let Err(e) = shared.store.put_repository(&key, &record) {
        warn!(error = %e, "cannot store the scan");
        shared.metrics.error("state");
    }
    shared.metrics.scan_finished(
        &ctx.key.namespace,
        &ctx.key.name,
        started.elapsed(),
        failure.is_none().then_some(record.tags.len()),
    );
    if let Some(message) = failure {
        return Err(message);
    }
    let count = record.tags.len();
    shared.board.publish_tags(
        &ctx.key,
        TagSnapshot {
            tags: record.tags,
            revision: record.revision,
        },
    );
    Ok(count)
}

/// Credentials, then every page of tags, then the exclusion list. The error carries the
/// metric kind and the message shown in status.
async fn list(ctx: &Ctx<ImageRepository>) -> Result<TagSet, (&'static str, String)> {
    let repository = &ctx.object;
    let access = ctx
        .shared
        .registry_access(repository)
        .await
        .map_err(|e| ("registry_auth", e.to_string()))?;
    // A bounded number of scans at a time, a few per registry: a thousand repositories due
    // together queue here instead of all holding connections and buffers at once.
    let _turn = ctx
        .shared
        .scan_budget
        .acquire(repository.image.registry())
        .await
        .map_err(|e| ("registry", e.to_string()))?;
    let tags = list_tags(
        &access.client,
        &repository.image,
        &access.credential,
        &access.options,
    )
    .await
    .map_err(|e| ("registry", e.to_string()))?;
    Ok(TagSet::new(tags, &repository.exclusions))
}
