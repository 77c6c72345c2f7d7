//! The one table of API errors: every error response of every route comes from it, with the
//! same JSON shape `{"error": {"code", "message", "path"?}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use dmf_registry::render::SubmissionResult;
use schemars::JsonSchema;
use serde::Serialize;

/// An error code of the API, with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The body is not JSON, or not the JSON the route takes, or a query or path parameter is
    /// not what the route takes (the path names where).
    BadRequest,
    /// No key, or a key that is unknown or revoked.
    Unauthorized,
    /// The key's role may not use this route.
    Forbidden,
    /// No such object, or one that belongs to another caller.
    NotFound,
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// The route is not served with this method.
    MethodNotAllowed,
    /// The body's content type is not one the route takes.
    UnsupportedMediaType,
    /// The body stalled: nothing of it came for the server's body timeout.
    RequestTimeout,
    /// The key used up its rate; retry after the seconds given.
    RateLimited,
    /// The request's headers are too many or too large.
    HeadersTooLarge,
    /// The request was understood but refused by the rules of the registry.
    Unprocessable,
    /// Something failed on the server; nothing the caller sent was half-stored.
    Internal,
    /// The server cannot give this answer just yet (a receipt whose event the log has not
    /// signed yet); retry after the seconds given.
    Unavailable,
}

/// Every code, for the API description.
pub const CODES: [(Code, &str); 13] = [
    (
        Code::BadRequest,
        "the request is not what the route takes (its body, query or path); `path` names where",
    ),
    (Code::Unauthorized, "no key, or an unknown or revoked key"),
    (Code::Forbidden, "the key's role may not use this route"),
    (Code::NotFound, "no such object, or another caller's"),
    (
        Code::PayloadTooLarge,
        "the body is larger than the route accepts",
    ),
    (
        Code::MethodNotAllowed,
        "the route is not served with this method",
    ),
    (
        Code::UnsupportedMediaType,
        "the body's Content-Type is not one the route takes",
    ),
    (
        Code::RequestTimeout,
        "nothing of the body came for the server's body timeout",
    ),
    (
        Code::RateLimited,
        "the key used up its rate or its daily allowance; see Retry-After",
    ),
    (
        Code::HeadersTooLarge,
        "the request's headers are too many or too large",
    ),
    (
        Code::Unprocessable,
        "refused by the rules of the registry; `path` names the field",
    ),
    (Code::Internal, "the server failed; nothing was half-stored"),
    (
        Code::Unavailable,
        "the answer cannot be given just yet (a receipt's event is not in a signed checkpoint yet); see Retry-After",
    ),
];

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Code::BadRequest => "bad_request",
            Code::Unauthorized => "unauthorized",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::PayloadTooLarge => "payload_too_large",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::RequestTimeout => "request_timeout",
            Code::RateLimited => "rate_limited",
            Code::HeadersTooLarge => "headers_too_large",
            Code::Unprocessable => "unprocessable",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
        }
    }
}

/// A number for one failure, to find it in the log: 8 random hex digits.
pub fn incident() -> String {
    let mut b = [0u8; 4];
    // Without randomness the number is zero: the log's time still finds the failure.
    let _ = getrandom::fill(&mut b);
    dmf_ledger::log::hex(&b)
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// The JSON path of the offending value, when there is one.
    pub path: Option<String>,
    /// For `RateLimited` and `Unavailable`: seconds until a retry may succeed.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            path: None,
            retry_after: None,
        }
    }

    pub fn at(code: Code, path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            path: Some(path.into()),
            ..ApiError::new(code, message)
        }
    }

    /// A failure of the server's own: the detail (a path, a database's words) goes to the log
    /// under an incident number, and the caller gets that number alone, to quote.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        let incident = incident();
        tracing::error!(incident = %incident, error = %e, "request failed");
        ApiError::new(
            Code::Internal,
            format!(
                "internal error (incident {incident}): the server's log has the detail; nothing was half-stored"
            ),
        )
    }

    /// The error as answered.
    pub fn view(&self) -> ErrorView {
        ErrorView {
            line: None,
            error: ErrorBody {
                code: self.code.name(),
                message: self.message.clone(),
                path: self.path.clone(),
            },
            result: None,
        }
    }

    /// The error as JSON.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.view()).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.code.status(), Json(self.view())).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// Every error answer: `{"error": {code, message, path?}}`, with the line of an NDJSON body
/// where it answers one, and for a refused submission its result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Error")]
pub struct ErrorView {
    /// The line of an NDJSON body the error answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub error: ErrorBody,
    /// A refused submission's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SubmissionResult>,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ErrorBody {
    #[schemars(schema_with = "error_code")]
    pub code: &'static str,
    pub message: String,
    /// Where: a JSON path into the body, a parameter, a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn error_code(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let codes: Vec<&str> = CODES.iter().map(|(c, _)| c.name()).collect();
    schemars::json_schema!({ "type": "string", "enum": codes })
}
