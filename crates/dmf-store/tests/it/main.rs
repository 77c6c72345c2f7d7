//! Tests of the SQLite store: the conformance suite, plus what only a real file can show.

use std::path::Path;
use std::sync::Arc;

use dmf_store::conformance::{self, event};
use dmf_store::{EventStore, SqliteStore, StoreError};

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        Arc::new(SqliteStore::open(&dir.path().join(format!("store-{n}.sqlite"))).unwrap())
    });
}

#[test]
fn events_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    SqliteStore::open(&path)
        .unwrap()
        .append(&[event("a", Some(5), Some("k"))])
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap(), 1);
    assert_eq!(
        store.append(&[event("a", Some(5), Some("k"))]).unwrap()[0].seq(),
        1
    );
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn update_and_delete_are_refused_by_the_file_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    store.append(&[event("a", Some(5), None)]).unwrap();
    let conn = raw(&path);
    let err = conn
        .execute("UPDATE events SET kind = 'b'", [])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("events are append-only: UPDATE refused"),
        "{err}"
    );
    let err = conn.execute("DELETE FROM events", []).unwrap_err();
    assert!(
        err.to_string()
            .contains("events are append-only: DELETE refused"),
        "{err}"
    );
    assert_eq!(store.read_after(0, 10).unwrap()[0].kind, "a");
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.sqlite");
    std::fs::write(
        &path,
        b"this is not a database, just some text that is long enough",
    )
    .unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::NotAStore { path: p, reason }) => {
            assert!(p.ends_with("junk.sqlite"));
            assert!(reason.contains("not a database"), "{reason}");
        }
        other => panic!("expected NotAStore, got {other:?}"),
    }
    let other = dir.path().join("other.sqlite");
    raw(&other).pragma_update(None, "user_version", 9).unwrap();
    let err = SqliteStore::open(&other).unwrap_err();
    assert!(err.to_string().contains("schema version 9"), "{err}");
}

/// The events table as schema version 1 wrote it, before events carried a MAC.
const VERSION_1: &str = "
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject INTEGER,
    idempotency_key TEXT,
    recorded_at INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX events_subject ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE UNIQUE INDEX events_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
INSERT INTO events (kind, subject, idempotency_key, recorded_at, body)
    VALUES ('a', 5, 'k', 1, x'7b7d'), ('b', NULL, NULL, 2, x'7b7d');
PRAGMA user_version = 1;
";

#[test]
fn a_version_1_file_is_upgraded_only_when_its_owner_allows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    raw(&path).execute_batch(VERSION_1).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("schema version 1"), "{err}");

    // Refused: nothing changes.
    let err = SqliteStore::upgrade(&path, |head| Err(format!("{head} events: no"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot upgrade the store at {}: 2 events: no",
            path.display()
        )
    );
    let version: i64 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);

    let mut seen = None;
    let found = SqliteStore::upgrade(&path, |head| {
        seen = Some(head);
        Ok(())
    })
    .unwrap();
    assert_eq!((found, seen), (Some(1), Some(2)));
    assert_eq!(SqliteStore::upgrade(&path, |_| Ok(())).unwrap(), None);
    let store = SqliteStore::open(&path).unwrap();
    store.append(&[event("c", Some(5), None)]).unwrap();
    let macs: Vec<Option<Vec<u8>>> = store
        .read_after(0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.mac)
        .collect();
    assert_eq!(macs, [None, None, event("c", Some(5), None).mac]);
    // Still append-only after the upgrade.
    assert!(raw(&path).execute("DELETE FROM events", []).is_err());
    assert!(
        raw(&path)
            .execute("UPDATE events SET mac = x'00'", [])
            .is_err()
    );
}
