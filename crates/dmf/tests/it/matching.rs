//! `dmf match` from the command line: accuracy on synthetic data with its truth file, dirty
//! client files, the saved model, the report, and matching against a registry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

/// A synthetic population with a client file and its truth.
fn synth(dir: &Path) -> PathBuf {
    let out = dir.join("s");
    let o = dmf(&[
        "synth",
        "--people",
        "30000",
        "--clients",
        "3000",
        "--seed",
        "11",
        "--as-of",
        "2026-11-23",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// Precision and recall of each client's best match against client_truth.csv.
fn precision_recall(matches: &Path, truth: &Path) -> (f64, f64) {
    let mut best: HashMap<String, String> = HashMap::new();
    let mut r = csv::Reader::from_path(matches).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        best.entry(rec[0].to_owned())
            .or_insert_with(|| rec[1].to_owned());
    }
    let (mut tp, mut fp, mut missed) = (0.0, 0.0, 0.0);
    let mut r = csv::Reader::from_path(truth).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        match (best.get(&rec[0]), &rec[1]) {
            (Some(p), t) if p == t => tp += 1.0,
            (Some(_), t) => {
                fp += 1.0;
                if !t.is_empty() {
                    missed += 1.0;
                }
            }
            (None, t) if !t.is_empty() => missed += 1.0,
            (None, _) => {}
        }
    }
    (tp / (tp + fp), tp / (tp + missed))
}

fn f1((p, r): (f64, f64)) -> f64 {
    2.0 * p * r / (p + r)
}

#[test]
fn matches_synthetic_clients_with_and_without_ssn() {
    let dir = tempfile::tempdir().unwrap();
    let syn = synth(dir.path());
    let out = dir.path().join("m.csv");
    let model = dir.path().join("model.txt");
    let report = dir.path().join("report.html");
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&syn.join("client.csv")),
        "--master",
        s(&syn.join("dmf.txt")),
        "--out",
        s(&out),
        "--model",
        s(&model),
        "--report",
        s(&report),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["candidates"].as_u64().unwrap() > 0, "{v}");
    let with = precision_recall(&out, &syn.join("client_truth.csv"));
    assert!(f1(with) >= 0.98, "with SSN: {with:?}");
    let header = std::fs::read_to_string(&out).unwrap();
    assert!(header.starts_with(
        "client_id,ssn,match_weight,match_probability,class,ssn_level,first_level,last_level,dob_level"
    ));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg") && html.contains("clerical review") && !html.contains("<script"));
    assert!(std::fs::read_to_string(&model).unwrap().lines().count() > 10);

    // Names and dates of birth only, with the model trained above.
    let client = std::fs::read_to_string(syn.join("client.csv")).unwrap();
    let no_ssn: String = client
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                let (id, rest) = l.split_once(',').unwrap();
                let (_, rest) = rest.split_once(',').unwrap();
                format!("{id},,{rest}\n")
            }
        })
        .collect();
    let path = dir.path().join("no_ssn.csv");
    std::fs::write(&path, no_ssn).unwrap();
    let out2 = dir.path().join("m2.csv");
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&path),
        "--master",
        s(&syn.join("dmf.txt")),
        "--out",
        s(&out2),
        "--model",
        s(&model),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let without = precision_recall(&out2, &syn.join("client_truth.csv"));
    assert!(f1(without) >= 0.9, "without SSN: {without:?}");

    // One-to-one keeps each client once.
    let out3 = dir.path().join("m3.csv");
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&syn.join("client.csv")),
        "--master",
        s(&syn.join("dmf.txt")),
        "--out",
        s(&out3),
        "--model",
        s(&model),
        "--one-to-one",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out3).unwrap();
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len());
}

