//! `POST /v1/fhir/vrdr`: FHIR VRDR messages from a state's vital records office, one message or
//! a `batch` Bundle of them, answered with FHIR: an acknowledgement or an extraction error for
//! each. Only what is not FHIR (the key, the size, the content type) is answered from the error
//! table; a body that is not a message is answered with an extraction error naming why.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::extract::{PathOf, read_body};
use crate::App;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::vrdr;
use crate::views::VrdrRecordView;

/// The content type of FHIR JSON.
pub(crate) const FHIR: &str = "application/fhir+json";

pub(crate) async fn receive(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    // A state's key, bound to the jurisdiction whose records it sends.
    let key = &caller.key;
    if key.source.as_deref() != Some("state") {
        return Err(ApiError::new(
            Code::Forbidden,
            "FHIR VRDR records come from a state's vital records office: this key reports for another source",
        ));
    }
    let Some(jurisdiction) = key.jurisdiction.as_deref() else {
        return Err(ApiError::new(
            Code::Forbidden,
            "this state key is bound to no jurisdiction: create one with `dmf keys create --role reporter --source state --jurisdiction XX`",
        ));
    };
    let jurisdiction = jurisdiction.parse().map_err(ApiError::internal)?;
    let bytes = read_body(body, app.config.submit_limit).await?;
    let read = vrdr::read(bytes.to_vec()).await?;
    // Charged a message at a time, as NDJSON submissions are a line at a time.
    if read.messages.len() > 1 {
        app.limiter
            .pace(key.id, read.messages.len() as u64 - 1)
            .await;
    }
    let answer = vrdr::store(&app, jurisdiction, read).await?;
    Ok(([(header::CONTENT_TYPE, FHIR)], answer.body).into_response())
}

/// `GET /v1/fhir/vrdr/records/{record}`: a state's record (`2026NY000182`), each version, and
/// whether its latest change has reached the subscribers that had received it.
pub(crate) async fn record(
    State(app): State<Arc<App>>,
    // Taken first, for the table's role check: a key the route does not admit learns
    // nothing from its path.
    _caller: Caller,
    PathOf(record): PathOf<String>,
) -> Result<Json<VrdrRecordView>, ApiError> {
    let key = record
        .parse()
        .map_err(|e: dmf_vrdr::BadCertificateKey| ApiError::new(Code::NotFound, e.to_string()))?;
    Ok(Json(vrdr::record(&app, key).await?))
}
