//! Record linkage of a client file against the master file, Fellegi-Sunter style.
//!
//! The pipeline, each step usable alone:
//!
//! 1. [`Prepared::new`] turns people into compact records (32 bytes: SSN digits, interned
//!    name ids, packed date, phonetic blocking codes). Names are interned in the shared
//!    [`NameTables`], which compute phonetic codes and nickname groups once per distinct name.
//! 2. [`Blocks::build`] indexes the master under each blocking [`Rule`]; [`candidates`] pairs
//!    each client record with the master records of its blocks.
//! 3. [`compare`] gives a pair's [`Levels`] (one level per field: SSN, first name, last name,
//!    date of birth, middle name, suffix, sex).
//! 4. [`Model::estimate_u`] learns how often each level occurs among random pairs,
//!    [`Model::train_on_candidates`] learns by EM how often among true matches, from the
//!    [`patterns`] of the candidates.
//! 5. [`score`] weighs the pairs (with term-frequency adjustments for exact names), keeps those
//!    above a probability and gives each an NDI-like [`class`]; [`one_to_one`] keeps the best
//!    match of each record.
//!
//! 6. [`labels`] reads a clerical review's decisions, re-estimates `m` from them and checks
//!    calibration band by band.
//!
//! Beside the pipeline, [`NameIndex`] files people by the sound of their last name and their
//! date of birth, one at a time, for finding a person asked about without a scan of everyone.
//!
//! [`run`] does it all, comparing each candidate pair once for both training and scoring. The
//! core does no IO: callers hand over [`Person`]s (or [`PersonRef`]s, chunk by chunk, through a
//! [`PreparedBuilder`]). Beside it, [`client::read_client`] turns a client file, from any
//! `Read`, into people (encodings, date formats, dirty cells). The one `unsafe` block is a
//! cache prefetch hint.

mod blocks;
pub mod calibrate;
pub mod client;
mod hash;
mod jaro;
pub mod labels;
mod levels;
pub mod master;
mod model;
mod name_index;
mod names;
mod prepare;
pub mod report;
mod run;
mod score;

pub use blocks::{
    Blocks, Candidates, DEFAULT_BLOCK_CAP, Rule, UnknownRule, candidates, candidates_with_progress,
    default_rules,
};
pub use levels::{
    DobLevel, Levels, MiddleLevel, NameLevel, SexLevel, SsnLevel, SuffixLevel, compare_each,
};
pub use model::{
    DEFAULT_TF_FLOOR, FIELDS, FieldParams, HEADER, LineError, Model, ModelError, Training, patterns,
};
pub use name_index::{Lookup, NameIndex, Nominees};
pub use names::NameTables;
pub use prepare::{PersonRef, Prepared, PreparedBuilder, Tf};
pub use run::{Config, Outcome, run, run_with_progress};
pub use score::{
    Match, REVIEW_HIGH, REVIEW_LOW, admissible, class, close_agreement, needs_review, one_to_one,
    score, score_with_progress,
};

/// A progress callback: `(phase, done, total)`, called from any thread.
pub type Progress = dyn Fn(&str, u64, u64) + Sync;

/// A person as given: names in DMF form (uppercase ASCII; [`dmf_model::dmf_form`] normalises
/// raw text), SSN, date of birth and sex optional. A blank name is a missing one; a middle name
/// of one letter is an initial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// The nine digits, of an issued form or not: compared as given.
    pub ssn: Option<dmf_model::SsnDigits>,
    pub first: String,
    pub middle: String,
    pub last: String,
    /// JR, SR, II, III, IV or V compare; any other suffix is ignored.
    pub suffix: String,
    pub dob: Option<dmf_model::PartialDate>,
    pub sex: Option<dmf_model::Sex>,
}

/// The levels of client record `ci` against master record `mi`. Allocates nothing; takes the
/// name tables' read lock, so bulk callers should prefer [`patterns`] and [`score`].
pub fn compare(
    client: &Prepared,
    ci: usize,
    master: &Prepared,
    mi: usize,
    tables: &NameTables,
) -> Levels {
    client.check_tables(tables);
    master.check_tables(tables);
    let store = tables.read();
    levels::compare_records(&client.recs[ci], &master.recs[mi], &store)
}

#[cfg(test)]
mod tests;
