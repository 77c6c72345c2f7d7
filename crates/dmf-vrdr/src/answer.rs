//! The answers a receiver gives, as the messaging guide prescribes: an acknowledgement, or an
//! extraction error naming each problem and its location.
//!
//! Both are Bundles of type message: the MessageHeader first (its `response.identifier` the id
//! of the message answered, its `focus` the Parameters), then Parameters naming the record,
//! then for an extraction error the OperationOutcome the header's `response.details` names.

use serde_json::{Map, Value, json};

use crate::{IssueCode, Problem, RecordIds, event_uri};

const PROFILES: &str = "http://cdc.gov/nchs/nvss/fhir/vital-records-messaging/StructureDefinition/";

/// The answer to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<'a> {
    /// A new id for the answer (a UUID), chosen by the caller.
    pub id: &'a str,
    /// The id of the message answered (`MessageHeader.id`), if it could be read.
    pub acknowledged: Option<&'a str>,
    /// Where the answer goes: the message's source endpoint.
    pub destination: Option<&'a str>,
    /// The receiver's endpoint.
    pub source: &'a str,
    /// `Bundle.timestamp`, RFC 3339.
    pub timestamp: &'a str,
    pub ids: Option<&'a RecordIds>,
    /// For a void: the block count acknowledged.
    pub block_count: Option<u32>,
    /// What the registry did, as `registry_outcome` (`deceased`, `held`, `duplicate`, …),
    /// and notes in words as `registry_note`, in the answer's Parameters.
    pub outcome: Option<&'a str>,
    pub notes: &'a [String],
}

/// What stands in for an unknown message id or destination: both elements are required.
const UNKNOWN: &str = "unknown";

/// An acknowledgement message (`vrdr_acknowledgement`, `response.code` `ok`).
pub fn acknowledgement(a: &Answer<'_>) -> Value {
    message(a, Kind::Acknowledgement, &[])
}

/// An extraction error message (`vrdr_extraction_error`, `fatal-error`), with an
/// `OperationOutcome` naming each problem and its location.
pub fn extraction_error(a: &Answer<'_>, problems: &[Problem]) -> Value {
    message(a, Kind::ExtractionError, problems)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Acknowledgement,
    ExtractionError,
}

/// The id of one of the answer's resources. A UUID answer id gives sibling UUIDs (its last
/// byte changed), so that every `fullUrl` is a valid `urn:uuid:`; any other id gets a suffix.
fn part_id(id: &str, role: u8, suffix: &str) -> String {
    let b = id.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if !uuid {
        return format!("{id}-{suffix}");
    }
    let last = u8::from_str_radix(&id[34..], 16).expect("hex digits");
    format!("{}{:02x}", &id[..34], last ^ role)
}

/// A text the answer must carry, or `unknown` where the message gave none (or gave it empty).
fn known(text: Option<&str>) -> &str {
    text.filter(|t| !t.trim().is_empty()).unwrap_or(UNKNOWN)
}

fn message(a: &Answer<'_>, kind: Kind, problems: &[Problem]) -> Value {
    let header_id = part_id(a.id, 1, "header");
    let params_id = part_id(a.id, 2, "parameters");
    let outcome_id = part_id(a.id, 3, "outcome");
    let (profile, header_profile, event, code) = match kind {
        Kind::Acknowledgement => (
            "VRM-AcknowledgementMessage",
            "VRM-AcknowledgementHeader",
            event_uri::ACKNOWLEDGEMENT,
            "ok",
        ),
        Kind::ExtractionError => (
            "VRM-ExtractionErrorMessage",
            "VRM-ExtractionErrorHeader",
            event_uri::EXTRACTION_ERROR,
            "fatal-error",
        ),
    };
    let mut response = json!({
        "identifier": known(a.acknowledged),
        "code": code,
    });
    if kind == Kind::ExtractionError {
        response["details"] = json!({ "reference": format!("urn:uuid:{outcome_id}") });
    }
    // Trees already built are moved in afterwards: `json!` would copy each.
    let mut header = json!({
        "resourceType": "MessageHeader",
        "id": header_id,
        "meta": { "profile": [format!("{PROFILES}{header_profile}")] },
        "eventUri": event,
        "destination": [{ "endpoint": known(a.destination) }],
        "source": { "endpoint": a.source },
        "focus": [{ "reference": format!("urn:uuid:{params_id}") }],
    });
    header["response"] = response;
    let mut entries = vec![
        entry(&header_id, header),
        entry(&params_id, parameters(a, &params_id)),
    ];
    if kind == Kind::ExtractionError {
        entries.push(entry(&outcome_id, outcome(&outcome_id, problems)));
    }
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": a.id,
        "meta": { "profile": [format!("{PROFILES}{profile}")] },
        "type": "message",
        "timestamp": a.timestamp,
    });
    bundle["entry"] = Value::Array(entries);
    bundle
}

