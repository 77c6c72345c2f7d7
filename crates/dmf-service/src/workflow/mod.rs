//! The service's own records beside the registry: how far each subscriber was served and has
//! acknowledged, and corrections with their lifecycle (requested, joined by a second request,
//! approved or rejected by a supervisor, sent back for evidence and resubmitted, withdrawn).
//! Two stores, kept in one SQLite file, or in tables of the PostgreSQL database that several
//! server nodes share; the correction tables are append-only, like the registry.

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
    #[error("no correction {0}")]
    NoCorrection(i64),
    /// The correction's status does not allow the step (it was decided, or is not awaiting
    /// approval).
    #[error("correction {id} is {status}: it cannot be {step}")]
    NotAllowed {
        id: i64,
        status: CorrectionStatus,
        step: &'static str,
    },
    #[error("a stored correction action is unreadable: {0}")]
    Unreadable(String),
}

/// A subscriber's position in the event sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// The furthest cursor the subscriber was sent.
    pub served: u64,
    /// The furthest cursor it said it applied.
    pub acked: u64,
}

/// Where a correction stands. Open and sent back are "open": a person has at most one open
/// correction, and a second request joins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrectionStatus {
    /// Awaiting approval by a supervisor.
    Open,
    /// Sent back to its requester for more evidence; resubmitted, it is open again.
    SentBack,
    Approved,
    Rejected,
    /// Withdrawn by its requester.
    Withdrawn,
}

impl CorrectionStatus {
    pub const ALL: [CorrectionStatus; 5] = [
        CorrectionStatus::Open,
        CorrectionStatus::SentBack,
        CorrectionStatus::Approved,
        CorrectionStatus::Rejected,
        CorrectionStatus::Withdrawn,
    ];

    /// As answered and as stored: `awaiting_approval`, `sent_back`, `approved`, `rejected`,
    /// `withdrawn`.
    pub fn code(self) -> &'static str {
        match self {
            CorrectionStatus::Open => "awaiting_approval",
            CorrectionStatus::SentBack => "sent_back",
            CorrectionStatus::Approved => "approved",
            CorrectionStatus::Rejected => "rejected",
            CorrectionStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<CorrectionStatus> {
        CorrectionStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Still to be decided: awaiting approval or sent back.
    pub fn is_open(self) -> bool {
        matches!(self, CorrectionStatus::Open | CorrectionStatus::SentBack)
    }
}

impl std::fmt::Display for CorrectionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CorrectionStatus::Open => "awaiting approval",
            CorrectionStatus::SentBack => "sent back for evidence",
            CorrectionStatus::Approved => "approved",
            CorrectionStatus::Rejected => "rejected",
            CorrectionStatus::Withdrawn => "withdrawn",
        })
    }
}

/// What was done to a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Asked for; its body is the request.
    Requested,
    /// A second request for the same person, attached to the open correction; its body is
    /// that request.
    Joined,
    /// Approved and stored as registry event `seq`.
    Approved {
        seq: u64,
    },
    Rejected,
    /// Sent back for more evidence; its reason says what is missing.
    SentBack,
    /// The requester's new request (its body) after being sent back, or to add evidence.
    Resubmitted,
    Withdrawn,
}

impl ActionKind {
    /// As stored in `correction_actions.kind` (requests and approvals have tables of their own).
    fn code(self) -> &'static str {
        match self {
            ActionKind::Requested => "requested",
            ActionKind::Joined => "joined",
            ActionKind::Approved { .. } => "approved",
            ActionKind::Rejected => "rejected",
            ActionKind::SentBack => "sent_back",
            ActionKind::Resubmitted => "resubmitted",
            ActionKind::Withdrawn => "withdrawn",
        }
    }

    fn from_code(code: &str) -> Option<ActionKind> {
        Some(match code {
            "joined" => ActionKind::Joined,
            "rejected" => ActionKind::Rejected,
            "sent_back" => ActionKind::SentBack,
            "resubmitted" => ActionKind::Resubmitted,
            "withdrawn" => ActionKind::Withdrawn,
            _ => return None,
        })
    }

    /// The status this action leaves the correction in; `None` for one that leaves it as it was.
    fn status_after(self) -> Option<CorrectionStatus> {
        match self {
            ActionKind::Joined => None,
            ActionKind::Requested | ActionKind::Resubmitted => Some(CorrectionStatus::Open),
            ActionKind::Approved { .. } => Some(CorrectionStatus::Approved),
            ActionKind::Rejected => Some(CorrectionStatus::Rejected),
            ActionKind::SentBack => Some(CorrectionStatus::SentBack),
            ActionKind::Withdrawn => Some(CorrectionStatus::Withdrawn),
        }
    }
}

/// One entry of a correction's history: who did what, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionAction {
    pub kind: ActionKind,
    /// The key id of who acted (a console user's is its negated id).
    pub key: i64,
    pub by: String,
    pub at: i64,
    /// Why it was rejected, sent back or withdrawn.
    pub reason: Option<String>,
    /// The request, for a request, a joined request and a resubmission.
    pub body: Option<String>,
}

