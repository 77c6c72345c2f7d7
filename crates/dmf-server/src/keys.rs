//! API keys: who may call the server and in which role, stored as SHA-256 hashes of their
//! secrets (in a SQLite file, or in PostgreSQL for several nodes) and held in memory so that
//! authenticating a request needs no SQL.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dmf_model::DeathSource;
use postgres::error::SqlState;
use postgres::types::Type;
use rusqlite::{Connection, ErrorCode, params};
use sha2::{Digest, Sha256};

/// Version of the schema below; a file of another version is refused, not guessed at.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    certified INTEGER NOT NULL,
    source TEXT,
    authority TEXT,
    secret_sha256 BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    daily_quota INTEGER CHECK (daily_quota >= 0)
);
";

/// From each earlier version of the schema to the next.
const UPGRADES: &[&str] =
    &["ALTER TABLE keys ADD COLUMN daily_quota INTEGER CHECK (daily_quota >= 0);"];

/// Longest key name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// What a key may do; each HTTP route admits some roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Identity verification (yes/no answers).
    Identity,
    /// Employment eligibility verification.
    Employment,
    /// Benefit-paying programmes.
    Benefits,
    /// Subscribers to the death master file.
    Subscriber,
    /// Death reporters, fixed to one kind of source.
    Reporter,
    /// Issuing authorities, fixed to one authority.
    Authority,
    /// Caseworkers handling corrections.
    Caseworker,
    /// Oversight: reads accounting and statistics.
    Oversight,
    /// Another agency matching its list under one computer-matching agreement.
    Agency,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Identity,
        Role::Employment,
        Role::Benefits,
        Role::Subscriber,
        Role::Reporter,
        Role::Authority,
        Role::Caseworker,
        Role::Oversight,
        Role::Agency,
    ];

    /// The code used in secrets, files and APIs.
    pub fn code(self) -> &'static str {
        match self {
            Role::Identity => "identity",
            Role::Employment => "employment",
            Role::Benefits => "benefits",
            Role::Subscriber => "subscriber",
            Role::Reporter => "reporter",
            Role::Authority => "authority",
            Role::Caseworker => "caseworker",
            Role::Oversight => "oversight",
            Role::Agency => "agency",
        }
    }
}

impl FromStr for Role {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Role, KeyError> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| KeyError::UnknownRole(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a key could not be created, or the key store could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{0:?} is not a role (one of identity, employment, benefits, subscriber, reporter, \
         authority, caseworker, oversight, agency)"
    )]
    UnknownRole(String),
    #[error("a key name must not be empty")]
    EmptyName,
    #[error("a key name may have at most {MAX_NAME_CHARS} characters, this one has {0}")]
    NameTooLong(usize),
    #[error("a key name must not contain control characters")]
    NameControlChar,
    #[error("a key named {0:?} already exists")]
    NameTaken(String),
    #[error("only subscriber keys can be certified, not {0} keys")]
    CertifiedNotSubscriber(Role),
    #[error("a reporter key needs the death source it reports for")]
    SourceRequired,
    #[error("only reporter keys have a death source, not {0} keys")]
    SourceNotAllowed(Role),
    #[error("{0}")]
    UnknownSource(String),
    #[error("an authority key needs the issuing authority it acts for")]
    AuthorityRequired,
    #[error("only authority keys have an issuing authority, not {0} keys")]
    AuthorityNotAllowed(Role),
    #[error("no random bytes for a secret: {0}")]
    Random(String),
    #[error("cannot open key store {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is not a key store: {reason}")]
    NotAKeyStore { path: String, reason: String },
    #[error("key store: {0}")]
    Storage(String),
}

fn storage(e: rusqlite::Error) -> KeyError {
    KeyError::Storage(e.to_string())
}

/// One API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    /// Unique among all keys, revoked ones included.
    pub name: String,
    pub role: Role,
    /// Subscribers only: certified under the limited-access DMF rule.
    pub certified: bool,
    /// Reporters only: the death source code the key is fixed to.
    pub source: Option<String>,
    /// Authorities only: the issuing authority the key is fixed to.
    pub authority: Option<String>,
    /// Milliseconds since 1970.
    pub created_at: i64,
    pub revoked: bool,
    /// Verification keys: the records the key may have answered in a UTC day; `None` is no
    /// allowance beyond the rate.
    pub daily_quota: Option<u64>,
}

