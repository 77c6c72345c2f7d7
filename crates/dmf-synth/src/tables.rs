//! The reference tables turned into samplers: names by frequency, births by year and sex,
//! birth states by population, and ages at death by cohort life table.

use std::collections::HashMap;
use std::sync::OnceLock;

use dmf_data::{LifeTables, Sex};
use dmf_model::{Date, days_in_month, is_leap_year};
use rand::Rng;
use rand_distr::{Distribution, weighted::WeightedAliasIndex};

use crate::states::STATES;

/// The first year of birth in the applicant table.
pub(crate) const FIRST_BIRTH_YEAR: u16 = 1880;
/// The last year with applicant figures; later years repeat it.
const LAST_APPLICANT_YEAR: u16 = 2017;
/// First-name decades in the SSA table.
const FIRST_DECADE: u16 = 1880;
const LAST_DECADE: u16 = 2010;
/// Nobody lives past this age: the life tables stop at 119.
pub(crate) const MAX_AGE: usize = LifeTables::AGES;

/// A name of at most 15 bytes kept inline (bytes, then the length in the last byte): drawing
/// a name touches one 16-byte slot instead of a pointer and a heap string, which matters when
/// millions of names are drawn from tables larger than the cache.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShortName([u8; 16]);

impl ShortName {
    /// No name (a missing middle name).
    pub const EMPTY: ShortName = ShortName([0; 16]);

    fn new(text: &str) -> ShortName {
        let b = text.as_bytes();
        assert!(b.len() < 16, "the name {text:?} is longer than 15 bytes");
        let mut slot = [0u8; 16];
        slot[..b.len()].copy_from_slice(b);
        slot[15] = b.len() as u8;
        ShortName(slot)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..usize::from(self.0[15])]
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("made from a str")
    }

    /// Appends the name: a fixed 16-byte copy, then the excess cut off.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        let len = out.len();
        out.extend_from_slice(&self.0);
        out.truncate(len + usize::from(self.0[15]));
    }
}

impl std::fmt::Debug for ShortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Draws an index by weight. The few frequent entries (the head, most of the mass) get an
/// alias table of their own that stays in cache; the long tail has another. Entries must come
/// most frequent first for that to pay, which the name tables do.
#[derive(Debug)]
pub(crate) struct Sampler {
    /// Probability of the head, scaled to `u32`.
    head_share: u32,
    head: WeightedAliasIndex<f32>,
    /// The entries after the head, if any.
    tail: Option<WeightedAliasIndex<f32>>,
    head_len: u32,
}

impl Sampler {
    /// Entries in the head: 4096 alias slots take 32 KiB.
    const HEAD: usize = 4096;

    pub fn new(weights: &[f64]) -> Sampler {
        let head_len = weights.len().min(Sampler::HEAD);
        let (head, tail) = weights.split_at(head_len);
        let total: f64 = weights.iter().sum();
        let share = head.iter().sum::<f64>() / total;
        let alias = |w: &[f64]| {
            WeightedAliasIndex::new(w.iter().map(|&w| w as f32).collect()).expect("weights")
        };
        Sampler {
            head_share: if tail.is_empty() {
                u32::MAX
            } else {
                (share * f64::from(u32::MAX)) as u32
            },
            head: alias(head),
            tail: (!tail.is_empty()).then(|| alias(tail)),
            head_len: head_len as u32,
        }
    }

    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match &self.tail {
            Some(tail) if rng.next_u32() >= self.head_share => {
                self.head_len + tail.sample(rng) as u32
            }
            _ => self.head.sample(rng) as u32,
        }
    }
}

/// First names of one decade of birth and sex.
#[derive(Debug)]
pub(crate) struct FirstTable {
    /// Index of the first name of this table in [`Names::first_names`].
    offset: u32,
    sampler: Sampler,
}

impl FirstTable {
    /// A name, as an index into [`Names::first_names`].
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        self.offset + self.sampler.draw(rng)
    }
}

