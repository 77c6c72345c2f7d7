//! Comparison levels per field and the comparison of two prepared records.
//!
//! Each field's levels are tried from the strongest to the weakest and the first that holds is
//! the pair's level. `Missing` (either side blank) is neutral: it carries no weight.
//!
//! First and last names swapped is a level of the first-name comparison,
//! [`NameLevel::Swapped`]: when both straight comparisons are weaker than
//! [`NameLevel::JaroWinkler1`] and the client's first name agrees with the master's last name
//! (exact, or Jaro-Winkler at least 0.92), the first name is `Swapped` and the last-name level
//! is that of the client's last name against the master's first name. So a swapped pair with
//! both names right reads `first: Swapped, last: Exact`. `Swapped` does not ask for the second
//! cross comparison to agree: that is what the last-name level says, and asking it twice would
//! count the same evidence twice (its `u` among random pairs would be near zero).
//!
//! Equal SSNs whose first names are `Different` while the surnames agree are
//! [`SsnLevel::Shared`]: the same person under a wrong first name, or a relative (a spouse, a
//! parent) whose SSN the client file carries. Relatives share surnames, so neither name says
//! which: the model weighs such a pair by the `Shared` level in place of both names (see
//! [`crate::Model`]), and the date of birth, middle name and sex decide.

use crate::jaro;
use crate::names::NameTables;
use crate::names::{NONE, NameInfo, NameStore};
use crate::prepare::{PersonRef, Rec, with_records};

macro_rules! levels {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $code:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every level, in order of strength; `Missing` last.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The short name used in CSV output and model files.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The level of a code.
            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// Position in [`Self::ALL`]: an index into the per-level parameters of a model
            /// (which have no entry for `Missing`).
            #[inline]
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

levels! {
    /// How two SSNs compare.
    SsnLevel {
        Exact => "exact",
        /// Eight of nine digits agree.
        OneDigit => "one_digit",
        /// Two neighbouring digits swapped.
        Transposed => "transposed",
        /// Equal SSNs while the first names differ and the surnames agree: the same person
        /// under a wrong first name, or a relative's SSN (see the module notes).
        Shared => "shared",
        Different => "different",
        Missing => "missing",
    }
}

levels! {
    /// How two names compare.
    NameLevel {
        Exact => "exact",
        /// Names of a shared nickname group (BOB and ROBERT); first names only.
        Nickname => "nickname",
        /// First and last names swapped; first names only (see the module notes).
        Swapped => "swapped",
        /// Jaro-Winkler similarity at least 0.92.
        JaroWinkler1 => "jw92",
        /// Jaro-Winkler similarity at least 0.85.
        JaroWinkler2 => "jw85",
        /// Equal Double Metaphone (primary or alternate) or NYSIIS codes.
        Phonetic => "phonetic",
        /// One side is a single letter, the other's initial.
        Initial => "initial",
        Different => "different",
        Missing => "missing",
    }
}

levels! {
    /// How two dates of birth compare.
    DobLevel {
        Exact => "exact",
        /// Day and month swapped, year equal.
        DayMonthSwapped => "day_month_swapped",
        /// Month and day equal, years one apart.
        YearPlusMinusOne => "year_pm1",
        /// One digit of `YYYYMMDD` differs, or two neighbouring digits are swapped: a typing
        /// error, far rarer between two people than a whole part that differs.
        OneDigit => "one_digit",
        /// Exactly one of year, month and day differs.
        OneComponent => "one_component",
        /// At least one side partial (unknown day or month) and every part known on both sides
        /// equal; also two equal partial dates.
        CompatiblePartial => "compatible_partial",
        Different => "different",
        Missing => "missing",
    }
}

levels! {
    /// How two middle names compare.
    MiddleLevel {
        /// Equal full names.
        Exact => "exact",
        /// Nicknames, Jaro-Winkler at least 0.85 or phonetically equal.
        Similar => "similar",
        /// Equal initials, one side (or both) given as an initial.
        Initial => "initial",
        Different => "different",
        Missing => "missing",
    }
}

levels! {
    /// How two generational suffixes (JR, SR, II, III, IV, V) compare; any other suffix is
    /// missing.
    SuffixLevel {
        Exact => "exact",
        Different => "different",
        Missing => "missing",
    }
}

levels! {
    /// How two sexes compare.
    SexLevel {
        Exact => "exact",
        Different => "different",
        Missing => "missing",
    }
}

impl NameLevel {
    /// How the names compare, in words for people (the codes are for files): "the first name
    /// " followed by this reads as a sentence.
    pub fn words(self) -> &'static str {
        match self {
            NameLevel::Exact => "is the same",
            NameLevel::Nickname => "is a nickname of the same name",
            NameLevel::Swapped => "was given as the last name (first and last names swapped)",
            NameLevel::JaroWinkler1 => "is spelt almost the same",
            NameLevel::JaroWinkler2 => "is spelt alike",
            NameLevel::Phonetic => "sounds alike",
            NameLevel::Initial => "agrees with an initial",
            NameLevel::Different => "is different",
            NameLevel::Missing => "is not given on one side",
        }
    }
}

