//! The registry in a data folder: the single writer that checks events against the intake
//! rules, stores them with their MACs and hands each durable batch to the ledger; and the
//! readers that rebuild a person's state from that person's events.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use dmf_model::Ssn;
use dmf_store::{Appended, EventStore, NewEvent, Seq, SqliteStore, StoreError, StoredEvent};

use dmf_ledger::appender::Appender;
use dmf_ledger::leaf::{LeafError, LeafKey};
use dmf_ledger::log::{self, LogError, LogWriter};
use dmf_ledger::mac::{MacFault, MacKey};
use dmf_ledger::{Ledger, LedgerError};

use crate::codec::{DecodeError, decode, encode};
use crate::event::Event;
use crate::index::Index;
use crate::public;
use crate::snapshot::{self, SnapshotError};
use crate::state::{Outcome, PersonState};
use crate::submission::{Rejection, Submission};

/// File name of the event store inside the data folder.
pub const STORE_FILE: &str = "registry.sqlite";
const LOCK_FILE: &str = "writer.lock";
/// Where `dmf mirror` keeps its position in the registry it follows: a data folder holding it
/// is a mirror, which holds deaths, not numberholders.
pub const MIRROR_FILE: &str = "mirror.json";
/// The answer index's snapshot in the data folder (see [`crate::snapshot`]).
pub const SNAPSHOT_FILE: &str = "index.snapshot";

/// How [`Registry::open_index`] loaded the index.
#[derive(Debug)]
pub struct IndexStart {
    /// The tree size of the snapshot it started from, if it started from one.
    pub snapshot: Option<Seq>,
    /// Events applied after the snapshot (or all of them, rebuilt).
    pub replayed: u64,
    /// Why the snapshot there was not used, if there was one and it was refused.
    pub refused: Option<SnapshotError>,
}

impl std::fmt::Display for IndexStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.snapshot, &self.refused) {
            (Some(size), _) => write!(
                f,
                "from the snapshot at tree size {size}, {} events after it replayed",
                self.replayed
            ),
            (None, Some(why)) => write!(
                f,
                "rebuilt from {} events: the snapshot was refused: {why}",
                self.replayed
            ),
            (None, None) => write!(f, "rebuilt from {} events (no snapshot)", self.replayed),
        }
    }
}

/// Why the registry could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0} already holds a registry")]
    AlreadyInitialized(PathBuf),
    #[error("no registry at {0}: run `dmf init --data {0}` first")]
    NotInitialized(PathBuf),
    #[error(
        "{0} is a registry whose events are in PostgreSQL: give --database URL or DMF_DATABASE_URL"
    )]
    EventsInDatabase(PathBuf),
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is being written by another process")]
    Busy(PathBuf),
    #[error("the database already holds a registry ({0} events)")]
    DatabaseInUse(Seq),
    #[error("the data folder {dir} does not belong to this database: {reason}")]
    Mismatch { dir: PathBuf, reason: String },
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
    #[error(
        "{dir} can be read by other users (mode {mode:o}): it holds personal data; run `chmod 700 {dir}`"
    )]
    Exposed { dir: PathBuf, mode: u32 },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Leaf(#[from] LeafError),
    #[error(
        "event {seq} is not the registry writer's: {fault} (a row put into the store behind its back?); it is neither applied nor signed: `dmf audit verify` names every such event"
    )]
    Unauthenticated { seq: Seq, fault: MacFault },
    #[error(
        "the store's events carry MACs but {0} has no {mac}: copy it from the data folder of the node that wrote them",
        mac = log::MAC_KEY_FILE
    )]
    MacKeyMissing(PathBuf),
    #[error("index snapshot {path}: {source}")]
    Snapshot {
        path: PathBuf,
        source: crate::snapshot::SnapshotError,
    },
    #[error(
        "the index is at event {head} but the log is signed at {signed}: a snapshot is taken at a signed checkpoint only"
    )]
    SnapshotUnsigned { head: Seq, signed: Seq },
}

