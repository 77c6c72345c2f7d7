//! `POST /v1/fhir/vrdr` over HTTP with the reference library's fixtures (not made by this
//! project): a state's submission, update and void reach a benefit program's feed as A, C and
//! D; what a state may not send is answered with an extraction error naming the element.

use dmf_vrdr::CertificateKey;
use dmf_vrdr::testing::{self, Decedent, Edit, resources};
use serde_json::{Value, json};

use super::Server;

const FHIR: &str = "application/fhir+json";

/// A fixture of the reference library (Apache-2.0, see the crate's testdata NOTICE).
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../dmf-vrdr/testdata/vrdr/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The fixture `name` as a message of its own: its header id, its record (`NY`, 2026, `cert`),
/// and for a submission or update the decedent and the date of death.
pub(crate) fn message(
    name: &str,
    id: &str,
    jurisdiction: &str,
    cert: u32,
    decedent: Option<(&str, &str, &str, &str)>,
    dod: &str,
) -> Value {
    let mut m = fixture(name);
    let record = CertificateKey {
        jurisdiction: jurisdiction.parse().unwrap(),
        year: 2026,
        number: cert,
    };
    let decedent = decedent.map(|(ssn, given, family, birth)| Decedent {
        ssn,
        given,
        family,
        birth,
    });
    let death = (!dod.is_empty()).then_some(dod);
    testing::edit(
        &mut m,
        &Edit {
            id,
            record,
            decedent,
            death,
        },
    );
    m
}

const ALICE: Option<(&str, &str, &str, &str)> =
    Some(("123456789", "Alice", "Walker", "1980-05-17"));

