//! The registry's own intake anomaly detector
//! (`dmf_registry::oversight::anomaly::detect`) run on observations formed from the public
//! leaves, for the days a pass added. Pure.
//!
//! Leaves publish no ages (dates of birth and death are committed) and not whether a report
//! was held for its identity, so each observation's `age` and `held` are `None`: the volume
//! test runs, the age-mix and identity-mismatch tests have nothing to judge.
//!
//! Only counts are kept, so observations are made again from them, a group and a stretch of
//! days at a time: the days judged and the detector's look-back before them, plus one
//! observation on the group's first day when that lies before the look-back (the detector
//! starts a group's history there, and no window of a judged day reaches it). The alerts of
//! the judged days are those `detect` gives on every observation ever made.

use std::collections::BTreeSet;

use dmf_model::Date;
use dmf_registry::oversight::anomaly::{Alert, DetectorConfig, Observation, Thresholds, detect};

use crate::counts::{Intake, NewDays};

/// How far back the detector looks from a day: its volume window, and 90 days for ages and
/// identity holds.
fn look_back(cfg: &DetectorConfig) -> i32 {
    cfg.window_days.max(90)
}

/// Days judged in one call of the detector, so that a catch-up over years holds a few
/// months of observations at a time.
const STRETCH: i32 = 64;

/// The alerts of the days in `new`, judged against everything in `intake` (which holds them).
pub fn alerts(intake: &Intake, new: &NewDays, thresholds: &Thresholds) -> Vec<Alert> {
    // One configuration for all, with the life tables' year of the latest day, as the
    // registry's `alerts_view_of` takes it.
    let Some(latest) = intake.values().filter_map(|d| d.keys().next_back()).max() else {
        return Vec::new();
    };
    let year = Date::from_days_since_epoch(*latest).map_or(2000, Date::year);
    let cfg = thresholds.config(year);
    let back = look_back(&cfg);
    let mut out = Vec::new();
    for (group, days) in new {
        let Some(history) = intake.get(group) else {
            continue;
        };
        let Some(&first) = history.keys().next() else {
            continue;
        };
        let judged: Vec<i32> = days.iter().copied().collect();
        let start = judged.first().copied().unwrap_or_default();
        let stretch_of = |d: &i32| (d - start) / STRETCH;
        for stretch in judged.chunk_by(|a, b| stretch_of(a) == stretch_of(b)) {
            let (from, to) = (stretch[0], stretch[stretch.len() - 1]);
            let wanted: BTreeSet<i32> = stretch.iter().copied().collect();
            let mut observations = Vec::new();
            let mut observe = |d: i32, n: u64| {
                if let Some(day) = Date::from_days_since_epoch(d) {
                    observations.extend((0..n).map(|_| Observation {
                        day,
                        group: group.clone(),
                        age: None,
                        held: None,
                    }));
                }
            };
            let lo = from - back;
            if first < lo {
                observe(first, 1);
            }
            for (&d, &n) in history.range(lo.max(first)..=to) {
                observe(d, n);
            }
            out.extend(
                detect(&observations, &cfg)
                    .into_iter()
                    .filter(|a| wanted.contains(&a.day.days_since_epoch())),
            );
        }
    }
    out.sort_by(|a, b| (a.day, &a.group).cmp(&(b.day, &b.group)));
    out
}
