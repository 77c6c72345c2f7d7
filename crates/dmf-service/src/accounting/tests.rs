//! Unit tests of the disclosure accounting on a SQLite file, and the conformance suite on it.

use crate::accounting::*;

fn assert_send_sync<T: Send + Sync>() {}

fn disclosure(ssn: u32, at_ms: i64, purpose: &str) -> Disclosure {
    Disclosure {
        ssn,
        at_ms,
        key_id: 7,
        key_name: "state-benefits".into(),
        purpose: purpose.into(),
        fields: vec!["death_date".into(), "verification".into()],
    }
}

#[test]
fn shareable_between_threads() {
    assert_send_sync::<Accounting>();
}

#[test]
fn many_threads_then_flush_then_reopen() {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 50_000;
    const PEOPLE: u32 = 1_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounting.sqlite");
    let acc = Accounting::open(&path).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let acc = &acc;
            s.spawn(move || {
                // Half one at a time, half in batches, as the routes do.
                let purpose = if t % 2 == 0 { "verify" } else { "feed" };
                let mut batch = Vec::new();
                for i in 0..PER_THREAD {
                    let d = disclosure(i % PEOPLE, i64::from(t * PER_THREAD + i), purpose);
                    // Made durable together by the flush below.
                    if i % 2 == 0 {
                        let _ = acc.record(d);
                    } else {
                        batch.push(d);
                        if batch.len() == 997 {
                            let _ = acc.record_many(std::mem::take(&mut batch));
                        }
                    }
                }
                let _ = acc.record_many(batch);
            });
        }
    });
    acc.flush().unwrap();
    let half = u64::from(THREADS * PER_THREAD / 2);
    let want = vec![("feed".to_owned(), half), ("verify".to_owned(), half)];
    assert_eq!(acc.counts().unwrap(), want);
    let one = acc.for_person(3).unwrap();
    assert_eq!(one.len(), (THREADS * PER_THREAD / PEOPLE) as usize);
    assert!(one.iter().all(|d| d.ssn == 3));
    assert!(one.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    drop(acc);

    let acc = Accounting::open(&path).unwrap();
    assert_eq!(acc.counts().unwrap(), want);
    assert_eq!(acc.for_person(3).unwrap(), one);
}

#[test]
fn for_person_is_oldest_first_and_sees_its_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let acc = Accounting::open(&dir.path().join("a.sqlite")).unwrap();
    let mut no_fields = disclosure(1, 20, "file");
    no_fields.fields.clear();
    let mut one_field = disclosure(1, 20, "file");
    one_field.fields = vec!["ssn".into()];
    // Out of order in time; equal times keep the order they were recorded in.
    let recorded = [
        disclosure(1, 30, "verify"),
        disclosure(2, 5, "verify"),
        no_fields.clone(),
        disclosure(1, 10, "feed"),
        one_field.clone(),
    ];
    for d in recorded {
        let _ = acc.record(d);
    }
    let want = vec![
        disclosure(1, 10, "feed"),
        no_fields,
        one_field,
        disclosure(1, 30, "verify"),
    ];
    assert_eq!(acc.for_person(1).unwrap(), want);
    assert_eq!(acc.for_person(2).unwrap(), vec![disclosure(2, 5, "verify")]);
    assert_eq!(acc.for_person(3).unwrap(), vec![]);
    let counts = acc.counts().unwrap();
    let want = [("feed", 1), ("file", 2), ("verify", 2)];
    assert_eq!(
        counts,
        want.map(|(p, n)| (p.to_owned(), n)).to_vec(),
        "by purpose"
    );
}

/// A ticket is durable once the batch holding it is in the journal, synced: what `durable`
/// returns for is there for the next open to file, and later tickets are greater.
#[test]
fn a_ticket_is_durable_when_its_batch_is_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let acc = Accounting::open(&path).unwrap();
    let first = acc.record(disclosure(5, 1, "verify"));
    let second = acc.record_many((0..3).map(|i| disclosure(6, i, "feed")).collect());
    assert!(second > first);
    block_on(acc.durable(second)).unwrap();
    let journaled = journal::testing::records(&journal::journal_path(&path));
    let numbers: Vec<u64> = journaled.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(journaled[0].1, disclosure(5, 1, "verify"));
    // An old ticket is durable at once, and a reader sees what is durable.
    block_on(acc.durable(first)).unwrap();
    assert_eq!(acc.for_person(6).unwrap().len(), 3);
}

/// The state a crash leaves: records synced in the journal that the table does not have, a
/// record torn by the crash after them, and older records beyond. The next open files exactly
/// the records after the last filed, once, and the journal goes on from there.
#[test]
fn an_open_files_what_a_crash_left_in_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let acc = Accounting::open(&path).unwrap();
    let _ = acc.record_many((0..3).map(|i| disclosure(1, i, "verify")).collect());
    acc.flush().unwrap();
    assert_eq!(acc.for_person(1).unwrap().len(), 3);
    drop(acc);
    // Records 4 and 5 durable but not filed; a torn 6; then 2 and 3 of an earlier turn.
    let mut bytes = Vec::new();
    for n in [4, 5] {
        bytes.extend(journal::testing::encode(
            n,
            &disclosure(2, n as i64, "feed"),
        ));
    }
    let torn = journal::testing::encode(6, &disclosure(3, 6, "feed"));
    bytes.extend(&torn[..torn.len() - 3]);
    for n in [2, 3] {
        bytes.extend(journal::testing::encode(
            n,
            &disclosure(1, n as i64, "verify"),
        ));
    }
    std::fs::write(journal::journal_path(&path), &bytes).unwrap();
    for _ in 0..2 {
        let acc = Accounting::open(&path).unwrap();
        assert_eq!(
            acc.for_person(1).unwrap().len(),
            3,
            "filed before the crash"
        );
        assert_eq!(
            acc.for_person(2).unwrap(),
            [disclosure(2, 4, "feed"), disclosure(2, 5, "feed")],
            "filed from the journal, once"
        );
        assert_eq!(acc.for_person(3).unwrap(), [], "never acknowledged");
    }
    let acc = Accounting::open(&path).unwrap();
    let _ = acc.record(disclosure(4, 9, "verify"));
    acc.flush().unwrap();
    let numbers: Vec<u64> = journal::testing::records(&journal::journal_path(&path))
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        numbers,
        [6],
        "numbered after the last record, from the start of the file"
    );
    assert_eq!(acc.counts().unwrap().iter().map(|(_, n)| n).sum::<u64>(), 6);
}

