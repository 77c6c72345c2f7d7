//! Tests of the DMF reader and writer: real lines, errors, round trips, parallel scans.

use proptest::prelude::*;

use crate::*;

const SAMPLES: [&str; 3] = [
    include_str!("../testdata/ssdm1.txt"),
    include_str!("../testdata/ssdm2.txt"),
    include_str!("../testdata/ssdm3.txt"),
];

/// Renders a parse result on one line: the fields, or the errors.
fn render(line: &str) -> String {
    match parse_record(line.as_bytes()) {
        Ok(r) => format!(
            "{} {} {}|{}|{}|{} {} dod={} dob={} tail={:?}/{:?}/{:?}",
            r.change().name(),
            r.ssn(),
            r.last(),
            r.suffix(),
            r.first(),
            r.middle(),
            r.verification().code() as char,
            r.dod().map_or("-".into(), |d| d.to_string()),
            r.dob().map_or("-".into(), |d| d.to_string()),
            r.state_code(),
            r.residence_zip(),
            r.payment_zip(),
        ),
        Err(errors) => {
            let parts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            format!("error {}", parts.join("; "))
        }
    }
}

fn check(line: &str, expect: &str) {
    assert_eq!(render(line), expect, "line {line:?}");
}

/// A 100-character line from its fields: change, ssn, last, first, middle, verification,
/// date of death, date of birth.
fn line(f: [&str; 8]) -> String {
    let [change, ssn, last, first, middle, v, dod, dob] = f;
    let s = format!(
        "{change:1}{ssn:9}{last:20}{:4}{first:15}{middle:15}{v:1}{dod:8}{dob:8}",
        ""
    );
    format!("{s:100}")
}

#[test]
fn real_lines_parse() {
    let lines: Vec<&str> = SAMPLES.iter().flat_map(|s| s.lines()).collect();
    assert_eq!(lines.len(), 30);
    check(
        lines[0],
        "full 001010001 MUZZEY||GRACE|   dod=1975-12 dob=1902-04-16 tail=None/None/None",
    );
    check(
        lines[3],
        "full 001010011 DREW||LEON|R V dod=1987-08-30 dob=1908-06-14 tail=None/None/None",
    );
    check(
        lines[10],
        "full 242250440 JONES||JERRY|L P dod=2011-02-13 dob=1964-08-06 tail=None/None/None",
    );
    check(
        lines[24],
        "full 427528263 ZEIGLER||J EDWARD| V dod=2005-07-23 dob=1931-07-02 tail=None/None/None",
    );
}

#[test]
fn real_lines_round_trip_byte_exact() {
    for sample in SAMPLES {
        let mut out = Vec::new();
        let scan = scan(sample.as_bytes(), ScanMode::FirstError);
        assert_eq!(scan.errors, vec![]);
        assert_eq!(scan.summary.records(), 10);
        for l in sample.lines() {
            write_record(
                &parse_record(l.as_bytes()).unwrap(),
                LineEnding::Lf,
                &mut out,
            );
        }
        assert_eq!(String::from_utf8(out).unwrap(), sample);
    }
}

#[test]
fn fields_and_partial_dates() {
    check(
        &line([
            "A",
            "123456789",
            "O'NEIL-SMITH",
            "MARY",
            "",
            "V",
            "00002001",
            "00000000",
        ]),
        "add 123456789 O'NEIL-SMITH||MARY| V dod=2001 dob=- tail=None/None/None",
    );
    check(
        &line(["D", "123456789", "SMITH", "JOHN", "Q", "", "", "02291960"]),
        "delete 123456789 SMITH||JOHN|Q   dod=- dob=1960-02-29 tail=None/None/None",
    );
    let mut with_tail = line(["", "123456789", "SMITH", "JOHN", "", "", "01011990", ""]);
    with_tail.replace_range(81..93, "3312345 6789");
    check(
        &with_tail,
        "error columns 89-93 (payment zip): \" 6789\" is neither blank nor 5 digits",
    );
    with_tail.replace_range(81..93, "331234567890");
    check(
        &with_tail,
        "full 123456789 SMITH||JOHN|   dod=1990-01-01 dob=- tail=Some(\"33\")/Some(\"12345\")/Some(\"67890\")",
    );
}

