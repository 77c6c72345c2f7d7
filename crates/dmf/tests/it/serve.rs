//! `dmf serve` and `dmf mirror` together, as processes: a correction approved while a mirror
//! follows the feed is applied there and shows as acknowledged.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{dmf, s, stderr};

/// Kills a child process when dropped, so a failing test leaves nothing running.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(args: &[&str]) -> Running {
    Running(
        Command::new(env!("CARGO_BIN_EXE_dmf"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// `dmf serve` on a free port of 127.0.0.1 with `args` added: the process and its base URL.
pub fn serve(data: &str, args: &[&str]) -> (Running, String) {
    let mut all = vec!["serve", "--data", data, "--listen", "127.0.0.1:0"];
    all.extend(args);
    listening(spawn(&all))
}

/// [`serve`] with at most `files` open files.
pub fn serve_with_files(data: &str, files: u32, args: &[&str]) -> (Running, String) {
    let limit = format!("ulimit -n {files} && exec \"$0\" \"$@\"");
    let mut all = vec![
        "-c",
        &limit,
        env!("CARGO_BIN_EXE_dmf"),
        "serve",
        "--data",
        data,
        "--listen",
        "127.0.0.1:0",
    ];
    all.extend(args);
    let child = Command::new("sh")
        .args(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    listening(Running(child))
}

/// Sends SIGTERM to `child`, as an operator stops a service.
pub fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// The base URL a starting server prints.
pub fn listening(mut server: Running) -> (Running, String) {
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not serving: {line:?}"))
        .to_owned();
    (server, base)
}

/// `dmf mirror` following the feed of `base` with a subscriber's key into `dir`.
pub fn mirror(base: &str, key: &str, dir: &std::path::Path, today: &str) -> Running {
    spawn(&[
        "mirror",
        "--from",
        base,
        "--key",
        key,
        "--data",
        s(dir),
        "--wait",
        "5",
        "--today",
        today,
    ])
}

pub fn key(data: &str, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "keys", "create", "--data", data, "--name", name, "--role", role, "--json",
    ];
    args.extend(extra);
    let out = dmf(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

/// Waits for a condition the processes under test bring about, failing after a minute.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn a_correction_reaches_a_running_mirror_and_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    // Two deaths of long ago, from an earlier master file: every subscriber may see them.
    let file = dir.path().join("ssdm1.txt");
    let rec = |ssn: &str, last: &str, first: &str| {
        let line = format!(
            "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{:8}",
            "", "", "", "03152001", "01021930"
        );
        format!("{line:100}\n")
    };
    std::fs::write(
        &file,
        rec("123456789", "WALKER", "ALICE") + &rec("234567890", "JONES", "BOB"),
    )
    .unwrap();
    let out = dmf(&["import", "--data", d, s(&file), "--today", "2026-11-23"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let subscriber = key(d, "bank-subscriber", "subscriber", &[]);
    let caseworker = key(d, "cw-1", "caseworker", &[]);
    let supervisor = key(d, "cw-2", "caseworker", &[]);

    let (_server, base) = serve(d, &["--today", "2026-11-23"]);

    let mirror_dir = dir.path().join("mirror");
    let _mirror = mirror(&base, &subscriber, &mirror_dir, "2026-11-23");
    let verify = || {
        let out = dmf(&[
            "verify",
            "--data",
            s(&mirror_dir),
            "--ssn",
            "234567890",
            "--first",
            "BOB",
            "--last",
            "JONES",
            "--dob",
            "1930-01-02",
            "--purpose",
            "identity",
            "--json",
        ]);
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
    };
    eventually("the mirror to hold Bob's death", || {
        verify()["deceased"] == true
    });

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A fresh connection a request: a refused request whose body the server did not
        // read ends its connection, and reusing it would race with that close.
        .max_idle_connections(0)
        .build()
        .into();
    let post = |path: &str, key: &str, body: &str| -> Value {
        let resp = agent
            .post(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {key}"))
            .send(body)
            .unwrap();
        serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap()
    };
    let asked = post(
        "/v1/corrections",
        &caseworker,
        &json!({"ssn": "234567890", "reason": "alive, seen at the office", "evidence": ["passport 1"]}).to_string(),
    );
    let id = asked["id"].as_i64().unwrap_or_else(|| panic!("{asked}"));
    let approved = post(&format!("/v1/corrections/{id}/approve"), &supervisor, "");
    assert_eq!(approved["outcome"], "reinstated", "{approved}");

    let propagation = || -> Value {
        agent
            .get(format!("{base}/v1/corrections/{id}/propagation"))
            .header("Authorization", format!("Bearer {caseworker}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap()
    };
    eventually("the mirror to acknowledge the correction", || {
        propagation()["complete"] == true
    });
    let p = propagation();
    assert_eq!(
        p["subscribers"],
        json!([{"subscriber": "bank-subscriber", "received": true, "sent_correction": true, "acknowledged": true}]),
        "{p}"
    );
    // The mirror applied the D: it holds no death for the SSN any more.
    assert_eq!(verify()["result"], "no_death_on_file", "{}", verify());
}
