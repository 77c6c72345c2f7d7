//! Tests: comparison levels pair by pair, Jaro-Winkler against `strsim`, EM on patterns drawn
//! from a known model, blocking of planted errors, the model's text form, and linkage quality
//! end to end on generated people.

use std::collections::HashSet;
use std::sync::OnceLock;

use dmf_model::{PartialDate, Ssn, SsnDigits};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::*;

fn tables() -> &'static NameTables {
    static TABLES: OnceLock<NameTables> = OnceLock::new();
    TABLES.get_or_init(NameTables::shipped)
}

/// A person from `ssn|first|last|dob`, `-` or nothing for a missing field.
fn person(spec: &str) -> Person {
    let f: Vec<&str> = spec.split('|').map(str::trim).collect();
    assert_eq!(f.len(), 4, "ssn|first|last|dob: {spec}");
    fn given(s: &str) -> Option<&str> {
        (!s.is_empty() && s != "-").then_some(s)
    }
    Person {
        ssn: given(f[0]).map(|s| s.parse::<SsnDigits>().expect("nine digits")),
        first: given(f[1]).unwrap_or("").to_owned(),
        last: given(f[2]).unwrap_or("").to_owned(),
        dob: given(f[3]).map(|s| s.parse::<PartialDate>().expect("a date")),
        ..Person::default()
    }
}

/// The level codes of a pair: `ssn first last dob`.
fn levels_text(l: &Levels) -> String {
    format!(
        "{} {} {} {}",
        l.ssn.code(),
        l.first.code(),
        l.last.code(),
        l.dob.code()
    )
}

#[track_caller]
fn check(client: &str, master: &str, expect: &str) {
    let c = Prepared::new(&[person(client)], tables());
    let m = Prepared::new(&[person(master)], tables());
    let got = levels_text(&compare(&c, 0, &m, 0, tables()));
    assert_eq!(got, expect, "{client} against {master}");
}

// --- comparison levels --------------------------------------------------------------------

#[test]
fn ssn_levels() {
    let rest = "|JOHN|SMITH|1950-03-04";
    let m = format!("123456789{rest}");
    check(&format!("123456789{rest}"), &m, "exact exact exact exact");
    check(
        &format!("123456780{rest}"),
        &m,
        "one_digit exact exact exact",
    );
    check(
        &format!("223456789{rest}"),
        &m,
        "one_digit exact exact exact",
    );
    check(
        &format!("123456798{rest}"),
        &m,
        "transposed exact exact exact",
    );
    // A never-issued SSN (group 00) is compared by its digits, as a master line carries it.
    check(
        &format!("123004567{rest}"),
        &format!("123004567{rest}"),
        "exact exact exact exact",
    );
    check(
        &format!("123004567{rest}"),
        &format!("123014567{rest}"),
        "one_digit exact exact exact",
    );
    check(
        &format!("213456789{rest}"),
        &m,
        "transposed exact exact exact",
    );
    // Two digits wrong, or swapped but not neighbours.
    check(
        &format!("123456700{rest}"),
        &m,
        "different exact exact exact",
    );
    check(
        &format!("823456781{rest}"),
        &m,
        "different exact exact exact",
    );
    check(&format!("-{rest}"), &m, "missing exact exact exact");
    check(&m, &format!("-{rest}"), "missing exact exact exact");
}

#[test]
fn name_levels() {
    let pair = |cf: &str, cl: &str, mf: &str, ml: &str, expect: &str| {
        // No SSN on the client's side: equal SSNs would make some of these `shared`.
        check(
            &format!("-|{cf}|{cl}|1950-03-04"),
            &format!("123456789|{mf}|{ml}|1950-03-04"),
            &format!("missing {expect} exact"),
        );
    };
    pair("JOHN", "SMITH", "JOHN", "SMITH", "exact exact");
    pair("BOB", "SMITH", "ROBERT", "SMITH", "nickname exact");
    pair("ROBERT", "SMITH", "BOB", "SMITH", "nickname exact");
    pair("BILL", "JONES", "WILLIAM", "JONES", "nickname exact");
    // Nicknames are for first names only.
    pair("JOHN", "BOB", "JOHN", "ROBERT", "exact different");
    pair("MARTHA", "SMITH", "MARHTA", "SMITH", "jw92 exact");
    pair("JOHN", "JOHNSON", "JOHN", "JONSON", "exact jw92");
    pair("JOHN", "SMITH", "JOHN", "SMYTH", "exact jw85");
    pair("JOHN", "DIXON", "JOHN", "DICKSON", "exact phonetic");
    pair("PHILIP", "SMITH", "FILIP", "SMITH", "phonetic exact");
    pair("JOHN", "SCHMIDT", "JOHN", "SMITH", "exact phonetic");
    pair("J", "SMITH", "JOHN", "SMITH", "initial exact");
    pair("JOHN", "SMITH", "J", "SMITH", "initial exact");
    pair("K", "SMITH", "JOHN", "SMITH", "different exact");
    pair("JOHN", "SMITH", "MARY", "SMITH", "different exact");
    pair("SMITH", "JOHN", "JOHN", "SMITH", "swapped exact");
    pair("SMITH", "BOB", "ROBERT", "SMITH", "swapped nickname");
    pair("", "SMITH", "JOHN", "SMITH", "missing exact");
    pair("JOHN", "", "JOHN", "SMITH", "exact missing");
    // The normal form: case, punctuation and a trailing suffix do not count.
    pair("john", "O'BRIEN", "JOHN", "OBRIEN", "exact exact");
    pair("JOHN", "SMITH JR", "JOHN", "SMITH", "exact exact");
    pair("JOHN", "SMITH-JONES", "JOHN", "SMITHJONES", "exact exact");
    pair("JOHN", "JR", "JOHN", "JR", "exact exact");
}

#[test]
fn dob_levels() {
    let pair = |c: &str, m: &str, expect: &str| {
        check(
            &format!("-|JOHN|SMITH|{c}"),
            &format!("-|JOHN|SMITH|{m}"),
            &format!("missing exact exact {expect}"),
        );
    };
    pair("1950-03-04", "1950-03-04", "exact");
    pair("1950-04-03", "1950-03-04", "day_month_swapped");
    pair("1951-03-04", "1950-03-04", "year_pm1");
    pair("1949-03-04", "1950-03-04", "year_pm1");
    pair("1960-03-04", "1950-03-04", "one_digit");
    pair("1950-03-05", "1950-03-04", "one_digit");
    pair("1950-07-04", "1950-03-04", "one_digit");
    pair("1965-03-04", "1956-03-04", "one_digit");
    pair("1950-03-27", "1950-03-04", "one_component");
    pair("1950-11-04", "1950-03-04", "one_component");
    pair("1970-03-04", "1950-03-04", "one_digit");
    pair("1975-03-04", "1950-03-04", "one_component");
    pair("1950-03", "1950-03-04", "compatible_partial");
    pair("1950", "1950-03-04", "compatible_partial");
    pair("1950-03-04", "1950", "compatible_partial");
    pair("1950-03", "1950-03", "compatible_partial");
    pair("1950-04", "1950-03-04", "different");
    pair("1951-03", "1950-03-04", "different");
    pair("1951-04-05", "1950-03-04", "different");
    pair("-", "1950-03-04", "missing");
}

#[test]
fn records_are_compact() {
    assert_eq!(std::mem::size_of::<crate::prepare::Rec>(), 40);
}

#[test]
fn level_codes_round_trip_and_index() {
    for l in SsnLevel::ALL {
        assert_eq!(SsnLevel::from_code(l.code()), Some(*l));
    }
    for l in NameLevel::ALL {
        assert_eq!(NameLevel::from_code(l.code()), Some(*l));
    }
    for l in DobLevel::ALL {
        assert_eq!(DobLevel::from_code(l.code()), Some(*l));
    }
    for i in 0..Levels::COUNT {
        assert_eq!(Levels::from_index(i).index(), i);
    }
}

