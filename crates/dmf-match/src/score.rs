//! Scoring candidate pairs, NDI-like classes, and the one-to-one assignment.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::Progress;
use crate::levels::{DobLevel, Levels, NameLevel, SsnLevel, compare_records};
use crate::model::Model;
use crate::names::NameTables;
use crate::prepare::{Prepared, prefetch};

/// A scored pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub client: u32,
    pub master: u32,
    pub levels: Levels,
    /// Sum of `log2(m / u)` with term-frequency adjustments.
    pub weight: f64,
    pub probability: f64,
    /// See [`class`].
    pub class: u8,
    /// Whether a person should look at the pair before it is acted on: see [`needs_review`].
    pub review: bool,
}

/// Probabilities in `[REVIEW_LOW, REVIEW_HIGH)` are the model's uncertain band: such a pair
/// needs a person's decision.
pub const REVIEW_LOW: f64 = 0.05;
/// See [`REVIEW_LOW`].
pub const REVIEW_HIGH: f64 = 0.95;

/// Whether the names and the date of birth agree closely, up to a typing error in each:
/// first name exact, nickname, swapped or Jaro-Winkler ≥ 0.85; last name exact or
/// Jaro-Winkler ≥ 0.85; date of birth exact, day and month swapped, or one digit apart.
pub fn close_agreement(levels: &Levels) -> bool {
    matches!(
        levels.first,
        NameLevel::Exact
            | NameLevel::Nickname
            | NameLevel::Swapped
            | NameLevel::JaroWinkler1
            | NameLevel::JaroWinkler2
    ) && matches!(
        levels.last,
        NameLevel::Exact | NameLevel::JaroWinkler1 | NameLevel::JaroWinkler2
    ) && matches!(
        levels.dob,
        DobLevel::Exact | DobLevel::DayMonthSwapped | DobLevel::OneDigit
    )
}

/// Whether a pair can be a match at all: two SSNs known on both sides and different are never
/// one unless the names and date of birth agree closely ([`close_agreement`]).
pub fn admissible(levels: &Levels) -> bool {
    levels.ssn != SsnLevel::Different || close_agreement(levels)
}

/// A pair needs review when its probability is in the uncertain band; when it is of class 5
/// (SSNs that differ, or an SSN shared under another first name); or when the dates of birth
/// differ in two parts or more: then the SSN is what links the pair, and a relative's SSN
/// (a father's, on a row for his son of the same name) looks just like it. Such a match is
/// never acted on without a person.
pub fn needs_review(levels: &Levels, probability: f64) -> bool {
    (REVIEW_LOW..REVIEW_HIGH).contains(&probability)
        || class(levels) == 5
        || levels.dob == DobLevel::Different
}

/// An NDI-like class of a pair, 1 (surest) to 5:
///
/// 1. SSN exact, first and last name exact, date of birth exact;
/// 2. otherwise SSN exact, one digit off or two digits transposed (at least 7 of 9 digits agree);
/// 3. SSN missing on one side, and the other items agree strongly: first name exact, nickname,
///    Jaro-Winkler ≥ 0.92 or swapped; last name exact or Jaro-Winkler ≥ 0.92; date of birth
///    exact, compatible partial or day and month swapped;
/// 4. SSN missing on one side, weaker agreement;
/// 5. SSN known on both sides and different (by more than one digit or one transposition), or
///    equal while the first names differ ([`SsnLevel::Shared`]: possibly a relative's).
///
/// The NDI counts agreeing items (sex and birth state too); we have only names and the date,
/// so "8 or more items" becomes "each of the three at a strong level".
pub fn class(levels: &Levels) -> u8 {
    match levels.ssn {
        SsnLevel::Exact
            if levels.first == NameLevel::Exact
                && levels.last == NameLevel::Exact
                && levels.dob == DobLevel::Exact =>
        {
            1
        }
        SsnLevel::Exact | SsnLevel::OneDigit | SsnLevel::Transposed => 2,
        SsnLevel::Different | SsnLevel::Shared => 5,
        SsnLevel::Missing => {
            let first = matches!(
                levels.first,
                NameLevel::Exact
                    | NameLevel::Nickname
                    | NameLevel::JaroWinkler1
                    | NameLevel::Swapped
            );
            let last = matches!(levels.last, NameLevel::Exact | NameLevel::JaroWinkler1);
            let dob = matches!(
                levels.dob,
                DobLevel::Exact | DobLevel::CompatiblePartial | DobLevel::DayMonthSwapped
            );
            if first && last && dob { 3 } else { 4 }
        }
    }
}

/// Scores every candidate pair and keeps the [`admissible`] ones with probability at least
/// `threshold`, sorted by client, then weight descending, then master.
///
/// A client record is one person, so it matches one of its candidates at most: a pair's
/// probability is its odds over one plus the summed odds of all the client's admissible
/// candidates (`o_i / (1 + Σ o_j)`, with `o = 2^(weight + log2 prior odds)`), not its odds
/// alone. A pair with no rival keeps the probability its weight gives; fifteen records that
/// agree equally well with a client (the same first and middle name and date of birth under
/// other surnames) share it, each under 1/15, instead of each looking certain. The pairs of a
/// client must be given together, as [`crate::candidates`] gives them.
pub fn score(
    client: &Prepared,
    master: &Prepared,
    pairs: &[(u32, u32)],
    model: &Model,
    tables: &NameTables,
    threshold: f64,
) -> Vec<Match> {
    score_with_progress(
        client,
        master,
        pairs,
        model,
        tables,
        threshold,
        &|_, _, _| {},
    )
}

