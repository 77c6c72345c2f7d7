//! Blocking: which client × master pairs are compared at all.
//!
//! Each rule keys a record by a few fields; a client record is paired with every master record
//! of the same key under some rule. Keys are 64-bit hashes. Per rule the master is indexed once
//! (a two-pass radix sort) as a directory on the key's top bits, about eight entries a slot,
//! and per master record an entry of a 32-bit fingerprint (the key's next bits) and the record's
//! id: 8 bytes per master record and rule. A lookup reads one directory slot and searches a
//! short run of entries. Two keys of equal top bits and fingerprint would merge their blocks;
//! that only adds pairs that the comparison then rejects.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::Progress;
use crate::hash::mix;
use crate::prepare::{Prepared, Rec, prefetch};

/// A blocking rule.
///
/// | rule | key | catches | misses |
/// | --- | --- | --- | --- |
/// | `Ssn` | SSN | any error in names and dates when the SSN is right | missing or mistyped SSN |
/// | `DobPhoneticLast` | full date of birth (month and day unordered), Double Metaphone of the surname | first-name errors (nickname, typo, initial), SSN errors, surname typos that keep its sound, day and month swapped | other date errors, swapped names, partial dates |
/// | `DobPhoneticFirst` | full date of birth (month and day unordered), Double Metaphone of the first name | surname errors (typos, a changed surname), SSN errors, day and month swapped | nicknames, other date errors, partial dates |
/// | `PhoneticNamesBirthYear` | Double Metaphone of first and last name, unordered, birth year | day and month errors (swapped, missing day, one wrong, an impossible date whose year is kept), swapped names, SSN errors | year errors, nicknames, surname changes |
/// | `PhoneticNamesMonthDay` | Double Metaphone of first and last name, unordered, birth month and day, unordered | year errors (±1, typos), year and a day/month swap together, swapped names, SSN errors | partial dates, day or month errors, nicknames |
/// | `SsnHeadPhoneticNames` | SSN area and group (first five digits), Double Metaphone of first and last name, unordered | an SSN with one digit wrong or two neighbours swapped in the last four, with any date error or none | errors in the first five digits, nicknames, surname changes |
/// | `SsnTailPhoneticNames` | SSN serial (last four digits), Double Metaphone of first and last name, unordered | an SSN with one digit wrong or two neighbours swapped in the first five, with any date error or none | errors in the last four digits, nicknames, surname changes |
/// | `PhoneticNamesUndated` | Double Metaphone of first and last name, unordered; looked up only for a client record without a full date of birth | a missing, partial or impossible date with a missing or wrong SSN | nicknames, surname changes, names too common (the block is over the cap) |
/// | `PhoneticNames` (not default) | the same key, looked up for every client record | also a date wrong in two parts (copied from a household member) with a missing or wrong SSN | nicknames, surname changes, names too common |
/// | `SsnHeadPhoneticLast` (not default) | SSN area and group (first five digits), Double Metaphone of the surname | an SSN error in the last four digits with any date error, a missing date, a first-name error | errors in the first five digits, surname changes |
/// | `SsnTailPhoneticLast` (not default) | SSN serial (last four digits), Double Metaphone of the surname | an SSN error in the first five digits with any date error, a missing date, a first-name error | errors in the last four digits, surname changes |
///
/// Master records lacking a rule's fields are not indexed under that rule: blanks never form
/// a block. Taking the names unordered costs almost nothing (few people's first name is another's
/// surname) and catches first and last names swapped. Taking month and day unordered merges a
/// date's block with the one of its swap (about a third of dates have a day of 12 or less), a
/// small price for finding a swapped date under the rules that need a full one.
///
/// No default rule needs a date of birth. Names alone (`PhoneticNamesUndated`) would pair JOHN
/// SMITH with tens of thousands of master records, so a block over the cap is skipped and
/// counted, and the rule is looked up only for the client records that no date rule can find
/// (no full date of birth): most of a file has a date, and asking every record for its names'
/// block would multiply the candidates (`PhoneticNames` does, for a file whose dates are known
/// to be unreliable). The two SSN-near-miss rules find an SSN with one digit wrong, or two
/// neighbours swapped (but for digits 5 and 6, which straddle the parts), whatever the date;
/// keyed by both names their blocks hold about one record, where the surname-only
/// `SsnHeadPhoneticLast` and `SsnTailPhoneticLast` hold about 30 and 150 at national scale
/// (they also take a first-name error, which is why they are kept). A single near-miss index
/// under each of the nine "one digit blanked" forms of the SSN would also catch digits 5 and 6
/// swapped but cost nine entries per master record; the head and tail cost two. The default
/// set is eight rules: 64 bytes per master record, about 9.1 GB at 142 M records (5.7 GB for
/// the five rules that needed a date or the exact SSN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Ssn,
    DobPhoneticLast,
    DobPhoneticFirst,
    PhoneticNamesBirthYear,
    PhoneticNamesMonthDay,
    SsnHeadPhoneticNames,
    SsnTailPhoneticNames,
    PhoneticNamesUndated,
    PhoneticNames,
    SsnHeadPhoneticLast,
    SsnTailPhoneticLast,
    SsnDigitsDob,
    SsnHeadDob,
    SsnTailDob,
}

