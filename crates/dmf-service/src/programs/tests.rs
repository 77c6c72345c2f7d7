//! The program journal on a SQLite file: the conformance suite, the replay of journals as
//! they have always been written, and strict decoding.

use super::*;

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    conformance::run_all(&mut || {
        n += 1;
        Box::new(sqlite::SqliteJournal::open(&dir.path().join(format!("{n}.sqlite"))).unwrap())
    });
}

/// One entry of each kind, in exactly the form journals have always been written: (kind,
/// agreement, actor, body).
const OLD_JOURNAL: [(&str, Option<i64>, &str, &str); 11] = [
    (
        "agreement",
        None,
        "ann",
        r#"{"adverse_action":true,"expiry":"2027-10-31","law_enforcement_criterion":"a warrant number","legal_authority":"42 U.S.C. 1320b-7","purpose":"stop payments","recipient":"State Benefits Agency","recipient_receives":["deceased","date_of_death"],"retention_days":90,"source":"Registry","source_receives":["name","dob","ssn"],"start":"2026-11-01"}"#,
    ),
    ("approval", Some(1), "oscar", "{}"),
    ("renewal", Some(1), "oscar", r#"{"expiry":"2028-10-31"}"#),
    (
        "key",
        Some(1),
        "ann",
        r#"{"key_id":7,"key_name":"state-benefits"}"#,
    ),
    (
        "request",
        Some(1),
        "state-benefits",
        r#"{"elements":["deceased","date_of_death"],"law_enforcement":[[123456789,"W-1"]],"matches":[[123456789,1],[987654321,2]],"records":3,"refused":null}"#,
    ),
    (
        "request",
        Some(1),
        "state-benefits",
        r#"{"elements":[],"law_enforcement":[],"matches":[],"records":0,"refused":"the agreement has expired"}"#,
    ),
    (
        "verification",
        Some(1),
        "carol",
        r#"{"match":0,"reference":"checked with the family","request":5}"#,
    ),
    (
        "notice",
        Some(1),
        "carol",
        r#"{"match":0,"reference":"letter 1","request":5,"sent":"2026-11-24"}"#,
    ),
    ("contest", Some(1), "carol", r#"{"match":0,"request":5}"#),
    (
        "contest_decision",
        Some(1),
        "dave",
        r#"{"match":0,"request":5,"upheld":false}"#,
    ),
    (
        "adverse_action",
        Some(1),
        "dave",
        r#"{"match":0,"request":5}"#,
    ),
];

fn old_rows() -> Vec<JournalRow> {
    OLD_JOURNAL
        .iter()
        .enumerate()
        .map(|(i, (kind, agreement, actor, body))| JournalRow {
            id: i as i64 + 1,
            at_ms: 1_764_000_000_000 + i as i64,
            day: "2026-11-23".into(),
            kind: (*kind).into(),
            agreement: *agreement,
            actor: (*actor).into(),
            body: (*body).into(),
        })
        .collect()
}

/// Writes `rows` into a journal file as they stand, below the typed layer.
fn journal_of(rows: &[JournalRow]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("programs.sqlite");
    let store = sqlite::SqliteJournal::open(&path).unwrap();
    for (after, r) in rows.iter().enumerate() {
        store.append(after as i64, &mut |_| Ok(r.clone())).unwrap();
    }
    (dir, path)
}

#[test]
fn an_old_journal_replays_and_every_entry_encodes_to_the_same_bytes() {
    let rows = old_rows();
    for row in &rows {
        let event = Event::decode(row).unwrap();
        assert_eq!(event.encode(), *row, "{}", row.kind);
    }
    let (_dir, path) = journal_of(&rows);
    let programs = Programs::open(&path).unwrap();
    let s = programs.state().unwrap();
    let a = s.agreement(1).unwrap();
    assert_eq!(a.terms.recipient.as_str(), "State Benefits Agency");
    assert_eq!(
        a.terms.law_enforcement.as_ref().map(|r| r.as_str()),
        Some("a warrant number")
    );
    assert_eq!(a.approved.as_ref().map(|x| x.by.as_str()), Some("oscar"));
    assert_eq!(a.expiry().to_string(), "2028-10-31");
    assert_eq!(s.keys.get(&7), Some(&(1, "state-benefits".to_owned())));
    let r = &s.requests[&5];
    assert_eq!((r.records, r.disclosed, r.refused.as_deref()), (3, 2, None));
    assert_eq!(
        r.matches,
        [
            Matched {
                ssn: 123_456_789,
                class: 1
            },
            Matched {
                ssn: 987_654_321,
                class: 2
            }
        ]
    );
    assert_eq!(r.law_enforcement, [(123_456_789, "W-1".to_owned())]);
    assert_eq!(
        r.elements,
        [
            dmf_registry::program::Element::Deceased,
            dmf_registry::program::Element::DateOfDeath
        ]
    );
    assert_eq!(
        s.requests[&6].refused.as_deref(),
        Some("the agreement has expired")
    );
    let case = &s.cases[&(5, 0)];
    assert_eq!(
        case.verified
            .as_ref()
            .map(|(x, r)| (x.by.as_str(), r.as_str())),
        Some(("carol", "checked with the family"))
    );
    assert_eq!(
        case.notice.as_ref().map(|(x, _)| x.on.to_string()),
        Some("2026-11-24".to_owned())
    );
    assert!(case.contested.is_some());
    assert_eq!(case.contest_decided.as_ref().map(|(_, u)| *u), Some(false));
    assert_eq!(
        case.adverse_allowed.as_ref().map(|x| x.by.as_str()),
        Some("dave")
    );
    assert_eq!(s.last(), 11);
    // What the typed layer writes now reads back the same from the file.
    let entries = programs.entries().unwrap();
    assert_eq!(entries.len(), 11);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM program_journal ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = OLD_JOURNAL.iter().map(|e| e.3.to_owned()).collect();
    assert_eq!(bodies, expected);
}

/// The steps the store makes write the bodies journals have always held.
#[test]
fn steps_write_the_bodies_of_old() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("programs.sqlite");
    let p = Programs::open(&path).unwrap();
    let rows = old_rows();
    let today: Date = "2026-11-23".parse().unwrap();
    let terms = match Event::decode(&rows[0]).unwrap().event {
        ProgramEvent::Agreement { terms } => terms,
        other => panic!("{other:?}"),
    };
    p.create(&terms, "ann", today, 1).unwrap();
    p.approve(1, "oscar", today, 2).unwrap();
    // Within the window before expiry in which an agreement may be renewed.
    let late: Date = "2027-10-01".parse().unwrap();
    p.renew(1, "2028-10-31".parse().unwrap(), "oscar", late, 3)
        .unwrap();
    p.bind_key(1, 7, "state-benefits", "ann", today, 4).unwrap();
    let written = p.db.read_after(0).unwrap();
    for (got, old) in written.iter().zip(&rows) {
        assert_eq!((&got.kind, &got.body), (&old.kind, &old.body));
    }
    assert_eq!(written.len(), 4);
}

/// A key entry without its name replayed as a key named "", and a request's element or
/// law-enforcement pair that did not parse was left out of the request: the journal said one
/// thing and the state another. Now the entry and the field are named and nothing is replayed.
#[test]
fn a_journal_field_that_did_not_parse_was_dropped_silently() {
    let rows = old_rows();
    let cases: [(usize, &str, &str); 7] = [
        (3, r#"{"key_id":7}"#, "field key_name: missing"),
        (
            4,
            r#"{"elements":["deceased","bogus"],"law_enforcement":[],"matches":[],"records":3,"refused":null}"#,
            "field elements[1]: expected an element",
        ),
        (
            4,
            r#"{"elements":[],"law_enforcement":[[1,2]],"matches":[],"records":3,"refused":null}"#,
            "field law_enforcement[0]: expected a pair",
        ),
        (
            4,
            r#"{"elements":[],"law_enforcement":[],"matches":[],"refused":null}"#,
            "field records: missing",
        ),
        (
            4,
            r#"{"elements":[],"law_enforcement":[],"matches":[],"records":3,"refused":7}"#,
            "field refused: expected a string or null",
        ),
        (1, r#"{"note":"x"}"#, "field note: unknown field"),
        (
            9,
            r#"{"match":0,"request":5,"upheld":"no"}"#,
            "field upheld: expected true or false",
        ),
    ];
    for (i, body, expected) in cases {
        let mut rows = rows.clone();
        rows[i].body = body.into();
        let (_dir, path) = journal_of(&rows[..=i.max(4)]);
        let err = Programs::open(&path).unwrap_err().to_string();
        let id = i + 1;
        assert!(
            err.starts_with(&format!("program journal entry {id} is unreadable: "))
                && err.contains(expected),
            "{body}: {err}"
        );
        // An entry from a dump is refused the same way, before anything is written.
        let dir = tempfile::tempdir().unwrap();
        let p = Programs::open(&dir.path().join("p.sqlite")).unwrap();
        let entry = |r: &JournalRow| Entry {
            id: r.id,
            at_ms: r.at_ms,
            day: r.day.parse().unwrap(),
            kind: r.kind.clone(),
            agreement: r.agreement.map(|a| a as u64),
            actor: r.actor.clone(),
            body: serde_json::from_str(&r.body).unwrap(),
        };
        for r in &rows[..i] {
            p.import(&entry(r)).unwrap();
        }
        let refused = p.import(&entry(&rows[i]));
        assert!(
            matches!(&refused, Err(ProgramStoreError::Field { id: got, .. }) if *got == id as i64),
            "{refused:?}"
        );
        assert_eq!(p.entries().unwrap().len(), i);
    }
}
