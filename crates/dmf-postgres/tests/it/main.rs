//! Tests of the PostgreSQL store against a real server: the conformance suite, then what only
//! PostgreSQL adds (migrations, privileges, several processes, locks, notifications).

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use dmf_postgres::testing::{TestDb, server};
use dmf_postgres::{PgError, PgStore, SCHEMA_VERSION, listen, migrate};
use dmf_store::conformance::{self, event};
use dmf_store::{Appended, EventStore, NewEvent, Seq, StoreError};

/// The message of a database error, or the whole error if it is not one.
fn db_message(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| e.to_string())
}

#[test]
fn postgres_passes_the_conformance_suite() {
    let Some(server) = server() else { return };
    let mut dbs = Vec::new();
    conformance::run_all(&mut || {
        let db = server.migrated();
        let store = PgStore::connect(&db.url).unwrap();
        dbs.push(db);
        Arc::new(store)
    });
}

#[test]
fn migrations_are_recorded_and_idempotent() {
    let Some(server) = server() else { return };
    let db = server.database();
    assert_eq!(migrate(&db.url).unwrap(), SCHEMA_VERSION);
    assert_eq!(migrate(&db.url).unwrap(), SCHEMA_VERSION, "nothing new");
    let recorded: Vec<(i32, String, bool)> = db
        .owner()
        .query(
            "SELECT version, name, applied_at IS NOT NULL FROM dmf_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        recorded,
        vec![
            (1, "events".to_owned(), true),
            (2, "checkpoints".to_owned(), true),
            (3, "service".to_owned(), true),
            (4, "programs".to_owned(), true),
            (5, "key_quotas".to_owned(), true),
            (6, "event_macs".to_owned(), true),
            (7, "correction_actions".to_owned(), true),
            (8, "key_jurisdiction".to_owned(), true)
        ]
    );
    assert_eq!(SCHEMA_VERSION, 8);
}

/// A database as schema version 4 left it, before events carried a MAC, holding `events`
/// events and a published checkpoint of `signed`.
fn at_version_4(server: &dmf_postgres::testing::Server, events: i64, signed: i64) -> TestDb {
    let db = server.database();
    let mut owner = db.owner();
    owner
        .batch_execute(
            "CREATE TABLE dmf_migrations (version integer PRIMARY KEY, name text, \
             applied_at timestamptz DEFAULT now())",
        )
        .unwrap();
    let steps = [
        include_str!("../../migrations/0001_events.sql"),
        include_str!("../../migrations/0002_checkpoints.sql"),
        include_str!("../../migrations/0003_service.sql"),
        include_str!("../../migrations/0004_programs.sql"),
    ];
    for (i, sql) in steps.iter().enumerate() {
        owner.batch_execute(sql).unwrap();
        owner
            .execute(
                "INSERT INTO dmf_migrations (version, name) VALUES ($1, 'old')",
                &[&(i as i32 + 1)],
            )
            .unwrap();
    }
    owner
        .execute(
            "INSERT INTO events (seq, kind, subject, idempotency_key, recorded_at, body) \
             SELECT n, 'death_report', NULL, NULL, 0, '\\x7b7d' FROM generate_series(1, $1::bigint) n",
            &[&events],
        )
        .unwrap();
    owner
        .execute(
            "INSERT INTO checkpoints (size, note, signed_at) VALUES ($1, 'note', 0)",
            &[&signed],
        )
        .unwrap();
    db
}

#[test]
fn the_mac_migration_waits_for_events_beyond_the_signed_log() {
    let Some(server) = server() else { return };
    let db = at_version_4(&server, 5, 3);
    let err = migrate(&db.url).unwrap_err().to_string();
    assert!(
        err.contains("events 4 to 5 lie beyond the signed log (3 events) and carry no MAC"),
        "{err}"
    );
    let err = PgStore::connect(&db.url).unwrap_err();
    // The migrations before it are applied, each in its own transaction.
    assert!(matches!(err, PgError::Outdated { found: 5, .. }), "{err:?}");

    let db = at_version_4(&server, 5, 5);
    assert_eq!(migrate(&db.url).unwrap(), SCHEMA_VERSION);
    let store = PgStore::connect(&db.url).unwrap();
    let macs: Vec<Option<Vec<u8>>> = store
        .read_after(0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.mac)
        .collect();
    assert_eq!(macs, vec![None; 5], "events stored before keep no MAC");
    let appended = store.append(&[event("a", Some(1), None)]).unwrap();
    assert_eq!(appended, vec![Appended::New(6)]);
    assert_eq!(
        store.read_after(5, 1).unwrap()[0].mac,
        event("a", Some(1), None).mac
    );
}

