//! C2SP checkpoints and signed notes of `dmf_log::note`: `Checkpoint::parse_body`,
//! `open_checkpoint` under a fixed key, `VerifierKey::parse` and `SigningKey::parse`.
//!
//! The first byte picks what the rest (as text) is fed to:
//! 0. a checkpoint body: a parsed body formats back to the same text;
//! 1. a signed note, opened with the fixed key: what opens is the body the note starts with;
//! 2. a checkpoint made of the text, signed with the fixed key: it opens to itself when its
//!    body parses, and a note changed in any one byte does not open;
//! 3. a verifier key text: a parsed key formats to a text that parses to the same key;
//! 4. a signing key text: likewise, and its signatures open with its verifier.

#![no_main]

use std::sync::OnceLock;

use dmf_log::{Checkpoint, SigningKey, VerifierKey, open_checkpoint};
use libfuzzer_sys::fuzz_target;

fn signer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_seed("fuzz.example/log", [7; 32]).expect("a key"))
}

fn other() -> &'static VerifierKey {
    static KEY: OnceLock<VerifierKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::from_seed("fuzz.example/other", [8; 32])
            .expect("a key")
            .verifier()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                body(text);
            }
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                note(text);
            }
        }
        2 => signed(rest),
        3 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                verifier_key(text);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                signing_key(text);
            }
        }
    }
});

fn body(text: &str) {
    if let Ok(cp) = Checkpoint::parse_body(text) {
        assert_eq!(cp.body(), text, "a parsed body formats back to itself");
        assert!(!cp.origin.is_empty());
    }
}

fn note(text: &str) {
    let verifier = signer().verifier();
    if let Ok(cp) = open_checkpoint(text, &verifier) {
        let body = cp.body();
        assert!(
            text.starts_with(&body),
            "the note opens to the body it carries"
        );
        assert_eq!(text.as_bytes().get(body.len()), Some(&b'\n'));
        assert_eq!(Checkpoint::parse_body(&body), Ok(cp.clone()));
        // The note the fixed key makes of it opens too.
        assert_eq!(open_checkpoint(&signer().sign(&cp), &verifier), Ok(cp));
    }
    let _ = open_checkpoint(text, other());
}

fn signed(rest: &[u8]) {
    // Layout: 8 bytes of size, 2 bytes of where to change the note, then text lines: origin,
    // then extensions; the root is the text's bytes folded into 32.
    if rest.len() < 10 {
        return;
    }
    let size = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
    let at = usize::from(u16::from_le_bytes([rest[8], rest[9]]));
    let Ok(text) = std::str::from_utf8(&rest[10..]) else {
        return;
    };
    let mut root = [0u8; 32];
    for (i, b) in text.bytes().enumerate() {
        root[i % 32] ^= b.rotate_left(i as u32 % 8);
    }
    let mut lines = text.split('\n');
    let cp = Checkpoint {
        origin: lines.next().unwrap_or_default().to_owned(),
        size,
        root,
        extensions: lines.map(str::to_owned).collect(),
    };
    let note = signer().sign(&cp);
    let verifier = signer().verifier();
    let parsed = Checkpoint::parse_body(&cp.body());
    match open_checkpoint(&note, &verifier) {
        Ok(opened) => {
            assert_eq!(opened, cp);
            assert_eq!(parsed, Ok(cp.clone()));
        }
        Err(e) => assert!(parsed.is_err(), "a valid body signed does not open: {e}"),
    }
    assert!(
        open_checkpoint(&note, other()).is_err(),
        "opens with another key"
    );

    // One byte changed: never opens.
    let mut bytes = note.clone().into_bytes();
    let at = at % bytes.len();
    bytes[at] = bytes[at].wrapping_add(1 + (size % 255) as u8);
    if let Ok(changed) = String::from_utf8(bytes)
        && changed != note
    {
        assert!(
            open_checkpoint(&changed, &verifier).is_err(),
            "a note changed at byte {at} still opens: {changed:?}"
        );
    }
}

fn verifier_key(text: &str) {
    if let Ok(key) = VerifierKey::parse(text) {
        let again = VerifierKey::parse(&key.to_text()).expect("a formatted key parses");
        assert_eq!(again, key);
        assert_eq!(again.to_text(), key.to_text());
        assert!(!key.name().is_empty());
    }
}

fn signing_key(text: &str) {
    if let Ok(key) = SigningKey::parse(text) {
        let again = SigningKey::parse(&key.to_text()).expect("a formatted key parses");
        assert_eq!(again.to_text(), key.to_text());
        assert_eq!(again.verifier(), key.verifier());
        let verifier = VerifierKey::parse(&key.verifier().to_text()).expect("its verifier");
        let cp = Checkpoint {
            origin: "fuzz.example/log".into(),
            size: 1,
            root: [1; 32],
            extensions: vec![],
        };
        assert_eq!(open_checkpoint(&key.sign(&cp), &verifier), Ok(cp));
        let signature = key.sign_message("fuzz", b"message");
        assert!(verifier.verify_message("fuzz", b"message", &signature));
        assert!(!verifier.verify_message("fuzz", b"massage", &signature));
    }
}
