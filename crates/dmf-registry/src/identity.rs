//! The one identity comparison: who a report, notice or verification names against the
//! numberholder on file, field by field, with SSA's tolerances.
//!
//! Pure: no IO, no state. Intake ([`crate::state`]) holds every death report and status notice
//! whose identity does not agree, and the verification answers (codes `3` and `5`) come from the
//! same [`compare`], so that the two can never disagree.
//!
//! Tolerances, once the SSN is the same:
//! - **name** (first and last together): a close surname (the same first 7 letters, the same
//!   first 4 when one side has no more, or equal but for one letter different, missing or
//!   extra, or two adjacent letters transposed) with a close first name (equal but for one
//!   letter or two transposed, an initial standing for the other, or a known nickname: `BOB` for
//!   `ROBERT`). SSA's published rules are looser in two ways this one is not, because both let a
//!   relative pass for the person: the surname's first 7 letters with the first initial alone
//!   (`CARL` for `CARMEN STANLEY`) counts here only when one side gives no more than the
//!   initial, and the first 4 letters of each name count only for a surname cut short
//!   (`MARION` is not `MARIANA`, nor `JOSE` `JOSEPH`); first and last swapped agree;
//! - **date of birth**: year exact, or month exact and year within one; an unknown part on
//!   either side does not count against;
//! - **sex**, **suffix** (`JR`, `SR`, `II`, …) and **middle initial**: compared only where both
//!   sides know them.
//!
//! A report agrees with the person when its name agrees, it gives the date of birth where one
//! is on file, and no other field differs. The middle initial is shown but never holds a report
//! on its own (a married name often carries the maiden name as its middle name). A report that
//! names nobody (no first or no last name) is incomplete: the date of birth alone agrees by
//! chance for about one person in eighty. So is one without the date of birth on file: the date
//! is what tells a father from the son of the same name, or a relative of the same initial; and
//! one without the generational suffix on file (`JR`), which is all that tells a junior from
//! his father when a report carries the son's SSN and date of birth under the father's name.

use std::collections::HashMap;
use std::num::NonZeroU8;
use std::sync::LazyLock;

use dmf_model::{PartialDate, Sex, Subject, dmf_form};

use crate::names::{FirstKey, LastKey, Letters};

/// A generational suffix, the only kind compared (`ESQ`, `MD` and the like are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    Junior,
    Senior,
    Second,
    Third,
    Fourth,
    Fifth,
}

impl Generation {
    pub const ALL: [Generation; 6] = [
        Generation::Junior,
        Generation::Senior,
        Generation::Second,
        Generation::Third,
        Generation::Fourth,
        Generation::Fifth,
    ];

    /// The generation a suffix names, if it names one: `Jr.`, `JR`, `II`, `2nd`, `III`, ….
    pub fn of(suffix: &str) -> Option<Generation> {
        let letters = dmf_form(suffix).replace([' ', '.', '-', '\''], "");
        Some(match letters.as_str() {
            "JR" | "JUNIOR" => Generation::Junior,
            "SR" | "SENIOR" => Generation::Senior,
            "II" | "ND" => Generation::Second,
            "III" | "RD" => Generation::Third,
            "IV" => Generation::Fourth,
            "V" => Generation::Fifth,
            _ => {
                // `2nd`, `3rd`, `4th`: the DMF form drops digits, so read them from the text.
                let digits: String = suffix.chars().filter(char::is_ascii_digit).collect();
                match digits.as_str() {
                    "2" => Generation::Second,
                    "3" => Generation::Third,
                    "4" => Generation::Fourth,
                    "5" => Generation::Fifth,
                    _ => return None,
                }
            }
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Generation::Junior => "JR",
            Generation::Senior => "SR",
            Generation::Second => "II",
            Generation::Third => "III",
            Generation::Fourth => "IV",
            Generation::Fifth => "V",
        }
    }
}

/// The first letter of a middle name (its DMF form), if it has one.
pub fn initial_of(name: &str) -> Option<NonZeroU8> {
    Letters::<15>::of(name)
        .as_bytes()
        .first()
        .and_then(|&b| NonZeroU8::new(b))
}

/// Who is on file under an SSN: a numberholder record (or, lacking one, the death record the
/// SSN is known from), in the forms compared. 16 bytes: the answer index holds one a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub first: FirstKey,
    pub last: LastKey,
    pub dob: Option<PartialDate>,
    pub sex: Option<Sex>,
    pub middle: Option<NonZeroU8>,
    pub suffix: Option<Generation>,
    /// From a numberholder record: the SSN was issued to this person. `false` for an identity
    /// known only from a death record (a DMF file, a report a caseworker confirmed).
    pub issued: bool,
}

