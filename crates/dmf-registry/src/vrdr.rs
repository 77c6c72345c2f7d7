//! FHIR VRDR messages into the registry: a state's submission is a death report from source
//! `state`, its update an amendment of that report, its void a withdrawal, its alias identity
//! evidence, each idempotent on the record's business key (jurisdiction, death year,
//! certificate number).
//!
//! The versions of one record are found through the store's idempotency keys: version `n` of
//! record `2018NY123456` is the event stored under `vrdr:2018NY123456:n` (a report, or the
//! withdrawal a void made), so no index of certificates is held in memory. Every event goes
//! through the intake rules like any other: a report is checked against the person it names
//! (held if it names someone else), and an amendment or withdrawal is refused unless the report
//! it names still counts and came from a state.

mod answers;

use std::collections::HashSet;

use dmf_model::{
    Date, DeathReport, DeathSource, PartialDate, Reference, ReportedName, Sex, Ssn, SsnDigits,
    Subject, VerificationLevel,
};
use dmf_store::Seq;
use dmf_vrdr::{
    Alias, Body, CertificateKey, DateParts, DeathCertificate, IssueCode, Jurisdiction, Message,
    Problem, Record, RecordIds, SexAtDeath, Void,
};

use crate::event::{Event, Origin, ReportAlias, ReportEvent, ReportWithdrawal};
use crate::registry::{Registry, RegistryError};
use crate::state::Outcome;
use crate::submission::{Rejection, Submission};
use crate::violation::Field;

pub use answers::{
    Answered, ENDPOINT, Read, read, response, store_and_answer, store_and_answer_all,
};

/// Where the record's jurisdiction is named in a message, as FHIRPath.
pub const JURISDICTION_PATH: &str =
    "Bundle.entry.resource.ofType(Parameters).parameter.where(name='jurisdiction_id').value";

/// What the registry did with one message, for its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `deceased`, `amended`, `received` (it agreed with a death on file, or waits for a
    /// caseworker), `held`, `withdrawn`, `alias_recorded`, `duplicate`,
    /// `nothing_to_withdraw`, `ignored`.
    pub outcome: &'static str,
    /// What happened, in words.
    pub notes: Vec<String>,
}

/// The answer to one message: a receipt, or the problems that kept it out.
pub type Handled = Result<Receipt, Vec<Problem>>;

/// Who sends: the jurisdiction a state's key is bound to, or `None` for the operator's
/// command line, which may load any jurisdiction's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    pub jurisdiction: Option<Jurisdiction>,
}

/// The idempotency key of version `n` of a record.
fn version_key(key: &CertificateKey, n: u32) -> String {
    format!("vrdr:{key}:{n}")
}

/// The evidence a record's events carry: the record and the message.
fn evidence(key: &CertificateKey, message: &str) -> Result<Reference, Problem> {
    Reference::new(&format!("FHIR VRDR record {key} message {message}")).map_err(|e| {
        Problem::new(
            "Bundle.entry[0].resource.id",
            IssueCode::Value,
            format!("the message id cannot be kept as evidence: {e}"),
        )
    })
}

/// The message id an event's evidence names.
fn message_of(evidence: &Reference) -> Option<&str> {
    evidence.as_str().split_once(" message ").map(|(_, m)| m)
}

/// One version of a record, as stored: a report (a submission or an update), or the
/// withdrawal a void made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// 1 for the first.
    pub number: u32,
    pub seq: Seq,
    pub ssn: Ssn,
    /// A report (not a void's withdrawal).
    pub report: bool,
    /// The message that made it.
    pub message: Option<String>,
}