impl Rule {
    pub const ALL: [Rule; 14] = [
        Rule::Ssn,
        Rule::DobPhoneticLast,
        Rule::DobPhoneticFirst,
        Rule::PhoneticNamesBirthYear,
        Rule::PhoneticNamesMonthDay,
        Rule::SsnHeadPhoneticNames,
        Rule::SsnTailPhoneticNames,
        Rule::PhoneticNamesUndated,
        Rule::PhoneticNames,
        Rule::SsnHeadPhoneticLast,
        Rule::SsnTailPhoneticLast,
        Rule::SsnDigitsDob,
        Rule::SsnHeadDob,
        Rule::SsnTailDob,
    ];

    /// The rule's name in output and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Ssn => "ssn",
            Rule::DobPhoneticLast => "dob_phonetic_last",
            Rule::DobPhoneticFirst => "dob_phonetic_first",
            Rule::PhoneticNamesBirthYear => "phonetic_names_birth_year",
            Rule::PhoneticNamesMonthDay => "phonetic_names_month_day",
            Rule::SsnHeadPhoneticNames => "ssn_head_phonetic_names",
            Rule::SsnTailPhoneticNames => "ssn_tail_phonetic_names",
            Rule::PhoneticNamesUndated => "phonetic_names_undated",
            Rule::PhoneticNames => "phonetic_names",
            Rule::SsnHeadPhoneticLast => "ssn_head_phonetic_last",
            Rule::SsnTailPhoneticLast => "ssn_tail_phonetic_last",
            Rule::SsnDigitsDob => "ssn_digits_dob",
            Rule::SsnHeadDob => "ssn_head_dob",
            Rule::SsnTailDob => "ssn_tail_dob",
        }
    }

    /// The key a client record looks up under this rule: its [`Rule::key`], but for
    /// `PhoneticNamesUndated`, which only a record without a full date of birth looks up.
    #[inline]
    pub(crate) fn probe(self, r: &Rec) -> Option<u64> {
        if self == Rule::PhoneticNamesUndated && full_date(r.dob) {
            return None;
        }
        self.key(r)
    }

    /// The key of a record under this rule, `None` when a field it needs is missing.
    #[inline]
    pub(crate) fn key(self, r: &Rec) -> Option<u64> {
        let tag = self as u64 + 1;
        let complete = full_date(r.dob);
        // `year << 10 | low << 5 | high` of month and day: a date and its swap share it.
        let (low, high) = (
            (r.dob >> 5 & 0xf).min(r.dob & 0x1f),
            (r.dob >> 5 & 0xf).max(r.dob & 0x1f),
        );
        let month_day = low << 5 | high;
        let unordered = (r.dob >> 9) << 10 | month_day;
        let names = || {
            (r.dm_first != 0 && r.dm_last != 0).then(|| {
                let (a, b) = (r.dm_first.min(r.dm_last), r.dm_first.max(r.dm_last));
                u64::from(a) << 32 | u64::from(b)
            })
        };
        let key = match self {
            Rule::Ssn => (r.ssn != 0).then_some(r.ssn)?,
            Rule::DobPhoneticLast => (complete && r.dm_last != 0)
                .then(|| u64::from(unordered) << 32 | u64::from(r.dm_last))?,
            Rule::DobPhoneticFirst => (complete && r.dm_first != 0)
                .then(|| u64::from(unordered) << 32 | u64::from(r.dm_first))?,
            Rule::PhoneticNamesBirthYear => {
                if r.dob == 0 {
                    return None;
                }
                mix(names()?) ^ u64::from(r.dob >> 9)
            }
            Rule::PhoneticNamesMonthDay => {
                if !complete {
                    return None;
                }
                mix(names()?) ^ u64::from(month_day)
            }
            // BCD: the serial is the low 16 bits, area and group the 20 above.
            Rule::SsnHeadPhoneticNames => {
                if r.ssn == 0 {
                    return None;
                }
                mix(names()?) ^ (r.ssn >> 16)
            }
            Rule::SsnTailPhoneticNames => {
                if r.ssn == 0 {
                    return None;
                }
                mix(names()?) ^ (r.ssn & 0xffff)
            }
            Rule::PhoneticNamesUndated | Rule::PhoneticNames => names()?,
            Rule::SsnHeadPhoneticLast => (r.ssn != 0 && r.dm_last != 0)
                .then(|| (r.ssn >> 16) << 32 | u64::from(r.dm_last))?,
            Rule::SsnTailPhoneticLast => (r.ssn != 0 && r.dm_last != 0)
                .then(|| (r.ssn & 0xffff) << 32 | u64::from(r.dm_last))?,
            // The SSN's digits as a multiset (a count of each digit, four bits apiece): two
            // SSNs with neighbouring digits swapped share it.
            Rule::SsnDigitsDob => (r.ssn != 0 && complete).then(|| {
                let counts =
                    (0..9).fold(0u64, |acc, i| acc + (1 << (4 * (r.ssn >> (4 * i) & 0xf))));
                mix(counts) ^ u64::from(unordered)
            })?,
            Rule::SsnHeadDob => {
                (r.ssn != 0 && complete).then(|| (r.ssn >> 16) << 24 | u64::from(unordered))?
            }
            Rule::SsnTailDob => {
                (r.ssn != 0 && complete).then(|| (r.ssn & 0xffff) << 24 | u64::from(unordered))?
            }
        };
        Some(mix(mix(key) ^ tag))
    }
}

