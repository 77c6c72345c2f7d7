//! `dmf match` from the command line: accuracy on synthetic data with its truth file, dirty
//! client files, the saved model, the report, and matching against a registry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::browser::Browser;
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
    assert!(html.contains("<svg") && html.contains("clerical review"));
    // Self-contained: its script inline, no outside asset.
    assert!(!html.contains("<script src") && !html.contains("<link") && !html.contains("<img"));
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

// --- clerical review ------------------------------------------------------------------------

/// The SSN of master person `n` in [`review_files`].
fn review_ssn(n: u32) -> String {
    format!("21234{n:04}")
}

/// A hand-made master of 40 people and a client file with the usual errors, so that many
/// pairs are uncertain: SSN one digit off or wrong, no SSN with a nickname, a typo, day and
/// month swapped, a year off, a partial date, names swapped; a namesake born the same day; and
/// every master person again without SSN (ids `P1`..`P40`), for a review list of more than one
/// page. Returns the client and master files.
fn review_files(dir: &Path) -> (PathBuf, PathBuf) {
    // ssn number, last, suffix, first, middle, date of birth (MMDDYYYY).
    let people: [(u32, &str, &str, &str, &str, &str); 40] = [
        (1, "WALKER", "", "ALICE", "MAY", "07011958"),
        (2, "JONES", "", "ROBERT", "LEE", "01021930"),
        (3, "SMITH", "", "MARY", "ANN", "05061940"),
        (4, "BROWN", "", "DAVID", "", "11121945"),
        (5, "MILLER", "", "SUSAN", "", "03041950"),
        (6, "JOHNSON", "JR", "WILLIAM", "HENRY", "02141938"),
        (7, "GARCIA", "", "MARIA", "", "09091952"),
        (8, "MARTINEZ", "", "JOSE", "", "12251947"),
        (9, "ANDERSON", "", "PATRICIA", "", "04181943"),
        (10, "TAYLOR", "", "JAMES", "EARL", "06301936"),
        (11, "THOMAS", "", "LINDA", "", "08081949"),
        (12, "MOORE", "", "RICHARD", "", "10101941"),
        (13, "JACKSON", "", "BARBARA", "", "03151944"),
        (14, "WHITE", "", "CHARLES", "", "05201939"),
        (15, "HARRIS", "", "ELIZABETH", "", "07041955"),
        (16, "CLARK", "", "JOSEPH", "", "01311933"),
        (17, "LEWIS", "", "DOROTHY", "", "11111931"),
        (18, "ROBINSON", "", "THOMAS", "", "02021946"),
        (19, "WALKER", "", "ALLEN", "", "07011958"),
        (20, "YOUNG", "", "MARGARET", "", "09301937"),
        (21, "KING", "", "EDWARD", "", "12121942"),
        (22, "WRIGHT", "", "HELEN", "", "06061948"),
        (23, "LOPEZ", "", "CARMEN", "", "04041951"),
        (24, "HILL", "", "GEORGE", "", "08181934"),
        (25, "SCOTT", "", "NANCY", "", "10201953"),
        (26, "GREEN", "", "KENNETH", "", "03031947"),
        (27, "ADAMS", "", "BETTY", "", "05051935"),
        (28, "BAKER", "", "STEVEN", "", "07071956"),
        (29, "NELSON", "", "SANDRA", "", "09191944"),
        (30, "CARTER", "", "RONALD", "", "11231940"),
        (31, "MITCHELL", "", "DONNA", "", "01171950"),
        (32, "PEREZ", "", "ANTHONY", "", "02271949"),
        (33, "ROBERTS", "", "CAROL", "", "04281938"),
        (34, "TURNER", "", "PAUL", "", "06161945"),
        (35, "PHILLIPS", "", "SHARON", "", "08261952"),
        (36, "CAMPBELL", "", "FRANK", "", "10131937"),
        (37, "PARKER", "", "RUTH", "", "12031943"),
        (38, "EVANS", "", "GARY", "", "03221954"),
        (39, "EDWARDS", "", "JOYCE", "", "05291941"),
        (40, "COLLINS", "", "LARRY", "", "07141936"),
    ];
    let master = dir.join("dmf.txt");
    let lines: String = people
        .iter()
        .map(|(n, last, suffix, first, middle, dob)| {
            let line = format!(
                "{:1}{:9}{last:20}{suffix:4}{first:15}{middle:15} {:8}{dob:8}",
                "",
                review_ssn(*n),
                "03152001"
            );
            format!("{line:100}\n")
        })
        .collect();
    std::fs::write(&master, lines).unwrap();
    let s = review_ssn;
    let mut client = format!(
        "id,ssn,first,middle,last,suffix,dob\n\
         C01,{},Alice,May,Walker,,1958-07-01\n\
         C02,{},Bob,,Jones,,1930-01-02\n\
         C03,{},Mary,Ann,Smith,,1940-05-06\n\
         C04,212340094,David,,Brown,,\n\
         C05,,Susan,,Miller,,1950-04-03\n\
         C06,,William,H,Jonson,Jr,1938-02-14\n\
         C07,,Maria,,Garcia,,1952-09-09\n\
         C08,{},Jose,,Martinez,,1947-25-12\n\
         C10,,Jim,,Taylor,,1936-06-30\n\
         C12,,Richard,,Moore,,1942-10-10\n\
         C13,212430013,Barbara,,Jackson,,1944-03-15\n\
         C15,321456987,Elizabeth,,Harris,,1955-07-04\n\
         C16,,Joe,,Clark,,1933-01-31\n\
         C19,,Alice,,Walker,,1958-07-01\n\
         C20,,Margaret,,Young,,1937-09-03\n\
         C22,,Helen,,Wright,,1948\n\
         C23,,Lopez,,Carmen,,1951-04-04\n\
         C25,,Nancy,,Scot,,1953-10-20\n\
         C28,,Steve,,Baker,,1956-07-07\n\
         C31,,Donald,,Mitchell,,1950-01-17\n\
         C35,,Sharon,,Phillip,,1952-08-26\n",
        s(1),
        s(2),
        s(3),
        s(8)
    );
    for (n, last, suffix, first, middle, dob) in &people {
        let iso = format!("{}-{}-{}", &dob[4..], &dob[..2], &dob[2..4]);
        client += &format!("P{n},,{first},{middle},{last},{suffix},{iso}\n");
        // The same person by name and year of birth only: more pairs for review.
        client += &format!("Q{n},,{first},,{last},,{}\n", &dob[4..]);
    }
    let path = dir.join("client.csv");
    std::fs::write(&path, client).unwrap();
    (path, master)
}

