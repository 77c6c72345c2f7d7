//! Receipts of answers: a statement of what the registry answered, to which query, when and
//! against which checkpoint, signed with the log's key, with a C2SP tlog-proof of each event
//! the answer stands on; and their offline check, with nothing but the log's public key (and,
//! if the verifier wants one, a tlog-policy of witnesses).
//!
//! The statement is compact JSON (version 1), signed with
//! [`dmf_log::SigningKey::sign_message`] in the domain [`DOMAIN`], so that no such signature
//! passes for a checkpoint's or a letter's:
//!
//! ```text
//! {"v":1,"origin":"…","purpose":"identity","query":{…as sent…},"answer":{…as answered…},
//!  "time":"2026-11-23T10:00:00.000Z","tree_size":7,"root":"…",
//!  "events":[{"seq":6,"type":"death_report","openings":[{"field":"ssn","value":"123456789",
//!  "commitment":"…"}]}]}
//! ```
//!
//! A leaf commits personal fields with an HMAC under the registry's secret leaf key, which
//! nobody outside recomputes: an opening is the registry's signed word that the committed value
//! is this one, which whoever holds the leaf key (an auditor, a court) checks against the leaf
//! ([`crate::leaf::LeafKey::field_commitment`]). The offline check holds each opening to the
//! commitment the proved leaf carries, so the word is about that very leaf.
//!
//! A log proves what it holds, never what it does not: an answer that stands on no event (not
//! in the file, a mismatch) is a signed statement with the checkpoint and no proofs.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_log::{
    Checkpoint, Note, Policy, PolicyCheckError, SigningKey, TextError, TlogProof, VerifierKey,
    VerifyError,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// What a statement's signature is over, kept apart from every other use of the key.
pub const DOMAIN: &str = "dmf-receipt/1";
/// The statement's format.
pub const VERSION: u32 = 1;

/// What the registry states it answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub v: u32,
    /// The log whose key signs: the checkpoint's origin.
    pub origin: String,
    /// What the answer was for (`identity`, `employment`, `benefits`).
    pub purpose: String,
    /// The query's fields as the caller sent them (a JSON object).
    pub query: Box<RawValue>,
    /// The answer as returned (a JSON object).
    pub answer: Box<RawValue>,
    /// When it was answered (UTC, milliseconds).
    pub time: String,
    /// The checkpoint the proofs are against.
    pub tree_size: u64,
    pub root: String,
    /// The events the answer stands on, in the order of the proofs.
    pub events: Vec<Stated>,
}

/// An event an answer stands on, with the committed fields the caller may see opened.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub openings: Vec<Opening>,
}

/// A committed field of an event's leaf, opened: its value as the stored event writes it
/// (raw JSON, what the commitment is over) and the leaf's commitment beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    pub field: String,
    pub value: Box<RawValue>,
    /// The leaf's commitment of the field, base64.
    pub commitment: String,
}

impl Opening {
    /// The opening of `field`, whose raw JSON value is `value`, with the commitment `leaf`
    /// holds for it; none if the leaf commits no such field or `value` is not JSON.
    pub fn of(leaf: &PublicLeaf, field: &str, value: &[u8]) -> Option<Opening> {
        let commitment = leaf.commit.get(field)?.clone();
        let value = std::str::from_utf8(value).ok()?;
        Some(Opening {
            field: field.to_owned(),
            value: RawValue::from_string(value.to_owned()).ok()?,
            commitment,
        })
    }
}

impl Statement {
    /// The bytes signed: compact JSON, fields in the order of the type.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Strings, numbers, maps and raw JSON always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A receipt as an answer carries it: the statement's bytes and their signature, the signed
/// (and cosigned) checkpoint it names, and one C2SP tlog-proof per event it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The statement, compact JSON, in standard base64: `v`, `origin`, `purpose`, `query` (as
    /// sent), `answer` (as returned), `time`, `tree_size`, `root` and `events` (each `seq`,
    /// `type` and the `openings` of committed fields the caller may see)
    pub statement: String,
    /// The registry's Ed25519 signature of the statement's bytes (log key, domain
    /// `dmf-receipt/1`), standard base64
    pub signature: String,
    /// The checkpoint the statement names, as the registry serves it: a C2SP signed note with
    /// any witnesses' cosignatures
    pub checkpoint: String,
    /// One C2SP tlog-proof (`c2sp.org/tlog-proof@v1`) per event of the statement, in its
    /// order, each with the event's public leaf as its extra data; none when the answer stands
    /// on no event (a log cannot prove absence)
    pub proofs: Vec<String>,
}

