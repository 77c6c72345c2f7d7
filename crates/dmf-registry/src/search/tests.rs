//! Searches as a caseworker types them: SSNs and dates of birth in every usual form, and
//! people on file with the errors real files hold (nicknames, swapped names and dates, typing
//! errors, changed last names), each found first with its reason in words.

use super::*;
use crate::event::{self, Event};

#[test]
fn an_ssn_is_read_with_dashes_spaces_or_neither() {
    let cases: &[(&str, Result<u32, SsnTextError>)] = &[
        ("123-45-6789", Ok(123_456_789)),
        ("123 45 6789", Ok(123_456_789)),
        ("123456789", Ok(123_456_789)),
        (" 123.45.6789 ", Ok(123_456_789)),
        ("12345", Err(SsnTextError::Digits(5))),
        ("123-45-67890", Err(SsnTextError::Digits(10))),
        ("123-45-678O", Err(SsnTextError::Letters)),
        ("666-12-3456", Err(SsnTextError::Never(SsnError::Area666))),
    ];
    for (text, expected) in cases {
        assert_eq!(
            &parse_ssn(text).map(Ssn::as_u32),
            expected,
            "{text:?}: {:?}",
            parse_ssn(text).map_err(|e| e.to_string())
        );
    }
    assert_eq!(
        parse_ssn("12345").unwrap_err().to_string(),
        "Enter an SSN of 9 digits, like 123-45-6789 (it has 5)"
    );
}

#[test]
fn a_date_of_birth_is_read_in_every_usual_form() {
    let ok = |date: &str, swapped: bool| {
        Ok(Some(TypedDob {
            date: date.parse().unwrap(),
            swapped,
        }))
    };
    let cases: &[(&str, Result<Option<TypedDob>, DobTextError>)] = &[
        ("1970-10-31", ok("1970-10-31", false)),
        ("10/31/1970", ok("1970-10-31", false)),
        ("1/2/1970", ok("1970-01-02", false)),
        ("1970/10/31", ok("1970-10-31", false)),
        ("19701031", ok("1970-10-31", false)),
        ("10311970", ok("1970-10-31", false)),
        // Month and day in the American order when both could be either.
        ("04/07/1941", ok("1941-04-07", false)),
        // Day and month swapped into an impossible date, read the other way round.
        ("1970-31-10", ok("1970-10-31", true)),
        ("31/10/1970", ok("1970-10-31", true)),
        ("31.10.1970", ok("1970-10-31", true)),
        ("1970-10", ok("1970-10", false)),
        ("10/1970", ok("1970-10", false)),
        ("1970", ok("1970", false)),
        (" 1970 ", ok("1970", false)),
        ("", Ok(None)),
        ("   ", Ok(None)),
        ("yesterday", Err(DobTextError::Form)),
        ("1970-10-31-1", Err(DobTextError::Form)),
        ("10/31/70", Err(DobTextError::ShortYear)),
        ("1700-01-01", Err(DobTextError::Year)),
        (
            "1970-02-30",
            Err(DobTextError::NoSuchDate("1970-02-30".into())),
        ),
        (
            "1970-13-13",
            Err(DobTextError::NoSuchDate("1970-13-13".into())),
        ),
        ("1970-13", Err(DobTextError::NoSuchDate("1970-13".into()))),
    ];
    for (text, expected) in cases {
        assert_eq!(&parse_dob(text), expected, "{text:?}");
    }
    assert_eq!(
        parse_dob("").map(|_| ()),
        Ok(()),
        "a blank date of birth is no date"
    );
    assert_eq!(
        DobTextError::Form.to_string(),
        "Enter a date of birth like 1970-10-31 or 10/31/1970, or leave it blank"
    );
}

fn person(ssn: u32, first: &str, last: &str, dob: &str) -> Event {
    Event::Person(event::PersonRecord {
        ssn: Ssn::from_number(ssn).unwrap(),
        name: dmf_model::PersonName::parse(first, None, last, None).unwrap(),
        sex: None,
        dob: (!dob.is_empty()).then(|| dob.parse().unwrap()),
        birth_state: None,
    })
}

/// An index of these people, with its name index.
fn index_of(people: &[(u32, &str, &str, &str)]) -> Index {
    let mut index = Index::default();
    index.index_names();
    for (seq, (ssn, first, last, dob)) in people.iter().enumerate() {
        index.apply(seq as u64 + 1, &person(*ssn, first, last, dob));
    }
    index
}

/// Hand-written people, as a registry holds them.
const PEOPLE: &[(u32, &str, &str, &str)] = &[
    (123_450_001, "ROBERT", "JONES", "1941-07-04"),
    (123_450_002, "ROBIN", "JONAS", "1941-07-04"),
    (123_450_003, "MARY", "HUGHES", "1950-03-02"),
    (123_450_004, "CATHERINE", "SMITH", "1970-10-31"),
    (123_450_005, "KATHERINE", "SMYTHE", "1962-05-17"),
    (123_450_006, "JOHN", "MILLER", "1970"),
    (123_450_007, "WILLIAM", "O'BRIEN", "1933-12-01"),
    (123_450_008, "ELIZABETH", "GARCIA", ""),
    (123_450_009, "JOSE", "NGUYEN", "1988-08-08"),
    (123_450_010, "PATRICIA", "JONES", "1960-02-29"),
    (123_450_011, "ROBERT", "JONES", "1972-03-15"),
    (123_450_012, "DAVID", "KNIGHT", "1955-06-06"),
];

