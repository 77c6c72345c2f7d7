//! The Fellegi-Sunter model: per field and level the probability `m` of the level among true
//! matches and `u` among non-matches, and the prior `lambda`, the chance that a pair is a
//! match; `u` estimated from random pairs, `m` and `lambda` by EM over candidate pairs.
//!
//! Fields are assumed independent given the match status, so a pair's weight is the sum over
//! fields of `log2(m / u)` of its level. `Missing` has no parameters and weighs nothing.
//!
//! Departures from the textbook, for EM's sake and for the errors real files have (see
//! [`Model::estimate_u`] and [`Model::train_on_candidates`]):
//!
//! - `lambda` is counted against all client × master pairs, not the candidates, and held to
//!   the most matches there can be;
//! - the names' `u` comes from pairs born on the same day (or, where a day has few records,
//!   the same year), since first names and birth dates are not independent and nearly every
//!   candidate shares the date;
//! - `m` is drawn toward [`FieldParams::m_priors`] (as if 50 matches had shown them), and no
//!   level's `m` falls below a quarter of its prior, so one wrong field costs a bounded number
//!   of bits and never vetoes a pair whose other fields agree;
//! - a closer level never weighs less than a farther one ([`Model::monotone`]);
//! - [`SsnLevel::Shared`] (equal SSNs, first names different, surnames agreeing) weighs in
//!   place of both names, and its `u` is learnt by EM from the candidates: relatives whose SSN
//!   a client row carries share a surname, which random pairs do not show.

use std::fmt::Write;

use rayon::prelude::*;

use crate::hash::draw;
use crate::levels::{
    DobLevel, Levels, MiddleLevel, NameLevel, SexLevel, SsnLevel, SuffixLevel, compare_records,
};
use crate::names::NameTables;
use crate::prepare::{Prepared, Tf, prefetch};

/// The compared fields, in the order of [`FieldParams`], of [`Levels::positions`] and of model
/// files.
pub const FIELDS: [&str; 7] = ["ssn", "first", "last", "dob", "middle", "suffix", "sex"];

/// Per field, one probability per level of that field in the order of its `ALL`, `Missing`
/// excluded (so `ssn[SsnLevel::Exact.index()]` is the SSN's exact level).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldParams {
    pub ssn: Vec<f64>,
    pub first: Vec<f64>,
    pub last: Vec<f64>,
    pub dob: Vec<f64>,
    pub middle: Vec<f64>,
    pub suffix: Vec<f64>,
    pub sex: Vec<f64>,
}

impl FieldParams {
    /// The parameters of field `f` (an index into [`FIELDS`]).
    pub fn field(&self, f: usize) -> &[f64] {
        match f {
            0 => &self.ssn,
            1 => &self.first,
            2 => &self.last,
            3 => &self.dob,
            4 => &self.middle,
            5 => &self.suffix,
            _ => &self.sex,
        }
    }

    pub(crate) fn field_mut(&mut self, f: usize) -> &mut Vec<f64> {
        match f {
            0 => &mut self.ssn,
            1 => &mut self.first,
            2 => &mut self.last,
            3 => &mut self.dob,
            4 => &mut self.middle,
            5 => &mut self.suffix,
            _ => &mut self.sex,
        }
    }

    /// Every field spread evenly over its levels.
    pub fn uniform() -> FieldParams {
        let even = |f: usize| vec![1.0 / levels_of(f) as f64; levels_of(f)];
        FieldParams {
            ssn: even(0),
            first: even(1),
            last: even(2),
            dob: even(3),
            middle: even(4),
            suffix: even(5),
            sex: even(6),
        }
    }

    /// What true matches look like before any data is seen: mostly agreeing, with the errors
    /// real files have. EM starts here and is drawn toward these values (see [`Model`]).
    pub fn m_priors() -> FieldParams {
        FieldParams {
            // exact, one digit, transposed, shared, different
            ssn: vec![0.93, 0.02, 0.015, 0.01, 0.025],
            // exact, nickname, swapped, jw92, jw85, phonetic, initial, different
            first: vec![0.82, 0.05, 0.01, 0.04, 0.025, 0.02, 0.01, 0.025],
            last: vec![0.86, 0.001, 0.001, 0.05, 0.025, 0.02, 0.003, 0.04],
            // exact, day-month swapped, year ±1, one digit, one component, compatible partial,
            // different
            dob: vec![0.87, 0.02, 0.015, 0.025, 0.025, 0.025, 0.02],
            // exact, similar, initial, different
            middle: vec![0.55, 0.05, 0.35, 0.05],
            // exact, different
            suffix: vec![0.9, 0.1],
            // exact, different
            sex: vec![0.97, 0.03],
        }
    }
}

