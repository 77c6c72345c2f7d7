//! Index snapshots: the answer index written to one file at a signed tree size, so that a node
//! starts by reading it and replaying only the events after it instead of every event.
//!
//! The file is versioned ([`FORMAT`]) and tied to the tree size and root it was built at. Its
//! layout, all numbers little-endian:
//!
//! ```text
//! header   128 bytes: "DMFINDEX", format, tree size, root, people, identity changes,
//!          names and their bytes, people with rarer state and their bytes
//! names    every name of the process's table, in number order: a length byte, the letters
//! people   a fixed record of 36 bytes a person, in the index's order (positions are kept)
//! extras   for each person with rarer state (held reports, notices, corrections, ...):
//!          position, length, the state in the encoding of `snapshot::extra`
//! trailer  the digest (32 bytes) and its MAC under the data folder's secret (32 bytes)
//! ```
//!
//! The digest is SHA-256 of the header, the SHA-256 of the names, the SHA-256 of each block of
//! [`BLOCK`] people and the SHA-256 of the extras, so that both cores hash and decode the people
//! at once. The MAC (see `dmf_ledger::MacKey::file_tag`) means that only the registry's writer
//! makes a snapshot a node will read: an edited person is refused, never served. Reading checks
//! the length, the digest and the MAC before decoding, and decoding checks every field, so a
//! file cut short, of another format or changed is refused with its reason and the caller
//! rebuilds the index from events.

mod extra;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read, Write};
use std::num::{NonZeroU8, NonZeroU32};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dmf_ledger::mac::MacKey;
use dmf_model::{DeathSource, PartialDate, Seq, Sex, VerificationLevel};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::identity::{Generation, Identity};
use crate::index::Index;
use crate::names::{self, FirstKey, LastKey};
use crate::state::{DeathFact, PersonState, Sources};

/// The format this build writes and reads.
pub const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"DMFINDEX";
const HEADER: usize = 128;
/// Bytes of one person's record.
pub const RECORD: usize = 36;
const TRAILER: usize = 64;
/// People hashed and decoded as one unit of work.
pub const BLOCK: usize = 1 << 18;
/// The MAC's domain: a snapshot's tag is no event's MAC.
const DOMAIN: &[u8] = b"dmf-index-snapshot/1";

/// Why a snapshot was not read. Each is a reason to rebuild the index from events.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("not an index snapshot: it does not begin with \"DMFINDEX\"")]
    NotSnapshot,
    #[error("format {found}, and this build reads format {FORMAT} only")]
    Format { found: u32 },
    #[error("{len} bytes, where its header says {expected}: cut short or grown")]
    Length { len: u64, expected: u64 },
    #[error(
        "its MAC is not the one this data folder's secret makes: the file was changed, or \
         another registry wrote it"
    )]
    Mac,
    #[error(
        "built at tree size {size}, but the store holds {head} events: it is not of this store"
    )]
    Ahead { size: Seq, head: Seq },
    #[error(
        "no signed checkpoint of tree size {size} has its root {root}: it is of another history"
    )]
    Root { size: Seq, root: String },
    #[error("corrupt: {0}")]
    Corrupt(String),
}

/// What a snapshot's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: u32,
    /// The tree size (the last event) the index was built at.
    pub size: Seq,
    /// The log's root at that size.
    pub root: [u8; 32],
    pub people: u64,
    identity_changes: u64,
    names: u64,
    names_bytes: u64,
    extras: u64,
    extras_bytes: u64,
}

impl Header {
    /// The file's length this header implies.
    fn file_len(&self) -> Option<u64> {
        let people = self.people.checked_mul(RECORD as u64)?;
        (HEADER as u64 + TRAILER as u64)
            .checked_add(self.names_bytes)?
            .checked_add(people)?
            .checked_add(self.extras_bytes)
    }