#[test]
fn processes_migrating_at_once_do_not_collide() {
    let Some(server) = server() else { return };
    let db = server.database();
    let barrier = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let url = db.url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                migrate(&url)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let count: i64 = db
        .owner()
        .query_one("SELECT count(*) FROM dmf_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, i64::from(SCHEMA_VERSION));
}

#[test]
fn an_unmigrated_database_is_refused() {
    let Some(server) = server() else { return };
    let db = server.database();
    let err = PgStore::connect(&db.url).unwrap_err();
    assert!(matches!(err, PgError::NotInitialised { .. }), "{err:?}");
    assert!(err.to_string().contains("dmf init --database"), "{err}");
    let err = StoreError::from(err);
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err:?}");

    let missing = db.url_as_database("dmf_t_no_such_database");
    let err = PgStore::connect(&missing).unwrap_err();
    assert!(matches!(err, PgError::Connect { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("database \"dmf_t_no_such_database\" does not exist"),
        "the server's own words are kept: {err}"
    );
    assert!(matches!(StoreError::from(err), StoreError::Open { .. }));
}

#[test]
fn a_newer_or_older_schema_is_refused() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    db.owner()
        .batch_execute("INSERT INTO dmf_migrations (version, name) VALUES (99, 'future')")
        .unwrap();
    let err = PgStore::connect(&db.url).unwrap_err();
    assert!(
        matches!(err, PgError::TooNew { found: 99, known, .. } if known == SCHEMA_VERSION),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer than this program"), "{err}");
    let err = migrate(&db.url).unwrap_err();
    assert!(matches!(err, PgError::TooNew { found: 99, .. }), "{err:?}");

    let old = server.migrated();
    old.owner()
        .batch_execute("DELETE FROM dmf_migrations WHERE version > 1")
        .unwrap();
    let err = PgStore::connect(&old.url).unwrap_err();
    assert!(matches!(err, PgError::Outdated { found: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("dmf init --database"), "{err}");
}

#[test]
fn the_writer_role_can_append_but_not_change_and_the_owner_is_stopped_by_triggers() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let role = server.writer_role();
    let url = db.url_as(&role.name);
    {
        let store = PgStore::connect(&url).unwrap();
        assert_eq!(
            store.append(&[event("a", Some(5), Some("k"))]).unwrap(),
            vec![Appended::New(1)]
        );
        store.publish_checkpoint(1, "note", 7).unwrap();
        assert_eq!(store.read_after(0, 10).unwrap()[0].kind, "a");

        let mut writer = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for sql in [
            "UPDATE events SET kind = 'b'",
            "DELETE FROM events",
            "TRUNCATE events",
            "UPDATE checkpoints SET note = 'forged'",
            "DELETE FROM checkpoints",
            "TRUNCATE checkpoints",
        ] {
            let err = writer.batch_execute(sql).unwrap_err();
            assert!(
                db_message(&err).contains("permission denied"),
                "{sql}: {err}"
            );
        }
    }
    let mut owner = db.owner();
    for (sql, table, op) in [
        ("UPDATE events SET kind = 'b'", "events", "UPDATE"),
        ("DELETE FROM events", "events", "DELETE"),
        ("TRUNCATE events", "events", "TRUNCATE"),
        (
            "UPDATE checkpoints SET note = 'forged'",
            "checkpoints",
            "UPDATE",
        ),
        ("DELETE FROM checkpoints", "checkpoints", "DELETE"),
        ("TRUNCATE checkpoints", "checkpoints", "TRUNCATE"),
    ] {
        let err = owner.batch_execute(sql).unwrap_err();
        assert_eq!(
            db_message(&err),
            format!("{table} is append-only: {op} refused"),
            "{sql}"
        );
    }
    let store = PgStore::connect(&db.url).unwrap();
    assert_eq!(store.head().unwrap(), 1);
    assert_eq!(store.read_after(0, 10).unwrap()[0].kind, "a");
    assert_eq!(
        store.latest_checkpoint().unwrap(),
        Some((1, "note".to_owned()))
    );
}

#[test]
fn separate_processes_append_without_gaps() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            // Its own pool, so its own sessions, as another process would have.
            let store = PgStore::connect(&db.url).unwrap();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                (0..200)
                    .map(|i| {
                        let key = format!("t{t}-{i}");
                        match store.append(&[event("c", Some(t), Some(&key))]).unwrap()[..] {
                            [Appended::New(seq)] => (key, seq),
                            ref other => panic!("{key}: {other:?}"),
                        }
                    })
                    .collect::<Vec<(String, Seq)>>()
            })
        })
        .collect();
    let mut all: Vec<(String, Seq)> = Vec::new();
    for t in threads {
        let got = t.join().unwrap();
        assert!(
            got.windows(2).all(|w| w[0].1 < w[1].1),
            "one process's appends stay in order"
        );
        all.extend(got);
    }
    let seqs: HashSet<Seq> = all.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=800).collect::<HashSet<Seq>>(), "gap-free");

    let other = PgStore::connect(&db.url).unwrap();
    assert_eq!(other.head().unwrap(), 800);
    let stored = other.read_after(0, 1000).unwrap();
    assert_eq!(
        stored.iter().map(|e| e.seq).collect::<Vec<Seq>>(),
        (1..=800).collect::<Vec<Seq>>()
    );
    let retry: Vec<NewEvent> = all
        .iter()
        .map(|(key, _)| event("c", None, Some(key)))
        .collect();
    let again = other.append(&retry).unwrap();
    assert_eq!(
        again,
        all.iter()
            .map(|(_, seq)| Appended::Duplicate(*seq))
            .collect::<Vec<_>>()
    );
    assert_eq!(other.head().unwrap(), 800, "retries store nothing");
}

