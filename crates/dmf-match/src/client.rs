//! A subscriber's client file as subscribers send it: CSV with a header, in UTF-8 (with or
//! without a byte-order mark), Latin-1 or Windows-1252, dates of birth in whichever form the
//! column uses (found from the data), ragged rows and dirty cells reported by file, line and
//! column rather than stopping the run.
//!
//! This is the crate's one reader of text; it takes any [`Read`] and opens nothing itself.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use dmf_format::spreadsheet::restore;
use dmf_model::{Date, PartialDate, Sex, Ssn, SsnDigits, dmf_form};

use crate::Person;

/// Columns the matching reads; every other column is passed through.
pub const KNOWN_COLUMNS: [&str; 8] = [
    "id", "ssn", "first", "middle", "last", "suffix", "dob", "sex",
];
/// Columns a client file must have.
pub const REQUIRED_COLUMNS: [&str; 3] = ["id", "first", "last"];

/// Numbers that are well formed but belong to no one, treated as missing. Sources: SSA,
/// "Social Security Numbers: Misused SSNs" (ssa.gov/history/ssn/misused.html): 078-05-1120 was
/// printed on the sample card sold in Woolworth wallets (1938) and voided, and 219-09-9999
/// appeared on a sample card in a 1940 Social Security Board pamphlet. 123-45-6789 is the
/// stock example number of forms, software and advertising. Numbers reserved for
/// advertisements (987-65-4320 to 987-65-4329) are in area 9xx, which [`Ssn`] already refuses.
pub const VOID_SSNS: [(&str, &str); 3] = [
    ("078051120", "the Woolworth wallet card's sample number"),
    (
        "219099999",
        "the sample number of a 1940 Social Security Board pamphlet",
    ),
    (
        "123456789",
        "the stock example number of forms and advertising",
    ),
];

/// The text encoding of a client file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Windows-1252: Latin-1 with printable characters (curly quotes, dashes, `€`, `Š`, …) in
    /// place of most C1 controls.
    Windows1252,
    /// ISO 8859-1: every byte is the code point of the same number.
    Latin1,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Latin1 => "latin-1",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Encoding, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" => Ok(Encoding::Windows1252),
            "latin-1" | "latin1" | "iso-8859-1" => Ok(Encoding::Latin1),
            _ => Err(format!(
                "unknown encoding {s:?}: expected utf-8, windows-1252 or latin-1"
            )),
        }
    }
}

/// Windows-1252's characters for bytes 0x80-0x9F; the five bytes it leaves undefined keep the
/// C1 control of the same number, as Latin-1 has them.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

