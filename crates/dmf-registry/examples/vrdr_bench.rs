//! Measures FHIR VRDR intake without HTTP: messages read, checked against the person on file,
//! stored durably and answered, one message a transaction and a `batch` of many in one, each
//! against parsing the same bytes into a `serde_json::Value` in the same run. The messages are
//! the reference library's `DeathRecordSubmissionMessage.json` (67 KB), each naming another
//! numberholder imported first.
//!
//!     cargo run --release -p dmf-registry --example vrdr_bench -- [MESSAGES] [SINGLES] [compact]
//!
//! Messages are written indented as the fixture is (67 KB), or with `compact` on one line
//! (29 KB).

use std::time::Instant;

use dmf_registry::{Registry, vrdr};
use dmf_vrdr::CertificateKey;
use dmf_vrdr::testing::{self, Decedent, Edit};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dmf-vrdr/testdata/vrdr/DeathRecordSubmissionMessage.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture")).expect("JSON")
}

/// A last name of letters only, different for each `i`.
fn surname(mut i: usize) -> String {
    let mut s = String::from("Q");
    for _ in 0..5 {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
    }
    s
}

fn ssn(i: usize) -> String {
    format!(
        "{:03}{:02}{:04}",
        100 + i / 9_999 % 500,
        1 + i / 9_999 / 500,
        1 + i % 9_999
    )
}

/// The fixture as the `i`th message: its own header id, certificate number and decedent.
fn message(template: &Value, i: usize) -> Value {
    let mut m = template.clone();
    let (ssn, family) = (ssn(i), surname(i));
    let edit = Edit {
        id: &format!("bench-{i}"),
        record: CertificateKey {
            jurisdiction: "NY".parse().expect("NY"),
            year: 2026 - (i / 1_000_000) as u16,
            number: (i % 1_000_000) as u32,
        },
        decedent: Some(Decedent {
            ssn: &ssn,
            given: "Ann",
            family: &family,
            birth: "1950-03-04",
        }),
        death: Some("2026-11-01"),
    };
    testing::edit(&mut m, &edit);
    m
}

fn per_second(n: usize, secs: f64) -> String {
    format!("{:.0}/s", n as f64 / secs)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(10_000, |a| a.parse().expect("MESSAGES"));
    let singles: usize = args.next().map_or(1_000, |a| a.parse().expect("SINGLES"));
    let compact = args.next().is_some_and(|a| a == "compact");
    let today: dmf_model::Date = "2026-12-01".parse().expect("date");
    let dir = tempfile::tempdir().expect("temp");
    let people = dir.path().join("people.csv");
    let mut csv = String::from("ssn,first,middle,last,suffix,sex,dob,birth_state\n");
    for i in 0..n + 2 * singles {
        csv.push_str(&format!(
            "{},Ann,,{},,F,1950-03-04,NY\n",
            ssn(i),
            surname(i)
        ));
    }
    std::fs::write(&people, csv).expect("people");
    let reg = Registry::init(&dir.path().join("data"), None).expect("registry");
    dmf_registry::import_file(&reg, &people, today, 0, &|_| {}).expect("import");

    let template = fixture();
    let bodies: Vec<Vec<u8>> = (0..n + 2 * singles)
        .map(|i| {
            let m = message(&template, i);
            if compact {
                serde_json::to_vec(&m)
            } else {
                serde_json::to_vec_pretty(&m)
            }
            .expect("JSON")
        })
        .collect();
    let size = bodies[0].len();

    // Baseline: the same bytes into a JSON tree, nothing else.
    let started = Instant::now();
    for b in &bodies[..n] {
        std::hint::black_box(serde_json::from_slice::<Value>(b).expect("JSON"));
    }
    let tree = started.elapsed().as_secs_f64();

    // Reading alone.
    let started = Instant::now();
    for b in &bodies[..n] {
        std::hint::black_box(vrdr::read(b));
    }
    let read = started.elapsed().as_secs_f64();

    // A batch: one body of `n` messages, read, checked, stored in one transaction, answered.
    let mut batch = Vec::with_capacity(n * (size + 32));
    batch.extend_from_slice(br#"{"resourceType":"Bundle","type":"batch","entry":["#);
    for (i, b) in bodies[..n].iter().enumerate() {
        if i > 0 {
            batch.push(b',');
        }
        batch.extend_from_slice(br#"{"resource":"#);
        batch.extend_from_slice(b);
        batch.push(b'}');
    }
    batch.extend_from_slice(b"]}");
    let started = Instant::now();
    let r = vrdr::read(&batch);
    let read_batch = started.elapsed().as_secs_f64();
    let answers = vrdr::store_and_answer(&reg, &r, None, today, 0).expect("stored");
    let stored = started.elapsed().as_secs_f64() - read_batch;
    let deceased = answers
        .iter()
        .filter(|a| a.summary.starts_with("deceased"))
        .count();
    let body = serde_json::to_vec(&vrdr::response(r.batch, answers, 0)).expect("JSON");
    let batched = started.elapsed().as_secs_f64();
    assert_eq!(deceased, n, "every message recorded a death");

    // One message a request: each read, checked, stored in a transaction of its own, answered.
    let started = Instant::now();
    for b in &bodies[n..n + singles] {
        let r = vrdr::read(b);
        let a = vrdr::store_and_answer(&reg, &r, None, today, 0).expect("stored");
        std::hint::black_box(serde_json::to_vec(&vrdr::response(r.batch, a, 0)).expect("JSON"));
    }
    let single = started.elapsed().as_secs_f64();

    // Requests of one message each from 16 senders at once, as the server stores the bodies
    // waiting for its writer: each group in one transaction, each body answered on its own.
    let grouped_bodies = &bodies[n + singles..];
    let started = Instant::now();
    for group in grouped_bodies.chunks(16) {
        let reads: Vec<vrdr::Read> = group.iter().map(|b| vrdr::read(b)).collect();
        let with: Vec<(&vrdr::Read, Option<dmf_vrdr::Jurisdiction>)> =
            reads.iter().map(|r| (r, None)).collect();
        let all = vrdr::store_and_answer_all(&reg, &with, today, 0).expect("stored");
        for (r, a) in reads.iter().zip(all) {
            std::hint::black_box(serde_json::to_vec(&vrdr::response(r.batch, a, 0)).expect("JSON"));
        }
    }
    let grouped = started.elapsed().as_secs_f64();

    println!(
        "message: {size} bytes; batch body: {} MB, answer {} KB",
        batch.len() >> 20,
        body.len() >> 10
    );
    println!("serde_json to a Value (baseline): {}", per_second(n, tree));
    println!(
        "read (dmf-vrdr):                  {}  ({:.2}x the baseline's time)",
        per_second(n, read),
        read / tree
    );
    println!(
        "a batch of {n}, read+checked+stored+answered: {}  ({:.2}x the baseline's time)",
        per_second(n, batched),
        batched / tree
    );
    println!(
        "  of which reading {:.0}%, checking, storing and answering {:.0}%, writing the answer {:.0}%",
        100.0 * read_batch / batched,
        100.0 * stored / batched,
        100.0 * (batched - read_batch - stored) / batched
    );
    println!(
        "{singles} single messages, a durable transaction each: {}",
        per_second(singles, single)
    );
    println!(
        "{singles} single messages from 16 senders at once, a transaction for each 16: {}",
        per_second(grouped_bodies.len(), grouped)
    );
}
