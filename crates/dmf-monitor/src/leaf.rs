//! A public leaf read without building a JSON tree: a targeted scan of the canonical layout
//! `dmf_ledger::leaf` writes (`{"v":1,"seq":N,"type":…,"time":…,<clear fields>,"commit":{…}}`),
//! keeping the clear fields statistics count and whether the commitments name `supersedes`.
//! Millions of leaves go through it on a catch-up, so it allocates nothing for a good leaf.
//!
//! It reads the layout as written, no whitespace between tokens; anything else is a fault,
//! named. What it accepts, `dmf_ledger::stats::Counter` counts the same way (the tests hold the
//! two together).

use std::borrow::Cow;

/// A JSON string's content as written between its quotes, escapes not yet decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    pub raw: &'a [u8],
    /// Holds a backslash: decode before use.
    pub escaped: bool,
}

impl<'a> Str<'a> {
    /// The string's value.
    pub fn decode(&self) -> Cow<'a, str> {
        if !self.escaped {
            // The whole leaf was checked to be UTF-8, and a string's quotes are boundaries.
            return String::from_utf8_lossy(self.raw);
        }
        let mut quoted = Vec::with_capacity(self.raw.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(self.raw);
        quoted.push(b'"');
        // The scan checked each escape's form; a \u escape of a lone surrogate is the one
        // thing left that serde refuses, and it stands for no character.
        Cow::Owned(serde_json::from_slice(&quoted).unwrap_or_else(|_| "\u{fffd}".to_owned()))
    }
}

/// The clear fields a leaf is counted by, in the order of a statistics row.
pub const COUNTED: [&str; 6] = [
    "source",
    "origin",
    "kind",
    "authority",
    "legal_basis",
    "decision",
];

/// What statistics and the intake need of a leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafView<'a> {
    pub seq: u64,
    pub event_type: Str<'a>,
    pub time: Str<'a>,
    /// The fields of [`COUNTED`], in that order: absent (or null) as `None`.
    pub counted: [Option<Str<'a>>; 6],
    /// The commitments name a `supersedes` field: a death report amending an earlier one.
    pub supersedes: bool,
}

impl LeafView<'_> {
    /// The day of the leaf's time, `YYYY-MM-DD` as written (its first ten characters), as
    /// statistics count it.
    pub fn day(&self) -> Option<Cow<'_, str>> {
        match self.time.decode() {
            Cow::Borrowed(t) => t.get(..10).map(Cow::Borrowed),
            Cow::Owned(t) => t.get(..10).map(|d| Cow::Owned(d.to_owned())),
        }
    }
}

/// The leaf version this monitor reads.
const VERSION: u64 = dmf_ledger::leaf::LEAF_VERSION as u64;

/// Reads leaf `index` (0-based: it holds event `index + 1`).
pub fn scan(leaf: &[u8], index: u64) -> Result<LeafView<'_>, String> {
    // A leaf is one line of JSON text: no control character anywhere, UTF-8 throughout.
    if has_control(leaf) {
        return Err("a control character".into());
    }
    if std::str::from_utf8(leaf).is_err() {
        return Err("not UTF-8".into());
    }
    let mut c = Cursor { b: leaf, i: 0 };
    c.lit(b"{\"v\":")?;
    let v = c.number()?;
    if v != VERSION {
        return Err(format!("unknown leaf version {v}"));
    }
    c.lit(b",\"seq\":")?;
    let seq = c.number()?;
    if seq != index + 1 {
        return Err(format!("holds event {seq}, expected {}", index + 1));
    }
    c.lit(b",\"type\":")?;
    let event_type = c.string()?;
    c.lit(b",\"time\":")?;
    let time = c.string()?;
    let mut counted: [Option<Str<'_>>; 6] = [None; 6];
    let mut seen = [false; 6];
    loop {
        c.lit(b",")?;
        let key = c.string()?;
        c.lit(b":")?;
        if key.raw == b"commit" {
            break;
        }
        if matches!(key.raw, b"v" | b"seq" | b"type" | b"time") {
            return Err(format!(
                "the key {:?} twice",
                String::from_utf8_lossy(key.raw)
            ));
        }
        match COUNTED.iter().position(|f| f.as_bytes() == key.raw) {
            Some(at) => {
                if std::mem::replace(&mut seen[at], true) {
                    return Err(format!("the key {:?} twice", COUNTED[at]));
                }
                counted[at] = if c.peek() == Some(b'n') {
                    c.lit(b"null")?;
                    None
                } else if c.peek() == Some(b'"') {
                    Some(c.string()?)
                } else {
                    return Err(format!("{} is not a string", COUNTED[at]));
                };
            }
            None => c.skip_value()?,
        }
    }
    let supersedes = c.commitments()?;
    c.lit(b"}")?;
    if c.i != leaf.len() {
        return Err("bytes after the leaf's object".into());
    }
    Ok(LeafView {
        seq,
        event_type,
        time,
        counted,
        supersedes,
    })
}