/// What to create a key with; [`KeyStore::create`] checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub certified: bool,
    pub source: Option<String>,
    pub authority: Option<String>,
    pub daily_quota: Option<u64>,
}

impl NewKey {
    /// A key of `role` with no certification, source or authority.
    pub fn plain(name: &str, role: Role) -> NewKey {
        NewKey {
            name: name.to_owned(),
            role,
            certified: false,
            source: None,
            authority: None,
            daily_quota: None,
        }
    }

    fn check(&self) -> Result<(), KeyError> {
        let chars = self.name.chars().count();
        if chars == 0 {
            return Err(KeyError::EmptyName);
        }
        if chars > MAX_NAME_CHARS {
            return Err(KeyError::NameTooLong(chars));
        }
        if self.name.chars().any(char::is_control) {
            return Err(KeyError::NameControlChar);
        }
        if self.certified && self.role != Role::Subscriber {
            return Err(KeyError::CertifiedNotSubscriber(self.role));
        }
        match (&self.source, self.role) {
            (None, Role::Reporter) => return Err(KeyError::SourceRequired),
            (Some(s), Role::Reporter) => {
                DeathSource::from_str(s).map_err(|e| KeyError::UnknownSource(e.to_string()))?;
            }
            (Some(_), role) => return Err(KeyError::SourceNotAllowed(role)),
            (None, _) => {}
        }
        match (&self.authority, self.role) {
            (Some(a), Role::Authority) if !a.trim().is_empty() => {}
            (_, Role::Authority) => return Err(KeyError::AuthorityRequired),
            (Some(_), role) => return Err(KeyError::AuthorityNotAllowed(role)),
            (None, _) => {}
        }
        Ok(())
    }
}

type Hash = [u8; 32];

fn hash(secret: &str) -> Hash {
    Sha256::digest(secret.as_bytes()).into()
}

fn pg_storage(e: postgres::Error) -> KeyError {
    KeyError::Storage(crate::pg::with_causes(&e))
}

/// Runs `f` on a connection from `pool`, outside the async runtime.
fn with_pg<T>(
    pool: &dmf_postgres::Pool,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, KeyError>,
) -> Result<T, KeyError> {
    crate::pg::on_conn(
        pool,
        |e| KeyError::Storage(format!("no connection to PostgreSQL: {e}")),
        f,
    )
}

/// Where the keys are kept.
enum Db {
    /// A SQLite file, shared by the processes of one machine.
    Sqlite(Mutex<Connection>),
    /// The `api_keys` table, shared by every node on the database.
    Postgres(dmf_postgres::Pool),
}

impl Db {
    /// Every key, by the hash of its secret.
    fn load(&self) -> Result<HashMap<Hash, ApiKey>, KeyError> {
        match self {
            Db::Sqlite(conn) => load(&conn.lock().unwrap_or_else(PoisonError::into_inner)),
            Db::Postgres(pool) => with_pg(pool, |c| {
                Ok(pg_keys(c)?.into_iter().map(|(k, h)| (h, k)).collect())
            }),
        }
    }
}

/// The API keys in a SQLite file or a PostgreSQL database, mirrored in memory for
/// [`KeyStore::authenticate`].
pub struct KeyStore {
    db: Db,
    // Keyed by SHA-256 of the secret: a lookup compares hashes, never secrets.
    by_hash: RwLock<HashMap<Hash, ApiKey>>,
    /// When the keys were last read. Writes hold it until the map follows them, so that a
    /// reload that read the keys before a write cannot put the map back to before it.
    loaded: Mutex<Instant>,
}

/// How often the keys are read again from the file or database.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Every key in the file, by the hash of its secret.
fn load(conn: &Connection) -> Result<HashMap<Hash, ApiKey>, KeyError> {
    let mut by_hash = HashMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT id, name, role, certified, source, authority, created_at, revoked,
                    daily_quota, secret_sha256 FROM keys",
        )
        .map_err(storage)?;
    let mut rows = stmt.query([]).map_err(storage)?;
    while let Some(row) = rows.next().map_err(storage)? {
        let key = read_key(row)?;
        let digest: Vec<u8> = row.get(9).map_err(storage)?;
        let digest: Hash = digest.try_into().map_err(|_| {
            KeyError::Storage(format!("key {:?} has a malformed secret hash", key.name))
        })?;
        by_hash.insert(digest, key);
    }
    Ok(by_hash)
}

