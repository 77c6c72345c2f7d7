//! Client files in, people and problems out, one line each.

use dmf_model::Date;

use super::*;

fn today() -> Date {
    Date::new(2026, 3, 1).unwrap()
}

/// The people read (`id ssn first last dob`), then the problems and notes, or the error.
fn render(bytes: &[u8], options: &ClientOptions) -> String {
    match read_client("c.csv", bytes, options) {
        Ok(c) => {
            let mut out: Vec<String> = c
                .people
                .iter()
                .zip(&c.ids)
                .map(|(p, id)| {
                    let ssn = p.ssn.map_or("-".to_owned(), |s| s.to_string());
                    let dob = p.dob.map_or("-".to_owned(), |d| d.to_string());
                    format!("{id} {ssn} {} {} {dob}", p.first, p.last)
                })
                .collect();
            out.extend(c.problems.iter().map(|p| format!("{p} ({})", p.outcome())));
            out.extend(c.notes.iter().map(|n| format!("note {n}")));
            out.join("\n")
        }
        Err(e) => format!("error {e}"),
    }
}

#[track_caller]
fn check_with(bytes: &[u8], options: &ClientOptions, expect: &str) {
    assert_eq!(
        render(bytes, options),
        expect,
        "{}",
        String::from_utf8_lossy(bytes)
    );
}

#[track_caller]
fn check(bytes: &[u8], expect: &str) {
    check_with(bytes, &ClientOptions::new(today()), expect);
}

fn strict() -> ClientOptions {
    ClientOptions {
        strict: true,
        ..ClientOptions::new(today())
    }
}

fn with_format(f: DobFormat) -> ClientOptions {
    ClientOptions {
        dob_format: Some(f),
        ..ClientOptions::new(today())
    }
}

#[test]
fn each_date_format_is_detected_and_parsed() {
    let cases: [(&str, &str, &str); 7] = [
        ("1958-07-21", "1930-01", "YYYY-MM-DD"),
        ("19580721", "19300100", "YYYYMMDD"),
        ("07211958", "01001930", "MMDDYYYY"),
        ("07/21/1958", "1/2/1930", "MM/DD/YYYY"),
        ("21/07/1958", "2/1/1930", "DD/MM/YYYY"),
        ("07/21/58", "1/2/30", "MM/DD/YY"),
        ("21/07/58", "2/1/30", "DD/MM/YY"),
    ];
    for (a, b, format) in cases {
        let file = format!("id,first,last,dob\nA1,Ann,Lee,{a}\nA2,Bob,Ray,{b}\n");
        let got = render(file.as_bytes(), &ClientOptions::new(today()));
        let b_date = if format.starts_with("YYYY") || format == "MMDDYYYY" {
            "1930-01"
        } else {
            "1930-01-02"
        };
        let mut expect = format!(
            "A1 - ANN LEE 1958-07-21\nA2 - BOB RAY {b_date}\nnote c.csv: dob column read as {format} (found from the data; state it with --dob-format)"
        );
        if format.ends_with("/YY") {
            expect += "\nnote c.csv: two-digit years of birth read as 1927-2026 (the latest such year not after 2026)";
        }
        assert_eq!(got, expect, "{format}");
    }
}

#[test]
fn two_digit_years_are_the_latest_not_after_today() {
    let f = DobFormat::MdyShort;
    let cases = [
        ("01/02/26", "2026-01-02"),
        ("01/02/27", "1927-01-02"),
        ("1/2/00", "2000-01-02"),
    ];
    for (text, expect) in cases {
        assert_eq!(
            f.parse(text, today()).unwrap().to_string(),
            expect,
            "{text}"
        );
    }
}

#[test]
fn yyyymmdd_is_not_read_as_mmddyyyy() {
    check(
        b"id,first,last,dob\nA1,Ann,Lee,19580721\nA2,Bob,Ray,19301231\nA3,Cy,Day,19581301\n",
        "A1 - ANN LEE 1958-07-21\n\
         A2 - BOB RAY 1930-12-31\n\
         A3 - CY DAY 1958\n\
         c.csv:4:4: dob: \"19581301\" as YYYYMMDD: month 13 does not exist (its year kept)\n\
         note c.csv: dob column read as YYYYMMDD (found from the data; state it with --dob-format)",
    );
}

