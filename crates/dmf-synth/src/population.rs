//! The population, chunk by chunk: who is born when and where, gets which number when, is
//! called what, dies when, and is reported by whom.
//!
//! Each chunk of people has random streams of its own, seeded from the run's seed and the
//! chunk's index, so chunks can be made in any order on any number of threads. One stream
//! draws what decides the SSN (birth, state, date of issue); a first pass runs only that
//! stream to count numbers per state and year, so the second pass can hand out serials in
//! sequence per state across chunks. The names and the rest (death, reports) have a stream
//! each.

use dmf_data::Sex;
use dmf_format::{ChangeCode, DmfRecord, LineEnding, write_record};
use dmf_model::{
    Date, DeathReport, DeathSource, NamePart, PartialDate, PersonName, Reference, Ssn, Subject,
    Suffix, VerificationLevel,
};
use rand::{Rng, RngExt};
use rand_pcg::Pcg64Mcg;

use crate::config::{Config, SynthError};
use crate::name::Name;
use crate::out::{push_date, push_ssn};
use crate::reports::{self, Report};
use crate::rng::{mix, rng_for, stream};
use crate::ssn::{POOL_CAPACITY, RandomPool, capacity, state_ssn};
use crate::states::STATES;
use crate::tables::{MAX_AGE, Names, ShortName, Tables, anniversary};

/// People per chunk: large enough to amortize per-chunk work, small enough to balance threads.
pub(crate) const CHUNK: u64 = 1 << 16;

/// First SSNs were issued in late November 1936.
pub(crate) fn ssa_start() -> i32 {
    day(1936, 11, 24)
}

/// From this day numbers are randomized.
fn randomization() -> i32 {
    day(2011, 6, 25)
}

/// Years of issue of structured numbers, 1936 to 2011: the unit of the per-state sequence.
const FIRST_ISSUE_YEAR: u16 = 1936;
const ISSUE_YEARS: usize = 2011 - 1936 + 1;

pub(crate) fn day(y: u16, m: u8, d: u8) -> i32 {
    Date::new(y, m, d).expect("a valid date").days_since_epoch()
}

pub(crate) fn date(days: i32) -> Date {
    Date::from_days_since_epoch(days).expect("a date within 1800-2199")
}

/// A suffix, as an index into the suffixes: Jr 70%, Sr 15%, II 10%, III 5%.
pub(crate) fn draw_suffix<R: Rng + ?Sized>(rng: &mut R) -> u8 {
    match rng.random_range(0..20) {
        0..14 => 0,
        14..17 => 1,
        17..19 => 2,
        _ => 3,
    }
}

/// What a run needs besides its tables, derived once from the [`Config`].
#[derive(Debug)]
pub(crate) struct World {
    pub t: Tables,
    pub seed: u64,
    pub people: u64,
    pub as_of: Date,
    pub as_of_day: i32,
    /// Reports received on or before this day are in the DMF; later ones are the stream.
    pub cutoff_day: i32,
    /// A person becomes a candidate for the client file and wrong reports when the top 53 bits
    /// of its priority hash are below this.
    pub candidate_threshold: u64,
    pub clients: u64,
}

impl World {
    pub fn new(config: &Config, clients: u64) -> Result<World, SynthError> {
        let as_of = config.as_of;
        if as_of < Date::new(1937, 1, 1).expect("a date") {
            return Err(SynthError::AsOfTooEarly(as_of));
        }
        let cutoff = as_of
            .add_days(-i32::try_from(config.report_days).unwrap_or(i32::MAX))
            .filter(|d| d.year() >= 1900)
            .ok_or(SynthError::ReportWindow(config.report_days))?;
        // Enough candidates for the living and dead clients, the wrong reports, and slack.
        let wanted = 1.6 * clients as f64 + 1000.0;
        let share = (wanted / config.people.max(1) as f64 + 0.01).min(1.0);
        Ok(World {
            t: Tables::load(as_of),
            seed: config.seed,
            people: config.people,
            as_of,
            as_of_day: as_of.days_since_epoch(),
            cutoff_day: cutoff.days_since_epoch(),
            candidate_threshold: (share * (1u64 << 53) as f64) as u64,
            clients,
        })
    }