#[test]
fn errors_name_columns_fields_and_reasons() {
    check(
        &line([
            "X",
            "000123456",
            "",
            "JOHN",
            "",
            "Q",
            "02301990",
            "13011900",
        ]),
        "error column 1 (change code): 'X' is not a change code (blank, A, C or D); \
         columns 2-10 (ssn): area 000 is never issued; \
         column 65 (verification): 'Q' is not a verification code (V, P or blank); \
         columns 66-73 (date of death): day 30 does not exist in 1990-02; \
         columns 74-81 (date of birth): month 13 does not exist; \
         columns 11-30 (last name): it is blank",
    );
    check(
        &line(["", "12345678 ", "SMITH", "", "", "", "01011990", ""]),
        "error columns 2-10 (ssn): an SSN has only digits, found ' ' at position 9",
    );
    check(
        &line(["", "", "SMITH", "", "", "", "01011990", ""]),
        "error columns 2-10 (ssn): it is blank",
    );
    check(
        &line(["", "123456789", "SMITH", "", "", "", "", ""]),
        "error columns 66-73 (date of death): it is blank",
    );
    check(
        &format!(
            "{}X",
            line(["", "123456789", "SMITH", "", "", "", "01011990", ""])
        ),
        "error columns 1-100 (line): the line is 101 characters long, a record has 100",
    );
    check("", "error columns 1-100 (line): the line is empty");
    check(
        " 123456789SM\u{e9}TH",
        "error columns 11-30 (last name): byte 0xC3 at column 13 is not printable ASCII",
    );
    check(
        " 123456789SMITH\tJ",
        "error columns 11-30 (last name): byte 0x09 at column 16 is not printable ASCII",
    );
}

#[test]
fn short_lines_read_as_padded() {
    let full = jones("242250440", "02132011");
    let short = full.trim_end();
    assert_eq!(short.len(), 81);
    assert_eq!(render(short), render(&full));
    let rec = parse_record(short.as_bytes()).unwrap();
    let mut out = Vec::new();
    write_record(&rec, LineEnding::CrLf, &mut out);
    assert_eq!(out, format!("{full}\r\n").into_bytes());
}

/// The line of JERRY L JONES, born 1964-08-06, with an SSN and a date of death.
fn jones(ssn: &str, dod: &str) -> String {
    line(["", ssn, "JONES", "JERRY", "L", "P", dod, "08061964"])
}

#[test]
fn scan_counts_and_line_ends() {
    let good = jones("242250440", "02132011");
    let bad = jones("666250440", "02002011");
    let text = format!("{good}\r\n{bad}\n{}\n{good}", good.trim_end());
    let all = scan(text.as_bytes(), ScanMode::AllErrors { keep: 10 });
    let s = &all.summary;
    assert_eq!(
        (s.lines, s.records(), s.error_lines, s.short_lines),
        (4, 3, 1, 1)
    );
    assert_eq!((s.crlf_lines, s.lf_lines), (1, 2));
    assert_eq!(all.errors.len(), 1);
    assert_eq!(
        all.errors[0].to_string(),
        "line 2: columns 2-10 (ssn): area 666 is never issued"
    );
    let first = scan(text.as_bytes(), ScanMode::FirstError);
    assert_eq!((first.summary.lines, first.errors.len()), (2, 1));
    let streamed = DmfReader::new(text.as_bytes())
        .scan(ScanMode::AllErrors { keep: 10 })
        .unwrap();
    assert_eq!(streamed, all);
}

