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