impl DobLevel {
    /// How the dates of birth compare, in words for people (the codes are for files).
    pub fn words(self) -> &'static str {
        match self {
            DobLevel::Exact => "born the same day",
            DobLevel::DayMonthSwapped => "born the same day, month and day swapped",
            DobLevel::YearPlusMinusOne => "born the same day and month, a year apart",
            DobLevel::OneDigit => "born on a date one digit apart",
            DobLevel::OneComponent => "born on a date that differs in one part",
            DobLevel::CompatiblePartial => "born in the same period, as far as both dates go",
            DobLevel::Different => "born on another date",
            DobLevel::Missing => "no date of birth on one side",
        }
    }
}

/// The levels of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Levels {
    pub ssn: SsnLevel,
    pub first: NameLevel,
    pub last: NameLevel,
    pub dob: DobLevel,
    pub middle: MiddleLevel,
    pub suffix: SuffixLevel,
    pub sex: SexLevel,
}

impl Levels {
    /// Levels per field, `Missing` included, in the order of [`crate::FIELDS`].
    pub const SIZES: [usize; 7] = [
        SsnLevel::ALL.len(),
        NameLevel::ALL.len(),
        NameLevel::ALL.len(),
        DobLevel::ALL.len(),
        MiddleLevel::ALL.len(),
        SuffixLevel::ALL.len(),
        SexLevel::ALL.len(),
    ];

    /// Number of distinct level patterns: the range of [`Levels::index`].
    pub const COUNT: usize = {
        let mut n = 1;
        let mut f = 0;
        while f < Levels::SIZES.len() {
            n *= Levels::SIZES[f];
            f += 1;
        }
        n
    };

    /// Every field's level position, in the order of [`crate::FIELDS`].
    #[inline]
    pub fn positions(&self) -> [usize; 7] {
        [
            self.ssn.index(),
            self.first.index(),
            self.last.index(),
            self.dob.index(),
            self.middle.index(),
            self.suffix.index(),
            self.sex.index(),
        ]
    }

    /// Every field's level code, in the order of [`crate::FIELDS`].
    pub fn codes(&self) -> [&'static str; 7] {
        [
            self.ssn.code(),
            self.first.code(),
            self.last.code(),
            self.dob.code(),
            self.middle.code(),
            self.suffix.code(),
            self.sex.code(),
        ]
    }

    /// A dense index of the pattern, below [`Levels::COUNT`].
    #[inline]
    pub fn index(&self) -> usize {
        self.positions()
            .iter()
            .zip(Levels::SIZES)
            .fold(0, |acc, (&p, n)| acc * n + p)
    }

    /// The pattern of an index below [`Levels::COUNT`].
    pub fn from_index(mut i: usize) -> Levels {
        let mut p = [0usize; 7];
        for f in (0..7).rev() {
            p[f] = i % Levels::SIZES[f];
            i /= Levels::SIZES[f];
        }
        Levels {
            ssn: SsnLevel::ALL[p[0]],
            first: NameLevel::ALL[p[1]],
            last: NameLevel::ALL[p[2]],
            dob: DobLevel::ALL[p[3]],
            middle: MiddleLevel::ALL[p[4]],
            suffix: SuffixLevel::ALL[p[5]],
            sex: SexLevel::ALL[p[6]],
        }
    }
}

/// Compares two prepared records.
#[inline]
pub(crate) fn compare_records(c: &Rec, m: &Rec, store: &NameStore) -> Levels {
    let (first, last) = names(c, m, store);
    let mut ssn = ssn_level(c.ssn, m.ssn);
    if ssn == SsnLevel::Exact
        && first == NameLevel::Different
        && matches!(
            last,
            NameLevel::Exact
                | NameLevel::JaroWinkler1
                | NameLevel::JaroWinkler2
                | NameLevel::Phonetic
        )
    {
        ssn = SsnLevel::Shared;
    }
    Levels {
        ssn,
        first,
        last,
        dob: dob_level(c.dob, m.dob),
        middle: middle_level(store, c.middle, m.middle),
        suffix: suffix_level(c.extra, m.extra),
        sex: sex_level(c.extra, m.extra),
    }
}

