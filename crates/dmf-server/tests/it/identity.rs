//! Identity at intake over HTTP: nothing changes a person it does not name; held reports and
//! notices wait for two caseworkers; identity changes take two people.

use serde_json::{Value, json};

use super::Server;

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
521234567,Carmen,,Stanley,,F,1971-04-30,CO
522345678,John,,Smith,,M,1960-03-02,CO
523456789,Ann,,Lee,,F,1950-03-04,CO
524567890,Maria,,Garcia,,F,1985-08-09,CO
";
const CARMEN: &str = "521234567";
const JOHN: &str = "522345678";
const ANN: &str = "523456789";
const MARIA: &str = "524567890";

fn report(s: &Server, key: &str, body: Value) -> Value {
    let (status, r) = s.post_json("/v1/reports/death", key, body);
    assert_eq!(status, 201, "{r}");
    r
}

/// The benefit programs' full file line of `ssn`, if it has one.
fn published(s: &Server, ssn: &str) -> Option<String> {
    let (status, text) = s.get("/v1/files/full", Some("benefits"));
    assert_eq!(status, 200, "{text}");
    text.lines().find(|l| &l[1..10] == ssn).map(str::to_owned)
}

fn review(s: &Server, path: &str, key: &str, body: Value) -> (u16, Value) {
    s.post_json(path, key, body)
}

#[test]
fn reports_naming_someone_else_leave_the_person_alive_and_wait_in_the_queue() {
    let s = Server::with_people(PEOPLE);
    let bob = report(
        &s,
        "funeral",
        json!({"ssn": CARMEN, "first": "Bob", "last": "Smith", "dod": "2026-11-20", "evidence": "FH-1"}),
    );
    let alice = report(
        &s,
        "hospital",
        json!({"ssn": CARMEN, "first": "Alice", "last": "Jones", "dod": "2026-11-20", "evidence": "H-1"}),
    );
    for r in [&bob, &alice] {
        assert_eq!(
            (r["outcome"].as_str(), r["reason"].as_str()),
            (Some("held"), Some("identity_mismatch")),
            "{r}"
        );
        // The sender learns nothing of what is on file.
        assert!(r.get("differences").is_none(), "{r}");
    }
    for purpose in ["identity", "benefits"] {
        let v = s.verify(purpose, purpose, CARMEN, "Carmen", "Stanley", "1971-04-30");
        assert_eq!((&v["code"], &v["deceased"]), (&json!("V"), &json!(false)));
    }
    assert_eq!(published(&s, CARMEN), None);
    let (status, feed) = s.get("/v1/feed?after=0&wait=0", Some("subscriber"));
    assert_eq!(status, 200, "{feed}");
    assert!(!feed.contains(CARMEN), "{feed}");

    // Caseworkers see both, with each field that differs.
    let (status, q) = s.get_json("/v1/held", Some("caseworker"));
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["people"], 1, "{q}");
    let held = q["held"].as_array().unwrap();
    assert_eq!(held.len(), 2, "{q}");
    assert_eq!(held[0]["seq"], bob["seq"]);
    assert_eq!(held[0]["from"], "source:funeral_home");
    assert_eq!(held[0]["named"], "BOB SMITH");
    assert_eq!(
        held[0]["differences"],
        json!([
            {"field": "first", "reported": "BOB", "on_file": "CARMEN"},
            {"field": "last", "reported": "SMITH", "on_file": "STANLEY"}
        ])
    );
    assert_eq!(held[1]["differences"][0]["reported"], "ALICE");
    assert_eq!(s.get_json("/v1/held", Some("funeral")).0, 403);
    assert_eq!(s.get_json("/v1/held?limit=0", Some("caseworker")).0, 400);
    // Showing them is a disclosure of Carmen's record.
    let (_, acc) = s.get_json(
        &format!("/v1/people/{CARMEN}/accounting"),
        Some("caseworker"),
    );
    assert!(
        acc["disclosures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["purpose"] == "held_for_identity"),
        "{acc}"
    );
}