/// Found by the `dmf_record` fuzz target: short lines whose second line feed falls 100 bytes
/// after a line's start were read by `scan` as one 100-character line (a wrong one, holding a
/// line feed), and a 99-character line ending in CR LF kept its CR, where `DmfReader` splits
/// and reads them; so did a CR ending the input.
#[test]
fn scan_splits_short_lines_as_the_reader_does() {
    let good = jones("242250440", "02132011");
    let trimmed = good.trim_end();
    let texts = [
        // 40 and 59 characters: the second line feed is the 101st byte.
        format!("{}\n{}\n{good}\n", &good[..40], &good[..59]),
        // A record of 99 characters ending in CR LF, then a full one.
        format!("{}\r\n{good}\n", &good[..99]),
        // The last line ends in a CR and no line feed.
        format!("{good}\n{trimmed}\r"),
        format!("{}\r", &good[..99]),
    ];
    for text in &texts {
        for mode in [ScanMode::FirstError, ScanMode::AllErrors { keep: 10 }] {
            let streamed = DmfReader::new(text.as_bytes()).scan(mode).unwrap();
            assert_eq!(scan(text.as_bytes(), mode), streamed, "{text:?}");
        }
    }
    let s = scan(texts[0].as_bytes(), ScanMode::AllErrors { keep: 10 }).summary;
    assert_eq!(
        (s.lines, s.error_lines),
        (3, 2),
        "two lines too short for a date of death"
    );
    let s = scan(texts[1].as_bytes(), ScanMode::AllErrors { keep: 10 }).summary;
    assert_eq!((s.lines, s.records(), s.crlf_lines), (2, 2, 1));
    let s = scan(texts[2].as_bytes(), ScanMode::AllErrors { keep: 10 }).summary;
    assert_eq!((s.lines, s.records()), (2, 2));

    // The fuzzer's input (16 bytes), repeated to the 1 MiB that `scan_parallel` cuts: its
    // parts start at other lines than the whole scan's 100-byte steps did.
    let crash = b" 0\x00 V8122 \n   \x00\n";
    let big = crash.repeat((1 << 20) / crash.len());
    let all = ScanMode::AllErrors { keep: 4 };
    let whole = scan(&big, all);
    assert_eq!(whole.summary.lines, 2 * (1 << 20) / crash.len() as u64);
    for threads in [2, 3] {
        assert_eq!(scan_parallel(&big, all, threads), whole);
    }
}

#[test]
fn parallel_scan_equals_serial() {
    let good = jones("242250440", "02132011");
    let bad = jones("242250440", "13132011");
    let mut text = String::new();
    for i in 0..40_000 {
        text.push_str(if i % 997 == 0 { &bad } else { &good });
        text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
    }
    for mode in [
        ScanMode::FirstError,
        ScanMode::AllErrors { keep: 7 },
        ScanMode::AllErrors { keep: 1000 },
    ] {
        let serial = scan(text.as_bytes(), mode);
        for threads in [2, 3, 8] {
            assert_eq!(
                scan_parallel(text.as_bytes(), mode, threads),
                serial,
                "{mode:?} {threads}"
            );
        }
    }
}

#[test]
fn reader_reads_long_and_unterminated_lines() {
    let long = "x".repeat(3 << 20);
    let text = format!("{long}\nlast");
    let mut reader = DmfReader::new(text.as_bytes());
    assert_eq!(
        reader.next_line().unwrap().map(|(n, l)| (n, l.len())),
        Some((1, long.len()))
    );
    assert_eq!(
        reader.next_line().unwrap().map(|(n, l)| (n, l.to_vec())),
        Some((2, b"last".to_vec()))
    );
    assert_eq!(reader.next_line().unwrap(), None);
}

#[test]
fn converts_to_csv_and_ndjson() {
    let mut csv = CsvWriter::new(Vec::new()).unwrap();
    let mut nd = Vec::new();
    for l in SAMPLES[2].lines().skip(4).take(1) {
        let rec = parse_record(l.as_bytes()).unwrap();
        csv.write(&rec).unwrap();
        write_ndjson(&rec, &mut nd);
    }
    assert_eq!(
        String::from_utf8(csv.finish().unwrap()).unwrap(),
        "change,ssn,last,suffix,first,middle,verification,dod,dob,state_code,residence_zip,payment_zip\n\
         full,427528263,ZEIGLER,,J EDWARD,,V,2005-07-23,1931-07-02,,,\n"
    );
    assert_eq!(
        String::from_utf8(nd).unwrap(),
        "{\"change\":\"full\",\"ssn\":\"427528263\",\"last\":\"ZEIGLER\",\"first\":\"J EDWARD\",\
         \"verification\":\"V\",\"dod\":\"2005-07-23\",\"dob\":\"1931-07-02\"}\n"
    );
}

/// Checks a cell: `expect` is how a CSV the project writes holds it, and reading it back gives
/// the cell again.
fn check_cell(cell: &str, expect: &str) {
    let written = spreadsheet::neutralise(cell);
    assert_eq!(written, expect, "cell {cell:?}");
    assert_eq!(
        spreadsheet::restore(&written),
        cell,
        "read back {written:?}"
    );
}