#[test]
fn one_signer_at_a_time() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let a = PgStore::connect(&db.url).unwrap();
    let b = Arc::new(PgStore::connect(&db.url).unwrap());
    let mut held = a.try_writer_lock().unwrap().expect("free at first");
    held.confirm().unwrap();
    assert!(b.try_writer_lock().unwrap().is_none());
    assert!(
        a.try_writer_lock().unwrap().is_none(),
        "each lock is its own session, even from the same store"
    );
    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || b.writer_lock())
    };
    drop(held);
    let taken_by_b = waiter.join().unwrap().unwrap();
    assert!(a.try_writer_lock().unwrap().is_none());
    drop(taken_by_b);
    assert!(a.try_writer_lock().unwrap().is_some());
}

#[test]
fn checkpoints_are_published_once() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let store = PgStore::connect(&db.url).unwrap();
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    store.publish_checkpoint(10, "ten", 1).unwrap();
    store.publish_checkpoint(10, "ten", 2).unwrap();
    let err = store.publish_checkpoint(10, "forged", 3).unwrap_err();
    assert!(
        matches!(err, PgError::CheckpointConflict { size: 10 }),
        "{err:?}"
    );
    store.publish_checkpoint(20, "twenty", 4).unwrap();
    store.publish_checkpoint(15, "fifteen", 5).unwrap();
    assert_eq!(
        store.latest_checkpoint().unwrap(),
        Some((20, "twenty".to_owned()))
    );
}

#[test]
fn listeners_hear_of_appends_from_other_processes() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let mut listener = listen(&db.url).unwrap();
    let store = PgStore::connect(&db.url).unwrap();
    let batch = [
        event("a", Some(1), Some("k1")),
        event("b", Some(2), None),
        event("c", None, None),
    ];
    store.append(&batch).unwrap();
    assert_eq!(listener.wait(Duration::from_secs(10)).unwrap(), Some(3));

    store.append(&[event("a", Some(1), Some("k1"))]).unwrap();
    assert_eq!(
        listener.wait(Duration::from_millis(50)).unwrap(),
        None,
        "a retry that stores nothing announces nothing"
    );

    store.append(&[event("d", None, None)]).unwrap();
    store.append(&[event("e", None, None)]).unwrap();
    let mut heard = Vec::new();
    while heard.last() != Some(&5) {
        heard.push(
            listener
                .wait(Duration::from_secs(10))
                .unwrap()
                .expect("announced"),
        );
    }
    assert!(heard.windows(2).all(|w| w[0] < w[1]), "{heard:?}");
}

