//! Social Security numbers: nine digits in three parts, never of a form that was never issued.

use std::fmt;
use std::str::FromStr;

/// A Social Security number of an issuable form.
///
/// Area `000`, `666` and `900`-`999`, group `00` and serial `0000` are never issued, so an `Ssn`
/// cannot hold them. Stored as the nine-digit number; displayed as nine bare digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ssn(u32);

/// Why a text is not an issuable SSN; each never-issued form names its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsnError {
    #[error("an SSN has 9 digits, found {0}")]
    Length(usize),
    #[error("an SSN has only digits, found {found:?} at position {position}")]
    NotDigit { position: usize, found: char },
    /// Nine digits with dashes elsewhere than between the parts (`123-456789`).
    #[error("an SSN is nine digits, bare or as AAA-GG-SSSS, found {0:?}")]
    Dashes(String),
    #[error("area 000 is never issued")]
    Area000,
    #[error("area 666 is never issued")]
    Area666,
    #[error("areas 900-999 are never issued (area {0})")]
    Area9xx(u16),
    #[error("group 00 is never issued")]
    Group00,
    #[error("serial 0000 is never issued")]
    Serial0000,
}

impl Ssn {
    /// Builds an SSN from its area (3 digits), group (2) and serial (4), checking the rules.
    #[inline]
    pub fn from_parts(area: u16, group: u8, serial: u16) -> Result<Ssn, SsnError> {
        match area {
            0 => return Err(SsnError::Area000),
            666 => return Err(SsnError::Area666),
            900.. => return Err(SsnError::Area9xx(area)),
            _ => {}
        }
        if group == 0 {
            return Err(SsnError::Group00);
        }
        if serial == 0 {
            return Err(SsnError::Serial0000);
        }
        if group > 99 || serial > 9999 {
            return Err(SsnError::Length(10));
        }
        Ok(Ssn(area as u32 * 1_000_000
            + group as u32 * 10_000
            + serial as u32))
    }

    /// Parses exactly nine ASCII digits (the DMF field and the project's CSV form).
    #[inline]
    pub fn parse_digits(bytes: &[u8]) -> Result<Ssn, SsnError> {
        let Ok(digits) = <&[u8; 9]>::try_from(bytes) else {
            return Err(SsnError::Length(bytes.len()));
        };
        let mut d = [0u8; 9];
        for (i, (slot, &b)) in d.iter_mut().zip(digits).enumerate() {
            *slot = b.wrapping_sub(b'0');
            if *slot > 9 {
                return Err(SsnError::NotDigit {
                    position: i + 1,
                    found: b as char,
                });
            }
        }
        // The parts directly from the digits: no division on this hot path.
        let area = d[0] as u16 * 100 + d[1] as u16 * 10 + d[2] as u16;
        let group = d[3] * 10 + d[4];
        let serial = d[5] as u16 * 1000 + d[6] as u16 * 100 + d[7] as u16 * 10 + d[8] as u16;
        Ssn::from_parts(area, group, serial)
    }

    /// Accepts a number below 10^9 if it is of an issuable form.
    pub fn from_number(n: u32) -> Result<Ssn, SsnError> {
        if n >= 1_000_000_000 {
            return Err(SsnError::Length(10));
        }
        Ssn::from_parts(
            (n / 1_000_000) as u16,
            (n / 10_000 % 100) as u8,
            (n % 10_000) as u16,
        )
    }

    pub fn area(self) -> u16 {
        (self.0 / 1_000_000) as u16
    }

    pub fn group(self) -> u8 {
        (self.0 / 10_000 % 100) as u8
    }

    pub fn serial(self) -> u16 {
        (self.0 % 10_000) as u16
    }

    /// The SSN as one number (for compact storage and indexing).
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// The nine ASCII digits.
    pub fn digits(self) -> [u8; 9] {
        let mut out = [b'0'; 9];
        let mut n = self.0;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out
    }

