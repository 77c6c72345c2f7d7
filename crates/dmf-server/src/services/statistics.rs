//! The public statistics and intake alerts, and the quality reports for oversight.
//!
//! Counted from the first event they take seconds at a million people, so both are carried on
//! from what was read before: statistics count only the leaves after the tree size
//! they were last counted at (still checked against the signed root), and alerts read only the
//! events after the last one read. Each, and the quality report (a scan of the answer index),
//! is kept for the tree size or event head it is for, so a page with nothing new computes
//! nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dmf_ledger::publish::RunningStats;
use dmf_ledger::stats::{Period, Stats};
use dmf_registry::oversight::anomaly::{self, AlertsView, Intake};
use dmf_registry::oversight::quality::{QualityConfig, QualityReport};

use crate::App;
use crate::error::ApiError;
use crate::services::{blocking, registry_error};

/// The statistics of one period as last counted, and the count to carry on from.
#[derive(Debug)]
struct Kept {
    running: RunningStats,
    stats: Option<Arc<Stats>>,
}

impl Kept {
    fn new(period: Period) -> Mutex<Kept> {
        Mutex::new(Kept {
            running: RunningStats::new(period),
            stats: None,
        })
    }
}

/// What the statistics and alerts keep between requests, and how much they have read.
#[derive(Debug)]
pub(crate) struct Oversight {
    day: Mutex<Kept>,
    month: Mutex<Kept>,
    /// The reports and notices read so far, for the alerts.
    intake: Mutex<Intake>,
    /// The alerts as last computed, with the event head they are for.
    pub(crate) alerts: Mutex<Option<(u64, Arc<AlertsView>)>>,
    /// The quality report last made, with its settings (the console's, most of the time).
    quality: Mutex<Option<(QualityConfig, QualityReport)>>,
    /// Leaves read to count statistics (both periods), since the server started.
    pub(crate) leaves_read: AtomicU64,
    /// Events read for the alerts, since the server started.
    pub(crate) events_read: AtomicU64,
}

impl Default for Oversight {
    fn default() -> Oversight {
        Oversight {
            day: Kept::new(Period::Day),
            month: Kept::new(Period::Month),
            intake: Mutex::new(Intake::new()),
            alerts: Mutex::new(None),
            quality: Mutex::new(None),
            leaves_read: AtomicU64::new(0),
            events_read: AtomicU64::new(0),
        }
    }
}

impl Oversight {
    /// The lines `/metrics` adds: how much statistics and alerts have read.
    pub(crate) fn render(&self) -> String {
        let leaves = self.leaves_read.load(Ordering::Relaxed);
        let events = self.events_read.load(Ordering::Relaxed);
        format!(
            "# HELP dmf_stats_leaves_read_total Leaves read to count the public statistics (each period counts on from its last count).\n\
             # TYPE dmf_stats_leaves_read_total counter\ndmf_stats_leaves_read_total {leaves}\n\
             # HELP dmf_alerts_events_read_total Events read for the intake alerts (each read once).\n\
             # TYPE dmf_alerts_events_read_total counter\ndmf_alerts_events_read_total {events}\n"
        )
    }
}

/// The public statistics at the latest checkpoint: counted on from the last count, once per
/// tree size and period.
pub async fn stats(app: &Arc<App>, period: Period) -> Result<Arc<Stats>, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let kept = match period {
            Period::Day => &app2.oversight.day,
            Period::Month => &app2.oversight.month,
        };
        // Held while counting: a second request for the same period waits and finds it counted.
        let mut kept = kept.lock().expect("statistics");
        let files = dmf_ledger::log::LogFiles::open(&app2.dir).map_err(ApiError::internal)?;
        let signed = dmf_ledger::publish::latest(&files).map_err(registry_error)?;
        let root = dmf_ledger::log::base64_hash(&signed.checkpoint.root);
        if let Some(s) = &kept.stats
            && s.tree_size == signed.checkpoint.size
            && s.root == root
        {
            return Ok(s.clone());
        }
        let counted = dmf_ledger::publish::stats_since(app2.registry.ledger(), &mut kept.running)
            .map_err(registry_error)?;
        app2.oversight
            .leaves_read
            .fetch_add(counted.leaves_read, Ordering::Relaxed);
        let stats = Arc::new(counted.stats);
        kept.stats = Some(stats.clone());
        Ok(stats)
    })
    .await
}

/// The intake anomaly alerts at the current head: the events after the last one read are
/// read, and what the registry knows of each report's person is looked up afresh, once per
/// head.
pub async fn alerts(app: &Arc<App>) -> Result<Arc<AlertsView>, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let cached = |head| {
            let kept = app2.oversight.alerts.lock().expect("alerts");
            kept.as_ref()
                .filter(|(at, _)| *at == head)
                .map(|(_, v)| v.clone())
        };
        let head = app2.index.read().expect("index lock").head;
        if let Some(v) = cached(head) {
            return Ok(v);
        }
        // Held while reading: a second request waits and finds the alerts computed.
        let mut intake = app2.oversight.intake.lock().expect("intake");
        let head = app2.index.read().expect("index lock").head;
        if let Some(v) = cached(head) {
            return Ok(v);
        }
        let read = intake.read_to(&app2.registry, head);
        let read = read.map_err(ApiError::internal)?;
        app2.oversight
            .events_read
            .fetch_add(read, Ordering::Relaxed);
        // The index is locked per lookup, not for them all: writers go on meanwhile.
        let lookup = |ssn, seq| {
            let index = app2.index.read().expect("index lock");
            anomaly::known_in(index.get(ssn), seq)
        };
        let v = Arc::new(anomaly::alerts_view_of(
            &intake,
            &lookup,
            head,
            &app2.config.alert_thresholds,
            app2.today().year(),
        ));
        *app2.oversight.alerts.lock().expect("alerts") = Some((head, v.clone()));
        Ok(v)
    })
    .await
}

/// The quality report over the current state: a scan of the answer index, kept for the event
/// head and settings it was made with.
pub async fn quality(app: &Arc<App>, cfg: QualityConfig) -> Result<QualityReport, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let received = dmf_registry::oversight::quality::received_in(&app2.registry);
        let index = app2.index.read().expect("index lock");
        let mut kept = app2.oversight.quality.lock().expect("quality");
        if let Some((c, r)) = kept.as_ref()
            && *c == cfg
            && r.head == index.head
        {
            return Ok(r.clone());
        }
        let report = dmf_registry::oversight::quality::report(&index, &cfg, &received);
        *kept = Some((cfg, report.clone()));
        Ok(report)
    })
    .await
}
