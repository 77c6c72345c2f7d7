//! The person's page: answers per purpose, every event, pending reports, notices, corrections
//! and the accounting of disclosures. Contests of notices are recorded and decided here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use dmf_model::Ssn;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::event::Origin;
use dmf_registry::state::{HeldStatus, NoticeState};
use dmf_registry::{Event, PersonState};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::words::{self, Tone};
use super::{
    FormErrors, Page, PageResult, Staff, csrf_field, name_on_file, parse_ssn, time, upper_first,
};
use crate::App;
use crate::error::ApiError;
use crate::services::blocking;
use crate::users::UserRole;

/// A report's verification as the registry takes it: a state's report is verified on receipt,
/// whatever level its sender gave (the level given stays in the event).
fn report_verification(report: &dmf_model::DeathReport) -> String {
    let given = report.verification();
    if !report.source().verified_on_receipt() {
        return words::verification(given).to_owned();
    }
    match given {
        dmf_model::VerificationLevel::ProofSeen => {
            "verified on receipt (from a state, which sent proof it had seen)".to_owned()
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
                Origin::Imported { change } => {
                    format!(
                        "imported from a DMF file ({})",
                        format!("{change:?}").to_lowercase()
                    )
                }
            };
            vec![
                ("named", crate::services::identity::named(rep.subject())),
                ("source", words::source(rep.source()).to_owned()),
                ("verification", report_verification(rep)),
                ("date of death", rep.dod().to_string()),
                ("evidence", rep.evidence().as_str().to_owned()),
                ("received", r.received.to_string()),
                ("origin", origin),
                (
                    "replaces report",
                    r.supersedes.map(|s| s.to_string()).unwrap_or_default(),
                ),
            ]
        }
        Event::ReportWithdrawal(w) => vec![
            ("report withdrawn", w.report.to_string()),
            ("by its source", words::source(w.source).to_owned()),
            ("reason", w.reason.as_str().to_owned()),
            ("evidence", w.evidence.as_str().to_owned()),
        ],
        Event::ReportAlias(a) => vec![
            ("report", a.report.to_string()),
            (
                "also known as",
                crate::services::identity::named_parts(&a.name),
            ),
            (
                "other SSN given",
                a.alias_ssn.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("evidence", a.evidence.as_str().to_owned()),
        ],
        Event::StatusNotice(n) => vec![
            ("named", crate::services::identity::named(&n.notice.subject)),
            ("kind", words::notice_kind(n.notice.kind).to_owned()),
            ("authority", n.notice.authority.as_str().to_owned()),
            ("legal basis", n.notice.legal_basis.as_str().to_owned()),
            ("document", n.notice.document.as_str().to_owned()),
            ("effective", n.notice.effective.to_string()),
            ("notice sent", n.notice_sent.to_string()),
            ("contest by", n.contest_deadline.to_string()),
        ],
        Event::Correction(c) => vec![
            ("kind", c.kind().code().replace('_', " ")),
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
                    .map_or("(waiting for a supervisor)".to_owned(), |a| {
                        a.as_str().to_owned()
                    }),
            ));
            out
        }
        Event::Review(r) => vec![
            ("event reviewed", r.event.to_string()),
            ("decision", r.decision.code().replace('_', " ")),
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

/// The person's identity on file, to ask each purpose's question with.
fn query_on_file(state: &PersonState, ssn: Ssn) -> Option<IdentityQuery> {
    let id = state.identity.as_ref()?;
    Some(IdentityQuery {
        ssn,
        first: id.first.to_string(),
        last: id.last.to_string(),
        dob: id.dob?,
    })
}

/// How the timeline names an event.
fn event_words(event: &Event) -> &'static str {
    match event {
        Event::Person(_) => "Numberholder record",
        Event::DeathReport(_) => "Death report",
        Event::StatusNotice(_) => "Status notice",
        Event::Correction(_) => "Correction",
        Event::Verification(_) => "Verification by a caseworker",
        Event::Contest(_) => "Contest",
        Event::ContestDecision(_) => "Contest decision",
        Event::Presumption(_) => "Presumed deceased by age",
        Event::ImportDelete(_) => "Death withdrawn by a DMF file",
        Event::IdentityChange(_) => "Identity change",
        Event::Review(_) => "Review",
        Event::ReportWithdrawal(_) => "Death report withdrawn by its source",
        Event::ReportAlias(_) => "Other names the reporter gave",
    }
}

