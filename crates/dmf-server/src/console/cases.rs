//! Corrections in the console: the form with its identity-evidence checklist (or, when the
//! person already has an open correction, the way to it), the queue (oldest first, with
//! filters), a correction's page (its status, its history and only the steps the signed-in
//! user may take: approve, reject, send back; withdraw, resubmit with more evidence), each step
//! ending on a confirmation page; and its progress to subscribers (its letter is in `letters`).

use dmf_registry::requests::CorrectionFields;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use dmf_model::Ssn;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    FormErrors, Page, PageResult, Staff, csrf_field, name_on_file, parse_ssn, time, upper_first,
};
use crate::error::{ApiError, Code};
use crate::services::corrections::{self, CaseAction};
use crate::workflow::{ActionKind, CorrectionRequest, CorrectionStatus, Filed, Queue};
use crate::{App, now_ms};

/// The identity checks a caseworker ticks, as (form field, evidence recorded).
pub(crate) const CHECKLIST: [(&str, &str); 5] = [
    (
        "ev_in_person",
        "person seen in person or on a live video call",
    ),
    ("ev_photo_id", "current government photo ID examined"),
    (
        "ev_ssn_card",
        "Social Security card or SSA record of the number examined",
    ),
    (
        "ev_second_doc",
        "second document with name and date of birth examined (birth certificate, passport)",
    ),
    (
        "ev_proof_of_life",
        "signed statement of the person, witnessed",
    ),
];

/// Items of the checklist a correction needs at least.
pub(crate) const MIN_CHECKS: usize = 2;

/// What a recorded document reference starts with among the evidence.
const DOCUMENTS: &str = "documents: ";

/// The queue shows this many at most.
const QUEUE_LIMIT: usize = 500;

fn case_url(id: i64) -> String {
    format!("/console/corrections/{id}")
}

/// The link back to a correction, for a refusal.
fn back_to(id: i64) -> (String, String) {
    (case_url(id), format!("Back to correction {id}"))
}

/// A message as a sentence: a capital first, a full stop last.
fn sentence(message: &str) -> String {
    let s = upper_first(message.trim());
    if s.ends_with(['.', '?', '!']) {
        s
    } else {
        format!("{s}.")
    }
}

/// A refusal of a step on correction `id`, keeping the navigation and a way back to it.
fn refuse(staff: &Staff, id: i64, e: &ApiError) -> Page {
    let (href, text) = back_to(id);
    staff.refuse(e.code.status(), sentence(&e.message), Some((&href, &text)))
}

/// The reason and identity-evidence fields, as filled in.
fn evidence_fields(form: &HashMap<String, String>, errors: &FormErrors) -> Markup {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    html! {
        p {
            label for="reason" { "Reason" }
            (errors.message("reason"))
            textarea #reason name="reason" rows="3" cols="60"
                aria-invalid=[errors.invalid("reason")] aria-describedby=[errors.described_by("reason")] { (get("reason")) }
        }
        fieldset #evidence aria-describedby=[errors.described_by("evidence")] {
            legend { "Identity evidence (at least " (MIN_CHECKS) ")" }
            (errors.message("evidence"))
            @for (field, label) in CHECKLIST {
                p {
                    input id=(field) type="checkbox" name=(field) value="on" checked[form.contains_key(field)];
                    label for=(field) { (label) }
                }
            }
            p {
                label for="document" { "Document numbers or case file reference" }
                input #document type="text" name="document" value=(get("document"));
            }
        }
    }
}

/// The correction a form asks for, or its errors, each tied to its field.
fn asked(ssn: Ssn, form: &HashMap<String, String>, errors: &mut FormErrors) -> Option<Value> {
    let reason = form.get("reason").map(|r| r.trim()).unwrap_or_default();
    if reason.is_empty() {
        errors.add("reason", "Give the reason for the correction.");
    }
    let mut evidence: Vec<String> = CHECKLIST
        .iter()
        .filter(|(f, _)| form.contains_key(*f))
        .map(|(_, label)| (*label).to_owned())
        .collect();
    if evidence.len() < MIN_CHECKS {
        errors.add(
            "evidence",
            format!(
                "Tick at least {MIN_CHECKS} items of identity evidence (ticked: {}).",
                evidence.len()
            ),
        );
    }
    if !errors.is_empty() {
        return None;
    }
    if let Some(doc) = form
        .get("document")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        evidence.push(format!("{DOCUMENTS}{doc}"));
    }
    Some(
        json!({ "ssn": ssn.to_string(), "kind": "reinstate", "reason": reason, "evidence": evidence }),
    )
}

