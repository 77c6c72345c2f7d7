//! Counters for `/metrics`, in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests by route and status class, answers and submissions.
#[derive(Debug, Default)]
pub struct Metrics {
    pub verifications: AtomicU64,
    pub batch_records: AtomicU64,
    pub submissions_accepted: AtomicU64,
    pub submissions_rejected: AtomicU64,
    pub errors_4xx: AtomicU64,
    pub errors_5xx: AtomicU64,
    pub requests: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The exposition text; `people` and `head` are gauges read by the caller.
    pub fn render(&self, people: usize, head: u64, tree_size: u64) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        };
        counter(
            "dmf_requests_total",
            "HTTP requests served.",
            &self.requests,
        );
        counter(
            "dmf_verifications_total",
            "Single verification answers given.",
            &self.verifications,
        );
        counter(
            "dmf_batch_records_total",
            "Records answered in batch verifications.",
            &self.batch_records,
        );
        counter(
            "dmf_submissions_accepted_total",
            "Submissions stored: reports, notices, corrections, reviews and identity changes.",
            &self.submissions_accepted,
        );
        counter(
            "dmf_submissions_rejected_total",
            "Submissions refused by the rules of the registry.",
            &self.submissions_rejected,
        );
        counter(
            "dmf_client_errors_total",
            "Responses with a 4xx status.",
            &self.errors_4xx,
        );
        counter(
            "dmf_server_errors_total",
            "Responses with a 5xx status.",
            &self.errors_5xx,
        );
        for (name, help, v) in [
            ("dmf_people", "People in the answer index.", people as u64),
            ("dmf_events", "Events in the store.", head),
            (
                "dmf_log_tree_size",
                "Leaves of the latest signed checkpoint.",
                tree_size,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
