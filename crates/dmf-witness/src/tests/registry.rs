//! The registry's witness list as tlog-policy text: made, changed, read back and refused.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dmf_log::{CosignerKey, CosignerVerifier, Policy, add_signatures};

use crate::registry::{
    self, POLICY_FILE, RegistryError, Which, WitnessUrl, Witnesses, policy_path,
};

/// A registry's data folder with its log's keys, as `dmf init` leaves it.
fn registry() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    dmf_ledger::log::create(&data, "registry.example/dmf").unwrap();
    (dir, data)
}

fn witness(name: &str, seed: u8) -> CosignerKey {
    CosignerKey::from_seed(name, [seed; 32]).unwrap()
}

fn vkey(name: &str, seed: u8) -> CosignerVerifier {
    witness(name, seed).verifier()
}

fn url(text: &str) -> WitnessUrl {
    WitnessUrl::parse(text).unwrap()
}

#[test]
fn without_a_file_the_registry_has_no_witnesses() {
    let (_dir, data) = registry();
    let key = dmf_ledger::log::LogFiles::open(&data).unwrap().verifier;
    let policy = registry::load(&data).unwrap();
    assert_eq!(
        policy.to_text(),
        format!("log {}\nquorum none\n", key.to_text())
    );
    let w = Witnesses::load(&data).unwrap();
    assert_eq!((w.list.len(), w.quorum), (0, 0));
    assert_eq!(w.log, key);
    assert!(!policy_path(&data).exists(), "loading writes nothing");
    let elsewhere = tempfile::tempdir().unwrap();
    assert!(matches!(
        registry::load(elsewhere.path()),
        Err(RegistryError::Log(dmf_ledger::log::LogError::Missing(_)))
    ));
}

#[test]
fn adding_and_removing_keep_the_quorum_in_range() {
    let (_dir, data) = registry();
    let mut w = Witnesses::load(&data).unwrap();
    let k = |w: &Witnesses| (w.list.len(), w.quorum);
    w.add(url("https://a.example/"), vkey("a.example/w", 1), None)
        .unwrap();
    assert_eq!(k(&w), (1, 1));
    // A quorum of all stays all.
    w.add(url("https://b.example/"), vkey("b.example/w", 2), None)
        .unwrap();
    assert_eq!(k(&w), (2, 2));
    w.add(
        url("http://c.example:8080"),
        vkey("c.example/w", 3),
        Some(2),
    )
    .unwrap();
    assert_eq!(k(&w), (3, 2));
    // A quorum set below all stays as set.
    w.add(url("https://d.example/w"), vkey("d.example/w", 4), None)
        .unwrap();
    assert_eq!(k(&w), (4, 2));
    w.save(&data).unwrap();
    let text = std::fs::read_to_string(data.join("log").join(POLICY_FILE)).unwrap();
    assert!(
        text.ends_with(
            "group witnesses 2 a.example/w b.example/w c.example/w d.example/w\nquorum witnesses\n"
        ),
        "{text}"
    );
    assert!(text.contains(&format!(
        "witness c.example/w {} http://c.example:8080\n",
        vkey("c.example/w", 3).to_text()
    )));
    assert_eq!(Witnesses::load(&data).unwrap(), w);

    let removed = w.remove(&Which::Key(vkey("d.example/w", 4)), None).unwrap();
    assert_eq!(
        (removed.witness.name.as_str(), removed.lowered_from),
        ("d.example/w", None)
    );
    w.remove(&Which::Name("c.example/w".into()), None).unwrap();
    assert_eq!(k(&w), (2, 2));
    let removed = w.remove(&Which::Name("b.example/w".into()), None).unwrap();
    assert_eq!(removed.lowered_from, Some(2));
    assert_eq!(k(&w), (1, 1));
    assert!(matches!(
        w.remove(&Which::Name("a.example/w".into()), Some(1)),
        Err(RegistryError::NoWitnessLeft)
    ));
    let removed = w.remove(&Which::Name("a.example/w".into()), None).unwrap();
    assert_eq!(removed.lowered_from, None);
    assert_eq!(k(&w), (0, 0));
    w.save(&data).unwrap();
    assert_eq!(
        registry::load(&data).unwrap(),
        Policy::parse(&format!("log {}\nquorum none\n", w.log.to_text())).unwrap()
    );
}

