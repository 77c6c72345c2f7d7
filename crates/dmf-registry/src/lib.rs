//! The master file: events appended under the intake rules, the current state derived from
//! them, and the answers given from that state.
//!
//! One writer at a time checks each event against the current state, appends the accepted ones
//! in one durable transaction, each with its MAC chained to the one before (see `dmf_ledger::mac`), and
//! only then makes their effect visible. Readers rebuild one person's state from that person's
//! events. With the embedded store one process writes (a lock file in the data folder); with a
//! shared store (a database server) any process may write, each batch under the store's append
//! lock after catching up with what the others appended, and one process at a time signs the
//! log. Nothing is applied or signed beyond the signed log that does not carry the writer's MAC.
//! The log itself is `dmf_ledger`'s: it follows this writer after each durable batch.
//!
//! The crate root only declares the modules and names what other crates use; no module
//! imports it.

pub mod answers;
mod codec;
pub mod distribution;
pub mod event;
pub mod grounds;
pub mod identity;
mod import;
pub mod index;
pub mod names;
pub mod oversight;
pub mod program;
pub mod program_view;
pub mod public;
mod registry;
pub mod render;
pub mod requests;
pub mod restore;
pub mod search;
pub mod snapshot;
pub mod state;
pub mod submission;
pub mod violation;
pub mod vrdr;

pub use dmf_store;

pub use codec::{DecodeError, decode, encode};
pub use event::Event;
pub use import::{ImportSummary, apply_dmf_records, import_file};
pub use index::Index;
pub use registry::{
    Accepted, IndexStart, MIRROR_FILE, Registry, RegistryError, SNAPSHOT_FILE, STORE_FILE,
    day_of_ms, now_ms, private_dir, today_utc,
};
pub use state::{Outcome, PersonState};
pub use submission::{Rejection, Submission, parse_line, parse_value};

#[cfg(test)]
mod tests;
