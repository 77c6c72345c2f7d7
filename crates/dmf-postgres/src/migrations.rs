//! The versioned schema: SQL files embedded in the binary, applied in order and recorded in
//! `dmf_migrations`.

use postgres::Transaction;
use postgres::types::Type;

use crate::{PgError, Target, lock_key};

/// One step of the schema, as committed in `migrations/`.
struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration in order; versions are 1, 2, 3, … without gaps.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "events",
        sql: include_str!("../migrations/0001_events.sql"),
    },
    Migration {
        version: 2,
        name: "checkpoints",
        sql: include_str!("../migrations/0002_checkpoints.sql"),
    },
    Migration {
        version: 3,
        name: "service",
        sql: include_str!("../migrations/0003_service.sql"),
    },
    Migration {
        version: 4,
        name: "programs",
        sql: include_str!("../migrations/0004_programs.sql"),
    },
    Migration {
        version: 5,
        name: "key_quotas",
        sql: include_str!("../migrations/0005_key_quotas.sql"),
    },
    Migration {
        version: 6,
        name: "event_macs",
        sql: include_str!("../migrations/0006_event_macs.sql"),
    },
    Migration {
        version: 7,
        name: "correction_actions",
        sql: include_str!("../migrations/0007_correction_actions.sql"),
    },
    Migration {
        version: 8,
        name: "key_jurisdiction",
        sql: include_str!("../migrations/0008_key_jurisdiction.sql"),
    },
];

/// The schema version this binary writes and reads.
pub const SCHEMA_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// Serializes migrations of one database, so two processes started together do not both try to
/// apply the same step.
const MIGRATE_LOCK: i64 = lock_key(b"dmf:migr");

/// Brings the database at `url` up to [`SCHEMA_VERSION`], applying each missing migration in
/// its own transaction, and returns the version it is at now. Running it again applies nothing.
/// A database recorded at a newer version than this binary knows is refused.
pub fn migrate(url: &str) -> Result<u32, PgError> {
    let target = Target::parse(url)?;
    let mut client = target.connect()?;
    loop {
        let mut tx = client
            .transaction()
            .map_err(PgError::query("begin a migration"))?;
        tx.execute_typed(
            "SELECT pg_advisory_xact_lock($1)",
            &[(&MIGRATE_LOCK, Type::INT8)],
        )
        .map_err(PgError::query("take the migration lock"))?;
        // Checked first, rather than `CREATE TABLE IF NOT EXISTS`, so a role without CREATE on
        // the schema can still run this to confirm an already migrated database.
        if !migrations_table_exists(&mut tx)? {
            tx.batch_execute(
                "CREATE TABLE dmf_migrations (
                     version integer PRIMARY KEY,
                     name text,
                     applied_at timestamptz DEFAULT now()
                 )",
            )
            .map_err(PgError::query("create the migrations table"))?;
        }
        let current = recorded_version(&mut tx)?;
        if current > SCHEMA_VERSION {
            return Err(PgError::TooNew {
                target: target.to_string(),
                found: current,
                known: SCHEMA_VERSION,
            });
        }
        let Some(next) = MIGRATIONS.iter().find(|m| m.version > current) else {
            tx.commit()
                .map_err(PgError::query("finish checking migrations"))?;
            return Ok(current);
        };
        tx.batch_execute(next.sql)
            .map_err(PgError::query("apply a migration"))?;
        let version = i32::try_from(next.version).expect("migration versions are small");
        tx.execute_typed(
            "INSERT INTO dmf_migrations (version, name) VALUES ($1, $2)",
            &[(&version, Type::INT4), (&next.name, Type::TEXT)],
        )
        .map_err(PgError::query("record a migration"))?;
        tx.commit().map_err(PgError::query("commit a migration"))?;
    }
}

/// Confirms the database is migrated to exactly [`SCHEMA_VERSION`].
pub(crate) fn check_version(client: &mut postgres::Client, target: &Target) -> Result<(), PgError> {
    let mut tx = client
        .transaction()
        .map_err(PgError::query("begin checking the schema version"))?;
    if !migrations_table_exists(&mut tx)? {
        return Err(PgError::NotInitialised {
            target: target.to_string(),
        });
    }
    let found = recorded_version(&mut tx)?;
    tx.commit()
        .map_err(PgError::query("finish checking the schema version"))?;
    match found {
        0 => Err(PgError::NotInitialised {
            target: target.to_string(),
        }),
        v if v < SCHEMA_VERSION => Err(PgError::Outdated {
            target: target.to_string(),
            found: v,
            expected: SCHEMA_VERSION,
        }),
        v if v > SCHEMA_VERSION => Err(PgError::TooNew {
            target: target.to_string(),
            found: v,
            known: SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

fn migrations_table_exists(tx: &mut Transaction<'_>) -> Result<bool, PgError> {
    tx.query_typed_one("SELECT to_regclass('dmf_migrations') IS NOT NULL", &[])
        .and_then(|row| row.try_get(0))
        .map_err(PgError::query("look for the migrations table"))
}

fn recorded_version(tx: &mut Transaction<'_>) -> Result<u32, PgError> {
    let version: i32 = tx
        .query_typed_one("SELECT coalesce(max(version), 0) FROM dmf_migrations", &[])
        .and_then(|row| row.try_get(0))
        .map_err(PgError::query("read the schema version"))?;
    u32::try_from(version).map_err(|_| PgError::OutOfRange {
        what: "recorded schema version",
        value: version.to_string(),
    })
}
