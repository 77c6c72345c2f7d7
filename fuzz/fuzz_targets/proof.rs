//! The proof verifiers of `dmf_log` (inclusion, consistency, and the subtree proofs of Merkle
//! Tree Certificates) against proofs `dmf_log` generates, and on arbitrary input.
//!
//! Trees: a `MemoryTree` of 1 to 256 distinct leaves, or a tree of any size up to 2^64 - 1
//! whose leaves are all equal (every node of a level has the same hash, so nodes of any level
//! cost nothing). Properties: parameters the generator refuses, the verifier refuses too;
//! a generated proof verifies; a proof or a hash changed in any way does not (nor, in the tree
//! of distinct leaves, the proof of another leaf); arbitrary proofs and numbers never panic.

#![no_main]

use std::convert::Infallible;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use dmf_log::{
    Hash, MemoryTree, NodeSource, consistency_proof, inclusion_proof, leaf_hash, node_hash,
    range_hash, root, subtree_consistency_proof, subtree_inclusion_proof, verify_consistency,
    verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    leaves: u8,
    uniform: bool,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Inclusion {
        index: u64,
        size: u64,
        change: Change,
    },
    Consistency {
        old: u64,
        new: u64,
        change: Change,
    },
    SubtreeInclusion {
        index: u64,
        start: u64,
        end: u64,
        change: Change,
    },
    SubtreeConsistency {
        start: u64,
        end: u64,
        size: u64,
        change: Change,
    },
    Raw(Raw),
}

/// What to do to a generated proof before verifying it again.
#[derive(Debug, Arbitrary)]
enum Change {
    None,
    /// Flip one bit of one proof hash.
    Flip {
        hash: u8,
        byte: u8,
        bit: u8,
    },
    /// Flip one bit of a hash given with the proof: the leaf, old root or subtree (`first`),
    /// or the root.
    FlipGiven {
        first: bool,
        byte: u8,
        bit: u8,
    },
    Remove(u8),
    Insert(u8, [u8; 32]),
    Duplicate(u8),
    Swap(u8, u8),
    Truncate(u8),
    Reverse,
    /// Another leaf index in the same tree (inclusion proofs, distinct leaves only).
    Index(u64),
}

#[derive(Debug, Arbitrary)]
enum Raw {
    Inclusion {
        index: u64,
        size: u64,
        leaf: [u8; 32],
        proof: Vec<[u8; 32]>,
        root: [u8; 32],
    },
    Consistency {
        old: u64,
        new: u64,
        proof: Vec<[u8; 32]>,
        old_root: [u8; 32],
        new_root: [u8; 32],
    },
    SubtreeInclusion {
        index: u64,
        start: u64,
        end: u64,
        leaf: [u8; 32],
        proof: Vec<[u8; 32]>,
        subtree: [u8; 32],
    },
    SubtreeConsistency {
        start: u64,
        end: u64,
        size: u64,
        proof: Vec<[u8; 32]>,
        subtree: [u8; 32],
        root: [u8; 32],
    },
}

/// A tree of any size whose leaves are all the same: the node of a level is the same
/// everywhere.
struct Uniform {
    levels: [Hash; 64],
}

impl NodeSource for Uniform {
    type Error = Infallible;
    fn node(&self, level: u8, _index: u64) -> Result<Hash, Infallible> {
        Ok(self.levels[usize::from(level)])
    }
}

fn uniform() -> &'static Uniform {
    static TREE: OnceLock<Uniform> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut levels = [[0; 32]; 64];
        levels[0] = leaf_hash(b"uniform");
        for l in 1..64 {
            levels[l] = node_hash(&levels[l - 1], &levels[l - 1]);
        }
        Uniform { levels }
    })
}

fn leaf_of(i: u64) -> Hash {
    leaf_hash(&i.to_le_bytes())
}

fn trees() -> &'static [MemoryTree] {
    static TREES: OnceLock<Vec<MemoryTree>> = OnceLock::new();
    TREES.get_or_init(|| {
        let mut trees = Vec::with_capacity(256);
        let mut tree = MemoryTree::new();
        for i in 0..256 {
            tree.push(leaf_of(i));
            trees.push(tree.clone());
        }
        trees
    })
}

