//! The portable dump of a registry: one JSON object a line, versioned, backend-neutral. A
//! header (origin, public key, event count, the checkpoints signed), every event with its stored
//! bytes and MAC (so that a restore signs no event beyond the checkpoints that the registry's
//! writer did not write), records the caller adds (key metadata, disclosures; the log's secret keys only when
//! asked), and a trailer with the count and SHA-256 of every line before it, so that a cut or
//! altered dump is refused at restore rather than half-loaded.

use std::io::{BufRead, Write};

use crate::{NewEvent, StoredEvent};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The format's name and version in the header.
pub const FORMAT: &str = "dmf-dump";
pub const VERSION: u64 = 1;

/// Why a dump cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("line {line}: {reason}")]
    Line { line: u64, reason: String },
    #[error("cannot read the dump: {0}")]
    Io(#[from] std::io::Error),
}

/// What the first line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub origin: String,
    /// The log's public key (note verifier text).
    pub key: String,
    pub events: u64,
    /// Every checkpoint signed, oldest first (notes).
    pub checkpoints: Vec<String>,
    pub created_at: String,
    pub secrets: bool,
}

/// One record after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Event(StoredEvent),
    /// A secret file of the log (`signing.key`, `leaf.key`, `mac.key`).
    Secret {
        file: String,
        text: String,
    },
    /// Anything else, by its `type`: key metadata, disclosures.
    Other(Value),
}

/// Writes a dump line by line, hashing as it goes.
#[derive(Debug)]
pub struct DumpWriter<W: Write> {
    out: W,
    hash: Sha256,
    lines: u64,
}

impl<W: Write> DumpWriter<W> {
    pub fn new(mut out: W, header: &Header) -> std::io::Result<DumpWriter<W>> {
        let line = json!({
            "format": FORMAT, "version": VERSION, "origin": header.origin, "key": header.key,
            "events": header.events, "checkpoints": header.checkpoints,
            "created_at": header.created_at, "secrets": header.secrets,
        })
        .to_string();
        let mut hash = Sha256::new();
        hash.update(line.as_bytes());
        hash.update(b"\n");
        writeln!(out, "{line}")?;
        Ok(DumpWriter {
            out,
            hash,
            lines: 1,
        })
    }

    fn line(&mut self, v: &Value) -> std::io::Result<()> {
        let line = v.to_string();
        self.hash.update(line.as_bytes());
        self.hash.update(b"\n");
        self.lines += 1;
        writeln!(self.out, "{line}")
    }

    pub fn event(&mut self, e: &StoredEvent) -> std::io::Result<()> {
        self.line(&json!({
            "type": "event", "seq": e.seq, "kind": e.kind, "subject": e.subject,
            "key": e.idempotency_key, "at": e.recorded_at, "body": STANDARD.encode(&e.body),
            "mac": e.mac.as_ref().map(|m| STANDARD.encode(m)),
        }))
    }

    pub fn secret(&mut self, file: &str, text: &str) -> std::io::Result<()> {
        self.line(&json!({ "type": "secret", "file": file, "text": text }))
    }

    /// A record of the caller's: an object with a `type` other than the dump's own.
    pub fn other(&mut self, v: &Value) -> std::io::Result<()> {
        debug_assert!(v["type"].is_string());
        self.line(v)
    }

    /// Writes the trailer and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let digest = self.hash.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(
            self.out,
            "{}",
            json!({ "type": "end", "lines": self.lines, "sha256": hex })
        )?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a dump: the header first, then records in order; the trailer is checked when reached.
#[derive(Debug)]
pub struct DumpReader<R: BufRead> {
    input: R,
    hash: Sha256,
    line: u64,
    done: bool,
    pub header: Header,
}

fn bad(line: u64, reason: impl Into<String>) -> DumpError {
    DumpError::Line {
        line,
        reason: reason.into(),
    }
}

fn text(v: &Value, field: &str, line: u64) -> Result<String, DumpError> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(line, format!("\"{field}\" is missing or not text")))
}

fn number(v: &Value, field: &str, line: u64) -> Result<u64, DumpError> {
    v[field]
        .as_u64()
        .ok_or_else(|| bad(line, format!("\"{field}\" is missing or not a number")))
}