/// The name tables: the large ones, independent of the run, loaded once per process.
#[derive(Debug)]
pub(crate) struct Names {
    /// Census surnames in title case (`Smith`, `McDonald`), most frequent first.
    pub surnames: Vec<ShortName>,
    surname_sampler: Sampler,
    /// SSA first names, as SSA writes them (`Mary`), table after table, each most frequent
    /// first.
    pub first_names: Vec<ShortName>,
    /// One table per decade and sex: `(decade - 1880) / 10 * 2 + sex`.
    first_tables: Vec<FirstTable>,
    /// Lowercase name to its nicknames (lowercase).
    pub nicknames: HashMap<Box<str>, Vec<Box<str>>>,
}

static NAMES: OnceLock<Names> = OnceLock::new();

impl Names {
    /// The name tables, loaded on first use; the two large ones load side by side.
    ///
    /// The second loader runs on a plain thread, not on rayon: a rayon thread waiting inside
    /// the initialization could pick up another task that asks for the names, and a `OnceLock`
    /// initialized reentrantly deadlocks.
    pub fn get() -> &'static Names {
        NAMES.get_or_init(|| {
            std::thread::scope(|scope| {
                let surnames = scope.spawn(load_surnames);
                let (first_names, first_tables) = load_first_names();
                let nicknames = load_nicknames();
                let (surnames, surname_sampler) = surnames
                    .join()
                    .expect("loading the surnames does not panic");
                Names {
                    surnames,
                    surname_sampler,
                    first_names,
                    first_tables,
                    nicknames,
                }
            })
        })
    }
}

impl Names {
    pub fn draw_surname<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        self.surname_sampler.draw(rng)
    }

    /// The first names of the decade of `birth_year` (1880s for earlier, 2010s for later).
    pub fn first_table(&self, birth_year: u16, sex: Sex) -> &FirstTable {
        &self.first_tables[self.first_table_index(birth_year, sex)]
    }

    pub fn first_table_index(&self, birth_year: u16, sex: Sex) -> usize {
        let decade = birth_year.clamp(FIRST_DECADE, LAST_DECADE + 9) / 10 * 10;
        usize::from((decade - FIRST_DECADE) / 10) * 2 + sex.index()
    }

    pub fn first_table_count(&self) -> usize {
        self.first_tables.len()
    }
}

/// The small tables a run draws from (the names are in [`Names`]).
#[derive(Debug)]
pub(crate) struct Tables {
    /// Survivors l(x) of one newborn, ages 0-120, with l(121) = 0: one curve per year of birth
    /// from 1880 and sex, at `(year - 1880) * 2 + sex`.
    survival: Vec<[f64; MAX_AGE + 2]>,
    /// Year and sex of the birth cells, and their weights (SSN applicants).
    birth_cells: Vec<(u16, Sex)>,
    birth_alias: WeightedAliasIndex<f32>,
    /// SSN applicants of all the birth cells: divided by the people, how many real numbers one
    /// synthetic person stands for.
    pub applicants_total: f64,
    state_alias: WeightedAliasIndex<f32>,
}

impl Tables {
    /// The tables for a population born up to `as_of`.
    pub fn load(as_of: Date) -> Tables {
        let survival = survival_curves(&dmf_data::life_tables(), as_of.year());
        let (birth_cells, weights) = birth_weights(&dmf_data::applicants(), &survival, as_of);
        let applicants_total = weights.iter().sum();
        let birth_alias = WeightedAliasIndex::new(weights.iter().map(|&w| w as f32).collect())
            .expect("birth weights");
        let state_alias =
            WeightedAliasIndex::new(STATES.iter().map(|s| s.population as f32).collect())
                .expect("state weights");
        Tables {
            survival,
            birth_cells,
            birth_alias,
            applicants_total,
            state_alias,
        }
    }

    pub fn draw_birth_cell<R: Rng + ?Sized>(&self, rng: &mut R) -> (u16, Sex) {
        self.birth_cells[self.birth_alias.sample(rng)]
    }

    /// Index into [`crate::states::STATES`].
    pub fn draw_state<R: Rng + ?Sized>(&self, rng: &mut R) -> u8 {
        self.state_alias.sample(rng) as u8
    }