#[test]
fn what_the_list_refuses() {
    let (_dir, data) = registry();
    let mut w = Witnesses::load(&data).unwrap();
    w.add(url("https://a.example/"), vkey("a.example/w", 1), None)
        .unwrap();
    w.add(url("https://b.example/"), vkey("b.example/w", 2), None)
        .unwrap();
    let before = w.clone();
    let cases: Vec<(&str, Result<(), RegistryError>, &str)> = vec![
        (
            "the same key under another name",
            w.clone()
                .add(url("https://x.example/"), vkey("x.example/w", 1), None),
            "as witness a.example/w",
        ),
        (
            "another key of a listed name",
            w.clone()
                .add(url("https://x.example/"), vkey("a.example/w", 9), None),
            "a.example/w is listed already",
        ),
        (
            "the group's name",
            w.clone()
                .add(url("https://x.example/"), vkey("witnesses", 9), None),
            "may not be named",
        ),
        (
            "a quorum of 0",
            w.clone()
                .add(url("https://x.example/"), vkey("x.example/w", 9), Some(0)),
            "must be 1 to 3",
        ),
        (
            "a quorum above the witnesses",
            w.clone()
                .add(url("https://x.example/"), vkey("x.example/w", 9), Some(4)),
            "must be 1 to 3",
        ),
        (
            "removing a witness not listed",
            w.clone()
                .remove(&Which::Name("x.example/w".into()), None)
                .map(drop),
            "no witness x.example/w",
        ),
        (
            "removing with a quorum above those left",
            w.clone()
                .remove(&Which::Name("a.example/w".into()), Some(2))
                .map(drop),
            "must be 1 to 1",
        ),
    ];
    for (name, result, words) in cases {
        let e = result.expect_err(name).to_string();
        assert!(e.contains(words), "{name}: {e}");
    }
    assert_eq!(w, before);
}

#[test]
fn witness_urls() {
    for ok in [
        "https://w.example/",
        "http://127.0.0.1:8080",
        "HTTPS://W.example/witness",
    ] {
        assert_eq!(url(ok).as_str(), ok);
    }
    for (bad, reason) in [
        ("", "http"),
        ("w.example", "http"),
        ("ftp://w.example/", "http"),
        ("https://", "no host"),
        ("https:///w", "no host"),
        ("https://w.example/a b", "space"),
        ("https://w.example/?log=1", "query"),
        ("https://w.example/#x", "fragment"),
    ] {
        let e = WitnessUrl::parse(bad).unwrap_err().to_string();
        assert!(e.contains(reason), "{bad:?}: {e}");
    }
}

#[test]
fn a_policy_file_is_read_strictly_and_must_be_the_registrys() {
    let (_dir, data) = registry();
    let path = policy_path(&data);
    let key = dmf_ledger::log::LogFiles::open(&data).unwrap().verifier;
    let other_log = dmf_log::SigningKey::from_seed("registry.example/dmf", [3; 32])
        .unwrap()
        .verifier();
    std::fs::write(&path, format!("log {}\nquorum none\n", other_log.to_text())).unwrap();
    let e = registry::load(&data).unwrap_err();
    assert!(matches!(e, RegistryError::WrongLog { .. }), "{e}");
    std::fs::write(&path, "quorum none\n").unwrap();
    assert!(
        registry::load(&data)
            .unwrap_err()
            .to_string()
            .contains("none")
    );
    std::fs::write(
        &path,
        format!("log {}\nwitnesses\nquorum none\n", key.to_text()),
    )
    .unwrap();
    let e = registry::load(&data).unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    // A policy of another form is a policy, not a list the commands can change.
    let a = vkey("a.example/w", 1);
    std::fs::write(
        &path,
        format!(
            "log {}\nwitness A {} https://a.example/\nquorum A\n",
            key.to_text(),
            a.to_text()
        ),
    )
    .unwrap();
    assert!(registry::load(&data).is_ok());
    let e = Witnesses::load(&data).unwrap_err();
    assert!(matches!(e, RegistryError::Shape { .. }), "{e}");
    let wrong = Policy::parse(&format!("log {}\nquorum none\n", other_log.to_text())).unwrap();
    assert!(matches!(
        registry::save(&data, &wrong),
        Err(RegistryError::WrongLog { .. })
    ));
}

#[test]
fn the_saved_policy_is_what_verifiers_check_cosignatures_with() {
    let (_dir, data) = registry();
    let mut w = Witnesses::load(&data).unwrap();
    let (a, b, c) = (
        witness("a.example/w", 1),
        witness("b.example/w", 2),
        witness("c.example/w", 3),
    );
    for (i, k) in [&a, &b, &c].into_iter().enumerate() {
        let quorum = (i == 2).then_some(2);
        w.add(url(&format!("https://{i}.example/")), k.verifier(), quorum)
            .unwrap();
    }
    assert_eq!((w.list.len(), w.quorum), (3, 2));
    w.save(&data).unwrap();
    let policy = registry::load(&data).unwrap();
    let signer = dmf_log::SigningKey::parse(
        &std::fs::read_to_string(data.join("log").join("signing.key")).unwrap(),
    )
    .unwrap();
    let t: dmf_log::MemoryTree = (0..5u8).map(|i| dmf_log::leaf_hash(&[i])).collect();
    let checkpoint = dmf_log::Checkpoint {
        origin: signer.name().into(),
        size: 5,
        root: dmf_log::root(&t, 5).unwrap(),
        extensions: vec![],
    };
    let mut note = signer.sign(&checkpoint);
    note = add_signatures(&note, &a.cosign(&checkpoint, 1)).unwrap();
    assert!(policy.verify(&note, None).is_err(), "one of three is short");
    note = add_signatures(&note, &c.cosign(&checkpoint, 1)).unwrap();
    let verified = policy.verify(&note, None).unwrap();
    let names: BTreeSet<String> = verified.cosigned.into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["a.example/w", "c.example/w"]
            .map(str::to_owned)
            .into_iter()
            .collect()
    );
}
