//! What kind of file a byte prefix is, so that a command given the wrong file names it as what
//! it is before doing any work (a numberholder CSV handed to `dmf format check` would otherwise
//! come back as one error per line, and as a master file it would match nobody).

use std::fmt;

use crate::RECORD_LEN;

/// What the first bytes of a file say it is. Only what can be told with confidence: a damaged
/// DMF file is still `Text`, so that its own reader names the bad lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// No bytes (or only blank lines).
    Empty,
    /// Fixed-width records: a first line of exactly [`RECORD_LEN`] characters.
    Dmf,
    /// Comma-separated values whose first line is a header of these columns (lower-cased).
    Csv { columns: Vec<String> },
    /// One JSON object a line.
    Ndjson,
    /// A JSON document that is not one object a line (an array, or an object over many lines).
    Json,
    /// gzip-compressed data.
    Gzip,
    /// A zip archive (also a spreadsheet saved as .xlsx).
    Zip,
    /// Bytes that are not text (a NUL among the first bytes).
    Binary,
    /// Text of no kind above; its first line is this many characters.
    Text { first_line: usize },
}

/// How many bytes [`sniff`] looks at; more are ignored.
pub const SNIFF_LEN: usize = 64 * 1024;

/// What `head` (the first bytes of a file, at most [`SNIFF_LEN`] are read) looks like.
pub fn sniff(head: &[u8]) -> FileKind {
    let head = &head[..head.len().min(SNIFF_LEN)];
    if head.starts_with(&[0x1f, 0x8b]) {
        return FileKind::Gzip;
    }
    if head.starts_with(b"PK\x03\x04") {
        return FileKind::Zip;
    }
    if head.contains(&0) {
        return FileKind::Binary;
    }
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return FileKind::Empty;
    };
    let line = first_line(head);
    let trimmed = &head[start..];
    if trimmed.starts_with(b"[") {
        return FileKind::Json;
    }
    if trimmed.starts_with(b"{") {
        let first = first_line(trimmed);
        let first = trim_ascii(first);
        return if first.ends_with(b"}") {
            FileKind::Ndjson
        } else {
            FileKind::Json
        };
    }
    let chars = String::from_utf8_lossy(line).chars().count();
    if chars == RECORD_LEN {
        return FileKind::Dmf;
    }
    if let Some(columns) = csv_header(line) {
        return FileKind::Csv { columns };
    }
    FileKind::Text { first_line: chars }
}

/// The first line of `bytes`, without its line ending.
fn first_line(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end])
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace());
    match (start, end) {
        (Some(s), Some(e)) => &bytes[s..=e],
        _ => &[],
    }
}

/// The columns of a CSV header line: at least two cells, each a short name (letters, digits,
/// `_`, `-`, space, optionally quoted) beginning with a letter, as headers are and data is not.
fn csv_header(line: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(line).ok()?;
    let cells: Vec<&str> = text.split(',').collect();
    if cells.len() < 2 {
        return None;
    }
    let mut columns = Vec::with_capacity(cells.len());
    for cell in cells {
        let name = cell.trim().trim_matches('"').trim();
        let header_like = name.len() <= 40
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '));
        if !header_like {
            return None;
        }
        columns.push(name.to_ascii_lowercase());
    }
    Some(columns)
}

impl FileKind {
    /// The command that takes a file of this kind, where one does, said as a hint.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            FileKind::Dmf => Some(
                "a DMF file is checked with `dmf format check`, imported with `dmf import` and matched against with `dmf match --master`",
            ),
            FileKind::Csv { columns } => {
                let has = |c: &str| columns.iter().any(|x| x == c);
                if has("client_id") || has("match_probability") {
                    Some("it looks like the result of `dmf match`")
                } else if has("id") && has("ssn") {
                    Some("it looks like a client file: `dmf match --client FILE` matches it")
                } else if has("ssn") && has("first") && has("last") {
                    Some("it looks like a numberholder file: `dmf import` takes it")
                } else {
                    None
                }
            }
            FileKind::Ndjson => Some("NDJSON events are sent with `dmf submit`"),
            FileKind::Json => Some("`jq -c '.[]'` turns an array into one object a line"),
            FileKind::Gzip => Some(
                "decompress it first (`gzip -dc FILE | dmf ... -` where the command reads standard input)",
            ),
            FileKind::Zip => Some("extract it first; a spreadsheet must be saved as CSV"),
            _ => None,
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileKind::Empty => write!(f, "empty"),
            FileKind::Dmf => write!(f, "a DMF file ({RECORD_LEN}-character records)"),
            FileKind::Csv { columns } => {
                const SHOWN: usize = 8;
                write!(
                    f,
                    "a CSV with columns {}",
                    columns[..columns.len().min(SHOWN)].join(", ")
                )?;
                if columns.len() > SHOWN {
                    write!(f, ", … ({} in all)", columns.len())?;
                }
                Ok(())
            }
            FileKind::Ndjson => write!(f, "NDJSON (a JSON object a line)"),
            FileKind::Json => write!(f, "a JSON document, not one object a line"),
            FileKind::Gzip => write!(f, "gzip-compressed"),
            FileKind::Zip => write!(f, "a zip archive (or a spreadsheet)"),
            FileKind::Binary => write!(f, "binary data, not text"),
            FileKind::Text { first_line } => {
                write!(f, "text whose first line is {first_line} characters")
            }
        }
    }
}

/// Why a file that should be `wanted` is not, if [`sniff`] is sure of it: "`PATH` is a CSV
/// with columns ssn, first, …: `COMMAND` reads WANTED; it looks like …". `Text` (perhaps a
/// damaged file of the wanted kind) and the wanted kinds pass.
pub fn refuse(
    path: &str,
    head: &[u8],
    wanted: &[FileKind],
    command: &str,
    reads: &str,
) -> Option<String> {
    let kind = sniff(head);
    let passes = matches!(kind, FileKind::Text { .. })
        || wanted
            .iter()
            .any(|w| std::mem::discriminant(w) == std::mem::discriminant(&kind));
    if passes {
        return None;
    }
    let mut text = format!("{path} is {kind}: `{command}` reads {reads}");
    if let Some(hint) = kind.hint() {
        text.push_str("; ");
        text.push_str(hint);
    }
    Some(text)
}
