//! Identity work in the console: the queue of reports and notices held because they do not
//! name the person on file, their confirmation by two people (the second a supervisor) or
//! rejection, and identity changes asked for by one person and confirmed by a supervisor.

use dmf_registry::requests::{IdentityChangeFields, ReviewFields};
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dmf_model::Ssn;
use dmf_registry::{Outcome, PersonState};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::{Page, PageResult, Staff, csrf_field, parse_ssn};
use crate::App;
use crate::services::identity::{self, HeldView, ProposalView, Reviewed};
use crate::users::UserRole;

/// People shown on the queue page at most.
const QUEUE_PEOPLE: usize = 500;

/// What differs, in words: `first: reported BOB, on file CARMEN; …`.
fn differences(h: &HeldView) -> String {
    if h.differences.is_empty() {
        return match h.reason {
            "unknown_ssn" => "no one is on file under this SSN".into(),
            _ => "no first and last name given to compare".into(),
        };
    }
    h.differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn status(h: &HeldView) -> String {
    match &h.confirmed_by {
        None => "waiting for a first confirmation".into(),
        Some(by) => format!("confirmed by {by}; a supervisor confirms second"),
    }
}

/// The forms to confirm or reject a held report or notice.
fn review_forms(staff: &Staff, h: &HeldView) -> Markup {
    let second = h.confirmed_by.is_some();
    let may_confirm = !second || staff.role() == UserRole::Supervisor;
    html! {
        @if may_confirm {
            form method="post" action={ "/console/held/" (h.seq) "/review" } {
                (csrf_field(staff))
                input type="hidden" name="decision" value="confirm";
                label for={ "evidence-" (h.seq) } { "How the identity was checked" }
                input id={ "evidence-" (h.seq) } type="text" name="evidence" required;
                button id={ "confirm-" (h.seq) } type="submit" {
                    @if second { "Confirm (second person): apply it" } @else { "Confirm (first of two)" }
                }
            }
        }
        form method="post" action={ "/console/held/" (h.seq) "/review" } {
            (csrf_field(staff))
            input type="hidden" name="decision" value="reject";
            label for={ "reason-r" (h.seq) } { "Why it is wrong" }
            input id={ "reason-r" (h.seq) } type="text" name="reason" required;
            button id={ "reject-" (h.seq) } type="submit" { "Reject: it never applies" }
        }
    }
}

fn proposal_forms(staff: &Staff, p: &ProposalView) -> Markup {
    html! {
        @if staff.role() == UserRole::Supervisor {
            form method="post" action={ "/console/identity-changes/" (p.seq) "/review" } {
                (csrf_field(staff))
                input type="hidden" name="decision" value="confirm";
                label for={ "evidence-i" (p.seq) } { "Evidence seen" }
                input id={ "evidence-i" (p.seq) } type="text" name="evidence" required;
                button id={ "confirm-change-" (p.seq) } type="submit" { "Confirm the change" }
            }
        } @else {
            "a supervisor confirms it"
        }
        form method="post" action={ "/console/identity-changes/" (p.seq) "/review" } {
            (csrf_field(staff))
            input type="hidden" name="decision" value="reject";
            label for={ "reason-i" (p.seq) } { "Why" }
            input id={ "reason-i" (p.seq) } type="text" name="reason" required;
            button id={ "reject-change-" (p.seq) } type="submit" { "Reject" }
        }
    }
}

fn held_table(staff: &Staff, held: &[HeldView], with_person: bool) -> Markup {
    html! {
        table #held {
            thead { tr {
                th { "Event" }
                @if with_person { th { "SSN" } }
                th { "Type" } th { "From" } th { "Received" } th { "Names" } th { "What differs" } th { "Status" } th { "Action" }
            } }
            tbody {
                @for h in held {
                    tr {
                        td data-label="Event" { (h.seq) }
                        @if with_person { td data-label="SSN" { a href={ "/console/people/" (h.ssn) } { (h.ssn) } } }
                        td data-label="Type" { (if h.kind == "death_report" { "death report" } else { "status notice" }) }
                        td data-label="From" { (h.from) }
                        td data-label="Received" { (h.day) }
                        td data-label="Names" { (h.named) }
                        td data-label="What differs" { (differences(h)) }
                        td data-label="Status" { (status(h)) }
                        td data-label="Action" { (review_forms(staff, h)) }
                    }
                }
            }
        }
    }
}

