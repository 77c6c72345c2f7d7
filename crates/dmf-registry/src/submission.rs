//! Submissions: one JSON object per event, as `dmf submit` and the API take them, parsed into
//! events or refused with the JSON path and reason.

use std::fmt::Display;
use std::str::FromStr;

use dmf_model::{
    Correction, CorrectionKind, Date, DeathReport, DeathSource, NoticeKind, PartialDate,
    PersonName, Reference, ReportedName, Sex, Ssn, StatusNotice, Subject, TwoPersonApproval,
    VerificationLevel, add_federal_working_days,
};
use serde_json::{Map, Value};

use crate::answers::IdentityQuery;
use crate::violation::Violation;

use crate::event::{
    CONTEST_WORKING_DAYS, ContestDecisionEvent, ContestEvent, Event, IdentityChangeEvent,
    NoticeEvent, Origin, PresumptionEvent, ReportEvent, ReviewDecision, ReviewEvent,
    VerificationEvent,
};

/// A status notice sent longer than this before the registry records it is refused.
pub const MAX_NOTICE_AGE_DAYS: i32 = 30;

/// The largest sequence number a submission may name: 2^53 - 1, the largest whole number every
/// JSON reader holds exactly (the published schema's `maximum`).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Why a submitted object is refused: where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Rejection {
    /// A JSON path such as `$.dod`.
    pub path: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(path: impl Into<String>, reason: impl Display) -> Rejection {
        Rejection {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<Violation> for Rejection {
    /// A rule's violation at the field's JSON path in the submitted object.
    fn from(v: Violation) -> Rejection {
        Rejection {
            path: format!("$.{}", v.field.name()),
            reason: v.reason,
        }
    }
}

/// A parsed submission: the event, and the key under which a retry is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub event: Event,
    pub idempotency_key: Option<String>,
}

impl Submission {
    /// Scopes the idempotency key to the caller that sent it: the same key from two callers is
    /// two submissions, never one answered as the other's duplicate. Length-prefixed, so that
    /// no key can pass for another caller's.
    pub fn scoped(mut self, caller: &str) -> Submission {
        if let Some(key) = self.idempotency_key.take() {
            self.idempotency_key = Some(scoped_key(caller, &key));
        }
        self
    }

    /// Who sent a line given to `dmf submit`, for scoping its key: a report's source kind, a
    /// notice's issuing authority, the operator for anything else.
    pub fn command_line_caller(&self) -> String {
        match &self.event {
            Event::DeathReport(r) => format!("source {}", r.report.source().code()),
            Event::StatusNotice(n) => format!("authority {}", n.notice.authority.as_str()),
            _ => "operator".to_owned(),
        }
    }
}

/// The key a caller's idempotency key is stored under (see [`Submission::scoped`]).
pub fn scoped_key(caller: &str, key: &str) -> String {
    format!("{}:{caller}:{key}", caller.len())
}

/// The fields each type takes; anything else is refused.
pub(crate) fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "death_report" => &[
            "ssn",
            "first",
            "middle",
            "last",
            "suffix",
            "sex",
            "dob",
            "dod",
            "source",
            "evidence",
            "verification",
            "received",
        ],
        "status_notice" => &[
            "ssn",
            "first",
            "middle",
            "last",
            "suffix",
            "sex",
            "dob",
            "kind",
            "authority",
            "legal_basis",
            "document",
            "effective",
            "notice_sent",
        ],
        "correction" => &[
            "ssn",
            "kind",
            "reason",
            "evidence",
            "requested_by",
            "approved_by",
        ],
        "verification" => &["ssn", "report", "approved_by", "evidence"],
        "contest" => &["ssn", "notice", "reason", "requested_by"],
        "contest_decision" => &["ssn", "notice", "decision", "decided_by", "reason"],
        "presumed_deceased" => &["ssn", "criterion", "legal_basis", "recorded_by"],
        "identity_change" => &[
            "ssn",
            "first",
            "middle",
            "last",
            "suffix",
            "sex",
            "dob",
            "reason",
            "evidence",
            "requested_by",
            "approved_by",
        ],
        "review" => &["ssn", "event", "decision", "by", "evidence", "reason"],
        _ => return None,
    })
}

