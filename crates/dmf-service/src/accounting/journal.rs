//! The accounting file's journal: a batch of disclosures is made durable by one sequential
//! write and one `fdatasync` of a file of its own, and filed into the SQLite table afterwards,
//! on a thread of its own, once its answers have gone.
//!
//! Why: a disclosure of a person lands on a random leaf of the table's index by person, so a
//! commit straight to SQLite writes and syncs a page per disclosure, and now and then a
//! checkpoint, all before the answer may leave. The journal writes a few hundred bytes in
//! order into a file already allocated, which syncs in one device flush.
//!
//! The file (`<accounting file>.journal`) holds records from its start:
//! `[body length u32][CRC-32 of the body u32][body]`, the body being the journal's number of
//! the disclosure (u64, one more than the record before), the SSN, time, key id, and the key's
//! name, the purpose and the fields, each as a u16 length and its bytes. Reading stops at the
//! first record that is cut short, fails its CRC or does not follow its predecessor's number:
//! a write torn by a crash was never acknowledged, and what lies beyond is older.
//!
//! The table `journal_filed` holds the number of the last record filed, in the same transaction
//! as the rows, so a record is filed exactly once: at open, the records after it are filed, and
//! the journal starts again at its beginning once everything in it is filed and synced. Only
//! one process writes the journal (it holds the file's lock); a second one, such as a dump
//! while the server runs, writes straight to SQLite with every commit synced, as before.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::sqlite::SqliteDisclosures;
use super::{AccountingError, Disclosure, DisclosureStore, RETRY_AFTER};

/// The journal starts again at its beginning once it has grown past this.
const WRAP_AT: u64 = 64 << 20;

/// The file is grown in steps of this, written with zeros and synced once, so that the sync
/// of each batch after it changes no file size or block map.
const GROW_BY: u64 = 4 << 20;

/// Rows filed in one transaction at least, unless [`FILE_EVERY`] passes first.
const FILE_ROWS: usize = 8_192;

/// Rows wait at most about this long to be filed (readers file first anyway).
const FILE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// A record's body is never longer (names, purposes and field lists are short).
const MAX_BODY: usize = 1 << 16;

