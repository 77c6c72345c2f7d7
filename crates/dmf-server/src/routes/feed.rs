//! Distribution over HTTP: the subscriber feed (A/C/D change records, long-polling), its
//! acknowledgements, and the fixed-width files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use dmf_format::{DmfRecord, LineEnding, write_record};
use dmf_registry::distribution::{self, Audience};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{Params, object, read_body};
use crate::accounting::Disclosure;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::keys::Role;
use crate::services::blocking;
use crate::views::{Acknowledged, FeedPage, FeedRecord};
use crate::{App, now_ms};

/// Events one feed page covers at most.
const PAGE_EVENTS: usize = 10_000;
/// The longest a feed request is held open when nothing is new.
const MAX_WAIT_SECS: u64 = 60;

/// Fields of a DMF record, for the accounting of what a subscriber received.
const DMF_FIELDS: [&str; 7] = ["ssn", "last", "suffix", "first", "middle", "dod", "dob"];

/// What a key may receive (the table admits subscribers and benefit programs only).
fn audience(caller: &Caller) -> Audience {
    let benefits = caller.key.role == Role::Benefits;
    Audience {
        // Federal benefit programs are not limited by the certification rule.
        certified: caller.key.certified || benefits,
        state_deaths: benefits,
    }
}

/// Records what a subscriber receives, and waits until it is durable: the records leave only
/// then.
async fn account(
    app: &App,
    caller: &Caller,
    purpose: &str,
    records: &[DmfRecord],
) -> Result<(), ApiError> {
    if records.is_empty() {
        return Ok(());
    }
    let at_ms = now_ms();
    let fields: Vec<String> = DMF_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    let ticket = app.accounting.record_many(
        records
            .iter()
            .map(|r| Disclosure {
                ssn: r.ssn().as_u32(),
                at_ms,
                key_id: caller.key.id,
                key_name: caller.key.name.clone(),
                purpose: purpose.to_owned(),
                fields: fields.clone(),
            })
            .collect(),
    );
    app.disclosed(ticket).await
}

