//! Identity at intake from the command line: reports that name someone else are held with
//! the fields that differ, two people confirm them, imports never change an identity, and
//! `dmf verify --purpose P` answers what a key of purpose P gets over HTTP.

use std::path::Path;

use serde_json::{Value, json};

use super::serve::{key, serve};
use super::{dmf, s, stderr, stdout};

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
521234567,Carmen,,Stanley,,F,1971-04-30,CO
522345678,John,,Smith,,M,1960-03-02,CO
523456789,Ann,,Lee,,F,1950-03-04,CO
524567890,Maria,,Garcia,,F,1985-08-09,CO
";

/// A registry holding PEOPLE.
fn registry(dir: &Path) -> String {
    let data = dir.join("data");
    assert!(dmf(&["init", "--data", s(&data)]).status.success());
    let people = dir.join("people.csv");
    std::fs::write(&people, PEOPLE).unwrap();
    let out = dmf(&["import", "--data", s(&data), s(&people)]);
    assert!(out.status.success(), "{}", stderr(&out));
    s(&data).to_owned()
}

/// `dmf submit` of `lines`: each result as JSON.
fn submit(dir: &Path, data: &str, lines: &[Value]) -> Vec<Value> {
    let file = dir.join("events.ndjson");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        data,
        s(&file),
        "--json",
        "--today",
        "2026-11-23",
    ]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn show(data: &str, ssn: &str) -> Value {
    let out = dmf(&["show", "--data", data, "--ssn", ssn, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn head(data: &str) -> u64 {
    let v = show(data, "521234567");
    v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .max()
        .unwrap_or(0)
}

/// A death report of `ssn` naming `first last`, with the date of birth PEOPLE has for the SSN
/// (or none for a number it does not hold).
fn report(ssn: &str, first: &str, last: &str, source: &str) -> Value {
    let mut r = json!({"type": "death_report", "ssn": ssn, "first": first, "last": last,
           "dod": "2026-11-20", "source": source, "evidence": format!("{source}-1")});
    if let Some(dob) = PEOPLE
        .lines()
        .find(|l| l.starts_with(ssn))
        .and_then(|l| l.split(',').nth(6))
    {
        r["dob"] = json!(dob);
    }
    r
}

#[test]
fn reports_naming_someone_else_are_held_with_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path());
    let r = submit(
        dir.path(),
        &data,
        &[
            report("521234567", "Bob", "Smith", "funeral_home"),
            report("521234567", "Alice", "Jones", "hospital"),
            report("529876543", "Pat", "Doe", "state"),
        ],
    );
    assert_eq!(
        r[0]["differences"],
        json!([
            {"field": "first", "reported": "BOB", "on_file": "CARMEN"},
            {"field": "last", "reported": "SMITH", "on_file": "STANLEY"}
        ])
    );
    let reasons: Vec<(&str, &str)> = r
        .iter()
        .map(|v| {
            (
                v["outcome"].as_str().unwrap(),
                v["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("held", "identity_mismatch"),
            ("held", "identity_mismatch"),
            ("held", "unknown_ssn")
        ]
    );
    let v = show(&data, "521234567");
    assert_eq!(v["current"]["death"], Value::Null);
    let held = v["current"]["held_for_identity"].as_array().unwrap();
    assert_eq!(held.len(), 2, "{v}");
    assert_eq!(held[1]["differences"][0]["reported"], "ALICE");
    assert_eq!(held[1]["status"], "open");
    // In words, on the terminal.
    let file = dir.path().join("one.ndjson");
    std::fs::write(
        &file,
        report("521234567", "Bob", "Smith", "family").to_string(),
    )
    .unwrap();
    let text = stdout(&dmf(&["submit", "--data", &data, s(&file)]));
    assert!(
        text.contains("held: identity_mismatch (first: reported BOB, on file CARMEN; last: reported SMITH, on file STANLEY)"),
        "{text}"
    );
    // Pending work in the quality report.
    let out = dmf(&[
        "quality",
        "--data",
        &data,
        "--json",
        "--today",
        "2026-11-23",
    ]);
    let q: Value = serde_json::from_slice(&out.stdout).unwrap();
    let held = q["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "held_for_identity")
        .unwrap();
    assert_eq!(held["count"], 2, "{held}");
}

#[test]
fn two_people_confirm_a_held_report_and_an_identity_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path());
    let held = submit(
        dir.path(),
        &data,
        &[
            json!({"type": "death_report", "ssn": "521234567", "first": "Karen", "last": "Stanley",
                  "dob": "1950-02-03", "dod": "2026-11-20", "source": "state", "evidence": "EDRS-CO-1"}),
        ],
    );
    assert_eq!(held[0]["outcome"], "held");
    let seq = held[0]["seq"].as_u64().unwrap();
    let confirm = |by: &str| {
        json!({"type": "review", "ssn": "521234567", "event": seq, "decision": "confirm",
               "by": by, "evidence": "called the registrar"})
    };
    let r = submit(dir.path(), &data, &[confirm("cw-1"), confirm("cw-1")]);
    assert_eq!(r[0]["outcome"], "awaiting_second_person");
    assert_eq!(
        (&r[1]["status"], &r[1]["path"]),
        (&json!("rejected"), &json!("$.by"))
    );
    assert_eq!(show(&data, "521234567")["current"]["death"], Value::Null);
    let r = submit(dir.path(), &data, &[confirm("sup-2")]);
    assert_eq!(r[0]["outcome"], "deceased");
    let v = show(&data, "521234567");
    assert_eq!(v["current"]["death"]["source"], "state");
    assert_eq!(v["current"]["name"], "CARMEN STANLEY");

    // A new name by two people; the next report with it applies.
    let change = json!({"type": "identity_change", "ssn": "524567890", "first": "Maria",
                        "last": "Lopez", "reason": "marriage", "evidence": "certificate 55",
                        "requested_by": "cw-1", "approved_by": "cw-1"});
    let r = submit(dir.path(), &data, std::slice::from_ref(&change));
    assert_eq!(r[0]["path"], "$.approved_by", "{}", r[0]);
    let mut change = change;
    change["approved_by"] = json!("sup-2");
    let r = submit(
        dir.path(),
        &data,
        &[change, report("524567890", "Maria", "Lopez", "state")],
    );
    assert_eq!(r[0]["outcome"], "identity_changed");
    assert_eq!(r[1]["outcome"], "deceased");
    assert_eq!(show(&data, "524567890")["current"]["name"], "MARIA LOPEZ");
}

#[test]
fn imports_never_change_an_identity_and_refuse_files_that_are_not_people() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path());
    let before = head(&data);
    // A client file from the same folder: refused before anything is stored.
    let client = dir.path().join("clients.csv");
    std::fs::write(
        &client,
        "id,ssn,first,middle,last,dob\nC-1,521234567,Jane,,Roe,1970-01-01\nC-2,522345678,Jim,,Poe,1971-02-02\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", &data, s(&client)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a numberholder file: column id")
            && stderr(&out).contains("dmf match --client"),
        "{}",
        stderr(&out)
    );
    // A match result and events are refused the same way.
    let matches = dir.path().join("matches.csv");
    std::fs::write(
        &matches,
        "client_id,ssn,match_weight,match_probability,class\nC-1,521234567,12.5,0.99,1\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", &data, s(&matches)]);
    assert!(
        stderr(&out).contains("the result of `dmf match`"),
        "{}",
        stderr(&out)
    );
    let events = dir.path().join("events.ndjson");
    std::fs::write(
        &events,
        report("521234567", "Bob", "Smith", "state").to_string(),
    )
    .unwrap();
    let out = dmf(&["import", "--data", &data, s(&events)]);
    assert!(
        stderr(&out).contains("it is NDJSON (a JSON object a line), not a numberholder CSV or a DMF file; NDJSON events are sent with `dmf submit`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(head(&data), before, "nothing was stored");
    assert_eq!(
        show(&data, "521234567")["current"]["name"],
        "CARMEN STANLEY"
    );

    // A numberholder file with one changed name: the rest is imported, the conflict named.
    let people = dir.path().join("people2.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         521234567,Carmen,,Stanley,,F,1971-04-30,CO\n\
         522345678,John,,Smyth,,M,1960-03-02,CO\n\
         525678901,Ruth,,Olsen,,F,1944-12-12,CO\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", &data, s(&people), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&v["events_added"], &v["conflicts"], &v["rejected"]),
        (&json!(2), &json!(1), &json!(1)),
        "{v}"
    );
    let rejects = std::fs::read_to_string(v["files"][0]["rejects_file"].as_str().unwrap()).unwrap();
    assert!(
        rejects.contains(
            "3,last,\"conflicts with the numberholder on file (last on file SMITH, given SMYTH)"
        ),
        "{rejects}"
    );
    assert_eq!(show(&data, "522345678")["current"]["name"], "JOHN SMITH");
    assert_eq!(show(&data, "525678901")["current"]["name"], "RUTH OLSEN");
    // Said in words too (another file: the same one again is skipped whole as imported).
    let again = dir.path().join("people3.csv");
    std::fs::write(&again, "ssn,first,last\n522345678,John,Smyth\n").unwrap();
    let out = dmf(&["import", "--data", &data, s(&again)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("1 rejected (1 conflicting with the identity on file)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn verify_on_the_command_line_answers_what_a_key_of_that_purpose_gets() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path());
    let reporter = key(&data, "state-co", "reporter", &["--source", "state"]);
    let identity = key(&data, "bank", "identity", &[]);
    let benefits = key(&data, "ssa", "benefits", &[]);
    let (_server, base) = serve(&data, &["--today", "2026-11-23"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, key: &str, body: Value| -> Value {
        let text = agent
            .post(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let r = post(
        "/v1/reports/death",
        &reporter,
        json!({"ssn": "522345678", "first": "John", "last": "Smith", "dob": "1960-03-02",
               "dod": "2026-11-20", "evidence": "EDRS-CO-7"}),
    );
    assert_eq!(r["outcome"], "deceased", "{r}");
    let query = json!({"ssn": "522345678", "first": "John", "last": "Smith", "dob": "1960-03-02"});
    for (purpose, key) in [("identity", &identity), ("benefits", &benefits)] {
        let http = post(&format!("/v1/verify/{purpose}"), key, query.clone());
        let out = dmf(&[
            "verify",
            "--data",
            &data,
            "--ssn",
            "522345678",
            "--first",
            "John",
            "--last",
            "Smith",
            "--dob",
            "1960-03-02",
            "--purpose",
            purpose,
            "--json",
            "--today",
            "2026-11-23",
        ]);
        let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cli, http, "{purpose}");
    }
    // The state-only death is the benefit program's alone.
    let cli = post("/v1/verify/identity", &identity, query);
    assert_eq!(cli["deceased"], false, "{cli}");
}

#[test]
fn held_reports_are_counted_by_source_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path());
    submit(
        dir.path(),
        &data,
        &[
            report("521234567", "Bob", "Smith", "funeral_home"),
            report("522345678", "Alice", "Jones", "funeral_home"),
            report("529876543", "Pat", "Doe", "state"),
        ],
    );
    let text = stdout(&dmf(&["stats", "--data", &data, "--alerts"]));
    assert!(
        text.contains("held for their identity: source:funeral_home identity_mismatch: 2")
            && text.contains("held for their identity: source:state unknown_ssn: 1"),
        "{text}"
    );
}
