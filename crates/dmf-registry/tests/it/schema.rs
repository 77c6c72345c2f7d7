//! The published JSON Schema (`docs/submit.schema.json`) and the submission parser give the same
//! verdict on every case of a table: a client that validates with the schema is never refused
//! by the registry for the form of a line, nor told by the schema that a line the registry
//! takes is wrong. What the schema says it cannot state (dates in order, a name's letters, two
//! different people) is left out of the table.

use dmf_model::Date;
use dmf_registry::parse_line;
use serde_json::{Map, Value, json};

fn today() -> Date {
    "2026-11-23".parse().unwrap()
}

fn published() -> Value {
    serde_json::from_str(include_str!("../../../../docs/submit.schema.json")).unwrap()
}

/// The schema compiled by a validator that knows nothing of the parser.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new() -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("https://dmf.test/submit.schema.json", published())
            .unwrap();
        let index = compiler
            .compile("https://dmf.test/submit.schema.json", &mut schemas)
            .unwrap();
        Validator { schemas, index }
    }

    fn accepts(&self, v: &Value) -> bool {
        self.schemas.validate(v, self.index).is_ok()
    }
}

/// A valid line of each type; every case changes one of them.
fn base(kind: &str) -> Map<String, Value> {
    let v = match kind {
        "death_report" => json!({
            "type": "death_report", "ssn": "123456789", "first": "Ann", "middle": "Mae",
            "last": "Lee", "suffix": "Jr", "sex": "F", "dob": "1950-03-04", "dod": "2026-11-01",
            "source": "hospital", "evidence": "chart 7", "verification": "P",
            "received": "2026-11-02", "idempotency_key": "r-1"
        }),
        "status_notice" => json!({
            "type": "status_notice", "ssn": "123456789", "first": "Ann", "middle": "Mae",
            "last": "Lee", "suffix": "Jr", "sex": "F", "dob": "1950-03-04",
            "kind": "benefits_suspended", "authority": "SSA", "legal_basis": "42 USC 402",
            "document": "N-9", "effective": "2026-12-01", "notice_sent": "2026-11-20",
            "idempotency_key": "n-1"
        }),
        "correction" => json!({
            "type": "correction", "ssn": "123456789", "kind": "reinstate", "reason": "alive",
            "evidence": ["passport", "lease"], "requested_by": "a", "approved_by": "b",
            "idempotency_key": "c-1"
        }),
        "verification" => json!({
            "type": "verification", "ssn": "123456789", "report": 7, "approved_by": "cw",
            "evidence": "call", "idempotency_key": "v-1"
        }),
        "contest" => json!({
            "type": "contest", "ssn": "123456789", "notice": 3, "reason": "renewed",
            "requested_by": "self", "idempotency_key": "k-1"
        }),
        "contest_decision" => json!({
            "type": "contest_decision", "ssn": "123456789", "notice": 3, "decision": "denied",
            "decided_by": "adj 4", "reason": "hearing H-3", "idempotency_key": "d-1"
        }),
        "presumed_deceased" => json!({
            "type": "presumed_deceased", "ssn": "123456789", "criterion": "age over 115",
            "legal_basis": "20 CFR 404.721", "recorded_by": "op 7", "idempotency_key": "p-1"
        }),
        "identity_change" => json!({
            "type": "identity_change", "ssn": "123456789", "first": "Ann", "middle": "Mae",
            "last": "Lee", "suffix": "Jr", "sex": "F", "dob": "1950-03-04", "reason": "marriage",
            "evidence": "certificate 12", "requested_by": "a", "approved_by": "b",
            "idempotency_key": "i-1"
        }),
        "review" => json!({
            "type": "review", "ssn": "123456789", "event": 9, "decision": "confirm", "by": "cw",
            "evidence": "called the family", "reason": "checked", "idempotency_key": "w-1"
        }),
        other => panic!("no base line for {other}"),
    };
    match v {
        Value::Object(m) => m,
        _ => unreachable!("an object"),
    }
}

