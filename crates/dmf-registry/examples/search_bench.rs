//! Measures the console's person search without HTTP: files a synthetic population in an
//! answer index with its name index (names drawn by frequency from the shipped Census surname
//! and SSA first-name tables, dates of birth uniform over 1920-2009), then times whole searches
//! (name index lookup, comparison by the matching core, ranking) of several kinds.
//!
//!     cargo run --release -p dmf-registry --example search_bench -- [PEOPLE] [SEARCHES]

use std::time::Instant;

use dmf_match::NameTables;
use dmf_model::{PartialDate, PersonName, Ssn};
use dmf_registry::event::{Event, PersonRecord};
use dmf_registry::search::{self, Query};
use dmf_registry::{Index, PersonState};
use rand::{RngExt, SeedableRng};
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;
use rand_pcg::Pcg64Mcg;

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

/// Times each query twice: the first time, names not seen yet are interned in the name tables
/// (a server does that once per name as searches come); the second, the steady state. Prints
/// the second pass's median, 99th percentile and slowest, the first pass's slowest, and the
/// people compared.
fn time(
    label: &str,
    index: &Index,
    tables: &NameTables,
    queries: &[(String, String, Option<PartialDate>)],
) {
    let mut cold = 0f64;
    for (first, last, dob) in queries {
        let started = Instant::now();
        search::search(
            index,
            tables,
            &Query {
                first,
                last,
                dob: *dob,
            },
        );
        cold = cold.max(started.elapsed().as_secs_f64() * 1e3);
    }
    let mut ms: Vec<f64> = Vec::with_capacity(queries.len());
    let (mut compared, mut found, mut capped) = (0usize, 0usize, 0usize);
    for (first, last, dob) in queries {
        let started = Instant::now();
        let f = search::search(
            index,
            tables,
            &Query {
                first,
                last,
                dob: *dob,
            },
        );
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        compared += f.compared;
        found += f.hits.len();
        capped += usize::from(f.capped);
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p) as usize];
    let n = queries.len();
    println!(
        "{label}: {n} searches, median {:.2} ms, p99 {:.2} ms, max {:.2} ms (first time {cold:.2} ms); {:.0} compared and {:.1} found a search on average, {capped} capped",
        at(0.5),
        at(0.99),
        ms[n - 1],
        compared as f64 / n as f64,
        found as f64 / n as f64,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let people: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let searches: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
    let mut rng = Pcg64Mcg::seed_from_u64(23);
    let surnames = dmf_data::surnames();
    let lasts = WeightedAliasIndex::new(surnames.iter().map(|s| s.1 as f64).collect()).unwrap();
    let mut firsts: Vec<(String, u64)> = Vec::new();
    for f in dmf_data::first_names() {
        match firsts.iter_mut().find(|(n, _)| *n == f.name) {
            Some(e) => e.1 += f.count,
            None => firsts.push((f.name, f.count)),
        }
    }
    let first_pick = WeightedAliasIndex::new(firsts.iter().map(|f| f.1 as f64).collect()).unwrap();

    let mut index = Index::default();
    index.index_names();
    let before = resident();
    let started = Instant::now();
    let mut ssn = 100_010_001u32;
    for seq in 1..=people as u64 {
        let valid = loop {
            ssn += 1;
            if let Ok(s) = Ssn::from_number(ssn) {
                break s;
            }
        };
        let dob = PartialDate::from_dmf_parts(
            rng.random_range(1920..2010),
            rng.random_range(1..13),
            rng.random_range(1..29),
        );
        let name = PersonName::parse(
            &firsts[first_pick.sample(&mut rng)].0,
            None,
            &surnames[lasts.sample(&mut rng)].0,
            None,
        )
        .expect("a name from the tables");
        index.apply(
            seq,
            &Event::Person(PersonRecord {
                ssn: valid,
                name,
                sex: None,
                dob,
                birth_state: None,
            }),
        );
    }
    let built = started.elapsed().as_secs_f64();
    let names = index.names().expect("filed by name");
    println!(
        "people: {people}; answer and name index built one event at a time in {built:.1} s, resident {:.0} bytes a person in all",
        resident().saturating_sub(before) as f64 / people as f64
    );
    println!(
        "name index: {:.1} bytes a person as allocated ({} MB)",
        names.bytes() as f64 / people as f64,
        names.bytes() / 1_000_000
    );

    // People on file, searched for with their own names and dates, and with errors.
    let sample: Vec<(String, String, PartialDate)> = (0..searches)
        .map(|_| {
            loop {
                let at = rng.random_range(0..people) as u32;
                let (_, state): (u32, &PersonState) = index.at(at).expect("filed");
                if let Some(id) = &state.identity {
                    break (
                        id.first.to_string(),
                        id.last.to_string(),
                        id.dob.expect("dated"),
                    );
                }
            }
        })
        .collect();
    let tables = NameTables::shipped();
    let with_dob: Vec<_> = sample
        .iter()
        .map(|(f, l, d)| (f.clone(), l.clone(), Some(*d)))
        .collect();
    time("name and date of birth", &index, &tables, &with_dob);
    let swapped: Vec<_> = sample
        .iter()
        .map(|(f, l, d)| {
            let (m, day) = (d.month().unwrap(), d.day().unwrap());
            let s = PartialDate::from_dmf_parts(d.year(), day.min(12), m).unwrap_or(*d);
            (f.clone(), l.clone(), Some(s))
        })
        .collect();
    time("name, day and month swapped", &index, &tables, &swapped);
    let year: Vec<_> = sample
        .iter()
        .map(|(f, l, d)| {
            (
                f.clone(),
                l.clone(),
                PartialDate::from_dmf_parts(d.year(), 0, 0),
            )
        })
        .collect();
    time("name and year of birth", &index, &tables, &year);
    let typo: Vec<_> = sample
        .iter()
        .map(|(f, l, d)| {
            let mut b = l.clone().into_bytes();
            if b.len() > 2 {
                b.swap(1, 2);
            }
            (f.clone(), String::from_utf8(b).unwrap(), Some(*d))
        })
        .collect();
    time("last name mistyped, date of birth", &index, &tables, &typo);
    let name_only: Vec<_> = sample
        .iter()
        .map(|(f, l, _)| (f.clone(), l.clone(), None))
        .collect();
    time("name without date of birth", &index, &tables, &name_only);
    let common: Vec<_> = ["JAMES", "MARY", "JOHN", "PATRICIA", "ROBERT"]
        .iter()
        .flat_map(|f| {
            ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES"]
                .iter()
                .map(move |l| (f.to_string(), l.to_string(), None))
        })
        .collect();
    time(
        "commonest names without date of birth",
        &index,
        &tables,
        &common,
    );
    let smith = vec![(String::new(), "SMITH".to_owned(), None); 20];
    time("last name SMITH alone", &index, &tables, &smith);
    let smith_born: Vec<_> = (0..50)
        .map(|i| {
            (
                "JOHN".to_owned(),
                "SMITH".to_owned(),
                PartialDate::from_dmf_parts(1930 + i, 6, 15),
            )
        })
        .collect();
    time(
        "JOHN SMITH with a date of birth",
        &index,
        &tables,
        &smith_born,
    );
}
