//! The events of the master file. Every change is one of these, appended, never edited.

use dmf_model::Seq;
use dmf_model::{
    Actor, Correction, Date, DeathReport, DeathSource, PartialDate, PersonName, Reference,
    ReportedName, Ssn, SsnDigits, StatusNotice,
};

pub use dmf_model::Sex;

/// A numberholder: someone an SSN was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub ssn: Ssn,
    pub name: PersonName,
    pub sex: Option<Sex>,
    pub dob: Option<PartialDate>,
    pub birth_state: Option<String>,
}

/// Where a death report came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Submitted by a reporter now.
    Submitted,
    /// A record of an earlier master file, imported: it was verified there.
    Imported { change: ImportedChange },
}

/// The change code of an imported DMF record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedChange {
    /// A full-file record or an `A` (add).
    Add,
    /// A `C` record: replaces the SSN's record, keeping earlier values for blank fields.
    Change,
}

/// A death report as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEvent {
    pub report: DeathReport,
    pub received: Date,
    pub origin: Origin,
    /// An amendment: the earlier report of the same SSN and source that this one replaces
    /// (a state's update of its death record). The earlier one stops counting, and this one is
    /// checked and applied as any report.
    pub supersedes: Option<Seq>,
}

/// A reporter withdraws one of its reports (a state voids its death record, or an update
/// names another SSN). The report stops counting; a death that stood on it alone is withdrawn,
/// and one that other reports agreed with stands on them as the intake rules decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWithdrawal {
    pub ssn: Ssn,
    /// The report withdrawn (its sequence number).
    pub report: Seq,
    /// The source that withdraws it: only the source of a report may withdraw it.
    pub source: DeathSource,
    /// The message or document that withdraws it.
    pub evidence: Reference,
    pub reason: Reference,
}

/// Further names and an SSN the person a report names was known by, as its reporter sends
/// them (a state's alias message): identity evidence kept with the report for caseworkers. It
/// changes no state: a report held for its identity still needs two people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAlias {
    pub ssn: Ssn,
    /// The report the alias is for.
    pub report: Seq,
    pub name: ReportedName,
    /// The other SSN given, as its nine digits (it may never have been issued).
    pub alias_ssn: Option<SsnDigits>,
    pub evidence: Reference,
}

/// A status notice as recorded, with the notice sent to the person and the contest deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEvent {
    pub notice: StatusNotice,
    /// The day the notice was sent to the person.
    pub notice_sent: Date,
    /// The last day to contest: 10 federal working days after the notice was sent.
    pub contest_deadline: Date,
}

/// Federal working days a person has to contest a notice.
pub const CONTEST_WORKING_DAYS: u32 = 10;

/// A caseworker's verification of a pending death report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationEvent {
    pub ssn: Ssn,
    /// The report verified; `None` verifies the SSN's latest pending report.
    pub report: Option<Seq>,
    pub approved_by: Actor,
    pub evidence: Option<Reference>,
}

/// A person contests a status notice: it is suspended until decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestEvent {
    pub ssn: Ssn,
    /// The notice contested; `None` contests every open notice of the SSN.
    pub notice: Option<Seq>,
    pub reason: Reference,
    pub requested_by: Option<Actor>,
}

/// The decision on a contested status notice: a contest must end, so that a notice is either
/// withdrawn for good or in force again, rather than suspended forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestDecisionEvent {
    pub ssn: Ssn,
    /// The status notice whose contest is decided (its sequence number).
    pub notice: Seq,
    /// `true`: the contest succeeds and the notice is withdrawn, never in force again.
    /// `false`: the contest is denied and the notice is in force again from its effective date.
    pub upheld: bool,
    pub decided_by: Actor,
    pub reason: Reference,
}

/// The word for a contest decision in submissions, stored events and leaves.
pub fn decision_code(upheld: bool) -> &'static str {
    if upheld { "upheld" } else { "denied" }
}

/// An operator records that a person past an age threshold is presumed deceased. It is a status
/// of its own, never a death: no answer says "deceased" and no DMF file carries it, and a later
/// death report or a correction (the person is alive) supersedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresumptionEvent {
    pub ssn: Ssn,
    /// The criterion applied, such as the age threshold the person is past.
    pub criterion: Reference,
    /// The law or rule that allows the presumption.
    pub legal_basis: Reference,
    pub recorded_by: Actor,
}

