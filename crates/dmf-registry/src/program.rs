//! Computer-matching programs (5 U.S.C. 552a(o), (p)): the written agreement another agency
//! matches its list under, what it may send and receive, when it is in force, and the due
//! process a match must go through before it may lead to adverse action. Pure rules; the
//! service keeps the records and answers the requests.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use dmf_model::{Date, Reference};

/// Longest first term of an agreement, in months.
pub const MAX_TERM_MONTHS: u32 = 18;
/// Longest renewal, in months; an agreement is renewed once at most.
pub const MAX_RENEWAL_MONTHS: u32 = 12;
/// A renewal is made within this many months before the agreement expires.
pub const RENEWAL_WINDOW_MONTHS: u32 = 3;
/// Days a person has to contest after the notice, before adverse action may be taken.
pub const CONTEST_DAYS: i32 = 30;

/// What the registry may disclose of a matched record. The match class always goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Element {
    /// The SSN on file.
    Ssn,
    /// First, middle and last name on file.
    Name,
    /// Date of birth on file.
    Dob,
    /// Whether a death is recorded (yes or no).
    Deceased,
    /// The date of the recorded death.
    DateOfDeath,
    /// The death's source kind and verification level.
    DeathSource,
    /// Status notices in force (their kinds and authorities), and a presumption by age.
    Status,
}

impl Element {
    pub const ALL: [Element; 7] = [
        Element::Ssn,
        Element::Name,
        Element::Dob,
        Element::Deceased,
        Element::DateOfDeath,
        Element::DeathSource,
        Element::Status,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Element::Ssn => "ssn",
            Element::Name => "name",
            Element::Dob => "dob",
            Element::Deceased => "deceased",
            Element::DateOfDeath => "date_of_death",
            Element::DeathSource => "death_source",
            Element::Status => "status",
        }
    }
}

/// What the registry may receive from the agency in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputField {
    Name,
    Dob,
    Ssn,
}

impl InputField {
    pub const ALL: [InputField; 3] = [InputField::Name, InputField::Dob, InputField::Ssn];

    pub fn code(self) -> &'static str {
        match self {
            InputField::Name => "name",
            InputField::Dob => "dob",
            InputField::Ssn => "ssn",
        }
    }
}

/// A code that names no element or input field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not one of {expected}")]
pub struct UnknownCode {
    pub given: String,
    pub expected: String,
}

fn parse_code<T: Copy>(s: &str, all: &[T], code: fn(T) -> &'static str) -> Result<T, UnknownCode> {
    all.iter()
        .copied()
        .find(|x| code(*x) == s)
        .ok_or_else(|| UnknownCode {
            given: s.to_owned(),
            expected: all.iter().map(|x| code(*x)).collect::<Vec<_>>().join(", "),
        })
}

impl FromStr for Element {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Element, UnknownCode> {
        parse_code(s, &Element::ALL, Element::code)
    }
}

