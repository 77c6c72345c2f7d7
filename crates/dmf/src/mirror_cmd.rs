//! `dmf mirror`: follows a registry's feed of DMF change records into a local registry through
//! `dmf-mirror`, so that `dmf verify --data DIR` answers from a copy kept up to date; prints
//! each page once it is durable.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use dmf_mirror::{Feed, Mirror, base_url};
use dmf_registry::ImportSummary;
use serde_json::json;

use clap::Args;

use crate::args::{Output, Today};
use crate::registry_cmd::now_ms;

/// The least time between two polls that found nothing, whatever the server's wait.
const MIN_POLL: Duration = Duration::from_secs(1);

pub fn run(args: &MirrorArgs, _quiet: bool) -> Result<ExitCode> {
    let from = base_url(&args.from)?;
    let mut mirror = Mirror::open(&args.data, &from)?;
    // --once asks for what is there now, not for what may come.
    let wait = if args.once { 0 } else { args.wait };
    let feed = Feed::new(&from, &args.key, wait, !args.once);
    loop {
        let after = mirror.cursor();
        let started = Instant::now();
        let page = feed.page(after, wait)?;
        let records = mirror.check(&page)?;
        if page.cursor == after {
            if args.once {
                break;
            }
            // A server that does not hold requests open is not polled in a tight loop.
            std::thread::sleep(MIN_POLL.saturating_sub(started.elapsed()));
            continue;
        }
        let today = args.today.get();
        let summary = mirror.apply(&records, page.cursor, today, now_ms())?;
        print_page(args.output.json, after, page.cursor, &summary)?;
        // Acknowledged only once applied and saved: the server may count on it.
        feed.ack(page.cursor)?;
    }
    // The pages are applied and saved: a snapshot that cannot be written costs the next start
    // its time, not this run its result.
    let snapshot = mirror.snapshot().unwrap_or_else(|e| {
        eprintln!("warning: no index snapshot written: {e}");
        None
    });
    if !args.output.json {
        println!("{from}: up to date at cursor {}", mirror.cursor());
        if let Some(w) = snapshot {
            println!(
                "index snapshot at tree size {}: {} people",
                w.size, w.people
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_page(json: bool, after: u64, cursor: u64, s: &ImportSummary) -> Result<()> {
    let rejects = s.rejects_file.as_ref().map(|p| p.display().to_string());
    let mut out = std::io::stdout().lock();
    if json {
        let line = json!({
            "after": after,
            "cursor": cursor,
            "records": s.records,
            "events_added": s.events_added,
            "already_applied": s.already_imported,
            "rejected": s.rejected,
            "rejects_file": rejects,
        });
        writeln!(out, "{line}")?;
    } else {
        writeln!(
            out,
            "cursor {after} to {cursor}: {} records, {} events added, {} already applied, {} rejected{}",
            s.records,
            s.events_added,
            s.already_imported,
            s.rejected,
            rejects.map_or(String::new(), |p| format!(" (reasons in {p})")),
        )?;
    }
    // Whoever reads the output learns of each page as soon as it is durable.
    out.flush()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The registry's base URL, such as http://registry.example:8080 (plain HTTP).
    #[arg(long)]
    pub from: String,
    /// An API key whose role may read the feed.
    #[arg(long)]
    pub key: String,
    /// The local data folder (a registry is created in it if it has none).
    #[arg(long)]
    pub data: PathBuf,
    /// Seconds the server may hold each request open while nothing is new.
    #[arg(long, default_value_t = 25)]
    pub wait: u64,
    /// Fetch until the feed has nothing new, then exit.
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}
