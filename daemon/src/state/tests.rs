use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase};

use super::*;

fn repository() -> RepositoryRecord {
    RepositoryRecord {
        tags: vec!["1.0.0".into(), "1.1.0".into(), "latest".into()],
        revision: "sha256:0123".into(),
        canonical_image_name: "index.docker.io/library/nginx".into(),
        observed_exclusion_list: vec!["^.*\\.sig$".into()],
        scan_time: Some(1_700_000_000_000),
        last_attempt: Some(1_700_000_060_000),
        last_error: Some("registry index.docker.io: 503".into()),
    }
}

fn image(tag: &str) -> ImageRefRecord {
    ImageRefRecord {
        name: "ghcr.io/org/app".into(),
        tag: tag.into(),
        digest: String::new(),
    }
}

fn policy() -> PolicyRecord {
    PolicyRecord {
        latest: Some(ImageRefRecord {
            digest: "sha256:abcd".into(),
            ..image("1.1.0")
        }),
        previous: Some(image("1.0.0")),
        tag_revision: "sha256:0123".into(),
        select_time: Some(1_700_000_000_500),
        last_error: None,
    }
}

fn automation() -> AutomationRecord {
    AutomationRecord {
        last_run_time: Some(1),
        last_push_commit: Some("abc1234def".into()),
        last_push_time: Some(2),
        last_push_branch: Some("main".into()),
        observed_source_revision: Some("main@sha1:abc1234def".into()),
        observed_policies: BTreeMap::from([("flux-system/app".to_owned(), image("1.1.0"))]),
        last_error: None,
        last_message: Some("pushed commit 'abc1234' to branch 'main'".into()),
    }
}

fn receiver() -> ReceiverRecord {
    ReceiverRecord {
        last_event_time: Some(3),
        events_accepted: 7,
        events_rejected: 2,
    }
}

fn state_file(dir: &Path) -> std::path::PathBuf {
    dir.join("imagebump.redb")
}

#[test]
fn store_and_error_are_shareable_across_tasks() {
    fn assert_shareable<T: Send + Sync + 'static>() {}
    assert_shareable::<Store>();
    assert_shareable::<StateError>();
}

#[test]
fn every_record_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.path(), state_file(dir.path()));

    assert_eq!(store.repository("ns/a").unwrap(), None);
    store.put_repository("ns/a", &repository()).unwrap();
    store.put_policy("ns/a", &policy()).unwrap();
    store.put_automation("ns/a", &automation()).unwrap();
    store.put_receiver("ns/a", &receiver()).unwrap();

    assert_eq!(store.repository("ns/a").unwrap(), Some(repository()));
    assert_eq!(store.policy("ns/a").unwrap(), Some(policy()));
    assert_eq!(store.automation("ns/a").unwrap(), Some(automation()));
    assert_eq!(store.receiver("ns/a").unwrap(), Some(receiver()));
    // Tables are separate: the same key in another kind is not there.
    assert_eq!(store.policy("ns/b").unwrap(), None);

    let updated = RepositoryRecord {
        last_error: None,
        ..repository()
    };
    store.put_repository("ns/a", &updated).unwrap();
    assert_eq!(store.repository("ns/a").unwrap(), Some(updated));
}

#[test]
fn records_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_repository("ns/a", &repository()).unwrap();
        store.put_policy("ns/a", &policy()).unwrap();
        store.put_automation("ns/a", &automation()).unwrap();
        store.put_receiver("ns/a", &receiver()).unwrap();
        store.set_suspended("ImagePolicy", "ns/a", true).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.repository("ns/a").unwrap(), Some(repository()));
    assert_eq!(store.policy("ns/a").unwrap(), Some(policy()));
    assert_eq!(store.automation("ns/a").unwrap(), Some(automation()));
    assert_eq!(store.receiver("ns/a").unwrap(), Some(receiver()));
    assert!(store.suspended("ImagePolicy", "ns/a").unwrap());
}

#[test]
fn fields_missing_from_an_older_record_read_as_defaults() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    write_raw(dir.path(), REPOSITORIES, "ns/old", br#"{"tags":["1.0"]}"#);
    let store = Store::open(dir.path()).unwrap();
    let expected = RepositoryRecord {
        tags: vec!["1.0".into()],
        ..RepositoryRecord::default()
    };
    assert_eq!(store.repository("ns/old").unwrap(), Some(expected));
}