impl FromStr for InputField {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<InputField, UnknownCode> {
        parse_code(s, &InputField::ALL, InputField::code)
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for InputField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The terms of a matching agreement, as written and signed by the parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// The agency that sends its list and receives the matches.
    pub recipient: Reference,
    /// The agency whose records are matched (the registry's operator).
    pub source: Reference,
    pub purpose: Reference,
    pub legal_authority: Reference,
    /// What the recipient may receive of each matched record.
    pub recipient_receives: BTreeSet<Element>,
    /// What the registry may receive of each listed person.
    pub source_receives: BTreeSet<InputField>,
    /// Days the recipient may keep what it received.
    pub retention_days: u32,
    pub start: Date,
    pub expiry: Date,
    /// Whether a match may lead to adverse action against the person (then it goes through
    /// verification, notice and the contest period first).
    pub adverse_action: bool,
    /// For a law-enforcement program: the criterion every listed person must meet (for
    /// example an indictment or conviction for a violent crime), with a case reference given
    /// per record.
    pub law_enforcement: Option<Reference>,
}

/// Why terms or a step of a program are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    #[error("the agreement must expire after it starts ({start} to {expiry})")]
    ExpiryBeforeStart { start: Date, expiry: Date },
    #[error(
        "an agreement runs at most {MAX_TERM_MONTHS} months: from {start} it may run to {latest}, not {expiry}"
    )]
    TermTooLong {
        start: Date,
        expiry: Date,
        latest: Date,
    },
    #[error("the agreement names no element the recipient may receive")]
    NothingDisclosed,
    #[error("the agreement must let the registry receive at least the name")]
    NameRequired,
    #[error("the retention period must be 1 to 3650 days, not {0}")]
    Retention(u32),
    #[error("the person who created an agreement cannot also approve it")]
    SelfApproval,
    #[error("the agreement was already approved")]
    AlreadyApproved,
    #[error("the agreement is {0}")]
    NotInForce(Status),
    #[error("the agreement was already renewed once; a new agreement is needed")]
    AlreadyRenewed,
    #[error(
        "a renewal is made within {RENEWAL_WINDOW_MONTHS} months before the expiry ({expiry}); today is {today}"
    )]
    RenewalTooEarly { expiry: Date, today: Date },
    #[error(
        "a renewal runs at most {MAX_RENEWAL_MONTHS} months after the expiry: to {latest} at most, not {asked}"
    )]
    RenewalTooLong { asked: Date, latest: Date },
    #[error("the renewal must end after the current expiry {0}")]
    RenewalNotLater(Date),
    #[error("{0} may not be received under this agreement (it names {1})")]
    InputNotAgreed(InputField, String),
    #[error("{0} may not be disclosed under this agreement (it names {1})")]
    ElementNotAgreed(Element, String),
}

/// `d` plus `months` calendar months, on the same day or the month's last.
pub fn add_months(d: Date, months: u32) -> Date {
    let total = d.year() as u32 * 12 + (d.month() as u32 - 1) + months;
    let (year, month) = ((total / 12) as u16, (total % 12) as u8 + 1);
    let day = d.day().min(dmf_model::days_in_month(year, month));
    Date::new(year, month, day).expect("a valid day of a valid month")
}

impl Terms {
    /// Refuses terms the law does not allow or that could not be applied.
    pub fn check(&self) -> Result<(), ProgramError> {
        if self.expiry <= self.start {
            return Err(ProgramError::ExpiryBeforeStart {
                start: self.start,
                expiry: self.expiry,
            });
        }
        let latest = add_months(self.start, MAX_TERM_MONTHS);
        if self.expiry > latest {
            return Err(ProgramError::TermTooLong {
                start: self.start,
                expiry: self.expiry,
                latest,
            });
        }
        if self.recipient_receives.is_empty() {
            return Err(ProgramError::NothingDisclosed);
        }
        if !self.source_receives.contains(&InputField::Name) {
            return Err(ProgramError::NameRequired);
        }
        if !(1..=3650).contains(&self.retention_days) {
            return Err(ProgramError::Retention(self.retention_days));
        }
        Ok(())
    }
}

/// Where an agreement stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Written, not yet approved by a second person.
    AwaitingApproval,
    /// Approved, before its start.
    NotStarted,
    Active,
    Expired,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::AwaitingApproval => "awaiting_approval",
            Status::NotStarted => "not_started",
            Status::Active => "active",
            Status::Expired => "expired",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::AwaitingApproval => "awaiting approval by a second person",
            Status::NotStarted => "approved but not yet started",
            Status::Active => "active",
            Status::Expired => "expired",
        })
    }
}

/// Who did something, and on which day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    pub by: String,
    pub on: Date,
}

/// An agreement and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: u64,
    pub terms: Terms,
    pub created: Act,
    pub approved: Option<Act>,
    /// The renewal: the new expiry, and who renewed it when.
    pub renewed: Option<(Date, Act)>,
}

impl Agreement {
    /// The expiry in force: the renewal's, once renewed.
    pub fn expiry(&self) -> Date {
        self.renewed.as_ref().map_or(self.terms.expiry, |(d, _)| *d)
    }

    pub fn status(&self, today: Date) -> Status {
        if self.approved.is_none() {
            Status::AwaitingApproval
        } else if today < self.terms.start {
            Status::NotStarted
        } else if today > self.expiry() {
            Status::Expired
        } else {
            Status::Active
        }
    }

