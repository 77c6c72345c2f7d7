//! A correction's lifecycle in the console over plain HTTP: filed, joined by a second request,
//! approved, rejected, sent back and resubmitted, withdrawn; each step shown only to who may
//! take it and ending on a confirmation page, each refusal keeping the navigation and a way
//! back to the case; and the queue, oldest first. (The browser test of the `dmf` crate clicks
//! through the same pages in Chromium.)

use dmf_server::users::{UserRole, Users};
use dmf_server::workflow::{CorrectionRequest, CorrectionStatus, Workflow};

use super::Server;
use super::console::{Client, Reply, token, users};

const PASSWORD: &str = "a long password 1";

/// A server whose Bob (234567890) and Dan (456789012) are wrongly recorded as dead (each by
/// two sources), with the console's users: `cw`, `sup`, `watch`, and `cw2` and `sup2`.
fn server() -> Server {
    let s = Server::start();
    super::two_source_death(&s, "234567890", "Bob", "Jones", "2026-11-19");
    super::two_source_death(&s, "456789012", "Dan", "Okafor", "2010-01-01");
    users(&s);
    let more = Users::open(&s.data.join(dmf_server::USERS_FILE)).unwrap();
    more.create("cw2", UserRole::Caseworker, PASSWORD, 0)
        .unwrap();
    more.create("sup2", UserRole::Supervisor, PASSWORD, 0)
        .unwrap();
    s
}

/// A person's corrections as the workflow file holds them.
fn corrections_of(s: &Server, ssn: u32) -> Vec<CorrectionRequest> {
    Workflow::open(&s.data.join(dmf_server::WORKFLOW_FILE))
        .unwrap()
        .corrections_of(ssn)
        .unwrap()
}

fn signed_in<'a>(s: &'a Server, name: &str) -> Client<'a> {
    let mut c = Client::new(s);
    assert_eq!(c.login(name, PASSWORD).status, 303, "{name} signs in");
    c
}

/// The correction form's fields: a reason and the evidence items ticked.
fn correction_form<'a>(t: &'a str, reason: &'a str, ticked: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("csrf", t), ("reason", reason)];
    f.extend(ticked.iter().map(|t| (*t, "on")));
    f
}

/// Files a correction for `ssn` from its form; the answer.
fn file(c: &mut Client<'_>, ssn: &str, reason: &str, ticked: &[&str]) -> Reply {
    let form = format!("/console/people/{ssn}/correct");
    let t = c.csrf(&format!("/console/people/{ssn}"));
    c.post(&form, &correction_form(&t, reason, ticked))
}

/// The correction a confirmation page links to.
fn case_of(page: &Reply) -> i64 {
    let link = r#"id="case-link" href="/console/corrections/"#;
    let at = page
        .body
        .find(link)
        .unwrap_or_else(|| panic!("a link to the correction: {}", page.body))
        + link.len();
    page.body[at..].split('"').next().unwrap().parse().unwrap()
}

/// The page ends an action: 200, the confirmation panel, and its title.
fn confirmed(page: &Reply, title: &str) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"id="confirmation" role="status""#)
            && page.body.contains(&format!("<h1>{title}</h1>"))
            && page.body.contains("What happens next"),
        "{title}: {}",
        page.body
    );
}

/// A step on a correction, posted with the form's token from its page.
fn step(c: &mut Client<'_>, id: i64, what: &str, more: &[(&str, &str)]) -> Reply {
    let t = c.csrf(&format!("/console/corrections/{id}"));
    let mut form = vec![("csrf", t.as_str())];
    form.extend_from_slice(more);
    c.post(&format!("/console/corrections/{id}/{what}"), &form)
}

/// A refusal that keeps the navigation and links back to the case.
fn refused_with_a_way_back(page: &Reply, status: u16, id: i64, says: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(
        page.body.contains(r#"<nav aria-label="Console">"#)
            && page.body.contains("Sign out")
            && page.body.contains(r#"href="/console/corrections""#),
        "the navigation: {}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            r#"id="back" href="/console/corrections/{id}">Back to correction {id}</a>"#
        )),
        "a way back to the case: {}",
        page.body
    );
    assert!(page.body.contains(says), "{says}: {}", page.body);
}

