//! Verification answers per purpose, each with no more than its purpose needs.

use dmf_model::{Date, PartialDate, Ssn, add_federal_working_days};

use crate::event::CONTEST_WORKING_DAYS;
use crate::identity::{self, Agreement, Comparison, Field, Reported};
use crate::state::{NoticeState, NoticeStatus, PersonState};

/// Who is asked about: as the caller has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityQuery {
    pub ssn: Ssn,
    pub first: String,
    pub last: String,
    pub dob: PartialDate,
}

/// The SSN verification codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCode {
    /// Blank in the employer service: SSN, name and date of birth agree.
    Verified,
    /// `1`: the SSN is not in the file.
    NotInFile,
    /// `3`: the name matches, the date of birth does not.
    DobMismatch,
    /// `5`: the name does not match.
    NameMismatch,
    /// `X`: verified, and the record shows the person as deceased.
    Deceased,
}

impl IdentityCode {
    pub fn code(self) -> &'static str {
        match self {
            IdentityCode::Verified => "V",
            IdentityCode::NotInFile => "1",
            IdentityCode::DobMismatch => "3",
            IdentityCode::NameMismatch => "5",
            IdentityCode::Deceased => "X",
        }
    }
}

pub use crate::names::{FirstKey, LastKey, NameKey};

/// How the asked identity compares with the person on file (see [`crate::identity`]): the
/// same comparison intake holds reports by, so the two can never disagree.
pub fn comparison(query: &IdentityQuery, state: &PersonState) -> Option<Comparison> {
    let asked = Reported {
        first: Some(&query.first),
        last: Some(&query.last),
        dob: Some(query.dob),
        ..Reported::default()
    };
    identity::compare_any(&asked, state.identities())
}

/// The identity answer: a code and the death indicator, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityAnswer {
    pub code: IdentityCode,
    pub deceased: bool,
    /// Presumed deceased by age: not a death, so `deceased` stays false and the code is as for
    /// a living person.
    pub presumed_deceased: bool,
}

pub fn identity(query: &IdentityQuery, state: Option<&PersonState>) -> IdentityAnswer {
    let not_in_file = IdentityAnswer {
        code: IdentityCode::NotInFile,
        deceased: false,
        presumed_deceased: false,
    };
    let Some(state) = state else {
        return not_in_file;
    };
    if !state.issued() && state.death.is_none() {
        return not_in_file;
    }
    let Some(c) = comparison(query, state) else {
        return not_in_file;
    };
    let code = if c.name != Agreement::Agrees {
        IdentityCode::NameMismatch
    } else if c.field(Field::Dob) == Agreement::Differs {
        IdentityCode::DobMismatch
    } else if state.death.is_some() {
        IdentityCode::Deceased
    } else {
        IdentityCode::Verified
    };
    // The death indicator goes only with a verified identity: a mismatch discloses nothing.
    let deceased = code == IdentityCode::Deceased;
    // Likewise the presumption: only with a verified identity, and never over a death.
    let presumed_deceased = code == IdentityCode::Verified && state.presumed().is_some();
    IdentityAnswer {
        code,
        deceased,
        presumed_deceased,
    }
}

/// The employment-eligibility answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmploymentAnswer {
    Authorized,
    /// A tentative nonconfirmation: the employee may contest until `deadline`; no adverse
    /// action meanwhile. `contested` when a contest suspended it.
    Mismatch {
        reason: &'static str,
        deadline: Option<Date>,
        contested: bool,
    },
    /// The contest period ended without a contest, or the contest was denied.
    FinalNonconfirmation {
        reason: &'static str,
    },
}

impl EmploymentAnswer {
    pub fn code(&self) -> &'static str {
        match self {
            EmploymentAnswer::Authorized => "authorized",
            EmploymentAnswer::Mismatch { .. } => "mismatch",
            EmploymentAnswer::FinalNonconfirmation { .. } => "final_nonconfirmation",
        }
    }
}

pub fn employment(
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
) -> EmploymentAnswer {
    let tentative = |reason| EmploymentAnswer::Mismatch {
        reason,
        deadline: Some(add_federal_working_days(today, CONTEST_WORKING_DAYS)),
        contested: false,
    };
    match identity(query, state).code {
        IdentityCode::NotInFile => return tentative("ssn_not_in_file"),
        IdentityCode::NameMismatch | IdentityCode::DobMismatch => {
            return tentative("name_or_dob_mismatch");
        }
        IdentityCode::Deceased => return tentative("death_recorded"),
        IdentityCode::Verified => {}
    }
    employment_status(state.expect("verified identity has a state"), today)
}

/// The employment answer from the status notices alone, once identity is verified. A notice
/// whose contest was upheld counts for nothing; one whose contest was denied is final.
pub fn employment_status(state: &PersonState, today: Date) -> EmploymentAnswer {
    employment_basis(state, today).0
}

/// [`employment_status`] and the notice it stands on, if one: the console says which notice a
/// nonconfirmation comes from and since when.
pub fn employment_basis(
    state: &PersonState,
    today: Date,
) -> (EmploymentAnswer, Option<&NoticeState>) {
    if state.death.is_some() {
        let answer = EmploymentAnswer::Mismatch {
            reason: "death_recorded",
            deadline: Some(add_federal_working_days(today, CONTEST_WORKING_DAYS)),
            contested: false,
        };
        return (answer, None);
    }
    let mut answer = (EmploymentAnswer::Authorized, None);
    for n in state
        .notices()
        .iter()
        .filter(|n| n.kind.affects_employment() && n.effective <= today)
    {
        let reason = n.kind.code();
        let this = match n.status(today) {
            NoticeStatus::Withdrawn | NoticeStatus::NotYetEffective => continue,
            NoticeStatus::Contested => EmploymentAnswer::Mismatch {
                reason,
                deadline: None,
                contested: true,
            },
            NoticeStatus::InForce if today <= n.contest_deadline => EmploymentAnswer::Mismatch {
                reason,
                deadline: Some(n.contest_deadline),
                contested: false,
            },
            // Past the deadline, or contested and denied: nothing is left to contest.
            NoticeStatus::InForce | NoticeStatus::Reinstated => {
                EmploymentAnswer::FinalNonconfirmation { reason }
            }
        };
        // The most adverse answer wins: final over tentative over contested.
        let rank = |a: &EmploymentAnswer| match a {
            EmploymentAnswer::Authorized => 0,
            EmploymentAnswer::Mismatch {
                contested: true, ..
            } => 1,
            EmploymentAnswer::Mismatch { .. } => 2,
            EmploymentAnswer::FinalNonconfirmation { .. } => 3,
        };
        if rank(&this) > rank(&answer.0) {
            answer = (this, Some(n));
        }
    }
    answer
}

/// The benefit-program answer: identity, death indicator, and suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitsAnswer {
    pub code: IdentityCode,
    pub deceased: bool,
    /// Presumed deceased by age (see [`IdentityAnswer::presumed_deceased`]).
    pub presumed_deceased: bool,
    /// A benefits suspension in force: not contested, or its contest denied.
    pub suspended: bool,
}

pub fn benefits(query: &IdentityQuery, state: Option<&PersonState>, today: Date) -> BenefitsAnswer {
    let id = identity(query, state);
    let suspended = id.code == IdentityCode::Verified
        && state.is_some_and(|s| {
            s.notices()
                .iter()
                .any(|n| n.kind.affects_benefits() && n.in_force(today))
        });
    BenefitsAnswer {
        code: id.code,
        deceased: id.deceased,
        presumed_deceased: id.presumed_deceased,
        suspended,
    }
}
