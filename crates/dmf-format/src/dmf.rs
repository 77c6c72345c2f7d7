//! The DMF fixed-width record: 100 characters a line, parsed into typed fields and written back
//! byte for byte.
//!
//! Layout (1-based columns): change code 1, SSN 2-10, last name 11-30, suffix 31-34, first name
//! 35-49, middle name 50-64, verification 65, date of death 66-73 and date of birth 74-81
//! (`MMDDCCYY`, `00` for an unknown month or day), state 82-83, ZIP of residence 84-88, ZIP of
//! lump-sum payment 89-93, blank 94-100. Lines end in LF or CR LF. A line shorter than 100
//! characters (a copy with trailing blanks stripped) reads as if padded with blanks.

use std::fmt;
use std::io::{self, Read};
use std::ops::Range;

use std::collections::BTreeMap;

use dmf_model::{
    DateError, Death, PartialDate, PersonName, Ssn, SsnDigits, SsnError, VerificationLevel,
};

/// Characters in a record, without its line end.
pub const RECORD_LEN: usize = 100;

/// Column 1: what an update file does with the record; blank in a full file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeCode {
    /// Blank: a record of a full file.
    Full,
    /// `A`: add the record.
    Add,
    /// `C`: replace the SSN's record, keeping earlier values where this one is blank.
    Change,
    /// `D`: remove the SSN's record (how a wrongly listed person is taken off).
    Delete,
}

impl ChangeCode {
    pub const ALL: [ChangeCode; 4] = [
        ChangeCode::Full,
        ChangeCode::Add,
        ChangeCode::Change,
        ChangeCode::Delete,
    ];

    pub fn code(self) -> u8 {
        match self {
            ChangeCode::Full => b' ',
            ChangeCode::Add => b'A',
            ChangeCode::Change => b'C',
            ChangeCode::Delete => b'D',
        }
    }

    pub fn from_code(code: u8) -> Option<ChangeCode> {
        match code {
            b' ' => Some(ChangeCode::Full),
            b'A' => Some(ChangeCode::Add),
            b'C' => Some(ChangeCode::Change),
            b'D' => Some(ChangeCode::Delete),
            _ => None,
        }
    }

    /// The name used in summaries and converted files: `full`, `add`, `change`, `delete`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeCode::Full => "full",
            ChangeCode::Add => "add",
            ChangeCode::Change => "change",
            ChangeCode::Delete => "delete",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A field of the record, with its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ChangeCode,
    Ssn,
    LastName,
    Suffix,
    FirstName,
    MiddleName,
    Verification,
    DateOfDeath,
    DateOfBirth,
    StateCode,
    ResidenceZip,
    PaymentZip,
    Filler,
    /// The line as a whole (its length).
    Line,
}

impl Field {
    /// 0-based byte range in the record.
    pub fn range(self) -> Range<usize> {
        match self {
            Field::ChangeCode => 0..1,
            Field::Ssn => 1..10,
            Field::LastName => 10..30,
            Field::Suffix => 30..34,
            Field::FirstName => 34..49,
            Field::MiddleName => 49..64,
            Field::Verification => 64..65,
            Field::DateOfDeath => 65..73,
            Field::DateOfBirth => 73..81,
            Field::StateCode => 81..83,
            Field::ResidenceZip => 83..88,
            Field::PaymentZip => 88..93,
            Field::Filler => 93..100,
            Field::Line => 0..RECORD_LEN,
        }
    }

    /// 1-based first and last column, as the published layout numbers them.
    pub fn columns(self) -> (usize, usize) {
        let r = self.range();
        (r.start + 1, r.end)
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::ChangeCode => "change code",
            Field::Ssn => "ssn",
            Field::LastName => "last name",
            Field::Suffix => "suffix",
            Field::FirstName => "first name",
            Field::MiddleName => "middle name",
            Field::Verification => "verification",
            Field::DateOfDeath => "date of death",
            Field::DateOfBirth => "date of birth",
            Field::StateCode => "state code",
            Field::ResidenceZip => "residence zip",
            Field::PaymentZip => "payment zip",
            Field::Filler => "filler",
            Field::Line => "line",
        }
    }
}

/// Why a field is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("the line is {0} characters long, a record has 100")]
    TooLong(usize),
    #[error("the line is empty")]
    EmptyLine,
    #[error("byte 0x{byte:02X} at column {column} is not printable ASCII")]
    NotPrintable { column: usize, byte: u8 },
    #[error("{0:?} is not a change code (blank, A, C or D)")]
    ChangeCode(char),
    #[error("{0}")]
    Ssn(SsnError),
    #[error("{0}")]
    Date(DateError),
    #[error("it is blank")]
    Blank,
    #[error("{0:?} is not a verification code (V, P or blank)")]
    Verification(char),
    #[error("{0:?} is neither blank nor 2 digits")]
    StateCode(String),
    #[error("{0:?} is neither blank nor 5 digits")]
    Zip(String),
    #[error("the name runs past the field ({0} characters)")]
    NameTooLong(usize),
}

