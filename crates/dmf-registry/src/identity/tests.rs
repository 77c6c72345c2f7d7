//! The tolerance table: reported identities against one on file, as data.

use dmf_model::{PersonName, Sex};

use super::*;
use crate::state::identity_of;

/// An identity on file from `first middle last suffix|dob|sex` (`-` for none).
fn on_file(spec: &str) -> Identity {
    let parts: Vec<&str> = spec.split('|').collect();
    let words: Vec<&str> = parts[0].split(' ').collect();
    let opt = |s: &str| (s != "-").then(|| s.to_owned());
    let name = PersonName::parse(
        words[0],
        opt(words[1]).as_deref(),
        words[2],
        opt(words[3]).as_deref(),
    )
    .unwrap();
    let dob = opt(parts[1]).map(|d| d.parse().unwrap());
    let sex = opt(parts[2]).map(|s| s.parse::<Sex>().unwrap());
    identity_of(&name, dob, sex, true)
}

/// `first|middle|last|suffix|dob|sex`, each empty for missing.
fn reported(spec: &str) -> (Vec<Option<String>>, Option<PartialDate>, Option<Sex>) {
    let parts: Vec<&str> = spec.split('|').collect();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    (
        parts[..4].iter().map(|p| opt(p)).collect(),
        opt(parts[4]).map(|d| d.parse().unwrap()),
        opt(parts[5]).map(|s| s.parse().unwrap()),
    )
}

