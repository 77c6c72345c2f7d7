//! Finding a person as a caseworker asks: an SSN typed any usual way, or a name with or
//! without a date of birth typed any usual way, ranked by how well each person on file matches,
//! with the reason in words.
//!
//! The people compared are those the answer index's name index gives ([`Index::index_names`]),
//! never everyone; the matching core's levels say how each compares, and a score from the
//! levels ranks them. People too unlike the one asked for are not shown.

use dmf_match::{DobLevel, Lookup, NameLevel, NameTables, PersonRef, compare_each};
use dmf_model::{PartialDate, Ssn, SsnError};

use crate::index::Index;
use crate::names::{FirstKey, LastKey};

/// People compared at most for one search: a name-only search for the commonest names at
/// national size would find more, and says so.
pub const MAX_COMPARED: usize = 50_000;

/// Why a typed SSN was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsnTextError {
    #[error("Enter an SSN of 9 digits, like 123-45-6789 (it has {0})")]
    Digits(usize),
    #[error("Enter an SSN with digits only, with or without dashes or spaces")]
    Letters,
    #[error("This SSN cannot exist: {0}")]
    Never(SsnError),
}

/// Reads an SSN with dashes, spaces or neither (`123-45-6789`, `123 45 6789`, `123456789`).
pub fn parse_ssn(text: &str) -> Result<Ssn, SsnTextError> {
    let mut digits = Vec::with_capacity(9);
    for c in text.trim().chars() {
        match c {
            '0'..='9' => digits.push(c as u8),
            '-' | ' ' | '.' => {}
            _ => return Err(SsnTextError::Letters),
        }
    }
    if digits.len() != 9 {
        return Err(SsnTextError::Digits(digits.len()));
    }
    Ssn::parse_digits(&digits).map_err(SsnTextError::Never)
}

/// A date of birth as read from what was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedDob {
    pub date: PartialDate,
    /// Read with day and month swapped: as typed, the month was past 12 (`1970-31-10`,
    /// `31/10/1970`).
    pub swapped: bool,
}

/// Why a typed date of birth was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DobTextError {
    #[error("Enter a date of birth like 1970-10-31 or 10/31/1970, or leave it blank")]
    Form,
    #[error("Enter a year of birth of four digits, like 1970")]
    ShortYear,
    #[error("Enter a year of birth from 1800 to 2199")]
    Year,
    #[error(
        "{0} is not a date: enter a date of birth like 1970-10-31 or 10/31/1970, or leave it blank"
    )]
    NoSuchDate(String),
}

/// Reads a date of birth typed as `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY` (or `M/D/YYYY`, or
/// with dashes or dots), `YYYY-MM`, `MM/YYYY`, `YYYY` or eight digits (`YYYYMMDD` or
/// `MMDDYYYY`); blank is no date. A month past 12 with a day that could be a month is read as
/// day and month swapped, and said so.
pub fn parse_dob(text: &str) -> Result<Option<TypedDob>, DobTextError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = text.split(['-', '/', '.', ' ']).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 8)
    {
        return Err(DobTextError::Form);
    }
    let n = |p: &str| p.parse::<u16>().unwrap_or(u16::MAX);
    // (year, month, day) as typed, 0 for a part not given.
    let (year, month, day) = match parts.as_slice() {
        [y] if y.len() == 4 => (n(y), 0, 0),
        [all] if all.len() == 8 => {
            let (a, b) = (n(&all[..4]), n(&all[4..]));
            if (1800..=2199).contains(&a) {
                (a, b / 100, b % 100)
            } else {
                (b, a / 100, a % 100)
            }
        }
        [y, m] if y.len() == 4 && m.len() <= 2 => (n(y), n(m), 0),
        [m, y] if y.len() == 4 && m.len() <= 2 => (n(y), n(m), 0),
        [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => (n(y), n(m), n(d)),
        [m, d, y] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => (n(y), n(m), n(d)),
        [_, _, y] if y.len() == 2 => return Err(DobTextError::ShortYear),
        [y] if y.len() == 2 => return Err(DobTextError::ShortYear),
        _ => return Err(DobTextError::Form),
    };
    if !(1800..=2199).contains(&year) {
        return Err(DobTextError::Year);
    }
    let as_typed = if day == 0 {
        format!("{year:04}-{month:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}")
    };
    let date = |m: u16, d: u16| {
        let (m, d) = (u8::try_from(m).ok()?, u8::try_from(d).ok()?);
        (m != 0 && (d != 0 || day == 0))
            .then(|| PartialDate::from_dmf_parts(year, m, d))
            .flatten()
    };
    if month == 0 {
        let date = PartialDate::from_dmf_parts(year, 0, 0).ok_or(DobTextError::Year)?;
        return Ok(Some(TypedDob {
            date,
            swapped: false,
        }));
    }
    if let Some(date) = date(month, day) {
        return Ok(Some(TypedDob {
            date,
            swapped: false,
        }));
    }
    if month > 12
        && day != 0
        && let Some(date) = date(day, month)
    {
        return Ok(Some(TypedDob {
            date,
            swapped: true,
        }));
    }
    Err(DobTextError::NoSuchDate(as_typed))
}

