//! Browser tests of the console: console_letters. A caseworker files a correction for a person
//! wrongly listed as dead, a supervisor approves it and prints the letter; signed out, the
//! letter's short code is typed into the public check page, which says the person is not
//! listed as deceased; a one-character typo is told as a typing mistake, a made-up code with a
//! right check character as a code never issued. axe-core finds nothing on any of these pages.
//! Screenshots under the target folder.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;

use dmf_ledger::letter::ShortCode;

use super::browser::Browser;
use super::console::{TODAY, create_user, login, logout, record, registry};
use super::serve::{Running, key, spawn};

/// `dmf serve` on a port chosen first, so that `--public-url` can name the server itself.
fn serve_at_own_address(data: &str) -> (Running, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let mut server = spawn(&[
        "serve",
        "--data",
        data,
        "--listen",
        &listen,
        "--today",
        TODAY,
        "--public-url",
        &base,
        "--letterhead",
        "Death Master File Registry",
        "--letterhead",
        "PO Box 1000, Baltimore MD 21235",
        "--letter-contact",
        "call 1-800-000-0000, weekdays 8 am to 7 pm",
    ]);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("listening on {base}"));
    (server, base)
}

/// A code changed at its first character with its check character set right again: well
/// formed, and not one the registry issued.
fn made_up(code: &str) -> String {
    let plain: String = code.chars().filter(|c| *c != '-').collect();
    let first = if plain.starts_with('7') { "8" } else { "7" };
    let data = format!("{first}{}", &plain[1..15]);
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        .chars()
        .map(|c| format!("{data}{c}"))
        .find(|t| ShortCode::parse(t).is_ok())
        .unwrap()
}

/// Fails with axe-core's findings if the current page has any.
fn no_axe_violations(b: &Browser, page: &str) {
    let found = b.axe();
    assert!(found.is_empty(), "axe on {page}:\n{}", found.join("\n"));
}

/// Text as read: its words, one space apart.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_letters_short_code_is_checked_on_the_public_page() {
    let dir = tempfile::tempdir().unwrap();
    // Hand-written records as old master files hold them: a middle initial run into the first
    // name, a hyphenated surname, and the one to be corrected.
    let data = registry(
        dir.path(),
        "",
        &(record("234567890", "JONES", "ROBERT", "07041941")
            + &record("345678901", "GARCIA-LOPEZ", "MARIA", "11301952")
            + &record("456789012", "OBRIEN", "PATRICKJ", "02291948")),
        TODAY,
    );
    let d = data.as_str();
    // A key in the data folder, as a real registry has: the console needs none.
    key(d, "bank-identity", "identity", &[]);
    create_user(d, "carol", "caseworker", "carol-password-1");
    create_user(d, "sam", "supervisor", "sam-password-12");
    let (_server, base) = serve_at_own_address(d);

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-letter-screenshots");
    let b = Browser::start(&shots);

    // A caseworker files the correction through the console's form.
    login(&b, &base, "carol", "carol-password-1");
    b.goto(&format!("{base}/console/people/234567890/correct"));
    b.fill(
        "#reason",
        "Robert Jones came to the office in person; he is alive",
    );
    b.click("#ev_in_person");
    b.click("#ev_photo_id");
    b.fill("#document", "passport 123456");
    b.follow("#submit-correction");
    // Filing ends on a confirmation that links to the correction.
    b.follow("#case-link");
    let correction = b.url();
    assert!(correction.contains("/console/corrections/"), "{correction}");
    logout(&b);

    // A supervisor approves it and opens the letter.
    login(&b, &base, "sam", "sam-password-12");
    b.goto(&correction);
    b.follow("#approve");
    b.follow("#case-link");
    assert!(
        b.text("#correction-status").contains("Approved by sam"),
        "{}",
        b.source()
    );
    b.follow("#letter");
    let code = b.text("#letter-code");
    assert_eq!(code.len(), 19, "{code}");
    let letter_url = b.text("#letter-url");
    assert_eq!(letter_url, format!("{base}/letters/{code}"));
    assert!(b.text("#letter-name").contains("ROBERT JONES"));
    assert_eq!(
        b.text("#letter-contact"),
        "Questions: call 1-800-000-0000, weekdays 8 am to 7 pm"
    );
    assert!(b.source().contains("Death Master File Registry"));
    // The QR code is drawn, and the Print button shown by the letter's one script.
    let shown = b.execute(
        "return [document.querySelector('#letter-qr svg') !== null, \
         document.getElementById('print').hidden];",
    );
    assert_eq!(shown, serde_json::json!([true, false]), "{}", b.source());
    b.screenshot("01-letter");
    no_axe_violations(&b, "the letter");
    logout(&b);

    // Signed out, anyone types the code (as people do: small letters, spaces for dashes).
    b.goto(&format!("{base}/letters"));
    b.screenshot("02-check-form");
    no_axe_violations(&b, "the check form");
    b.fill("#code", &code.to_lowercase().replace('-', " "));
    b.follow("#check");
    let said = b.text("#check-statement");
    assert!(
        said.contains("ROBERT JONES")
            && said.contains("7890")
            && said.contains("the registry does not list this person as deceased"),
        "{said}"
    );
    b.screenshot("03-checked");
    no_axe_violations(&b, "a letter checked");

    // One character mistyped: a typing mistake, by the field, with the code kept to fix.
    let mut typo: Vec<char> = code.chars().collect();
    typo[5] = if typo[5] == 'K' { 'X' } else { 'K' };
    let typo: String = typo.into_iter().collect();
    b.goto(&format!("{base}/letters"));
    b.fill("#code", &typo);
    b.follow("#check");
    assert_eq!(
        words(&b.text("#code-error")),
        "Error: This code has a typing mistake. Check each character against the letter."
    );
    assert!(
        b.text("#error-summary").contains("typing mistake"),
        "{}",
        b.source()
    );
    b.screenshot("04-typo");
    no_axe_violations(&b, "a typing mistake");

    // A made-up code whose check character is right: not one the registry issued.
    b.goto(&format!("{base}/letters"));
    b.fill("#code", &made_up(&code));
    b.follow("#check");
    assert_eq!(
        words(&b.text("#code-error")),
        "Error: This is not a code the registry issued."
    );
    b.screenshot("05-not-issued");
    no_axe_violations(&b, "a code not issued");

    // The address printed on the letter opens the same answer.
    b.goto(&letter_url);
    assert!(
        b.text("#check-statement")
            .contains("does not list this person as deceased")
    );
    eprintln!("letter screenshots: {}", shots.display());
}
