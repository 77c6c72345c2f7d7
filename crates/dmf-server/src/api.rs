//! The routes: verification, submissions, accounting, the public log and operations.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dmf_model::Ssn;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::render::{self, Purpose};
use dmf_registry::{Rejection, Submission};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::accounting::{Disclosure, Ticket};
use crate::auth::Caller;
use crate::error::{ApiError, Code, PathParams, path_params};
use crate::feed_api;
use crate::keys::Role;
use crate::metrics::Metrics;
use crate::ndjson::Lines;
use crate::{App, now_ms};

type Json = axum::Json<Value>;

pub fn router(app: Arc<App>) -> Router {
    let body_timeout = app.config.conn.body_timeout;
    Router::new()
        .route("/v1/verify/identity", verify_route(Purpose::Identity))
        .route("/v1/verify/employment", verify_route(Purpose::Employment))
        .route("/v1/verify/benefits", verify_route(Purpose::Benefits))
        .route("/v1/verify/batch", post(verify_batch))
        .route("/v1/reports/death", post(report_death))
        .route("/v1/notices/status", post(notice_status))
        .route("/v1/people/{ssn}/accounting", get(person_accounting))
        .route("/v1/feed", get(feed_api::feed))
        .route("/v1/feed/ack", post(feed_api::ack))
        .route("/v1/files/full", get(feed_api::full))
        .route("/v1/files/updates", get(feed_api::updates))
        .route("/v1/corrections", post(feed_api::request))
        .route("/v1/corrections/{id}/approve", post(feed_api::approve))
        .route(
            "/v1/corrections/{id}/propagation",
            get(feed_api::propagation),
        )
        .route("/v1/log/checkpoint", get(log_checkpoint))
        .route("/v1/log/proof/inclusion", get(log_inclusion))
        .route("/v1/log/proof/consistency", get(log_consistency))
        .route("/v1/stats", get(stats))
        .route("/v1/quality", get(quality))
        .route("/v1/quality/published", post(quality_published))
        .route("/v1/alerts", get(alerts))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/letters/{code}", get(letter))
        .merge(crate::console::routes())
        .merge(crate::programs_api::routes())
        .merge(crate::identity_api::routes())
        // On matched routes only: it reads the route's path to know what it takes.
        .route_layer(middleware::from_fn_with_state(app.clone(), content_type))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(move |req, next| {
            crate::conn::body_timeout(body_timeout, req, next)
        }))
        .layer(middleware::from_fn(header_limits))
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .with_state(app)
}

/// The most headers a request may carry, and their most bytes (names and values).
pub(crate) const MAX_HEADERS: usize = 100;
const MAX_HEADER_BYTES: usize = 32 << 10;

