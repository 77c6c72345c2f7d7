//! The service's own records beside the registry: how far each subscriber was served and has
//! acknowledged, and corrections awaiting a second person's approval. Two stores, kept in one
//! SQLite file, or in tables of the PostgreSQL database that several server nodes share; the
//! correction tables are append-only, like the registry.

pub mod conformance;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use crate::pg::with_causes;

/// Why the workflow store failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the workflow store failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL failed to {context}: {}", with_causes(.source))]
    Postgres {
        context: &'static str,
        #[source]
        source: ::postgres::Error,
    },
    #[error("no PostgreSQL connection for the workflow store: {0}")]
    Pool(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A subscriber's position in the event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// The furthest cursor the subscriber was sent.
    pub served: u64,
    /// The furthest cursor it said it applied.
    pub acked: u64,
}

/// A correction as requested, and its approval once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRequest {
    pub id: i64,
    pub ssn: u32,
    /// The submission (as `dmf submit` takes it) without `approved_by`.
    pub body: String,
    pub requested_key: i64,
    pub requested_by: String,
    pub requested_at: i64,
    pub approval: Option<Approval>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub key: i64,
    pub by: String,
    pub at: i64,
    /// The registry event of the correction.
    pub seq: u64,
}

/// How far each subscriber of the feed was served and has acknowledged.
pub trait PositionStore: Send + Sync {
    /// A subscriber's position; nothing served or acknowledged if it has none yet.
    fn position(&self, key_id: i64) -> Result<Position, WorkflowError>;
    /// Every subscriber's position, by key.
    fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError>;
    /// Records that a subscriber was sent everything up to `cursor`; never moves it back.
    fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError>;
    /// Records that a subscriber applied everything up to `cursor`; never moves it back.
    fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError>;
}

/// Corrections requested by one person and approved by another, both append-only.
pub trait CorrectionStore: Send + Sync {
    /// Records a request; its id.
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError>;
    /// Records the approval of request `id`, applied as registry event `seq`.
    fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError>;
    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError>;
    /// The latest corrections, newest first; only those awaiting approval if `waiting`.
    fn corrections(
        &self,
        waiting: bool,
        limit: usize,
    ) -> Result<Vec<CorrectionRequest>, WorkflowError>;
    /// Every correction of one SSN, oldest first.
    fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError>;
}

/// Both workflow stores, as a backend makes them.
pub type WorkflowStores = (Box<dyn PositionStore>, Box<dyn CorrectionStore>);

/// The workflow store: feed positions and corrections.
pub struct Workflow {
    positions: Box<dyn PositionStore>,
    corrections: Box<dyn CorrectionStore>,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Workflow")
    }
}

impl Workflow {
    pub fn new(
        positions: Box<dyn PositionStore>,
        corrections: Box<dyn CorrectionStore>,
    ) -> Workflow {
        Workflow {
            positions,
            corrections,
        }
    }

    /// Both stores in one SQLite file.
    pub fn open(path: &std::path::Path) -> Result<Workflow, WorkflowError> {
        let db = sqlite::SqliteWorkflow::open(path)?;
        Ok(Workflow::new(Box::new(db.clone()), Box::new(db)))
    }

    /// Both stores in the tables of a PostgreSQL database migrated by
    /// [`dmf_postgres::migrate`], shared by every node connected to it. Fails if the tables
    /// cannot be read.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Workflow, WorkflowError> {
        let db = postgres::PgWorkflow::open(pool)?;
        Ok(Workflow::new(Box::new(db.clone()), Box::new(db)))
    }

    pub fn position(&self, key_id: i64) -> Result<Position, WorkflowError> {
        self.positions.position(key_id)
    }

    /// Every subscriber's position.
    pub fn positions(&self) -> Result<Vec<(i64, Position)>, WorkflowError> {
        self.positions.positions()
    }

    /// Records that a subscriber was sent everything up to `cursor`.
    pub fn served(&self, key_id: i64, cursor: u64) -> Result<(), WorkflowError> {
        self.positions.served(key_id, cursor)
    }

    /// Records that a subscriber applied everything up to `cursor`.
    pub fn acked(&self, key_id: i64, cursor: u64, at_ms: i64) -> Result<(), WorkflowError> {
        self.positions.acked(key_id, cursor, at_ms)
    }

    pub fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<i64, WorkflowError> {
        self.corrections
            .request_correction(ssn, body, key, by, at_ms)
    }

    pub fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError> {
        self.corrections.approve_correction(id, key, by, at_ms, seq)
    }

    pub fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError> {
        self.corrections.correction(id)
    }

    /// The latest corrections, newest first; only those awaiting approval if `waiting`.
    pub fn corrections(
        &self,
        waiting: bool,
        limit: usize,
    ) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.corrections.corrections(waiting, limit)
    }

    /// Every correction of one SSN, oldest first.
    pub fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.corrections.corrections_of(ssn)
    }
}

/// Selects a request and its approval, if any, by the same columns in both databases.
const SELECT_CORRECTION: &str = "SELECT r.id, r.ssn, r.body, r.requested_key, r.requested_by,
        r.requested_at, a.approved_key, a.approved_by, a.approved_at, a.seq
    FROM correction_requests r LEFT JOIN correction_approvals a ON a.id = r.id";