/// A model for [`review_files`] that does not hang on EM over a few dozen people: trained once
/// for the model file's fields and levels, then set by rule. In every field `m` is 0.9 for
/// `exact` and the rest shared; `u` is 1e-6 (SSN), 1e-3 (date) or 0.01 (names and others) for
/// `exact`, 0.001 for each level between, and the rest for `different`; the prior 1e-6. So a
/// pair without SSN whose names and date agree comes out near 0.9, one with a nickname near
/// 0.5.
fn review_model(dir: &Path, client: &Path, master: &Path) -> PathBuf {
    let path = dir.join("model.txt");
    let o = review_run(client, master, &path, &dir.join("trained.csv"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let trained = std::fs::read_to_string(&path).unwrap();
    let mut levels: Vec<(String, Vec<String>)> = Vec::new();
    for line in trained.lines() {
        if let ["m", field, level, _] = line.split_whitespace().collect::<Vec<_>>()[..] {
            match levels.iter_mut().find(|(f, _)| f == field) {
                Some((_, l)) => l.push(level.to_owned()),
                None => levels.push((field.to_owned(), vec![level.to_owned()])),
            }
        }
    }
    let mut text = format!(
        "{}\nlambda 0.000001\ntf_floor 0.001\n",
        trained.lines().next().unwrap()
    );
    for (field, codes) in &levels {
        let n = codes.len() as f64;
        let exact = match field.as_str() {
            "ssn" => 1e-6,
            "dob" => 1e-3,
            _ => 0.01,
        };
        for code in codes {
            let m = if code == "exact" {
                0.9
            } else {
                0.1 / (n - 1.0)
            };
            let u = match code.as_str() {
                "exact" => exact,
                "different" => 1.0 - exact - 0.001 * (n - 2.0),
                _ => 0.001,
            };
            text += &format!("m {field} {code} {m}\nu {field} {code} {u}\n");
        }
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// `dmf match` of the review files with their model, every pair kept, `extra` arguments after.
fn review_run(
    client: &Path,
    master: &Path,
    model: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "-q",
        "match",
        "--client",
        s(client),
        "--master",
        s(master),
        "--many",
        "--model",
        s(model),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    dmf(&args)
}

/// The pairs of a matches file: `client_id,ssn` to probability.
fn probabilities(path: &Path) -> HashMap<String, f64> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (format!("{},{}", &rec[0], &rec[1]), rec[3].parse().unwrap())
        })
        .collect()
}

/// The report lists every pair from 0.05 to 0.95 for review, counted band by band as the
/// matches file scores them, the nearest 0.5 first; each with its levels named by field, the
/// differing digits and letters marked, and its waterfall's values; paged, with the total.
#[test]
fn the_report_reviews_every_uncertain_pair_paged_with_counts_per_band() {
    let dir = tempfile::tempdir().unwrap();
    let (client, master) = review_files(dir.path());
    let model = review_model(dir.path(), &client, &master);
    let run = |out: &Path, extra: &[&str]| {
        let o = review_run(
            &client,
            &master,
            &model,
            out,
            &[&["--json"], extra].concat(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    // Every pair from 0.05 up, in the matches file.
    let all = dir.path().join("all.csv");
    run(&all, &["--threshold", "0.05"]);
    let p = probabilities(&all);
    let report = dir.path().join("report.html");
    let out = dir.path().join("m.csv");
    let v = run(&out, &["--report", s(&report)]);
    // The matches file keeps its threshold.
    let kept = probabilities(&out);
    assert!(kept.values().all(|&q| q >= 0.5), "{kept:?}");
    assert_eq!(v["matches"], kept.len());
    assert_eq!(kept.len(), p.values().filter(|&&q| q >= 0.5).count());

    let html = std::fs::read_to_string(&report).unwrap();
    let in_band = |lo: f64, hi: f64| p.values().filter(|&&q| q >= lo && q < hi).count();
    let total = in_band(0.05, 0.95);
    assert!(total > 50, "{total} pairs for review: {p:?}");
    for (name, lo, hi) in [
        ("0.05–0.2", 0.05, 0.2),
        ("0.2–0.5", 0.2, 0.5),
        ("0.5–0.8", 0.5, 0.8),
        ("0.8–0.95", 0.8, 0.95),
    ] {
        let row = format!(
            "<tr class=\"rv\"><td>{name}<td>{}<td>for review",
            in_band(lo, hi)
        );
        assert!(html.contains(&row), "{row} in the report");
    }
    assert!(html.contains(&format!("<td>0.95 and above<td>{}<td>", in_band(0.95, 1.1))));
    assert!(html.contains(&format!("<tr><th>for review<th>{total}<th>")));
    // Paged, with the total; nothing left out.
    assert!(
        html.contains(&format!("pairs 1–50 of {total}</span>")),
        "{html}"
    );
    assert_eq!(html.matches("<div class=\"pair\"").count(), total);
    assert_eq!(html.matches("<div class=\"pair\" data-i=").count(), total);
    assert_eq!(html.matches(" hidden><h3>").count(), total - 50);
    assert!(!html.contains("This page carries the first"));
    // The nearest 0.5 first: C10's nickname pair (about 0.5) before P20's sure-enough one.
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} in the report"))
    };
    assert!(at(r#"data-c="C10""#) < at(r#"data-c="P20""#));
    // Levels named by field, with their values on the bars.
    assert!(html.contains(">first name: nickname</text>"), "{html}");
    assert!(html.contains(">last name: Jaro-Winkler ≥ 0.92</text>"));
    assert!(html.contains(">date of birth: day and month swapped</text>"));
    assert!(html.contains(">SSN: one digit</text>"));
    assert!(html.contains(r#"class="v">+"#) && html.contains(r#"class="v">-"#));
    // Differences marked: C04's SSN digit, C25's surname letter.
    assert!(
        html.contains("<td>2123400<mark>9</mark>4<td>2123400<mark>0</mark>4"),
        "{html}"
    );
    let c25 = &html[html.find(r#"data-c="C25""#).expect("C25 for review")..];
    let c25 = &c25[..c25.find("</table>").expect("its table")];
    assert!(
        c25.contains("<td>SCOT<td>SCOT<mark>T</mark>")
            || c25.contains("<td>SCOT<td>SCO<mark>T</mark>T"),
        "{c25}"
    );
    // Self-contained, with its script and the export.
    assert!(html.contains("<script>") && html.contains("Export labels"));
    assert!(!html.contains("<script src") && !html.contains("<link"));
}

/// `--labels` reads decisions as the report exports them, refits m from them and checks
/// calibration band by band, before and after; a label of a pair not in the files or not a
/// candidate is counted, a bad label stops the run naming file, line and column.
#[test]
fn labels_refit_m_and_check_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let (client, master) = review_files(dir.path());
    let model = review_model(dir.path(), &client, &master);
    let labels = dir.path().join("labels.csv");
    let s_ = review_ssn;
    std::fs::write(
        &labels,
        format!(
            "client_id,ssn,label\r\n\
             C10,{},match\r\n\
             C16,{},match\r\n\
             C28,{},match\r\n\
             C06,{},match\r\n\
             C19,{},non-match\r\n\
             C15,{},match\r\n\
             C05,{},unsure\r\n\
             C99,{},match\r\n\
             C01,{},non-match\r\n",
            s_(10),
            s_(16),
            s_(28),
            s_(6),
            s_(19),
            s_(15),
            s_(5),
            s_(1),
            s_(40)
        ),
    )
    .unwrap();
    let run = |out: &Path, extra: &[&str]| {
        review_run(
            &client,
            &master,
            &model,
            out,
            &[&["--threshold", "0.05"], extra].concat(),
        )
    };
    let before = dir.path().join("before.csv");
    assert!(run(&before, &[]).status.success());
    let after = dir.path().join("after.csv");
    let report = dir.path().join("report.html");
    let o = run(
        &after,
        &["--labels", s(&labels), "--json", "--report", s(&report)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["calibration"];
    for (key, n) in [
        ("label_rows", 9),
        ("match", 6),
        ("non_match", 2),
        ("unsure", 1),
        ("not_found", 1),
        ("not_candidates", 1),
        ("labelled_pairs", 6),
        ("true_matches", 5),
    ] {
        assert_eq!(c[key], n, "{key}: {c}");
    }
    let bands = c["bands"].as_array().unwrap();
    let edges: Vec<(f64, f64)> = bands
        .iter()
        .map(|b| (b["lo"].as_f64().unwrap(), b["hi"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        edges,
        [
            (0.0, 0.05),
            (0.05, 0.2),
            (0.2, 0.5),
            (0.5, 0.8),
            (0.8, 0.95),
            (0.95, 1.0)
        ]
    );
    for column in ["before", "after", "held_out"] {
        let sum = |key: &str| {
            bands
                .iter()
                .map(|b| b[column][key].as_u64().unwrap())
                .sum::<u64>()
        };
        assert_eq!((sum("pairs"), sum("true_matches")), (6, 5), "{column}: {c}");
    }
    // Three nicknames labelled true: a nickname weighs more than before.
    let (p0, p1) = (probabilities(&before), probabilities(&after));
    let key = format!("C10,{}", s_(10));
    assert!(p1[&key] > p0[&key], "{} then {}", p0[&key], p1[&key]);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("Calibration against the labels"));
    assert!(html.contains("<th>before refit<th>after refit<th>after refit, each pair held out"));

    // The text summary says the same.
    let o = run(&after, &["--labels", s(&labels)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("labels: 9 label rows: 6 match, 2 non-match, 1 unsure; 1 not in the files, 1 not among the candidate pairs; 6 labelled pairs found, m re-estimated from their 5 true matches"),
        "{text}"
    );
    assert!(
        text.contains("calibration, true matches of the labelled pairs per band of probability"),
        "{text}"
    );
    assert!(
        text.contains("\n  probability           before           after        held out\n"),
        "{text}"
    );

    // A bad label stops the run before any matching.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "client_id,ssn,label\nC10,212340010,match\nC16,212340016,maybe\n",
    )
    .unwrap();
    let o = run(&after, &["--labels", s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv:3:3: label: \"maybe\" is not match, non-match or unsure"),
        "{}",
        stderr(&o)
    );
}

/// In a browser, from the file alone: a decision survives paging, a second click on it takes
/// it back, and "Export labels" gives the labels CSV that `--labels` reads.
#[test]
fn review_decisions_survive_paging_and_export_as_a_labels_file() {
    let dir = tempfile::tempdir().unwrap();
    let (client, master) = review_files(dir.path());
    let model = review_model(dir.path(), &client, &master);
    let report = dir.path().join("report.html");
    let out = dir.path().join("m.csv");
    let run = |extra: &[&str]| {
        let o = review_run(&client, &master, &model, &out, extra);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    run(&["--report", s(&report)]);

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    let b = Browser::start(&shots);
    b.goto(&format!("file://{}", s(&report)));
    let range = b.text("#range");
    assert!(range.starts_with("pairs 1–50 of "), "{range}");
    let pair = |i: usize| format!(".pair[data-i='{i}']");
    let decide = |i: usize, label: &str| b.click(&format!("{} button[data-l='{label}']", pair(i)));
    let pressed = |i: usize, label: &str| {
        b.execute(&format!(
            "return document.querySelector(\"{} button[data-l='{label}']\").getAttribute('aria-pressed')",
            pair(i)
        ))
    };
    let data = |i: usize| {
        let v = b.execute(&format!(
            "var d = document.querySelector(\"{}\").dataset; return [d.c, d.s];",
            pair(i)
        ));
        (
            v[0].as_str().unwrap().to_owned(),
            v[1].as_str().unwrap().to_owned(),
        )
    };
    decide(0, "match");
    decide(1, "match");
    decide(1, "match");
    b.click("#next");
    assert!(
        b.text("#range").starts_with("pairs 51–"),
        "{}",
        b.text("#range")
    );
    assert_eq!(
        b.execute(&format!(
            "return document.querySelector(\"{}\").hidden",
            pair(0)
        )),
        true
    );
    decide(50, "non-match");
    decide(51, "unsure");
    b.click("#prev");
    assert!(b.text("#range").starts_with("pairs 1–50 of "));
    assert_eq!(pressed(0, "match"), "true");
    assert_eq!(pressed(0, "non-match"), "false");
    assert_eq!(pressed(1, "match"), "false");
    assert_eq!(b.text("#decided"), "3 decided");
    b.screenshot("review-decided");

    let csv = b.execute_async(
        "var done = arguments[0]; \
         fetch(window.dmfLabelsUrl()).then(function (r) { return r.text(); }).then(done);",
    );
    let csv = csv.as_str().unwrap().to_owned();
    let ((c0, s0), (c50, s50), (c51, s51)) = (data(0), data(50), data(51));
    assert_eq!(
        csv,
        format!(
            "client_id,ssn,label\r\n{c0},{s0},match\r\n{c50},{s50},non-match\r\n{c51},{s51},unsure\r\n"
        )
    );
    let href = b.execute("return document.getElementById('download').href");
    assert!(href.as_str().unwrap().starts_with("blob:"), "{href}");
    drop(b);

    // What the page exports, `--labels` reads.
    let labels = dir.path().join("labels.csv");
    std::fs::write(&labels, &csv).unwrap();
    let o = run(&["--labels", s(&labels), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["calibration"];
    assert_eq!(
        (
            &c["label_rows"],
            &c["unsure"],
            &c["labelled_pairs"],
            &c["true_matches"]
        ),
        (
            &Value::from(3),
            &Value::from(1),
            &Value::from(2),
            &Value::from(1)
        ),
        "{c}"
    );
}
