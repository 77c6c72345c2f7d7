//! `dmf synth`: a synthetic population and the files made from it.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use dmf_model::Date;
use serde_json::json;

use crate::{SynthArgs, progress};

pub fn run(args: &SynthArgs, quiet: bool) -> Result<ExitCode> {
    let as_of = match &args.as_of {
        Some(text) => text
            .parse::<Date>()
            .with_context(|| format!("--as-of {text:?}"))?,
        None => crate::today(),
    };
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
    if args.json {
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
