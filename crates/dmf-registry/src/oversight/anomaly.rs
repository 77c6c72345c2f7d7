//! Intake anomaly detection: each day's new deaths (or notices) from one source kind or issuing
//! authority, compared with that group's own recent history and with what the life tables
//! predict. A day far above the usual volume, or whose people are far younger than deaths are,
//! raises an alert: the pattern of a bulk change that writes living people in as dead.
//!
//! A day whose share of reports held for their identity is far above the group's own share is
//! an alert too: a list with the wrong people on it names people who do not match.
//!
//! [`detect`] is pure; [`observations_of`] reads the observations from a registry's events
//! (through an [`Intake`], which a server keeps and reads on from as events come), and the
//! life-table prediction comes from the shipped tables.

use std::collections::BTreeMap;

use dmf_model::{Date, PartialDate, Ssn};
use dmf_store::Seq;

use crate::codec::decode;
use crate::registry::{Registry, RegistryError};
use crate::state::{HoldReason, PersonState};

/// One new death (or notice) as the detector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub day: Date,
    /// `source:state`, `authority:DHS USCIS`, …
    pub group: String,
    /// Age in whole years at death (or at the notice), when the date of birth is known.
    pub age: Option<u16>,
    /// Held for its identity, and why (it changed nothing).
    pub held: Option<HoldReason>,
}

/// What the detector needs to know of the person a report or notice named: the date of birth
/// on file, and whether that report or notice (by its sequence number) was held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Known {
    pub dob: Option<PartialDate>,
    pub held: Option<HoldReason>,
}

/// What a person's state says of the report or notice `seq`.
pub fn known_in(state: Option<&PersonState>, seq: Seq) -> Known {
    let Some(s) = state else {
        return Known::default();
    };
    Known {
        dob: s.identity.and_then(|i| i.dob),
        held: s.held().iter().find(|h| h.seq == seq).map(|h| h.reason),
    }
}

/// How a registry's people are looked up for the detector: by SSN and the event's number.
pub type Lookup<'a> = dyn Fn(Ssn, Seq) -> Known + 'a;

/// Thresholds of the detector.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Days of history a day is compared with.
    pub window_days: i32,
    /// A group needs this many days of history before its volume is judged against it…
    pub min_history_days: i32,
    /// …until then only a day of at least this many is an alert.
    pub new_group_volume: u64,
    /// Standard deviations above the usual daily count (Poisson-floored) for an alert…
    pub volume_z: f64,
    /// …and at least this many on the day.
    pub min_volume: u64,
    /// Deaths below this age are "young" for the age test.
    pub young_age: u16,
    /// The share of deaths below `young_age` the life tables predict, when a group's own
    /// history has too few ages to go by.
    pub expected_young_share: f64,
    /// Standard errors above the expected young share for an alert…
    pub age_z: f64,
    /// …with at least this many ages on the day, and a share this much above expected.
    pub age_min_n: usize,
    pub age_min_excess: f64,
    /// The share of a group's reports held for their identity, when its own history has too
    /// few to go by.
    pub expected_held_share: f64,
    /// Standard errors above the expected held share for an alert…
    pub held_z: f64,
    /// …with at least this many held on the day, and a share this much above expected.
    pub held_min: u64,
    pub held_min_excess: f64,
}

impl DetectorConfig {
    /// The defaults, with the young share the life tables predict for deaths in `year`.
    pub fn for_year(year: u16) -> DetectorConfig {
        DetectorConfig {
            window_days: 28,
            min_history_days: 7,
            new_group_volume: 1_000,
            volume_z: 6.0,
            min_volume: 50,
            young_age: 65,
            expected_young_share: expected_young_share(65, year),
            age_z: 6.0,
            age_min_n: 30,
            age_min_excess: 0.15,
            expected_held_share: 0.02,
            held_z: 6.0,
            held_min: 20,
            held_min_excess: 0.10,
        }
    }
}

/// Thresholds an operator sets, each replacing its default in [`DetectorConfig::for_year`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thresholds {
    pub window_days: Option<i32>,
    pub new_group_volume: Option<u64>,
    pub volume_z: Option<f64>,
    pub min_volume: Option<u64>,
    /// Changing the young age also changes the share the life tables predict below it.
    pub young_age: Option<u16>,
    pub age_z: Option<f64>,
    pub age_min_n: Option<usize>,
    pub age_min_excess: Option<f64>,
    pub held_z: Option<f64>,
    pub held_min: Option<u64>,
    pub held_min_excess: Option<f64>,
}

