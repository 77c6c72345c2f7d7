//! Imports: a numberholder file (`people.csv`) or DMF full and update files, in batches that
//! are each stored once, so that importing a file again adds nothing; and DMF records received
//! some other way (a subscriber's feed), applied as one batch under the caller's key.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use dmf_format::spreadsheet::write_row;
use dmf_format::{ChangeCode, DmfReader, DmfRecord};
use dmf_model::{Date, DeathReport, DeathSource, PersonName, Reference, Ssn, Subject};
use sha2::{Digest, Sha256};

use crate::event::{Event, ImportDelete, ImportedChange, Origin, PersonRecord, ReportEvent, Sex};

/// The columns of a numberholder file; anything else means the file is something else.
const PEOPLE_COLUMNS: [&str; 8] = [
    "ssn",
    "first",
    "middle",
    "last",
    "suffix",
    "sex",
    "dob",
    "birth_state",
];
use crate::registry::{Registry, RegistryError};
use crate::state::Outcome;
use crate::submission::Submission;
use dmf_ledger::log::hex;

/// Records stored in one transaction.
const BATCH: usize = 20_000;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub file: PathBuf,
    /// `people` or `dmf`.
    pub format: &'static str,
    pub records: u64,
    pub events_added: u64,
    /// Records of batches imported before, skipped.
    pub already_imported: u64,
    pub rejected: u64,
    /// Of the rejected: numberholder records for an SSN on file under another identity.
    pub conflicts: u64,
    /// Of the events added: DMF records held because they name someone other than the
    /// numberholder on file.
    pub held: u64,
    /// Where the rejected records went, with their reasons.
    pub rejects_file: Option<PathBuf>,
}

/// One rejected record: line, field and reason.
struct Reject {
    line: u64,
    field: String,
    reason: String,
}

/// Imports a file into the registry; `progress` gets the number of records read so far.
pub fn import_file(
    registry: &Registry,
    path: &Path,
    today: Date,
    recorded_at: i64,
    progress: &dyn Fn(u64),
) -> Result<ImportSummary, RegistryError> {
    let read_error = |source| RegistryError::Read {
        path: path.to_owned(),
        source,
    };
    let hash = file_hash(path).map_err(read_error)?;
    let mut start = Vec::with_capacity(dmf_format::sniff::SNIFF_LEN);
    File::open(path)
        .map_err(read_error)?
        .take(dmf_format::sniff::SNIFF_LEN as u64)
        .read_to_end(&mut start)
        .map_err(read_error)?;
    // A DMF record is 100 characters without commas; a CSV header has commas. Anything else is
    // refused before a record is stored.
    let line_end = start
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(start.len());
    let first = String::from_utf8_lossy(&start[..line_end]);
    let head = first.trim_end_matches(['\r', '\n']);
    let is_csv = head.len() != dmf_format::RECORD_LEN && head.contains(',');
    if let Some(reason) = not_importable(&start, head, is_csv) {
        return Err(RegistryError::Input {
            path: path.to_owned(),
            reason,
        });
    }
    let keys = BatchKeys::Numbered {
        hash: hash.clone(),
        next: 0,
    };
    let mut run = Run::new(registry, keys, path.to_owned(), recorded_at);
    let file = File::open(path).map_err(read_error)?;
    // The log of each batch is made while the next is stored; all of it is signed before this
    // returns (and on an early return, when the guard waits for it).
    let deferred = DeferredLog::start(registry)?;
    if is_csv {
        run.summary.format = "people";
        read_people(&mut run, file, path, progress)?;
    } else {
        run.summary.format = "dmf";
        read_dmf(&mut run, file, path, today, progress)?;
    }
    run.flush()?;
    deferred.finish()?;
    let name = path
        .file_name()
        .map_or("input".into(), |n| n.to_string_lossy().into_owned());
    run.write_rejects(&name, &hash[..12])?;
    Ok(run.summary)
}

