//! The routes of the API: one table gives each route's method, path, the roles it admits, its
//! handler, its summary, what it takes and what it answers. The router, the role checks and
//! the paths of `/openapi.json` are all made from it, so none can leave a route out or
//! disagree with another. The handlers are in one module per resource; the work they ask for
//! is the services'.

mod agreements;
mod corrections;
pub(crate) mod extract;
mod feed;
mod fhir;
mod log;
pub(crate) mod ndjson;
mod ops;
mod oversight;
mod people;
mod submit;
mod verify;

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Extension, Router};
use dmf_ledger::receipt::Receipt;
use dmf_registry::oversight::anomaly::AlertsView;
use dmf_registry::oversight::quality::QualityView;
use dmf_registry::program_view::AgreementView;
use dmf_registry::render::{
    BenefitsView, EmploymentView, IdentityView, NoDeathOnFile, SubmissionResult,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::App;
use crate::auth::Admits;
use crate::conn::{MAX_HEADER_BYTES, MAX_HEADERS};
use crate::error::{ApiError, Code};
use crate::keys::Role;
use crate::metrics::Metrics;
use crate::views::{
    AccountingView, Acknowledged, Agreements, BatchLine, CaseState, CorrectionApproved,
    CorrectionRequested, CorrectionStepped, FeedPage, HealthView, HeldQueue, LetterCheck,
    MatchAnswer, ProgramStats, PropagationView, ReviewResult, StatsView, SubmissionLine,
    VrdrRecordView,
};

/// An HTTP method a route is served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
}

impl Verb {
    /// As the description names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
        }
    }
}

/// The schema of an answer, made by the generator that collects the description's schemas.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// One route: method, path, the roles it admits (none: public), summary, handler, the request
/// body's schema (a component written from the submission schema) and the content types it
/// is taken in, the status, schema and content type of its success, and for the routes that
/// take many submissions a request, the schema of a line of the answer to an NDJSON body.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) method: Verb,
    pub(crate) path: &'static str,
    pub(crate) roles: &'static [Role],
    pub(crate) summary: &'static str,
    pub(crate) handler: fn(MethodFilter) -> MethodRouter<Arc<App>>,
    pub(crate) request: Option<&'static str>,
    /// The content types the body is taken in (with `request`; for NDJSON, the schema is a
    /// line's).
    pub(crate) takes: &'static [&'static str],
    pub(crate) status: u16,
    pub(crate) response: SchemaFn,
    pub(crate) content: &'static str,
    /// An NDJSON body is answered 200 with one NDJSON line of this schema per line sent.
    pub(crate) bulk: Option<SchemaFn>,
}

pub(crate) const JSON: &str = "application/json";
pub(crate) const NDJSON: &str = "application/x-ndjson";
pub(crate) const CSV: &str = "text/csv";
pub(crate) const TEXT: &str = "text/plain";

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// A verification answer of one purpose, or a mirror's "no death on file"; with `?receipt=true`,
/// its receipt beside it.
fn verify_answer<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    let answer = g.subschema_for::<T>();
    let mirror = g.subschema_for::<NoDeathOnFile>();
    let receipt = g.subschema_for::<Receipt>();
    schemars::json_schema!({ "anyOf": [answer, mirror], "properties": { "receipt": receipt } })
}

/// Whether a route is a single verification, which may carry a receipt.
pub(crate) fn takes_receipt(path: &str) -> bool {
    matches!(
        path,
        "/v1/verify/identity" | "/v1/verify/employment" | "/v1/verify/benefits"
    )
}

