//! The public statistics and intake alerts (each a scan of the log, computed once per tree
//! size or event head and kept), and the quality reports for oversight.

use std::sync::Arc;

use dmf_ledger::stats::{Period, Stats};
use dmf_registry::oversight::anomaly::{self, AlertsView};

use crate::App;
use crate::error::ApiError;
use crate::services::{blocking, registry_error};

/// The public statistics at the latest checkpoint, computed once per tree size and period.
pub async fn stats(app: &Arc<App>, period: Period) -> Result<Arc<Stats>, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let files = dmf_ledger::log::LogFiles::open(&app2.dir).map_err(ApiError::internal)?;
        let size = dmf_ledger::publish::latest(&files)
            .map_err(registry_error)?
            .checkpoint
            .size;
        let cached = app2
            .stats_cache
            .lock()
            .expect("stats cache")
            .iter()
            .find(|(s, p, _)| *s == size && *p == period.name())
            .map(|(_, _, v)| v.clone());
        if let Some(v) = cached {
            return Ok(v);
        }
        let stats = Arc::new(
            dmf_ledger::publish::stats(app2.registry.ledger(), period).map_err(registry_error)?,
        );
        let mut cache = app2.stats_cache.lock().expect("stats cache");
        cache.retain(|(s, _, _)| *s == stats.tree_size);
        cache.push((stats.tree_size, period.name(), stats.clone()));
        Ok(stats)
    })
    .await
}

/// The intake anomaly alerts at the current head, computed once per head.
pub async fn alerts(app: &Arc<App>) -> Result<Arc<AlertsView>, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let head = app2.index.read().expect("index lock").head;
        if let Some((at, v)) = app2.alerts_cache.lock().expect("alerts cache").as_ref()
            && *at == head
        {
            return Ok(v.clone());
        }
        // The index is locked per lookup, not for the whole scan: writers go on meanwhile.
        let lookup = |ssn, seq| {
            let index = app2.index.read().expect("index lock");
            anomaly::known_in(index.get(ssn), seq)
        };
        let v = Arc::new(
            anomaly::alerts_view(
                &app2.registry,
                &lookup,
                head,
                &app2.config.alert_thresholds,
                app2.today().year(),
            )
            .map_err(ApiError::internal)?,
        );
        *app2.alerts_cache.lock().expect("alerts cache") = Some((head, v.clone()));
        Ok(v)
    })
    .await
}

/// The quality report over the current state.
pub async fn quality(
    app: &Arc<App>,
    cfg: dmf_registry::oversight::quality::QualityConfig,
) -> Result<dmf_registry::oversight::quality::QualityReport, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let received = dmf_registry::oversight::quality::received_in(&app2.registry);
        let index = app2.index.read().expect("index lock");
        Ok(dmf_registry::oversight::quality::report(
            &index, &cfg, &received,
        ))
    })
    .await
}
