//! The request bodies of the HTTP API, decoded as the handlers in `crates/dmf-server/src/routes/`
//! decode them, and the letter codes of `GET /v1/letters/{code}`.
//!
//! Submissions go through `dmf_registry::submission::parse_for_route` and verification
//! queries through `dmf_registry::submission::parse_query`, as the server's handlers call them;
//! only the server's `object` (one JSON object or nothing) is repeated here.
//!
//! The first byte picks the route:
//! 0. `POST /v1/verify/{purpose}`: the query, then the answers for every purpose against a
//!    small index (people alive, dead, under a notice);
//! 1. `POST /v1/reports/death` with a reporter key of source `funeral_home`;
//! 2. `POST /v1/notices/status` with an authority key of authority `DHS`;
//! 3. a letter code as typed;
//! 4. a letter issued for the sequence number and SSN the bytes give.
//!
//! Properties: a query parses only with exactly its four string fields; an accepted
//! submission has the route's type and the key's source or authority, and its stored form
//! decodes to it; a parsed letter code prints to a text that parses to it, in either
//! printed form; an issued letter verifies for its SSN only.

#![no_main]

use std::sync::OnceLock;

use dmf_log::SigningKey;
use dmf_model::{Date, DeathSource, Ssn};
use dmf_ledger::letter::LetterCode;
use dmf_registry::render::{self, Purpose};
use dmf_registry::submission::{parse_for_route, parse_query};
use dmf_registry::{Event, Index, decode, encode, parse_line};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

fn today() -> Date {
    Date::new(2026, 1, 15).expect("a date")
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    match route % 5 {
        0 => verify(body),
        1 => submit(body, "death_report", ("source", "funeral_home")),
        2 => submit(body, "status_notice", ("authority", "DHS")),
        3 => {
            if let Ok(text) = std::str::from_utf8(body) {
                letter(text);
            }
        }
        _ => issued(body),
    }
});

/// One JSON object, as `api::object` takes it.
fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Who the answers are about: alive, dead (reported by a state and by a funeral home), and
/// under a status notice and its contest.
fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = Index::default();
        let stored = [
            (
                "person",
                r#"{"ssn":"123456789","first":"John","last":"Smith","dob":"1930-01-02"}"#,
            ),
            (
                "person",
                r#"{"ssn":"234567890","first":"Jane","middle":"Q","last":"Doe","suffix":"Jr","sex":"F","dob":"1945-07-04"}"#,
            ),
            (
                "person",
                r#"{"ssn":"345678901","first":"Robert","last":"Johnson","dob":"1950-03"}"#,
            ),
            (
                "person",
                r#"{"ssn":"456789012","first":"Mary","last":"Williams","dob":"1962-11-30"}"#,
            ),
        ];
        let submitted = [
            r#"{"type":"death_report","ssn":"234567890","first":"Jane","last":"Doe","suffix":"Jr","dob":"1945-07-04","dod":"2025-12-01","source":"state","evidence":"cert 1"}"#,
            r#"{"type":"death_report","ssn":"456789012","first":"Mary","last":"Williams","dob":"1962-11-30","dod":"2025-11","source":"funeral_home","evidence":"fh 2"}"#,
            r#"{"type":"status_notice","ssn":"345678901","first":"Robert","last":"Johnson","dob":"1950-03","kind":"employment_authorization_ended","authority":"DHS","legal_basis":"8 CFR 274a","document":"doc 3","effective":"2025-12-28","notice_sent":"2025-12-22"}"#,
            r#"{"type":"contest","ssn":"345678901","notice":7,"reason":"it is wrong"}"#,
            r#"{"type":"presumed_deceased","ssn":"123456789","criterion":"age 120","legal_basis":"rule 9","recorded_by":"clerk 1"}"#,
        ];
        let mut seq = 0;
        let events = stored
            .iter()
            .map(|(kind, body)| decode(kind, body.as_bytes()).expect("a stored event"))
            .chain(
                submitted
                    .iter()
                    .map(|line| parse_line(line, today()).expect("a submission").event),
            );
        for event in events {
            let state = index.get(event.ssn()).cloned().unwrap_or_default();
            state.check(event.ssn(), &event).expect("a valid event");
            seq += 1;
            let _ = index.apply(seq, &event);
        }
        index
    })
}

