//! The stored form of events: one flat JSON object per event, with the field names of the
//! submission format, so that a stored event reads like the line that was submitted.

use dmf_model::{
    Correction, CorrectionKind, Date, DeathReport, PartialDate, PersonName, Reference, Ssn,
    StatusNotice, Subject, TwoPersonApproval, VerificationLevel,
};
use serde::{Deserialize, Serialize};

use crate::event::{
    ContestEvent, Event, ImportDelete, ImportedChange, NoticeEvent, Origin, PersonRecord,
    ReportEvent, Sex, VerificationEvent,
};

/// Every field any event may carry; absent ones are left out of the JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_sent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest_deadline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<u64>,
}

/// A stored event that does not decode: the store was written by something else, or damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored event of type {kind:?} does not decode: {reason}")]
pub struct DecodeError {
    pub kind: String,
    pub reason: String,
}

fn text(s: &impl ToString) -> Option<String> {
    Some(s.to_string())
}

fn name_fields(body: &mut Body, name: &PersonName) {
    body.first = Some(name.first.original().to_owned());
    body.middle = name.middle.as_ref().map(|m| m.original().to_owned());
    body.last = Some(name.last.original().to_owned());
    body.suffix = name.suffix.as_ref().map(|s| s.part().original().to_owned());
}

/// The stored JSON of an event.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut b = Body {
        ssn: text(&event.ssn()),
        ..Body::default()
    };
    match event {
        Event::Person(p) => {
            name_fields(&mut b, &p.name);
            b.sex = p.sex.map(|s| s.code().to_owned());
            b.dob = p.dob.as_ref().and_then(text);
            b.birth_state = p.birth_state.clone();
        }
        Event::DeathReport(r) => {
            let report = &r.report;
            name_fields(&mut b, &report.subject().name);
            b.dob = report.subject().dob.as_ref().and_then(text);
            b.dod = text(&report.dod());
            b.source = text(&report.source());
            b.evidence = vec![report.evidence().to_string()];
            b.verification = match report.verification() {
                VerificationLevel::None => None,
                v => Some((v.code() as char).to_string()),
            };
            b.received = text(&r.received);
            b.origin = match &r.origin {
                Origin::Submitted => None,
                Origin::Imported {
                    change: ImportedChange::Add,
                } => Some("import".into()),
                Origin::Imported {
                    change: ImportedChange::Change,
                } => Some("import_change".into()),
            };
        }
        Event::StatusNotice(n) => {
            b.kind = text(&n.notice.kind);
            b.authority = text(&n.notice.authority);
            b.legal_basis = text(&n.notice.legal_basis);
            b.document = text(&n.notice.document);
            b.effective = text(&n.notice.effective);
            b.notice_sent = text(&n.notice_sent);
            b.contest_deadline = text(&n.contest_deadline);
        }
        Event::Correction(c) => {
            b.kind = Some(c.kind().code().to_owned());
            b.reason = text(c.reason());
            b.evidence = c
                .identity_evidence()
                .iter()
                .map(|e| e.to_string())
                .collect();
            b.requested_by = text(c.approval().requested_by());
            b.approved_by = text(c.approval().approved_by());
        }
        Event::Verification(v) => {
            b.report = v.report;
            b.approved_by = text(&v.approved_by);
            b.evidence = v.evidence.iter().map(|e| e.to_string()).collect();
        }
        Event::Contest(c) => {
            b.notice = c.notice;
            b.reason = text(&c.reason);
            b.requested_by = c.requested_by.as_ref().and_then(text);
        }
        Event::ImportDelete(d) => {
            b.evidence = vec![d.evidence.to_string()];
        }
    }
    serde_json::to_vec(&b).expect("a body always serializes")
}

