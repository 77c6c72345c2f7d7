//! Status notices: non-death ineligibilities from issuing authorities, each its own type.
//!
//! No [`NoticeKind`] means death, and a notice never makes a [`crate::Death`].

use std::fmt;
use std::str::FromStr;

use crate::{Date, Reference, Subject};

/// The kinds of non-death status an issuing authority may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoticeKind {
    EmploymentAuthorizationEnded,
    EmploymentAuthorizationRestricted,
    BenefitsSuspended,
    /// The number was issued in error and is not to be used.
    SsnIssuedInError,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::EmploymentAuthorizationEnded,
        NoticeKind::EmploymentAuthorizationRestricted,
        NoticeKind::BenefitsSuspended,
        NoticeKind::SsnIssuedInError,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::EmploymentAuthorizationEnded => "employment_authorization_ended",
            NoticeKind::EmploymentAuthorizationRestricted => "employment_authorization_restricted",
            NoticeKind::BenefitsSuspended => "benefits_suspended",
            NoticeKind::SsnIssuedInError => "ssn_issued_in_error",
        }
    }

    /// Whether the notice bears on an employment-eligibility answer.
    pub fn affects_employment(self) -> bool {
        !matches!(self, NoticeKind::BenefitsSuspended)
    }

    /// Whether the notice bears on a benefit-program answer.
    pub fn affects_benefits(self) -> bool {
        matches!(
            self,
            NoticeKind::BenefitsSuspended | NoticeKind::SsnIssuedInError
        )
    }
}

/// A notice kind code that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a status notice kind (one of employment_authorization_ended, \
     employment_authorization_restricted, benefits_suspended, ssn_issued_in_error)"
)]
pub struct UnknownNoticeKind(pub String);

impl FromStr for NoticeKind {
    type Err = UnknownNoticeKind;

    fn from_str(s: &str) -> Result<NoticeKind, UnknownNoticeKind> {
        NoticeKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| UnknownNoticeKind(s.to_owned()))
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a status notice is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusNoticeError {
    #[error("the effective date {effective} is more than a year after the notice date {today}")]
    TooFarAhead { effective: Date, today: Date },
}

/// A non-death status from an issuing authority, under a named legal basis and document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusNotice {
    /// The SSN and the identity the authority gave with it.
    pub subject: Subject,
    pub kind: NoticeKind,
    /// The issuing authority, for example a named agency office.
    pub authority: Reference,
    /// The statute, regulation or order the notice rests on.
    pub legal_basis: Reference,
    /// The document that carries the decision.
    pub document: Reference,
    pub effective: Date,
}

impl StatusNotice {
    /// Checks the notice against the day it is received.
    pub fn check_dates(&self, today: Date) -> Result<(), StatusNoticeError> {
        if self.effective.days_since_epoch() - today.days_since_epoch() > 366 {
            return Err(StatusNoticeError::TooFarAhead {
                effective: self.effective,
                today,
            });
        }
        Ok(())
    }
}
