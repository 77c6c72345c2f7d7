//! Statistics and intake alerts carried on from an earlier count: equal to a count from the
//! first event wherever a stream of events is split, reading only what is new, and counted
//! again from the first leaf when the kept count is not of this log.

use dmf_ledger::publish::{self, RunningStats};
use dmf_ledger::stats::Period;
use dmf_model::Date;
use proptest::prelude::*;

use crate::oversight::anomaly::{self, Intake, Thresholds};
use crate::{Registry, import_file, parse_line};

fn today() -> Date {
    "2026-11-23".parse().unwrap()
}

/// Numberholders as a state's records give them: a hyphenated surname, a middle name, a
/// suffix, a date of birth on the first of a month.
const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
123456789,William,Henry,Walker,,M,1941-03-04,OH
234567890,Maria,Luisa,Garcia-Lopez,,F,1958-11-07,TX
345678901,Robert,,O'Neill,Jr,M,1937-06-12,MA
456789012,Katherine,Ann,Nguyen,,F,1990-01-01,CA
567890123,Jose,,Hernandez,,M,1962-12-09,NM
";

/// Reports, notices and changes as callers send them, with the errors real ones have: a
/// nickname, a misspelt surname, the day and month of birth swapped, a hyphen dropped, an
/// SSN nobody holds, a date of birth corrected after the reports came.
const LINES: &[&str] = &[
    r#"{"type":"death_report","ssn":"123456789","first":"William","last":"Walker","dob":"1941-03-04","dod":"2026-10-02","source":"state","evidence":"EDRS-OH-2026-0415"}"#,
    r#"{"type":"death_report","ssn":"123456789","first":"Bill","last":"Walker","dob":"1941-03-04","dod":"2026-10-02","source":"funeral_home","evidence":"FH-117"}"#,
    r#"{"type":"death_report","ssn":"234567890","first":"Maria","last":"Garcia Lopez","dob":"1958-07-11","dod":"2026-09-30","source":"hospital","evidence":"MRN 88213"}"#,
    r#"{"type":"death_report","ssn":"234567890","first":"Maria","last":"Garcia-Lopez","dob":"1958-11-07","dod":"2026-09-30","source":"family","evidence":"obituary"}"#,
    r#"{"type":"death_report","ssn":"345678901","first":"Bob","last":"ONeil","dob":"1937-06-12","dod":"2026-08-15","source":"state","evidence":"EDRS-MA-77"}"#,
    r#"{"type":"death_report","ssn":"456789012","first":"Kathy","last":"Nguyen","dob":"1990-01-01","dod":"2026-11-01","source":"hospital","evidence":"MRN 1204"}"#,
    r#"{"type":"death_report","ssn":"512345678","first":"Pat","last":"Doe","dob":"1950-01-01","dod":"2026-11-20","source":"state","evidence":"EDRS-1"}"#,
    r#"{"type":"death_report","ssn":"567890123","first":"José","last":"Hernández","dob":"1962-09-12","dod":"2026-11-15","source":"funeral_home","evidence":"FH-9"}"#,
    r#"{"type":"status_notice","ssn":"567890123","first":"Jose","last":"Hernandez","dob":"1962-12-09","kind":"employment_authorization_ended","authority":"DHS USCIS","legal_basis":"8 CFR 274a.14","document":"I-766 revoked","effective":"2026-11-10"}"#,
    r#"{"type":"status_notice","ssn":"456789012","first":"Katherine","last":"Nguyen","dob":"1990-01-01","kind":"employment_authorization_ended","authority":"DHS USCIS","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"2026-11-12"}"#,
    r#"{"type":"contest","ssn":"567890123","reason":"my authorization was renewed"}"#,
    r#"{"type":"identity_change","ssn":"234567890","dob":"1958-07-11","reason":"birth certificate","evidence":"BC 1958-0711","requested_by":"cw-1","approved_by":"sup-2"}"#,
    r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}"#,
];

/// A registry of [`PEOPLE`], imported as one batch (one signed checkpoint).
fn registry() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::init(&dir.path().join("data"), None).unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, PEOPLE).unwrap();
    import_file(&reg, &people, today(), 0, &|_| {}).unwrap();
    (dir, reg)
}

