//! What the monitor keeps of the leaves it has read: the statistics rows, per day, as
//! `dmf_ledger::stats::Counter` counts them, and the intake per group and day that the
//! registry's anomaly detector needs (counts only, never a leaf).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dmf_ledger::stats::{Period, Row, Stats};
use dmf_model::Date;
use serde::{Deserialize, Serialize};

use crate::tally::{Counted, Tally};

use dmf_ledger::stats::RowKey;

/// Intake days by group: `source:state` or `authority:DHS USCIS`, then days since 1970.
pub type Intake = BTreeMap<String, BTreeMap<i32, u64>>;

/// The days of intake a pass added to, by group.
pub type NewDays = BTreeMap<String, BTreeSet<i32>>;

/// One group's intake on one day, as the state file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeRow {
    pub group: String,
    pub day: String,
    pub count: u64,
}

/// The statistics and intake of the leaves read so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    rows: BTreeMap<RowKey, u64>,
    intake: Intake,
    leaves: u64,
}

/// The intake group and day of a counted combination, formed as the registry's
/// `Intake::read_to` forms them from events, but from what leaves show in clear: a death
/// report submitted (no clear `origin`: imports say `import` or `import_change`) that amends
/// nothing (no `supersedes` among its commitments) counts under its source kind, a status
/// notice under its issuing authority; the day is the UTC date of the leaf's time, and a time
/// outside the calendar the registry keeps counts nowhere, as there.
pub fn intake_group(c: &Counted) -> Option<(String, Date)> {
    let [source, origin, _, authority, _, _] = &c.fields;
    let group = match c.event_type.as_str() {
        "death_report" if origin.is_none() && !c.supersedes => {
            format!("source:{}", source.as_ref()?)
        }
        "status_notice" => format!("authority:{}", authority.as_ref()?),
        _ => return None,
    };
    Some((group, c.day.parse().ok()?))
}

impl Counts {
    pub fn new() -> Counts {
        Counts::default()
    }

    /// Leaves counted.
    pub fn leaves(&self) -> u64 {
        self.leaves
    }

    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// Adds a tally of the leaves after those counted; gives the intake days it added to.
    pub fn add(&mut self, tally: Tally) -> NewDays {
        let mut new = NewDays::new();
        self.leaves += tally.leaves();
        for (c, n) in tally.into_counts() {
            if let Some((group, day)) = intake_group(&c) {
                let d = day.days_since_epoch();
                *self
                    .intake
                    .entry(group.clone())
                    .or_default()
                    .entry(d)
                    .or_default() += n;
                new.entry(group).or_default().insert(d);
            }
            let [source, origin, kind, authority, legal_basis, decision] = c.fields;
            let key = (
                c.day,
                c.event_type,
                source,
                origin,
                kind,
                authority,
                legal_basis,
                decision,
            );
            *self.rows.entry(key).or_default() += n;
        }
        new
    }

    /// The rows, in the order of `dmf stats`.
    pub fn rows(&self) -> Vec<Row> {
        self.rows
            .iter()
            .map(|(key, &count)| Row::of(key.clone(), count))
            .collect()
    }

    /// The statistics per day, tied to the tree they were counted from.
    pub fn stats(&self, origin: &str, root: &dmf_log::Hash) -> Stats {
        Stats {
            log_origin: origin.to_owned(),
            period: Period::Day,
            tree_size: self.leaves,
            root: STANDARD.encode(root),
            rows: self.rows(),
        }
    }

    pub fn intake_rows(&self) -> Vec<IntakeRow> {
        self.intake
            .iter()
            .flat_map(|(group, days)| {
                days.iter().map(|(&d, &count)| IntakeRow {
                    group: group.clone(),
                    day: Date::from_days_since_epoch(d).map_or_else(String::new, |d| d.to_string()),
                    count,
                })
            })
            .collect()
    }

    /// Counts kept by an earlier pass.
    pub fn restore(leaves: u64, rows: Vec<Row>, intake: Vec<IntakeRow>) -> Result<Counts, String> {
        let mut counts = Counts {
            leaves,
            ..Counts::default()
        };
        for r in rows {
            let key = (
                r.date,
                r.event_type,
                r.source,
                r.origin,
                r.kind,
                r.authority,
                r.legal_basis,
                r.decision,
            );
            *counts.rows.entry(key).or_default() += r.count;
        }
        for r in intake {
            let day: Date = r
                .day
                .parse()
                .map_err(|e| format!("intake day {:?}: {e}", r.day))?;
            *counts
                .intake
                .entry(r.group)
                .or_default()
                .entry(day.days_since_epoch())
                .or_default() += r.count;
        }
        Ok(counts)
    }
}
