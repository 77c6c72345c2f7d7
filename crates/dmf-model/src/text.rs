//! Free-text references (evidence, documents, authorities, legal bases) with their limits.

use std::fmt;

/// Why a reference text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} characters long, at most 500 are accepted")]
    TooLong(usize),
    #[error("it holds a control character")]
    Control,
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
        if text.chars().any(char::is_control) {
            return Err(ReferenceError::Control);
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
