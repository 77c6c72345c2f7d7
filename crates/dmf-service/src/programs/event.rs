//! The entries of the program journal as typed events, and their codec: each event is stored
//! as a kind and a JSON body, byte for byte as the journal has always held them. Decoding is
//! strict: a field that is missing, unknown or of the wrong form is an error naming the entry
//! and the field, never skipped.

use dmf_model::{Date, Reference};
use dmf_registry::program::{Element, Terms};
use serde_json::{Map, Value, json};

use super::json::{terms_from_json, terms_json};
use super::{JournalRow, Matched, ProgramStoreError};

/// A match of a request that due process is about: the request's entry and the match's number
/// in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRef {
    pub request: u64,
    pub n: u32,
}

/// What one journal entry records.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgramEvent {
    /// A new agreement, inactive until approved; its id is the entry's.
    Agreement { terms: Terms },
    /// A second person approved the agreement.
    Approval,
    /// The agreement was renewed to a new expiry.
    Renewal { expiry: Date },
    /// An agency key was bound to the agreement.
    Key { key_id: i64, key_name: String },
    /// A match request under the agreement, answered or refused; its id is the entry's.
    Request {
        refused: Option<String>,
        records: u64,
        elements: Vec<Element>,
        matches: Vec<Matched>,
        law_enforcement: Vec<(u32, String)>,
    },
    /// The agency verified a match independently.
    Verification { case: CaseRef, reference: Reference },
    /// The agency sent the person a notice.
    Notice {
        case: CaseRef,
        sent: Date,
        reference: Reference,
    },
    /// The person contested.
    Contest { case: CaseRef },
    /// The contest was decided; `upheld` when the person was right.
    ContestDecision { case: CaseRef, upheld: bool },
    /// Adverse action may now be taken.
    AdverseAction { case: CaseRef },
}

