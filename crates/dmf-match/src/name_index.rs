//! An index of people by name and date of birth, for finding a person without a scan of
//! everyone: blocking keys to positions, kept up to date one person at a time.
//!
//! Each person is filed under two keys:
//!
//! - the Double Metaphone code of the last name with the year of birth (0 when unknown), so
//!   that a name spelt another way but sounding alike is found, and a search with a date of
//!   birth reads only the people born within a year of it;
//! - the full date of birth, when complete, so that a changed last name (a marriage) or a
//!   misspelling that sounds different is found by the date.
//!
//! A lookup asks for the codes of the last name (and of the first name, for first and last
//! names swapped), and of the last names on file one typing error away from it, in the year
//! asked for and the years either side, and for the dates that could be meant (the date, day
//! and month swapped, the same day a year either way). What it returns
//! are candidates: the caller compares each with the matching core and keeps the plausible ones.
//!
//! Keys are 4-byte hashes. Two keys that collide only add candidates, which the comparison
//! drops, so no key is stored in full. A key's positions sit inline while there are three at
//! most (most keys, where a name is rare), in a list of their own past that: about 16 bytes a
//! key, 4 a position.

use std::collections::HashMap;

use dmf_model::PartialDate;
use rphonetic::DoubleMetaphone;

use crate::hash::{BuildNameHasher, mix};
use crate::names::{MAX_NAME, normal_form};

/// An empty inline slot, and the mark of a spilled list in the first slot.
const EMPTY: u32 = u32::MAX;
const SPILLED: u32 = u32::MAX - 1;

/// The positions filed under a key: up to three inline, or the index of a list in `spill`.
type Slots = [u32; 3];

/// People by the sound of their last name and year of birth, and by date of birth.
#[derive(Default)]
pub struct NameIndex {
    keys: HashMap<u32, Slots, BuildNameHasher>,
    spill: Vec<Vec<u32>>,
    /// Spilled lists emptied, for reuse.
    free: Vec<u32>,
    /// The code of each last name seen (normal form): computing it costs more than the rest of
    /// an insertion.
    codes: HashMap<Box<[u8]>, u32, BuildNameHasher>,
    encoder: DoubleMetaphone,
    /// People filed.
    people: usize,
    /// The earliest and latest years of birth filed, for lookups without a date of birth.
    years: Option<(u16, u16)>,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("people", &self.people)
            .field("keys", &self.keys.len())
            .field("names", &self.codes.len())
            .finish()
    }
}

/// What a lookup asks for.
#[derive(Debug, Clone, Default)]
pub struct Lookup<'a> {
    /// Names whose sound is looked up as a last name: the last name asked about, and the first
    /// name too, for names swapped. Raw text; blank names are skipped.
    pub names: &'a [&'a str],
    pub dob: Option<PartialDate>,
}

/// The candidates of a lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nominees {
    /// Positions, each once, the most likely keys' first.
    pub positions: Vec<u32>,
    /// Whether more were filed under the keys asked for than the cap allowed.
    pub capped: bool,
}

/// The key of a last name's code and a year of birth (0 for none).
#[inline]
fn surname_key(code: u32, year: u16) -> u32 {
    (mix(u64::from(code) << 16 | u64::from(year)) as u32) & 0x7fff_ffff
}

/// The key of a complete date of birth.
#[inline]
fn born_key(year: u16, month: u8, day: u8) -> u32 {
    0x8000_0000 | u32::from(year) << 9 | u32::from(month) << 5 | u32::from(day)
}

/// Packs a phonetic code of up to six characters (as the name tables do); 0 for none.
fn pack(code: &str) -> u32 {
    code.bytes().take(6).fold(0, |acc, c| {
        let v = match c {
            b'A'..=b'Z' => c - b'A' + 1,
            b'0' => 27,
            _ => 28,
        };
        acc << 5 | u32::from(v)
    })
}

impl NameIndex {
    pub fn new() -> NameIndex {
        NameIndex::default()
    }

    /// People filed.
    pub fn len(&self) -> usize {
        self.people
    }

    pub fn is_empty(&self) -> bool {
        self.people == 0
    }

    /// The Double Metaphone codes (primary, alternate) of a name's normal form.
    fn codes_of(&self, name: &[u8]) -> [u32; 2] {
        let text = std::str::from_utf8(name).unwrap_or_default();
        let c = self.encoder.double_metaphone(text);
        [pack(c.primary().as_str()), pack(c.alternate().as_str())]
    }

    /// The primary code of a last name on file, remembered.
    fn code(&mut self, last: &[u8]) -> u32 {
        if let Some(&c) = self.codes.get(last) {
            return c;
        }
        let c = self.codes_of(last)[0];
        self.codes.insert(last.into(), c);
        c
    }