#[test]
fn dirty_cells_are_reported_and_structural_problems_stop() {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("dmf.txt");
    let rec = |ssn: &str, last: &str, first: &str, dob: &str| {
        let line = format!(
            "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{dob:8}",
            "", "", "", "03152001"
        );
        format!("{line:100}\n")
    };
    std::fs::write(
        &master,
        rec("123456789", "WALKER", "ALICE", "07011958")
            + &rec("234567890", "JONES", "ROBERT", "01021930"),
    )
    .unwrap();
    let client = dir.path().join("c.csv");
    std::fs::write(
        &client,
        "id,ssn,first,last,birth,branch\nA1,12345678X,Alice,Walker,07/71/1958,north\nA2,234567890,Bob,Jones,01/02/1930,south\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "-q",
            "match",
            "--client",
            s(&client),
            "--master",
            s(&master),
            "--columns",
            "dob=birth",
            // Two dates, one impossible: no cell tells MM/DD from DD/MM, so it is stated.
            "--dob-format",
            "MM/DD/YYYY",
        ];
        args.extend(extra);
        dmf(&args)
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("c.csv:2:2: ssn:"), "{err}");
    assert!(err.contains("c.csv:2:5: dob:"), "{err}");
    let out = stdout(&o);
    assert!(out.lines().next().unwrap().ends_with(",branch"), "{out}");
    assert!(out.contains("A2,234567890,"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("A2,") && l.ends_with(",south")),
        "{out}"
    );

    let o = run(&["--strict"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("c.csv:2:2: ssn:"), "{}", stderr(&o));

    std::fs::write(&client, "id;first;last\nA1;Alice;Walker\n").unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("delimited by ';'"), "{}", stderr(&o));
    std::fs::write(&client, "id,first,surname\nA1,Alice,Walker\n").unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no column \"last\""), "{}", stderr(&o));
}

/// Regression: `YYYYMMDD` dates of birth were read as `MMDDYYYY`, nearly all refused, and the
/// run still exited 0 with almost no matches. The same client file with its dates written
/// `YYYYMMDD` now matches exactly like its ISO twin; so does a Windows-1252, CRLF copy.
#[test]
fn yyyymmdd_client_dates_match_like_their_iso_twin() {
    let dir = tempfile::tempdir().unwrap();
    let syn = synth(dir.path());
    let iso = std::fs::read_to_string(syn.join("client.csv")).unwrap();
    // id,ssn,first,middle,last,dob: the last cell loses its dashes (1958-07 becomes 19580700).
    let compact: String = iso
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return format!("{l}\n");
            }
            let (rest, dob) = l.rsplit_once(',').unwrap();
            let mut d = dob.replace('-', "");
            if !d.is_empty() {
                d = format!("{d:0<8}");
            }
            format!("{rest},{d}\n")
        })
        .collect();
    let ymd = dir.path().join("ymd.csv");
    std::fs::write(&ymd, &compact).unwrap();
    let mut latin = compact.replace('\n', "\r\n").into_bytes();
    latin.extend_from_slice(b"Z1,,Jos\xE9,,Pe\xF1a,19580721\r\n");
    let cp1252 = dir.path().join("cp1252.csv");
    std::fs::write(&cp1252, latin).unwrap();

    let run = |client: &Path| {
        let out = dir.path().join(format!(
            "m-{}",
            client.file_name().unwrap().to_str().unwrap()
        ));
        let o = dmf(&[
            "-q",
            "match",
            "--client",
            s(client),
            "--master",
            s(&syn.join("dmf.txt")),
            "--out",
            s(&out),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (v, std::fs::read_to_string(&out).unwrap(), stderr(&o))
    };
    let (v_iso, m_iso, _) = run(&syn.join("client.csv"));
    let (v_ymd, m_ymd, err) = run(&ymd);
    assert!(err.contains("dob column read as YYYYMMDD"), "{err}");
    assert_eq!(v_ymd["bad_cells"], v_iso["bad_cells"], "{v_ymd}");
    assert!(v_iso["matches"].as_u64().unwrap() > 100, "{v_iso}");
    assert_eq!(v_ymd["matches"], v_iso["matches"]);
    assert_eq!(m_ymd, m_iso);
    let (v_cp, _, err) = run(&cp1252);
    assert!(err.contains("read as windows-1252"), "{err}");
    assert_eq!(
        v_cp["client_records"].as_u64(),
        v_iso["client_records"].as_u64().map(|n| n + 1)
    );
    assert_eq!(v_cp["bad_cells"], v_iso["bad_cells"], "{v_cp}");
}

#[test]
fn matches_against_a_registry_and_only_what_changed_since() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let master = dir.path().join("dmf.txt");
    let rec = |ssn: &str, last: &str, first: &str| {
        let line = format!(
            "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{:8}",
            "", "", "", "03152001", "07011958"
        );
        format!("{line:100}\n")
    };
    std::fs::write(&master, rec("123456789", "WALKER", "ALICE")).unwrap();
    assert!(
        dmf(&["import", "--data", d, s(&master), "--today", "2026-11-23"])
            .status
            .success()
    );
    let client = dir.path().join("c.csv");
    std::fs::write(
        &client,
        "id,ssn,first,last,dob\nA1,123456789,Alice,Walker,1958-07-01\nB1,234567890,Bob,Jones,1930-01-02\n",
    )
    .unwrap();
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&client),
        "--data",
        d,
        "--json",
        "--out",
        s(&dir.path().join("m.csv")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let cursor = v["cursor"].as_u64().unwrap();
    assert!(
        std::fs::read_to_string(dir.path().join("m.csv"))
            .unwrap()
            .contains("A1,123456789,")
    );

    // A new death after the cursor: only it is matched.
    std::fs::write(&master, rec("234567890", "JONES", "BOB")).unwrap();
    assert!(
        dmf(&["import", "--data", d, s(&master), "--today", "2026-11-23"])
            .status
            .success()
    );
    let since = cursor.to_string();
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&client),
        "--data",
        d,
        "--since",
        &since,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("B1,234567890,"), "{text}");
    assert!(!text.contains("A1,"), "{text}");
    assert!(text.lines().next().unwrap().contains(",change"), "{text}");
}