    pub fn chunks(&self) -> usize {
        self.people.div_ceil(CHUNK) as usize
    }

    fn chunk_range(&self, chunk: usize) -> std::ops::Range<u64> {
        let start = chunk as u64 * CHUNK;
        start..(start + CHUNK).min(self.people)
    }
}

/// A random stream of a chunk: what decides the number, the names, or the rest.
fn chunk_rng(seed: u64, chunk: usize, kind: u64) -> Pcg64Mcg {
    rng_for(seed, kind, chunk as u64)
}

/// What decides a person's number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Core {
    sex: Sex,
    birth: Date,
    state: u8,
    /// Day the number was issued, as days since 1970 and as a date.
    issue: i32,
    issue_date: Date,
}

fn draw_core<R: Rng + ?Sized>(w: &World, rng: &mut R) -> Core {
    let (year, sex) = w.t.draw_birth_cell(rng);
    let first = day(year, 1, 1);
    let last = if year == w.as_of.year() {
        w.as_of_day
    } else {
        day(year, 12, 31)
    };
    let birth_day = rng.random_range(first..=last);
    let birth = date(birth_day);
    let state = w.t.draw_state(rng);
    let issue = issue_day(rng, birth, birth_day, w.as_of_day);
    Core {
        sex,
        birth,
        state,
        issue,
        issue_date: date(issue),
    }
}

/// When a person born on `birth` got a number: at birth from 1987 on (enumeration at birth);
/// earlier, at a first job in the teens or early twenties, but by 1987-88 for children then
/// (dependants on tax returns needed numbers), and never before the SSA began in 1936.
pub(crate) fn issue_day<R: Rng + ?Sized>(
    rng: &mut R,
    birth: Date,
    birth_day: i32,
    as_of: i32,
) -> i32 {
    let issue = if birth.year() >= 1987 {
        birth_day + rng.random_range(0..=60)
    } else {
        let u: f64 = rng.random::<f64>().min(rng.random::<f64>());
        let mut d = birth_day + ((14.0 + 11.0 * u) * 365.25) as i32;
        let policy = day(1987, 1, 1) + rng.random_range(0..730);
        if birth.year() >= 1966 {
            d = d.min(policy);
        }
        if d < ssa_start() {
            // The 1936-37 registration drive, or later when claiming benefits.
            let lag = if rng.random_bool(0.6) {
                rng.random_range(0..400)
            } else {
                rng.random_range(0..7300)
            };
            d = ssa_start() + lag;
        }
        d
    };
    issue.clamp(birth_day, as_of)
}

fn issue_year_index(issue: Date) -> usize {
    usize::from(issue.year() - FIRST_ISSUE_YEAR)
}

/// Pass 1 of a chunk: structured numbers per state and year of issue, and randomized ones.
#[derive(Debug, Clone)]
pub(crate) struct ChunkCounts {
    by_state_year: Vec<u32>,
    randomized: u64,
}

/// Up to this many people, pass 1 keeps what it drew (16 bytes a person) for pass 2; beyond,
/// pass 2 draws it again from the same stream, which gives the same people.
const KEEP_CORES_UP_TO: u64 = 1 << 26;

