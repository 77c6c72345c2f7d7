//! Corrections in the console: the form with its identity-evidence checklist, the approval
//! queue, and a correction's progress to subscribers (its letter is in `letters`).

use dmf_registry::requests::CorrectionFields;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dmf_model::Ssn;
use maud::html;
use serde_json::{Value, json};

use super::{Page, PageResult, Staff, csrf_field, name_on_file, parse_ssn, time};
use crate::App;
use crate::error::ApiError;
use crate::services::corrections;
use crate::users::UserRole;
use crate::workflow::CorrectionRequest;

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

fn form_page(
    staff: &Staff,
    ssn: Ssn,
    name: &str,
    error: Option<&str>,
    form: &HashMap<String, String>,
) -> Page {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    Page::new(
        staff,
        format!("Correction for {name} · SSN {ssn}"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p { "File this when the person is alive and the death on file is wrong. A second person, a supervisor, must approve it before it takes effect." }
            form method="post" action={ "/console/people/" (ssn) "/correct" } {
                (csrf_field(staff))
                p {
                    label for="reason" { "Reason" }
                    textarea #reason name="reason" rows="3" cols="60" required { (get("reason")) }
                }
                fieldset {
                    legend { "Identity evidence (at least " (MIN_CHECKS) ")" }
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
                p { button #submit-correction type="submit" { "Submit for approval" } }
            }
        },
    )
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
    Ok(form_page(
        &staff,
        ssn,
        &name_on_file(&app, ssn).unwrap_or_default(),
        None,
        &HashMap::new(),
    ))
}

pub(crate) async fn file_correction(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    staff.require_case_role("file corrections")?;
    let ssn = parse_ssn(&ssn)?;
    let name = name_on_file(&app, ssn).unwrap_or_default();
    let refuse = |m: &str| {
        form_page(&staff, ssn, &name, Some(m), &form).with_status(StatusCode::UNPROCESSABLE_ENTITY)
    };
    let reason = form.get("reason").map(|r| r.trim()).unwrap_or_default();
    if reason.is_empty() {
        return Err(refuse("Give the reason for the correction."));
    }
    let mut evidence: Vec<String> = CHECKLIST
        .iter()
        .filter(|(f, _)| form.contains_key(*f))
        .map(|(_, label)| (*label).to_owned())
        .collect();
    if evidence.len() < MIN_CHECKS {
        return Err(refuse(&format!(
            "Tick at least {MIN_CHECKS} items of identity evidence (ticked: {}).",
            evidence.len()
        )));
    }
    if let Some(doc) = form
        .get("document")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        evidence.push(format!("documents: {doc}"));
    }
    let body = json!({ "ssn": ssn.to_string(), "kind": "reinstate", "reason": reason, "evidence": evidence });
    let Value::Object(m) = body else {
        unreachable!("an object")
    };
    let asked = CorrectionFields::new(m).map_err(crate::services::rejected);
    match asked.and_then(|f| corrections::request(&app, &staff.actor(), f)) {
        Ok((id, _)) => Ok(Redirect::to(&format!("/console/corrections/{id}")).into_response()),
        Err(e) => Err(refuse(&format!(
            "{}{}",
            e.message,
            e.path.map(|p| format!(" ({p})")).unwrap_or_default()
        ))),
    }
}

fn row(c: &CorrectionRequest) -> maud::Markup {
    let ssn = Ssn::from_number(c.ssn)
        .map(|s| s.to_string())
        .unwrap_or_default();
    html! {
        tr {
            td { a href={ "/console/corrections/" (c.id) } { (c.id) } }
            td { (ssn) }
            td { (c.requested_by) }
            td { (time(c.requested_at)) }
            td {
                @if let Some(a) = &c.approval { "approved by " (a.by) " at " (time(a.at)) } @else { "awaiting approval" }
            }
        }
    }
}

pub(crate) async fn queue(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    let waiting = app
        .workflow
        .corrections(true, 500)
        .map_err(ApiError::internal)?;
    let recent: Vec<_> = app
        .workflow
        .corrections(false, 50)
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|c| c.approval.is_some())
        .collect();
    let head = html! { thead { tr { th { "Correction" } th { "SSN" } th { "Requested by" } th { "Requested" } th { "Status" } } } };
    // The queue names each person whose record is being corrected.
    let mut shown: Vec<u32> = waiting.iter().chain(&recent).map(|c| c.ssn).collect();
    shown.sort_unstable();
    shown.dedup();
    staff
        .disclosed(&app, shown, "console corrections", &["ssn", "correction"])
        .await?;
    Ok(Page::new(
        &staff,
        "Corrections",
        html! {
            h2 { "Awaiting approval" }
            @if waiting.is_empty() { p { "None." } } @else {
                table #queue { (head) tbody { @for c in &waiting { (row(c)) } } }
            }
            h2 { "Recently approved" }
            @if recent.is_empty() { p { "None." } } @else {
                table { (head) tbody { @for c in &recent { (row(c)) } } }
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

pub(crate) async fn correction(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let c = get(&app, &id)?;
    staff
        .disclosed(
            &app,
            [c.ssn],
            "console correction",
            &["ssn", "reason", "identity_evidence", "propagation"],
        )
        .await?;
    let progress = corrections::propagation(&app, c.id).await?;
    let body: serde_json::Map<String, Value> = serde_json::from_str(&c.body).unwrap_or_default();
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    let reads_records = staff.role().handles_cases();
    let may_approve = c.approval.is_none() && staff.role() != UserRole::Oversight;
    let page = Page::new(
        &staff,
        format!("Correction {}", c.id),
        html! {
            table {
                tr { th { "SSN" } td { @if reads_records { a href={ "/console/people/" (ssn) } { (ssn) } } @else { (ssn) } } }
                tr { th { "Reason" } td { (body.get("reason").and_then(Value::as_str).unwrap_or_default()) } }
                tr { th { "Identity evidence" } td { ul { @for e in body.get("evidence").and_then(Value::as_array).into_iter().flatten() { li { (e.as_str().unwrap_or_default()) } } } } }
                tr { th { "Requested" } td { "by " (c.requested_by) " at " (time(c.requested_at)) } }
                tr { th { "Status" } td #correction-status {
                    @if let Some(a) = &c.approval { "Approved by " (a.by) " at " (time(a.at)) "; stored as event " (a.seq) "." } @else { "Awaiting approval by a second person." }
                } }
            }
            @if may_approve {
                form method="post" action={ "/console/corrections/" (c.id) "/approve" } {
                    (csrf_field(&staff))
                    p { "Approving stores the correction: every answer changes at once, and every subscriber that received the wrong record is sent the correction." }
                    button #approve type="submit" { "Approve correction" }
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
                            a #check-again href={ "/console/corrections/" (c.id) } { "Check again" }
                        }
                    }
                    table #propagation {
                        thead { tr { th { "Subscriber" } th { "Sent the correction" } th { "Applied it" } } }
                        tbody {
                            @for s in &progress.subscribers {
                                tr { td { (s.subscriber) } td { (if s.sent_correction { "yes" } else { "not yet" }) } td { (if s.acknowledged { "yes" } else { "not yet" }) } }
                            }
                        }
                    }
                }
                p { a #letter href={ "/console/corrections/" (c.id) "/letter" } { "Letter for the person" } " (event " (seq) ")" }
            }
        },
    );
    Ok(page)
}

pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    let c = get(&app, &id)?;
    let actor = staff.actor();
    if c.requested_key == actor.id {
        return Err(Page::error(
            StatusCode::FORBIDDEN,
            format!(
                "You asked for correction {}: a second person must approve it.",
                c.id
            ),
        ));
    }
    staff.require(&[UserRole::Supervisor], "approve corrections")?;
    corrections::approve(&app, &actor, c.id).await?;
    Ok(Redirect::to(&format!("/console/corrections/{}", c.id)).into_response())
}