fn entry(id: &str, resource: Value) -> Value {
    let mut e = json!({ "fullUrl": format!("urn:uuid:{id}") });
    e["resource"] = resource;
    e
}

fn parameters(a: &Answer<'_>, id: &str) -> Value {
    let mut list = Vec::new();
    let mut push = |name: &str, key: &str, value: Value| {
        let mut p = Map::new();
        p.insert("name".to_owned(), Value::from(name));
        p.insert(key.to_owned(), value);
        list.push(Value::Object(p));
    };
    if let Some(ids) = a.ids {
        push(
            "jurisdiction_id",
            "valueString",
            ids.key.jurisdiction.as_str().into(),
        );
        push("cert_no", "valueUnsignedInt", ids.key.number.into());
        push("death_year", "valueUnsignedInt", ids.key.year.into());
        if let Some(aux) = &ids.state_auxiliary_id {
            push("state_auxiliary_id", "valueString", aux.as_str().into());
        }
    }
    if let Some(count) = a.block_count {
        push("block_count", "valueUnsignedInt", count.into());
    }
    if let Some(outcome) = a.outcome {
        push("registry_outcome", "valueString", outcome.into());
    }
    for note in a.notes {
        push("registry_note", "valueString", note.as_str().into());
    }
    let mut parameters = json!({
        "resourceType": "Parameters",
        "id": id,
        "meta": { "profile": [format!("{PROFILES}VRM-MessageParameters")] },
    });
    parameters["parameter"] = Value::Array(list);
    parameters
}

fn outcome(id: &str, problems: &[Problem]) -> Value {
    let mut issues: Vec<Value> = problems
        .iter()
        .map(|p| {
            json!({
                "severity": "error",
                "code": p.code.code(),
                "diagnostics": p.reason,
                "expression": [p.location],
            })
        })
        .collect();
    if issues.is_empty() {
        // An extraction error always says something; the profile wants one issue at least.
        issues.push(json!({
            "severity": "error",
            "code": IssueCode::Structure.code(),
            "diagnostics": "the message was refused",
            "expression": ["Bundle"],
        }));
    }
    let mut outcome = json!({
        "resourceType": "OperationOutcome",
        "id": id,
        "meta": { "profile": [format!("{PROFILES}VRM-Outcome")] },
    });
    outcome["issue"] = Value::Array(issues);
    outcome
}

fn lack(lacks: &mut Vec<Problem>, location: String, code: IssueCode, reason: &str) {
    lacks.push(Problem::new(location, code, reason));
}

