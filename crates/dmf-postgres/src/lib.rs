//! PostgreSQL backend of the dmf event store, for registries run by several processes at once.
//!
//! # Design
//!
//! * **Gap-free order across processes.** Every append is one transaction that first takes a
//!   transaction-level advisory lock shared by all writers of the database. Under that lock it
//!   reads the current head, numbers the new events after it and inserts them with explicit
//!   sequence numbers, so sequence numbers are gap-free and strictly ordered no matter how many
//!   processes or connections append. Readers never take the lock. Idempotency keys already
//!   stored, or repeated within the batch, are looked up under the same lock and yield
//!   `Appended::Duplicate` without storing anything.
//! * **Fast batches.** A small batch goes in with one `INSERT … SELECT FROM unnest(…)` whose
//!   parameters are whole columns; a large one streams in by binary `COPY`.
//! * **Append-only, twice over.** The application role `dmf_writer` is granted only `SELECT` and
//!   `INSERT` on `events` and `checkpoints`, so it cannot change history. Triggers refuse
//!   `UPDATE`, `DELETE` and `TRUNCATE` with an "append-only" error for everyone else too,
//!   including the owner (who would have to disable them deliberately).
//! * **Versioned migrations.** The SQL files under `migrations/` are embedded in the binary and
//!   applied in order by [`migrate`], each in its own transaction under an advisory lock, and
//!   recorded in `dmf_migrations`. [`PgStore::connect`] refuses a database whose schema is
//!   missing, older or newer than this binary knows.
//! * **Notifications.** Each append sends `NOTIFY dmf_events, '<new head>'` inside its
//!   transaction, so listeners ([`listen`]) hear of it exactly when it commits. A missed
//!   notification is harmless: followers also catch up by sequence number.
//! * **One signer at a time.** [`PgStore::writer_lock`] holds a session-level advisory lock on a
//!   dedicated connection, so that only one process signs and publishes checkpoints.

mod listen;
mod migrations;
mod store;
pub mod testing;

use std::fmt;
use std::str::FromStr;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

pub use listen::{Listener, listen};
pub use migrations::{SCHEMA_VERSION, migrate};
pub use r2d2::Error as PoolError;
pub use store::{PgLock, PgStore, Pool};

/// The channel on which appends announce the new head.
pub const NOTIFY_CHANNEL: &str = "dmf_events";

/// Why a PostgreSQL operation failed. Each error names what was being done.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("invalid PostgreSQL connection string: {}", with_causes(.0))]
    InvalidUrl(#[source] postgres::Error),
    #[error("cannot connect to PostgreSQL at {target}: {}", with_causes(.source))]
    Connect {
        target: String,
        #[source]
        source: postgres::Error,
    },
    #[error("no PostgreSQL connection to {target} available: {source}")]
    Pool {
        target: String,
        #[source]
        source: r2d2::Error,
    },
    #[error("PostgreSQL failed to {context}: {}", with_causes(.source))]
    Query {
        context: &'static str,
        #[source]
        source: postgres::Error,
    },
    #[error(
        "the database {target} has no dmf schema: run `dmf init --database URL` to migrate it first"
    )]
    NotInitialised { target: String },
    #[error(
        "the database {target} is at schema version {found}, this program needs {expected}: \
         run `dmf init --database URL` to migrate it"
    )]
    Outdated {
        target: String,
        found: u32,
        expected: u32,
    },
    #[error(
        "the database {target} is at schema version {found}, newer than this program knows \
         ({known}): upgrade dmf before using it"
    )]
    TooNew {
        target: String,
        found: u32,
        known: u32,
    },
    #[error("a different checkpoint of size {size} is already published")]
    CheckpointConflict { size: u64 },
    #[error("{what} {value} is out of range for the database")]
    OutOfRange { what: &'static str, value: String },
    #[error("unexpected notification payload {0:?}")]
    BadPayload(String),
    #[error("the connection listening to {target} was closed")]
    ListenerClosed { target: String },
}

impl PgError {
    /// A mapper from a query error to this error, naming what was being done.
    pub(crate) fn query(context: &'static str) -> impl FnOnce(postgres::Error) -> PgError {
        move |source| PgError::Query { context, source }
    }
}

impl From<PgError> for dmf_store::StoreError {
    fn from(e: PgError) -> Self {
        use dmf_store::StoreError;
        match &e {
            PgError::InvalidUrl(_) => StoreError::Open {
                path: "(connection string)".to_owned(),
                reason: e.to_string(),
            },
            PgError::Connect { target, .. } | PgError::Pool { target, .. } => StoreError::Open {
                path: target.clone(),
                reason: e.to_string(),
            },
            PgError::NotInitialised { target }
            | PgError::Outdated { target, .. }
            | PgError::TooNew { target, .. } => StoreError::NotAStore {
                path: target.clone(),
                reason: e.to_string(),
            },
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// An error with the errors that caused it: the driver's own message names only the kind of
/// failure ("db error"), the server's message is in its cause.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A parsed connection string and a description of it that is safe to show (no password).
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    shown: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target, PgError> {
        let config = Config::from_str(url).map_err(PgError::InvalidUrl)?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("(default user)");
        let db = config.get_dbname().unwrap_or(user);
        let shown = format!("{user}@{host}:{port}/{db}");
        Ok(Target { config, shown })
    }

    pub(crate) fn connect(&self) -> Result<Client, PgError> {
        self.config
            .connect(NoTls)
            .map_err(|source| PgError::Connect {
                target: self.shown.clone(),
                source,
            })
    }
}

/// An advisory lock key from eight ASCII bytes, so the keys are recognisable in `pg_locks`.
const fn lock_key(name: &[u8; 8]) -> i64 {
    i64::from_be_bytes(*name)
}