/// The tree ops run against.
enum Tree<'a> {
    Memory(&'a MemoryTree),
    Uniform(&'a Uniform),
}

impl Tree<'_> {
    fn size(&self) -> u64 {
        match self {
            Tree::Memory(t) => t.len(),
            Tree::Uniform(_) => u64::MAX,
        }
    }

    /// A number of the op brought into `0..=size`, so that most ops are about the tree.
    fn fit(&self, n: u64) -> u64 {
        match self {
            Tree::Memory(t) => n % (t.len() + 1),
            Tree::Uniform(_) => n,
        }
    }

    fn leaf(&self, i: u64) -> Hash {
        match self {
            Tree::Memory(_) => leaf_of(i),
            Tree::Uniform(u) => u.levels[0],
        }
    }

    fn range(&self, start: u64, end: u64) -> Hash {
        let Ok(h) = match self {
            Tree::Memory(t) => range_hash(*t, start, end),
            Tree::Uniform(u) => range_hash(*u, start, end),
        };
        h
    }

    fn root(&self, size: u64) -> Hash {
        let Ok(h) = match self {
            Tree::Memory(t) => root(*t, size),
            Tree::Uniform(u) => root(*u, size),
        };
        h
    }
}

fuzz_target!(|input: Input| {
    let tree = if input.uniform {
        Tree::Uniform(uniform())
    } else {
        Tree::Memory(&trees()[usize::from(input.leaves)])
    };
    for op in input.ops.iter().take(16) {
        run(&tree, op);
    }
});

fn run(tree: &Tree<'_>, op: &Op) {
    match op {
        Op::Raw(raw) => run_raw(raw),
        &Op::Inclusion {
            index,
            size,
            ref change,
        } => {
            let (index, size) = (tree.fit(index), tree.fit(size));
            let generated = match tree {
                Tree::Memory(t) => inclusion_proof(*t, index, size),
                Tree::Uniform(u) => inclusion_proof(*u, index, size),
            };
            let Ok(proof) = generated else {
                let leaf = tree.leaf(0);
                assert!(verify_inclusion(index, size, &leaf, &[], &leaf).is_err());
                return;
            };
            let leaf = tree.leaf(index);
            let root = tree.root(size);
            assert_eq!(verify_inclusion(index, size, &leaf, &proof, &root), Ok(()));
            assert!(proof.len() <= 64);
            if let (Change::Index(other), Tree::Memory(_)) = (change, tree) {
                let other = other % size;
                if other != index {
                    assert!(
                        verify_inclusion(other, size, &leaf, &proof, &root).is_err(),
                        "the proof of leaf {index} of {size} passes for leaf {other}"
                    );
                }
                return;
            }
            let mut given = [leaf, root];
            if let Some(changed) = changed(&proof, &mut given, change) {
                let [leaf, root] = given;
                assert!(
                    verify_inclusion(index, size, &leaf, &changed, &root).is_err(),
                    "a changed inclusion proof passes ({index} of {size}, {change:?})"
                );
            }
        }
        &Op::Consistency {
            old,
            new,
            ref change,
        } => {
            let (old, new) = (tree.fit(old), tree.fit(new));
            let generated = match tree {
                Tree::Memory(t) => consistency_proof(*t, old, new),
                Tree::Uniform(u) => consistency_proof(*u, old, new),
            };
            let Ok(proof) = generated else {
                let (r0, r1) = (tree.root(0), tree.root(0));
                assert!(verify_consistency(old, new, &[], &r0, &r1).is_err());
                return;
            };
            let (old_root, new_root) = (tree.root(old), tree.root(new));
            let verified = verify_consistency(old, new, &proof, &old_root, &new_root);
            if old == 0 && new == 0 {
                assert_eq!(verified, Ok(()));
            } else if old == 0 {
                // Generated as empty but refused by the verifier: no proof from the empty tree.
                return;
            } else {
                assert_eq!(verified, Ok(()), "consistency {old} -> {new}");
            }
            assert!(proof.len() <= 65);
            let mut given = [old_root, new_root];
            if let Some(changed) = changed(&proof, &mut given, change) {
                let [old_root, new_root] = given;
                assert!(
                    verify_consistency(old, new, &changed, &old_root, &new_root).is_err(),
                    "a changed consistency proof passes ({old} -> {new}, {change:?})"
                );
            }
        }
        &Op::SubtreeInclusion {
            index,
            start,
            end,
            ref change,
        } => {
            let (index, start, end) = (tree.fit(index), tree.fit(start), tree.fit(end));
            let generated = match tree {
                Tree::Memory(t) => subtree_inclusion_proof(*t, index, start, end),
                Tree::Uniform(u) => subtree_inclusion_proof(*u, index, start, end),
            };
            let Ok(proof) = generated else {
                let leaf = tree.leaf(0);
                assert!(verify_subtree_inclusion(index, start, end, &leaf, &[], &leaf).is_err());
                return;
            };
            // A subtree is a single node (or a prefix of one) only within the tree's leaves.
            if end > tree.size() {
                return;
            }
            let leaf = tree.leaf(index);
            let subtree = tree.range(start, end);
            assert_eq!(
                verify_subtree_inclusion(index, start, end, &leaf, &proof, &subtree),
                Ok(())
            );
            let mut given = [leaf, subtree];
            if let Some(changed) = changed(&proof, &mut given, change) {
                let [leaf, subtree] = given;
                assert!(
                    verify_subtree_inclusion(index, start, end, &leaf, &changed, &subtree).is_err(),
                    "a changed subtree inclusion proof passes ({change:?})"
                );
            }
        }
        &Op::SubtreeConsistency {
            start,
            end,
            size,
            ref change,
        } => {
            let (start, end, size) = (tree.fit(start), tree.fit(end), tree.fit(size));
            let generated = match tree {
                Tree::Memory(t) => subtree_consistency_proof(*t, start, end, size),
                Tree::Uniform(u) => subtree_consistency_proof(*u, start, end, size),
            };
            let Ok(proof) = generated else {
                let h = tree.root(0);
                assert!(verify_subtree_consistency(start, end, size, &[], &h, &h).is_err());
                return;
            };
            let subtree = tree.range(start, end);
            let root = tree.root(size);
            assert_eq!(
                verify_subtree_consistency(start, end, size, &proof, &subtree, &root),
                Ok(()),
                "subtree [{start}, {end}) of {size}"
            );
            // An empty subtree's proof does not look at the root.
            if start == end && matches!(change, Change::FlipGiven { first: false, .. }) {
                return;
            }
            let mut given = [subtree, root];
            if let Some(changed) = changed(&proof, &mut given, change) {
                let [subtree, root] = given;
                assert!(
                    verify_subtree_consistency(start, end, size, &changed, &subtree, &root)
                        .is_err(),
                    "a changed subtree consistency proof passes ({change:?})"
                );
            }
        }
    }
}

