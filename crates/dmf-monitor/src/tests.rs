//! The monitor's checks as tables, its counts held to `dmf_ledger::stats::Counter` and its
//! alerts to the registry's detector, and whole passes against a static tile server.

mod http;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use dmf_ledger::leaf::{EventRef, LeafKey};
use dmf_ledger::stats::{Counter, Period};
use dmf_log::{
    Checkpoint, CosignerKey, Hash, MemoryTree, Policy, SigningKey, add_signatures, leaf_hash, root,
};
use dmf_model::Date;
use dmf_registry::oversight::anomaly::{Observation, Thresholds, detect};

use self::http::{Server, checkpoint};
use crate::*;

const LOG: &str = "monitor.test/log";

fn log_key() -> SigningKey {
    SigningKey::from_seed(LOG, [7; 32]).unwrap()
}

fn witness(name: &str, seed: u8) -> CosignerKey {
    CosignerKey::from_seed(name, [seed; 32]).unwrap()
}

/// A day's noon in milliseconds since 1970.
fn noon(day: &str) -> i64 {
    let d: Date = day.parse().unwrap();
    i64::from(d.days_since_epoch()) * 86_400_000 + 43_200_000
}

/// The public leaf of event `seq`, as the registry makes it.
fn leaf(seq: u64, kind: &str, time_ms: i64, body: &str) -> Vec<u8> {
    dmf_ledger::leaf::leaf(
        &LeafKey::new(&[9; 32]),
        dmf_registry::public::leaf_fields,
        EventRef {
            seq,
            kind,
            subject: None,
            idempotency_key: None,
            recorded_at: time_ms,
            body: body.as_bytes(),
        },
    )
    .unwrap()
}

