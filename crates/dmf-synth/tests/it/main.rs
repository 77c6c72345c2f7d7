//! Integration tests of `dmf_synth::generate`: a population of 20,000 made twice, on different
//! thread counts, must give the same bytes, and its files must agree with each other, with the
//! record model and the DMF format, and with the rates the generator promises.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use dmf_format::{ScanMode, parse_record, scan};
use dmf_model::{Date, Ssn, dmf_form};
use dmf_synth::{Config, FILES, Summary, generate};

fn as_of() -> Date {
    "2026-01-01".parse().unwrap()
}

/// 20,000 people, 10,000 clients, and a ten-year report window so the stream is large enough
/// to count wrong reports in.
fn config() -> Config {
    let mut c = Config::new(20_000, 7, as_of());
    c.clients = Some(10_000);
    c.report_days = 3650;
    c
}

/// Rows of a CSV file as maps from column to field, after checking the header.
fn csv(dir: &Path, name: &str, header: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(header), "{name}");
    let columns: Vec<&str> = header.split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), columns.len(), "{name}: {line}");
            columns
                .iter()
                .map(|c| c.to_string())
                .zip(fields.iter().map(|f| f.to_string()))
                .collect()
        })
        .collect()
}

fn make(config: &Config) -> (tempfile::TempDir, Summary) {
    let dir = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let summary = generate(config, dir.path(), &|n| seen.lock().unwrap().push(n)).unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.first(), Some(&0));
    assert_eq!(seen.last(), Some(&config.people));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    (dir, summary)
}

#[test]
fn same_parameters_give_the_same_bytes_on_any_thread_count() {
    let config = config();
    let (a, summary_a) = make(&config);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (b, summary_b) = pool.install(|| make(&config));
    assert_eq!(summary_a, summary_b);
    for file in FILES {
        let (x, y) = (
            std::fs::read(a.path().join(file)).unwrap(),
            std::fs::read(b.path().join(file)).unwrap(),
        );
        assert!(x == y, "{file} differs");
    }
    let mut other = config.clone();
    other.seed = 8;
    let (c, _) = make(&other);
    assert_ne!(
        std::fs::read(a.path().join("people.csv")).unwrap(),
        std::fs::read(c.path().join("people.csv")).unwrap()
    );
}

#[test]
fn files_agree_with_each_other_and_with_the_rates() {
    let config = config();
    let (dir, summary) = make(&config);
    check(dir.path(), &config, &summary, true);
}

#[test]
fn a_default_run_agrees_too() {
    let config = Config::new(20_000, 11, "2024-06-30".parse().unwrap());
    let (dir, summary) = make(&config);
    assert_eq!(summary.clients, 2_000);
    check(dir.path(), &config, &summary, false);
}