/// Headers past the limits are refused with a JSON 431 naming the limit.
async fn header_limits(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            Code::HeadersTooLarge,
            format!(
                "{} headers of {bytes} bytes: at most {MAX_HEADERS} headers of \
                 {MAX_HEADER_BYTES} bytes in all are taken",
                headers.len()
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Counts every response by status class, and logs server errors.
async fn count(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // Any method may carry a body (a PUT to a route that takes none is answered 405 unread).
    let has_body = req.method() == axum::http::Method::POST
        || req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut resp = next.run(req).await;
    // A request refused before its body was read leaves that body on the connection; say the
    // connection ends here, so that no client sends its next request into a closing socket.
    if has_body && (resp.status().is_client_error() || resp.status().is_server_error()) {
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    let m = &app.metrics;
    Metrics::add(&m.requests, 1);
    if resp.status().is_client_error() {
        Metrics::add(&m.errors_4xx, 1);
    } else if resp.status().is_server_error() {
        Metrics::add(&m.errors_5xx, 1);
        tracing::warn!(%path, status = %resp.status(), "server error");
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route (see /openapi.json)")
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!(
            "{} is not served on {} (see /openapi.json)",
            req.method(),
            req.uri().path()
        ),
    )
}

/// A body in a content type the route does not take is refused before its handler: `text/plain`
/// is not JSON. A request that names no content type is read as the route's first. Checked
/// only for a caller whose key the route admits: anyone else gets the handler's 401 or 403,
/// and learns nothing more.
async fn content_type(
    State(app): State<Arc<App>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    // (`MatchedPath` is set once the router has matched: this runs as a route layer.)
    let takes = matched.and_then(|m| crate::openapi::takes(req.method().as_str(), m.as_str()));
    let (Some((roles, takes)), Some(given)) = (takes, req.headers().get(header::CONTENT_TYPE))
    else {
        return next.run(req).await;
    };
    let given = given
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // JSON Lines is NDJSON under another name.
    let known =
        |t: &str| t == given || (t == "application/x-ndjson" && given == "application/jsonl");
    if takes.iter().any(|t| known(t)) {
        return next.run(req).await;
    }
    // Only now is the key looked up (the handler looks it up again): a request in a type the
    // route takes costs nothing here.
    let admitted = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|secret| app.keys.authenticate(secret.trim()))
        .is_some_and(|key| roles.contains(&key.role.code()));
    if !admitted {
        return next.run(req).await;
    }
    ApiError::at(
        Code::UnsupportedMediaType,
        "Content-Type",
        format!("{given:?} is not taken here: send {}", takes.join(" or ")),
    )
    .into_response()
}

/// Bytes of an oversized body read and dropped before answering 413, so that the client is
/// not cut off mid-send (a connection closed with unread data resets, losing the answer).
const DRAIN: usize = 1 << 20;

/// Why a body could not be read: it stalled (408) or broke off (400).
pub(crate) fn body_error(e: &axum::Error) -> ApiError {
    match crate::conn::timed_out(e) {
        Some(t) => ApiError::at(Code::RequestTimeout, "$", t.to_string()),
        None => ApiError::new(Code::BadRequest, format!("cannot read the body: {e}")),
    }
}

/// The whole body, refused with 413 beyond `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| body_error(&e))?;
        total += chunk.len();
        if total <= limit {
            buf.extend_from_slice(&chunk);
        } else if total > limit + DRAIN {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::at(
            Code::PayloadTooLarge,
            "$",
            format!("the body is larger than {limit} bytes"),
        ));
    }
    Ok(Bytes::from(buf))
}

/// One JSON object, or a 400 naming what is wrong.
pub(crate) fn object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::at(
            Code::BadRequest,
            "$",
            "expected a JSON object",
        )),
        Err(e) => Err(ApiError::at(
            Code::BadRequest,
            "$",
            format!("not valid JSON: {e}"),
        )),
    }
}

/// A verification request: `ssn`, `first`, `last`, `dob`, nothing else.
fn identity_query(m: &Map<String, Value>) -> Result<IdentityQuery, ApiError> {
    dmf_registry::submission::parse_query(m)
        .map_err(|r| ApiError::at(Code::BadRequest, r.path, r.reason))
}

fn role_of(purpose: Purpose) -> Role {
    match purpose {
        Purpose::Identity => Role::Identity,
        Purpose::Employment => Role::Employment,
        Purpose::Benefits => Role::Benefits,
    }
}

fn purpose_of(role: Role) -> Option<Purpose> {
    match role {
        Role::Identity => Some(Purpose::Identity),
        Role::Employment => Some(Purpose::Employment),
        Role::Benefits => Some(Purpose::Benefits),
        _ => None,
    }
}

/// Answers queries under one read of the index; the answers about people on file are
/// recorded for their accounting, and go out once the ticket is durable.
fn answer_all(
    app: &App,
    caller: &Caller,
    purpose: Purpose,
    queries: &[&IdentityQuery],
) -> (Vec<Value>, Ticket) {
    let today = app.today();
    let at_ms = now_ms();
    let mut disclosed = Vec::new();
    let answers = {
        let index = app.index.read().expect("index lock");
        queries
            .iter()
            .map(|q| {
                let state = index.get(q.ssn);
                if state.is_some() {
                    disclosed.push(Disclosure {
                        ssn: q.ssn.as_u32(),
                        at_ms,
                        key_id: caller.key.id,
                        key_name: caller.key.name.clone(),
                        purpose: purpose.code().to_owned(),
                        fields: purpose.fields().iter().map(|f| (*f).to_owned()).collect(),
                    });
                }
                render::answer_for(purpose, q, state, today, app.mirror)
            })
            .collect()
    };
    let ticket = if disclosed.is_empty() {
        Ticket::default()
    } else {
        app.accounting.record_many(disclosed)
    };
    (answers, ticket)
}

