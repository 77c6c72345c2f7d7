//! The API description served at `/openapi.json` (OpenAPI 3.1), written from the route table:
//! every route is described, with the roles it admits, and every answer's schema is its view
//! type's own (JSON Schema 2020-12, as OpenAPI 3.1 takes it), so the description and the
//! answers cannot drift apart. The request bodies that are submissions, or parts of one, are
//! made of the published submission schema's definitions.

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::error::CODES;
use crate::routes::{CSV, JSON, NDJSON, ROUTES};
use crate::views::ErrorView;

fn parameters(path: &str) -> Value {
    let q = |name: &str, required: bool, desc: &str| json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": "integer", "minimum": 0 } });
    match path {
        "/v1/verify/identity" | "/v1/verify/employment" | "/v1/verify/benefits" => json!([
            { "name": "receipt", "in": "query", "required": false, "description": "true: the answer carries a receipt, a signed statement of it and a C2SP tlog-proof of each event it stands on (docs/RECEIPTS.md); without it the answer is as ever", "schema": { "type": "boolean" } }
        ]),
        "/v1/people/{ssn}/accounting" => {
            json!([{ "name": "ssn", "in": "path", "required": true, "schema": submit_def("ssn") }])
        }
        "/v1/log/proof/inclusion" => json!([
            q("seq", true, "the event's sequence number"),
            q("size", false, "the tree size")
        ]),
        "/v1/log/proof/consistency" => json!([
            q("from", true, "the older tree size"),
            q("to", true, "the newer tree size")
        ]),
        "/v1/feed" => json!([
            q(
                "after",
                false,
                "the cursor of the last page applied (0 at the start)"
            ),
            q(
                "wait",
                false,
                "seconds to hold the request when nothing is new (at most 60)"
            )
        ]),
        "/v1/files/updates" => json!([q("since", true, "the cursor of the last file applied")]),
        "/v1/corrections/{id}/approve"
        | "/v1/corrections/{id}/propagation"
        | "/v1/corrections/{id}/reject"
        | "/v1/corrections/{id}/send-back"
        | "/v1/corrections/{id}/withdraw"
        | "/v1/corrections/{id}/resubmit" => {
            json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }])
        }
        "/v1/held" => json!([q(
            "limit",
            false,
            "people shown at most (default 100, at most 10000)"
        )]),
        "/v1/held/{seq}/confirm"
        | "/v1/held/{seq}/reject"
        | "/v1/identity-changes/{seq}/confirm"
        | "/v1/identity-changes/{seq}/reject" => {
            json!([{ "name": "seq", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } }])
        }
        "/v1/people/{ssn}/identity" => {
            json!([{ "name": "ssn", "in": "path", "required": true, "schema": { "type": "string" } }])
        }
        "/v1/fhir/vrdr/records/{record}" => {
            json!([{ "name": "record", "in": "path", "required": true, "schema": { "type": "string" }, "description": "death year, jurisdiction and certificate number, as Bundle.identifier gives them: 2026NY000182" }])
        }
        "/v1/letters/{code}" => {
            json!([{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" }, "description": "the code printed on the letter (16 characters) or the long one in its QR code; case, dashes and spaces do not matter, and O, I and L are read as 0, 1 and 1" }])
        }
        "/v1/quality" => json!([
            { "name": "max_age", "in": "query", "required": false, "description": "alive past this age is implausible (default 115)", "schema": { "type": "integer", "minimum": 50, "maximum": 150 } },
            { "name": "pending_days", "in": "query", "required": false, "description": "a report pending longer is overdue (default 30)", "schema": { "type": "integer", "minimum": 1, "maximum": 3650 } },
            q("samples", false, "examples of each finding (default 10, at most 1000)")
        ]),
        "/v1/quality/published" => json!([
            { "name": "audience", "in": "query", "required": false, "description": "whom the file was made for (default certified)", "schema": { "type": "string", "enum": ["certified", "uncertified", "benefits"] } },
            q("samples", false, "examples of each finding (default 10, at most 1000)")
        ]),
        "/v1/agreements/{id}" | "/v1/agreements/{id}/approve" | "/v1/agreements/{id}/renew" => {
            json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }])
        }
        "/v1/agreements/{id}/matches" => json!([
            { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
            { "name": "elements", "in": "query", "required": false, "description": "comma-separated elements asked for (default: all the agreement names)", "schema": { "type": "string" } }
        ]),
        "/v1/agreements/{id}/matches/{request}/{n}/{step}" => json!([
            { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } },
            { "name": "request", "in": "path", "required": true, "schema": { "type": "integer" } },
            { "name": "n", "in": "path", "required": true, "schema": { "type": "integer" } },
            { "name": "step", "in": "path", "required": true, "schema": { "type": "string", "enum": ["verification", "notice", "contest", "decision", "adverse-action"] } }
        ]),
        "/v1/agreements/stats" => {
            json!([{ "name": "period", "in": "query", "required": false, "schema": { "type": "string", "enum": ["day", "month"] } }])
        }
        "/v1/stats" => {
            json!([{ "name": "period", "in": "query", "required": false, "schema": { "type": "string", "enum": ["day", "month"] } }])
        }
        _ => json!([]),
    }
}

