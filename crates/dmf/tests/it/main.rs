//! End-to-end tests of the `dmf` binary, run as a user would in a temporary folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod agreements;
mod alerts;
mod browser;
mod console;
mod console_axe;
mod console_cases;
mod console_letters;
mod console_person;
mod console_search;
mod csv_cells;
mod faults;
mod hardening;
mod identity;
mod keys;
mod layout;
mod leftovers;
mod log;
mod matching;
mod mirror;
mod monitor;
mod newcomer;
mod postgres;
mod quality;
mod receipts;
mod serve;
mod snapshot;
mod tamper;
mod transparency;
mod vrdr;
mod witness;

fn dmf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args(args)
        .output()
        .expect("runs dmf")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dmf-format/testdata")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A new registry in a temporary folder with the numberholders of `people_csv` imported: the
/// folder and the registry's data folder in it.
fn registry_of(people_csv: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(&people, people_csv).unwrap();
    assert!(dmf(&["import", "--data", d, s(&people)]).status.success());
    (dir, data)
}

#[test]
fn check_accepts_the_real_samples() {
    let files = [
        sample("ssdm1.txt"),
        sample("ssdm2.txt"),
        sample("ssdm3.txt"),
    ];
    let mut args = vec!["format", "check"];
    args.extend(files.iter().map(|p| s(p)));
    let out = dmf(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.matches("10 lines, 10 records (10 full), 0 wrong lines")
            .count(),
        3,
        "{text}"
    );
}

