//! Unit tests: SSN structure and the randomized pool, the samplers against their tables, the
//! error models of reports and client files, and the byte formatting.

use std::collections::{BTreeSet, HashSet};

use dmf_data::Sex;
use dmf_model::{Date, DeathSource, Ssn, VerificationLevel};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::clients::{dob_field, ssn_field, typo};
use crate::out::{iso_date, push_csv, push_json_str, push_u64};
use crate::population::{day, day_unknown_share, draw_suffix, issue_day, ssa_start, verification};
use crate::reports::{self, evidence, first_source, idempotency_key, lag, second_source};
use crate::rng::mix;
use crate::ssn::{POOL_AREAS, POOL_CAPACITY, RandomPool, capacity, group_at, state_ssn};
use crate::states::STATES;
use crate::tables::{MAX_AGE, Tables, anniversary, birth_weights, survival_curves, title_case};
use crate::{Config, SynthError, generate};

fn rng(seed: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed)
}

fn d(text: &str) -> Date {
    text.parse().expect("a date")
}

#[test]
fn groups_come_in_the_historical_order() {
    let order: Vec<u8> = (0..99).map(group_at).collect();
    assert_eq!(&order[..6], &[1, 3, 5, 7, 9, 10]);
    assert_eq!(&order[49..55], &[98, 2, 4, 6, 8, 11]);
    assert_eq!(order[98], 99);
    assert_eq!(
        order.iter().copied().collect::<BTreeSet<u8>>(),
        (1..=99).collect()
    );
}

#[test]
fn state_numbers_fill_group_by_group_across_the_areas() {
    let nh = STATES.iter().find(|s| s.code == "NH").unwrap().areas;
    for (slot, expect) in [
        (0, "001010001"),
        (9_998, "001019999"),
        (9_999, "002010001"),
        (3 * 9_999, "001030001"),
        (5 * 3 * 9_999, "001100001"),
        (capacity(nh) - 1, "003999999"),
    ] {
        assert_eq!(state_ssn(nh, slot).to_string(), expect, "slot {slot}");
    }
    // A second range opens only when the first is full.
    let va = STATES.iter().find(|s| s.code == "VA").unwrap().areas;
    assert_eq!(state_ssn(va, capacity(&va[..1])).to_string(), "691010001");
}

#[test]
fn state_areas_are_disjoint_and_apart_from_the_pool() {
    let mut seen = HashSet::new();
    for state in &STATES {
        assert_eq!(state.code.len(), 2);
        for &(lo, hi) in state.areas {
            assert!(lo <= hi && lo >= 1 && hi < 900, "{}", state.code);
            for area in lo..=hi {
                assert_ne!(area, 666);
                assert!(seen.insert(area), "area {area} given twice");
            }
        }
    }
    for &(lo, hi) in &POOL_AREAS {
        for area in lo..=hi {
            assert!(!seen.contains(&area), "pool area {area} belongs to a state");
            assert_ne!(area, 666);
        }
    }
    let codes: HashSet<&str> = STATES.iter().map(|s| s.code).collect();
    assert_eq!(codes.len(), 52);
    assert!(codes.contains("DC") && codes.contains("PR"));
}

#[test]
fn the_pool_is_one_to_one_and_stays_in_its_areas() {
    let pool = RandomPool::new(7);
    let mut seen = HashSet::new();
    let n = 200_000;
    for ordinal in (0..n).chain(POOL_CAPACITY - n..POOL_CAPACITY) {
        let ssn = pool.ssn(ordinal);
        assert!(
            POOL_AREAS
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&ssn.area())),
            "{ssn}"
        );
        assert!(seen.insert(ssn), "{ssn} drawn twice");
    }
    // Random-looking: consecutive counters land far apart, and another seed maps elsewhere.
    let areas: HashSet<u16> = (0..1000).map(|o| pool.ssn(o).area()).collect();
    assert!(areas.len() > 100, "{} areas", areas.len());
    assert_ne!(RandomPool::new(8).ssn(0), pool.ssn(0));
}

#[test]
fn pool_indexes_are_distinct_and_in_range() {
    let pool = RandomPool::new(1);
    let mut seen = HashSet::new();
    for o in (0..POOL_CAPACITY).step_by(997) {
        let i = pool.index(o);
        assert!(i < POOL_CAPACITY);
        assert!(seen.insert(i));
    }
}

