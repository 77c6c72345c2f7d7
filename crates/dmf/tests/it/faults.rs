//! Faults: a full disk during an import and during submissions, a truncated or damaged store
//! file, and SIGTERM in the middle of a bulk import. Nothing acknowledged is lost, nothing is
//! half-written, and a re-run completes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

const TODAY: &str = "2026-11-23";

/// `dmf` with the store capped at `pages` pages of 4 KiB: a disk that fills up.
fn dmf_capped(pages: u64, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args(args)
        .env(dmf_registry::dmf_store::MAX_PAGES_VAR, pages.to_string())
        .output()
        .expect("runs dmf")
}

fn synth(dir: &Path, people: u64) -> std::path::PathBuf {
    let out = dir.join("synth");
    let o = dmf(&[
        "synth",
        "--people",
        &people.to_string(),
        "--seed",
        "5",
        "--out",
        s(&out),
        "--as-of",
        TODAY,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn events(data: &str) -> u64 {
    let out = dmf(&["log", "checkpoint", "--data", data, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["size"].as_u64().unwrap()
}

fn audit_clean(data: &str) {
    let out = dmf(&["audit", "verify", "--data", data]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

fn import(data: &str, file: &Path) -> Value {
    let out = dmf(&[
        "import",
        "--data",
        data,
        s(file),
        "--today",
        TODAY,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn a_full_disk_during_an_import_loses_nothing_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth(dir.path(), 60_000);
    let people = synth.join("people.csv");
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    // Room for the first batch of 20,000 people, not for the second.
    let out = dmf_capped(
        1_600,
        &["import", "--data", d, s(&people), "--today", TODAY],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the disk is full") && err.contains("nothing of this write was stored"),
        "{err}"
    );
    // Whole batches only, signed, and the audit is clean.
    let kept = events(d);
    assert!(kept > 0 && kept.is_multiple_of(20_000), "{kept}");
    audit_clean(d);
    let v = import(d, &people);
    assert_eq!(v["files"][0]["already_imported"], kept, "{v}");
    assert_eq!(v["files"][0]["events_added"], 60_000 - kept, "{v}");
    assert_eq!(events(d), 60_000);
    audit_clean(d);
}

#[test]
fn a_full_disk_during_submissions_keeps_every_acknowledged_result() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth(dir.path(), 20_000);
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    import(d, &synth.join("people.csv"));
    let before = events(d);
    // 3,000 state death reports of numberholders, each with its idempotency key.
    let lines: Vec<String> = csv::Reader::from_path(synth.join("people.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        // Born before the death reported (a death before the birth on file is refused).
        .filter(|p| &p[6] < "2026-11-01")
        .take(3_000)
        .map(|p| {
            format!(
                r#"{{"type":"death_report","ssn":"{}","first":"{}","last":"{}","dod":"2026-11-01","source":"state","evidence":"EDRS-{}","idempotency_key":"edrs-{}"}}"#,
                &p[0], &p[1], &p[3], &p[0], &p[0]
            )
        })
        .collect();
    let file = dir.path().join("reports.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let pages = std::fs::metadata(data.join("registry.sqlite"))
        .unwrap()
        .len()
        / 4096;
    let out = dmf_capped(
        pages + 60,
        &[
            "submit",
            "--data",
            d,
            s(&file),
            "--batch-size",
            "250",
            "--json",
            "--today",
            TODAY,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the disk is full"),
        "{}",
        stderr(&out)
    );
    // Every result printed was durable: each acknowledged event is in the store.
    let acknowledged: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < 3_000,
        "{}",
        acknowledged.len()
    );
    assert!(acknowledged.iter().all(|r| r["status"] == "accepted"));
    assert_eq!(events(d), before + acknowledged.len() as u64);
    audit_clean(d);
    // The same file again: the stored ones are duplicates, the rest go in.
    let out = dmf(&["submit", "--data", d, s(&file), "--json", "--today", TODAY]);
    assert!(out.status.success(), "{}", stderr(&out));
    let duplicates = stdout(&out)
        .lines()
        .filter(|l| l.contains(r#""duplicate""#))
        .count();
    assert_eq!(duplicates, acknowledged.len());
    assert_eq!(events(d), before + 3_000);
    audit_clean(d);
}

#[test]
fn a_truncated_or_damaged_store_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth(dir.path(), 20_000);
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    import(d, &synth.join("people.csv"));
    let store = data.join("registry.sqlite");
    let good = std::fs::read(&store).unwrap();
    let ssn = "123456789";
    let refused = |what: &str, args: &[&str]| {
        let out = dmf(args);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("registry.sqlite") && err.contains("damaged"),
            "{what}: {err}"
        );
    };
    // Cut short: refused at open by every command.
    std::fs::write(&store, &good[..good.len() / 2]).unwrap();
    refused("show", &["show", "--data", d, "--ssn", ssn]);
    refused("audit", &["audit", "verify", "--data", d]);
    refused("serve", &["serve", "--data", d, "--listen", "127.0.0.1:0"]);
    // Garbage over the middle: the audit reads every event and says so; so does a server that
    // rebuilds its index from every event at start, with the snapshot set aside here.
    std::fs::rename(
        data.join("index.snapshot"),
        dir.path().join("index.snapshot"),
    )
    .unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid..mid + 8192].fill(0x5a);
    std::fs::write(&store, &bad).unwrap();
    let out = dmf(&["audit", "verify", "--data", d]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    let out = dmf(&["serve", "--data", d, "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    // With its snapshot a server starts in seconds, reads the events under it once serving,
    // and then fails its health check, naming the damage.
    std::fs::rename(
        dir.path().join("index.snapshot"),
        data.join("index.snapshot"),
    )
    .unwrap();
    let (server, base) = super::serve::serve(d, &[]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let health = |base: &str| {
        let resp = agent.get(format!("{base}/healthz")).call().unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value =
            serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
        (status, body)
    };
    super::serve::eventually("the health check to find the damage", || {
        health(&base).0 == 503
    });
    let (_, body) = health(&base);
    assert_eq!(body["status"], "damaged", "{body}");
    assert!(
        body["store"].as_str().unwrap().starts_with("damaged: "),
        "{body}"
    );
    drop(server);
    // Put back, all is well, and a server says so once it has read everything.
    std::fs::write(&store, &good).unwrap();
    audit_clean(d);
    let (_server, base) = super::serve::serve(d, &[]);
    super::serve::eventually("the health check to read every event", || {
        let (_, body) = health(&base);
        let store = body["store"].as_str().unwrap();
        assert_eq!(body["status"], "ok", "{body}");
        store.starts_with("the ") && store.ends_with("under the index snapshot read and checked")
    });
}

#[test]
fn sigterm_during_a_bulk_import_leaves_a_store_that_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let synth = synth(dir.path(), 100_000);
    let people = synth.join("people.csv");
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args([
            "import",
            "--data",
            d,
            s(&people),
            "--today",
            TODAY,
            "--quiet",
        ])
        .spawn()
        .unwrap();
    // Wait for the first batches to be signed, then stop it in the middle.
    let signed = |n: u64| {
        let out = dmf(&["log", "checkpoint", "--data", d, "--json"]);
        out.status.success()
            && serde_json::from_str::<Value>(&stdout(&out)).unwrap()["size"].as_u64() >= Some(n)
    };
    while !signed(20_000) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was stopped"
        );
    }
    super::serve::sigterm(&child);
    let status = child.wait().unwrap();
    let kept = events(d);
    assert!(kept < 100_000, "stopped after {kept} events ({status:?})");
    audit_clean(d);
    let v = import(d, &people);
    assert_eq!(
        v["files"][0]["already_imported"].as_u64().unwrap()
            + v["files"][0]["events_added"].as_u64().unwrap(),
        100_000,
        "{v}"
    );
    assert_eq!(events(d), 100_000);
    audit_clean(d);
}

/// Regression (disclosures lost in a crash): answers went out before their disclosures were
/// written, and a kill -9 during a large batch verification lost tens of thousands of them.
/// Now each streamed chunk leaves only once its disclosures are durable: every answer the
/// client received before the kill is in the accounting after it.
#[test]
fn every_answer_received_before_a_kill_is_accounted() {
    use std::io::{BufRead, BufReader, Read, Write};

    let dir = tempfile::tempdir().unwrap();
    let synth = synth(dir.path(), 20_000);
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    import(d, &synth.join("people.csv"));
    let key = super::serve::key(d, "bank", "identity", &[]);
    let mut body = Vec::new();
    let people: Vec<csv::StringRecord> = csv::Reader::from_path(synth.join("people.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .filter(|p| p[6].len() == 10)
        .collect();
    for i in 0..200_000 {
        let p = &people[i % people.len()];
        writeln!(
            body,
            r#"{{"ssn":"{}","first":"{}","last":"{}","dob":"{}"}}"#,
            &p[0], &p[1], &p[3], &p[6]
        )
        .unwrap();
    }
    let (mut server, base) = super::serve::serve(d, &["--today", TODAY]);
    let addr = base.trim_start_matches("http://").to_owned();
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST /v1/verify/batch HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let sending = std::thread::spawn(move || {
        // The server may be killed before it has read everything.
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        line.clear();
    }
    // Count whole answers as they arrive (chunk sizes and error lines have no "purpose").
    let mut received = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = Vec::new();
    while received < 60_000 {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "the answer ended after {received} answers");
        carry.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&carry).into_owned();
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        received += text[..whole].matches(r#""purpose":"identity""#).count() as u64;
        carry.drain(..whole);
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let _ = sending.join();
    // Read as the next start reads it: what the journal holds beyond the table is filed first.
    let accounting =
        dmf_service::accounting::Accounting::open(&data.join("accounting.sqlite")).unwrap();
    let mut accounted = 0u64;
    accounting
        .for_each(|d| {
            accounted += u64::from(d.key_name == "bank");
            Ok(())
        })
        .unwrap();
    assert!(
        accounted >= received,
        "{received} answers received, {accounted} accounted"
    );
    eprintln!("kill -9 during a batch: {received} answers received, {accounted} accounted");
}