#[test]
fn each_kind_of_error_finds_the_person_first_with_the_reason_in_words() {
    let index = index_of(PEOPLE);
    let tables = NameTables::shipped();
    // (first, last, date of birth as typed, who must come first, a reason that must be given)
    let cases: &[(&str, &str, &str, u32, &str)] = &[
        (
            "Bob",
            "Jones",
            "1941-07-04",
            1,
            "first name BOB is a nickname of ROBERT",
        ),
        ("Robert", "Jones", "07/04/1941", 1, "born the same day"),
        (
            "Robert",
            "Jones",
            "1941-04-07",
            1,
            "born the same day, month and day swapped",
        ),
        (
            "Robert",
            "Jones",
            "1942-07-04",
            1,
            "born the same day and month, a year apart",
        ),
        ("Robert", "Jones", "1941", 1, "born the same year"),
        (
            "Jones",
            "Robert",
            "1941-07-04",
            1,
            "first and last names swapped",
        ),
        (
            "Mary",
            "Walker",
            "1950-03-02",
            3,
            "last name is different (HUGHES on file)",
        ),
        (
            "Catherine",
            "Smiht",
            "",
            4,
            "last name is spelt almost the same (SMITH)",
        ),
        (
            "Katherine",
            "Smith",
            "1962-05-17",
            5,
            "last name is spelt alike (SMYTHE)",
        ),
        ("David", "Nite", "", 12, "last name sounds alike (KNIGHT)"),
        ("William", "OBrien", "1933-12-01", 7, "same last name"),
        (
            "Elizabeth",
            "Garcia",
            "1960-01-01",
            8,
            "no date of birth on file",
        ),
        ("", "Nguyen", "", 9, "no first name given"),
        ("Jose", "Nguyen", "", 9, "no date of birth given"),
        (
            "John",
            "Miller",
            "1970-05-05",
            6,
            "born in 1970, as far as the date on file goes",
        ),
        (
            "Patricia",
            "Jones",
            "1960-02-28",
            10,
            "born on a date one digit apart",
        ),
        (
            "Robert",
            "Jones",
            "1972-03-16",
            11,
            "born on a date one digit apart",
        ),
    ];
    for &(first, last, dob, who, reason) in cases {
        let dob = parse_dob(dob).unwrap().map(|d| d.date);
        let q = Query { first, last, dob };
        let found = search(&index, &tables, &q);
        let top = found
            .hits
            .first()
            .unwrap_or_else(|| panic!("{first} {last} {dob:?}: nobody found"));
        assert_eq!(
            top.ssn,
            123_450_000 + who,
            "{first} {last} {dob:?}: {found:?}"
        );
        let reasons = top.reasons(&q);
        assert!(
            reasons.iter().any(|r| r.starts_with(reason)),
            "{first} {last} {dob:?}: {reasons:?}"
        );
        // Never a code for files.
        for r in &reasons {
            for code in [
                "jw92",
                "jw85",
                "compatible_partial",
                "day_month_swapped",
                "_",
            ] {
                assert!(!r.contains(code), "{r}");
            }
        }
    }
}

#[test]
fn people_unlike_the_one_asked_for_are_not_shown() {
    let index = index_of(PEOPLE);
    let tables = NameTables::shipped();
    let cases: &[(&str, &str, &str)] = &[
        ("Zachary", "Quimby", ""),
        ("Zachary", "Quimby", "1941-07-04"),
        // The right name, born decades apart.
        ("Robert", "Jones", "1990-01-20"),
        // A first name that contradicts the one on file.
        ("Wendy", "Garcia", ""),
    ];
    for &(first, last, dob) in cases {
        let dob = parse_dob(dob).unwrap().map(|d| d.date);
        let found = search(&index, &tables, &Query { first, last, dob });
        assert!(found.hits.is_empty(), "{first} {last}: {found:?}");
    }
}

#[test]
fn the_strongest_match_comes_first_and_ties_are_broken_by_name_then_ssn() {
    let index = index_of(PEOPLE);
    let tables = NameTables::shipped();
    let q = Query {
        first: "Robert",
        last: "Jones",
        dob: None,
    };
    let found = search(&index, &tables, &q);
    let order: Vec<u32> = found.hits.iter().map(|h| h.ssn - 123_450_000).collect();
    // Both ROBERT JONESes tie on the name and come by SSN; ROBIN JONAS's first name is another.
    assert_eq!(order, [1, 11], "{found:?}");
    assert_eq!(found.hits[0].score, found.hits[1].score);
    // Given the date of birth, only the one born that day (or near it) is shown.
    let q = Query {
        dob: Some("1972-03-15".parse().unwrap()),
        ..q
    };
    let found = search(&index, &tables, &q);
    let order: Vec<u32> = found.hits.iter().map(|h| h.ssn - 123_450_000).collect();
    assert_eq!(order, [11], "{found:?}");
    assert!(!found.capped);
    assert!(found.compared < PEOPLE.len() + 1);
}

