//! Messages written by hand, beyond the fixtures: each case changes one thing of a small,
//! complete submission (`base`) and says what the reader must make of it.

use serde_json::{Value, json};

use super::{assert_problems, fixture, render_message};
use crate::{Body, DateParts, Incoming, IssueCode, Message, Refusal, SexAtDeath, read};

/// A complete submission: its header, Parameters naming 2026NY000182, and a document with
/// the Composition, the decedent, the certifier and the date of death (entries 0 to 3).
fn base() -> Value {
    json!({
        "resourceType": "Bundle",
        "id": "b0e2bd6a-2d4b-4c36-9d65-1c2f0f6b3a10",
        "type": "message",
        "timestamp": "2026-11-30T10:00:00-05:00",
        "entry": [
            {
                "fullUrl": "urn:uuid:6a1c3e0e-5b84-4e0f-9b4e-2f3a1d6c7e21",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": "6a1c3e0e-5b84-4e0f-9b4e-2f3a1d6c7e21",
                    "eventUri": "http://nchs.cdc.gov/vrdr_submission",
                    "destination": [{ "endpoint": "http://nchs.cdc.gov/vrdr_submission" }],
                    "source": { "endpoint": "https://vitalrecords.ny.example/fhir" },
                    "focus": [{ "reference": "Bundle/doc-1" }]
                }
            },
            {
                "fullUrl": "urn:uuid:0d6f2a8e-96c1-4a51-8d0b-7f44f1f0c9a3",
                "resource": {
                    "resourceType": "Parameters",
                    "id": "0d6f2a8e-96c1-4a51-8d0b-7f44f1f0c9a3",
                    "parameter": [
                        { "name": "jurisdiction_id", "valueString": "NY" },
                        { "name": "cert_no", "valueUnsignedInt": 182 },
                        { "name": "death_year", "valueUnsignedInt": 2026 },
                        { "name": "state_auxiliary_id", "valueString": "NY-2026-77" }
                    ]
                }
            },
            {
                "fullUrl": "https://vitalrecords.ny.example/fhir/Bundle/doc-1",
                "resource": {
                    "resourceType": "Bundle",
                    "id": "doc-1",
                    "type": "document",
                    "identifier": {
                        "system": "http://nchs.cdc.gov/vrdr_id",
                        "value": "2026NY000182",
                        "extension": [{
                            "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/CertificateNumber",
                            "valueString": "000182"
                        }]
                    },
                    "entry": [
                        {
                            "fullUrl": "urn:uuid:2c5b6e7f-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
                            "resource": {
                                "resourceType": "Composition",
                                "id": "2c5b6e7f-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
                                "subject": { "reference": "Patient/decedent-1" },
                                "attester": [{
                                    "mode": "legal",
                                    "party": { "reference": "urn:uuid:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a" }
                                }]
                            }
                        },
                        {
                            "fullUrl": "https://vitalrecords.ny.example/fhir/Patient/decedent-1",
                            "resource": {
                                "resourceType": "Patient",
                                "id": "decedent-1",
                                "extension": [{
                                    "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/NVSS-SexAtDeath",
                                    "valueCodeableConcept": {
                                        "coding": [{ "system": "http://hl7.org/fhir/administrative-gender", "code": "female" }]
                                    }
                                }],
                                "identifier": [{
                                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SB" }] },
                                    "system": "http://hl7.org/fhir/sid/us-ssn",
                                    "value": "123456780"
                                }],
                                "name": [{ "use": "official", "family": "Rivera", "given": ["Ana", "Lucia"], "suffix": ["II"] }],
                                "gender": "female",
                                "birthDate": "1931-04-02"
                            }
                        },
                        {
                            "fullUrl": "urn:uuid:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                            "resource": {
                                "resourceType": "Practitioner",
                                "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                                "identifier": [{ "system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893" }],
                                "name": [{ "use": "official", "family": "Osler", "given": ["William"] }]
                            }
                        },
                        {
                            "fullUrl": "urn:uuid:4d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a0f",
                            "resource": {
                                "resourceType": "Observation",
                                "id": "4d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a0f",
                                "status": "final",
                                "code": { "coding": [{ "system": "http://loinc.org", "code": "81956-5" }] },
                                "subject": { "reference": "Patient/decedent-1" },
                                "valueDateTime": "2026-11-28T23:10:00-05:00"
                            }
                        }
                    ]
                }
            }
        ]
    })
}