fn send(s: &Server, key: &str, body: &Value) -> (u16, Value) {
    let (status, text) = s.post_as("/v1/fhir/vrdr", Some(key), FHIR, &body.to_string());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The answer's header: its event, the message it answers, its code.
fn header(answer: &Value) -> (&str, &str, &str) {
    let h = &answer["entry"][0]["resource"];
    assert_eq!(h["resourceType"], "MessageHeader", "{answer}");
    (
        h["eventUri"].as_str().unwrap_or(""),
        h["response"]["identifier"].as_str().unwrap_or(""),
        h["response"]["code"].as_str().unwrap_or(""),
    )
}

/// A named parameter of the answer's Parameters.
fn parameter<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    answer["entry"].as_array()?.iter().find_map(|e| {
        let r = &e["resource"];
        (r["resourceType"] == "Parameters").then_some(())?;
        r["parameter"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
    })
}

/// Each problem of an extraction error: its location and diagnostics.
fn problems(answer: &Value) -> Vec<(String, String)> {
    let outcome = answer["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "OperationOutcome")
        .unwrap_or_else(|| panic!("no OperationOutcome in {answer}"));
    outcome["resource"]["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["expression"][0].as_str().unwrap_or("").to_owned(),
                i["diagnostics"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn acknowledged(s: &Server, body: &Value, id: &str, outcome: &str) {
    let (status, answer) = send(s, "state-ny", body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        header(&answer),
        ("http://nchs.cdc.gov/vrdr_acknowledgement", id, "ok"),
        "{answer}"
    );
    assert_eq!(
        parameter(&answer, "registry_outcome").map(|p| &p["valueString"]),
        Some(&json!(outcome)),
        "{answer}"
    );
    assert!(
        dmf_vrdr::answer::check_answer(&answer).is_empty(),
        "{answer}"
    );
}

fn deceased(s: &Server) -> bool {
    let v = s.verify(
        "benefits",
        "benefits",
        "123456789",
        "Alice",
        "Walker",
        "1980-05-17",
    );
    v["deceased"].as_bool().unwrap_or_else(|| panic!("{v}"))
}

#[test]
fn a_states_submission_update_and_void_reach_the_feed_as_a_c_and_d() {
    let s = Server::start();
    let (start, _) = super::feed(&s, "benefits", 0);
    let submission = message(
        "DeathRecordSubmissionMessage.json",
        "sub-1",
        "NY",
        182,
        ALICE,
        "2026-11-01",
    );
    acknowledged(&s, &submission, "sub-1", "deceased");
    assert!(deceased(&s));
    let (after_a, records) = super::feed(&s, "benefits", start);
    assert_eq!(records, [("A".to_owned(), "123456789".to_owned())]);
    // Sent again: a duplicate, acknowledged, nothing stored.
    acknowledged(&s, &submission, "sub-1", "duplicate");

    let update = message(
        "DeathRecordUpdateMessage.json",
        "upd-1",
        "NY",
        182,
        ALICE,
        "2026-11-02",
    );
    acknowledged(&s, &update, "upd-1", "amended");
    let (after_c, records) = super::feed(&s, "benefits", after_a);
    assert_eq!(records, [("C".to_owned(), "123456789".to_owned())]);
    assert!(deceased(&s));

    let void = message("DeathRecordVoidMessage.json", "void-1", "NY", 182, None, "");
    let mut void = void;
    // One record, not the fixture's block of ten.
    for r in resources(&mut void) {
        if r["resourceType"] == "Parameters" {
            for p in r["parameter"].as_array_mut().unwrap() {
                if p["name"] == "block_count" {
                    p["valueUnsignedInt"] = json!(1);
                }
            }
        }
    }
    acknowledged(&s, &void, "void-1", "withdrawn");
    assert!(!deceased(&s));
    let (_, records) = super::feed(&s, "benefits", after_c);
    assert_eq!(records, [("D".to_owned(), "123456789".to_owned())]);

    // The record's versions, and the void's way to the subscriber that had the death.
    let (status, v) = s.get_json("/v1/fhir/vrdr/records/2026NY000182", Some("caseworker"));
    assert_eq!(status, 200, "{v}");
    let kinds: Vec<&str> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["death_report", "death_report", "report_withdrawal"]);
    assert_eq!(v["versions"][2]["message"], "void-1");
    assert_eq!(v["standing"], false);
    assert_eq!(v["change"], v["versions"][2]["event"]);
    assert_eq!(
        v["subscribers"],
        json!([{ "subscriber": "test-benefits", "received": true, "sent_correction": true, "acknowledged": false }])
    );
    assert_eq!(v["complete"], false);
    let (status, _) = s.get_json("/v1/fhir/vrdr/records/2026NY000183", Some("caseworker"));
    assert_eq!(status, 404);
    let (status, _) = s.get_json("/v1/fhir/vrdr/records/2026NY000182", Some("state-ny"));
    assert_eq!(status, 403);
}

#[test]
fn what_a_state_may_not_send_is_an_extraction_error_naming_the_element() {
    let s = Server::start();
    let check = |body: Value, id: &str, at: &str, says: &str| {
        let (status, answer) = send(&s, "state-ny", &body);
        assert_eq!(status, 200, "{answer}");
        let (event, answered, code) = header(&answer);
        assert_eq!(
            (event, code),
            ("http://nchs.cdc.gov/vrdr_extraction_error", "fatal-error"),
            "{answer}"
        );
        assert_eq!(answered, id, "{answer}");
        let found = problems(&answer);
        assert!(
            found
                .iter()
                .any(|(l, d)| l.starts_with(at) && d.contains(says)),
            "{at} / {says} not in {found:?}"
        );
        assert!(
            dmf_vrdr::answer::check_answer(&answer).is_empty(),
            "{answer}"
        );
    };
    // Another jurisdiction's record.
    check(
        message(
            "DeathRecordSubmissionMessage.json",
            "nj-1",
            "NJ",
            5,
            ALICE,
            "2026-11-01",
        ),
        "nj-1",
        "Bundle.entry.resource.ofType(Parameters)",
        "jurisdiction NJ",
    );
    // A death certificate document, not a message.
    check(
        fixture("Bundle-DeathCertificateDocument-Example1.json"),
        // No message id could be read: the answer says so.
        "unknown",
        "Bundle.type",
        "message",
    );
    // The fixture's own test SSN, of an area never issued.
    let mut never = message(
        "DeathRecordSubmissionMessage.json",
        "ssn-1",
        "NY",
        6,
        None,
        "2026-11-01",
    );
    for r in resources(&mut never) {
        if r["resourceType"] == "Patient" {
            r["identifier"][0]["value"] = json!("987654321");
        }
    }
    check(never, "ssn-1", "Bundle.entry[", "never issued");
    // Nothing was stored by any of them.
    assert!(!deceased(&s));
}

#[test]
fn only_a_state_key_bound_to_a_jurisdiction_may_send() {
    let s = Server::start();
    let body = message(
        "DeathRecordSubmissionMessage.json",
        "k-1",
        "NY",
        7,
        ALICE,
        "2026-11-01",
    );
    for key in ["reporter", "hospital"] {
        let (status, answer) = send(&s, key, &body);
        assert_eq!(status, 403, "{key}: {answer}");
    }
    let (status, _) = send(&s, "identity", &body);
    assert_eq!(status, 403);
    assert!(!deceased(&s));
}

#[test]
fn a_batch_is_answered_message_by_message() {
    let s = Server::start();
    let one = message(
        "DeathRecordSubmissionMessage.json",
        "b-1",
        "NY",
        8,
        ALICE,
        "2026-11-01",
    );
    let other = message(
        "DeathRecordSubmissionMessage.json",
        "b-2",
        "NJ",
        9,
        ALICE,
        "2026-11-01",
    );
    let batch = json!({
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{ "resource": one }, { "resource": other }]
    });
    let (status, answer) = send(&s, "state-ny", &batch);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "batch-response");
    let entries = answer["entry"].as_array().unwrap();
    let said: Vec<(&str, &str, &str)> = entries.iter().map(|e| header(&e["resource"])).collect();
    assert_eq!(
        said,
        [
            ("http://nchs.cdc.gov/vrdr_acknowledgement", "b-1", "ok"),
            (
                "http://nchs.cdc.gov/vrdr_extraction_error",
                "b-2",
                "fatal-error"
            ),
        ]
    );
    assert_eq!(entries[1]["response"]["status"], "422");
    assert!(deceased(&s));
}

#[test]
fn concurrent_senders_share_commits_and_each_gets_its_own_answer() {
    let s = Server::start();
    let first = message(
        "DeathRecordSubmissionMessage.json",
        "c-0",
        "NY",
        300,
        ALICE,
        "2026-11-01",
    );
    acknowledged(&s, &first, "c-0", "deceased");
    // Sixteen at once: eight updates of the one record, eight submissions of others (of SSNs
    // no one holds: held).
    let answers: Vec<(String, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=16)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let id = format!("c-{i}");
                    let body = if i <= 8 {
                        message(
                            "DeathRecordUpdateMessage.json",
                            &id,
                            "NY",
                            300,
                            ALICE,
                            "2026-11-02",
                        )
                    } else {
                        let ssn = format!("1234567{:02}", 10 + i);
                        let who = Some((ssn.as_str(), "Zed", "Stranger", "1950-01-01"));
                        message(
                            "DeathRecordSubmissionMessage.json",
                            &id,
                            "NY",
                            300 + i,
                            who,
                            "2026-11-01",
                        )
                    };
                    let (status, answer) = send(s, "state-ny", &body);
                    (id, status, answer)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (id, status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        let (event, answered, code) = header(answer);
        assert_eq!(
            (event, answered, code),
            (
                "http://nchs.cdc.gov/vrdr_acknowledgement",
                id.as_str(),
                "ok"
            ),
            "{answer}"
        );
        let outcome = parameter(answer, "registry_outcome").unwrap()["valueString"].clone();
        let n: u32 = id[2..].parse().unwrap();
        let expect = if n <= 8 { "amended" } else { "held" };
        assert_eq!(outcome, expect, "{answer}");
    }
    // The record has its submission and the eight updates, each superseding the one before.
    let (status, v) = s.get_json("/v1/fhir/vrdr/records/2026NY000300", Some("caseworker"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["versions"].as_array().unwrap().len(), 9, "{v}");
    assert_eq!(v["standing"], true);
    assert!(deceased(&s));
}