/// Levels of field `f` that carry parameters (all but `Missing`).
fn levels_of(f: usize) -> usize {
    Levels::SIZES[f] - 1
}

/// The level codes of field `f`, `Missing` excluded.
fn codes_of(f: usize) -> Vec<&'static str> {
    let codes: Vec<&'static str> = match f {
        0 => SsnLevel::ALL.iter().map(|l| l.code()).collect(),
        1 | 2 => NameLevel::ALL.iter().map(|l| l.code()).collect(),
        3 => DobLevel::ALL.iter().map(|l| l.code()).collect(),
        4 => MiddleLevel::ALL.iter().map(|l| l.code()).collect(),
        5 => SuffixLevel::ALL.iter().map(|l| l.code()).collect(),
        _ => SexLevel::ALL.iter().map(|l| l.code()).collect(),
    };
    codes[..codes.len() - 1].to_vec()
}

/// Per field, the level index that weighs, or `None` for `Missing` and for the names of a
/// [`SsnLevel::Shared`] pair, which that level stands in for.
#[inline]
pub(crate) fn field_levels(l: &Levels) -> [Option<usize>; 7] {
    let mut out = [None; 7];
    for (f, (p, n)) in l.positions().into_iter().zip(Levels::SIZES).enumerate() {
        out[f] = (p + 1 < n).then_some(p);
    }
    if l.ssn == SsnLevel::Shared {
        out[1] = None;
        out[2] = None;
    }
    out
}

/// Per field, pairs of levels `(closer, farther)`: a closer level never weighs less. `Shared`
/// stands in for the names and is not ordered against the other SSN levels.
fn order(f: usize) -> &'static [(usize, usize)] {
    match f {
        // exact, one digit, transposed, shared, different
        0 => &[(0, 1), (0, 2), (1, 4), (2, 4)],
        // exact, nickname, swapped, jw92, jw85, phonetic, initial, different
        1 | 2 => &[
            (0, 1),
            (0, 2),
            (0, 3),
            (0, 6),
            (3, 4),
            (4, 5),
            (5, 7),
            (1, 7),
            (2, 7),
            (6, 7),
        ],
        // exact, day-month swapped, year ±1, one digit, one component, compatible partial,
        // different
        3 => &[
            (0, 1),
            (0, 2),
            (0, 3),
            (0, 4),
            (0, 5),
            (3, 4),
            (1, 6),
            (2, 6),
            (4, 6),
            (5, 6),
        ],
        // exact, similar, initial, different
        4 => &[(0, 1), (0, 2), (1, 3), (2, 3)],
        _ => &[(0, 1)],
    }
}

/// `m` is kept at least this far from 0 so that every weight is finite.
const FLOOR: f64 = 1e-9;

/// `u` is kept at least this far from 0: the chance of equal SSNs among random pairs is about
/// one in the master's size, and that of a shared one far less.
const U_FLOOR: f64 = 1e-300;

/// Default floor of [`Tf`] ratios: a name a thousand times rarer than the average one weighs
/// 10 bits more than the average, and rarer names no more.
pub const DEFAULT_TF_FLOOR: f64 = 1e-3;

/// Fellegi-Sunter parameters. `m` and `u` hold one entry per level as [`FieldParams`] says;
/// [`Model::from_text`] checks that, a model built by hand must keep to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The prior chance that a pair is a match: among all client × master pairs after
    /// [`Model::train_on_candidates`] (as [`run`](crate::run) trains), among the given patterns
    /// after [`Model::train`].
    pub lambda: f64,
    pub m: FieldParams,
    pub u: FieldParams,
    /// Floor of the [`Tf`] ratios in [`Model::weight_tf`].
    pub tf_floor: f64,
}

/// How an EM run went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    pub iterations: usize,
    /// Whether the parameters stopped moving (by less than 1e-7) before `max_iter`.
    pub converged: bool,
    /// Whether EM's share of matches would have meant more matches than there are client
    /// records (or master records), and was held at that bound: a sign that the candidates
    /// hold many pairs the fields cannot tell apart.
    pub lambda_bounded: bool,
}

