//! Which commit a run starts from: Flux's checkout refs (branch, tag, semver range, ref name,
//! commit) and its push-branch rule.
//!
//! Flux clones the checkout ref, then, when the push branch differs from it, switches to the
//! push branch: to the remote push branch's tip when that exists (so later updates stack on
//! earlier ones and nothing on it is lost), else a new branch at the checked-out commit. The
//! revision Flux records (`observedSourceRevision`) is always the checkout ref's commit, named
//! after the ref.

use std::collections::BTreeMap;
use std::fmt;

use imagebump_policy::{BuildError, Policy};

use super::{CheckedOut, Error, Repository, check_ref};

/// Where the fetched checkout ref is kept: one private ref, overwritten by every run.
const FETCHED: &str = "refs/imagebump/checkout";

/// What a run checks out: Flux's `spec.git.checkout.ref` (or the `GitRepository`'s
/// `spec.ref`). When a ref sets several fields, Flux takes commit, then name, then tag, then
/// semver, then branch; build the one it would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutRef {
    /// `branch`: the tip of `refs/heads/<branch>`.
    Branch(String),
    /// `tag`: the commit `refs/tags/<tag>` points at (annotated tags peeled).
    Tag(String),
    /// `semver`: the highest tag inside this Masterminds range.
    Semver(String),
    /// `name`: a full ref name (`refs/heads/x`, `refs/tags/v1`, `refs/pull/1/head`).
    Name(String),
    /// `commit`: a full commit id, optionally with the `branch` it is on (Flux then fetches
    /// only that branch, and names the revision after it).
    Commit {
        /// The commit id (40 hex digits; 64 for SHA-256 repositories).
        sha: String,
        /// `branch`, when given together with `commit`.
        branch: Option<String>,
    },
}

impl CheckoutRef {
    /// The branch a run pushing to that same branch works on in place; `None` for refs that are
    /// not branches (any push branch is then a new or existing branch of its own).
    #[must_use]
    pub fn branch(&self) -> Option<&str> {
        match self {
            CheckoutRef::Branch(branch) => Some(branch),
            _ => None,
        }
    }

    /// Refuses what git would misread as an option or cannot hold as a ref.
    fn check(&self) -> Result<(), Error> {
        match self {
            CheckoutRef::Branch(name) | CheckoutRef::Tag(name) | CheckoutRef::Name(name) => check_ref(name),
            CheckoutRef::Semver(_) => Ok(()),
            CheckoutRef::Commit { sha, branch } => {
                let full = matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit());
                if !full {
                    return Err(Error::InvalidCommit(sha.chars().take(100).collect()));
                }
                branch.as_deref().map_or(Ok(()), check_ref)
            }
        }
    }

    /// What `git ls-remote` is asked for (tags also with their peeled `^{}` line).
    fn patterns(&self) -> Vec<String> {
        match self {
            CheckoutRef::Branch(branch) => vec![format!("refs/heads/{branch}")],
            CheckoutRef::Tag(tag) => vec![format!("refs/tags/{tag}"), format!("refs/tags/{tag}^{{}}")],
            CheckoutRef::Semver(_) => vec!["refs/tags/*".to_owned()],
            CheckoutRef::Name(name) => vec![name.clone(), format!("{name}^{{}}")],
            CheckoutRef::Commit { .. } => Vec::new(),
        }
    }
}

impl fmt::Display for CheckoutRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckoutRef::Branch(branch) => write!(f, "branch {branch:?}"),
            CheckoutRef::Tag(tag) => write!(f, "tag {tag:?}"),
            CheckoutRef::Semver(range) => write!(f, "semver range {range:?}"),
            CheckoutRef::Name(name) => write!(f, "ref {name:?}"),
            CheckoutRef::Commit { sha, branch: None } => write!(f, "commit {sha}"),
            CheckoutRef::Commit {
                sha,
                branch: Some(branch),
            } => write!(f, "commit {sha} on branch {branch:?}"),
        }
    }
}

