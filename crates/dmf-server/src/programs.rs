//! The journal of computer-matching programs and its typed events, kept by `dmf-service`; the
//! routes and the console reach them here.

pub use dmf_service::programs::*;
