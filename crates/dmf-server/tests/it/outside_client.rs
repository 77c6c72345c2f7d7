//! What an outside client meets: feed pages that end only where the feed does.

use dmf_server::Config;
use serde_json::json;

use super::{ALICE, Server, feed};

/// A people file of `n` numberholders, Alice first: imported, each is an event no feed carries.
fn many_people(n: u32) -> String {
    let mut csv = String::from("ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    csv.push_str("123456789,Alice,Mae,Walker,,F,1980-05-17,OH\n");
    for i in 1..n {
        let (group, serial) = (1 + i / 9_999, 1 + i % 9_999);
        csv.push_str(&format!(
            "201{group:02}{serial:04},Ann,,Lee,,F,1950-01-01,OH\n"
        ));
    }
    csv
}

fn report_alice(s: &Server) {
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-1"}),
    );
    assert_eq!(status, 201, "{r}");
}

/// More events a key may not see than one page reads (every numberholder of a large import),
/// then a death it may: the first page came back empty with the head still ahead, and a
/// client that stops at an empty page never saw the death.
#[test]
fn a_feed_page_came_back_empty_while_the_head_was_beyond_its_cursor() {
    let s = Server::with_people(&many_people(10_050));
    report_alice(&s);
    let (cursor, records) = feed(&s, "benefits", 0);
    assert_eq!(cursor, 10_051, "every event read");
    assert_eq!(records, [("A".to_owned(), ALICE.0.to_owned())]);
    assert_eq!(feed(&s, "benefits", cursor), (cursor, vec![]));
}

/// Past its bound a request answers an empty page, but with its cursor moved on: a client
/// pages on from the cursor until it stops moving, and reaches every record.
#[test]
fn a_feed_bounded_by_its_read_limit_pages_on_until_the_cursor_stops() {
    let s = Server::with(Config {
        today: Some("2026-11-23".parse().unwrap()),
        feed_read_limit: 2,
        ..Config::default()
    });
    // Four numberholders (events 1 to 4), then Alice's death (event 5).
    report_alice(&s);
    let alice = || vec![("A".to_owned(), ALICE.0.to_owned())];
    for (after, expect) in [
        (0, (2, vec![])),
        (2, (4, vec![])),
        (4, (5, alice())),
        (3, (5, alice())),
        (5, (5, vec![])),
    ] {
        assert_eq!(feed(&s, "benefits", after), expect, "after {after}");
    }
}
