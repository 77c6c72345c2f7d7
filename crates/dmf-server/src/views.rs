//! The answers of the API as types: each derives its serialization and its JSON Schema, so the
//! description at `/openapi.json` is made of the very types the handlers answer with and
//! cannot drift from them. Answers the command line gives too (verification answers,
//! submission results, agreements, statistics of alerts and quality) are the registry's views.

use dmf_ledger::receipt::Receipt;
use dmf_registry::program_view::{AgreementView, ProgramStatsRow};
use dmf_registry::render::{Answer, SubmissionResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::error::{ErrorBody, ErrorView};

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Health")]
pub struct HealthView {
    /// `ok`, or `damaged` (with 503) once an event under the index snapshot failed its check.
    pub status: &'static str,
    /// The events in the store.
    pub events: u64,
    /// Where the reading of the events under the index snapshot stands, in words.
    pub store: String,
}

/// Every disclosure of one person's record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Accounting")]
pub struct AccountingView {
    pub ssn: String,
    pub disclosures: Vec<DisclosureView>,
}

/// One disclosure: when, to whom, for what purpose, which fields.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DisclosureView {
    pub at: String,
    /// The name of the key (or console user) it went to.
    pub to: String,
    pub key_id: i64,
    pub purpose: String,
    pub fields: Vec<String>,
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FeedPage {
    /// Where the next page starts: ask again with `after` set to it.
    pub cursor: u64,
    pub records: Vec<FeedRecord>,
}

/// One DMF change record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FeedRecord {
    #[schemars(schema_with = "change_code")]
    pub change: String,
    pub ssn: String,
    /// The record, fixed width.
    #[schemars(length(min = 100, max = 100))]
    pub line: String,
}

fn change_code(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["A", "C", "D"] })
}

/// `POST /v1/feed/ack`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Acknowledged {
    pub acknowledged: u64,
}

/// A correction asked for. A person has one open correction at a time: a request for someone
/// whose correction is open joins it (`filed` `joined`), and the same request sent again by
/// the same key changes nothing (`filed` `repeated`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CorrectionRequested {
    pub id: i64,
    #[schemars(schema_with = "filed")]
    pub filed: &'static str,
    #[schemars(schema_with = "correction_status")]
    pub status: &'static str,
    pub ssn: String,
    /// Who asked for the correction (for a joined request, the first to ask).
    pub requested_by: String,
}

fn filed(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["new", "joined", "repeated"] })
}

fn correction_status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["awaiting_approval", "sent_back", "approved", "rejected", "withdrawn"] })
}

/// `POST /v1/corrections/{id}/reject` and `…/send-back`: why (for a sending back, what
/// evidence is missing).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionReason {
    #[schemars(length(min = 1))]
    pub reason: String,
}

/// `POST /v1/corrections/{id}/withdraw`: a reason, if the requester gives one (the body may be
/// empty).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionWithdrawal {
    #[serde(default)]
    pub reason: Option<String>,
}

/// A correction after a step: rejected, sent back, withdrawn, or resubmitted (awaiting
/// approval again).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CorrectionStepped {
    pub id: i64,
    #[schemars(schema_with = "correction_status")]
    pub status: &'static str,
    /// Who took the step.
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A correction approved and stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CorrectionApproved {
    #[serde(flatten)]
    pub result: SubmissionResult,
    pub id: i64,
    pub approved_by: String,
}

/// Where a correction stands: awaiting approval, sent back for evidence, rejected, withdrawn,
/// or approved and on its way to the subscribers that had received the wrong record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Propagation")]
pub struct PropagationView {
    pub id: i64,
    #[schemars(schema_with = "correction_status")]
    pub status: &'static str,
    /// Why it was rejected, sent back (what evidence is missing) or withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The correction event, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Every subscriber that had the wrong record has acknowledged the correction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    pub subscribers: Vec<SubscriberView>,
}

/// One subscriber's progress with a correction.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SubscriberView {
    pub subscriber: String,
    pub received: bool,
    pub sent_correction: bool,
    pub acknowledged: bool,
}

/// A state's FHIR VRDR record as the registry holds it: each version, and whether the latest
/// change (an update or a void) has reached the subscribers that had received the record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VrdrRecordView {
    /// The business key: death year, jurisdiction, certificate number (`2026NY000182`).
    pub record: String,
    pub versions: Vec<VrdrVersionView>,
    /// The latest version is a report that still counts (not voided, not set aside).
    pub standing: bool,
    /// The event of the latest change, when there was one after the first version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<u64>,
    /// Every subscriber that had the record before the latest change has acknowledged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    pub subscribers: Vec<SubscriberView>,
}

/// One version of a state's record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VrdrVersionView {
    pub version: u32,
    /// The event stored.
    pub event: u64,
    /// `death_report` (a submission or an update) or `report_withdrawal` (a void, or an update
    /// naming another SSN).
    pub kind: &'static str,
    /// The id of the message that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A verification answer, with its receipt when one was asked for (`?receipt=true`): without
/// one, the answer alone, byte for byte.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Receipted {
    #[serde(flatten)]
    pub answer: Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// A correction letter, checked.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LetterCheck {
    pub valid: bool,
    pub correction_seq: u64,
    pub corrected_at: String,
    pub first: String,
    pub last: String,
    pub ssn_last4: String,
    pub in_effect: bool,
    pub statement: &'static str,
    pub signed_by: String,
}

/// The queue of held reports and notices and identity changes awaiting a second person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeldQueue {
    /// People with open work, shown or not.
    pub people: usize,
    pub held: Vec<HeldEntry>,
    pub proposed_identity_changes: Vec<ProposalEntry>,
}