    /// The keys a person is filed under.
    fn keys_of(&mut self, last: &str, dob: Option<PartialDate>) -> ([u32; 2], usize) {
        let mut buf = [0u8; MAX_NAME];
        let name = normal_form(last, true, &mut buf);
        let mut keys = [0u32; 2];
        let mut n = 0;
        if !name.is_empty() {
            let code = self.code(name);
            keys[n] = surname_key(code, dob.map_or(0, |d| d.year()));
            n += 1;
        }
        if let Some((y, Some(m), Some(d))) = dob.map(|d| (d.year(), d.month(), d.day())) {
            keys[n] = born_key(y, m, d);
            n += 1;
        }
        (keys, n)
    }

    /// Files the person at `pos` under their last name and date of birth.
    pub fn insert(&mut self, pos: u32, last: &str, dob: Option<PartialDate>) {
        assert!(pos < SPILLED, "positions below 2^32 - 2");
        let (keys, n) = self.keys_of(last, dob);
        for &k in &keys[..n] {
            self.add(k, pos);
        }
        if let Some(y) = dob.map(|d| d.year()) {
            self.years = Some(self.years.map_or((y, y), |(a, b)| (a.min(y), b.max(y))));
        }
        self.people += 1;
    }

    /// Takes the person at `pos` out from under the last name and date of birth they were filed
    /// with (before a change of either).
    pub fn remove(&mut self, pos: u32, last: &str, dob: Option<PartialDate>) {
        let (keys, n) = self.keys_of(last, dob);
        for &k in &keys[..n] {
            self.take(k, pos);
        }
        self.people = self.people.saturating_sub(1);
    }

    fn add(&mut self, key: u32, pos: u32) {
        let slots = self.keys.entry(key).or_insert([EMPTY; 3]);
        if slots[0] == SPILLED {
            self.spill[slots[1] as usize].push(pos);
            return;
        }
        if let Some(free) = slots.iter_mut().find(|s| **s == EMPTY) {
            *free = pos;
            return;
        }
        let list = slots.iter().copied().chain([pos]).collect::<Vec<u32>>();
        let at = match self.free.pop() {
            Some(at) => {
                self.spill[at as usize] = list;
                at
            }
            None => {
                self.spill.push(list);
                u32::try_from(self.spill.len() - 1).expect("fewer than 4 billion lists")
            }
        };
        *slots = [SPILLED, at, EMPTY];
    }

    fn take(&mut self, key: u32, pos: u32) {
        let Some(slots) = self.keys.get_mut(&key) else {
            return;
        };
        if slots[0] == SPILLED {
            let at = slots[1] as usize;
            let list = &mut self.spill[at];
            if let Some(i) = list.iter().position(|&p| p == pos) {
                list.swap_remove(i);
            }
            if list.len() <= 3 {
                let mut inline = [EMPTY; 3];
                inline[..list.len()].copy_from_slice(list);
                *slots = inline;
                self.spill[at] = Vec::new();
                self.free.push(at as u32);
            }
        } else if let Some(i) = slots.iter().position(|&p| p == pos) {
            slots[i] = EMPTY;
            // Keep the filled slots first, so that an inline list reads until its first gap.
            slots[i..].rotate_left(1);
        }
        if slots[0] == EMPTY {
            self.keys.remove(&key);
        }
    }

    /// The positions filed under a key.
    fn positions(&self, key: u32) -> &[u32] {
        match self.keys.get(&key) {
            None => &[],
            Some(s) if s[0] == SPILLED => &self.spill[s[1] as usize],
            Some(s) => {
                let n = s.iter().take_while(|&&p| p != EMPTY).count();
                &s[..n]
            }
        }
    }

