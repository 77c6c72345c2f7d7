//! Notices with their deadlines, and the oversight page: daily statistics drawn as an SVG
//! chart from the public statistics, corrections' turnaround, and the latest checkpoint.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use dmf_ledger::stats::{Period, Stats};
use dmf_model::Ssn;
use maud::{Markup, PreEscaped, html};

use super::{Page, PageResult, Staff};
use crate::App;
use crate::error::ApiError;
use crate::services::blocking;

/// Notices listed at most.
const MAX_NOTICES: usize = 500;

pub(crate) async fn notices(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    staff.require_case_role("read notices")?;
    let today = app.today();
    let app2 = app.clone();
    // Notices still open: within their contest window, or contested and not yet decided.
    let mut open = blocking(move || {
        let index = app2.index.read().expect("index lock");
        let mut out = Vec::new();
        for (ssn, state) in index.iter() {
            for n in state.notices() {
                let undecided = n.contested_by.is_some() && n.decision.is_none();
                if undecided || (n.contested_by.is_none() && n.contest_deadline >= today) {
                    out.push((n.contest_deadline, ssn, n.clone()));
                }
            }
        }
        Ok(out)
    })
    .await?;
    open.sort_by_key(|(deadline, ssn, n)| (*deadline, *ssn, n.seq));
    let total = open.len();
    open.truncate(MAX_NOTICES);
    // The page shows each person's SSN and notice: a disclosure of their records.
    let mut shown: Vec<u32> = open.iter().map(|(_, ssn, _)| *ssn).collect();
    shown.sort_unstable();
    shown.dedup();
    staff
        .disclosed(
            &app,
            shown,
            "console notices",
            &["ssn", "notice", "authority"],
        )
        .await?;
    Ok(Page::new(
        &staff,
        "Open status notices",
        html! {
            p { (total) " notice(s) open: within their contest window, or contested and awaiting a decision. Earliest deadline first." }
            table {
                thead { tr { th { "SSN" } th { "Notice" } th { "Kind" } th { "Authority" } th { "Notice sent" } th { "Contest by" } th { "Status" } } }
                tbody {
                    @for (deadline, ssn, n) in &open {
                        @let ssn = Ssn::from_number(*ssn).map(|s| s.to_string()).unwrap_or_default();
                        tr {
                            td data-label="SSN" { a href={ "/console/people/" (ssn) } { (ssn) } }
                            td data-label="Notice" { (n.seq) }
                            td data-label="Kind" { (super::words::notice_kind(n.kind)) }
                            td data-label="Authority" { (n.authority.as_str()) }
                            td data-label="Notice sent" { (n.notice_sent) }
                            td data-label="Contest by" { (deadline) }
                            td data-label="Status" { @let (tone, words) = super::words::notice_status(n, today, &|_| None); strong class=(tone.class()) { (words) } }
                        }
                    }
                }
            }
        },
    ))
}

/// Days shown in the chart.
const CHART_DAYS: usize = 60;

/// A bar chart of events a day, stacked by type, as inline SVG.
fn chart(stats: &Stats) -> Markup {
    let mut days: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for r in &stats.rows {
        *days
            .entry(r.date.as_str())
            .or_default()
            .entry(r.event_type.as_str())
            .or_default() += r.count;
    }
    let days: Vec<_> = days.into_iter().rev().take(CHART_DAYS).rev().collect();
    let mut types: Vec<&str> = days.iter().flat_map(|(_, t)| t.keys().copied()).collect();
    types.sort_unstable();
    types.dedup();
    const COLOURS: [&str; 8] = [
        "#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93", "#8d99ae", "#264653", "#bc6c25",
    ];
    let max = days
        .iter()
        .map(|(_, t)| t.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom) = (760.0f64, 240.0f64, 60.0f64, 40.0f64);
    let bar = ((w - left) / days.len().max(1) as f64).min(24.0);
    // The view box lets the chart shrink to a narrow screen; width and height keep its size
    // where there is room.
    let height = h + bottom + 20.0 * types.len().div_ceil(4) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" class="chart" role="img" aria-labelledby="chart-title"><title id="chart-title">Events logged per day, by type</title>"#
    );
    svg.push_str(&format!(
        r##"<line x1="{left}" y1="{h}" x2="{w}" y2="{h}" stroke="#333"/><text x="{}" y="12" text-anchor="end">{max}</text><text x="{}" y="{h}" text-anchor="end">0</text>"##,
        left - 4.0,
        left - 4.0
    ));
    for (i, (day, counts)) in days.iter().enumerate() {
        let x = left + i as f64 * bar;
        let mut y = h;
        for (t, n) in counts {
            let colour = COLOURS[types.iter().position(|x| x == t).unwrap_or(0) % COLOURS.len()];
            let height = (*n as f64 / max as f64) * (h - 10.0);
            y -= height;
            svg.push_str(&format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="{colour}"><title>{day} {t}: {n}</title></rect>"#,
                (bar - 1.0).max(1.0)
            ));
        }
        if i == 0 || i + 1 == days.len() || i % 10 == 0 {
            svg.push_str(&format!(
                r#"<text x="{x:.1}" y="{}">{day}</text>"#,
                h + 14.0
            ));
        }
    }
    for (i, t) in types.iter().enumerate() {
        let x = left + (i % 4) as f64 * 170.0;
        let y = h + bottom + (i / 4) as f64 * 20.0;
        let colour = COLOURS[i % COLOURS.len()];
        svg.push_str(&format!(
            r#"<rect x="{x}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{y}">{t}</text>"#,
            y - 10.0,
            x + 16.0
        ));
    }
    svg.push_str("</svg>");
    // Everything above is numbers, dates and event type names from the registry's own leaves.
    PreEscaped(svg)
}

