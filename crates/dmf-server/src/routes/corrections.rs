//! Corrections of wrong deaths over HTTP: asked for by one caseworker (a second request for the
//! same person joins the open one), then approved, rejected or sent back for evidence by
//! another, or withdrawn or resubmitted by the one who asked; and followed to every subscriber
//! that had received the wrong record.

use dmf_registry::requests::CorrectionFields;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;

use super::extract::{PathOf, object, object_or_empty, read_body};
use crate::App;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::corrections::{self, Actor};
use crate::services::submit;
use crate::views::{
    CorrectionApproved, CorrectionReason, CorrectionRequested, CorrectionStepped,
    CorrectionWithdrawal, PropagationView,
};
use crate::workflow::{CorrectionRequest, Filed};

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
    let (filed, ssn) = corrections::request(&app, &actor, asked)?;
    let c = corrections::get(&app, filed.id())?;
    Ok((
        StatusCode::CREATED,
        Json(CorrectionRequested {
            id: c.id,
            filed: match filed {
                Filed::New(_) => "new",
                Filed::Joined(_) => "joined",
                Filed::Repeated(_) => "repeated",
            },
            status: c.status.code(),
            ssn: ssn.to_string(),
            requested_by: c.requested_by,
        }),
    ))
}

/// `POST /v1/corrections/{id}/approve`: another caseworker approves; the correction is
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

/// A body of one of the typed request views, or a 400 naming what is wrong.
fn typed<T: DeserializeOwned>(
    m: serde_json::Map<String, serde_json::Value>,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::Object(m))
        .map_err(|e| ApiError::at(Code::BadRequest, "$", e.to_string()))
}

fn stepped(c: CorrectionRequest, actor: Actor) -> Json<CorrectionStepped> {
    Json(CorrectionStepped {
        id: c.id,
        status: c.status.code(),
        reason: corrections::latest_reason(&c).map(str::to_owned),
        by: actor.name,
    })
}

/// `POST /v1/corrections/{id}/reject`: another caseworker rejects it, saying why.
pub(crate) async fn reject(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<i64>,
    body: Body,
) -> Result<Json<CorrectionStepped>, ApiError> {
    with_reason(&app, &caller, id, body, corrections::reject).await
}

/// `POST /v1/corrections/{id}/send-back`: another caseworker sends it back to its requester,
/// saying what evidence is missing.
pub(crate) async fn send_back(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<i64>,
    body: Body,
) -> Result<Json<CorrectionStepped>, ApiError> {
    with_reason(&app, &caller, id, body, corrections::send_back).await
}

/// A step that takes a reason (`{"reason": …}`), taken by the caller's key.
async fn with_reason(
    app: &App,
    caller: &Caller,
    id: i64,
    body: Body,
    step: fn(&App, &Actor, i64, &str) -> Result<CorrectionRequest, ApiError>,
) -> Result<Json<CorrectionStepped>, ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let asked: CorrectionReason = typed(object(&bytes)?)?;
    let actor = Actor::key(&caller.key);
    let c = step(app, &actor, id, &asked.reason)?;
    Ok(stepped(c, actor))
}

/// `POST /v1/corrections/{id}/withdraw`: the key that asked for it withdraws it.
pub(crate) async fn withdraw(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<i64>,
    body: Body,
) -> Result<Json<CorrectionStepped>, ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let asked: CorrectionWithdrawal = typed(object_or_empty(&bytes)?)?;
    let actor = Actor::key(&caller.key);
    let c = corrections::withdraw(&app, &actor, id, asked.reason.as_deref())?;
    Ok(stepped(c, actor))
}

/// `POST /v1/corrections/{id}/resubmit`: the key that asked for it asks again, with more
/// evidence; it awaits approval again.
pub(crate) async fn resubmit(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<i64>,
    body: Body,
) -> Result<Json<CorrectionStepped>, ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let asked = CorrectionFields::new(object(&bytes)?).map_err(crate::services::rejected)?;
    let actor = Actor::key(&caller.key);
    let c = corrections::resubmit(&app, &actor, id, asked)?;
    Ok(stepped(c, actor))
}

/// `GET /v1/corrections/{id}/propagation`: where it stands; once approved, which subscribers
/// received the wrong record, and which have acknowledged the correction.
pub(crate) async fn propagation(
    State(app): State<Arc<App>>,
    // Taken first, for the table's role check: a key the route does not admit learns
    // nothing from its path.
    _caller: Caller,
    PathOf(id): PathOf<i64>,
) -> Result<Json<PropagationView>, ApiError> {
    Ok(Json(corrections::propagation(&app, id).await?.view()))
}