const BASE_LINE: &str = "submission id=6a1c3e0e-5b84-4e0f-9b4e-2f3a1d6c7e21 key=2026NY000182 aux=NY-2026-77 identifier=2026NY000182 ssn=123456780 name=Ana Lucia/Rivera/II sex=female birth=1931-04-02 death=2026-11-28 certifier=William Osler|http://hl7.org/fhir/sid/us-npi|1234567893";

const PARAMS: &str = "Bundle.entry[1].resource";
const DOC: &str = "Bundle.entry[2].resource";
const DECEDENT: &str = "Bundle.entry[2].resource.entry[1].resource";
const DEATH: &str = "Bundle.entry[2].resource.entry[3].resource";

/// The element at a JSON pointer, to change it.
fn at<'v>(v: &'v mut Value, pointer: &str) -> &'v mut Value {
    v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

/// The date of death given as the `PartialDateTime` extension with these parts, in place of
/// `valueDateTime`.
fn partial_death(m: &mut Value, parts: Value) {
    let death = "/entry/2/resource/entry/3/resource";
    remove(m, death, "valueDateTime");
    at(m, death)["_valueDateTime"] = json!({ "extension": [{
        "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/PartialDateTime",
        "extension": parts
    }]});
}

fn remove(v: &mut Value, pointer: &str, member: &str) {
    at(v, pointer)
        .as_object_mut()
        .expect("an object")
        .remove(member);
}

fn one(v: &Value) -> Result<Message, Refusal> {
    match read(&serde_json::to_vec(v).expect("JSON")) {
        Ok(Incoming::One(one)) => one,
        other => panic!("one message expected: {other:?}"),
    }
}

#[track_caller]
fn accepted(v: &Value) -> Message {
    one(v).unwrap_or_else(|r| panic!("refused: {:#?}", r.problems))
}

#[track_caller]
fn refused(v: &Value) -> Refusal {
    match one(v) {
        Ok(m) => panic!("accepted: {}", render_message(&m)),
        Err(r) => r,
    }
}

fn certificate(m: Message) -> crate::DeathCertificate {
    match m.body {
        Body::Submission(r) | Body::Update(r) => r.certificate,
        other => panic!("{other:?}"),
    }
}

fn parts(year: Option<u16>, month: Option<u8>, day: Option<u8>) -> DateParts {
    DateParts { year, month, day }
}

#[test]
fn the_base_message_is_read_whole() {
    assert_eq!(render_message(&accepted(&base())), BASE_LINE);
}

#[test]
fn a_batch_of_three_messages_with_one_broken() {
    let mut second = base();
    *at(&mut second, "/entry/0/resource/id") = json!("second");
    *at(&mut second, "/entry/1/resource/parameter/0/valueString") = json!("ZZ");
    let mut third = base();
    *at(&mut third, "/entry/0/resource/id") = json!("third");
    *at(&mut third, "/entry/0/resource/eventUri") =
        json!("http://nchs.cdc.gov/vrdr_submission_update");
    let batch = json!({
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{ "resource": base() }, { "resource": second }, { "resource": third }]
    });
    let Ok(Incoming::Batch(messages)) = read(&serde_json::to_vec(&batch).expect("JSON")) else {
        panic!("a batch")
    };
    assert_eq!(messages.len(), 3);
    assert_eq!(
        render_message(messages[0].as_ref().expect("first")),
        BASE_LINE
    );
    let broken = messages[1].as_ref().expect_err("second");
    assert_eq!(broken.message_id.as_deref(), Some("second"));
    assert_problems(
        "second",
        broken,
        &[(
            "Bundle.entry[1].resource.entry[1].resource.parameter[0].valueString",
            "\"ZZ\" is not an NCHS jurisdiction id",
        )],
    );
    let third = messages[2].as_ref().expect("third");
    assert!(matches!(third.body, Body::Update(_)));
    assert_eq!(third.id, "third");
}