struct Fields<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn path(name: &str) -> String {
        format!("$.{name}")
    }

    /// The field's value, if it has one: `null`, an empty string and one of white space only
    /// are no value, as if the field were left out (a CSV row's empty cell turned into JSON),
    /// and the published schema says so for every field that may be left out.
    fn given(&self, name: &str) -> Option<&'a Value> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        }
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Rejection> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Rejection::new(
                Self::path(name),
                format!("expected a string, found {}", type_name(other)),
            )),
        }
    }

    fn str(&self, name: &str) -> Result<&'a str, Rejection> {
        self.opt_str(name)?
            .ok_or_else(|| Rejection::new(Self::path(name), "is required"))
    }

    /// A value of a fixed form (an SSN, a date, a code, a key): as given, white space around
    /// it refused rather than dropped, as the published schema's patterns do. Names and
    /// free text are trimmed instead: the space is no part of them.
    fn exact(s: &str, name: &str) -> Result<(), Rejection> {
        if s.trim() == s {
            return Ok(());
        }
        Err(Rejection::new(
            Self::path(name),
            format!("{s:?} has white space around it: give {:?}", s.trim()),
        ))
    }

    fn opt_exact(&self, name: &str) -> Result<Option<&'a str>, Rejection> {
        let s = self.opt_str(name)?;
        s.map(|s| Self::exact(s, name)).transpose()?;
        Ok(s)
    }

    fn parse<T: FromStr>(&self, name: &str) -> Result<T, Rejection>
    where
        T::Err: Display,
    {
        let s = self.str(name)?;
        Self::exact(s, name)?;
        s.parse().map_err(|e| Rejection::new(Self::path(name), e))
    }

    fn opt_parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, Rejection>
    where
        T::Err: Display,
    {
        self.opt_exact(name)?
            .map(|s| s.parse().map_err(|e| Rejection::new(Self::path(name), e)))
            .transpose()
    }

    fn reference(&self, name: &str) -> Result<Reference, Rejection> {
        Reference::new(self.str(name)?).map_err(|e| Rejection::new(Self::path(name), e))
    }

    fn opt_reference(&self, name: &str) -> Result<Option<Reference>, Rejection> {
        self.opt_str(name)?
            .map(|s| Reference::new(s).map_err(|e| Rejection::new(Self::path(name), e)))
            .transpose()
    }

    /// A sequence number: a whole number from 1. JSON has one kind of number, so `3.0` is 3, as
    /// JSON Schema's `integer` takes it; `3.5` is refused. Kept within 2^53 - 1, the numbers
    /// every JSON reader holds exactly.
    fn opt_seq(&self, name: &str) -> Result<Option<u64>, Rejection> {
        let Some(value) = self.given(name) else {
            return Ok(None);
        };
        let whole = match value {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && (1.0..=MAX_SEQ as f64).contains(f))
                    .map(|f| f as u64)
            }),
            _ => None,
        };
        match whole {
            Some(n @ 1..=MAX_SEQ) => Ok(Some(n)),
            _ => Err(Rejection::new(
                Self::path(name),
                format!("expected a sequence number (a whole number from 1), found {value}"),
            )),
        }
    }

    fn seq(&self, name: &str) -> Result<u64, Rejection> {
        self.opt_seq(name)?
            .ok_or_else(|| Rejection::new(Self::path(name), "is required"))
    }

    /// A string, or an array of strings (for several pieces of evidence).
    fn references(&self, name: &str) -> Result<Vec<Reference>, Rejection> {
        match self.map.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let path = format!("$.{name}[{i}]");
                    match item {
                        Value::String(s) => Reference::new(s).map_err(|e| Rejection::new(path, e)),
                        other => Err(Rejection::new(
                            path,
                            format!("expected a string, found {}", type_name(other)),
                        )),
                    }
                })
                .collect(),
            _ => Ok(self.opt_reference(name)?.into_iter().collect()),
        }
    }

    /// The identity a report or notice gives with its SSN: every part optional.
    fn subject(&self, ssn: Ssn) -> Result<Subject, Rejection> {
        let name = ReportedName::parse(
            self.opt_str("first")?,
            self.opt_str("middle")?,
            self.opt_str("last")?,
            self.opt_str("suffix")?,
        )
        .map_err(|(field, e)| Rejection::new(Self::path(field), e))?;
        Ok(Subject {
            ssn,
            name,
            dob: self.opt_parse("dob")?,
            sex: self.opt_parse::<Sex>("sex")?,
        })
    }

    fn name(&self) -> Result<PersonName, Rejection> {
        PersonName::parse(
            self.str("first")?,
            self.opt_str("middle")?,
            self.str("last")?,
            self.opt_str("suffix")?,
        )
        .map_err(|(field, e)| Rejection::new(Self::path(field), e))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses one submitted JSON object (as text) into an event; `today` fills default dates.
pub fn parse_line(line: &str, today: Date) -> Result<Submission, Rejection> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| Rejection::new("$", format!("not valid JSON: {e}")))?;
    parse_value(&value, today)
}