/// Pass 1 of a chunk: its counts, and its people's cores when they are kept.
pub(crate) fn count_chunk(w: &World, chunk: usize) -> (ChunkCounts, Option<Vec<Core>>) {
    let mut rng = chunk_rng(w.seed, chunk, stream::CORE);
    let mut counts = ChunkCounts {
        by_state_year: vec![0; STATES.len() * ISSUE_YEARS],
        randomized: 0,
    };
    let range = w.chunk_range(chunk);
    let mut cores = (w.people <= KEEP_CORES_UP_TO)
        .then(|| Vec::with_capacity((range.end - range.start) as usize));
    let randomization = randomization();
    for _ in range {
        let core = draw_core(w, &mut rng);
        if let Some(cores) = &mut cores {
            cores.push(core);
        }
        if core.issue >= randomization {
            counts.randomized += 1;
        } else {
            let cell = usize::from(core.state) * ISSUE_YEARS + issue_year_index(core.issue_date);
            counts.by_state_year[cell] += 1;
        }
    }
    (counts, cores)
}

/// Where each chunk's numbers start, from the counts of pass 1.
#[derive(Debug)]
pub(crate) struct SsnPlan {
    /// Per chunk, per state and year of issue: the position in the state's sequence of the
    /// chunk's first number of that year.
    bases: Vec<Vec<u32>>,
    /// Per chunk: the counter of its first randomized number.
    random_bases: Vec<u64>,
    /// Per state: sequence positions are spread `stride` slots apart, so a small population
    /// reaches the groups a real one would (one person stands for `stride` numbers).
    stride: [u64; STATES.len()],
    /// Per state: positions that fit in its areas; later ones overflow into the pool.
    fit: [u64; STATES.len()],
    /// Per state: the pool counter of its first overflowing number.
    overflow_base: [u64; STATES.len()],
    pool: RandomPool,
}

impl SsnPlan {
    pub fn new(w: &World, counts: &[ChunkCounts]) -> Result<SsnPlan, SynthError> {
        let n_states = STATES.len();
        let mut bases = vec![vec![0u32; n_states * ISSUE_YEARS]; counts.len()];
        let mut totals = [0u64; STATES.len()];
        for (st, total) in totals.iter_mut().enumerate() {
            let mut running = 0u64;
            for y in 0..ISSUE_YEARS {
                let cell = st * ISSUE_YEARS + y;
                for (c, chunk) in counts.iter().enumerate() {
                    bases[c][cell] = u32::try_from(running).expect("fewer than 2^32 per state");
                    running += u64::from(chunk.by_state_year[cell]);
                }
            }
            *total = running;
        }
        let mut random_bases = Vec::with_capacity(counts.len());
        let mut randomized = 0;
        for chunk in counts {
            random_bases.push(randomized);
            randomized += chunk.randomized;
        }
        let scale = (w.t.applicants_total / w.people.max(1) as f64).max(1.0) as u64;
        let mut stride = [1; STATES.len()];
        let mut fit = [0; STATES.len()];
        let mut overflow_base = [0; STATES.len()];
        let mut next_pool = randomized;
        for (st, state) in STATES.iter().enumerate() {
            let cap = capacity(state.areas);
            let total = totals[st];
            stride[st] = scale.min(cap / total.max(1)).max(1);
            fit[st] = total.min(cap / stride[st]);
            overflow_base[st] = next_pool;
            next_pool += total - fit[st];
        }
        if next_pool > POOL_CAPACITY {
            return Err(SynthError::SsnSpaceExhausted {
                needed: next_pool,
                available: POOL_CAPACITY,
            });
        }
        Ok(SsnPlan {
            bases,
            random_bases,
            stride,
            fit,
            overflow_base,
            pool: RandomPool::new(w.seed),
        })
    }

    /// The number at position `pos` of state `st`'s sequence.
    fn structured<R: Rng + ?Sized>(&self, st: usize, pos: u64, rng: &mut R) -> Ssn {
        if pos < self.fit[st] {
            let stride = self.stride[st];
            let jitter = if stride > 1 {
                rng.random_range(0..stride)
            } else {
                0
            };
            state_ssn(STATES[st].areas, pos * stride + jitter)
        } else {
            self.pool.ssn(self.overflow_base[st] + pos - self.fit[st])
        }
    }
}