impl Receipt {
    /// Signs `statement` with the log's key and carries it with its checkpoint and proofs.
    pub fn sign(
        key: &SigningKey,
        statement: &Statement,
        checkpoint: String,
        proofs: &[TlogProof],
    ) -> Receipt {
        let bytes = statement.to_bytes();
        Receipt {
            signature: BASE64.encode(key.sign_message(DOMAIN, &bytes)),
            statement: BASE64.encode(bytes),
            checkpoint,
            proofs: proofs.iter().map(TlogProof::to_text).collect(),
        }
    }
}

/// An event's public leaf as the log publishes it: its number, type and time, the clear fields
/// and the commitments of the others.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublicLeaf {
    pub v: u32,
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub time: String,
    /// Every committed field's commitment, base64, `event` (the whole stored record) among them.
    pub commit: BTreeMap<String, String>,
    /// The fields in clear.
    #[serde(flatten)]
    pub clear: BTreeMap<String, Value>,
}

impl PublicLeaf {
    pub fn parse(leaf: &[u8]) -> Result<PublicLeaf, String> {
        let leaf: PublicLeaf = serde_json::from_slice(leaf).map_err(|e| e.to_string())?;
        if leaf.v != crate::leaf::LEAF_VERSION {
            return Err(format!("leaf version {} is unknown", leaf.v));
        }
        Ok(leaf)
    }
}

/// Why a receipt or a proof file does not prove what it says, each naming the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the receipt is malformed: {0}")]
    Malformed(String),
    #[error("the statement is not signed by the log's key {0}")]
    Signature(String),
    #[error("the checkpoint: {0}")]
    Checkpoint(#[from] PolicyCheckError),
    #[error(
        "the statement names the tree of {stated} leaves of {stated_origin} (root {stated_root}), the checkpoint is of {size} leaves of {origin} (root {root})"
    )]
    StatementCheckpoint {
        stated: u64,
        stated_origin: String,
        stated_root: String,
        size: u64,
        origin: String,
        root: String,
    },
    #[error("the statement names {stated} events, the receipt carries {proofs} proofs")]
    Count { stated: usize, proofs: usize },
    #[error("proof {proof}: {source}")]
    ProofText { proof: usize, source: TextError },
    #[error("proof {proof} is against another checkpoint than the statement's")]
    OtherCheckpoint { proof: usize },
    #[error("proof {proof} carries no leaf (extra data): without it the entry cannot be checked")]
    NoLeaf { proof: usize },
    #[error("proof {proof}: the extra data is not a public leaf: {reason}")]
    Leaf { proof: usize, reason: String },
    #[error("proof {proof} is of entry {index}, but its leaf is event {seq} (entry {})", seq.wrapping_sub(1))]
    Index { proof: usize, index: u64, seq: u64 },
    #[error("proof {proof}: the leaf of event {seq} is not in the checkpoint's tree: {source}")]
    Inclusion {
        proof: usize,
        seq: u64,
        source: VerifyError,
    },
    #[error(
        "proof {proof} is of event {seq} ({kind}), the statement names event {stated_seq} ({stated_kind})"
    )]
    NotStated {
        proof: usize,
        seq: u64,
        kind: String,
        stated_seq: u64,
        stated_kind: String,
    },
    #[error("the opening of {field} of event {seq} is not the commitment its leaf holds")]
    Opening { seq: u64, field: String },
    #[error("the answer beside the receipt is not the answer its statement signs ({stated})")]
    AnswerDiffers { stated: String },
}

/// What a checked receipt proves.
#[derive(Debug, Clone)]
pub struct Checked {
    pub statement: Statement,
    pub checkpoint: Checkpoint,
    /// The policy's witnesses that cosigned the checkpoint, with their times (POSIX seconds).
    pub cosigned: Vec<(String, u64)>,
    /// Each event's proved leaf, in the statement's order.
    pub leaves: Vec<PublicLeaf>,
}

/// What a checked proof file proves: its leaf is in the checkpoint's tree.
#[derive(Debug, Clone)]
pub struct CheckedEntry {
    pub checkpoint: Checkpoint,
    pub cosigned: Vec<(String, u64)>,
    pub leaf: PublicLeaf,
}

fn malformed(what: impl Into<String>) -> ReceiptError {
    ReceiptError::Malformed(what.into())
}