impl ProgramEvent {
    /// The kind stored beside the body.
    pub fn kind(&self) -> &'static str {
        match self {
            ProgramEvent::Agreement { .. } => "agreement",
            ProgramEvent::Approval => "approval",
            ProgramEvent::Renewal { .. } => "renewal",
            ProgramEvent::Key { .. } => "key",
            ProgramEvent::Request { .. } => "request",
            ProgramEvent::Verification { .. } => "verification",
            ProgramEvent::Notice { .. } => "notice",
            ProgramEvent::Contest { .. } => "contest",
            ProgramEvent::ContestDecision { .. } => "contest_decision",
            ProgramEvent::AdverseAction { .. } => "adverse_action",
        }
    }

    /// The body as stored.
    pub fn body(&self) -> Value {
        // Built field by field in the order the journal always has, so that the stored text
        // stays the same whatever order the JSON map keeps.
        let case = |c: &CaseRef| json!({ "request": c.request, "match": c.n });
        match self {
            ProgramEvent::Agreement { terms } => terms_json(terms),
            ProgramEvent::Approval => json!({}),
            ProgramEvent::Renewal { expiry } => json!({ "expiry": expiry.to_string() }),
            ProgramEvent::Key { key_id, key_name } => {
                json!({ "key_id": key_id, "key_name": key_name })
            }
            ProgramEvent::Request {
                refused,
                records,
                elements,
                matches,
                law_enforcement,
            } => json!({
                "refused": refused,
                "records": records,
                "elements": elements.iter().map(|e| e.code()).collect::<Vec<_>>(),
                "matches": matches.iter().map(|m| json!([m.ssn, m.class])).collect::<Vec<_>>(),
                "law_enforcement": law_enforcement
                    .iter()
                    .map(|(s, c)| json!([s, c]))
                    .collect::<Vec<_>>(),
            }),
            ProgramEvent::Verification { case: c, reference } => {
                let mut body = case(c);
                body["reference"] = reference.as_str().into();
                body
            }
            ProgramEvent::Notice {
                case: c,
                sent,
                reference,
            } => {
                let mut body = case(c);
                body["sent"] = sent.to_string().into();
                body["reference"] = reference.as_str().into();
                body
            }
            ProgramEvent::Contest { case: c } | ProgramEvent::AdverseAction { case: c } => case(c),
            ProgramEvent::ContestDecision { case: c, upheld } => {
                let mut body = case(c);
                body["upheld"] = (*upheld).into();
                body
            }
        }
    }

    /// The event of entry `id` from its stored kind and body.
    pub fn decode(id: i64, kind: &str, body: &Value) -> Result<ProgramEvent, ProgramStoreError> {
        let b = Body::new(id, body)?;
        let event = match kind {
            "agreement" => {
                let terms = terms_from_json(body).map_err(|(path, reason)| {
                    field(
                        id,
                        path.trim_start_matches("$.").trim_start_matches('$'),
                        reason,
                    )
                })?;
                return Ok(ProgramEvent::Agreement { terms });
            }
            "approval" => ProgramEvent::Approval,
            "renewal" => ProgramEvent::Renewal {
                expiry: b.date("expiry")?,
            },
            "key" => ProgramEvent::Key {
                key_id: b.i64("key_id")?,
                key_name: b.string("key_name")?,
            },
            "request" => ProgramEvent::Request {
                refused: b.optional_string("refused")?,
                records: b.u64("records")?,
                elements: b.elements("elements")?,
                matches: b.pairs("matches", |v| {
                    Some(Matched {
                        ssn: u32::try_from(v[0].as_u64()?).ok()?,
                        class: u8::try_from(v[1].as_u64()?).ok()?,
                    })
                })?,
                law_enforcement: b.pairs("law_enforcement", |v| {
                    Some((
                        u32::try_from(v[0].as_u64()?).ok()?,
                        v[1].as_str()?.to_owned(),
                    ))
                })?,
            },
            "verification" => ProgramEvent::Verification {
                case: b.case()?,
                reference: b.reference("reference")?,
            },
            "notice" => ProgramEvent::Notice {
                case: b.case()?,
                sent: b.date("sent")?,
                reference: b.reference("reference")?,
            },
            "contest" => ProgramEvent::Contest { case: b.case()? },
            "contest_decision" => ProgramEvent::ContestDecision {
                case: b.case()?,
                upheld: b.bool("upheld")?,
            },
            "adverse_action" => ProgramEvent::AdverseAction { case: b.case()? },
            other => {
                return Err(field(id, "kind", format!("unknown kind {other:?}")));
            }
        };
        b.all_read()?;
        Ok(event)
    }
}

fn field(id: i64, name: &str, reason: impl Into<String>) -> ProgramStoreError {
    ProgramStoreError::Field {
        id,
        field: name.to_owned(),
        reason: reason.into(),
    }
}

/// The fields of a body, each read once; what is left over was not expected.
struct Body<'a> {
    id: i64,
    fields: &'a Map<String, Value>,
    read: std::cell::RefCell<Vec<&'static str>>,
}

