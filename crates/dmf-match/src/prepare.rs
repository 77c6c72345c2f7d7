//! Records prepared for comparison: 40 bytes each (SSN digits, interned names, packed date,
//! suffix and sex, phonetic blocking codes), with the file's own name frequencies.

use std::collections::HashSet;
use std::fmt;

use dmf_model::{PartialDate, Sex, SsnDigits};
use rayon::prelude::*;

use crate::Person;
use crate::hash::BuildNameHasher;
use crate::names::{MAX_NAME, NONE, NameStore, NameTables, normal_form};

/// A person as given, borrowed: for callers that hold names in their own buffers (a parsed DMF
/// record, a CSV row) and would rather not allocate a [`Person`] each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonRef<'a> {
    /// The nine digits, of an issued form or not (a master line may carry a never-issued one).
    pub ssn: Option<SsnDigits>,
    pub first: &'a str,
    pub middle: &'a str,
    pub last: &'a str,
    pub suffix: &'a str,
    pub dob: Option<PartialDate>,
    pub sex: Option<Sex>,
}

impl<'a> From<&'a Person> for PersonRef<'a> {
    fn from(p: &'a Person) -> PersonRef<'a> {
        PersonRef {
            ssn: p.ssn,
            first: &p.first,
            middle: &p.middle,
            last: &p.last,
            suffix: &p.suffix,
            dob: p.dob,
            sex: p.sex,
        }
    }
}

/// One prepared record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rec {
    /// The nine digits as BCD nibbles, 0 when unknown: digit differences by bit operations.
    pub ssn: u64,
    pub first: u32,
    pub last: u32,
    pub middle: u32,
    /// `year << 9 | month << 5 | day`, 0 for an unknown part, 0 when unknown.
    pub dob: u32,
    /// Double Metaphone primary codes, packed (0 for none): blocking keys.
    pub dm_first: u32,
    pub dm_last: u32,
    /// The [`Tf`] of the first name within the record's decade of birth.
    pub first_tf: f32,
    /// The suffix (low three bits, [`suffix_code`]) and sex (bits 3 and 4: 1 female, 2 male).
    pub extra: u8,
}

/// How common a record's first and last names are in its own file, against the average:
/// the name's share of the records that have one, divided by the share of the name of a record
/// drawn at random (the sum of squared shares). 1 is a typical name, 10 ten times as common
/// (SMITH), 0.01 a rare one; 0 for a missing name.
///
/// First names are counted among the records born in the same decade (all records when the
/// date of birth is unknown), since their fashions come and go: LOGAN is rare among the dead
/// as a whole but not among those born in the 2010s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tf {
    pub first: f64,
    pub last: f64,
}

/// Records prepared for comparison (interned names, phonetic codes, blocking keys).
pub struct Prepared {
    pub(crate) recs: Vec<Rec>,
    pub(crate) tables: u64,
    last_counts: Vec<u32>,
    /// `1 / (records with a name * mean share)`: a count times this is a [`Tf`].
    last_scale: f64,
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