#[test]
fn a_batch_refuses_what_is_not_a_message_entry_by_entry() {
    let document = base()["entry"][2]["resource"].clone();
    let batch = json!({
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{ "resource": document }, { "request": { "method": "POST" } }, { "resource": base() }]
    });
    let Ok(Incoming::Batch(messages)) = read(&serde_json::to_vec(&batch).expect("JSON")) else {
        panic!("a batch")
    };
    assert_problems(
        "0",
        messages[0].as_ref().expect_err("document"),
        &[(
            "Bundle.entry[0].resource.type",
            "a document is not a message",
        )],
    );
    assert_problems(
        "1",
        messages[1].as_ref().expect_err("no resource"),
        &[("Bundle.entry[1].resource", "holds a message")],
    );
    assert!(messages[2].is_ok());

    let empty = json!({ "resourceType": "Bundle", "type": "batch", "entry": [] });
    let refusal = read(&serde_json::to_vec(&empty).expect("JSON")).expect_err("nothing to read");
    assert_problems("empty", &refusal, &[("Bundle.entry", "no entries")]);
}

#[test]
fn unicode_names_are_read_as_given() {
    let mut m = base();
    *at(&mut m, "/entry/2/resource/entry/1/resource/name") = json!([
        { "use": "nickname", "given": ["Nana"] },
        { "use": "official", "family": "Nguyễn-O’Brien", "given": ["Zoë", "Ngọc Ánh", "Søren"], "suffix": ["Jr."] }
    ]);
    let name = certificate(accepted(&m)).name.expect("a name");
    assert_eq!(name.value.given, ["Zoë", "Ngọc Ánh", "Søren"]);
    assert_eq!(name.value.family.as_deref(), Some("Nguyễn-O’Brien"));
    assert_eq!(name.value.suffix.as_deref(), Some("Jr."));
    assert_eq!(name.location, format!("{DECEDENT}.name[1]"));

    // JSON escapes, and characters outside the Basic Multilingual Plane.
    let text = serde_json::to_string(&base()).expect("JSON").replace(
        "\"Rivera\"",
        r#""\u00c9lo\u00efse \ud835\udcd0 \"Rivera\"""#,
    );
    let m: Value = serde_json::from_str(&text).expect("JSON");
    let name = certificate(accepted(&m)).name.expect("a name");
    assert_eq!(name.value.family.as_deref(), Some("Éloïse 𝓐 \"Rivera\""));
}

#[test]
fn partial_dates_with_a_data_absent_day() {
    let absent = json!([{ "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown" }]);
    let mut m = base();
    remove(&mut m, "/entry/2/resource/entry/1/resource", "birthDate");
    at(&mut m, "/entry/2/resource/entry/1/resource")["_birthDate"] = json!({ "extension": [{
        "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/PartialDate",
        "extension": [
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Year", "valueUnsignedInt": 1931 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Month", "valueUnsignedInt": 4 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Day", "extension": absent }
        ]
    }]});
    partial_death(
        &mut m,
        json!([
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Year", "valueUnsignedInt": 2026 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Month", "valueUnsignedInt": 11 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Day", "_valueUnsignedInt": { "extension": absent } },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Time", "valueTime": "23:10:00" }
        ]),
    );
    let c = certificate(accepted(&m));
    let birth = c.birth.expect("birth");
    assert_eq!(birth.value, parts(Some(1931), Some(4), None));
    assert_eq!(
        birth.location,
        format!("{DECEDENT}._birthDate.extension[0]")
    );
    let death = c.death.expect("death");
    assert_eq!(death.value, parts(Some(2026), Some(11), None));
    assert_eq!(
        death.location,
        format!("{DEATH}._valueDateTime.extension[0]")
    );
}

#[test]
fn the_common_library_shapes_of_vrdr_stu3() {
    // Partial dates as the Vital Records Common Library gives them, and STU2's sex codes.
    let mut m = base();
    remove(
        &mut m,
        "/entry/2/resource/entry/3/resource",
        "valueDateTime",
    );
    at(&mut m, "/entry/2/resource/entry/3/resource")["_valueDateTime"] = json!({ "extension": [{
        "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-partial-date-time-vr",
        "extension": [
            { "url": "day", "valueUnsignedInt": 30 },
            { "url": "year", "valueUnsignedInt": 2026 },
            { "url": "month", "_valueUnsignedInt": { "extension": [{
                "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-date-part-absent-reason-vr",
                "valueCode": "unknown"
            }] } },
            { "url": "time", "valueTime": "12:00:00" }
        ]
    }]});
    remove(&mut m, "/entry/2/resource/entry/1/resource", "birthDate");
    at(&mut m, "/entry/2/resource/entry/1/resource")["_birthDate"] = json!({ "extension": [{
        "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-partial-date-vr",
        "extension": [
            { "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-date-year-vr", "valueUnsignedInt": 1931 },
            { "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-date-month-vr", "valueUnsignedInt": 4 },
            { "url": "http://hl7.org/fhir/us/vr-common-library/StructureDefinition/Extension-date-day-vr", "valueUnsignedInt": 2 }
        ]
    }]});
    *at(
        &mut m,
        "/entry/2/resource/entry/1/resource/extension/0/valueCodeableConcept/coding/0/code",
    ) = json!("M");
    let c = certificate(accepted(&m));
    assert_eq!(
        c.death.expect("death").value,
        parts(Some(2026), None, Some(30))
    );
    assert_eq!(
        c.birth.expect("birth").value,
        parts(Some(1931), Some(4), Some(2))
    );
    assert_eq!(c.sex.expect("sex").value, SexAtDeath::Male);
}

