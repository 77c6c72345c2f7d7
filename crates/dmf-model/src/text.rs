//! Free-text references (evidence, documents, authorities, legal bases) with their limits.

use std::fmt;

/// Why a reference text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} characters long, at most 500 are accepted")]
    TooLong(usize),
    #[error("it holds {0}")]
    Control(&'static str),
}

/// What a character is when it may not stand in text shown to people: a control character
/// (NUL, a line end, a tab) or one that changes the direction or visibility of what follows
/// (a right-to-left override, a zero-width space), which can make a name or reference read
/// as something else on a page.
pub(crate) fn unprintable(c: char) -> Option<&'static str> {
    match c {
        c if c.is_control() => Some("a control character"),
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' => Some("a direction or zero-width formatting character"),
        _ => None,
    }
}

/// A short non-empty text naming something outside the file: an evidence document, an issuing
/// authority, a legal basis, a person who acted. Trimmed, at most 500 characters, one line.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference(String);

impl Reference {
    pub fn new(text: &str) -> Result<Reference, ReferenceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let len = text.chars().count();
        if len > 500 {
            return Err(ReferenceError::TooLong(len));
        }
        if let Some(what) = text.chars().find_map(unprintable) {
            return Err(ReferenceError::Control(what));
        }
        Ok(Reference(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The indefinite article before a code read as a word in a message ("an identity key", "a
/// reporter key", "an identity_change"): `an` before a vowel. The codes named this way (roles,
/// event types) have no vowel read as a consonant, as in "a user".
pub fn article(word: &str) -> &'static str {
    match word.bytes().next().map(|b| b.to_ascii_lowercase()) {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}