/// The checkout ref as the remote lists it.
struct Resolved {
    /// The full ref name the revision is named after (`refs/tags/v1`); `None` for a bare commit.
    reference: Option<String>,
    /// The commit it points at, as listed (peeled); the fetch may find a newer one.
    commit: String,
    /// What to fetch: a ref name, or `None` to fetch the commit by id.
    source: Option<String>,
}

impl Repository {
    /// Fetches what `checkout` names and checks out `push_branch` where Flux would start: at
    /// the remote push branch's tip when it exists, else at the checkout ref's commit (a new
    /// branch). Leaves a clean working tree. Fails, naming the ref, when the ref does not
    /// exist, even when the push branch does.
    pub fn checkout(&self, checkout: &CheckoutRef, push_branch: &str) -> Result<CheckedOut, Error> {
        checkout.check()?;
        check_ref(push_branch)?;
        if checkout.branch() == Some(push_branch) {
            return self.checkout_in_place(push_branch);
        }
        let push_ref = format!("refs/heads/{push_branch}");
        let mut patterns = checkout.patterns();
        patterns.push(push_ref.clone());
        let listed = self.ls_remote(&patterns)?;
        let resolved = resolve(checkout, &listed)?;
        let push_branch_existed = listed.contains_key(&push_ref);
        let fetched = match &resolved.source {
            // The ref exists (ls-remote said so); only the start needs its objects.
            Some(_) if push_branch_existed => None,
            Some(source) => Some(self.fetch_ref(source)?),
            None => {
                // Nothing but a fetch proves a commit exists.
                self.fetch_commit(&resolved.commit, checkout)?;
                Some(resolved.commit.clone())
            }
        };
        let start = if push_branch_existed {
            self.fetch(push_branch)?;
            format!("refs/remotes/origin/{push_branch}")
        } else {
            fetched.clone().unwrap_or_else(|| resolved.commit.clone())
        };
        self.switch(push_branch, &start)?;
        let commit = fetched.unwrap_or(resolved.commit);
        Ok(CheckedOut {
            commit: self.head()?,
            push_branch_existed,
            revision: revision(resolved.reference.as_deref(), &commit),
        })
    }

    /// Checkout branch and push branch are one: fetch it straight away (one round trip less);
    /// only a failed fetch asks the remote whether the branch exists at all.
    fn checkout_in_place(&self, branch: &str) -> Result<CheckedOut, Error> {
        if let Err(e) = self.fetch(branch) {
            let listed = self.ls_remote(&[format!("refs/heads/{branch}")])?;
            return Err(if listed.is_empty() {
                Error::NoSuchBranch(branch.to_owned())
            } else {
                e
            });
        }
        self.switch(branch, &format!("refs/remotes/origin/{branch}"))?;
        let commit = self.head()?;
        Ok(CheckedOut {
            revision: revision(Some(&format!("refs/heads/{branch}")), &commit),
            commit,
            push_branch_existed: true,
        })
    }

    /// Points `branch` at `start`, checks it out and removes everything untracked.
    fn switch(&self, branch: &str, start: &str) -> Result<(), Error> {
        self.git(
            "checkout",
            &["checkout", "-q", "--force", "-B", branch, start],
            None,
        )?;
        self.git("clean", &["clean", "-q", "-fdx"], None).map(drop)
    }

    /// Fetches the tip of the full ref `source` (depth 1) into a private ref; returns its commit.
    fn fetch_ref(&self, source: &str) -> Result<String, Error> {
        let refspec = format!("+{source}:{FETCHED}");
        self.git(
            "fetch",
            &["fetch", "-q", "--no-tags", "--depth=1", "origin", &refspec],
            Some(self.remote.timeout),
        )?;
        self.rev_parse(&format!("{FETCHED}^{{commit}}"))
    }

