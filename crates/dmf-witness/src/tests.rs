//! The witness against the tlog-witness protocol: every answer, restarts, concurrent requests;
//! the HTTP side in `tests/http.rs`, the registry's list in `tests/registry.rs`.

mod http;
mod registry;

use std::path::Path;

use dmf_log::{
    AddCheckpoint, Checkpoint, CosignerVerifier, MemoryTree, Note, SigningKey, add_signatures,
    consistency_proof, leaf_hash, open_cosignature, root,
};

use crate::witness::{EVIDENCE_DIR, KEY_FILE, PUBLIC_KEY_FILE, SIZE_CONTENT_TYPE};
use crate::{Answer, Witness, WitnessError};

const LOG: &str = "example.org/dmf";
const NAME: &str = "witness.example.org/w1";

fn log_key() -> SigningKey {
    SigningKey::from_seed(LOG, [7; 32]).unwrap()
}

/// A tree of `n` leaves; trees of one `branch` agree on every leaf, trees of two branches on
/// the leaves before `fork` only.
fn tree(n: u64, branch: u8, fork: u64) -> MemoryTree {
    (0..n)
        .map(|i| {
            let b = if i < fork { 0 } else { branch };
            leaf_hash(&[&i.to_be_bytes()[..], &[b]].concat())
        })
        .collect()
}

/// The main tree, and a fork of it from leaf 5.
fn main_tree() -> MemoryTree {
    tree(300, 0, 0)
}

fn forked() -> MemoryTree {
    tree(300, 1, 5)
}

fn checkpoint(t: &MemoryTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: LOG.into(),
        size,
        root: root(t, size).unwrap(),
        extensions: Vec::new(),
    }
}

fn signed(t: &MemoryTree, size: u64) -> String {
    log_key().sign(&checkpoint(t, size))
}

/// The request from `old` to `new` of tree `t`, with its real consistency proof.
fn grow(t: &MemoryTree, old: u64, new: u64) -> String {
    AddCheckpoint {
        old,
        proof: if old == 0 {
            Vec::new()
        } else {
            consistency_proof(t, old, new).unwrap()
        },
        note: signed(t, new),
    }
    .to_text()
}

fn request(old: u64, proof: Vec<dmf_log::Hash>, note: String) -> String {
    AddCheckpoint { old, proof, note }.to_text()
}

fn open(dir: &Path) -> Witness {
    Witness::open(dir, Some(NAME), vec![log_key().verifier()]).unwrap()
}

/// The witness's key as it published it.
fn published_key(dir: &Path) -> CosignerVerifier {
    CosignerVerifier::parse(&std::fs::read_to_string(dir.join(PUBLIC_KEY_FILE)).unwrap()).unwrap()
}

fn evidence(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(EVIDENCE_DIR)).unwrap().count()
}

/// A 200 answer's line is a cosignature of the request's checkpoint by the published key.
fn assert_cosigned(dir: &Path, body: &str, answer: &Answer) {
    assert_eq!(answer.status, 200, "{answer:?}");
    let sent = AddCheckpoint::parse(body).unwrap();
    let note = add_signatures(&sent.note, &answer.body).unwrap();
    let (_, cosigned) = open_cosignature(&note, &published_key(dir)).unwrap();
    let expected = Checkpoint::parse_body(Note::parse(&sent.note).unwrap().body).unwrap();
    assert_eq!(cosigned, expected);
}

/// A fresh witness that cosigned size 8 of the main tree is sent `body`: its status, a 409's
/// size body, a 200's cosignature, and whether the request was kept as evidence.
fn check(name: &str, body: &[u8], status: u16, kept: bool) {
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let first = grow(&main_tree(), 0, 8);
    assert_cosigned(dir.path(), &first, &w.add_checkpoint(first.as_bytes()));
    let answer = w.add_checkpoint(body);
    assert_eq!(answer.status, status, "{name}: {answer:?}");
    assert!(answer.body.ends_with('\n'), "{name}: {answer:?}");
    assert_eq!(answer.body.matches('\n').count(), 1, "{name}: {answer:?}");
    match status {
        200 => assert_cosigned(dir.path(), std::str::from_utf8(body).unwrap(), &answer),
        409 => {
            assert_eq!(answer.content_type, SIZE_CONTENT_TYPE, "{name}");
            assert_eq!(answer.body, "8\n", "{name}");
        }
        _ => assert!(answer.content_type.starts_with("text/plain"), "{name}"),
    }
    assert_eq!(evidence(dir.path()), usize::from(kept), "{name}: evidence");
    // A cosigned checkpoint is the state; a refusal leaves it.
    let expected = match status {
        200 => {
            let sent = AddCheckpoint::parse(std::str::from_utf8(body).unwrap()).unwrap();
            Checkpoint::parse_body(Note::parse(&sent.note).unwrap().body)
                .unwrap()
                .size
        }
        _ => 8,
    };
    assert_eq!(w.logs()[0].size, expected, "{name}: the state");
}

