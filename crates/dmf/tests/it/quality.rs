//! `dmf presume` (presumption by age, in bulk) and `dmf quality --published` (a published file
//! held against what the registry publishes), from the command line.

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

const TODAY: &str = "2026-11-23";

/// One DMF line: change code, SSN, names, verification, dates of death and birth (MMDDCCYY).
fn dmf_line(ssn: &str, last: &str, first: &str, dod: &str, dob: &str) -> String {
    let line = format!(" {ssn}{last:<20}{:<4}{first:<15}{:<15}V{dod}{dob}", "", "");
    format!("{line:<100}")
}

fn json(args: &[&str]) -> Value {
    let out = dmf(args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

#[test]
fn presumption_by_age_in_bulk_covers_only_the_living_past_the_age() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         123456789,Old,,Timer,,F,1890-01-01,OH\n\
         234567890,Year,,Only,,M,1905,OH\n\
         345678901,Just,,Under,,F,1911-01-01,OH\n\
         456789012,Dead,,Already,,M,1900-03-03,OH\n\
         567890123,Young,,Person,,F,1960-02-02,OH\n",
    )
    .unwrap();
    let dmf_file = dir.path().join("dmf.txt");
    std::fs::write(
        &dmf_file,
        dmf_line("456789012", "ALREADY", "DEAD", "01151990", "03031900") + "\n",
    )
    .unwrap();
    for f in [&people, &dmf_file] {
        let out = dmf(&["import", "--data", d, s(f), "--today", TODAY]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let presume = |extra: &[&str]| {
        let mut args = vec![
            "presume",
            "--data",
            d,
            "--older-than",
            "115",
            "--legal-basis",
            "20 CFR 404.721",
            "--recorded-by",
            "op-7",
            "--today",
            TODAY,
            "--json",
        ];
        args.extend(extra);
        json(&args)
    };
    // 1890 and "1905" (at most 120 on the latest day it allows) are past 115; 1911-01-01 is
    // exactly 115; the 1900 person is already recorded dead.
    let v = presume(&["--dry-run"]);
    assert_eq!(
        (&v["candidates"], &v["recorded"], &v["samples"]),
        (
            &2.into(),
            &0.into(),
            &serde_json::json!(["123456789", "234567890"])
        ),
        "{v}"
    );
    let quality = || json(&["quality", "--data", d, "--today", TODAY, "--json"]);
    assert_eq!(quality()["findings"][0]["count"], 2);
    let v = presume(&[]);
    assert_eq!(
        (&v["candidates"], &v["recorded"]),
        (&2.into(), &2.into()),
        "{v}"
    );
    assert_eq!(v["criterion"], "age over 115 with no death recorded");
    // Nobody is presumed twice, and the quality finding is answered.
    assert_eq!(presume(&[])["candidates"], 0);
    assert_eq!(quality()["findings"][0]["count"], 0);
    let shown = json(&[
        "show",
        "--data",
        d,
        "--ssn",
        "234567890",
        "--today",
        TODAY,
        "--json",
    ]);
    assert_eq!(shown["current"]["death"], Value::Null, "{shown}");
    assert_eq!(
        shown["current"]["answers"]["identity"]["presumed_deceased"], true,
        "{shown}"
    );
    let stats = stdout(&dmf(&["stats", "--data", d, "--json"]));
    assert!(stats.contains("20 CFR 404.721"), "{stats}");
    // Bad flags are refused before anything is read.
    let out = dmf(&[
        "presume",
        "--data",
        d,
        "--older-than",
        "30",
        "--legal-basis",
        "x",
        "--recorded-by",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("older-than"), "{}", stderr(&out));
}

#[test]
fn a_published_file_is_held_against_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         567890123,Young,,Person,,F,1960-02-02,OH\n",
    )
    .unwrap();
    let ann = dmf_line("456789012", "LEE", "ANN", "01151990", "03031920");
    let file = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    let published = file("published.txt", &[&ann]);
    for f in [&people, &published] {
        let out = dmf(&["import", "--data", d, s(f), "--today", TODAY]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let counts = |path: &std::path::Path| -> Vec<(String, u64)> {
        let v = json(&[
            "quality",
            "--data",
            d,
            "--today",
            TODAY,
            "--json",
            "--published",
            s(path),
        ]);
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"].as_str().unwrap().starts_with("published_"))
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let expect = |missing: u64, extra: u64, differs: u64| {
        vec![
            ("published_missing".to_owned(), missing),
            ("published_not_in_registry".to_owned(), extra),
            ("published_differs".to_owned(), differs),
        ]
    };
    assert_eq!(counts(&published), expect(0, 0, 0));
    assert_eq!(counts(&file("empty.txt", &[])), expect(1, 0, 0));
    let renamed = dmf_line("456789012", "LEA", "ANN", "01151990", "03031920");
    let living = dmf_line("567890123", "PERSON", "YOUNG", "05052020", "02021960");
    let wrong = file("wrong.txt", &[&renamed, &living]);
    assert_eq!(counts(&wrong), expect(0, 1, 1));
    let text = stdout(&dmf(&[
        "quality",
        "--data",
        d,
        "--today",
        TODAY,
        "--published",
        s(&wrong),
    ]));
    assert!(
        text.contains(r#"456789012  last name: registry "LEE", published "LEA""#),
        "{text}"
    );
    assert!(
        text.contains("567890123  published as died 2020-05-05"),
        "{text}"
    );
    // A bad line is refused with the file and line.
    let bad = file("bad.txt", &[&ann, "too short"]);
    let out = dmf(&["quality", "--data", d, "--published", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.txt") && err.contains("line 2"), "{err}");
}
