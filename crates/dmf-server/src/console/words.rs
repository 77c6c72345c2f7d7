//! What a person's record means, in plain words: the summary of what each kind of caller is
//! told now, the status tags of the person page, and the names of sources, notices and events
//! as a caseworker reads them (never the codes of the API).

use dmf_model::{Date, DeathSource, NoticeKind, VerificationLevel};
use dmf_registry::PersonState;
use dmf_registry::answers::{self, EmploymentAnswer, IdentityCode, IdentityQuery};
use dmf_registry::render::{Purpose, visible};
use dmf_registry::state::{NoticeState, NoticeStatus};

/// How a line or tag reads: its colour on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Nothing counts against the person.
    Clear,
    /// Something counts against the person now.
    Adverse,
    /// Waiting for someone: a report, a contest, a correction.
    Waiting,
    /// Of record, changes nothing now.
    Settled,
    /// Work under way on the person's side (a correction).
    Info,
}

impl Tone {
    /// The tag's CSS class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Tone::Clear => "tag tag-green",
            Tone::Adverse => "tag tag-red",
            Tone::Waiting => "tag tag-yellow",
            Tone::Settled => "tag tag-grey",
            Tone::Info => "tag tag-blue",
        }
    }
}

/// A line of the summary: who is told what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub who: &'static str,
    pub says: String,
    pub tone: Tone,
}

pub(crate) fn source(s: DeathSource) -> &'static str {
    match s {
        DeathSource::StateVitalRecords => "a state's vital records office",
        DeathSource::FuneralHome => "a funeral home",
        DeathSource::Family => "the family",
        DeathSource::Hospital => "a hospital",
        DeathSource::FederalAgency => "a federal agency",
        DeathSource::FinancialInstitution => "a bank",
    }
}

pub(crate) fn verification(v: VerificationLevel) -> &'static str {
    match v {
        VerificationLevel::None => "not verified",
        VerificationLevel::Verified => "verified",
        VerificationLevel::ProofSeen => "verified, proof seen",
    }
}

pub(crate) fn notice_kind(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::EmploymentAuthorizationEnded => "work authorization ended",
        NoticeKind::EmploymentAuthorizationRestricted => "work authorization restricted",
        NoticeKind::BenefitsSuspended => "benefits suspended",
        NoticeKind::SsnIssuedInError => "SSN issued in error",
    }
}

/// A notice's standing on `today`, in words. `decided_on` gives the day an event was
/// recorded, for the day of a contest decision.
pub(crate) fn notice_status(
    n: &NoticeState,
    today: Date,
    decided_on: &dyn Fn(u64) -> Option<Date>,
) -> (Tone, String) {
    let on = |seq: u64| decided_on(seq).map_or(String::new(), |d| format!(" on {d}"));
    match n.status(today) {
        NoticeStatus::Withdrawn => (
            Tone::Settled,
            format!(
                "Withdrawn: the contest was upheld{}",
                n.decision.map_or(String::new(), |d| on(d.seq))
            ),
        ),
        NoticeStatus::Contested => (
            Tone::Waiting,
            "Contested: suspended until a supervisor decides".to_owned(),
        ),
        // A denied contest before the effective date: it will take effect, and cannot be
        // contested again.
        NoticeStatus::NotYetEffective if n.decision.is_some() => (
            Tone::Waiting,
            format!(
                "Contest denied{}: takes effect on {}",
                n.decision.map_or(String::new(), |d| on(d.seq)),
                n.effective
            ),
        ),
        NoticeStatus::NotYetEffective => (
            Tone::Waiting,
            format!("Not yet in force: takes effect on {}", n.effective),
        ),
        NoticeStatus::Reinstated => (
            Tone::Adverse,
            format!(
                "In force: the contest was denied{}",
                n.decision.map_or(String::new(), |d| on(d.seq))
            ),
        ),
        NoticeStatus::InForce if today <= n.contest_deadline => (
            Tone::Adverse,
            format!("In force; may be contested until {}", n.contest_deadline),
        ),
        NoticeStatus::InForce => (
            Tone::Adverse,
            "In force; the time to contest has passed".to_owned(),
        ),
    }
}

