//! Computer-matching agreements in the console: the list with each one's status, and one
//! agreement with its terms, approval, agency keys, requests (refused ones too), each match's
//! due process and the statistics per month. Every console role may read them.

use std::sync::Arc;

use axum::extract::{Path, State};
use maud::html;

use super::{Page, PageResult, Staff};
use crate::App;
use crate::error::ApiError;
use crate::services::blocking;

pub(crate) async fn list(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    let today = app.today();
    let app2 = app.clone();
    let state = blocking(move || app2.programs.state().map_err(ApiError::internal)).await?;
    Ok(Page::new(
        &staff,
        "Matching agreements",
        html! {
            p { "Computer-matching agreements under which other agencies match their lists against the file. An agreement is in force only once a second person has approved it, and only between its start and its expiry." }
            @if state.agreements.is_empty() {
                p { "No agreements yet (" code { "dmf agreements create" } " or " code { "POST /v1/agreements" } ")." }
            } @else {
                table {
                    thead { tr { th { "No." } th { "Recipient" } th { "Purpose" } th { "Term" } th { "Status" } th { "Requests" } th { "Disclosed" } } }
                    tbody {
                        @for a in state.agreements.values() {
                            @let requests: Vec<_> = state.requests.values().filter(|r| r.agreement == a.id).collect();
                            tr {
                                td data-label="No." { a href={ "/console/agreements/" (a.id) } { (a.id) } }
                                td data-label="Recipient" { (a.terms.recipient.as_str()) }
                                td data-label="Purpose" { (a.terms.purpose.as_str()) }
                                td data-label="Term" { (a.terms.start) " to " (a.expiry()) }
                                td data-label="Status" { (a.status(today)) }
                                td data-label="Requests" { (requests.len()) }
                                td data-label="Disclosed" { (requests.iter().map(|r| r.disclosed).sum::<u64>()) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn show(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<u64>,
) -> PageResult {
    let today = app.today();
    let app2 = app.clone();
    let state = blocking(move || app2.programs.state().map_err(ApiError::internal)).await?;
    let Some(a) = state.agreements.get(&id) else {
        return Err(Page::error(
            axum::http::StatusCode::NOT_FOUND,
            format!("There is no agreement {id}."),
        ));
    };
    // The one view of an agreement the API and the command line show, with its requests and
    // statistics; the due process of each match and the renewal's day are the store's detail.
    let view = crate::services::matching::shown_whole(&state, id, today)?;
    let t = &view.terms;
    let requests = view.requests.clone().unwrap_or_default();
    let all_cases = &state.cases;
    let cases: Vec<_> = requests
        .iter()
        .flat_map(|r| {
            (0..r.matched as u32).filter_map(move |n| Some((r.id, n, all_cases.get(&(r.id, n))?)))
        })
        .collect();
    let stats: Vec<_> = crate::services::matching::stats_rows(&state, true)
        .into_iter()
        .filter(|r| r.agreement == id)
        .collect();
    Ok(Page::new(
        &staff,
        format!("Agreement {id}"),
        html! {
            p.status { "Status: " strong { (a.status(today)) } }
            dl {
                dt { "Recipient" } dd { (t.recipient) }
                dt { "Source" } dd { (t.source) }
                dt { "Purpose" } dd { (t.purpose) }
                dt { "Legal authority" } dd { (t.legal_authority) }
                dt { "The recipient receives" } dd { (t.recipient_receives.join(", ")) ", and the match class" }
                dt { "The registry receives" } dd { (t.source_receives.join(", ")) }
                dt { "Retention" } dd { (t.retention_days) " days" }
                dt { "Term" } dd { (t.start) " to " (view.expiry_in_force) @if let (Some(to), Some(by), Some((_, x))) = (&view.renewed_to, &view.renewed_by, &a.renewed) { " (renewed to " (to) " by " (by) " on " (x.on) ")" } }
                dt { "Adverse action" } dd { @if t.adverse_action { "may follow a match after independent verification, a notice and 30 days to contest" } @else { "none" } }
                @if let Some(c) = &t.law_enforcement_criterion {
                    dt { "Law-enforcement criterion" } dd { (c) " (a case reference per record)" }
                }
                dt { "Recorded" } dd { (view.created_by) " on " (view.created_on) }
                dt { "Approved" } dd { @match (&view.approved_by, &view.approved_on) { (Some(by), Some(on)) => { (by) " on " (on) }, _ => { "not yet: a second person must approve it" } } }
                dt { "Agency keys" } dd { @if view.keys.is_empty() { "none" } @else { (view.keys.join(", ")) } }
            }
            h2 { "Requests" }
            @if requests.is_empty() {
                p { "None yet." }
            } @else {
                table {
                    thead { tr { th { "No." } th { "Day" } th { "Key" } th { "Records" } th { "Matched" } th { "Disclosed" } th { "Law enforcement" } th { "Outcome" } } }
                    tbody {
                        @for r in &requests {
                            tr {
                                td data-label="No." { (r.id) }
                                td data-label="Day" { (r.day) }
                                td data-label="Key" { (r.key) }
                                td data-label="Records" { (r.records) }
                                td data-label="Matched" { (r.matched) }
                                td data-label="Disclosed" { (r.disclosed) }
                                td data-label="Law enforcement" { (r.law_enforcement) }
                                td data-label="Outcome" { @match &r.refused { Some(why) => { "refused: " (why) }, None => { "answered" } } }
                            }
                        }
                    }
                }
                @if !cases.is_empty() {
                    h2 { "Due process of matches" }
                    table {
                        thead { tr { th { "Request" } th { "Match" } th { "Status" } th { "Verified" } th { "Notice" } } }
                        tbody {
                            @for (r, n, c) in &cases {
                                tr {
                                    td data-label="Request" { (r) }
                                    td data-label="Match" { (n) }
                                    td data-label="Status" { (c.status(today).code().replace('_', " ")) }
                                    td data-label="Verified" { @if let Some((x, how)) = &c.verified { (x.on) ": " (how.as_str()) } }
                                    td data-label="Notice" { @if let Some((x, reference)) = &c.notice { (x.on) ": " (reference.as_str()) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Statistics by month" }
            table {
                thead { tr { th { "Month" } th { "Requests" } th { "Refused" } th { "Records" } th { "Matched" } th { "Disclosed" } th { "Law enforcement" } } }
                tbody {
                    @for c in &stats {
                        tr { td data-label="Month" { (c.period) } td data-label="Requests" { (c.requests) } td data-label="Refused" { (c.refused) } td data-label="Records" { (c.records) } td data-label="Matched" { (c.matched) } td data-label="Disclosed" { (c.disclosed) } td data-label="Law enforcement" { (c.law_enforcement_disclosures) } }
                    }
                }
            }
        },
    ))
}