/// A varied stream of events: people, submitted, imported and amending death reports, notices
/// from authorities (one name spelt with escapes and once without), contest decisions, over
/// several days.
fn leaves(n: u64) -> Vec<Vec<u8>> {
    (1..=n)
        .map(|seq| {
            let day = format!("2026-10-{:02}", 1 + (seq / 97) % 28);
            let t = noon(&day) + (seq as i64 % 1000);
            let ssn = format!("{:09}", 100_000_000 + seq);
            let (kind, body) = match seq % 9 {
                0 => ("person", format!(r#"{{"ssn":"{ssn}","first":"Ann","last":"Lee"}}"#)),
                1 => ("death_report", format!(
                    r#"{{"ssn":"{ssn}","dod":"2026-09-30","source":"state","evidence":["c-{seq}"],"verification":"V","received":"2026-10-01"}}"#
                )),
                2 => ("death_report", format!(
                    r#"{{"ssn":"{ssn}","dod":"1999-01-01","source":"federal_agency","evidence":["dmf"],"received":"2026-10-01","origin":"import"}}"#
                )),
                3 => ("death_report", format!(
                    r#"{{"ssn":"{ssn}","dod":"2026-09-29","source":"funeral_home","evidence":["fh"],"received":"2026-10-01","supersedes":{}}}"#,
                    seq - 2
                )),
                4 => ("status_notice", format!(
                    r#"{{"ssn":"{ssn}","kind":"employment_authorization_ended","authority":"DHS USCIS","legal_basis":"8 CFR 274a.14","document":"N-{seq}"}}"#
                )),
                5 => ("status_notice", format!(
                    r#"{{"ssn":"{ssn}","kind":"benefits_suspended","authority":"Bureau \"Q\" \u00e9","legal_basis":"20 CFR 404","document":"N-{seq}"}}"#
                )),
                6 => ("status_notice", format!(
                    r#"{{"ssn":"{ssn}","kind":"benefits_suspended","authority":"Bureau \"Q\" é","legal_basis":"20 CFR 404","document":"N-{seq}"}}"#
                )),
                7 => ("contest_decision", format!(
                    r#"{{"ssn":"{ssn}","decision":"upheld","notice":{}}}"#,
                    seq - 3
                )),
                _ => ("death_report", format!(
                    r#"{{"ssn":"{ssn}","dod":"2026-09-30","source":"family","evidence":["f"],"received":"2026-10-01"}}"#
                )),
            };
            leaf(seq, kind, t, &body)
        })
        .collect()
}

fn tree(leaves: &[Vec<u8>]) -> MemoryTree {
    leaves.iter().map(|l| leaf_hash(l)).collect()
}

// ---- trust ----------------------------------------------------------------------------

/// What `Trust::check` says, in a word and the witnesses.
fn verdict(trust: &Trust, note: &str) -> String {
    match trust.check(note) {
        Ok(t) => format!("ok {} [{}]", t.checkpoint.size, t.cosigned.join(",")),
        Err(Refusal::Signature(_)) => "bad signature".into(),
        Err(Refusal::Quorum { cosigned, .. }) => format!("no quorum [{}]", cosigned.join(",")),
    }
}

#[test]
fn notes_are_believed_only_with_the_log_signature_and_the_cosignatures_required() {
    let l = leaves(20);
    let t = tree(&l);
    let at = |n: u64| Checkpoint {
        origin: LOG.into(),
        size: n,
        root: root(&t, n).unwrap(),
        extensions: Vec::new(),
    };
    let (w1, w2, w3) = (
        witness("w1.test", 1),
        witness("w2.test", 2),
        witness("w3.test", 3),
    );
    let cosign = |c: &Checkpoint, ws: &[&CosignerKey]| {
        ws.iter().fold(log_key().sign(c), |note, w| {
            add_signatures(&note, &w.cosign(c, 1_765_000_000)).unwrap()
        })
    };
    let policy = Policy::parse(&format!(
        "log {}\nwitness w1 {}\nwitness w2 {}\nwitness w3 {}\ngroup g 2 w1 w2 w3\nquorum g\n",
        log_key().verifier().to_text(),
        w1.verifier().to_text(),
        w2.verifier().to_text(),
        w3.verifier().to_text()
    ))
    .unwrap();
    let plain = Trust::new(log_key().verifier(), None, Vec::new()).unwrap();
    let quorum = Trust::new(log_key().verifier(), Some(policy), Vec::new()).unwrap();
    let listed = Trust::new(log_key().verifier(), None, vec![w1.verifier()]).unwrap();
    let other = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    let renamed = SigningKey::from_seed("other.test/log", [7; 32]).unwrap();
    // A cosignature of checkpoint 10 pasted under checkpoint 12.
    let moved =
        add_signatures(&log_key().sign(&at(12)), &w1.cosign(&at(10), 1_765_000_000)).unwrap();
    let check = |trust: &Trust, note: &str, expect: &str| {
        assert_eq!(verdict(trust, note), expect, "{note}");
    };
    check(&plain, &log_key().sign(&at(12)), "ok 12 []");
    check(&plain, &other.sign(&at(12)), "bad signature");
    check(
        &plain,
        &renamed.sign(&Checkpoint {
            origin: "other.test/log".into(),
            ..at(12)
        }),
        "bad signature",
    );
    check(
        &plain,
        &log_key().sign(&Checkpoint {
            origin: "other.test/log".into(),
            ..at(12)
        }),
        "bad signature",
    );
    check(&plain, "not a note\n", "bad signature");
    check(
        &plain,
        &log_key().sign(&at(12)).replacen("\n12\n", "\n13\n", 1),
        "bad signature",
    );
    check(&quorum, &log_key().sign(&at(12)), "no quorum []");
    check(&quorum, &cosign(&at(12), &[&w1]), "no quorum [w1]");
    check(&quorum, &cosign(&at(12), &[&w1, &w3]), "ok 12 [w1,w3]");
    check(
        &quorum,
        &cosign(&at(12), &[&w1, &w2, &w3]),
        "ok 12 [w1,w2,w3]",
    );
    check(&listed, &cosign(&at(12), &[&w1]), "ok 12 [w1.test]");
    check(&listed, &cosign(&at(12), &[&w2]), "no quorum []");
    check(&listed, &moved, "no quorum []");
    // A policy of another log cannot check this one.
    let foreign = Policy::parse(&format!(
        "log {}\nquorum none\n",
        other.verifier().to_text()
    ))
    .unwrap();
    assert_eq!(
        Trust::new(log_key().verifier(), Some(foreign), Vec::new()).unwrap_err(),
        TrustError::LogNotInPolicy(LOG.into())
    );
}

// ---- consistency ----------------------------------------------------------------------

fn seen(from: &str, size: u64, root: Hash, served: bool) -> Seen {
    let checkpoint = Checkpoint {
        origin: LOG.into(),
        size,
        root,
        extensions: Vec::new(),
    };
    Seen {
        from: from.into(),
        note: log_key().sign(&checkpoint),
        checkpoint,
        served,
    }
}

/// Findings as `kind: from, from` lines (the evidence's sources), for tables.
fn kinds(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let from: Vec<&str> = f.evidence.iter().map(|e| e.from.as_str()).collect();
            format!("{:?}: {}", f.kind, from.join(", "))
        })
        .collect()
}

