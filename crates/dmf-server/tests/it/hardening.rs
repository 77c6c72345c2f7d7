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
