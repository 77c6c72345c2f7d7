//! Oversight over HTTP: the public statistics and intake alerts, the quality report and the
//! comparison of a published file, and the check of a correction letter.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use dmf_ledger::stats::Period;
use dmf_registry::oversight::anomaly::AlertsView;
use dmf_registry::oversight::quality::QualityView;
use serde::Deserialize;

use super::extract::{Params, PathOf, read_body};
use crate::accounting::{Disclosure, Ticket};
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::{self, blocking, letters};
use crate::views::{LetterCheck, StatsView};
use crate::{App, now_ms};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsParams {
    period: Option<String>,
}

/// `GET /v1/stats?period=day|month`.
pub(crate) async fn stats(
    State(app): State<Arc<App>>,
    Params(q): Params<StatsParams>,
) -> Result<Json<StatsView>, ApiError> {
    let period = match q.period.as_deref().unwrap_or("day") {
        "day" => Period::Day,
        "month" => Period::Month,
        other => {
            return Err(ApiError::at(
                Code::BadRequest,
                "period",
                format!("{other:?} is not day or month"),
            ));
        }
    };
    let stats = services::statistics::stats(&app, period).await?;
    Ok(Json(StatsView::from(&*stats)))
}

/// `GET /v1/alerts`: intake anomaly alerts, public like the statistics (no person is named),
/// with the tree size they were computed at.
pub(crate) async fn alerts(State(app): State<Arc<App>>) -> Result<Json<AlertsView>, ApiError> {
    let alerts = services::statistics::alerts(&app).await?;
    Ok(Json(AlertsView::clone(&alerts)))
}

/// `GET /v1/letters/{code}`: checks a correction letter, by its printed short code or its
/// signed long code. Anyone holding the letter may ask, within the allowance all checkers
/// share; the answer says no more than the letter does, and is accounted to the person.
pub(crate) async fn letter(
    State(app): State<Arc<App>>,
    PathOf(code): PathOf<String>,
) -> Result<Json<LetterCheck>, ApiError> {
    if let Err(wait) = letters::take_check(&app) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut e = ApiError::new(
            Code::RateLimited,
            format!("too many letters are being checked just now; retry in {secs} s"),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    let checked = letters::check_letter(&app, &code).await?.issued()?;
    letters::disclosed(&app, &checked, "letter check").await?;
    Ok(Json(LetterCheck {
        valid: true,
        correction_seq: checked.seq,
        corrected_at: dmf_ledger::leaf::format_time(checked.corrected_at_ms),
        ssn_last4: checked.ssn_last4(),
        first: checked.first,
        last: checked.last,
        in_effect: checked.in_effect,
        statement: if checked.in_effect {
            "The death recorded for this person was wrong and was corrected; the registry does not list this person as deceased."
        } else {
            "This letter was issued by the registry, but a death has been recorded for this person since: the correction is no longer in effect."
        },
        signed_by: app.signer.verifier().to_text(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QualityParams {
    max_age: Option<i32>,
    pending_days: Option<i32>,
    samples: Option<usize>,
}

/// `GET /v1/quality`: the quality report over the current state, for oversight. The examples
/// name people, so each is accounted to its person.
pub(crate) async fn quality(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(q): Params<QualityParams>,
) -> Result<Json<QualityView>, ApiError> {
    let mut cfg = dmf_registry::oversight::quality::QualityConfig::new(app.today());
    if let Some(age) = q.max_age {
        if !(50..=150).contains(&age) {
            return Err(ApiError::at(
                Code::BadRequest,
                "max_age",
                "give an age from 50 to 150",
            ));
        }
        cfg.max_age = age;
    }
    if let Some(days) = q.pending_days {
        if !(1..=3650).contains(&days) {
            return Err(ApiError::at(
                Code::BadRequest,
                "pending_days",
                "give 1 to 3650 days",
            ));
        }
        cfg.pending_days = days;
    }
    if let Some(n) = q.samples {
        cfg.samples = n.min(1_000);
    }
    let report = services::statistics::quality(&app, cfg).await?;
    let ticket = account_findings(&app, &caller, &report.findings);
    app.disclosed(ticket).await?;
    Ok(Json(report.view()))
}

/// Every example a finding names goes into its person's accounting.
fn account_findings(
    app: &App,
    caller: &Caller,
    findings: &[dmf_registry::oversight::quality::Finding],
) -> Ticket {
    let at_ms = now_ms();
    app.accounting.record_many(
        findings
            .iter()
            .flat_map(|f| f.samples.iter().map(move |(ssn, _)| (ssn, f.code)))
            .map(|(ssn, code)| Disclosure {
                ssn: ssn.as_u32(),
                at_ms,
                key_id: caller.key.id,
                key_name: caller.key.name.clone(),
                purpose: "quality".into(),
                fields: vec!["ssn".into(), code.into()],
            })
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishedParams {
    audience: Option<String>,
    samples: Option<usize>,
}

/// `POST /v1/quality/published`: a published DMF full file (the body) against what the
/// registry publishes today for the audience it was made for, for oversight.
pub(crate) async fn published(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(q): Params<PublishedParams>,
    body: Body,
) -> Result<Json<QualityView>, ApiError> {
    use dmf_registry::distribution::Audience;
    let audience = match q.audience.as_deref().unwrap_or("certified") {
        "certified" => Audience {
            certified: true,
            state_deaths: false,
        },
        "uncertified" => Audience {
            certified: false,
            state_deaths: false,
        },
        "benefits" => Audience {
            certified: true,
            state_deaths: true,
        },
        other => {
            return Err(ApiError::at(
                Code::BadRequest,
                "audience",
                format!("{other:?} is not certified, uncertified or benefits"),
            ));
        }
    };
    let samples = q.samples.unwrap_or(10).min(1_000);
    let bytes = read_body(body, app.config.submit_limit).await?;
    let app2 = app.clone();
    let today = app.today();
    let (head, findings) = blocking(move || {
        let published =
            dmf_registry::oversight::quality::read_published(&bytes[..]).map_err(|e| match e {
                dmf_registry::oversight::quality::PublishedError::Line(l) => ApiError::at(
                    Code::Unprocessable,
                    format!("line {}", l.line),
                    l.to_string(),
                ),
                other => ApiError::internal(other),
            })?;
        let (head, ours) = dmf_registry::distribution::full_file(&app2.registry, audience, today)
            .map_err(ApiError::internal)?;
        let found = dmf_registry::oversight::quality::compare_published(&ours, &published, samples);
        Ok((head, found))
    })
    .await?;
    let ticket = account_findings(&app, &caller, &findings);
    app.disclosed(ticket).await?;
    let report = dmf_registry::oversight::quality::QualityReport {
        today,
        head,
        people: 0,
        findings,
    };
    // A comparison counts records of the file, not people on file.
    Ok(Json(QualityView {
        people: None,
        ..report.view()
    }))
}