impl Thresholds {
    /// The detector for deaths in `year`, with these thresholds over the defaults.
    pub fn config(&self, year: u16) -> DetectorConfig {
        let mut c = DetectorConfig::for_year(year);
        if let Some(v) = self.window_days {
            c.window_days = v;
            c.min_history_days = c.min_history_days.min(v);
        }
        if let Some(v) = self.young_age {
            c.young_age = v;
            c.expected_young_share = expected_young_share(v, year);
        }
        c.new_group_volume = self.new_group_volume.unwrap_or(c.new_group_volume);
        c.volume_z = self.volume_z.unwrap_or(c.volume_z);
        c.min_volume = self.min_volume.unwrap_or(c.min_volume);
        c.age_z = self.age_z.unwrap_or(c.age_z);
        c.age_min_n = self.age_min_n.unwrap_or(c.age_min_n);
        c.age_min_excess = self.age_min_excess.unwrap_or(c.age_min_excess);
        c.held_z = self.held_z.unwrap_or(c.held_z);
        c.held_min = self.held_min.unwrap_or(c.held_min);
        c.held_min_excess = self.held_min_excess.unwrap_or(c.held_min_excess);
        c
    }
}

/// What kind of difference raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Far more than the group's usual daily volume.
    Volume,
    /// Far younger than deaths are.
    Age,
    /// Far more of them held for their identity than the group's usual share: people named
    /// who are not the people on file under their SSNs.
    Mismatch,
}

impl AlertKind {
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Volume => "volume",
            AlertKind::Age => "age",
            AlertKind::Mismatch => "identity_mismatch",
        }
    }
}

/// One day of one group unlike what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub day: Date,
    pub group: String,
    pub kind: AlertKind,
    pub count: u64,
    pub median_age: Option<u16>,
    /// What was observed against what was expected, in words.
    pub detail: String,
}

#[derive(Debug, Default, Clone)]
struct Day {
    count: u64,
    ages: Vec<u16>,
    held: u64,
}

fn median(ages: &mut [u16]) -> Option<u16> {
    if ages.is_empty() {
        return None;
    }
    ages.sort_unstable();
    Some(ages[ages.len() / 2])
}

