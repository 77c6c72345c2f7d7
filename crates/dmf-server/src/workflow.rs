//! Feed positions and corrections awaiting approval, kept by `dmf-service`; the routes reach
//! them here.

pub use dmf_service::workflow::*;
