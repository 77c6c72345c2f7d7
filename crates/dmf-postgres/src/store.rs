//! The event store on a connection pool: serialized appends, plain reads, the signer lock and
//! published checkpoints.

use std::collections::HashMap;
use std::fmt;

use dmf_store::{Appended, EventStore, NewEvent, Seq, StoreError, StoredEvent};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{FromSql, ToSql, Type};
use postgres::{NoTls, Row, Transaction};
use r2d2::PooledConnection;
use r2d2_postgres::PostgresConnectionManager;

use crate::migrations::check_version;
use crate::{NOTIFY_CHANNEL, PgError, Target, lock_key};

type Manager = PostgresConnectionManager<NoTls>;

/// A pool of connections to a migrated database, shared with the service's other stores (API
/// keys, accounting, workflow, console users).
pub type Pool = r2d2::Pool<Manager>;

/// Held by the one append in progress across all processes, for gap-free numbering.
const APPEND_LOCK: i64 = lock_key(b"dmf:evts");

/// Held for as long as a process acts as the log signer.
const SIGNER_LOCK: i64 = lock_key(b"dmf:sign");

/// Held by a registry writer from checking a batch against the current state until it is
/// appended, so that no other process's batch comes in between.
const BATCH_LOCK: i64 = lock_key(b"dmf:btch");

const POOL_SIZE: u32 = 8;

/// Batches of at least this many new events go in by `COPY`, smaller ones by one `INSERT`: a
/// `COPY` costs extra round trips that only pay off for many rows.
const COPY_FROM: usize = 64;

const COLUMNS: &str = "seq, kind, subject, idempotency_key, recorded_at, body, mac";

/// An event store in a PostgreSQL database migrated by [`crate::migrate`].
pub struct PgStore {
    pool: Pool,
    target: Target,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The signer lock, held on a pooled connection until dropped (unlocked then; if the process
/// dies, the connection closes and the server releases the lock).
pub struct PgLock {
    client: PooledConnection<Manager>,
    target: Target,
}

impl fmt::Debug for PgLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLock")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgLock {
    /// Confirms the connection holding the lock is still alive: if it dropped, the server has
    /// released the lock and another process may have taken it.
    pub fn confirm(&mut self) -> Result<(), PgError> {
        self.client
            .batch_execute("SELECT 1")
            .map_err(PgError::query("confirm the signer lock is still held"))
    }
}

impl dmf_store::Guard for PgLock {}

/// A registry writer's batch lock, held on a pooled connection until dropped.
struct BatchLock {
    conn: PooledConnection<Manager>,
}

impl dmf_store::Guard for BatchLock {}

impl Drop for BatchLock {
    fn drop(&mut self) {
        // If unlocking fails the session is broken; the pool's check discards it, and the
        // server releases the lock with the session.
        let _ = self.conn.execute_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&BATCH_LOCK, Type::INT8)],
        );
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        // Unlocked explicitly rather than left to the connection closing, which the server
        // notices only some time later; an error means the session, and so the lock, is gone.
        let _ = self.client.execute_typed(
            "SELECT pg_advisory_unlock($1)",
            &[(&SIGNER_LOCK, Type::INT8)],
        );
    }
}

impl PgStore {
    /// Connects to the database at `url` with a pool of up to 8 connections, after checking
    /// that it is migrated to the schema version this binary knows.
    pub fn connect(url: &str) -> Result<PgStore, PgError> {
        let target = Target::parse(url)?;
        // A direct connection first, so an unreachable server or an unmigrated database is
        // reported at once and plainly rather than as a pool timeout.
        let mut client = target.connect()?;
        check_version(&mut client, &target)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .build(PostgresConnectionManager::new(target.config.clone(), NoTls))
            .map_err(|source| PgError::Pool {
                target: target.to_string(),
                source,
            })?;
        Ok(PgStore { pool, target })
    }

    /// The store's connection pool, for the service's other tables in the same database.
    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    fn conn(&self) -> Result<PooledConnection<Manager>, PgError> {
        self.pool.get().map_err(|source| PgError::Pool {
            target: self.target.to_string(),
            source,
        })
    }

    /// Waits until this process is the log signer; the lock holds until the result is dropped.
    pub fn writer_lock(&self) -> Result<PgLock, PgError> {
        let mut client = self.conn()?;
        client
            .execute_typed("SELECT pg_advisory_lock($1)", &[(&SIGNER_LOCK, Type::INT8)])
            .map_err(PgError::query("take the signer lock"))?;
        Ok(PgLock {
            client,
            target: self.target.clone(),
        })
    }

