//! Reference tables for synthetic people, shipped inside the binary as gzipped CSV.
//!
//! The tables are public figures repackaged (see `data/README.md` for sources and licenses):
//! surnames of Census 2000, first names of SSA card applications by decade of birth, name and
//! nickname pairs, SSA cohort life tables and SSN card applicants by year of birth.
//!
//! The data is ours and fixed at build time, so a table that does not decompress or parse is a
//! bug in this crate, not a condition to handle: the loaders panic with a message saying which
//! table and which line.

use std::io::Read;

const SURNAMES: &[u8] = include_bytes!("../data/surnames_census2000.csv.gz");
const FIRST_NAMES: &[u8] = include_bytes!("../data/first_names_ssa_by_decade.csv.gz");
const NICKNAMES: &[u8] = include_bytes!("../data/nicknames.csv.gz");
const LIFE_TABLES: &[u8] = include_bytes!("../data/cohort_life_tables_ssa.csv.gz");
const APPLICANTS: &[u8] = include_bytes!("../data/ssn_applicants_by_year.csv.gz");

/// Sex as the SSA tables record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    F,
    M,
}

impl Sex {
    pub const ALL: [Sex; 2] = [Sex::F, Sex::M];

    /// `F` or `M`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::F => "F",
            Sex::M => "M",
        }
    }

    /// 0 for `F`, 1 for `M`: an index into per-sex arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    fn parse(text: &str, table: &str, line: usize) -> Sex {
        match text {
            "F" => Sex::F,
            "M" => Sex::M,
            _ => panic!("{table}: line {line}: sex {text:?} is neither F nor M"),
        }
    }
}

/// A first name with the number of SSA card applicants of one decade of birth and sex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstName {
    /// First year of the decade: 1880, 1890, ..., 2010.
    pub decade: u16,
    pub sex: Sex,
    /// As SSA writes it: `Mary`.
    pub name: String,
    pub count: u64,
}

/// Probabilities of death q(x) by birth cohort, sex and age, from the SSA cohort life tables.
#[derive(Debug, Clone, PartialEq)]
pub struct LifeTables {
    cohorts: Vec<u16>,
    /// `qx[cohort index * 2 + sex index][age]`.
    qx: Vec<[f64; LifeTables::AGES]>,
}

impl LifeTables {
    /// Ages 0 to 119.
    pub const AGES: usize = 120;

    /// The birth cohorts, ascending (1900, 1910, ..., 2010).
    pub fn cohorts(&self) -> &[u16] {
        &self.cohorts
    }

    /// q(x) for ages 0-119 of a cohort in the table, `None` for a year that is not a cohort.
    pub fn qx(&self, cohort: u16, sex: Sex) -> Option<&[f64; LifeTables::AGES]> {
        let i = self.cohorts.iter().position(|&c| c == cohort)?;
        Some(&self.qx[i * 2 + sex.index()])
    }
}

/// The decompressed text of an embedded table.
fn text(gz: &[u8], table: &str) -> String {
    let mut out = String::with_capacity(gz.len() * 4);
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut out)
        .unwrap_or_else(|e| panic!("{table}: the embedded table does not decompress: {e}"));
    out
}

