//! Record model of the death master file: the types that say what a record is, with their rules.
//!
//! This crate does no IO and knows nothing of files, SQL, HTTP or serde. Values are parsed at the
//! edge into these types, and a value of a type here is valid by construction:
//! an [`Ssn`] is never of a never-issued form, a [`PartialDate`] is a real calendar date with
//! possibly unknown day or month, and a [`Death`] exists only as the consequence of a
//! [`DeathReport`] from a death-reporting source.

mod calendar;
mod correction;
mod date;
mod death;
mod name;
mod notice;
mod ssn;
mod text;

pub use calendar::{add_federal_working_days, federal_holidays, is_federal_working_day};
pub use correction::{Actor, Correction, CorrectionError, CorrectionKind, TwoPersonApproval};
pub use date::{Date, DateError, PartialDate, days_in_month, is_leap_year};
pub use death::{
    Death, DeathReport, DeathReportError, DeathSource, Sex, Subject, UnknownSex, UnknownSource,
    VerificationLevel,
};
pub use name::{NameError, NamePart, PersonName, ReportedName, Suffix, dmf_form};
pub use notice::{NoticeKind, StatusNotice, StatusNoticeError, UnknownNoticeKind};
pub use ssn::{Ssn, SsnDigits, SsnError};
pub use text::{Reference, ReferenceError, article};

/// Position of an event in the registry's sequence; the first event is 1. Here, with the other
/// values the rules speak of, so that the rules need nothing of storage.
pub type Seq = u64;

#[cfg(test)]
mod tests;
