//! What a run is asked to make ([`Config`]) and why it can fail ([`SynthError`]).

use std::io;
use std::path::PathBuf;

use dmf_model::Date;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Everyone ever issued a number, dead or alive.
    pub people: u64,
    pub seed: u64,
    /// The day the files describe: nobody is born, dies or is reported after it.
    pub as_of: Date,
    /// Customers in the client file; `None` for a tenth of the people (at least one).
    pub clients: Option<u64>,
    /// Reports received in this many days up to `as_of` form the report stream; deaths first
    /// reported earlier are in the DMF file.
    pub report_days: u32,
}

impl Config {
    pub fn new(people: u64, seed: u64, as_of: Date) -> Config {
        Config {
            people,
            seed,
            as_of,
            clients: None,
            report_days: 30,
        }
    }

    /// The customers the client file is asked to hold.
    pub fn client_count(&self) -> u64 {
        self.clients.unwrap_or(if self.people > 0 {
            (self.people / 10).max(1)
        } else {
            0
        })
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the as-of date {0} is before 1937: no numbers had been issued")]
    AsOfTooEarly(Date),
    #[error("a report window of {0} days reaches back before 1900")]
    ReportWindow(u32),
    #[error(
        "{needed} numbers are needed beyond the state areas, the randomized areas hold {available}"
    )]
    SsnSpaceExhausted { needed: u64, available: u64 },
    #[error("{people} people are more than the {max} this generator makes")]
    TooManyPeople { people: u64, max: u64 },
}
