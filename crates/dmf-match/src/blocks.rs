//! Blocking: which client × master pairs are compared at all.
//!
//! Each rule keys a record by a few fields; a client record is paired with every master record
//! of the same key under some rule. Keys are 64-bit hashes. Per rule the master is indexed once
//! as one array of record ids sorted by key, a directory on the key's top bits and a 32-bit
//! fingerprint of the next bits per entry (8 bytes per master record and rule): a lookup is one
//! directory read and a short search. Two keys of equal top bits and fingerprint would merge
//! their blocks; that only adds pairs that the comparison then rejects.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::str::FromStr;

use rayon::prelude::*;

use crate::Progress;
use crate::hash::mix;
use crate::prepare::{Prepared, Rec};

/// A blocking rule.
///
/// | rule | key | catches | misses |
/// | --- | --- | --- | --- |
/// | `Ssn` | SSN | any error in names and dates when the SSN is right | missing or mistyped SSN |
/// | `DobPhoneticLast` | full date of birth, Double Metaphone of the surname | first-name errors (nickname, typo, initial), SSN errors, surname typos that keep its sound | date errors, swapped names, partial dates |
/// | `DobPhoneticFirst` | full date of birth, Double Metaphone of the first name | surname errors (typos, a changed surname), SSN errors | nicknames, date errors, partial dates |
/// | `PhoneticNamesBirthYear` | Double Metaphone of first and last name, unordered, birth year | day and month errors (swapped, missing day, one wrong), swapped names, SSN errors | year errors, nicknames, surname changes |
/// | `PhoneticNamesMonthDay` | Double Metaphone of first and last name, unordered, birth month and day | year errors (±1, typos), swapped names, SSN errors | partial dates, day or month errors, nicknames |
/// | `SsnHeadPhoneticLast` (not default) | SSN area and group (first five digits), Double Metaphone of the surname | an SSN error in the last four digits with any date error, a missing date | errors in the first five digits, surname changes |
/// | `SsnTailPhoneticLast` (not default) | SSN serial (last four digits), Double Metaphone of the surname | an SSN error in the first five digits with any date error, a missing date | errors in the last four digits, surname changes |
///
/// Master records lacking a rule's fields are not indexed under that rule: blanks never form
/// a block. Taking the names unordered costs almost nothing (few people's first name is another's
/// surname) and catches first and last names swapped.
///
/// No default rule finds a client record that has neither SSN nor date of birth: names alone
/// would pair JOHN SMITH with tens of thousands of master records. The two SSN-part rules
/// find an SSN with one digit wrong (or two swapped, but across digits 5 and 6) when the date
/// is also wrong or missing; at national scale their blocks hold about 30 and 150 records,
/// which is why they are not in the default set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Ssn,
    DobPhoneticLast,
    DobPhoneticFirst,
    PhoneticNamesBirthYear,
    PhoneticNamesMonthDay,
    SsnHeadPhoneticLast,
    SsnTailPhoneticLast,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::Ssn,
        Rule::DobPhoneticLast,
        Rule::DobPhoneticFirst,
        Rule::PhoneticNamesBirthYear,
        Rule::PhoneticNamesMonthDay,
        Rule::SsnHeadPhoneticLast,
        Rule::SsnTailPhoneticLast,
    ];

    /// The rule's name in output and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Ssn => "ssn",
            Rule::DobPhoneticLast => "dob_phonetic_last",
            Rule::DobPhoneticFirst => "dob_phonetic_first",
            Rule::PhoneticNamesBirthYear => "phonetic_names_birth_year",
            Rule::PhoneticNamesMonthDay => "phonetic_names_month_day",
            Rule::SsnHeadPhoneticLast => "ssn_head_phonetic_last",
            Rule::SsnTailPhoneticLast => "ssn_tail_phonetic_last",
        }
    }

    /// The key of a record under this rule, `None` when a field it needs is missing.
    #[inline]
    pub(crate) fn key(self, r: &Rec) -> Option<u64> {
        let tag = self as u64 + 1;
        let complete = r.dob & 0x1f != 0 && r.dob >> 5 & 0xf != 0;
        let names = || {
            (r.dm_first != 0 && r.dm_last != 0).then(|| {
                let (a, b) = (r.dm_first.min(r.dm_last), r.dm_first.max(r.dm_last));
                u64::from(a) << 32 | u64::from(b)
            })
        };
        let key = match self {
            Rule::Ssn => (r.ssn != 0).then_some(r.ssn)?,
            Rule::DobPhoneticLast => {
                (complete && r.dm_last != 0).then(|| u64::from(r.dob) << 32 | u64::from(r.dm_last))?
            }
            Rule::DobPhoneticFirst => (complete && r.dm_first != 0)
                .then(|| u64::from(r.dob) << 32 | u64::from(r.dm_first))?,
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
                mix(names()?) ^ u64::from(r.dob & 0x1ff)
            }
            // BCD: the serial is the low 16 bits, area and group the 20 above.
            Rule::SsnHeadPhoneticLast => (r.ssn != 0 && r.dm_last != 0)
                .then(|| (r.ssn >> 16) << 32 | u64::from(r.dm_last))?,
            Rule::SsnTailPhoneticLast => (r.ssn != 0 && r.dm_last != 0)
                .then(|| (r.ssn & 0xffff) << 32 | u64::from(r.dm_last))?,
        };
        Some(mix(mix(key) ^ tag))
    }
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
     phonetic_names_birth_year, phonetic_names_month_day, ssn_head_phonetic_last, \
     ssn_tail_phonetic_last)"
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