#[test]
fn a_birth_date_with_a_time_gives_its_date() {
    let mut m = base();
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") =
        json!("1931-04-02T06:15:00-05:00");
    let birth = certificate(accepted(&m)).birth.expect("birth");
    assert_eq!(birth.value, parts(Some(1931), Some(4), Some(2)));
    assert_eq!(birth.location, format!("{DECEDENT}.birthDate"));
    // A year, or a year and a month, are partial dates too.
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") = json!("1931-04");
    assert_eq!(
        certificate(accepted(&m)).birth.expect("birth").value,
        parts(Some(1931), Some(4), None)
    );
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") = json!("1931");
    assert_eq!(
        certificate(accepted(&m)).birth.expect("birth").value,
        parts(Some(1931), None, None)
    );
}

#[test]
fn cert_no_as_a_string_of_digits() {
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter/1") =
        json!({ "name": "cert_no", "valueString": "000182" });
    let m = accepted(&m);
    assert_eq!(m.body.ids().expect("ids").key.number, 182);

    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter/1") =
        json!({ "name": "cert_no", "valueString": "18x" });
    assert_problems(
        "18x",
        &refused(&m),
        &[(
            &format!("{PARAMS}.parameter[1].valueString"),
            "is not a number from 0 to 999999",
        )],
    );
}

#[test]
fn the_key_from_the_document_when_the_parameters_lack_it() {
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter") = json!([]);
    let ids = accepted(&m).body.ids().expect("ids").clone();
    assert_eq!(ids.key.to_string(), "2026NY000182");
    assert_eq!(ids.state_auxiliary_id, None);
}

#[test]
fn block_count_zero_is_refused() {
    let mut void = json!({
        "resourceType": "Bundle",
        "type": "message",
        "entry": [
            { "fullUrl": "urn:uuid:v-1", "resource": {
                "resourceType": "MessageHeader", "id": "void-1",
                "eventUri": "http://nchs.cdc.gov/vrdr_submission_void",
                "destination": [{ "endpoint": "http://nchs.cdc.gov/vrdr_submission" }],
                "source": { "endpoint": "https://vitalrecords.ny.example/fhir" },
                "focus": [{ "reference": "urn:uuid:v-2" }]
            } },
            { "fullUrl": "urn:uuid:v-2", "resource": {
                "resourceType": "Parameters", "id": "v-2",
                "parameter": [
                    { "name": "jurisdiction_id", "valueString": "NY" },
                    { "name": "cert_no", "valueUnsignedInt": 182 },
                    { "name": "death_year", "valueUnsignedInt": 2026 },
                    { "name": "block_count", "valueUnsignedInt": 0 }
                ]
            } }
        ]
    });
    let refusal = refused(&void);
    assert_problems(
        "0",
        &refusal,
        &[(
            &format!("{PARAMS}.parameter[3].valueUnsignedInt"),
            "block_count 0",
        )],
    );
    assert_eq!(refusal.ids.expect("named").key.to_string(), "2026NY000182");

    // Absent means one record; a block must end by 999999.
    at(&mut void, "/entry/1/resource/parameter")
        .as_array_mut()
        .expect("list")
        .pop();
    let Body::Void(v) = accepted(&void).body else {
        panic!("a void")
    };
    assert_eq!(v.block_count, 1);
    assert_eq!(
        v.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        ["2026NY000182"]
    );
    *at(&mut void, "/entry/1/resource/parameter/1/valueUnsignedInt") = json!(999_999);
    at(&mut void, "/entry/1/resource/parameter")
        .as_array_mut()
        .expect("list")
        .push(json!({ "name": "block_count", "valueUnsignedInt": 2 }));
    assert_problems(
        "past",
        &refused(&void),
        &[(
            &format!("{PARAMS}.parameter[3].valueUnsignedInt"),
            "goes past 999999",
        )],
    );
}