    /// Fetches one commit. By id first (depth 1): servers speaking protocol v2 (github.com among them)
    /// allow it. A server that refuses gets asked for the history holding the commit instead:
    /// its branch when the ref names one, else every branch.
    fn fetch_commit(&self, sha: &str, checkout: &CheckoutRef) -> Result<(), Error> {
        let by_id = self.git(
            "fetch",
            &["fetch", "-q", "--no-tags", "--depth=1", "origin", sha],
            Some(self.remote.timeout),
        );
        let refused = match by_id {
            Ok(_) => return Ok(()),
            Err(Error::Command { stderr, .. }) => stderr,
            Err(e) => return Err(e),
        };
        let branch = match checkout {
            CheckoutRef::Commit {
                branch: Some(branch), ..
            } => Some(branch.as_str()),
            _ => None,
        };
        let refspec = branch.map_or_else(
            || "+refs/heads/*:refs/remotes/origin/*".to_owned(),
            |b| format!("+refs/heads/{b}:refs/remotes/origin/{b}"),
        );
        let mut args = vec!["fetch", "-q", "--no-tags"];
        // A commit deeper than earlier depth-1 fetches is only found in the whole history.
        if self.is_shallow()? {
            args.push("--unshallow");
        }
        args.extend(["origin", refspec.as_str()]);
        let place = branch.map_or_else(|| "any branch".to_owned(), |b| format!("branch {b:?}"));
        let refused = refused.lines().last().unwrap_or_default().to_owned();
        match self.git("fetch", &args, Some(self.remote.timeout)) {
            Ok(_) => {}
            // Still a fetch failure (the network may be at fault), saying what was tried.
            Err(Error::Command {
                operation,
                status,
                stderr,
            }) => {
                return Err(Error::Command {
                    operation,
                    status,
                    stderr: format!(
                        "the server refused commit {sha} by id ({refused}); fetching {place} instead: {stderr}"
                    ),
                });
            }
            Err(e) => return Err(e),
        }
        if self.rev_parse(&format!("{sha}^{{commit}}")).is_err() {
            return Err(Error::NoSuchCommit {
                commit: sha.to_owned(),
                detail: format!(
                    "the server refused it by id ({refused}), and it is not in the history of {place}"
                ),
            });
        }
        Ok(())
    }

    /// The object `spec` names (`git rev-parse --verify`).
    fn rev_parse(&self, spec: &str) -> Result<String, Error> {
        Ok(self
            .git("rev-parse", &["rev-parse", "--verify", "-q", spec], None)?
            .trim()
            .to_owned())
    }

    /// Whether earlier depth-1 fetches left the clone shallow.
    fn is_shallow(&self) -> Result<bool, Error> {
        let out = self.git("rev-parse", &["rev-parse", "--is-shallow-repository"], None)?;
        Ok(out.trim() == "true")
    }

    /// The remote refs matching `patterns` (exact names, peeled `^{}` lines included), by name.
    fn ls_remote(&self, patterns: &[String]) -> Result<BTreeMap<String, String>, Error> {
        let mut args = vec!["ls-remote", "origin"];
        args.extend(patterns.iter().map(String::as_str));
        let out = self.git("ls-remote", &args, Some(self.remote.timeout))?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(oid, name)| (name.to_owned(), oid.to_owned()))
            .collect())
    }
}

/// Finds the checkout ref in what the remote listed.
fn resolve(checkout: &CheckoutRef, listed: &BTreeMap<String, String>) -> Result<Resolved, Error> {
    // A tag listed with a `^{}` line is annotated: that line is its commit.
    let lookup = |name: &str| {
        listed
            .get(&format!("{name}^{{}}"))
            .or_else(|| listed.get(name))
            .cloned()
    };
    let named = |name: String, missing: Error| -> Result<Resolved, Error> {
        let commit = lookup(&name).ok_or(missing)?;
        Ok(Resolved {
            reference: Some(name.clone()),
            commit,
            source: Some(name),
        })
    };
    match checkout {
        CheckoutRef::Branch(branch) => named(
            format!("refs/heads/{branch}"),
            Error::NoSuchBranch(branch.clone()),
        ),
        CheckoutRef::Tag(tag) => named(format!("refs/tags/{tag}"), Error::NoSuchTag(tag.clone())),
        CheckoutRef::Name(name) => named(name.clone(), Error::NoSuchRef(name.clone())),
        CheckoutRef::Semver(range) => {
            let tag = highest_tag(range, listed)?;
            named(format!("refs/tags/{tag}"), Error::NoSuchTag(tag.clone()))
        }
        CheckoutRef::Commit { sha, branch } => Ok(Resolved {
            reference: branch.as_ref().map(|b| format!("refs/heads/{b}")),
            commit: sha.to_ascii_lowercase(),
            source: None,
        }),
    }
}

