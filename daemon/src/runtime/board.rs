//! The channels actors publish on, keyed by object. Scanners publish tag sets, policies
//! publish their latest image and bump a per-namespace counter that wakes the writers.
//!
//! The board owns the channels, not the actors, so a restarted actor keeps its subscribers
//! and a subscriber never sees a channel vanish under it. The maps are only locked to find or
//! create a channel; the values travel through `watch` channels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use imagebump_writer::result::LatestImage;
use tokio::sync::watch;

use crate::config::resolved::NamespacedName;

/// A repository's tags as its last successful scan found them.
#[derive(Debug, PartialEq, Eq)]
pub struct TagSnapshot {
    /// Sorted, exclusions applied.
    pub tags: Vec<String>,
    /// `sha256:` checksum of the set.
    pub revision: String,
}

/// A per-remote, per-branch lock: one writer at a time pushes to a branch.
pub type GitLock = Arc<tokio::sync::Mutex<()>>;

/// See the module docs.
#[derive(Default)]
pub struct Board {
    tags: Mutex<HashMap<NamespacedName, watch::Sender<Option<Arc<TagSnapshot>>>>>,
    latest: Mutex<HashMap<NamespacedName, watch::Sender<Option<LatestImage>>>>,
    namespaces: Mutex<HashMap<String, watch::Sender<u64>>>,
    git: Mutex<HashMap<(String, String), GitLock>>,
    scans: Mutex<HashMap<NamespacedName, watch::Sender<u64>>>,
    webhooks: Mutex<HashMap<String, Instant>>,
}

/// The channel under `key`, created empty on first use.
fn channel<K, T>(
    map: &Mutex<HashMap<K, watch::Sender<T>>>,
    key: &K,
    empty: impl FnOnce() -> T,
) -> watch::Sender<T>
where
    K: Clone + Eq + std::hash::Hash,
{
    // A panic elsewhere while holding this lock cannot leave a map half-updated: insertion is
    // the only mutation. So a poisoned lock is safe to keep using.
    let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
    map.entry(key.clone())
        .or_insert_with(|| watch::Sender::new(empty()))
        .clone()
}

impl Board {
    /// Follow a repository's tag sets.
    pub fn tags(&self, repository: &NamespacedName) -> watch::Receiver<Option<Arc<TagSnapshot>>> {
        channel(&self.tags, repository, || None).subscribe()
    }

    /// Publish a repository's tags; subscribers wake only when the revision changed.
    pub fn publish_tags(&self, repository: &NamespacedName, snapshot: TagSnapshot) {
        channel(&self.tags, repository, || None).send_if_modified(|current| {
            let changed = current.as_ref().is_none_or(|c| c.revision != snapshot.revision);
            if changed {
                *current = Some(Arc::new(snapshot));
            }
            changed
        });
    }

    /// A policy's latest image, if it has one.
    pub fn latest(&self, policy: &NamespacedName) -> Option<LatestImage> {
        channel(&self.latest, policy, || None).borrow().clone()
    }

    /// Publish a policy's latest image; when it changed, wake the writers of its namespace.
    pub fn publish_latest(&self, policy: &NamespacedName, latest: Option<LatestImage>) {
        let changed = channel(&self.latest, policy, || None).send_if_modified(|current| {
            let changed = *current != latest;
            if changed {
                *current = latest;
            }
            changed
        });
        if changed {
            channel(&self.namespaces, &policy.namespace, || 0).send_modify(|n| *n += 1);
        }
    }

    /// Wakes when a policy in `namespace` publishes a different latest image.
    pub fn namespace_changes(&self, namespace: &str) -> watch::Receiver<u64> {
        channel(&self.namespaces, &namespace.to_owned(), || 0).subscribe()
    }

    /// The lock for pushing to `branch` of `url`.
    pub fn git_lock(&self, url: &str, branch: &str) -> GitLock {
        let mut map = self.git.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry((url.to_owned(), branch.to_owned())).or_default())
    }

    /// Scan requests for a repository (webhooks). Requests made while a scan runs collapse
    /// into one: at most one scan in flight and one queued.
    pub fn scan_requests(&self, repository: &NamespacedName) -> watch::Receiver<u64> {
        channel(&self.scans, repository, || 0).subscribe()
    }

    /// Ask a repository's scanner to scan now.
    pub fn request_scan(&self, repository: &NamespacedName) {
        channel(&self.scans, repository, || 0).send_modify(|n| *n += 1);
    }

    /// Remember when a webhook asked for scans in `namespace`, for the webhook-to-commit
    /// metric; the earliest pending time is kept.
    pub fn note_webhook(&self, namespace: &str, at: Instant) {
        let mut map = self.webhooks.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(namespace.to_owned()).or_insert(at);
    }

    /// The pending webhook time of `namespace`, once: a push from that namespace's writer
    /// answers it.
    pub fn take_webhook(&self, namespace: &str) -> Option<Instant> {
        let mut map = self.webhooks.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(namespace)
    }

    /// Forget a deleted policy's result so no writer uses it any more.
    pub fn forget_policy(&self, policy: &NamespacedName) {
        self.publish_latest(policy, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> NamespacedName {
        NamespacedName {
            namespace: "flux-system".to_owned(),
            name: name.to_owned(),
        }
    }

    fn image(tag: &str) -> LatestImage {
        LatestImage {
            name: "ghcr.io/org/app".to_owned(),
            tag: tag.to_owned(),
            digest: String::new(),
        }
    }

    #[test]
    fn same_revision_does_not_wake_subscribers() {
        let board = Board::default();
        let mut rx = board.tags(&key("app"));
        let snapshot = || TagSnapshot {
            tags: vec!["1.0.0".to_owned()],
            revision: "sha256:1".to_owned(),
        };
        board.publish_tags(&key("app"), snapshot());
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        board.publish_tags(&key("app"), snapshot());
        assert!(!rx.has_changed().unwrap());
    }

    #[test]
    fn a_burst_of_scan_requests_is_one_wake_up() {
        let board = Board::default();
        let mut requests = board.scan_requests(&key("app"));
        // While a scan runs, webhooks keep coming: they leave one pending wake-up, not ten.
        for _ in 0..10 {
            board.request_scan(&key("app"));
        }
        assert!(requests.has_changed().unwrap());
        requests.borrow_and_update();
        assert!(!requests.has_changed().unwrap());
        board.request_scan(&key("other"));
        assert!(!requests.has_changed().unwrap(), "another repository's request");
    }

    #[test]
    fn the_earliest_pending_webhook_is_taken_once() {
        let board = Board::default();
        let first = Instant::now();
        board.note_webhook("flux-system", first);
        board.note_webhook("flux-system", first + std::time::Duration::from_secs(1));
        assert_eq!(board.take_webhook("flux-system"), Some(first));
        assert_eq!(board.take_webhook("flux-system"), None);
    }

    #[test]
    fn a_changed_latest_image_wakes_its_namespace_only() {
        let board = Board::default();
        let mut ours = board.namespace_changes("flux-system");
        let theirs = board.namespace_changes("apps");
        board.publish_latest(&key("app"), Some(image("1.0.0")));
        assert!(ours.has_changed().unwrap());
        assert!(!theirs.has_changed().unwrap());
        ours.borrow_and_update();
        board.publish_latest(&key("app"), Some(image("1.0.0")));
        assert!(!ours.has_changed().unwrap());
        assert_eq!(board.latest(&key("app")), Some(image("1.0.0")));
        board.forget_policy(&key("app"));
        assert_eq!(board.latest(&key("app")), None);
    }
}
