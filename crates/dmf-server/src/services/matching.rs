//! Computer-matching programs: agreements as shown, a listed person linked to people on file
//! by the matching core, the agreed elements of each match answered and accounted under the
//! agreement, each match's due process, and the programs' statistics.

use std::collections::BTreeSet;
use std::sync::Arc;

use dmf_match::{Model, NameTables, PersonRef, Prepared, PreparedBuilder};
use dmf_model::{Date, PartialDate, Reference, Sex, Ssn};
use dmf_registry::PersonState;
use dmf_registry::identity::Identity;
use dmf_registry::program::{Element, InputField, ProgramError};
use dmf_registry::program_view::AgreementView;
pub use dmf_service::programs::{agreement_view, request_view, stats_rows};

use crate::accounting::{Disclosure, Ticket};
use crate::error::{ApiError, Code};
use crate::keys::ApiKey;
use crate::programs::{CaseStep, Matched, ProgramStoreError, Request, State as Programs};
use crate::views::{
    CaseState, DeathSourceElement, LineError, MatchAnswer, MatchStatus, MatchedRecord, NameElement,
    NoticeElement, StatusElement,
};
use crate::{App, now_ms};

/// A failure of the program store as answered.
pub fn store_error(e: ProgramStoreError) -> ApiError {
    match e {
        ProgramStoreError::NoAgreement(_)
        | ProgramStoreError::NoMatch(..)
        | ProgramStoreError::NotThisAgreement(..) => ApiError::new(Code::NotFound, e.to_string()),
        ProgramStoreError::Program(ProgramError::SelfApproval) => {
            ApiError::new(Code::Forbidden, e.to_string())
        }
        ProgramStoreError::Program(ProgramError::NotInForce(_)) => {
            ApiError::new(Code::Forbidden, e.to_string())
        }
        ProgramStoreError::Program(_) | ProgramStoreError::Case(_) => {
            ApiError::new(Code::Unprocessable, e.to_string())
        }
        other => ApiError::internal(other),
    }
}

/// An agency key acts only under the agreement it is bound to.
pub fn bound(app: &App, key: &ApiKey, id: u64) -> Result<(), ApiError> {
    match app.programs.agreement_of_key(key.id).map_err(store_error)? {
        Some(a) if a == id => Ok(()),
        Some(a) => Err(ApiError::new(
            Code::Forbidden,
            format!("this key is bound to agreement {a}, not {id}"),
        )),
        None => Err(ApiError::new(
            Code::Forbidden,
            "this agency key is bound to no agreement",
        )),
    }
}

/// Agreement `id` as it stands now.
pub fn shown(app: &App, id: u64, today: Date) -> Result<AgreementView, ApiError> {
    app.programs
        .read(|p| p.agreement(id).map(|a| agreement_view(a, p, today)))
        .and_then(|v| v)
        .map_err(store_error)
}

/// Agreement `id` shown whole: with its requests and each match's due process.
pub fn shown_whole(p: &Programs, id: u64, today: Date) -> Result<AgreementView, ApiError> {
    let a = p.agreement(id).map_err(store_error)?;
    let mut v = agreement_view(a, p, today);
    v.requests = Some(
        p.requests
            .values()
            .filter(|r| r.agreement == id)
            .map(|r| request_view(r, p, today))
            .collect(),
    );
    Ok(v)
}

/// One listed person of a request.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub(crate) line: u64,
    pub(crate) id: Option<String>,
    pub(crate) first: String,
    pub(crate) middle: String,
    pub(crate) last: String,
    pub(crate) suffix: String,
    pub(crate) sex: Option<Sex>,
    pub(crate) dob: Option<PartialDate>,
    pub(crate) ssn: Option<Ssn>,
    pub(crate) case_reference: Option<String>,
    /// Fields that could not be read, matched as missing: field and reason.
    pub(crate) faults: Vec<(String, String)>,
}

/// Everyone on file with a name, prepared for matching: built again only when a name or date
/// of birth on file changed (deaths and notices leave it as it is).
pub(crate) struct Master {
    version: u64,
    prepared: Prepared,
    ssns: Vec<u32>,
}

fn master(app: &App) -> Arc<Master> {
    let tables: &NameTables = app.names.get_or_init(NameTables::shipped);
    let version = app.index.read().expect("index lock").identity_changes();
    let mut cache = app.program_master.lock().expect("master cache");
    if let Some(m) = cache.as_ref().filter(|m| m.version == version) {
        return m.clone();
    }
    let people: Vec<(u32, String, String, Identity)> = {
        let index = app.index.read().expect("index lock");
        index
            .iter()
            .filter_map(|(ssn, s)| {
                let id = s.identity?;
                Some((ssn, id.first.to_string(), id.last.to_string(), id))
            })
            .collect()
    };
    let mut builder = PreparedBuilder::new(tables);
    builder.extend_with(&people, |(ssn, first, last, id)| PersonRef {
        ssn: Ssn::from_number(*ssn).ok().map(Into::into),
        first,
        // The index keeps a middle name's initial only: it compares as an initial.
        middle: id
            .middle
            .and_then(|b| INITIALS.get(usize::from(b.get().wrapping_sub(b'A'))))
            .copied()
            .unwrap_or(""),
        last,
        suffix: id.suffix.map_or("", |g| g.code()),
        dob: id.dob,
        sex: id.sex,
    });
    let m = Arc::new(Master {
        version,
        prepared: builder.finish(),
        ssns: people.iter().map(|p| p.0).collect(),
    });
    *cache = Some(m.clone());
    m
}

