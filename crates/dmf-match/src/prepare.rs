//! Records prepared for comparison: 32 bytes each (SSN digits, interned names, packed date,
//! phonetic blocking codes), with the file's own name frequencies.

use std::collections::HashSet;
use std::fmt;

use dmf_model::{PartialDate, Ssn};
use rayon::prelude::*;

use crate::Person;
use crate::hash::BuildNameHasher;
use crate::names::{MAX_NAME, NONE, NameStore, NameTables, normal_form};

/// A person as given, borrowed: for callers that hold names in their own buffers (a parsed DMF
/// record, a CSV row) and would rather not allocate a [`Person`] each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonRef<'a> {
    pub ssn: Option<Ssn>,
    pub first: &'a str,
    pub middle: &'a str,
    pub last: &'a str,
    pub dob: Option<PartialDate>,
}

impl<'a> From<&'a Person> for PersonRef<'a> {
    fn from(p: &'a Person) -> PersonRef<'a> {
        PersonRef {
            ssn: p.ssn,
            first: &p.first,
            middle: &p.middle,
            last: &p.last,
            dob: p.dob,
        }
    }
}

/// One prepared record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rec {
    /// The nine digits as BCD nibbles, 0 when unknown: digit differences by bit operations.
    pub ssn: u64,
    pub first: u32,
    pub last: u32,
    /// `year << 9 | month << 5 | day`, 0 for an unknown part, 0 when unknown.
    pub dob: u32,
    /// Double Metaphone primary codes, packed (0 for none): blocking keys.
    pub dm_first: u32,
    pub dm_last: u32,
}

/// Relative frequencies of a master record's first and last names in its own file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tf {
    pub first: f64,
    pub last: f64,
}

/// Records prepared for comparison (interned names, phonetic codes, blocking keys).
pub struct Prepared {
    pub(crate) recs: Vec<Rec>,
    pub(crate) tables: u64,
    first_counts: Vec<u32>,
    last_counts: Vec<u32>,
    with_first: u64,
    with_last: u64,
}

impl Prepared {
    /// Prepares `people` on all threads. For files too large to hold as [`Person`]s, feed a
    /// [`PreparedBuilder`] in chunks.
    pub fn new(people: &[Person], tables: &NameTables) -> Prepared {
        let mut b = PreparedBuilder::new(tables);
        b.extend(people);
        b.finish()
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The frequencies of record `i`'s first and last names among this file's records that have
    /// one (0 for a missing name).
    #[inline]
    pub fn tf(&self, i: usize) -> Tf {
        let r = &self.recs[i];
        let rel = |counts: &[u32], id: u32, total: u64| {
            let n = counts.get(id as usize).copied().unwrap_or(0);
            if total == 0 {
                0.0
            } else {
                f64::from(n) / total as f64
            }
        };
        Tf {
            first: rel(&self.first_counts, r.first, self.with_first),
            last: rel(&self.last_counts, r.last, self.with_last),
        }
    }

    pub(crate) fn check_tables(&self, tables: &NameTables) {
        assert_eq!(
            self.tables,
            tables.id(),
            "records prepared with other name tables than those given"
        );
    }
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("len", &self.recs.len())
            .finish_non_exhaustive()
    }
}

/// Prepares a file chunk by chunk, so that a caller never holds more than a chunk of people as
/// text.
pub struct PreparedBuilder<'t> {
    tables: &'t NameTables,
    recs: Vec<Rec>,
}

impl fmt::Debug for PreparedBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedBuilder")
            .field("len", &self.recs.len())
            .finish_non_exhaustive()
    }
}