async fn verify(
    app: Arc<App>,
    caller: Caller,
    purpose: Purpose,
    body: Body,
) -> Result<Json, ApiError> {
    caller.require(&[role_of(purpose)])?;
    let bytes = read_body(body, app.config.body_limit).await?;
    let query = identity_query(&object(&bytes)?)?;
    take_quota(&app, &caller, 1)?;
    Metrics::add(&app.metrics.verifications, 1);
    let (mut answers, ticket) = answer_all(&app, &caller, purpose, &[&query]);
    app.disclosed(ticket).await?;
    Ok(axum::Json(answers.remove(0)))
}

/// `POST /v1/verify/{purpose}`: one answer, for a key of that purpose only.
fn verify_route(purpose: Purpose) -> axum::routing::MethodRouter<Arc<App>> {
    post(
        move |State(app): State<Arc<App>>, caller: Caller, body: Body| {
            verify(app, caller, purpose, body)
        },
    )
}

/// Lines answered per read of the index and per chunk of the response.
const BATCH_CHUNK: usize = 4096;

/// Lines of a batch read before any answer when its key has a daily allowance, and the bytes
/// they may take: a batch that ends within them and is over what is left is refused whole.
const QUOTA_READ_AHEAD: usize = 100_000;
const QUOTA_READ_AHEAD_BYTES: usize = 32 << 20;

/// Takes `n` records of the caller's daily allowance, or a 429 saying what is left.
fn take_quota(app: &App, caller: &Caller, n: u64) -> Result<(), ApiError> {
    let Some(quota) = caller.key.daily_quota else {
        return Ok(());
    };
    app.quotas
        .take(caller.key.id, quota, n, now_ms())
        .map_err(|e| {
            let secs = e.retry_after.as_secs() + 1;
            let mut err = ApiError::new(
                Code::RateLimited,
                format!(
                    "key {:?} is over its daily allowance: {e}; it is whole again at midnight \
                     UTC, in {secs} s",
                    caller.key.name
                ),
            );
            err.retry_after = Some(secs);
            err
        })
}

/// Answers one chunk of NDJSON lines: each line an answer or `{"line", "error"}`; the chunk
/// goes out once the ticket is durable.
fn answer_lines(
    app: &App,
    caller: &Caller,
    purpose: Purpose,
    lines: &[crate::ndjson::Line],
) -> (Bytes, Ticket) {
    let parsed: Vec<Result<IdentityQuery, ApiError>> = lines
        .iter()
        .map(|(_, l)| object(l).and_then(|m| identity_query(&m)))
        .collect();
    let ok: Vec<&IdentityQuery> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let (answers, ticket) = answer_all(app, caller, purpose, &ok);
    let mut answers = answers.into_iter();
    let mut out = Vec::with_capacity(lines.len() * 64);
    for (p, (line, _)) in parsed.iter().zip(lines) {
        let v = match p {
            Ok(_) => {
                let mut a = answers.next().expect("one answer a query");
                a["line"] = json!(line);
                a
            }
            Err(e) => {
                let mut b = e.body();
                b["line"] = json!(line);
                b
            }
        };
        serde_json::to_writer(&mut out, &v).expect("writes to memory");
        out.push(b'\n');
    }
    Metrics::add(&app.metrics.batch_records, lines.len() as u64);
    (Bytes::from(out), ticket)
}

