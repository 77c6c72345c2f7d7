//! A message: its header, the Parameters that name its record, and what its event carries.

use serde_json::Value;

use super::document::{DocumentIds, read_certificate, reference_of};
use super::tree::{Entries, Index, Key, Obj, Text};
use crate::{
    Alias, Body, CertificateKey, Coding, DeathCertificate, IssueCode, Jurisdiction, Located,
    Message, Problem, Record, RecordIds, Refusal, Response, Void, event_uri,
};

/// What a message's `eventUri` makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Submission,
    Update,
    Void,
    Alias,
    Acknowledgement,
    ExtractionError,
    Status,
    Coding,
}

impl Event {
    fn of(uri: &str) -> Option<Event> {
        Some(match uri {
            event_uri::SUBMISSION => Event::Submission,
            event_uri::UPDATE => Event::Update,
            event_uri::VOID => Event::Void,
            event_uri::ALIAS => Event::Alias,
            event_uri::ACKNOWLEDGEMENT => Event::Acknowledgement,
            event_uri::EXTRACTION_ERROR => Event::ExtractionError,
            event_uri::STATUS => Event::Status,
            _ if event_uri::CODING_FAMILY.contains(&uri) => Event::Coding,
            _ => return None,
        })
    }
}

/// The MessageHeader's elements the reader uses.
#[derive(Debug, Default)]
struct Header {
    id: Option<String>,
    event: Option<String>,
    source: Option<String>,
    destinations: Vec<String>,
    focus: Vec<String>,
    response_identifier: Option<String>,
    details: Option<String>,
}

/// One of the three parts of a record's key as the Parameters give it.
#[derive(Debug, Clone)]
enum Part<T> {
    Absent,
    /// Given, with a problem already pushed.
    Bad,
    Given(T, String),
}

impl<T: Copy> Part<T> {
    fn given(&self) -> Option<T> {
        match self {
            Part::Given(v, _) => Some(*v),
            _ => None,
        }
    }
}

/// The Parameters' elements the reader uses.
#[derive(Debug)]
struct Params {
    at: String,
    jurisdiction: Part<Jurisdiction>,
    number: Part<u32>,
    year: Part<u16>,
    state_auxiliary_id: Option<String>,
    block_count: Option<(u32, String)>,
    alias: [Option<String>; 5],
    alias_ssn: Option<Located<String>>,
    status: Option<String>,
}

const ALIAS_NAMES: [&str; 5] = [
    "alias_decedent_first_name",
    "alias_decedent_middle_name",
    "alias_decedent_last_name",
    "alias_decedent_name_suffix",
    "alias_father_surname",
];

