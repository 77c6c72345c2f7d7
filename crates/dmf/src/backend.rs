//! Where a registry's events live: the embedded SQLite store in its data folder (the default),
//! or a PostgreSQL database named by `--database URL` / `DMF_DATABASE_URL`, with the keys and
//! log files still in the data folder.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use dmf_registry::Registry;

/// A PostgreSQL store, its schema migrated to this binary's version first.
fn postgres(url: &str, migrate: bool) -> Result<Arc<dmf_postgres::PgStore>> {
    if migrate {
        dmf_postgres::migrate(url)
            .with_context(|| format!("cannot prepare the database {}", redact(url)))?;
    }
    let store = dmf_postgres::PgStore::connect(url)
        .with_context(|| format!("cannot open the database {}", redact(url)))?;
    Ok(Arc::new(store))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A PostgreSQL store for a new registry or a restore (migrated first).
pub fn postgres_store(url: &str) -> Result<Arc<dyn dmf_registry::dmf_store::EventStore>> {
    Ok(postgres(url, true)?)
}

/// Creates a registry: in the data folder, or with its events in the database.
pub fn init(data: &Path, origin: Option<&str>, database: Option<&str>) -> Result<Registry> {
    Ok(match database {
        None => Registry::init(data, origin)?,
        Some(url) => Registry::init_with(data, origin, postgres(url, true)?)?,
    })
}

/// Opens a registry: the embedded store of the data folder, or the database.
pub fn open(data: &Path, database: Option<&str>) -> Result<Registry> {
    Ok(match database {
        None => Registry::open(data)?,
        Some(url) => Registry::open_with(data, postgres(url, false)?)?,
    })
}

/// Opens a registry as it is, for the audit to say what is wrong with it: not refused for a
/// store rolled back behind its log or an event beyond the log that the writer did not write.
pub fn open_for_audit(data: &Path, database: Option<&str>) -> Result<Registry> {
    Ok(match database {
        None => Registry::open_for_audit(data)?,
        Some(url) => Registry::open_with_for_audit(data, postgres(url, false)?)?,
    })
}

/// Opens a registry whose log files cover every event in its store: with a database, what other
/// processes appended is signed first (waiting for another signer to finish).
pub fn open_current(data: &Path, database: Option<&str>) -> Result<Registry> {
    let registry = open(data, database)?;
    registry.sign_pending(true)?;
    Ok(registry)
}

/// Where the service's own records live: the data folder's files, or the database's tables.
pub fn service(data: &Path, database: Option<&str>) -> Result<dmf_service::ServiceDb> {
    Ok(match database {
        None => dmf_service::ServiceDb::Files(data.to_owned()),
        Some(url) => dmf_service::ServiceDb::Postgres(postgres(url, false)?.pool()),
    })
}