#[test]
fn an_ambiguous_date_column_is_refused_with_the_fix() {
    check(
        b"id,first,last,dob\nA1,Ann,Lee,01/02/1930\nA2,Bob,Ray,03/04/1950\n",
        "error c.csv:1:4: dob: the dates read equally well as MM/DD/YYYY and DD/MM/YYYY and no date tells them apart; state the format with --dob-format FORMAT (YYYY-MM-DD, YYYYMMDD, MMDDYYYY, MM/DD/YYYY, DD/MM/YYYY, MM/DD/YY or DD/MM/YY)",
    );
    // One date decides.
    check(
        b"id,first,last,dob\nA1,Ann,Lee,01/02/1930\nA2,Bob,Ray,03/24/1950\n",
        "A1 - ANN LEE 1930-01-02\n\
         A2 - BOB RAY 1950-03-24\n\
         note c.csv: dob column read as MM/DD/YYYY (found from the data; state it with --dob-format)",
    );
    check(
        b"id,first,last,dob\nA1,Ann,Lee,soon\nA2,Bob,Ray,later\nA3,Cy,Day,1950\n",
        "error c.csv:1:4: dob: no date format reads most of the 3 dates (the best reads 1; the first is \"soon\"); state the format with --dob-format FORMAT (YYYY-MM-DD, YYYYMMDD, MMDDYYYY, MM/DD/YYYY, DD/MM/YYYY, MM/DD/YY or DD/MM/YY)",
    );
}

#[test]
fn a_stated_dob_format_is_used() {
    let file = b"id,first,last,dob\nA1,Ann,Lee,01/02/1930\nA2,Bob,Ray,03/04/1950\n";
    check_with(
        file,
        &with_format(DobFormat::DmySlash),
        "A1 - ANN LEE 1930-02-01\nA2 - BOB RAY 1950-04-03",
    );
    check_with(
        file,
        &with_format(DobFormat::MdySlash),
        "A1 - ANN LEE 1930-01-02\nA2 - BOB RAY 1950-03-04",
    );
    let names = [
        ("yyyymmdd", "YYYYMMDD"),
        ("M/D/YYYY", "MM/DD/YYYY"),
        ("YYYY-MM", "YYYY-MM-DD"),
        ("dd/mm/yy", "DD/MM/YY"),
    ];
    for (given, expect) in names {
        assert_eq!(
            given.parse::<DobFormat>().unwrap().name(),
            expect,
            "{given}"
        );
    }
    assert!(
        "DD.MM.YYYY"
            .parse::<DobFormat>()
            .unwrap_err()
            .contains("expected one of")
    );
}

#[test]
fn windows_1252_file_is_detected_and_decoded() {
    check(
        b"id,first,last\nA1,Jos\xE9,Pe\xF1a\nA2,Zo\x9A,O\x92Neil\n",
        "A1 - JOSE PENA -\n\
         A2 - ZOS O'NEIL -\n\
         note the file is not UTF-8: read as windows-1252 (state it with --encoding)",
    );
    let latin1 = ClientOptions {
        encoding: Some(Encoding::Latin1),
        ..ClientOptions::new(today())
    };
    check_with(
        b"id,first,last\nA1,Jos\xE9,Lee\n",
        &latin1,
        "A1 - JOSE LEE -",
    );
    let utf8 = ClientOptions {
        encoding: Some(Encoding::Utf8),
        ..ClientOptions::new(today())
    };
    check_with(
        b"id,first,last\nA1,Ann,Lee\nA2,Jos\xE9,Lee\n",
        &utf8,
        "error c.csv:3: not UTF-8 (byte 0xE9); give --encoding windows-1252 or latin-1",
    );
}

#[test]
fn utf8_with_a_byte_order_mark_is_read() {
    check(
        "\u{FEFF}id,first,last\nA1,José,Lee\n".as_bytes(),
        "A1 - JOSE LEE -",
    );
}

