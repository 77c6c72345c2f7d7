//! Current state per SSN, derived from events by the intake rules.
//!
//! [`PersonState::apply`] is the only place where rules change state, and it is deterministic:
//! replaying a person's events in sequence order always gives the state the writer saw.
//! [`PersonState::check`] refuses what makes no sense against the state, with a typed
//! [`Violation`]; the index of everyone's state is `crate::index`.

use dmf_model::Seq;
use dmf_model::{
    Actor, Date, DeathSource, NamePart, NoticeKind, PartialDate, PersonName, Reference, Sex, Ssn,
    Subject, Suffix, VerificationLevel, add_federal_working_days,
};

use crate::event::{
    CONTEST_WORKING_DAYS, Event, IdentityChangeEvent, ImportedChange, NoticeEvent, Origin,
    ReportEvent, ReviewDecision,
};
use crate::identity::{self, Difference, Generation, Reported, Verdict, initial_of};
use crate::names::{FirstKey, LastKey};
use crate::violation::{Field, Violation};

pub use crate::identity::Identity;

/// The identity of a numberholder record or a full name, in the forms compared.
pub fn identity_of(
    name: &PersonName,
    dob: Option<PartialDate>,
    sex: Option<Sex>,
    issued: bool,
) -> Identity {
    let parts = (
        &name.first,
        name.middle.as_ref(),
        &name.last,
        name.suffix.as_ref(),
    );
    identity_from(parts, dob, sex, issued)
}

/// The identity of a name's parts (first, middle, last, suffix).
fn identity_from(
    (first, middle, last, suffix): (&NamePart, Option<&NamePart>, &NamePart, Option<&Suffix>),
    dob: Option<PartialDate>,
    sex: Option<Sex>,
    issued: bool,
) -> Identity {
    Identity {
        first: FirstKey::of(first.dmf()),
        last: LastKey::of(last.dmf()),
        dob,
        sex,
        middle: middle.and_then(|m| initial_of(m.dmf())),
        suffix: suffix.and_then(|s| Generation::of(s.part().original())),
        issued,
    }
}

/// The identity a report or notice names, if it gives a whole name (not a numberholder's).
fn named_identity(subject: &Subject) -> Option<Identity> {
    let n = &subject.name;
    let parts = (
        n.first.as_ref()?,
        n.middle.as_ref(),
        n.last.as_ref()?,
        n.suffix.as_ref(),
    );
    Some(identity_from(parts, subject.dob, subject.sex, false))
}

/// Why a report or notice is held rather than applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HoldReason {
    /// The identity it gives differs from the person on file under its SSN.
    IdentityMismatch,
    /// Nothing differs, but it leaves out what must be compared: the first or last name, the
    /// date of birth on file, or the generational suffix on file.
    IdentityIncomplete,
    /// No one is on file under its SSN.
    UnknownSsn,
}

impl HoldReason {
    pub const ALL: [HoldReason; 3] = [
        HoldReason::IdentityMismatch,
        HoldReason::IdentityIncomplete,
        HoldReason::UnknownSsn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            HoldReason::IdentityMismatch => "identity_mismatch",
            HoldReason::IdentityIncomplete => "identity_incomplete",
            HoldReason::UnknownSsn => "unknown_ssn",
        }
    }
}

/// What is held: the report or notice as received, applied as it is if confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldItem {
    Report(ReportEvent),
    Notice(NoticeEvent),
}

impl HeldItem {
    /// The group oversight counts it in: `source:KIND` or `authority:NAME`.
    pub fn group(&self) -> String {
        match self {
            HeldItem::Report(r) => format!("source:{}", r.report.source().code()),
            HeldItem::Notice(n) => format!("authority:{}", n.notice.authority.as_str()),
        }
    }

    /// The day it was received (or the notice sent).
    pub fn day(&self) -> Date {
        match self {
            HeldItem::Report(r) => r.received,
            HeldItem::Notice(n) => n.notice_sent,
        }
    }

    pub fn subject(&self) -> &Subject {
        match self {
            HeldItem::Report(r) => r.report.subject(),
            HeldItem::Notice(n) => &n.notice.subject,
        }
    }
}

/// Where a held report or notice stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldStatus {
    /// Waiting for caseworkers; `confirmed_by` once the first of two has confirmed.
    Open { confirmed_by: Option<Actor> },
    /// Confirmed by two people (the second's review event): it applied.
    Confirmed { by: Seq },
    /// Rejected (the review event): it never applies.
    Rejected { by: Seq },
    /// Withdrawn by its reporter (the withdrawal or amendment event): it never applies.
    Withdrawn { by: Seq },
}

/// A report or notice held for its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub seq: Seq,
    pub reason: HoldReason,
    /// Each field that differs, reported against on file.
    pub differences: Vec<Difference>,
    pub item: HeldItem,
    pub status: HeldStatus,
}

impl Held {
    pub fn is_open(&self) -> bool {
        matches!(self.status, HeldStatus::Open { .. })
    }
}

/// An identity change waiting for its second person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedChange {
    pub seq: Seq,
    pub change: IdentityChangeEvent,
    /// The review that decided it, and whether it confirmed.
    pub decided: Option<(Seq, bool)>,
}

/// A recorded death and what it stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeathFact {
    pub dod: PartialDate,
    /// The source of the report it stands on.
    pub source: DeathSource,
    pub verification: VerificationLevel,
    /// The event that established it (a report, or a caseworker's verification).
    pub established_by: Seq,
    /// Every kind of source that reported this death: the one it stands on and each whose
    /// report agreed with it.
    pub sources: Sources,
}

