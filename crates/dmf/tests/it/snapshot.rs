//! The index snapshot across processes: `dmf import` writes one, `dmf serve` starts from it and
//! writes a new one when it stops (SIGTERM), and a snapshot edited on disk is refused at the
//! start, naming why, with the index rebuilt from the events and the answers unchanged.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::serve::{Running, key, listening, sigterm};
use super::{dmf, registry_of, s, stderr, stdout};

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob\n\
    123456789,Ann,,Lee,,F,1950-03-04\n\
    234567890,Bob,,Ray,,M,1941-07-30\n\
    345678901,Cy,,Poe,,M,1960-01-02\n";

/// `dmf serve` with its log on a pipe: the process, its base URL and the log line that says how
/// the index was loaded.
fn serve(data: &str) -> (Running, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args([
            "serve",
            "--data",
            data,
            "--listen",
            "127.0.0.1:0",
            "--today",
            "2026-11-23",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let (server, base) = listening(Running(child));
    let serving = loop {
        let mut l = String::new();
        assert!(
            log.read_line(&mut l).unwrap() > 0,
            "the server ended before serving"
        );
        if l.contains("serving") {
            break l;
        }
    };
    // The rest of the log is drained so that the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    (server, base, serving)
}

/// Stops a server as an operator does and waits for it.
fn stop(mut server: Running) {
    sigterm(&server.0);
    assert!(server.0.wait().unwrap().success());
}

fn identity(base: &str, key: &str, ssn: &str, first: &str, last: &str, dob: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body = json!({"ssn": ssn, "first": first, "last": last, "dob": dob}).to_string();
    let text = agent
        .post(format!("{base}/v1/verify/identity"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(body.as_str())
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_server_starts_from_the_snapshot_and_writes_one_when_it_stops() {
    let (dir, data) = registry_of(PEOPLE);
    let d = s(&data);
    let bank = key(d, "bank", "identity", &[]);
    // The import wrote a snapshot at its 3 events; two reports stored after it are replayed.
    let report = dir.path().join("report.ndjson");
    std::fs::write(
        &report,
        concat!(
            r#"{"type":"death_report","ssn":"234567890","first":"Bob","last":"Ray","dob":"1941-07-30","dod":"2026-11-01","source":"state","evidence":"NY-1"}"#,
            "\n",
            r#"{"type":"death_report","ssn":"234567890","first":"Bob","last":"Ray","dob":"1941-07-30","dod":"2026-11-01","source":"funeral_home","evidence":"FH-1"}"#,
        ),
    )
    .unwrap();
    let out = dmf(&["submit", "--data", d, s(&report), "--today", "2026-11-23"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (server, base, serving) = serve(d);
    assert!(
        serving.contains("from the snapshot at tree size 3, 2 events after it replayed"),
        "{serving}"
    );
    let bob = identity(&base, &bank, "234567890", "Bob", "Ray", "1941-07-30");
    assert_eq!(bob["deceased"], true, "{bob}");
    stop(server);

    // Stopped, it wrote the index at 5 events: nothing is replayed.
    let (server, base, serving) = serve(d);
    assert!(
        serving.contains("from the snapshot at tree size 5, 0 events after it replayed"),
        "{serving}"
    );
    let ann = identity(&base, &bank, "123456789", "Ann", "Lee", "1950-03-04");
    stop(server);

    // A person's record edited in the file: refused, rebuilt, the same answers.
    let path = data.join("index.snapshot");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (server, base, serving) = serve(d);
    assert!(
        serving.contains("rebuilt from 5 events: the snapshot was refused: its MAC is not the one this data folder's secret makes"),
        "{serving}"
    );
    assert_eq!(
        identity(&base, &bank, "123456789", "Ann", "Lee", "1950-03-04"),
        ann
    );
    assert_eq!(
        identity(&base, &bank, "234567890", "Bob", "Ray", "1941-07-30"),
        bob
    );
    stop(server);

    // `dmf snapshot` writes one from what it loads.
    let out = dmf(&["snapshot", "--data", d, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (v["size"].as_u64(), v["people"].as_u64()),
        (Some(5), Some(3)),
        "{v}"
    );
    let (server, _, serving) = serve(d);
    assert!(
        serving.contains("from the snapshot at tree size 5, 0 events"),
        "{serving}"
    );
    drop(server);
}