#[test]
fn title_case_as_typed() {
    for (upper, expect) in [
        ("SMITH", "Smith"),
        ("MCDONALD", "McDonald"),
        ("MCCOY", "McCoy"),
        ("MC", "Mc"),
        ("SMITH-JONES", "Smith-Jones"),
        ("O'BRIEN", "O'Brien"),
        ("DE LA CRUZ", "De La Cruz"),
        ("bob", "Bob"),
    ] {
        assert_eq!(title_case(upper), expect);
    }
}

/// The applicant table's count for a birth year and sex.
fn applicant_count(applicants: &[(u16, Sex, u64)], year: u16, sex: Sex) -> f64 {
    applicants
        .iter()
        .find(|r| (r.0, r.1) == (year, sex))
        .unwrap()
        .2 as f64
}

#[test]
fn birth_weights_follow_the_applicants_and_stop_at_as_of() {
    let applicants = dmf_data::applicants();
    let survival = survival_curves(&dmf_data::life_tables(), 2026);
    let (cells, weights) = birth_weights(&applicants, &survival, d("2026-07-02"));
    assert_eq!(cells.first(), Some(&(1880, Sex::F)));
    assert_eq!(cells.last(), Some(&(2026, Sex::M)));
    let weight = |year, sex| weights[cells.iter().position(|&c| c == (year, sex)).unwrap()];
    let table = |year, sex| applicant_count(&applicants, year, sex);
    // From 1920 on, the table as is; later years repeat 2017; the current year counts up to
    // as-of (183 of 365 days).
    assert_eq!(weight(1920, Sex::F), table(1920, Sex::F));
    assert_eq!(weight(1975, Sex::M), table(1975, Sex::M));
    assert_eq!(weight(2022, Sex::M), 1_963_290.0);
    assert!((weight(2026, Sex::M) - 1_963_290.0 * 183.0 / 365.0).abs() < 1e-6);
    let (cells, _) = birth_weights(&applicants, &survival, d("1990-01-01"));
    assert_eq!(cells.last(), Some(&(1990, Sex::M)));
}

#[test]
fn early_cohorts_are_raised_to_their_likely_size() {
    let applicants = dmf_data::applicants();
    let survival = survival_curves(&dmf_data::life_tables(), 2026);
    let (cells, weights) = birth_weights(&applicants, &survival, d("2026-01-01"));
    let weight = |year, sex| weights[cells.iter().position(|&c| c == (year, sex)).unwrap()];
    let table = |year, sex| applicant_count(&applicants, year, sex);
    for sex in Sex::ALL {
        // Never below the table; several times it for 1900; no step at 1920.
        for year in 1880..1920 {
            assert!(weight(year, sex) >= table(year, sex));
        }
        assert!(weight(1900, sex) > 2.0 * table(1900, sex));
        let (before, after) = (weight(1919, sex), weight(1920, sex));
        assert!(
            (before / after - 1.0).abs() < 0.15,
            "{sex:?}: {before} {after}"
        );
        // Older cohorts were fewer when numbers began: fewer births, more of them dead.
        assert!(weight(1880, sex) < weight(1900, sex) && weight(1900, sex) < weight(1919, sex));
    }
}

#[test]
fn survival_curves_fall_to_zero() {
    let tables = dmf_data::life_tables();
    let curves = survival_curves(&tables, 2026);
    assert_eq!(curves.len(), (2026 - 1880 + 1) * 2);
    for l in &curves {
        assert_eq!(l[0], 1.0);
        assert!(l.windows(2).all(|w| w[1] <= w[0]));
        assert!(l[MAX_AGE] > 0.0);
        assert_eq!(l[MAX_AGE + 1], 0.0);
    }
    // 1880 uses the 1900 cohort; 1905 lies between 1900 and 1910.
    let q0 = |i: usize| 1.0 - curves[i][1];
    let m1900 = tables.qx(1900, Sex::M).unwrap()[0];
    let m1910 = tables.qx(1910, Sex::M).unwrap()[0];
    assert!((q0(1) - m1900).abs() < 1e-12);
    assert!((q0((1905 - 1880) * 2 + 1) - (m1900 + m1910) / 2.0).abs() < 1e-12);
}

