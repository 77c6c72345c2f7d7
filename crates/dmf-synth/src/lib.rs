//! Synthetic population, deaths, death reports and client files for testing the DMF at scale.
//!
//! [`generate`] makes a population of numberholders from public figures (Census surnames, SSA
//! first names by decade, SSN applicants by year of birth, cohort life tables), lets them die
//! by the life tables, has the deaths reported by the sources that report deaths, and writes:
//!
//! | file | content |
//! | --- | --- |
//! | `people.csv` | `ssn,first,middle,last,suffix,sex,dob,birth_state`: everyone ever issued a number |
//! | `truth_deaths.csv` | `ssn,dod,first_source,reported,in_dmf`: every death up to the as-of date |
//! | `dmf.txt` | the full DMF file (fixed width, LF), sorted by SSN |
//! | `reports.ndjson` | death reports received in the last `report_days` days, oldest first |
//! | `truth_reports.csv` | `idempotency_key,ssn,erroneous` for each report |
//! | `client.csv` | `id,ssn,first,middle,last,dob`: a subscriber's customers, with errors |
//! | `client_truth.csv` | `id,dmf_ssn`: the DMF SSN of each customer listed in `dmf.txt` |
//! | `manifest.json` | the parameters and counts of the run |
//!
//! Dates are ISO 8601 (partial dates `YYYY-MM`), SSNs nine bare digits, an empty field is
//! unknown. The same parameters give byte-identical files on any number of threads.
//!
//! The people are US-born numberholders, as SSA's applicant table counts them by year of
//! birth, except that the cohorts born before 1920, which that table undercounts, are raised
//! to an estimate of their real size; so about a third of all numberholders are dead by 2026,
//! as in the real file. Numbers follow the historical structure (area by state, groups in
//! their order, serials in sequence) until mid-2011 and are randomized after.

mod clients;
mod config;
mod name;
mod out;
mod population;
mod reports;
mod rng;
mod ssn;
mod states;
mod tables;

use std::path::Path;

use rand::RngExt;
use rayon::prelude::*;

pub use crate::config::{Config, SynthError};
use crate::out::{OutFile, push_ssn, push_u64};
use crate::population::{CHUNK, ChunkOut, DMF_LINE, SsnPlan, World, count_chunk, generate_chunk};
use crate::reports::{ERRONEOUS_SHARE, Report};
use crate::rng::{rng_for, stream};
use crate::tables::Names;

/// Counts of what was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub people: u64,
    /// Deaths on or before the as-of date.
    pub deaths: u64,
    /// Lines of `dmf.txt`.
    pub dmf_records: u64,
    /// Lines of `reports.ndjson`, wrong ones included.
    pub reports: u64,
    /// Reports about living people.
    pub erroneous_reports: u64,
    /// Lines of `client.csv`.
    pub clients: u64,
    /// Customers listed in `dmf.txt`.
    pub clients_in_dmf: u64,
}

/// About the issuable numbers of the state areas: a larger population could not get numbers
/// of its era (and would need some 40 bytes of memory a person anyway).
const MAX_PEOPLE: u64 = 700_000_000;

/// The files [`generate`] writes into its folder (a rerun replaces them).
pub const FILES: [&str; 8] = [
    "people.csv",
    "truth_deaths.csv",
    "dmf.txt",
    "reports.ndjson",
    "truth_reports.csv",
    "client.csv",
    "client_truth.csv",
    "manifest.json",
];