/// The data rows of a table (CR LF or LF), split into `N` fields, after checking the header.
fn rows<'a, const N: usize>(
    text: &'a str,
    table: &'static str,
    header: &'static str,
) -> impl Iterator<Item = (usize, [&'a str; N])> + 'a {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    assert_eq!(first.trim_end(), header, "{table}: unexpected header");
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(move |(i, line)| {
            let line_no = i + 2;
            // Commas by a plain byte loop: `str::split` costs more than the rest of the parse on
            // these short fields.
            let line = line.trim_end();
            let bytes = line.as_bytes();
            let mut fields = [""; N];
            let mut start = 0;
            for (i, slot) in fields.iter_mut().enumerate() {
                assert!(
                    start <= bytes.len(),
                    "{table}: line {line_no}: fewer than {N} fields"
                );
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == b',')
                    .map_or(bytes.len(), |p| start + p);
                assert!(
                    i + 1 < N || end == bytes.len(),
                    "{table}: line {line_no}: more than {N} fields"
                );
                *slot = &line[start..end];
                start = end + 1;
            }
            (line_no, fields)
        })
}

fn number<T: std::str::FromStr>(text: &str, table: &str, line: usize) -> T {
    text.parse()
        .unwrap_or_else(|_| panic!("{table}: line {line}: {text:?} is not a number"))
}

/// Census 2000 surnames (uppercase) with their counts, most frequent first.
pub fn surnames() -> Vec<(String, u64)> {
    const T: &str = "surnames_census2000";
    let text = text(SURNAMES, T);
    rows::<2>(&text, T, "name,count")
        .map(|(line, [name, count])| (name.to_owned(), number(count, T, line)))
        .collect()
}

/// SSA first names by decade of birth and sex, in table order (by decade, sex, count).
pub fn first_names() -> Vec<FirstName> {
    const T: &str = "first_names_ssa_by_decade";
    let text = text(FIRST_NAMES, T);
    rows::<4>(&text, T, "decade,sex,name,count")
        .map(|(line, [decade, sex, name, count])| FirstName {
            decade: number(decade, T, line),
            sex: Sex::parse(sex, T, line),
            name: name.to_owned(),
            count: number(count, T, line),
        })
        .collect()
}

/// Name and nickname pairs, lowercase (`("robert", "bob")`): the first has the second as a
/// nickname.
pub fn nicknames() -> Vec<(String, String)> {
    const T: &str = "nicknames";
    let text = text(NICKNAMES, T);
    rows::<3>(&text, T, "name1,relationship,name2")
        .map(|(line, [name, relation, nickname])| {
            assert_eq!(
                relation, "has_nickname",
                "{T}: line {line}: unknown relationship"
            );
            (name.to_ascii_lowercase(), nickname.to_ascii_lowercase())
        })
        .collect()
}

/// The SSA cohort life tables: q(x) for ages 0-119 by decennial cohort and sex.
pub fn life_tables() -> LifeTables {
    const T: &str = "cohort_life_tables_ssa";
    let text = text(LIFE_TABLES, T);
    let mut cohorts: Vec<u16> = Vec::new();
    let mut qx: Vec<[f64; LifeTables::AGES]> = Vec::new();
    let mut seen: Vec<[bool; LifeTables::AGES]> = Vec::new();
    for (line, [cohort, sex, age, q]) in rows::<4>(&text, T, "cohort,sex,age,qx") {
        let cohort: u16 = number(cohort, T, line);
        let sex = Sex::parse(sex, T, line);
        let age: usize = number(age, T, line);
        let q: f64 = number(q, T, line);
        assert!(
            age < LifeTables::AGES,
            "{T}: line {line}: age {age} is past 119"
        );
        assert!(
            (0.0..=1.0).contains(&q),
            "{T}: line {line}: q(x) {q} is not a probability"
        );
        let c = match cohorts.iter().position(|&c| c == cohort) {
            Some(c) => c,
            None => {
                cohorts.push(cohort);
                qx.extend([[f64::NAN; LifeTables::AGES]; 2]);
                seen.extend([[false; LifeTables::AGES]; 2]);
                cohorts.len() - 1
            }
        };
        let slot = c * 2 + sex.index();
        assert!(
            !seen[slot][age],
            "{T}: line {line}: cohort {cohort} age {age} given twice"
        );
        seen[slot][age] = true;
        qx[slot][age] = q;
    }
    for (slot, ages) in seen.iter().enumerate() {
        assert!(
            ages.iter().all(|&s| s),
            "{T}: cohort {} sex {:?} lacks some ages",
            cohorts[slot / 2],
            Sex::ALL[slot % 2]
        );
    }
    // Keep cohorts ascending so callers may interpolate between neighbours.
    let mut order: Vec<usize> = (0..cohorts.len()).collect();
    order.sort_by_key(|&i| cohorts[i]);
    LifeTables {
        cohorts: order.iter().map(|&i| cohorts[i]).collect(),
        qx: order
            .iter()
            .flat_map(|&i| [qx[i * 2], qx[i * 2 + 1]])
            .collect(),
    }
}

/// SSN card applicants by year of birth and sex, `(year, sex, count)`, years 1880-2017.
pub fn applicants() -> Vec<(u16, Sex, u64)> {
    const T: &str = "ssn_applicants_by_year";
    let text = text(APPLICANTS, T);
    rows::<3>(&text, T, "year,sex,n_all")
        .map(|(line, [year, sex, n])| {
            (
                number(year, T, line),
                Sex::parse(sex, T, line),
                number(n, T, line),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
