//! Submissions the server completes for its caller: a correction's request and approval, a
//! review of held work, an identity change. The caller gives some fields; those beyond what
//! the action takes are refused at their path, and the server adds who asked and what it
//! concerns before the whole is parsed as any submission is.

use dmf_model::{Date, Seq, Ssn};
use serde_json::{Map, Value};

use crate::submission::{Rejection, Submission, parse_value};

/// Refuses the first field not among `takes`, saying what the action takes.
fn only(fields: &Map<String, Value>, takes: &[&str], what: &str) -> Result<(), Rejection> {
    match fields.keys().find(|k| !takes.contains(&k.as_str())) {
        Some(k) => Err(Rejection::new(
            format!("$.{k}"),
            format!("unknown field ({what})"),
        )),
        None => Ok(()),
    }
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// A correction asked for: its SSN, kind, reason and evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrectionFields(Map<String, Value>);

impl CorrectionFields {
    pub fn new(fields: Map<String, Value>) -> Result<CorrectionFields, Rejection> {
        only(
            &fields,
            &["ssn", "kind", "reason", "evidence"],
            "a correction takes ssn, kind, reason, evidence",
        )?;
        Ok(CorrectionFields(fields))
    }

    /// The request by `requested_by`, checked as it will be submitted (with a stand-in second
    /// person), and the text kept until someone approves it.
    pub fn check(
        mut self,
        requested_by: &str,
        today: Date,
    ) -> Result<(Submission, String), Rejection> {
        self.0.insert("type".into(), text("correction"));
        self.0.insert("requested_by".into(), text(requested_by));
        let stored = Value::Object(self.0.clone()).to_string();
        let mut trial = self.0;
        trial.insert(
            "approved_by".into(),
            Value::String(format!("{requested_by} (approval pending)")),
        );
        Ok((parse_value(&Value::Object(trial), today)?, stored))
    }
}

/// Why a kept correction request cannot be submitted.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("the kept correction request is unreadable: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error(transparent)]
    Rejected(#[from] Rejection),
}

/// A kept correction request (from [`CorrectionFields::check`]) approved by `approved_by`.
pub fn approved_correction(
    stored: &str,
    approved_by: &str,
    today: Date,
) -> Result<Submission, ApprovalError> {
    let mut fields: Map<String, Value> = serde_json::from_str(stored)?;
    fields.insert("approved_by".into(), text(approved_by));
    Ok(parse_value(&Value::Object(fields), today)?)
}

/// A review's evidence and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFields(Map<String, Value>);

impl ReviewFields {
    pub fn new(fields: Map<String, Value>) -> Result<ReviewFields, Rejection> {
        only(
            &fields,
            &["evidence", "reason"],
            "a review takes evidence and reason",
        )?;
        Ok(ReviewFields(fields))
    }

    /// The review by `by` of event `event`, on `ssn`'s record.
    pub fn submission(
        mut self,
        ssn: Ssn,
        event: Seq,
        confirm: bool,
        by: &str,
        today: Date,
    ) -> Result<Submission, Rejection> {
        let m = &mut self.0;
        m.insert("type".into(), text("review"));
        m.insert("ssn".into(), Value::String(ssn.to_string()));
        m.insert("event".into(), Value::from(event));
        m.insert(
            "decision".into(),
            text(if confirm { "confirm" } else { "reject" }),
        );
        m.insert("by".into(), text(by));
        parse_value(&Value::Object(self.0), today)
    }
}

/// An identity change's new name, date of birth or sex, with its reason and evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityChangeFields(Map<String, Value>);

impl IdentityChangeFields {
    pub fn new(fields: Map<String, Value>) -> Result<IdentityChangeFields, Rejection> {
        only(
            &fields,
            &[
                "first", "middle", "last", "suffix", "dob", "sex", "reason", "evidence",
            ],
            "an identity change takes first, middle, last, suffix, dob, sex, reason, evidence",
        )?;
        Ok(IdentityChangeFields(fields))
    }

    /// The change asked for by `requested_by` on `ssn`'s record.
    pub fn submission(
        mut self,
        ssn: Ssn,
        requested_by: &str,
        today: Date,
    ) -> Result<Submission, Rejection> {
        let m = &mut self.0;
        m.insert("type".into(), text("identity_change"));
        m.insert("ssn".into(), Value::String(ssn.to_string()));
        m.insert("requested_by".into(), text(requested_by));
        parse_value(&Value::Object(self.0), today)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_field_an_action_does_not_take_is_refused_at_its_path() {
        let check = |r: Result<(), Rejection>, path: &str, says: &str| {
            let e = r.unwrap_err();
            assert_eq!(e.path, path);
            assert!(e.reason.contains(says), "{}", e.reason);
        };
        check(
            CorrectionFields::new(map(json!({"ssn": "1", "approved_by": "me"}))).map(|_| ()),
            "$.approved_by",
            "a correction takes ssn, kind, reason, evidence",
        );
        check(
            ReviewFields::new(map(json!({"by": "me"}))).map(|_| ()),
            "$.by",
            "a review takes evidence and reason",
        );
        check(
            IdentityChangeFields::new(map(json!({"ssn": "123456789"}))).map(|_| ()),
            "$.ssn",
            "an identity change takes first",
        );
    }

    #[test]
    fn a_kept_request_that_is_not_json_is_unreadable_not_rejected() {
        let today = Date::new(2026, 1, 2).unwrap();
        assert!(matches!(
            approved_correction("{not json", "b", today),
            Err(ApprovalError::Unreadable(_))
        ));
        assert!(matches!(
            approved_correction("{\"type\":\"correction\"}", "b", today),
            Err(ApprovalError::Rejected(_))
        ));
    }
}
