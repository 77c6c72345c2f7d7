//! Dates as death records give them: FHIR `date` and `dateTime` text, full or partial, and the
//! PartialDate / PartialDateTime extensions whose parts may each be data-absent.

use serde_json::{Map, Value};

use crate::{DateParts, IssueCode, Problem};

/// The last path segment of each URL a partial date's container may have: VRDR STU2 and the
/// Vital Records Common Library that VRDR STU3 draws on.
const CONTAINERS: [&str; 4] = [
    "PartialDate",
    "PartialDateTime",
    "Extension-partial-date-vr",
    "Extension-partial-date-time-vr",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Year,
    Month,
    Day,
    Time,
}

impl Part {
    /// By the last segment of the part's URL: VRDR's `Date-Year`, the common library's
    /// `Extension-date-year-vr`, or the bare slice name (`year`) of its later versions.
    fn of(url: &str) -> Option<Part> {
        let last = url.rsplit('/').next().unwrap_or(url);
        Some(match last {
            "Date-Year" | "Extension-date-year-vr" | "year" => Part::Year,
            "Date-Month" | "Extension-date-month-vr" | "month" => Part::Month,
            "Date-Day" | "Extension-date-day-vr" | "day" => Part::Day,
            "Date-Time" | "Extension-date-time-vr" | "time" => Part::Time,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Part::Year => "Date-Year",
            Part::Month => "Date-Month",
            Part::Day => "Date-Day",
            Part::Time => "Date-Time",
        }
    }
}

/// Whether an extension's URL names a partial date or date-time.
pub(crate) fn is_partial_date(url: &str) -> bool {
    let last = url.rsplit('/').next().unwrap_or(url);
    CONTAINERS.contains(&last)
}

pub(crate) fn days_in_month(year: Option<u16>, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => match year {
            Some(y) if !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) => 28,
            _ => 29,
        },
        _ => 31,
    }
}

/// A FHIR `date` or `dateTime` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then perhaps `T` and a time,
/// which is not read: the local date is the date). The reason is for a Value problem.
pub(crate) fn parse_date(text: &str) -> Result<DateParts, String> {
    let bad = |why: &str| format!("{text:?} is not a date (YYYY, YYYY-MM or YYYY-MM-DD): {why}");
    let date = match text.find('T') {
        Some(t) => &text[..t],
        None => text,
    };
    let b = date.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let number = |s: &[u8]| s.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if b.len() < 4 || !digits(&b[..4]) {
        return Err(bad("the year is not four digits"));
    }
    let year = number(&b[..4]);
    if year == 0 {
        return Err(bad("there is no year 0000"));
    }
    let mut parts = DateParts {
        year: Some(year),
        month: None,
        day: None,
    };
    let rest = &b[4..];
    if rest.is_empty() {
        return Ok(parts);
    }
    if rest.len() < 3 || rest[0] != b'-' || !digits(&rest[1..3]) {
        return Err(bad("the month is not two digits after a dash"));
    }
    let month = number(&rest[1..3]) as u8;
    if !(1..=12).contains(&month) {
        return Err(bad(&format!("there is no month {month}")));
    }
    parts.month = Some(month);
    let rest = &rest[3..];
    if rest.is_empty() {
        return Ok(parts);
    }
    if rest.len() != 3 || rest[0] != b'-' || !digits(&rest[1..3]) {
        return Err(bad("the day is not two digits after a dash"));
    }
    let day = number(&rest[1..3]) as u8;
    if day == 0 || day > days_in_month(Some(year), month) {
        return Err(bad(&format!("{year:04}-{month:02} has no day {day}")));
    }
    parts.day = Some(day);
    Ok(parts)
}

/// Whether an element carries a data-absent reason: FHIR's `data-absent-reason` extension or
/// the common library's date-part absent reason.
fn absent_reason(element: Option<&Value>) -> bool {
    let Some(exts) = element
        .and_then(|e| e.get("extension"))
        .and_then(Value::as_array)
    else {
        return false;
    };
    exts.iter().any(|x| {
        x.get("url")
            .and_then(Value::as_str)
            .is_some_and(|u| u.contains("absent-reason"))
    })
}