fn proposals_table(staff: &Staff, proposed: &[ProposalView], with_person: bool) -> Markup {
    html! {
        table #proposed {
            thead { tr {
                th { "Event" } @if with_person { th { "SSN" } } th { "Asked for by" } th { "Reason" } th { "Action" }
            } }
            tbody {
                @for p in proposed {
                    tr {
                        td data-label="Event" { (p.seq) }
                        @if with_person { td data-label="SSN" { a href={ "/console/people/" (p.ssn) } { (p.ssn) } } }
                        td data-label="Asked for by" { (p.requested_by) }
                        td data-label="Reason" { (p.reason) }
                        td data-label="Action" { (proposal_forms(staff, p)) }
                    }
                }
            }
        }
    }
}

/// `/console/held`: everything waiting for caseworkers about identities.
pub(crate) async fn queue(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    staff.require_case_role("review held reports")?;
    let (held, proposed, people) = identity::queue_of(&app, QUEUE_PEOPLE);
    let shown: Vec<u32> = held
        .iter()
        .map(|h| h.ssn.as_u32())
        .chain(proposed.iter().map(|p| p.ssn.as_u32()))
        .collect();
    staff
        .disclosed(
            &app,
            dedup(shown),
            "held_for_identity",
            &["identity_on_file", "held_report"],
        )
        .await?;
    Ok(Page::new(
        &staff,
        "Held for identity",
        html! {
            p { "Death reports and status notices that do not name the person on file under their SSN change nothing until two people confirm the identity (the second a supervisor); a rejected one never applies." }
            p #held-count { (people) " person(s) with work waiting"
                @if people > QUEUE_PEOPLE { " (the first " (QUEUE_PEOPLE) " shown)" } "." }
            h2 { "Held reports and notices" }
            @if held.is_empty() { p { "None." } } @else { (held_table(&staff, &held, true)) }
            h2 { "Identity changes waiting for a supervisor" }
            @if proposed.is_empty() { p { "None." } } @else { (proposals_table(&staff, &proposed, true)) }
        },
    ))
}

