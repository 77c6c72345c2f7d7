//! Oversight of the file: intake anomalies ([`anomaly`]), the quality report ([`quality`]), and
//! the public export, which carries the anomaly alerts beside the ledger's leaves and
//! statistics.

pub mod anomaly;
pub mod quality;

use std::path::Path;

use dmf_ledger::publish::ExportSummary;

use crate::registry::{Registry, RegistryError};

/// Writes the public export: leaves, checkpoints, key, statistics, and the intake anomaly
/// alerts at the exported tree size under `thresholds` (`today` names the year whose life
/// tables apply when there is no intake yet).
pub fn export(
    registry: &Registry,
    out: &Path,
    thresholds: &anomaly::Thresholds,
    today: dmf_model::Date,
) -> Result<ExportSummary, RegistryError> {
    dmf_ledger::publish::export(registry.ledger(), out, |checkpoint| {
        let index = registry.load_index()?;
        let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
        anomaly::alerts_json(registry, &lookup, checkpoint.size, thresholds, today.year())
    })
}
