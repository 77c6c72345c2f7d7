//! Reading messages and death certificate documents.
//!
//! The body is walked once (`tree`); then the message's header and Parameters (`message`) and
//! the document's decedent, dates and certifier (`document`, `dates`) are read from the few
//! resources that hold them. Every problem found is kept, not only the first, each at its
//! location.
//!
//! What is refused, and what is not:
//! - A message's MessageHeader must be its first entry. Found elsewhere it is still read, so
//!   that the extraction error names the message, and the message is refused.
//! - `MessageHeader.source` may be absent (several of the reference library's messages lack
//!   it): the answer then goes to `unknown`.
//! - A submission's key (jurisdiction, death year, certificate number) comes from its
//!   Parameters; a part they lack comes from the document's `Bundle.identifier`; a part both
//!   give must agree. A part given nowhere is a Required problem naming both places.
//! - The decedent is the Patient the Composition's subject references. No Composition, no
//!   subject, a subject naming nothing in the document or not a Patient, or a decedent with
//!   neither SSN nor name: refused, since the record cannot say whom it is about. The lone
//!   Patient of a document is not taken in their place.
//! - What the registry does not read (age, race, places, other dates, relatives) is not
//!   judged; nor is a certifier reference that names nothing: the certifier is then unknown.
//! - `Bundle.identifier` with the `vrdr_id` system must be a record identifier; without it,
//!   older documents gave the certificate number alone there, which is not read. Its
//!   CertificateNumber extension must agree with it.
//! - A partial date gives each of year, month and day as a value or as data-absent; a part
//!   missing, unknown, or out of range is a problem at its location. Documents before VRDR
//!   STU1 gave the date of death as the Observation's `effectiveDateTime`, read when the
//!   Observation has no value.

mod dates;
mod document;
mod message;
mod tree;

use std::borrow::Cow;

use crate::{DeathCertificate, Incoming, IssueCode, Problem, RecordIds, Refusal};
use tree::{Entries, Key, Obj, Text};

/// Reads a request body: one message or a batch of them. Only a body that is not JSON, or not a
/// `Bundle` at all, is refused whole.
pub fn read(bytes: &[u8]) -> Result<Incoming, Refusal> {
    let root = parse(bytes)?;
    let kind = bundle_type(&root, "Bundle").map_err(refused)?;
    match &*kind {
        "message" => Ok(Incoming::One(message::read_message(&root, "Bundle"))),
        "batch" => read_batch(&root),
        other => Err(refused(vec![not_a_message("Bundle", other)])),
    }
}

/// Reads a death certificate document (`Bundle` of type `document`) on its own.
///
/// The document's key (`Bundle.identifier`) is read when present, not required: a message's
/// Parameters normally name the record.
pub fn read_document(bytes: &[u8]) -> Result<DeathCertificate, Refusal> {
    let root = parse(bytes)?;
    let kind = bundle_type(&root, "Bundle").map_err(refused)?;
    if kind != "document" {
        return Err(refused(vec![Problem::new(
            "Bundle.type",
            IssueCode::NotSupported,
            format!("a Bundle of type {kind:?} is not a death certificate document"),
        )]));
    }
    let mut problems = Vec::new();
    let (certificate, ids) = document::read_certificate(&root, "Bundle", &mut problems);
    if problems.is_empty() {
        return Ok(certificate);
    }
    Err(Refusal {
        message_id: None,
        source: None,
        ids: certificate.key.as_ref().map(|k| RecordIds {
            key: k.value,
            state_auxiliary_id: ids.state_auxiliary_id,
        }),
        problems,
    })
}

fn parse(bytes: &[u8]) -> Result<Obj<'_>, Refusal> {
    // Some senders begin the body with a UTF-8 byte order mark, which JSON does not allow.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice::<Obj<'_>>(bytes).map_err(|e| {
        refused(vec![Problem::new(
            "Bundle",
            IssueCode::Structure,
            format!("the body is not JSON: {e}"),
        )])
    })
}

