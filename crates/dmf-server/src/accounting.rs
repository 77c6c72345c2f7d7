//! Disclosure accounting: every disclosure of a person's record is queued in memory and written
//! by one background thread, to a SQLite file or to PostgreSQL (where every node on the
//! database writes and reads one shared accounting).
//!
//! No answer about a person leaves before its disclosure is durable: recording gives a
//! [`Ticket`], and [`Accounting::durable`] waits until the batch holding it is committed. The
//! writer takes everything queued at once, so requests waiting together share one commit (group
//! commit), and a streamed answer waits chunk by chunk.
//!
//! Durability: the file is in WAL mode with `synchronous=FULL`, so every committed batch is
//! fsynced (on PostgreSQL, as durable as the server's `synchronous_commit` makes a commit);
//! [`Accounting::flush`] returns once the batches holding everything queued before it are
//! committed.

use std::collections::VecDeque;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use rusqlite::{Connection, params};

use crate::pg::{outside_runtime, with_causes as pg_message};

/// Version of the schema below; a file of another version is refused, not guessed at.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS disclosures (
    seq INTEGER PRIMARY KEY,
    ssn INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    key_name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS disclosures_person ON disclosures (ssn, at_ms);
CREATE TRIGGER IF NOT EXISTS disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'the accounting of disclosures is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN SELECT RAISE(ABORT, 'the accounting of disclosures is append-only: DELETE refused'); END;
";

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

/// How far the writer has come, for waiters: the disclosures durable so far, the last failed
/// commit (cleared by the next good one), and whether the writer has stopped.
#[derive(Debug, Clone, Default)]
struct Progress {
    durable: u64,
    error: Option<String>,
    gone: bool,
}

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

fn read_error(e: rusqlite::Error) -> AccountingError {
    AccountingError::Read(e.to_string())
}

fn pg_read(e: postgres::Error) -> AccountingError {
    AccountingError::Read(pg_message(&e))
}

/// Runs `f` on a connection from `pool`, outside the async runtime.
fn read_pg<T>(
    pool: &dmf_postgres::Pool,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, AccountingError>,
) -> Result<T, AccountingError> {
    outside_runtime(|| {
        let mut conn = pool
            .get()
            .map_err(|e| AccountingError::Read(format!("no connection to PostgreSQL: {e}")))?;
        f(&mut conn)
    })
}

/// What the accounting is called in messages when it is in PostgreSQL.
const PG_PLACE: &str = "PostgreSQL table disclosures";

const PG_COLUMNS: &str = "ssn, at_ms, key_id, key_name, purpose, fields";

