//! Verification: one answer a request for a key of the purpose's role (with its receipt when
//! asked for), or NDJSON in and out, streamed, for any verification key.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::render::Purpose;
use serde_json::{Map, Value};

use serde::Deserialize;

use super::extract::{Params, object, read_body};
use super::ndjson::{self, Lines};
use crate::App;
use crate::accounting::Ticket;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::metrics::Metrics;
use crate::services::answers::{answer_all, answer_grounded, purpose_of, take_quota};
use crate::services::receipts::{self, Answered};
use crate::views::{BatchLine, ErrorView, Receipted};

/// A verification request: `ssn`, `first`, `last`, `dob`, nothing else.
fn identity_query(m: &Map<String, Value>) -> Result<IdentityQuery, ApiError> {
    dmf_registry::submission::parse_query(m).map_err(crate::services::rejected)
}

/// The query parameters of a single verification.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyParams {
    /// The answer carries a receipt: a signed statement of it and a proof of each event it
    /// stands on.
    #[serde(default)]
    receipt: bool,
}

async fn verify(
    app: Arc<App>,
    caller: Caller,
    purpose: Purpose,
    params: VerifyParams,
    body: Body,
) -> Result<Json<Receipted>, ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let sent = object(&bytes)?;
    let query = identity_query(&sent)?;
    take_quota(&app, &caller.key, 1)?;
    Metrics::add(&app.metrics.verifications, 1);
    if !params.receipt {
        let (answers, ticket) = answer_all(&app, &caller.key, purpose, &[&query]);
        app.disclosed(ticket).await?;
        return answers
            .into_iter()
            .next()
            .map(|answer| {
                Json(Receipted {
                    answer,
                    receipt: None,
                })
            })
            .ok_or_else(|| ApiError::internal("no answer to a query"));
    }
    let (answer, grounds, state, disclosure) = answer_grounded(&app, &caller.key, purpose, &query);
    let sent = serde_json::value::to_raw_value(&sent).map_err(ApiError::internal)?;
    let receipt = receipts::receipt(
        &app,
        Answered {
            purpose,
            query: &query,
            sent,
            answer: &answer,
            grounds,
            state,
        },
    )
    .await?;
    // Recorded once the answer can be given: a receipt that cannot be made yet discloses
    // nothing.
    if let Some(d) = disclosure {
        app.disclosed(app.accounting.record(d)).await?;
    }
    Ok(Json(Receipted {
        answer,
        receipt: Some(receipt),
    }))
}

/// `POST /v1/verify/identity[?receipt=true]`.
pub(crate) async fn identity(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(params): Params<VerifyParams>,
    body: Body,
) -> Result<Json<Receipted>, ApiError> {
    verify(app, caller, Purpose::Identity, params, body).await
}

/// `POST /v1/verify/employment[?receipt=true]`.
pub(crate) async fn employment(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(params): Params<VerifyParams>,
    body: Body,
) -> Result<Json<Receipted>, ApiError> {
    verify(app, caller, Purpose::Employment, params, body).await
}

/// `POST /v1/verify/benefits[?receipt=true]`.
pub(crate) async fn benefits(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(params): Params<VerifyParams>,
    body: Body,
) -> Result<Json<Receipted>, ApiError> {
    verify(app, caller, Purpose::Benefits, params, body).await
}

/// Lines answered per read of the index and per chunk of the response.
const BATCH_CHUNK: usize = 4096;

/// Lines of a batch read before any answer when its key has a daily allowance, and the bytes
/// they may take: a batch that ends within them and is over what is left is refused whole.
const QUOTA_READ_AHEAD: usize = 100_000;
const QUOTA_READ_AHEAD_BYTES: usize = 32 << 20;

/// Answers one chunk of NDJSON lines: each line an answer or `{"line", "error"}`; the chunk
/// goes out once the ticket is durable.
fn answer_lines(
    app: &App,
    caller: &Caller,
    purpose: Purpose,
    lines: &[ndjson::Line],
) -> (Bytes, Ticket) {
    let parsed: Vec<Result<IdentityQuery, ApiError>> = lines
        .iter()
        .map(|(_, l)| object(l).and_then(|m| identity_query(&m)))
        .collect();
    let ok: Vec<&IdentityQuery> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let (answers, ticket) = answer_all(app, &caller.key, purpose, &ok);
    let mut answers = answers.into_iter();
    let mut out = Vec::with_capacity(lines.len());
    for (p, (line, _)) in parsed.iter().zip(lines) {
        let line = *line;
        out.push(match p {
            Ok(_) => match answers.next() {
                Some(answer) => BatchLine::Answer { line, answer },
                None => BatchLine::Error(ErrorView {
                    line: Some(line),
                    ..ApiError::internal("no answer to a query").view()
                }),
            },
            Err(e) => BatchLine::Error(ErrorView {
                line: Some(line),
                ..e.view()
            }),
        });
    }
    Metrics::add(&app.metrics.batch_records, lines.len() as u64);
    (ndjson::to_lines(&out), ticket)
}

