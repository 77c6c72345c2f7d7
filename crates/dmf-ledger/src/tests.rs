//! Tests of the ledger that need no events: letter codes. The log, leaves, MACs and audit
//! are tested with the registry that writes the events (`dmf-registry`).

#[test]
fn letter_codes_verify_only_for_their_correction_and_ssn() {
    use crate::letter::{LetterCode, LetterError};
    // A subject as the registry writes it: an SSN's nine digits.
    let key = dmf_log::SigningKey::from_seed("example.org/dmf", [3; 32]).unwrap();
    let ssn = "234567890";
    let code = LetterCode::issue(&key, 4242, ssn);
    let text = code.to_text();
    assert_eq!(text.len(), 117);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    );
    let v = key.verifier();
    // As printed, as typed (lower case, spaces, O for 0) and as grouped: the same code.
    for typed in [
        text.clone(),
        text.to_lowercase(),
        code.to_grouped_text(),
        code.to_grouped_text().replace('-', " ").replace('0', "O"),
    ] {
        let parsed = LetterCode::parse(&typed).unwrap();
        assert_eq!(parsed, code, "{typed}");
        assert!(parsed.verify(&v, ssn));
    }
    assert_eq!(code.seq, 4242);
    assert!(!code.verify(&v, "234567891"), "another SSN");
    let other = dmf_log::SigningKey::from_seed("example.org/dmf", [4; 32]).unwrap();
    assert!(!code.verify(&other.verifier(), ssn), "another key");
    // Every single changed character is caught: by the signature, the padding bit or the
    // version.
    let alphabet = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for i in 0..text.len() {
        let mut t = text.clone().into_bytes();
        let mut c = alphabet[(i * 7) % 32];
        if t[i] == c {
            c = alphabet[(i * 7 + 1) % 32];
        }
        t[i] = c;
        let t = String::from_utf8(t).unwrap();
        if let Ok(p) = LetterCode::parse(&t) {
            assert!(!p.verify(&v, ssn), "changed at {i}: {t}");
        }
    }
    let check = |text: &str, expect: LetterError| {
        assert_eq!(LetterCode::parse(text), Err(expect), "{text}");
    };
    check(
        "short",
        LetterError::Length {
            expect: 117,
            got: 5,
        },
    );
    check(
        &format!("{}U", &text[..116]),
        LetterError::Character { at: 116, ch: 'U' },
    );
    check(&format!("{}1", &text[..116]), LetterError::Padding);
    assert!(matches!(
        LetterCode::parse(&format!("Z{}", &text[1..])),
        Err(LetterError::Version(_))
    ));
}