/// Every version of a record, oldest first.
pub fn versions(registry: &Registry, key: &CertificateKey) -> Result<Vec<Version>, RegistryError> {
    let mut out = Vec::new();
    let mut n = 1;
    while let Some(seq) = registry.store().seq_of_key(&version_key(key, n))? {
        let Some((_, event)) = registry.event(seq)? else {
            break;
        };
        let (report, evidence) = match &event {
            Event::DeathReport(r) => (true, r.report.evidence()),
            Event::ReportWithdrawal(w) => (false, &w.evidence),
            _ => break,
        };
        out.push(Version {
            number: n,
            seq,
            ssn: event.ssn(),
            report,
            message: message_of(evidence).map(str::to_owned),
        });
        n += 1;
    }
    Ok(out)
}

/// The latest version of a record, with every message that made a version.
#[derive(Debug)]
struct Current {
    /// How many versions there are.
    versions: u32,
    seq: Seq,
    ssn: Ssn,
    /// The latest version is a report (not a void's withdrawal).
    report: bool,
    messages: HashSet<String>,
}

fn current(registry: &Registry, key: &CertificateKey) -> Result<Option<Current>, RegistryError> {
    let all = versions(registry, key)?;
    let messages = all.iter().filter_map(|v| v.message.clone()).collect();
    Ok(all.last().map(|last| Current {
        versions: last.number,
        seq: last.seq,
        ssn: last.ssn,
        report: last.report,
        messages,
    }))
}

/// The SSN a certificate gives, if it is a number that was issued.
fn ssn_of(c: &DeathCertificate) -> Result<Ssn, Problem> {
    let Some(given) = &c.ssn else {
        return Err(Problem::new(
            "Bundle.entry.resource.ofType(Patient).identifier.where(system='http://hl7.org/fhir/sid/us-ssn')",
            IssueCode::Required,
            "the decedent's SSN is missing: a death report changes the record of the SSN it names",
        ));
    };
    let digits: SsnDigits = given.value.trim().parse().map_err(|e| {
        Problem::new(
            &given.location,
            IssueCode::Value,
            format!("{:?} is not an SSN: {e}", given.value),
        )
    })?;
    digits.issued().map_err(|e| {
        Problem::new(
            &given.location,
            IssueCode::BusinessRule,
            format!("SSN {digits} was never issued: {e}"),
        )
    })
}

/// A date's known parts as the model's partial date; `None` when the year is unknown.
fn partial(parts: DateParts, location: &str) -> Result<Option<PartialDate>, Problem> {
    let Some(year) = parts.year else {
        return Ok(None);
    };
    // A day without its month says nothing the model can keep.
    let day = parts.month.and(parts.day);
    PartialDate::new(year, parts.month, day)
        .map(Some)
        .map_err(|e| Problem::new(location, IssueCode::Value, e))
}