#[test]
fn cells_a_spreadsheet_reads_as_formulas_are_neutralised() {
    for (cell, expect) in [
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "'=HYPERLINK(\"http://x\",\"y\")",
        ),
        ("+1+1", "'+1+1"),
        ("-", "'-"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        // A negative number is no formula: quoted, it would be text.
        ("-3.215", "-3.215"),
        ("-7", "-7"),
        ("-3.", "'-3."),
        ("-.5", "'-.5"),
        ("--5", "'--5"),
        // A quote already in front gets one more, so that reading gives back what was written.
        ("'=1", "''=1"),
        ("''-x", "'''-x"),
        ("'-5", "''-5"),
        ("'abc", "'abc"),
        ("'", "'"),
        ("O'NEIL", "O'NEIL"),
        ("SMITH-JONES", "SMITH-JONES"),
        ("123456789", "123456789"),
        ("1958-07", "1958-07"),
        (" =1", " =1"),
        ("", ""),
    ] {
        check_cell(cell, expect);
    }
}

proptest! {
    #[test]
    fn a_neutralised_cell_reads_back_as_written(cell in "['=+@\\-\t\r a-z0-9.]{0,8}") {
        let written = spreadsheet::neutralise(&cell);
        prop_assert_eq!(spreadsheet::restore(&written), cell.as_str());
        prop_assert!(
            !written.starts_with(['=', '+', '@', '\t', '\r'])
                && (!written.starts_with('-') || written.parse::<f64>().is_ok()),
            "{:?} opens as a formula", written
        );
    }
}

/// Issue 21: `dmf format convert --to csv` wrote a name such as `=HYPERLINK(...)` as it is,
/// and a spreadsheet ran it.
#[test]
fn a_name_starting_with_equals_is_neutralised_in_the_converted_csv() {
    let mut line = SAMPLES[2].lines().nth(4).unwrap().to_owned();
    line.replace_range(10..30, "=1+2                ");
    line.replace_range(34..49, "-X             ");
    let rec = parse_record(line.as_bytes()).unwrap();
    let mut csv = CsvWriter::new(Vec::new()).unwrap();
    csv.write(&rec).unwrap();
    let text = String::from_utf8(csv.finish().unwrap()).unwrap();
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "full,427528263,'=1+2,,'-X,,V,2005-07-23,1931-07-02,,,"
    );
}

fn name_strategy(width: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z][A-Z '\\-]{{0,{}}}", width - 1))
        .unwrap()
        .prop_map(|s| s.trim_end().to_owned())
}

fn date_strategy() -> impl Strategy<Value = String> {
    (1800u16..2200, 0u8..=12, 0u8..=28).prop_map(|(y, m, d)| {
        let d = if m == 0 { 0 } else { d };
        format!("{m:02}{d:02}{y:04}")
    })
}

prop_compose! {
    fn valid_line()(
        change in prop::sample::select(vec![" ", "A", "C", "D"]),
        ssn in (1u16..900, 1u8..100, 1u16..10000).prop_filter("666", |(a, _, _)| *a != 666),
        last in name_strategy(20),
        suffix in prop::sample::select(vec!["", "JR", "SR", "III"]),
        first in name_strategy(15),
        middle in name_strategy(15),
        v in prop::sample::select(vec![" ", "V", "P"]),
        dod in date_strategy(),
        dob in prop::option::of(date_strategy()),
        tail in "([0-9]{2}|  )([0-9]{5}|     )([0-9]{5}|     )       ",
    ) -> String {
        let (a, g, s) = ssn;
        format!(
            "{change}{a:03}{g:02}{s:04}{last:20}{suffix:4}{first:15}{middle:15}{v}{dod}{:8}{tail}",
            dob.unwrap_or_default()
        )
    }
}

proptest! {
    #[test]
    fn random_records_round_trip(lines in prop::collection::vec(valid_line(), 1..20), crlf: bool) {
        let ending = if crlf { LineEnding::CrLf } else { LineEnding::Lf };
        let text: String = lines.iter().map(|l| format!("{l}{}", if crlf { "\r\n" } else { "\n" })).collect();
        let mut out = Vec::new();
        let mut reader = DmfReader::new(text.as_bytes());
        while let Some(rec) = reader.next_record().unwrap() {
            write_record(&rec.unwrap(), ending, &mut out);
        }
        prop_assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let all = scan(&bytes, ScanMode::AllErrors { keep: 100 });
        prop_assert_eq!(all.summary.lines, all.summary.records() + all.summary.error_lines);
        let _ = scan_parallel(&bytes, ScanMode::FirstError, 2);
    }

    #[test]
    fn mutated_lines_never_panic(line in valid_line(), at in 0usize..100, byte: u8) {
        let mut bytes = line.into_bytes();
        bytes[at] = byte;
        let _ = parse_record(&bytes);
    }

    /// The fast path agrees with the field-by-field path on every line, good or bad.
    #[test]
    fn fast_path_agrees_with_slow_path(
        line in valid_line(),
        edits in prop::collection::vec((0usize..100, prop::sample::select(b" 0129AVPD-\xff".to_vec())), 0..3),
    ) {
        let mut raw: [u8; RECORD_LEN] = line.as_bytes().try_into().unwrap();
        for (at, byte) in edits {
            raw[at] = byte;
        }
        let fast = crate::dmf::parse_fields(&raw);
        if crate::dmf::first_unprintable(&raw).is_none() {
            prop_assert_eq!(fast, crate::dmf::slow_fields(&raw));
        }
    }
}

