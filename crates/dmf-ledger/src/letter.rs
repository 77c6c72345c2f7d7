//! Letters to people whose record was corrected, and their two codes. The long code carries
//! the registry's signature over the correction event and the subject the letter is about (as
//! the registry writes it: the SSN), so anyone with the public key can check it; it goes in the
//! letter's QR code. The short code, printed for people to type, holds the event and 40 bits
//! cut from the registry's signature of another message, which only the registry can check,
//! and a check character that tells a typing mistake from a code the registry never issued.
//! Neither can be moved to another subject or forged without the key.

use std::fmt::Display;

use dmf_log::{SigningKey, VerifierKey};
use dmf_store::Seq;

/// What a letter's signature is over, kept apart from every other use of the key.
pub const DOMAIN: &str = "dmf correction letter v1";

/// The format of the code's bytes.
const VERSION: u8 = 1;
/// Version, sequence number, signature.
const LEN: usize = 1 + 8 + 64;

/// Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives.
pub(crate) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A letter's long code: the correction it states and the registry's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterCode {
    pub seq: Seq,
    signature: [u8; 64],
}

/// Why a text is not a letter code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LetterError {
    #[error("character {ch:?} at position {at} is not in a letter code")]
    Character { at: usize, ch: char },
    #[error("a letter code has {expect} characters (dashes and spaces aside), this has {got}")]
    Length { expect: usize, got: usize },
    #[error("the last character of the letter code is not one a code can end with")]
    Padding,
    #[error("letter code version {0} is unknown")]
    Version(u8),
}

fn message(seq: Seq, subject: impl Display) -> Vec<u8> {
    format!("{seq}\n{subject}\n").into_bytes()
}

impl LetterCode {
    /// Signs the letter for correction event `seq` of `subject`.
    pub fn issue(signer: &SigningKey, seq: Seq, subject: impl Display) -> LetterCode {
        LetterCode {
            seq,
            signature: signer.sign_message(DOMAIN, &message(seq, subject)),
        }
    }

    /// True if the registry's key signed this code for `subject`.
    pub fn verify(&self, key: &VerifierKey, subject: impl Display) -> bool {
        key.verify_message(DOMAIN, &message(self.seq, subject), &self.signature)
    }

