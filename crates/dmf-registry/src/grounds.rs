//! What an answer stands on: the events of the person's record that a verification answer
//! comes from, for a receipt to prove, each with the committed fields of it the caller may see
//! opened. The same reading of the state as the answers themselves (`answers.rs`), so that the
//! two cannot disagree, and the same view of it ([`crate::render::visible`]): an answer that
//! does not show a death stands on no death report.
//!
//! A caller may see the SSN of those events (it asked about it), and a field only where the
//! answer already gives its value (an employment mismatch's contest deadline, the notice's);
//! nothing else is opened. An answer about no one (not in the file, a name or date that does
//! not agree) stands on no event: a log cannot prove absence.

use dmf_model::{Date, DeathSource, Seq};

use crate::answers::{self, EmploymentAnswer, IdentityCode, IdentityQuery};
use crate::event::Event;
use crate::render::{Purpose, visible};
use crate::state::{NoticeState, PersonState};

/// The SSN alone.
const SSN: &[&str] = &["ssn"];
/// The SSN and the contest deadline an employment mismatch gives.
const SSN_AND_DEADLINE: &[&str] = &["ssn", "contest_deadline"];

/// An event an answer stands on, with the fields of its body that the answer already
/// discloses (and a receipt may open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ground {
    pub seq: Seq,
    pub open: &'static [&'static str],
}

/// What an answer stands on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grounds {
    /// Events named by the state, in order.
    pub events: Vec<Ground>,
    /// The answer verified the identity on file, so it stands on the events that put it there
    /// as well: the state does not keep them (the index holds 40 bytes a person), so they are
    /// found in the person's history ([`identity_events`]).
    pub identity: bool,
}

impl Grounds {
    fn event(&mut self, seq: Seq, open: &'static [&'static str]) {
        match self.events.iter_mut().find(|g| g.seq == seq) {
            Some(g) if g.open.len() < open.len() => g.open = open,
            Some(_) => {}
            None => self.events.push(Ground { seq, open }),
        }
    }

    fn done(mut self) -> Grounds {
        self.events.sort_by_key(|g| g.seq);
        self
    }
}

/// What the answer to `query` for `purpose` stands on, from the person's whole state, as
/// [`crate::render::answer_view_for`] answers it (on a mirror, "no death on file" stands on
/// nothing).
pub fn grounds_for(
    purpose: Purpose,
    query: &IdentityQuery,
    state: Option<&PersonState>,
    today: Date,
    mirror: bool,
) -> Grounds {
    let Some(whole) = state else {
        return Grounds::default();
    };
    let seen = visible(whole, purpose);
    let seen: &PersonState = &seen;
    if mirror && seen.death.is_none() {
        return Grounds::default();
    }
    let mut g = Grounds::default();
    match answers::identity(query, Some(seen)).code {
        IdentityCode::NotInFile | IdentityCode::NameMismatch | IdentityCode::DobMismatch => {}
        IdentityCode::Deceased => death(&mut g, seen, purpose),
        IdentityCode::Verified => {
            g.identity = true;
            if purpose != Purpose::Employment
                && let Some(p) = seen.presumed()
            {
                g.event(p, SSN);
            }
            match purpose {
                Purpose::Identity => {}
                Purpose::Employment => employment(&mut g, seen, today),
                Purpose::Benefits => {
                    let answer = answers::benefits(query, Some(seen), today);
                    if answer.suspended {
                        for n in seen
                            .notices()
                            .iter()
                            .filter(|n| n.kind.affects_benefits() && n.in_force(today))
                        {
                            notice(&mut g, n, SSN);
                        }
                    }
                }
            }
        }
    }
    g.done()
}

/// The report a recorded death stands on; for a caller who may not receive a state's death
/// data, a report of another source that agreed with it, when the death stands on a state's.
fn death(g: &mut Grounds, state: &PersonState, purpose: Purpose) {
    let Some(d) = state.death else { return };
    if purpose.sees_state_deaths() || d.source != DeathSource::StateVitalRecords {
        g.event(d.established_by, SSN);
        return;
    }
    let other = state.extra().and_then(|e| {
        e.corroborations
            .iter()
            .find(|c| c.source != DeathSource::StateVitalRecords)
    });
    if let Some(c) = other {
        g.event(c.seq, SSN);
    }
}

/// The notice an employment answer names, and its contest and decision where the answer
/// stands on them.
fn employment(g: &mut Grounds, state: &PersonState, today: Date) {
    let (answer, basis) = answers::employment_basis(state, today);
    let Some(n) = basis else { return };
    let gives_deadline = matches!(
        answer,
        EmploymentAnswer::Mismatch { deadline: Some(d), contested: false, .. } if d == n.contest_deadline
    );
    notice(
        g,
        n,
        if gives_deadline {
            SSN_AND_DEADLINE
        } else {
            SSN
        },
    );
}

/// A notice, with the contest that suspends it or the decision that put it in force again.
fn notice(g: &mut Grounds, n: &NoticeState, open: &'static [&'static str]) {
    g.event(n.seq, open);
    match (n.contested_by, n.decision) {
        (Some(contest), None) => g.event(contest, SSN),
        (_, Some(d)) if !d.upheld => g.event(d.seq, SSN),
        _ => {}
    }
}

/// The events that put the identity on file, from the person's history: the numberholder
/// record (the first: a later one changes nothing) and the identity changes applied to it; for
/// someone known from a death record and put on file alive by a correction, the report that
/// named them and the correction.
pub fn identity_events<'a>(
    history: impl IntoIterator<Item = (Seq, &'a Event)>,
    state: &PersonState,
) -> Vec<Seq> {
    let record = history
        .into_iter()
        .find_map(|(seq, e)| matches!(e, Event::Person(_)).then_some(seq));
    let mut out: Vec<Seq> = match record {
        Some(seq) => vec![seq],
        None => state
            .extra()
            .map(|e| {
                e.corrected
                    .iter()
                    .flat_map(|c| [c.report, c.corrected_by])
                    .collect()
            })
            .unwrap_or_default(),
    };
    if let Some(e) = state.extra() {
        out.extend(&e.identity_changes);
    }
    out.sort_unstable();
    out.dedup();
    out
}
