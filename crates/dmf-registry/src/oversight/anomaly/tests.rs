//! The detector on its own: a year of ordinary intake drawn from the life tables, and
//! planted bulks.

use rand::{RngExt, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Poisson};
use rand_pcg::Pcg64Mcg;

use super::{AlertKind, DetectorConfig, Observation, age_at_death, detect};
use dmf_model::Date;

const DAYS: i32 = 365;

/// A year of ordinary intake: each group's daily count Poisson around its rate, every age
/// drawn from what the life tables predict for deaths in 2026.
fn ordinary(seed: u64, groups: &[(&str, f64)]) -> Vec<Observation> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let ages = WeightedAliasIndex::new(age_at_death(2026)).unwrap();
    let start = Date::new(2026, 1, 1).unwrap().days_since_epoch();
    let mut out = Vec::new();
    for d in 0..DAYS {
        let day = Date::from_days_since_epoch(start + d).unwrap();
        for (group, rate) in groups {
            let n = Poisson::new(*rate).unwrap().sample(&mut rng) as u64;
            for _ in 0..n {
                // Some reports carry no date of birth.
                let age = (rng.random_range(0..10) > 0).then(|| ages.sample(&mut rng) as u16);
                out.push(Observation {
                    day,
                    group: (*group).to_owned(),
                    age,
                    held: None,
                });
            }
        }
    }
    out
}

const GROUPS: [(&str, f64); 4] = [
    ("source:state", 300.0),
    ("source:funeral_home", 40.0),
    ("source:family", 5.0),
    ("authority:DHS USCIS", 20.0),
];

#[test]
fn the_life_tables_predict_mostly_old_deaths() {
    let share = crate::oversight::anomaly::expected_young_share(65, 2026);
    eprintln!(
        "life tables: {:.1}% of deaths in 2026 under 65",
        share * 100.0
    );
    assert!((0.15..0.35).contains(&share), "{share}");
}

#[test]
fn a_planted_bulk_of_working_age_deaths_is_caught_the_same_day() {
    let mut obs = ordinary(7, &GROUPS);
    // Day 200: 3,000 people aged 25-50 reported dead by funeral homes.
    let day = Date::from_days_since_epoch(Date::new(2026, 1, 1).unwrap().days_since_epoch() + 200)
        .unwrap();
    let mut rng = Pcg64Mcg::seed_from_u64(99);
    for _ in 0..3000 {
        let age = Some(rng.random_range(25..50));
        obs.push(Observation {
            day,
            group: "source:funeral_home".into(),
            age,
            held: None,
        });
    }
    let alerts = detect(&obs, &DetectorConfig::for_year(2026));
    let on_day: Vec<_> = alerts.iter().filter(|a| a.day == day).collect();
    let kinds: Vec<(&str, AlertKind)> = on_day.iter().map(|a| (a.group.as_str(), a.kind)).collect();
    assert!(
        kinds.contains(&("source:funeral_home", AlertKind::Volume)),
        "{alerts:?}"
    );
    assert!(
        kinds.contains(&("source:funeral_home", AlertKind::Age)),
        "{alerts:?}"
    );
    let age = on_day.iter().find(|a| a.kind == AlertKind::Age).unwrap();
    assert!(age.median_age.unwrap() < 50, "{age:?}");
    // A smaller, sneakier bulk: 300 working-age deaths in one day, at a usual volume.
    let mut obs = ordinary(8, &GROUPS);
    for _ in 0..300 {
        let age = Some(rng.random_range(25..50));
        obs.push(Observation {
            day,
            group: "source:state".into(),
            age,
            held: None,
        });
    }
    let alerts = detect(&obs, &DetectorConfig::for_year(2026));
    assert!(
        alerts
            .iter()
            .any(|a| a.day == day && a.group == "source:state" && a.kind == AlertKind::Age),
        "{alerts:?}"
    );
}

#[test]
fn ordinary_intake_raises_no_alert() {
    // Ten simulated years of four groups: 14,600 group-days.
    let mut alerts = 0;
    let mut group_days = 0;
    for seed in 0..10 {
        let obs = ordinary(1000 + seed, &GROUPS);
        alerts += detect(&obs, &DetectorConfig::for_year(2026)).len();
        group_days += DAYS as usize * GROUPS.len();
    }
    eprintln!("ordinary intake: {alerts} alerts in {group_days} group-days");
    assert_eq!(alerts, 0, "false alarms in {group_days} group-days");
}

#[test]
fn thresholds_replace_only_what_they_name() {
    use crate::oversight::anomaly::Thresholds;
    let base = DetectorConfig::for_year(2026);
    assert_eq!(Thresholds::default().config(2026), base);
    let c = Thresholds {
        volume_z: Some(4.0),
        young_age: Some(50),
        window_days: Some(5),
        ..Thresholds::default()
    }
    .config(2026);
    assert_eq!((c.volume_z, c.young_age, c.window_days), (4.0, 50, 5));
    // A shorter window cannot ask for more history than it holds.
    assert_eq!(c.min_history_days, 5);
    // Fewer deaths are under 50 than under 65: the life tables' share follows the age.
    assert!(c.expected_young_share < base.expected_young_share / 2.0);
    assert_eq!((c.age_z, c.min_volume), (base.age_z, base.min_volume));
}