/// What an answer lacks of the elements its profile requires; empty when it is complete.
///
/// Checked: the Bundle (type message, id, timestamp), the MessageHeader first with its id,
/// eventUri (an acknowledgement or an extraction error), source and destination endpoints,
/// `response.identifier` and `response.code` (`ok`, or `fatal-error`), a focus that resolves
/// to an entry; Parameters (required in an acknowledgement) that name a record wholly or not
/// at all; for an extraction error, `response.details` resolving to an OperationOutcome with
/// at least one issue, each with a severity and a code. `meta.profile` is not required: the
/// reference library's own answers do without it.
pub fn check_answer(value: &Value) -> Vec<Problem> {
    let mut lacks = Vec::new();
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };

    if value.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        lack(
            &mut lacks,
            "Bundle.resourceType".into(),
            IssueCode::Structure,
            "an answer is a Bundle",
        );
        return lacks;
    }
    if value.get("type").and_then(Value::as_str) != Some("message") {
        lack(
            &mut lacks,
            "Bundle.type".into(),
            IssueCode::Value,
            "an answer is a Bundle of type message",
        );
    }
    if text(value, "id").is_none() {
        lack(
            &mut lacks,
            "Bundle.id".into(),
            IssueCode::Required,
            "the Bundle has an id",
        );
    }
    if text(value, "timestamp").is_none() {
        lack(
            &mut lacks,
            "Bundle.timestamp".into(),
            IssueCode::Required,
            "the Bundle has a timestamp",
        );
    }
    let entries = value
        .get("entry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let resource = |k: usize| entries.get(k).and_then(|e| e.get("resource"));
    let is = |k: usize, ty: &str| {
        resource(k)
            .and_then(|r| r.get("resourceType"))
            .and_then(Value::as_str)
            == Some(ty)
    };
    let resolve = |reference: &str| -> Option<usize> {
        (0..entries.len()).find(|&k| {
            let full_url = entries[k].get("fullUrl").and_then(Value::as_str);
            let r = resource(k);
            let ty = r.and_then(|r| r.get("resourceType")).and_then(Value::as_str);
            let id = r.and_then(|r| r.get("id")).and_then(Value::as_str);
            full_url == Some(reference)
                || reference.strip_prefix("urn:uuid:").is_some_and(|u| id == Some(u))
                || matches!((ty, id), (Some(t), Some(i)) if reference == format!("{t}/{i}") || reference.ends_with(&format!("/{t}/{i}")))
                || (!reference.contains(['/', ':']) && id == Some(reference))
        })
    };
    if !is(0, "MessageHeader") {
        lack(
            &mut lacks,
            "Bundle.entry[0].resource".into(),
            IssueCode::Required,
            "the first entry of a message is its MessageHeader",
        );
        return lacks;
    }
    let h = resource(0).expect("checked above");
    let at = "Bundle.entry[0].resource";
    if text(h, "id").is_none() {
        lack(
            &mut lacks,
            format!("{at}.id"),
            IssueCode::Required,
            "the MessageHeader has an id",
        );
    }
    let kind = match h.get("eventUri").and_then(Value::as_str) {
        Some(event_uri::ACKNOWLEDGEMENT) => Some(Kind::Acknowledgement),
        Some(event_uri::EXTRACTION_ERROR) => Some(Kind::ExtractionError),
        Some(_) => {
            lack(
                &mut lacks,
                format!("{at}.eventUri"),
                IssueCode::Value,
                "an answer is an acknowledgement or an extraction error",
            );
            None
        }
        None => {
            lack(
                &mut lacks,
                format!("{at}.eventUri"),
                IssueCode::Required,
                "the MessageHeader has an eventUri",
            );
            None
        }
    };
    if h.get("source").and_then(|s| text(s, "endpoint")).is_none() {
        lack(
            &mut lacks,
            format!("{at}.source.endpoint"),
            IssueCode::Required,
            "the MessageHeader names its source endpoint",
        );
    }
    match h.get("destination").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            for (i, d) in list.iter().enumerate() {
                if text(d, "endpoint").is_none() {
                    lack(
                        &mut lacks,
                        format!("{at}.destination[{i}].endpoint"),
                        IssueCode::Required,
                        "each destination has an endpoint",
                    );
                }
            }
        }
        _ => lack(
            &mut lacks,
            format!("{at}.destination"),
            IssueCode::Required,
            "the MessageHeader names its destination",
        ),
    }
    let response = h.get("response");
    if response.and_then(|r| text(r, "identifier")).is_none() {
        lack(
            &mut lacks,
            format!("{at}.response.identifier"),
            IssueCode::Required,
            "an answer names the message it answers",
        );
    }
    let code = response.and_then(|r| r.get("code")).and_then(Value::as_str);
    match (kind, code) {
        (Some(Kind::Acknowledgement), Some("ok"))
        | (Some(Kind::ExtractionError), Some("fatal-error"))
        | (None, _) => {}
        (Some(Kind::Acknowledgement), _) => lack(
            &mut lacks,
            format!("{at}.response.code"),
            IssueCode::Value,
            "an acknowledgement's response.code is ok",
        ),
        (Some(Kind::ExtractionError), _) => lack(
            &mut lacks,
            format!("{at}.response.code"),
            IssueCode::Value,
            "an extraction error's response.code is fatal-error",
        ),
    }
    let focus: Vec<&str> = h
        .get("focus")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("reference").and_then(Value::as_str))
        .collect();
    if focus.is_empty() {
        lack(
            &mut lacks,
            format!("{at}.focus"),
            IssueCode::Required,
            "the MessageHeader's focus names the Parameters",
        );
    }
    for (i, reference) in focus.iter().enumerate() {
        if resolve(reference).is_none() {
            lack(
                &mut lacks,
                format!("{at}.focus[{i}].reference"),
                IssueCode::Value,
                "the focus names no entry of the Bundle",
            );
        }
    }
    let params = focus
        .iter()
        .filter_map(|r| resolve(r))
        .find(|&k| is(k, "Parameters"))
        .or_else(|| (0..entries.len()).find(|&k| is(k, "Parameters")));
    match params {
        None if kind == Some(Kind::Acknowledgement) => {
            lack(
                &mut lacks,
                "Bundle.entry".into(),
                IssueCode::Required,
                "an acknowledgement carries Parameters naming the record",
            );
        }
        None => {}
        Some(k) => {
            let names: Vec<&str> = resource(k)
                .and_then(|p| p.get("parameter"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("name").and_then(Value::as_str))
                .collect();
            let key = ["jurisdiction_id", "cert_no", "death_year"];
            if key.iter().any(|n| names.contains(n)) {
                for n in key.iter().filter(|n| !names.contains(n)) {
                    lacks.push(Problem::new(
                        format!("Bundle.entry[{k}].resource.parameter"),
                        IssueCode::Required,
                        format!("the record is named in part only: no {n}"),
                    ));
                }
            }
        }
    }
    if kind == Some(Kind::ExtractionError) {
        let details = response
            .and_then(|r| r.get("details"))
            .and_then(|d| d.get("reference"))
            .and_then(Value::as_str);
        let outcome = match details {
            None => {
                lacks.push(Problem::new(
                    format!("{at}.response.details"),
                    IssueCode::Required,
                    "an extraction error names its OperationOutcome in response.details",
                ));
                None
            }
            Some(r) => match resolve(r) {
                Some(k) if is(k, "OperationOutcome") => Some(k),
                _ => {
                    lacks.push(Problem::new(
                        format!("{at}.response.details.reference"),
                        IssueCode::Value,
                        "response.details names no OperationOutcome of the Bundle",
                    ));
                    None
                }
            },
        };
        if let Some(k) = outcome {
            let issues = resource(k)
                .and_then(|o| o.get("issue"))
                .and_then(Value::as_array);
            match issues {
                Some(list) if !list.is_empty() => {
                    for (i, issue) in list.iter().enumerate() {
                        let severity = issue.get("severity").and_then(Value::as_str);
                        if !matches!(
                            severity,
                            Some("fatal" | "error" | "warning" | "information")
                        ) {
                            lacks.push(Problem::new(
                                format!("Bundle.entry[{k}].resource.issue[{i}].severity"),
                                IssueCode::Required,
                                "each issue has a severity: fatal, error, warning or information",
                            ));
                        }
                        if text(issue, "code").is_none() {
                            lacks.push(Problem::new(
                                format!("Bundle.entry[{k}].resource.issue[{i}].code"),
                                IssueCode::Required,
                                "each issue has a code",
                            ));
                        }
                    }
                }
                _ => lacks.push(Problem::new(
                    format!("Bundle.entry[{k}].resource.issue"),
                    IssueCode::Required,
                    "the OperationOutcome has at least one issue",
                )),
            }
        }
    }
    lacks
}

/// The answer to a `batch` of messages: a `batch-response` Bundle whose entries are each
/// message's answer, in order.
pub fn batch_response(id: &str, timestamp: &str, answers: Vec<Value>) -> Value {
    // Each answer is moved in, not written through `json!` (which would copy every tree).
    let entry: Vec<Value> = answers
        .into_iter()
        .map(|a| {
            let ok = a
                .pointer("/entry/0/resource/response/code")
                .and_then(Value::as_str)
                == Some("ok");
            let mut e = serde_json::Map::new();
            e.insert("resource".into(), a);
            e.insert(
                "response".into(),
                json!({ "status": if ok { "200" } else { "422" } }),
            );
            Value::Object(e)
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "id": id,
        "type": "batch-response",
        "timestamp": timestamp,
    });
    bundle["entry"] = Value::Array(entry);
    bundle
}
