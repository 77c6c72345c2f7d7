//! axe-core (from npm, `tests/axe`) on every page type of the console and the public letter
//! check, each in the state a caseworker meets it: empty lists and full ones, forms with their
//! errors, confirmations and refusals, and at a phone's width. The records are written here by
//! hand.

use std::path::Path;

use serde_json::{Value, json};

use super::browser::Browser;
use super::console::{TODAY, create_user, login, logout, record, registry};
use super::serve::serve;
use super::{dmf, s, stderr};

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
521234567,Carmen,,Stanley,,F,1971-04-30,CO
522345678,John,,Smith,,M,1960-03-02,CO
";

fn submit(dir: &Path, data: &str, lines: &[Value]) {
    let file = dir.join("events.ndjson");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let out = dmf(&["submit", "--data", data, s(&file), "--today", TODAY]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn every_page_type_has_no_axe_violations() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(
        dir.path(),
        PEOPLE,
        &record("234567890", "JONES", "ROBERT", "07041941"),
        TODAY,
    );
    let d = data.as_str();
    // A notice in force, and a report naming someone else under Carmen's SSN (held).
    submit(
        dir.path(),
        d,
        &[
            json!({"type": "status_notice", "ssn": "522345678", "first": "John", "last": "Smith",
                   "dob": "1960-03-02", "kind": "benefits_suspended", "authority": "SSA",
                   "legal_basis": "20 CFR 404.401", "document": "N-9", "effective": "2026-11-01"}),
            json!({"type": "death_report", "ssn": "521234567", "first": "Bob", "last": "Stone",
                   "dob": "1940-01-01", "dod": "2026-11-20", "source": "state",
                   "evidence": "EDRS-CO-9"}),
        ],
    );
    let out = dmf(&[
        "agreements",
        "create",
        "--data",
        d,
        "--recipient",
        "State Benefits Agency",
        "--source",
        "Registry",
        "--purpose",
        "stop payments to the deceased",
        "--legal-authority",
        "42 U.S.C. 1320b-7",
        "--recipient-receives",
        "deceased,date_of_death",
        "--retention-days",
        "90",
        "--start",
        "2026-11-01",
        "--expiry",
        "2027-10-31",
        "--by",
        "ann",
        "--today",
        TODAY,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    create_user(d, "cathy", "caseworker", "cathy-password-1");
    create_user(d, "sue", "supervisor", "sue-password-123");
    create_user(d, "otto", "oversight", "otto-password-12");
    let (_server, base) = serve(
        d,
        &[
            "--today",
            TODAY,
            "--public-url",
            "https://registry.example.gov",
        ],
    );
    let b = Browser::start(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-axe"));
    let mut checked = Vec::new();
    let mut check = |b: &Browser, what: &str| {
        for (width, height) in [(1280, 1400), (390, 900)] {
            b.resize(width, height);
            let found = b.axe();
            assert!(
                found.is_empty(),
                "axe on {what} at {width} px:\n{}",
                found.join("\n")
            );
            assert_eq!(b.overflow_x(), 0, "{what} scrolls sideways at {width} px");
        }
        b.resize(1280, 1400);
        checked.push(what.to_owned());
    };

    b.goto(&format!("{base}/console/login"));
    check(&b, "sign-in");
    b.fill("#name", "cathy");
    b.fill("#password", "wrong");
    b.follow("button[type=submit]");
    check(&b, "sign-in refused");
    login(&b, &base, "cathy", "cathy-password-1");
    check(&b, "home and search form");
    b.goto(&format!("{base}/console/search?last=Jones"));
    check(&b, "search results");
    b.goto(&format!(
        "{base}/console/search?first=Robert&last=Jones&dob=1941-13-45"
    ));
    check(&b, "search with an error");
    for (ssn, what) in [
        ("234567890", "person: a death"),
        ("522345678", "person: a notice in force"),
        ("521234567", "person: a held report"),
    ] {
        b.goto(&format!("{base}/console/people/{ssn}"));
        check(&b, what);
    }
    b.goto(&format!("{base}/console/people/123121234"));
    check(&b, "not found, with the navigation");
    b.goto(&format!("{base}/console/people/234567890/correct"));
    check(&b, "correction form");
    b.follow("#submit-correction");
    check(&b, "correction form with errors");
    b.fill("#reason", "Robert Jones came in person");
    b.click("#ev_in_person");
    b.click("#ev_photo_id");
    b.follow("#submit-correction");
    check(&b, "correction filed: confirmation");
    b.follow("#case-link");
    let case = b.url();
    check(&b, "correction: awaiting approval (requester)");
    b.goto(&format!("{base}/console/corrections"));
    check(&b, "corrections queue");
    b.goto(&format!("{base}/console/notices"));
    check(&b, "open notices");
    b.goto(&format!("{base}/console/held"));
    check(&b, "held for identity");
    b.goto(&format!("{base}/console/agreements"));
    check(&b, "agreements");
    b.goto(&format!("{base}/console/agreements/1"));
    check(&b, "an agreement");
    b.goto(&format!("{base}/console/oversight"));
    check(&b, "oversight");
    logout(&b);
    check(&b, "signed out");

    login(&b, &base, "sue", "sue-password-123");
    b.goto(&case);
    check(&b, "correction: a supervisor's actions");
    b.follow("#approve");
    check(&b, "correction approved: confirmation");
    b.goto(&case);
    check(&b, "correction: approved, propagation");
    b.follow("#letter");
    check(&b, "letter");
    let code = b.text("#letter-code");
    logout(&b);
    login(&b, &base, "otto", "otto-password-12");
    b.goto(&format!("{base}/console/people/234567890"));
    check(&b, "refused: oversight may not read people");
    logout(&b);
    b.goto(&format!("{base}/letters"));
    check(&b, "public letter check: the form");
    b.goto(&format!("{base}/letters/{}", code.replace('-', "")));
    check(&b, "public letter check: a letter");
    // The check itself finds what it should: an image without a text alternative.
    b.execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/nothing.png\">')");
    assert!(
        b.axe().iter().any(|v| v.starts_with("image-alt:")),
        "axe did not run"
    );
    eprintln!(
        "axe found nothing on {} page types: {}",
        checked.len(),
        checked.join("; ")
    );
}
