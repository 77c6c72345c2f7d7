//! C2SP tlog-witness for the registry's log: [`client`] sends `add-checkpoint` to a witness
//! and reads its answer.

pub mod client;
