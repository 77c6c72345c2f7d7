//! `dmf snapshot`: the answer index written at the log's latest signed checkpoint, so that the
//! next start reads it and replays only the events after it.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::args::{Output, RegistryArgs};

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: Output,
}

/// Loads the index (from the snapshot there and the events after it, or from every event) and
/// writes it as the data folder's snapshot.
pub fn snapshot(args: &SnapshotArgs) -> Result<ExitCode> {
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    if registry.shared() {
        anyhow::bail!(
            "a registry in a shared database keeps no index snapshot: each node loads the index from the events"
        );
    }
    let started = Instant::now();
    let (index, start) = registry.open_index()?;
    let loaded = started.elapsed();
    let started = Instant::now();
    let written = registry.write_snapshot(&index)?;
    let wrote = started.elapsed();
    let per_person = written.bytes as f64 / (written.people.max(1)) as f64;
    if args.output.json {
        println!(
            "{}",
            json!({
                "path": registry.snapshot_path().display().to_string(),
                "size": written.size,
                "people": written.people,
                "bytes": written.bytes,
                "loaded": start.to_string(),
                "load_seconds": loaded.as_secs_f64(),
                "write_seconds": wrote.as_secs_f64(),
            })
        );
    } else {
        println!("index loaded {start} in {:.1} s", loaded.as_secs_f64());
        println!(
            "snapshot at tree size {}: {} people, {} bytes ({per_person:.1} a person), written in {:.1} s to {}",
            written.size,
            written.people,
            written.bytes,
            wrote.as_secs_f64(),
            registry.snapshot_path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