/// Damage anywhere in a record ends the journal there: nothing damaged is filed.
#[test]
fn a_damaged_record_ends_the_journal() {
    let one = journal::testing::encode(1, &disclosure(1, 1, "verify"));
    let two = journal::testing::encode(2, &disclosure(2, 2, "verify"));
    for i in 0..two.len() {
        let mut bytes = one.clone();
        let mut bad = two.clone();
        bad[i] ^= 0x41;
        bytes.extend(&bad);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jnl");
        std::fs::write(&path, &bytes).unwrap();
        let got = journal::testing::records(&path);
        assert_eq!(got.len(), 1, "byte {i} of the second record flipped");
    }
}

/// A journal that starts again at its beginning, many times over, files every disclosure
/// exactly once, across reopenings.
#[test]
fn a_journal_that_wraps_files_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let mut want = 0u64;
    for round in 0..3 {
        let store = journal::JournaledDisclosures::open_wrapping(&path, 2_000)
            .unwrap()
            .unwrap();
        for b in 0..40 {
            let batch: Vec<_> = (0..(b % 7 + 1))
                .map(|i| disclosure(b, i64::from(round * 100 + i), "verify"))
                .collect();
            want += batch.len() as u64;
            store.append(&batch).unwrap();
        }
        assert_eq!(store.counts().unwrap(), [("verify".to_owned(), want)]);
        drop(store);
        let len = std::fs::metadata(journal::journal_path(&path))
            .unwrap()
            .len();
        assert_eq!(len, 4 << 20, "the journal never grew past its first step");
    }
    let acc = Accounting::open(&path).unwrap();
    assert_eq!(acc.counts().unwrap(), [("verify".to_owned(), want)]);
}

/// A second process on the same accounting file (a dump while the server runs) writes to the
/// file directly: the journal has one writer.
#[test]
fn a_second_opener_writes_past_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let first = journal::JournaledDisclosures::open(&path).unwrap().unwrap();
    assert!(
        journal::JournaledDisclosures::open(&path)
            .unwrap()
            .is_none()
    );
    let second = Accounting::open(&path).unwrap();
    let _ = second.record(disclosure(1, 1, "dump"));
    second.flush().unwrap();
    first.append(&[disclosure(1, 2, "verify")]).unwrap();
    assert_eq!(first.for_person(1).unwrap().len(), 2);
    drop((first, second));
    let acc = Accounting::open(&path).unwrap();
    assert_eq!(acc.for_person(1).unwrap().len(), 2);
}

#[test]
fn drop_writes_what_is_still_queued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let acc = Accounting::open(&path).unwrap();
    let _ = acc.record_many((0..25_000).map(|i| disclosure(9, i, "feed")).collect());
    drop(acc);
    let acc = Accounting::open(&path).unwrap();
    assert_eq!(acc.counts().unwrap(), vec![("feed".to_owned(), 25_000)]);
}

#[test]
fn the_table_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let acc = Accounting::open(&path).unwrap();
    let _ = acc.record(disclosure(1, 1, "verify"));
    acc.flush().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE disclosures SET purpose = 'nothing'",
        "DELETE FROM disclosures",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(acc.for_person(1).unwrap().len(), 1);
}

/// A file of version 1 (before the journal) is brought up to date, keeping its rows.
#[test]
fn a_file_of_version_1_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE disclosures (seq INTEGER PRIMARY KEY, ssn INTEGER NOT NULL,
             at_ms INTEGER NOT NULL, key_id INTEGER NOT NULL, key_name TEXT NOT NULL,
             purpose TEXT NOT NULL, fields TEXT NOT NULL);
         INSERT INTO disclosures (ssn, at_ms, key_id, key_name, purpose, fields)
             VALUES (1, 5, 7, 'state-benefits', 'verify', 'death_date,verification');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let acc = Accounting::open(&path).unwrap();
    let _ = acc.record(disclosure(1, 6, "verify"));
    assert_eq!(
        acc.for_person(1).unwrap(),
        [disclosure(1, 5, "verify"), disclosure(1, 6, "verify")]
    );
}

#[test]
fn a_file_of_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
    drop(conn);
    let err = Accounting::open(&path).unwrap_err();
    assert!(
        matches!(err, AccountingError::NotAnAccountingFile { .. }),
        "{err}"
    );
}

/// Runs a future to its end on this thread, woken by the accounting writer: no runtime needed.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[test]
fn the_journal_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("{n}.sqlite"));
        std::sync::Arc::new(journal::JournaledDisclosures::open(&path).unwrap().unwrap())
    });
}

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        std::sync::Arc::new(
            sqlite::SqliteDisclosures::open(&dir.path().join(format!("{n}.sqlite"))).unwrap(),
        )
    });
}
