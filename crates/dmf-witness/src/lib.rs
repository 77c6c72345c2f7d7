//! C2SP tlog-witness for the registry's log: [`client`] sends `add-checkpoint` to a witness
//! and reads its answer; [`cosigning`] gathers the cosignatures of the registry's witnesses
//! and publishes a checkpoint once its policy's quorum has cosigned it.

pub mod client;
pub mod cosigning;
pub mod registry;
