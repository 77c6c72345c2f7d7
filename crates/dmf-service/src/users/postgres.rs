//! Console users, sessions and the login record in the tables of the PostgreSQL database that
//! several server nodes share, so that a session opened on one node is good on all of them and
//! failed logins count wherever they happen.

use postgres::error::SqlState;
use postgres::types::Type;

use super::{User, UserError, UserRole, UserStore};

/// A mapper from a statement's error to this error, naming what was being done.
fn failed(context: &'static str) -> impl FnOnce(postgres::Error) -> UserError {
    move |source| UserError::Postgres { context, source }
}

/// Column `i` of a PostgreSQL row, read while doing `context`.
fn column<'a, T: postgres::types::FromSql<'a>>(
    r: &'a postgres::Row,
    i: usize,
    context: &'static str,
) -> Result<T, UserError> {
    r.try_get(i).map_err(failed(context))
}

/// A user from columns 0-2 of a PostgreSQL row: id, name, role.
fn pg_user(r: &postgres::Row) -> Result<User, UserError> {
    const READ: &str = "read a console user";
    let role: String = column(r, 2, READ)?;
    Ok(User {
        id: column(r, 0, READ)?,
        name: column(r, 1, READ)?,
        role: UserRole::parse(&role).ok_or(UserError::UnknownRole(role))?,
    })
}

/// The users of a database migrated by [`dmf_postgres::migrate`].
pub struct PgUsers {
    pool: dmf_postgres::Pool,
}

impl std::fmt::Debug for PgUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgUsers")
    }
}

impl PgUsers {
    /// Fails if the tables cannot be read: a missing table or grant is reported now rather
    /// than at the first login.
    pub fn open(pool: dmf_postgres::Pool) -> Result<PgUsers, UserError> {
        let users = PgUsers { pool };
        users.pg(|c| {
            c.batch_execute(
                "SELECT FROM console_users LIMIT 0; SELECT FROM console_sessions LIMIT 0;
                 SELECT FROM console_logins LIMIT 0",
            )
            .map_err(failed("read the console user tables"))
        })?;
        Ok(users)
    }

    /// Runs `f` on a pooled connection.
    fn pg<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, UserError>,
    ) -> Result<T, UserError> {
        crate::pg::on_conn(&self.pool, |e| UserError::Pool(Box::new(e)), f)
    }
}

impl UserStore for PgUsers {
    fn insert(
        &self,
        name: &str,
        role: UserRole,
        hash: &str,
        now_ms: i64,
    ) -> Result<i64, UserError> {
        let inserted = self.pg(|c| {
            c.query_typed_one(
                "INSERT INTO console_users (name, role, password, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    (&name, Type::TEXT),
                    (&role.code(), Type::TEXT),
                    (&hash, Type::TEXT),
                    (&now_ms, Type::INT8),
                ],
            )
            .map_err(failed("add a console user"))
            .and_then(|r| column(&r, 0, "add a console user"))
        });
        match inserted {
            // The unique index on lower(name) is what makes names case-insensitive.
            Err(UserError::Postgres { source, .. })
                if source.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
            {
                Err(UserError::Exists(name.to_owned()))
            }
            other => other,
        }
    }

    fn list(&self) -> Result<Vec<User>, UserError> {
        self.pg(|c| {
            c.query_typed("SELECT id, name, role FROM console_users ORDER BY id", &[])
                .map_err(failed("list console users"))?
                .iter()
                .map(pg_user)
                .collect()
        })
    }

    fn get(&self, id: i64) -> Result<Option<User>, UserError> {
        self.pg(|c| {
            c.query_typed(
                "SELECT id, name, role FROM console_users WHERE id = $1",
                &[(&id, Type::INT8)],
            )
            .map_err(failed("read a console user"))?
            .first()
            .map(pg_user)
            .transpose()
        })
    }

    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError> {
        self.pg(|c| {
            c.execute_typed(
                "INSERT INTO console_logins (name, at, outcome) VALUES ($1, $2, $3)",
                &[
                    (&name, Type::TEXT),
                    (&now_ms, Type::INT8),
                    (&outcome, Type::TEXT),
                ],
            )
            .map_err(failed("record a login attempt"))
        })?;
        Ok(())
    }

    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError> {
        self.pg(|c| {
            const LOOK_UP: &str = "look up a console user";
            let rows = c
                .query_typed(
                    "SELECT id, name, role, password, locked_until FROM console_users
                     WHERE lower(name) = lower($1)",
                    &[(&name, Type::TEXT)],
                )
                .map_err(failed(LOOK_UP))?;
            rows.first()
                .map(|r| Ok((pg_user(r)?, column(r, 3, LOOK_UP)?, column(r, 4, LOOK_UP)?)))
                .transpose()
        })
    }

    fn count_failure(
        &self,
        id: i64,
        max_failures: i64,
        locked_until: i64,
    ) -> Result<i64, UserError> {
        self.pg(|c| {
            const COUNT: &str = "count a failed login";
            let row = c
                .query_typed_one(
                    "UPDATE console_users SET failures = failures + 1,
                        locked_until = CASE WHEN failures + 1 >= $2 THEN $3
                            ELSE locked_until END
                     WHERE id = $1 RETURNING failures",
                    &[
                        (&id, Type::INT8),
                        (&max_failures, Type::INT8),
                        (&locked_until, Type::INT8),
                    ],
                )
                .map_err(failed(COUNT))?;
            Ok(i64::from(column::<i32>(&row, 0, COUNT)?))
        })
    }

    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError> {
        self.pg(|c| {
            c.execute_typed(
                "UPDATE console_users SET failures = 0, locked_until = 0 WHERE id = $1",
                &[(&user_id, Type::INT8)],
            )
            .map_err(failed("clear failed logins"))?;
            c.execute_typed(
                "INSERT INTO console_sessions
                     (token_sha256, user_id, csrf, created_at, seen_at)
                 VALUES ($1, $2, $3, $4, $4)",
                &[
                    (&token_sha256, Type::BYTEA),
                    (&user_id, Type::INT8),
                    (&csrf, Type::TEXT),
                    (&now_ms, Type::INT8),
                ],
            )
            .map_err(failed("open a session"))
        })?;
        Ok(())
    }

    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError> {
        self.pg(|c| {
            const LOOK_UP: &str = "look up a session";
            let rows = c
                .query_typed(
                    "SELECT u.id, u.name, u.role, s.csrf, s.created_at, s.seen_at
                     FROM console_sessions s JOIN console_users u ON u.id = s.user_id
                     WHERE s.token_sha256 = $1",
                    &[(&token_sha256, Type::BYTEA)],
                )
                .map_err(failed(LOOK_UP))?;
            rows.first()
                .map(|r| {
                    Ok((
                        pg_user(r)?,
                        column(r, 3, LOOK_UP)?,
                        column(r, 4, LOOK_UP)?,
                        column(r, 5, LOOK_UP)?,
                    ))
                })
                .transpose()
        })
    }

    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError> {
        self.pg(|c| {
            c.execute_typed(
                "DELETE FROM console_sessions WHERE token_sha256 = $1",
                &[(&token_sha256, Type::BYTEA)],
            )
            .map_err(failed("end a session"))
        })?;
        Ok(())
    }

    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError> {
        self.pg(|c| {
            c.execute_typed(
                "UPDATE console_sessions SET seen_at = $2 WHERE token_sha256 = $1",
                &[(&token_sha256, Type::BYTEA), (&now_ms, Type::INT8)],
            )
            .map_err(failed("keep a session open"))
        })?;
        Ok(())
    }
}