impl Reason {
    /// What kind of fault this is, without the values: the key faults are counted by.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::TooLong(_) => "wrong length",
            Reason::EmptyLine => "empty",
            Reason::NotPrintable { .. } => "not printable",
            Reason::ChangeCode(_) => "not a change code",
            Reason::Ssn(e) => match e {
                SsnError::Length(_) | SsnError::NotDigit { .. } | SsnError::Dashes(_) => {
                    "not nine digits"
                }
                SsnError::Area000 => "area 000",
                SsnError::Area666 => "area 666",
                SsnError::Area9xx(_) => "area 900-999",
                SsnError::Group00 => "group 00",
                SsnError::Serial0000 => "serial 0000",
            },
            Reason::Date(DateError::NotDigits(_)) => "not digits",
            Reason::Date(DateError::Incomplete) => "incomplete",
            Reason::Date(_) => "impossible",
            Reason::Blank => "blank",
            Reason::Verification(_) => "not a verification code",
            Reason::StateCode(_) => "not a state code",
            Reason::Zip(_) => "not a zip",
            Reason::NameTooLong(_) => "too long",
        }
    }
}

/// One wrong field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub reason: Reason,
}

impl FieldError {
    /// The field and the kind of fault, as `ssn: group 00` or `last name: blank`.
    pub fn kind(&self) -> String {
        format!("{}: {}", self.field.name(), self.reason.kind())
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (from, to) = self.field.columns();
        if from == to {
            write!(f, "column {from} ({}): {}", self.field.name(), self.reason)
        } else {
            write!(
                f,
                "columns {from}-{to} ({}): {}",
                self.field.name(),
                self.reason
            )
        }
    }
}

/// Every wrong field of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: u64,
    pub errors: Vec<FieldError>,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LineError {}

/// One DMF record: the 100 characters of its line, and the typed values parsed from them.
///
/// Records come from parsing a line or from a [`Death`] (see [`DmfRecord::from_death`]). The
/// line is kept as read, so a record writes back byte for byte; it is printable ASCII, so the
/// name getters never fail.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DmfRecord {
    raw: [u8; RECORD_LEN],
    change: ChangeCode,
    ssn: Ssn,
    verification: VerificationLevel,
    dod: Option<PartialDate>,
    dob: Option<PartialDate>,
}

impl DmfRecord {
    /// The record of a death, in the DMF forms of the person's names (the identity on file, not
    /// a reporter's spelling), cut to the field widths as the published file does.
    pub fn from_death(
        change: ChangeCode,
        ssn: Ssn,
        name: &PersonName,
        dob: Option<PartialDate>,
        death: Death,
    ) -> DmfRecord {
        let mut raw = [b' '; RECORD_LEN];
        raw[0] = change.code();
        raw[Field::Ssn.range()].copy_from_slice(&ssn.digits());
        for (field, text) in [
            (Field::LastName, name.last.dmf()),
            (Field::Suffix, name.suffix.as_ref().map_or("", |s| s.dmf())),
            (Field::FirstName, name.first.dmf()),
            (
                Field::MiddleName,
                name.middle.as_ref().map_or("", |m| m.dmf()),
            ),
        ] {
            // DMF forms are printable ASCII already; cut at the width as the real file does.
            let r = field.range();
            let n = text.len().min(r.len());
            raw[r.start..r.start + n].copy_from_slice(&text.as_bytes()[..n]);
        }
        raw[64] = death.verification().code();
        raw[Field::DateOfDeath.range()].copy_from_slice(&death.dod().to_mmddccyy());
        if let Some(dob) = dob {
            raw[Field::DateOfBirth.range()].copy_from_slice(&dob.to_mmddccyy());
        }
        DmfRecord {
            raw,
            change,
            ssn,
            verification: death.verification(),
            dod: Some(death.dod()),
            dob,
        }
    }

    pub fn change(&self) -> ChangeCode {
        self.change
    }

    pub fn ssn(&self) -> Ssn {
        self.ssn
    }

    pub fn last(&self) -> &str {
        self.text(Field::LastName)
    }

    pub fn suffix(&self) -> &str {
        self.text(Field::Suffix)
    }

    pub fn first(&self) -> &str {
        self.text(Field::FirstName)
    }

    pub fn middle(&self) -> &str {
        self.text(Field::MiddleName)
    }

    pub fn verification(&self) -> VerificationLevel {
        self.verification
    }

    /// The date of death; absent only on a `D` (delete) record.
    pub fn dod(&self) -> Option<PartialDate> {
        self.dod
    }

    pub fn dob(&self) -> Option<PartialDate> {
        self.dob
    }

    /// The former state or country code (columns 82-83), when present.
    pub fn state_code(&self) -> Option<&str> {
        Some(self.text(Field::StateCode)).filter(|t| !t.is_empty())
    }

    /// The former ZIP of last residence (columns 84-88), when present.
    pub fn residence_zip(&self) -> Option<&str> {
        Some(self.text(Field::ResidenceZip)).filter(|t| !t.is_empty())
    }

