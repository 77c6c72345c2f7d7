//! A drawn person's name, its parts kept inline: what the population, the report stream and
//! the client file write.

use crate::tables::ShortName;

/// Suffixes as people type them.
const SUFFIXES: [&str; 4] = ["Jr", "Sr", "II", "III"];

/// A person's name, its parts kept inline: copied out of the tables once, when drawn, so that
/// writing it later reads the person's own bytes rather than a table too large for the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) first: ShortName,
    /// Empty when there is none.
    pub(crate) middle: ShortName,
    pub(crate) last: ShortName,
    /// 0 none, else 1 + index into the suffixes.
    suffix: u8,
}

impl Name {
    pub fn new(
        first: ShortName,
        middle: Option<ShortName>,
        last: ShortName,
        suffix: Option<u8>,
    ) -> Name {
        Name {
            first,
            middle: middle.unwrap_or(ShortName::EMPTY),
            last,
            suffix: suffix.map_or(0, |s| s + 1),
        }
    }

    pub fn first(&self) -> &str {
        self.first.as_str()
    }

    pub fn middle(&self) -> Option<&str> {
        (self.middle != ShortName::EMPTY).then(|| self.middle.as_str())
    }

    pub fn last(&self) -> &str {
        self.last.as_str()
    }

    pub fn suffix(&self) -> Option<&'static str> {
        (self.suffix != 0).then(|| SUFFIXES[usize::from(self.suffix - 1)])
    }
}
