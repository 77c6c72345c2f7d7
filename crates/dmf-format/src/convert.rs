//! DMF records as CSV and NDJSON rows: ISO 8601 dates (`YYYY-MM` or `YYYY` when partial) and
//! SSNs as nine bare digits; CSV cells neutralised for spreadsheets (`docs/CSV.md`).

use std::io::{self, Write};

use dmf_model::{PartialDate, VerificationLevel};

use crate::DmfRecord;

/// Column names of the CSV form, also the keys of the NDJSON form.
pub const COLUMNS: [&str; 12] = [
    "change",
    "ssn",
    "last",
    "suffix",
    "first",
    "middle",
    "verification",
    "dod",
    "dob",
    "state_code",
    "residence_zip",
    "payment_zip",
];

/// The text values of a record, in [`COLUMNS`] order; empty for absent values.
fn values(rec: &DmfRecord) -> [String; 12] {
    let date = |d: Option<PartialDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let verification = match rec.verification() {
        VerificationLevel::None => "",
        VerificationLevel::Verified => "V",
        VerificationLevel::ProofSeen => "P",
    };
    [
        rec.change().name().to_owned(),
        rec.ssn().to_string(),
        rec.last().to_owned(),
        rec.suffix().to_owned(),
        rec.first().to_owned(),
        rec.middle().to_owned(),
        verification.to_owned(),
        date(rec.dod()),
        date(rec.dob()),
        rec.state_code().unwrap_or_default().to_owned(),
        rec.residence_zip().unwrap_or_default().to_owned(),
        rec.payment_zip().unwrap_or_default().to_owned(),
    ]
}

/// Writes records as CSV with a header row.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> io::Result<CsvWriter<W>> {
        let mut inner = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        inner.write_record(COLUMNS).map_err(io::Error::other)?;
        Ok(CsvWriter { inner })
    }

    /// Writes one record; a name a spreadsheet would read as a formula is neutralised
    /// ([`crate::spreadsheet`]).
    pub fn write(&mut self, rec: &DmfRecord) -> io::Result<()> {
        crate::spreadsheet::write_row(&mut self.inner, values(rec)).map_err(io::Error::other)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// Appends one record as a JSON object and a newline; absent values are left out.
pub fn write_ndjson(rec: &DmfRecord, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    for (key, value) in COLUMNS.iter().zip(values(rec)) {
        if value.is_empty() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json_string(key, out);
        out.push(b':');
        json_string(&value, out);
    }
    out.extend_from_slice(b"}\n");
}

/// Appends `s` as a JSON string literal.
pub fn json_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}