/// The default rules: the first five of [`Rule::ALL`]. Together they find a true pair with
/// any one error besides a missing SSN (a wrong SSN, a nickname, a typo in one name, a changed
/// surname, swapped names, a wrong, swapped or missing part of the date of birth).
pub fn default_rules() -> Vec<Rule> {
    Rule::ALL[..5].to_vec()
}

/// Blocks of more master records than this are skipped for a client record under that rule
/// (and counted in [`Candidates::capped`]): such a block only forms when many people share a
/// common name and a birth year, and another rule with a smaller block usually finds the pair.
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

impl Index {
    fn build(master: &Prepared, rule: Rule) -> Index {
        // 0 stands for "no key"; a real key hashing to 0 would only drop one record.
        let keys: Vec<u64> = master
            .recs
            .par_iter()
            .map(|r| rule.key(r).unwrap_or(0))
            .collect();
        let n = keys.iter().filter(|&&k| k != 0).count();
        // About eight entries per directory slot.
        let bits = (usize::BITS - n.leading_zeros()).saturating_sub(3).clamp(1, 31);
        let bucket = |k: u64| (k >> (64 - bits)) as usize;
        // A counting sort on the directory bits, then each small bucket sorted.
        let mut dir = vec![0u32; (1usize << bits) + 1];
        for &k in keys.iter().filter(|&&k| k != 0) {
            dir[bucket(k) + 1] += 1;
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        let mut next = dir[..dir.len() - 1].to_vec();
        let mut entries = vec![(0u32, 0u32); n];
        for (i, &k) in keys.iter().enumerate().filter(|(_, k)| **k != 0) {
            let slot = &mut next[bucket(k)];
            entries[*slot as usize] = ((k << bits >> 32) as u32, i as u32);
            *slot += 1;
        }
        drop(next);
        drop(keys);
        // Each bucket sorted by fingerprint; buckets in groups of 4096, a group per task.
        let buckets = dir.len() - 1;
        let mut groups: Vec<(usize, &mut [(u32, u32)])> = Vec::new();
        let mut rest = entries.as_mut_slice();
        for g in (0..buckets).step_by(4096) {
            let len = (dir[(g + 4096).min(buckets)] - dir[g]) as usize;
            let (run, tail) = rest.split_at_mut(len);
            groups.push((g, run));
            rest = tail;
        }
        groups.into_par_iter().for_each(|(g, run)| {
            let base = dir[g];
            for b in g..(g + 4096).min(buckets) {
                run[(dir[b] - base) as usize..(dir[b + 1] - base) as usize].sort_unstable();
            }
        });
        Index {
            rule,
            bits,
            dir,
            entries,
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
        let mut unique: Vec<Rule> = Vec::new();
        for &r in rules {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        Blocks {
            indexes: unique.into_iter().map(|r| Index::build(master, r)).collect(),
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
    let parts: Vec<(Vec<(u32, u32)>, Vec<u64>, Vec<u64>)> = client
        .recs
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut pairs = Vec::with_capacity(chunk.len() * 4);
            let mut counts = vec![0u64; rules];
            let mut capped = vec![0u64; rules];
            let mut found: Vec<u32> = Vec::new();
            for (j, r) in chunk.iter().enumerate() {
                let ci = (k * CHUNK + j) as u32;
                found.clear();
                for (ri, index) in blocks.indexes.iter().enumerate() {
                    let Some(key) = index.rule.key(r) else {
                        continue;
                    };
                    let block = index.lookup(key);
                    if block.len() > blocks.cap {
                        capped[ri] += 1;
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
            (pairs, counts, capped)
        })
        .collect();
    let mut per_rule = vec![0u64; rules];
    let mut capped = vec![0u64; rules];
    for (_, c, k) in &parts {
        per_rule.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        capped.iter_mut().zip(k).for_each(|(a, b)| *a += b);
    }
    let mut pairs = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (p, _, _) in parts {
        pairs.extend(p);
    }
    let named = |v: Vec<u64>| blocks.indexes.iter().map(|i| i.rule).zip(v).collect();
    Candidates {
        pairs,
        per_rule: named(per_rule),
        capped: named(capped),
    }
}