/// A master DMF line with one bad field (a blank surname, an impossible date of birth, an SSN
/// of group 00) used to be thrown away whole, so that person could never be matched, even by an
/// exact SSN. Now the bad field is missing and the rest is matched; the records are counted by
/// fault; `dmf format check` still reports the lines as wrong.
#[test]
fn master_line_with_one_bad_field_is_still_matched() {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("dmf.txt");
    let rec = |ssn: &str, last: &str, first: &str, dob: &str| {
        let line = format!(
            "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{dob:8}",
            "", "", "", "03152001"
        );
        format!("{line:100}\n")
    };
    let lines = [
        rec("123456780", "", "ALICE", "07011958"),
        rec("234567890", "JONES", "ROBERT", "02301930"),
        rec("345004567", "SMITH", "MARY", "05061940"),
        rec("456789012", "BROWN", "DAVID", "11121945"),
        rec("567890123", "MILLER", "SUSAN", "03041950"),
        // No DMF record at all: still skipped.
        rec("NOTANSSN!", "GREEN", "PAUL", "01011950"),
    ];
    std::fs::write(&master, lines.concat()).unwrap();
    let client = dir.path().join("c.csv");
    std::fs::write(
        &client,
        "id,ssn,first,last,dob\n\
         A1,123456780,Alice,Walker,1958-07-01\n\
         A2,234567890,Robert,Jones,1930-02-03\n\
         A3,345-00-4567,Mary,Smith,1940-05-06\n\
         A4,456789012,David,Brown,1945-11-12\n",
    )
    .unwrap();
    let out = dir.path().join("m.csv");
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&client),
        "--master",
        s(&master),
        "--out",
        s(&out),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "3 records kept with a bad field, treated as missing (date of birth: impossible 1, last name: blank 1, ssn: group 00 1;"
        ),
        "{err}"
    );
    assert!(err.contains("dmf.txt:6: skipped:"), "{err}");
    assert!(
        err.contains(
            "c.csv:4:2: ssn: \"345-00-4567\": group 00 is never issued (its digits still compared)"
        ),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["master_records"], 5);
    assert_eq!(v["master_records_with_faults"], 3);
    assert_eq!(
        v["master_faults"],
        serde_json::json!({"date of birth: impossible": 1, "last name: blank": 1, "ssn: group 00": 1})
    );
    let matches = std::fs::read_to_string(&out).unwrap();
    let row = |id: &str| {
        matches
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("no match for {id}: {matches}"))
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // id, ssn, weight, probability, class, ssn_level, first_level, last_level, dob_level
    let a1 = row("A1");
    assert_eq!(
        (&a1[1][..], &a1[5][..], &a1[7][..]),
        ("123456780", "exact", "missing"),
        "{a1:?}"
    );
    let a2 = row("A2");
    assert_eq!(
        (&a2[1][..], &a2[5][..], &a2[6][..], &a2[7][..]),
        ("234567890", "exact", "exact", "exact"),
        "{a2:?}"
    );
    assert_ne!(a2[8], "exact", "{a2:?}");
    let a3 = row("A3");
    assert_eq!(
        (&a3[1][..], &a3[5][..], &a3[8][..]),
        ("345004567", "exact", "exact"),
        "{a3:?}"
    );
    assert_eq!(row("A4")[5], "exact");

    // `dmf format check` stays strict: the same lines are wrong.
    let o = dmf(&["format", "check", s(&master)]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    let p = s(&master);
    for expect in [
        format!("{p}:1: columns 11-30 (last name): it is blank"),
        format!("{p}:2: columns 74-81 (date of birth): day 30 does not exist in 1930-02"),
        format!("{p}:3: columns 2-10 (ssn): group 00 is never issued"),
        format!("{p}:6: columns 2-10 (ssn)"),
    ] {
        assert!(text.contains(&expect), "{expect} in {text}");
    }
    assert!(
        text.contains("6 lines, 2 records (2 full), 4 wrong lines"),
        "{text}"
    );
}

