//! `dmf match`: a client file against the master file (a DMF file or a registry), with the
//! Fellegi-Sunter model of `dmf-match` (whose `client` module reads the client file), writing
//! the matches and a self-contained HTML report; with labels of clerical review, `m` refit
//! from them and calibration checked.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dmf_format::spreadsheet::write_row;
use dmf_format::{
    ChangeCode, DmfReader, FaultCounts, LenientRecord, LineError, RECORD_LEN, parse_record_lenient,
};
use dmf_match::client::{self, ClientFile, ClientOptions};
use dmf_match::labels::{self, Band, HeldOut, LabelsFile, PRIOR_PAIRS};
use dmf_match::{
    Blocks, Config, Levels, Match, Model, NameTables, Outcome, Person, PersonRef, Prepared,
    PreparedBuilder, Tf,
};
use dmf_model::SsnDigits;
use rayon::prelude::*;
use serde_json::json;

use crate::{MatchArgs, progress};

/// Reads the client file through `dmf-match`'s reader; prints what it noticed.
fn read_client(args: &MatchArgs, renames: HashMap<String, String>) -> Result<ClientFile> {
    let path = &args.client;
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let options = ClientOptions {
        renames,
        strict: args.strict,
        dob_format: args.dob_format,
        encoding: args.encoding,
        ..ClientOptions::new(crate::today())
    };
    let client = client::read_client(&name, BufReader::new(file), &options)?;
    for note in &client.notes {
        eprintln!("{note}");
    }
    for p in client.problems.iter().take(20) {
        eprintln!("{p} ({})", p.outcome());
    }
    let shown = client.problems.len().min(20) as u64;
    if client.bad_cells + client.skipped_rows > shown {
        eprintln!(
            "… {} bad cells in all, each treated as missing; {} rows skipped",
            client.bad_cells, client.skipped_rows
        );
    }
    Ok(client)
}

/// The master, prepared for matching: each record's SSN and change, and where to find its
/// names again for the report. Records are prepared in chunks, so a national file never
/// sits in memory as text.
struct Master {
    prepared: Prepared,
    ssns: Vec<Option<SsnDigits>>,
    changes: Vec<ChangeCode>,
    cursor: Option<u64>,
    /// The records themselves when they came from a registry; a DMF file is read again.
    records: Option<Vec<LenientRecord>>,
    /// Records kept with a bad field (treated as missing), by kind of fault.
    faults: FaultCounts,
}

/// Master records prepared at a time.
const CHUNK: usize = 1 << 18;

fn person_ref(r: &LenientRecord) -> PersonRef<'_> {
    PersonRef {
        ssn: Some(r.ssn()),
        first: r.first(),
        middle: r.middle(),
        last: r.last(),
        suffix: r.suffix(),
        dob: r.dob(),
        sex: None,
    }
}

fn person_of(r: &LenientRecord) -> Person {
    Person {
        ssn: Some(r.ssn()),
        first: r.first().to_owned(),
        middle: r.middle().to_owned(),
        last: r.last().to_owned(),
        suffix: r.suffix().to_owned(),
        dob: r.dob(),
        sex: None,
    }
}

/// Every record of a DMF file but its deletions, in chunks, to `f`; the records kept with a
/// bad field are counted by fault. The file is read leniently (a bad field is missing, the
/// rest of the record kept); a line that is no DMF record at all is skipped and reported.
fn dmf_chunks(
    path: &Path,
    quiet: bool,
    mut f: impl FnMut(&[LenientRecord]),
) -> Result<FaultCounts> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let bar = progress::spinner("master records", quiet);
    let mut reader = DmfReader::new(file);
    let (mut wrong, mut seen) = (0u64, 0u64);
    let mut faults = FaultCounts::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    // Lines are cut one after the other and parsed a chunk at a time on every thread: the
    // parsing, not the reading, is what one thread is slow at.
    let mut bytes: Vec<u8> = Vec::with_capacity(CHUNK * (RECORD_LEN + 1));
    let mut lines: Vec<(u64, usize, usize)> = Vec::with_capacity(CHUNK);
    loop {
        let more = match reader
            .next_line()
            .with_context(|| format!("cannot read {name}"))?
        {
            Some((number, line)) => {
                lines.push((number, bytes.len(), line.len()));
                bytes.extend_from_slice(line);
                true
            }
            None => false,
        };
        if lines.len() == CHUNK || !more {
            let parsed: Vec<Result<LenientRecord, LineError>> = lines
                .par_iter()
                .map(|&(number, start, len)| {
                    parse_record_lenient(&bytes[start..start + len]).map_err(|errors| LineError {
                        line: number,
                        errors,
                    })
                })
                .collect();
            for rec in parsed {
                match rec {
                    Ok(r) if r.change() != ChangeCode::Delete => {
                        faults.add(&r);
                        chunk.push(r);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        wrong += 1;
                        if wrong <= 5 {
                            eprintln!("{name}:{}: skipped: {}", e.line, e.errors[0].reason);
                        }
                    }
                }
            }
            seen += lines.len() as u64;
            bar.set_position(seen);
            f(&chunk);
            chunk.clear();
            lines.clear();
            bytes.clear();
        }
        if !more {
            break;
        }
    }
    bar.finish_and_clear();
    if wrong > 0 {
        eprintln!("{name}: {wrong} wrong lines skipped (`dmf format check {name}` lists them)");
    }
    Ok(faults)
}

