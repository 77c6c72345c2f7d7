//! The stored form of events: one flat JSON object per event, with the field names of the
//! submission format, so that a stored event reads like the line that was submitted.

use dmf_model::{
    Correction, CorrectionKind, Date, DeathReport, PartialDate, PersonName, Reference,
    ReportedName, Sex, Ssn, SsnDigits, StatusNotice, Subject, TwoPersonApproval, VerificationLevel,
};
use std::io::Write;

use dmf_format::convert::json_string;
use serde::Deserialize;

use crate::event::{
    ContestDecisionEvent, ContestEvent, Event, IdentityChangeEvent, ImportDelete, ImportedChange,
    NoticeEvent, Origin, PersonRecord, PresumptionEvent, ReportAlias, ReportEvent,
    ReportWithdrawal, ReviewDecision, ReviewEvent, VerificationEvent, decision_code,
};

/// Every field any event may carry; absent ones are left out of the JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
    pub ssn: Option<String>,
    pub first: Option<String>,
    pub middle: Option<String>,
    pub last: Option<String>,
    pub suffix: Option<String>,
    pub sex: Option<String>,
    pub dob: Option<String>,
    pub birth_state: Option<String>,
    pub dod: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub evidence: Vec<String>,
    pub verification: Option<String>,
    pub received: Option<String>,
    pub origin: Option<String>,
    pub kind: Option<String>,
    pub authority: Option<String>,
    pub legal_basis: Option<String>,
    pub document: Option<String>,
    pub effective: Option<String>,
    pub notice_sent: Option<String>,
    pub contest_deadline: Option<String>,
    pub reason: Option<String>,
    pub requested_by: Option<String>,
    pub approved_by: Option<String>,
    pub decided_by: Option<String>,
    pub report: Option<u64>,
    pub notice: Option<u64>,
    pub decision: Option<String>,
    pub criterion: Option<String>,
    pub recorded_by: Option<String>,
    pub event: Option<u64>,
    pub by: Option<String>,
    pub date: Option<String>,
    pub supersedes: Option<u64>,
    pub alias_ssn: Option<String>,
}

/// A stored event that does not decode: the store was written by something else, or damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored event of type {kind:?} does not decode: {reason}")]
pub struct DecodeError {
    pub kind: String,
    pub reason: String,
}

/// Writes one JSON object field by field, straight into the output: no intermediate values.
struct Object {
    out: Vec<u8>,
}

impl Object {
    fn new() -> Object {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        Object { out }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A string that needs escaping (names, references).
    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        json_string(value, &mut self.out);
    }

    fn opt_text(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(key, v);
        }
    }

    /// A value whose text needs no escaping: codes, digits and dates.
    fn plain(&mut self, key: &str, value: impl std::fmt::Display) {
        self.key(key);
        let _ = write!(self.out, "\"{value}\"");
    }

    fn texts<'a>(&mut self, key: &str, values: impl IntoIterator<Item = &'a str>) {
        self.key(key);
        self.out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            json_string(v, &mut self.out);
        }
        self.out.push(b']');
    }

    fn number(&mut self, key: &str, value: u64) {
        self.key(key);
        let _ = write!(self.out, "{value}");
    }

    fn name(&mut self, name: &PersonName) {
        self.text("first", name.first.original());
        self.opt_text("middle", name.middle.as_ref().map(|m| m.original()));
        self.text("last", name.last.original());
        self.opt_text("suffix", name.suffix.as_ref().map(|s| s.part().original()));
    }

    /// A reported identity: the parts given, in the order of [`Body`].
    fn subject(&mut self, subject: &Subject) {
        let n = &subject.name;
        self.opt_text("first", n.first.as_ref().map(|p| p.original()));
        self.opt_text("middle", n.middle.as_ref().map(|p| p.original()));
        self.opt_text("last", n.last.as_ref().map(|p| p.original()));
        self.opt_text("suffix", n.suffix.as_ref().map(|s| s.part().original()));
        if let Some(sex) = subject.sex {
            self.plain("sex", sex.code());
        }
        if let Some(dob) = subject.dob {
            self.plain("dob", dob);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out
    }
}

