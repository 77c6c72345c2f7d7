//! The conformance suite: what every [`EventStore`] backend must do, as plain functions that
//! panic on a failure. A backend's tests call [`run_all`] with a maker of fresh, empty stores.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::{Appended, EventStore, GroupCommit, NewEvent, Seq};

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Arc<dyn EventStore>) {
    empty_store(fresh().as_ref());
    appends_in_order_without_gaps(fresh().as_ref());
    idempotency_keys_make_retries_no_ops(fresh().as_ref());
    reads_by_subject(fresh().as_ref());
    pages_through_events(fresh().as_ref());
    keeps_bodies_exactly(fresh().as_ref());
    keeps_macs_exactly(fresh().as_ref());
    group_commit_from_many_threads(fresh());
    group_commit_honours_keys_across_callers(fresh());
}

/// An event for tests: kind, subject and key as given, the body naming them, a MAC of 32
/// bytes made of the body's length.
pub fn event(kind: &str, subject: Option<u32>, key: Option<&str>) -> NewEvent {
    let body = format!("{kind}/{subject:?}/{key:?}").into_bytes();
    NewEvent {
        kind: kind.to_owned(),
        subject,
        idempotency_key: key.map(str::to_owned),
        recorded_at: 1_764_000_000_000,
        mac: Some(vec![body.len() as u8; 32]),
        body,
    }
}

pub fn empty_store(store: &dyn EventStore) {
    assert_eq!(store.head().unwrap(), 0);
    assert!(store.read_after(0, 10).unwrap().is_empty());
    assert!(store.read_subject(123_456_789).unwrap().is_empty());
    assert!(store.append(&[]).unwrap().is_empty());
}

pub fn appends_in_order_without_gaps(store: &dyn EventStore) {
    let first = store
        .append(&[event("a", Some(1), None), event("b", None, None)])
        .unwrap();
    assert_eq!(first, vec![Appended::New(1), Appended::New(2)]);
    let second = store.append(&[event("c", Some(2), None)]).unwrap();
    assert_eq!(second, vec![Appended::New(3)]);
    assert_eq!(store.head().unwrap(), 3);
    let all = store.read_after(0, 100).unwrap();
    let kinds: Vec<(Seq, &str)> = all.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(kinds, vec![(1, "a"), (2, "b"), (3, "c")]);
    let e = &all[0];
    let expect = event("a", Some(1), None);
    assert_eq!(
        (
            e.subject,
            &e.idempotency_key,
            e.recorded_at,
            &e.body,
            &e.mac
        ),
        (
            expect.subject,
            &expect.idempotency_key,
            expect.recorded_at,
            &expect.body,
            &expect.mac
        )
    );
}

pub fn idempotency_keys_make_retries_no_ops(store: &dyn EventStore) {
    let batch = [
        event("a", Some(1), Some("k1")),
        event("a", Some(1), Some("k1")),
        event("b", None, Some("k2")),
    ];
    let got = store.append(&batch).unwrap();
    assert_eq!(
        got,
        vec![Appended::New(1), Appended::Duplicate(1), Appended::New(2)]
    );
    let retry = store
        .append(&[event("b", None, Some("k2")), event("c", None, None)])
        .unwrap();
    assert_eq!(retry, vec![Appended::Duplicate(2), Appended::New(3)]);
    assert_eq!(store.head().unwrap(), 3);
}

pub fn reads_by_subject(store: &dyn EventStore) {
    let events: Vec<NewEvent> = (0..30)
        .map(|i| event("x", Some(if i % 3 == 0 { 7 } else { 100 + i }), None))
        .collect();
    store.append(&events).unwrap();
    let seven: Vec<Seq> = store
        .read_subject(7)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seven, (0..10).map(|i| i * 3 + 1).collect::<Vec<Seq>>());
    assert!(store.read_subject(999_999_999).unwrap().is_empty());
}

pub fn pages_through_events(store: &dyn EventStore) {
    let events: Vec<NewEvent> = (0..25).map(|_| event("p", None, None)).collect();
    store.append(&events).unwrap();
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.read_after(after, 10).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().unwrap().seq;
        seen.extend(page.iter().map(|e| e.seq));
    }
    assert_eq!(seen, (1..=25).collect::<Vec<Seq>>());
}

