//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, and triggers that
//! abort any UPDATE or DELETE of an event. A file of an earlier schema version is upgraded only
//! on request ([`SqliteStore::upgrade`]), by its owner, who may refuse what it holds.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Appended, EventStore, NewEvent, Seq, StoreError, StoredEvent};

/// Version of the schema below; a file of another version is refused, not guessed at.
/// Version 2 added `mac`.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject INTEGER,
    idempotency_key TEXT,
    recorded_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    mac BLOB
);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject, seq) WHERE subject IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
";

/// `UPGRADES[v - 1]` takes a file of schema version `v` to `v + 1`. Events already stored keep
/// no MAC: they are what the signed log covered when the file was upgraded.
const UPGRADES: [&str; 1] = ["ALTER TABLE events ADD COLUMN mac BLOB;"];

/// The columns of a stored event, in the order `row_to_event` reads them.
macro_rules! select_events {
    ($where:literal) => {
        concat!(
            "SELECT seq, kind, subject, idempotency_key, recorded_at, body, mac FROM events ",
            $where
        )
    };
}

/// An event store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

fn backend(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(e.to_string()),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            StoreError::Damaged(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Caps the file at this many pages when set: a full disk, made on purpose, for the fault
/// tests (`SQLITE_FULL` is what a full disk gives too).
pub const MAX_PAGES_VAR: &str = "DMF_SQLITE_MAX_PAGES";

/// Why a versioned SQLite file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionedError {
    #[error("{0}")]
    Open(String),
    /// Not a file of this schema, or of another version of it.
    #[error("{0}")]
    NotOurs(String),
}

/// Opens (or creates) a SQLite file for durable appends: WAL, `synchronous=FULL`, a 30 s busy
/// timeout. An empty file gets `schema` and `version` (`PRAGMA user_version`); a file of
/// another version is refused rather than guessed at.
pub fn open_versioned(
    path: &Path,
    schema: &str,
    version: i64,
) -> Result<Connection, VersionedError> {
    open_upgrading(path, schema, version, &[])
}

/// [`open_versioned`] for a schema that has changed: `upgrades[i]` takes a file of version
/// `version - upgrades.len() + i` to the next, each in its own transaction, so a file of an
/// earlier version is brought up to date instead of refused.
pub fn open_upgrading(
    path: &Path,
    schema: &str,
    version: i64,
    upgrades: &[&str],
) -> Result<Connection, VersionedError> {
    // Owner-only from the start (SQLite gives its journal files the same mode): the files hold
    // personal data, who saw whom and password hashes.
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| VersionedError::Open(e.to_string()))?;
    }
    let conn = Connection::open(path).map_err(|e| VersionedError::Open(e.to_string()))?;
    let not_ours = |e: rusqlite::Error| VersionedError::NotOurs(e.to_string());
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|_| conn.pragma_update(None, "synchronous", "FULL"))
        .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(30)))
        .map_err(not_ours)?;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(not_ours)?;
    match found {
        0 => {
            conn.execute_batch(schema).map_err(not_ours)?;
            conn.pragma_update(None, "user_version", version)
                .map_err(not_ours)?;
        }
        v if v == version => {}
        v if v < version && version - v <= upgrades.len() as i64 => {
            let first = upgrades.len() - (version - v) as usize;
            for (i, sql) in upgrades[first..].iter().enumerate() {
                let to = v + 1 + i as i64;
                let tx = conn.unchecked_transaction().map_err(not_ours)?;
                tx.execute_batch(sql).map_err(not_ours)?;
                tx.pragma_update(None, "user_version", to)
                    .map_err(not_ours)?;
                tx.commit().map_err(not_ours)?;
            }
        }
        other => {
            return Err(VersionedError::NotOurs(format!(
                "schema version {other}, this program reads {version}"
            )));
        }
    }
    Ok(conn)
}

impl SqliteStore {
    /// Opens the store at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let open_error = |e: rusqlite::Error| StoreError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let not_store = |e: rusqlite::Error| StoreError::NotAStore {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let writer = open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| match e {
            VersionedError::Open(reason) => StoreError::Open {
                path: shown.clone(),
                reason,
            },
            VersionedError::NotOurs(reason) => StoreError::NotAStore {
                path: shown.clone(),
                reason,
            },
        })?;
        // Bulk appends touch many index pages: a large page cache and rarer checkpoints keep
        // them in memory.
        writer
            .pragma_update(None, "cache_size", -262_144)
            .and_then(|_| writer.pragma_update(None, "wal_autocheckpoint", 16_384))
            .map_err(not_store)?;
        if let Some(pages) = std::env::var(MAX_PAGES_VAR)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
        {
            writer
                .pragma_update(None, "max_page_count", pages)
                .map_err(not_store)?;
        }
        let reader = Connection::open(path).map_err(open_error)?;
        reader
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(not_store)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }
}