/// The day after `d`.
fn next_day(d: Date) -> Date {
    d.add_days(1).unwrap_or(d)
}

/// What each kind of caller is told about the person now, asked with the name and date of
/// birth on file. Empty if nothing is on file to ask with.
pub(crate) fn summary(
    state: &PersonState,
    query: Option<&IdentityQuery>,
    today: Date,
    decided_on: &dyn Fn(u64) -> Option<Date>,
) -> Vec<Line> {
    let Some(query) = query else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let death_words = |state: &PersonState| {
        state.death.map(|d| {
            format!(
                "deceased: date of death {}, reported by {} ({})",
                d.dod,
                d.sources
                    .iter()
                    .map(source)
                    .collect::<Vec<_>>()
                    .join(" and "),
                verification(d.verification)
            )
        })
    };

    // Banks, employers and other identity checks: no state-only death.
    let seen = visible(state, Purpose::Identity);
    let id = answers::identity(query, Some(&seen));
    let (says, tone) = match id.code {
        IdentityCode::Deceased => (death_words(&seen).unwrap_or_default(), Tone::Adverse),
        IdentityCode::Verified if state.death.is_some_and(|d| d.state_only()) => (
            "not deceased: the only report of this death is a state's, and a state's reports go \
             to benefit programs alone"
                .to_owned(),
            Tone::Clear,
        ),
        IdentityCode::Verified if id.presumed_deceased => (
            "not deceased, but presumed deceased by age (no death is recorded)".to_owned(),
            Tone::Waiting,
        ),
        IdentityCode::Verified => ("not deceased".to_owned(), Tone::Clear),
        IdentityCode::NotInFile => (
            "no numberholder is on file under this SSN".to_owned(),
            Tone::Settled,
        ),
        IdentityCode::NameMismatch | IdentityCode::DobMismatch => (
            "the name or date of birth on file does not verify".to_owned(),
            Tone::Waiting,
        ),
    };
    out.push(Line {
        who: "Banks and employers",
        says,
        tone,
    });

    // Benefit programs: every death, state-only ones included, and suspensions.
    let b = answers::benefits(query, Some(state), today);
    let suspension = state
        .notices()
        .iter()
        .find(|n| n.kind.affects_benefits() && n.in_force(today));
    let (says, tone) = if b.deceased {
        let mut says = death_words(state).unwrap_or_default();
        if state.death.is_some_and(|d| d.state_only()) {
            says.push_str("; a state's report only, which benefit programs alone receive");
        }
        (says, Tone::Adverse)
    } else if let Some(n) = suspension {
        (
            format!(
                "not deceased; payments suspended since {} ({} notice: {})",
                n.effective,
                n.authority.as_str(),
                notice_kind(n.kind)
            ),
            Tone::Adverse,
        )
    } else if b.code == IdentityCode::Verified {
        ("not deceased, nothing suspended".to_owned(), Tone::Clear)
    } else {
        (
            "the identity on file does not verify".to_owned(),
            Tone::Settled,
        )
    };
    out.push(Line {
        who: "Benefit programs",
        says,
        tone,
    });

    // Work authorization: the notices that bear on it, once identity verifies.
    let seen = visible(state, Purpose::Employment);
    let (answer, notice) = answers::employment_basis(&seen, today);
    let from = |n: Option<&NoticeState>| {
        n.map_or(String::new(), |n| {
            format!(
                " ({} notice: {})",
                n.authority.as_str(),
                notice_kind(n.kind)
            )
        })
    };
    let (says, tone) = match (&answer, notice) {
        (_, _) if id.code == IdentityCode::Deceased => (
            "tentative nonconfirmation: a death is recorded".to_owned(),
            Tone::Adverse,
        ),
        (EmploymentAnswer::Authorized, _) => ("confirmed".to_owned(), Tone::Clear),
        (
            EmploymentAnswer::Mismatch {
                contested: true, ..
            },
            n,
        ) => (
            format!(
                "tentative nonconfirmation, contested: suspended until a supervisor decides{}",
                from(n)
            ),
            Tone::Waiting,
        ),
        (EmploymentAnswer::Mismatch { deadline, .. }, n) => (
            format!(
                "tentative nonconfirmation since {}{}; the person may contest until {}",
                n.map_or(today, |n| n.effective),
                from(n),
                deadline.map_or("a deadline not set".to_owned(), |d| d.to_string())
            ),
            Tone::Adverse,
        ),
        (EmploymentAnswer::FinalNonconfirmation { .. }, Some(n)) => match n.decision {
            Some(d) => (
                format!(
                    "final nonconfirmation since {} ({} notice, contest denied)",
                    decided_on(d.seq).map_or(n.effective, |on| on.max(n.effective)),
                    n.authority.as_str()
                ),
                Tone::Adverse,
            ),
            None => (
                format!(
                    "final nonconfirmation since {} ({} notice, not contested)",
                    next_day(n.contest_deadline).max(n.effective),
                    n.authority.as_str()
                ),
                Tone::Adverse,
            ),
        },
        (EmploymentAnswer::FinalNonconfirmation { .. }, None) => {
            ("final nonconfirmation".to_owned(), Tone::Adverse)
        }
    };
    out.push(Line {
        who: "Work authorization",
        says,
        tone,
    });
    out
}