    /// Becomes the log signer if no other session is; `None` if one is.
    pub fn try_writer_lock(&self) -> Result<Option<PgLock>, PgError> {
        let mut client = self.conn()?;
        let taken: bool = client
            .query_typed_one(
                "SELECT pg_try_advisory_lock($1)",
                &[(&SIGNER_LOCK, Type::INT8)],
            )
            .and_then(|row| row.try_get(0))
            .map_err(PgError::query("try the signer lock"))?;
        Ok(taken.then(|| PgLock {
            client,
            target: self.target.clone(),
        }))
    }

    /// Publishes the signed checkpoint of the log at `size`. Publishing the same one again is a
    /// no-op; a different note for a size already published is refused.
    pub fn publish_checkpoint(&self, size: u64, note: &str, signed_at: i64) -> Result<(), PgError> {
        let db_size = to_db_seq(size)?;
        let mut conn = self.conn()?;
        let inserted = conn
            .execute_typed(
                "INSERT INTO checkpoints (size, note, signed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (size) DO NOTHING",
                &[
                    (&db_size, Type::INT8),
                    (&note, Type::TEXT),
                    (&signed_at, Type::INT8),
                ],
            )
            .map_err(PgError::query("publish a checkpoint"))?;
        if inserted == 1 {
            return Ok(());
        }
        let stored: String = conn
            .query_typed_one(
                "SELECT note FROM checkpoints WHERE size = $1",
                &[(&db_size, Type::INT8)],
            )
            .and_then(|row| row.try_get(0))
            .map_err(PgError::query("read a published checkpoint"))?;
        if stored == note {
            Ok(())
        } else {
            Err(PgError::CheckpointConflict { size })
        }
    }

    /// The checkpoint of the largest size published, with its size.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, PgError> {
        let row = self
            .conn()?
            .query_typed_opt(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )
            .map_err(PgError::query("read the latest checkpoint"))?;
        row.map(|row| {
            let size: i64 = row
                .try_get(0)
                .map_err(PgError::query("read a checkpoint size"))?;
            let note: String = row
                .try_get(1)
                .map_err(PgError::query("read a checkpoint note"))?;
            Ok((from_db_seq(size)?, note))
        })
        .transpose()
    }

    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Appended>, PgError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Converted before anything is sent, so a bad value fails the append cleanly.
        let subjects = events
            .iter()
            .map(|e| e.subject.map(to_db_subject).transpose())
            .collect::<Result<Vec<Option<i32>>, PgError>>()?;
        let mut conn = self.conn()?;
        let mut tx = conn
            .transaction()
            .map_err(PgError::query("begin an append"))?;
        tx.execute_typed(
            "SELECT pg_advisory_xact_lock($1)",
            &[(&APPEND_LOCK, Type::INT8)],
        )
        .map_err(PgError::query("take the append lock"))?;
        // A separate statement from the lock: under READ COMMITTED it gets a fresh snapshot
        // that includes the previous lock holder's commit. The head (the row without a key) and
        // the batch's known keys come back together to save a round trip.
        let keys: Vec<&str> = events
            .iter()
            .filter_map(|e| e.idempotency_key.as_deref())
            .collect();
        let found = tx
            .query_typed(
                "SELECT NULL::text, coalesce(max(seq), 0) FROM events \
                 UNION ALL \
                 SELECT idempotency_key, seq FROM events WHERE idempotency_key = ANY($1)",
                &[(&keys, Type::TEXT_ARRAY)],
            )
            .map_err(PgError::query("read the head and known idempotency keys"))?;
        let mut head = 0;
        let mut known: HashMap<String, i64> = HashMap::new();
        for row in found {
            let key: Option<String> = row
                .try_get(0)
                .map_err(PgError::query("read an idempotency key"))?;
            let seq: i64 = row
                .try_get(1)
                .map_err(PgError::query("read a sequence number"))?;
            match key {
                Some(key) => {
                    known.insert(key, seq);
                }
                None => head = seq,
            }
        }

        let mut next = head;
        let mut results = Vec::with_capacity(events.len());
        let mut rows = Vec::with_capacity(events.len());
        for (event, subject) in events.iter().zip(subjects) {
            if let Some(key) = &event.idempotency_key {
                if let Some(&seq) = known.get(key.as_str()) {
                    results.push(Appended::Duplicate(from_db_seq(seq)?));
                    continue;
                }
                known.insert(key.clone(), next + 1);
            }
            next += 1;
            results.push(Appended::New(from_db_seq(next)?));
            rows.push(NewRow {
                seq: next,
                event,
                subject,
            });
        }
        if rows.is_empty() {
            // Only retries: nothing to store or announce.
            return Ok(results);
        }
        let payload = next.to_string();
        if rows.len() >= COPY_FROM {
            copy_rows(&mut tx, &rows)?;
            tx.execute_typed(
                "SELECT pg_notify($1, $2)",
                &[(&NOTIFY_CHANNEL, Type::TEXT), (&payload, Type::TEXT)],
            )
            .map_err(PgError::query("announce an append"))?;
        } else {
            insert_rows_and_notify(&mut tx, &rows, &payload)?;
        }
        tx.commit().map_err(PgError::query("commit an append"))?;
        Ok(results)
    }

    fn read(
        &self,
        context: &'static str,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<StoredEvent>, PgError> {
        let rows = self
            .conn()?
            .query_typed(sql, params)
            .map_err(PgError::query(context))?;
        rows.iter().map(row_to_event).collect()
    }
}

