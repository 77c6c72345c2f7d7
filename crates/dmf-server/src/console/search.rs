//! Finding a person: by SSN typed any usual way, or by name with or without a date of birth
//! typed any usual way, ranked by how well each person matches with the reason in words, a
//! page at a time. The people compared come from the answer index's name index (see
//! `dmf_registry::search`); only the people on the page shown are accounted as disclosed.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use dmf_match::NameTables;
use dmf_model::Ssn;
use dmf_registry::search::{self, Found, Hit, MAX_COMPARED, TypedDob};
use maud::{Markup, html};

use super::{FormErrors, Page, Staff, pct};
use crate::App;
use crate::services::blocking;

/// People shown a page.
const PER_PAGE: usize = 20;

/// What the search form holds, and the page of results asked for.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct SearchParams {
    #[serde(default)]
    ssn: String,
    #[serde(default)]
    first: String,
    #[serde(default)]
    last: String,
    #[serde(default)]
    dob: String,
    /// Read leniently: a page that is not a number is the first.
    #[serde(default)]
    page: String,
}

impl SearchParams {
    /// The search as a query string, for the links to other pages of its results.
    fn href(&self, page: usize) -> String {
        format!(
            "/console/search?first={}&last={}&dob={}&page={page}",
            pct(self.first.trim()),
            pct(self.last.trim()),
            pct(self.dob.trim())
        )
    }
}

pub(crate) fn search_form(q: &SearchParams, errors: &FormErrors) -> Markup {
    html! {
        (errors.summary())
        form #search method="get" action="/console/search" novalidate {
            p.hint #search-hint { "Search by SSN, or by name. The date of birth is optional." }
            div {
                label for="ssn" { "SSN" }
                p.hint #ssn-hint { "9 digits, with or without dashes or spaces, like 123-45-6789" }
                (errors.message("ssn"))
                input #ssn type="text" name="ssn" value=(q.ssn) inputmode="numeric" autocomplete="off" spellcheck="false"
                    aria-describedby=(errors.described_with_hint("ssn")) aria-invalid=[errors.invalid("ssn")];
            }
            fieldset {
                legend { "Or by name" }
                div {
                    label for="first" { "First name (optional)" }
                    p.hint #first-hint { "A nickname will do: Bob finds Robert" }
                    (errors.message("first"))
                    input #first type="text" name="first" value=(q.first) autocomplete="off" spellcheck="false"
                        aria-describedby=(errors.described_with_hint("first")) aria-invalid=[errors.invalid("first")];
                }
                div {
                    label for="last" { "Last name" }
                    p.hint #last-hint { "Spelt as you heard it; names that sound alike are found" }
                    (errors.message("last"))
                    input #last type="text" name="last" value=(q.last) autocomplete="off" spellcheck="false"
                        aria-describedby=(errors.described_with_hint("last")) aria-invalid=[errors.invalid("last")];
                }
                div {
                    label for="dob" { "Date of birth (optional)" }
                    p.hint #dob-hint { "For example 1970-10-31 or 10/31/1970, or only the year, 1970" }
                    (errors.message("dob"))
                    input #dob type="text" name="dob" value=(q.dob) autocomplete="off" spellcheck="false"
                        aria-describedby=(errors.described_with_hint("dob")) aria-invalid=[errors.invalid("dob")];
                }
            }
            p { button #search-button type="submit" { "Search" } }
        }
    }
}

/// How strong a match is, in words, from its score (the matching core's levels).
fn strength(score: u32) -> Markup {
    match score {
        20.. => html! { span.tag.tag-blue { "Strong match" } },
        14.. => html! { span.tag.tag-grey { "Good match" } },
        _ => html! { span.tag.tag-grey { "Possible match" } },
    }
}

fn status_tag(deceased: bool) -> Markup {
    if deceased {
        html! { span.tag.tag-red { "Deceased" } }
    } else {
        html! { span.tag.tag-green { "Not deceased" } }
    }
}

/// `50,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `123-45-6789`.
fn dashed(ssn: u32) -> String {
    let s = format!("{ssn:09}");
    format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..])
}

