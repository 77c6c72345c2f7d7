//! The writer's side of the log: after each durable batch the writer hands the batch to its
//! [`Appender`], which extends the tree and signs it, at once or, deferred, on a thread of its
//! own while the writer checks and stores the next batch (a bulk import keeps two cores busy).
//! The log is never more than one batch behind the store, and a crash in between is caught up
//! from the events at the next open ([`Ledger::catch_up`]).

use std::thread::JoinHandle;

use dmf_store::{NewEvent, Seq};

use crate::leaf::{EventRef, Fields};
use crate::log::LogWriter;
use crate::{Ledger, LedgerError, leaf_hash, leaf_hashes};

/// The log as the store's one writer extends it.
#[derive(Debug)]
pub struct Appender {
    fields: Fields,
    /// The log, when open and not out on its thread.
    log: Option<LogWriter>,
    deferred: bool,
    /// With `deferred`, the log's work on the last batch, taken back before the next.
    logging: Option<JoinHandle<(LogWriter, Result<(), LedgerError>)>>,
}

impl Appender {
    /// An appender whose log is not open yet; `fields` divides bodies into leaf fields.
    pub fn new(fields: Fields) -> Appender {
        Appender {
            fields,
            log: None,
            deferred: false,
            logging: None,
        }
    }

    /// Opens the log, caught up with the store, unless it is open (or busy on its thread).
    pub fn open(&mut self, ledger: &Ledger) -> Result<(), LedgerError> {
        if self.log.is_none() && self.logging.is_none() {
            self.log = Some(ledger.writer()?);
        }
        Ok(())
    }

    /// Waits for the log's work on the last batch, and takes the log back. On failure the log
    /// stays closed: the events are durable, and it catches up when it opens again.
    pub fn settle(&mut self) -> Result<(), LedgerError> {
        let Some(handle) = self.logging.take() else {
            return Ok(());
        };
        let (log, result) = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        result?;
        self.log = Some(log);
        Ok(())
    }

    /// With `true`, later batches are logged on a thread of their own (see the module). With
    /// `false`, waits for that work and reports its failure.
    pub fn defer(&mut self, deferred: bool) -> Result<(), LedgerError> {
        self.deferred = deferred;
        if deferred { Ok(()) } else { self.settle() }
    }

    /// Logs a durable batch whose first event is `first`, and signs the tree.
    pub fn append(
        &mut self,
        ledger: &Ledger,
        first: Seq,
        events: Vec<NewEvent>,
    ) -> Result<(), LedgerError> {
        if events.is_empty() {
            return Ok(());
        }
        // The last batch's log work ran while this one was checked and stored.
        self.settle()?;
        let Some(mut log) = self.log.take() else {
            // Not open: opening catches up with the store, this batch included.
            return self.open(ledger);
        };
        let fields = self.fields;
        if self.deferred {
            self.logging = Some(std::thread::spawn(move || {
                // One thread here and one storing the next batch keep two cores busy;
                // rayon's workers would compete with the writer for them.
                let logged = append(&mut log, fields, first, &events, false);
                (log, logged)
            }));
        } else {
            // On failure the log stays closed: the events are durable, and the log catches up
            // when it opens again.
            append(&mut log, fields, first, &events, true)?;
            self.log = Some(log);
        }
        Ok(())
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        // A failure here is caught up from the events at the next open.
        let _ = self.settle();
    }
}

/// Appends the leaves of a durable batch whose first event is `first`, and signs the tree.
/// With `parallel`, a large batch's leaves are made on every core.
fn append(
    log: &mut LogWriter,
    fields: Fields,
    first: Seq,
    events: &[NewEvent],
    parallel: bool,
) -> Result<(), LedgerError> {
    let refs: Vec<EventRef<'_>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| EventRef {
            seq: first + i as Seq,
            kind: &e.kind,
            subject: e.subject,
            idempotency_key: e.idempotency_key.as_deref(),
            recorded_at: e.recorded_at,
            body: &e.body,
        })
        .collect();
    let key = log.leaf_key();
    let hashes = if parallel {
        leaf_hashes(key, fields, &refs)?
    } else {
        refs.iter()
            .map(|e| leaf_hash(key, fields, e))
            .collect::<Result<Vec<_>, _>>()?
    };
    log.append(&hashes)?;
    log.sign()?;
    Ok(())
}