/// What a report, notice or query gives, as text: any part may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reported<'a> {
    pub first: Option<&'a str>,
    pub middle: Option<&'a str>,
    pub last: Option<&'a str>,
    pub suffix: Option<&'a str>,
    pub dob: Option<PartialDate>,
    pub sex: Option<Sex>,
}

impl<'a> Reported<'a> {
    /// The identity a report or notice gives with its SSN.
    pub fn of(subject: &'a Subject) -> Reported<'a> {
        let n = &subject.name;
        Reported {
            first: n.first.as_ref().map(|p| p.dmf()),
            middle: n.middle.as_ref().map(|p| p.dmf()),
            last: n.last.as_ref().map(|p| p.dmf()),
            suffix: n.suffix.as_ref().map(|s| s.part().original()),
            dob: subject.dob,
            sex: subject.sex,
        }
    }
}

/// A field of an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    First,
    Middle,
    Last,
    Suffix,
    Dob,
    Sex,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::First,
        Field::Middle,
        Field::Last,
        Field::Suffix,
        Field::Dob,
        Field::Sex,
    ];

    /// The field's name in submissions: `first`, `middle`, `last`, `suffix`, `dob`, `sex`.
    pub fn code(self) -> &'static str {
        match self {
            Field::First => "first",
            Field::Middle => "middle",
            Field::Last => "last",
            Field::Suffix => "suffix",
            Field::Dob => "dob",
            Field::Sex => "sex",
        }
    }
}

/// How one field compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Equal, or within the tolerance.
    Agrees,
    Differs,
    /// Missing on one side (or both): not compared.
    Unknown,
}

/// One field that differs, in words: what the report gave and what is on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: Field,
    pub reported: String,
    pub on_file: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field.code();
        match (self.reported.is_empty(), self.on_file.is_empty()) {
            (true, _) => write!(f, "{field}: not given, on file {}", self.on_file),
            (false, true) => write!(f, "{field}: reported {}, none on file", self.reported),
            _ => write!(
                f,
                "{field}: reported {}, on file {}",
                self.reported, self.on_file
            ),
        }
    }
}

/// The comparison of a reported identity with one identity on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// First and last name together, by the name tolerance.
    pub name: Agreement,
    /// Each field on its own, in [`Field::ALL`] order.
    pub fields: [Agreement; 6],
    /// The fields that differ, with both values.
    pub differences: Vec<Difference>,
    /// Fields the person on file has that the report does not give, of those a report must
    /// give (first and last name, date of birth, a generational suffix), with what is on file.
    pub missing: Vec<Difference>,
}

/// What intake does with a reported identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The name agrees and nothing else differs: the report may change the person.
    Agrees,
    /// Nothing differs, but the report does not give a first and last name, or the date of
    /// birth on file, to compare.
    Incomplete,
    /// A field differs (the middle initial never on its own): every field that differs.
    Differs(Vec<Difference>),
}

impl Comparison {
    pub fn field(&self, f: Field) -> Agreement {
        self.fields[f as usize]
    }

    /// What intake does: see [`Verdict`]. The differences named include the middle initial
    /// when something else differs too.
    pub fn verdict(&self) -> Verdict {
        if self.differences.iter().any(|d| d.field != Field::Middle) {
            Verdict::Differs(self.differences.clone())
        } else if self.name == Agreement::Agrees && self.missing.is_empty() {
            Verdict::Agrees
        } else {
            Verdict::Incomplete
        }
    }
}

/// Compares a reported identity with each identity the person has held (the current one
/// first, then those before recorded identity changes) and keeps the best: the first that
/// agrees, else the first in which nothing differs, else the comparison with the current one.
pub fn compare_any<'i>(
    reported: &Reported<'_>,
    on_file: impl IntoIterator<Item = &'i Identity>,
) -> Option<Comparison> {
    let mut best: Option<Comparison> = None;
    for id in on_file {
        let c = compare(reported, id);
        match c.verdict() {
            Verdict::Agrees => return Some(c),
            Verdict::Incomplete if best.as_ref().is_none_or(|b| !b.differences.is_empty()) => {
                best = Some(c);
            }
            _ if best.is_none() => best = Some(c),
            _ => {}
        }
    }
    best
}