#[test]
fn check_names_file_line_columns_field_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.txt");
    let good = std::fs::read_to_string(sample("ssdm2.txt")).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[2].replace_range(1..4, "666");
    lines[6].replace_range(65..67, "13");
    std::fs::write(&path, lines.join("\r\n")).unwrap();

    let out = dmf(&["format", "check", s(&path)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let p = s(&path);
    assert!(
        text.contains(&format!(
            "{p}:3: columns 2-10 (ssn): area 666 is never issued"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{p}:7: columns 66-73 (date of death): month 13 does not exist"
        )),
        "{text}"
    );
    assert!(
        text.contains("10 lines, 8 records (8 full), 2 wrong lines"),
        "{text}"
    );

    let out = dmf(&["format", "check", "--first-error", "--json", p]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"], 3);
    assert_eq!(v["errors"][0]["line"], 3);
    assert_eq!(v["errors"][0]["columns"], serde_json::json!([2, 10]));
    assert_eq!(v["errors"][0]["field"], "ssn");
    assert_eq!(v["line_ends"]["crlf"], 3);
}

#[test]
fn check_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args(["format", "check", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(sample("ssdm3.txt")).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["records"].as_u64(), v["by_change"]["full"].as_u64()),
        (Some(10), Some(10))
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = dmf(&["format", "check", "no-such-file.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("dmf: error: cannot open no-such-file.txt: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn convert_writes_iso_dates_and_bare_ssns() {
    let out = dmf(&["format", "convert", s(&sample("ssdm1.txt")), "--to", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "change,ssn,last,suffix,first,middle,verification,dod,dob,state_code,residence_zip,payment_zip"
        )
    );
    assert_eq!(
        lines.next(),
        Some("full,001010001,MUZZEY,,GRACE,,,1975-12,1902-04-16,,,")
    );
    assert_eq!(text.lines().count(), 11);

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.ndjson");
    let out = dmf(&[
        "format",
        "convert",
        s(&sample("ssdm2.txt")),
        "--to",
        "ndjson",
        "--out",
        s(&target),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&target).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["ssn"], "242250440");
    assert_eq!(first["dod"], "2011-02-13");
    assert_eq!(first["verification"], "P");
}

#[test]
fn synth_is_deterministic_and_its_dmf_file_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out_dir in [&a, &b] {
        let out = dmf(&[
            "synth",
            "--people",
            "20000",
            "--seed",
            "7",
            "--as-of",
            "2026-11-23",
            "--out",
            s(out_dir),
            "--json",
            "--quiet",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["people"], 20000);
        assert!(v["deaths"].as_u64().unwrap() > 2000, "{v}");
    }
    for file in [
        "people.csv",
        "dmf.txt",
        "truth_deaths.csv",
        "reports.ndjson",
        "client.csv",
        "client_truth.csv",
    ] {
        let x = std::fs::read(a.join(file)).unwrap();
        assert!(!x.is_empty(), "{file} is empty");
        assert!(
            x == std::fs::read(b.join(file)).unwrap(),
            "{file} differs between runs"
        );
    }
    let out = dmf(&["format", "check", "--json", s(&a.join("dmf.txt"))]);
    assert!(out.status.success(), "{}", stdout(&out));
    let people = std::fs::read_to_string(a.join("people.csv")).unwrap();
    assert!(people.starts_with("ssn,first,middle,last,suffix,sex,dob,birth_state\n"));
    assert_eq!(people.lines().count(), 20001);
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dmf(&[
        "synth",
        "--people",
        "10",
        "--as-of",
        "2026-02-30",
        "--out",
        s(dir.path()),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "invalid value '2026-02-30' for '--as-of <YYYY-MM-DD>': day 30 does not exist in 2026-02"
        ),
        "{}",
        stderr(&out)
    );
}

/// A small deterministic generator, so that a failing cycle can be rerun.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Starts a writer, kills it with SIGKILL at a random point, and checks that every event it
/// acknowledged is in the store and the store is intact. `DMF_KILL_CYCLES` sets the cycles
/// (bench/kill.sh runs more).
#[test]
fn acknowledged_events_survive_sigkill() {
    use std::io::{BufRead, BufReader, Write};
    let cycles: u64 = std::env::var("DMF_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(dmf(&["init", "--data", s(&data)]).status.success());
    let mut rng = Lcg(42);
    let mut acknowledged: Vec<(String, u64)> = Vec::new();
    const LINES: u64 = 3000;
    for cycle in 0..cycles {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
            .args([
                "submit",
                "--data",
                s(&data),
                "--json",
                "--batch-size",
                "40",
                "--today",
                "2026-11-23",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            for i in 0..LINES {
                let ssn = format!("{:03}{:02}{:04}", 200 + cycle / 90, 1 + cycle % 90, i + 1);
                let line = format!(
                    r#"{{"type":"death_report","ssn":"{ssn}","first":"Ann","last":"Lee","dod":"2026-11-01","source":"family","evidence":"e","idempotency_key":"c{cycle}-{i}"}}"#
                );
                if writeln!(stdin, "{line}").is_err() {
                    return;
                }
            }
        });
        let kill_after = rng.below(LINES / 2);
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        let mut text = String::new();
        while seen < kill_after {
            text.clear();
            if reader.read_line(&mut text).unwrap() == 0 {
                break;
            }
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["status"], "accepted", "{v}");
            let line = v["line"].as_u64().unwrap();
            // Stored under the caller's scope: the family's.
            let key = dmf_registry::submission::scoped_key(
                "source family",
                &format!("c{cycle}-{}", line - 1),
            );
            acknowledged.push((key, v["seq"].as_u64().unwrap()));
            seen += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        feeder.join().unwrap();

        let registry = dmf_registry::Registry::open(&data).unwrap();
        let index = registry
            .check()
            .unwrap_or_else(|e| panic!("cycle {cycle}: store damaged: {e:#}"));
        assert_eq!(index.head, registry.store().head().unwrap());
        for (key, seq) in &acknowledged {
            assert_eq!(
                registry.store().seq_of_key(key).unwrap(),
                Some(*seq),
                "cycle {cycle}: acknowledged {key} lost"
            );
        }
        // The log is behind by at most the batch the kill cut off, and caught up at the next
        // write; whatever it signed still matches the events.
        let registry = dmf_registry::Registry::open(&data).unwrap();
        let audit = dmf_ledger::audit::audit(registry.ledger(), None, None).unwrap();
        assert!(audit.ok(), "cycle {cycle}: {:?}", audit.problems);
    }
    assert!(!acknowledged.is_empty());
}

/// The registry scenario, end to end through the command line.
#[test]
fn registry_scenario_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    let out = dmf(&["init", "--data", d, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         123456789,Alice,Mae,Walker,,F,1980-05-17,OH\n\
         234567890,Bob,,Jones,Jr,M,1975-01-02,TX\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", d, s(&people), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["events_added"], 2, "{v}");
    let again = dmf(&["import", "--data", d, s(&people), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["events_added"], 0, "re-import adds nothing: {v}");

    let submit = |lines: &[&str]| -> Vec<serde_json::Value> {
        let file = dir.path().join("events.ndjson");
        std::fs::write(&file, lines.join("\n")).unwrap();
        let out = dmf(&[
            "submit",
            "--data",
            d,
            s(&file),
            "--json",
            "--today",
            "2026-11-23",
        ]);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let verify =
        |ssn: &str, first: &str, last: &str, dob: &str, purpose: &str| -> serde_json::Value {
            let out = dmf(&[
                "verify",
                "--data",
                d,
                "--ssn",
                ssn,
                "--first",
                first,
                "--last",
                last,
                "--dob",
                dob,
                "--purpose",
                purpose,
                "--json",
                "--today",
                "2026-11-23",
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            serde_json::from_slice(&out.stdout).unwrap()
        };
    let alice = |purpose| verify("123456789", "Alice", "Walker", "1980-05-17", purpose);
    let bob = |purpose| verify("234567890", "Bob", "Jones", "1975-01-02", purpose);

    let family = r#"{"type":"death_report","ssn":"123456789","first":"Alice","last":"Walker","dob":"1980-05-17","dod":"2026-11-01","source":"family","evidence":"call 17"}"#;
    assert_eq!(submit(&[family])[0]["outcome"], "pending");
    assert_eq!(
        alice("identity"),
        serde_json::json!({"purpose": "identity", "code": "V", "deceased": false})
    );

    let state = r#"{"type":"death_report","ssn":"123456789","first":"Alice","last":"Walker","dob":"1980-05-17","dod":"2026-11-01","source":"state","evidence":"EDRS OH 2026-123"}"#;
    assert_eq!(submit(&[state])[0]["outcome"], "deceased");
    // `dmf verify --purpose P` answers what a key of purpose P gets: a death whose sole source
    // is a state goes to benefit programs only, and this one the family reported too.
    assert_eq!(
        alice("identity"),
        serde_json::json!({"purpose": "identity", "code": "X", "deceased": true})
    );
    assert_eq!(
        alice("benefits"),
        serde_json::json!({"purpose": "benefits", "code": "X", "deceased": true, "suspended": false})
    );

    let notice = r#"{"type":"status_notice","ssn":"234567890","first":"Bob","last":"Jones","suffix":"Jr","dob":"1975-01-02","kind":"employment_authorization_ended","authority":"DHS USCIS","legal_basis":"8 CFR 274a.14","document":"N-2026-77","effective":"2026-11-20"}"#;
    let r = submit(&[notice]);
    assert_eq!(
        (r[0]["outcome"].as_str(), r[0]["contest_deadline"].as_str()),
        (Some("notice_recorded"), Some("2026-12-08"))
    );
    let notice_seq = r[0]["seq"].as_u64().unwrap();
    assert_eq!(bob("employment")["result"], "mismatch");
    assert_eq!(bob("employment")["contest_deadline"], "2026-12-08");
    assert_eq!(
        bob("identity"),
        serde_json::json!({"purpose": "identity", "code": "V", "deceased": false})
    );

    let r = submit(&[
        r#"{"type":"death_report","ssn":"234567890","first":"Bob","last":"Jones","source":"state","evidence":"x"}"#,
        r#"{"type":"death_report","ssn":"234567890","first":"Bob","last":"Jones","dod":"2026-11-01","source":"employer","evidence":"x"}"#,
    ]);
    assert_eq!(
        (
            r[0]["status"].as_str(),
            r[0]["path"].as_str(),
            r[0]["reason"].as_str()
        ),
        (Some("rejected"), Some("$.dod"), Some("is required"))
    );
    assert_eq!(
        (r[1]["status"].as_str(), r[1]["path"].as_str()),
        (Some("rejected"), Some("$.source"))
    );

    let one = r#"{"type":"correction","ssn":"123456789","reason":"seen in person","evidence":"passport","requested_by":"cw-1","approved_by":"cw-1"}"#;
    let two = r#"{"type":"correction","ssn":"123456789","reason":"seen in person","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}"#;
    assert_eq!(submit(&[one])[0]["status"], "rejected");
    assert_eq!(submit(&[two])[0]["outcome"], "reinstated");
    assert_eq!(
        alice("identity"),
        serde_json::json!({"purpose": "identity", "code": "V", "deceased": false})
    );

    let out = dmf(&[
        "show",
        "--data",
        d,
        "--ssn",
        "123456789",
        "--json",
        "--today",
        "2026-11-23",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcomes: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["recorded", "pending", "deceased", "reinstated"]);
    let history = v["history"].as_array().unwrap();
    assert_eq!(
        history[2]["corrected_by"], history[3]["seq"],
        "the wrong record is marked corrected"
    );
    assert_eq!(history[1]["corrected_by"], history[3]["seq"]);
    assert_eq!(v["current"]["answers"]["identity"]["deceased"], false);
    let text = stdout(&dmf(&[
        "show",
        "--data",
        d,
        "--ssn",
        "123456789",
        "--today",
        "2026-11-23",
    ]));
    assert!(text.contains("source=state"), "{text}");
    assert!(text.contains("[corrected by #"), "{text}");

    // Bob contests the notice and the contest is upheld: the notice no longer counts.
    let contest = r#"{"type":"contest","ssn":"234567890","reason":"authorization renewed"}"#;
    let decision = format!(
        r#"{{"type":"contest_decision","ssn":"234567890","notice":{notice_seq},"decision":"upheld","decided_by":"adj-4","reason":"hearing H-1"}}"#
    );
    let r = submit(&[contest, &decision]);
    assert_eq!(r[0]["outcome"], "suspended");
    assert_eq!(
        (&r[1]["outcome"], &r[1]["notice"], &r[1]["decision"]),
        (&"decided".into(), &notice_seq.into(), &"upheld".into())
    );
    assert_eq!(bob("employment")["result"], "authorized");
    let out = dmf(&[
        "show",
        "--data",
        d,
        "--ssn",
        "234567890",
        "--json",
        "--today",
        "2026-11-23",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let current = &v["current"];
    assert_eq!(current["answers"]["employment"], "authorized", "{v}");
    assert_eq!(current["notices"][0]["status"], "withdrawn", "{v}");
    assert_eq!(
        current["notices"][0]["decision"],
        serde_json::json!({"seq": r[1]["seq"], "decision": "upheld"})
    );
}

#[test]
fn quality_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         123456789,Old,,Timer,,F,1890-01-01,OH\n\
         234567890,Fine,,Person,,F,1960-02-02,OH\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", d, s(&people), "--today", "2026-11-23"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dmf(&["quality", "--data", d, "--today", "2026-11-23", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let old = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "alive_past_max_age")
        .unwrap();
    assert_eq!(old["count"], 1);
    assert_eq!(old["samples"][0]["ssn"], "123456789");
    let text = stdout(&dmf(&["quality", "--data", d, "--today", "2026-11-23"]));
    assert!(
        text.contains("123456789  born 1890-01-01, 136 years old"),
        "{text}"
    );
}

#[test]
fn a_presumption_of_death_is_shown_and_answered_but_never_as_a_death() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         123456789,Old,,Timer,,F,1890-01-01,OH\n",
    )
    .unwrap();
    let out = dmf(&["import", "--data", d, s(&people), "--today", "2026-11-23"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("presume.ndjson");
    std::fs::write(
        &file,
        r#"{"type":"presumed_deceased","ssn":"123456789","criterion":"age over 115","legal_basis":"20 CFR 404.721","recorded_by":"op-7"}"#,
    )
    .unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        d,
        s(&file),
        "--json",
        "--today",
        "2026-11-23",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!((&r["outcome"], &r["seq"]), (&"presumed".into(), &2.into()));
    let show = |json: bool| {
        let mut args = vec!["show", "--data", d, "--ssn", "123456789"];
        args.extend(["--today", "2026-11-23"]);
        if json {
            args.push("--json");
        }
        stdout(&dmf(&args))
    };
    let v: serde_json::Value = serde_json::from_str(&show(true)).unwrap();
    let current = &v["current"];
    assert_eq!(current["presumed_deceased"], serde_json::json!({"seq": 2}));
    assert_eq!(current["death"], serde_json::Value::Null, "{v}");
    assert_eq!(
        current["answers"]["identity"],
        serde_json::json!({"deceased": false, "presumed_deceased": true})
    );
    assert_eq!(v["history"][1]["type"], "presumed_deceased");
    assert_eq!(v["history"][1]["event"]["legal_basis"], "20 CFR 404.721");
    let text = show(false);
    assert!(text.contains("presumed deceased (event 2)"), "{text}");
    assert!(text.contains("presumed_deceased -> presumed"), "{text}");
    let out = dmf(&[
        "verify",
        "--data",
        d,
        "--ssn",
        "123456789",
        "--first",
        "Old",
        "--last",
        "Timer",
        "--dob",
        "1890-01-01",
        "--purpose",
        "identity",
        "--json",
        "--today",
        "2026-11-23",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#""deceased":false"#) && text.contains(r#""presumed_deceased":true"#),
        "{text}"
    );
}

/// Issue: `dmf format convert | head` and the like panicked on the closed pipe ("failed
/// printing to stdout"). Now the command ends as `cat` would, by the pipe's signal, with
/// nothing on standard error; a reader that closes before or after the first bytes alike.
#[test]
fn writing_to_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let lines = std::fs::read_to_string(sample("ssdm1.txt")).unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, lines.repeat(3_000)).unwrap();
    let runs: [&[&str]; 3] = [
        &["format", "convert", s(&big), "--to", "csv"],
        &["format", "convert", s(&big), "--to", "ndjson"],
        &["format", "check", s(&big), "--json"],
    ];
    for args in runs {
        for read_first in [0usize, 10] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut out = child.stdout.take().unwrap();
            let mut first = vec![0u8; read_first];
            out.read_exact(&mut first).unwrap();
            drop(out);
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            let status = child.wait().unwrap();
            assert!(
                status.success() || status.signal() == Some(libc::SIGPIPE),
                "{args:?}: {status:?} {err}"
            );
            assert!(err.is_empty(), "{args:?}: {err}");
        }
    }
}

/// Issue: an empty `DMF_DATABASE_URL` was taken for a URL ("cannot connect to PostgreSQL at
/// (default user)@localhost"). Empty, or blank, it means not set: the data folder's own store.
#[test]
fn an_empty_database_url_means_not_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reg");
    assert!(
        dmf(&["init", "--data", s(&data), "--origin", "t.example/r"])
            .status
            .success()
    );
    for empty in ["", "  "] {
        let out = Command::new(env!("CARGO_BIN_EXE_dmf"))
            .args(["stats", "--data", s(&data)])
            .env("DMF_DATABASE_URL", empty)
            .output()
            .unwrap();
        assert!(out.status.success(), "{empty:?}: {}", stderr(&out));
    }
}
