//! The service's records in a registry's dump, one JSON object a line beside the events: API
//! key metadata (the SHA-256 of each secret, never a secret), the disclosure accounting and
//! the programs' journal; written from the stores and read back into them.

use dmf_ledger::log::{hex, unhex32};
use dmf_model::Date;
use dmf_vrdr::Jurisdiction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::accounting::Disclosure;
use crate::keys::{ApiKey, KeyError, Role, SecretHash, may_have_jurisdiction};
use crate::programs::Entry;

/// One record of the service in a dump, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServiceRecord {
    ApiKey(KeyRecord),
    Disclosure(DisclosureRecord),
    ProgramEntry(EntryRecord),
}

/// An API key as dumped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: i64,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub certified: bool,
    pub source: Option<String>,
    pub authority: Option<String>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub revoked: bool,
    pub daily_quota: Option<u64>,
    /// A state reporter's NCHS jurisdiction; absent from the lines of earlier versions.
    pub jurisdiction: Option<String>,
    /// The SHA-256 of the secret, in hex.
    pub secret_sha256: String,
}

/// A disclosure as dumped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureRecord {
    pub ssn: u32,
    #[serde(default)]
    pub at: i64,
    #[serde(default)]
    pub key_id: i64,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// An entry of the programs' journal as dumped; its body as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: i64,
    #[serde(default)]
    pub at: i64,
    pub day: String,
    pub kind: String,
    pub agreement: Option<u64>,
    #[serde(default)]
    pub actor: String,
    pub body: Value,
}

/// A record of the service, read and checked, ready for its store.
#[derive(Debug, Clone, PartialEq)]
pub enum Restored {
    Key(ApiKey, SecretHash),
    Disclosure(Disclosure),
    ProgramEntry(Entry),
}

/// Why a dump's record of the service cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("\"secret_sha256\" is not 64 hex digits")]
    Digest,
    /// An unknown role, or a jurisdiction the key may not have.
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("no valid \"day\": {0:?}")]
    Day(String),
}

impl ServiceRecord {
    pub fn key(key: &ApiKey, digest: &SecretHash) -> ServiceRecord {
        ServiceRecord::ApiKey(KeyRecord {
            id: key.id,
            name: key.name.clone(),
            role: key.role.code().to_owned(),
            certified: key.certified,
            source: key.source.clone(),
            authority: key.authority.clone(),
            created_at: key.created_at,
            revoked: key.revoked,
            daily_quota: key.daily_quota,
            jurisdiction: key.jurisdiction.clone(),
            secret_sha256: hex(digest),
        })
    }

    pub fn disclosure(d: &Disclosure) -> ServiceRecord {
        ServiceRecord::Disclosure(DisclosureRecord {
            ssn: d.ssn,
            at: d.at_ms,
            key_id: d.key_id,
            to: d.key_name.clone(),
            purpose: d.purpose.clone(),
            fields: d.fields.clone(),
        })
    }

    pub fn entry(e: &Entry) -> ServiceRecord {
        ServiceRecord::ProgramEntry(EntryRecord {
            id: e.id,
            at: e.at_ms,
            day: e.day.to_string(),
            kind: e.kind.clone(),
            agreement: e.agreement,
            actor: e.actor.clone(),
            body: e.body.clone(),
        })
    }