pub(crate) async fn search(
    State(app): State<Arc<App>>,
    staff: Staff,
    Query(q): Query<SearchParams>,
) -> Result<Response, Page> {
    staff.require_case_role("search for people")?;
    let blank = |s: &str| s.trim().is_empty();
    let mut errors = FormErrors::new();
    let form_again = |errors: &FormErrors| {
        Page::new(&staff, "Find a person", search_form(&q, errors)).with_errors(errors)
    };
    if !blank(&q.ssn) {
        let ssn: Ssn = match search::parse_ssn(&q.ssn) {
            Ok(s) => s,
            Err(e) => {
                errors.add("ssn", e.to_string());
                return Err(form_again(&errors));
            }
        };
        let known = app.index.read().expect("index lock").get(ssn).is_some();
        if known {
            return Ok(Redirect::to(&format!("/console/people/{ssn}")).into_response());
        }
        return Ok(Page::new(
            &staff,
            "Find a person",
            html! {
                p #not-found { "No one on file has the SSN " (dashed(ssn.as_u32())) "." }
                (search_form(&q, &errors))
            },
        )
        .into_response());
    }
    if blank(&q.last) {
        let message = if blank(&q.first) && blank(&q.dob) {
            "Enter an SSN, or a last name"
        } else {
            "Enter a last name: a first name or a date of birth alone finds too many people"
        };
        errors.add("last", message);
    }
    let typed: Option<TypedDob> = match search::parse_dob(&q.dob) {
        Ok(d) => d,
        Err(e) => {
            errors.add("dob", e.to_string());
            None
        }
    };
    if !errors.is_empty() {
        return Err(form_again(&errors));
    }
    let app2 = app.clone();
    let (first, last) = (q.first.clone(), q.last.clone());
    let dob = typed.map(|t| t.date);
    let found: Found = blocking(move || {
        let tables = app2.names.get_or_init(NameTables::shipped);
        let index = app2.index.read().expect("index lock");
        let query = search::Query {
            first: &first,
            last: &last,
            dob,
        };
        Ok(search::search(&index, tables, &query))
    })
    .await?;
    let total = found.hits.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.trim().parse::<usize>().unwrap_or(1).clamp(1, pages);
    let shown: &[Hit] =
        &found.hits[((page - 1) * PER_PAGE).min(total)..(page * PER_PAGE).min(total)];
    staff
        .disclosed(
            &app,
            shown.iter().map(|h| h.ssn),
            "console search",
            &["name", "dob", "status"],
        )
        .await?;
    let query = search::Query {
        first: &q.first,
        last: &q.last,
        dob,
    };
    let from = (page - 1) * PER_PAGE + 1;
    let to = from + shown.len() - usize::from(!shown.is_empty());
    Ok(Page::new(
        &staff,
        "Find a person",
        html! {
            (search_form(&q, &errors))
            h2 #results { "People found" }
            @if let Some(t) = typed.filter(|t| t.swapped) {
                p #dob-read { "The date of birth was read as " (t.date) ": the day and month were the other way round." }
            }
            @if found.capped {
                p #capped role="status" {
                    "More than " (thousands(MAX_COMPARED)) " people on file have a name like this, so only "
                    (thousands(MAX_COMPARED)) " of them were compared: some may be missing. Add a first name or a date of birth to narrow the search."
                }
            }
            @if shown.is_empty() {
                p #none {
                    "No one on file is close to this name"
                    @if dob.is_some() { " and date of birth" }
                    ". Check the spelling"
                    @if dob.is_some() { ", or search without the date of birth" }
                    "."
                }
            } @else {
                p #showing role="status" {
                    @if total == 1 { "Showing the one person found" }
                    @else { "Showing " (thousands(from)) "–" (thousands(to)) " of " (thousands(total)) " people found, the closest first" }
                }
                table #found {
                    thead { tr { th { "Name" } th { "SSN" } th { "Date of birth" } th { "Status" } th { "Match" } th { "Why" } } }
                    tbody {
                        @for h in shown {
                            @let ssn = format!("{:09}", h.ssn);
                            tr {
                                td data-label="Name" { a href={ "/console/people/" (ssn) } { (h.first) " " (h.last) } }
                                td data-label="SSN" { (dashed(h.ssn)) }
                                td data-label="Date of birth" { (h.dob.map(|d| d.to_string()).unwrap_or_else(|| "not on file".into())) }
                                td data-label="Status" { (status_tag(h.deceased)) }
                                td data-label="Match" { (strength(h.score)) }
                                td data-label="Why" { ul.reasons { @for r in h.reasons(&query) { li { (r) } } } }
                            }
                        }
                    }
                }
                @if pages > 1 {
                    nav.pager aria-label="Pages of results" {
                        @if page > 1 { a #previous rel="prev" href=(q.href(page - 1)) { "Previous" } " " }
                        span { "Page " (page) " of " (pages) }
                        @if page < pages { " " a #next rel="next" href=(q.href(page + 1)) { "Next" } }
                    }
                }
            }
        },
    )
    .into_response())
}
