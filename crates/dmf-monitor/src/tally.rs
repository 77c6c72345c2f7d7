//! Leaves counted as they are read, by the bytes of what statistics count, on every thread
//! that reads them; tallies are merged, and their keys decoded, once at the end. Counting is
//! order-free, so only the tree hashes need the leaves in order.

use std::collections::HashMap;

use crate::leaf::{COUNTED, LeafView, Str};

/// One combination statistics count, as decoded values: the day, the event type and the
/// fields of [`COUNTED`], and whether the leaf's commitments name `supersedes`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Counted {
    pub day: String,
    pub event_type: String,
    pub fields: [Option<String>; 6],
    pub supersedes: bool,
}

/// Leaves counted by their raw key.
#[derive(Debug, Default)]
pub struct Tally {
    counts: HashMap<Box<[u8]>, u64>,
    scratch: Vec<u8>,
    leaves: u64,
}

const ABSENT: u8 = b'-';
const PLAIN: u8 = b'p';
const ESCAPED: u8 = b'e';

fn push_str(key: &mut Vec<u8>, s: &Str<'_>) {
    key.push(if s.escaped { ESCAPED } else { PLAIN });
    key.extend_from_slice(s.raw);
    // No control character is in a leaf, so a NUL ends the field.
    key.push(0);
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Counts a leaf. A leaf whose time has no day is refused, as statistics refuse it.
    pub fn add(&mut self, v: &LeafView<'_>) -> Result<(), String> {
        let day = v
            .day()
            .ok_or_else(|| format!("malformed time {:?}", String::from_utf8_lossy(v.time.raw)))?;
        if day.contains('\0') {
            return Err("a NUL in the leaf's time".into());
        }
        let key = &mut self.scratch;
        key.clear();
        key.extend_from_slice(day.as_bytes());
        key.push(0);
        push_str(key, &v.event_type);
        for f in &v.counted {
            match f {
                Some(s) => push_str(key, s),
                None => key.push(ABSENT),
            }
        }
        key.push(u8::from(v.supersedes));
        match self.counts.get_mut(key.as_slice()) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(key.as_slice().into(), 1);
            }
        }
        self.leaves += 1;
        Ok(())
    }

    /// Leaves counted.
    pub fn leaves(&self) -> u64 {
        self.leaves
    }

    pub fn merge(&mut self, other: Tally) {
        self.leaves += other.leaves;
        for (k, n) in other.counts {
            *self.counts.entry(k).or_default() += n;
        }
    }

    /// The counts by decoded key. Two spellings of one value (an escape and the character it
    /// stands for) are two entries here, and add up where they are summed.
    pub fn into_counts(self) -> Vec<(Counted, u64)> {
        self.counts
            .into_iter()
            .map(|(k, n)| (decode_key(&k), n))
            .collect()
    }
}

/// The key [`Tally::add`] wrote, read back.
fn decode_key(key: &[u8]) -> Counted {
    let mut at = 0;
    let field = |at: &mut usize| -> Option<String> {
        let tag = key[*at];
        *at += 1;
        if tag == ABSENT {
            return None;
        }
        let len = key[*at..].iter().position(|&b| b == 0).unwrap_or(0);
        let s = Str {
            raw: &key[*at..*at + len],
            escaped: tag == ESCAPED,
        };
        *at += len + 1;
        Some(s.decode().into_owned())
    };
    let day_len = key.iter().position(|&b| b == 0).unwrap_or(0);
    let day = String::from_utf8_lossy(&key[..day_len]).into_owned();
    at += day_len + 1;
    let event_type = field(&mut at).unwrap_or_default();
    let fields: [Option<String>; 6] = std::array::from_fn(|_| field(&mut at));
    debug_assert_eq!(COUNTED.len(), fields.len());
    Counted {
        day,
        event_type,
        fields,
        supersedes: key.get(at) == Some(&1),
    }
}
