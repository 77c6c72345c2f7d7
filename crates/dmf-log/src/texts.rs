//! The text formats around a checkpoint: the body of a C2SP tlog-witness `add-checkpoint`
//! request and its `text/x.tlog.size` answer, and the C2SP tlog-proof offline proof file.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::note::{Checkpoint, VerifierKey, decode_hash, parse_size};
use crate::policy::{Policy, PolicyCheckError, Verified};
use crate::verify::{VerifyError, verify_inclusion};

/// The most consistency proof lines an `add-checkpoint` body may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// The first line of a tlog-proof file.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Why a request body, size answer or proof file was refused, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TextError {
    pub line: usize,
    pub reason: &'static str,
}

fn bad(line: usize, reason: &'static str) -> TextError {
    TextError { line, reason }
}

fn parse_u64(text: &str) -> Option<u64> {
    parse_size(text).ok()
}

/// Each hash on a line of its own, then the empty line before a note.
fn push_hashes(out: &mut String, hashes: &[Hash]) {
    for h in hashes {
        out.push_str(&STANDARD.encode(h));
        out.push('\n');
    }
    out.push('\n');
}

/// An `add-checkpoint` request: the size the client believes the witness holds, a consistency
/// proof from it, and the signed checkpoint note (the rest of the body, verbatim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub note: String,
}

impl AddCheckpoint {
    pub fn to_text(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        push_hashes(&mut out, &self.proof);
        out.push_str(&self.note);
        out
    }

    /// Reads a request body; the note is kept as sent, for the caller to verify.
    pub fn parse(body: &str) -> Result<AddCheckpoint, TextError> {
        let (first, mut rest) = body.split_once('\n').ok_or(bad(1, "no old size line"))?;
        let old = first
            .strip_prefix("old ")
            .and_then(parse_u64)
            .ok_or(bad(1, "expected \"old <size>\" in decimal"))?;
        let mut proof = Vec::new();
        let mut line = 1;
        loop {
            line += 1;
            let (text, after) = rest
                .split_once('\n')
                .ok_or(bad(line, "no empty line before the checkpoint"))?;
            rest = after;
            if text.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(line, "more than 63 consistency proof lines"));
            }
            proof.push(decode_hash(text).ok_or(bad(line, "not a base64 SHA-256 hash"))?);
        }
        if old == 0 && !proof.is_empty() {
            return Err(bad(2, "a proof from size 0 must be empty"));
        }
        Ok(AddCheckpoint {
            old,
            proof,
            note: rest.to_owned(),
        })
    }
}

/// The body of a `409 Conflict` answer (`text/x.tlog.size`): the witness's size and a newline.
pub fn parse_size_answer(body: &str) -> Result<u64, TextError> {
    body.strip_suffix('\n')
        .and_then(parse_u64)
        .ok_or(bad(1, "expected a decimal size and a newline"))
}

/// A C2SP tlog-proof: an entry's index, its inclusion proof and the (cosigned) checkpoint it
/// is proved against, with optional opaque extra data (not authenticated by the proof).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    pub note: String,
}

/// Why a proof file does not prove its entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFileError {
    #[error("{0}")]
    Text(#[from] TextError),
    #[error("checkpoint: {0}")]
    Policy(#[from] PolicyCheckError),
    #[error("inclusion proof of entry {index}: {source}")]
    Inclusion { index: u64, source: VerifyError },
}

impl TlogProof {
    pub fn to_text(&self) -> String {
        let mut out = format!("{PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&STANDARD.encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        push_hashes(&mut out, &self.proof);
        out.push_str(&self.note);
        out
    }

    pub fn parse(text: &str) -> Result<TlogProof, TextError> {
        let mut lines = text.split_inclusive('\n');
        let mut n = 1;
        if lines.next() != Some("c2sp.org/tlog-proof@v1\n") {
            return Err(bad(1, "not a c2sp.org/tlog-proof@v1 file"));
        }
        let mut next = || {
            n += 1;
            lines.next().map(|l| (n, l))
        };
        let (mut at, mut line) = next().ok_or(bad(2, "no index line"))?;
        let mut extra = None;
        if let Some(data) = line.strip_prefix("extra ") {
            let data = data.strip_suffix('\n').unwrap_or(data);
            extra = Some(
                STANDARD
                    .decode(data)
                    .map_err(|_| bad(at, "extra data is not standard base64"))?,
            );
            (at, line) = next().ok_or(bad(at + 1, "no index line"))?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(|l| l.strip_suffix('\n'))
            .and_then(parse_u64)
            .ok_or(bad(at, "expected \"index <n>\" in decimal"))?;
        let mut proof = Vec::new();
        loop {
            let (at, line) = next().ok_or(bad(at + 1, "no empty line before the checkpoint"))?;
            let line = line
                .strip_suffix('\n')
                .ok_or(bad(at, "no empty line before the checkpoint"))?;
            if line.is_empty() {
                break;
            }
            if proof.len() == 64 {
                return Err(bad(at, "more than 64 proof lines"));
            }
            proof.push(decode_hash(line).ok_or(bad(at, "not a base64 SHA-256 hash"))?);
        }
        let note: String = std::iter::from_fn(&mut next).map(|(_, l)| l).collect();
        Ok(TlogProof {
            extra,
            index,
            proof,
            note,
        })
    }

    /// Checks the proof: the checkpoint against the policy (the log's signature and the
    /// quorum of cosignatures; `log` stands for the policy's logs when it lists none), then
    /// the inclusion of `leaf_hash` at the index.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        policy: &Policy,
        log: Option<&VerifierKey>,
    ) -> Result<Verified, ProofFileError> {
        let verified = policy.verify(&self.note, log)?;
        let Checkpoint { size, root, .. } = &verified.checkpoint;
        verify_inclusion(self.index, *size, leaf_hash, &self.proof, root).map_err(|source| {
            ProofFileError::Inclusion {
                index: self.index,
                source,
            }
        })?;
        Ok(verified)
    }
}