/// A decision or step by a person on an open correction (the approval, which stores a
/// registry event, is [`CorrectionStore::approve_correction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// By a supervisor, on a correction awaiting approval.
    Reject { reason: String },
    /// By a supervisor, on a correction awaiting approval: the reason says what is missing.
    SendBack { reason: String },
    /// By the requester, while it is open or sent back.
    Withdraw { reason: Option<String> },
    /// By the requester, while it is open or sent back: the new request.
    Resubmit { body: String },
}

impl Step {
    fn kind(&self) -> ActionKind {
        match self {
            Step::Reject { .. } => ActionKind::Rejected,
            Step::SendBack { .. } => ActionKind::SentBack,
            Step::Withdraw { .. } => ActionKind::Withdrawn,
            Step::Resubmit { .. } => ActionKind::Resubmitted,
        }
    }

    /// Whether a correction in `status` may take this step.
    pub fn allowed_in(&self, status: CorrectionStatus) -> bool {
        match self {
            Step::Reject { .. } | Step::SendBack { .. } => status == CorrectionStatus::Open,
            Step::Withdraw { .. } | Step::Resubmit { .. } => status.is_open(),
        }
    }

    /// In words, as "it cannot be …" ends.
    pub fn done(&self) -> &'static str {
        match self {
            Step::Reject { .. } => "rejected",
            Step::SendBack { .. } => "sent back",
            Step::Withdraw { .. } => "withdrawn",
            Step::Resubmit { .. } => "resubmitted",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Step::Reject { reason } | Step::SendBack { reason } => Some(reason),
            Step::Withdraw { reason } => reason.as_deref(),
            Step::Resubmit { .. } => None,
        }
    }

    fn body(&self) -> Option<&str> {
        match self {
            Step::Resubmit { body } => Some(body),
            _ => None,
        }
    }
}

/// A correction as requested, where it stands, and everything done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRequest {
    pub id: i64,
    pub ssn: u32,
    /// The submission (as `dmf submit` takes it) without `approved_by`: the latest
    /// resubmission, or the request.
    pub body: String,
    pub requested_key: i64,
    pub requested_by: String,
    pub requested_at: i64,
    pub approval: Option<Approval>,
    pub status: CorrectionStatus,
    /// Oldest first: the request, then every later action, the approval last.
    pub actions: Vec<CorrectionAction>,
}

impl CorrectionRequest {
    /// Made from its request row, its approval and its other actions (oldest first), as
    /// either backend reads them.
    fn assemble(row: RequestRow, later: Vec<CorrectionAction>) -> CorrectionRequest {
        let mut actions = Vec::with_capacity(later.len() + 2);
        actions.push(CorrectionAction {
            kind: ActionKind::Requested,
            key: row.requested_key,
            by: row.requested_by.clone(),
            at: row.requested_at,
            reason: None,
            body: Some(row.body.clone()),
        });
        actions.extend(later);
        if let Some(a) = &row.approval {
            actions.push(CorrectionAction {
                kind: ActionKind::Approved { seq: a.seq },
                key: a.key,
                by: a.by.clone(),
                at: a.at,
                reason: None,
                body: None,
            });
        }
        // The latest action that changes the status decides it. The approval is last: it
        // stored a registry event, so it decides whatever else was recorded.
        let status = actions
            .iter()
            .rev()
            .find_map(|a| a.kind.status_after())
            .unwrap_or(CorrectionStatus::Open);
        let body = actions
            .iter()
            .rev()
            .find(|a| a.kind == ActionKind::Resubmitted)
            .and_then(|a| a.body.clone())
            .unwrap_or(row.body);
        CorrectionRequest {
            id: row.id,
            ssn: row.ssn,
            body,
            requested_key: row.requested_key,
            requested_by: row.requested_by,
            requested_at: row.requested_at,
            approval: row.approval,
            status,
            actions,
        }
    }

    /// Whether `key` already asked for exactly this: the request, a joined request or a
    /// resubmission of theirs with the same body (a form sent twice, Back and Submit).
    fn already_asked(&self, key: i64, body: &str) -> bool {
        self.actions.iter().any(|a| {
            a.key == key
                && matches!(
                    a.kind,
                    ActionKind::Requested | ActionKind::Joined | ActionKind::Resubmitted
                )
                && a.body.as_deref() == Some(body)
        })
    }
}

/// A correction's own row and its approval, before its actions are added.
#[derive(Debug)]
struct RequestRow {
    id: i64,
    ssn: u32,
    body: String,
    requested_key: i64,
    requested_by: String,
    requested_at: i64,
    approval: Option<Approval>,
}

/// What became of a request for a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// A new correction.
    New(i64),
    /// The person had an open correction: the request joined it.
    Joined(i64),
    /// The same person had already asked for exactly this on the open correction: nothing
    /// new was recorded.
    Repeated(i64),
}

impl Filed {
    /// The correction the request went to.
    pub fn id(self) -> i64 {
        match self {
            Filed::New(id) | Filed::Joined(id) | Filed::Repeated(id) => id,
        }
    }
}