impl<R: BufRead> DumpReader<R> {
    pub fn new(mut input: R) -> Result<DumpReader<R>, DumpError> {
        let mut first = String::new();
        input.read_line(&mut first)?;
        let v: Value = serde_json::from_str(first.trim_end())
            .map_err(|e| bad(1, format!("not a dump header: {e}")))?;
        if v["format"] != FORMAT {
            return Err(bad(1, format!("not a {FORMAT} file")));
        }
        let version = number(&v, "version", 1)?;
        if version != VERSION {
            return Err(bad(
                1,
                format!("dump version {version}; this program reads version {VERSION}"),
            ));
        }
        let checkpoints = v["checkpoints"]
            .as_array()
            .ok_or_else(|| bad(1, "\"checkpoints\" is missing"))?
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad(1, "a checkpoint is not text"))
            })
            .collect::<Result<_, _>>()?;
        let header = Header {
            origin: text(&v, "origin", 1)?,
            key: text(&v, "key", 1)?,
            events: number(&v, "events", 1)?,
            checkpoints,
            created_at: text(&v, "created_at", 1)?,
            secrets: v["secrets"].as_bool().unwrap_or(false),
        };
        let mut hash = Sha256::new();
        hash.update(first.as_bytes());
        Ok(DumpReader {
            input,
            hash,
            line: 1,
            done: false,
            header,
        })
    }

    /// The next record; `None` after a correct trailer. A dump that ends without its trailer,
    /// or whose trailer does not match, is an error.
    pub fn next_record(&mut self) -> Result<Option<Record>, DumpError> {
        if self.done {
            return Ok(None);
        }
        let mut raw = String::new();
        let n = self.input.read_line(&mut raw)?;
        self.line += 1;
        let line = self.line;
        if n == 0 {
            return Err(bad(
                line,
                "the dump ends without its trailer: it was cut short",
            ));
        }
        let v: Value = serde_json::from_str(raw.trim_end())
            .map_err(|e| bad(line, format!("not JSON: {e}")))?;
        let kind = text(&v, "type", line)?;
        if kind == "end" {
            let digest = std::mem::take(&mut self.hash).finalize();
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            if number(&v, "lines", line)? != line - 1 || text(&v, "sha256", line)? != hex {
                return Err(bad(
                    line,
                    "the trailer does not match the lines before it: the dump was altered",
                ));
            }
            self.done = true;
            return Ok(None);
        }
        self.hash.update(raw.as_bytes());
        Ok(Some(match kind.as_str() {
            "event" => {
                let body = STANDARD
                    .decode(text(&v, "body", line)?)
                    .map_err(|e| bad(line, format!("\"body\" is not base64: {e}")))?;
                // Dumps made before events carried a MAC have none.
                let mac = match &v["mac"] {
                    Value::Null => None,
                    m => Some(
                        m.as_str()
                            .and_then(|m| STANDARD.decode(m).ok())
                            .ok_or_else(|| bad(line, "\"mac\" is not base64"))?,
                    ),
                };
                let subject = match &v["subject"] {
                    Value::Null => None,
                    s => Some(
                        s.as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| bad(line, "\"subject\" is not an SSN number"))?,
                    ),
                };
                Record::Event(StoredEvent {
                    seq: number(&v, "seq", line)?,
                    kind: text(&v, "kind", line)?,
                    subject,
                    idempotency_key: v["key"].as_str().map(str::to_owned),
                    recorded_at: v["at"]
                        .as_i64()
                        .ok_or_else(|| bad(line, "\"at\" is not a number"))?,
                    body,
                    mac,
                })
            }
            "secret" => Record::Secret {
                file: text(&v, "file", line)?,
                text: text(&v, "text", line)?,
            },
            _ => Record::Other(v),
        }))
    }

    /// The line number of the record read last.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// A stored event as one to append again.
pub fn to_new(e: &StoredEvent) -> NewEvent {
    NewEvent {
        kind: e.kind.clone(),
        subject: e.subject,
        idempotency_key: e.idempotency_key.clone(),
        recorded_at: e.recorded_at,
        body: e.body.clone(),
        mac: e.mac.clone(),
    }
}