/// Generates the files into `out_dir` (created if missing). `progress` is called now and then
/// with the number of people made so far.
pub fn generate(
    config: &Config,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, SynthError> {
    if config.people > MAX_PEOPLE {
        return Err(SynthError::TooManyPeople {
            people: config.people,
            max: MAX_PEOPLE,
        });
    }
    let world = World::new(config, config.client_count())?;
    std::fs::create_dir_all(out_dir).map_err(|source| SynthError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    progress(0);

    // Pass 1: how many structured numbers each chunk issues per state and year.
    let chunks = world.chunks();
    // The name tables load meanwhile: pass 1 does not need them.
    let (names, (counts, mut cores)): (_, (Vec<_>, Vec<_>)) = rayon::join(Names::get, || {
        (0..chunks)
            .into_par_iter()
            .map(|c| count_chunk(&world, c))
            .unzip()
    });
    let plan = SsnPlan::new(&world, &counts)?;
    drop(counts);

    // Pass 2: the people, a window of chunks at a time on all threads, handed in chunk order
    // to a writer thread so that writing overlaps the next window.
    let window = 2 * rayon::current_num_threads().max(1);
    let (send, receive) = std::sync::mpsc::sync_channel::<ChunkOut>(window);
    let collected = std::thread::scope(|scope| {
        let writer = scope.spawn(move || collect_chunks(out_dir, receive));
        'windows: for start in (0..chunks).step_by(window) {
            let end = (start + window).min(chunks);
            let window_cores: Vec<_> = cores.drain(..end - start).collect();
            let outs: Vec<ChunkOut> = (start..end)
                .into_par_iter()
                .zip(window_cores)
                .map(|(c, cores)| generate_chunk(&world, names, &plan, c, cores))
                .collect();
            for o in outs {
                if send.send(o).is_err() {
                    // The writer stopped on an error; joining it tells which.
                    break 'windows;
                }
            }
            progress((end as u64 * CHUNK).min(config.people));
        }
        drop(send);
        writer.join().expect("the writer thread does not panic")
    })?;
    let Collected {
        dmf,
        mut reports,
        candidates,
        deaths,
    } = collected;

    // The DMF, sorted by SSN as the published parts are. A key is the SSN, then the chunk and
    // the line's place in it (a chunk has at most 2^16 people).
    let mut order: Vec<u64> = Vec::with_capacity(dmf.iter().map(|(s, _)| s.len()).sum());
    for (c, (ssns, _)) in dmf.iter().enumerate() {
        let c = (c as u64) << 16;
        order.extend(
            ssns.iter()
                .enumerate()
                .map(|(i, &s)| (u64::from(s) << 32) | c | i as u64),
        );
    }
    order.par_sort_unstable();
    let mut file = OutFile::create(out_dir, "dmf.txt")?;
    for key in &order {
        let lines = &dmf[(key >> 16 & 0xffff) as usize].1;
        let i = (key & 0xffff) as usize;
        file.write(&lines[i * DMF_LINE..(i + 1) * DMF_LINE])?;
    }
    file.finish()?;
    let dmf_records = order.len() as u64;
    drop((order, dmf));

    // Candidates in priority order: clients come from the front, wrong reports from the back.
    let (mut dead, mut living): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| c.in_dmf);
    dead.sort_unstable_by_key(|c| (c.priority, c.ssn));
    living.sort_unstable_by_key(|c| (c.priority, c.ssn));

    let erroneous = add_erroneous(&world, &living, &mut reports);
    write_reports(&world, &mut reports, out_dir)?;
    let (clients, clients_in_dmf) = clients::write(&world, names, &living, &dead, out_dir)?;

    let summary = Summary {
        people: config.people,
        deaths,
        dmf_records,
        reports: reports.len() as u64,
        erroneous_reports: erroneous,
        clients,
        clients_in_dmf,
    };
    write_manifest(config, &summary, out_dir)?;
    Ok(summary)
}

/// What the chunks leave after their people and deaths are written.
#[derive(Debug, Default)]
struct Collected {
    /// Per chunk: the SSNs of its DMF lines, and the lines.
    dmf: Vec<(Vec<u32>, Vec<u8>)>,
    reports: Vec<Report>,
    candidates: Vec<population::Candidate>,
    deaths: u64,
}

/// The writer thread: writes `people.csv` and `truth_deaths.csv` from chunks received in order
/// and keeps the rest.
fn collect_chunks(
    dir: &Path,
    chunks: std::sync::mpsc::Receiver<ChunkOut>,
) -> Result<Collected, SynthError> {
    let mut people = OutFile::create(dir, "people.csv")?;
    people.write(b"ssn,first,middle,last,suffix,sex,dob,birth_state\n")?;
    let mut truth = OutFile::create(dir, "truth_deaths.csv")?;
    truth.write(b"ssn,dod,first_source,reported,in_dmf\n")?;
    let mut collected = Collected::default();
    for o in chunks {
        people.write(&o.people)?;
        truth.write(&o.truth_deaths)?;
        collected.dmf.push((o.dmf_ssns, o.dmf_lines));
        collected.reports.extend(o.reports);
        collected.candidates.extend(o.candidates);
        collected.deaths += o.deaths;
    }
    people.finish()?;
    truth.finish()?;
    Ok(collected)
}

