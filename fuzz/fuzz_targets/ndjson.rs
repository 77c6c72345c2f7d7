//! NDJSON as the registry reads it: submissions (`dmf submit`, one JSON object a line, through
//! `dmf_registry::parse_line`), stored events (`KIND {json}` lines through `codec::decode`, as
//! the store and dumps hold them), the public leaf made of a stored body (`leaf::leaf`), and the
//! intake rules (`PersonState::check` and `apply`) over the accepted events in order, with the
//! answers given afterwards.
//!
//! Properties: an accepted submission and a decoded stored event encode to a body that decodes
//! to the same event, and encode canonically; a body the leaf accepts is a JSON object and its
//! leaf is valid JSON that does not carry the SSN in clear; replaying one person's events
//! gives the state the index holds; answers and notice statuses never panic.

#![no_main]

use std::collections::HashMap;

use dmf_model::{Date, PartialDate, Ssn};
use dmf_registry::answers::IdentityQuery;
use dmf_ledger::leaf::{EventRef, LeafKey, leaf};
use dmf_registry::render::{self, Purpose};
use dmf_registry::{Event, Index, PersonState, decode, encode, parse_line};
use libfuzzer_sys::fuzz_target;

const KINDS: [&str; 13] = [
    "person",
    "death_report",
    "status_notice",
    "correction",
    "verification",
    "contest",
    "contest_decision",
    "presumed_deceased",
    "dmf_delete",
    "identity_change",
    "review",
    "report_withdrawal",
    "report_alias",
];

fn today() -> Date {
    Date::new(2026, 1, 15).expect("a date")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // `dmf submit` reads text; bodies of any bytes still go to the leaf.
        check_leaf(1, "death_report", data);
        return;
    };
    let key = LeafKey::new(&[9; 32]);
    let mut index = Index::default();
    let mut history: HashMap<u32, Vec<(u64, Event)>> = HashMap::new();
    let mut names: HashMap<u32, (String, String, Option<PartialDate>)> = HashMap::new();
    let mut seq = 0u64;
    for line in text.lines().take(64) {
        if line.trim().is_empty() {
            continue;
        }
        let event = match line.split_once(' ') {
            Some((kind, body)) if KINDS.contains(&kind) => stored(kind, body),
            _ => submitted(line),
        };
        check_leaf(seq + 1, "death_report", line.as_bytes());
        let Some(event) = event else {
            continue;
        };
        let ssn = event.ssn();
        let state = index.get(ssn).cloned().unwrap_or_default();
        if state.check(ssn, &event).is_err() {
            continue;
        }
        seq += 1;
        let body = encode(&event);
        let made = leaf(
            &key,
            dmf_registry::public::leaf_fields,
            EventRef {
                seq,
                kind: event.kind(),
                subject: Some(ssn.as_u32()),
                idempotency_key: None,
                recorded_at: 1_768_435_200_000,
                body: &body,
            },
        )
        .expect("the leaf of an encoded event");
        let made = std::str::from_utf8(&made).expect("a leaf is text");
        serde_json::from_str::<serde_json::Value>(made).expect("a leaf is JSON");
        assert!(
            !made.contains(&ssn.to_string()),
            "the SSN is in clear in the leaf {made}"
        );
        remember_name(&event, &mut names);
        let _ = index.apply(seq, &event);
        history.entry(ssn.as_u32()).or_default().push((seq, event));
    }

    for (ssn, events) in &history {
        let mut replayed = PersonState::default();
        for (seq, event) in events {
            let _ = replayed.apply(*seq, event);
        }
        let ssn = Ssn::from_number(*ssn).expect("an SSN of an event");
        let held = index.get(ssn).expect("a state for every SSN with events");
        assert_eq!(&replayed, held, "replay and index disagree");
        for notice in held.notices() {
            let _ = notice.status(today()).code();
            let _ = notice.in_force(today());
        }
        let (first, last, dob) = names
            .get(&ssn.as_u32())
            .cloned()
            .unwrap_or_else(|| ("JOHN".into(), "DOE".into(), None));
        let dob = dob.unwrap_or_else(|| "1950-01-01".parse().expect("a date"));
        for query in [
            IdentityQuery {
                ssn,
                first: first.clone(),
                last: last.clone(),
                dob,
            },
            IdentityQuery {
                ssn,
                first: "X".into(),
                last,
                dob: "1900".parse().expect("a date"),
            },
        ] {
            for purpose in [Purpose::Identity, Purpose::Employment, Purpose::Benefits] {
                for mirror in [false, true] {
                    let _ = render::answer_for(purpose, &query, Some(held), today(), mirror);
                    let _ = render::answer_for(purpose, &query, None, today(), mirror);
                }
            }
        }
    }
});