impl<'a> Body<'a> {
    fn new(id: i64, body: &'a Value) -> Result<Body<'a>, ProgramStoreError> {
        let fields = body
            .as_object()
            .ok_or_else(|| field(id, "body", "expected a JSON object"))?;
        Ok(Body {
            id,
            fields,
            read: Default::default(),
        })
    }

    /// Field `name`; `None` if absent.
    fn get(&self, name: &'static str) -> Option<&'a Value> {
        self.read.borrow_mut().push(name);
        self.fields.get(name)
    }

    fn wrong(&self, name: &str, expected: &str) -> ProgramStoreError {
        let reason = match self.fields.get(name) {
            None => format!("missing; expected {expected}"),
            Some(v) => format!("expected {expected}, found {v}"),
        };
        field(self.id, name, reason)
    }

    fn u64(&self, name: &'static str) -> Result<u64, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.wrong(name, "a whole number"))
    }

    fn i64(&self, name: &'static str) -> Result<i64, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| self.wrong(name, "a whole number"))
    }

    fn bool(&self, name: &'static str) -> Result<bool, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| self.wrong(name, "true or false"))
    }

    fn string(&self, name: &'static str) -> Result<String, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.wrong(name, "a string"))
    }

    fn optional_string(&self, name: &'static str) -> Result<Option<String>, ProgramStoreError> {
        match self.get(name) {
            Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(self.wrong(name, "a string or null")),
        }
    }

    fn date(&self, name: &'static str) -> Result<Date, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.wrong(name, "a date YYYY-MM-DD"))
    }

    fn reference(&self, name: &'static str) -> Result<Reference, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_str)
            .and_then(|s| Reference::new(s).ok())
            .ok_or_else(|| self.wrong(name, "a reference"))
    }

    fn case(&self) -> Result<CaseRef, ProgramStoreError> {
        let request = self.u64("request")?;
        let n = self
            .get("match")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.wrong("match", "a match number"))?;
        Ok(CaseRef { request, n })
    }

    fn array(&self, name: &'static str) -> Result<&'a Vec<Value>, ProgramStoreError> {
        self.get(name)
            .and_then(Value::as_array)
            .ok_or_else(|| self.wrong(name, "an array"))
    }

    fn elements(&self, name: &'static str) -> Result<Vec<Element>, ProgramStoreError> {
        self.array(name)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
                    field(
                        self.id,
                        &format!("{name}[{i}]"),
                        format!("expected an element, found {v}"),
                    )
                })
            })
            .collect()
    }

    /// An array of two-item arrays, each read by `item`.
    fn pairs<T>(
        &self,
        name: &'static str,
        item: impl Fn(&Vec<Value>) -> Option<T>,
    ) -> Result<Vec<T>, ProgramStoreError> {
        self.array(name)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_array()
                    .filter(|pair| pair.len() == 2)
                    .and_then(&item)
                    .ok_or_else(|| {
                        field(
                            self.id,
                            &format!("{name}[{i}]"),
                            format!("expected a pair, found {v}"),
                        )
                    })
            })
            .collect()
    }

    /// Refuses a field no read asked for.
    fn all_read(&self) -> Result<(), ProgramStoreError> {
        let read = self.read.borrow();
        match self.fields.keys().find(|k| !read.contains(&k.as_str())) {
            Some(k) => Err(field(self.id, k, "unknown field")),
            None => Ok(()),
        }
    }
}

/// One journal entry with its event decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub at_ms: i64,
    pub day: Date,
    /// The agreement the entry is about; none for a new agreement.
    pub agreement: Option<u64>,
    pub actor: String,
    pub event: ProgramEvent,
}

impl Event {
    /// The entry of a stored row.
    pub fn decode(row: &JournalRow) -> Result<Event, ProgramStoreError> {
        let id = row.id;
        let body: Value = serde_json::from_str(&row.body)
            .map_err(|e| field(id, "body", format!("not JSON: {e}")))?;
        let agreement = row
            .agreement
            .map(|a| u64::try_from(a).map_err(|_| field(id, "agreement", "negative")))
            .transpose()?;
        Ok(Event {
            id,
            at_ms: row.at_ms,
            day: row
                .day
                .parse()
                .map_err(|_| field(id, "day", format!("{:?} is not a date", row.day)))?,
            agreement,
            actor: row.actor.clone(),
            event: ProgramEvent::decode(id, &row.kind, &body)?,
        })
    }

    /// The row that stores it.
    pub fn encode(&self) -> JournalRow {
        JournalRow {
            id: self.id,
            at_ms: self.at_ms,
            day: self.day.to_string(),
            kind: self.event.kind().to_owned(),
            agreement: self.agreement.map(|a| a as i64),
            actor: self.actor.clone(),
            body: self.event.body().to_string(),
        }
    }
}
