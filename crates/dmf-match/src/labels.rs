//! Clerical review's decisions: reading a labels CSV, re-estimating `m` from labelled pairs,
//! and checking calibration band by band.
//!
//! A labels file is CSV with a header naming `client_id`, `ssn` and `label` (in any order,
//! other columns ignored, so a matches file with a `label` column added is one). A label is
//! `match`, `non-match` or `unsure`; `1`/`0`, `yes`/`no` and `true`/`false` are read too, in
//! any case. A blank label is no decision, like `unsure`. A pair is its client id and the
//! master record's SSN.
//!
//! [`refit`] blends the labelled true matches' level counts into the model's `m`, which acts as
//! a Dirichlet prior worth [`PRIOR_PAIRS`] pairs in each field; `u` and `lambda` stay. The
//! labels that review produces come from the uncertain band: they say little about random pairs
//! (`u`) or the share of matches among all pairs (`lambda`), and they over-represent true
//! matches that disagree somewhere, which is why the prior keeps weight (see [`refit`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::io::Read;

use dmf_format::spreadsheet::restore;
use dmf_model::SsnDigits;

use crate::levels::Levels;
use crate::model::{FIELDS, Model, field_levels};

/// One decided pair of a labels file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The line of the file (1-based) the label is on.
    pub line: u64,
    pub client_id: String,
    /// The master record's SSN.
    pub ssn: SsnDigits,
    /// A true match or not.
    pub truth: bool,
}

/// A labels file as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelsFile {
    /// The decided pairs, each once, in the order of the file.
    pub labels: Vec<Label>,
    /// Rows read (the header aside).
    pub rows: u64,
    /// Rows left undecided: `unsure` or blank.
    pub unsure: u64,
    /// Rows repeating an earlier row's pair and label, counted once.
    pub duplicates: u64,
}

impl LabelsFile {
    /// Decided pairs labelled a match.
    pub fn matches(&self) -> u64 {
        self.labels.iter().filter(|l| l.truth).count() as u64
    }

    /// Decided pairs labelled not a match.
    pub fn non_matches(&self) -> u64 {
        self.labels.iter().filter(|l| !l.truth).count() as u64
    }
}

/// A problem in a labels file, where it is: `file:line:column: reason`.
#[derive(Debug, thiserror::Error)]
pub struct LabelsError {
    pub file: String,
    /// 1-based; 0 when the problem is the whole file's.
    pub line: u64,
    /// 1-based; 0 when the problem is a whole line's.
    pub column: usize,
    pub kind: LabelsErrorKind,
}

impl fmt::Display for LabelsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::client::write_place(f, &self.file, self.line, self.column)?;
        write!(f, ": {}", self.kind)
    }
}

/// What is wrong in a labels file.
#[derive(Debug, thiserror::Error)]
pub enum LabelsErrorKind {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("not UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Csv(String),
    #[error("the file is empty: a header naming client_id, ssn and label is required")]
    Empty,
    #[error("no column {name:?} (columns: {found}); the header is client_id,ssn,label")]
    MissingColumn { name: &'static str, found: String },
    #[error("{cells} cells where the header has {header}")]
    Ragged { cells: usize, header: usize },
    #[error("client_id: blank")]
    BlankId,
    #[error("ssn: {0:?} is not nine digits (or AAA-GG-SSSS)")]
    Ssn(String),
    #[error(
        "label: {0:?} is not match, non-match or unsure (nor 1/0, yes/no, true/false, or blank)"
    )]
    Label(String),
    #[error("label: {label} here, {earlier} on line {line} for the same client_id and ssn")]
    Conflict {
        label: &'static str,
        earlier: &'static str,
        line: u64,
    },
}

/// The columns a labels file must name.
pub const LABEL_COLUMNS: [&str; 3] = ["client_id", "ssn", "label"];

/// A reviewer's decision on a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Match,
    NonMatch,
    Unsure,
}

impl Decision {
    /// A label's decision, or `None` for a word that is none: `match`, `1`, `yes`, `true`;
    /// `non-match`, `0`, `no`, `false`; `unsure` or blank; in any case.
    pub fn parse(text: &str) -> Option<Decision> {
        match text.trim().to_ascii_lowercase().as_str() {
            "match" | "1" | "yes" | "true" => Some(Decision::Match),
            "non-match" | "0" | "no" | "false" => Some(Decision::NonMatch),
            "unsure" | "" => Some(Decision::Unsure),
            _ => None,
        }
    }

    /// The word a labels file gives the decision (and the report exports).
    pub fn word(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::NonMatch => "non-match",
            Decision::Unsure => "unsure",
        }
    }

    /// A true match, not one, or undecided.
    pub fn truth(self) -> Option<bool> {
        match self {
            Decision::Match => Some(true),
            Decision::NonMatch => Some(false),
            Decision::Unsure => None,
        }
    }
}

