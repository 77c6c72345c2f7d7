//! The API description served at `/openapi.json` (OpenAPI 3.1), written from one table of
//! routes so that every route is described.

use serde_json::{Value, json};

use crate::error::CODES;

/// One route: method, path, the roles it admits (empty: public), summary, request body
/// schema name and the content types it is taken in, the status, schema name and content type
/// of its success, and for the routes that take many submissions a request, the schema of a
/// line of the answer to an NDJSON body.
struct Route {
    method: &'static str,
    path: &'static str,
    roles: &'static [&'static str],
    summary: &'static str,
    request: Option<&'static str>,
    /// The content types the body is taken in (with `request`; for NDJSON, the schema is a
    /// line's).
    takes: &'static [&'static str],
    status: u16,
    response: &'static str,
    content: &'static str,
    /// An NDJSON body is answered 200 with one NDJSON line of this schema per line sent.
    bulk: Option<&'static str>,
}

const JSON: &str = "application/json";
const NDJSON: &str = "application/x-ndjson";
const CSV: &str = "text/csv";
const TEXT: &str = "text/plain";

const ROUTES: &[Route] = &[
    Route {
        method: "post",
        path: "/v1/verify/identity",
        roles: &["identity"],
        summary: "Consent-based identity check: the SSN verification code and death indicator",
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: "IdentityAnswer",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/verify/employment",
        roles: &["employment"],
        summary: "Employment eligibility: authorized, mismatch (with the contest deadline) or final nonconfirmation",
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: "EmploymentAnswer",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/verify/benefits",
        roles: &["benefits"],
        summary: "Benefit program check: code, death indicator (state-reported deaths included), suspension",
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: "BenefitsAnswer",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/verify/batch",
        roles: &["identity", "employment", "benefits"],
        summary: "NDJSON in, NDJSON out, streamed: one answer (with `line`) or error per request line, for the key's purpose; charged per line at the key's rate, and a batch over what is left of the key's daily allowance is refused whole (429) before any answer",
        request: Some("VerifyRequest"),
        takes: &[NDJSON],
        status: 200,
        response: "BatchLine",
        content: NDJSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/reports/death",
        roles: &["reporter"],
        summary: "A death report (JSON) or many (NDJSON, stored and answered in batches as the body streams, charged per line at the key's rate); the source kind is the key's",
        request: Some("DeathReport"),
        takes: &[JSON, NDJSON],
        status: 201,
        response: "SubmissionResult",
        content: JSON,
        bulk: Some("SubmissionLine"),
    },
    Route {
        method: "post",
        path: "/v1/notices/status",
        roles: &["authority"],
        summary: "A status notice (JSON) or many (NDJSON); the issuing authority is the key's",
        request: Some("StatusNotice"),
        takes: &[JSON, NDJSON],
        status: 201,
        response: "SubmissionResult",
        content: JSON,
        bulk: Some("SubmissionLine"),
    },
    Route {
        method: "get",
        path: "/v1/people/{ssn}/accounting",
        roles: &["caseworker"],
        summary: "Every disclosure of this person's record: when, to whom, for what purpose, which fields",
        request: None,
        takes: &[],
        status: 200,
        response: "Accounting",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/feed",
        roles: &["subscriber", "benefits"],
        summary: "The DMF change records (A/C/D) after `after` that this key may receive, long-polling up to `wait` seconds when there are none. Events the key may not receive are read past, up to a bound: a page is empty only when nothing came within the wait or when that bound was reached with the cursor moved on. Page on from `cursor` until it stops moving",
        request: None,
        takes: &[],
        status: 200,
        response: "FeedPage",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/feed/ack",
        roles: &["subscriber", "benefits"],
        summary: "Acknowledge that everything up to `cursor` was applied",
        request: Some("Ack"),
        takes: &[JSON],
        status: 200,
        response: "Acknowledged",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/files/full",
        roles: &["subscriber", "benefits"],
        summary: "The full DMF file this key may receive, fixed width; X-DMF-Cursor says where updates continue",
        request: None,
        takes: &[],
        status: 200,
        response: "Text",
        content: TEXT,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/files/updates",
        roles: &["subscriber", "benefits"],
        summary: "The A/C/D records since `since`, fixed width; X-DMF-Cursor says where the next update starts",
        request: None,
        takes: &[],
        status: 200,
        response: "Text",
        content: TEXT,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/held",
        roles: &["caseworker"],
        summary: "The queue: death reports and status notices held because they do not name the person on file (each differing field, reported against on file), and identity changes waiting for a second person; each person shown is accounted",
        request: None,
        takes: &[],
        status: 200,
        response: "HeldQueue",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/held/{seq}/confirm",
        roles: &["caseworker"],
        summary: "Confirm a held report or notice (the identity was checked outside, with evidence); the second confirmation, by another person, applies it",
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: "ReviewResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/held/{seq}/reject",
        roles: &["caseworker"],
        summary: "Reject a held report or notice: it never applies",
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: "ReviewResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/people/{ssn}/identity",
        roles: &["caseworker"],
        summary: "Ask for an identity change (a new name, a corrected date of birth or sex, with evidence); another person confirms it",
        request: Some("IdentityChangeRequest"),
        takes: &[JSON],
        status: 201,
        response: "ReviewResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/identity-changes/{seq}/confirm",
        roles: &["caseworker"],
        summary: "Confirm an identity change asked for by someone else: it applies",
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: "ReviewResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/identity-changes/{seq}/reject",
        roles: &["caseworker"],
        summary: "Reject an identity change: it never applies",
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: "ReviewResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/corrections",
        roles: &["caseworker"],
        summary: "Ask for a correction of a wrongly recorded death; another caseworker approves it",
        request: Some("CorrectionRequest"),
        takes: &[JSON],
        status: 201,
        response: "CorrectionRequested",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/corrections/{id}/approve",
        roles: &["caseworker"],
        summary: "Approve a correction (not its requester); it is stored and sent to every subscriber as D/C",
        request: None,
        takes: &[],
        status: 200,
        response: "SubmissionResult",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/corrections/{id}/propagation",
        roles: &["caseworker", "oversight"],
        summary: "Which subscribers received the wrong record and which have acknowledged the correction",
        request: None,
        takes: &[],
        status: 200,
        response: "Propagation",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/log/checkpoint",
        roles: &[],
        summary: "The latest signed checkpoint (C2SP signed note, text)",
        request: None,
        takes: &[],
        status: 200,
        response: "Text",
        content: TEXT,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/log/proof/inclusion",
        roles: &[],
        summary: "Inclusion proof of event `seq` in the tree of `size` (default: the latest checkpoint's); a pair that cannot exist (`seq` 0, or beyond `size`) is 400, a size or event beyond the log 404",
        request: None,
        takes: &[],
        status: 200,
        response: "Proof",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/log/proof/consistency",
        roles: &[],
        summary: "Consistency proof between trees of `from` and `to` events; a pair that cannot exist (`from` after `to`, or 0 before a tree that is not empty) is 400, a size beyond the log 404",
        request: None,
        takes: &[],
        status: 200,
        response: "Proof",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/stats",
        roles: &[],
        summary: "Events by period, type, source kind, status kind, authority and legal basis, tied to a signed tree size",
        request: None,
        takes: &[],
        status: 200,
        response: "Stats",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/alerts",
        roles: &[],
        summary: "Intake anomaly alerts: days on which a source kind or issuing authority sent far more than usual, or people far younger than deaths are; with the tree size they were computed at",
        request: None,
        takes: &[],
        status: 200,
        response: "Alerts",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/quality",
        roles: &["oversight"],
        summary: "The quality report: implausible ages and dates, overdue reports, unresolved conflicts, contested notices past their deadline; counts and examples (accounted)",
        request: None,
        takes: &[],
        status: 200,
        response: "QualityReport",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/quality/published",
        roles: &["oversight"],
        summary: "A published DMF full file (the body, 100-character lines) against what the registry publishes today for its audience: deaths missing from it, records the registry does not publish, records whose fields differ (accounted)",
        request: Some("DmfFile"),
        takes: &[TEXT],
        status: 200,
        response: "PublishedComparison",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/letters/{code}",
        roles: &[],
        summary: "Checks a correction letter's code (signed with the registry's key): the name, the SSN's last four digits and whether the correction is still in effect; a malformed code (a character no code has, the wrong length) is 400 with `path` `code`, an unknown or altered one 404",
        request: None,
        takes: &[],
        status: 200,
        response: "LetterCheck",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/agreements",
        roles: &["caseworker", "oversight"],
        summary: "Records a computer-matching agreement: parties, purpose, legal authority, the elements each side may receive, retention, start and expiry (18 months at most), whether matches may lead to adverse action, a law-enforcement criterion; inactive until a second person approves it",
        request: Some("AgreementTerms"),
        takes: &[JSON],
        status: 201,
        response: "Agreement",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/agreements",
        roles: &["caseworker", "oversight"],
        summary: "Every agreement with its status",
        request: None,
        takes: &[],
        status: 200,
        response: "Agreements",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/agreements/stats",
        roles: &["caseworker", "oversight"],
        summary: "Requests, refused requests, records, matches, disclosures and law-enforcement disclosures per agreement and period",
        request: None,
        takes: &[],
        status: 200,
        response: "ProgramStats",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/v1/agreements/{id}",
        roles: &["caseworker", "oversight", "agency"],
        summary: "An agreement, its keys and its requests with each match's due process (an agency key sees its own agreement only)",
        request: None,
        takes: &[],
        status: 200,
        response: "Agreement",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/agreements/{id}/approve",
        roles: &["oversight"],
        summary: "Approves an agreement (not by the person who recorded it)",
        request: None,
        takes: &[],
        status: 200,
        response: "Agreement",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/agreements/{id}/renew",
        roles: &["oversight"],
        summary: "Renews an agreement once, within 3 months before its expiry, for at most 12 months",
        request: Some("Renewal"),
        takes: &[JSON],
        status: 200,
        response: "Agreement",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/agreements/{id}/matches",
        roles: &["agency"],
        summary: "Matches a list (NDJSON, or CSV with Content-Type text/csv: id, first, middle, last, dob, ssn, case_reference) against the file under the key's agreement; answers only the agreed elements of matched records with the match class, nothing for the others; refused (and recorded) outside an active agreement or for elements or fields it does not name",
        request: Some("MatchList"),
        takes: &[NDJSON, JSON, CSV],
        status: 200,
        response: "MatchAnswer",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "post",
        path: "/v1/agreements/{id}/matches/{request}/{n}/{step}",
        roles: &["agency"],
        summary: "Due process of a match that may lead to adverse action: verification {method}, notice {sent, reference}, contest, decision {decision: upheld|denied}, adverse-action (refused before 30 days from the notice or while a contest is open)",
        request: Some("CaseStep"),
        takes: &[JSON],
        status: 200,
        response: "CaseState",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/healthz",
        roles: &[],
        summary: "Liveness and the number of events",
        request: None,
        takes: &[],
        status: 200,
        response: "Health",
        content: JSON,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/metrics",
        roles: &[],
        summary: "Prometheus metrics",
        request: None,
        takes: &[],
        status: 200,
        response: "Text",
        content: TEXT,
        bulk: None,
    },
    Route {
        method: "get",
        path: "/openapi.json",
        roles: &[],
        summary: "This document",
        request: None,
        takes: &[],
        status: 200,
        response: "Object",
        content: JSON,
        bulk: None,
    },
];