/// `POST /v1/verify/batch`: NDJSON in, NDJSON out, streamed: memory stays flat however many
/// lines come.
pub(crate) async fn batch(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(params): Params<VerifyParams>,
    body: Body,
) -> Result<Response, ApiError> {
    // A receipt waits for a signed checkpoint and proves events one answer at a time: a batch
    // of millions is not the place for it.
    if params.receipt {
        return Err(ApiError::at(
            Code::BadRequest,
            "receipt",
            "receipts come with single answers: ask POST /v1/verify/identity, /employment or \
             /benefits with ?receipt=true for each answer that needs one",
        ));
    }
    // The table admits verification keys only, each of one purpose.
    let purpose = purpose_of(caller.key.role)
        .ok_or_else(|| ApiError::internal("a verification key without a purpose"))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    // Answered chunks wait here for their disclosures to be durable, in order, while the next
    // chunks are answered: the commit of one overlaps the work on the next.
    let (answered, mut to_send) = tokio::sync::mpsc::channel::<(Bytes, Ticket)>(8);
    let sender = app.clone();
    tokio::spawn(async move {
        while let Some((out, ticket)) = to_send.recv().await {
            // A chunk leaves only once its disclosures are durable; if they cannot be, the
            // answer ends here with the error.
            if let Err(e) = sender.disclosed(ticket).await {
                let _ = tx.send(Ok(ndjson::error_line(&e))).await;
                return;
            }
            if tx.send(Ok(out)).await.is_err() {
                return;
            }
        }
    });
    let mut lines = Lines::new(body, app.config.bulk_limit);
    // With a daily allowance, a batch is read ahead before any answer: one that ends within
    // the read-ahead and is over what is left is refused whole, with nothing answered.
    let mut ahead = Vec::new();
    if let Some(quota) = caller.key.daily_quota {
        let left = app.quotas.left(caller.key.id, quota, crate::now_ms());
        let want = usize::try_from(left).map_or(QUOTA_READ_AHEAD, |l| {
            l.saturating_add(1).min(QUOTA_READ_AHEAD)
        });
        // At most one line past what is left is read: enough to know the batch is over it.
        ahead = lines.next_batch(want, QUOTA_READ_AHEAD_BYTES, true).await?;
        take_quota(&app, &caller.key, ahead.len() as u64)?;
    }
    tokio::spawn(async move {
        let mut ahead = ahead.into_iter().peekable();
        loop {
            let batch = if ahead.peek().is_some() {
                Ok(ahead.by_ref().take(BATCH_CHUNK).collect())
            } else {
                // Read after the read-ahead, each chunk is charged to the allowance as it comes.
                lines
                    .next_batch(BATCH_CHUNK, usize::MAX, false)
                    .await
                    .and_then(|batch| match batch.first() {
                        None => Ok(batch),
                        Some(&(first, _)) => take_quota(&app, &caller.key, batch.len() as u64)
                            .map(|()| batch)
                            .map_err(|mut e| {
                                e.path = Some(format!("line {first}"));
                                e
                            }),
                    })
            };
            let batch = match batch {
                Ok(batch) if batch.is_empty() => return,
                Ok(batch) => batch,
                // The body broke off, went over a limit or over the allowance: what was
                // answered still goes out once durable, then the error.
                Err(e) => {
                    let _ = answered
                        .send((ndjson::error_line(&e), Ticket::default()))
                        .await;
                    return;
                }
            };
            // Charged per record: a batch goes at its key's rate.
            app.limiter.pace(caller.key.id, batch.len() as u64).await;
            let (out, ticket) = answer_lines(&app, &caller, purpose, &batch);
            if answered.send((out, ticket)).await.is_err() {
                return;
            }
        }
    });
    Ok(ndjson::response(rx))
}