impl SqliteStore {
    /// Brings the file at `path`, if it is of an earlier schema version, to this one, in one
    /// transaction that keeps every writer out. `allow` is given the file's last sequence
    /// number first and may refuse, leaving the file as it was. Returns the version found when
    /// the file was upgraded, `None` when there was nothing to do: no file, a new one, one of
    /// this version already, or one whose version cannot be read (left for
    /// [`SqliteStore::open`] to report).
    pub fn upgrade(
        path: &Path,
        allow: impl FnOnce(Seq) -> Result<(), String>,
    ) -> Result<Option<i64>, StoreError> {
        if !path.is_file() {
            return Ok(None);
        }
        let Ok(mut conn) = Connection::open(path) else {
            return Ok(None);
        };
        let Ok(tx) = conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .and_then(|()| {
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            })
        else {
            return Ok(None);
        };
        let Ok(found) = tx.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)) else {
            return Ok(None);
        };
        if found == 0 || found >= SCHEMA_VERSION {
            // New, current, or newer than this program: `open` says which.
            return Ok(None);
        }
        let failed = |reason: String| StoreError::Upgrade {
            path: path.display().to_string(),
            reason,
        };
        let store_failed = |e: rusqlite::Error| match backend(e) {
            StoreError::Backend(reason) => failed(reason),
            other => other,
        };
        let head: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(store_failed)?;
        allow(head as Seq).map_err(failed)?;
        for step in &UPGRADES[(found - 1) as usize..] {
            tx.execute_batch(step).map_err(store_failed)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(store_failed)?;
        tx.commit().map_err(store_failed)?;
        Ok(Some(found))
    }

    /// SQLite's own check of the whole file: `Ok` or the problems it found.
    pub fn check_file(&self) -> Result<(), StoreError> {
        let conn = self.reader.lock().expect("reader lock");
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(backend)?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Backend(rows.join("; ")))
        }
    }
}

fn row_to_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.get::<_, i64>(0)? as Seq,
        kind: row.get(1)?,
        subject: row.get::<_, Option<i64>>(2)?.map(|s| s as u32),
        idempotency_key: row.get(3)?,
        recorded_at: row.get(4)?,
        body: row.get(5)?,
        mac: row.get(6)?,
    })
}

impl EventStore for SqliteStore {
    fn integrity_check(&self) -> Result<(), StoreError> {
        self.check_file()
    }

    fn append(&self, events: &[NewEvent]) -> Result<Vec<Appended>, StoreError> {
        let mut conn = self.writer.lock().expect("writer lock");
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let mut results = Vec::with_capacity(events.len());
        {
            // The insert itself checks the key (one probe of the key index, not a lookup and
            // then the insert's own); only a known key costs a second probe, for its seq.
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (kind, subject, idempotency_key, recorded_at, body, mac) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
                )
                .map_err(backend)?;
            let mut find = tx
                .prepare_cached("SELECT seq FROM events WHERE idempotency_key = ?1")
                .map_err(backend)?;
            for e in events {
                let inserted = insert
                    .execute(params![
                        e.kind,
                        e.subject.map(i64::from),
                        e.idempotency_key,
                        e.recorded_at,
                        e.body,
                        e.mac
                    ])
                    .map_err(backend)?;
                if inserted == 1 {
                    results.push(Appended::New(tx.last_insert_rowid() as Seq));
                } else {
                    let seq: i64 = find
                        .query_row([&e.idempotency_key], |r| r.get(0))
                        .map_err(backend)?;
                    results.push(Appended::Duplicate(seq as Seq));
                }
            }
        }
        tx.commit().map_err(backend)?;
        Ok(results)
    }

    fn read_after(&self, after: Seq, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = self.reader.lock().expect("reader lock");
        let mut stmt = conn
            .prepare_cached(select_events!("WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![after as i64, limit as i64], row_to_event)
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn read_subject(&self, subject: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = self.reader.lock().expect("reader lock");
        let mut stmt = conn
            .prepare_cached(select_events!("WHERE subject = ?1 ORDER BY seq"))
            .map_err(backend)?;
        let rows = stmt
            .query_map([i64::from(subject)], row_to_event)
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)
    }

    fn head(&self) -> Result<Seq, StoreError> {
        let conn = self.reader.lock().expect("reader lock");
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|s| s as Seq)
        .map_err(backend)
    }

    fn seq_of_key(&self, key: &str) -> Result<Option<Seq>, StoreError> {
        let conn = self.reader.lock().expect("reader lock");
        conn.query_row(
            "SELECT seq FROM events WHERE idempotency_key = ?1",
            [key],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map(|s| s.map(|s| s as Seq))
        .map_err(backend)
    }
}
