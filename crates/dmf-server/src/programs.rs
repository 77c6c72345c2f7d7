//! The records of computer-matching programs: agreements, approvals, renewals, the agency keys
//! bound to them, match requests (refused ones too) and each match's due process. They are
//! one append-only journal (a SQLite file, or a PostgreSQL table several nodes share), replayed
//! into memory; every step is checked against the rules of `dmf_registry::program` on the
//! state as of the latest entry, under a lock, before it is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use dmf_model::{Date, Reference};
use dmf_registry::program::{Act, Agreement, Case, CaseError, Element, ProgramError, Terms};
use postgres::types::Type;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::pg::{SharedPool, with_causes};

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
        source: postgres::Error,
    },
    #[error("no PostgreSQL connection for the program store: {0}")]
    Pool(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("program journal entry {id} is unreadable: {reason}")]
    Corrupt { id: i64, reason: String },
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

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS program_journal (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    agreement INTEGER,
    actor TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS program_journal_no_update BEFORE UPDATE ON program_journal
BEGIN SELECT RAISE(ABORT, 'the program journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS program_journal_no_delete BEFORE DELETE ON program_journal
BEGIN SELECT RAISE(ABORT, 'the program journal is append-only'); END;
";

/// Every kind of journal entry.
const KINDS: [&str; 10] = [
    "agreement",
    "approval",
    "renewal",
    "key",
    "request",
    "verification",
    "notice",
    "contest",
    "contest_decision",
    "adverse_action",
];

/// Serializes writers of one PostgreSQL journal across nodes.
const PG_LOCK: i64 = i64::from_be_bytes(*b"dmf:prog");

/// One journal entry.
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
    last: i64,
}

fn corrupt(id: i64, reason: impl Into<String>) -> ProgramStoreError {
    ProgramStoreError::Corrupt {
        id,
        reason: reason.into(),
    }
}

impl State {
    fn apply(&mut self, e: &Entry) -> Result<(), ProgramStoreError> {
        let act = Act {
            by: e.actor.clone(),
            on: e.day,
        };
        let agreement = || e.agreement.ok_or_else(|| corrupt(e.id, "no agreement"));
        match e.kind.as_str() {
            "agreement" => {
                let terms = terms_from_json(&e.body)
                    .map_err(|(p, m)| corrupt(e.id, format!("{p}: {m}")))?;
                self.agreements.insert(
                    e.id as u64,
                    Agreement {
                        id: e.id as u64,
                        terms,
                        created: act,
                        approved: None,
                        renewed: None,
                    },
                );
            }
            "approval" => self.agreement_mut(agreement()?, e.id)?.approved = Some(act),
            "renewal" => {
                let to = date_at(&e.body, "expiry").map_err(|m| corrupt(e.id, m))?;
                self.agreement_mut(agreement()?, e.id)?.renewed = Some((to, act));
            }
            "key" => {
                let id = e.body["key_id"]
                    .as_i64()
                    .ok_or_else(|| corrupt(e.id, "key_id"))?;
                let name = e.body["key_name"].as_str().unwrap_or_default().to_owned();
                self.keys.insert(id, (agreement()?, name));
            }
            "request" => {
                let b = &e.body;
                let elements = b["elements"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str()?.parse().ok())
                    .collect();
                let matches: Vec<Matched> = b["matches"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| {
                        Some(Matched {
                            ssn: u32::try_from(m[0].as_u64()?).ok()?,
                            class: u8::try_from(m[1].as_u64()?).ok()?,
                        })
                    })
                    .collect::<Option<_>>()
                    .ok_or_else(|| corrupt(e.id, "matches"))?;
                let law_enforcement = b["law_enforcement"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| {
                        Some((
                            u32::try_from(m[0].as_u64()?).ok()?,
                            m[1].as_str()?.to_owned(),
                        ))
                    })
                    .collect();
                self.requests.insert(
                    e.id as u64,
                    Request {
                        id: e.id as u64,
                        agreement: agreement()?,
                        at_ms: e.at_ms,
                        day: e.day,
                        key: e.actor.clone(),
                        refused: b["refused"].as_str().map(str::to_owned),
                        records: b["records"].as_u64().unwrap_or(0),
                        elements,
                        disclosed: matches.len() as u64,
                        matches,
                        law_enforcement,
                    },
                );
            }
            "verification" | "notice" | "contest" | "contest_decision" | "adverse_action" => {
                let (request, n) = case_at(&e.body).map_err(|m| corrupt(e.id, m))?;
                let reference = || {
                    e.body["reference"]
                        .as_str()
                        .and_then(|r| Reference::new(r).ok())
                        .ok_or_else(|| corrupt(e.id, "reference"))
                };
                let case = self.cases.entry((request, n)).or_default();
                match e.kind.as_str() {
                    "verification" => case.verified = Some((act, reference()?)),
                    "notice" => {
                        let sent = date_at(&e.body, "sent").map_err(|m| corrupt(e.id, m))?;
                        case.notice = Some((
                            Act {
                                by: act.by,
                                on: sent,
                            },
                            reference()?,
                        ));
                    }
                    "contest" => case.contested = Some(act),
                    "contest_decision" => {
                        let upheld = e.body["upheld"]
                            .as_bool()
                            .ok_or_else(|| corrupt(e.id, "upheld"))?;
                        case.contest_decided = Some((act, upheld));
                    }
                    _ => case.adverse_allowed = Some(act),
                }
            }
            other => return Err(corrupt(e.id, format!("unknown kind {other:?}"))),
        }
        self.last = e.id;
        Ok(())
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

fn date_at(body: &Value, field: &str) -> Result<Date, String> {
    body[field]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{field} is not a date"))
}

fn case_at(body: &Value) -> Result<(u64, u32), String> {
    let request = body["request"].as_u64().ok_or("no request")?;
    let n = body["match"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("no match")?;
    Ok((request, n))
}

/// A JSON path and what is wrong there.
pub type PathError = (String, String);

/// The terms as JSON, as the API and the journal hold them.
pub fn terms_json(t: &Terms) -> Value {
    json!({
        "recipient": t.recipient.as_str(),
        "source": t.source.as_str(),
        "purpose": t.purpose.as_str(),
        "legal_authority": t.legal_authority.as_str(),
        "recipient_receives": t.recipient_receives.iter().map(|e| e.code()).collect::<Vec<_>>(),
        "source_receives": t.source_receives.iter().map(|e| e.code()).collect::<Vec<_>>(),
        "retention_days": t.retention_days,
        "start": t.start.to_string(),
        "expiry": t.expiry.to_string(),
        "adverse_action": t.adverse_action,
        "law_enforcement_criterion": t.law_enforcement.as_ref().map(Reference::as_str),
    })
}

const TERMS_FIELDS: [&str; 11] = [
    "recipient",
    "source",
    "purpose",
    "legal_authority",
    "recipient_receives",
    "source_receives",
    "retention_days",
    "start",
    "expiry",
    "adverse_action",
    "law_enforcement_criterion",
];

/// Terms from JSON, refusing unknown fields and naming the JSON path of the first problem;
/// then checked against the law's limits.
pub fn terms_from_json(v: &Value) -> Result<Terms, PathError> {
    let err = |path: &str, msg: &str| (format!("$.{path}"), msg.to_owned());
    let obj = v
        .as_object()
        .ok_or_else(|| ("$".to_owned(), "expected an object".to_owned()))?;
    if let Some(k) = obj.keys().find(|k| !TERMS_FIELDS.contains(&k.as_str())) {
        return Err(err(
            k,
            &format!(
                "unknown field (expected one of {})",
                TERMS_FIELDS.join(", ")
            ),
        ));
    }
    let text = |f: &str| -> Result<Reference, PathError> {
        let s = v[f].as_str().ok_or_else(|| err(f, "required, a string"))?;
        Reference::new(s).map_err(|e| err(f, &e.to_string()))
    };
    let date = |f: &str| -> Result<Date, PathError> {
        let s = v[f]
            .as_str()
            .ok_or_else(|| err(f, "required, a date YYYY-MM-DD"))?;
        s.parse()
            .map_err(|e: dmf_model::DateError| err(f, &e.to_string()))
    };
    fn list<T: std::str::FromStr<Err = dmf_registry::program::UnknownCode> + Ord>(
        v: &Value,
        f: &str,
    ) -> Result<BTreeSet<T>, PathError> {
        let items = v[f]
            .as_array()
            .ok_or_else(|| (format!("$.{f}"), "required, an array of names".to_owned()))?;
        items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .ok_or_else(|| "expected a string".to_owned())
                    .and_then(|s| {
                        s.parse()
                            .map_err(|e: dmf_registry::program::UnknownCode| e.to_string())
                    })
                    .map_err(|m| (format!("$.{f}[{i}]"), m))
            })
            .collect()
    }
    let retention = v["retention_days"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| err("retention_days", "required, a whole number of days"))?;
    let adverse_action = match &v["adverse_action"] {
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => return Err(err("adverse_action", "expected true or false")),
    };
    let law_enforcement = match &v["law_enforcement_criterion"] {
        Value::Null => None,
        Value::String(s) => {
            Some(Reference::new(s).map_err(|e| err("law_enforcement_criterion", &e.to_string()))?)
        }
        _ => return Err(err("law_enforcement_criterion", "expected a string")),
    };
    let terms = Terms {
        recipient: text("recipient")?,
        source: text("source")?,
        purpose: text("purpose")?,
        legal_authority: text("legal_authority")?,
        recipient_receives: list(v, "recipient_receives")?,
        source_receives: list(v, "source_receives")?,
        retention_days: retention,
        start: date("start")?,
        expiry: date("expiry")?,
        adverse_action,
        law_enforcement,
    };
    terms.check().map_err(|e| {
        let path = match e {
            ProgramError::NothingDisclosed => "recipient_receives",
            ProgramError::NameRequired => "source_receives",
            ProgramError::Retention(_) => "retention_days",
            _ => "expiry",
        };
        err(path, &e.to_string())
    })?;
    Ok(terms)
}

/// Where the journal is kept.
enum Db {
    Sqlite(Mutex<Connection>),
    Postgres(SharedPool),
}

/// The program store: the journal and the state it replays to.
pub struct Programs {
    db: Db,
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

fn failed(context: &'static str) -> impl FnOnce(postgres::Error) -> ProgramStoreError {
    move |source| ProgramStoreError::Postgres { context, source }
}

/// A new entry, before it has an id.
#[derive(Debug)]
pub struct NewEntry {
    pub kind: &'static str,
    pub agreement: Option<u64>,
    pub actor: String,
    pub day: Date,
    pub body: Value,
}

impl NewEntry {
    /// The entry it makes as number `id`.
    fn entry(self, id: i64, at_ms: i64) -> Entry {
        Entry {
            id,
            at_ms,
            day: self.day,
            kind: self.kind.to_owned(),
            agreement: self.agreement,
            actor: self.actor,
            body: self.body,
        }
    }
}

fn row_entry(
    id: i64,
    at_ms: i64,
    day: &str,
    kind: String,
    agreement: Option<i64>,
    actor: String,
    body: &str,
) -> Result<Entry, ProgramStoreError> {
    Ok(Entry {
        id,
        at_ms,
        day: day.parse().map_err(|_| corrupt(id, "day"))?,
        kind,
        agreement: agreement.map(|a| a as u64),
        actor,
        body: serde_json::from_str(body).map_err(|e| corrupt(id, e.to_string()))?,
    })
}

const SELECT: &str = "SELECT id, at_ms, day, kind, agreement, actor, body FROM program_journal";

/// Entries after `after` from PostgreSQL, on a connection or in a transaction.
fn pg_read<C: postgres::GenericClient>(
    c: &mut C,
    after: i64,
) -> Result<Vec<Entry>, ProgramStoreError> {
    let rows = c
        .query_typed(
            &format!("{SELECT} WHERE id > $1 ORDER BY id"),
            &[(&after, Type::INT8)],
        )
        .map_err(failed("read the program journal"))?;
    rows.iter()
        .map(|r| {
            let get = |e| corrupt(r.get::<_, i64>(0), format!("{e}"));
            row_entry(
                r.try_get(0).map_err(get)?,
                r.try_get(1).map_err(get)?,
                r.try_get::<_, &str>(2).map_err(get)?,
                r.try_get(3).map_err(get)?,
                r.try_get(4).map_err(get)?,
                r.try_get(5).map_err(get)?,
                r.try_get::<_, &str>(6).map_err(get)?,
            )
        })
        .collect()
}

impl Programs {
    pub fn open(path: &Path) -> Result<Programs, ProgramStoreError> {
        let conn = dmf_store::open_versioned(path, SCHEMA, SCHEMA_VERSION).map_err(|e| {
            ProgramStoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        let p = Programs {
            db: Db::Sqlite(Mutex::new(conn)),
            state: Mutex::new(State::default()),
        };
        p.state()?;
        Ok(p)
    }

    /// The journal in a PostgreSQL database migrated by `dmf_postgres::migrate`.
    pub fn on_postgres(pool: dmf_postgres::Pool) -> Result<Programs, ProgramStoreError> {
        let p = Programs {
            db: Db::Postgres(SharedPool::new(pool)),
            state: Mutex::new(State::default()),
        };
        p.state()?;
        Ok(p)
    }

    /// Entries after `after`, in order.
    fn read_after(&self, after: i64) -> Result<Vec<Entry>, ProgramStoreError> {
        match &self.db {
            Db::Sqlite(conn) => {
                let conn = lock(conn);
                let mut stmt = conn.prepare(&format!("{SELECT} WHERE id > ?1 ORDER BY id"))?;
                let rows = stmt.query_map([after], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })?;
                rows.map(|r| {
                    let (id, at, day, kind, agreement, actor, body) = r?;
                    row_entry(id, at, &day, kind, agreement, actor, &body)
                })
                .collect()
            }
            Db::Postgres(pool) => crate::pg::on_conn(
                pool,
                |e| ProgramStoreError::Pool(Box::new(e)),
                |c| pg_read(c, after),
            ),
        }
    }

    /// The state as of the latest entry (other nodes' entries included).
    pub fn state(&self) -> Result<State, ProgramStoreError> {
        self.read(State::clone)
    }

    /// `f` of the state as of the latest entry, without copying it (requests look up one
    /// key or agreement; the journal keeps growing).
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, ProgramStoreError> {
        let mut state = lock(&self.state);
        for e in self.read_after(state.last)? {
            state.apply(&e)?;
        }
        Ok(f(&state))
    }

    /// Checks a step against the latest state and writes the entry it makes, atomically with
    /// respect to every other writer; returns the entry's id.
    pub fn append(
        &self,
        at_ms: i64,
        step: impl FnOnce(&State) -> Result<NewEntry, ProgramStoreError>,
    ) -> Result<i64, ProgramStoreError> {
        let mut state = lock(&self.state);
        match &self.db {
            Db::Sqlite(conn) => {
                for e in self.read_after(state.last)? {
                    state.apply(&e)?;
                }
                let entry = step(&state)?.entry(state.last + 1, at_ms);
                let id = entry.id;
                lock(conn).execute(
                    "INSERT INTO program_journal (id, at_ms, day, kind, agreement, actor, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        at_ms,
                        entry.day.to_string(),
                        entry.kind,
                        entry.agreement.map(|a| a as i64),
                        entry.actor,
                        entry.body.to_string()
                    ],
                )?;
                state.apply(&entry)?;
                Ok(id)
            }
            Db::Postgres(pool) => crate::pg::on_conn(
                pool,
                |e| ProgramStoreError::Pool(Box::new(e)),
                |c| {
                    let mut tx = c.transaction().map_err(failed("begin a journal write"))?;
                    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_LOCK])
                        .map_err(failed("lock the program journal"))?;
                    for e in pg_read(&mut tx, state.last)? {
                        state.apply(&e)?;
                    }
                    let entry = step(&state)?.entry(state.last + 1, at_ms);
                    let id = entry.id;
                    let agreement = entry.agreement.map(|a| a as i64);
                    tx.execute_typed(
                        "INSERT INTO program_journal (id, at_ms, day, kind, agreement, actor, body)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            (&id, Type::INT8),
                            (&at_ms, Type::INT8),
                            (&entry.day.to_string(), Type::TEXT),
                            (&entry.kind, Type::TEXT),
                            (&agreement, Type::INT8),
                            (&entry.actor, Type::TEXT),
                            (&entry.body.to_string(), Type::TEXT),
                        ],
                    )
                    .map_err(failed("write the program journal"))?;
                    tx.commit().map_err(failed("commit a journal write"))?;
                    state.apply(&entry)?;
                    Ok(id)
                },
            ),
        }
    }

    /// Every entry, for the dump.
    pub fn entries(&self) -> Result<Vec<Entry>, ProgramStoreError> {
        self.read_after(0)
    }

    /// Writes an entry of a dump as it was: next in line, and replayed like any other.
    pub fn import(&self, e: &Entry) -> Result<(), ProgramStoreError> {
        let kind = KINDS
            .iter()
            .copied()
            .find(|k| *k == e.kind)
            .ok_or_else(|| corrupt(e.id, format!("unknown kind {:?}", e.kind)))?;
        let id = self.append(e.at_ms, |s| {
            if e.id != s.last + 1 {
                return Err(corrupt(e.id, format!("expected entry {}", s.last + 1)));
            }
            Ok(NewEntry {
                kind,
                agreement: e.agreement,
                actor: e.actor.clone(),
                day: e.day,
                body: e.body.clone(),
            })
        })?;
        debug_assert_eq!(id, e.id);
        Ok(())
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
        let body = terms_json(terms);
        self.append(at_ms, |_| {
            Ok(NewEntry {
                kind: "agreement",
                agreement: None,
                actor: by.to_owned(),
                day: today,
                body,
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
            Ok(NewEntry {
                kind: "approval",
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                body: json!({}),
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
            Ok(NewEntry {
                kind: "renewal",
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                body: json!({ "expiry": to.to_string() }),
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
            Ok(NewEntry {
                kind: "key",
                agreement: Some(id),
                actor: by.to_owned(),
                day: today,
                body: json!({ "key_id": key_id, "key_name": key_name }),
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
        let body = json!({
            "refused": r.refused,
            "records": r.records,
            "elements": r.elements.iter().map(|e| e.code()).collect::<Vec<_>>(),
            "matches": r.matches.iter().map(|m| json!([m.ssn, m.class])).collect::<Vec<_>>(),
            "law_enforcement": r.law_enforcement.iter().map(|(s, c)| json!([s, c])).collect::<Vec<_>>(),
        });
        self.append(r.at_ms, |_| {
            Ok(NewEntry {
                kind: "request",
                agreement: Some(r.agreement),
                actor: r.key.clone(),
                day: r.day,
                body,
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
            let mut body = json!({ "request": request, "match": n });
            let kind = match &step {
                CaseStep::Verify { reference } => {
                    case.check_verify()?;
                    body["reference"] = reference.as_str().into();
                    "verification"
                }
                CaseStep::Notice { sent, reference } => {
                    case.check_notice(*sent, r.day, today)?;
                    body["sent"] = sent.to_string().into();
                    body["reference"] = reference.as_str().into();
                    "notice"
                }
                CaseStep::Contest => {
                    case.check_contest()?;
                    "contest"
                }
                CaseStep::Decide { upheld } => {
                    case.check_decision()?;
                    body["upheld"] = (*upheld).into();
                    "contest_decision"
                }
                CaseStep::AllowAdverse => {
                    case.check_adverse(a.terms.adverse_action, today)?;
                    "adverse_action"
                }
            };
            Ok(NewEntry {
                kind,
                agreement: Some(agreement),
                actor: by.to_owned(),
                day: today,
                body,
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