/// NDJSON in, NDJSON out, streamed: memory stays flat however many lines come.
async fn verify_batch(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(purpose) = purpose_of(caller.key.role) else {
        return Err(caller
            .require(&[Role::Identity, Role::Employment, Role::Benefits])
            .unwrap_err());
    };
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
                let _ = tx.send(Ok(error_line(&e))).await;
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
        let left = app.quotas.left(caller.key.id, quota, now_ms());
        let want = usize::try_from(left).map_or(QUOTA_READ_AHEAD, |l| {
            l.saturating_add(1).min(QUOTA_READ_AHEAD)
        });
        // At most one line past what is left is read: enough to know the batch is over it.
        ahead = lines.next_batch(want, QUOTA_READ_AHEAD_BYTES, true).await?;
        take_quota(&app, &caller, ahead.len() as u64)?;
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
                        Some(&(first, _)) => take_quota(&app, &caller, batch.len() as u64)
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
                    let _ = answered.send((error_line(&e), Ticket::default())).await;
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
    Ok(ndjson_response(rx))
}

/// A submission's result as its sender may see it: what its own report or notice did, never
/// what the record held before. What differs shows what is on file, and "corroborated" or a
/// date of death "conflicting with the recorded" one would tell a funeral home of a death (and
/// its date) only a state reported: those are "received", for caseworkers to see.
fn for_sender(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("differences");
        if matches!(
            o.get("outcome").and_then(Value::as_str),
            Some("corroborated" | "held_for_review")
        ) {
            o.insert("outcome".into(), json!("received"));
            o.remove("reason");
        }
    }
    v
}

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

/// Checks and stores parsed submissions as the one writer, in order, and renders each result
/// as its sender may see it.
async fn store_parsed(
    app: &Arc<App>,
    parsed: Vec<(u64, Result<Submission, Rejection>)>,
) -> Result<Vec<Value>, ApiError> {
    let guard = app.write_lock.lock().await;
    let app2 = app.clone();
    let results = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, ApiError> {
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
                Ok(_) => results.next().expect("one result a submission"),
                Err(r) => Err(r),
            };
            let m = &app2.metrics;
            Metrics::add(
                if r.is_ok() {
                    &m.submissions_accepted
                } else {
                    &m.submissions_rejected
                },
                1,
            );
            out.push(for_sender(render::result(line, &r)));
        }
        app2.refresh_index().map_err(ApiError::internal)?;
        Ok(out)
    })
    .await
    .map_err(ApiError::internal)??;
    drop(guard);
    app.notify_head();
    Ok(results)
}

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
    let mut r = store_parsed(&app, vec![(1, parse(&bytes))])
        .await?
        .into_iter()
        .next()
        .expect("one result");
    r.as_object_mut().expect("an object").remove("line");
    if r["status"] == "rejected" {
        let mut e = ApiError::at(
            Code::Unprocessable,
            r["path"].as_str().unwrap_or("$").to_owned(),
            r["reason"].as_str().unwrap_or("refused").to_owned(),
        )
        .body();
        e["result"] = r;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(e)).into_response());
    }
    Ok((StatusCode::CREATED, axum::Json(r)).into_response())
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
                    let _ = tx.send(Ok(error_line(&e))).await;
                    return;
                }
            };
            // Charged per record: a bulk submission goes at its key's rate.
            app.limiter.pace(key_id, batch.len() as u64).await;
            let parsed = batch.into_iter().map(|(n, l)| (n, parse(&l))).collect();
            let out = match store_parsed(&app, parsed).await {
                Ok(results) => ndjson_lines(&results),
                Err(e) => error_line(&e),
            };
            if tx.send(Ok(out)).await.is_err() {
                return;
            }
        }
    });
    ndjson_response(rx)
}

/// An error as the last line of a streamed answer.
fn error_line(e: &ApiError) -> Bytes {
    Bytes::from(format!("{}\n", e.body()))
}

/// Values as NDJSON.
fn ndjson_lines(values: &[Value]) -> Bytes {
    let mut out = Vec::with_capacity(values.len() * 96);
    for v in values {
        serde_json::to_writer(&mut out, v).expect("writes to memory");
        out.push(b'\n');
    }
    Bytes::from(out)
}

/// A streamed NDJSON answer from what its producer sends.
fn ndjson_response(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

async fn report_death(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Reporter])?;
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

