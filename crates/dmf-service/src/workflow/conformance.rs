//! What every [`PositionStore`] and [`CorrectionStore`] backend must do, as plain functions
//! that panic on a failure. A backend's tests call [`run_all`] with a maker of fresh, empty
//! stores.

use super::{
    ActionKind, Approval, CorrectionRequest, CorrectionStatus, CorrectionStore, Filed, Position,
    PositionStore, Queue, Step, WorkflowError, WorkflowStores,
};

const NOW: i64 = 1_700_000_000_000;

/// Runs every check, each on fresh stores from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> WorkflowStores) {
    positions_advance_and_never_go_back(fresh().0.as_ref());
    corrections_are_listed_and_approved_once(fresh().1.as_ref());
    a_second_request_joins_the_open_correction(fresh().1.as_ref());
    the_lifecycle_is_recorded_and_ends_with_a_decision(fresh().1.as_ref());
    the_queue_is_oldest_first_and_filtered(fresh().1.as_ref());
}

pub fn positions_advance_and_never_go_back(p: &dyn PositionStore) {
    assert_eq!(p.position(7).unwrap(), Position::default());
    assert!(p.positions().unwrap().is_empty());
    p.served(7, 10).unwrap();
    p.served(7, 4).unwrap();
    assert_eq!(
        p.position(7).unwrap(),
        Position {
            served: 10,
            acked: 0
        }
    );
    p.acked(7, 8, NOW).unwrap();
    p.acked(7, 3, NOW + 1).unwrap();
    assert_eq!(p.position(7).unwrap().acked, 8);
    // A first acknowledgement creates the position as a first serving does.
    p.acked(3, 5, NOW).unwrap();
    // Cursors beyond i64 are not made; the largest one there is round-trips.
    p.served(9, i64::MAX as u64).unwrap();
    assert_eq!(
        p.positions().unwrap(),
        vec![
            (
                3,
                Position {
                    served: 0,
                    acked: 5
                }
            ),
            (
                7,
                Position {
                    served: 10,
                    acked: 8
                }
            ),
            (
                9,
                Position {
                    served: i64::MAX as u64,
                    acked: 0
                }
            ),
        ]
    );
}

pub fn corrections_are_listed_and_approved_once(c: &dyn CorrectionStore) {
    let new = |f: Filed| match f {
        Filed::New(id) => id,
        other => panic!("a new correction expected: {other:?}"),
    };
    let first = new(c
        .request_correction(999_999_999, "{\"first\":\"Alicia\"}", 3, "carol", NOW)
        .unwrap());
    let second = new(c
        .request_correction(1, "{\"last\":\"Jones\"}", 4, "dave", NOW + 1)
        .unwrap());
    c.approve_correction(first, 5, "erin", NOW + 10, 42)
        .unwrap();
    assert!(
        c.approve_correction(first, 6, "frank", NOW + 11, 43)
            .is_err()
    );
    // Approved, the first is no longer open: a new request for the person is a new one.
    let third = new(c
        .request_correction(999_999_999, "{}", 3, "carol", NOW + 20)
        .unwrap());
    assert!(first < second && second < third);
    let approved = c.correction(first).unwrap().unwrap();
    assert_eq!(
        (
            approved.ssn,
            approved.body.as_str(),
            approved.requested_key,
            approved.requested_by.as_str(),
            approved.requested_at
        ),
        (999_999_999, "{\"first\":\"Alicia\"}", 3, "carol", NOW)
    );
    assert_eq!(
        approved.approval,
        Some(Approval {
            key: 5,
            by: "erin".to_owned(),
            at: NOW + 10,
            seq: 42,
        })
    );
    assert_eq!(approved.status, CorrectionStatus::Approved);
    assert_eq!(
        kinds(&approved),
        [ActionKind::Requested, ActionKind::Approved { seq: 42 }]
    );
    let waiting = c.correction(second).unwrap().unwrap();
    assert_eq!(
        (waiting.approval, waiting.status),
        (None, CorrectionStatus::Open)
    );
    assert_eq!(c.correction(9_999).unwrap(), None);
    let newest = |status, limit| Queue {
        status,
        requested_key: None,
        newest_first: true,
        limit,
    };
    assert_eq!(
        ids(c.queue(&newest(None, 10)).unwrap()),
        [third, second, first]
    );
    assert_eq!(ids(c.queue(&newest(None, 2)).unwrap()), [third, second]);
    assert_eq!(
        ids(c.queue(&newest(Some(CorrectionStatus::Open), 10)).unwrap()),
        [third, second]
    );
    assert_eq!(ids(c.corrections_of(999_999_999).unwrap()), [first, third]);
    assert!(c.corrections_of(111_111_111).unwrap().is_empty());
}

fn ids(list: Vec<CorrectionRequest>) -> Vec<i64> {
    list.into_iter().map(|c| c.id).collect()
}

fn kinds(c: &CorrectionRequest) -> Vec<ActionKind> {
    c.actions.iter().map(|a| a.kind).collect()
}