/// Reads one message (a Bundle of type `message`, at `at`), with every problem found.
pub(crate) fn read_message(msg: &Obj<'_>, at: &str) -> Result<Message, Refusal> {
    let mut problems = Vec::new();
    let mut refusal = Refusal {
        message_id: None,
        source: None,
        ids: None,
        problems: Vec::new(),
    };
    let entries = match &msg.entry {
        Some(Entries::List(list)) if !list.is_empty() => list.as_slice(),
        Some(Entries::NotList) => {
            problems.push(Problem::new(
                format!("{at}.entry"),
                IssueCode::Structure,
                "Bundle.entry is a list of entries",
            ));
            &[]
        }
        _ => {
            problems.push(Problem::new(
                format!("{at}.entry"),
                IssueCode::Required,
                "the message has no entries: a message begins with its MessageHeader",
            ));
            &[]
        }
    };
    for (k, entry) in entries.iter().enumerate() {
        if !entry.object || entry.resource.as_ref().is_none_or(|r| !r.object) {
            problems.push(Problem::new(
                format!("{at}.entry[{k}]"),
                IssueCode::Structure,
                "an entry of a message holds a resource (an object with a resourceType)",
            ));
        }
    }
    let entry_at = |k: usize| format!("{at}.entry[{k}].resource");
    let resource = |k: usize| entries[k].resource.as_ref();
    let header_index =
        (0..entries.len()).find(|&k| resource(k).is_some_and(|r| r.is("MessageHeader")));
    let Some(h) = header_index else {
        if !entries.is_empty() {
            problems.push(Problem::new(
                entry_at(0),
                IssueCode::Required,
                "the first entry of a message is its MessageHeader; this message has none",
            ));
        }
        refusal.problems = problems;
        return Err(refusal);
    };
    if h != 0 {
        problems.push(Problem::new(
            entry_at(0),
            IssueCode::Structure,
            format!("the MessageHeader must be the first entry of a message; here it is entry {h}"),
        ));
    }
    let header_at = entry_at(h);
    let header = read_header(resource(h).expect("found above"), &header_at, &mut problems);
    refusal.message_id = header.id.clone();
    refusal.source = header.source.clone();

    let event = header.event.as_deref().and_then(|uri| {
        let event = Event::of(uri);
        if event.is_none() {
            problems.push(Problem::new(
                format!("{header_at}.eventUri"),
                IssueCode::NotSupported,
                format!(
                    "{uri:?} is not a message this receiver takes (submissions, updates, voids, \
                     aliases, acknowledgements, extraction errors, status and coding messages)"
                ),
            ));
        }
        event
    });
    let index = Index::new(entries);
    let focused = |ty: &str| {
        header
            .focus
            .iter()
            .filter_map(|r| index.resolve(r))
            .find(|&k| resource(k).is_some_and(|r| r.is(ty)))
    };
    let params_index = focused("Parameters")
        .or_else(|| (0..entries.len()).find(|&k| resource(k).is_some_and(|r| r.is("Parameters"))));
    let params = params_index.map(|k| {
        read_params(
            resource(k).expect("found above"),
            &entry_at(k),
            &mut problems,
        )
    });
    let Some(event) = event else {
        refusal.ids = params.as_ref().and_then(|p| named_ids(Some(p), None, None));
        refusal.problems = problems;
        return Err(refusal);
    };

    let body = match event {
        Event::Submission | Event::Update => {
            let document = focused("Bundle").or_else(|| {
                (0..entries.len()).find(|&k| {
                    resource(k).is_some_and(|r| {
                        r.is("Bundle")
                            && r.text(Key::Type).as_ref().and_then(Text::as_str) == Some("document")
                    })
                })
            });
            let certificate = match document {
                None => {
                    problems.push(Problem::new(
                        format!("{at}.entry"),
                        IssueCode::Required,
                        "the message carries no death certificate document \
                         (a Bundle of type document, named by the header's focus)",
                    ));
                    None
                }
                Some(k) => {
                    let doc = resource(k).expect("found above");
                    let doc_at = entry_at(k);
                    match doc.text(Key::Type).as_ref().and_then(Text::as_str) {
                        Some("document") => {
                            Some((read_certificate(doc, &doc_at, &mut problems), doc_at))
                        }
                        other => {
                            problems.push(Problem::new(
                                format!("{doc_at}.type"),
                                IssueCode::Value,
                                format!(
                                    "the record a submission carries is a Bundle of type document, not {}",
                                    other.map_or("one without a type".to_owned(), |t| format!("{t:?}"))
                                ),
                            ));
                            None
                        }
                    }
                }
            };
            let ids = submission_ids(params.as_ref(), certificate.as_ref(), at, &mut problems);
            refusal.ids = named_ids(
                params.as_ref(),
                certificate.as_ref().map(|((c, _), _)| c),
                certificate.as_ref().map(|((_, d), _)| d),
            );
            match (ids, certificate) {
                (Some(ids), Some(((certificate, _), _))) => {
                    let record = Record { ids, certificate };
                    Some(if event == Event::Submission {
                        Body::Submission(record)
                    } else {
                        Body::Update(record)
                    })
                }
                _ => None,
            }
        }
        Event::Void | Event::Alias => {
            let ids = required_ids(params.as_ref(), at, event, &mut problems);
            refusal.ids.clone_from(&ids);
            let p = params.as_ref();
            ids.map(|ids| match event {
                Event::Void => {
                    let given = p.and_then(|p| p.block_count.as_ref());
                    let block_count = given.map_or(1, |b| b.0);
                    if let Some((count, location)) = given
                        && ids.key.number + count - 1 > 999_999
                    {
                        problems.push(Problem::new(
                            location.clone(),
                            IssueCode::Value,
                            format!(
                                "a block of {count} certificate numbers from {} goes past 999999",
                                ids.key.number
                            ),
                        ));
                    }
                    Body::Void(Void { ids, block_count })
                }
                _ => {
                    let p = p.expect("ids come from the Parameters");
                    let [first, middle, last, suffix, father_surname] = p.alias.clone();
                    Body::Alias(Alias {
                        ids,
                        first,
                        middle,
                        last,
                        suffix,
                        father_surname,
                        ssn: p.alias_ssn.clone(),
                    })
                }
            })
        }
        Event::Acknowledgement | Event::ExtractionError | Event::Status => {
            let ids = optional_ids(params.as_ref(), &mut problems);
            refusal.ids.clone_from(&ids);
            let acknowledged = match (&header.response_identifier, event) {
                (Some(id), _) => id.clone(),
                // The guide's own status example names no message.
                (None, Event::Status) => String::new(),
                (None, _) => {
                    problems.push(Problem::new(
                        format!("{header_at}.response.identifier"),
                        IssueCode::Required,
                        "an answer names the message it answers in response.identifier",
                    ));
                    String::new()
                }
            };
            let details = match event {
                Event::ExtractionError => {
                    let outcome = header
                        .details
                        .as_deref()
                        .and_then(|r| index.resolve(r))
                        .filter(|&k| resource(k).is_some_and(|r| r.is("OperationOutcome")))
                        .or_else(|| {
                            (0..entries.len())
                                .find(|&k| resource(k).is_some_and(|r| r.is("OperationOutcome")))
                        });
                    outcome
                        .map(|k| issue_details(resource(k).expect("found above")))
                        .unwrap_or_default()
                }
                Event::Status => params.iter().filter_map(|p| p.status.clone()).collect(),
                _ => Vec::new(),
            };
            let response = Response {
                acknowledged,
                ids,
                details,
            };
            Some(match event {
                Event::Acknowledgement => Body::Acknowledgement(response),
                Event::ExtractionError => Body::ExtractionError(response),
                _ => Body::Status(response),
            })
        }
        Event::Coding => {
            let ids = optional_ids(params.as_ref(), &mut problems);
            refusal.ids.clone_from(&ids);
            Some(Body::Coding(Coding {
                event_uri: header.event.clone().unwrap_or_default(),
                ids,
            }))
        }
    };
    match (problems.is_empty(), body, header.id) {
        (true, Some(body), Some(id)) => Ok(Message {
            id,
            source: header.source,
            destinations: header.destinations,
            body,
        }),
        (_, _, _) => {
            refusal.problems = problems;
            Err(refusal)
        }
    }
}

