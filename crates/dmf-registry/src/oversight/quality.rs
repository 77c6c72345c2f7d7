//! The quality report: what in the current state of the file is implausible or left undone —
//! people alive past any plausible age, deaths before birth, dates in the future, reports
//! pending too long, conflicts nobody resolved, contested notices past their deadline with no
//! decision — each counted, with a few examples to look at.

use dmf_model::{Date, Ssn};
use dmf_store::Seq;

use crate::event::Event;
use crate::index::Index;
use crate::registry::Registry;
use crate::state::PersonState;

/// The day a report event was received, read from the store (for [`report`]).
pub fn received_in(registry: &Registry) -> impl Fn(Seq) -> Option<Date> + '_ {
    move |seq| match registry.event(seq).ok()??.1 {
        Event::DeathReport(r) => Some(r.received),
        _ => None,
    }
}

/// What the report looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityConfig {
    /// The day the report is made for.
    pub today: Date,
    /// A person older than this with no death is implausible (the oldest people ever lived
    /// a little past 120; audits flag 112 and more).
    pub max_age: i32,
    /// A report pending a second source or a caseworker longer than this is overdue.
    pub pending_days: i32,
    /// Examples kept of each finding.
    pub samples: usize,
}

impl QualityConfig {
    pub fn new(today: Date) -> QualityConfig {
        QualityConfig {
            today,
            max_age: 115,
            pending_days: 30,
            samples: 10,
        }
    }
}

/// One kind of problem: how many, and a few of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub description: String,
    pub count: u64,
    /// The first few, by SSN: the SSN and what is wrong with it.
    pub samples: Vec<(Ssn, String)>,
}

/// The whole report, tied to the event it was computed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityReport {
    pub today: Date,
    pub head: Seq,
    pub people: u64,
    pub findings: Vec<Finding>,
}

/// What is wrong with a person, if anything.
type Test<'a> = Box<dyn Fn(&PersonState) -> Option<String> + 'a>;

struct Check<'a> {
    code: &'static str,
    description: String,
    test: Test<'a>,
}