/// Which corrections a queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queue {
    /// Only those in this status; every one if `None`.
    pub status: Option<CorrectionStatus>,
    /// Only those asked for by this key.
    pub requested_key: Option<i64>,
    /// Newest first rather than oldest first.
    pub newest_first: bool,
    pub limit: usize,
}

impl Queue {
    /// The oldest `limit` corrections in `status`, as a supervisor works through them.
    pub fn oldest(status: Option<CorrectionStatus>, limit: usize) -> Queue {
        Queue {
            status,
            requested_key: None,
            newest_first: false,
            limit,
        }
    }
}

/// A correction's approval.
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

/// Corrections requested by one person and decided by another, with every step in between:
/// all append-only. A person has at most one open correction, even with several server nodes
/// asking at once.
pub trait CorrectionStore: Send + Sync {
    /// Records a request, unless the person has an open correction: then the request joins
    /// that one (recorded as a joined action), or, if the same key already asked for exactly
    /// this on it, nothing is recorded.
    fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<Filed, WorkflowError>;
    /// Records the approval of request `id`, applied as registry event `seq`. Only once; the
    /// event is stored by then, so whatever else happened to the correction meanwhile the
    /// approval is recorded and decides its status.
    fn approve_correction(
        &self,
        id: i64,
        key: i64,
        by: &str,
        at_ms: i64,
        seq: u64,
    ) -> Result<(), WorkflowError>;
    /// Records a step on correction `id` if its status allows it ([`Step::allowed_in`]),
    /// checked and recorded at once; the correction as it is now.
    fn act(
        &self,
        id: i64,
        step: &Step,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<CorrectionRequest, WorkflowError>;
    fn correction(&self, id: i64) -> Result<Option<CorrectionRequest>, WorkflowError>;
    /// The corrections a queue lists, in its order.
    fn queue(&self, queue: &Queue) -> Result<Vec<CorrectionRequest>, WorkflowError>;
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

    /// Records a request, or joins it to the person's open correction.
    pub fn request_correction(
        &self,
        ssn: u32,
        body: &str,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<Filed, WorkflowError> {
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

    /// Rejects, sends back, withdraws or resubmits, if the correction's status allows it.
    pub fn act(
        &self,
        id: i64,
        step: &Step,
        key: i64,
        by: &str,
        at_ms: i64,
    ) -> Result<CorrectionRequest, WorkflowError> {
        self.corrections.act(id, step, key, by, at_ms)
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
        self.corrections.queue(&Queue {
            status: waiting.then_some(CorrectionStatus::Open),
            requested_key: None,
            newest_first: true,
            limit,
        })
    }

    /// The corrections a queue lists, in its order.
    pub fn queue(&self, queue: &Queue) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.corrections.queue(queue)
    }

    /// Every correction of one SSN, oldest first.
    pub fn corrections_of(&self, ssn: u32) -> Result<Vec<CorrectionRequest>, WorkflowError> {
        self.corrections.corrections_of(ssn)
    }

    /// The person's open correction (awaiting approval or sent back), if any.
    pub fn open_correction(&self, ssn: u32) -> Result<Option<CorrectionRequest>, WorkflowError> {
        Ok(self
            .corrections_of(ssn)?
            .into_iter()
            .find(|c| c.status.is_open()))
    }
}

/// Selects each request with its approval and its status (as [`CorrectionRequest::assemble`]
/// works it out, for filtering), by the same columns in both databases; filter on `c.`.
const SELECT_CORRECTION: &str = "SELECT c.* FROM (SELECT r.id, r.ssn, r.body, r.requested_key,
        r.requested_by, r.requested_at, a.approved_key, a.approved_by, a.approved_at, a.seq,
        CASE WHEN a.id IS NOT NULL THEN 'approved' ELSE coalesce(
            (SELECT CASE x.kind WHEN 'resubmitted' THEN 'awaiting_approval' ELSE x.kind END
             FROM correction_actions x WHERE x.id = r.id AND x.kind <> 'joined'
             ORDER BY x.n DESC LIMIT 1),
            'awaiting_approval') END AS status
    FROM correction_requests r LEFT JOIN correction_approvals a ON a.id = r.id) c";

/// Selects the actions of corrections beside their requests and approvals, oldest first.
const SELECT_ACTIONS: &str =
    "SELECT id, kind, actor_key, actor, at, reason, body FROM correction_actions";

/// An action read back, its kind from the stored code.
fn with_kind(code: &str, action: CorrectionAction) -> Result<CorrectionAction, WorkflowError> {
    let kind = ActionKind::from_code(code)
        .ok_or_else(|| WorkflowError::Unreadable(format!("unknown kind {code:?}")))?;
    Ok(CorrectionAction { kind, ..action })
}

/// The order and limit of a queue, after its `WHERE`.
fn queue_order(q: &Queue) -> &'static str {
    if q.newest_first {
        "ORDER BY c.id DESC"
    } else {
        "ORDER BY c.id"
    }
}
