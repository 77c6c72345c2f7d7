//! Reading messages and death certificate documents.

use crate::{DeathCertificate, Incoming, Refusal};

/// Reads a request body: one message or a batch of them. Only a body that is not JSON, or not a
/// `Bundle` at all, is refused whole.
pub fn read(bytes: &[u8]) -> Result<Incoming, Refusal> {
    let _ = bytes;
    unimplemented!("the reader")
}

/// Reads a death certificate document (`Bundle` of type `document`) on its own.
pub fn read_document(bytes: &[u8]) -> Result<DeathCertificate, Refusal> {
    let _ = bytes;
    unimplemented!("the reader")
}
