//! Answers: the one to every fixture is complete by `check_answer` and names the message
//! answered; the guide's own answers pass the check; what an answer lacks is named; answers
//! read back as what they say.

use serde_json::{Value, json};

use super::fixture;
use super::fixtures::{Expect, TABLE};
use crate::answer::{Answer, acknowledgement, check_answer, extraction_error};
use crate::{Body, Incoming, IssueCode, Problem, RecordIds, read, read_document};

const ANSWER_ID: &str = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const RECEIVER: &str = "https://registry.example/vrdr";
const NOW: &str = "2026-12-01T09:30:00Z";

fn answer<'a>(
    acknowledged: Option<&'a str>,
    destination: Option<&'a str>,
    ids: Option<&'a RecordIds>,
) -> Answer<'a> {
    Answer {
        id: ANSWER_ID,
        acknowledged,
        destination,
        source: RECEIVER,
        timestamp: NOW,
        ids,
        block_count: None,
        outcome: None,
        notes: &[],
    }
}

/// The answer a receiver gives to a fixture, and the id of the message answered if read.
fn answer_to(name: &str, expect: Expect) -> (Value, Option<String>) {
    let bytes = fixture(name);
    let notes = vec!["checked against the master file".to_owned()];
    match expect {
        Expect::Document(_) | Expect::DocumentRefused(_) => match read_document(&bytes) {
            Ok(c) => {
                let ids = c.key.map(|k| RecordIds {
                    key: k.value,
                    state_auxiliary_id: None,
                });
                let mut a = answer(None, None, ids.as_ref());
                a.outcome = Some("deceased");
                a.notes = &notes;
                (acknowledgement(&a), None)
            }
            Err(r) => (
                extraction_error(&answer(None, None, r.ids.as_ref()), &r.problems),
                None,
            ),
        },
        _ => match read(&bytes) {
            Ok(Incoming::One(Ok(m))) => {
                let mut a = answer(Some(&m.id), m.source.as_deref(), m.body.ids());
                if let Body::Void(v) = &m.body {
                    a.block_count = Some(v.block_count);
                }
                (acknowledgement(&a), Some(m.id.clone()))
            }
            Ok(Incoming::One(Err(r))) => {
                let a = answer(r.message_id.as_deref(), r.source.as_deref(), r.ids.as_ref());
                (extraction_error(&a, &r.problems), r.message_id.clone())
            }
            Ok(Incoming::Batch(_)) => panic!("no fixture is a batch"),
            Err(r) => (
                extraction_error(&answer(None, None, None), &r.problems),
                None,
            ),
        },
    }
}

#[test]
fn the_answer_to_every_fixture_is_complete_and_names_the_message() {
    for (name, expect) in TABLE {
        let (answer, message_id) = answer_to(name, *expect);
        assert_eq!(
            check_answer(&answer),
            Vec::<Problem>::new(),
            "{name}: {answer:#}"
        );
        let identifier = &answer["entry"][0]["resource"]["response"]["identifier"];
        assert_eq!(
            identifier.as_str(),
            Some(message_id.as_deref().unwrap_or("unknown")),
            "{name}"
        );
        let refused = matches!(
            expect,
            Expect::DocumentRefused(_) | Expect::MessageRefused(_) | Expect::BodyRefused(_)
        );
        let code = &answer["entry"][0]["resource"]["response"]["code"];
        assert_eq!(code, if refused { "fatal-error" } else { "ok" }, "{name}");
    }
}

#[test]
fn answers_read_back_as_what_they_say() {
    for (name, expect) in TABLE {
        let (answer, message_id) = answer_to(name, *expect);
        let bytes = serde_json::to_vec(&answer).expect("JSON");
        let m = match read(&bytes) {
            Ok(Incoming::One(Ok(m))) => m,
            other => panic!("{name}: our answer does not read back: {other:?}"),
        };
        let response = match m.body {
            Body::Acknowledgement(r) | Body::ExtractionError(r) => r,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            response.acknowledged,
            message_id.unwrap_or_else(|| "unknown".to_owned()),
            "{name}"
        );
    }
}

#[test]
fn the_guides_answers_pass_the_check() {
    for name in ["AcknowledgementMessage.json", "ExtractionErrorMessage.json"] {
        let value: Value = serde_json::from_slice(&fixture(name)).expect("JSON");
        assert_eq!(check_answer(&value), Vec::<Problem>::new(), "{name}");
    }
}

