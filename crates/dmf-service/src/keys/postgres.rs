//! API keys in the `api_keys` table of the registry's PostgreSQL database, shared by every
//! node on it.

use postgres::error::SqlState;
use postgres::types::Type;

use super::{ApiKey, KeyError, KeyStorage, NewKey, SecretHash, quota_column, quota_from_column};

fn pg_storage(e: postgres::Error) -> KeyError {
    KeyError::Storage(crate::pg::with_causes(&e))
}

/// Whether `e` is a violation of the unique constraint named `constraint`.
fn violates(e: &postgres::Error, constraint: &str) -> bool {
    e.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(constraint)
    })
}

/// The keys of a database migrated by [`dmf_postgres::migrate`].
pub struct PgKeys {
    pool: dmf_postgres::Pool,
}

impl std::fmt::Debug for PgKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgKeys")
    }
}

impl PgKeys {
    pub fn new(pool: dmf_postgres::Pool) -> PgKeys {
        PgKeys { pool }
    }

    /// Runs `f` on a connection from the pool.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        crate::pg::on_conn(
            &self.pool,
            |e| KeyError::Storage(format!("no connection to PostgreSQL: {e}")),
            f,
        )
    }
}

impl KeyStorage for PgKeys {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn all(&self) -> Result<Vec<(ApiKey, SecretHash)>, KeyError> {
        self.with(|client| {
            let rows = client
                .query_typed(
                    "SELECT id, name, role, certified, source, authority, created_at, revoked,
                            daily_quota, secret_sha256, jurisdiction FROM api_keys ORDER BY id",
                    &[],
                )
                .map_err(pg_storage)?;
            rows.iter()
                .map(|row| {
                    let role: &str = row.try_get(2).map_err(pg_storage)?;
                    let key = ApiKey {
                        id: row.try_get(0).map_err(pg_storage)?,
                        name: row.try_get(1).map_err(pg_storage)?,
                        role: role.parse()?,
                        certified: row.try_get(3).map_err(pg_storage)?,
                        source: row.try_get(4).map_err(pg_storage)?,
                        authority: row.try_get(5).map_err(pg_storage)?,
                        jurisdiction: row.try_get(10).map_err(pg_storage)?,
                        created_at: row.try_get(6).map_err(pg_storage)?,
                        revoked: row.try_get(7).map_err(pg_storage)?,
                        daily_quota: quota_from_column(row.try_get(8).map_err(pg_storage)?),
                    };
                    let digest: &[u8] = row.try_get(9).map_err(pg_storage)?;
                    let digest: SecretHash = digest.try_into().map_err(|_| {
                        KeyError::Storage(format!("key {:?} has a malformed secret hash", key.name))
                    })?;
                    Ok((key, digest))
                })
                .collect()
        })
    }

    fn insert(&self, new: &NewKey, secret: &SecretHash, now_ms: i64) -> Result<i64, KeyError> {
        let quota = quota_column(new.daily_quota);
        self.with(|c| {
            let inserted = c.query_typed_one(
                "INSERT INTO api_keys (name, role, certified, source, authority,
                                       secret_sha256, created_at, daily_quota, jurisdiction)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    (&new.name, Type::TEXT),
                    (&new.role.code(), Type::TEXT),
                    (&new.certified, Type::BOOL),
                    (&new.source, Type::TEXT),
                    (&new.authority, Type::TEXT),
                    (&secret.as_slice(), Type::BYTEA),
                    (&now_ms, Type::INT8),
                    (&quota, Type::INT8),
                    (&new.jurisdiction, Type::TEXT),
                ],
            );
            match inserted {
                Ok(row) => row.try_get(0).map_err(pg_storage),
                Err(e) if violates(&e, "api_keys_name_key") => {
                    Err(KeyError::NameTaken(new.name.clone()))
                }
                Err(e) => Err(pg_storage(e)),
            }
        })
    }

    fn import(&self, key: &ApiKey, secret: &SecretHash) -> Result<(), KeyError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(pg_storage)?;
            tx.execute_typed(
                "INSERT INTO api_keys (id, name, role, certified, source, authority,
                                       secret_sha256, created_at, revoked, daily_quota,
                                       jurisdiction)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    (&key.id, Type::INT8),
                    (&key.name, Type::TEXT),
                    (&key.role.code(), Type::TEXT),
                    (&key.certified, Type::BOOL),
                    (&key.source, Type::TEXT),
                    (&key.authority, Type::TEXT),
                    (&secret.as_slice(), Type::BYTEA),
                    (&key.created_at, Type::INT8),
                    (&key.revoked, Type::BOOL),
                    (&quota_column(key.daily_quota), Type::INT8),
                    (&key.jurisdiction, Type::TEXT),
                ],
            )
            .map_err(pg_storage)?;
            // The id came from the dump, not the identity: move the identity past it so
            // that keys created later do not collide with it.
            tx.batch_execute(
                "SELECT setval(pg_get_serial_sequence('api_keys', 'id'),
                               (SELECT max(id) FROM api_keys))",
            )
            .map_err(pg_storage)?;
            tx.commit().map_err(pg_storage)
        })
    }

    fn revoke(&self, name: &str) -> Result<bool, KeyError> {
        let updated = self.with(|c| {
            c.execute_typed(
                "UPDATE api_keys SET revoked = true WHERE name = $1 AND NOT revoked",
                &[(&name, Type::TEXT)],
            )
            .map_err(pg_storage)
        })?;
        Ok(updated > 0)
    }

    fn set_quota(&self, name: &str, daily_quota: Option<u64>) -> Result<bool, KeyError> {
        let quota = quota_column(daily_quota);
        let updated = self.with(|c| {
            c.execute_typed(
                "UPDATE api_keys SET daily_quota = $1 WHERE name = $2",
                &[(&quota, Type::INT8), (&name, Type::TEXT)],
            )
            .map_err(pg_storage)
        })?;
        Ok(updated > 0)
    }
}