/// The whole-record check of the scan's fast path meets the field-by-field parse on the edges
/// of each rule: every line here gives the same result either way, and the expected one.
#[test]
fn whole_record_check_agrees_on_the_edges_of_each_rule() {
    let base = line([
        "",
        "123456789",
        "SMITH",
        "JOHN",
        "",
        "V",
        "01011990",
        "02031920",
    ]);
    let at = |range: std::ops::Range<usize>, text: &str| {
        let mut l = base.clone();
        l.replace_range(range, text);
        l
    };
    let cases: Vec<(String, &str)> = vec![
        (base.clone(), "ok"),
        (at(65..73, "02291900"), "date of death: impossible"),
        (at(65..73, "02292000"), "ok"),
        (at(65..73, "02291996"), "ok"),
        (at(65..73, "04311990"), "date of death: impossible"),
        (at(65..73, "13001990"), "date of death: impossible"),
        (at(65..73, "00151990"), "date of death: impossible"),
        (at(65..73, "00001799"), "date of death: impossible"),
        (at(65..73, "00002199"), "ok"),
        (at(65..73, "00002200"), "date of death: impossible"),
        (at(65..73, "00000000"), "date of death: impossible"),
        (at(65..73, "0101199 "), "date of death: not digits"),
        (at(65..73, "        "), "date of death: blank"),
        (at(73..81, "00000000"), "ok"),
        (at(73..81, "        "), "ok"),
        (at(73..81, "0000    "), "date of birth: not digits"),
        (at(73..81, "00001920"), "ok"),
        (at(73..81, "12311920"), "ok"),
        (at(73..81, "12321920"), "date of birth: impossible"),
        (at(1..10, "000456789"), "ssn: area 000"),
        (at(1..10, "666456789"), "ssn: area 666"),
        (at(1..10, "900456789"), "ssn: area 900-999"),
        (at(1..10, "899456789"), "ok"),
        (at(1..10, "123006789"), "ssn: group 00"),
        (at(1..10, "123450000"), "ssn: serial 0000"),
        (at(1..10, "12345678 "), "ssn: not nine digits"),
        (at(1..10, "1234/6789"), "ssn: not nine digits"),
        (at(1..10, "1234:6789"), "ssn: not nine digits"),
        (at(0..1, "A"), "ok"),
        (at(0..1, "X"), "change code: not a change code"),
        (at(0..1, "D"), "ok"),
        (at(64..65, "P"), "ok"),
        (at(64..65, " "), "ok"),
        (at(64..65, "X"), "verification: not a verification code"),
        (at(10..30, " SMITH              "), "ok"),
        (at(10..30, "                    "), "last name: blank"),
        (at(81..93, "331234567890"), "ok"),
        (at(81..93, "  12345     "), "ok"),
        (at(81..93, "3 12345     "), "state code: not a state code"),
        (at(81..93, " 3          "), "state code: not a state code"),
        (at(81..93, "  1234 67890"), "residence zip: not a zip"),
        (at(81..93, "       6789 "), "payment zip: not a zip"),
        (at(81..93, "       A6789"), "payment zip: not a zip"),
        (at(93..100, "~~~~~~~"), "ok"),
        (at(99..100, "\x7f"), "filler: not printable"),
        (at(40..41, "\t"), "first name: not printable"),
    ];
    for (l, expect) in cases {
        let raw: [u8; RECORD_LEN] = l.as_bytes().try_into().unwrap();
        let got = crate::dmf::parse_fields(&raw);
        if crate::dmf::first_unprintable(&raw).is_none() {
            assert_eq!(got, crate::dmf::slow_fields(&raw), "{l:?}");
        }
        let kinds = got.map_or_else(
            |e| {
                e.iter()
                    .map(FieldError::kind)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            |_| "ok".to_owned(),
        );
        assert_eq!(kinds, expect, "{l:?}");
    }
}

proptest! {
    /// Damage confined to the fixed fields (digits, blanks, letters where digits belong, and
    /// the reverse), several places at once: the fast path still agrees with the slow one.
    #[test]
    fn fast_path_agrees_on_damaged_fixed_fields(
        line in valid_line(),
        edits in prop::collection::vec(
            (
                prop::sample::select((0..10).chain(64..100).collect::<Vec<usize>>()),
                prop::sample::select(b" 0123456789ACDPVX/:".to_vec()),
            ),
            0..6,
        ),
    ) {
        let mut raw: [u8; RECORD_LEN] = line.as_bytes().try_into().unwrap();
        for (at, byte) in edits {
            raw[at] = byte;
        }
        prop_assert_eq!(crate::dmf::parse_fields(&raw), crate::dmf::slow_fields(&raw));
    }

    /// A whole file scanned in memory counts and reports every line as the streaming reader
    /// does, one line at a time, with LF or CR LF ends and damaged lines among valid ones.
    #[test]
    fn scan_in_memory_equals_the_streaming_reader(
        lines in prop::collection::vec(
            (valid_line(), prop::option::of((0usize..100, prop::sample::select(b" 0X\r\n\xff".to_vec()))), any::<bool>()),
            1..30,
        ),
    ) {
        let mut text = Vec::new();
        for (l, edit, crlf) in lines {
            let mut raw = l.into_bytes();
            if let Some((at, byte)) = edit {
                raw[at] = byte;
            }
            text.extend_from_slice(&raw);
            text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        let mode = ScanMode::AllErrors { keep: 100 };
        let streamed = DmfReader::new(text.as_slice()).scan(mode).unwrap();
        prop_assert_eq!(&scan(&text, mode), &streamed);
        prop_assert_eq!(&scan_parallel(&text, mode, 2), &streamed);
    }
}

/// Renders a lenient parse on one line: the fields kept and the kinds of fault, or the errors.
fn render_lenient(line: &str) -> String {
    match parse_record_lenient(line.as_bytes()) {
        Ok(r) => {
            let faults: Vec<String> = r.faults().iter().map(FieldError::kind).collect();
            format!(
                "{} {} {}|{}|{}|{} {} dod={} dob={} faults=[{}]",
                r.change().name(),
                r.ssn(),
                r.last(),
                r.suffix(),
                r.first(),
                r.middle(),
                r.verification().code() as char,
                r.dod().map_or("-".into(), |d| d.to_string()),
                r.dob().map_or("-".into(), |d| d.to_string()),
                faults.join(", "),
            )
        }
        Err(errors) => {
            let parts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            format!("refused {}", parts.join("; "))
        }
    }
}

fn check_lenient(line: &str, expect: &str) {
    assert_eq!(render_lenient(line), expect, "line {line:?}");
}

#[test]
fn lenient_parse_keeps_the_other_fields() {
    // A valid record: no faults.
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            "V",
            "07232005",
            "07021931",
        ]),
        "full 123456789 JONES||MARY| V dod=2005-07-23 dob=1931-07-02 faults=[]",
    );
    // A blank surname: the rest kept.
    check_lenient(
        &line([
            " ",
            "123456789",
            "",
            "MARY",
            "ANN",
            " ",
            "07232005",
            "07021931",
        ]),
        "full 123456789 ||MARY|ANN   dod=2005-07-23 dob=1931-07-02 faults=[last name: blank]",
    );
    // SSNs of never-issued forms keep their nine digits.
    for (ssn, kind) in [
        ("123004567", "group 00"),
        ("123450000", "serial 0000"),
        ("000451234", "area 000"),
        ("666451234", "area 666"),
        ("987451234", "area 900-999"),
    ] {
        check_lenient(
            &line([" ", ssn, "JONES", "MARY", "", " ", "07232005", ""]),
            &format!("full {ssn} JONES||MARY|   dod=2005-07-23 dob=- faults=[ssn: {kind}]"),
        );
    }
    // Impossible dates keep the year, and the month when it is valid.
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "02301931",
        ]),
        "full 123456789 JONES||MARY|   dod=2005-07-23 dob=1931-02 faults=[date of birth: impossible]",
    );
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "13011931",
        ]),
        "full 123456789 JONES||MARY|   dod=2005-07-23 dob=1931 faults=[date of birth: impossible]",
    );
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "00151931",
        ]),
        "full 123456789 JONES||MARY|   dod=2005-07-23 dob=1931 faults=[date of birth: impossible]",
    );
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "07020031",
        ]),
        "full 123456789 JONES||MARY|   dod=2005-07-23 dob=- faults=[date of birth: impossible]",
    );
    check_lenient(
        &line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07322005",
            "0702193X",
        ]),
        "full 123456789 JONES||MARY|   dod=2005-07 dob=- faults=[date of death: impossible, date of birth: not digits]",
    );
    check_lenient(
        &line([" ", "123456789", "JONES", "MARY", "", " ", "", ""]),
        "full 123456789 JONES||MARY|   dod=- dob=- faults=[date of death: blank]",
    );
    // Several faults at once, and fields matching never reads.
    check_lenient(
        &format!(
            "{:81}XY12a4     ",
            line([" ", "123004567", "", "MARY", "", "Q", "07232005", ""]).trim_end()
        ),
        "full 123004567 ||MARY|   dod=2005-07-23 dob=- faults=[ssn: group 00, verification: not a verification code, last name: blank, state code: not a state code, residence zip: not a zip]",
    );
    // Lines that are no DMF record are still refused.
    check_lenient(
        &line([" ", "", "JONES", "MARY", "", " ", "07232005", ""]),
        "refused columns 2-10 (ssn): it is blank",
    );
    check_lenient(
        &line([" ", "12345678X", "JONES", "MARY", "", " ", "07232005", ""]),
        "refused columns 2-10 (ssn): an SSN has only digits, found 'X' at position 9",
    );
    check_lenient(
        &line(["X", "123456789", "JONES", "MARY", "", " ", "07232005", ""]),
        "refused column 1 (change code): 'X' is not a change code (blank, A, C or D)",
    );
    check_lenient(
        &format!(
            "{}x",
            line([" ", "123456789", "JONES", "MARY", "", " ", "07232005", ""])
        ),
        "refused columns 1-100 (line): the line is 101 characters long, a record has 100",
    );
    check_lenient("", "refused columns 1-100 (line): the line is empty");
    check_lenient(
        "<html><head><title>Not a DMF file</title></head></html>",
        "refused column 1 (change code): '<' is not a change code (blank, A, C or D); columns 2-10 (ssn): an SSN has only digits, found 'h' at position 1; columns 66-73 (date of death): it is blank",
    );
}

