//! People's records for caseworkers: the accounting of every disclosure of a record, the queue
//! of reports and notices held for their identity, their review by two people, and identity
//! changes with a second person's confirmation.

use dmf_registry::requests::{IdentityChangeFields, ReviewFields};
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use dmf_model::Ssn;
use serde::Deserialize;

use super::extract::{Params, PathOf, object, object_or_empty, read_body};
use crate::accounting::Disclosure;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::corrections::Actor;
use crate::services::identity::{self, Reviewed};
use crate::services::submit;
use crate::views::{AccountingView, DisclosureView, HeldQueue, ReviewResult};
use crate::{App, now_ms};

fn ssn_of(text: &str) -> Result<Ssn, ApiError> {
    text.parse()
        .map_err(|e| ApiError::at(Code::BadRequest, "ssn", format!("{e}")))
}

/// `GET /v1/people/{ssn}/accounting`: every disclosure of this person's record.
pub(crate) async fn accounting(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(ssn): PathOf<String>,
) -> Result<Json<AccountingView>, ApiError> {
    let ssn = ssn_of(&ssn)?;
    let app2 = app.clone();
    let list = crate::services::blocking(move || {
        app2.accounting
            .for_person(ssn.as_u32())
            .map_err(ApiError::internal)
    })
    .await?;
    let disclosures = list
        .into_iter()
        .map(|d| DisclosureView {
            at: dmf_ledger::leaf::format_time(d.at_ms),
            to: d.key_name,
            key_id: d.key_id,
            purpose: d.purpose,
            fields: d.fields,
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
    Ok(Json(AccountingView {
        ssn: ssn.to_string(),
        disclosures,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueParams {
    limit: Option<usize>,
}

/// `GET /v1/held?limit=N`: reports and notices held for their identity and identity changes
/// waiting for a second person, people in SSN order (at most `limit`, default 100). Each person
/// shown is accounted: the differences show what is on file.
pub(crate) async fn held(
    State(app): State<Arc<App>>,
    caller: Caller,
    Params(params): Params<QueueParams>,
) -> Result<Json<HeldQueue>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::at(
            Code::BadRequest,
            "limit",
            "give a number of people from 1 to 10000",
        ));
    }
    let (held, proposed, people) = identity::queue_of(&app, limit);
    let ticket = identity::account_shown(
        &app,
        &Actor::key(&caller.key),
        held.iter()
            .map(|h| h.ssn)
            .chain(proposed.iter().map(|p| p.ssn)),
    );
    app.disclosed(ticket).await?;
    Ok(Json(HeldQueue {
        people,
        held: held.iter().map(|h| h.entry()).collect(),
        proposed_identity_changes: proposed.iter().map(|p| p.entry()).collect(),
    }))
}

fn created(accepted: &dmf_registry::Accepted, by: &Actor) -> (StatusCode, Json<ReviewResult>) {
    (
        StatusCode::CREATED,
        Json(ReviewResult {
            result: submit::accepted(accepted),
            by: by.name.clone(),
        }),
    )
}

async fn reviewed(
    app: Arc<App>,
    caller: Caller,
    seq: u64,
    body: Body,
    what: Reviewed,
    confirm: bool,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    let bytes = read_body(body, app.config.body_limit).await?;
    let fields = ReviewFields::new(object_or_empty(&bytes)?).map_err(crate::services::rejected)?;
    let actor = Actor::key(&caller.key);
    let (accepted, _) = identity::review(&app, &actor, seq, what, confirm, fields).await?;
    Ok(created(&accepted, &actor))
}

/// `POST /v1/held/{seq}/confirm` (`{"evidence": "…", "reason": "…"}`): the identity was checked
/// outside the registry; the second confirmation by another person applies the report or
/// notice.
pub(crate) async fn confirm_held(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(seq): PathOf<u64>,
    body: Body,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    reviewed(app, caller, seq, body, Reviewed::Held, true).await
}

/// `POST /v1/held/{seq}/reject`: the held report or notice never applies.
pub(crate) async fn reject_held(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(seq): PathOf<u64>,
    body: Body,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    reviewed(app, caller, seq, body, Reviewed::Held, false).await
}

/// `POST /v1/identity-changes/{seq}/confirm`: someone other than its requester confirms it.
pub(crate) async fn confirm_change(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(seq): PathOf<u64>,
    body: Body,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    reviewed(app, caller, seq, body, Reviewed::IdentityChange, true).await
}

/// `POST /v1/identity-changes/{seq}/reject`.
pub(crate) async fn reject_change(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(seq): PathOf<u64>,
    body: Body,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    reviewed(app, caller, seq, body, Reviewed::IdentityChange, false).await
}

/// `POST /v1/people/{ssn}/identity`: asks for an identity change (a new name, date of birth
/// or sex, with its reason and evidence); it applies once another person confirms it.
pub(crate) async fn propose(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(ssn): PathOf<String>,
    body: Body,
) -> Result<(StatusCode, Json<ReviewResult>), ApiError> {
    let ssn = ssn_of(&ssn)?;
    let bytes = read_body(body, app.config.body_limit).await?;
    let fields = IdentityChangeFields::new(object(&bytes)?).map_err(crate::services::rejected)?;
    let actor = Actor::key(&caller.key);
    let accepted = identity::propose_change(&app, &actor, ssn, fields).await?;
    Ok(created(&accepted, &actor))
}