impl Model {
    /// `u` of each level from `n` random client × master pairs drawn with `seed`; the same
    /// seed gives the same estimate on any number of threads. A level never seen counts as
    /// half a pair, so that no weight is infinite.
    ///
    /// The SSN and the date of birth are compared on pairs drawn at random, and the share of
    /// equal dates counted exactly from the dates' histograms (about 1 in 70,000 pairs, which
    /// a sample would count a dozen times).
    ///
    /// The names are compared on `n` other pairs whose master record is born on the client
    /// record's date of birth when at least 64 master records were, else in its year (at
    /// random when it has none), each pair weighing as many as the master records of its day
    /// or year, so that the estimate is over pairs of the same date rather than over clients. A name's levels are counted only on pairs whose other name is
    /// `Different`, which keeps most true matches out. Names follow fashions, and the cohorts
    /// with the most deaths had the least varied names: two records of the same year share a
    /// first name about twice as often as two at random. Nearly every candidate pair shares the
    /// year; with `u` from pairs at random, the candidates of the same year and first name but
    /// another surname outnumber what the model expects of non-matches, and EM takes the excess
    /// for matches that differ in surname. A day needs many records: in a small master the
    /// few records of a day are mostly the true match under a wrong first name, which would
    /// count a shared surname as common among non-matches (a sample of a labelled set of
    /// 14,000 master records put it at 4% instead of 0.1%); the year alone misses how much more
    /// often two people of the same day share a first name than two of the same year where
    /// the file has such clusters (at 142 M records it took a first name and a date shared by
    /// a hundred thousand living clients for matches).
    pub fn estimate_u(
        client: &Prepared,
        master: &Prepared,
        tables: &NameTables,
        n: usize,
        seed: u64,
    ) -> FieldParams {
        client.check_tables(tables);
        master.check_tables(tables);
        if client.is_empty() || master.is_empty() || n == 0 {
            return FieldParams::uniform();
        }
        let by_birth = ByBirth::new(master);
        let store = tables.read();
        let store = &*store;
        let (cn, mn) = (client.len() as u64, master.len() as u64);
        const CHUNK: usize = 1 << 14;
        // Per field and level: summed weights; then the field's sample count. Names drawn
        // from a day's block weigh by the block's size, so that days count by their pairs;
        // `names_plain` counts every name sample once, for files without full dates.
        let new_counts = || -> Vec<Vec<f64>> {
            (0..9)
                .map(|f| vec![0.0; levels_of([0, 1, 2, 3, 4, 5, 6, 1, 2][f]) + 2])
                .collect()
        };
        let counts = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                // The fields of FIELDS, then 7 first plain, 8 last plain.
                let mut counts = new_counts();
                let mut add = |f: usize, level: usize, weight: f64| {
                    let v = &mut counts[f];
                    let n = v.len();
                    v[level] += weight;
                    v[n - 1] += 1.0;
                };
                let end = ((k + 1) * CHUNK).min(n);
                for i in (k * CHUNK)..end {
                    // Random reads: start those of the samples a few steps ahead.
                    if i + 16 < end {
                        let a = 4 * (i + 16) as u64;
                        prefetch(&client.recs[draw(seed, a, cn) as usize]);
                        prefetch(&master.recs[draw(seed, a + 1, mn) as usize]);
                        prefetch(&client.recs[draw(seed, a + 2, cn) as usize]);
                    }
                    if i + 8 < end {
                        let a = 4 * (i + 8) as u64;
                        let c = &client.recs[draw(seed, a + 2, cn) as usize];
                        prefetch(&master.recs[by_birth.draw(c.dob, seed, a + 3, mn).0]);
                    }
                    let i = 4 * i as u64;
                    let c = &client.recs[draw(seed, i, cn) as usize];
                    let m = &master.recs[draw(seed, i + 1, mn) as usize];
                    let l = compare_records(c, m, store);
                    add(0, l.ssn.index(), 1.0);
                    add(3, l.dob.index(), 1.0);
                    add(4, l.middle.index(), 1.0);
                    add(5, l.suffix.index(), 1.0);
                    add(6, l.sex.index(), 1.0);
                    let c = &client.recs[draw(seed, i + 2, cn) as usize];
                    let (mi, block) = by_birth.draw(c.dob, seed, i + 3, mn);
                    let l = compare_records(c, &master.recs[mi], store);
                    if l.last == NameLevel::Different {
                        add(7, l.first.index(), 1.0);
                        if let Some(w) = block {
                            add(1, l.first.index(), w);
                        }
                    }
                    if l.first == NameLevel::Different {
                        add(8, l.last.index(), 1.0);
                        if let Some(w) = block {
                            add(2, l.last.index(), w);
                        }
                    }
                }
                counts
            })
            .reduce(new_counts, |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| {
                    x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
                });
                a
            });
        let mut u = FieldParams::uniform();
        for f in 0..FIELDS.len() {
            // Names from days' blocks when there are any, else from every sample.
            let mut seen = counts[f].clone();
            if f == 1 || f == 2 {
                let weighted: f64 = seen[..seen.len() - 2].iter().sum();
                if weighted == 0.0 {
                    seen = counts[f + 6].clone();
                }
            }
            let samples = seen.pop().unwrap_or(0.0);
            seen.pop(); // Missing
            let total: f64 = seen.iter().sum();
            if total == 0.0 {
                continue;
            }
            let half = 0.5 * total / samples.max(1.0);
            let smoothed: Vec<f64> = seen.iter().map(|&c| c.max(half)).collect();
            let total: f64 = smoothed.iter().sum();
            *u.field_mut(f) = smoothed.iter().map(|c| c / total).collect();
        }
        if let Some(exact) = dob_exact_share(client, master) {
            // The rest in the proportions the sample found.
            let i = DobLevel::Exact.index();
            let rest: f64 = u
                .dob
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, p)| p)
                .sum();
            for (j, p) in u.dob.iter_mut().enumerate() {
                *p = if j == i {
                    exact.max(FLOOR)
                } else {
                    *p / rest * (1.0 - exact)
                };
            }
        }
        u
    }

    /// Learns `m` and `lambda` by EM over level patterns with their counts, `u` fixed;
    /// stops when no parameter moves by 1e-7 (`lambda` relatively) or after `max_iter`
    /// iterations. The patterns are taken to be all the pairs there are: `lambda` is the share
    /// of matches among them. For candidate pairs out of blocking, see
    /// [`Model::train_on_candidates`].
    pub fn train(patterns: &[(Levels, u64)], u: FieldParams, max_iter: usize) -> Model {
        Model::train_with_summary(patterns, u, max_iter).0
    }

    /// [`Model::train`], also saying how many iterations ran and whether EM converged.
    pub fn train_with_summary(
        patterns: &[(Levels, u64)],
        u: FieldParams,
        max_iter: usize,
    ) -> (Model, Training) {
        let total = patterns.iter().map(|(_, n)| *n as f64).sum();
        em(patterns, u, max_iter, total, total)
    }

    /// EM over the patterns of candidate pairs drawn by blocking from `all_pairs` client ×
    /// master pairs; the pairs blocking left out count as non-matches.
    ///
    /// Blocking keeps the pairs that agree on some fields, so non-matching candidates agree
    /// far more often than random pairs: taken as the whole population, they would look like
    /// matches to a model whose `u` comes from random pairs (a pair of the same birth date and
    /// first name but another surname and SSN would come out a match, and teach `m` that
    /// matches often differ in SSN). Counted against all pairs instead, `lambda` is the chance
    /// that two random records match, as `u` is a property of random pairs, and the posterior
    /// of each candidate is that of a pair drawn from the whole product. Pairs left out
    /// contribute nothing to `m` as long as blocking finds nearly all matches.
    ///
    /// `all_pairs` is clients × master records; `max_matches` the most matches there can be
    /// (the smaller of the two counts, as each record matches once at most): `lambda` is held
    /// to it, and [`Training::lambda_bounded`] says when it had to be.
    pub fn train_on_candidates(
        patterns: &[(Levels, u64)],
        u: FieldParams,
        max_iter: usize,
        all_pairs: u64,
        max_matches: u64,
    ) -> (Model, Training) {
        let candidates: f64 = patterns.iter().map(|(_, n)| *n as f64).sum();
        em(
            patterns,
            u,
            max_iter,
            (all_pairs as f64).max(candidates),
            max_matches as f64,
        )
    }
    /// The weight of a pattern: the sum over fields of `log2(m / u)`.
    #[inline]
    pub fn weight(&self, levels: &Levels) -> f64 {
        field_levels(levels)
            .into_iter()
            .enumerate()
            .filter_map(|(f, l)| l.map(|l| self.field_weight(f, l)))
            .sum()
    }

    #[inline]
    fn field_weight(&self, f: usize, l: usize) -> f64 {
        (self.m.field(f)[l].max(FLOOR) / self.u.field(f)[l].max(U_FLOOR)).log2()
    }

    /// The weight with term-frequency adjustments: an exact first or last name adds
    /// `-log2(tf)`, where `tf` says how common the master record's name is against the
    /// average name ([`Prepared::tf`], floored at [`Model::tf_floor`]); so an exact SMITH
    /// counts for less than an exact rare name, and an average name as the model says.
    #[inline]
    pub fn weight_tf(&self, levels: &Levels, tf: Tf) -> f64 {
        self.weight(levels) + self.tf_adjustments(levels, tf).iter().sum::<f64>()
    }

    /// The first- and last-name term-frequency adjustments of [`Model::weight_tf`].
    #[inline]
    pub fn tf_adjustments(&self, levels: &Levels, tf: Tf) -> [f64; 2] {
        let adjust = |tf: f64| {
            if tf > 0.0 {
                -tf.max(self.tf_floor).log2()
            } else {
                0.0
            }
        };
        [
            if levels.first == NameLevel::Exact {
                adjust(tf.first)
            } else {
                0.0
            },
            // A swapped pair's last-name level compares the master's first name; a name the
            // pattern does not weigh (a shared SSN stands in for both) gets no adjustment.
            if field_levels(levels)[2] == Some(NameLevel::Exact.index())
                && levels.first != NameLevel::Swapped
            {
                adjust(tf.last)
            } else {
                0.0
            },
        ]
    }

    /// The probability of a match from a weight and `lambda`.
    #[inline]
    pub fn probability(&self, weight: f64) -> f64 {
        let prior = (self.lambda / (1.0 - self.lambda)).log2();
        1.0 / (1.0 + (-(weight + prior)).exp2())
    }

    /// Per field: its name, the level code and the `log2(m / u)` it adds (0 for `Missing`).
    pub fn contributions(&self, levels: &Levels) -> Vec<(&'static str, &'static str, f64)> {
        let codes = levels.codes();
        field_levels(levels)
            .into_iter()
            .enumerate()
            .map(|(f, l)| {
                (
                    FIELDS[f],
                    codes[f],
                    l.map_or(0.0, |l| self.field_weight(f, l)),
                )
            })
            .collect()
    }

    /// [`Model::contributions`] followed by the term-frequency adjustments, as fields
    /// `tf_first` and `tf_last` (level `exact`), where they apply.
    pub fn contributions_tf(
        &self,
        levels: &Levels,
        tf: Tf,
    ) -> Vec<(&'static str, &'static str, f64)> {
        let mut out = self.contributions(levels);
        let [first, last] = self.tf_adjustments(levels, tf);
        if first != 0.0 {
            out.push(("tf_first", "exact", first));
        }
        if last != 0.0 {
            out.push(("tf_last", "exact", last));
        }
        out
    }

    /// Every level's `m` and `u`, field by field: `(field, level, m, u)`.
    pub fn parameters(&self) -> Vec<(&'static str, &'static str, f64, f64)> {
        let mut rows = Vec::new();
        for (f, field) in FIELDS.iter().enumerate() {
            let (m, u) = (self.m.field(f), self.u.field(f));
            for ((code, &m), &u) in codes_of(f).into_iter().zip(m).zip(u) {
                rows.push((*field, code, m, u));
            }
        }
        rows
    }

    /// The model as text: a versioned header, then one `name value` line per parameter.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(HEADER);
        out.push('\n');
        let _ = writeln!(out, "lambda {}", self.lambda);
        let _ = writeln!(out, "tf_floor {}", self.tf_floor);
        for (kind, params) in [("m", &self.m), ("u", &self.u)] {
            for (f, field) in FIELDS.iter().enumerate() {
                for (code, p) in codes_of(f).into_iter().zip(params.field(f)) {
                    let _ = writeln!(out, "{kind} {field} {code} {p}");
                }
            }
        }
        out
    }

    /// Parses [`Model::to_text`]'s form. Blank lines and `#` comments are allowed; every
    /// parameter must be given once.
    pub fn from_text(text: &str) -> Result<Model, ModelError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        match lines.next() {
            Some((_, HEADER)) => {}
            Some((_, HEADER_V1)) => return Err(ModelError::Version1),
            found => {
                return Err(ModelError::Header {
                    found: found.map_or(String::new(), |(_, l)| l.to_owned()),
                });
            }
        }
        let mut lambda = None;
        let mut tf_floor = None;
        let mut params: [Vec<Vec<Option<f64>>>; 2] = std::array::from_fn(|_| {
            (0..FIELDS.len())
                .map(|f| vec![None; levels_of(f)])
                .collect()
        });
        for (line, text) in lines {
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let err = |kind| ModelError::Line { line, kind };
            let words: Vec<&str> = text.split_whitespace().collect();
            let number = |w: &str| -> Result<f64, ModelError> {
                let v: f64 = w
                    .parse()
                    .map_err(|_| err(LineError::Number(w.to_owned())))?;
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(err(LineError::Number(w.to_owned())))
                }
            };
            let probability = |v: f64| {
                if (0.0..=1.0).contains(&v) {
                    Ok(v)
                } else {
                    Err(err(LineError::Probability(v)))
                }
            };
            let set = |slot: &mut Option<f64>, v: f64, name: String| {
                if slot.replace(v).is_some() {
                    Err(err(LineError::Duplicate(name)))
                } else {
                    Ok(())
                }
            };
            match words.as_slice() {
                ["lambda", v] => {
                    let v = probability(number(v)?)?;
                    set(&mut lambda, v, "lambda".into())?;
                }
                ["tf_floor", v] => {
                    let v = probability(number(v)?)?;
                    set(&mut tf_floor, v, "tf_floor".into())?;
                }
                [kind @ ("m" | "u"), field, code, v] => {
                    let f = FIELDS
                        .iter()
                        .position(|x| x == field)
                        .ok_or_else(|| err(LineError::Field(field.to_string())))?;
                    let l = codes_of(f)
                        .iter()
                        .position(|x| x == code)
                        .ok_or_else(|| err(LineError::Level(code.to_string())))?;
                    let v = probability(number(v)?)?;
                    let k = usize::from(*kind == "u");
                    set(&mut params[k][f][l], v, format!("{kind} {field} {code}"))?;
                }
                [name, ..] if ["lambda", "tf_floor", "m", "u"].contains(name) => {
                    return Err(err(LineError::Shape));
                }
                _ => return Err(err(LineError::Unknown(text.to_owned()))),
            }
        }
        let lambda = lambda.ok_or_else(|| ModelError::Missing("lambda".into()))?;
        let tf_floor = tf_floor.ok_or_else(|| ModelError::Missing("tf_floor".into()))?;
        let mut out = [FieldParams::uniform(), FieldParams::uniform()];
        for (k, kind) in ["m", "u"].into_iter().enumerate() {
            for f in 0..FIELDS.len() {
                for (l, code) in codes_of(f).into_iter().enumerate() {
                    out[k].field_mut(f)[l] = params[k][f][l].ok_or_else(|| {
                        ModelError::Missing(format!("{kind} {} {code}", FIELDS[f]))
                    })?;
                }
            }
        }
        let [m, u] = out;
        Ok(Model {
            lambda,
            m,
            u,
            tf_floor,
        })
    }
}