/// [`score`], reporting `("score", pairs done, total)` now and then.
pub fn score_with_progress(
    client: &Prepared,
    master: &Prepared,
    pairs: &[(u32, u32)],
    model: &Model,
    tables: &NameTables,
    threshold: f64,
    progress: &Progress,
) -> Vec<Match> {
    client.check_tables(tables);
    master.check_tables(tables);
    let store = tables.read();
    let store = &*store;
    score_levels(master, pairs, model, threshold, progress, |_, c, m| {
        compare_records(&client.recs[c as usize], &master.recs[m as usize], store)
    })
}

/// Scores pairs whose levels `levels_of(pair index, client, master)` gives.
pub(crate) fn score_levels<L>(
    master: &Prepared,
    pairs: &[(u32, u32)],
    model: &Model,
    threshold: f64,
    progress: &Progress,
    levels_of: L,
) -> Vec<Match>
where
    L: Fn(usize, u32, u32) -> Levels + Sync,
{
    // Weights of all patterns once, so a pair costs its comparison and a table read.
    let weights: Vec<f64> = (0..Levels::COUNT)
        .map(|i| model.weight(&Levels::from_index(i)))
        .collect();
    const CHUNK: usize = 1 << 14;
    let total = pairs.len() as u64;
    let done = AtomicU64::new(0);
    let prior = (model.lambda / (1.0 - model.lambda)).log2();
    // Runs of about CHUNK pairs that end where a client's pairs end, so that each client's
    // candidates are scored together.
    let mut bounds = vec![0usize];
    let mut at = CHUNK;
    while at < pairs.len() {
        while at < pairs.len() && pairs[at].0 == pairs[at - 1].0 {
            at += 1;
        }
        bounds.push(at);
        at += CHUNK;
    }
    if *bounds.last().unwrap_or(&0) < pairs.len() {
        bounds.push(pairs.len());
    }
    let mut out: Vec<Match> = bounds
        .par_windows(2)
        .flat_map_iter(|w| {
            let (start, end) = (w[0], w[1]);
            let chunk = &pairs[start..end];
            let mut kept = Vec::new();
            // One client's admissible pairs: (client, master, levels, weight, odds).
            let mut group: Vec<(u32, u32, Levels, f64, f64)> = Vec::new();
            let flush = |group: &mut Vec<(u32, u32, Levels, f64, f64)>, kept: &mut Vec<Match>| {
                // The client is one person: it matches one of its candidates at most, so the
                // candidates share the odds (see [`score`]).
                let odds: f64 = group.iter().map(|g| g.4).sum();
                for &(c, m, levels, weight, o) in group.iter() {
                    let probability = if odds.is_finite() {
                        o / (1.0 + odds)
                    } else {
                        // Too sure to tell apart in floating point: each by its own weight.
                        model.probability(weight)
                    };
                    if probability >= threshold {
                        kept.push(Match {
                            client: c,
                            master: m,
                            levels,
                            weight,
                            probability,
                            class: class(&levels),
                            review: needs_review(&levels, probability),
                        });
                    }
                }
                group.clear();
            };
            for (j, &(c, m)) in chunk.iter().enumerate() {
                if let Some(&(_, ahead)) = chunk.get(j + 16) {
                    prefetch(&master.recs[ahead as usize]);
                }
                if group.first().is_some_and(|g| g.0 != c) {
                    flush(&mut group, &mut kept);
                }
                let levels = levels_of(start + j, c, m);
                let mut weight = weights[levels.index()];
                if levels.first == NameLevel::Exact || levels.last == NameLevel::Exact {
                    let tf = master.tf(m as usize);
                    weight += model.tf_adjustments(&levels, tf).iter().sum::<f64>();
                }
                if admissible(&levels) {
                    group.push((c, m, levels, weight, (weight + prior).exp2()));
                }
            }
            flush(&mut group, &mut kept);
            let d = done.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            progress("score", d, total);
            kept
        })
        .collect();
    let by_weight =
        |a: &Match, b: &Match| b.weight.total_cmp(&a.weight).then(a.master.cmp(&b.master));
    if out.is_sorted_by_key(|m| m.client) {
        // Candidates come sorted by client: only each client's matches need ordering.
        out.chunk_by_mut(|a, b| a.client == b.client)
            .for_each(|run| run.sort_unstable_by(by_weight));
    } else {
        out.par_sort_unstable_by(|a, b| a.client.cmp(&b.client).then(by_weight(a, b)));
    }
    out
}

/// Keeps each client and each master record in one match at most: greedily by weight, highest
/// first (ties to the lower client, then master). The result is sorted by client.
pub fn one_to_one(mut matches: Vec<Match>) -> Vec<Match> {
    matches.par_sort_unstable_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then(a.client.cmp(&b.client))
            .then(a.master.cmp(&b.master))
    });
    let bits = |max: Option<u32>| vec![0u64; max.map_or(0, |m| m as usize / 64 + 1)];
    let mut clients = bits(matches.iter().map(|m| m.client).max());
    let mut masters = bits(matches.iter().map(|m| m.master).max());
    matches.retain(|m| {
        if is_set(&clients, m.client) || is_set(&masters, m.master) {
            return false;
        }
        set(&mut clients, m.client);
        set(&mut masters, m.master);
        true
    });
    matches.par_sort_unstable_by(|a, b| a.client.cmp(&b.client).then(a.master.cmp(&b.master)));
    matches
}

fn is_set(bits: &[u64], i: u32) -> bool {
    bits[i as usize / 64] >> (i % 64) & 1 == 1
}

fn set(bits: &mut [u64], i: u32) {
    bits[i as usize / 64] |= 1 << (i % 64);
}