#[cfg(unix)]
#[test]
fn a_new_state_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("var/lib/imagebump");
    drop(Store::open(&state_dir).unwrap());
    let mode = std::fs::metadata(&state_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_state_directory_that_cannot_be_created_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::File::create(&file).unwrap();
    let error = Store::open(&file.join("state")).unwrap_err();
    assert!(matches!(error, StateError::Io { .. }), "{error:?}");
    assert!(
        error.to_string().contains("cannot create the state directory"),
        "{error}"
    );
    assert!(
        error.to_string().contains(&*file.join("state").to_string_lossy()),
        "{error}"
    );
}

#[test]
fn a_newer_format_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    set_format_version(dir.path(), 2);

    let error = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(error, StateError::NewerFormat { found: 2, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&*state_file(dir.path()).to_string_lossy()),
        "{message}"
    );
    assert!(
        message.contains("state format 2, this build reads up to 1"),
        "{message}"
    );
    assert_eq!(format_version(dir.path()), Some(2));
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    // A short text file, and one large enough to hold a redb header, of noise.
    let mut noise = Vec::with_capacity(64 * 1024);
    let mut x: u32 = 0x1234_5678;
    while noise.len() < 64 * 1024 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        noise.extend_from_slice(&x.to_le_bytes());
    }
    for contents in [b"not a state file\n".to_vec(), noise] {
        let dir = tempfile::tempdir().unwrap();
        let path = state_file(dir.path());
        std::fs::write(&path, &contents).unwrap();

        let error = Store::open(dir.path()).unwrap_err();
        assert!(matches!(error, StateError::Damaged { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "{} is damaged or not an imagebump state file: ",
                path.display()
            )),
            "{message}"
        );
        assert!(
            message.ends_with("; move it aside to start from an empty state"),
            "{message}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), contents, "the file was modified");
    }
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    first.put_receiver("ns/r", &receiver()).unwrap();

    let error = Store::open(dir.path()).unwrap_err();
    assert!(matches!(error, StateError::Locked { .. }), "{error:?}");
    let expected = format!(
        "another imagebump daemon is using {}",
        state_file(dir.path()).display()
    );
    assert!(error.to_string().starts_with(&expected), "{error}");

    // The first store is unaffected, and once it is gone the file opens again.
    assert_eq!(first.receiver("ns/r").unwrap(), Some(receiver()));
    drop(first);
    assert_eq!(
        Store::open(dir.path()).unwrap().receiver("ns/r").unwrap(),
        Some(receiver())
    );
}

#[test]
fn a_damaged_record_is_an_error_naming_it_and_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_repository("ns/good", &repository()).unwrap();
    }
    write_raw(dir.path(), REPOSITORIES, "ns/bad", b"{\"tags\": [1, 2");
    write_raw(
        dir.path(),
        POLICIES,
        "ns/typed",
        br#"{"latest": "not an object"}"#,
    );

    let store = Store::open(dir.path()).unwrap();
    let error = store.repository("ns/bad").unwrap_err();
    assert!(
        matches!(
            error,
            StateError::DamagedRecord {
                table: "repositories",
                ..
            }
        ),
        "{error:?}"
    );
    let expected = format!(
        "{}: record repositories/ns/bad is damaged: ",
        state_file(dir.path()).display()
    );
    assert!(error.to_string().starts_with(&expected), "{error}");

    let error = store.policy("ns/typed").unwrap_err();
    assert!(
        error.to_string().contains("record policies/ns/typed is damaged"),
        "{error}"
    );

    assert_eq!(store.repository("ns/good").unwrap(), Some(repository()));
    // Writing a good record over the damaged one repairs it.
    store.put_repository("ns/bad", &repository()).unwrap();
    assert_eq!(store.repository("ns/bad").unwrap(), Some(repository()));
}