/// Which step buttons a correction page offers.
fn offered(page: &Reply) -> Vec<&'static str> {
    ["approve", "reject", "send-back", "withdraw", "resubmit"]
        .into_iter()
        .filter(|b| page.body.contains(&format!(r#"id="{b}" type="submit""#)))
        .collect()
}

const TWO: [&str; 2] = ["ev_photo_id", "ev_ssn_card"];

/// Back and Submit sent the correction form twice: a second correction for the same person,
/// which could never be approved once the first was (there was no death left to correct) and
/// stayed in every supervisor's queue. The same request again is now the same correction, and
/// nothing new is recorded.
#[test]
fn back_and_submit_made_a_duplicate_correction_no_one_could_approve() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let first = file(&mut cw, "234567890", "Bob came in person", &TWO);
    let id = case_of(&first);
    confirmed(&first, &format!("Correction {id} sent for approval"));
    assert!(
        first.body.contains("A supervisor will review it"),
        "{}",
        first.body
    );
    let again = file(&mut cw, "234567890", "Bob came in person", &TWO);
    confirmed(&again, &format!("Correction {id} already has your request"));
    assert_eq!(case_of(&again), id);
    assert!(again.body.contains("Nothing new was recorded"));
    let corrections = corrections_of(&s, 234_567_890);
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0].actions.len(), 1, "no joined action either");

    let mut sup = signed_in(&s, "sup");
    let queue = sup.get("/console/corrections");
    assert_eq!(
        queue
            .body
            .matches(r#"<td data-label="Correction">"#)
            .count(),
        1,
        "{}",
        queue.body
    );
    let done = step(&mut sup, id, "approve", &[]);
    confirmed(&done, "Correction approved");
    assert!(
        done.body
            .contains("every answer has changed; subscribers are being sent the correction"),
        "{}",
        done.body
    );
    assert!(done.body.contains(&format!(
        r#"id="letter-link" href="/console/corrections/{id}/letter""#
    )));
    assert!(
        sup.get("/console/corrections")
            .body
            .contains(r#"id="queue-empty""#),
        "nothing is left waiting"
    );
}

/// The Approve button was on every correction page, for caseworkers and for the requester
/// too, who were refused only after pressing it. Each user now sees only the steps they may
/// take.
#[test]
fn approve_was_shown_to_a_caseworker() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let id = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let page = format!("/console/corrections/{id}");
    let mut cw2 = signed_in(&s, "cw2");
    let mut sup = signed_in(&s, "sup");
    let mut watch = signed_in(&s, "watch");
    for (who, client, steps) in [
        ("the requester", &mut cw, vec!["withdraw"]),
        ("another caseworker", &mut cw2, vec![]),
        ("oversight", &mut watch, vec![]),
        (
            "a supervisor",
            &mut sup,
            vec!["approve", "reject", "send-back"],
        ),
    ] {
        let r = client.get(&page);
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        assert_eq!(offered(&r), steps, "{who}");
    }
    // A supervisor who asked for a correction does not decide it.
    let mut sup2 = signed_in(&s, "sup2");
    let own = case_of(&file(
        &mut sup2,
        "456789012",
        "Dan phoned and came in",
        &TWO,
    ));
    let r = sup2.get(&format!("/console/corrections/{own}"));
    assert_eq!(offered(&r), ["withdraw"]);
    let r = step(&mut sup2, own, "approve", &[]);
    refused_with_a_way_back(&r, 403, own, "a supervisor must");
}

/// A refused approval showed a bare "Forbidden" page: no menu, no way back to the case. Posted
/// straight to the form's address now, it is refused on a page with the navigation and a link
/// back to the correction.
#[test]
fn a_refusal_had_no_menu_and_no_way_back_to_the_case() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let id = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let mut cw2 = signed_in(&s, "cw2");
    for (client, says) in [
        (&mut cw, "cannot approve it: a supervisor must"),
        (&mut cw2, "Only a supervisor may approve a correction."),
    ] {
        let r = step(client, id, "approve", &[]);
        refused_with_a_way_back(&r, 403, id, says);
        let r = step(client, id, "reject", &[("reason", "no")]);
        refused_with_a_way_back(&r, 403, id, "reject");
    }
    let r = step(&mut cw2, id, "withdraw", &[]);
    refused_with_a_way_back(&r, 403, id, "Only cw, who asked for correction");
    assert_eq!(
        corrections_of(&s, 234_567_890)[0].status,
        CorrectionStatus::Open,
        "nothing changed"
    );
}

/// The status line said the correction awaited "a second person" where the rule is that a
/// supervisor approves it.
#[test]
fn the_status_line_said_a_second_person_where_the_rule_is_a_supervisor() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let form = cw.get("/console/people/234567890/correct");
    assert!(form.body.contains("A supervisor must approve it"));
    let id = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let page = cw.get(&format!("/console/corrections/{id}"));
    assert!(
        page.body.contains("Awaiting approval by a supervisor."),
        "{}",
        page.body
    );
    for p in [&form, &page] {
        assert!(!p.body.contains("second person"), "{}", p.body);
    }
}

