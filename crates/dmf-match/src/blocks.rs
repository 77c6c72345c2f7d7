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
///
/// Master records lacking a rule's fields are not indexed under that rule: blanks never form
/// a block. Taking the names unordered costs almost nothing (few people's first name is another's
/// surname) and catches first and last names swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Ssn,
    DobPhoneticLast,
    DobPhoneticFirst,
    PhoneticNamesBirthYear,
    PhoneticNamesMonthDay,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::Ssn,
        Rule::DobPhoneticLast,
        Rule::DobPhoneticFirst,
        Rule::PhoneticNamesBirthYear,
        Rule::PhoneticNamesMonthDay,
    ];

    /// The rule's name in output and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Ssn => "ssn",
            Rule::DobPhoneticLast => "dob_phonetic_last",
            Rule::DobPhoneticFirst => "dob_phonetic_first",
            Rule::PhoneticNamesBirthYear => "phonetic_names_birth_year",
            Rule::PhoneticNamesMonthDay => "phonetic_names_month_day",
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
#[error("unknown blocking rule {0:?} (known: ssn, dob_phonetic_last, dob_phonetic_first, phonetic_names_birth_year, phonetic_names_month_day)")]
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

/// The default rules: all five. Together they find a true pair with any one error (a wrong or
/// missing SSN, a nickname, a typo in one name, swapped names, a wrong, swapped or missing
/// part of the date of birth).
pub fn default_rules() -> Vec<Rule> {
    Rule::ALL.to_vec()
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
    /// The 32 bits of the key hash after the directory bits, ascending within a bucket.
    fingerprints: Vec<u32>,
    ids: Vec<u32>,
}

impl Index {
    fn build(master: &Prepared, rule: Rule) -> Index {
        let mut entries: Vec<(u64, u32)> = master
            .recs
            .par_iter()
            .enumerate()
            .filter_map(|(i, r)| rule.key(r).map(|k| (k, i as u32)))
            .collect();
        entries.par_sort_unstable();
        // About eight entries per directory slot.
        let bits = (usize::BITS - entries.len().leading_zeros()).saturating_sub(3).clamp(1, 31);
        let mut dir = vec![0u32; (1usize << bits) + 1];
        for &(k, _) in &entries {
            dir[(k >> (64 - bits)) as usize + 1] += 1;
        }
        for b in 1..dir.len() {
            dir[b] += dir[b - 1];
        }
        let fingerprints = entries
            .par_iter()
            .map(|&(k, _)| (k << bits >> 32) as u32)
            .collect();
        let ids = entries.par_iter().map(|&(_, i)| i).collect();
        Index {
            rule,
            bits,
            dir,
            fingerprints,
            ids,
        }
    }

    /// The master records of a key.
    #[inline]
    fn lookup(&self, key: u64) -> &[u32] {
        let b = (key >> (64 - self.bits)) as usize;
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        let fp = (key << self.bits >> 32) as u32;
        let bucket = &self.fingerprints[lo..hi];
        let start = bucket.partition_point(|&f| f < fp);
        let end = start + bucket[start..].partition_point(|&f| f == fp);
        &self.ids[lo + start..lo + end]
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
            .map(|i| 4 * (i.dir.len() + i.fingerprints.len() + i.ids.len()))
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
                    let ids = index.lookup(key);
                    if ids.len() > blocks.cap {
                        capped[ri] += 1;
                        continue;
                    }
                    counts[ri] += ids.len() as u64;
                    found.extend_from_slice(ids);
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
