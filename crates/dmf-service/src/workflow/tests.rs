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
            "ALTER TABLE feed_positions RENAME TO positions; DROP TABLE correction_actions;
             PRAGMA user_version = 1;",
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
    let kept = w.corrections_of(123_456_789).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].status, CorrectionStatus::Open);
    assert_eq!(version(&path), 3);
}

fn version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

/// A file written before corrections had a lifecycle (schema 2) keeps its corrections as they
/// were, awaiting approval or approved, and takes every step after the upgrade.
#[test]
fn a_workflow_file_of_the_second_schema_gains_the_correction_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workflow.sqlite");
    let (waiting, approved) = {
        let w = Workflow::open(&path).unwrap();
        let waiting = w
            .request_correction(123_456_789, "{}", 3, "carol", 5)
            .unwrap()
            .id();
        let approved = w
            .request_correction(234_567_890, "{}", 3, "carol", 6)
            .unwrap()
            .id();
        w.approve_correction(approved, 4, "sam", 7, 40).unwrap();
        (waiting, approved)
    };
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE correction_actions; PRAGMA user_version = 2;")
        .unwrap();
    let w = Workflow::open(&path).unwrap();
    assert_eq!(version(&path), 3);
    let status = |id| w.correction(id).unwrap().unwrap().status;
    assert_eq!(status(waiting), CorrectionStatus::Open);
    assert_eq!(status(approved), CorrectionStatus::Approved);
    let step = Step::Reject {
        reason: "no evidence".into(),
    };
    assert_eq!(
        w.act(waiting, &step, 4, "sam", 8).unwrap().status,
        CorrectionStatus::Rejected
    );
}

/// Two server processes on one file, asking at once for corrections of one person: one
/// correction, the others joined to it.
#[test]
fn requests_for_one_person_from_two_connections_at_once_make_one_correction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workflow.sqlite");
    let nodes = [
        Workflow::open(&path).unwrap(),
        Workflow::open(&path).unwrap(),
    ];
    let barrier = std::sync::Barrier::new(8);
    let filed: Vec<Filed> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8i64)
            .map(|i| {
                let node = &nodes[(i % 2) as usize];
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    node.request_correction(123_456_789, &format!("{{\"n\":{i}}}"), -i, "cw", i)
                        .unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let id = filed[0].id();
    assert!(filed.iter().all(|f| f.id() == id), "{filed:?}");
    assert_eq!(
        filed.iter().filter(|f| matches!(f, Filed::New(_))).count(),
        1,
        "{filed:?}"
    );
    assert_eq!(nodes[1].corrections_of(123_456_789).unwrap().len(), 1);
    assert_eq!(
        nodes[0].correction(id).unwrap().unwrap().actions.len(),
        8,
        "the request and seven joined"
    );
}
