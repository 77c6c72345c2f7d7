//! The JSON forms of answers and submission results, shared by the command line and the
//! HTTP API so that both say the same thing in the same words.

use dmf_model::Date;
use serde_json::{Value, json};

use crate::answers::{self, EmploymentAnswer, IdentityQuery};
use crate::registry::Accepted;
use crate::state::Outcome;
use crate::state::PersonState;
use crate::submission::Rejection;

/// What a verification is for; each purpose sees only what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Identity,
    Employment,
    Benefits,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Identity => "identity",
            Purpose::Employment => "employment",
            Purpose::Benefits => "benefits",
        }
    }

    /// The fields an answer for this purpose discloses.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Purpose::Identity => &["code", "deceased"],
            Purpose::Employment => &["result", "reason", "contest_deadline", "contested"],
            Purpose::Benefits => &["code", "deceased", "suspended"],
        }
    }

    /// Deaths whose sole source is a state go only to federal benefit programs (42 U.S.C.
    /// 405(r)).
    pub fn sees_state_deaths(self) -> bool {
        self == Purpose::Benefits
    }
}

/// A person's state as a caller of `purpose` may see it: a death whose sole source is a state
/// is left out for callers that may not receive state death data.
pub fn visible(state: &PersonState, purpose: Purpose) -> std::borrow::Cow<'_, PersonState> {
    match state.death {
        Some(d) if d.state_only() && !purpose.sees_state_deaths() => {
            let mut s = state.clone();
            s.death = None;
            std::borrow::Cow::Owned(s)
        }
        _ => std::borrow::Cow::Borrowed(state),
    }
}

/// The answer a caller of `purpose` gets, from a person's whole state: what the purpose may see
/// of it ([`visible`]), and on a mirror (which holds deaths, not numberholders) "no death on
/// file" where it holds no death, rather than "not in the file". The command line and the API
/// both answer with this, so that they answer alike.
pub fn answer_for(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
    mirror: bool,
) -> Value {
    let seen = state.map(|s| visible(s, purpose));
    if mirror && seen.as_deref().is_none_or(|s| s.death.is_none()) {
        return json!({ "purpose": purpose.code(), "result": "no_death_on_file" });
    }
    answer(purpose, query, seen.as_deref(), today)
}

/// The answer to a verification for `purpose`, from the state given (already made
/// [`visible`] for the caller where that applies).
pub fn answer(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
) -> Value {
    match purpose {
        Purpose::Identity => {
            let a = answers::identity(query, state);
            let mut v =
                json!({ "purpose": "identity", "code": a.code.code(), "deceased": a.deceased });
            mark_presumed(&mut v, a.presumed_deceased);
            v
        }
        Purpose::Employment => match answers::employment(query, state, today) {
            EmploymentAnswer::Authorized => {
                json!({ "purpose": "employment", "result": "authorized" })
            }
            EmploymentAnswer::Mismatch {
                reason,
                deadline,
                contested,
            } => json!({
                "purpose": "employment", "result": "mismatch", "reason": reason,
                "contest_deadline": deadline.map(|d| d.to_string()), "contested": contested,
            }),
            EmploymentAnswer::FinalNonconfirmation { reason } => {
                json!({ "purpose": "employment", "result": "final_nonconfirmation", "reason": reason })
            }
        },
        Purpose::Benefits => {
            let a = answers::benefits(query, state, today);
            let mut v = json!({ "purpose": "benefits", "code": a.code.code(), "deceased": a.deceased, "suspended": a.suspended });
            mark_presumed(&mut v, a.presumed_deceased);
            v
        }
    }
}

/// Adds `presumed_deceased` only when true, so that every other answer reads exactly as before.
fn mark_presumed(answer: &mut Value, presumed: bool) {
    if presumed {
        answer["presumed_deceased"] = true.into();
    }
}

/// The fields of an identity that differ, each `{field, reported, on_file}`: for the operator
/// and caseworkers only, as they show what is on file.
pub fn differences_json(differences: &[crate::identity::Difference]) -> Value {
    differences
        .iter()
        .map(|d| json!({ "field": d.field.code(), "reported": d.reported, "on_file": d.on_file }))
        .collect()
}

/// One submission's result.
pub fn result(line: u64, result: &Result<Accepted, Rejection>) -> Value {
    match result {
        Ok(a) => {
            let mut v = json!({ "line": line, "status": "accepted", "seq": a.seq, "outcome": a.outcome.code() });
            match &a.outcome {
                Outcome::HeldForReview(reason) => v["reason"] = reason.as_str().into(),
                Outcome::Held {
                    reason,
                    differences,
                } => {
                    v["reason"] = reason.code().into();
                    v["differences"] = differences_json(differences);
                }
                Outcome::NoticeRecorded { contest_deadline } => {
                    v["contest_deadline"] = contest_deadline.to_string().into()
                }
                Outcome::Suspended(notices) => v["notices"] = json!(notices),
                Outcome::Decided { notice, upheld } => {
                    v["notice"] = (*notice).into();
                    v["decision"] = crate::event::decision_code(*upheld).into();
                }
                _ => {}
            }
            v
        }
        Err(r) => json!({ "line": line, "status": "rejected", "path": r.path, "reason": r.reason }),
    }
}