/// One new event with its sequence number and database subject.
struct NewRow<'a> {
    seq: i64,
    event: &'a NewEvent,
    subject: Option<i32>,
}

/// Inserts a few rows, and announces the new head, in one statement whose parameters are
/// whole columns: one round trip however many rows.
fn insert_rows_and_notify(
    tx: &mut Transaction<'_>,
    rows: &[NewRow<'_>],
    head: &str,
) -> Result<(), PgError> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.event.kind.as_str()).collect();
    let subjects: Vec<Option<i32>> = rows.iter().map(|r| r.subject).collect();
    let keys: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.event.idempotency_key.as_deref())
        .collect();
    let recorded: Vec<i64> = rows.iter().map(|r| r.event.recorded_at).collect();
    let bodies: Vec<&[u8]> = rows.iter().map(|r| r.event.body.as_slice()).collect();
    let macs: Vec<Option<&[u8]>> = rows.iter().map(|r| r.event.mac.as_deref()).collect();
    // A data-modifying WITH runs to completion even though the outer query ignores it.
    tx.execute_typed(
        &format!(
            "WITH inserted AS ( \
                 INSERT INTO events ({COLUMNS}) \
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], \
                                      $5::bigint[], $6::bytea[], $7::bytea[])) \
             SELECT pg_notify($8, $9)"
        ),
        &[
            (&seqs, Type::INT8_ARRAY),
            (&kinds, Type::TEXT_ARRAY),
            (&subjects, Type::INT4_ARRAY),
            (&keys, Type::TEXT_ARRAY),
            (&recorded, Type::INT8_ARRAY),
            (&bodies, Type::BYTEA_ARRAY),
            (&macs, Type::BYTEA_ARRAY),
            (&NOTIFY_CHANNEL, Type::TEXT),
            (&head, Type::TEXT),
        ],
    )
    .map_err(PgError::query("insert events"))?;
    Ok(())
}

/// Streams many rows in PostgreSQL's binary COPY format: no statement size limit, and the
/// fastest way in.
fn copy_rows(tx: &mut Transaction<'_>, rows: &[NewRow<'_>]) -> Result<(), PgError> {
    let sink = tx
        .copy_in(&format!(
            "COPY events ({COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .map_err(PgError::query("start copying events"))?;
    let mut writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::INT8,
            Type::TEXT,
            Type::INT4,
            Type::TEXT,
            Type::INT8,
            Type::BYTEA,
            Type::BYTEA,
        ],
    );
    for r in rows {
        writer
            .write(&[
                &r.seq,
                &r.event.kind,
                &r.subject,
                &r.event.idempotency_key,
                &r.event.recorded_at,
                &r.event.body,
                &r.event.mac,
            ])
            .map_err(PgError::query("copy events"))?;
    }
    writer
        .finish()
        .map_err(PgError::query("finish copying events"))?;
    Ok(())
}

