//! The accounting of disclosures, kept by `dmf-service`; the routes reach it here.

pub use dmf_service::accounting::*;