    fn encode(&self) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&self.format.to_le_bytes());
        h[16..24].copy_from_slice(&self.size.to_le_bytes());
        h[24..56].copy_from_slice(&self.root);
        let numbers = [
            self.people,
            self.identity_changes,
            self.names,
            self.names_bytes,
            self.extras,
            self.extras_bytes,
        ];
        for (i, n) in numbers.iter().enumerate() {
            h[56 + 8 * i..64 + 8 * i].copy_from_slice(&n.to_le_bytes());
        }
        h
    }

    /// Reads a header, refusing a file that is not a snapshot or of another format.
    pub fn parse(bytes: &[u8]) -> Result<Header, SnapshotError> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(SnapshotError::NotSnapshot);
        }
        let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if format != FORMAT {
            return Err(SnapshotError::Format { found: format });
        }
        if bytes.len() < HEADER {
            return Err(SnapshotError::Length {
                len: bytes.len() as u64,
                expected: HEADER as u64,
            });
        }
        let n = |i: usize| u64::from_le_bytes(bytes[56 + 8 * i..64 + 8 * i].try_into().expect("8"));
        Ok(Header {
            format,
            size: u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")),
            root: bytes[24..56].try_into().expect("32 bytes"),
            people: n(0),
            identity_changes: n(1),
            names: n(2),
            names_bytes: n(3),
            extras: n(4),
            extras_bytes: n(5),
        })
    }
}

/// Reads the header of the snapshot at `path`, if there is one.
pub fn read_header(path: &Path) -> Result<Option<Header>, SnapshotError> {
    let read = |source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read(e)),
    };
    let mut bytes = Vec::with_capacity(HEADER);
    file.take(HEADER as u64)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    Header::parse(&bytes).map(Some)
}

/// The digest the trailer's MAC is made over (see the module's documentation).
fn digest(header: &[u8], names: &[u8], blocks: &[[u8; 32]], extras: &[u8]) -> [u8; 32] {
    let mut d = Sha256::new();
    d.update(header);
    d.update(Sha256::digest(names));
    for b in blocks {
        d.update(b);
    }
    d.update(Sha256::digest(extras));
    d.finalize().into()
}

fn pack_date(d: Option<PartialDate>) -> u32 {
    d.map_or(0, |d| {
        u32::from(d.year()) << 16
            | u32::from(d.month().unwrap_or(0)) << 8
            | u32::from(d.day().unwrap_or(0))
    })
}

fn unpack_date(v: u32) -> Result<Option<PartialDate>, String> {
    if v == 0 {
        return Ok(None);
    }
    PartialDate::from_dmf_parts((v >> 16) as u16, (v >> 8) as u8, v as u8)
        .map(Some)
        .ok_or_else(|| format!("{v:#x} is not a date"))
}

fn sex_code(s: Option<Sex>) -> u8 {
    match s {
        None => 0,
        Some(Sex::Female) => 1,
        Some(Sex::Male) => 2,
    }
}

fn sex_of(code: u8) -> Result<Option<Sex>, String> {
    Ok(match code {
        0 => None,
        1 => Some(Sex::Female),
        2 => Some(Sex::Male),
        _ => return Err(format!("sex code {code}")),
    })
}

fn generation_code(g: Option<Generation>) -> u8 {
    g.map_or(0, |g| {
        Generation::ALL
            .iter()
            .position(|&x| x == g)
            .expect("listed") as u8
            + 1
    })
}

fn generation_of(code: u8) -> Result<Option<Generation>, String> {
    match code {
        0 => Ok(None),
        c => Generation::ALL
            .get(usize::from(c) - 1)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("suffix code {c}")),
    }
}

fn source_of(code: u8) -> Result<DeathSource, String> {
    DeathSource::ALL
        .get(usize::from(code))
        .copied()
        .ok_or_else(|| format!("death source {code}"))
}

/// Names as numbers of the snapshot's table, mapped to this process's keys with their lengths
/// (so that decoding a person takes no lock on the process's table).
struct NameMap(Vec<(NonZeroU32, u8)>);

impl NameMap {
    fn key<const N: usize>(&self, number: u32) -> Result<names::NameKey<N>, String> {
        let &(id, len) = number
            .checked_sub(1)
            .and_then(|i| self.0.get(i as usize))
            .ok_or_else(|| format!("name number {number} is not in the table"))?;
        names::NameKey::from_number(id, usize::from(len))
            .ok_or_else(|| format!("name number {number} is too long"))
    }
}