/// A FHIR Bundle: a VRDR acknowledgement or extraction error message, or a `batch-response`
/// of them.
fn fhir_bundle(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "A FHIR Bundle: for one message, an acknowledgement (MessageHeader.eventUri http://nchs.cdc.gov/vrdr_acknowledgement, response.code ok) or an extraction error (vrdr_extraction_error, response.code fatal-error, an OperationOutcome naming each problem and its location), whose response.identifier is the id of the message answered; for a batch, a Bundle of type batch-response with one such answer an entry",
        "required": ["resourceType", "type", "entry"],
        "properties": {
            "resourceType": { "const": "Bundle" },
            "type": { "enum": ["message", "batch-response"] },
            "entry": { "type": "array" }
        }
    })
}

fn text(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "string" })
}

fn object(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "object" })
}

/// Every route of the API.
pub(crate) const ROUTES: &[Route] = &[
    Route {
        method: Verb::Post,
        path: "/v1/verify/identity",
        roles: &[Role::Identity],
        summary: "Consent-based identity check: the SSN verification code and death indicator; with `receipt=true`, a receipt too (a signed statement of the answer and a C2SP tlog-proof of each event it stands on: docs/RECEIPTS.md)",
        handler: |m| on(m, verify::identity),
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: verify_answer::<IdentityView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/verify/employment",
        roles: &[Role::Employment],
        summary: "Employment eligibility: authorized, mismatch (with the contest deadline) or final nonconfirmation; with `receipt=true`, a receipt too (docs/RECEIPTS.md)",
        handler: |m| on(m, verify::employment),
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: verify_answer::<EmploymentView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/verify/benefits",
        roles: &[Role::Benefits],
        summary: "Benefit program check: code, death indicator (state-reported deaths included), suspension; with `receipt=true`, a receipt too (docs/RECEIPTS.md)",
        handler: |m| on(m, verify::benefits),
        request: Some("VerifyRequest"),
        takes: &[JSON],
        status: 200,
        response: verify_answer::<BenefitsView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/verify/batch",
        roles: &[Role::Identity, Role::Employment, Role::Benefits],
        summary: "NDJSON in, NDJSON out, streamed: one answer (with `line`) or error per request line, for the key's purpose; charged per line at the key's rate, and a batch over what is left of the key's daily allowance is refused whole (429) before any answer. Receipts come with single answers only (`receipt=true` here is 400)",
        handler: |m| on(m, verify::batch),
        request: Some("VerifyRequest"),
        takes: &[NDJSON],
        status: 200,
        response: schema::<BatchLine>,
        content: NDJSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/reports/death",
        roles: &[Role::Reporter],
        summary: "A death report (JSON) or many (NDJSON, stored and answered in batches as the body streams, charged per line at the key's rate); the source kind is the key's",
        handler: |m| on(m, submit::report_death),
        request: Some("DeathReport"),
        takes: &[JSON, NDJSON],
        status: 201,
        response: schema::<SubmissionResult>,
        content: JSON,
        bulk: Some(schema::<SubmissionLine>),
    },
    Route {
        method: Verb::Post,
        path: "/v1/fhir/vrdr",
        roles: &[Role::Reporter],
        summary: "FHIR VRDR messages from a state's vital records office (a key of source state bound to a jurisdiction): one message (submission, update, void, alias) or a Bundle of type batch of them; answered 200 with an acknowledgement or an extraction error for each, as the Vital Records FHIR Messaging guide prescribes. A record of another jurisdiction, a body that is not a message, or an SSN never issued is an extraction error naming the element",
        handler: |m| on(m, fhir::receive),
        request: Some("FhirMessage"),
        takes: &[fhir::FHIR, JSON],
        status: 200,
        response: fhir_bundle,
        content: fhir::FHIR,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/fhir/vrdr/records/{record}",
        roles: &[Role::Caseworker, Role::Oversight],
        summary: "A state's FHIR VRDR record (death year, jurisdiction, certificate number: 2026NY000182): each version stored (report or withdrawal, with its event and message), whether it still counts, and whether its latest change (an update or a void) has reached every subscriber that had received the record",
        handler: |m| on(m, fhir::record),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<VrdrRecordView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/notices/status",
        roles: &[Role::Authority],
        summary: "A status notice (JSON) or many (NDJSON); the issuing authority is the key's",
        handler: |m| on(m, submit::notice_status),
        request: Some("StatusNotice"),
        takes: &[JSON, NDJSON],
        status: 201,
        response: schema::<SubmissionResult>,
        content: JSON,
        bulk: Some(schema::<SubmissionLine>),
    },
    Route {
        method: Verb::Get,
        path: "/v1/people/{ssn}/accounting",
        roles: &[Role::Caseworker],
        summary: "Every disclosure of this person's record: when, to whom, for what purpose, which fields",
        handler: |m| on(m, people::accounting),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<AccountingView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/feed",
        roles: &[Role::Subscriber, Role::Benefits],
        summary: "The DMF change records (A/C/D) after `after` that this key may receive, long-polling up to `wait` seconds when there are none. Events the key may not receive are read past, up to a bound: a page is empty only when nothing came within the wait or when that bound was reached with the cursor moved on. Page on from `cursor` until it stops moving",
        handler: |m| on(m, feed::feed),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<FeedPage>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/feed/ack",
        roles: &[Role::Subscriber, Role::Benefits],
        summary: "Acknowledge that everything up to `cursor` was applied",
        handler: |m| on(m, feed::ack),
        request: Some("Ack"),
        takes: &[JSON],
        status: 200,
        response: schema::<Acknowledged>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/files/full",
        roles: &[Role::Subscriber, Role::Benefits],
        summary: "The full DMF file this key may receive, fixed width; X-DMF-Cursor says where updates continue",
        handler: |m| on(m, feed::full),
        request: None,
        takes: &[],
        status: 200,
        response: text,
        content: TEXT,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/files/updates",
        roles: &[Role::Subscriber, Role::Benefits],
        summary: "The A/C/D records since `since`, fixed width; X-DMF-Cursor says where the next update starts",
        handler: |m| on(m, feed::updates),
        request: None,
        takes: &[],
        status: 200,
        response: text,
        content: TEXT,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/held",
        roles: &[Role::Caseworker],
        summary: "The queue: death reports and status notices held because they do not name the person on file (each differing field, reported against on file), and identity changes waiting for a second person; each person shown is accounted",
        handler: |m| on(m, people::held),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<HeldQueue>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/held/{seq}/confirm",
        roles: &[Role::Caseworker],
        summary: "Confirm a held report or notice (the identity was checked outside, with evidence); the second confirmation, by another person, applies it",
        handler: |m| on(m, people::confirm_held),
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<ReviewResult>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/held/{seq}/reject",
        roles: &[Role::Caseworker],
        summary: "Reject a held report or notice: it never applies",
        handler: |m| on(m, people::reject_held),
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<ReviewResult>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/people/{ssn}/identity",
        roles: &[Role::Caseworker],
        summary: "Ask for an identity change (a new name, a corrected date of birth or sex, with evidence); another person confirms it",
        handler: |m| on(m, people::propose),
        request: Some("IdentityChangeRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<ReviewResult>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/identity-changes/{seq}/confirm",
        roles: &[Role::Caseworker],
        summary: "Confirm an identity change asked for by someone else: it applies",
        handler: |m| on(m, people::confirm_change),
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<ReviewResult>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/identity-changes/{seq}/reject",
        roles: &[Role::Caseworker],
        summary: "Reject an identity change: it never applies",
        handler: |m| on(m, people::reject_change),
        request: Some("ReviewRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<ReviewResult>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections",
        roles: &[Role::Caseworker],
        summary: "Ask for a correction of a wrongly recorded death; another caseworker approves it. A person has one open correction at a time: a request for someone whose correction is open joins it (`filed` `joined`), the same request again changes nothing (`filed` `repeated`)",
        handler: |m| on(m, corrections::request),
        request: Some("CorrectionRequest"),
        takes: &[JSON],
        status: 201,
        response: schema::<CorrectionRequested>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections/{id}/approve",
        roles: &[Role::Caseworker],
        summary: "Approve a correction awaiting approval (not its requester); it is stored and sent to every subscriber as D/C. One sent back must be resubmitted first",
        handler: |m| on(m, corrections::approve),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<CorrectionApproved>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections/{id}/reject",
        roles: &[Role::Caseworker],
        summary: "Reject a correction awaiting approval (not its requester), saying why; nothing more is done with it",
        handler: |m| on(m, corrections::reject),
        request: Some("CorrectionReason"),
        takes: &[JSON],
        status: 200,
        response: schema::<CorrectionStepped>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections/{id}/send-back",
        roles: &[Role::Caseworker],
        summary: "Send a correction awaiting approval back to its requester (not by the requester), saying what evidence is missing; it is decided once resubmitted",
        handler: |m| on(m, corrections::send_back),
        request: Some("CorrectionReason"),
        takes: &[JSON],
        status: 200,
        response: schema::<CorrectionStepped>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections/{id}/withdraw",
        roles: &[Role::Caseworker],
        summary: "Withdraw a correction awaiting approval or sent back (its requester only), with a reason or none",
        handler: |m| on(m, corrections::withdraw),
        request: Some("CorrectionWithdrawal"),
        takes: &[JSON],
        status: 200,
        response: schema::<CorrectionStepped>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/corrections/{id}/resubmit",
        roles: &[Role::Caseworker],
        summary: "Ask again for a correction awaiting approval or sent back (its requester only), with more evidence: the same person, the body as for POST /v1/corrections; it awaits approval again",
        handler: |m| on(m, corrections::resubmit),
        request: Some("CorrectionRequest"),
        takes: &[JSON],
        status: 200,
        response: schema::<CorrectionStepped>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/corrections/{id}/propagation",
        roles: &[Role::Caseworker, Role::Oversight],
        summary: "Where a correction stands (with the reason of a rejection, sending back or withdrawal); once approved, which subscribers received the wrong record and which have acknowledged the correction",
        handler: |m| on(m, corrections::propagation),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<PropagationView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/log/checkpoint",
        roles: &[],
        summary: "The latest signed checkpoint (C2SP signed note, text)",
        handler: |m| on(m, log::checkpoint),
        request: None,
        takes: &[],
        status: 200,
        response: text,
        content: TEXT,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/log/proof/inclusion",
        roles: &[],
        summary: "Inclusion proof of event `seq` in the tree of `size` (default: the latest checkpoint's); a pair that cannot exist (`seq` 0, or beyond `size`) is 400, a size or event beyond the log 404",
        handler: |m| on(m, log::inclusion),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<dmf_ledger::publish::Proof>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/log/proof/consistency",
        roles: &[],
        summary: "Consistency proof between trees of `from` and `to` events; a pair that cannot exist (`from` after `to`, or 0 before a tree that is not empty) is 400, a size beyond the log 404",
        handler: |m| on(m, log::consistency),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<dmf_ledger::publish::Proof>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/stats",
        roles: &[],
        summary: "Events by period, type, source kind, status kind, authority and legal basis, tied to a signed tree size",
        handler: |m| on(m, oversight::stats),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<StatsView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/alerts",
        roles: &[],
        summary: "Intake anomaly alerts: days on which a source kind or issuing authority sent far more than usual, or people far younger than deaths are; with the tree size they were computed at",
        handler: |m| on(m, oversight::alerts),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<AlertsView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/quality",
        roles: &[Role::Oversight],
        summary: "The quality report: implausible ages and dates, overdue reports, unresolved conflicts, contested notices past their deadline; counts and examples (accounted)",
        handler: |m| on(m, oversight::quality),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<QualityView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/quality/published",
        roles: &[Role::Oversight],
        summary: "A published DMF full file (the body, 100-character lines) against what the registry publishes today for its audience: deaths missing from it, records the registry does not publish, records whose fields differ (accounted)",
        handler: |m| on(m, oversight::published),
        request: Some("DmfFile"),
        takes: &[TEXT],
        status: 200,
        response: schema::<QualityView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/letters/{code}",
        roles: &[],
        summary: "Checks a correction letter's code, the 16-character one printed on it or the signed long one in its QR code (both made with the registry's key): the name, the SSN's last four digits and whether the correction is still in effect; a malformed code (a character no code has, the wrong length) or a short code with a typing mistake (its check character does not match) is 400 with `path` `code`, an unknown or altered one 404; checks by everyone together share an allowance (429 past it). The page a person reads is `/letters/{code}`",
        handler: |m| on(m, oversight::letter),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<LetterCheck>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/agreements",
        roles: &[Role::Caseworker, Role::Oversight],
        summary: "Records a computer-matching agreement: parties, purpose, legal authority, the elements each side may receive, retention, start and expiry (18 months at most), whether matches may lead to adverse action, a law-enforcement criterion; inactive until a second person approves it",
        handler: |m| on(m, agreements::create),
        request: Some("AgreementTerms"),
        takes: &[JSON],
        status: 201,
        response: schema::<AgreementView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/agreements",
        roles: &[Role::Caseworker, Role::Oversight],
        summary: "Every agreement with its status",
        handler: |m| on(m, agreements::list),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<Agreements>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/agreements/stats",
        roles: &[Role::Caseworker, Role::Oversight],
        summary: "Requests, refused requests, records, matches, disclosures and law-enforcement disclosures per agreement and period",
        handler: |m| on(m, agreements::stats),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<ProgramStats>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/v1/agreements/{id}",
        roles: &[Role::Caseworker, Role::Oversight, Role::Agency],
        summary: "An agreement, its keys and its requests with each match's due process (an agency key sees its own agreement only)",
        handler: |m| on(m, agreements::show),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<AgreementView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/agreements/{id}/approve",
        roles: &[Role::Oversight],
        summary: "Approves an agreement (not by the person who recorded it)",
        handler: |m| on(m, agreements::approve),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<AgreementView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/agreements/{id}/renew",
        roles: &[Role::Oversight],
        summary: "Renews an agreement once, within 3 months before its expiry, for at most 12 months",
        handler: |m| on(m, agreements::renew),
        request: Some("Renewal"),
        takes: &[JSON],
        status: 200,
        response: schema::<AgreementView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/agreements/{id}/matches",
        roles: &[Role::Agency],
        summary: "Matches a list (NDJSON, or CSV with Content-Type text/csv: id, first, middle, last, dob, ssn, case_reference) against the file under the key's agreement; answers only the agreed elements of matched records with the match class, nothing for the others; refused (and recorded) outside an active agreement or for elements or fields it does not name",
        handler: |m| on(m, agreements::matches),
        request: Some("MatchList"),
        takes: &[NDJSON, JSON, CSV],
        status: 200,
        response: schema::<MatchAnswer>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Post,
        path: "/v1/agreements/{id}/matches/{request}/{n}/{step}",
        roles: &[Role::Agency],
        summary: "Due process of a match that may lead to adverse action: verification {method}, notice {sent, reference}, contest, decision {decision: upheld|denied}, adverse-action (refused before 30 days from the notice or while a contest is open)",
        handler: |m| on(m, agreements::case_step),
        request: Some("CaseStep"),
        takes: &[JSON],
        status: 200,
        response: schema::<CaseState>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/healthz",
        roles: &[],
        summary: "Liveness, the number of events, and the reading of the events under the index snapshot (503 once it finds the store damaged)",
        handler: |m| on(m, ops::health),
        request: None,
        takes: &[],
        status: 200,
        response: schema::<HealthView>,
        content: JSON,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/metrics",
        roles: &[],
        summary: "Prometheus metrics",
        handler: |m| on(m, ops::metrics),
        request: None,
        takes: &[],
        status: 200,
        response: text,
        content: TEXT,
        bulk: None,
    },
    Route {
        method: Verb::Get,
        path: "/openapi.json",
        roles: &[],
        summary: "This document",
        handler: |m| on(m, ops::openapi),
        request: None,
        takes: &[],
        status: 200,
        response: object,
        content: JSON,
        bulk: None,
    },
];

/// The route a request matched, by method and path pattern.
pub(crate) fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method.name().eq_ignore_ascii_case(method) && r.path == path)
}