fn dedup(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The person page's part: held work and the form to change the identity.
pub(crate) fn section(staff: &Staff, ssn: Ssn, state: &PersonState) -> Markup {
    let (held, proposed) = identity::open_of(ssn, state);
    html! {
        @if !held.is_empty() {
            h2 { "Held for identity" }
            p { "These do not name the person on file; they change nothing until confirmed twice." }
            (held_table(staff, &held, false))
        }
        @if !proposed.is_empty() {
            h2 { "Identity changes waiting" }
            (proposals_table(staff, &proposed, false))
        }
        @if state.identity.is_some() {
            details {
                summary { "Change the identity on file (a new name, a corrected date of birth or sex)" }
                form method="post" action={ "/console/people/" (ssn) "/identity" } {
                    (csrf_field(staff))
                    p { "Give the whole new name, or leave the name blank; a supervisor confirms the change." }
                    p { label for="id-first" { "First name" } input #id-first type="text" name="first"; }
                    p { label for="id-middle" { "Middle name" } input #id-middle type="text" name="middle"; }
                    p { label for="id-last" { "Last name" } input #id-last type="text" name="last"; }
                    p { label for="id-suffix" { "Suffix" } input #id-suffix type="text" name="suffix"; }
                    p { label for="id-dob" { "Date of birth" } input #id-dob type="text" name="dob" placeholder="YYYY-MM-DD"; }
                    p { label for="id-sex" { "Sex" } select #id-sex name="sex" { option value="" { "unchanged" } option value="F" { "F" } option value="M" { "M" } } }
                    p { label for="id-reason" { "Reason" } input #id-reason type="text" name="reason" required; }
                    p { label for="id-evidence" { "Evidence (document and number)" } input #id-evidence type="text" name="evidence" required; }
                    p { button #propose-change type="submit" { "Ask for the change" } }
                }
            }
        }
    }
}

/// The form's fields that were filled in, for a submission.
fn filled(form: &HashMap<String, String>, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|&n| {
            let v = form.get(n)?.trim();
            (!v.is_empty()).then(|| (n.to_owned(), json!(v)))
        })
        .collect()
}

async fn review_form(
    app: Arc<App>,
    staff: Staff,
    seq: String,
    form: HashMap<String, String>,
    what: Reviewed,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    staff.require_case_role("review held reports")?;
    let seq: u64 = seq
        .parse()
        .map_err(|_| staff.refuse(StatusCode::NOT_FOUND, format!("No event {seq:?}."), None))?;
    let confirm = match form.get("decision").map(String::as_str) {
        Some("confirm") => true,
        Some("reject") => false,
        _ => {
            return Err(Page::error(
                StatusCode::BAD_REQUEST,
                "The decision is confirm or reject.",
            ));
        }
    };
    // The second of two confirmations, and the confirmation of an identity change, are a
    // supervisor's.
    if confirm && staff.role() != UserRole::Supervisor {
        let index = app.index.read().expect("index lock");
        let needs_supervisor = match what {
            Reviewed::IdentityChange => true,
            Reviewed::Held => index.open_work().any(|(_, s)| {
                s.held().iter().any(|h| {
                    h.seq == seq
                        && matches!(
                            h.status,
                            dmf_registry::state::HeldStatus::Open {
                                confirmed_by: Some(_)
                            }
                        )
                })
            }),
        };
        if needs_supervisor {
            return Err(staff.refuse(
                StatusCode::FORBIDDEN,
                "A supervisor confirms this: your confirmation is not enough on its own.",
                None,
            ));
        }
    }
    let (accepted, ssn) = identity::review(
        &app,
        &staff.actor(),
        seq,
        what,
        confirm,
        ReviewFields::new(filled(&form, &["evidence", "reason"]))
            .map_err(crate::services::rejected)?,
    )
    .await?;
    let person = format!("/console/people/{ssn}");
    let (title, next) = match (what, confirm, &accepted.outcome) {
        (_, false, _) => (
            "Rejected",
            "It never applies; the person's record is as it was.",
        ),
        (Reviewed::Held, true, Outcome::AwaitingSecondPerson) => (
            "First confirmation recorded",
            "A supervisor confirms it second; until then it changes nothing.",
        ),
        (Reviewed::Held, true, _) => (
            "Confirmed and applied",
            "Every answer about the person now reflects it.",
        ),
        (Reviewed::IdentityChange, true, _) => (
            "Identity change confirmed",
            "The identity on file has changed; reports are compared with it from now on.",
        ),
    };
    Ok(Page::confirmation(
        &staff,
        title,
        html! { p { "Event " (seq) ": your review is recorded as event " (accepted.seq) "." } },
        html! { p { (next) } p { a #person-link href=(person) { "Back to the person" } } },
    )
    .into_response())
}

pub(crate) async fn review_held(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(seq): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    review_form(app, staff, seq, form, Reviewed::Held).await
}

pub(crate) async fn review_change(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(seq): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    review_form(app, staff, seq, form, Reviewed::IdentityChange).await
}

/// Asks for an identity change from the person page.
pub(crate) async fn propose(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    staff.require_case_role("change identities")?;
    let ssn = parse_ssn(&ssn)?;
    let fields = filled(
        &form,
        &[
            "first", "middle", "last", "suffix", "dob", "sex", "reason", "evidence",
        ],
    );
    let fields = IdentityChangeFields::new(fields).map_err(crate::services::rejected)?;
    let accepted = identity::propose_change(&app, &staff.actor(), ssn, fields).await?;
    Ok(Page::confirmation(
        &staff,
        "Identity change asked for",
        html! { p { "The change is recorded as event " (accepted.seq) ", waiting for a supervisor." } },
        html! {
            p { "A supervisor confirms or rejects it; the identity on file stays as it is until then." }
            p { a #person-link href={ "/console/people/" (ssn) } { "Back to the person" } }
        },
    )
    .into_response())
}
