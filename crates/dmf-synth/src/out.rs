//! Byte-level writing: numbers, dates, CSV and JSON fields appended to buffers without per-field
//! allocation, and buffered files whose errors name the path.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use dmf_model::{Date, Ssn};

use crate::config::SynthError;

/// `YYYY-MM-DD`.
pub(crate) fn iso_date(d: Date) -> [u8; 10] {
    let y = d.year();
    [
        b'0' + (y / 1000 % 10) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + d.month() / 10,
        b'0' + d.month() % 10,
        b'-',
        b'0' + d.day() / 10,
        b'0' + d.day() % 10,
    ]
}

/// `YYYY-MM-DD`.
pub(crate) fn push_date(out: &mut Vec<u8>, d: Date) {
    out.extend_from_slice(&iso_date(d));
}

pub(crate) fn push_ssn(out: &mut Vec<u8>, ssn: Ssn) {
    out.extend_from_slice(&ssn.digits());
}

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A CSV field, quoted only when it holds a comma, quote or line break, and neutralised when a
/// spreadsheet would read it as a formula (an error model may put any character first).
pub(crate) fn push_csv(out: &mut Vec<u8>, s: &str) {
    let s = dmf_format::spreadsheet::neutralise(s);
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// A JSON string with its quotes, escaped per RFC 8259.
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            // UTF-8 bytes pass through: the text is valid UTF-8 already.
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// `"key":` followed by a JSON string, with a leading comma unless it is the first member.
pub(crate) fn push_json_member(out: &mut Vec<u8>, key: &str, value: &str) {
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    push_json_str(out, key);
    out.push(b':');
    push_json_str(out, value);
}

/// A file written through a large buffer; every error carries the file's path.
#[derive(Debug)]
pub(crate) struct OutFile {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl OutFile {
    pub fn create(dir: &Path, name: &str) -> Result<OutFile, SynthError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|source| SynthError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(OutFile {
            path,
            writer: BufWriter::with_capacity(1 << 20, file),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.writer
            .write_all(bytes)
            .map_err(|source| SynthError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Flushes the buffer; an error here would otherwise be lost on drop.
    pub fn finish(mut self) -> Result<(), SynthError> {
        self.writer.flush().map_err(|source| SynthError::Io {
            path: self.path.clone(),
            source,
        })
    }
}
