//! C2SP tlog-witness for the registry's log: [`witness`], a witness anyone can run (its key,
//! its state per log, `add-checkpoint` answered without HTTP), [`server`] serving it over HTTP,
//! [`client`] sending `add-checkpoint` to a witness and reading its answer, [`registry`], the
//! registry's list of witnesses and their quorum as C2SP tlog-policy text, and [`cosigning`],
//! which gathers the cosignatures of the registry's witnesses and publishes a checkpoint once
//! its policy's quorum has cosigned it.

pub mod client;
pub mod cosigning;
mod files;
pub mod registry;
pub mod server;
pub mod witness;

#[cfg(test)]
mod tests;

pub use witness::{Answer, LogState, Witness, WitnessError};
