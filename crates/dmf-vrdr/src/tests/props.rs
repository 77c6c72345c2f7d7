//! Reading never panics, whatever the body: fixtures with bytes cut out, and fixtures whose
//! values are replaced by values of other types or removed. Whatever is read can be answered
//! completely.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::fixture;
use super::fixtures::TABLE;
use crate::answer::{Answer, acknowledgement, check_answer, extraction_error};
use crate::{Incoming, read, read_document};

/// Every JSON pointer of a value, the root excepted.
fn pointers(v: &Value, here: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{here}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                let p = format!("{here}/{i}");
                out.push(p.clone());
                pointers(child, &p, out);
            }
        }
        _ => {}
    }
}

/// What a value may be replaced by.
fn replacement(choice: u8) -> Option<Value> {
    Some(match choice % 12 {
        0 => return None,
        1 => Value::Null,
        2 => json!(0),
        3 => json!(-1),
        4 => json!(1e300),
        5 => json!(""),
        6 => json!("2020-13-45"),
        7 => json!([]),
        8 => json!({}),
        9 => json!([{}]),
        10 => json!("urn:uuid:nowhere"),
        _ => json!(true),
    })
}

fn remove_at(v: &mut Value, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').expect("not the root");
    match v.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(list)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < list.len()
            {
                list.remove(i);
            }
        }
        _ => {}
    }
}

/// Reads the body both ways and answers what it gives; panics only on a bug.
fn read_and_answer(bytes: &[u8]) {
    fn answer(acknowledged: Option<&str>) -> Answer<'_> {
        Answer {
            id: "5b0a3c1d-2e4f-4a6b-8c9d-0e1f2a3b4c5d",
            acknowledged,
            destination: None,
            source: "https://registry.example/vrdr",
            timestamp: "2026-12-01T00:00:00Z",
            ids: None,
            block_count: None,
            outcome: None,
            notes: &[],
        }
    }
    let _ = read_document(bytes);
    let outcomes = match read(bytes) {
        Ok(Incoming::One(one)) => vec![one],
        Ok(Incoming::Batch(all)) => all,
        Err(refusal) => vec![Err(refusal)],
    };
    for outcome in outcomes {
        let value = match &outcome {
            Ok(m) => acknowledgement(&Answer {
                ids: m.body.ids(),
                ..answer(Some(&m.id))
            }),
            Err(r) => {
                assert!(!r.problems.is_empty(), "a refusal says why");
                extraction_error(
                    &Answer {
                        ids: r.ids.as_ref(),
                        ..answer(r.message_id.as_deref())
                    },
                    &r.problems,
                )
            }
        };
        assert_eq!(check_answer(&value), Vec::new());
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    TABLE.iter().map(|(name, _)| fixture(name)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn bytes_cut_out(which in 0..TABLE.len(), cuts in prop::collection::vec((any::<prop::sample::Index>(), 1usize..40), 1..4)) {
        let mut bytes = fixture(TABLE[which].0);
        for (at, len) in cuts {
            if bytes.is_empty() {
                break;
            }
            let start = at.index(bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        read_and_answer(&bytes);
    }

    #[test]
    fn values_replaced_or_removed(which in 0..TABLE.len(), changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let Ok(mut value) = serde_json::from_slice::<Value>(&fixture(TABLE[which].0)) else {
            return Ok(());
        };
        for (at, choice) in changes {
            let mut all = Vec::new();
            pointers(&value, "", &mut all);
            if all.is_empty() {
                break;
            }
            let pointer = &all[at.index(all.len())];
            match replacement(choice) {
                Some(new) => {
                    if let Some(slot) = value.pointer_mut(pointer) {
                        *slot = new;
                    }
                }
                None => remove_at(&mut value, pointer),
            }
        }
        read_and_answer(&serde_json::to_vec(&value).expect("JSON"));
    }
}

#[test]
fn every_fixture_truncated() {
    for bytes in fixtures() {
        for end in (0..bytes.len()).step_by(bytes.len() / 16 + 1) {
            read_and_answer(&bytes[..end]);
        }
    }
}

#[test]
fn deep_nesting_neither_overflows_nor_is_read() {
    // Bundles inside Bundles: past serde_json's depth limit, not JSON the reader takes.
    let deep = format!(
        "{}{}",
        r#"{"resourceType":"Bundle","type":"batch","entry":[{"resource":"#.repeat(50_000),
        "{}}]}".repeat(50_000)
    );
    let refusal = read(deep.as_bytes()).expect_err("too deep");
    assert_eq!(refusal.problems[0].location, "Bundle");
    assert!(
        refusal.problems[0].reason.contains("recursion limit"),
        "{refusal:?}"
    );
    // Arrays skipped over are walked without recursion: a message, refused for its entry.
    let deep = format!(
        r#"{{"resourceType":"Bundle","type":"message","entry":[{}{}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    match read(deep.as_bytes()) {
        Ok(Incoming::One(Err(refusal))) => {
            assert_eq!(refusal.problems[0].location, "Bundle.entry[0]")
        }
        other => panic!("{other:?}"),
    }
}