/// The report a certificate makes, from a state, received `today`.
fn report_of(
    key: &CertificateKey,
    message: &Message,
    c: &DeathCertificate,
    today: Date,
) -> Result<DeathReport, Vec<Problem>> {
    let mut problems = Vec::new();
    let ssn = ssn_of(c).map_err(|p| problems.push(p)).ok();
    let name = match &c.name {
        None => ReportedName::default(),
        Some(n) => {
            let first = n.value.given.first().map(String::as_str);
            let middle = n.value.given.get(1..).map(|m| m.join(" "));
            let middle = middle.as_deref().filter(|m| !m.trim().is_empty());
            let last = n.value.family.as_deref();
            match ReportedName::parse(first, middle, last, n.value.suffix.as_deref()) {
                Ok(name) => name,
                Err((field, e)) => {
                    problems.push(Problem::new(
                        &n.location,
                        IssueCode::Value,
                        format!("the {field} name cannot be read: {e}"),
                    ));
                    ReportedName::default()
                }
            }
        }
    };
    let sex = c.sex.as_ref().and_then(|s| match s.value {
        SexAtDeath::Female => Some(Sex::Female),
        SexAtDeath::Male => Some(Sex::Male),
        SexAtDeath::Unknown => None,
    });
    let dob = match &c.birth {
        None => None,
        Some(b) => partial(b.value, &b.location)
            .map_err(|p| problems.push(p))
            .ok()
            .flatten(),
    };
    let dod = match &c.death {
        None => {
            problems.push(Problem::new(
                "Bundle.entry.resource.ofType(Observation).where(code.coding.code='81956-5')",
                IssueCode::Required,
                "the date of death (LOINC 81956-5) is missing: a death report needs at least its year",
            ));
            None
        }
        Some(d) => match partial(d.value, &d.location) {
            Ok(Some(dod)) => Some(dod),
            Ok(None) => {
                problems.push(Problem::new(
                    &d.location,
                    IssueCode::Required,
                    "the year of death is unknown: a death report needs at least its year",
                ));
                None
            }
            Err(p) => {
                problems.push(p);
                None
            }
        },
    };
    if dod.is_some_and(|d| d.earliest() > today) {
        let d = c.death.as_ref().expect("read");
        problems.push(Problem::new(
            &d.location,
            IssueCode::BusinessRule,
            format!(
                "the date of death {} is after today ({today})",
                dod.expect("read")
            ),
        ));
    }
    let evidence = evidence(key, &message.id)
        .map_err(|p| problems.push(p))
        .ok();
    let (Some(ssn), Some(dod), Some(evidence), true) = (ssn, dod, evidence, problems.is_empty())
    else {
        return Err(problems);
    };
    let subject = Subject {
        ssn,
        name,
        dob,
        sex,
    };
    DeathReport::new(
        subject,
        dod,
        DeathSource::StateVitalRecords,
        evidence,
        VerificationLevel::None,
    )
    .map_err(|e| {
        let at = c.death.as_ref().map_or("Bundle", |d| d.location.as_str());
        vec![Problem::new(at, IssueCode::Value, e)]
    })
}

/// Where a rule's refusal points in the message.
fn location_of(field: &str, c: Option<&DeathCertificate>) -> String {
    let located = |l: Option<&String>| l.cloned().unwrap_or_else(|| "Bundle".to_owned());
    match (field, c) {
        ("$.ssn", Some(c)) => located(c.ssn.as_ref().map(|s| &s.location)),
        ("$.dod", Some(c)) => located(c.death.as_ref().map(|s| &s.location)),
        ("$.dob", Some(c)) => located(c.birth.as_ref().map(|s| &s.location)),
        ("$.first" | "$.middle" | "$.last" | "$.suffix", Some(c)) => {
            located(c.name.as_ref().map(|s| &s.location))
        }
        _ => "Bundle.entry.resource.ofType(Parameters).parameter.where(name='cert_no').value"
            .to_owned(),
    }
}

/// One message's plan: what to submit, and how to read the results.
enum Plan {
    /// Answered without storing anything.
    Done(Handled),
    /// Submissions for one record, in order; the receipt is made from the last one's outcome.
    Store {
        subs: Vec<Submission>,
        certificate: Option<Box<DeathCertificate>>,
        notes: Vec<String>,
    },
}

fn refused(problems: Vec<Problem>) -> Plan {
    Plan::Done(Err(problems))
}

fn done(outcome: &'static str, note: impl Into<String>) -> Plan {
    Plan::Done(Ok(Receipt {
        outcome,
        notes: vec![note.into()],
    }))
}

/// The record's key, if the sender may send it.
fn admitted(sender: Sender, ids: &RecordIds) -> Result<CertificateKey, Vec<Problem>> {
    match sender.jurisdiction {
        Some(j) if j != ids.key.jurisdiction => Err(vec![Problem::new(
            JURISDICTION_PATH,
            IssueCode::BusinessRule,
            format!(
                "the record is of jurisdiction {}, and this key reports for {j} alone",
                ids.key.jurisdiction
            ),
        )]),
        _ => Ok(ids.key),
    }
}

