//! The domain work behind the routes and the console: verification answers and their receipts,
//! submissions, corrections, identity reviews, matching programs, statistics and alerts. Nothing
//! here knows HTTP: the routes turn requests into calls and the results into views, and the
//! console calls the same functions for its pages. Failures are the error table's ([`ApiError`]), which says
//! what each means to a caller whichever way it came.

pub mod answers;
pub mod corrections;
pub mod identity;
pub mod letters;
pub mod log;
pub mod matching;
pub mod receipts;
pub mod statistics;
pub mod submit;
pub mod vrdr;
pub mod witnesses;

use crate::error::ApiError;

/// Runs `f` on the blocking pool: disk, the log and the index's scans never hold the runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// A registry failure as answered: what the caller named that is not there is 404, anything
/// else the server's own failure.
pub(crate) fn registry_error(e: impl Into<dmf_registry::RegistryError>) -> ApiError {
    match e.into() {
        dmf_registry::RegistryError::Input { reason, .. } => {
            ApiError::new(crate::error::Code::NotFound, reason)
        }
        other => ApiError::internal(other),
    }
}

/// A caller's fields refused by the registry's submission edge, as answered: 400 at its path.
pub(crate) fn rejected(r: dmf_registry::Rejection) -> ApiError {
    ApiError::at(crate::error::Code::BadRequest, r.path, r.reason)
}
