//! Tests: every fixture of the reference library and what it must give (`fixtures`), the
//! answers to each (`answers`), messages written by hand beyond the fixtures (`hand`), and
//! reading mutated fixtures without panicking (`props`).

mod answers;
mod fixtures;
mod hand;
mod props;

use std::fmt::Write;

use crate::{Body, DateParts, DeathCertificate, Located, Message, RecordIds, Refusal};

/// A fixture's bytes.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/vrdr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn date(d: &Option<Located<DateParts>>) -> String {
    let Some(d) = d else { return "-".to_owned() };
    let part = |p: Option<u16>, width: usize| match p {
        Some(n) => format!("{n:0width$}"),
        None => "?".repeat(width),
    };
    format!(
        "{}-{}-{}",
        part(d.value.year, 4),
        part(d.value.month.map(u16::from), 2),
        part(d.value.day.map(u16::from), 2)
    )
}

fn or_dash(s: Option<&str>) -> &str {
    s.unwrap_or("-")
}

/// One line of what a certificate gives: its key, SSN, name (given names/family/suffix), sex,
/// dates of birth and death (`?` for an unknown part) and certifier.
fn render_certificate(c: &DeathCertificate) -> String {
    let name = c.name.as_ref().map_or("-".to_owned(), |n| {
        format!(
            "{}/{}/{}",
            n.value.given.join(" "),
            or_dash(n.value.family.as_deref()),
            or_dash(n.value.suffix.as_deref())
        )
    });
    let certifier = c.certifier.as_ref().map_or("-".to_owned(), |c| {
        format!(
            "{}|{}",
            or_dash(c.name.as_deref()),
            or_dash(c.identifier.as_deref())
        )
    });
    format!(
        "identifier={} ssn={} name={name} sex={} birth={} death={} certifier={certifier}",
        c.key
            .as_ref()
            .map_or("-".to_owned(), |k| k.value.to_string()),
        c.ssn.as_ref().map_or("-", |s| s.value.as_str()),
        c.sex
            .as_ref()
            .map_or("-".to_owned(), |s| format!("{:?}", s.value).to_lowercase()),
        date(&c.birth),
        date(&c.death),
    )
}

fn render_ids(ids: Option<&RecordIds>) -> String {
    match ids {
        None => "key=-".to_owned(),
        Some(ids) => match &ids.state_auxiliary_id {
            Some(aux) => format!("key={} aux={aux}", ids.key),
            None => format!("key={}", ids.key),
        },
    }
}

/// One line of what a message gives.
fn render_message(m: &Message) -> String {
    let mut out = String::new();
    let ids = render_ids(m.body.ids());
    let id = &m.id;
    let _ = match &m.body {
        Body::Submission(r) => write!(
            out,
            "submission id={id} {ids} {}",
            render_certificate(&r.certificate)
        ),
        Body::Update(r) => write!(
            out,
            "update id={id} {ids} {}",
            render_certificate(&r.certificate)
        ),
        Body::Void(v) => write!(out, "void id={id} {ids} block_count={}", v.block_count),
        Body::Alias(a) => write!(
            out,
            "alias id={id} {ids} first={} middle={} last={} suffix={} father={} ssn={}",
            or_dash(a.first.as_deref()),
            or_dash(a.middle.as_deref()),
            or_dash(a.last.as_deref()),
            or_dash(a.suffix.as_deref()),
            or_dash(a.father_surname.as_deref()),
            a.ssn.as_ref().map_or("-", |s| s.value.as_str()),
        ),
        Body::Acknowledgement(r) | Body::ExtractionError(r) | Body::Status(r) => {
            let kind = match &m.body {
                Body::Acknowledgement(_) => "acknowledgement",
                Body::ExtractionError(_) => "extraction_error",
                _ => "status",
            };
            write!(
                out,
                "{kind} id={id} answers={} {ids} details={:?}",
                or_dash(Some(r.acknowledged.as_str()).filter(|a| !a.is_empty())),
                r.details
            )
        }
        Body::Coding(c) => write!(out, "coding id={id} event={} {ids}", c.event_uri),
    };
    out
}

/// Asserts that a refusal has exactly these problems, in order: each location, and a word of
/// its reason.
#[track_caller]
fn assert_problems(what: &str, refusal: &Refusal, expect: &[(&str, &str)]) {
    let got: Vec<(&str, &str)> = refusal
        .problems
        .iter()
        .map(|p| (p.location.as_str(), p.reason.as_str()))
        .collect();
    assert_eq!(
        got.len(),
        expect.len(),
        "{what}: problems {got:#?}, expected {expect:#?}"
    );
    for ((location, reason), (want_location, word)) in got.iter().zip(expect) {
        assert_eq!(location, want_location, "{what}: {got:#?}");
        assert!(
            reason.to_lowercase().contains(&word.to_lowercase()),
            "{what}: the reason {reason:?} at {location} lacks {word:?}"
        );
    }
}