/// A report of a record: a submission, or an update whose record stands.
fn report_sub(
    key: &CertificateKey,
    version: u32,
    report: DeathReport,
    today: Date,
    supersedes: Option<Seq>,
) -> Submission {
    Submission {
        event: Event::DeathReport(ReportEvent {
            report,
            received: today,
            origin: Origin::Submitted,
            supersedes,
        }),
        idempotency_key: Some(version_key(key, version)),
    }
}

/// Whether the report at `seq` of `ssn` still counts (the person's current state).
pub fn standing(registry: &Registry, ssn: Ssn, seq: Seq) -> Result<bool, RegistryError> {
    let state = registry.state_of(ssn)?.unwrap_or_default();
    Ok(state.report_standing(seq).is_some())
}

fn plan_record(
    registry: &Registry,
    message: &Message,
    record: &Record,
    update: bool,
    sender: Sender,
    today: Date,
) -> Result<Plan, RegistryError> {
    let key = match admitted(sender, &record.ids) {
        Ok(k) => k,
        Err(p) => return Ok(refused(p)),
    };
    let report = match report_of(&key, message, &record.certificate, today) {
        Ok(r) => r,
        Err(p) => return Ok(refused(p)),
    };
    let certificate = Some(Box::new(record.certificate.clone()));
    let latest = current(registry, &key)?;
    let Some(latest) = latest else {
        let notes = if update {
            vec![format!(
                "no earlier version of record {key} was received: the update is taken as its submission"
            )]
        } else {
            Vec::new()
        };
        return Ok(Plan::Store {
            subs: vec![report_sub(&key, 1, report, today, None)],
            certificate,
            notes,
        });
    };
    if latest.messages.contains(&message.id) {
        return Ok(done(
            "duplicate",
            format!(
                "message {} was received before: nothing was stored",
                message.id
            ),
        ));
    }
    let next = latest.versions + 1;
    if !latest.report {
        // The record was voided: a submission or an update makes it stand again.
        let notes = vec![format!(
            "record {key} had been voided: this version is recorded as a new report"
        )];
        return Ok(Plan::Store {
            subs: vec![report_sub(&key, next, report, today, None)],
            certificate,
            notes,
        });
    }
    if !update {
        return Ok(done(
            "duplicate",
            format!(
                "record {key} was received before (event {}): nothing was stored; send an update to change it",
                latest.seq
            ),
        ));
    }
    let new_ssn = report.subject().ssn;
    if new_ssn != latest.ssn {
        // The update names another person: the report on the first is withdrawn, and the
        // record is reported anew against the person it names now.
        let withdrawal = ReportWithdrawal {
            ssn: latest.ssn,
            report: latest.seq,
            source: DeathSource::StateVitalRecords,
            evidence: report.evidence().clone(),
            reason: Reference::new(&format!(
                "the state's update of record {key} names SSN {new_ssn}"
            ))
            .expect("short, printable"),
        };
        let mut subs = Vec::new();
        if standing(registry, latest.ssn, latest.seq)? {
            subs.push(Submission {
                event: Event::ReportWithdrawal(withdrawal),
                idempotency_key: Some(format!("{}:moved", version_key(&key, next))),
            });
        }
        subs.push(report_sub(&key, next, report, today, None));
        return Ok(Plan::Store {
            subs,
            certificate,
            notes: vec![format!(
                "the update names another SSN than the record's earlier version: the earlier report no longer counts"
            )],
        });
    }
    // A report a correction or a caseworker has set aside no longer counts: the update is
    // a new report, which the rules hold if it repeats a corrected death.
    let supersedes = standing(registry, latest.ssn, latest.seq)?.then_some(latest.seq);
    Ok(Plan::Store {
        subs: vec![report_sub(&key, next, report, today, supersedes)],
        certificate,
        notes: Vec::new(),
    })
}