#[test]
fn a_wrong_state_report_an_unknown_ssn_and_a_close_spelling() {
    let s = Server::with_people(PEOPLE);
    // A state report with the wrong first name and date of birth.
    let r = report(
        &s,
        "reporter",
        json!({"ssn": CARMEN, "first": "Karen", "last": "Stanley", "dob": "1950-02-03", "dod": "2026-11-20", "evidence": "EDRS-CO-1"}),
    );
    assert_eq!(r["outcome"], "held", "{r}");
    let v = s.verify(
        "benefits",
        "benefits",
        CARMEN,
        "Carmen",
        "Stanley",
        "1971-04-30",
    );
    assert_eq!(v["deceased"], false);
    // A number nobody holds.
    let r = report(
        &s,
        "reporter",
        json!({"ssn": "529876543", "first": "Pat", "last": "Doe", "dod": "2026-11-20", "evidence": "EDRS-CO-2"}),
    );
    assert_eq!(
        (r["outcome"].as_str(), r["reason"].as_str()),
        (Some("held"), Some("unknown_ssn"))
    );
    assert_eq!(
        s.verify("benefits", "benefits", "529876543", "Pat", "Doe", "1950")["code"],
        "1"
    );
    // SMYTH for SMITH and the year off by one: John, as on file, is deceased, and the file
    // carries his name and date of birth as on file.
    let r = report(
        &s,
        "reporter",
        json!({"ssn": JOHN, "first": "John", "last": "Smyth", "dob": "1961-03-02", "dod": "2026-11-18", "evidence": "EDRS-CO-3"}),
    );
    assert_eq!(r["outcome"], "deceased", "{r}");
    let line = published(&s, JOHN).unwrap();
    assert_eq!(line[10..30].trim_end(), "SMITH", "{line}");
    assert_eq!(&line[73..81], "03021960", "{line}");
}

#[test]
fn two_people_confirm_a_held_report_before_it_applies_and_a_rejected_one_never_does() {
    let s = Server::with_people(PEOPLE);
    let held = report(
        &s,
        "reporter",
        json!({"ssn": CARMEN, "first": "Karen", "last": "Stanley", "dob": "1950-02-03", "dod": "2026-11-20", "evidence": "EDRS-CO-1"}),
    );
    let seq = held["seq"].as_u64().unwrap();
    let confirm = format!("/v1/held/{seq}/confirm");
    let checked = json!({"evidence": "called the Colorado registrar: the certificate is Carmen's"});
    // Not a held event.
    assert_eq!(
        review(&s, "/v1/held/1/confirm", "caseworker", checked.clone()).0,
        404
    );
    // Evidence is required to confirm.
    let (status, r) = review(&s, &confirm, "caseworker", json!({}));
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (422, Some("$.evidence")),
        "{r}"
    );
    let (status, r) = review(&s, &confirm, "caseworker", checked.clone());
    assert_eq!(
        (status, r["outcome"].as_str(), r["by"].as_str()),
        (201, Some("awaiting_second_person"), Some("test-caseworker")),
        "{r}"
    );
    let v = s.verify(
        "benefits",
        "benefits",
        CARMEN,
        "Carmen",
        "Stanley",
        "1971-04-30",
    );
    assert_eq!(v["deceased"], false, "one confirmation changes nothing");
    // The same person cannot confirm twice.
    let (status, r) = review(&s, &confirm, "caseworker", checked.clone());
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (422, Some("$.by")),
        "{r}"
    );
    assert_eq!(
        review(&s, &confirm, "funeral", checked.clone()).0,
        403,
        "reporters do not review"
    );
    let (status, r) = review(&s, &confirm, "caseworker2", checked.clone());
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    let v = s.verify(
        "benefits",
        "benefits",
        CARMEN,
        "Carmen",
        "Stanley",
        "1971-04-30",
    );
    assert_eq!((&v["code"], &v["deceased"]), (&json!("X"), &json!(true)));
    // The published line carries the name and date of birth on file, not the report's.
    let line = published(&s, CARMEN).unwrap();
    assert_eq!(line[10..30].trim_end(), "STANLEY", "{line}");
    assert_eq!(line[34..49].trim_end(), "CARMEN", "{line}");
    assert_eq!(&line[73..81], "04301971", "{line}");
    let (status, r) = review(&s, &confirm, "caseworker", checked.clone());
    assert_eq!(status, 422, "decided already: {r}");

    // A rejected report never applies.
    let wrong = report(
        &s,
        "hospital",
        json!({"ssn": ANN, "first": "Alice", "last": "Jones", "dod": "2026-11-20", "evidence": "H-9"}),
    );
    let seq = wrong["seq"].as_u64().unwrap();
    let (status, r) = review(
        &s,
        &format!("/v1/held/{seq}/reject"),
        "caseworker",
        json!({"reason": "the hospital's patient is someone else"}),
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("dismissed")),
        "{r}"
    );
    let (status, _) = review(
        &s,
        &format!("/v1/held/{seq}/confirm"),
        "caseworker2",
        checked,
    );
    assert_eq!(status, 422);
    let v = s.verify("benefits", "benefits", ANN, "Ann", "Lee", "1950-03-04");
    assert_eq!(v["deceased"], false);
    let (_, q) = s.get_json("/v1/held", Some("caseworker"));
    assert_eq!(q["people"], 0, "{q}");
}

