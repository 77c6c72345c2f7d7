//! The name index: what a lookup finds, changes of name and date, lists that grow past their
//! inline slots and shrink back, and the cap.

use super::*;

fn date(s: &str) -> Option<PartialDate> {
    (!s.is_empty()).then(|| s.parse().unwrap())
}

/// People on file, by position: (last name, date of birth).
const PEOPLE: &[(&str, &str)] = &[
    ("JONES", "1941-07-04"),
    ("JONAS", "1941-07-04"),
    ("SMITH", "1970-10-31"),
    ("SMYTHE", "1971-10-31"),
    ("WALKER", "1930-01-02"),
    ("O'BRIEN", "1955-03-09"),
    ("GARCIA", ""),
    ("NGUYEN", "1988"),
    ("MILLER", "1970-10-31"),
];

fn filed() -> NameIndex {
    let mut idx = NameIndex::new();
    for (i, (last, dob)) in PEOPLE.iter().enumerate() {
        idx.insert(i as u32, last, date(dob));
    }
    idx
}

fn found(idx: &NameIndex, names: &[&str], dob: &str) -> Vec<u32> {
    let mut p = idx
        .lookup(
            &Lookup {
                names,
                dob: date(dob),
            },
            1000,
        )
        .positions;
    p.sort_unstable();
    p
}

/// Names asked for, the date of birth asked for, positions that must be found, positions that
/// must not be.
type Case = (
    &'static [&'static str],
    &'static str,
    &'static [u32],
    &'static [u32],
);

#[test]
fn a_lookup_finds_the_people_who_could_be_meant() {
    let idx = filed();
    let cases: &[Case] = &[
        // The name alone: everyone whose last name sounds alike, at any date.
        (&["JONES"], "", &[0, 1], &[2, 4]),
        (&["Smith"], "", &[2, 3], &[0, 8]),
        (&["OBrien"], "", &[5], &[]),
        // A name spelt as it sounds.
        (&["SMYTH"], "1970-10-31", &[2, 3], &[]),
        // The exact date finds a changed last name.
        (&["WILLIAMS"], "1970-10-31", &[2, 8], &[0]),
        // Day and month swapped; typed the other way round.
        (&["ANYONE"], "1941-04-07", &[0, 1], &[]),
        // A year off by one, with the name or with the same day.
        (&["WALKER"], "1931-05-05", &[4], &[]),
        (&["ANYONE"], "1929-01-02", &[4], &[]),
        // Only a year asked for.
        (&["NGUYEN"], "1988", &[7], &[]),
        // A date of birth unknown on file never hides the person.
        (&["GARCIA"], "1950-01-01", &[6], &[]),
        // Names swapped: the first name asked about is the last name on file.
        (&["ROBERT", "JONES"], "", &[0, 1], &[]),
        // Nothing sounds like it and no one was born then.
        (
            &["XAVIERSON"],
            "1899-02-02",
            &[],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        ),
    ];
    for (names, dob, must, must_not) in cases {
        let got = found(&idx, names, dob);
        for p in *must {
            assert!(got.contains(p), "{names:?} {dob}: {p} missing from {got:?}");
        }
        for p in *must_not {
            assert!(!got.contains(p), "{names:?} {dob}: {p} found in {got:?}");
        }
    }
}

#[test]
fn a_change_of_name_or_date_files_the_person_anew() {
    let mut idx = filed();
    // WALKER marries and becomes HUGHES; her date of birth is corrected.
    idx.remove(4, "WALKER", date("1930-01-02"));
    idx.insert(4, "HUGHES", date("1930-02-01"));
    assert!(!found(&idx, &["WALKER"], "").contains(&4));
    assert!(found(&idx, &["HUGHES"], "").contains(&4));
    assert!(found(&idx, &["ANYONE"], "1930-02-01").contains(&4));
    assert_eq!(idx.len(), PEOPLE.len());
    // The same as an index filed with the new identity from the start.
    let mut fresh = NameIndex::new();
    for (i, (last, dob)) in PEOPLE.iter().enumerate() {
        if i == 4 {
            fresh.insert(4, "HUGHES", date("1930-02-01"));
        } else {
            fresh.insert(i as u32, last, date(dob));
        }
    }
    assert_eq!(idx.contents(), fresh.contents());
}

#[test]
fn a_common_name_spills_out_of_its_slots_and_comes_back() {
    let mut idx = NameIndex::new();
    for p in 0..10 {
        idx.insert(p, "SMITH", date("1970-10-31"));
    }
    assert_eq!(found(&idx, &["SMITH"], "1970"), (0..10).collect::<Vec<_>>());
    for p in (0..10).filter(|p| p % 3 != 0) {
        idx.remove(p, "SMITH", date("1970-10-31"));
    }
    assert_eq!(found(&idx, &["SMITH"], "1970"), [0, 3, 6, 9]);
    idx.remove(3, "SMITH", date("1970-10-31"));
    assert_eq!(found(&idx, &["SMITH"], "1970"), [0, 6, 9]);
    // A list emptied is reused.
    for p in 20..30 {
        idx.insert(p, "JONES", date("1941-07-04"));
    }
    assert_eq!(idx.spill.len(), 2, "one list per key spilled, none lost");
    for p in [0, 6, 9] {
        idx.remove(p, "SMITH", date("1970-10-31"));
    }
    assert!(found(&idx, &["SMITH"], "").is_empty());
    assert_eq!(idx.len(), 10);
}

#[test]
fn a_lookup_stops_at_its_cap_and_says_so() {
    let mut idx = NameIndex::new();
    for p in 0..50 {
        idx.insert(p, "SMITH", date(&format!("{}-01-01", 1900 + p)));
    }
    let q = Lookup {
        names: &["SMITH"],
        dob: None,
    };
    let all = idx.lookup(&q, 50);
    assert_eq!((all.positions.len(), all.capped), (50, false));
    let some = idx.lookup(&q, 20);
    assert_eq!((some.positions.len(), some.capped), (20, true));
    // With a date of birth, the people born nearest that year come first.
    let near = idx.lookup(
        &Lookup {
            names: &["SMITH"],
            dob: date("1920"),
        },
        2,
    );
    assert_eq!(near.positions, [20, 19]);
}

#[test]
fn a_typing_error_that_changes_the_sound_still_finds_the_name() {
    let idx = filed();
    // SMIHT, SMTH and SMIITH do not sound like SMITH; WLAKER is not WALKER's code either.
    for (typed, pos) in [("SMIHT", 2), ("SMTH", 2), ("SMIITH", 2), ("WLAKER", 4)] {
        assert!(found(&idx, &[typed], "").contains(&pos), "{typed}");
    }
}

#[test]
fn one_letter_away_makes_every_single_typing_error() {
    let mut words = Vec::new();
    one_letter_away(b"AB", |w| {
        words.push(String::from_utf8(w.to_vec()).unwrap())
    });
    for w in ["A", "B", "BA", "AC", "ZB", "XAB", "ABZ", "AXB"] {
        assert!(words.iter().any(|x| x == w), "{w}");
    }
    // 2 left out, 1 swap, 2 * 25 changed, 3 * 26 added.
    assert_eq!(words.len(), 2 + 1 + 50 + 78);
}
