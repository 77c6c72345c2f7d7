//! What a pass found, each with its evidence, and the exit status it amounts to.

use serde::Serialize;

/// What kind of thing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Two validly signed checkpoints that do not agree: the same size with different roots,
    /// or one that the other's tree does not extend.
    SplitView,
    /// A smaller tree than one verified or served before.
    Rollback,
    /// A checkpoint not signed by the log's key (another key, a bad signature, a malformed
    /// note, another origin).
    BadSignature,
    /// Signed by the log, but without the cosignatures required: it must not be served as
    /// published.
    MissingQuorum,
    /// The entries served do not rebuild the root of the checkpoint they were served under
    /// (from an empty tree, so no earlier checkpoint is involved).
    BadEntries,
    /// Could not check: a URL unreachable, an HTTP error, a malformed answer.
    Unchecked,
    /// A leaf of the verified tree that is not a leaf of the published layout: left out of the
    /// statistics and the intake.
    MalformedLeaf,
    /// A node or mirror behind the others, consistent with them: not misbehaviour.
    Behind,
}

impl Kind {
    /// The words a text line starts with.
    pub fn label(self) -> &'static str {
        match self {
            Kind::SplitView => "SPLIT VIEW",
            Kind::Rollback => "ROLLBACK",
            Kind::BadSignature => "BAD SIGNATURE",
            Kind::MissingQuorum => "MISSING QUORUM",
            Kind::BadEntries => "BAD ENTRIES",
            Kind::Unchecked => "COULD NOT CHECK",
            Kind::MalformedLeaf => "MALFORMED LEAF",
            Kind::Behind => "BEHIND",
        }
    }

    /// The exit status a finding of this kind calls for on its own.
    pub fn status(self) -> Status {
        match self {
            Kind::SplitView
            | Kind::Rollback
            | Kind::BadSignature
            | Kind::MissingQuorum
            | Kind::BadEntries => Status::Misbehaviour,
            Kind::Unchecked | Kind::MalformedLeaf => Status::Unchecked,
            Kind::Behind => Status::Clean,
        }
    }
}

/// A signed note as it was seen, and where: a URL, a file, or the state of an earlier pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub from: String,
    pub note: String,
}

/// One finding: what, in words, and the notes that prove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub message: String,
    pub evidence: Vec<Evidence>,
}

impl Finding {
    pub fn new(kind: Kind, message: impl Into<String>, evidence: Vec<Evidence>) -> Finding {
        Finding {
            kind,
            message: message.into(),
            evidence,
        }
    }
}

/// The exit status of a pass, for scripts: the most serious of what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 0: nothing found.
    Clean,
    /// 1: intake alerts only.
    Alerts,
    /// 2: misbehaviour of the log (split view, rollback, bad signature, missing quorum,
    /// entries that do not rebuild the root).
    Misbehaviour,
    /// 3: something could not be checked (network, HTTP errors, malformed answers).
    Unchecked,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Clean => 0,
            Status::Alerts => 1,
            Status::Misbehaviour => 2,
            Status::Unchecked => 3,
        }
    }

    /// Misbehaviour outranks not being able to check everything, which outranks alerts.
    fn rank(self) -> u8 {
        match self {
            Status::Clean => 0,
            Status::Alerts => 1,
            Status::Unchecked => 2,
            Status::Misbehaviour => 3,
        }
    }

    /// The status of a pass with these findings and `alerts` intake alerts.
    pub fn of(findings: &[Finding], alerts: usize) -> Status {
        let base = if alerts > 0 {
            Status::Alerts
        } else {
            Status::Clean
        };
        findings
            .iter()
            .map(|f| f.kind.status())
            .fold(base, |a, b| if b.rank() > a.rank() { b } else { a })
    }
}
