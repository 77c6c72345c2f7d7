//! The records of computer-matching programs: agreements, approvals, renewals, the agency keys
//! bound to them, match requests (refused ones too) and each match's due process. They are
//! one append-only journal (a SQLite file, or a PostgreSQL table several nodes share) of typed
//! events ([`ProgramEvent`]), replayed into memory; every step is checked against the rules of
//! `dmf_registry::program` on the state as of the latest entry, under a lock, before it is
//! written. The store ([`JournalStore`]) deals in raw rows; [`Event`] decodes and encodes them.

pub mod conformance;
pub mod event;
pub mod json;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;
pub mod view;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use dmf_model::{Date, Reference};
use dmf_registry::program::{Act, Agreement, Case, CaseError, Element, ProgramError, Terms};
use serde_json::Value;

pub use event::{CaseRef, Event, ProgramEvent};
pub use json::{PathError, terms_from_json, terms_json};
pub use view::{agreement_view, request_view, stats_rows};

use crate::pg::with_causes;

/// Why the program store failed or refused a step.
#[derive(Debug, thiserror::Error)]
pub enum ProgramStoreError {
    #[error("cannot open {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the program store failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("PostgreSQL failed to {context}: {}", with_causes(.source))]
    Postgres {
        context: &'static str,
        #[source]
        source: ::postgres::Error,
    },
    #[error("no PostgreSQL connection for the program store: {0}")]
    Pool(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("program journal entry {id} is unreadable: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error("program journal entry {id} is unreadable: field {field}: {reason}")]
    Field {
        id: i64,
        field: String,
        reason: String,
    },
    #[error("no agreement {0}")]
    NoAgreement(u64),
    #[error("no match {1} in request {0}")]
    NoMatch(u64, u32),
    #[error("request {0} was not made under agreement {1}")]
    NotThisAgreement(u64, u64),
    #[error(transparent)]
    Program(#[from] ProgramError),
    #[error(transparent)]
    Case(#[from] CaseError),
}

/// One stored journal entry as the store holds it: the body is the JSON text as written. The
/// typed layer above ([`Event`]) decodes and encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub id: i64,
    pub at_ms: i64,
    /// The day the step counts for, `YYYY-MM-DD`.
    pub day: String,
    pub kind: String,
    pub agreement: Option<i64>,
    pub actor: String,
    pub body: String,
}

/// Where the journal is kept: a SQLite file, or a PostgreSQL table several nodes share.
/// Entries are numbered from 1 without gaps and never changed.
pub trait JournalStore: Send + Sync {
    /// The rows after entry `after`, in order.
    fn read_after(&self, after: i64) -> Result<Vec<JournalRow>, ProgramStoreError>;
    /// Appends one row under the journal's write lock: `next` is handed the rows written after
    /// `after` meanwhile (by other nodes) and returns the row to write, numbered after them, or
    /// refuses, and then nothing is written.
    fn append(
        &self,
        after: i64,
        next: &mut dyn FnMut(Vec<JournalRow>) -> Result<JournalRow, ProgramStoreError>,
    ) -> Result<(), ProgramStoreError>;
}

/// One journal entry as a dump holds it: the body as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at_ms: i64,
    pub day: Date,
    pub kind: String,
    pub agreement: Option<u64>,
    pub actor: String,
    pub body: Value,
}

/// One match of a request: the person on file and the match class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub ssn: u32,
    pub class: u8,
}

/// A match request as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub agreement: u64,
    pub at_ms: i64,
    pub day: Date,
    pub key: String,
    /// Why it was refused; nothing was matched or disclosed then.
    pub refused: Option<String>,
    pub records: u64,
    pub elements: Vec<Element>,
    pub matches: Vec<Matched>,
    /// Records that went out (every match, as nothing else is sent).
    pub disclosed: u64,
    /// Law-enforcement disclosures, each with the case reference its record gave.
    pub law_enforcement: Vec<(u32, String)>,
}

/// Everything known of the programs, replayed from the journal.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub agreements: BTreeMap<u64, Agreement>,
    /// Agency keys and the agreement each is bound to.
    pub keys: HashMap<i64, (u64, String)>,
    pub requests: BTreeMap<u64, Request>,
    /// Due process of matches that may lead to adverse action, by request and match number.
    pub cases: HashMap<(u64, u32), Case>,
    /// The latest entry applied.
    last: i64,
}

fn corrupt(id: i64, reason: impl Into<String>) -> ProgramStoreError {
    ProgramStoreError::Corrupt {
        id,
        reason: reason.into(),
    }
}

