//! The DMF fixed-width reader: one line through `parse_record`, the whole input as a file
//! through `scan`, `scan_parallel` and `DmfReader`.
//!
//! Properties: the slice scan and the streaming reader agree (however the reader's input is
//! cut into reads); a parsed record keeps its line byte for byte, writes back as 100
//! characters that parse to the same record (under every change code when it has a date of
//! death), and its CSV and NDJSON forms read back to the same values; a record made from a
//! death parses back to itself.

#![no_main]

use std::io::Read;

use dmf_format::convert::COLUMNS;
use dmf_format::{
    ChangeCode, CsvWriter, DmfReader, DmfRecord, LineEnding, RECORD_LEN, Scan, ScanMode,
    parse_record, scan, scan_parallel, spreadsheet, write_ndjson, write_record,
};
use dmf_model::{DeathReport, DeathSource, PersonName, Reference, Subject, VerificationLevel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() <= 2 * RECORD_LEN {
        check_line(data);
    }
    check_file(data);
});

fn check_line(line: &[u8]) {
    match parse_record(line) {
        Ok(rec) => {
            // A short line reads as padded with blanks; the record keeps the line as read.
            assert!(line.len() <= RECORD_LEN);
            assert_eq!(&rec.as_bytes()[..line.len()], line);
            assert!(rec.as_bytes()[line.len()..].iter().all(|&b| b == b' '));
            check_record(&rec);
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error names at least one field");
            for e in &errors {
                let (from, to) = e.field.columns();
                assert!(1 <= from && from <= to && to <= RECORD_LEN);
                let _ = e.to_string();
            }
        }
    }
}

fn check_record(rec: &DmfRecord) {
    for ending in [LineEnding::Lf, LineEnding::CrLf] {
        let mut out = Vec::new();
        write_record(rec, ending, &mut out);
        assert_eq!(out.len(), RECORD_LEN + ending.bytes().len());
        assert_eq!(&out[..RECORD_LEN], rec.as_bytes());
        assert_eq!(parse_record(&out[..RECORD_LEN]).as_ref(), Ok(rec));
    }
    assert!(!rec.last().is_empty(), "a record has a last name");
    assert_eq!(rec.as_bytes()[0], rec.change().code());
    if rec.dod().is_some() {
        for change in ChangeCode::ALL {
            let other = rec.clone().with_change(change);
            assert_eq!(other.change(), change);
            assert_eq!(parse_record(other.as_bytes()), Ok(other.clone()));
        }
    } else {
        assert_eq!(
            rec.change(),
            ChangeCode::Delete,
            "only a delete lacks a date of death"
        );
    }
    check_converted(rec);
    check_from_death(rec);
}

/// The values of the CSV and NDJSON forms, from the record's getters.
fn expected(rec: &DmfRecord) -> [String; 12] {
    let date = |d: Option<dmf_model::PartialDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let verification = match rec.verification() {
        VerificationLevel::None => "",
        VerificationLevel::Verified => "V",
        VerificationLevel::ProofSeen => "P",
    };
    [
        rec.change().name().to_owned(),
        rec.ssn().to_string(),
        rec.last().to_owned(),
        rec.suffix().to_owned(),
        rec.first().to_owned(),
        rec.middle().to_owned(),
        verification.to_owned(),
        date(rec.dod()),
        date(rec.dob()),
        rec.state_code().unwrap_or_default().to_owned(),
        rec.residence_zip().unwrap_or_default().to_owned(),
        rec.payment_zip().unwrap_or_default().to_owned(),
    ]
}

fn check_converted(rec: &DmfRecord) {
    let want = expected(rec);

    let mut json = Vec::new();
    write_ndjson(rec, &mut json);
    assert_eq!(json.last(), Some(&b'\n'));
    assert_eq!(json.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).expect("write_ndjson writes a JSON object");
    for (key, value) in COLUMNS.iter().zip(&want) {
        match object.get(*key) {
            Some(v) => assert_eq!(v.as_str(), Some(value.as_str()), "ndjson {key}"),
            None => assert!(value.is_empty(), "ndjson leaves out only empty {key}"),
        }
    }
    assert!(object.keys().all(|k| COLUMNS.contains(&k.as_str())));

    let mut csv_out = CsvWriter::new(Vec::new()).expect("csv header");
    csv_out.write(rec).expect("csv row");
    let bytes = csv_out.finish().expect("csv finish");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("csv row")).collect();
    assert_eq!(rows.len(), 1);
    // Cells a spreadsheet would run are written neutralised; reading takes that off.
    let row: Vec<&str> = rows[0].iter().map(spreadsheet::restore).collect();
    assert_eq!(row, want.iter().map(String::as_str).collect::<Vec<_>>());
    for cell in rows[0].iter() {
        assert!(
            !cell.starts_with(['=', '+', '@', '\t', '\r']),
            "a formula in the CSV: {cell:?}"
        );
    }
}

