//! Benchmarks of linkage on generated people: 100,000 master records, 20,000 client records of
//! which 4,000 stand for master records with the usual errors.

use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use dmf_match::{
    Blocks, Candidates, Model, NameTables, Person, Prepared, candidates, compare, default_rules,
    patterns, score,
};
use dmf_model::{PartialDate, Ssn};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

fn main() {
    divan::main();
}

const MASTER: usize = 100_000;
const CLIENT: usize = 20_000;
const PLANTED: usize = 4_000;

const FIRST_NAMES: &[&str] = &[
    "JAMES",
    "ROBERT",
    "JOHN",
    "MICHAEL",
    "WILLIAM",
    "DAVID",
    "RICHARD",
    "JOSEPH",
    "THOMAS",
    "CHARLES",
    "CHRISTOPHER",
    "DANIEL",
    "MATTHEW",
    "ANTHONY",
    "DONALD",
    "MARK",
    "PAUL",
    "STEVEN",
    "ANDREW",
    "KENNETH",
    "GEORGE",
    "EDWARD",
    "RONALD",
    "TIMOTHY",
    "JASON",
    "GARY",
    "MARY",
    "PATRICIA",
    "JENNIFER",
    "LINDA",
    "ELIZABETH",
    "BARBARA",
    "SUSAN",
    "JESSICA",
    "SARAH",
    "KAREN",
    "NANCY",
    "LISA",
    "BETTY",
    "MARGARET",
    "SANDRA",
    "DOROTHY",
    "CAROL",
    "HELEN",
    "RUTH",
    "VIRGINIA",
    "FRANCES",
    "MILDRED",
    "EVELYN",
    "GLADYS",
    "BOB",
    "BILL",
];

struct Data {
    tables: NameTables,
    master: Prepared,
    client: Prepared,
    blocks: Blocks,
    candidates: Candidates,
    model: Model,
    random_pairs: Vec<(u32, u32)>,
}

/// One typing error: a letter replaced, dropped or swapped with the next.
fn typo(rng: &mut Pcg64Mcg, name: &str) -> String {
    let mut b = name.as_bytes().to_vec();
    let i = rng.random_range(0..b.len() - 1);
    match rng.random_range(0..3) {
        0 => b[i] = b'A' + rng.random_range(0..26u8),
        1 => {
            b.remove(i);
        }
        _ => b.swap(i, i + 1),
    }
    String::from_utf8(b).expect("ASCII")
}

fn data() -> &'static Data {
    static DATA: LazyLock<Data> = LazyLock::new(|| {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let surnames: Vec<String> = dmf_data::surnames()
            .into_iter()
            .take(20_000)
            .map(|(s, _)| s)
            .collect();
        let person = |rng: &mut Pcg64Mcg| {
            // Squared draws favour the common surnames, as real files do.
            let u: f64 = rng.random();
            let last = &surnames[(u * u * surnames.len() as f64) as usize];
            let ssn = loop {
                if let Ok(s) = Ssn::from_number(rng.random_range(1_000_000..899_999_999)) {
                    break s;
                }
            };
            Person {
                ssn: Some(ssn.into()),
                first: FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())].to_owned(),
                last: last.clone(),
                dob: PartialDate::new(
                    rng.random_range(1920..2000),
                    Some(rng.random_range(1..=12)),
                    Some(rng.random_range(1..=28)),
                )
                .ok(),
                ..Person::default()
            }
        };
        let master: Vec<Person> = (0..MASTER).map(|_| person(&mut rng)).collect();
        let mut client: Vec<Person> = (0..CLIENT - PLANTED).map(|_| person(&mut rng)).collect();
        for k in 0..PLANTED {
            let mut p = master[rng.random_range(0..MASTER)].clone();
            match k % 4 {
                0 => p.first = typo(&mut rng, &p.first),
                1 => p.last = typo(&mut rng, &p.last),
                2 => p.ssn = None,
                _ => {}
            }
            client.push(p);
        }
        let tables = NameTables::shipped();
        let master = Prepared::new(&master, &tables);
        let client = Prepared::new(&client, &tables);
        let blocks = Blocks::build(&master, &default_rules());
        let candidates = candidates(&client, &blocks);
        let u = Model::estimate_u(&client, &master, &tables, 200_000, 1);
        let found = patterns(&client, &master, &candidates.pairs, &tables);
        let all = (MASTER * CLIENT) as u64;
        let (model, _) = Model::train_on_candidates(&found, u, 100, all, CLIENT as u64);
        let random_pairs = (0..200_000)
            .map(|_| {
                (
                    rng.random_range(0..CLIENT as u32),
                    rng.random_range(0..MASTER as u32),
                )
            })
            .collect();
        Data {
            tables,
            master,
            client,
            blocks,
            candidates,
            model,
            random_pairs,
        }
    });
    &DATA
}

/// `compare` on candidate pairs (mostly true matches) one call at a time.
#[divan::bench]
fn compare_candidate_pair(bencher: Bencher) {
    let d = data();
    let pairs = &d.candidates.pairs;
    bencher.counter(ItemsCount::new(pairs.len())).bench(|| {
        for &(c, m) in pairs {
            black_box(compare(
                &d.client, c as usize, &d.master, m as usize, &d.tables,
            ));
        }
    });
}

/// `compare` on random pairs (non-matches, where the name similarities are computed).
#[divan::bench]
fn compare_random_pair(bencher: Bencher) {
    let d = data();
    let pairs = &d.random_pairs[..20_000];
    bencher.counter(ItemsCount::new(pairs.len())).bench(|| {
        for &(c, m) in pairs {
            black_box(compare(
                &d.client, c as usize, &d.master, m as usize, &d.tables,
            ));
        }
    });
}

/// `candidates` for all client records, on all threads.
#[divan::bench]
fn candidates_per_client(bencher: Bencher) {
    let d = data();
    bencher
        .counter(ItemsCount::new(CLIENT))
        .bench(|| black_box(candidates(&d.client, &d.blocks)));
}

/// `score` of the candidate pairs, on all threads.
#[divan::bench]
fn score_candidate_pairs(bencher: Bencher) {
    let d = data();
    let pairs = &d.candidates.pairs;
    bencher
        .counter(ItemsCount::new(pairs.len()))
        .bench(|| black_box(score(&d.client, &d.master, pairs, &d.model, &d.tables, 0.5)));
}

/// `score` of random pairs, on all threads.
#[divan::bench]
fn score_random_pairs(bencher: Bencher) {
    let d = data();
    let pairs = &d.random_pairs;
    bencher
        .counter(ItemsCount::new(pairs.len()))
        .bench(|| black_box(score(&d.client, &d.master, pairs, &d.model, &d.tables, 0.5)));
}

/// `patterns` of the candidate pairs, on all threads.
#[divan::bench]
fn patterns_of_candidates(bencher: Bencher) {
    let d = data();
    let pairs = &d.candidates.pairs;
    bencher
        .counter(ItemsCount::new(pairs.len()))
        .bench(|| black_box(patterns(&d.client, &d.master, pairs, &d.tables)));
}

/// Building the blocking indexes of the master.
#[divan::bench(sample_count = 10)]
fn blocks_per_master_record(bencher: Bencher) {
    let d = data();
    bencher
        .counter(ItemsCount::new(MASTER))
        .bench(|| black_box(Blocks::build(&d.master, &default_rules())));
}