#[test]
fn an_identity_change_by_two_people_makes_the_new_name_the_one_reports_must_give() {
    let s = Server::with_people(PEOPLE);
    let change = json!({"first": "Maria", "last": "Lopez", "reason": "marriage", "evidence": "marriage certificate CO-2026-55"});
    let (status, r) = s.post_json(
        &format!("/v1/people/{MARIA}/identity"),
        "caseworker",
        change,
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("proposed")),
        "{r}"
    );
    let seq = r["seq"].as_u64().unwrap();
    // Waiting: the name on file is still Garcia.
    let lopez = |s: &Server| {
        s.verify(
            "benefits",
            "benefits",
            MARIA,
            "Maria",
            "Lopez",
            "1985-08-09",
        )
    };
    assert_eq!(lopez(&s)["code"], "5");
    let (_, q) = s.get_json("/v1/held", Some("caseworker"));
    assert_eq!(q["proposed_identity_changes"][0]["seq"], seq, "{q}");
    let confirm = format!("/v1/identity-changes/{seq}/confirm");
    let (status, r) = s.post_json(&confirm, "caseworker", json!({"evidence": "seen"}));
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (422, Some("$.by")),
        "{r}"
    );
    let (status, r) = s.post_json(
        &confirm,
        "caseworker2",
        json!({"evidence": "certificate seen"}),
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("identity_changed")),
        "{r}"
    );
    assert_eq!(lopez(&s)["code"], "V");
    // A report with the new name applies; so does one with the name held before.
    let r = report(
        &s,
        "reporter",
        json!({"ssn": MARIA, "first": "Maria", "last": "Lopez", "dob": "1985-08-09", "dod": "2026-11-21", "evidence": "EDRS-CO-9"}),
    );
    assert_eq!(r["outcome"], "deceased", "{r}");
    let r = report(
        &s,
        "funeral",
        json!({"ssn": MARIA, "first": "Maria", "last": "Garcia", "dob": "1985-08-09", "dod": "2026-11-21", "evidence": "FH-9"}),
    );
    // Stored; the sender is not told what the record held before.
    assert_eq!(r["outcome"], "received", "{r}");
    let line = published(&s, MARIA).unwrap();
    assert_eq!(line[10..30].trim_end(), "LOPEZ", "{line}");
    // Bad changes are refused at their path.
    let (status, r) = s.post_json(
        &format!("/v1/people/{ANN}/identity"),
        "caseworker",
        json!({"reason": "x", "evidence": "y"}),
    );
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (400, Some("$")),
        "{r}"
    );
    let (status, r) = s.post_json(
        &format!("/v1/people/{ANN}/identity"),
        "caseworker",
        json!({"dob": "1950-02-30", "reason": "x", "evidence": "y"}),
    );
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (400, Some("$.dob")),
        "{r}"
    );
    let (status, r) = s.post_json(
        "/v1/people/529876543/identity",
        "caseworker",
        json!({"sex": "F", "reason": "x", "evidence": "y"}),
    );
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (422, Some("$.ssn")),
        "{r}"
    );
}

/// Regression (idempotency keys shared by every caller): a state's report reusing a funeral
/// home's key was answered `duplicate` with the other party's event and not stored. Keys are
/// each caller's own.
#[test]
fn the_same_idempotency_key_from_two_callers_is_two_submissions() {
    let s = Server::with_people(PEOPLE);
    let body = |source_key: &str| {
        json!({"ssn": JOHN, "first": "John", "last": "Smith", "dob": "1960-03-02",
               "dod": "2026-11-18", "evidence": format!("{source_key}-1"), "idempotency_key": "k-1"})
    };
    let funeral = report(&s, "funeral", body("FH"));
    let state = report(&s, "reporter", body("EDRS"));
    assert_ne!(funeral["seq"], state["seq"], "{funeral} {state}");
    assert_eq!(state["outcome"], "deceased", "{state}");
    // Each caller's own retry is its duplicate.
    let again = report(&s, "reporter", body("EDRS"));
    assert_eq!(
        (&again["outcome"], &again["seq"]),
        (&json!("duplicate"), &state["seq"])
    );
    let again = report(&s, "funeral", body("FH"));
    assert_eq!(
        (&again["outcome"], &again["seq"]),
        (&json!("duplicate"), &funeral["seq"])
    );
}
