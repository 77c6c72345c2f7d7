//! A registry made again from a dump: the log's folder from the dump's keys and checkpoints,
//! the events stored in their order into an empty store, each at the sequence number it had,
//! then the log rebuilt and signed, so that it audits clean against the dump's checkpoints.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use dmf_store::dump::{DumpError, DumpReader, Header, Record, to_new};
use dmf_store::{Appended, EventStore, NewEvent, StoreError};

use crate::{Registry, RegistryError};

/// Events stored a transaction at a time.
const BATCH: usize = 10_000;

/// Why a dump could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the target store already holds {0} events: restore into an empty one")]
    NotEmpty(u64),
    #[error(
        "event {expected} was stored as {got:?}: the dump's events are not one gap-free sequence"
    )]
    Gap { expected: u64, got: Appended },
    #[error("its events and the log's keys do not agree")]
    Unsigned(#[source] RegistryError),
    #[error(transparent)]
    Read(#[from] DumpError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] dmf_ledger::log::LogError),
}

/// Restores the events of `dump` (read from its start, other records skipped) into `store`,
/// which must be empty, with the log of `header` and its `secrets` in the data folder `dir`;
/// `progress` hears how many events are stored.
pub fn restore_events<R: BufRead>(
    dir: &Path,
    store: Arc<dyn EventStore>,
    header: &Header,
    secrets: &[(String, String)],
    dump: &mut DumpReader<R>,
    progress: &dyn Fn(u64),
) -> Result<Registry, RestoreError> {
    let head = store.head()?;
    if head > 0 {
        return Err(RestoreError::NotEmpty(head));
    }
    // The log folder (keys, checkpoints) is made before the first event is stored.
    dmf_ledger::log::restore(dir, &header.key, secrets, &header.checkpoints)?;
    let registry = Registry::adopt(dir, store.clone())?;
    let mut batch: Vec<NewEvent> = Vec::with_capacity(BATCH);
    let mut expected = 1;
    let mut flush = |batch: &mut Vec<NewEvent>| -> Result<(), RestoreError> {
        for got in store.append(batch)? {
            if got != Appended::New(expected) {
                return Err(RestoreError::Gap { expected, got });
            }
            expected += 1;
        }
        batch.clear();
        progress(expected - 1);
        Ok(())
    };
    while let Some(rec) = dump.next_record()? {
        if let Record::Event(e) = rec {
            batch.push(to_new(&e));
            if batch.len() == BATCH {
                flush(&mut batch)?;
            }
        }
    }
    flush(&mut batch)?;
    registry.sign_now().map_err(RestoreError::Unsigned)?;
    Ok(registry)
}
