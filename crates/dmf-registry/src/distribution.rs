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

use std::collections::{BTreeSet, HashMap};

use dmf_format::{ChangeCode, DmfRecord};
use dmf_model::{Date, DeathSource, PartialDate};
use dmf_store::{Seq, StoredEvent};

use crate::event::{Event, ReportEvent};
use crate::state::PersonState;
use crate::{Registry, RegistryError, decode};

/// Who receives: a certified subscriber sees recent deaths; a benefit program sees deaths
/// that only a state reported.
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
    if death.source == DeathSource::StateVitalRecords && !audience.state_deaths {
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
    Some(DmfRecord::from_death(
        ChangeCode::Add,
        report.subject(),
        report.death(),
    ))
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
    let mut histories: HashMap<u32, Vec<(StoredEvent, Event)>> = HashMap::new();
    let mut after = 0;
    loop {
        let page = registry.store().read_after(after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            // Only people with a death report can be in the file, from that report on.
            let keep = matches!(e.kind.as_str(), "death_report")
                || e.subject.is_some_and(|s| histories.contains_key(&s));
            if !keep {
                continue;
            }
            let event = decode(&e.kind, &e.body)
                .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
            if let Some(s) = e.subject {
                histories.entry(s).or_default().push((e, event));
            }
        }
    }
    // A death depends only on death reports and what follows them (verifications,
    // corrections, withdrawals), never on a person record or a notice before them.
    let mut records: Vec<DmfRecord> = histories
        .values()
        .filter_map(|h| published(h, Seq::MAX, audience, today))
        .map(|r| r.with_change(ChangeCode::Full))
        .collect();
    records.sort_by_key(|r| r.ssn());
    Ok((after, records))
}