#[test]
fn classes() {
    let cases = [
        ("exact exact exact exact", 1),
        ("exact nickname exact exact", 2),
        ("one_digit exact exact exact", 2),
        ("transposed exact exact exact", 2),
        ("different exact exact exact", 5),
        ("shared different exact exact", 5),
        ("missing exact exact exact", 3),
        ("missing nickname jw92 compatible_partial", 3),
        ("missing swapped exact day_month_swapped", 3),
        ("missing jw85 exact exact", 4),
        ("missing exact exact year_pm1", 4),
        ("missing exact exact missing", 4),
    ];
    for (text, expect) in cases {
        let w: Vec<&str> = text.split(' ').collect();
        let levels = four(
            SsnLevel::from_code(w[0]).expect("ssn"),
            NameLevel::from_code(w[1]).expect("first"),
            NameLevel::from_code(w[2]).expect("last"),
            DobLevel::from_code(w[3]).expect("dob"),
        );
        assert_eq!(class(&levels), expect, "{text}");
    }
}

proptest! {
    #[test]
    fn jaro_winkler_agrees_with_strsim(a in "[A-E]{0,12}", b in "[A-E]{0,12}") {
        let ours = crate::jaro::jaro_winkler(a.as_bytes(), b.as_bytes());
        let theirs = strsim::jaro_winkler(&a, &b);
        prop_assert!((ours - theirs).abs() < 1e-12, "{a} {b}: {ours} {theirs}");
    }

    #[test]
    fn jaro_winkler_bound_holds(a in "[A-F]{2,14}", b in "[A-F]{2,14}") {
        let tables = NameTables::with_nicknames(&[]);
        let p = Prepared::new(
            &[person(&format!("-|{a}|{b}|-"))],
            &tables,
        );
        let store = tables.read();
        let (ia, ib) = (store.info(p.recs[0].first), store.info(p.recs[0].last));
        let common = (ia.letters[0] & ib.letters[0]).count_ones()
            + (ia.letters[1] & ib.letters[1]).count_ones();
        let jw = crate::jaro::jaro_winkler(a.as_bytes(), b.as_bytes());
        let prefix = crate::jaro::prefix(a.as_bytes(), b.as_bytes());
        let bound = crate::jaro::upper_bound(a.len(), b.len(), common as usize, prefix);
        prop_assert!(jw <= bound + 1e-12, "{a} {b}: {jw} > {bound}");
    }

    #[test]
    fn levels_are_symmetric_but_for_swaps(
        a in "[A-D]{1,6}", b in "[A-D]{1,6}", c in "[A-D]{1,6}", d in "[A-D]{1,6}",
        y in 1950u16..1953, m in 1u8..4, day in 1u8..4,
    ) {
        let left = person(&format!("-|{a}|{b}|{y}-{m:02}-{day:02}"));
        let right = person(&format!("-|{c}|{d}|1951-02-02"));
        let one = Prepared::new(std::slice::from_ref(&left), tables());
        let two = Prepared::new(std::slice::from_ref(&right), tables());
        let ab = compare(&one, 0, &two, 0, tables());
        let ba = compare(&two, 0, &one, 0, tables());
        prop_assert_eq!(ab.dob, ba.dob);
        prop_assert_eq!(ab.ssn, ba.ssn);
        if ab.first != NameLevel::Swapped && ba.first != NameLevel::Swapped {
            prop_assert_eq!(ab.first, ba.first);
            prop_assert_eq!(ab.last, ba.last);
        }
    }
}

// --- EM -----------------------------------------------------------------------------------

/// Draws a level index from probabilities.
fn categorical(rng: &mut Pcg64Mcg, p: &[f64]) -> usize {
    let mut x: f64 = rng.random();
    for (i, &q) in p.iter().enumerate() {
        if x < q {
            return i;
        }
        x -= q;
    }
    p.len() - 1
}

/// Levels of the four main fields, the others missing.
fn four(ssn: SsnLevel, first: NameLevel, last: NameLevel, dob: DobLevel) -> Levels {
    Levels {
        ssn,
        first,
        last,
        dob,
        middle: MiddleLevel::Missing,
        suffix: SuffixLevel::Missing,
        sex: SexLevel::Missing,
    }
}

fn known_model() -> Model {
    Model {
        lambda: 0.2,
        m: FieldParams {
            ssn: vec![0.90, 0.04, 0.03, 0.0, 0.03],
            first: vec![0.70, 0.08, 0.02, 0.08, 0.04, 0.03, 0.02, 0.03],
            last: vec![0.80, 0.0, 0.0, 0.08, 0.04, 0.03, 0.01, 0.04],
            dob: vec![0.85, 0.03, 0.02, 0.02, 0.03, 0.03, 0.02],
            middle: vec![0.5, 0.05, 0.35, 0.1],
            suffix: vec![0.9, 0.1],
            sex: vec![0.97, 0.03],
        },
        u: FieldParams {
            ssn: vec![0.001, 0.004, 0.002, 0.0, 0.993],
            first: vec![0.02, 0.01, 0.001, 0.02, 0.04, 0.05, 0.01, 0.849],
            last: vec![0.01, 0.0005, 0.0005, 0.01, 0.03, 0.04, 0.01, 0.899],
            dob: vec![0.005, 0.001, 0.004, 0.0005, 0.05, 0.01, 0.9295],
            middle: vec![0.02, 0.03, 0.1, 0.85],
            suffix: vec![0.3, 0.7],
            sex: vec![0.5, 0.5],
        },
        tf_floor: DEFAULT_TF_FLOOR,
    }
}

/// Level patterns of `n` pairs drawn from `model`, a share of each field missing.
fn draw_patterns(model: &Model, n: usize, seed: u64) -> Vec<(Levels, u64)> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut counts = vec![0u64; Levels::COUNT];
    for _ in 0..n {
        let p = if rng.random_bool(model.lambda) {
            &model.m
        } else {
            &model.u
        };
        let level = |f: usize, missing: f64, rng: &mut Pcg64Mcg| {
            if rng.random_bool(missing) {
                None
            } else {
                Some(categorical(rng, p.field(f)))
            }
        };
        let levels = Levels {
            ssn: level(0, 0.3, &mut rng).map_or(SsnLevel::Missing, |i| SsnLevel::ALL[i]),
            first: level(1, 0.02, &mut rng).map_or(NameLevel::Missing, |i| NameLevel::ALL[i]),
            last: level(2, 0.01, &mut rng).map_or(NameLevel::Missing, |i| NameLevel::ALL[i]),
            dob: level(3, 0.05, &mut rng).map_or(DobLevel::Missing, |i| DobLevel::ALL[i]),
            middle: level(4, 0.5, &mut rng).map_or(MiddleLevel::Missing, |i| MiddleLevel::ALL[i]),
            suffix: level(5, 0.95, &mut rng).map_or(SuffixLevel::Missing, |i| SuffixLevel::ALL[i]),
            sex: level(6, 0.3, &mut rng).map_or(SexLevel::Missing, |i| SexLevel::ALL[i]),
        };
        counts[levels.index()] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .map(|(i, n)| (Levels::from_index(i), n))
        .collect()
}

