//! The writer's MAC on every stored event: what tells an event the registry wrote from a row
//! put into the store behind its back, before the signed log covers it.
//!
//! The MAC of event `n` is HMAC-SHA256 under the data folder's secret `mac.key` of
//!
//! ```text
//! "dmf-event/1" ‖ MAC of event n-1 as stored ‖ n ‖ type ‖ subject ‖ idempotency key ‖ time ‖ body
//! ```
//!
//! each part prefixed by its length (8 bytes, big-endian), the numbers as 8 (4 for the subject)
//! big-endian bytes, the subject and the key each after a part of one byte saying whether it is
//! there (1) or not (0, and no part follows). The MAC of the event before is empty for the
//! first event and for one stored without a MAC. Only the
//! writer, holding the store's append lock, knows the previous MAC and the next sequence
//! number, so it alone makes them; every reader checks them.
//!
//! Each MAC is checked against the previous MAC as stored, not as recomputed, so a failure
//! names the events concerned rather than everything after them, while a chain that checks
//! throughout proves every event and their order. Events stored before stores kept a MAC have
//! none: they are accepted only where the signed log covers them (their leaves hold them), never
//! beyond it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use dmf_store::{Seq, StoredEvent};

use crate::leaf::EventRef;

const DOMAIN: &[u8] = b"dmf-event/1";

/// Bytes in a MAC.
pub const MAC_LEN: usize = 32;

/// The data folder's secret for event MACs.
#[derive(Clone)]
pub struct MacKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

/// Why a stored event is not the writer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MacFault {
    #[error("it carries no MAC and lies beyond the signed log")]
    Missing,
    #[error("its MAC is not the one the registry's writer made")]
    Wrong,
}

impl MacKey {
    pub fn new(secret: &[u8; 32]) -> MacKey {
        MacKey {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    fn state(&self, prev: Option<&[u8]>, e: EventRef<'_>) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        let mut part = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        part(DOMAIN);
        part(prev.unwrap_or_default());
        part(&e.seq.to_be_bytes());
        part(e.kind.as_bytes());
        match e.subject {
            Some(s) => {
                part(&[1]);
                part(&s.to_be_bytes());
            }
            None => part(&[0]),
        }
        match e.idempotency_key {
            Some(k) => {
                part(&[1]);
                part(k.as_bytes());
            }
            None => part(&[0]),
        }
        part(&e.recorded_at.to_be_bytes());
        part(e.body);
        mac
    }

    /// The MAC of event `e`, following the stored MAC `prev` of the event before it.
    pub fn of(&self, prev: Option<&[u8]>, e: EventRef<'_>) -> [u8; MAC_LEN] {
        self.state(prev, e).finalize().into_bytes().into()
    }

    /// True when `mac` is the MAC of `e` following `prev` (compared in constant time).
    pub fn verifies(&self, prev: Option<&[u8]>, e: EventRef<'_>, mac: &[u8]) -> bool {
        self.state(prev, e).verify_slice(mac).is_ok()
    }

    /// The MAC of a file the writer keeps beside the store (an index snapshot): HMAC-SHA256 of
    /// `domain` and `digest` under the same secret, each part prefixed by its length as the
    /// event MAC's are. Event MACs begin with their own domain, so neither can pass for the
    /// other; only a holder of the data folder's secret makes one.
    pub fn file_tag(&self, domain: &[u8], digest: &[u8]) -> [u8; MAC_LEN] {
        self.file_state(domain, digest)
            .finalize()
            .into_bytes()
            .into()
    }

    /// True when `tag` is [`MacKey::file_tag`] of `domain` and `digest` (constant time).
    pub fn verifies_file(&self, domain: &[u8], digest: &[u8], tag: &[u8]) -> bool {
        self.file_state(domain, digest).verify_slice(tag).is_ok()
    }

    fn file_state(&self, domain: &[u8], digest: &[u8]) -> Hmac<Sha256> {
        assert_ne!(domain, DOMAIN, "a file's MAC is never an event's");
        let mut mac = self.mac.clone();
        for part in [domain, digest] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// Checks a stored event, given the stored MAC of the event before it and the size of the
    /// signed log (which holds events stored without a MAC).
    pub fn check(
        &self,
        prev: Option<&[u8]>,
        e: &StoredEvent,
        signed: impl FnOnce() -> Seq,
    ) -> Result<(), MacFault> {
        match &e.mac {
            Some(mac) if self.verifies(prev, EventRef::from(e), mac) => Ok(()),
            Some(_) => Err(MacFault::Wrong),
            None if e.seq <= signed() => Ok(()),
            None => Err(MacFault::Missing),
        }
    }
}