    /// The code as printed: base32, upper case.
    pub fn to_text(&self) -> String {
        let mut bytes = Vec::with_capacity(LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        let mut out = String::with_capacity(TEXT_LEN);
        let (mut acc, mut bits) = (0u32, 0u32);
        for b in bytes {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    /// The code in groups of four, for the printed letter.
    pub fn to_grouped_text(&self) -> String {
        let text = self.to_text();
        let groups: Vec<&str> = text
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect();
        groups.join("-")
    }

    /// Reads a code as printed or typed: any case, dashes and spaces ignored, and the letters
    /// people confuse with digits (O, I, L) read as the digits.
    pub fn parse(text: &str) -> Result<LetterCode, LetterError> {
        let values = base32_values(text).map_err(|(at, ch)| LetterError::Character { at, ch })?;
        if values.len() != TEXT_LEN {
            return Err(LetterError::Length {
                expect: TEXT_LEN,
                got: values.len(),
            });
        }
        let mut bytes = Vec::with_capacity(LEN);
        let (mut acc, mut bits) = (0u32, 0u32);
        for v in values {
            acc = (acc << 5) | u32::from(v);
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
        // The last character carries one bit beyond the bytes: it must be zero, so that each
        // code has one spelling and no changed character goes unnoticed.
        if acc & ((1 << bits) - 1) != 0 {
            return Err(LetterError::Padding);
        }
        if bytes[0] != VERSION {
            return Err(LetterError::Version(bytes[0]));
        }
        let seq = Seq::from_be_bytes(bytes[1..9].try_into().expect("8 bytes"));
        let signature = bytes[9..].try_into().expect("64 bytes");
        Ok(LetterCode { seq, signature })
    }
}

/// Characters of a code.
const TEXT_LEN: usize = (LEN * 8).div_ceil(5);

/// What a short code's check value is signed over, kept apart from the long code's message so
/// that neither signature can stand for the other.
pub const SHORT_DOMAIN: &str = "dmf correction letter short code v1";

/// Characters of a short code: fifteen of data and a check character.
pub const SHORT_LEN: usize = 16;
/// Bits of the event number a short code holds (34 billion events).
const SHORT_SEQ_BITS: u32 = 35;
/// Bits of the registry's signature kept: a made-up code passes one time in 2^40.
const SHORT_MAC_BITS: u32 = 40;

/// The code printed on a letter for people to type: the correction event's number and a check
/// value only the registry can make, derived from its Ed25519 signature (deterministic) over
/// the event and the subject, then a check character that tells a typing mistake from a code
/// the registry never issued. Sixteen characters of Crockford's base32, shown in groups of
/// four.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortCode {
    pub seq: Seq,
    mac: u64,
}

/// Either code of a letter, as read from what someone typed or scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyCode {
    /// The printed short code.
    Short(ShortCode),
    /// The signed long code (in the QR code).
    Long(LetterCode),
}

/// Why a text is not a letter's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("character {ch:?} at position {at} is not in a letter code")]
    Character { at: usize, ch: char },
    #[error("a letter code has {SHORT_LEN} characters (dashes and spaces aside), this has {got}")]
    Length { got: usize },
    /// Every character is one a code has, but the check character does not match the others:
    /// one was mistyped.
    #[error("the code has a typing mistake: its check character does not match the others")]
    Typo,
    /// A text of the long code's length that is not a long code.
    #[error("{0}")]
    Long(LetterError),
}

/// Reads typed text as base32 values: any case, dashes and spaces ignored, O as 0 and I and L
/// as 1 (the letters people confuse with those digits).
fn base32_values(text: &str) -> Result<Vec<u8>, (usize, char)> {
    let mut values = Vec::with_capacity(TEXT_LEN);
    for (at, ch) in text.chars().enumerate() {
        let v = match ch.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => 0,
            'I' | 'L' => 1,
            c => match ALPHABET.iter().position(|&a| a as char == c) {
                Some(v) => v as u8,
                None => return Err((at, ch)),
            },
        };
        values.push(v);
    }
    Ok(values)
}

/// Multiplication in GF(32), modulo x^5 + x^2 + 1.
fn gf32_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    product
}

/// The check character's value for the fifteen data values: the sum over GF(32) of each value
/// times x^(15 - position), so that the whole code, the check weighted 1, sums to zero. Every
/// weight is a distinct non-zero power of x (x has order 31): a changed character changes the
/// sum by weight × difference, never zero, and two characters swapped, at any distance, by
/// (weight₁ + weight₂) × (a + b), never zero either.
pub(crate) fn check_value(data: &[u8]) -> u8 {
    let mut sum = 0;
    // Horner's rule: ((d0·x + d1)·x + …)·x.
    for &v in data {
        sum = gf32_mul(sum ^ v, 2);
    }
    sum
}

impl ShortCode {
    /// The short code of the letter for correction event `seq` of `subject`.
    /// `None` past the event numbers a short code holds (2^35): such a letter is checked by its
    /// long code alone.
    pub fn issue(signer: &SigningKey, seq: Seq, subject: impl Display) -> Option<ShortCode> {
        if seq >> SHORT_SEQ_BITS != 0 {
            return None;
        }
        Some(ShortCode {
            seq,
            mac: short_mac(signer, seq, subject),
        })
    }

    /// True if the registry made this code for `subject`: only the holder of the key can tell,
    /// as only it can make the signature the check value is cut from.
    pub fn verify(&self, signer: &SigningKey, subject: impl Display) -> bool {
        // One comparison of two integers: no early exit to time.
        short_mac(signer, self.seq, subject) == self.mac
    }

