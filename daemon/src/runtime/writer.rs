//! The actor of one `ImageUpdateAutomation`: on its interval, when a policy of its namespace
//! publishes a new latest image, and on `reconcile`, run the writer (check out, apply the
//! markers, commit, push) and record what happened.
//!
//! Git work is blocking (the `git` CLI), so it runs on the blocking pool; one run at a time
//! per remote and push branch, whichever automations share them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imagebump_writer::git::{CheckoutRef, Signature};
use imagebump_writer::result::{LatestImage, Policies};
use imagebump_writer::run::{self as writer_run, Automation, Outcome};
use sha2::{Digest as _, Sha256};
use tracing::{info, warn};

use super::access::{git_remote, signing_key};
use super::actor::{Command, Ctx, Schedule};
use crate::config::kinds::GitRef;
use crate::config::resolved::{GitRepository, ImageUpdateAutomation, NamespacedName};
use crate::metrics::RunOutcome;
use crate::state::ImageRefRecord;
use crate::time;

/// Policy results published together (one scan feeding several policies, a reload) settle
/// for this long, so they make one commit. The policies of one scan publish within
/// microseconds of each other (they store their result after publishing it); anything slower
/// makes a second commit, which is correct, only less tidy.
const SETTLE: Duration = Duration::from_millis(10);

/// Rejected pushes retried before a run gives up (the branch keeps moving).
const MAX_PUSH_ATTEMPTS: u32 = 10;

/// What a writer needs: the automation, its `GitRepository`, the policies it may write.
#[derive(Debug)]
pub struct Plan {
    /// The automation.
    pub automation: ImageUpdateAutomation,
    /// Its `spec.sourceRef`.
    pub source: GitRepository,
    /// Policies of its namespace that `spec.policySelector` selects.
    pub policies: Vec<NamespacedName>,
}

/// Runs until the inbox closes.
pub async fn run(ctx: Ctx<Plan>) {
    let mut inbox = ctx.inbox.lock().await;
    let mut suspended = ctx.suspended.clone();
    let mut changes = ctx.shared.board.namespace_changes(&ctx.key.namespace);
    // Policies may have published before this writer subscribed (they start first, and a
    // restarted writer missed what happened while it was down): look at them once now.
    changes.mark_changed();
    let mut schedule = Schedule::new(resume_point(&ctx), ctx.object.automation.interval);
    loop {
        let is_suspended = *suspended.borrow_and_update();
        tokio::select! {
            () = tokio::time::sleep_until(schedule.due().into()), if !is_suspended => {
                schedule.ran(Box::pin(run_once(&ctx)).await.is_ok());
            }
            policy_change = changes.changed(), if !is_suspended => {
                if policy_change.is_err() {
                    return;
                }
                tokio::time::sleep(SETTLE).await;
                changes.borrow_and_update();
                schedule.ran(Box::pin(run_once(&ctx)).await.is_ok());
            }
            command = inbox.recv() => match command {
                None => return,
                Some(Command::Reconcile(reply)) => {
                    let result = if is_suspended {
                        Err(format!("ImageUpdateAutomation {} is suspended", ctx.key))
                    } else {
                        let result = Box::pin(run_once(&ctx)).await;
                        schedule.ran(result.is_ok());
                        result
                    };
                    let _ = reply.send(result);
                }
            },
            suspend_change = suspended.changed() => {
                if suspend_change.is_err() {
                    return;
                }
                if !*suspended.borrow() {
                    schedule.now();
                }
            }
        }
    }
}

/// The first interval run is due one interval after the last run before a restart; at once
/// when that run failed (its cause may be fixed now: the restart or reload says so).
fn resume_point(ctx: &Ctx<Plan>) -> Instant {
    let record = ctx.shared.store.automation(&ctx.store_key()).ok().flatten();
    let last = record
        .filter(|r| r.last_error.is_none())
        .and_then(|r| r.last_run_time);
    let remaining = last.map_or(Duration::ZERO, |t| {
        ctx.object.automation.interval.saturating_sub(time::since(t))
    });
    Instant::now() + remaining
}

