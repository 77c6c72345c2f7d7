//! The registry's log witnessed: two `dmf witness` processes cosign each checkpoint, and a
//! checkpoint is published (served at `/log/checkpoint`, named by feeds and files) only once
//! both have; a witness down holds publication back, a witness restarted from its state takes
//! up again where it stopped and refuses a fork of the log.

use std::path::Path;

use dmf_log::Policy;
use serde_json::Value;

use super::log::copy_dir;
use super::serve::{eventually, serve};
use super::witness::witness;
use super::{dmf, registry_of, s, stderr, stdout};

const PEOPLE: &str = "ssn,first,last,dob\n\
    521234567,Carmen,Stanley,1971-04-30\n\
    521234568,Wendell,Okafor,1958-11-02\n\
    521234569,Ysabel,Marquez-Lund,1990-01-15\n";

/// A status notice of `ssn`, sent with `dmf submit`.
fn notice(data: &Path, ssn: &str, document: &str) {
    let file = data.with_file_name(format!("{document}.ndjson"));
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"status_notice","ssn":"{ssn}","kind":"benefits_suspended","authority":"SSA","legal_basis":"20 CFR 404.401","document":"{document}","effective":"2026-11-01"}}"#
        ),
    )
    .unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        s(data),
        s(&file),
        "--today",
        "2026-11-02",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn publish(data: &Path) -> (bool, Value) {
    let out = dmf(&["witness", "publish", "--data", s(data), "--json"]);
    assert!(out.status.code() != Some(2), "{}", stderr(&out));
    (
        out.status.success(),
        serde_json::from_str(&stdout(&out)).unwrap(),
    )
}

