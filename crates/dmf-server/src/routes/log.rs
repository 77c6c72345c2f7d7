//! The public log: the latest signed checkpoint, and inclusion and consistency proofs.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::Params;
use crate::App;
use crate::error::{ApiError, Code};
use crate::services::{blocking, registry_error};
use dmf_ledger::publish::Proof;

/// `GET /v1/log/checkpoint`: the latest signed checkpoint, as a signed note.
pub(crate) async fn checkpoint(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let app2 = app.clone();
    let note = blocking(move || crate::services::log::latest_note(&app2)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionParams {
    seq: u64,
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyParams {
    from: u64,
    to: u64,
}

/// `GET /v1/log/proof/inclusion?seq=N&size=M`.
pub(crate) async fn inclusion(
    State(app): State<Arc<App>>,
    Params(q): Params<InclusionParams>,
) -> Result<Json<Proof>, ApiError> {
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
    Ok(Json(proof))
}

/// `GET /v1/log/proof/consistency?from=N&to=M`.
pub(crate) async fn consistency(
    State(app): State<Arc<App>>,
    Params(q): Params<ConsistencyParams>,
) -> Result<Json<Proof>, ApiError> {
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
    Ok(Json(proof))
}
