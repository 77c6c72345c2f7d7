//! The service's own records beside the registry: API keys, console users and their sessions,
//! subscribers' feed positions and corrections awaiting approval, the accounting of
//! disclosures, and the journal of computer-matching programs.
//!
//! Each is a store behind a trait with two backends, a SQLite file of the data folder for one
//! node and tables of the registry's PostgreSQL database for several, under the same table
//! names in both. Every store is synchronous: a caller on an async runtime steps off it before
//! calling (the server wraps each backend so that it does).

pub mod accounting;
pub mod dump;
pub mod keys;
mod pg;
pub mod programs;
pub mod users;
pub mod workflow;

use std::path::PathBuf;

use crate::accounting::{Accounting, AccountingError, DisclosureStore};
use crate::keys::{KeyError, KeyStorage, KeyStore};
use crate::programs::{JournalStore, ProgramStoreError, Programs};
use crate::users::{UserError, UserStore, Users};
use crate::workflow::{Workflow, WorkflowError, WorkflowStores};

/// File names inside the data folder.
pub const KEYS_FILE: &str = "keys.sqlite";
pub const ACCOUNTING_FILE: &str = "accounting.sqlite";
pub const WORKFLOW_FILE: &str = "workflow.sqlite";
pub const USERS_FILE: &str = "users.sqlite";
/// Computer-matching programs: agreements, requests and due process (one append-only journal).
pub const PROGRAMS_FILE: &str = "programs.sqlite";

/// Where the service keeps its own records: API keys, the disclosure accounting, feed positions
/// and corrections awaiting approval, console users. Files of the data folder for one node;
/// tables of the registry's PostgreSQL database when several nodes share it.
#[derive(Clone)]
pub enum ServiceDb {
    Files(PathBuf),
    Postgres(dmf_postgres::Pool),
}

impl std::fmt::Debug for ServiceDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceDb::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
            ServiceDb::Postgres(_) => f.write_str("Postgres"),
        }
    }
}

impl ServiceDb {
    /// The storage of the API keys.
    pub fn key_storage(&self) -> Result<Box<dyn KeyStorage>, KeyError> {
        Ok(match self {
            ServiceDb::Files(dir) => {
                Box::new(keys::sqlite::SqliteKeys::open(&dir.join(KEYS_FILE))?)
            }
            ServiceDb::Postgres(pool) => Box::new(keys::postgres::PgKeys::new(pool.clone())),
        })
    }

    /// The storage of the disclosure accounting, and the name it goes by in messages.
    pub fn disclosure_store(&self) -> Result<(String, Box<dyn DisclosureStore>), AccountingError> {
        Ok(match self {
            ServiceDb::Files(dir) => {
                let path = dir.join(ACCOUNTING_FILE);
                (path.display().to_string(), accounting::open_file(&path)?)
            }
            ServiceDb::Postgres(pool) => (
                accounting::postgres::PG_PLACE.to_owned(),
                Box::new(accounting::postgres::PgDisclosures::open(pool.clone())?),
            ),
        })
    }

    /// The storage of feed positions and of corrections awaiting approval (one file, or two
    /// groups of tables).
    pub fn workflow_stores(&self) -> Result<WorkflowStores, WorkflowError> {
        Ok(match self {
            ServiceDb::Files(dir) => {
                let db = workflow::sqlite::SqliteWorkflow::open(&dir.join(WORKFLOW_FILE))?;
                (Box::new(db.clone()), Box::new(db))
            }
            ServiceDb::Postgres(pool) => {
                let db = workflow::postgres::PgWorkflow::open(pool.clone())?;
                (Box::new(db.clone()), Box::new(db))
            }
        })
    }

    /// The storage of console users and sessions.
    pub fn user_store(&self) -> Result<Box<dyn UserStore>, UserError> {
        Ok(match self {
            ServiceDb::Files(dir) => {
                Box::new(users::sqlite::SqliteUsers::open(&dir.join(USERS_FILE))?)
            }
            ServiceDb::Postgres(pool) => Box::new(users::postgres::PgUsers::open(pool.clone())?),
        })
    }

    /// The storage of the program journal.
    pub fn journal_store(&self) -> Result<Box<dyn JournalStore>, ProgramStoreError> {
        Ok(match self {
            ServiceDb::Files(dir) => Box::new(programs::sqlite::SqliteJournal::open(
                &dir.join(PROGRAMS_FILE),
            )?),
            ServiceDb::Postgres(pool) => Box::new(programs::postgres::PgJournal::new(pool.clone())),
        })
    }

    pub fn keys(&self) -> Result<KeyStore, KeyError> {
        KeyStore::new(self.key_storage()?)
    }

    pub fn accounting(&self) -> Result<Accounting, AccountingError> {
        let (place, store) = self.disclosure_store()?;
        Accounting::start(place, store.into())
    }

    pub fn workflow(&self) -> Result<Workflow, WorkflowError> {
        let (positions, corrections) = self.workflow_stores()?;
        Ok(Workflow::new(positions, corrections))
    }

    pub fn programs(&self) -> Result<Programs, ProgramStoreError> {
        Programs::new(self.journal_store()?)
    }

    pub fn users(&self) -> Result<Users, UserError> {
        Ok(Users::new(self.user_store()?))
    }
}