#[test]
fn rollbacks_are_smaller_trees_than_seen_before() {
    let h = [1; 32];
    // (verified size, largest size each URL served before, served now, files, expected)
    type Case<'a> = (
        Option<u64>,
        &'a [(&'a str, u64)],
        &'a [(&'a str, u64)],
        &'a [(&'a str, u64)],
        &'a [&'a str],
    );
    let cases: &[Case<'_>] = &[
        (Some(10), &[], &[("a", 10)], &[], &[]),
        (Some(10), &[], &[("a", 12)], &[], &[]),
        (Some(10), &[], &[("a", 8)], &[], &["Rollback: state, a"]),
        (
            Some(10),
            &[("a", 12)],
            &[("a", 10)],
            &[],
            &["Rollback: state, a"],
        ),
        (None, &[("a", 12)], &[("a", 10)], &[], &["Rollback: a"]),
        // A mirror behind a node that is not is not a rollback.
        (Some(10), &[], &[("a", 8), ("b", 10)], &[], &[]),
        (
            Some(10),
            &[("a", 9)],
            &[("a", 8), ("b", 10)],
            &[],
            &["Rollback: state, a"],
        ),
        (
            Some(10),
            &[],
            &[("a", 10)],
            &[("f", 11)],
            &["Rollback: f, a"],
        ),
        (Some(10), &[], &[("a", 10)], &[("f", 9)], &[]),
        // Nothing served: nothing to judge.
        (Some(10), &[("a", 12)], &[], &[("f", 11)], &[]),
    ];
    for (verified, before, served, files, expect) in cases {
        let v = verified.map(|n| seen("state", n, h, false));
        let before: BTreeMap<String, u64> = before.iter().map(|(u, n)| ((*u).into(), *n)).collect();
        let served: Vec<Seen> = served.iter().map(|(u, n)| seen(u, *n, h, true)).collect();
        let files: Vec<Seen> = files.iter().map(|(f, n)| seen(f, *n, h, false)).collect();
        let found = rollbacks(
            v.as_ref(),
            &before,
            &served.iter().collect::<Vec<_>>(),
            &files.iter().collect::<Vec<_>>(),
        );
        assert_eq!(
            kinds(&found),
            *expect,
            "{verified:?} {before:?} {served:?} {files:?}"
        );
    }
}