/// Compares a reported identity with one identity on file.
pub fn compare(reported: &Reported<'_>, on_file: &Identity) -> Comparison {
    let qf = reported.first.map(Letters::<15>::of);
    let ql = reported.last.map(Letters::<20>::of);
    let rf = on_file.first.as_bytes();
    let rl = on_file.last.as_bytes();
    let qf_bytes = qf.as_ref().map(|l| l.as_bytes()).filter(|b| !b.is_empty());
    let ql_bytes = ql.as_ref().map(|l| l.as_bytes()).filter(|b| !b.is_empty());
    let name = match (qf_bytes, ql_bytes) {
        (Some(q1), Some(q2)) if names_agree(q1, q2, rf, rl) => Agreement::Agrees,
        (Some(_), Some(_)) => Agreement::Differs,
        // Half a name is compared on what it has: a part that is far off still differs.
        (Some(q1), None) if !first_close(q1, rf) => Agreement::Differs,
        (None, Some(q2)) if !last_close(q2, rl) => Agreement::Differs,
        _ => Agreement::Unknown,
    };
    let (first_a, last_a) = if name == Agreement::Agrees {
        (Agreement::Agrees, Agreement::Agrees)
    } else {
        let first_ok = qf_bytes.map(|q| first_close(q, rf));
        let last_ok = ql_bytes.map(|q| last_close(q, rl));
        parts(name, (qf_bytes, first_ok, rf), (ql_bytes, last_ok, rl))
    };
    let both = |same: bool| {
        if same {
            Agreement::Agrees
        } else {
            Agreement::Differs
        }
    };
    let middle = match (reported.middle.and_then(initial_of), on_file.middle) {
        (Some(a), Some(b)) => both(a == b),
        _ => Agreement::Unknown,
    };
    let suffix = match (reported.suffix.and_then(Generation::of), on_file.suffix) {
        (Some(a), Some(b)) => both(a == b),
        // A generation given on one side only is not a difference; one on file and not given
        // is missing (below).
        _ => Agreement::Unknown,
    };
    let dob = match (reported.dob, on_file.dob) {
        (Some(a), Some(b)) => both(dob_agrees(a, b)),
        _ => Agreement::Unknown,
    };
    let sex = match (reported.sex, on_file.sex) {
        (Some(a), Some(b)) => both(a == b),
        _ => Agreement::Unknown,
    };
    let fields = [first_a, middle, last_a, suffix, dob, sex];
    // The words of a difference are written only for the fields that differ or are missing:
    // answers and intake compare millions of identities that agree.
    let words = |field: Field| {
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
        let (reported, on_file) = match field {
            Field::First => (text(qf_bytes), on_file.first.to_string()),
            Field::Last => (text(ql_bytes), on_file.last.to_string()),
            Field::Middle => (
                reported.middle.unwrap_or_default().to_owned(),
                on_file
                    .middle
                    .map(|m| format!("{}.", m.get() as char))
                    .unwrap_or_default(),
            ),
            Field::Suffix => (
                reported.suffix.unwrap_or_default().to_owned(),
                on_file.suffix.map_or("", Generation::code).to_owned(),
            ),
            Field::Dob => (
                reported.dob.map(|d| d.to_string()).unwrap_or_default(),
                on_file.dob.map(|d| d.to_string()).unwrap_or_default(),
            ),
            Field::Sex => (
                reported.sex.map_or("", Sex::code).to_owned(),
                on_file.sex.map_or("", Sex::code).to_owned(),
            ),
        };
        Difference {
            field,
            reported,
            on_file,
        }
    };
    let differences = Field::ALL
        .into_iter()
        .filter(|&f| fields[f as usize] == Agreement::Differs)
        .map(words)
        .collect();
    let missing = [
        (Field::First, reported.first.is_none()),
        (Field::Last, reported.last.is_none()),
        (Field::Dob, reported.dob.is_none() && on_file.dob.is_some()),
        (
            Field::Suffix,
            on_file.suffix.is_some() && reported.suffix.and_then(Generation::of).is_none(),
        ),
    ]
    .into_iter()
    .filter(|&(_, gone)| gone)
    .map(|(f, _)| words(f))
    .collect();
    Comparison {
        name,
        fields,
        differences,
        missing,
    }
}