#[test]
fn an_unknown_jurisdiction() {
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter/0/valueString") = json!("ZZ");
    let refusal = refused(&m);
    assert_problems(
        "ZZ",
        &refusal,
        &[(
            &format!("{PARAMS}.parameter[0].valueString"),
            "\"ZZ\" is not an NCHS jurisdiction id",
        )],
    );
    assert_eq!(refusal.problems[0].code, IssueCode::Value);
    // The refusal still names the record, by the document's jurisdiction.
    assert_eq!(refusal.ids.expect("named").key.to_string(), "2026NY000182");
}

#[test]
fn a_message_whose_document_is_missing() {
    let mut m = base();
    at(&mut m, "/entry").as_array_mut().expect("entries").pop();
    let refusal = refused(&m);
    assert_problems(
        "missing",
        &refusal,
        &[("Bundle.entry", "no death certificate document")],
    );
    assert_eq!(refusal.problems[0].code, IssueCode::Required);
    assert_eq!(
        refusal.message_id.as_deref(),
        Some("6a1c3e0e-5b84-4e0f-9b4e-2f3a1d6c7e21")
    );
    assert_eq!(
        refusal.source.as_deref(),
        Some("https://vitalrecords.ny.example/fhir")
    );
    assert_eq!(refusal.ids.expect("named").key.to_string(), "2026NY000182");
}

#[test]
fn a_message_whose_parameters_and_document_disagree() {
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter/1/valueUnsignedInt") = json!(183);
    let refusal = refused(&m);
    assert_problems(
        "183",
        &refusal,
        &[(
            &format!("{PARAMS}.parameter[1].valueUnsignedInt"),
            "cert_no 000183 disagrees with the document's record identifier 2026NY000182 at Bundle.entry[2].resource.identifier.value",
        )],
    );
    assert_eq!(refusal.problems[0].code, IssueCode::Value);

    // The document's certificate number extension must agree with its own identifier.
    let mut m = base();
    *at(
        &mut m,
        "/entry/2/resource/identifier/extension/0/valueString",
    ) = json!("000183");
    assert_problems(
        "ext",
        &refused(&m),
        &[(
            &format!("{DOC}.identifier.extension[0].valueString"),
            "not the one of the record identifier 2026NY000182",
        )],
    );
}

#[test]
fn a_document_without_identifiers_in_a_message() {
    let document: Value =
        serde_json::from_slice(&fixture("DeathRecordNoIdentifiers.json")).expect("JSON");
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter") = json!([]);
    *at(&mut m, "/entry/2/resource") = document;
    let refusal = refused(&m);
    let looked = "neither the Parameters (Bundle.entry[1].resource) nor the document's identifier (Bundle.entry[2].resource.identifier)";
    let at = format!("{PARAMS}.parameter");
    assert_problems(
        "no ids",
        &refusal,
        &[(&at, looked), (&at, looked), (&at, looked)],
    );
    assert!(
        refusal
            .problems
            .iter()
            .all(|p| p.code == IssueCode::Required)
    );
}

#[test]
fn bad_parts_of_the_dates_of_birth_and_death_are_each_named() {
    let mut m = base();
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") = json!("1931-13-02");
    partial_death(
        &mut m,
        json!([
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Year", "valueString": "two thousand" },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Month", "valueUnsignedInt": 11 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Day", "valueUnsignedInt": 32 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Time", "valueTime": "23:10:00" }
        ]),
    );
    let ext = format!("{DEATH}._valueDateTime.extension[0]");
    assert_problems(
        "dates",
        &refused(&m),
        &[
            (&format!("{DECEDENT}.birthDate"), "there is no month 13"),
            (
                &format!("{ext}.extension[0].valueString"),
                "is not a year of four digits",
            ),
            (
                &format!("{ext}.extension[2].valueUnsignedInt"),
                "32 is not a day",
            ),
        ],
    );

    // A day the month does not have; a part missing; a part neither given nor absent.
    let mut m = base();
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") = json!("1931-02-29");
    assert_problems(
        "29",
        &refused(&m),
        &[(&format!("{DECEDENT}.birthDate"), "1931-02 has no day 29")],
    );
    *at(&mut m, "/entry/2/resource/entry/1/resource/birthDate") = json!("1932-02-29");
    accepted(&m);
    partial_death(
        &mut m,
        json!([
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Year", "valueUnsignedInt": 2026 },
            { "url": "http://hl7.org/fhir/us/vrdr/StructureDefinition/Date-Day" }
        ]),
    );
    assert_problems(
        "parts",
        &refused(&m),
        &[
            (
                &format!("{ext}.extension[1]"),
                "neither a value nor a data-absent-reason",
            ),
            (&ext, "no Date-Month part"),
        ],
    );
}