#[test]
fn trees_that_do_not_agree_are_split_views() {
    let l = leaves(40);
    let t = tree(&l);
    // The same first 30 leaves, then others.
    let mut forked = l.clone();
    forked[30] = leaf(31, "person", noon("2026-10-05"), r#"{"ssn":"999999999"}"#);
    let f = tree(&forked);
    let r = |t: &MemoryTree, n: u64| root(t, n).unwrap();

    // Same size.
    type Served<'a> = &'a [(&'a str, u64, Hash)];
    let table: &[(Served<'_>, &[&str])] = &[
        (&[("a", 40, r(&t, 40)), ("b", 40, r(&t, 40))], &[]),
        (
            &[("a", 40, r(&t, 40)), ("b", 40, r(&f, 40))],
            &["SplitView: a, b"],
        ),
        (
            &[
                ("a", 40, r(&t, 40)),
                ("b", 40, r(&f, 40)),
                ("c", 40, r(&f, 40)),
            ],
            &["SplitView: a, b"],
        ),
        (&[("a", 30, r(&t, 30)), ("b", 30, r(&f, 30))], &[]),
        (&[("a", 35, r(&t, 35)), ("b", 36, r(&f, 36))], &[]),
    ];
    for (given, expect) in table {
        let s: Vec<Seen> = given
            .iter()
            .map(|(u, n, h)| seen(u, *n, *h, true))
            .collect();
        assert_eq!(
            kinds(&same_size(&s.iter().collect::<Vec<_>>())),
            *expect,
            "{given:?}"
        );
    }

    // Smaller than a verified tree: a prefix of it, or not.
    let verified = seen("state", 40, r(&t, 40), false);
    let table: &[(u64, &MemoryTree, Option<&str>)] = &[
        (30, &t, None),
        (30, &f, None),
        (31, &t, None),
        (31, &f, Some("SplitView: state, b")),
        (39, &f, Some("SplitView: state, b")),
    ];
    for (n, of, expect) in table {
        let c = seen("b", *n, r(of, *n), true);
        let found = against_tree(&verified, &c, &r(&t, *n));
        assert_eq!(
            kinds(&Vec::from_iter(found)).first().map(String::as_str),
            *expect,
            "{n}"
        );
    }

    // Extended by the entries served: they must build the checkpoint's root.
    let target = seen("b", 40, r(&f, 40), true);
    let from_30 = seen("state", 30, r(&t, 30), false);
    let from_35 = seen("state", 35, r(&t, 35), false);
    let table: &[(Option<&Seen>, Hash, Option<&str>)] = &[
        (Some(&from_30), r(&f, 40), None),
        // Entries of the fork on top of the verified tree: not its root.
        (Some(&from_35), r(&t, 40), Some("SplitView: state, b")),
        (None, r(&t, 40), Some("BadEntries: b")),
        (None, r(&f, 40), None),
    ];
    for (previous, rebuilt, expect) in table {
        let found = extension(*previous, &target, rebuilt);
        assert_eq!(
            kinds(&Vec::from_iter(found)).first().map(String::as_str),
            *expect
        );
    }
}

#[test]
fn the_exit_status_is_the_most_serious_finding() {
    let f = |k| Finding::new(k, "x", Vec::new());
    let table: &[(&[Kind], usize, u8)] = &[
        (&[], 0, 0),
        (&[Kind::Behind], 0, 0),
        (&[], 2, 1),
        (&[Kind::Unchecked], 2, 3),
        (&[Kind::MalformedLeaf], 0, 3),
        (&[Kind::Unchecked, Kind::SplitView], 1, 2),
        (&[Kind::MissingQuorum], 0, 2),
        (&[Kind::BadEntries, Kind::Behind], 0, 2),
    ];
    for (found, alerts, code) in table {
        let found: Vec<Finding> = found.iter().map(|k| f(*k)).collect();
        assert_eq!(
            Status::of(&found, *alerts).code(),
            *code,
            "{found:?} {alerts}"
        );
    }
}

// ---- leaves, statistics and intake ----------------------------------------------------

#[test]
fn recounted_statistics_are_those_of_the_ledger_counter() {
    let l = leaves(2000);
    let mut counter = Counter::new(Period::Day);
    // Counted on four "threads", in any order: a tally is order-free.
    let mut tallies: Vec<Tally> = (0..4).map(|_| Tally::new()).collect();
    for (i, leaf) in l.iter().enumerate() {
        counter.add(leaf).unwrap();
        tallies[(i * 7) % 4]
            .add(&scan(leaf, i as u64).unwrap())
            .unwrap();
    }
    let mut counts = Counts::new();
    for t in tallies {
        counts.add(t);
    }
    let t = tree(&l);
    let r = root(&t, 2000).unwrap();
    let expect = counter.stats(LOG, &r);
    assert_eq!(counts.stats(LOG, &r), expect);
    // The authority spelt with escapes and without is one row.
    assert!(
        expect
            .rows
            .iter()
            .any(|row| row.authority.as_deref() == Some("Bureau \"Q\" é")),
        "{:?}",
        expect.rows
    );
    // Kept and restored, the counts go on the same.
    let again = Counts::restore(counts.leaves(), counts.rows(), counts.intake_rows()).unwrap();
    assert_eq!(again, counts);
}

#[test]
fn malformed_leaves_are_named_and_the_counter_refuses_them_too() {
    let good = String::from_utf8(leaf(
        5,
        "status_notice",
        noon("2026-10-02"),
        r#"{"kind":"benefits_suspended","authority":"SSA","document":"d"}"#,
    ))
    .unwrap();
    let commit = good.find(",\"commit\":").unwrap();
    // (leaf, its index, what the scan says, whether the ledger's counter refuses it too: it
    // reads JSON, so a leaf without commitments is still a leaf to it)
    let table: &[(String, u64, &str, bool)] = &[
        (good.clone(), 4, "ok", false),
        (good.clone(), 6, "holds event 5, expected 7", true),
        (
            good.replacen("{\"v\":1", "{\"v\":2", 1),
            4,
            "unknown leaf version 2",
            true,
        ),
        (
            good.replacen("\"SSA\"", "17", 1),
            4,
            "authority is not a string",
            true,
        ),
        (
            good.replacen("\"SSA\"", "\"SSA\",\"authority\":\"X\"", 1),
            4,
            "the key \"authority\" twice",
            true,
        ),
        (format!("{good}x"), 4, "bytes after the leaf's object", true),
        (
            good.replacen("\"SSA\"", "\"S\nA\"", 1),
            4,
            "a control character",
            true,
        ),
        (
            good.replacen("\"SSA\"", "\"S\\qA\"", 1),
            4,
            "a bad escape",
            true,
        ),
        (good[..good.len() - 1].to_owned(), 4, "expected \"}\"", true),
        (
            good.replacen("T12:00:00.000Z", "", 1)
                .replacen("2026-10-02", "2026", 1),
            4,
            "malformed time",
            true,
        ),
        (format!("{}}}", &good[..commit]), 4, "expected \",\"", false),
        (
            good.replacen(",\"commit\":{", ",\"komit\":{", 1),
            4,
            "expected a value",
            false,
        ),
    ];
    for (text, index, expect, refused) in table {
        let found = match scan(text.as_bytes(), *index).and_then(|v| Tally::new().add(&v)) {
            Ok(()) => "ok".to_owned(),
            Err(e) => e,
        };
        assert!(found.starts_with(expect), "{text}: {found}");
        let mut counter = Counter::new(Period::Day);
        for i in 1..=*index {
            counter
                .add(&leaf(i, "person", noon("2026-10-01"), "{}"))
                .unwrap();
        }
        assert_eq!(counter.add(text.as_bytes()).is_err(), *refused, "{text}");
    }
}

#[test]
fn intake_is_formed_as_the_registry_forms_it() {
    type GroupDay<'a> = Option<(&'a str, &'a str)>;
    let table: &[(&str, &str, GroupDay<'_>)] = &[
        (
            "death_report",
            r#"{"source":"state","dod":"2026-09-30"}"#,
            Some(("source:state", "2026-10-03")),
        ),
        (
            "death_report",
            r#"{"source":"family","verification":"P"}"#,
            Some(("source:family", "2026-10-03")),
        ),
        (
            "death_report",
            r#"{"source":"state","origin":"import"}"#,
            None,
        ),
        (
            "death_report",
            r#"{"source":"state","origin":"import_change"}"#,
            None,
        ),
        ("death_report", r#"{"source":"state","supersedes":4}"#, None),
        (
            "status_notice",
            r#"{"authority":"DHS USCIS","kind":"employment_authorization_ended"}"#,
            Some(("authority:DHS USCIS", "2026-10-03")),
        ),
        ("person", r#"{"ssn":"123456789"}"#, None),
        ("correction", r#"{"kind":"reinstate"}"#, None),
    ];
    for (kind, body, expect) in table {
        let l = leaf(1, kind, noon("2026-10-03"), body);
        let mut t = Tally::new();
        t.add(&scan(&l, 0).unwrap()).unwrap();
        let (counted, _) = t.into_counts().pop().unwrap();
        let found = intake_group(&counted).map(|(g, d)| (g, d.to_string()));
        assert_eq!(
            found,
            expect.map(|(g, d)| (g.to_owned(), d.to_owned())),
            "{kind} {body}"
        );
    }
    // A time outside the calendar the registry keeps is nobody's day, as there.
    let l = leaf(
        1,
        "status_notice",
        -100_000_000_000_000,
        r#"{"authority":"A"}"#,
    );
    let mut t = Tally::new();
    t.add(&scan(&l, 0).unwrap()).unwrap();
    assert_eq!(intake_group(&t.into_counts()[0].0), None);
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn alerts_of_new_days_are_those_the_detector_gives_on_all_of_history() {
    let mut rng = Lcg(3);
    let start = Date::new(2025, 1, 1).unwrap().days_since_epoch();
    let mut found = 0;
    for case in 0..12 {
        let mut intake = Intake::new();
        // Groups with gaps, quiet spells and bursts, over up to 400 days.
        for g in 0..3 {
            let group = format!("authority:A{g}");
            let first = start + rng.below(60) as i32;
            let days = 30 + rng.below(370) as i32;
            for d in first..first + days {
                if rng.below(5) == 0 {
                    continue;
                }
                let mut n = 20 + rng.below(40);
                if rng.below(40) == 0 {
                    n += 300 + rng.below(3000);
                }
                intake.entry(group.clone()).or_default().insert(d, n);
            }
        }
        // New days: the last stretch of each group, or a scattered few of its days.
        let mut new = NewDays::new();
        for (group, days) in &intake {
            let all: Vec<i32> = days.keys().copied().collect();
            let picked: BTreeSet<i32> = if case % 2 == 0 {
                let from = all.len() - 1 - rng.below((all.len() as u64 / 3).max(1)) as usize;
                all[from..].iter().copied().collect()
            } else {
                all.iter().copied().filter(|_| rng.below(10) == 0).collect()
            };
            new.insert(group.clone(), picked);
        }
        let thresholds = Thresholds::default();
        let ours = alerts(&intake, &new, &thresholds);
        // The detector on every observation, as the registry would run it.
        let mut all = Vec::new();
        for (group, days) in &intake {
            for (&d, &n) in days {
                for _ in 0..n {
                    all.push(Observation {
                        day: Date::from_days_since_epoch(d).unwrap(),
                        group: group.clone(),
                        age: None,
                        held: None,
                    });
                }
            }
        }
        let latest = intake
            .values()
            .filter_map(|d| d.keys().next_back())
            .max()
            .unwrap();
        let year = Date::from_days_since_epoch(*latest).unwrap().year();
        let expect: Vec<_> = detect(&all, &thresholds.config(year))
            .into_iter()
            .filter(|a| new[&a.group].contains(&a.day.days_since_epoch()))
            .collect();
        assert_eq!(ours, expect, "case {case}");
        found += expect.len();
    }
    // Not a comparison of nothing with nothing.
    assert!(found > 10, "{found} alerts in all");
}

// ---- state ----------------------------------------------------------------------------

#[test]
fn the_state_and_its_hashes_resume_where_they_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let l = leaves(700);
    let t = tree(&l);
    let mut hashes = Hashes::open(Some(&path), 0).unwrap();
    let mut state = State::new(&log_key().verifier());
    for h in t.leaves() {
        hashes.push(h).unwrap();
        state.frontier.push(*h, |_, _, _| {});
    }
    state.note = Some(log_key().sign(&checkpoint(&log_key(), &l, 700)));
    state.urls.insert("http://a".into(), 700);
    hashes.sync().unwrap();
    state.save(&path).unwrap();
    for n in [1, 255, 256, 257, 512, 699, 700] {
        assert_eq!(hashes.root_at(n).unwrap(), root(&t, n).unwrap(), "{n}");
    }
    // A pass cut short left hashes past the state's size: they are cut off.
    hashes.push(&[5; 32]).unwrap();
    hashes.sync().unwrap();
    drop(hashes);
    let back = State::load(&path, &log_key().verifier()).unwrap().unwrap();
    assert_eq!(back.frontier, state.frontier);
    assert_eq!(
        (back.note.as_deref(), back.urls.get("http://a")),
        (state.note.as_deref(), Some(&700))
    );
    let hashes = Hashes::open(Some(&path), back.size()).unwrap();
    assert_eq!(hashes.len(), 700);
    // Another log's key does not read it; fewer hashes than the tree is a broken state.
    let other = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    assert!(matches!(
        State::load(&path, &other.verifier()),
        Err(StateError::OtherLog { .. })
    ));
    assert!(matches!(
        Hashes::open(Some(&path), 701),
        Err(StateError::Corrupt { .. })
    ));
    // A state whose frontier is not its note's tree is refused.
    let text = std::fs::read_to_string(&path).unwrap();
    let root_b64 = checks_b64(&root(&t, 700).unwrap());
    std::fs::write(&path, text.replacen(&root_b64, &checks_b64(&[0; 32]), 1)).unwrap();
    assert!(matches!(
        State::load(&path, &log_key().verifier()),
        Err(StateError::Corrupt { .. })
    ));
}

fn checks_b64(h: &Hash) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, h)
}

// ---- whole passes against a tile server -----------------------------------------------

fn config(urls: &[&str], files: Vec<(String, String)>) -> Config {
    Config {
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        trust: Trust::new(log_key().verifier(), None, Vec::new()).unwrap(),
        checkpoints: files,
        thresholds: Thresholds::default(),
        workers: 4,
        timeout: Duration::from_secs(10),
    }
}

fn pass(m: &mut Monitor) -> Report {
    m.pass(&|_, _| {}).unwrap()
}

fn summary(r: &Report) -> (u8, u64, u64, Vec<String>) {
    (
        r.exit,
        r.size,
        r.leaves_read,
        r.findings.iter().map(|f| format!("{:?}", f.kind)).collect(),
    )
}

#[test]
fn a_log_is_followed_from_nothing_and_resumed_from_its_state() {
    let l = leaves(1300);
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    server.publish(&log_key(), &l, 1000);
    let mut m = Monitor::open(config(&[&server.url], Vec::new()), Some(&state)).unwrap();
    let r = pass(&mut m);
    assert_eq!(summary(&r), (0, 1000, 1000, vec![]));
    let mut counter = Counter::new(Period::Day);
    l[..1000].iter().for_each(|x| counter.add(x).unwrap());
    assert_eq!(r.stats, counter.stats(LOG, &root(&tree(&l), 1000).unwrap()));
    // Nothing new: nothing read.
    assert_eq!(summary(&pass(&mut m)), (0, 1000, 0, vec![]));
    drop(m);
    // The log grows (into the middle of a tile); a new monitor resumes from the state.
    server.publish(&log_key(), &l, 1300);
    let mut m = Monitor::open(config(&[&server.url], Vec::new()), Some(&state)).unwrap();
    let r = pass(&mut m);
    assert_eq!(summary(&r), (0, 1300, 300, vec![]));
    counter = Counter::new(Period::Day);
    l.iter().for_each(|x| counter.add(x).unwrap());
    assert_eq!(r.stats, counter.stats(LOG, &root(&tree(&l), 1300).unwrap()));
    // The text names the log, the URL, the size and what was read.
    let text = r.text();
    assert!(
        text.contains(&format!("{LOG}: {}: 1300 leaves, root ", server.url))
            && text.contains("300 leaves read"),
        "{text}"
    );
}

#[test]
fn forks_rollbacks_and_bad_answers_are_reported() {
    let l = leaves(600);
    let mut forked = l.clone();
    forked[450] = leaf(451, "person", noon("2026-10-05"), r#"{"ssn":"999999999"}"#);
    let (a, b) = (Server::start(), Server::start());
    a.publish(&log_key(), &l, 500);
    b.publish(&log_key(), &forked, 520);
    // Two URLs of one log at once: b's tree at 500 is not a's.
    let mut m = Monitor::open(config(&[&a.url, &b.url], Vec::new()), None).unwrap();
    let r = pass(&mut m);
    assert_eq!(summary(&r), (2, 520, 520, vec!["SplitView".into()]));
    assert_eq!(
        r.findings[0]
            .evidence
            .iter()
            .map(|e| e.from.clone())
            .collect::<Vec<_>>(),
        vec![b.url.clone(), a.url.clone()]
    );

    // A state from a, then b: its entries do not extend a's tree.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut m = Monitor::open(config(&[&a.url], Vec::new()), Some(&state)).unwrap();
    assert_eq!(summary(&pass(&mut m)).0, 0);
    drop(m);
    let mut m = Monitor::open(config(&[&b.url], Vec::new()), Some(&state)).unwrap();
    let r = pass(&mut m);
    assert_eq!(summary(&r), (2, 500, 20, vec!["SplitView".into()]));
    // The state still holds a's tree, and a is still fine.
    drop(m);
    let mut m = Monitor::open(config(&[&a.url], Vec::new()), Some(&state)).unwrap();
    assert_eq!(summary(&pass(&mut m)), (0, 500, 0, vec![]));

    // a rolls back to 400: a rollback, consistent as it is.
    let old = a.publish(&log_key(), &l, 400);
    let r = pass(&mut m);
    assert_eq!(summary(&r), (2, 500, 0, vec!["Rollback".into()]));
    // A checkpoint file larger than anything served.
    let file = (
        "seen.note".to_owned(),
        log_key().sign(&checkpoint(&log_key(), &l, 600)),
    );
    let mut m2 = Monitor::open(config(&[&a.url], vec![file]), None).unwrap();
    assert_eq!(
        summary(&pass(&mut m2)),
        (2, 400, 400, vec!["Rollback".into()])
    );
    drop(old);

    // Answers that are not bundles, and entries that do not build the root.
    let c = Server::start();
    c.publish(&log_key(), &l, 300);
    c.put("/log/tile/entries/001.p/44", b"\x00\x05abc".to_vec());
    let mut m = Monitor::open(config(&[&c.url], Vec::new()), None).unwrap();
    assert_eq!(summary(&pass(&mut m)).3, vec!["Unchecked".to_owned()]);
    assert_eq!(summary(&pass(&mut m)).0, 3);
    c.publish(&log_key(), &l, 300);
    let mut wrong = l[256..300].to_vec();
    wrong[3] = leaf(260, "person", noon("2026-10-05"), r#"{"ssn":"999999999"}"#);
    c.put(
        "/log/tile/entries/001.p/44",
        dmf_log::tiles::bundle(wrong.iter().map(Vec::as_slice)).unwrap(),
    );
    let r = pass(&mut m);
    assert_eq!(summary(&r), (2, 0, 300, vec!["BadEntries".into()]));
    // A URL that answers nothing, beside one that does.
    let mut m = Monitor::open(config(&[&a.url, "http://127.0.0.1:9"], Vec::new()), None).unwrap();
    assert_eq!(
        summary(&pass(&mut m)),
        (3, 400, 400, vec!["Unchecked".into()])
    );
    // A checkpoint signed by another key.
    let other = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    c.publish(&other, &l, 300);
    let mut m = Monitor::open(config(&[&c.url], Vec::new()), None).unwrap();
    assert_eq!(
        summary(&pass(&mut m)),
        (2, 0, 0, vec!["BadSignature".into()])
    );
}

#[test]
fn a_mirror_behind_is_named_not_blamed() {
    let l = leaves(600);
    let (a, b) = (Server::start(), Server::start());
    a.publish(&log_key(), &l, 600);
    b.publish(&log_key(), &l, 333);
    let mut m = Monitor::open(config(&[&a.url, &b.url], Vec::new()), None).unwrap();
    let r = pass(&mut m);
    assert_eq!(summary(&r), (0, 600, 600, vec!["Behind".into()]));
    assert!(r.findings[0].message.contains(&b.url), "{:?}", r.findings);
}

#[test]
fn leaves_that_are_not_the_published_layout_are_named_and_left_uncounted() {
    // A log whose leaves 100 to 129 are not leaves of the layout: signed all the same.
    let mut l = leaves(300);
    for (i, x) in l.iter_mut().enumerate().skip(100).take(30) {
        *x = format!("entry {i}").into_bytes();
    }
    let server = Server::start();
    server.publish(&log_key(), &l, 300);
    let mut m = Monitor::open(config(&[&server.url], Vec::new()), None).unwrap();
    let r = pass(&mut m);
    assert_eq!((r.exit, r.size, r.leaves_read), (3, 300, 300));
    let named: Vec<&str> = r.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(named.len(), 11, "{named:?}");
    assert!(named[0].starts_with("leaf 100 (from http"), "{named:?}");
    assert_eq!(named[10], "20 more leaves are not counted");
    assert_eq!((r.stats.tree_size, m.state().malformed), (270, 30));
}
