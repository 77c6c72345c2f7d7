//! Tree hashes read from stored perfect subtrees: the `NodeSource` trait, range and root
//! hashes over it, and an in-memory tree.

use std::convert::Infallible;
use std::fmt;

use crate::hash::{EMPTY_ROOT, Hash, node_hash, split};

/// Hashes of perfect, aligned subtrees: the node at `level` and `index` covers leaves
/// `[index << level, (index + 1) << level)`. Level 0 is the leaf hashes.
///
/// Callers in this crate only ask for nodes that lie entirely inside the tree they work on.
pub trait NodeSource {
    type Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, S::Error> {
        (**self).node(level, index)
    }
}

/// MTH(D\[start:end\]), the RFC 6962 hash of the leaves in `[start, end)` taken as a list of
/// their own (so the split is at `start` plus the largest power of two below the length).
///
/// When `start` is aligned the way proofs need it (every range that appears in an inclusion,
/// consistency or subtree proof, and every prefix `[0, n)`), each piece of the split is an
/// aligned perfect node and this reads at most one node per level: O(log n). A range whose
/// start is not aligned has no stored nodes for its pieces, so those are rebuilt from smaller
/// nodes, down to leaves in the worst case.
///
/// # Panics
/// If `start > end`.
pub fn range_hash<S: NodeSource>(src: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    assert!(start <= end, "range_hash: start {start} is after end {end}");
    if start == end {
        return Ok(EMPTY_ROOT);
    }
    mth(src, start, end - start)
}

/// The root of the tree of the first `size` leaves; `EMPTY_ROOT` for 0.
pub fn root<S: NodeSource>(src: &S, size: u64) -> Result<Hash, S::Error> {
    range_hash(src, 0, size)
}

fn mth<S: NodeSource>(src: &S, start: u64, len: u64) -> Result<Hash, S::Error> {
    if len.is_power_of_two() && start & (len - 1) == 0 {
        let level = len.trailing_zeros() as u8;
        return src.node(level, start >> level);
    }
    let k = split(len);
    let left = mth(src, start, k)?;
    let right = mth(src, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// All leaf hashes in memory, with every perfect node above them kept as it completes, so
/// node lookups are O(1). For tests and small trees.
#[derive(Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the node at level `l`, index `i`; `levels[0]` are the leaves.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a leaf hash and the perfect nodes it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            hash = node_hash(&row[n - 2], &row[n - 1]);
            level += 1;
        }
    }

    pub fn len(&self) -> u64 {
        self.leaves().len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.leaves().is_empty()
    }

    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }
}

impl FromIterator<Hash> for MemoryTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> MemoryTree {
        let mut tree = MemoryTree::new();
        leaves.into_iter().for_each(|leaf| tree.push(leaf));
        tree
    }
}

impl fmt::Debug for MemoryTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hashes themselves are rarely useful and can be millions of lines.
        f.debug_struct("MemoryTree")
            .field("len", &self.len())
            .finish()
    }
}

impl NodeSource for MemoryTree {
    type Error = Infallible;

    /// # Panics
    /// If the node is not complete in this tree: asking for it is a caller bug.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Infallible> {
        let node = self
            .levels
            .get(usize::from(level))
            .and_then(|row| row.get(usize::try_from(index).ok()?));
        match node {
            Some(hash) => Ok(*hash),
            None => panic!(
                "MemoryTree: no complete node at level {level} index {index} in a tree of {} leaves",
                self.len()
            ),
        }
    }
}
