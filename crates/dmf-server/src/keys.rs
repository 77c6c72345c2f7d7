//! API keys, kept by `dmf-service`; the routes and the console reach them here.

pub use dmf_service::keys::*;
