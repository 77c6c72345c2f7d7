//! Who is calling: the API key from `Authorization: Bearer KEY`, its rate, and its role.
//! Deny by default: the route table names the roles each route admits, and every other key
//! gets 403 before the handler runs.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::App;
use crate::error::{ApiError, Code};
use crate::keys::{ApiKey, Role};

/// An authenticated caller within its rate, of a role its route admits.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKey,
}

/// The roles a route admits, as the route table gives them: set on each route's requests for
/// [`Caller`] to check.
#[derive(Debug, Clone, Copy)]
pub struct Admits(pub &'static [Role]);

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
        let caller = Caller { key };
        // Every route that takes a key names its roles in the table; one that did not would
        // admit no key at all.
        let roles = parts.extensions.get::<Admits>().map_or(&[][..], |a| a.0);
        caller.require(roles)?;
        Ok(caller)
    }
}
