//! A correction's lifecycle in headless Chromium: one rejected by a supervisor with a reason the
//! requester then reads, one sent back for evidence, resubmitted with more and approved, one
//! withdrawn by its requester, and a second request for a person joining the open correction;
//! Approve is offered neither to the requester nor to another caseworker, every step ends on a
//! confirmation page, and the queue lists the oldest first with names. Screenshots are saved
//! under the target folder.

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use super::browser::Browser;
use super::console::{
    TODAY, absent, create_user, login, logout, post_as_signed_in, record, registry,
};
use super::serve::{key, serve};

/// Files a correction from the person's form with a reason and the evidence items ticked; the
/// id of the correction the confirmation links to, left on the correction's page.
fn file(b: &Browser, base: &str, ssn: &str, reason: &str, ticked: &[&str]) -> String {
    b.goto(&format!("{base}/console/people/{ssn}/correct"));
    b.fill("#reason", reason);
    for t in ticked {
        b.click(&format!("#{t}"));
    }
    b.follow("#submit-correction");
    assert!(
        b.text("h1").ends_with("sent for approval"),
        "{}",
        b.source()
    );
    b.follow("#case-link");
    b.url().rsplit('/').next().unwrap().to_owned()
}

/// The step buttons a correction's page offers.
fn offered(b: &Browser) -> Vec<&'static str> {
    ["approve", "reject", "send-back", "withdraw", "resubmit"]
        .into_iter()
        .filter(|id| !absent(b, id))
        .collect()
}