/// The journal's file name beside the accounting file.
pub fn journal_path(accounting: &Path) -> PathBuf {
    let mut name = accounting.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// The accounting file behind its journal.
pub struct JournaledDisclosures {
    shared: Arc<Shared>,
    filer: Option<JoinHandle<()>>,
}

struct Shared {
    sqlite: SqliteDisclosures,
    journal: Mutex<Journal>,
    /// Held while rows are taken and filed, so a reader that files first finds every row
    /// made durable before it in the table; the list's own lock is held only briefly, so the
    /// journal's writer never waits for a filing.
    filing: Mutex<()>,
    unfiled: Mutex<Unfiled>,
    /// The filer waits here for records to file, or for the store to close.
    work: Condvar,
}

struct Journal {
    file: File,
    path: String,
    /// Where the next record goes.
    at: u64,
    /// Bytes allocated (written with zeros or records).
    len: u64,
    /// The number of the next record.
    next: u64,
    wrap_at: u64,
}

#[derive(Default)]
struct Unfiled {
    /// Durable in the journal, not yet in the table: (number, disclosure), in order.
    rows: Vec<(u64, Disclosure)>,
    closing: bool,
}

impl JournaledDisclosures {
    /// Opens the accounting file at `path` and its journal, filing what the journal holds
    /// beyond the table. `None` when another process holds the journal.
    pub fn open(path: &Path) -> Result<Option<JournaledDisclosures>, AccountingError> {
        JournaledDisclosures::open_wrapping(path, WRAP_AT)
    }

    /// [`JournaledDisclosures::open`] with the journal starting again past `wrap_at` bytes.
    pub(crate) fn open_wrapping(
        path: &Path,
        wrap_at: u64,
    ) -> Result<Option<JournaledDisclosures>, AccountingError> {
        let jpath = journal_path(path);
        let shown = jpath.display().to_string();
        let open_error = |e: std::io::Error| AccountingError::Open {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&jpath)
            .map_err(open_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(open_error(e)),
        }
        let sqlite = SqliteDisclosures::open_journaled(path)?;
        let filed = sqlite
            .journal_filed()
            .map_err(|reason| AccountingError::Open {
                path: path.display().to_string(),
                reason,
            })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(open_error)?;
        let records = read_records(&bytes);
        let last = records.last().map_or(filed, |(n, _)| (*n).max(filed));
        let behind: Vec<_> = records.into_iter().filter(|(n, _)| *n > filed).collect();
        let replayed = |reason: String| AccountingError::Open {
            path: shown.clone(),
            reason: format!("cannot file the journal's disclosures: {reason}"),
        };
        if !behind.is_empty() {
            tracing::info!(records = behind.len(), journal = %shown, "filing disclosures from the journal");
            sqlite.file(&behind).map_err(replayed)?;
        }
        // Everything in the journal is now in the table; synced before the journal's start is
        // written over.
        sqlite.sync().map_err(replayed)?;
        let journal = Journal {
            len: bytes.len() as u64,
            file,
            path: shown.clone(),
            at: 0,
            next: last + 1,
            wrap_at,
        };
        let shared = Arc::new(Shared {
            sqlite,
            journal: Mutex::new(journal),
            filing: Mutex::new(()),
            unfiled: Mutex::new(Unfiled::default()),
            work: Condvar::new(),
        });
        let filing = Arc::clone(&shared);
        let filer = std::thread::Builder::new()
            .name("dmf-accounting-filer".into())
            .spawn(move || filing.file_loop())
            .map_err(open_error)?;
        Ok(Some(JournaledDisclosures {
            shared,
            filer: Some(filer),
        }))
    }
}

impl std::fmt::Debug for JournaledDisclosures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let journal = lock(&self.shared.journal);
        f.debug_struct("JournaledDisclosures")
            .field("journal", &journal.path)
            .field("at", &journal.at)
            .field("next", &journal.next)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn file_loop(&self) {
        loop {
            {
                // Filed in large transactions: the rows of one share the table's and the
                // index's pages, which a transaction a batch would write again and again.
                let mut unfiled = lock(&self.unfiled);
                while unfiled.rows.len() < FILE_ROWS && !unfiled.closing {
                    let (next, waited) = self
                        .work
                        .wait_timeout(unfiled, FILE_EVERY)
                        .unwrap_or_else(PoisonError::into_inner);
                    unfiled = next;
                    if waited.timed_out() && !unfiled.rows.is_empty() {
                        break;
                    }
                }
                if unfiled.closing && unfiled.rows.is_empty() {
                    return;
                }
            }
            if let Err(reason) = self.file_all() {
                // The rows are durable in the journal, and a reader files them before it
                // reads; the filer tries again after a pause.
                tracing::warn!(%reason, "disclosures could not be filed from the journal; retrying");
                let unfiled = lock(&self.unfiled);
                let _ = self
                    .work
                    .wait_timeout(unfiled, RETRY_AFTER)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// Files everything durable in the journal into the table.
    fn file_all(&self) -> Result<(), String> {
        let _filing = lock(&self.filing);
        let rows = std::mem::take(&mut lock(&self.unfiled).rows);
        if rows.is_empty() {
            return Ok(());
        }
        self.sqlite.file(&rows).inspect_err(|_| {
            // Back in front, in order.
            let mut unfiled = lock(&self.unfiled);
            let later = std::mem::replace(&mut unfiled.rows, rows);
            unfiled.rows.extend(later);
        })
    }

    fn read_error(reason: String) -> AccountingError {
        AccountingError::Read(format!(
            "disclosures in the journal could not be filed: {reason}"
        ))
    }
}

impl Journal {
    /// Writes encoded records after the last and syncs them.
    fn append(&mut self, records: &[u8]) -> Result<(), String> {
        let end = self.at + records.len() as u64;
        if end > self.len {
            let grown = end.div_ceil(GROW_BY) * GROW_BY;
            let zeros = vec![0u8; (grown - self.len) as usize];
            self.file
                .write_all_at(&zeros, self.len)
                .and_then(|()| self.file.sync_all())
                .map_err(|e| format!("cannot grow {}: {e}", self.path))?;
            self.len = grown;
        }
        self.file
            .write_all_at(records, self.at)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", self.path))?;
        self.at = end;
        Ok(())
    }
}

impl DisclosureStore for JournaledDisclosures {
    fn append(&self, batch: &[Disclosure]) -> Result<(), String> {
        let shared = &*self.shared;
        let mut journal = lock(&shared.journal);
        if journal.at >= journal.wrap_at {
            // Start again at the beginning, once what is there is filed and synced.
            shared.file_all()?;
            shared.sqlite.sync()?;
            journal.at = 0;
        }
        let first = journal.next;
        let mut records = Vec::with_capacity(batch.len() * 128);
        for (i, d) in batch.iter().enumerate() {
            encode(&mut records, first + i as u64, d);
        }
        journal.append(&records)?;
        journal.next += batch.len() as u64;
        // Handed to the filer before the journal is let go: a concurrent append that starts
        // the journal again first files everything written to it.
        let mut unfiled = lock(&shared.unfiled);
        let before = unfiled.rows.len();
        unfiled.rows.extend(
            batch
                .iter()
                .enumerate()
                .map(|(i, d)| (first + i as u64, d.clone())),
        );
        if before < FILE_ROWS && unfiled.rows.len() >= FILE_ROWS {
            shared.work.notify_one();
        }
        drop(journal);
        Ok(())
    }

    fn for_person(&self, ssn: u32) -> Result<Vec<Disclosure>, AccountingError> {
        self.file_journal()?;
        self.shared.sqlite.for_person(ssn)
    }

    fn file_journal(&self) -> Result<(), AccountingError> {
        self.shared.file_all().map_err(Shared::read_error)
    }

    fn for_each(
        &self,
        each: &mut dyn FnMut(Disclosure) -> std::io::Result<()>,
    ) -> Result<u64, AccountingError> {
        self.file_journal()?;
        self.shared.sqlite.for_each(each)
    }

    fn counts(&self) -> Result<Vec<(String, u64)>, AccountingError> {
        self.file_journal()?;
        self.shared.sqlite.counts()
    }
}

impl Drop for JournaledDisclosures {
    /// Files what is left; what cannot be is filed from the journal at the next open.
    fn drop(&mut self) {
        lock(&self.shared.unfiled).closing = true;
        self.shared.work.notify_one();
        if let Some(filer) = self.filer.take() {
            let _ = filer.join();
        }
        if let Err(reason) = self.shared.file_all() {
            tracing::warn!(%reason, "disclosures left in the journal, filed at the next open");
        }
    }
}

/// Appends the record of disclosure number `n` to `out`.
fn encode(out: &mut Vec<u8>, n: u64, d: &Disclosure) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&d.ssn.to_le_bytes());
    out.extend_from_slice(&d.at_ms.to_le_bytes());
    out.extend_from_slice(&d.key_id.to_le_bytes());
    let fields = super::join_fields(&d.fields);
    for text in [d.key_name.as_str(), d.purpose.as_str(), fields.as_str()] {
        // Longer texts are not made by any route; cut rather than refuse a legal record.
        let bytes = &text.as_bytes()[..text.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let body_len = (out.len() - start - 8) as u32;
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&body_len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The records at the start of `bytes` that follow one another, up to the first that is cut
/// short, damaged, or not the next in number.
fn read_records(bytes: &[u8]) -> Vec<(u64, Disclosure)> {
    let mut out: Vec<(u64, Disclosure)> = Vec::new();
    let mut rest = bytes;
    while let Some((n, d, after)) = read_record(rest) {
        if out.last().is_some_and(|(last, _)| n != last + 1) {
            break;
        }
        out.push((n, d));
        rest = after;
    }
    out
}

fn read_record(bytes: &[u8]) -> Option<(u64, Disclosure, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    let len = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head[4..].try_into().ok()?);
    if len == 0 || len > MAX_BODY || rest.len() < len {
        return None;
    }
    let (body, after) = rest.split_at(len);
    if crc32fast::hash(body) != crc {
        return None;
    }
    let mut r = Reader(body);
    let n = u64::from_le_bytes(r.take()?);
    let ssn = u32::from_le_bytes(r.take()?);
    let at_ms = i64::from_le_bytes(r.take()?);
    let key_id = i64::from_le_bytes(r.take()?);
    let key_name = r.text()?;
    let purpose = r.text()?;
    let fields = r.text()?;
    if !r.0.is_empty() {
        return None;
    }
    let d = Disclosure {
        ssn,
        at_ms,
        key_id,
        key_name,
        purpose,
        fields: super::split_fields(&fields),
    };
    Some((n, d, after))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn text(&mut self) -> Option<String> {
        let len = u16::from_le_bytes(self.take()?) as usize;
        if self.0.len() < len {
            return None;
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).ok()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Reaches inside the journal for the crash tests.

    /// The records the journal file at `path` holds, as the next open reads them.
    pub fn records(path: &std::path::Path) -> Vec<(u64, super::Disclosure)> {
        super::read_records(&std::fs::read(path).unwrap())
    }

    pub fn encode(n: u64, d: &super::Disclosure) -> Vec<u8> {
        let mut out = Vec::new();
        super::encode(&mut out, n, d);
        out
    }
}
