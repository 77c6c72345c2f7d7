//! Computer-matching programs over HTTP: agreements (created by staff, approved by a second
//! person with the oversight role), match requests by the agency key bound to one agreement,
//! each match's due process, and the programs' statistics.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use dmf_model::{Date, PartialDate, Reference, Sex, Ssn, dmf_form};
use dmf_registry::program::Element;
use dmf_registry::program_view::AgreementView;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{Params, PathOf, query_error, read_body};
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::keys::Role;
use crate::programs::CaseStep;
use crate::services::blocking;
use crate::services::matching::{
    self, LineErrors, Listed, MatchList, agreement_view, bound, shown, shown_whole, store_error,
};
use crate::views::{Agreements, CaseState, MatchAnswer, ProgramStats};
use crate::{App, now_ms};

/// Roles that see every agreement and its requests.
const STAFF: &[Role] = &[Role::Caseworker, Role::Oversight];

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::at(Code::BadRequest, "$", e.to_string()))
}

/// `POST /v1/agreements`: inactive until a second person approves it.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Body,
) -> Result<(StatusCode, Json<AgreementView>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(v)))
}

/// `GET /v1/agreements`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    _caller: Caller,
) -> Result<Json<Agreements>, ApiError> {
    let today = app.today();
    let app2 = app.clone();
    blocking(move || {
        let p = app2.programs.state().map_err(store_error)?;
        let agreements = p
            .agreements
            .values()
            .map(|a| agreement_view(a, &p, today))
            .collect();
        Ok(Json(Agreements { agreements }))
    })
    .await
}

/// `GET /v1/agreements/{id}`: staff see every agreement, an agency key only its own.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<u64>,
) -> Result<Json<AgreementView>, ApiError> {
    if !STAFF.contains(&caller.key.role) {
        bound(&app, &caller.key, id)?;
    }
    let today = app.today();
    let app2 = app.clone();
    blocking(move || {
        let p = app2.programs.state().map_err(store_error)?;
        Ok(Json(shown_whole(&p, id, today)?))
    })
    .await
}

/// `POST /v1/agreements/{id}/approve`: not by the person who recorded it.
pub(crate) async fn approve(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<u64>,
) -> Result<Json<AgreementView>, ApiError> {
    let today = app.today();
    let app2 = app.clone();
    let by = caller.key.name.clone();
    blocking(move || {
        app2.programs
            .approve(id, &by, today, now_ms())
            .map_err(store_error)?;
        Ok(Json(shown(&app2, id, today)?))
    })
    .await
}

/// `POST /v1/agreements/{id}/renew` (`{"expiry": "YYYY-MM-DD"}`).
pub(crate) async fn renew(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<u64>,
    body: Body,
) -> Result<Json<AgreementView>, ApiError> {
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
        Ok(Json(shown(&app2, id, today)?))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchParams {
    /// Comma-separated elements asked for; all the agreement names by default.
    elements: Option<String>,
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

/// `POST /v1/agreements/{id}/matches`: a list matched under the key's agreement.
pub(crate) async fn matches(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf(id): PathOf<u64>,
    // Read after the key's agreement is checked: a key of another agreement learns nothing
    // from its parameters.
    q: Result<Query<MatchParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<MatchAnswer>, ApiError> {
    bound(&app, &caller.key, id)?;
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
    let app2 = app.clone();
    let key = caller.key.clone();
    let (answer, ticket) = blocking(move || {
        let (people, errors) = parse_listed(&bytes, csv_body)?;
        let list = MatchList {
            people,
            errors,
            asked,
        };
        matching::match_list(&app2, &key, id, list, today)
    })
    .await?;
    // The matched records leave once their disclosures are durable.
    app.disclosed(ticket).await?;
    Ok(Json(answer))
}

/// `POST /v1/agreements/{id}/matches/{request}/{n}/{step}`: one step of a match's due process.
pub(crate) async fn case_step(
    State(app): State<Arc<App>>,
    caller: Caller,
    PathOf((id, request, n, step)): PathOf<(u64, u64, u32, String)>,
    body: Body,
) -> Result<Json<CaseState>, ApiError> {
    bound(&app, &caller.key, id)?;
    let bytes = read_body(body, app.config.body_limit).await?;
    let v = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
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
    let key = caller.key.clone();
    let app2 = app.clone();
    blocking(move || matching::case_step(&app2, &key, (id, request, n), step, today).map(Json))
        .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsParams {
    period: Option<String>,
}

/// `GET /v1/agreements/stats?period=day|month`.
pub(crate) async fn stats(
    State(app): State<Arc<App>>,
    _caller: Caller,
    Params(q): Params<StatsParams>,
) -> Result<Json<ProgramStats>, ApiError> {
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
        Ok(Json(ProgramStats {
            rows: matching::stats_rows(&p, monthly),
        }))
    })
    .await
}
