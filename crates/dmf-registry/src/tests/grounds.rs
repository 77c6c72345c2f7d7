//! What each answer stands on, purpose by purpose, as a person's record grows: the events a
//! receipt proves and the fields it may open.

use super::*;
use crate::grounds::{grounds_for, identity_events};
use crate::render::Purpose;

const A: &str = "123456789";

/// What the answer about Ann Lee (`A`) for `purpose` stands on, in words: `id` for the events
/// that put the identity on file (resolved from the history), then each event with the fields
/// it may open; `-` for nothing.
fn grounds(reg: &Registry, purpose: Purpose, q: &IdentityQuery) -> String {
    let ssn = A.parse().unwrap();
    let state = reg.state_of(ssn).unwrap();
    let g = grounds_for(purpose, q, state.as_ref(), today(), false);
    let mut out = Vec::new();
    if g.identity {
        let history = reg.history(ssn).unwrap();
        let seqs = identity_events(
            history.iter().map(|(s, e)| (s.seq, e)),
            state.as_ref().unwrap(),
        );
        let seqs: Vec<String> = seqs.iter().map(u64::to_string).collect();
        out.push(format!("id {}", seqs.join(",")));
    }
    for e in &g.events {
        out.push(format!("{}:{}", e.seq, e.open.join("+")));
    }
    if out.is_empty() {
        "-".to_owned()
    } else {
        out.join(" ")
    }
}

#[test]
fn each_answer_stands_on_the_events_it_comes_from() {
    let (_d, reg) = registry();
    import_people(&reg, &[A]);
    let ann = query(A);
    let wrong_name = IdentityQuery {
        first: "ZED".into(),
        ..query(A)
    };
    // After each step (the events it submits, their results): what identity, employment and
    // benefits answers stand on, for Ann and for a query with another name.
    type Case = (Vec<String>, Vec<&'static str>, [&'static str; 4]);
    let cases: Vec<Case> = vec![
        // Event 1, the numberholder record.
        (vec![], vec![], ["id 1", "id 1", "id 1", "-"]),
        // 2: an employment authorization ended, in force and contestable: the mismatch gives
        // the notice's deadline, which it may open.
        (
            vec![notice(A, "employment_authorization_ended", "2026-11-20")],
            vec!["notice_recorded"],
            ["id 1", "id 1 2:ssn+contest_deadline", "id 1", "-"],
        ),
        // 3: contested: the answer gives no deadline and stands on the contest too.
        (
            vec![contest(A)],
            vec!["suspended"],
            ["id 1", "id 1 2:ssn 3:ssn", "id 1", "-"],
        ),
        // 4: the contest denied: final, on the notice and the decision.
        (
            vec![decision(A, 2, "denied")],
            vec!["decided"],
            ["id 1", "id 1 2:ssn 4:ssn", "id 1", "-"],
        ),
        // 5: benefits suspended: a benefit program's answer stands on it.
        (
            vec![notice(A, "benefits_suspended", "2026-11-20")],
            vec!["notice_recorded"],
            ["id 1", "id 1 2:ssn 4:ssn", "id 1 5:ssn", "-"],
        ),
        // 6: a state's death report: state data, so only a benefit program sees the death.
        (
            vec![report(A, "state", "2026-11-21")],
            vec!["deceased"],
            ["id 1", "id 1 2:ssn 4:ssn", "6:ssn", "-"],
        ),
        // 7: a funeral home agrees: everyone sees the death, and those who may not receive a
        // state's data are shown the funeral home's report.
        (
            vec![report(A, "funeral_home", "2026-11-21")],
            vec!["corroborated"],
            ["7:ssn", "7:ssn", "6:ssn", "-"],
        ),
        // 8: corrected: alive again, on the numberholder record.
        (
            vec![ALIVE.to_owned()],
            vec!["reinstated"],
            ["id 1", "id 1 2:ssn 4:ssn", "id 1 5:ssn", "-"],
        ),
        // 9: presumed deceased by age: identity and benefit answers say so.
        (
            vec![presume(A)],
            vec!["presumed"],
            ["id 1 9:ssn", "id 1 2:ssn 4:ssn", "id 1 5:ssn 9:ssn", "-"],
        ),
    ];
    for (events, results, [identity, employment, benefits, mismatch]) in cases {
        let lines: Vec<&str> = events.iter().map(String::as_str).collect();
        assert_eq!(submit(&reg, &lines), results, "{events:?}");
        for (purpose, expect) in [
            (Purpose::Identity, identity),
            (Purpose::Employment, employment),
            (Purpose::Benefits, benefits),
        ] {
            assert_eq!(
                grounds(&reg, purpose, &ann),
                expect,
                "{purpose:?} after {events:?}"
            );
            assert_eq!(
                grounds(&reg, purpose, &wrong_name),
                mismatch,
                "{purpose:?}, another name, after {events:?}"
            );
        }
    }
    // Not in the file: nothing.
    let state = reg.state_of("234567890".parse().unwrap()).unwrap();
    let g = grounds_for(
        Purpose::Identity,
        &query("234567890"),
        state.as_ref(),
        today(),
        false,
    );
    assert_eq!(g, Default::default());
}

#[test]
fn someone_known_from_a_corrected_death_stands_on_the_report_and_the_correction() {
    let (_d, reg) = registry();
    assert_eq!(submit(&reg, &[&report(A, "state", "2026-11-01")]), ["held"]);
    assert_eq!(
        submit(
            &reg,
            &[
                &review(A, 1, "confirm", "cw-1"),
                &review(A, 1, "confirm", "cw-2")
            ]
        ),
        ["awaiting_second_person", "deceased"]
    );
    // A state's report alone: only a benefit program sees the death.
    assert_eq!(grounds(&reg, Purpose::Benefits, &query(A)), "1:ssn");
    assert_eq!(grounds(&reg, Purpose::Identity, &query(A)), "-");
    assert_eq!(submit(&reg, &[ALIVE]), ["reinstated"]);
    assert_eq!(grounds(&reg, Purpose::Identity, &query(A)), "id 1,4");
}
