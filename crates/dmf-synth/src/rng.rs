//! The run's random streams: each kind of draw and each chunk its own stream from the seed,
//! so that the output does not depend on the order or number of threads.

use rand_pcg::Pcg64Mcg;

/// Kinds of random stream, so that no two uses of the seed share one.
pub mod stream {
    pub const CORE: u64 = 1;
    pub const NAMES: u64 = 2;
    pub const REST: u64 = 3;
    pub const CLIENT_ORDER: u64 = 4;
    pub const CLIENT_BLOCK: u64 = 5;
    pub const ERRONEOUS: u64 = 6;
    pub const KEYS: u64 = 7;
}

/// The random stream number `index` of a kind, from the run's seed: streams of different
/// kinds or indices are unrelated.
pub fn rng_for(seed: u64, kind: u64, index: u64) -> Pcg64Mcg {
    let a = mix(mix(seed ^ mix(kind)) ^ index);
    let b = mix(a ^ 0x9e37_79b9_7f4a_7c15);
    Pcg64Mcg::new((u128::from(a) << 64) | u128::from(b))
}

/// A 64-bit mixing function (the SplitMix64 finalizer): seeds and hashes from counters.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