    /// The former ZIP where the lump-sum payment went (columns 89-93), when present.
    pub fn payment_zip(&self) -> Option<&str> {
        Some(self.text(Field::PaymentZip)).filter(|t| !t.is_empty())
    }

    /// The record's 100 characters.
    pub fn as_bytes(&self) -> &[u8; RECORD_LEN] {
        &self.raw
    }

    /// The same record with a different change code (a full-file record turned into an update).
    pub fn with_change(mut self, change: ChangeCode) -> DmfRecord {
        self.raw[0] = change.code();
        DmfRecord { change, ..self }
    }

    /// A field's text without trailing blanks.
    fn text(&self, field: Field) -> &str {
        text(&self.raw, field)
    }
}

impl fmt::Debug for DmfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DmfRecord({:?})", String::from_utf8_lossy(&self.raw))
    }
}

/// The high bit of each byte of `w` that is below 0x20 or above 0x7E.
#[inline(always)]
fn unprintable_bits(w: u64) -> u64 {
    let below = w.wrapping_sub(ONES * 0x20) & !w;
    let above = w.wrapping_add(ONES);
    (below | above | w) & HIGH
}

/// The first byte of `line` that is not printable ASCII, if any. The common all-printable
/// case is decided without a branch per word.
#[inline]
pub(crate) fn first_unprintable(line: &[u8]) -> Option<usize> {
    let chunks = line.chunks_exact(8);
    let tail = chunks.remainder();
    let acc = chunks.fold(0, |acc, c| {
        acc | unprintable_bits(u64::from_le_bytes(c.try_into().expect("8 bytes")))
    });
    if acc == 0 && tail.iter().all(|b| (0x20..0x7F).contains(b)) {
        return None;
    }
    line.iter().position(|b| !(0x20..0x7F).contains(b))
}

#[inline]
fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b' ')
}

fn digits_or_blank(bytes: &[u8]) -> bool {
    is_blank(bytes) || bytes.iter().all(u8::is_ascii_digit)
}

/// Parses one line (without its line end) into a record, or names every wrong field.
pub fn parse_record(line: &[u8]) -> Result<DmfRecord, Vec<FieldError>> {
    let raw = padded(line)?;
    let f = parse_fields(&raw)?;
    Ok(DmfRecord {
        raw,
        change: f.change,
        ssn: f.ssn,
        verification: f.verification,
        dod: f.dod,
        dob: f.dob,
    })
}

/// The line as a full record: a copy with trailing blanks stripped reads as padded.
fn padded(line: &[u8]) -> Result<[u8; RECORD_LEN], Vec<FieldError>> {
    let reason = match line.len() {
        0 => Reason::EmptyLine,
        n if n > RECORD_LEN => Reason::TooLong(n),
        n => {
            let mut raw = [b' '; RECORD_LEN];
            raw[..n].copy_from_slice(line);
            return Ok(raw);
        }
    };
    Err(vec![FieldError {
        field: Field::Line,
        reason,
    }])
}

/// The typed values of a record, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields {
    change: ChangeCode,
    ssn: Ssn,
    verification: VerificationLevel,
    dod: Option<PartialDate>,
    dob: Option<PartialDate>,
}

/// Parses the typed fields of a line of any length, as [`parse_record`] does.
#[inline]
fn parse_line_fields(line: &[u8]) -> Result<Fields, Vec<FieldError>> {
    match <&[u8; RECORD_LEN]>::try_from(line) {
        Ok(raw) => parse_fields(raw),
        Err(_) => parse_fields(&padded(line)?),
    }
}

const FIELDS: [Field; 13] = [
    Field::ChangeCode,
    Field::Ssn,
    Field::LastName,
    Field::Suffix,
    Field::FirstName,
    Field::MiddleName,
    Field::Verification,
    Field::DateOfDeath,
    Field::DateOfBirth,
    Field::StateCode,
    Field::ResidenceZip,
    Field::PaymentZip,
    Field::Filler,
];