/// What the callers and the writer share.
struct Queue {
    state: Mutex<State>,
    /// The writer waits here for disclosures (or for closing).
    work: Condvar,
    /// Callers wait here for room in a full queue.
    space: Condvar,
    /// Flushes wait here for commits.
    committed: Condvar,
    /// The same news for requests waiting on the async runtime.
    progress: tokio::sync::watch::Sender<Progress>,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            state: Mutex::default(),
            work: Condvar::new(),
            space: Condvar::new(),
            committed: Condvar::new(),
            progress: tokio::sync::watch::Sender::new(Progress::default()),
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

/// Where disclosures are read back from; the writer thread has its own connection.
enum Reader {
    Sqlite(Mutex<Connection>),
    Postgres(dmf_postgres::Pool),
}

/// The accounting of disclosures in a SQLite file or a PostgreSQL database, with its
/// background writer.
pub struct Accounting {
    /// The file's path, or [`PG_PLACE`]; for messages.
    place: String,
    queue: Arc<Queue>,
    writer: Option<JoinHandle<()>>,
    reader: Reader,
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
        let shown = path.display().to_string();
        let open_error = |e: rusqlite::Error| AccountingError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let mut writer =
            dmf_store::open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| match e {
                dmf_store::VersionedError::Open(reason) => AccountingError::Open {
                    path: shown.clone(),
                    reason,
                },
                dmf_store::VersionedError::NotOurs(reason) => {
                    AccountingError::NotAnAccountingFile {
                        path: shown.clone(),
                        reason,
                    }
                }
            })?;
        let reader = Connection::open(path).map_err(open_error)?;
        reader
            .busy_timeout(Duration::from_secs(30))
            .map_err(open_error)?;
        Accounting::start(shown, Reader::Sqlite(Mutex::new(reader)), move |batch| {
            write_batch(&mut writer, batch).map_err(|e| e.to_string())
        })
    }

    /// Keeps the accounting in the `disclosures` table of a database migrated by
    /// [`dmf_postgres::migrate`], shared by every node on it, and starts the writer.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Accounting, AccountingError> {
        // Checked now, so that an unreachable server or a missing table is reported at start
        // rather than by a writer retrying forever.
        outside_runtime(|| {
            let mut conn = pool
                .get()
                .map_err(|e| format!("no connection to PostgreSQL: {e}"))?;
            conn.batch_execute("SELECT 1 FROM disclosures LIMIT 0")
                .map_err(|e| pg_message(&e))
        })
        .map_err(|reason| AccountingError::Open {
            path: PG_PLACE.to_owned(),
            reason,
        })?;
        let writer_pool = pool.clone();
        // The writer keeps one connection from the pool, and takes a fresh one once it breaks.
        let mut held = None;
        Accounting::start(PG_PLACE.to_owned(), Reader::Postgres(pool), move |batch| {
            let mut conn = match held.take() {
                Some(conn) => conn,
                None => writer_pool
                    .get()
                    .map_err(|e| format!("no connection to PostgreSQL: {e}"))?,
            };
            let written = write_pg_batch(&mut conn, batch);
            if !conn.is_closed() {
                held = Some(conn);
            }
            written
        })
    }

    /// Starts the writer thread, which hands each batch to `write`.
    fn start(
        place: String,
        reader: Reader,
        write: impl FnMut(&[Disclosure]) -> Result<(), String> + Send + 'static,
    ) -> Result<Accounting, AccountingError> {
        let queue = Arc::new(Queue::default());
        let shared = Arc::clone(&queue);
        let handle = std::thread::Builder::new()
            .name("dmf-accounting".into())
            .spawn(move || write_loop(&shared, write))
            .map_err(|e| AccountingError::Open {
                path: place.clone(),
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Accounting {
            place,
            queue,
            writer: Some(handle),
            reader,
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
        let mut rx = self.queue.progress.subscribe();
        let seen = rx
            .wait_for(|p| p.durable >= ticket.0 || p.error.is_some() || p.gone)
            .await
            .map_err(|_| AccountingError::WriterStopped)?;
        match &*seen {
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

    /// Waits until everything queued before this call is committed and fsynced.
    pub fn flush(&self) -> Result<(), AccountingError> {
        let q = &*self.queue;
        let mut st = q.lock();
        let target = st.queued;
        loop {
            if st.durable >= target {
                return Ok(());
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
        let conn = match &self.reader {
            Reader::Sqlite(conn) => conn.lock().unwrap_or_else(PoisonError::into_inner),
            Reader::Postgres(pool) => {
                // Too large for the column, so never stored.
                let Ok(ssn) = i32::try_from(ssn) else {
                    return Ok(Vec::new());
                };
                return read_pg(pool, |c| {
                    c.query_typed(
                        &format!(
                            "SELECT {PG_COLUMNS} FROM disclosures WHERE ssn = $1
                             ORDER BY at_ms, seq"
                        ),
                        &[(&ssn, Type::INT4)],
                    )
                    .map_err(pg_read)?
                    .iter()
                    .map(pg_disclosure)
                    .collect()
                });
            }
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT ssn, at_ms, key_id, key_name, purpose, fields FROM disclosures
                 WHERE ssn = ?1 ORDER BY at_ms, seq",
            )
            .map_err(read_error)?;
        let rows = stmt
            .query_map([ssn], |r| {
                let fields: String = r.get(5)?;
                Ok(Disclosure {
                    ssn: r.get(0)?,
                    at_ms: r.get(1)?,
                    key_id: r.get(2)?,
                    key_name: r.get(3)?,
                    purpose: r.get(4)?,
                    fields: split_fields(&fields),
                })
            })
            .map_err(read_error)?;
        rows.collect::<Result<_, _>>().map_err(read_error)
    }

    /// Every disclosure in the order recorded, handed to `each` (for a dump); flushes first.
    pub fn for_each(
        &self,
        mut each: impl FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        self.flush()?;
        let passed_on =
            |e: std::io::Error| AccountingError::Read(format!("cannot pass a disclosure on: {e}"));
        let conn = match &self.reader {
            Reader::Sqlite(conn) => conn.lock().unwrap_or_else(PoisonError::into_inner),
            Reader::Postgres(pool) => {
                return read_pg(pool, |c| {
                    // Streamed, not collected: a dump reads every disclosure ever recorded.
                    let mut rows = c
                        .query_raw(
                            &format!("SELECT {PG_COLUMNS} FROM disclosures ORDER BY seq"),
                            std::iter::empty::<i32>(),
                        )
                        .map_err(pg_read)?;
                    let mut n = 0;
                    while let Some(row) = rows.next().map_err(pg_read)? {
                        each(pg_disclosure(&row)?).map_err(passed_on)?;
                        n += 1;
                    }
                    Ok(n)
                });
            }
        };
        let mut stmt = conn
            .prepare("SELECT ssn, at_ms, key_id, key_name, purpose, fields FROM disclosures ORDER BY seq")
            .map_err(read_error)?;
        let mut rows = stmt.query([]).map_err(read_error)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(read_error)? {
            let fields: String = r.get(5).map_err(read_error)?;
            each(Disclosure {
                ssn: r.get(0).map_err(read_error)?,
                at_ms: r.get(1).map_err(read_error)?,
                key_id: r.get(2).map_err(read_error)?,
                key_name: r.get(3).map_err(read_error)?,
                purpose: r.get(4).map_err(read_error)?,
                fields: split_fields(&fields),
            })
            .map_err(passed_on)?;
            n += 1;
        }
        Ok(n)
    }

    /// Disclosures per purpose, by purpose; flushes first.
    pub fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        self.flush()?;
        let conn = match &self.reader {
            Reader::Sqlite(conn) => conn.lock().unwrap_or_else(PoisonError::into_inner),
            Reader::Postgres(pool) => {
                return read_pg(pool, |c| {
                    // Byte order, as SQLite sorts, whatever the database's collation.
                    let rows = c
                        .query_typed(
                            "SELECT purpose, count(*) FROM disclosures GROUP BY purpose
                             ORDER BY purpose COLLATE \"C\"",
                            &[],
                        )
                        .map_err(pg_read)?;
                    rows.iter()
                        .map(|r| {
                            let n: i64 = r.try_get(1).map_err(pg_read)?;
                            Ok((r.try_get(0).map_err(pg_read)?, n.unsigned_abs()))
                        })
                        .collect()
                });
            }
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT purpose, COUNT(*) FROM disclosures GROUP BY purpose ORDER BY purpose",
            )
            .map_err(read_error)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs())))
            .map_err(read_error)?;
        rows.collect::<Result<_, _>>().map_err(read_error)
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

fn write_loop(q: &Queue, mut write: impl FnMut(&[Disclosure]) -> Result<(), String>) {
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
        let written = write(&batch);
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

fn write_batch(conn: &mut Connection, batch: &[Disclosure]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO disclosures (ssn, at_ms, key_id, key_name, purpose, fields)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut fields = String::new();
        for d in batch {
            fields.clear();
            for (i, f) in d.fields.iter().enumerate() {
                if i > 0 {
                    fields.push(',');
                }
                fields.push_str(f);
            }
            stmt.execute(params![
                d.ssn, d.at_ms, d.key_id, d.key_name, d.purpose, fields
            ])?;
        }
    }
    tx.commit()
}

/// Writes a batch with one `INSERT` of whole columns: one round trip and, being one statement,
/// one transaction. The rows go in in order, so `seq` follows the order recorded.
fn write_pg_batch(conn: &mut postgres::Client, batch: &[Disclosure]) -> Result<(), String> {
    let mut ssns = Vec::with_capacity(batch.len());
    let mut at = Vec::with_capacity(batch.len());
    let mut key_ids = Vec::with_capacity(batch.len());
    let mut key_names = Vec::with_capacity(batch.len());
    let mut purposes = Vec::with_capacity(batch.len());
    let mut fields = Vec::with_capacity(batch.len());
    for d in batch {
        // The SSN itself stays out of the message: it would end up in the logs.
        let ssn = i32::try_from(d.ssn)
            .map_err(|_| "a disclosure's SSN is too large for the ssn column".to_owned())?;
        ssns.push(ssn);
        at.push(d.at_ms);
        key_ids.push(d.key_id);
        key_names.push(d.key_name.as_str());
        purposes.push(d.purpose.as_str());
        fields.push(d.fields.join(","));
    }
    conn.execute_typed(
        &format!(
            "INSERT INTO disclosures ({PG_COLUMNS})
             SELECT {PG_COLUMNS} FROM unnest($1, $2, $3, $4, $5, $6) WITH ORDINALITY
                 AS batch ({PG_COLUMNS}, n)
             ORDER BY n"
        ),
        &[
            (&ssns, Type::INT4_ARRAY),
            (&at, Type::INT8_ARRAY),
            (&key_ids, Type::INT8_ARRAY),
            (&key_names, Type::TEXT_ARRAY),
            (&purposes, Type::TEXT_ARRAY),
            (&fields, Type::TEXT_ARRAY),
        ],
    )
    .map_err(|e| pg_message(&e))?;
    Ok(())
}

fn pg_disclosure(row: &postgres::Row) -> Result<Disclosure, AccountingError> {
    let ssn: i32 = row.try_get(0).map_err(pg_read)?;
    let fields: &str = row.try_get(5).map_err(pg_read)?;
    Ok(Disclosure {
        ssn: u32::try_from(ssn)
            .map_err(|_| AccountingError::Read("a disclosure has a negative SSN".to_owned()))?,
        at_ms: row.try_get(1).map_err(pg_read)?,
        key_id: row.try_get(2).map_err(pg_read)?,
        key_name: row.try_get(3).map_err(pg_read)?,
        purpose: row.try_get(4).map_err(pg_read)?,
        fields: split_fields(fields),
    })
}

/// The field names stored comma-joined, as written.
fn split_fields(fields: &str) -> Vec<String> {
    if fields.is_empty() {
        Vec::new()
    } else {
        fields.split(',').map(str::to_owned).collect()
    }
}