fn decode_single_byte(bytes: &[u8], encoding: Encoding) -> String {
    bytes
        .iter()
        .map(|&b| match (encoding, b) {
            (Encoding::Windows1252, 0x80..=0x9F) => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// How a date of birth column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DobFormat {
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    Iso,
    /// `YYYYMMDD`, `00` for an unknown month or day.
    Ymd,
    /// `MMDDYYYY`, the DMF's own form, `00` for an unknown month or day.
    Mdy,
    /// `MM/DD/YYYY` or `M/D/YYYY`.
    MdySlash,
    /// `DD/MM/YYYY` or `D/M/YYYY`.
    DmySlash,
    /// `MM/DD/YY` or `M/D/YY`: a two-digit year is the latest such year not after today.
    MdyShort,
    /// `DD/MM/YY` or `D/M/YY`, the same century rule.
    DmyShort,
}

impl DobFormat {
    pub const ALL: [DobFormat; 7] = [
        DobFormat::Iso,
        DobFormat::Ymd,
        DobFormat::Mdy,
        DobFormat::MdySlash,
        DobFormat::DmySlash,
        DobFormat::MdyShort,
        DobFormat::DmyShort,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DobFormat::Iso => "YYYY-MM-DD",
            DobFormat::Ymd => "YYYYMMDD",
            DobFormat::Mdy => "MMDDYYYY",
            DobFormat::MdySlash => "MM/DD/YYYY",
            DobFormat::DmySlash => "DD/MM/YYYY",
            DobFormat::MdyShort => "MM/DD/YY",
            DobFormat::DmyShort => "DD/MM/YY",
        }
    }

    fn two_digit_year(self) -> bool {
        matches!(self, DobFormat::MdyShort | DobFormat::DmyShort)
    }

    /// The date `text` stands for in this format; `today` settles two-digit years (the latest
    /// year with those last two digits that is not after today's year).
    pub fn parse(self, text: &str, today: Date) -> Result<PartialDate, String> {
        let t = text.trim();
        let wrong = || format!("{t:?} is not {}", self.name());
        let number = |s: &str, lens: &[usize]| -> Result<u16, String> {
            if !lens.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            s.parse().map_err(|_| wrong())
        };
        let known = |n: u16| u8::try_from(n).ok().filter(|&n| n != 0);
        let date = |y: u16, m: u16, d: u16| {
            // An out-of-range month or day stays out of range rather than wrapping.
            let m = (m != 0).then(|| u8::try_from(m).unwrap_or(u8::MAX));
            PartialDate::new(y, m, known(d)).map_err(|e| format!("{t:?} as {}: {e}", self.name()))
        };
        match self {
            DobFormat::Iso => t
                .parse::<PartialDate>()
                .map_err(|e| format!("{t:?} as {}: {e}", self.name())),
            DobFormat::Ymd | DobFormat::Mdy => {
                if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(wrong());
                }
                let (a, b, c) = match self {
                    DobFormat::Ymd => (&t[0..4], &t[4..6], &t[6..8]),
                    _ => (&t[4..8], &t[0..2], &t[2..4]),
                };
                let (y, m, d) = (number(a, &[4])?, number(b, &[2])?, number(c, &[2])?);
                date(y, m, d)
            }
            _ => {
                let mut parts = t.split('/');
                let (Some(p1), Some(p2), Some(p3), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(wrong());
                };
                let (m, d) = match self {
                    DobFormat::MdySlash | DobFormat::MdyShort => (p1, p2),
                    _ => (p2, p1),
                };
                let (m, d) = (number(m, &[1, 2])?, number(d, &[1, 2])?);
                let y = if self.two_digit_year() {
                    century(number(p3, &[2])?, today.year())
                } else {
                    number(p3, &[4])?
                };
                date(y, m, d)
            }
        }
    }
}

impl DobFormat {
    /// The year of a cell that has this format's shape (digits where its parts go) but is no
    /// date, such as `1963-24-01` with day and month swapped: a year-only date, so that the
    /// rules on names and birth year still find the person. `None` for a cell of another
    /// shape or a year out of range.
    pub fn year_of(self, text: &str, today: Date) -> Option<PartialDate> {
        let t = text.trim();
        let digits = |s: &str, lens: &[usize]| {
            lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        let year: u16 = match self {
            DobFormat::Iso => {
                let parts: Vec<&str> = t.split('-').collect();
                let ok = (2..=3).contains(&parts.len())
                    && digits(parts[0], &[4])
                    && parts[1..].iter().all(|p| digits(p, &[2]));
                ok.then(|| parts[0].parse().ok())??
            }
            DobFormat::Ymd | DobFormat::Mdy => {
                if !digits(t, &[8]) {
                    return None;
                }
                let y = if self == DobFormat::Ymd {
                    &t[0..4]
                } else {
                    &t[4..8]
                };
                y.parse().ok()?
            }
            _ => {
                let parts: Vec<&str> = t.split('/').collect();
                let short = self.two_digit_year();
                let ok = parts.len() == 3
                    && digits(parts[0], &[1, 2])
                    && digits(parts[1], &[1, 2])
                    && digits(parts[2], if short { &[2] } else { &[4] });
                let y: u16 = ok.then(|| parts[2].parse().ok())??;
                if short { century(y, today.year()) } else { y }
            }
        };
        PartialDate::new(year, None, None).ok()
    }
}

/// The latest year ending in the two digits `yy` that is not after `this_year`.
fn century(yy: u16, this_year: u16) -> u16 {
    let year = this_year - this_year % 100 + yy;
    if year > this_year { year - 100 } else { year }
}

impl fmt::Display for DobFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DobFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<DobFormat, String> {
        let up = s.trim().to_ascii_uppercase();
        let found = match up.as_str() {
            "YYYY-MM" | "YYYY" | "ISO" => Some(DobFormat::Iso),
            "M/D/YYYY" => Some(DobFormat::MdySlash),
            "D/M/YYYY" => Some(DobFormat::DmySlash),
            "M/D/YY" => Some(DobFormat::MdyShort),
            "D/M/YY" => Some(DobFormat::DmyShort),
            _ => DobFormat::ALL.into_iter().find(|f| f.name() == up),
        };
        found.ok_or_else(|| {
            let names: Vec<&str> = DobFormat::ALL.iter().map(|f| f.name()).collect();
            format!(
                "unknown date format {s:?}: expected one of {}",
                names.join(", ")
            )
        })
    }
}