impl State {
    /// Applies the next entry.
    pub fn apply(&mut self, e: &Event) -> Result<(), ProgramStoreError> {
        let act = Act {
            by: e.actor.clone(),
            on: e.day,
        };
        let agreement = || e.agreement.ok_or_else(|| corrupt(e.id, "no agreement"));
        match &e.event {
            ProgramEvent::Agreement { terms } => {
                self.agreements.insert(
                    e.id as u64,
                    Agreement {
                        id: e.id as u64,
                        terms: terms.clone(),
                        created: act,
                        approved: None,
                        renewed: None,
                    },
                );
            }
            ProgramEvent::Approval => self.agreement_mut(agreement()?, e.id)?.approved = Some(act),
            ProgramEvent::Renewal { expiry } => {
                self.agreement_mut(agreement()?, e.id)?.renewed = Some((*expiry, act));
            }
            ProgramEvent::Key { key_id, key_name } => {
                self.keys.insert(*key_id, (agreement()?, key_name.clone()));
            }
            ProgramEvent::Request {
                refused,
                records,
                elements,
                matches,
                law_enforcement,
            } => {
                self.requests.insert(
                    e.id as u64,
                    Request {
                        id: e.id as u64,
                        agreement: agreement()?,
                        at_ms: e.at_ms,
                        day: e.day,
                        key: e.actor.clone(),
                        refused: refused.clone(),
                        records: *records,
                        elements: elements.clone(),
                        disclosed: matches.len() as u64,
                        matches: matches.clone(),
                        law_enforcement: law_enforcement.clone(),
                    },
                );
            }
            ProgramEvent::Verification { case, reference } => {
                self.case_mut(case).verified = Some((act, reference.clone()));
            }
            ProgramEvent::Notice {
                case,
                sent,
                reference,
            } => {
                let sent = Act {
                    by: act.by,
                    on: *sent,
                };
                self.case_mut(case).notice = Some((sent, reference.clone()));
            }
            ProgramEvent::Contest { case } => self.case_mut(case).contested = Some(act),
            ProgramEvent::ContestDecision { case, upheld } => {
                self.case_mut(case).contest_decided = Some((act, *upheld));
            }
            ProgramEvent::AdverseAction { case } => {
                self.case_mut(case).adverse_allowed = Some(act);
            }
        }
        self.last = e.id;
        Ok(())
    }

    /// The latest entry applied; 0 before the first.
    pub fn last(&self) -> i64 {
        self.last
    }

    fn case_mut(&mut self, case: &CaseRef) -> &mut Case {
        self.cases.entry((case.request, case.n)).or_default()
    }

    fn agreement_mut(&mut self, id: u64, entry: i64) -> Result<&mut Agreement, ProgramStoreError> {
        self.agreements
            .get_mut(&id)
            .ok_or_else(|| corrupt(entry, format!("no agreement {id}")))
    }

    pub fn agreement(&self, id: u64) -> Result<&Agreement, ProgramStoreError> {
        self.agreements
            .get(&id)
            .ok_or(ProgramStoreError::NoAgreement(id))
    }

    /// The match `n` of request `request` under `agreement`, and its case so far.
    pub fn matched(
        &self,
        agreement: u64,
        request: u64,
        n: u32,
    ) -> Result<(&Request, Matched, Case), ProgramStoreError> {
        let r = self
            .requests
            .get(&request)
            .ok_or(ProgramStoreError::NoMatch(request, n))?;
        if r.agreement != agreement {
            return Err(ProgramStoreError::NotThisAgreement(request, agreement));
        }
        let m = *r
            .matches
            .get(n as usize)
            .ok_or(ProgramStoreError::NoMatch(request, n))?;
        Ok((
            r,
            m,
            self.cases.get(&(request, n)).cloned().unwrap_or_default(),
        ))
    }
}

/// The program store: the journal and the state it replays to.
pub struct Programs {
    db: Box<dyn JournalStore>,
    state: Mutex<State>,
}

impl fmt::Debug for Programs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Programs")
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A step to journal, before it has an id.
#[derive(Debug)]
struct Step {
    agreement: Option<u64>,
    actor: String,
    day: Date,
    event: ProgramEvent,
}

/// Applies stored rows to `state`, decoding each.
fn catch_up(state: &mut State, rows: &[JournalRow]) -> Result<(), ProgramStoreError> {
    for row in rows {
        state.apply(&Event::decode(row)?)?;
    }
    Ok(())
}

impl Programs {
    /// The journal of `db`, replayed.
    pub fn new(db: Box<dyn JournalStore>) -> Result<Programs, ProgramStoreError> {
        let p = Programs {
            db,
            state: Mutex::new(State::default()),
        };
        p.read(|_| ())?;
        Ok(p)
    }

