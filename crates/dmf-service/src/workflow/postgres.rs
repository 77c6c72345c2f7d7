//! Feed positions and corrections in tables of the PostgreSQL database that several server
//! nodes share.

use postgres::types::Type;

use super::{
    ActionKind, Approval, CorrectionAction, CorrectionRequest, CorrectionStatus, CorrectionStore,
    Filed, Position, PositionStore, Queue, RequestRow, SELECT_ACTIONS, SELECT_CORRECTION, Step,
    WorkflowError, queue_order,
};

/// The class of the advisory locks that serialize the corrections of one person across every
/// node (the SSN is the lock's other half).
const CORRECTION_LOCK: i32 = i32::from_be_bytes(*b"corr");

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
                 SELECT FROM correction_approvals LIMIT 0;
                 SELECT FROM correction_actions LIMIT 0",
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
    // Under the person's advisory lock, held to the commit: a request on another node waits,
    // then finds the correction this one made (each statement of a READ COMMITTED transaction
    // sees what was committed before it started).
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<Filed, WorkflowError> {
        self.pg(|c| {
            let mut tx = c
                .transaction()
                .map_err(failed("begin a correction request"))?;
            lock_person(&mut tx, ssn)?;
            let open = read_many(
                &mut tx,
                &format!(
                    "{SELECT_CORRECTION} WHERE c.ssn = $1 AND c.status IN ('{}', '{}') ORDER BY c.id",
                    CorrectionStatus::Open.code(),
                    CorrectionStatus::SentBack.code()
                ),
                &[(&ssn_to_db(ssn), Type::INT4)],
            )?
            .into_iter()
            .next();
            let filed = match open {
                Some(c) if c.already_asked(key, body) => Filed::Repeated(c.id),
                Some(c) => {
                    insert_action(&mut tx, c.id, ActionKind::Joined, key, by, at_ms, None, Some(body))?;
                    Filed::Joined(c.id)
                }
                None => Filed::New(
                    tx.query_typed_one(
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
                    .map_err(failed("record a correction request"))?,
                ),
            };
            tx.commit().map_err(failed("commit a correction request"))?;
            Ok(filed)
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

    fn act(
        &self,
        id: i64,
        step: &Step,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<CorrectionRequest, WorkflowError> {
        self.pg(|c| {
            let mut tx = c.transaction().map_err(failed("begin a correction step"))?;
            let ssn = read_one(&mut tx, id)?
                .ok_or(WorkflowError::NoCorrection(id))?
                .ssn;
            lock_person(&mut tx, ssn)?;
            // Read again under the lock: another node may have decided it meanwhile.
            let now = read_one(&mut tx, id)?.ok_or(WorkflowError::NoCorrection(id))?;
            if !step.allowed_in(now.status) {
                return Err(WorkflowError::NotAllowed {
                    id,
                    status: now.status,
                    step: step.done(),
                });
            }
            insert_action(
                &mut tx,
                id,
                step.kind(),
                key,
                by,
                at_ms,
                step.reason(),
                step.body(),
            )?;
            let after = read_one(&mut tx, id)?.ok_or(WorkflowError::NoCorrection(id))?;
            tx.commit().map_err(failed("commit a correction step"))?;
            Ok(after)
        })
    }

    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        self.pg(|c| read_one(c, id))
    }

    fn queue(&self, q: &Queue) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        let status = q.status.map(CorrectionStatus::code);
        let limit = q.limit as i64;
        let order = queue_order(q);
        self.pg(|c| {
            read_many(
                c,
                &format!(
                    "{SELECT_CORRECTION} WHERE ($1::text IS NULL OR c.status = $1)
                     AND ($2::bigint IS NULL OR c.requested_key = $2) {order} LIMIT $3"
                ),
                &[
                    (&status, Type::TEXT),
                    (&q.requested_key, Type::INT8),
                    (&limit, Type::INT8),
                ],
            )
        })
    }

    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.pg(|c| {
            read_many(
                c,
                &format!("{SELECT_CORRECTION} WHERE c.ssn = $1 ORDER BY c.id"),
                &[(&ssn_to_db(ssn), Type::INT4)],
            )
        })
    }
}

/// Waits for, then holds to the end of the transaction, the lock on one person's corrections.
fn lock_person(tx: &mut postgres::Transaction<'_>, ssn: u32) -> Result<(), WorkflowError> {
    tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[
            (&CORRECTION_LOCK, Type::INT4),
            (&ssn_to_db(ssn), Type::INT4),
        ],
    )
    .map_err(failed("lock a person's corrections"))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_action(
    tx: &mut postgres::Transaction<'_>,
    id: i64,
    kind: ActionKind,
    key: i64,
    by: &str,
    at_ms: i64,
    reason: Option<&str>,
    body: Option<&str>,
) -> Result<(), WorkflowError> {
    tx.execute_typed(
        "INSERT INTO correction_actions (id, kind, actor_key, actor, at, reason, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            (&id, Type::INT8),
            (&kind.code(), Type::TEXT),
            (&key, Type::INT8),
            (&by, Type::TEXT),
            (&at_ms, Type::INT8),
            (&reason, Type::TEXT),
            (&body, Type::TEXT),
        ],
    )
    .map_err(failed("record a correction step"))?;
    Ok(())
}