fn plan_void(
    registry: &Registry,
    message: &Message,
    void: &Void,
    sender: Sender,
) -> Result<Vec<Plan>, RegistryError> {
    if let Err(p) = admitted(sender, &void.ids) {
        return Ok(vec![refused(p)]);
    }
    let mut plans = Vec::new();
    for key in void.keys() {
        let evidence = match evidence(&key, &message.id) {
            Ok(e) => e,
            Err(p) => return Ok(vec![refused(vec![p])]),
        };
        let plan = match current(registry, &key)? {
            None => done(
                "nothing_to_withdraw",
                format!("no record {key} was received: nothing to withdraw"),
            ),
            Some(latest) if latest.messages.contains(&message.id) => done(
                "duplicate",
                format!(
                    "message {} was received before: nothing was stored",
                    message.id
                ),
            ),
            Some(latest) if !latest.report => done(
                "duplicate",
                format!("record {key} was voided before (event {})", latest.seq),
            ),
            Some(latest) if !standing(registry, latest.ssn, latest.seq)? => {
                // Set aside already (a correction, a caseworker's rejection): the void is kept
                // so that the record's versions say it, and changes nothing.
                done(
                    "nothing_to_withdraw",
                    format!(
                        "the report of record {key} (event {}) no longer counts: nothing to withdraw",
                        latest.seq
                    ),
                )
            }
            Some(latest) => Plan::Store {
                subs: vec![Submission {
                    event: Event::ReportWithdrawal(ReportWithdrawal {
                        ssn: latest.ssn,
                        report: latest.seq,
                        source: DeathSource::StateVitalRecords,
                        evidence,
                        reason: Reference::new(&format!(
                            "record {key} voided by its state's vital records office"
                        ))
                        .expect("short, printable"),
                    }),
                    idempotency_key: Some(version_key(&key, latest.versions + 1)),
                }],
                certificate: None,
                notes: Vec::new(),
            },
        };
        plans.push(plan);
    }
    Ok(plans)
}

fn plan_alias(
    registry: &Registry,
    message: &Message,
    alias: &Alias,
    sender: Sender,
) -> Result<Plan, RegistryError> {
    let key = match admitted(sender, &alias.ids) {
        Ok(k) => k,
        Err(p) => return Ok(refused(p)),
    };
    let mut problems = Vec::new();
    let name = ReportedName::parse(
        alias.first.as_deref(),
        alias.middle.as_deref(),
        alias.last.as_deref(),
        alias.suffix.as_deref(),
    )
    .map_err(|(field, e)| {
        problems.push(Problem::new(
            format!(
                "Bundle.entry.resource.ofType(Parameters).parameter.where(name='alias_decedent_{field}_name').value"
            ),
            IssueCode::Value,
            e,
        ))
    })
    .unwrap_or_default();
    let alias_ssn = match &alias.ssn {
        None => None,
        Some(s) => s
            .value
            .trim()
            .parse::<SsnDigits>()
            .map_err(|e| {
                problems.push(Problem::new(
                    &s.location,
                    IssueCode::Value,
                    format!("{:?} is not an SSN: {e}", s.value),
                ))
            })
            .ok(),
    };
    let evidence = evidence(&key, &message.id)
        .map_err(|p| problems.push(p))
        .ok();
    if !problems.is_empty() {
        return Ok(refused(problems));
    }
    let alias_key = format!("vrdr:{key}:alias:{}", message.id);
    if let Some(seq) = registry.store().seq_of_key(&alias_key)? {
        return Ok(done(
            "duplicate",
            format!(
                "message {} was received before (event {seq}): nothing was stored",
                message.id
            ),
        ));
    }
    let latest = match current(registry, &key)? {
        Some(l) if l.report => l,
        _ => {
            return Ok(refused(vec![Problem::new(
                JURISDICTION_PATH,
                IssueCode::BusinessRule,
                format!("no report of record {key} stands: an alias needs the record it is for"),
            )]));
        }
    };
    Ok(Plan::Store {
        subs: vec![Submission {
            event: Event::ReportAlias(ReportAlias {
                ssn: latest.ssn,
                report: latest.seq,
                name,
                alias_ssn,
                evidence: evidence.expect("no problems"),
            }),
            idempotency_key: Some(alias_key),
        }],
        certificate: None,
        notes: Vec::new(),
    })
}