/// An identity in 16 bytes: first, last, date of birth, sex, middle initial, suffix, issued.
fn put_identity(out: &mut [u8], id: &Identity) {
    out[0..4].copy_from_slice(&id.first.number().to_le_bytes());
    out[4..8].copy_from_slice(&id.last.number().to_le_bytes());
    out[8..12].copy_from_slice(&pack_date(id.dob).to_le_bytes());
    out[12] = sex_code(id.sex);
    out[13] = id.middle.map_or(0, NonZeroU8::get);
    out[14] = generation_code(id.suffix);
    out[15] = u8::from(id.issued);
}

fn get_identity(b: &[u8], names: &NameMap) -> Result<Identity, String> {
    let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    if b[15] > 1 {
        return Err(format!("issued flag {}", b[15]));
    }
    Ok(Identity {
        first: names.key::<15>(word(0)).map(|k: FirstKey| k)?,
        last: names.key::<20>(word(4)).map(|k: LastKey| k)?,
        dob: unpack_date(word(8))?,
        sex: sex_of(b[12])?,
        middle: NonZeroU8::new(b[13]),
        suffix: generation_of(b[14])?,
        issued: b[15] == 1,
    })
}

const HAS_IDENTITY: u8 = 1;
const HAS_DEATH: u8 = 2;
const HAS_EXTRA: u8 = 4;

/// A person's record: SSN, flags, identity (16 bytes), death (date, source, verification,
/// sources, the event it was established by).
fn put_record(out: &mut [u8], ssn: u32, s: &PersonState) {
    out.fill(0);
    out[0..4].copy_from_slice(&ssn.to_le_bytes());
    let mut flags = 0;
    if let Some(id) = &s.identity {
        flags |= HAS_IDENTITY;
        put_identity(&mut out[4..20], id);
    }
    if let Some(d) = &s.death {
        flags |= HAS_DEATH;
        out[20..24].copy_from_slice(&pack_date(Some(d.dod)).to_le_bytes());
        out[24..32].copy_from_slice(&d.established_by.to_le_bytes());
        out[32] = d.source as u8;
        out[33] = d.verification.code();
        out[34] = d.sources.bits();
    }
    if s.extra.is_some() {
        flags |= HAS_EXTRA;
    }
    out[35] = flags;
}

/// A person's state from its record (the SSN is checked here and read into its column, and
/// the flag of rarer state, by the caller).
fn get_record(b: &[u8], names: &NameMap) -> Result<PersonState, String> {
    let ssn = u32::from_le_bytes(b[0..4].try_into().expect("4 bytes"));
    if dmf_model::Ssn::from_number(ssn).is_err() {
        return Err(format!("{ssn} is not an SSN"));
    }
    let flags = b[35];
    if flags & !(HAS_IDENTITY | HAS_DEATH | HAS_EXTRA) != 0 {
        return Err(format!("flags {flags:#x}"));
    }
    let identity = if flags & HAS_IDENTITY != 0 {
        Some(get_identity(&b[4..20], names)?)
    } else {
        None
    };
    let death = if flags & HAS_DEATH != 0 {
        let dod = unpack_date(u32::from_le_bytes(b[20..24].try_into().expect("4 bytes")))?
            .ok_or("a death without a date")?;
        Some(DeathFact {
            dod,
            established_by: u64::from_le_bytes(b[24..32].try_into().expect("8 bytes")),
            source: source_of(b[32])?,
            verification: VerificationLevel::from_code(b[33])
                .ok_or_else(|| format!("verification {}", b[33]))?,
            sources: Sources::from_bits(b[34]).ok_or_else(|| format!("sources {:#x}", b[34]))?,
        })
    } else {
        None
    };
    Ok(PersonState {
        identity,
        death,
        extra: None,
    })
}

/// What writing a snapshot gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub size: Seq,
    pub people: u64,
    pub bytes: u64,
}