#[test]
fn em_recovers_known_m_and_lambda() {
    let truth = known_model();
    let patterns = draw_patterns(&truth, 300_000, 7);
    let (model, training) = Model::train_with_summary(&patterns, truth.u.clone(), 1000);
    assert!(training.converged, "{training:?}");
    for (f, field) in FIELDS.iter().enumerate() {
        for (l, (&got, &want)) in model.m.field(f).iter().zip(truth.m.field(f)).enumerate() {
            assert!(
                (got - want).abs() < 0.02,
                "m of {field} level {l}: {got} against {want}"
            );
        }
    }
    let rel = (model.lambda - truth.lambda).abs() / truth.lambda;
    assert!(
        rel < 0.2,
        "lambda {} against {}",
        model.lambda,
        truth.lambda
    );
}

#[test]
fn em_on_candidates_counts_the_pairs_left_out() {
    // The same matches, out of ten times as many pairs: lambda a tenth, m the same.
    let truth = known_model();
    let patterns = draw_patterns(&truth, 100_000, 8);
    let all: u64 = patterns.iter().map(|(_, n)| n).sum();
    let (plain, _) = Model::train_with_summary(&patterns, truth.u.clone(), 1000);
    let (wide, training) =
        Model::train_on_candidates(&patterns, truth.u.clone(), 1000, all * 10, all);
    assert!(training.converged);
    assert!(
        wide.lambda < plain.lambda / 5.0,
        "{} {}",
        wide.lambda,
        plain.lambda
    );
    assert!(wide.weight(&Levels::from_index(0)) > 10.0);
}

#[test]
fn weights_and_probabilities() {
    let model = known_model();
    let all_exact = four(
        SsnLevel::Exact,
        NameLevel::Exact,
        NameLevel::Exact,
        DobLevel::Exact,
    );
    let expect = (0.90f64 / 0.001).log2()
        + (0.70f64 / 0.02).log2()
        + (0.80f64 / 0.01).log2()
        + (0.85f64 / 0.005).log2();
    assert!((model.weight(&all_exact) - expect).abs() < 1e-9);
    // Missing weighs nothing.
    let missing = Levels {
        ssn: SsnLevel::Missing,
        ..all_exact
    };
    assert!(
        (model.weight(&all_exact) - model.weight(&missing) - (0.90f64 / 0.001).log2()).abs() < 1e-9
    );
    let c = model.contributions(&missing);
    assert_eq!(c[0], ("ssn", "missing", 0.0));
    assert_eq!(c.len(), FIELDS.len());
    // A weight that equals minus the prior odds is even.
    let even = -(model.lambda / (1.0 - model.lambda)).log2();
    assert!((model.probability(even) - 0.5).abs() < 1e-12);
    // A common exact name weighs less than a rare one; a typical one as the model says.
    let w = |first, last| model.weight_tf(&all_exact, Tf { first, last });
    assert!((w(1.0, 1.0) - model.weight(&all_exact)).abs() < 1e-12);
    assert!(w(10.0, 1.0) < w(1.0, 1.0));
    assert!(w(0.01, 1.0) > w(1.0, 1.0));
    assert!((w(1e-9, 1.0) - w(DEFAULT_TF_FLOOR, 1.0)).abs() < 1e-12);
}

// --- model text ---------------------------------------------------------------------------

#[test]
fn model_text_errors_name_the_line() {
    let good = known_model().to_text();
    assert_eq!(Model::from_text(&good), Ok(known_model()));
    let check_error = |text: &str, expect: &str| {
        let err = Model::from_text(text).expect_err("a malformed model");
        assert_eq!(err.to_string(), expect);
    };
    let line = |n: usize, with: &str| {
        let mut lines: Vec<&str> = good.lines().collect();
        lines[n - 1] = with;
        lines.join("\n")
    };
    check_error(
        &line(1, "dmf-match model 1"),
        "line 1: a model of version 1, trained before middle names, suffixes, sex and shared \
         SSNs were compared: train a new one (--train)",
    );
    check_error(
        &line(5, "m ssn exactt 0.5"),
        "line 5: unknown level \"exactt\"",
    );
    check_error(&line(4, "m sn exact 0.5"), "line 4: unknown field \"sn\"");
    check_error(&line(2, "lambda x"), "line 2: \"x\" is not a number");
    check_error(&line(2, "lambda 1.5"), "line 2: 1.5 is not a probability");
    check_error(&line(3, "lambda 0.5"), "line 3: lambda given twice");
    check_error(&line(6, "weights"), "line 6: unknown line \"weights\"");
    check_error(
        &line(6, "m ssn"),
        "line 6: expected `lambda P`, `tf_floor P` or `m|u FIELD LEVEL P`",
    );
    check_error(&line(7, "# a comment"), "parameter m ssn shared is missing");
    check_error(
        "dmf-match model 3\n",
        "line 1: expected \"dmf-match model 2\", found \"dmf-match model 3\"",
    );
    assert!(matches!(
        Model::from_text(&line(5, "m ssn exactt 0.5")),
        Err(ModelError::Line {
            line: 5,
            kind: LineError::Level(_)
        })
    ));
}

fn params() -> impl Strategy<Value = FieldParams> {
    let p = || 0.0f64..=1.0;
    (
        prop::collection::vec(p(), 5),
        prop::collection::vec(p(), 8),
        prop::collection::vec(p(), 8),
        prop::collection::vec(p(), 7),
        prop::collection::vec(p(), 4),
        prop::collection::vec(p(), 2),
        prop::collection::vec(p(), 2),
    )
        .prop_map(|(ssn, first, last, dob, middle, suffix, sex)| FieldParams {
            ssn,
            first,
            last,
            dob,
            middle,
            suffix,
            sex,
        })
}

proptest! {
    #[test]
    fn model_text_round_trips(
        lambda in 1e-300f64..1.0,
        tf_floor in 0.0f64..=1.0,
        m in params(),
        u in params(),
    ) {
        let model = Model { lambda, m, u, tf_floor };
        prop_assert_eq!(Model::from_text(&model.to_text()), Ok(model));
    }
}

// --- blocking -----------------------------------------------------------------------------

/// A client record with one kind of error, and the master record it stands for.
const ERRORS: &[(&str, &str)] = &[
    ("no error", "-|ROBERT|HENDERSON|1950-03-04"),
    ("nickname", "-|BOB|HENDERSON|1950-03-04"),
    ("first-name typo", "-|ROBRET|HENDERSON|1950-03-04"),
    ("first initial", "-|R|HENDERSON|1950-03-04"),
    ("surname typo", "-|ROBERT|HENDRESON|1950-03-04"),
    ("surname changed", "-|ROBERT|KOWALSKI|1950-03-04"),
    ("names swapped", "-|HENDERSON|ROBERT|1950-03-04"),
    ("day and month swapped", "-|ROBERT|HENDERSON|1950-04-03"),
    ("day missing", "-|ROBERT|HENDERSON|1950-03"),
    ("day wrong", "-|ROBERT|HENDERSON|1950-03-14"),
    ("year off by one", "-|ROBERT|HENDERSON|1951-03-04"),
    ("year mistyped", "-|ROBERT|HENDERSON|1905-03-04"),
    (
        "year off, day and month swapped",
        "-|ROBERT|HENDERSON|1951-04-03",
    ),
    ("date missing", "-|ROBERT|HENDERSON|-"),
    // The client reader keeps the year of `1950-04-30` swapped into `1950-30-04`.
    ("impossible date, its year kept", "-|ROBERT|HENDERSON|1950"),
    ("date wrong in two parts", "-|ROBERT|HENDERSON|1951-07-04"),
    ("SSN one digit off", "123456780|ROBERT|HENDERSON|1950-03-04"),
    (
        "SSN transposed, names swapped",
        "123456798|HENDERSON|ROBERT|1950-03-04",
    ),
    (
        "SSN right, everything else wrong",
        "123456789|JANE|DOE|1990-12-12",
    ),
    (
        "SSN one digit off, date missing",
        "123456780|ROBERT|HENDERSON|-",
    ),
    (
        "SSN transposed, date wrong",
        "123456798|ROBERT|HENDERSON|1960-01-01",
    ),
    (
        "SSN transposed, names wrong",
        "123456798|JANE|DOE|1950-03-04",
    ),
    (
        "SSN one digit off, names wrong",
        "123456780|JANE|DOE|1950-04-03",
    ),
    (
        "SSN area mistyped, names wrong",
        "223456789|JANE|DOE|1950-03-04",
    ),
    (
        "SSN area mistyped, date wrong",
        "223456789|ROBERT|HENDERSON|1960-01-01",
    ),
];