impl DeathFact {
    /// A state is its sole source: the death goes to federal benefit programs alone
    /// (42 U.S.C. 405(r)). One another source reported too is not state data only.
    pub fn state_only(&self) -> bool {
        self.sources == Sources::of(DeathSource::StateVitalRecords)
    }
}

/// A set of kinds of death source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sources(u8);

impl Sources {
    pub fn of(source: DeathSource) -> Sources {
        Sources(1 << source as u8)
    }

    pub fn with(self, source: DeathSource) -> Sources {
        Sources(self.0 | Sources::of(source).0)
    }

    pub fn contains(self, source: DeathSource) -> bool {
        self.0 & Sources::of(source).0 != 0
    }

    /// The set as bits, one per source in [`DeathSource::ALL`] order (what a snapshot writes).
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// The set of these bits, if each names a source.
    pub(crate) fn from_bits(bits: u8) -> Option<Sources> {
        (u32::from(bits) < 1 << DeathSource::ALL.len()).then_some(Sources(bits))
    }

    /// Each source in the set, in the order of [`DeathSource::ALL`].
    pub fn iter(self) -> impl Iterator<Item = DeathSource> {
        DeathSource::ALL
            .into_iter()
            .filter(move |s| self.contains(*s))
    }
}

/// A report waiting for a second independent source or a caseworker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReport {
    pub seq: Seq,
    pub dod: PartialDate,
    pub source: DeathSource,
    /// Who the report names, taken over if the death is established and no one is on file.
    pub identity: Option<Identity>,
}

/// A report that agreed with the recorded death: kept whole, so that if the report the death
/// stands on is withdrawn, the death can stand on these as the intake rules decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corroboration {
    pub seq: Seq,
    pub dod: PartialDate,
    pub source: DeathSource,
}

impl PendingReport {
    fn corroboration(&self) -> Corroboration {
        Corroboration {
            seq: self.seq,
            dod: self.dod,
            source: self.source,
        }
    }
}

/// Where a report that still counts (or waits) stands: see [`PersonState::report_standing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStanding {
    /// The recorded death stands on it.
    Death,
    /// It agreed with the recorded death.
    Corroboration,
    /// It waits for a second source or a caseworker.
    Pending,
    /// It is held for a caseworker's review (its date conflicts).
    Review,
    /// It is held for its identity.
    Held,
}

/// A report held for a caseworker's review, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub seq: Seq,
    pub source: DeathSource,
    pub reason: String,
}

/// A status notice and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeState {
    pub seq: Seq,
    pub kind: NoticeKind,
    pub authority: Reference,
    pub effective: Date,
    pub notice_sent: Date,
    pub contest_deadline: Date,
    /// The contest event that suspended it. It stays set once decided, so that a decided
    /// notice can never be contested again.
    pub contested_by: Option<Seq>,
    /// How the contest ended, once decided.
    pub decision: Option<NoticeDecision>,
}

/// The decision that ended a notice's contest, kept so that answers and history can say why a
/// contested notice is withdrawn or in force again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeDecision {
    /// The `contest_decision` event.
    pub seq: Seq,
    /// `true`: the contest succeeded and the notice is withdrawn.
    pub upheld: bool,
}

/// Where a status notice stands on a given day: one place for the rules that every answer and
/// listing must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    /// Not contested (or contest denied) and its effective date is still ahead.
    NotYetEffective,
    /// Effective and not contested.
    InForce,
    /// Contested and not yet decided: suspended.
    Contested,
    /// The contest was upheld: the notice never counts against the person again.
    Withdrawn,
    /// The contest was denied: the notice is in force again, and can no longer be contested.
    Reinstated,
}

impl NoticeStatus {
    pub fn code(self) -> &'static str {
        match self {
            NoticeStatus::NotYetEffective => "not_yet_effective",
            NoticeStatus::InForce => "in_force",
            NoticeStatus::Contested => "contested",
            NoticeStatus::Withdrawn => "withdrawn",
            NoticeStatus::Reinstated => "in_force_after_contest",
        }
    }
}

impl NoticeState {
    /// Whether the notice counts against the person on `today`: effective, and either never
    /// contested or contested and the contest denied.
    pub fn in_force(&self, today: Date) -> bool {
        self.effective <= today
            && match (self.contested_by, self.decision) {
                (None, _) => true,
                (Some(_), Some(d)) => !d.upheld,
                (Some(_), None) => false,
            }
    }

    /// The notice's status on `today`. A withdrawal or a pending contest is reported even before
    /// the effective date, as it decides whether the notice will ever take effect.
    pub fn status(&self, today: Date) -> NoticeStatus {
        match (self.contested_by, self.decision) {
            (_, Some(d)) if d.upheld => NoticeStatus::Withdrawn,
            (Some(_), None) => NoticeStatus::Contested,
            _ if self.effective > today => NoticeStatus::NotYetEffective,
            (_, Some(_)) => NoticeStatus::Reinstated,
            (None, None) => NoticeStatus::InForce,
        }
    }
}

/// A death that was recorded and then corrected (the person is alive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectedDeath {
    pub dod: PartialDate,
    /// The report (or verification) the corrected death stood on.
    pub report: Seq,
    pub corrected_by: Seq,
}

/// What is rarely present, boxed so that most people cost little memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    pub pending: Vec<PendingReport>,
    pub review: Vec<Review>,
    pub corroborations: Vec<Corroboration>,
    pub corrected: Vec<CorrectedDeath>,
    pub notices: Vec<NoticeState>,
    /// The `presumed_deceased` event in effect: rare, so kept here rather than in every person.
    pub presumed: Option<Seq>,
    /// Reports and notices held for their identity, open or decided.
    pub held: Vec<Held>,
    /// Identities the person held before recorded identity changes, oldest first: reports
    /// naming them still agree.
    pub former: Vec<Identity>,
    /// The identity changes applied, in order (what the published record's name is made of).
    pub identity_changes: Vec<Seq>,
    /// Identity changes waiting for a second person.
    pub proposed: Vec<ProposedChange>,
}