    /// The sixteen characters, upper case, no dashes.
    pub fn to_text(&self) -> String {
        let data = self.data_values();
        let mut out: String = data.iter().map(|&v| ALPHABET[v as usize] as char).collect();
        out.push(ALPHABET[check_value(&data) as usize] as char);
        out
    }

    /// The code in four groups of four, for the printed letter.
    pub fn to_grouped_text(&self) -> String {
        let text = self.to_text();
        let groups: Vec<&str> = text
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect();
        groups.join("-")
    }

    /// Reads a short code as printed or typed (any case, dashes and spaces ignored, O, I and L
    /// read as 0, 1 and 1); a wrong check character is [`CodeError::Typo`].
    pub fn parse(text: &str) -> Result<ShortCode, CodeError> {
        let values = base32_values(text).map_err(|(at, ch)| CodeError::Character { at, ch })?;
        ShortCode::from_values(&values)
    }

    fn from_values(values: &[u8]) -> Result<ShortCode, CodeError> {
        if values.len() != SHORT_LEN {
            return Err(CodeError::Length { got: values.len() });
        }
        let (data, check) = values.split_at(SHORT_LEN - 1);
        if check_value(data) != check[0] {
            return Err(CodeError::Typo);
        }
        let n = data.iter().fold(0u128, |n, &v| (n << 5) | u128::from(v));
        let mac = (n & ((1 << SHORT_MAC_BITS) - 1)) as u64;
        Ok(ShortCode {
            seq: (n >> SHORT_MAC_BITS) as Seq ^ seq_mask(mac),
            mac,
        })
    }

    /// The fifteen data values: the event number's 35 bits, masked by the check value's (so
    /// that codes do not all begin with zeros; the mask is in the code, so nothing is hidden),
    /// then the check value's 40.
    fn data_values(&self) -> [u8; SHORT_LEN - 1] {
        let n =
            (u128::from(self.seq ^ seq_mask(self.mac)) << SHORT_MAC_BITS) | u128::from(self.mac);
        std::array::from_fn(|i| ((n >> (5 * (SHORT_LEN - 2 - i))) & 31) as u8)
    }
}

/// 35 bits stirred from the check value (by a multiplication by an odd constant, the top
/// bits kept), laid over the event number in the printed code.
fn seq_mask(mac: u64) -> u64 {
    mac.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SHORT_SEQ_BITS)
}

/// The first 40 bits of the registry's signature of the short-code message.
fn short_mac(signer: &SigningKey, seq: Seq, subject: impl Display) -> u64 {
    let signature = signer.sign_message(SHORT_DOMAIN, &message(seq, subject));
    let mut bytes = [0u8; 8];
    bytes[3..].copy_from_slice(&signature[..5]);
    u64::from_be_bytes(bytes)
}

impl AnyCode {
    /// Reads either code from what was typed or scanned: the long code by its length, any
    /// other text as a short code (the one people type, so its errors are the ones shown).
    pub fn parse(text: &str) -> Result<AnyCode, CodeError> {
        let values = base32_values(text).map_err(|(at, ch)| CodeError::Character { at, ch })?;
        if values.len() == TEXT_LEN {
            return LetterCode::parse(text)
                .map(AnyCode::Long)
                .map_err(CodeError::Long);
        }
        ShortCode::from_values(&values).map(AnyCode::Short)
    }

    /// The correction event the code names.
    pub fn seq(&self) -> Seq {
        match self {
            AnyCode::Short(c) => c.seq,
            AnyCode::Long(c) => c.seq,
        }
    }

    /// True if the registry issued this code for `subject`.
    pub fn verify(&self, signer: &SigningKey, subject: impl Display) -> bool {
        match self {
            AnyCode::Short(c) => c.verify(signer, subject),
            AnyCode::Long(c) => c.verify(&signer.verifier(), subject),
        }
    }
}
