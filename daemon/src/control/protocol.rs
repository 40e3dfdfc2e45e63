//! What the CLI and the daemon say to each other over the control socket.
//!
//! One request per connection: the client writes one JSON line, the daemon answers with one
//! JSON line and closes. JSON lines rather than HTTP keep the socket trivially scriptable
//! (`socat - UNIX-CONNECT:/run/imagebump/control.sock`) and need no HTTP client in the CLI.

use serde::{Deserialize, Serialize};

/// The kinds the control socket knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// `ImageRepository` (`image repository` on the command line).
    ImageRepository,
    /// `ImagePolicy` (`image policy`).
    ImagePolicy,
    /// `ImageUpdateAutomation` (`image update`).
    ImageUpdateAutomation,
    /// `Receiver` (`receivers`).
    Receiver,
}

impl Kind {
    /// The lower-case name flux prints before an object's name: `imagerepository/podinfo`.
    #[must_use]
    pub fn flux_name(self) -> &'static str {
        match self {
            Kind::ImageRepository => "imagerepository",
            Kind::ImagePolicy => "imagepolicy",
            Kind::ImageUpdateAutomation => "imageupdateautomation",
            Kind::Receiver => "receiver",
        }
    }
}

/// Which objects a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    /// The kinds; `get images all` asks for three.
    pub kinds: Vec<Kind>,
    /// A namespace, or `None` for every namespace (`-A`).
    pub namespace: Option<String>,
    /// One object's name, or `None` for all.
    pub name: Option<String>,
}

/// A request from the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The status of the selected objects.
    Get(Selector),
    /// Run one object now and answer when the run has finished.
    Reconcile {
        /// The kind (`ImageRepository` or `ImageUpdateAutomation`).
        kind: Kind,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Stop an object's work until resumed (kept across restarts).
    Suspend {
        /// The kind.
        kind: Kind,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Undo a suspend and run the object at once.
    Resume {
        /// The kind.
        kind: Kind,
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

/// `Ready` condition status, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ready {
    /// The last run succeeded.
    True,
    /// The last run failed.
    False,
    /// Not run yet, or running for the first time.
    Unknown,
}

impl std::fmt::Display for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ready::True => "True",
            Ready::False => "False",
            Ready::Unknown => "Unknown",
        })
    }
}

/// One object's status, with the columns `flux get` prints and Flux's status fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectStatus {
    /// The kind.
    pub kind: Kind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The `Ready` condition.
    pub ready: Ready,
    /// The `Ready` condition's message (`successful scan: found 4 tags`).
    pub message: String,
    /// Suspended by `spec.suspend` or by `imagebump suspend`.
    pub suspended: bool,
    /// `LAST SCAN` of a repository, `LAST RUN` of an automation, last event of a receiver
    /// (RFC 3339, UTC).
    pub last_time: Option<String>,
    /// `LATEST IMAGE` of a policy (`ghcr.io/org/app:5.0.3`).
    pub latest_image: Option<String>,
    /// Flux's `status` fields for this kind (`lastScanResult`, `latestRef`, `lastPushCommit`,
    /// ...), for `-o json` and `-o yaml`.
    pub status: serde_json::Value,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    /// The objects asked for, sorted by kind, namespace and name.
    Objects {
        /// Their status.
        objects: Vec<ObjectStatus>,
    },
    /// A reconcile, suspend or resume finished.
    Done {
        /// What happened, for people: `fetched 4 tags`, `pushed commit 'a47b32f' to branch 'main'`.
        message: String,
    },
    /// The request could not be carried out (unknown object, run failed, object suspended).
    Failed {
        /// Why, for people.
        message: String,
    },
}
