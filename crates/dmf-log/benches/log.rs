//! Benchmarks of hashing, appending and proofs at the sizes the registry log runs at.

use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use dmf_log::{
    Frontier, Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root,
    verify_inclusion,
};

const LEAVES: u64 = 1 << 20;

fn main() {
    divan::main();
}

fn leaves() -> &'static [Hash] {
    static LEAVES_: LazyLock<Vec<Hash>> =
        LazyLock::new(|| (0..LEAVES).map(|i| leaf_hash(&i.to_le_bytes())).collect());
    &LEAVES_
}

/// Every level stored, so a node lookup is an index: the proofs' own cost is what is measured.
fn tree() -> &'static MemoryTree {
    static TREE: LazyLock<MemoryTree> = LazyLock::new(|| leaves().iter().copied().collect());
    &TREE
}

/// Spreads benchmark inputs over the tree without a random number generator.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % n
}

#[divan::bench]
fn leaf_hash_300_bytes(bencher: Bencher) {
    let data = [0x5a_u8; 300];
    bencher
        .counter(BytesCount::new(data.len()))
        .bench(|| leaf_hash(black_box(&data)));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn frontier_push_1m(bencher: Bencher) {
    let leaves = leaves();
    bencher.counter(ItemsCount::new(leaves.len())).bench(|| {
        let mut frontier = Frontier::new();
        for leaf in leaves {
            frontier.push(*leaf, |_, _, _| {});
        }
        frontier.root()
    });
}

#[divan::bench]
fn inclusion_proof_1m(bencher: Bencher) {
    let tree = tree();
    let mut i = 0;
    bencher.bench_local(|| {
        i += 1;
        inclusion_proof(tree, spread(i, LEAVES - 1), LEAVES - 1)
    });
}

#[divan::bench]
fn consistency_proof_1m(bencher: Bencher) {
    let tree = tree();
    let mut i = 0;
    bencher.bench_local(|| {
        i += 1;
        consistency_proof(tree, spread(i, LEAVES - 2) + 1, LEAVES - 1)
    });
}

#[divan::bench]
fn verify_inclusion_1m(bencher: Bencher) {
    let (tree, size) = (tree(), LEAVES - 1);
    let top = root(tree, size).unwrap();
    let index = spread(7, size);
    let proof = inclusion_proof(tree, index, size).unwrap();
    let leaf = leaves()[index as usize];
    bencher.bench(|| verify_inclusion(index, size, &leaf, black_box(&proof), &top));
}
