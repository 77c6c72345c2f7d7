//! The workflow and user stores on PostgreSQL, as two server nodes sharing one database see
//! them: each node has its own connection pool, as the login role the service runs as.

use std::sync::Barrier;

use dmf_postgres::PgStore;
use dmf_postgres::testing::{TestDb, TestRole, server};
use dmf_service::users::{
    IDLE_MS, LOCKOUT_MS, LoginError, MAX_FAILURES, SESSION_MS, UserError, UserRole, Users,
};
use dmf_service::workflow::{Approval, CorrectionStatus, Filed, Position, Step, Workflow};

const NOW: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const PASSWORD: &str = "correct horse battery";

/// One node's stores, on a pool of its own.
struct Node {
    workflow: Workflow,
    users: Users,
}

fn node(url: &str) -> Node {
    let pool = PgStore::connect(url).unwrap().pool();
    Node {
        workflow: Workflow::on_postgres(pool.clone()).unwrap(),
        users: Users::on_postgres(pool).unwrap(),
    }
}

/// A migrated database and two nodes on it, connected as a `dmf_writer` login so that the
/// grants are shown to be enough. The nodes come first so that they are dropped first.
fn two_nodes() -> Option<(Node, Node, TestDb, TestRole)> {
    let server = server()?;
    let db = server.migrated();
    let role = server.writer_role();
    let url = db.url_as(&role.name);
    Some((node(&url), node(&url), db, role))
}

#[test]
fn positions_advance_on_either_node_and_never_go_back() {
    let Some((a, b, _db, _role)) = two_nodes() else {
        return;
    };
    let (a, b) = (&a.workflow, &b.workflow);
    assert_eq!(a.position(7).unwrap(), Position::default());

    a.served(7, 10).unwrap();
    assert_eq!(
        b.position(7).unwrap(),
        Position {
            served: 10,
            acked: 0
        }
    );
    // A slower node reporting an older cursor does not move the subscriber back.
    b.served(7, 4).unwrap();
    assert_eq!(a.position(7).unwrap().served, 10);
    b.served(7, 25).unwrap();
    assert_eq!(a.position(7).unwrap().served, 25);

    b.acked(7, 8, NOW).unwrap();
    a.acked(7, 3, NOW + 1).unwrap();
    assert_eq!(
        a.position(7).unwrap(),
        Position {
            served: 25,
            acked: 8
        }
    );
    a.acked(7, 20, NOW + 2).unwrap();
    assert_eq!(b.position(7).unwrap().acked, 20);

    // A first acknowledgement creates the position as a first serving does.
    b.acked(3, 5, NOW).unwrap();
    let expected = vec![
        (
            3,
            Position {
                served: 0,
                acked: 5,
            },
        ),
        (
            7,
            Position {
                served: 25,
                acked: 20,
            },
        ),
    ];
    assert_eq!(a.positions().unwrap(), expected);
    assert_eq!(b.positions().unwrap(), expected);
}