    /// The age at death (whole years) of someone born in `birth_year`, known alive at age
    /// `alive_at`, for a uniform `u` in `[0, 1)`: the inverse of the conditional survival curve.
    pub fn death_age(&self, birth_year: u16, sex: Sex, alive_at: usize, u: f64) -> usize {
        let l = &self.survival[usize::from(birth_year - FIRST_BIRTH_YEAR) * 2 + sex.index()];
        let from = alive_at.min(MAX_AGE);
        // Death falls in the year of age x where l(x) > t >= l(x + 1).
        let t = (1.0 - u) * l[from];
        let alive = l[from..].partition_point(|&s| s >= t);
        (from + alive.max(1) - 1).min(MAX_AGE)
    }
}

fn load_surnames() -> (Vec<ShortName>, Sampler) {
    let rows = dmf_data::surnames();
    let weights: Vec<f64> = rows.iter().map(|(_, c)| *c as f64).collect();
    (
        rows.iter()
            .map(|(n, _)| ShortName::new(&title_case(n)))
            .collect(),
        Sampler::new(&weights),
    )
}

fn load_first_names() -> (Vec<ShortName>, Vec<FirstTable>) {
    let decades = usize::from((LAST_DECADE - FIRST_DECADE) / 10 + 1);
    let mut groups: Vec<Vec<(ShortName, u64)>> = vec![Vec::new(); decades * 2];
    for row in dmf_data::first_names() {
        let decade = usize::from((row.decade - FIRST_DECADE) / 10);
        groups[decade * 2 + row.sex.index()].push((ShortName::new(&row.name), row.count));
    }
    let mut names = Vec::new();
    let mut tables = Vec::with_capacity(groups.len());
    for mut group in groups {
        // Most frequent first, for the sampler's head.
        group.sort_by_key(|g| std::cmp::Reverse(g.1));
        let offset = names.len() as u32;
        let weights: Vec<f64> = group.iter().map(|(_, c)| *c as f64).collect();
        names.extend(group.iter().map(|(n, _)| *n));
        tables.push(FirstTable {
            offset,
            sampler: Sampler::new(&weights),
        });
    }
    (names, tables)
}

fn load_nicknames() -> HashMap<Box<str>, Vec<Box<str>>> {
    let mut nicknames: HashMap<Box<str>, Vec<Box<str>>> = HashMap::new();
    for (name, nick) in dmf_data::nicknames() {
        nicknames
            .entry(name.into_boxed_str())
            .or_default()
            .push(nick.into_boxed_str());
    }
    nicknames
}

/// Survival curves for every year of birth from 1880 to `last_year`: q(x) interpolated between
/// the decennial cohorts (1900 for earlier births, 2010 for later), certain death at 120.
pub(crate) fn survival_curves(tables: &LifeTables, last_year: u16) -> Vec<[f64; MAX_AGE + 2]> {
    let cohorts = tables.cohorts();
    let (first, last) = (cohorts[0], cohorts[cohorts.len() - 1]);
    let mut out = Vec::new();
    for year in FIRST_BIRTH_YEAR..=last_year.max(FIRST_BIRTH_YEAR) {
        let y = year.clamp(first, last);
        let lower = *cohorts
            .iter()
            .rev()
            .find(|&&c| c <= y)
            .expect("a cohort below");
        let upper = *cohorts.iter().find(|&&c| c >= y).expect("a cohort above");
        let w = if upper == lower {
            0.0
        } else {
            f64::from(y - lower) / f64::from(upper - lower)
        };
        for sex in Sex::ALL {
            let (a, b) = (
                tables.qx(lower, sex).expect("cohort"),
                tables.qx(upper, sex).expect("cohort"),
            );
            let mut l = [0.0; MAX_AGE + 2];
            l[0] = 1.0;
            for x in 0..MAX_AGE {
                let q = (1.0 - w) * a[x] + w * b[x];
                l[x + 1] = l[x] * (1.0 - q);
            }
            // l[120] holds the few who reach 120; none reach 121.
            l[MAX_AGE + 1] = 0.0;
            out.push(l);
        }
    }
    out
}

