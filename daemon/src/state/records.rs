//! The records the store keeps, one per object, as JSON.
//!
//! Every struct is `#[serde(default)]` so that a field added later reads as its default from a
//! file written before it existed; removing or renaming a field needs a new
//! [`FORMAT_VERSION`](super::FORMAT_VERSION). Times are Unix milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What an `ImageRepository` scan found, Flux's `status.lastScanResult` and friends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepositoryRecord {
    /// The sorted tag set, after exclusions.
    pub tags: Vec<String>,
    /// `sha256:…` of the tag set, so that policies can tell whether it changed.
    pub revision: String,
    /// The image name the scan resolved (`index.docker.io/library/nginx`).
    pub canonical_image_name: String,
    /// The exclusion list the tags were filtered with.
    pub observed_exclusion_list: Vec<String>,
    /// The last successful scan.
    pub scan_time: Option<i64>,
    /// The last scan attempt, successful or not.
    pub last_attempt: Option<i64>,
    /// Why the last attempt failed; `None` after a success.
    pub last_error: Option<String>,
}

/// An image reference as Flux's `status.latestRef` has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageRefRecord {
    /// The image name, without tag.
    pub name: String,
    /// The tag.
    pub tag: String,
    /// `sha256:…`, or empty when the policy does not resolve digests.
    pub digest: String,
}

/// What an `ImagePolicy` last selected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyRecord {
    /// The selected image.
    pub latest: Option<ImageRefRecord>,
    /// The image selected before `latest`, for "updated from … to …" messages.
    pub previous: Option<ImageRefRecord>,
    /// The repository revision `latest` was selected from.
    pub tag_revision: String,
    /// When `latest` was selected.
    pub select_time: Option<i64>,
    /// Why the last selection failed; `None` after a success.
    pub last_error: Option<String>,
}

/// What an `ImageUpdateAutomation` last did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutomationRecord {
    /// The last run, whatever its outcome.
    pub last_run_time: Option<i64>,
    /// The full hash of the last commit pushed.
    pub last_push_commit: Option<String>,
    /// When that commit was pushed.
    pub last_push_time: Option<i64>,
    /// The branch it was pushed to.
    pub last_push_branch: Option<String>,
    /// The source revision last checked out, `main@sha1:<hash>` as Flux prints it.
    pub observed_source_revision: Option<String>,
    /// The policies' selections the last run applied, by `namespace/name`.
    pub observed_policies: BTreeMap<String, ImageRefRecord>,
    /// Why the last run failed; `None` after a success.
    pub last_error: Option<String>,
    /// What the last successful run did ("repository up-to-date", "pushed commit …").
    pub last_message: Option<String>,
}

/// Counters of a webhook `Receiver`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReceiverRecord {
    /// The last event accepted.
    pub last_event_time: Option<i64>,
    /// Events accepted since the record was created.
    pub events_accepted: u64,
    /// Events rejected (bad signature, unknown path, …) since the record was created.
    pub events_rejected: u64,
}

impl From<&imagebump_writer::result::LatestImage> for ImageRefRecord {
    fn from(image: &imagebump_writer::result::LatestImage) -> Self {
        ImageRefRecord {
            name: image.name.clone(),
            tag: image.tag.clone(),
            digest: image.digest.clone(),
        }
    }
}

impl From<&ImageRefRecord> for imagebump_writer::result::LatestImage {
    fn from(image: &ImageRefRecord) -> Self {
        imagebump_writer::result::LatestImage {
            name: image.name.clone(),
            tag: image.tag.clone(),
            digest: image.digest.clone(),
        }
    }
}