/// Alerts for every day and group in `observations`, in order of day and group.
pub fn detect(observations: &[Observation], cfg: &DetectorConfig) -> Vec<Alert> {
    let mut groups: BTreeMap<&str, BTreeMap<i32, Day>> = BTreeMap::new();
    for o in observations {
        let day = groups
            .entry(o.group.as_str())
            .or_default()
            .entry(o.day.days_since_epoch())
            .or_default();
        day.count += 1;
        day.ages.extend(o.age);
        day.held += u64::from(o.held.is_some());
    }
    let mut alerts = Vec::new();
    for (group, days) in &groups {
        let Some(&first) = days.keys().next() else {
            continue;
        };
        for (&d, today) in days {
            let history: Vec<u64> = ((d - cfg.window_days).max(first)..d)
                .map(|h| days.get(&h).map_or(0, |x| x.count))
                .collect();
            let mut ages = today.ages.clone();
            let median_age = median(&mut ages);
            let date = Date::from_days_since_epoch(d).expect("a day that was a date");
            let mut raise = |kind, detail: String| {
                alerts.push(Alert {
                    day: date,
                    group: (*group).to_owned(),
                    kind,
                    count: today.count,
                    median_age,
                    detail,
                })
            };
            // Volume against the group's own recent days.
            if history.len() as i32 >= cfg.min_history_days {
                let n = history.len() as f64;
                let mean = history.iter().sum::<u64>() as f64 / n;
                let var = history
                    .iter()
                    .map(|&c| (c as f64 - mean).powi(2))
                    .sum::<f64>()
                    / n;
                // Counts are at least Poisson-noisy, however steady the history looked.
                let sd = var.sqrt().max(mean.sqrt()).max(1.0);
                let z = (today.count as f64 - mean) / sd;
                if z >= cfg.volume_z && today.count >= cfg.min_volume {
                    raise(
                        AlertKind::Volume,
                        format!(
                            "{} on the day against a usual {mean:.0} ± {sd:.0} ({z:.1} standard deviations)",
                            today.count
                        ),
                    );
                }
            } else if today.count >= cfg.new_group_volume {
                raise(
                    AlertKind::Volume,
                    format!(
                        "{} on the day from a group with {} days of history",
                        today.count,
                        history.len()
                    ),
                );
            }
            // Age against the group's own history, or the life tables when it has too little.
            if ages.len() >= cfg.age_min_n {
                let young = |a: &u16| *a < cfg.young_age;
                let past: Vec<u16> = ((d - 90).max(first)..d)
                    .filter_map(|h| days.get(&h))
                    .flat_map(|x| x.ages.iter().copied())
                    .collect();
                let expected = if past.len() >= 200 {
                    past.iter().filter(|a| young(a)).count() as f64 / past.len() as f64
                } else {
                    cfg.expected_young_share
                };
                let n = ages.len() as f64;
                let share = ages.iter().filter(|a| young(a)).count() as f64 / n;
                let p = expected.clamp(0.01, 0.99);
                let z = (share - p) / (p * (1.0 - p) / n).sqrt();
                if z >= cfg.age_z && share - p >= cfg.age_min_excess {
                    raise(
                        AlertKind::Age,
                        format!(
                            "{:.0}% under {} against an expected {:.0}% (median age {}, {z:.1} standard errors)",
                            share * 100.0,
                            cfg.young_age,
                            p * 100.0,
                            median_age.map_or("unknown".into(), |m| m.to_string())
                        ),
                    );
                }
            }
            // Held for their identity against the group's own share, or a small default one.
            if today.held >= cfg.held_min {
                let (past_n, past_held) = ((d - 90).max(first)..d)
                    .filter_map(|h| days.get(&h))
                    .fold((0u64, 0u64), |(n, k), x| (n + x.count, k + x.held));
                let expected = if past_n >= 200 {
                    past_held as f64 / past_n as f64
                } else {
                    cfg.expected_held_share
                };
                let n = today.count as f64;
                let share = today.held as f64 / n;
                let p = expected.clamp(0.005, 0.99);
                let z = (share - p) / (p * (1.0 - p) / n).sqrt();
                if z >= cfg.held_z && share - p >= cfg.held_min_excess {
                    raise(
                        AlertKind::Mismatch,
                        format!(
                            "{} of {} ({:.0}%) held for their identity against a usual {:.1}% ({z:.1} standard errors)",
                            today.held,
                            today.count,
                            share * 100.0,
                            p * 100.0
                        ),
                    );
                }
            }
        }
    }
    alerts.sort_by(|a, b| (a.day, &a.group).cmp(&(b.day, &b.group)));
    alerts
}

/// The share of deaths in `year` at ages below `age` that the life tables predict.
pub fn expected_young_share(age: u16, year: u16) -> f64 {
    let d = age_at_death(year);
    let all: f64 = d.iter().sum();
    if all > 0.0 {
        d[..age as usize].iter().sum::<f64>() / all
    } else {
        0.25
    }
}

/// Deaths in `year` by age (0-119), in proportion, as the shipped cohort life tables predict for
/// the population of SSN applicants: deaths at age a come from the cohort born in year − a, in
/// proportion to its size, its survivors to a, and q(a).
pub fn age_at_death(year: u16) -> Vec<f64> {
    let tables = dmf_data::life_tables();
    let cohorts = tables.cohorts().to_vec();
    let mut out = vec![0.0; dmf_data::LifeTables::AGES];
    for (born, sex, n) in dmf_data::applicants() {
        let Some(at) = year.checked_sub(born).map(usize::from) else {
            continue;
        };
        if at >= dmf_data::LifeTables::AGES {
            continue;
        }
        // The nearest tabled cohort (they are ten years apart).
        let Some(&cohort) = cohorts.iter().min_by_key(|c| c.abs_diff(born)) else {
            continue;
        };
        let Some(qx) = tables.qx(cohort, sex) else {
            continue;
        };
        let survivors: f64 = qx[..at].iter().map(|q| 1.0 - q).product();
        out[at] += n as f64 * survivors * qx[at];
    }
    out
}

/// Every death report submitted (not imported from an earlier master file) and every status
/// notice of a registry as an observation: the day the registry recorded it, its source kind or
/// issuing authority, the person's age then (from the report, or from the date of birth on file), and
/// whether it was held for its identity. One pass over the events.
pub fn observations_of(
    registry: &Registry,
    lookup: &Lookup<'_>,
) -> Result<Vec<Observation>, RegistryError> {
    observations_upto(registry, lookup, u64::MAX)
}

