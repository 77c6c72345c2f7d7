//! Letters to people whose record was corrected: a short code, signed with the registry's key,
//! that any bank can check. The code names the correction event; the signature binds it to the
//! subject the letter is about (as the registry writes it: the SSN), so a code cannot be moved
//! to another subject or forged without the key.

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
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A letter's code: the correction it states and the registry's signature.
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
        let mut values = Vec::with_capacity(TEXT_LEN);
        for (at, ch) in text.chars().enumerate() {
            let v = match ch.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => 0,
                'I' | 'L' => 1,
                c => match ALPHABET.iter().position(|&a| a as char == c) {
                    Some(v) => v as u32,
                    None => return Err(LetterError::Character { at, ch }),
                },
            };
            values.push(v);
        }
        if values.len() != TEXT_LEN {
            return Err(LetterError::Length {
                expect: TEXT_LEN,
                got: values.len(),
            });
        }
        let mut bytes = Vec::with_capacity(LEN);
        let (mut acc, mut bits) = (0u32, 0u32);
        for v in values {
            acc = (acc << 5) | v;
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