#[test]
fn ages_at_death_follow_the_life_table() {
    // The mean age at death of men born 1950 alive at 20, by sampling and from q(x) directly.
    let t = Tables::load(d("2026-01-01"));
    let q = dmf_data::life_tables().qx(1950, Sex::M).unwrap().to_owned();
    let (mut alive, mut expected) = (1.0, 0.0);
    for (x, q) in q.iter().enumerate().skip(20) {
        expected += alive * q * x as f64;
        alive *= 1.0 - q;
    }
    expected += alive * MAX_AGE as f64;
    let mut r = rng(1);
    let n = 200_000;
    let ages: Vec<usize> = (0..n)
        .map(|_| t.death_age(1950, Sex::M, 20, r.random()))
        .collect();
    let mean = ages.iter().sum::<usize>() as f64 / n as f64;
    assert!(
        (mean - expected).abs() < 0.2,
        "mean {mean}, expected {expected}"
    );
    assert!(ages.iter().all(|&a| (20..=MAX_AGE).contains(&a)));
    // Women outlive men.
    let women: f64 = (0..n)
        .map(|_| t.death_age(1950, Sex::F, 20, r.random()) as f64)
        .sum::<f64>()
        / n as f64;
    assert!(women > mean + 2.0, "women {women}, men {mean}");
}

#[test]
fn numbers_are_issued_at_plausible_ages() {
    let mut r = rng(2);
    let as_of = day(2026, 1, 1);
    for _ in 0..20_000 {
        let year = r.random_range(1880..=2025);
        let birth = Date::new(year, r.random_range(1..=12), r.random_range(1..=28)).unwrap();
        let b = birth.days_since_epoch();
        let issue = issue_day(&mut r, birth, b, as_of);
        assert!(issue >= b && issue <= as_of);
        assert!(issue >= ssa_start(), "{birth}");
        if year >= 1987 {
            assert!(issue - b <= 60, "{birth}");
        } else if (1930..1966).contains(&year) {
            let age = (issue - b) as f64 / 365.25;
            assert!((13.99..25.01).contains(&age), "{birth}: {age}");
        }
    }
}

#[test]
fn anniversaries_keep_month_and_day() {
    assert_eq!(anniversary(d("1950-03-15"), 30), day(1980, 3, 15));
    assert_eq!(anniversary(d("1952-02-29"), 1), day(1953, 2, 28));
    assert_eq!(anniversary(d("1952-02-29"), 4), day(1956, 2, 29));
}

#[test]
fn old_deaths_lack_the_day_and_verification_comes_late() {
    assert_eq!(day_unknown_share(1950), 0.95);
    assert!((day_unknown_share(2000) - 0.05).abs() < 1e-9);
    assert_eq!(day_unknown_share(2020), 0.01);
    for y in 1970..2030 {
        assert!(day_unknown_share(y + 1) <= day_unknown_share(y));
    }
    let mut r = rng(3);
    assert!((0..1000).all(|_| verification(&mut r, 1986, true) == VerificationLevel::None));
    let recent: Vec<_> = (0..10_000)
        .map(|_| verification(&mut r, 2020, false))
        .collect();
    let blank = recent
        .iter()
        .filter(|v| **v == VerificationLevel::None)
        .count();
    assert!((1000..2000).contains(&blank), "{blank}");
}

#[test]
fn suffixes_are_mostly_junior() {
    let mut r = rng(4);
    let mut counts = [0; 4];
    for _ in 0..20_000 {
        counts[usize::from(draw_suffix(&mut r))] += 1;
    }
    assert!(
        counts[0] > counts[1] && counts[1] > counts[2] && counts[2] > counts[3],
        "{counts:?}"
    );
}

/// Share of `n` draws for which `f` holds.
fn share(n: usize, mut f: impl FnMut() -> bool) -> f64 {
    (0..n).filter(|_| f()).count() as f64 / n as f64
}

#[test]
fn recent_first_reports_have_the_published_source_mix() {
    let mut r = rng(5);
    let n = 100_000;
    let sources: Vec<DeathSource> = (0..n).map(|_| first_source(&mut r, 2025)).collect();
    for (source, expect) in [
        (DeathSource::StateVitalRecords, 0.55),
        (DeathSource::FuneralHome, 0.25),
        (DeathSource::Family, 0.07),
        (DeathSource::Hospital, 0.05),
        (DeathSource::FederalAgency, 0.05),
        (DeathSource::FinancialInstitution, 0.03),
    ] {
        let got = sources.iter().filter(|&&s| s == source).count() as f64 / n as f64;
        assert!((got - expect).abs() < 0.01, "{source}: {got}");
    }
    // Old deaths were mostly not reported by states.
    assert!(
        share(n, || first_source(&mut r, 1960)
            == DeathSource::StateVitalRecords)
            < 0.1
    );
}

