//! The service's own records beside the registry: how far each subscriber was served and has
//! acknowledged, and corrections awaiting a second person's approval. Either one SQLite file,
//! or tables in the PostgreSQL database that several server nodes share; the correction tables
//! are append-only, like the registry.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use crate::pg::{SharedPool, with_causes};
use postgres::types::Type;
use rusqlite::{Connection, OptionalExtension, params};

/// Why the workflow store failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the workflow store failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL failed to {context}: {}", with_causes(.source))]
    Postgres {
        context: &'static str,
        #[source]
        source: postgres::Error,
    },
    #[error("no PostgreSQL connection for the workflow store: {0}")]
    Pool(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A mapper from a statement's error to this error, naming what was being done.
fn failed(context: &'static str) -> impl FnOnce(postgres::Error) -> WorkflowError {
    move |source| WorkflowError::Postgres { context, source }
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

/// Where the records are kept.
enum Db {
    Sqlite(Mutex<Connection>),
    Postgres(SharedPool),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Sqlite",
            Db::Postgres(_) => "Postgres",
        })
    }
}

/// The workflow store.
#[derive(Debug)]
pub struct Workflow {
    db: Db,
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
            db: Db::Sqlite(Mutex::new(conn)),
        })
    }

    /// The store in the tables of a PostgreSQL database migrated by [`dmf_postgres::migrate`],
    /// shared by every node connected to it. Fails if the tables cannot be read.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Workflow, WorkflowError> {
        let pool = SharedPool::new(pool);
        // A missing table or grant is reported now rather than at a subscriber's first request.
        Workflow::pg(&pool, |c| {
            c.batch_execute(
                "SELECT FROM feed_positions LIMIT 0; SELECT FROM correction_requests LIMIT 0;
                 SELECT FROM correction_approvals LIMIT 0",
            )
            .map_err(failed("read the workflow tables"))
        })?;
        Ok(Workflow {
            db: Db::Postgres(pool),
        })
    }

    /// Runs `f` on a pooled PostgreSQL connection, off the async runtime.
    fn pg<T>(
        pool: &dmf_postgres::Pool,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, WorkflowError>,
    ) -> Result<T, WorkflowError> {
        crate::pg::on_conn(pool, |e| WorkflowError::Pool(Box::new(e)), f)
    }

    pub fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn)
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
                .unwrap_or_default()),
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                let row = c
                    .query_typed(
                        "SELECT served, acked FROM feed_positions WHERE key_id = $1",
                        &[(&key_id, Type::INT8)],
                    )
                    .and_then(|rows| {
                        rows.first()
                            .map(|r| {
                                Ok(Position {
                                    served: r.try_get::<_, i64>(0)? as u64,
                                    acked: r.try_get::<_, i64>(1)? as u64,
                                })
                            })
                            .transpose()
                    })
                    .map_err(failed("read a subscriber's position"))?;
                Ok(row.unwrap_or_default())
            }),
        }
    }

    /// Every subscriber's position.
    pub fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
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
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.query_typed(
                    "SELECT key_id, served, acked FROM feed_positions ORDER BY key_id",
                    &[],
                )
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| {
                            Ok((
                                r.try_get(0)?,
                                Position {
                                    served: r.try_get::<_, i64>(1)? as u64,
                                    acked: r.try_get::<_, i64>(2)? as u64,
                                },
                            ))
                        })
                        .collect()
                })
                .map_err(failed("read the subscribers' positions"))
            }),
        }
    }

    /// Records that a subscriber was sent everything up to `cursor`.
    pub fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        let cursor = cursor as i64;
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "INSERT INTO positions (key_id, served) VALUES (?1, ?2)
                     ON CONFLICT (key_id) DO UPDATE SET served = max(served, excluded.served)",
                    params![key_id, cursor],
                )?;
                Ok(())
            }
            // GREATEST, so that of two nodes serving one subscriber the slower cannot move it
            // back.
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.execute_typed(
                    "INSERT INTO feed_positions (key_id, served) VALUES ($1, $2)
                     ON CONFLICT (key_id) DO UPDATE
                     SET served = GREATEST(feed_positions.served, excluded.served)",
                    &[(&key_id, Type::INT8), (&cursor, Type::INT8)],
                )
                .map_err(failed("record a subscriber's served position"))?;
                Ok(())
            }),
        }
    }

    /// Records that a subscriber applied everything up to `cursor`.
    pub fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        let cursor = cursor as i64;
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "INSERT INTO positions (key_id, acked, acked_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key_id) DO UPDATE SET acked = max(acked, excluded.acked), acked_at = excluded.acked_at",
                    params![key_id, cursor, at_ms],
                )?;
                Ok(())
            }
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.execute_typed(
                    "INSERT INTO feed_positions (key_id, acked, acked_at) VALUES ($1, $2, $3)
                     ON CONFLICT (key_id) DO UPDATE
                     SET acked = GREATEST(feed_positions.acked, excluded.acked),
                         acked_at = excluded.acked_at",
                    &[
                        (&key_id, Type::INT8),
                        (&cursor, Type::INT8),
                        (&at_ms, Type::INT8),
                    ],
                )
                .map_err(failed("record a subscriber's acknowledgement"))?;
                Ok(())
            }),
        }
    }

    pub fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                conn.execute(
                    "INSERT INTO correction_requests (ssn, body, requested_key, requested_by, requested_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![ssn, body, key, by, at_ms],
                )?;
                Ok(conn.last_insert_rowid())
            }
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.query_typed_one(
                    "INSERT INTO correction_requests
                         (ssn, body, requested_key, requested_by, requested_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[
                        (&ssn_to_db(ssn), Type::INT4),
                        (&body, Type::TEXT),
                        (&key, Type::INT8),
                        (&by, Type::TEXT),
                        (&at_ms, Type::INT8),
                    ],
                )
                .and_then(|r| r.try_get(0))
                .map_err(failed("record a correction request"))
            }),
        }
    }

    pub fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError> {
        let seq = seq as i64;
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "INSERT INTO correction_approvals (id, approved_key, approved_by, approved_at, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, key, by, at_ms, seq],
                )?;
                Ok(())
            }
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.execute_typed(
                    "INSERT INTO correction_approvals
                         (id, approved_key, approved_by, approved_at, seq)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        (&id, Type::INT8),
                        (&key, Type::INT8),
                        (&by, Type::TEXT),
                        (&at_ms, Type::INT8),
                        (&seq, Type::INT8),
                    ],
                )
                .map_err(failed("record a correction's approval"))?;
                Ok(())
            }),
        }
    }

    pub fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn)
                .query_row(
                    &format!("{SELECT_CORRECTION} WHERE r.id = ?1"),
                    [id],
                    correction_row,
                )
                .optional()?),
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.query_typed(
                    &format!("{SELECT_CORRECTION} WHERE r.id = $1"),
                    &[(&id, Type::INT8)],
                )
                .and_then(|rows| rows.first().map(correction_pg_row).transpose())
                .map_err(failed("read a correction"))
            }),
        }
    }

    /// The latest corrections, newest first; only those awaiting approval if `waiting`.
    pub fn corrections(
        &self,
        waiting: bool,
        limit: usize,
    ) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let filter = if waiting { "WHERE a.id IS NULL" } else { "" };
        let limit = limit as i64;
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                let mut stmt = conn.prepare(&format!(
                    "{SELECT_CORRECTION} {filter} ORDER BY r.id DESC LIMIT ?1"
                ))?;
                let rows = stmt.query_map([limit], correction_row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            }
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.query_typed(
                    &format!("{SELECT_CORRECTION} {filter} ORDER BY r.id DESC LIMIT $1"),
                    &[(&limit, Type::INT8)],
                )
                .and_then(|rows| rows.iter().map(correction_pg_row).collect())
                .map_err(failed("list corrections"))
            }),
        }
    }

    /// Every correction of one SSN, oldest first.
    pub fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                let mut stmt = conn.prepare(&format!(
                    "{SELECT_CORRECTION} WHERE r.ssn = ?1 ORDER BY r.id"
                ))?;
                let rows = stmt.query_map([ssn], correction_row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            }
            Db::Postgres(pool) => Workflow::pg(pool, |c| {
                c.query_typed(
                    &format!("{SELECT_CORRECTION} WHERE r.ssn = $1 ORDER BY r.id"),
                    &[(&ssn_to_db(ssn), Type::INT4)],
                )
                .and_then(|rows| rows.iter().map(correction_pg_row).collect())
                .map_err(failed("list the corrections of an SSN"))
            }),
        }
    }
}

fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().expect("workflow connection")
}

/// The SSN as the `integer` column holds it. Nine digits always fit; the cast is a bit-for-bit
/// reinterpretation, undone exactly by [`ssn_from_db`], so nothing is lost either way.
fn ssn_to_db(ssn: u32) -> i32 {
    ssn as i32
}

fn ssn_from_db(ssn: i32) -> u32 {
    ssn as u32
}

/// Selects a request and its approval, if any, by the same columns in both databases.
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

fn correction_pg_row(r: &postgres::Row) -> Result<CorrectionRequest, postgres::Error> {
    let approval = match r.try_get::<_, Option<i64>>(6)? {
        Some(key) => Some(Approval {
            key,
            by: r.try_get(7)?,
            at: r.try_get(8)?,
            seq: r.try_get::<_, i64>(9)? as u64,
        }),
        None => None,
    };
    Ok(CorrectionRequest {
        id: r.try_get(0)?,
        ssn: ssn_from_db(r.try_get(1)?),
        body: r.try_get(2)?,
        requested_key: r.try_get(3)?,
        requested_by: r.try_get(4)?,
        requested_at: r.try_get(5)?,
        approval,
    })
}
