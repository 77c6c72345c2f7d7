//! The whole linkage in one call: blocking, candidates, training, scoring.

use std::time::{Duration, Instant};

use crate::Progress;
use crate::blocks::{
    Blocks, Candidates, DEFAULT_BLOCK_CAP, Rule, candidates_with_progress, default_rules,
};
use crate::levels::Levels;
use crate::model::{Model, Training, count_patterns, pair_levels};
use crate::names::NameTables;
use crate::prepare::Prepared;
use crate::score::{Match, one_to_one, score_levels};

/// Rules whose indexes are held at once (see [`run_with_progress`]).
const RULES_AT_ONCE: usize = 3;

/// Two sorted lists of distinct pairs as one.
fn merge_unique(a: Vec<(u32, u32)>, b: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// What [`run`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub rules: Vec<Rule>,
    /// Blocks larger than this are skipped (see [`DEFAULT_BLOCK_CAP`]).
    pub block_cap: usize,
    /// Random client × master pairs for `u`.
    pub u_sample: usize,
    /// Seed of the random pairs.
    pub seed: u64,
    /// EM iterations at most (one costs microseconds: it runs over distinct level patterns).
    pub max_iter: usize,
    /// Matches below this probability are dropped.
    pub threshold: f64,
    /// Keep each client and master record in one match at most ([`one_to_one`]).
    pub one_to_one: bool,
    /// A model to score with instead of training one.
    pub model: Option<Model>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            rules: default_rules(),
            block_cap: DEFAULT_BLOCK_CAP,
            u_sample: 1_000_000,
            seed: 1,
            max_iter: 1_000,
            threshold: 0.5,
            one_to_one: false,
            model: None,
        }
    }
}

/// What [`run`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Pairs each rule produced before de-duplication.
    pub per_rule: Vec<(Rule, u64)>,
    /// Per rule, client records whose block was over the cap.
    pub capped: Vec<(Rule, u64)>,
    /// Per rule, the pairs the capped blocks would have given.
    pub capped_pairs: Vec<(Rule, u64)>,
    /// Distinct candidate pairs.
    pub candidates: u64,
    pub model: Model,
    /// How EM went; `None` when the model was given.
    pub training: Option<Training>,
    pub matches: Vec<Match>,
    /// Time per phase: `blocks`, `candidates`, `compare` (every candidate pair's levels),
    /// `u`, `em`, `score`, `one_to_one`.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Links `client` to `master`: see [`run_with_progress`].
pub fn run(client: &Prepared, master: &Prepared, tables: &NameTables, config: &Config) -> Outcome {
    run_with_progress(client, master, tables, config, &|_, _, _| {})
}

/// Indexes the master under the rules, finds candidate pairs, estimates `u` from random pairs
/// and `m` and `lambda` by EM (unless a model is given), scores the pairs and, if asked, keeps
/// a one-to-one assignment. `progress` gets `(phase, done, total)` now and then.
pub fn run_with_progress(
    client: &Prepared,
    master: &Prepared,
    tables: &NameTables,
    config: &Config,
    progress: &Progress,
) -> Outcome {
    client.check_tables(tables);
    master.check_tables(tables);
    let mut timings = Vec::new();

    // The master is indexed a few rules at a time, each group's candidates merged into the
    // pairs found so far, each index holding only the master records some client record looks
    // up (see `Blocks::build_for`); the pairs take 8 bytes a distinct candidate.
    let mut found = Candidates {
        pairs: Vec::new(),
        per_rule: Vec::new(),
        capped: Vec::new(),
        capped_pairs: Vec::new(),
    };
    let (mut indexing, mut probing) = (Duration::ZERO, Duration::ZERO);
    for group in config.rules.chunks(RULES_AT_ONCE) {
        let t = Instant::now();
        progress("blocks", 0, 1);
        let blocks = Blocks::build_for(client, master, group, config.block_cap);
        progress("blocks", 1, 1);
        indexing += t.elapsed();
        let t = Instant::now();
        let part = candidates_with_progress(client, &blocks, progress);
        drop(blocks);
        found.pairs = merge_unique(std::mem::take(&mut found.pairs), part.pairs);
        found.per_rule.extend(part.per_rule);
        found.capped.extend(part.capped);
        found.capped_pairs.extend(part.capped_pairs);
        probing += t.elapsed();
    }
    timings.push(("blocks", indexing));
    timings.push(("candidates", probing));
    let mut clock = Instant::now();
    let mut lap = |phase: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        let now = Instant::now();
        timings.push((phase, now - clock));
        clock = now;
    };

    // Each pair compared once: the levels serve training and scoring.
    progress("compare", 0, found.pairs.len() as u64);
    let levels = pair_levels(client, master, &found.pairs, tables);
    progress(
        "compare",
        found.pairs.len() as u64,
        found.pairs.len() as u64,
    );
    lap("compare", &mut timings);
    let (model, training) = match &config.model {
        Some(m) => (m.clone(), None),
        None => {
            progress("u", 0, config.u_sample as u64);
            let u = Model::estimate_u(client, master, tables, config.u_sample, config.seed);
            progress("u", config.u_sample as u64, config.u_sample as u64);
            lap("u", &mut timings);
            let patterns = count_patterns(&levels);
            progress("em", 0, 1);
            let all_pairs = client.len() as u64 * master.len() as u64;
            let max_matches = client.len().min(master.len()) as u64;
            let (model, training) =
                Model::train_on_candidates(&patterns, u, config.max_iter, all_pairs, max_matches);
            progress("em", 1, 1);
            lap("em", &mut timings);
            (model, Some(training))
        }
    };

    let mut matches = score_levels(
        master,
        &found.pairs,
        &model,
        config.threshold,
        progress,
        |i, _, _| Levels::from_index(levels[i] as usize),
    );
    lap("score", &mut timings);
    if config.one_to_one {
        matches = one_to_one(matches);
        lap("one_to_one", &mut timings);
    }
    Outcome {
        per_rule: found.per_rule,
        capped: found.capped,
        capped_pairs: found.capped_pairs,
        candidates: found.pairs.len() as u64,
        model,
        training,
        matches,
        timings,
    }
}
