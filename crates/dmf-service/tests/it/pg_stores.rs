//! API keys and disclosure accounting in PostgreSQL, shared by several nodes: each node is a
//! store of its own on its own connection pool, as separate server processes would be.

use std::time::{Duration, Instant};

use dmf_postgres::PgStore;
use dmf_postgres::testing::TestDb;
use dmf_service::accounting::{Accounting, AccountingError, Disclosure};
use dmf_service::keys::{KeyError, KeyStore, NewKey, RELOAD_EVERY, Role};

/// Later than any reload could be due, so that the store reads the table again.
fn after_reload(from: Instant) -> Instant {
    from + RELOAD_EVERY + Duration::from_secs(1)
}

/// A pool of a node of its own on `db`.
fn node(db: &TestDb) -> dmf_postgres::Pool {
    PgStore::connect(&db.url).unwrap().pool()
}

fn keys(db: &TestDb) -> KeyStore {
    KeyStore::on_postgres(node(db)).unwrap()
}

fn accounting(db: &TestDb) -> Accounting {
    Accounting::on_postgres(node(db)).unwrap()
}

fn disclosure(ssn: u32, at_ms: i64, key_name: &str, purpose: &str) -> Disclosure {
    Disclosure {
        ssn,
        at_ms,
        key_id: 7,
        key_name: key_name.into(),
        purpose: purpose.into(),
        fields: vec!["death_date".into(), "verification".into()],
    }
}

#[test]
fn a_key_created_on_one_node_authenticates_on_another_after_its_reload() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let a = keys(&db);
    let started = Instant::now();
    let b = keys(&db);

    let (key, secret) = a
        .create(NewKey::plain("state-benefits", Role::Benefits), 1_000)
        .unwrap();
    assert_eq!(a.authenticate(&secret), Some(key.clone()));
    // Not yet due: the other node still has the keys it loaded.
    assert_eq!(b.authenticate_at(&secret, started), None);
    let reloaded = after_reload(Instant::now());
    assert_eq!(b.authenticate_at(&secret, reloaded), Some(key.clone()));
    assert_eq!(b.get(key.id), Some(key.clone()));
    assert_eq!(b.list().unwrap(), vec![key.clone()]);
    assert_eq!(a.authenticate("dmf_benefits_not-a-secret"), None);

    assert!(a.revoke("state-benefits").unwrap());
    assert!(!a.revoke("state-benefits").unwrap());
    assert!(!b.revoke("state-benefits").unwrap());
    assert!(!a.revoke("nobody").unwrap());
    assert_eq!(a.authenticate(&secret), None);
    // Until its next reload the other node knows only what it loaded.
    assert_eq!(b.authenticate_at(&secret, reloaded), Some(key.clone()));
    assert_eq!(b.authenticate_at(&secret, after_reload(reloaded)), None);
    let revoked = b.get(key.id).unwrap();
    assert!(revoked.revoked);
    assert_eq!(b.list().unwrap(), vec![revoked]);
}

#[test]
fn a_key_name_is_taken_across_nodes_and_after_revocation() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let (a, b) = (keys(&db), keys(&db));
    let (first, _) = a.create(NewKey::plain("dup", Role::Identity), 1).unwrap();
    assert_eq!(
        b.create(NewKey::plain("dup", Role::Oversight), 2),
        Err(KeyError::NameTaken("dup".into()))
    );
    assert!(b.revoke("dup").unwrap());
    assert_eq!(
        a.create(NewKey::plain("dup", Role::Identity), 3),
        Err(KeyError::NameTaken("dup".into()))
    );
    // Checked before the database is asked.
    assert_eq!(
        a.create(NewKey::plain("", Role::Identity), 4),
        Err(KeyError::EmptyName)
    );
    let (second, _) = b.create(NewKey::plain("other", Role::Identity), 5).unwrap();
    assert!(second.id > first.id, "{} then {}", first.id, second.id);
}