#[test]
fn suspend_overrides_are_set_and_cleared_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.suspended("ImageRepository", "ns/a").unwrap());

    store.set_suspended("ImageRepository", "ns/a", true).unwrap();
    assert!(store.suspended("ImageRepository", "ns/a").unwrap());
    assert!(!store.suspended("ImagePolicy", "ns/a").unwrap());
    assert!(!store.suspended("ImageRepository", "ns/b").unwrap());

    // Setting twice and clearing what is not set are both fine.
    store.set_suspended("ImageRepository", "ns/a", true).unwrap();
    store.set_suspended("ImageRepository", "ns/b", false).unwrap();
    store.set_suspended("ImageRepository", "ns/a", false).unwrap();
    assert!(!store.suspended("ImageRepository", "ns/a").unwrap());
}

#[test]
fn remove_forgets_the_record_and_the_override_of_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for key in ["ns/gone", "ns/kept"] {
        store.put_repository(key, &repository()).unwrap();
        store.set_suspended("ImageRepository", key, true).unwrap();
    }
    store.put_policy("ns/gone", &policy()).unwrap();
    store.set_suspended("GitRepository", "ns/gone", true).unwrap();

    store.remove("ImageRepository", "ns/gone").unwrap();
    assert_eq!(store.repository("ns/gone").unwrap(), None);
    assert!(!store.suspended("ImageRepository", "ns/gone").unwrap());
    // Other objects, and the same key of other kinds, stay.
    assert_eq!(store.repository("ns/kept").unwrap(), Some(repository()));
    assert!(store.suspended("ImageRepository", "ns/kept").unwrap());
    assert_eq!(store.policy("ns/gone").unwrap(), Some(policy()));
    assert!(store.suspended("GitRepository", "ns/gone").unwrap());

    // A kind without records has only its override to forget; forgetting twice is fine.
    store.remove("GitRepository", "ns/gone").unwrap();
    store.remove("GitRepository", "ns/gone").unwrap();
    assert!(!store.suspended("GitRepository", "ns/gone").unwrap());

    for (kind, put) in [
        (
            "ImagePolicy",
            Box::new(|s: &Store| s.put_policy("ns/x", &policy())) as Box<dyn Fn(&Store) -> _>,
        ),
        (
            "ImageUpdateAutomation",
            Box::new(|s: &Store| s.put_automation("ns/x", &automation())),
        ),
        (
            "Receiver",
            Box::new(|s: &Store| s.put_receiver("ns/x", &receiver())),
        ),
    ] {
        put(&store).unwrap();
        store.remove(kind, "ns/x").unwrap();
    }
    assert_eq!(store.policy("ns/x").unwrap(), None);
    assert_eq!(store.automation("ns/x").unwrap(), None);
    assert_eq!(store.receiver("ns/x").unwrap(), None);
}

#[test]
fn a_thousand_repositories_of_a_hundred_tags_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let record = |i: usize| RepositoryRecord {
        tags: (0..100).map(|t| format!("{i}.{t}.0-build.{t:04}")).collect(),
        revision: format!("sha256:{i:064x}"),
        canonical_image_name: format!("registry.example.com/team/app-{i}"),
        scan_time: Some(i64::try_from(i).unwrap()),
        ..RepositoryRecord::default()
    };
    {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..1000 {
            store.put_repository(&format!("ns/app-{i}"), &record(i)).unwrap();
        }
    }
    let store = Store::open(dir.path()).unwrap();
    for i in 0..1000 {
        assert_eq!(
            store.repository(&format!("ns/app-{i}")).unwrap(),
            Some(record(i)),
            "ns/app-{i}"
        );
    }
}

/// Writes `bytes` as the record `key` of `table`, bypassing the store, which must be closed.
fn write_raw(dir: &Path, table: RecordTable, key: &str, bytes: &[u8]) {
    let db = Database::open(state_file(dir)).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(table.definition)
        .unwrap()
        .insert(key, bytes)
        .unwrap();
    txn.commit().unwrap();
}

fn set_format_version(dir: &Path, version: u32) {
    let db = Database::open(state_file(dir)).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(META)
        .unwrap()
        .insert(FORMAT_VERSION_KEY, version)
        .unwrap();
    txn.commit().unwrap();
}

fn format_version(dir: &Path) -> Option<u32> {
    let db = Database::open(state_file(dir)).unwrap();
    let txn = db.begin_read().unwrap();
    txn.open_table(META)
        .unwrap()
        .get(FORMAT_VERSION_KEY)
        .unwrap()
        .map(|v| v.value())
}
