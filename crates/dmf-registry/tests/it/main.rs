//! Imports end to end: files on disk into a registry on disk, idempotent, with rejects.

mod identity_corpus;
mod schema;
mod snapshot;

use std::path::Path;

use dmf_model::Date;
use dmf_registry::answers::{self, IdentityQuery};
use dmf_registry::{Registry, apply_dmf_records, import_file};

fn today() -> Date {
    "2026-11-23".parse().unwrap()
}

fn line(change: &str, ssn: &str, last: &str, first: &str, dod: &str, dob: &str) -> String {
    let s = format!(
        "{change:1}{ssn:9}{last:20}{:4}{first:15}{:15} {dod:8}{dob:8}",
        "", ""
    );
    format!("{s:100}\n")
}

fn identity_code(reg: &Registry, ssn: &str, first: &str, last: &str, dob: &str) -> &'static str {
    let q = IdentityQuery {
        ssn: ssn.parse().unwrap(),
        first: first.into(),
        last: last.into(),
        dob: dob.parse().unwrap(),
    };
    answers::identity(&q, reg.state_of(q.ssn).unwrap().as_ref())
        .code
        .code()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn full_and_update_files_apply_per_ssn_and_reimports_add_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::init(&dir.path().join("data"), None).unwrap();
    let full = [
        line("", "123456789", "SMITH", "JOHN", "03152001", "01021930"),
        line("", "234567890", "DOE", "JANE", "00001999", "00001920"),
        line("", "345678901", "ROE", "", "03152001", "01021930"),
        line("", "000111222", "BAD", "SSN", "03152001", "01021930"),
    ]
    .concat();
    let full = write(dir.path(), "ssdm1.txt", &full);
    let s = import_file(&reg, &full, today(), 0, &|_| {}).unwrap();
    assert_eq!(
        (s.format, s.records, s.events_added, s.rejected),
        ("dmf", 4, 2, 2)
    );
    let rejects = std::fs::read_to_string(s.rejects_file.unwrap()).unwrap();
    assert_eq!(
        rejects,
        "line,field,reason\n3,first name,it is blank\n4,ssn (2-10),columns 2-10 (ssn): area 000 is never issued\n"
    );
    assert_eq!(
        identity_code(&reg, "123456789", "John", "Smith", "1930-01-02"),
        "X"
    );

    let again = import_file(&reg, &full, today(), 0, &|_| {}).unwrap();
    assert_eq!((again.events_added, again.already_imported), (0, 2));

    let update = [
        line("D", "123456789", "SMITH", "JOHN", "03152001", "01021930"),
        line("C", "234567890", "DOE", "JANE", "07041999", ""),
    ]
    .concat();
    let update = write(dir.path(), "update1.txt", &update);
    let s = import_file(&reg, &update, today(), 0, &|_| {}).unwrap();
    assert_eq!((s.events_added, s.rejected), (2, 0));
    assert_eq!(
        identity_code(&reg, "123456789", "John", "Smith", "1930-01-02"),
        "1",
        "deleted: no longer on file"
    );
    let jane = reg.state_of("234567890".parse().unwrap()).unwrap().unwrap();
    assert_eq!(jane.death.unwrap().dod.to_string(), "1999-07-04");
    assert_eq!(reg.store().head().unwrap(), 4);
}