/// The tags of an event in the timeline: whether it still stands, and what replaced it.
fn event_tags(
    seq: u64,
    event: &Event,
    state: &PersonState,
    today: dmf_model::Date,
) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    let extra = state.extra();
    match event {
        Event::DeathReport(_) | Event::Verification(_) => {
            if state.death.is_some_and(|d| d.established_by == seq) {
                out.push((Tone::Adverse, "Death on file".to_owned()));
            }
            if let Some(c) = extra.and_then(|e| e.corrected.iter().find(|c| c.report == seq)) {
                out.push((
                    Tone::Settled,
                    format!("Corrected by event {}", c.corrected_by),
                ));
            }
            if extra.is_some_and(|e| e.pending.iter().any(|p| p.seq == seq)) {
                out.push((Tone::Waiting, "Waiting for a second source".to_owned()));
            }
            if extra.is_some_and(|e| e.corroborations.iter().any(|c| c.seq == seq)) {
                out.push((Tone::Settled, "Agrees with the death on file".to_owned()));
            }
        }
        Event::StatusNotice(_) => {
            if let Some(n) = state.notices().iter().find(|n| n.seq == seq) {
                out.push(words::notice_status(n, today, &|_| None));
            }
        }
        Event::ContestDecision(d) => out.push(if d.upheld {
            (Tone::Settled, "Contest upheld".to_owned())
        } else {
            (Tone::Adverse, "Contest denied".to_owned())
        }),
        Event::Correction(_) => out.push((Tone::Info, "Correction".to_owned())),
        _ => {}
    }
    if let Some(h) = extra.and_then(|e| e.held.iter().find(|h| h.seq == seq)) {
        out.push(match h.status {
            HeldStatus::Open { .. } => (Tone::Waiting, "Held for identity".to_owned()),
            HeldStatus::Confirmed { by } => {
                (Tone::Settled, format!("Held, then confirmed by event {by}"))
            }
            HeldStatus::Rejected { by } => {
                (Tone::Settled, format!("Held, then rejected by event {by}"))
            }
            HeldStatus::Withdrawn { by } => (
                Tone::Settled,
                format!("Held, then withdrawn by its source (event {by})"),
            ),
        });
    }
    out
}

/// The CSS class of a timeline row: deaths, notices and corrections look different.
fn row_class(event: &Event) -> &'static str {
    match event {
        Event::DeathReport(_) | Event::Verification(_) | Event::Presumption(_) => "ev-death",
        Event::StatusNotice(_) | Event::Contest(_) | Event::ContestDecision(_) => "ev-notice",
        Event::Correction(_) | Event::ImportDelete(_) | Event::ReportWithdrawal(_) => {
            "ev-correction"
        }
        _ => "ev-other",
    }
}