fn parameters(path: &str) -> Value {
    let q = |name: &str, required: bool, desc: &str| json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": "integer", "minimum": 0 } });
    match path {
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
        "/v1/corrections/{id}/approve" | "/v1/corrections/{id}/propagation" => {
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
        "/v1/letters/{code}" => {
            json!([{ "name": "code", "in": "path", "required": true, "schema": { "type": "string" }, "description": "the code printed on the letter; case, dashes and spaces do not matter" }])
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

fn schemas() -> Value {
    let mut all = base_schemas();
    for more in [program_schemas(), identity_schemas(), submission_schemas()] {
        all.as_object_mut()
            .expect("an object")
            .extend(more.as_object().expect("an object").clone());
    }
    all
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

/// The schemas of identity work: the held queue, reviews, identity changes.
fn identity_schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    let text = json!({ "type": "string" });
    let difference = s(
        json!({ "field": text, "reported": text, "on_file": text }),
        &["field", "reported", "on_file"],
    );
    let held = s(
        json!({
            "seq": { "type": "integer" }, "ssn": text, "type": { "type": "string", "enum": ["death_report", "status_notice"] },
            "reason": { "type": "string", "enum": ["identity_mismatch", "identity_incomplete", "unknown_ssn"] },
            "from": text, "received": text, "named": text, "confirmed_by": { "type": ["string", "null"] },
            "differences": { "type": "array", "items": difference }
        }),
        &[
            "seq",
            "ssn",
            "type",
            "reason",
            "from",
            "received",
            "named",
            "differences",
            "confirmed_by",
        ],
    );
    let proposed = s(
        json!({ "seq": { "type": "integer" }, "ssn": text, "requested_by": text, "reason": text }),
        &["seq", "ssn", "requested_by", "reason"],
    );
    json!({
        "HeldQueue": s(json!({
            "people": { "type": "integer" },
            "held": { "type": "array", "items": held },
            "proposed_identity_changes": { "type": "array", "items": proposed }
        }), &["people", "held", "proposed_identity_changes"]),
        "ReviewRequest": submission_body("review", &["evidence", "reason"], &[], "evidence: how the identity was checked, required to confirm"),
        "IdentityChangeRequest": submission_body(
            "identity_change",
            &["first", "middle", "last", "suffix", "dob", "sex", "reason", "evidence"],
            &["reason", "evidence"],
            "a new name (first and last, with middle and suffix), a corrected dob (YYYY-MM-DD, YYYY-MM or YYYY) or sex (F or M): at least one"
        ),
        "ReviewResult": s(json!({ "status": { "type": "string", "enum": ["accepted"] }, "seq": { "type": "integer" }, "outcome": text, "by": text }), &["status", "seq", "outcome", "by"]),
    })
}

fn base_schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
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
        "Alerts": s(json!({
            "tree_size": { "type": "integer" }, "observations": { "type": "integer" },
            "held": { "type": "array", "items": s(json!({ "group": text, "reason": text, "count": { "type": "integer" } }), &["group", "reason", "count"]) },
            "alerts": { "type": "array", "items": s(json!({
                "day": text, "group": text, "kind": { "type": "string", "enum": ["volume", "age", "identity_mismatch"] },
                "count": { "type": "integer" }, "median_age": { "type": ["integer", "null"] },
                "detail": text, "tree_size": { "type": "integer" }
            }), &["day", "group", "kind", "count", "median_age", "detail", "tree_size"]) }
        }), &["tree_size", "observations", "alerts"]),
        "QualityReport": s(json!({
            "today": text, "events": { "type": "integer" }, "people": { "type": "integer" },
            "findings": { "type": "array", "items": s(json!({
                "code": text, "description": text, "count": { "type": "integer" },
                "samples": { "type": "array", "items": s(json!({ "ssn": text, "detail": text }), &["ssn", "detail"]) }
            }), &["code", "description", "count", "samples"]) }
        }), &["today", "events", "people", "findings"]),
        "PublishedComparison": s(json!({
            "today": text, "events": { "type": "integer" },
            "findings": { "type": "array", "items": s(json!({
                "code": { "type": "string", "enum": ["published_missing", "published_not_in_registry", "published_differs"] },
                "description": text, "count": { "type": "integer" },
                "samples": { "type": "array", "items": s(json!({ "ssn": text, "detail": text }), &["ssn", "detail"]) }
            }), &["code", "description", "count", "samples"]) }
        }), &["today", "events", "findings"]),
        "DmfFile": { "type": "string", "description": "DMF records, 100 characters a line" },
        "LetterCheck": s(json!({
            "valid": { "type": "boolean" }, "correction_seq": { "type": "integer" }, "corrected_at": text,
            "first": text, "last": text, "ssn_last4": text, "in_effect": { "type": "boolean" },
            "statement": text, "signed_by": text
        }), &["valid", "correction_seq", "corrected_at", "first", "last", "ssn_last4", "in_effect", "statement", "signed_by"]),
        "IdentityAnswer": s(json!({ "purpose": text, "code": { "type": "string", "enum": ["V", "1", "3", "5", "X"] }, "deceased": { "type": "boolean" }, "presumed_deceased": { "type": "boolean", "description": "present (true) only when the record is presumed deceased by age: never a recorded death" } }), &["purpose", "code", "deceased"]),
        "EmploymentAnswer": s(json!({ "purpose": text, "result": { "type": "string", "enum": ["authorized", "mismatch", "final_nonconfirmation"] }, "reason": text, "contest_deadline": { "type": ["string", "null"] }, "contested": { "type": "boolean" } }), &["purpose", "result"]),
        "BenefitsAnswer": s(json!({ "purpose": text, "code": text, "deceased": { "type": "boolean" }, "suspended": { "type": "boolean" }, "presumed_deceased": { "type": "boolean", "description": "present (true) only when the record is presumed deceased by age" } }), &["purpose", "code", "deceased", "suspended"]),
        "BatchLine": {
            "type": "object", "description": "an answer of the key's purpose with `line`, or {line, error}; a body over the limit ends the answer with an error line without `line`",
            "properties": { "line": { "type": "integer", "minimum": 1 }, "purpose": text, "error": { "$ref": "#/components/schemas/ErrorBody" } },
            "anyOf": [{ "required": ["line", "purpose"] }, { "required": ["error"] }]
        },
        "SubmissionResult": s(json!({ "status": { "type": "string", "enum": ["accepted"] }, "seq": { "type": "integer" }, "outcome": text }), &["status", "seq", "outcome"]),
        "SubmissionLine": {
            "type": "object", "description": "the result of one line: accepted (as SubmissionResult) or rejected, with the path and reason",
            "properties": { "line": { "type": "integer", "minimum": 1 }, "status": { "type": "string", "enum": ["accepted", "rejected"] }, "seq": { "type": "integer" }, "outcome": text, "path": text, "reason": text },
            "required": ["line", "status"],
            "oneOf": [
                { "properties": { "status": { "const": "accepted" } }, "required": ["seq", "outcome"] },
                { "properties": { "status": { "const": "rejected" } }, "required": ["path", "reason"] }
            ]
        },
        "Accounting": s(json!({ "ssn": text, "disclosures": { "type": "array", "items": s(json!({ "at": text, "to": text, "key_id": { "type": "integer" }, "purpose": text, "fields": { "type": "array", "items": text } }), &["at", "to", "purpose", "fields"]) } }), &["ssn", "disclosures"]),
        "Proof": { "type": "object", "properties": { "type": { "type": "string", "enum": ["inclusion", "consistency"] }, "proof": { "type": "array", "items": text } }, "required": ["type", "proof"] },
        "Stats": s(json!({
            "log_origin": { "type": "string", "description": "the log counted, as its checkpoints name it" },
            "period": { "type": "string", "enum": ["day", "month"] },
            "tree_size": { "type": "integer", "description": "the leaves counted: the first tree_size events" },
            "root": { "type": "string", "description": "the root of that tree, base64, as in its checkpoint" },
            "rows": { "type": "array", "items": s(json!({
                "date": { "type": "string", "description": "the day (YYYY-MM-DD) or month (YYYY-MM) counted" },
                "type": text, "source": { "type": ["string", "null"] },
                "origin": { "type": ["string", "null"], "description": "the events' origin, as in their leaves" },
                "kind": { "type": ["string", "null"] }, "authority": { "type": ["string", "null"] },
                "legal_basis": { "type": ["string", "null"] },
                "decision": { "type": "string", "enum": ["upheld", "denied"], "description": "contest decisions only" },
                "count": { "type": "integer" }
            }), &["date", "type", "source", "origin", "kind", "authority", "legal_basis", "count"]) }
        }), &["log_origin", "period", "tree_size", "root", "rows"]),
        "FeedPage": s(json!({ "cursor": { "type": "integer" }, "records": { "type": "array", "items": s(json!({ "change": { "type": "string", "enum": ["A", "C", "D"] }, "ssn": text, "line": { "type": "string", "minLength": 100, "maxLength": 100 } }), &["change", "ssn", "line"]) } }), &["cursor", "records"]),
        "Ack": { "type": "object", "additionalProperties": false, "required": ["cursor"], "properties": { "cursor": { "type": "integer", "minimum": 0 } } },
        "Acknowledged": s(json!({ "acknowledged": { "type": "integer" } }), &["acknowledged"]),
        "CorrectionRequest": submission_body("correction", &["ssn", "kind", "reason", "evidence"], &["ssn", "reason", "evidence"], "a correction as submitted, without the two people: the key's is the requester, another approves"),
        "CorrectionRequested": s(json!({ "id": { "type": "integer" }, "status": text, "ssn": text, "requested_by": text }), &["id", "status"]),
        "Propagation": s(json!({ "id": { "type": "integer" }, "status": text, "seq": { "type": "integer" }, "complete": { "type": "boolean" }, "subscribers": { "type": "array", "items": { "type": "object" } } }), &["id", "status", "subscribers"]),
        "Health": s(json!({ "status": text, "events": { "type": "integer" } }), &["status", "events"]),
        "Text": text,
        "Object": { "type": "object" },
        "Error": { "type": "object", "required": ["error"], "properties": { "error": { "$ref": "#/components/schemas/ErrorBody" } } },
        "ErrorBody": s(json!({
            "code": { "type": "string", "enum": CODES.iter().map(|(c, _)| c.name()).collect::<Vec<_>>() },
            "message": text, "path": text
        }), &["code", "message"])
    })
}

/// The schemas of computer-matching programs.
fn program_schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    let text = json!({ "type": "string" });
    json!({
        "AgreementTerms": {
            "type": "object", "additionalProperties": false,
            "required": ["recipient", "source", "purpose", "legal_authority", "recipient_receives", "source_receives", "retention_days", "start", "expiry"],
            "properties": {
                "recipient": text, "source": text, "purpose": text, "legal_authority": text,
                "recipient_receives": { "type": "array", "items": { "type": "string", "enum": ["ssn", "name", "dob", "deceased", "date_of_death", "death_source", "status"] } },
                "source_receives": { "type": "array", "items": { "type": "string", "enum": ["name", "dob", "ssn"] } },
                "retention_days": { "type": "integer", "minimum": 1, "maximum": 3650 },
                "start": text, "expiry": text, "adverse_action": { "type": "boolean" },
                "law_enforcement_criterion": { "type": ["string", "null"] }
            }
        },
        "Agreement": {
            "type": "object",
            "required": ["id", "status", "terms", "expiry_in_force", "created_by", "created_on", "approved_by", "approved_on", "renewed_to", "renewed_by", "keys"],
            "properties": {
                "id": { "type": "integer" },
                "status": { "type": "string", "enum": ["awaiting_approval", "not_started", "active", "expired"] },
                "terms": { "$ref": "#/components/schemas/AgreementTerms" },
                "expiry_in_force": { "type": "string", "description": "the expiry, or the renewal's when renewed" },
                "created_by": text, "created_on": text,
                "approved_by": { "type": ["string", "null"] }, "approved_on": { "type": ["string", "null"] },
                "renewed_to": { "type": ["string", "null"] }, "renewed_by": { "type": ["string", "null"] },
                "keys": { "type": "array", "items": text, "description": "the names of the agency keys bound to it" },
                "requests": { "type": "array", "items": { "type": "object" }, "description": "GET of one agreement only: its match requests, each match's due process" }
            }
        },
        "Agreements": s(json!({ "agreements": { "type": "array", "items": { "$ref": "#/components/schemas/Agreement" } } }), &["agreements"]),
        "ProgramStats": s(json!({ "rows": { "type": "array", "items": { "type": "object" } } }), &["rows"]),
        "Renewal": s(json!({ "expiry": text }), &["expiry"]),
        "MatchList": {
            "type": "object", "description": "one listed person a line: id, first, middle, last, dob, ssn, case_reference (text or numbers); a line that is not such a person is answered in `errors`",
            "properties": { "id": text, "first": text, "middle": text, "last": text, "dob": text, "ssn": text, "case_reference": text }
        },
        "MatchAnswer": s(json!({
            "request": { "type": "integer" }, "agreement": { "type": "integer" }, "records": { "type": "integer" },
            "matched": { "type": "integer" }, "elements": { "type": "array", "items": text },
            "matches": { "type": "array", "items": { "type": "object" } },
            "errors": { "type": "array", "items": s(json!({ "line": { "type": "integer" }, "path": text, "message": text }), &["line", "path", "message"]) }
        }), &["request", "agreement", "records", "matched", "elements", "matches", "errors"]),
        "CaseStep": { "type": "object", "description": "verification: {method}; notice: {sent, reference}; decision: {decision}; contest and adverse-action: {}" },
        "CaseState": s(json!({ "agreement": { "type": "integer" }, "request": { "type": "integer" }, "match": { "type": "integer" }, "class": { "type": "integer" }, "status": text }), &["agreement", "request", "match", "class", "status"]),
    })
}

