//! The answer index against a plain map of states.

use crate::event::{self, Event};
use crate::index::Index;
use crate::state::{self, PersonState};
use crate::submission::parse_line;

fn today() -> dmf_model::Date {
    "2026-11-23".parse().unwrap()
}

/// The compact index agrees with a plain map of states, applied one event at a time or
/// merged a batch at a time, over many SSNs with pending, held and corrected deaths.
#[test]
fn the_index_agrees_with_a_map_of_states() {
    use std::collections::HashMap;

    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    let mut rng = Pcg64Mcg::seed_from_u64(2026);
    let sources = ["state", "funeral_home", "family", "hospital"];
    let lasts = ["SMITH", "JONES", "NGUYEN", "GARCIA"];
    let mut events = Vec::new();
    // Numberholders for most of the SSNs; reports for the others are held as unknown.
    for ssn in 123_450_001..123_455_001u32 {
        if ssn % 10 == 0 {
            continue;
        }
        let name = dmf_model::PersonName::parse(
            &format!("A{}", ssn % 7),
            None,
            lasts[(ssn % 4) as usize],
            None,
        )
        .unwrap();
        events.push(Event::Person(event::PersonRecord {
            ssn: format!("{ssn:09}").parse().unwrap(),
            name,
            sex: None,
            dob: None,
            birth_state: None,
        }));
    }
    for i in 0..20_000u64 {
        // SSNs from a small range, so that many get several events.
        let ssn = 123_450_001 + rng.random_range(0..5_000u32);
        let source = sources[rng.random_range(0..sources.len())];
        let day = rng.random_range(1..28);
        // Mostly the person on file; one report in eight names someone else.
        let last = if rng.random_range(0..8) == 0 {
            lasts[rng.random_range(0..4)]
        } else {
            lasts[(ssn % 4) as usize]
        };
        let line = format!(
            r#"{{"type":"death_report","ssn":"{ssn}","first":"A{}","last":"{last}","dod":"2026-10-{day:02}","source":"{source}","evidence":"e-{i}"}}"#,
            ssn % 7
        );
        events.push(parse_line(&line, today()).unwrap().event);
    }
    let mut model: HashMap<u32, PersonState> = HashMap::new();
    let mut applied = Index::default();
    let mut merged = Index::default();
    for (batch_no, batch) in events.chunks(997).enumerate() {
        let mut overlay: HashMap<u32, PersonState> = HashMap::new();
        for (i, event) in batch.iter().enumerate() {
            let seq = (batch_no * 997 + i + 1) as u64;
            let ssn = event.ssn().as_u32();
            let state = model.entry(ssn).or_default();
            let expected = state.apply(seq, event);
            assert_eq!(applied.apply(seq, event), expected);
            let o = overlay
                .entry(ssn)
                .or_insert_with(|| merged.get(event.ssn()).cloned().unwrap_or_default());
            o.apply(seq, event);
        }
        let head = (batch_no * 997 + batch.len()) as u64;
        merged.merge(&mut overlay, head);
        assert_eq!(merged.head, head);
    }
    assert_eq!(applied.len(), model.len());
    assert_eq!(merged.len(), model.len());
    for (ssn, state) in &model {
        let ssn_t: dmf_model::Ssn = format!("{ssn:09}").parse().unwrap();
        assert_eq!(applied.get(ssn_t), Some(state));
        assert_eq!(merged.get(ssn_t), Some(state));
    }
    let listed: HashMap<u32, PersonState> = merged.iter().map(|(k, v)| (k, v.clone())).collect();
    assert_eq!(listed, model);
    assert!(applied.get("123460001".parse().unwrap()).is_none());
    // Some people are pending, some held for review, some deceased.
    let states: Vec<_> = model.values().collect();
    assert!(states.iter().any(|s| s.death.is_some()));
    assert!(
        states
            .iter()
            .any(|s| s.extra().is_some_and(|e| !e.pending.is_empty()))
    );
    assert!(
        states
            .iter()
            .any(|s| s.extra().is_some_and(|e| !e.review.is_empty()))
    );
    for reason in state::HoldReason::ALL {
        if reason == state::HoldReason::IdentityIncomplete {
            continue;
        }
        assert!(
            states
                .iter()
                .any(|s| s.held().iter().any(|h| h.reason == reason)),
            "{reason:?}"
        );
    }
}

/// The name index follows every change of identity, one event at a time or a batch at a time:
/// people known first from a death report, then from their numberholder record under another
/// name and date of birth, are filed as a fresh index files them.
#[test]
fn the_name_index_follows_every_change_of_identity() {
    use std::collections::HashMap;

    let person = |ssn: u32, last: &str, dob: &str| {
        Event::Person(event::PersonRecord {
            ssn: format!("{ssn:09}").parse().unwrap(),
            name: dmf_model::PersonName::parse("ANN", None, last, None).unwrap(),
            sex: None,
            dob: Some(dob.parse().unwrap()),
            birth_state: None,
        })
    };
    let mut events = Vec::new();
    for ssn in 223_450_001..223_450_301u32 {
        if ssn % 3 == 0 {
            // Known first from a state's report (verified on receipt), under a maiden name.
            let line = format!(
                r#"{{"type":"death_report","ssn":"{ssn}","first":"ANN","last":"LEE","dob":"1950-02-03","dod":"2026-10-01","source":"state","evidence":"e-{ssn}"}}"#
            );
            events.push(parse_line(&line, today()).unwrap().event);
        } else {
            events.push(person(ssn, "SMITH", "1960-01-01"));
        }
    }
    for ssn in (223_450_001..223_450_301u32).filter(|s| s % 3 == 0) {
        events.push(person(ssn, "HUGHES", "1950-03-02"));
    }
    let mut applied = Index::default();
    applied.index_names();
    let mut merged = Index::default();
    merged.index_names();
    for (batch_no, batch) in events.chunks(71).enumerate() {
        let mut overlay: HashMap<u32, PersonState> = HashMap::new();
        for (i, event) in batch.iter().enumerate() {
            let seq = (batch_no * 71 + i + 1) as u64;
            applied.apply(seq, event);
            overlay
                .entry(event.ssn().as_u32())
                .or_insert_with(|| merged.get(event.ssn()).cloned().unwrap_or_default())
                .apply(seq, event);
        }
        merged.merge(&mut overlay, (batch_no * 71 + batch.len()) as u64);
    }
    let hughes = applied.get("223450002".parse().unwrap()).unwrap();
    assert_eq!(hughes.identity.unwrap().last.as_str(), "HUGHES");
    for index in [&mut applied, &mut merged] {
        let kept = index.names().unwrap().contents();
        let filed = index.names().unwrap().len();
        index.index_names();
        assert_eq!(kept, index.names().unwrap().contents());
        assert_eq!(filed, 300);
        let found = index.names().unwrap().lookup(
            &dmf_match::Lookup {
                names: &["LEE"],
                dob: None,
            },
            1000,
        );
        assert!(
            found.positions.is_empty(),
            "no one is filed as LEE any more"
        );
    }
}
