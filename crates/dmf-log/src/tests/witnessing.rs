//! Cosignatures, policies, the witness protocol's texts and proof files.

use std::collections::BTreeSet;

use crate::*;

const LOG: &str = "example.org/dmf";

fn log_key() -> SigningKey {
    SigningKey::from_seed(LOG, [7; 32]).unwrap()
}

fn witness(name: &str, seed: u8) -> CosignerKey {
    CosignerKey::from_seed(name, [seed; 32]).unwrap()
}

fn tree(n: usize) -> MemoryTree {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn checkpoint(t: &MemoryTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: LOG.into(),
        size,
        root: root(t, size).unwrap(),
        extensions: Vec::new(),
    }
}

/// The log's note with each witness's cosignature added.
fn cosigned(c: &Checkpoint, witnesses: &[&CosignerKey]) -> String {
    let mut note = log_key().sign(c);
    for w in witnesses {
        note = add_signatures(&note, &w.cosign(c, 1_765_000_000)).unwrap();
    }
    note
}

#[test]
fn a_cosignature_opens_with_its_key_and_time() {
    let t = tree(10);
    let c = checkpoint(&t, 10);
    let w = witness("witness.example/w1", 3);
    let note = cosigned(&c, &[&w]);
    assert_eq!(
        open_cosignature(&note, &w.verifier()).unwrap(),
        (1_765_000_000, c.clone())
    );
    // The log's own signature still opens, and the witness's line is not the log's.
    assert_eq!(open_checkpoint(&note, &log_key().verifier()).unwrap(), c);
    let other = witness("witness.example/w1", 4);
    assert!(matches!(
        open_cosignature(&note, &other.verifier()),
        Err(NoteError::NoSignature { .. })
    ));
    // A changed body fails every signature.
    let forged = note.replacen("\n10\n", "\n11\n", 1);
    assert!(matches!(
        open_cosignature(&forged, &w.verifier()),
        Err(NoteError::BadSignature { .. })
    ));
    // A cosignature is not a note signature: the same seed as a log key does not verify it.
    let as_log = SigningKey::from_seed("witness.example/w1", [3; 32]).unwrap();
    assert!(open_checkpoint(&note, &as_log.verifier()).is_err());
}

#[test]
fn cosigner_keys_are_vkeys_of_type_4() {
    let w = witness("witness.example/w1", 3);
    let text = w.verifier().to_text();
    let decoded = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        text.rsplit('+').next().unwrap(),
    )
    .unwrap();
    assert_eq!(decoded[0], 0x04);
    assert_eq!(CosignerVerifier::parse(&text).unwrap(), w.verifier());
    assert_eq!(
        CosignerKey::parse(&w.to_text()).unwrap().verifier(),
        w.verifier()
    );
    // A log key is refused where a witness key is expected, and the other way round.
    let log = log_key().verifier().to_text();
    assert!(
        CosignerVerifier::parse(&log)
            .unwrap_err()
            .to_string()
            .contains("0x01")
    );
    assert!(
        VerifierKey::parse(&text)
            .unwrap_err()
            .to_string()
            .contains("0x04")
    );
    let renamed = text.replacen("witness.example/w1", "witness.example/w2", 1);
    assert!(CosignerVerifier::parse(&renamed).is_err());
    assert!(!format!("{w:?}").contains(&w.to_text()[12..]));
}

#[test]
fn adding_signatures_keeps_one_line_per_key() {
    let t = tree(3);
    let c = checkpoint(&t, 3);
    let w = witness("w1", 1);
    let once = cosigned(&c, &[&w]);
    let twice = add_signatures(&once, &w.cosign(&c, 1)).unwrap();
    assert_eq!(once, twice);
    assert_eq!(Note::parse(&once).unwrap().signatures.len(), 2);
    assert!(add_signatures(&once, "not a line\n").is_err());
    assert!(add_signatures(&once, w.cosign(&c, 1).trim_end()).is_err());
}