pub fn keeps_bodies_exactly(store: &dyn EventStore) {
    let mut big = event("big", None, None);
    big.body = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut empty = event("empty", None, None);
    empty.body.clear();
    store.append(&[big.clone(), empty]).unwrap();
    let back = store.read_after(0, 10).unwrap();
    assert_eq!(back[0].body, big.body);
    assert!(back[1].body.is_empty());
}

/// The MAC comes back byte for byte, whatever its length, and an event stored without one
/// (as events written before stores kept one) comes back without one.
pub fn keeps_macs_exactly(store: &dyn EventStore) {
    let macs = [
        Some((0..=255u8).collect::<Vec<u8>>()),
        None,
        Some(Vec::new()),
    ];
    let events: Vec<NewEvent> = macs
        .iter()
        .map(|mac| NewEvent {
            mac: mac.clone(),
            ..event("m", Some(9), None)
        })
        .collect();
    store.append(&events).unwrap();
    let back: Vec<Option<Vec<u8>>> = store
        .read_after(0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.mac)
        .collect();
    assert_eq!(back, macs);
    let by_subject: Vec<Option<Vec<u8>>> = store
        .read_subject(9)
        .unwrap()
        .into_iter()
        .map(|e| e.mac)
        .collect();
    assert_eq!(by_subject, macs);
}

pub fn group_commit_from_many_threads(store: Arc<dyn EventStore>) {
    let group = Arc::new(GroupCommit::new(store.clone()));
    let threads: Vec<_> = (0..8u32)
        .map(|t| {
            let group = group.clone();
            std::thread::spawn(move || {
                (0..100u32)
                    .map(|i| {
                        let key = format!("t{t}-{i}");
                        let got = group.append(vec![event("g", Some(t), Some(&key))]).unwrap();
                        got[0].seq()
                    })
                    .collect::<Vec<Seq>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for handle in threads {
        let seqs = handle.join().unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one caller's events stay in order"
        );
        all.extend(seqs);
    }
    assert_eq!(all.len(), 800);
    assert_eq!(store.head().unwrap(), 800);
    assert_eq!(all, (1..=800).collect::<HashSet<Seq>>(), "gap-free");
}

/// Many callers, some retrying what others sent (the same key from several threads, or twice
/// in one request): each key stored once, and every caller told the sequence number it has.
pub fn group_commit_honours_keys_across_callers(store: Arc<dyn EventStore>) {
    const THREADS: u32 = 12;
    const REQUESTS: u32 = 40;
    const KEYS: u32 = 150;
    let group = Arc::new(GroupCommit::new(store.clone()));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let group = group.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for i in 0..REQUESTS {
                    let n = (t * REQUESTS + i) * 7 % KEYS;
                    let key = format!("k{n}");
                    // Every fifth request sends its event twice, as a retry within one call.
                    let copies = if i % 5 == 0 { 2 } else { 1 };
                    let events = vec![event("g", Some(n), Some(&key)); copies];
                    let answer = group.append(events).unwrap();
                    assert_eq!(answer.len(), copies);
                    if copies == 2 {
                        assert_eq!(answer[1], Appended::Duplicate(answer[0].seq()));
                    }
                    got.extend(answer.into_iter().map(|a| (key.clone(), a)));
                }
                got
            })
        })
        .collect();
    let mut seq_of: HashMap<String, Seq> = HashMap::new();
    let mut new = HashSet::new();
    for handle in threads {
        for (key, answer) in handle.join().unwrap() {
            let seq = *seq_of.entry(key.clone()).or_insert(answer.seq());
            assert_eq!(answer.seq(), seq, "every caller of {key} told the same seq");
            if let Appended::New(seq) = answer {
                assert!(new.insert(seq), "{key} stored once");
            }
        }
    }
    assert_eq!(seq_of.len(), KEYS as usize);
    assert_eq!(new, (1..=Seq::from(KEYS)).collect::<HashSet<Seq>>());
    assert_eq!(store.head().unwrap(), Seq::from(KEYS));
    for (key, seq) in &seq_of {
        assert_eq!(store.seq_of_key(key).unwrap(), Some(*seq));
        let stored = store.read_after(seq - 1, 1).unwrap();
        assert_eq!(stored[0].idempotency_key.as_deref(), Some(key.as_str()));
    }
}
