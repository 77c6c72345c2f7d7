//! Benchmarks of making public leaves: the keyed commitments and the canonical JSON of one
//! event, and a whole batch on every core as the writer does it; and of the writer's MAC on one
//! event, which it makes on its own thread as it stores the event.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use dmf_ledger::leaf::{EventRef, LeafKey, leaf};
use dmf_registry::public::leaf_fields;

fn main() {
    divan::main();
}

const REPORT: &str = r#"{"ssn":"123456789","first":"Margaret","middle":"Ann","last":"Oconnell","dob":"1931-02-11","dod":"2026-11-02","source":"state","evidence":["EDRS-OH-2026-118812"],"verification":"1","received":"2026-11-20","origin":"import"}"#;

fn event(seq: u64) -> EventRef<'static> {
    EventRef {
        seq,
        kind: "death_report",
        subject: Some(123_456_789),
        idempotency_key: None,
        recorded_at: 1_764_000_000_000,
        body: REPORT.as_bytes(),
    }
}

/// One leaf: its commitments, its JSON and its hash.
#[divan::bench]
fn one_death_report_leaf(bencher: Bencher) {
    let key = LeafKey::new(&[7; 32]);
    let mut seq = 0;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        seq += 1;
        dmf_log::leaf_hash(&leaf(&key, leaf_fields, black_box(event(seq))).unwrap())
    });
}

/// One event's MAC, following the MAC of the event before.
#[divan::bench]
fn one_death_report_mac(bencher: Bencher) {
    let key = dmf_ledger::mac::MacKey::new(&[7; 32]);
    let mut seq = 0;
    let mut prev = [0; 32];
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        seq += 1;
        prev = key.of(Some(&prev), black_box(event(seq)));
        prev
    });
}

/// A batch of 20,000 leaf hashes on every core, as the writer makes them after a commit.
#[divan::bench]
fn batch_of_20000_leaf_hashes(bencher: Bencher) {
    let key = LeafKey::new(&[7; 32]);
    let events: Vec<EventRef<'static>> = (1..=20_000).map(event).collect();
    bencher
        .counter(ItemsCount::new(events.len()))
        .bench(|| dmf_ledger::leaf_hashes(&key, leaf_fields, black_box(&events)).unwrap());
}
