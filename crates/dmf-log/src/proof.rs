//! Proof generation: RFC 9162 inclusion (PATH) and consistency (PROOF) proofs, and the subtree
//! proofs of Merkle Tree Certificates, built from the nodes of a `NodeSource`.

use crate::hash::{Hash, split};
use crate::source::{NodeSource, range_hash};

/// Positions or sizes that no proof can be about. Shared by generation and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("leaf index {index} is outside the tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("leaf index {index} is outside the subtree [{start}, {end})")]
    IndexOutsideSubtree { index: u64, start: u64, end: u64 },
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error(
        "no consistency proof exists from the empty tree: every tree extends it (new size {new})"
    )]
    FromEmptyTree { new: u64 },
    #[error(
        "[{start}, {end}) is not a subtree: it must be non-empty and start at a multiple of \
         its size rounded up to a power of two"
    )]
    InvalidSubtree { start: u64, end: u64 },
    #[error("subtree [{start}, {end}) extends past the tree of size {size}")]
    SubtreeOutOfRange { start: u64, end: u64, size: u64 },
}

/// Why a proof could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError<E> {
    #[error("cannot build proof: {reason}")]
    OutOfRange { reason: RangeError },
    #[error("reading a tree node failed")]
    Source(#[source] E),
}

impl<E> From<RangeError> for ProofError<E> {
    fn from(reason: RangeError) -> ProofError<E> {
        ProofError::OutOfRange { reason }
    }
}

pub(crate) fn check_index(index: u64, size: u64) -> Result<(), RangeError> {
    if index < size {
        Ok(())
    } else {
        Err(RangeError::IndexOutOfRange { index, size })
    }
}

/// A subtree is non-empty and starts at a multiple of bit_ceil(end - start), which is what
/// makes it a single node of some tree (or a prefix of one).
pub(crate) fn check_subtree(start: u64, end: u64) -> Result<(), RangeError> {
    let aligned = start < end
        && match (end - start).checked_next_power_of_two() {
            Some(width) => start & (width - 1) == 0,
            // Wider than 2^63: only a subtree at 0 fits below 2^64.
            None => start == 0,
        };
    if aligned {
        Ok(())
    } else {
        Err(RangeError::InvalidSubtree { start, end })
    }
}

pub(crate) fn check_subtree_in(start: u64, end: u64, size: u64) -> Result<(), RangeError> {
    if start > end {
        return Err(RangeError::InvalidSubtree { start, end });
    }
    if end > size {
        return Err(RangeError::SubtreeOutOfRange { start, end, size });
    }
    Ok(())
}

/// The RFC 9162 inclusion proof PATH(index, D\[size\]), deepest sibling first.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    check_index(index, size)?;
    path(src, index, 0, size).map_err(ProofError::Source)
}

/// The inclusion proof of leaf `index` in the subtree `[start, end)`: the RFC inclusion proof
/// of `index - start` in the subtree taken as a tree of `end - start` leaves.
pub fn subtree_inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    start: u64,
    end: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    check_subtree(start, end)?;
    if !(start..end).contains(&index) {
        return Err(RangeError::IndexOutsideSubtree { index, start, end }.into());
    }
    path(src, index, start, end).map_err(ProofError::Source)
}

/// The RFC 9162 consistency proof PROOF(old_size, D\[new_size\]).
///
/// Equal sizes give an empty proof. An old size of 0 with a larger new size is refused, as
/// RFC 9162 defines no proof for it and verifiers reject one.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old_size > new_size {
        return Err(RangeError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        }
        .into());
    }
    if old_size == new_size {
        return Ok(Vec::new());
    }
    if old_size == 0 {
        return Err(RangeError::FromEmptyTree { new: new_size }.into());
    }
    subtree_proof(src, 0, old_size, new_size).map_err(ProofError::Source)
}

/// SUBTREE_PROOF(start, end, D\[size\]) from Merkle Tree Certificates: proves that `[start, end)`
/// is a subtree of the tree of `size` leaves. With `start == 0` it is the RFC consistency proof
/// of old size `end`. An empty subtree (`start == end <= size`) has the empty proof.
pub fn subtree_consistency_proof<S: NodeSource>(
    src: &S,
    start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    check_subtree_in(start, end, size)?;
    if start == end {
        return Ok(Vec::new());
    }
    check_subtree(start, end)?;
    subtree_proof(src, start, end, size).map_err(ProofError::Source)
}

/// PATH for a leaf in `[lo, hi)`, walking down from the top and reversing at the end, so the
/// order is the RFC's: the sibling nearest the leaf first.
fn path<S: NodeSource>(
    src: &S,
    index: u64,
    mut lo: u64,
    mut hi: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::with_capacity(64 - (hi - lo).leading_zeros() as usize);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            proof.push(range_hash(src, mid, hi)?);
            hi = mid;
        } else {
            proof.push(range_hash(src, lo, mid)?);
            lo = mid;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The SUBTREE_PROOF recursion as a loop over the current range `[lo, hi)`. `known` is the
/// RFC's flag b: the verifier already holds the subtree's hash, so the bottom is omitted.
fn subtree_proof<S: NodeSource>(
    src: &S,
    mut start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let (mut lo, mut hi) = (0, size);
    let mut known = true;
    let mut proof = Vec::with_capacity(65);
    while !(start == lo && end == hi) {
        let mid = lo + split(hi - lo);
        if end <= mid {
            proof.push(range_hash(src, mid, hi)?);
            hi = mid;
        } else {
            proof.push(range_hash(src, lo, mid)?);
            if start < mid {
                // A valid subtree can only straddle the split when it starts the range.
                debug_assert_eq!(start, lo);
                start = mid;
                known = false;
            }
            lo = mid;
        }
    }
    if !known {
        proof.push(range_hash(src, lo, hi)?);
    }
    proof.reverse();
    Ok(proof)
}
