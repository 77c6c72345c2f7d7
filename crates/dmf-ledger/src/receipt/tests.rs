//! Receipts checked offline: a good one verifies, and each tampering is refused naming it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_log::{
    Checkpoint, CosignerKey, MemoryTree, Policy, SigningKey, TlogProof, add_signatures,
    inclusion_proof, root,
};
use serde_json::json;

use super::*;
use crate::leaf::{EventRef, LeafField, LeafKey};

const ORIGIN: &str = "dmf.test/registry";

fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, [7; 32]).unwrap()
}

fn leaf_key() -> LeafKey {
    LeafKey::new(&[9; 32])
}

/// The fields of the test's bodies, flat objects of strings without escapes; `source` in clear.
fn fields(body: &[u8]) -> Result<Vec<LeafField<'_>>, &'static str> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8")?;
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or("not an object")?;
    inner
        .split(',')
        .map(|pair| {
            let (k, v) = pair.split_once(':').ok_or("not a pair")?;
            let name = k.trim_matches('"');
            Ok(LeafField {
                name,
                value: v.as_bytes(),
                clear: name == "source",
            })
        })
        .collect()
}

const BODIES: [(&str, &str); 9] = [
    ("person", r#"{"ssn":"123456789","first":"Alice"}"#),
    ("person", r#"{"ssn":"234567890","first":"Bob"}"#),
    ("death_report", r#"{"ssn":"123456789","source":"state"}"#),
    ("death_report", r#"{"ssn":"234567890","source":"hospital"}"#),
    ("person", r#"{"ssn":"345678901","first":"Carol"}"#),
    ("person", r#"{"ssn":"456789012","first":"Dan"}"#),
    ("person", r#"{"ssn":"567890123","first":"Eve"}"#),
    (
        "death_report",
        r#"{"ssn":"345678901","source":"funeral_home"}"#,
    ),
    ("person", r#"{"ssn":"678901234","first":"Fay"}"#),
];

/// Event `seq`'s leaf (from 1).
fn leaf(seq: u64) -> Vec<u8> {
    let (kind, body) = BODIES[seq as usize - 1];
    crate::leaf::leaf(
        &leaf_key(),
        fields,
        EventRef {
            seq,
            kind,
            subject: None,
            idempotency_key: None,
            recorded_at: 1_795_000_000_000 + seq as i64,
            body: body.as_bytes(),
        },
    )
    .unwrap()
}

fn tree() -> MemoryTree {
    (1..=BODIES.len() as u64)
        .map(|seq| dmf_log::leaf_hash(&leaf(seq)))
        .collect()
}

fn checkpoint(size: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root(&tree(), size).unwrap(),
        extensions: Vec::new(),
    }
}

fn proof(seq: u64, size: u64, note: &str) -> TlogProof {
    TlogProof {
        extra: Some(leaf(seq)),
        index: seq - 1,
        proof: inclusion_proof(&tree(), seq - 1, size).unwrap(),
        note: note.to_owned(),
    }
}

/// The statement of an identity answer that stands on events `seqs`, each with its SSN opened,
/// against the tree of `size` leaves.
fn statement(seqs: &[u64], size: u64) -> Statement {
    let events = seqs
        .iter()
        .map(|&seq| {
            let l = PublicLeaf::parse(&leaf(seq)).unwrap();
            Stated {
                seq,
                kind: l.kind.clone(),
                openings: vec![Opening::of(&l, "ssn", br#""123456789""#).unwrap()],
            }
        })
        .collect();
    Statement {
        v: VERSION,
        origin: ORIGIN.into(),
        purpose: "identity".into(),
        query: raw(
            json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"}),
        ),
        answer: raw(json!({"purpose": "identity", "code": "X", "deceased": true})),
        time: "2026-11-23T10:00:00.000Z".into(),
        tree_size: size,
        root: crate::log::base64_hash(&checkpoint(size).root),
        events,
    }
}

fn raw(v: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&v).unwrap()
}

/// A receipt for event 3 (Alice's death report) against the tree of 8 leaves.
fn good() -> Receipt {
    let note = log_key().sign(&checkpoint(8));
    Receipt::sign(
        &log_key(),
        &statement(&[3], 8),
        note.clone(),
        &[proof(3, 8, &note)],
    )
}

fn no_witnesses() -> Policy {
    Policy::parse("quorum none\n").unwrap()
}

fn check_receipt(receipt: &Receipt, policy: &Policy, expect: &str) {
    let got = match check(receipt, &log_key().verifier(), policy) {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    assert!(got.contains(expect), "expected {expect:?}, got {got:?}");
}

/// A receipt with its statement replaced by `f` of it, signed again by the registry's key.
fn restated(f: impl FnOnce(&mut Statement)) -> Receipt {
    let mut r = good();
    let mut s = statement(&[3], 8);
    f(&mut s);
    r.statement = BASE64.encode(s.to_bytes());
    r.signature = BASE64.encode(log_key().sign_message(DOMAIN, &s.to_bytes()));
    r
}

fn edit_proof(r: &mut Receipt, f: impl FnOnce(&mut TlogProof)) {
    let mut p = TlogProof::parse(&r.proofs[0]).unwrap();
    f(&mut p);
    r.proofs[0] = p.to_text();
}

#[test]
fn a_good_receipt_verifies_and_says_what_it_proves() {
    let r = good();
    let checked = check(&r, &log_key().verifier(), &no_witnesses()).unwrap();
    assert_eq!(checked.checkpoint, checkpoint(8));
    assert_eq!(checked.leaves.len(), 1);
    assert_eq!(checked.leaves[0].seq, 3);
    assert_eq!(checked.leaves[0].clear["source"], "state");
    let words = checked.describe().join("\n");
    assert!(
        words.contains("event 3 (death_report, source state, recorded 2026-11-18T"),
        "{words}"
    );
    assert!(words.contains("in the log at size 8"), "{words}");
    assert!(words.contains("committed ssn is \"123456789\""), "{words}");
    // The answer it came with is the one it signs; an edited one is refused.
    let answer = json!({"purpose": "identity", "code": "X", "deceased": true, "receipt": {}});
    checked.check_answer(answer.as_object().unwrap()).unwrap();
    let edited = json!({"purpose": "identity", "code": "V", "deceased": false});
    assert_eq!(
        checked
            .check_answer(edited.as_object().unwrap())
            .unwrap_err()
            .to_string(),
        r#"the answer beside the receipt is not the answer its statement signs ({"code":"X","deceased":true,"purpose":"identity"})"#
    );
    // The receipt goes through JSON as an answer carries it.
    let back: Receipt = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn an_opening_is_the_leaf_keys_commitment_of_the_stored_value() {
    let s = statement(&[3], 8);
    let o = &s.events[0].openings[0];
    let recomputed = leaf_key().field_commitment(3, &o.field, o.value.get().as_bytes());
    assert_eq!(BASE64.encode(recomputed), o.commitment);
    // The statement keeps the value's raw JSON, which the commitment is over.
    let bytes = String::from_utf8(s.to_bytes()).unwrap();
    assert!(
        bytes.contains(r#""openings":[{"field":"ssn","value":"123456789","commitment":""#),
        "{bytes}"
    );
}

#[test]
fn each_tampering_is_refused_naming_it() {
    let key = log_key();
    let other_key = SigningKey::from_seed(ORIGIN, [8; 32]).unwrap();
    let note8 = key.sign(&checkpoint(8));
    let note9 = key.sign(&checkpoint(9));
    let w1 = CosignerKey::from_seed("witness.test/w1", [3; 32]).unwrap();
    let quorum = Policy::parse(&format!(
        "witness w1 {}\nquorum w1\n",
        w1.verifier().to_text()
    ))
    .unwrap();
    let none = no_witnesses();

    check_receipt(&good(), &none, "ok");

    // A byte of the statement changed.
    let mut r = good();
    let mut bytes = BASE64.decode(&r.statement).unwrap();
    let at = bytes.windows(1).position(|w| w == b"X").unwrap();
    bytes[at] = b'V';
    r.statement = BASE64.encode(&bytes);
    check_receipt(&r, &none, "the statement is not signed by the log's key");

    // Signed by another key of the same name.
    let mut r = good();
    let s = statement(&[3], 8);
    r.signature = BASE64.encode(other_key.sign_message(DOMAIN, &s.to_bytes()));
    check_receipt(&r, &none, "the statement is not signed by the log's key");

    // The log's signature, but of another domain (a letter's).
    let mut r = good();
    r.signature = BASE64.encode(key.sign_message(crate::letter::DOMAIN, &s.to_bytes()));
    check_receipt(&r, &none, "the statement is not signed by the log's key");

    // The proof of another leaf (Bob's death report, event 4).
    let mut r = good();
    r.proofs[0] = proof(4, 8, &note8).to_text();
    check_receipt(
        &r,
        &none,
        "proof 1 is of event 4 (death_report), the statement names event 3 (death_report)",
    );

    // The leaf edited: its clear source.
    let mut r = good();
    edit_proof(&mut r, |p| {
        let text = String::from_utf8(p.extra.take().unwrap()).unwrap();
        p.extra = Some(text.replace("\"state\"", "\"other\"").into_bytes());
    });
    check_receipt(
        &r,
        &none,
        "proof 1: the leaf of event 3 is not in the checkpoint's tree",
    );

    // The index moved.
    let mut r = good();
    edit_proof(&mut r, |p| p.index += 1);
    check_receipt(
        &r,
        &none,
        "proof 1 is of entry 3, but its leaf is event 3 (entry 2)",
    );

    // A hash of the inclusion proof changed.
    let mut r = good();
    edit_proof(&mut r, |p| p.proof[0][0] ^= 1);
    check_receipt(&r, &none, "is not in the checkpoint's tree");

    // No leaf carried.
    let mut r = good();
    edit_proof(&mut r, |p| p.extra = None);
    check_receipt(&r, &none, "proof 1 carries no leaf");

    // The checkpoint of another log (another key signs the same tree).
    let mut r = good();
    let foreign = other_key.sign(&checkpoint(8));
    r.checkpoint = foreign.clone();
    r.proofs[0] = proof(3, 8, &foreign).to_text();
    check_receipt(&r, &none, "the checkpoint: ");
    check_receipt(&r, &none, "has no signature by key dmf.test/registry");

    // A checkpoint without the policy's quorum, then with it.
    check_receipt(&good(), &quorum, "the quorum is not met");
    let cosigned = add_signatures(&note8, &w1.cosign(&checkpoint(8), 1_795_000_000)).unwrap();
    let mut r = good();
    r.checkpoint = cosigned.clone();
    check_receipt(&r, &quorum, "ok");
    // The proofs may carry the checkpoint with fewer signature lines: it is the same tree.
    r.proofs[0] = proof(3, 8, &cosigned).to_text();
    check_receipt(&r, &quorum, "ok");

    // An opening whose commitment is not the leaf's (event 4's SSN commitment instead).
    let r = restated(|s| {
        let other = PublicLeaf::parse(&leaf(4)).unwrap();
        s.events[0].openings[0].commitment = other.commit["ssn"].clone();
    });
    check_receipt(
        &r,
        &none,
        "the opening of ssn of event 3 is not the commitment its leaf holds",
    );
    // An opening of a field the leaf does not commit (one it holds in clear).
    let r = restated(|s| s.events[0].openings[0].field = "source".into());
    check_receipt(&r, &none, "the opening of source of event 3");

    // Proofs against two checkpoints: event 3 against 8 leaves, event 4 against 9.
    let mut s = statement(&[3, 4], 8);
    s.events[1].openings.clear();
    let r = Receipt::sign(
        &key,
        &s,
        note8.clone(),
        &[proof(3, 8, &note8), proof(4, 9, &note9)],
    );
    check_receipt(
        &r,
        &none,
        "proof 2 is against another checkpoint than the statement's",
    );
    let r = Receipt::sign(
        &key,
        &s,
        note8.clone(),
        &[proof(3, 8, &note8), proof(4, 8, &note8)],
    );
    check_receipt(&r, &none, "ok");

    // The statement names another tree than the checkpoint's.
    let mut r = good();
    r.checkpoint = note9.clone();
    check_receipt(
        &r,
        &none,
        "the statement names the tree of 8 leaves of dmf.test/registry",
    );

    // A proof left out, or one too many.
    let mut r = good();
    r.proofs.clear();
    check_receipt(
        &r,
        &none,
        "the statement names 1 events, the receipt carries 0 proofs",
    );

    // Not base64, not a signature, not a proof.
    let mut r = good();
    r.statement.push('!');
    check_receipt(&r, &none, "the receipt is malformed");
    let mut r = good();
    r.signature = BASE64.encode([0u8; 10]);
    check_receipt(&r, &none, "the signature is not 64 bytes");
    let mut r = good();
    r.proofs[0] = "c2sp.org/tlog-proof@v1\nindex x\n".into();
    check_receipt(&r, &none, "proof 1: line 2");
}

#[test]
fn an_answer_on_no_event_is_a_statement_and_its_checkpoint() {
    let note = log_key().sign(&checkpoint(8));
    let mut s = statement(&[], 8);
    s.answer = raw(json!({"purpose": "identity", "code": "1", "deceased": false}));
    let r = Receipt::sign(&log_key(), &s, note, &[]);
    let checked = check(&r, &log_key().verifier(), &no_witnesses()).unwrap();
    assert!(checked.leaves.is_empty());
    let words = checked.describe().join("\n");
    assert!(words.contains("stands on no event"), "{words}");
}

#[test]
fn a_proof_file_alone_proves_its_leaf() {
    let note = log_key().sign(&checkpoint(9));
    let text = proof(8, 9, &note).to_text();
    let entry = check_proof_file(&text, &log_key().verifier(), &no_witnesses()).unwrap();
    assert_eq!(
        (entry.leaf.seq, entry.leaf.kind.as_str()),
        (8, "death_report")
    );
    assert_eq!(entry.checkpoint.size, 9);
    let words = entry.describe();
    assert!(
        words.starts_with("event 8 (death_report, source funeral_home, recorded "),
        "{words}"
    );
    assert!(
        words.contains("is in the log dmf.test/registry at size 9"),
        "{words}"
    );

    let check_file = |text: &str, expect: &str| {
        let got = match check_proof_file(text, &log_key().verifier(), &no_witnesses()) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        assert!(got.contains(expect), "expected {expect:?}, got {got:?}");
    };
    check_file(&text, "ok");
    check_file(
        &text.replacen("index 7", "index 6", 1),
        "proof 1 is of entry 6",
    );
    let other = SigningKey::from_seed(ORIGIN, [8; 32]).unwrap();
    check_file(
        &proof(8, 9, &other.sign(&checkpoint(9))).to_text(),
        "has no signature by key",
    );
    let bare = TlogProof {
        extra: None,
        ..proof(8, 9, &note)
    };
    check_file(&bare.to_text(), "carries no leaf");
    check_file("not a proof", "not a c2sp.org/tlog-proof@v1 file");
}