    pub fn open(path: &std::path::Path) -> Result<Programs, ProgramStoreError> {
        Programs::new(Box::new(sqlite::SqliteJournal::open(path)?))
    }

    /// The journal in a PostgreSQL database migrated by `dmf_postgres::migrate`.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Programs, ProgramStoreError> {
        Programs::new(Box::new(postgres::PgJournal::new(pool)))
    }

    /// The state as of the latest entry (other nodes' entries included).
    pub fn state(&self) -> Result<State, ProgramStoreError> {
        self.read(State::clone)
    }

    /// `f` of the state as of the latest entry, without copying it (requests look up one
    /// key or agreement; the journal keeps growing).
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, ProgramStoreError> {
        let mut state = lock(&self.state);
        let rows = self.db.read_after(state.last)?;
        catch_up(&mut state, &rows)?;
        Ok(f(&state))
    }

    /// Checks a step against the latest state and writes the entry it makes, atomically with
    /// respect to every other writer; returns the entry's id.
    fn append(
        &self,
        at_ms: i64,
        step: impl FnOnce(&State) -> Result<Step, ProgramStoreError>,
    ) -> Result<i64, ProgramStoreError> {
        let mut state = lock(&self.state);
        let mut step = Some(step);
        let mut made = None;
        let after = state.last;
        self.db.append(after, &mut |rows| {
            catch_up(&mut state, &rows)?;
            let step = step
                .take()
                .ok_or_else(|| corrupt(state.last + 1, "a step was asked for twice"))?;
            let s = step(&state)?;
            let event = Event {
                id: state.last + 1,
                at_ms,
                day: s.day,
                agreement: s.agreement,
                actor: s.actor,
                event: s.event,
            };
            let row = event.encode();
            made = Some(event);
            Ok(row)
        })?;
        let event = made.ok_or_else(|| corrupt(state.last + 1, "nothing was written"))?;
        state.apply(&event)?;
        Ok(event.id)
    }

    /// Every entry, for the dump.
    pub fn entries(&self) -> Result<Vec<Entry>, ProgramStoreError> {
        self.db
            .read_after(0)?
            .into_iter()
            .map(|row| {
                let event = Event::decode(&row)?;
                let body =
                    serde_json::from_str(&row.body).map_err(|e| corrupt(row.id, e.to_string()))?;
                Ok(Entry {
                    id: row.id,
                    at_ms: row.at_ms,
                    day: event.day,
                    kind: row.kind,
                    agreement: event.agreement,
                    actor: row.actor,
                    body,
                })
            })
            .collect()
    }

    /// Writes an entry of a dump as it was: next in line, its body as it came, and replayed
    /// like any other. One that does not decode is refused before anything is written.
    pub fn import(&self, e: &Entry) -> Result<(), ProgramStoreError> {
        let event = ProgramEvent::decode(e.id, &e.kind, &e.body)?;
        let mut state = lock(&self.state);
        self.db.append(state.last, &mut |rows| {
            catch_up(&mut state, &rows)?;
            if e.id != state.last + 1 {
                return Err(corrupt(e.id, format!("expected entry {}", state.last + 1)));
            }
            Ok(JournalRow {
                id: e.id,
                at_ms: e.at_ms,
                day: e.day.to_string(),
                kind: e.kind.clone(),
                agreement: e.agreement.map(|a| a as i64),
                actor: e.actor.clone(),
                body: e.body.to_string(),
            })
        })?;
        state.apply(&Event {
            id: e.id,
            at_ms: e.at_ms,
            day: e.day,
            agreement: e.agreement,
            actor: e.actor.clone(),
            event,
        })
    }

    /// Records a new agreement; it is inactive until a second person approves it.
    pub fn create(
        &self,
        terms: &Terms,
        by: &str,
        today: Date,
        at_ms: i64,
    ) -> Result<u64, ProgramStoreError> {
        terms.check()?;
        self.append(at_ms, |_| {
            Ok(Step {
                agreement: None,
                actor: by.to_owned(),
                day: today,
                event: ProgramEvent::Agreement {
                    terms: terms.clone(),
                },
            })
        })
        .map(|id| id as u64)
    }

    pub fn approve(
        &self,
        id: u64,
        by: &str,
        today: Date,
        at_ms: i64,
    ) -> Result<(), ProgramStoreError> {
        self.append(at_ms, |s| {
            s.agreement(id)?.check_approval(by, today)?;
            Ok(Step {
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                event: ProgramEvent::Approval,
            })
        })
        .map(drop)
    }

    pub fn renew(
        &self,
        id: u64,
        to: Date,
        by: &str,
        today: Date,
        at_ms: i64,
    ) -> Result<(), ProgramStoreError> {
        self.append(at_ms, |s| {
            s.agreement(id)?.check_renewal(to, today)?;
            Ok(Step {
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                event: ProgramEvent::Renewal { expiry: to },
            })
        })
        .map(drop)
    }

    /// Binds an agency key to an agreement: its requests are made under it alone.
    pub fn bind_key(
        &self,
        id: u64,
        key_id: i64,
        key_name: &str,
        by: &str,
        today: Date,
        at_ms: i64,
    ) -> Result<(), ProgramStoreError> {
        self.append(at_ms, |s| {
            s.agreement(id)?;
            Ok(Step {
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                event: ProgramEvent::Key {
                    key_id,
                    key_name: key_name.to_owned(),
                },
            })
        })
        .map(drop)
    }

    /// The agreement a key is bound to.
    pub fn agreement_of_key(&self, key_id: i64) -> Result<Option<u64>, ProgramStoreError> {
        self.read(|s| s.keys.get(&key_id).map(|(a, _)| *a))
    }

    /// Records a match request, answered or refused.
    pub fn record_request(&self, r: &Request) -> Result<u64, ProgramStoreError> {
        self.append(r.at_ms, |_| {
            Ok(Step {
                agreement: Some(r.agreement),
                actor: r.key.clone(),
                day: r.day,
                event: ProgramEvent::Request {
                    refused: r.refused.clone(),
                    records: r.records,
                    elements: r.elements.clone(),
                    matches: r.matches.clone(),
                    law_enforcement: r.law_enforcement.clone(),
                },
            })
        })
        .map(|id| id as u64)
    }

    /// A step of a match's due process, checked against the case as it stands.
    #[allow(clippy::too_many_arguments)]
    pub fn case_step(
        &self,
        agreement: u64,
        request: u64,
        n: u32,
        step: CaseStep,
        by: &str,
        today: Date,
        at_ms: i64,
    ) -> Result<(), ProgramStoreError> {
        self.append(at_ms, |s| {
            let a = s.agreement(agreement)?;
            let (r, _, case) = s.matched(agreement, request, n)?;
            if !a.terms.adverse_action {
                return Err(CaseError::NotAllowedByAgreement.into());
            }
            let at = CaseRef { request, n };
            let event = match &step {
                CaseStep::Verify { reference } => {
                    case.check_verify()?;
                    ProgramEvent::Verification {
                        case: at,
                        reference: reference.clone(),
                    }
                }
                CaseStep::Notice { sent, reference } => {
                    case.check_notice(*sent, r.day, today)?;
                    ProgramEvent::Notice {
                        case: at,
                        sent: *sent,
                        reference: reference.clone(),
                    }
                }
                CaseStep::Contest => {
                    case.check_contest()?;
                    ProgramEvent::Contest { case: at }
                }
                CaseStep::Decide { upheld } => {
                    case.check_decision()?;
                    ProgramEvent::ContestDecision {
                        case: at,
                        upheld: *upheld,
                    }
                }
                CaseStep::AllowAdverse => {
                    case.check_adverse(a.terms.adverse_action, today)?;
                    ProgramEvent::AdverseAction { case: at }
                }
            };
            Ok(Step {
                agreement: Some(agreement),
                actor: by.to_owned(),
                day: today,
                event,
            })
        })
        .map(drop)
    }
}

