//! A subscriber's customer file to match against the DMF: some customers died and are listed,
//! most are alive, a few are not in the population at all, and every field carries the errors
//! that customer files have (typos, nicknames, swapped names and dates, wrong or missing SSNs).

use std::path::Path;

use dmf_data::Sex;
use dmf_model::{Date, Ssn, days_in_month};
use rand::{Rng, RngExt};
use rayon::prelude::*;

use crate::config::SynthError;
use crate::name::Name;
use crate::out::{OutFile, iso_date, push_csv, push_ssn};
use crate::population::{Candidate, World, date, day};
use crate::rng::{rng_for, stream};
use crate::tables::{Names, title_case};

/// Shares of the customers: listed as dead in the DMF, and not in the population at all.
const IN_DMF_SHARE: f64 = 0.20;
const OUTSIDER_SHARE: f64 = 0.02;

/// Error rates of a customer file.
pub(crate) const TYPO: f64 = 0.05;
pub(crate) const NICKNAME: f64 = 0.08;
pub(crate) const SWAPPED_NAMES: f64 = 0.01;
pub(crate) const DAY_MONTH_SWAPPED: f64 = 0.02;
pub(crate) const DAY_MISSING: f64 = 0.02;
pub(crate) const SSN_MISSING: f64 = 0.10;
pub(crate) const SSN_DIGIT_WRONG: f64 = 0.02;
pub(crate) const SSN_DIGITS_SWAPPED: f64 = 0.01;

/// Who a customer is.
#[derive(Debug, Clone, Copy)]
enum Customer<'a> {
    Person(&'a Candidate),
    /// Someone the population does not hold (a number from an area it never issues).
    Outsider,
}

/// Writes `client.csv` and `client_truth.csv`; returns the number of customers and of those
/// listed in the DMF. `living` and `dead` are candidates in priority order; the first ones are
/// taken.
pub(crate) fn write(
    w: &World,
    names: &Names,
    living: &[Candidate],
    dead: &[Candidate],
    dir: &Path,
) -> Result<(u64, u64), SynthError> {
    let n = w.clients;
    let outsiders = (n as f64 * OUTSIDER_SHARE).round() as u64;
    let in_dmf = ((n as f64 * IN_DMF_SHARE).round() as u64).min(dead.len() as u64);
    let alive = n
        .saturating_sub(outsiders + in_dmf)
        .min(living.len() as u64);
    let mut customers: Vec<Customer> = Vec::with_capacity(n as usize);
    customers.extend(dead[..in_dmf as usize].iter().map(Customer::Person));
    customers.extend(living[..alive as usize].iter().map(Customer::Person));
    customers.extend((0..outsiders.min(n)).map(|_| Customer::Outsider));
    let mut rng = rng_for(w.seed, stream::CLIENT_ORDER, 0);
    // Fisher-Yates, so listed, living and outside customers are mixed through the file.
    for i in (1..customers.len()).rev() {
        let j = rng.random_range(0..=i);
        customers.swap(i, j);
    }

    // Blocks of customers with random streams of their own, made on all threads.
    const BLOCK: usize = 4096;
    let blocks: Vec<(Vec<u8>, Vec<u8>)> = customers
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(b, block)| {
            let mut rng = rng_for(w.seed, stream::CLIENT_BLOCK, b as u64);
            let mut line = Vec::with_capacity(block.len() * 48);
            let mut truth = Vec::with_capacity(block.len() * 20);
            for (i, customer) in block.iter().enumerate() {
                let id = format!("C{:07}", b * BLOCK + i + 1);
                let (name, birth, ssn, listed) = match *customer {
                    Customer::Person(c) => (c.name, c.birth, c.ssn, c.in_dmf),
                    Customer::Outsider => {
                        let (name, birth, ssn) = outsider(names, &mut rng);
                        (name, birth, ssn, false)
                    }
                };
                let f = client_fields(&mut rng, names, name, birth, ssn);
                line.extend_from_slice(id.as_bytes());
                for field in [&f.ssn, &f.first, &f.middle, &f.last, &f.dob] {
                    line.push(b',');
                    push_csv(&mut line, field);
                }
                line.push(b'\n');
                truth.extend_from_slice(id.as_bytes());
                truth.push(b',');
                if listed {
                    push_ssn(&mut truth, ssn);
                }
                truth.push(b'\n');
            }
            (line, truth)
        })
        .collect();

    let mut file = OutFile::create(dir, "client.csv")?;
    let mut truth = OutFile::create(dir, "client_truth.csv")?;
    file.write(b"id,ssn,first,middle,last,dob\n")?;
    truth.write(b"id,dmf_ssn\n")?;
    for (lines, truth_lines) in &blocks {
        file.write(lines)?;
        truth.write(truth_lines)?;
    }
    file.finish()?;
    truth.finish()?;
    Ok((customers.len() as u64, in_dmf))
}

/// A person who is not in the population: a name and a birth date like anyone's, and a
/// number from the railroad areas (700-728), which the population never gets.
fn outsider<R: Rng + ?Sized>(names: &Names, rng: &mut R) -> (Name, Date, Ssn) {
    let sex = if rng.random_bool(0.5) { Sex::F } else { Sex::M };
    let birth = date(rng.random_range(day(1930, 1, 1)..=day(2005, 12, 31)));
    let firsts = names.first_table(birth.year(), sex);
    let first = firsts.draw(rng);
    let middle = rng.random_bool(0.7).then(|| firsts.draw(rng));
    let name = Name::new(
        names.first_names[first as usize],
        middle.map(|m| names.first_names[m as usize]),
        names.surnames[names.draw_surname(rng) as usize],
        None,
    );
    let ssn = Ssn::from_parts(
        rng.random_range(700..=728),
        rng.random_range(1..=99),
        rng.random_range(1..=9999),
    )
    .expect("an issuable form");
    (name, birth, ssn)
}