const KINDS: [&str; 9] = [
    "death_report",
    "status_notice",
    "correction",
    "verification",
    "contest",
    "contest_decision",
    "presumed_deceased",
    "identity_change",
    "review",
];

/// One field of a base line set to a value (`None`: left out).
fn with(kind: &str, field: &str, value: Option<Value>) -> Value {
    let mut m = base(kind);
    match value {
        Some(v) => m.insert(field.to_owned(), v),
        None => m.remove(field),
    };
    Value::Object(m)
}

/// The parser's verdict on a line: `ok`, or the JSON path it refuses it at.
fn parsed(line: &Value) -> String {
    match parse_line(&line.to_string(), today()) {
        Ok(_) => "ok".to_owned(),
        Err(r) => r.path,
    }
}

/// Checks a line: the parser answers `expect` (`ok` or the refused path), and the schema
/// accepts it exactly when the parser does.
fn check(v: &Validator, what: &str, line: &Value, expect: &str) {
    let got = parsed(line);
    let reason = parse_line(&line.to_string(), today())
        .err()
        .map(|r| r.reason)
        .unwrap_or_default();
    assert_eq!(got, expect, "{what}: parser ({reason}) on {line}");
    assert_eq!(
        v.accepts(line),
        got == "ok",
        "{what}: the schema and the parser ({got} {reason}) disagree on {line}"
    );
}

