//! What subscribers may receive: the published DMF record of a person for an audience, and
//! the change records (A/C/D) that bring a subscriber from one position of the event
//! sequence to another.
//!
//! The rules (15 CFR 1110, 42 U.S.C. 405(r)): a death within three years of its date is
//! withheld from subscribers not certified under the limited-access rule; a death only a
//! state reported goes only to federal benefit programs; a death that is withdrawn or
//! corrected is sent as `D` to whoever could see it, a changed one as `C`. A published record
//! is always made from the death report it stands on (`DeathReport::death`), never from
//! anything else.

use std::collections::{BTreeSet, HashMap, HashSet};

use dmf_format::{ChangeCode, DmfRecord};
use dmf_model::{Date, PartialDate, PersonName};
use dmf_store::{Seq, StoredEvent};

use crate::codec::decode;
use crate::event::{Event, ReportEvent};
use crate::registry::{Registry, RegistryError};
use crate::state::{PersonState, identity_of};

/// Who receives: a certified subscriber sees recent deaths; a benefit program sees deaths
/// whose sole source is a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audience {
    pub certified: bool,
    pub state_deaths: bool,
}

/// Years after the date of death during which uncertified subscribers do not receive it.
pub const WITHHELD_YEARS: u16 = 3;

/// Whether a death of `dod` is still withheld from uncertified subscribers on `today`: the
/// three years run from the latest day the (possibly partial) date can be.
pub fn within_withholding(dod: PartialDate, today: Date) -> bool {
    let last = dod.latest();
    let year = last.year() + WITHHELD_YEARS;
    let day = last.day().min(dmf_model::days_in_month(year, last.month()));
    match Date::new(year, last.month(), day) {
        Ok(release) => today < release,
        Err(_) => true,
    }
}

/// The record an audience may see of one person, from their events up to `upto` (all of
/// them for `Seq::MAX`), as of `today`.
pub fn published(
    history: &[(StoredEvent, Event)],
    upto: Seq,
    audience: Audience,
    today: Date,
) -> Option<DmfRecord> {
    let mut state = PersonState::default();
    for (stored, event) in history.iter().take_while(|(s, _)| s.seq <= upto) {
        state.apply(stored.seq, event);
    }
    let death = state.death?;
    if death.state_only() && !audience.state_deaths {
        return None;
    }
    if !audience.certified && within_withholding(death.dod, today) {
        return None;
    }
    // The report the death stands on: the one that established it, or for a caseworker's
    // verification, the latest earlier report of that date and source.
    let report = history
        .iter()
        .rev()
        .filter(|(s, _)| s.seq <= death.established_by)
        .find_map(|(_, e)| match e {
            Event::DeathReport(ReportEvent { report, .. })
                if report.dod() == death.dod && report.source() == death.source =>
            {
                Some(report)
            }
            _ => None,
        })?;
    let (name, dob) = identity_on_file(history, upto, &state)?;
    Some(DmfRecord::from_death(
        ChangeCode::Add,
        report.subject().ssn,
        &name,
        dob,
        report.death(),
    ))
}

/// The name and date of birth a published record carries: the numberholder's on file, with the
/// identity changes applied; for someone known only from death records, the first record the
/// identity on file came from. Never a later reporter's spelling, which stays in the history.
fn identity_on_file(
    history: &[(StoredEvent, Event)],
    upto: Seq,
    state: &PersonState,
) -> Option<(PersonName, Option<PartialDate>)> {
    let on_file = state.identity?;
    let events = || history.iter().take_while(|(s, _)| s.seq <= upto);
    if on_file.issued
        && let Some(p) = events().find_map(|(_, e)| match e {
            Event::Person(p) => Some(p),
            _ => None,
        })
    {
        let (mut name, mut dob, mut sex) = (p.name.clone(), p.dob, p.sex);
        let applied = state.extra().map_or(&[][..], |e| &e.identity_changes);
        for (stored, event) in events() {
            if let Event::IdentityChange(c) = event
                && applied.contains(&stored.seq)
            {
                c.applied_to(&mut name, &mut dob, &mut sex);
            }
        }
        return Some((name, dob));
    }
    // Known from a death record: the first whose name and date of birth are those on file.
    let same = |name: &PersonName, dob: Option<PartialDate>| {
        let id = identity_of(name, dob, None, false);
        (id.first, id.last, id.dob) == (on_file.first, on_file.last, on_file.dob)
    };
    let from_report = events().find_map(|(_, e)| match e {
        Event::DeathReport(r) => {
            let subject = r.report.subject();
            let name = subject.name.complete()?;
            same(&name, subject.dob).then_some((name, subject.dob))
        }
        _ => None,
    });
    from_report.or_else(|| {
        let name =
            PersonName::parse(on_file.first.as_str(), None, on_file.last.as_str(), None).ok()?;
        Some((name, on_file.dob))
    })
}

