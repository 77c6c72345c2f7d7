//! Messages read a second on one core: the guide's submission message (67 KB) read one at a
//! time, and a batch Bundle of 10,000 copies read in one call, each beside
//! `serde_json::from_slice::<Value>` of the same bytes in the same run.
//!
//! `cargo run --release -p dmf-vrdr --example read_bench [REPETITIONS]` (default 5; the batch
//! is read REPETITIONS / 2 + 1 times, its baseline once, for memory). Figures are medians.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dmf_vrdr::{Incoming, read};

const MESSAGE: &[u8] = include_bytes!("../testdata/vrdr/DeathRecordSubmissionMessage.json");
const ONE_AT_A_TIME: usize = 20_000;
const BATCH: usize = 10_000;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median time of `repetitions` runs of `work`.
fn measure(repetitions: usize, mut work: impl FnMut()) -> Duration {
    median(
        (0..repetitions)
            .map(|_| {
                let start = Instant::now();
                work();
                start.elapsed()
            })
            .collect(),
    )
}

fn per_second(count: usize, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64()
}

fn report(what: &str, count: usize, ours: Duration, baseline: Duration) {
    let (a, b) = (per_second(count, ours), per_second(count, baseline));
    println!(
        "{what}: dmf-vrdr {a:>8.0} messages/s, Value {b:>8.0} messages/s, ratio {:.2}",
        a / b
    );
}

fn one_at_a_time(bytes: &[u8]) -> usize {
    let mut accepted = 0;
    for _ in 0..ONE_AT_A_TIME {
        if let Ok(Incoming::One(Ok(_))) = read(black_box(bytes)) {
            accepted += 1;
        }
    }
    accepted
}

fn main() {
    let repetitions: usize = std::env::args()
        .nth(1)
        .map_or(5, |a| a.parse().expect("REPETITIONS is a number"));
    println!(
        "{} bytes a message; {ONE_AT_A_TIME} reads one at a time, a batch of {BATCH}; medians of {repetitions}",
        MESSAGE.len()
    );

    // The guide's example as published: its Parameters and its document name different
    // records, so it is refused, after being read whole.
    let mut accepted = 0;
    let ours = measure(repetitions, || accepted = one_at_a_time(MESSAGE));
    assert_eq!(accepted, 0);
    let baseline = measure(repetitions, || {
        for _ in 0..ONE_AT_A_TIME {
            black_box(
                serde_json::from_slice::<serde_json::Value>(black_box(MESSAGE)).expect("JSON"),
            );
        }
    });
    report(
        "one at a time, as published (refused)",
        ONE_AT_A_TIME,
        ours,
        baseline,
    );

    // The same message with its Parameters made to agree with its document: accepted.
    let agreeing = String::from_utf8(MESSAGE.to_vec())
        .expect("UTF-8")
        .replacen(
            "\"valueUnsignedInt\": 123456",
            "\"valueUnsignedInt\": 182",
            1,
        )
        .replacen(
            "\"valueUnsignedInt\": 2018",
            "\"valueUnsignedInt\": 2020",
            1,
        )
        .into_bytes();
    let ours = measure(repetitions, || accepted = one_at_a_time(&agreeing));
    assert_eq!(accepted, ONE_AT_A_TIME);
    report(
        "one at a time, agreeing (accepted)",
        ONE_AT_A_TIME,
        ours,
        baseline,
    );

    let mut batch = Vec::with_capacity(BATCH * (agreeing.len() + 20) + 64);
    batch.extend_from_slice(br#"{"resourceType":"Bundle","type":"batch","entry":["#);
    for i in 0..BATCH {
        if i > 0 {
            batch.push(b',');
        }
        batch.extend_from_slice(br#"{"resource":"#);
        batch.extend_from_slice(&agreeing);
        batch.push(b'}');
    }
    batch.extend_from_slice(b"]}");
    let ours = measure(repetitions / 2 + 1, || match read(black_box(&batch)) {
        Ok(Incoming::Batch(messages)) => {
            assert!(messages.iter().all(Result::is_ok));
            black_box(messages);
        }
        other => panic!("{other:?}"),
    });
    let baseline = measure(1, || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&batch)).expect("JSON"));
    });
    println!("batch body: {} MB", batch.len() / 1_000_000);
    report("batch of 10,000 (accepted)", BATCH, ours, baseline);
}
