//! The program journal in the `program_journal` table of the PostgreSQL database several nodes
//! share; writers on every node take turns under one advisory lock.

use postgres::types::Type;

use super::{JournalRow, JournalStore, ProgramStoreError};

/// Serializes writers of one PostgreSQL journal across nodes.
const PG_LOCK: i64 = i64::from_be_bytes(*b"dmf:prog");

fn failed(context: &'static str) -> impl FnOnce(postgres::Error) -> ProgramStoreError {
    move |source| ProgramStoreError::Postgres { context, source }
}

/// The journal of a database migrated by [`dmf_postgres::migrate`].
pub struct PgJournal {
    pool: dmf_postgres::Pool,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgJournal")
    }
}

impl PgJournal {
    pub fn new(pool: dmf_postgres::Pool) -> PgJournal {
        PgJournal { pool }
    }

    fn pg<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, ProgramStoreError>,
    ) -> Result<T, ProgramStoreError> {
        crate::pg::on_conn(&self.pool, |e| ProgramStoreError::Pool(Box::new(e)), f)
    }
}

/// Rows after `after`, on a connection or in a transaction.
fn read_after<C: postgres::GenericClient>(
    c: &mut C,
    after: i64,
) -> Result<Vec<JournalRow>, ProgramStoreError> {
    let rows = c
        .query_typed(
            "SELECT id, at_ms, day, kind, agreement, actor, body FROM program_journal
             WHERE id > $1 ORDER BY id",
            &[(&after, Type::INT8)],
        )
        .map_err(failed("read the program journal"))?;
    rows.iter()
        .map(|r| {
            Ok(JournalRow {
                id: r.try_get(0)?,
                at_ms: r.try_get(1)?,
                day: r.try_get(2)?,
                kind: r.try_get(3)?,
                agreement: r.try_get(4)?,
                actor: r.try_get(5)?,
                body: r.try_get(6)?,
            })
        })
        .collect::<Result<_, postgres::Error>>()
        .map_err(failed("read the program journal"))
}

impl JournalStore for PgJournal {
    fn read_after(&self, after: i64) -> Result<Vec<JournalRow>, ProgramStoreError> {
        self.pg(|c| read_after(c, after))
    }

    fn append(
        &self,
        after: i64,
        next: &mut dyn FnMut(Vec<JournalRow>) -> Result<JournalRow, ProgramStoreError>,
    ) -> Result<(), ProgramStoreError> {
        self.pg(|c| {
            let mut tx = c.transaction().map_err(failed("begin a journal write"))?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_LOCK])
                .map_err(failed("lock the program journal"))?;
            let row = next(read_after(&mut tx, after)?)?;
            tx.execute_typed(
                "INSERT INTO program_journal (id, at_ms, day, kind, agreement, actor, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    (&row.id, Type::INT8),
                    (&row.at_ms, Type::INT8),
                    (&row.day, Type::TEXT),
                    (&row.kind, Type::TEXT),
                    (&row.agreement, Type::INT8),
                    (&row.actor, Type::TEXT),
                    (&row.body, Type::TEXT),
                ],
            )
            .map_err(failed("write the program journal"))?;
            tx.commit().map_err(failed("commit a journal write"))
        })
    }
}
