//! CSV cells that are safe to open in a spreadsheet, as OWASP's guidance on CSV injection
//! says: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by a
//! spreadsheet as a formula (`=HYPERLINK(...)` in a name sends the reader's data away), so every
//! CSV the project writes prefixes such a cell with a single quote, which makes it text.
//!
//! Two exceptions keep the data whole: a negative number (a match weight, `-3.215`) is left as it
//! is, since it is no formula and a quote would make it text; and a cell that already starts
//! with quotes before such a character gets one more, so that [`restore`], which every CSV
//! reader of the project applies, gives back exactly the text that was written.

use std::borrow::Cow;
use std::io::Write;

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn starts_formula(s: &str) -> bool {
    s.starts_with(FORMULA_START)
}

/// `-` and digits, with a fraction or not: a number, whatever its first character.
fn is_negative_number(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('-') else {
        return false;
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(rest),
    }
}

/// Whether [`neutralise`] prefixes the cell; for a cell that starts with a quote, also whether
/// [`restore`] takes one off.
fn needs_quote(cell: &str) -> bool {
    match cell.strip_prefix('\'') {
        Some(rest) => starts_formula(rest.trim_start_matches('\'')),
        None => starts_formula(cell) && !is_negative_number(cell),
    }
}

/// The cell as a CSV file the project writes holds it: with a single quote in front when a
/// spreadsheet would read it as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The text of a cell [`neutralise`] wrote: the quote it put in front taken off. Any other
/// cell is returned as it is.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(cell) => rest,
        _ => cell,
    }
}

/// Writes one row, each cell neutralised: the one way the project writes a CSV row.
pub fn write_row<W: Write, I, T>(out: &mut csv::Writer<W>, cells: I) -> csv::Result<()>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    for cell in cells {
        out.write_field(neutralise(cell.as_ref()).as_bytes())?;
    }
    // An empty record ends the row the fields began.
    out.write_record(None::<&[u8]>)
}