/// Parses a full-width record of any bytes: every wrong field is named.
#[inline]
pub(crate) fn parse_fields(rec: &[u8; RECORD_LEN]) -> Result<Fields, Vec<FieldError>> {
    match fast_fields(rec) {
        Some(fields) => Ok(fields),
        None => checked_fields(rec),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is not an ASCII digit, for printable `w` (a byte that
/// is not may disturb its neighbours' bits: the record is refused for it anyway).
#[inline(always)]
fn nondigit_bits(w: u64) -> u64 {
    // Below '0': setting the high bit and subtracting 0x30 leaves it clear. Above '9': adding
    // 0x46 sets it. Neither borrows nor carries across printable bytes.
    let below = !((w | HIGH).wrapping_sub(ONES * 0x30));
    let above = w.wrapping_add(ONES * 0x46);
    (below | above) & HIGH
}

/// The high bit of each byte of `w` that is not a blank, for printable `w`.
#[inline(always)]
fn nonblank_bits(w: u64) -> u64 {
    // A printable byte xor 0x20 is below 0x80, and adding 0x7F sets its high bit unless it is 0.
    ((w ^ (ONES * 0x20)).wrapping_add(ONES * 0x7F)) & HIGH
}

/// Month, day and year of eight digit bytes `MMDDCCYY`, two digits at a time.
#[inline(always)]
fn date_parts(w: u64) -> (u16, u8, u8) {
    let d = w & (ONES * 0x0F);
    // Each even byte becomes ten times itself plus the next: MM, DD, CC, YY.
    let pairs = (d * 10 + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let year = (pairs >> 32 & 0xFF) as u16 * 100 + (pairs >> 48) as u16;
    (year, pairs as u8, (pairs >> 16) as u8)
}

/// The common valid record, decided on whole words: every byte printable, the SSN and date of
/// death nine and eight digits, the date of birth eight digits or blank or zeros, the state and
/// ZIPs all digits or all blank, a surname starting in column 11, and valid values. `None`
/// sends the line to [`checked_fields`], which names what is wrong (or accepts the rare valid
/// forms left out here, such as a delete record without a date).
#[inline(always)]
fn fast_fields(rec: &[u8; RECORD_LEN]) -> Option<Fields> {
    let word = |at: usize| u64::from_le_bytes(rec[at..at + 8].try_into().expect("8 bytes"));
    // Byte by byte, in a form the compiler turns into vector instructions.
    let unprintable = u64::from(
        rec.iter()
            .fold(0u8, |acc, &b| acc | u8::from(b.wrapping_sub(0x20) > 0x5E)),
    );
    let (ssn_a, ssn_b, dod, dob, tail_a, tail_b) =
        (word(1), word(2), word(65), word(73), word(81), word(85));
    // State 82-83 and residence ZIP 84-88 in the word at 81; payment ZIP 89-93 in the one at 85.
    const STATE: u64 = 0x8080;
    const RESIDENCE: u64 = 0x0080_8080_8080_0000;
    const PAYMENT: u64 = 0x8080_8080_8000_0000;
    let (nd_a, nb_a, nd_b, nb_b) = (
        nondigit_bits(tail_a),
        nonblank_bits(tail_a),
        nondigit_bits(tail_b),
        nonblank_bits(tail_b),
    );
    let tail_ok = (nd_a & STATE == 0 || nb_a & STATE == 0)
        && (nd_a & RESIDENCE == 0 || nb_a & RESIDENCE == 0)
        && (nd_b & PAYMENT == 0 || nb_b & PAYMENT == 0);
    const BLANKS: u64 = ONES * 0x20;
    const ZEROS: u64 = ONES * 0x30;
    let dob_digits = nondigit_bits(dob) == 0 && dob != ZEROS;
    let dob_none = dob == BLANKS || dob == ZEROS;
    let bad = unprintable | nondigit_bits(ssn_a) | nondigit_bits(ssn_b) | nondigit_bits(dod);
    if bad != 0 || !tail_ok || !(dob_digits || dob_none) || rec[10] == b' ' {
        return None;
    }
    let change = ChangeCode::from_code(rec[0])?;
    let verification = VerificationLevel::from_code(rec[64])?;
    let d = |i: usize| u16::from(rec[i] - b'0');
    let ssn = Ssn::from_parts(
        d(1) * 100 + d(2) * 10 + d(3),
        (d(4) * 10 + d(5)) as u8,
        d(6) * 1000 + d(7) * 100 + d(8) * 10 + d(9),
    )
    .ok()?;
    let (year, month, day) = date_parts(dod);
    let dod = PartialDate::from_dmf_parts(year, month, day)?;
    let dob = if dob_none {
        None
    } else {
        let (year, month, day) = date_parts(dob);
        Some(PartialDate::from_dmf_parts(year, month, day)?)
    };
    Some(Fields {
        change,
        ssn,
        verification,
        dod: Some(dod),
        dob,
    })
}

/// [`parse_fields`] for a line the whole-record check did not pass: an unprintable byte, a
/// field out of the common forms, or a wrong value.
#[cold]
#[inline(never)]
fn checked_fields(rec: &[u8; RECORD_LEN]) -> Result<Fields, Vec<FieldError>> {
    if let Some(i) = first_unprintable(rec) {
        let field = FIELDS
            .into_iter()
            .find(|f| f.range().contains(&i))
            .unwrap_or(Field::Line);
        let reason = Reason::NotPrintable {
            column: i + 1,
            byte: rec[i],
        };
        return Err(vec![FieldError { field, reason }]);
    }
    slow_fields(rec)
}

/// Field by field, collecting every error; also the path of delete records without a date.
#[cold]
pub(crate) fn slow_fields(rec: &[u8; RECORD_LEN]) -> Result<Fields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut fail = |field: Field, reason: Reason| errors.push(FieldError { field, reason });

    let change = ChangeCode::from_code(rec[0]).unwrap_or_else(|| {
        fail(Field::ChangeCode, Reason::ChangeCode(rec[0] as char));
        ChangeCode::Full
    });
    let ssn_bytes = &rec[Field::Ssn.range()];
    let ssn = if is_blank(ssn_bytes) {
        fail(Field::Ssn, Reason::Blank);
        None
    } else {
        Ssn::parse_digits(ssn_bytes)
            .map_err(|e| fail(Field::Ssn, Reason::Ssn(e)))
            .ok()
    };
    let verification = VerificationLevel::from_code(rec[64]).unwrap_or_else(|| {
        fail(Field::Verification, Reason::Verification(rec[64] as char));
        VerificationLevel::None
    });
    let mut date = |field: Field, required: bool| -> Option<PartialDate> {
        let bytes: &[u8; 8] = rec[field.range()].try_into().expect("8 bytes");
        if is_blank(bytes) || (!required && bytes == b"00000000") {
            if required {
                fail(field, Reason::Blank);
            }
            return None;
        }
        PartialDate::parse_mmddccyy(bytes)
            .map_err(|e| fail(field, Reason::Date(e)))
            .ok()
    };
    let dod = date(Field::DateOfDeath, change != ChangeCode::Delete);
    let dob = date(Field::DateOfBirth, false);
    if is_blank(&rec[Field::LastName.range()]) {
        fail(Field::LastName, Reason::Blank);
    }
    let state = &rec[Field::StateCode.range()];
    if !digits_or_blank(state) || (state[0] == b' ') != (state[1] == b' ') {
        fail(
            Field::StateCode,
            Reason::StateCode(String::from_utf8_lossy(state).into_owned()),
        );
    }
    for field in [Field::ResidenceZip, Field::PaymentZip] {
        let zip = &rec[field.range()];
        if !digits_or_blank(zip) {
            fail(
                field,
                Reason::Zip(String::from_utf8_lossy(zip).into_owned()),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Fields {
        change,
        ssn: ssn.expect("no error"),
        verification,
        dod,
        dob,
    })
}

/// A master line read leniently: the fields that parse, and the faults of those that do not.
///
/// A real DMF file has lines with one bad field (a blank surname, an impossible date, an SSN of
/// a never-issued form). Thrown away, that person could never be matched, even by an exact SSN;
/// read leniently, the bad field is missing and the rest is kept:
///
/// - an SSN of a never-issued form keeps its nine digits ([`SsnDigits`]) to compare by;
/// - a blank or bad name is an empty name;
/// - an impossible date keeps its year, and its month if that is valid, when the year is in
///   range; otherwise it is missing;
/// - a bad verification code reads as none; bad state codes and ZIPs are not read at all.
///
/// Lines that are not DMF records are still refused by [`parse_record_lenient`]: the wrong
/// length, a byte that is not printable ASCII, a change code that is not one, or an SSN field
/// that is not nine digits (the key updates apply by). A line [`parse_record`] accepts reads
/// the same either way, with no faults.
#[derive(Clone, PartialEq, Eq)]
pub struct LenientRecord {
    raw: [u8; RECORD_LEN],
    change: ChangeCode,
    ssn: SsnDigits,
    verification: VerificationLevel,
    dod: Option<PartialDate>,
    dob: Option<PartialDate>,
    faults: Vec<FieldError>,
}

impl LenientRecord {
    pub fn change(&self) -> ChangeCode {
        self.change
    }

    /// The nine digits of the SSN field, of an issued form or not.
    pub fn ssn(&self) -> SsnDigits {
        self.ssn
    }

    /// The SSN, when of an issued form.
    pub fn issued_ssn(&self) -> Option<Ssn> {
        self.ssn.issued().ok()
    }

    pub fn last(&self) -> &str {
        text(&self.raw, Field::LastName)
    }

    pub fn suffix(&self) -> &str {
        text(&self.raw, Field::Suffix)
    }

    pub fn first(&self) -> &str {
        text(&self.raw, Field::FirstName)
    }

    pub fn middle(&self) -> &str {
        text(&self.raw, Field::MiddleName)
    }

    pub fn verification(&self) -> VerificationLevel {
        self.verification
    }

    /// The date of death, or what is left of it; absent on a delete or when unreadable.
    pub fn dod(&self) -> Option<PartialDate> {
        self.dod
    }

    /// The date of birth, or what is left of it.
    pub fn dob(&self) -> Option<PartialDate> {
        self.dob
    }

    /// The faults of the line as [`parse_record`] names them; empty for a valid record.
    pub fn faults(&self) -> &[FieldError] {
        &self.faults
    }

    /// The record's 100 characters.
    pub fn as_bytes(&self) -> &[u8; RECORD_LEN] {
        &self.raw
    }
}

impl From<DmfRecord> for LenientRecord {
    fn from(r: DmfRecord) -> LenientRecord {
        LenientRecord {
            raw: r.raw,
            change: r.change,
            ssn: r.ssn.into(),
            verification: r.verification,
            dod: r.dod,
            dob: r.dob,
            faults: Vec::new(),
        }
    }
}

impl fmt::Debug for LenientRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LenientRecord({:?}, faults: {:?})",
            String::from_utf8_lossy(&self.raw),
            self.faults
        )
    }
}

/// A field's text without trailing blanks.
fn text(raw: &[u8; RECORD_LEN], field: Field) -> &str {
    let bytes = &raw[field.range()];
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    std::str::from_utf8(&bytes[..end]).expect("records are printable ASCII")
}

/// Whether a fault makes the line no DMF record at all, rather than a record with a bad field.
fn structural(e: &FieldError) -> bool {
    matches!(e.reason, Reason::NotPrintable { .. })
        || matches!(e.field, Field::Line | Field::ChangeCode)
        || (e.field == Field::Ssn
            && matches!(
                e.reason,
                Reason::Blank | Reason::Ssn(SsnError::Length(_) | SsnError::NotDigit { .. })
            ))
}

/// What is left of a date field: the date, or its valid year and month, or nothing.
fn lenient_date(bytes: &[u8; 8]) -> Option<PartialDate> {
    if is_blank(bytes) || bytes == b"00000000" {
        return None;
    }
    if let Ok(d) = PartialDate::parse_mmddccyy(bytes) {
        return Some(d);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d = |i: usize| u16::from(bytes[i] - b'0');
    let month = (d(0) * 10 + d(1)) as u8;
    let year = d(4) * 1000 + d(5) * 100 + d(6) * 10 + d(7);
    PartialDate::new(year, (1..=12).contains(&month).then_some(month), None)
        .or_else(|_| PartialDate::new(year, None, None))
        .ok()
}

/// Parses one line (without its line end) leniently: a record with its faults, or, for a line
/// that is no DMF record at all, every wrong field. See [`LenientRecord`].
pub fn parse_record_lenient(line: &[u8]) -> Result<LenientRecord, Vec<FieldError>> {
    let raw = padded(line)?;
    let errors = match parse_fields(&raw) {
        Ok(f) => {
            return Ok(LenientRecord {
                raw,
                change: f.change,
                ssn: f.ssn.into(),
                verification: f.verification,
                dod: f.dod,
                dob: f.dob,
                faults: Vec::new(),
            });
        }
        Err(errors) => errors,
    };
    if errors.iter().any(structural) {
        return Err(errors);
    }
    let (Some(change), Ok(ssn)) = (
        ChangeCode::from_code(raw[0]),
        SsnDigits::parse_digits(&raw[Field::Ssn.range()]),
    ) else {
        return Err(errors);
    };
    let date = |field: Field| lenient_date(raw[field.range()].try_into().expect("8 bytes"));
    Ok(LenientRecord {
        raw,
        change,
        ssn,
        verification: VerificationLevel::from_code(raw[64]).unwrap_or(VerificationLevel::None),
        dod: date(Field::DateOfDeath),
        dob: date(Field::DateOfBirth),
        faults: errors,
    })
}

/// Records kept with faults, counted by kind of fault ([`FieldError::kind`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Records with at least one fault.
    pub records: u64,
    /// Faults by kind, as `ssn: group 00`; a record with two faults counts in both.
    pub by_kind: BTreeMap<String, u64>,
}

impl FaultCounts {
    /// Counts `record`'s faults, if it has any.
    pub fn add(&mut self, record: &LenientRecord) {
        if record.faults.is_empty() {
            return;
        }
        self.records += 1;
        for f in &record.faults {
            *self.by_kind.entry(f.kind()).or_default() += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// The line end a writer puts after each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// LF, as most copies of the file have it.
    #[default]
    Lf,
    /// CR LF, as the distributed files have it.
    CrLf,
}

impl LineEnding {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }
}

/// Appends one record and its line end to `out`: exactly 100 characters, then the line end.
pub fn write_record(record: &DmfRecord, ending: LineEnding, out: &mut Vec<u8>) {
    out.extend_from_slice(&record.raw);
    out.extend_from_slice(ending.bytes());
}

/// Splits the next line off `data` at `pos`: the line without its end, and where the next
/// line starts. Most records are exactly 100 characters, so that is looked at first, without
/// looking inside the 100 bytes: see [`scan_from`] for when a shorter line ends among them.
#[inline]
fn next_line(data: &[u8], pos: usize) -> (&[u8], usize, Ending) {
    let rest = &data[pos..];
    match rest.get(RECORD_LEN) {
        Some(b'\n') => return (&rest[..RECORD_LEN], pos + RECORD_LEN + 1, Ending::Lf),
        Some(b'\r') if rest.get(RECORD_LEN + 1) == Some(&b'\n') => {
            return (&rest[..RECORD_LEN], pos + RECORD_LEN + 2, Ending::CrLf);
        }
        _ => {}
    }
    search_line(data, pos)
}

/// Splits the next line off `data` at `pos` by searching for its line feed.
fn search_line(data: &[u8], pos: usize) -> (&[u8], usize, Ending) {
    let rest = &data[pos..];
    match memchr::memchr(b'\n', rest) {
        Some(i) if i > 0 && rest[i - 1] == b'\r' => (&rest[..i - 1], pos + i + 1, Ending::CrLf),
        Some(i) => (&rest[..i], pos + i + 1, Ending::Lf),
        // The last line, without a line feed: a CR at the very end is not part of the line,
        // as the streaming reader (`DmfReader`) takes it too.
        None => (
            rest.strip_suffix(b"\r").unwrap_or(rest),
            data.len(),
            Ending::None,
        ),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Lf,
    CrLf,
    None,
}

/// How a scan treats errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// Stop at the first wrong line.
    FirstError,
    /// Go through the whole input, keeping the first `keep` wrong lines (all are counted).
    AllErrors { keep: usize },
}

/// Counts of what a scan saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read (stops early in [`ScanMode::FirstError`]).
    pub lines: u64,
    /// Valid records, by change code (blank, A, C, D).
    pub by_change: [u64; 4],
    /// Lines with at least one error.
    pub error_lines: u64,
    /// Lines shorter than 100 characters (read as padded with blanks).
    pub short_lines: u64,
    pub lf_lines: u64,
    pub crlf_lines: u64,
    /// Valid records whose date of death lacks the day (or the month too).
    pub partial_dod: u64,
    /// Valid records with no date of birth.
    pub missing_dob: u64,
    /// Valid records by verification code: blank, V, P.
    pub by_verification: [u64; 3],
}

impl Summary {
    pub fn records(&self) -> u64 {
        self.by_change.iter().sum()
    }

    /// Counts a valid record.
    #[inline(always)]
    fn record(&mut self, rec: &Fields) {
        self.by_change[rec.change.index()] += 1;
        self.partial_dod += u64::from(rec.dod.is_some_and(|d| d.day().is_none()));
        self.missing_dob += u64::from(rec.dob.is_none());
        self.by_verification[rec.verification as usize] += 1;
    }

    fn add(&mut self, other: &Summary) {
        self.lines += other.lines;
        self.error_lines += other.error_lines;
        self.short_lines += other.short_lines;
        self.lf_lines += other.lf_lines;
        self.crlf_lines += other.crlf_lines;
        self.partial_dod += other.partial_dod;
        self.missing_dob += other.missing_dob;
        for (a, b) in self.by_change.iter_mut().zip(other.by_change) {
            *a += b;
        }
        for (a, b) in self.by_verification.iter_mut().zip(other.by_verification) {
            *a += b;
        }
    }
}

/// The result of checking a whole input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub summary: Summary,
    /// Wrong lines, in order, up to the number kept.
    pub errors: Vec<LineError>,
}

impl Scan {
    /// Accounts one line; returns false when the scan should stop.
    #[inline]
    fn line(&mut self, line_no: u64, line: &[u8], ending: Ending, mode: ScanMode) -> bool {
        self.parsed(line_no, line.len(), ending, parse_line_fields(line), mode)
    }

    /// Accounts one line of `len` characters, parsed.
    #[inline]
    fn parsed(
        &mut self,
        line_no: u64,
        len: usize,
        ending: Ending,
        parsed: Result<Fields, Vec<FieldError>>,
        mode: ScanMode,
    ) -> bool {
        let s = &mut self.summary;
        s.lines += 1;
        match ending {
            Ending::Lf => s.lf_lines += 1,
            Ending::CrLf => s.crlf_lines += 1,
            Ending::None => {}
        }
        match parsed {
            Ok(rec) => {
                s.short_lines += u64::from(len < RECORD_LEN);
                s.record(&rec);
                true
            }
            Err(errors) => {
                s.error_lines += 1;
                match mode {
                    ScanMode::FirstError => {
                        self.errors.push(LineError {
                            line: line_no,
                            errors,
                        });
                        false
                    }
                    ScanMode::AllErrors { keep } => {
                        if self.errors.len() < keep {
                            self.errors.push(LineError {
                                line: line_no,
                                errors,
                            });
                        }
                        true
                    }
                }
            }
        }
    }
}

/// Checks every line of `data`, numbering lines from 1.
pub fn scan(data: &[u8], mode: ScanMode) -> Scan {
    scan_from(data, 1, mode)
}

fn scan_from(data: &[u8], first_line: u64, mode: ScanMode) -> Scan {
    let mut scan = Scan::default();
    let mut pos = 0;
    let mut line_no = first_line;
    while pos < data.len() {
        // The common line, a valid record of exactly 100 characters, is counted here without
        // building a result; every other line takes the general path below.
        let rest = &data[pos..];
        if let Some((rec, end)) = rest.split_first_chunk::<RECORD_LEN>() {
            let ending = match end {
                [b'\n', ..] => Some((Ending::Lf, RECORD_LEN + 1)),
                [b'\r', b'\n', ..] => Some((Ending::CrLf, RECORD_LEN + 2)),
                _ => None,
            };
            if let Some((ending, len)) = ending
                && let Some(fields) = fast_fields(rec)
            {
                let s = &mut scan.summary;
                s.lines += 1;
                match ending {
                    Ending::Lf => s.lf_lines += 1,
                    _ => s.crlf_lines += 1,
                }
                s.record(&fields);
                pos += len;
                line_no += 1;
                continue;
            }
        }
        let (mut line, mut next, mut ending) = next_line(data, pos);
        let mut parsed = parse_line_fields(line);
        // `next_line` takes the 100 bytes before a line feed as one record without looking
        // inside them. When a shorter line ends among them (two short lines, or 99 characters
        // and CR LF) those bytes are a wrong record, holding a line feed or ending in a CR:
        // only then is the line split again by searching, as the streaming reader splits it.
        // Valid records pay nothing for the check.
        if parsed.is_err()
            && line.len() == RECORD_LEN
            && (line[RECORD_LEN - 1] == b'\r' || memchr::memchr(b'\n', line).is_some())
        {
            (line, next, ending) = search_line(data, pos);
            parsed = parse_line_fields(line);
        }
        pos = next;
        if !scan.parsed(line_no, line.len(), ending, parsed, mode) {
            break;
        }
        line_no += 1;
    }
    scan
}

/// Checks `data` on `threads` threads, each taking a run of whole lines; the result is the same
/// as [`scan`]'s.
pub fn scan_parallel(data: &[u8], mode: ScanMode, threads: usize) -> Scan {
    let threads = threads.max(1);
    if threads == 1 || data.len() < (1 << 20) {
        return scan(data, mode);
    }
    // Cut at line ends near equal shares.
    let mut cuts = vec![0];
    for k in 1..threads {
        let target = (data.len() * k / threads).max(*cuts.last().expect("non-empty"));
        let cut = memchr::memchr(b'\n', &data[target..]).map_or(data.len(), |i| target + i + 1);
        cuts.push(cut);
    }
    cuts.push(data.len());
    let parts: Vec<Scan> = std::thread::scope(|s| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let chunk = &data[w[0]..w[1]];
                s.spawn(move || scan_from(chunk, 1, mode))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan thread"))
            .collect()
    });
    let mut total = Scan::default();
    for mut part in parts {
        let offset = total.summary.lines;
        for e in &mut part.errors {
            e.line += offset;
        }
        let stopped = mode == ScanMode::FirstError && !part.errors.is_empty();
        total.summary.add(&part.summary);
        let keep = match mode {
            ScanMode::FirstError => 1,
            ScanMode::AllErrors { keep } => keep,
        };
        let room = keep.saturating_sub(total.errors.len());
        total.errors.extend(part.errors.into_iter().take(room));
        if stopped {
            break;
        }
    }
    total
}