/// A step of a match's due process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStep {
    /// The agency verified the match independently (how, in the reference).
    Verify { reference: Reference },
    /// The agency sent the person a notice.
    Notice { sent: Date, reference: Reference },
    /// The person contested.
    Contest,
    /// The contest was decided; `upheld` when the person was right.
    Decide { upheld: bool },
    /// Adverse action may now be taken.
    AllowAdverse,
}

/// Requests, records, matches and disclosures of each agreement per period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub refused: u64,
    pub records: u64,
    pub matched: u64,
    pub disclosed: u64,
    pub law_enforcement: u64,
}

/// Counts by agreement and period (`YYYY-MM` or `YYYY-MM-DD`).
pub fn counts(state: &State, monthly: bool) -> BTreeMap<(u64, String), Counts> {
    let mut out: BTreeMap<(u64, String), Counts> = BTreeMap::new();
    for r in state.requests.values() {
        let day = r.day.to_string();
        let period = if monthly { day[..7].to_owned() } else { day };
        let c = out.entry((r.agreement, period)).or_default();
        if r.refused.is_some() {
            c.refused += 1;
            continue;
        }
        c.requests += 1;
        c.records += r.records;
        c.matched += r.matches.len() as u64;
        c.disclosed += r.disclosed;
        c.law_enforcement += r.law_enforcement.len() as u64;
    }
    out
}