    /// Checks a second person's approval.
    pub fn check_approval(&self, by: &str, today: Date) -> Result<(), ProgramError> {
        if self.approved.is_some() {
            return Err(ProgramError::AlreadyApproved);
        }
        if self.created.by == by {
            return Err(ProgramError::SelfApproval);
        }
        if today > self.expiry() {
            return Err(ProgramError::NotInForce(Status::Expired));
        }
        Ok(())
    }

    /// Checks a renewal to `to`: once, of an agreement in force, within the three months
    /// before it expires, for at most twelve months more.
    pub fn check_renewal(&self, to: Date, today: Date) -> Result<(), ProgramError> {
        if self.renewed.is_some() {
            return Err(ProgramError::AlreadyRenewed);
        }
        match self.status(today) {
            Status::Active | Status::NotStarted => {}
            other => return Err(ProgramError::NotInForce(other)),
        }
        let expiry = self.terms.expiry;
        if add_months(today, RENEWAL_WINDOW_MONTHS) < expiry {
            return Err(ProgramError::RenewalTooEarly { expiry, today });
        }
        if to <= expiry {
            return Err(ProgramError::RenewalNotLater(expiry));
        }
        let latest = add_months(expiry, MAX_RENEWAL_MONTHS);
        if to > latest {
            return Err(ProgramError::RenewalTooLong { asked: to, latest });
        }
        Ok(())
    }

    /// Checks a match request: the agreement in force, the fields sent and the elements asked
    /// for all named by it.
    pub fn check_request(
        &self,
        today: Date,
        sent: &BTreeSet<InputField>,
        asked: &BTreeSet<Element>,
    ) -> Result<(), ProgramError> {
        match self.status(today) {
            Status::Active => {}
            other => return Err(ProgramError::NotInForce(other)),
        }
        if let Some(f) = sent.difference(&self.terms.source_receives).next() {
            return Err(ProgramError::InputNotAgreed(
                *f,
                join(self.terms.source_receives.iter()),
            ));
        }
        if let Some(e) = asked.difference(&self.terms.recipient_receives).next() {
            return Err(ProgramError::ElementNotAgreed(
                *e,
                join(self.terms.recipient_receives.iter()),
            ));
        }
        Ok(())
    }
}

fn join<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

/// A match that may lead to adverse action, on its way through due process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Case {
    /// The agency's independent verification of the matched information.
    pub verified: Option<(Act, Reference)>,
    /// The notice sent to the person, and its reference.
    pub notice: Option<(Act, Reference)>,
    /// The person contested (on the day the agency recorded).
    pub contested: Option<Act>,
    /// The contest's outcome: `true` when the person was right (no adverse action).
    pub contest_decided: Option<(Act, bool)>,
    /// Adverse action was allowed.
    pub adverse_allowed: Option<Act>,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Unverified,
    /// Verified; no notice sent yet.
    Verified,
    /// Notice sent: the person may contest until the day given.
    NoticeSent {
        contest_until: Date,
    },
    Contested,
    /// The contest was upheld: no adverse action on this match.
    ContestUpheld,
    /// The contest period is over, with no contest open or upheld: adverse action may be
    /// allowed.
    Ready,
    AdverseActionAllowed,
}

impl CaseStatus {
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Unverified => "unverified",
            CaseStatus::Verified => "verified",
            CaseStatus::NoticeSent { .. } => "notice_sent",
            CaseStatus::Contested => "contested",
            CaseStatus::ContestUpheld => "contest_upheld",
            CaseStatus::Ready => "ready",
            CaseStatus::AdverseActionAllowed => "adverse_action_allowed",
        }
    }
}

