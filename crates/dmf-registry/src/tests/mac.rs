//! The writer's MACs: what they cover, a row put into the store behind the writer's back (refused
//! at open, at catch-up and by the audit, never signed), a crashed writer's unsigned batch
//! (signed), a store rolled back behind its log, and a store of the previous schema.

use std::path::{Path, PathBuf};

use dmf_store::{EventStore, NewEvent, Seq, StoredEvent};

use dmf_ledger::leaf::EventRef;
use dmf_ledger::mac::{MacFault, MacKey};
use dmf_ledger::{audit, log};

use crate::{Registry, RegistryError, parse_line};

fn today() -> dmf_model::Date {
    "2026-11-23".parse().unwrap()
}

fn report(ssn: &str) -> String {
    format!(
        r#"{{"type":"death_report","ssn":"{ssn}","first":"Ann","last":"Lee","dob":"1950-03-04","dod":"2026-11-01","source":"state","evidence":"EDRS-{ssn}"}}"#
    )
}

/// A registry in a temporary folder holding three death reports, each submitted (stored,
/// logged and signed) on its own.
fn registry() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let reg = Registry::init(&data, None).unwrap();
    for ssn in ["123456789", "234567890", "345678901"] {
        let sub = parse_line(&report(ssn), today()).unwrap();
        reg.submit(vec![sub], 1_764_000_000_000).unwrap();
    }
    (dir, data)
}

fn raw(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join(crate::STORE_FILE)).unwrap()
}

fn signed(data: &Path) -> Seq {
    log::LogFiles::open(data)
        .unwrap()
        .latest()
        .unwrap()
        .unwrap()
        .checkpoint
        .size
}

fn last_event(data: &Path) -> StoredEvent {
    let reg = Registry::open_for_audit(data).unwrap();
    let head = reg.store().head().unwrap();
    reg.store().read_after(head - 1, 1).unwrap().remove(0)
}

/// A state death report of someone never on file, stored as the registry would store it.
fn forged_report(seq: Seq) -> StoredEvent {
    let sub = parse_line(&report("456789012"), today()).unwrap();
    StoredEvent {
        seq,
        kind: "death_report".into(),
        subject: Some(456_789_012),
        idempotency_key: None,
        recorded_at: 1_764_000_000_000,
        body: crate::encode(&sub.event),
        mac: None,
    }
}

fn insert(data: &Path, e: &StoredEvent) {
    raw(data)
        .execute(
            "INSERT INTO events (seq, kind, subject, idempotency_key, recorded_at, body, mac) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                e.seq as i64,
                e.kind,
                e.subject,
                e.idempotency_key,
                e.recorded_at,
                e.body,
                e.mac
            ],
        )
        .unwrap();
}

#[test]
fn a_mac_covers_every_stored_byte_and_the_mac_before() {
    let key = MacKey::new(&[1; 32]);
    let base = EventRef {
        seq: 7,
        kind: "death_report",
        subject: Some(123_456_789),
        idempotency_key: Some("k"),
        recorded_at: 1_764_000_000_000,
        body: b"{}",
    };
    let prev: &[u8] = &[9; 32];
    let mac = key.of(Some(prev), base);
    assert!(key.verifies(Some(prev), base, &mac));
    let other_key = MacKey::new(&[2; 32]);
    let cases: Vec<(&str, &MacKey, Option<&[u8]>, EventRef<'_>)> = vec![
        ("another key", &other_key, Some(prev), base),
        ("no MAC before", &key, None, base),
        ("another MAC before", &key, Some(&[8; 32]), base),
        ("another seq", &key, Some(prev), EventRef { seq: 8, ..base }),
        (
            "another type",
            &key,
            Some(prev),
            EventRef {
                kind: "correction",
                ..base
            },
        ),
        (
            "another subject",
            &key,
            Some(prev),
            EventRef {
                subject: Some(123_456_780),
                ..base
            },
        ),
        (
            "no subject",
            &key,
            Some(prev),
            EventRef {
                subject: None,
                ..base
            },
        ),
        (
            "no key",
            &key,
            Some(prev),
            EventRef {
                idempotency_key: None,
                ..base
            },
        ),
        (
            "an empty key",
            &key,
            Some(prev),
            EventRef {
                idempotency_key: Some(""),
                ..base
            },
        ),
        (
            "another time",
            &key,
            Some(prev),
            EventRef {
                recorded_at: 1_764_000_000_001,
                ..base
            },
        ),
        (
            "another body",
            &key,
            Some(prev),
            EventRef {
                body: b"{ }",
                ..base
            },
        ),
    ];
    for (what, k, p, e) in cases {
        assert!(!k.verifies(p, e, &mac), "{what}");
        assert_ne!(k.of(p, e), mac, "{what}");
    }
    assert!(
        !key.verifies(Some(prev), base, &mac[..31]),
        "a MAC cut short"
    );
}

