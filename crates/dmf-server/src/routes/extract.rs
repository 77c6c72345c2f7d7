//! What handlers take from a request, each refused with an answer of the error table: bodies
//! within their limit, JSON objects, query and path parameters.

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, Code};

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

/// A body that may be empty (a step that takes nothing) or one JSON object.
pub(crate) fn object_or_empty(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(Map::new())
    } else {
        object(bytes)
    }
}

pub(crate) fn query_error(e: QueryRejection) -> ApiError {
    ApiError::at(Code::BadRequest, "query", e.body_text())
}

/// The query parameters, or a 400 from the table naming `query`.
#[derive(Debug)]
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Params<T>, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(query_error)
    }
}

/// The path parameters, or a 404 from the table: a segment that is not what the route takes
/// (an id that is not a number, text that is not UTF-8) names no object. Taken after the
/// caller, so a key the route does not admit learns nothing from its paths.
#[derive(Debug)]
pub(crate) struct PathOf<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathOf<T>, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathOf(p.0))
            .map_err(|e| ApiError::new(Code::NotFound, e.body_text()))
    }
}
