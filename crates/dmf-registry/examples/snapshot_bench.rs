//! Measures the index snapshot of a registry against rebuilding the index from its events, in
//! the same run: the time of each, the file's bytes a person, and the resident bytes a person
//! each way. Writes the data folder's snapshot (at the log's latest signed checkpoint, which
//! must be the store's last event: `dmf log checkpoint` signs it).
//!
//!     cargo run --release -p dmf-registry --example snapshot_bench -- DATA_DIR

use std::time::Instant;

use dmf_registry::Registry;

/// Resident memory of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: snapshot_bench DATA_DIR");
    let registry = Registry::open(dir.as_ref()).expect("open the registry");

    let before = resident();
    let started = Instant::now();
    let rebuilt = registry.rebuild_index().expect("rebuild the index");
    let rebuild = started.elapsed().as_secs_f64();
    let rebuilt_bytes = resident().saturating_sub(before);
    let people = rebuilt.len().max(1) as f64;

    let started = Instant::now();
    let written = registry
        .write_snapshot(&rebuilt)
        .expect("write the snapshot");
    let write = started.elapsed().as_secs_f64();
    let head = rebuilt.head;
    drop(rebuilt);

    let before = resident();
    let started = Instant::now();
    let (read, start) = registry.open_index().expect("read the snapshot");
    let load = started.elapsed().as_secs_f64();
    let read_bytes = resident().saturating_sub(before);
    assert_eq!(start.snapshot, Some(head), "{start}");
    assert_eq!(read.head, head);

    println!("events: {head}, people: {}", read.len());
    println!(
        "rebuilt from events: {rebuild:.2} s ({:.0} events/s), {:.1} resident bytes a person",
        head as f64 / rebuild,
        rebuilt_bytes as f64 / people
    );
    println!(
        "snapshot written: {write:.2} s, {} bytes = {:.1} bytes a person on disk",
        written.bytes,
        written.bytes as f64 / people
    );
    println!(
        "started from the snapshot: {load:.2} s, {:.1} resident bytes a person ({:.1} times faster than the rebuild)",
        read_bytes as f64 / people,
        rebuild / load
    );
}