/// Errors that no default rule finds.
const NOT_BY_DEFAULT: &[&str] = &["date wrong in two parts"];
const TRUE_MASTER: &str = "123456789|ROBERT|HENDERSON|1950-03-04";

/// The master: the true record among others that share some of its fields.
fn blocking_master() -> Vec<Person> {
    let mut master = vec![person(TRUE_MASTER)];
    for (i, spec) in [
        "-|ROBERT|HENDERSON|1930-01-01",
        "-|MARY|HENDERSON|1950-03-04",
        "-|ROBERT|SMITH|1950-03-04",
        "-|JOHN|KOWALSKI|1950-03-04",
        "-|ROBERT|HENDERSON|1950-05-06",
    ]
    .iter()
    .enumerate()
    {
        let mut p = person(spec);
        p.ssn = Some(
            Ssn::from_number(200_010_001 + i as u32)
                .expect("an SSN")
                .into(),
        );
        master.push(p);
    }
    master
}

#[test]
fn each_single_error_is_found_by_a_default_rule() {
    let master = Prepared::new(&blocking_master(), tables());
    let blocks = Blocks::build(&master, &default_rules());
    let clients: Vec<Person> = ERRORS.iter().map(|(_, c)| person(c)).collect();
    let client = Prepared::new(&clients, tables());
    let found = candidates(&client, &blocks);
    for (i, (error, _)) in ERRORS.iter().enumerate() {
        assert_eq!(
            found.pairs.contains(&(i as u32, 0)),
            !NOT_BY_DEFAULT.contains(error),
            "{error}: the true pair is a candidate"
        );
    }
    let rules: Vec<Rule> = found.per_rule.iter().map(|(r, _)| *r).collect();
    assert_eq!(rules, default_rules());
    let sum: u64 = found.per_rule.iter().map(|(_, n)| n).sum();
    assert!(sum >= found.pairs.len() as u64);
    assert!(found.capped.iter().all(|(_, n)| *n == 0));
}

/// Which of the named errors a rule alone finds.
#[track_caller]
fn check_rule(rule: Rule, expect: &[&str]) {
    let master = Prepared::new(&blocking_master(), tables());
    let blocks = Blocks::build(&master, &[rule]);
    let clients: Vec<Person> = ERRORS.iter().map(|(_, c)| person(c)).collect();
    let found = candidates(&Prepared::new(&clients, tables()), &blocks);
    let got: Vec<&str> = ERRORS
        .iter()
        .enumerate()
        .filter(|(i, _)| found.pairs.contains(&(*i as u32, 0)))
        .map(|(_, (e, _))| *e)
        .collect();
    assert_eq!(got, expect, "{rule}");
}

#[test]
fn what_each_rule_finds() {
    check_rule(Rule::Ssn, &["SSN right, everything else wrong"]);
    check_rule(
        Rule::DobPhoneticLast,
        &[
            "no error",
            "nickname",
            "first-name typo",
            "first initial",
            "surname typo",
            "day and month swapped",
            "SSN one digit off",
        ],
    );
    check_rule(
        Rule::DobPhoneticFirst,
        &[
            "no error",
            "first-name typo",
            "surname typo",
            "surname changed",
            "day and month swapped",
            "SSN one digit off",
        ],
    );
    check_rule(
        Rule::PhoneticNamesBirthYear,
        &[
            "no error",
            "first-name typo",
            "surname typo",
            "names swapped",
            "day and month swapped",
            "day missing",
            "day wrong",
            "impossible date, its year kept",
            "SSN one digit off",
            "SSN transposed, names swapped",
        ],
    );
    check_rule(
        Rule::PhoneticNamesMonthDay,
        &[
            "no error",
            "first-name typo",
            "surname typo",
            "names swapped",
            "day and month swapped",
            "year off by one",
            "year mistyped",
            "year off, day and month swapped",
            "SSN one digit off",
            "SSN transposed, names swapped",
        ],
    );
    check_rule(
        Rule::SsnHeadPhoneticNames,
        &[
            "SSN one digit off",
            "SSN transposed, names swapped",
            "SSN one digit off, date missing",
            "SSN transposed, date wrong",
        ],
    );
    check_rule(
        Rule::SsnTailPhoneticNames,
        &["SSN area mistyped, date wrong"],
    );
    check_rule(
        Rule::PhoneticNamesUndated,
        &[
            "day missing",
            "date missing",
            "impossible date, its year kept",
            "SSN one digit off, date missing",
        ],
    );
    // Every error here but those in a first name's or a surname's sound.
    let names_keep: Vec<&str> = ERRORS
        .iter()
        .map(|(e, _)| *e)
        .filter(|e| {
            ![
                "nickname",
                "first initial",
                "surname changed",
                "SSN right, everything else wrong",
                "SSN transposed, names wrong",
                "SSN one digit off, names wrong",
                "SSN area mistyped, names wrong",
            ]
            .contains(e)
        })
        .collect();
    check_rule(Rule::PhoneticNames, &names_keep);
    check_rule(
        Rule::SsnHeadPhoneticLast,
        &[
            "SSN one digit off",
            "SSN one digit off, date missing",
            "SSN transposed, date wrong",
        ],
    );
    check_rule(
        Rule::SsnTailPhoneticLast,
        &["SSN area mistyped, date wrong"],
    );
    check_rule(
        Rule::SsnDigitsDob,
        &[
            "SSN transposed, names swapped",
            "SSN transposed, names wrong",
        ],
    );
    check_rule(
        Rule::SsnHeadDob,
        &[
            "SSN one digit off",
            "SSN transposed, names swapped",
            "SSN transposed, names wrong",
            "SSN one digit off, names wrong",
        ],
    );
    check_rule(Rule::SsnTailDob, &["SSN area mistyped, names wrong"]);
}

#[test]
fn rule_codes_parse() {
    for r in Rule::ALL {
        assert_eq!(r.code().parse::<Rule>(), Ok(r));
    }
    assert_eq!(
        "soundex".parse::<Rule>(),
        Err(UnknownRule("soundex".to_owned()))
    );
}

/// A client record against 50 master JOHN SMITHs born 1950-03-04 and no SSN, with blocks
/// capped at 10: per rule, the lookups skipped and the pairs they would have given.
#[track_caller]
fn check_capped(spec: &str, expect: &[(Rule, u64, u64)]) {
    let same: Vec<Person> = (0..50).map(|_| person("-|JOHN|SMITH|1950-03-04")).collect();
    let master = Prepared::new(&same, tables());
    let client = Prepared::new(&[person(spec)], tables());
    let found = candidates(
        &client,
        &Blocks::build_with_cap(&master, &default_rules(), 10),
    );
    assert!(found.pairs.is_empty());
    let got: Vec<(Rule, u64, u64)> = found
        .capped
        .iter()
        .zip(&found.capped_pairs)
        .filter(|((_, n), _)| *n > 0)
        .map(|((r, n), (_, p))| (*r, *n, *p))
        .collect();
    assert_eq!(got, expect, "{spec}");
}