/// Writes `index`, built at tree size `size` with root `root`, to `path`: a temporary file
/// written, synced and renamed into place, then the folder synced, so that a crash leaves the
/// old snapshot or the new one whole.
pub fn write(
    path: &Path,
    index: &Index,
    size: Seq,
    root: [u8; 32],
    key: &MacKey,
) -> Result<Written, SnapshotError> {
    let write_err = |source| SnapshotError::Write {
        path: path.to_owned(),
        source,
    };
    let (ssns, states) = index.parts();
    let mut names_bytes = Vec::new();
    let table = names::all_names();
    for n in &table {
        names_bytes.push(n.len() as u8);
        names_bytes.extend_from_slice(n);
    }
    let mut extras_bytes = Vec::new();
    let mut extras = 0u64;
    for (at, s) in states.iter().enumerate() {
        if let Some(e) = &s.extra {
            let body = extra::encode(e);
            extras_bytes.extend_from_slice(&(at as u32).to_le_bytes());
            extras_bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
            extras_bytes.extend_from_slice(&body);
            extras += 1;
        }
    }
    let header = Header {
        format: FORMAT,
        size,
        root,
        people: states.len() as u64,
        identity_changes: index.identity_changes(),
        names: table.len() as u64,
        names_bytes: names_bytes.len() as u64,
        extras,
        extras_bytes: extras_bytes.len() as u64,
    }
    .encode();

    let tmp = path.with_extension("tmp");
    let mut file =
        std::io::BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(write_err)?);
    file.write_all(&header).map_err(write_err)?;
    file.write_all(&names_bytes).map_err(write_err)?;
    // Blocks are encoded and hashed on every core a few at a time, and written in order.
    let mut hashes = Vec::new();
    let group = BLOCK * rayon::current_num_threads().max(1) * 2;
    for (g, chunk) in states.chunks(group).enumerate() {
        let base = g * group;
        let blocks: Vec<(Vec<u8>, [u8; 32])> = chunk
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(i, people)| {
                let first = base + i * BLOCK;
                let mut out = vec![0u8; people.len() * RECORD];
                for (j, (s, rec)) in people.iter().zip(out.chunks_exact_mut(RECORD)).enumerate() {
                    put_record(rec, ssns[first + j], s);
                }
                let hash = Sha256::digest(&out).into();
                (out, hash)
            })
            .collect();
        for (bytes, hash) in blocks {
            file.write_all(&bytes).map_err(write_err)?;
            hashes.push(hash);
        }
    }
    file.write_all(&extras_bytes).map_err(write_err)?;
    let digest = digest(&header, &names_bytes, &hashes, &extras_bytes);
    file.write_all(&digest).map_err(write_err)?;
    file.write_all(&key.file_tag(DOMAIN, &digest))
        .map_err(write_err)?;
    let file = file.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all().map_err(write_err)?;
    let bytes = file.metadata().map_err(write_err)?.len();
    drop(file);
    std::fs::rename(&tmp, path).map_err(write_err)?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(write_err)?;
    }
    Ok(Written {
        size,
        people: states.len() as u64,
        bytes,
    })
}

