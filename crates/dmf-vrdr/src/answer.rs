//! The answers a receiver gives, as the messaging guide prescribes: an acknowledgement, or an
//! extraction error naming each problem and its location.

use crate::{Problem, RecordIds};

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

/// An acknowledgement message (`vrdr_acknowledgement`, `response.code` `ok`).
pub fn acknowledgement(a: &Answer<'_>) -> serde_json::Value {
    let _ = a;
    unimplemented!("answers")
}

/// An extraction error message (`vrdr_extraction_error`, `fatal-error`), with an
/// `OperationOutcome` naming each problem and its location.
pub fn extraction_error(a: &Answer<'_>, problems: &[Problem]) -> serde_json::Value {
    let _ = (a, problems);
    unimplemented!("answers")
}

/// What an answer lacks of the elements its profile requires; empty when it is complete.
pub fn check_answer(value: &serde_json::Value) -> Vec<Problem> {
    let _ = value;
    unimplemented!("answers")
}

/// The answer to a `batch` of messages: a `batch-response` Bundle whose entries are each
/// message's answer, in order.
pub fn batch_response(
    id: &str,
    timestamp: &str,
    answers: Vec<serde_json::Value>,
) -> serde_json::Value {
    let entry: Vec<serde_json::Value> = answers
        .into_iter()
        .map(|a| {
            let ok = a
                .pointer("/entry/0/resource/response/code")
                .and_then(|c| c.as_str())
                == Some("ok");
            serde_json::json!({
                "resource": a,
                "response": { "status": if ok { "200" } else { "422" } }
            })
        })
        .collect();
    serde_json::json!({
        "resourceType": "Bundle",
        "id": id,
        "type": "batch-response",
        "timestamp": timestamp,
        "entry": entry,
    })
}
