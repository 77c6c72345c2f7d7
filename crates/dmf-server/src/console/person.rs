//! The person's page: answers per purpose, every event, pending reports, notices, corrections
//! and the accounting of disclosures. Contests of notices are recorded and decided here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use dmf_model::Ssn;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::event::Origin;
use dmf_registry::render::{self, Purpose};
use dmf_registry::{Event, PersonState};
use maud::html;
use serde_json::{Value, json};

use super::{Page, PageResult, Staff, csrf_field, name_on_file, parse_ssn, time};
use crate::App;
use crate::error::ApiError;
use crate::services::blocking;
use crate::users::UserRole;

/// One line of an answer: its fields as `name: value`.
fn answer_line(v: &Value) -> String {
    let Some(o) = v.as_object() else {
        return v.to_string();
    };
    o.iter()
        .filter(|(k, _)| *k != "purpose")
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A report's verification as the registry takes it: a state's report is verified on receipt,
/// whatever level its sender gave (the level given stays in the event).
fn report_verification(report: &dmf_model::DeathReport) -> String {
    let given = report.verification();
    if !report.source().verified_on_receipt() {
        return given.name().to_owned();
    }
    match given {
        dmf_model::VerificationLevel::ProofSeen => {
            "verified on receipt (from a state, which gave proof_seen)".to_owned()
        }
        _ => "verified on receipt (from a state)".to_owned(),
    }
}

/// What an event says, for the timeline: its fields other than the SSN.
fn describe(event: &Event) -> Vec<(&'static str, String)> {
    match event {
        Event::Person(p) => vec![
            ("name", full_name(&p.name)),
            ("born", p.dob.map(|d| d.to_string()).unwrap_or_default()),
        ],
        Event::DeathReport(r) => {
            let rep = &r.report;
            let origin = match r.origin {
                Origin::Submitted => "submitted".to_owned(),
                Origin::Imported { change } => format!("imported DMF record ({change:?})"),
            };
            vec![
                ("named", crate::services::identity::named(rep.subject())),
                ("source", rep.source().code().to_owned()),
                ("verification", report_verification(rep)),
                ("date of death", rep.dod().to_string()),
                ("evidence", rep.evidence().as_str().to_owned()),
                ("received", r.received.to_string()),
                ("origin", origin),
            ]
        }
        Event::StatusNotice(n) => vec![
            ("named", crate::services::identity::named(&n.notice.subject)),
            ("kind", n.notice.kind.code().to_owned()),
            ("authority", n.notice.authority.as_str().to_owned()),
            ("legal basis", n.notice.legal_basis.as_str().to_owned()),
            ("document", n.notice.document.as_str().to_owned()),
            ("effective", n.notice.effective.to_string()),
            ("notice sent", n.notice_sent.to_string()),
            ("contest by", n.contest_deadline.to_string()),
        ],
        Event::Correction(c) => vec![
            ("kind", c.kind().code().to_owned()),
            ("reason", c.reason().as_str().to_owned()),
            (
                "identity evidence",
                c.identity_evidence()
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (
                "requested by",
                c.approval().requested_by().as_str().to_owned(),
            ),
            (
                "approved by",
                c.approval().approved_by().as_str().to_owned(),
            ),
        ],
        Event::Verification(v) => vec![
            (
                "report",
                v.report
                    .map(|s| s.to_string())
                    .unwrap_or("latest pending".into()),
            ),
            ("approved by", v.approved_by.as_str().to_owned()),
            (
                "evidence",
                v.evidence
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ],
        Event::Contest(c) => vec![
            (
                "notice",
                c.notice
                    .map(|s| s.to_string())
                    .unwrap_or("every open notice".into()),
            ),
            ("reason", c.reason.as_str().to_owned()),
            (
                "requested by",
                c.requested_by
                    .as_ref()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ],
        Event::ContestDecision(d) => vec![
            ("notice", d.notice.to_string()),
            (
                "decision",
                if d.upheld {
                    "contest upheld: notice withdrawn"
                } else {
                    "contest denied: notice in force"
                }
                .to_owned(),
            ),
            ("reason", d.reason.as_str().to_owned()),
            ("decided by", d.decided_by.as_str().to_owned()),
        ],
        Event::ImportDelete(d) => vec![("evidence", d.evidence.as_str().to_owned())],
        Event::Presumption(p) => vec![
            ("criterion", p.criterion.as_str().to_owned()),
            ("legal basis", p.legal_basis.as_str().to_owned()),
            ("recorded by", p.recorded_by.as_str().to_owned()),
        ],
        Event::IdentityChange(c) => {
            let mut out = Vec::new();
            if let Some(n) = &c.name {
                out.push(("new name", full_name(n)));
            }
            if let Some(d) = c.dob {
                out.push(("new date of birth", d.to_string()));
            }
            if let Some(s) = c.sex {
                out.push(("new sex", s.code().to_owned()));
            }
            out.push(("reason", c.reason.as_str().to_owned()));
            out.push((
                "evidence",
                c.evidence
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
            out.push(("requested by", c.requested_by.as_str().to_owned()));
            out.push((
                "approved by",
                c.approved_by
                    .as_ref()
                    .map_or("(waiting for a second person)".to_owned(), |a| {
                        a.as_str().to_owned()
                    }),
            ));
            out
        }
        Event::Review(r) => vec![
            ("event reviewed", r.event.to_string()),
            ("decision", r.decision.code().to_owned()),
            ("by", r.by.as_str().to_owned()),
            (
                "evidence",
                r.evidence
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            (
                "reason",
                r.reason
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ],
    }
}

/// A whole name as written on file: first, middle, last and suffix.
fn full_name(n: &dmf_model::PersonName) -> String {
    [
        Some(n.first.dmf()),
        n.middle.as_ref().map(|m| m.dmf()),
        Some(n.last.dmf()),
        n.suffix.as_ref().map(|s| s.dmf()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// The answers each purpose would get, asked with the name and date of birth on file.
fn answers(state: &PersonState, ssn: Ssn, today: dmf_model::Date) -> Vec<(Purpose, Value)> {
    let Some(id) = &state.identity else {
        return Vec::new();
    };
    let Some(dob) = id.dob else {
        return Vec::new();
    };
    let q = IdentityQuery {
        ssn,
        first: id.first.to_string(),
        last: id.last.to_string(),
        dob,
    };
    [Purpose::Identity, Purpose::Employment, Purpose::Benefits]
        .into_iter()
        .map(|p| {
            let seen = render::visible(state, p);
            (p, render::answer(p, &q, Some(&seen), today))
        })
        .collect()
}

pub(crate) async fn person(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
) -> PageResult {
    staff.require_case_role("read people's records")?;
    let ssn = parse_ssn(&ssn)?;
    let state = app.index.read().expect("index lock").get(ssn).cloned();
    let Some(state) = state else {
        return Err(Page::error(
            StatusCode::NOT_FOUND,
            format!("No record for SSN {ssn}."),
        ));
    };
    let app2 = app.clone();
    let (history, corrections, disclosures) = blocking(move || {
        Ok((
            app2.registry.history(ssn).map_err(ApiError::internal)?,
            app2.workflow
                .corrections_of(ssn.as_u32())
                .map_err(ApiError::internal)?,
            app2.accounting
                .for_person(ssn.as_u32())
                .map_err(ApiError::internal)?,
        ))
    })
    .await?;
    staff
        .disclosed(
            &app,
            [ssn.as_u32()],
            "console",
            &["record", "timeline", "accounting"],
        )
        .await?;
    let today = app.today();
    let extra = state.extra();
    let name = name_on_file(&app, ssn).unwrap_or_else(|| "(no name on file)".into());
    let supervisor = staff.role() == UserRole::Supervisor;
    let correctable = state.death.is_some() || extra.is_some_and(|e| !e.pending.is_empty());
    Ok(Page::new(
        &staff,
        format!("{name} · SSN {ssn}"),
        html! {
            p {
                "Born " (state.identity.as_ref().and_then(|i| i.dob).map(|d| d.to_string()).unwrap_or("unknown".into())) ". "
                @if let Some(d) = &state.death {
                    span.deceased #status { "Recorded as deceased" }
                    " (date of death " (d.dod) ", source " (d.source.code()) ", verification " (d.verification.name()) ", event " (d.established_by)
                    ", reported by " (d.sources.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ")) ")."
                    @if d.state_only() { " A state is its sole source: only benefit programs receive it." }
                } @else {
                    span.alive #status { "Not recorded as deceased" } "."
                }
            }
            @if correctable {
                p { a #correct href={ "/console/people/" (ssn) "/correct" } { "This person is alive: file a correction" } }
            }
            h2 { "Answers by purpose" }
            table {
                thead { tr { th { "Purpose" } th { "Answer (asked with the name and date of birth on file)" } } }
                tbody {
                    @for (p, v) in answers(&state, ssn, today) {
                        tr { td { (p.code()) } td { (answer_line(&v)) } }
                    }
                }
            }
            @if let Some(e) = extra {
                @if !e.pending.is_empty() || !e.review.is_empty() {
                    h2 { "Pending reports" }
                    ul {
                        @for p in &e.pending { li { "Event " (p.seq) ": " (p.source.code()) ", date of death " (p.dod) ", waiting for a second source or a caseworker" } }
                        @for r in &e.review { li { "Event " (r.seq) ": held for review: " (r.reason) } }
                    }
                }
            }
            (super::identity::section(&staff, ssn, &state))
            h2 { "Status notices" }
            @if state.notices().is_empty() {
                p { "None." }
            } @else {
                table {
                    thead { tr { th { "Event" } th { "Kind" } th { "Authority" } th { "Effective" } th { "Contest by" } th { "Status" } th { "Action" } } }
                    tbody {
                        @for n in state.notices() {
                            @let status = n.status(today);
                            tr {
                                td { (n.seq) }
                                td { (n.kind.code()) }
                                td { (n.authority.as_str()) }
                                td { (n.effective) }
                                td { (n.contest_deadline) (deadline_note(today, n.contest_deadline)) }
                                td { (status.code()) }
                                td {
                                    @if n.contested_by.is_none() {
                                        form method="post" action={ "/console/people/" (ssn) "/contest" } {
                                            (csrf_field(&staff))
                                            input type="hidden" name="notice" value=(n.seq);
                                            label for={ "reason-c" (n.seq) } { "Contest reason" }
                                            input id={ "reason-c" (n.seq) } type="text" name="reason" required;
                                            button type="submit" { "Record contest" }
                                        }
                                    } @else if n.decision.is_none() && supervisor {
                                        form method="post" action={ "/console/people/" (ssn) "/decide" } {
                                            (csrf_field(&staff))
                                            input type="hidden" name="notice" value=(n.seq);
                                            label for={ "decision-" (n.seq) } { "Decision" }
                                            select id={ "decision-" (n.seq) } name="decision" {
                                                option value="upheld" { "Contest upheld: withdraw the notice" }
                                                option value="denied" { "Contest denied: the notice stands" }
                                            }
                                            label for={ "reason-d" (n.seq) } { "Reason" }
                                            input id={ "reason-d" (n.seq) } type="text" name="reason" required;
                                            button type="submit" { "Decide" }
                                        }
                                    } @else if n.decision.is_none() {
                                        "contested: a supervisor decides"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !corrections.is_empty() {
                h2 { "Corrections" }
                ul {
                    @for c in &corrections {
                        li {
                            a href={ "/console/corrections/" (c.id) } { "Correction " (c.id) }
                            " requested by " (c.requested_by) " at " (time(c.requested_at)) ": "
                            @if let Some(a) = &c.approval { "approved by " (a.by) " (event " (a.seq) ")" } @else { "awaiting approval" }
                        }
                    }
                }
            }
            h2 { "Timeline" }
            table #timeline {
                thead { tr { th { "Event" } th { "Recorded" } th { "Type" } th { "Details" } } }
                tbody {
                    @for (stored, event) in &history {
                        tr {
                            td { (stored.seq) }
                            td { (time(stored.recorded_at)) }
                            td { (event.kind()) }
                            td {
                                @for (k, v) in describe(event) {
                                    @if !v.is_empty() { (k) ": " (v) br; }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Disclosures of this record" }
            p { (disclosures.len()) " disclosure(s) recorded, newest first." }
            table {
                thead { tr { th { "When" } th { "To" } th { "Purpose" } th { "Fields" } } }
                tbody {
                    @for d in disclosures.iter().rev().take(200) {
                        tr { td { (time(d.at_ms)) } td { (d.key_name) } td { (d.purpose) } td { (d.fields.join(", ")) } }
                    }
                }
            }
        },
    ))
}

fn deadline_note(today: dmf_model::Date, deadline: dmf_model::Date) -> String {
    let days = deadline.days_since_epoch() - today.days_since_epoch();
    match days {
        d if d < 0 => " (passed)".into(),
        0 => " (today)".into(),
        d => format!(" ({d} days left)"),
    }
}

/// Stores a submission made from a console form, as the one writer.
async fn submit_form(app: &Arc<App>, body: Value) -> Result<dmf_registry::Accepted, Page> {
    let submission = dmf_registry::parse_value(&body, app.today())
        .map_err(|r| Page::from(crate::services::rejected(r)))?;
    Ok(crate::services::submit::submit_one(app, submission).await?)
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Page> {
    match form.get(name).map(|s| s.trim()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Page::error(
            StatusCode::BAD_REQUEST,
            format!("The field {name:?} is required."),
        )),
    }
}

fn notice_seq(form: &HashMap<String, String>) -> Result<u64, Page> {
    field(form, "notice")?.parse().map_err(|_| {
        Page::error(
            StatusCode::BAD_REQUEST,
            "The notice is not an event number.",
        )
    })
}

/// Records a person's contest of a notice; the notice is suspended until decided.
pub(crate) async fn contest(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    staff.require_case_role("record contests")?;
    let ssn = parse_ssn(&ssn)?;
    let body = json!({
        "type": "contest",
        "ssn": ssn.to_string(),
        "notice": notice_seq(&form)?,
        "reason": field(&form, "reason")?,
        "requested_by": staff.0.user.name,
    });
    submit_form(&app, body).await?;
    Ok(Redirect::to(&format!("/console/people/{ssn}")).into_response())
}

/// A supervisor's decision on a contested notice.
pub(crate) async fn decide(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(ssn): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Page> {
    staff.check_form(&form)?;
    staff.require(&[UserRole::Supervisor], "decide contests")?;
    let ssn = parse_ssn(&ssn)?;
    let body = json!({
        "type": "contest_decision",
        "ssn": ssn.to_string(),
        "notice": notice_seq(&form)?,
        "decision": field(&form, "decision")?,
        "reason": field(&form, "reason")?,
        "decided_by": staff.0.user.name,
    });
    submit_form(&app, body).await?;
    Ok(Redirect::to(&format!("/console/people/{ssn}")).into_response())
}