/// The event a stored JSON body holds.
pub fn decode(kind: &str, body: &[u8]) -> Result<Event, DecodeError> {
    let fail = |reason: String| DecodeError {
        kind: kind.to_owned(),
        reason,
    };
    let b: Body = serde_json::from_slice(body).map_err(|e| fail(e.to_string()))?;
    let need = |field: &'static str, v: &Option<String>| -> Result<String, DecodeError> {
        v.clone().ok_or_else(|| fail(format!("{field} is missing")))
    };
    let parse =
        |field: &'static str, v: &Option<String>| -> Result<String, DecodeError> { need(field, v) };
    macro_rules! typed {
        ($field:literal, $value:expr, $t:ty) => {
            parse($field, $value)?
                .parse::<$t>()
                .map_err(|e| fail(format!("{}: {e}", $field)))?
        };
    }
    let reference = |field: &'static str, v: &Option<String>| -> Result<Reference, DecodeError> {
        Reference::new(&need(field, v)?).map_err(|e| fail(format!("{field}: {e}")))
    };
    let optional_date =
        |field: &'static str, v: &Option<String>| -> Result<Option<PartialDate>, DecodeError> {
            v.as_deref()
                .map(|d| d.parse().map_err(|e| fail(format!("{field}: {e}"))))
                .transpose()
        };
    let ssn = typed!("ssn", &b.ssn, Ssn);
    let name = || -> Result<PersonName, DecodeError> {
        PersonName::parse(
            &need("first", &b.first)?,
            b.middle.as_deref(),
            &need("last", &b.last)?,
            b.suffix.as_deref(),
        )
        .map_err(|(field, e)| fail(format!("{field}: {e}")))
    };
    let evidence = |i: usize| -> Result<Reference, DecodeError> {
        let e = b.evidence.get(i).cloned();
        reference("evidence", &e)
    };
    Ok(match kind {
        "person" => Event::Person(PersonRecord {
            ssn,
            name: name()?,
            sex: match b.sex.as_deref() {
                Some("F") => Some(Sex::Female),
                Some("M") => Some(Sex::Male),
                None => None,
                Some(other) => return Err(fail(format!("sex: {other:?}"))),
            },
            dob: optional_date("dob", &b.dob)?,
            birth_state: b.birth_state.clone(),
        }),
        "death_report" => {
            let subject = Subject {
                ssn,
                name: name()?,
                dob: optional_date("dob", &b.dob)?,
            };
            let verification = match b.verification.as_deref() {
                None => VerificationLevel::None,
                Some("V") => VerificationLevel::Verified,
                Some("P") => VerificationLevel::ProofSeen,
                Some(other) => return Err(fail(format!("verification: {other:?}"))),
            };
            let report = DeathReport::new(
                subject,
                typed!("dod", &b.dod, PartialDate),
                typed!("source", &b.source, dmf_model::DeathSource),
                evidence(0)?,
                verification,
            )
            .map_err(|e| fail(e.to_string()))?;
            let origin = match b.origin.as_deref() {
                None => Origin::Submitted,
                Some("import") => Origin::Imported {
                    change: ImportedChange::Add,
                },
                Some("import_change") => Origin::Imported {
                    change: ImportedChange::Change,
                },
                Some(other) => return Err(fail(format!("origin: {other:?}"))),
            };
            Event::DeathReport(ReportEvent {
                report,
                received: typed!("received", &b.received, Date),
                origin,
            })
        }
        "status_notice" => Event::StatusNotice(NoticeEvent {
            notice: StatusNotice {
                ssn,
                kind: typed!("kind", &b.kind, dmf_model::NoticeKind),
                authority: reference("authority", &b.authority)?,
                legal_basis: reference("legal_basis", &b.legal_basis)?,
                document: reference("document", &b.document)?,
                effective: typed!("effective", &b.effective, Date),
            },
            notice_sent: typed!("notice_sent", &b.notice_sent, Date),
            contest_deadline: typed!("contest_deadline", &b.contest_deadline, Date),
        }),
        "correction" => {
            let approval = TwoPersonApproval::new(
                reference("requested_by", &b.requested_by)?,
                reference("approved_by", &b.approved_by)?,
            )
            .map_err(|e| fail(e.to_string()))?;
            let evidence = (0..b.evidence.len())
                .map(evidence)
                .collect::<Result<Vec<_>, _>>()?;
            let kind = match b.kind.as_deref() {
                Some("reinstate") | None => CorrectionKind::Reinstate,
                Some(other) => return Err(fail(format!("kind: {other:?}"))),
            };
            Event::Correction(
                Correction::new(
                    ssn,
                    kind,
                    reference("reason", &b.reason)?,
                    evidence,
                    approval,
                )
                .map_err(|e| fail(e.to_string()))?,
            )
        }
        "verification" => Event::Verification(VerificationEvent {
            ssn,
            report: b.report,
            approved_by: reference("approved_by", &b.approved_by)?,
            evidence: if b.evidence.is_empty() {
                None
            } else {
                Some(evidence(0)?)
            },
        }),
        "contest" => Event::Contest(ContestEvent {
            ssn,
            notice: b.notice,
            reason: reference("reason", &b.reason)?,
            requested_by: b
                .requested_by
                .as_deref()
                .map(Reference::new)
                .transpose()
                .map_err(|e| fail(format!("requested_by: {e}")))?,
        }),
        "dmf_delete" => Event::ImportDelete(ImportDelete {
            ssn,
            evidence: evidence(0)?,
        }),
        other => return Err(fail(format!("unknown event type {other:?}"))),
    })
}
