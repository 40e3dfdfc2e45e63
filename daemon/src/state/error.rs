//! Why the state store could not open or answer.

use std::io;
use std::path::{Path, PathBuf};

use super::FORMAT_VERSION;

/// Why [`Store`](super::Store) could not open its file, or read or write a record.
///
/// Every message names the state file; those a user can act on say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another process holds the file's lock.
    #[error(
        "another imagebump daemon is using {}; stop it, or give this daemon another state directory",
        path.display()
    )]
    Locked {
        /// The state file.
        path: PathBuf,
    },
    /// The file is not a redb database, or redb found it damaged.
    #[error(
        "{} is damaged or not an imagebump state file: {reason}; move it aside to start from an empty state",
        path.display()
    )]
    Damaged {
        /// The state file.
        path: PathBuf,
        /// What redb (or the format check) found wrong.
        reason: String,
    },
    /// The file was written by a later imagebump whose records this build cannot read.
    #[error(
        "{} was written by a newer imagebump (state format {found}, this build reads up to {FORMAT_VERSION}); \
         run that version, or move the file aside to start from an empty state",
        path.display()
    )]
    NewerFormat {
        /// The state file.
        path: PathBuf,
        /// The format version recorded in the file.
        found: u32,
    },
    /// Creating the state directory or opening the file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("create the state directory", "open").
        action: &'static str,
        /// The directory or file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// One record is not the JSON this build expects; the other records are unaffected.
    #[error("{}: record {table}/{key} is damaged: {source}", path.display())]
    DamagedRecord {
        /// The state file.
        path: PathBuf,
        /// The table the record is in (`repositories`, `policies`, …).
        table: &'static str,
        /// The record's key, `namespace/name`.
        key: String,
        /// Why it does not decode.
        #[source]
        source: serde_json::Error,
    },
    /// A transaction failed (disk full, I/O error after opening, …).
    #[error("{}: {source}", path.display())]
    Storage {
        /// The state file.
        path: PathBuf,
        /// redb's error.
        #[source]
        source: redb::Error,
    },
}

impl StateError {
    /// Sorts an error met while opening (or checking the format of) `path` into the cases a user
    /// can act on, leaving the rest as [`StateError::Storage`].
    pub(super) fn opening(path: &Path, error: impl Into<redb::Error>) -> Self {
        let path = path.to_owned();
        match error.into() {
            // LockProtocolMismatch: the other process runs a redb with another locking scheme,
            // which for us means another (older or newer) imagebump.
            redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => Self::Locked { path },
            error @ (redb::Error::Corrupted(_) | redb::Error::UpgradeRequired(_)) => Self::Damaged {
                path,
                reason: error.to_string(),
            },
            // redb reports a file without its magic number as InvalidData.
            redb::Error::Io(source) if source.kind() == io::ErrorKind::InvalidData => Self::Damaged {
                path,
                reason: source.to_string(),
            },
            redb::Error::Io(source) => Self::Io {
                action: "open",
                path,
                source,
            },
            source => Self::Storage { path, source },
        }
    }

    /// Like [`StateError::opening`], for a table that exists with the wrong types or shape: a file
    /// some other program wrote.
    pub(super) fn opening_table(path: &Path, error: redb::TableError) -> Self {
        match error {
            redb::TableError::Storage(error) => Self::opening(path, error),
            error => Self::Damaged {
                path: path.to_owned(),
                reason: error.to_string(),
            },
        }
    }
}