/// Everything the answers need about one SSN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonState {
    /// Who is on file: the numberholder (`issued`), or lacking one the person a death record
    /// names.
    pub identity: Option<Identity>,
    pub death: Option<DeathFact>,
    pub extra: Option<Box<Extra>>,
}

/// What an accepted event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A numberholder record was stored.
    Recorded,
    /// The person is now recorded as deceased.
    Deceased,
    /// The report waits for a second independent source or a caseworker; answers do not change.
    Pending,
    /// The report agrees with the recorded death.
    Corroborated,
    /// The report is held for a caseworker's review.
    HeldForReview(String),
    /// The report or notice is held for its identity: it changes nothing until two people
    /// confirm it.
    Held {
        reason: HoldReason,
        differences: Vec<Difference>,
    },
    /// The first of two confirmations of a held report or notice is recorded.
    AwaitingSecondPerson,
    /// A held report or notice, or a proposed identity change, was rejected: it never applies.
    Dismissed,
    /// The identity on file changed.
    IdentityChanged,
    /// An identity change waits for a second person.
    Proposed,
    /// An imported change record replaced the recorded death's values.
    Amended,
    /// The person is alive: recorded and pending deaths were corrected.
    Reinstated,
    /// A status notice is in force, contestable until the deadline.
    NoticeRecorded { contest_deadline: Date },
    /// A contest suspended the status notices named.
    Suspended(Vec<Seq>),
    /// A contest of the status notice was decided: `upheld` withdraws it, otherwise it is in
    /// force again.
    Decided { notice: Seq, upheld: bool },
    /// An imported death was withdrawn (a `D` record).
    Withdrawn,
    /// The person is presumed deceased: not a death, and no answer says deceased.
    Presumed,
    /// The idempotency key was seen before: nothing was stored.
    Duplicate,
    /// A report was withdrawn by its source; the recorded death, if any, stands on others.
    ReportWithdrawn,
    /// Identity evidence was kept with a report; nothing else changed.
    Noted,
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Recorded => "recorded",
            Outcome::Deceased => "deceased",
            Outcome::Pending => "pending",
            Outcome::Corroborated => "corroborated",
            Outcome::HeldForReview(_) => "held_for_review",
            Outcome::Held { .. } => "held",
            Outcome::AwaitingSecondPerson => "awaiting_second_person",
            Outcome::Dismissed => "dismissed",
            Outcome::IdentityChanged => "identity_changed",
            Outcome::Proposed => "proposed",
            Outcome::Amended => "amended",
            Outcome::Reinstated => "reinstated",
            Outcome::NoticeRecorded { .. } => "notice_recorded",
            Outcome::Suspended(_) => "suspended",
            Outcome::Decided { .. } => "decided",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Presumed => "presumed",
            Outcome::Duplicate => "duplicate",
            Outcome::ReportWithdrawn => "report_withdrawn",
            Outcome::Noted => "noted",
        }
    }
}

