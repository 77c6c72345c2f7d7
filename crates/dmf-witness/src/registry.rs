//! The registry's witness policy file (placeholder until the witness list lands).

use std::path::Path;

use dmf_log::Policy;

pub const POLICY_FILE: &str = "witnesses.policy";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistryError(String);

pub fn load(data: &Path) -> Result<Policy, RegistryError> {
    let path = data.join("log").join(POLICY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Policy::parse(&text).map_err(|e| RegistryError(e.to_string())),
        Err(_) => Ok(Policy::parse("quorum none\n").expect("valid")),
    }
}
