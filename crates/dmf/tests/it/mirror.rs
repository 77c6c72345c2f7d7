//! `dmf mirror` against a small feed server that answers HTTP/1.1 by hand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{dmf, s, stderr, stdout};

/// A 100-character DMF record: change code, SSN, names, dates of death and birth.
fn line(change: &str, ssn: &str, last: &str, first: &str, dod: &str, dob: &str) -> String {
    let s = format!(
        "{change:1}{ssn:9}{last:20}{:4}{first:15}{:15} {dod:8}{dob:8}",
        "", ""
    );
    format!("{s:100}")
}

fn record(change: &str, ssn: &str, last: &str, first: &str) -> Value {
    json!({
        "change": change,
        "ssn": ssn,
        "line": line(change, ssn, last, first, "03152001", "01021930"),
    })
}

/// What the fake server was asked: each request line and Authorization header, and the
/// bodies of acknowledgements.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, String)>,
    acks: Vec<Value>,
}

/// Serves pages by their `after`: two adds up to cursor 2, a delete up to 3, then nothing.
fn fake_feed() -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            answer(stream.unwrap(), &log);
        }
    });
    (url, seen)
}

fn answer(mut stream: TcpStream, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).unwrap();
    let (mut length, mut authorization) = (0, String::new());
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => authorization = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request = request.trim_end().to_owned();
    let reply = if request.starts_with("POST /v1/feed/ack ") {
        let ack: Value = serde_json::from_slice(&body).unwrap();
        let reply = json!({ "acknowledged": ack["cursor"] });
        seen.lock().unwrap().acks.push(ack);
        reply
    } else if request.starts_with("GET /v1/feed?after=0&") {
        json!({ "cursor": 2, "records": [
            record("A", "123456789", "SMITH", "JOHN"),
            record("A", "234567890", "DOE", "JANE"),
        ]})
    } else if request.starts_with("GET /v1/feed?after=2&") {
        json!({ "cursor": 3, "records": [record("D", "123456789", "SMITH", "JOHN")] })
    } else {
        json!({ "cursor": 3, "records": [] })
    };
    seen.lock().unwrap().requests.push((request, authorization));
    let reply = reply.to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )
    .unwrap();
}

fn identity(data: &str, ssn: &str, first: &str, last: &str) -> Value {
    let out = dmf(&[
        "verify",
        "--data",
        data,
        "--ssn",
        ssn,
        "--first",
        first,
        "--last",
        last,
        "--dob",
        "1930-01-02",
        "--purpose",
        "identity",
        "--today",
        "2026-11-23",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn mirror_once_applies_pages_in_order_saves_the_cursor_and_acknowledges() {
    let (url, seen) = fake_feed();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mirror");
    let mirror = |from: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dmf"));
        command.args([
            "mirror",
            "--once",
            "--from",
            from,
            "--key",
            "k",
            "--data",
            s(&data),
            "--today",
            "2026-11-23",
        ]);
        // The fake server is local: a proxy from the environment would not reach it.
        for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
            command.env_remove(var);
        }
        command.output().unwrap()
    };

    let out = mirror(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("cursor 0 to 2: 2 records, 2 events added, 0 already applied, 0 rejected"),
        "{text}"
    );
    assert!(
        text.contains("cursor 2 to 3: 1 records, 1 events added, 0 already applied, 0 rejected"),
        "{text}"
    );
    assert!(text.contains("up to date at cursor 3"), "{text}");
    // Followed from empty, the mirror's writer held everyone: its index is on disk for `serve`.
    assert!(
        text.contains("index snapshot at tree size 3: 2 people"),
        "{text}"
    );

    let jane = identity(s(&data), "234567890", "Jane", "Doe");
    assert_eq!(
        (&jane["code"], &jane["deceased"]),
        (&json!("X"), &json!(true))
    );
    // The delete took John off the file again: a mirror holds deaths, not numberholders, so it
    // says it has no death on file rather than "not in the file".
    let john = identity(s(&data), "123456789", "John", "Smith");
    assert_eq!(
        john,
        json!({"purpose": "identity", "result": "no_death_on_file"})
    );

    let position: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("mirror.json")).unwrap()).unwrap();
    assert_eq!(position, json!({ "from": url, "cursor": 3 }));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.acks, [json!({"cursor": 2}), json!({"cursor": 3})]);
        let asked: Vec<&str> = seen.requests.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            asked,
            [
                "GET /v1/feed?after=0&wait=0 HTTP/1.1",
                "POST /v1/feed/ack HTTP/1.1",
                "GET /v1/feed?after=2&wait=0 HTTP/1.1",
                "POST /v1/feed/ack HTTP/1.1",
                "GET /v1/feed?after=3&wait=0 HTTP/1.1",
            ]
        );
        assert!(seen.requests.iter().all(|(_, auth)| auth == "Bearer k"));
    }

    // Up to date: one more poll, nothing applied, nothing acknowledged.
    let out = mirror(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{url}: up to date at cursor 3\n"));
    assert_eq!(seen.lock().unwrap().acks.len(), 2);

    // The folder follows one registry only.
    let out = mirror("http://127.0.0.1:9");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("mirrors {url}, not http://127.0.0.1:9")),
        "{}",
        stderr(&out)
    );
}