/// The status tags at the top of the person page, most pressing first. The first is the death
/// tag (`#status`), which says "Recorded as deceased" only for a recorded death.
pub(crate) fn tags(state: &PersonState, today: Date, correction_open: bool) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    let adverse_notice = state.notices().iter().any(|n| n.in_force(today));
    match state.death {
        Some(_) => out.push((Tone::Adverse, "Recorded as deceased".to_owned())),
        None if adverse_notice || state.presumed().is_some() => {
            out.push((Tone::Settled, "Not recorded as deceased".to_owned()))
        }
        None => out.push((Tone::Clear, "Not recorded as deceased".to_owned())),
    }
    if state.death.is_some_and(|d| d.state_only()) {
        out.push((
            Tone::Waiting,
            "State report only: benefit programs alone".to_owned(),
        ));
    }
    if state.presumed().is_some() {
        out.push((Tone::Waiting, "Presumed deceased by age".to_owned()));
    }
    for n in state.notices() {
        let kind = notice_kind(n.kind);
        let tag = match n.status(today) {
            NoticeStatus::InForce | NoticeStatus::Reinstated => {
                (Tone::Adverse, format!("Notice in force: {kind}"))
            }
            NoticeStatus::Contested => (Tone::Waiting, format!("Notice contested: {kind}")),
            NoticeStatus::NotYetEffective => {
                (Tone::Waiting, format!("Notice not yet in force: {kind}"))
            }
            NoticeStatus::Withdrawn => (Tone::Settled, format!("Notice withdrawn: {kind}")),
        };
        out.push(tag);
    }
    if let Some(e) = state.extra() {
        let held = e.held.iter().filter(|h| h.is_open()).count();
        if held > 0 {
            out.push((Tone::Waiting, plural(held, "report held for identity")));
        }
        if !e.pending.is_empty() {
            out.push((
                Tone::Waiting,
                plural(e.pending.len(), "report waiting for a second source"),
            ));
        }
        if !e.review.is_empty() {
            out.push((
                Tone::Waiting,
                plural(e.review.len(), "report held for review"),
            ));
        }
        if !e.corrected.is_empty() {
            out.push((Tone::Settled, plural(e.corrected.len(), "death corrected")));
        }
    }
    if correction_open {
        out.push((Tone::Info, "Correction pending".to_owned()));
    }
    out
}

/// "1 report …", "2 reports …": the count and the first word in the plural when needed.
fn plural(n: usize, what: &str) -> String {
    let text = if n == 1 {
        what.to_owned()
    } else {
        match what.split_once(' ') {
            Some((noun, rest)) => format!("{noun}s {rest}"),
            None => format!("{what}s"),
        }
    };
    format!("{n} {text}")
}

#[cfg(test)]
mod tests;