/// Computes the report over the whole index. `received` gives the day a report event was
/// received (the index does not keep it), for the pending reports only.
pub fn report(
    index: &Index,
    cfg: &QualityConfig,
    received: &dyn Fn(Seq) -> Option<Date>,
) -> QualityReport {
    let today = cfg.today;
    let max_age = cfg.max_age;
    let overdue = cfg.pending_days;
    let checks: Vec<Check> = vec![
        Check {
            code: "alive_past_max_age",
            description: format!("no death recorded or presumed, and older than {max_age} today"),
            test: Box::new(move |s| {
                let dob = s.identity.as_ref()?.dob?;
                let age = today.years_since(dob.latest());
                // A presumption of death is the answer to this finding, not an instance of it.
                (s.death.is_none() && s.presumed().is_none() && age > max_age)
                    .then(|| format!("born {dob}, {age} years old"))
            }),
        },
        Check {
            code: "born_before_1900_alive",
            description: "born before 1900 with no death recorded or presumed".into(),
            test: Box::new(|s| {
                let dob = s.identity.as_ref()?.dob?;
                (s.death.is_none() && s.presumed().is_none() && dob.year() < 1900)
                    .then(|| format!("born {dob}"))
            }),
        },
        Check {
            code: "death_before_birth",
            description: "the recorded death is before the date of birth".into(),
            test: Box::new(|s| {
                let dob = s.identity.as_ref()?.dob?;
                let death = s.death?;
                (death.dod.latest() < dob.earliest()).then(|| {
                    format!(
                        "born {dob}, died {} (event {})",
                        death.dod, death.established_by
                    )
                })
            }),
        },
        Check {
            code: "date_in_future",
            description: "a date of birth or of death after today".into(),
            test: Box::new(move |s| {
                let dob = s.identity.as_ref().and_then(|i| i.dob);
                if let Some(d) = dob.filter(|d| d.earliest() > today) {
                    return Some(format!("born {d}"));
                }
                let death = s.death.filter(|d| d.dod.earliest() > today)?;
                Some(format!(
                    "died {} (event {})",
                    death.dod, death.established_by
                ))
            }),
        },
        Check {
            code: "pending_overdue",
            description: format!(
                "a death report pending a second source or a caseworker for more than {overdue} days"
            ),
            test: Box::new(move |s| {
                let extra = s.extra()?;
                extra.pending.iter().find_map(|p| {
                    let got = received(p.seq)?;
                    let days = today.days_since_epoch() - got.days_since_epoch();
                    (days > overdue)
                        .then(|| format!("event {} received {got}, {days} days ago", p.seq))
                })
            }),
        },
        Check {
            code: "conflict_unresolved",
            description: "a report held for a caseworker's review".into(),
            test: Box::new(|s| {
                let r = s.extra()?.review.first()?;
                Some(format!("event {}: {}", r.seq, r.reason))
            }),
        },
        Check {
            code: "held_for_identity",
            description: "a death report or status notice held for its identity, waiting for two caseworkers to confirm or one to reject it".into(),
            test: Box::new(|s| {
                let open: Vec<_> = s.held().iter().filter(|h| h.is_open()).collect();
                let h = open.first()?;
                let fields: Vec<&str> = h.differences.iter().map(|d| d.field.code()).collect();
                let more = match open.len() {
                    1 => String::new(),
                    n => format!(" and {} more", n - 1),
                };
                Some(format!(
                    "event {} from {}: {}{}{more}",
                    h.seq,
                    h.item.group(),
                    h.reason.code(),
                    if fields.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", fields.join(", "))
                    }
                ))
            }),
        },
        Check {
            code: "contest_undecided_past_deadline",
            description: "a contested status notice past its deadline with no decision".into(),
            test: Box::new(move |s| {
                s.notices().iter().find_map(|n| {
                    (n.contested_by.is_some() && n.decision.is_none() && n.contest_deadline < today)
                        .then(|| {
                            format!(
                                "notice {} contested, deadline {}",
                                n.seq, n.contest_deadline
                            )
                        })
                })
            }),
        },
    ];
    let mut findings: Vec<Finding> = checks
        .iter()
        .map(|c| Finding {
            code: c.code,
            description: c.description.clone(),
            count: 0,
            samples: Vec::new(),
        })
        .collect();
    let mut people = 0;
    for (ssn, state) in index.iter() {
        people += 1;
        for (check, finding) in checks.iter().zip(findings.iter_mut()) {
            if let Some(detail) = (check.test)(state) {
                finding.count += 1;
                finding.samples.push((
                    Ssn::from_number(ssn).expect("indexed SSNs are valid"),
                    detail,
                ));
            }
        }
        // Keep the samples bounded while scanning: the smallest SSNs, so runs agree.
        for f in &mut findings {
            if f.samples.len() > 4 * cfg.samples.max(1) {
                f.samples.sort_by_key(|(s, _)| s.as_u32());
                f.samples.truncate(cfg.samples);
            }
        }
    }
    for f in &mut findings {
        f.samples.sort_by_key(|(s, _)| s.as_u32());
        f.samples.truncate(cfg.samples);
    }
    QualityReport {
        today,
        head: index.head,
        people,
        findings,
    }
}