impl From<LedgerError> for RegistryError {
    // Each of the ledger's errors is the registry's of the same name and wording.
    fn from(e: LedgerError) -> RegistryError {
        match e {
            LedgerError::Store(e) => RegistryError::Store(e),
            LedgerError::Log(e) => RegistryError::Log(e),
            LedgerError::Leaf(e) => RegistryError::Leaf(e),
            LedgerError::Unauthenticated { seq, fault } => {
                RegistryError::Unauthenticated { seq, fault }
            }
            LedgerError::Read { path, source } => RegistryError::Read { path, source },
            LedgerError::Write { path, source } => RegistryError::Write { path, source },
            LedgerError::Input { path, reason } => RegistryError::Input { path, reason },
        }
    }
}

/// An accepted submission: where it was stored and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub seq: Seq,
    pub outcome: Outcome,
}

/// The writer's side: the lock, and the states of the SSNs it has seen.
#[derive(Debug)]
pub(crate) struct Writer {
    /// States known to the writer; with `complete`, every SSN with events is in it.
    pub(crate) index: Option<Index>,
    pub(crate) complete: bool,
    lock: Option<File>,
    /// States a batch changes, merged into `index` once the batch is durable; kept between
    /// batches so that its memory is reused rather than allocated and faulted in again.
    overlay: HashMap<u32, PersonState>,
    /// The Merkle log, extended and signed after every durable batch.
    appender: Appender,
    /// The last event the writer knows of, with its MAC as stored: the next event's MAC follows
    /// it.
    tip: Option<(Seq, Option<Vec<u8>>)>,
    /// Set by [`Registry::defer_log`]: batches are stored on a thread of their own.
    deferred: bool,
    /// With `deferred`, the last batch checked, being stored while the next is checked.
    storing: Option<Storing>,
}

/// A checked batch out on its thread, being stored (see [`Registry::defer_log`]).
#[derive(Debug)]
struct Storing {
    /// The sequence number of its first event.
    first: Seq,
    /// The keys it stores, with their events: found here until the store has them.
    keys: HashMap<String, Seq>,
    handle: JoinHandle<StoredBatch>,
}

/// A batch's events, and what the store made of them.
type StoredBatch = (Vec<NewEvent>, Result<Vec<Appended>, StoreError>);

impl Drop for Writer {
    fn drop(&mut self) {
        // A failure here is caught up from the events at the next open.
        // The store's and the log's work on the last batch end before the lock is released.
        if let Some(storing) = self.storing.take() {
            let _ = storing.handle.join();
        }
        let _ = self.appender.settle();
    }
}

/// A registry in a data folder.
pub struct Registry {
    dir: PathBuf,
    store: Arc<dyn EventStore>,
    ledger: Ledger,
    writer: Mutex<Writer>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("dir", &self.dir).finish()
    }
}

impl Registry {
    /// Creates a new, empty registry in `dir` (created if missing), with the keys of its log.
    /// `origin` names the log in its checkpoints; by default `dmf-registry/` and 8 random hex
    /// digits.
    pub fn init(dir: &Path, origin: Option<&str>) -> Result<Registry, RegistryError> {
        let store = dir.join(STORE_FILE);
        if store.exists() || dir.join(log::LOG_DIR).exists() {
            return Err(RegistryError::AlreadyInitialized(dir.to_owned()));
        }
        create_dir(dir)?;
        Registry::create(dir, origin, Arc::new(SqliteStore::open(&store)?))
    }

    /// Creates a new registry whose events live in `store` (an empty database) and whose keys
    /// and log files live in `dir`.
    pub fn init_with(
        dir: &Path,
        origin: Option<&str>,
        store: Arc<dyn EventStore>,
    ) -> Result<Registry, RegistryError> {
        if dir.join(STORE_FILE).exists() || dir.join(log::LOG_DIR).exists() {
            return Err(RegistryError::AlreadyInitialized(dir.to_owned()));
        }
        let head = store.head()?;
        if head > 0 || store.latest_checkpoint()?.is_some() {
            return Err(RegistryError::DatabaseInUse(head));
        }
        create_dir(dir)?;
        Registry::create(dir, origin, store)
    }