/// Says how many master records were kept with a bad field, by kind of fault.
fn report_faults(name: &str, faults: &FaultCounts) {
    if faults.is_empty() {
        return;
    }
    let kinds: Vec<String> = faults
        .by_kind
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    eprintln!(
        "{name}: {} records kept with a bad field, treated as missing ({}; `dmf format check {name}` lists them)",
        faults.records,
        kinds.join(", ")
    );
}

fn read_master(args: &MatchArgs, tables: &NameTables, quiet: bool) -> Result<Master> {
    let mut builder = PreparedBuilder::new(tables);
    let mut ssns = Vec::new();
    let mut changes = Vec::new();
    if let Some(path) = &args.master {
        let faults = dmf_chunks(path, quiet, |chunk| {
            builder.extend_with(chunk, person_ref);
            ssns.extend(chunk.iter().map(|r| Some(r.ssn())));
            changes.extend(chunk.iter().map(LenientRecord::change));
        })?;
        report_faults(&path.display().to_string(), &faults);
        return Ok(Master {
            prepared: builder.finish(),
            ssns,
            changes,
            cursor: None,
            records: None,
            faults,
        });
    }
    let Some(data) = &args.data else {
        bail!("give --master FILE (a DMF file) or --data DIR (a registry)");
    };
    let registry = crate::backend::open(data, args.database.url())?;
    // A subscriber certified under the limited-access rule; deaths only a state reported
    // are not for matching outside benefit programs.
    let audience = dmf_registry::distribution::Audience {
        certified: true,
        state_deaths: false,
    };
    let today = crate::today();
    let (cursor, records) = match args.since {
        Some(since) => {
            let mut out = Vec::new();
            let mut cursor = since;
            loop {
                let page = dmf_registry::distribution::changes(
                    &registry, cursor, 50_000, audience, today,
                )?;
                if page.cursor == cursor {
                    break;
                }
                cursor = page.cursor;
                out.extend(page.records);
            }
            (cursor, out)
        }
        None => dmf_registry::distribution::full_file(&registry, audience, today)?,
    };
    // The registry's records are valid by construction (made from a death and the identity on
    // file): they read without faults.
    let records: Vec<LenientRecord> = records.into_iter().map(LenientRecord::from).collect();
    builder.extend_with(&records, person_ref);
    Ok(Master {
        prepared: builder.finish(),
        ssns: records.iter().map(|r| Some(r.ssn())).collect(),
        changes: records.iter().map(LenientRecord::change).collect(),
        cursor: Some(cursor),
        records: Some(records),
        faults: FaultCounts::default(),
    })
}

/// The master records at `wanted` indexes (for the report and the labels). A DMF file is read
/// again for them.
fn master_records(
    args: &MatchArgs,
    master: &Master,
    wanted: &HashSet<u32>,
) -> Result<HashMap<u32, LenientRecord>> {
    if let Some(records) = &master.records {
        return Ok(wanted
            .iter()
            .map(|&i| (i, records[i as usize].clone()))
            .collect());
    }
    let mut out = HashMap::new();
    let mut at = 0u32;
    if let Some(path) = &args.master {
        dmf_chunks(path, true, |chunk| {
            for r in chunk {
                if wanted.contains(&at) {
                    out.insert(at, r.clone());
                }
                at += 1;
            }
        })?;
    }
    Ok(out)
}

