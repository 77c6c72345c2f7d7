//! The quality report: what in the current state of the file is implausible or left undone —
//! people alive past any plausible age, deaths before birth, dates in the future, reports
//! pending too long, conflicts nobody resolved, contested notices past their deadline with no
//! decision — each counted, with a few examples to look at.

use dmf_model::{Date, Ssn};
use dmf_store::Seq;

use crate::Registry;
use crate::event::Event;
use crate::state::{Index, PersonState};

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
    /// The report as JSON, for `dmf quality --json` and `GET /v1/quality`.
    pub fn to_json(&self) -> serde_json::Value {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                let samples: Vec<serde_json::Value> = f
                    .samples
                    .iter()
                    .map(|(ssn, detail)| serde_json::json!({ "ssn": ssn.to_string(), "detail": detail }))
                    .collect();
                serde_json::json!({
                    "code": f.code, "description": f.description, "count": f.count, "samples": samples,
                })
            })
            .collect();
        serde_json::json!({
            "today": self.today.to_string(), "events": self.head, "people": self.people,
            "findings": findings,
        })
    }
}
