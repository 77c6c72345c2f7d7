//! Proof verification: pure, constant memory, and total: malformed input is an error, never a
//! panic.

use crate::hash::{EMPTY_ROOT, Hash, node_hash, split};
use crate::proof::{RangeError, check_index, check_subtree, check_subtree_in};

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{reason}")]
    OutOfRange { reason: RangeError },
    #[error("proof is too short: it has {got} hashes, {expected} expected")]
    ProofTooShort { expected: usize, got: usize },
    #[error("proof is too long: it has {got} hashes, {expected} expected")]
    ProofTooLong { expected: usize, got: usize },
    #[error("proof does not lead to the expected tree root")]
    RootMismatch,
    #[error("proof does not lead to the expected old root or subtree hash")]
    SubtreeMismatch,
    #[error("a tree or subtree with no leaves must have the empty root")]
    EmptyRootMismatch,
}

impl From<RangeError> for VerifyError {
    fn from(reason: RangeError) -> VerifyError {
        VerifyError::OutOfRange { reason }
    }
}

fn check_len(got: usize, expected: usize) -> Result<(), VerifyError> {
    match got.cmp(&expected) {
        std::cmp::Ordering::Less => Err(VerifyError::ProofTooShort { expected, got }),
        std::cmp::Ordering::Greater => Err(VerifyError::ProofTooLong { expected, got }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn check_root(computed: &Hash, expected: &Hash, err: VerifyError) -> Result<(), VerifyError> {
    if computed == expected {
        Ok(())
    } else {
        Err(err)
    }
}

/// Checks an RFC 9162 inclusion proof of `leaf` at `index` in the tree of `size` leaves.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    check_index(index, size)?;
    let computed = root_from_path(index, size, leaf, proof)?;
    check_root(&computed, root, VerifyError::RootMismatch)
}

/// Checks the inclusion of leaf `index` in the subtree `[start, end)` whose hash is `subtree`.
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree: &Hash,
) -> Result<(), VerifyError> {
    check_subtree(start, end)?;
    if !(start..end).contains(&index) {
        return Err(RangeError::IndexOutsideSubtree { index, start, end }.into());
    }
    let computed = root_from_path(index - start, end - start, leaf, proof)?;
    check_root(&computed, subtree, VerifyError::RootMismatch)
}

/// Walks up the levels of the tree: at each level the node on the path has a sibling unless
/// it is the last node of that level with an even index (RFC 6962 then promotes it unchanged).
fn root_from_path(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Result<Hash, VerifyError> {
    let (mut i, mut last) = (index, size - 1);
    let mut expected = 0;
    while last > 0 {
        if i & 1 == 1 || i < last {
            expected += 1;
        }
        i >>= 1;
        last >>= 1;
    }
    check_len(proof.len(), expected)?;

    let (mut i, mut last) = (index, size - 1);
    let mut hash = *leaf;
    let mut siblings = proof.iter();
    while last > 0 {
        if i & 1 == 1 {
            hash = node_hash(next(&mut siblings)?, &hash);
        } else if i < last {
            hash = node_hash(&hash, next(&mut siblings)?);
        }
        i >>= 1;
        last >>= 1;
    }
    Ok(hash)
}

/// The length was checked up front; this only keeps a logic slip from becoming a panic.
fn next<'a>(it: &mut std::slice::Iter<'a, Hash>) -> Result<&'a Hash, VerifyError> {
    it.next().ok_or(VerifyError::ProofTooShort {
        expected: 0,
        got: 0,
    })
}

/// Checks an RFC 9162 consistency proof between the tree of `old_size` leaves with root
/// `old_root` and the tree of `new_size` leaves with root `new_root`.
///
/// Equal sizes need an empty proof and equal roots. An old size of 0 with a larger new size is
/// rejected (RFC 9162 has no such proof; every tree extends the empty one, so there is nothing
/// to check).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(RangeError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        }
        .into());
    }
    if old_size == 0 {
        if new_size > 0 {
            return Err(RangeError::FromEmptyTree { new: new_size }.into());
        }
        check_len(proof.len(), 0)?;
        check_root(old_root, &EMPTY_ROOT, VerifyError::EmptyRootMismatch)?;
        return check_root(new_root, &EMPTY_ROOT, VerifyError::EmptyRootMismatch);
    }
    subtree_consistency(0, old_size, new_size, proof, old_root, new_root)
}

/// Checks a Merkle Tree Certificates subtree consistency proof: that `[start, end)`, with hash
/// `subtree`, is a subtree of the tree of `size` leaves with root `root`.
///
/// An empty subtree (`start == end <= size`) is part of every tree: it needs an empty proof and
/// the empty root as its hash, and `root` is not looked at.
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree: &Hash,
    root: &Hash,
) -> Result<(), VerifyError> {
    check_subtree_in(start, end, size)?;
    if start == end {
        check_len(proof.len(), 0)?;
        return check_root(subtree, &EMPTY_ROOT, VerifyError::EmptyRootMismatch);
    }
    check_subtree(start, end)?;
    subtree_consistency(start, end, size, proof, subtree, root)
}

/// The decisions of the SUBTREE_PROOF recursion, top first, one bit per step.
struct Descent {
    steps: u32,
    /// The subtree lay in the left half, so the proof hash is the right sibling.
    left: u64,
    /// The subtree straddled the split: the proof hash is also the subtree's left part.
    straddle: u64,
    /// The recursion ended on the subtree itself, whose hash the verifier has.
    known: bool,
}

/// Replays the generator's recursion for a valid subtree `[start, end)` of `[0, size)`. Each
/// step at least halves the range, so there are at most 64 and they fit in the masks.
fn descend(mut start: u64, end: u64, size: u64) -> Descent {
    let (mut lo, mut hi) = (0, size);
    let mut d = Descent {
        steps: 0,
        left: 0,
        straddle: 0,
        known: true,
    };
    while !(start == lo && end == hi) {
        let mid = lo + split(hi - lo);
        let bit = 1u64 << d.steps;
        if end <= mid {
            d.left |= bit;
            hi = mid;
        } else {
            if start < mid {
                d.straddle |= bit;
                d.known = false;
                start = mid;
            }
            lo = mid;
        }
        d.steps += 1;
    }
    d
}

/// Mirrors the recursion bottom-up, rebuilding the subtree's hash and the root side by side.
fn subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree: &Hash,
    root: &Hash,
) -> Result<(), VerifyError> {
    let d = descend(start, end, size);
    check_len(proof.len(), d.steps as usize + usize::from(!d.known))?;
    let mut hashes = proof.iter();
    let seed = if d.known {
        *subtree
    } else {
        *next(&mut hashes)?
    };
    let (mut sub, mut top) = (seed, seed);
    for step in (0..d.steps).rev() {
        let bit = 1u64 << step;
        let p = next(&mut hashes)?;
        if d.left & bit != 0 {
            top = node_hash(&top, p);
        } else {
            top = node_hash(p, &top);
            if d.straddle & bit != 0 {
                sub = node_hash(p, &sub);
            }
        }
    }
    check_root(&sub, subtree, VerifyError::SubtreeMismatch)?;
    check_root(&top, root, VerifyError::RootMismatch)
}
