//! Labels files in, decisions or the first problem out; `m` refit from labels; calibration bands.

use super::*;
use crate::levels::{DobLevel, NameLevel, SsnLevel};
use crate::model::{DEFAULT_TF_FLOOR, FieldParams};

/// The labels read (`line id ssn label`) and the counts, or the error.
fn render(bytes: &[u8]) -> String {
    match read_labels("l.csv", bytes) {
        Ok(f) => {
            let mut out: Vec<String> = f
                .labels
                .iter()
                .map(|l| {
                    format!(
                        "{} {} {} {}",
                        l.line,
                        l.client_id,
                        l.ssn,
                        if l.truth { "match" } else { "non-match" }
                    )
                })
                .collect();
            out.push(format!(
                "rows {} unsure {} duplicates {}",
                f.rows, f.unsure, f.duplicates
            ));
            out.join("\n")
        }
        Err(e) => format!("error {e}"),
    }
}

#[test]
fn labels_files_read_or_name_file_line_column_and_reason() {
    let cases: &[(&[u8], &str)] = &[
        // What the report exports.
        (
            b"client_id,ssn,label\r\nA1,123456789,match\r\nA2,234567890,non-match\r\nA3,345678901,unsure\r\n",
            "2 A1 123456789 match\n3 A2 234567890 non-match\nrows 3 unsure 1 duplicates 0",
        ),
        // Other words, any case and order, dashes, a quoted id, extra columns, a byte-order mark.
        (
            b"\xEF\xBB\xBFLabel,client_id,note,SSN\n1,A1,x,123-45-6789\nNo,\"B,2\",,234567890\nTRUE,A3,,345678901\n0,A4,,456789012\n,A5,,567890123\n",
            "2 A1 123456789 match\n3 B,2 234567890 non-match\n4 A3 345678901 match\n5 A4 456789012 non-match\nrows 5 unsure 1 duplicates 0",
        ),
        // A matches file with a label column added is a labels file.
        (
            b"client_id,ssn,match_weight,match_probability,label\nA1,123456789,3.2,0.61,yes\n\nA1,123456789,3.2,0.61,yes\n",
            "2 A1 123456789 match\nrows 2 unsure 0 duplicates 1",
        ),
        (b"", "error l.csv: the file is empty: a header naming client_id, ssn and label is required"),
        (
            b"id,ssn,label\nA1,123456789,match\n",
            "error l.csv:1: no column \"client_id\" (columns: id, ssn, label); the header is client_id,ssn,label",
        ),
        (
            b"client_id,ssn,decision\n",
            "error l.csv:1: no column \"label\" (columns: client_id, ssn, decision); the header is client_id,ssn,label",
        ),
        (
            b"client_id,ssn,label\nA1,123456789,match\nA2,234567890\n",
            "error l.csv:3: 2 cells where the header has 3",
        ),
        (
            b"client_id,ssn,label\n  ,123456789,match\n",
            "error l.csv:2:1: client_id: blank",
        ),
        (
            b"client_id,ssn,label\nA1,12345678,match\n",
            "error l.csv:2:2: ssn: \"12345678\" is not nine digits (or AAA-GG-SSSS)",
        ),
        (
            b"client_id,ssn,label\nA1,,match\n",
            "error l.csv:2:2: ssn: \"\" is not nine digits (or AAA-GG-SSSS)",
        ),
        (
            b"client_id,ssn,label\nA1,123456789,maybe\n",
            "error l.csv:2:3: label: \"maybe\" is not match, non-match or unsure (nor 1/0, yes/no, true/false, or blank)",
        ),
        (
            b"client_id,ssn,label\nA1,123456789,match\nA2,123456789,match\nA1,123-45-6789,no\n",
            "error l.csv:4:3: label: non-match here, match on line 2 for the same client_id and ssn",
        ),
        (
            b"client_id,ssn,label\nA1,123456789,m\xE9tch\n",
            "error l.csv:2: not UTF-8",
        ),
    ];
    for (bytes, expect) in cases {
        assert_eq!(render(bytes), *expect, "{}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn every_label_word_reads_one_way() {
    let cases = [
        ("match", Some(Decision::Match)),
        ("MATCH", Some(Decision::Match)),
        (" yes ", Some(Decision::Match)),
        ("1", Some(Decision::Match)),
        ("true", Some(Decision::Match)),
        ("non-match", Some(Decision::NonMatch)),
        ("No", Some(Decision::NonMatch)),
        ("0", Some(Decision::NonMatch)),
        ("false", Some(Decision::NonMatch)),
        ("unsure", Some(Decision::Unsure)),
        ("", Some(Decision::Unsure)),
        ("2", None),
        ("nonmatch", None),
    ];
    for (text, expect) in cases {
        let got = Decision::parse(text);
        assert_eq!(got, expect, "{text:?}");
        // Each decision's own word reads back as it.
        if let Some(d) = got {
            assert_eq!(Decision::parse(d.word()), Some(d));
        }
    }
}

/// Levels from `field=code` words, every field not named exact.
fn levels(spec: &str) -> Levels {
    let mut l = Levels::from_index(0);
    for word in spec.split_whitespace() {
        let (field, code) = word.split_once('=').expect("field=code");
        let name = || NameLevel::from_code(code).expect("a name level");
        match field {
            "ssn" => l.ssn = SsnLevel::from_code(code).expect("an SSN level"),
            "first" => l.first = name(),
            "last" => l.last = name(),
            "dob" => l.dob = DobLevel::from_code(code).expect("a date level"),
            _ => panic!("unknown field {field}"),
        }
    }
    l
}

fn model() -> Model {
    let mut u = FieldParams::uniform();
    // Random pairs mostly disagree.
    for f in 0..FIELDS.len() {
        let u = u.field_mut(f);
        let n = u.len();
        u.iter_mut().for_each(|p| *p = 0.01 / (n - 1) as f64);
        u[n - 1] = 0.99;
    }
    Model {
        lambda: 1e-6,
        m: FieldParams::m_priors(),
        u,
        tf_floor: DEFAULT_TF_FLOOR,
    }
}

fn m_of(model: &Model, field: &str, code: &str) -> f64 {
    let f = FIELDS.iter().position(|x| *x == field).unwrap();
    let l = match field {
        "ssn" => SsnLevel::from_code(code).unwrap().index(),
        "dob" => DobLevel::from_code(code).unwrap().index(),
        _ => NameLevel::from_code(code).unwrap().index(),
    };
    model.m.field(f)[l]
}

#[test]
fn labels_move_m_toward_their_counts_a_little_when_few_and_a_lot_when_many() {
    let before = model();
    let prior = m_of(&before, "first", "nickname");
    // (true nickname matches, other true matches, non-matches, m of a first-name nickname).
    let cases = [
        (0, 0, 40, prior),
        (1, 0, 0, (PRIOR_PAIRS * prior + 1.0) / (PRIOR_PAIRS + 1.0)),
        (5, 5, 0, (PRIOR_PAIRS * prior + 5.0) / (PRIOR_PAIRS + 10.0)),
        (
            50,
            0,
            10,
            (PRIOR_PAIRS * prior + 50.0) / (PRIOR_PAIRS + 50.0),
        ),
        (
            500,
            500,
            0,
            (PRIOR_PAIRS * prior + 500.0) / (PRIOR_PAIRS + 1000.0),
        ),
    ];
    for (nick, other, non, expect) in cases {
        let mut labelled = vec![(levels("first=nickname"), true); nick];
        labelled.extend(vec![(levels(""), true); other]);
        labelled.extend(vec![(levels("first=nickname"), false); non]);
        let after = refit(&before, &labelled);
        let got = m_of(&after, "first", "nickname");
        assert!((got - expect).abs() < 1e-12, "{nick} {other} {non}: {got}");
        // Toward the labels' share, never past it.
        let share = if nick + other > 0 {
            nick as f64 / (nick + other) as f64
        } else {
            prior
        };
        assert!((prior..=share).contains(&got) || (share..=prior).contains(&got));
        for f in 0..FIELDS.len() {
            let m = after.m.field(f);
            assert!(m.iter().all(|&p| p > 0.0), "{nick}: {m:?}");
            assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{nick}: {m:?}");
        }
        assert_eq!(
            (after.u.clone(), after.lambda),
            (before.u.clone(), before.lambda)
        );
    }
    // A single label moves m by less than two points.
    let one = refit(&before, &[(levels("first=nickname"), true)]);
    assert!(m_of(&one, "first", "nickname") - prior < 0.02);
}

#[test]
fn refit_keeps_every_m_positive_and_skips_missing_fields() {
    let mut before = model();
    // A loaded model may carry a zero m.
    let f = FIELDS.iter().position(|x| *x == "ssn").unwrap();
    before.m.field_mut(f)[SsnLevel::Transposed.index()] = 0.0;
    let labelled = vec![(levels("ssn=missing dob=different"), true); 200];
    let after = refit(&before, &labelled);
    assert!(m_of(&after, "ssn", "transposed") > 0.0);
    // The SSN was missing in every label: its m keeps its shares.
    let shares: f64 = before.m.field(f).iter().sum();
    let exact = m_of(&before, "ssn", "exact") / shares;
    assert!((m_of(&after, "ssn", "exact") - exact).abs() < 1e-6);
    let expect = (PRIOR_PAIRS * m_of(&before, "dob", "different") + 200.0) / (PRIOR_PAIRS + 200.0);
    assert!((m_of(&after, "dob", "different") - expect).abs() < 1e-12);
}

#[test]
fn a_held_out_pair_is_scored_by_a_refit_without_it() {
    let before = model();
    let nick = levels("first=nickname");
    let swapped = levels("dob=day_month_swapped");
    let labelled = [(nick, true), (nick, true), (swapped, true), (nick, false)];
    let held = HeldOut::new(&before, &labelled);
    assert_eq!(held.all(), &refit(&before, &labelled));
    assert_eq!(held.model(&nick, false), held.all());
    assert_eq!(
        held.model(&nick, true),
        &refit(&before, &[(nick, true), (swapped, true)])
    );
    assert_eq!(
        held.model(&swapped, true),
        &refit(&before, &[(nick, true), (nick, true)])
    );
    // One label alone leaves nothing to learn from once held out.
    let single = HeldOut::new(&before, &[(nick, true)]);
    for f in 0..FIELDS.len() {
        let (a, b) = (single.model(&nick, true).m.field(f), before.m.field(f));
        assert!(
            a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12),
            "{a:?} {b:?}"
        );
    }
}

#[test]
fn calibration_counts_pairs_and_true_matches_per_band() {
    let scored = [
        (0.0, false),
        (0.049, true),
        (0.05, false),
        (0.19, false),
        (0.2, true),
        (0.49, false),
        (0.5, true),
        (0.79, true),
        (0.8, true),
        (0.949, false),
        (0.95, true),
        (1.0, true),
    ];
    let got: Vec<(f64, f64, u64, u64)> = calibration(&scored)
        .iter()
        .map(|b| (b.lo, b.hi, b.pairs, b.true_matches))
        .collect();
    assert_eq!(
        got,
        [
            (0.0, 0.05, 2, 1),
            (0.05, 0.2, 2, 0),
            (0.2, 0.5, 2, 1),
            (0.5, 0.8, 2, 2),
            (0.8, 0.95, 2, 1),
            (0.95, 1.0, 2, 2),
        ]
    );
    let empty = calibration(&[]);
    assert_eq!(empty.len(), BANDS.len());
    assert!(empty.iter().all(|b| b.share().is_none()));
    assert_eq!(calibration(&scored)[3].share(), Some(1.0));
}
