//! Browser tests of the console's person search, in headless Chromium: a name alone finds the
//! person; each usual form of a date of birth (ISO, American, a year alone, day and month
//! swapped, an impossible date swapped back) finds the right person first with the reason in
//! words; an SSN typed with spaces opens the person; results come a page at a time with the
//! total; no code meant for files shows. The people are hand-written, with the errors real
//! files hold.

use std::path::Path;

use super::browser::Browser;
use super::console::{TODAY, create_user, login, record, registry};
use super::serve::serve;

/// The first row of the results: (SSN as shown, the reasons).
fn first_row(b: &Browser) -> (String, String) {
    (
        b.text("#found tbody tr:first-child td[data-label=SSN]"),
        b.text("#found tbody tr:first-child td[data-label=Why]"),
    )
}

fn search(b: &Browser, first: &str, last: &str, dob: &str) {
    b.fill("#ssn", "");
    b.fill("#first", first);
    b.fill("#last", last);
    b.fill("#dob", dob);
    b.follow("#search-button");
}

#[test]
fn a_caseworker_finds_people_by_name_and_any_usual_date_of_birth() {
    let dir = tempfile::tempdir().unwrap();
    // Deaths from a DMF file: ROBERT JONES and his near namesake ROBIN JONAS, born the same
    // day; KATHERINE SMYTHE.
    let deaths = record("234567890", "JONES", "ROBERT", "07041941")
        + &record("345678901", "JONAS", "ROBIN", "07041941")
        + &record("456789012", "SMYTHE", "KATHERINE", "10311970");
    // Living numberholders: MARY HUGHES, and 25 people called GARCIA for paging.
    let mut people = String::from("ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    people.push_str("567890123,Mary,,Hughes,,F,1950-03-02,OH\n");
    let firsts = ["Maria", "Luis", "Ana", "Carlos", "Rosa"];
    for i in 0..25 {
        people.push_str(&format!(
            "6789{:05},{},,Garcia,,F,{}-0{}-1{},TX\n",
            10_001 + i,
            firsts[i % 5],
            1940 + i,
            1 + i % 9,
            i % 10
        ));
    }
    let data = registry(dir.path(), &people, &deaths, TODAY);
    let d = data.as_str();
    create_user(d, "alice", "caseworker", "alice-password-1");

    let (_server, base) = serve(d, &["--today", TODAY]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-search-screenshots");
    let b = Browser::start(&shots);
    login(&b, &base, "alice", "alice-password-1");
    assert!(b.source().contains("Date of birth (optional)"));

    // A name alone, with a nickname.
    search(&b, "Bob", "Jones", "");
    let (ssn, why) = first_row(&b);
    assert_eq!(ssn, "234-56-7890", "{}", b.source());
    assert!(
        why.contains("first name BOB is a nickname of ROBERT")
            && why.contains("no date of birth given"),
        "{why}"
    );
    assert!(
        b.text("#found tbody tr:first-child td[data-label=Status]")
            .contains("Deceased")
    );
    b.screenshot("01-name-only");

    // Each form of the date of birth: (typed, the reason it must give).
    for (dob, reason) in [
        ("1941-07-04", "born the same day"),
        ("07/04/1941", "born the same day"),
        ("7/4/1941", "born the same day"),
        ("1941", "born the same year"),
        ("1941-04-07", "born the same day, month and day swapped"),
    ] {
        search(&b, "Robert", "Jones", dob);
        let (ssn, why) = first_row(&b);
        assert_eq!(ssn, "234-56-7890", "{dob}: {}", b.source());
        assert!(why.contains(reason), "{dob}: {why}");
        // ROBIN JONAS, born the same day, comes after him when the day is given.
        if dob.len() > 4 {
            assert!(
                b.source().find("234-56-7890") < b.source().find("345-67-8901"),
                "{dob}"
            );
        }
    }
    // An impossible date, day and month swapped: read the other way round, and said so.
    search(&b, "Katherine", "Smythe", "1970-31-10");
    let (ssn, why) = first_row(&b);
    assert_eq!(ssn, "456-78-9012", "{}", b.source());
    assert!(why.contains("born the same day"), "{why}");
    assert!(
        b.text("#dob-read").contains("read as 1970-10-31"),
        "{}",
        b.source()
    );
    search(&b, "Catherine", "Smith", "31/10/1970");
    assert_eq!(first_row(&b).0, "456-78-9012", "{}", b.source());
    b.screenshot("02-swapped-date");

    // A changed last name is found by the date of birth.
    search(&b, "Mary", "Walker", "03/02/1950");
    let (ssn, why) = first_row(&b);
    assert_eq!(ssn, "567-89-0123");
    assert!(
        why.contains("last name is different (HUGHES on file)"),
        "{why}"
    );
    assert!(
        b.text("#found tbody tr:first-child td[data-label=Status]")
            .contains("Not deceased")
    );

    // Pages with the total, the search kept from page to page.
    search(&b, "", "Garcia", "");
    assert_eq!(
        b.text("#showing"),
        "Showing 1–20 of 25 people found, the closest first"
    );
    b.screenshot("03-paged");
    b.follow("#next");
    assert_eq!(
        b.text("#showing"),
        "Showing 21–25 of 25 people found, the closest first"
    );
    assert_eq!(
        b.execute("return document.getElementById('last').value"),
        "Garcia"
    );
    b.follow("#previous");
    assert!(b.text("#showing").starts_with("Showing 1–20 of 25"));

    // A date that cannot be a date either way round is named at its field.
    search(&b, "Robert", "Jones", "1941-02-30");
    assert!(
        b.text("#error-summary")
            .contains("1941-02-30 is not a date")
    );
    assert!(b.source().contains("Error: Find a person"));
    b.screenshot("04-bad-date");

    // No code meant for files, on any of these pages.
    for page in [
        "Bob&last=Jones",
        "Robert&last=Jones&dob=1941-04-07",
        "&last=Garcia&dob=1950",
    ] {
        b.goto(&format!("{base}/console/search?first={page}"));
        let source = b.source();
        for code in [
            "jw92",
            "jw85",
            "compatible_partial",
            "day_month_swapped",
            "year_pm1",
        ] {
            assert!(!source.contains(code), "{page}: {code}");
        }
    }

    // An SSN with spaces opens the person.
    b.goto(&format!("{base}/console"));
    b.fill("#ssn", "234 56 7890");
    b.follow("#search-button");
    assert!(
        b.url().ends_with("/console/people/234567890"),
        "{}",
        b.url()
    );
}