fn verify(body: &[u8]) {
    let Some(m) = object(body) else {
        return;
    };
    // The server's own decoding (`api::identity_query` calls it).
    let Ok(query) = parse_query(&m) else {
        return;
    };
    assert_eq!(m.len(), 4, "a query has its four fields");
    let state = index().get(query.ssn);
    for purpose in [Purpose::Identity, Purpose::Employment, Purpose::Benefits] {
        // As the server answers, on a registry and on a mirror.
        for mirror in [false, true] {
            let answer = render::answer_for(purpose, &query, state, today(), mirror);
            assert_eq!(answer["purpose"], json!(purpose.code()));
            serde_json::to_vec(&answer).expect("an answer serialises");
        }
    }
}

fn submit(body: &[u8], kind: &str, fixed: (&str, &str)) {
    let sub = match parse_for_route(body, kind, fixed, today()) {
        Ok(sub) => sub,
        Err(rejection) => {
            assert!(rejection.path.starts_with('$'), "{rejection:?}");
            let _ = rejection.to_string();
            return;
        }
    };
    assert_eq!(sub.event.kind(), kind);
    match &sub.event {
        Event::DeathReport(r) => {
            assert_eq!(r.report.source(), DeathSource::FuneralHome);
        }
        Event::StatusNotice(n) => {
            assert_eq!(n.notice.authority.as_str(), "DHS");
            // A notice whose contest period would run off the calendar is refused.
            assert!(n.contest_deadline > n.notice_sent);
        }
        other => panic!("the route stored a {}", other.kind()),
    }
    let stored = encode(&sub.event);
    assert_eq!(decode(kind, &stored).as_ref(), Ok(&sub.event));
    // The intake rules take or refuse it; neither panics.
    let state = index().get(sub.event.ssn()).cloned().unwrap_or_default();
    if state.check(sub.event.ssn(), &sub.event).is_ok() {
        let mut state = state;
        let _ = state.apply(100, &sub.event);
    }
}

fn signer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_seed("fuzz.example/log", [7; 32]).expect("a key"))
}

fn letter(text: &str) {
    let Ok(code) = LetterCode::parse(text) else {
        return;
    };
    let printed = code.to_text();
    assert_eq!(LetterCode::parse(&printed).as_ref(), Ok(&code));
    assert_eq!(
        LetterCode::parse(&code.to_grouped_text()).as_ref(),
        Ok(&code)
    );
    // The text as typed is the printed code, up to case, dashes, spaces and O, I, L.
    let normal: String = text
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    assert_eq!(normal, printed);
    let ssn: Ssn = "123456789".parse().expect("an SSN");
    // Nothing typed verifies without the key's signature (the fixed key signs no such code).
    let _ = code.verify(&signer().verifier(), ssn);
}

fn issued(body: &[u8]) {
    if body.len() < 12 {
        return;
    }
    let seq = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
    let n = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
    let Ok(ssn) = Ssn::from_number(n % 1_000_000_000) else {
        return;
    };
    let code = LetterCode::issue(signer(), seq, ssn);
    assert_eq!(code.seq, seq);
    let verifier = signer().verifier();
    assert!(code.verify(&verifier, ssn));
    let parsed = LetterCode::parse(&code.to_grouped_text()).expect("an issued code parses");
    assert_eq!(parsed, code);
    assert!(parsed.verify(&verifier, ssn));
    if let Ok(other) = Ssn::from_number((n % 1_000_000_000 + 1) % 1_000_000_000)
        && other != ssn
    {
        assert!(
            !code.verify(&verifier, other),
            "a letter verifies for another SSN"
        );
    }
}