/// A report or notice held because it does not name the person on file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeldEntry {
    pub seq: u64,
    pub ssn: String,
    /// `death_report` or `status_notice`.
    #[serde(rename = "type")]
    #[schemars(schema_with = "held_kind")]
    pub kind: &'static str,
    #[schemars(schema_with = "hold_reason")]
    pub reason: &'static str,
    /// `source:KIND` or `authority:NAME`.
    pub from: String,
    pub received: String,
    /// What it named, as given.
    pub named: String,
    pub differences: Vec<dmf_registry::render::DifferenceView>,
    /// The first of the two people, once one has confirmed.
    pub confirmed_by: Option<String>,
}

fn held_kind(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["death_report", "status_notice"] })
}

fn hold_reason(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let reasons: Vec<&str> = dmf_registry::state::HoldReason::ALL
        .iter()
        .map(|r| r.code())
        .collect();
    schemars::json_schema!({ "type": "string", "enum": reasons })
}

/// An identity change waiting for its second person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProposalEntry {
    pub seq: u64,
    pub ssn: String,
    pub requested_by: String,
    pub reason: String,
}

/// A review or identity change stored, with who stored it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReviewResult {
    #[serde(flatten)]
    pub result: SubmissionResult,
    pub by: String,
}

/// Events by period and kind, tied to a signed tree size.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Stats")]
pub struct StatsView {
    /// The log counted, as its checkpoints name it.
    pub log_origin: String,
    #[schemars(schema_with = "period")]
    pub period: &'static str,
    /// The leaves counted: the first `tree_size` events.
    pub tree_size: u64,
    /// The root of that tree, base64, as in its checkpoint.
    pub root: String,
    pub rows: Vec<StatsRow>,
}

fn period(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["day", "month"] })
}

/// How many events of one combination were logged in one period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatsRow {
    /// The day (YYYY-MM-DD) or month (YYYY-MM) counted.
    pub date: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: Option<String>,
    /// The events' origin, as in their leaves.
    pub origin: Option<String>,
    pub kind: Option<String>,
    pub authority: Option<String>,
    pub legal_basis: Option<String>,
    /// Contest decisions only: `upheld` or `denied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    pub count: u64,
}

impl From<&dmf_ledger::stats::Stats> for StatsView {
    fn from(s: &dmf_ledger::stats::Stats) -> StatsView {
        StatsView {
            log_origin: s.log_origin.clone(),
            period: s.period.name(),
            tree_size: s.tree_size,
            root: s.root.clone(),
            rows: s
                .rows
                .iter()
                .map(|r| StatsRow {
                    date: r.date.clone(),
                    event_type: r.event_type.clone(),
                    source: r.source.clone(),
                    origin: r.origin.clone(),
                    kind: r.kind.clone(),
                    authority: r.authority.clone(),
                    legal_basis: r.legal_basis.clone(),
                    decision: r.decision.clone(),
                    count: r.count,
                })
                .collect(),
        }
    }
}

/// Every agreement.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Agreements {
    pub agreements: Vec<AgreementView>,
}

/// The programs' statistics: per agreement and period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProgramStats {
    pub rows: Vec<ProgramStatsRow>,
}

/// The answer to a matching request: the agreed elements of each matched record, nothing of
/// the others.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MatchAnswer {
    pub request: u64,
    pub agreement: u64,
    pub records: u64,
    pub matched: usize,
    pub elements: Vec<&'static str>,
    pub matches: Vec<MatchedRecord>,
    /// Lines that are not a person, and listed people refused under the agreement.
    pub errors: Vec<LineError>,
    /// Fields that could not be read: the person was matched on the rest.
    pub faults: Vec<LineError>,
}

/// A line of the list and what is wrong with it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LineError {
    pub line: u64,
    pub path: String,
    pub message: String,
}

/// One matched record: the agreed elements, the match class and probability, and where the
/// program allows adverse action, the match's number and due process.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct MatchedRecord {
    pub line: u64,
    /// The list's own id of the person, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub class: u8,
    pub probability: f64,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<NameElement>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deceased: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_death: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub death_source: Option<Option<DeathSourceElement>>,
    /// The status element, or where the program allows adverse action, the match's due
    /// process (`unverified` at first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MatchStatus>,
}

/// The name element.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NameElement {
    pub first: String,
    pub last: String,
}

/// The death source element.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeathSourceElement {
    pub source: &'static str,
    pub verification: &'static str,
}

/// The status element or the due process of the match.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum MatchStatus {
    DueProcess(&'static str),
    Element(StatusElement),
}

/// The status element: notices in force, and a presumption of death by age.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatusElement {
    pub notices: Vec<NoticeElement>,
    pub presumed_deceased: bool,
}

/// A status notice in force.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoticeElement {
    pub kind: &'static str,
    pub authority: String,
    pub effective: String,
}

/// Where one match stands in its due process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CaseState {
    pub agreement: u64,
    pub request: u64,
    #[serde(rename = "match")]
    pub n: u32,
    pub class: u8,
    pub status: &'static str,
    /// After a notice: the last day to contest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest_until: Option<String>,
}

/// A line of a batch verification's answer: an answer with the line it answers, or the
/// line's error; a body that broke off or went over a limit ends with an error without `line`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum BatchLine {
    Answer {
        line: u64,
        #[serde(flatten)]
        answer: Answer,
    },
    Error(ErrorView),
}

/// A line of an NDJSON submission's answer: one result a line, in order; a body that broke
/// off, went over a limit or could not be stored ends with an error line.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SubmissionLine {
    Result(SubmissionResult),
    Error(ErrorView),
}
