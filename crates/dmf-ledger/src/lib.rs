//! The signed transparency log of an event store: its files and keys, the public leaf of each
//! event, the writer's MAC on every stored event, the signing lifecycle, the audit, the public
//! export with its statistics, the registry's signed letters, and receipts of answers.
//!
//! The ledger follows the store's writer: after each durable batch the writer hands the batch
//! to its [`appender::Appender`], which extends the tree and signs it; [`Ledger::catch_up`]
//! reads from the store whatever the log does not cover yet (after a crash, or what another
//! node appended) and does the same. It reads stored bytes only: which fields of a body stay in clear is the
//! writer's to say, through a [`leaf::Fields`] function, so the ledger knows nothing of what
//! an event means or whom it concerns.

pub mod appender;
pub mod audit;
pub mod leaf;
pub mod letter;
pub mod log;
pub mod mac;
pub mod publish;
pub mod receipt;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dmf_store::{EventStore, Seq, StoreError, StoredEvent};

use crate::leaf::{EventRef, Fields, LeafError, LeafKey};
use crate::log::{LogError, LogFiles, LogWriter};
use crate::mac::{MacFault, MacKey};

/// Why the ledger could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Leaf(#[from] LeafError),
    #[error(
        "event {seq} is not the registry writer's: {fault} (a row put into the store behind its back?); it is neither applied nor signed: `dmf audit verify` names every such event"
    )]
    Unauthenticated { seq: Seq, fault: MacFault },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// What was asked of the log cannot be: an event or a size it does not hold.
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
}

/// The log of a data folder over the store whose events it signs.
pub struct Ledger {
    dir: PathBuf,
    store: Arc<dyn EventStore>,
    mac_key: MacKey,
    fields: Fields,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("dir", &self.dir).finish()
    }
}