#[test]
fn policy_text_is_read_as_the_specification_writes_it() {
    let (a, b, c) = (
        witness("a.example", 1),
        witness("b.example", 2),
        witness("c.example", 3),
    );
    let text = format!(
        "# two of three\n  log {log}  https://registry.example/log/\n\n\
         witness A {a}\nwitness\tB {b} https://b.example/\nwitness C {c}\n\
         group two 2 A B C\ngroup both all two A\nquorum both\n",
        log = log_key().verifier().to_text(),
        a = a.verifier().to_text(),
        b = b.verifier().to_text(),
        c = c.verifier().to_text(),
    );
    let policy = Policy::parse(&text).unwrap();
    assert_eq!(policy.logs.len(), 1);
    assert_eq!(
        policy.witnesses[1].url.as_deref(),
        Some("https://b.example/")
    );
    assert_eq!(Policy::parse(&policy.to_text()).unwrap(), policy);
    let set = |names: &[&'static str]| names.iter().copied().collect::<BTreeSet<&str>>();
    assert!(policy.satisfied_by(&set(&["A", "B"])));
    assert!(!policy.satisfied_by(&set(&["B", "C"])), "A is required too");
    assert!(!policy.satisfied_by(&set(&["A"])));
    assert!(
        Policy::parse("quorum none\n")
            .unwrap()
            .satisfied_by(&set(&[]))
    );
}

#[test]
fn a_faulty_policy_is_refused_at_its_line() {
    let a = witness("a.example", 1).verifier().to_text();
    let b = witness("b.example", 2).verifier().to_text();
    let same_key = witness("x.example", 1).verifier().to_text();
    let cases: Vec<(String, usize, &str)> = vec![
        ("".into(), 1, "no quorum"),
        (format!("witness A {a}\n"), 2, "no quorum"),
        ("quorum A\n".into(), 1, "not defined"),
        (
            format!("witness A {a}\nquorum A\nquorum A\n"),
            3,
            "second quorum",
        ),
        (
            format!("witness A {a}\nwitness A {b}\nquorum A\n"),
            2,
            "twice",
        ),
        (
            format!("witness A {a}\nwitness B {same_key}\nquorum A\n"),
            2,
            "twice",
        ),
        (
            format!("witness A {a}\ngroup g 2 A\nquorum g\n"),
            2,
            "threshold",
        ),
        (
            format!("witness A {a}\ngroup g 0 A\nquorum g\n"),
            2,
            "threshold",
        ),
        (
            format!("witness A {a}\ngroup g 01 A\nquorum g\n"),
            2,
            "threshold",
        ),
        (
            format!("witness A {a}\ngroup g any A A\nquorum g\n"),
            2,
            "twice",
        ),
        (
            format!("witness A {a}\ngroup g any B\nquorum g\n"),
            2,
            "not defined",
        ),
        (
            format!("witness A {a}\ngroup g any\nquorum g\n"),
            2,
            "at least one",
        ),
        (format!("witness none {a}\nquorum none\n"), 1, "reserved"),
        (
            format!("witness A {a}\ngroup g any none\nquorum g\n"),
            2,
            "not defined",
        ),
        ("log abc\nquorum none\n".into(), 1, "key"),
        (format!("log {a}\nquorum none\n"), 1, "0x04"),
        (
            format!("witness A {}\nquorum A\n", log_key().verifier().to_text()),
            1,
            "0x01",
        ),
        ("quorum none\nwitnesses x\n".into(), 2, "unknown line"),
        ("quorum none\r\n".into(), 1, "control"),
    ];
    for (text, line, reason) in cases {
        let e = Policy::parse(&text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.reason.contains(reason), "{text:?}: {e}");
    }
}

#[test]
fn a_checkpoint_counts_only_with_its_log_and_a_quorum() {
    let t = tree(20);
    let c = checkpoint(&t, 20);
    let (a, b) = (witness("a.example", 1), witness("b.example", 2));
    let policy = Policy::parse(&format!(
        "log {}\nwitness A {}\nwitness B {}\ngroup g all A B\nquorum g\n",
        log_key().verifier().to_text(),
        a.verifier().to_text(),
        b.verifier().to_text()
    ))
    .unwrap();
    let both = cosigned(&c, &[&a, &b]);
    let verified = policy.verify(&both, None).unwrap();
    assert_eq!(verified.checkpoint, c);
    assert_eq!(verified.cosigned.len(), 2);
    let one = cosigned(&c, &[&a]);
    assert!(matches!(
        policy.verify(&one, None),
        Err(PolicyCheckError::NoQuorum { got: 1, .. })
    ));
    // A cosignature over another checkpoint, pasted in, does not count.
    let other = checkpoint(&t, 19);
    let pasted = add_signatures(&one, &b.cosign(&other, 5)).unwrap();
    assert!(policy.verify(&pasted, None).is_err());
    // Another log's note is refused even with both cosignatures.
    let stranger = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    let mut note = stranger.sign(&c);
    for w in [&a, &b] {
        note = add_signatures(&note, &w.cosign(&c, 1)).unwrap();
    }
    assert!(matches!(
        policy.verify(&note, None),
        Err(PolicyCheckError::NoLog(_))
    ));
    // A policy without logs takes the log key given.
    let no_log = Policy::parse("quorum none\n").unwrap();
    assert!(no_log.verify(&both, Some(&log_key().verifier())).is_ok());
    assert!(no_log.verify(&both, None).is_err());
}

#[test]
fn add_checkpoint_bodies_round_trip_and_refuse_what_the_protocol_forbids() {
    let t = tree(30);
    let proof = consistency_proof(&t, 12, 30).unwrap();
    let request = AddCheckpoint {
        old: 12,
        proof: proof.clone(),
        note: log_key().sign(&checkpoint(&t, 30)),
    };
    let text = request.to_text();
    assert!(text.starts_with("old 12\n"));
    assert_eq!(AddCheckpoint::parse(&text).unwrap(), request);
    let first = AddCheckpoint {
        old: 0,
        proof: vec![],
        note: request.note.clone(),
    };
    assert_eq!(AddCheckpoint::parse(&first.to_text()).unwrap(), first);
    let hash = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [1u8; 32]);
    let cases = [
        ("".to_owned(), 1),
        ("old 012\n\nx".to_owned(), 1),
        ("old -1\n\nx".to_owned(), 1),
        ("size 1\n\nx".to_owned(), 1),
        (format!("old 0\n{hash}\n\nx"), 2),
        (format!("old 5\n{hash}\nnot base64\n\nx"), 3),
        (format!("old 5\n{hash}"), 2),
        (format!("old 5\n{}\nx", format!("{hash}\n").repeat(64)), 65),
    ];
    for (body, line) in cases {
        let e = AddCheckpoint::parse(&body).unwrap_err();
        assert_eq!(e.line, line, "{body:?}: {e}");
    }
    assert_eq!(parse_size_answer("42\n"), Ok(42));
    assert!(parse_size_answer("42").is_err());
    assert!(parse_size_answer("042\n").is_err());
}