/// Middle initials as names of one letter.
const INITIALS: [&str; 26] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U", "V", "W", "X", "Y", "Z",
];

/// Links the listed people to people on file: each listed person's best match at the
/// matching core's threshold, with its class.
fn link(app: &App, listed: &[Listed]) -> Vec<Option<(u32, u8, f64)>> {
    let tables: &NameTables = app.names.get_or_init(NameTables::shipped);
    let master = master(app);
    let mut builder = PreparedBuilder::new(tables);
    builder.extend_with(listed, |l| PersonRef {
        ssn: l.ssn.map(Into::into),
        first: &l.first,
        middle: &l.middle,
        last: &l.last,
        suffix: &l.suffix,
        dob: l.dob,
        sex: l.sex,
    });
    let client = builder.finish();
    let mut out = vec![None; listed.len()];
    if client.is_empty() || master.prepared.is_empty() {
        return out;
    }
    // A fixed model rather than one trained per request: a request may be a handful of
    // people, too few for EM. `m` from the priors, `u` from random pairs, and the prior that a
    // listed person is any one given person on file.
    let u = Model::estimate_u(&client, &master.prepared, tables, 200_000, 1);
    let model = Model {
        lambda: 1.0 / master.prepared.len() as f64,
        m: dmf_match::FieldParams::m_priors(),
        u,
        tf_floor: dmf_match::DEFAULT_TF_FLOOR,
    };
    let config = dmf_match::Config {
        model: Some(model),
        one_to_one: true,
        ..dmf_match::Config::default()
    };
    let outcome = dmf_match::run(&client, &master.prepared, tables, &config);
    for m in outcome.matches {
        let slot = &mut out[m.client as usize];
        if slot.is_none_or(|(_, _, p)| p < m.probability) {
            *slot = Some((master.ssns[m.master as usize], m.class, m.probability));
        }
    }
    out
}

/// The agreed elements of one person on file, into the record answered.
fn elements_of(
    out: &mut MatchedRecord,
    ssn: u32,
    s: &PersonState,
    elements: &[Element],
    today: Date,
) {
    for e in elements {
        match e {
            Element::Ssn => {
                out.ssn = Some(
                    Ssn::from_number(ssn)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                )
            }
            Element::Name => {
                out.name = Some(s.identity.as_ref().map(|id| NameElement {
                    first: id.first.to_string(),
                    last: id.last.to_string(),
                }))
            }
            Element::Dob => {
                out.dob = Some(
                    s.identity
                        .as_ref()
                        .and_then(|i| i.dob)
                        .map(|d| d.to_string()),
                )
            }
            // A presumption by age is never a death: it is a status, below.
            Element::Deceased => out.deceased = Some(s.death.is_some()),
            Element::DateOfDeath => out.date_of_death = Some(s.death.map(|d| d.dod.to_string())),
            Element::DeathSource => {
                out.death_source = Some(s.death.map(|d| DeathSourceElement {
                    source: d.source.code(),
                    verification: d.verification.name(),
                }))
            }
            Element::Status => {
                out.status = Some(MatchStatus::Element(StatusElement {
                    notices: s
                        .notices()
                        .iter()
                        .filter(|n| n.in_force(today))
                        .map(|n| NoticeElement {
                            kind: n.kind.code(),
                            authority: n.authority.as_str().to_owned(),
                            effective: n.effective.to_string(),
                        })
                        .collect(),
                    presumed_deceased: s.presumed().is_some(),
                }))
            }
        }
    }
}

/// Line errors: line number, field and reason.
pub(crate) type LineErrors = Vec<(u64, String, String)>;

/// A list to match under agreement `id`, as the agency key sent it.
#[derive(Debug)]
pub(crate) struct MatchList {
    pub(crate) people: Vec<Listed>,
    pub(crate) errors: LineErrors,
    /// The elements asked for; all the agreement names when none.
    pub(crate) asked: Option<BTreeSet<Element>>,
}

