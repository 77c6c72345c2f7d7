//! Jaro-Winkler similarity on ASCII bytes, without allocation.
//!
//! The same definition as `strsim::jaro_winkler` (match window `max(len) / 2 - 1`, prefix of at
//! most four, scale 0.1, boost only above 0.7), which a property test checks; `strsim` keeps
//! a vector of flags per call, which the comparison hot path cannot afford, so names of up to 64
//! bytes use two bit sets instead.

/// Jaro-Winkler similarity of two ASCII names.
pub(crate) fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    if a.len() > 64 || b.len() > 64 {
        return strsim::jaro_winkler(
            std::str::from_utf8(a).unwrap_or_default(),
            std::str::from_utf8(b).unwrap_or_default(),
        );
    }
    let j = jaro(a, b);
    if j > 0.7 {
        j + 0.1 * prefix(a, b) as f64 * (1.0 - j)
    } else {
        j
    }
}

/// The common prefix, at most four letters.
#[inline]
pub(crate) fn prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count()
}

/// The highest Jaro-Winkler similarity two names of these lengths can have when at most
/// `common` letters can match and they share a prefix of `prefix` letters: all those letters
/// matched, none transposed.
#[inline]
pub(crate) fn upper_bound(len_a: usize, len_b: usize, common: usize, prefix: usize) -> f64 {
    if len_a == 0 || len_b == 0 {
        return if len_a == len_b { 1.0 } else { 0.0 };
    }
    let m = common.min(len_a).min(len_b) as f64;
    if m == 0.0 {
        return 0.0;
    }
    let j = (m / len_a as f64 + m / len_b as f64 + 1.0) / 3.0;
    if j > 0.7 {
        j + 0.1 * prefix as f64 * (1.0 - j)
    } else {
        j
    }
}

/// Jaro similarity of two names of at most 64 bytes.
fn jaro(a: &[u8], b: &[u8]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 && lb == 0 {
        return 1.0;
    }
    if la == 0 || lb == 0 {
        return 0.0;
    }
    let window = (la.max(lb) / 2).saturating_sub(1);
    let (mut a_flags, mut b_flags) = (0u64, 0u64);
    let mut matches = 0u32;
    for (i, &x) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = lb.min(i + window + 1);
        for (j, &y) in b.iter().enumerate().take(hi).skip(lo) {
            if b_flags >> j & 1 == 0 && y == x {
                a_flags |= 1 << i;
                b_flags |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    // Matched letters of each side in order; a transposition is a position where they differ.
    let mut half_transpositions = 0u32;
    while a_flags != 0 {
        let i = a_flags.trailing_zeros() as usize;
        let j = b_flags.trailing_zeros() as usize;
        a_flags &= a_flags - 1;
        b_flags &= b_flags - 1;
        half_transpositions += u32::from(a[i] != b[j]);
    }
    let m = f64::from(matches);
    let t = f64::from(half_transpositions / 2);
    (m / la as f64 + m / lb as f64 + (m - t) / m) / 3.0
}