/// Whether any byte is a control character: whole blocks at a time without stopping early, so
/// that the comparison runs on vector registers (the scan of every leaf starts with it).
fn has_control(bytes: &[u8]) -> bool {
    bytes
        .chunks(64)
        .any(|block| block.iter().fold(false, |found, &b| found | (b < 0x20)))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn lit(&mut self, text: &[u8]) -> Result<(), String> {
        if self.b[self.i..].starts_with(text) {
            self.i += text.len();
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at byte {}",
                String::from_utf8_lossy(text),
                self.i
            ))
        }
    }

    /// An unsigned decimal integer without leading zeros.
    fn number(&mut self) -> Result<u64, String> {
        let digits = self.b[self.i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let text = &self.b[self.i..self.i + digits];
        if digits == 0 || (digits > 1 && text[0] == b'0') {
            return Err(format!("expected a number at byte {}", self.i));
        }
        self.i += digits;
        // Digits only, so UTF-8; too many of them do not fit.
        std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| "a number too large".to_owned())
    }

    /// A string, its escapes checked for form.
    fn string(&mut self) -> Result<Str<'a>, String> {
        let start = self.i;
        if self.peek() != Some(b'"') {
            return Err(format!("expected a string at byte {start}"));
        }
        let mut j = start + 1;
        let mut escaped = false;
        loop {
            let Some(at) = memchr::memchr2(b'"', b'\\', &self.b[j..]) else {
                return Err(format!("a string at byte {start} is not closed"));
            };
            j += at;
            if self.b[j] == b'"' {
                break;
            }
            escaped = true;
            match self.b.get(j + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                Some(b'u')
                    if self
                        .b
                        .get(j + 2..j + 6)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                {
                    j += 6
                }
                _ => return Err(format!("a bad escape at byte {j}")),
            }
        }
        self.i = j + 1;
        Ok(Str {
            raw: &self.b[start + 1..j],
            escaped,
        })
    }

    /// A clear value that is not counted: a string, an array of strings, a number or a literal.
    fn skip_value(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'[') => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.string()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("an array is not closed at byte {}", self.i)),
                    }
                }
            }
            Some(b'0'..=b'9') => self.number().map(drop),
            Some(b'n') => self.lit(b"null"),
            Some(b't') => self.lit(b"true"),
            Some(b'f') => self.lit(b"false"),
            _ => Err(format!("expected a value at byte {}", self.i)),
        }
    }

    /// The commitments object: string values under field names. Whether one is `supersedes`.
    fn commitments(&mut self) -> Result<bool, String> {
        self.lit(b"{")?;
        let mut supersedes = false;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(false);
        }
        loop {
            let key = self.string()?;
            supersedes |= key.raw == b"supersedes";
            self.lit(b":")?;
            self.string()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(supersedes);
                }
                _ => return Err(format!("the commitments are not closed at byte {}", self.i)),
            }
        }
    }
}