fn row_to_event(row: &Row) -> Result<StoredEvent, PgError> {
    Ok(StoredEvent {
        seq: from_db_seq(column(row, 0)?)?,
        kind: column(row, 1)?,
        subject: column::<Option<i32>>(row, 2)?
            .map(from_db_subject)
            .transpose()?,
        idempotency_key: column(row, 3)?,
        recorded_at: column(row, 4)?,
        body: column(row, 5)?,
        mac: column(row, 6)?,
    })
}

fn column<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, PgError> {
    row.try_get(index).map_err(PgError::query("read an event"))
}

fn to_db_seq(seq: Seq) -> Result<i64, PgError> {
    i64::try_from(seq).map_err(|_| PgError::OutOfRange {
        what: "sequence number",
        value: seq.to_string(),
    })
}

fn from_db_seq(seq: i64) -> Result<Seq, PgError> {
    Seq::try_from(seq).map_err(|_| PgError::OutOfRange {
        what: "stored sequence number",
        value: seq.to_string(),
    })
}

fn to_db_subject(subject: u32) -> Result<i32, PgError> {
    i32::try_from(subject).map_err(|_| PgError::OutOfRange {
        what: "subject",
        value: subject.to_string(),
    })
}

fn from_db_subject(subject: i32) -> Result<u32, PgError> {
    u32::try_from(subject).map_err(|_| PgError::OutOfRange {
        what: "stored subject",
        value: subject.to_string(),
    })
}

impl EventStore for PgStore {
    fn shared(&self) -> bool {
        true
    }

    fn lock_appends(&self) -> Result<Box<dyn dmf_store::Guard + '_>, StoreError> {
        let mut conn = self.conn()?;
        conn.execute_typed("SELECT pg_advisory_lock($1)", &[(&BATCH_LOCK, Type::INT8)])
            .map_err(PgError::query("take the writers' batch lock"))?;
        Ok(Box::new(BatchLock { conn }))
    }

    fn try_lock_signer(&self) -> Result<Option<Box<dyn dmf_store::Guard + '_>>, StoreError> {
        Ok(self
            .try_writer_lock()?
            .map(|l| Box::new(l) as Box<dyn dmf_store::Guard>))
    }

    fn lock_signer(&self) -> Result<Box<dyn dmf_store::Guard + '_>, StoreError> {
        Ok(Box::new(self.writer_lock()?))
    }

    fn publish_checkpoint(&self, size: Seq, note: &str, at_ms: i64) -> Result<(), StoreError> {
        Ok(PgStore::publish_checkpoint(self, size, note, at_ms)?)
    }

    fn latest_checkpoint(&self) -> Result<Option<(Seq, String)>, StoreError> {
        Ok(PgStore::latest_checkpoint(self)?)
    }

    fn append(&self, events: &[NewEvent]) -> Result<Vec<Appended>, StoreError> {
        Ok(self.append_events(events)?)
    }

    fn read_after(&self, after: Seq, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        // Past the largest storable number there is nothing to read.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self.read(
            "read events",
            &format!("SELECT {COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[(&after, Type::INT8), (&limit, Type::INT8)],
        )?)
    }

    fn read_subject(&self, subject: u32) -> Result<Vec<StoredEvent>, StoreError> {
        // A subject too large to store has no events.
        let Ok(subject) = i32::try_from(subject) else {
            return Ok(Vec::new());
        };
        Ok(self.read(
            "read a subject's events",
            &format!("SELECT {COLUMNS} FROM events WHERE subject = $1 ORDER BY seq"),
            &[(&subject, Type::INT4)],
        )?)
    }

    fn head(&self) -> Result<Seq, StoreError> {
        let head: i64 = self
            .conn()?
            .query_typed_one("SELECT coalesce(max(seq), 0) FROM events", &[])
            .and_then(|row| row.try_get(0))
            .map_err(PgError::query("read the head"))?;
        Ok(from_db_seq(head)?)
    }

    fn seq_of_key(&self, key: &str) -> Result<Option<Seq>, StoreError> {
        let row = self
            .conn()?
            .query_typed_opt(
                "SELECT seq FROM events WHERE idempotency_key = $1",
                &[(&key, Type::TEXT)],
            )
            .map_err(PgError::query("look up an idempotency key"))?;
        let seq = row
            .map(|row| row.try_get::<_, i64>(0))
            .transpose()
            .map_err(PgError::query("read an idempotency key's event"))?;
        Ok(seq.map(from_db_seq).transpose()?)
    }
}
