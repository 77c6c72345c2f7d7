//! Why the intake rules refuse an event: the field of the event at fault and the reason, as
//! plain values. The rules know nothing of JSON; the submission edge turns a violation into the
//! JSON path of the field as submitted (`submission::Rejection`).

use std::fmt::Display;

/// A field of a submitted event that a rule can refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Ssn,
    First,
    Middle,
    Last,
    Suffix,
    Dob,
    Sex,
    Dod,
    /// The pending death report a verification names; the report a withdrawal or alias names.
    Report,
    /// The report an amendment replaces.
    Supersedes,
    Source,
    /// The status notice a contest or decision names.
    Notice,
    /// The held event or proposed change a review names.
    Event,
    Evidence,
    By,
}

impl Field {
    /// The field's name, as submissions and stored events spell it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Ssn => "ssn",
            Field::First => "first",
            Field::Middle => "middle",
            Field::Last => "last",
            Field::Suffix => "suffix",
            Field::Dob => "dob",
            Field::Sex => "sex",
            Field::Dod => "dod",
            Field::Report => "report",
            Field::Supersedes => "supersedes",
            Field::Source => "source",
            Field::Notice => "notice",
            Field::Event => "event",
            Field::Evidence => "evidence",
            Field::By => "by",
        }
    }
}

/// A rule an event breaks: the field at fault, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: Field,
    pub reason: String,
}

impl Violation {
    pub fn new(field: Field, reason: impl Display) -> Violation {
        Violation {
            field,
            reason: reason.to_string(),
        }
    }
}