/// The highest listed tag inside `range`.
fn highest_tag(range: &str, listed: &BTreeMap<String, String>) -> Result<String, Error> {
    let policy = Policy::semver(range).map_err(|e| match e {
        BuildError::InvalidRange(e) => Error::InvalidSemver(e.to_string()),
        other => Error::InvalidSemver(other.to_string()),
    })?;
    let tags: Vec<&str> = listed
        .keys()
        .filter_map(|name| name.strip_prefix("refs/tags/"))
        .filter(|tag| !tag.ends_with("^{}"))
        .collect();
    let selection = policy
        .select(&tags)
        .map_err(|e| Error::InvalidSemver(e.to_string()))?;
    selection
        .latest
        .map(|latest| latest.tag.to_owned())
        .ok_or_else(|| Error::NoMatchingTag(range.to_owned()))
}

/// Flux's `observedSourceRevision`: the ref without its first two components (`main`,
/// `v1.0.0`, `1/head` for `refs/pull/1/head`), `@`, and the commit's digest; the digest alone
/// when there is no ref.
fn revision(reference: Option<&str>, commit: &str) -> String {
    let algorithm = if commit.len() == 64 { "sha256" } else { "sha1" };
    match reference.and_then(|r| r.splitn(3, '/').nth(2)) {
        Some(short) => format!("{short}@{algorithm}:{commit}"),
        None => format!("{algorithm}:{commit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "3ebb95cc1f0ee2ad5e0e3c7c3a1b7cf4e8f5a0b1";

    #[test]
    fn revisions_are_named_as_flux_names_them() {
        assert_eq!(revision(Some("refs/heads/main"), SHA), format!("main@sha1:{SHA}"));
        assert_eq!(
            revision(Some("refs/heads/feature/x"), SHA),
            format!("feature/x@sha1:{SHA}")
        );
        assert_eq!(
            revision(Some("refs/tags/v1.0.0"), SHA),
            format!("v1.0.0@sha1:{SHA}")
        );
        assert_eq!(
            revision(Some("refs/pull/1/head"), SHA),
            format!("1/head@sha1:{SHA}")
        );
        assert_eq!(revision(None, SHA), format!("sha1:{SHA}"));
    }

    #[test]
    fn semver_picks_the_highest_tag_in_range_and_ignores_peeled_lines() {
        let listed: BTreeMap<String, String> = [
            "refs/tags/v1.0.0",
            "refs/tags/v1.2.0",
            "refs/tags/v1.2.0^{}",
            "refs/tags/v2.0.0",
            "refs/tags/latest",
        ]
        .into_iter()
        .map(|n| (n.to_owned(), SHA.to_owned()))
        .collect();
        assert_eq!(highest_tag("1.x", &listed), Ok("v1.2.0".to_owned()));
        assert_eq!(
            highest_tag(">=3", &listed),
            Err(Error::NoMatchingTag(">=3".to_owned()))
        );
        assert!(matches!(
            highest_tag("=<>1", &listed),
            Err(Error::InvalidSemver(_))
        ));
    }

    #[test]
    fn commits_must_be_full_ids() {
        let commit = |sha: &str| CheckoutRef::Commit {
            sha: sha.to_owned(),
            branch: None,
        };
        assert!(commit(SHA).check().is_ok());
        assert!(matches!(commit("3ebb95c").check(), Err(Error::InvalidCommit(_))));
        assert!(matches!(
            commit("--upload-pack=touch /tmp/x").check(),
            Err(Error::InvalidCommit(_))
        ));
    }
}