/// A person kept for the client file or a wrong death report.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// A hash of the seed and the person's index: orders candidates for a uniform choice.
    pub priority: u64,
    pub ssn: Ssn,
    pub name: Name,
    pub birth: Date,
    pub state: u8,
    /// Dead and listed in dmf.txt; otherwise alive on the as-of date.
    pub in_dmf: bool,
}

/// What a chunk contributes to the files.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    pub people: Vec<u8>,
    pub truth_deaths: Vec<u8>,
    /// SSNs of the DMF lines, in the order of `dmf_lines`.
    pub dmf_ssns: Vec<u32>,
    /// DMF lines of [`DMF_LINE`] bytes each.
    pub dmf_lines: Vec<u8>,
    pub reports: Vec<Report>,
    pub candidates: Vec<Candidate>,
    pub deaths: u64,
}

/// A DMF record and its LF.
pub(crate) const DMF_LINE: usize = dmf_format::RECORD_LEN + 1;

/// The share of deaths in `year` recorded without the day, as in the real file: most before
/// 1980, few after 2000.
pub(crate) fn day_unknown_share(year: u16) -> f64 {
    match year {
        ..=1979 => 0.95,
        1980..=2000 => 0.95 - 0.90 * f64::from(year - 1979) / 21.0,
        _ => 0.01,
    }
}

/// The verification code of a DMF record: blank before 1987, then mostly `V` or `P`.
pub(crate) fn verification<R: Rng + ?Sized>(
    rng: &mut R,
    year: u16,
    state: bool,
) -> VerificationLevel {
    if year < 1987 {
        return VerificationLevel::None;
    }
    let u: f64 = rng.random();
    let (proof, verified) = if state { (0.55, 0.95) } else { (0.25, 0.85) };
    if u < proof {
        VerificationLevel::ProofSeen
    } else if u < verified {
        VerificationLevel::Verified
    } else {
        VerificationLevel::None
    }
}

/// The names of a chunk's people: surname by Census frequency, first and middle name from the
/// birth decade and sex. They are drawn group by group (decade and sex), from a stream of
/// their own, so that a group's tables stay in cache while it is drawn.
fn draw_names(seed: u64, names: &Names, chunk: usize, cores: &[Core]) -> Vec<Name> {
    let mut rng = chunk_rng(seed, chunk, stream::NAMES);
    let groups: Vec<usize> = cores
        .iter()
        .map(|c| names.first_table_index(c.birth.year(), c.sex))
        .collect();
    // A counting sort by group keeps the chunk's order within each group.
    let mut starts = vec![0usize; names.first_table_count() + 1];
    for &g in &groups {
        starts[g + 1] += 1;
    }
    for g in 1..starts.len() {
        starts[g] += starts[g - 1];
    }
    let mut order = vec![0u32; cores.len()];
    for (i, &g) in groups.iter().enumerate() {
        order[starts[g]] = i as u32;
        starts[g] += 1;
    }
    let empty = ShortName::EMPTY;
    let mut out = vec![Name::new(empty, None, empty, None); cores.len()];
    for i in order {
        let i = i as usize;
        let core = &cores[i];
        let last = names.draw_surname(&mut rng);
        let firsts = names.first_table(core.birth.year(), core.sex);
        let first = firsts.draw(&mut rng);
        let middle = rng.random_bool(0.70).then(|| {
            let m = firsts.draw(&mut rng);
            if m == first { firsts.draw(&mut rng) } else { m }
        });
        let suffix = (core.sex == Sex::M && rng.random_bool(0.03)).then(|| draw_suffix(&mut rng));
        let first_names = &names.first_names;
        out[i] = Name::new(
            first_names[first as usize],
            middle.map(|m| first_names[m as usize]),
            names.surnames[last as usize],
            suffix,
        );
    }
    out
}