/// Each name part's own agreement, given the whole name's: a part missing is unknown; when the
/// whole name agrees, so do its parts; otherwise a part that is not close differs, and when
/// every part is close on its own (the pair still fails), the parts not exactly on file differ.
fn parts(
    name: Agreement,
    first: (Option<&[u8]>, Option<bool>, &[u8]),
    last: (Option<&[u8]>, Option<bool>, &[u8]),
) -> (Agreement, Agreement) {
    let all_close = first.1 != Some(false) && last.1 != Some(false);
    let one = |(given, close, on_file): (Option<&[u8]>, Option<bool>, &[u8])| match (given, close) {
        (None, _) | (_, None) => Agreement::Unknown,
        _ if name == Agreement::Agrees => Agreement::Agrees,
        (Some(g), _) if name == Agreement::Differs && all_close && g != on_file => {
            Agreement::Differs
        }
        (Some(_), Some(true)) => Agreement::Agrees,
        (Some(_), Some(false)) => Agreement::Differs,
    };
    (one(first), one(last))
}

fn prefix(s: &[u8], n: usize) -> &[u8] {
    &s[..s.len().min(n)]
}

/// Equal, or one letter different, missing or extra, or two adjacent letters transposed.
pub fn near(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let mut diffs = (0..a.len()).filter(|&i| a[i] != b[i]);
            match (diffs.next(), diffs.next(), diffs.next()) {
                (Some(_), None, _) => true,
                (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
                _ => false,
            }
        }
        1 => {
            // One letter inserted: the rest lines up once it is skipped.
            let at = short
                .iter()
                .zip(long)
                .position(|(x, y)| x != y)
                .unwrap_or(short.len());
            short[at..] == long[at + 1..]
        }
        _ => false,
    }
}

/// Known nickname pairs, both ways, in uppercase letters.
static NICKNAMES: LazyLock<HashMap<Vec<u8>, Vec<Vec<u8>>>> = LazyLock::new(|| {
    let mut map: HashMap<Vec<u8>, Vec<Vec<u8>>> = HashMap::new();
    for (name, nick) in dmf_data::nicknames() {
        let (a, b) = (
            Letters::<15>::of(&name).as_bytes().to_vec(),
            Letters::<15>::of(&nick).as_bytes().to_vec(),
        );
        if a.is_empty() || b.is_empty() || a == b {
            continue;
        }
        map.entry(a.clone()).or_default().push(b.clone());
        map.entry(b).or_default().push(a);
    }
    map
});

/// One name is a known nickname of the other (`BOB` and `ROBERT`), directly: two formal names
/// that share a nickname (`ALBERT`, `ALFRED`) are not.
pub fn nicknames(a: &[u8], b: &[u8]) -> bool {
    NICKNAMES
        .get(a)
        .is_some_and(|names| names.iter().any(|n| n == b))
}

/// A first name on its own is close: near, an initial standing for the other, or a known
/// nickname. Sharing the first letters is not enough: `MARION` and `MARIANA`, `PATRICK` and
/// `PATRICIA`, `JOSE` and `JOSEPH`, `FRANK` and `FRANKLIN` can be relatives' names.
fn first_close(q: &[u8], r: &[u8]) -> bool {
    let (short, long) = if q.len() <= r.len() { (q, r) } else { (r, q) };
    near(q, r) || (short.len() == 1 && long.starts_with(short)) || nicknames(q, r)
}

/// A surname on its own is close: near, or the same first 7 letters (or 4, when one side is
/// no longer: a surname cut short).
fn last_close(q: &[u8], r: &[u8]) -> bool {
    let short = q.len().min(r.len());
    near(q, r) || prefix(q, 7) == prefix(r, 7) || (short <= 4 && prefix(q, 4) == prefix(r, 4))
}

/// The name tolerance over first and last together (see the module's text), the two also
/// taken swapped: a form filled in surname first is a common keying error, and a relative's
/// names do not come out as the person's swapped.
fn names_agree(qf: &[u8], ql: &[u8], rf: &[u8], rl: &[u8]) -> bool {
    (first_close(qf, rf) && last_close(ql, rl)) || (near(qf, rl) && near(ql, rf))
}

/// The date-of-birth tolerance: year exact, or month exact and year within one.
pub fn dob_agrees(asked: PartialDate, on_file: PartialDate) -> bool {
    if asked.year() == on_file.year() {
        return true;
    }
    let months_agree = matches!((asked.month(), on_file.month()), (Some(a), Some(b)) if a == b);
    months_agree && asked.year().abs_diff(on_file.year()) <= 1
}

#[cfg(test)]
mod tests;