#[test]
fn a_correction_requested_on_one_node_is_approved_on_the_other() {
    let Some((a, b, db, _role)) = two_nodes() else {
        return;
    };
    let (a, b) = (&a.workflow, &b.workflow);
    let first = a
        .request_correction(123_456_789, "{\"first\":\"Alicia\"}", 3, "carol", NOW)
        .unwrap()
        .id();
    let second = b
        .request_correction(987_654_321, "{\"last\":\"Jones\"}", 4, "dave", NOW + 1)
        .unwrap()
        .id();

    b.approve_correction(first, 5, "erin", NOW + 10, 42)
        .unwrap();
    // Approved once only, and only what was requested.
    let twice = a
        .approve_correction(first, 6, "frank", NOW + 11, 43)
        .unwrap_err()
        .to_string();
    assert!(
        twice.starts_with("PostgreSQL failed to record a correction's approval")
            && twice.contains("duplicate key"),
        "{twice}"
    );
    assert!(
        a.approve_correction(9_999, 6, "frank", NOW + 11, 43)
            .is_err()
    );
    // The first approved, a new request for the person is a correction of its own.
    let third = a
        .request_correction(
            123_456_789,
            "{\"dod\":\"2026-01-02\"}",
            3,
            "carol",
            NOW + 12,
        )
        .unwrap();
    let third = match third {
        Filed::New(id) => id,
        other => panic!("{other:?}"),
    };
    assert!(first < second && second < third);

    let approved = a.correction(first).unwrap().unwrap();
    assert_eq!(approved, b.correction(first).unwrap().unwrap());
    assert_eq!(approved.ssn, 123_456_789);
    assert_eq!(approved.body, "{\"first\":\"Alicia\"}");
    assert_eq!(
        (approved.requested_key, approved.requested_by.as_str()),
        (3, "carol")
    );
    assert_eq!(approved.requested_at, NOW);
    assert_eq!(
        approved.approval,
        Some(Approval {
            key: 5,
            by: "erin".to_owned(),
            at: NOW + 10,
            seq: 42,
        })
    );
    assert_eq!(b.correction(second).unwrap().unwrap().approval, None);
    assert_eq!(a.correction(9_999).unwrap(), None);

    let ids = |list: Vec<dmf_service::workflow::CorrectionRequest>| -> Vec<i64> {
        list.into_iter().map(|c| c.id).collect()
    };
    for node in [a, b] {
        assert_eq!(
            ids(node.corrections(false, 10).unwrap()),
            [third, second, first]
        );
        assert_eq!(ids(node.corrections(false, 2).unwrap()), [third, second]);
        assert_eq!(ids(node.corrections(true, 10).unwrap()), [third, second]);
        assert_eq!(ids(node.corrections(true, 1).unwrap()), [third]);
        assert_eq!(
            ids(node.corrections_of(123_456_789).unwrap()),
            [first, third]
        );
        assert_eq!(ids(node.corrections_of(987_654_321).unwrap()), [second]);
        assert!(node.corrections_of(111_111_111).unwrap().is_empty());
    }

    // The tables refuse changes even to their owner (the actions' too, with one in it).
    assert_eq!(
        b.request_correction(987_654_321, "{}", 6, "frank", NOW + 13)
            .unwrap(),
        Filed::Joined(second)
    );
    let mut owner = db.owner();
    for sql in [
        "UPDATE correction_requests SET body = '{}'",
        "DELETE FROM correction_requests",
        "UPDATE correction_approvals SET approved_by = 'mallory'",
        "DELETE FROM correction_approvals",
        "UPDATE correction_actions SET reason = 'none'",
        "DELETE FROM correction_actions",
    ] {
        let e = owner.batch_execute(sql).unwrap_err();
        let message = e.as_db_error().map(|d| d.message().to_owned());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("append-only")),
            "{sql}: {e:?}"
        );
    }
    assert_eq!(a.correction(first).unwrap().unwrap(), approved);
}