/// Pass 2 of a chunk: everything about its people.
pub(crate) fn generate_chunk(
    w: &World,
    names: &Names,
    plan: &SsnPlan,
    chunk: usize,
    cores: Option<Vec<Core>>,
) -> ChunkOut {
    let t = &w.t;
    let range = w.chunk_range(chunk);
    let n = (range.end - range.start) as usize;
    let cores = cores.unwrap_or_else(|| {
        let mut core_rng = chunk_rng(w.seed, chunk, stream::CORE);
        range.clone().map(|_| draw_core(w, &mut core_rng)).collect()
    });
    let person_names = draw_names(w.seed, names, chunk, &cores);
    let mut rng = chunk_rng(w.seed, chunk, stream::REST);
    let mut next = plan.bases[chunk].clone();
    let mut next_random = plan.random_bases[chunk];
    let randomization = randomization();
    let mut out = ChunkOut {
        people: Vec::with_capacity(n * 64),
        truth_deaths: Vec::with_capacity(n * 16),
        dmf_ssns: Vec::with_capacity(n / 2),
        dmf_lines: Vec::with_capacity(n / 2 * DMF_LINE),
        ..ChunkOut::default()
    };
    let mut record = Vec::with_capacity(DMF_LINE + 1);
    for (i, index) in range.enumerate() {
        let core = cores[i];
        let st = usize::from(core.state);
        let ssn = if core.issue >= randomization {
            next_random += 1;
            plan.pool.ssn(next_random - 1)
        } else {
            let cell = st * ISSUE_YEARS + issue_year_index(core.issue_date);
            next[cell] += 1;
            plan.structured(st, u64::from(next[cell] - 1), &mut rng)
        };

        let name = person_names[i];
        let birth_year = core.birth.year();

        // Death: an age from the cohort life table, given alive when the number was issued.
        let issue_age = core.issue_date.years_since(core.birth).max(0) as usize;
        let age = t.death_age(birth_year, core.sex, issue_age.min(MAX_AGE), rng.random());
        let from = anniversary(core.birth, age).max(core.issue);
        let to = anniversary(core.birth, age + 1) - 1;
        let dod = rng.random_range(from..=to.max(from));
        let dead = dod <= w.as_of_day;

        let p = &mut out.people;
        push_ssn(p, ssn);
        p.push(b',');
        // Table names are letters only (the data crate's tests say so): no quoting needed, and
        // none starts a spreadsheet formula.
        name.first.push_to(p);
        p.push(b',');
        name.middle.push_to(p);
        p.push(b',');
        name.last.push_to(p);
        p.push(b',');
        p.extend_from_slice(name.suffix().unwrap_or("").as_bytes());
        p.push(b',');
        p.extend_from_slice(core.sex.code().as_bytes());
        p.push(b',');
        push_date(p, core.birth);
        p.push(b',');
        p.extend_from_slice(STATES[st].code.as_bytes());
        p.push(b'\n');

        let mut in_dmf = false;
        if dead {
            out.deaths += 1;
            in_dmf = death(w, &mut rng, &mut out, &mut record, ssn, name, &core, dod);
        }

        let priority = mix(w.seed ^ mix(index ^ 0x00c1_1e47));
        if (priority >> 11) < w.candidate_threshold && (!dead || in_dmf) {
            out.candidates.push(Candidate {
                priority,
                ssn,
                name,
                birth: core.birth,
                state: core.state,
                in_dmf,
            });
        }
    }
    out
}

