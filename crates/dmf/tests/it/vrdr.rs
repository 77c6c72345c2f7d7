//! `dmf submit --format vrdr`: files of FHIR VRDR messages (the reference library's fixtures,
//! edited to name a numberholder), one message a file, a batch, or NDJSON of messages; one
//! answer a message, and the FHIR answers themselves with `--json`.

use std::path::Path;

use dmf_vrdr::CertificateKey;
use dmf_vrdr::testing::{Decedent, Edit, edit};
use serde_json::{Value, json};

use super::{dmf, s, stderr, stdout};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dmf-vrdr/testdata/vrdr")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const WALKER: Decedent<'static> = Decedent {
    ssn: "123456789",
    given: "Alice",
    family: "Walker",
    birth: "1980-05-17",
};

fn message(
    name: &str,
    id: &str,
    cert: u32,
    decedent: Option<Decedent<'_>>,
    dod: Option<&str>,
) -> Value {
    let mut m = fixture(name);
    let record = CertificateKey {
        jurisdiction: "NY".parse().unwrap(),
        year: 2026,
        number: cert,
    };
    edit(
        &mut m,
        &Edit {
            id,
            record,
            decedent,
            death: dod,
        },
    );
    m
}

#[test]
fn a_state_file_of_messages_is_stored_and_each_answered() {
    let people = "ssn,first,middle,last,suffix,sex,dob,birth_state\n123456789,Alice,Mae,Walker,,F,1980-05-17,OH\n";
    let (dir, data) = super::registry_of(people);
    let d = s(&data);

    // One message, indented as the fixture is.
    let one = dir.path().join("submission.json");
    let submission = message(
        "DeathRecordSubmissionMessage.json",
        "m-1",
        42,
        Some(WALKER),
        Some("2026-11-01"),
    );
    std::fs::write(&one, serde_json::to_string_pretty(&submission).unwrap()).unwrap();
    // NDJSON: the update, then a message for a record of no numberholder (held), then a
    // message that is not a message.
    let lines = dir.path().join("more.ndjson");
    let update = message(
        "DeathRecordUpdateMessage.json",
        "m-2",
        42,
        Some(WALKER),
        Some("2026-11-02"),
    );
    let stranger = Decedent {
        ssn: "123456780",
        ..WALKER
    };
    let held = message(
        "DeathRecordSubmissionMessage.json",
        "m-3",
        43,
        Some(stranger),
        Some("2026-11-01"),
    );
    let text = [
        update.to_string(),
        held.to_string(),
        json!({ "resourceType": "Patient" }).to_string(),
    ]
    .join("\n");
    std::fs::write(&lines, text).unwrap();

    let out = dmf(&[
        "submit",
        "--data",
        d,
        "--format",
        "vrdr",
        s(&one),
        s(&lines),
        "--today",
        "2026-11-23",
    ]);
    let said = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one message refused: {said}{}",
        stderr(&out)
    );
    let said: Vec<&str> = said.lines().collect();
    assert_eq!(said.len(), 4, "{said:?}");
    assert!(
        said[0].ends_with("submission.json: message m-1: deceased"),
        "{}",
        said[0]
    );
    assert!(
        said[1].contains("more.ndjson:1: message m-2: amended"),
        "{}",
        said[1]
    );
    assert!(
        said[2].contains("more.ndjson:2: message m-3: held ("),
        "{}",
        said[2]
    );
    assert!(
        said[3].contains("more.ndjson:3: message (no id): refused: Bundle.resourceType: a Patient is not a message"),
        "{}",
        said[3]
    );

    // What the registry holds: the death at the update's date.
    let out = dmf(&["show", "--data", d, "--ssn", "123456789", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["current"]["death"]["dod"], "2026-11-02", "{v}");

    // The void, answered in FHIR with --json: an acknowledgement naming the message.
    let void_file = dir.path().join("void.json");
    let mut void = message("DeathRecordVoidMessage.json", "m-4", 42, None, None);
    for p in void["entry"][1]["resource"]["parameter"]
        .as_array_mut()
        .unwrap()
    {
        if p["name"] == "block_count" {
            p["valueUnsignedInt"] = json!(1);
        }
    }
    std::fs::write(&void_file, void.to_string()).unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        d,
        "--format",
        "vrdr",
        s(&void_file),
        "--json",
        "--today",
        "2026-11-23",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let header = &answer["entry"][0]["resource"];
    assert_eq!(
        header["eventUri"],
        "http://nchs.cdc.gov/vrdr_acknowledgement"
    );
    assert_eq!(header["response"]["identifier"], "m-4");
    assert!(
        dmf_vrdr::answer::check_answer(&answer).is_empty(),
        "{answer}"
    );
    let out = dmf(&["show", "--data", d, "--ssn", "123456789", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["current"]["death"].is_null(), "{v}");

    // A file that is not JSON at all is refused before anything is read.
    let csv = dir.path().join("people-again.csv");
    std::fs::write(&csv, people).unwrap();
    let out = dmf(&["submit", "--data", d, "--format", "vrdr", s(&csv)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("FHIR VRDR messages"),
        "{}",
        stderr(&out)
    );
}