/// The published submission schema. The request bodies that are submissions, or parts of one,
/// are made of its definitions, so the API description and `dmf submit` never disagree.
const SUBMIT_SCHEMA: &str = include_str!("../../../docs/submit.schema.json");

/// A definition of the submission schema, its references written out in place (they point
/// into that document, not this one).
fn submit_def(name: &str) -> Value {
    let all: Value = serde_json::from_str(SUBMIT_SCHEMA).expect("the submission schema is JSON");
    let defs = &all["$defs"];
    assert!(defs[name].is_object(), "no definition {name}");
    inline(&defs[name], defs)
}

fn inline(v: &Value, defs: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let target = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"));
            let mut out = match target.map(|name| inline(&defs[name], defs)) {
                Some(Value::Object(def)) => def,
                _ => serde_json::Map::new(),
            };
            // Keywords beside the reference (a description) say more than the definition.
            for (k, x) in m.iter().filter(|(k, _)| *k != "$ref") {
                out.insert(k.clone(), inline(x, defs));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|x| inline(x, defs)).collect()),
        other => other.clone(),
    }
}

/// A submission type as a route of one type takes it: `type` and the field the key fixes may
/// be left out.
fn route_body(kind: &str, fixed: &str, description: &str) -> Value {
    let mut body = submit_def(kind);
    if let Some(Value::Array(required)) = body.get_mut("required") {
        required.retain(|f| f != "type" && f != fixed);
    }
    body["description"] = json!(description);
    body
}

/// Some fields of a submission type, as that type defines them, with its rules on which go
/// together; nothing else. The route fills in the rest.
fn submission_body(kind: &str, fields: &[&str], required: &[&str], description: &str) -> Value {
    let def = submit_def(kind);
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| ((*f).to_owned(), def["properties"][*f].clone()))
        .collect();
    let mut body = json!({
        "type": "object", "additionalProperties": false, "required": required,
        "properties": properties, "description": description
    });
    for rule in ["if", "then", "anyOf"] {
        if let Some(r) = def.get(rule) {
            body[rule] = r.clone();
        }
    }
    body
}

/// A string with something in it besides white space.
fn not_blank() -> Value {
    json!({ "type": "string", "pattern": "[^\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]" })
}

