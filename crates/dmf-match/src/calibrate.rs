//! Labels of a clerical review held against a run: the labelled pairs found among the
//! candidate pairs, and each one's probability band by band before the refit of `m`, after
//! it, and after it with each pair held out.

use std::collections::{HashMap, HashSet};

use dmf_model::SsnDigits;

use crate::client::ClientFile;
use crate::labels::{self, Band, HeldOut, LabelsFile, PRIOR_PAIRS};
use crate::{Blocks, Config, Levels, Model, NameTables, Person, Prepared, Tf};

/// The master side of a run, as label resolution needs it.
#[derive(Debug, Clone, Copy)]
pub struct Master<'a> {
    pub prepared: &'a Prepared,
    /// Each master record's SSN, by index.
    pub ssns: &'a [Option<SsnDigits>],
}

/// Labelled pairs found among the candidate pairs.
#[derive(Debug)]
pub struct Resolved {
    /// Each pair's levels, its master record's term frequencies, and its label.
    pub pairs: Vec<(Levels, Tf, bool)>,
    /// Labels whose client id is not in the client file or whose SSN is not in the master.
    pub not_found: u64,
    /// Labels of records in both files that blocking does not pair.
    pub not_candidates: u64,
}

/// Finds the labelled pairs: the client records of each label's id against the master records
/// of its SSN, kept when the blocking rules pair them. Whether they do is asked of the rules
/// over just the labelled records, which cannot tell a block over the cap: such a pair counts
/// as a candidate.
pub fn resolve_labels<E>(
    file: &LabelsFile,
    client: &ClientFile,
    client_p: &Prepared,
    master: Master<'_>,
    fetch: impl FnOnce(&HashSet<u32>) -> Result<HashMap<u32, Person>, E>,
    tables: &NameTables,
    config: &Config,
) -> Result<Resolved, E> {
    let ids: HashSet<&str> = file.labels.iter().map(|l| l.client_id.as_str()).collect();
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, id) in client.ids.iter().enumerate() {
        if ids.contains(id.as_str()) {
            by_id.entry(id.as_str()).or_default().push(i);
        }
    }
    let ssns: HashSet<SsnDigits> = file.labels.iter().map(|l| l.ssn).collect();
    let mut by_ssn: HashMap<SsnDigits, Vec<u32>> = HashMap::new();
    for (i, s) in master.ssns.iter().enumerate() {
        if let Some(s) = s
            && ssns.contains(s)
        {
            by_ssn.entry(*s).or_default().push(i as u32);
        }
    }
    let mut not_found = 0;
    // Per label, the (client, master) pairs it names.
    let mut named: Vec<Vec<(usize, u32)>> = Vec::with_capacity(file.labels.len());
    for l in &file.labels {
        match (by_id.get(l.client_id.as_str()), by_ssn.get(&l.ssn)) {
            (Some(cs), Some(ms)) => named.push(
                cs.iter()
                    .flat_map(|&c| ms.iter().map(move |&m| (c, m)))
                    .collect(),
            ),
            _ => {
                not_found += 1;
                named.push(Vec::new());
            }
        }
    }
    let mut cis: Vec<usize> = named.iter().flatten().map(|p| p.0).collect();
    let mut mis: Vec<u32> = named.iter().flatten().map(|p| p.1).collect();
    cis.sort_unstable();
    cis.dedup();
    mis.sort_unstable();
    mis.dedup();
    let mut out = Resolved {
        pairs: Vec::new(),
        not_found,
        not_candidates: 0,
    };
    if mis.is_empty() {
        return Ok(out);
    }
    let records = fetch(&mis.iter().copied().collect())?;
    let small_client: Vec<Person> = cis.iter().map(|&c| client.people[c].clone()).collect();
    let small_master: Vec<Person> = mis.iter().map(|m| records[m].clone()).collect();
    let small_client = Prepared::new(&small_client, tables);
    let small_master = Prepared::new(&small_master, tables);
    let blocks = Blocks::build_with_cap(&small_master, &config.rules, config.block_cap);
    let blocked: HashSet<(usize, u32)> = crate::candidates(&small_client, &blocks)
        .pairs
        .into_iter()
        .map(|(c, m)| (cis[c as usize], mis[m as usize]))
        .collect();
    for (l, pairs) in file.labels.iter().zip(&named) {
        if pairs.is_empty() {
            continue;
        }
        let before = out.pairs.len();
        for &(c, m) in pairs.iter().filter(|p| blocked.contains(p)) {
            let levels = crate::compare(client_p, c, master.prepared, m as usize, tables);
            out.pairs
                .push((levels, master.prepared.tf(m as usize), l.truth));
        }
        if out.pairs.len() == before {
            out.not_candidates += 1;
        }
    }
    Ok(out)
}