fn refused(problems: Vec<Problem>) -> Refusal {
    Refusal {
        message_id: None,
        source: None,
        ids: None,
        problems,
    }
}

/// A Bundle's `type`, or the problems that make the value at `at` not a Bundle with one.
fn bundle_type<'a>(obj: &Obj<'a>, at: &str) -> Result<Cow<'a, str>, Vec<Problem>> {
    if !obj.object {
        return Err(vec![Problem::new(
            at,
            IssueCode::Structure,
            "not a FHIR resource: a message is a JSON object, a Bundle",
        )]);
    }
    let mut problems = Vec::new();
    match &obj.resource_type {
        Some(Text::Str(t)) if t == "Bundle" => {}
        // Another resource: whether it has a `type` says nothing more.
        Some(Text::Str(t)) => {
            return Err(vec![Problem::new(
                format!("{at}.resourceType"),
                IssueCode::Structure,
                format!("a {t} is not a message: messages are Bundles of type message"),
            )]);
        }
        Some(Text::NotText) => problems.push(Problem::new(
            format!("{at}.resourceType"),
            IssueCode::Structure,
            "resourceType is text: Bundle",
        )),
        None => problems.push(Problem::new(
            format!("{at}.resourceType"),
            IssueCode::Required,
            "not a FHIR resource: no resourceType (a message is a Bundle of type message)",
        )),
    }
    let kind = match obj.text(Key::Type) {
        Some(Text::Str(kind)) => Some(kind),
        Some(Text::NotText) => {
            problems.push(Problem::new(
                format!("{at}.type"),
                IssueCode::Value,
                "Bundle.type is text such as message",
            ));
            None
        }
        None => {
            problems.push(Problem::new(
                format!("{at}.type"),
                IssueCode::Required,
                "the Bundle has no type (a message is a Bundle of type message)",
            ));
            None
        }
    };
    match kind {
        Some(kind) if problems.is_empty() => Ok(kind),
        _ => Err(problems),
    }
}

/// Why a Bundle of type `kind` at `at` is not read as a message.
fn not_a_message(at: &str, kind: &str) -> Problem {
    let at = format!("{at}.type");
    match kind {
        "document" => Problem::new(
            at,
            IssueCode::NotSupported,
            "a document is not a message: send it inside a vrdr_submission message",
        ),
        "batch" => Problem::new(
            at,
            IssueCode::NotSupported,
            "a batch inside a batch is not read: send its messages in one batch",
        ),
        "transaction"
        | "transaction-response"
        | "batch-response"
        | "history"
        | "searchset"
        | "collection"
        | "subscription-notification" => Problem::new(
            at,
            IssueCode::NotSupported,
            format!("a {kind} is not a message: send a Bundle of type message, or a batch of them"),
        ),
        _ => Problem::new(
            at,
            IssueCode::Value,
            format!("{kind:?} is not a type of Bundle (message, batch, document, ...)"),
        ),
    }
}

fn read_batch(root: &Obj<'_>) -> Result<Incoming, Refusal> {
    let entries = match &root.entry {
        Some(Entries::List(list)) if !list.is_empty() => list,
        Some(Entries::NotList) => {
            return Err(refused(vec![Problem::new(
                "Bundle.entry",
                IssueCode::Structure,
                "Bundle.entry is a list of entries",
            )]));
        }
        _ => {
            return Err(refused(vec![Problem::new(
                "Bundle.entry",
                IssueCode::Required,
                "the batch has no entries: it carries messages, one an entry",
            )]));
        }
    };
    let messages = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = format!("Bundle.entry[{i}].resource");
            let Some(resource) = entry.resource.as_ref() else {
                return Err(refused(vec![Problem::new(
                    at,
                    IssueCode::Required,
                    "an entry of a batch holds a message",
                )]));
            };
            match bundle_type(resource, &at) {
                Err(problems) => Err(refused(problems)),
                Ok(kind) if kind == "message" => message::read_message(resource, &at),
                Ok(kind) => Err(refused(vec![not_a_message(&at, &kind)])),
            }
        })
        .collect();
    Ok(Incoming::Batch(messages))
}