#[test]
fn proof_files_carry_an_inclusion_against_a_cosigned_checkpoint() {
    let t = tree(50);
    let c = checkpoint(&t, 50);
    let a = witness("a.example", 1);
    let policy = Policy::parse(&format!(
        "log {}\nwitness A {}\nquorum A\n",
        log_key().verifier().to_text(),
        a.verifier().to_text()
    ))
    .unwrap();
    let leaf = leaf_hash(&17usize.to_be_bytes());
    let file = TlogProof {
        extra: Some(b"seq 18".to_vec()),
        index: 17,
        proof: inclusion_proof(&t, 17, 50).unwrap(),
        note: cosigned(&c, &[&a]),
    };
    let text = file.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra c2VxIDE4\nindex 17\n"));
    let back = TlogProof::parse(&text).unwrap();
    assert_eq!(back, file);
    assert_eq!(back.verify(&leaf, &policy, None).unwrap().checkpoint, c);
    // Another leaf, another index, or a checkpoint without its quorum: refused.
    assert!(back.verify(&leaf_hash(b"x"), &policy, None).is_err());
    let moved = TlogProof {
        index: 18,
        ..back.clone()
    };
    assert!(matches!(
        moved.verify(&leaf, &policy, None),
        Err(ProofFileError::Inclusion { index: 18, .. })
    ));
    let bare = TlogProof {
        note: log_key().sign(&c),
        ..back.clone()
    };
    assert!(matches!(
        bare.verify(&leaf, &policy, None),
        Err(ProofFileError::Policy(PolicyCheckError::NoQuorum { .. }))
    ));
    let plain = TlogProof {
        extra: None,
        ..back
    };
    assert_eq!(TlogProof::parse(&plain.to_text()).unwrap(), plain);
    for (text, line) in [
        ("c2sp.org/tlog-proof@v2\n", 1),
        ("c2sp.org/tlog-proof@v1\nindex x\n\n", 2),
        ("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n", 2),
        ("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", 3),
        ("c2sp.org/tlog-proof@v1\nindex 1\n", 3),
    ] {
        assert_eq!(TlogProof::parse(text).unwrap_err().line, line, "{text:?}");
    }
}
