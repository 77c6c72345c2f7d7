//! The mirror's checks of what it is given: the registry's URL and the pages of its feed.

use super::*;

#[test]
fn a_base_url_is_plain_http_without_query() {
    let check = |given: &str, expect: Result<&str, &str>| {
        let got = base_url(given).map_err(|e| e.to_string());
        match expect {
            Ok(url) => assert_eq!(got.as_deref(), Ok(url), "{given}"),
            Err(part) => assert!(
                got.as_ref().is_err_and(|e| e.contains(part)),
                "{given}: {got:?}"
            ),
        }
    };
    check("http://host:8080/", Ok("http://host:8080"));
    check(" http://host ", Ok("http://host"));
    check("https://host", Err("plain HTTP only"));
    check("host:8080", Err("expected an http:// URL"));
    check("http://", Err("expected an http:// URL"));
    check("http://#top", Err("expected the registry's base URL"));
    check(
        "http://host/?after=1",
        Err("expected the registry's base URL"),
    );
}

const LINE: &str = " 001010001MUZZEY                  GRACE                          1200197504161902                   ";

fn page(change: &str, ssn: &str, line: &str) -> Page {
    Page {
        cursor: 7,
        records: vec![FeedRecord {
            change: change.to_owned(),
            ssn: ssn.to_owned(),
            line: line.to_owned(),
        }],
    }
}

#[test]
fn a_page_that_contradicts_itself_is_refused_whole() {
    let check = |p: Page, expect: Option<&str>| {
        let got = parse_page(&p, 3).map_err(|e| e.to_string());
        match expect {
            None => assert_eq!(got.map(|r| r.len()), Ok(1)),
            Some(part) => assert!(got.as_ref().is_err_and(|e| e.contains(part)), "{got:?}"),
        }
    };
    check(page("", "001010001", LINE), None);
    check(page("A", "001010001", &format!("{LINE}\r\n")), None);
    check(
        page("D", "001010001", LINE),
        Some("change \"D\" but the line holds ' '"),
    );
    check(
        page("", "001010002", LINE),
        Some("ssn \"001010002\" but the line holds 001010001"),
    );
    check(
        page("", "001010001", "short"),
        Some("record 1 of the feed page after cursor 3"),
    );
}

#[test]
fn a_folder_holding_another_registry_is_not_mirrored_into() {
    let dir = tempfile::tempdir().unwrap();
    Registry::init(dir.path(), None).unwrap();
    let registry = Registry::open(dir.path()).unwrap();
    let rec = dmf_format::parse_record(LINE.as_bytes()).unwrap();
    let today = dmf_model::Date::new(2026, 1, 2).unwrap();
    let summary = dmf_registry::apply_dmf_records(&registry, &[rec], "test", "k".into(), today, 0);
    assert_eq!(summary.unwrap().events_added, 1);
    drop(registry);
    let err = Mirror::open(dir.path(), "http://r")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("holds a registry that is not a mirror"),
        "{err}"
    );
}