/// The checkpoint note signed by the log's `key` (whatever logs `policy` lists) and cosigned
/// by the policy's quorum.
fn checkpoint(
    note: &str,
    key: &VerifierKey,
    policy: &Policy,
) -> Result<(Checkpoint, Vec<(String, u64)>), ReceiptError> {
    dmf_log::open_checkpoint(note, key).map_err(PolicyCheckError::Note)?;
    let verified = policy.verify(note, Some(key))?;
    Ok((verified.checkpoint, verified.cosigned))
}

/// Checks a receipt offline: the statement's signature by `key`, its checkpoint (signed by
/// `key`, cosigned as `policy` requires), that the statement names that checkpoint, and for
/// each event it names, a proof against the same checkpoint whose leaf is that event (number
/// and type), included in the tree, and whose commitments are the openings'.
pub fn check(
    receipt: &Receipt,
    key: &VerifierKey,
    policy: &Policy,
) -> Result<Checked, ReceiptError> {
    let bytes = BASE64
        .decode(&receipt.statement)
        .map_err(|_| malformed("the statement is not standard base64"))?;
    let signature: [u8; 64] = BASE64
        .decode(&receipt.signature)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| malformed("the signature is not 64 bytes in standard base64"))?;
    if !key.verify_message(DOMAIN, &bytes, &signature) {
        return Err(ReceiptError::Signature(key.name().to_owned()));
    }
    let statement: Statement = serde_json::from_slice(&bytes)
        .map_err(|e| malformed(format!("the statement is not a statement: {e}")))?;
    if statement.v != VERSION {
        return Err(malformed(format!(
            "statement version {} is unknown",
            statement.v
        )));
    }
    let (checkpoint, cosigned) = checkpoint(&receipt.checkpoint, key, policy)?;
    let root = crate::log::base64_hash(&checkpoint.root);
    if statement.tree_size != checkpoint.size
        || statement.root != root
        || statement.origin != checkpoint.origin
    {
        return Err(ReceiptError::StatementCheckpoint {
            stated: statement.tree_size,
            stated_origin: statement.origin.clone(),
            stated_root: statement.root.clone(),
            size: checkpoint.size,
            origin: checkpoint.origin.clone(),
            root,
        });
    }
    if statement.events.len() != receipt.proofs.len() {
        return Err(ReceiptError::Count {
            stated: statement.events.len(),
            proofs: receipt.proofs.len(),
        });
    }
    // The receipt's checkpoint verified; a proof is against it when it carries the same body
    // (its signature lines may be fewer or more).
    let body = Note::parse(&receipt.checkpoint)
        .map_err(PolicyCheckError::Note)?
        .body;
    let mut leaves = Vec::with_capacity(statement.events.len());
    for (i, (text, stated)) in receipt.proofs.iter().zip(&statement.events).enumerate() {
        let n = i + 1;
        let proof = TlogProof::parse(text)
            .map_err(|source| ReceiptError::ProofText { proof: n, source })?;
        if Note::parse(&proof.note).map(|note| note.body) != Ok(body) {
            return Err(ReceiptError::OtherCheckpoint { proof: n });
        }
        let leaf = entry(&proof, &checkpoint, n)?;
        if leaf.seq != stated.seq || leaf.kind != stated.kind {
            return Err(ReceiptError::NotStated {
                proof: n,
                seq: leaf.seq,
                kind: leaf.kind,
                stated_seq: stated.seq,
                stated_kind: stated.kind.clone(),
            });
        }
        for o in &stated.openings {
            if leaf.commit.get(&o.field) != Some(&o.commitment) {
                return Err(ReceiptError::Opening {
                    seq: stated.seq,
                    field: o.field.clone(),
                });
            }
        }
        leaves.push(leaf);
    }
    Ok(Checked {
        statement,
        checkpoint,
        cosigned,
        leaves,
    })
}

/// Checks a C2SP tlog-proof file offline: its checkpoint (signed by `key`, cosigned as
/// `policy` requires) and the inclusion of the public leaf it carries as extra data, at the
/// index of that leaf's event.
pub fn check_proof_file(
    text: &str,
    key: &VerifierKey,
    policy: &Policy,
) -> Result<CheckedEntry, ReceiptError> {
    let proof =
        TlogProof::parse(text).map_err(|source| ReceiptError::ProofText { proof: 1, source })?;
    let (checkpoint, cosigned) = checkpoint(&proof.note, key, policy)?;
    let leaf = entry(&proof, &checkpoint, 1)?;
    Ok(CheckedEntry {
        checkpoint,
        cosigned,
        leaf,
    })
}