#[test]
fn corrections_are_rejected_sent_back_resubmitted_withdrawn_and_joined_in_the_console() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // Names as death records carry them: capitals, a hyphenated surname, a compound first name
    // (the file keeps them without the hyphen and the space).
    let data = registry(
        dir.path(),
        "",
        &(record("111223333", "GARCIA-LOPEZ", "MARIA", "03111945")
            + &record("222334444", "ONEIL", "PATRICK", "11301950")
            + &record("333445555", "NGUYEN", "THANH", "06051962")
            + &record("444556666", "KOWALSKI", "ANNA MARIE", "01091938")),
        TODAY,
    );
    let d = data.as_str();
    let office = key(d, "field-office", "caseworker", &[]);
    create_user(d, "carol", "caseworker", "carol-password-1");
    create_user(d, "alice", "caseworker", "alice-password-1");
    create_user(d, "sam", "supervisor", "sam-password-12");
    let (_server, base) = serve(d, &["--today", TODAY]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-cases-screenshots");
    let b = Browser::start(&shots);
    let case = |id: &str| format!("{base}/console/corrections/{id}");

    // Carol files three corrections; she is offered Withdraw on each, never Approve.
    login(&b, &base, "carol", "carol-password-1");
    let rejected = file(
        &b,
        &base,
        "111223333",
        "Caller says she is Maria Garcia",
        &["ev_photo_id", "ev_ssn_card"],
    );
    assert_eq!(offered(&b), ["withdraw"]);
    assert!(
        b.text("#correction-status")
            .contains("Awaiting approval by a supervisor"),
        "{}",
        b.source()
    );
    b.screenshot("01-filed");
    let sent_back = file(
        &b,
        &base,
        "222334444",
        "Patrick O'Neil came to the office",
        &["ev_in_person", "ev_photo_id"],
    );
    let withdrawn = file(
        &b,
        &base,
        "333445555",
        "Thanh Nguyen phoned",
        &["ev_in_person", "ev_ssn_card"],
    );

    // A second request joins the open one: Carol has Anna Marie's form open when the field
    // office's case system files a correction for her.
    b.goto(&format!("{base}/console/people/444556666/correct"));
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = http
        .post(format!("{base}/v1/corrections"))
        .header("Authorization", format!("Bearer {office}"))
        .send(json!({"ssn": "444556666", "kind": "reinstate", "reason": "seen at the field office", "evidence": ["passport"]}).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let first: Value = serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
    let open = first["id"].as_i64().unwrap().to_string();
    b.fill("#reason", "Her son brought her in; she is alive");
    b.click("#ev_in_person");
    b.click("#ev_second_doc");
    b.follow("#submit-correction");
    assert_eq!(
        b.text("h1"),
        format!("Your request joined correction {open}")
    );
    assert!(
        b.text("#confirmation")
            .contains("already had an open correction"),
        "{}",
        b.source()
    );
    b.screenshot("02-joined");
    b.follow("#case-link");
    assert_eq!(b.url(), case(&open), "the same correction");
    let history = b.text("#history");
    assert!(
        history.contains("field-office") && history.contains("Asked for it too (joined)"),
        "{history}"
    );
    // The form itself now leads to the open correction.
    b.goto(&format!("{base}/console/people/444556666/correct"));
    assert!(
        b.text("#already-open")
            .contains(&format!("correction {open}")),
        "{}",
        b.source()
    );
    assert!(absent(&b, "submit-correction"));
    b.goto(&format!("{base}/console"));
    logout(&b);

    // Another caseworker is not offered Approve either; posted anyway, it is refused.
    login(&b, &base, "alice", "alice-password-1");
    b.goto(&case(&rejected));
    assert!(offered(&b).is_empty(), "{}", b.source());
    let (status, page) = post_as_signed_in(
        &b,
        &base,
        &format!("/console/corrections/{rejected}/approve"),
    );
    assert_eq!(status, 403, "{page}");
    b.goto(&format!("{base}/console"));
    logout(&b);

    // The supervisor works through the queue, oldest first, with names.
    login(&b, &base, "sam", "sam-password-12");
    b.goto(&format!("{base}/console/corrections"));
    let queue = b.text("#queue");
    let at = |name: &str| {
        queue
            .find(name)
            .unwrap_or_else(|| panic!("{name} in the queue: {queue}"))
    };
    assert!(
        at("MARIA GARCIALOPEZ") < at("PATRICK ONEIL")
            && at("PATRICK ONEIL") < at("THANH NGUYEN")
            && at("THANH NGUYEN") < at("ANNAMARIE KOWALSKI"),
        "{queue}"
    );
    assert!(
        queue.contains("Remove the death recorded on 2001-03-15"),
        "{queue}"
    );
    b.screenshot("03-queue");

    // Rejected: a reason is asked for, then given.
    b.follow(&format!("#queue a[href='/console/corrections/{rejected}']"));
    assert_eq!(offered(&b), ["approve", "reject", "send-back"]);
    b.follow("#reject");
    assert!(
        b.text("#error-summary")
            .contains("Say why the correction is rejected.")
    );
    assert_eq!(
        b.execute("return document.getElementById('reject-reason').getAttribute('aria-invalid')"),
        Value::from("true")
    );
    b.screenshot("04-reject-needs-a-reason");
    b.fill(
        "#reject-reason",
        "The caller could not answer the security questions",
    );
    b.follow("#reject");
    assert_eq!(b.text("h1"), format!("Correction {rejected} rejected"));
    b.screenshot("05-rejected");

    // Sent back for a second document.
    b.goto(&case(&sent_back));
    b.fill(
        "#send-back-reason",
        "A second document with the date of birth",
    );
    b.follow("#send-back");
    assert_eq!(
        b.text("h1"),
        format!("Correction {sent_back} sent back for evidence")
    );
    b.follow("#case-link");
    assert!(offered(&b).is_empty(), "not decided until resubmitted");
    b.goto(&format!("{base}/console"));
    logout(&b);

    // Carol reads the rejection, resubmits with more evidence, and withdraws the third.
    login(&b, &base, "carol", "carol-password-1");
    b.goto(&case(&rejected));
    assert_eq!(b.text("#correction-tag"), "Rejected");
    assert!(
        b.text("#correction-status")
            .contains("The caller could not answer the security questions"),
        "{}",
        b.source()
    );
    assert!(offered(&b).is_empty());
    b.goto(&case(&sent_back));
    assert_eq!(b.text("#correction-tag"), "Sent back for evidence");
    assert_eq!(offered(&b), ["withdraw", "resubmit"]);
    b.click("#ev_second_doc");
    b.fill("#document", "birth certificate MA-1950-4471");
    b.screenshot("06-resubmit");
    b.follow("#resubmit");
    assert_eq!(b.text("h1"), format!("Correction {sent_back} resubmitted"));
    b.goto(&case(&withdrawn));
    b.fill("#withdraw-reason", "Filed for the wrong Thanh Nguyen");
    b.follow("#withdraw");
    assert_eq!(b.text("h1"), format!("Correction {withdrawn} withdrawn"));
    b.follow("#case-link");
    assert_eq!(b.text("#correction-tag"), "Withdrawn");
    b.goto(&format!("{base}/console"));
    logout(&b);

    // The supervisor approves the resubmitted one.
    login(&b, &base, "sam", "sam-password-12");
    b.goto(&case(&sent_back));
    assert!(
        b.text("#history")
            .contains("Resubmitted it with more evidence"),
        "{}",
        b.source()
    );
    b.follow("#approve");
    assert_eq!(b.text("h1"), "Correction approved");
    b.screenshot("07-approved");
    b.follow("#case-link");
    assert!(b.text("#correction-status").contains("Approved by sam"));
    // The queue's filters: the withdrawn one is under Withdrawn, no longer awaiting approval.
    b.goto(&format!("{base}/console/corrections"));
    assert!(
        !b.source()
            .contains(&format!(r#"href="/console/corrections/{withdrawn}""#)),
        "{}",
        b.source()
    );
    b.click("#status option[value='withdrawn']");
    b.follow("#filter");
    assert!(b.url().contains("status=withdrawn"), "{}", b.url());
    assert!(b.text("#queue").contains("THANH NGUYEN"), "{}", b.source());
    b.screenshot("08-withdrawn-filter");
    eprintln!(
        "console corrections: four lifecycles in {:.1} s; screenshots: {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
