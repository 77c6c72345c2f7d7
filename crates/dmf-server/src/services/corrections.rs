//! Corrections of wrong deaths, the same for the API and the console: a request by one person
//! (a second request for the same person joins the open one), then a supervisor's decision
//! (approve, reject, or send back for evidence) or the requester's withdrawal or resubmission;
//! who may take which step, the approved event stored, and its progress to every subscriber
//! that had received the wrong record. (The letter that tells a bank is in `letters`.)

use dmf_model::Ssn;
use dmf_registry::Accepted;
use dmf_registry::distribution::{self, Audience};
use dmf_registry::requests::{ApprovalError, CorrectionFields, approved_correction};

use crate::error::{ApiError, Code};
use crate::keys::{ApiKey, Role};
use crate::services::blocking;
use crate::users::{User, UserRole};
use crate::views::{PropagationView, SubscriberView};
use crate::workflow::{
    ActionKind, CorrectionRequest, CorrectionStatus, Filed, Step, WorkflowError,
};
use crate::{App, now_ms};

/// Who acts: an API key (its id) or a console user (the negated user id, so the two kinds
/// never share a number).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i64,
    pub name: String,
    /// May decide other people's corrections: a supervisor in the console; in the API, any
    /// key the route admits (a caseworker's).
    pub decides: bool,
}

impl Actor {
    pub fn key(key: &ApiKey) -> Actor {
        Actor {
            id: key.id,
            name: key.name.clone(),
            decides: true,
        }
    }

    pub fn user(user: &User) -> Actor {
        Actor {
            id: -user.id,
            name: user.name.clone(),
            decides: user.role == UserRole::Supervisor,
        }
    }
}

/// A step a person may take on a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    Approve,
    Reject,
    SendBack,
    Withdraw,
    Resubmit,
}

impl CaseAction {
    pub const ALL: [CaseAction; 5] = [
        CaseAction::Approve,
        CaseAction::Reject,
        CaseAction::SendBack,
        CaseAction::Withdraw,
        CaseAction::Resubmit,
    ];

    /// In words: "approve", "send back", …
    pub fn verb(self) -> &'static str {
        match self {
            CaseAction::Approve => "approve",
            CaseAction::Reject => "reject",
            CaseAction::SendBack => "send back",
            CaseAction::Withdraw => "withdraw",
            CaseAction::Resubmit => "resubmit",
        }
    }

    /// A supervisor's decision, rather than the requester's own step.
    fn decision(self) -> bool {
        matches!(
            self,
            CaseAction::Approve | CaseAction::Reject | CaseAction::SendBack
        )
    }
}