fn policy(data: &Path) -> Policy {
    let out = dmf(&["witness", "policy", "--data", s(data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    Policy::parse(&stdout(&out)).unwrap()
}

fn signed_size(data: &Path) -> u64 {
    let note = std::fs::read_to_string(data.join("log/checkpoint")).unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_checkpoint_is_published_only_once_both_witnesses_cosigned_it() {
    let (dir, data) = registry_of(PEOPLE);
    let log_key = std::fs::read_to_string(data.join("log/key.pub")).unwrap();
    let log_key = log_key.trim();
    let (w1_dir, w2_dir) = (dir.path().join("w1"), dir.path().join("w2"));
    let (w1, key1, url1) = witness(s(&w1_dir), log_key, "witness.example.org/one");
    let (w2, key2, url2) = witness(s(&w2_dir), log_key, "witness.example.net/two");
    for (url, key) in [(&url1, &key1), (&url2, &key2)] {
        let out = dmf(&[
            "witness",
            "add",
            "--data",
            s(&data),
            "--url",
            url,
            "--key",
            key,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A fork of the log, to be shown to the witnesses later: a copy taken now, before the
    // registry goes on, that will record something else.
    let fork = dir.path().join("fork");
    copy_dir(&data, &fork);

    // Both witnesses answer: the signed checkpoint is published with both cosignatures.
    let (ok, v) = publish(&data);
    assert!(ok, "{v}");
    let first = signed_size(&data);
    assert_eq!(v["published"], first, "{v}");
    let note = std::fs::read_to_string(data.join("log/published")).unwrap();
    let verified = policy(&data).verify(&note, None).unwrap();
    assert_eq!(verified.checkpoint.size, first);
    assert_eq!(verified.cosigned.len(), 2, "{note}");

    // One witness down: the next checkpoint is signed but not published.
    drop(w2);
    notice(&data, "521234567", "SSA-7001");
    let second = signed_size(&data);
    assert!(second > first);
    let (ok, v) = publish(&data);
    assert!(!ok, "{v}");
    assert_eq!(v["published"], first, "{v}");
    assert_eq!(
        v["witnesses"]["witness.example.org/one"]["size"], second,
        "{v}"
    );
    assert!(
        v["witnesses"]["witness.example.net/two"]["error"].is_string(),
        "{v}"
    );

    // Restarted from its folder, it proves from the size it kept and cosigns: published.
    let (w2, _, url2b) = witness(s(&w2_dir), log_key, "witness.example.net/two");
    let out = dmf(&["witness", "remove", "--data", s(&data), "--key", &key2]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dmf(&[
        "witness",
        "add",
        "--data",
        s(&data),
        "--url",
        &url2b,
        "--key",
        &key2,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (ok, v) = publish(&data);
    assert!(ok, "{v}");
    assert_eq!(v["published"], second, "{v}");

    // The fork signs another history under the same key: both witnesses refuse it, so it is
    // never published, and each says why.
    let out = dmf(&["witness", "remove", "--data", s(&fork), "--key", &key2]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dmf(&[
        "witness",
        "add",
        "--data",
        s(&fork),
        "--url",
        &url2b,
        "--key",
        &key2,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    notice(&fork, "521234568", "SSA-9999");
    notice(&fork, "521234569", "SSA-9998");
    assert!(signed_size(&fork) > second);
    let (ok, v) = publish(&fork);
    assert!(!ok, "{v}");
    for name in ["witness.example.org/one", "witness.example.net/two"] {
        let error = v["witnesses"][name]["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("422"), "{name}: {v}");
    }
    let evidence = std::fs::read_dir(w1_dir.join("evidence")).unwrap().count();
    assert!(evidence >= 1, "the witness keeps the fork's checkpoint");

    // Served: the published checkpoint with both cosignatures, the witnesses in /metrics, and
    // a new event published by the server itself once both cosigned.
    let (server, base) = serve(s(&data), &[]);
    let get = |path: &str| {
        ureq::get(format!("{base}{path}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    assert_eq!(
        get("/log/checkpoint"),
        std::fs::read_to_string(data.join("log/published")).unwrap()
    );
    assert_eq!(Policy::parse(&get("/log/policy")).unwrap(), policy(&data));
    let metrics = get("/metrics");
    assert!(
        metrics.contains("dmf_witness_up{witness=\"witness.example.org/one\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("dmf_log_published_size {second}")),
        "{metrics}"
    );
    drop(server);
    notice(&data, "521234568", "SSA-7002");
    let third = signed_size(&data);
    let (_server, base) = serve(s(&data), &[]);
    let policy = policy(&data);
    eventually("the server to publish the new checkpoint", || {
        let note = ureq::get(format!("{base}/log/checkpoint"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        policy
            .verify(&note, None)
            .is_ok_and(|v| v.checkpoint.size == third)
    });
    drop((w1, w2));
}

/// A port of 127.0.0.1 free a moment ago, for commands that take a fixed address.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// README's "Check the registry yourself" block, run line by line as `sh` runs it (a line
/// ending in `&` started in the background and waited for until its address answers), on a
/// registry of people this test writes and with the ports changed to free ones.
#[test]
fn the_readme_check_it_yourself_commands_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("### Check the registry yourself")
        .nth(1)
        .expect("the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its shell block");

    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let reg = cwd.join("reg");
    assert!(dmf(&["init", "--data", s(&reg)]).status.success());
    let people = cwd.join("people.csv");
    std::fs::write(&people, PEOPLE).unwrap();
    assert!(
        dmf(&["import", "--data", s(&reg), s(&people)])
            .status
            .success()
    );
    let bank = super::serve::key(s(&reg), "bank", "identity", &[]);
    let query = r#"{"ssn":"521234568","first":"Wendell","last":"Okafor","dob":"1958-11-02"}"#;
    let bin = Path::new(env!("CARGO_BIN_EXE_dmf")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (witness_at, server_at) = (free_address(), free_address());

    let mut background = Vec::new();
    let mut ran = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let code = line
            .replace("127.0.0.1:8090", &witness_at)
            .replace("127.0.0.1:8080", &server_at);
        let command = code.split("   #").next().unwrap().trim_end();
        let sh = |script: &str| {
            let mut c = std::process::Command::new("sh");
            c.arg("-c")
                .arg(script)
                .current_dir(cwd)
                .env("PATH", &path)
                .env("BANK_KEY", &bank)
                .env("QUERY", query);
            c
        };
        if let Some(command) = command.strip_suffix('&') {
            let child = sh(&format!("exec {command}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            background.push(super::serve::Running(child));
            let at = if command.contains(&witness_at) {
                &witness_at
            } else {
                &server_at
            };
            eventually(&format!("{command} to listen"), || {
                std::net::TcpStream::connect(at).is_ok()
            });
        } else {
            let out = sh(command).output().unwrap();
            assert!(
                out.status.success(),
                "README: {line}\n{}{}\nanswer.json: {:?}",
                stdout(&out),
                stderr(&out),
                std::fs::read_to_string(cwd.join("answer.json")).ok()
            );
        }
        ran += 1;
    }
    assert!(ran >= 8, "only {ran} commands in the section");
    let answer: Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("answer.json")).unwrap()).unwrap();
    assert_eq!(answer["code"], "V", "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
    assert!(cwd.join("monitor.json").is_file());
}