/// What a name search asks for: names as typed (either may be blank, not both).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    pub first: &'a str,
    pub last: &'a str,
    pub dob: Option<PartialDate>,
}

/// One person found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub ssn: u32,
    pub first: FirstKey,
    pub last: LastKey,
    pub dob: Option<PartialDate>,
    pub deceased: bool,
    pub first_level: NameLevel,
    pub last_level: NameLevel,
    pub dob_level: DobLevel,
    /// How strongly the person matches: higher first.
    pub score: u32,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The plausible people, the strongest matches first.
    pub hits: Vec<Hit>,
    /// People compared.
    pub compared: usize,
    /// Whether more people could have been meant than were compared ([`MAX_COMPARED`]).
    pub capped: bool,
}

fn name_points(l: NameLevel) -> u32 {
    match l {
        NameLevel::Exact => 8,
        NameLevel::Nickname | NameLevel::Swapped | NameLevel::JaroWinkler1 => 6,
        NameLevel::JaroWinkler2 | NameLevel::Phonetic => 4,
        NameLevel::Initial => 2,
        NameLevel::Different | NameLevel::Missing => 0,
    }
}

fn dob_points(l: DobLevel) -> u32 {
    match l {
        DobLevel::Exact => 8,
        DobLevel::DayMonthSwapped => 6,
        DobLevel::OneDigit => 5,
        DobLevel::YearPlusMinusOne | DobLevel::CompatiblePartial => 4,
        DobLevel::OneComponent => 3,
        DobLevel::Different | DobLevel::Missing => 0,
    }
}

/// Whether a person compared is close enough to show: the last name alike (or the names
/// swapped) with a first name and a date of birth that do not contradict it; or, for a changed
/// last name, a first name alike and the same date of birth.
fn plausible(first: NameLevel, last: NameLevel, dob: DobLevel, dob_given: bool) -> bool {
    use NameLevel as N;
    let last_alike = matches!(
        last,
        N::Exact | N::JaroWinkler1 | N::JaroWinkler2 | N::Phonetic
    );
    let first_fits = first != N::Different;
    let born_alike = !dob_given || dob != DobLevel::Different;
    let same_birthday = matches!(dob, DobLevel::Exact | DobLevel::DayMonthSwapped);
    (last_alike && first_fits && born_alike)
        || (dob_given && same_birthday && (last_alike || (first_fits && first != N::Missing)))
}

/// The people on file who could be the one asked for, the strongest matches first: those the
/// name index gives (everyone, read in turn, when the index keeps no name index), compared by
/// the matching core.
pub fn search(index: &Index, tables: &NameTables, q: &Query<'_>) -> Found {
    match index.names() {
        Some(names) => {
            // The first name is looked up as a last name too, for names swapped; with a full
            // date of birth the date finds those already, and the first name as a last name
            // (MARY as MOORE) would only add people to compare.
            let complete = q.dob.is_some_and(|d| d.day().is_some());
            let asked: &[&str] = if complete {
                &[q.last]
            } else {
                &[q.last, q.first]
            };
            let nominees = names.lookup(
                &Lookup {
                    names: asked,
                    dob: q.dob,
                },
                MAX_COMPARED,
            );
            let mut found = compare(index, tables, q, &nominees.positions);
            found.capped = nominees.capped;
            found
        }
        None => search_everyone(index, tables, q),
    }
}

/// As [`search`], comparing everyone on file (up to [`MAX_COMPARED`]): what the name index
/// must agree with.
pub fn search_everyone(index: &Index, tables: &NameTables, q: &Query<'_>) -> Found {
    let everyone: Vec<u32> = (0..index.len().min(MAX_COMPARED) as u32).collect();
    let mut found = compare(index, tables, q, &everyone);
    found.capped = index.len() > MAX_COMPARED;
    found
}

