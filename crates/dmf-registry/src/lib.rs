//! The master file: events appended under the intake rules, the current state derived from
//! them, and the answers given from that state.
//!
//! One writer at a time (a lock file in the data folder) checks each event against the current
//! state, appends the accepted ones in one durable transaction, and only then makes their
//! effect visible. Readers rebuild one person's state from that person's events.

pub mod answers;
mod codec;
pub mod event;
mod import;
pub mod state;
pub mod submission;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use dmf_model::Ssn;
use dmf_store::{Appended, EventStore, NewEvent, Seq, SqliteStore, StoreError, StoredEvent};

pub use codec::{DecodeError, decode, encode};
pub use event::Event;
pub use import::{ImportSummary, import_file};
pub use state::{Index, Outcome, PersonState};
pub use submission::{Rejection, Submission, parse_line, parse_value};

/// File name of the event store inside the data folder.
pub const STORE_FILE: &str = "registry.sqlite";
const LOCK_FILE: &str = "writer.lock";

/// Why the registry could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} already holds a registry")]
    AlreadyInitialized(PathBuf),
    #[error("no registry at {0}: run `dmf init --data {0}` first")]
    NotInitialized(PathBuf),
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is being written by another process")]
    Busy(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {seq}: {source}")]
    Decode { seq: Seq, source: DecodeError },
    #[error("the store moved under the writer: expected event {expected}, got {got}")]
    Sequence { expected: Seq, got: Seq },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
}

/// An accepted submission: where it was stored and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub seq: Seq,
    pub outcome: Outcome,
}

/// The writer's side: the lock, and the states of the SSNs it has seen.
#[derive(Debug)]
struct Writer {
    /// States known to the writer; with `complete`, every SSN with events is in it.
    index: Option<Index>,
    complete: bool,
    lock: Option<File>,
    /// States a batch changes, merged into `index` once the batch is durable; kept between
    /// batches so that its memory is reused rather than allocated and faulted in again.
    overlay: HashMap<u32, PersonState>,
}

/// A registry in a data folder.
pub struct Registry {
    dir: PathBuf,
    store: Arc<SqliteStore>,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("dir", &self.dir).finish()
    }
}

impl Registry {
    /// Creates a new, empty registry in `dir` (created if missing).
    pub fn init(dir: &Path) -> Result<Registry, RegistryError> {
        let store = dir.join(STORE_FILE);
        if store.exists() {
            return Err(RegistryError::AlreadyInitialized(dir.to_owned()));
        }
        std::fs::create_dir_all(dir).map_err(|source| RegistryError::Create {
            path: dir.to_owned(),
            source,
        })?;
        Registry::at(dir, SqliteStore::open(&store)?)
    }

    /// Opens the registry in `dir`.
    pub fn open(dir: &Path) -> Result<Registry, RegistryError> {
        let store = dir.join(STORE_FILE);
        if !store.is_file() {
            return Err(RegistryError::NotInitialized(dir.to_owned()));
        }
        Registry::at(dir, SqliteStore::open(&store)?)
    }