/// Two middle names: see [`MiddleLevel`].
#[inline]
fn middle_level(store: &NameStore, a: u32, b: u32) -> MiddleLevel {
    if a == NONE || b == NONE {
        return MiddleLevel::Missing;
    }
    let single = store.info(a).len == 1 || store.info(b).len == 1;
    match name_level(store, a, b, true) {
        NameLevel::Exact if single => MiddleLevel::Initial,
        NameLevel::Exact => MiddleLevel::Exact,
        NameLevel::Initial => MiddleLevel::Initial,
        NameLevel::Nickname
        | NameLevel::JaroWinkler1
        | NameLevel::JaroWinkler2
        | NameLevel::Phonetic => MiddleLevel::Similar,
        _ => MiddleLevel::Different,
    }
}

/// Suffix codes as packed in [`Rec::extra`] (its low three bits, 0 for none).
#[inline]
fn suffix_level(a: u8, b: u8) -> SuffixLevel {
    let (a, b) = (a & 7, b & 7);
    if a == 0 || b == 0 {
        SuffixLevel::Missing
    } else if a == b {
        SuffixLevel::Exact
    } else {
        SuffixLevel::Different
    }
}

/// Sex codes as packed in [`Rec::extra`] (bits 3 and 4, 0 for none).
#[inline]
fn sex_level(a: u8, b: u8) -> SexLevel {
    let (a, b) = (a >> 3 & 3, b >> 3 & 3);
    if a == 0 || b == 0 {
        SexLevel::Missing
    } else if a == b {
        SexLevel::Exact
    } else {
        SexLevel::Different
    }
}

/// SSNs as nine BCD nibbles, 0 for none.
#[inline]
pub(crate) fn ssn_level(a: u64, b: u64) -> SsnLevel {
    if a == 0 || b == 0 {
        return SsnLevel::Missing;
    }
    if a == b {
        return SsnLevel::Exact;
    }
    let x = a ^ b;
    // One bit per differing digit, at the digit's lowest bit.
    let differ = (x | x >> 1 | x >> 2 | x >> 3) & 0x1_1111_1111;
    match differ.count_ones() {
        1 => SsnLevel::OneDigit,
        2 => {
            let lo = differ.trailing_zeros();
            let hi = 63 - differ.leading_zeros();
            let digit = |v: u64, at: u32| v >> at & 0xf;
            if hi - lo == 4 && digit(a, lo) == digit(b, hi) && digit(a, hi) == digit(b, lo) {
                SsnLevel::Transposed
            } else {
                SsnLevel::Different
            }
        }
        _ => SsnLevel::Different,
    }
}

/// Dates packed as `year << 9 | month << 5 | day` (0 for an unknown part), 0 for none.
#[inline]
pub(crate) fn dob_level(a: u32, b: u32) -> DobLevel {
    if a == 0 || b == 0 {
        return DobLevel::Missing;
    }
    let parts = |v: u32| (v >> 9, v >> 5 & 0xf, v & 0x1f);
    let (ya, ma, da) = parts(a);
    let (yb, mb, db) = parts(b);
    let complete = ma != 0 && da != 0 && mb != 0 && db != 0;
    if a == b {
        return if complete {
            DobLevel::Exact
        } else {
            DobLevel::CompatiblePartial
        };
    }
    if !complete {
        let compatible =
            ya == yb && (ma == 0 || mb == 0 || ma == mb) && (da == 0 || db == 0 || da == db);
        return if compatible {
            DobLevel::CompatiblePartial
        } else {
            DobLevel::Different
        };
    }
    if ya == yb && ma == db && da == mb {
        return DobLevel::DayMonthSwapped;
    }
    if ma == mb && da == db && ya.abs_diff(yb) == 1 {
        return DobLevel::YearPlusMinusOne;
    }
    if one_digit_apart(ya, ma, da, yb, mb, db) {
        return DobLevel::OneDigit;
    }
    let differ = u32::from(ya != yb) + u32::from(ma != mb) + u32::from(da != db);
    if differ == 1 {
        DobLevel::OneComponent
    } else {
        DobLevel::Different
    }
}