#[test]
fn huge_blocks_are_capped_and_counted() {
    check_capped(
        "-|JOHN|SMITH|1950-03-04",
        &[
            (Rule::DobPhoneticLast, 1, 50),
            (Rule::DobPhoneticFirst, 1, 50),
            (Rule::PhoneticNamesBirthYear, 1, 50),
            (Rule::PhoneticNamesMonthDay, 1, 50),
        ],
    );
    check_capped(
        "-|JOHN|SMITH|1950",
        &[
            (Rule::PhoneticNamesBirthYear, 1, 50),
            (Rule::PhoneticNamesUndated, 1, 50),
        ],
    );
    check_capped("-|JOHN|SMITH|-", &[(Rule::PhoneticNamesUndated, 1, 50)]);
    check_capped("-|JANE|DOE|-", &[]);
    let same: Vec<Person> = (0..50).map(|_| person("-|JOHN|SMITH|1950-03-04")).collect();
    let master = Prepared::new(&same, tables());
    let client = Prepared::new(&[person("-|JOHN|SMITH|1950-03-04")], tables());
    let all = candidates(&client, &Blocks::build(&master, &default_rules()));
    assert_eq!(all.pairs.len(), 50);
    assert_eq!(all.per_rule.iter().map(|(_, n)| n).sum::<u64>(), 200);
}

#[test]
fn a_names_block_over_the_cap_is_counted_not_silently_dropped() {
    check_capped("-|JON|SMYTH|-", &[(Rule::PhoneticNamesUndated, 1, 50)]);
}

/// Which default rules find the master record [`TRUE_MASTER`] for a client record.
#[track_caller]
fn check_found(client: &str, expect: &[Rule]) {
    let master = Prepared::new(&blocking_master(), tables());
    let blocks = Blocks::build(&master, &default_rules());
    let found = candidates(&Prepared::new(&[person(client)], tables()), &blocks);
    let got: Vec<Rule> = default_rules()
        .into_iter()
        .filter(|&r| {
            let one = candidates(
                &Prepared::new(&[person(client)], tables()),
                &Blocks::build(&master, &[r]),
            );
            one.pairs.contains(&(0, 0))
        })
        .collect();
    assert_eq!(got, expect, "{client}");
    assert_eq!(
        found.pairs.contains(&(0, 0)),
        !expect.is_empty(),
        "{client}"
    );
}

#[test]
fn a_client_with_no_date_of_birth_is_found_by_name() {
    check_found("-|ROBERT|HENDERSON|-", &[Rule::PhoneticNamesUndated]);
    check_found("-|HENDERSON|ROBART|-", &[Rule::PhoneticNamesUndated]);
    check_found("-|BOB|HENDERSON|-", &[]);
}

#[test]
fn a_client_with_day_and_month_swapped_into_an_impossible_date_is_found() {
    let file = b"id,first,last,dob\nA1,Robert,Henderson,1950-30-04\nA2,Mary,Henderson,1950-03-04\nA3,John,Kowalski,1950-03-04\n";
    let read = crate::client::read_client(
        "c.csv",
        &file[..],
        &crate::client::ClientOptions::new(dmf_model::Date::new(2026, 11, 23).expect("a date")),
    )
    .expect("a client file");
    assert_eq!(read.bad_cells, 1);
    let client = Prepared::new(&read.people[..1], tables());
    let master = Prepared::new(&blocking_master(), tables());
    let found = candidates(&client, &Blocks::build(&master, &default_rules()));
    assert!(found.pairs.contains(&(0, 0)));
    check_found(
        "-|ROBERT|HENDERSON|1950",
        &[Rule::PhoneticNamesBirthYear, Rule::PhoneticNamesUndated],
    );
}

#[test]
fn a_valid_date_with_day_and_month_swapped_is_found_by_the_date_rules() {
    check_found("-|BOB|HENDERSON|1950-04-03", &[Rule::DobPhoneticLast]);
    check_found("-|ROBERT|KOWALSKI|1950-04-03", &[Rule::DobPhoneticFirst]);
}

#[test]
fn an_ssn_with_one_digit_wrong_and_a_blank_date_is_found() {
    check_found(
        "123456780|ROBERT|HENDERSON|-",
        &[Rule::SsnHeadPhoneticNames, Rule::PhoneticNamesUndated],
    );
    check_found(
        "023456789|ROBERT|HENDERSON|-",
        &[Rule::SsnTailPhoneticNames, Rule::PhoneticNamesUndated],
    );
    check_found(
        "123456798|ROBERT|HENDERSON|1960-01-01",
        &[Rule::SsnHeadPhoneticNames],
    );
    check_found(
        "213456789|HENDERSON|ROBERT|1960-01-01",
        &[Rule::SsnTailPhoneticNames],
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn candidates_are_unique_and_sorted(
        master in prop::collection::vec((0usize..6, 0usize..6, 0u8..3, 0u8..3), 1..60),
        client in prop::collection::vec((0usize..6, 0usize..6, 0u8..3, 0u8..3), 1..30),
    ) {
        const FIRST: [&str; 6] = ["JOHN", "JON", "MARY", "SMITH", "BOB", "ROBERT"];
        const LAST: [&str; 6] = ["SMITH", "SMYTH", "JONES", "JOHN", "BROWN", "BRAUN"];
        let people = |v: &[(usize, usize, u8, u8)]| -> Vec<Person> {
            v.iter().map(|&(f, l, d, m)| person(&format!(
                "-|{}|{}|195{d}-0{}-0{}", FIRST[f], LAST[l], m + 1, 3 - m
            ))).collect()
        };
        let master = Prepared::new(&people(&master), tables());
        let client = Prepared::new(&people(&client), tables());
        let found = candidates(&client, &Blocks::build(&master, &default_rules()));
        let unique: HashSet<(u32, u32)> = found.pairs.iter().copied().collect();
        prop_assert_eq!(unique.len(), found.pairs.len());
        prop_assert!(found.pairs.windows(2).all(|w| w[0] < w[1]));
        let sum: u64 = found.per_rule.iter().map(|(_, n)| n).sum();
        prop_assert!(sum >= found.pairs.len() as u64);
    }
}

#[test]
fn candidates_are_every_pair_sharing_a_key() {
    // Sizes on both sides of the index's partitioning (256 partitions from 2,048 keys on).
    for (masters, seed) in [(1, 1), (40, 2), (3_000, 3), (6_000, 4)] {
        let w = world(masters, masters.min(300), 300, seed);
        let tables = NameTables::shipped();
        let master = Prepared::new(&w.master, &tables);
        let client = Prepared::new(&w.client, &tables);
        let rules = Rule::ALL.to_vec();
        let found = candidates(&client, &Blocks::build(&master, &rules));
        let keys = |p: &Prepared, probe: bool| -> Vec<Vec<Option<u64>>> {
            p.recs
                .iter()
                .map(|r| {
                    rules
                        .iter()
                        .map(|rule| if probe { rule.probe(r) } else { rule.key(r) })
                        .collect()
                })
                .collect()
        };
        let (ck, mk) = (keys(&client, true), keys(&master, false));
        let mut expect = Vec::new();
        let mut per_rule = vec![0u64; rules.len()];
        for (c, ckeys) in ck.iter().enumerate() {
            for (m, mkeys) in mk.iter().enumerate() {
                let mut shared = false;
                for (r, (a, b)) in ckeys.iter().zip(mkeys).enumerate() {
                    if a.is_some() && a == b {
                        per_rule[r] += 1;
                        shared = true;
                    }
                }
                if shared {
                    expect.push((c as u32, m as u32));
                }
            }
        }
        assert_eq!(found.pairs, expect, "{masters} master records");
        let got: Vec<u64> = found.per_rule.iter().map(|(_, n)| *n).collect();
        assert_eq!(got, per_rule, "{masters} master records");
    }
}

// --- scoring ------------------------------------------------------------------------------

fn a_match(client: u32, master: u32, weight: f64) -> Match {
    let levels = Levels::from_index(0);
    Match {
        client,
        master,
        levels,
        weight,
        probability: 1.0,
        class: class(&levels),
        review: false,
    }
}

#[test]
fn one_to_one_takes_the_heaviest_first() {
    let matches = vec![
        a_match(0, 0, 10.0),
        a_match(0, 1, 12.0),
        a_match(1, 1, 11.0),
        a_match(1, 2, 5.0),
        a_match(2, 0, 9.0),
    ];
    let kept: Vec<(u32, u32)> = one_to_one(matches)
        .iter()
        .map(|m| (m.client, m.master))
        .collect();
    assert_eq!(kept, [(0, 1), (1, 2), (2, 0)]);
    assert!(one_to_one(Vec::new()).is_empty());
}

// --- end to end ---------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "JAMES",
    "ROBERT",
    "JOHN",
    "MICHAEL",
    "WILLIAM",
    "DAVID",
    "RICHARD",
    "JOSEPH",
    "THOMAS",
    "CHARLES",
    "CHRISTOPHER",
    "DANIEL",
    "MATTHEW",
    "ANTHONY",
    "DONALD",
    "MARK",
    "PAUL",
    "STEVEN",
    "ANDREW",
    "KENNETH",
    "JOSHUA",
    "KEVIN",
    "BRIAN",
    "GEORGE",
    "EDWARD",
    "RONALD",
    "TIMOTHY",
    "JASON",
    "JEFFREY",
    "RYAN",
    "JACOB",
    "GARY",
    "NICHOLAS",
    "ERIC",
    "JONATHAN",
    "MARY",
    "PATRICIA",
    "JENNIFER",
    "LINDA",
    "ELIZABETH",
    "BARBARA",
    "SUSAN",
    "JESSICA",
    "SARAH",
    "KAREN",
    "NANCY",
    "LISA",
    "BETTY",
    "MARGARET",
    "SANDRA",
    "ASHLEY",
    "KIMBERLY",
    "EMILY",
    "DONNA",
    "MICHELLE",
    "DOROTHY",
    "CAROL",
    "AMANDA",
    "MELISSA",
    "DEBORAH",
    "STEPHANIE",
    "REBECCA",
    "SHARON",
    "LAURA",
    "CYNTHIA",
    "KATHLEEN",
    "AMY",
    "SHIRLEY",
    "ANGELA",
    "HELEN",
    "ANNA",
    "BRENDA",
    "PAMELA",
    "NICOLE",
    "EMMA",
    "SAMANTHA",
    "KATHERINE",
    "CHRISTINE",
    "DEBRA",
    "RACHEL",
    "CATHERINE",
    "CAROLYN",
    "JANET",
    "RUTH",
    "MARIA",
];

