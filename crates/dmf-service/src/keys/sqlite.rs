//! API keys in a SQLite file of the data folder, shared by the processes of one machine.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, ErrorCode, params};

use super::{ApiKey, KeyError, KeyStorage, NewKey, SecretHash, quota_column, quota_from_column};

/// Version of the schema below; a file of another version is refused, not guessed at.
const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    certified INTEGER NOT NULL,
    source TEXT,
    authority TEXT,
    secret_sha256 BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    daily_quota INTEGER CHECK (daily_quota >= 0),
    jurisdiction TEXT CHECK (jurisdiction IS NULL OR (jurisdiction GLOB '[A-Z][A-Z]'
                             AND role = 'reporter' AND coalesce(source, '') = 'state'))
);
";

/// From each earlier version of the schema to the next: the daily allowance, the table named
/// as PostgreSQL names it, then a state reporter's jurisdiction (rows kept, none bound).
const UPGRADES: &[&str] = &[
    "ALTER TABLE keys ADD COLUMN daily_quota INTEGER CHECK (daily_quota >= 0);",
    "ALTER TABLE keys RENAME TO api_keys;",
    "ALTER TABLE api_keys ADD COLUMN jurisdiction TEXT
         CHECK (jurisdiction IS NULL OR (jurisdiction GLOB '[A-Z][A-Z]'
                AND role = 'reporter' AND coalesce(source, '') = 'state'));",
];

fn storage(e: rusqlite::Error) -> KeyError {
    KeyError::Storage(e.to_string())
}

/// The keys of one SQLite file.
#[derive(Debug)]
pub struct SqliteKeys {
    conn: Mutex<Connection>,
}

impl SqliteKeys {
    /// Opens the key file at `path`, creating it if missing and upgrading an older one.
    pub fn open(path: &Path) -> Result<SqliteKeys, KeyError> {
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
        Ok(SqliteKeys {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl KeyStorage for SqliteKeys {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn all(&self) -> Result<Vec<(ApiKey, SecretHash)>, KeyError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, name, role, certified, source, authority, created_at, revoked,
                        daily_quota, secret_sha256, jurisdiction FROM api_keys ORDER BY id",
            )
            .map_err(storage)?;
        let mut rows = stmt.query([]).map_err(storage)?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next().map_err(storage)? {
            let key = read_key(row)?;
            let digest: Vec<u8> = row.get(9).map_err(storage)?;
            let digest: SecretHash = digest.try_into().map_err(|_| {
                KeyError::Storage(format!("key {:?} has a malformed secret hash", key.name))
            })?;
            keys.push((key, digest));
        }
        Ok(keys)
    }

    fn insert(&self, new: &NewKey, secret: &SecretHash, now_ms: i64) -> Result<i64, KeyError> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO api_keys (name, role, certified, source, authority, secret_sha256,
                                   created_at, daily_quota, jurisdiction)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                new.name,
                new.role.code(),
                new.certified,
                new.source,
                new.authority,
                &secret[..],
                now_ms,
                quota_column(new.daily_quota),
                new.jurisdiction
            ],
        );
        match inserted {
            Ok(_) => Ok(conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, Some(msg)))
                if e.code == ErrorCode::ConstraintViolation && msg.contains("api_keys.name") =>
            {
                Err(KeyError::NameTaken(new.name.clone()))
            }
            Err(e) => Err(storage(e)),
        }
    }

    fn import(&self, key: &ApiKey, secret: &SecretHash) -> Result<(), KeyError> {
        self.conn()
            .execute(
                "INSERT INTO api_keys (id, name, role, certified, source, authority,
                                       secret_sha256, created_at, revoked, daily_quota,
                                       jurisdiction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    key.id,
                    key.name,
                    key.role.code(),
                    key.certified,
                    key.source,
                    key.authority,
                    &secret[..],
                    key.created_at,
                    key.revoked,
                    quota_column(key.daily_quota),
                    key.jurisdiction
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    fn revoke(&self, name: &str) -> Result<bool, KeyError> {
        let updated = self
            .conn()
            .execute(
                "UPDATE api_keys SET revoked = 1 WHERE name = ?1 AND revoked = 0",
                [name],
            )
            .map_err(storage)?;
        Ok(updated > 0)
    }

    fn set_quota(&self, name: &str, daily_quota: Option<u64>) -> Result<bool, KeyError> {
        let updated = self
            .conn()
            .execute(
                "UPDATE api_keys SET daily_quota = ?1 WHERE name = ?2",
                params![quota_column(daily_quota), name],
            )
            .map_err(storage)?;
        Ok(updated > 0)
    }
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
        jurisdiction: row.get(10).map_err(storage)?,
        created_at: row.get(6).map_err(storage)?,
        revoked: row.get(7).map_err(storage)?,
        daily_quota: quota_from_column(row.get(8).map_err(storage)?),
    })
}
