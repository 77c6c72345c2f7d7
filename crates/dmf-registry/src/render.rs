//! The views of answers and submission results, shared by the command line and the HTTP API
//! so that both say the same thing in the same words. Each view derives its serialization and
//! its JSON Schema, so the API's description is made of the very types it answers with.

use dmf_model::{Date, Seq};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

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

/// An answer to a verification, of any purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Answer {
    Identity(IdentityView),
    Employment(EmploymentView),
    Benefits(BenefitsView),
    NoDeathOnFile(NoDeathOnFile),
}

/// The identity answer: the SSN verification code and the death indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "IdentityAnswer")]
pub struct IdentityView {
    #[schemars(schema_with = "purpose_identity")]
    pub purpose: &'static str,
    #[schemars(schema_with = "identity_code")]
    pub code: &'static str,
    pub deceased: bool,
    /// Present (true) only when the record is presumed deceased by age: never a recorded death.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(schema_with = "presumed")]
    pub presumed_deceased: bool,
}

/// The employment-eligibility answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "EmploymentAnswer")]
pub struct EmploymentView {
    #[schemars(schema_with = "purpose_employment")]
    pub purpose: &'static str,
    #[serde(flatten)]
    pub result: EmploymentResult,
}

/// Authorized, a mismatch the employee may contest, or final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum EmploymentResult {
    Authorized,
    Mismatch {
        reason: &'static str,
        /// The last day to contest; null when a contest suspended the deadline.
        contest_deadline: Option<String>,
        contested: bool,
    },
    FinalNonconfirmation {
        reason: &'static str,
    },
}

/// The benefit program answer: code, death indicator (state-reported deaths included),
/// suspension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "BenefitsAnswer")]
pub struct BenefitsView {
    #[schemars(schema_with = "purpose_benefits")]
    pub purpose: &'static str,
    #[schemars(schema_with = "identity_code")]
    pub code: &'static str,
    pub deceased: bool,
    pub suspended: bool,
    /// Present (true) only when the record is presumed deceased by age.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(schema_with = "presumed")]
    pub presumed_deceased: bool,
}

/// A mirror's answer where it holds no death: it holds deaths, not numberholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NoDeathOnFile {
    pub purpose: &'static str,
    #[schemars(schema_with = "no_death_on_file")]
    pub result: &'static str,
}

fn one_of_strings(values: &[&str]) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": values })
}

fn purpose_identity(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["identity"])
}

fn purpose_employment(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["employment"])
}

fn purpose_benefits(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["benefits"])
}

fn identity_code(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["V", "1", "3", "5", "X"])
}

fn no_death_on_file(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["no_death_on_file"])
}

fn presumed(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "boolean", "const": true })
}

/// The answer a caller of `purpose` gets, from a person's whole state: what the purpose may see
/// of it ([`visible`]), and on a mirror (which holds deaths, not numberholders) "no death on
/// file" where it holds no death, rather than "not in the file". The command line and the API
/// both answer with this, so that they answer alike.
pub fn answer_view_for(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
    mirror: bool,
) -> Answer {
    let seen = state.map(|s| visible(s, purpose));
    if mirror && seen.as_deref().is_none_or(|s| s.death.is_none()) {
        return Answer::NoDeathOnFile(NoDeathOnFile {
            purpose: purpose.code(),
            result: "no_death_on_file",
        });
    }
    answer_view(purpose, query, seen.as_deref(), today)
}

/// [`answer_view_for`] as JSON.
pub fn answer_for(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
    mirror: bool,
) -> Value {
    to_value(&answer_view_for(purpose, query, state, today, mirror))
}

/// The answer to a verification for `purpose`, from the state given (already made
/// [`visible`] for the caller where that applies).
pub fn answer_view(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
) -> Answer {
    match purpose {
        Purpose::Identity => {
            let a = answers::identity(query, state);
            Answer::Identity(IdentityView {
                purpose: "identity",
                code: a.code.code(),
                deceased: a.deceased,
                presumed_deceased: a.presumed_deceased,
            })
        }
        Purpose::Employment => Answer::Employment(EmploymentView {
            purpose: "employment",
            result: match answers::employment(query, state, today) {
                EmploymentAnswer::Authorized => EmploymentResult::Authorized,
                EmploymentAnswer::Mismatch {
                    reason,
                    deadline,
                    contested,
                } => EmploymentResult::Mismatch {
                    reason,
                    contest_deadline: deadline.map(|d| d.to_string()),
                    contested,
                },
                EmploymentAnswer::FinalNonconfirmation { reason } => {
                    EmploymentResult::FinalNonconfirmation { reason }
                }
            },
        }),
        Purpose::Benefits => {
            let a = answers::benefits(query, state, today);
            Answer::Benefits(BenefitsView {
                purpose: "benefits",
                code: a.code.code(),
                deceased: a.deceased,
                suspended: a.suspended,
                presumed_deceased: a.presumed_deceased,
            })
        }
    }
}