/// Submits `LINES[i]` for each `i` as one batch recorded on `day` days before today; returns
/// the events it stored.
fn submit(reg: &Registry, picks: &[usize], day: i32) -> u64 {
    let subs = picks
        .iter()
        .map(|&i| parse_line(LINES[i], today()).unwrap())
        .collect();
    let at =
        i64::from(today().add_days(-day).unwrap().days_since_epoch()) * 86_400_000 + 36_000_000;
    let before = reg.store().head().unwrap();
    reg.submit(subs, at).unwrap();
    reg.store().head().unwrap() - before
}

fn signed_size(reg: &Registry) -> u64 {
    let files = dmf_ledger::log::LogFiles::open(reg.dir()).unwrap();
    publish::latest(&files).unwrap().checkpoint.size
}

/// The alerts at the head, as the export makes them: every event read again.
fn alerts_in_full(reg: &Registry, head: u64) -> anomaly::AlertsView {
    let index = reg.load_index().unwrap();
    let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
    anomaly::alerts_view(reg, &lookup, head, &thresholds(), 2026).unwrap()
}

/// Thresholds low enough for a handful of reports to raise alerts.
fn thresholds() -> Thresholds {
    Thresholds {
        new_group_volume: Some(2),
        min_volume: Some(1),
        held_min: Some(1),
        age_min_n: Some(1),
        ..Thresholds::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Batches of random events on random days, with the statistics and alerts brought up to
    /// date after random batches: each time equal to a count from the first event, having read
    /// only the events since the last time.
    #[test]
    fn counting_on_equals_counting_from_the_first_event(
        batches in prop::collection::vec(
            (prop::collection::vec(0..LINES.len(), 1..5), 0..70i32, any::<bool>()),
            1..8,
        ),
    ) {
        let (_dir, reg) = registry();
        let mut day = RunningStats::new(Period::Day);
        let mut month = RunningStats::new(Period::Month);
        let mut intake = Intake::new();
        for (picks, days_ago, look) in &batches {
            submit(&reg, picks, *days_ago);
            if !look {
                continue;
            }
            let size = signed_size(&reg);
            for kept in [&mut day, &mut month] {
                let before = kept.tree_size();
                let on = publish::stats_since(reg.ledger(), kept).unwrap();
                prop_assert_eq!(&on.stats, &publish::stats(reg.ledger(), kept.period()).unwrap());
                prop_assert_eq!(on.leaves_read, size - before);
                prop_assert_eq!(on.recounted, before == 0);
                prop_assert_eq!(kept.tree_size(), size);
            }
            let head = reg.store().head().unwrap();
            let before = intake.upto();
            prop_assert_eq!(intake.read_to(&reg, head).unwrap(), head - before);
            let index = reg.load_index().unwrap();
            let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
            let view = anomaly::alerts_view_of(&intake, &lookup, head, &thresholds(), 2026);
            prop_assert_eq!(view, alerts_in_full(&reg, head));
        }
    }
}

/// The regression of the oversight page: after one new event, statistics and alerts read
/// that event alone, and a later date of birth on file (an identity change) still changes the
/// age an earlier report is counted at.
#[test]
fn after_one_new_event_statistics_and_alerts_read_that_event_alone() {
    let (_dir, reg) = registry();
    submit(&reg, &[0, 2, 4, 6, 8], 3);
    let mut kept = RunningStats::new(Period::Day);
    let first = publish::stats_since(reg.ledger(), &mut kept).unwrap();
    assert_eq!((first.leaves_read, first.recounted), (10, true));
    let mut intake = Intake::new();
    assert_eq!(intake.read_to(&reg, 10).unwrap(), 10);
    assert_eq!(intake.len(), 5, "four reports submitted and a notice");
    let marias_age = |intake: &Intake| {
        let index = reg.load_index().unwrap();
        let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
        let observations = intake.observations(&lookup);
        observations
            .iter()
            .find(|o| o.group == "source:hospital")
            .unwrap()
            .age
    };
    // Died 2026-09-30, born 1958-11-07 as on file.
    assert_eq!(marias_age(&intake), Some(67));

    // Maria's date of birth as the hospital gave it, day and month swapped, turns out right.
    assert_eq!(submit(&reg, &[11], 1), 1);
    let next = publish::stats_since(reg.ledger(), &mut kept).unwrap();
    assert_eq!((next.leaves_read, next.recounted), (1, false));
    assert_eq!(
        next.stats,
        publish::stats(reg.ledger(), Period::Day).unwrap()
    );
    assert_eq!(next.stats.tree_size, 11);
    assert_eq!(intake.read_to(&reg, 11).unwrap(), 1);
    // Born 1958-07-11 as now on file: the report read before is counted at 68.
    assert_eq!(marias_age(&intake), Some(68));
    let index = reg.load_index().unwrap();
    let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
    let full = alerts_in_full(&reg, 11);
    // Bob's misspelt report held, and Pat's SSN nobody holds: alerts to compare.
    assert_eq!(full.held.len(), 2, "{full:?}");
    assert!(!full.alerts.is_empty(), "{full:?}");
    assert_eq!(
        anomaly::alerts_view_of(&intake, &lookup, 11, &thresholds(), 2026),
        full
    );

    // Nothing new: nothing read.
    let same = publish::stats_since(reg.ledger(), &mut kept).unwrap();
    assert_eq!((same.leaves_read, same.recounted), (0, false));
    assert_eq!(intake.read_to(&reg, 11).unwrap(), 0);
}

/// A count kept from a larger tree, or from another log, is not carried on: the statistics are
/// counted again from the first leaf, and equal the full count.
#[test]
fn a_count_not_of_this_log_is_counted_again_from_the_first_leaf() {
    let (_dir, reg) = registry();
    submit(&reg, &[0, 5], 2);
    let (_other_dir, other) = registry();
    submit(&other, &[1], 2);
    let full = publish::stats(reg.ledger(), Period::Month).unwrap();
    assert_eq!(full.tree_size, 7);
    // Another log's count at a smaller tree (its leaves are not this log's: the leaf keys
    // differ), and at a larger one.
    for (picks, size) in [(&[][..], 6), (&[3, 6, 7, 8][..], 10)] {
        submit(&other, picks, 1);
        let mut kept = RunningStats::new(Period::Month);
        publish::stats_since(other.ledger(), &mut kept).unwrap();
        assert_eq!(kept.tree_size(), size);
        let on = publish::stats_since(reg.ledger(), &mut kept).unwrap();
        assert!(on.recounted, "kept at {size}");
        assert_eq!(on.stats, full);
        assert_eq!(on.leaves_read, 7);
    }
    // An intake read further than the store holds (a store restored to an earlier point) is
    // read again from the first event.
    let mut intake = Intake::new();
    intake
        .read_to(&other, other.store().head().unwrap())
        .unwrap();
    let head = reg.store().head().unwrap();
    assert_eq!(intake.read_to(&reg, head).unwrap(), head);
}

/// Events whose leaves do not hash to the signed root are refused by a count carried on as by
/// a full count, and the count kept is dropped.
#[test]
fn a_log_that_does_not_hash_to_its_checkpoint_is_refused_when_counting_on() {
    let (_dir, reg) = registry();
    submit(&reg, &[0, 4], 2);
    let mut kept = RunningStats::new(Period::Day);
    publish::stats_since(reg.ledger(), &mut kept).unwrap();
    submit(&reg, &[2], 1);
    // The last leaf hash on disk overwritten, as a bad disk or a hand would.
    let leaves = dmf_ledger::log::LogFiles::open(reg.dir())
        .unwrap()
        .leaf_hashes_path();
    let mut bytes = std::fs::read(&leaves).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&leaves, bytes).unwrap();
    let full = publish::stats(reg.ledger(), Period::Day)
        .unwrap_err()
        .to_string();
    let on = publish::stats_since(reg.ledger(), &mut kept)
        .unwrap_err()
        .to_string();
    assert_eq!(on, full);
    assert!(on.contains("differs from the log"), "{on}");
    assert_eq!(kept.tree_size(), 0);
}
