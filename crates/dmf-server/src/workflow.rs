//! The service's own records beside the registry: how far each subscriber was served and has
//! acknowledged, and corrections awaiting a second person's approval. One SQLite file; the
//! correction tables are append-only, like the registry.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// Why the workflow store failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the workflow store failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// A subscriber's position in the event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// The furthest cursor the subscriber was sent.
    pub served: u64,
    /// The furthest cursor it said it applied.
    pub acked: u64,
}

/// A correction as requested, and its approval once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRequest {
    pub id: i64,
    pub ssn: u32,
    /// The submission (as `dmf submit` takes it) without `approved_by`.
    pub body: String,
    pub requested_key: i64,
    pub requested_by: String,
    pub requested_at: i64,
    pub approval: Option<Approval>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub key: i64,
    pub by: String,
    pub at: i64,
    /// The registry event of the correction.
    pub seq: u64,
}

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS positions (
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

/// The workflow store.
#[derive(Debug)]
pub struct Workflow {
    conn: Mutex<Connection>,
}

impl Workflow {
    pub fn open(path: &Path) -> Result<Workflow, WorkflowError> {
        let conn = dmf_store::open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| {
            WorkflowError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Workflow {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().expect("workflow connection")
    }

    pub fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT served, acked FROM positions WHERE key_id = ?1",
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

    /// Every subscriber's position.
    pub fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT key_id, served, acked FROM positions ORDER BY key_id")?;
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

    /// Records that a subscriber was sent everything up to `cursor`.
    pub fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        self.conn().execute(
            "INSERT INTO positions (key_id, served) VALUES (?1, ?2)
             ON CONFLICT (key_id) DO UPDATE SET served = max(served, excluded.served)",
            params![key_id, cursor as i64],
        )?;
        Ok(())
    }

    /// Records that a subscriber applied everything up to `cursor`.
    pub fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        self.conn().execute(
            "INSERT INTO positions (key_id, acked, acked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key_id) DO UPDATE SET acked = max(acked, excluded.acked), acked_at = excluded.acked_at",
            params![key_id, cursor as i64, at_ms],
        )?;
        Ok(())
    }

    pub fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO correction_requests (ssn, body, requested_key, requested_by, requested_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ssn, body, key, by, at_ms],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn approve_correction(
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

    pub fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        Ok(self
            .conn()
            .query_row(
                &format!("{SELECT_CORRECTION} WHERE r.id = ?1"),
                [id],
                correction_row,
            )
            .optional()?)
    }

    /// The latest corrections, newest first; only those awaiting approval if `waiting`.
    pub fn corrections(
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

    /// Every correction of one SSN, oldest first.
    pub fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "{SELECT_CORRECTION} WHERE r.ssn = ?1 ORDER BY r.id"
        ))?;
        let rows = stmt.query_map([ssn], correction_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const SELECT_CORRECTION: &str = "SELECT r.id, r.ssn, r.body, r.requested_key, r.requested_by,
        r.requested_at, a.approved_key, a.approved_by, a.approved_at, a.seq
    FROM correction_requests r LEFT JOIN correction_approvals a ON a.id = r.id";

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