#[test]
fn crlf_line_numbers_are_right_in_cell_errors() {
    let file = b"id,first,last,dob,ssn\r\nA1,Ann,Lee,1958-07-21,\r\nA2,Bob,Ray,1958-13-01,\r\n\"A3\",\"Cy\r\nJr\",Day,1950-01-02,12\r\nA4,Di,Fay,1950-01-03,12\r\n";
    check(
        file,
        "A1 - ANN LEE 1958-07-21\n\
         A2 - BOB RAY 1958\n\
         A3 - CYJR DAY 1950-01-02\n\
         A4 - DI FAY 1950-01-03\n\
         c.csv:3:4: dob: \"1958-13-01\" as YYYY-MM-DD: month 13 does not exist (its year kept)\n\
         c.csv:4:5: ssn: \"12\": an SSN has 9 digits, found 2 (treated as missing)\n\
         c.csv:6:5: ssn: \"12\": an SSN has 9 digits, found 2 (treated as missing)\n\
         note c.csv: dob column read as YYYY-MM-DD (found from the data; state it with --dob-format)",
    );
}

#[test]
fn a_ragged_row_is_skipped_and_reported_or_fatal_when_strict() {
    let file = b"id,first,last,dob\nA1,Ann,Lee,1958-07-21\nA2,Bob,Ray\n\nA3,Cy,Day,1950-01-02,extra\nA4,Di,Fay,1950-01-03\n";
    check(
        file,
        "A1 - ANN LEE 1958-07-21\n\
         A4 - DI FAY 1950-01-03\n\
         c.csv:3: 3 cells where the header has 4 (row skipped)\n\
         c.csv:5: 5 cells where the header has 4 (row skipped)\n\
         note c.csv: dob column read as YYYY-MM-DD (found from the data; state it with --dob-format)",
    );
    check_with(
        file,
        &strict(),
        "error c.csv:3: 3 cells where the header has 4",
    );
}

#[test]
fn ssn_cells() {
    let cases = [
        ("123-45-6780", "ok 123456780"),
        (
            "23456789",
            "lost zero \"23456789\" has 8 digits: a leading zero may have been lost (a spreadsheet drops it); write it as text with 9 digits",
        ),
        (
            "23-45-6789",
            "lost zero \"23-45-6789\" has 8 digits: a leading zero may have been lost (a spreadsheet drops it); write it as text with 9 digits",
        ),
        (
            "078-05-1120",
            "void 078-05-1120 (the Woolworth wallet card's sample number)",
        ),
        (
            "219099999",
            "void 219-09-9999 (the sample number of a 1940 Social Security Board pamphlet)",
        ),
        (
            "123456789",
            "void 123-45-6789 (the stock example number of forms and advertising)",
        ),
        (
            "666123456",
            "never issued \"666123456\": area 666 is never issued",
        ),
        (
            "12345678x",
            "error \"12345678x\": an SSN has only digits, found 'x' at position 9",
        ),
    ];
    for (text, expect) in cases {
        let got = match parse_ssn(text) {
            Ok(s) => format!("ok {s}"),
            Err(ClientErrorKind::VoidSsn { ssn, why }) => format!("void {ssn} ({why})"),
            Err(ClientErrorKind::Cell { reason, .. }) => format!("error {reason}"),
            Err(ClientErrorKind::NeverIssued { reason }) => format!("never issued {reason}"),
            Err(ClientErrorKind::LostZero { reason }) => format!("lost zero {reason}"),
            Err(e) => format!("other {e}"),
        };
        assert_eq!(got, expect, "{text}");
    }
}

#[test]
fn an_eight_digit_ssn_gets_its_zero_back_and_a_void_one_is_missing_with_a_warning() {
    check(
        b"id,ssn,first,last\nA1,23456789,Ann,Lee\nA2,078-05-1120,Bob,Ray\nA3,234567890,Cy,Day\n",
        "A1 023456789 ANN LEE -\n\
         A2 - BOB RAY -\n\
         A3 234567890 CY DAY -\n\
         c.csv:2:2: ssn: \"23456789\" has 8 digits: a leading zero may have been lost (a spreadsheet drops it); write it as text with 9 digits (compared with the zero put back)\n\
         c.csv:3:2: ssn: 078-05-1120 is void (the Woolworth wallet card's sample number) (treated as missing)",
    );
}