/// Reads a labels file (named `file` in errors); stops at the first problem. A pair labelled
/// twice alike counts once; labelled twice differently it is an error.
pub fn read_labels(file: &str, mut reader: impl Read) -> Result<LabelsFile, LabelsError> {
    let error = |line: u64, column: usize, kind| LabelsError {
        file: file.to_owned(),
        line,
        column,
        kind,
    };
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| error(0, 0, LabelsErrorKind::Io(e)))?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if let Err(e) = std::str::from_utf8(text) {
        return Err(error(
            line_at(text, e.valid_up_to() as u64),
            0,
            LabelsErrorKind::NotUtf8,
        ));
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = csv.records();
    let line_of = |p: Option<&csv::Position>| p.map_or(0, |p| line_at(text, p.byte()));
    let read_error = |e: csv::Error| {
        let line = line_of(e.position());
        let text = e.to_string();
        let kind = match e.into_kind() {
            csv::ErrorKind::Io(e) => LabelsErrorKind::Io(e),
            _ => LabelsErrorKind::Csv(text),
        };
        error(line, 0, kind)
    };
    let header = match records.next() {
        None => return Err(error(0, 0, LabelsErrorKind::Empty)),
        Some(r) => r.map_err(read_error)?,
    };
    let header_line = line_of(header.position());
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut columns = [0usize; 3];
    for (slot, name) in columns.iter_mut().zip(LABEL_COLUMNS) {
        *slot = names.iter().position(|n| n == name).ok_or_else(|| {
            error(
                header_line,
                0,
                LabelsErrorKind::MissingColumn {
                    name,
                    found: names.join(", "),
                },
            )
        })?;
    }
    let [id_c, ssn_c, label_c] = columns;

    let mut out = LabelsFile::default();
    // Per pair: the line it was first labelled on and its label.
    let mut seen: HashMap<(String, SsnDigits), (u64, Decision)> = HashMap::new();
    for record in records {
        let record = record.map_err(read_error)?;
        let line = line_of(record.position());
        if record.len() != names.len() {
            // A blank line is no row at all.
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }
            let kind = LabelsErrorKind::Ragged {
                cells: record.len(),
                header: names.len(),
            };
            return Err(error(line, 0, kind));
        }
        out.rows += 1;
        // The report's export neutralises an id a spreadsheet would run; read the id itself.
        let cell = |c: usize| restore(record[c].trim()).trim();
        let id = cell(id_c);
        if id.is_empty() {
            return Err(error(line, id_c + 1, LabelsErrorKind::BlankId));
        }
        let ssn_text = cell(ssn_c);
        let ssn: SsnDigits = ssn_text
            .parse()
            .map_err(|_| error(line, ssn_c + 1, LabelsErrorKind::Ssn(ssn_text.to_owned())))?;
        let decision = Decision::parse(&record[label_c]).ok_or_else(|| {
            error(
                line,
                label_c + 1,
                LabelsErrorKind::Label(record[label_c].trim().to_owned()),
            )
        })?;
        match seen.entry((id.to_owned(), ssn)) {
            Entry::Occupied(e) => {
                let (first, earlier) = *e.get();
                if earlier != decision {
                    let kind = LabelsErrorKind::Conflict {
                        label: decision.word(),
                        earlier: earlier.word(),
                        line: first,
                    };
                    return Err(error(line, label_c + 1, kind));
                }
                out.duplicates += 1;
                continue;
            }
            Entry::Vacant(e) => {
                e.insert((line, decision));
            }
        }
        match decision.truth() {
            Some(truth) => out.labels.push(Label {
                line,
                client_id: id.to_owned(),
                ssn,
                truth,
            }),
            None => out.unsure += 1,
        }
    }
    Ok(out)
}

/// The 1-based line of the first byte at or after `at` that ends no line. The CSV reader gives
/// a record's start as the offset after the previous record's end, which on `\r\n` files is
/// the `\n`, and its own line count is then one low.
fn line_at(text: &[u8], at: u64) -> u64 {
    let at = at as usize;
    let start = at
        + text
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
    1 + text[..start.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

/// How many labelled true matches the model's `m` weighs as, in each field, when [`refit`]
/// blends the labels in: 5 labelled matches move `m` a tenth of the way to their own level
/// shares, 50 half way, 500 nine tenths.
pub const PRIOR_PAIRS: f64 = 50.0;

/// No `m` falls below this, so that every weight stays finite.
const M_FLOOR: f64 = 1e-9;

/// Per field, the level counts of some true matches (`Missing` not counted).
fn level_counts<'a>(model: &Model, matches: impl Iterator<Item = &'a Levels>) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = (0..FIELDS.len())
        .map(|f| vec![0.0; model.m.field(f).len()])
        .collect();
    for levels in matches {
        add(&mut counts, levels, 1.0);
    }
    counts
}

fn add(counts: &mut [Vec<f64>], levels: &Levels, by: f64) {
    for (f, level) in field_levels(levels).iter().enumerate() {
        if let Some(l) = *level
            && let Some(c) = counts.get_mut(f).and_then(|c| c.get_mut(l))
        {
            *c += by;
        }
    }
}

