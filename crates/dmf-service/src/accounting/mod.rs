//! Disclosure accounting: every disclosure of a person's record is queued in memory and written
//! by one background thread, to a [`DisclosureStore`]: a SQLite file or PostgreSQL (where every node on the
//! database writes and reads one shared accounting).
//!
//! No answer about a person leaves before its disclosure is durable: recording gives a
//! [`Ticket`], and [`Accounting::durable`] waits until the batch holding it is committed. The
//! writer takes everything queued at once, so requests waiting together share one commit (group
//! commit), and a streamed answer waits chunk by chunk.
//!
//! Durability: a batch is durable once its records in the accounting file's journal are
//! written and synced ([`journal`]); it is filed into the table after its answers leave (on
//! PostgreSQL, once committed, as durable as the server's `synchronous_commit` makes it);
//! [`Accounting::flush`] returns once the batches holding everything queued before it are
//! committed.

pub mod conformance;
pub mod journal;
pub mod postgres;
mod progress;
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use progress::{Progress, Watch};

/// Disclosures waiting for the writer before [`Accounting::record`] blocks. Never dropped:
/// accounting is a legal duty, so a full queue slows callers down instead.
pub const QUEUE_CAPACITY: usize = 1 << 20;

/// Most rows written in one transaction.
pub const BATCH_ROWS: usize = 10_000;

/// How long the writer waits before retrying a batch that failed to commit.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A place in the queue of disclosures: everything recorded up to it is durable once
/// [`Accounting::durable`] returns for it. Later tickets are greater, so a request that
/// recorded several times waits for the greatest.
#[must_use = "an answer goes out only once its disclosures are durable: wait for the ticket"]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// One disclosure of one person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub ssn: u32,
    /// Milliseconds since 1970.
    pub at_ms: i64,
    pub key_id: i64,
    pub key_name: String,
    pub purpose: String,
    /// Names of the fields disclosed; identifiers, so they hold no commas.
    pub fields: Vec<String>,
}

/// Why the accounting could not be opened, written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    #[error("cannot open accounting file {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is not an accounting file: {reason}")]
    NotAnAccountingFile { path: String, reason: String },
    #[error("disclosures could not be written (they stay queued and are retried): {0}")]
    Write(String),
    #[error("accounting could not be read: {0}")]
    Read(String),
    #[error("the accounting writer has stopped; queued disclosures are not being written")]
    WriterStopped,
}

/// Where disclosures are kept: a SQLite file, or a PostgreSQL table every node on the database
/// shares. Append-only: nothing is ever changed or removed.
pub trait DisclosureStore: Send + Sync {
    /// Writes a batch in one transaction, in order; on failure nothing of it is written and the
    /// reason is given.
    fn append(&self, batch: &[Disclosure]) -> Result<(), String>;
    /// Every disclosure of one person, oldest first.
    fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError>;
    /// Every disclosure in the order written, handed to `each`; how many.
    fn for_each(
        &self,
        each: &mut dyn FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError>;
    /// Disclosures per purpose, by purpose in byte order.
    fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError>;
    /// Puts into the table everything durable elsewhere (a journal); nothing for a store whose
    /// appends go straight into it.
    fn file_journal(&self) -> Result<(), AccountingError> {
        Ok(())
    }
}

/// What the callers and the writer share.
struct Queue {
    state: Mutex<State>,
    /// The writer waits here for disclosures (or for closing).
    work: Condvar,
    /// Callers wait here for room in a full queue.
    space: Condvar,
    /// Flushes wait here for commits.
    committed: Condvar,
    /// The same news for requests waiting in async code.
    progress: Watch,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            state: Mutex::default(),
            work: Condvar::new(),
            space: Condvar::new(),
            committed: Condvar::new(),
            progress: Watch::default(),
        }
    }
}