#[test]
fn structural_problems_stop_at_once() {
    check(
        b"",
        "error c.csv: the file is empty: a header naming id, first and last is required",
    );
    check(
        b"id;first;last\nA1;Ann;Lee\n",
        "error c.csv:1: the header is one column \"id;first;last\": the file is delimited by ';', not commas",
    );
    check(
        b"id,first,surname\nA1,Ann,Lee\n",
        "error c.csv:1: no column \"last\" (columns: id, first, surname); rename with --columns last=YOUR_NAME",
    );
}

#[test]
fn strict_stops_at_the_first_bad_cell_of_a_known_format() {
    let file =
        b"id,ssn,first,last,dob\nA1,,Ann,Lee,19580721\nA2,,Bob,Ray,19581301\nA3,,Cy,Day,19300102\n";
    check_with(
        file,
        &strict(),
        "error c.csv:3:5: dob: \"19581301\" as YYYYMMDD: month 13 does not exist",
    );
    let stated = ClientOptions {
        dob_format: Some(DobFormat::Ymd),
        ..strict()
    };
    check_with(
        b"id,ssn,first,last,dob\nA3,078051120,Cy,Day,\n",
        &stated,
        "error c.csv:2:2: ssn: 078-05-1120 is void (the Woolworth wallet card's sample number)",
    );
}

#[test]
fn a_date_with_day_and_month_swapped_into_an_impossible_one_keeps_its_year() {
    check(
        b"id,first,last,dob\nA1,Ann,Lee,1958-07-21\nA2,Bob,Ray,1963-24-01\nA3,Cy,Day,1963-xx-01\nA4,Di,Fay,1963-13\nA5,Ed,Gay,1958-07-22\nA6,Flo,Hay,1958-07-23\nA7,Gus,Ivy,1958-07-24\nA8,Hal,Jay,1958-07-25\n",
        "A1 - ANN LEE 1958-07-21\n\
         A2 - BOB RAY 1963\n\
         A3 - CY DAY -\n\
         A4 - DI FAY 1963\n\
         A5 - ED GAY 1958-07-22\n\
         A6 - FLO HAY 1958-07-23\n\
         A7 - GUS IVY 1958-07-24\n\
         A8 - HAL JAY 1958-07-25\n\
         c.csv:3:4: dob: \"1963-24-01\" as YYYY-MM-DD: month 24 does not exist (its year kept)\n\
         c.csv:4:4: dob: \"1963-xx-01\" as YYYY-MM-DD: expected YYYY-MM-DD, YYYY-MM or YYYY, found \"1963-xx-01\" (treated as missing)\n\
         c.csv:5:4: dob: \"1963-13\" as YYYY-MM-DD: month 13 does not exist (its year kept)\n\
         note c.csv: dob column read as YYYY-MM-DD (found from the data; state it with --dob-format)",
    );
}

#[test]
fn the_year_of_an_impossible_date_in_each_format() {
    let cases = [
        (DobFormat::Ymd, "19632401", Some("1963")),
        (DobFormat::Mdy, "24011963", Some("1963")),
        (DobFormat::MdySlash, "24/01/1963", Some("1963")),
        (DobFormat::DmySlash, "01/24/1963", Some("1963")),
        (DobFormat::MdyShort, "24/01/63", Some("1963")),
        (DobFormat::Iso, "1963-24-01", Some("1963")),
        (DobFormat::Iso, "63-24-01", None),
        (DobFormat::MdySlash, "24-01-1963", None),
        (DobFormat::Ymd, "0000240", None),
        (DobFormat::Ymd, "17002401", None),
    ];
    for (format, text, expect) in cases {
        let got = format.year_of(text, today()).map(|d| d.to_string());
        assert_eq!(got.as_deref(), expect, "{format} {text}");
    }
}
