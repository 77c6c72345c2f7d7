//! People who use the console: caseworkers, supervisors and oversight staff, with argon2id
//! password hashes, lockout after repeated failures, and sessions with their CSRF tokens. Either
//! one SQLite file beside the registry, or tables in the PostgreSQL database that several server
//! nodes share, so that a session opened on one node is good on all of them and failed logins
//! count wherever they happen; every login attempt is kept. Passwords are hashed and checked
//! here, never in the database.

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postgres::error::SqlState;
use postgres::types::Type;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::pg::{SharedPool, with_causes};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS logins_no_update BEFORE UPDATE ON logins
BEGIN SELECT RAISE(ABORT, 'the login record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS logins_no_delete BEFORE DELETE ON logins
BEGIN SELECT RAISE(ABORT, 'the login record is append-only'); END;
";

/// Consecutive failed logins that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// A session ends after this long without a request…
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// …and after this long in any case.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a console user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    /// Searches, reads records, files corrections, records contests.
    Caseworker,
    /// A caseworker who may also approve other people's corrections and decide contests.
    Supervisor,
    /// Reads statistics, checkpoints and correction progress; changes nothing.
    Oversight,
}

impl UserRole {
    pub const ALL: [UserRole; 3] = [
        UserRole::Caseworker,
        UserRole::Supervisor,
        UserRole::Oversight,
    ];

    pub fn code(self) -> &'static str {
        match self {
            UserRole::Caseworker => "caseworker",
            UserRole::Supervisor => "supervisor",
            UserRole::Oversight => "oversight",
        }
    }

    pub fn parse(text: &str) -> Option<UserRole> {
        UserRole::ALL.into_iter().find(|r| r.code() == text)
    }

    /// Caseworkers and supervisors work on records; oversight only reads.
    pub fn handles_cases(self) -> bool {
        matches!(self, UserRole::Caseworker | UserRole::Supervisor)
    }
}

/// A console user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: UserRole,
}

/// A signed-in user: the cookie's secret and the form token that goes with it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

/// Why the user store failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the user store failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("a user named {0:?} exists already")]
    Exists(String),
    #[error("the name {name:?} is not usable: {reason}")]
    Name { name: String, reason: &'static str },
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("no random numbers from the system: {0}")]
    Random(String),
    #[error("PostgreSQL failed to {context}: {}", with_causes(.source))]
    Postgres {
        context: &'static str,
        #[source]
        source: postgres::Error,
    },
    #[error("no PostgreSQL connection for the user store: {0}")]
    Pool(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the user store holds a user with the unknown role {0:?}")]
    UnknownRole(String),
}

/// Why a login failed. The variants are for the caller's records; both read alike, so that
/// the lockout does not show which names exist.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(
        "wrong name or password; after {MAX_FAILURES} wrong passwords in a row an account is locked for {} minutes",
        LOCKOUT_MS / 60_000
    )]
    Invalid,
    #[error(
        "wrong name or password; after {MAX_FAILURES} wrong passwords in a row an account is locked for {} minutes",
        LOCKOUT_MS / 60_000
    )]
    Locked { minutes: i64 },
    #[error(transparent)]
    Store(#[from] UserError),
}

/// Where the users are kept.
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

/// The user store.
#[derive(Debug)]
pub struct Users {
    db: Db,
}

fn random_token() -> Result<String, UserError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| UserError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn hash_password(password: &str) -> Result<String, UserError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a password nobody has, checked when the name is unknown so that an unknown name
/// takes as long to refuse as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("no such user, no such password").unwrap_or_default())
}