fn line(r: &DmfRecord) -> String {
    String::from_utf8_lossy(r.as_bytes()).into_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedParams {
    after: Option<u64>,
    wait: Option<u64>,
}

/// `GET /v1/feed?after=CURSOR&wait=SECONDS`: the changes after a cursor, held open up to
/// `wait` seconds (default 25) when there are none yet.
///
/// A page is empty only when the cursor caught up with the head and nothing came within the
/// wait, or when the events read past those the key may not see reached the server's
/// `feed_read_limit`: a client pages until the cursor stops moving.
pub(crate) async fn feed(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(q): Params<FeedParams>,
) -> Result<Response, ApiError> {
    let audience = audience(&caller);
    let after = q.after.unwrap_or(0);
    let wait = Duration::from_secs(q.wait.unwrap_or(25).min(MAX_WAIT_SECS));
    let deadline = Instant::now() + wait;
    let read_on = app.config.feed_read_limit.max(1);
    let mut heads = app.head_tx.subscribe();
    let mut at = after;
    // Events read by this request: those the key may not see (numberholders, notices, deaths
    // of another audience) are read past, up to `read_on`, so that a run of them longer than a
    // page is not answered as an empty page a client could take for having caught up.
    let mut read = 0usize;
    loop {
        let head = *heads.borrow_and_update();
        if after > head {
            return Err(ApiError::at(
                Code::BadRequest,
                "after",
                format!("cursor {after} is beyond the registry's last event {head}"),
            ));
        }
        while head > at && read < read_on {
            let app2 = app.clone();
            let today = app.today();
            // Never past this node's own head: with a shared store, other nodes' events may
            // be stored already but not yet in this node's index, and a cursor beyond the
            // head would be refused on the next request.
            let limit = PAGE_EVENTS.min(read_on - read).min((head - at) as usize);
            let from = at;
            let changes = blocking(move || {
                distribution::changes(&app2.registry, from, limit, audience, today)
                    .map_err(ApiError::internal)
            })
            .await?;
            if changes.cursor == at {
                // Nothing more in the store up to the head yet (another node's events not
                // readable here): wait as if caught up.
                break;
            }
            read += (changes.cursor - at) as usize;
            at = changes.cursor;
            if !changes.records.is_empty() {
                return page(&app, &caller, at, &changes.records).await;
            }
        }
        // Read on as far as one request goes: the client asks again from the cursor moved on.
        if read >= read_on {
            return page(&app, &caller, at, &[]).await;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tokio::time::timeout(left, heads.changed()).await.is_err() {
            return page(&app, &caller, at, &[]).await;
        }
    }
}

/// A feed page: the cursor is recorded as served to the key, the records as disclosed to it.
async fn page(
    app: &App,
    caller: &Caller,
    cursor: u64,
    records: &[DmfRecord],
) -> Result<Response, ApiError> {
    app.workflow
        .served(caller.key.id, cursor)
        .map_err(ApiError::internal)?;
    account(app, caller, "feed", records).await?;
    let records = records
        .iter()
        .map(|r| FeedRecord {
            change: (r.change().code() as char).to_string(),
            ssn: r.ssn().to_string(),
            line: line(r),
        })
        .collect();
    let named = published_header(app).await;
    Ok((named, Json(FeedPage { cursor, records })).into_response())
}

/// `POST /v1/feed/ack {"cursor": N}`: everything up to N was applied.
pub(crate) async fn ack(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<Json<Acknowledged>, ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let m = object(&bytes)?;
    if let Some(k) = m.keys().find(|k| *k != "cursor") {
        return Err(ApiError::at(
            Code::BadRequest,
            format!("$.{k}"),
            "unknown field (an acknowledgement takes cursor)",
        ));
    }
    let cursor = m.get("cursor").and_then(Value::as_u64).ok_or_else(|| {
        ApiError::at(
            Code::BadRequest,
            "$.cursor",
            "expected a non-negative integer",
        )
    })?;
    let position = app
        .workflow
        .position(caller.key.id)
        .map_err(ApiError::internal)?;
    if cursor > position.served {
        return Err(ApiError::at(
            Code::Unprocessable,
            "$.cursor",
            format!(
                "cursor {cursor} was never sent to this key (it was sent up to {})",
                position.served
            ),
        ));
    }
    app.workflow
        .acked(caller.key.id, cursor, now_ms())
        .map_err(ApiError::internal)?;
    Ok(Json(Acknowledged {
        acknowledged: cursor,
    }))
}

/// The header naming the checkpoint published when a feed page or file is served (its size
/// and base64 root), so that a subscriber can tie what it received to the log its witnesses
/// cosigned. None before the first is published.
async fn published_header(app: &App) -> axum::http::HeaderMap {
    let dir = app.dir.clone();
    let mut headers = axum::http::HeaderMap::new();
    if app.registry.shared() {
        return headers;
    }
    let value = crate::services::blocking(move || crate::services::witnesses::published(&dir))
        .await
        .ok()
        .flatten()
        .map(|s| dmf_witness::cosigning::header_value(&s))
        .and_then(|v| header::HeaderValue::from_str(&v).ok());
    if let Some(v) = value {
        headers.insert(header::HeaderName::from_static("x-dmf-log-checkpoint"), v);
    }
    headers
}

async fn fixed_width(app: &App, records: &[DmfRecord], cursor: u64) -> Response {
    let mut out = Vec::with_capacity(records.len() * 101);
    for r in records {
        write_record(r, LineEnding::Lf, &mut out);
    }
    let named = published_header(app).await;
    (
        named,
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=us-ascii".to_owned(),
            ),
            (
                header::HeaderName::from_static("x-dmf-cursor"),
                cursor.to_string(),
            ),
        ],
        out,
    )
        .into_response()
}

/// `GET /v1/files/full`: every record this key may receive, fixed width; the header
/// `X-DMF-Cursor` says where updates continue.
pub(crate) async fn full(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let audience = audience(&caller);
    let app2 = app.clone();
    let today = app.today();
    let (cursor, records) = blocking(move || {
        distribution::full_file(&app2.registry, audience, today).map_err(ApiError::internal)
    })
    .await?;
    app.workflow
        .served(caller.key.id, cursor)
        .map_err(ApiError::internal)?;
    account(&app, &caller, "file", &records).await?;
    Ok(fixed_width(&app, &records, cursor).await)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateParams {
    since: u64,
}

/// `GET /v1/files/updates?since=CURSOR`: the A/C/D records since a cursor, fixed width.
pub(crate) async fn updates(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(q): Params<UpdateParams>,
) -> Result<Response, ApiError> {
    let audience = audience(&caller);
    let head = *app.head_tx.borrow();
    if q.since > head {
        return Err(ApiError::at(
            Code::BadRequest,
            "since",
            format!(
                "cursor {} is beyond the registry's last event {head}",
                q.since
            ),
        ));
    }
    let app2 = app.clone();
    let today = app.today();
    let (cursor, records) = blocking(move || {
        let mut records = Vec::new();
        let mut cursor = q.since;
        while cursor < head {
            let limit = PAGE_EVENTS.min((head - cursor) as usize);
            let page = distribution::changes(&app2.registry, cursor, limit, audience, today)
                .map_err(ApiError::internal)?;
            if page.cursor == cursor {
                return Ok((cursor, records));
            }
            cursor = page.cursor;
            records.extend(page.records);
        }
        Ok((cursor, records))
    })
    .await?;
    app.workflow
        .served(caller.key.id, cursor)
        .map_err(ApiError::internal)?;
    account(&app, &caller, "file", &records).await?;
    Ok(fixed_width(&app, &records, cursor).await)
}
