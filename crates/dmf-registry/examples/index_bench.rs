//! Measures the in-memory answer index of a registry: time to rebuild it from the events,
//! resident bytes per person, identity lookups per second on one core, and against the rebuild
//! in the same run, its snapshot: the time to write it (the data folder's, at the log's latest
//! signed checkpoint, which must be the store's last event: `dmf log checkpoint` signs it), its
//! bytes a person on disk, and the time and resident bytes of a start from it.
//!
//!     cargo run --release -p dmf-registry --example index_bench -- DATA_DIR [LOOKUPS]

use std::time::Instant;

use dmf_model::Ssn;
use dmf_registry::Registry;
use dmf_registry::answers::{self, IdentityQuery};

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
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: index_bench DATA_DIR [LOOKUPS]");
    let lookups: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000_000);
    let registry = Registry::open(dir.as_ref()).expect("open the registry");
    let before = resident();
    let started = Instant::now();
    let index = registry.rebuild_index().expect("rebuild the index");
    let load = started.elapsed().as_secs_f64();
    let bytes = resident().saturating_sub(before);
    let people = index.len().max(1);

    // Queries: SSNs on file with their own names, in a scrambled order.
    let mut queries: Vec<IdentityQuery> = Vec::new();
    for (ssn, state) in index.iter().take(1_000_000) {
        if let Some(id) = &state.identity {
            queries.push(IdentityQuery {
                ssn: Ssn::from_number(ssn).expect("valid"),
                first: id.first.to_string(),
                last: id.last.to_string(),
                dob: id.dob.unwrap_or_else(|| "1900".parse().expect("valid")),
            });
        }
    }
    assert!(!queries.is_empty(), "the registry holds nobody");
    let started = Instant::now();
    let mut deceased = 0usize;
    for i in 0..lookups {
        // Queries in turn (as requests arrive); the SSNs they ask about are scattered.
        let q = &queries[i % queries.len()];
        deceased += usize::from(answers::identity(q, index.get(q.ssn)).deceased);
    }
    let secs = started.elapsed().as_secs_f64();
    println!("events: {}", index.head);
    println!("people in the index: {people}");
    println!(
        "index rebuilt from events in {load:.2} s ({:.0} events/s)",
        index.head as f64 / load
    );
    println!(
        "resident bytes per person: {:.0}",
        bytes as f64 / people as f64
    );
    println!(
        "identity lookups: {lookups} in {secs:.2} s = {:.2} M/s on one core ({deceased} deceased answers)",
        lookups as f64 / secs / 1e6
    );

    let started = Instant::now();
    let written = registry.write_snapshot(&index).expect("write the snapshot");
    let write = started.elapsed().as_secs_f64();
    let head = index.head;
    drop(queries);
    drop(index);
    let before = resident();
    let started = Instant::now();
    let (read, start) = registry.open_index().expect("start from the snapshot");
    let from_snapshot = started.elapsed().as_secs_f64();
    let read_bytes = resident().saturating_sub(before);
    assert_eq!((start.snapshot, read.head), (Some(head), head), "{start}");
    println!(
        "snapshot written in {write:.2} s: {} bytes = {:.1} bytes a person on disk",
        written.bytes,
        written.bytes as f64 / people as f64
    );
    println!(
        "index started from the snapshot in {from_snapshot:.2} s ({:.1} times faster than the rebuild), {:.0} resident bytes a person",
        load / from_snapshot,
        read_bytes as f64 / people as f64
    );
}
