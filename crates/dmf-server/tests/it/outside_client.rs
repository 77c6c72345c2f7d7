//! What an outside client meets: feed pages that end only where the feed does, a description
//! that generated clients can type and that says how each route answers, one JSON shape for
//! every error, and counters and statistics that read as they are named.

use dmf_server::Config;
use serde_json::{Value, json};

use super::{ALICE, Server, feed};

/// Where `value` does not conform to `schema` (a schema of the document, `$ref`s followed), as
/// far as the keywords the document uses go; patterns are left to the parser's own tests.
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return mismatches(doc, &doc["components"]["schemas"][name], value, at, out);
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.contains(&kind) {
        out.push(format!("{at}: {kind}, the schema says {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        out.push(format!("{at}: {value} is not {c}"));
    }
    if let Value::Object(m) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !m.contains_key(name.as_str().unwrap()) {
                out.push(format!("{at}: {name} is missing"));
            }
        }
        for (k, v) in m {
            match schema["properties"].get(k) {
                Some(p) => mismatches(doc, p, v, &format!("{at}.{k}"), out),
                None if schema["additionalProperties"] == false => {
                    out.push(format!("{at}.{k}: not a property of the schema"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            mismatches(doc, item, v, &format!("{at}[{i}]"), out);
        }
    }
}

/// That `value` conforms to the schema `name` of the document served.
fn conforms(doc: &Value, name: &str, value: &Value) {
    let mut out = Vec::new();
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    mismatches(doc, &schema, value, "$", &mut out);
    assert!(out.is_empty(), "{name}: {out:#?}\n{value:#}");
}

/// A people file of `n` numberholders, Alice first: imported, each is an event no feed carries.
fn many_people(n: u32) -> String {
    let mut csv = String::from("ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    csv.push_str("123456789,Alice,Mae,Walker,,F,1980-05-17,OH\n");
    for i in 1..n {
        let (group, serial) = (1 + i / 9_999, 1 + i % 9_999);
        csv.push_str(&format!(
            "201{group:02}{serial:04},Ann,,Lee,,F,1950-01-01,OH\n"
        ));
    }
    csv
}

fn report_alice(s: &Server) {
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-1"}),
    );
    assert_eq!(status, 201, "{r}");
}

/// More events a key may not see than one page reads (every numberholder of a large import),
/// then a death it may: the first page came back empty with the head still ahead, and a
/// client that stops at an empty page never saw the death.
#[test]
fn a_feed_page_came_back_empty_while_the_head_was_beyond_its_cursor() {
    let s = Server::with_people(&many_people(10_050));
    report_alice(&s);
    let (cursor, records) = feed(&s, "benefits", 0);
    assert_eq!(cursor, 10_051, "every event read");
    assert_eq!(records, [("A".to_owned(), ALICE.0.to_owned())]);
    assert_eq!(feed(&s, "benefits", cursor), (cursor, vec![]));
}

/// Past its bound a request answers an empty page, but with its cursor moved on: a client
/// pages on from the cursor until it stops moving, and reaches every record.
#[test]
fn a_feed_bounded_by_its_read_limit_pages_on_until_the_cursor_stops() {
    let s = Server::with(Config {
        today: Some("2026-11-23".parse().unwrap()),
        feed_read_limit: 2,
        ..Config::default()
    });
    // Four numberholders (events 1 to 4), then Alice's death (event 5).
    report_alice(&s);
    let alice = || vec![("A".to_owned(), ALICE.0.to_owned())];
    for (after, expect) in [
        (0, (2, vec![])),
        (2, (4, vec![])),
        (4, (5, alice())),
        (3, (5, alice())),
        (5, (5, vec![])),
    ] {
        assert_eq!(feed(&s, "benefits", after), expect, "after {after}");
    }
}

/// A property schema every alternative of which has a type (an optional field may be null).
fn typed(p: &Value) -> bool {
    p["type"].is_string()
        || p["const"].is_string()
        || p["anyOf"]
            .as_array()
            .is_some_and(|alternatives| alternatives.iter().all(typed))
}

/// Generated clients typed an agreement's terms as a bare object, and the bodies of death
/// reports and status notices as dictionaries: the terms refer to their schema, and both bodies
/// are schemas with typed properties; what the server answers conforms to the description.
#[test]
fn agreement_terms_and_submission_bodies_were_untyped_objects() {
    let s = Server::start();
    let (_, doc) = s.get_json("/openapi.json", None);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Agreement"]["properties"]["terms"]["$ref"],
        "#/components/schemas/AgreementTerms"
    );
    for name in ["DeathReport", "StatusNotice"] {
        let schema = &schemas[name];
        assert_eq!(schema["additionalProperties"], false, "{name}");
        let properties = schema["properties"].as_object().unwrap();
        assert!(properties.len() > 10, "{name}");
        for (field, p) in properties {
            assert!(typed(p), "{name}.{field}: {p}");
        }
        for field in schema["required"].as_array().unwrap() {
            assert!(properties.contains_key(field.as_str().unwrap()), "{name}");
        }
    }
    let terms = json!({
        "recipient": "State Benefits Agency", "source": "Registry",
        "purpose": "stop payments to deceased beneficiaries", "legal_authority": "42 U.S.C. 1320b-7",
        "recipient_receives": ["deceased", "date_of_death"], "source_receives": ["name", "dob"],
        "retention_days": 90, "start": "2026-11-01", "expiry": "2027-10-31", "adverse_action": true
    });
    conforms(&doc, "AgreementTerms", &terms);
    let (status, created) = s.post_json("/v1/agreements", "caseworker", terms);
    assert_eq!(status, 201, "{created}");
    conforms(&doc, "Agreement", &created);
    let path = format!("/v1/agreements/{}/approve", created["id"]);
    let (status, approved) = s.post_json(&path, "oversight", json!({}));
    assert_eq!(status, 200, "{approved}");
    conforms(&doc, "Agreement", &approved);
    let (_, all) = s.get_json("/v1/agreements", Some("oversight"));
    conforms(&doc, "Agreements", &all);

    // Bodies as their schemas give them, each property used, are taken.
    let (ssn, first, last, dob) = ALICE;
    let report = json!({
        "type": "death_report", "ssn": ssn, "first": first, "middle": "Mae", "last": last,
        "suffix": "Jr", "sex": "F", "dob": dob, "dod": "2026-11-20", "source": "state",
        "evidence": "EDRS-1", "verification": "V", "received": "2026-11-22", "idempotency_key": "r-1"
    });
    let notice = json!({
        "type": "status_notice", "ssn": "234567890", "first": "Bob", "middle": "Lee", "last": "Jones",
        "suffix": "Jr", "sex": "M", "dob": "1975-01-02", "kind": "benefits_suspended",
        "authority": "DHS USCIS", "legal_basis": "8 CFR 274a.14", "document": "N-1",
        "effective": "2026-12-01", "notice_sent": "2026-11-23", "idempotency_key": "n-1"
    });
    for (name, route, key, body) in [
        ("DeathReport", "/v1/reports/death", "reporter", report),
        ("StatusNotice", "/v1/notices/status", "authority", notice),
    ] {
        let given: Vec<&String> = body.as_object().unwrap().keys().collect();
        let described: Vec<&String> = schemas[name]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(given.len(), described.len(), "{name}: {described:?}");
        conforms(&doc, name, &body);
        let (status, r) = s.post_json(route, key, body.clone());
        assert_eq!(status, 201, "{name}: {r}");
        conforms(&doc, "SubmissionResult", &r);
        // Each required property left out is refused where the schema says it is required.
        for field in schemas[name]["required"].as_array().unwrap() {
            let field = field.as_str().unwrap();
            let mut less = body.clone();
            less.as_object_mut().unwrap().remove(field);
            less["idempotency_key"] = json!(format!("without {field}"));
            let (status, r) = s.post_json(route, key, less);
            assert_eq!(status, 422, "{name} without {field}: {r}");
            assert_eq!(r["error"]["path"], format!("$.{field}"), "{r}");
        }
    }
}

/// A malformed letter code was answered 400 while the description said 404; the description
/// now says what each answers, and the answer is the table's JSON error naming `code`.
#[test]
fn a_malformed_letter_code_was_documented_as_not_found() {
    let s = Server::start();
    let (_, doc) = s.get_json("/openapi.json", None);
    let op = &doc["paths"]["/v1/letters/{code}"]["get"];
    assert!(
        op["summary"].as_str().unwrap().contains("malformed code"),
        "{op}"
    );
    let bad = op["responses"]["400"]["description"].as_str().unwrap();
    assert!(bad.contains("malformed"), "{bad}");
    // Well formed (version 1, event 0, a signature of zeros) but issued by no one.
    let unknown = format!("04{}", "0".repeat(115));
    for (code, status, path) in [
        ("NOT-A-CODE", 400, Some("code")),
        ("0", 400, Some("code")),
        (&"0".repeat(117), 400, Some("code")),
        (&unknown, 404, None),
    ] {
        let (got, v) = s.get_json(&format!("/v1/letters/{code}"), None);
        assert_eq!(got, status, "{code}: {v}");
        assert_eq!(v["error"]["path"].as_str(), path, "{code}: {v}");
        conforms(&doc, "Error", &v);
    }
}

/// Proof ranges no log can hold (event 0, an event past the tree size asked, a consistency
/// proof backwards or from the empty tree) were 404 like sizes the log does not hold yet.
#[test]
fn impossible_proof_ranges_answered_not_found() {
    let s = Server::start();
    report_alice(&s);
    let (_, doc) = s.get_json("/openapi.json", None);
    for (query, status, path) in [
        ("inclusion?seq=0", 400, Some("seq")),
        ("inclusion?seq=0&size=3", 400, Some("seq")),
        ("inclusion?seq=4&size=3", 400, Some("seq")),
        ("inclusion?seq=5&size=99", 404, None),
        ("inclusion?seq=99", 404, None),
        ("inclusion?seq=3&size=3", 200, None),
        ("consistency?from=4&to=2", 400, Some("from")),
        ("consistency?from=0&to=3", 400, Some("from")),
        ("consistency?from=2&to=99", 404, None),
        ("consistency?from=2&to=5", 200, None),
    ] {
        let (got, v) = s.get_json(&format!("/v1/log/proof/{query}"), None);
        assert_eq!(got, status, "{query}: {v}");
        if status == 200 {
            conforms(&doc, "Proof", &v);
        } else {
            assert_eq!(v["error"]["path"].as_str(), path, "{query}: {v}");
            conforms(&doc, "Error", &v);
        }
    }
}

/// Every described route asked with a method it is not served with answers 405 in the error
/// table's JSON shape, with `Allow`. A PUT or PATCH with a body was answered without reading
/// the body and without `Connection: close`, so the client's next request on that connection
/// met a closed socket instead of its answer.
#[test]
fn a_wrong_method_with_a_body_broke_the_next_request_on_its_connection() {
    let s = Server::start();
    let (_, doc) = s.get_json("/openapi.json", None);
    for (method, path, _) in dmf_server::openapi::described() {
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{ssn}", "123456789")
                .replace("{id}", "1")
                .replace("{seq}", "1")
                .replace("{code}", "0")
                .replace("{request}", "1")
                .replace("{n}", "0")
                .replace("{step}", "notice")
        );
        let served: Vec<&str> = doc["paths"][path]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for wrong in ["get", "post", "put", "delete", "patch", "options", "trace"] {
            if served.contains(&wrong) {
                continue;
            }
            let resp = match wrong {
                "get" => s.agent.get(&url).call(),
                "post" => s.agent.post(&url).send("{}"),
                "put" => s.agent.put(&url).send("{}"),
                "patch" => s.agent.patch(&url).send("{}"),
                "options" => s.agent.options(&url).call(),
                "trace" => s.agent.trace(&url).call(),
                _ => s.agent.delete(&url).call(),
            }
            .unwrap();
            let status = resp.status().as_u16();
            let allow = resp
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_ascii_lowercase());
            assert!(
                allow.as_deref().is_some_and(|a| a.contains(method)),
                "{wrong} {path}: {allow:?}"
            );
            let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
            let text = resp.into_body().read_to_string().unwrap();
            assert_eq!(status, 405, "{wrong} {path} ({method} served): {text}");
            assert!(
                content_type.starts_with("application/json"),
                "{wrong} {path}"
            );
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["error"]["code"], "method_not_allowed", "{wrong} {path}");
            conforms(&doc, "Error", &v);
        }
    }
}