/// A second caseworker's request for a person whose correction is open joins it; the form
/// itself says a correction is open and links to it.
#[test]
fn a_second_request_joins_the_open_correction() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let mut cw2 = signed_in(&s, "cw2");
    // The second caseworker opened the form before the first filed hers.
    let t = cw2.csrf("/console/people/234567890/correct");
    let id = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let r = cw2.post(
        "/console/people/234567890/correct",
        &correction_form(
            &t,
            "Bob's daughter called; he is alive",
            &["ev_in_person", "ev_second_doc"],
        ),
    );
    confirmed(&r, &format!("Your request joined correction {id}"));
    assert_eq!(case_of(&r), id);
    assert!(
        r.body.contains("already had an open correction"),
        "{}",
        r.body
    );
    let form = cw2.get("/console/people/234567890/correct");
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains("A correction is already open for this person: ")
            && form.body.contains(&format!(
                r#"id="open-correction" href="/console/corrections/{id}">correction {id}</a>"#
            ))
            && !form.body.contains("submit-correction"),
        "{}",
        form.body
    );
    let page = cw.get(&format!("/console/corrections/{id}"));
    assert!(
        page.body.contains("Asked for it too (joined)")
            && page.body.contains("Bob's daughter called; he is alive"),
        "the history names the joined request: {}",
        page.body
    );
    assert_eq!(corrections_of(&s, 234_567_890).len(), 1);
}