#[test]
fn keys_exported_from_one_database_import_into_another_and_keep_working() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let (from_db, to_db) = (pg.migrated(), pg.migrated());
    let from = keys(&from_db);
    let mut secrets = Vec::new();
    for (i, new) in [
        NewKey {
            certified: true,
            ..NewKey::plain("certified", Role::Subscriber)
        },
        NewKey {
            source: Some("hospital".into()),
            ..NewKey::plain("hospital", Role::Reporter)
        },
        NewKey {
            authority: Some("DHS USCIS".into()),
            ..NewKey::plain("uscis", Role::Authority)
        },
        NewKey {
            daily_quota: Some(500),
            ..NewKey::plain("gone", Role::Employment)
        },
    ]
    .into_iter()
    .enumerate()
    {
        let (key, secret) = from.create(new, 1_000 + i as i64).unwrap();
        secrets.push((key.name, secret));
    }
    assert!(from.revoke("gone").unwrap());
    let dump = from.export().unwrap();
    assert_eq!(dump.len(), 4);

    let to = keys(&to_db);
    for (key, digest) in &dump {
        to.import(key, digest).unwrap();
    }
    assert_eq!(to.export().unwrap(), dump);
    for (name, secret) in &secrets {
        let found = to.authenticate(secret);
        if name == "gone" {
            assert_eq!(found, None);
        } else {
            assert_eq!(found.map(|k| k.name), Some(name.clone()));
        }
    }
    // Another node on the restored database sees the same keys.
    let other = keys(&to_db);
    assert_eq!(
        other.list().unwrap(),
        dump.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
    );
    // The identity moved past the imported ids.
    let (next, _) = to
        .create(NewKey::plain("after-restore", Role::Identity), 2_000)
        .unwrap();
    let max = dump.iter().map(|(k, _)| k.id).max().unwrap();
    assert_eq!(next.id, max + 1);
    // The same dump again collides with what is there, and says so in the server's words.
    match to.import(&dump[0].0, &dump[0].1) {
        Err(KeyError::Storage(msg)) => assert!(msg.contains("duplicate key"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn disclosures_recorded_on_two_nodes_are_read_on_either_in_time_order() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let (a, b) = (accounting(&db), accounting(&db));
    let _ = a.record(disclosure(123_456_789, 300, "node-a", "benefits"));
    let _ = b.record(disclosure(123_456_789, 100, "node-b", "identity"));
    let _ = a.record_many(vec![
        disclosure(123_456_789, 200, "node-a", "benefits"),
        disclosure(234_567_890, 150, "node-a", "identity"),
    ]);
    // Each node flushes its own writer; the other's reads then see the rows. Flushed before
    // the next record, so that the tie at 300 has a known order of writing.
    a.flush().unwrap();
    let _ = b.record(Disclosure {
        fields: Vec::new(),
        ..disclosure(123_456_789, 300, "node-b", "employment")
    });
    b.flush().unwrap();

    let expected = vec![
        disclosure(123_456_789, 100, "node-b", "identity"),
        disclosure(123_456_789, 200, "node-a", "benefits"),
        // Same time: in the order written.
        disclosure(123_456_789, 300, "node-a", "benefits"),
        Disclosure {
            fields: Vec::new(),
            ..disclosure(123_456_789, 300, "node-b", "employment")
        },
    ];
    assert_eq!(a.for_person(123_456_789).unwrap(), expected);
    assert_eq!(b.for_person(123_456_789).unwrap(), expected);
    assert_eq!(
        b.for_person(234_567_890).unwrap(),
        vec![disclosure(234_567_890, 150, "node-a", "identity")]
    );
    assert_eq!(a.for_person(345_678_901).unwrap(), vec![]);
    assert_eq!(a.for_person(u32::MAX).unwrap(), vec![]);
    let counts = vec![
        ("benefits".to_owned(), 2),
        ("employment".to_owned(), 1),
        ("identity".to_owned(), 2),
    ];
    assert_eq!(a.counts().unwrap(), counts);
    assert_eq!(b.counts().unwrap(), counts);
    let mut all = Vec::new();
    assert_eq!(
        b.for_each(|d| {
            all.push(d);
            Ok(())
        })
        .unwrap(),
        5
    );
    assert_eq!(all.len(), 5);
    let failed = a.for_each(|_| Err(std::io::Error::other("disk full")));
    assert!(matches!(failed, Err(AccountingError::Read(_))));

    // Dropping a node writes what it still has queued.
    let _ = b.record(disclosure(234_567_890, 400, "node-b", "identity"));
    drop(b);
    assert_eq!(a.for_person(234_567_890).unwrap().len(), 2);
}

#[test]
fn disclosures_beyond_one_batch_keep_the_order_recorded() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let acc = accounting(&db);
    // Later records are earlier in time, so only `seq` keeps them in this order.
    let recorded: Vec<Disclosure> = (0..25_000u32)
        .map(|i| disclosure(100_000_000 + i % 7, -i64::from(i), "bulk", "benefits"))
        .collect();
    let _ = acc.record_many(recorded.clone());
    let mut read = Vec::with_capacity(recorded.len());
    acc.for_each(|d| {
        read.push(d);
        Ok(())
    })
    .unwrap();
    assert!(read == recorded, "for_each differs from the order recorded");
    assert_eq!(acc.counts().unwrap(), vec![("benefits".to_owned(), 25_000)]);
}

fn programs(db: &TestDb) -> dmf_service::programs::Programs {
    dmf_service::programs::Programs::on_postgres(node(db)).unwrap()
}

#[test]
fn matching_programs_are_one_journal_that_every_node_checks_against() {
    use dmf_registry::program::ProgramError;
    use dmf_service::programs::ProgramStoreError;
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let (a, b) = (programs(&db), programs(&db));
    let today: dmf_model::Date = "2026-11-23".parse().unwrap();
    let terms = dmf_service::programs::terms_from_json(&serde_json::json!({
        "recipient": "State Benefits Agency", "source": "Registry", "purpose": "stop payments",
        "legal_authority": "42 U.S.C. 1320b-7", "recipient_receives": ["deceased"],
        "source_receives": ["name", "dob"], "retention_days": 90,
        "start": "2026-11-01", "expiry": "2027-10-31", "adverse_action": true
    }))
    .unwrap();
    let id = a.create(&terms, "ann", today, 1).unwrap();
    // The other node sees it at once and checks its approval against it.
    assert!(matches!(
        b.approve(id, "ann", today, 2),
        Err(ProgramStoreError::Program(ProgramError::SelfApproval))
    ));
    b.approve(id, "oscar", today, 3).unwrap();
    assert!(matches!(
        a.approve(id, "zed", today, 4),
        Err(ProgramStoreError::Program(ProgramError::AlreadyApproved))
    ));
    // Writers on several nodes at once: every entry lands, numbered without gaps.
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let node = programs(&db);
            std::thread::spawn(move || {
                for i in 0..25 {
                    node.bind_key(1, t * 100 + i, "k", "test", today, 5)
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let ids: Vec<i64> = a.entries().unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=102).collect::<Vec<_>>());
    assert_eq!(b.state().unwrap().keys.len(), 100);
    // Append-only, even for the table's owner.
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let err = c
        .execute("UPDATE program_journal SET actor = 'x' WHERE id = 1", &[])
        .unwrap_err();
    assert!(
        err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
        "{err:?}"
    );
}