#[test]
fn second_reports_confirm_other_sources() {
    let mut r = rng(6);
    let n = 50_000;
    let confirmed = share(n, || second_source(&mut r, DeathSource::Family).is_some());
    assert!((confirmed - 0.85).abs() < 0.02, "{confirmed}");
    let by_state = share(n, || {
        second_source(&mut r, DeathSource::FuneralHome) == Some(DeathSource::StateVitalRecords)
    });
    assert!((by_state - 0.68).abs() < 0.02, "{by_state}");
    for _ in 0..n {
        assert_ne!(
            second_source(&mut r, DeathSource::Hospital),
            Some(DeathSource::Hospital)
        );
        assert_ne!(
            second_source(&mut r, DeathSource::StateVitalRecords),
            Some(DeathSource::StateVitalRecords)
        );
    }
}

#[test]
fn lags_are_typical_of_each_source() {
    let mut r = rng(7);
    let median = |r: &mut Pcg64Mcg, s: DeathSource| {
        let mut v: Vec<i32> = (0..20_001).map(|_| lag(r, s)).collect();
        v.sort_unstable();
        assert!(v[0] >= 1 && v[v.len() - 1] <= 720);
        v[v.len() / 2]
    };
    let funeral = median(&mut r, DeathSource::FuneralHome);
    let state = median(&mut r, DeathSource::StateVitalRecords);
    let federal = median(&mut r, DeathSource::FederalAgency);
    let bank = median(&mut r, DeathSource::FinancialInstitution);
    assert!(
        (3..=5).contains(&funeral) && (8..=12).contains(&state),
        "{funeral} {state}"
    );
    assert!(
        funeral < state && state < federal && federal < bank,
        "{federal} {bank}"
    );
}

#[test]
fn evidence_looks_like_each_source_s() {
    let mut r = rng(8);
    let tx = STATES.iter().position(|s| s.code == "TX").unwrap() as u8;
    for (source, prefix, len) in [
        (DeathSource::StateVitalRecords, "EDRS-TX-2025", 18),
        (DeathSource::FuneralHome, "SSA-721-", 15),
        (DeathSource::Family, "call-", 13),
        (DeathSource::Hospital, "HOSP-", 13),
        (DeathSource::FinancialInstitution, "ACH-R1", 17),
    ] {
        let e = evidence(&mut r, source, tx, 2025);
        assert!(e.starts_with(prefix) && e.len() == len, "{e}");
        assert!(
            e[prefix.len()..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-'),
            "{e}"
        );
    }
    let federal = evidence(&mut r, DeathSource::FederalAgency, tx, 2025);
    assert!(
        ["VA-", "CMS-", "OPM-", "RRB-"]
            .iter()
            .any(|p| federal.starts_with(p)),
        "{federal}"
    );
}

#[test]
fn wrong_reports_come_mostly_from_others_than_states() {
    let mut r = rng(9);
    let state = share(20_000, || {
        reports::erroneous_source(&mut r) == DeathSource::StateVitalRecords
    });
    assert!(state < 0.15, "{state}");
}

#[test]
fn idempotency_keys_are_version_4_uuids() {
    let mut r = rng(10);
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let k = idempotency_key(&mut r);
        let b = k.as_bytes();
        assert_eq!(k.len(), 36);
        assert_eq!((b[8], b[13], b[18], b[23]), (b'-', b'-', b'-', b'-'));
        assert_eq!(b[14], b'4');
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{k}");
        assert!(seen.insert(k));
    }
}

/// Whether `b` is `a` with one letter replaced, dropped, added, or two neighbours swapped.
fn one_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        return diff.len() == 1
            || (diff.len() == 2
                && diff[1] == diff[0] + 1
                && a[diff[0]] == b[diff[1]]
                && a[diff[1]] == b[diff[0]]);
    }
    let (long, short) = if a.len() > b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    long.len() == short.len() + 1
        && (0..long.len()).any(|i| long[..i] == short[..i] && long[i + 1..] == short[i..])
}

#[test]
fn typos_are_one_edit_away() {
    let mut r = rng(11);
    for name in ["Smith", "Li", "Anna", "Mississippi", "Ng", "Bob"] {
        for _ in 0..2000 {
            let t = typo(&mut r, name);
            assert!(one_typo(name, &t), "{name} -> {t}");
            assert!(
                !t.is_empty() && t.chars().all(|c| c.is_ascii_alphabetic()),
                "{t}"
            );
        }
    }
}