/// The regression the lenient reading fixes: `parse_record` refuses a line for one bad field,
/// and a master read with it lost the person.
#[test]
fn master_line_with_one_bad_field_is_kept() {
    let lines = [
        line([
            " ",
            "123456789",
            "",
            "MARY",
            "",
            " ",
            "07232005",
            "07021931",
        ]),
        line([
            " ",
            "123456789",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "02301931",
        ]),
        line([
            " ",
            "123004567",
            "JONES",
            "MARY",
            "",
            " ",
            "07232005",
            "07021931",
        ]),
    ];
    for l in &lines {
        assert!(parse_record(l.as_bytes()).is_err(), "strict refuses {l:?}");
        let r = parse_record_lenient(l.as_bytes()).expect("kept");
        assert_eq!(r.faults().len(), 1, "{l:?}");
    }
    let mut counts = FaultCounts::default();
    let text = lines.join("\n");
    let mut reader = DmfReader::new(text.as_bytes());
    while let Some(r) = reader.next_lenient().unwrap() {
        counts.add(&r.unwrap());
    }
    assert_eq!(counts.records, 3);
    assert_eq!(
        format!("{:?}", counts.by_kind),
        r#"{"date of birth: impossible": 1, "last name: blank": 1, "ssn: group 00": 1}"#
    );
}