/// The fields of one customer as the subscriber holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFields {
    pub ssn: String,
    pub first: String,
    pub middle: String,
    pub last: String,
    pub dob: String,
}

/// A customer's record, with errors at the rates of a real customer file.
pub(crate) fn client_fields<R: Rng + ?Sized>(
    rng: &mut R,
    names: &Names,
    name: Name,
    birth: Date,
    ssn: Ssn,
) -> ClientFields {
    let mut first = name.first().to_owned();
    let nicknames = names.nicknames.get(first.to_ascii_lowercase().as_str());
    if let Some(nicks) = nicknames.filter(|_| rng.random_bool(NICKNAME)) {
        first = title_case(&nicks[rng.random_range(0..nicks.len())]);
    }
    // Customer files keep the middle name, its initial, or nothing.
    let mut middle = match name.middle() {
        Some(m) => {
            let u: f64 = rng.random();
            if u < 0.45 {
                m.to_owned()
            } else if u < 0.75 {
                m[..1].to_owned()
            } else {
                String::new()
            }
        }
        None => String::new(),
    };
    let mut last = name.last().to_owned();
    if let Some(s) = name.suffix() {
        // The suffix goes into the last name field, if kept at all.
        if rng.random_bool(0.3) {
            last = format!("{last} {s}");
        }
    }
    for part in [&mut first, &mut middle, &mut last] {
        if part.len() > 1 && rng.random_bool(TYPO) {
            *part = typo(rng, part);
        }
    }
    if rng.random_bool(SWAPPED_NAMES) {
        std::mem::swap(&mut first, &mut last);
    }
    let u: f64 = rng.random();
    if u < 0.20 {
        for part in [&mut first, &mut middle, &mut last] {
            part.make_ascii_uppercase();
        }
    } else if u < 0.30 {
        for part in [&mut first, &mut middle, &mut last] {
            part.make_ascii_lowercase();
        }
    }
    ClientFields {
        ssn: ssn_field(rng, ssn),
        first,
        middle,
        last,
        dob: dob_field(rng, birth),
    }
}

/// The date of birth as `YYYY-MM-DD`, sometimes without the day, sometimes with day and month
/// swapped (only where that still reads as a date).
pub(crate) fn dob_field<R: Rng + ?Sized>(rng: &mut R, birth: Date) -> String {
    let iso = iso_date(birth);
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("ASCII");
    if rng.random_bool(DAY_MISSING) {
        return text(&iso[..7]);
    }
    let (m, d) = (birth.month(), birth.day());
    if d <= 12 && d != m && rng.random_bool(DAY_MONTH_SWAPPED) {
        let swapped = Date::new(birth.year(), d, m.min(days_in_month(birth.year(), d)))
            .expect("day and month both at most 12");
        return text(&iso_date(swapped));
    }
    text(&iso)
}

/// The SSN as typed: sometimes missing, one digit wrong, or two neighbours swapped.
pub(crate) fn ssn_field<R: Rng + ?Sized>(rng: &mut R, ssn: Ssn) -> String {
    let mut digits = ssn.digits();
    let u: f64 = rng.random();
    if u < SSN_MISSING {
        return String::new();
    } else if u < SSN_MISSING + SSN_DIGIT_WRONG {
        let i = rng.random_range(0..9);
        let old = digits[i] - b'0';
        let mut new = rng.random_range(0..9u8);
        if new >= old {
            new += 1;
        }
        digits[i] = b'0' + new;
    } else if u < SSN_MISSING + SSN_DIGIT_WRONG + SSN_DIGITS_SWAPPED {
        let pairs: Vec<usize> = (0..8).filter(|&i| digits[i] != digits[i + 1]).collect();
        if !pairs.is_empty() {
            let i = pairs[rng.random_range(0..pairs.len())];
            digits.swap(i, i + 1);
        }
    }
    String::from_utf8(digits.to_vec()).expect("digits")
}

/// One typing error: a letter replaced, dropped, added, or swapped with its neighbour.
pub(crate) fn typo<R: Rng + ?Sized>(rng: &mut R, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let letter = |rng: &mut R, not: char| loop {
        let c = char::from(b'a' + rng.random_range(0..26u8));
        if c != not.to_ascii_lowercase() {
            break if not.is_uppercase() {
                c.to_ascii_uppercase()
            } else {
                c
            };
        }
    };
    let swappable: Vec<usize> = (0..n.saturating_sub(1))
        .filter(|&i| chars[i] != chars[i + 1])
        .collect();
    match rng.random_range(0..4) {
        1 if n >= 2 => {
            chars.remove(rng.random_range(0..n));
        }
        2 => {
            let at = rng.random_range(1..=n);
            let c = letter(rng, ' ');
            chars.insert(at, c.to_ascii_lowercase());
        }
        3 if !swappable.is_empty() => {
            let i = swappable[rng.random_range(0..swappable.len())];
            chars.swap(i, i + 1);
        }
        _ => {
            let i = rng.random_range(0..n);
            chars[i] = letter(rng, chars[i]);
        }
    }
    chars.into_iter().collect()
}