#[test]
fn an_acknowledgement_names_the_record_and_what_the_registry_did() {
    let ids: RecordIds = RecordIds {
        key: "2024MA112341".parse().expect("key"),
        state_auxiliary_id: Some("669494".to_owned()),
    };
    let notes = vec![
        "the SSN is on file".to_owned(),
        "the name differs in one letter".to_owned(),
    ];
    let mut a = answer(
        Some("5c903aff"),
        Some("https://state.example/vr"),
        Some(&ids),
    );
    a.block_count = Some(3);
    a.outcome = Some("held");
    a.notes = &notes;
    let v = acknowledgement(&a);
    assert_eq!(
        v["meta"]["profile"][0],
        "http://cdc.gov/nchs/nvss/fhir/vital-records-messaging/StructureDefinition/VRM-AcknowledgementMessage"
    );
    let header = &v["entry"][0]["resource"];
    assert_eq!(
        header["eventUri"],
        "http://nchs.cdc.gov/vrdr_acknowledgement"
    );
    assert_eq!(
        header["destination"],
        json!([{ "endpoint": "https://state.example/vr" }])
    );
    assert_eq!(header["source"], json!({ "endpoint": RECEIVER }));
    assert_eq!(
        header["response"],
        json!({ "identifier": "5c903aff", "code": "ok" })
    );
    // The entries' ids are UUIDs beside the answer's, each its own.
    let urls: Vec<&str> = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["fullUrl"].as_str().expect("fullUrl"))
        .collect();
    assert_eq!(
        urls,
        [
            "urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f8",
            "urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fb"
        ]
    );
    assert_eq!(header["focus"][0]["reference"], urls[1]);
    let parameters = &v["entry"][1]["resource"]["parameter"];
    assert_eq!(
        *parameters,
        json!([
            { "name": "jurisdiction_id", "valueString": "MA" },
            { "name": "cert_no", "valueUnsignedInt": 112341 },
            { "name": "death_year", "valueUnsignedInt": 2024 },
            { "name": "state_auxiliary_id", "valueString": "669494" },
            { "name": "block_count", "valueUnsignedInt": 3 },
            { "name": "registry_outcome", "valueString": "held" },
            { "name": "registry_note", "valueString": "the SSN is on file" },
            { "name": "registry_note", "valueString": "the name differs in one letter" },
        ])
    );
}

#[test]
fn an_extraction_error_names_each_problem_and_its_location() {
    let problems = [
        Problem::new(
            "Bundle.entry[1].resource.parameter[0].valueString",
            IssueCode::Value,
            "\"ZZ\" is not an NCHS jurisdiction id",
        ),
        Problem::new("Bundle.entry", IssueCode::Required, "no document"),
    ];
    let v = extraction_error(&answer(Some("abc"), None, None), &problems);
    assert_eq!(check_answer(&v), Vec::<Problem>::new());
    let header = &v["entry"][0]["resource"];
    assert_eq!(
        header["eventUri"],
        "http://nchs.cdc.gov/vrdr_extraction_error"
    );
    assert_eq!(header["destination"], json!([{ "endpoint": "unknown" }]));
    assert_eq!(header["response"]["code"], "fatal-error");
    let outcome = &v["entry"][2];
    assert_eq!(
        header["response"]["details"]["reference"],
        outcome["fullUrl"]
    );
    assert_eq!(
        outcome["resource"]["issue"],
        json!([
            {
                "severity": "error",
                "code": "value",
                "diagnostics": "\"ZZ\" is not an NCHS jurisdiction id",
                "expression": ["Bundle.entry[1].resource.parameter[0].valueString"],
            },
            {
                "severity": "error",
                "code": "required",
                "diagnostics": "no document",
                "expression": ["Bundle.entry"],
            },
        ])
    );
    // Read back, the details are the problems' reasons.
    let m = match read(&serde_json::to_vec(&v).expect("JSON")) {
        Ok(Incoming::One(Ok(m))) => m,
        other => panic!("{other:?}"),
    };
    let Body::ExtractionError(r) = m.body else {
        panic!("an extraction error")
    };
    assert_eq!(
        r.details,
        ["\"ZZ\" is not an NCHS jurisdiction id", "no document"]
    );
}

