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

mod short_codes {
    use proptest::prelude::*;

    use crate::letter::{
        ALPHABET, AnyCode, CodeError, LetterCode, SHORT_LEN, ShortCode, check_value,
    };

    fn key(seed: u8) -> dmf_log::SigningKey {
        dmf_log::SigningKey::from_seed("example.org/dmf", [seed; 32]).unwrap()
    }

    /// A code word from fifteen data values: the data and its check character.
    fn word(data: &[u8]) -> Vec<u8> {
        let mut w = data.to_vec();
        w.push(check_value(data));
        w
    }

    fn text(values: &[u8]) -> String {
        values
            .iter()
            .map(|&v| ALPHABET[v as usize] as char)
            .collect()
    }

    /// A valid code word with the values given at the positions given (the check character's
    /// included), found by trying each value at a free data position.
    fn word_with(given: &[(usize, u8)]) -> Vec<u8> {
        let mut data = [0u8; SHORT_LEN - 1];
        for &(at, v) in given {
            if at < data.len() {
                data[at] = v;
            }
        }
        let free = (0..data.len())
            .find(|i| given.iter().all(|(at, _)| at != i))
            .unwrap();
        (0..32)
            .map(|v| {
                data[free] = v;
                word(&data)
            })
            .find(|w| given.iter().all(|&(at, v)| w[at] == v))
            .expect("the free value reaches every check character")
    }

    /// The check character is proven on every change, not on samples: because the check is
    /// linear, whether a change is caught depends on the position and the two values alone,
    /// and every position with every pair of values is tried here, for the one character
    /// changed and for two neighbours swapped.
    #[test]
    fn every_single_change_and_neighbour_swap_is_caught_exhaustively() {
        let mut tried = 0;
        for at in 0..SHORT_LEN {
            for a in 0..32u8 {
                for b in (0..32u8).filter(|&b| b != a) {
                    let mut w = word_with(&[(at, a)]);
                    assert_eq!(ShortCode::parse(&text(&w)).map(|_| ()), Ok(()));
                    w[at] = b;
                    assert_eq!(ShortCode::parse(&text(&w)), Err(CodeError::Typo));
                    tried += 1;
                    if at + 1 < SHORT_LEN {
                        let mut w = word_with(&[(at, a), (at + 1, b)]);
                        w.swap(at, at + 1);
                        assert_eq!(ShortCode::parse(&text(&w)), Err(CodeError::Typo));
                        tried += 1;
                    }
                }
            }
        }
        assert_eq!(tried, 16 * 32 * 31 + 15 * 32 * 31);
    }

    /// Regression (issue 23): the letter's code was 117 characters, too long to type.
    #[test]
    fn the_letter_code_was_117_characters() {
        let k = key(3);
        for seq in [1, 4242, (1 << 35) - 1] {
            let code = ShortCode::issue(&k, seq, "234567890").unwrap();
            assert_eq!(code.to_text().len(), 16, "{seq}");
            assert_eq!(code.to_grouped_text().len(), 19, "{seq}");
            assert!(code.verify(&k, "234567890"));
        }
        // Past the 35 bits of event number a short code holds, there is none (the letter is
        // checked by its long code).
        assert_eq!(ShortCode::issue(&k, 1 << 35, "234567890"), None);
    }

    /// A code made up with a correct check character is well formed, and the registry did not
    /// issue it: told apart from a typo.
    #[test]
    fn a_made_up_code_with_a_right_check_character_is_not_issued() {
        let k = key(3);
        let code = ShortCode::issue(&k, 7, "234567890").unwrap();
        for data in [
            [0u8; 15],
            [31; 15],
            std::array::from_fn(|i| (i * 7 % 32) as u8),
        ] {
            let made_up = ShortCode::parse(&text(&word(&data))).unwrap();
            assert!(!made_up.verify(&k, "234567890"));
        }
        // The right code for another subject, or from another key, is not this one's.
        assert!(!code.verify(&k, "234567891"));
        assert!(!code.verify(&key(4), "234567890"));
        // Characters no code has, and lengths no code has, are neither: malformed.
        let t = code.to_text();
        assert_eq!(
            ShortCode::parse(&format!("{}U", &t[..15])),
            Err(CodeError::Character { at: 15, ch: 'U' })
        );
        assert_eq!(
            ShortCode::parse(&t[..15]),
            Err(CodeError::Length { got: 15 })
        );
        assert_eq!(
            AnyCode::parse(&format!("{t}0")),
            Err(CodeError::Length { got: 17 })
        );
    }

    /// Both codes of a letter are read by the one parser: the long one by its length.
    #[test]
    fn either_code_is_read() {
        let k = key(3);
        let long = LetterCode::issue(&k, 99, "234567890");
        let short = ShortCode::issue(&k, 99, "234567890").unwrap();
        for typed in [long.to_text(), long.to_grouped_text()] {
            let any = AnyCode::parse(&typed).unwrap();
            assert_eq!(any, AnyCode::Long(long.clone()));
            assert!(any.verify(&k, "234567890"));
            assert_eq!(any.seq(), 99);
        }
        let any = AnyCode::parse(&short.to_grouped_text()).unwrap();
        assert_eq!(any, AnyCode::Short(short));
        assert!(any.verify(&k, "234567890") && !any.verify(&k, "234567891"));
        // A long code's own errors are told as such.
        let t = long.to_text();
        assert!(matches!(
            AnyCode::parse(&format!("Z{}", &t[1..])),
            Err(CodeError::Long(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Issued, printed and typed back (any case, dashes or spaces, O for 0, I or L for 1):
        /// the same code, which verifies for its subject only.
        #[test]
        fn a_short_code_reads_back_as_typed(
            seq in 0u64..(1 << 35),
            ssn in 1_000_000u32..999_999_999,
            seed in any::<u8>(),
            lower in any::<bool>(),
        ) {
            let k = key(seed);
            let subject = format!("{ssn:09}");
            let other = format!("{:09}", ssn + 1);
            let code = ShortCode::issue(&k, seq, &subject).unwrap();
            let grouped = code.to_grouped_text();
            let mut typed = grouped.replace('-', " ").replace('0', "O").replace('1', "l");
            if lower {
                typed = typed.to_lowercase();
            }
            for t in [code.to_text(), grouped, typed] {
                let back = ShortCode::parse(&t).unwrap();
                prop_assert_eq!(back, code);
                prop_assert_eq!(back.seq, seq);
                prop_assert!(back.verify(&k, &subject));
                prop_assert!(!back.verify(&k, &other));
            }
        }

        /// Every single-character change and every swap of two neighbours of an issued code is
        /// reported as a typing mistake: never as a code not issued, never as valid.
        #[test]
        fn a_typo_in_an_issued_code_is_a_typo(
            seq in 0u64..(1 << 35),
            ssn in 1_000_000u32..999_999_999,
        ) {
            let k = key(5);
            let text = ShortCode::issue(&k, seq, ssn).unwrap().to_text().into_bytes();
            for at in 0..text.len() {
                for &c in ALPHABET.iter().filter(|&&c| c != text[at]) {
                    let mut t = text.clone();
                    t[at] = c;
                    let t = String::from_utf8(t).unwrap();
                    prop_assert_eq!(AnyCode::parse(&t), Err(CodeError::Typo), "{}", t);
                }
                if at + 1 < text.len() && text[at] != text[at + 1] {
                    let mut t = text.clone();
                    t.swap(at, at + 1);
                    let t = String::from_utf8(t).unwrap();
                    prop_assert_eq!(AnyCode::parse(&t), Err(CodeError::Typo), "{}", t);
                }
            }
        }
    }
}