    /// How common record `i`'s first and last names are in this file.
    #[inline]
    pub fn tf(&self, i: usize) -> Tf {
        let r = &self.recs[i];
        let last = self.last_counts.get(r.last as usize).copied().unwrap_or(0);
        Tf {
            first: f64::from(r.first_tf),
            last: f64::from(last) * self.last_scale,
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
                for (text, surname) in [(p.first, false), (p.middle, false), (p.last, true)] {
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
    pub fn finish(mut self) -> Prepared {
        let names = self.tables.names();
        let count = |ids: &mut dyn Iterator<Item = u32>| {
            let mut counts = vec![0u32; names];
            for id in ids.filter(|&id| id != NONE) {
                counts[id as usize] += 1;
            }
            counts
        };
        let last_counts = count(&mut self.recs.iter().map(|r| r.last));
        // First names per decade of birth, one table a decade, plus one for all records.
        let decade = |r: &Rec| (r.dob != 0).then_some((r.dob >> 9) / 10);
        let decades = self.recs.iter().filter_map(decade);
        let low = decades.clone().min().unwrap_or(0);
        let high = decades.max().unwrap_or(0);
        let all = (high - low + 1) as usize;
        // One pass into one table per decade (row `all` for unknown dates), then the rows
        // added up for records of unknown date, which compare with everyone.
        let mut by_decade = vec![0u32; (all + 1) * names];
        for r in self.recs.iter().filter(|r| r.first != NONE) {
            let row = decade(r).map_or(all, |d| (d - low) as usize);
            by_decade[row * names + r.first as usize] += 1;
        }
        let mut general = vec![0u32; names];
        for row in by_decade.chunks(names.max(1)) {
            general.iter_mut().zip(row).for_each(|(g, &n)| *g += n);
        }
        let scales: Vec<f64> = by_decade.chunks(names.max(1)).map(scale).collect();
        let general_scale = scale(&general);
        self.recs.par_iter_mut().for_each(|r| {
            if r.first == NONE {
                return;
            }
            let (n, scale) = match decade(r) {
                Some(d) => {
                    let row = (d - low) as usize;
                    (by_decade[row * names + r.first as usize], scales[row])
                }
                None => (general[r.first as usize], general_scale),
            };
            r.first_tf = (f64::from(n) * scale) as f32;
        });
        Prepared {
            recs: self.recs,
            tables: self.tables.id(),
            last_scale: scale(&last_counts),
            last_counts,
        }
    }
}

/// Runs `each` on the records of one person and of each of `people`, as a file would hold
/// them but without preparing one (no name frequencies, no threads), with the store their
/// names are in. Names not interned yet are interned first.
pub(crate) fn with_records<R>(
    query: &PersonRef<'_>,
    people: &[PersonRef<'_>],
    tables: &NameTables,
    each: impl Fn(&Rec, &[Rec], &NameStore) -> R,
) -> R {
    let prepare = |store: &NameStore| {
        let (q, mut waiting) = lookup(store, query);
        let recs: Vec<Rec> = people
            .iter()
            .map(|p| {
                let (r, w) = lookup(store, p);
                waiting |= w;
                r
            })
            .collect();
        (q, recs, waiting)
    };
    let store = tables.read();
    let (mut q, mut recs, waiting) = prepare(&store);
    if waiting {
        let mut new: HashSet<Box<[u8]>, BuildNameHasher> = HashSet::default();
        let mut buf = [0u8; MAX_NAME];
        for p in std::iter::once(query).chain(people) {
            for (text, surname) in [(p.first, false), (p.middle, false), (p.last, true)] {
                let name = normal_form(text, surname, &mut buf);
                if !name.is_empty() && store.get(name).is_none() {
                    new.insert(name.into());
                }
            }
        }
        drop(store);
        tables.intern(new.into_iter().collect());
        let store = tables.read();
        (q, recs, _) = prepare(&store);
        return each(&q, &recs, &store);
    }
    each(&q, &recs, &store)
}

/// `1 / (total * mean share)` = `total / sum of squared counts`, so that `count * scale` is the
/// name's share over the mean share; 0 for no names.
fn scale(counts: &[u32]) -> f64 {
    let total: f64 = counts.iter().map(|&n| f64::from(n)).sum();
    let squares: f64 = counts.iter().map(|&n| f64::from(n) * f64::from(n)).sum();
    if squares == 0.0 { 0.0 } else { total / squares }
}

/// A record with the names found in `store`; `true` when some name is not interned yet.
fn lookup(store: &NameStore, p: &PersonRef<'_>) -> (Rec, bool) {
    let mut waiting = false;
    let mut buf = [0u8; MAX_NAME];
    let mut id = |text: &str, surname: bool| {
        let name = normal_form(text, surname, &mut buf);
        if name.is_empty() {
            return (NONE, 0);
        }
        store.get(name).unwrap_or_else(|| {
            waiting = true;
            (NONE, 0)
        })
    };
    let (first, dm_first) = id(p.first, false);
    let (last, dm_last) = id(p.last, true);
    let (middle, _) = id(p.middle, false);
    let sex = match p.sex {
        None => 0,
        Some(Sex::Female) => 1,
        Some(Sex::Male) => 2,
    };
    let rec = Rec {
        ssn: p.ssn.map_or(0, bcd),
        first,
        last,
        middle,
        dob: p.dob.map_or(0, pack_date),
        dm_first,
        dm_last,
        first_tf: 0.0,
        extra: suffix_code(p.suffix) | sex << 3,
    };
    (rec, waiting)
}

/// A generational suffix as a code from 1 to 6 (JR, SR, II, III, IV, V; 2ND, 3RD and 4TH as
/// II, III and IV), 0 for none or any other suffix (ESQ, MD): those say nothing of identity.
pub(crate) fn suffix_code(text: &str) -> u8 {
    let mut buf = [0u8; 4];
    let mut n = 0;
    for b in text.bytes().filter(u8::is_ascii_alphanumeric) {
        if n == buf.len() {
            return 0;
        }
        buf[n] = b.to_ascii_uppercase();
        n += 1;
    }
    match &buf[..n] {
        b"JR" => 1,
        b"SR" => 2,
        b"II" | b"2ND" => 3,
        b"III" | b"3RD" => 4,
        b"IV" | b"4TH" => 5,
        b"V" => 6,
        _ => 0,
    }
}

/// The nine digits of an SSN as BCD nibbles, first digit highest.
pub(crate) fn bcd(ssn: SsnDigits) -> u64 {
    ssn.digits()
        .iter()
        .fold(0, |acc, &d| acc << 4 | u64::from(d - b'0'))
}

/// `year << 9 | month << 5 | day`, 0 for an unknown part.
pub(crate) fn pack_date(d: PartialDate) -> u32 {
    u32::from(d.year()) << 9
        | u32::from(d.month().unwrap_or(0)) << 5
        | u32::from(d.day().unwrap_or(0))
}

/// Asks the processor to start loading `value` into its cache: random reads (of master
/// records, of index buckets) otherwise wait for memory one after the other.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault; `value` is a live
    // reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