#[test]
fn an_answer_id_that_is_not_a_uuid_gets_suffixes() {
    let mut a = answer(Some("m1"), Some("x"), None);
    a.id = "answer-7";
    let v = extraction_error(&a, &[]);
    assert_eq!(check_answer(&v), Vec::<Problem>::new());
    let urls: Vec<&str> = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["fullUrl"].as_str().expect("fullUrl"))
        .collect();
    assert_eq!(
        urls,
        [
            "urn:uuid:answer-7-header",
            "urn:uuid:answer-7-parameters",
            "urn:uuid:answer-7-outcome"
        ]
    );
}

/// `check_answer` on the guide's acknowledgement after `change`.
fn lacks(name: &str, change: impl FnOnce(&mut Value)) -> Vec<(String, IssueCode)> {
    let mut v: Value = serde_json::from_slice(&fixture(name)).expect("JSON");
    change(&mut v);
    check_answer(&v)
        .into_iter()
        .map(|p| (p.location, p.code))
        .collect()
}

#[test]
fn what_an_answer_lacks_is_named() {
    let ack = "AcknowledgementMessage.json";
    let err = "ExtractionErrorMessage.json";
    let h = "Bundle.entry[0].resource";
    let at = |s: &str| s.to_owned();
    assert_eq!(
        lacks(ack, |v| {
            v.as_object_mut().expect("object").remove("timestamp");
        }),
        [(at("Bundle.timestamp"), IssueCode::Required)]
    );
    assert_eq!(
        lacks(ack, |v| v["type"] = json!("collection")),
        [(at("Bundle.type"), IssueCode::Value)]
    );
    assert_eq!(
        lacks(ack, |v| v["entry"][0]["resource"]["response"]["code"] =
            json!("fatal-error")),
        [(format!("{h}.response.code"), IssueCode::Value)]
    );
    assert_eq!(
        lacks(ack, |v| {
            v["entry"][0]["resource"]["response"]
                .as_object_mut()
                .expect("object")
                .remove("identifier");
        }),
        [(format!("{h}.response.identifier"), IssueCode::Required)]
    );
    assert_eq!(
        lacks(
            ack,
            |v| v["entry"][0]["resource"]["focus"][0]["reference"] = json!("urn:uuid:nowhere")
        ),
        [(format!("{h}.focus[0].reference"), IssueCode::Value)]
    );
    assert_eq!(
        lacks(ack, |v| v["entry"][0]["resource"]["destination"] =
            json!([{}])),
        [(format!("{h}.destination[0].endpoint"), IssueCode::Required)]
    );
    assert_eq!(
        lacks(ack, |v| {
            let params = v["entry"][1]["resource"]["parameter"]
                .as_array_mut()
                .expect("list");
            params.retain(|p| p["name"] != "death_year");
        }),
        [(
            at("Bundle.entry[1].resource.parameter"),
            IssueCode::Required
        )]
    );
    assert_eq!(
        lacks(ack, |v| {
            let entries = v["entry"].as_array_mut().expect("entries");
            entries.swap(0, 1);
        }),
        [(h.to_owned(), IssueCode::Required)]
    );
    assert_eq!(
        lacks(err, |v| v["entry"][2]["resource"]["issue"] = json!([])),
        [(at("Bundle.entry[2].resource.issue"), IssueCode::Required)]
    );
    assert_eq!(
        lacks(err, |v| {
            v["entry"][2]["resource"]["issue"][1]
                .as_object_mut()
                .expect("object")
                .remove("severity");
        }),
        [(
            at("Bundle.entry[2].resource.issue[1].severity"),
            IssueCode::Required
        )]
    );
    assert_eq!(
        lacks(err, |v| {
            v["entry"][0]["resource"]["response"]
                .as_object_mut()
                .expect("object")
                .remove("details");
        }),
        [(format!("{h}.response.details"), IssueCode::Required)]
    );
    assert_eq!(
        lacks(err, |v| v["entry"][0]["resource"]["eventUri"] =
            json!("http://nchs.cdc.gov/vrdr_status")),
        [(format!("{h}.eventUri"), IssueCode::Value)]
    );
}