/// Every key in the table with the hash of its secret, oldest first.
fn pg_keys(client: &mut postgres::Client) -> Result<Vec<(ApiKey, Hash)>, KeyError> {
    let rows = client
        .query_typed(
            "SELECT id, name, role, certified, source, authority, created_at, revoked,
                    daily_quota, secret_sha256 FROM api_keys ORDER BY id",
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
                created_at: row.try_get(6).map_err(pg_storage)?,
                revoked: row.try_get(7).map_err(pg_storage)?,
                daily_quota: row
                    .try_get::<_, Option<i64>>(8)
                    .map_err(pg_storage)?
                    .map(|q| q.max(0) as u64),
            };
            let digest: &[u8] = row.try_get(9).map_err(pg_storage)?;
            let digest: Hash = digest.try_into().map_err(|_| {
                KeyError::Storage(format!("key {:?} has a malformed secret hash", key.name))
            })?;
            Ok((key, digest))
        })
        .collect()
}

/// Whether `e` is a violation of the unique constraint named `constraint`.
fn violates(e: &postgres::Error, constraint: &str) -> bool {
    e.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(constraint)
    })
}

// Hand-written so that the hashes of secrets never reach a log.
impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self
            .by_hash
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        let backend = match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        };
        f.debug_struct("KeyStore")
            .field("backend", &backend)
            .field("keys", &keys)
            .finish()
    }
}

impl KeyStore {
    /// Opens the key store at `path`, creating the file and schema if missing.
    pub fn open(path: &Path) -> Result<KeyStore, KeyError> {
        let shown = path.display().to_string();
        let conn = dmf_store::open_upgrading(path, SCHEMA, SCHEMA_VERSION, UPGRADES).map_err(
            |e| match e {
                dmf_store::VersionedError::Open(reason) => KeyError::Open {
                    path: shown.clone(),
                    reason,
                },
                dmf_store::VersionedError::NotOurs(reason) => KeyError::NotAKeyStore {
                    path: shown.clone(),
                    reason,
                },
            },
        )?;
        KeyStore::on(Db::Sqlite(Mutex::new(conn)))
    }

    /// Keeps the keys in the `api_keys` table of a database migrated by
    /// [`dmf_postgres::migrate`], shared by every node on it: a key created or revoked on one
    /// node takes effect on the others within [`RELOAD_EVERY`].
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<KeyStore, KeyError> {
        KeyStore::on(Db::Postgres(pool))
    }

    fn on(db: Db) -> Result<KeyStore, KeyError> {
        let by_hash = db.load()?;
        Ok(KeyStore {
            db,
            by_hash: RwLock::new(by_hash),
            loaded: Mutex::new(Instant::now()),
        })
    }

    /// Reads the keys again, so that keys created or revoked by another process (`dmf keys`
    /// while `dmf serve` runs) or another node take effect within [`RELOAD_EVERY`].
    fn reload_if_due(&self, now: Instant) {
        // Busy means a reload or a write is under way; either leaves the map current.
        let Ok(mut loaded) = self.loaded.try_lock() else {
            return;
        };
        if now.saturating_duration_since(*loaded) < RELOAD_EVERY {
            return;
        }
        *loaded = now;
        match self.db.load() {
            Ok(keys) => *self.by_hash.write().unwrap_or_else(PoisonError::into_inner) = keys,
            Err(e) => tracing::warn!(error = %e, "cannot reload API keys; keeping those loaded"),
        }
    }