#[test]
fn every_problem_is_named_in_one_pass() {
    let mut m = base();
    *at(&mut m, "/entry/1/resource/parameter/0/valueString") = json!("ZZ");
    *at(&mut m, "/entry/1/resource/parameter/2/valueUnsignedInt") = json!(26);
    *at(&mut m, "/entry/2/resource/entry/1/resource/gender") = json!("f");
    remove(&mut m, "/entry/2/resource/entry/1/resource", "extension");
    *at(&mut m, "/entry/2/resource/entry/3/resource/valueDateTime") = json!("28/11/2026");
    let refusal = refused(&m);
    assert_problems(
        "all",
        &refusal,
        &[
            (
                &format!("{PARAMS}.parameter[0].valueString"),
                "jurisdiction",
            ),
            (
                &format!("{PARAMS}.parameter[2].valueUnsignedInt"),
                "four digits",
            ),
            (&format!("{DECEDENT}.gender"), "\"f\" is not one of"),
            (&format!("{DEATH}.valueDateTime"), "is not a date"),
        ],
    );
}

#[test]
fn whom_the_document_names() {
    // The subject referenced by an absolute URL, or as the decedent's urn:uuid.
    let mut m = base();
    *at(
        &mut m,
        "/entry/2/resource/entry/0/resource/subject/reference",
    ) = json!("https://vitalrecords.ny.example/fhir/Patient/decedent-1");
    accepted(&m);
    *at(
        &mut m,
        "/entry/2/resource/entry/0/resource/subject/reference",
    ) = json!("urn:uuid:decedent-1");
    accepted(&m);
    // The subject a Practitioner; a decedent with neither SSN nor name.
    *at(
        &mut m,
        "/entry/2/resource/entry/0/resource/subject/reference",
    ) = json!("urn:uuid:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    assert_problems(
        "practitioner",
        &refused(&m),
        &[(
            "Bundle.entry[2].resource.entry[0].resource.subject.reference",
            "is a Practitioner, not the decedent's Patient",
        )],
    );
    let mut m = base();
    remove(&mut m, "/entry/2/resource/entry/1/resource", "identifier");
    remove(&mut m, "/entry/2/resource/entry/1/resource", "name");
    assert_problems(
        "nobody",
        &refused(&m),
        &[(DECEDENT, "neither a Social Security number nor a name")],
    );
    // Without the SSN (absent or empty), the name alone still names someone.
    let mut m = base();
    *at(
        &mut m,
        "/entry/2/resource/entry/1/resource/identifier/0/value",
    ) = json!(" ");
    assert_eq!(certificate(accepted(&m)).ssn, None);
    remove(&mut m, "/entry/2/resource/entry/1/resource", "identifier");
    assert_eq!(certificate(accepted(&m)).ssn, None);
}

#[test]
fn sex_at_death_before_gender() {
    let mut m = base();
    *at(&mut m, "/entry/2/resource/entry/1/resource/gender") = json!("male");
    let sex = certificate(accepted(&m)).sex.expect("sex");
    assert_eq!(sex.value, SexAtDeath::Female);
    remove(&mut m, "/entry/2/resource/entry/1/resource", "extension");
    let sex = certificate(accepted(&m)).sex.expect("sex");
    assert_eq!(
        (sex.value, sex.location.as_str()),
        (SexAtDeath::Male, format!("{DECEDENT}.gender").as_str())
    );
    *at(&mut m, "/entry/2/resource/entry/1/resource/gender") = json!("other");
    assert_eq!(
        certificate(accepted(&m)).sex.expect("sex").value,
        SexAtDeath::Unknown
    );
    let mut m = base();
    *at(
        &mut m,
        "/entry/2/resource/entry/1/resource/extension/0/valueCodeableConcept/coding/0/code",
    ) = json!("X");
    assert_problems(
        "X",
        &refused(&m),
        &[(
            &format!("{DECEDENT}.extension[0].valueCodeableConcept.coding[0].code"),
            "\"X\" is not one of",
        )],
    );
}