/// How to read a client file.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Client column names (lowercase) to the names the matching knows.
    pub renames: HashMap<String, String>,
    /// Stop at the first bad cell or ragged row instead of skipping it.
    pub strict: bool,
    /// The date of birth column's format; found from the data when `None`.
    pub dob_format: Option<DobFormat>,
    /// The file's encoding; UTF-8, or Windows-1252 when the file is not UTF-8, when `None`.
    pub encoding: Option<Encoding>,
    /// The run's date, for two-digit years.
    pub today: Date,
}

impl ClientOptions {
    pub fn new(today: Date) -> ClientOptions {
        ClientOptions {
            renames: HashMap::new(),
            strict: false,
            dob_format: None,
            encoding: None,
            today,
        }
    }
}

/// A client file read: people in file order, their ids and the columns passed through, and
/// what was noticed on the way.
#[derive(Debug, Default)]
pub struct ClientFile {
    pub people: Vec<Person>,
    pub ids: Vec<String>,
    pub extra_names: Vec<String>,
    pub extra: Vec<Vec<String>>,
    /// The first [`MAX_PROBLEMS`] problems skipped over (bad cells, void SSNs, ragged rows).
    pub problems: Vec<ClientError>,
    /// Cells treated as missing (bad or void).
    pub bad_cells: u64,
    /// Rows skipped (ragged).
    pub skipped_rows: u64,
    /// Facts about the reading worth telling: the encoding or date format found.
    pub notes: Vec<String>,
    pub encoding: Option<Encoding>,
    pub dob_format: Option<DobFormat>,
}

/// Problems kept in [`ClientFile::problems`]; the counts go on.
pub const MAX_PROBLEMS: usize = 1000;

/// `file`, `file:line` or `file:line:column`: where a problem in a file is (a line or column of
/// 0 is the whole file's or line's).
pub(crate) fn write_place(
    f: &mut fmt::Formatter<'_>,
    file: &str,
    line: u64,
    column: usize,
) -> fmt::Result {
    write!(f, "{file}")?;
    if line > 0 {
        write!(f, ":{line}")?;
    }
    if column > 0 {
        write!(f, ":{column}")?;
    }
    Ok(())
}

/// A problem in a client file, where it is: `file:line:column: reason`.
#[derive(Debug, thiserror::Error)]
pub struct ClientError {
    pub file: String,
    /// 1-based; 0 when the problem is the whole file's.
    pub line: u64,
    /// 1-based; 0 when the problem is a whole line's.
    pub column: usize,
    pub kind: ClientErrorKind,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_place(f, &self.file, self.line, self.column)?;
        write!(f, ": {}", self.kind)
    }
}

impl ClientError {
    /// What a lenient run does about it.
    pub fn outcome(&self) -> &'static str {
        match self.kind {
            ClientErrorKind::Ragged { .. } => "row skipped",
            ClientErrorKind::NeverIssued { .. } => "its digits still compared",
            ClientErrorKind::LostZero { .. } => "compared with the zero put back",
            ClientErrorKind::ImpossibleDate { .. } => "its year kept",
            _ => "treated as missing",
        }
    }
}

