//! `dmf witness`: a witness run as a process cosigning a registry's checkpoint, kept across a
//! restart and stopped by SIGTERM; the registry's witness list changed and printed.

use std::io::{BufRead, BufReader};
use std::process::ExitStatus;

use dmf_log::{AddCheckpoint, CosignerKey, CosignerVerifier, Policy, add_signatures};
use dmf_witness::client::{self, WitnessAnswer};
use serde_json::Value;

use super::serve::{Running, eventually, spawn};
use super::{dmf, registry_of, s, stderr, stdout};

/// `dmf witness serve` on a free port: the process, its printed key and its base URL.
pub fn witness(dir: &str, log: &str, name: &str) -> (Running, String, String) {
    let mut running = spawn(&[
        "witness",
        "serve",
        "--data",
        dir,
        "--listen",
        "127.0.0.1:0",
        "--log",
        log,
        "--name",
        name,
    ]);
    let mut lines = BufReader::new(running.0.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let key = next()
        .strip_prefix("witness key: ")
        .expect("the key first")
        .to_owned();
    let base = next()
        .strip_prefix("listening on ")
        .expect("then the address")
        .to_owned();
    (running, key, base)
}

/// How the process ended, once it has.
fn ended(running: &mut Running) -> ExitStatus {
    let mut status = None;
    eventually("the witness to stop", || {
        status = running.0.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

#[test]
fn a_witness_process_cosigns_the_registrys_checkpoint_and_keeps_its_state() {
    let (dir, data) = registry_of("ssn,first,last,dob\n521234567,Carmen,Stanley,1971-04-30\n");
    let log_key = std::fs::read_to_string(data.join("log/key.pub")).unwrap();
    let log_key = log_key.trim();
    let note = std::fs::read_to_string(data.join("log/checkpoint")).unwrap();
    let folder = dir.path().join("witness");
    let w = s(&folder);
    let (mut running, key, base) = witness(w, log_key, "witness.example.org/w1");
    let published = std::fs::read_to_string(folder.join("key.pub")).unwrap();
    assert_eq!(published.trim(), key);
    let key = CosignerVerifier::parse(&key).unwrap();

    let agent = client::agent();
    let first = AddCheckpoint {
        old: 0,
        proof: vec![],
        note: note.clone(),
    };
    let WitnessAnswer::Cosigned(lines) = client::add_checkpoint(&agent, &base, &first).unwrap()
    else {
        panic!("not cosigned");
    };
    let cosigned = add_signatures(&note, &lines).unwrap();
    let (_, checkpoint) = dmf_log::open_cosignature(&cosigned, &key).unwrap();
    assert!(checkpoint.size >= 1);
    let page = agent
        .get(format!("{base}/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains(&format!("{} size {}", checkpoint.origin, checkpoint.size)),
        "{page}"
    );

    // SIGTERM stops it cleanly.
    // SAFETY: kill sends a signal to a child this test started; no memory is involved.
    assert_eq!(
        unsafe { libc::kill(running.0.id() as i32, libc::SIGTERM) },
        0
    );
    assert!(ended(&mut running).success());

    // Another name for the same folder is refused, naming both.
    let out = dmf(&[
        "witness",
        "serve",
        "--data",
        w,
        "--listen",
        "127.0.0.1:0",
        "--log",
        log_key,
        "--name",
        "other.example/w",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("witness.example.org/w1") && err.contains("other.example/w"),
        "{err}"
    );

    // Started again, it holds to the size it cosigned.
    let (_running, again, base) = witness(w, log_key, "witness.example.org/w1");
    assert_eq!(again, key.to_text());
    assert_eq!(
        client::add_checkpoint(&agent, &base, &first).unwrap(),
        WitnessAnswer::Conflict(checkpoint.size)
    );
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn the_registrys_witness_list_add_list_remove_policy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let log_key = std::fs::read_to_string(data.join("log/key.pub")).unwrap();
    let log_key = log_key.trim();
    let run = |args: &[&str]| {
        let mut all = vec!["witness"];
        all.extend(args);
        dmf(&all)
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let refused = |args: &[&str], words: &str| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(words), "{args:?}: {err}");
    };
    assert_eq!(
        ok(&["policy", "--data", d]),
        format!("log {log_key}\nquorum none\n")
    );
    assert!(ok(&["list", "--data", d]).contains("quorum: none"));

    let k1 = CosignerKey::from_seed("w1.example/witness", [1; 32])
        .unwrap()
        .verifier()
        .to_text();
    let k2 = CosignerKey::from_seed("w2.example/witness", [2; 32])
        .unwrap()
        .verifier()
        .to_text();
    let k3 = CosignerKey::from_seed("w3.example/witness", [3; 32])
        .unwrap()
        .verifier()
        .to_text();
    let add = |url: &str, key: &str, more: &[&str]| {
        let mut args = vec!["add", "--data", d, "--url", url, "--key", key];
        args.extend(more);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let text = ok(&strs(&add("https://w1.example/", &k1, &[])));
    assert!(text.contains("added witness w1.example/witness"), "{text}");
    assert!(text.contains("quorum: 1 of 1 witnesses"), "{text}");
    let text = ok(&strs(&add("http://127.0.0.1:8090", &k2, &[])));
    assert!(text.contains("quorum: 2 of 2 witnesses"), "{text}");

    refused(
        &strs(&add("https://x.example/", &k2, &[])),
        "listed already",
    );
    refused(&strs(&add("https://x.example/", log_key, &[])), "0x01");
    refused(
        &strs(&add("ftp://x.example/", &k3, &[])),
        "http:// or https://",
    );
    refused(
        &strs(&add("https://x.example/", &k3, &["--quorum", "4"])),
        "1 to 3",
    );
    refused(
        &strs(&add("https://x.example/", &k3, &["--quorum", "0"])),
        "1 to 3",
    );

    let v: Value = serde_json::from_str(&ok(&["list", "--data", d, "--json"])).unwrap();
    assert_eq!(v["log"], log_key);
    assert_eq!(v["quorum"], serde_json::json!({"k": 2, "n": 2}));
    assert_eq!(v["witnesses"][1]["name"], "w2.example/witness");
    assert_eq!(v["witnesses"][1]["url"], "http://127.0.0.1:8090");
    assert_eq!(v["witnesses"][1]["key"], k2.as_str());

    // The policy printed is one a verifier reads.
    let policy = Policy::parse(&ok(&["policy", "--data", d])).unwrap();
    assert_eq!(policy.witnesses.len(), 2);
    assert_eq!(policy.quorum.as_deref(), Some("witnesses"));
    assert_eq!(policy.logs[0].key.to_text(), log_key);

    let text = ok(&["remove", "--data", d, "--name", "w2.example/witness"]);
    assert!(text.contains("the quorum was 2"), "{text}");
    assert!(text.contains("quorum: 1 of 1 witnesses"), "{text}");
    refused(
        &["remove", "--data", d, "--name", "w2.example/witness"],
        "no witness w2.example/witness",
    );
    refused(
        &["remove", "--data", d, "--name", "x", "--key", &k1],
        "cannot be used with",
    );
    let text = ok(&["remove", "--data", d, "--key", &k1]);
    assert!(text.contains("quorum: none"), "{text}");
    assert_eq!(
        ok(&["policy", "--data", d]),
        format!("log {log_key}\nquorum none\n")
    );
    refused(
        &["list", "--data", s(&dir.path().join("nothing"))],
        "dmf init",
    );
}