/// What a message asks, before anything is stored.
fn plan(
    registry: &Registry,
    message: &Message,
    sender: Sender,
    today: Date,
) -> Result<Vec<Plan>, RegistryError> {
    let ignored = |what: &str| {
        vec![done(
            "ignored",
            format!("{what} is not acted on by this registry: it reports deaths, and codes none"),
        )]
    };
    Ok(match &message.body {
        Body::Submission(r) => vec![plan_record(registry, message, r, false, sender, today)?],
        Body::Update(r) => vec![plan_record(registry, message, r, true, sender, today)?],
        Body::Void(v) => plan_void(registry, message, v, sender)?,
        Body::Alias(a) => vec![plan_alias(registry, message, a, sender)?],
        Body::Acknowledgement(_) => ignored("an acknowledgement"),
        Body::ExtractionError(_) => ignored("an extraction error"),
        Body::Status(_) => ignored("a status message"),
        Body::Coding(c) => ignored(&format!("a coding message ({})", c.event_uri)),
    })
}

/// The receipt an outcome gives.
fn receipt(outcome: &Outcome) -> Receipt {
    let (code, note): (&'static str, Option<String>) = match outcome {
        Outcome::Deceased => ("deceased", None),
        Outcome::Amended => (
            "amended",
            Some("the recorded death now stands on this version; subscribers who received it are sent a C record".into()),
        ),
        // As the JSON route says it (`for_sender`): whether another source reported the death,
        // or with which date, is not the sender's to learn.
        Outcome::Corroborated => ("received", None),
        Outcome::Held { reason, differences } => {
            // Which fields differ, never what is on file: the sender learns nothing of the
            // person the SSN belongs to.
            let fields: Vec<&str> = differences.iter().map(|d| d.field.code()).collect();
            (
                "held",
                Some(format!(
                    "received and held for review by two caseworkers: {}{}; it changes nothing until then",
                    reason.code(),
                    if fields.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} differ from the person on file)", fields.join(", "))
                    }
                )),
            )
        }
        Outcome::HeldForReview(_) => (
            "received",
            Some("received; a caseworker reviews it before it counts".into()),
        ),
        Outcome::Pending => ("pending", None),
        // Whether the death still stands on other sources' reports is not the sender's to
        // learn either.
        Outcome::Withdrawn | Outcome::ReportWithdrawn => (
            "withdrawn",
            Some("the record's report no longer counts; subscribers who received a death that stood on it alone are sent a D record".into()),
        ),
        Outcome::Noted => ("alias_recorded", None),
        // A duplicate here is another writer's version of the record: `round` stores again.
        other => (other.code(), None),
    };
    Receipt {
        outcome: code,
        notes: note.into_iter().collect(),
    }
}