impl QualityReport {
    /// The report as shown by `dmf quality --json` and `GET /v1/quality`.
    pub fn view(&self) -> QualityView {
        QualityView {
            today: self.today.to_string(),
            events: self.head,
            people: Some(self.people),
            findings: self
                .findings
                .iter()
                .map(|f| FindingView {
                    code: f.code,
                    description: f.description.clone(),
                    count: f.count,
                    samples: f
                        .samples
                        .iter()
                        .map(|(ssn, detail)| SampleView {
                            ssn: ssn.to_string(),
                            detail: detail.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.view()).unwrap_or_default()
    }
}

/// The quality report: counts and examples of each finding, at the event it was computed at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "QualityReport")]
pub struct QualityView {
    pub today: String,
    /// The last event the report covers.
    pub events: Seq,
    /// The people checked; absent from a comparison with a published file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<u64>,
    pub findings: Vec<FindingView>,
}

/// One finding: its code, what it means, how many, and the first few by SSN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct FindingView {
    pub code: &'static str,
    pub description: String,
    pub count: u64,
    pub samples: Vec<SampleView>,
}

/// One example of a finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct SampleView {
    pub ssn: String,
    pub detail: String,
}

/// Records of a published file set against the records the registry would publish for the
/// same audience today: deaths missing from the file, records in the file the registry would
/// not publish (no death, a corrected one, or one withheld from that audience: the worst case
/// is a living person sent out as dead), and records whose fields differ. Both lists in any
/// order; a change code is not a difference.
pub fn compare_published(
    registry: &[dmf_format::DmfRecord],
    published: &[dmf_format::DmfRecord],
    samples: usize,
) -> Vec<Finding> {
    use dmf_format::DmfRecord;
    use std::collections::HashMap;
    let ours: HashMap<Ssn, &DmfRecord> = registry.iter().map(|r| (r.ssn(), r)).collect();
    let theirs: HashMap<Ssn, &DmfRecord> = published.iter().map(|r| (r.ssn(), r)).collect();
    let mut missing = Finding {
        code: "published_missing",
        description: "a death the registry publishes that the published file lacks".into(),
        count: 0,
        samples: Vec::new(),
    };
    let mut extra = Finding {
        code: "published_not_in_registry",
        description: "a record in the published file that the registry does not publish \
                      (no death, a corrected death, or withheld from this audience)"
            .into(),
        count: 0,
        samples: Vec::new(),
    };
    let mut differs = Finding {
        code: "published_differs",
        description: "a published record whose fields differ from the registry's".into(),
        count: 0,
        samples: Vec::new(),
    };
    for (ssn, r) in &ours {
        match theirs.get(ssn) {
            None => {
                missing.count += 1;
                missing
                    .samples
                    .push((*ssn, format!("died {}", fmt_date(r.dod()))));
            }
            Some(p) => {
                let diff = field_differences(r, p);
                if !diff.is_empty() {
                    differs.count += 1;
                    differs.samples.push((*ssn, diff));
                }
            }
        }
    }
    for (ssn, p) in &theirs {
        if !ours.contains_key(ssn) {
            extra.count += 1;
            extra
                .samples
                .push((*ssn, format!("published as died {}", fmt_date(p.dod()))));
        }
    }
    let mut out = vec![missing, extra, differs];
    for f in &mut out {
        f.samples.sort_by_key(|(s, _)| s.as_u32());
        f.samples.truncate(samples);
    }
    out
}

fn fmt_date(d: Option<dmf_model::PartialDate>) -> String {
    d.map_or_else(|| "(no date)".into(), |d| d.to_string())
}

/// Which fields the registry keeps of a published record differ, with both values (empty when
/// none does). State and ZIP codes are not the registry's to keep.
fn field_differences(ours: &dmf_format::DmfRecord, published: &dmf_format::DmfRecord) -> String {
    use dmf_format::Field;
    let (a, b) = (ours.as_bytes(), published.as_bytes());
    let mut parts = Vec::new();
    for field in [
        Field::LastName,
        Field::Suffix,
        Field::FirstName,
        Field::MiddleName,
        Field::Verification,
        Field::DateOfDeath,
        Field::DateOfBirth,
    ] {
        let r = field.range();
        if a[r.clone()] != b[r.clone()] {
            let show = |x: &[u8]| String::from_utf8_lossy(x).trim_end().to_string();
            parts.push(format!(
                "{}: registry {:?}, published {:?}",
                field.name(),
                show(&a[r.clone()]),
                show(&b[r])
            ));
        }
    }
    parts.join("; ")
}

/// Why a published file could not be read for [`compare_published`].
#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("reading the published file")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Line(dmf_format::LineError),
}

/// The records of a published DMF file (full file: `D` records are left out, as they say the
/// record is not published), refusing the first bad line.
pub fn read_published<R: std::io::Read>(
    input: R,
) -> Result<Vec<dmf_format::DmfRecord>, PublishedError> {
    let mut reader = dmf_format::DmfReader::new(input);
    let mut out = Vec::new();
    while let Some(record) = reader.next_record()? {
        let record = record.map_err(PublishedError::Line)?;
        if record.change() != dmf_format::ChangeCode::Delete {
            out.push(record);
        }
    }
    Ok(out)
}

/// The people a presumption of death by age would cover on `today`: no death recorded, not
/// presumed already, never reinstated by a correction (a sign of life), and older than
/// `older_than` even on the latest day a partial date of birth allows. In SSN order.
pub fn presumption_candidates(index: &Index, today: Date, older_than: i32) -> Vec<Ssn> {
    let mut out: Vec<Ssn> = index
        .iter()
        .filter(|(_, s)| {
            s.death.is_none()
                && s.presumed().is_none()
                && s.extra().is_none_or(|e| e.corrected.is_empty())
                && s.identity
                    .as_ref()
                    .and_then(|i| i.dob)
                    .is_some_and(|dob| today.years_since(dob.latest()) > older_than)
        })
        .map(|(ssn, _)| Ssn::from_number(ssn).expect("indexed SSNs are valid"))
        .collect();
    out.sort_by_key(|s| s.as_u32());
    out
}