fn read_header(header: &Obj<'_>, at: &str, problems: &mut Vec<Problem>) -> Header {
    let mut h = Header::default();
    match header.text(Key::Id) {
        Some(Text::Str(id)) if !id.trim().is_empty() => h.id = Some(id.into_owned()),
        Some(Text::Str(_)) | None => problems.push(Problem::new(
            format!("{at}.id"),
            IssueCode::Required,
            "the MessageHeader has no id, which answers name the message by",
        )),
        Some(Text::NotText) => problems.push(Problem::new(
            format!("{at}.id"),
            IssueCode::Value,
            "the MessageHeader's id is text",
        )),
    }
    match header.text(Key::EventUri) {
        Some(Text::Str(uri)) => h.event = Some(uri.into_owned()),
        Some(Text::NotText) => problems.push(Problem::new(
            format!("{at}.eventUri"),
            IssueCode::Value,
            "eventUri is text: the URI of the kind of message",
        )),
        None if header.has(Key::EventCoding) => problems.push(Problem::new(
            format!("{at}.eventCoding"),
            IssueCode::NotSupported,
            "this receiver reads the kind of message from eventUri, not eventCoding",
        )),
        None => problems.push(Problem::new(
            format!("{at}.eventUri"),
            IssueCode::Required,
            "the MessageHeader has no eventUri, which says what kind of message it is",
        )),
    }
    if let Some(source) = header.value(Key::Source) {
        match source.get("endpoint") {
            Some(Value::String(e)) => h.source = Some(e.clone()),
            None => {}
            Some(other) => problems.push(Problem::new(
                format!("{at}.source.endpoint"),
                IssueCode::Value,
                format!("the source endpoint is a URL, not {other}"),
            )),
        }
    }
    if let Some(destinations) = header.value(Key::Destination) {
        for d in destinations.as_array().into_iter().flatten() {
            if let Some(e) = d.get("endpoint").and_then(Value::as_str) {
                h.destinations.push(e.to_owned());
            }
        }
    }
    if let Some(focus) = header.value(Key::Focus) {
        for f in focus.as_array().into_iter().flatten() {
            if let Some(r) = reference_of(Some(f)) {
                h.focus.push(r);
            }
        }
    }
    if let Some(response) = header.value(Key::Response) {
        h.response_identifier = response
            .get("identifier")
            .and_then(Value::as_str)
            .map(str::to_owned);
        h.details = reference_of(response.get("details"));
    }
    h
}