/// A `D` record of an imported update file: the SSN's imported death is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDelete {
    pub ssn: Ssn,
    pub evidence: Reference,
}

/// A change of a numberholder's identity: a new name, a corrected date of birth or sex, with
/// its evidence. It takes two different people: with `approved_by` it applies at once; without,
/// it is proposed and applies when someone other than `requested_by` confirms it
/// ([`ReviewEvent`]). Nothing else changes an identity on file: an import never does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityChangeEvent {
    pub ssn: Ssn,
    /// The new name, whole.
    pub name: Option<PersonName>,
    pub dob: Option<PartialDate>,
    pub sex: Option<Sex>,
    pub reason: Reference,
    /// At least one document.
    pub evidence: Vec<Reference>,
    pub requested_by: Actor,
    pub approved_by: Option<Actor>,
}

impl IdentityChangeEvent {
    /// The identity after this change, from the one before.
    pub fn applied_to(
        &self,
        name: &mut PersonName,
        dob: &mut Option<PartialDate>,
        sex: &mut Option<Sex>,
    ) {
        if let Some(n) = &self.name {
            *name = n.clone();
        }
        if self.dob.is_some() {
            *dob = self.dob;
        }
        if self.sex.is_some() {
            *sex = self.sex;
        }
    }
}

/// What a caseworker decides about a held report or notice, or a proposed identity change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// The identity was checked outside the registry, with evidence: a held report or notice
    /// applies once two different people confirm it; a proposed identity change once someone
    /// other than its requester does.
    Confirm,
    /// It never applies.
    Reject,
}

impl ReviewDecision {
    pub fn code(self) -> &'static str {
        match self {
            ReviewDecision::Confirm => "confirm",
            ReviewDecision::Reject => "reject",
        }
    }
}

/// A caseworker's review of a held report or notice, or of a proposed identity change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEvent {
    pub ssn: Ssn,
    /// The held report or notice, or the proposed identity change.
    pub event: Seq,
    pub decision: ReviewDecision,
    pub by: Actor,
    /// Required to confirm: how the identity was checked.
    pub evidence: Option<Reference>,
    pub reason: Option<Reference>,
    /// The day of the review: a confirmed notice's contest period runs from it at the earliest.
    pub date: Date,
}

/// One event of the master file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Person(PersonRecord),
    DeathReport(ReportEvent),
    StatusNotice(NoticeEvent),
    Correction(Correction),
    Verification(VerificationEvent),
    Contest(ContestEvent),
    ContestDecision(ContestDecisionEvent),
    Presumption(PresumptionEvent),
    ImportDelete(ImportDelete),
    IdentityChange(IdentityChangeEvent),
    Review(ReviewEvent),
    ReportWithdrawal(ReportWithdrawal),
    ReportAlias(ReportAlias),
}

impl Event {
    /// The stored event type.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Person(_) => "person",
            Event::DeathReport(_) => "death_report",
            Event::StatusNotice(_) => "status_notice",
            Event::Correction(_) => "correction",
            Event::Verification(_) => "verification",
            Event::Contest(_) => "contest",
            Event::ContestDecision(_) => "contest_decision",
            Event::Presumption(_) => "presumed_deceased",
            Event::ImportDelete(_) => "dmf_delete",
            Event::IdentityChange(_) => "identity_change",
            Event::Review(_) => "review",
            Event::ReportWithdrawal(_) => "report_withdrawal",
            Event::ReportAlias(_) => "report_alias",
        }
    }

    /// The SSN the event is about.
    pub fn ssn(&self) -> Ssn {
        match self {
            Event::Person(p) => p.ssn,
            Event::DeathReport(r) => r.report.subject().ssn,
            Event::StatusNotice(n) => n.notice.subject.ssn,
            Event::Correction(c) => c.ssn(),
            Event::Verification(v) => v.ssn,
            Event::Contest(c) => c.ssn,
            Event::ContestDecision(d) => d.ssn,
            Event::Presumption(p) => p.ssn,
            Event::ImportDelete(d) => d.ssn,
            Event::IdentityChange(c) => c.ssn,
            Event::Review(r) => r.ssn,
            Event::ReportWithdrawal(w) => w.ssn,
            Event::ReportAlias(a) => a.ssn,
        }
    }
}