/// Rejected with a reason (asked for when missing); the requester sees it; nothing after.
#[test]
fn a_correction_is_rejected_with_a_reason() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let id = case_of(&file(&mut cw, "234567890", "a caller said so", &TWO));
    let mut sup = signed_in(&s, "sup");
    let r = step(&mut sup, id, "reject", &[("reason", "  ")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("<title>Error: Correction")
            && r.body
                .contains(r##"href="#reject-reason">Say why the correction is rejected."##)
            && r.body.contains(
                r#"id="reject-reason" name="reason" rows="3" cols="60" aria-invalid="true""#
            ),
        "{}",
        r.body
    );
    let why = "the caller could not answer the security questions";
    let r = step(&mut sup, id, "reject", &[("reason", why)]);
    confirmed(&r, &format!("Correction {id} rejected"));
    assert!(r.body.contains("Nothing changed on the file"));
    let page = cw.get(&format!("/console/corrections/{id}"));
    assert!(
        page.body
            .contains(r#"<strong class="tag tag-red">Rejected</strong>"#)
            && page.body.contains("Rejected by sup at ")
            && page.body.contains(why),
        "{}",
        page.body
    );
    assert!(offered(&page).is_empty(), "nothing more: {}", page.body);
    let r = step(&mut sup, id, "approve", &[]);
    refused_with_a_way_back(&r, 422, id, "nothing more can be done with it");
    // The person may be corrected again, as a new correction.
    let again = file(&mut cw, "234567890", "Bob came in person", &TWO);
    confirmed(&again, &format!("Correction {} sent for approval", id + 1));
}

/// Sent back for evidence; not approved until its requester resubmits it with more.
#[test]
fn a_correction_is_sent_back_resubmitted_and_approved() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let id = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let mut sup = signed_in(&s, "sup");
    let r = step(&mut sup, id, "send-back", &[]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Say what evidence is missing."));
    let r = step(
        &mut sup,
        id,
        "send-back",
        &[("reason", "a second document with the date of birth")],
    );
    confirmed(&r, &format!("Correction {id} sent back for evidence"));
    assert!(r.body.contains("resubmits it"), "{}", r.body);
    let r = step(&mut sup, id, "approve", &[]);
    refused_with_a_way_back(&r, 422, id, "its requester must resubmit it");

    let page = cw.get(&format!("/console/corrections/{id}"));
    assert!(
        page.body.contains("Sent back for evidence</strong>")
            && page
                .body
                .contains("a second document with the date of birth"),
        "{}",
        page.body
    );
    assert_eq!(offered(&page), ["withdraw", "resubmit"]);
    // The form is filled in as it was: the two items stay ticked.
    assert!(
        page.body
            .contains(r#"id="ev_photo_id" type="checkbox" name="ev_photo_id" value="on" checked"#)
    );
    let t = token(&page.body);
    let resubmit = format!("/console/corrections/{id}/resubmit");
    let r = cw.post(
        &resubmit,
        &correction_form(&t, "Bob came in person", &["ev_photo_id"]),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Tick at least 2 items"), "{}", r.body);
    let r = cw.post(
        &resubmit,
        &correction_form(
            &t,
            "Bob came in person with his birth certificate",
            &["ev_photo_id", "ev_ssn_card", "ev_second_doc"],
        ),
    );
    confirmed(&r, &format!("Correction {id} resubmitted"));
    let page = sup.get(&format!("/console/corrections/{id}"));
    assert_eq!(offered(&page), ["approve", "reject", "send-back"]);
    assert!(page.body.contains("Resubmitted it with more evidence"));
    confirmed(&step(&mut sup, id, "approve", &[]), "Correction approved");
    let c = &corrections_of(&s, 234_567_890)[0];
    assert!(
        c.body.contains("birth certificate"),
        "the resubmission was approved"
    );
}

/// Withdrawn by its requester; then listed under its status, not in the queue awaiting
/// approval.
#[test]
fn a_correction_is_withdrawn_by_its_requester() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let id = case_of(&file(&mut cw, "234567890", "filed for the wrong Bob", &TWO));
    let r = step(&mut cw, id, "withdraw", &[("reason", "wrong person")]);
    confirmed(&r, &format!("Correction {id} withdrawn"));
    assert!(
        r.body
            .contains(r#"id="person-link" href="/console/people/234567890""#)
    );
    let page = cw.get(&format!("/console/corrections/{id}"));
    assert!(
        page.body.contains("Withdrawn by cw at ") && page.body.contains("wrong person"),
        "{}",
        page.body
    );
    assert!(offered(&page).is_empty());
    let r = step(&mut cw, id, "withdraw", &[]);
    refused_with_a_way_back(&r, 422, id, "was withdrawn by cw on");
    let waiting = cw.get("/console/corrections");
    assert!(
        waiting.body.contains(r#"id="queue-empty""#),
        "{}",
        waiting.body
    );
    let withdrawn = cw.get("/console/corrections?status=withdrawn");
    assert!(
        withdrawn
            .body
            .contains(&format!(r#"<a href="/console/corrections/{id}">{id}</a>"#)),
        "{}",
        withdrawn.body
    );
}

/// The queue listed the newest first, by SSN alone, with no waiting time. It is oldest first
/// now, with the person's name, what is asked, who asked, how long it has waited and its
/// status, each cell labelled for narrow screens; filtered by status and by requester.
#[test]
fn the_queue_listed_newest_first_with_no_names_or_waiting_time() {
    let s = server();
    let mut cw = signed_in(&s, "cw");
    let mut cw2 = signed_in(&s, "cw2");
    let bob = case_of(&file(&mut cw, "234567890", "Bob came in person", &TWO));
    let dan = case_of(&file(&mut cw2, "456789012", "Dan came in person", &TWO));
    let queue = cw.get("/console/corrections");
    assert_eq!(queue.status, 200);
    let b = queue
        .body
        .find(&format!(r#"<a href="/console/corrections/{bob}">"#));
    let d = queue
        .body
        .find(&format!(r#"<a href="/console/corrections/{dan}">"#));
    assert!(b.is_some() && b < d, "oldest first: {}", queue.body);
    for cell in [
        r#"<td data-label="Person">BOB JONES</td>"#,
        r#"<td data-label="What is asked">Remove the death recorded on 2026-11-19</td>"#,
        r#"<td data-label="Requested by">cw2</td>"#,
        r#"<td data-label="Waiting">less than a minute</td>"#,
        r#"<strong class="tag tag-blue">Awaiting approval</strong>"#,
    ] {
        assert!(queue.body.contains(cell), "{cell}: {}", queue.body);
    }
    let mine = cw.get("/console/corrections?status=awaiting_approval&mine=on");
    assert!(
        mine.body
            .contains(&format!(r#"href="/console/corrections/{bob}""#))
            && !mine
                .body
                .contains(&format!(r#"href="/console/corrections/{dan}""#))
            && mine
                .body
                .contains(r#"id="mine" type="checkbox" name="mine" value="on" checked"#),
        "{}",
        mine.body
    );
    let approved = cw.get("/console/corrections?status=approved");
    assert!(approved.body.contains(r#"id="queue-empty""#));
    // The people shown are in their accounting.
    let (_, acc) = s.get_json("/v1/people/456789012/accounting", Some("caseworker"));
    assert!(
        acc["disclosures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["purpose"] == "console corrections" && d["to"] == "console user cw"),
        "{acc}"
    );
}
