//! What the daemon remembers across restarts: the last scan, selection, push and receiver counts
//! of each object, and the suspend overrides set by `imagebump suspend`.
//!
//! One redb file, `<state_dir>/imagebump.redb`. Each record is JSON in a table keyed by
//! `namespace/name`; each call is one redb transaction, so a crash at any point leaves the state
//! of the last committed call. Writes are durable when they return (redb fsyncs each commit),
//! which takes a millisecond or two on an SSD: short enough for async tasks to call in place at
//! the rate objects reconcile, not for a loop of thousands of writes.
//!
//! The store does not interpret records, and does not know which objects the config still has:
//! the daemon calls [`Store::remove`] when an object disappears.
//!
//! Formats: the `meta` table holds [`FORMAT_VERSION`]. Adding a field to a record does not change
//! it (records are `#[serde(default)]`); removing or reinterpreting one does, and a build meeting a
//! newer version refuses the file rather than losing what the newer build wrote.

mod error;
mod records;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::StateError;
pub use records::{AutomationRecord, ImageRefRecord, PolicyRecord, ReceiverRecord, RepositoryRecord};

/// The state format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The state file's name inside the state directory.
const FILE_NAME: &str = "imagebump.redb";

/// Enough cache for every page of a large state (1,000 repositories of 125 tags each is
/// about 4 MiB of records); redb's default of 1 GiB is a cap the daemon has no use for, and
/// every cached page is resident memory (`bench/daemon-scale.sh` measures it).
const CACHE_BYTES: usize = 8 * 1024 * 1024;

const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
const FORMAT_VERSION_KEY: &str = "format_version";

/// Keys `<kind>/<namespace>/<name>`; present means suspended.
const SUSPENDED: TableDefinition<&str, ()> = TableDefinition::new("suspended");

const REPOSITORIES: RecordTable = RecordTable::new("repositories");
const POLICIES: RecordTable = RecordTable::new("policies");
const AUTOMATIONS: RecordTable = RecordTable::new("automations");
const RECEIVERS: RecordTable = RecordTable::new("receivers");

/// A table of JSON records, with its name kept for error messages.
#[derive(Clone, Copy)]
struct RecordTable {
    name: &'static str,
    definition: TableDefinition<'static, &'static str, &'static [u8]>,
}

impl RecordTable {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            definition: TableDefinition::new(name),
        }
    }

    /// The table holding records of `kind`; kinds without records (`GitRepository`) have none.
    fn of_kind(kind: &str) -> Option<Self> {
        match kind {
            "ImageRepository" => Some(REPOSITORIES),
            "ImagePolicy" => Some(POLICIES),
            "ImageUpdateAutomation" => Some(AUTOMATIONS),
            "Receiver" => Some(RECEIVERS),
            _ => None,
        }
    }
}

