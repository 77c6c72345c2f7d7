//! The death certificate document: whom it names (the decedent the Composition's subject
//! references), their identity, the dates of birth and death, the certifier and the record's
//! key.

use serde_json::Value;

use super::dates::{is_partial_date, parse_date, read_partial};
use super::tree::{Entry, Index, Key, Obj, Text};
use crate::{
    CertificateKey, Certifier, DateParts, DeathCertificate, IssueCode, Located, OfficialName,
    Problem, SexAtDeath,
};

pub(crate) const VRDR_ID: &str = "http://nchs.cdc.gov/vrdr_id";
const US_SSN: &str = "http://hl7.org/fhir/sid/us-ssn";
const US_NPI: &str = "http://hl7.org/fhir/sid/us-npi";
const SEX_AT_DEATH: &str = "http://hl7.org/fhir/us/vrdr/StructureDefinition/NVSS-SexAtDeath";
/// LOINC "Date and time of death".
const DEATH_DATE: &str = "81956-5";
/// SNOMED CT "Death certification", the Procedure older documents name the certifier in.
const DEATH_CERTIFICATION: &str = "308646001";

/// What the document says of its record besides the certificate: the state's own id, for a
/// message whose Parameters lack it.
#[derive(Debug, Default)]
pub(crate) struct DocumentIds {
    pub(crate) state_auxiliary_id: Option<String>,
}

/// Reads a document (`doc`, at `at`, whose type the caller has checked), pushing every problem.
pub(crate) fn read_certificate(
    doc: &Obj<'_>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> (DeathCertificate, DocumentIds) {
    let mut ids = DocumentIds::default();
    let document_id = match doc.text(Key::Id) {
        Some(Text::Str(id)) => Some(id.into_owned()),
        _ => None,
    };
    let key = read_key(doc, at, &mut ids, problems);
    let mut certificate = DeathCertificate {
        document_id,
        key,
        ssn: None,
        name: None,
        sex: None,
        birth: None,
        death: None,
        certifier: None,
    };
    let entries = match &doc.entry {
        Some(super::tree::Entries::List(list)) if !list.is_empty() => list.as_slice(),
        _ => {
            problems.push(Problem::new(
                format!("{at}.entry"),
                IssueCode::Required,
                "the document has no entries: no Composition, no decedent",
            ));
            return (certificate, ids);
        }
    };
    let index = Index::new(entries);
    let entry_at = |j: usize| format!("{at}.entry[{j}].resource");
    let resource = |j: usize| entries[j].resource.as_ref();

    let Some(c) = (0..entries.len()).find(|&j| resource(j).is_some_and(|r| r.is("Composition")))
    else {
        problems.push(Problem::new(
            format!("{at}.entry"),
            IssueCode::Required,
            "the document has no Composition, so nothing says whom it is about \
             (a death certificate document begins with its Composition, whose subject is the decedent)",
        ));
        return (certificate, ids);
    };
    let composition = resource(c).expect("found above");
    let composition_at = entry_at(c);

    // The decedent.
    let decedent = match reference_of(composition.value(Key::Subject).as_ref()) {
        None => {
            problems.push(Problem::new(
                format!("{composition_at}.subject"),
                IssueCode::Required,
                "the Composition has no subject, so nothing says who the decedent is",
            ));
            None
        }
        Some(reference) => match index.resolve(&reference) {
            None => {
                problems.push(Problem::new(
                    format!("{composition_at}.subject.reference"),
                    IssueCode::Required,
                    format!(
                        "the decedent {reference:?} the Composition's subject names is not in the document"
                    ),
                ));
                None
            }
            Some(p) if !resource(p).is_some_and(|r| r.is("Patient")) => {
                problems.push(Problem::new(
                    format!("{composition_at}.subject.reference"),
                    IssueCode::Value,
                    format!(
                        "the Composition's subject {reference:?} is a {}, not the decedent's Patient",
                        resource(p).and_then(Obj::type_name).unwrap_or("resource of no type")
                    ),
                ));
                None
            }
            Some(p) => Some(p),
        },
    };
    if let Some(p) = decedent {
        read_decedent(
            resource(p).expect("resolved"),
            &entry_at(p),
            &mut certificate,
            problems,
        );
        certificate.death = read_death(entries, &index, p, at, problems);
    }
    certificate.certifier = read_certifier(composition, entries, &index, at);
    (certificate, ids)
}