#[test]
fn people_files_map_columns_by_header_and_reject_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::init(&dir.path().join("data"), None).unwrap();
    // A column a numberholder file does not have: the whole file is refused, nothing stored.
    let csv = "dob,last,first,ssn,extra\n1980-05-17,Walker,Alice,123456789,x\n";
    let path = write(dir.path(), "extra.csv", csv);
    let err = import_file(&reg, &path, today(), 0, &|_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a numberholder file: column extra"),
        "{err:#}"
    );
    assert_eq!(reg.store().head().unwrap(), 0);
    let csv = "dob,last,first,ssn\n1980-05-17,Walker,Alice,123456789\n1980-13-01,Walker,Bob,234567890\n,Lee,Ann,999000111\n";
    let path = write(dir.path(), "people.csv", csv);
    let s = import_file(&reg, &path, today(), 0, &|_| {}).unwrap();
    assert_eq!(
        (s.format, s.records, s.events_added, s.rejected),
        ("people", 3, 1, 2)
    );
    let rejects = std::fs::read_to_string(s.rejects_file.unwrap()).unwrap();
    assert_eq!(
        rejects,
        "line,field,reason\n3,dob,month 13 does not exist\n4,ssn,areas 900-999 are never issued (area 999)\n"
    );
    assert_eq!(
        identity_code(&reg, "123456789", "Alice", "Walker", "1980-05-17"),
        "V"
    );
    assert_eq!(
        identity_code(&reg, "123456789", "Alice", "Walker", "1985-05-17"),
        "3"
    );
    assert_eq!(
        identity_code(&reg, "123456789", "Mary", "Jones", "1980-05-17"),
        "5"
    );

    let bad = write(dir.path(), "nossn.csv", "first,dob\nx,1980\n");
    let err = import_file(&reg, &bad, today(), 0, &|_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("the header must name ssn, first and last columns"),
        "{err:#}"
    );
}

#[test]
fn a_second_writer_is_refused_while_one_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let one = Registry::init(&data, None).unwrap();
    let two = Registry::open(&data).unwrap();
    let path = write(dir.path(), "p.csv", "ssn,first,last\n123456789,A,B\n");
    import_file(&one, &path, today(), 0, &|_| {}).unwrap();
    let err = import_file(&two, &path, today(), 0, &|_| {}).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("is being written by another process"),
        "{err}"
    );
    assert!(
        Registry::init(&data, None)
            .unwrap_err()
            .to_string()
            .ends_with("already holds a registry")
    );
    let missing = Registry::open(&dir.path().join("nothing")).unwrap_err();
    assert!(
        missing.to_string().starts_with("no registry at"),
        "{missing}"
    );
}

#[test]
fn dmf_records_apply_as_one_batch_once() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::init(&dir.path().join("data"), None).unwrap();
    let parse = |lines: &[String]| -> Vec<dmf_format::DmfRecord> {
        lines
            .iter()
            .map(|l| dmf_format::parse_record(l.trim_end().as_bytes()).unwrap())
            .collect()
    };
    let apply = |records: &[dmf_format::DmfRecord], key: &str| {
        apply_dmf_records(&reg, records, "feed after 0", key.to_owned(), today(), 0).unwrap()
    };
    let adds = parse(&[
        line("A", "123456789", "SMITH", "JOHN", "03152001", "01021930"),
        line("A", "234567890", "DOE", "JANE", "00001999", "00001920"),
        line("A", "345678901", "ROE", "", "03152001", "01021930"),
    ]);
    let s = apply(&adds, "feed:0-3");
    assert_eq!(
        (s.format, s.records, s.events_added, s.rejected),
        ("dmf", 3, 2, 1)
    );
    let rejects_file = s.rejects_file.unwrap();
    let name = rejects_file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("feed_after_0.") && name.ends_with(".rejects.csv"),
        "{name}"
    );
    let rejects = std::fs::read_to_string(&rejects_file).unwrap();
    assert_eq!(rejects, "line,field,reason\n3,first name,it is blank\n");
    assert_eq!(
        identity_code(&reg, "123456789", "John", "Smith", "1930-01-02"),
        "X"
    );
    let jane = reg.state_of("234567890".parse().unwrap()).unwrap().unwrap();
    assert_eq!(
        jane.death.unwrap().dod.to_string(),
        "1999",
        "the partial date as given"
    );

    // A change and a delete in one batch apply in order.
    let updates = parse(&[
        line("C", "234567890", "DOE", "JANE", "07041999", ""),
        line("D", "123456789", "SMITH", "JOHN", "03152001", "01021930"),
    ]);
    let s = apply(&updates, "feed:3-5");
    assert_eq!((s.records, s.events_added, s.rejected), (2, 2, 0));
    assert_eq!(s.rejects_file, None);
    let jane = reg.state_of("234567890".parse().unwrap()).unwrap().unwrap();
    assert_eq!(jane.death.unwrap().dod.to_string(), "1999-07-04");
    assert_eq!(
        identity_code(&reg, "123456789", "John", "Smith", "1930-01-02"),
        "1",
        "deleted: no longer on file"
    );
    assert_eq!(reg.store().head().unwrap(), 4);

    // A batch retried under its key is skipped whole, even after later batches.
    let again = apply(&adds, "feed:0-3");
    assert_eq!((again.events_added, again.already_imported), (0, 2));
    let again = apply(&updates, "feed:3-5");
    assert_eq!((again.events_added, again.already_imported), (0, 2));
    assert_eq!(reg.store().head().unwrap(), 4);
    assert_eq!(
        identity_code(&reg, "123456789", "John", "Smith", "1930-01-02"),
        "1"
    );
    let none = apply(&[], "feed:5-5");
    assert_eq!((none.records, none.events_added), (0, 0));
}

