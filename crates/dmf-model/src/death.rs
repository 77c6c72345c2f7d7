//! Death reports and the deaths they establish.
//!
//! [`Death`] has no public constructor but [`DeathReport::death`]: a death without a death
//! report from a death-reporting source cannot be represented.

use std::fmt;
use std::str::FromStr;

use crate::{PartialDate, Reference, ReportedName, Ssn};

/// The kinds of source that may report a death. Nothing else can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeathSource {
    /// A state vital-records office (electronic death registration).
    StateVitalRecords,
    FuneralHome,
    Family,
    Hospital,
    /// Another federal agency.
    FederalAgency,
    /// A bank or other financial institution (for example a returned payment).
    FinancialInstitution,
}

impl DeathSource {
    pub const ALL: [DeathSource; 6] = [
        DeathSource::StateVitalRecords,
        DeathSource::FuneralHome,
        DeathSource::Family,
        DeathSource::Hospital,
        DeathSource::FederalAgency,
        DeathSource::FinancialInstitution,
    ];

    /// The code used in files and APIs: `state`, `funeral_home`, `family`, `hospital`,
    /// `federal_agency`, `financial_institution`.
    pub fn code(self) -> &'static str {
        match self {
            DeathSource::StateVitalRecords => "state",
            DeathSource::FuneralHome => "funeral_home",
            DeathSource::Family => "family",
            DeathSource::Hospital => "hospital",
            DeathSource::FederalAgency => "federal_agency",
            DeathSource::FinancialInstitution => "financial_institution",
        }
    }

    /// Whether a single report from this source is verified on receipt.
    pub fn verified_on_receipt(self) -> bool {
        self == DeathSource::StateVitalRecords
    }
}

/// A source code that is not a death-reporting source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a death-reporting source (one of state, funeral_home, family, hospital, \
     federal_agency, financial_institution)"
)]
pub struct UnknownSource(pub String);

impl FromStr for DeathSource {
    type Err = UnknownSource;

    fn from_str(s: &str) -> Result<DeathSource, UnknownSource> {
        DeathSource::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| UnknownSource(s.to_owned()))
    }
}

impl fmt::Display for DeathSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How well a death was verified, as the DMF codes it in position 65.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum VerificationLevel {
    /// Blank: neither verified nor proof seen.
    #[default]
    None,
    /// `V`: verified with a family member or other source.
    Verified,
    /// `P`: proof of death seen.
    ProofSeen,
}

impl VerificationLevel {
    /// The DMF code: `V`, `P` or a blank.
    pub fn code(self) -> u8 {
        match self {
            VerificationLevel::None => b' ',
            VerificationLevel::Verified => b'V',
            VerificationLevel::ProofSeen => b'P',
        }
    }

    /// A word for people: `none`, `verified` or `proof_seen`.
    pub fn name(self) -> &'static str {
        match self {
            VerificationLevel::None => "none",
            VerificationLevel::Verified => "verified",
            VerificationLevel::ProofSeen => "proof_seen",
        }
    }

    pub fn from_code(code: u8) -> Option<VerificationLevel> {
        match code {
            b' ' => Some(VerificationLevel::None),
            b'V' => Some(VerificationLevel::Verified),
            b'P' => Some(VerificationLevel::ProofSeen),
            _ => None,
        }
    }
}

/// Sex as recorded on an SSN application, or as a report gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    /// `F` or `M`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
        }
    }
}

/// A sex that is not `F` or `M`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a sex (F or M)")]
pub struct UnknownSex(pub String);

impl FromStr for Sex {
    type Err = UnknownSex;

    /// `F`, `M`, `female` or `male`, in any case.
    fn from_str(s: &str) -> Result<Sex, UnknownSex> {
        match s.trim().to_ascii_uppercase().as_str() {
            "F" | "FEMALE" => Ok(Sex::Female),
            "M" | "MALE" => Ok(Sex::Male),
            _ => Err(UnknownSex(s.to_owned())),
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Who a report or notice names, as the sender gave it: the SSN, and whatever parts of the
/// identity came with it (any may be missing). The registry compares them with the
/// numberholder on file before the report or notice may change anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    pub ssn: Ssn,
    pub name: ReportedName,
    pub dob: Option<PartialDate>,
    pub sex: Option<Sex>,
}

impl Subject {
    /// Only the SSN.
    pub fn bare(ssn: Ssn) -> Subject {
        Subject {
            ssn,
            name: ReportedName::default(),
            dob: None,
            sex: None,
        }
    }
}

/// Why a death report is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeathReportError {
    #[error("the date of death {dod} is before the date of birth {dob}")]
    DeathBeforeBirth { dod: PartialDate, dob: PartialDate },
}

/// A report that a person died, from one death-reporting source, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeathReport {
    subject: Subject,
    dod: PartialDate,
    source: DeathSource,
    evidence: Reference,
    verification: VerificationLevel,
}

impl DeathReport {
    /// A report always carries a date of death (possibly partial) and the evidence it rests on.
    pub fn new(
        subject: Subject,
        dod: PartialDate,
        source: DeathSource,
        evidence: Reference,
        verification: VerificationLevel,
    ) -> Result<DeathReport, DeathReportError> {
        if let Some(dob) = subject.dob
            && dod.latest() < dob.earliest()
        {
            return Err(DeathReportError::DeathBeforeBirth { dod, dob });
        }
        Ok(DeathReport {
            subject,
            dod,
            source,
            evidence,
            verification,
        })
    }

    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    pub fn dod(&self) -> PartialDate {
        self.dod
    }

    pub fn source(&self) -> DeathSource {
        self.source
    }

    pub fn evidence(&self) -> &Reference {
        &self.evidence
    }

    pub fn verification(&self) -> VerificationLevel {
        self.verification
    }

    /// The death this report establishes once it is verified (by the rules of the registry).
    pub fn death(&self) -> Death {
        Death {
            dod: self.dod,
            source: self.source,
            verification: self.verification,
        }
    }
}

/// A recorded death. Only [`DeathReport::death`] makes one, so every `Death` stands on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Death {
    dod: PartialDate,
    source: DeathSource,
    verification: VerificationLevel,
}

impl Death {
    pub fn dod(self) -> PartialDate {
        self.dod
    }

    /// The source of the report this death stands on.
    pub fn source(self) -> DeathSource {
        self.source
    }

    pub fn verification(self) -> VerificationLevel {
        self.verification
    }
}
