//! HL7 FHIR VRDR death records inside NCHS Vital Records FHIR Messaging envelopes: a pure
//! reader of the messages a state sends (no IO), and the answers a receiver gives.
//!
//! The reader gives what the registry needs and nothing more; every problem names its
//! FHIRPath-like location (`Bundle.entry[2].resource.identifier[0].value`) and the reason.

use std::fmt;
use std::str::FromStr;

pub mod answer;
mod read;
pub mod testing;

pub use read::{read, read_document};

#[cfg(test)]
mod tests;

/// The `eventUri` of each kind of message of the messaging guide.
pub mod event_uri {
    pub const SUBMISSION: &str = "http://nchs.cdc.gov/vrdr_submission";
    pub const UPDATE: &str = "http://nchs.cdc.gov/vrdr_submission_update";
    pub const VOID: &str = "http://nchs.cdc.gov/vrdr_submission_void";
    pub const ALIAS: &str = "http://nchs.cdc.gov/vrdr_alias";
    pub const ACKNOWLEDGEMENT: &str = "http://nchs.cdc.gov/vrdr_acknowledgement";
    pub const EXTRACTION_ERROR: &str = "http://nchs.cdc.gov/vrdr_extraction_error";
    pub const STATUS: &str = "http://nchs.cdc.gov/vrdr_status";
    pub const CAUSE_OF_DEATH_CODING: &str = "http://nchs.cdc.gov/vrdr_causeofdeath_coding";
    pub const CAUSE_OF_DEATH_CODING_UPDATE: &str =
        "http://nchs.cdc.gov/vrdr_causeofdeath_coding_update";
    pub const DEMOGRAPHICS_CODING: &str = "http://nchs.cdc.gov/vrdr_demographics_coding";
    pub const DEMOGRAPHICS_CODING_UPDATE: &str =
        "http://nchs.cdc.gov/vrdr_demographics_coding_update";
    pub const INDUSTRY_OCCUPATION_CODING: &str =
        "http://nchs.cdc.gov/vrdr_industryoccupation_coding";
    pub const INDUSTRY_OCCUPATION_CODING_UPDATE: &str =
        "http://nchs.cdc.gov/vrdr_industryoccupation_coding_update";
    /// The coding responses of earlier versions of the messaging guide.
    pub const CODING: &str = "http://nchs.cdc.gov/vrdr_coding";
    pub const CODING_UPDATE: &str = "http://nchs.cdc.gov/vrdr_coding_update";

    /// Every coding message, read as `Body::Coding`.
    pub const CODING_FAMILY: [&str; 8] = [
        CAUSE_OF_DEATH_CODING,
        CAUSE_OF_DEATH_CODING_UPDATE,
        DEMOGRAPHICS_CODING,
        DEMOGRAPHICS_CODING_UPDATE,
        INDUSTRY_OCCUPATION_CODING,
        INDUSTRY_OCCUPATION_CODING_UPDATE,
        CODING,
        CODING_UPDATE,
    ];
}

/// The kind of an OperationOutcome issue a problem is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// Not JSON, or not the shape of a FHIR resource.
    Structure,
    /// A required element is missing.
    Required,
    /// An element has a value that is not allowed.
    Value,
    /// Valid FHIR, but not something this receiver takes.
    NotSupported,
    /// Against a rule of the receiver (another jurisdiction, an SSN never issued, a record
    /// unknown).
    BusinessRule,
}

impl IssueCode {
    /// The FHIR `issue-type` code.
    pub fn code(self) -> &'static str {
        match self {
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::NotSupported => "not-supported",
            IssueCode::BusinessRule => "business-rule",
        }
    }
}

/// One problem with a message: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct Problem {
    /// FHIRPath-like: `Bundle.entry[2].resource.identifier[0].value`.
    pub location: String,
    pub reason: String,
    pub code: IssueCode,
}

impl Problem {
    pub fn new(location: impl Into<String>, code: IssueCode, reason: impl fmt::Display) -> Problem {
        Problem {
            location: location.into(),
            reason: reason.to_string(),
            code,
        }
    }
}

/// A message refused: each problem, and what could still be read of the message so that the
/// extraction error can name it (its id, its record's identifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message_id: Option<String>,
    /// The sender's endpoint (`MessageHeader.source.endpoint`), where the answer goes.
    pub source: Option<String>,
    pub ids: Option<RecordIds>,
    pub problems: Vec<Problem>,
}

/// A two-letter NCHS jurisdiction: the 50 states, DC, the territories (AS, GU, MP, PR, VI) and
/// New York City (YC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Jurisdiction([u8; 2]);

/// Every jurisdiction id NCHS assigns.
pub const JURISDICTIONS: [&str; 57] = [
    "AK", "AL", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "GU", "HI", "IA", "ID",
    "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MP", "MS", "MT", "NC", "ND",
    "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX",
    "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY", "YC",
];

/// Text that is not a jurisdiction id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an NCHS jurisdiction id (two capital letters such as NY, DC, PR or YC)")]
pub struct UnknownJurisdiction(pub String);

impl FromStr for Jurisdiction {
    type Err = UnknownJurisdiction;

    fn from_str(s: &str) -> Result<Jurisdiction, UnknownJurisdiction> {
        match JURISDICTIONS.iter().find(|j| **j == s) {
            Some(j) => Ok(Jurisdiction(j.as_bytes().try_into().expect("two letters"))),
            None => Err(UnknownJurisdiction(s.to_owned())),
        }
    }
}

impl Jurisdiction {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII")
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A death record's business key: jurisdiction, death year and certificate number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertificateKey {
    pub jurisdiction: Jurisdiction,
    pub year: u16,
    /// 0 to 999999.
    pub number: u32,
}