/// A partial date or date-time extension (`ext`, at `location`): its year, month and day,
/// each known or absent. Problems in its parts are pushed and make it `None`.
pub(crate) fn read_partial(
    ext: &Value,
    location: &str,
    problems: &mut Vec<Problem>,
) -> Option<DateParts> {
    let before = problems.len();
    let Some(parts) = ext.get("extension").and_then(Value::as_array) else {
        problems.push(Problem::new(
            location,
            IssueCode::Required,
            "the partial date has no parts (Date-Year, Date-Month, Date-Day extensions)",
        ));
        return None;
    };
    let mut seen: [Option<Option<u16>>; 3] = [None; 3];
    for (i, part_ext) in parts.iter().enumerate() {
        let here = format!("{location}.extension[{i}]");
        let Some(url) = part_ext.get("url").and_then(Value::as_str) else {
            problems.push(Problem::new(
                format!("{here}.url"),
                IssueCode::Required,
                "a part of the partial date has no url",
            ));
            continue;
        };
        let Some(part) = Part::of(url) else {
            problems.push(Problem::new(
                format!("{here}.url"),
                IssueCode::Value,
                format!(
                    "{url:?} is not a part of a partial date (Date-Year, Date-Month, Date-Day, Date-Time)"
                ),
            ));
            continue;
        };
        let slot = match part {
            Part::Year => 0,
            Part::Month => 1,
            Part::Day => 2,
            // The time of day is not read.
            Part::Time => continue,
        };
        if seen[slot].is_some() {
            problems.push(Problem::new(
                here,
                IssueCode::Value,
                format!("the partial date gives its {} twice", part.name()),
            ));
            continue;
        }
        let value = part_value(part, part_ext, &here, problems);
        seen[slot] = Some(value.unwrap_or(None));
    }
    for (slot, part) in [Part::Year, Part::Month, Part::Day].into_iter().enumerate() {
        if seen[slot].is_none() {
            problems.push(Problem::new(
                location,
                IssueCode::Required,
                format!(
                    "the partial date has no {} part (a value, or a data-absent-reason when unknown)",
                    part.name()
                ),
            ));
        }
    }
    if problems.len() > before {
        return None;
    }
    let year = seen[0].flatten();
    let month = seen[1].flatten().map(|m| m as u8);
    let day = seen[2].flatten().map(|d| d as u8);
    if let (Some(m), Some(d)) = (month, day)
        && d > days_in_month(year, m)
    {
        problems.push(Problem::new(
            location,
            IssueCode::Value,
            format!("month {m} has no day {d}"),
        ));
        return None;
    }
    Some(DateParts { year, month, day })
}

/// One part's number: `Ok(Some(n))`, `Ok(None)` when data-absent, `Err` after a problem.
fn part_value(
    part: Part,
    ext: &Value,
    here: &str,
    problems: &mut Vec<Problem>,
) -> Result<Option<u16>, ()> {
    let empty = Map::new();
    let members = ext.as_object().unwrap_or(&empty);
    let value = members
        .iter()
        .find(|(k, _)| k.starts_with("value") && k.len() > "value".len());
    let Some((key, value)) = value else {
        let primitive_ext = members
            .iter()
            .find(|(k, _)| k.starts_with("_value"))
            .map(|(_, v)| v);
        if absent_reason(Some(ext)) || absent_reason(primitive_ext) {
            return Ok(None);
        }
        problems.push(Problem::new(
            here,
            IssueCode::Required,
            format!(
                "the {} part has neither a value nor a data-absent-reason",
                part.name()
            ),
        ));
        return Err(());
    };
    let at = format!("{here}.{key}");
    let (low, high, what) = match part {
        Part::Year => (1000, 9999, "a year of four digits"),
        Part::Month => (1, 12, "a month from 1 to 12"),
        _ => (1, 31, "a day from 1 to 31"),
    };
    let numeric = matches!(
        key.as_str(),
        "valueUnsignedInt" | "valueInteger" | "valuePositiveInt"
    );
    match value.as_u64() {
        Some(n) if numeric && (low..=high).contains(&n) => Ok(Some(n as u16)),
        _ => {
            problems.push(Problem::new(
                at,
                IssueCode::Value,
                format!("{value} is not {what}"),
            ));
            Err(())
        }
    }
}
