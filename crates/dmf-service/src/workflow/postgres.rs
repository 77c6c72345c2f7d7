//! Feed positions and corrections in tables of the PostgreSQL database that several server
//! nodes share.

use postgres::types::Type;

use super::{
    Approval, CorrectionRequest, CorrectionStore, Position, PositionStore, SELECT_CORRECTION,
    WorkflowError,
};

/// A mapper from a statement's error to this error, naming what was being done.
fn failed(context: &'static str) -> impl FnOnce(postgres::Error) -> WorkflowError {
    move |source| WorkflowError::Postgres { context, source }
}

/// Both workflow stores on a database migrated by [`dmf_postgres::migrate`].
#[derive(Clone)]
pub struct PgWorkflow {
    pool: dmf_postgres::Pool,
}

impl std::fmt::Debug for PgWorkflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgWorkflow")
    }
}

impl PgWorkflow {
    /// Fails if the tables cannot be read: a missing table or grant is reported now rather
    /// than at a subscriber's first request.
    pub fn open(pool: dmf_postgres::Pool) -> Result<PgWorkflow, WorkflowError> {
        let db = PgWorkflow { pool };
        db.pg(|c| {
            c.batch_execute(
                "SELECT FROM feed_positions LIMIT 0; SELECT FROM correction_requests LIMIT 0;
                 SELECT FROM correction_approvals LIMIT 0",
            )
            .map_err(failed("read the workflow tables"))
        })?;
        Ok(db)
    }

    /// Runs `f` on a pooled connection.
    fn pg<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, WorkflowError>,
    ) -> Result<T, WorkflowError> {
        crate::pg::on_conn(&self.pool, |e| WorkflowError::Pool(Box::new(e)), f)
    }
}

impl PositionStore for PgWorkflow {
    fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        self.pg(|c| {
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
        })
    }

    fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        self.pg(|c| {
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
        })
    }

    // GREATEST, so that of two nodes serving one subscriber the slower cannot move it back.
    fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        let cursor = cursor as i64;
        self.pg(|c| {
            c.execute_typed(
                "INSERT INTO feed_positions (key_id, served) VALUES ($1, $2)
                 ON CONFLICT (key_id) DO UPDATE
                 SET served = GREATEST(feed_positions.served, excluded.served)",
                &[(&key_id, Type::INT8), (&cursor, Type::INT8)],
            )
            .map_err(failed("record a subscriber's served position"))?;
            Ok(())
        })
    }

    fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        let cursor = cursor as i64;
        self.pg(|c| {
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
        })
    }
}

impl CorrectionStore for PgWorkflow {
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError> {
        self.pg(|c| {
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
        })
    }

    fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError> {
        let seq = seq as i64;
        self.pg(|c| {
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
        })
    }

    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        self.pg(|c| {
            c.query_typed(
                &format!("{SELECT_CORRECTION} WHERE r.id = $1"),
                &[(&id, Type::INT8)],
            )
            .and_then(|rows| rows.first().map(correction_row).transpose())
            .map_err(failed("read a correction"))
        })
    }

    fn corrections(
        &self,
        waiting: bool,
        limit: usize,
    ) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let filter = if waiting { "WHERE a.id IS NULL" } else { "" };
        let limit = limit as i64;
        self.pg(|c| {
            c.query_typed(
                &format!("{SELECT_CORRECTION} {filter} ORDER BY r.id DESC LIMIT $1"),
                &[(&limit, Type::INT8)],
            )
            .and_then(|rows| rows.iter().map(correction_row).collect())
            .map_err(failed("list corrections"))
        })
    }

    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.pg(|c| {
            c.query_typed(
                &format!("{SELECT_CORRECTION} WHERE r.ssn = $1 ORDER BY r.id"),
                &[(&ssn_to_db(ssn), Type::INT4)],
            )
            .and_then(|rows| rows.iter().map(correction_row).collect())
            .map_err(failed("list the corrections of an SSN"))
        })
    }
}

/// The SSN as the `integer` column holds it. Nine digits always fit; the cast is a bit-for-bit
/// reinterpretation, undone exactly by [`ssn_from_db`], so nothing is lost either way.
fn ssn_to_db(ssn: u32) -> i32 {
    ssn as i32
}

fn ssn_from_db(ssn: i32) -> u32 {
    ssn as u32
}

fn correction_row(r: &postgres::Row) -> Result<CorrectionRequest, postgres::Error> {
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
