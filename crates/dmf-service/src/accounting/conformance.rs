//! What every [`DisclosureStore`] backend must do, as plain functions that panic on a failure.
//! A backend's tests call [`run_all`] with a maker of fresh, empty stores.

use std::sync::Arc;

use super::{Accounting, Disclosure, DisclosureStore};

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Arc<dyn DisclosureStore>) {
    batches_are_kept_in_order(fresh().as_ref());
    reads_by_person_in_time_order(fresh().as_ref());
    counts_by_purpose_in_byte_order(fresh().as_ref());
    the_writer_records_what_is_queued(fresh());
}

pub fn disclosure(ssn: u32, at_ms: i64, purpose: &str) -> Disclosure {
    Disclosure {
        ssn,
        at_ms,
        key_id: 7,
        key_name: "state-benefits".into(),
        purpose: purpose.into(),
        fields: vec!["death_date".into(), "verification".into()],
    }
}

pub fn batches_are_kept_in_order(store: &dyn DisclosureStore) {
    let mut seen = Vec::new();
    let mut keep = |d| {
        seen.push(d);
        Ok(())
    };
    assert_eq!(store.for_each(&mut keep).unwrap(), 0);
    let first: Vec<_> = (0..5).map(|i| disclosure(9, 100 - i, "feed")).collect();
    let mut second = vec![disclosure(8, 1, "verify")];
    // No fields, and the largest SSN there is.
    second.push(Disclosure {
        fields: Vec::new(),
        ..disclosure(999_999_999, 2, "verify")
    });
    store.append(&first).unwrap();
    store.append(&second).unwrap();
    store.append(&[]).unwrap();
    assert_eq!(store.for_each(&mut keep).unwrap(), 7);
    assert_eq!(seen, [first, second].concat());
    let stopped = store.for_each(&mut |_| Err(std::io::Error::other("full")));
    assert!(stopped.unwrap_err().to_string().contains("full"));
}

pub fn reads_by_person_in_time_order(store: &dyn DisclosureStore) {
    store
        .append(&[
            disclosure(5, 30, "verify"),
            disclosure(6, 10, "verify"),
            disclosure(5, 10, "feed"),
            disclosure(5, 10, "verify"),
        ])
        .unwrap();
    assert_eq!(
        store.for_person(5).unwrap(),
        vec![
            disclosure(5, 10, "feed"),
            disclosure(5, 10, "verify"),
            disclosure(5, 30, "verify"),
        ]
    );
    assert!(store.for_person(7).unwrap().is_empty());
    assert!(store.for_person(u32::MAX).unwrap().is_empty());
}

pub fn counts_by_purpose_in_byte_order(store: &dyn DisclosureStore) {
    assert!(store.counts().unwrap().is_empty());
    let purposes = ["verify", "Verify", "feed", "verify", "_bulk"];
    let batch: Vec<_> = purposes.iter().map(|p| disclosure(1, 1, p)).collect();
    store.append(&batch).unwrap();
    assert_eq!(
        store.counts().unwrap(),
        [("Verify", 1), ("_bulk", 1), ("feed", 1), ("verify", 2)].map(|(p, n)| (p.to_owned(), n))
    );
}

pub fn the_writer_records_what_is_queued(store: Arc<dyn DisclosureStore>) {
    let acc = Accounting::start("test".into(), store).unwrap();
    let _ = acc.record_many((0..25_000).map(|i| disclosure(9, i, "feed")).collect());
    let _ = acc.record(disclosure(3, 1, "verify"));
    assert_eq!(acc.for_person(3).unwrap(), vec![disclosure(3, 1, "verify")]);
    assert_eq!(
        acc.counts().unwrap(),
        vec![("feed".to_owned(), 25_000), ("verify".to_owned(), 1)]
    );
}
