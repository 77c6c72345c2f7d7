//! Snapshots read back: the same index as replaying every event, over random event streams of
//! every kind; and every damaged file refused with its reason.

use proptest::prelude::*;

use super::*;
use crate::answers::{self, IdentityQuery};
use crate::event::Event;
use crate::submission::parse_line;

fn today() -> dmf_model::Date {
    "2026-11-23".parse().unwrap()
}

fn key() -> MacKey {
    MacKey::new(&[7; 32])
}

const SSNS: [&str; 6] = [
    "123450001",
    "123450002",
    "123450003",
    "223450004",
    "323450005",
    "423450006",
];
const FIRSTS: [&str; 4] = ["Ann", "Anne", "Bob", "José"];
const LASTS: [&str; 3] = ["Lee", "Leigh", "O'Brien"];
const SOURCES: [&str; 6] = [
    "state",
    "funeral_home",
    "family",
    "hospital",
    "federal_agency",
    "financial_institution",
];

/// One submission line of any kind the registry stores, from a few random numbers: the same
/// few SSNs and names again and again, so that reports agree, conflict, are held, corrected,
/// contested and reviewed.
fn line(kind: u8, ssn: usize, a: usize, b: usize, c: usize, seq: u64) -> String {
    let ssn = SSNS[ssn % SSNS.len()];
    let first = FIRSTS[a % FIRSTS.len()];
    let last = LASTS[b % LASTS.len()];
    let dob = ["1950-03-04", "1950-04-03", "1949", "1961-07-30"][c % 4];
    let dod = ["2026-10-01", "2026-10-02", "2026-09", "2025"][(a + c) % 4];
    let source = SOURCES[(b + c) % SOURCES.len()];
    match kind % 12 {
        0..=4 => format!(
            r#"{{"type":"death_report","ssn":"{ssn}","first":"{first}","last":"{last}","dob":"{dob}","dod":"{dod}","source":"{source}","evidence":"e-{seq}"}}"#
        ),
        5 => format!(
            r#"{{"type":"status_notice","ssn":"{ssn}","first":"{first}","last":"{last}","dob":"{dob}","kind":"{}","authority":"DHS","legal_basis":"8 CFR 274a.14","document":"N-{seq}","effective":"2026-11-{:02}"}}"#,
            ["employment_authorization_ended", "benefits_suspended"][c % 2],
            10 + a % 15
        ),
        6 => {
            format!(r#"{{"type":"contest","ssn":"{ssn}","reason":"my authorization was renewed"}}"#)
        }
        7 => format!(
            r#"{{"type":"contest_decision","ssn":"{ssn}","notice":{},"decision":"{}","decided_by":"adj-4","reason":"hearing"}}"#,
            1 + seq.saturating_sub(1 + a as u64 % 6),
            ["upheld", "denied"][c % 2]
        ),
        8 => format!(
            r#"{{"type":"correction","ssn":"{ssn}","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}}"#
        ),
        9 => format!(
            r#"{{"type":"review","ssn":"{ssn}","event":{},"decision":"{}","by":"{}","evidence":"called the registrar"}}"#,
            1 + seq.saturating_sub(1 + a as u64 % 6),
            ["confirm", "reject"][c % 2],
            ["cw-1", "cw-2"][b % 2]
        ),
        10 => format!(
            r#"{{"type":"identity_change","ssn":"{ssn}","last":"{last}","first":"{first}","reason":"marriage","evidence":"MC-{seq}","requested_by":"cw-1"{}}}"#,
            if c.is_multiple_of(2) {
                r#","approved_by":"sup-2""#
            } else {
                ""
            }
        ),
        _ => format!(r#"{{"type":"verification","ssn":"{ssn}","approved_by":"cw-9"}}"#),
    }
}

/// The events of `raw` the intake rules accept, in order, as the writer would store them.
fn accepted(raw: &[(u8, usize, usize, usize, usize)]) -> Vec<Event> {
    let mut index = Index::default();
    let mut out = Vec::new();
    for &(kind, ssn, a, b, c) in raw {
        let seq = out.len() as u64 + 1;
        let event = if kind % 12 < 2 {
            // Numberholder records come from imports, not submissions.
            Event::Person(crate::event::PersonRecord {
                ssn: SSNS[ssn % SSNS.len()].parse().unwrap(),
                name: dmf_model::PersonName::parse(
                    FIRSTS[a % FIRSTS.len()],
                    None,
                    LASTS[b % LASTS.len()],
                    None,
                )
                .unwrap(),
                sex: Some([Sex::Female, Sex::Male][c % 2]),
                dob: ["1950-03-04", "1950-04-03", "1949", "1961-07-30"][c % 4]
                    .parse()
                    .ok(),
                birth_state: None,
            })
        } else {
            match parse_line(&line(kind, ssn, a, b, c, seq), today()) {
                Ok(sub) => sub.event,
                Err(_) => continue,
            }
        };
        let state = index.get(event.ssn()).cloned().unwrap_or_default();
        if state.check(event.ssn(), &event).is_ok() {
            index.apply(seq, &event);
            out.push(event);
        }
    }
    out
}

fn replayed(events: &[Event]) -> Index {
    let mut index = Index::default();
    for (i, e) in events.iter().enumerate() {
        index.apply(i as u64 + 1, e);
    }
    index
}

/// Everything an answer or a caseworker reads of an index, in SSN order.
fn everything(index: &Index) -> (Vec<(u32, PersonState)>, u64, u64, Vec<u32>) {
    let mut states: Vec<(u32, PersonState)> = index.iter().map(|(s, p)| (s, p.clone())).collect();
    states.sort_by_key(|(s, _)| *s);
    let work = index.open_work().map(|(s, _)| s).collect();
    (states, index.head, index.identity_changes(), work)
}

fn answers_of(index: &Index) -> Vec<String> {
    let mut out = Vec::new();
    for ssn in SSNS {
        for first in FIRSTS {
            let q = IdentityQuery {
                ssn: ssn.parse().unwrap(),
                first: first.to_owned(),
                last: "Lee".to_owned(),
                dob: "1950-03-04".parse().unwrap(),
            };
            let state = index.get(q.ssn);
            out.push(format!(
                "{:?} {:?} {:?}",
                answers::identity(&q, state),
                state.map(|s| answers::employment_status(s, today())),
                answers::benefits(&q, state, today())
            ));
        }
    }
    out
}

fn round_trip(index: &Index) -> Index {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.snapshot");
    write(&path, index, index.head, [9; 32], &key()).unwrap();
    let (header, back) = read_file(&path, &key()).unwrap();
    assert_eq!((header.size, header.root), (index.head, [9; 32]));
    back
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A node that starts from a snapshot taken after any prefix of a random stream and applies
    /// the rest holds exactly what one that replays the whole stream holds, and answers alike.
    #[test]
    fn a_snapshot_and_the_events_after_it_are_the_index_rebuilt_from_every_event(
        raw in proptest::collection::vec((0u8..12, 0usize..6, 0usize..8, 0usize..8, 0usize..8), 1..120),
        cut in 0.0f64..=1.0,
    ) {
        let events = accepted(&raw);
        let at = (events.len() as f64 * cut) as usize;
        let mut restarted = round_trip(&replayed(&events[..at]));
        for (i, e) in events.iter().enumerate().skip(at) {
            restarted.apply(i as u64 + 1, e);
        }
        let rebuilt = replayed(&events);
        prop_assert_eq!(everything(&restarted), everything(&rebuilt));
        prop_assert_eq!(answers_of(&restarted), answers_of(&rebuilt));
    }
}

/// A stream of 120 random lines of every kind from `seed`.
fn stream(seed: u64) -> Vec<(u8, usize, usize, usize, usize)> {
    let mut rng = seed;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as usize
    };
    (0..120)
        .map(|_| {
            (
                (next() % 12) as u8,
                next() % 6,
                next() % 8,
                next() % 8,
                next() % 8,
            )
        })
        .collect()
}

/// The generator reaches the rarer states the snapshot encodes separately, so that the
/// property above covers them.
#[test]
fn the_random_streams_reach_every_rarer_state() {
    let mut seen = [false; 8];
    for seed in 0..200 {
        let raw = stream(seed);
        let index = replayed(&accepted(&raw));
        for (_, s) in index.iter() {
            let Some(e) = s.extra() else { continue };
            let kinds = [
                !e.pending.is_empty(),
                !e.review.is_empty(),
                !e.corroborations.is_empty(),
                !e.corrected.is_empty(),
                !e.notices.is_empty(),
                !e.held.is_empty(),
                !e.former.is_empty(),
                !e.proposed.is_empty(),
            ];
            for (s, k) in seen.iter_mut().zip(kinds) {
                *s |= k;
            }
        }
        let back = round_trip(&index);
        assert_eq!(everything(&back), everything(&index));
    }
    assert_eq!(
        seen, [true; 8],
        "pending, review, corroborations, corrected, notices, held, former, proposed"
    );
}

fn sample() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    // A stream with someone dead on file and someone with rarer state.
    let index = (0..)
        .map(|seed| replayed(&accepted(&stream(seed))))
        .find(|index| {
            index.iter().any(|(_, s)| s.extra().is_some())
                && index
                    .iter()
                    .any(|(_, s)| s.identity.is_some() && s.death.is_some())
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.snapshot");
    write(&path, &index, index.head, [9; 32], &key()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, bytes)
}

/// Every damage is refused with its reason, never read as an index.
#[test]
fn a_damaged_snapshot_is_refused_with_its_reason() {
    let (_dir, _path, good) = sample();
    assert!(read(&good, &key()).is_ok());
    let header = Header::parse(&good).unwrap();
    let people_at = HEADER + header.names_bytes as usize;
    let check = |name: &str, bytes: Vec<u8>, key: &MacKey, expect: &str| {
        let got = read(&bytes, key).map(|_| ()).unwrap_err().to_string();
        assert!(got.contains(expect), "{name}: {got}");
    };
    let flip = |at: usize| {
        let mut b = good.clone();
        b[at] ^= 1;
        b
    };
    check("empty", Vec::new(), &key(), "not an index snapshot");
    check(
        "another file",
        b"SQLite format 3\0".to_vec(),
        &key(),
        "not an index snapshot",
    );
    let mut old = good.clone();
    old[8..12].copy_from_slice(&0u32.to_le_bytes());
    check(
        "an older format",
        old,
        &key(),
        "format 0, and this build reads format 1",
    );
    check(
        "cut short",
        good[..good.len() - 1].to_vec(),
        &key(),
        "cut short or grown",
    );
    check(
        "cut in the header",
        good[..100].to_vec(),
        &key(),
        "cut short or grown",
    );
    let mut grown = good.clone();
    grown.push(0);
    check("grown", grown, &key(), "cut short or grown");
    check(
        "a person's death flag flipped",
        flip(people_at + 35),
        &key(),
        "its MAC is not",
    );
    check("a name changed", flip(HEADER + 1), &key(), "its MAC is not");
    check("the tree size changed", flip(16), &key(), "its MAC is not");
    check("the root changed", flip(30), &key(), "its MAC is not");
    check(
        "an extra changed",
        flip(good.len() - TRAILER - 3),
        &key(),
        "its MAC is not",
    );
    check(
        "the MAC changed",
        flip(good.len() - 1),
        &key(),
        "its MAC is not",
    );
    check(
        "another registry's key",
        good.clone(),
        &MacKey::new(&[8; 32]),
        "its MAC is not",
    );
}

/// A file the registry's own key signed but whose records do not decode (a writer's bug, not
/// an attacker) is refused, naming the record.
#[test]
fn a_record_that_does_not_decode_is_refused_naming_it() {
    let (_dir, _path, good) = sample();
    let header = Header::parse(&good).unwrap();
    let people_at = HEADER + header.names_bytes as usize;
    let resign = |mut b: Vec<u8>| {
        let h = Header::parse(&b).unwrap();
        let names = &b[HEADER..HEADER + h.names_bytes as usize];
        let people = &b[HEADER + h.names_bytes as usize..][..h.people as usize * RECORD];
        let extras_at = HEADER + h.names_bytes as usize + h.people as usize * RECORD;
        let extras = &b[extras_at..extras_at + h.extras_bytes as usize];
        let hashes: Vec<[u8; 32]> = people
            .chunks(BLOCK * RECORD)
            .map(|c| Sha256::digest(c).into())
            .collect();
        let d = digest(&b[..HEADER], names, &hashes, extras);
        let n = b.len();
        b[n - 64..n - 32].copy_from_slice(&d);
        b[n - 32..].copy_from_slice(&key().file_tag(DOMAIN, &d));
        b
    };
    let check = |name: &str, at: usize, value: &[u8], expect: &str| {
        let mut b = good.clone();
        b[at..at + value.len()].copy_from_slice(value);
        let got = read(&resign(b), &key())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(got.contains(expect), "{name}: {got}");
    };
    let first_ssn = good[people_at..people_at + 4].to_vec();
    // A person with an identity and a death, whose every field is read.
    let whole = (0..header.people as usize)
        .find(|&i| good[people_at + i * RECORD + 35] & 3 == 3)
        .unwrap();
    let people_at = people_at + whole * RECORD;
    let person = format!("person {whole}:");
    check(
        "unknown flags",
        people_at + 35,
        &[0x80],
        "person 0: flags 0x80",
    );
    check(
        "an SSN of area 000",
        people_at,
        &1234u32.to_le_bytes(),
        &format!("{person} 1234 is not an SSN"),
    );
    check(
        "a death source out of range",
        people_at + 32,
        &[9],
        "death source 9",
    );
    check("a sex out of range", people_at + 16, &[3], "sex code 3");
    check(
        "a name number not in the table",
        people_at + 4,
        &u32::MAX.to_le_bytes(),
        "is not in the table",
    );
    check(
        "a second person of the same SSN",
        HEADER + header.names_bytes as usize + RECORD,
        &first_ssn,
        "is listed twice",
    );
}

/// The name table is carried by letters, not numbers: a snapshot read into a process whose
/// table numbers names otherwise gives the same names.
#[test]
fn names_are_read_back_by_their_letters() {
    let (_dir, path, _) = sample();
    let (_, before) = read_file(&path, &key()).unwrap();
    crate::names::LastKey::of("ZZYZX-NEVER-ON-FILE-BEFORE");
    let (_, after) = read_file(&path, &key()).unwrap();
    assert_eq!(everything(&before), everything(&after));
    for (_, s) in after.iter() {
        if let Some(id) = &s.identity {
            assert!(
                LASTS
                    .iter()
                    .any(|l| crate::names::LastKey::of(l) == id.last)
            );
        }
    }
}

/// Every lookup a search makes of `index`'s name index, sorted, for the names and dates on file.
fn lookups(index: &Index) -> Vec<Vec<u32>> {
    let names = index.names().unwrap();
    let mut out = Vec::new();
    for last in LASTS {
        for dob in ["1950-03-04", "1950-04-03", "1949", "1961-07-30"] {
            let mut found = names
                .lookup(
                    &dmf_match::Lookup {
                        names: &[last],
                        dob: dob.parse().ok(),
                    },
                    10_000,
                )
                .positions;
            found.sort_unstable();
            out.push(found);
        }
    }
    out
}

/// A name index built away from the lock from a copy, with identities changed and people added
/// meanwhile, finds what one built at once from the final index finds. (A server restarted from
/// a snapshot answers at once and builds it so.)
#[test]
fn a_name_index_built_from_a_copy_is_brought_up_to_date_when_installed() {
    for seed in 0..40 {
        let events = accepted(&stream(seed));
        let half = events.len() / 2;
        let mut index = replayed(&events[..half]);
        let source = index.name_source();
        for (i, e) in events.iter().enumerate().skip(half) {
            index.apply(i as u64 + 1, e);
        }
        let built = source.build();
        index.install_names(built, source);
        let mut fresh = replayed(&events);
        fresh.index_names();
        assert_eq!(lookups(&index), lookups(&fresh), "seed {seed}");
        // And kept in step afterwards.
        let more = accepted(&stream(seed + 1000));
        for (i, e) in more.iter().enumerate() {
            index.apply((events.len() + i) as u64 + 1, e);
            fresh.apply((events.len() + i) as u64 + 1, e);
        }
        assert_eq!(lookups(&index), lookups(&fresh), "seed {seed}, later");
    }
}
