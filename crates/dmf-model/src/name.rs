//! Person names, kept as given and in the uppercase ASCII form the DMF uses.

use std::fmt;

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name {0:?} has no letters")]
    NoLetters(String),
    #[error("the name is {0} characters long, at most 100 are accepted")]
    TooLong(usize),
    #[error("the name holds {0}: names are printed on letters, files and pages as given")]
    Unprintable(&'static str),
}

/// One part of a name (first, middle, last or suffix): the text as given, and its DMF form.
///
/// The DMF form is uppercase ASCII: letters are transliterated (`José` becomes `JOSE`), only
/// letters, spaces, hyphens and apostrophes are kept, and runs of spaces fold into one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NamePart {
    original: String,
    dmf: String,
}

impl NamePart {
    pub fn new(text: &str) -> Result<NamePart, NameError> {
        let original = text.trim();
        if original.is_empty() {
            return Err(NameError::Empty);
        }
        if original.chars().count() > 100 {
            return Err(NameError::TooLong(original.chars().count()));
        }
        if let Some(what) = original.chars().find_map(crate::text::unprintable) {
            return Err(NameError::Unprintable(what));
        }
        let dmf = dmf_form(original);
        if !dmf.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Err(NameError::NoLetters(original.to_owned()));
        }
        Ok(NamePart {
            original: original.to_owned(),
            dmf,
        })
    }

    /// The name as it was given.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The uppercase ASCII form written to DMF files and compared by matching.
    pub fn dmf(&self) -> &str {
        &self.dmf
    }

    /// The first letter of the DMF form.
    pub fn initial(&self) -> char {
        self.dmf
            .chars()
            .find(|c| c.is_ascii_alphabetic())
            .unwrap_or(' ')
    }
}

impl fmt::Debug for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.original)
    }
}

impl fmt::Display for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// The uppercase ASCII form of a name.
pub fn dmf_form(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        let c = c.to_ascii_uppercase();
        match c {
            'A'..='Z' | '-' | '\'' => out.push(c),
            ' ' | '\t' | '.' | ',' | '_' if !out.is_empty() && !out.ends_with(' ') => out.push(' '),
            _ => {}
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A generational or other suffix (`JR`, `SR`, `III`), at most four letters in the DMF.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Suffix(NamePart);

impl Suffix {
    /// Accepts `Jr.`, `JR`, `iii` and the like; the DMF form drops the dots.
    pub fn new(text: &str) -> Result<Suffix, NameError> {
        NamePart::new(text).map(Suffix)
    }

    pub fn part(&self) -> &NamePart {
        &self.0
    }

    pub fn dmf(&self) -> &str {
        self.0.dmf()
    }
}

impl fmt::Debug for Suffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A person's full name. First and last are required, middle and suffix optional.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    pub first: NamePart,
    pub middle: Option<NamePart>,
    pub last: NamePart,
    pub suffix: Option<Suffix>,
}

impl PersonName {
    /// Builds a name from optional text parts; blank middle and suffix count as absent.
    pub fn parse(
        first: &str,
        middle: Option<&str>,
        last: &str,
        suffix: Option<&str>,
    ) -> Result<PersonName, (&'static str, NameError)> {
        fn optional(text: Option<&str>) -> Option<&str> {
            text.filter(|t| !t.trim().is_empty())
        }
        Ok(PersonName {
            first: NamePart::new(first).map_err(|e| ("first", e))?,
            middle: optional(middle)
                .map(NamePart::new)
                .transpose()
                .map_err(|e| ("middle", e))?,
            last: NamePart::new(last).map_err(|e| ("last", e))?,
            suffix: optional(suffix)
                .map(Suffix::new)
                .transpose()
                .map_err(|e| ("suffix", e))?,
        })
    }
}

/// A name as a report or notice gives it: any part may be missing. What is published about a
/// person is the name on file ([`PersonName`]); this is the reporter's spelling, kept as evidence
/// and compared with the name on file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReportedName {
    pub first: Option<NamePart>,
    pub middle: Option<NamePart>,
    pub last: Option<NamePart>,
    pub suffix: Option<Suffix>,
}

impl ReportedName {
    /// Builds a name from optional text parts; blank parts count as absent.
    pub fn parse(
        first: Option<&str>,
        middle: Option<&str>,
        last: Option<&str>,
        suffix: Option<&str>,
    ) -> Result<ReportedName, (&'static str, NameError)> {
        fn part(
            field: &'static str,
            text: Option<&str>,
        ) -> Result<Option<NamePart>, (&'static str, NameError)> {
            text.filter(|t| !t.trim().is_empty())
                .map(NamePart::new)
                .transpose()
                .map_err(|e| (field, e))
        }
        Ok(ReportedName {
            first: part("first", first)?,
            middle: part("middle", middle)?,
            last: part("last", last)?,
            suffix: part("suffix", suffix)?.map(Suffix),
        })
    }

    /// The whole name, when both first and last are given.
    pub fn complete(&self) -> Option<PersonName> {
        Some(PersonName {
            first: self.first.clone()?,
            middle: self.middle.clone(),
            last: self.last.clone()?,
            suffix: self.suffix.clone(),
        })
    }

    /// True when no part is given.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
            && self.middle.is_none()
            && self.last.is_none()
            && self.suffix.is_none()
    }
}

impl From<PersonName> for ReportedName {
    fn from(n: PersonName) -> ReportedName {
        ReportedName {
            first: Some(n.first),
            middle: n.middle,
            last: Some(n.last),
            suffix: n.suffix,
        }
    }
}