/// The fields of a verification request.
const QUERY_FIELDS: [&str; 4] = ["ssn", "first", "last", "dob"];

/// A verification request: `ssn`, `first`, `last` and `dob` as non-empty strings (the SSN and
/// the date without white space around them), nothing else; refused at the JSON path of the
/// first field that is wrong.
pub fn parse_query(m: &Map<String, Value>) -> Result<IdentityQuery, Rejection> {
    if let Some(k) = m.keys().find(|k| !QUERY_FIELDS.contains(&k.as_str())) {
        return Err(Rejection::new(
            format!("$.{k}"),
            "unknown field (a verification takes ssn, first, last, dob)",
        ));
    }
    let text = |k: &str| -> Result<&str, Rejection> {
        match m.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
            Some(Value::String(_)) => Err(Rejection::new(format!("$.{k}"), "empty")),
            Some(_) => Err(Rejection::new(format!("$.{k}"), "expected a string")),
            None => Err(Rejection::new(format!("$.{k}"), "missing")),
        }
    };
    let ssn = text("ssn")?;
    let dob = text("dob")?;
    Fields::exact(ssn, "ssn")?;
    Fields::exact(dob, "dob")?;
    Ok(IdentityQuery {
        ssn: ssn.parse().map_err(|e| Rejection::new("$.ssn", e))?,
        first: text("first")?.to_owned(),
        last: text("last")?.to_owned(),
        dob: dob.parse().map_err(|e| Rejection::new("$.dob", e))?,
    })
}

/// A line submitted over a route that takes one type, by a key that fixes one field (a
/// reporter's source kind, an authority's name): the type and the field filled in when left
/// out, refused when they disagree, then parsed as [`parse_value`] does.
pub fn parse_for_route(
    line: &[u8],
    kind: &str,
    fixed: (&str, &str),
    today: Date,
) -> Result<Submission, Rejection> {
    let mut m = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(Rejection::new("$", "expected a JSON object")),
        Err(e) => return Err(Rejection::new("$", format!("not valid JSON: {e}"))),
    };
    match m.get("type") {
        None => {
            m.insert("type".into(), Value::from(kind));
        }
        Some(Value::String(t)) if t == kind => {}
        Some(_) => {
            return Err(Rejection::new(
                "$.type",
                format!("this route takes only {kind}"),
            ));
        }
    }
    let (field, value) = fixed;
    match m.get(field) {
        None => {
            m.insert(field.into(), Value::from(value));
        }
        Some(Value::String(v)) if v == value => {}
        Some(_) => {
            return Err(Rejection::new(
                format!("$.{field}"),
                format!("this key submits with {field} {value:?} only"),
            ));
        }
    }
    parse_value(&Value::Object(m), today)
}