/// The proof (and the hashes given with it) after `change`, or `None` when nothing changed.
fn changed(proof: &[Hash], given: &mut [Hash; 2], change: &Change) -> Option<Vec<Hash>> {
    let mut p = proof.to_vec();
    let before = *given;
    let at = |i: u8, len: usize| usize::from(i) % len.max(1);
    match *change {
        Change::None | Change::Index(_) => return None,
        Change::Flip { hash, byte, bit } => {
            if p.is_empty() {
                return None;
            }
            let h = at(hash, p.len());
            p[h][usize::from(byte) % 32] ^= 1 << (bit % 8);
        }
        Change::FlipGiven { first, byte, bit } => {
            given[usize::from(!first)][usize::from(byte) % 32] ^= 1 << (bit % 8);
        }
        Change::Remove(i) => {
            if p.is_empty() {
                return None;
            }
            let i = at(i, p.len());
            p.remove(i);
        }
        Change::Insert(i, h) => {
            let i = usize::from(i) % (p.len() + 1);
            p.insert(i, h);
        }
        Change::Duplicate(i) => {
            if p.is_empty() {
                return None;
            }
            let i = at(i, p.len());
            p.insert(i, p[i]);
        }
        Change::Swap(i, j) => {
            if p.is_empty() {
                return None;
            }
            let (i, j) = (at(i, p.len()), at(j, p.len()));
            p.swap(i, j);
        }
        Change::Truncate(n) => p.truncate(usize::from(n) % (p.len() + 1)),
        Change::Reverse => p.reverse(),
    }
    if p == proof && *given == before {
        None
    } else {
        Some(p)
    }
}

fn run_raw(raw: &Raw) {
    match raw {
        Raw::Inclusion {
            index,
            size,
            leaf,
            proof,
            root,
        } => {
            if verify_inclusion(*index, *size, leaf, proof, root).is_ok() {
                assert!(index < size && proof.len() <= 64);
                if proof.is_empty() {
                    assert_eq!(leaf, root, "an empty proof holds only for the root itself");
                }
            }
        }
        Raw::Consistency {
            old,
            new,
            proof,
            old_root,
            new_root,
        } => {
            if verify_consistency(*old, *new, proof, old_root, new_root).is_ok() {
                assert!(old <= new && proof.len() <= 65);
                if proof.is_empty() {
                    assert_eq!(old, new);
                    assert_eq!(old_root, new_root);
                }
            }
        }
        Raw::SubtreeInclusion {
            index,
            start,
            end,
            leaf,
            proof,
            subtree,
        } => {
            if verify_subtree_inclusion(*index, *start, *end, leaf, proof, subtree).is_ok() {
                assert!(start <= index && index < end && proof.len() <= 64);
            }
        }
        Raw::SubtreeConsistency {
            start,
            end,
            size,
            proof,
            subtree,
            root,
        } => {
            if verify_subtree_consistency(*start, *end, *size, proof, subtree, root).is_ok() {
                assert!(start <= end && end <= size && proof.len() <= 65);
            }
        }
    }
}
