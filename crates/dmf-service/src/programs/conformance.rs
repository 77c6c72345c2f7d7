//! What every [`JournalStore`] backend must do, as plain functions that panic on a failure. A
//! backend's tests call [`run_all`] with a maker of fresh, empty stores.

use super::{JournalRow, JournalStore, ProgramStoreError, Programs, terms_from_json};

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<dyn JournalStore>) {
    rows_are_kept_as_written(fresh().as_ref());
    a_refused_step_writes_nothing(fresh().as_ref());
    a_writer_behind_is_handed_what_it_missed(fresh().as_ref());
    programs_replay_from_the_store(fresh);
}

/// A row of kind `approval` numbered `id`.
pub fn row(id: i64, body: &str) -> JournalRow {
    JournalRow {
        id,
        at_ms: 1_700_000_000_000 + id,
        day: "2026-11-23".into(),
        kind: "approval".into(),
        agreement: Some(1),
        actor: "oscar".into(),
        body: body.into(),
    }
}

pub fn rows_are_kept_as_written(store: &dyn JournalStore) {
    assert!(store.read_after(0).unwrap().is_empty());
    // The body is text: kept byte for byte, spacing and key order included.
    let written = [
        row(1, "{}"),
        JournalRow {
            agreement: None,
            kind: "agreement".into(),
            ..row(2, "{ \"z\": 1,  \"a\": [\"é\"] }")
        },
    ];
    for (after, r) in written.iter().enumerate() {
        store.append(after as i64, &mut |_| Ok(r.clone())).unwrap();
    }
    assert_eq!(store.read_after(0).unwrap(), written);
    assert_eq!(store.read_after(1).unwrap(), written[1..]);
    assert!(store.read_after(2).unwrap().is_empty());
}

pub fn a_refused_step_writes_nothing(store: &dyn JournalStore) {
    let refused = store.append(0, &mut |_| Err(ProgramStoreError::NoAgreement(9)));
    assert!(matches!(refused, Err(ProgramStoreError::NoAgreement(9))));
    assert!(store.read_after(0).unwrap().is_empty());
    // Two entries of one number: the second is refused.
    store.append(0, &mut |_| Ok(row(1, "{}"))).unwrap();
    assert!(store.append(1, &mut |_| Ok(row(1, "{}"))).is_err());
    assert_eq!(store.read_after(0).unwrap().len(), 1);
}

pub fn a_writer_behind_is_handed_what_it_missed(store: &dyn JournalStore) {
    store.append(0, &mut |_| Ok(row(1, "{}"))).unwrap();
    store.append(1, &mut |_| Ok(row(2, "{}"))).unwrap();
    let mut missed = Vec::new();
    store
        .append(0, &mut |rows| {
            missed = rows;
            Ok(row(3, "{}"))
        })
        .unwrap();
    assert_eq!(missed, [row(1, "{}"), row(2, "{}")]);
    let ids: Vec<i64> = store.read_after(0).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [1, 2, 3]);
}

pub fn programs_replay_from_the_store(fresh: &mut dyn FnMut() -> Box<dyn JournalStore>) {
    let today: dmf_model::Date = "2026-11-23".parse().unwrap();
    let terms = terms_from_json(&serde_json::json!({
        "recipient": "State Benefits Agency", "source": "Registry", "purpose": "stop payments",
        "legal_authority": "42 U.S.C. 1320b-7", "recipient_receives": ["deceased"],
        "source_receives": ["name", "dob"], "retention_days": 90,
        "start": "2026-11-01", "expiry": "2027-10-31", "adverse_action": true
    }))
    .unwrap();
    let programs = Programs::new(fresh()).unwrap();
    let id = programs.create(&terms, "ann", today, 1).unwrap();
    programs.approve(id, "oscar", today, 2).unwrap();
    programs.bind_key(id, 7, "agency", "ann", today, 3).unwrap();
    let state = programs.state().unwrap();
    assert_eq!(state.agreement(id).unwrap().terms, terms);
    assert_eq!(programs.agreement_of_key(7).unwrap(), Some(id));
    // A dump of it restores into another store as it was.
    let copy = Programs::new(fresh()).unwrap();
    for e in programs.entries().unwrap() {
        copy.import(&e).unwrap();
    }
    assert_eq!(copy.entries().unwrap(), programs.entries().unwrap());
    assert_eq!(copy.agreement_of_key(7).unwrap(), Some(id));
}