#[test]
fn a_bad_subject_fails_the_whole_append() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let store = PgStore::connect(&db.url).unwrap();
    let err = store
        .append(&[event("a", Some(1), None), event("b", Some(u32::MAX), None)])
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Backend(ref m) if m.contains("out of range")),
        "{err:?}"
    );
    assert_eq!(store.head().unwrap(), 0);
    assert!(store.read_subject(u32::MAX).unwrap().is_empty());
}

/// A body of `len` bytes that differs from event to event.
fn body(i: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (i.wrapping_mul(31).wrapping_add(j as u32 * 7) % 251) as u8)
        .collect()
}

#[test]
fn a_large_append_round_trips_exactly() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let store = PgStore::connect(&db.url).unwrap();
    let events: Vec<NewEvent> = (0..50_000u32)
        .map(|i| NewEvent {
            kind: if i % 2 == 0 {
                "death_report"
            } else {
                "correction"
            }
            .to_owned(),
            subject: (i % 5 != 0).then_some(100_000_000 + i),
            idempotency_key: (i % 3 != 0).then(|| format!("bulk-{i}")),
            recorded_at: 1_764_000_000_000 + i64::from(i),
            body: body(i, 150 + (i as usize % 200)),
            mac: (i % 7 != 0).then(|| body(i, 32)),
        })
        .collect();
    let started = Instant::now();
    let got = store.append(&events).unwrap();
    let took = started.elapsed();
    eprintln!(
        "append of 50,000 events: {took:.2?}, {:.0} events/s",
        50_000.0 / took.as_secs_f64()
    );
    assert_eq!(
        got,
        (1..=50_000).map(Appended::New).collect::<Vec<Appended>>()
    );
    let back = store.read_after(0, 60_000).unwrap();
    assert_eq!(back.len(), 50_000);
    for (i, (stored, sent)) in back.iter().zip(&events).enumerate() {
        assert_eq!(stored.seq, i as Seq + 1);
        assert_eq!(
            (
                &stored.kind,
                stored.subject,
                &stored.idempotency_key,
                stored.recorded_at,
                &stored.body
            ),
            (
                &sent.kind,
                sent.subject,
                &sent.idempotency_key,
                sent.recorded_at,
                &sent.body
            )
        );
    }
    assert_eq!(store.seq_of_key("bulk-49999").unwrap(), Some(50_000));
    assert_eq!(
        store.read_subject(100_000_001).unwrap()[0].body,
        events[1].body
    );
}

#[test]
fn single_event_appends_follow_each_other() {
    let Some(server) = server() else { return };
    let db = server.migrated();
    let store = PgStore::connect(&db.url).unwrap();
    let started = Instant::now();
    for i in 1..=1000u32 {
        let key = format!("one-{i}");
        let got = store.append(&[event("one", Some(i), Some(&key))]).unwrap();
        assert_eq!(got, vec![Appended::New(Seq::from(i))]);
    }
    let took = started.elapsed();
    eprintln!(
        "1000 appends of 1 event: {took:.2?}, {:.0} appends/s",
        1000.0 / took.as_secs_f64()
    );
    assert_eq!(store.head().unwrap(), 1000);
}

/// Asks for the server, and nothing else: run alone by the test below.
#[test]
fn skip_probe() {
    let _ = server();
}

/// With `DMF_SKIP_POSTGRES=1` and no server, the tests that need one passed without a word
/// (their note went to the captured output of a passing test). The note is where the runner
/// shows it, naming the test.
#[test]
fn skipped_postgres_tests_were_counted_as_passed_without_a_word() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["skip_probe", "--exact", "--test-threads", "1"])
        .env(
            "DMF_TEST_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("DMF_SKIP_POSTGRES", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    assert!(
        text.contains("SKIPPED skip_probe: no PostgreSQL (DMF_SKIP_POSTGRES=1; "),
        "{text}"
    );
}
