//! HTTP routes of computer-matching programs: agreements (created by staff, approved by a
//! second person with the oversight role), match requests by the agency key bound to one
//! agreement, each match's due process, and the programs' statistics.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dmf_match::{Model, NameTables, PersonRef, Prepared, PreparedBuilder};
use dmf_model::{Date, PartialDate, Reference, Sex, Ssn, dmf_form};
use dmf_registry::PersonState;
use dmf_registry::identity::Identity;
use dmf_registry::program::{Element, InputField, ProgramError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::accounting::Disclosure;
use crate::api::{blocking, query_error, read_body};
use crate::auth::Caller;
use crate::error::{ApiError, Code, PathParams, path_params};
use crate::keys::Role;
use crate::programs::{CaseStep, Matched, ProgramStoreError, Request};
pub use crate::programs::{agreement_json, request_json, stats_rows};
use crate::{App, now_ms};

type Json = axum::Json<Value>;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/agreements", post(create).get(list))
        .route("/v1/agreements/stats", get(stats))
        .route("/v1/agreements/{id}", get(show))
        .route("/v1/agreements/{id}/approve", post(approve))
        .route("/v1/agreements/{id}/renew", post(renew))
        .route("/v1/agreements/{id}/matches", post(matches))
        .route(
            "/v1/agreements/{id}/matches/{request}/{n}/{step}",
            post(case_step),
        )
}

/// Roles that see agreements and their requests.
const STAFF: &[Role] = &[Role::Caseworker, Role::Oversight];

fn store_error(e: ProgramStoreError) -> ApiError {
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

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::at(Code::BadRequest, "$", e.to_string()))
}

/// The agreement the caller may see: staff see every one, an agency key only its own.
fn visible(app: &App, caller: &Caller, id: u64) -> Result<(), ApiError> {
    if STAFF.contains(&caller.key.role) {
        return Ok(());
    }
    caller.require(&[Role::Caseworker, Role::Oversight, Role::Agency])?;
    bound(app, caller, id)
}

/// An agency key acts only under the agreement it is bound to.
fn bound(app: &App, caller: &Caller, id: u64) -> Result<(), ApiError> {
    caller.require(&[Role::Agency])?;
    match app
        .programs
        .agreement_of_key(caller.key.id)
        .map_err(store_error)?
    {
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

/// Agreement `id` as it stands now, as the API shows it.
fn shown(app: &App, id: u64, today: Date) -> Result<Value, ApiError> {
    app.programs
        .read(|p| p.agreement(id).map(|a| agreement_json(a, p, today)))
        .and_then(|v| v)
        .map_err(store_error)
}

async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require(STAFF)?;
    let v = parse_json(&read_body(body, app.config.body_limit).await?)?;
    let terms = crate::programs::terms_from_json(&v)
        .map_err(|(path, msg)| ApiError::at(Code::BadRequest, path, msg))?;
    let today = app.today();
    let app2 = app.clone();
    let by = caller.key.name.clone();
    let v = blocking(move || {
        let id = app2
            .programs
            .create(&terms, &by, today, now_ms())
            .map_err(store_error)?;
        shown(&app2, id, today)
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

async fn list(State(app): State<Arc<App>>, caller: Caller) -> Result<Json, ApiError> {
    caller.require(STAFF)?;
    let today = app.today();
    let app2 = app.clone();
    blocking(move || {
        let p = app2.programs.state().map_err(store_error)?;
        let all: Vec<Value> = p
            .agreements
            .values()
            .map(|a| agreement_json(a, &p, today))
            .collect();
        Ok(axum::Json(json!({ "agreements": all })))
    })
    .await
}

async fn show(
    State(app): State<Arc<App>>,
    caller: Caller,
    id: PathParams<u64>,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Caseworker, Role::Oversight, Role::Agency])?;
    let id = path_params(id)?;
    visible(&app, &caller, id)?;
    let today = app.today();
    let app2 = app.clone();
    blocking(move || {
        let p = app2.programs.state().map_err(store_error)?;
        let a = p.agreement(id).map_err(store_error)?;
        let mut v = agreement_json(a, &p, today);
        v["requests"] = p
            .requests
            .values()
            .filter(|r| r.agreement == id)
            .map(|r| request_json(r, &p, today))
            .collect();
        Ok(axum::Json(v))
    })
    .await
}

async fn approve(
    State(app): State<Arc<App>>,
    caller: Caller,
    id: PathParams<u64>,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Oversight])?;
    let id = path_params(id)?;
    let today = app.today();
    let app2 = app.clone();
    let by = caller.key.name.clone();
    blocking(move || {
        app2.programs
            .approve(id, &by, today, now_ms())
            .map_err(store_error)?;
        Ok(axum::Json(shown(&app2, id, today)?))
    })
    .await
}