#[test]
fn every_event_the_writer_stores_carries_its_mac_chained_to_the_one_before() {
    let (_dir, data) = registry();
    let reg = Registry::open(&data).unwrap();
    let key = log::read_mac_key(&data).unwrap();
    let events = reg.store().read_after(0, 10).unwrap();
    assert_eq!(events.len(), 3);
    let mut prev: Option<Vec<u8>> = None;
    for e in &events {
        let mac = e.mac.as_deref().expect("a MAC");
        assert_eq!(mac, key.of(prev.as_deref(), EventRef::from(e)));
        prev = e.mac.clone();
    }
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

/// The attack: a death report put at the end of `events` with a raw SQL connection (no trigger
/// stops an insert), with no MAC, with the MAC of the event before, or with one under another
/// key. It must be refused at open, at catch-up and by the audit, and never signed.
#[test]
fn a_row_inserted_into_events_is_refused_not_signed() {
    type Forge = fn(&StoredEvent, &StoredEvent) -> Option<Vec<u8>>;
    let cases: [(&str, Forge, MacFault); 3] = [
        ("no MAC", |_, _| None, MacFault::Missing),
        (
            "the MAC of the event before",
            |before, _| before.mac.clone(),
            MacFault::Wrong,
        ),
        (
            "a MAC under another key",
            |before, forged| {
                let key = MacKey::new(&[7; 32]);
                Some(
                    key.of(before.mac.as_deref(), EventRef::from(forged))
                        .to_vec(),
                )
            },
            MacFault::Wrong,
        ),
    ];
    for (what, forge, fault) in cases {
        let (_dir, data) = registry();
        let before = last_event(&data);
        let mut forged = forged_report(before.seq + 1);
        forged.mac = forge(&before, &forged);
        insert(&data, &forged);
        let expected = |e: RegistryError| match e {
            RegistryError::Unauthenticated { seq, fault: f } => {
                assert_eq!((seq, f), (forged.seq, fault), "{what}")
            }
            other => panic!("{what}: {other}"),
        };

        expected(Registry::open(&data).unwrap_err());
        let reg = Registry::open_for_audit(&data).unwrap();
        expected(reg.sign_now().unwrap_err());
        let sub = parse_line(&report("567890123"), today()).unwrap();
        expected(reg.submit(vec![sub], 0).unwrap_err());
        assert_eq!(signed(&data), before.seq, "{what}: nothing more is signed");
        let message = Registry::open(&data).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "event {} is not the registry writer's: {fault}",
                forged.seq
            )),
            "{what}: {message}"
        );

        let report = audit::audit(reg.ledger(), None, None).unwrap();
        assert_eq!(report.first_bad_seq(), Some(forged.seq), "{what}");
        let named: Vec<Option<Seq>> = report.problems.iter().map(|p| p.seq).collect();
        assert_eq!(named, [Some(forged.seq)], "{what}: {:?}", report.problems);
        assert!(
            report.problems[0].message.contains("beyond the signed log"),
            "{what}: {:?}",
            report.problems
        );
    }
}

/// What the MAC is for: the batch of a writer that stopped between its commit and its
/// signature is the writer's own, and is signed at the next open.
#[test]
fn a_batch_stored_but_not_signed_is_signed_at_the_next_open() {
    let (_dir, data) = registry();
    let before = last_event(&data);
    let key = log::read_mac_key(&data).unwrap();
    let mut event = forged_report(before.seq + 1);
    event.mac = Some(
        key.of(before.mac.as_deref(), EventRef::from(&event))
            .to_vec(),
    );
    let store = dmf_store::SqliteStore::open(&data.join(crate::STORE_FILE)).unwrap();
    store
        .append(&[NewEvent {
            kind: event.kind.clone(),
            subject: event.subject,
            idempotency_key: None,
            recorded_at: event.recorded_at,
            body: event.body.clone(),
            mac: event.mac.clone(),
        }])
        .unwrap();
    drop(store);
    assert_eq!(signed(&data), before.seq);
    let reg = Registry::open(&data).unwrap();
    reg.sign_now().unwrap();
    assert_eq!(signed(&data), event.seq);
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

/// An event changed in place (its triggers dropped) fails its MAC. The next event's MAC is
/// checked against the stored one before it, so a changed body names that event alone, and a
/// changed MAC that event and the one after, not every event after it.
#[test]
fn an_event_changed_in_the_store_is_named_not_all_after_it() {
    let cases = [
        (
            "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'EDRS', 'EDRZ') AS BLOB) \
             WHERE seq = 2",
            vec![2],
        ),
        (
            "UPDATE events SET mac = zeroblob(32) WHERE seq = 2",
            vec![2, 3],
        ),
    ];
    for (sql, named) in cases {
        let (_dir, data) = registry();
        let db = raw(&data);
        db.execute_batch("DROP TRIGGER events_no_update").unwrap();
        assert_eq!(db.execute(sql, []).unwrap(), 1);
        drop(db);
        let reg = Registry::open_for_audit(&data).unwrap();
        let report = audit::audit(reg.ledger(), None, None).unwrap();
        let mut seqs: Vec<Seq> = report.problems.iter().filter_map(|p| p.seq).collect();
        seqs.dedup();
        assert_eq!(seqs, named, "{sql}: {:?}", report.problems);
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.message.starts_with("event 2 fails its MAC")),
            "{sql}: {:?}",
            report.problems
        );
    }
}