/// A death's reports, truth line and DMF record; returns whether it is in the DMF.
#[allow(clippy::too_many_arguments)]
fn death(
    w: &World,
    rng: &mut Pcg64Mcg,
    out: &mut ChunkOut,
    record: &mut Vec<u8>,
    ssn: Ssn,
    name: Name,
    core: &Core,
    dod: i32,
) -> bool {
    let t = &w.t;
    let dod_date = date(dod);
    let year = dod_date.year();
    // The state where the death was registered: mostly the state of birth.
    let death_state = if rng.random_bool(0.75) {
        core.state
    } else {
        t.draw_state(rng)
    };
    let first = reports::first_source(rng, year);
    let first_received = dod + reports::lag(rng, first);
    let second = reports::second_source(rng, first).map(|source| {
        let mut received = dod + reports::lag(rng, source);
        if received <= first_received {
            received = first_received + 1 + rng.random_range(0..14);
        }
        (source, received)
    });
    let reported = first_received <= w.as_of_day;
    let in_dmf = first_received <= w.cutoff_day;

    let d = &mut out.truth_deaths;
    push_ssn(d, ssn);
    d.push(b',');
    push_date(d, dod_date);
    d.push(b',');
    d.extend_from_slice(first.code().as_bytes());
    d.extend_from_slice(if reported { b",true" } else { b",false" });
    d.extend_from_slice(if in_dmf { b",true\n" } else { b",false\n" });

    let in_window = |received: i32| received > w.cutoff_day && received <= w.as_of_day;
    let mut first_evidence = None;
    if in_dmf || in_window(first_received) {
        first_evidence = Some(reports::evidence(rng, first, death_state, year));
    }
    if in_dmf {
        let evidence = first_evidence.as_deref().expect("drawn above");
        dmf_line(rng, out, record, ssn, name, core, dod_date, first, evidence);
    }
    for (source, received, evidence) in [
        Some((first, first_received, first_evidence)),
        second.map(|(s, r)| (s, r, None)),
    ]
    .into_iter()
    .flatten()
    {
        if in_window(received) {
            let evidence =
                evidence.unwrap_or_else(|| reports::evidence(rng, source, death_state, year));
            out.reports.push(Report {
                received,
                ssn,
                name,
                dob: core.birth,
                dod: dod_date,
                source,
                evidence,
                erroneous: false,
            });
        }
    }
    in_dmf
}

/// The DMF line of a death, made through the record model: a report from its first source
/// establishes the death, and the record is written from that.
#[allow(clippy::too_many_arguments)]
fn dmf_line(
    rng: &mut Pcg64Mcg,
    out: &mut ChunkOut,
    record: &mut Vec<u8>,
    ssn: Ssn,
    name: Name,
    core: &Core,
    dod: Date,
    source: DeathSource,
    evidence: &str,
) {
    let year = dod.year();
    let dod = if rng.random_bool(day_unknown_share(year)) {
        PartialDate::from(dod).without_day()
    } else {
        PartialDate::from(dod)
    };
    let verification = verification(rng, year, source == DeathSource::StateVitalRecords);
    // The file mostly carries the middle initial only.
    let middle = name.middle().and_then(|m| {
        let u: f64 = rng.random();
        if u < 0.80 {
            Some(&m[..1])
        } else if u < 0.92 {
            Some(m)
        } else {
            None
        }
    });
    let part = |text: &str| NamePart::new(text).expect("table names have letters");
    let person = PersonName {
        first: part(name.first()),
        middle: middle.map(part),
        last: part(name.last()),
        suffix: name.suffix().map(|s| Suffix::new(s).expect("a suffix")),
    };
    let dob = Some(PartialDate::from(core.birth));
    let subject = Subject {
        ssn,
        name: person.clone().into(),
        dob,
        sex: None,
    };
    let evidence = Reference::new(evidence).expect("evidence is one short line");
    let report = DeathReport::new(subject, dod, source, evidence, verification)
        .expect("death is after birth");
    record.clear();
    write_record(
        &DmfRecord::from_death(ChangeCode::Full, ssn, &person, dob, report.death()),
        LineEnding::Lf,
        record,
    );
    debug_assert_eq!(record.len(), DMF_LINE);
    out.dmf_lines.extend_from_slice(record);
    out.dmf_ssns.push(ssn.as_u32());
}