/// The first line of a model file.
pub const HEADER: &str = "dmf-match model 2";

/// The first line of a model file of the version before middle names, suffixes, sex and the
/// shared-SSN level were compared: refused with a reason.
const HEADER_V1: &str = "dmf-match model 1";

/// Why a model text does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("line 1: expected {HEADER:?}, found {found:?}")]
    Header { found: String },
    #[error(
        "line 1: a model of version 1, trained before middle names, suffixes, sex and shared \
         SSNs were compared: train a new one (--train)"
    )]
    Version1,
    #[error("line {line}: {kind}")]
    Line { line: usize, kind: LineError },
    #[error("parameter {0} is missing")]
    Missing(String),
}

/// What is wrong with one line of a model text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    #[error("unknown line {0:?}")]
    Unknown(String),
    #[error("expected `lambda P`, `tf_floor P` or `m|u FIELD LEVEL P`")]
    Shape,
    #[error("unknown field {0:?}")]
    Field(String),
    #[error("unknown level {0:?}")]
    Level(String),
    #[error("{0:?} is not a number")]
    Number(String),
    #[error("{0} is not a probability")]
    Probability(f64),
    #[error("{0} given twice")]
    Duplicate(String),
}

/// The share of client × master pairs with a date of birth on both sides whose dates are equal
/// and complete, counted from the dates' histograms rather than sampled: about 1 in 70,000
/// pairs, which a million random pairs would count a dozen times. `None` when a side has no
/// dates.
fn dob_exact_share(client: &Prepared, master: &Prepared) -> Option<f64> {
    // Packed dates are below 2200 << 9; a dense histogram of them is 4.5 MB.
    let histogram = |p: &Prepared| {
        // One histogram per thread's run of records, added up.
        let run = p.recs.len().div_ceil(rayon::current_num_threads()).max(1);
        p.recs
            .par_chunks(run)
            .map(|chunk| {
                let mut h = vec![0u32; 2200 << 9];
                for r in chunk {
                    h[r.dob as usize] += 1;
                }
                h
            })
            .reduce(
                || vec![0u32; 2200 << 9],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    };
    let (c, m) = (histogram(client), histogram(master));
    let known = |h: &[u32]| h[1..].iter().map(|&n| n as f64).sum::<f64>();
    let pairs = known(&c) * known(&m);
    if pairs == 0.0 {
        return None;
    }
    let equal: f64 = c
        .iter()
        .zip(&m)
        .enumerate()
        .filter(|&(d, _)| d & 0x1f != 0 && d >> 5 & 0xf != 0)
        .map(|(_, (&a, &b))| a as f64 * b as f64)
        .sum();
    Some(equal / pairs)
}

/// Master records sorted by packed date of birth, for drawing one born on a given day or in a
/// given year.
struct ByBirth {
    /// `ids[start[d]..start[d + 1]]` are born on packed date `d`; a year's records (partial
    /// dates too) are `start[y << 9]..start[(y + 1) << 9]`.
    start: Vec<u32>,
    ids: Vec<u32>,
}

impl ByBirth {
    /// Packed dates are below this.
    const DATES: usize = 2200 << 9;

    /// A day's records are drawn from when there are at least this many: then the true match
    /// among them is one in this many or fewer (a national file has thousands a day).
    const MIN_DAY: u32 = 64;

    fn new(master: &Prepared) -> ByBirth {
        let mut start = vec![0u32; ByBirth::DATES + 1];
        for r in master.recs.iter().filter(|r| r.dob != 0) {
            start[r.dob as usize + 1] += 1;
        }
        for d in 1..start.len() {
            start[d] += start[d - 1];
        }
        let mut next = start.clone();
        let mut ids = vec![0u32; start[ByBirth::DATES] as usize];
        for (i, r) in master.recs.iter().enumerate().filter(|(_, r)| r.dob != 0) {
            let slot = &mut next[r.dob as usize];
            ids[*slot as usize] = i as u32;
            *slot += 1;
        }
        ByBirth { start, ids }
    }

    /// A master record born on `dob` (packed) when at least [`ByBirth::MIN_DAY`] were, with
    /// their number; else one born in its year, with the number born that year; else any,
    /// without a number.
    fn draw(&self, dob: u32, seed: u64, i: u64, master_len: u64) -> (usize, Option<f64>) {
        let pick = |lo: u32, hi: u32| {
            let id = self.ids[(lo as u64 + draw(seed, i, u64::from(hi - lo))) as usize];
            (id as usize, Some(f64::from(hi - lo)))
        };
        let d = dob as usize;
        let complete = dob & 0x1f != 0 && dob >> 5 & 0xf != 0;
        if complete && self.start[d + 1] - self.start[d] >= ByBirth::MIN_DAY {
            return pick(self.start[d], self.start[d + 1]);
        }
        let year = d >> 9 << 9;
        let (lo, hi) = (self.start[year], self.start[year + (1 << 9)]);
        if dob != 0 && hi > lo {
            return pick(lo, hi);
        }
        (draw(seed, i, master_len) as usize, None)
    }
}

/// Pseudo-pairs of the priors in each M-step: `m` of a level is
/// `(expected matches at the level + PRIOR_PAIRS * prior) / (expected matches + PRIOR_PAIRS)`,
/// so a few hundred matches outweigh the priors, and a level no match shows keeps some weight.
const PRIOR_PAIRS: f64 = 50.0;

/// No level's `m` falls below this share of its prior: one wrong field (a placeholder first
/// name, a typed-over date) costs a bounded number of bits instead of vetoing the pair.
const MIN_PRIOR_SHARE: f64 = 0.25;

/// Pseudo-pairs of relatives among the [`SsnLevel::Shared`] pairs when `u` of that level is
/// learnt: with little data, a shared SSN stays ambiguous rather than proof.
const SHARED_PSEUDO_PAIRS: f64 = 1.0;

/// EM with `u` fixed over `patterns`, out of `total` pairs (the rest taken as non-matches),
/// except `u` of [`SsnLevel::Shared`], learnt from the pairs EM takes for non-matches (the
/// relatives whose SSN a client row carries are not random pairs). `max_matches` bounds the
/// expected matches (each client matches one master record at most).
fn em(
    patterns: &[(Levels, u64)],
    u: FieldParams,
    max_iter: usize,
    total: f64,
    max_matches: f64,
) -> (Model, Training) {
    let patterns: Vec<([Option<usize>; 7], f64)> = patterns
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| (field_levels(l), *n as f64))
        .collect();
    let given: f64 = patterns.iter().map(|(_, n)| n).sum();
    let priors = FieldParams::m_priors();
    let mut model = Model {
        // Half the given pairs, or a tenth of all when they are all there is.
        lambda: if total > 0.0 {
            (0.5 * given / total).min(0.1)
        } else {
            0.1
        },
        m: priors.clone(),
        u,
        tf_floor: DEFAULT_TF_FLOOR,
    };
    let mut training = Training {
        iterations: 0,
        converged: false,
        lambda_bounded: false,
    };
    if given == 0.0 {
        model.monotone();
        return (model, training);
    }
    let shared = SsnLevel::Shared.index();
    let max_lambda = (max_matches / total).clamp(1e-300, 1.0 - 1e-12);
    model.lambda = model.lambda.min(max_lambda);
    model.monotone();
    while training.iterations < max_iter {
        training.iterations += 1;
        let log_m = model.m.logs(FLOOR);
        let log_u = model.u.logs(U_FLOOR);
        let mut acc: Vec<Vec<f64>> = (0..FIELDS.len()).map(|f| vec![0.0; levels_of(f)]).collect();
        let mut matches = 0.0;
        let mut shared_non_matches = 0.0;
        let prior = (model.lambda / (1.0 - model.lambda)).ln();
        for (levels, n) in &patterns {
            let mut odds = prior;
            for (f, l) in levels.iter().enumerate() {
                if let Some(l) = *l {
                    odds += log_m[f][l] - log_u[f][l];
                }
            }
            let p = n / (1.0 + (-odds).exp());
            matches += p;
            for (f, l) in levels.iter().enumerate() {
                if let Some(l) = *l {
                    acc[f][l] += p;
                }
            }
            if levels[0] == Some(shared) {
                shared_non_matches += n - p;
            }
        }
        let old_m = model.m.clone();
        for (f, a) in acc.iter().enumerate() {
            let sum: f64 = a.iter().sum();
            let prior = priors.field(f);
            let m = model.m.field_mut(f);
            for ((slot, &x), &p) in m.iter_mut().zip(a).zip(prior) {
                *slot = ((x + PRIOR_PAIRS * p) / (sum + PRIOR_PAIRS)).max(MIN_PRIOR_SHARE * p);
            }
            let norm: f64 = m.iter().sum();
            m.iter_mut().for_each(|x| *x /= norm);
        }
        let non_matches = (total - matches).max(1.0);
        model.u.ssn[shared] = (shared_non_matches + SHARED_PSEUDO_PAIRS) / non_matches;
        model.monotone();
        let mut moved: f64 = 0.0;
        for f in 0..FIELDS.len() {
            for (a, b) in model.m.field(f).iter().zip(old_m.field(f)) {
                moved = moved.max((a - b).abs());
            }
        }
        // Among all client x master pairs the share of matches can be far below FLOOR.
        let mut lambda = (matches / total).clamp(1e-300, 1.0 - 1e-12);
        if lambda > max_lambda {
            lambda = max_lambda;
            training.lambda_bounded = true;
        }
        moved = moved.max((lambda - model.lambda).abs() / model.lambda);
        model.lambda = lambda;
        if moved < 1e-7 {
            training.converged = true;
            break;
        }
    }
    (model, training)
}

