//! Identity work, for the API and the console alike: the queue of death reports and status
//! notices held because they do not name the person on file, their review by two people, and
//! identity changes (a new name, a corrected date of birth or sex) with a second person's
//! confirmation. Each step is an event in the log; the rules are the registry's.

use std::sync::Arc;

use dmf_model::{Date, Ssn};
use dmf_registry::render;
use dmf_registry::requests::{IdentityChangeFields, ReviewFields};
use dmf_registry::state::{HeldItem, HeldStatus, PersonState};

use crate::accounting::Disclosure;
use crate::error::{ApiError, Code};
use crate::services::corrections::Actor;
use crate::services::submit::submit_one;
use crate::views::{HeldEntry, ProposalEntry};
use crate::{App, now_ms};

/// One held report or notice as a caseworker sees it: what it named against what is on file.
#[derive(Debug, Clone)]
pub(crate) struct HeldView {
    pub seq: u64,
    pub ssn: Ssn,
    /// `death_report` or `status_notice`.
    pub kind: &'static str,
    pub reason: &'static str,
    /// `source:KIND` or `authority:NAME`.
    pub from: String,
    pub day: Date,
    /// What it named, as given: `PAT DOE, born 1950-01-01`.
    pub named: String,
    pub differences: Vec<dmf_registry::identity::Difference>,
    /// The first of the two people, once one has confirmed.
    pub confirmed_by: Option<String>,
}

/// An identity change waiting for its second person.
#[derive(Debug, Clone)]
pub(crate) struct ProposalView {
    pub seq: u64,
    pub ssn: Ssn,
    pub requested_by: String,
    pub reason: String,
}

/// Open work of one person.
pub(crate) fn open_of(ssn: Ssn, state: &PersonState) -> (Vec<HeldView>, Vec<ProposalView>) {
    let held = state
        .held()
        .iter()
        .filter_map(|h| {
            let HeldStatus::Open { confirmed_by } = &h.status else {
                return None;
            };
            Some(HeldView {
                seq: h.seq,
                ssn,
                kind: match h.item {
                    HeldItem::Report(_) => "death_report",
                    HeldItem::Notice(_) => "status_notice",
                },
                reason: h.reason.code(),
                from: h.item.group(),
                day: h.item.day(),
                named: named(h.item.subject()),
                differences: h.differences.clone(),
                confirmed_by: confirmed_by.as_ref().map(|a| a.as_str().to_owned()),
            })
        })
        .collect();
    let proposed = state
        .proposed()
        .map(|p| ProposalView {
            seq: p.seq,
            ssn,
            requested_by: p.change.requested_by.as_str().to_owned(),
            reason: p.change.reason.as_str().to_owned(),
        })
        .collect();
    (held, proposed)
}

/// What a report or notice named, as it was given (the reporter's spelling, kept as evidence):
/// `PAT DOE JR, born 1950-01-01, sex M`.
pub(crate) fn named(subject: &dmf_model::Subject) -> String {
    let mut parts = vec![named_parts(&subject.name)];
    if let Some(d) = subject.dob {
        parts.push(format!("born {d}"));
    }
    if let Some(s) = subject.sex {
        parts.push(format!("sex {}", s.code()));
    }
    parts.join(", ")
}