/// The labels read, the pairs found, and each labelled pair's probability band by band before
/// the refit, after it, and after it with each pair held out.
#[derive(Debug)]
pub struct Checked {
    pub file: LabelsFile,
    pub resolved: Resolved,
    pub true_matches: u64,
    pub columns: Vec<(&'static str, &'static str, Vec<Band>)>,
}

impl Checked {
    pub fn new(file: LabelsFile, resolved: Resolved, before: &Model, held: &HeldOut) -> Checked {
        fn score<'m>(
            pairs: &[(Levels, Tf, bool)],
            model: impl Fn(&Levels, bool) -> &'m Model,
        ) -> Vec<Band> {
            let scored: Vec<(f64, bool)> = pairs
                .iter()
                .map(|(levels, tf, truth)| {
                    let m = model(levels, *truth);
                    (m.probability(m.weight_tf(levels, *tf)), *truth)
                })
                .collect();
            labels::calibration(&scored)
        }
        let pairs = &resolved.pairs;
        let columns = vec![
            ("before", "before refit", score(pairs, |_, _| before)),
            ("after", "after refit", score(pairs, |_, _| held.all())),
            (
                "held_out",
                "after refit, each pair held out",
                score(pairs, |l, t| held.model(l, t)),
            ),
        ];
        Checked {
            true_matches: resolved.pairs.iter().filter(|p| p.2).count() as u64,
            file,
            resolved,
            columns,
        }
    }

    pub fn counts(&self) -> String {
        let f = &self.file;
        format!(
            "{} label rows: {} match, {} non-match, {} unsure{}; {} not in the files, {} not among the candidate pairs; {} labelled pairs found, m re-estimated from their {} true matches (the model's m weighing as {PRIOR_PAIRS} pairs per field)",
            f.rows,
            f.matches(),
            f.non_matches(),
            f.unsure,
            if f.duplicates > 0 {
                format!(", {} repeated", f.duplicates)
            } else {
                String::new()
            },
            self.resolved.not_found,
            self.resolved.not_candidates,
            self.resolved.pairs.len(),
            self.true_matches,
        )
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "labels: {}\ncalibration, true matches of the labelled pairs per band of probability \
             (before the refit, after it, and after it with each pair held out of its own refit):\n  {:<12}",
            self.counts(),
            "probability"
        );
        for (key, _, _) in &self.columns {
            out.push_str(&format!("{:>16}", key.replace('_', " ")));
        }
        out.push('\n');
        for (k, &(lo, hi)) in labels::BANDS.iter().enumerate() {
            out.push_str(&format!("  {:<12}", format!("{lo}-{hi}")));
            for (_, _, bands) in &self.columns {
                let b = &bands[k];
                let cell = match b.share() {
                    Some(s) => format!("{} of {} ({:.0}%)", b.true_matches, b.pairs, 100.0 * s),
                    None => "-".to_owned(),
                };
                out.push_str(&format!("{cell:>16}"));
            }
            out.push('\n');
        }
        out
    }

    pub fn report(&self) -> crate::report::Calibration {
        crate::report::Calibration {
            note: format!(
                "{}. Each column puts the labelled pairs in the band of the probability that \
                 model gives them; a calibrated model's share of true matches lies within the \
                 band. The last column scores each pair with m refit on the other labels.",
                self.counts()
            ),
            columns: self
                .columns
                .iter()
                .map(|(_, name, bands)| (*name, bands.clone()))
                .collect(),
        }
    }
}