/// One run, recorded. `Ok` is what happened, for people.
async fn run_once(ctx: &Ctx<Plan>) -> Result<String, String> {
    let started = Instant::now();
    let shared = &ctx.shared;
    let key = ctx.store_key();
    let mut record = shared.store.automation(&key).ok().flatten().unwrap_or_default();
    record.last_run_time = Some(time::now_millis());
    let latest: Vec<(&NamespacedName, LatestImage)> = ctx
        .object
        .policies
        .iter()
        .filter_map(|p| shared.board.latest(p).map(|image| (p, image)))
        .collect();
    // Flux's `observedPolicies` is keyed by policy name; the markers by `namespace:name`.
    record.observed_policies = latest
        .iter()
        .map(|(p, image)| (p.name.clone(), ImageRefRecord::from(image)))
        .collect();
    let policies: Policies = latest
        .into_iter()
        .map(|(p, image)| (format!("{}:{}", p.namespace, p.name), image))
        .collect();
    let result = push(ctx, &policies).await;
    let outcome = match &result {
        Ok(Outcome::UpToDate { revision, .. }) => {
            record.observed_source_revision = Some(revision.clone());
            RunOutcome::UpToDate
        }
        Ok(Outcome::Pushed {
            commit,
            revision,
            branch,
            attempts,
            ..
        }) => {
            record.last_push_commit = Some(commit.clone());
            record.last_push_time = record.last_run_time;
            record.last_push_branch = Some(branch.clone());
            record.observed_source_revision = Some(revision.clone());
            if let Some(webhook) = shared.board.take_webhook(&ctx.key.namespace) {
                shared.metrics.webhook_to_commit(webhook.elapsed());
            }
            RunOutcome::Pushed { attempts: *attempts }
        }
        Err((kind, _)) => {
            shared.metrics.error(kind);
            RunOutcome::Failed
        }
    };
    shared
        .metrics
        .automation_finished(&ctx.key.namespace, &ctx.key.name, started.elapsed(), outcome);
    let reply = match result {
        Ok(outcome) => {
            let (status, event) = describe(&outcome, &ctx.object);
            info!("{event}");
            record.last_error = None;
            record.last_message = Some(status);
            Ok(event)
        }
        Err((_, message)) => {
            warn!(error = %message, "automation run failed");
            record.last_error = Some(message.clone());
            Err(message)
        }
    };
    if let Err(e) = shared.store.put_automation(&key, &record) {
        warn!(error = %e, "cannot store the automation run");
        shared.metrics.error("state");
    }
    reply
}

/// The status line and the event text Flux would give an outcome.
fn describe(outcome: &Outcome, plan: &Plan) -> (String, String) {
    match outcome {
        Outcome::UpToDate { notes, problems, .. } => {
            for (file, note) in notes {
                info!(file, "{note}");
            }
            for (file, problem) in problems {
                warn!(file, "{problem}");
            }
            let text = "repository up-to-date".to_owned();
            (text.clone(), text)
        }
        Outcome::Pushed {
            commit,
            branch,
            message,
            ..
        } => {
            let short: String = commit.chars().take(7).collect();
            let mut status = format!("pushed commit '{short}' to branch '{branch}'");
            if let Some(refspec) = &plan.automation.push_refspec {
                let _ = write!(status, " and refspecs '{refspec}'");
            }
            let event = if message.is_empty() {
                status.clone()
            } else {
                format!("{status}\n{message}")
            };
            (status, event)
        }
    }
}

/// What a run checks out: `spec.git.checkout.ref`, else the `GitRepository`'s ref, else
/// branch `master` (Flux's default).
fn checkout_ref(plan: &Plan) -> CheckoutRef {
    plan.automation
        .checkout
        .as_ref()
        .or(plan.source.git_ref.as_ref())
        .map_or_else(|| CheckoutRef::Branch("master".to_owned()), from_git_ref)
}

/// The one field of a ref Flux uses: commit (with its branch), else name, else tag, else
/// semver, else branch (fluxcd/pkg's clone order). Empty fields count as unset.
fn from_git_ref(git_ref: &GitRef) -> CheckoutRef {
    let set = |field: &Option<String>| field.clone().filter(|v| !v.is_empty());
    if let Some(sha) = set(&git_ref.commit) {
        CheckoutRef::Commit {
            sha,
            branch: set(&git_ref.branch),
        }
    } else if let Some(name) = set(&git_ref.name) {
        CheckoutRef::Name(name)
    } else if let Some(tag) = set(&git_ref.tag) {
        CheckoutRef::Tag(tag)
    } else if let Some(range) = set(&git_ref.semver) {
        CheckoutRef::Semver(range)
    } else {
        CheckoutRef::Branch(set(&git_ref.branch).unwrap_or_else(|| "master".to_owned()))
    }
}

