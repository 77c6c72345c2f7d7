//! API keys: who may call the server and in which role, stored as SHA-256 hashes of their
//! secrets (in a SQLite file, or in PostgreSQL for several nodes) and held in memory so that
//! authenticating a request needs no SQL. A state's reporter key may be bound to the NCHS
//! jurisdiction whose records it sends.

pub mod conformance;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dmf_model::DeathSource;
use dmf_vrdr::{Jurisdiction, UnknownJurisdiction};
use sha2::{Digest, Sha256};

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
    #[error("only reporter keys of source state have a jurisdiction, not {0} keys")]
    JurisdictionNotAllowed(Role),
    #[error(
        "only reporter keys of source state have a jurisdiction, not reporter keys of source {0}"
    )]
    JurisdictionNotState(String),
    #[error(transparent)]
    UnknownJurisdiction(#[from] UnknownJurisdiction),
    #[error("no random bytes for a secret: {0}")]
    Random(String),
    #[error("cannot open key store {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is not a key store: {reason}")]
    NotAKeyStore { path: String, reason: String },
    #[error("key store: {0}")]
    Storage(String),
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
    /// Reporters of source `state` only: the NCHS jurisdiction id (`NY`, `YC`, ...) whose
    /// records the key may send, as [`Jurisdiction`] writes it. `None` on a state's key is
    /// valid: that key cannot send FHIR VRDR messages.
    pub jurisdiction: Option<String>,
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
    /// An NCHS jurisdiction id, in capitals or not (`ny` is stored as `NY`).
    pub jurisdiction: Option<String>,
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
            jurisdiction: None,
            daily_quota: None,
        }
    }

    /// Whether the key may be made: its name, and the scope its role needs.
    pub fn check(&self) -> Result<(), KeyError> {
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
        self.jurisdiction()?;
        Ok(())
    }

    /// The key's jurisdiction, checked: none, or one a state's reporter key is bound to.
    /// ASCII letters are taken in either case; nothing else is changed (` NY` is refused).
    pub fn jurisdiction(&self) -> Result<Option<Jurisdiction>, KeyError> {
        let Some(given) = &self.jurisdiction else {
            return Ok(None);
        };
        may_have_jurisdiction(self.role, self.source.as_deref())?;
        given
            .to_ascii_uppercase()
            .parse()
            .map(Some)
            .map_err(|_| UnknownJurisdiction(given.clone()).into())
    }

    /// The key checked, with its jurisdiction as stored (`NY` for `ny`).
    pub fn normalized(self) -> Result<NewKey, KeyError> {
        self.check()?;
        let jurisdiction = self.jurisdiction()?.map(|j| j.as_str().to_owned());
        Ok(NewKey {
            jurisdiction,
            ..self
        })
    }
}

/// Whether a key of `role` reporting for `source` may be bound to a jurisdiction: only a
/// reporter key of source `state` may.
pub fn may_have_jurisdiction(role: Role, source: Option<&str>) -> Result<(), KeyError> {
    match (role, source) {
        (Role::Reporter, Some(s)) if s == DeathSource::StateVitalRecords.code() => Ok(()),
        (Role::Reporter, Some(s)) => Err(KeyError::JurisdictionNotState(s.to_owned())),
        (Role::Reporter, None) => Err(KeyError::SourceRequired),
        (role, _) => Err(KeyError::JurisdictionNotAllowed(role)),
    }
}

/// The SHA-256 of a key's secret: all that is stored of it.
pub type SecretHash = [u8; 32];

fn hash(secret: &str) -> SecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Where the keys are kept: a SQLite file shared by the processes of one machine, or the
/// `api_keys` table shared by every node on a PostgreSQL database.
pub trait KeyStorage: Send + Sync {
    /// `"sqlite"` or `"postgres"`, for messages.
    fn backend(&self) -> &'static str;
    /// Every key with the hash of its secret, oldest first.
    fn all(&self) -> Result<Vec<(ApiKey, SecretHash)>, KeyError>;
    /// Adds a key checked by the caller; its id. [`KeyError::NameTaken`] if the name is used,
    /// by a revoked key too.
    fn insert(&self, new: &NewKey, secret: &SecretHash, now_ms: i64) -> Result<i64, KeyError>;
    /// Adds a key as a dump holds it, id included; later keys are numbered after it.
    fn import(&self, key: &ApiKey, secret: &SecretHash) -> Result<(), KeyError>;
    /// Revokes the key named `name`; false if there is none or it was revoked already.
    fn revoke(&self, name: &str) -> Result<bool, KeyError>;
    /// Sets the daily allowance of the key named `name`; false if there is none.
    fn set_quota(&self, name: &str, daily_quota: Option<u64>) -> Result<bool, KeyError>;
}