impl PersonState {
    pub fn extra(&self) -> Option<&Extra> {
        self.extra.as_deref()
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// A numberholder record exists (the SSN was issued).
    pub fn issued(&self) -> bool {
        self.identity.is_some_and(|i| i.issued)
    }

    /// Every status notice of the SSN, whatever its status (see [`NoticeState::status`]).
    pub fn notices(&self) -> &[NoticeState] {
        self.extra().map_or(&[], |e| &e.notices)
    }

    /// The `presumed_deceased` event in effect, if the person is presumed deceased.
    pub fn presumed(&self) -> Option<Seq> {
        self.extra().and_then(|e| e.presumed)
    }

    /// Reports and notices held for their identity, open or decided.
    pub fn held(&self) -> &[Held] {
        self.extra().map_or(&[], |e| &e.held)
    }

    /// Identity changes waiting for their second person.
    pub fn proposed(&self) -> impl Iterator<Item = &ProposedChange> {
        self.extra()
            .map_or(&[][..], |e| &e.proposed)
            .iter()
            .filter(|p| p.decided.is_none())
    }

    /// A held report or notice, or a proposed identity change, waits for caseworkers.
    pub fn has_open_work(&self) -> bool {
        self.held().iter().any(Held::is_open) || self.proposed().next().is_some()
    }

    /// Every identity the person is known by: the current one, then those held before
    /// recorded identity changes, newest first.
    pub fn identities(&self) -> impl Iterator<Item = &Identity> {
        let former = self.extra().map_or(&[][..], |e| &e.former);
        self.identity.iter().chain(former.iter().rev())
    }

    /// The identity comparison of what a report or notice names with the person on file, or
    /// `None` when no one is on file.
    pub fn compare(&self, subject: &Subject) -> Option<identity::Comparison> {
        identity::compare_any(&Reported::of(subject), self.identities())
    }

    /// Why a report or notice naming `subject` must be held, if it must: it changes only the
    /// person it names. A record imported from an earlier master file is checked only against
    /// a numberholder record (against its own file's records it is that file's history).
    fn identity_hold(
        &self,
        subject: &Subject,
        origin: &Origin,
    ) -> Option<(HoldReason, Vec<Difference>)> {
        let imported = matches!(origin, Origin::Imported { .. });
        match self.identity {
            None if imported => None,
            None => Some((HoldReason::UnknownSsn, Vec::new())),
            Some(id) if imported && !id.issued => None,
            Some(_) => {
                let c = self.compare(subject)?;
                match c.verdict() {
                    Verdict::Agrees => None,
                    // An earlier master file's record was checked there: held only if it names
                    // someone else, not for what it leaves blank.
                    Verdict::Incomplete if imported => None,
                    // What it leaves out, with what is on file, for the caseworker.
                    Verdict::Incomplete => Some((HoldReason::IdentityIncomplete, c.missing)),
                    Verdict::Differs(d) => Some((HoldReason::IdentityMismatch, d)),
                }
            }
        }
    }

    /// Refuses events that make no sense against the current state; nothing is stored then.
    pub fn check(&self, ssn: Ssn, event: &Event) -> Result<(), Violation> {
        let extra = self.extra();
        let pending = extra.map_or(&[][..], |e| &e.pending);
        match event {
            Event::Person(p) => match self.identity {
                Some(on_file) if on_file.issued => {
                    let given = identity_of(&p.name, p.dob, p.sex, true);
                    conflict(&on_file, &given)
                }
                _ => Ok(()),
            },
            Event::DeathReport(r) => {
                if let Some(old) = r.supersedes {
                    self.check_withdrawal(ssn, old, r.report.source(), Field::Supersedes)?;
                }
                // A date of death before the birth on file: the report gave no date of birth
                // (it was checked against its own) or another one.
                let dod = r.report.dod();
                match self.identity.and_then(|i| i.dob) {
                    Some(dob) if self.issued() && dod.latest() < dob.earliest() => {
                        Err(Violation::new(
                            Field::Dod,
                            format!(
                                "the date of death {dod} is before the date of birth on file ({dob})"
                            ),
                        ))
                    }
                    _ => Ok(()),
                }
            }
            Event::Verification(v) => match v.report {
                Some(seq) if !pending.iter().any(|p| p.seq == seq) => Err(Violation::new(
                    Field::Report,
                    format!("event {seq} is not a pending death report of SSN {ssn}"),
                )),
                None if pending.is_empty() => Err(Violation::new(
                    Field::Ssn,
                    format!("SSN {ssn} has no pending death report to verify"),
                )),
                _ => Ok(()),
            },
            Event::Correction(_) => {
                let review = extra.is_some_and(|e| !e.review.is_empty());
                // A presumption is undone by the same two-person "this person is alive".
                let presumed = self.presumed().is_some();
                if self.death.is_none() && pending.is_empty() && !review && !presumed {
                    Err(Violation::new(
                        Field::Ssn,
                        format!(
                            "SSN {ssn} is not recorded as deceased and has no pending death report"
                        ),
                    ))
                } else {
                    Ok(())
                }
            }
            Event::Contest(c) => {
                let open = |n: &&NoticeState| {
                    n.contested_by.is_none() && c.notice.is_none_or(|s| s == n.seq)
                };
                if self.notices().iter().any(|n| open(&n)) {
                    Ok(())
                } else {
                    let path = if c.notice.is_some() {
                        Field::Notice
                    } else {
                        Field::Ssn
                    };
                    Err(Violation::new(
                        path,
                        format!("SSN {ssn} has no such uncontested status notice"),
                    ))
                }
            }
            Event::ContestDecision(d) => {
                let notice = d.notice;
                match self.notices().iter().find(|n| n.seq == notice) {
                    None => Err(Violation::new(
                        Field::Notice,
                        format!("event {notice} is not a status notice of SSN {ssn}"),
                    )),
                    Some(n) if n.contested_by.is_none() => Err(Violation::new(
                        Field::Notice,
                        format!("status notice {notice} is not contested"),
                    )),
                    Some(NoticeState {
                        decision: Some(earlier),
                        ..
                    }) => Err(Violation::new(
                        Field::Notice,
                        format!(
                            "the contest of status notice {notice} was already decided by event {}",
                            earlier.seq
                        ),
                    )),
                    Some(_) => Ok(()),
                }
            }
            Event::Presumption(_) if self.death.is_some() => Err(Violation::new(
                Field::Ssn,
                format!("SSN {ssn} is already recorded as deceased"),
            )),
            Event::Presumption(_) => match self.presumed() {
                Some(seq) => Err(Violation::new(
                    Field::Ssn,
                    format!("SSN {ssn} is already presumed deceased by event {seq}"),
                )),
                None => Ok(()),
            },
            Event::ImportDelete(_) if self.death.is_none() => Err(Violation::new(
                Field::Ssn,
                format!("SSN {ssn} has no recorded death to delete"),
            )),
            Event::IdentityChange(_) if self.identity.is_none() => Err(Violation::new(
                Field::Ssn,
                format!("no one is on file under SSN {ssn}: there is no identity to change"),
            )),
            Event::Review(r) => self.check_review(ssn, r),
            Event::ReportWithdrawal(w) => {
                self.check_withdrawal(ssn, w.report, w.source, Field::Report)
            }
            Event::ReportAlias(a) => match self.report_standing(a.report) {
                Some(_) => Ok(()),
                None => Err(Violation::new(
                    Field::Report,
                    format!(
                        "event {} is not a death report of SSN {ssn} that still counts",
                        a.report
                    ),
                )),
            },
            _ => Ok(()),
        }
    }

    /// Where the report at `seq` stands and its source, if it still counts or waits: the one
    /// the death stands on, one that agreed with it, pending, held for review or for its
    /// identity. `None` for anything else (withdrawn, superseded, corrected, rejected).
    pub fn report_standing(&self, seq: Seq) -> Option<(ReportStanding, DeathSource)> {
        if let Some(d) = self.death
            && d.established_by == seq
        {
            return Some((ReportStanding::Death, d.source));
        }
        let e = self.extra()?;
        let found = |standing, source| Some((standing, source));
        if let Some(c) = e.corroborations.iter().find(|c| c.seq == seq) {
            return found(ReportStanding::Corroboration, c.source);
        }
        if let Some(p) = e.pending.iter().find(|p| p.seq == seq) {
            return found(ReportStanding::Pending, p.source);
        }
        if let Some(r) = e.review.iter().find(|r| r.seq == seq) {
            return found(ReportStanding::Review, r.source);
        }
        e.held.iter().find_map(|h| match &h.item {
            HeldItem::Report(r) if h.seq == seq && h.is_open() => {
                found(ReportStanding::Held, r.report.source())
            }
            _ => None,
        })
    }

    /// Only a report that still counts may be withdrawn or amended, and only by its source.
    fn check_withdrawal(
        &self,
        ssn: Ssn,
        report: Seq,
        source: DeathSource,
        field: Field,
    ) -> Result<(), Violation> {
        match self.report_standing(report) {
            None => Err(Violation::new(
                field,
                format!("event {report} is not a death report of SSN {ssn} that still counts"),
            )),
            Some((_, from)) if from != source => Err(Violation::new(
                Field::Source,
                format!(
                    "report {report} came from {from}: only its source may withdraw or amend it"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Takes the report at `seq` out of what counts, at event `by`. A death that stood on it
    /// stands again on the reports that agreed with it, as the intake rules decide for them
    /// (a state's report establishes it, two sources agreeing do, one alone waits).
    fn withdraw_report(&mut self, seq: Seq, by: Seq) {
        let Some((standing, _)) = self.report_standing(seq) else {
            return;
        };
        match standing {
            ReportStanding::Death => {
                self.death = None;
                let rest = std::mem::take(&mut self.extra_mut().corroborations);
                for c in rest {
                    let fact = DeathFact {
                        dod: c.dod,
                        source: c.source,
                        verification: if c.source.verified_on_receipt() {
                            VerificationLevel::Verified
                        } else {
                            VerificationLevel::None
                        },
                        established_by: c.seq,
                        sources: Sources::of(c.source),
                    };
                    // Someone is on file: the death that stood put them there.
                    self.apply_report(c.seq, fact, &Origin::Submitted, &|| None);
                }
            }
            ReportStanding::Corroboration => {
                let extra = self.extra.get_or_insert_with(Box::default);
                extra.corroborations.retain(|c| c.seq != seq);
                if let Some(d) = &mut self.death {
                    let sources = extra.corroborations.iter().map(|c| c.source);
                    d.sources = sources.fold(Sources::of(d.source), Sources::with);
                }
            }
            ReportStanding::Pending => self.extra_mut().pending.retain(|p| p.seq != seq),
            ReportStanding::Review => self.extra_mut().review.retain(|r| r.seq != seq),
            ReportStanding::Held => {
                for h in &mut self.extra_mut().held {
                    if h.seq == seq {
                        h.status = HeldStatus::Withdrawn { by };
                    }
                }
            }
        }
    }

    fn check_review(&self, ssn: Ssn, r: &crate::event::ReviewEvent) -> Result<(), Violation> {
        let confirm = r.decision == ReviewDecision::Confirm;
        if confirm && r.evidence.is_none() {
            return Err(Violation::new(
                Field::Evidence,
                "is required to confirm: say how the identity was checked",
            ));
        }
        let extra = self.extra();
        if let Some(h) = extra.and_then(|e| e.held.iter().find(|h| h.seq == r.event)) {
            return match &h.status {
                HeldStatus::Confirmed { by }
                | HeldStatus::Rejected { by }
                | HeldStatus::Withdrawn { by } => Err(Violation::new(
                    Field::Event,
                    format!("held event {} was already decided by event {by}", h.seq),
                )),
                HeldStatus::Open {
                    confirmed_by: Some(first),
                } if confirm && first.as_str().eq_ignore_ascii_case(r.by.as_str()) => {
                    Err(Violation::new(
                        Field::By,
                        format!(
                            "{first} confirmed held event {} already: a second person must",
                            h.seq
                        ),
                    ))
                }
                HeldStatus::Open { .. }
                    if confirm
                        && self.identity.is_none()
                        && h.item.subject().name.complete().is_none() =>
                {
                    Err(Violation::new(
                        Field::Event,
                        format!(
                            "held event {} names no one (first and last name) and no one is on file under SSN {ssn}: it cannot apply",
                            h.seq
                        ),
                    ))
                }
                HeldStatus::Open { .. } => Ok(()),
            };
        }
        if let Some(p) = extra.and_then(|e| e.proposed.iter().find(|p| p.seq == r.event)) {
            return match p.decided {
                Some((by, _)) => Err(Violation::new(
                    Field::Event,
                    format!(
                        "identity change {} was already decided by event {by}",
                        p.seq
                    ),
                )),
                None if confirm
                    && p.change
                        .requested_by
                        .as_str()
                        .eq_ignore_ascii_case(r.by.as_str()) =>
                {
                    Err(Violation::new(
                        Field::By,
                        format!(
                            "{} asked for identity change {}: a second person must confirm it",
                            p.change.requested_by, p.seq
                        ),
                    ))
                }
                None => Ok(()),
            };
        }
        Err(Violation::new(
            Field::Event,
            format!(
                "event {} is not a held report or notice, or a proposed identity change, of SSN {ssn}",
                r.event
            ),
        ))
    }

    /// Applies an accepted event at sequence number `seq`.
    pub fn apply(&mut self, seq: Seq, event: &Event) -> Outcome {
        match event {
            Event::Person(p) => {
                let given = identity_of(&p.name, p.dob, p.sex, true);
                match self.identity {
                    // As checked: the same person again; a numberholder record is changed only
                    // by an identity change.
                    Some(on_file) if on_file.issued => {}
                    // Known from a death record until now: the numberholder record is the
                    // identity on file, and reports naming the other still agree.
                    Some(known) => {
                        self.extra_mut().former.push(known);
                        self.identity = Some(given);
                    }
                    None => self.identity = Some(given),
                }
                Outcome::Recorded
            }
            Event::DeathReport(r) => {
                let before = self.death;
                if let Some(old) = r.supersedes {
                    self.withdraw_report(old, seq);
                }
                let subject = r.report.subject();
                let outcome = match self.identity_hold(subject, &r.origin) {
                    Some((reason, differences)) => {
                        self.hold_identity(seq, reason, differences, HeldItem::Report(r.clone()))
                    }
                    None => self.apply_report_event(seq, r),
                };
                // An amendment that leaves a death recorded changed the recorded death.
                match outcome {
                    Outcome::Deceased | Outcome::Corroborated
                        if r.supersedes.is_some() && before.is_some() =>
                    {
                        Outcome::Amended
                    }
                    other => other,
                }
            }
            Event::Verification(v) => {
                let extra = self.extra_mut();
                let at = match v.report {
                    Some(s) => extra.pending.iter().position(|p| p.seq == s),
                    None => extra.pending.len().checked_sub(1),
                };
                let Some(at) = at else {
                    return Outcome::Pending;
                };
                let chosen = extra.pending.remove(at);
                let named = chosen.identity;
                let (agree, disagree): (Vec<_>, Vec<_>) = extra
                    .pending
                    .drain(..)
                    .partition(|p| p.dod.is_compatible(chosen.dod));
                extra
                    .corroborations
                    .extend(agree.iter().map(PendingReport::corroboration));
                extra.review.extend(disagree.iter().map(|p| Review {
                    seq: p.seq,
                    source: p.source,
                    reason: format!(
                        "date of death {} differs from the verified {}",
                        p.dod, chosen.dod
                    ),
                }));
                let sources = agree
                    .iter()
                    .fold(Sources::of(chosen.source), |s, p| s.with(p.source));
                self.establish(
                    DeathFact {
                        dod: chosen.dod,
                        source: chosen.source,
                        verification: VerificationLevel::Verified,
                        established_by: seq,
                        sources,
                    },
                    || named,
                )
            }
            Event::Correction(_) => {
                let death = self.death.take();
                // A recorded death put the SSN on file (deaths are recorded only against
                // numbers that were issued); the person it wrongly named stays on file, alive.
                if death.is_some()
                    && let Some(id) = &mut self.identity
                {
                    id.issued = true;
                }
                let extra = self.extra_mut();
                extra.corrected.extend(death.map(|d| CorrectedDeath {
                    dod: d.dod,
                    report: d.established_by,
                    corrected_by: seq,
                }));
                for p in extra.pending.drain(..) {
                    extra.corrected.push(CorrectedDeath {
                        dod: p.dod,
                        report: p.seq,
                        corrected_by: seq,
                    });
                }
                // Reports that agreed with the wrong death were wrong too.
                if let Some(d) = death {
                    for c in extra.corroborations.drain(..) {
                        extra.corrected.push(CorrectedDeath {
                            dod: d.dod,
                            report: c.seq,
                            corrected_by: seq,
                        });
                    }
                }
                extra.review.clear();
                extra.presumed = None;
                Outcome::Reinstated
            }
            Event::StatusNotice(n) => {
                let origin = Origin::Submitted;
                match self.identity_hold(&n.notice.subject, &origin) {
                    Some((reason, differences)) => {
                        self.hold_identity(seq, reason, differences, HeldItem::Notice(n.clone()))
                    }
                    None => self.record_notice(seq, n, n.contest_deadline),
                }
            }
            Event::Contest(c) => {
                let mut suspended = Vec::new();
                for n in &mut self.extra_mut().notices {
                    if n.contested_by.is_none() && c.notice.is_none_or(|s| s == n.seq) {
                        n.contested_by = Some(seq);
                        suspended.push(n.seq);
                    }
                }
                Outcome::Suspended(suspended)
            }
            Event::ContestDecision(d) => {
                // As checked: only an undecided contest is decided; anything else changes nothing.
                let open = |n: &&mut NoticeState| {
                    n.seq == d.notice && n.contested_by.is_some() && n.decision.is_none()
                };
                if let Some(n) = self
                    .extra
                    .as_deref_mut()
                    .and_then(|e| e.notices.iter_mut().find(open))
                {
                    n.decision = Some(NoticeDecision {
                        seq,
                        upheld: d.upheld,
                    });
                }
                Outcome::Decided {
                    notice: d.notice,
                    upheld: d.upheld,
                }
            }
            Event::Presumption(_) => {
                // As checked: never over a recorded death, which it must not hide.
                if self.death.is_none() {
                    self.extra_mut().presumed = Some(seq);
                }
                Outcome::Presumed
            }
            Event::ImportDelete(_) => {
                if let Some(d) = self.death.take() {
                    let c = CorrectedDeath {
                        dod: d.dod,
                        report: d.established_by,
                        corrected_by: seq,
                    };
                    self.extra_mut().corrected.push(c);
                }
                Outcome::Withdrawn
            }
            Event::IdentityChange(c) if c.approved_by.is_some() => {
                self.change_identity(seq, c);
                Outcome::IdentityChanged
            }
            Event::IdentityChange(c) => {
                self.extra_mut().proposed.push(ProposedChange {
                    seq,
                    change: c.clone(),
                    decided: None,
                });
                Outcome::Proposed
            }
            Event::Review(r) => self.apply_review(seq, r),
            Event::ReportWithdrawal(w) => {
                let before = self.death;
                self.withdraw_report(w.report, seq);
                if before.is_some() && self.death.is_none() {
                    Outcome::Withdrawn
                } else {
                    Outcome::ReportWithdrawn
                }
            }
            Event::ReportAlias(_) => Outcome::Noted,
        }
    }

    fn apply_report_event(&mut self, seq: Seq, r: &ReportEvent) -> Outcome {
        let report = &r.report;
        // A state's report is verified on receipt, whatever level its sender gave.
        let verification = if report.source().verified_on_receipt() {
            VerificationLevel::Verified
        } else {
            report.verification()
        };
        let fact = DeathFact {
            dod: report.dod(),
            source: report.source(),
            verification,
            established_by: seq,
            sources: Sources::of(report.source()),
        };
        let subject = report.subject();
        self.apply_report(seq, fact, &r.origin, &|| named_identity(subject))
    }

    fn record_notice(&mut self, seq: Seq, n: &NoticeEvent, contest_deadline: Date) -> Outcome {
        self.extra_mut().notices.push(NoticeState {
            seq,
            kind: n.notice.kind,
            authority: n.notice.authority.clone(),
            effective: n.notice.effective,
            notice_sent: n.notice_sent,
            contest_deadline,
            contested_by: None,
            decision: None,
        });
        Outcome::NoticeRecorded { contest_deadline }
    }

    fn hold_identity(
        &mut self,
        seq: Seq,
        reason: HoldReason,
        differences: Vec<Difference>,
        item: HeldItem,
    ) -> Outcome {
        self.extra_mut().held.push(Held {
            seq,
            reason,
            differences: differences.clone(),
            item,
            status: HeldStatus::Open { confirmed_by: None },
        });
        Outcome::Held {
            reason,
            differences,
        }
    }

    fn change_identity(&mut self, seq: Seq, c: &IdentityChangeEvent) {
        // As checked: someone is on file.
        let Some(old) = self.identity else {
            return;
        };
        let mut new = old;
        if let Some(name) = &c.name {
            let named = identity_of(name, old.dob, old.sex, old.issued);
            new.first = named.first;
            new.last = named.last;
            new.middle = named.middle;
            new.suffix = named.suffix;
        }
        if let Some(dob) = c.dob {
            new.dob = Some(dob);
        }
        if let Some(sex) = c.sex {
            new.sex = Some(sex);
        }
        let extra = self.extra_mut();
        extra.former.push(old);
        extra.identity_changes.push(seq);
        self.identity = Some(new);
    }

    fn apply_review(&mut self, seq: Seq, r: &crate::event::ReviewEvent) -> Outcome {
        let confirm = r.decision == ReviewDecision::Confirm;
        let Some(extra) = self.extra.as_deref_mut() else {
            return Outcome::Dismissed;
        };
        if let Some(h) = extra
            .held
            .iter_mut()
            .find(|h| h.seq == r.event && h.is_open())
        {
            let HeldStatus::Open { confirmed_by } = &mut h.status else {
                unreachable!("open");
            };
            if !confirm {
                h.status = HeldStatus::Rejected { by: seq };
                return Outcome::Dismissed;
            }
            if confirmed_by.is_none() {
                *confirmed_by = Some(r.by.clone());
                return Outcome::AwaitingSecondPerson;
            }
            h.status = HeldStatus::Confirmed { by: seq };
            let (held_seq, item) = (h.seq, h.item.clone());
            return match item {
                HeldItem::Report(report) => self.apply_report_event(held_seq, &report),
                HeldItem::Notice(n) => {
                    // The person's contest period runs from the day the notice counts at the
                    // earliest.
                    let from_review = add_federal_working_days(r.date, CONTEST_WORKING_DAYS);
                    self.record_notice(held_seq, &n, n.contest_deadline.max(from_review))
                }
            };
        }
        if let Some(p) = extra
            .proposed
            .iter_mut()
            .find(|p| p.seq == r.event && p.decided.is_none())
        {
            p.decided = Some((seq, confirm));
            if !confirm {
                return Outcome::Dismissed;
            }
            let (change_seq, change) = (p.seq, p.change.clone());
            self.change_identity(change_seq, &change);
            return Outcome::IdentityChanged;
        }
        // As checked: never reached.
        Outcome::Dismissed
    }

    /// Records a death; a person known only from reports is known by the report's name (made
    /// only then: most deaths are of people on file).
    fn establish(&mut self, fact: DeathFact, named: impl FnOnce() -> Option<Identity>) -> Outcome {
        self.death = Some(fact);
        // A death supersedes a presumption: the person is deceased, no longer presumed.
        if let Some(e) = self.extra.as_deref_mut() {
            e.presumed = None;
        }
        if self.identity.is_none() {
            self.identity = named();
        }
        Outcome::Deceased
    }

    /// `named`: who the report names, taken over if the death is established and no one is on
    /// file (made only then).
    fn apply_report(
        &mut self,
        seq: Seq,
        fact: DeathFact,
        origin: &Origin,
        named: &dyn Fn() -> Option<Identity>,
    ) -> Outcome {
        let dod = fact.dod;
        if let Origin::Imported { change } = origin {
            return match (self.death, change) {
                (Some(d), ImportedChange::Add) if !d.dod.is_compatible(dod) => self.hold(
                    seq,
                    fact.source,
                    format!("date of death {dod} conflicts with the recorded {}", d.dod),
                ),
                (Some(_), ImportedChange::Add) => self.corroborate(seq, dod, fact.source),
                // The same death, its values amended: whoever reported it still did.
                (Some(d), ImportedChange::Change) => {
                    self.death = Some(DeathFact {
                        sources: d.sources.with(fact.source),
                        ..fact
                    });
                    Outcome::Amended
                }
                (None, _) => self.establish(fact, named),
            };
        }
        if let Some(d) = self.death {
            if d.dod.is_compatible(dod) {
                return self.corroborate(seq, dod, fact.source);
            }
            return self.hold(
                seq,
                fact.source,
                format!("date of death {dod} conflicts with the recorded {}", d.dod),
            );
        }
        let extra = self.extra_mut();
        if let Some(c) = extra.corrected.iter().find(|c| c.dod.is_compatible(dod)) {
            let reason = format!(
                "date of death {dod} matches a death corrected by event {}: a caseworker must verify",
                c.corrected_by
            );
            return self.hold(seq, fact.source, reason);
        }
        if fact.source.verified_on_receipt() {
            let (agree, disagree): (Vec<_>, Vec<_>) = extra
                .pending
                .drain(..)
                .partition(|p| p.dod.is_compatible(dod));
            extra
                .corroborations
                .extend(agree.iter().map(PendingReport::corroboration));
            extra.review.extend(disagree.iter().map(|p| Review {
                seq: p.seq,
                source: p.source,
                reason: format!("date of death {} differs from the state's {dod}", p.dod),
            }));
            // Those who reported the death before the state did reported it too.
            let sources = agree.iter().fold(fact.sources, |s, p| s.with(p.source));
            return self.establish(DeathFact { sources, ..fact }, named);
        }
        if extra.pending.iter().any(|p| !p.dod.is_compatible(dod)) {
            return self.hold(
                seq,
                fact.source,
                "conflicting dates of death among pending reports".to_owned(),
            );
        }
        if let Some(at) = extra.pending.iter().position(|p| p.source != fact.source) {
            let other = extra.pending.remove(at);
            extra.corroborations.push(other.corroboration());
            // Keep the more precise of the two dates, and with it the source of the report
            // that gave it: the death stands on that report (its files' record is made from it).
            let (dod, source) = if other.dod.day().is_some() && dod.day().is_none() {
                (other.dod, other.source)
            } else {
                (dod, fact.source)
            };
            let sources = fact.sources.with(other.source);
            return self.establish(
                DeathFact {
                    dod,
                    source,
                    sources,
                    ..fact
                },
                named,
            );
        }
        extra.pending.push(PendingReport {
            seq,
            dod,
            source: fact.source,
            identity: named(),
        });
        Outcome::Pending
    }

    /// A report at `seq` from `source` that agrees with the recorded death.
    fn corroborate(&mut self, seq: Seq, dod: PartialDate, source: DeathSource) -> Outcome {
        if let Some(d) = &mut self.death {
            d.sources = d.sources.with(source);
        }
        self.extra_mut()
            .corroborations
            .push(Corroboration { seq, dod, source });
        Outcome::Corroborated
    }

    fn hold(&mut self, seq: Seq, source: DeathSource, reason: String) -> Outcome {
        self.extra_mut().review.push(Review {
            seq,
            source,
            reason: reason.clone(),
        });
        Outcome::HeldForReview(reason)
    }
}

/// A numberholder record for an SSN already on file must be the same person: an import never
/// changes an identity. Refused at the first field it gives that differs, naming every one.
fn conflict(on_file: &Identity, given: &Identity) -> Result<(), Violation> {
    let date = |d: Option<PartialDate>| d.map_or("(none)".to_owned(), |d| d.to_string());
    let text = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            s.to_owned()
        }
    };
    let fields: [(Field, String, String); 6] = [
        (
            Field::First,
            on_file.first.to_string(),
            given.first.to_string(),
        ),
        (
            Field::Middle,
            text(
                &on_file
                    .middle
                    .map(|m| (m.get() as char).to_string())
                    .unwrap_or_default(),
            ),
            text(
                &given
                    .middle
                    .map(|m| (m.get() as char).to_string())
                    .unwrap_or_default(),
            ),
        ),
        (
            Field::Last,
            on_file.last.to_string(),
            given.last.to_string(),
        ),
        (
            Field::Suffix,
            text(on_file.suffix.map_or("", Generation::code)),
            text(given.suffix.map_or("", Generation::code)),
        ),
        (Field::Dob, date(on_file.dob), date(given.dob)),
        (
            Field::Sex,
            text(on_file.sex.map_or("", Sex::code)),
            text(given.sex.map_or("", Sex::code)),
        ),
    ];
    // What the record leaves blank it does not say: only what it gives must agree.
    let differing: Vec<&(Field, String, String)> = fields
        .iter()
        .filter(|(_, a, b)| a != b && b != "(none)")
        .collect();
    let Some((field, _, _)) = differing.first() else {
        return Ok(());
    };
    let said: Vec<String> = differing
        .iter()
        .map(|(f, a, b)| format!("{} on file {a}, given {b}", f.name()))
        .collect();
    Err(Violation::new(
        *field,
        format!(
            "conflicts with the numberholder on file ({}): an identity changes only by an identity_change event",
            said.join("; ")
        ),
    ))
}

// A person's state is what the index holds 142 million of: keep it at 40 bytes (names are
// interned numbers, a partial date with its niche is 4 bytes, the rare parts are boxed).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<PersonState>() == 40);
