//! People who use the console: caseworkers, supervisors and oversight staff, with argon2id
//! password hashes, lockout after repeated failures, and sessions with their CSRF tokens. Either
//! one SQLite file beside the registry, or tables in the PostgreSQL database that several server
//! nodes share, so that a session opened on one node is good on all of them and failed logins
//! count wherever they happen; every login attempt is kept. Passwords are hashed and checked
//! here, never in the database.

pub mod conformance;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::pg::with_causes;

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

/// A role name that is none of a console user's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a console role (one of caseworker, supervisor, oversight)")]
pub struct UnknownUserRole(pub String);

impl std::str::FromStr for UserRole {
    type Err = UnknownUserRole;

    fn from_str(s: &str) -> Result<UserRole, UnknownUserRole> {
        UserRole::parse(s).ok_or_else(|| UnknownUserRole(s.to_owned()))
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
        source: ::postgres::Error,
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

/// Where the users, their sessions and the login record are kept: a SQLite file beside the
/// registry, or the tables of a PostgreSQL database several nodes share. Passwords arrive
/// hashed and sessions by the hash of their token.
pub trait UserStore: Send + Sync {
    /// Adds a user with a password hash; [`UserError::Exists`] if the name is taken in any
    /// case.
    fn insert(&self, name: &str, role: UserRole, hash: &str, now_ms: i64)
    -> Result<i64, UserError>;
    /// Every user, oldest first.
    fn list(&self) -> Result<Vec<User>, UserError>;
    fn get(&self, id: i64) -> Result<Option<User>, UserError>;
    /// Adds a login attempt to the record, which is append-only.
    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError>;
    /// The user of a name, whatever its case, with the password hash and the end of any
    /// lockout.
    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError>;
    /// Counts a wrong password, locking the account until `locked_until` at `max_failures` in
    /// a row; the count after this one. One statement, so that attempts on several nodes at
    /// once all count.
    fn count_failure(
        &self,
        id: i64,
        max_failures: i64,
        locked_until: i64,
    ) -> Result<i64, UserError>;
    /// Clears the failure count and opens a session.
    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError>;
    /// The session of a token's hash: its user, form token, and when it was opened and last
    /// seen.
    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError>;
    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError>;
    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError>;
}

/// The user store: names, passwords, lockouts and sessions over a [`UserStore`].
pub struct Users {
    db: Box<dyn UserStore>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Users")
    }
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

impl Users {
    /// The users of `db`.
    pub fn new(db: Box<dyn UserStore>) -> Users {
        Users { db }
    }

    pub fn open(path: &std::path::Path) -> Result<Users, UserError> {
        Ok(Users::new(Box::new(sqlite::SqliteUsers::open(path)?)))
    }

    /// The store in the tables of a PostgreSQL database migrated by [`dmf_postgres::migrate`],
    /// shared by every node connected to it. Fails if the tables cannot be read.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Users, UserError> {
        Ok(Users::new(Box::new(postgres::PgUsers::open(pool)?)))
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
        let id = self.db.insert(name, role, &hash, now_ms)?;
        Ok(User {
            id,
            name: name.to_owned(),
            role,
        })
    }

    pub fn list(&self) -> Result<Vec<User>, UserError> {
        self.db.list()
    }

    pub fn get(&self, id: i64) -> Result<Option<User>, UserError> {
        self.db.get(id)
    }

    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError> {
        self.db.note_login(name, now_ms, outcome)
    }

    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError> {
        self.db.for_login(name)
    }

    fn count_failure(&self, id: i64, now_ms: i64) -> Result<i64, UserError> {
        self.db.count_failure(id, MAX_FAILURES, now_ms + LOCKOUT_MS)
    }

    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError> {
        self.db.open_session(user_id, token_sha256, csrf, now_ms)
    }

    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError> {
        self.db.find_session(token_sha256)
    }

    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError> {
        self.db.end_session(token_sha256)
    }

    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError> {
        self.db.touch_session(token_sha256, now_ms)
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