/// Everything that needs Secrets and git. The error carries the metric kind.
async fn push(ctx: &Ctx<Plan>, policies: &Policies) -> Result<Outcome, (&'static str, String)> {
    let plan = Arc::clone(&ctx.object);
    let objects = ctx.shared.objects.borrow().clone();
    let secrets = ctx.shared.secrets(&objects);
    let remote = git_remote(&plan.source, secrets).map_err(|e| ("git_auth", e.to_string()))?;
    let signing = match &plan.automation.signing_key {
        Some((key, kind)) => Some(signing_key(key, kind, secrets).map_err(|e| ("git_auth", e.to_string()))?),
        None => None,
    };
    let lock = ctx
        .shared
        .board
        .git_lock(&remote.url, &plan.automation.push_branch);
    let _one_writer_per_branch = lock.lock().await;
    let cache_dir = clone_dir(&ctx.shared.state_dir, &remote.url, &plan.automation.push_branch);
    let policies = policies.clone();
    let task = tokio::task::spawn_blocking(move || {
        let automation = &plan.automation;
        let checkout = checkout_ref(&plan);
        let refspecs: Vec<String> = automation.push_refspec.iter().cloned().collect();
        let options: Vec<String> = push_options(&automation.push_options);
        let job = Automation {
            namespace: &automation.meta.key.namespace,
            name: &automation.meta.key.name,
            remote,
            checkout,
            push_branch: &automation.push_branch,
            refspecs: &refspecs,
            push_options: &options,
            update_path: &automation.update_path,
            author: Signature {
                name: automation.author_name.clone(),
                email: automation.author_email.clone(),
            },
            signing: signing.as_ref(),
            template: automation.message_template.as_ref(),
            values: &automation.message_template_values,
            max_attempts: MAX_PUSH_ATTEMPTS,
        };
        writer_run::run(&job, &policies, &cache_dir)
    });
    match task.await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => Err((error_kind(&e), e.to_string())),
        Err(e) => Err(("panic", format!("the git run panicked: {e}"))),
    }
}

fn error_kind(error: &writer_run::Error) -> &'static str {
    match error {
        writer_run::Error::Git(_) | writer_run::Error::TooManyRejections { .. } => "git",
        writer_run::Error::Update(_) => "update",
        writer_run::Error::Template(_) => "template",
    }
}

/// `spec.git.push.options` as `git push -o` takes them: `key=value`, or `key` alone.
fn push_options(options: &BTreeMap<String, String>) -> Vec<String> {
    options
        .iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect()
}

/// One cached clone per remote and push branch, under `state_dir/git/`.
fn clone_dir(state_dir: &std::path::Path, url: &str, branch: &str) -> PathBuf {
    let digest = Sha256::new()
        .chain_update(url.as_bytes())
        .chain_update([0])
        .chain_update(branch.as_bytes())
        .finalize();
    state_dir.join("git").join(&hex::encode(digest)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_ref(fields: [Option<&str>; 5]) -> GitRef {
        let [branch, tag, semver, name, commit] = fields.map(|f| f.map(str::to_owned));
        GitRef {
            branch,
            tag,
            semver,
            name,
            commit,
        }
    }

    #[test]
    fn a_ref_with_several_fields_is_read_in_flux_s_order() {
        let sha = "3ebb95cc1f0ee2ad5e0e3c7c3a1b7cf4e8f5a0b1";
        let all = git_ref([
            Some("main"),
            Some("v1"),
            Some("1.x"),
            Some("refs/pull/1/head"),
            Some(sha),
        ]);
        assert_eq!(
            from_git_ref(&all),
            CheckoutRef::Commit {
                sha: sha.to_owned(),
                branch: Some("main".to_owned())
            }
        );
        let no_commit = git_ref([
            Some("main"),
            Some("v1"),
            Some("1.x"),
            Some("refs/pull/1/head"),
            None,
        ]);
        assert_eq!(
            from_git_ref(&no_commit),
            CheckoutRef::Name("refs/pull/1/head".into())
        );
        let tag_and_semver = git_ref([Some("main"), Some("v1"), Some("1.x"), None, Some("")]);
        assert_eq!(from_git_ref(&tag_and_semver), CheckoutRef::Tag("v1".into()));
        let semver = git_ref([Some("main"), None, Some("1.x"), None, None]);
        assert_eq!(from_git_ref(&semver), CheckoutRef::Semver("1.x".into()));
        assert_eq!(
            from_git_ref(&git_ref([None; 5])),
            CheckoutRef::Branch("master".into())
        );
    }
}