fn read_one(
    c: &mut impl postgres::GenericClient,
    id: i64,
) -> Result<Option<CorrectionRequest>, WorkflowError> {
    Ok(read_many(
        c,
        &format!("{SELECT_CORRECTION} WHERE c.id = $1"),
        &[(&id, Type::INT8)],
    )?
    .pop())
}

/// The corrections a query of [`SELECT_CORRECTION`] selects, each with its actions (read in
/// one more query).
fn read_many(
    c: &mut impl postgres::GenericClient,
    sql: &str,
    params: &[(&(dyn postgres::types::ToSql + Sync), Type)],
) -> Result<Vec<CorrectionRequest>, WorkflowError> {
    let rows: Vec<RequestRow> = c
        .query_typed(sql, params)
        .and_then(|rows| rows.iter().map(request_row).collect())
        .map_err(failed("read corrections"))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let actions = c
        .query_typed(
            &format!("{SELECT_ACTIONS} WHERE id = ANY($1) ORDER BY n"),
            &[(&ids, Type::INT8_ARRAY)],
        )
        .and_then(|rows| {
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get::<_, i64>(0)?,
                        r.try_get::<_, String>(1)?,
                        CorrectionAction {
                            kind: ActionKind::Joined,
                            key: r.try_get(2)?,
                            by: r.try_get(3)?,
                            at: r.try_get(4)?,
                            reason: r.try_get(5)?,
                            body: r.try_get(6)?,
                        },
                    ))
                })
                .collect::<Result<Vec<_>, postgres::Error>>()
        })
        .map_err(failed("read corrections' actions"))?;
    let mut by_id: std::collections::HashMap<i64, Vec<CorrectionAction>> =
        std::collections::HashMap::new();
    for (id, kind, action) in actions {
        by_id
            .entry(id)
            .or_default()
            .push(super::with_kind(&kind, action)?);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let actions = by_id.remove(&row.id).unwrap_or_default();
            CorrectionRequest::assemble(row, actions)
        })
        .collect())
}

/// The SSN as the `integer` column holds it. Nine digits always fit; the cast is a bit-for-bit
/// reinterpretation, undone exactly by [`ssn_from_db`], so nothing is lost either way.
fn ssn_to_db(ssn: u32) -> i32 {
    ssn as i32
}

fn ssn_from_db(ssn: i32) -> u32 {
    ssn as u32
}

fn request_row(r: &postgres::Row) -> Result<RequestRow, postgres::Error> {
    let approval = match r.try_get::<_, Option<i64>>(6)? {
        Some(key) => Some(Approval {
            key,
            by: r.try_get(7)?,
            at: r.try_get(8)?,
            seq: r.try_get::<_, i64>(9)? as u64,
        }),
        None => None,
    };
    Ok(RequestRow {
        id: r.try_get(0)?,
        ssn: ssn_from_db(r.try_get(1)?),
        body: r.try_get(2)?,
        requested_key: r.try_get(3)?,
        requested_by: r.try_get(4)?,
        requested_at: r.try_get(5)?,
        approval,
    })
}
