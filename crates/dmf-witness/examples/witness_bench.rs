//! The witness's round trip: N sequential `add-checkpoint` requests for a growing tree, each
//! with its real consistency proof, sent by the client to a witness served on 127.0.0.1; as
//! the baseline, the same client's `GET /` on the same server; the witness's own work without
//! HTTP, on a folder of its own; and what replacing its state file durably costs alone.
//!
//! `cargo run --release -p dmf-witness --example witness_bench -- [N]` (default 2000). The
//! witness's folders are made in the system's temporary folder (`TMPDIR`): its state is
//! synced to that disk at each cosignature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dmf_log::{AddCheckpoint, Checkpoint, MemoryTree, SigningKey, consistency_proof, leaf_hash};
use dmf_witness::client::{self, WitnessAnswer};
use dmf_witness::{Witness, server};

const ORIGIN: &str = "bench.example/log";
/// The tree the first checkpoint covers, and the leaves each next one adds.
const START: u64 = 100_000;
const STEP: u64 = 7;

/// The requests, in order: the first from size 0, then each from the one before.
fn requests(n: usize) -> Vec<AddCheckpoint> {
    let key = SigningKey::from_seed(ORIGIN, [7; 32]).unwrap();
    let total = START + STEP * n as u64;
    let tree: MemoryTree = (0..total).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let note = |size| {
        key.sign(&Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: dmf_log::root(&tree, size).unwrap(),
            extensions: Vec::new(),
        })
    };
    let mut out = vec![AddCheckpoint {
        old: 0,
        proof: Vec::new(),
        note: note(START),
    }];
    for i in 0..n as u64 {
        let (old, new) = (START + STEP * i, START + STEP * (i + 1));
        out.push(AddCheckpoint {
            old,
            proof: consistency_proof(&tree, old, new).unwrap(),
            note: note(new),
        });
    }
    out
}

fn witness(dir: &std::path::Path) -> Witness {
    let log = SigningKey::from_seed(ORIGIN, [7; 32]).unwrap().verifier();
    Witness::open(dir, Some("bench.example/witness"), vec![log]).unwrap()
}

/// Median, 99th percentile and calls a second of a run's timings.
fn report(what: &str, mut times: Vec<Duration>, total: Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<36} median {:>7.3} ms   p99 {:>7.3} ms   {:>8.0} requests/s",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.len() as f64 / total.as_secs_f64()
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N, a number of requests"))
        .unwrap_or(2000);
    let all = requests(n);
    let (first, rest) = all.split_first().unwrap();
    let proof_lines: usize = rest.iter().map(|r| r.proof.len()).sum();
    println!(
        "{n} checkpoints from {START} leaves, {STEP} more each, {:.1} proof lines a request",
        proof_lines as f64 / n as f64
    );

    let dir = tempfile::tempdir().unwrap();
    let served = Arc::new(witness(dir.path()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn({
        let served = served.clone();
        move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    server::serve(served, listener, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
                })
        }
    });
    let agent = client::agent();
    assert!(matches!(
        client::add_checkpoint(&agent, &base, first).unwrap(),
        WitnessAnswer::Cosigned(_)
    ));

    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    for request in rest {
        let t = Instant::now();
        let answer = client::add_checkpoint(&agent, &base, request).unwrap();
        times.push(t.elapsed());
        assert!(matches!(answer, WitnessAnswer::Cosigned(_)), "{answer:?}");
    }
    report("add-checkpoint over HTTP", times, started.elapsed());

    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let mut page = agent.get(format!("{base}/")).call().unwrap();
        let body = page.body_mut().read_to_string().unwrap();
        times.push(t.elapsed());
        assert!(body.contains(ORIGIN));
    }
    report("baseline: GET / over HTTP", times, started.elapsed());
    let _ = stop.send(());
    server.join().unwrap();

    // The same requests to a witness of its own, without HTTP.
    let dir = tempfile::tempdir().unwrap();
    let core = witness(dir.path());
    let bodies: Vec<String> = all.iter().map(AddCheckpoint::to_text).collect();
    assert_eq!(core.add_checkpoint(bodies[0].as_bytes()).status, 200);
    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    for body in &bodies[1..] {
        let t = Instant::now();
        let answer = core.add_checkpoint(body.as_bytes());
        times.push(t.elapsed());
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    report("add-checkpoint without HTTP", times, started.elapsed());

    // What storing the state costs alone: a file of a stored state's length replaced as the
    // witness replaces it (written, synced, renamed, the folder synced).
    let state = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read(&state).unwrap();
    let (path, tmp) = (dir.path().join("replaced"), dir.path().join("replaced.tmp"));
    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let mut f = std::fs::File::create(&tmp).unwrap();
        std::io::Write::write_all(&mut f, &text).unwrap();
        f.sync_all().unwrap();
        drop(f);
        std::fs::rename(&tmp, &path).unwrap();
        std::fs::File::open(dir.path()).unwrap().sync_all().unwrap();
        times.push(t.elapsed());
    }
    report(
        "baseline: the durable replace alone",
        times,
        started.elapsed(),
    );
}
