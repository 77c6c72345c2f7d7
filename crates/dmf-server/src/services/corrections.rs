//! Corrections of wrong deaths, the same for the API and the console: a request by one person,
//! an approval by another, the event stored, and its progress to every subscriber that had
//! received the wrong record. (The letter that tells a bank is in `letters`.)

use dmf_model::Ssn;
use dmf_registry::Accepted;
use dmf_registry::distribution::{self, Audience};
use dmf_registry::requests::{ApprovalError, CorrectionFields, approved_correction};

use crate::error::{ApiError, Code};
use crate::keys::{ApiKey, Role};
use crate::services::blocking;
use crate::users::User;
use crate::views::{PropagationView, SubscriberView};
use crate::workflow::CorrectionRequest;
use crate::{App, now_ms};

/// Who acts: an API key (its id) or a console user (the negated user id, so the two kinds
/// never share a number).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i64,
    pub name: String,
}

impl Actor {
    pub fn key(key: &ApiKey) -> Actor {
        Actor {
            id: key.id,
            name: key.name.clone(),
        }
    }

    pub fn user(user: &User) -> Actor {
        Actor {
            id: -user.id,
            name: user.name.clone(),
        }
    }
}

/// Records a request for a correction, checked as it will be submitted; returns its id.
pub fn request(app: &App, actor: &Actor, req: CorrectionFields) -> Result<(i64, Ssn), ApiError> {
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
    let id = app
        .workflow
        .request_correction(ssn.as_u32(), &body, actor.id, &actor.name, now_ms())
        .map_err(ApiError::internal)?;
    Ok((id, ssn))
}

pub fn get(app: &App, id: i64) -> Result<CorrectionRequest, ApiError> {
    app.workflow
        .correction(id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no correction {id}")))
}

/// Approves and stores a correction. The person who asked for it cannot approve it.
pub async fn approve(
    app: &std::sync::Arc<App>,
    actor: &Actor,
    id: i64,
) -> Result<Accepted, ApiError> {
    let c = get(app, id)?;
    if let Some(a) = &c.approval {
        return Err(ApiError::new(
            Code::Unprocessable,
            format!(
                "correction {id} was approved by {} as event {}",
                a.by, a.seq
            ),
        ));
    }
    if c.requested_key == actor.id {
        return Err(ApiError::new(
            Code::Forbidden,
            "the person who asked for a correction cannot approve it: a second person must",
        ));
    }
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
                status: "awaiting_approval",
                seq: None,
                approved_by: None,
                complete: None,
                subscribers: Vec::new(),
            };
        };
        PropagationView {
            id: self.id,
            status: "approved",
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

/// Which subscribers received the wrong record, and which have acknowledged the correction.
pub async fn propagation(app: &std::sync::Arc<App>, id: i64) -> Result<Propagation, ApiError> {
    let c = get(app, id)?;
    let Some(approval) = c.approval.clone() else {
        return Ok(Propagation {
            id,
            seq: None,
            approved_by: None,
            subscribers: Vec::new(),
        });
    };
    let app2 = app.clone();
    let today = app.today();
    let subscribers = blocking(move || {
        let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
        let history = app2.registry.history(ssn).map_err(ApiError::internal)?;
        let mut out = Vec::new();
        for (key_id, position) in app2.workflow.positions().map_err(ApiError::internal)? {
            let Some(key) = app2.keys.get(key_id) else {
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
            // The wrong record as this subscriber last had it before the correction.
            let before = approval.seq - 1;
            let had =
                distribution::published(&history, before.min(position.served), audience, today);
            if had.is_none() {
                continue;
            }
            out.push(SubscriberProgress {
                subscriber: key.name,
                sent_correction: position.served >= approval.seq,
                acknowledged: position.acked >= approval.seq,
            });
        }
        Ok(out)
    })
    .await?;
    Ok(Propagation {
        id,
        seq: Some(approval.seq),
        approved_by: Some(approval.by),
        subscribers,
    })
}
