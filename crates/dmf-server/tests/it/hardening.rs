//! What an adversarial pass found in the service, each reproduced and shown to fail now.

use serde_json::{Value, json};

use super::Server;

/// Regression (input hygiene): `text/plain` was read as JSON, and 405 and 413 answers said
/// nothing useful. A body in a type the route does not take is refused with 415 from the one
/// error table; a method the route does not serve is a JSON 405; a body too large names `$`.
#[test]
fn content_types_methods_and_sizes_are_refused_in_words() {
    let s = Server::start();
    let query =
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"})
            .to_string();
    let (status, text) = s.post_as(
        "/v1/verify/identity",
        Some("identity"),
        "text/plain",
        &query,
    );
    assert_eq!(status, 415, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "unsupported_media_type");
    assert_eq!(v["error"]["path"], "Content-Type");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    // Parameters of a type are not the type; JSON Lines is NDJSON.
    let (status, _) = s.post_as(
        "/v1/verify/identity",
        Some("identity"),
        "application/json; charset=utf-8",
        &query,
    );
    assert_eq!(status, 200);
    let (status, _) = s.post_as(
        "/v1/verify/batch",
        Some("identity"),
        "application/jsonl",
        &query,
    );
    assert_eq!(status, 200);
    // Without a key the route says so first, whatever the type.
    assert_eq!(
        s.post_as("/v1/verify/identity", None, "text/plain", &query)
            .0,
        401
    );

    let resp = s
        .agent
        .put(format!("{}/v1/verify/identity", s.base))
        .header("Authorization", format!("Bearer {}", s.keys["identity"]))
        .send(query.as_str())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let v: Value = serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(v["error"]["code"], "method_not_allowed", "{v}");

    let big = format!(r#"{{"ssn":"{}"}}"#, "1".repeat(70_000));
    let (status, text) = s.post("/v1/verify/identity", Some("identity"), false, &big);
    assert_eq!(status, 413, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["path"], "$", "{v}");
}

/// Regression (input hygiene): a name with a right-to-left override was stored and shown as
/// is; a control character in a name went into the file. Both are refused at the name's path.
#[test]
fn names_that_would_print_as_something_else_are_refused() {
    let s = Server::start();
    for (first, reason) in [
        ("Ali\u{202e}ec", "direction or zero-width"),
        ("Alice\nWalker", "control character"),
        ("Alice\u{0}", "control character"),
    ] {
        let (status, r) = s.post_json(
            "/v1/reports/death",
            "reporter",
            json!({"ssn": "123456789", "first": first, "last": "Walker", "dob": "1980-05-17",
                   "dod": "2026-11-20", "evidence": "EDRS-1"}),
        );
        assert_eq!(status, 422, "{r}");
        assert_eq!(r["error"]["path"], "$.first", "{r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(reason),
            "{r}"
        );
    }
}

/// Regression (disclosures not accounted): the console's notices and correction pages showed
/// SSNs, notices, reasons and identity evidence and recorded nothing; a funeral home's report
/// about a death only a state reported was answered "conflicts with the recorded 2026-11-25" or
/// "corroborated", telling it of a death and its date it may not see. The pages are accounted;
/// a reporter's answer says what its own report did, never what the record held.
#[test]
fn staff_pages_are_accounted_and_reporters_learn_nothing_of_the_record() {
    let s = Server::start();
    let (ssn, first, last, dob) = super::ALICE;
    let state = json!({"ssn": ssn, "first": first, "last": last, "dob": dob,
                       "dod": "2026-11-20", "evidence": "EDRS-OH-1"});
    let (status, r) = s.post_json("/v1/reports/death", "reporter", state);
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    for dod in ["2026-11-20", "2026-11-02"] {
        let (status, r) = s.post_json(
            "/v1/reports/death",
            "funeral",
            json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": dod, "evidence": format!("FH-{dod}")}),
        );
        assert_eq!(status, 201, "{r}");
        assert_eq!(r["outcome"], "received", "{r}");
        assert!(
            !r.to_string().contains("2026-11-20") || dod == "2026-11-20",
            "{r}"
        );
        assert!(r.get("reason").is_none(), "{r}");
    }
    // A notice and a correction request, then the pages that list them.
    let (status, r) = s.post_json(
        "/v1/notices/status",
        "authority",
        json!({"ssn": "234567890", "first": "Bob", "last": "Jones", "suffix": "Jr", "dob": "1975-01-02",
               "kind": "employment_authorization_ended", "legal_basis": "8 CFR 274a.14",
               "document": "N-1", "effective": "2026-11-20"}),
    );
    assert_eq!(status, 201, "{r}");
    let (status, r) = s.post_json(
        "/v1/corrections",
        "caseworker",
        json!({"ssn": ssn, "reason": "seen alive", "evidence": ["passport"]}),
    );
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    super::console::sign_in_and_get(
        &s,
        &[
            "/console/notices",
            "/console/corrections",
            &format!("/console/corrections/{id}"),
        ],
    );
    let purposes = |ssn: &str| -> Vec<String> {
        let (_, acc) = s.get_json(&format!("/v1/people/{ssn}/accounting"), Some("caseworker"));
        acc["disclosures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["purpose"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(purposes("234567890").contains(&"console notices".to_owned()));
    let alice = purposes(ssn);
    for p in ["console corrections", "console correction"] {
        assert!(alice.contains(&p.to_owned()), "{p}: {alice:?}");
    }
}

/// `n` identity queries about Alice, as NDJSON.
fn alice_lines(n: usize) -> String {
    let line = json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"});
    format!("{line}\n").repeat(n)
}

/// Regression (the rate limit counted requests, not records): with `--rate 1 --burst 2` a
/// 100,000-line batch was answered in 1.3 s. A batch is charged per record: four lines and
/// their request spend a burst of five, so the next request waits.
#[test]
fn a_batch_is_charged_per_record_not_per_request() {
    let s = Server::with(dmf_server::Config {
        today: Some("2026-11-23".parse().unwrap()),
        rate_per_second: 1,
        rate_burst: 5,
        ..dmf_server::Config::default()
    });
    let (status, text) = s.post("/v1/verify/batch", Some("identity"), true, &alice_lines(4));
    assert_eq!((status, text.lines().count()), (200, 4), "{text}");
    let one = json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"});
    let (status, text) = s.post(
        "/v1/verify/identity",
        Some("identity"),
        false,
        &one.to_string(),
    );
    assert_eq!(status, 429, "{text}");
}

/// A batch larger than its key's burst is paced to the rate, not refused and not let through:
/// 25 lines at 20 a second after a burst of 5 take at least a second.
#[test]
fn a_batch_over_the_burst_goes_at_the_rate() {
    let s = Server::with(dmf_server::Config {
        today: Some("2026-11-23".parse().unwrap()),
        rate_per_second: 20,
        rate_burst: 5,
        ..dmf_server::Config::default()
    });
    let started = std::time::Instant::now();
    let (status, text) = s.post("/v1/verify/batch", Some("identity"), true, &alice_lines(25));
    assert_eq!((status, text.lines().count()), (200, 25), "{text}");
    // 1 + 25 tokens, 5 at once, the other 21 at 20 a second.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1_000));
}

/// Regression (no daily quota): one batch narrowed a date of birth to 428 candidates and
/// probed 100,000 SSNs in a second. A verification key may have a daily allowance of records;
/// a batch over what is left is refused whole with 429 before any answer (nothing disclosed,
/// nothing accounted), and what fits is answered.
#[test]
fn a_batch_over_the_daily_quota_is_refused_before_any_answer() {
    let mut s = Server::start();
    let (_, secret) = s
        .app
        .keys()
        .create(
            dmf_server::keys::NewKey {
                daily_quota: Some(10),
                ..dmf_server::keys::NewKey::plain("quota", dmf_server::keys::Role::Identity)
            },
            0,
        )
        .unwrap();
    s.keys.insert("quota", secret);
    let accounted = |s: &Server| s.app.accounting().for_person(123_456_789).unwrap().len();
    let before = accounted(&s);

    let resp = s
        .agent
        .post(format!("{}/v1/verify/batch", s.base))
        .header("Authorization", format!("Bearer {}", s.keys["quota"]))
        .header("Content-Type", "application/x-ndjson")
        .send(alice_lines(11).as_str())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry = super::retry_after(&resp);
    assert!((1..=86_400).contains(&retry), "{retry}");
    let v: Value = serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("10 left of the 10 a day"), "{message}");
    assert_eq!(accounted(&s), before);

    // What fits is answered and accounted; then even one more is refused.
    let (status, text) = s.post("/v1/verify/batch", Some("quota"), true, &alice_lines(7));
    assert_eq!((status, text.lines().count()), (200, 7), "{text}");
    let (status, _) = s.post("/v1/verify/batch", Some("quota"), true, &alice_lines(4));
    assert_eq!(status, 429);
    let one = json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"});
    for _ in 0..3 {
        let (status, _) = s.post(
            "/v1/verify/identity",
            Some("quota"),
            false,
            &one.to_string(),
        );
        assert_eq!(status, 200);
    }
    let (status, text) = s.post(
        "/v1/verify/identity",
        Some("quota"),
        false,
        &one.to_string(),
    );
    assert_eq!(status, 429, "{text}");
    assert_eq!(accounted(&s), before + 10);
    // Another key's allowance is its own.
    let (status, _) = s.post("/v1/verify/batch", Some("identity"), true, &alice_lines(11));
    assert_eq!(status, 200);
}

/// Regression (input hygiene): a 431 came with an empty body. Too many headers, or headers too
/// large, get a JSON 431 from the error table that says what the limits are.
#[test]
fn too_many_or_too_large_headers_get_a_431_in_words() {
    use std::io::{Read, Write};
    let s = Server::start();
    let addr = s.base.trim_start_matches("http://").to_owned();
    let many: String = (0..150).map(|i| format!("X-Pad-{i}: {i}\r\n")).collect();
    let large = format!("X-Pad: {}\r\n", "a".repeat(40 << 10));
    for extra in [many, large] {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "GET /healthz HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 431"),
            "{}",
            &text[..80.min(text.len())]
        );
        let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 100 headers"),
            "{body}"
        );
    }
}