impl FieldParams {
    /// Natural logs of every parameter, floored so that a zero does not give minus infinity.
    fn logs(&self, floor: f64) -> Vec<Vec<f64>> {
        (0..FIELDS.len())
            .map(|f| self.field(f).iter().map(|&p| p.max(floor).ln()).collect())
            .collect()
    }
}

impl Model {
    /// Makes every closer level weigh at least as much as a farther one ([`order`]): two levels
    /// out of order are pooled, both given the weight of their summed `m` over their summed
    /// `u`, which keeps the field's `m` summing to one.
    pub fn monotone(&mut self) {
        for f in 0..FIELDS.len() {
            for _ in 0..64 {
                let mut pooled = false;
                for &(c, far) in order(f) {
                    let (u_c, u_f) = (self.u.field(f)[c].max(U_FLOOR), self.u.field(f)[far]);
                    let u_f = u_f.max(U_FLOOR);
                    let m = self.m.field_mut(f);
                    if m[c] / u_c < m[far] / u_f * (1.0 - 1e-12) {
                        let ratio = (m[c] + m[far]) / (u_c + u_f);
                        m[c] = u_c * ratio;
                        m[far] = u_f * ratio;
                        pooled = true;
                    }
                }
                if !pooled {
                    break;
                }
            }
        }
    }
}