/// Why a client file, a row or a cell cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not UTF-8 (byte 0x{byte:02X}); give --encoding windows-1252 or latin-1")]
    NotUtf8 { byte: u8 },
    #[error("{0}")]
    Csv(String),
    #[error("the file is empty: a header naming id, first and last is required")]
    Empty,
    #[error(
        "the header is one column {header:?}: the file is delimited by {delimiter:?}, not commas"
    )]
    Delimiter { header: String, delimiter: char },
    #[error("no column {name:?} (columns: {found}); rename with --columns {name}=YOUR_NAME")]
    MissingColumn { name: &'static str, found: String },
    #[error("{cells} cells where the header has {header}")]
    Ragged { cells: usize, header: usize },
    #[error("{field}: {reason}")]
    Cell { field: &'static str, reason: String },
    /// A date of the column's shape that is no date (`1963-24-01`): reported, and its year
    /// kept.
    #[error("dob: {reason}")]
    ImpossibleDate { reason: String },
    /// Nine digits of a form never issued: reported, and still compared as digits.
    #[error("ssn: {reason}")]
    NeverIssued { reason: String },
    /// Eight digits, the ninth a leading zero a spreadsheet dropped: reported, and compared
    /// with the zero put back (nearly always what happened; if not, the SSN differs and the
    /// names and date decide).
    #[error("ssn: {reason}")]
    LostZero { reason: String },
    #[error("ssn: {ssn} is void ({why})")]
    VoidSsn { ssn: String, why: &'static str },
    #[error("dob: {0}")]
    DobColumn(String),
}

/// Reads a client file from `input`; `file` names it in messages. Structural problems (no
/// header, a required column missing, the wrong delimiter, a date column whose format cannot
/// be told) stop at once; a bad cell is treated as missing and a ragged row skipped, each
/// reported, or the first one stops the read when `options.strict`.
pub fn read_client(
    file: &str,
    mut input: impl Read,
    options: &ClientOptions,
) -> Result<ClientFile, ClientError> {
    let error = |line: u64, column: usize, kind: ClientErrorKind| ClientError {
        file: file.to_owned(),
        line,
        column,
        kind,
    };
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| error(0, 0, e.into()))?;
    let mut out = ClientFile::default();
    let text =
        decode(bytes, options.encoding, &mut out).map_err(|(line, kind)| error(line, 0, kind))?;
    let lines = LineIndex::new(&text);

    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<(u64, csv::StringRecord)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.line(p.byte()));
            error(line, 0, ClientErrorKind::Csv(e.to_string()))
        })?;
        let line = record.position().map_or(0, |p| lines.line(p.byte()));
        rows.push((line, restored(record)));
    }
    let mut rows = rows.into_iter();
    let Some((header_line, header)) = rows.next() else {
        return Err(error(0, 0, ClientErrorKind::Empty));
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| {
            let h = h.trim().to_ascii_lowercase();
            options.renames.get(&h).cloned().unwrap_or(h)
        })
        .collect();
    if let [h] = header.as_slice()
        && let Some(delimiter) = [';', '\t', '|'].into_iter().find(|d| h.contains(*d))
    {
        let kind = ClientErrorKind::Delimiter {
            header: h.clone(),
            delimiter,
        };
        return Err(error(header_line, 0, kind));
    }
    for name in REQUIRED_COLUMNS {
        if !header.iter().any(|h| h == name) {
            let found = header.join(", ");
            return Err(error(
                header_line,
                0,
                ClientErrorKind::MissingColumn { name, found },
            ));
        }
    }
    let col = |n: &str| header.iter().position(|h| h == n);
    let (id_c, first_c, last_c) = (col("id"), col("first"), col("last"));
    let (ssn_c, middle_c, dob_c) = (col("ssn"), col("middle"), col("dob"));
    let (suffix_c, sex_c) = (col("suffix"), col("sex"));
    let extra_cols: Vec<usize> = (0..header.len())
        .filter(|i| !KNOWN_COLUMNS.contains(&header[*i].as_str()))
        .collect();
    out.extra_names = extra_cols.iter().map(|&i| header[i].clone()).collect();

    let mut kept: Vec<(u64, csv::StringRecord)> = Vec::new();
    for (line, record) in rows {
        if record.len() != header.len() {
            // A blank line in the middle of a file is no row at all.
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }
            let kind = ClientErrorKind::Ragged {
                cells: record.len(),
                header: header.len(),
            };
            out.skipped_rows += 1;
            out.problem(error(line, 0, kind), options.strict)?;
            continue;
        }
        kept.push((line, record));
    }

    if let Some(c) = dob_c {
        let format = match options.dob_format {
            Some(f) => f,
            None => {
                let cells = kept
                    .iter()
                    .map(|(_, r)| r[c].trim())
                    .filter(|t| !t.is_empty());
                let found = detect_dob_format(cells, options.today)
                    .map_err(|e| error(header_line, c + 1, ClientErrorKind::DobColumn(e)))?;
                if let Some(f) = found {
                    out.notes.push(format!(
                        "{file}: dob column read as {f} (found from the data; state it with --dob-format)"
                    ));
                }
                // A column of blanks has nothing to parse; any format will do.
                found.unwrap_or(DobFormat::Iso)
            }
        };
        if format.two_digit_year() {
            let y = options.today.year();
            out.notes.push(format!(
                "{file}: two-digit years of birth read as {}-{y} (the latest such year not after {y})",
                y - 99
            ));
        }
        out.dob_format = Some(format);
    }

    for (line, record) in &kept {
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").trim();
        let ssn = match ssn_c {
            Some(c) if !cell(Some(c)).is_empty() => match parse_ssn(cell(Some(c))) {
                Ok(s) => Some(SsnDigits::from(s)),
                Err(kind) => {
                    out.bad_cells += 1;
                    // A never-issued form is reported, but its nine digits are still compared:
                    // the master may carry the same digits.
                    let digits = match &kind {
                        ClientErrorKind::NeverIssued { .. } => {
                            cell(Some(c)).parse::<SsnDigits>().ok()
                        }
                        ClientErrorKind::LostZero { .. } => {
                            let eight: String =
                                cell(Some(c)).chars().filter(|c| *c != '-').collect();
                            format!("0{eight}").parse::<SsnDigits>().ok()
                        }
                        _ => None,
                    };
                    out.problem(error(*line, c + 1, kind), options.strict)?;
                    digits
                }
            },
            _ => None,
        };
        let dob = match (dob_c, out.dob_format) {
            (Some(c), Some(format)) if !cell(Some(c)).is_empty() => {
                match format.parse(cell(Some(c)), options.today) {
                    Ok(d) => Some(d),
                    Err(reason) => {
                        out.bad_cells += 1;
                        // Reported as bad, but the year of a cell of the column's shape is
                        // kept, for blocking and comparison.
                        let year = format.year_of(cell(Some(c)), options.today);
                        let kind = match year {
                            Some(_) => ClientErrorKind::ImpossibleDate { reason },
                            None => ClientErrorKind::Cell {
                                field: "dob",
                                reason,
                            },
                        };
                        out.problem(error(*line, c + 1, kind), options.strict)?;
                        year
                    }
                }
            }
            _ => None,
        };
        out.people.push(Person {
            ssn,
            first: dmf_form(cell(first_c)),
            middle: dmf_form(cell(middle_c)),
            last: dmf_form(cell(last_c)),
            suffix: dmf_form(cell(suffix_c)),
            dob,
            sex: parse_sex(cell(sex_c)),
        });
        out.ids.push(cell(id_c).to_owned());
        out.extra.push(
            extra_cols
                .iter()
                .map(|&c| cell(Some(c)).to_owned())
                .collect(),
        );
    }
    Ok(out)
}

