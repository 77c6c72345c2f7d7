//! C2SP tlog-witness for the registry's log: [`witness`], a witness anyone can run (its key,
//! its state per log, `add-checkpoint` answered without HTTP), [`server`] serving it over HTTP,
//! [`client`] sending `add-checkpoint` to a witness and reading its answer, and [`registry`],
//! the registry's list of witnesses and their quorum as C2SP tlog-policy text.

pub mod client;
mod files;
pub mod registry;
pub mod server;
pub mod witness;

#[cfg(test)]
mod tests;

pub use witness::{Answer, LogState, Witness, WitnessError};