/// As [`observations_of`], for the events up to `upto` only (a signed tree size).
pub fn observations_upto(
    registry: &Registry,
    lookup: &Lookup<'_>,
    upto: u64,
) -> Result<Vec<Observation>, RegistryError> {
    let mut intake = Intake::new();
    intake.read_to(registry, upto)?;
    Ok(intake.observations(lookup))
}

/// One report or notice of the intake, as its event says it: nothing a later event changes.
#[derive(Debug, Clone, Copy)]
struct Item {
    seq: Seq,
    ssn: Ssn,
    /// The day the registry recorded it.
    day: Date,
    /// Index into [`Intake::groups`].
    group: u32,
    /// The date of birth the report gave, used when the person on file has none (a notice's
    /// is not used).
    claimed_dob: Option<PartialDate>,
    /// The day the age is counted at: the earliest date of death, or the notice's effective day.
    at: Date,
}

/// The death reports submitted and the status notices of a registry's events, read once and
/// carried on: reading to a later event reads only the events after the last one read.
///
/// Only what the events say is kept. What the registry knows of each person (the date of
/// birth on file, whether the report or notice was held) is looked up when the observations
/// are made, as a later event may change it for an earlier report.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    /// The last event read.
    upto: Seq,
    items: Vec<Item>,
    /// Source kinds and authorities as `source:state`, `authority:DHS USCIS`, …
    groups: Vec<String>,
}

impl Intake {
    /// Nothing read yet.
    pub fn new() -> Intake {
        Intake::default()
    }

    /// The last event read.
    pub fn upto(&self) -> Seq {
        self.upto
    }

    /// Reports and notices read.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Reads the events after the last one read, up to `to` (all there are when fewer), and
    /// returns how many it read. Asked for less than was read (a store restored to an earlier
    /// point), it reads again from the first event. On an error it keeps what it read before the
    /// event in error.
    pub fn read_to(&mut self, registry: &Registry, to: Seq) -> Result<u64, RegistryError> {
        use crate::event::Event;
        if to < self.upto {
            *self = Intake::new();
        }
        let mut read = 0;
        while self.upto < to {
            let limit = (to - self.upto).min(50_000) as usize;
            let page = registry.store().read_after(self.upto, limit)?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if e.kind == "death_report" || e.kind == "status_notice" {
                    let event = decode(&e.kind, &e.body)
                        .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                    // The day the registry recorded it: a caller's dates are evidence, and a bulk
                    // sent in one request but dated over many days is one day's intake.
                    let recorded = crate::registry::day_of_ms(e.recorded_at);
                    let item = match (event, recorded) {
                        // Records imported from an earlier master file are its history, not intake.
                        // An amendment is a report counted once already.
                        (Event::DeathReport(r), _)
                            if r.origin != crate::event::Origin::Submitted
                                || r.supersedes.is_some() =>
                        {
                            None
                        }
                        (Event::DeathReport(r), Some(day)) => {
                            let subject = r.report.subject();
                            Some((
                                format!("source:{}", r.report.source().code()),
                                subject.ssn,
                                day,
                                subject.dob,
                                r.report.dod().earliest(),
                            ))
                        }
                        (Event::StatusNotice(n), Some(day)) => Some((
                            format!("authority:{}", n.notice.authority.as_str()),
                            n.notice.subject.ssn,
                            day,
                            None,
                            n.notice.effective,
                        )),
                        _ => None,
                    };
                    if let Some((group, ssn, day, claimed_dob, at)) = item {
                        let group = self.group(group);
                        self.items.push(Item {
                            seq: e.seq,
                            ssn,
                            day,
                            group,
                            claimed_dob,
                            at,
                        });
                    }
                }
                self.upto = e.seq;
                read += 1;
            }
        }
        Ok(read)
    }

    fn group(&mut self, name: String) -> u32 {
        match self.groups.iter().position(|g| *g == name) {
            Some(i) => i as u32,
            None => {
                self.groups.push(name);
                (self.groups.len() - 1) as u32
            }
        }
    }

    /// The reports and notices read as observations, with what `lookup` says of each person now.
    pub fn observations(&self, lookup: &Lookup<'_>) -> Vec<Observation> {
        let age = |dob: Option<PartialDate>, at: Date| {
            let years = at.years_since(dob?.earliest());
            u16::try_from(years).ok()
        };
        self.items
            .iter()
            .map(|i| {
                let known = lookup(i.ssn, i.seq);
                Observation {
                    day: i.day,
                    group: self.groups[i.group as usize].clone(),
                    // The person on file's date of birth, not the reporter's: a held report may
                    // name someone else.
                    age: age(known.dob.or(i.claimed_dob), i.at),
                    held: known.held,
                }
            })
            .collect()
    }
}

