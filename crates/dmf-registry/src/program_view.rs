//! One view of a computer-matching agreement for the API, the console and the command line:
//! the terms as the parties wrote them, the status today, who recorded, approved and renewed
//! it, and the keys bound to it; with its requests where one agreement is shown whole.

use dmf_model::{Date, Reference};
use schemars::JsonSchema;
use serde::Serialize;

use crate::program::{Agreement, Element, InputField, Terms};

/// An agreement as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "Agreement")]
pub struct AgreementView {
    pub id: u64,
    #[schemars(schema_with = "agreement_status")]
    pub status: &'static str,
    pub terms: TermsView,
    /// The expiry, or the renewal's when renewed.
    pub expiry_in_force: String,
    pub created_by: String,
    pub created_on: String,
    pub approved_by: Option<String>,
    pub approved_on: Option<String>,
    pub renewed_to: Option<String>,
    pub renewed_by: Option<String>,
    /// The names of the agency keys bound to it.
    pub keys: Vec<String>,
    /// One agreement shown whole only: its match requests, each match's due process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Vec<RequestView>>,
}

/// The terms of an agreement, as recorded and as a new agreement is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AgreementTerms")]
pub struct TermsView {
    pub recipient: String,
    pub source: String,
    pub purpose: String,
    pub legal_authority: String,
    #[schemars(schema_with = "elements")]
    pub recipient_receives: Vec<&'static str>,
    #[schemars(schema_with = "input_fields")]
    pub source_receives: Vec<&'static str>,
    #[schemars(range(min = 1, max = 3650))]
    pub retention_days: u32,
    pub start: String,
    pub expiry: String,
    #[serde(default)]
    pub adverse_action: bool,
    #[serde(default)]
    pub law_enforcement_criterion: Option<String>,
}

/// A match request as listed: counts, and each match's due process (never the SSNs: the
/// accounting holds who was disclosed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RequestView {
    pub id: u64,
    pub day: String,
    /// The name of the key that asked.
    pub key: String,
    /// Why it was refused, if it was.
    pub refused: Option<String>,
    pub records: u64,
    pub matched: usize,
    pub disclosed: u64,
    pub law_enforcement: usize,
    pub elements: Vec<&'static str>,
    pub cases: Vec<CaseView>,
}

/// Where one match of a request stands in its due process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaseView {
    #[serde(rename = "match")]
    pub n: u32,
    pub status: &'static str,
}

/// The statistics of one agreement in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProgramStatsRow {
    pub agreement: u64,
    pub period: String,
    pub requests: u64,
    pub refused: u64,
    pub records: u64,
    pub matched: u64,
    pub disclosed: u64,
    pub law_enforcement_disclosures: u64,
}

fn strings(values: Vec<&str>) -> schemars::Schema {
    schemars::json_schema!({ "type": "array", "items": { "type": "string", "enum": values } })
}

fn elements(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    strings(Element::ALL.iter().map(|e| e.code()).collect())
}

fn input_fields(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    strings(InputField::ALL.iter().map(|f| f.code()).collect())
}

fn agreement_status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["awaiting_approval", "not_started", "active", "expired"]
    })
}

impl TermsView {
    pub fn new(t: &Terms) -> TermsView {
        TermsView {
            recipient: t.recipient.as_str().to_owned(),
            source: t.source.as_str().to_owned(),
            purpose: t.purpose.as_str().to_owned(),
            legal_authority: t.legal_authority.as_str().to_owned(),
            recipient_receives: t.recipient_receives.iter().map(|e| e.code()).collect(),
            source_receives: t.source_receives.iter().map(|e| e.code()).collect(),
            retention_days: t.retention_days,
            start: t.start.to_string(),
            expiry: t.expiry.to_string(),
            adverse_action: t.adverse_action,
            law_enforcement_criterion: t
                .law_enforcement
                .as_ref()
                .map(|r| Reference::as_str(r).to_owned()),
        }
    }
}

impl AgreementView {
    /// Agreement `a` as it stands on `today`, with the names of the keys bound to it.
    pub fn new(a: &Agreement, keys: Vec<String>, today: Date) -> AgreementView {
        AgreementView {
            id: a.id,
            status: a.status(today).code(),
            terms: TermsView::new(&a.terms),
            expiry_in_force: a.expiry().to_string(),
            created_by: a.created.by.clone(),
            created_on: a.created.on.to_string(),
            approved_by: a.approved.as_ref().map(|x| x.by.clone()),
            approved_on: a.approved.as_ref().map(|x| x.on.to_string()),
            renewed_to: a.renewed.as_ref().map(|(d, _)| d.to_string()),
            renewed_by: a.renewed.as_ref().map(|(_, x)| x.by.clone()),
            keys,
            requests: None,
        }
    }
}
