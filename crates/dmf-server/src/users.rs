//! Console users and sessions, kept by `dmf-service`; the console reaches them here.

pub use dmf_service::users::*;