/// Reads lines of a DMF file from any reader, in large blocks, without copying lines.
#[derive(Debug)]
pub struct DmfReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    line_no: u64,
}

/// Read size: small enough that the buffer stays in the CPU cache while lines are parsed.
const BLOCK: usize = 64 << 10;

impl<R: Read> DmfReader<R> {
    pub fn new(inner: R) -> DmfReader<R> {
        DmfReader {
            inner,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
            line_no: 0,
        }
    }

    /// The next line without its end, with its 1-based number; `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        Ok(self.next_line_with_end()?.map(|(n, line, _)| (n, line)))
    }

    fn next_line_with_end(&mut self) -> io::Result<Option<(u64, &[u8], Ending)>> {
        loop {
            let window = &self.buf[self.start..self.end];
            let found = memchr::memchr(b'\n', window);
            if found.is_none() && !self.eof {
                self.fill()?;
                continue;
            }
            if found.is_none() && self.start == self.end {
                return Ok(None);
            }
            let line_start = self.start;
            let (line_end, ending) = match found {
                Some(i) => {
                    self.start += i + 1;
                    (line_start + i, Ending::Lf)
                }
                None => {
                    self.start = self.end;
                    (self.end, Ending::None)
                }
            };
            self.line_no += 1;
            let mut line = &self.buf[line_start..line_end];
            let mut ending = ending;
            if let [rest @ .., b'\r'] = line {
                line = rest;
                if ending == Ending::Lf {
                    ending = Ending::CrLf;
                }
            }
            return Ok(Some((self.line_no, line, ending)));
        }
    }

    /// Moves the unread rest to the front and reads more; grows the buffer for a long line.
    fn fill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next record, owning its names, or the line's errors; `None` at the end of input.
    pub fn next_record(&mut self) -> io::Result<Option<Result<DmfRecord, LineError>>> {
        Ok(self.next_line()?.map(|(line_no, line)| {
            parse_record(line).map_err(|errors| LineError {
                line: line_no,
                errors,
            })
        }))
    }

    /// The next record read leniently ([`parse_record_lenient`]), or the errors of a line that
    /// is no record; `None` at the end of input.
    pub fn next_lenient(&mut self) -> io::Result<Option<Result<LenientRecord, LineError>>> {
        Ok(self.next_line()?.map(|(line_no, line)| {
            parse_record_lenient(line).map_err(|errors| LineError {
                line: line_no,
                errors,
            })
        }))
    }

    /// Checks every line, as [`scan`] does for a slice.
    pub fn scan(mut self, mode: ScanMode) -> io::Result<Scan> {
        let mut scan = Scan::default();
        while let Some((line_no, line, ending)) = self.next_line_with_end()? {
            if !scan.line(line_no, line, ending, mode) {
                break;
            }
        }
        Ok(scan)
    }
}
