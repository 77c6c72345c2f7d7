//! The signed log as served: the latest checkpoint, whichever node signed it.

use crate::App;
use crate::error::ApiError;
use crate::services::registry_error;

/// The latest signed checkpoint as a signed note: on a shared store the one published in the
/// store (nodes all serve it, whichever signed it), otherwise the data folder's. 404 before
/// the first is signed.
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
    let files = dmf_ledger::log::LogFiles::open(&app.dir).map_err(ApiError::internal)?;
    let signed = dmf_ledger::publish::latest(&files).map_err(registry_error)?;
    Ok(signed.note)
}
