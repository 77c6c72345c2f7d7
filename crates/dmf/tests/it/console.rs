//! The caseworker console end to end in headless Chromium: a caseworker finds a person wrongly
//! listed as dead and files a correction, a supervisor approves it, a running mirror applies
//! it, the identity API answers alive and the letter verifies; self-approval and forms without
//! a CSRF token are refused. Screenshots of each page are saved under the target folder.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use super::browser::Browser;
use super::serve::{eventually, key, mirror, serve};
use super::{dmf, s, stderr};

pub(crate) const TODAY: &str = "2026-11-23";

pub(crate) fn create_user(data: &str, name: &str, role: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args([
            "users", "create", "--data", data, "--name", name, "--role", role,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A DMF record of a death in 2001 (old enough for every subscriber).
pub(crate) fn record(ssn: &str, last: &str, first: &str, dob: &str) -> String {
    let line = format!(
        "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{dob:8}",
        "", "", "", "03152001"
    );
    format!("{line:100}\n")
}

/// A registry in `dir/data` (origin `example.org/dmf`) holding the numberholders of `people`
/// (a people.csv, or nothing if empty) and the deaths of `deaths` (fixed-width DMF lines),
/// imported on `today`; its data folder.
pub(crate) fn registry(dir: &Path, people: &str, deaths: &str, today: &str) -> String {
    let data = dir.join("data");
    let d = s(&data);
    let out = dmf(&["init", "--data", d, "--origin", "example.org/dmf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (name, text) in [("people.csv", people), ("ssdm1.txt", deaths)] {
        if text.is_empty() {
            continue;
        }
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = dmf(&["import", "--data", d, s(&file), "--today", today]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    d.to_owned()
}

pub(crate) fn login(b: &Browser, base: &str, name: &str, password: &str) {
    b.goto(&format!("{base}/console"));
    assert!(b.url().contains("/console/login"), "{}", b.url());
    b.fill("#name", name);
    b.fill("#password", password);
    b.follow("button[type=submit]");
    assert!(
        b.source().contains(&format!("{name} (")),
        "signed in as {name}: {}",
        b.source()
    );
}

pub(crate) fn logout(b: &Browser) {
    b.follow("header form button");
    assert!(b.url().contains("/console/login"));
}

/// Whether the page shows no element with this id.
pub(crate) fn absent(b: &Browser, id: &str) -> bool {
    b.execute(&format!("return document.getElementById('{id}') === null")) == Value::Bool(true)
}

/// Posts a form to `path` as the signed-in user would, straight: with the browser's session
/// cookie and the CSRF token of the page it shows, whether or not the page offers the form.
/// The status and the page.
pub(crate) fn post_as_signed_in(b: &Browser, base: &str, path: &str) -> (u16, String) {
    let page = b.source();
    let at = page.find(r#"name="csrf" value=""#).expect("a CSRF token") + 19;
    let csrf = page[at..].split('"').next().unwrap().to_owned();
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let r = http
        .post(format!("{base}{path}"))
        .header("Cookie", format!("dmf_session={}", b.cookie("dmf_session")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("csrf={csrf}"))
        .unwrap();
    let status = r.status().as_u16();
    (status, r.into_body().read_to_string().unwrap())
}

/// A refusal page that keeps the console's navigation and links back to correction `id`.
pub(crate) fn refused_with_a_way_back(page: &str, id: &str, says: &str) {
    assert!(
        page.contains(r#"<nav aria-label="Console">"#) && page.contains("Sign out"),
        "the navigation: {page}"
    );
    assert!(
        page.contains(&format!(
            r#"id="back" href="/console/corrections/{id}">Back to correction {id}</a>"#
        )),
        "a way back to the case: {page}"
    );
    assert!(page.contains(says), "{says}: {page}");
}

#[test]
fn a_wrongly_dead_person_is_corrected_in_the_console_and_the_letter_verifies() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(
        dmf(&["init", "--data", d, "--origin", "example.org/dmf"])
            .status
            .success()
    );
    let file = dir.path().join("ssdm1.txt");
    std::fs::write(
        &file,
        record("123456789", "WALKER", "ALICE", "01021930")
            + &record("234567890", "JONES", "ROBERT", "07041941")
            + &record("345678901", "JONAS", "ROBIN", "07041941"),
    )
    .unwrap();
    let out = dmf(&["import", "--data", d, s(&file), "--today", TODAY]);
    assert!(out.status.success(), "{}", stderr(&out));
    let subscriber = key(d, "bank-subscriber", "subscriber", &[]);
    let identity = key(d, "bank-identity", "identity", &[]);
    let reporter = key(d, "state-reporter", "reporter", &["--source", "state"]);
    create_user(d, "alice", "caseworker", "alice-password-1");
    create_user(d, "carol", "caseworker", "carol-password-1");
    create_user(d, "sam", "supervisor", "sam-password-12");

    let (_server, base) = serve(d, &["--today", TODAY]);
    let mirror_dir = dir.path().join("mirror");
    let _mirror = mirror(&base, &subscriber, &mirror_dir, TODAY);
    let mirror_says_dead = || {
        let out = dmf(&[
            "verify",
            "--data",
            s(&mirror_dir),
            "--ssn",
            "234567890",
            "--first",
            "ROBERT",
            "--last",
            "JONES",
            "--dob",
            "1941-07-04",
            "--purpose",
            "identity",
            "--json",
        ]);
        // A mirror with no death for the SSN says so, rather than "alive".
        let v = serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null);
        match v["result"].as_str() {
            Some("no_death_on_file") => Value::Bool(false),
            _ => v["deceased"].clone(),
        }
    };
    eventually("the mirror to hold the wrong death", || {
        mirror_says_dead() == true
    });

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let b = Browser::start(&shots);

    b.goto(&format!("{base}/console"));
    b.screenshot("01-login");
    // A caseworker files a correction and cannot approve it herself.
    login(&b, &base, "carol", "carol-password-1");
    b.goto(&format!("{base}/console/people/123456789/correct"));
    b.fill("#reason", "Alice Walker called; confirmed alive");
    b.click("#ev_photo_id");
    b.click("#ev_ssn_card");
    b.follow("#submit-correction");
    assert!(
        b.text("h1").ends_with("sent for approval"),
        "{}",
        b.source()
    );
    b.follow("#case-link");
    let carols = b.url();
    let carols_id = carols.rsplit('/').next().unwrap().to_owned();
    let approve = format!("/console/corrections/{carols_id}/approve");
    // Approve is not offered to her; posted anyway, it is refused on a page that keeps the
    // navigation and links back to the correction.
    assert!(absent(&b, "approve"), "{}", b.source());
    let (status, page) = post_as_signed_in(&b, &base, &approve);
    assert_eq!(status, 403, "{page}");
    refused_with_a_way_back(&page, &carols_id, "cannot approve it: a supervisor must");
    assert!(b.text("#correction-status").contains("Awaiting approval"));
    b.goto(&format!("{base}/console"));
    logout(&b);

    // Another caseworker signs in; she may not approve a colleague's correction either (that
    // takes a supervisor). She finds the person by name and date of birth, fuzzily.
    login(&b, &base, "alice", "alice-password-1");
    b.goto(&carols);
    assert!(absent(&b, "approve"), "{}", b.source());
    let (status, page) = post_as_signed_in(&b, &base, &approve);
    assert_eq!(status, 403, "{page}");
    refused_with_a_way_back(
        &page,
        &carols_id,
        "Only a supervisor may approve a correction.",
    );
    b.goto(&format!("{base}/console"));
    b.fill("#first", "Bob");
    b.fill("#last", "Jones");
    b.fill("#dob", "1941-07-04");
    b.follow("form[action='/console/search'] button[type=submit]");
    let results = b.source();
    assert!(
        results.contains("234567890") && results.contains("nickname"),
        "{results}"
    );
    b.screenshot("02-search");
    b.follow("a[href='/console/people/234567890']");
    let opened = Instant::now();
    assert_eq!(b.text("#status"), "Recorded as deceased");
    assert!(b.source().contains("timeline"));
    b.screenshot("03-person");

    // The correction, with too little evidence first.
    b.follow("#correct");
    b.fill(
        "#reason",
        "Robert Jones came to the office in person; he is alive",
    );
    b.click("#ev_photo_id");
    b.follow("#submit-correction");
    assert!(b.source().contains("Tick at least 2"), "{}", b.source());
    b.click("#ev_in_person");
    b.fill("#document", "passport 123456");
    b.screenshot("04-correction-form");
    b.follow("#submit-correction");
    b.follow("#case-link");
    let url = b.url();
    let id: i64 = url
        .rsplit('/')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a correction page: {url}"));
    assert!(b.text("#correction-status").contains("Awaiting approval"));
    b.screenshot("05-correction-requested");
    // Its author is not offered Approve.
    assert!(absent(&b, "approve"), "{}", b.source());
    let (status, page) =
        post_as_signed_in(&b, &base, &format!("/console/corrections/{id}/approve"));
    assert_eq!(status, 403, "{page}");
    b.screenshot("06-self-approval-not-offered");
    b.goto(&format!("{base}/console"));
    logout(&b);

    // The supervisor approves from the queue; the page follows the correction to the mirror.
    login(&b, &base, "sam", "sam-password-12");
    b.goto(&format!("{base}/console/corrections"));
    assert!(b.source().contains(&format!("/console/corrections/{id}")));
    b.screenshot("07-queue");
    b.follow(&format!("#queue a[href='/console/corrections/{id}']"));
    b.follow("#approve");
    assert_eq!(b.text("h1"), "Correction approved");
    assert!(
        b.text("#confirmation").contains("every answer has changed"),
        "{}",
        b.source()
    );
    b.follow("#case-link");
    assert!(b.text("#correction-status").contains("Approved by sam"));
    let approved = Instant::now();
    b.screenshot("08-approved");
    eventually("the mirror to apply the correction", || {
        b.goto(&format!("{base}/console/corrections/{id}"));
        b.text("#propagation-status").starts_with("Complete")
    });
    let elapsed = opened.elapsed();
    let propagated = approved.elapsed();
    assert_eq!(
        mirror_says_dead(),
        false,
        "the mirror applied the correction"
    );
    b.screenshot("09-propagated");
    eprintln!(
        "console correction: {:.2} s from opening the person to the mirror having applied it, \
         {:.2} s of it from the approval (test total {:.1} s)",
        elapsed.as_secs_f64(),
        propagated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let answer = http
        .post(format!("{base}/v1/verify/identity"))
        .header("Authorization", format!("Bearer {identity}"))
        .send(
            json!({"ssn": "234567890", "first": "ROBERT", "last": "JONES", "dob": "1941-07-04"})
                .to_string(),
        )
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["deceased"], false, "{answer}");
    assert_eq!(answer["code"], "V", "{answer}");

    // The letter: its short code checks on the public page and in the API, and so does the
    // signed long code its QR code holds; a changed long code and a made-up one do not. (This
    // server has no --public-url: the letter shows the check page's path alone.)
    b.follow("#letter");
    let letter_path = b.text("#letter-url");
    assert!(letter_path.starts_with("/letters/"), "{letter_path}");
    let code = b.text("#letter-code");
    assert_eq!(code.replace('-', "").len(), 16, "{code}");
    let long_url = b.execute("return document.getElementById('letter-long-url').textContent");
    let long_code = long_url
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(long_code.len(), 117);
    b.screenshot("10-letter");
    let page = http
        .get(format!("{base}{letter_path}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("ROBERT JONES")
            && page.contains("the registry does not list this person as deceased"),
        "{page}"
    );
    let get = |url: &str| {
        let r = http.get(url).call().unwrap();
        let status = r.status().as_u16();
        let body: Value = serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
        (status, body)
    };
    let prefix = format!("{base}/v1/letters");
    for c in [&code, &long_code] {
        let (status, v) = get(&format!("{prefix}/{c}"));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["valid"], true);
        assert_eq!(v["in_effect"], true);
        assert_eq!(
            (v["first"].as_str(), v["last"].as_str()),
            (Some("ROBERT"), Some("JONES"))
        );
        assert_eq!(v["ssn_last4"], "7890");
    }
    for i in [20, 60, long_code.len() - 1] {
        let mut tampered = long_code.clone().into_bytes();
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let (status, v) = get(&format!("{prefix}/{tampered}"));
        assert!(
            status == 404 || status == 400,
            "tampered at {i}: {status} {v}"
        );
    }
    let (status, _) = get(&format!("{prefix}/{}", "0".repeat(long_code.len())));
    assert!(status == 400 || status == 404);
    assert_eq!(get(&format!("{prefix}/NOT-A-CODE")).0, 400);

    // Forms without the session's CSRF token are refused, and change nothing.
    let session = b.cookie("dmf_session");
    for body in ["", "csrf=forged"] {
        let r = http
            .post(format!("{base}/console/corrections/{carols_id}/approve"))
            .header("Cookie", format!("dmf_session={session}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert!(r.into_body().read_to_string().unwrap().contains("CSRF"));
    }
    b.goto(&carols);
    assert!(b.text("#correction-status").contains("Awaiting approval"));

    // The remaining pages.
    b.goto(&format!("{base}/console/notices"));
    b.screenshot("11-notices");
    b.goto(&format!("{base}/console/oversight"));
    let page = b.source();
    assert!(
        page.contains("<svg") && page.contains("example.org/dmf"),
        "{page}"
    );
    b.screenshot("12-oversight");

    // A state report for a number nobody holds is held; the supervisor confirms it first, and
    // a caseworker's second confirmation is not enough: the second must be a supervisor's.
    let r = http
        .post(format!("{base}/v1/reports/death"))
        .header("Authorization", format!("Bearer {reporter}"))
        .send(
            json!({"ssn": "456789012", "first": "Pat", "last": "Doe", "dob": "1950-01-01", "dod": "2026-11-20", "evidence": "EDRS-1"})
                .to_string(),
        )
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let r: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["reason"], "unknown_ssn", "{r}");
    let seq = r["seq"].as_u64().unwrap();
    b.goto(&format!("{base}/console/held"));
    assert!(
        b.text("#held").contains("no one is on file under this SSN"),
        "{}",
        b.source()
    );
    b.screenshot("13-held");
    b.fill(&format!("#evidence-{seq}"), "called the state registrar");
    b.follow(&format!("#confirm-{seq}"));
    assert!(
        b.text("#confirmation").contains("your review is recorded"),
        "{}",
        b.source()
    );
    b.follow("#person-link");
    assert!(
        b.url().ends_with("/console/people/456789012"),
        "{}",
        b.url()
    );
    assert!(
        b.text("#held").contains("confirmed by sam"),
        "{}",
        b.source()
    );
    b.screenshot("14-held-confirmed-once");
    logout(&b);
    login(&b, &base, "alice", "alice-password-1");
    b.goto(&format!("{base}/console/people/456789012"));
    assert!(
        !b.source().contains(&format!("id=\"confirm-{seq}\"")),
        "the second confirmation is not offered to a caseworker"
    );
    assert!(b.text("#status").contains("Not recorded as deceased"));
    eprintln!("console screenshots: {}", shots.display());
}