#[test]
fn every_answer_of_the_protocol() {
    let t = main_tree();
    let f = forked();
    let hash = |h: &dmf_log::Hash| base64_line(h);
    let proof_8_12 = consistency_proof(&t, 8, 12).unwrap();
    let stranger = SigningKey::from_seed("stranger.example/log", [9; 32]).unwrap();
    let impostor = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    let strangers_line = Note::parse(&stranger.sign(&checkpoint(&t, 12)))
        .unwrap()
        .signatures[0]
        .to_line();
    let other_origin = Checkpoint {
        origin: "stranger.example/log".into(),
        ..checkpoint(&t, 12)
    };
    let mut proof_lines = String::new();
    for h in &proof_8_12 {
        proof_lines.push_str(&hash(h));
    }
    let cases: Vec<(&str, Vec<u8>, u16, bool)> = vec![
        (
            "a consistent checkpoint",
            grow(&t, 8, 12).into(),
            200,
            false,
        ),
        (
            "a line by an unknown key beside the log's",
            request(
                8,
                proof_8_12.clone(),
                add_signatures(&signed(&t, 12), &strangers_line).unwrap(),
            )
            .into(),
            200,
            false,
        ),
        (
            "the unknown key's line first",
            request(
                8,
                proof_8_12.clone(),
                add_signatures(&stranger.sign(&checkpoint(&t, 12)), &{
                    Note::parse(&signed(&t, 12)).unwrap().signatures[0].to_line()
                })
                .unwrap(),
            )
            .into(),
            200,
            false,
        ),
        (
            "the same checkpoint again",
            request(8, vec![], signed(&t, 8)).into(),
            200,
            false,
        ),
        (
            "an origin the witness does not follow",
            request(8, proof_8_12.clone(), stranger.sign(&other_origin)).into(),
            404,
            false,
        ),
        (
            "signed by another key of the origin's name",
            request(8, proof_8_12.clone(), impostor.sign(&checkpoint(&t, 12))).into(),
            403,
            false,
        ),
        (
            "a signature that does not verify",
            request(
                8,
                proof_8_12.clone(),
                signed(&t, 12).replacen("\n12\n", "\n13\n", 1),
            )
            .into(),
            403,
            false,
        ),
        (
            "old beyond the checkpoint",
            request(20, proof_8_12.clone(), signed(&t, 12)).into(),
            400,
            false,
        ),
        (
            "no empty line",
            format!("old 8\n{proof_lines}").into(),
            400,
            false,
        ),
        (
            "64 proof lines",
            format!(
                "old 8\n{}\n{}",
                hash(&t.leaves()[0]).repeat(64),
                signed(&t, 12)
            )
            .into(),
            400,
            false,
        ),
        (
            "a proof line not in base64",
            format!("old 8\n{proof_lines}not*base64\n\n{}", signed(&t, 12)).into(),
            400,
            false,
        ),
        (
            "a proof line of 31 bytes",
            format!(
                "old 8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n\n{}",
                signed(&t, 12)
            )
            .into(),
            400,
            false,
        ),
        (
            "not UTF-8",
            [
                b"old 8\n\n".as_slice(),
                b"\xff\xfe",
                signed(&t, 12).as_bytes(),
            ]
            .concat(),
            400,
            false,
        ),
        (
            "old 0 with a proof",
            format!("old 0\n{proof_lines}\n{}", signed(&t, 12)).into(),
            400,
            false,
        ),
        (
            "old with a leading zero",
            format!("old 08\n{proof_lines}\n{}", signed(&t, 12)).into(),
            400,
            false,
        ),
        ("an empty body", Vec::new(), 400, false),
        (
            "no note",
            format!("old 8\n{proof_lines}\n").into(),
            400,
            false,
        ),
        (
            "a note without signatures",
            format!("old 8\n{proof_lines}\n{}\n", checkpoint(&t, 12).body()).into(),
            400,
            false,
        ),
        (
            "a body that is no checkpoint",
            format!("old 8\n{proof_lines}\nexample.org/dmf\ntwelve\n\n{strangers_line}").into(),
            400,
            false,
        ),
        ("a stale old size", grow(&t, 5, 12).into(), 409, false),
        (
            "old 0 after a cosignature",
            grow(&t, 0, 12).into(),
            409,
            false,
        ),
        (
            "old ahead of the witness",
            grow(&t, 10, 12).into(),
            409,
            false,
        ),
        (
            "a proof from another size",
            request(8, consistency_proof(&t, 7, 12).unwrap(), signed(&t, 12)).into(),
            422,
            true,
        ),
        (
            "a proof cut short",
            request(8, proof_8_12[1..].to_vec(), signed(&t, 12)).into(),
            422,
            true,
        ),
        (
            "no proof",
            request(8, vec![], signed(&t, 12)).into(),
            422,
            true,
        ),
        (
            "a fork, with its own proof",
            grow(&f, 8, 12).into(),
            422,
            true,
        ),
        (
            "a proof between equal sizes",
            request(8, proof_8_12[..1].to_vec(), signed(&t, 8)).into(),
            422,
            false,
        ),
        (
            "the same size with another root",
            request(8, vec![], signed(&f, 8)).into(),
            409,
            true,
        ),
    ];
    for (name, body, status, kept) in cases {
        check(name, &body, status, kept);
    }
}

