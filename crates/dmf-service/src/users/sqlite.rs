//! Console users, sessions and the login record in a SQLite file beside the registry.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::{User, UserError, UserRole, UserStore};

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS console_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS console_sessions (
    token_sha256 BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES console_users (id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS console_logins (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS logins_no_update BEFORE UPDATE ON console_logins
BEGIN SELECT RAISE(ABORT, 'the login record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS logins_no_delete BEFORE DELETE ON console_logins
BEGIN SELECT RAISE(ABORT, 'the login record is append-only'); END;
";

/// From each earlier version of the schema to the next: the tables named as PostgreSQL names
/// them, their rows, references and triggers kept.
const UPGRADES: &[&str] = &["ALTER TABLE users RENAME TO console_users;
     ALTER TABLE sessions RENAME TO console_sessions;
     ALTER TABLE logins RENAME TO console_logins;"];

/// The users of one SQLite file.
#[derive(Debug)]
pub struct SqliteUsers {
    conn: Mutex<Connection>,
}

impl SqliteUsers {
    /// Opens the file at `path`, creating it if missing and upgrading an older one.
    pub fn open(path: &Path) -> Result<SqliteUsers, UserError> {
        let conn =
            dmf_store::open_upgrading(path, SCHEMA, SCHEMA_VERSION, UPGRADES).map_err(|e| {
                UserError::Open {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
        Ok(SqliteUsers {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn role_of(text: String) -> rusqlite::Result<UserRole> {
    UserRole::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {text:?}").into(),
        )
    })
}

/// A user from columns 0-2: id, name, role.
fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role_of(r.get(2)?)?,
    })
}

impl UserStore for SqliteUsers {
    fn insert(
        &self,
        name: &str,
        role: UserRole,
        hash: &str,
        now_ms: i64,
    ) -> Result<i64, UserError> {
        let conn = self.conn();
        match conn.execute(
            "INSERT INTO console_users (name, role, password, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![name, role.code(), hash, now_ms],
        ) {
            Ok(_) => Ok(conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                Err(UserError::Exists(name.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self) -> Result<Vec<User>, UserError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, name, role FROM console_users ORDER BY id")?;
        let rows = stmt.query_map([], user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn get(&self, id: i64) -> Result<Option<User>, UserError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, role FROM console_users WHERE id = ?1",
                [id],
                user_row,
            )
            .optional()?)
    }

    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError> {
        self.conn().execute(
            "INSERT INTO console_logins (name, at, outcome) VALUES (?1, ?2, ?3)",
            params![name, now_ms, outcome],
        )?;
        Ok(())
    }

    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, role, password, locked_until FROM console_users
                 WHERE name = ?1",
                [name],
                |r| Ok((user_row(r)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
    }

    fn count_failure(
        &self,
        id: i64,
        max_failures: i64,
        locked_until: i64,
    ) -> Result<i64, UserError> {
        Ok(self.conn().query_row(
            "UPDATE console_users SET failures = failures + 1,
                locked_until = CASE WHEN failures + 1 >= ?2 THEN ?3 ELSE locked_until END
             WHERE id = ?1 RETURNING failures",
            params![id, max_failures, locked_until],
            |r| r.get(0),
        )?)
    }

    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError> {
        let conn = self.conn();
        conn.execute(
            "UPDATE console_users SET failures = 0, locked_until = 0 WHERE id = ?1",
            [user_id],
        )?;
        conn.execute(
            "INSERT INTO console_sessions (token_sha256, user_id, csrf, created_at, seen_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![token_sha256, user_id, csrf, now_ms],
        )?;
        Ok(())
    }

    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT u.id, u.name, u.role, s.csrf, s.created_at, s.seen_at
                 FROM console_sessions s JOIN console_users u ON u.id = s.user_id
                 WHERE s.token_sha256 = ?1",
                [token_sha256],
                |r| {
                    Ok((
                        user_row(r)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()?)
    }

    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError> {
        self.conn().execute(
            "DELETE FROM console_sessions WHERE token_sha256 = ?1",
            [token_sha256],
        )?;
        Ok(())
    }

    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError> {
        self.conn().execute(
            "UPDATE console_sessions SET seen_at = ?2 WHERE token_sha256 = ?1",
            params![token_sha256, now_ms],
        )?;
        Ok(())
    }
}
