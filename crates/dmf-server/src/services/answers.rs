//! Verification answers: under one read of the index, each answer about a person on file
//! recorded for that person's accounting, and the daily allowance of the key that asks.

use dmf_registry::PersonState;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::grounds::{Grounds, grounds_for};
use dmf_registry::render::{self, Answer, Purpose};

use crate::accounting::{Disclosure, Ticket};
use crate::error::{ApiError, Code};
use crate::keys::{ApiKey, Role};
use crate::{App, now_ms};

/// The role whose keys may ask for answers of `purpose`.
pub fn role_of(purpose: Purpose) -> Role {
    match purpose {
        Purpose::Identity => Role::Identity,
        Purpose::Employment => Role::Employment,
        Purpose::Benefits => Role::Benefits,
    }
}

/// The purpose a verification key answers for, if it is one.
pub fn purpose_of(role: Role) -> Option<Purpose> {
    match role {
        Role::Identity => Some(Purpose::Identity),
        Role::Employment => Some(Purpose::Employment),
        Role::Benefits => Some(Purpose::Benefits),
        _ => None,
    }
}

/// Answers queries under one read of the index; the answers about people on file are
/// recorded for their accounting, and go out once the ticket is durable.
pub fn answer_all(
    app: &App,
    key: &ApiKey,
    purpose: Purpose,
    queries: &[&IdentityQuery],
) -> (Vec<Answer>, Ticket) {
    let today = app.today();
    let at_ms = now_ms();
    let mut disclosed = Vec::new();
    let answers = {
        let index = app.index.read().expect("index lock");
        queries
            .iter()
            .map(|q| {
                let state = index.get(q.ssn);
                if state.is_some() {
                    disclosed.push(disclosure(key, purpose, q, at_ms));
                }
                render::answer_view_for(purpose, q, state, today, app.mirror)
            })
            .collect()
    };
    let ticket = if disclosed.is_empty() {
        Ticket::default()
    } else {
        app.accounting.record_many(disclosed)
    };
    (answers, ticket)
}

/// What an answer about someone on file discloses, for the person's accounting.
fn disclosure(key: &ApiKey, purpose: Purpose, q: &IdentityQuery, at_ms: i64) -> Disclosure {
    Disclosure {
        ssn: q.ssn.as_u32(),
        at_ms,
        key_id: key.id,
        key_name: key.name.clone(),
        purpose: purpose.code().to_owned(),
        fields: purpose.fields().iter().map(|f| (*f).to_owned()).collect(),
    }
}

/// One answer, what it stands on and the person's state it was made from (for a receipt),
/// under one read of the index; the disclosure to record when the answer goes out (none for
/// someone not on file). The receipt discloses nothing the answer does not, so the accounting
/// is the answer's.
pub fn answer_grounded(
    app: &App,
    key: &ApiKey,
    purpose: Purpose,
    query: &IdentityQuery,
) -> (Answer, Grounds, Option<PersonState>, Option<Disclosure>) {
    let today = app.today();
    let index = app.index.read().expect("index lock");
    let state = index.get(query.ssn);
    let answer = render::answer_view_for(purpose, query, state, today, app.mirror);
    let grounds = grounds_for(purpose, query, state, today, app.mirror);
    let disclosed = state.map(|_| disclosure(key, purpose, query, now_ms()));
    (answer, grounds, state.cloned(), disclosed)
}

/// Takes `n` records of the key's daily allowance, or a 429 saying what is left.
pub fn take_quota(app: &App, key: &ApiKey, n: u64) -> Result<(), ApiError> {
    let Some(quota) = key.daily_quota else {
        return Ok(());
    };
    app.quotas.take(key.id, quota, n, now_ms()).map_err(|e| {
        let secs = e.retry_after.as_secs() + 1;
        let mut err = ApiError::new(
            Code::RateLimited,
            format!(
                "key {:?} is over its daily allowance: {e}; it is whole again at midnight \
                 UTC, in {secs} s",
                key.name
            ),
        );
        err.retry_after = Some(secs);
        err
    })
}
