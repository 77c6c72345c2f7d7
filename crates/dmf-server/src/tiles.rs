//! The log as C2SP tlog-tiles under `/log/`: `/log/checkpoint`, the hash tiles
//! `/log/tile/<L>/<N>[.p/<W>]` from the stored tree levels, and the entry bundles
//! `/log/tile/entries/<N>[.p/<W>]` with each event's public leaf. Static by design: a full
//! tile never changes (cached for a year, immutable); a partial tile is a prefix of the full
//! one and of every wider partial one, so every width up to the signed size stays served; the
//! log is never pruned. Outside the API's route table: these are files of the spec's layout,
//! not JSON answers.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dmf_ledger::log::LogFiles;
use dmf_log::tiles::{Tile, TileKind};

use crate::App;
use crate::error::ApiError;
use crate::services::blocking;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const FRESH: &str = "no-cache";

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/policy", get(policy))
        .route("/log/tile/{*path}", get(tile))
}

fn not_found(what: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        what,
    )
        .into_response()
}

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "cannot serve the log's tiles");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the log cannot be read\n",
    )
        .into_response()
}

/// The registry's witness policy (C2SP tlog-policy text): the log's key, its witnesses and the
/// quorum a published checkpoint carries. A verifier should hold its own copy, compared out of
/// band; this one is for convenience.
async fn policy(State(app): State<Arc<App>>) -> Response {
    let dir = app.dir.clone();
    match blocking(move || crate::services::witnesses::policy(&dir)).await {
        Ok(policy) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, FRESH),
            ],
            policy.to_text(),
        )
            .into_response(),
        Err(e) => failed(e.message),
    }
}

/// The latest published checkpoint (with its witnesses' cosignatures), as a signed note.
async fn checkpoint(State(app): State<Arc<App>>) -> Response {
    let app2 = app.clone();
    match blocking(move || crate::services::log::latest_note(&app2)).await {
        Ok(note) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, FRESH),
            ],
            note,
        )
            .into_response(),
        Err(e) if e.code == crate::error::Code::NotFound => not_found(format!("{}\n", e.message)),
        Err(e) => failed(e.message),
    }
}

/// A hash tile or an entry bundle, within the latest signed checkpoint.
async fn tile(State(app): State<Arc<App>>, Path(path): Path<String>) -> Response {
    let tile = match Tile::parse(&format!("tile/{path}")) {
        Ok(t) => t,
        Err(e) => return not_found(format!("{e}\n")),
    };
    let app2 = app.clone();
    let bytes = blocking(move || {
        let dir = app2.registry.dir().to_owned();
        let files = LogFiles::open(&dir).map_err(ApiError::internal)?;
        let Some(signed) = files.latest().map_err(ApiError::internal)? else {
            return Ok(None);
        };
        if !tile.within(signed.checkpoint.size) {
            return Ok(None);
        }
        let first = tile.first().unwrap_or(u64::MAX);
        match tile.kind {
            TileKind::Hashes { level } => files
                .stored_nodes(level * 8, first, tile.width())
                .map_err(ApiError::internal),
            TileKind::Entries => entries(&app2, first, tile.width()).map(Some),
        }
    })
    .await;
    match bytes {
        Ok(Some(b)) => {
            let cache = if tile.partial.is_some() {
                FRESH
            } else {
                IMMUTABLE
            };
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream"),
                    (header::CACHE_CONTROL, cache),
                ],
                b,
            )
                .into_response()
        }
        Ok(None) => not_found(format!(
            "{tile} is not in the log at its latest signed size\n"
        )),
        Err(e) => failed(e.message),
    }
}

/// The entry bundle of leaves `first ..first + count`: each event's public leaf (leaf `i` is
/// event `i + 1`).
fn entries(app: &App, first: u64, count: u64) -> Result<Vec<u8>, ApiError> {
    let key = app.registry.leaf_key().map_err(ApiError::internal)?;
    let fields = app.registry.ledger().fields();
    let events = app
        .registry
        .store()
        .read_after(first, count as usize)
        .map_err(ApiError::internal)?;
    if events.len() as u64 != count {
        return Err(ApiError::internal(
            "the store holds fewer events than the signed log",
        ));
    }
    let leaves: Vec<Vec<u8>> = events
        .iter()
        .map(|e| dmf_ledger::leaf::leaf(&key, fields, e.into()))
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    dmf_log::tiles::bundle(leaves.iter().map(Vec::as_slice)).map_err(ApiError::internal)
}
