//! Feed positions and corrections in one SQLite file beside the registry.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{
    ActionKind, Approval, CorrectionAction, CorrectionRequest, CorrectionStatus, CorrectionStore,
    Filed, Position, PositionStore, Queue, RequestRow, SELECT_ACTIONS, SELECT_CORRECTION, Step,
    WorkflowError, queue_order,
};

const SCHEMA_VERSION: i64 = 3;

/// What was done to corrections after their request, besides the approval: joined requests,
/// rejections, sendings back, resubmissions and withdrawals, in the order `n` they happened.
macro_rules! actions_table {
    () => {
        "
CREATE TABLE IF NOT EXISTS correction_actions (
    n INTEGER PRIMARY KEY,
    id INTEGER NOT NULL REFERENCES correction_requests (id),
    kind TEXT NOT NULL,
    actor_key INTEGER NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT,
    body TEXT
);
CREATE INDEX IF NOT EXISTS correction_actions_id ON correction_actions (id, n);
CREATE TRIGGER IF NOT EXISTS actions_no_update BEFORE UPDATE ON correction_actions
BEGIN SELECT RAISE(ABORT, 'correction actions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS actions_no_delete BEFORE DELETE ON correction_actions
BEGIN SELECT RAISE(ABORT, 'correction actions are append-only'); END;
"
    };
}

const SCHEMA: &str = concat!(
    "
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
",
    actions_table!()
);

/// From each earlier version of the schema to the next: the positions named as PostgreSQL
/// names them, their rows kept; then the corrections' actions, none yet (every correction of
/// a file written before is awaiting approval or approved, as it was).
const UPGRADES: &[&str] = &[
    "ALTER TABLE positions RENAME TO feed_positions;",
    actions_table!(),
];

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
    // IMMEDIATE: the write lock is taken before the person's open correction is looked for,
    // so two requests (from this process or another on the same file) cannot both miss it.
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<Filed, WorkflowError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let open = read_many(
            &tx,
            &format!(
                "{SELECT_CORRECTION} WHERE c.ssn = ?1 AND c.status IN ('{}', '{}') ORDER BY c.id",
                CorrectionStatus::Open.code(),
                CorrectionStatus::SentBack.code()
            ),
            [ssn],
        )?
        .into_iter()
        .next();
        let filed = match open {
            Some(c) if c.already_asked(key, body) => Filed::Repeated(c.id),
            Some(c) => {
                insert_action(
                    &tx,
                    c.id,
                    ActionKind::Joined,
                    key,
                    by,
                    at_ms,
                    None,
                    Some(body),
                )?;
                Filed::Joined(c.id)
            }
            None => {
                tx.execute(
                    "INSERT INTO correction_requests
                         (ssn, body, requested_key, requested_by, requested_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![ssn, body, key, by, at_ms],
                )?;
                Filed::New(tx.last_insert_rowid())
            }
        };
        tx.commit()?;
        Ok(filed)
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

    fn act(
        &self,
        id: i64,
        step: &Step,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<CorrectionRequest, WorkflowError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let c = read_one(&tx, id)?.ok_or(WorkflowError::NoCorrection(id))?;
        if !step.allowed_in(c.status) {
            return Err(WorkflowError::NotAllowed {
                id,
                status: c.status,
                step: step.done(),
            });
        }
        insert_action(
            &tx,
            id,
            step.kind(),
            key,
            by,
            at_ms,
            step.reason(),
            step.body(),
        )?;
        let now = read_one(&tx, id)?.ok_or(WorkflowError::NoCorrection(id))?;
        tx.commit()?;
        Ok(now)
    }

    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        read_one(&self.conn(), id)
    }

    fn queue(&self, q: &Queue) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let order = queue_order(q);
        read_many(
            &self.conn(),
            &format!(
                "{SELECT_CORRECTION} WHERE (?1 IS NULL OR c.status = ?1)
                 AND (?2 IS NULL OR c.requested_key = ?2) {order} LIMIT ?3"
            ),
            params![
                q.status.map(CorrectionStatus::code),
                q.requested_key,
                q.limit as i64
            ],
        )
    }

    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        read_many(
            &self.conn(),
            &format!("{SELECT_CORRECTION} WHERE c.ssn = ?1 ORDER BY c.id"),
            [ssn],
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_action(
    tx: &Transaction<'_>,
    id: i64,
    kind: ActionKind,
    key: i64,
    by: &str,
    at_ms: i64,
    reason: Option<&str>,
    body: Option<&str>,
) -> Result<(), WorkflowError> {
    tx.execute(
        "INSERT INTO correction_actions (id, kind, actor_key, actor, at, reason, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, kind.code(), key, by, at_ms, reason, body],
    )?;
    Ok(())
}

fn read_one(conn: &Connection, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
    Ok(read_many(conn, &format!("{SELECT_CORRECTION} WHERE c.id = ?1"), [id])?.pop())
}

/// The corrections a query of [`SELECT_CORRECTION`] selects, each with its actions.
fn read_many(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<CorrectionRequest>, WorkflowError> {
    let rows: Vec<RequestRow> = {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(params, request_row)?;
        rows.collect::<Result<_, _>>()?
    };
    let mut stmt = conn.prepare_cached(&format!("{SELECT_ACTIONS} WHERE id = ?1 ORDER BY n"))?;
    rows.into_iter()
        .map(|row| {
            let actions = stmt
                .query_map([row.id], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        CorrectionAction {
                            kind: ActionKind::Joined,
                            key: r.get(2)?,
                            by: r.get(3)?,
                            at: r.get(4)?,
                            reason: r.get(5)?,
                            body: r.get(6)?,
                        },
                    ))
                })?
                .map(|a| {
                    let (kind, action) = a?;
                    super::with_kind(&kind, action)
                })
                .collect::<Result<Vec<_>, WorkflowError>>()?;
            Ok(CorrectionRequest::assemble(row, actions))
        })
        .collect()
}

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    let approval = match r.get::<_, Option<i64>>(6)? {
        Some(key) => Some(Approval {
            key,
            by: r.get(7)?,
            at: r.get(8)?,
            seq: r.get::<_, i64>(9)? as u64,
        }),
        None => None,
    };
    Ok(RequestRow {
        id: r.get(0)?,
        ssn: r.get(1)?,
        body: r.get(2)?,
        requested_key: r.get(3)?,
        requested_by: r.get(4)?,
        requested_at: r.get(5)?,
        approval,
    })
}