impl<'t> PreparedBuilder<'t> {
    pub fn new(tables: &'t NameTables) -> PreparedBuilder<'t> {
        PreparedBuilder {
            tables,
            recs: Vec::new(),
        }
    }

    /// Records prepared so far.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Appends `people`, in order.
    pub fn extend(&mut self, people: &[Person]) {
        self.extend_with(people, |p| PersonRef::from(p));
    }

    /// Appends `items` in order, each seen through `view`.
    pub fn extend_with<T, F>(&mut self, items: &[T], view: F)
    where
        T: Sync,
        F: for<'a> Fn(&'a T) -> PersonRef<'a> + Sync,
    {
        // Look names up under a shared lock; intern those not found in one go; then settle the
        // records that waited for them. Past the first chunks of a file nearly all are found.
        let store = self.tables.read();
        let mut recs: Vec<(Rec, bool)> = items
            .par_iter()
            .map(|item| lookup(&store, &view(item)))
            .collect();
        let waiting: Vec<usize> = recs
            .par_iter()
            .enumerate()
            .filter(|(_, (_, w))| *w)
            .map(|(i, _)| i)
            .collect();
        if !waiting.is_empty() {
            let mut new: HashSet<Box<[u8]>, BuildNameHasher> = HashSet::default();
            let mut buf = [0u8; MAX_NAME];
            for &i in &waiting {
                let p = view(&items[i]);
                for (text, surname) in [(p.first, false), (p.last, true)] {
                    let name = normal_form(text, surname, &mut buf);
                    if !name.is_empty() && store.get(name).is_none() && !new.contains(name) {
                        new.insert(name.into());
                    }
                }
            }
            drop(store);
            self.tables.intern(new.into_iter().collect());
            let store = self.tables.read();
            let settled: Vec<(usize, Rec)> = waiting
                .par_iter()
                .map(|&i| (i, lookup(&store, &view(&items[i])).0))
                .collect();
            for (i, rec) in settled {
                recs[i].0 = rec;
            }
        }
        self.recs.extend(recs.into_iter().map(|(r, _)| r));
    }

    /// The prepared file, with its name frequencies counted.
    pub fn finish(self) -> Prepared {
        let names = self.tables.names();
        // One count table per run of records, added up: no atomics on the hot names.
        let runs = rayon::current_num_threads().clamp(1, 8);
        let run_len = self.recs.len().div_ceil(runs).max(1);
        let (first_counts, last_counts) = self
            .recs
            .par_chunks(run_len)
            .map(|run| {
                let mut first = vec![0u32; names];
                let mut last = vec![0u32; names];
                for r in run {
                    if r.first != NONE {
                        first[r.first as usize] += 1;
                    }
                    if r.last != NONE {
                        last[r.last as usize] += 1;
                    }
                }
                (first, last)
            })
            .reduce(
                || (vec![0u32; names], vec![0u32; names]),
                |(mut f1, mut l1), (f2, l2)| {
                    f1.iter_mut().zip(f2).for_each(|(a, b)| *a += b);
                    l1.iter_mut().zip(l2).for_each(|(a, b)| *a += b);
                    (f1, l1)
                },
            );
        let with_first = first_counts.iter().map(|&n| u64::from(n)).sum();
        let with_last = last_counts.iter().map(|&n| u64::from(n)).sum();
        Prepared {
            recs: self.recs,
            tables: self.tables.id(),
            first_counts,
            last_counts,
            with_first,
            with_last,
        }
    }
}

/// A record with the names found in `store`; `true` when some name is not interned yet.
fn lookup(store: &NameStore, p: &PersonRef<'_>) -> (Rec, bool) {
    let mut waiting = false;
    let mut buf = [0u8; MAX_NAME];
    let mut id = |text: &str, surname: bool| {
        let name = normal_form(text, surname, &mut buf);
        if name.is_empty() {
            return NONE;
        }
        store.get(name).unwrap_or_else(|| {
            waiting = true;
            NONE
        })
    };
    let first = id(p.first, false);
    let last = id(p.last, true);
    let dm = |id: u32| if id == NONE { 0 } else { store.info(id).dm[0] };
    let rec = Rec {
        ssn: p.ssn.map_or(0, bcd),
        first,
        last,
        dob: p.dob.map_or(0, pack_date),
        dm_first: dm(first),
        dm_last: dm(last),
    };
    (rec, waiting)
}

/// The nine digits of an SSN as BCD nibbles, first digit highest.
pub(crate) fn bcd(ssn: Ssn) -> u64 {
    ssn.digits()
        .iter()
        .fold(0, |acc, &d| acc << 4 | u64::from(d - b'0'))
}

/// `year << 9 | month << 5 | day`, 0 for an unknown part.
pub(crate) fn pack_date(d: PartialDate) -> u32 {
    u32::from(d.year()) << 9 | u32::from(d.month().unwrap_or(0)) << 5 | u32::from(d.day().unwrap_or(0))
}
