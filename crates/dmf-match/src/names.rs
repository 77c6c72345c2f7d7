//! Name knowledge shared by both files: the normal form of a name, interning to `u32` ids, and
//! per distinct name its phonetic codes and nickname groups, computed once.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use rayon::prelude::*;
use rphonetic::{DoubleMetaphone, Encoder, Nysiis};

use crate::hash::BuildNameHasher;

/// The id of an absent name.
pub(crate) const NONE: u32 = u32::MAX;

/// Longer names are cut here: the DMF holds at most 20 letters, and the rest of a longer name
/// says little about a match.
pub(crate) const MAX_NAME: usize = 48;

/// Words that end a surname in client files but sit in their own field in the DMF.
const SUFFIXES: [&[u8]; 5] = [b"JR", b"SR", b"II", b"III", b"IV"];

/// Shared name knowledge: nickname groups (from the shipped table), phonetic encoders, and the
/// interned names of every [`crate::Prepared`] built with these tables.
///
/// Records prepared with the same tables share name ids, so an exact name comparison is one
/// integer comparison. Interning takes a write lock once per batch of new names; comparisons
/// read under one shared lock per call. Every function that takes tables and prepared records
/// panics if the records were prepared with other tables: their ids would mean other names.
pub struct NameTables {
    id: u64,
    /// Normal form of a name → sorted ids of the nickname groups it belongs to.
    nicknames: HashMap<Box<[u8]>, Box<[u32]>, BuildNameHasher>,
    store: RwLock<NameStore>,
}

/// What the comparisons need of one distinct name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameInfo {
    start: u32,
    pub len: u8,
    /// The first letter.
    pub initial: u8,
    groups_len: u8,
    groups_start: u32,
    /// Double Metaphone primary and alternate codes, packed (0 for none).
    pub dm: [u32; 2],
    /// NYSIIS code (six letters at most), packed.
    pub nysiis: u32,
    /// The letters in unary, four bits per letter (`AAB` is `0011` for A, `0001` for B), so
    /// that `(a & b).count_ones()` bounds the letters two names can match.
    pub letters: [u64; 2],
}

/// A name of at most 16 letters packed into two words, zero-padded (names hold no zero
/// byte): most names, looked up without following a pointer or calling `memcmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortName([u64; 2]);

impl ShortName {
    #[inline]
    fn new(name: &[u8]) -> Option<ShortName> {
        if name.len() > 16 {
            return None;
        }
        let mut b = [0u8; 16];
        b[..name.len()].copy_from_slice(name);
        let (lo, hi) = b.split_at(8);
        Some(ShortName([
            u64::from_le_bytes(lo.try_into().expect("eight bytes")),
            u64::from_le_bytes(hi.try_into().expect("eight bytes")),
        ]))
    }
}

impl std::hash::Hash for ShortName {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
        state.write_u64(self.0[1]);
    }
}

/// The interned names.
#[derive(Debug, Default)]
pub(crate) struct NameStore {
    /// Name → id and Double Metaphone primary code, which preparing a record needs.
    short: HashMap<ShortName, (u32, u32), BuildNameHasher>,
    long: HashMap<Box<[u8]>, (u32, u32), BuildNameHasher>,
    info: Vec<NameInfo>,
    bytes: Vec<u8>,
    groups: Vec<u32>,
}

impl NameStore {
    /// The id and Double Metaphone primary code of a name.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<(u32, u32)> {
        match ShortName::new(name) {
            Some(short) => self.short.get(&short).copied(),
            None => self.long.get(name).copied(),
        }
    }

    #[inline]
    pub fn info(&self, id: u32) -> &NameInfo {
        &self.info[id as usize]
    }

    #[inline]
    pub fn bytes(&self, info: &NameInfo) -> &[u8] {
        &self.bytes[info.start as usize..info.start as usize + info.len as usize]
    }

    #[inline]
    pub fn groups(&self, info: &NameInfo) -> &[u32] {
        &self.groups[info.groups_start as usize..][..info.groups_len as usize]
    }

    pub fn len(&self) -> usize {
        self.info.len()
    }
}

impl NameTables {
    /// Tables with the nickname pairs shipped in `dmf-data`.
    pub fn shipped() -> NameTables {
        NameTables::with_nicknames(&dmf_data::nicknames())
    }

    /// Tables with these `(name, nickname)` pairs, in any case: names that share a formal name
    /// (the first of a pair) are nicknames of each other.
    pub fn with_nicknames(pairs: &[(String, String)]) -> NameTables {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let mut formal: HashMap<Box<[u8]>, u32, BuildNameHasher> = HashMap::default();
        let mut groups: HashMap<Box<[u8]>, Vec<u32>, BuildNameHasher> = HashMap::default();
        let mut buf = [0u8; MAX_NAME];
        for (name, nickname) in pairs {
            let name = normal_form(name, false, &mut buf)
                .to_vec()
                .into_boxed_slice();
            if name.is_empty() {
                continue;
            }
            let next = formal.len() as u32;
            let g = *formal.entry(name.clone()).or_insert(next);
            groups.entry(name).or_default().push(g);
            let nickname = normal_form(nickname, false, &mut buf);
            if !nickname.is_empty() {
                groups.entry(nickname.into()).or_default().push(g);
            }
        }
        let nicknames = groups
            .into_iter()
            .map(|(name, mut g)| {
                g.sort_unstable();
                g.dedup();
                // Names of more than 255 groups would not fit `NameInfo`; none comes close.
                g.truncate(u8::MAX as usize);
                (name, g.into_boxed_slice())
            })
            .collect();
        NameTables {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            nicknames,
            store: RwLock::new(NameStore::default()),
        }
    }