/// The leaf a proof carries, at its event's index and included in the checkpoint's tree.
fn entry(proof: &TlogProof, checkpoint: &Checkpoint, n: usize) -> Result<PublicLeaf, ReceiptError> {
    let data = proof
        .extra
        .as_deref()
        .ok_or(ReceiptError::NoLeaf { proof: n })?;
    let leaf = PublicLeaf::parse(data).map_err(|reason| ReceiptError::Leaf { proof: n, reason })?;
    // Leaf `i` is event `i + 1`.
    if leaf.seq.checked_sub(1) != Some(proof.index) {
        return Err(ReceiptError::Index {
            proof: n,
            index: proof.index,
            seq: leaf.seq,
        });
    }
    dmf_log::verify_inclusion(
        proof.index,
        checkpoint.size,
        &dmf_log::leaf_hash(data),
        &proof.proof,
        &checkpoint.root,
    )
    .map_err(|source| ReceiptError::Inclusion {
        proof: n,
        seq: leaf.seq,
        source,
    })?;
    Ok(leaf)
}

/// An event as said in words: its number, type and the clear fields that say what it was.
pub fn describe_leaf(leaf: &PublicLeaf) -> String {
    let clear: Vec<String> = leaf
        .clear
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k} {s}"),
            other => format!("{k} {other}"),
        })
        .collect();
    if clear.is_empty() {
        format!("event {} ({}, recorded {})", leaf.seq, leaf.kind, leaf.time)
    } else {
        format!(
            "event {} ({}, {}, recorded {})",
            leaf.seq,
            leaf.kind,
            clear.join(", "),
            leaf.time
        )
    }
}

/// Who cosigned, in words.
pub fn describe_cosigned(cosigned: &[(String, u64)]) -> String {
    if cosigned.is_empty() {
        return "with no witness cosignature asked for".to_owned();
    }
    let names: Vec<String> = cosigned
        .iter()
        .map(|(name, time)| {
            let at =
                crate::leaf::format_time(i64::try_from(*time).unwrap_or(0).saturating_mul(1000));
            format!("{name} (at {at})")
        })
        .collect();
    format!("cosigned by {}", names.join(", "))
}

impl Checked {
    /// What the receipt proves, in words, a line each.
    pub fn describe(&self) -> Vec<String> {
        let s = &self.statement;
        let (answer, query) = (s.answer.get(), s.query.get());
        let mut out = vec![format!(
            "the registry {} answered {} to the {} query {} on {} (statement signed by its key)",
            s.origin, answer, s.purpose, query, s.time
        )];
        let at = format!(
            "in the log at size {} (root {}), {}",
            self.checkpoint.size,
            s.root,
            describe_cosigned(&self.cosigned)
        );
        if self.leaves.is_empty() {
            out.push(format!(
                "the answer stands on no event (a log cannot prove absence); the statement names the checkpoint of size {} (root {}), {}",
                self.checkpoint.size,
                s.root,
                describe_cosigned(&self.cosigned)
            ));
        }
        for (leaf, stated) in self.leaves.iter().zip(&s.events) {
            out.push(format!("{} is {at}", describe_leaf(leaf)));
            for o in &stated.openings {
                out.push(format!(
                    "the registry states that event {}'s committed {} is {} (its leaf's commitment; whoever holds the leaf key can check it)",
                    stated.seq,
                    o.field,
                    o.value.get()
                ));
            }
        }
        out
    }
}

impl Checked {
    /// Holds the answer a receipt came with (an answer's JSON object, its `receipt` aside) to
    /// the answer the statement signs: an edited answer is refused.
    pub fn check_answer(&self, answer: &Map<String, Value>) -> Result<(), ReceiptError> {
        let mut answer = answer.clone();
        answer.remove("receipt");
        let stated: Option<Map<String, Value>> =
            serde_json::from_str(self.statement.answer.get()).ok();
        if stated.as_ref() == Some(&answer) {
            Ok(())
        } else {
            Err(ReceiptError::AnswerDiffers {
                stated: self.statement.answer.get().to_owned(),
            })
        }
    }
}

impl CheckedEntry {
    /// What the proof file proves, in words.
    pub fn describe(&self) -> String {
        format!(
            "{} is in the log {} at size {} (root {}), {}",
            describe_leaf(&self.leaf),
            self.checkpoint.origin,
            self.checkpoint.size,
            crate::log::base64_hash(&self.checkpoint.root),
            describe_cosigned(&self.cosigned)
        )
    }
}

#[cfg(test)]
mod tests;
