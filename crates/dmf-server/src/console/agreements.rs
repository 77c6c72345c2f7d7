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
                                td { a href={ "/console/agreements/" (a.id) } { (a.id) } }
                                td { (a.terms.recipient.as_str()) }
                                td { (a.terms.purpose.as_str()) }
                                td { (a.terms.start) " to " (a.expiry()) }
                                td { (a.status(today)) }
                                td { (requests.len()) }
                                td { (requests.iter().map(|r| r.disclosed).sum::<u64>()) }
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
    let t = &a.terms;
    let list = |xs: Vec<&str>| xs.join(", ");
    let keys: Vec<&str> = state
        .keys
        .values()
        .filter(|(k, _)| *k == id)
        .map(|(_, n)| n.as_str())
        .collect();
    let requests: Vec<_> = state
        .requests
        .values()
        .filter(|r| r.agreement == id)
        .collect();
    let all_cases = &state.cases;
    let cases: Vec<_> = requests
        .iter()
        .flat_map(|r| {
            (0..r.matches.len() as u32)
                .filter_map(move |n| Some((r.id, n, all_cases.get(&(r.id, n))?)))
        })
        .collect();
    let stats: Vec<_> = crate::programs::counts(&state, true)
        .into_iter()
        .filter(|((k, _), _)| *k == id)
        .collect();
    Ok(Page::new(
        &staff,
        format!("Agreement {id}"),
        html! {
            p.status { "Status: " strong { (a.status(today)) } }
            dl {
                dt { "Recipient" } dd { (t.recipient.as_str()) }
                dt { "Source" } dd { (t.source.as_str()) }
                dt { "Purpose" } dd { (t.purpose.as_str()) }
                dt { "Legal authority" } dd { (t.legal_authority.as_str()) }
                dt { "The recipient receives" } dd { (list(t.recipient_receives.iter().map(|e| e.code()).collect())) ", and the match class" }
                dt { "The registry receives" } dd { (list(t.source_receives.iter().map(|e| e.code()).collect())) }
                dt { "Retention" } dd { (t.retention_days) " days" }
                dt { "Term" } dd { (t.start) " to " (a.expiry()) @if let Some((to, x)) = &a.renewed { " (renewed to " (to) " by " (x.by) " on " (x.on) ")" } }
                dt { "Adverse action" } dd { @if t.adverse_action { "may follow a match after independent verification, a notice and 30 days to contest" } @else { "none" } }
                @if let Some(c) = &t.law_enforcement {
                    dt { "Law-enforcement criterion" } dd { (c.as_str()) " (a case reference per record)" }
                }
                dt { "Recorded" } dd { (a.created.by) " on " (a.created.on) }
                dt { "Approved" } dd { @match &a.approved { Some(x) => { (x.by) " on " (x.on) }, None => { "not yet: a second person must approve it" } } }
                dt { "Agency keys" } dd { @if keys.is_empty() { "none" } @else { (keys.join(", ")) } }
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
                                td { (r.id) }
                                td { (r.day) }
                                td { (r.key) }
                                td { (r.records) }
                                td { (r.matches.len()) }
                                td { (r.disclosed) }
                                td { (r.law_enforcement.len()) }
                                td { @match &r.refused { Some(why) => { "refused: " (why) }, None => { "answered" } } }
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
                                    td { (r) }
                                    td { (n) }
                                    td { (c.status(today).code()) }
                                    td { @if let Some((x, how)) = &c.verified { (x.on) ": " (how.as_str()) } }
                                    td { @if let Some((x, reference)) = &c.notice { (x.on) ": " (reference.as_str()) } }
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
                    @for ((_, month), c) in &stats {
                        tr { td { (month) } td { (c.requests) } td { (c.refused) } td { (c.records) } td { (c.matched) } td { (c.disclosed) } td { (c.law_enforcement) } }
                    }
                }
            }
        },
    ))
}
