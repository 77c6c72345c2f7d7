//! Tests of the ledger that need no events: letter codes, and the leaf's time and type as the
//! model's calendar and the events' encoder write them. The log, leaves, MACs and audit are
//! tested with the registry that writes the events (`dmf-registry`).

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

/// The leaf's time is written as the model's calendar writes dates, so that leaves made before
/// the ledger had a calendar of its own stay byte for byte the same.
#[test]
fn leaf_times_are_the_models_dates() {
    use crate::leaf::format_time;
    assert_eq!(format_time(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(format_time(-1), "1969-12-31T23:59:59.999Z");
    let day_ms = 86_400_000i64;
    // Every day of the supported years and a margin either side, at a time within the day.
    for days in -65_000i64..=84_000 {
        let ms = days * day_ms + 45_296_789;
        let want = dmf_model::Date::from_days_since_epoch(days as i32)
            .map_or_else(|| "0000-00-00".to_owned(), |d| d.to_string());
        assert_eq!(
            format_time(ms),
            format!("{want}T12:34:56.789Z"),
            "day {days}"
        );
    }
}

/// The event type in a leaf is escaped as the events' encoder escapes strings.
#[test]
fn leaf_types_are_escaped_as_the_encoder_escapes() {
    use crate::leaf::{EventRef, LeafField, LeafKey, leaf};
    fn no_fields(_: &[u8]) -> Result<Vec<LeafField<'_>>, &'static str> {
        Ok(Vec::new())
    }
    let key = LeafKey::new(&[7; 32]);
    for kind in [
        "death_report",
        "a\"b\\c",
        "tab\tnew\nline\rcr",
        "\u{1}\u{1f}",
        "é✓",
    ] {
        let made = leaf(
            &key,
            no_fields,
            EventRef {
                seq: 1,
                kind,
                subject: None,
                idempotency_key: None,
                recorded_at: 0,
                body: b"{}",
            },
        )
        .unwrap();
        let mut want = b"{\"v\":1,\"seq\":1,\"type\":".to_vec();
        dmf_format::convert::json_string(kind, &mut want);
        assert!(made.starts_with(&want), "{kind:?}");
    }
}