fn base64_line(h: &dmf_log::Hash) -> String {
    // The request's own encoder: one hash line of a body without its old line.
    let text = AddCheckpoint {
        old: 1,
        proof: vec![*h],
        note: String::new(),
    }
    .to_text();
    text["old 1\n".len()..text.len() - 1].to_owned()
}

#[test]
fn the_first_checkpoint_is_cosigned_and_kept_with_the_key_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    assert_eq!(w.name(), NAME);
    assert_eq!(published_key(dir.path()), w.verifier());
    let body = grow(&main_tree(), 0, 5);
    let answer = w.add_checkpoint(body.as_bytes());
    assert_cosigned(dir.path(), &body, &answer);
    assert!(answer.body.starts_with(&format!("\u{2014} {NAME} ")));
    let mode = std::fs::metadata(dir.path().join(KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let log = &w.logs()[0];
    assert_eq!((log.origin.as_str(), log.size), (LOG, 5));
    assert_eq!(log.root, root(&main_tree(), 5).unwrap());
}

#[test]
fn the_key_is_made_once_and_keeps_its_name() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let logs = || vec![log_key().verifier()];
    let first = Witness::open(dir.path(), None, logs()).unwrap();
    assert!(first.name().starts_with("dmf-witness/"), "{}", first.name());
    assert_eq!(first.name().len(), "dmf-witness/".len() + 16);
    let key = first.verifier();
    // One process a folder.
    assert!(matches!(
        Witness::open(dir.path(), None, logs()),
        Err(WitnessError::Busy(_))
    ));
    drop(first);
    let again = Witness::open(dir.path(), None, logs()).unwrap();
    assert_eq!(again.verifier(), key);
    drop(again);
    let named = Witness::open(dir.path(), Some(key.name()), logs()).unwrap();
    assert_eq!(named.verifier(), key);
    drop(named);
    let e = Witness::open(dir.path(), Some("witness.example.org/other"), logs()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(key.name()) && text.contains("witness.example.org/other"),
        "{text}"
    );
    // Another witness gets another name.
    let other = tempfile::tempdir().unwrap();
    let w2 = Witness::open(other.path(), None, logs()).unwrap();
    assert_ne!(w2.name(), key.name());
    let path = dir.path().join(KEY_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        Witness::open(dir.path(), None, logs()),
        Err(WitnessError::Permissions { mode: 0o644, .. })
    ));
    assert!(matches!(
        Witness::open(other.path(), None, Vec::new()),
        Err(WitnessError::NoLogs)
    ));
    let bad = tempfile::tempdir().unwrap();
    assert!(matches!(
        Witness::open(bad.path(), Some("has space"), logs()),
        Err(WitnessError::Name(_))
    ));
}