/// The bodies of `POST /v1/reports/death` and `POST /v1/notices/status` (one object, or one a
/// line in NDJSON), as the parser takes them: the fields of `dmf submit`'s death_report and
/// status_notice (docs/submit.schema.json), with `type` and the field the key fixes (a
/// reporter's `source`, an authority's `authority`) free to leave out.
fn submission_schemas() -> Value {
    json!({
        "DeathReport": route_body("death_report", "source", "A report that a person died; it changes only the person it names, and is held for review when the identity it gives does not agree with the numberholder on file. As `dmf submit` takes it (docs/submit.schema.json); `type` and `source` (the key's) may be left out"),
        "StatusNotice": route_body("status_notice", "authority", "A non-death status from an issuing authority: it records the notice sent to the person and a contest deadline 10 federal working days later, and never changes the death indicator. As `dmf submit` takes it (docs/submit.schema.json); `type` and `authority` (the key's) may be left out"),
    })
}

/// The request bodies that are not submissions as a whole.
fn request_schemas() -> Value {
    let text = json!({ "type": "string" });
    json!({
        "VerifyRequest": {
            "type": "object", "additionalProperties": false, "required": ["ssn", "first", "last", "dob"],
            "properties": {
                "ssn": submit_def("ssn"),
                "first": not_blank(), "last": not_blank(),
                "dob": submit_def("partial_date")
            }
        },
        "DmfFile": { "type": "string", "description": "DMF records, 100 characters a line" },
        "Ack": { "type": "object", "additionalProperties": false, "required": ["cursor"], "properties": { "cursor": { "type": "integer", "minimum": 0 } } },
        "CorrectionRequest": submission_body("correction", &["ssn", "kind", "reason", "evidence"], &["ssn", "reason", "evidence"], "a correction as submitted, without the two people: the key's is the requester, another approves"),
        "ReviewRequest": submission_body("review", &["evidence", "reason"], &[], "evidence: how the identity was checked, required to confirm"),
        "IdentityChangeRequest": submission_body(
            "identity_change",
            &["first", "middle", "last", "suffix", "dob", "sex", "reason", "evidence"],
            &["reason", "evidence"],
            "a new name (first and last, with middle and suffix), a corrected dob (YYYY-MM-DD, YYYY-MM or YYYY) or sex (F or M): at least one"
        ),
        "Renewal": { "type": "object", "properties": { "expiry": text }, "required": ["expiry"] },
        "MatchList": {
            "type": "object", "description": "one listed person a line: id, first, middle, last, dob, ssn, case_reference (text or numbers); a line that is not such a person is answered in `errors`",
            "properties": { "id": text, "first": text, "middle": text, "last": text, "dob": text, "ssn": text, "case_reference": text }
        },
        "FhirMessage": { "type": "object", "description": "a FHIR Bundle of type message (a VRDR submission, update, void or alias, as the Vital Records FHIR Messaging guide defines them), or a Bundle of type batch whose entries are such messages", "required": ["resourceType"], "properties": { "resourceType": { "const": "Bundle" } } },
        "CaseStep": { "type": "object", "description": "verification: {method}; notice: {sent, reference}; decision: {decision}; contest and adverse-action: {}" },
    })
}

/// A generator whose schemas refer to each other as components of this document.
fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas/".into())
        .into_generator()
}

fn value(schema: schemars::Schema) -> Value {
    schema.to_value()
}