/// Labelled pairs found among the candidate pairs.
struct Resolved {
    /// Each pair's levels, its master record's term frequencies, and its label.
    pairs: Vec<(Levels, Tf, bool)>,
    /// Labels whose client id is not in the client file or whose SSN is not in the master.
    not_found: u64,
    /// Labels of records in both files that blocking does not pair.
    not_candidates: u64,
}

/// Finds the labelled pairs: the client records of each label's id against the master records
/// of its SSN, kept when the blocking rules pair them. Whether they do is asked of the rules
/// over just the labelled records, which cannot tell a block over the cap: such a pair counts
/// as a candidate.
fn resolve_labels(
    args: &MatchArgs,
    file: &LabelsFile,
    client: &ClientFile,
    client_p: &Prepared,
    master: &Master,
    tables: &NameTables,
    config: &Config,
) -> Result<Resolved> {
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
    let records = master_records(args, master, &mis.iter().copied().collect())?;
    let small_client: Vec<Person> = cis.iter().map(|&c| client.people[c].clone()).collect();
    let small_master: Vec<Person> = mis.iter().map(|m| person_of(&records[m])).collect();
    let small_client = Prepared::new(&small_client, tables);
    let small_master = Prepared::new(&small_master, tables);
    let blocks = Blocks::build_with_cap(&small_master, &config.rules, config.block_cap);
    let blocked: HashSet<(usize, u32)> = dmf_match::candidates(&small_client, &blocks)
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
            let levels = dmf_match::compare(client_p, c, &master.prepared, m as usize, tables);
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
struct Checked {
    file: LabelsFile,
    resolved: Resolved,
    true_matches: u64,
    columns: Vec<(&'static str, &'static str, Vec<Band>)>,
}

impl Checked {
    fn new(file: LabelsFile, resolved: Resolved, before: &Model, held: &HeldOut) -> Checked {
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

    fn counts(&self) -> String {
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

    fn json(&self) -> serde_json::Value {
        let f = &self.file;
        let bands: Vec<serde_json::Value> = labels::BANDS
            .iter()
            .enumerate()
            .map(|(k, &(lo, hi))| {
                let mut band = json!({"lo": lo, "hi": hi});
                for (key, _, bands) in &self.columns {
                    let b = &bands[k];
                    band[*key] = json!({"pairs": b.pairs, "true_matches": b.true_matches, "share": b.share()});
                }
                band
            })
            .collect();
        json!({
            "label_rows": f.rows,
            "match": f.matches(),
            "non_match": f.non_matches(),
            "unsure": f.unsure,
            "repeated": f.duplicates,
            "not_found": self.resolved.not_found,
            "not_candidates": self.resolved.not_candidates,
            "labelled_pairs": self.resolved.pairs.len(),
            "true_matches": self.true_matches,
            "prior_pairs": PRIOR_PAIRS,
            "bands": bands,
        })
    }

    fn text(&self) -> String {
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

    fn report(&self) -> crate::match_report::Calibration {
        crate::match_report::Calibration {
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

pub fn run(args: &MatchArgs, quiet: bool) -> Result<ExitCode> {
    let started = Instant::now();
    if args.since.is_some() && args.data.is_none() {
        bail!("--since CURSOR needs --data DIR (a registry)");
    }
    let mut renames = HashMap::new();
    for pair in args.columns.iter().flat_map(|c| c.split(',')) {
        let (ours, theirs) = pair.split_once('=').with_context(|| {
            format!("--columns {pair:?}: expected OURS=THEIRS, e.g. dob=birth_date")
        })?;
        renames.insert(
            theirs.trim().to_ascii_lowercase(),
            ours.trim().to_ascii_lowercase(),
        );
    }
    // A file of the wrong kind is named before any work: a numberholder CSV as the master
    // would otherwise match nobody and exit 0.
    if let Some(path) = &args.master {
        crate::format_cmd::refuse_wrong_kind(
            path,
            &[dmf_format::FileKind::Dmf],
            "dmf match --master",
            "a DMF file (100-character fixed-width records; a registry is given with --data)",
        )?;
    }
    crate::format_cmd::refuse_wrong_kind(
        &args.client,
        &[dmf_format::FileKind::Csv {
            columns: Vec::new(),
        }],
        "dmf match --client",
        "a CSV with a header line",
    )?;
    // Labels first: a mistake in them should not wait for the matching.
    let labels_file = match &args.labels {
        Some(path) => {
            let name = path.display().to_string();
            let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
            Some(labels::read_labels(&name, BufReader::new(file))?)
        }
        None => None,
    };
    let client = read_client(args, renames)?;
    let tables = NameTables::shipped();
    let master = read_master(args, &tables, quiet)?;
    let loaded = started.elapsed().as_secs_f64();

    let client_p = Prepared::new(&client.people, &tables);
    let master_p = &master.prepared;
    let mut config = Config::default();
    if let Some(path) = &args.model
        && path.is_file()
        && !args.train
    {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        config.model =
            Some(Model::from_text(&text).with_context(|| format!("model {}", path.display()))?);
    }
    if !args.rules.is_empty() {
        config.rules = args.rules.clone();
    }
    // The review band reaches down to 0.05 whatever the matches file keeps.
    let review_from = crate::match_report::REVIEW.0;
    config.threshold = if args.report.is_some() || labels_file.is_some() {
        args.threshold.min(review_from)
    } else {
        args.threshold
    };
    // A client row is one person, and a master record one death: each side's best pair wins
    // unless every pair is asked for.
    config.one_to_one = !args.many;
    let link = |config: &Config| -> Outcome {
        let bar = progress::phases(quiet);
        let shown = bar.clone();
        let progress = move |phase: &str, done: u64, total: u64| {
            shown.set_length(total);
            shown.set_position(done);
            shown.set_message(phase.to_owned());
        };
        let outcome = dmf_match::run_with_progress(&client_p, master_p, &tables, config, &progress);
        bar.finish_and_clear();
        outcome
    };
    let mut outcome = link(&config);
    // The model as trained: a refit from labels is made afresh on each run.
    if let Some(path) = &args.model
        && config.model.is_none()
    {
        std::fs::write(path, outcome.model.to_text())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let checked = match labels_file {
        Some(file) => {
            let resolved =
                resolve_labels(args, &file, &client, &client_p, &master, &tables, &config)?;
            let labelled: Vec<(Levels, bool)> =
                resolved.pairs.iter().map(|(l, _, t)| (*l, *t)).collect();
            let held = HeldOut::new(&outcome.model, &labelled);
            let checked = Checked::new(file, resolved, &outcome.model, &held);
            // The pairs scored again with the refit model.
            let mut refit = config.clone();
            refit.model = Some(held.all().clone());
            let training = outcome.training;
            outcome = Outcome {
                training,
                ..link(&refit)
            };
            Some(checked)
        }
        None => None,
    };
    let kept: Vec<&Match> = outcome
        .matches
        .iter()
        .filter(|m| m.probability >= args.threshold)
        .collect();
    write_matches(args, &client, &master, &kept)?;
    if let Some(path) = &args.report {
        let limit = crate::match_report::REVIEW_LIMIT;
        let wanted = crate::match_report::shown(
            &outcome.matches,
            &client.ids,
            &master.ssns,
            args.threshold,
            limit,
        );
        let records: HashMap<u32, crate::match_report::Record> =
            master_records(args, &master, &wanted)?
                .iter()
                .map(|(&i, r)| (i, crate::match_report::Record::master(r)))
                .collect();
        let calibration = checked.as_ref().map(Checked::report);
        let html = crate::match_report::html(&crate::match_report::Input {
            model: &outcome.model,
            outcome: &outcome,
            client: &client.people,
            ids: &client.ids,
            master_len: master.ssns.len(),
            master_ssns: &master.ssns,
            master: &records,
            tf: &|i| master_p.tf(i as usize),
            threshold: args.threshold,
            listed_from: config.threshold,
            one_to_one: args.one_to_one,
            calibration: calibration.as_ref(),
            limit,
        });
        std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let pairs: u64 = outcome.candidates;
    let mut summary = json!({
        "client_records": client.people.len(),
        "master_records": master.ssns.len(),
        "bad_cells": client.bad_cells,
        "skipped_rows": client.skipped_rows,
        "master_records_with_faults": master.faults.records,
        "master_faults": master.faults.by_kind,
        "candidates": pairs,
        "candidates_per_rule": outcome.per_rule.iter().zip(&outcome.capped).zip(&outcome.capped_pairs).map(|(((r, n), (_, capped)), (_, capped_pairs))| json!({"rule": r.code(), "candidates": n, "capped_blocks": capped, "capped_pairs": capped_pairs})).collect::<Vec<_>>(),
        "matches": kept.len(),
        "matches_for_review": kept.iter().filter(|m| m.review).count(),
        "training": outcome.training.map(|t| json!({"iterations": t.iterations, "converged": t.converged, "lambda_bounded": t.lambda_bounded})),
        "clients_matched": kept.iter().map(|m| m.client).collect::<std::collections::HashSet<_>>().len(),
        "cursor": master.cursor,
        "seconds": seconds,
        "load_seconds": loaded,
        "phase_seconds": outcome.timings.iter().map(|(phase, d)| (phase.to_string(), json!(d.as_secs_f64()))).collect::<serde_json::Map<_, _>>(),
        "candidate_pairs_per_second": (pairs as f64 / (seconds - loaded).max(1e-9)).round(),
    });
    if let Some(c) = &checked {
        summary["calibration"] = c.json();
    }
    if args.json {
        println!("{summary}");
    } else {
        println!(
            "{} client records against {} master records: {} candidate pairs ({}), {} matches for {} clients, in {seconds:.1} s",
            client.people.len(),
            master.ssns.len(),
            pairs,
            outcome
                .per_rule
                .iter()
                .map(|(r, n)| format!("{} {n}", r.code()))
                .collect::<Vec<_>>()
                .join(", "),
            kept.len(),
            summary["clients_matched"],
        );
        let capped: Vec<String> = outcome
            .capped
            .iter()
            .zip(&outcome.capped_pairs)
            .filter(|((_, n), _)| *n > 0)
            .map(|((r, n), (_, p))| format!("{} {n} ({p} pairs)", r.code()))
            .collect();
        if !capped.is_empty() {
            println!(
                "blocks over the cap of {} master records, skipped: {}",
                dmf_match::DEFAULT_BLOCK_CAP,
                capped.join(", ")
            );
        }
        let review = kept.iter().filter(|m| m.review).count();
        if review > 0 {
            println!(
                "{review} of the matches need a person's review (column review: probability \
                 between {} and {}, or SSNs that differ)",
                dmf_match::REVIEW_LOW,
                dmf_match::REVIEW_HIGH
            );
        }
        if outcome.training.is_some_and(|t| t.lambda_bounded) {
            eprintln!(
                "warning: training found more likely matches than there are records; the \
                 share of matches was held at that bound (check the blocking rules and the \
                 report)"
            );
        }
        if let Some(c) = &checked {
            print!("{}", c.text());
        }
        if let Some(c) = master.cursor {
            println!("master cursor: {c} (give --since {c} next time to match only what changed)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the matches as CSV, each cell neutralised for spreadsheets (a client id or an extra
/// column may start with `=`); the columns are in `docs/CSV.md`.
fn write_matches(
    args: &MatchArgs,
    client: &ClientFile,
    master: &Master,
    matches: &[&Match],
) -> Result<()> {
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "client_id",
        "ssn",
        "match_weight",
        "match_probability",
        "class",
        "ssn_level",
        "first_level",
        "last_level",
        "dob_level",
        "middle_level",
        "suffix_level",
        "sex_level",
        "review",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if args.since.is_some() {
        header.push("change".into());
    }
    header.extend(client.extra_names.iter().cloned());
    write_row(&mut w, &header)?;
    for m in matches {
        let c = m.client as usize;
        let mi = m.master as usize;
        let mut row: Vec<String> = vec![
            client.ids[c].clone(),
            master.ssns[mi].map(|s| s.to_string()).unwrap_or_default(),
            format!("{:.3}", m.weight),
            format!("{:.6}", m.probability),
            m.class.to_string(),
        ];
        row.extend(m.levels.codes().iter().map(|s| (*s).to_owned()));
        row.push(if m.review { "yes" } else { "no" }.to_owned());
        if args.since.is_some() {
            row.push(master.changes[mi].name().to_owned());
        }
        row.extend(client.extra[c].iter().cloned());
        write_row(&mut w, &row)?;
    }
    w.flush()?;
    Ok(())
}