const NICKNAMES: &[(&str, &str)] = &[
    ("ROBERT", "BOB"),
    ("WILLIAM", "BILL"),
    ("RICHARD", "DICK"),
    ("JAMES", "JIM"),
    ("MICHAEL", "MIKE"),
    ("ELIZABETH", "BETH"),
    ("MARGARET", "PEGGY"),
    ("KATHERINE", "KATE"),
    ("THOMAS", "TOM"),
    ("JOSEPH", "JOE"),
];

/// One typing error: a letter replaced, dropped, doubled or swapped with the next.
fn typo(rng: &mut Pcg64Mcg, name: &str) -> String {
    let mut b = name.as_bytes().to_vec();
    let i = rng.random_range(0..b.len() - 1);
    match rng.random_range(0..4) {
        0 => b[i] = b'A' + rng.random_range(0..26u8),
        1 => {
            b.remove(i);
        }
        2 => b.insert(i, b[i]),
        _ => b.swap(i, i + 1),
    }
    String::from_utf8(b).expect("ASCII")
}

struct World {
    master: Vec<Person>,
    client: Vec<Person>,
    /// The master record of each client, if any.
    truth: Vec<Option<u32>>,
}

/// `masters` people, `planted` of them in the client file with the usual errors (one or none
/// each), and `others` clients who are not in the master.
fn world(masters: usize, planted: usize, others: usize, seed: u64) -> World {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let surnames: Vec<(String, u64)> = dmf_data::surnames().into_iter().take(3000).collect();
    let total: u64 = surnames.iter().map(|(_, n)| n).sum();
    let draw_person = |rng: &mut Pcg64Mcg| {
        let mut x = rng.random_range(0..total);
        let last = surnames
            .iter()
            .find(|(_, n)| {
                let hit = x < *n;
                x = x.saturating_sub(*n);
                hit
            })
            .map_or("SMITH", |(s, _)| s.as_str());
        let year = rng.random_range(1920..1990);
        let month = rng.random_range(1..=12);
        let day = rng.random_range(1..=28);
        let ssn = loop {
            if let Ok(s) = Ssn::from_number(rng.random_range(1_000_000..899_999_999)) {
                break s;
            }
        };
        Person {
            ssn: Some(ssn.into()),
            first: FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())].to_owned(),
            last: last.to_owned(),
            dob: Some(PartialDate::new(year, Some(month), Some(day)).expect("a date")),
            ..Person::default()
        }
    };
    let master: Vec<Person> = (0..masters).map(|_| draw_person(&mut rng)).collect();
    let mut client = Vec::new();
    let mut truth = Vec::new();
    for k in 0..planted {
        let i = rng.random_range(0..masters);
        let mut p = master[i].clone();
        let dob = p.dob.expect("a date");
        let (y, m, d) = (dob.year(), dob.month().expect("m"), dob.day().expect("d"));
        match k % 10 {
            0 => p.first = typo(&mut rng, &p.first),
            1 => p.last = typo(&mut rng, &p.last),
            2 => {
                if let Some((_, nick)) = NICKNAMES.iter().find(|(n, _)| *n == p.first) {
                    p.first = (*nick).to_owned();
                } else {
                    p.first = p.first[..1].to_owned();
                }
            }
            3 => std::mem::swap(&mut p.first, &mut p.last),
            4 if d <= 12 => p.dob = PartialDate::new(y, Some(d), Some(m)).ok(),
            5 => p.dob = PartialDate::new(y, Some(m), None).ok(),
            6 => p.dob = PartialDate::new(y + 1, Some(m), Some(d)).ok(),
            7 => p.last = format!("{} JR", p.last),
            _ => {}
        }
        client.push(p);
        truth.push(Some(i as u32));
    }
    for _ in 0..others {
        client.push(draw_person(&mut rng));
        truth.push(None);
    }
    World {
        master,
        client,
        truth,
    }
}

#[test]
fn links_planted_pairs_without_ssns() {
    let mut w = world(5_000, 200, 800, 11);
    for p in &mut w.client {
        p.ssn = None;
    }
    let tables = NameTables::shipped();
    let master = Prepared::new(&w.master, &tables);
    let client = Prepared::new(&w.client, &tables);
    let config = Config {
        u_sample: 200_000,
        one_to_one: true,
        ..Config::default()
    };
    let outcome = run(&client, &master, &tables, &config);
    let tp = outcome
        .matches
        .iter()
        .filter(|m| w.truth[m.client as usize] == Some(m.master))
        .count() as f64;
    let precision = tp / outcome.matches.len() as f64;
    let recall = tp / 200.0;
    let f1 = 2.0 * precision * recall / (precision + recall);
    assert!(f1 >= 0.95, "precision {precision} recall {recall} F1 {f1}");
    assert!(outcome.matches.iter().all(|m| m.probability >= 0.5));
    assert!(outcome.matches.iter().all(|m| matches!(m.class, 3 | 4)));
    let phases: Vec<&str> = outcome.timings.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        phases,
        [
            "blocks",
            "candidates",
            "compare",
            "u",
            "em",
            "score",
            "one_to_one"
        ]
    );
    assert!(outcome.training.is_some_and(|t| t.converged));

    // The model learnt scores as well when given back, through its text form.
    let given = Config {
        model: Some(Model::from_text(&outcome.model.to_text()).expect("a model")),
        ..config
    };
    let again = run(&client, &master, &tables, &given);
    assert_eq!(again.matches, outcome.matches);
    assert_eq!(again.training, None);
}

