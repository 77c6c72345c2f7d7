//! Death reports: which source reports first, how long each source takes, what evidence it
//! cites, the wrong reports about living people, and the NDJSON stream they are written to.

use dmf_model::{Date, DeathSource, Ssn};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::name::Name;
use crate::out::{iso_date, push_json_member};
use crate::states::STATES;

/// Share of all reports that are about living people (SSA's published error rate).
pub(crate) const ERRONEOUS_SHARE: f64 = 0.0035;

/// Weights of the non-state sources of a first report, in [`DeathSource::ALL`] order after the
/// state: funeral home, family, hospital, federal agency, financial institution.
const NON_STATE_WEIGHTS: [f64; 5] = [25.0, 7.0, 5.0, 5.0, 3.0];

/// The share of first reports that come from a state vital-records office in `year`: few
/// before electronic death registration spread (from the late 1980s), 55% once it covered
/// the country. Over the whole file this gives roughly the published share of state-reported
/// deaths (about 40 of 142 million).
pub(crate) fn state_share(year: u16) -> f64 {
    match year {
        ..=1985 => 0.08,
        1986..=2015 => 0.08 + 0.47 * f64::from(year - 1985) / 30.0,
        _ => 0.55,
    }
}

fn pick<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// The source of the first report of a death in `year`.
pub(crate) fn first_source<R: Rng + ?Sized>(rng: &mut R, year: u16) -> DeathSource {
    if rng.random_bool(state_share(year)) {
        DeathSource::StateVitalRecords
    } else {
        DeathSource::ALL[1 + pick(rng, &NON_STATE_WEIGHTS)]
    }
}

/// The source of an independent second report, if one comes. A death first reported by
/// someone else is usually confirmed later, most often by the state; a state report is
/// sometimes followed by a funeral home's or an agency's.
pub(crate) fn second_source<R: Rng + ?Sized>(
    rng: &mut R,
    first: DeathSource,
) -> Option<DeathSource> {
    if first == DeathSource::StateVitalRecords {
        if !rng.random_bool(0.15) {
            return None;
        }
        return Some(DeathSource::ALL[1 + pick(rng, &[6.0, 0.0, 1.0, 2.0, 1.0])]);
    }
    if !rng.random_bool(0.85) {
        return None;
    }
    if rng.random_bool(0.8) {
        return Some(DeathSource::StateVitalRecords);
    }
    let mut weights = NON_STATE_WEIGHTS;
    let own = DeathSource::ALL
        .iter()
        .position(|&s| s == first)
        .expect("a source")
        - 1;
    weights[own] = 0.0;
    Some(DeathSource::ALL[1 + pick(rng, &weights)])
}

/// Days from death to receipt of a report from `source`: log-normal around a source-typical
/// median (funeral homes in days, states in one to a few weeks, agencies and banks in months).
pub(crate) fn lag<R: Rng + ?Sized>(rng: &mut R, source: DeathSource) -> i32 {
    let (median, sigma, min) = match source {
        DeathSource::StateVitalRecords => (10.0, 0.7, 1.0),
        DeathSource::FuneralHome => (4.0, 0.6, 1.0),
        DeathSource::Family => (10.0, 0.9, 1.0),
        DeathSource::Hospital => (5.0, 0.7, 1.0),
        DeathSource::FederalAgency => (45.0, 0.7, 7.0),
        DeathSource::FinancialInstitution => (60.0, 0.7, 14.0),
    };
    let z: f64 = rng.sample(StandardNormal);
    let days: f64 = median * (sigma * z).exp();
    days.clamp(min, 720.0).round() as i32
}

/// The evidence a source cites: an electronic death registration number, a funeral director's
/// statement (form SSA-721), a call record, an agency's or a bank's reference.
pub(crate) fn evidence<R: Rng + ?Sized>(
    rng: &mut R,
    source: DeathSource,
    state: u8,
    year: u16,
) -> String {
    match source {
        DeathSource::StateVitalRecords => {
            let n: u32 = rng.random_range(1..1_000_000);
            format!("EDRS-{}-{year}{n:06}", STATES[usize::from(state)].code)
        }
        DeathSource::FuneralHome => format!("SSA-721-{:07}", rng.random_range(1..10_000_000u32)),
        DeathSource::Family => format!("call-{:08}", rng.random_range(1..100_000_000u32)),
        DeathSource::Hospital => format!("HOSP-{:08}", rng.random_range(1..100_000_000u32)),
        DeathSource::FederalAgency => {
            let agency = ["VA", "CMS", "OPM", "RRB"][pick(rng, &[5.0, 3.0, 1.5, 0.5])];
            format!("{agency}-{:08}", rng.random_range(1..100_000_000u32))
        }
        DeathSource::FinancialInstitution => {
            // ACH return R15: beneficiary or account holder deceased; R14: payee deceased.
            let code = if rng.random_bool(0.85) { "R15" } else { "R14" };
            format!("ACH-{code}-{:09}", rng.random_range(1..1_000_000_000u32))
        }
    }
}

/// The source of a wrong report about a living person: rarely a state.
pub(crate) fn erroneous_source<R: Rng + ?Sized>(rng: &mut R) -> DeathSource {
    DeathSource::ALL[pick(rng, &[10.0, 25.0, 20.0, 10.0, 20.0, 15.0])]
}

/// A death report as received.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// Days since 1970.
    pub received: i32,
    pub ssn: Ssn,
    pub name: Name,
    pub dob: Date,
    pub dod: Date,
    pub source: DeathSource,
    pub evidence: String,
    /// About a living person.
    pub erroneous: bool,
}

impl Report {
    /// One NDJSON line, with its newline.
    pub fn push_ndjson(&self, key: &str, out: &mut Vec<u8>) {
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("ASCII digits");
        out.push(b'{');
        push_json_member(out, "type", "death_report");
        push_json_member(out, "ssn", &text(&self.ssn.digits()));
        push_json_member(out, "first", self.name.first());
        if let Some(m) = self.name.middle() {
            push_json_member(out, "middle", m);
        }
        push_json_member(out, "last", self.name.last());
        if let Some(s) = self.name.suffix() {
            push_json_member(out, "suffix", s);
        }
        push_json_member(out, "dob", &text(&iso_date(self.dob)));
        push_json_member(out, "dod", &text(&iso_date(self.dod)));
        push_json_member(out, "source", self.source.code());
        push_json_member(out, "evidence", &self.evidence);
        let received = Date::from_days_since_epoch(self.received).expect("a date");
        push_json_member(out, "received", &text(&iso_date(received)));
        push_json_member(out, "idempotency_key", key);
        out.extend_from_slice(b"}\n");
    }
}

/// An idempotency key as a sender would make one: a random (version 4) UUID.
pub(crate) fn idempotency_key<R: Rng + ?Sized>(rng: &mut R) -> String {
    let a: u64 = rng.random();
    let b: u64 = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}