/// Reports and notices held for their identity, counted by group and reason.
pub fn held_counts(observations: &[Observation]) -> BTreeMap<(String, HoldReason), u64> {
    let mut counts = BTreeMap::new();
    for o in observations {
        if let Some(reason) = o.held {
            *counts.entry((o.group.clone(), reason)).or_insert(0) += 1;
        }
    }
    counts
}

/// The held counts as rows `{group, reason, count}`.
pub fn held_rows(observations: &[Observation]) -> Vec<HeldRow> {
    held_counts(observations)
        .into_iter()
        .map(|((group, reason), count)| HeldRow {
            group,
            reason: reason.code(),
            count,
        })
        .collect()
}

/// [`held_rows`] as JSON.
pub fn held_json(observations: &[Observation]) -> serde_json::Value {
    serde_json::to_value(held_rows(observations)).unwrap_or_default()
}

/// Reports and notices held for their identity: how many of one group, for one reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct HeldRow {
    pub group: String,
    pub reason: &'static str,
    pub count: u64,
}

/// The alerts up to a signed tree size, with the reports and notices held for their identity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Alerts")]
pub struct AlertsView {
    /// The tree size the alerts were computed at.
    pub tree_size: u64,
    /// The events observed (death reports and status notices).
    pub observations: usize,
    pub alerts: Vec<AlertView>,
    pub held: Vec<HeldRow>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct AlertView {
    pub day: String,
    pub group: String,
    pub kind: &'static str,
    pub count: u64,
    pub median_age: Option<u16>,
    pub detail: String,
    pub tree_size: u64,
}

/// Every alert up to a signed tree size, as the public export and `GET /v1/alerts` give them,
/// with the reports and notices held for their identity by group and reason.
pub fn alerts_view(
    registry: &Registry,
    lookup: &Lookup<'_>,
    tree_size: u64,
    thresholds: &Thresholds,
    fallback_year: u16,
) -> Result<AlertsView, RegistryError> {
    let mut intake = Intake::new();
    intake.read_to(registry, tree_size)?;
    Ok(alerts_view_of(
        &intake,
        lookup,
        tree_size,
        thresholds,
        fallback_year,
    ))
}

/// [`alerts_view`] from the intake read up to `tree_size` (see [`Intake::read_to`]), looking
/// up what the registry knows now of each person.
pub fn alerts_view_of(
    intake: &Intake,
    lookup: &Lookup<'_>,
    tree_size: u64,
    thresholds: &Thresholds,
    fallback_year: u16,
) -> AlertsView {
    let observations = intake.observations(lookup);
    let year = observations.last().map_or(fallback_year, |o| o.day.year());
    let found = detect(&observations, &thresholds.config(year));
    AlertsView {
        tree_size,
        observations: observations.len(),
        alerts: found.iter().map(|a| a.view(tree_size)).collect(),
        held: held_rows(&observations),
    }
}

/// [`alerts_view`] as JSON.
pub fn alerts_json(
    registry: &Registry,
    lookup: &Lookup<'_>,
    tree_size: u64,
    thresholds: &Thresholds,
    fallback_year: u16,
) -> Result<serde_json::Value, RegistryError> {
    let view = alerts_view(registry, lookup, tree_size, thresholds, fallback_year)?;
    Ok(serde_json::to_value(view).unwrap_or_default())
}

impl Alert {
    /// The alert as shown, with the tree size it was computed at.
    pub fn view(&self, tree_size: u64) -> AlertView {
        AlertView {
            day: self.day.to_string(),
            group: self.group.clone(),
            kind: self.kind.code(),
            count: self.count,
            median_age: self.median_age,
            detail: self.detail.clone(),
            tree_size,
        }
    }

    /// The alert as JSON, with the tree size it was computed at.
    pub fn to_json(&self, tree_size: u64) -> serde_json::Value {
        serde_json::to_value(self.view(tree_size)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
