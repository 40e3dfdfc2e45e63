//! One automation run, Flux's `ImageUpdateAutomation` reconcile in numbered steps: check out,
//! apply the setters, commit with the message template, push; on a rejected push, start again
//! from the new tip so no change is lost and nothing is forced.

use std::collections::BTreeMap;
use std::path::Path;

use crate::git::{self, CheckoutRef, Remote, Repository, Signature, SigningKey};
use crate::message::{self, MessageData};
use crate::result::{Policies, UpdateResult};
use crate::setters::{self, Note, Problem};
use crate::template::{ExecError, Template};

/// What an automation asks for (the parts of `ImageUpdateAutomation` and `GitRepository` a
/// run needs).
#[derive(Debug, Clone)]
pub struct Automation<'a> {
    /// Namespace of the automation (for `.AutomationObject`).
    pub namespace: &'a str,
    /// Name of the automation.
    pub name: &'a str,
    /// The remote and its credentials.
    pub remote: Remote,
    /// `spec.git.checkout.ref` (or the `GitRepository`'s `spec.ref`; `master` without either).
    pub checkout: CheckoutRef,
    /// `spec.git.push.branch`, defaulting to the checkout branch (required for other refs).
    pub push_branch: &'a str,
    /// `spec.git.push.refspec`, pushed in addition to the branch.
    pub refspecs: &'a [String],
    /// `spec.git.push.options`.
    pub push_options: &'a [String],
    /// `spec.update.path`.
    pub update_path: &'a str,
    /// `spec.git.commit.author`.
    pub author: Signature,
    /// `spec.git.commit.signingKey`, read from its Secret; `None` for unsigned commits.
    pub signing: Option<&'a SigningKey>,
    /// `spec.git.commit.messageTemplate`, compiled; `None` for Flux's default message.
    pub template: Option<&'a Template>,
    /// `spec.git.commit.messageTemplateValues`.
    pub values: &'a BTreeMap<String, String>,
    /// How many times to start over after a rejected push.
    pub max_attempts: u32,
}

/// What a run did.
#[derive(Debug)]
pub enum Outcome {
    /// Every marked value was already up to date: no commit.
    UpToDate {
        /// The commit checked out.
        commit: String,
        /// Flux's `observedSourceRevision`: the checkout ref's commit
        /// ([`git::CheckedOut::revision`]).
        revision: String,
        /// Markers and files that were not applied, and why.
        notes: Vec<(String, Note)>,
        /// Files skipped.
        problems: Vec<(String, Problem)>,
    },
    /// A commit was pushed.
    Pushed {
        /// The commit.
        commit: String,
        /// Flux's `observedSourceRevision`: the pushed commit when the push went to the branch
        /// checked out (`main@sha1:<pushed>`), else the checkout ref's commit
        /// ([`git::CheckedOut::revision`]).
        revision: String,
        /// The branch it went to.
        branch: String,
        /// What changed.
        result: UpdateResult,
        /// The commit message.
        message: String,
        /// Attempts it took (1 unless pushes were rejected).
        attempts: u32,
        /// Markers and files that were not applied, and why.
        notes: Vec<(String, Note)>,
        /// Files skipped.
        problems: Vec<(String, Problem)>,
    },
}

/// A run failed; nothing was pushed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] git::Error),
    /// The setters could not run (bad update path, write failure).
    #[error(transparent)]
    Update(#[from] setters::UpdateError),
    /// The message template failed on this data.
    #[error("failed to run the commit message template: {0}")]
    Template(#[from] ExecError),
    /// Every attempt was rejected because the branch kept moving.
    #[error("gave up after {attempts} rejected pushes to {branch}")]
    TooManyRejections {
        /// The branch.
        branch: String,
        /// Attempts made.
        attempts: u32,
    },
}

impl Error {
    /// Whether a later run may succeed without a configuration change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Git(e) => e.is_transient(),
            Error::Update(e) => e.is_transient(),
            Error::Template(e) => e.is_transient(),
            Error::TooManyRejections { .. } => true,
        }
    }
}

/// Runs an automation once in the clone kept at `cache_dir`.
pub fn run(automation: &Automation<'_>, policies: &Policies, cache_dir: &Path) -> Result<Outcome, Error> {
    let repo = Repository::open(cache_dir, automation.remote.clone())?;
    let attempts = automation.max_attempts.max(1);
    for attempt in 1..=attempts {
        // 1. Check out the push branch if it exists, else start it at the checkout ref.
        let checked_out = repo.checkout(&automation.checkout, automation.push_branch)?;
        // 2. Apply the setters to the working tree.
        let report = setters::update(repo.workdir(), automation.update_path, policies)?;
        if report.result.is_empty() {
            return Ok(Outcome::UpToDate {
                commit: checked_out.commit,
                revision: checked_out.revision,
                notes: report.notes,
                problems: report.problems,
            });
        }
        // 3. Render the message from what changed.
        let data = MessageData {
            namespace: automation.namespace,
            name: automation.name,
            result: &report.result,
            policies,
            values: automation.values,
        };
        let message = message::render(automation.template, &data)?;
        // 4. Commit; an edit that changes nothing git sees (e.g. line endings) is no commit.
        let Some(_) = repo.commit_signed(&message, &automation.author, automation.signing)? else {
            return Ok(Outcome::UpToDate {
                commit: checked_out.commit,
                revision: checked_out.revision,
                notes: report.notes,
                problems: report.problems,
            });
        };
        // 5. Push; a rejection means someone else pushed first: start over from their tip.
        match repo.push(
            automation.push_branch,
            automation.refspecs,
            automation.push_options,
        ) {
            Ok(pushed) => {
                // Flux records the pushed commit only when it moved the checked-out branch.
                let revision = if automation.checkout.branch() == Some(automation.push_branch) {
                    format!("{}@sha1:{}", automation.push_branch, pushed.commit)
                } else {
                    checked_out.revision
                };
                return Ok(Outcome::Pushed {
                    commit: pushed.commit,
                    revision,
                    branch: pushed.branch,
                    result: report.result,
                    message,
                    attempts: attempt,
                    notes: report.notes,
                    problems: report.problems,
                });
            }
            Err(git::Error::Rejected { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::TooManyRejections {
        branch: automation.push_branch.to_owned(),
        attempts,
    })
}