/// [`answer_view`] as JSON.
pub fn answer(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
) -> Value {
    to_value(&answer_view(purpose, query, state, today))
}

/// A view as a JSON value (keys in order, as the command line prints them).
fn to_value(view: &impl Serialize) -> Value {
    // A view holds strings, numbers and booleans only: it always serialises.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// One field of an identity that differs: for the operator and caseworkers only, as it shows
/// what is on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DifferenceView {
    pub field: &'static str,
    pub reported: String,
    pub on_file: String,
}

/// The fields of an identity that differ.
pub fn differences(differences: &[crate::identity::Difference]) -> Vec<DifferenceView> {
    differences
        .iter()
        .map(|d| DifferenceView {
            field: d.field.code(),
            reported: d.reported.clone(),
            on_file: d.on_file.clone(),
        })
        .collect()
}

/// [`differences`] as JSON, each `{field, reported, on_file}`.
pub fn differences_json(d: &[crate::identity::Difference]) -> Value {
    to_value(&differences(d))
}

/// One submission's result: the line of an NDJSON body it answers (none for a single JSON
/// body), accepted or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SubmissionResult {
    /// The line of an NDJSON body answered (from 1); absent for a single JSON body.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub line: Option<u64>,
    #[serde(flatten)]
    pub status: SubmissionStatus,
}

/// Accepted, with what the submission did, or rejected, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SubmissionStatus {
    Accepted(AcceptedView),
    Rejected { path: String, reason: String },
}

/// What an accepted submission did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AcceptedView {
    /// The event stored.
    pub seq: Seq,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields that differ from the record on file (caseworkers and the operator only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<DifferenceView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contest_deadline: Option<String>,
    /// The notices a death suspended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notices: Option<Vec<Seq>>,
    /// The notice a contest decision decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<Seq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "decision")]
    pub decision: Option<&'static str>,
}

fn decision(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    one_of_strings(&["upheld", "denied"])
}

impl SubmissionResult {
    /// The accepted part, if accepted.
    pub fn accepted(&self) -> Option<&AcceptedView> {
        match &self.status {
            SubmissionStatus::Accepted(a) => Some(a),
            SubmissionStatus::Rejected { .. } => None,
        }
    }
}

/// One submission's result as a view; `line` 0 is a single body's, without a line.
pub fn result_view(line: u64, result: &Result<Accepted, Rejection>) -> SubmissionResult {
    let status = match result {
        Ok(a) => {
            let mut v = AcceptedView {
                seq: a.seq,
                outcome: a.outcome.code().to_owned(),
                reason: None,
                differences: None,
                contest_deadline: None,
                notices: None,
                notice: None,
                decision: None,
            };
            match &a.outcome {
                Outcome::HeldForReview(reason) => v.reason = Some(reason.clone()),
                Outcome::Held {
                    reason,
                    differences: d,
                } => {
                    v.reason = Some(reason.code().to_owned());
                    v.differences = Some(differences(d));
                }
                Outcome::NoticeRecorded { contest_deadline } => {
                    v.contest_deadline = Some(contest_deadline.to_string())
                }
                Outcome::Suspended(notices) => v.notices = Some(notices.clone()),
                Outcome::Decided { notice, upheld } => {
                    v.notice = Some(*notice);
                    v.decision = Some(crate::event::decision_code(*upheld));
                }
                _ => {}
            }
            SubmissionStatus::Accepted(v)
        }
        Err(r) => SubmissionStatus::Rejected {
            path: r.path.clone(),
            reason: r.reason.clone(),
        },
    };
    SubmissionResult {
        line: (line > 0).then_some(line),
        status,
    }
}

/// One submission's result as JSON.
pub fn result(line: u64, result: &Result<Accepted, Rejection>) -> Value {
    to_value(&result_view(line, result))
}