#[test]
fn links_planted_pairs_with_ssns() {
    let w = world(5_000, 200, 800, 12);
    let tables = NameTables::shipped();
    let master = Prepared::new(&w.master, &tables);
    let client = Prepared::new(&w.client, &tables);
    let config = Config {
        u_sample: 200_000,
        ..Config::default()
    };
    let outcome = run(&client, &master, &tables, &config);
    let best: Vec<&Match> = outcome
        .matches
        .chunk_by(|a, b| a.client == b.client)
        .map(|c| &c[0])
        .collect();
    let tp = best
        .iter()
        .filter(|m| w.truth[m.client as usize] == Some(m.master))
        .count();
    assert!(tp >= 198, "{tp} of 200 found");
    assert!(best.len() - tp <= 2, "{} false matches", best.len() - tp);
    // Sorted by client, then weight descending.
    assert!(outcome.matches.windows(2).all(|w| {
        w[0].client < w[1].client || (w[0].client == w[1].client && w[0].weight >= w[1].weight)
    }));
}

#[test]
fn empty_files_link_to_nothing() {
    let tables = NameTables::shipped();
    let none = Prepared::new(&[], &tables);
    let some = Prepared::new(&[person("123456789|JOHN|SMITH|1950-03-04")], &tables);
    for (client, master) in [(&none, &some), (&some, &none), (&none, &none)] {
        let outcome = run(client, master, &tables, &Config::default());
        assert_eq!(outcome.candidates, 0);
        assert!(outcome.matches.is_empty());
    }
}

#[test]
fn prepared_in_chunks_equals_prepared_at_once() {
    let w = world(500, 0, 0, 13);
    let tables = NameTables::shipped();
    let whole = Prepared::new(&w.master, &tables);
    let mut b = PreparedBuilder::new(&tables);
    for chunk in w.master.chunks(77) {
        b.extend(chunk);
    }
    let chunked = b.finish();
    assert_eq!(whole.len(), chunked.len());
    assert_eq!(whole.recs, chunked.recs);
    for i in 0..whole.len() {
        assert_eq!(whole.tf(i), chunked.tf(i));
    }
    assert_eq!(format!("{whole:?}"), "Prepared { len: 500, .. }");
}

#[test]
fn term_frequencies_are_against_the_average_name() {
    let people: Vec<Person> = ["JOHN|SMITH", "JOHN|SMITH", "JOHN|JONES", "MARY|SMITH"]
        .iter()
        .map(|n| person(&format!("-|{n}|1950-01-01")))
        .collect();
    let p = Prepared::new(&people, tables());
    // Shares 3/4 and 1/4; mean share 9/16 + 1/16 = 10/16.
    let tf = p.tf(0);
    assert!((tf.first - 0.75 / 0.625).abs() < 1e-6, "{tf:?}");
    assert!((tf.last - 0.75 / 0.625).abs() < 1e-6, "{tf:?}");
    assert!((p.tf(3).first - 0.25 / 0.625).abs() < 1e-6);
}

#[test]
fn estimate_u_is_seeded() {
    let w = world(2_000, 0, 500, 14);
    let tables = NameTables::shipped();
    let master = Prepared::new(&w.master, &tables);
    let client = Prepared::new(&w.client, &tables);
    let a = Model::estimate_u(&client, &master, &tables, 20_000, 5);
    let b = Model::estimate_u(&client, &master, &tables, 20_000, 5);
    assert_eq!(a, b);
    for f in 0..FIELDS.len() {
        let sum: f64 = a.field(f).iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
    // Random pairs rarely agree.
    assert!(a.dob[DobLevel::Different.index()] > 0.9);
    assert!(a.last[NameLevel::Different.index()] > 0.9);
}

// --- the fields beyond the four ------------------------------------------------------------

/// The levels of a pair of people given as `ssn|first|middle|last|suffix|sex|dob`.
fn levels_of_people(client: &str, master: &str) -> Levels {
    let p = |spec: &str| {
        let f: Vec<&str> = spec.split('|').collect();
        assert_eq!(f.len(), 7, "ssn|first|middle|last|suffix|sex|dob: {spec}");
        Person {
            ssn: (!f[0].is_empty()).then(|| f[0].parse().expect("nine digits")),
            first: f[1].to_owned(),
            middle: f[2].to_owned(),
            last: f[3].to_owned(),
            suffix: f[4].to_owned(),
            sex: match f[5] {
                "F" => Some(dmf_model::Sex::Female),
                "M" => Some(dmf_model::Sex::Male),
                _ => None,
            },
            dob: (!f[6].is_empty()).then(|| f[6].parse().expect("a date")),
        }
    };
    let c = Prepared::new(&[p(client)], tables());
    let m = Prepared::new(&[p(master)], tables());
    compare(&c, 0, &m, 0, tables())
}

#[test]
fn middle_suffix_and_sex_levels() {
    let cases = [
        // client middle, suffix, sex | master middle, suffix, sex | middle, suffix, sex
        ("JAMES|JR|M", "JAMES|JR|M", "exact exact exact"),
        ("J|JR.|M", "JAMES|JR|", "initial exact missing"),
        ("J||F", "J||F", "initial missing exact"),
        ("JAMIE|III|F", "JAMES|3RD|M", "similar exact different"),
        ("JAMES|JR|", "ROBERT|SR|", "different different missing"),
        ("K|II|", "JAMES|IV|", "different different missing"),
        ("|ESQ|", "JAMES|JR|", "missing missing missing"),
        ("NMN|MD|U", "JAMES||F", "missing missing missing"),
    ];
    for (c, m, expect) in cases {
        let (c, m): (Vec<&str>, Vec<&str>) = (c.split('|').collect(), m.split('|').collect());
        let l = levels_of_people(
            &format!("|JOHN|{}|SMITH|{}|{}|1950-03-04", c[0], c[1], c[2]),
            &format!("|JOHN|{}|SMITH|{}|{}|1950-03-04", m[0], m[1], m[2]),
        );
        let got = format!("{} {} {}", l.middle.code(), l.suffix.code(), l.sex.code());
        assert_eq!(got, expect, "{c:?} against {m:?}");
    }
}

#[test]
fn an_ssn_under_another_first_name_is_shared() {
    let cases = [
        // client first last | master first last | SSN level
        ("JOHN SMITH", "MARY SMITH", "shared"),
        ("JOHN SMITH", "MARY SMYTH", "shared"),
        ("JOHN SMITH", "MARY JONES", "exact"),
        ("JOHN SMITH", "JON SMITH", "exact"),
        ("JOHN SMITH", "JOHN SMITH", "exact"),
        (" SMITH", "MARY SMITH", "exact"),
        ("UNKNOWN SMITH", "MARY SMITH", "exact"),
        ("SMITH JOHN", "JOHN SMITH", "exact"),
    ];
    for (c, m, expect) in cases {
        let (cf, cl) = c.split_once(' ').expect("two names");
        let (mf, ml) = m.split_once(' ').expect("two names");
        let l = levels_of_people(
            &format!("123456789|{cf}||{cl}|||1950-03-04"),
            &format!("123456789|{mf}||{ml}|||1950-03-04"),
        );
        assert_eq!(l.ssn.code(), expect, "{c} against {m}");
    }
}

#[test]
fn placeholder_names_are_missing() {
    for name in ["UNKNOWN", "Unk", "FNU", "baby girl", "NFN"] {
        let l = levels_of_people(
            &format!("|{name}||SMITH|||1950-03-04"),
            "|JOHN||SMITH|||1950-03-04",
        );
        assert_eq!(l.first, NameLevel::Missing, "{name}");
    }
}

#[test]
fn a_shared_ssn_weighs_in_place_of_both_names() {
    let model = known_model();
    let shared = Levels {
        ssn: SsnLevel::Shared,
        first: NameLevel::Different,
        last: NameLevel::Exact,
        ..Levels::from_index(Levels::COUNT - 1)
    };
    let c = model.contributions(&shared);
    assert_eq!(c[1], ("first", "different", 0.0));
    assert_eq!(c[2], ("last", "exact", 0.0));
    let tf = model.tf_adjustments(
        &shared,
        Tf {
            first: 0.01,
            last: 0.01,
        },
    );
    assert_eq!(tf, [0.0, 0.0]);
}

#[test]
fn differing_ssns_are_a_match_only_under_close_agreement_and_then_reviewed() {
    let cases = [
        ("different exact exact exact", true, true),
        ("different nickname jw92 day_month_swapped", true, true),
        ("different exact exact one_component", false, true),
        ("different exact exact missing", false, true),
        ("different jw85 exact one_digit", true, true),
        ("different phonetic exact exact", false, true),
        ("different exact exact year_pm1", false, true),
        ("exact exact exact different", true, true),
        ("shared different exact exact", true, true),
        ("exact exact exact exact", true, false),
    ];
    for (text, admitted, reviewed) in cases {
        let w: Vec<&str> = text.split(' ').collect();
        let levels = four(
            SsnLevel::from_code(w[0]).expect("ssn"),
            NameLevel::from_code(w[1]).expect("first"),
            NameLevel::from_code(w[2]).expect("last"),
            DobLevel::from_code(w[3]).expect("dob"),
        );
        assert_eq!(admissible(&levels), admitted, "{text}");
        assert_eq!(needs_review(&levels, 0.999), reviewed, "{text}");
    }
}

#[test]
fn pooling_keeps_closer_levels_heavier_and_m_summing_to_one() {
    let mut model = known_model();
    // A transposition learnt heavier than an exact SSN, a jw85 surname heavier than a jw92.
    model.m.ssn = vec![0.5, 0.04, 0.44, 0.0, 0.02];
    model.u.ssn = vec![0.001, 0.004, 0.0005, 0.0, 0.9945];
    model.m.last = vec![0.8, 0.0, 0.0, 0.01, 0.14, 0.01, 0.01, 0.03];
    model.monotone();
    let w = |p: &[f64], u: &[f64], i: usize| (p[i] / u[i]).log2();
    assert!(w(&model.m.ssn, &model.u.ssn, 0) >= w(&model.m.ssn, &model.u.ssn, 2) - 1e-9);
    assert!(w(&model.m.last, &model.u.last, 3) >= w(&model.m.last, &model.u.last, 4) - 1e-9);
    for f in 0..FIELDS.len() {
        let sum: f64 = model.m.field(f).iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "field {f}: {sum}");
    }
}