#[derive(Default)]
struct State {
    pending: VecDeque<Disclosure>,
    /// Disclosures ever queued; the writer takes them in order, so `durable` counts a prefix.
    queued: u64,
    durable: u64,
    /// The last failed commit, cleared by the next successful one.
    error: Option<String>,
    closing: bool,
    writer_gone: bool,
    // Tracked so the hot path signals a condition variable only when someone waits on it.
    writer_waiting: bool,
    callers_waiting: usize,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The accounting of disclosures in a [`DisclosureStore`], with its background writer.
pub struct Accounting {
    /// The file's path, or the PostgreSQL table's; for messages.
    place: String,
    queue: Arc<Queue>,
    writer: Option<JoinHandle<()>>,
    store: Arc<dyn DisclosureStore>,
}

impl fmt::Debug for Accounting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.queue.lock();
        f.debug_struct("Accounting")
            .field("place", &self.place)
            .field("queued", &st.queued)
            .field("durable", &st.durable)
            .finish()
    }
}

impl Accounting {
    /// Opens the accounting file at `path`, creating it if missing, and starts its writer.
    pub fn open(path: &Path) -> Result<Accounting, AccountingError> {
        Accounting::start(path.display().to_string(), open_file(path)?.into())
    }

    /// Keeps the accounting in the `disclosures` table of a database migrated by
    /// [`dmf_postgres::migrate`], shared by every node on it, and starts the writer.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Accounting, AccountingError> {
        let store = postgres::PgDisclosures::open(pool)?;
        Accounting::start(postgres::PG_PLACE.to_owned(), Arc::new(store))
    }

    /// Starts the writer thread, which hands each batch to `store`; `place` names the store in
    /// messages.
    pub fn start(
        place: String,
        store: Arc<dyn DisclosureStore>,
    ) -> Result<Accounting, AccountingError> {
        let queue = Arc::new(Queue::default());
        let shared = Arc::clone(&queue);
        let writer_store = Arc::clone(&store);
        let handle = std::thread::Builder::new()
            .name("dmf-accounting".into())
            .spawn(move || write_loop(&shared, writer_store.as_ref()))
            .map_err(|e| AccountingError::Open {
                path: place.clone(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Accounting {
            place,
            queue,
            writer: Some(handle),
            store,
        })
    }

    /// Queues a disclosure; never waits on disk, only (rarely) for room in a full queue. The
    /// answer that discloses it waits for the ticket ([`Accounting::durable`]).
    pub fn record(&self, d: Disclosure) -> Ticket {
        self.push(std::iter::once(d), 1)
    }

    /// Queues many disclosures, in order.
    pub fn record_many(&self, ds: Vec<Disclosure>) -> Ticket {
        let n = ds.len();
        self.push(ds.into_iter(), n)
    }

    /// Waits until everything recorded up to `ticket` is committed and fsynced, sharing the
    /// commit with whoever else waits; fails if the commit failed or the writer stopped, so
    /// that the answer is not given.
    pub async fn durable(&self, ticket: Ticket) -> Result<(), AccountingError> {
        let seen = self
            .queue
            .progress
            .wait_for(|p| p.durable >= ticket.0 || p.error.is_some() || p.gone)
            .await;
        match &seen {
            p if p.durable >= ticket.0 => Ok(()),
            Progress {
                error: Some(e),
                gone: false,
                ..
            } => Err(AccountingError::Write(e.clone())),
            _ => Err(AccountingError::WriterStopped),
        }
    }

    fn push(&self, mut ds: impl Iterator<Item = Disclosure>, mut left: usize) -> Ticket {
        let q = &*self.queue;
        let mut st = q.lock();
        while left > 0 {
            // With the writer gone nothing frees room; keep everything so flush can report it.
            while st.pending.len() >= QUEUE_CAPACITY && !st.writer_gone {
                st.callers_waiting += 1;
                st = q.space.wait(st).unwrap_or_else(PoisonError::into_inner);
                st.callers_waiting -= 1;
            }
            let room = if st.writer_gone {
                left
            } else {
                (QUEUE_CAPACITY - st.pending.len()).min(left)
            };
            for d in ds.by_ref().take(room) {
                debug_assert!(d.fields.iter().all(|f| !f.contains(',')), "{:?}", d.fields);
                st.pending.push_back(d);
            }
            st.queued += room as u64;
            left -= room;
            if st.writer_waiting {
                q.work.notify_one();
            }
        }
        Ticket(st.queued)
    }

    /// Waits until everything queued before this call is durable and in the store's table.
    pub fn flush(&self) -> Result<(), AccountingError> {
        let q = &*self.queue;
        let mut st = q.lock();
        let target = st.queued;
        loop {
            if st.durable >= target {
                drop(st);
                return self.store.file_journal();
            }
            if let Some(e) = &st.error {
                return Err(AccountingError::Write(e.clone()));
            }
            if st.writer_gone {
                return Err(AccountingError::WriterStopped);
            }
            st = q.committed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Every disclosure of one person, oldest first; flushes first so callers see their own
    /// disclosures.
    pub fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError> {
        self.flush()?;
        self.store.for_person(ssn)
    }

    /// Every disclosure in the order recorded, handed to `each` (for a dump); flushes first.
    pub fn for_each(
        &self,
        mut each: impl FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        self.flush()?;
        self.store.for_each(&mut each)
    }

    /// Disclosures per purpose, by purpose; flushes first.
    pub fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        self.flush()?;
        self.store.counts()
    }
}

impl Drop for Accounting {
    /// Writes everything still queued, then stops the writer.
    fn drop(&mut self) {
        {
            let mut st = self.queue.lock();
            st.closing = true;
            self.queue.work.notify_one();
        }
        if let Some(handle) = self.writer.take()
            && handle.join().is_err()
        {
            tracing::error!(place = %self.place, "the accounting writer panicked");
        }
    }
}

/// Marks the writer gone however it ends, so that no caller waits for it forever.
struct WriterGone<'a>(&'a Queue);

impl Drop for WriterGone<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.writer_gone = true;
        self.0.space.notify_all();
        self.0.committed.notify_all();
        self.0.progress.send_modify(|p| p.gone = true);
    }
}