/// `Bundle.identifier`: the record's key, if its value is one. A value with the `vrdr_id`
/// system that is not a key is a problem; without it, older documents gave the certificate
/// number alone there, which is not read.
fn read_key(
    doc: &Obj<'_>,
    at: &str,
    ids: &mut DocumentIds,
    problems: &mut Vec<Problem>,
) -> Option<Located<CertificateKey>> {
    let identifier = doc.value(Key::Identifier)?;
    let here = format!("{at}.identifier");
    let Some(identifier) = identifier.as_object() else {
        problems.push(Problem::new(
            here,
            IssueCode::Structure,
            "Bundle.identifier is one Identifier (an object)",
        ));
        return None;
    };
    let system = identifier.get("system").and_then(Value::as_str);
    let mut key = None;
    match identifier.get("value") {
        None => {}
        Some(Value::String(value)) => match value.parse::<CertificateKey>() {
            Ok(k) => {
                key = Some(Located {
                    value: k,
                    location: format!("{here}.value"),
                })
            }
            Err(e) if system == Some(VRDR_ID) => {
                problems.push(Problem::new(
                    format!("{here}.value"),
                    IssueCode::Value,
                    key_reason(value, e),
                ));
            }
            Err(_) => {}
        },
        Some(other) => problems.push(Problem::new(
            format!("{here}.value"),
            IssueCode::Value,
            format!("{other} is not a record identifier"),
        )),
    }
    let extensions = identifier.get("extension").and_then(Value::as_array);
    for (i, ext) in extensions.into_iter().flatten().enumerate() {
        let url = ext.get("url").and_then(Value::as_str).unwrap_or("");
        let last = url.rsplit('/').next().unwrap_or(url);
        let value = ext.get("valueString").and_then(Value::as_str);
        let ext_at = format!("{here}.extension[{i}].valueString");
        match (last, value) {
            ("AuxiliaryStateIdentifier1", Some(v)) => ids.state_auxiliary_id = Some(v.to_owned()),
            ("CertificateNumber", Some(v)) => {
                let number = (1..=6).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
                match (number, &key) {
                    (false, _) => problems.push(Problem::new(
                        ext_at,
                        IssueCode::Value,
                        format!("certificate number {v:?} is not one to six digits"),
                    )),
                    (true, Some(k)) if v.parse::<u32>().ok() != Some(k.value.number) => {
                        problems.push(Problem::new(
                            ext_at,
                            IssueCode::Value,
                            format!(
                                "certificate number {v:?} is not the one of the record identifier {} at {}",
                                k.value, k.location
                            ),
                        ))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    key
}

/// Why a `vrdr_id` value is not a key, in words.
fn key_reason(value: &str, e: crate::BadCertificateKey) -> String {
    if value.len() == 12 && value.is_ascii() && value[4..6].parse::<crate::Jurisdiction>().is_err()
    {
        format!(
            "{value:?} is not a record identifier: {:?} is not an NCHS jurisdiction id",
            &value[4..6]
        )
    } else {
        e.to_string()
    }
}

/// A reference's text (`{"reference": "..."}`).
pub(crate) fn reference_of(value: Option<&Value>) -> Option<String> {
    value?
        .get("reference")?
        .as_str()
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

fn read_decedent(
    patient: &Obj<'_>,
    at: &str,
    certificate: &mut DeathCertificate,
    problems: &mut Vec<Problem>,
) {
    certificate.ssn = read_ssn(patient, at, problems);
    certificate.name = patient
        .value(Key::Name)
        .and_then(|names| read_name(&names, &format!("{at}.name"), problems));
    certificate.sex = read_sex(patient, at, problems);
    certificate.birth = read_birth(patient, at, problems);
    if certificate.ssn.is_none() && certificate.name.is_none() {
        problems.push(Problem::new(
            at,
            IssueCode::Required,
            "the decedent has neither a Social Security number nor a name: \
             the record cannot say whom it is about",
        ));
    }
}

fn read_ssn(patient: &Obj<'_>, at: &str, problems: &mut Vec<Problem>) -> Option<Located<String>> {
    let identifiers = patient.value(Key::Identifier)?;
    let (i, identifier) = identifiers.as_array()?.iter().enumerate().find(|(_, id)| {
        id.get("system")
            .and_then(Value::as_str)
            .is_some_and(|s| s.trim() == US_SSN)
    })?;
    let location = format!("{at}.identifier[{i}].value");
    match identifier.get("value") {
        // An empty value says no more than an absent one.
        Some(Value::String(ssn)) if ssn.trim().is_empty() => None,
        Some(Value::String(ssn)) => Some(Located {
            value: ssn.clone(),
            location,
        }),
        None => None,
        Some(other) => {
            problems.push(Problem::new(
                location,
                IssueCode::Value,
                format!("the Social Security number {other} is not text"),
            ));
            None
        }
    }
}

/// The official name, or the only name, or the first without a `use`.
pub(crate) fn read_name(
    names: &Value,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Located<OfficialName>> {
    let names = names.as_array()?;
    let use_of = |n: &Value| n.get("use").and_then(Value::as_str).map(str::to_owned);
    let i = names
        .iter()
        .position(|n| use_of(n).as_deref() == Some("official"))
        .or_else(|| (names.len() == 1).then_some(0))
        .or_else(|| names.iter().position(|n| use_of(n).is_none()))?;
    let here = format!("{at}[{i}]");
    let name = &names[i];
    let mut given = Vec::new();
    match name.get("given") {
        None => {}
        Some(Value::Array(parts)) => {
            for (g, part) in parts.iter().enumerate() {
                match part {
                    Value::String(s) => given.push(s.clone()),
                    // A given name left out (JSON null with an extension beside it).
                    Value::Null => {}
                    other => problems.push(Problem::new(
                        format!("{here}.given[{g}]"),
                        IssueCode::Value,
                        format!("a given name is text, not {other}"),
                    )),
                }
            }
        }
        Some(other) => problems.push(Problem::new(
            format!("{here}.given"),
            IssueCode::Value,
            format!("given names are a list of text, not {other}"),
        )),
    }
    let family = match name.get("family") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(Problem::new(
                format!("{here}.family"),
                IssueCode::Value,
                format!("the family name is text, not {other}"),
            ));
            None
        }
    };
    let suffix = name
        .get("suffix")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .and_then(Value::as_str)
        .map(str::to_owned);
    if given.is_empty() && family.is_none() {
        return None;
    }
    Some(Located {
        value: OfficialName {
            given,
            family,
            suffix,
        },
        location: here,
    })
}

/// `NVSS-SexAtDeath` (STU2's M/F/U codes, STU3's administrative genders), else `gender`.
fn read_sex(
    patient: &Obj<'_>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Located<SexAtDeath>> {
    if let Some(Value::Array(extensions)) = patient.value(Key::Extension) {
        let found = extensions
            .iter()
            .enumerate()
            .find(|(_, x)| x.get("url").and_then(Value::as_str) == Some(SEX_AT_DEATH));
        if let Some((i, ext)) = found {
            let here = format!("{at}.extension[{i}]");
            let (code, location) = if let Some(code) = ext.get("valueCode") {
                (code.as_str(), format!("{here}.valueCode"))
            } else {
                let coding = ext
                    .pointer("/valueCodeableConcept/coding/0/code")
                    .and_then(Value::as_str);
                (
                    coding,
                    format!("{here}.valueCodeableConcept.coding[0].code"),
                )
            };
            let sex = match code {
                Some("male" | "M") => Some(SexAtDeath::Male),
                Some("female" | "F") => Some(SexAtDeath::Female),
                Some("unknown" | "U" | "UNK" | "other") => Some(SexAtDeath::Unknown),
                _ => None,
            };
            return match sex {
                Some(value) => Some(Located { value, location }),
                None => {
                    problems.push(Problem::new(
                        location,
                        IssueCode::Value,
                        format!(
                            "sex at death {} is not one of male, female, unknown (or M, F, U)",
                            code.map_or("without a code".to_owned(), |c| format!("{c:?}"))
                        ),
                    ));
                    None
                }
            };
        }
    }
    let location = format!("{at}.gender");
    let gender = patient.text(Key::Gender)?;
    let value = match gender.as_str() {
        Some("male") => SexAtDeath::Male,
        Some("female") => SexAtDeath::Female,
        Some("unknown" | "other") => SexAtDeath::Unknown,
        other => {
            problems.push(Problem::new(
                location,
                IssueCode::Value,
                format!(
                    "gender {} is not one of male, female, other, unknown",
                    other.map_or("that is not text".to_owned(), |g| format!("{g:?}"))
                ),
            ));
            return None;
        }
    };
    Some(Located { value, location })
}

fn read_birth(
    patient: &Obj<'_>,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Located<DateParts>> {
    let ext = patient.value(Key::BirthDateExt);
    read_date_element(
        patient.text(Key::BirthDate),
        ext.as_ref(),
        &format!("{at}.birthDate"),
        &format!("{at}._birthDate"),
        problems,
    )
}

/// A date element given as text (`text`, at `text_at`) or as a partial date extension on the
/// primitive (`ext`, at `ext_at`).
fn read_date_element(
    text: Option<Text<'_>>,
    ext: Option<&Value>,
    text_at: &str,
    ext_at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Located<DateParts>> {
    match text {
        Some(Text::Str(s)) => {
            return match parse_date(&s) {
                Ok(value) => Some(Located {
                    value,
                    location: text_at.to_owned(),
                }),
                Err(reason) => {
                    problems.push(Problem::new(text_at, IssueCode::Value, reason));
                    None
                }
            };
        }
        Some(Text::NotText) => {
            problems.push(Problem::new(
                text_at,
                IssueCode::Structure,
                "a date is text such as 1940-02-19; a partial date's extension goes beside it, \
                 in the element of the same name with a leading underscore",
            ));
            return None;
        }
        None => {}
    }
    let extensions = ext?.get("extension")?.as_array()?;
    let (j, partial) = extensions.iter().enumerate().find(|(_, x)| {
        x.get("url")
            .and_then(Value::as_str)
            .is_some_and(is_partial_date)
    })?;
    let location = format!("{ext_at}.extension[{j}]");
    let value = read_partial(partial, &location, problems)?;
    Some(Located { value, location })
}

/// The date of death: the Observation coded LOINC 81956-5 about the decedent.
fn read_death(
    entries: &[Entry<'_>],
    index: &Index<'_, '_>,
    decedent: usize,
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<Located<DateParts>> {
    let mut found = None;
    for (j, entry) in entries.iter().enumerate() {
        let Some(obs) = entry.resource.as_ref().filter(|r| r.is("Observation")) else {
            continue;
        };
        // Most Observations are not the death date; look at the text before parsing.
        if !obs
            .raw(Key::Code)
            .is_some_and(|c| c.get().contains(DEATH_DATE))
        {
            continue;
        }
        let code = obs.value(Key::Code);
        let codings = code.as_ref().and_then(|c| c.get("coding")?.as_array());
        if !codings
            .into_iter()
            .flatten()
            .any(|c| c.get("code").and_then(Value::as_str) == Some(DEATH_DATE))
        {
            continue;
        }
        let about = reference_of(obs.value(Key::Subject).as_ref()).and_then(|r| index.resolve(&r));
        if about == Some(decedent) {
            found = Some(j);
            break;
        }
        found.get_or_insert(j);
    }
    let j = found?;
    let obs = entries[j].resource.as_ref().expect("found above");
    let here = format!("{at}.entry[{j}].resource");
    let ext = obs.value(Key::ValueDateTimeExt);
    if obs.has(Key::ValueDateTime) || ext.is_some() {
        return read_date_element(
            obs.text(Key::ValueDateTime),
            ext.as_ref(),
            &format!("{here}.valueDateTime"),
            &format!("{here}._valueDateTime"),
            problems,
        );
    }
    // Documents before VRDR STU1 gave the date of death as the Observation's effective time.
    read_date_element(
        obs.text(Key::EffectiveDateTime),
        None,
        &format!("{here}.effectiveDateTime"),
        "",
        problems,
    )
}

/// The Practitioner the Composition's legal attester names, or in older documents the
/// performer of the death certification Procedure. A reference that names nothing in the
/// document leaves the certifier unknown: the registry does not need it to know whom the
/// record names.
fn read_certifier(
    composition: &Obj<'_>,
    entries: &[Entry<'_>],
    index: &Index<'_, '_>,
    at: &str,
) -> Option<Certifier> {
    let legal = composition
        .value(Key::Attester)
        .and_then(|a| {
            a.as_array()?
                .iter()
                .find(|att| match att.get("mode") {
                    Some(Value::String(m)) => m == "legal",
                    Some(Value::Array(ms)) => ms.iter().any(|m| m == "legal"),
                    _ => false,
                })
                .and_then(|att| reference_of(att.get("party")))
        })
        .and_then(|r| index.resolve(&r));
    let j = legal.or_else(|| {
        entries.iter().find_map(|e| {
            let proc = e.resource.as_ref().filter(|r| r.is("Procedure"))?;
            if !proc
                .raw(Key::Code)
                .is_some_and(|c| c.get().contains(DEATH_CERTIFICATION))
            {
                return None;
            }
            let performer = proc.value(Key::Performer)?;
            let first = match &performer {
                Value::Array(list) => list.first()?,
                one => one,
            };
            index.resolve(&reference_of(first.get("actor"))?)
        })
    })?;
    let mut resource = entries[j].resource.as_ref()?;
    let mut j = j;
    // A PractitionerRole stands for its practitioner.
    if resource.is("PractitionerRole") {
        j = index.resolve(&reference_of(resource.value(Key::Practitioner).as_ref())?)?;
        resource = entries[j].resource.as_ref()?;
    }
    if !resource.is("Practitioner") {
        return None;
    }
    let name = resource.value(Key::Name).and_then(|names| {
        let mut ignored = Vec::new();
        let n = read_name(&names, "", &mut ignored)?.value;
        let line: Vec<&str> = n
            .given
            .iter()
            .map(String::as_str)
            .chain(n.family.as_deref())
            .filter(|s| !s.is_empty())
            .collect();
        (!line.is_empty()).then(|| line.join(" "))
    });
    let identifier = resource.value(Key::Identifier).and_then(|ids| {
        let ids = ids.as_array()?.clone();
        let pick = ids
            .iter()
            .find(|i| i.get("system").and_then(Value::as_str) == Some(US_NPI))
            .or_else(|| ids.first())?;
        let value = pick.get("value")?.as_str()?;
        Some(match pick.get("system").and_then(Value::as_str) {
            Some(system) => format!("{system}|{value}"),
            None => value.to_owned(),
        })
    });
    Some(Certifier {
        name,
        identifier,
        location: format!("{at}.entry[{j}].resource"),
    })
}