/// Parses one submitted JSON value into an event.
pub fn parse_value(value: &Value, today: Date) -> Result<Submission, Rejection> {
    let Value::Object(map) = value else {
        return Err(Rejection::new(
            "$",
            format!("expected an object, found {}", type_name(value)),
        ));
    };
    let f = Fields { map };
    let kind = f.str("type")?;
    let allowed = allowed(kind).ok_or_else(|| {
        Rejection::new(
            "$.type",
            format!("{kind:?} is not an event type (death_report, status_notice, correction, verification, contest, contest_decision, presumed_deceased, identity_change, review)"),
        )
    })?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && *k != "type" && *k != "idempotency_key")
    {
        return Err(Rejection::new(
            format!("$.{unknown}"),
            format!("unknown field for {} {kind}", dmf_model::article(kind)),
        ));
    }
    // An empty key is refused, not read as none: the sender meant a key, and without it a
    // retry would be stored as a second event.
    if let Some(Value::String(k)) = map.get("idempotency_key")
        && k.trim().is_empty()
    {
        let what = if k.is_empty() { "is empty" } else { "is blank" };
        return Err(Rejection::new(
            "$.idempotency_key",
            format!(
                "{what}: a key has at least one character other than white space; leave the field out (or null) to give none"
            ),
        ));
    }
    let idempotency_key = f.opt_exact("idempotency_key")?.map(str::to_owned);
    let ssn: Ssn = f.parse("ssn")?;
    let event = match kind {
        "death_report" => {
            let dod: PartialDate = f.parse("dod")?;
            let source: DeathSource = f.parse("source")?;
            let verification = match f.opt_str("verification")? {
                None => VerificationLevel::None,
                Some("V") => VerificationLevel::Verified,
                Some("P") => VerificationLevel::ProofSeen,
                Some(other) => {
                    return Err(Rejection::new(
                        "$.verification",
                        format!("{other:?} is not V or P"),
                    ));
                }
            };
            // The caller's dates are evidence; none may be after the day the registry records
            // the report (a death "in 2029" would be published).
            let received = f.opt_parse::<Date>("received")?.unwrap_or(today);
            if received > today {
                return Err(Rejection::new(
                    "$.received",
                    format!(
                        "{received} is after the day the registry records the report ({today})"
                    ),
                ));
            }
            if dod.earliest() > received {
                return Err(Rejection::new(
                    "$.dod",
                    format!(
                        "the date of death {dod} is after the day the report was received ({received})"
                    ),
                ));
            }
            let subject = f.subject(ssn)?;
            let evidence = f.reference("evidence")?;
            let report = DeathReport::new(subject, dod, source, evidence, verification)
                .map_err(|e| Rejection::new("$.dod", e))?;
            Event::DeathReport(ReportEvent {
                report,
                received,
                origin: Origin::Submitted,
                supersedes: None,
            })
        }
        "status_notice" => {
            let notice = StatusNotice {
                subject: f.subject(ssn)?,
                kind: f.parse::<NoticeKind>("kind")?,
                authority: f.reference("authority")?,
                legal_basis: f.reference("legal_basis")?,
                document: f.reference("document")?,
                effective: f.parse("effective")?,
            };
            let notice_sent = f.opt_parse::<Date>("notice_sent")?.unwrap_or(today);
            if notice_sent > today {
                return Err(Rejection::new(
                    "$.notice_sent",
                    format!(
                        "{notice_sent} is after the day the registry records the notice ({today})"
                    ),
                ));
            }
            // A backdated notice would shorten the person's contest period, or end it before it
            // began; one sent long before it reaches the registry must be sent again.
            if today.days_since_epoch() - notice_sent.days_since_epoch() > MAX_NOTICE_AGE_DAYS {
                return Err(Rejection::new(
                    "$.notice_sent",
                    format!(
                        "{notice_sent} is more than {MAX_NOTICE_AGE_DAYS} days before the registry records the notice ({today}): send the person a new notice and record that"
                    ),
                ));
            }
            notice
                .check_dates(notice_sent)
                .map_err(|e| Rejection::new("$.effective", e))?;
            // The person's whole contest period must fit in the calendar: a notice dated so
            // late that it would not is refused, never given a shortened deadline.
            if notice_sent.add_days(30).is_none() {
                return Err(Rejection::new(
                    "$.notice_sent",
                    format!(
                        "{notice_sent} is too late: the contest period would run past the last supported date"
                    ),
                ));
            }
            // The contest period runs from the later of the notice and the day the registry
            // records it: the answers change only from that day.
            let contest_deadline =
                add_federal_working_days(notice_sent.max(today), CONTEST_WORKING_DAYS);
            Event::StatusNotice(NoticeEvent {
                notice,
                notice_sent,
                contest_deadline,
            })
        }
        "correction" => {
            let kind = match f.opt_str("kind")? {
                None | Some("reinstate") => CorrectionKind::Reinstate,
                Some(other) => {
                    return Err(Rejection::new(
                        "$.kind",
                        format!("{other:?} is not a correction kind (reinstate)"),
                    ));
                }
            };
            let approval =
                TwoPersonApproval::new(f.reference("requested_by")?, f.reference("approved_by")?)
                    .map_err(|e| Rejection::new("$.approved_by", e))?;
            let evidence = f.references("evidence")?;
            Event::Correction(
                Correction::new(ssn, kind, f.reference("reason")?, evidence, approval)
                    .map_err(|e| Rejection::new("$.evidence", e))?,
            )
        }
        "verification" => Event::Verification(VerificationEvent {
            ssn,
            report: f.opt_seq("report")?,
            approved_by: f.reference("approved_by")?,
            evidence: f.opt_reference("evidence")?,
        }),
        "contest" => Event::Contest(ContestEvent {
            ssn,
            notice: f.opt_seq("notice")?,
            reason: f.reference("reason")?,
            requested_by: f.opt_reference("requested_by")?,
        }),
        "contest_decision" => {
            let notice = f.seq("notice")?;
            let upheld = match f.str("decision")? {
                "upheld" => true,
                "denied" => false,
                other => {
                    return Err(Rejection::new(
                        "$.decision",
                        format!("{other:?} is not a decision (upheld, denied)"),
                    ));
                }
            };
            Event::ContestDecision(ContestDecisionEvent {
                ssn,
                notice,
                upheld,
                decided_by: f.reference("decided_by")?,
                reason: f.reference("reason")?,
            })
        }
        "presumed_deceased" => Event::Presumption(PresumptionEvent {
            ssn,
            criterion: f.reference("criterion")?,
            legal_basis: f.reference("legal_basis")?,
            recorded_by: f.reference("recorded_by")?,
        }),
        "identity_change" => {
            let mut named = false;
            for k in ["first", "middle", "last", "suffix"] {
                named |= f.opt_str(k)?.is_some();
            }
            let name = if named { Some(f.name()?) } else { None };
            let dob = f.opt_parse::<PartialDate>("dob")?;
            let sex = f.opt_parse::<Sex>("sex")?;
            if name.is_none() && dob.is_none() && sex.is_none() {
                return Err(Rejection::new(
                    "$",
                    "an identity change gives a new name (first and last), dob or sex",
                ));
            }
            let evidence = f.references("evidence")?;
            if evidence.is_empty() {
                return Err(Rejection::new(
                    "$.evidence",
                    "is required: the documents the change rests on",
                ));
            }
            let requested_by = f.reference("requested_by")?;
            let approved_by = f.opt_reference("approved_by")?;
            if let Some(a) = &approved_by {
                TwoPersonApproval::new(requested_by.clone(), a.clone())
                    .map_err(|e| Rejection::new("$.approved_by", e))?;
            }
            Event::IdentityChange(IdentityChangeEvent {
                ssn,
                name,
                dob,
                sex,
                reason: f.reference("reason")?,
                evidence,
                requested_by,
                approved_by,
            })
        }
        "review" => {
            let decision = match f.str("decision")? {
                "confirm" => ReviewDecision::Confirm,
                "reject" => ReviewDecision::Reject,
                other => {
                    return Err(Rejection::new(
                        "$.decision",
                        format!("{other:?} is not a decision (confirm, reject)"),
                    ));
                }
            };
            Event::Review(ReviewEvent {
                ssn,
                event: f.seq("event")?,
                decision,
                by: f.reference("by")?,
                evidence: f.opt_reference("evidence")?,
                reason: f.opt_reference("reason")?,
                date: today,
            })
        }
        _ => unreachable!("checked by allowed()"),
    };
    Ok(Submission {
        event,
        idempotency_key,
    })
}
