//! The Merkle log of the master file: RFC 6962 / RFC 9162 tree hashing, inclusion and
//! consistency proofs (and the subtree proofs of Merkle Tree Certificates), an append-only
//! frontier, C2SP checkpoints in Ed25519 signed notes with witnesses' `cosignature/v1` lines,
//! the paths and entry bundles of C2SP tlog-tiles, tlog-policy quorums, the tlog-witness
//! request texts and the tlog-proof file.
//!
//! Pure computation: tree nodes come from a caller's [`NodeSource`], notes are strings.

mod frontier;
mod hash;
pub mod note;
pub mod policy;
mod proof;
mod source;
pub mod texts;
pub mod tiles;
mod verify;

#[cfg(test)]
mod tests;

use std::fmt;

pub use frontier::Frontier;
pub use hash::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
pub use note::{
    Checkpoint, CosignerKey, CosignerVerifier, Note, NoteError, SignatureLine, SigningKey,
    VerifierKey, add_signatures, open_checkpoint, open_cosignature,
};
pub use policy::{
    Group, Policy, PolicyCheckError, PolicyError, PolicyLog, PolicyWitness, Verified,
};
pub use proof::{
    ProofError, RangeError, consistency_proof, inclusion_proof, subtree_consistency_proof,
    subtree_inclusion_proof,
};
pub use source::{MemoryTree, NodeSource, range_hash, root};
pub use texts::{AddCheckpoint, ProofFileError, TextError, TlogProof, parse_size_answer};
pub use verify::{
    VerifyError, verify_consistency, verify_inclusion, verify_subtree_consistency,
    verify_subtree_inclusion,
};

/// Lower-case hex, for messages and `Debug` output.
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