#[test]
fn the_header_comes_first() {
    let mut m = base();
    at(&mut m, "/entry")
        .as_array_mut()
        .expect("entries")
        .swap(0, 1);
    let refusal = refused(&m);
    assert_problems(
        "second",
        &refusal,
        &[(
            "Bundle.entry[0].resource",
            "must be the first entry of a message; here it is entry 1",
        )],
    );
    assert_eq!(
        refusal.message_id.as_deref(),
        Some("6a1c3e0e-5b84-4e0f-9b4e-2f3a1d6c7e21")
    );

    let mut m = base();
    remove(&mut m, "/entry/0/resource", "id");
    assert_problems(
        "no id",
        &refused(&m),
        &[("Bundle.entry[0].resource.id", "no id")],
    );
}

#[test]
fn the_body_must_be_a_message() {
    let refusal =
        read(b"{\n  \"resourceType\": \"Bundle\",\n  \"type\": message\n}").expect_err("not JSON");
    assert_problems("json", &refusal, &[("Bundle", "line 3 column")]);
    assert_eq!(refusal.problems[0].code, IssueCode::Structure);
    // A byte order mark before the JSON is passed over.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(serde_json::to_vec(&base()).expect("JSON"));
    assert!(matches!(read(&bom), Ok(Incoming::One(Ok(_)))));
    let refusal = read(b"[1, 2]").expect_err("not an object");
    assert_problems(
        "array",
        &refusal,
        &[("Bundle", "a message is a JSON object")],
    );
    let refusal = read(br#"{"resourceType": "Patient"}"#).expect_err("a Patient");
    assert_problems(
        "patient",
        &refusal,
        &[("Bundle.resourceType", "a Patient is not a message")],
    );
    let refusal =
        read(br#"{"resourceType": "Bundle", "type": "letter"}"#).expect_err("no such type");
    assert_problems(
        "letter",
        &refusal,
        &[("Bundle.type", "\"letter\" is not a type of Bundle")],
    );
    let refusal =
        read(br#"{"resourceType": "Bundle", "type": "message", "entry": {}}"#).map(|i| match i {
            Incoming::One(one) => one.expect_err("entry is not a list"),
            Incoming::Batch(_) => panic!("one"),
        });
    assert_problems(
        "entry",
        &refusal.expect("one message"),
        &[("Bundle.entry", "a list of entries")],
    );
}

#[test]
fn an_alias_names_its_ssn_where_it_was_given() {
    let m = read(&fixture("DeathRecordAliasMessage.json")).expect("read");
    let Incoming::One(Ok(m)) = m else {
        panic!("accepted")
    };
    let Body::Alias(alias) = m.body else {
        panic!("an alias")
    };
    let ssn = alias.ssn.expect("ssn");
    assert_eq!(ssn.value, "123-45-6789");
    assert_eq!(
        ssn.location,
        "Bundle.entry[1].resource.parameter[9].valueString"
    );
}

#[test]
fn a_blank_message_id_is_refused_as_missing() {
    let mut m = base();
    *at(&mut m, "/entry/0/resource/id") = json!("   ");
    let r = refused(&m);
    assert_eq!(r.message_id, None);
    assert!(
        r.problems
            .iter()
            .any(|p| p.location == "Bundle.entry[0].resource.id" && p.code == IssueCode::Required),
        "{:?}",
        r.problems
    );
}

#[test]
fn an_empty_source_endpoint_is_answered_to_unknown() {
    let mut m = base();
    *at(&mut m, "/entry/0/resource/source/endpoint") = json!("");
    let message = accepted(&m);
    let answer = crate::answer::acknowledgement(&crate::answer::Answer {
        id: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        acknowledged: Some(&message.id),
        destination: message.source.as_deref(),
        source: "urn:registry",
        timestamp: "2026-12-01T09:30:00Z",
        ids: None,
        block_count: None,
        outcome: None,
        notes: &[],
    });
    assert_eq!(
        answer["entry"][0]["resource"]["destination"][0]["endpoint"],
        "unknown"
    );
    assert!(crate::answer::check_answer(&answer).is_empty(), "{answer}");
}
