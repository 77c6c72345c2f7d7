//! The program journal in a SQLite file beside the registry.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, params};

use super::{JournalRow, JournalStore, ProgramStoreError};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS program_journal (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    agreement INTEGER,
    actor TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS program_journal_no_update BEFORE UPDATE ON program_journal
BEGIN SELECT RAISE(ABORT, 'the program journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS program_journal_no_delete BEFORE DELETE ON program_journal
BEGIN SELECT RAISE(ABORT, 'the program journal is append-only'); END;
";

/// The journal of one SQLite file.
#[derive(Debug)]
pub struct SqliteJournal {
    conn: Mutex<Connection>,
}

impl SqliteJournal {
    pub fn open(path: &Path) -> Result<SqliteJournal, ProgramStoreError> {
        let conn = dmf_store::open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| {
            ProgramStoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(SqliteJournal {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn read_after(conn: &Connection, after: i64) -> Result<Vec<JournalRow>, ProgramStoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, at_ms, day, kind, agreement, actor, body FROM program_journal
         WHERE id > ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([after], |r| {
        Ok(JournalRow {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            day: r.get(2)?,
            kind: r.get(3)?,
            agreement: r.get(4)?,
            actor: r.get(5)?,
            body: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl JournalStore for SqliteJournal {
    fn read_after(&self, after: i64) -> Result<Vec<JournalRow>, ProgramStoreError> {
        read_after(&self.conn(), after)
    }

    fn append(
        &self,
        after: i64,
        next: &mut dyn FnMut(Vec<JournalRow>) -> Result<JournalRow, ProgramStoreError>,
    ) -> Result<(), ProgramStoreError> {
        let conn = self.conn();
        // Another process writing meanwhile takes the same id first; the primary key then
        // refuses this row rather than let two entries share a number.
        let row = next(read_after(&conn, after)?)?;
        conn.execute(
            "INSERT INTO program_journal (id, at_ms, day, kind, agreement, actor, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                row.id,
                row.at_ms,
                row.day,
                row.kind,
                row.agreement,
                row.actor,
                row.body
            ],
        )?;
        Ok(())
    }
}