/// The quorum in words: "all 2 witnesses", "2 of 3 witnesses".
fn quorum_words(policy: &dmf_log::Policy) -> String {
    let n = policy.witnesses.len();
    match policy
        .groups
        .iter()
        .find(|g| Some(&g.name) == policy.quorum.as_ref())
    {
        Some(g) if g.k == g.members.len() => format!("all {} of its witnesses", g.k),
        Some(g) => format!("{} of its {} witnesses", g.k, g.members.len()),
        None => format!("the policy's quorum of its {n} witnesses"),
    }
}

pub(crate) async fn oversight(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    let stats = crate::services::statistics::stats(&app, Period::Day).await?;
    let dir = app.dir.clone();
    let (signed, witnessing) = blocking(move || {
        let files = dmf_ledger::log::LogFiles::open(&dir).map_err(ApiError::internal)?;
        let signed = files.latest().map_err(ApiError::internal)?;
        Ok((signed, crate::services::witnesses::witnessing(&dir)?))
    })
    .await?;
    let crate::services::witnesses::Witnessing {
        policy,
        states,
        published,
    } = witnessing;
    let signed_size = signed.map_or(0, |s| s.checkpoint.size);
    // Counts only: the examples name people, and this page is for oversight of the whole file.
    let cfg = dmf_registry::oversight::quality::QualityConfig::new(app.today());
    let quality = crate::services::statistics::quality(&app, cfg).await?;
    let alerts = crate::services::statistics::alerts(&app).await?;
    let corrections = app
        .workflow
        .corrections(false, 1000)
        .map_err(ApiError::internal)?;
    let mut minutes: Vec<f64> = corrections
        .iter()
        .filter_map(|c| {
            c.approval
                .as_ref()
                .map(|a| (a.at - c.requested_at) as f64 / 60_000.0)
        })
        .collect();
    minutes.sort_by(f64::total_cmp);
    let waiting = corrections.iter().filter(|c| c.status.is_open()).count();
    let median = minutes.get(minutes.len() / 2).copied();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &stats.rows {
        *totals.entry(r.event_type.as_str()).or_default() += r.count;
    }
    Ok(Page::new(
        &staff,
        "Oversight",
        html! {
            h2 { "Events logged per day" }
            p { "Counted from the public log's leaves at tree size " (stats.tree_size) " (root " code { (stats.root) } "); anyone holding the export can recount them." }
            figure { (chart(&stats)) }
            table {
                thead { tr { th { "Event type" } th { "Events" } } }
                tbody { @for (t, n) in &totals { tr { td data-label="Event type" { (t) } td data-label="Events" { (n) } } } }
            }
            h2 { "Intake alerts" }
            p { (alerts.alerts.len()) " alert(s) over " (alerts.observations) " submitted reports and notices, at tree size " (alerts.tree_size) "." }
            @if !alerts.alerts.is_empty() {
                table #alerts {
                    thead { tr { th { "Day" } th { "Source or authority" } th { "Kind" } th { "What" } } }
                    tbody { @for a in &alerts.alerts { tr {
                        td data-label="Day" { (a.day) }
                        td data-label="Source or authority" { (a.group) }
                        td data-label="Kind" { (a.kind) }
                        td data-label="What" { (a.detail) }
                    } } }
                }
            }
            h2 { "Data quality" }
            p { "Over " (quality.people) " people on " (quality.today) " (the examples, which name people, are in " code { "GET /v1/quality" } ")." }
            table #quality {
                thead { tr { th { "Finding" } th { "Records" } } }
                tbody { @for f in &quality.findings { tr { td data-label="Finding" { (f.description) } td data-label="Records" { (f.count) } } } }
            }
            h2 { "Corrections" }
            p {
                (minutes.len()) " approved, " (waiting) " open"
                @if let Some(m) = median { "; median time from request to approval " (format!("{m:.1}")) " minutes" }
                " (latest 1,000)."
            }
            h2 { "Witnesses" }
            @if policy.witnesses.is_empty() {
                p { "No witnesses: each checkpoint is published as the registry signs it (" code { "dmf witness add" } " adds one)." }
            } @else {
                p {
                    "A checkpoint is published once " (quorum_words(&policy)) " cosigned it. Signed up to "
                    (signed_size) " events; published up to "
                    (published.as_ref().map_or(0, |p| p.checkpoint.size)) "."
                }
                table #witnesses {
                    thead { tr { th { "Witness" } th { "Address" } th { "Cosigned up to" } th { "Last answer" } } }
                    tbody { @for w in &policy.witnesses {
                        @let s = states.get(&w.name).cloned().unwrap_or_default();
                        tr {
                            td data-label="Witness" { code { (w.name) } }
                            td data-label="Address" { (w.url.as_deref().unwrap_or("none")) }
                            td data-label="Cosigned up to" { (s.size) }
                            td data-label="Last answer" {
                                @if let Some(e) = &s.error { strong { "Failed: " } (e) }
                                @else if let Some(at) = s.cosigned_at { "Cosigned at " (dmf_ledger::leaf::format_time(at)) }
                                @else { "Not asked yet" }
                            }
                        }
                    } }
                }
            }
            h2 { "Latest checkpoint" }
            @if let Some(p) = &published { pre #checkpoint { (p.note) } } @else { p { "None published yet." } }
            p { "The registry's public key: " code { (app.signer.verifier().to_text()) } }
        },
    ))
}