/// Two nodes asked at once for corrections of one person: one correction, every other request
/// joined to it or found already there, and never a second open correction.
#[test]
fn requests_for_one_person_on_two_nodes_at_once_make_one_correction() {
    let Some((a, b, _db, _role)) = two_nodes() else {
        return;
    };
    const EACH: usize = 8;
    let barrier = Barrier::new(2 * EACH);
    let filed: Vec<Filed> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..2 * EACH)
            .map(|i| {
                let node = if i % 2 == 0 { &a.workflow } else { &b.workflow };
                let barrier = &barrier;
                s.spawn(move || {
                    // Half of them send the same request twice, as Back and Submit does.
                    let who = (i / 2) as i64;
                    let body = format!("{{\"reason\":\"seen alive\",\"by\":{who}}}");
                    barrier.wait();
                    node.request_correction(
                        123_456_789,
                        &body,
                        -who,
                        &format!("cw{who}"),
                        NOW + i as i64,
                    )
                    .unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let id = filed[0].id();
    assert!(filed.iter().all(|f| f.id() == id), "{filed:?}");
    let new = filed.iter().filter(|f| matches!(f, Filed::New(_))).count();
    let joined = filed
        .iter()
        .filter(|f| matches!(f, Filed::Joined(_)))
        .count();
    let repeated = filed
        .iter()
        .filter(|f| matches!(f, Filed::Repeated(_)))
        .count();
    // EACH people, each asking twice: one made it, the others joined once each.
    assert_eq!((new, joined, repeated), (1, EACH - 1, EACH), "{filed:?}");
    let all = a.workflow.corrections_of(123_456_789).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].actions.len(), EACH);
    // Two supervisors deciding at once: one decision stands, the other is refused.
    let reject = Step::Reject {
        reason: "no".into(),
    };
    let send_back = Step::SendBack {
        reason: "more".into(),
    };
    let (x, y) = std::thread::scope(|s| {
        let x = s.spawn(|| a.workflow.act(id, &reject, -90, "sam", NOW + 100));
        let y = s.spawn(|| b.workflow.act(id, &send_back, -91, "sue", NOW + 100));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert!(x.is_ok() != y.is_ok(), "{x:?} {y:?}");
    let decided = b.workflow.correction(id).unwrap().unwrap();
    assert!(
        matches!(
            decided.status,
            CorrectionStatus::Rejected | CorrectionStatus::SentBack
        ),
        "{decided:?}"
    );
}

#[test]
fn users_made_on_one_node_sign_in_on_the_other() {
    let Some((a, b, _db, _role)) = two_nodes() else {
        return;
    };
    let (a, b) = (&a.users, &b.users);
    let alice = a
        .create("alice", UserRole::Supervisor, PASSWORD, NOW)
        .unwrap();
    let exists = b.create("ALICE", UserRole::Caseworker, PASSWORD, NOW);
    assert!(
        matches!(&exists, Err(UserError::Exists(name)) if name == "ALICE"),
        "{exists:?}"
    );
    let bob = b
        .create("bob.smith@agency", UserRole::Oversight, PASSWORD, NOW)
        .unwrap();
    assert_eq!(a.list().unwrap(), [alice.clone(), bob.clone()]);
    assert_eq!(b.get(alice.id).unwrap(), Some(alice.clone()));
    assert_eq!(a.get(bob.id + 100).unwrap(), None);

    assert!(matches!(
        b.login("alice", "wrong password!", NOW),
        Err(LoginError::Invalid)
    ));
    assert!(matches!(
        b.login("nobody", PASSWORD, NOW),
        Err(LoginError::Invalid)
    ));
    let s = b.login("Alice", PASSWORD, NOW).expect("any case");
    assert_eq!(s.user, alice, "the name as created");
    assert_ne!(s.token, s.csrf);

    // A session opened on one node is good on the other, and ends on both.
    let found = a.session(&s.token, NOW + MINUTE).unwrap().unwrap();
    assert_eq!((found.user, found.csrf), (alice.clone(), s.csrf.clone()));
    assert!(b.session("not a token", NOW).unwrap().is_none());
    a.logout(&s.token).unwrap();
    assert!(b.session(&s.token, NOW + MINUTE).unwrap().is_none());
}

#[test]
fn sessions_expire_on_every_node() {
    let Some((a, b, _db, _role)) = two_nodes() else {
        return;
    };
    let (a, b) = (&a.users, &b.users);
    a.create("alice", UserRole::Caseworker, PASSWORD, NOW)
        .unwrap();

    // Idle too long: gone, and stays gone.
    let s = a.login("alice", PASSWORD, NOW).unwrap();
    assert!(b.session(&s.token, NOW + MINUTE).unwrap().is_some());
    assert!(
        a.session(&s.token, NOW + IDLE_MS + 2 * MINUTE)
            .unwrap()
            .is_none()
    );
    assert!(b.session(&s.token, NOW + 2 * MINUTE).unwrap().is_none());

    // Kept alive by use on either node, but not beyond the longest session.
    let s = b.login("alice", PASSWORD, NOW).unwrap();
    let mut t = NOW;
    let mut nodes = [a, b].into_iter().cycle();
    while t + IDLE_MS / 2 < NOW + SESSION_MS {
        t += IDLE_MS / 2;
        let node = nodes.next().unwrap();
        assert!(node.session(&s.token, t).unwrap().is_some(), "at {t}");
    }
    assert!(
        a.session(&s.token, NOW + SESSION_MS + MINUTE)
            .unwrap()
            .is_none()
    );
    assert!(b.session(&s.token, t).unwrap().is_none());
}

#[test]
fn failed_logins_on_both_nodes_count_towards_one_lockout() {
    let Some((a, b, db, _role)) = two_nodes() else {
        return;
    };
    let (a, b) = (&a.users, &b.users);
    a.create("alice", UserRole::Caseworker, PASSWORD, NOW)
        .unwrap();
    let nodes = [a, b];
    for i in 1..MAX_FAILURES {
        let node = nodes[i as usize % 2];
        assert!(
            matches!(
                node.login("ALICE", "guess", NOW + i),
                Err(LoginError::Invalid)
            ),
            "attempt {i}"
        );
    }
    let last = nodes[MAX_FAILURES as usize % 2].login("alice", "guess", NOW + MAX_FAILURES);
    assert!(
        matches!(last, Err(LoginError::Locked { minutes: 15 })),
        "{last:?}"
    );
    for node in nodes {
        let locked = node.login("alice", PASSWORD, NOW + MAX_FAILURES + MINUTE);
        assert!(
            matches!(locked, Err(LoginError::Locked { minutes: 14 })),
            "{locked:?}"
        );
    }
    // After the lockout the right password works, and the count starts again.
    let after = NOW + LOCKOUT_MS + MAX_FAILURES + 1;
    assert!(b.login("alice", PASSWORD, after).is_ok());
    assert!(matches!(
        a.login("alice", "guess", after),
        Err(LoginError::Invalid)
    ));

    // Every attempt is on record, under the name as created when it exists.
    let outcomes: Vec<(String, String)> = db
        .owner()
        .query("SELECT name, outcome FROM console_logins ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut expected = vec![("alice", "failed"); MAX_FAILURES as usize - 1];
    expected.extend([
        ("alice", "failed, locked"),
        ("alice", "locked"),
        ("alice", "locked"),
        ("alice", "ok"),
        ("alice", "failed"),
    ]);
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(n, o)| (n.to_owned(), o.to_owned()))
        .collect();
    assert_eq!(outcomes, expected);
}

#[test]
fn simultaneous_failures_on_both_nodes_are_all_counted() {
    let Some((a, b, db, _role)) = two_nodes() else {
        return;
    };
    a.users
        .create("alice", UserRole::Caseworker, PASSWORD, NOW)
        .unwrap();
    let nodes = [&a.users, &b.users];
    let start = Barrier::new(MAX_FAILURES as usize);
    std::thread::scope(|s| {
        for i in 0..MAX_FAILURES as usize {
            let (node, start) = (nodes[i % 2], &start);
            s.spawn(move || {
                start.wait();
                let refused = node.login("alice", "guess", NOW);
                assert!(
                    matches!(
                        refused,
                        Err(LoginError::Invalid | LoginError::Locked { .. })
                    ),
                    "{refused:?}"
                );
            });
        }
    });
    let failures: i32 = db
        .owner()
        .query_one("SELECT failures FROM console_users", &[])
        .unwrap()
        .get(0);
    assert_eq!(i64::from(failures), MAX_FAILURES);
    for node in nodes {
        let locked = node.login("alice", PASSWORD, NOW + 1);
        assert!(
            matches!(locked, Err(LoginError::Locked { .. })),
            "{locked:?}"
        );
    }
}
