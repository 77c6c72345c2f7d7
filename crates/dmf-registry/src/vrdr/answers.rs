//! A request's messages read, stored and answered: an acknowledgement or an extraction error
//! for each, as the messaging guide prescribes, for the server and the command line alike.

use dmf_ledger::leaf::format_time;
use dmf_vrdr::answer::{self, Answer};
use dmf_vrdr::{Body, Incoming, Jurisdiction, Message, Problem, RecordIds, Refusal};

use super::{Handled, Receipt, Sender, handle};
use crate::registry::{Registry, RegistryError};

/// The endpoint the registry names as the source of its answers.
pub const ENDPOINT: &str = "urn:dmf:vrdr";

/// A request body as read: one message or a batch, each read or refused.
#[derive(Debug)]
pub struct Read {
    pub batch: bool,
    pub messages: Vec<Result<Message, Refusal>>,
}

/// Reads a request body or a file: one message, or a `batch` Bundle of them.
pub fn read(bytes: &[u8]) -> Read {
    match dmf_vrdr::read(bytes) {
        Err(refusal) => Read {
            batch: false,
            messages: vec![Err(refusal)],
        },
        Ok(Incoming::One(m)) => Read {
            batch: false,
            messages: vec![m],
        },
        Ok(Incoming::Batch(ms)) => Read {
            batch: true,
            messages: ms,
        },
    }
}

/// One message's answer.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The FHIR answer message.
    pub answer: serde_json::Value,
    /// An acknowledgement (not an extraction error).
    pub ok: bool,
    /// The id of the message answered, if it could be read.
    pub message: Option<String>,
    /// What was done, in one line: the outcome and notes, or each problem and its location.
    pub summary: String,
}

/// A new id for an answer: a random UUID (version 4).
fn uuid() -> String {
    let mut b = [0u8; 16];
    // Without randomness the id is still unique within the bundle it names.
    let _ = getrandom::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The record identifiers a message carries, for its answer.
fn ids_of(message: &Message) -> Option<&RecordIds> {
    match &message.body {
        Body::Submission(r) | Body::Update(r) => Some(&r.ids),
        Body::Void(v) => Some(&v.ids),
        Body::Alias(a) => Some(&a.ids),
        Body::Acknowledgement(r) | Body::ExtractionError(r) | Body::Status(r) => r.ids.as_ref(),
        Body::Coding(c) => c.ids.as_ref(),
    }
}

fn said(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One message's answer from what the registry did with it (one result, or one per record of
/// a void's block).
fn answer_message(message: &Message, handled: &[Handled], when: &str) -> Answered {
    let id = uuid();
    let block_count = match &message.body {
        Body::Void(v) => Some(v.block_count),
        _ => None,
    };
    let problems: Vec<Problem> = handled
        .iter()
        .filter_map(|h| h.as_ref().err())
        .flatten()
        .cloned()
        .collect();
    let receipts: Vec<&Receipt> = handled.iter().filter_map(|h| h.as_ref().ok()).collect();
    let mut notes: Vec<String> = Vec::new();
    let outcome = match receipts.as_slice() {
        [one] if handled.len() == 1 => {
            notes.extend(one.notes.iter().cloned());
            Some(one.outcome)
        }
        many => {
            // A block: each record's outcome in a note of its own.
            let keys: Vec<String> = match &message.body {
                Body::Void(v) => v.keys().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            };
            for (key, h) in keys.iter().zip(handled) {
                if let Ok(r) = h {
                    notes.push(format!("{key}: {}", r.outcome));
                }
            }
            (!many.is_empty()).then_some("block")
        }
    };
    let a = Answer {
        id: &id,
        acknowledged: Some(&message.id),
        destination: message.source.as_deref(),
        source: ENDPOINT,
        timestamp: when,
        ids: ids_of(message),
        block_count,
        outcome,
        notes: &notes,
    };
    let message_id = Some(message.id.clone());
    if problems.is_empty() {
        let mut summary = outcome.unwrap_or("acknowledged").to_owned();
        if !notes.is_empty() {
            summary = format!("{summary} ({})", notes.join("; "));
        }
        Answered {
            answer: answer::acknowledgement(&a),
            ok: true,
            message: message_id,
            summary,
        }
    } else {
        Answered {
            answer: answer::extraction_error(&a, &problems),
            ok: false,
            message: message_id,
            summary: format!("refused: {}", said(&problems)),
        }
    }
}

/// A message that could not be read, answered.
fn answer_refusal(refusal: &Refusal, when: &str) -> Answered {
    let id = uuid();
    let a = Answer {
        id: &id,
        acknowledged: refusal.message_id.as_deref(),
        destination: refusal.source.as_deref(),
        source: ENDPOINT,
        timestamp: when,
        ids: refusal.ids.as_ref(),
        block_count: None,
        outcome: None,
        notes: &[],
    };
    Answered {
        answer: answer::extraction_error(&a, &refusal.problems),
        ok: false,
        message: refusal.message_id.clone(),
        summary: format!("refused: {}", said(&refusal.problems)),
    }
}

/// Stores what the messages read ask, and answers each, in order; from a state bound to
/// `jurisdiction` (`None`: any, for the operator).
pub fn store_and_answer(
    registry: &Registry,
    read: &Read,
    jurisdiction: Option<Jurisdiction>,
    today: dmf_model::Date,
    recorded_at: i64,
) -> Result<Vec<Answered>, RegistryError> {
    let mut all = store_and_answer_all(registry, &[(read, jurisdiction)], today, recorded_at)?;
    Ok(all.pop().unwrap_or_default())
}

/// As [`store_and_answer`] for the bodies of several senders at once, stored together (one
/// durable transaction where their records are all distinct): the answers of each body.
pub fn store_and_answer_all(
    registry: &Registry,
    reads: &[(&Read, Option<Jurisdiction>)],
    today: dmf_model::Date,
    recorded_at: i64,
) -> Result<Vec<Vec<Answered>>, RegistryError> {
    // RFC 3339 in UTC, as FHIR's `instant` and the log's leaves write time.
    let when = format_time(recorded_at);
    let messages: Vec<(&Message, Sender)> = reads
        .iter()
        .flat_map(|(read, jurisdiction)| {
            let sender = Sender {
                jurisdiction: *jurisdiction,
            };
            read.messages
                .iter()
                .filter_map(move |m| m.as_ref().ok().map(|m| (m, sender)))
        })
        .collect();
    let mut handled = handle(registry, &messages, today, recorded_at)?.into_iter();
    Ok(reads
        .iter()
        .map(|(read, _)| {
            read.messages
                .iter()
                .map(|m| match m {
                    Ok(message) => {
                        let h = handled.next().expect("one answer a message read");
                        answer_message(message, &h, &when)
                    }
                    Err(refusal) => answer_refusal(refusal, &when),
                })
                .collect()
        })
        .collect())
}

/// The answer to a whole body: the one message's answer, or a `batch-response` of each.
pub fn response(batch: bool, answers: Vec<Answered>, recorded_at: i64) -> serde_json::Value {
    if !batch && answers.len() == 1 {
        return answers.into_iter().next().expect("one").answer;
    }
    answer::batch_response(
        &uuid(),
        &format_time(recorded_at),
        answers.into_iter().map(|a| a.answer).collect(),
    )
}
