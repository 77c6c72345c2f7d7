//! Submissions: checked and stored by the one writer, in order, the index brought up to date
//! and the feed woken; each result as its sender may see it.

use std::sync::Arc;

use dmf_registry::render::{self, SubmissionResult, SubmissionStatus};
use dmf_registry::{Rejection, Submission};

use crate::error::{ApiError, Code};
use crate::metrics::Metrics;
use crate::services::blocking;
use crate::{App, now_ms};

/// A submission's result as its sender may see it: what its own report or notice did, never
/// what the record held before. What differs shows what is on file, and "corroborated" or a
/// date of death "conflicting with the recorded" one would tell a funeral home of a death (and
/// its date) only a state reported: those are "received", for caseworkers to see.
pub fn for_sender(mut r: SubmissionResult) -> SubmissionResult {
    if let SubmissionStatus::Accepted(a) = &mut r.status {
        a.differences = None;
        if matches!(a.outcome.as_str(), "corroborated" | "held_for_review") {
            a.outcome = "received".to_owned();
            a.reason = None;
        }
    }
    r
}

fn count(app: &App, accepted: bool) {
    let m = &app.metrics;
    Metrics::add(
        if accepted {
            &m.submissions_accepted
        } else {
            &m.submissions_rejected
        },
        1,
    );
}

/// Checks and stores parsed submissions (each with its line) as the one writer, in order, and
/// gives each result as its sender may see it.
pub async fn store_parsed(
    app: &Arc<App>,
    parsed: Vec<(u64, Result<Submission, Rejection>)>,
) -> Result<Vec<SubmissionResult>, ApiError> {
    let guard = app.write_lock.lock().await;
    let app2 = app.clone();
    let results = blocking(move || {
        let ok: Vec<Submission> = parsed
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().cloned())
            .collect();
        let mut results = app2
            .registry
            .submit(ok, now_ms())
            .map_err(ApiError::internal)?
            .into_iter();
        let mut out = Vec::with_capacity(parsed.len());
        for (line, p) in parsed {
            let r = match p {
                Ok(_) => results.next().ok_or_else(|| {
                    ApiError::internal("the registry gave fewer results than submissions")
                })?,
                Err(r) => Err(r),
            };
            count(&app2, r.is_ok());
            out.push(for_sender(render::result_view(line, &r)));
        }
        app2.refresh_index().map_err(ApiError::internal)?;
        Ok(out)
    })
    .await?;
    drop(guard);
    app.notify_head();
    Ok(results)
}

/// Stores one submission as the one writer, brings the index up to date and wakes the feed;
/// a refusal by the rules is a 422 naming the field.
pub async fn submit_one(
    app: &Arc<App>,
    submission: Submission,
) -> Result<dmf_registry::Accepted, ApiError> {
    let guard = app.write_lock.lock().await;
    let app2 = app.clone();
    let result = blocking(move || {
        let r = app2
            .registry
            .submit(vec![submission], now_ms())
            .map_err(ApiError::internal)?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal("the registry gave no result"))?;
        app2.refresh_index().map_err(ApiError::internal)?;
        Ok(r)
    })
    .await?;
    drop(guard);
    app.notify_head();
    // Counted as every other submission is: corrections, reviews and identity changes too.
    count(app, result.is_ok());
    result.map_err(|r| ApiError::at(Code::Unprocessable, r.path, r.reason))
}

/// An accepted submission's result as answered for one JSON body (no line).
pub fn accepted(accepted: &dmf_registry::Accepted) -> SubmissionResult {
    render::result_view(0, &Ok(accepted.clone()))
}
