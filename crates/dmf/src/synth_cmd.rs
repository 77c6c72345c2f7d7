//! `dmf synth`: a synthetic population and the files made from it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use dmf_model::Date;
use serde_json::json;

use clap::Args;

use crate::args::Output;
use crate::progress;

pub fn run(args: &SynthArgs, quiet: bool) -> Result<ExitCode> {
    let as_of = args.as_of.unwrap_or_else(crate::today);
    if !args.overwrite {
        refuse_occupied(&args.out)?;
    }
    let mut config = dmf_synth::Config::new(args.people, args.seed, as_of);
    config.clients = args.clients;
    config.report_days = args.report_days;
    let bar = progress::bar(args.people, "people", quiet);
    let started = Instant::now();
    let summary = dmf_synth::generate(&config, &args.out, &|done| bar.set_position(done))
        .with_context(|| format!("cannot generate into {}", args.out.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = args.people as f64 / seconds.max(1e-9);
    if args.output.json {
        let value = json!({
            "out": args.out.display().to_string(),
            "seed": args.seed,
            "as_of": as_of.to_string(),
            "people": summary.people,
            "deaths": summary.deaths,
            "dmf_records": summary.dmf_records,
            "reports": summary.reports,
            "erroneous_reports": summary.erroneous_reports,
            "clients": summary.clients,
            "clients_in_dmf": summary.clients_in_dmf,
            "seconds": seconds,
            "people_per_second": rate.round(),
        });
        println!("{value}");
    } else {
        println!(
            "{}: {} people, {} deaths, {} DMF records, {} new reports ({} erroneous), \
             {} clients ({} in the DMF), as of {as_of}, seed {}, in {seconds:.2} s ({rate:.0} people/s)",
            args.out.display(),
            summary.people,
            summary.deaths,
            summary.dmf_records,
            summary.reports,
            summary.erroneous_reports,
            summary.clients,
            summary.clients_in_dmf,
            args.seed,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a folder that holds a registry or files other than an earlier run's: synthetic
/// files dropped among a registry's or someone's own are easily mistaken for real input.
fn refuse_occupied(out: &std::path::Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(()); // missing (created), or not a folder (refused when written)
    };
    let mut others = Vec::new();
    for entry in entries {
        let name = entry
            .with_context(|| format!("cannot list {}", out.display()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !dmf_synth::FILES.contains(&name.as_str()) {
            others.push(name);
        }
    }
    others.sort();
    let registry = others
        .iter()
        .any(|n| n == dmf_registry::STORE_FILE || n == dmf_ledger::log::LOG_DIR);
    if registry {
        anyhow::bail!(
            "--out {} holds a registry: write the synthetic files elsewhere, or give --overwrite",
            out.display()
        );
    }
    if !others.is_empty() {
        const SHOWN: usize = 5;
        let more = others.len().saturating_sub(SHOWN);
        anyhow::bail!(
            "--out {} holds other files ({}{}): write the synthetic files elsewhere, or give --overwrite",
            out.display(),
            others[..others.len().min(SHOWN)].join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// How many people hold an SSN in the synthetic population.
    #[arg(long, default_value_t = 100_000)]
    pub people: u64,
    /// Seed: the same seed, size and date give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The folder to write into (created if missing). A folder holding a registry or files
    /// other than an earlier run's is refused unless --overwrite.
    #[arg(long)]
    pub out: PathBuf,
    /// Write into a folder that holds a registry or other files (the synthetic files of the
    /// same names are replaced; nothing else is touched).
    #[arg(long)]
    pub overwrite: bool,
    /// The day the population is drawn up to, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<Date>,
    /// Customers in client.csv (default: a tenth of the people).
    #[arg(long)]
    pub clients: Option<u64>,
    /// Days of new death reports in reports.ndjson, received after dmf.txt was cut.
    #[arg(long, default_value_t = 30)]
    pub report_days: u32,
    #[command(flatten)]
    pub output: Output,
}