/// Why a step of due process is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the match must be independently verified first")]
    NotVerified,
    #[error("the match was already verified")]
    AlreadyVerified,
    #[error("no notice was sent to the person")]
    NoNotice,
    #[error("a notice was already recorded")]
    AlreadyNoticed,
    #[error(
        "the notice cannot be dated {sent}: after today ({today}) or before the match ({matched})"
    )]
    NoticeDate {
        sent: Date,
        today: Date,
        matched: Date,
    },
    #[error(
        "the person has {CONTEST_DAYS} days from the notice of {sent} to contest: adverse action may be allowed from {from}"
    )]
    ContestPeriod { sent: Date, from: Date },
    #[error("a contest is open: it must be decided first")]
    ContestOpen,
    #[error("the contest was upheld: no adverse action may follow from this match")]
    ContestUpheld,
    #[error("no contest is open")]
    NoContest,
    #[error("a contest was already recorded")]
    AlreadyContested,
    #[error("adverse action was already allowed")]
    AlreadyAllowed,
    #[error("this agreement does not allow adverse action on a match")]
    NotAllowedByAgreement,
}

impl Case {
    pub fn status(&self, today: Date) -> CaseStatus {
        if self.adverse_allowed.is_some() {
            return CaseStatus::AdverseActionAllowed;
        }
        match (
            &self.verified,
            &self.notice,
            &self.contested,
            &self.contest_decided,
        ) {
            (_, _, _, Some((_, true))) => CaseStatus::ContestUpheld,
            (_, _, Some(_), None) => CaseStatus::Contested,
            (None, _, _, _) => CaseStatus::Unverified,
            (Some(_), None, _, _) => CaseStatus::Verified,
            (Some(_), Some((sent, _)), _, _) => {
                let until = contest_until(sent.on);
                if today > until {
                    CaseStatus::Ready
                } else {
                    CaseStatus::NoticeSent {
                        contest_until: until,
                    }
                }
            }
        }
    }

    pub fn check_verify(&self) -> Result<(), CaseError> {
        match self.verified {
            Some(_) => Err(CaseError::AlreadyVerified),
            None => Ok(()),
        }
    }

    /// A notice goes out after verification, dated between the match and today.
    pub fn check_notice(&self, sent: Date, matched: Date, today: Date) -> Result<(), CaseError> {
        if self.verified.is_none() {
            return Err(CaseError::NotVerified);
        }
        if self.notice.is_some() {
            return Err(CaseError::AlreadyNoticed);
        }
        // The person's whole contest period must fit in the calendar.
        if sent > today || sent < matched || sent.add_days(CONTEST_DAYS + 1).is_none() {
            return Err(CaseError::NoticeDate {
                sent,
                today,
                matched,
            });
        }
        Ok(())
    }

    pub fn check_contest(&self) -> Result<(), CaseError> {
        if self.notice.is_none() {
            return Err(CaseError::NoNotice);
        }
        if self.contested.is_some() {
            return Err(CaseError::AlreadyContested);
        }
        if self.adverse_allowed.is_some() {
            return Err(CaseError::AlreadyAllowed);
        }
        Ok(())
    }

    pub fn check_decision(&self) -> Result<(), CaseError> {
        match (&self.contested, &self.contest_decided) {
            (Some(_), None) => Ok(()),
            _ => Err(CaseError::NoContest),
        }
    }

    /// Adverse action may be allowed only after verification, a notice, and the full contest
    /// period with no contest open or upheld.
    pub fn check_adverse(&self, agreement_allows: bool, today: Date) -> Result<(), CaseError> {
        if !agreement_allows {
            return Err(CaseError::NotAllowedByAgreement);
        }
        if self.adverse_allowed.is_some() {
            return Err(CaseError::AlreadyAllowed);
        }
        if self.verified.is_none() {
            return Err(CaseError::NotVerified);
        }
        let Some((sent, _)) = &self.notice else {
            return Err(CaseError::NoNotice);
        };
        match (&self.contested, &self.contest_decided) {
            (_, Some((_, true))) => return Err(CaseError::ContestUpheld),
            (Some(_), None) => return Err(CaseError::ContestOpen),
            _ => {}
        }
        let from = contest_until(sent.on)
            .add_days(1)
            .expect("dates stay in range");
        // A contest decided early does not shorten the period: the person keeps every day.
        if today < from {
            return Err(CaseError::ContestPeriod {
                sent: sent.on,
                from,
            });
        }
        Ok(())
    }
}

/// The last day a person may contest a notice sent on `sent`.
pub fn contest_until(sent: Date) -> Date {
    sent.add_days(CONTEST_DAYS).expect("dates stay in range")
}