/// Whether a packed date of birth has its month and day.
#[inline]
fn full_date(dob: u32) -> bool {
    dob & 0x1f != 0 && dob >> 5 & 0xf != 0
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rule name that is not one of [`Rule::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown blocking rule {0:?} (known: ssn, dob_phonetic_last, dob_phonetic_first, \
     phonetic_names_birth_year, phonetic_names_month_day, ssn_head_phonetic_names, \
     ssn_tail_phonetic_names, phonetic_names_undated, phonetic_names, ssn_head_phonetic_last, \
     ssn_tail_phonetic_last, ssn_digits_dob, ssn_head_dob, ssn_tail_dob)"
)]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Rule, UnknownRule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

/// The default rules: all of [`Rule::ALL`] but `phonetic_names`, `ssn_head_phonetic_last`,
/// `ssn_tail_phonetic_last` and `ssn_digits_dob`. Together they find a true pair with
/// any one error besides a missing SSN (a wrong SSN, a nickname, a typo in one name, a changed
/// surname, swapped names, a wrong, swapped or missing part of the date of birth), and with
/// no date of birth at all when the names agree in sound and either the SSN is at most one
/// digit or one swap off or the names' block is under the cap.
///
/// The rules on an SSN and the date of birth find a wrong or transposed SSN digit when both
/// names are wrong too: a date and four or five digits are rarely shared by two people (under
/// one record a key at national size; with the birth year instead of the date, 55 and 26 a
/// client there, 81 M candidate pairs for a million clients). `ssn_digits_dob` (the multiset
/// of the nine digits) adds only a swap of the fifth and sixth digits to them: on the
/// evaluation sets it found no true link alone, so it is left out of the default.
pub fn default_rules() -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| {
            !matches!(
                r,
                Rule::PhoneticNames
                    | Rule::SsnHeadPhoneticLast
                    | Rule::SsnTailPhoneticLast
                    | Rule::SsnDigitsDob
            )
        })
        .collect()
}

/// Blocks of more master records than this are skipped for a client record under that rule
/// (and counted in [`Candidates::capped`] and [`Candidates::capped_pairs`]): such a block only
/// forms when many people share a common name (and a birth year), and another rule with a
/// smaller block usually finds the pair.
pub const DEFAULT_BLOCK_CAP: usize = 2_000;

/// The master file indexed under each rule, built once.
pub struct Blocks {
    indexes: Vec<Index>,
    cap: usize,
    tables: u64,
}

impl fmt::Debug for Blocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocks")
            .field(
                "rules",
                &self.indexes.iter().map(|i| i.rule).collect::<Vec<_>>(),
            )
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

/// One rule's index: record ids sorted by key hash.
struct Index {
    rule: Rule,
    bits: u32,
    /// `dir[b]..dir[b + 1]` are the entries whose key hash has top bits `b`.
    dir: Vec<u32>,
    /// Per master record with a key: the 32 bits of the key hash after the directory bits
    /// (ascending within a bucket) and the record's id, side by side so that a lookup reads
    /// one cache line.
    entries: Vec<(u32, u32)>,
}

/// The rules, each once, in their first order.
fn distinct(rules: &[Rule]) -> Vec<Rule> {
    let mut unique: Vec<Rule> = Vec::new();
    for &r in rules {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    unique
}

/// Per run of master records (in order), per rule, the `(key, record id)` of the records that
/// have a key under the rule and pass its filter: one read of the records for all the rules.
fn keyed_runs(
    master: &Prepared,
    rules: &[(Rule, Option<&KeyFilter>)],
) -> Vec<Vec<Vec<(u64, u32)>>> {
    let recs = &master.recs;
    let run_len = recs
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(1 << 16);
    recs.par_chunks(run_len)
        .enumerate()
        .map(|(j, run)| {
            let base = (j * run_len) as u32;
            let mut out: Vec<Vec<(u64, u32)>> = vec![Vec::new(); rules.len()];
            for (i, r) in run.iter().enumerate() {
                for (slot, &(rule, keep)) in out.iter_mut().zip(rules) {
                    if let Some(k) = rule.key(r)
                        && keep.is_none_or(|f| f.contains(k))
                    {
                        slot.push((k, base + i as u32));
                    }
                }
            }
            out
        })
        .collect()
}

/// The keys some client record looks up under a rule, as a bit set over the top bits of the
/// (well mixed) key: a master record whose key is not in it can pair with no client record,
/// and is left out of the index. A false positive only adds an entry nobody looks up.
struct KeyFilter {
    shift: u32,
    bits: Vec<u64>,
}

impl KeyFilter {
    fn of(client: &Prepared, rule: Rule) -> KeyFilter {
        let keys: Vec<u64> = client
            .recs
            .par_iter()
            .filter_map(|r| rule.probe(r))
            .collect();
        // About 64 bits a key: under 2% of the keys not looked up pass.
        let log = (usize::BITS - (keys.len() * 64).leading_zeros()).clamp(16, 32);
        let mut bits = vec![0u64; 1 << (log - 6)];
        let shift = 64 - log;
        for k in keys {
            let i = (k >> shift) as usize;
            bits[i / 64] |= 1 << (i % 64);
        }
        KeyFilter { shift, bits }
    }

    #[inline]
    fn contains(&self, k: u64) -> bool {
        let i = (k >> self.shift) as usize;
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }
}

impl Index {
    fn build(master: &Prepared, rule: Rule) -> Index {
        let runs = keyed_runs(master, &[(rule, None)]);
        Index::from_runs(rule, runs.into_iter().map(|mut r| r.remove(0)).collect())
    }

    /// An index of nothing.
    fn empty(rule: Rule) -> Index {
        Index {
            rule,
            bits: 1,
            dir: vec![0; 3],
            entries: Vec::new(),
        }
    }

    /// The index of a rule from its `(key, record id)` entries, run by run (each run's ids
    /// ascending).
    fn from_runs(rule: Rule, keyed: Vec<Vec<(u64, u32)>>) -> Index {
        // A radix sort in two passes, each writing to few places at a time (a single pass
        // would scatter every entry to a random place in memory): first the entries into 256
        // partitions by the top bits of their key, in parallel over runs; then each
        // partition, in parallel, into its directory buckets, each bucket sorted by
        // fingerprint.
        let counts: Vec<Vec<u32>> = keyed
            .par_iter()
            .map(|run| {
                let mut c = vec![0u32; 256];
                for &(k, _) in run {
                    c[(k >> 56) as usize] += 1;
                }
                c
            })
            .collect();
        let n: usize = counts.iter().flatten().map(|&c| c as usize).sum();
        // About eight entries per directory slot; at most 256 partitions.
        let bits = (usize::BITS - n.leading_zeros())
            .saturating_sub(3)
            .clamp(1, 31);
        let part_bits = bits.min(8);
        let part_of = |k: u64| (k >> (64 - part_bits)) as usize;
        let parts = 1usize << part_bits;
        // Partition sizes; a key's partition under `part_bits` is its top-8-bit one shifted.
        let mut part_len = vec![0usize; parts];
        for c in &counts {
            for (top, &n) in c.iter().enumerate() {
                part_len[top >> (8 - part_bits)] += n as usize;
            }
        }

        // Pass one: (key, id) into partitions; run j writes its own slice of each partition.
        let mut tmp = vec![(0u64, 0u32); n];
        {
            let mut slices: Vec<Vec<&mut [(u64, u32)]>> = (0..keyed.len())
                .map(|_| Vec::with_capacity(parts))
                .collect();
            let mut rest = tmp.as_mut_slice();
            for p in 0..parts {
                for (j, c) in counts.iter().enumerate() {
                    let len: usize = c[p << (8 - part_bits)..(p + 1) << (8 - part_bits)]
                        .iter()
                        .map(|&n| n as usize)
                        .sum();
                    let (slice, tail) = rest.split_at_mut(len);
                    slices[j].push(slice);
                    rest = tail;
                }
            }
            keyed.par_iter().zip(slices).for_each(|(run, mut slices)| {
                let mut at = vec![0usize; parts];
                for &(k, id) in run {
                    let p = part_of(k);
                    slices[p][at[p]] = (k, id);
                    at[p] += 1;
                }
            });
            drop(keyed);
        }

        // Pass two: each partition into its buckets.
        let per_part = 1usize << (bits - part_bits);
        let mut dir = vec![0u32; (1usize << bits) + 1];
        let mut entries = vec![(0u32, 0u32); n];
        let mut jobs = Vec::with_capacity(parts);
        {
            let (mut tmp_rest, mut out_rest) = (tmp.as_slice(), entries.as_mut_slice());
            let mut dir_chunks = dir[..1usize << bits].chunks_mut(per_part);
            let mut start = 0u32;
            for &len in &part_len {
                let (t, tail) = tmp_rest.split_at(len);
                tmp_rest = tail;
                let (o, tail) = out_rest.split_at_mut(len);
                out_rest = tail;
                let d = dir_chunks
                    .next()
                    .expect("one directory chunk per partition");
                jobs.push((start, t, o, d));
                start += len as u32;
            }
        }
        let bucket_in_part = |k: u64| (k >> (64 - bits)) as usize & (per_part - 1);
        jobs.into_par_iter().for_each(|(start, tmp, out, dir)| {
            // `dir` holds each bucket's start, counted from the partition's start.
            for &(k, _) in tmp {
                if bucket_in_part(k) + 1 < per_part {
                    dir[bucket_in_part(k) + 1] += 1;
                }
            }
            for b in 1..per_part {
                dir[b] += dir[b - 1];
            }
            let mut next = dir.to_vec();
            for &(k, id) in tmp {
                let slot = &mut next[bucket_in_part(k)];
                out[*slot as usize] = ((k << bits >> 32) as u32, id);
                *slot += 1;
            }
            for b in 0..per_part {
                let end = if b + 1 < per_part {
                    dir[b + 1] as usize
                } else {
                    out.len()
                };
                out[dir[b] as usize..end].sort_unstable();
            }
            for d in dir.iter_mut() {
                *d += start;
            }
        });
        drop(tmp);
        dir[1usize << bits] = n as u32;
        Index {
            rule,
            bits,
            dir,
            entries,
        }
    }

    /// Starts loading the directory slot of a key.
    #[inline]
    fn prefetch_slot(&self, key: u64) {
        prefetch(&self.dir[(key >> (64 - self.bits)) as usize]);
    }

    /// Starts loading the first entries of a key's bucket (its slot should be loaded).
    #[inline]
    fn prefetch_bucket(&self, key: u64) {
        let lo = self.dir[(key >> (64 - self.bits)) as usize] as usize;
        if let Some(e) = self.entries.get(lo) {
            prefetch(e);
        }
    }

    /// The master records of a key, as (fingerprint, id) entries.
    #[inline]
    fn lookup(&self, key: u64) -> &[(u32, u32)] {
        let b = (key >> (64 - self.bits)) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        let fp = (key << self.bits >> 32) as u32;
        let bucket = &self.entries[lo..hi];
        let start = bucket.partition_point(|&(f, _)| f < fp);
        let end = start + bucket[start..].partition_point(|&(f, _)| f == fp);
        &bucket[start..end]
    }
}

impl Blocks {
    /// Indexes `master` under each of `rules`, with blocks capped at [`DEFAULT_BLOCK_CAP`].
    pub fn build(master: &Prepared, rules: &[Rule]) -> Blocks {
        Blocks::build_with_cap(master, rules, DEFAULT_BLOCK_CAP)
    }

    /// Indexes `master` under each of `rules` (a rule given twice counts once); blocks of more
    /// than `cap` records are skipped at lookup.
    pub fn build_with_cap(master: &Prepared, rules: &[Rule], cap: usize) -> Blocks {
        let unique = distinct(rules);
        Blocks {
            indexes: unique
                .into_iter()
                .map(|r| Index::build(master, r))
                .collect(),
            cap,
            tables: master.tables,
        }
    }

    /// [`Blocks::build_with_cap`] for one client file: a rule's index holds only the master
    /// records whose key some client record looks up (and a few more: see `KeyFilter`), and a
    /// rule no client record looks up is not indexed at all. At national size a full index
    /// is 8 bytes for each of 142 M records; for a million clients this one is a few MB, and
    /// the master's records are read, not sorted.
    pub fn build_for(client: &Prepared, master: &Prepared, rules: &[Rule], cap: usize) -> Blocks {
        assert_eq!(
            client.tables, master.tables,
            "client and master prepared with different name tables"
        );
        let unique = distinct(rules);
        let filters: Vec<(Rule, KeyFilter)> = unique
            .into_iter()
            .map(|r| (r, KeyFilter::of(client, r)))
            .collect();
        // The rules some client looks up, keyed in one read of the master.
        let wanted: Vec<(Rule, Option<&KeyFilter>)> = filters
            .iter()
            .filter(|(_, f)| !f.is_empty())
            .map(|(r, f)| (*r, Some(f)))
            .collect();
        let mut runs = keyed_runs(master, &wanted);
        let mut built: Vec<Index> = Vec::with_capacity(wanted.len());
        for k in (0..wanted.len()).rev() {
            let keyed: Vec<Vec<(u64, u32)>> = runs.iter_mut().map(|r| r.remove(k)).collect();
            built.push(Index::from_runs(wanted[k].0, keyed));
        }
        built.reverse();
        let mut built = built.into_iter();
        Blocks {
            indexes: filters
                .iter()
                .map(|(r, f)| {
                    if f.is_empty() {
                        Index::empty(*r)
                    } else {
                        built.next().expect("one index a wanted rule")
                    }
                })
                .collect(),
            cap,
            tables: master.tables,
        }
    }

    pub fn rules(&self) -> Vec<Rule> {
        self.indexes.iter().map(|i| i.rule).collect()
    }

    /// Bytes held by the indexes.
    pub fn memory(&self) -> usize {
        self.indexes
            .iter()
            .map(|i| 4 * i.dir.len() + 8 * i.entries.len())
            .sum()
    }
}

/// Candidate pairs, each once, sorted by client then master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    pub pairs: Vec<(u32, u32)>,
    /// Pairs each rule produced before de-duplication.
    pub per_rule: Vec<(Rule, u64)>,
    /// Per rule, the client records whose block was over the cap and so skipped.
    pub capped: Vec<(Rule, u64)>,
    /// Per rule, the pairs those skipped blocks would have given.
    pub capped_pairs: Vec<(Rule, u64)>,
}

/// Candidate pairs of `client` against the master `blocks` were built from, on all threads.
pub fn candidates(client: &Prepared, blocks: &Blocks) -> Candidates {
    candidates_with_progress(client, blocks, &|_, _, _| {})
}

/// [`candidates`], reporting `("candidates", client records done, total)` now and then.
pub fn candidates_with_progress(
    client: &Prepared,
    blocks: &Blocks,
    progress: &Progress,
) -> Candidates {
    assert_eq!(
        client.tables, blocks.tables,
        "client and master prepared with different name tables"
    );
    const CHUNK: usize = 4096;
    let rules = blocks.indexes.len();
    let total = client.len() as u64;
    let done = AtomicU64::new(0);
    // Per chunk of clients: its pairs, pairs per rule, capped lookups per rule.
    type Part = (Vec<(u32, u32)>, Vec<u64>, Vec<u64>, Vec<u64>);
    let parts: Vec<Part> = client
        .recs
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut pairs = Vec::with_capacity(chunk.len() * 4);
            let mut counts = vec![0u64; rules];
            let mut capped = vec![0u64; rules];
            let mut capped_pairs = vec![0u64; rules];
            let mut found: Vec<u32> = Vec::new();
            for (j, r) in chunk.iter().enumerate() {
                // Lookups are cache misses: start them for the records a few steps ahead.
                for (ahead, load) in [
                    (8, Index::prefetch_slot as fn(&Index, u64)),
                    (4, Index::prefetch_bucket),
                ] {
                    if let Some(a) = chunk.get(j + ahead) {
                        for index in &blocks.indexes {
                            if let Some(key) = index.rule.probe(a) {
                                load(index, key);
                            }
                        }
                    }
                }
                let ci = (k * CHUNK + j) as u32;
                found.clear();
                for (ri, index) in blocks.indexes.iter().enumerate() {
                    let Some(key) = index.rule.probe(r) else {
                        continue;
                    };
                    let block = index.lookup(key);
                    if block.len() > blocks.cap {
                        capped[ri] += 1;
                        capped_pairs[ri] += block.len() as u64;
                        continue;
                    }
                    counts[ri] += block.len() as u64;
                    found.extend(block.iter().map(|&(_, id)| id));
                }
                found.sort_unstable();
                found.dedup();
                pairs.extend(found.iter().map(|&m| (ci, m)));
            }
            let d = done.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            progress("candidates", d, total);
            (pairs, counts, capped, capped_pairs)
        })
        .collect();
    let mut per_rule = vec![0u64; rules];
    let mut capped = vec![0u64; rules];
    let mut capped_pairs = vec![0u64; rules];
    for (_, c, k, kp) in &parts {
        per_rule.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        capped.iter_mut().zip(k).for_each(|(a, b)| *a += b);
        capped_pairs.iter_mut().zip(kp).for_each(|(a, b)| *a += b);
    }
    let mut pairs = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (p, _, _, _) in parts {
        pairs.extend(p);
    }
    let named = |v: Vec<u64>| blocks.indexes.iter().map(|i| i.rule).zip(v).collect();
    Candidates {
        pairs,
        per_rule: named(per_rule),
        capped: named(capped),
        capped_pairs: named(capped_pairs),
    }
}