fn tag(tone: Tone, text: &str) -> Markup {
    html! { strong class=(tone.class()) { (text) } }
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
        return Err(staff.refuse(
            StatusCode::NOT_FOUND,
            format!("No record for SSN {ssn}."),
            Some(("/console", "Find another person")),
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
    let open = corrections.iter().find(|c| c.status.is_open());
    let correctable = state.death.is_some() || extra.is_some_and(|e| !e.pending.is_empty());
    // The day each event was recorded, for "since" and "decided on".
    let recorded_on = |seq: u64| {
        history
            .iter()
            .find(|(stored, _)| stored.seq == seq)
            .and_then(|(stored, _)| dmf_registry::day_of_ms(stored.recorded_at))
    };
    let case_of = |seq: u64| {
        corrections
            .iter()
            .find(|c| c.approval.as_ref().is_some_and(|a| a.seq == seq))
            .map(|c| c.id)
    };
    // Reports their source withdrew or replaced, and by which event.
    let replaced: std::collections::HashMap<u64, String> = history
        .iter()
        .filter_map(|(stored, event)| match event {
            Event::ReportWithdrawal(w) => Some((
                w.report,
                format!("Withdrawn by its source (event {})", stored.seq),
            )),
            Event::DeathReport(r) => r.supersedes.map(|old| {
                (
                    old,
                    format!("Replaced by its source's update (event {})", stored.seq),
                )
            }),
            _ => None,
        })
        .collect();
    let query = query_on_file(&state, ssn);
    let lines = words::summary(&state, query.as_ref(), today, &recorded_on);
    let tags = words::tags(&state, today, open.is_some());
    Ok(Page::new(
        &staff,
        format!("{name} · SSN {ssn}"),
        html! {
            p.tags {
                @for (i, (tone, text)) in tags.iter().enumerate() {
                    @if i == 0 { strong #status class=(tone.class()) { (text) } } @else { (tag(*tone, text)) }
                    " "
                }
            }
            p { "Born " (state.identity.as_ref().and_then(|i| i.dob).map(|d| d.to_string()).unwrap_or("unknown".into())) "."
                @if let Some(d) = &state.death {
                    " Date of death " (d.dod) ", reported by "
                    (d.sources.iter().map(words::source).collect::<Vec<_>>().join(" and "))
                    " (" (words::verification(d.verification)) ", event " (d.established_by) ")."
                    @if d.state_only() { " A state is its sole source: only benefit programs receive it." }
                }
            }
            div.summary-box #summary {
                h2 { "What each caller is told now" }
                @if lines.is_empty() {
                    p { "No name and date of birth are on file, so no caller can verify this person." }
                } @else {
                    dl {
                        @for l in &lines {
                            dt { (l.who) }
                            dd { (tag(l.tone, match l.tone { Tone::Clear => "Clear", Tone::Adverse => "Adverse", Tone::Waiting => "Pending", Tone::Settled | Tone::Info => "Note" })) " " (upper_first(&l.says)) "." }
                        }
                    }
                }
            }
            @if let Some(c) = open {
                p #open-correction { "A correction is open for this person: " a href={ "/console/corrections/" (c.id) } { "correction " (c.id) } "." }
            } @else if correctable {
                p { a #correct href={ "/console/people/" (ssn) "/correct" } { "This person is alive: file a correction" } }
            }
            @if let Some(e) = extra {
                @if !e.pending.is_empty() || !e.review.is_empty() {
                    h2 { "Pending reports" }
                    ul {
                        @for p in &e.pending { li { "Event " (p.seq) ": a report from " (words::source(p.source)) ", date of death " (p.dod) ", waiting for a second source or a caseworker" } }
                        @for r in &e.review { li { "Event " (r.seq) ": held for review: " (r.reason) } }
                    }
                }
            }
            (super::identity::section(&staff, ssn, &state))
            h2 { "Status notices" }
            @if state.notices().is_empty() {
                p { "None." }
            } @else {
                table #notices {
                    thead { tr { th { "Event" } th { "Kind" } th { "Authority" } th { "Effective" } th { "Contest by" } th { "Status" } th { "Action" } } }
                    tbody {
                        @for n in state.notices() {
                            @let (tone, status) = words::notice_status(n, today, &recorded_on);
                            tr {
                                td data-label="Event" { (n.seq) }
                                td data-label="Kind" { (words::notice_kind(n.kind)) }
                                td data-label="Authority" { (n.authority.as_str()) }
                                td data-label="Effective" { (n.effective) }
                                td data-label="Contest by" {
                                    (n.contest_deadline)
                                    @if n.contested_by.is_none() { (deadline_note(today, n.contest_deadline)) }
                                }
                                td data-label="Status" { (tag(tone, &status)) }
                                td data-label="Action" { (notice_action(&staff, ssn, n)) }
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
                            @if let Some(a) = &c.approval { "approved by " (a.by) " (event " (a.seq) ")" } @else if c.status == crate::workflow::CorrectionStatus::Open { "awaiting approval by a supervisor" } @else { (c.status) }
                        }
                    }
                }
            }
            h2 { "Timeline" }
            table #timeline {
                thead { tr { th { "Event" } th { "Recorded" } th { "What" } th { "Details" } } }
                tbody {
                    @for (stored, event) in &history {
                        tr id={ "event-" (stored.seq) } class=(row_class(event)) {
                            td data-label="Event" { (stored.seq) }
                            td data-label="Recorded" { (time(stored.recorded_at)) }
                            td data-label="What" {
                                (event_words(event))
                                @for (tone, text) in event_tags(stored.seq, event, &state, today) { br; (tag(tone, &text)) }
                                @if let Some(words) = replaced.get(&stored.seq) { br; (tag(Tone::Settled, words)) }
                                @if let Some(id) = case_of(stored.seq) { br; a href={ "/console/corrections/" (id) } { "Correction " (id) } }
                            }
                            td data-label="Details" {
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
                        tr { td data-label="When" { (time(d.at_ms)) } td data-label="To" { (d.key_name) } td data-label="Purpose" { (d.purpose) } td data-label="Fields" { (d.fields.join(", ")) } }
                    }
                }
            }
        },
    ))
}

/// What may be done with a notice: contest it (until decided), or decide its contest.
fn notice_action(staff: &Staff, ssn: Ssn, n: &NoticeState) -> Markup {
    if n.contested_by.is_none() && n.decision.is_none() {
        return html! { a href={ "/console/people/" (ssn) "/notices/" (n.seq) "/contest" } { "Record a contest" } };
    }
    match n.decision {
        Some(_) => html! { "Decided" },
        None if staff.role() == UserRole::Supervisor => {
            html! { a href={ "/console/people/" (ssn) "/notices/" (n.seq) "/decide" } { "Decide the contest" } }
        }
        None => html! { "A supervisor decides" },
    }
}

fn deadline_note(today: dmf_model::Date, deadline: dmf_model::Date) -> String {
    let days = deadline.days_since_epoch() - today.days_since_epoch();
    match days {
        d if d < 0 => format!(" (passed {} days ago)", -d),
        0 => " (today)".into(),
        1 => " (1 day left)".into(),
        d => format!(" ({d} days left)"),
    }
}

/// The notice `seq` of the person, or a refusal that links back to the person.
fn find_notice(
    staff: &Staff,
    app: &App,
    ssn: Ssn,
    seq: &str,
) -> Result<(String, NoticeState), Page> {
    let back = format!("/console/people/{ssn}");
    let not_found = || {
        staff.refuse(
            StatusCode::NOT_FOUND,
            format!("No status notice {seq} for SSN {ssn}."),
            Some((&back, "Back to the person")),
        )
    };
    let seq: u64 = seq.trim().parse().map_err(|_| not_found())?;
    let index = app.index.read().expect("index lock");
    let n = index
        .get(ssn)
        .and_then(|s| s.notices().iter().find(|n| n.seq == seq).cloned())
        .ok_or_else(not_found)?;
    drop(index);
    Ok((name_on_file(app, ssn).unwrap_or_default(), n))
}

/// The notice as the contest and decision pages show it.
fn notice_box(n: &NoticeState, today: dmf_model::Date) -> Markup {
    html! {
        dl.summary-box {
            dt { "Notice" } dd { "Event " (n.seq) ": " (words::notice_kind(n.kind)) }
            dt { "Authority" } dd { (n.authority.as_str()) }
            dt { "Effective" } dd { (n.effective) }
            dt { "Contest by" } dd { (n.contest_deadline) (deadline_note(today, n.contest_deadline)) }
        }
    }
}

fn contest_page(
    staff: &Staff,
    ssn: Ssn,
    name: &str,
    n: &NoticeState,
    today: dmf_model::Date,
    form: &HashMap<String, String>,
    errors: &FormErrors,
) -> Page {
    let late = today > n.contest_deadline;
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    Page::new(
        staff,
        format!("Record a contest · {name} · SSN {ssn}"),
        html! {
            (errors.summary())
            (notice_box(n, today))
            p { "Recording the contest suspends the notice until a supervisor decides: no caller is told of it meanwhile." }
            form method="post" action={ "/console/people/" (ssn) "/notices/" (n.seq) "/contest" } novalidate {
                (csrf_field(staff))
                div {
                    label for="reason" { "Why the person contests the notice" }
                    (errors.message("reason"))
                    textarea #reason name="reason" rows="3" aria-invalid=[errors.invalid("reason")] aria-describedby=[errors.described_by("reason")] { (get("reason")) }
                }
                @if late {
                    div.late #late {
                        p.warning { strong { "This contest is late. " } "The deadline was " (n.contest_deadline) (deadline_note(today, n.contest_deadline)) ". Accept it only for good cause, and say why." }
                        (errors.message("accept_late"))
                        p {
                            input #accept_late type="checkbox" name="accept_late" value="yes" checked[form.contains_key("accept_late")] aria-invalid=[errors.invalid("accept_late")] aria-describedby=[errors.described_by("accept_late")];
                            label for="accept_late" { "Accept a late contest" }
                        }
                        label for="late_reason" { "Good cause for accepting it late" }
                        (errors.message("late_reason"))
                        input #late_reason type="text" name="late_reason" value=(get("late_reason")) aria-invalid=[errors.invalid("late_reason")] aria-describedby=[errors.described_by("late_reason")];
                    }
                }
                p { button #record-contest type="submit" { "Record the contest" } }
            }
            p { a href={ "/console/people/" (ssn) } { "Back to the person" } }
        },
    )
    .with_errors(errors)
}

fn decide_page(
    staff: &Staff,
    ssn: Ssn,
    name: &str,
    n: &NoticeState,
    today: dmf_model::Date,
    form: &HashMap<String, String>,
    errors: &FormErrors,
) -> Page {
    let chosen = form.get("decision").map(String::as_str);
    Page::new(
        staff,
        format!("Decide a contest · {name} · SSN {ssn}"),
        html! {
            (errors.summary())
            (notice_box(n, today))
            form method="post" action={ "/console/people/" (ssn) "/notices/" (n.seq) "/decide" } novalidate {
                (csrf_field(staff))
                fieldset #decision aria-invalid=[errors.invalid("decision")] aria-describedby=[errors.described_by("decision")] {
                    legend { "Decision" }
                    (errors.message("decision"))
                    p {
                        input #decision-upheld type="radio" name="decision" value="upheld" checked[chosen == Some("upheld")];
                        label for="decision-upheld" { "Contest upheld: withdraw the notice" }
                    }
                    p {
                        input #decision-denied type="radio" name="decision" value="denied" checked[chosen == Some("denied")];
                        label for="decision-denied" { "Contest denied: the notice stands, and cannot be contested again" }
                    }
                }
                div {
                    label for="reason" { "Reason for the decision" }
                    (errors.message("reason"))
                    textarea #reason name="reason" rows="3" aria-invalid=[errors.invalid("reason")] aria-describedby=[errors.described_by("reason")] { (form.get("reason").cloned().unwrap_or_default()) }
                }
                p { button #decide type="submit" { "Record the decision" } }
            }
            p { a href={ "/console/people/" (ssn) } { "Back to the person" } }
        },
    )
    .with_errors(errors)
}

/// The page to record a contest of a notice.
pub(crate) async fn contest_form(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path((ssn, seq)): Path<(String, String)>,
) -> PageResult {
    staff.require_case_role("record contests")?;
    let ssn = parse_ssn(&ssn)?;
    let (name, n) = find_notice(&staff, &app, ssn, &seq)?;
    staff
        .disclosed(&app, [ssn.as_u32()], "console", &["notices"])
        .await?;
    if n.contested_by.is_some() {
        return Err(staff.refuse(
            StatusCode::CONFLICT,
            format!("Notice {} was already contested.", n.seq),
            Some((&format!("/console/people/{ssn}"), "Back to the person")),
        ));
    }
    Ok(contest_page(
        &staff,
        ssn,
        &name,
        &n,
        app.today(),
        &HashMap::new(),
        &FormErrors::new(),
    ))
}

/// The page where a supervisor decides a contest.
pub(crate) async fn decide_form(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path((ssn, seq)): Path<(String, String)>,
) -> PageResult {
    staff.require(&[UserRole::Supervisor], "decide contests")?;
    let ssn = parse_ssn(&ssn)?;
    let (name, n) = find_notice(&staff, &app, ssn, &seq)?;
    staff
        .disclosed(&app, [ssn.as_u32()], "console", &["notices"])
        .await?;
    Ok(decide_page(
        &staff,
        ssn,
        &name,
        &n,
        app.today(),
        &HashMap::new(),
        &FormErrors::new(),
    ))
}

/// Stores a submission made from a console form, as the one writer.
async fn submit_form(app: &Arc<App>, body: Value) -> Result<dmf_registry::Accepted, ApiError> {
    let submission =
        dmf_registry::parse_value(&body, app.today()).map_err(crate::services::rejected)?;
    crate::services::submit::submit_one(app, submission).await
}

fn text<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |s| s.trim())
}

/// Records a person's contest of a notice; the notice is suspended until decided. A contest
/// after the deadline needs the explicit choice to accept it late, with the cause.
pub(crate) async fn contest_notice(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path((ssn, seq)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    staff.check_form(&form)?;
    staff.require_case_role("record contests")?;
    let ssn = parse_ssn(&ssn)?;
    let (name, n) = find_notice(&staff, &app, ssn, &seq)?;
    let today = app.today();
    let mut errors = FormErrors::new();
    let reason = text(&form, "reason");
    if reason.is_empty() {
        errors.add("reason", "Enter why the person contests the notice");
    }
    let late = today > n.contest_deadline;
    let mut recorded_reason = reason.to_owned();
    if late {
        if !form.contains_key("accept_late") {
            errors.add(
                "accept_late",
                format!(
                    "The deadline to contest was {}: tick \"Accept a late contest\" to record it",
                    n.contest_deadline
                ),
            );
        }
        let cause = text(&form, "late_reason");
        if cause.is_empty() {
            errors.add(
                "late_reason",
                "Enter the good cause for accepting a late contest",
            );
        }
        recorded_reason = format!(
            "{reason} (late contest accepted by {}: {cause})",
            staff.0.user.name
        );
    }
    if errors.is_empty() {
        let body = json!({
            "type": "contest",
            "ssn": ssn.to_string(),
            "notice": n.seq,
            "reason": recorded_reason,
            "requested_by": staff.0.user.name,
        });
        match submit_form(&app, body).await {
            Ok(accepted) => {
                return Ok(Page::confirmation(
                    &staff,
                    "Contest recorded",
                    html! { p { "The contest of notice " (n.seq) " (" (words::notice_kind(n.kind)) ") for " (name) " is recorded as event " (accepted.seq) "." } },
                    html! {
                        p { "The notice is suspended: no bank, employer or program is told of it until a supervisor decides the contest." }
                        p { a href={ "/console/people/" (ssn) } { "Back to " (name) } }
                    },
                ));
            }
            Err(e) => errors.add("reason", upper_first(&e.message)),
        }
    }
    Err(contest_page(&staff, ssn, &name, &n, today, &form, &errors))
}

/// A supervisor's decision on a contested notice.
pub(crate) async fn decide_notice(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path((ssn, seq)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    staff.check_form(&form)?;
    staff.require(&[UserRole::Supervisor], "decide contests")?;
    let ssn = parse_ssn(&ssn)?;
    let (name, n) = find_notice(&staff, &app, ssn, &seq)?;
    let mut errors = FormErrors::new();
    let decision = text(&form, "decision");
    if !matches!(decision, "upheld" | "denied") {
        errors.add("decision", "Choose whether the contest is upheld or denied");
    }
    let reason = text(&form, "reason");
    if reason.is_empty() {
        errors.add("reason", "Enter the reason for the decision");
    }
    if errors.is_empty() {
        let body = json!({
            "type": "contest_decision",
            "ssn": ssn.to_string(),
            "notice": n.seq,
            "decision": decision,
            "reason": reason,
            "decided_by": staff.0.user.name,
        });
        match submit_form(&app, body).await {
            Ok(accepted) => {
                let upheld = decision == "upheld";
                return Ok(Page::confirmation(
                    &staff,
                    if upheld {
                        "Contest upheld"
                    } else {
                        "Contest denied"
                    },
                    html! { p { "The decision on notice " (n.seq) " (" (words::notice_kind(n.kind)) ") for " (name) " is recorded as event " (accepted.seq) "." } },
                    html! {
                        @if upheld {
                            p { "The notice is withdrawn: it never counts against the person again, and every answer has changed." }
                        } @else {
                            p { "The notice stands and cannot be contested again. Send the person the decision with its reason." }
                        }
                        p { a href={ "/console/people/" (ssn) } { "Back to " (name) } }
                    },
                ));
            }
            Err(e) => errors.add("decision", upper_first(&e.message)),
        }
    }
    Err(decide_page(
        &staff,
        ssn,
        &name,
        &n,
        app.today(),
        &form,
        &errors,
    ))
}
