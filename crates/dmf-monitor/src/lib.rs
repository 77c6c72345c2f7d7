//! A public monitor of a dmf registry's log, needing nothing but the registry's URL and the
//! log's public key: it follows `/log/checkpoint` and the entry bundles of C2SP tlog-tiles,
//! verifies the log's signature and the witnesses' cosignatures, rebuilds the tree from the
//! entries (the consistency check by construction), holds every checkpoint it sees against
//! the others and against the tree verified before, recounts the public statistics and runs
//! the registry's intake anomaly detector on what the leaves show in clear.
//!
//! The checks (`trust`, `checks`, `leaf`, `tally`, `counts`, `alerts`) are pure; `fetch` and
//! `read` speak HTTP, `state` keeps the files a monitor resumes from, and `monitor` runs a
//! pass over them all.

mod alerts;
mod checks;
mod counts;
mod fetch;
mod finding;
mod leaf;
mod monitor;
mod read;
mod report;
mod state;
mod tally;
mod trust;

#[cfg(test)]
mod tests;

pub use alerts::alerts;
pub use checks::{Seen, against_tree, extension, rollbacks, same_size};
pub use counts::{Counts, Intake, IntakeRow, NewDays, intake_group};
pub use fetch::{Client, FetchError, base_url};
pub use finding::{Evidence, Finding, Kind, Status};
pub use leaf::{COUNTED, LeafView, Str, scan};
pub use monitor::{Config, Monitor};
pub use read::{Extension, ReadError, Reader};
pub use report::{AGE_TEST, Report, UrlReport};
pub use state::{Hashes, State, StateError};
pub use tally::{Counted, Tally};
pub use trust::{Refusal, Trust, TrustError, Trusted};