fn compare(index: &Index, tables: &NameTables, q: &Query<'_>, positions: &[u32]) -> Found {
    let people: Vec<(u32, &crate::PersonState, &crate::identity::Identity)> = positions
        .iter()
        .filter_map(|&p| index.at(p))
        .filter_map(|(ssn, state)| Some((ssn, state, state.identity.as_ref()?)))
        .collect();
    let person = |first: &'static str, last: &'static str, dob| PersonRef {
        ssn: None,
        first,
        middle: "",
        last,
        suffix: "",
        dob,
        sex: None,
    };
    // Names on file resolve to `'static` text: resolved once a person, then sorted by.
    let names: Vec<(&'static str, &'static str)> = people
        .iter()
        .map(|(_, _, id)| (id.first.as_str(), id.last.as_str()))
        .collect();
    let refs: Vec<PersonRef<'static>> = people
        .iter()
        .zip(&names)
        .map(|((_, _, id), &(first, last))| person(first, last, id.dob))
        .collect();
    let query = PersonRef {
        ssn: None,
        first: q.first,
        middle: "",
        last: q.last,
        suffix: "",
        dob: q.dob,
        sex: None,
    };
    let levels = compare_each(&query, &refs, tables);
    let mut ranked: Vec<(Hit, &'static str, &'static str)> = people
        .iter()
        .zip(levels)
        .zip(&names)
        .filter(|((_, l), _)| plausible(l.first, l.last, l.dob, q.dob.is_some()))
        .map(|((&(ssn, state, id), l), &(first, last))| {
            let hit = Hit {
                ssn,
                first: id.first,
                last: id.last,
                dob: id.dob,
                deceased: state.death.is_some(),
                first_level: l.first,
                last_level: l.last,
                dob_level: l.dob,
                score: name_points(l.first) + name_points(l.last) + dob_points(l.dob),
            };
            (hit, last, first)
        })
        .collect();
    ranked.sort_unstable_by(|(a, al, af), (b, bl, bf)| {
        b.score
            .cmp(&a.score)
            .then_with(|| al.cmp(bl))
            .then_with(|| af.cmp(bf))
            .then(a.ssn.cmp(&b.ssn))
    });
    Found {
        hits: ranked.into_iter().map(|(h, _, _)| h).collect(),
        compared: people.len(),
        capped: false,
    }
}

impl Hit {
    /// Why this person was found, in words, one phrase a field.
    pub fn reasons(&self, q: &Query<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let (first, last) = (self.first.as_str(), self.last.as_str());
        let typed_first = dmf_model::dmf_form(q.first);
        match self.first_level {
            NameLevel::Swapped => {
                out.push("first and last names swapped".to_owned());
                if self.last_level != NameLevel::Exact {
                    out.push(format!(
                        "last name given {} the first name on file, {first}",
                        match self.last_level {
                            NameLevel::Nickname => "is a nickname of",
                            NameLevel::JaroWinkler1 => "is spelt almost as",
                            NameLevel::JaroWinkler2 => "is spelt like",
                            NameLevel::Phonetic => "sounds like",
                            NameLevel::Initial => "is the initial of",
                            _ => "differs from",
                        }
                    ));
                }
            }
            level => {
                out.push(match level {
                    NameLevel::Exact => "same first name".to_owned(),
                    NameLevel::Nickname if typed_first.len() <= first.len() => {
                        format!("first name {typed_first} is a nickname of {first}")
                    }
                    NameLevel::Nickname => {
                        format!("first name {first} is a nickname of {typed_first}")
                    }
                    NameLevel::Missing if q.first.trim().is_empty() => {
                        "no first name given".to_owned()
                    }
                    NameLevel::Missing => "no first name on file".to_owned(),
                    other => format!("first name {} ({first})", other.words()),
                });
                out.push(match self.last_level {
                    NameLevel::Exact => "same last name".to_owned(),
                    NameLevel::Missing if q.last.trim().is_empty() => {
                        "no last name given".to_owned()
                    }
                    NameLevel::Missing => "no last name on file".to_owned(),
                    NameLevel::Different => {
                        format!("last name is different ({last} on file)")
                    }
                    other => format!("last name {} ({last})", other.words()),
                });
            }
        }
        out.push(match (q.dob, self.dob) {
            (None, _) => "no date of birth given".to_owned(),
            (Some(_), None) => "no date of birth on file".to_owned(),
            (Some(asked), Some(on_file)) => dob_reason(self.dob_level, asked, on_file),
        });
        out
    }
}

fn dob_reason(level: DobLevel, asked: PartialDate, on_file: PartialDate) -> String {
    match level {
        DobLevel::Exact | DobLevel::DayMonthSwapped | DobLevel::YearPlusMinusOne => {
            level.words().to_owned()
        }
        DobLevel::CompatiblePartial => match (asked.month(), on_file.month(), on_file.day()) {
            (None, _, _) if on_file.year() == asked.year() => "born the same year".to_owned(),
            (Some(_), Some(_), _) if asked.day().is_none() => "born the same month".to_owned(),
            _ => format!("born in {on_file}, as far as the date on file goes"),
        },
        DobLevel::OneComponent => {
            let part = if asked.year() != on_file.year() {
                "year"
            } else if asked.month() != on_file.month() {
                "month"
            } else {
                "day"
            };
            format!("born on a date that differs in the {part} ({on_file})")
        }
        other => format!("{} ({on_file})", other.words()),
    }
}

#[cfg(test)]
mod tests;