/// A submitted line: accepted ones encode to a body that decodes to the same event.
fn submitted(line: &str) -> Option<Event> {
    let sub = match parse_line(line, today()) {
        Ok(sub) => sub,
        Err(rejection) => {
            assert!(rejection.path.starts_with('$'), "{rejection:?}");
            return None;
        }
    };
    round_trip(&sub.event);
    Some(sub.event)
}

/// A stored line, `KIND {json}`: a body that decodes encodes back canonically.
fn stored(kind: &str, body: &str) -> Option<Event> {
    let event = decode(kind, body.as_bytes()).ok()?;
    assert_eq!(event.kind(), kind);
    round_trip(&event);
    Some(event)
}

fn round_trip(event: &Event) {
    let body = encode(event);
    let back = decode(event.kind(), &body).unwrap_or_else(|e| {
        panic!(
            "{e}: the encoding {:?} of {event:?}",
            String::from_utf8_lossy(&body)
        )
    });
    assert_eq!(&back, event, "{:?}", String::from_utf8_lossy(&body));
    assert_eq!(encode(&back), body, "an event encodes to one body");
    serde_json::from_slice::<serde_json::Value>(&body).expect("the stored body is JSON");
}

/// The leaf of any stored body: an error, or valid JSON; a body it reads is a JSON object.
fn check_leaf(seq: u64, kind: &str, body: &[u8]) {
    let key = LeafKey::new(&[9; 32]);
    let event = EventRef {
        seq,
        kind,
        subject: None,
        idempotency_key: Some("k"),
        recorded_at: i64::from_le_bytes(
            body.iter()
                .copied()
                .chain(std::iter::repeat(0))
                .take(8)
                .collect::<Vec<u8>>()
                .try_into()
                .expect("8 bytes"),
        ),
        body,
    };
    if let Ok(made) = leaf(&key, dmf_registry::public::leaf_fields, event) {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => assert!(value.is_object()),
            // JSON's grammar allows a `\uXXXX` escape of half a surrogate pair, which
            // serde_json refuses; the leaf need not.
            Err(e) if e.to_string().contains("surrogate") => return,
            Err(e) => panic!(
                "the leaf read a body that is not JSON ({e}): {:?}",
                String::from_utf8_lossy(body)
            ),
        }
        serde_json::from_slice::<serde_json::Value>(&made).unwrap_or_else(|e| {
            panic!(
                "the leaf is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&made)
            )
        });
    }
}

fn remember_name(event: &Event, names: &mut HashMap<u32, (String, String, Option<PartialDate>)>) {
    let (ssn, first, last, dob) = match event {
        Event::Person(p) => (p.ssn, &p.name.first, &p.name.last, p.dob),
        Event::DeathReport(r) => {
            let s = r.report.subject();
            // A report may leave a name out: nothing to ask about then.
            let (Some(first), Some(last)) = (&s.name.first, &s.name.last) else {
                return;
            };
            (s.ssn, first, last, s.dob)
        }
        _ => return,
    };
    names.insert(
        ssn.as_u32(),
        (first.original().to_owned(), last.original().to_owned(), dob),
    );
}