/// Indexing only the master records some client looks up finds the same candidates, per rule
/// and capped counts included, as indexing them all.
#[test]
fn blocks_for_a_client_file_find_what_full_blocks_find() {
    let w = world(20_000, 500, 500, 23);
    let tables = NameTables::shipped();
    let master = Prepared::new(&w.master, &tables);
    let mut clients = w.client.clone();
    // Some undated and SSN-less rows, so that every rule is looked up by someone.
    for p in clients.iter_mut().step_by(7) {
        p.dob = None;
    }
    for p in clients.iter_mut().step_by(5) {
        p.ssn = None;
    }
    let client = Prepared::new(&clients, &tables);
    for cap in [DEFAULT_BLOCK_CAP, 3] {
        let full = candidates(&client, &Blocks::build_with_cap(&master, &Rule::ALL, cap));
        let for_file = candidates(
            &client,
            &Blocks::build_for(&client, &master, &Rule::ALL, cap),
        );
        assert_eq!(full.pairs, for_file.pairs, "cap {cap}");
        assert_eq!(full.per_rule, for_file.per_rule, "cap {cap}");
        assert_eq!(full.capped, for_file.capped, "cap {cap}");
        assert_eq!(full.capped_pairs, for_file.capped_pairs, "cap {cap}");
        assert!(!full.pairs.is_empty());
    }
    // A rule no client record looks up costs no index: no client here lacks a full date.
    let full_dates: Vec<Person> = w
        .client
        .iter()
        .filter(|p| p.dob.is_some_and(|d| d.day().is_some()))
        .cloned()
        .collect();
    let dated = Prepared::new(&full_dates, &tables);
    let blocks = Blocks::build_for(&dated, &master, &[Rule::PhoneticNamesUndated], 10);
    assert_eq!(blocks.memory(), 12);
}

/// A client matches one master record at most: equally good candidates share the odds, and a
/// candidate with no rival keeps the probability its weight gives.
#[test]
fn a_clients_candidates_share_its_probability() {
    let model = known_model();
    let tables = NameTables::shipped();
    let twins: Vec<Person> = (0..15)
        .map(|i| Person {
            ssn: Some(Ssn::from_number(301_010_001 + i).expect("an SSN").into()),
            ..person("-|MARY|SMITH|1950-03-04")
        })
        .collect();
    let master = Prepared::new(&twins, &tables);
    let client = Prepared::new(
        &[
            person("-|MARY|SMITH|1950-03-04"),
            person("-|JOHN|DOE|1960-01-02"),
        ],
        &tables,
    );
    let pairs: Vec<(u32, u32)> = (0..15).map(|m| (0, m)).collect();
    let alone =
        model.probability(model.weight_tf(&compare(&client, 0, &master, 0, &tables), master.tf(0)));
    assert!(alone > 0.99, "{alone}");
    let shared = score(&client, &master, &pairs, &model, &tables, 0.0);
    assert_eq!(shared.len(), 15);
    let sum: f64 = shared.iter().map(|m| m.probability).sum();
    assert!(sum < 1.0 && sum > 0.99, "{sum}");
    assert!(
        shared
            .iter()
            .all(|m| m.probability < 1.0 / 15.0 + 1e-9 && m.review)
    );
    let one = score(&client, &master, &[(0, 3)], &model, &tables, 0.0);
    assert!((one[0].probability - alone).abs() < 1e-12);
}

/// One person compared with each of a few, unprepared, gives the levels a prepared file gives.
#[test]
fn compare_each_agrees_with_compare_on_prepared_files() {
    let tables = NameTables::shipped();
    let person = |first: &str, last: &str, dob: &str| Person {
        first: first.into(),
        last: last.into(),
        dob: Some(dob.parse().unwrap()),
        ..Person::default()
    };
    let query = person("BOB", "JONES", "1941-07-04");
    let people = [
        person("ROBERT", "JONES", "1941-07-04"),
        person("JONES", "ROBERT", "1941-04-07"),
        person("ROBIN", "JONAS", "1942-07-04"),
        person("QUENTIN", "UNSEEN", "1950"),
    ];
    let refs: Vec<PersonRef<'_>> = people.iter().map(PersonRef::from).collect();
    let each = crate::compare_each(&PersonRef::from(&query), &refs, &tables);
    let q = Prepared::new(std::slice::from_ref(&query), &tables);
    let m = Prepared::new(&people, &tables);
    for (i, levels) in each.iter().enumerate() {
        assert_eq!(*levels, compare(&q, 0, &m, i, &tables), "{i}");
    }
    assert_eq!(each[0].first, NameLevel::Nickname);
}
