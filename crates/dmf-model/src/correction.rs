//! Corrections of wrong records, always approved by a second person.

use crate::{Reference, Ssn};

/// What a correction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrectionKind {
    /// The person is alive: every death recorded for the SSN was wrong.
    Reinstate,
}

impl CorrectionKind {
    pub fn code(self) -> &'static str {
        match self {
            CorrectionKind::Reinstate => "reinstate",
        }
    }
}

/// A person who acts on the file (a caseworker, a supervisor), by a stable identifier.
pub type Actor = Reference;

/// Why a correction is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("the approver must be a different person from the requester ({0})")]
    SamePerson(String),
    #[error("a correction needs at least one piece of identity evidence")]
    NoIdentityEvidence,
}

/// A request by one person and its approval by another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TwoPersonApproval {
    requested_by: Actor,
    approved_by: Actor,
}

impl TwoPersonApproval {
    pub fn new(
        requested_by: Actor,
        approved_by: Actor,
    ) -> Result<TwoPersonApproval, CorrectionError> {
        if requested_by
            .as_str()
            .eq_ignore_ascii_case(approved_by.as_str())
        {
            return Err(CorrectionError::SamePerson(
                requested_by.as_str().to_owned(),
            ));
        }
        Ok(TwoPersonApproval {
            requested_by,
            approved_by,
        })
    }

    pub fn requested_by(&self) -> &Actor {
        &self.requested_by
    }

    pub fn approved_by(&self) -> &Actor {
        &self.approved_by
    }
}

/// A correction of a wrong record. The wrong record stays in history; this is a new event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Correction {
    ssn: Ssn,
    kind: CorrectionKind,
    reason: Reference,
    identity_evidence: Vec<Reference>,
    approval: TwoPersonApproval,
}

impl Correction {
    pub fn new(
        ssn: Ssn,
        kind: CorrectionKind,
        reason: Reference,
        identity_evidence: Vec<Reference>,
        approval: TwoPersonApproval,
    ) -> Result<Correction, CorrectionError> {
        if identity_evidence.is_empty() {
            return Err(CorrectionError::NoIdentityEvidence);
        }
        Ok(Correction {
            ssn,
            kind,
            reason,
            identity_evidence,
            approval,
        })
    }

    pub fn ssn(&self) -> Ssn {
        self.ssn
    }

    pub fn kind(&self) -> CorrectionKind {
        self.kind
    }

    pub fn reason(&self) -> &Reference {
        &self.reason
    }

    pub fn identity_evidence(&self) -> &[Reference] {
        &self.identity_evidence
    }

    pub fn approval(&self) -> &TwoPersonApproval {
        &self.approval
    }
}