/// Stores what each message asks (each from its sender), in order, and answers each: one
/// [`Handled`] per message and, for a void of a block, one per certificate. Messages naming
/// different records are stored together in one batch; a record named again waits for the
/// next batch, so that each sees the versions the one before made.
pub fn handle(
    registry: &Registry,
    messages: &[(&Message, Sender)],
    today: Date,
    recorded_at: i64,
) -> Result<Vec<Vec<Handled>>, RegistryError> {
    let mut answers: Vec<Vec<Option<Handled>>> = vec![Vec::new(); messages.len()];
    let mut start = 0;
    while start < messages.len() {
        // A round: messages whose records are all distinct.
        let mut keys = HashSet::new();
        let mut end = start;
        while end < messages.len() {
            let named = record_keys(messages[end].0);
            if named.iter().any(|k| keys.contains(k)) {
                break;
            }
            keys.extend(named);
            end += 1;
        }
        let mut retry = round(
            registry,
            &messages[start..end],
            &mut answers[start..end],
            today,
            recorded_at,
        )?;
        // Another writer made the same version of a record between reading and storing: read
        // it again and store after it.
        for _ in 0..3 {
            let mut again = Vec::new();
            for i in retry {
                let at = start + i;
                answers[at].clear();
                let left = round(
                    registry,
                    &messages[at..=at],
                    &mut answers[at..=at],
                    today,
                    recorded_at,
                )?;
                again.extend(left.into_iter().map(|_| i));
            }
            retry = again;
        }
        if !retry.is_empty() {
            return Err(RegistryError::Input {
                path: "vrdr".into(),
                reason: "records kept changing while they were stored; send the messages again"
                    .into(),
            });
        }
        start = end;
    }
    Ok(answers
        .into_iter()
        .map(|a| a.into_iter().map(|h| h.expect("answered")).collect())
        .collect())
}

/// The records a message names.
fn record_keys(message: &Message) -> Vec<CertificateKey> {
    match &message.body {
        Body::Submission(r) | Body::Update(r) => vec![r.ids.key],
        Body::Void(v) => v.keys().collect(),
        Body::Alias(a) => vec![a.ids.key],
        _ => Vec::new(),
    }
}

/// Plans and stores one round; the messages (by index) whose version another writer took
/// meanwhile, to be done again.
fn round(
    registry: &Registry,
    messages: &[(&Message, Sender)],
    answers: &mut [Vec<Option<Handled>>],
    today: Date,
    recorded_at: i64,
) -> Result<Vec<usize>, RegistryError> {
    // Each plan's place: (message, answer slot, first submission, how many).
    let mut subs = Vec::new();
    let mut placed = Vec::new();
    for (i, (message, sender)) in messages.iter().enumerate() {
        for p in plan(registry, message, *sender, today)? {
            let slot = answers[i].len();
            match p {
                Plan::Done(h) => answers[i].push(Some(h)),
                Plan::Store {
                    subs: these,
                    certificate,
                    notes,
                } => {
                    answers[i].push(None);
                    placed.push((i, slot, subs.len(), these.len(), certificate, notes));
                    subs.extend(these);
                }
            }
        }
    }
    if subs.is_empty() {
        return Ok(Vec::new());
    }
    let results = registry.submit(subs, recorded_at)?;
    let mut retry = Vec::new();
    for (i, slot, first, count, certificate, notes) in placed {
        let mine = &results[first..first + count];
        // A version key was taken since it was read: every plan's version is new, so a
        // duplicate here is another writer's.
        if mine
            .iter()
            .any(|r| matches!(r, Ok(a) if a.outcome == Outcome::Duplicate))
        {
            if !retry.contains(&i) {
                retry.push(i);
            }
            continue;
        }
        let handled = match mine.iter().find_map(|r| r.as_ref().err()) {
            Some(rejection) => Err(vec![problem_of(rejection, certificate.as_deref())]),
            None => {
                let last = mine.last().and_then(|r| r.as_ref().ok()).expect("accepted");
                let mut r = receipt(&last.outcome);
                r.notes.splice(0..0, notes);
                Ok(r)
            }
        };
        answers[i][slot] = Some(handled);
    }
    Ok(retry)
}

/// A rule's refusal as a problem at the element it concerns.
fn problem_of(rejection: &Rejection, certificate: Option<&DeathCertificate>) -> Problem {
    let field = rejection.path.as_str();
    let report_field = format!("$.{}", Field::Supersedes.name());
    let reason = if field == report_field || field == "$.report" || field == "$.source" {
        format!(
            "the record changed while this message was read, or its report no longer counts: {}",
            rejection.reason
        )
    } else {
        rejection.reason.clone()
    };
    Problem::new(
        location_of(field, certificate),
        IssueCode::BusinessRule,
        reason,
    )
}