/// One open correction per person: a second request joins it, the same request again (Back
/// and Submit) records nothing, and once it is decided a request is a new correction.
pub fn a_second_request_joins_the_open_correction(c: &dyn CorrectionStore) {
    let carols = "{\"reason\":\"seen alive\",\"evidence\":[\"passport\"]}";
    let daves = "{\"reason\":\"called in\",\"evidence\":[\"ssn card\",\"photo id\"]}";
    let id = c
        .request_correction(123_456_789, carols, -3, "carol", NOW)
        .unwrap()
        .id();
    assert_eq!(
        c.request_correction(123_456_789, carols, -3, "carol", NOW + 1)
            .unwrap(),
        Filed::Repeated(id)
    );
    assert_eq!(
        c.request_correction(123_456_789, daves, -4, "dave", NOW + 2)
            .unwrap(),
        Filed::Joined(id)
    );
    assert_eq!(
        c.request_correction(123_456_789, daves, -4, "dave", NOW + 3)
            .unwrap(),
        Filed::Repeated(id)
    );
    // Another person's request is a correction of its own.
    let other = c
        .request_correction(234_567_890, carols, -3, "carol", NOW + 4)
        .unwrap();
    assert!(matches!(other, Filed::New(o) if o != id), "{other:?}");
    let joined = c.correction(id).unwrap().unwrap();
    assert_eq!(kinds(&joined), [ActionKind::Requested, ActionKind::Joined]);
    assert_eq!(
        (
            joined.actions[1].by.as_str(),
            joined.actions[1].at,
            joined.actions[1].body.as_deref()
        ),
        ("dave", NOW + 2, Some(daves))
    );
    // The request stands as asked: a joined request does not replace it.
    assert_eq!(
        (joined.body.as_str(), joined.status),
        (carols, CorrectionStatus::Open)
    );
    assert_eq!(c.corrections_of(123_456_789).unwrap().len(), 1);

    // Sent back, it is still open: a request joins it.
    c.act(
        id,
        &Step::SendBack {
            reason: "a second document".into(),
        },
        -5,
        "sam",
        NOW + 5,
    )
    .unwrap();
    assert_eq!(
        c.request_correction(123_456_789, "{}", -6, "erin", NOW + 6)
            .unwrap(),
        Filed::Joined(id)
    );
    // Rejected, it is closed: the next request is a new correction.
    c.act(id, &Step::Withdraw { reason: None }, -3, "carol", NOW + 7)
        .unwrap();
    let next = c
        .request_correction(123_456_789, carols, -3, "carol", NOW + 8)
        .unwrap();
    assert!(matches!(next, Filed::New(n) if n > id), "{next:?}");
    assert_eq!(c.corrections_of(123_456_789).unwrap().len(), 2);
}