/// Applies DMF records (full, add, change or delete) in order as one batch stored under
/// `batch_key`: applying a batch whose key was stored before adds nothing. `label` says where
/// the records came from; evidence names it with each record's position, and rejected records
/// go to `DATA/rejects/` under a file named after it.
pub fn apply_dmf_records(
    registry: &Registry,
    records: &[DmfRecord],
    label: &str,
    batch_key: String,
    today: Date,
    recorded_at: i64,
) -> Result<ImportSummary, RegistryError> {
    let tag = hex_sha256(batch_key.as_bytes());
    let mut run = Run::new(
        registry,
        BatchKeys::One(batch_key),
        PathBuf::from(label),
        recorded_at,
    );
    run.summary.format = "dmf";
    for (i, rec) in records.iter().enumerate() {
        run.push_dmf(rec, label, i as u64 + 1, today)?;
    }
    run.flush()?;
    run.write_rejects(&file_name_of(label), &tag[..12])?;
    Ok(run.summary)
}

/// The registry's log deferred for the length of an import (see [`Registry::defer_log`]).
struct DeferredLog<'a>(Option<&'a Registry>);

impl<'a> DeferredLog<'a> {
    fn start(registry: &'a Registry) -> Result<DeferredLog<'a>, RegistryError> {
        registry.defer_log(true)?;
        Ok(DeferredLog(Some(registry)))
    }

    /// Waits until every batch is in the signed log, reporting a failure to extend it.
    fn finish(mut self) -> Result<(), RegistryError> {
        self.0.take().map_or(Ok(()), |r| r.defer_log(false))
    }
}

impl Drop for DeferredLog<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            // Already failing: the first error is the one reported, and the log catches up
            // from the events at the next open.
            let _ = r.defer_log(false);
        }
    }
}

/// How a run names the batches it stores: each name is stored once.
enum BatchKeys {
    /// Batches of up to [`BATCH`] records, named by the file's hash and their index.
    Numbered { hash: String, next: u64 },
    /// One batch, however many records, under the caller's name.
    One(String),
}

struct Run<'a> {
    registry: &'a Registry,
    keys: BatchKeys,
    summary: ImportSummary,
    rejects: Vec<Reject>,
    /// The batch so far: each record's line and event.
    batch: Vec<(u64, Event)>,
    recorded_at: i64,
}

impl<'a> Run<'a> {
    fn new(registry: &'a Registry, keys: BatchKeys, file: PathBuf, recorded_at: i64) -> Self {
        Run {
            registry,
            keys,
            summary: ImportSummary {
                file,
                ..ImportSummary::default()
            },
            rejects: Vec::new(),
            batch: Vec::new(),
            recorded_at,
        }
    }
}