#[test]
fn two_keys_of_one_origin_are_both_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let rotated = SigningKey::from_seed(LOG, [8; 32]).unwrap();
    let w = Witness::open(
        dir.path(),
        Some(NAME),
        vec![
            log_key().verifier(),
            rotated.verifier(),
            log_key().verifier(),
        ],
    )
    .unwrap();
    assert_eq!(w.logs().len(), 1);
    assert_eq!(w.logs()[0].keys.len(), 2);
    let t = main_tree();
    let by_rotated = request(0, vec![], rotated.sign(&checkpoint(&t, 3)));
    assert_eq!(w.add_checkpoint(by_rotated.as_bytes()).status, 200);
    assert_eq!(w.add_checkpoint(grow(&t, 3, 9).as_bytes()).status, 200);
}

#[test]
fn a_restarted_witness_holds_to_what_it_cosigned() {
    let dir = tempfile::tempdir().unwrap();
    let (t, f) = (main_tree(), forked());
    {
        let w = open(dir.path());
        assert_eq!(w.add_checkpoint(grow(&t, 0, 20).as_bytes()).status, 200);
    }
    let w = open(dir.path());
    let answer = w.add_checkpoint(grow(&t, 0, 30).as_bytes());
    assert_eq!((answer.status, answer.body.as_str()), (409, "20\n"));
    assert_eq!(answer.content_type, SIZE_CONTENT_TYPE);
    assert_eq!(w.add_checkpoint(grow(&f, 20, 30).as_bytes()).status, 422);
    let same_size = request(20, vec![], signed(&f, 20));
    assert_eq!(w.add_checkpoint(same_size.as_bytes()).status, 409);
    assert_eq!(evidence(dir.path()), 2);
    let body = grow(&t, 20, 30);
    assert_cosigned(dir.path(), &body, &w.add_checkpoint(body.as_bytes()));
    drop(w);
    let w = open(dir.path());
    assert_eq!(w.logs()[0].size, 30);
    assert_eq!(w.logs()[0].root, root(&t, 30).unwrap());
}

#[test]
fn a_damaged_state_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    {
        let w = open(dir.path());
        assert_eq!(
            w.add_checkpoint(grow(&main_tree(), 0, 4).as_bytes()).status,
            200
        );
    }
    let state = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&state, "example.org/dmf\n4\n").unwrap();
    let e = Witness::open(dir.path(), Some(NAME), vec![log_key().verifier()]).unwrap_err();
    assert!(matches!(e, WitnessError::State { .. }), "{e}");
    assert!(e.to_string().contains(&state.display().to_string()), "{e}");
}

#[test]
fn concurrent_requests_never_roll_the_state_back_nor_cosign_a_fork() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let w = open(dir.path());
    let trees = [main_tree(), forked()];
    let done = AtomicBool::new(false);
    let cosigned = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let size = w.logs()[0].size;
                assert!(size >= last, "the state went back from {last} to {size}");
                last = size;
                std::thread::yield_now();
            }
        });
        let senders: Vec<_> = (0..8u64)
            .map(|i| {
                let (w, trees, cosigned) = (&w, &trees, &cosigned);
                s.spawn(move || {
                    let t = &trees[(i % 2) as usize];
                    let mut known = 0;
                    for size in (1 + i..=260).step_by(23) {
                        loop {
                            if known > size {
                                break;
                            }
                            let answer = w.add_checkpoint(grow(t, known, size).as_bytes());
                            match answer.status {
                                200 => {
                                    cosigned
                                        .lock()
                                        .unwrap()
                                        .push((size, root(t, size).unwrap()));
                                    known = size;
                                    break;
                                }
                                409 => {
                                    let n = dmf_log::parse_size_answer(&answer.body).unwrap();
                                    if n == known {
                                        // The same size with another root: a fork.
                                        break;
                                    }
                                    known = n;
                                }
                                422 => break,
                                _ => panic!("{answer:?}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let cosigned = cosigned.into_inner().unwrap();
    assert!(cosigned.len() >= 10, "{}", cosigned.len());
    // Every two cosigned checkpoints are of one history.
    for (s1, r1) in &cosigned {
        for (s2, r2) in &cosigned {
            let one = trees
                .iter()
                .any(|t| root(t, *s1).unwrap() == *r1 && root(t, *s2).unwrap() == *r2);
            assert!(one, "sizes {s1} and {s2} were cosigned from two histories");
        }
    }
    let (largest, its_root) = *cosigned.iter().max_by_key(|(s, _)| *s).unwrap();
    let state = &w.logs()[0];
    assert_eq!((state.size, state.root), (largest, its_root));
    drop(w);
    let state = &open(dir.path()).logs()[0];
    assert_eq!((state.size, state.root), (largest, its_root));
}
