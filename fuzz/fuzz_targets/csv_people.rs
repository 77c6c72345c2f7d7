//! People files as the project reads them: the numberholder CSV of `dmf import` (through
//! `dmf_registry::import_file` into a fresh registry in a temporary folder, as the command
//! does; a first line that is no CSV header makes it a DMF file) and the client CSV of
//! `dmf match` (cells into `dmf_match::Person`s, prepared and linked by `dmf_match::run`).
//!
//! Properties: every record read is added, rejected or skipped as seen before; the rejects
//! file lists exactly the rejected records; importing the same file again adds nothing; the
//! registry checks clean afterwards. Names in DMF form are printable ASCII and stay as they
//! are under `dmf_form`; matches refer to real records, with probabilities in [0, 1].

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dmf_match::{Config, Model, NameTables, Person, Prepared};
use dmf_model::{Date, PartialDate, Ssn, SsnDigits, dmf_form};
use dmf_registry::{Registry, import_file};
use libfuzzer_sys::fuzz_target;

fn today() -> Date {
    Date::new(2026, 1, 15).expect("a date")
}

/// Temporary registries go to memory when the system has a tmpfs at /dev/shm.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        }
    })
}

fuzz_target!(init: {
    // One worker thread for the matching's parallel steps: the fuzzer runs on one core.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the global thread pool");
}, |data: &[u8]| {
    import_people(data);
    match_clients(data);
});

fn import_people(data: &[u8]) {
    let dir = tempfile::Builder::new()
        .prefix("dmf-fuzz-")
        .tempdir_in(scratch())
        .expect("a temporary folder");
    let registry =
        Registry::init(&dir.path().join("data"), Some("fuzz.example/log")).expect("a new registry");
    let path = dir.path().join("people.csv");
    std::fs::write(&path, data).expect("write the input");

    let summary = match import_file(&registry, &path, today(), 0, &|_| {}) {
        Ok(s) => s,
        Err(e) => {
            // Refusing a file (no usable header) is fine; it must say why and store nothing.
            let _ = e.to_string();
            assert_eq!(registry.store().head().expect("head"), 0);
            return;
        }
    };
    assert!(summary.format == "people" || summary.format == "dmf");
    assert_eq!(
        summary.records,
        summary.events_added + summary.rejected + summary.already_imported,
        "{summary:?}"
    );
    assert_eq!(
        summary.already_imported, 0,
        "a fresh registry has seen nothing"
    );
    match &summary.rejects_file {
        Some(rejects) => {
            let mut reader = csv::Reader::from_path(rejects).expect("the rejects file");
            let header: Vec<String> = reader
                .headers()
                .expect("a header")
                .iter()
                .map(str::to_owned)
                .collect();
            assert_eq!(header, ["line", "field", "reason"]);
            let mut rows = 0u64;
            for row in reader.records() {
                row.expect("a row of the rejects file");
                rows += 1;
            }
            assert_eq!(rows, summary.rejected, "one row per rejected record");
        }
        None => assert_eq!(summary.rejected, 0),
    }
    let head = registry.store().head().expect("head");
    assert_eq!(head, summary.events_added);

    let again = import_file(&registry, &path, today(), 0, &|_| {}).expect("the same file again");
    assert_eq!(again.events_added, 0, "importing a file again adds nothing");
    assert_eq!(again.records, summary.records);
    assert_eq!(registry.store().head().expect("head"), head);

    let index = registry.check().expect("the registry checks clean");
    assert_eq!(index.head, head);
    assert!(index.len() as u64 <= head);
}

/// The client file of `dmf match`: a header naming id, first and last (ssn, middle and dob
/// optional), bad cells treated as missing.
fn match_clients(data: &[u8]) {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let Ok(header) = reader.headers() else {
        return;
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(first_c), Some(last_c)) = (col("first"), col("last")) else {
        return;
    };
    let (ssn_c, middle_c, dob_c) = (col("ssn"), col("middle"), col("dob"));
    let mut people = Vec::new();
    for record in reader.records().take(64) {
        let Ok(record) = record else {
            break;
        };
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").trim();
        people.push(Person {
            ssn: cell(ssn_c).parse::<Ssn>().ok().map(SsnDigits::from),
            first: dmf_form(cell(Some(first_c))),
            middle: dmf_form(cell(middle_c)),
            last: dmf_form(cell(Some(last_c))),
            dob: cell(dob_c).parse::<PartialDate>().ok(),
            ..Person::default()
        });
    }
    if people.is_empty() {
        return;
    }
    for p in &people {
        // DMF forms are what the file holds: uppercase ASCII, and stable.
        for name in [&p.first, &p.middle, &p.last] {
            assert!(name.bytes().all(|b| (0x20..0x7F).contains(&b)), "{name:?}");
            assert_eq!(&dmf_form(name), name, "dmf_form is idempotent");
        }
    }

    // A few master records of the shipped kind, then the client's own people: every client
    // record has an exact twin in the master.
    let mut master_people = master();
    master_people.extend(people.iter().cloned());
    let tables = NameTables::with_nicknames(nicknames());
    let client = Prepared::new(&people, &tables);
    let master = Prepared::new(&master_people, &tables);
    assert_eq!(client.len(), people.len());
    for i in 0..client.len() {
        let tf = client.tf(i);
        assert!(tf.first.is_finite() && tf.first >= 0.0);
        assert!(tf.last.is_finite() && tf.last >= 0.0);
    }
    // Training counts dates over dense histograms (megabytes a run): the model is trained
    // once, on the fixed master, and given to every run.
    let config = Config {
        model: Some(model().clone()),
        ..Config::default()
    };
    let outcome = dmf_match::run(&client, &master, &tables, &config);
    for m in &outcome.matches {
        assert!(
            (m.client as usize) < client.len() && (m.master as usize) < master.len(),
            "{m:?}"
        );
        assert!((0.0..=1.0).contains(&m.probability), "{m:?}");
    }
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let tables = NameTables::with_nicknames(nicknames());
        let master = Prepared::new(&master(), &tables);
        let config = Config {
            u_sample: 2_000,
            max_iter: 50,
            ..Config::default()
        };
        dmf_match::run(&master, &master, &tables, &config).model
    })
}

fn master() -> Vec<Person> {
    let p = |ssn: &str, first: &str, last: &str, dob: &str| Person {
        ssn: ssn.parse().ok(),
        first: first.to_owned(),
        last: last.to_owned(),
        dob: dob.parse().ok(),
        ..Person::default()
    };
    vec![
        p("123456789", "JOHN", "SMITH", "1930-01-02"),
        p("234567890", "JANE", "DOE", "1945-07"),
        p("345678901", "ROBERT", "JOHNSON", "1950"),
        p("456789012", "MARY", "WILLIAMS", "1962-11-30"),
    ]
}

/// A small part of the shipped nickname list, so that name groups take part.
fn nicknames() -> &'static [(String, String)] {
    static PAIRS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        [
            ("ROBERT", "BOB"),
            ("ROBERT", "ROB"),
            ("WILLIAM", "BILL"),
            ("ELIZABETH", "LIZ"),
            ("ELIZABETH", "BETTY"),
            ("MARGARET", "PEGGY"),
            ("JOHN", "JACK"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
    })
}