impl ClientFile {
    /// Keeps a problem skipped over, or returns it when the read is strict.
    fn problem(&mut self, e: ClientError, strict: bool) -> Result<(), ClientError> {
        if strict {
            return Err(e);
        }
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(e);
        }
        Ok(())
    }
}

/// A sex cell: `F`, `M`, `female` or `male` in any case; anything else (`U`, `X`, blank) is
/// unknown, which compares as missing.
fn parse_sex(text: &str) -> Option<Sex> {
    match text.to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Some(Sex::Female),
        "M" | "MALE" => Some(Sex::Male),
        _ => None,
    }
}

/// An SSN cell: a real number, or why not (eight digits: a lost leading zero), or void.
fn parse_ssn(text: &str) -> Result<Ssn, ClientErrorKind> {
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let reason = format!(
            "{text:?} has 8 digits: a leading zero may have been lost (a spreadsheet drops it); write it as text with 9 digits"
        );
        return Err(ClientErrorKind::LostZero { reason });
    }
    let ssn = text.parse::<Ssn>().map_err(|e| {
        let reason = format!("{text:?}: {e}");
        if text.parse::<SsnDigits>().is_ok() {
            ClientErrorKind::NeverIssued { reason }
        } else {
            ClientErrorKind::Cell {
                field: "ssn",
                reason,
            }
        }
    })?;
    let nine = ssn.to_string();
    if let Some((_, why)) = VOID_SSNS.iter().find(|(n, _)| *n == nine) {
        let ssn = format!("{}-{}-{}", &nine[..3], &nine[3..5], &nine[5..]);
        return Err(ClientErrorKind::VoidSsn { ssn, why });
    }
    Ok(ssn)
}

