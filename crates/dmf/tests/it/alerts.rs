//! `dmf stats --alerts` on a registry: ordinary synthetic intake raises no alert; a planted day
//! of working-age people reported dead by one source is flagged that day.

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

const TODAY: &str = "2026-11-23";

/// The alerts of `dmf stats --alerts --json`: one document, as `GET /v1/alerts` answers.
fn alerts(d: &str) -> Vec<Value> {
    let out = dmf(&["stats", "--data", d, "--alerts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["alerts"].as_array().expect("an alerts array").clone()
}

/// Issue: with no alert, `dmf stats --alerts --json` printed nothing at all; it prints the
/// document `/v1/alerts` answers, with an empty list.
#[test]
fn alerts_as_json_are_a_document_even_when_there_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let out = dmf(&["stats", "--data", d, "--alerts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["alerts"], serde_json::json!([]), "{v}");
    assert_eq!(v["tree_size"], 0, "{v}");
}

#[test]
fn a_planted_bulk_of_young_deaths_raises_an_alert_and_ordinary_intake_none() {
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    let data = dir.path().join("data");
    let d = s(&data);
    let out = dmf(&[
        "synth",
        "--people",
        "20000",
        "--seed",
        "11",
        "--out",
        s(&synth),
        "--as-of",
        TODAY,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dmf(&["init", "--data", d]).status.success());
    for f in ["people.csv", "dmf.txt"] {
        let out = dmf(&["import", "--data", d, "--today", TODAY, s(&synth.join(f))]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = dmf(&["submit", "--data", d, s(&synth.join("reports.ndjson"))]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(alerts(d), Vec::<Value>::new(), "ordinary intake");

    // One funeral home reports 200 living people born 1975-1995 dead, all on one day.
    let mut dead = std::collections::HashSet::new();
    for r in csv::Reader::from_path(synth.join("truth_deaths.csv"))
        .unwrap()
        .records()
    {
        dead.insert(r.unwrap()[0].to_owned());
    }
    let lines: Vec<String> = csv::Reader::from_path(synth.join("people.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .filter(|p| !dead.contains(&p[0]) && p[6].len() == 10 && ("1975".."1996").contains(&&p[6][..4]))
        .take(200)
        .map(|p| {
            format!(
                r#"{{"type":"death_report","ssn":"{}","first":"{}","last":"{}","dob":"{}","dod":"2026-11-20","source":"funeral_home","evidence":"FH-{}","received":"{TODAY}"}}"#,
                &p[0], &p[1], &p[3], &p[6], &p[0]
            )
        })
        .collect();
    assert_eq!(lines.len(), 200);
    let bulk = dir.path().join("bulk.ndjson");
    std::fs::write(&bulk, lines.join("\n") + "\n").unwrap();
    let out = dmf(&["submit", "--data", d, s(&bulk)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = alerts(d);
    assert!(
        found
            .iter()
            .any(|a| a["group"] == "source:funeral_home" && a["kind"] == "age"),
        "{found:?}"
    );
    let text = stdout(&dmf(&["stats", "--data", d, "--alerts"]));
    assert!(text.contains("source:funeral_home  age"), "{text}");

    // Thresholds are the operator's: asking for a 95-point excess silences the age alert.
    let out = dmf(&[
        "stats",
        "--data",
        d,
        "--alerts",
        "--json",
        "--alert-age-excess",
        "0.95",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains(r#""kind":"age""#),
        "{}",
        stdout(&out)
    );
    let out = dmf(&["stats", "--data", d, "--alerts", "--alert-age-excess", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--alert-age-excess"),
        "{}",
        stderr(&out)
    );

    // The public export carries the alerts at its signed tree size; the recount checks the tie.
    let export = dir.path().join("export");
    let out = dmf(&["log", "export", "--data", d, "--out", s(&export)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(export.join("alerts.json")).unwrap();
    let published: Value = serde_json::from_str(&text).unwrap();
    let checkpoint = std::fs::read_to_string(export.join("checkpoint")).unwrap();
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(published["tree_size"], size);
    assert_eq!(published["root"], checkpoint.lines().nth(2).unwrap());
    assert!(
        published["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["group"] == "source:funeral_home" && a["kind"] == "age"),
        "{published}"
    );
    let out = dmf(&["stats", "--verify", s(&export)]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // The top-level size comes last (keys are sorted); each alert carries one too.
    let key = format!("\"tree_size\": {size}");
    let at = text.rfind(&key).unwrap();
    let moved = format!(
        "{}\"tree_size\": {}{}",
        &text[..at],
        size - 1,
        &text[at + key.len()..]
    );
    std::fs::write(export.join("alerts.json"), moved).unwrap();
    let out = dmf(&["stats", "--verify", s(&export)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("alerts.json: computed at tree size"),
        "{}",
        stdout(&out)
    );
}