/// What an error status means on one route, where the table's general description would not say
/// how the route answers.
fn error_description(path: &str, status: u16) -> Option<&'static str> {
    Some(match (path, status) {
        ("/v1/verify/identity" | "/v1/verify/employment" | "/v1/verify/benefits", 503) => {
            "with `receipt=true`: an event the answer stands on is not in a signed checkpoint yet (the server waited 5 s for one); see Retry-After"
        }
        ("/v1/letters/{code}", 400) => {
            "the code is malformed (a character no code has, the wrong length), or a short code has a typing mistake (its check character does not match; the message says so): `path` is `code`"
        }
        ("/v1/letters/{code}", 429) => {
            "too many letters are being checked just now, by everyone together; see Retry-After"
        }
        ("/v1/letters/{code}", 404) => {
            "no letter of this registry has this code (unknown or altered)"
        }
        ("/v1/log/proof/inclusion" | "/v1/log/proof/consistency", 400) => {
            "a parameter is missing or not a number, or names a pair that cannot exist; `path` names it"
        }
        ("/v1/log/proof/inclusion" | "/v1/log/proof/consistency", 404) => {
            "no checkpoint yet, or a tree size or event beyond the log"
        }
        _ => return None,
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut g = generator();
    let schema =
        |name: &str| json!({ "schema": { "$ref": format!("#/components/schemas/{name}") } });
    let error = json!({ "schema": value(g.subschema_for::<ErrorView>()) });
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut responses = serde_json::Map::new();
        let answer = value((r.response)(&mut g));
        let mut ok =
            json!({ "description": "success", "content": { r.content: { "schema": answer } } });
        if r.path.starts_with("/v1/files/") {
            ok["headers"] = json!({ "X-DMF-Cursor": { "description": "where the next update starts", "required": true, "schema": { "type": "integer", "minimum": 0 } } });
        }
        responses.insert(r.status.to_string(), ok);
        if let Some(line) = r.bulk {
            let line = value(line(&mut g));
            responses.insert(
                "200".into(),
                json!({ "description": "an NDJSON body: one result a line, in order", "content": { NDJSON: { "schema": line } } }),
            );
        }
        for (code, description) in CODES {
            let status = code.status().as_u16();
            let description = error_description(r.path, status).unwrap_or(description);
            let applies = match status {
                401 | 403 => !r.roles.is_empty(),
                // Letter checks need no key, and share one allowance.
                429 => !r.roles.is_empty() || r.path == "/v1/letters/{code}",
                413 | 415 => r.request.is_some(),
                // A described operation's method is served.
                405 => false,
                422 => r.method.name() == "post" && !r.path.starts_with("/v1/verify"),
                // Only a receipt waits for a signed checkpoint.
                503 => crate::routes::takes_receipt(r.path),
                _ => true,
            };
            if applies {
                responses.insert(
                    status.to_string(),
                    json!({ "description": description, "content": { JSON: error.clone() } }),
                );
            }
        }
        let mut op = json!({
            "summary": r.summary,
            "parameters": parameters(r.path),
            "responses": responses,
        });
        if !r.roles.is_empty() {
            let roles: Vec<&str> = r.roles.iter().map(|role| role.code()).collect();
            op["security"] = json!([{ "bearer": [] }]);
            op["description"] = json!(format!("Roles: {}.", roles.join(", ")));
        }
        if let Some(req) = r.request {
            let content: serde_json::Map<String, Value> = r
                .takes
                .iter()
                .map(|&t| {
                    let s = if t == CSV {
                        json!({ "schema": { "type": "string", "description": "a header line naming the columns, then one listed person a line" } })
                    } else {
                        schema(req)
                    };
                    (t.to_owned(), s)
                })
                .collect();
            op["requestBody"] = json!({ "required": true, "content": content });
        }
        if let Value::Object(item) = paths.entry(r.path).or_insert_with(|| json!({})) {
            item.insert(r.method.name().into(), op);
        }
    }
    // The answers' schemas, from their types; then the request bodies, written from the
    // submission schema (a request body and an answer never share a name, but the terms of an
    // agreement are both, and are the type's).
    // The request bodies written as types.
    g.subschema_for::<crate::views::CorrectionReason>();
    g.subschema_for::<crate::views::CorrectionWithdrawal>();
    let mut schemas: serde_json::Map<String, Value> =
        g.take_definitions(true).into_iter().collect();
    for more in [request_schemas(), submission_schemas()] {
        if let Value::Object(m) = more {
            for (name, s) in m {
                schemas.entry(name).or_insert(s);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "dmf", "version": env!("CARGO_PKG_VERSION"), "description": "A master file of deaths and SSN status: verification, submissions, the signed log." },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas
        }
    })
}

/// The routes described, with the roles each admits (none: public), for tests that check
/// every route is served, described and guarded.
pub fn described() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.name(),
                r.path,
                r.roles.iter().map(|role| role.code()).collect(),
            )
        })
        .collect()
}