/// A key of a role that begins with a vowel was "a identity key" in the 403.
#[test]
fn a_role_refused_was_named_with_the_wrong_article() {
    let s = Server::start();
    for (key, says) in [
        ("identity", "an identity key may not use this route"),
        ("employment", "an employment key may not use this route"),
        ("authority", "an authority key may not use this route"),
        ("oversight", "an oversight key may not use this route"),
        ("agency", "an agency key may not use this route"),
        ("reporter", "a reporter key may not use this route"),
        ("caseworker", "a caseworker key may not use this route"),
    ] {
        let (status, v) = s.get_json("/v1/feed?wait=0", Some(key));
        assert_eq!(status, 403, "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{key}: {message}");
    }
}

fn counter(s: &Server, name: &str) -> u64 {
    let (_, text) = s.get("/metrics", None);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in {text}"))
        .parse()
        .unwrap()
}

/// An approved correction is a submission stored like any report, but the counter of accepted
/// submissions left it out.
#[test]
fn submissions_accepted_total_left_out_corrections() {
    let s = Server::start();
    report_alice(&s);
    assert_eq!(counter(&s, "dmf_submissions_accepted_total"), 1);
    let body = json!({"ssn": ALICE.0, "reason": "seen alive at the field office", "evidence": ["passport 123"]});
    let (status, r) = s.post_json("/v1/corrections", "caseworker", body);
    assert_eq!(status, 201, "{r}");
    let approve = format!("/v1/corrections/{}/approve", r["id"]);
    let (status, r) = s.post_json(&approve, "caseworker2", json!({}));
    assert_eq!(status, 200, "{r}");
    assert_eq!(counter(&s, "dmf_submissions_accepted_total"), 2);
    assert_eq!(counter(&s, "dmf_submissions_rejected_total"), 0);
}

/// Each statistics row repeated `period` and `origin`, names the document gives the whole
/// (the length of a period, the log's origin) with another meaning in a row.
#[test]
fn statistics_rows_repeated_the_top_level_names() {
    let s = Server::start();
    report_alice(&s);
    let (_, doc) = s.get_json("/openapi.json", None);
    for period in ["day", "month"] {
        let (status, v) = s.get_json(&format!("/v1/stats?period={period}"), None);
        assert_eq!(status, 200, "{v}");
        conforms(&doc, "Stats", &v);
        assert_eq!(v["period"], period);
        assert_eq!(v["log_origin"], "dmf.test/registry");
        let top: Vec<&String> = v.as_object().unwrap().keys().collect();
        let rows = v["rows"].as_array().unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            let row = row.as_object().unwrap();
            assert!(
                row.keys().all(|k| !top.contains(&k)),
                "{row:?} repeats {top:?}"
            );
            let date = row["date"].as_str().unwrap();
            assert_eq!(date.len(), if period == "day" { 10 } else { 7 }, "{date}");
        }
    }
}
