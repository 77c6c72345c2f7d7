//! `dmf agreements` and agency keys from the command line.

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

#[test]
fn an_agreement_is_recorded_approved_by_another_person_and_bound_to_an_agency_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let create = |expiry: &str, extra: &[&str]| {
        let mut args = vec![
            "agreements",
            "create",
            "--data",
            d,
            "--recipient",
            "State Benefits Agency",
            "--source",
            "Registry",
            "--purpose",
            "stop payments to the deceased",
            "--legal-authority",
            "42 U.S.C. 1320b-7",
            "--recipient-receives",
            "deceased,date_of_death",
            "--retention-days",
            "90",
            "--start",
            "2026-11-01",
            "--expiry",
            expiry,
            "--by",
            "ann",
            "--today",
            "2026-11-23",
            "--json",
        ];
        args.extend(extra);
        dmf(&args)
    };
    let out = create("2028-06-01", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--expiry: an agreement runs at most 18 months"),
        "{}",
        stderr(&out)
    );
    let out = create("2027-10-31", &["--recipient-receives", "deceased,income"]);
    assert!(!out.status.success());
    let out = create("2027-10-31", &["--adverse-action"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let a: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (&a["id"], &a["status"]),
        (&1.into(), &"awaiting_approval".into()),
        "{a}"
    );

    let approve = |by: &str| {
        dmf(&[
            "agreements",
            "approve",
            "--data",
            d,
            "--id",
            "1",
            "--by",
            by,
            "--today",
            "2026-11-23",
            "--json",
        ])
    };
    let out = approve("ann");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot also approve"),
        "{}",
        stderr(&out)
    );
    let out = approve("oscar");
    assert!(out.status.success(), "{}", stderr(&out));
    let a: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (&a["status"], &a["approved_by"]),
        (&"active".into(), &"oscar".into())
    );

    let key = |extra: &[&str]| {
        let mut args = vec![
            "keys",
            "create",
            "--data",
            d,
            "--name",
            "state-agency",
            "--role",
            "agency",
            "--json",
        ];
        args.extend(extra);
        dmf(&args)
    };
    let out = key(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--agreement"), "{}", stderr(&out));
    assert_eq!(key(&["--agreement", "7"]).status.code(), Some(2));
    let out = key(&["--agreement", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = dmf(&[
        "agreements",
        "show",
        "--data",
        d,
        "--id",
        "1",
        "--today",
        "2026-11-23",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["keys"], serde_json::json!(["state-agency"]), "{v}");
    assert_eq!(v["requests"], serde_json::json!([]));
    let text = stdout(&dmf(&[
        "agreements",
        "show",
        "--data",
        d,
        "--id",
        "1",
        "--today",
        "2026-11-23",
    ]));
    assert!(
        text.contains("agreement 1: active") && text.contains("approved by      oscar"),
        "{text}"
    );
    let text = stdout(&dmf(&[
        "agreements",
        "list",
        "--data",
        d,
        "--today",
        "2027-11-01",
    ]));
    assert!(text.contains("expired"), "{text}");
    // Renewal: once, near the expiry, twelve months at most.
    let renew = |to: &str, today: &str| {
        dmf(&[
            "agreements",
            "renew",
            "--data",
            d,
            "--id",
            "1",
            "--expiry",
            to,
            "--by",
            "oscar",
            "--today",
            today,
        ])
    };
    assert_eq!(renew("2028-10-31", "2027-01-01").status.code(), Some(2));
    assert!(renew("2028-10-31", "2027-09-01").status.success());
    let out = renew("2028-12-31", "2027-09-02");
    assert!(stderr(&out).contains("already renewed"), "{}", stderr(&out));
}