    /// Distinct names interned so far.
    pub fn names(&self) -> usize {
        self.read().len()
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, NameStore> {
        // A panic while interning leaves whole entries or none; the store stays usable.
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds names (normal forms) not yet interned, computing their codes on all threads.
    pub(crate) fn intern(&self, names: Vec<Box<[u8]>>) {
        if names.is_empty() {
            return;
        }
        let dm = DoubleMetaphone::default();
        let nysiis = Nysiis::default();
        let computed: Vec<(Box<[u8]>, [u32; 2], u32)> = names
            .into_par_iter()
            .map(|name| {
                let text = std::str::from_utf8(&name).unwrap_or_default();
                let codes = dm.double_metaphone(text);
                let primary = pack(codes.primary().as_bytes());
                let alternate = pack(codes.alternate().as_bytes());
                let ny = pack(nysiis.encode(text).as_bytes());
                (name, [primary, alternate], ny)
            })
            .collect();
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        let store = &mut *store;
        for (name, dm, nysiis) in computed {
            if store.get(&name).is_some() {
                continue;
            }
            let id = store.info.len() as u32;
            assert!(id < NONE, "more than 4 billion distinct names");
            let groups: &[u32] = self.nicknames.get(&name).map_or(&[], |g| g);
            let info = NameInfo {
                start: store.bytes.len() as u32,
                len: name.len() as u8,
                initial: name[0],
                groups_len: groups.len() as u8,
                groups_start: store.groups.len() as u32,
                dm,
                nysiis,
                letters: letters(&name),
            };
            store.bytes.extend_from_slice(&name);
            store.groups.extend_from_slice(groups);
            store.info.push(info);
            match ShortName::new(&name) {
                Some(short) => store.short.insert(short, (id, dm[0])),
                None => store.long.insert(name, (id, dm[0])),
            };
        }
    }
}

impl fmt::Debug for NameTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NameTables")
            .field("nickname_names", &self.nicknames.len())
            .field("names", &self.names())
            .finish()
    }
}

/// Letter counts in unary, four bits per letter, 26 letters over two words; a name with a
/// letter more than four times gets every bit set, which bounds nothing.
fn letters(name: &[u8]) -> [u64; 2] {
    let mut counts = [0u8; 26];
    for &b in name {
        if b.is_ascii_uppercase() {
            counts[(b - b'A') as usize] += 1;
        }
    }
    if counts.iter().any(|&c| c > 4) {
        return [u64::MAX; 2];
    }
    let mut out = [0u64; 2];
    for (i, &c) in counts.iter().enumerate() {
        out[i / 13] |= ((1u64 << c) - 1) << (4 * (i % 13));
    }
    out
}

/// Packs a phonetic code of up to six characters into 30 bits; 0 for an empty code.
fn pack(code: &[u8]) -> u32 {
    code.iter().take(6).fold(0, |acc, &c| {
        let v = match c {
            b'A'..=b'Z' => c - b'A' + 1,
            b'a'..=b'z' => c - b'a' + 1,
            b'0' => 27,
            _ => 28,
        };
        acc << 5 | u32::from(v)
    })
}

/// Words files put where a name is unknown: such a name is missing, not a name that differs.
const PLACEHOLDERS: [&[u8]; 11] = [
    b"UNKNOWN",
    b"UNK",
    b"NONE",
    b"NFN",
    b"NMN",
    b"FNU",
    b"LNU",
    b"BABY",
    b"BABYBOY",
    b"BABYGIRL",
    b"INFANT",
];

/// The form names are compared in: uppercase letters only (`O'BRIEN` and `OBRIEN` are one
/// name), cut at [`MAX_NAME`]; for a surname, a trailing `JR`, `SR`, `II`, `III` or `IV` word is
/// dropped, since the DMF keeps the suffix in a field of its own. A placeholder (`UNKNOWN`,
/// `FNU`, `BABY GIRL`: [`PLACEHOLDERS`]) is empty, a missing name.
pub(crate) fn normal_form<'b>(text: &str, surname: bool, buf: &'b mut [u8; MAX_NAME]) -> &'b [u8] {
    let mut bytes = text.as_bytes();
    if surname {
        let trimmed = text.trim_end_matches([' ', '.', ',']);
        if let Some(space) = trimmed.rfind([' ', ',']) {
            let word = &trimmed.as_bytes()[space + 1..];
            let head = trimmed[..space].trim_end_matches([' ', ',']);
            if !head.is_empty() && SUFFIXES.iter().any(|s| s.eq_ignore_ascii_case(word)) {
                bytes = head.as_bytes();
            }
        }
    }
    let mut n = 0;
    for &b in bytes {
        if n == MAX_NAME {
            break;
        }
        if b.is_ascii_alphabetic() {
            buf[n] = b.to_ascii_uppercase();
            n += 1;
        }
    }
    if PLACEHOLDERS.contains(&&buf[..n]) {
        n = 0;
    }
    &buf[..n]
}
