//! The workflow stores on a SQLite file: the conformance suite, and the upgrade of a file
//! written under the first schema's table names.

use super::*;

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        let db = sqlite::SqliteWorkflow::open(&dir.path().join(format!("{n}.sqlite"))).unwrap();
        (Box::new(db.clone()), Box::new(db))
    });
}

#[test]
fn a_workflow_file_of_the_first_schema_is_upgraded_with_its_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workflow.sqlite");
    {
        let w = Workflow::open(&path).unwrap();
        w.served(7, 10).unwrap();
        w.request_correction(123_456_789, "{}", 3, "carol", 5)
            .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE feed_positions RENAME TO positions; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let w = Workflow::open(&path).unwrap();
    assert_eq!(
        w.position(7).unwrap(),
        Position {
            served: 10,
            acked: 0
        }
    );
    assert_eq!(w.corrections_of(123_456_789).unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}
