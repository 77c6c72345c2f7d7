//! `POST /v1/fhir/vrdr`: FHIR VRDR messages from a state's vital records office, one message or
//! a `batch` Bundle of them, answered with FHIR: an acknowledgement or an extraction error for
//! each. Only what is not FHIR (the key, the size, the content type) is answered from the error
//! table; a body that is not a message is answered with an extraction error naming why.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::extract::read_body;
use crate::App;
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::services::vrdr;

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