async fn notice_status(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Authority])?;
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

async fn person_accounting(
    State(app): State<Arc<App>>,
    caller: Caller,
    ssn: PathParams<String>,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let ssn: Ssn = path_params(ssn)?
        .parse()
        .map_err(|e| ApiError::at(Code::BadRequest, "ssn", format!("{e}")))?;
    let app2 = app.clone();
    let list = tokio::task::spawn_blocking(move || app2.accounting.for_person(ssn.as_u32()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let disclosures: Vec<Value> = list
        .iter()
        .map(|d| {
            json!({
                "at": dmf_ledger::leaf::format_time(d.at_ms),
                "to": d.key_name,
                "key_id": d.key_id,
                "purpose": d.purpose,
                "fields": d.fields,
            })
        })
        .collect();
    // Looking at someone's accounting is itself a disclosure of that record.
    let ticket = app.accounting.record(Disclosure {
        ssn: ssn.as_u32(),
        at_ms: now_ms(),
        key_id: caller.key.id,
        key_name: caller.key.name.clone(),
        purpose: "accounting".into(),
        fields: vec!["disclosures".into()],
    });
    app.disclosed(ticket).await?;
    Ok(axum::Json(
        json!({ "ssn": ssn.to_string(), "disclosures": disclosures }),
    ))
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// Stores one submission as the one writer, brings the index up to date and wakes the feed;
/// a refusal by the rules is a 422 naming the field.
pub(crate) async fn submit_one(
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
            .remove(0);
        app2.refresh_index().map_err(ApiError::internal)?;
        Ok(r)
    })
    .await?;
    drop(guard);
    app.notify_head();
    // Counted as every other submission is: corrections, reviews and identity changes too.
    let m = &app.metrics;
    Metrics::add(
        if result.is_ok() {
            &m.submissions_accepted
        } else {
            &m.submissions_rejected
        },
        1,
    );
    result.map_err(|r| ApiError::at(Code::Unprocessable, r.path, r.reason))
}

pub(crate) fn registry_error(e: impl Into<dmf_registry::RegistryError>) -> ApiError {
    match e.into() {
        dmf_registry::RegistryError::Input { reason, .. } => ApiError::new(Code::NotFound, reason),
        other => ApiError::internal(other),
    }
}

async fn log_checkpoint(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let app2 = app.clone();
    let note = blocking(move || {
        // Nodes of a shared store all serve the checkpoint whichever node signed it.
        if app2.registry.shared()
            && let Some((_, note)) = app2
                .registry
                .store()
                .latest_checkpoint()
                .map_err(ApiError::internal)?
        {
            return Ok(note);
        }
        let files = dmf_ledger::log::LogFiles::open(&app2.dir).map_err(ApiError::internal)?;
        let signed = dmf_ledger::publish::latest(&files).map_err(registry_error)?;
        Ok(signed.note)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionParams {
    seq: u64,
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyParams {
    from: u64,
    to: u64,
}

pub(crate) fn query_error(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::at(Code::BadRequest, "query", e.body_text())
}

async fn log_inclusion(
    State(app): State<Arc<App>>,
    q: Result<Query<InclusionParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    // Pairs no log can ever hold are the request's fault whatever the log holds: 400, not the
    // 404 of a size or event the log does not hold yet.
    if q.seq == 0 {
        return Err(ApiError::at(
            Code::BadRequest,
            "seq",
            "events are numbered from 1",
        ));
    }
    if let Some(size) = q.size.filter(|&size| q.seq > size) {
        return Err(ApiError::at(
            Code::BadRequest,
            "seq",
            format!("event {} cannot be in a tree of {size} events", q.seq),
        ));
    }
    let registry = app.registry.clone();
    let proof = blocking(move || {
        // A node of a shared store brings its tree files up to the store first.
        registry.sign_pending(true).map_err(ApiError::internal)?;
        dmf_ledger::publish::prove(registry.ledger(), q.seq, q.size).map_err(registry_error)
    })
    .await?;
    Ok(axum::Json(
        serde_json::to_value(proof).expect("serialisable"),
    ))
}

async fn log_consistency(
    State(app): State<Arc<App>>,
    q: Result<Query<ConsistencyParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    if q.from > q.to {
        return Err(ApiError::at(
            Code::BadRequest,
            "from",
            format!(
                "the older tree size {} is larger than the newer {}",
                q.from, q.to
            ),
        ));
    }
    if q.from == 0 && q.to > 0 {
        return Err(ApiError::at(
            Code::BadRequest,
            "from",
            "no consistency proof starts from the empty tree: give a size of at least 1",
        ));
    }
    let dir = app.dir.clone();
    let registry = app.registry.clone();
    let proof = blocking(move || {
        registry.sign_pending(true).map_err(ApiError::internal)?;
        dmf_ledger::publish::consistency(&dir, q.from, q.to).map_err(registry_error)
    })
    .await?;
    Ok(axum::Json(
        serde_json::to_value(proof).expect("serialisable"),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    period: Option<String>,
}

async fn stats(
    State(app): State<Arc<App>>,
    q: Result<Query<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json, ApiError> {
    use dmf_ledger::stats::Period;
    let Query(q) = q.map_err(query_error)?;
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
    Ok(axum::Json(stats_value(&app, period).await?))
}

/// The public statistics at the latest checkpoint, computed once per tree size and period.
pub(crate) async fn stats_value(
    app: &Arc<App>,
    period: dmf_ledger::stats::Period,
) -> Result<Value, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let files = dmf_ledger::log::LogFiles::open(&app2.dir).map_err(ApiError::internal)?;
        let size = dmf_ledger::publish::latest(&files)
            .map_err(registry_error)?
            .checkpoint
            .size;
        let cached = app2
            .stats_cache
            .lock()
            .expect("stats cache")
            .iter()
            .find(|(s, p, _)| *s == size && *p == period.name())
            .map(|(_, _, v)| v.clone());
        if let Some(v) = cached {
            return Ok(v);
        }
        let stats =
            dmf_ledger::publish::stats(app2.registry.ledger(), period).map_err(registry_error)?;
        let v = serde_json::to_value(&stats).expect("serialisable");
        let mut cache = app2.stats_cache.lock().expect("stats cache");
        cache.retain(|(s, _, _)| *s == stats.tree_size);
        cache.push((stats.tree_size, period.name(), v.clone()));
        Ok(v)
    })
    .await
}

/// `GET /v1/letters/{code}`: checks a correction letter. Anyone holding the letter may ask;
/// the answer says no more than the letter does, and is accounted to the person.
async fn letter(State(app): State<Arc<App>>, code: PathParams<String>) -> Result<Json, ApiError> {
    let code = path_params(code)?;
    let checked = crate::corrections::check_letter(&app, &code).await?;
    let ssn = checked.ssn.to_string();
    let ticket = app.accounting.record(Disclosure {
        ssn: checked.ssn.as_u32(),
        at_ms: now_ms(),
        key_id: 0,
        key_name: "letter check".into(),
        purpose: "letter".into(),
        fields: vec!["name".into(), "ssn_last4".into(), "in_effect".into()],
    });
    app.disclosed(ticket).await?;
    Ok(axum::Json(json!({
        "valid": true,
        "correction_seq": checked.code.seq,
        "corrected_at": dmf_ledger::leaf::format_time(checked.corrected_at_ms),
        "first": checked.first,
        "last": checked.last,
        "ssn_last4": &ssn[ssn.len() - 4..],
        "in_effect": checked.in_effect,
        "statement": if checked.in_effect {
            "The death recorded for this person was wrong and was corrected; the registry does not list this person as deceased."
        } else {
            "This letter was issued by the registry, but a death has been recorded for this person since: the correction is no longer in effect."
        },
        "signed_by": app.signer.verifier().to_text(),
    })))
}

/// `GET /v1/alerts`: intake anomaly alerts, public like the statistics (no person is named), with
/// the tree size they were computed at.
async fn alerts(State(app): State<Arc<App>>) -> Result<Json, ApiError> {
    Ok(axum::Json(alerts_value(&app).await?))
}

/// The alerts at the current head, computed once per head.
pub(crate) async fn alerts_value(app: &Arc<App>) -> Result<Value, ApiError> {
    use dmf_registry::oversight::anomaly;
    let app2 = app.clone();
    blocking(move || {
        let head = app2.index.read().expect("index lock").head;
        if let Some((at, v)) = app2.alerts_cache.lock().expect("alerts cache").as_ref()
            && *at == head
        {
            return Ok(v.clone());
        }
        // The index is locked per lookup, not for the whole scan: writers go on meanwhile.
        let lookup = |ssn, seq| {
            let index = app2.index.read().expect("index lock");
            anomaly::known_in(index.get(ssn), seq)
        };
        let v = anomaly::alerts_json(
            &app2.registry,
            &lookup,
            head,
            &app2.config.alert_thresholds,
            app2.today().year(),
        )
        .map_err(ApiError::internal)?;
        *app2.alerts_cache.lock().expect("alerts cache") = Some((head, v.clone()));
        Ok(v)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QualityParams {
    max_age: Option<i32>,
    pending_days: Option<i32>,
    samples: Option<usize>,
}

/// `GET /v1/quality`: the quality report over the current state, for oversight. The examples
/// name people, so each is accounted to its person.
async fn quality(
    State(app): State<Arc<App>>,
    caller: Caller,
    q: Result<Query<QualityParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Oversight])?;
    let Query(q) = q.map_err(query_error)?;
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
    let app2 = app.clone();
    let report = blocking(move || {
        let received = dmf_registry::oversight::quality::received_in(&app2.registry);
        let index = app2.index.read().expect("index lock");
        Ok(dmf_registry::oversight::quality::report(
            &index, &cfg, &received,
        ))
    })
    .await?;
    let ticket = account_findings(&app, &caller, &report.findings);
    app.disclosed(ticket).await?;
    Ok(axum::Json(report.to_json()))
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
struct PublishedParams {
    audience: Option<String>,
    samples: Option<usize>,
}

/// `POST /v1/quality/published`: a published DMF full file (the body) against what the
/// registry publishes today for the audience it was made for, for oversight.
async fn quality_published(
    State(app): State<Arc<App>>,
    caller: Caller,
    q: Result<Query<PublishedParams>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> Result<Json, ApiError> {
    use dmf_registry::distribution::Audience;
    caller.require(&[Role::Oversight])?;
    let Query(q) = q.map_err(query_error)?;
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
    let mut v = report.to_json();
    if let Some(o) = v.as_object_mut() {
        o.remove("people");
    }
    Ok(axum::Json(v))
}

async fn health(State(app): State<Arc<App>>) -> Json {
    let head = app.index.read().expect("index lock").head;
    axum::Json(json!({ "status": "ok", "events": head }))
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let (people, head) = {
        let index = app.index.read().expect("index lock");
        (index.len(), index.head)
    };
    let tree = dmf_ledger::log::LogFiles::open(&app.dir)
        .ok()
        .and_then(|f| f.latest().ok().flatten())
        .map_or(0, |s| s.checkpoint.size);
    let mut text = app.metrics.render(people, head, tree);
    text.push_str(&app.conns.render());
    // Alerts as last computed (by `/v1/alerts` or the console): a scrape does not scan the log.
    if let Some((at, v)) = app.alerts_cache.lock().expect("alerts cache").as_ref() {
        let n = v["alerts"].as_array().map_or(0, Vec::len);
        text.push_str(&format!(
            "# HELP dmf_intake_alerts Intake anomaly alerts at the tree size below.\n\
             # TYPE dmf_intake_alerts gauge\ndmf_intake_alerts {n}\n\
             # HELP dmf_intake_alerts_tree_size The tree size the alerts were computed at.\n\
             # TYPE dmf_intake_alerts_tree_size gauge\ndmf_intake_alerts_tree_size {at}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi() -> Json {
    axum::Json(crate::openapi::document())
}