fn add_counts(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    a
}

/// The level patterns of `pairs` with their counts, counted on all threads.
pub fn patterns(
    client: &Prepared,
    master: &Prepared,
    pairs: &[(u32, u32)],
    tables: &NameTables,
) -> Vec<(Levels, u64)> {
    count_patterns(&pair_levels(client, master, pairs, tables))
}

/// The pattern index ([`Levels::index`]) of each pair, on all threads.
pub(crate) fn pair_levels(
    client: &Prepared,
    master: &Prepared,
    pairs: &[(u32, u32)],
    tables: &NameTables,
) -> Vec<u32> {
    client.check_tables(tables);
    master.check_tables(tables);
    let store = tables.read();
    let store = &*store;
    let mut out = vec![0u32; pairs.len()];
    out.par_chunks_mut(1 << 12)
        .zip(pairs.par_chunks(1 << 12))
        .for_each(|(out, pairs)| {
            for (k, (slot, &(c, m))) in out.iter_mut().zip(pairs).enumerate() {
                if let Some(&(_, ahead)) = pairs.get(k + 16) {
                    crate::prepare::prefetch(&master.recs[ahead as usize]);
                }
                *slot = compare_records(&client.recs[c as usize], &master.recs[m as usize], store)
                    .index() as u32;
            }
        });
    out
}

/// Pattern indexes counted into patterns.
pub(crate) fn count_patterns(levels: &[u32]) -> Vec<(Levels, u64)> {
    let counts = levels
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut counts = vec![0u64; Levels::COUNT];
            for &l in chunk {
                counts[l as usize] += 1;
            }
            counts
        })
        .reduce(|| vec![0u64; Levels::COUNT], add_counts);
    counts
        .into_iter()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .map(|(i, n)| (Levels::from_index(i), n))
        .collect()
}