#[test]
fn real_lines_read_the_same_leniently() {
    for l in SAMPLES.iter().flat_map(|s| s.lines()) {
        let strict = parse_record(l.as_bytes()).expect("valid");
        assert_eq!(
            parse_record_lenient(l.as_bytes()),
            Ok(LenientRecord::from(strict))
        );
    }
}

proptest! {
    /// A line `parse_record` accepts reads the same leniently, with no faults.
    #[test]
    fn strict_valid_lines_read_the_same_leniently(line in valid_line()) {
        let strict = parse_record(line.as_bytes()).expect("valid");
        let lenient = parse_record_lenient(line.as_bytes()).expect("kept");
        prop_assert!(lenient.faults().is_empty());
        prop_assert_eq!(&lenient, &LenientRecord::from(strict.clone()));
        prop_assert_eq!(lenient.issued_ssn(), Some(strict.ssn()));
        prop_assert_eq!((lenient.last(), lenient.first()), (strict.last(), strict.first()));
    }

    /// On any damaged line: a record the strict parse accepts has no faults; one it refuses is
    /// either refused leniently too, or kept with exactly the strict parse's errors as faults.
    #[test]
    fn lenient_faults_are_the_strict_errors(
        line in valid_line(),
        edits in prop::collection::vec((0usize..100, prop::sample::select(b" 0129AVPDX-\xff".to_vec())), 0..4),
    ) {
        let mut raw = line.into_bytes();
        for (at, byte) in edits {
            raw[at] = byte;
        }
        match (parse_record(&raw), parse_record_lenient(&raw)) {
            (Ok(s), Ok(l)) => prop_assert_eq!(l, LenientRecord::from(s)),
            (Ok(_), Err(e)) => prop_assert!(false, "strict accepts, lenient refuses: {:?}", e),
            (Err(s), Ok(l)) => {
                prop_assert_eq!(l.faults(), s.as_slice());
                prop_assert_eq!(&l.as_bytes()[..], &raw[..]);
            }
            (Err(s), Err(l)) => prop_assert_eq!(s, l),
        }
    }
}