/// The text of the file: UTF-8 without its byte-order mark, or decoded from a single-byte
/// encoding (given, or Windows-1252 when the file is not UTF-8, with a note).
fn decode(
    mut bytes: Vec<u8>,
    given: Option<Encoding>,
    out: &mut ClientFile,
) -> Result<String, (u64, ClientErrorKind)> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let encoding = match given {
        Some(e) => e,
        None if std::str::from_utf8(&bytes).is_ok() => Encoding::Utf8,
        None => {
            out.notes.push(
                "the file is not UTF-8: read as windows-1252 (state it with --encoding)".into(),
            );
            Encoding::Windows1252
        }
    };
    out.encoding = Some(encoding);
    if encoding != Encoding::Utf8 {
        return Ok(decode_single_byte(&bytes, encoding));
    }
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        (line, ClientErrorKind::NotUtf8 { byte: bytes[at] })
    })
}

/// The row with each cell a spreadsheet-safe export quoted read as the text it stands for
/// (`'=A1` as `=A1`); a row with no such cell is kept as it is.
fn restored(record: csv::StringRecord) -> csv::StringRecord {
    if !record.iter().any(|c| restore(c).len() != c.len()) {
        return record;
    }
    record.iter().map(restore).collect()
}

/// Line numbers of byte offsets, counting `\n`. The CSV reader's own line count is one low
/// on `\r\n` files: it ends a record at the `\r` and starts the next at the `\n`, the byte
/// offset it gives. Line ends and blank lines at a record's start are skipped here.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<u64>,
}

impl LineIndex<'_> {
    fn new(text: &str) -> LineIndex<'_> {
        let text = text.as_bytes();
        LineIndex {
            text,
            newlines: newlines(text),
        }
    }

    /// The 1-based line of the first byte at or after `at` that is not a line end.
    fn line(&self, at: u64) -> u64 {
        let mut at = at as usize;
        while self
            .text
            .get(at)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            at += 1;
        }
        self.newlines.partition_point(|&nl| nl < at as u64) as u64 + 1
    }
}

fn newlines(b: &[u8]) -> Vec<u64> {
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .map(|(i, _)| i as u64)
        .collect()
}

/// The one format that reads (nearly) every cell of a date column; `None` for a column with
/// no cells. Refuses a column no format reads for the most part, or one two formats read
/// equally well (no cell tells them apart).
pub fn detect_dob_format<'a>(
    cells: impl Iterator<Item = &'a str>,
    today: Date,
) -> Result<Option<DobFormat>, String> {
    let mut total = 0u64;
    let mut fits = [0u64; DobFormat::ALL.len()];
    let mut example = None;
    for cell in cells {
        total += 1;
        for (n, f) in fits.iter_mut().zip(DobFormat::ALL) {
            if f.parse(cell, today).is_ok() {
                *n += 1;
            }
        }
        example.get_or_insert_with(|| cell.to_owned());
    }
    if total == 0 {
        return Ok(None);
    }
    let best = *fits.iter().max().expect("formats");
    let fix = "state the format with --dob-format FORMAT (YYYY-MM-DD, YYYYMMDD, MMDDYYYY, MM/DD/YYYY, DD/MM/YYYY, MM/DD/YY or DD/MM/YY)";
    // "Nearly all": a format must read more than half the cells to be the column's.
    if best * 2 <= total {
        let example = example.unwrap_or_default();
        return Err(format!(
            "no date format reads most of the {total} dates (the best reads {best}; the first is {example:?}); {fix}"
        ));
    }
    let winners: Vec<DobFormat> = DobFormat::ALL
        .into_iter()
        .zip(fits)
        .filter(|(_, n)| *n == best)
        .map(|(f, _)| f)
        .collect();
    if let [only] = winners.as_slice() {
        return Ok(Some(*only));
    }
    let names: Vec<&str> = winners.iter().map(|f| f.name()).collect();
    Err(format!(
        "the dates read equally well as {} and no date tells them apart; {fix}",
        names.join(" and ")
    ))
}

#[cfg(test)]
mod tests;