    fn create(
        dir: &Path,
        origin: Option<&str>,
        store: Arc<dyn EventStore>,
    ) -> Result<Registry, RegistryError> {
        let origin = match origin {
            Some(o) => o.to_owned(),
            None => {
                let mut b = [0u8; 4];
                getrandom::fill(&mut b).map_err(|e| RegistryError::Create {
                    path: dir.to_owned(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                format!("dmf-registry/{}", log::hex(&b))
            }
        };
        log::create(dir, &origin)?;
        let registry = Registry::at(dir, store, log::read_mac_key(dir)?);
        // The empty tree's checkpoint: the log exists from the start.
        let mut log = LogWriter::open(dir)?;
        log.sign()?;
        registry.ledger.publish(&log)?;
        Ok(registry)
    }

    /// Opens the registry in `dir`, refusing a store rolled back behind its log or holding an
    /// event beyond the signed log that is not the writer's (see [`Registry::check_tail`]).
    pub fn open(dir: &Path) -> Result<Registry, RegistryError> {
        let registry = Registry::open_for_audit(dir)?;
        registry.check_tail()?;
        Ok(registry)
    }

    /// Opens the registry in `dir` as it is, for the audit to say what is wrong with it. A store
    /// of the previous schema is upgraded first, unless it holds events beyond the signed log.
    pub fn open_for_audit(dir: &Path) -> Result<Registry, RegistryError> {
        let path = dir.join(STORE_FILE);
        if !path.is_file() {
            // Keys and log files without the embedded store: `init --database` made it.
            if dir.join(log::LOG_DIR).is_dir() {
                return Err(RegistryError::EventsInDatabase(dir.to_owned()));
            }
            return Err(RegistryError::NotInitialized(dir.to_owned()));
        }
        private_dir(dir)?;
        let signed = log::LogFiles::open(dir)?
            .latest()?
            .map_or(0, |s| s.checkpoint.size);
        SqliteStore::upgrade(&path, |head| unsigned_before_macs(head, signed))?;
        let store: Arc<dyn EventStore> = Arc::new(SqliteStore::open(&path)?);
        let mac_key = mac_key_for(dir, store.as_ref())?;
        Ok(Registry::at(dir, store, mac_key))
    }

    /// Opens a registry whose events live in `store`, with its keys and log files in `dir`.
    /// The folder must be this database's: its public key must verify the database's latest
    /// checkpoint. Refuses what [`Registry::open`] refuses.
    pub fn open_with(dir: &Path, store: Arc<dyn EventStore>) -> Result<Registry, RegistryError> {
        let registry = Registry::open_with_for_audit(dir, store)?;
        registry.check_tail()?;
        Ok(registry)
    }

    /// As [`Registry::open_with`], without the checks of [`Registry::check_tail`]: for the audit.
    pub fn open_with_for_audit(
        dir: &Path,
        store: Arc<dyn EventStore>,
    ) -> Result<Registry, RegistryError> {
        if dir.join(STORE_FILE).exists() {
            return Err(RegistryError::Mismatch {
                dir: dir.to_owned(),
                reason: format!("it holds an embedded store ({STORE_FILE})"),
            });
        }
        if !dir.join(log::LOG_DIR).is_dir() {
            return Err(RegistryError::NotInitialized(dir.to_owned()));
        }
        private_dir(dir)?;
        let files = log::LogFiles::open(dir)?;
        if let Some((size, note)) = store.latest_checkpoint()? {
            dmf_log::open_checkpoint(&note, &files.verifier).map_err(|e| {
                RegistryError::Mismatch {
                    dir: dir.to_owned(),
                    reason: format!(
                        "its key does not verify the database's checkpoint of size {size}: {e}"
                    ),
                }
            })?;
        }
        let mac_key = mac_key_for(dir, store.as_ref())?;
        Ok(Registry::at(dir, store, mac_key))
    }

    fn at(dir: &Path, store: Arc<dyn EventStore>, mac_key: MacKey) -> Registry {
        Registry {
            dir: dir.to_owned(),
            ledger: Ledger::new(dir, store.clone(), mac_key, public::leaf_fields),
            store,
            writer: Mutex::new(Writer {
                index: None,
                complete: false,
                lock: None,
                overlay: HashMap::new(),
                appender: Appender::new(public::leaf_fields),
                tip: None,
                deferred: false,
                storing: None,
            }),
        }
    }

    /// Refuses a store that the log shows was rolled back (it holds fewer events than the log
    /// signed or hashed), and any event beyond the signed log that does not carry the writer's
    /// MAC: a row put into the store behind the registry's back, which nothing else would tell
    /// from the batch of a writer that stopped before signing.
    pub fn check_tail(&self) -> Result<(), RegistryError> {
        Ok(self.ledger.check_tail()?)
    }

    /// The size of the largest checkpoint signed: the log's own, or one another node published
    /// in a shared store (if it verifies with the log's key).
    pub fn signed_size(&self) -> Result<Seq, RegistryError> {
        Ok(self.ledger.signed_size()?)
    }

    /// Up to `limit` events after `after`, each checked against its MAC and the stored MAC of
    /// the event before: the first that is not the writer's is an error naming it.
    pub fn read_checked(
        &self,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, RegistryError> {
        Ok(self.ledger.read_checked(after, limit)?)
    }

    /// A registry over an empty store whose log keys a restore has put in `dir`; the events are
    /// appended next, then [`Registry::sign_now`] rebuilds the log.
    pub fn adopt(dir: &Path, store: Arc<dyn EventStore>) -> Result<Registry, RegistryError> {
        let head = store.head()?;
        if head > 0 {
            return Err(RegistryError::DatabaseInUse(head));
        }
        log::LogFiles::open(dir)?;
        let mac_key = log::read_mac_key(dir)?;
        Ok(Registry::at(dir, store, mac_key))
    }

    /// Extends the log to the store's last event and signs it, as the only signer.
    pub fn sign_now(&self) -> Result<(), RegistryError> {
        Ok(self.ledger.sign_now()?)
    }

    /// The log of this registry's events.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// True when other processes may write the same store.
    pub fn shared(&self) -> bool {
        self.store.shared()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A subscriber's mirror of another registry's feed: it holds deaths, not numberholders.
    pub fn is_mirror(&self) -> bool {
        self.dir.join(MIRROR_FILE).exists()
    }

    pub fn store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// The store, to share with another registry handle or a follower.
    pub fn store_arc(&self) -> Arc<dyn EventStore> {
        self.store.clone()
    }

    /// Checks the store file and that every event decodes and applies.
    pub fn check(&self) -> Result<Index, RegistryError> {
        self.store.integrity_check()?;
        self.rebuild_index()
    }

    /// The writer, holding the data folder's lock and the loaded current state.
    pub(crate) fn writer(&self) -> Result<MutexGuard<'_, Writer>, RegistryError> {
        let mut w = self.writer.lock().expect("writer lock");
        if w.lock.is_none() && !self.store.shared() {
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
            if self.store.shared() {
                // What other nodes appended since the open is checked before it is built on.
                self.check_tail()?;
            }
            // States are read per SSN as needed; an empty store is complete already.
            let head = self.store.head()?;
            let mut index = Index::default();
            index.head = head;
            w.index = Some(index);
            w.complete = head == 0;
        }
        // A log out on its thread (see `defer_log`) is busy, not missing.
        if !self.store.shared() {
            w.appender.open(&self.ledger)?;
        }
        Ok(w)
    }

    /// With a shared store: signs what others have not, if no other process is signing now
    /// (or, with `wait`, once it has finished). Returns whether this process signed.
    pub fn sign_pending(&self, wait: bool) -> Result<bool, RegistryError> {
        Ok(self.ledger.sign_pending(wait)?)
    }

    /// The MAC key every event is written with.
    pub fn mac_key(&self) -> &MacKey {
        self.ledger.mac_key()
    }

    /// The leaf key, for recomputing leaves (owner-only file).
    pub fn leaf_key(&self) -> Result<LeafKey, RegistryError> {
        Ok(self.ledger.leaf_key()?)
    }

    /// The current state of everyone: from the index snapshot if one is good (see
    /// [`Registry::open_index`]), else rebuilt from every event.
    pub fn load_index(&self) -> Result<Index, RegistryError> {
        Ok(self.open_index()?.0)
    }

    /// Rebuilds the current state of everyone from all events, ignoring any snapshot.
    pub fn rebuild_index(&self) -> Result<Index, RegistryError> {
        let mut index = Index::default();
        self.replay(&mut index)?;
        Ok(index)
    }

    /// Applies every event after the index's head.
    fn replay(&self, index: &mut Index) -> Result<u64, RegistryError> {
        let mut after = index.head;
        let mut applied = 0;
        loop {
            let page = self.store.read_after(after, 50_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                let event = decode(&e.kind, &e.body)
                    .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                index.apply(e.seq, &event);
            }
            applied += page.len() as u64;
        }
        Ok(applied)
    }

    /// Where the index snapshot of this data folder is kept.
    pub fn snapshot_path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_FILE)
    }

    /// The current state of everyone, and how it was loaded: from the snapshot, with the events
    /// after it replayed, when the snapshot is of this format, whole, made with this data
    /// folder's secret, no larger than the store and at a tree size and root the log signed;
    /// otherwise rebuilt from every event, with the reason the snapshot was refused. A shared
    /// store's nodes rebuild (their data folders hold no log of their own).
    pub fn open_index(&self) -> Result<(Index, IndexStart), RegistryError> {
        let path = self.snapshot_path();
        let refused = if self.store.shared() {
            None
        } else {
            match self.read_snapshot(&path) {
                Ok(Some(mut index)) => {
                    let from = index.head;
                    let replayed = self.replay(&mut index)?;
                    let start = IndexStart {
                        snapshot: Some(from),
                        replayed,
                        refused: None,
                    };
                    return Ok((index, start));
                }
                Ok(None) => None,
                Err(e) => Some(e),
            }
        };
        let mut index = Index::default();
        let replayed = self.replay(&mut index)?;
        Ok((
            index,
            IndexStart {
                snapshot: None,
                replayed,
                refused,
            },
        ))
    }

    /// The snapshot at `path` if there is one and it is good for this store and log.
    fn read_snapshot(&self, path: &Path) -> Result<Option<Index>, SnapshotError> {
        let Some(header) = snapshot::read_header(path)? else {
            return Ok(None);
        };
        let head = self
            .store
            .head()
            .map_err(|e| SnapshotError::Corrupt(e.to_string()))?;
        if header.size > head {
            return Err(SnapshotError::Ahead {
                size: header.size,
                head,
            });
        }
        let signed = log::LogFiles::open(&self.dir)
            .and_then(|files| files.history())
            .map_err(|e| SnapshotError::Corrupt(format!("the log's checkpoints: {e}")))?;
        let matches = signed
            .iter()
            .any(|s| s.checkpoint.size == header.size && s.checkpoint.root == header.root);
        if !matches {
            return Err(SnapshotError::Root {
                size: header.size,
                root: log::hex(&header.root),
            });
        }
        let (_, index) = snapshot::read_file(path, self.mac_key())?;
        Ok(Some(index))
    }

    /// Writes `index` as this data folder's snapshot. The index must be at the log's latest
    /// signed checkpoint (the snapshot is tied to its size and root).
    pub fn write_snapshot(&self, index: &Index) -> Result<snapshot::Written, RegistryError> {
        let latest = log::LogFiles::open(&self.dir)?.latest()?;
        let signed = latest.as_ref().map_or(0, |s| s.checkpoint.size);
        let Some(latest) = latest.filter(|_| signed == index.head) else {
            return Err(RegistryError::SnapshotUnsigned {
                head: index.head,
                signed,
            });
        };
        let path = self.snapshot_path();
        snapshot::write(
            &path,
            index,
            latest.checkpoint.size,
            latest.checkpoint.root,
            self.mac_key(),
        )
        .map_err(|source| RegistryError::Snapshot { path, source })
    }

    /// Writes a snapshot of the writer's index, if it holds everyone (a registry whose events
    /// all went through this handle, as after an import into an empty store), waiting for the
    /// log first. `None` when the writer's index is partial.
    pub fn snapshot_writer_index(&self) -> Result<Option<snapshot::Written>, RegistryError> {
        self.defer_log(false)?;
        let w = self.writer()?;
        match (&w.index, w.complete) {
            (Some(index), true) => self.write_snapshot(index).map(Some),
            _ => Ok(None),
        }
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
        // Other processes append to a shared store: hold them off, then catch up.
        let guard = self.store.lock_appends()?;
        if subs.iter().any(|s| s.idempotency_key.is_some()) {
            // Keys are looked up one by one in the store: it must hold every batch checked.
            self.settle_store(&mut w)?;
        }
        let stored_before = |key: &str| match w.storing.as_ref().and_then(|s| s.keys.get(key)) {
            Some(&seq) => Ok(Some(seq)),
            None => self.store.seq_of_key(key),
        };
        if let Some(key) = &batch_key
            && let Some(seq) = stored_before(key)?
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
        // A batch out on its thread is the head already (its states are merged).
        let head = match &w.storing {
            Some(_) => w.index.as_ref().expect("loaded").head,
            None => self.store.head()?,
        };
        if self.store.shared() {
            self.follow(&mut w, head)?;
        }
        let index = w.index.as_mut().expect("loaded");
        if head != index.head {
            return Err(RegistryError::Sequence {
                expected: index.head,
                got: head,
            });
        }
        // The MAC of event `head`, which the batch's first MAC follows.
        let head_mac = match w.tip.take() {
            Some((seq, mac)) if seq == head => mac,
            _ => self.ledger.stored_mac(head)?,
        };
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
            if let Err(violation) = state.check(ssn, &sub.event) {
                results.push(Err(Rejection::from(violation)));
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
            let kind = sub.event.kind();
            let body = encode(&sub.event);
            let prev = events
                .last()
                .map_or(head_mac.as_deref(), |e: &NewEvent| e.mac.as_deref());
            let mac = self.ledger.mac_key().of(
                prev,
                dmf_ledger::leaf::EventRef {
                    seq,
                    kind,
                    subject: Some(ssn.as_u32()),
                    idempotency_key: key.as_deref(),
                    recorded_at,
                    body: &body,
                },
            );
            events.push(NewEvent {
                kind: kind.to_owned(),
                subject: Some(ssn.as_u32()),
                idempotency_key: key,
                recorded_at,
                body,
                mac: Some(mac.to_vec()),
            });
            results.push(Ok(Accepted { seq, outcome }));
        }
        if w.deferred && !self.store.shared() {
            // Stored on a thread of its own while the caller makes the next batch and this
            // thread checks it; the store's order is the batches' (the last one is in first).
            drop(guard);
            self.settle_store(&mut w)?;
            let end = head + events.len() as Seq;
            let tip_mac = events.last().map_or(head_mac, |e| e.mac.clone());
            if !events.is_empty() {
                let store = self.store.clone();
                w.storing = Some(Storing {
                    first: head + 1,
                    keys,
                    handle: std::thread::spawn(move || {
                        let appended = store.append(&events);
                        (events, appended)
                    }),
                });
            }
            let index = w.index.as_mut().expect("loaded");
            index.merge(&mut overlay, end);
            w.overlay = overlay;
            w.tip = Some((end, tip_mac));
            return Ok(results);
        }
        let appended = self.store.append(&events)?;
        drop(guard);
        if let Err(e) = check_appended(head + 1, &appended) {
            // Nothing else may write while the lock is held: reload from the store.
            w.index = None;
            return Err(e);
        }
        let index = w.index.as_mut().expect("loaded");
        index.merge(&mut overlay, head + events.len() as Seq);
        w.overlay = overlay;
        let tip_mac = events.last().map_or(head_mac, |e| e.mac.clone());
        w.tip = Some((head + events.len() as Seq, tip_mac));
        if self.store.shared() {
            drop(w);
            if !events.is_empty() {
                self.sign_pending(false)?;
            }
            return Ok(results);
        }
        w.appender.append(&self.ledger, head + 1, events)?;
        Ok(results)
    }

    /// With `true`, later batches return once checked: each is stored on a thread of its own
    /// while the next is checked, then its log is extended and signed on another while the next
    /// is stored (a bulk import keeps both cores busy). A batch that fails to store is reported
    /// by the next call, which stores nothing. With `false`, waits for that work and reports its
    /// failure. Either way every event is durable and in the signed log once this returns with
    /// `false`, and a crash in between is caught up from the events at the next open.
    pub fn defer_log(&self, deferred: bool) -> Result<(), RegistryError> {
        let mut w = self.writer.lock().expect("writer lock");
        w.deferred = deferred;
        let stored = if deferred {
            Ok(())
        } else {
            self.settle_store(&mut w)
        };
        // The log settles even when the last batch failed: what it has is signed.
        let logged = w.appender.defer(deferred);
        stored?;
        Ok(logged?)
    }

    /// Waits for the batch out on its thread, checks that the store put it where the writer
    /// did, and hands it to the log. On failure what the writer applied is read again from
    /// the store, which holds whole batches only.
    fn settle_store(&self, w: &mut Writer) -> Result<(), RegistryError> {
        let Some(storing) = w.storing.take() else {
            return Ok(());
        };
        let (events, appended) = storing
            .handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let stored = appended
            .map_err(RegistryError::from)
            .and_then(|a| check_appended(storing.first, &a));
        if let Err(e) = stored {
            w.index = None;
            w.tip = None;
            return Err(e);
        }
        w.appender.append(&self.ledger, storing.first, events)?;
        Ok(())
    }

    /// Applies what other processes appended since the writer's index was current.
    fn follow(&self, w: &mut Writer, head: Seq) -> Result<(), RegistryError> {
        let Writer {
            index,
            complete,
            tip,
            ..
        } = w;
        let index = index.as_mut().expect("loaded");
        while index.head < head {
            // Only what a writer wrote is applied (and built on).
            let page = self.read_checked(index.head, 10_000)?;
            let Some(last) = page.last() else { break };
            *tip = Some((last.seq, last.mac.clone()));
            for e in &page {
                let event = decode(&e.kind, &e.body)
                    .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                if *complete {
                    index.apply(e.seq, &event);
                } else {
                    index.apply_if_known(e.seq, &event);
                }
            }
        }
        Ok(())
    }

    /// The event stored under `seq`, decoded, if there is one.
    pub fn event(&self, seq: Seq) -> Result<Option<(StoredEvent, Event)>, RegistryError> {
        let Some(after) = seq.checked_sub(1) else {
            return Ok(None);
        };
        let Some(e) = self
            .store
            .read_after(after, 1)?
            .into_iter()
            .find(|e| e.seq == seq)
        else {
            return Ok(None);
        };
        let event =
            decode(&e.kind, &e.body).map_err(|source| RegistryError::Decode { seq, source })?;
        Ok(Some((e, event)))
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

/// Checks that a batch whose first event the writer numbered `first` was stored so, event
/// after event.
fn check_appended(first: Seq, appended: &[Appended]) -> Result<(), RegistryError> {
    for (i, a) in appended.iter().enumerate() {
        let expected = first + i as Seq;
        if *a != Appended::New(expected) {
            return Err(RegistryError::Sequence {
                expected,
                got: a.seq(),
            });
        }
    }
    Ok(())
}

/// Whether a store of the previous schema may be upgraded: only when the signed log covers all
/// its events, which carry no MAC. One beyond could be a crashed writer's unsigned batch or a
/// row put in behind its back, and nothing can tell which; the previous version signs it at its
/// next open.
fn unsigned_before_macs(head: Seq, signed: Seq) -> Result<(), String> {
    if head <= signed {
        return Ok(());
    }
    Err(format!(
        "events {} to {head} lie beyond the signed log ({signed} events) and carry no MAC: sign them with the previous version of dmf (open the registry once with it), then upgrade",
        signed + 1
    ))
}

/// The data folder's MAC key. A folder made before events carried a MAC gets one, unless the
/// store already holds events with a MAC (another node's key wrote them).
fn mac_key_for(dir: &Path, store: &dyn EventStore) -> Result<MacKey, RegistryError> {
    if !dir.join(log::LOG_DIR).join(log::MAC_KEY_FILE).exists() {
        let head = store.head()?;
        let last = match head.checked_sub(1) {
            Some(before) => store.read_after(before, 1)?.pop(),
            None => None,
        };
        if last.is_some_and(|e| e.mac.is_some()) {
            return Err(RegistryError::MacKeyMissing(dir.join(log::LOG_DIR)));
        }
        log::create_mac_key(dir)?;
    }
    Ok(log::read_mac_key(dir)?)
}

/// Creates a data folder (and any parents missing) for its owner alone.
fn create_dir(dir: &Path) -> Result<(), RegistryError> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |source| RegistryError::Create {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)
}

/// Refuses a data folder other users can read or enter: everything in it is personal data.
pub fn private_dir(dir: &Path) -> Result<(), RegistryError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .map_err(|source| RegistryError::Read {
            path: dir.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(RegistryError::Exposed {
            dir: dir.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Milliseconds since 1970 now: when an event is recorded.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Today's date in UTC, from the system clock.
pub fn today_utc() -> dmf_model::Date {
    day_of_ms(now_ms()).expect("the clock is within 1800-2199")
}

/// The UTC day of a time in milliseconds since 1970 (an event's `recorded_at`).
pub fn day_of_ms(ms: i64) -> Option<dmf_model::Date> {
    dmf_model::Date::from_days_since_epoch(ms.div_euclid(86_400_000) as i32)
}
