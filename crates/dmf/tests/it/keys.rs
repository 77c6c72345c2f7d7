//! `dmf keys`: a state reporter's key bound to its jurisdiction, as made, listed, dumped and
//! restored.

use super::{dmf, s, stderr, stdout};

/// Each key `dmf keys list --json` shows, by name.
fn listed(data: &str) -> Vec<serde_json::Value> {
    let out = dmf(&["keys", "list", "--data", data, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A key's name, role, source and jurisdiction given; the jurisdiction stored, or what the
/// refusal says.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    Result<&'a str, &'a str>,
);

#[test]
fn a_state_reporters_jurisdiction_is_made_listed_and_kept_through_a_dump() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    assert!(dmf(&["init", "--data", d]).status.success());
    let cases: &[Case] = &[
        ("albany", "reporter", Some("state"), "NY", Ok("NY")),
        ("san juan", "reporter", Some("state"), "pr", Ok("PR")),
        (
            "nowhere",
            "reporter",
            Some("state"),
            "ZZ",
            Err("\"ZZ\" is not an NCHS jurisdiction id"),
        ),
        (
            "undertaker",
            "reporter",
            Some("funeral_home"),
            "NY",
            Err("only reporter keys of source state have a jurisdiction, \
                 not reporter keys of source funeral_home"),
        ),
        (
            "uscis",
            "authority",
            None,
            "NY",
            Err("only reporter keys of source state have a jurisdiction, not authority keys"),
        ),
    ];
    for (name, role, source, jurisdiction, want) in cases {
        let mut args = vec![
            "keys", "create", "--data", d, "--name", name, "--role", role,
        ];
        match (role, source) {
            (_, Some(source)) => args.extend(["--source", source]),
            (&"authority", None) => args.extend(["--authority", "DHS USCIS"]),
            _ => {}
        }
        args.extend(["--jurisdiction", jurisdiction, "--json"]);
        let out = dmf(&args);
        match want {
            Ok(stored) => {
                assert!(out.status.success(), "{name}: {}", stderr(&out));
                let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(made["jurisdiction"], *stored, "{name}: {made}");
            }
            Err(message) => {
                assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
                assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
            }
        }
    }
    // A state's key without a jurisdiction is still made.
    let out = dmf(&[
        "keys", "create", "--data", d, "--name", "unbound", "--role", "reporter", "--source",
        "state",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let shown = |keys: &[serde_json::Value]| -> Vec<(String, serde_json::Value)> {
        keys.iter()
            .map(|k| {
                (
                    k["name"].as_str().unwrap().to_owned(),
                    k["jurisdiction"].clone(),
                )
            })
            .collect()
    };
    let want = vec![
        ("albany".to_owned(), serde_json::json!("NY")),
        ("san juan".to_owned(), serde_json::json!("PR")),
        ("unbound".to_owned(), serde_json::Value::Null),
    ];
    assert_eq!(shown(&listed(d)), want);
    let out = dmf(&["keys", "list", "--data", d]);
    let text = stdout(&out);
    let albany = text.lines().find(|l| l.contains("\talbany\t")).unwrap();
    assert!(
        albany.ends_with("\treporter\tsource state\tjurisdiction NY"),
        "{albany:?}"
    );

    // A dump carries the jurisdiction, and a restore keeps it.
    let dump = dir.path().join("registry.dump");
    let out = dmf(&["dump", "--data", d, "--out", s(&dump)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let restored = dir.path().join("restored");
    let out = dmf(&[
        "restore",
        "--in",
        s(&dump),
        "--data",
        s(&restored),
        "--keys-from",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shown(&listed(s(&restored))), want);
}