    /// The people who could be the one asked for, at most `cap` (then `capped`): those born on
    /// a date that could be meant (the date, day and month swapped, the same day a year either
    /// way), then those whose last name sounds like a name asked for (or
    /// like a name on file one typing error from it) born in the year asked for or a year either
    /// way, or at any time when no date is given; always those whose date of birth is unknown.
    pub fn lookup(&self, q: &Lookup<'_>, cap: usize) -> Nominees {
        let mut keys: Vec<u32> = Vec::new();
        let dob = q.dob;
        if let Some((y, Some(m), Some(d))) = dob.map(|d| (d.year(), d.month(), d.day())) {
            keys.push(born_key(y, m, d));
            if m != d && PartialDate::from_dmf_parts(y, d, m).is_some() {
                keys.push(born_key(y, d, m));
            }
            // The same day a year either way. (Every year one digit apart would be twenty more
            // dates, each as common as the date itself: at national size, more people than a
            // search compares.)
            for y in [y.saturating_sub(1), y + 1] {
                if PartialDate::from_dmf_parts(y, m, d).is_some() {
                    keys.push(born_key(y, m, d));
                }
            }
        }
        let years: Vec<u16> = match dob {
            Some(d) => vec![d.year(), d.year().saturating_sub(1), d.year() + 1],
            None => self
                .years
                .map_or(Vec::new(), |(a, b)| (a..=b).rev().collect()),
        };
        let mut codes: Vec<u32> = Vec::new();
        let mut buf = [0u8; MAX_NAME];
        for name in q.names {
            let n = normal_form(name, true, &mut buf);
            if n.is_empty() {
                continue;
            }
            let mut add = |c: u32| {
                if c != 0 && !codes.contains(&c) {
                    codes.push(c);
                }
            };
            self.codes_of(n).into_iter().for_each(&mut add);
            // A typing error can change a name's sound (SMIHT is not SMITH's code): the codes of
            // the names on file one letter away are asked for too, those spelt alike enough to
            // be shown (Jaro-Winkler at least 0.85: LEE is one letter from DEE, but not alike).
            one_letter_away(n, |v| {
                if let Some(&c) = self.codes.get(v)
                    && crate::jaro::jaro_winkler(n, v) >= 0.85
                {
                    add(c);
                }
            });
        }
        for &y in years.iter().chain([&0]) {
            keys.extend(codes.iter().map(|&c| surname_key(c, y)));
        }
        let mut seen = std::collections::HashSet::<u32, BuildNameHasher>::default();
        let mut out = Nominees::default();
        for k in dedup_keep_order(keys) {
            for &p in self.positions(k) {
                if seen.insert(p) {
                    if out.positions.len() == cap {
                        out.capped = true;
                        return out;
                    }
                    out.positions.push(p);
                }
            }
        }
        out
    }

    /// Bytes held, as allocated (the table's buckets and control bytes, the lists, the names'
    /// codes): what a person costs the process here.
    pub fn bytes(&self) -> usize {
        let table = self.keys.capacity() * (std::mem::size_of::<(u32, Slots)>() + 1);
        let lists: usize = self
            .spill
            .iter()
            .map(|l| l.capacity() * 4 + std::mem::size_of::<Vec<u32>>())
            .sum();
        let names = self.codes.capacity() * (std::mem::size_of::<(Box<[u8]>, u32)>() + 1)
            + self.codes.keys().map(|k| k.len()).sum::<usize>();
        table + lists + names
    }

    /// Every key with its positions sorted: two indexes of the same people compare equal.
    pub fn contents(&self) -> Vec<(u32, Vec<u32>)> {
        let mut out: Vec<(u32, Vec<u32>)> = self
            .keys
            .keys()
            .map(|&k| {
                let mut p = self.positions(k).to_vec();
                p.sort_unstable();
                (k, p)
            })
            .collect();
        out.sort_unstable();
        out
    }
}

/// Calls `f` with every word one letter away from `name`: a letter left out, added, changed,
/// or two neighbours swapped (Damerau's four typing errors). Long names are left alone.
fn one_letter_away(name: &[u8], mut f: impl FnMut(&[u8])) {
    const LONGEST: usize = 24;
    let n = name.len();
    if n > LONGEST {
        return;
    }
    let mut buf = [0u8; LONGEST + 1];
    for i in 0..n {
        // Left out.
        buf[..i].copy_from_slice(&name[..i]);
        buf[i..n - 1].copy_from_slice(&name[i + 1..]);
        if n > 1 {
            f(&buf[..n - 1]);
        }
        // Swapped with the next.
        if i + 1 < n && name[i] != name[i + 1] {
            buf[..n].copy_from_slice(name);
            buf.swap(i, i + 1);
            f(&buf[..n]);
        }
        // Changed.
        buf[..n].copy_from_slice(name);
        for c in (b'A'..=b'Z').filter(|&c| c != name[i]) {
            buf[i] = c;
            f(&buf[..n]);
        }
    }
    // Added.
    for i in 0..=n {
        buf[..i].copy_from_slice(&name[..i]);
        buf[i + 1..=n].copy_from_slice(&name[i..]);
        for c in b'A'..=b'Z' {
            buf[i] = c;
            f(&buf[..=n]);
        }
    }
}

fn dedup_keep_order(mut keys: Vec<u32>) -> Vec<u32> {
    let mut seen = std::collections::HashSet::<u32, BuildNameHasher>::default();
    keys.retain(|&k| seen.insert(k));
    keys
}

#[cfg(test)]
mod tests;