#[test]
fn a_store_rolled_back_behind_its_log_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let reg = Registry::init(&data, None).unwrap();
    let sub = parse_line(&report("123456789"), today()).unwrap();
    reg.submit(vec![sub], 0).unwrap();
    drop(reg);
    let old = dir.path().join("old.sqlite");
    std::fs::copy(data.join(crate::STORE_FILE), &old).unwrap();
    let reg = Registry::open(&data).unwrap();
    for ssn in ["234567890", "345678901"] {
        let sub = parse_line(&report(ssn), today()).unwrap();
        reg.submit(vec![sub], 0).unwrap();
    }
    drop(reg);
    std::fs::copy(&old, data.join(crate::STORE_FILE)).unwrap();

    let err = Registry::open(&data).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Log(log::LogError::Ahead { log: 3, store: 1 })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("rolled back"), "{err}");
    let reg = Registry::open_for_audit(&data).unwrap();
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert_eq!(report.first_bad_seq(), Some(2), "{:?}", report.problems);
}

/// A store and data folder as the previous version left them: no `mac` column (schema version
/// 1), no `mac.key`, every event signed.
fn as_previous_version(data: &Path) {
    let db = raw(data);
    db.execute_batch("ALTER TABLE events DROP COLUMN mac; PRAGMA user_version = 1;")
        .unwrap();
    drop(db);
    std::fs::remove_file(data.join(log::LOG_DIR).join(log::MAC_KEY_FILE)).unwrap();
}

#[test]
fn a_store_of_the_previous_schema_is_upgraded_and_its_events_stay_held_by_the_log() {
    let (_dir, data) = registry();
    as_previous_version(&data);
    let reg = Registry::open(&data).unwrap();
    assert!(data.join(log::LOG_DIR).join(log::MAC_KEY_FILE).is_file());
    let macs: Vec<Option<Vec<u8>>> = reg
        .store()
        .read_after(0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.mac)
        .collect();
    assert_eq!(macs, [None, None, None]);
    let sub = parse_line(&report("456789012"), today()).unwrap();
    reg.submit(vec![sub], 0).unwrap();
    assert_eq!(signed(&data), 4);
    assert!(last_event(&data).mac.is_some());
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    drop(reg);

    // Beyond the signed log, an event without a MAC is refused like any other row put in.
    insert(&data, &forged_report(5));
    let err = Registry::open(&data).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Unauthenticated {
                seq: 5,
                fault: MacFault::Missing
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_store_of_the_previous_schema_with_events_beyond_its_log_is_not_upgraded() {
    let (_dir, data) = registry();
    as_previous_version(&data);
    let db = raw(&data);
    let e = forged_report(4);
    db.execute(
        "INSERT INTO events (seq, kind, subject, recorded_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![e.seq as i64, e.kind, e.subject, e.recorded_at, e.body],
    )
    .unwrap();
    drop(db);
    let err = Registry::open(&data).unwrap_err().to_string();
    assert!(
        err.contains(
            "events 4 to 4 lie beyond the signed log (3 events) and carry no MAC: sign them with the previous version"
        ),
        "{err}"
    );
    let version: i64 = raw(&data)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(
        version, 1,
        "left as it was, for the previous version to sign"
    );
}

#[test]
fn a_mac_key_missing_where_events_carry_macs_is_refused() {
    let (_dir, data) = registry();
    std::fs::remove_file(data.join(log::LOG_DIR).join(log::MAC_KEY_FILE)).unwrap();
    let err = Registry::open(&data).unwrap_err();
    assert!(matches!(err, RegistryError::MacKeyMissing(_)), "{err:?}");
    assert!(!data.join(log::LOG_DIR).join(log::MAC_KEY_FILE).exists());
}
