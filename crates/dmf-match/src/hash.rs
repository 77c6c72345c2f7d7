//! Hashing for interning and blocking keys, and counter-based random draws.
//!
//! The standard library's SipHash resists flooding but costs more than the rest of a name
//! lookup; our keys are names and dates from files the operator chose, so a plain
//! multiply-and-mix hash is enough.

use std::hash::{BuildHasher, Hasher};

/// A 64-bit mixing function (the SplitMix64 finalizer).
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform draw below `n` from the `i`-th value of the stream `seed`: the same seed gives
/// the same draws on any number of threads.
#[inline]
pub(crate) fn draw(seed: u64, i: u64, n: u64) -> u64 {
    ((u128::from(mix(seed ^ mix(i))) * u128::from(n)) >> 64) as u64
}

/// Hashes bytes eight at a time; for names of a few letters.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = (h ^ u64::from_le_bytes(w))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
        self.0 = h ^ bytes.len() as u64;
    }

    #[inline]
    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0 ^ w)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        // `str`'s Hash writes a 0xff terminator; the length is already mixed in by `write`.
        self.0 ^= u64::from(i) << 56;
    }

    #[inline]
    fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// Builds [`NameHasher`]s for the interning map.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BuildNameHasher;

impl BuildHasher for BuildNameHasher {
    type Hasher = NameHasher;

    fn build_hasher(&self) -> NameHasher {
        NameHasher::default()
    }
}
