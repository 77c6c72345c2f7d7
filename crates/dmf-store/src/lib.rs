//! Append-only event storage: the narrow [`EventStore`] trait every backend implements, a
//! conformance suite any backend must pass, group commit on top of any backend, the
//! embedded SQLite backend, and the portable dump that moves a store's events between backends.
//!
//! A store keeps opaque event bodies in one gap-free sequence. It knows nothing of what an
//! event means: the registry encodes and decodes them, and makes and checks the MAC each
//! carries, which the store keeps as opaque bytes too. Nothing stored is ever changed or
//! removed; a store refuses to do so even when asked directly.

pub mod conformance;
pub mod dump;
mod group;
mod sqlite;

pub use group::GroupCommit;
pub use sqlite::{
    MAX_PAGES_VAR, SCHEMA_VERSION, SqliteStore, VersionedError, open_upgrading, open_versioned,
};

/// Position of an event in the sequence; the first event is 1 (the model's, where the rules
/// find it too).
pub use dmf_model::Seq;

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The event type, for example `death_report`.
    pub kind: String,
    /// The SSN the event is about, as a number, for lookups by person.
    pub subject: Option<u32>,
    /// A key under which a retry of the same submission is recognised and not stored again.
    pub idempotency_key: Option<String>,
    /// When the registry received it: milliseconds since 1970-01-01 UTC.
    pub recorded_at: i64,
    /// The encoded event.
    pub body: Vec<u8>,
    /// The writer's authentication of the event, opaque to the store; `None` only for events
    /// written before stores kept one.
    pub mac: Option<Vec<u8>>,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: Seq,
    pub kind: String,
    pub subject: Option<u32>,
    pub idempotency_key: Option<String>,
    pub recorded_at: i64,
    pub body: Vec<u8>,
    pub mac: Option<Vec<u8>>,
}

/// What happened to one event of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored under this sequence number.
    New(Seq),
    /// Its idempotency key was seen before, at this sequence number: nothing was stored.
    Duplicate(Seq),
}

impl Appended {
    pub fn seq(self) -> Seq {
        match self {
            Appended::New(seq) | Appended::Duplicate(seq) => seq,
        }
    }
}

/// Why a store could not do what was asked. Nothing of a failed append is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the store at {path} is not a dmf store (or is damaged): {reason}")]
    NotAStore { path: String, reason: String },
    #[error("the store failed: {0}")]
    Backend(String),
    #[error(
        "the disk is full ({0}): nothing of this write was stored; free space and run it again"
    )]
    Full(String),
    #[error("the store file is damaged ({0}): restore it from a dump or a copy")]
    Damaged(String),
    #[error("the store writer has stopped")]
    WriterGone,
    #[error("cannot upgrade the store at {path}: {reason}")]
    Upgrade { path: String, reason: String },
}

/// Held while it lives: excludes the other holders of the same lock (see
/// [`EventStore::lock_appends`] and [`EventStore::try_lock_signer`]).
pub trait Guard: Send {}

impl Guard for () {}

/// The narrow interface of an append-only event store.
///
/// `append` is atomic (all events of the call, or none) and durable when it returns.
pub trait EventStore: Send + Sync {
    /// Appends events in order; an event whose idempotency key is known is not stored again.
    fn append(&self, events: &[NewEvent]) -> Result<Vec<Appended>, StoreError>;

    /// Up to `limit` events with sequence numbers above `after`, in order.
    fn read_after(&self, after: Seq, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event about one subject, in order.
    fn read_subject(&self, subject: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// The sequence number of the last event (0 when empty).
    fn head(&self) -> Result<Seq, StoreError>;

    /// The event stored under an idempotency key, if any.
    fn seq_of_key(&self, key: &str) -> Result<Option<Seq>, StoreError>;

    /// True when other processes may append at the same time (a database server). A writer
    /// then holds [`EventStore::lock_appends`] around each check and append, and first catches
    /// up with what the others appended. An embedded store has one writing process.
    fn shared(&self) -> bool {
        false
    }

    /// Keeps every other writer of a shared store out until the guard is dropped.
    fn lock_appends(&self) -> Result<Box<dyn Guard + '_>, StoreError> {
        Ok(Box::new(()))
    }

    /// Makes this process the only signer of the log until the guard is dropped; `None` when
    /// another process signs now.
    fn try_lock_signer(&self) -> Result<Option<Box<dyn Guard + '_>>, StoreError> {
        Ok(Some(Box::new(())))
    }

    /// As [`EventStore::try_lock_signer`], waiting for the other signer to finish.
    fn lock_signer(&self) -> Result<Box<dyn Guard + '_>, StoreError> {
        Ok(Box::new(()))
    }

    /// Checks the store's own structures (pages, indexes) where the backend can.
    fn integrity_check(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Keeps a signed checkpoint where every node of a shared store finds it. The same size
    /// again with the same note is a no-op; with another note, an error.
    fn publish_checkpoint(&self, _size: Seq, _note: &str, _at_ms: i64) -> Result<(), StoreError> {
        Ok(())
    }

    /// The checkpoint of the largest size published, with its note.
    fn latest_checkpoint(&self) -> Result<Option<(Seq, String)>, StoreError> {
        Ok(None)
    }
}
