//! The person page in headless Chromium, as a caseworker reads it: a summary in words of what
//! each kind of caller is told (a living person under a final nonconfirmation, a death only a
//! state reported), notices with their decisions, a contest decision with no default, a late
//! contest refused until it is accepted as late, the page at 390 px, keyboard-only use, and
//! axe-core on each page type. The records are written here by hand, not generated.

use std::path::Path;

use serde_json::{Value, json};

use super::browser::Browser;
use super::console::{TODAY, create_user, login, logout, record, registry};
use super::serve::serve;
use super::{dmf, s, stderr, stdout};

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
521234567,Carmen,,Stanley,,F,1971-04-30,CO
522345678,John,,Smith,,M,1960-03-02,CO
523456789,Ann,,Lee,,F,1950-03-04,CO
524567890,Maria,,Garcia,,F,1985-08-09,CO
";

/// `dmf submit` of `lines` on `today`: each result as JSON.
fn submit(dir: &Path, data: &str, today: &str, lines: &[Value]) -> Vec<Value> {
    let file = dir.join("events.ndjson");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        data,
        s(&file),
        "--json",
        "--today",
        today,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn notice(ssn: &str, first: &str, last: &str, dob: &str, kind: &str, document: &str) -> Value {
    json!({"type": "status_notice", "ssn": ssn, "first": first, "last": last, "dob": dob,
           "kind": kind, "authority": "DHS USCIS", "legal_basis": "8 CFR 274a.14",
           "document": document, "effective": "2026-10-01"})
}

/// Fails with axe's findings if the current page has any.
fn no_axe_violations(b: &Browser, page: &str) {
    let found = b.axe();
    assert!(found.is_empty(), "axe on {page}:\n{}", found.join("\n"));
}

#[test]
fn a_caseworker_reads_a_person_at_a_glance_and_decides_contests() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(dir.path(), PEOPLE, "", "2026-10-01");
    let d = data.as_str();
    // On 2026-10-01: Carmen's work authorization ends; Ann's
    // death is reported by a state alone; Maria's notice is one she will contest.
    let r = submit(
        dir.path(),
        d,
        "2026-10-01",
        &[
            notice(
                "521234567",
                "Carmen",
                "Stanley",
                "1971-04-30",
                "employment_authorization_ended",
                "N-1",
            ),
            notice(
                "524567890",
                "Maria",
                "Garcia",
                "1985-08-09",
                "employment_authorization_ended",
                "N-2",
            ),
            json!({"type": "death_report", "ssn": "523456789", "first": "Ann", "last": "Lee",
                   "dob": "1950-03-04", "dod": "2026-09-28", "source": "state",
                   "evidence": "EDRS-CO-1"}),
        ],
    );
    let maria_notice = r[1]["seq"].as_u64().unwrap();
    create_user(d, "cathy", "caseworker", "cathy-password-1");
    create_user(d, "sue", "supervisor", "sue-password-123");
    // Seven weeks later: every contest window has closed.
    let (_server, base) = serve(d, &["--today", "2026-11-20"]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-person-screenshots");
    let b = Browser::start(&shots);

    // Keyboard only: sign in, search by SSN, open the person.
    b.goto(&format!("{base}/console"));
    no_axe_violations(&b, "sign-in");
    b.tab_to("name", 10);
    b.keys("cathy\u{E004}cathy-password-1\u{E007}");
    eventually_text(&b, "cathy (caseworker)");
    no_axe_violations(&b, "search");
    b.tab_to("ssn", 20);
    b.keys("521 23 4567");
    b.press_and_wait("\u{E007}");
    assert!(
        b.url().ends_with("/console/people/521234567"),
        "{}",
        b.url()
    );

    // A living person under a final nonconfirmation is not shown as all clear.
    assert_eq!(b.text("#status"), "Not recorded as deceased");
    let class = b.execute("return document.getElementById('status').className");
    assert_eq!(class, "tag tag-grey", "not green under a notice in force");
    let summary = b.text("#summary");
    for expect in [
        "Banks and employers",
        "Not deceased",
        "Work authorization",
        "Final nonconfirmation since 2026-",
        "DHS USCIS notice, not contested",
    ] {
        assert!(summary.contains(expect), "{expect:?} in {summary}");
    }
    let page = b.source();
    for jargon in [
        "code: ",
        "deceased: false",
        "contest_deadline",
        "not_yet_effective",
        "in_force",
    ] {
        assert!(!page.contains(jargon), "{jargon:?} on the person page");
    }
    b.screenshot("01-final-nonconfirmation");
    no_axe_violations(&b, "person");

    // At 390 px the page does not scroll sideways, tables and all.
    b.resize(390, 900);
    assert_eq!(b.overflow_x(), 0, "sideways scroll at 390 px");
    b.screenshot("02-person-390px");
    b.resize(1280, 1400);

    // A death only a state reported: deceased for benefit programs alone, and said so.
    b.goto(&format!("{base}/console/people/523456789"));
    assert_eq!(b.text("#status"), "Recorded as deceased");
    let summary = b.text("#summary");
    assert!(
        summary.contains("the only report of this death is a state's")
            && summary.contains("a state's report only, which benefit programs alone receive"),
        "{summary}"
    );
    assert!(
        b.source()
            .contains("State report only: benefit programs alone")
    );
    b.screenshot("03-state-only-death");

    // A late contest is refused until it is accepted as late, with its cause.
    b.goto(&format!("{base}/console/people/524567890"));
    b.follow(&format!(
        "a[href='/console/people/524567890/notices/{maria_notice}/contest']"
    ));
    assert!(b.text("#late").contains("This contest is late"));
    no_axe_violations(&b, "contest");
    b.fill("#reason", "she was abroad and never received the notice");
    b.follow("#record-contest");
    assert!(
        b.execute("return document.title")
            .as_str()
            .unwrap()
            .starts_with("Error: ")
    );
    assert!(b.text("#error-summary").contains("Accept a late contest"));
    assert_eq!(
        b.execute("return document.getElementById('accept_late').getAttribute('aria-invalid')"),
        "true"
    );
    no_axe_violations(&b, "contest with errors");
    b.screenshot("04-late-contest-refused");
    b.click("#accept_late");
    b.fill("#late_reason", "passport stamps show she was abroad");
    b.follow("#record-contest");
    assert!(
        b.text("#confirmation").contains("is recorded as event"),
        "{}",
        b.source()
    );
    no_axe_violations(&b, "confirmation");
    b.goto(&format!("{base}/console/people/524567890"));
    assert!(
        b.text("#notices")
            .contains("Contested: suspended until a supervisor decides")
    );
    assert!(
        b.find_all("a[href$='/decide']").is_empty(),
        "a caseworker does not decide"
    );
    logout(&b);
    assert!(b.text("#confirmation").contains("You have signed out"));

    // The supervisor decides: nothing is chosen for her, and a decision needs one.
    login(&b, &base, "sue", "sue-password-123");
    b.goto(&format!(
        "{base}/console/people/524567890/notices/{maria_notice}/decide"
    ));
    let checked =
        b.execute("return document.querySelectorAll('input[name=decision]:checked').length");
    assert_eq!(checked, 0, "no decision is chosen by default");
    no_axe_violations(&b, "decision");
    b.fill("#reason", "passport stamps");
    b.follow("#decide");
    assert!(
        b.text("#error-summary")
            .contains("Choose whether the contest is upheld or denied")
    );
    b.click("#decision-denied");
    b.fill("#reason", "the stamps do not cover the notice period");
    b.follow("#decide");
    assert!(
        b.text("main h1").contains("Contest denied"),
        "{}",
        b.source()
    );
    b.goto(&format!("{base}/console/people/524567890"));
    let notices = b.text("#notices");
    assert!(
        notices.contains("In force: the contest was denied on ") && !notices.contains("days left"),
        "{notices}"
    );
    assert!(b.text("#timeline").contains("Contest denied"));
    b.screenshot("05-contest-denied");
}

fn eventually_text(b: &Browser, text: &str) {
    super::serve::eventually(text, || b.source().contains(text));
}

/// A whole correction with the keyboard alone: a caseworker signs in, finds the person by SSN,
/// files the correction, and signs out; a supervisor signs in and approves it. Every control is
/// reached with Tab and used with Enter or Space.
#[test]
fn a_whole_correction_is_done_with_the_keyboard_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = registry(
        dir.path(),
        "",
        &record("234567890", "JONES", "ROBERT", "07041941"),
        TODAY,
    );
    let d = data.as_str();
    create_user(d, "cathy", "caseworker", "cathy-password-1");
    create_user(d, "sue", "supervisor", "sue-password-123");
    let (_server, base) = serve(d, &["--today", TODAY]);
    let b = Browser::start(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-keyboard"));
    let enter = "\u{E007}";
    let tab = "\u{E004}";
    let sign_in = |name: &str, password: &str| {
        b.goto(&format!("{base}/console"));
        b.tab_to("name", 10);
        b.keys(&format!("{name}{tab}{password}"));
        b.press_and_wait(enter);
        eventually_text(&b, &format!("{name} ("));
    };
    let sign_out = || {
        b.tab_to("sign-out", 20);
        b.press_and_wait(enter);
        assert!(b.text("#confirmation").contains("You have signed out"));
    };

    sign_in("cathy", "cathy-password-1");
    b.tab_to("ssn", 20);
    b.keys("234567890");
    b.press_and_wait(enter);
    assert!(
        b.url().ends_with("/console/people/234567890"),
        "{}",
        b.url()
    );
    b.tab_to("correct", 40);
    b.press_and_wait(enter);
    b.tab_to("reason", 20);
    b.keys("Robert Jones came in person with his passport");
    for check in ["ev_in_person", "ev_photo_id"] {
        b.tab_to(check, 10);
        b.keys("\u{E00D}");
    }
    b.tab_to("submit-correction", 20);
    b.press_and_wait(enter);
    assert!(
        b.text("#confirmation").contains("Correction"),
        "{}",
        b.source()
    );
    b.tab_to("case-link", 20);
    b.press_and_wait(enter);
    let case = b.url();
    assert!(
        b.find_all("#approve").is_empty(),
        "the requester may not approve"
    );
    sign_out();

    sign_in("sue", "sue-password-123");
    b.goto(&case);
    b.tab_to("approve", 40);
    b.press_and_wait(enter);
    assert!(
        b.text("#confirmation").contains("is approved"),
        "{}",
        b.source()
    );
    b.goto(&case);
    assert!(b.text("#correction-status").contains("Approved by sue"));
}
