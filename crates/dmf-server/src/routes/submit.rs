//! Submissions over HTTP: death reports from reporters and status notices from authorities,
//! one JSON object (answered with its result, 422 when refused) or NDJSON (one result a line,
//! streamed as batches are stored).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dmf_registry::render::{SubmissionResult, SubmissionStatus};
use dmf_registry::{Rejection, Submission};

use super::extract::read_body;
use super::ndjson::{self, Lines};
use crate::App;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::submit::store_parsed;
use crate::views::ErrorView;

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/x-ndjson") || v.starts_with("application/jsonl")
        })
}

/// Lines of an NDJSON submission checked and stored together, and the bytes they may take: a
/// request's memory stays bounded however large its body.
const SUBMIT_BATCH_LINES: usize = 5_000;
const SUBMIT_BATCH_BYTES: usize = 4 << 20;

/// Submissions in one request: a single object (answered as one JSON result, 422 when
/// refused) or NDJSON (one result a line, in order, streamed: the body is read, checked,
/// stored and answered a bounded batch at a time).
async fn submit(
    app: Arc<App>,
    caller: &Caller,
    headers: HeaderMap,
    body: Body,
    kind: &'static str,
    fixed: (&'static str, String),
) -> Result<Response, ApiError> {
    let today = app.today();
    // Idempotency keys are the caller's own: another key's retry is never this one's.
    let scope = format!("key {}", caller.key.id);
    let parse = move |line: &[u8]| {
        dmf_registry::submission::parse_for_route(line, kind, (fixed.0, &fixed.1), today)
            .map(|sub| sub.scoped(&scope))
    };
    if is_ndjson(&headers) {
        // A body that says it is too large is refused whole, before any of it is stored.
        let limit = app.config.submit_limit;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::at(
                Code::PayloadTooLarge,
                "$",
                format!("the body is larger than {limit} bytes"),
            ));
        }
        return Ok(submit_stream(app, caller.key.id, body, parse));
    }
    let bytes = read_body(body, app.config.body_limit).await?;
    // A single body's result carries no line.
    let r = store_parsed(&app, vec![(0, parse(&bytes))])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("no result for a submission"))?;
    Ok(single(r))
}

/// One submission's answer: 201 with its result, or 422 naming the field, with the result.
fn single(r: SubmissionResult) -> Response {
    let SubmissionStatus::Rejected { path, reason } = &r.status else {
        return (StatusCode::CREATED, Json(r)).into_response();
    };
    let refused = ErrorView {
        result: Some(r.clone()),
        ..ApiError::at(Code::Unprocessable, path.clone(), reason.clone()).view()
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response()
}

/// An NDJSON submission, streamed both ways: lines are read a batch at a time, each batch is
/// checked and stored (durable) before its results go out, and the next batch is read only
/// then. Memory is bounded by the batch, not the body. A body over the limit, a line over the
/// longest allowed or a failure to store ends the answer with an error line; what was answered
/// before stays stored.
fn submit_stream(
    app: Arc<App>,
    key_id: i64,
    body: Body,
    parse: impl Fn(&[u8]) -> Result<Submission, Rejection> + Send + 'static,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let mut lines = Lines::new(body, app.config.submit_limit);
    tokio::spawn(async move {
        loop {
            let batch = match lines
                .next_batch(SUBMIT_BATCH_LINES, SUBMIT_BATCH_BYTES, true)
                .await
            {
                Ok(b) if b.is_empty() => return,
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.send(Ok(ndjson::error_line(&e))).await;
                    return;
                }
            };
            // Charged per record: a bulk submission goes at its key's rate.
            app.limiter.pace(key_id, batch.len() as u64).await;
            let parsed = batch.into_iter().map(|(n, l)| (n, parse(&l))).collect();
            let out = match store_parsed(&app, parsed).await {
                Ok(results) => ndjson::to_lines(&results),
                Err(e) => ndjson::error_line(&e),
            };
            if tx.send(Ok(out)).await.is_err() {
                return;
            }
        }
    });
    ndjson::response(rx)
}

/// `POST /v1/reports/death`: the source kind is the key's.
pub(crate) async fn report_death(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let source = caller
        .key
        .source
        .clone()
        .ok_or_else(|| ApiError::internal("a reporter key without a source"))?;
    submit(
        app,
        &caller,
        headers,
        body,
        "death_report",
        ("source", source),
    )
    .await
}

/// `POST /v1/notices/status`: the issuing authority is the key's.
pub(crate) async fn notice_status(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let authority = caller
        .key
        .authority
        .clone()
        .ok_or_else(|| ApiError::internal("an authority key without an authority"))?;
    submit(
        app,
        &caller,
        headers,
        body,
        "status_notice",
        ("authority", authority),
    )
    .await
}