    fn at(dir: &Path, store: SqliteStore) -> Result<Registry, RegistryError> {
        Ok(Registry {
            dir: dir.to_owned(),
            store: Arc::new(store),
            writer: Mutex::new(Writer {
                index: None,
                complete: false,
                lock: None,
                overlay: HashMap::new(),
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// Checks the store file and that every event decodes and applies.
    pub fn check(&self) -> Result<Index, RegistryError> {
        self.store.integrity_check()?;
        self.load_index()
    }

    /// The writer, holding the data folder's lock and the loaded current state.
    fn writer(&self) -> Result<MutexGuard<'_, Writer>, RegistryError> {
        let mut w = self.writer.lock().expect("writer lock");
        if w.lock.is_none() {
            let path = self.dir.join(LOCK_FILE);
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|source| RegistryError::Create {
                    path: path.clone(),
                    source,
                })?;
            file.try_lock()
                .map_err(|_| RegistryError::Busy(self.dir.clone()))?;
            w.lock = Some(file);
        }
        if w.index.is_none() {
            // States are read per SSN as needed; an empty store is complete already.
            let head = self.store.head()?;
            let mut index = Index::default();
            index.head = head;
            w.index = Some(index);
            w.complete = head == 0;
        }
        Ok(w)
    }

    /// Rebuilds the current state of everyone from all events.
    pub fn load_index(&self) -> Result<Index, RegistryError> {
        let mut index = Index::default();
        let mut after = 0;
        loop {
            let page = self.store.read_after(after, 50_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                let event = decode(&e.kind, &e.body)
                    .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                index.apply(e.seq, &event);
            }
        }
        Ok(index)
    }

    /// Checks, stores and applies submissions in order. Each is accepted or refused on its
    /// own; the accepted ones are durable when this returns.
    pub fn submit(
        &self,
        subs: Vec<Submission>,
        recorded_at: i64,
    ) -> Result<Vec<Result<Accepted, Rejection>>, RegistryError> {
        self.submit_batch(subs, None, recorded_at)
    }

    /// As [`Registry::submit`]; a batch whose `batch_key` was stored before is skipped whole.
    pub fn submit_batch(
        &self,
        subs: Vec<Submission>,
        batch_key: Option<String>,
        recorded_at: i64,
    ) -> Result<Vec<Result<Accepted, Rejection>>, RegistryError> {
        let mut w = self.writer()?;
        if let Some(key) = &batch_key
            && let Some(seq) = self.store.seq_of_key(key)?
        {
            return Ok(subs
                .iter()
                .map(|_| {
                    Ok(Accepted {
                        seq,
                        outcome: Outcome::Duplicate,
                    })
                })
                .collect());
        }
        let complete = w.complete;
        let index = w.index.as_mut().expect("loaded");
        let head = self.store.head()?;
        if head != index.head {
            return Err(RegistryError::Sequence {
                expected: index.head,
                got: head,
            });
        }
        let mut overlay = std::mem::take(&mut w.overlay);
        overlay.clear();
        let index = w.index.as_mut().expect("loaded");
        let mut keys: HashMap<String, Seq> = HashMap::new();
        let mut events = Vec::new();
        let mut results = Vec::with_capacity(subs.len());
        for sub in subs {
            if let Some(key) = &sub.idempotency_key {
                let seen = match keys.get(key) {
                    Some(&seq) => Some(seq),
                    None => self.store.seq_of_key(key)?,
                };
                if let Some(seq) = seen {
                    results.push(Ok(Accepted {
                        seq,
                        outcome: Outcome::Duplicate,
                    }));
                    continue;
                }
            }
            let ssn = sub.event.ssn();
            if let std::collections::hash_map::Entry::Vacant(e) = overlay.entry(ssn.as_u32()) {
                let known = match index.get(ssn) {
                    Some(state) => state.clone(),
                    None if complete => PersonState::default(),
                    None => self.state_of(ssn)?.unwrap_or_default(),
                };
                e.insert(known);
            }
            let state = overlay.get_mut(&ssn.as_u32()).expect("inserted");
            if let Err(rejection) = state.check(ssn, &sub.event) {
                results.push(Err(rejection));
                continue;
            }
            let seq = head + 1 + events.len() as Seq;
            let outcome = state.apply(seq, &sub.event);
            let key = sub.idempotency_key.or_else(|| {
                if events.is_empty() {
                    batch_key.clone()
                } else {
                    None
                }
            });
            if let Some(k) = &key {
                keys.insert(k.clone(), seq);
            }
            events.push(NewEvent {
                kind: sub.event.kind().to_owned(),
                subject: Some(ssn.as_u32()),
                idempotency_key: key,
                recorded_at,
                body: encode(&sub.event),
            });
            results.push(Ok(Accepted { seq, outcome }));
        }
        let appended = self.store.append(&events)?;
        for (i, a) in appended.iter().enumerate() {
            let expected = head + 1 + i as Seq;
            if *a != Appended::New(expected) {
                // Nothing else may write while the lock is held: reload from the store.
                w.index = None;
                return Err(RegistryError::Sequence {
                    expected,
                    got: a.seq(),
                });
            }
        }
        let index = w.index.as_mut().expect("loaded");
        index.merge(&mut overlay, head + events.len() as Seq);
        w.overlay = overlay;
        Ok(results)
    }

    /// One person's events, decoded, in order.
    pub fn history(&self, ssn: Ssn) -> Result<Vec<(StoredEvent, Event)>, RegistryError> {
        self.store
            .read_subject(ssn.as_u32())?
            .into_iter()
            .map(|e| {
                let event = decode(&e.kind, &e.body)
                    .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                Ok((e, event))
            })
            .collect()
    }

    /// One person's current state, rebuilt from that person's events.
    pub fn state_of(&self, ssn: Ssn) -> Result<Option<PersonState>, RegistryError> {
        let history = self.history(ssn)?;
        if history.is_empty() {
            return Ok(None);
        }
        let mut state = PersonState::default();
        for (stored, event) in &history {
            state.apply(stored.seq, event);
        }
        Ok(Some(state))
    }
}

#[cfg(test)]
mod tests;