/// A record made from a death with this record's values is a valid line that parses back to
/// itself and keeps the values.
fn check_from_death(rec: &DmfRecord) {
    let (Some(dod), Ok(name)) = (
        rec.dod(),
        PersonName::parse(
            rec.first(),
            Some(rec.middle()),
            rec.last(),
            Some(rec.suffix()),
        ),
    ) else {
        return;
    };
    let subject = Subject {
        ssn: rec.ssn(),
        name: name.clone().into(),
        dob: rec.dob(),
        sex: None,
    };
    let evidence = Reference::new("fuzz").expect("a reference");
    let Ok(report) = DeathReport::new(
        subject.clone(),
        dod,
        DeathSource::StateVitalRecords,
        evidence,
        rec.verification(),
    ) else {
        return;
    };
    let made = DmfRecord::from_death(rec.change(), rec.ssn(), &name, rec.dob(), report.death());
    assert_eq!(parse_record(made.as_bytes()), Ok(made.clone()));
    assert_eq!(made.ssn(), rec.ssn());
    assert_eq!(made.dod(), rec.dod());
    assert_eq!(made.dob(), rec.dob());
    assert_eq!(made.verification(), rec.verification());
    assert_eq!(made.change(), rec.change());
}

/// A reader that hands out at most `step` bytes a call, to exercise the reader's refills.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn check_file(data: &[u8]) {
    let all = ScanMode::AllErrors { keep: 4 };
    for mode in [ScanMode::FirstError, all] {
        let from_slice = scan(data, mode);
        let from_reader = DmfReader::new(data).scan(mode).expect("reading a slice");
        assert_eq!(
            from_slice, from_reader,
            "scan and DmfReader disagree ({mode:?})"
        );
        let step = 1 + data.len() % 13;
        let trickled = DmfReader::new(Trickle { data, step })
            .scan(mode)
            .expect("reading a slice");
        assert_eq!(from_slice, trickled, "DmfReader with reads of {step} bytes");
        check_summary(&from_slice, mode);
    }

    // Every record the reader gives round trips; their count is the scan's.
    let summary = scan(data, all).summary;
    let mut reader = DmfReader::new(data);
    let (mut records, mut errors, mut rewritten) = (0u64, 0u64, Vec::new());
    while let Some(next) = reader.next_record().expect("reading a slice") {
        match next {
            Ok(rec) => {
                records += 1;
                if records <= 4 {
                    check_record(&rec);
                }
                write_record(&rec, LineEnding::Lf, &mut rewritten);
            }
            Err(e) => {
                errors += 1;
                assert!(!e.errors.is_empty());
            }
        }
    }
    assert_eq!(records, summary.records());
    assert_eq!(errors, summary.error_lines);
    if errors == 0 {
        // A valid file written back is a valid file of the same records; byte for byte when
        // its lines were all full-length with LF ends.
        let again = scan(&rewritten, all).summary;
        assert_eq!(again.records(), records);
        assert_eq!(again.by_change, summary.by_change);
        assert_eq!(again.error_lines, 0);
        if summary.short_lines == 0 && summary.crlf_lines == 0 && data.ends_with(b"\n") {
            assert_eq!(rewritten, data);
        }
    }

    // The parallel scan cuts only inputs of 1 MiB or more: inputs of a multiple of 64 bytes
    // are repeated to that size and checked against the plain scan, in one mode on two or
    // three threads as the length picks (a megabyte's scans cost more than all the rest).
    if !data.is_empty() && data.len().is_multiple_of(64) {
        let copies = (1usize << 20).div_ceil(data.len());
        let big = data.repeat(copies);
        let pick = data.len() / 64;
        let mode = [ScanMode::FirstError, all][pick % 2];
        let threads = 2 + pick / 2 % 2;
        assert_eq!(
            scan_parallel(&big, mode, threads),
            scan(&big, mode),
            "scan_parallel on {threads} threads ({mode:?})"
        );
    }
}

fn check_summary(s: &Scan, mode: ScanMode) {
    let sum = &s.summary;
    assert!(sum.lf_lines + sum.crlf_lines <= sum.lines);
    assert!(sum.short_lines <= sum.records());
    assert!(sum.partial_dod <= sum.records());
    assert!(sum.missing_dob <= sum.records());
    assert_eq!(sum.by_verification.iter().sum::<u64>(), sum.records());
    match mode {
        ScanMode::FirstError => {
            assert!(sum.error_lines <= 1);
            assert_eq!(s.errors.len() as u64, sum.error_lines);
        }
        ScanMode::AllErrors { keep } => {
            assert_eq!(sum.lines, sum.records() + sum.error_lines);
            assert_eq!(s.errors.len() as u64, sum.error_lines.min(keep as u64));
        }
    }
    for pair in s.errors.windows(2) {
        assert!(pair[0].line < pair[1].line);
    }
    for e in &s.errors {
        assert!(1 <= e.line && e.line <= sum.lines);
    }
}
