//! Tests of the intake rules, answers and the derived state, on a real SQLite store.

use dmf_model::Date;

use crate::answers::{self, EmploymentAnswer, IdentityCode, IdentityQuery};
use crate::oversight::{anomaly, quality};
use crate::*;
use dmf_ledger::{audit, leaf, log, publish, stats};

fn today() -> Date {
    "2026-11-23".parse().unwrap()
}

fn registry() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::init(&dir.path().join("data"), None).unwrap();
    (dir, reg)
}

/// Submits JSON lines; renders each result as `outcome` or `rejected $.path: reason`.
fn submit(reg: &Registry, lines: &[&str]) -> Vec<String> {
    let mut parsed = Vec::new();
    let mut out = vec![String::new(); lines.len()];
    let mut at = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        match parse_line(l, today()) {
            Ok(s) => {
                parsed.push(s);
                at.push(i);
            }
            Err(r) => out[i] = format!("rejected {r}"),
        }
    }
    for (i, r) in at.into_iter().zip(reg.submit(parsed, 0).unwrap()) {
        out[i] = match r {
            Ok(a) => match a.outcome {
                Outcome::HeldForReview(reason) => format!("held_for_review: {reason}"),
                o => o.code().to_owned(),
            },
            Err(r) => format!("rejected {r}"),
        };
    }
    out
}

fn report(ssn: &str, source: &str, dod: &str) -> String {
    format!(
        r#"{{"type":"death_report","ssn":"{ssn}","first":"Ann","last":"Lee","dob":"1950-03-04","dod":"{dod}","source":"{source}","evidence":"doc-{source}"}}"#
    )
}

fn query(ssn: &str) -> IdentityQuery {
    IdentityQuery {
        ssn: ssn.parse().unwrap(),
        first: "ANN".into(),
        last: "LEE".into(),
        dob: "1950-03-04".parse().unwrap(),
    }
}

fn code(reg: &Registry, ssn: &str) -> &'static str {
    let state = reg.state_of(ssn.parse().unwrap()).unwrap();
    answers::identity(&query(ssn), state.as_ref()).code.code()
}

#[test]
fn a_single_non_state_report_stays_pending_until_a_second_source() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789"]);
    let r = submit(&reg, &[&report("123456789", "family", "2026-11-01")]);
    assert_eq!(r, ["pending"]);
    assert_eq!(
        code(&reg, "123456789"),
        "V",
        "pending reports change no answer"
    );
    let r = submit(
        &reg,
        &[
            &report("123456789", "family", "2026-11-01"),
            &report("123456789", "funeral_home", "2026-11-01"),
        ],
    );
    assert_eq!(
        r,
        ["pending", "deceased"],
        "the same source twice is not independent"
    );
    assert_eq!(code(&reg, "123456789"), "X");
}

#[test]
fn a_state_report_is_verified_on_receipt_and_conflicts_are_held() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789", "234567890"]);
    let r = submit(
        &reg,
        &[
            &report("123456789", "state", "2026-11-01"),
            &report("123456789", "hospital", "2026-11"),
            &report("123456789", "hospital", "2026-10-30"),
        ],
    );
    assert_eq!(
        r,
        [
            "deceased",
            "corroborated",
            "held_for_review: date of death 2026-10-30 conflicts with the recorded 2026-11-01"
        ]
    );
    let r = submit(
        &reg,
        &[
            &report("234567890", "family", "2026-11-01"),
            &report("234567890", "hospital", "2026-11-02"),
        ],
    );
    assert_eq!(
        r,
        [
            "pending",
            "held_for_review: conflicting dates of death among pending reports"
        ]
    );
    assert_eq!(code(&reg, "234567890"), "V");
}

#[test]
fn a_caseworker_verifies_a_pending_report() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789"]);
    let verify = r#"{"type":"verification","ssn":"123456789","approved_by":"cw-9"}"#;
    assert_eq!(
        submit(&reg, &[verify]),
        ["rejected $.ssn: SSN 123456789 has no pending death report to verify"]
    );
    assert_eq!(
        submit(
            &reg,
            &[&report("123456789", "funeral_home", "2026-11-01"), verify]
        ),
        ["pending", "deceased"]
    );
    assert_eq!(code(&reg, "123456789"), "X");
}

#[test]
fn bad_reports_are_rejected_with_their_path() {
    let (_d, reg) = registry();
    let r = submit(
        &reg,
        &[
            r#"{"type":"death_report","ssn":"123456789","first":"A","last":"B","source":"state","evidence":"e"}"#,
            &report("123456789", "employer", "2026-11-01"),
            &report("666456789", "state", "2026-11-01"),
            &report("123456789", "state", "2027-01-01"),
            r#"{"type":"death_report","ssn":"123456789","first":"A","last":"B","dod":"2026-11-01","source":"state"}"#,
            r#"{"type":"death","ssn":"123456789"}"#,
            r#"[1,2]"#,
            r#"{"type":"death_report""#,
        ],
    );
    assert_eq!(r[0], "rejected $.dod: is required");
    assert!(
        r[1].starts_with("rejected $.source: \"employer\" is not a death-reporting source"),
        "{}",
        r[1]
    );
    assert_eq!(r[2], "rejected $.ssn: area 666 is never issued");
    assert_eq!(
        r[3],
        "rejected $.dod: the date of death 2027-01-01 is after the day the report was received (2026-11-23)"
    );
    assert_eq!(r[4], "rejected $.evidence: is required");
    assert!(
        r[5].starts_with("rejected $.type: \"death\" is not an event type"),
        "{}",
        r[5]
    );
    assert_eq!(r[6], "rejected $: expected an object, found an array");
    assert!(r[7].starts_with("rejected $: not valid JSON"), "{}", r[7]);
    assert_eq!(reg.store().head().unwrap(), 0, "nothing rejected is stored");
}

#[test]
fn a_status_notice_never_changes_the_death_indicator() {
    let (_d, reg) = registry();
    submit_people(&reg);
    let notice = r#"{"type":"status_notice","ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-03-04","kind":"employment_authorization_ended","authority":"DHS","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"2026-11-20"}"#;
    assert_eq!(submit(&reg, &[notice]), ["notice_recorded"]);
    let state = reg.state_of("123456789".parse().unwrap()).unwrap();
    let q = query("123456789");
    assert_eq!(
        answers::identity(&q, state.as_ref()),
        answers::IdentityAnswer {
            code: IdentityCode::Verified,
            deceased: false,
            presumed_deceased: false
        }
    );
    let deadline: Date = "2026-12-08".parse().unwrap();
    assert_eq!(
        answers::employment(&q, state.as_ref(), today()),
        EmploymentAnswer::Mismatch {
            reason: "employment_authorization_ended",
            deadline: Some(deadline),
            contested: false
        }
    );
    assert_eq!(
        answers::employment(&q, state.as_ref(), "2026-12-09".parse().unwrap()),
        EmploymentAnswer::FinalNonconfirmation {
            reason: "employment_authorization_ended"
        }
    );
    let contest = r#"{"type":"contest","ssn":"123456789","reason":"my authorization was renewed"}"#;
    assert_eq!(
        submit(&reg, &[contest, contest]),
        [
            "suspended",
            "rejected $.ssn: SSN 123456789 has no such uncontested status notice"
        ]
    );
    let state = reg.state_of("123456789".parse().unwrap()).unwrap();
    assert_eq!(
        answers::employment(&q, state.as_ref(), "2026-12-09".parse().unwrap()),
        EmploymentAnswer::Mismatch {
            reason: "employment_authorization_ended",
            deadline: None,
            contested: true
        }
    );
}

fn submit_people(reg: &Registry) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n123456789,Ann,,Lee,,F,1950-03-04,OH\n",
    )
    .unwrap();
    let s = import_file(reg, &path, today(), 0, &|_| {}).unwrap();
    assert_eq!(s.events_added, 1);
}

/// Imports numberholders named Ann Lee, born 1950-03-04, one event each in the order given.
fn import_people(reg: &Registry, ssns: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let mut csv = "ssn,first,middle,last,suffix,sex,dob,birth_state\n".to_owned();
    for ssn in ssns {
        csv.push_str(&format!("{ssn},Ann,,Lee,,F,1950-03-04,OH\n"));
    }
    std::fs::write(&path, csv).unwrap();
    let s = import_file(reg, &path, today(), 0, &|_| {}).unwrap();
    assert_eq!(s.events_added, ssns.len() as u64);
}

fn notice(ssn: &str, kind: &str, effective: &str) -> String {
    format!(
        r#"{{"type":"status_notice","ssn":"{ssn}","first":"Ann","last":"Lee","dob":"1950-03-04","kind":"{kind}","authority":"DHS","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"{effective}"}}"#
    )
}

fn review(ssn: &str, event: u64, decision: &str, by: &str) -> String {
    format!(
        r#"{{"type":"review","ssn":"{ssn}","event":{event},"decision":"{decision}","by":"{by}","evidence":"called the state registrar"}}"#
    )
}