fn check_name(name: &str) -> Result<(), UserError> {
    let bad = |reason| {
        Err(UserError::Name {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() || name.chars().count() > 64 {
        return bad("a name has 1 to 64 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return bad("letters, digits and . - _ @ only");
    }
    Ok(())
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

impl Users {
    pub fn open(path: &Path) -> Result<Users, UserError> {
        let conn = dmf_store::open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| {
            UserError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Users {
            db: Db::Sqlite(Mutex::new(conn)),
        })
    }

    /// The store in the tables of a PostgreSQL database migrated by [`dmf_postgres::migrate`],
    /// shared by every node connected to it. Fails if the tables cannot be read.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Users, UserError> {
        let pool = SharedPool::new(pool);
        // A missing table or grant is reported now rather than at the first login.
        Users::pg(&pool, |c| {
            c.batch_execute(
                "SELECT FROM console_users LIMIT 0; SELECT FROM console_sessions LIMIT 0;
                 SELECT FROM console_logins LIMIT 0",
            )
            .map_err(failed("read the console user tables"))
        })?;
        Ok(Users {
            db: Db::Postgres(pool),
        })
    }

    /// Runs `f` on a pooled PostgreSQL connection, off the async runtime.
    fn pg<T>(
        pool: &dmf_postgres::Pool,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, UserError>,
    ) -> Result<T, UserError> {
        crate::pg::on_conn(pool, |e| UserError::Pool(Box::new(e)), f)
    }

    /// Adds a user. Hashing takes tens of milliseconds on purpose.
    pub fn create(
        &self,
        name: &str,
        role: UserRole,
        password: &str,
        now_ms: i64,
    ) -> Result<User, UserError> {
        check_name(name)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(UserError::ShortPassword);
        }
        let hash = hash_password(password)?;
        let id = match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                match conn.execute(
                    "INSERT INTO users (name, role, password, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, role.code(), hash, now_ms],
                ) {
                    Ok(_) => conn.last_insert_rowid(),
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == ErrorCode::ConstraintViolation =>
                    {
                        return Err(UserError::Exists(name.to_owned()));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Db::Postgres(pool) => {
                let inserted = Users::pg(pool, |c| {
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
                        return Err(UserError::Exists(name.to_owned()));
                    }
                    other => other?,
                }
            }
        };
        Ok(User {
            id,
            name: name.to_owned(),
            role,
        })
    }

    pub fn list(&self) -> Result<Vec<User>, UserError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                let mut stmt = conn.prepare("SELECT id, name, role FROM users ORDER BY id")?;
                let rows = stmt.query_map([], user_row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            }
            Db::Postgres(pool) => Users::pg(pool, |c| {
                c.query_typed("SELECT id, name, role FROM console_users ORDER BY id", &[])
                    .map_err(failed("list console users"))?
                    .iter()
                    .map(pg_user)
                    .collect()
            }),
        }
    }

    pub fn get(&self, id: i64) -> Result<Option<User>, UserError> {
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn)
                .query_row(
                    "SELECT id, name, role FROM users WHERE id = ?1",
                    [id],
                    user_row,
                )
                .optional()?),
            Db::Postgres(pool) => Users::pg(pool, |c| {
                c.query_typed(
                    "SELECT id, name, role FROM console_users WHERE id = $1",
                    &[(&id, Type::INT8)],
                )
                .map_err(failed("read a console user"))?
                .first()
                .map(pg_user)
                .transpose()
            }),
        }
    }

    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError> {
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "INSERT INTO logins (name, at, outcome) VALUES (?1, ?2, ?3)",
                    params![name, now_ms, outcome],
                )?;
            }
            Db::Postgres(pool) => {
                Users::pg(pool, |c| {
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
            }
        }
        Ok(())
    }

    /// The user of a name, whatever its case, with the password hash and the end of any
    /// lockout.
    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError> {
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn)
                .query_row(
                    "SELECT id, name, role, password, locked_until FROM users WHERE name = ?1",
                    [name],
                    |r| Ok((user_row(r)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?),
            Db::Postgres(pool) => Users::pg(pool, |c| {
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
            }),
        }
    }

    /// Counts a wrong password, locking the account at [`MAX_FAILURES`] in a row; the count
    /// after this one. One statement, so that attempts on several nodes at once all count.
    fn count_failure(&self, id: i64, now_ms: i64) -> Result<i64, UserError> {
        let locked_until = now_ms + LOCKOUT_MS;
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn).query_row(
                "UPDATE users SET failures = failures + 1,
                    locked_until = CASE WHEN failures + 1 >= ?2 THEN ?3 ELSE locked_until END
                 WHERE id = ?1 RETURNING failures",
                params![id, MAX_FAILURES, locked_until],
                |r| r.get(0),
            )?),
            Db::Postgres(pool) => Users::pg(pool, |c| {
                const COUNT: &str = "count a failed login";
                let row = c
                    .query_typed_one(
                        "UPDATE console_users SET failures = failures + 1,
                            locked_until = CASE WHEN failures + 1 >= $2 THEN $3
                                ELSE locked_until END
                         WHERE id = $1 RETURNING failures",
                        &[
                            (&id, Type::INT8),
                            (&MAX_FAILURES, Type::INT8),
                            (&locked_until, Type::INT8),
                        ],
                    )
                    .map_err(failed(COUNT))?;
                Ok(i64::from(column::<i32>(&row, 0, COUNT)?))
            }),
        }
    }

    /// Clears the failure count and opens a session.
    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                conn.execute(
                    "UPDATE users SET failures = 0, locked_until = 0 WHERE id = ?1",
                    [user_id],
                )?;
                conn.execute(
                    "INSERT INTO sessions (token_sha256, user_id, csrf, created_at, seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![token_sha256, user_id, csrf, now_ms],
                )?;
            }
            Db::Postgres(pool) => {
                Users::pg(pool, |c| {
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
            }
        }
        Ok(())
    }

    /// Checks a password and opens a session. [`MAX_FAILURES`] wrong passwords in a row lock
    /// the account for [`LOCKOUT_MS`], whatever password is tried meanwhile.
    pub fn login(&self, name: &str, password: &str, now_ms: i64) -> Result<Session, LoginError> {
        let Some((user, hash, locked_until)) = self.for_login(name)? else {
            password_matches(password, decoy());
            self.note_login(name, now_ms, "unknown")?;
            return Err(LoginError::Invalid);
        };
        if locked_until > now_ms {
            // Checked all the same: a locked account takes as long to refuse as any other.
            password_matches(password, &hash);
            self.note_login(&user.name, now_ms, "locked")?;
            return Err(LoginError::Locked {
                minutes: (locked_until - now_ms + 59_999) / 60_000,
            });
        }
        if !password_matches(password, &hash) {
            let failures = self.count_failure(user.id, now_ms)?;
            if failures >= MAX_FAILURES {
                self.note_login(&user.name, now_ms, "failed, locked")?;
                return Err(LoginError::Locked {
                    minutes: LOCKOUT_MS / 60_000,
                });
            }
            self.note_login(&user.name, now_ms, "failed")?;
            return Err(LoginError::Invalid);
        }
        let token = random_token()?;
        let csrf = random_token()?;
        self.open_session(user.id, &token_hash(&token), &csrf, now_ms)?;
        self.note_login(&user.name, now_ms, "ok")?;
        Ok(Session { token, csrf, user })
    }

    /// The session of a token's hash: its user, form token, and when it was opened and last
    /// seen.
    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError> {
        match &self.db {
            Db::Sqlite(conn) => Ok(lock(conn)
                .query_row(
                    "SELECT u.id, u.name, u.role, s.csrf, s.created_at, s.seen_at
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ?1",
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
                .optional()?),
            Db::Postgres(pool) => Users::pg(pool, |c| {
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
            }),
        }
    }

    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError> {
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "DELETE FROM sessions WHERE token_sha256 = ?1",
                    [token_sha256],
                )?;
            }
            Db::Postgres(pool) => {
                Users::pg(pool, |c| {
                    c.execute_typed(
                        "DELETE FROM console_sessions WHERE token_sha256 = $1",
                        &[(&token_sha256, Type::BYTEA)],
                    )
                    .map_err(failed("end a session"))
                })?;
            }
        }
        Ok(())
    }

    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError> {
        match &self.db {
            Db::Sqlite(conn) => {
                lock(conn).execute(
                    "UPDATE sessions SET seen_at = ?2 WHERE token_sha256 = ?1",
                    params![token_sha256, now_ms],
                )?;
            }
            Db::Postgres(pool) => {
                Users::pg(pool, |c| {
                    c.execute_typed(
                        "UPDATE console_sessions SET seen_at = $2 WHERE token_sha256 = $1",
                        &[(&token_sha256, Type::BYTEA), (&now_ms, Type::INT8)],
                    )
                    .map_err(failed("keep a session open"))
                })?;
            }
        }
        Ok(())
    }

    /// The session of a cookie's token, if it is open; using it keeps it open.
    pub fn session(&self, token: &str, now_ms: i64) -> Result<Option<Session>, UserError> {
        let hash = token_hash(token);
        let Some((user, csrf, created, seen)) = self.find_session(&hash)? else {
            return Ok(None);
        };
        if now_ms - seen > IDLE_MS || now_ms - created > SESSION_MS {
            self.end_session(&hash)?;
            return Ok(None);
        }
        // Written at most once a minute: a page load is not a disk write.
        if now_ms - seen > 60_000 {
            self.touch_session(&hash, now_ms)?;
        }
        Ok(Some(Session {
            token: token.to_owned(),
            csrf,
            user,
        }))
    }

    pub fn logout(&self, token: &str) -> Result<(), UserError> {
        self.end_session(&token_hash(token))
    }
}

fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().expect("user store connection")
}