/// Rejected, sent back and resubmitted, withdrawn: each step recorded with who, when and why,
/// the status it leaves, and nothing after a decision.
pub fn the_lifecycle_is_recorded_and_ends_with_a_decision(c: &dyn CorrectionStore) {
    let reject = Step::Reject {
        reason: "the caller could not answer the security questions".into(),
    };
    let send_back = Step::SendBack {
        reason: "a second document with the date of birth".into(),
    };
    let withdraw = Step::Withdraw {
        reason: Some("filed for the wrong person".into()),
    };
    let resubmit = Step::Resubmit {
        body: "{\"evidence\":[\"passport\",\"birth certificate\"]}".into(),
    };

    // Rejected: the reason kept, and nothing more can happen.
    let a = c
        .request_correction(1, "{\"a\":1}", -3, "carol", NOW)
        .unwrap()
        .id();
    let rejected = c.act(a, &reject, -5, "sam", NOW + 1).unwrap();
    assert_eq!(rejected.status, CorrectionStatus::Rejected);
    assert_eq!(rejected, c.correction(a).unwrap().unwrap());
    let last = rejected.actions.last().unwrap();
    assert_eq!(
        (
            last.kind,
            last.key,
            last.by.as_str(),
            last.at,
            last.reason.as_deref()
        ),
        (
            ActionKind::Rejected,
            -5,
            "sam",
            NOW + 1,
            Some("the caller could not answer the security questions")
        )
    );
    for step in [&reject, &send_back, &withdraw, &resubmit] {
        match c.act(a, step, -3, "carol", NOW + 2) {
            Err(WorkflowError::NotAllowed { id, status, .. }) => {
                assert_eq!((id, status), (a, CorrectionStatus::Rejected))
            }
            other => panic!("{step:?} after a rejection: {other:?}"),
        }
    }

    // Sent back, resubmitted with more evidence: open again, with the new body.
    let b = c
        .request_correction(2, "{\"b\":1}", -3, "carol", NOW)
        .unwrap()
        .id();
    let sent = c.act(b, &send_back, -5, "sam", NOW + 1).unwrap();
    assert_eq!(sent.status, CorrectionStatus::SentBack);
    // Sent back, it awaits its requester: it is neither rejected nor sent back again.
    for step in [&reject, &send_back] {
        assert!(
            matches!(
                c.act(b, step, -5, "sam", NOW + 2),
                Err(WorkflowError::NotAllowed {
                    status: CorrectionStatus::SentBack,
                    ..
                })
            ),
            "{step:?}"
        );
    }
    let again = c.act(b, &resubmit, -3, "carol", NOW + 3).unwrap();
    assert_eq!(again.status, CorrectionStatus::Open);
    assert_eq!(
        again.body,
        "{\"evidence\":[\"passport\",\"birth certificate\"]}"
    );
    assert_eq!(
        kinds(&again),
        [
            ActionKind::Requested,
            ActionKind::SentBack,
            ActionKind::Resubmitted
        ]
    );
    assert_eq!(
        again.actions[0].body.as_deref(),
        Some("{\"b\":1}"),
        "the request as first asked"
    );
    c.approve_correction(b, -5, "sam", NOW + 4, 77).unwrap();
    let approved = c.correction(b).unwrap().unwrap();
    assert_eq!(approved.status, CorrectionStatus::Approved);
    assert!(matches!(
        c.act(b, &withdraw, -3, "carol", NOW + 5),
        Err(WorkflowError::NotAllowed {
            status: CorrectionStatus::Approved,
            ..
        })
    ));

    // Withdrawn by its requester, with or without a reason.
    let d = c
        .request_correction(3, "{\"d\":1}", -3, "carol", NOW)
        .unwrap()
        .id();
    let withdrawn = c.act(d, &withdraw, -3, "carol", NOW + 1).unwrap();
    assert_eq!(withdrawn.status, CorrectionStatus::Withdrawn);
    assert_eq!(
        withdrawn.actions.last().unwrap().reason.as_deref(),
        Some("filed for the wrong person")
    );
    let e = c
        .request_correction(4, "{\"e\":1}", -3, "carol", NOW)
        .unwrap()
        .id();
    let quiet = c
        .act(e, &Step::Withdraw { reason: None }, -3, "carol", NOW + 1)
        .unwrap();
    assert_eq!(
        (
            quiet.status,
            quiet.actions.last().unwrap().reason.as_deref()
        ),
        (CorrectionStatus::Withdrawn, None)
    );
    assert!(matches!(
        c.act(9_999, &withdraw, -3, "carol", NOW),
        Err(WorkflowError::NoCorrection(9_999))
    ));
}

/// The queue: oldest first, by status and by requester, with a limit.
pub fn the_queue_is_oldest_first_and_filtered(c: &dyn CorrectionStore) {
    let ask = |ssn: u32, key: i64, by: &str, at: i64| {
        c.request_correction(ssn, "{}", key, by, at).unwrap().id()
    };
    let a = ask(10, -3, "carol", NOW);
    let b = ask(11, -4, "dave", NOW + 1);
    let d = ask(12, -3, "carol", NOW + 2);
    let e = ask(13, -4, "dave", NOW + 3);
    let f = ask(14, -3, "carol", NOW + 4);
    c.act(
        b,
        &Step::Reject {
            reason: "no".into(),
        },
        -5,
        "sam",
        NOW + 5,
    )
    .unwrap();
    c.act(
        d,
        &Step::SendBack {
            reason: "more".into(),
        },
        -5,
        "sam",
        NOW + 6,
    )
    .unwrap();
    c.act(e, &Step::Withdraw { reason: None }, -4, "dave", NOW + 7)
        .unwrap();
    c.approve_correction(f, -5, "sam", NOW + 8, 9).unwrap();
    let q = |status, requested_key, limit| {
        ids(c
            .queue(&Queue {
                status,
                requested_key,
                newest_first: false,
                limit,
            })
            .unwrap())
    };
    use CorrectionStatus::*;
    for (status, key, limit, expected) in [
        (None, None, 10, vec![a, b, d, e, f]),
        (None, None, 2, vec![a, b]),
        (Some(Open), None, 10, vec![a]),
        (Some(SentBack), None, 10, vec![d]),
        (Some(Rejected), None, 10, vec![b]),
        (Some(Withdrawn), None, 10, vec![e]),
        (Some(Approved), None, 10, vec![f]),
        (None, Some(-3), 10, vec![a, d, f]),
        (Some(Open), Some(-4), 10, vec![]),
        (Some(Withdrawn), Some(-4), 10, vec![e]),
    ] {
        assert_eq!(
            q(status, key, limit),
            expected,
            "{status:?} {key:?} {limit}"
        );
    }
    // Resubmitted, the correction is awaiting approval again.
    c.act(
        d,
        &Step::Resubmit {
            body: "{\"x\":1}".into(),
        },
        -3,
        "carol",
        NOW + 9,
    )
    .unwrap();
    assert_eq!(q(Some(Open), None, 10), vec![a, d]);
    assert_eq!(c.queue(&Queue::oldest(Some(Open), 1)).unwrap()[0].id, a);
}