async fn renew(
    State(app): State<Arc<App>>,
    caller: Caller,
    id: PathParams<u64>,
    body: Body,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Oversight])?;
    let id = path_params(id)?;
    let v = parse_json(&read_body(body, app.config.body_limit).await?)?;
    let to: Date = v["expiry"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::at(Code::BadRequest, "$.expiry", "required, a date YYYY-MM-DD"))?;
    let today = app.today();
    let app2 = app.clone();
    let by = caller.key.name.clone();
    blocking(move || {
        app2.programs
            .renew(id, to, &by, today, now_ms())
            .map_err(store_error)?;
        Ok(axum::Json(shown(&app2, id, today)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchParams {
    /// Comma-separated elements asked for; all the agreement names by default.
    elements: Option<String>,
}

/// One listed person of a request.
#[derive(Debug, Clone)]
struct Listed {
    line: u64,
    id: Option<String>,
    first: String,
    middle: String,
    last: String,
    suffix: String,
    sex: Option<Sex>,
    dob: Option<PartialDate>,
    ssn: Option<Ssn>,
    case_reference: Option<String>,
    /// Fields that could not be read, matched as missing: field and reason.
    faults: Vec<(String, String)>,
}

const LISTED_FIELDS: [&str; 9] = [
    "id",
    "first",
    "middle",
    "last",
    "suffix",
    "sex",
    "dob",
    "ssn",
    "case_reference",
];

/// A listed person from one record's fields, or the field and reason it is refused. A name is
/// required; a bad date of birth, SSN or sex is a fault: the person is matched on the rest,
/// and the answer names the field.
fn listed(line: u64, get: &dyn Fn(&str) -> Option<String>) -> Result<Listed, (String, String)> {
    let text = |f: &str| {
        get(f)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let name = |f: &str| -> Result<String, (String, String)> {
        let s = text(f).ok_or_else(|| (f.to_owned(), "required".to_owned()))?;
        let form = dmf_form(&s);
        if form.is_empty() {
            return Err((f.to_owned(), format!("{s:?} has no letters")));
        }
        Ok(form)
    };
    let mut faults = Vec::new();
    let mut read = |field: &str, parse: &dyn Fn(&str) -> Result<(), String>| {
        let value = text(field)?;
        match parse(&value) {
            Ok(()) => Some(value),
            Err(reason) => {
                faults.push((field.to_owned(), format!("{reason}: matched as missing")));
                None
            }
        }
    };
    let dob = read("dob", &|s| {
        s.parse::<PartialDate>()
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .and_then(|s| s.parse::<PartialDate>().ok());
    let ssn = read("ssn", &|s| {
        s.parse::<Ssn>().map(drop).map_err(|e| e.to_string())
    })
    .and_then(|s| s.parse::<Ssn>().ok());
    let sex = read("sex", &|s| sex_of(s).map(drop)).and_then(|s| sex_of(&s).ok());
    Ok(Listed {
        line,
        id: text("id"),
        first: name("first")?,
        middle: text("middle").map(|m| dmf_form(&m)).unwrap_or_default(),
        last: name("last")?,
        suffix: text("suffix").map(|m| dmf_form(&m)).unwrap_or_default(),
        sex,
        dob,
        ssn,
        case_reference: text("case_reference"),
        faults,
    })
}

/// `F`, `M`, `female` or `male` in any case.
fn sex_of(text: &str) -> Result<Sex, String> {
    match text.to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Ok(Sex::Female),
        "M" | "MALE" => Ok(Sex::Male),
        _ => Err(format!("{text:?} is not F, M, female or male")),
    }
}

/// Line errors: line number, field and reason.
type LineErrors = Vec<(u64, String, String)>;

fn parse_listed(bytes: &[u8], csv_body: bool) -> Result<(Vec<Listed>, LineErrors), ApiError> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    if csv_body {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| ApiError::at(Code::BadRequest, "line 1", e.to_string()))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if let Some(h) = header.iter().find(|h| !LISTED_FIELDS.contains(&h.as_str())) {
            return Err(ApiError::at(
                Code::BadRequest,
                "line 1",
                format!(
                    "unknown column {h:?} (expected {})",
                    LISTED_FIELDS.join(", ")
                ),
            ));
        }
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            match record {
                Ok(r) => {
                    let get = |f: &str| {
                        let at = header.iter().position(|h| h == f)?;
                        r.get(at).map(str::to_owned)
                    };
                    match listed(line, &get) {
                        Ok(l) => ok.push(l),
                        Err((f, m)) => errors.push((line, f, m)),
                    }
                }
                Err(e) => errors.push((line, "$".into(), e.to_string())),
            }
        }
    } else {
        for (i, text) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = i as u64 + 1;
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let v: Value = match serde_json::from_slice(text) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    errors.push((line, "$".into(), "expected an object".into()));
                    continue;
                }
                Err(e) => {
                    errors.push((line, "$".into(), e.to_string()));
                    continue;
                }
            };
            let obj = v.as_object().expect("an object");
            if let Some(k) = obj.keys().find(|k| !LISTED_FIELDS.contains(&k.as_str())) {
                errors.push((
                    line,
                    k.clone(),
                    format!("unknown field (expected {})", LISTED_FIELDS.join(", ")),
                ));
                continue;
            }
            let get = |f: &str| match &v[f] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            match listed(line, &get) {
                Ok(l) => ok.push(l),
                Err((f, m)) => errors.push((line, f, m)),
            }
        }
    }
    Ok((ok, errors))
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

/// The agreed elements of one person on file.
fn elements_of(ssn: u32, s: &PersonState, elements: &[Element], today: Date) -> Map<String, Value> {
    let mut out = Map::new();
    for e in elements {
        let v = match e {
            Element::Ssn => json!(
                Ssn::from_number(ssn)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            ),
            Element::Name => match &s.identity {
                Some(id) => json!({ "first": id.first.to_string(), "last": id.last.to_string() }),
                None => Value::Null,
            },
            Element::Dob => json!(
                s.identity
                    .as_ref()
                    .and_then(|i| i.dob)
                    .map(|d| d.to_string())
            ),
            // A presumption by age is never a death: it is a status, below.
            Element::Deceased => json!(s.death.is_some()),
            Element::DateOfDeath => json!(s.death.map(|d| d.dod.to_string())),
            Element::DeathSource => match s.death {
                Some(d) => {
                    json!({ "source": d.source.code(), "verification": d.verification.name() })
                }
                None => Value::Null,
            },
            Element::Status => {
                let notices: Vec<Value> = s
                    .notices()
                    .iter()
                    .filter(|n| n.in_force(today))
                    .map(|n| json!({ "kind": n.kind.code(), "authority": n.authority.as_str(), "effective": n.effective.to_string() }))
                    .collect();
                json!({ "notices": notices, "presumed_deceased": s.presumed().is_some() })
            }
        };
        out.insert(e.code().to_owned(), v);
    }
    out
}

async fn matches(
    State(app): State<Arc<App>>,
    caller: Caller,
    id: PathParams<u64>,
    q: Result<Query<MatchParams>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json, ApiError> {
    caller.require(&[Role::Agency])?;
    let id = path_params(id)?;
    bound(&app, &caller, id)?;
    let Query(q) = q.map_err(query_error)?;
    let asked: Option<BTreeSet<Element>> = q
        .elements
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(|e| e.trim().parse::<Element>())
                .collect::<Result<_, _>>()
                .map_err(|e| ApiError::at(Code::BadRequest, "elements", e.to_string()))
        })
        .transpose()?;
    let csv_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let bytes = read_body(body, app.config.submit_limit).await?;
    let today = app.today();
    let key_name = caller.key.name.clone();
    let key_id = caller.key.id;
    let app2 = app.clone();
    let answer = blocking(move || {
        let (people, mut errors) = parse_listed(&bytes, csv_body)?;
        let agreement = app2
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
            key: key_name.clone(),
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
            app2.programs
                .record_request(&request)
                .map_err(store_error)?;
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
        let found = link(&app2, &people);
        let index = app2.index.read().expect("index lock");
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
            let mut v = elements_of(ssn, state, &elements, today);
            v.insert("line".into(), p.line.into());
            if let Some(their) = &p.id {
                v.insert("id".into(), their.clone().into());
            }
            v.insert("class".into(), class.into());
            v.insert(
                "probability".into(),
                json!((probability * 1e4).round() / 1e4),
            );
            if terms.adverse_action {
                // No adverse action on a match until it is verified and the person had notice.
                v.insert("match".into(), n.into());
                v.insert("status".into(), "unverified".into());
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
                key_id,
                key_name: key_name.clone(),
                purpose,
                fields: fields.clone(),
            });
            out.push(Value::Object(v));
        }
        drop(index);
        request.disclosed = request.matches.len() as u64;
        let request_id = app2
            .programs
            .record_request(&request)
            .map_err(store_error)?;
        let ticket = app2.accounting.record_many(disclosures);
        let errors: Vec<Value> = errors
            .into_iter()
            .map(|(line, path, message)| json!({ "line": line, "path": path, "message": message }))
            .collect();
        let faults: Vec<Value> = people
            .iter()
            .flat_map(|p| {
                p.faults.iter().map(
                    |(path, message)| json!({ "line": p.line, "path": path, "message": message }),
                )
            })
            .collect();
        let answer = axum::Json(json!({
            "request": request_id,
            "agreement": id,
            "records": request.records,
            "matched": out.len(),
            "elements": elements.iter().map(|e| e.code()).collect::<Vec<_>>(),
            "matches": out,
            "errors": errors,
            "faults": faults,
        }));
        Ok((answer, ticket))
    })
    .await?;
    // The matched records leave once their disclosures are durable.
    app.disclosed(answer.1).await?;
    Ok(answer.0)
}