fn check(dir: &Path, config: &Config, summary: &Summary, rates: bool) {
    let as_of = config.as_of;
    let cutoff = as_of.add_days(-(config.report_days as i32)).unwrap();

    // people.csv: unique, issuable numbers; plausible names, dates and places.
    let people = csv(
        dir,
        "people.csv",
        "ssn,first,middle,last,suffix,sex,dob,birth_state",
    );
    assert_eq!(people.len() as u64, config.people);
    assert_eq!(summary.people, config.people);
    let mut by_ssn = HashMap::new();
    for p in &people {
        let ssn: Ssn = p["ssn"]
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", p["ssn"]));
        assert_eq!(ssn.to_string(), p["ssn"]);
        let dob: Date = p["dob"].parse().unwrap();
        assert!(dob <= as_of && dob.year() >= 1880);
        assert!(p["sex"] == "F" || p["sex"] == "M");
        assert!(["", "Jr", "Sr", "II", "III"].contains(&p["suffix"].as_str()));
        assert!(p["suffix"].is_empty() || p["sex"] == "M");
        assert_eq!(p["birth_state"].len(), 2);
        for part in ["first", "last"] {
            let name = &p[part];
            assert!(name.chars().next().unwrap().is_ascii_uppercase(), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_alphabetic()), "{name}");
        }
        assert!(by_ssn.insert(ssn, p).is_none(), "{ssn} issued twice");
        // Numbers issued since mid-2011 come from areas no state had.
        if dob >= "2012-01-01".parse().unwrap() {
            assert!(ssn.area() >= 734, "{ssn} born {dob}");
        }
    }
    let count =
        |f: &dyn Fn(&HashMap<String, String>) -> bool| people.iter().filter(|p| f(p)).count();
    let middles = count(&|p| !p["middle"].is_empty()) as f64 / people.len() as f64;
    assert!((0.66..0.74).contains(&middles), "{middles}");

    // Names fit: Smith leads; Mary leads the girls of the 1920s.
    let mut surnames: HashMap<&str, usize> = HashMap::new();
    for p in &people {
        *surnames.entry(p["last"].as_str()).or_default() += 1;
    }
    let top = surnames.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(*top.0, "Smith", "{top:?}");
    let mut girls: HashMap<&str, usize> = HashMap::new();
    for p in people
        .iter()
        .filter(|p| p["sex"] == "F" && p["dob"].starts_with("192"))
    {
        *girls.entry(p["first"].as_str()).or_default() += 1;
    }
    assert_eq!(*girls.iter().max_by_key(|(_, n)| **n).unwrap().0, "Mary");

    // truth_deaths.csv: deaths of people, after birth, by the as-of date.
    let deaths = csv(
        dir,
        "truth_deaths.csv",
        "ssn,dod,first_source,reported,in_dmf",
    );
    assert_eq!(deaths.len() as u64, summary.deaths);
    let dead_share = deaths.len() as f64 / people.len() as f64;
    assert!((0.28..0.38).contains(&dead_share), "{dead_share}");
    let mut dead = HashMap::new();
    for d in &deaths {
        let ssn: Ssn = d["ssn"].parse().unwrap();
        let p = by_ssn.get(&ssn).expect("a death of a person");
        let dod: Date = d["dod"].parse().unwrap();
        assert!(
            dod <= as_of && dod >= p["dob"].parse().unwrap(),
            "{ssn} {dod}"
        );
        assert!(d["first_source"].parse::<dmf_model::DeathSource>().is_ok());
        assert!(d["in_dmf"] == "false" || d["reported"] == "true");
        assert!(dead.insert(ssn, d).is_none());
    }
    let in_dmf: HashSet<Ssn> = dead
        .iter()
        .filter(|(_, d)| d["in_dmf"] == "true")
        .map(|(s, _)| *s)
        .collect();

    // dmf.txt: valid records, sorted by SSN, exactly the deaths marked in_dmf.
    let dmf = std::fs::read(dir.join("dmf.txt")).unwrap();
    let scanned = scan(&dmf, ScanMode::AllErrors { keep: 5 });
    assert!(scanned.errors.is_empty(), "{:?}", scanned.errors);
    assert_eq!(scanned.summary.records(), summary.dmf_records);
    assert_eq!(scanned.summary.lf_lines, summary.dmf_records);
    assert_eq!(scanned.summary.missing_dob, 0);
    assert_eq!(in_dmf.len() as u64, summary.dmf_records);
    let mut previous = None;
    for line in dmf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let r = parse_record(line).unwrap();
        assert_eq!(line[0], b' ');
        assert!(previous < Some(r.ssn()), "not sorted at {}", r.ssn());
        previous = Some(r.ssn());
        assert!(in_dmf.contains(&r.ssn()));
        let p = by_ssn[&r.ssn()];
        assert_eq!(r.dob().unwrap().to_string(), p["dob"]);
        assert_eq!(r.first(), dmf_form(&p["first"]));
        assert_eq!(r.last(), dmf_form(&p["last"]));
        let dod: Date = dead[&r.ssn()]["dod"].parse().unwrap();
        assert!(r.dod().unwrap().is_compatible(dod.into()));
        assert!(dod <= cutoff);
        if !r.middle().is_empty() {
            assert!(p["middle"].to_uppercase().starts_with(r.middle()));
        }
    }

    // reports.ndjson and truth_reports.csv: the window's reports, oldest first.
    let text = std::fs::read_to_string(dir.join("reports.ndjson")).unwrap();
    let truth = csv(dir, "truth_reports.csv", "idempotency_key,ssn,erroneous");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), truth.len());
    assert_eq!(lines.len() as u64, summary.reports);
    let mut keys = HashSet::new();
    let mut last_received = String::new();
    let mut erroneous = 0;
    for (line, t) in lines.iter().zip(&truth) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let o = v.as_object().unwrap();
        let mut fields: Vec<&str> = o.keys().map(|k| k.as_str()).collect();
        fields.sort_unstable();
        let mut expect = vec![
            "type",
            "ssn",
            "first",
            "last",
            "dob",
            "dod",
            "source",
            "evidence",
            "received",
            "idempotency_key",
        ];
        if o.contains_key("middle") {
            expect.push("middle");
        }
        if o.contains_key("suffix") {
            expect.push("suffix");
        }
        expect.sort_unstable();
        assert_eq!(fields, expect);
        let s = |k: &str| o[k].as_str().unwrap().to_owned();
        assert_eq!(s("type"), "death_report");
        assert_eq!(s("idempotency_key"), t["idempotency_key"]);
        assert_eq!(s("ssn"), t["ssn"]);
        assert!(keys.insert(s("idempotency_key")));
        let received: Date = s("received").parse().unwrap();
        assert!(received > cutoff && received <= as_of, "{received}");
        assert!(s("received") >= last_received);
        last_received = s("received");
        let dod: Date = s("dod").parse().unwrap();
        assert!(dod <= received);
        assert!(s("source").parse::<dmf_model::DeathSource>().is_ok());
        assert!(!s("evidence").is_empty());
        let ssn: Ssn = s("ssn").parse().unwrap();
        let p = by_ssn[&ssn];
        assert_eq!(s("dob"), p["dob"]);
        assert_eq!(s("last"), p["last"]);
        match t["erroneous"].as_str() {
            "true" => {
                erroneous += 1;
                assert!(
                    !dead.contains_key(&ssn),
                    "a wrong report about the dead {ssn}"
                );
            }
            "false" => assert_eq!(s("dod"), dead[&ssn]["dod"]),
            other => panic!("{other}"),
        }
    }
    assert_eq!(erroneous, summary.erroneous_reports);
    if rates {
        let share = erroneous as f64 / lines.len() as f64;
        assert!(lines.len() > 1000, "{}", lines.len());
        assert!(
            (0.001..0.008).contains(&share),
            "{erroneous} of {}",
            lines.len()
        );
    }

    // client.csv and client_truth.csv.
    let clients = csv(dir, "client.csv", "id,ssn,first,middle,last,dob");
    let client_truth = csv(dir, "client_truth.csv", "id,dmf_ssn");
    assert_eq!(clients.len() as u64, summary.clients);
    assert_eq!(client_truth.len(), clients.len());
    let mut linked = 0;
    let (mut ssn_missing, mut day_missing) = (0, 0);
    let (mut ssn_wrong, mut ssn_present, mut last_wrong, mut first_wrong) = (0, 0, 0, 0);
    let mut upper = 0;
    for (i, (c, t)) in clients.iter().zip(&client_truth).enumerate() {
        assert_eq!(c["id"], format!("C{:07}", i + 1));
        assert_eq!(t["id"], c["id"]);
        ssn_missing += usize::from(c["ssn"].is_empty());
        day_missing += usize::from(c["dob"].len() == 7);
        assert!(
            c["dob"].parse::<dmf_model::PartialDate>().is_ok(),
            "{}",
            c["dob"]
        );
        let first_upper = c["first"].to_uppercase() == c["first"] && c["first"].len() > 1;
        upper += usize::from(first_upper && c["last"].to_uppercase() == c["last"]);
        if t["dmf_ssn"].is_empty() {
            continue;
        }
        linked += 1;
        let ssn: Ssn = t["dmf_ssn"].parse().unwrap();
        assert!(in_dmf.contains(&ssn));
        let p = by_ssn[&ssn];
        if !c["ssn"].is_empty() {
            ssn_present += 1;
            ssn_wrong += usize::from(c["ssn"] != p["ssn"]);
        }
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        last_wrong += usize::from(!same(&c["last"], &p["last"]) && !c["last"].contains(' '));
        first_wrong += usize::from(!same(&c["first"], &p["first"]));
    }
    assert_eq!(linked as u64, summary.clients_in_dmf);
    let n = clients.len() as f64;
    let in_dmf_share = linked as f64 / n;
    assert!((0.17..0.23).contains(&in_dmf_share), "{in_dmf_share}");
    if rates {
        let rate = |k: usize, of: f64| k as f64 / of;
        assert!(
            (0.085..0.115).contains(&rate(ssn_missing, n)),
            "{ssn_missing}"
        );
        assert!(
            (0.01..0.03).contains(&rate(day_missing, n)),
            "{day_missing}"
        );
        assert!((0.15..0.25).contains(&rate(upper, n)), "{upper}");
        let l = linked as f64;
        // One digit wrong 2%, two swapped 1%, among those given.
        assert!(
            (0.015..0.055).contains(&rate(ssn_wrong, ssn_present as f64)),
            "{ssn_wrong}"
        );
        // Typos 5%, swapped names 1%.
        assert!((0.035..0.09).contains(&rate(last_wrong, l)), "{last_wrong}");
        // Typos, nicknames (8% of those with one), swapped names.
        assert!(
            (0.06..0.16).contains(&rate(first_wrong, l)),
            "{first_wrong}"
        );
    }

    // manifest.json: the parameters and counts.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], config.seed);
    assert_eq!(manifest["people"], config.people);
    assert_eq!(manifest["as_of"], as_of.to_string());
    assert_eq!(manifest["dmf_records"], summary.dmf_records);
    assert_eq!(manifest["erroneous_reports"], summary.erroneous_reports);
}