fn write_loop(q: &Queue, store: &dyn DisclosureStore) {
    let _gone = WriterGone(q);
    loop {
        let batch: Vec<Disclosure> = {
            let mut st = q.lock();
            while st.pending.is_empty() && !st.closing {
                st.writer_waiting = true;
                st = q.work.wait(st).unwrap_or_else(PoisonError::into_inner);
                st.writer_waiting = false;
            }
            if st.pending.is_empty() {
                return;
            }
            let n = st.pending.len().min(BATCH_ROWS);
            let batch = st.pending.drain(..n).collect();
            if st.callers_waiting > 0 {
                q.space.notify_all();
            }
            batch
        };
        let written = store.append(&batch);
        let mut st = q.lock();
        match written {
            Ok(()) => {
                st.durable += batch.len() as u64;
                st.error = None;
                q.committed.notify_all();
                let durable = st.durable;
                q.progress.send_modify(|p| {
                    p.durable = durable;
                    p.error = None;
                });
            }
            Err(reason) => {
                q.committed.notify_all();
                q.progress.send_modify(|p| p.error = Some(reason.clone()));
                if st.closing {
                    let lost = batch.len() + st.pending.len();
                    tracing::error!(lost, %reason, "accounting closed with unwritten disclosures");
                    return;
                }
                tracing::warn!(rows = batch.len(), %reason, "accounting write failed; retrying");
                st.error = Some(reason);
                // Back to the front, in order, so `durable` still counts a prefix.
                for d in batch.into_iter().rev() {
                    st.pending.push_front(d);
                }
                let (_st, _) = q
                    .work
                    .wait_timeout(st, RETRY_AFTER)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

/// The accounting file at `path` behind its journal; or, when another process holds the
/// journal, the file alone, every commit synced.
pub fn open_file(path: &Path) -> Result<Box<dyn DisclosureStore>, AccountingError> {
    Ok(match journal::JournaledDisclosures::open(path)? {
        Some(journaled) => Box::new(journaled),
        None => {
            tracing::info!(
                path = %path.display(),
                "the accounting's journal is held by another process: writing to the file directly"
            );
            Box::new(sqlite::SqliteDisclosures::open(path)?)
        }
    })
}

/// The field names as stored: comma-joined.
fn join_fields(fields: &[String]) -> String {
    fields.join(",")
}

/// The field names stored comma-joined, as written.
fn split_fields(fields: &str) -> Vec<String> {
    if fields.is_empty() {
        Vec::new()
    } else {
        fields.split(',').map(str::to_owned).collect()
    }
}

/// A read that could not hand a disclosure on.
fn passed_on(e: std::io::Error) -> AccountingError {
    AccountingError::Read(format!("cannot pass a disclosure on: {e}"))
}
