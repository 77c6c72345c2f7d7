//! The right edge of a growing tree: enough to append leaves and compute the root without
//! reading anything back.

use std::fmt;

use crate::Hex;
use crate::hash::{EMPTY_ROOT, Hash, node_hash};
use crate::source::NodeSource;

/// The right edge of a growing tree: one perfect subtree hash per set bit of `size`.
///
/// A fixed array (not a `Vec`) so that pushing never allocates.
#[derive(Clone)]
pub struct Frontier {
    size: u64,
    /// `nodes[l]` is the perfect subtree of `2^l` leaves when bit `l` of `size` is set, and
    /// meaningless otherwise.
    nodes: [Hash; 64],
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier {
            size: 0,
            nodes: [[0; 32]; 64],
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree root; `EMPTY_ROOT` when empty.
    pub fn root(&self) -> Hash {
        // RFC 6962 nests the subtrees to the right: fold from the smallest one.
        let mut bits = self.size;
        let mut root: Option<Hash> = None;
        while bits != 0 {
            let level = bits.trailing_zeros() as usize;
            let node = &self.nodes[level];
            root = Some(match root {
                None => *node,
                Some(right) => node_hash(node, &right),
            });
            bits &= bits - 1;
        }
        root.unwrap_or(EMPTY_ROOT)
    }

    /// Appends a leaf hash; calls `done(level, index, &hash)` for every perfect node it
    /// completes, from level 0 (the leaf itself) upwards, so a caller can store the nodes it
    /// keeps. Amortised O(1): on average one node hash per leaf.
    ///
    /// # Panics
    /// If the tree already holds `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Hash, mut done: impl FnMut(u8, u64, &Hash)) {
        assert!(self.size < u64::MAX, "Frontier::push: tree is full");
        let mut hash = leaf;
        let mut level = 0usize;
        let mut index = self.size;
        done(0, index, &hash);
        // Each set low bit is a subtree of the same size waiting on the left: merge them.
        while self.size >> level & 1 == 1 {
            hash = node_hash(&self.nodes[level], &hash);
            level += 1;
            index >>= 1;
            done(level as u8, index, &hash);
        }
        self.nodes[level] = hash;
        self.size += 1;
    }

    /// The frontier of a tree of `size` leaves, read from perfect nodes (one per set bit).
    pub fn at<S: NodeSource>(src: &S, size: u64) -> Result<Frontier, S::Error> {
        let mut frontier = Frontier {
            size,
            ..Frontier::new()
        };
        let mut bits = size;
        while bits != 0 {
            let level = bits.trailing_zeros();
            // Bit `level` is set, so the subtree just before the smaller ones has this index.
            let index = (size >> level) - 1;
            frontier.nodes[level as usize] = src.node(level as u8, index)?;
            bits &= bits - 1;
        }
        Ok(frontier)
    }

    /// The subtrees, largest (leftmost) first, as `(level, index, hash)`.
    pub fn nodes(&self) -> impl Iterator<Item = (u8, u64, &Hash)> + '_ {
        (0..64u32)
            .rev()
            .filter(|&level| self.size >> level & 1 == 1)
            .map(|level| {
                (
                    level as u8,
                    (self.size >> level) - 1,
                    &self.nodes[level as usize],
                )
            })
    }
}

impl Default for Frontier {
    fn default() -> Frontier {
        Frontier::new()
    }
}

impl PartialEq for Frontier {
    fn eq(&self, other: &Frontier) -> bool {
        self.size == other.size && self.nodes().eq(other.nodes())
    }
}

impl Eq for Frontier {}

impl fmt::Debug for Frontier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Nodes<'a>(&'a Frontier);
        impl fmt::Debug for Nodes<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let entries =
                    (self.0.nodes()).map(|(level, index, hash)| (level, index, Hex(hash)));
                f.debug_list().entries(entries).finish()
            }
        }
        f.debug_struct("Frontier")
            .field("size", &self.size)
            .field("nodes", &Nodes(self))
            .finish()
    }
}
