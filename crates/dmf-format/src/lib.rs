//! File formats of the death master file: the fixed-width DMF record, its reader and writer, and
//! the CSV and NDJSON forms it converts to; and the one way the project writes a CSV cell,
//! safe to open in a spreadsheet.
//!
//! Parsing works on bytes and knows nothing of where they come from: the caller hands in a
//! reader or a byte slice (a memory-mapped file, a buffer), so the same code serves files,
//! pipes and network bodies.

pub mod convert;
pub mod dmf;
pub mod sniff;
pub mod spreadsheet;

pub use convert::{CsvWriter, write_ndjson};
pub use dmf::{
    ChangeCode, DmfReader, DmfRecord, FaultCounts, Field, FieldError, LenientRecord, LineEnding,
    LineError, RECORD_LEN, Reason, Scan, ScanMode, Summary, parse_record, parse_record_lenient,
    scan, scan_parallel, write_record,
};
pub use sniff::{FileKind, sniff};

#[cfg(test)]
mod tests;