/// Why a step on a correction is refused, in words a caseworker reads.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("there is no correction {0}")]
    NotFound(i64),
    /// Approved, rejected or withdrawn: nothing more is done with it.
    #[error("correction {id} was {status} by {by} on {on}: nothing more can be done with it")]
    Decided {
        id: i64,
        status: CorrectionStatus,
        by: String,
        on: String,
    },
    #[error(
        "correction {0} was sent back for evidence: its requester must resubmit it before a supervisor can decide it"
    )]
    SentBack(i64),
    #[error("whoever asked for correction {0} cannot {1} it: a supervisor must")]
    OwnCorrection(i64, &'static str),
    #[error("only a supervisor may {0} a correction")]
    NotSupervisor(&'static str),
    #[error("only {requester}, who asked for correction {id}, may {what} it")]
    NotRequester {
        id: i64,
        requester: String,
        what: &'static str,
    },
    /// A rejection or a sending back says why.
    #[error("{0}")]
    ReasonMissing(&'static str),
    #[error("a resubmission of correction {0} must be for the same person")]
    OtherPerson(i64),
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        let message = e.to_string();
        match e {
            CaseError::NotFound(_) => ApiError::new(Code::NotFound, message),
            CaseError::OwnCorrection(..)
            | CaseError::NotSupervisor(_)
            | CaseError::NotRequester { .. } => ApiError::new(Code::Forbidden, message),
            CaseError::ReasonMissing(_) => ApiError::at(Code::Unprocessable, "$.reason", message),
            CaseError::OtherPerson(_) => ApiError::at(Code::Unprocessable, "$.ssn", message),
            CaseError::Decided { .. } | CaseError::SentBack(_) => {
                ApiError::new(Code::Unprocessable, message)
            }
        }
    }
}

/// Whether `actor` may take `action` on correction `c` now, and if not, why: the one rule the
/// API enforces and the console shows its buttons by.
pub fn check(actor: &Actor, c: &CorrectionRequest, action: CaseAction) -> Result<(), CaseError> {
    if !c.status.is_open() {
        // The action that closed it: the last that set its status.
        let last = c.actions.last();
        return Err(CaseError::Decided {
            id: c.id,
            status: c.status,
            by: last.map(|a| a.by.clone()).unwrap_or_default(),
            on: last.map(|a| day(a.at)).unwrap_or_default(),
        });
    }
    if action.decision() {
        if c.requested_key == actor.id {
            return Err(CaseError::OwnCorrection(c.id, action.verb()));
        }
        if !actor.decides {
            return Err(CaseError::NotSupervisor(action.verb()));
        }
        if c.status == CorrectionStatus::SentBack {
            return Err(CaseError::SentBack(c.id));
        }
    } else if c.requested_key != actor.id {
        return Err(CaseError::NotRequester {
            id: c.id,
            requester: c.requested_by.clone(),
            what: action.verb(),
        });
    }
    Ok(())
}

/// The steps `actor` may take on `c` now.
pub fn allowed(actor: &Actor, c: &CorrectionRequest) -> Vec<CaseAction> {
    CaseAction::ALL
        .into_iter()
        .filter(|a| check(actor, c, *a).is_ok())
        .collect()
}

/// A day as people read it: `YYYY-MM-DD`.
fn day(ms: i64) -> String {
    dmf_ledger::leaf::format_time(ms)[..10].to_owned()
}

/// The person's open correction (awaiting approval or sent back), if any: a new request for
/// them would join it.
pub(crate) fn open_for(app: &App, ssn: Ssn) -> Result<Option<CorrectionRequest>, ApiError> {
    app.workflow
        .open_correction(ssn.as_u32())
        .map_err(ApiError::internal)
}

/// Records a request for a correction, checked as it will be submitted. A person with an open
/// correction keeps that one: the request joins it (or, sent again as it was, changes nothing).
pub fn request(app: &App, actor: &Actor, req: CorrectionFields) -> Result<(Filed, Ssn), ApiError> {
    let (submission, body) = req
        .check(&actor.name, app.today())
        .map_err(super::rejected)?;
    let ssn = submission.event.ssn();
    let known = app
        .index
        .read()
        .expect("index lock")
        .get(ssn)
        .is_some_and(|s| s.death.is_some() || s.extra().is_some_and(|e| !e.pending.is_empty()));
    if !known {
        return Err(ApiError::at(
            Code::Unprocessable,
            "$.ssn",
            "no death is recorded or pending for this SSN: there is nothing to correct",
        ));
    }
    let filed = app
        .workflow
        .request_correction(ssn.as_u32(), &body, actor.id, &actor.name, now_ms())
        .map_err(ApiError::internal)?;
    Ok((filed, ssn))
}

pub fn get(app: &App, id: i64) -> Result<CorrectionRequest, ApiError> {
    app.workflow
        .correction(id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| CaseError::NotFound(id).into())
}

/// Approves and stores a correction: by a supervisor who did not ask for it, while it awaits
/// approval.
pub async fn approve(
    app: &std::sync::Arc<App>,
    actor: &Actor,
    id: i64,
) -> Result<Accepted, ApiError> {
    let c = get(app, id)?;
    check(actor, &c, CaseAction::Approve)?;
    let submission =
        approved_correction(&c.body, &actor.name, app.today()).map_err(|e| match e {
            ApprovalError::Rejected(r) => ApiError::at(Code::Unprocessable, r.path, r.reason),
            e @ ApprovalError::Unreadable(_) => ApiError::internal(e),
        })?;
    let accepted = crate::services::submit::submit_one(app, submission).await?;
    app.workflow
        .approve_correction(id, actor.id, &actor.name, now_ms(), accepted.seq)
        .map_err(ApiError::internal)?;
    Ok(accepted)
}

/// A supervisor's rejection, with its reason.
pub fn reject(
    app: &App,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<CorrectionRequest, ApiError> {
    let reason = needed(reason, "Say why the correction is rejected.")?;
    step(app, actor, id, CaseAction::Reject, Step::Reject { reason })
}

/// A supervisor sends a correction back to its requester: the reason says what evidence is
/// missing.
pub fn send_back(
    app: &App,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<CorrectionRequest, ApiError> {
    let reason = needed(reason, "Say what evidence is missing.")?;
    step(
        app,
        actor,
        id,
        CaseAction::SendBack,
        Step::SendBack { reason },
    )
}

/// The requester withdraws their correction, with a reason or none.
pub fn withdraw(
    app: &App,
    actor: &Actor,
    id: i64,
    reason: Option<&str>,
) -> Result<CorrectionRequest, ApiError> {
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    step(
        app,
        actor,
        id,
        CaseAction::Withdraw,
        Step::Withdraw { reason },
    )
}

/// The requester asks again, with more evidence: the correction awaits approval again, as
/// resubmitted. Checked as the request was.
pub fn resubmit(
    app: &App,
    actor: &Actor,
    id: i64,
    req: CorrectionFields,
) -> Result<CorrectionRequest, ApiError> {
    let c = get(app, id)?;
    check(actor, &c, CaseAction::Resubmit)?;
    let (submission, body) = req
        .check(&actor.name, app.today())
        .map_err(super::rejected)?;
    if submission.event.ssn().as_u32() != c.ssn {
        return Err(CaseError::OtherPerson(id).into());
    }
    step(
        app,
        actor,
        id,
        CaseAction::Resubmit,
        Step::Resubmit { body },
    )
}

/// A reason with something in it, or the refusal that asks for one.
fn needed(reason: &str, ask: &'static str) -> Result<String, CaseError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CaseError::ReasonMissing(ask));
    }
    Ok(reason.to_owned())
}

/// Checks and records a step. The store checks the status again as it records, so of two
/// people deciding at once one is refused as if they had come second.
fn step(
    app: &App,
    actor: &Actor,
    id: i64,
    action: CaseAction,
    step: Step,
) -> Result<CorrectionRequest, ApiError> {
    let c = get(app, id)?;
    check(actor, &c, action)?;
    match app.workflow.act(id, &step, actor.id, &actor.name, now_ms()) {
        Ok(c) => Ok(c),
        Err(WorkflowError::NotAllowed { .. }) => {
            let now = get(app, id)?;
            Err(check(actor, &now, action)
                .err()
                .map(ApiError::from)
                .unwrap_or_else(|| {
                    ApiError::new(
                        Code::Unprocessable,
                        format!("correction {id} changed meanwhile: look at it again"),
                    )
                }))
        }
        Err(WorkflowError::NoCorrection(id)) => Err(CaseError::NotFound(id).into()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The reason of the step that left a correction as it is (rejected, sent back, withdrawn).
pub fn latest_reason(c: &CorrectionRequest) -> Option<&str> {
    c.actions
        .iter()
        .rev()
        .find(|a| {
            matches!(
                a.kind,
                ActionKind::Rejected | ActionKind::SentBack | ActionKind::Withdrawn
            )
        })
        .filter(|_| {
            matches!(
                c.status,
                CorrectionStatus::Rejected
                    | CorrectionStatus::SentBack
                    | CorrectionStatus::Withdrawn
            )
        })
        .and_then(|a| a.reason.as_deref())
}

/// One subscriber's progress with a correction.
#[derive(Debug, Clone)]
pub struct SubscriberProgress {
    pub subscriber: String,
    pub sent_correction: bool,
    pub acknowledged: bool,
}

/// Where a correction stands.
#[derive(Debug, Clone)]
pub struct Propagation {
    pub id: i64,
    pub status: CorrectionStatus,
    /// Why it was rejected, sent back or withdrawn.
    pub reason: Option<String>,
    /// The correction event, once approved.
    pub seq: Option<u64>,
    pub approved_by: Option<String>,
    /// Subscribers that had received the wrong record.
    pub subscribers: Vec<SubscriberProgress>,
}

impl Propagation {
    /// Approved, and every subscriber that had the wrong record has acknowledged the fix.
    pub fn complete(&self) -> bool {
        self.seq.is_some() && self.subscribers.iter().all(|s| s.acknowledged)
    }

    /// Where it stands, as answered.
    pub fn view(&self) -> PropagationView {
        let Some(seq) = self.seq else {
            return PropagationView {
                id: self.id,
                status: self.status.code(),
                reason: self.reason.clone(),
                seq: None,
                approved_by: None,
                complete: None,
                subscribers: Vec::new(),
            };
        };
        PropagationView {
            id: self.id,
            status: CorrectionStatus::Approved.code(),
            reason: None,
            seq: Some(seq),
            approved_by: self.approved_by.clone(),
            complete: Some(self.complete()),
            subscribers: self
                .subscribers
                .iter()
                .map(|s| SubscriberView {
                    subscriber: s.subscriber.clone(),
                    received: true,
                    sent_correction: s.sent_correction,
                    acknowledged: s.acknowledged,
                })
                .collect(),
        }
    }
}

/// The subscribers that had received a person's record before event `seq` changed it, and
/// whether each has been sent the change and has acknowledged it (corrections, and a state's
/// void or update of its record, alike).
pub fn told(app: &App, ssn: Ssn, seq: u64) -> Result<Vec<SubscriberProgress>, ApiError> {
    let today = app.today();
    let history = app.registry.history(ssn).map_err(ApiError::internal)?;
    let mut out = Vec::new();
    for (key_id, position) in app.workflow.positions().map_err(ApiError::internal)? {
        let Some(key) = app.keys.get(key_id) else {
            continue;
        };
        let audience = match key.role {
            Role::Subscriber => Audience {
                certified: key.certified,
                state_deaths: false,
            },
            Role::Benefits => Audience {
                certified: true,
                state_deaths: true,
            },
            _ => continue,
        };
        // The record as this subscriber last had it before the change.
        let before = seq - 1;
        let had = distribution::published(&history, before.min(position.served), audience, today);
        if had.is_none() {
            continue;
        }
        out.push(SubscriberProgress {
            subscriber: key.name,
            sent_correction: position.served >= seq,
            acknowledged: position.acked >= seq,
        });
    }
    Ok(out)
}

/// Which subscribers received the wrong record, and which have acknowledged the correction.
pub async fn propagation(app: &std::sync::Arc<App>, id: i64) -> Result<Propagation, ApiError> {
    let c = get(app, id)?;
    let Some(approval) = c.approval.clone() else {
        return Ok(Propagation {
            id,
            status: c.status,
            reason: latest_reason(&c).map(str::to_owned),
            seq: None,
            approved_by: None,
            subscribers: Vec::new(),
        });
    };
    let app2 = app.clone();
    let subscribers = blocking(move || {
        let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
        told(&app2, ssn, approval.seq)
    })
    .await?;
    Ok(Propagation {
        id,
        status: CorrectionStatus::Approved,
        reason: None,
        seq: Some(approval.seq),
        approved_by: Some(approval.by),
        subscribers,
    })
}
