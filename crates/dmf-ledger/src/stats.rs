//! Oversight statistics: events counted by period, type, source kind, origin, status or
//! correction kind, issuing authority, legal basis and contest decision, from the public leaves
//! alone, so that anyone holding an export can recount them and check them against a signed
//! checkpoint.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The length of a statistics period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Month,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }

    /// The period of a leaf time `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    fn of(self, time: &str) -> Option<&str> {
        let len = match self {
            Period::Day => 10,
            Period::Month => 7,
        };
        time.get(..len)
    }
}

/// One row: how many events of one combination were logged in one period. Its fields are the
/// leaves' (`origin` is an event's, as in its leaf), none named as a field of [`Stats`] is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Row {
    /// The period counted: its day (`YYYY-MM-DD`) or month (`YYYY-MM`). Read as `period` too,
    /// the name statistics published before gave it.
    #[serde(alias = "period")]
    pub date: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: Option<String>,
    pub origin: Option<String>,
    pub kind: Option<String>,
    pub authority: Option<String>,
    pub legal_basis: Option<String>,
    /// `upheld` or `denied` for a contest decision. Left out when absent, so that statistics
    /// of logs without decisions read exactly as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    pub count: u64,
}

impl Row {
    /// The row of `count` leaves under `key`.
    pub fn of(key: RowKey, count: u64) -> Row {
        let (date, event_type, source, origin, kind, authority, legal_basis, decision) = key;
        Row {
            date,
            event_type,
            source,
            origin,
            kind,
            authority,
            legal_basis,
            decision,
            count,
        }
    }
}

/// Statistics tied to the tree they were counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// The origin of the log counted, as its checkpoints name it. Read as `origin` too, the
    /// name statistics published before gave it.
    #[serde(alias = "origin")]
    pub log_origin: String,
    pub period: Period,
    /// The leaves counted: the first `tree_size` events.
    pub tree_size: u64,
    /// The root of the tree of that size, base64, as in its checkpoint.
    pub root: String,
    pub rows: Vec<Row>,
}

/// The clear fields of a leaf that statistics count.
#[derive(Debug, Deserialize)]
struct LeafView {
    v: u32,
    seq: u64,
    #[serde(rename = "type")]
    event_type: String,
    time: String,
    source: Option<String>,
    origin: Option<String>,
    kind: Option<String>,
    authority: Option<String>,
    legal_basis: Option<String>,
    decision: Option<String>,
}

/// A leaf that statistics cannot count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("leaf {index}: {reason}")]
pub struct LeafFormatError {
    pub index: u64,
    pub reason: String,
}

/// A row's key: the period, the event type and the clear fields, in the order of [`Row`].
pub type RowKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Counts leaves in order. Cloned to keep a count at one tree size and carry it on to a larger.
#[derive(Debug, Clone)]
pub struct Counter {
    period: Period,
    leaves: u64,
    counts: BTreeMap<RowKey, u64>,
}

impl Counter {
    pub fn new(period: Period) -> Counter {
        Counter {
            period,
            leaves: 0,
            counts: BTreeMap::new(),
        }
    }

    /// Counts the next leaf (leaf data, as logged).
    pub fn add(&mut self, leaf: &[u8]) -> Result<(), LeafFormatError> {
        let index = self.leaves;
        let bad = |reason: String| LeafFormatError { index, reason };
        let view: LeafView = serde_json::from_slice(leaf).map_err(|e| bad(e.to_string()))?;
        if view.v != crate::leaf::LEAF_VERSION {
            return Err(bad(format!("unknown leaf version {}", view.v)));
        }
        if view.seq != index + 1 {
            return Err(bad(format!(
                "holds event {}, expected {}",
                view.seq,
                index + 1
            )));
        }
        let period = self
            .period
            .of(&view.time)
            .ok_or_else(|| bad(format!("malformed time {:?}", view.time)))?
            .to_owned();
        let key = (
            period,
            view.event_type,
            view.source,
            view.origin,
            view.kind,
            view.authority,
            view.legal_basis,
            view.decision,
        );
        *self.counts.entry(key).or_default() += 1;
        self.leaves += 1;
        Ok(())
    }

    pub fn leaves(&self) -> u64 {
        self.leaves
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn finish(self, origin: &str, root: &dmf_log::Hash) -> Stats {
        self.stats(origin, root)
    }

    /// The statistics counted so far, the count going on.
    pub fn stats(&self, origin: &str, root: &dmf_log::Hash) -> Stats {
        Stats {
            log_origin: origin.to_owned(),
            period: self.period,
            tree_size: self.leaves,
            root: crate::log::base64_hash(root),
            rows: self
                .counts
                .iter()
                .map(|(key, &count)| Row::of(key.clone(), count))
                .collect(),
        }
    }
}