/// The change record that takes a subscriber from `before` to `after`, if any.
pub fn change(before: Option<&DmfRecord>, after: Option<&DmfRecord>) -> Option<DmfRecord> {
    match (before, after) {
        (None, Some(a)) => Some(a.clone().with_change(ChangeCode::Add)),
        (Some(b), Some(a)) if b.clone().with_change(ChangeCode::Add) != *a => {
            Some(a.clone().with_change(ChangeCode::Change))
        }
        (Some(b), None) => Some(b.clone().with_change(ChangeCode::Delete)),
        _ => None,
    }
}

/// Changes between two positions of the event sequence, for one audience, in SSN order.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The position the changes lead to.
    pub cursor: Seq,
    pub records: Vec<DmfRecord>,
}

/// The change records that bring an audience from position `after` to `until` (at most
/// `max_events` events further, so a page stays bounded).
pub fn changes(
    registry: &Registry,
    after: Seq,
    max_events: usize,
    audience: Audience,
    today: Date,
) -> Result<Changes, RegistryError> {
    let events = registry.store().read_after(after, max_events)?;
    let Some(last) = events.last() else {
        return Ok(Changes {
            cursor: after,
            records: Vec::new(),
        });
    };
    let until = last.seq;
    let subjects: BTreeSet<u32> = events.iter().filter_map(|e| e.subject).collect();
    let mut records = Vec::new();
    for subject in subjects {
        let ssn = dmf_model::Ssn::from_number(subject).expect("stored subjects are valid SSNs");
        let history = registry.history(ssn)?;
        let before = published(&history, after, audience, today);
        let now = published(&history, until, audience, today);
        records.extend(change(before.as_ref(), now.as_ref()));
    }
    Ok(Changes {
        cursor: until,
        records,
    })
}

/// Every record an audience may see now, in SSN order: the full file. One pass over the
/// events, keeping the reports deaths stand on.
pub fn full_file(
    registry: &Registry,
    audience: Audience,
    today: Date,
) -> Result<(Seq, Vec<DmfRecord>), RegistryError> {
    // Who can be in the file: everyone with a death report. A first pass finds them (nothing
    // decoded), a second keeps their events, the numberholder record their name comes from too.
    let mut dead: HashSet<u32> = HashSet::new();
    let mut after = 0;
    loop {
        let page = registry.store().read_after(after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        dead.extend(
            page.iter()
                .filter(|e| e.kind == "death_report")
                .filter_map(|e| e.subject),
        );
    }
    let head = after;
    let mut histories: HashMap<u32, Vec<(StoredEvent, Event)>> = HashMap::new();
    let mut after = 0;
    while after < head {
        let page = registry.store().read_after(after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page.into_iter().take_while(|e| e.seq <= head) {
            let Some(s) = e.subject.filter(|s| dead.contains(s)) else {
                continue;
            };
            let event = decode(&e.kind, &e.body)
                .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
            histories.entry(s).or_default().push((e, event));
        }
    }
    let after = head;
    let mut records: Vec<DmfRecord> = histories
        .values()
        .filter_map(|h| published(h, Seq::MAX, audience, today))
        .map(|r| r.with_change(ChangeCode::Full))
        .collect();
    records.sort_by_key(|r| r.ssn());
    Ok((after, records))
}