/// The model's `m` blended with `counts`: per field, the posterior mean of a Dirichlet whose
/// prior is `PRIOR_PAIRS` times the model's `m`.
fn blend(model: &Model, counts: &[Vec<f64>]) -> Model {
    let mut out = model.clone();
    for (f, counts) in counts.iter().enumerate() {
        let n: f64 = counts.iter().sum();
        let m = out.m.field_mut(f);
        // The prior's shares, whatever the model's m sums to (even over if it is all 0).
        let sum: f64 = m.iter().sum();
        let even = 1.0 / m.len() as f64;
        for (m, c) in m.iter_mut().zip(counts) {
            let share = if sum > 0.0 { *m / sum } else { even };
            *m = ((PRIOR_PAIRS * share + c) / (PRIOR_PAIRS + n)).max(M_FLOOR);
        }
        let sum: f64 = m.iter().sum();
        m.iter_mut().for_each(|m| *m /= sum);
    }
    out
}

/// `model` with `m` re-estimated from labelled pairs (their levels, and whether each is a true
/// match).
///
/// Per field, `m` becomes the posterior mean of a Dirichlet whose prior is the model's `m`
/// worth [`PRIOR_PAIRS`] pairs, given the level counts of the labelled true matches whose level
/// in that field is not `Missing`: `(PRIOR_PAIRS * m + count) / (PRIOR_PAIRS + n)`. So a few
/// labels move `m` a little and many labels a lot, and no `m` reaches 0 (nor falls below
/// 1e-9). Non-matches do not enter `m`.
///
/// `u` stays: the labelled non-matches are candidates that blocking chose for agreeing
/// somewhere, not random pairs. `lambda` stays: it is the share of matches among all client ×
/// master pairs, and the labelled pairs are a few chosen for being uncertain, whose share of
/// true matches says nothing of it.
///
/// Labels from the review band alone are true matches that disagree somewhere more often than
/// true matches at large (a pair that agrees everywhere is not uncertain): they pull `m` toward
/// the levels of disagreement. The prior holds against a few; against many, label some sure
/// pairs too (any candidate pair may be labelled).
pub fn refit(model: &Model, labelled: &[(Levels, bool)]) -> Model {
    let matches = labelled.iter().filter(|(_, t)| *t).map(|(l, _)| l);
    blend(model, &level_counts(model, matches))
}

/// [`refit`] once for all labels and once leaving out each distinct pattern of a true match,
/// so that every labelled pair can be scored by a model that did not learn from it.
#[derive(Debug, Clone)]
pub struct HeldOut {
    all: Model,
    without: HashMap<Levels, Model>,
}

impl HeldOut {
    /// Refits for `labelled`: one per distinct pattern of a labelled true match, each from the
    /// counts of all labels less one pair of that pattern.
    pub fn new(model: &Model, labelled: &[(Levels, bool)]) -> HeldOut {
        let matches = labelled.iter().filter(|(_, t)| *t).map(|(l, _)| l);
        let counts = level_counts(model, matches.clone());
        let mut without = HashMap::new();
        for levels in matches {
            without.entry(*levels).or_insert_with(|| {
                let mut less = counts.clone();
                add(&mut less, levels, -1.0);
                blend(model, &less)
            });
        }
        HeldOut {
            all: blend(model, &counts),
            without,
        }
    }

    /// The model refit on every label but one pair of these levels and this truth (a
    /// non-match does not enter `m`, so for it this is the refit on all labels).
    pub fn model(&self, levels: &Levels, truth: bool) -> &Model {
        if truth {
            self.without.get(levels).unwrap_or(&self.all)
        } else {
            &self.all
        }
    }

    /// The refit on every label, as [`refit`] gives it.
    pub fn all(&self) -> &Model {
        &self.all
    }
}

/// The probability bands of calibration and review, `[lo, hi)` but the last `[0.95, 1]`.
pub const BANDS: [(f64, f64); 6] = [
    (0.0, 0.05),
    (0.05, 0.2),
    (0.2, 0.5),
    (0.5, 0.8),
    (0.8, 0.95),
    (0.95, 1.0),
];

/// The index into [`BANDS`] of a probability (below 0 counts in the first, above 1 in the
/// last).
pub fn band_of(p: f64) -> usize {
    BANDS
        .iter()
        .position(|&(_, hi)| p < hi)
        .unwrap_or(BANDS.len() - 1)
}

/// Labelled pairs whose probability lies in `[lo, hi)` (`[lo, hi]` for the last band), and how
/// many of them are true matches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    pub pairs: u64,
    pub true_matches: u64,
}

impl Band {
    /// The share of true matches, `None` for a band without pairs. A calibrated model's share
    /// lies within the band.
    pub fn share(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.true_matches as f64 / self.pairs as f64)
    }
}

/// Per band of [`BANDS`], the pairs scored in it and how many are true: `scored` is each
/// labelled pair's probability and truth.
pub fn calibration(scored: &[(f64, bool)]) -> Vec<Band> {
    let mut bands: Vec<Band> = BANDS
        .iter()
        .map(|&(lo, hi)| Band {
            lo,
            hi,
            pairs: 0,
            true_matches: 0,
        })
        .collect();
    for &(p, truth) in scored {
        let b = &mut bands[band_of(p)];
        b.pairs += 1;
        b.true_matches += u64::from(truth);
    }
    bands
}

#[cfg(test)]
mod tests;
