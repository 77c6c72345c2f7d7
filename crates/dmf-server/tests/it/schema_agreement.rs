//! The request bodies `/openapi.json` describes and what the routes take agree: a table of
//! bodies goes through a JSON Schema validator (the served document's component) and through
//! the route (a real server; refused in form is 400) or, for the submission routes whose
//! refusals share 422 with the registry's rules, through the very function the route parses
//! with.

use serde_json::{Map, Value, json};

use super::Server;

/// The served document, compiled by a validator that knows nothing of the server.
struct Components {
    schemas: boon::Schemas,
    compiler: boon::Compiler,
}

const DOC: &str = "https://dmf.test/openapi.json";

impl Components {
    fn of(s: &Server) -> Components {
        let (status, doc) = s.get_json("/openapi.json", None);
        assert_eq!(status, 200);
        let mut compiler = boon::Compiler::new();
        compiler.add_resource(DOC, doc).unwrap();
        Components {
            schemas: boon::Schemas::new(),
            compiler,
        }
    }

    fn accepts(&mut self, component: &str, body: &Value) -> bool {
        let at = format!("{DOC}#/components/schemas/{component}");
        let index = self.compiler.compile(&at, &mut self.schemas).unwrap();
        self.schemas.validate(body, index).is_ok()
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("an object"),
    }
}

/// `base` with `field` set to `value` (`None`: left out).
fn with(base: &Value, field: &str, value: Option<Value>) -> Value {
    let mut m = object(base.clone());
    match value {
        Some(v) => m.insert(field.to_owned(), v),
        None => m.remove(field),
    };
    Value::Object(m)
}

/// The changes every body is tried with: SSN forms, null, empty and padded values, whole
/// numbers written as floats, unknown fields. `None` leaves the field out.
fn variants(base: &Value) -> Vec<(String, Value)> {
    let mut out = vec![("as is".to_owned(), base.clone())];
    let fields: Vec<String> = object(base.clone()).keys().cloned().collect();
    for f in &fields {
        for v in [json!(null), json!(""), json!("  "), json!(3), json!(3.0)] {
            out.push((format!("{f} = {v}"), with(base, f, Some(v))));
        }
        if let Some(text) = base[f].as_str() {
            let padded = json!(format!(" {text} "));
            out.push((format!("{f} padded"), with(base, f, Some(padded))));
        }
        out.push((format!("{f} left out"), with(base, f, None)));
    }
    if fields.iter().any(|f| f == "ssn") {
        for ssn in [
            "123-45-6789",
            "123-456789",
            "12345-6789",
            "123456789012",
            "12345678",
            "12345678a",
            "666123456",
        ] {
            out.push((format!("ssn {ssn}"), with(base, "ssn", Some(json!(ssn)))));
        }
    }
    out.push((
        "an unknown field".to_owned(),
        with(base, "note", Some(json!("x"))),
    ));
    out
}

#[test]
fn openapi_request_bodies_agree_with_what_the_routes_take() {
    let s = Server::start();
    let mut c = Components::of(&s);
    let today = "2026-11-23".parse().unwrap();
    let mut disagree = Vec::new();

    // The submission routes: the line parsed as the route parses it, the key's field fixed.
    let report = json!({
        "ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17",
        "dod": "2026-11-01", "evidence": "certificate 1", "idempotency_key": "k-1"
    });
    let notice = json!({
        "ssn": "123456789", "first": "Alice", "last": "Walker",
        "kind": "benefits_suspended", "legal_basis": "42 USC 402", "document": "N-9",
        "effective": "2026-12-01", "idempotency_key": "k-2"
    });
    for (component, kind, fixed, base) in [
        ("DeathReport", "death_report", ("source", "state"), report),
        (
            "StatusNotice",
            "status_notice",
            ("authority", "DHS USCIS"),
            notice,
        ),
    ] {
        for (what, body) in variants(&base) {
            let parsed = dmf_registry::submission::parse_for_route(
                body.to_string().as_bytes(),
                kind,
                fixed,
                today,
            );
            if c.accepts(component, &body) != parsed.is_ok() {
                disagree.push(format!("{component} {what}: {body} parsed as {parsed:?}"));
            }
        }
    }

    // The other routes, over HTTP: refused in form is 400, anything else is not.
    let (status, held) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({ "ssn": "567890123", "first": "Nobody", "last": "Known", "dod": "2026-11-01", "evidence": "certificate 2" }),
    );
    assert_eq!(status, 201, "{held}");
    assert_eq!(held["outcome"], "held", "{held}");
    let held = held["seq"].as_u64().unwrap();
    let routes = [
        (
            "VerifyRequest",
            "/v1/verify/identity".to_owned(),
            "identity",
            json!({ "ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17" }),
        ),
        (
            "CorrectionRequest",
            "/v1/corrections".to_owned(),
            "caseworker",
            json!({ "ssn": "123456789", "kind": "reinstate", "reason": "alive", "evidence": ["passport"] }),
        ),
        (
            "IdentityChangeRequest",
            "/v1/people/234567890/identity".to_owned(),
            "caseworker",
            json!({ "first": "Robert", "middle": "Lee", "last": "Jones", "suffix": "Jr", "sex": "M", "dob": "1975-01-02", "reason": "court order", "evidence": "order 7" }),
        ),
        (
            "ReviewRequest",
            format!("/v1/held/{held}/confirm"),
            "caseworker",
            json!({ "evidence": "called the family", "reason": "checked" }),
        ),
    ];
    for (component, path, key, base) in routes {
        for (what, body) in variants(&base) {
            let (status, answer) = s.post_json(&path, key, body.clone());
            assert!(status < 500, "{component} {what}: {status} {answer}");
            if c.accepts(component, &body) != (status != 400) {
                disagree.push(format!(
                    "{component} {what}: {body} answered {status} {answer}"
                ));
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// Issue 21: two lines with `"idempotency_key": ""` were stored as two events, the empty key
/// read as none. Both are refused at the key, and nothing is stored.
#[test]
fn two_reports_with_an_empty_idempotency_key_are_refused_not_stored_twice() {
    let s = Server::start();
    let events = || s.get_json("/healthz", None).1["events"].as_u64().unwrap();
    let before = events();
    let line = json!({
        "ssn": "123456789", "first": "Alice", "last": "Walker", "dod": "2026-11-01",
        "evidence": "certificate 1", "idempotency_key": ""
    });
    let body = format!("{line}\n{line}\n");
    let (status, text) = s.post("/v1/reports/death", Some("reporter"), true, &body);
    assert_eq!(status, 200, "{text}");
    let results: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{text}");
    for r in &results {
        assert_eq!(
            (&r["status"], &r["path"], &r["reason"]),
            (
                &json!("rejected"),
                &json!("$.idempotency_key"),
                &json!(
                    "is empty: a key has at least one character other than white space; \
                     leave the field out (or null) to give none"
                )
            ),
            "{r}"
        );
    }
    assert_eq!(events(), before);
}
