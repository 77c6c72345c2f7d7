//! The accounting of disclosures in the `disclosures` table of the PostgreSQL database that
//! every node on it writes and reads: one shared accounting, as durable as the server's
//! `synchronous_commit` makes a commit.

use std::ops::DerefMut;
use std::sync::{Mutex, PoisonError};

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;

use super::{AccountingError, Disclosure, DisclosureStore, join_fields, passed_on, split_fields};
use crate::pg::with_causes as pg_message;

/// What the accounting is called in messages when it is in PostgreSQL.
pub const PG_PLACE: &str = "PostgreSQL table disclosures";

const PG_COLUMNS: &str = "ssn, at_ms, key_id, key_name, purpose, fields";

fn pg_read(e: postgres::Error) -> AccountingError {
    AccountingError::Read(pg_message(&e))
}

/// A connection taken from the pool.
type Held = Box<dyn DerefMut<Target = postgres::Client> + Send>;

/// The accounting of a database migrated by [`dmf_postgres::migrate`].
pub struct PgDisclosures {
    pool: dmf_postgres::Pool,
    /// The writer keeps one connection from the pool, and takes a fresh one once it breaks.
    held: Mutex<Option<Held>>,
}

impl std::fmt::Debug for PgDisclosures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgDisclosures")
    }
}

impl PgDisclosures {
    /// Checks the table now, so that an unreachable server or a missing table is reported at
    /// start rather than by a writer retrying forever.
    pub fn open(pool: dmf_postgres::Pool) -> Result<PgDisclosures, AccountingError> {
        let checked = pool
            .get()
            .map_err(|e| format!("no connection to PostgreSQL: {e}"))
            .and_then(|mut conn| {
                conn.batch_execute("SELECT 1 FROM disclosures LIMIT 0")
                    .map_err(|e| pg_message(&e))
            });
        checked.map_err(|reason| AccountingError::Open {
            path: PG_PLACE.to_owned(),
            reason,
        })?;
        Ok(PgDisclosures {
            pool,
            held: Mutex::new(None),
        })
    }

    /// Runs `f` on a connection from the pool.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, AccountingError>,
    ) -> Result<T, AccountingError> {
        crate::pg::on_conn(
            &self.pool,
            |e| AccountingError::Read(format!("no connection to PostgreSQL: {e}")),
            f,
        )
    }
}

impl DisclosureStore for PgDisclosures {
    /// Writes a batch with one `INSERT` of whole columns: one round trip and, being one
    /// statement, one transaction. The rows go in in order, so `seq` follows the order recorded.
    fn append(&self, batch: &[Disclosure]) -> Result<(), String> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let mut conn: Held = match held.take() {
            Some(conn) => conn,
            None => Box::new(
                self.pool
                    .get()
                    .map_err(|e| format!("no connection to PostgreSQL: {e}"))?,
            ),
        };
        let written = write_batch(&mut conn, batch);
        if !conn.is_closed() {
            *held = Some(conn);
        }
        written
    }

    fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError> {
        // Too large for the column, so never stored.
        let Ok(ssn) = i32::try_from(ssn) else {
            return Ok(Vec::new());
        };
        self.read(|c| {
            c.query_typed(
                &format!("SELECT {PG_COLUMNS} FROM disclosures WHERE ssn = $1 ORDER BY at_ms, seq"),
                &[(&ssn, Type::INT4)],
            )
            .map_err(pg_read)?
            .iter()
            .map(pg_disclosure)
            .collect()
        })
    }

    fn for_each(
        &self,
        each: &mut dyn FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        self.read(|c| {
            // Streamed, not collected: a dump reads every disclosure ever recorded.
            let mut rows = c
                .query_raw(
                    &format!("SELECT {PG_COLUMNS} FROM disclosures ORDER BY seq"),
                    std::iter::empty::<i32>(),
                )
                .map_err(pg_read)?;
            let mut n = 0;
            while let Some(row) = rows.next().map_err(pg_read)? {
                each(pg_disclosure(&row)?).map_err(passed_on)?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        self.read(|c| {
            // Byte order, as SQLite sorts, whatever the database's collation.
            let rows = c
                .query_typed(
                    "SELECT purpose, count(*) FROM disclosures GROUP BY purpose
                     ORDER BY purpose COLLATE \"C\"",
                    &[],
                )
                .map_err(pg_read)?;
            rows.iter()
                .map(|r| {
                    let n: i64 = r.try_get(1).map_err(pg_read)?;
                    Ok((r.try_get(0).map_err(pg_read)?, n.unsigned_abs()))
                })
                .collect()
        })
    }
}

fn write_batch(conn: &mut postgres::Client, batch: &[Disclosure]) -> Result<(), String> {
    let mut ssns = Vec::with_capacity(batch.len());
    let mut at = Vec::with_capacity(batch.len());
    let mut key_ids = Vec::with_capacity(batch.len());
    let mut key_names = Vec::with_capacity(batch.len());
    let mut purposes = Vec::with_capacity(batch.len());
    let mut fields = Vec::with_capacity(batch.len());
    for d in batch {
        // The SSN itself stays out of the message: it would end up in the logs.
        let ssn = i32::try_from(d.ssn)
            .map_err(|_| "a disclosure's SSN is too large for the ssn column".to_owned())?;
        ssns.push(ssn);
        at.push(d.at_ms);
        key_ids.push(d.key_id);
        key_names.push(d.key_name.as_str());
        purposes.push(d.purpose.as_str());
        fields.push(join_fields(&d.fields));
    }
    conn.execute_typed(
        &format!(
            "INSERT INTO disclosures ({PG_COLUMNS})
             SELECT {PG_COLUMNS} FROM unnest($1, $2, $3, $4, $5, $6) WITH ORDINALITY
                 AS batch ({PG_COLUMNS}, n)
             ORDER BY n"
        ),
        &[
            (&ssns, Type::INT4_ARRAY),
            (&at, Type::INT8_ARRAY),
            (&key_ids, Type::INT8_ARRAY),
            (&key_names, Type::TEXT_ARRAY),
            (&purposes, Type::TEXT_ARRAY),
            (&fields, Type::TEXT_ARRAY),
        ],
    )
    .map_err(|e| pg_message(&e))?;
    Ok(())
}

fn pg_disclosure(row: &postgres::Row) -> Result<Disclosure, AccountingError> {
    let ssn: i32 = row.try_get(0).map_err(pg_read)?;
    let fields: &str = row.try_get(5).map_err(pg_read)?;
    Ok(Disclosure {
        ssn: u32::try_from(ssn)
            .map_err(|_| AccountingError::Read("a disclosure has a negative SSN".to_owned()))?,
        at_ms: row.try_get(1).map_err(pg_read)?,
        key_id: row.try_get(2).map_err(pg_read)?,
        key_name: row.try_get(3).map_err(pg_read)?,
        purpose: row.try_get(4).map_err(pg_read)?,
        fields: split_fields(fields),
    })
}
