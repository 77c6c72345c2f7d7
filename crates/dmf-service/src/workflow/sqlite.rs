//! Feed positions and corrections in one SQLite file beside the registry.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Approval, CorrectionRequest, CorrectionStore, Position, PositionStore, SELECT_CORRECTION,
    WorkflowError,
};

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS feed_positions (
    key_id INTEGER PRIMARY KEY,
    served INTEGER NOT NULL DEFAULT 0,
    acked INTEGER NOT NULL DEFAULT 0,
    acked_at INTEGER
);
CREATE TABLE IF NOT EXISTS correction_requests (
    id INTEGER PRIMARY KEY,
    ssn INTEGER NOT NULL,
    body TEXT NOT NULL,
    requested_key INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS correction_requests_ssn ON correction_requests (ssn);
CREATE TABLE IF NOT EXISTS correction_approvals (
    id INTEGER PRIMARY KEY REFERENCES correction_requests (id),
    approved_key INTEGER NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS requests_no_update BEFORE UPDATE ON correction_requests
BEGIN SELECT RAISE(ABORT, 'correction requests are append-only'); END;
CREATE TRIGGER IF NOT EXISTS approvals_no_update BEFORE UPDATE ON correction_approvals
BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;
";

/// From each earlier version of the schema to the next: the positions named as PostgreSQL
/// names them, their rows kept.
const UPGRADES: &[&str] = &["ALTER TABLE positions RENAME TO feed_positions;"];

/// Both workflow stores on one SQLite file (one connection, shared by the clones).
#[derive(Debug, Clone)]
pub struct SqliteWorkflow {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteWorkflow {
    /// Opens the file at `path`, creating it if missing and upgrading an older one.
    pub fn open(path: &Path) -> Result<SqliteWorkflow, WorkflowError> {
        let conn =
            dmf_store::open_upgrading(path, SCHEMA, SCHEMA_VERSION, UPGRADES).map_err(|e| {
                WorkflowError::Open {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
        Ok(SqliteWorkflow {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PositionStore for SqliteWorkflow {
    fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT served, acked FROM feed_positions WHERE key_id = ?1",
                [key_id],
                |r| {
                    Ok(Position {
                        served: r.get::<_, i64>(0)? as u64,
                        acked: r.get::<_, i64>(1)? as u64,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT key_id, served, acked FROM feed_positions ORDER BY key_id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                Position {
                    served: r.get::<_, i64>(1)? as u64,
                    acked: r.get::<_, i64>(2)? as u64,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        self.conn().execute(
            "INSERT INTO feed_positions (key_id, served) VALUES (?1, ?2)
             ON CONFLICT (key_id) DO UPDATE SET served = max(served, excluded.served)",
            params![key_id, cursor as i64],
        )?;
        Ok(())
    }

    fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        self.conn().execute(
            "INSERT INTO feed_positions (key_id, acked, acked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key_id) DO UPDATE
             SET acked = max(acked, excluded.acked), acked_at = excluded.acked_at",
            params![key_id, cursor as i64, at_ms],
        )?;
        Ok(())
    }
}

impl CorrectionStore for SqliteWorkflow {
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO correction_requests
                 (ssn, body, requested_key, requested_by, requested_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ssn, body, key, by, at_ms],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError> {
        self.conn().execute(
            "INSERT INTO correction_approvals (id, approved_key, approved_by, approved_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, key, by, at_ms, seq as i64],
        )?;
        Ok(())
    }

    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        Ok(self
            .conn()
            .query_row(
                &format!("{SELECT_CORRECTION} WHERE r.id = ?1"),
                [id],
                correction_row,
            )
            .optional()?)
    }

    fn corrections(
        &self,
        waiting: bool,
        limit: usize,
    ) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let filter = if waiting { "WHERE a.id IS NULL" } else { "" };
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{SELECT_CORRECTION} {filter} ORDER BY r.id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], correction_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{SELECT_CORRECTION} WHERE r.ssn = ?1 ORDER BY r.id"
        ))?;
        let rows = stmt.query_map([ssn], correction_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn correction_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CorrectionRequest> {
    let approval = match r.get::<_, Option<i64>>(6)? {
        Some(key) => Some(Approval {
            key,
            by: r.get(7)?,
            at: r.get(8)?,
            seq: r.get::<_, i64>(9)? as u64,
        }),
        None => None,
    };
    Ok(CorrectionRequest {
        id: r.get(0)?,
        ssn: r.get(1)?,
        body: r.get(2)?,
        requested_key: r.get(3)?,
        requested_by: r.get(4)?,
        requested_at: r.get(5)?,
        approval,
    })
}