    /// The conventional `AAA-GG-SSSS` form, for letters and screens.
    pub fn dashed(self) -> String {
        format!(
            "{:03}-{:02}-{:04}",
            self.area(),
            self.group(),
            self.serial()
        )
    }
}

impl FromStr for Ssn {
    type Err = SsnError;

    /// Nine digits, or `AAA-GG-SSSS` with dashes; surrounding white space is ignored.
    fn from_str(s: &str) -> Result<Ssn, SsnError> {
        Ssn::parse_digits(&nine_digits(s)?)
    }
}

/// The nine digits of a text that is nine digits or `AAA-GG-SSSS` (white space around it
/// ignored). The errors count digits, not characters: `123-456789` has nine digits with a dash
/// out of place, `1234-56-789` too, and neither is reported as ten or eleven "digits".
fn nine_digits(s: &str) -> Result<[u8; 9], SsnError> {
    let s = s.trim();
    if let Some((i, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '-')
    {
        return Err(SsnError::NotDigit {
            position: i + 1,
            found: c,
        });
    }
    let b = s.as_bytes();
    let count = b.iter().filter(|b| b.is_ascii_digit()).count();
    if count != 9 {
        return Err(SsnError::Length(count));
    }
    let mut digits = [0u8; 9];
    match b.len() {
        9 => digits.copy_from_slice(b),
        11 if b[3] == b'-' && b[6] == b'-' => {
            digits[..3].copy_from_slice(&b[..3]);
            digits[3..5].copy_from_slice(&b[4..6]);
            digits[5..].copy_from_slice(&b[7..]);
        }
        _ => return Err(SsnError::Dashes(s.to_owned())),
    }
    Ok(digits)
}

impl fmt::Display for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.0)
    }
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssn({:09})", self.0)
    }
}

/// Nine digits as a file wrote them, of an issued form or not: a key to compare SSNs by, never
/// an identity.
///
/// Real DMF lines carry numbers of never-issued forms (group `00`, serial `0000`, ...), typed
/// wrong long ago; an [`Ssn`] cannot hold them, but a client row with the same nine digits is
/// still the same person on paper. Matching compares these keys; every other use wants an
/// [`Ssn`] ([`SsnDigits::issued`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SsnDigits(u32);

impl SsnDigits {
    /// Exactly nine ASCII digits, whatever rule they break.
    pub fn parse_digits(bytes: &[u8]) -> Result<SsnDigits, SsnError> {
        let Ok(digits) = <&[u8; 9]>::try_from(bytes) else {
            return Err(SsnError::Length(bytes.len()));
        };
        let mut n = 0u32;
        for (i, &b) in digits.iter().enumerate() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return Err(SsnError::NotDigit {
                    position: i + 1,
                    found: b as char,
                });
            }
            n = n * 10 + u32::from(d);
        }
        Ok(SsnDigits(n))
    }

    /// The SSN these digits are, if of an issued form; else the rule they break.
    pub fn issued(self) -> Result<Ssn, SsnError> {
        Ssn::from_number(self.0)
    }

    /// The nine digits as one number.
    pub fn as_u32(self) -> u32 {
        self.0
    }

    /// The nine ASCII digits.
    pub fn digits(self) -> [u8; 9] {
        Ssn(self.0).digits()
    }
}

impl From<Ssn> for SsnDigits {
    fn from(ssn: Ssn) -> SsnDigits {
        SsnDigits(ssn.0)
    }
}

impl FromStr for SsnDigits {
    type Err = SsnError;

    /// Nine digits, or `AAA-GG-SSSS` with dashes, as [`Ssn`] reads them, without its rules.
    fn from_str(s: &str) -> Result<SsnDigits, SsnError> {
        SsnDigits::parse_digits(&nine_digits(s)?)
    }
}

impl fmt::Display for SsnDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.0)
    }
}

impl fmt::Debug for SsnDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SsnDigits({:09})", self.0)
    }
}
