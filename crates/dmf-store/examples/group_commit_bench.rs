//! Durable events per second on a real SQLite file: one transaction per event (the baseline)
//! against group commit with many concurrent writers, in the same run.
//!
//!     cargo run --release -p dmf-store --example group_commit_bench -- [THREADS] [EVENTS_PER_THREAD]

use std::sync::Arc;
use std::time::Instant;

use dmf_store::{EventStore, GroupCommit, NewEvent, SqliteStore};

fn event(i: u64) -> NewEvent {
    NewEvent {
        kind: "death_report".into(),
        subject: Some(100_000_000 + (i as u32 % 800_000_000)),
        idempotency_key: Some(format!("bench-{i}")),
        recorded_at: 1_764_000_000_000,
        body: format!(
            r#"{{"ssn":"{:09}","first":"ANN","last":"LEE","dod":"2026-11-01","source":"state","evidence":["EDRS-{i}"]}}"#,
            100_000_000 + i
        )
        .into_bytes(),
        mac: Some(vec![0; 32]),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(64);
    let per_thread: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let dir = tempfile::tempdir().expect("temp dir");

    let single = SqliteStore::open(&dir.path().join("single.sqlite")).expect("open");
    let n = 2_000;
    let started = Instant::now();
    for i in 0..n {
        single.append(&[event(i)]).expect("append");
    }
    let baseline = n as f64 / started.elapsed().as_secs_f64();

    let store: Arc<dyn EventStore> =
        Arc::new(SqliteStore::open(&dir.path().join("group.sqlite")).expect("open"));
    let group = Arc::new(GroupCommit::new(store.clone()));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let group = group.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    group
                        .append(vec![event(t * per_thread + i)])
                        .expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread");
    }
    let total = threads * per_thread;
    let grouped = total as f64 / started.elapsed().as_secs_f64();
    assert_eq!(store.head().expect("head"), total);
    println!("one transaction per event: {baseline:.0} durable events/s ({n} events)");
    println!("group commit, {threads} writers: {grouped:.0} durable events/s ({total} events)");
    println!("ratio: {:.1}x", grouped / baseline);
}