/// Adds reports about living people, so that they are [`ERRONEOUS_SHARE`] of all reports.
fn add_erroneous(w: &World, living: &[population::Candidate], reports: &mut Vec<Report>) -> u64 {
    let mut rng = rng_for(w.seed, stream::ERRONEOUS, 0);
    let expected = reports.len() as f64 * ERRONEOUS_SHARE / (1.0 - ERRONEOUS_SHARE);
    let mut wanted = expected.floor() as u64 + u64::from(rng.random::<f64>() < expected.fract());
    let mut added = 0;
    for subject in living.iter().rev() {
        if wanted == 0 {
            break;
        }
        let source = reports::erroneous_source(&mut rng);
        let lag = reports::lag(&mut rng, source).min(90);
        let earliest = (w.cutoff_day + 1).max(subject.birth.days_since_epoch() + lag);
        if earliest > w.as_of_day {
            continue;
        }
        let received = rng.random_range(earliest..=w.as_of_day);
        let dod = population::date(received - lag);
        let evidence = reports::evidence(&mut rng, source, subject.state, dod.year());
        reports.push(Report {
            received,
            ssn: subject.ssn,
            name: subject.name,
            dob: subject.birth,
            dod,
            source,
            evidence,
            erroneous: true,
        });
        wanted -= 1;
        added += 1;
    }
    added
}

/// Writes `reports.ndjson` (oldest received first) and `truth_reports.csv`.
fn write_reports(w: &World, reports: &mut [Report], dir: &Path) -> Result<(), SynthError> {
    // Stable: reports of one day and SSN keep the order they were made in.
    reports.sort_by_key(|r| (r.received, r.ssn));
    let mut rng = rng_for(w.seed, stream::KEYS, 0);
    let mut ndjson = Vec::with_capacity(reports.len() * 300);
    let mut truth = Vec::with_capacity(reports.len() * 60 + 32);
    truth.extend_from_slice(b"idempotency_key,ssn,erroneous\n");
    for r in reports.iter() {
        let key = reports::idempotency_key(&mut rng);
        r.push_ndjson(&key, &mut ndjson);
        truth.extend_from_slice(key.as_bytes());
        truth.push(b',');
        push_ssn(&mut truth, r.ssn);
        truth.extend_from_slice(if r.erroneous { b",true\n" } else { b",false\n" });
    }
    for (name, bytes) in [("reports.ndjson", &ndjson), ("truth_reports.csv", &truth)] {
        let mut file = OutFile::create(dir, name)?;
        file.write(bytes)?;
        file.finish()?;
    }
    Ok(())
}

/// Writes `manifest.json`: the parameters of the run and its counts.
fn write_manifest(config: &Config, s: &Summary, dir: &Path) -> Result<(), SynthError> {
    let mut m = Vec::new();
    m.extend_from_slice(b"{\n  \"generator\": \"dmf-synth ");
    m.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    m.extend_from_slice(b"\",\n  \"seed\": ");
    push_u64(&mut m, config.seed);
    m.extend_from_slice(b",\n  \"people\": ");
    push_u64(&mut m, config.people);
    m.extend_from_slice(b",\n  \"as_of\": \"");
    out::push_date(&mut m, config.as_of);
    m.extend_from_slice(b"\",\n  \"report_days\": ");
    push_u64(&mut m, u64::from(config.report_days));
    for (key, value) in [
        ("deaths", s.deaths),
        ("dmf_records", s.dmf_records),
        ("reports", s.reports),
        ("erroneous_reports", s.erroneous_reports),
        ("clients", s.clients),
        ("clients_in_dmf", s.clients_in_dmf),
    ] {
        m.extend_from_slice(b",\n  \"");
        m.extend_from_slice(key.as_bytes());
        m.extend_from_slice(b"\": ");
        push_u64(&mut m, value);
    }
    m.extend_from_slice(b"\n}\n");
    let mut file = OutFile::create(dir, "manifest.json")?;
    file.write(&m)?;
    file.finish()
}

#[cfg(test)]
mod tests;