/// What an error status means on one route, where the table's general description would not say
/// how the route answers.
fn error_description(path: &str, status: u16) -> Option<&'static str> {
    Some(match (path, status) {
        ("/v1/letters/{code}", 400) => {
            "the code is malformed (a character no code has, the wrong length): `path` is `code`"
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
    let schema =
        |name: &str| json!({ "schema": { "$ref": format!("#/components/schemas/{name}") } });
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut responses = serde_json::Map::new();
        let mut ok =
            json!({ "description": "success", "content": { r.content: schema(r.response) } });
        if r.path.starts_with("/v1/files/") {
            ok["headers"] = json!({ "X-DMF-Cursor": { "description": "where the next update starts", "required": true, "schema": { "type": "integer", "minimum": 0 } } });
        }
        responses.insert(r.status.to_string(), ok);
        if let Some(line) = r.bulk {
            responses.insert(
                "200".into(),
                json!({ "description": "an NDJSON body: one result a line, in order", "content": { NDJSON: schema(line) } }),
            );
        }
        for (code, description) in CODES {
            let status = code.status().as_u16();
            let description = error_description(r.path, status).unwrap_or(description);
            let applies = match status {
                401 | 403 | 429 => !r.roles.is_empty(),
                413 | 415 => r.request.is_some(),
                // A described operation's method is served.
                405 => false,
                422 => r.method == "post" && !r.path.starts_with("/v1/verify"),
                _ => true,
            };
            if applies {
                responses.insert(
                    status.to_string(),
                    json!({ "description": description, "content": { JSON: schema("Error") } }),
                );
            }
        }
        let mut op = json!({
            "summary": r.summary,
            "parameters": parameters(r.path),
            "responses": responses,
        });
        if !r.roles.is_empty() {
            op["security"] = json!([{ "bearer": [] }]);
            op["description"] = json!(format!("Roles: {}.", r.roles.join(", ")));
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
        paths
            .entry(r.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(r.method.into(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "dmf", "version": env!("CARGO_PKG_VERSION"), "description": "A master file of deaths and SSN status: verification, submissions, the signed log." },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas()
        }
    })
}

/// The roles a described route admits and the content types it takes its body in (`None`: not
/// a described route, or one without a body), for the check in front of every handler.
pub fn takes(
    method: &str,
    path: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path && r.request.is_some())
        .map(|r| (r.roles, r.takes))
}

/// The routes described, with the roles each admits (none: public), for tests that check
/// every route is served, described and guarded.
pub fn described() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    ROUTES.iter().map(|r| (r.method, r.path, r.roles)).collect()
}