/// Reads the snapshot in `bytes` (a whole file): its length, digest and MAC checked before
/// anything is decoded, then every record. The index's head is the snapshot's tree size.
pub fn read(bytes: &[u8], key: &MacKey) -> Result<(Header, Index), SnapshotError> {
    let header = Header::parse(bytes)?;
    let expected = header.file_len().ok_or(SnapshotError::Length {
        len: bytes.len() as u64,
        expected: u64::MAX,
    })?;
    if bytes.len() as u64 != expected {
        return Err(SnapshotError::Length {
            len: bytes.len() as u64,
            expected,
        });
    }
    let mut at = HEADER;
    let mut take = |n: u64| {
        let part = &bytes[at..at + n as usize];
        at += n as usize;
        part
    };
    let names_bytes = take(header.names_bytes);
    let people = take(header.people * RECORD as u64);
    let extras_bytes = take(header.extras_bytes);
    let digest_stored = take(32);
    let tag = take(32);
    let hashes: Vec<[u8; 32]> = people
        .par_chunks(BLOCK * RECORD)
        .map(|b| Sha256::digest(b).into())
        .collect();
    let digest = digest(&bytes[..HEADER], names_bytes, &hashes, extras_bytes);
    if digest[..] != digest_stored[..] || !key.verifies_file(DOMAIN, &digest, tag) {
        return Err(SnapshotError::Mac);
    }
    let corrupt = |what: &str, e: String| SnapshotError::Corrupt(format!("{what}: {e}"));

    let mut table = Vec::with_capacity(header.names as usize);
    let mut rest = names_bytes;
    while let Some((&len, tail)) = rest.split_first() {
        let letters = tail
            .get(..usize::from(len))
            .ok_or_else(|| corrupt("names", "a name runs past its section".into()))?;
        let id = names::intern_letters(letters)
            .ok_or_else(|| corrupt("names", format!("{letters:?} is not a name on file")))?;
        table.push((id, len));
        rest = &tail[usize::from(len)..];
    }
    if table.len() as u64 != header.names {
        return Err(corrupt(
            "names",
            format!("{} where the header says {}", table.len(), header.names),
        ));
    }
    let names = NameMap(table);

    // Decoded on every core straight into the index's columns (no array of tuples between, at
    // national size that would be gigabytes); a bad record is reported once, and nothing is
    // used then.
    let fault: Mutex<Option<String>> = Mutex::new(None);
    let records = || people.par_chunks_exact(RECORD);
    let mut states: Vec<PersonState> = Vec::new();
    records()
        .enumerate()
        .map(|(i, rec)| match get_record(rec, &names) {
            Ok(state) => state,
            Err(e) => {
                fault
                    .lock()
                    .expect("fault lock")
                    .get_or_insert_with(|| format!("person {i}: {e}"));
                PersonState::default()
            }
        })
        .collect_into_vec(&mut states);
    if let Some(e) = fault.into_inner().expect("fault lock") {
        return Err(SnapshotError::Corrupt(e));
    }
    let mut ssns: Vec<u32> = Vec::new();
    records()
        .map(|rec| u32::from_le_bytes(rec[0..4].try_into().expect("4 bytes")))
        .collect_into_vec(&mut ssns);
    let flagged: Vec<u32> = records()
        .enumerate()
        .filter(|(_, rec)| rec[35] & HAS_EXTRA != 0)
        .map(|(i, _)| i as u32)
        .collect();

    let mut rest = extras_bytes;
    let mut seen = 0u64;
    while !rest.is_empty() {
        if rest.len() < 8 {
            return Err(corrupt("extras", "an entry cut short".into()));
        }
        let position = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")) as usize;
        let body = rest
            .get(8..8 + len)
            .ok_or_else(|| corrupt("extras", "an entry runs past its section".into()))?;
        if flagged.get(seen as usize) != Some(&position) {
            return Err(corrupt(
                "extras",
                format!("an entry for person {position}, whose record does not say it has one"),
            ));
        }
        let extra = extra::decode(body, &names)
            .map_err(|e| corrupt(&format!("extras of person {position}"), e))?;
        states[position as usize].extra = Some(Box::new(extra));
        seen += 1;
        rest = &rest[8 + len..];
    }
    if seen != header.extras || flagged.len() as u64 != seen {
        return Err(corrupt(
            "extras",
            format!(
                "{seen} entries, {} people flagged, {} in the header",
                flagged.len(),
                header.extras
            ),
        ));
    }
    let index = Index::from_parts(ssns, states, header.size, header.identity_changes)
        .map_err(|ssn| corrupt("people", format!("SSN {ssn} is listed twice")))?;
    Ok((header, index))
}

/// Reads the snapshot file at `path`, mapped into memory.
pub fn read_file(path: &Path, key: &MacKey) -> Result<(Header, Index), SnapshotError> {
    let read_err = |source| SnapshotError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    // Safety: the file is the registry's own, replaced only by rename (never written in place),
    // so the mapping does not change under the reader.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_err)?;
    let _ = map.advise(memmap2::Advice::Sequential);
    read(&map, key)
}
