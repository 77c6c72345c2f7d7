//! SSN assignment: the pre-2011 structure (area by state, groups in their historical order,
//! serials in sequence) and the randomized numbers issued since 2011-06-25.

use dmf_model::Ssn;

/// Serials 0001-9999 in a group.
pub(crate) const SERIALS: u64 = 9_999;
/// Groups 01-99 in an area.
pub(crate) const GROUPS: u64 = 99;
/// Numbers in one area.
pub(crate) const PER_AREA: u64 = GROUPS * SERIALS;

/// The `i`-th group (0-based) in the order groups were issued within an area:
/// odd 01-09, even 10-98, even 02-08, odd 11-99.
pub(crate) fn group_at(i: u64) -> u8 {
    let g = match i {
        0..5 => 1 + 2 * i,
        5..50 => 10 + 2 * (i - 5),
        50..54 => 2 + 2 * (i - 50),
        54..99 => 11 + 2 * (i - 54),
        _ => panic!("group index {i} is past the 99 groups"),
    };
    g as u8
}

/// How many numbers a list of area ranges holds.
pub(crate) fn capacity(areas: &[(u16, u16)]) -> u64 {
    areas
        .iter()
        .map(|&(lo, hi)| u64::from(hi - lo + 1) * PER_AREA)
        .sum()
}

/// The `slot`-th number a state issues: range by range; within a range group by group, and
/// within a group area by area, serials in sequence. This is how the published "high group"
/// lists progressed: all areas of a state at about the same group.
pub(crate) fn state_ssn(areas: &[(u16, u16)], slot: u64) -> Ssn {
    let mut s = slot;
    for &(lo, hi) in areas {
        let n = u64::from(hi - lo + 1);
        if s < n * PER_AREA {
            let per_group = n * SERIALS;
            let group = group_at(s / per_group);
            let rem = s % per_group;
            let area = lo + (rem / SERIALS) as u16;
            let serial = (rem % SERIALS) as u16 + 1;
            return Ssn::from_parts(area, group, serial).expect("state areas are issuable");
        }
        s -= n * PER_AREA;
    }
    panic!("slot {slot} is past the state's areas")
}

/// Areas no state was given before 2011: the randomized numbers are drawn from these, so they
/// can never collide with a structured one.
pub(crate) const POOL_AREAS: [(u16, u16); 2] = [(734, 749), (773, 899)];

/// Numbers in the randomized pool.
pub(crate) const POOL_CAPACITY: u64 = (16 + 127) * PER_AREA;

/// Bits of the Feistel domain: the smallest even width holding the pool.
const HALF_BITS: u32 = 14;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
const _: () = assert!(POOL_CAPACITY <= 1 << (2 * HALF_BITS));

/// A keyed bijection of counters onto the randomized pool: counter `k` gets a random-looking
/// number, and different counters never get the same one.
#[derive(Debug, Clone)]
pub(crate) struct RandomPool {
    keys: [u64; 4],
}

impl RandomPool {
    pub fn new(seed: u64) -> RandomPool {
        let mut keys = [0; 4];
        let mut s = seed ^ 0x005e_ed0f_5511_2011;
        for k in &mut keys {
            s = crate::rng::mix(s);
            *k = s;
        }
        RandomPool { keys }
    }

    /// A balanced Feistel network on 28 bits: a permutation of `0..2^28`.
    fn permute(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> HALF_BITS, x & HALF_MASK);
        for &k in &self.keys {
            let f = crate::rng::mix(r ^ k) & HALF_MASK;
            (l, r) = (r, l ^ f);
        }
        (l << HALF_BITS) | r
    }

    /// The pool position of counter `ordinal` (below [`POOL_CAPACITY`]). Cycle walking keeps
    /// the permutation inside the pool, so the map stays one to one.
    pub fn index(&self, ordinal: u64) -> u64 {
        assert!(ordinal < POOL_CAPACITY, "the randomized pool is exhausted");
        let mut x = self.permute(ordinal);
        while x >= POOL_CAPACITY {
            x = self.permute(x);
        }
        x
    }

    pub fn ssn(&self, ordinal: u64) -> Ssn {
        let v = self.index(ordinal);
        let mut area_index = v / PER_AREA;
        let mut area = 0;
        for &(lo, hi) in &POOL_AREAS {
            let n = u64::from(hi - lo + 1);
            if area_index < n {
                area = lo + area_index as u16;
                break;
            }
            area_index -= n;
        }
        let group = (v / SERIALS % GROUPS) as u8 + 1;
        let serial = (v % SERIALS) as u16 + 1;
        Ssn::from_parts(area, group, serial).expect("pool areas are issuable")
    }
}