    /// Holds off reloads until a write and its update of the map are done.
    fn writing(&self) -> MutexGuard<'_, Instant> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a key; returns it with its secret, which is not stored and cannot be shown again.
    pub fn create(&self, new: NewKey, now_ms: i64) -> Result<(ApiKey, String), KeyError> {
        new.check()?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| KeyError::Random(e.to_string()))?;
        let secret = format!("dmf_{}_{}", new.role.code(), URL_SAFE_NO_PAD.encode(random));
        let digest = hash(&secret);
        let quota = quota_column(new.daily_quota);
        let _writing = self.writing();
        let id = match &self.db {
            Db::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                let inserted = conn.execute(
                    "INSERT INTO keys (name, role, certified, source, authority, secret_sha256,
                                       created_at, daily_quota)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        new.name,
                        new.role.code(),
                        new.certified,
                        new.source,
                        new.authority,
                        &digest[..],
                        now_ms,
                        quota
                    ],
                );
                match inserted {
                    Ok(_) => conn.last_insert_rowid(),
                    Err(rusqlite::Error::SqliteFailure(e, Some(msg)))
                        if e.code == ErrorCode::ConstraintViolation
                            && msg.contains("keys.name") =>
                    {
                        return Err(KeyError::NameTaken(new.name));
                    }
                    Err(e) => return Err(storage(e)),
                }
            }
            Db::Postgres(pool) => with_pg(pool, |c| {
                let inserted = c.query_typed_one(
                    "INSERT INTO api_keys (name, role, certified, source, authority,
                                           secret_sha256, created_at, daily_quota)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        (&new.name, Type::TEXT),
                        (&new.role.code(), Type::TEXT),
                        (&new.certified, Type::BOOL),
                        (&new.source, Type::TEXT),
                        (&new.authority, Type::TEXT),
                        (&digest.as_slice(), Type::BYTEA),
                        (&now_ms, Type::INT8),
                        (&quota, Type::INT8),
                    ],
                );
                match inserted {
                    Ok(row) => row.try_get(0).map_err(pg_storage),
                    Err(e) if violates(&e, "api_keys_name_key") => {
                        Err(KeyError::NameTaken(new.name.clone()))
                    }
                    Err(e) => Err(pg_storage(e)),
                }
            })?,
        };
        let key = ApiKey {
            id,
            name: new.name,
            role: new.role,
            certified: new.certified,
            source: new.source,
            authority: new.authority,
            created_at: now_ms,
            revoked: false,
            daily_quota: new.daily_quota,
        };
        self.by_hash
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest, key.clone());
        Ok((key, secret))
    }

    /// The live key whose secret this is; `None` for an unknown or revoked secret.
    pub fn authenticate(&self, secret: &str) -> Option<ApiKey> {
        self.authenticate_at(secret, Instant::now())
    }

    /// As [`KeyStore::authenticate`] at the time `now` (which decides whether the keys are
    /// read again from the file or database).
    pub fn authenticate_at(&self, secret: &str, now: Instant) -> Option<ApiKey> {
        self.reload_if_due(now);
        let digest = hash(secret);
        let keys = self.by_hash.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(&digest).filter(|k| !k.revoked).cloned()
    }

    /// Every key, revoked ones included, oldest first.
    pub fn list(&self) -> Result<Vec<ApiKey>, KeyError> {
        let conn = match &self.db {
            Db::Sqlite(conn) => conn.lock().unwrap_or_else(PoisonError::into_inner),
            Db::Postgres(pool) => {
                let keys = with_pg(pool, pg_keys)?;
                return Ok(keys.into_iter().map(|(k, _)| k).collect());
            }
        };
        let mut stmt = conn
            .prepare(
                "SELECT id, name, role, certified, source, authority, created_at, revoked,
                        daily_quota
                 FROM keys ORDER BY id",
            )
            .map_err(storage)?;
        let mut rows = stmt.query([]).map_err(storage)?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next().map_err(storage)? {
            keys.push(read_key(row)?);
        }
        Ok(keys)
    }

    /// Every key with the SHA-256 of its secret (never the secret itself), for a dump.
    pub fn export(&self) -> Result<Vec<(ApiKey, [u8; 32])>, KeyError> {
        let conn = match &self.db {
            Db::Sqlite(conn) => conn,
            Db::Postgres(pool) => return with_pg(pool, pg_keys),
        };
        let keys = self.list()?;
        let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
        keys.into_iter()
            .map(|k| {
                let digest: Vec<u8> = conn
                    .query_row(
                        "SELECT secret_sha256 FROM keys WHERE id = ?1",
                        [k.id],
                        |r| r.get(0),
                    )
                    .map_err(storage)?;
                let digest: [u8; 32] = digest
                    .try_into()
                    .map_err(|_| KeyError::Storage(format!("key {}: bad hash", k.name)))?;
                Ok((k, digest))
            })
            .collect()
    }

    /// Adds a key as a dump holds it (id, name, role, scope, dates and secret hash), so that
    /// its holder's secret keeps working after a restore.
    pub fn import(&self, key: &ApiKey, secret_sha256: &[u8; 32]) -> Result<(), KeyError> {
        let _writing = self.writing();
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                conn.execute(
                    "INSERT INTO keys (id, name, role, certified, source, authority,
                                       secret_sha256, created_at, revoked, daily_quota)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        key.id,
                        key.name,
                        key.role.code(),
                        key.certified,
                        key.source,
                        key.authority,
                        &secret_sha256[..],
                        key.created_at,
                        key.revoked,
                        quota_column(key.daily_quota)
                    ],
                )
                .map_err(storage)?;
            }
            Db::Postgres(pool) => with_pg(pool, |c| {
                let mut tx = c.transaction().map_err(pg_storage)?;
                tx.execute_typed(
                    "INSERT INTO api_keys (id, name, role, certified, source, authority,
                                           secret_sha256, created_at, revoked, daily_quota)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        (&key.id, Type::INT8),
                        (&key.name, Type::TEXT),
                        (&key.role.code(), Type::TEXT),
                        (&key.certified, Type::BOOL),
                        (&key.source, Type::TEXT),
                        (&key.authority, Type::TEXT),
                        (&secret_sha256.as_slice(), Type::BYTEA),
                        (&key.created_at, Type::INT8),
                        (&key.revoked, Type::BOOL),
                        (&quota_column(key.daily_quota), Type::INT8),
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
            })?,
        }
        let keys = self.db.load()?;
        *self.by_hash.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(())
    }

    /// Revokes the key named `name`; false if there is no such key or it was already revoked.
    pub fn revoke(&self, name: &str) -> Result<bool, KeyError> {
        let _writing = self.writing();
        let changed = match &self.db {
            Db::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                let updated = conn
                    .execute(
                        "UPDATE keys SET revoked = 1 WHERE name = ?1 AND revoked = 0",
                        [name],
                    )
                    .map_err(storage)?;
                updated > 0
            }
            Db::Postgres(pool) => {
                let updated = with_pg(pool, |c| {
                    c.execute_typed(
                        "UPDATE api_keys SET revoked = true WHERE name = $1 AND NOT revoked",
                        &[(&name, Type::TEXT)],
                    )
                    .map_err(pg_storage)
                })?;
                updated > 0
            }
        };
        if !changed {
            return Ok(false);
        }
        let mut keys = self.by_hash.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = keys.values_mut().find(|k| k.name == name) {
            key.revoked = true;
        }
        Ok(true)
    }

    /// Sets the daily allowance of the key named `name` (`None`: none); false if there is no
    /// such key.
    pub fn set_quota(&self, name: &str, daily_quota: Option<u64>) -> Result<bool, KeyError> {
        let _writing = self.writing();
        let quota = quota_column(daily_quota);
        let updated = match &self.db {
            Db::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .execute(
                    "UPDATE keys SET daily_quota = ?1 WHERE name = ?2",
                    params![quota, name],
                )
                .map_err(storage)?,
            Db::Postgres(pool) => with_pg(pool, |c| {
                c.execute_typed(
                    "UPDATE api_keys SET daily_quota = $1 WHERE name = $2",
                    &[(&quota, Type::INT8), (&name, Type::TEXT)],
                )
                .map_err(pg_storage)
            })? as usize,
        };
        if updated == 0 {
            return Ok(false);
        }
        let mut keys = self.by_hash.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = keys.values_mut().find(|k| k.name == name) {
            key.daily_quota = daily_quota;
        }
        Ok(true)
    }

    /// The key with this id, revoked or not.
    pub fn get(&self, id: i64) -> Option<ApiKey> {
        let keys = self.by_hash.read().unwrap_or_else(PoisonError::into_inner);
        keys.values().find(|k| k.id == id).cloned()
    }
}

/// A quota as the databases hold it (a signed 64-bit integer).
fn quota_column(quota: Option<u64>) -> Option<i64> {
    quota.map(|q| i64::try_from(q).unwrap_or(i64::MAX))
}

fn read_key(row: &rusqlite::Row<'_>) -> Result<ApiKey, KeyError> {
    let role: String = row.get(2).map_err(storage)?;
    Ok(ApiKey {
        id: row.get(0).map_err(storage)?,
        name: row.get(1).map_err(storage)?,
        role: role.parse()?,
        certified: row.get(3).map_err(storage)?,
        source: row.get(4).map_err(storage)?,
        authority: row.get(5).map_err(storage)?,
        created_at: row.get(6).map_err(storage)?,
        revoked: row.get(7).map_err(storage)?,
        daily_quota: row
            .get::<_, Option<i64>>(8)
            .map_err(storage)?
            .map(|q| q.max(0) as u64),
    })
}
