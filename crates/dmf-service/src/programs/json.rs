//! An agreement's terms as JSON, as the API takes them and the journal holds them.

use std::collections::BTreeSet;

use dmf_model::{Date, Reference};
use dmf_registry::program::{ProgramError, Terms};
use serde_json::{Value, json};

/// A JSON path and what is wrong there.
pub type PathError = (String, String);

/// The terms as JSON, as the API and the journal hold them.
pub fn terms_json(t: &Terms) -> Value {
    json!({
        "recipient": t.recipient.as_str(),
        "source": t.source.as_str(),
        "purpose": t.purpose.as_str(),
        "legal_authority": t.legal_authority.as_str(),
        "recipient_receives": t.recipient_receives.iter().map(|e| e.code()).collect::<Vec<_>>(),
        "source_receives": t.source_receives.iter().map(|e| e.code()).collect::<Vec<_>>(),
        "retention_days": t.retention_days,
        "start": t.start.to_string(),
        "expiry": t.expiry.to_string(),
        "adverse_action": t.adverse_action,
        "law_enforcement_criterion": t.law_enforcement.as_ref().map(Reference::as_str),
    })
}

const TERMS_FIELDS: [&str; 11] = [
    "recipient",
    "source",
    "purpose",
    "legal_authority",
    "recipient_receives",
    "source_receives",
    "retention_days",
    "start",
    "expiry",
    "adverse_action",
    "law_enforcement_criterion",
];

/// Terms from JSON, refusing unknown fields and naming the JSON path of the first problem;
/// then checked against the law's limits.
pub fn terms_from_json(v: &Value) -> Result<Terms, PathError> {
    let err = |path: &str, msg: &str| (format!("$.{path}"), msg.to_owned());
    let obj = v
        .as_object()
        .ok_or_else(|| ("$".to_owned(), "expected an object".to_owned()))?;
    if let Some(k) = obj.keys().find(|k| !TERMS_FIELDS.contains(&k.as_str())) {
        return Err(err(
            k,
            &format!(
                "unknown field (expected one of {})",
                TERMS_FIELDS.join(", ")
            ),
        ));
    }
    let text = |f: &str| -> Result<Reference, PathError> {
        let s = v[f].as_str().ok_or_else(|| err(f, "required, a string"))?;
        Reference::new(s).map_err(|e| err(f, &e.to_string()))
    };
    let date = |f: &str| -> Result<Date, PathError> {
        let s = v[f]
            .as_str()
            .ok_or_else(|| err(f, "required, a date YYYY-MM-DD"))?;
        s.parse()
            .map_err(|e: dmf_model::DateError| err(f, &e.to_string()))
    };
    fn list<T: std::str::FromStr<Err = dmf_registry::program::UnknownCode> + Ord>(
        v: &Value,
        f: &str,
    ) -> Result<BTreeSet<T>, PathError> {
        let items = v[f]
            .as_array()
            .ok_or_else(|| (format!("$.{f}"), "required, an array of names".to_owned()))?;
        items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .ok_or_else(|| "expected a string".to_owned())
                    .and_then(|s| {
                        s.parse()
                            .map_err(|e: dmf_registry::program::UnknownCode| e.to_string())
                    })
                    .map_err(|m| (format!("$.{f}[{i}]"), m))
            })
            .collect()
    }
    let retention = v["retention_days"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| err("retention_days", "required, a whole number of days"))?;
    let adverse_action = match &v["adverse_action"] {
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => return Err(err("adverse_action", "expected true or false")),
    };
    let law_enforcement = match &v["law_enforcement_criterion"] {
        Value::Null => None,
        Value::String(s) => {
            Some(Reference::new(s).map_err(|e| err("law_enforcement_criterion", &e.to_string()))?)
        }
        _ => return Err(err("law_enforcement_criterion", "expected a string")),
    };
    let terms = Terms {
        recipient: text("recipient")?,
        source: text("source")?,
        purpose: text("purpose")?,
        legal_authority: text("legal_authority")?,
        recipient_receives: list(v, "recipient_receives")?,
        source_receives: list(v, "source_receives")?,
        retention_days: retention,
        start: date("start")?,
        expiry: date("expiry")?,
        adverse_action,
        law_enforcement,
    };
    terms.check().map_err(|e| {
        let path = match e {
            ProgramError::NothingDisclosed => "recipient_receives",
            ProgramError::NameRequired => "source_receives",
            ProgramError::Retention(_) => "retention_days",
            _ => "expiry",
        };
        err(path, &e.to_string())
    })?;
    Ok(terms)
}