/// Found by the `ndjson` fuzz target: a stored body holding an escape that JSON does not have
/// (the fuzzer's `{"t":"\s"}`), or bytes that are not UTF-8, was read as a canonical event, and
/// in a clear field it made a leaf that is not JSON.
#[test]
fn a_leaf_refuses_a_body_that_is_not_json() {
    use dmf_ledger::leaf::{EventRef, LeafKey, leaf};
    let key = LeafKey::new(&[7; 32]);
    let leaf_of = |body: &[u8]| {
        leaf(
            &key,
            dmf_registry::public::leaf_fields,
            EventRef {
                seq: 1,
                kind: "status_notice",
                subject: None,
                idempotency_key: None,
                recorded_at: 0,
                body,
            },
        )
    };
    for body in [
        &br#"{"t":"\s"}"#[..],
        br#"{"kind":"\s"}"#,
        br#"{"kind":"\u12"}"#,
        br#"{"kind":"x\"}"#,
        b"{\"kind\":\"\xff\"}",
    ] {
        let refused = leaf_of(body);
        assert!(
            refused.is_err(),
            "{:?}: {refused:?}",
            String::from_utf8_lossy(body)
        );
    }
    // The escapes JSON has still read, and the clear value stays as written.
    let made = leaf_of(br#"{"kind":"a\"b\\c\/d\u00e9\n","ssn":"123456789"}"#).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&made).unwrap();
    assert_eq!(v["kind"], "a\"b\\c/d\u{e9}\n");
}

/// Found with the `api_request` fuzz target: a status notice sent at the end of 2199 (the last
/// supported year) panicked while its contest deadline was computed, in `dmf submit` and in
/// `POST /v1/notices/status` alike. Such a notice is now refused at `$.notice_sent`: the
/// person's contest period must fit, never be cut short.
#[test]
fn a_notice_sent_at_the_end_of_the_calendar_is_refused_not_cut_short() {
    let line = r#"{"type":"status_notice","ssn":"345678901","kind":"benefits_suspended","authority":"DHS","legal_basis":"20 CFR 404","document":"doc 4","effective":"2199-12-20","notice_sent":"2199-12-31"}"#;
    // Recorded on the day it was sent (a notice sent after the day it is recorded is refused).
    let day = |d: &str| -> Date { d.parse().unwrap() };
    let err = dmf_registry::parse_line(line, day("2199-12-31")).unwrap_err();
    assert_eq!(err.path, "$.notice_sent", "{err:?}");
    assert!(err.reason.contains("too late"), "{err:?}");
    let ok = line
        .replace("2199-12-31", "2199-11-20")
        .replace("2199-12-20", "2199-11-20");
    let sub = dmf_registry::parse_line(&ok, day("2199-11-20")).unwrap();
    let dmf_registry::Event::StatusNotice(n) = &sub.event else {
        panic!("a status notice: {:?}", sub.event);
    };
    assert!(n.contest_deadline > n.notice_sent);
}