/// Whether two complete dates written `YYYYMMDD` differ in one digit or by two neighbouring
/// digits swapped.
#[inline]
fn one_digit_apart(ya: u32, ma: u32, da: u32, yb: u32, mb: u32, db: u32) -> bool {
    let digits = |y: u32, m: u32, d: u32| {
        let v = y * 10_000 + m * 100 + d;
        std::array::from_fn::<u32, 8, _>(|i| v / 10u32.pow(7 - i as u32) % 10)
    };
    let (a, b) = (digits(ya, ma, da), digits(yb, mb, db));
    let (mut n, mut first) = (0, 0);
    for i in (0..8).filter(|&i| a[i] != b[i]) {
        if n == 0 {
            first = i;
        }
        n += 1;
    }
    let i = first;
    n == 1 || (n == 2 && i < 7 && a[i + 1] != b[i + 1] && a[i] == b[i + 1] && a[i + 1] == b[i])
}

/// The first- and last-name levels, with the swap check described in the module notes.
#[inline]
fn names(c: &Rec, m: &Rec, store: &NameStore) -> (NameLevel, NameLevel) {
    let first = name_level(store, c.first, m.first, true);
    let last = name_level(store, c.last, m.last, false);
    if first > NameLevel::JaroWinkler1
        && last > NameLevel::JaroWinkler1
        && first != NameLevel::Missing
        && last != NameLevel::Missing
        && name_level(store, c.first, m.last, false) <= NameLevel::JaroWinkler1
    {
        return (NameLevel::Swapped, name_level(store, c.last, m.first, true));
    }
    (first, last)
}

/// One name against another; nicknames count for first names only.
#[inline]
pub(crate) fn name_level(store: &NameStore, a: u32, b: u32, first: bool) -> NameLevel {
    if a == NONE || b == NONE {
        return NameLevel::Missing;
    }
    if a == b {
        return NameLevel::Exact;
    }
    let (ia, ib) = (store.info(a), store.info(b));
    if first && nicknames(store, ia, ib) {
        return NameLevel::Nickname;
    }
    if ia.len == 1 || ib.len == 1 {
        return if ia.initial == ib.initial {
            NameLevel::Initial
        } else {
            NameLevel::Different
        };
    }
    // Most pairs of different names fail a bound from their lengths and letters, which costs
    // far less than the similarity and does not read the names themselves.
    let (la, lb) = (ia.len as usize, ib.len as usize);
    let common =
        (ia.letters[0] & ib.letters[0]).count_ones() + (ia.letters[1] & ib.letters[1]).count_ones();
    if jaro::upper_bound(la, lb, common as usize, 4) >= 0.85 {
        let (ba, bb) = (store.bytes(ia), store.bytes(ib));
        if jaro::upper_bound(la, lb, common as usize, jaro::prefix(ba, bb)) >= 0.85 {
            let jw = jaro::jaro_winkler(ba, bb);
            if jw >= 0.92 {
                return NameLevel::JaroWinkler1;
            }
            if jw >= 0.85 {
                return NameLevel::JaroWinkler2;
            }
        }
    }
    if phonetic(ia, ib) {
        NameLevel::Phonetic
    } else {
        NameLevel::Different
    }
}

#[inline]
fn phonetic(a: &NameInfo, b: &NameInfo) -> bool {
    let dm = |x: u32, y: u32| x != 0 && x == y;
    dm(a.dm[0], b.dm[0])
        || dm(a.dm[0], b.dm[1])
        || dm(a.dm[1], b.dm[0])
        || dm(a.dm[1], b.dm[1])
        || dm(a.nysiis, b.nysiis)
}

/// Whether two names share a nickname group (both lists sorted).
#[inline]
fn nicknames(store: &NameStore, a: &NameInfo, b: &NameInfo) -> bool {
    let (ga, gb) = (store.groups(a), store.groups(b));
    let (mut i, mut j) = (0, 0);
    while i < ga.len() && j < gb.len() {
        match ga[i].cmp(&gb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// The levels of one person against each of `people`, as [`crate::compare`] gives them, without
/// preparing a file: for a search that compares one person asked about with a few thousand
/// candidates, where a file's name frequencies and its threads cost more than the comparisons.
/// Names not interned yet are interned first.
pub fn compare_each(
    query: &PersonRef<'_>,
    people: &[PersonRef<'_>],
    tables: &NameTables,
) -> Vec<Levels> {
    with_records(query, people, tables, |q, recs, store| {
        recs.iter().map(|r| compare_records(q, r, store)).collect()
    })
}
