//! Who is calling: the API key from `Authorization: Bearer KEY`, its rate, and its role.
//! Deny by default: a route names the roles it admits and every other key gets 403.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::App;
use crate::error::{ApiError, Code};
use crate::keys::{ApiKey, Role};

/// An authenticated caller within its rate.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKey,
}

impl Caller {
    /// Admits only the roles given.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.key.role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        Err(ApiError::new(
            Code::Forbidden,
            format!(
                "{} {} key may not use this route (it takes: {})",
                dmf_model::article(self.key.role.code()),
                self.key.role.code(),
                names.join(", ")
            ),
        ))
    }
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Caller, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::new(
                Code::Unauthorized,
                "no API key: send `Authorization: Bearer KEY`",
            ));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthorized,
                    "the Authorization header is not `Bearer KEY`",
                )
            })?;
        let key = app
            .keys
            .authenticate(secret)
            .ok_or_else(|| ApiError::new(Code::Unauthorized, "unknown or revoked API key"))?;
        crate::conn::mark_known(&parts.extensions);
        if let Err(wait) = app.limiter.check(key.id, 1, Instant::now()) {
            let secs = wait
                .as_secs()
                .saturating_add(u64::from(wait.subsec_nanos() > 0));
            let mut e = ApiError::new(
                Code::RateLimited,
                format!("key {:?} is over its rate; retry in {secs} s", key.name),
            );
            e.retry_after = Some(secs);
            return Err(e);
        }
        Ok(Caller { key })
    }
}