/// The name index against a scan of everyone: over random populations with one error in each
/// query, the person meant is found whenever a scan finds them, and nearly everyone a scan
/// finds is found.
#[test]
fn the_name_index_finds_what_a_scan_of_everyone_finds() {
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    let firsts = [
        "ROBERT",
        "WILLIAM",
        "ELIZABETH",
        "KATHERINE",
        "MARGARET",
        "JOHN",
        "JAMES",
        "MARY",
        "PATRICIA",
        "MICHAEL",
        "JOSE",
        "MARIA",
        "LINDA",
        "DAVID",
        "RICHARD",
        "SUSAN",
    ];
    let nicknames = [
        ("ROBERT", "BOB"),
        ("WILLIAM", "BILL"),
        ("ELIZABETH", "BETTY"),
        ("KATHERINE", "KATE"),
        ("MARGARET", "PEGGY"),
        ("JAMES", "JIM"),
        ("MICHAEL", "MIKE"),
        ("RICHARD", "DICK"),
    ];
    let lasts = [
        "SMITH", "SMYTHE", "JONES", "JONAS", "JOHNSON", "JOHNSTON", "GARCIA", "MILLER", "MUELLER",
        "NGUYEN", "OBRIEN", "HUGHES", "WALKER", "WALKEN", "KOWALSKI", "THOMPSON", "THOMSON",
        "MARTINEZ", "MARTINES", "LEE", "LI", "YOUNG", "ANDERSON", "ANDERSEN",
    ];
    let mut rng = Pcg64Mcg::seed_from_u64(23);
    let tables = NameTables::shipped();
    let (mut meant, mut both, mut scanned) = (0, 0, 0);
    for round in 0..6 {
        let people: Vec<(u32, String, String, String)> = (0..400)
            .map(|i| {
                let dob = format!(
                    "{}-{:02}-{:02}",
                    rng.random_range(1920..2000),
                    rng.random_range(1..13),
                    rng.random_range(1..29)
                );
                (
                    201_010_001 + round * 1000 + i,
                    firsts[rng.random_range(0..firsts.len())].to_owned(),
                    lasts[rng.random_range(0..lasts.len())].to_owned(),
                    dob,
                )
            })
            .collect();
        let borrowed: Vec<(u32, &str, &str, &str)> = people
            .iter()
            .map(|(s, f, l, d)| (*s, f.as_str(), l.as_str(), d.as_str()))
            .collect();
        let index = index_of(&borrowed);
        for _ in 0..60 {
            let (ssn, first, last, dob) = &people[rng.random_range(0..people.len())];
            let (mut first, mut last, mut dob) = (first.clone(), last.clone(), Some(dob.clone()));
            let typo = |s: &str, at: usize| {
                let mut b = s.as_bytes().to_vec();
                let i = at % (b.len() - 1);
                b.swap(i, i + 1);
                String::from_utf8(b).unwrap()
            };
            match rng.random_range(0..8) {
                0 => {
                    if let Some((_, nick)) = nicknames.iter().find(|(f, _)| *f == first) {
                        first = (*nick).to_owned();
                    }
                }
                1 => std::mem::swap(&mut first, &mut last),
                2 => last = typo(&last, rng.random_range(0..8)),
                3 => first = typo(&first, rng.random_range(0..8)),
                4 => {
                    let d = dob.take().unwrap();
                    dob = Some(format!("{}-{}-{}", &d[..4], &d[8..], &d[5..7]));
                }
                5 => dob = None,
                6 => last = "PEMBERTON".to_owned(),
                _ => {
                    let d = dob.take().unwrap();
                    dob = Some(d[..4].to_owned());
                }
            }
            let dob = dob
                .and_then(|d| parse_dob(&d).ok().flatten())
                .map(|d| d.date);
            let q = Query {
                first: &first,
                last: &last,
                dob,
            };
            let indexed: Vec<u32> = search(&index, &tables, &q)
                .hits
                .iter()
                .map(|h| h.ssn)
                .collect();
            let all: Vec<u32> = search_everyone(&index, &tables, &q)
                .hits
                .iter()
                .map(|h| h.ssn)
                .collect();
            if all.contains(ssn) {
                meant += 1;
                assert!(
                    indexed.contains(ssn),
                    "{first} {last} {dob:?}: the person meant, {ssn}, is missing"
                );
            }
            scanned += all.len();
            both += all.iter().filter(|s| indexed.contains(s)).count();
        }
    }
    assert!(
        meant > 300,
        "the person meant is found in most queries: {meant}"
    );
    let recall = both as f64 / scanned as f64;
    assert!(recall > 0.97, "{both} of {scanned} found by the name index");
}
