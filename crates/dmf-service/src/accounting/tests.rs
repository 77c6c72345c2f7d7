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

/// A ticket is durable once the batch holding it is committed: what `durable` returns for
/// is read back by another connection, and later tickets are greater.
#[test]
fn a_ticket_is_durable_when_its_batch_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let acc = Accounting::open(&path).unwrap();
    let first = acc.record(disclosure(5, 1, "verify"));
    let second = acc.record_many((0..3).map(|i| disclosure(6, i, "feed")).collect());
    assert!(second > first);
    block_on(acc.durable(second)).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM disclosures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
    // An old ticket is durable at once.
    block_on(acc.durable(first)).unwrap();
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

#[test]
fn a_file_of_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
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