/// The stored JSON of an event. Fields come in the order of [`Body`]'s declaration, absent
/// ones left out, so that an event always encodes to the same bytes.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut o = Object::new();
    o.plain("ssn", event.ssn());
    match event {
        Event::Person(p) => {
            o.name(&p.name);
            if let Some(sex) = p.sex {
                o.plain("sex", sex.code());
            }
            if let Some(dob) = p.dob {
                o.plain("dob", dob);
            }
            o.opt_text("birth_state", p.birth_state.as_deref());
        }
        Event::DeathReport(r) => {
            let report = &r.report;
            o.subject(report.subject());
            o.plain("dod", report.dod());
            o.plain("source", report.source());
            o.texts("evidence", [report.evidence().as_str()]);
            if report.verification() != VerificationLevel::None {
                o.plain("verification", report.verification().code() as char);
            }
            o.plain("received", r.received);
            match &r.origin {
                Origin::Submitted => {}
                Origin::Imported {
                    change: ImportedChange::Add,
                } => o.plain("origin", "import"),
                Origin::Imported {
                    change: ImportedChange::Change,
                } => o.plain("origin", "import_change"),
            }
            if let Some(old) = r.supersedes {
                o.number("supersedes", old);
            }
        }
        Event::StatusNotice(n) => {
            o.subject(&n.notice.subject);
            o.plain("kind", n.notice.kind);
            o.text("authority", n.notice.authority.as_str());
            o.text("legal_basis", n.notice.legal_basis.as_str());
            o.text("document", n.notice.document.as_str());
            o.plain("effective", n.notice.effective);
            o.plain("notice_sent", n.notice_sent);
            o.plain("contest_deadline", n.contest_deadline);
        }
        Event::Correction(c) => {
            o.texts(
                "evidence",
                c.identity_evidence().iter().map(Reference::as_str),
            );
            o.plain("kind", c.kind().code());
            o.text("reason", c.reason().as_str());
            o.text("requested_by", c.approval().requested_by().as_str());
            o.text("approved_by", c.approval().approved_by().as_str());
        }
        Event::Verification(v) => {
            if let Some(e) = &v.evidence {
                o.texts("evidence", [e.as_str()]);
            }
            o.text("approved_by", v.approved_by.as_str());
            if let Some(report) = v.report {
                o.number("report", report);
            }
        }
        Event::Contest(c) => {
            o.text("reason", c.reason.as_str());
            o.opt_text(
                "requested_by",
                c.requested_by.as_ref().map(Reference::as_str),
            );
            if let Some(notice) = c.notice {
                o.number("notice", notice);
            }
        }
        Event::ContestDecision(d) => {
            o.text("reason", d.reason.as_str());
            o.text("decided_by", d.decided_by.as_str());
            o.number("notice", d.notice);
            o.plain("decision", decision_code(d.upheld));
        }
        Event::Presumption(p) => {
            o.text("legal_basis", p.legal_basis.as_str());
            o.text("criterion", p.criterion.as_str());
            o.text("recorded_by", p.recorded_by.as_str());
        }
        Event::ImportDelete(d) => o.texts("evidence", [d.evidence.as_str()]),
        Event::IdentityChange(c) => {
            if let Some(name) = &c.name {
                o.name(name);
            }
            if let Some(sex) = c.sex {
                o.plain("sex", sex.code());
            }
            if let Some(dob) = c.dob {
                o.plain("dob", dob);
            }
            o.texts("evidence", c.evidence.iter().map(Reference::as_str));
            o.text("reason", c.reason.as_str());
            o.text("requested_by", c.requested_by.as_str());
            o.opt_text("approved_by", c.approved_by.as_ref().map(Reference::as_str));
        }
        Event::Review(r) => {
            if let Some(e) = &r.evidence {
                o.texts("evidence", [e.as_str()]);
            }
            o.opt_text("reason", r.reason.as_ref().map(Reference::as_str));
            o.plain("decision", r.decision.code());
            o.number("event", r.event);
            o.text("by", r.by.as_str());
            o.plain("date", r.date);
        }
        Event::ReportWithdrawal(w) => {
            o.plain("source", w.source);
            o.texts("evidence", [w.evidence.as_str()]);
            o.text("reason", w.reason.as_str());
            o.number("report", w.report);
        }
        Event::ReportAlias(a) => {
            let n = &a.name;
            o.opt_text("first", n.first.as_ref().map(|p| p.original()));
            o.opt_text("middle", n.middle.as_ref().map(|p| p.original()));
            o.opt_text("last", n.last.as_ref().map(|p| p.original()));
            o.opt_text("suffix", n.suffix.as_ref().map(|s| s.part().original()));
            o.texts("evidence", [a.evidence.as_str()]);
            o.number("report", a.report);
            if let Some(other) = a.alias_ssn {
                o.plain("alias_ssn", other);
            }
        }
    }
    o.finish()
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
    macro_rules! typed {
        ($field:literal, $value:expr, $t:ty) => {
            need($field, $value)?
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
    let sex = || -> Result<Option<Sex>, DecodeError> {
        b.sex
            .as_deref()
            .map(|s| match s {
                "F" => Ok(Sex::Female),
                "M" => Ok(Sex::Male),
                other => Err(fail(format!("sex: {other:?}"))),
            })
            .transpose()
    };
    let subject = || -> Result<Subject, DecodeError> {
        Ok(Subject {
            ssn,
            name: ReportedName::parse(
                b.first.as_deref(),
                b.middle.as_deref(),
                b.last.as_deref(),
                b.suffix.as_deref(),
            )
            .map_err(|(field, e)| fail(format!("{field}: {e}")))?,
            dob: optional_date("dob", &b.dob)?,
            sex: sex()?,
        })
    };
    let optional_reference =
        |field: &'static str, v: &Option<String>| -> Result<Option<Reference>, DecodeError> {
            v.as_deref()
                .map(Reference::new)
                .transpose()
                .map_err(|e| fail(format!("{field}: {e}")))
        };
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
            sex: sex()?,
            dob: optional_date("dob", &b.dob)?,
            birth_state: b.birth_state.clone(),
        }),
        "death_report" => {
            let subject = subject()?;
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
                supersedes: b.supersedes,
            })
        }
        "status_notice" => Event::StatusNotice(NoticeEvent {
            notice: StatusNotice {
                subject: subject()?,
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
        "contest_decision" => Event::ContestDecision(ContestDecisionEvent {
            ssn,
            notice: b
                .notice
                .ok_or_else(|| fail("notice is missing".to_owned()))?,
            upheld: match b.decision.as_deref() {
                Some("upheld") => true,
                Some("denied") => false,
                None => return Err(fail("decision is missing".to_owned())),
                Some(other) => return Err(fail(format!("decision: {other:?}"))),
            },
            decided_by: reference("decided_by", &b.decided_by)?,
            reason: reference("reason", &b.reason)?,
        }),
        "presumed_deceased" => Event::Presumption(PresumptionEvent {
            ssn,
            criterion: reference("criterion", &b.criterion)?,
            legal_basis: reference("legal_basis", &b.legal_basis)?,
            recorded_by: reference("recorded_by", &b.recorded_by)?,
        }),
        "dmf_delete" => Event::ImportDelete(ImportDelete {
            ssn,
            evidence: evidence(0)?,
        }),
        "identity_change" => Event::IdentityChange(IdentityChangeEvent {
            ssn,
            name: if b.first.is_some() || b.last.is_some() {
                Some(name()?)
            } else {
                None
            },
            dob: optional_date("dob", &b.dob)?,
            sex: sex()?,
            reason: reference("reason", &b.reason)?,
            evidence: (0..b.evidence.len())
                .map(evidence)
                .collect::<Result<Vec<_>, _>>()?,
            requested_by: reference("requested_by", &b.requested_by)?,
            approved_by: optional_reference("approved_by", &b.approved_by)?,
        }),
        "review" => Event::Review(ReviewEvent {
            ssn,
            event: b.event.ok_or_else(|| fail("event is missing".to_owned()))?,
            decision: match b.decision.as_deref() {
                Some("confirm") => ReviewDecision::Confirm,
                Some("reject") => ReviewDecision::Reject,
                None => return Err(fail("decision is missing".to_owned())),
                Some(other) => return Err(fail(format!("decision: {other:?}"))),
            },
            by: reference("by", &b.by)?,
            evidence: if b.evidence.is_empty() {
                None
            } else {
                Some(evidence(0)?)
            },
            reason: optional_reference("reason", &b.reason)?,
            date: typed!("date", &b.date, Date),
        }),
        "report_withdrawal" => Event::ReportWithdrawal(ReportWithdrawal {
            ssn,
            report: b
                .report
                .ok_or_else(|| fail("report is missing".to_owned()))?,
            source: typed!("source", &b.source, dmf_model::DeathSource),
            evidence: evidence(0)?,
            reason: reference("reason", &b.reason)?,
        }),
        "report_alias" => Event::ReportAlias(ReportAlias {
            ssn,
            report: b
                .report
                .ok_or_else(|| fail("report is missing".to_owned()))?,
            name: subject()?.name,
            alias_ssn: b
                .alias_ssn
                .as_deref()
                .map(|s| SsnDigits::parse_digits(s.as_bytes()))
                .transpose()
                .map_err(|e| fail(format!("alias_ssn: {e}")))?,
            evidence: evidence(0)?,
        }),
        other => return Err(fail(format!("unknown event type {other:?}"))),
    })
}