#[test]
fn ssn_errors_come_at_their_rates() {
    let mut r = rng(12);
    let ssn: Ssn = "123456789".parse().unwrap();
    let n = 100_000;
    let (mut missing, mut one_digit, mut swapped) = (0, 0, 0);
    for _ in 0..n {
        let f = ssn_field(&mut r, ssn);
        if f.is_empty() {
            missing += 1;
            continue;
        }
        let diff: Vec<usize> = (0..9)
            .filter(|&i| f.as_bytes()[i] != b"123456789"[i])
            .collect();
        match diff.len() {
            0 => {}
            1 => one_digit += 1,
            2 if diff[1] == diff[0] + 1 => swapped += 1,
            _ => panic!("{f}"),
        }
    }
    let rate = |k: i32| f64::from(k) / n as f64;
    assert!((rate(missing) - 0.10).abs() < 0.005);
    assert!((rate(one_digit) - 0.02).abs() < 0.002);
    assert!((rate(swapped) - 0.01).abs() < 0.002);
}

#[test]
fn dob_errors_keep_a_date() {
    let mut r = rng(13);
    let birth = d("1961-04-09");
    let n = 50_000;
    let (mut no_day, mut swapped) = (0, 0);
    for _ in 0..n {
        match dob_field(&mut r, birth).as_str() {
            "1961-04" => no_day += 1,
            "1961-09-04" => swapped += 1,
            "1961-04-09" => {}
            other => panic!("{other}"),
        }
    }
    assert!((f64::from(no_day) / f64::from(n) - 0.02).abs() < 0.004);
    assert!((f64::from(swapped) / f64::from(n) - 0.0196).abs() < 0.004);
    // A day past 12 cannot be a month.
    assert!((0..2000).all(|_| dob_field(&mut r, d("1961-04-13")) != "1961-13-04"));
}

#[test]
fn byte_formatting() {
    assert_eq!(&iso_date(d("1987-01-02")), b"1987-01-02");
    let mut out = Vec::new();
    push_u64(&mut out, 0);
    out.push(b' ');
    push_u64(&mut out, 18_446_744_073_709_551_615);
    assert_eq!(out, b"0 18446744073709551615");
    out.clear();
    push_csv(&mut out, "Smith");
    push_csv(&mut out, "a,\"b\"");
    assert_eq!(out, b"Smith\"a,\"\"b\"\"\"");
    out.clear();
    push_json_str(&mut out, "a\"\\\n\u{1}é");
    assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"\\\\\\n\\u0001é\"");
}

/// Issue 21: a client field the error model starts with `-` or `=` is neutralised in
/// `client.csv`, as in every CSV the project writes.
#[test]
fn a_client_field_starting_with_a_formula_character_is_neutralised() {
    let mut out = Vec::new();
    push_csv(&mut out, "-ANN");
    out.push(b',');
    push_csv(&mut out, "=1,2");
    out.push(b',');
    push_csv(&mut out, "-12");
    assert_eq!(String::from_utf8(out).unwrap(), "'-ANN,\"'=1,2\",-12");
}

#[test]
fn mixing_spreads_counters() {
    let outs: HashSet<u64> = (0..10_000).map(mix).collect();
    assert_eq!(outs.len(), 10_000);
    assert_ne!(mix(0), 0);
}

#[test]
fn config_defaults() {
    let c = Config::new(1000, 1, d("2026-01-01"));
    assert_eq!((c.clients, c.report_days), (None, 30));
    assert_eq!(c.client_count(), 100);
    assert_eq!(Config::new(5, 1, d("2026-01-01")).client_count(), 1);
    assert_eq!(Config::new(0, 1, d("2026-01-01")).client_count(), 0);
}

#[test]
fn bad_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let early = Config::new(10, 1, d("1930-01-01"));
    assert!(matches!(
        generate(&early, dir.path(), &|_| {}),
        Err(SynthError::AsOfTooEarly(_))
    ));
    let mut window = Config::new(10, 1, d("2026-01-01"));
    window.report_days = 60_000;
    assert!(matches!(
        generate(&window, dir.path(), &|_| {}),
        Err(SynthError::ReportWindow(_))
    ));
    let huge = Config::new(1 << 40, 1, d("2026-01-01"));
    assert!(matches!(
        generate(&huge, dir.path(), &|_| {}),
        Err(SynthError::TooManyPeople { .. })
    ));
}

#[test]
fn an_empty_population_writes_headers_only() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&Config::new(0, 1, d("2026-01-01")), dir.path(), &|_| {}).unwrap();
    assert_eq!(summary, crate::Summary::default());
    let people = std::fs::read_to_string(dir.path().join("people.csv")).unwrap();
    assert_eq!(people, "ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    assert_eq!(std::fs::read(dir.path().join("dmf.txt")).unwrap(), b"");
}

#[test]
fn write_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let err = generate(
        &Config::new(10, 1, d("2026-01-01")),
        &blocker.join("out"),
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("cannot write "), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
}
