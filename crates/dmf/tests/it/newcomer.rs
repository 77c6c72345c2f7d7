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

/// Runs `dmf` and gives its exit code and what it printed on both streams.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = dmf(args);
    let text = format!("{}{}", crate::stdout(&out), stderr(&out));
    (out.status.code(), text)
}

/// The usual slips with the log's files get a hint, each error is said once, and a recount
/// checked with the export's own key says that it trusted that key.
#[test]
fn log_slips_get_hints_and_errors_are_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (data, other) = (p("reg"), p("other"));
    for d in [&data, &other] {
        assert!(dmf(&["init", "--data", s(d)]).status.success());
    }
    let save = |name: &str, args: &[&str]| {
        let out = dmf(args);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::write(p(name), &out.stdout).unwrap();
        p(name)
    };
    let note = save("cp.note", &["log", "checkpoint", "--data", s(&data)]);
    let json = save(
        "cp.json",
        &["log", "checkpoint", "--data", s(&data), "--json"],
    );
    let others = save("other.note", &["log", "checkpoint", "--data", s(&other)]);
    let proof = save(
        "proof.txt",
        &[
            "log",
            "consistency",
            "--data",
            s(&data),
            "--from",
            "0",
            "--to",
            "0",
        ],
    );
    let public = data.join("log/key.pub");
    let secret = data.join("log/signing.key");
    let export = p("export");
    assert!(
        dmf(&["log", "export", "--data", s(&data), "--out", s(&export)])
            .status
            .success()
    );
    // (arguments, exit code, what the output must say)
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&json),
                "--key",
                s(&public),
            ],
            1,
            "cp.json is JSON, not a signed checkpoint note: save the note with `dmf log checkpoint` (without --json)",
        ),
        (
            vec![
                "audit",
                "verify",
                "--data",
                s(&data),
                "--checkpoint",
                s(&json),
            ],
            2,
            "cp.json is JSON, not a signed checkpoint note",
        ),
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&note),
                "--key",
                s(&secret),
            ],
            2,
            "is the log's secret signing key, not its verifier key: give the verifier key (log/key.pub",
        ),
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&note),
                "--key",
                s(&public),
                "--proof",
                s(&proof),
            ],
            1,
            "proof.txt is not JSON: save the proof with `dmf log prove --json` or `dmf log consistency --json`",
        ),
        (
            vec![
                "audit",
                "verify",
                "--data",
                s(&data),
                "--checkpoint",
                s(&others),
            ],
            2,
            "dmf: error: the checkpoint given: note has no signature by key",
        ),
        (
            vec!["stats", "--verify", s(&export)],
            0,
            "NOTE the checkpoint was checked with the key in the export itself",
        ),
    ];
    for (args, code, expect) in cases {
        let (got, text) = run(&args);
        assert_eq!(got, Some(code), "{args:?}: {text}");
        assert!(text.contains(expect), "{args:?}: {text}");
        // No sentence twice (the error printed with its own cause said everything twice).
        for line in text.lines() {
            let parts: Vec<&str> = line.split(": ").collect();
            for (i, part) in parts.iter().enumerate() {
                assert!(
                    part.len() < 12 || !parts[i + 1..].contains(part),
                    "{args:?}: said twice: {line}"
                );
            }
        }
    }
    // With the key from elsewhere, nothing was trusted, and nothing is said about it.
    let (code, text) = run(&["stats", "--verify", s(&export), "--key", s(&public)]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("NOTE"), "{text}");
}