/// The verdict in words: `agrees`, `incomplete` or `differs FIELD,FIELD`.
fn verdict(on: &[Identity], spec: &str) -> String {
    let (names, dob, sex) = reported(spec);
    let r = Reported {
        first: names[0].as_deref(),
        middle: names[1].as_deref(),
        last: names[2].as_deref(),
        suffix: names[3].as_deref(),
        dob,
        sex,
    };
    match compare_any(&r, on).unwrap().verdict() {
        Verdict::Agrees => "agrees".into(),
        Verdict::Incomplete => "incomplete".into(),
        Verdict::Differs(d) => format!(
            "differs {}",
            d.iter()
                .map(|d| d.field.code())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn check(on: &[&str], cases: &[(&str, &str)]) {
    let ids: Vec<Identity> = on.iter().map(|s| on_file(s)).collect();
    let mut wrong = Vec::new();
    for (spec, expect) in cases {
        let got = verdict(&ids, spec);
        if got != *expect {
            wrong.push(format!("{spec:?}: expected {expect}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_name_tolerances() {
    // No date of birth on file: the names alone decide.
    check(
        &["JONATHAN A WILLIAMSON -|-|M"],
        &[
            ("Jonathan||Williamson||1960-07-15|M", "agrees"),
            ("JONATHAN||WILLIAMSON|||", "agrees"),
            // The first 7 letters of the surname, with an initial or an abbreviation.
            ("J||Williams|||", "agrees"),
            ("Jon||Williamsen|||", "agrees"),
            // A first name's first letters are not it: another name of the family.
            ("Jonath||Williamson|||", "differs first"),
            // A surname cut short, with a first name the table knows.
            ("Jon||Will|||", "agrees"),
            ("Jona||Will|||", "differs first"),
            // The first 4 letters of each, not cut short: another person's names.
            ("Jonas||Willis|||", "differs first,last"),
            ("Jonas||Williamson|||", "differs first"),
            // One letter different, missing or extra; two adjacent letters transposed.
            ("Jonathon||Williamson|||", "agrees"),
            ("Jonahtan||Williamsno|||", "agrees"),
            ("Jonthan||Wiliamson|||", "agrees"),
            ("Jonathann||Williamsson|||", "agrees"),
            // Case, accents and punctuation are not letters that differ.
            ("jonathan||williamson|||", "agrees"),
            ("Jónathan||Williamson|||", "agrees"),
            // Far off.
            ("Mary||Williamson|||", "differs first"),
            ("Jonathan||Smith|||", "differs last"),
            ("Mary||Smith|||", "differs first,last"),
            // Same surname, another first name of the same initial: a relative.
            ("Joseph||Williamson|||", "differs first"),
            ("Jo||Williamson|||", "differs first"),
            // First and last swapped: a keying error, not another person.
            ("Williamson||Jonathan|||", "agrees"),
            ("Williamsen||Jonathon|||", "agrees"),
            ("Williamson||Joseph|||", "differs first,last"),
        ],
    );
}

#[test]
fn the_date_of_birth_sex_and_middle_tolerances() {
    check(
        &["JONATHAN A WILLIAMSON -|1960-07-15|M"],
        &[
            ("Jonathan||Williamson||1960-01-01|", "agrees"),
            ("Jonathan||Williamson||1960|", "agrees"),
            ("Jonathan||Williamson||1961-07-01|", "agrees"),
            ("Jonathan||Williamson||1959-07|", "agrees"),
            // Day and month swapped: the year is exact.
            ("Jonathan||Williamson||1960-12-07|", "agrees"),
            ("Jonathan||Williamson||1962-07-15|", "differs dob"),
            ("Jonathan||Williamson||1961-08-15|", "differs dob"),
            ("Jonathan||Williamson||1961|", "differs dob"),
            // A household member's date of birth.
            ("Jonathan||Williamson||1988-03-02|", "differs dob"),
            ("Jonathan||Williamson||1960-07-15|F", "differs sex"),
            ("Jonathan||Williamson||1960-07-15|M", "agrees"),
            // The middle initial is shown, never a reason to hold on its own.
            ("Jonathan|B|Williamson||1960-07-15|", "agrees"),
            ("Jonathan|Alan|Williamson||1960-07-15|", "agrees"),
            ("Mary|B|Smith|||", "differs first,middle,last"),
            // The date of birth on file is not given: the son of the same name would agree.
            ("Jonathan||Williamson|||", "incomplete"),
            // A generation the person on file does not have.
            ("Jonathan||Williamson|Jr|1960-07-15|", "agrees"),
            // Not a generation: not compared.
            ("Jonathan||Williamson|Esq|1960-07-15|", "agrees"),
        ],
    );
}

#[test]
fn a_junior_is_told_from_his_father_by_the_suffix() {
    // The son on file; his father of the same name died, reported under the son's SSN.
    check(
        &["MICHAEL E BERKLEY JR|2010-08-10|M"],
        &[
            ("Michael||Berkley|Jr.|2010-08-10|M", "agrees"),
            ("Michael||Berkley|Sr|2010-08-10|M", "differs suffix"),
            ("Michael||Berkley|III|2010-08-10|M", "differs suffix"),
            // The father's report, with the son's date of birth and no suffix.
            ("Michael||Berkley||2010-08-10|M", "incomplete"),
            ("Michael||Berkley||1982-03-01|M", "differs dob"),
        ],
    );
}

#[test]
fn a_report_is_compared_on_what_it_has() {
    check(
        &["CARMEN - STANLEY -|1971-04-30|F"],
        &[
            ("|||||", "incomplete"),
            ("||||1971-04-30|F", "incomplete"),
            ("||Stanley|||", "incomplete"),
            ("Carmen|||||", "incomplete"),
            ("||Jones|||", "differs last"),
            ("Bob|||||", "differs first"),
            ("||||1950|", "differs dob"),
            ("|||||M", "differs sex"),
            ("Carmen||Stanley||1971-04-30|", "agrees"),
            ("Carmen||Stanley|||", "incomplete"),
            // The two reports of the issue: someone else's names.
            ("Bob||Smith|||", "differs first,last"),
            ("Alice||Jones|||", "differs first,last"),
            // Her husband's first name under her number.
            ("Carl||Stanley||1969-02-11|M", "differs first,dob,sex"),
            ("Carl||Stanley|||", "differs first"),
        ],
    );
}

#[test]
fn nicknames_agree_but_not_two_formal_names() {
    check(
        &["ROBERT - SMITH -|-|M"],
        &[
            ("Bob||Smith|||", "agrees"),
            ("Bobby||Smyth|||", "agrees"),
            ("Rob||Smith|||", "agrees"),
            ("Roberta||Smith|||F", "differs sex"),
            // The nickname agrees; the surname does not.
            ("Bob||Jones|||", "differs last"),
        ],
    );
    check(
        &["MARIANA - RUIZ -|1999-08-04|F"],
        &[
            // A mother's first name, her daughter's SSN and date of birth.
            ("Marion||Ruiz||1999-08-04|F", "differs first"),
            ("Mariana||Ruis||1999-08-04|F", "agrees"),
        ],
    );
    check(
        &["PATRICK - DOYLE -|-|-"],
        &[
            ("Patricia||Doyle|||", "differs first"),
            ("Pat||Doyle|||", "agrees"),
        ],
    );
    check(
        &["JOSEPH - HUGHES -|1954-12-27|-"],
        &[
            ("Jose||Hughes||1954-12-27|", "differs first"),
            ("Joe||Hughes||1954-12-27|", "agrees"),
        ],
    );
    check(
        &["ALBERT - SMITH -|-|M"],
        &[
            ("Al||Smith|||", "agrees"),
            // Brothers share the nickname Al, not the name.
            ("Alfred||Smith|||", "differs first"),
        ],
    );
}

#[test]
fn smyth_for_smith_with_the_year_off_by_one_agrees() {
    check(
        &["JOHN - SMITH -|1960-03-02|M"],
        &[("John||Smyth||1961-03-02|", "agrees")],
    );
}

#[test]
fn a_name_held_before_an_identity_change_still_agrees() {
    // Current first, then the identity before the change.
    check(
        &["ANN - JONES -|1980-05-05|F", "ANN - SMITH -|1980-05-05|F"],
        &[
            ("Ann||Smith||1980-05-05|", "agrees"),
            ("Ann||Jones||1980-05-05|", "agrees"),
            ("Ann||Brown||1980-05-05|", "differs last"),
        ],
    );
}

#[test]
fn names_longer_than_the_fields_compare_at_their_widths() {
    check(
        &["MARIA-GUADALUPE-ESPERANZA - WOLFESCHLEGELSTEINHAUSENBERGERDORFF -|-|-"],
        &[
            (
                "Maria Guadalupe Esperanza||Wolfeschlegelsteinhausenbergerdorff|||",
                "agrees",
            ),
            (
                "Maria Guadalupe Esperanza||Wolfeschlegelsteinhuasenbergerdorff|||",
                "agrees",
            ),
        ],
    );
}

#[test]
fn differences_say_what_was_reported_and_what_is_on_file() {
    let id = on_file("CARMEN - STANLEY -|1971-04-30|F");
    let r = Reported {
        first: Some("Alice"),
        last: Some("Jones"),
        dob: Some("1950-02-03".parse().unwrap()),
        ..Reported::default()
    };
    let c = compare(&r, &id);
    let said: Vec<String> = c.differences.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        said,
        [
            "first: reported ALICE, on file CARMEN",
            "last: reported JONES, on file STANLEY",
            "dob: reported 1950-02-03, on file 1971-04-30"
        ]
    );
    assert_eq!(c.field(Field::Sex), Agreement::Unknown);
}

#[test]
fn near_is_one_edit_or_one_transposition() {
    for (a, b, expect) in [
        ("SMITH", "SMITH", true),
        ("SMITH", "SMYTH", true),
        ("SMITH", "SMTIH", true),
        ("SMITH", "SMIT", true),
        ("SMITH", "SMIITH", true),
        ("SMITH", "SMYTHE", false),
        ("SMITH", "SIMTH", true),
        ("SMITH", "STIMH", false),
        ("AB", "BA", true),
        ("A", "", true),
        ("", "", true),
    ] {
        assert_eq!(near(a.as_bytes(), b.as_bytes()), expect, "{a} {b}");
    }
}

#[test]
fn generations_are_read_from_the_suffix() {
    for (text, expect) in [
        ("Jr.", Some(Generation::Junior)),
        ("junior", Some(Generation::Junior)),
        ("SR", Some(Generation::Senior)),
        ("II", Some(Generation::Second)),
        ("2nd", Some(Generation::Second)),
        ("III", Some(Generation::Third)),
        ("3rd", Some(Generation::Third)),
        ("IV", Some(Generation::Fourth)),
        ("Esq", None),
        ("MD", None),
    ] {
        assert_eq!(Generation::of(text), expect, "{text}");
    }
}
