//! The service's stores on the server: the PostgreSQL ones step off the async runtime for the
//! synchronous client, on every call and when they are dropped, so that a handler calling a
//! store never blocks the runtime's other tasks.

use std::sync::Arc;

use dmf_service::ServiceDb;
use dmf_service::accounting::{Accounting, AccountingError, Disclosure, DisclosureStore};
use dmf_service::keys::{ApiKey, KeyError, KeyStorage, KeyStore, NewKey, SecretHash};
use dmf_service::programs::{JournalRow, JournalStore, ProgramStoreError, Programs};
use dmf_service::users::{User, UserError, UserRole, UserStore, Users};
use dmf_service::workflow::{
    CorrectionRequest, CorrectionStore, Filed, Position, PositionStore, Queue, Step, Workflow,
    WorkflowError,
};

use crate::ServerError;

/// Runs blocking PostgreSQL work where it may block. The synchronous client drives a runtime of
/// its own and panics when started on a thread already running one, and the stores are called
/// straight from async handlers; on a multi-thread runtime the thread hands its other tasks
/// away for the duration instead. (A current-thread runtime has no way to do that; the server
/// does not run on one.)
pub(crate) fn outside_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A store whose every call steps off the runtime, and whose drop does too: the last handle
/// on a connection pool closes its connections, which blocks like any other call.
struct OffRuntime<T: ?Sized>(Option<Box<T>>);

impl<T: ?Sized> OffRuntime<T> {
    fn new(inner: Box<T>) -> OffRuntime<T> {
        OffRuntime(Some(inner))
    }

    /// Runs `f` on the store, off the runtime.
    fn call<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let Some(inner) = self.0.as_deref() else {
            unreachable!("the store is taken only when dropped")
        };
        outside_runtime(|| f(inner))
    }
}

impl<T: ?Sized> Drop for OffRuntime<T> {
    fn drop(&mut self) {
        let inner = self.0.take();
        outside_runtime(|| drop(inner));
    }
}

impl KeyStorage for OffRuntime<dyn KeyStorage> {
    fn backend(&self) -> &'static str {
        self.call(|s| s.backend())
    }
    fn all(&self) -> Result<Vec<(ApiKey, SecretHash)>, KeyError> {
        self.call(|s| s.all())
    }
    fn insert(&self, new: &NewKey, secret: &SecretHash, now_ms: i64) -> Result<i64, KeyError> {
        self.call(|s| s.insert(new, secret, now_ms))
    }
    fn import(&self, key: &ApiKey, secret: &SecretHash) -> Result<(), KeyError> {
        self.call(|s| s.import(key, secret))
    }
    fn revoke(&self, name: &str) -> Result<bool, KeyError> {
        self.call(|s| s.revoke(name))
    }
    fn set_quota(&self, name: &str, daily_quota: Option<u64>) -> Result<bool, KeyError> {
        self.call(|s| s.set_quota(name, daily_quota))
    }
}

impl UserStore for OffRuntime<dyn UserStore> {
    fn insert(
        &self,
        name: &str,
        role: UserRole,
        hash: &str,
        now_ms: i64,
    ) -> Result<i64, UserError> {
        self.call(|s| s.insert(name, role, hash, now_ms))
    }
    fn list(&self) -> Result<Vec<User>, UserError> {
        self.call(|s| s.list())
    }
    fn get(&self, id: i64) -> Result<Option<User>, UserError> {
        self.call(|s| s.get(id))
    }
    fn note_login(&self, name: &str, now_ms: i64, outcome: &str) -> Result<(), UserError> {
        self.call(|s| s.note_login(name, now_ms, outcome))
    }
    fn for_login(&self, name: &str) -> Result<Option<(User, String, i64)>, UserError> {
        self.call(|s| s.for_login(name))
    }
    fn count_failure(
        &self,
        id: i64,
        max_failures: i64,
        locked_until: i64,
    ) -> Result<i64, UserError> {
        self.call(|s| s.count_failure(id, max_failures, locked_until))
    }
    fn open_session(
        &self,
        user_id: i64,
        token_sha256: &[u8],
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), UserError> {
        self.call(|s| s.open_session(user_id, token_sha256, csrf, now_ms))
    }
    fn find_session(
        &self,
        token_sha256: &[u8],
    ) -> Result<Option<(User, String, i64, i64)>, UserError> {
        self.call(|s| s.find_session(token_sha256))
    }
    fn end_session(&self, token_sha256: &[u8]) -> Result<(), UserError> {
        self.call(|s| s.end_session(token_sha256))
    }
    fn touch_session(&self, token_sha256: &[u8], now_ms: i64) -> Result<(), UserError> {
        self.call(|s| s.touch_session(token_sha256, now_ms))
    }
}

