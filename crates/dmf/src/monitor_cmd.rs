//! `dmf monitor`: a loop over `dmf-monitor`'s passes against a registry's public log, printing
//! each pass as text or one JSON object, and exiting with the pass's status (0 nothing found,
//! 1 intake alerts only, 2 misbehaviour, 3 could not check).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use dmf_log::{CosignerVerifier, Policy};
use dmf_monitor::{Config, Monitor, Report, Trust, base_url};

use crate::args::{AlertArgs, Output};
use crate::log_cmd::{read_checkpoint, verifier};
use crate::progress;

/// The status of a monitor that could not run at all: it checked nothing.
const UNCHECKED: u8 = 3;

pub fn run(args: &MonitorArgs, quiet: bool) -> Result<ExitCode> {
    match monitor(args, quiet) {
        Ok(code) => Ok(code),
        // The reader went away (`dmf monitor ... | head`): nothing more to tell.
        Err(e) if crate::is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        // Exit 2 means misbehaviour found; a monitor that cannot start checked nothing.
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("dmf: error: {}", crate::error_text(&e));
            Ok(ExitCode::from(UNCHECKED))
        }
    }
}

fn monitor(args: &MonitorArgs, quiet: bool) -> Result<ExitCode> {
    let config = config(args)?;
    let mut monitor = Monitor::open(config, args.state.as_deref())?;
    let bar = progress::bar(0, "leaves", quiet || args.output.json);
    let show = |read: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(read);
    };
    loop {
        let started = Instant::now();
        bar.reset();
        let report = monitor.pass(&show)?;
        bar.finish_and_clear();
        print(&report, args.output.json)?;
        let Some(every) = args.follow else {
            return Ok(ExitCode::from(report.exit));
        };
        // One pass every SECS, until interrupted.
        std::thread::sleep(Duration::from_secs(every).saturating_sub(started.elapsed()));
    }
}

/// The arguments turned into what the monitor works with: keys, policy and files read.
fn config(args: &MonitorArgs) -> Result<Config> {
    let urls = (args.urls.iter())
        .map(|u| base_url(u).map_err(anyhow::Error::msg).context("--url"))
        .collect::<Result<Vec<_>>>()?;
    let log = verifier(&args.key)?;
    let policy = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(Policy::parse(&text).with_context(|| format!("--policy {}", path.display()))?)
        }
        None => None,
    };
    let witnesses = (args.witnesses.iter())
        .map(|w| witness(w))
        .collect::<Result<Vec<_>>>()?;
    let trust = Trust::new(log, policy, witnesses).context("--policy")?;
    let checkpoints = (args.checkpoints.iter())
        .map(|p| Ok((p.display().to_string(), read_checkpoint(p)?)))
        .collect::<Result<Vec<_>>>()?;
    anyhow::ensure!(args.fetchers > 0, "--fetchers must be at least 1");
    Ok(Config {
        urls,
        trust,
        checkpoints,
        thresholds: args.thresholds.thresholds()?,
        workers: args.fetchers,
        timeout: Duration::from_secs(args.timeout),
    })
}

/// A witness's cosigner key given as its text or as a file holding it.
fn witness(arg: &str) -> Result<CosignerVerifier> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_owned()
    };
    CosignerVerifier::parse(&text).with_context(|| format!("--witness {arg:?}"))
}

fn print(report: &Report, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
    } else {
        out.write_all(report.text().as_bytes())?;
    }
    // Whoever follows the output learns of each pass as it ends.
    out.flush()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The registry's base URL (it serves /log/checkpoint and /log/tile/...); several are
    /// nodes or mirrors of one log, each checked against the others.
    #[arg(long = "url", value_name = "URL", required = true)]
    pub urls: Vec<String>,
    /// The log's verifier key (its text, or a file holding it, such as the registry's
    /// log/key.pub).
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// A witness's cosigner key (type 0x04; text or file) that must have cosigned every
    /// checkpoint. Repeat for each.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// A C2SP tlog-policy file: the checkpoint must carry its quorum of cosignatures.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Where the monitor keeps what it verified, to resume from (FILE and FILE.hashes). Without
    /// it, each run starts from nothing.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Keep going: one pass every SECS seconds, until interrupted.
    #[arg(long, value_name = "SECS")]
    pub follow: Option<u64>,
    /// A signed checkpoint note seen elsewhere (a file), held against the log. Repeat for each.
    #[arg(long = "checkpoint", value_name = "FILE")]
    pub checkpoints: Vec<PathBuf>,
    /// Entry bundles fetched at a time.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub fetchers: usize,
    /// Seconds one request may take.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    #[command(flatten)]
    pub thresholds: AlertArgs,
    #[command(flatten)]
    pub output: Output,
}
