//! Measures linkage quality and speed on the files of `dmf synth`.
//!
//! `cargo run --release -p dmf-match --example synth_eval -- DIR [--no-ssn] [--threshold P]
//! [--u-sample N] [--rules a,b]` reads `DIR/dmf.txt`, `DIR/client.csv` and
//! `DIR/client_truth.csv`, links one-to-one, and prints precision, recall and F1 against the
//! truth, with the time of each phase. `MODEL=1` prints the model learnt; `PATTERNS=1` the
//! commonest level patterns among the candidates, with how many are true matches.

use std::collections::HashMap;
use std::time::Instant;

use dmf_format::DmfReader;
use dmf_match::{Config, NameTables, Person, PersonRef, PreparedBuilder, Rule, run};
use dmf_model::{PartialDate, Ssn, dmf_form};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().expect("usage: synth_eval DIR [--no-ssn]"));
    let no_ssn = args.iter().any(|a| a == "--no-ssn");
    let mut config = Config {
        one_to_one: true,
        ..Config::default()
    };
    if let Some(i) = args.iter().position(|a| a == "--threshold") {
        config.threshold = args[i + 1].parse().expect("a probability");
    }
    if let Some(i) = args.iter().position(|a| a == "--u-sample") {
        config.u_sample = args[i + 1].parse().expect("a count");
    }
    if let Some(i) = args.iter().position(|a| a == "--rules") {
        config.rules = args[i + 1]
            .split(',')
            .map(|r| r.parse::<Rule>().expect("a rule"))
            .collect();
    }

    let t = Instant::now();
    let tables = NameTables::shipped();
    println!("name tables: {:.2?}", t.elapsed());

    // The master, a chunk of records at a time, names borrowed from the parsed records.
    let t = Instant::now();
    let file = std::fs::File::open(dir.join("dmf.txt")).expect("dmf.txt");
    let mut reader = DmfReader::new(std::io::BufReader::new(file));
    let mut builder = PreparedBuilder::new(&tables);
    let mut master_ssn: Vec<Ssn> = Vec::new();
    let mut chunk = Vec::with_capacity(1 << 18);
    let mut preparing = std::time::Duration::ZERO;
    loop {
        let record = reader.next_record().expect("read dmf.txt");
        let done = record.is_none();
        if let Some(r) = record {
            let r = r.expect("a valid DMF line");
            master_ssn.push(r.ssn());
            chunk.push(r);
        }
        if chunk.len() == chunk.capacity() || (done && !chunk.is_empty()) {
            let t = Instant::now();
            builder.extend_with(&chunk, |r| PersonRef {
                ssn: Some(r.ssn().into()),
                first: r.first(),
                middle: r.middle(),
                last: r.last(),
                suffix: r.suffix(),
                dob: r.dob(),
                sex: None,
            });
            chunk.clear();
            preparing += t.elapsed();
        }
        if done {
            break;
        }
    }
    let t_finish = Instant::now();
    let master = builder.finish();
    println!(
        "master: {} records read and prepared in {:.2?} (preparing {preparing:.2?}, finishing {:.2?})",
        master.len(),
        t.elapsed(),
        t_finish.elapsed()
    );

    let t = Instant::now();
    let text = std::fs::read_to_string(dir.join("client.csv")).expect("client.csv");
    let mut ids = Vec::new();
    let mut people = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        ids.push(f[0].to_owned());
        people.push(Person {
            ssn: if no_ssn {
                None
            } else {
                f[1].parse::<Ssn>().ok().map(Into::into)
            },
            first: dmf_form(f[2]),
            middle: dmf_form(f[3]),
            last: dmf_form(f[4]),
            dob: f[5].parse::<PartialDate>().ok(),
            ..Person::default()
        });
    }
    let client = dmf_match::Prepared::new(&people, &tables);
    println!(
        "client: {} records prepared in {:.2?}",
        client.len(),
        t.elapsed()
    );
    let truth_text = std::fs::read_to_string(dir.join("client_truth.csv")).expect("truth");
    let truth: HashMap<&str, Ssn> = truth_text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (id, ssn) = l.split_once(',')?;
            Some((id, ssn.parse().ok()?))
        })
        .collect();

    let t = Instant::now();
    let outcome = run(&client, &master, &tables, &config);
    let total = t.elapsed();
    for (rule, n) in &outcome.per_rule {
        println!("rule {rule}: {n} pairs");
    }
    for (rule, n) in outcome.capped.iter().filter(|(_, n)| *n > 0) {
        println!("rule {rule}: {n} capped lookups");
    }
    println!("candidates: {}", outcome.candidates);
    for (phase, d) in &outcome.timings {
        println!("{phase}: {d:.2?}");
    }
    let phase = |name: &str| {
        outcome
            .timings
            .iter()
            .find(|(p, _)| *p == name)
            .map_or(0.0, |(_, d)| d.as_secs_f64())
    };
    println!(
        "total {total:.2?}; compare and score {:.0} pairs/s; end to end {:.0} pairs/s",
        outcome.candidates as f64 / (phase("compare") + phase("score")),
        outcome.candidates as f64 / total.as_secs_f64()
    );
    println!("training: {:?}", outcome.training);
    if std::env::var_os("MODEL").is_some() {
        println!("{}", outcome.model.to_text());
    }

    if std::env::var_os("PATTERNS").is_some() {
        // Per level pattern of the candidates: how many, how many true, the model's view.
        let blocks = dmf_match::Blocks::build(&master, &config.rules);
        let found = dmf_match::candidates(&client, &blocks);
        let mut by: HashMap<dmf_match::Levels, (u64, u64)> = HashMap::new();
        for &(c, m) in &found.pairs {
            let l = dmf_match::compare(&client, c as usize, &master, m as usize, &tables);
            let e = by.entry(l).or_default();
            e.0 += 1;
            if truth.get(ids[c as usize].as_str()) == Some(&master_ssn[m as usize]) {
                e.1 += 1;
            }
        }
        let in_candidates: u64 = by.values().map(|v| v.1).sum();
        println!(
            "truth pairs among candidates: {in_candidates} of {}",
            truth.len()
        );
        let mut rows: Vec<_> = by.into_iter().collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
        for (l, (n, t)) in rows.iter().take(60) {
            let w = outcome.model.weight(l);
            println!(
                "{n:>7} true {t:>7} p {:.3} w {w:6.1} {} {} {} {}",
                outcome.model.probability(w),
                l.ssn.code(),
                l.first.code(),
                l.last.code(),
                l.dob.code()
            );
        }
    }
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut fp_patterns: HashMap<String, u64> = HashMap::new();
    let mut found = vec![false; client.len()];
    for m in &outcome.matches {
        let id = ids[m.client as usize].as_str();
        found[m.client as usize] = true;
        if truth.get(id) == Some(&master_ssn[m.master as usize]) {
            tp += 1;
        } else {
            fp += 1;
            let l = &m.levels;
            *fp_patterns
                .entry(format!(
                    "{} {} {} {}",
                    l.ssn.code(),
                    l.first.code(),
                    l.last.code(),
                    l.dob.code()
                ))
                .or_default() += 1;
            if fp <= 5 {
                let p = &people[m.client as usize];
                println!(
                    "FP {id} {:?} {} {} {:?} -> {} {:?} w={:.1}",
                    p.ssn,
                    p.first,
                    p.last,
                    p.dob,
                    master_ssn[m.master as usize],
                    m.levels,
                    m.weight
                );
            }
        }
    }
    let mut missed = 0;
    for (i, id) in ids.iter().enumerate() {
        if truth.contains_key(id.as_str()) && !found[i] {
            missed += 1;
            if missed <= 5 {
                let p = &people[i];
                println!(
                    "FN {id} {:?} {} {} {:?} truth {}",
                    p.ssn,
                    p.first,
                    p.last,
                    p.dob,
                    truth[id.as_str()]
                );
            }
        }
    }
    let mut fp_patterns: Vec<_> = fp_patterns.into_iter().collect();
    fp_patterns.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (p, n) in fp_patterns.iter().take(10) {
        println!("FP pattern {n:>6} {p}");
    }
    let fn_ = truth.len() as u64 - tp;
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / truth.len() as f64;
    let f1 = 2.0 * precision * recall / (precision + recall);
    println!(
        "truth {} tp {tp} fp {fp} fn {fn_}: precision {precision:.4} recall {recall:.4} F1 {f1:.4}",
        truth.len()
    );
}
