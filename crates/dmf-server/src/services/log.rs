//! The signed log as served: the latest published checkpoint, whichever node signed it.

use crate::App;
use crate::error::ApiError;
use crate::services::registry_error;

/// The latest published checkpoint as a signed note: on a shared store the one published in
/// the store (nodes all serve it, whichever signed it), otherwise the data folder's, with the
/// cosignatures of its witnesses' quorum (see [`crate::services::witnesses`]). 404 before the
/// first is published.
pub fn latest_note(app: &App) -> Result<String, ApiError> {
    if app.registry.shared()
        && let Some((_, note)) = app
            .registry
            .store()
            .latest_checkpoint()
            .map_err(ApiError::internal)?
    {
        return Ok(note);
    }
    match crate::services::witnesses::published(&app.dir)? {
        Some(signed) => Ok(signed.note),
        None => {
            // The reason, as the ledger words it, when nothing is signed at all.
            let files = dmf_ledger::log::LogFiles::open(&app.dir).map_err(ApiError::internal)?;
            dmf_ledger::publish::latest(&files).map_err(registry_error)?;
            Err(ApiError::new(
                crate::error::Code::NotFound,
                "no checkpoint has been cosigned by the registry's witnesses yet",
            ))
        }
    }
}
