//! The master side read from a DMF file: every record but its deletions, chunk by chunk, read
//! leniently (a bad field is missing, the rest of the record kept), so that a national file
//! never sits in memory as text.

use std::io::{self, Read};

use dmf_format::{
    ChangeCode, DmfReader, FaultCounts, LenientRecord, LineError, RECORD_LEN, parse_record_lenient,
};
use rayon::prelude::*;

use crate::{Person, PersonRef};

/// Master records handed over at a time.
pub const CHUNK: usize = 1 << 18;

/// What a read of a DMF master found besides its records.
#[derive(Debug, Default, Clone)]
pub struct MasterRead {
    /// Lines read, deletions and wrong lines included.
    pub lines: u64,
    /// Lines that are no DMF record at all, skipped.
    pub wrong: u64,
    /// Records kept with a bad field (treated as missing), by kind of fault.
    pub faults: FaultCounts,
}

/// Calls `f` with every record of a DMF file but its deletions, [`CHUNK`] records at a time;
/// `skipped` hears of each line that is no DMF record, `progress` of the lines read so far.
pub fn read_dmf_chunks(
    input: impl Read,
    mut skipped: impl FnMut(&LineError),
    mut progress: impl FnMut(u64),
    mut f: impl FnMut(&[LenientRecord]),
) -> io::Result<MasterRead> {
    let mut reader = DmfReader::new(input);
    let mut out = MasterRead::default();
    let mut chunk = Vec::with_capacity(CHUNK);
    // Lines are cut one after the other and parsed a chunk at a time on every thread: the
    // parsing, not the reading, is what one thread is slow at.
    let mut bytes: Vec<u8> = Vec::with_capacity(CHUNK * (RECORD_LEN + 1));
    let mut lines: Vec<(u64, usize, usize)> = Vec::with_capacity(CHUNK);
    loop {
        let more = match reader.next_line()? {
            Some((number, line)) => {
                lines.push((number, bytes.len(), line.len()));
                bytes.extend_from_slice(line);
                true
            }
            None => false,
        };
        if lines.len() == CHUNK || !more {
            let parsed: Vec<Result<LenientRecord, LineError>> = lines
                .par_iter()
                .map(|&(number, start, len)| {
                    parse_record_lenient(&bytes[start..start + len]).map_err(|errors| LineError {
                        line: number,
                        errors,
                    })
                })
                .collect();
            for rec in parsed {
                match rec {
                    Ok(r) if r.change() != ChangeCode::Delete => {
                        out.faults.add(&r);
                        chunk.push(r);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        out.wrong += 1;
                        skipped(&e);
                    }
                }
            }
            out.lines += lines.len() as u64;
            progress(out.lines);
            f(&chunk);
            chunk.clear();
            lines.clear();
            bytes.clear();
        }
        if !more {
            return Ok(out);
        }
    }
}

/// A master record as the matching core reads it, borrowed.
pub fn person_ref(r: &LenientRecord) -> PersonRef<'_> {
    PersonRef {
        ssn: Some(r.ssn()),
        first: r.first(),
        middle: r.middle(),
        last: r.last(),
        suffix: r.suffix(),
        dob: r.dob(),
        sex: None,
    }
}

/// A master record as the matching core reads it, owned.
pub fn person_of(r: &LenientRecord) -> Person {
    Person {
        ssn: Some(r.ssn()),
        first: r.first().to_owned(),
        middle: r.middle().to_owned(),
        last: r.last().to_owned(),
        suffix: r.suffix().to_owned(),
        dob: r.dob(),
        sex: None,
    }
}

#[cfg(test)]
mod tests;