fn contest(ssn: &str) -> String {
    format!(r#"{{"type":"contest","ssn":"{ssn}","reason":"my authorization was renewed"}}"#)
}

fn decision(ssn: &str, notice: u64, decision: &str) -> String {
    format!(
        r#"{{"type":"contest_decision","ssn":"{ssn}","notice":{notice},"decision":"{decision}","decided_by":"adj-4","reason":"hearing H-{notice}"}}"#
    )
}

#[test]
fn a_contest_decision_withdraws_the_notice_or_puts_it_in_force_again() {
    use state::NoticeStatus::{Contested, NotYetEffective, Reinstated, Withdrawn};
    let ended = "employment_authorization_ended";
    let suspended = "benefits_suspended";
    let in_error = "ssn_issued_in_error";
    let authorized = EmploymentAnswer::Authorized;
    let contested = |reason| EmploymentAnswer::Mismatch {
        reason,
        deadline: None,
        contested: true,
    };
    let final_ = |reason| EmploymentAnswer::FinalNonconfirmation { reason };
    // Notice kind and effective date; the decision (none: the contest stays open); the day
    // asked; then the notice's status and the employment and benefits answers on that day.
    let cases = [
        (
            ended,
            "2026-11-20",
            Some("upheld"),
            "2026-11-23",
            Withdrawn,
            authorized.clone(),
            false,
        ),
        (
            ended,
            "2026-11-20",
            Some("upheld"),
            "2027-06-01",
            Withdrawn,
            authorized.clone(),
            false,
        ),
        (
            ended,
            "2026-11-20",
            None,
            "2026-12-09",
            Contested,
            contested(ended),
            false,
        ),
        // Denied before the contest deadline: nothing is left to contest, so it is final.
        (
            ended,
            "2026-11-20",
            Some("denied"),
            "2026-11-23",
            Reinstated,
            final_(ended),
            false,
        ),
        (
            suspended,
            "2026-11-20",
            Some("upheld"),
            "2026-11-23",
            Withdrawn,
            authorized.clone(),
            false,
        ),
        (
            suspended,
            "2026-11-20",
            None,
            "2026-11-23",
            Contested,
            authorized.clone(),
            false,
        ),
        (
            suspended,
            "2026-11-20",
            Some("denied"),
            "2026-11-23",
            Reinstated,
            authorized.clone(),
            true,
        ),
        (
            in_error,
            "2026-11-20",
            Some("upheld"),
            "2026-11-23",
            Withdrawn,
            authorized.clone(),
            false,
        ),
        (
            in_error,
            "2026-11-20",
            Some("denied"),
            "2026-11-23",
            Reinstated,
            final_(in_error),
            true,
        ),
        // A denied notice not yet effective takes effect on its date; a withdrawn one never does.
        (
            in_error,
            "2026-12-01",
            Some("denied"),
            "2026-11-30",
            NotYetEffective,
            authorized.clone(),
            false,
        ),
        (
            in_error,
            "2026-12-01",
            Some("denied"),
            "2026-12-01",
            Reinstated,
            final_(in_error),
            true,
        ),
        (
            in_error,
            "2026-12-01",
            Some("upheld"),
            "2026-12-01",
            Withdrawn,
            authorized.clone(),
            false,
        ),
    ];
    for (kind, effective, decided, day, status, employment, benefits) in cases {
        let case = format!("{kind} effective {effective}, {decided:?}, on {day}");
        let (_d, reg) = registry();
        import_people(&reg, &["123456789"]);
        let mut lines = vec![notice("123456789", kind, effective), contest("123456789")];
        let mut expect = vec!["notice_recorded", "suspended"];
        if let Some(d) = decided {
            lines.push(decision("123456789", 2, d));
            expect.push("decided");
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(submit(&reg, &refs), expect, "{case}");
        let ssn = "123456789".parse().unwrap();
        let state = reg.state_of(ssn).unwrap();
        let day: Date = day.parse().unwrap();
        let n = &state.as_ref().unwrap().notices()[0];
        assert_eq!(n.status(day), status, "{case}");
        assert_eq!(n.in_force(day), matches!(status, Reinstated), "{case}");
        assert_eq!(
            n.decision,
            decided.map(|d| state::NoticeDecision {
                seq: 4,
                upheld: d == "upheld"
            }),
            "{case}"
        );
        let q = query("123456789");
        assert_eq!(
            answers::employment(&q, state.as_ref(), day),
            employment,
            "{case}"
        );
        let b = answers::benefits(&q, state.as_ref(), day);
        assert_eq!(b.suspended, benefits, "{case}");
        assert_eq!(
            (b.code, b.deceased),
            (IdentityCode::Verified, false),
            "{case}"
        );
        assert_eq!(reg.load_index().unwrap().get(ssn), state.as_ref(), "{case}");
    }
}

#[test]
fn a_contest_decision_must_end_an_open_contest_of_the_same_ssn() {
    let (a, b) = ("123456789", "234567890");
    // Events 1 and 2 are the people; the notice of `a` is event 3, its contest event 4.
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        (
            "upheld, then contested and decided again",
            vec![
                notice(a, "employment_authorization_ended", "2026-11-20"),
                contest(a),
                decision(a, 3, "upheld"),
                decision(a, 3, "denied"),
                contest(a),
                r#"{"type":"contest","ssn":"123456789","notice":3,"reason":"again"}"#.into(),
            ],
            vec![
                "notice_recorded",
                "suspended",
                "decided",
                "rejected $.notice: the contest of status notice 3 was already decided by event 5",
                "rejected $.ssn: SSN 123456789 has no such uncontested status notice",
                "rejected $.notice: SSN 123456789 has no such uncontested status notice",
            ],
        ),
        (
            "not contested",
            vec![
                notice(a, "benefits_suspended", "2026-11-20"),
                decision(a, 3, "upheld"),
            ],
            vec![
                "notice_recorded",
                "rejected $.notice: status notice 3 is not contested",
            ],
        ),
        (
            "another SSN's notice",
            vec![
                notice(a, "benefits_suspended", "2026-11-20"),
                contest(a),
                decision(b, 3, "upheld"),
            ],
            vec![
                "notice_recorded",
                "suspended",
                "rejected $.notice: event 3 is not a status notice of SSN 234567890",
            ],
        ),
        (
            "not a notice",
            vec![
                notice(a, "benefits_suspended", "2026-11-20"),
                contest(a),
                decision(a, 1, "denied"),
                decision(a, 99, "denied"),
            ],
            vec![
                "notice_recorded",
                "suspended",
                "rejected $.notice: event 1 is not a status notice of SSN 123456789",
                "rejected $.notice: event 99 is not a status notice of SSN 123456789",
            ],
        ),
        (
            "one decision per notice",
            vec![
                notice(a, "benefits_suspended", "2026-11-20"),
                notice(a, "employment_authorization_ended", "2026-11-20"),
                contest(a),
                decision(a, 4, "denied"),
                decision(a, 3, "upheld"),
                decision(a, 4, "upheld"),
            ],
            vec![
                "notice_recorded",
                "notice_recorded",
                "suspended",
                "decided",
                "decided",
                "rejected $.notice: the contest of status notice 4 was already decided by event 6",
            ],
        ),
    ];
    for (name, lines, expect) in cases {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        // All in one batch, and one batch per line: the writer's overlay and its index agree.
        let (_d, reg) = registry();
        import_people(&reg, &[a, b]);
        assert_eq!(submit(&reg, &refs), expect, "{name}, one batch");
        let (_d, reg) = registry();
        import_people(&reg, &[a, b]);
        let one_by_one: Vec<String> = refs.iter().flat_map(|l| submit(&reg, &[l])).collect();
        assert_eq!(one_by_one, expect, "{name}, a batch per line");
        let index = reg.load_index().unwrap();
        for ssn in [a, b] {
            let ssn = ssn.parse().unwrap();
            assert_eq!(
                index.get(ssn),
                reg.state_of(ssn).unwrap().as_ref(),
                "{name}"
            );
        }
    }
}

#[test]
fn bad_contest_decisions_are_rejected_with_their_path() {
    let line = |fields: &str| {
        let r = parse_line(
            &format!(r#"{{"type":"contest_decision","ssn":"123456789",{fields}}}"#),
            today(),
        );
        match r {
            Ok(_) => "ok".to_owned(),
            Err(r) => r.to_string(),
        }
    };
    let all = r#""notice":3,"decided_by":"adj-4","reason":"hearing""#;
    let cases = [
        (format!(r#"{all},"decision":"upheld""#), "ok"),
        (
            format!(r#"{all},"decision":"denied","idempotency_key":"d-1""#),
            "ok",
        ),
        (
            format!(r#"{all},"decision":"granted""#),
            r#"$.decision: "granted" is not a decision (upheld, denied)"#,
        ),
        (
            format!(r#"{all},"decision":"Upheld""#),
            r#"$.decision: "Upheld" is not a decision (upheld, denied)"#,
        ),
        (
            format!(r#"{all},"decision":true"#),
            "$.decision: expected a string, found a boolean",
        ),
        (all.to_owned(), "$.decision: is required"),
        (
            r#""decision":"upheld","decided_by":"adj-4","reason":"hearing""#.to_owned(),
            "$.notice: is required",
        ),
        (
            r#""notice":0,"decision":"upheld","decided_by":"adj-4","reason":"hearing""#.to_owned(),
            "$.notice: expected a sequence number (a whole number from 1), found 0",
        ),
        (
            r#""notice":3,"decision":"upheld","reason":"hearing""#.to_owned(),
            "$.decided_by: is required",
        ),
        (
            r#""notice":3,"decision":"upheld","decided_by":"adj-4""#.to_owned(),
            "$.reason: is required",
        ),
        (
            format!(r#"{all},"decision":"upheld","requested_by":"self""#),
            "$.requested_by: unknown field for a contest_decision",
        ),
    ];
    for (fields, expect) in cases {
        assert_eq!(line(&fields), expect, "{fields}");
    }
    let unknown = parse_line(r#"{"type":"decision","ssn":"123456789"}"#, today()).unwrap_err();
    assert!(
        unknown
            .reason
            .ends_with("contest_decision, presumed_deceased, identity_change, review)"),
        "{unknown}"
    );
}

#[test]
fn a_decision_result_names_the_notice_and_the_decision() {
    let accepted = Ok(Accepted {
        seq: 4,
        outcome: Outcome::Decided {
            notice: 2,
            upheld: false,
        },
    });
    assert_eq!(
        render::result(1, &accepted),
        serde_json::json!({"line": 1, "status": "accepted", "seq": 4, "outcome": "decided", "notice": 2, "decision": "denied"})
    );
}

#[test]
fn a_correction_needs_two_people_and_keeps_history() {
    let (_d, reg) = registry();
    submit_people(&reg);
    assert_eq!(
        submit(&reg, &[&report("123456789", "state", "2026-11-01")]),
        ["deceased"]
    );
    let one = r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"cw-1"}"#;
    let two = r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}"#;
    assert_eq!(
        submit(&reg, &[one]),
        [
            "rejected $.approved_by: the approver must be a different person from the requester (cw-1)"
        ]
    );
    assert_eq!(submit(&reg, &[two]), ["reinstated"]);
    assert_eq!(code(&reg, "123456789"), "V");
    assert_eq!(
        reg.history("123456789".parse().unwrap()).unwrap().len(),
        3,
        "the wrong report stays"
    );
    // The same wrong report sent again does not kill the person again.
    let again = submit(&reg, &[&report("123456789", "state", "2026-11-01")]);
    assert_eq!(
        again,
        [
            "held_for_review: date of death 2026-11-01 matches a death corrected by event 3: a caseworker must verify"
        ]
    );
    assert_eq!(code(&reg, "123456789"), "V");
    // A caseworker closes the review by confirming the person alive; then nothing is left.
    assert_eq!(submit(&reg, &[two]), ["reinstated"]);
    assert_eq!(
        submit(&reg, &[two]),
        [
            "rejected $.ssn: SSN 123456789 is not recorded as deceased and has no pending death report"
        ]
    );
}

#[test]
fn a_person_known_only_from_a_corrected_death_stays_on_file_alive() {
    let (_d, reg) = registry();
    // No numberholder record: the state's report is held until two caseworkers confirm the
    // identity; the SSN is then known from the report alone.
    assert_eq!(
        submit(&reg, &[&report("123456789", "state", "2026-11-01")]),
        ["held"]
    );
    assert_eq!(code(&reg, "123456789"), "1");
    assert_eq!(
        submit(
            &reg,
            &[
                &review("123456789", 1, "confirm", "cw-1"),
                &review("123456789", 1, "confirm", "cw-2")
            ]
        ),
        ["awaiting_second_person", "deceased"]
    );
    assert_eq!(code(&reg, "123456789"), "X");
    let fix = r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}"#;
    assert_eq!(submit(&reg, &[fix]), ["reinstated"]);
    assert_eq!(
        code(&reg, "123456789"),
        "V",
        "verified and alive, not 'not in file'"
    );
    // A report that never became a recorded death puts nobody on file, and leaves nothing
    // to correct.
    assert_eq!(
        submit(&reg, &[&report("234567890", "family", "2026-11-01")]),
        ["held"]
    );
    let fix = fix.replace("123456789", "234567890");
    assert_eq!(
        submit(&reg, &[&fix]),
        [
            "rejected $.ssn: SSN 234567890 is not recorded as deceased and has no pending death report"
        ]
    );
    assert_eq!(code(&reg, "234567890"), "1");
}

#[test]
fn idempotency_keys_make_retries_no_ops() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789"]);
    let line = r#"{"type":"death_report","ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-03-04","dod":"2026-11-01","source":"state","evidence":"e","idempotency_key":"k-1"}"#;
    assert_eq!(submit(&reg, &[line, line]), ["deceased", "duplicate"]);
    assert_eq!(submit(&reg, &[line]), ["duplicate"]);
    assert_eq!(reg.store().head().unwrap(), 2);
}

#[test]
fn the_derived_state_equals_a_replay_of_each_persons_events() {
    let (_d, reg) = registry();
    submit_people(&reg);
    let mut lines = Vec::new();
    for i in 0..200u32 {
        let ssn = format!("{:09}", 123_451_000 + i % 37);
        let source = ["state", "family", "hospital", "funeral_home"][(i % 4) as usize];
        let dod = ["2026-11-01", "2026-11", "2026-10-02"][(i % 3) as usize];
        lines.push(report(&ssn, source, dod));
        if i % 29 == 0 {
            lines.push(format!(r#"{{"type":"correction","ssn":"{ssn}","reason":"alive","evidence":"id","requested_by":"a","approved_by":"b"}}"#));
        }
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    submit(&reg, &refs);
    let index = reg.load_index().unwrap();
    assert_eq!(index.head, reg.store().head().unwrap());
    for i in 0..37u32 {
        let ssn: dmf_model::Ssn = format!("{:09}", 123_451_000 + i).parse().unwrap();
        assert_eq!(
            index.get(ssn),
            reg.state_of(ssn).unwrap().as_ref(),
            "SSN {ssn}"
        );
    }
    // And the writer's own index, kept up to date by merging, agrees with a fresh load.
    let w = reg.writer().unwrap();
    assert!(w.complete, "started on an empty store");
    for i in 0..37u32 {
        let ssn: dmf_model::Ssn = format!("{:09}", 123_451_000 + i).parse().unwrap();
        assert_eq!(w.index.as_ref().unwrap().get(ssn), index.get(ssn));
    }
    drop(w);
    // A writer that starts on a store with events reads states per SSN: same outcomes.
    let reopened = Registry::open(reg.dir()).unwrap();
    drop(reg);
    let more = submit(&reopened, &[&report("123451001", "state", "2026-11-01")]);
    let fresh = reopened.load_index().unwrap();
    let ssn: dmf_model::Ssn = "123451001".parse().unwrap();
    assert_eq!(
        reopened.state_of(ssn).unwrap().as_ref(),
        fresh.get(ssn),
        "{more:?}"
    );
}

/// The published JSON Schema names exactly the fields the parser takes.
#[test]
fn the_published_schema_matches_the_parser() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/submit.schema.json")).unwrap();
    for kind in [
        "death_report",
        "status_notice",
        "correction",
        "verification",
        "contest",
        "contest_decision",
        "presumed_deceased",
        "identity_change",
        "review",
    ] {
        let def = &schema["$defs"][kind];
        let mut props: Vec<&str> = def["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        props.sort();
        let mut fields: Vec<&str> = submission::allowed(kind).unwrap().to_vec();
        fields.extend(["type", "idempotency_key"]);
        fields.sort();
        assert_eq!(props, fields, "{kind}");
    }
}

/// Every event type encodes to the documented JSON and decodes back to the same event.
#[test]
fn events_encode_canonically_and_decode_back() {
    let lines = [
        (
            r#"{"type":"death_report","ssn":"123-45-6789","first":"Zoë \"Z\"","middle":"Ann","last":"O'Neil","suffix":"Jr.","dob":"1950-03","dod":"2026-11-01","source":"hospital","evidence":"chart\\7","verification":"P","received":"2026-11-02"}"#,
            r#"{"ssn":"123456789","first":"Zoë \"Z\"","middle":"Ann","last":"O'Neil","suffix":"Jr.","dob":"1950-03","dod":"2026-11-01","source":"hospital","evidence":["chart\\7"],"verification":"P","received":"2026-11-02"}"#,
        ),
        (
            r#"{"type":"status_notice","ssn":"123456789","kind":"benefits_suspended","authority":"SSA","legal_basis":"42 USC 402","document":"N-9","effective":"2026-12-01"}"#,
            r#"{"ssn":"123456789","kind":"benefits_suspended","authority":"SSA","legal_basis":"42 USC 402","document":"N-9","effective":"2026-12-01","notice_sent":"2026-11-23","contest_deadline":"2026-12-08"}"#,
        ),
        (
            r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":["passport","lease"],"requested_by":"a","approved_by":"b"}"#,
            r#"{"ssn":"123456789","evidence":["passport","lease"],"kind":"reinstate","reason":"alive","requested_by":"a","approved_by":"b"}"#,
        ),
        (
            r#"{"type":"verification","ssn":"123456789","report":7,"approved_by":"cw","evidence":"call"}"#,
            r#"{"ssn":"123456789","evidence":["call"],"approved_by":"cw","report":7}"#,
        ),
        (
            r#"{"type":"contest","ssn":"123456789","notice":3,"reason":"renewed","requested_by":"self"}"#,
            r#"{"ssn":"123456789","reason":"renewed","requested_by":"self","notice":3}"#,
        ),
        (
            r#"{"type":"contest_decision","ssn":"123456789","notice":3,"decision":"denied","decided_by":"adj \"4\"","reason":"hearing H-3"}"#,
            r#"{"ssn":"123456789","reason":"hearing H-3","decided_by":"adj \"4\"","notice":3,"decision":"denied"}"#,
        ),
        (
            r#"{"type":"contest_decision","ssn":"123456789","decision":"upheld","notice":12,"reason":"renewed","decided_by":"adj-4"}"#,
            r#"{"ssn":"123456789","reason":"renewed","decided_by":"adj-4","notice":12,"decision":"upheld"}"#,
        ),
        (
            r#"{"type":"presumed_deceased","ssn":"123-45-6789","recorded_by":"op \"7\"","legal_basis":"20 CFR 404.721","criterion":"age over 115"}"#,
            r#"{"ssn":"123456789","legal_basis":"20 CFR 404.721","criterion":"age over 115","recorded_by":"op \"7\""}"#,
        ),
    ];
    for (input, expect) in lines {
        let event = parse_line(input, today()).unwrap().event;
        let bytes = encode(&event);
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expect);
        assert_eq!(decode(event.kind(), &bytes).unwrap(), event, "{input}");
    }
}

// The public leaf and the signed log.

fn leaf_of(body: &str) -> String {
    leaf_of_kind("status_notice", body)
}

fn leaf_of_kind(kind: &str, body: &str) -> String {
    let key = leaf::LeafKey::new(&[7; 32]);
    let e = leaf::EventRef {
        seq: 12,
        kind,
        subject: Some(123_456_789),
        idempotency_key: None,
        recorded_at: 1_764_000_000_123,
        body: body.as_bytes(),
    };
    match leaf::leaf(&key, public::leaf_fields, e) {
        Ok(l) => String::from_utf8(l).unwrap(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn leaves_keep_clear_only_what_statistics_count() {
    let body = r#"{"ssn":"123456789","kind":"employment_authorization_ended","authority":"DHS \"USCIS\"","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"2025-07-01","notice_sent":"2025-07-01","contest_deadline":"2025-07-16"}"#;
    let l = leaf_of(body);
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["v"], 1);
    assert_eq!(v["seq"], 12);
    assert_eq!(v["type"], "status_notice");
    assert_eq!(v["time"], "2025-11-24T16:00:00.123Z");
    assert_eq!(v["kind"], "employment_authorization_ended");
    assert_eq!(v["authority"], "DHS \"USCIS\"");
    assert_eq!(v["legal_basis"], "8 CFR 274a.14");
    let commit: Vec<&str> = v["commit"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        commit,
        [
            "contest_deadline",
            "document",
            "effective",
            "event",
            "notice_sent",
            "ssn"
        ],
        "serde_json sorts keys"
    );
    assert!(!l.contains("123456789") && !l.contains("N-1") && !l.contains("2025-07"));
    // The same value in another event commits differently; any byte of the body changes the leaf.
    let other = l.replace("\"seq\":12", "\"seq\":13");
    assert_ne!(other, leaf_of(body));
    let changed = leaf_of(&body.replace("N-1", "N-2"));
    assert_ne!(changed, l);
    assert_eq!(leaf_of(body), l, "leaves are deterministic");
}

#[test]
fn a_contest_decision_leaf_shows_the_decision_and_commits_the_rest() {
    let event = parse_line(&decision("123456789", 3, "upheld"), today())
        .unwrap()
        .event;
    let body = String::from_utf8(encode(&event)).unwrap();
    let l = leaf_of_kind("contest_decision", &body);
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["type"], "contest_decision");
    assert_eq!(v["decision"], "upheld");
    let clear: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        clear,
        ["commit", "decision", "seq", "time", "type", "v"],
        "serde_json sorts keys"
    );
    let commit: Vec<&str> = v["commit"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        commit,
        ["decided_by", "event", "notice", "reason", "ssn"],
        "who decided, why, and about whom stay committed"
    );
    assert!(!l.contains("123456789") && !l.contains("adj-4") && !l.contains("H-3"));
}

#[test]
fn statistics_count_contest_decisions_by_outcome() {
    let (_d, reg) = registry();
    let (a, b, c) = ("123456789", "234567890", "345678901");
    import_people(&reg, &[a, b, c]);
    let kind = "employment_authorization_ended";
    let lines = [
        notice(a, kind, "2026-11-20"),
        notice(b, kind, "2026-11-20"),
        notice(c, kind, "2026-11-20"),
        contest(a),
        contest(b),
        contest(c),
        decision(a, 4, "upheld"),
        decision(b, 5, "denied"),
        decision(c, 6, "upheld"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = submit(&reg, &refs);
    assert_eq!(r[6..], ["decided", "decided", "decided"], "{r:?}");
    let stats = publish::stats(reg.ledger(), stats::Period::Month).unwrap();
    assert_eq!(stats.tree_size, 12);
    let count = |kind: &str, decision: Option<&str>| -> u64 {
        stats
            .rows
            .iter()
            .filter(|r| r.event_type == kind && r.decision.as_deref() == decision)
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(count("contest_decision", Some("upheld")), 2);
    assert_eq!(count("contest_decision", Some("denied")), 1);
    assert_eq!(count("contest_decision", None), 0);
    assert_eq!(count("contest", None), 3);
    assert_eq!(count("status_notice", None), 3);
    // Rows without a decision serialise as before; every row reads back the same.
    let json = serde_json::to_value(&stats).unwrap();
    for row in json["rows"].as_array().unwrap() {
        assert_eq!(
            row.get("decision").is_some(),
            row["type"] == "contest_decision",
            "{row}"
        );
    }
    let back: stats::Stats = serde_json::from_value(json).unwrap();
    assert_eq!(back, stats);
}

#[test]
fn leaves_refuse_bodies_that_are_not_canonical() {
    fn check(body: &str, expect: &str) {
        let got = leaf_of(body);
        let got = if got.starts_with("error") {
            got
        } else {
            "ok".to_owned()
        };
        assert!(got.contains(expect), "{body}: {got}");
    }
    check(r#"{"ssn":"1","evidence":["a","b\"c"],"report":12}"#, "ok");
    check(r#"{}"#, "ok");
    check(r#" {"ssn":"1"}"#, "does not start with '{'");
    check(r#"{"ssn":"1"} "#, "bytes after the object");
    check(r#"{"ssn": "1"}"#, "not a string, array or number");
    check(r#"{"ssn":"1","ssn":"2"}"#, "appears twice");
    check(r#"{"SSN":"1"}"#, "not a field name");
    check(r#"{"ssn":"1"#, "not closed");
    check(r#"{"ssn":true}"#, "not a string, array or number");
    check(r#"{"report":012}"#, "leading zero");
    check(r#"{"evidence":["a",1]}"#, "other than strings");
    check("{\"ssn\":\"a\nb\"}", "control character");
}

#[test]
fn every_batch_is_logged_and_signed() {
    let (_dir, reg) = registry();
    submit(&reg, &[&report("123456789", "state", "2026-11-01")]);
    let files = log::LogFiles::open(reg.dir()).unwrap();
    let first = files.latest().unwrap().unwrap();
    assert_eq!(first.checkpoint.size, 1);
    assert_eq!(first.note.lines().nth(1), Some("1"));
    submit(
        &reg,
        &[
            &report("234567890", "state", "2026-11-01"),
            &report("345678901", "hospital", "2026-11-02"),
        ],
    );
    let files = log::LogFiles::open(reg.dir()).unwrap();
    let history = files.history().unwrap();
    assert_eq!(
        history
            .iter()
            .map(|s| s.checkpoint.size)
            .collect::<Vec<_>>(),
        [0, 1, 3],
        "the empty tree is signed at init"
    );
    let report = audit::audit(reg.ledger(), Some(&first.note), None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.events, 3);
}

#[test]
fn the_log_refuses_to_sign_a_tree_that_does_not_extend_the_last() {
    let (dir, reg) = registry();
    submit(&reg, &[&report("123456789", "state", "2026-11-01")]);
    submit(&reg, &[&report("234567890", "state", "2026-11-01")]);
    drop(reg);
    // Someone rewrites the first leaf hash: the log no longer extends what it signed.
    let level0 = dir.path().join("data/log/level-00.hashes");
    let mut hashes = std::fs::read(&level0).unwrap();
    hashes[0] ^= 1;
    std::fs::write(&level0, hashes).unwrap();
    let reg = Registry::open(&dir.path().join("data")).unwrap();
    let sub = parse_line(&report("345678901", "state", "2026-11-01"), today()).unwrap();
    let err = reg.submit(vec![sub], 0).unwrap_err().to_string();
    assert!(err.contains("refusing to sign"), "{err}");
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert_eq!(report.first_bad_seq(), Some(1), "{:?}", report.problems);
}

#[test]
fn a_log_cut_short_by_a_crash_is_rebuilt_from_the_events() {
    let (dir, reg) = registry();
    for ssn in ["123456789", "234567890", "345678901"] {
        submit(&reg, &[&report(ssn, "state", "2026-11-01")]);
    }
    drop(reg);
    let level0 = dir.path().join("data/log/level-00.hashes");
    let hashes = std::fs::read(&level0).unwrap();
    std::fs::write(&level0, &hashes[..40]).unwrap();
    let reg = Registry::open(&dir.path().join("data")).unwrap();
    submit(&reg, &[&report("456789012", "state", "2026-11-01")]);
    let files = log::LogFiles::open(reg.dir()).unwrap();
    assert_eq!(files.size(), 4);
    assert_eq!(&std::fs::read(&level0).unwrap()[..96], &hashes[..]);
    let report = audit::audit(reg.ledger(), None, None).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn the_quality_report_finds_each_kind_of_problem() {
    let (_d, reg) = registry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         111111111,Old,,Timer,,F,1890-01-01,OH\n\
         222222222,Young,,Dead,,M,1970-06-01,OH\n\
         333333333,Fine,,Person,,F,1960-02-02,OH\n\
         444444444,Ann,,Lee,,F,1950-03-04,OH\n\
         555555555,Ann,,Lee,,F,1950-03-04,OH\n\
         566666666,Ann,,Lee,,F,1950-03-04,OH\n\
         777777777,Centen,,Arian,,M,1910,OH\n",
    )
    .unwrap();
    import_file(&reg, &path, today(), 0, &|_| {}).unwrap();
    // A death recorded in 1975, then the date of birth on file corrected to after it.
    let died = r#"{"type":"death_report","ssn":"222222222","first":"Young","last":"Dead","dob":"1970-06-01","dod":"1975-01-01","source":"state","evidence":"x"}"#;
    let born_later = r#"{"type":"identity_change","ssn":"222222222","dob":"1980-06-01","reason":"birth certificate","evidence":"BC 1980-1234","requested_by":"cw-1","approved_by":"sup-2"}"#;
    let lines = [
        died.to_owned(),
        born_later.to_owned(),
        // Pending: one family report, no second source.
        report("444444444", "family", "2026-11-01"),
        // A conflict held for review.
        report("555555555", "state", "2026-11-01"),
        report("555555555", "hospital", "2026-10-01"),
        notice("566666666", "employment_authorization_ended", "2026-11-20"),
        contest("566666666"),
        // Someone else's name and date of birth under a numberholder's SSN: held.
        report("333333333", "family", "2026-11-01"),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = submit(&reg, &lines);
    assert_eq!(got[..2], ["deceased", "identity_changed"], "{got:?}");
    let index = reg.load_index().unwrap();
    let check = |today: &str, expect: &[(&str, u64, &str)]| {
        let mut cfg = quality::QualityConfig::new(today.parse().unwrap());
        cfg.samples = 1;
        let r = quality::report(&index, &cfg, &quality::received_in(&reg));
        assert_eq!(r.people, 7);
        for (code, count, sample) in expect {
            let f = r.findings.iter().find(|f| f.code == *code).unwrap();
            assert_eq!(f.count, *count, "{code}: {f:?}");
            if *count > 0 {
                assert!(f.samples[0].1.contains(sample), "{code}: {f:?}");
            }
        }
        r
    };
    // The day of the submissions: nothing is overdue yet and no deadline has passed.
    check(
        "2026-11-23",
        &[
            ("alive_past_max_age", 1, "born 1890-01-01, 136 years old"),
            ("born_before_1900_alive", 1, "born 1890-01-01"),
            ("death_before_birth", 1, "born 1980-06-01, died 1975-01-01"),
            ("date_in_future", 0, ""),
            ("pending_overdue", 0, ""),
            (
                "conflict_unresolved",
                1,
                "conflicts with the recorded 2026-11-01",
            ),
            ("contest_undecided_past_deadline", 0, ""),
            (
                "held_for_identity",
                1,
                "from source:family: identity_mismatch (first, last, dob)",
            ),
        ],
    );
    // Two months on: the family report is overdue and the contest is past its deadline; the
    // man born in 1910 is past 115 now, not before (a partial date counts as late as it may be).
    let later = check(
        "2027-01-23",
        &[
            ("pending_overdue", 1, "received 2026-11-23, 61 days ago"),
            ("contest_undecided_past_deadline", 1, "contested, deadline"),
            ("alive_past_max_age", 2, "born 1890-01-01"),
        ],
    );
    let json = later.to_json();
    assert_eq!(json["people"], 7);
    assert_eq!(json["findings"].as_array().unwrap().len(), 8);
    // Born in the future, seen from the past.
    check("1979-01-01", &[("date_in_future", 2, "born 1980-06-01")]);
}

// Presumption of death by age: a status of its own, never a death.

fn presume(ssn: &str) -> String {
    format!(
        r#"{{"type":"presumed_deceased","ssn":"{ssn}","criterion":"age over 115","legal_basis":"20 CFR 404.721","recorded_by":"op-7"}}"#
    )
}

const ALIVE: &str = r#"{"type":"correction","ssn":"123456789","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}"#;

#[test]
fn bad_presumptions_are_rejected_with_their_path() {
    let line = |fields: &str| match parse_line(
        &format!(r#"{{"type":"presumed_deceased",{fields}}}"#),
        today(),
    ) {
        Ok(_) => "ok".to_owned(),
        Err(r) => r.to_string(),
    };
    let (ssn, criterion, basis, by) = (
        r#""ssn":"123456789""#,
        r#""criterion":"age over 115""#,
        r#""legal_basis":"20 CFR 404.721""#,
        r#""recorded_by":"op-7""#,
    );
    let cases = [
        (format!("{ssn},{criterion},{basis},{by}"), "ok"),
        (
            format!(r#"{ssn},{criterion},{basis},{by},"idempotency_key":"p-1""#),
            "ok",
        ),
        (format!("{criterion},{basis},{by}"), "$.ssn: is required"),
        (format!("{ssn},{basis},{by}"), "$.criterion: is required"),
        (
            format!("{ssn},{criterion},{by}"),
            "$.legal_basis: is required",
        ),
        (
            format!("{ssn},{criterion},{basis}"),
            "$.recorded_by: is required",
        ),
        (
            format!(r#"{ssn},"criterion":115,{basis},{by}"#),
            "$.criterion: expected a string, found a number",
        ),
        (
            format!(r#"{ssn},{criterion},{basis},{by},"dod":"2026-11-01""#),
            "$.dod: unknown field for a presumed_deceased",
        ),
        (
            format!(r#"{ssn},{criterion},{basis},{by},"evidence":"x""#),
            "$.evidence: unknown field for a presumed_deceased",
        ),
    ];
    for (fields, expect) in cases {
        assert_eq!(line(&fields), expect, "{fields}");
    }
}

/// What a presumption does to the person's state and answers, alone and with what follows.
#[test]
fn a_presumption_is_never_a_death_and_a_death_or_correction_ends_it() {
    let a = "123456789";
    // Event 1 is the person. The events submitted; their results; then the identity code,
    // death indicator and presumption that answers give afterwards.
    type Case = (
        &'static str,
        Vec<String>,
        Vec<&'static str>,
        &'static str,
        bool,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "presumed",
            vec![presume(a)],
            vec!["presumed"],
            "V",
            false,
            true,
        ),
        (
            "already presumed",
            vec![presume(a), presume(a)],
            vec![
                "presumed",
                "rejected $.ssn: SSN 123456789 is already presumed deceased by event 2",
            ],
            "V",
            false,
            true,
        ),
        (
            "a death recorded",
            vec![report(a, "state", "2026-11-01"), presume(a)],
            vec![
                "deceased",
                "rejected $.ssn: SSN 123456789 is already recorded as deceased",
            ],
            "X",
            true,
            false,
        ),
        (
            "a state's death report supersedes it",
            vec![presume(a), report(a, "state", "2026-11-01")],
            vec!["presumed", "deceased"],
            "X",
            true,
            false,
        ),
        (
            "a single pending report does not",
            vec![presume(a), report(a, "family", "2026-11-01")],
            vec!["presumed", "pending"],
            "V",
            false,
            true,
        ),
        (
            "two sources establish the death",
            vec![
                presume(a),
                report(a, "family", "2026-11-01"),
                report(a, "funeral_home", "2026-11-01"),
            ],
            vec!["presumed", "pending", "deceased"],
            "X",
            true,
            false,
        ),
        (
            "a correction: the person is alive",
            vec![presume(a), ALIVE.to_owned()],
            vec!["presumed", "reinstated"],
            "V",
            false,
            false,
        ),
        (
            "presumed again after a correction",
            vec![presume(a), ALIVE.to_owned(), presume(a)],
            vec!["presumed", "reinstated", "presumed"],
            "V",
            false,
            true,
        ),
        (
            "a corrected death can then be presumed",
            vec![
                report(a, "state", "2026-11-01"),
                ALIVE.to_owned(),
                presume(a),
            ],
            vec!["deceased", "reinstated", "presumed"],
            "V",
            false,
            true,
        ),
    ];
    for (name, lines, expect, code, deceased, presumed) in cases {
        let (_d, reg) = registry();
        import_people(&reg, &[a]);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(submit(&reg, &refs), expect, "{name}");
        let state = reg.state_of(a.parse().unwrap()).unwrap();
        let id = answers::identity(&query(a), state.as_ref());
        assert_eq!(
            (id.code.code(), id.deceased, id.presumed_deceased),
            (code, deceased, presumed),
            "{name}"
        );
        let state = state.unwrap();
        assert_eq!(state.presumed().is_some(), presumed, "{name}");
        assert!(
            !(state.presumed().is_some() && state.death.is_some()),
            "{name}: never both"
        );
    }
}

#[test]
fn no_answer_of_any_purpose_says_a_presumed_person_is_deceased() {
    use render::Purpose;
    let (_d, reg) = registry();
    let (a, b) = ("123456789", "234567890");
    import_people(&reg, &[a, b]);
    let suspended = notice(a, "benefits_suspended", "2026-11-20");
    assert_eq!(
        submit(&reg, &[&presume(a), &suspended]),
        ["presumed", "notice_recorded"]
    );
    let q = |first: &str, dob: &str| IdentityQuery {
        ssn: a.parse().unwrap(),
        first: first.into(),
        last: "Lee".into(),
        dob: dob.parse().unwrap(),
    };
    // The query; then per purpose the answer expected.
    let cases = [
        (
            q("Ann", "1950-03-04"),
            [
                serde_json::json!({"purpose": "identity", "code": "V", "deceased": false, "presumed_deceased": true}),
                serde_json::json!({"purpose": "employment", "result": "authorized"}),
                serde_json::json!({"purpose": "benefits", "code": "V", "deceased": false, "suspended": true, "presumed_deceased": true}),
            ],
        ),
        // A mismatch discloses nothing, the presumption included.
        (
            q("Mary", "1950-03-04"),
            [
                serde_json::json!({"purpose": "identity", "code": "5", "deceased": false}),
                serde_json::json!({"purpose": "employment", "result": "mismatch", "reason": "name_or_dob_mismatch", "contest_deadline": "2026-12-08", "contested": false}),
                serde_json::json!({"purpose": "benefits", "code": "5", "deceased": false, "suspended": false}),
            ],
        ),
        (
            q("Ann", "1970-01-01"),
            [
                serde_json::json!({"purpose": "identity", "code": "3", "deceased": false}),
                serde_json::json!({"purpose": "employment", "result": "mismatch", "reason": "name_or_dob_mismatch", "contest_deadline": "2026-12-08", "contested": false}),
                serde_json::json!({"purpose": "benefits", "code": "3", "deceased": false, "suspended": false}),
            ],
        ),
    ];
    let state = reg.state_of(a.parse().unwrap()).unwrap().unwrap();
    let purposes = [Purpose::Identity, Purpose::Employment, Purpose::Benefits];
    for (query, expect) in cases {
        for (purpose, expect) in purposes.into_iter().zip(expect) {
            let seen = render::visible(&state, purpose);
            let got = render::answer(purpose, &query, Some(&seen), today());
            assert_eq!(got, expect, "{} {query:?}", purpose.code());
            assert_ne!(got["deceased"], true, "{got}");
            assert_ne!(got["code"], "X", "{got}");
        }
    }
    // Someone not presumed gets the answers as before: no `presumed_deceased` at all.
    let other = reg.state_of(b.parse().unwrap()).unwrap().unwrap();
    for purpose in purposes {
        let got = render::answer(purpose, &query(b), Some(&other), today());
        assert!(got.get("presumed_deceased").is_none(), "{got}");
    }
}

#[test]
fn a_presumption_is_never_a_dmf_record() {
    let (_d, reg) = registry();
    let a = "123456789";
    import_people(&reg, &[a]);
    assert_eq!(submit(&reg, &[&presume(a)]), ["presumed"]);
    let audiences = [
        distribution::Audience {
            certified: true,
            state_deaths: true,
        },
        distribution::Audience {
            certified: false,
            state_deaths: false,
        },
    ];
    for audience in audiences {
        let changes = distribution::changes(&reg, 0, 100, audience, today()).unwrap();
        assert_eq!(changes.cursor, 2);
        assert!(changes.records.is_empty(), "{audience:?}");
        let (_, file) = distribution::full_file(&reg, audience, today()).unwrap();
        assert!(file.is_empty(), "{audience:?}");
    }
    // A later death report is a death: an `A` for whoever may see it.
    assert_eq!(
        submit(&reg, &[&report(a, "state", "2026-11-01")]),
        ["deceased"]
    );
    let benefits = audiences[0];
    let changes = distribution::changes(&reg, 2, 100, benefits, today()).unwrap();
    let codes: Vec<_> = changes.records.iter().map(|r| r.change()).collect();
    assert_eq!(codes, [dmf_format::ChangeCode::Add]);
    assert_eq!(changes.records[0].ssn().to_string(), a);
    let (_, file) = distribution::full_file(&reg, benefits, today()).unwrap();
    assert_eq!(file.len(), 1);
}

#[test]
fn a_presumption_leaf_shows_the_legal_basis_and_commits_the_rest() {
    let event = parse_line(&presume("123456789"), today()).unwrap().event;
    let body = String::from_utf8(encode(&event)).unwrap();
    let l = leaf_of_kind(event.kind(), &body);
    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
    assert_eq!(v["type"], "presumed_deceased");
    assert_eq!(v["legal_basis"], "20 CFR 404.721");
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&v),
        ["commit", "legal_basis", "seq", "time", "type", "v"],
        "serde_json sorts keys"
    );
    assert_eq!(
        keys(&v["commit"]),
        ["criterion", "event", "recorded_by", "ssn"],
        "the criterion, who recorded it, and about whom stay committed"
    );
    assert!(!l.contains("123456789") && !l.contains("op-7") && !l.contains("age over"));
}

#[test]
fn statistics_count_presumptions_by_legal_basis() {
    let (_d, reg) = registry();
    let (a, b, c) = ("123456789", "234567890", "345678901");
    import_people(&reg, &[a, b, c]);
    let lines = [
        presume(a),
        presume(b),
        presume(c).replace("20 CFR 404.721", "state law 12-3"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(submit(&reg, &refs), ["presumed", "presumed", "presumed"]);
    let stats = publish::stats(reg.ledger(), stats::Period::Month).unwrap();
    assert_eq!(stats.tree_size, 6);
    let count = |kind: &str, basis: Option<&str>| -> u64 {
        stats
            .rows
            .iter()
            .filter(|r| r.event_type == kind && r.legal_basis.as_deref() == basis)
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(count("presumed_deceased", Some("20 CFR 404.721")), 2);
    assert_eq!(count("presumed_deceased", Some("state law 12-3")), 1);
    assert_eq!(count("presumed_deceased", None), 0);
    assert_eq!(count("person", None), 3);
    assert!(stats.rows.iter().all(|r| r.decision.is_none()));
}

#[test]
fn the_derived_state_with_presumptions_equals_a_replay() {
    let (_d, reg) = registry();
    let ssns: Vec<String> = (0..23u32)
        .map(|i| format!("{:09}", 123_452_000 + i))
        .collect();
    let refs: Vec<&str> = ssns.iter().map(String::as_str).collect();
    import_people(&reg, &refs);
    let mut lines = Vec::new();
    for i in 0..120u32 {
        let ssn = &ssns[(i % 23) as usize];
        match i % 5 {
            0 | 3 => lines.push(presume(ssn)),
            1 => lines.push(report(
                ssn,
                ["state", "family", "hospital"][(i % 3) as usize],
                "2026-11-01",
            )),
            2 if i % 7 == 0 => lines.push(ALIVE.replace("123456789", ssn)),
            _ => lines.push(notice(ssn, "benefits_suspended", "2026-11-20")),
        }
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let results = submit(&reg, &refs);
    assert!(results.iter().any(|r| r == "presumed"), "{results:?}");
    assert!(
        results.iter().any(|r| r.contains("already presumed")),
        "{results:?}"
    );
    let index = reg.load_index().unwrap();
    let w = reg.writer().unwrap();
    let mut presumed = 0;
    for ssn in &ssns {
        let ssn: dmf_model::Ssn = ssn.parse().unwrap();
        let replayed = reg.state_of(ssn).unwrap();
        assert_eq!(index.get(ssn), replayed.as_ref(), "SSN {ssn}");
        assert_eq!(
            w.index.as_ref().unwrap().get(ssn),
            index.get(ssn),
            "SSN {ssn}"
        );
        presumed += usize::from(replayed.unwrap().presumed().is_some());
    }
    assert!(presumed > 0);
}

mod programs {
    use std::collections::BTreeSet;

    use crate::program::*;
    use dmf_model::{Date, Reference};

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn r(s: &str) -> Reference {
        Reference::new(s).unwrap()
    }

    fn terms(start: &str, expiry: &str) -> Terms {
        Terms {
            recipient: r("State Medicaid Agency"),
            source: r("Registry"),
            purpose: r("eligibility"),
            legal_authority: r("42 U.S.C. 1320b-7"),
            recipient_receives: [Element::Deceased, Element::DateOfDeath].into(),
            source_receives: [InputField::Name, InputField::Dob].into(),
            retention_days: 90,
            start: d(start),
            expiry: d(expiry),
            adverse_action: true,
            law_enforcement: None,
        }
    }

    fn act(by: &str, on: &str) -> Act {
        Act {
            by: by.into(),
            on: d(on),
        }
    }

    fn approved(start: &str, expiry: &str) -> Agreement {
        Agreement {
            id: 1,
            terms: terms(start, expiry),
            created: act("ann", start),
            approved: Some(act("oscar", start)),
            renewed: None,
        }
    }

    #[test]
    fn months_are_added_to_the_same_day_or_the_months_last() {
        let check = |from: &str, months: u32, expect: &str| {
            assert_eq!(add_months(d(from), months), d(expect), "{from} + {months}");
        };
        check("2026-01-15", 18, "2027-07-15");
        check("2026-08-31", 18, "2028-02-29");
        check("2026-12-31", 2, "2027-02-28");
        check("2026-03-01", 12, "2027-03-01");
    }

    #[test]
    fn terms_longer_than_eighteen_months_or_empty_are_refused() {
        assert_eq!(terms("2026-01-15", "2027-07-15").check(), Ok(()));
        assert!(matches!(
            terms("2026-01-15", "2027-07-16").check(),
            Err(ProgramError::TermTooLong { .. })
        ));
        assert!(matches!(
            terms("2026-01-15", "2026-01-15").check(),
            Err(ProgramError::ExpiryBeforeStart { .. })
        ));
        let mut t = terms("2026-01-15", "2026-12-31");
        t.recipient_receives.clear();
        assert_eq!(t.check(), Err(ProgramError::NothingDisclosed));
        let mut t = terms("2026-01-15", "2026-12-31");
        t.source_receives = [InputField::Dob].into();
        assert_eq!(t.check(), Err(ProgramError::NameRequired));
        t.source_receives.insert(InputField::Name);
        t.retention_days = 0;
        assert_eq!(t.check(), Err(ProgramError::Retention(0)));
    }

    #[test]
    fn an_agreement_is_in_force_only_approved_between_start_and_expiry() {
        let mut a = approved("2026-01-15", "2027-01-14");
        a.approved = None;
        assert_eq!(a.status(d("2026-06-01")), Status::AwaitingApproval);
        assert_eq!(
            a.check_approval("ann", d("2026-06-01")),
            Err(ProgramError::SelfApproval)
        );
        assert_eq!(a.check_approval("oscar", d("2026-06-01")), Ok(()));
        let a = approved("2026-01-15", "2027-01-14");
        assert_eq!(
            a.check_approval("zed", d("2026-06-01")),
            Err(ProgramError::AlreadyApproved)
        );
        for (day, status) in [
            ("2026-01-14", Status::NotStarted),
            ("2026-01-15", Status::Active),
            ("2027-01-14", Status::Active),
            ("2027-01-15", Status::Expired),
        ] {
            assert_eq!(a.status(d(day)), status, "{day}");
        }
    }

    #[test]
    fn an_agreement_is_renewed_once_near_its_expiry_for_twelve_months_at_most() {
        let mut a = approved("2026-01-15", "2027-01-14");
        assert!(matches!(
            a.check_renewal(d("2028-01-14"), d("2026-06-01")),
            Err(ProgramError::RenewalTooEarly { .. })
        ));
        assert!(matches!(
            a.check_renewal(d("2028-01-15"), d("2026-11-01")),
            Err(ProgramError::RenewalTooLong { .. })
        ));
        assert_eq!(a.check_renewal(d("2028-01-14"), d("2026-11-01")), Ok(()));
        a.renewed = Some((d("2028-01-14"), act("oscar", "2026-11-01")));
        assert_eq!(a.status(d("2027-06-01")), Status::Active);
        assert_eq!(a.status(d("2028-01-15")), Status::Expired);
        assert_eq!(
            a.check_renewal(d("2028-06-01"), d("2027-12-01")),
            Err(ProgramError::AlreadyRenewed)
        );
        let b = approved("2024-01-15", "2025-01-14");
        assert_eq!(
            b.check_renewal(d("2025-06-01"), d("2025-02-01")),
            Err(ProgramError::NotInForce(Status::Expired))
        );
    }

    #[test]
    fn a_request_names_only_what_the_agreement_names() {
        let a = approved("2026-01-15", "2027-01-14");
        let sent: BTreeSet<_> = [InputField::Name, InputField::Dob].into();
        let asked: BTreeSet<_> = [Element::Deceased].into();
        let today = d("2026-06-01");
        assert_eq!(a.check_request(today, &sent, &asked), Ok(()));
        let with_ssn: BTreeSet<_> = [InputField::Name, InputField::Ssn].into();
        assert!(matches!(
            a.check_request(today, &with_ssn, &asked),
            Err(ProgramError::InputNotAgreed(InputField::Ssn, _))
        ));
        let more: BTreeSet<_> = [Element::Deceased, Element::Name].into();
        assert!(matches!(
            a.check_request(today, &sent, &more),
            Err(ProgramError::ElementNotAgreed(Element::Name, _))
        ));
        assert_eq!(
            a.check_request(d("2027-01-15"), &sent, &asked),
            Err(ProgramError::NotInForce(Status::Expired))
        );
        let mut pending = a.clone();
        pending.approved = None;
        assert_eq!(
            pending.check_request(today, &sent, &asked),
            Err(ProgramError::NotInForce(Status::AwaitingApproval))
        );
    }

    #[test]
    fn adverse_action_waits_for_verification_notice_and_thirty_days() {
        let mut c = Case::default();
        let today = d("2026-06-01");
        assert_eq!(c.status(today), CaseStatus::Unverified);
        assert_eq!(c.check_adverse(true, today), Err(CaseError::NotVerified));
        assert_eq!(
            c.check_notice(today, today, today),
            Err(CaseError::NotVerified)
        );
        c.verified = Some((act("agency", "2026-06-01"), r("wage records")));
        assert_eq!(c.check_adverse(true, today), Err(CaseError::NoNotice));
        assert!(matches!(
            c.check_notice(d("2026-06-02"), today, today),
            Err(CaseError::NoticeDate { .. })
        ));
        let end = d("2199-12-20");
        assert!(matches!(
            c.check_notice(end, end, end),
            Err(CaseError::NoticeDate { .. })
        ));
        c.notice = Some((act("agency", "2026-06-01"), r("letter 7")));
        // Day 30 after the notice is still the person's.
        assert!(matches!(
            c.check_adverse(true, d("2026-07-01")),
            Err(CaseError::ContestPeriod { .. })
        ));
        assert_eq!(
            c.status(d("2026-07-01")),
            CaseStatus::NoticeSent {
                contest_until: d("2026-07-01")
            }
        );
        assert_eq!(
            c.check_adverse(false, d("2026-07-02")),
            Err(CaseError::NotAllowedByAgreement)
        );
        assert_eq!(c.check_adverse(true, d("2026-07-02")), Ok(()));
        // A contest holds everything until it is decided; upheld, nothing follows.
        let mut contested = c.clone();
        contested.contested = Some(act("agency", "2026-06-10"));
        assert_eq!(
            contested.check_adverse(true, d("2026-08-01")),
            Err(CaseError::ContestOpen)
        );
        assert_eq!(contested.status(d("2026-08-01")), CaseStatus::Contested);
        let mut upheld = contested.clone();
        upheld.contest_decided = Some((act("agency", "2026-06-20"), true));
        assert_eq!(
            upheld.check_adverse(true, d("2026-08-01")),
            Err(CaseError::ContestUpheld)
        );
        // Denied early: the thirty days still run.
        let mut denied = contested;
        denied.contest_decided = Some((act("agency", "2026-06-20"), false));
        assert!(matches!(
            denied.check_adverse(true, d("2026-06-21")),
            Err(CaseError::ContestPeriod { .. })
        ));
        assert_eq!(denied.check_adverse(true, d("2026-07-02")), Ok(()));
        assert_eq!(denied.status(d("2026-07-02")), CaseStatus::Ready);
    }
}

#[test]
fn the_index_counts_changes_of_names_and_dates_of_birth_only() {
    let (_d, reg) = registry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         111111111,Ann,,Lee,,F,1950-03-04,OH\n\
         222222222,Bo,,Ray,,M,1960-01-01,OH\n",
    )
    .unwrap();
    import_file(&reg, &path, today(), 0, &|_| {}).unwrap();
    let changes = || reg.load_index().unwrap().identity_changes();
    assert_eq!(changes(), 2);
    // A death changes no name or date of birth.
    let lines = [report("111111111", "state", "2026-11-01")];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    submit(&reg, &lines);
    assert_eq!(changes(), 2);
}

#[test]
fn names_on_file_are_interned_and_names_asked_about_are_not() {
    use crate::names::{FirstKey, LastKey, is_interned};
    let check = |name: &str, expect: &str| {
        let key = LastKey::of(name);
        assert_eq!(key.as_str(), expect, "{name}");
        assert_eq!(key, LastKey::of(expect), "one number for the same letters");
    };
    check("Williamson", "WILLIAMSON");
    check("o'brien-smith", "OBRIENSMITH");
    check("Núñez", "NUNEZ");
    check(
        "Wolfeschlegelsteinhausenbergerdorff",
        "WOLFESCHLEGELSTEINHA",
    );
    check("", "");
    assert_eq!(FirstKey::of("Maria-Guadalupe").as_str(), "MARIAGUADALUPE");
    assert_eq!(
        FirstKey::of("Bartholomew Alexander").as_str(),
        "BARTHOLOMEWALEX"
    );
    // A first and a last name of the same letters share their number.
    assert_eq!(
        FirstKey::of("Lee").as_bytes(),
        LastKey::of("LEE").as_bytes()
    );
    // Asking about a made-up name leaves nothing behind.
    let name = dmf_model::PersonName::parse("Ann", None, "Smith", None).unwrap();
    let on_file = state::identity_of(&name, None, None, true);
    let asked = crate::identity::Reported {
        first: Some("Qzxwvk"),
        last: Some("Xqjzvbn"),
        ..Default::default()
    };
    let c = crate::identity::compare(&asked, &on_file);
    assert_eq!(c.name, crate::identity::Agreement::Differs);
    assert!(!is_interned(b"QZXWVK") && !is_interned(b"XQJZVBN"));
    assert!(is_interned(b"ANN"));
}

#[test]
fn verification_queries_are_refused_at_their_field() {
    let check = |body: &str, expect: &str| {
        let serde_json::Value::Object(m) = serde_json::from_str(body).unwrap() else {
            panic!("{body}: not an object");
        };
        let got = match submission::parse_query(&m) {
            Ok(q) => format!("{} {} {} {}", q.ssn, q.first, q.last, q.dob),
            Err(r) => r.to_string(),
        };
        assert_eq!(got, expect, "{body}");
    };
    check(
        r#"{"ssn":"123-45-6789","first":"Ann","last":"Lee","dob":"1950-02"}"#,
        "123456789 Ann Lee 1950-02",
    );
    check(
        r#"{"ssn":"123456789","first":"Ann","last":"Lee","dob":"1950","x":1}"#,
        "$.x: unknown field (a verification takes ssn, first, last, dob)",
    );
    check(
        r#"{"ssn":"000456789","first":"Ann","last":"Lee","dob":"1950"}"#,
        "$.ssn: area 000 is never issued",
    );
    check(
        r#"{"ssn":"123456789","first":" ","last":"Lee","dob":"1950"}"#,
        "$.first: empty",
    );
    check(
        r#"{"ssn":"123456789","first":"Ann","last":7,"dob":"1950"}"#,
        "$.last: expected a string",
    );
    check(
        r#"{"ssn":"123456789","first":"Ann","last":"Lee"}"#,
        "$.dob: missing",
    );
    check(
        r#"{"ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-02-30"}"#,
        "$.dob: day 30 does not exist in 1950-02",
    );
}

/// A report that agrees on what it gives but leaves out the date of birth or the generation on
/// file is held, saying what is missing; with them it applies.
#[test]
fn a_report_leaving_out_what_tells_a_junior_from_his_father_is_held() {
    let (_d, reg) = registry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(
        &path,
        "ssn,first,last,suffix,sex,dob\n123456789,Michael,Berkley,Jr,M,2010-08-10\n",
    )
    .unwrap();
    import_file(&reg, &path, today(), 0, &|_| {}).unwrap();
    let line = |extra: &str| {
        format!(
            r#"{{"type":"death_report","ssn":"123456789","first":"Michael","last":"Berkley"{extra},"dod":"2026-11-01","source":"state","evidence":"e"}}"#
        )
    };
    let held = |l: &str| -> String {
        let sub = parse_line(l, today()).unwrap();
        match reg.submit(vec![sub], 0).unwrap().remove(0).unwrap().outcome {
            Outcome::Held {
                reason,
                differences,
            } => format!(
                "{}: {}",
                reason.code(),
                differences
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            o => o.code().to_owned(),
        }
    };
    assert_eq!(
        held(&line(r#","dob":"2010-08-10""#)),
        "identity_incomplete: suffix: not given, on file JR"
    );
    assert_eq!(
        held(&line(r#","suffix":"Jr""#)),
        "identity_incomplete: dob: not given, on file 2010-08-10"
    );
    assert_eq!(
        held(&line(r#","suffix":"Sr","dob":"2010-08-10""#)),
        "identity_mismatch: suffix: reported Sr, on file JR"
    );
    assert_eq!(
        held(&line(r#","suffix":"Jr.","dob":"2010-08-10""#)),
        "deceased"
    );
}

/// Regression (callers set the dates due process relies on): a notice backdated to 2026-01-01
/// made employment final at once, skipping the contest window, and a report received in 2030
/// published a death in 2029. The registry's own day counts: a contest period runs from the
/// later of the notice and the day it is recorded; dates after that day, and a notice sent
/// more than 30 days before it, are refused.
#[test]
fn callers_dates_never_shorten_due_process_or_reach_the_future() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789"]);
    let notice = |sent: &str| {
        format!(
            r#"{{"type":"status_notice","ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-03-04","kind":"employment_authorization_ended","authority":"DHS","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"2026-11-01","notice_sent":"{sent}"}}"#
        )
    };
    let cases = [
        (notice("2026-01-01"), "rejected $.notice_sent: 2026-01-01 is more than 30 days before the registry records the notice (2026-11-23): send the person a new notice and record that"),
        (notice("2026-12-01"), "rejected $.notice_sent: 2026-12-01 is after the day the registry records the notice (2026-11-23)"),
        (
            r#"{"type":"death_report","ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-03-04","dod":"2029-12-01","source":"state","evidence":"e","received":"2030-01-01"}"#.to_owned(),
            "rejected $.received: 2030-01-01 is after the day the registry records the report (2026-11-23)",
        ),
        (
            r#"{"type":"death_report","ssn":"123456789","first":"Ann","last":"Lee","dob":"1950-03-04","dod":"2026-12-01","source":"state","evidence":"e"}"#.to_owned(),
            "rejected $.dod: the date of death 2026-12-01 is after the day the report was received (2026-11-23)",
        ),
    ];
    for (line, expect) in &cases {
        assert_eq!(submit(&reg, &[line.as_str()]), [*expect], "{line}");
    }
    // Sent 20 days ago: the 10 working days run from today, not from the notice.
    let sent = notice("2026-11-03");
    let sub = parse_line(&sent, today()).unwrap();
    let Event::StatusNotice(n) = &sub.event else {
        panic!("a notice")
    };
    assert_eq!(n.contest_deadline.to_string(), "2026-12-08");
    assert_eq!(submit(&reg, &[sent.as_str()]), ["notice_recorded"]);
    let state = reg.state_of("123456789".parse().unwrap()).unwrap();
    let answer = answers::employment(&query("123456789"), state.as_ref(), today());
    assert!(
        matches!(answer, EmploymentAnswer::Mismatch { .. }),
        "not final at once: {answer:?}"
    );
}

/// Regression (alerts grouped by the callers' dates): 6,300 notices sent in one request but
/// dated 29 days apart raised no alert. Intake is counted on the day the registry recorded it.
#[test]
fn a_bulk_dated_over_many_days_is_one_days_intake() {
    let (_d, reg) = registry();
    let ssns: Vec<String> = (0..1_200u32)
        .map(|i| format!("{:09}", 123_450_001 + i))
        .collect();
    let refs: Vec<&str> = ssns.iter().map(String::as_str).collect();
    import_people(&reg, &refs);
    let lines: Vec<String> = ssns
        .iter()
        .enumerate()
        .map(|(i, ssn)| {
            // Up to 28 days back: within what the registry takes.
            let sent = today().add_days(-((i % 29) as i32)).unwrap();
            notice(ssn, "employment_authorization_ended", "2026-11-20")
                .replace("}", &format!(r#","notice_sent":"{sent}"}}"#))
        })
        .collect();
    let subs: Vec<_> = lines
        .iter()
        .map(|l| parse_line(l, today()).unwrap())
        .collect();
    // One moment of the day the request came in.
    let recorded = i64::from(today().days_since_epoch()) * 86_400_000 + 43_200_000;
    let results = reg.submit(subs, recorded).unwrap();
    assert!(results.iter().all(|r| r.is_ok()));
    let index = reg.load_index().unwrap();
    let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
    let observations = anomaly::observations_of(&reg, &lookup).unwrap();
    let days: std::collections::BTreeSet<Date> = observations.iter().map(|o| o.day).collect();
    assert_eq!(days.len(), 1, "{days:?}");
    let alerts = anomaly::detect(&observations, &anomaly::DetectorConfig::for_year(2026));
    assert!(
        alerts
            .iter()
            .any(|a| a.group == "authority:DHS" && a.kind == anomaly::AlertKind::Volume),
        "{alerts:?}"
    );
}

/// A refusal named its event type with "a" whatever the type: "unknown field for a
/// identity_change".
#[test]
fn an_unknown_field_named_its_type_with_the_wrong_article() {
    for (line, expect) in [
        (
            r#"{"type":"identity_change","ssn":"123456789","reason":"r","evidence":"e","requested_by":"a","dod":"2020"}"#,
            "$.dod: unknown field for an identity_change",
        ),
        (
            r#"{"type":"review","ssn":"123456789","event":2,"decision":"confirm","by":"a","dod":"2020"}"#,
            "$.dod: unknown field for a review",
        ),
    ] {
        assert_eq!(parse_line(line, today()).unwrap_err().to_string(), expect);
    }
}

/// Each row of the statistics repeated `period` and `origin`, the names of the whole (the
/// length of a period, the log's origin) with another meaning. Statistics published under the
/// old names still read, so that an export made before checks.
#[test]
fn statistics_rows_repeated_the_names_of_the_whole() {
    let (_dir, reg) = registry();
    submit_people(&reg);
    assert_eq!(
        submit(&reg, &[&report("123456789", "state", "2024-01-01")]),
        ["deceased"]
    );
    for period in [stats::Period::Day, stats::Period::Month] {
        let stats = publish::stats(reg.ledger(), period).unwrap();
        assert_eq!(stats.tree_size, 2);
        let v = serde_json::to_value(&stats).unwrap();
        let mut top: Vec<&String> = v.as_object().unwrap().keys().collect();
        top.sort();
        assert_eq!(
            top,
            ["log_origin", "period", "root", "rows", "tree_size"],
            "{v}"
        );
        for row in v["rows"].as_array().unwrap() {
            let row = row.as_object().unwrap();
            assert!(row.keys().all(|k| !top.contains(&k)), "{row:?}");
            assert!(row["date"].is_string(), "{row:?}");
        }
        let mut old = v.clone();
        let o = old.as_object_mut().unwrap();
        let origin = o.remove("log_origin").unwrap();
        o.insert("origin".into(), origin);
        for row in o["rows"].as_array_mut().unwrap() {
            let row = row.as_object_mut().unwrap();
            let date = row.remove("date").unwrap();
            row.insert("period".into(), date);
        }
        let back: stats::Stats = serde_json::from_value(old).unwrap();
        assert_eq!(back, stats);
    }
}

/// A death a funeral home reported before the state established it was taken for a death only
/// a state reported, and kept from every subscriber and every purpose but benefit programs.
/// Only a death whose sole source is a state is kept so, whichever came first; a report that
/// never became one of the death's (held and rejected, of another date, corrected) leaves the
/// state the sole source. The three-year rule for uncertified subscribers is unchanged.
#[test]
fn a_death_a_funeral_home_also_reported_was_kept_as_state_only() {
    const A: &str = "123456789";
    let benefits = distribution::Audience {
        certified: true,
        state_deaths: true,
    };
    let certified = distribution::Audience {
        certified: true,
        state_deaths: false,
    };
    let uncertified = distribution::Audience {
        certified: false,
        state_deaths: false,
    };
    let other = format!(
        r#"{{"type":"death_report","ssn":"{A}","first":"Bob","last":"Smith","dod":"2020-05-01","source":"funeral_home","evidence":"FH-2"}}"#
    );
    let correction = format!(
        r#"{{"type":"correction","ssn":"{A}","reason":"alive","evidence":"passport","requested_by":"cw-1","approved_by":"sup-2"}}"#
    );
    let verify = format!(r#"{{"type":"verification","ssn":"{A}","approved_by":"cw-9"}}"#);
    // The steps after the numberholder (event 1), their outcomes, and who receives the death:
    // the files and feed of each audience, and the identity and benefits answers.
    let check = |steps: &[String], outcomes: &[&str], expect: &str| {
        let (_d, reg) = registry();
        import_people(&reg, &[A]);
        let lines: Vec<&str> = steps.iter().map(String::as_str).collect();
        assert_eq!(submit(&reg, &lines), outcomes, "{steps:?}");
        let state = reg.state_of(A.parse().unwrap()).unwrap();
        let mut seen = Vec::new();
        for (who, audience) in [
            ("benefits", benefits),
            ("certified", certified),
            ("uncertified", uncertified),
        ] {
            let (_, file) = distribution::full_file(&reg, audience, today()).unwrap();
            let feed = distribution::changes(&reg, 0, 100, audience, today()).unwrap();
            assert_eq!(file.len(), feed.records.len(), "{who}: {steps:?}");
            if !file.is_empty() {
                seen.push(who);
            }
        }
        for purpose in [render::Purpose::Identity, render::Purpose::Benefits] {
            let answer = render::answer_for(purpose, &query(A), state.as_ref(), today(), false);
            if answer["deceased"] == true {
                seen.push(match purpose {
                    render::Purpose::Identity => "identity-answer",
                    _ => "benefits-answer",
                });
            }
        }
        assert_eq!(seen.join(" "), expect, "{steps:?}");
    };
    let everyone = "benefits certified uncertified identity-answer benefits-answer";
    let state_only = "benefits benefits-answer";
    let r = |source: &str, dod: &str| report(A, source, dod);
    check(&[r("state", "2020-05-01")], &["deceased"], state_only);
    check(
        &[r("funeral_home", "2020-05-01"), r("state", "2020-05-01")],
        &["pending", "deceased"],
        everyone,
    );
    check(
        &[r("state", "2020-05-01"), r("funeral_home", "2020-05")],
        &["deceased", "corroborated"],
        everyone,
    );
    // Within three years of the death: certified subscribers only, as before.
    check(
        &[r("funeral_home", "2026-11-01"), r("state", "2026-11-01")],
        &["pending", "deceased"],
        "benefits certified identity-answer benefits-answer",
    );
    check(
        &[r("state", "2026-11-01")],
        &["deceased"],
        "benefits benefits-answer",
    );
    // Reports of another date are not the death's: the state stays its sole source.
    check(
        &[r("funeral_home", "2020-04-01"), r("state", "2020-05-01")],
        &["pending", "deceased"],
        state_only,
    );
    check(
        &[r("state", "2020-05-01"), r("funeral_home", "2020-04-01")],
        &[
            "deceased",
            "held_for_review: date of death 2020-04-01 conflicts with the recorded 2020-05-01",
        ],
        state_only,
    );
    // A report held for its identity is the death's only once two people confirm it.
    check(
        &[
            r("state", "2020-05-01"),
            other.clone(),
            review(A, 3, "reject", "cw-1"),
        ],
        &["deceased", "held", "dismissed"],
        state_only,
    );
    check(
        &[
            r("state", "2020-05-01"),
            other.clone(),
            review(A, 3, "confirm", "cw-1"),
            review(A, 3, "confirm", "sup-2"),
        ],
        &["deceased", "held", "awaiting_second_person", "corroborated"],
        everyone,
    );
    // A funeral home's report corrected (the person was alive), then a state's of another
    // death: the state is its sole source.
    check(
        &[
            r("funeral_home", "2020-05-01"),
            correction.clone(),
            r("state", "2021-02-03"),
        ],
        &["pending", "reinstated", "deceased"],
        state_only,
    );
    // A caseworker's verification of a funeral home's report, and a state's agreeing later.
    check(
        &[r("funeral_home", "2020-05-01"), verify.clone()],
        &["pending", "deceased"],
        everyone,
    );
    check(
        &[
            r("funeral_home", "2020-05-01"),
            verify,
            r("state", "2020-05-01"),
        ],
        &["pending", "deceased", "corroborated"],
        everyone,
    );
}

/// A subscriber following the feed receives a state's death as an `A` once another source
/// reports it too, and a state's report counts as verified whatever level its sender gave.
#[test]
fn a_state_death_reaches_subscribers_once_another_source_reports_it() {
    let (_d, reg) = registry();
    let a = "123456789";
    import_people(&reg, &[a]);
    let subscriber = distribution::Audience {
        certified: true,
        state_deaths: false,
    };
    assert_eq!(
        submit(&reg, &[&report(a, "state", "2020-05-01")]),
        ["deceased"]
    );
    let death = reg
        .state_of(a.parse().unwrap())
        .unwrap()
        .unwrap()
        .death
        .unwrap();
    assert_eq!(
        (death.verification, death.state_only()),
        (dmf_model::VerificationLevel::Verified, true)
    );
    let page = distribution::changes(&reg, 0, 100, subscriber, today()).unwrap();
    assert!(page.records.is_empty(), "{:?}", page.records);
    assert_eq!(
        submit(&reg, &[&report(a, "funeral_home", "2020-05-01")]),
        ["corroborated"]
    );
    let page = distribution::changes(&reg, page.cursor, 100, subscriber, today()).unwrap();
    let got: Vec<_> = page
        .records
        .iter()
        .map(|r| {
            (
                r.change(),
                r.ssn().to_string(),
                r.dod().map(|d| d.to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(
            dmf_format::ChangeCode::Add,
            a.to_owned(),
            Some("2020-05-01".to_owned())
        )]
    );
    let death = reg
        .state_of(a.parse().unwrap())
        .unwrap()
        .unwrap()
        .death
        .unwrap();
    let sources: Vec<_> = death.sources.iter().map(|s| s.code()).collect();
    assert_eq!(sources, ["state", "funeral_home"]);
}

/// A funeral home's full date of death and a hospital's month-only report of the same death:
/// the death kept the funeral home's date but named the hospital as the source it stood on, so
/// no report matched it and it went to no file and no feed.
#[test]
fn a_death_kept_a_more_precise_date_but_the_other_reports_source_and_was_published_nowhere() {
    const A: &str = "123456789";
    let audience = distribution::Audience {
        certified: true,
        state_deaths: false,
    };
    for (first, second) in [
        (
            report(A, "funeral_home", "2020-05-01"),
            report(A, "hospital", "2020-05"),
        ),
        (
            report(A, "hospital", "2020-05"),
            report(A, "funeral_home", "2020-05-01"),
        ),
    ] {
        let (_d, reg) = registry();
        import_people(&reg, &[A]);
        assert_eq!(submit(&reg, &[&first, &second]), ["pending", "deceased"]);
        let death = reg
            .state_of(A.parse().unwrap())
            .unwrap()
            .unwrap()
            .death
            .unwrap();
        assert_eq!(death.dod.to_string(), "2020-05-01");
        assert_eq!(death.source.code(), "funeral_home", "{first} then {second}");
        let (_, file) = distribution::full_file(&reg, audience, today()).unwrap();
        let feed = distribution::changes(&reg, 0, 100, audience, today()).unwrap();
        assert_eq!(
            (file.len(), feed.records.len()),
            (1, 1),
            "{first} then {second}"
        );
    }
}

mod counting_on;
mod grounds;
mod mac;
mod vrdr;

/// Deferred, as in a bulk import: each batch returns once checked and is stored on a thread of
/// its own while the next is checked. The key of the batch still out is known, the next batch
/// sees the states it made, and once no longer deferred every event is stored in order, carries
/// the writer's chained MAC and is in the signed log.
#[test]
fn deferred_batches_are_stored_in_order_chained_and_signed() {
    let (_d, reg) = registry();
    import_people(&reg, &["123456789", "123456780", "223456789"]);
    reg.defer_log(true).unwrap();
    let batch = |ssns: &[&str], source: &str| {
        ssns.iter()
            .map(|s| parse_line(&report(s, source, "2026-11-01"), today()).unwrap())
            .collect::<Vec<_>>()
    };
    let seqs = |results: Vec<Result<Accepted, Rejection>>| {
        results
            .into_iter()
            .map(|r| {
                let a = r.unwrap();
                (a.seq, a.outcome.code().to_owned())
            })
            .collect::<Vec<_>>()
    };
    let first = reg
        .submit_batch(
            batch(&["123456789", "123456780"], "family"),
            Some("b0".into()),
            0,
        )
        .unwrap();
    let again = reg
        .submit_batch(batch(&["223456789"], "family"), Some("b0".into()), 0)
        .unwrap();
    let second = reg
        .submit_batch(batch(&["123456789"], "funeral_home"), Some("b1".into()), 0)
        .unwrap();
    reg.defer_log(false).unwrap();
    assert_eq!(seqs(first), [(4, "pending".into()), (5, "pending".into())]);
    assert_eq!(seqs(again), [(4, "duplicate".into())]);
    // The second source agrees with the first, still out on its thread when it was checked.
    assert_eq!(seqs(second), [(6, "deceased".into())]);
    assert_eq!(reg.store().head().unwrap(), 6);
    assert_eq!(reg.read_checked(0, 10).unwrap().len(), 6);
    assert_eq!(reg.signed_size().unwrap(), 6);
}
