//! Corrections of wrong deaths over HTTP: asked for by one caseworker, approved by another,
//! and followed to every subscriber that had received the wrong record.

use dmf_registry::requests::CorrectionFields;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;

use super::extract::{PathOf, object, read_body};
use crate::App;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::services::corrections::{self, Actor};
use crate::services::submit;
use crate::views::{CorrectionApproved, CorrectionRequested, PropagationView};

/// `POST /v1/corrections`: a caseworker asks for a correction; another approves it.
pub(crate) async fn request(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<CorrectionRequested>), ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let m = object(&bytes)?;
    let actor = Actor::key(&caller.key);
    let asked = CorrectionFields::new(m).map_err(crate::services::rejected)?;
    let (id, ssn) = corrections::request(&app, &actor, asked)?;
    Ok((
        StatusCode::CREATED,
        Json(CorrectionRequested {
            id,
            status: "awaiting_approval",
            ssn: ssn.to_string(),
            requested_by: actor.name,
        }),
    ))
}

/// `POST /v1/corrections/{id}/approve`: a second caseworker approves; the correction is
/// stored and reaches every subscriber through the feed.
pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<i64>,
) -> Result<Json<CorrectionApproved>, ApiError> {
    let actor = Actor::key(&caller.key);
    let accepted = corrections::approve(&app, &actor, id).await?;
    Ok(Json(CorrectionApproved {
        result: submit::accepted(&accepted),
        id,
        approved_by: actor.name,
    }))
}

/// `GET /v1/corrections/{id}/propagation`: which subscribers received the wrong record, and
/// which have acknowledged the correction.
pub(crate) async fn propagation(
    State(app): State<Arc<App>>,
    // Taken first, for the table's role check: a key the route does not admit learns
    // nothing from its path.
    _caller: Caller,
    PathOf(id): PathOf<i64>,
) -> Result<Json<PropagationView>, ApiError> {
    Ok(Json(corrections::propagation(&app, id).await?.view()))
}
