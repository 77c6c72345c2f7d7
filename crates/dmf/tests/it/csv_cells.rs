//! Every CSV the binary writes is safe to open in a spreadsheet: a cell that would start a
//! formula is written with a single quote in front, and the project's readers take it off.

use super::{dmf, s, stderr, stdout};

/// A DMF record of the fixed-width layout.
fn record(ssn: &str, last: &str, first: &str, dob: &str) -> String {
    let line = format!(
        "{:1}{ssn:9}{last:20}{:4}{first:15}{:15} {:8}{dob:8}",
        "", "", "", "03152001"
    );
    format!("{line:100}\n")
}

/// The cells of a CSV text, header included.
fn cells(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// No cell starts a formula: a cell starting with `-` is a number.
fn assert_no_formula(what: &str, rows: &[Vec<String>]) {
    for cell in rows.iter().flatten() {
        let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
            || cell.starts_with('-') && cell.parse::<f64>().is_err();
        assert!(!formula, "{what}: {cell:?} opens as a formula in {rows:?}");
    }
}

/// Issue 21: a name or id such as `=HYPERLINK(...)`, `-` or `@SUM(...)` went into the CSV of
/// `format convert` and `match` as it was, and a spreadsheet opening the file ran it.
#[test]
fn a_name_starting_with_equals_is_neutralised_in_every_csv() {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("dmf.txt");
    std::fs::write(
        &master,
        [
            record("123456780", "WALKER", "ALICE", "07011958"),
            record("234567890", "JONES", "ROBERT", "01021930"),
            record("345678901", "SMITH", "MARY", "05061940"),
            record("456789012", "BROWN", "DAVID", "11121945"),
            record("567890123", "=1+2", "-", "03041950"),
        ]
        .concat(),
    )
    .unwrap();

    // format convert: the names as the file gives them, neutralised.
    let o = dmf(&["format", "convert", s(&master), "--to", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let converted = cells(&stdout(&o));
    assert_no_formula("format convert", &converted);
    let last = converted.iter().find(|r| r[1] == "567890123").unwrap();
    assert_eq!((&last[2][..], &last[4][..]), ("'=1+2", "'-"), "{last:?}");

    // match: client ids and extra columns (the header too) are the subscriber's text.
    let client = dir.path().join("c.csv");
    std::fs::write(
        &client,
        "id,ssn,first,last,dob,=note\n\
         =A1,123456780,Alice,Walker,1958-07-01,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n\
         @A2,234567890,Robert,Jones,1930-01-02,-\n\
         +A3,345678901,Mary,Smith,1940-05-06,@SUM(A1)\n\
         -A4,456789012,David,Brown,1945-11-12,plain\n",
    )
    .unwrap();
    let out = dir.path().join("m.csv");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "-q",
            "match",
            "--client",
            s(&client),
            "--master",
            s(&master),
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        let o = dmf(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    run(&[]);
    let matches = cells(&std::fs::read_to_string(&out).unwrap());
    assert_no_formula("match", &matches);
    assert_eq!(matches[0].last().unwrap(), "'=note");
    let row = |id: &str| {
        matches
            .iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("no row {id} in {matches:?}"))
    };
    assert_eq!(
        (&row("'=A1")[1][..], &row("'=A1").last().unwrap()[..]),
        ("123456780", "'=HYPERLINK(\"http://x\",\"y\")")
    );
    assert_eq!(row("'@A2").last().unwrap(), "'-");
    assert_eq!(row("'+A3").last().unwrap(), "'@SUM(A1)");
    assert_eq!(row("'-A4").last().unwrap(), "plain");

    // The labels file holds the ids as the report exports them, neutralised; `--labels` reads
    // them as the ids they stand for.
    let labels = dir.path().join("labels.csv");
    std::fs::write(
        &labels,
        "client_id,ssn,label\n'=A1,123456780,match\n'@A2,234567890,match\n'-A4,456789012,non-match\n",
    )
    .unwrap();
    let o = run(&["--labels", s(&labels), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["calibration"];
    assert_eq!(
        (&c["label_rows"], &c["not_found"], &c["labelled_pairs"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(0),
            &serde_json::json!(3)
        ),
        "{c}"
    );
}
