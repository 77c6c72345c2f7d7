//! What every [`PositionStore`] and [`CorrectionStore`] backend must do, as plain functions
//! that panic on a failure. A backend's tests call [`run_all`] with a maker of fresh, empty
//! stores.

use super::{Approval, CorrectionStore, Position, PositionStore, WorkflowStores};

const NOW: i64 = 1_700_000_000_000;

/// Runs every check, each on fresh stores from `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> WorkflowStores) {
    positions_advance_and_never_go_back(fresh().0.as_ref());
    corrections_are_listed_and_approved_once(fresh().1.as_ref());
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
    let first = c
        .request_correction(999_999_999, "{\"first\":\"Alicia\"}", 3, "carol", NOW)
        .unwrap();
    let second = c
        .request_correction(1, "{\"last\":\"Jones\"}", 4, "dave", NOW + 1)
        .unwrap();
    let third = c
        .request_correction(999_999_999, "{}", 3, "carol", NOW + 2)
        .unwrap();
    assert!(first < second && second < third);
    c.approve_correction(first, 5, "erin", NOW + 10, 42)
        .unwrap();
    assert!(
        c.approve_correction(first, 6, "frank", NOW + 11, 43)
            .is_err()
    );
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
    assert_eq!(c.correction(second).unwrap().unwrap().approval, None);
    assert_eq!(c.correction(9_999).unwrap(), None);
    let ids = |list: Vec<super::CorrectionRequest>| -> Vec<i64> {
        list.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(
        ids(c.corrections(false, 10).unwrap()),
        [third, second, first]
    );
    assert_eq!(ids(c.corrections(false, 2).unwrap()), [third, second]);
    assert_eq!(ids(c.corrections(true, 10).unwrap()), [third, second]);
    assert_eq!(ids(c.corrections_of(999_999_999).unwrap()), [first, third]);
    assert!(c.corrections_of(111_111_111).unwrap().is_empty());
}