/// The API keys of a [`KeyStorage`], mirrored in memory for [`KeyStore::authenticate`].
pub struct KeyStore {
    db: Box<dyn KeyStorage>,
    // Keyed by SHA-256 of the secret: a lookup compares hashes, never secrets.
    by_hash: RwLock<HashMap<SecretHash, ApiKey>>,
    /// When the keys were last read. Writes hold it until the map follows them, so that a
    /// reload that read the keys before a write cannot put the map back to before it.
    loaded: Mutex<Instant>,
}

/// How often the keys are read again from the file or database.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Every key of `db`, by the hash of its secret.
fn load(db: &dyn KeyStorage) -> Result<HashMap<SecretHash, ApiKey>, KeyError> {
    Ok(db.all()?.into_iter().map(|(k, h)| (h, k)).collect())
}

// Hand-written so that the hashes of secrets never reach a log.
impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self
            .by_hash
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("KeyStore")
            .field("backend", &self.db.backend())
            .field("keys", &keys)
            .finish()
    }
}

impl KeyStore {
    /// Opens the key store at `path`, creating the file and schema if missing.
    pub fn open(path: &std::path::Path) -> Result<KeyStore, KeyError> {
        KeyStore::new(Box::new(sqlite::SqliteKeys::open(path)?))
    }

    /// Keeps the keys in the `api_keys` table of a database migrated by
    /// [`dmf_postgres::migrate`], shared by every node on it: a key created or revoked on one
    /// node takes effect on the others within [`RELOAD_EVERY`].
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<KeyStore, KeyError> {
        KeyStore::new(Box::new(postgres::PgKeys::new(pool)))
    }

    /// The keys of `db`, read now.
    pub fn new(db: Box<dyn KeyStorage>) -> Result<KeyStore, KeyError> {
        let by_hash = load(db.as_ref())?;
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
        match load(self.db.as_ref()) {
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
        let new = new.normalized()?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| KeyError::Random(e.to_string()))?;
        let secret = format!("dmf_{}_{}", new.role.code(), URL_SAFE_NO_PAD.encode(random));
        let digest = hash(&secret);
        let _writing = self.writing();
        let id = self.db.insert(&new, &digest, now_ms)?;
        let key = ApiKey {
            id,
            name: new.name,
            role: new.role,
            certified: new.certified,
            source: new.source,
            authority: new.authority,
            jurisdiction: new.jurisdiction,
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
        Ok(self.db.all()?.into_iter().map(|(k, _)| k).collect())
    }

    /// Every key with the SHA-256 of its secret (never the secret itself), for a dump.
    pub fn export(&self) -> Result<Vec<(ApiKey, SecretHash)>, KeyError> {
        self.db.all()
    }

    /// Adds a key as a dump holds it (id, name, role, scope, dates and secret hash), so that
    /// its holder's secret keeps working after a restore.
    pub fn import(&self, key: &ApiKey, secret_sha256: &SecretHash) -> Result<(), KeyError> {
        let _writing = self.writing();
        self.db.import(key, secret_sha256)?;
        let keys = load(self.db.as_ref())?;
        *self.by_hash.write().unwrap_or_else(PoisonError::into_inner) = keys;
        Ok(())
    }

    /// Revokes the key named `name`; false if there is no such key or it was already revoked.
    pub fn revoke(&self, name: &str) -> Result<bool, KeyError> {
        let _writing = self.writing();
        if !self.db.revoke(name)? {
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
        if !self.db.set_quota(name, daily_quota)? {
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

/// A quota as read from the databases.
fn quota_from_column(quota: Option<i64>) -> Option<u64> {
    quota.map(|q| q.max(0) as u64)
}