#[test]
fn the_published_schema_and_the_parser_agree_on_every_case() {
    let v = Validator::new();
    for kind in KINDS {
        check(&v, kind, &Value::Object(base(kind)), "ok");
    }

    let ssn = |s: Value| with("death_report", "ssn", Some(s));
    for (s, expect) in [
        ("123456789", "ok"),
        ("123-45-6789", "ok"),
        ("001-01-0001", "ok"),
        ("899991234", "ok"),
        ("665999999", "ok"),
        ("667010001", "ok"),
        ("123-456789", "$.ssn"),
        ("12345-6789", "$.ssn"),
        ("1234-56-789", "$.ssn"),
        ("123456789012", "$.ssn"),
        ("12345678", "$.ssn"),
        ("12345678a", "$.ssn"),
        ("abcdefghi", "$.ssn"),
        ("１２３４５６７８９", "$.ssn"),
        (" 123456789", "$.ssn"),
        ("123456789 ", "$.ssn"),
        ("123 45 6789", "$.ssn"),
        ("000123456", "$.ssn"),
        ("666123456", "$.ssn"),
        ("900123456", "$.ssn"),
        ("123001234", "$.ssn"),
        ("123450000", "$.ssn"),
    ] {
        check(&v, "ssn", &ssn(json!(s)), expect);
    }
    check(&v, "ssn as a number", &ssn(json!(123456789)), "$.ssn");

    // Every field of every type: null, empty or blank is no value. A field that may be left
    // out is read as left out, a required one is refused; an idempotency key may be null but
    // not empty. An identity change's other name parts ask for its first and last.
    for kind in KINDS {
        let required = &published()["$defs"][kind]["required"];
        for field in base(kind).keys().filter(|k| *k != "type") {
            let path = format!("$.{field}");
            let needed = required.as_array().unwrap().contains(&json!(field))
                || kind == "identity_change" && ["first", "last"].contains(&field.as_str());
            for value in [json!(null), json!(""), json!("  ")] {
                let refused = needed || field == "idempotency_key" && !value.is_null();
                let expect = if refused { path.as_str() } else { "ok" };
                check(
                    &v,
                    &format!("{kind} {field} = {value}"),
                    &with(kind, field, Some(value)),
                    expect,
                );
            }
            let expect = if needed { path.as_str() } else { "ok" };
            check(
                &v,
                &format!("{kind} {field} left out"),
                &with(kind, field, None),
                expect,
            );
        }
        check(
            &v,
            "an unknown field",
            &with(kind, "note", Some(json!("x"))),
            "$.note",
        );
        check(&v, "no type", &with(kind, "type", None), "$.type");
    }
    check(
        &v,
        "an unknown type",
        &with("contest", "type", Some(json!("appeal"))),
        "$.type",
    );

    // The idempotency key is taken exactly: never empty, no white space around it.
    let key = |k: &str| with("death_report", "idempotency_key", Some(json!(k)));
    for (k, expect) in [
        ("550e8400-e29b-41d4-a716-446655440000", "ok"),
        ("a b", "ok"),
        ("k", "ok"),
        ("", "$.idempotency_key"),
        (" ", "$.idempotency_key"),
        (" k", "$.idempotency_key"),
        ("k\n", "$.idempotency_key"),
    ] {
        check(&v, "idempotency_key", &key(k), expect);
    }

    // White space around a name or free text is dropped; around a value of fixed form
    // (a date, a code, an SSN) it is refused.
    let report = |field: &str, value: Value| with("death_report", field, Some(value));
    for (field, value, expect) in [
        ("first", " Ann ", "ok"),
        ("first", "\tAnn\n", "ok"),
        ("last", "O'Neil-Smith", "ok"),
        ("evidence", "  chart 7 ", "ok"),
        ("first", "Ann\tMae", "$.first"),
        ("first", "Ann\u{202e}Mae", "$.first"),
        ("evidence", "chart\n7", "$.evidence"),
        ("dod", " 2026-11-01", "$.dod"),
        ("dob", "1950-03 ", "$.dob"),
        ("source", " hospital", "$.source"),
        ("sex", "F ", "$.sex"),
        ("verification", " V", "$.verification"),
        ("received", "2026-11-02 ", "$.received"),
    ] {
        check(&v, field, &report(field, json!(value)), expect);
    }
    let long = |n: usize| "a".repeat(n);
    for (field, value, expect) in [
        ("first", long(100), "ok"),
        ("first", format!("  {}  ", long(100)), "ok"),
        ("first", long(101), "$.first"),
        ("evidence", long(500), "ok"),
        ("evidence", format!(" {} ", long(500)), "ok"),
        ("evidence", long(501), "$.evidence"),
    ] {
        check(&v, field, &report(field, json!(value)), expect);
    }

    // Codes as written, nothing else.
    for (field, value, expect) in [
        ("source", "state", "ok"),
        ("source", "State", "$.source"),
        ("sex", "female", "ok"),
        ("sex", "MALE", "ok"),
        ("sex", "m", "ok"),
        ("sex", "x", "$.sex"),
        ("verification", "V", "ok"),
        ("verification", "v", "$.verification"),
    ] {
        check(&v, field, &report(field, json!(value)), expect);
    }

    // Dates: ISO 8601, real calendar days, years 1800-2199; partial only where said.
    for (field, value, expect) in [
        ("dob", "1950", "ok"),
        ("dob", "1950-03", "ok"),
        ("dob", "2000-02-29", "ok"),
        ("dob", "1960-02-29", "ok"),
        ("dob", "1900-02-29", "$.dob"),
        ("dob", "1961-02-29", "$.dob"),
        ("dob", "1950-04-31", "$.dob"),
        ("dob", "1950-13", "$.dob"),
        ("dob", "1950-00", "$.dob"),
        ("dob", "1799", "$.dob"),
        ("dob", "19500304", "$.dob"),
        ("dob", "1950-3-4", "$.dob"),
        ("received", "2026-11", "$.received"),
        ("received", "2026-11-31", "$.received"),
    ] {
        check(&v, field, &report(field, json!(value)), expect);
    }

    // Sequence numbers: whole numbers from 1 (3.0 is the number 3), within 2^53 - 1.
    for (kind, field) in [
        ("verification", "report"),
        ("contest", "notice"),
        ("contest_decision", "notice"),
        ("review", "event"),
    ] {
        let path = format!("$.{field}");
        for (value, expect) in [
            (json!(3), "ok"),
            (json!(3.0), "ok"),
            (json!(1e2), "ok"),
            (json!(9_007_199_254_740_991_u64), "ok"),
            (json!(3.5), path.as_str()),
            (json!(0), &path),
            (json!(0.0), &path),
            (json!(-1), &path),
            (json!("3"), &path),
            (json!(9_007_199_254_740_992_u64), &path),
            (json!(1e300), &path),
        ] {
            check(&v, field, &with(kind, field, Some(value)), expect);
        }
    }

    // Evidence: one text or a non-empty list of them.
    for kind in ["correction", "identity_change"] {
        for (value, expect) in [
            (json!("passport"), "ok"),
            (json!(["passport"]), "ok"),
            (json!([]), "$.evidence"),
            (json!([""]), "$.evidence[0]"),
            (json!(["passport", 3]), "$.evidence[1]"),
        ] {
            check(&v, "evidence", &with(kind, "evidence", Some(value)), expect);
        }
    }

    // An identity change gives a whole new name, a dob or a sex.
    let change = |drop: &[&str]| {
        let mut m = base("identity_change");
        for k in drop {
            m.remove(*k);
        }
        Value::Object(m)
    };
    let name = ["first", "middle", "last", "suffix"];
    check(
        &v,
        "only a dob",
        &change(&[&name[..], &["sex"]].concat()),
        "ok",
    );
    check(
        &v,
        "only a sex",
        &change(&[&name[..], &["dob"]].concat()),
        "ok",
    );
    check(&v, "only a name", &change(&["dob", "sex"]), "ok");
    check(
        &v,
        "first and last only",
        &change(&["middle", "suffix", "dob", "sex"]),
        "ok",
    );
    check(
        &v,
        "nothing to change",
        &change(&[&name[..], &["dob", "sex"]].concat()),
        "$",
    );
    check(
        &v,
        "a first name without a last",
        &change(&["last", "dob", "sex"]),
        "$.last",
    );
    let mut blank_middle = change(&["first", "last", "suffix"]);
    blank_middle["middle"] = json!(" ");
    check(&v, "a blank middle name and a dob", &blank_middle, "ok");
    check(
        &v,
        "a middle name alone",
        &change(&["first", "last", "suffix"]),
        "$.first",
    );
}

