//! What a newcomer hits on the command line (issue 21): each test is named after what went
//! wrong, and keeps it fixed.

use crate::{dmf, s, sample, stderr};

/// A numberholder CSV, a client CSV and NDJSON events, written by hand (not by `dmf synth`).
fn wrong_files(dir: &std::path::Path) -> [std::path::PathBuf; 3] {
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         078051120,Hilda,,Whitcher,,F,1912-06-14,NY\n",
    )
    .unwrap();
    let clients = dir.join("clients.csv");
    std::fs::write(
        &clients,
        "id,ssn,first,last,dob\nC1,078051120,Hilda,Whitcher,1912-06-14\n",
    )
    .unwrap();
    let events = dir.join("reports.ndjson");
    std::fs::write(
        &events,
        "{\"kind\":\"death_report\",\"ssn\":\"078051120\",\"date_of_death\":\"2001-02-03\"}\n",
    )
    .unwrap();
    [people, clients, events]
}

#[test]
fn a_file_of_the_wrong_kind_is_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let [people, clients, events] = wrong_files(dir.path());
    let data = dir.path().join("reg");
    assert!(dmf(&["init", "--data", s(&data)]).status.success());
    let dmf_file = sample("ssdm1.txt");
    // (arguments, what the error must say)
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["format", "check", s(&dmf_file), s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf format check` reads DMF files",
        ),
        (
            vec!["format", "convert", s(&events), "--to", "csv"],
            "reports.ndjson is NDJSON (a JSON object a line): `dmf format convert` reads DMF files",
        ),
        (
            vec!["submit", "--data", s(&data), s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf submit` reads NDJSON events",
        ),
        (
            vec!["import", "--data", s(&data), s(&events)],
            "it is NDJSON (a JSON object a line), not a numberholder CSV or a DMF file; NDJSON events are sent with `dmf submit`",
        ),
        (
            vec!["match", "--client", s(&clients), "--master", s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf match --master` reads a DMF file",
        ),
        (
            vec!["match", "--client", s(&dmf_file), "--master", s(&dmf_file)],
            "ssdm1.txt is a DMF file (100-character records): `dmf match --client` reads a CSV",
        ),
    ];
    for (args, expect) in cases {
        let out = dmf(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        // Before any work: nothing was checked, converted, stored or matched.
        assert!(out.stdout.is_empty(), "{args:?}: {}", crate::stdout(&out));
    }
    let show = dmf(&["show", "--data", s(&data), "--ssn", "078051120", "--json"]);
    assert!(
        !crate::stdout(&show).contains("death"),
        "{}",
        crate::stdout(&show)
    );
}

/// "Rust 1.88 or later" was false: locked crates needed 1.95. The workspace's `rust-version`
/// is the highest any locked crate declares, and README states it.
#[test]
fn the_stated_rust_version_was_lower_than_the_locked_crates_need() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(&root)
        .output()
        .expect("runs cargo metadata");
    assert!(out.status.success(), "{}", stderr(&out));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = |v: &str| -> (u32, u32) {
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap_or(0))
    };
    let packages = meta["packages"].as_array().unwrap();
    let (needed, by) = packages
        .iter()
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .unwrap();
    let stated: Vec<(u32, u32)> = packages
        .iter()
        .filter(|p| p["source"].is_null())
        .map(|p| {
            version(
                p["rust_version"]
                    .as_str()
                    .expect("every crate of ours states it"),
            )
        })
        .collect();
    assert!(
        stated.iter().all(|&v| v == needed),
        "{stated:?} vs {needed:?} ({by})"
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let said = format!("Rust toolchain ({}.{} or later", needed.0, needed.1);
    assert!(readme.contains(&said), "README does not say {said:?}");
}