pub(crate) fn router(app: Arc<App>) -> Router {
    let body_timeout = app.config.conn.body_timeout;
    let mut router = Router::new();
    for r in ROUTES {
        // Each route's requests carry the roles it admits, for the caller's check.
        let handler = (r.handler)(r.method.filter()).layer(Extension(Admits(r.roles)));
        router = router.route(r.path, handler);
    }
    router
        .merge(crate::console::routes())
        .merge(crate::tiles::routes())
        // On matched routes only: it reads the route's path to know what it takes.
        .route_layer(middleware::from_fn_with_state(app.clone(), content_type))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(move |req, next| {
            crate::conn::body_timeout(body_timeout, req, next)
        }))
        .layer(middleware::from_fn(header_limits))
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .with_state(app)
}

/// Headers past the limits are refused with a JSON 431 naming the limit.
async fn header_limits(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            Code::HeadersTooLarge,
            format!(
                "{} headers of {bytes} bytes: at most {MAX_HEADERS} headers of \
                 {MAX_HEADER_BYTES} bytes in all are taken",
                headers.len()
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Counts every response by status class, and logs server errors.
async fn count(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // Any method may carry a body (a PUT to a route that takes none is answered 405 unread).
    let has_body = req.method() == axum::http::Method::POST
        || req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut resp = next.run(req).await;
    // A request refused before its body was read leaves that body on the connection; say the
    // connection ends here, so that no client sends its next request into a closing socket.
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    let m = &app.metrics;
    Metrics::add(&m.requests, 1);
    if resp.status().is_client_error() {
        Metrics::add(&m.errors_4xx, 1);
    } else if resp.status().is_server_error() {
        Metrics::add(&m.errors_5xx, 1);
        tracing::warn!(%path, status = %resp.status(), "server error");
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route (see /openapi.json)")
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!(
            "{} is not served on {} (see /openapi.json)",
            req.method(),
            req.uri().path()
        ),
    )
}

/// A body in a content type the route does not take is refused before its handler: `text/plain`
/// is not JSON. A request that names no content type is read as the route's first. Checked
/// only for a caller whose key the route admits: anyone else gets the handler's 401 or 403,
/// and learns nothing more.
async fn content_type(
    State(app): State<Arc<App>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    // (`MatchedPath` is set once the router has matched: this runs as a route layer.)
    let route = matched
        .and_then(|m| find(req.method().as_str(), m.as_str()))
        .filter(|r| r.request.is_some());
    let (Some(route), Some(given)) = (route, req.headers().get(header::CONTENT_TYPE)) else {
        return next.run(req).await;
    };
    let given = given
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // JSON Lines is NDJSON under another name.
    let known =
        |t: &str| t == given || (t == "application/x-ndjson" && given == "application/jsonl");
    if route.takes.iter().any(|t| known(t)) {
        return next.run(req).await;
    }
    // Only now is the key looked up (the handler looks it up again): a request in a type the
    // route takes costs nothing here.
    let admitted = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|secret| app.keys.authenticate(secret.trim()))
        .is_some_and(|key| route.roles.contains(&key.role));
    if !admitted {
        return next.run(req).await;
    }
    ApiError::at(
        Code::UnsupportedMediaType,
        "Content-Type",
        format!(
            "{given:?} is not taken here: send {}",
            route.takes.join(" or ")
        ),
    )
    .into_response()
}