impl Ledger {
    /// The log in the data folder `dir` over `store`, whose events carry MACs under `mac_key`
    /// and whose bodies `fields` divides into their leaves' fields.
    pub fn new(dir: &Path, store: Arc<dyn EventStore>, mac_key: MacKey, fields: Fields) -> Ledger {
        Ledger {
            dir: dir.to_owned(),
            store,
            mac_key,
            fields,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// The MAC key every event is written with.
    pub fn mac_key(&self) -> &MacKey {
        &self.mac_key
    }

    /// How a stored body divides into its leaf's fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// The leaf key, for recomputing leaves (owner-only file).
    pub fn leaf_key(&self) -> Result<LeafKey, LedgerError> {
        Ok(log::read_leaf_key(&self.dir)?)
    }

    /// Refuses a store that the log shows was rolled back (it holds fewer events than the log
    /// signed or hashed), and any event beyond the signed log that does not carry the writer's
    /// MAC: a row put into the store behind the writer's back, which nothing else would tell
    /// from the batch of a writer that stopped before signing.
    pub fn check_tail(&self) -> Result<(), LedgerError> {
        // The log first: another process may sign what it appends between the two reads.
        let files = LogFiles::open(&self.dir)?;
        let signed = self.signed_size()?;
        let head = self.store.head()?;
        let logged = signed.max(files.stored_leaves());
        if logged > head {
            return Err(LogError::Ahead {
                log: logged,
                store: head,
            }
            .into());
        }
        let mut after = signed;
        while after < head {
            let page = self.read_checked(after, 50_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
        }
        Ok(())
    }

    /// The size of the largest checkpoint signed: the log's own, or one another node published
    /// in a shared store (if it verifies with the log's key).
    pub fn signed_size(&self) -> Result<Seq, LedgerError> {
        let files = LogFiles::open(&self.dir)?;
        let own = files.latest()?.map_or(0, |s| s.checkpoint.size);
        let published = match self.store.latest_checkpoint()? {
            Some((size, note)) if dmf_log::open_checkpoint(&note, &files.verifier).is_ok() => size,
            _ => 0,
        };
        Ok(own.max(published))
    }

    /// Up to `limit` events after `after`, each checked against its MAC and the stored MAC of
    /// the event before: the first that is not the writer's is an error naming it. (If the
    /// signed size cannot be read, no event without a MAC is accepted.)
    pub fn read_checked(&self, after: Seq, limit: usize) -> Result<Vec<StoredEvent>, LedgerError> {
        let mut page = match after.checked_sub(1) {
            None => self.store.read_after(0, limit)?,
            Some(before) => self.store.read_after(before, limit.saturating_add(1))?,
        };
        let mut prev = None;
        if after > 0 && page.first().is_some_and(|e| e.seq == after) {
            prev = page.remove(0).mac;
        }
        let mut signed = None;
        for e in &page {
            self.mac_key
                .check(prev.as_deref(), e, || {
                    *signed.get_or_insert_with(|| self.signed_size().unwrap_or(0))
                })
                .map_err(|fault| LedgerError::Unauthenticated { seq: e.seq, fault })?;
            prev = e.mac.clone();
        }
        Ok(page)
    }

    /// The MAC stored with event `seq` (none for 0, or for an event stored without one).
    pub fn stored_mac(&self, seq: Seq) -> Result<Option<Vec<u8>>, LedgerError> {
        let Some(before) = seq.checked_sub(1) else {
            return Ok(None);
        };
        Ok(self
            .store
            .read_after(before, 1)?
            .into_iter()
            .find(|e| e.seq == seq)
            .and_then(|e| e.mac))
    }

    /// Opens the log for writing, brought up to the store's last event and signed.
    pub fn writer(&self) -> Result<LogWriter, LedgerError> {
        let mut log = LogWriter::open(&self.dir)?;
        self.catch_up(&mut log)?;
        Ok(log)
    }

    /// Extends the log to the store's last event and signs it, as the only signer.
    pub fn sign_now(&self) -> Result<(), LedgerError> {
        let _guard = self.store.lock_signer()?;
        let log = self.writer()?;
        self.publish(&log)
    }

    /// Keeps the log's latest checkpoint in the store too, where every node finds it.
    pub fn publish(&self, log: &LogWriter) -> Result<(), LedgerError> {
        if let Some(latest) = log.files().latest()? {
            self.store
                .publish_checkpoint(latest.checkpoint.size, &latest.note, now_ms())?;
        }
        Ok(())
    }

    /// With a shared store: signs what others have not, if no other process is signing now
    /// (or, with `wait`, once it has finished). Returns whether this process signed.
    pub fn sign_pending(&self, wait: bool) -> Result<bool, LedgerError> {
        if !self.store.shared() {
            return Ok(false);
        }
        let guard = if wait {
            Some(self.store.lock_signer()?)
        } else {
            self.store.try_lock_signer()?
        };
        let Some(_guard) = guard else {
            return Ok(false);
        };
        // Every signer's tree is the same (the leaves follow from the events and the leaf key),
        // so a signer that lagged extends its own files and signs a consistent checkpoint.
        let log = self.writer()?;
        self.publish(&log)?;
        Ok(true)
    }

    /// Brings the log up to the store's last event and signs it: after a crash between a
    /// commit and its checkpoint, or when the log's derived files were cut back.
    pub fn catch_up(&self, log: &mut LogWriter) -> Result<(), LedgerError> {
        let head = self.store.head()?;
        if log.size() > head {
            return Err(LogError::Ahead {
                log: log.size(),
                store: head,
            }
            .into());
        }
        while log.size() < head {
            // Nothing is signed that the writer did not write.
            let page = self.read_checked(log.size(), 50_000)?;
            if page.is_empty() {
                break;
            }
            let refs: Vec<EventRef<'_>> = page.iter().map(EventRef::from).collect();
            let hashes = leaf_hashes(log.leaf_key(), self.fields, &refs)?;
            log.append(&hashes)?;
        }
        // A tree already signed at this size is not signed again.
        if log.signed_size() != Some(log.size()) {
            log.sign()?;
        }
        Ok(())
    }
}

/// The leaf hashes of events, on every core for large batches.
pub fn leaf_hashes(
    key: &LeafKey,
    fields: Fields,
    events: &[EventRef<'_>],
) -> Result<Vec<dmf_log::Hash>, LeafError> {
    use rayon::prelude::*;
    let one = |e: &EventRef<'_>| leaf_hash(key, fields, e);
    if events.len() < 1024 {
        events.iter().map(one).collect()
    } else {
        events.par_iter().with_min_len(512).map(one).collect()
    }
}

/// One event's leaf hash.
pub(crate) fn leaf_hash(
    key: &LeafKey,
    fields: Fields,
    e: &EventRef<'_>,
) -> Result<dmf_log::Hash, LeafError> {
    leaf::leaf(key, fields, *e).map(|l| dmf_log::leaf_hash(&l))
}

/// Milliseconds since 1970 now: when a checkpoint is published.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests;