async fn case_step(
    State(app): State<Arc<App>>,
    caller: Caller,
    path: PathParams<(u64, u64, u32, String)>,
    body: Body,
) -> Result<Json, ApiError> {
    // The role first: a key that may not use the route learns nothing from its paths.
    caller.require(&[Role::Agency])?;
    let (id, request, n, step) = path_params(path)?;
    bound(&app, &caller, id)?;
    let bytes = read_body(body, app.config.body_limit).await?;
    let v = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        parse_json(&bytes)?
    };
    let reference = |f: &str| -> Result<Reference, ApiError> {
        let s = v[f].as_str().ok_or_else(|| {
            ApiError::at(Code::BadRequest, format!("$.{f}"), "required, a string")
        })?;
        Reference::new(s)
            .map_err(|e| ApiError::at(Code::BadRequest, format!("$.{f}"), e.to_string()))
    };
    let today = app.today();
    let step = match step.as_str() {
        "verification" => CaseStep::Verify {
            reference: reference("method")?,
        },
        "notice" => CaseStep::Notice {
            sent: match v["sent"].as_str() {
                None => today,
                Some(s) => s
                    .parse()
                    .map_err(|_| ApiError::at(Code::BadRequest, "$.sent", "a date YYYY-MM-DD"))?,
            },
            reference: reference("reference")?,
        },
        "contest" => CaseStep::Contest,
        "decision" => CaseStep::Decide {
            upheld: match v["decision"].as_str() {
                Some("upheld") => true,
                Some("denied") => false,
                _ => {
                    return Err(ApiError::at(
                        Code::BadRequest,
                        "$.decision",
                        "upheld (the person was right) or denied",
                    ));
                }
            },
        },
        "adverse-action" => CaseStep::AllowAdverse,
        other => {
            return Err(ApiError::new(
                Code::NotFound,
                format!(
                    "{other:?} is not a step (verification, notice, contest, decision, adverse-action)"
                ),
            ));
        }
    };
    let by = caller.key.name.clone();
    let app2 = app.clone();
    blocking(move || {
        app2.programs
            .case_step(id, request, n, step, &by, today, now_ms())
            .map_err(store_error)?;
        let (m, case) = app2
            .programs
            .read(|p| p.matched(id, request, n).map(|(_, m, case)| (m, case)))
            .and_then(|x| x)
            .map_err(store_error)?;
        let status = case.status(today);
        let mut v = json!({ "agreement": id, "request": request, "match": n, "class": m.class, "status": status.code() });
        if let dmf_registry::program::CaseStatus::NoticeSent { contest_until } = status {
            v["contest_until"] = contest_until.to_string().into();
        }
        Ok(axum::Json(v))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    period: Option<String>,
}

async fn stats(
    State(app): State<Arc<App>>,
    caller: Caller,
    q: Result<Query<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json, ApiError> {
    caller.require(STAFF)?;
    let Query(q) = q.map_err(query_error)?;
    let monthly = match q.period.as_deref().unwrap_or("month") {
        "month" => true,
        "day" => false,
        other => {
            return Err(ApiError::at(
                Code::BadRequest,
                "period",
                format!("{other:?} is not day or month"),
            ));
        }
    };
    let app2 = app.clone();
    blocking(move || {
        let p = app2.programs.state().map_err(store_error)?;
        Ok(axum::Json(json!({ "rows": stats_rows(&p, monthly) })))
    })
    .await
}
