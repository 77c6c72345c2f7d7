//! What one pass reports: as JSON (one object a pass) or as text (one line a finding, its
//! evidence indented below it, one line an alert, and a summary line).

use std::fmt::Write as _;

use dmf_ledger::stats::Stats;
use dmf_registry::oversight::anomaly::AlertView;
use serde::Serialize;

use crate::finding::{Finding, Status};

/// Why the age-mix test of the intake detector does not run on public data.
pub const AGE_TEST: &str = "not run: leaves publish no ages (dates of birth and death are \
                            committed), so intake is judged on its volume only";

/// One URL's checkpoint as this pass saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlReport {
    pub url: String,
    /// Its checkpoint's size and root, when it served one signed by the log.
    pub size: Option<u64>,
    pub root: Option<String>,
    /// The required witnesses whose cosignatures verified.
    pub cosigned: Vec<String>,
    /// Signed, cosigned as required.
    pub trusted: bool,
}

/// One pass.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The log's origin.
    pub log: String,
    /// The tree verified after the pass.
    pub size: u64,
    pub root: String,
    /// The URL whose entries extended the tree in this pass.
    pub read_from: Option<String>,
    /// The witnesses that cosigned the checkpoint verified.
    pub cosigned: Vec<String>,
    /// Whether any cosignature is required.
    pub witnesses_required: bool,
    pub urls: Vec<UrlReport>,
    pub leaves_read: u64,
    pub seconds: f64,
    pub findings: Vec<Finding>,
    /// Intake alerts of the days this pass added to.
    pub alerts: Vec<AlertView>,
    pub age_test: &'static str,
    /// The statistics per day recounted from every leaf of the verified tree.
    pub stats: Stats,
    pub status: Status,
    pub exit: u8,
}

impl Report {
    /// The report as text lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "{}: {}", f.kind.label(), f.message);
            for e in &f.evidence {
                let _ = writeln!(out, "    from {}:", e.from);
                for line in e.note.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
        for a in &self.alerts {
            let _ = write!(out, "ALERT: {} {} {}: {}", a.day, a.group, a.kind, a.detail);
            // A volume alert's words start with the day's count; the others' do not.
            if a.kind != "volume" {
                let _ = write!(out, " ({} on the day)", a.count);
            }
            out.push('\n');
        }
        let urls = self
            .urls
            .iter()
            .map(|u| u.url.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let cosigned = if self.cosigned.is_empty() {
            if self.witnesses_required {
                "no required witness cosigned".to_owned()
            } else {
                "no cosignature required".to_owned()
            }
        } else {
            format!("cosigned by {}", self.cosigned.join(", "))
        };
        let _ = writeln!(
            out,
            "{}: {urls}: {} leaves, root {}, {cosigned}; {} leaves read in {:.1} s; {} intake \
             alert{} (volume only: leaves publish no ages); exit {}",
            self.log,
            self.size,
            self.root,
            self.leaves_read,
            self.seconds,
            self.alerts.len(),
            if self.alerts.len() == 1 { "" } else { "s" },
            self.exit
        );
        out
    }
}