#[test]
fn a_names_block_over_the_cap_is_reported_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("dmf.txt");
    // 2,001 JOHN SMITHs, one over the default cap of a block.
    let lines: String = (1..=2_001)
        .map(|i| {
            let line = format!(
                "{:1}{:9}{:20}{:4}{:15}{:15} {:8}{:8}",
                "",
                format!("12345{i:04}"),
                "SMITH",
                "",
                "JOHN",
                "",
                "03152001",
                "01011950"
            );
            format!("{line:100}\n")
        })
        .collect();
    std::fs::write(&master, lines).unwrap();
    let client = dir.path().join("c.csv");
    std::fs::write(
        &client,
        "id,ssn,first,last,dob\nA1,,John,Smith,\nA2,123450007,Jon,Smith,\n",
    )
    .unwrap();
    let out = dir.path().join("m.csv");
    let run = |rules: &[&str]| {
        let mut args = vec![
            "-q",
            "match",
            "--client",
            s(&client),
            "--master",
            s(&master),
            "--out",
            s(&out),
            "--json",
        ];
        args.extend_from_slice(rules);
        let o = dmf(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let v = run(&[]);
    let rule = |v: &Value, code: &str| {
        v["candidates_per_rule"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no rule {code}: {v}"))
    };
    assert_eq!(
        rule(&v, "phonetic_names_undated"),
        serde_json::json!({"rule": "phonetic_names_undated", "candidates": 0,
            "capped_blocks": 2, "capped_pairs": 4_002})
    );
    // A2's SSN is right: found by it alone.
    assert_eq!(v["candidates"], 1);
    let v = run(&["--rules", "ssn,phonetic_names"]);
    let rules: Vec<&str> = v["candidates_per_rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["ssn", "phonetic_names"]);
    assert_eq!(rule(&v, "phonetic_names")["capped_blocks"], 2);
    let o = dmf(&[
        "-q",
        "match",
        "--client",
        s(&client),
        "--master",
        s(&master),
        "--out",
        s(&out),
    ]);
    assert!(
        stdout(&o).contains(
            "\nblocks over the cap of 2000 master records, skipped: ssn_head_phonetic_names 1 (2001 pairs), phonetic_names_undated 2 (4002 pairs)\n"
        ),
        "{}",
        stdout(&o)
    );
    let o = dmf(&[
        "match",
        "--client",
        s(&client),
        "--master",
        s(&master),
        "--rules",
        "soundex",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown blocking rule \"soundex\""),
        "{}",
        stderr(&o)
    );
}