impl PositionStore for OffRuntime<dyn PositionStore> {
    fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        self.call(|s| s.position(key_id))
    }
    fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        self.call(|s| s.positions())
    }
    fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        self.call(|s| s.served(key_id, cursor))
    }
    fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        self.call(|s| s.acked(key_id, cursor, at_ms))
    }
}

impl CorrectionStore for OffRuntime<dyn CorrectionStore> {
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<Filed, WorkflowError> {
        self.call(|s| s.request_correction(ssn, body, key, by, at_ms))
    }
    fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError> {
        self.call(|s| s.approve_correction(id, key, by, at_ms, seq))
    }
    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        self.call(|s| s.correction(id))
    }
    fn act(
        &self,
        id: i64,
        step: &Step,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<CorrectionRequest, WorkflowError> {
        self.call(|s| s.act(id, step, key, by, at_ms))
    }
    fn queue(&self, queue: &Queue) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.call(|s| s.queue(queue))
    }
    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.call(|s| s.corrections_of(ssn))
    }
}

impl DisclosureStore for OffRuntime<dyn DisclosureStore> {
    fn append(&self, batch: &[Disclosure]) -> Result<(), String> {
        self.call(|s| s.append(batch))
    }
    fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError> {
        self.call(|s| s.for_person(ssn))
    }
    fn for_each(
        &self,
        each: &mut dyn FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        self.call(|s| s.for_each(each))
    }
    fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        self.call(|s| s.counts())
    }
}

impl JournalStore for OffRuntime<dyn JournalStore> {
    fn read_after(&self, after: i64) -> Result<Vec<JournalRow>, ProgramStoreError> {
        self.call(|s| s.read_after(after))
    }
    fn append(
        &self,
        after: i64,
        next: &mut dyn FnMut(Vec<JournalRow>) -> Result<JournalRow, ProgramStoreError>,
    ) -> Result<(), ProgramStoreError> {
        self.call(|s| s.append(after, next))
    }
}

/// The service's stores as the server uses them: in the files of the data folder, or in
/// PostgreSQL behind [`outside_runtime`].
#[derive(Debug)]
pub struct Stores {
    pub keys: KeyStore,
    pub accounting: Accounting,
    pub workflow: Workflow,
    pub users: Users,
    pub programs: Programs,
}

impl Stores {
    /// Opens every store where `db` says (reading the keys and replaying the programs'
    /// journal), off the runtime.
    pub fn open(db: &ServiceDb) -> Result<Stores, ServerError> {
        outside_runtime(|| {
            let pg = matches!(db, ServiceDb::Postgres(_));
            let keys = db.key_storage()?;
            let (place, disclosures) = db.disclosure_store()?;
            let (positions, corrections) = db.workflow_stores()?;
            let users = db.user_store()?;
            let journal = db.journal_store()?;
            if !pg {
                return Ok(Stores {
                    keys: KeyStore::new(keys)?,
                    accounting: Accounting::start(place, disclosures.into())?,
                    workflow: Workflow::new(positions, corrections),
                    users: Users::new(users),
                    programs: Programs::new(journal)?,
                });
            }
            Ok(Stores {
                keys: KeyStore::new(Box::new(OffRuntime::new(keys)))?,
                accounting: Accounting::start(place, Arc::new(OffRuntime::new(disclosures)))?,
                workflow: Workflow::new(
                    Box::new(OffRuntime::new(positions)),
                    Box::new(OffRuntime::new(corrections)),
                ),
                users: Users::new(Box::new(OffRuntime::new(users))),
                programs: Programs::new(Box::new(OffRuntime::new(journal)))?,
            })
        })
    }
}