fn fields(body: Value) -> Result<CorrectionFields, ApiError> {
    let Value::Object(m) = body else {
        unreachable!("an object")
    };
    CorrectionFields::new(m).map_err(crate::services::rejected)
}

/// A correction's request as the form had it: its reason, the items ticked, the documents.
fn form_of(c: &CorrectionRequest) -> HashMap<String, String> {
    let body: serde_json::Map<String, Value> = serde_json::from_str(&c.body).unwrap_or_default();
    let mut form = HashMap::new();
    if let Some(r) = body.get("reason").and_then(Value::as_str) {
        form.insert("reason".to_owned(), r.to_owned());
    }
    for e in evidence_of(&body) {
        if let Some(doc) = e.strip_prefix(DOCUMENTS) {
            form.insert("document".to_owned(), doc.to_owned());
        } else if let Some((field, _)) = CHECKLIST.iter().find(|(_, label)| *label == e) {
            form.insert((*field).to_owned(), "on".to_owned());
        }
    }
    form
}

fn evidence_of(body: &serde_json::Map<String, Value>) -> Vec<String> {
    match body.get("evidence") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn form_page(
    staff: &Staff,
    ssn: Ssn,
    name: &str,
    errors: &FormErrors,
    form: &HashMap<String, String>,
) -> Page {
    Page::new(
        staff,
        format!("Correction for {name} · SSN {ssn}"),
        html! {
            (errors.summary())
            p { "File this when the person is alive and the death on file is wrong. A supervisor must approve it before it takes effect." }
            form method="post" action={ "/console/people/" (ssn) "/correct" } novalidate {
                (csrf_field(staff))
                (evidence_fields(form, errors))
                p { button #submit-correction type="submit" { "Submit for approval" } }
            }
        },
    )
    .with_errors(errors)
}

pub(crate) async fn correction_form(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
) -> PageResult {
    staff.require_case_role("file corrections")?;
    let ssn = parse_ssn(&ssn)?;
    staff
        .disclosed(&app, [ssn.as_u32()], "console correction", &["name"])
        .await?;
    let name = name_on_file(&app, ssn).unwrap_or_default();
    if let Some(open) = corrections::open_for(&app, ssn)? {
        return Ok(Page::new(
            &staff,
            format!("Correction for {name} · SSN {ssn}"),
            html! {
                p #already-open {
                    "A correction is already open for this person: "
                    a #open-correction href=(case_url(open.id)) { "correction " (open.id) }
                    " (" (open.status) ")."
                }
                p { "A person has one correction at a time. Look at that one first; anything you send about this person is added to it." }
            },
        ));
    }
    Ok(form_page(
        &staff,
        ssn,
        &name,
        &FormErrors::new(),
        &HashMap::new(),
    ))
}

pub(crate) async fn file_correction(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    staff.check_form(&form)?;
    staff.require_case_role("file corrections")?;
    let ssn = parse_ssn(&ssn)?;
    let name = name_on_file(&app, ssn).unwrap_or_default();
    let mut errors = FormErrors::new();
    let Some(body) = asked(ssn, &form, &mut errors) else {
        return Err(form_page(&staff, ssn, &name, &errors, &form));
    };
    let filed = fields(body).and_then(|f| corrections::request(&app, &staff.actor(), f));
    let filed = match filed {
        Ok((filed, _)) => filed,
        // Nothing to correct: not a field's error, but the person's.
        Err(e) if e.code == Code::Unprocessable => {
            return Err(staff.refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                sentence(&e.message),
                Some((&format!("/console/people/{ssn}"), "Back to the person")),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let id = filed.id();
    let link = html! { a #case-link href=(case_url(id)) { "correction " (id) } };
    let follow = html! { p { "A supervisor will review it; you can follow it at " (link) ". If more evidence is needed, it is sent back to you to add it." } };
    Ok(match filed {
        Filed::New(_) => Page::confirmation(
            &staff,
            format!("Correction {id} sent for approval"),
            html! { p { "Correction " (id) " for " (name) " was sent for approval." } },
            follow,
        ),
        Filed::Joined(_) => Page::confirmation(
            &staff,
            format!("Your request joined correction {id}"),
            html! { p { (name) " already had an open correction: your request, with its reason and evidence, joined correction " (id) "." } },
            follow,
        ),
        Filed::Repeated(_) => Page::confirmation(
            &staff,
            format!("Correction {id} already has your request"),
            html! { p { "You had already sent this request for " (name) ": it is part of correction " (id) ". Nothing new was recorded." } },
            follow,
        ),
    })
}

/// What a correction asks, in words: the death it removes.
fn what_is_asked(app: &App, ssn: Ssn, status: CorrectionStatus) -> String {
    let index = app.index.read().expect("index lock");
    let state = index.get(ssn);
    if status != CorrectionStatus::Approved {
        if let Some(d) = state.and_then(|s| s.death.as_ref()) {
            return format!("Remove the death recorded on {}", d.dod);
        }
        if let Some(p) = state
            .and_then(|s| s.extra())
            .and_then(|e| e.pending.first())
        {
            return format!("Remove the death reported on {}", p.dod);
        }
    }
    "Remove the death recorded in error".to_owned()
}

/// A length of time in words: "3 days", "2 hours", "5 minutes".
fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    let (n, unit) = if minutes < 60 {
        (minutes, "minute")
    } else if minutes < 48 * 60 {
        (minutes / 60, "hour")
    } else {
        (minutes / (24 * 60), "day")
    };
    if n == 0 {
        "less than a minute".to_owned()
    } else if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A status as a tag, in words and colour.
fn tag(status: CorrectionStatus) -> Markup {
    let (class, text) = match status {
        CorrectionStatus::Open => ("tag tag-blue", "Awaiting approval"),
        CorrectionStatus::SentBack => ("tag tag-yellow", "Sent back for evidence"),
        CorrectionStatus::Approved => ("tag tag-green", "Approved"),
        CorrectionStatus::Rejected => ("tag tag-red", "Rejected"),
        CorrectionStatus::Withdrawn => ("tag tag-grey", "Withdrawn"),
    };
    html! { strong class=(class) { (text) } }
}

/// The queue's status filters, as (parameter, label); no parameter is "awaiting approval".
const FILTERS: [(&str, &str); 6] = [
    ("awaiting_approval", "Awaiting approval"),
    ("sent_back", "Sent back"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("withdrawn", "Withdrawn"),
    ("all", "All"),
];

pub(crate) async fn queue(
    State(app): State<Arc<App>>,
    staff: Staff,
    Query(params): Query<HashMap<String, String>>,
) -> PageResult {
    let chosen = params
        .get("status")
        .map(String::as_str)
        .filter(|s| FILTERS.iter().any(|(p, _)| p == s))
        .unwrap_or("awaiting_approval");
    let mine = params.get("mine").is_some_and(|m| m == "on");
    let actor = staff.actor();
    let list = app
        .workflow
        .queue(&Queue {
            status: CorrectionStatus::from_code(chosen),
            requested_key: mine.then_some(actor.id),
            newest_first: false,
            limit: QUEUE_LIMIT,
        })
        .map_err(ApiError::internal)?;
    // The queue names each person whose record is being corrected.
    let mut shown: Vec<u32> = list.iter().map(|c| c.ssn).collect();
    shown.sort_unstable();
    shown.dedup();
    staff
        .disclosed(&app, shown, "console corrections", &["name", "correction"])
        .await?;
    let now = now_ms();
    let rows: Vec<(CorrectionRequest, String, String)> = list
        .into_iter()
        .map(|c| {
            let ssn = Ssn::from_number(c.ssn).ok();
            let name = ssn
                .and_then(|s| name_on_file(&app, s))
                .unwrap_or_else(|| "(no name on file)".into());
            let asked = ssn
                .map(|s| what_is_asked(&app, s, c.status))
                .unwrap_or_default();
            (c, name, asked)
        })
        .collect();
    let label = FILTERS
        .iter()
        .find(|(p, _)| *p == chosen)
        .map_or("", |(_, l)| *l);
    Ok(Page::new(
        &staff,
        "Corrections",
        html! {
            form.filters method="get" action="/console/corrections" {
                p {
                    label for="status" { "Status" }
                    select #status name="status" {
                        @for (p, l) in FILTERS { option value=(p) selected[p == chosen] { (l) } }
                    }
                }
                p {
                    input #mine type="checkbox" name="mine" value="on" checked[mine];
                    label for="mine" { "Only the corrections I asked for" }
                }
                p { button #filter type="submit" { "Show" } }
            }
            h2 #queue-title { (label) @if mine { ", asked for by you" } " (" (rows.len()) ", oldest first)" }
            @if rows.is_empty() { p #queue-empty { "None." } } @else {
                table #queue {
                    thead { tr { th { "Correction" } th { "Person" } th { "What is asked" } th { "Requested by" } th { "Waiting" } th { "Status" } } }
                    tbody {
                        @for (c, name, asked) in &rows {
                            tr {
                                td data-label="Correction" { a href=(case_url(c.id)) { (c.id) } }
                                td data-label="Person" { (name) }
                                td data-label="What is asked" { (asked) }
                                td data-label="Requested by" { (c.requested_by) }
                                td data-label="Waiting" {
                                    @if c.status.is_open() { (duration(now - c.requested_at)) }
                                    @else {
                                        "decided after " (duration(c.actions.last().map_or(c.requested_at, |a| a.at) - c.requested_at))
                                    }
                                }
                                td data-label="Status" { (tag(c.status)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn get(app: &App, id: &str) -> Result<CorrectionRequest, Page> {
    let id: i64 = id
        .parse()
        .map_err(|_| Page::error(StatusCode::NOT_FOUND, format!("No correction {id:?}.")))?;
    Ok(corrections::get(app, id)?)
}

/// One line of a correction's history, in words.
fn action_words(kind: ActionKind) -> String {
    match kind {
        ActionKind::Requested => "Asked for the correction".into(),
        ActionKind::Joined => "Asked for it too (joined)".into(),
        ActionKind::Approved { seq } => format!("Approved it (stored as event {seq})"),
        ActionKind::Rejected => "Rejected it".into(),
        ActionKind::SentBack => "Sent it back for evidence".into(),
        ActionKind::Resubmitted => "Resubmitted it with more evidence".into(),
        ActionKind::Withdrawn => "Withdrew it".into(),
    }
}

/// What an entry of the history says beside what was done: the reason, or the request's reason
/// and evidence.
fn action_detail(a: &crate::workflow::CorrectionAction) -> Markup {
    let body: Option<serde_json::Map<String, Value>> =
        a.body.as_deref().and_then(|b| serde_json::from_str(b).ok());
    html! {
        @if let Some(r) = &a.reason { (r) }
        @if let Some(b) = &body {
            @if let Some(r) = b.get("reason").and_then(Value::as_str) { "Reason: " (r) }
            @let evidence = evidence_of(b);
            @if !evidence.is_empty() { ul { @for e in &evidence { li { (e) } } } }
        }
    }
}

/// The status line: where the correction stands and who acts next.
fn status_line(c: &CorrectionRequest) -> Markup {
    let last = c.actions.last();
    let by = last.map(|a| a.by.as_str()).unwrap_or_default();
    let at = last.map(|a| time(a.at)).unwrap_or_default();
    let reason = corrections::latest_reason(c);
    html! {
        @match c.status {
            CorrectionStatus::Open => { "Awaiting approval by a supervisor." }
            CorrectionStatus::SentBack => {
                "Sent back for evidence by " (by) " at " (at) ": " (reason.unwrap_or_default())
                ". Waiting for " (c.requested_by) " to add evidence and resubmit it."
            }
            CorrectionStatus::Approved => {
                @if let Some(a) = &c.approval { "Approved by " (a.by) " at " (time(a.at)) "; stored as event " (a.seq) "." }
            }
            CorrectionStatus::Rejected => {
                "Rejected by " (by) " at " (at) ": " (reason.unwrap_or_default()) ". Nothing changed on the file."
            }
            CorrectionStatus::Withdrawn => {
                "Withdrawn by " (by) " at " (at) @if let Some(r) = reason { ": " (r) } ". Nothing changed on the file."
            }
        }
    }
}

/// A textarea for a step's reason, with its error.
fn reason_field(
    id: &'static str,
    label: &str,
    hint: &str,
    errors: &FormErrors,
    form: &HashMap<String, String>,
) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            div.hint id={ (id) "-hint" } { (hint) }
            (errors.message(id))
            textarea id=(id) name="reason" rows="3" cols="60"
                aria-invalid=[errors.invalid(id)] aria-describedby=(errors.described_with_hint(id)) {
                (form.get(id).map(String::as_str).unwrap_or_default())
            }
        }
    }
}

/// The correction's page, with the steps the user may take and the errors of one just tried.
async fn correction_page(
    app: &Arc<App>,
    staff: &Staff,
    c: &CorrectionRequest,
    errors: &FormErrors,
    form: &HashMap<String, String>,
) -> PageResult {
    staff
        .disclosed(
            app,
            [c.ssn],
            "console correction",
            &["name", "ssn", "reason", "identity_evidence", "propagation"],
        )
        .await?;
    let progress = corrections::propagation(app, c.id).await?;
    let body: serde_json::Map<String, Value> = serde_json::from_str(&c.body).unwrap_or_default();
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    let name = name_on_file(app, ssn).unwrap_or_else(|| "(no name on file)".into());
    let reads_records = staff.role().handles_cases();
    let may = corrections::allowed(&staff.actor(), c);
    let may = |a: CaseAction| may.contains(&a);
    let action = |step: &str| format!("/console/corrections/{}/{step}", c.id);
    // A resubmission shows the request as it stands, unless one was just tried.
    let resubmission = if form.contains_key("resubmit") {
        form.clone()
    } else {
        form_of(c)
    };
    let page = Page::new(
        staff,
        format!("Correction {}", c.id),
        html! {
            (errors.summary())
            p #correction-tag { (tag(c.status)) }
            table.summary {
                tr { th { "Person" } td { (name) ", SSN " @if reads_records { a href={ "/console/people/" (ssn) } { (ssn) } } @else { (ssn) } } }
                tr { th { "What is asked" } td { (what_is_asked(app, ssn, c.status)) } }
                tr { th { "Reason" } td { (body.get("reason").and_then(Value::as_str).unwrap_or_default()) } }
                tr { th { "Identity evidence" } td { ul { @for e in evidence_of(&body) { li { (e) } } } } }
                tr { th { "Requested" } td { "by " (c.requested_by) " at " (time(c.requested_at)) } }
                tr { th { "Status" } td #correction-status { (status_line(c)) } }
            }
            @if may(CaseAction::Approve) {
                h2 { "Decide" }
                form method="post" action=(action("approve")) {
                    (csrf_field(staff))
                    p { "Approving stores the correction: every answer changes at once, and every subscriber that received the wrong record is sent the correction." }
                    button #approve type="submit" { "Approve correction" }
                }
            }
            @if may(CaseAction::SendBack) {
                form method="post" action=(action("send-back")) novalidate {
                    (csrf_field(staff))
                    (reason_field("send-back-reason", "What evidence is missing", "The requester is asked to add it and resubmit.", errors, form))
                    button #send-back type="submit" { "Send back for evidence" }
                }
            }
            @if may(CaseAction::Reject) {
                form method="post" action=(action("reject")) novalidate {
                    (csrf_field(staff))
                    (reason_field("reject-reason", "Why it is rejected", "The requester sees this reason. Nothing changes on the file.", errors, form))
                    button.warning #reject type="submit" { "Reject correction" }
                }
            }
            @if may(CaseAction::Resubmit) && c.status == CorrectionStatus::SentBack {
                h2 { "Add evidence and resubmit" }
                form method="post" action=(action("resubmit")) novalidate {
                    (csrf_field(staff))
                    input type="hidden" name="resubmit" value="on";
                    (evidence_fields(&resubmission, errors))
                    p { button #resubmit type="submit" { "Resubmit for approval" } }
                }
            }
            @if may(CaseAction::Withdraw) {
                h2 { "Withdraw" }
                form method="post" action=(action("withdraw")) {
                    (csrf_field(staff))
                    p {
                        label for="withdraw-reason" { "Why you withdraw it (optional)" }
                        textarea #withdraw-reason name="reason" rows="2" cols="60" {}
                    }
                    button #withdraw type="submit" { "Withdraw correction" }
                }
            }
            h2 { "History" }
            table #history {
                thead { tr { th { "When" } th { "Who" } th { "What" } th { "Reason and evidence" } } }
                tbody {
                    @for a in &c.actions {
                        tr {
                            td data-label="When" { (time(a.at)) }
                            td data-label="Who" { (a.by) }
                            td data-label="What" { (action_words(a.kind)) }
                            td data-label="Reason and evidence" { (action_detail(a)) }
                        }
                    }
                }
            }
            @if let Some(seq) = progress.seq {
                h2 { "Propagation to subscribers" }
                @if progress.subscribers.is_empty() {
                    p #propagation-status { "No subscriber had received the wrong record." }
                } @else {
                    p #propagation-status {
                        @if progress.complete() { span.ok { "Complete: every subscriber that had the wrong record has applied the correction." } }
                        @else {
                            "In progress: not every subscriber has applied the correction yet. "
                            a #check-again href=(case_url(c.id)) { "Check again" }
                        }
                    }
                    table #propagation {
                        thead { tr { th { "Subscriber" } th { "Sent the correction" } th { "Applied it" } } }
                        tbody {
                            @for s in &progress.subscribers {
                                tr {
                                    td data-label="Subscriber" { (s.subscriber) }
                                    td data-label="Sent the correction" { (if s.sent_correction { "yes" } else { "not yet" }) }
                                    td data-label="Applied it" { (if s.acknowledged { "yes" } else { "not yet" }) }
                                }
                            }
                        }
                    }
                }
                p { a #letter href={ "/console/corrections/" (c.id) "/letter" } { "Letter for the person" } " (event " (seq) ")" }
            }
        },
    );
    Ok(page.with_errors(errors))
}

pub(crate) async fn correction(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let c = get(&app, &id)?;
    correction_page(&app, &staff, &c, &FormErrors::new(), &HashMap::new()).await
}

/// A step's form checked: its CSRF token, the correction, and that this user may take it.
fn step_checked(
    app: &App,
    staff: &Staff,
    id: &str,
    form: &HashMap<String, String>,
    action: CaseAction,
) -> Result<CorrectionRequest, Page> {
    staff.check_form(form)?;
    let c = get(app, id)?;
    corrections::check(&staff.actor(), &c, action)
        .map_err(|e| refuse(staff, c.id, &ApiError::from(e)))?;
    Ok(c)
}

/// The link to a correction, in the "what comes next" of a confirmation.
fn case_link(id: i64) -> Markup {
    html! { a #case-link href=(case_url(id)) { "correction " (id) } }
}

pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let c = step_checked(&app, &staff, &id, &form, CaseAction::Approve)?;
    let accepted = corrections::approve(&app, &staff.actor(), c.id)
        .await
        .map_err(|e| refuse(&staff, c.id, &e))?;
    Ok(Page::confirmation(
        &staff,
        "Correction approved",
        html! {
            p { "Correction " (c.id) " is approved and stored as event " (accepted.seq) ": every answer has changed; subscribers are being sent the correction." }
        },
        html! {
            p { "Follow the correction to every subscriber that had the wrong record on " (case_link(c.id)) "." }
            p { "Give the person " a #letter-link href={ "/console/corrections/" (c.id) "/letter" } { "the letter" } ": it tells a bank or an agency that the record was corrected." }
        },
    ))
}

/// The reason a step's form gives, or the form shown again with its error.
async fn reason_given(
    app: &Arc<App>,
    staff: &Staff,
    c: &CorrectionRequest,
    form: &HashMap<String, String>,
    field: &'static str,
    missing: &str,
) -> Result<String, Page> {
    let reason = form.get("reason").map(|r| r.trim()).unwrap_or_default();
    if !reason.is_empty() {
        return Ok(reason.to_owned());
    }
    let mut errors = FormErrors::new();
    errors.add(field, missing);
    Err(correction_page(app, staff, c, &errors, &HashMap::new())
        .await
        .unwrap_or_else(|p| p))
}

pub(crate) async fn reject(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let c = step_checked(&app, &staff, &id, &form, CaseAction::Reject)?;
    let reason = reason_given(
        &app,
        &staff,
        &c,
        &form,
        "reject-reason",
        "Say why the correction is rejected.",
    )
    .await?;
    corrections::reject(&app, &staff.actor(), c.id, &reason)
        .map_err(|e| refuse(&staff, c.id, &e))?;
    Ok(Page::confirmation(
        &staff,
        format!("Correction {} rejected", c.id),
        html! { p { "Correction " (c.id) " was rejected: " (reason) ". Nothing changed on the file." } },
        html! {
            p { (c.requested_by) " sees the reason on " (case_link(c.id)) "." }
            p { "If new evidence comes, a new correction can be filed for the person." }
        },
    ))
}

pub(crate) async fn send_back(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let c = step_checked(&app, &staff, &id, &form, CaseAction::SendBack)?;
    let reason = reason_given(
        &app,
        &staff,
        &c,
        &form,
        "send-back-reason",
        "Say what evidence is missing.",
    )
    .await?;
    corrections::send_back(&app, &staff.actor(), c.id, &reason)
        .map_err(|e| refuse(&staff, c.id, &e))?;
    Ok(Page::confirmation(
        &staff,
        format!("Correction {} sent back for evidence", c.id),
        html! { p { "Correction " (c.id) " was sent back to " (c.requested_by) ": " (reason) "." } },
        html! {
            p { (c.requested_by) " adds the evidence and resubmits it; it then comes back to the queue awaiting approval. Follow it at " (case_link(c.id)) "." }
        },
    ))
}

pub(crate) async fn withdraw(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let c = step_checked(&app, &staff, &id, &form, CaseAction::Withdraw)?;
    corrections::withdraw(
        &app,
        &staff.actor(),
        c.id,
        form.get("reason").map(String::as_str),
    )
    .map_err(|e| refuse(&staff, c.id, &e))?;
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    Ok(Page::confirmation(
        &staff,
        format!("Correction {} withdrawn", c.id),
        html! { p { "You withdrew correction " (c.id) ". Nothing changed on the file." } },
        html! {
            p { "It stays on " (case_link(c.id)) " as withdrawn. If the person still needs a correction, file a new one from " a #person-link href={ "/console/people/" (ssn) } { "their record" } "." }
        },
    ))
}

pub(crate) async fn resubmit(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let c = step_checked(&app, &staff, &id, &form, CaseAction::Resubmit)?;
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    let mut errors = FormErrors::new();
    let Some(body) = asked(ssn, &form, &mut errors) else {
        return Err(correction_page(&app, &staff, &c, &errors, &form)
            .await
            .unwrap_or_else(|p| p));
    };
    fields(body)
        .and_then(|f| corrections::resubmit(&app, &staff.actor(), c.id, f))
        .map_err(|e| refuse(&staff, c.id, &e))?;
    Ok(Page::confirmation(
        &staff,
        format!("Correction {} resubmitted", c.id),
        html! { p { "Correction " (c.id) " was resubmitted with your evidence and awaits approval again." } },
        html! { p { "A supervisor will review it; you can follow it at " (case_link(c.id)) "." } },
    ))
}