impl Run<'_> {
    fn push(&mut self, line: u64, event: Event) -> Result<(), RegistryError> {
        self.summary.records += 1;
        self.batch.push((line, event));
        if matches!(self.keys, BatchKeys::Numbered { .. }) && self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Adds a parsed DMF record as its event, or rejects it with the reason.
    fn push_dmf(
        &mut self,
        rec: &DmfRecord,
        file: &str,
        line: u64,
        today: Date,
    ) -> Result<(), RegistryError> {
        match dmf_event(rec, file, line, today) {
            Ok(event) => self.push(line, event),
            Err((field, reason)) => {
                self.reject(line, field, reason);
                Ok(())
            }
        }
    }

    fn reject(&mut self, line: u64, field: &str, reason: impl ToString) {
        self.summary.records += 1;
        self.summary.rejected += 1;
        self.rejects.push(Reject {
            line,
            field: field.to_owned(),
            reason: reason.to_string(),
        });
    }

    fn flush(&mut self) -> Result<(), RegistryError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let key = match &mut self.keys {
            BatchKeys::Numbered { hash, next } => {
                *next += 1;
                format!("import:{hash}:{}", *next - 1)
            }
            BatchKeys::One(key) => key.clone(),
        };
        // In SSN order the store's per-person index is written page after page rather than
        // all over; records of one SSN keep their order (the sort is stable).
        self.batch.sort_by_key(|(_, event)| event.ssn());
        let people: Vec<bool> = self
            .batch
            .iter()
            .map(|(_, e)| matches!(e, Event::Person(_)))
            .collect();
        let (lines, subs): (Vec<u64>, Vec<Submission>) = self
            .batch
            .drain(..)
            .map(|(line, event)| {
                (
                    line,
                    Submission {
                        event,
                        idempotency_key: None,
                    },
                )
            })
            .unzip();
        let results = self
            .registry
            .submit_batch(subs, Some(key), self.recorded_at)?;
        for ((line, result), person) in lines.into_iter().zip(results).zip(people) {
            match result {
                Ok(a) if a.outcome == Outcome::Duplicate => self.summary.already_imported += 1,
                Ok(a) => {
                    self.summary.events_added += 1;
                    self.summary.held += u64::from(matches!(a.outcome, Outcome::Held { .. }));
                }
                Err(r) => {
                    // The only check of a numberholder record is that it is the person on file.
                    self.summary.conflicts += u64::from(person);
                    self.summary.rejected += 1;
                    self.rejects.push(Reject {
                        line,
                        field: r.path.trim_start_matches("$.").to_owned(),
                        reason: r.reason,
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes the rejected records to `DATA/rejects/NAME.TAG.rejects.csv`, if there are any.
    fn write_rejects(&mut self, name: &str, tag: &str) -> Result<(), RegistryError> {
        if self.rejects.is_empty() {
            return Ok(());
        }
        let dir = self.registry.dir().join("rejects");
        let target = dir.join(format!("{name}.{tag}.rejects.csv"));
        let write_error = |source| RegistryError::Write {
            path: target.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(write_error)?;
        let mut w = csv::Writer::from_path(&target).map_err(|e| write_error(e.into()))?;
        write_row(&mut w, ["line", "field", "reason"]).map_err(|e| write_error(e.into()))?;
        self.rejects.sort_by_key(|r| r.line);
        for r in &self.rejects {
            write_row(&mut w, [r.line.to_string().as_str(), &r.field, &r.reason])
                .map_err(|e| write_error(e.into()))?;
        }
        w.flush().map_err(write_error)?;
        self.summary.rejects_file = Some(target);
        Ok(())
    }
}

/// Why a file whose first line is `head` is not a numberholder file or a DMF file, if it is not:
/// said with what it looks like and which command takes it.
fn not_importable(start: &[u8], head: &str, is_csv: bool) -> Option<String> {
    use dmf_format::FileKind;
    let kind = dmf_format::sniff(start);
    if !matches!(
        kind,
        FileKind::Dmf | FileKind::Csv { .. } | FileKind::Text { .. }
    ) {
        let hint = kind.hint().map(|h| format!("; {h}")).unwrap_or_default();
        return Some(format!(
            "it is {kind}, not a numberholder CSV or a DMF file{hint}"
        ));
    }
    let head = head.trim_start_matches('\u{feff}');
    if !is_csv {
        return (head.len() != dmf_format::RECORD_LEN).then(|| {
            format!(
                "line 1 is {} characters: neither a DMF file (100-character records) nor a numberholder CSV (a header naming ssn, first and last)",
                head.chars().count()
            )
        });
    }
    let columns: Vec<String> = head
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let unknown: Vec<&str> = columns
        .iter()
        .map(String::as_str)
        .filter(|c| !PEOPLE_COLUMNS.contains(c))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let looks = if unknown.contains(&"match_probability") || unknown.contains(&"client_id") {
        " It looks like the result of `dmf match`: matches are not people to import."
    } else if unknown.contains(&"id") {
        " It looks like a client file (it has an id column): `dmf match --client FILE` matches it against the file."
    } else {
        ""
    };
    Some(format!(
        "line 1: not a numberholder file: column{} {} (a numberholder file has only {}); nothing was imported.{looks}",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.join(", "),
        PEOPLE_COLUMNS.join(", ")
    ))
}

/// SHA-256 of the file's bytes, in hex: the identity of an import.
fn file_hash(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A label as a file name: runs of anything but letters, digits, `.` and `-` become `_`.
fn file_name_of(label: &str) -> String {
    let mut name = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    // Long labels are cut: the tag after the name keeps files apart.
    name.truncate(100);
    if name.is_empty() {
        name.push_str("input");
    }
    name
}

fn read_people(
    run: &mut Run<'_>,
    file: File,
    path: &Path,
    progress: &dyn Fn(u64),
) -> Result<(), RegistryError> {
    let input_error = |reason: String| RegistryError::Input {
        path: path.to_owned(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| input_error(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(c_ssn), Some(c_first), Some(c_last)) =
        (column("ssn"), column("first"), column("last"))
    else {
        return Err(input_error(format!(
            "the header must name ssn, first and last columns (found {})",
            headers.join(",")
        )));
    };
    let (c_middle, c_suffix, c_sex, c_dob, c_state) = (
        column("middle"),
        column("suffix"),
        column("sex"),
        column("dob"),
        column("birth_state"),
    );
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                run.reject(line, "", e);
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let ssn = match get(Some(c_ssn)).unwrap_or("").parse::<Ssn>() {
            Ok(ssn) => ssn,
            Err(e) => {
                run.reject(line, "ssn", e);
                continue;
            }
        };
        let name = match PersonName::parse(
            get(Some(c_first)).unwrap_or(""),
            get(c_middle),
            get(Some(c_last)).unwrap_or(""),
            get(c_suffix),
        ) {
            Ok(n) => n,
            Err((field, e)) => {
                run.reject(line, field, e);
                continue;
            }
        };
        let dob = match get(c_dob).map(str::parse).transpose() {
            Ok(d) => d,
            Err(e) => {
                run.reject(line, "dob", e);
                continue;
            }
        };
        let sex = match get(c_sex).map(|s| s.to_ascii_uppercase()) {
            None => None,
            Some(s) if s == "F" => Some(Sex::Female),
            Some(s) if s == "M" => Some(Sex::Male),
            Some(other) => {
                run.reject(line, "sex", format!("{other:?} is not F or M"));
                continue;
            }
        };
        let person = PersonRecord {
            ssn,
            name,
            sex,
            dob,
            birth_state: get(c_state).map(str::to_owned),
        };
        run.push(line, Event::Person(person))?;
        if run.summary.records.is_multiple_of(65_536) {
            progress(run.summary.records);
        }
    }
    progress(run.summary.records);
    Ok(())
}

fn read_dmf(
    run: &mut Run<'_>,
    file: File,
    path: &Path,
    today: Date,
    progress: &dyn Fn(u64),
) -> Result<(), RegistryError> {
    let name = path
        .file_name()
        .map_or("input".into(), |n| n.to_string_lossy().into_owned());
    let mut reader = DmfReader::new(file);
    while let Some(rec) = reader.next_record().map_err(|source| RegistryError::Read {
        path: path.to_owned(),
        source,
    })? {
        match rec {
            Ok(rec) => {
                let line = run.summary.records + 1;
                run.push_dmf(&rec, &name, line, today)?;
            }
            Err(e) => {
                let first = &e.errors[0];
                let (from, to) = first.field.columns();
                let reasons: Vec<String> = e.errors.iter().map(|f| f.to_string()).collect();
                run.reject(
                    e.line,
                    &format!("{} ({from}-{to})", first.field.name()),
                    reasons.join("; "),
                );
            }
        }
        if run.summary.records.is_multiple_of(65_536) {
            progress(run.summary.records);
        }
    }
    progress(run.summary.records);
    Ok(())
}

/// The event a DMF record stands for: a death from the earlier master file, or its withdrawal.
fn dmf_event(
    rec: &DmfRecord,
    file: &str,
    line: u64,
    today: Date,
) -> Result<Event, (&'static str, String)> {
    let evidence = Reference::new(&format!("DMF file {file}, line {line}"))
        .map_err(|e| ("evidence", e.to_string()))?;
    let ssn = rec.ssn();
    if rec.change() == ChangeCode::Delete {
        return Ok(Event::ImportDelete(ImportDelete { ssn, evidence }));
    }
    let first = if rec.first().is_empty() {
        None
    } else {
        Some(rec.first())
    };
    let name = PersonName::parse(
        first.ok_or(("first name", "it is blank".to_owned()))?,
        Some(rec.middle()),
        rec.last(),
        Some(rec.suffix()),
    )
    .map_err(|(field, e)| (field, e.to_string()))?;
    let dod = rec
        .dod()
        .ok_or(("date of death", "it is blank".to_owned()))?;
    let subject = Subject {
        ssn,
        name: name.into(),
        dob: rec.dob(),
        sex: None,
    };
    let report = DeathReport::new(
        subject,
        dod,
        DeathSource::FederalAgency,
        evidence,
        rec.verification(),
    )
    .map_err(|e| ("date of death", e.to_string()))?;
    let change = if rec.change() == ChangeCode::Change {
        ImportedChange::Change
    } else {
        ImportedChange::Add
    };
    Ok(Event::DeathReport(ReportEvent {
        report,
        received: today,
        origin: Origin::Imported { change },
        supersedes: None,
    }))
}