/// A reported name's parts in their DMF form, or `(no name)`.
pub(crate) fn named_parts(n: &dmf_model::ReportedName) -> String {
    let name: Vec<&str> = [
        n.first.as_ref().map(|p| p.dmf()),
        n.middle.as_ref().map(|p| p.dmf()),
        n.last.as_ref().map(|p| p.dmf()),
        n.suffix.as_ref().map(|s| s.dmf()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if name.is_empty() {
        "(no name)".to_owned()
    } else {
        name.join(" ")
    }
}

/// The caseworkers' queue: up to `limit` people with open work, in SSN order, and how many
/// there are in all.
pub(crate) fn queue_of(app: &App, limit: usize) -> (Vec<HeldView>, Vec<ProposalView>, usize) {
    let index = app.index.read().expect("index lock");
    let (mut held, mut proposed) = (Vec::new(), Vec::new());
    let mut people = 0;
    for (ssn, state) in index.open_work() {
        people += 1;
        if people > limit {
            continue;
        }
        let ssn = Ssn::from_number(ssn).expect("indexed SSNs are valid");
        let (h, p) = open_of(ssn, state);
        held.extend(h);
        proposed.extend(p);
    }
    (held, proposed, people)
}

/// The fields a held item shows of the person on file.
const HELD_FIELDS: [&str; 3] = ["identity_on_file", "held_report", "differences"];

/// Records that `actor` was shown these people's held work.
pub(crate) fn account_shown(
    app: &App,
    actor: &Actor,
    ssns: impl IntoIterator<Item = Ssn>,
) -> crate::accounting::Ticket {
    let at_ms = now_ms();
    let mut seen: Vec<u32> = ssns.into_iter().map(Ssn::as_u32).collect();
    seen.sort_unstable();
    seen.dedup();
    app.accounting.record_many(
        seen.into_iter()
            .map(|ssn| Disclosure {
                ssn,
                at_ms,
                key_id: actor.id,
                key_name: actor.name.clone(),
                purpose: "held_for_identity".into(),
                fields: HELD_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            })
            .collect(),
    )
}

impl HeldView {
    /// As the queue answers it.
    pub fn entry(&self) -> HeldEntry {
        HeldEntry {
            seq: self.seq,
            ssn: self.ssn.to_string(),
            kind: self.kind,
            reason: self.reason,
            from: self.from.clone(),
            received: self.day.to_string(),
            named: self.named.clone(),
            differences: render::differences(&self.differences),
            confirmed_by: self.confirmed_by.clone(),
        }
    }
}

impl ProposalView {
    /// As the queue answers it.
    pub fn entry(&self) -> ProposalEntry {
        ProposalEntry {
            seq: self.seq,
            ssn: self.ssn.to_string(),
            requested_by: self.requested_by.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// What a review is of: a held report or notice, or a proposed identity change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reviewed {
    Held,
    IdentityChange,
}

/// Stores a review of event `seq` by `actor`: the SSN is the event's, the rules decide whether
/// it may be reviewed (open, and not confirmed twice by the same person). Returns what it did
/// and whose record it is.
pub(crate) async fn review(
    app: &Arc<App>,
    actor: &Actor,
    seq: u64,
    what: Reviewed,
    confirm: bool,
    fields: ReviewFields,
) -> Result<(dmf_registry::Accepted, Ssn), ApiError> {
    let app2 = app.clone();
    let found = crate::services::blocking(move || {
        app2.registry
            .event(seq)
            .map_err(ApiError::internal)
            .map(|e| e.map(|(stored, _)| (stored.kind, stored.subject)))
    })
    .await?;
    let kinds: &[&str] = match what {
        Reviewed::Held => &["death_report", "status_notice"],
        Reviewed::IdentityChange => &["identity_change"],
    };
    let Some((_, Some(subject))) = found.filter(|(kind, _)| kinds.contains(&kind.as_str())) else {
        return Err(ApiError::new(
            Code::NotFound,
            match what {
                Reviewed::Held => format!("event {seq} is not a death report or status notice"),
                Reviewed::IdentityChange => format!("event {seq} is not an identity change"),
            },
        ));
    };
    let ssn = Ssn::from_number(subject).map_err(ApiError::internal)?;
    let submission = fields
        .submission(ssn, seq, confirm, &actor.name, app.today())
        .map_err(super::rejected)?;
    Ok((submit_one(app, submission).await?, ssn))
}

/// Stores an identity change asked for by `actor`: it waits for someone else to confirm it.
pub(crate) async fn propose_change(
    app: &Arc<App>,
    actor: &Actor,
    ssn: Ssn,
    fields: IdentityChangeFields,
) -> Result<dmf_registry::Accepted, ApiError> {
    let submission = fields
        .submission(ssn, &actor.name, app.today())
        .map_err(super::rejected)?;
    submit_one(app, submission).await
}