/// The daemon's state file, open and locked for this process.
///
/// `Send + Sync`: share it as `Arc<Store>`; redb serialises writers and lets reads run beside them.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens `<state_dir>/imagebump.redb`, creating the directory (mode 0700) and the file if
    /// needed, and checks that this build can read the file's format.
    ///
    /// A file another process has open, a file that is not a redb database or fails redb's
    /// integrity check, and a file from a newer imagebump each get their own [`StateError`],
    /// and none of them is modified.
    pub fn open(state_dir: &Path) -> Result<Store, StateError> {
        create_private_dir(state_dir).map_err(|source| StateError::Io {
            action: "create the state directory",
            path: state_dir.to_owned(),
            source,
        })?;
        let path = state_dir.join(FILE_NAME);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            // A plain open trusts the file and may panic on one damaged outside redb (a bad copy,
            // a full disk during backup restore); the check costs one read of a small file.
            .set_check_integrity_on_open(true)
            .create(&path)
            .map_err(|error| StateError::opening(&path, error))?;
        let store = Store { db, path };
        store.check_format()?;
        Ok(store)
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last scan of the `ImageRepository` `key` (`namespace/name`).
    pub fn repository(&self, key: &str) -> Result<Option<RepositoryRecord>, StateError> {
        self.get(REPOSITORIES, key)
    }

    /// Replaces the scan record of `key`.
    pub fn put_repository(&self, key: &str, record: &RepositoryRecord) -> Result<(), StateError> {
        self.put(REPOSITORIES, key, record)
    }

    /// The last selection of the `ImagePolicy` `key`.
    pub fn policy(&self, key: &str) -> Result<Option<PolicyRecord>, StateError> {
        self.get(POLICIES, key)
    }

    /// Replaces the selection record of `key`.
    pub fn put_policy(&self, key: &str, record: &PolicyRecord) -> Result<(), StateError> {
        self.put(POLICIES, key, record)
    }

    /// The last run of the `ImageUpdateAutomation` `key`.
    pub fn automation(&self, key: &str) -> Result<Option<AutomationRecord>, StateError> {
        self.get(AUTOMATIONS, key)
    }

    /// Replaces the run record of `key`.
    pub fn put_automation(&self, key: &str, record: &AutomationRecord) -> Result<(), StateError> {
        self.put(AUTOMATIONS, key, record)
    }

    /// The counters of the `Receiver` `key`.
    pub fn receiver(&self, key: &str) -> Result<Option<ReceiverRecord>, StateError> {
        self.get(RECEIVERS, key)
    }

    /// Replaces the counters of `key`.
    pub fn put_receiver(&self, key: &str, record: &ReceiverRecord) -> Result<(), StateError> {
        self.put(RECEIVERS, key, record)
    }

    /// Whether `imagebump suspend` suspended the object; `kind` is e.g. "ImageRepository".
    pub fn suspended(&self, kind: &str, key: &str) -> Result<bool, StateError> {
        self.read(|txn| match txn.open_table(SUSPENDED) {
            Ok(table) => Ok(table.get(suspend_key(kind, key).as_str())?.is_some()),
            Err(TableError::TableDoesNotExist(_)) => Ok(false),
            Err(error) => Err(error.into()),
        })
    }

    /// Records a suspend override; `false` removes it, so the config's `suspend` applies again.
    pub fn set_suspended(&self, kind: &str, key: &str, suspended: bool) -> Result<(), StateError> {
        self.write(|txn| {
            let mut table = txn.open_table(SUSPENDED)?;
            let key = suspend_key(kind, key);
            if suspended {
                table.insert(key.as_str(), ())?;
            } else {
                table.remove(key.as_str())?;
            }
            Ok(())
        })
    }

    /// Forgets an object deleted from the config: its record and its suspend override, in one
    /// transaction. Forgetting what is not there is not an error.
    pub fn remove(&self, kind: &str, key: &str) -> Result<(), StateError> {
        self.write(|txn| {
            if let Some(records) = RecordTable::of_kind(kind) {
                txn.open_table(records.definition)?.remove(key)?;
            }
            txn.open_table(SUSPENDED)?
                .remove(suspend_key(kind, key).as_str())?;
            Ok(())
        })
    }

    /// Records the format of a new file, or refuses one this build cannot read; creates the
    /// tables so that reads never meet a missing one.
    fn check_format(&self) -> Result<(), StateError> {
        let opening = |error: redb::Error| StateError::opening(&self.path, error);
        let opening_table = |error| StateError::opening_table(&self.path, error);
        let txn = self.db.begin_write().map_err(|e| opening(e.into()))?;
        {
            let mut meta = txn.open_table(META).map_err(opening_table)?;
            let found = meta
                .get(FORMAT_VERSION_KEY)
                .map_err(|e| opening(e.into()))?
                .map(|v| v.value());
            match found {
                None => {
                    meta.insert(FORMAT_VERSION_KEY, FORMAT_VERSION)
                        .map_err(|e| opening(e.into()))?;
                }
                Some(FORMAT_VERSION) => {}
                // Dropping the transaction aborts it: the file stays as the newer build left it.
                Some(found) if found > FORMAT_VERSION => {
                    return Err(StateError::NewerFormat {
                        path: self.path.clone(),
                        found,
                    });
                }
                Some(found) => {
                    return Err(StateError::Damaged {
                        path: self.path.clone(),
                        reason: format!("unknown state format {found}"),
                    });
                }
            }
        }
        for table in [REPOSITORIES, POLICIES, AUTOMATIONS, RECEIVERS] {
            txn.open_table(table.definition).map_err(opening_table)?;
        }
        txn.open_table(SUSPENDED).map_err(opening_table)?;
        txn.commit().map_err(|e| opening(e.into()))
    }

    fn get<T: DeserializeOwned>(&self, table: RecordTable, key: &str) -> Result<Option<T>, StateError> {
        let decoded = self.read(|txn| match txn.open_table(table.definition) {
            Ok(records) => Ok(records
                .get(key)?
                .map(|bytes| serde_json::from_slice::<T>(bytes.value()))),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(error) => Err(error.into()),
        })?;
        decoded.transpose().map_err(|source| StateError::DamagedRecord {
            path: self.path.clone(),
            table: table.name,
            key: key.to_owned(),
            source,
        })
    }

    fn put<T: Serialize>(&self, table: RecordTable, key: &str, record: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec(record)
            .expect("records serialise: plain structs with string map keys and no floats");
        self.write(|txn| {
            txn.open_table(table.definition)?.insert(key, bytes.as_slice())?;
            Ok(())
        })
    }

    fn read<T>(
        &self,
        body: impl FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        self.db
            .begin_read()
            .map_err(redb::Error::from)
            .and_then(|txn| body(&txn))
            .map_err(|e| self.storage(e))
    }

    /// Runs `body` in a write transaction and commits it; on an error the transaction is dropped,
    /// which aborts it.
    fn write(
        &self,
        body: impl FnOnce(&WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.storage(e))?;
        body(&txn).map_err(|e| self.storage(e))?;
        txn.commit().map_err(|e| self.storage(e))
    }

    fn storage(&self, source: impl Into<redb::Error>) -> StateError {
        StateError::Storage {
            path: self.path.clone(),
            source: source.into(),
        }
    }
}

fn suspend_key(kind: &str, key: &str) -> String {
    format!("{kind}/{key}")
}

/// Creates `dir` and its parents; a new directory is private to the user, since the state
/// reveals which images and repositories the daemon follows. An existing one keeps its mode.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
