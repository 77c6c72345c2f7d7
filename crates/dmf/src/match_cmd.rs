//! `dmf match`: a client file against the master file (a DMF file or a registry), with the
//! Fellegi-Sunter model of `dmf-match` (whose `client` module reads the client file), writing
//! the matches and a self-contained HTML report; with labels of clerical review, `m` refit
//! from them and calibration checked.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dmf_format::spreadsheet::write_row;
use dmf_format::{ChangeCode, FaultCounts, LenientRecord};
use dmf_match::calibrate::{self, Checked};
use dmf_match::client::{self, ClientFile, ClientOptions};
use dmf_match::labels::{self, HeldOut, PRIOR_PAIRS};
use dmf_match::master::{person_of, person_ref, read_dmf_chunks};
use dmf_match::{
    Config, Levels, Match, Model, NameTables, Outcome, Person, Prepared, PreparedBuilder, report,
};
use dmf_model::SsnDigits;
use serde_json::json;

use clap::Args;

use crate::args::{Database, Output};
use crate::progress;

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

/// Every record of a DMF file but its deletions, in chunks, to `f`, through `dmf-match`'s
/// lenient reader; the first wrong lines are named, and how many there were.
fn dmf_chunks(path: &Path, quiet: bool, f: impl FnMut(&[LenientRecord])) -> Result<FaultCounts> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let bar = progress::spinner("master records", quiet);
    let mut shown = 0;
    let read = read_dmf_chunks(
        file,
        |e| {
            shown += 1;
            if shown <= 5 {
                eprintln!("{name}:{}: skipped: {}", e.line, e.errors[0].reason);
            }
        },
        |lines| bar.set_position(lines),
        f,
    )
    .with_context(|| format!("cannot read {name}"))?;
    bar.finish_and_clear();
    if read.wrong > 0 {
        eprintln!(
            "{name}: {} wrong lines skipped (`dmf format check {name}` lists them)",
            read.wrong
        );
    }
    Ok(read.faults)
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

/// The calibration as the JSON summary carries it.
fn calibration_json(c: &Checked) -> serde_json::Value {
    let f = &c.file;
    let bands: Vec<serde_json::Value> = labels::BANDS
        .iter()
        .enumerate()
        .map(|(k, &(lo, hi))| {
            let mut band = json!({"lo": lo, "hi": hi});
            for (key, _, bands) in &c.columns {
                let b = &bands[k];
                band[*key] =
                    json!({"pairs": b.pairs, "true_matches": b.true_matches, "share": b.share()});
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
        "not_found": c.resolved.not_found,
        "not_candidates": c.resolved.not_candidates,
        "labelled_pairs": c.resolved.pairs.len(),
        "true_matches": c.true_matches,
        "prior_pairs": PRIOR_PAIRS,
        "bands": bands,
    })
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
    let review_from = report::REVIEW.0;
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
            let on_file = calibrate::Master {
                prepared: &master.prepared,
                ssns: &master.ssns,
            };
            let fetch = |wanted: &HashSet<u32>| -> Result<HashMap<u32, Person>> {
                Ok(master_records(args, &master, wanted)?
                    .iter()
                    .map(|(&i, r)| (i, person_of(r)))
                    .collect())
            };
            let resolved = calibrate::resolve_labels(
                &file, &client, &client_p, on_file, fetch, &tables, &config,
            )?;
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
        let limit = report::REVIEW_LIMIT;
        let wanted = report::shown(
            &outcome.matches,
            &client.ids,
            &master.ssns,
            args.threshold,
            limit,
        );
        let records: HashMap<u32, report::Record> = master_records(args, &master, &wanted)?
            .iter()
            .map(|(&i, r)| (i, report::Record::master(r)))
            .collect();
        let calibration = checked.as_ref().map(Checked::report);
        let html = report::html(&report::Input {
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
        summary["calibration"] = calibration_json(c);
    }
    if args.output.json {
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

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The client file: CSV with a header naming id, first, last (and ssn, middle, suffix,
    /// dob); other columns are passed through to the output.
    #[arg(long)]
    pub client: PathBuf,
    /// The dob column's format, when the data cannot tell: YYYY-MM-DD (also YYYY-MM, YYYY),
    /// YYYYMMDD, MMDDYYYY, MM/DD/YYYY, DD/MM/YYYY, MM/DD/YY or DD/MM/YY (a two-digit year is
    /// the latest such year not after today). Found from the data by default.
    #[arg(long, value_name = "FORMAT")]
    pub dob_format: Option<dmf_match::client::DobFormat>,
    /// The client file's encoding: utf-8, windows-1252 or latin-1. By default UTF-8, or
    /// windows-1252 for a file that is not UTF-8 (with a note).
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<dmf_match::client::Encoding>,
    /// The master: a DMF file (full or update).
    #[arg(long, conflicts_with = "data")]
    pub master: Option<PathBuf>,
    /// The master: a registry's data folder (what a certified subscriber may receive).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub database: Database,
    /// With --data: match only the master records changed since this cursor (new deaths,
    /// and withdrawn ones, marked `delete` in the `change` column).
    #[arg(long)]
    pub since: Option<u64>,
    /// Rename client columns: OURS=THEIRS pairs, comma-separated (e.g. dob=birth_date).
    #[arg(long)]
    pub columns: Vec<String>,
    /// The matches as CSV (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A trained model: used if the file exists, written after training otherwise.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Train even when --model exists, and overwrite it.
    #[arg(long)]
    pub train: bool,
    /// Keep each client and each master record in one match at most, the heaviest (the
    /// default; kept for scripts that give it).
    #[arg(long, conflicts_with = "many")]
    pub one_to_one: bool,
    /// Keep every pair above the threshold, not only each record's best.
    #[arg(long)]
    pub many: bool,
    /// Matches below this probability are left out.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// A self-contained HTML report: weights, m and u, waterfalls, and every pair of
    /// probability 0.05 to 0.95 for clerical review, whose decisions it exports as labels.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Labels of clerical review (CSV `client_id,ssn,label`, as the report exports): m is
    /// re-estimated from them, the pairs scored with the refit model, and calibration checked
    /// band by band of probability.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Stop at the first bad cell or ragged row instead of treating it as missing or
    /// skipping it.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub output: Output,
    /// The blocking rules, comma-separated (see docs/MATCHING.md); the default set when not
    /// given.
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    pub rules: Vec<dmf_match::Rule>,
}