impl fmt::Display for CertificateKey {
    /// As `Bundle.identifier` gives it: `2018NY123456`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{}{:06}", self.year, self.jurisdiction, self.number)
    }
}

/// Text that is not a record identifier such as `2018NY123456`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a record identifier (death year, jurisdiction, certificate number: 2018NY123456)"
)]
pub struct BadCertificateKey(pub String);

impl FromStr for CertificateKey {
    type Err = BadCertificateKey;

    fn from_str(s: &str) -> Result<CertificateKey, BadCertificateKey> {
        let bad = || BadCertificateKey(s.to_owned());
        if s.len() != 12 || !s.is_ascii() {
            return Err(bad());
        }
        let year = s[..4].parse().map_err(|_| bad())?;
        let jurisdiction = s[4..6].parse().map_err(|_| bad())?;
        if !s[6..].bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number = s[6..].parse().map_err(|_| bad())?;
        Ok(CertificateKey {
            jurisdiction,
            year,
            number,
        })
    }
}

/// The identifiers a message's `Parameters` carry for its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordIds {
    pub key: CertificateKey,
    /// `state_auxiliary_id`, the state's own record id, if given.
    pub state_auxiliary_id: Option<String>,
}

/// A value with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub location: String,
}

/// A date whose parts may each be unknown (the PartialDate / PartialDateTime extensions with
/// data-absent parts, or a FHIR date of only a year or a year and month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParts {
    pub year: Option<u16>,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

/// The decedent's official name (`Patient.name` with `use` official).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialName {
    /// The first given name, then the middle names as further given names.
    pub given: Vec<String>,
    pub family: Option<String>,
    pub suffix: Option<String>,
}

/// Sex (at death): `NVSS-SexAtDeath`, or the administrative gender of older records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SexAtDeath {
    Female,
    Male,
    Unknown,
}

/// Who certified the death: the `Practitioner` the `Composition`'s legal attester names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certifier {
    /// The name as one line, given names then family.
    pub name: Option<String>,
    /// An identifier such as the NPI, as `system|value`.
    pub identifier: Option<String>,
    pub location: String,
}

/// What the registry reads of a death certificate document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeathCertificate {
    /// `Bundle.id` of the document.
    pub document_id: Option<String>,
    /// `Bundle.identifier` (`http://nchs.cdc.gov/vrdr_id`), if it parses.
    pub key: Option<Located<CertificateKey>>,
    /// The `us-ssn` identifier's value, as given (digits, maybe dashed or of the wrong length:
    /// the registry judges it).
    pub ssn: Option<Located<String>>,
    pub name: Option<Located<OfficialName>>,
    pub sex: Option<Located<SexAtDeath>>,
    pub birth: Option<Located<DateParts>>,
    /// LOINC 81956-5.
    pub death: Option<Located<DateParts>>,
    pub certifier: Option<Certifier>,
}

/// A submission or update: the record's identifiers and its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub ids: RecordIds,
    pub certificate: DeathCertificate,
}

/// A void: the record, and how many consecutive certificate numbers from it (1 or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Void {
    pub ids: RecordIds,
    pub block_count: u32,
}

impl Void {
    /// Every record the void withdraws, in order.
    pub fn keys(&self) -> impl Iterator<Item = CertificateKey> + '_ {
        (0..self.block_count).map(move |i| CertificateKey {
            number: self.ids.key.number + i,
            ..self.ids.key
        })
    }
}

/// An alias: further names and an SSN the decedent was known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub ids: RecordIds,
    pub first: Option<String>,
    pub middle: Option<String>,
    pub last: Option<String>,
    pub suffix: Option<String>,
    pub father_surname: Option<String>,
    pub ssn: Option<Located<String>>,
}

/// An answer a receiver sent (acknowledgement, extraction error, status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `MessageHeader.response.identifier`: the id of the message answered (empty for a
    /// status message that names none, as the guide's own example does).
    pub acknowledged: String,
    pub ids: Option<RecordIds>,
    /// Extraction errors: each issue's diagnostics; status: the status.
    pub details: Vec<String>,
}

/// A message of the coding family (cause of death, demographics, their updates, coding
/// responses): read only for its identifiers, its content kept opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coding {
    pub event_uri: String,
    pub ids: Option<RecordIds>,
}

/// What a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Submission(Record),
    Update(Record),
    Void(Void),
    Alias(Alias),
    Acknowledgement(Response),
    ExtractionError(Response),
    Status(Response),
    Coding(Coding),
}

/// A message: its header and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `MessageHeader.id`: what answers name in `response.identifier`.
    pub id: String,
    /// `MessageHeader.source.endpoint`.
    pub source: Option<String>,
    /// `MessageHeader.destination[*].endpoint`.
    pub destinations: Vec<String>,
    pub body: Body,
}

impl Body {
    /// The record the message names, if it names one.
    pub fn ids(&self) -> Option<&RecordIds> {
        match self {
            Body::Submission(r) | Body::Update(r) => Some(&r.ids),
            Body::Void(v) => Some(&v.ids),
            Body::Alias(a) => Some(&a.ids),
            Body::Acknowledgement(r) | Body::ExtractionError(r) | Body::Status(r) => r.ids.as_ref(),
            Body::Coding(c) => c.ids.as_ref(),
        }
    }
}

/// What a request body holds: one message, or a `Bundle` of type `batch` of messages, each
/// read on its own (locations inside a batch start `Bundle.entry[i].resource`).
// One message is the common case; boxing it would cost an allocation for each, and the type is
// the one callers already code against.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    One(Result<Message, Refusal>),
    Batch(Vec<Result<Message, Refusal>>),
}
