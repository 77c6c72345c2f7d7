//! The accounting of disclosures in a SQLite file beside the registry: WAL mode with
//! `synchronous=FULL`, so every committed batch is fsynced; or, behind the journal
//! ([`super::journal`]), which is what makes a batch durable, with rows filed unsynced and
//! synced before the journal is written over.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{AccountingError, Disclosure, DisclosureStore, join_fields, passed_on, split_fields};

/// Version of the schema below; a file of another version is refused, not guessed at.
/// Version 2 added `journal_filed`.
const SCHEMA_VERSION: i64 = 2;

/// The number of the journal's last record in the table (one row, `id` 1): in the schema, and
/// the upgrade from version 1.
macro_rules! journal_filed {
    () => {
        "
CREATE TABLE IF NOT EXISTS journal_filed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);"
    };
}

/// `UPGRADES[v - 1]` takes a file of version `v` to `v + 1`.
const UPGRADES: [&str; 1] = [journal_filed!()];

const SCHEMA: &str = concat!(
    "
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
",
    journal_filed!()
);

fn read_error(e: rusqlite::Error) -> AccountingError {
    AccountingError::Read(e.to_string())
}

/// One accounting file: a connection for the writer and one for readers, so that reading
/// never waits behind a batch being written.
#[derive(Debug)]
pub struct SqliteDisclosures {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    path: std::path::PathBuf,
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteDisclosures {
    /// Opens the accounting file at `path`, creating it if missing.
    pub fn open(path: &Path) -> Result<SqliteDisclosures, AccountingError> {
        let shown = path.display().to_string();
        let open_error = |e: rusqlite::Error| AccountingError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let writer = dmf_store::open_upgrading(path, SCHEMA, SCHEMA_VERSION, &UPGRADES).map_err(
            |e| match e {
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
            },
        )?;
        let reader = Connection::open(path).map_err(open_error)?;
        reader
            .busy_timeout(Duration::from_secs(30))
            .map_err(open_error)?;
        Ok(SqliteDisclosures {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            path: path.to_owned(),
        })
    }

    /// Opens the file for the journal in front of it: commits are not synced one by one
    /// (the journal is durable), and [`SqliteDisclosures::sync`] syncs them all.
    pub(crate) fn open_journaled(path: &Path) -> Result<SqliteDisclosures, AccountingError> {
        let store = SqliteDisclosures::open(path)?;
        lock(&store.writer)
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| AccountingError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(store)
    }

    /// The number of the journal's last record in the table, 0 if none.
    pub(crate) fn journal_filed(&self) -> Result<u64, String> {
        lock(&self.writer)
            .query_row("SELECT upto FROM journal_filed WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map(|n| n.map_or(0, i64::unsigned_abs))
            .map_err(|e| e.to_string())
    }

    /// Files journal records, numbered, in one transaction that also notes the last number.
    pub(crate) fn file(&self, rows: &[(u64, Disclosure)]) -> Result<(), String> {
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        let mut conn = lock(&self.writer);
        let written = (|| {
            let tx = conn.transaction()?;
            insert(&tx, rows.iter().map(|(_, d)| d))?;
            tx.execute(
                "INSERT INTO journal_filed (id, upto) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET upto = excluded.upto",
                [*last as i64],
            )?;
            tx.commit()
        })();
        written.map_err(|e| e.to_string())
    }

    /// Makes every commit so far durable: the WAL and the file synced (each commit wrote its
    /// pages to them before returning; a sync covers every earlier write to a file).
    pub(crate) fn sync(&self) -> Result<(), String> {
        let _writer = lock(&self.writer);
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        for file in [std::path::PathBuf::from(wal), self.path.clone()] {
            match std::fs::File::open(&file) {
                Ok(f) => f
                    .sync_all()
                    .map_err(|e| format!("cannot sync {}: {e}", file.display()))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot open {}: {e}", file.display())),
            }
        }
        Ok(())
    }
}

/// Inserts disclosures in order, in the transaction `tx`.
fn insert<'a>(
    tx: &rusqlite::Transaction<'_>,
    rows: impl Iterator<Item = &'a Disclosure>,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO disclosures (ssn, at_ms, key_id, key_name, purpose, fields)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for d in rows {
        stmt.execute(params![
            d.ssn,
            d.at_ms,
            d.key_id,
            d.key_name,
            d.purpose,
            join_fields(&d.fields)
        ])?;
    }
    Ok(())
}

fn disclosure(r: &rusqlite::Row<'_>) -> rusqlite::Result<Disclosure> {
    let fields: String = r.get(5)?;
    Ok(Disclosure {
        ssn: r.get(0)?,
        at_ms: r.get(1)?,
        key_id: r.get(2)?,
        key_name: r.get(3)?,
        purpose: r.get(4)?,
        fields: split_fields(&fields),
    })
}

impl DisclosureStore for SqliteDisclosures {
    fn append(&self, batch: &[Disclosure]) -> Result<(), String> {
        let mut conn = lock(&self.writer);
        let written = (|| {
            let tx = conn.transaction()?;
            insert(&tx, batch.iter())?;
            tx.commit()
        })();
        written.map_err(|e| e.to_string())
    }

    fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError> {
        let conn = lock(&self.reader);
        let mut stmt = conn
            .prepare_cached(
                "SELECT ssn, at_ms, key_id, key_name, purpose, fields FROM disclosures
                 WHERE ssn = ?1 ORDER BY at_ms, seq",
            )
            .map_err(read_error)?;
        let rows = stmt.query_map([ssn], disclosure).map_err(read_error)?;
        rows.collect::<Result<_, _>>().map_err(read_error)
    }

    fn for_each(
        &self,
        each: &mut dyn FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        let conn = lock(&self.reader);
        let mut stmt = conn
            .prepare(
                "SELECT ssn, at_ms, key_id, key_name, purpose, fields FROM disclosures
                 ORDER BY seq",
            )
            .map_err(read_error)?;
        let mut rows = stmt.query([]).map_err(read_error)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(read_error)? {
            each(disclosure(r).map_err(read_error)?).map_err(passed_on)?;
            n += 1;
        }
        Ok(n)
    }

    fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        let conn = lock(&self.reader);
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