/// A parameter's `value[x]`: its member name and value.
fn value_of(parameter: &Value) -> Option<(&str, &Value)> {
    parameter
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("value") && k.len() > "value".len())
        .map(|(k, v)| (k.as_str(), v))
}

/// A whole number given as an integer type, or as digits in a string (`"000182"`).
fn number_of(key: &str, value: &Value, max_digits: usize) -> Option<u64> {
    match (key, value) {
        ("valueUnsignedInt" | "valueInteger" | "valuePositiveInt", Value::Number(n)) => n.as_u64(),
        ("valueString", Value::String(s))
            if (1..=max_digits).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

fn read_params(params: &Obj<'_>, at: &str, problems: &mut Vec<Problem>) -> Params {
    let mut p = Params {
        at: at.to_owned(),
        jurisdiction: Part::Absent,
        number: Part::Absent,
        year: Part::Absent,
        state_auxiliary_id: None,
        block_count: None,
        alias: Default::default(),
        alias_ssn: None,
        status: None,
    };
    let list = params.value(Key::Parameter);
    let list = match &list {
        None => return p,
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => {
            problems.push(Problem::new(
                format!("{at}.parameter"),
                IssueCode::Structure,
                "Parameters.parameter is a list",
            ));
            return p;
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for (i, parameter) in list.iter().enumerate() {
        let here = format!("{at}.parameter[{i}]");
        let Some(name) = parameter.get("name").and_then(Value::as_str) else {
            problems.push(Problem::new(
                format!("{here}.name"),
                IssueCode::Required,
                "a parameter has a name",
            ));
            continue;
        };
        let known = matches!(
            name,
            "jurisdiction_id"
                | "cert_no"
                | "death_year"
                | "state_auxiliary_id"
                | "block_count"
                | "status"
        ) || ALIAS_NAMES.contains(&name)
            || name == "alias_social_security_number";
        if !known {
            continue;
        }
        if seen.contains(&name) {
            problems.push(Problem::new(
                here,
                IssueCode::Value,
                format!("{name} is given twice"),
            ));
            continue;
        }
        seen.push(name);
        let Some((key, value)) = value_of(parameter) else {
            problems.push(Problem::new(
                here,
                IssueCode::Required,
                format!("parameter {name} has no value"),
            ));
            if matches!(name, "jurisdiction_id" | "cert_no" | "death_year") {
                mark_bad(&mut p, name);
            }
            continue;
        };
        let value_at = format!("{here}.{key}");
        let text = value
            .as_str()
            .filter(|_| key == "valueString" || key == "valueCode");
        match name {
            "jurisdiction_id" => {
                p.jurisdiction = match text.map(str::parse::<Jurisdiction>) {
                    Some(Ok(j)) => Part::Given(j, value_at),
                    Some(Err(e)) => {
                        problems.push(Problem::new(value_at, IssueCode::Value, e));
                        Part::Bad
                    }
                    None => {
                        problems.push(Problem::new(
                            value_at,
                            IssueCode::Value,
                            format!("jurisdiction_id is a valueString such as \"NY\", not {value}"),
                        ));
                        Part::Bad
                    }
                }
            }
            "cert_no" => {
                p.number = match number_of(key, value, 6) {
                    Some(n) if n <= 999_999 => Part::Given(n as u32, value_at),
                    _ => {
                        problems.push(Problem::new(
                            value_at,
                            IssueCode::Value,
                            format!("certificate number {value} is not a number from 0 to 999999"),
                        ));
                        Part::Bad
                    }
                }
            }
            "death_year" => {
                p.year = match number_of(key, value, 4) {
                    Some(y) if (1000..=9999).contains(&y) => Part::Given(y as u16, value_at),
                    _ => {
                        problems.push(Problem::new(
                            value_at,
                            IssueCode::Value,
                            format!("death year {value} is not a year of four digits"),
                        ));
                        Part::Bad
                    }
                }
            }
            "block_count" => match number_of(key, value, 6) {
                Some(0) => problems.push(Problem::new(
                    value_at,
                    IssueCode::Value,
                    "block_count 0 voids nothing: a void withdraws at least one record (absent means 1)",
                )),
                Some(n) if n <= 999_999 => p.block_count = Some((n as u32, value_at)),
                _ => problems.push(Problem::new(
                    value_at,
                    IssueCode::Value,
                    format!("block_count {value} is not a count of certificate numbers"),
                )),
            },
            "status" => {
                p.status = text.map(str::to_owned).or_else(|| {
                    value
                        .pointer("/coding/0/code")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            }
            _ => {
                let Some(text) = text else {
                    problems.push(Problem::new(
                        value_at,
                        IssueCode::Value,
                        format!("{name} is a valueString, not {value}"),
                    ));
                    continue;
                };
                if name == "state_auxiliary_id" {
                    p.state_auxiliary_id = Some(text.to_owned());
                } else if name == "alias_social_security_number" {
                    p.alias_ssn = Some(Located {
                        value: text.to_owned(),
                        location: value_at,
                    });
                } else if let Some(a) = ALIAS_NAMES.iter().position(|n| *n == name) {
                    p.alias[a] = Some(text.to_owned());
                }
            }
        }
    }
    p
}

fn mark_bad(p: &mut Params, name: &str) {
    match name {
        "jurisdiction_id" => p.jurisdiction = Part::Bad,
        "cert_no" => p.number = Part::Bad,
        _ => p.year = Part::Bad,
    }
}

/// The key as far as it can be named, for the refusal: each part from the Parameters, or
/// else from the document.
fn named_ids(
    params: Option<&Params>,
    certificate: Option<&DeathCertificate>,
    document: Option<&DocumentIds>,
) -> Option<RecordIds> {
    let doc_key = certificate.and_then(|c| c.key.as_ref()).map(|k| k.value);
    let key = CertificateKey {
        jurisdiction: params
            .and_then(|p| p.jurisdiction.given())
            .or(doc_key.map(|k| k.jurisdiction))?,
        year: params
            .and_then(|p| p.year.given())
            .or(doc_key.map(|k| k.year))?,
        number: params
            .and_then(|p| p.number.given())
            .or(doc_key.map(|k| k.number))?,
    };
    Some(RecordIds {
        key,
        state_auxiliary_id: params
            .and_then(|p| p.state_auxiliary_id.clone())
            .or_else(|| document.and_then(|d| d.state_auxiliary_id.clone())),
    })
}

/// A submission's key: from the Parameters, else from the document's `Bundle.identifier`;
/// when both give a part they must agree.
fn submission_ids(
    params: Option<&Params>,
    certificate: Option<&((DeathCertificate, DocumentIds), String)>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<RecordIds> {
    let doc_key = certificate.and_then(|((c, _), _)| c.key.as_ref());
    let doc_at = certificate.map(|(_, doc_at)| format!("{doc_at}.identifier"));
    let looked_in = match (params, &doc_at) {
        (Some(p), Some(d)) => format!(
            "neither the Parameters ({}) nor the document's identifier ({d})",
            p.at
        ),
        (Some(p), None) => format!("the Parameters ({}) do not, and there is no document", p.at),
        (None, Some(d)) => {
            format!("there are no Parameters, and the document's identifier ({d}) does not")
        }
        (None, None) => "there are no Parameters and no document".to_owned(),
    };
    let missing_at =
        params.map_or_else(|| format!("{at}.entry"), |p| format!("{}.parameter", p.at));
    let mut complete = true;
    macro_rules! part {
        ($field:ident, $name:literal, $what:literal, $show:expr) => {{
            let from_doc = doc_key.map(|k| k.value.$field);
            match (params.map(|p| &p.$field), from_doc) {
                (Some(Part::Given(v, v_at)), Some(d)) if *v != d => {
                    let k = doc_key.expect("compared above");
                    problems.push(Problem::new(
                        v_at.clone(),
                        IssueCode::Value,
                        format!(
                            concat!(
                                $name,
                                " {} disagrees with the document's record identifier {} at {} ({})"
                            ),
                            $show(*v),
                            k.value,
                            k.location,
                            $show(d)
                        ),
                    ));
                    complete = false;
                    None
                }
                (Some(Part::Given(v, _)), _) => Some(*v),
                (Some(Part::Bad), _) => {
                    complete = false;
                    None
                }
                (_, Some(d)) => Some(d),
                (_, None) => {
                    problems.push(Problem::new(
                        missing_at.clone(),
                        IssueCode::Required,
                        format!(concat!("no ", $name, " (", $what, "): {}"), looked_in),
                    ));
                    complete = false;
                    None
                }
            }
        }};
    }
    let jurisdiction = part!(
        jurisdiction,
        "jurisdiction_id",
        "the jurisdiction",
        |j: Jurisdiction| j.to_string()
    );
    let year = part!(year, "death_year", "the death year", |y: u16| y.to_string());
    let number = part!(
        number,
        "cert_no",
        "the certificate number",
        |n: u32| format!("{n:06}")
    );
    if !complete {
        return None;
    }
    Some(RecordIds {
        key: CertificateKey {
            jurisdiction: jurisdiction?,
            year: year?,
            number: number?,
        },
        state_auxiliary_id: params
            .and_then(|p| p.state_auxiliary_id.clone())
            .or_else(|| certificate.and_then(|((_, d), _)| d.state_auxiliary_id.clone())),
    })
}

/// The key of a void or alias, which only the Parameters give.
fn required_ids(
    params: Option<&Params>,
    at: &str,
    event: Event,
    problems: &mut Vec<Problem>,
) -> Option<RecordIds> {
    let what = if event == Event::Void {
        "a void"
    } else {
        "an alias"
    };
    let Some(p) = params else {
        problems.push(Problem::new(
            format!("{at}.entry"),
            IssueCode::Required,
            format!("{what} names its record in Parameters (jurisdiction_id, cert_no, death_year); this message has none"),
        ));
        return None;
    };
    let mut complete = true;
    for (absent, name) in [
        (matches!(p.jurisdiction, Part::Absent), "jurisdiction_id"),
        (matches!(p.number, Part::Absent), "cert_no"),
        (matches!(p.year, Part::Absent), "death_year"),
    ] {
        if absent {
            problems.push(Problem::new(
                format!("{}.parameter", p.at),
                IssueCode::Required,
                format!("{what} names its record: no {name} parameter"),
            ));
            complete = false;
        }
    }
    let ids = full_ids(p);
    if complete { ids } else { None }
}

/// The key of an answer or coding message: all three parts, or none.
fn optional_ids(params: Option<&Params>, problems: &mut Vec<Problem>) -> Option<RecordIds> {
    let p = params?;
    let absent = [
        (matches!(p.jurisdiction, Part::Absent), "jurisdiction_id"),
        (matches!(p.number, Part::Absent), "cert_no"),
        (matches!(p.year, Part::Absent), "death_year"),
    ];
    if absent.iter().all(|(a, _)| *a) {
        return None;
    }
    for (a, name) in absent {
        if a {
            problems.push(Problem::new(
                format!("{}.parameter", p.at),
                IssueCode::Required,
                format!("the record is named in part only: no {name} parameter"),
            ));
        }
    }
    full_ids(p)
}

fn full_ids(p: &Params) -> Option<RecordIds> {
    Some(RecordIds {
        key: CertificateKey {
            jurisdiction: p.jurisdiction.given()?,
            year: p.year.given()?,
            number: p.number.given()?,
        },
        state_auxiliary_id: p.state_auxiliary_id.clone(),
    })
}

/// An OperationOutcome's issues in words: each diagnostics, else its details' text, else code.
fn issue_details(outcome: &Obj<'_>) -> Vec<String> {
    let Some(Value::Array(issues)) = outcome.value(Key::Issue) else {
        return Vec::new();
    };
    issues
        .iter()
        .filter_map(|issue| {
            issue
                .get("diagnostics")
                .or_else(|| issue.pointer("/details/text"))
                .or_else(|| issue.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}