/// Birth cells `(year, sex)` from 1880 to `as_of`'s year with their weights: SSN applicants by
/// year of birth, the last published year standing for later ones, the current year only up
/// to `as_of`; cohorts born before 1920 are raised to [`early_cohort`].
pub(crate) fn birth_weights(
    applicants: &[(u16, Sex, u64)],
    survival: &[[f64; MAX_AGE + 2]],
    as_of: Date,
) -> (Vec<(u16, Sex)>, Vec<f64>) {
    let count = |year: u16, sex: Sex| {
        applicants
            .iter()
            .find(|r| r.0 == year && r.1 == sex)
            .map(|r| r.2 as f64)
    };
    let mut cells = Vec::new();
    let mut weights = Vec::new();
    for year in FIRST_BIRTH_YEAR..=as_of.year() {
        for sex in Sex::ALL {
            let Some(mut w) = count(year.min(LAST_APPLICANT_YEAR), sex) else {
                continue;
            };
            if year < COMPLETE_FROM {
                let reference = (COMPLETE_FROM..COMPLETE_FROM + 10)
                    .filter_map(|y| count(y, sex))
                    .sum::<f64>()
                    / 10.0;
                w = w.max(early_cohort(year, sex, reference, survival));
            }
            if year == as_of.year() {
                let days = if is_leap_year(year) { 366.0 } else { 365.0 };
                let start = Date::new(year, 1, 1).expect("January 1");
                w *= f64::from(as_of.days_since_epoch() - start.days_since_epoch() + 1) / days;
            }
            cells.push((year, sex));
            weights.push(w);
        }
    }
    (cells, weights)
}

/// The first birth year the applicant table counts about fully. It counts only applicants whose
/// records give a US state of birth, and for the cohorts that took their numbers as adults in
/// the early decades it falls far short: 0.5 million applicants born in 1900 against 2.3
/// million born in 1920, while most adults of 1937 took a number. Left as is, the oldest
/// cohorts (all dead now) would be a fraction of their real size.
pub(crate) const COMPLETE_FROM: u16 = 1920;

/// Numberholders of an early cohort, estimated from the 1920s level (`reference` a year):
/// births rising from about 70% of that level in 1880 to all of it in 1920, times the share
/// alive at the age they could first get a number (14, or their age in 1937), relative to the
/// 1920 cohort alive at 14.
pub(crate) fn early_cohort(
    year: u16,
    sex: Sex,
    reference: f64,
    survival: &[[f64; MAX_AGE + 2]],
) -> f64 {
    let curve = |y: u16| &survival[usize::from(y - FIRST_BIRTH_YEAR) * 2 + sex.index()];
    let first_age = usize::from(1937u16.saturating_sub(year).max(14));
    let births = 0.7 + 0.3 * f64::from(year.saturating_sub(FIRST_BIRTH_YEAR)) / 40.0;
    reference * births * curve(year)[first_age] / curve(COMPLETE_FROM)[14]
}

/// A name as a person would type it: `SMITH` -> `Smith`, `MCDONALD` -> `McDonald`,
/// `SMITH-JONES` -> `Smith-Jones`.
pub(crate) fn title_case(upper: &str) -> String {
    let mut out = String::with_capacity(upper.len());
    let mut start = true;
    for c in upper.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    // Mc names keep the capital after the prefix.
    if out.len() > 3 && out.starts_with("Mc") {
        let third = out[2..].chars().next().expect("a letter");
        if third.is_ascii_alphabetic() {
            out.replace_range(2..3, &third.to_ascii_uppercase().to_string());
        }
    }
    out
}

/// The date `years` after `birth` on the same month and day (February 28 for February 29 in
/// a common year), as days since 1970.
pub(crate) fn anniversary(birth: Date, years: usize) -> i32 {
    let year = birth.year() + years as u16;
    let day = birth.day().min(days_in_month(year, birth.month()));
    Date::new(year, birth.month(), day)
        .expect("a date within 1800-2199")
        .days_since_epoch()
}
