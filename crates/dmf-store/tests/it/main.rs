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
