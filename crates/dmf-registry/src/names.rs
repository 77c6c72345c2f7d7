//! Names on file as 4-byte numbers: every distinct name is kept once for the whole process.
//!
//! At national size a person's state must cost a few dozen bytes, and the letters of two names
//! inline cost 35. A name on file is therefore interned: [`NameKey::of`] stores its letters once
//! and hands out a number that reads back as those letters. Names asked about are never
//! interned ([`Letters`]), so that callers cannot grow the table with made-up names; only names
//! applied from stored events enter it, and there are as many of those as distinct names on
//! file (hundreds of thousands at most), so the table is never shrunk.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{LazyLock, RwLock};

use dmf_model::dmf_form;

/// The letters of a name, uppercase ASCII, at most `N` of them (the DMF field widths: 15 for a
/// first name, 20 for a last name), on the stack.
#[derive(Debug, Clone, Copy)]
pub struct Letters<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> Letters<N> {
    pub fn of(name: &str) -> Letters<N> {
        let mut out = Letters {
            buf: [0; N],
            len: 0,
        };
        let mut push = |b: u8| {
            if b.is_ascii_alphabetic() && usize::from(out.len) < N {
                out.buf[usize::from(out.len)] = b.to_ascii_uppercase();
                out.len += 1;
            }
        };
        if name.is_ascii() {
            name.bytes().for_each(&mut push);
        } else {
            // Rare: accented letters are transliterated first.
            dmf_form(name).bytes().for_each(&mut push);
        }
        out
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// A name on file: the number of its letters in the process's table of names.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NameKey<const N: usize> {
    id: NonZeroU32,
}

impl<const N: usize> NameKey<N> {
    /// The key of `name`'s letters (see [`Letters`]), entered in the table if new.
    pub fn of(name: &str) -> NameKey<N> {
        NameKey {
            id: intern(Letters::<N>::of(name).as_bytes()),
        }
    }

    pub fn as_bytes(&self) -> &'static [u8] {
        resolve(self.id)
    }

    /// The key's number in the process's table (what a snapshot writes).
    pub(crate) fn number(self) -> u32 {
        self.id.get()
    }

    /// The key of a number [`intern_letters`] gave for letters of `len` bytes, if they fit this
    /// kind of name.
    pub(crate) fn from_number(id: NonZeroU32, len: usize) -> Option<NameKey<N>> {
        (len <= N).then_some(NameKey { id })
    }

    pub fn as_str(&self) -> &'static str {
        std::str::from_utf8(self.as_bytes()).expect("ASCII letters")
    }
}

impl<const N: usize> std::fmt::Debug for NameKey<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl<const N: usize> std::fmt::Display for NameKey<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A first name's key.
pub type FirstKey = NameKey<15>;
/// A last name's key.
pub type LastKey = NameKey<20>;

/// Letters are copied into blocks of this size that live as long as the process, so that a
/// name read back is a plain `&'static` slice and no lookup holds the lock past the read.
const BLOCK: usize = 64 * 1024;

#[derive(Default)]
struct Table {
    ids: HashMap<&'static [u8], NonZeroU32>,
    /// Letters by number: entry `i` is number `i + 1`.
    names: Vec<&'static [u8]>,
    /// What is left of the current block.
    free: &'static mut [u8],
}

static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(|| RwLock::new(Table::default()));

fn intern(letters: &[u8]) -> NonZeroU32 {
    if let Some(&id) = TABLE.read().expect("name table").ids.get(letters) {
        return id;
    }
    let mut t = TABLE.write().expect("name table");
    if let Some(&id) = t.ids.get(letters) {
        return id;
    }
    if t.free.len() < letters.len() {
        t.free = Box::leak(vec![0u8; BLOCK].into_boxed_slice());
    }
    let (stored, rest) = std::mem::take(&mut t.free).split_at_mut(letters.len());
    stored.copy_from_slice(letters);
    t.free = rest;
    let stored: &'static [u8] = stored;
    let id = u32::try_from(t.names.len() + 1)
        .ok()
        .and_then(NonZeroU32::new)
        .expect("fewer than 4 billion distinct names");
    t.names.push(stored);
    t.ids.insert(stored, id);
    id
}

/// Every name in the table, in number order: entry `i` is number `i + 1`.
pub(crate) fn all_names() -> Vec<&'static [u8]> {
    TABLE.read().expect("name table").names.clone()
}

/// The number of letters read back from a snapshot, entered in the table if new; `None` unless
/// they are at most 20 uppercase ASCII letters, the only names the table holds.
pub(crate) fn intern_letters(letters: &[u8]) -> Option<NonZeroU32> {
    let ok = letters.len() <= 20 && letters.iter().all(u8::is_ascii_uppercase);
    ok.then(|| intern(letters))
}

/// Whether these letters are in the table (for tests: names asked about must not be).
#[cfg(test)]
pub(crate) fn is_interned(letters: &[u8]) -> bool {
    TABLE.read().expect("name table").ids.contains_key(letters)
}

fn resolve(id: NonZeroU32) -> &'static [u8] {
    TABLE.read().expect("name table").names[id.get() as usize - 1]
}