/// A file of the wrong kind is named as what it is (issue 21, item 8): the sniffer's verdict on
/// the first bytes of files of every kind a user hands in by mistake.
#[test]
fn a_file_of_the_wrong_kind_is_named_as_what_it_is() {
    let dmf_line = format!("A123456789{:<90}", "SMITH");
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty"),
        (b"\n\n", "empty"),
        (dmf_line.as_bytes(), "a DMF file (100-character records)"),
        (
            b"ssn,first,middle,last,suffix,sex,dob,birth_state\n451748442,Lorraine,,Galicia,,F,1922-05-19,TX\n",
            "a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state",
        ),
        (
            b"\xef\xbb\xbf\"Id\",\"SSN\"\r\n1,2\r\n",
            "a CSV with columns id, ssn",
        ),
        (b"a,b,c,d,e,f,g,h,i,j\n", "a CSV with columns a, b, c, d, e, f, g, h, … (10 in all)"),
        (b"{\"kind\":\"death_report\"}\n{}\n", "NDJSON (a JSON object a line)"),
        (b"  [ {\"kind\": 1} ]", "a JSON document, not one object a line"),
        (b"{\n  \"kind\": \"death_report\"\n}\n", "a JSON document, not one object a line"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed"),
        (b"PK\x03\x04rest", "a zip archive (or a spreadsheet)"),
        (b"abc\0def", "binary data, not text"),
        // Data lines are not headers: a damaged DMF line or a headerless CSV stays text, for its
        // own reader to name the bad lines.
        (b"451748442,Lorraine,Galicia\n", "text whose first line is 26 characters"),
        (b"A12345678 SMITH\n", "text whose first line is 15 characters"),
    ];
    for (head, expect) in cases {
        assert_eq!(
            sniff(head).to_string(),
            *expect,
            "{:?}",
            String::from_utf8_lossy(head)
        );
    }
}

#[test]
fn refusing_a_wrong_kind_names_the_command_that_takes_it() {
    let people = b"ssn,first,last,dob\n123456789,A,B,1970-01-01\n";
    let text = sniff::refuse(
        "people.csv",
        people,
        &[FileKind::Dmf, FileKind::Empty],
        "dmf format check",
        "DMF files",
    )
    .expect("refused");
    assert_eq!(
        text,
        "people.csv is a CSV with columns ssn, first, last, dob: `dmf format check` reads DMF \
         files; it looks like a numberholder file: `dmf import` takes it"
    );
    // The wanted kind, and text that may be a damaged file of it, pass.
    let dmf_line = format!("A123456789{:<90}\n", "SMITH");
    for head in [dmf_line.as_bytes(), b"A12345678 SMITH\n", b""] {
        assert_eq!(
            sniff::refuse("f", head, &[FileKind::Dmf, FileKind::Empty], "c", "r"),
            None
        );
    }
}