    /// The record as one line of the dump.
    pub fn to_value(&self) -> Value {
        // A record of strings, numbers and an already-parsed body always serializes.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A dump's line read back: its type, every field it must have, and their forms.
    pub fn restore(v: Value) -> Result<Restored, RecordError> {
        Ok(match serde_json::from_value::<ServiceRecord>(v)? {
            ServiceRecord::ApiKey(k) => {
                // Exactly 64 digits, as written: no white space around them.
                let digest = (k.secret_sha256.len() == 64)
                    .then(|| unhex32(&k.secret_sha256))
                    .flatten()
                    .ok_or(RecordError::Digest)?;
                let role: Role = k.role.parse()?;
                // As written: a state's reporter key, and the id in capitals.
                if let Some(j) = &k.jurisdiction {
                    may_have_jurisdiction(role, k.source.as_deref())?;
                    j.parse::<Jurisdiction>().map_err(KeyError::from)?;
                }
                let key = ApiKey {
                    id: k.id,
                    name: k.name,
                    role,
                    certified: k.certified,
                    source: k.source,
                    authority: k.authority,
                    jurisdiction: k.jurisdiction,
                    created_at: k.created_at,
                    revoked: k.revoked,
                    daily_quota: k.daily_quota,
                };
                Restored::Key(key, digest)
            }
            ServiceRecord::Disclosure(d) => Restored::Disclosure(Disclosure {
                ssn: d.ssn,
                at_ms: d.at,
                key_id: d.key_id,
                key_name: d.to,
                purpose: d.purpose,
                fields: d.fields,
            }),
            ServiceRecord::ProgramEntry(e) => {
                let day: Date = e.day.parse().map_err(|_| RecordError::Day(e.day.clone()))?;
                Restored::ProgramEntry(Entry {
                    id: e.id,
                    at_ms: e.at,
                    day,
                    kind: e.kind,
                    agreement: e.agreement,
                    actor: e.actor,
                    body: e.body,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_record_comes_back_as_it_went() {
        let key = ApiKey {
            id: 7,
            name: "bank".into(),
            role: Role::Identity,
            certified: false,
            source: None,
            authority: None,
            jurisdiction: None,
            created_at: 1_700_000_000_000,
            revoked: true,
            daily_quota: Some(500),
        };
        let state = ApiKey {
            id: 8,
            name: "new york".into(),
            role: Role::Reporter,
            source: Some("state".into()),
            jurisdiction: Some("NY".into()),
            revoked: false,
            daily_quota: None,
            ..key.clone()
        };
        let digest = [0xab; 32];
        let d = Disclosure {
            ssn: 123_456_789,
            at_ms: 5,
            key_id: 7,
            key_name: "bank".into(),
            purpose: "identity".into(),
            fields: vec!["deceased".into()],
        };
        let e = Entry {
            id: 1,
            at_ms: 9,
            day: Date::new(2026, 1, 2).unwrap(),
            kind: "approval".into(),
            agreement: Some(1),
            actor: "o".into(),
            body: json!({"by": "o"}),
        };
        let check = |record: ServiceRecord, expect: Restored| {
            let line = record.to_value();
            assert_eq!(ServiceRecord::restore(line).unwrap(), expect);
        };
        for key in [&key, &state] {
            check(
                ServiceRecord::key(key, &digest),
                Restored::Key(key.clone(), digest),
            );
        }
        check(
            ServiceRecord::disclosure(&d),
            Restored::Disclosure(d.clone()),
        );
        check(ServiceRecord::entry(&e), Restored::ProgramEntry(e.clone()));
        // The line's form is the dump's: field names as written by every earlier version.
        assert_eq!(
            ServiceRecord::disclosure(&d).to_value(),
            json!({"type": "disclosure", "ssn": 123_456_789, "at": 5, "key_id": 7, "to": "bank",
                   "purpose": "identity", "fields": ["deceased"]})
        );
    }

    #[test]
    fn a_bad_record_is_refused_with_the_field() {
        let check = |v: Value, expect: &str| {
            let err = ServiceRecord::restore(v.clone()).unwrap_err().to_string();
            assert!(err.contains(expect), "{v}: {err}");
        };
        check(json!({"type": "secret"}), "unknown variant `secret`");
        check(json!({"type": "disclosure"}), "missing field `ssn`");
        check(json!({"type": "disclosure", "ssn": -1}), "invalid value");
        check(
            json!({"type": "api_key", "id": 1, "name": "a", "role": "identity", "secret_sha256": "00"}),
            "not 64 hex digits",
        );
        check(
            json!({"type": "api_key", "id": 1, "name": "a", "role": "king",
                   "secret_sha256": "00".repeat(32)}),
            "\"king\" is not a role",
        );
        check(
            json!({"type": "program_entry", "id": 1, "day": "2026-02-30", "kind": "approval",
                   "body": {}}),
            "no valid \"day\"",
        );
        let reporter = |source: &str, jurisdiction: &str| {
            json!({"type": "api_key", "id": 1, "name": "a", "role": "reporter",
                   "source": source, "jurisdiction": jurisdiction,
                   "secret_sha256": "00".repeat(32)})
        };
        check(
            reporter("state", "ZZ"),
            "\"ZZ\" is not an NCHS jurisdiction id",
        );
        // Written in capitals, read back only so.
        check(
            reporter("state", "ny"),
            "\"ny\" is not an NCHS jurisdiction id",
        );
        check(
            reporter("hospital", "NY"),
            "not reporter keys of source hospital",
        );
        check(
            json!({"type": "api_key", "id": 1, "name": "a", "role": "identity",
                   "jurisdiction": "NY", "secret_sha256": "00".repeat(32)}),
            "not identity keys",
        );
    }

    /// A key's line from a version before jurisdictions has none, and reads as such.
    #[test]
    fn a_key_line_without_a_jurisdiction_reads_as_none() {
        let line = json!({"type": "api_key", "id": 3, "name": "albany", "role": "reporter",
                          "certified": false, "source": "state", "authority": null,
                          "created_at": 5, "revoked": false, "daily_quota": null,
                          "secret_sha256": "ab".repeat(32)});
        let Restored::Key(key, _) = ServiceRecord::restore(line).unwrap() else {
            panic!("not a key");
        };
        assert_eq!(
            (key.source.as_deref(), key.jurisdiction),
            (Some("state"), None)
        );
    }
}