/// Matches a list against the file under agreement `id`: refused (and recorded) outside an
/// active agreement or for elements or fields it does not name; otherwise the agreed elements
/// of each matched record, recorded as a request and accounted to each person. The answer
/// leaves once the ticket is durable.
pub(crate) fn match_list(
    app: &App,
    key: &ApiKey,
    id: u64,
    list: MatchList,
    today: Date,
) -> Result<(MatchAnswer, Ticket), ApiError> {
    let MatchList {
        people,
        mut errors,
        asked,
    } = list;
    let agreement = app
        .programs
        .read(|p| p.agreement(id).cloned())
        .and_then(|a| a)
        .map_err(store_error)?;
    let terms = &agreement.terms;
    let asked = asked.unwrap_or_else(|| terms.recipient_receives.clone());
    let mut sent: BTreeSet<InputField> = [InputField::Name].into();
    if people.iter().any(|p| p.dob.is_some()) {
        sent.insert(InputField::Dob);
    }
    if people.iter().any(|p| p.ssn.is_some()) {
        sent.insert(InputField::Ssn);
    }
    let mut request = Request {
        id: 0,
        agreement: id,
        at_ms: now_ms(),
        day: today,
        key: key.name.clone(),
        refused: None,
        records: people.len() as u64 + errors.len() as u64,
        elements: asked.iter().copied().collect(),
        matches: Vec::new(),
        disclosed: 0,
        law_enforcement: Vec::new(),
    };
    // A refused request is on the record too, with why.
    if let Err(e) = agreement.check_request(today, &sent, &asked) {
        request.refused = Some(e.to_string());
        app.programs.record_request(&request).map_err(store_error)?;
        return Err(ApiError::new(Code::Forbidden, e.to_string()));
    }
    // A law-enforcement program discloses only records that state the agreed criterion.
    let people: Vec<Listed> = match &terms.law_enforcement {
        None => people,
        Some(criterion) => people
            .into_iter()
            .filter(|p| {
                let ok = p
                    .case_reference
                    .as_deref()
                    .is_some_and(|r| Reference::new(r).is_ok());
                if !ok {
                    errors.push((
                        p.line,
                        "case_reference".into(),
                        format!(
                            "required: the case reference showing {}",
                            criterion.as_str()
                        ),
                    ));
                }
                ok
            })
            .collect(),
    };
    let found = link(app, &people);
    let index = app.index.read().expect("index lock");
    let mut out = Vec::new();
    let mut disclosures = Vec::new();
    let elements: Vec<Element> = asked.iter().copied().collect();
    let mut fields: Vec<String> = elements.iter().map(|e| e.code().to_owned()).collect();
    fields.push("match_class".into());
    let purpose = match &terms.law_enforcement {
        None => format!("matching program, agreement {id}"),
        Some(_) => format!("law enforcement, agreement {id}"),
    };
    for (p, hit) in people.iter().zip(found) {
        let Some((ssn, class, probability)) = hit else {
            continue;
        };
        let Some(state) = Ssn::from_number(ssn).ok().and_then(|s| index.get(s)) else {
            continue;
        };
        let n = request.matches.len() as u32;
        request.matches.push(Matched { ssn, class });
        let mut v = MatchedRecord {
            line: p.line,
            id: p.id.clone(),
            class,
            probability: (probability * 1e4).round() / 1e4,
            ..MatchedRecord::default()
        };
        elements_of(&mut v, ssn, state, &elements, today);
        if terms.adverse_action {
            // No adverse action on a match until it is verified and the person had notice.
            v.n = Some(n);
            v.status = Some(MatchStatus::DueProcess("unverified"));
        }
        let purpose = match &p.case_reference {
            Some(r) if terms.law_enforcement.is_some() => {
                request.law_enforcement.push((ssn, r.clone()));
                format!("{purpose}, case {r}")
            }
            _ => purpose.clone(),
        };
        disclosures.push(Disclosure {
            ssn,
            at_ms: request.at_ms,
            key_id: key.id,
            key_name: key.name.clone(),
            purpose,
            fields: fields.clone(),
        });
        out.push(v);
    }
    drop(index);
    request.disclosed = request.matches.len() as u64;
    let request_id = app.programs.record_request(&request).map_err(store_error)?;
    let ticket = app.accounting.record_many(disclosures);
    let errors = errors
        .into_iter()
        .map(|(line, path, message)| LineError {
            line,
            path,
            message,
        })
        .collect();
    let faults = people
        .iter()
        .flat_map(|p| {
            p.faults.iter().map(|(path, message)| LineError {
                line: p.line,
                path: path.clone(),
                message: message.clone(),
            })
        })
        .collect();
    let answer = MatchAnswer {
        request: request_id,
        agreement: id,
        records: request.records,
        matched: out.len(),
        elements: elements.iter().map(|e| e.code()).collect(),
        matches: out,
        errors,
        faults,
    };
    Ok((answer, ticket))
}

/// Takes one step of a match's due process and gives where the match stands.
pub(crate) fn case_step(
    app: &App,
    key: &ApiKey,
    (id, request, n): (u64, u64, u32),
    step: CaseStep,
    today: Date,
) -> Result<CaseState, ApiError> {
    app.programs
        .case_step(id, request, n, step, &key.name, today, now_ms())
        .map_err(store_error)?;
    let (m, case) = app
        .programs
        .read(|p| p.matched(id, request, n).map(|(_, m, case)| (m, case)))
        .and_then(|x| x)
        .map_err(store_error)?;
    let status = case.status(today);
    Ok(CaseState {
        agreement: id,
        request,
        n,
        class: m.class,
        status: status.code(),
        contest_until: match status {
            dmf_registry::program::CaseStatus::NoticeSent { contest_until } => {
                Some(contest_until.to_string())
            }
            _ => None,
        },
    })
}