/// Issue 21: `123-456789` was said to have 10 digits; it has nine, with a dash out of place.
#[test]
fn an_ssn_with_a_dash_out_of_place_is_refused_with_its_digits_counted() {
    for (ssn, reason) in [
        (
            "123-456789",
            "an SSN is nine digits, bare or as AAA-GG-SSSS, found \"123-456789\"",
        ),
        (
            "12345-6789",
            "an SSN is nine digits, bare or as AAA-GG-SSSS, found \"12345-6789\"",
        ),
        ("123-45-67890", "an SSN has 9 digits, found 10"),
        ("123456789012", "an SSN has 9 digits, found 12"),
        (
            " 123456789",
            "\" 123456789\" has white space around it: give \"123456789\"",
        ),
    ] {
        let line = with("death_report", "ssn", Some(json!(ssn))).to_string();
        let r = parse_line(&line, today()).unwrap_err();
        assert_eq!((r.path.as_str(), r.reason.as_str()), ("$.ssn", reason));
    }
}

/// Issue 21: `"idempotency_key": ""` was read as no key, so two such lines were stored as two
/// events. An empty or blank key is refused and says how to give none; null is none.
#[test]
fn an_empty_idempotency_key_is_refused_not_read_as_none() {
    let none = "a key has at least one character other than white space; leave the field out \
                (or null) to give none";
    for (key, reason) in [
        (json!(""), format!("is empty: {none}")),
        (json!("   "), format!("is blank: {none}")),
    ] {
        let line = with("death_report", "idempotency_key", Some(key)).to_string();
        let r = parse_line(&line, today()).unwrap_err();
        assert_eq!(
            (r.path.as_str(), r.reason.as_str()),
            ("$.idempotency_key", reason.as_str())
        );
    }
    let line = with("death_report", "idempotency_key", Some(json!(null))).to_string();
    assert_eq!(parse_line(&line, today()).unwrap().idempotency_key, None);
}
