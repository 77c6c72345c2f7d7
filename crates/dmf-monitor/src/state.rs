//! What a monitor resumes from. `STATE` (JSON, written whole and atomically after each
//! verified pass): the log's key, the tree verified (its size, root, frontier and the last
//! verified note), the largest size each URL served, the statistics rows and the intake per
//! group and day. Beside it `STATE.hashes`: every leaf hash of the verified tree, 32 bytes a
//! leaf, appended as leaves are read, from which the root at any earlier size is computed
//! (to hold a smaller checkpoint, from another URL or a file, against the tree). Bytes past
//! the state's size (a pass cut short) are cut off when it is opened.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dmf_ledger::stats::Row;
use dmf_log::{Frontier, Hash, NodeSource, VerifierKey, open_checkpoint};
use serde::{Deserialize, Serialize};

use crate::counts::{Counts, IntakeRow};

const FORMAT: &str = "dmf-monitor-state/1";

/// Why a state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a monitor state: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: the state is of the log with key {log}, not of the key given")]
    OtherLog { path: PathBuf, log: String },
}

/// The verified tree and what was counted from it.
#[derive(Debug, Clone)]
pub struct State {
    /// The log's verifier key, as text.
    pub log: String,
    /// The last verified checkpoint note; `None` before the first.
    pub note: Option<String>,
    /// Where that note was read.
    pub note_from: Option<String>,
    pub frontier: Frontier,
    /// The largest size each URL served a checkpoint of, signed by the log.
    pub urls: BTreeMap<String, u64>,
    pub counts: Counts,
    /// Leaves of the tree that could not be counted.
    pub malformed: u64,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format: String,
    log: String,
    size: u64,
    root: String,
    note: Option<String>,
    #[serde(default)]
    note_from: Option<String>,
    /// The frontier's perfect subtrees, largest first.
    frontier: Vec<String>,
    urls: BTreeMap<String, u64>,
    leaves_counted: u64,
    malformed_leaves: u64,
    stats: Vec<Row>,
    intake: Vec<IntakeRow>,
}

/// The frontier's nodes as saved, by level and index.
struct Saved(Vec<(u8, u64, Hash)>);

impl NodeSource for Saved {
    type Error = ();
    fn node(&self, level: u8, index: u64) -> Result<Hash, ()> {
        self.0
            .iter()
            .find(|(l, i, _)| (*l, *i) == (level, index))
            .map(|(_, _, h)| *h)
            .ok_or(())
    }
}

fn decode_hash(text: &str) -> Option<Hash> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

impl State {
    /// Nothing verified yet.
    pub fn new(log: &VerifierKey) -> State {
        State {
            log: log.to_text(),
            note: None,
            note_from: None,
            frontier: Frontier::new(),
            urls: BTreeMap::new(),
            counts: Counts::new(),
            malformed: 0,
        }
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The state in `path`, `None` if there is no such file. It must be of `log`, and hold
    /// together: its frontier's root is its note's.
    pub fn load(path: &Path, log: &VerifierKey) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| StateError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let file: StateFile = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        if file.format != FORMAT {
            return Err(corrupt(format!(
                "format {:?}, expected {FORMAT}",
                file.format
            )));
        }
        if VerifierKey::parse(&file.log).ok().as_ref() != Some(log) {
            return Err(StateError::OtherLog {
                path: path.to_owned(),
                log: file.log,
            });
        }
        let mut nodes = Vec::new();
        let mut bits = file.size;
        for text in &file.frontier {
            if bits == 0 {
                return Err(corrupt("more frontier nodes than the size has".into()));
            }
            let level = 63 - bits.leading_zeros();
            let hash = decode_hash(text).ok_or_else(|| corrupt("a frontier node".into()))?;
            nodes.push((level as u8, (file.size >> level) - 1, hash));
            bits &= !(1 << level);
        }
        let frontier = Frontier::at(&Saved(nodes), file.size)
            .map_err(|()| corrupt("fewer frontier nodes than the size has".into()))?;
        let root = decode_hash(&file.root).ok_or_else(|| corrupt("the root".into()))?;
        if frontier.root() != root {
            return Err(corrupt("the frontier does not hash to the root".into()));
        }
        match &file.note {
            Some(note) => {
                let c =
                    open_checkpoint(note, log).map_err(|e| corrupt(format!("its note: {e}")))?;
                if (c.size, c.root) != (file.size, root) {
                    return Err(corrupt("its note is not of its tree".into()));
                }
            }
            None if file.size != 0 => return Err(corrupt("a tree without a note".into())),
            None => {}
        }
        let counts =
            Counts::restore(file.leaves_counted, file.stats, file.intake).map_err(corrupt)?;
        Ok(Some(State {
            log: file.log,
            note: file.note,
            note_from: file.note_from,
            frontier,
            urls: file.urls,
            counts,
            malformed: file.malformed_leaves,
        }))
    }

    /// Writes the state to `path` whole: a file beside it, flushed, renamed over it.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let file = StateFile {
            format: FORMAT.into(),
            log: self.log.clone(),
            size: self.size(),
            root: STANDARD.encode(self.root()),
            note: self.note.clone(),
            note_from: self.note_from.clone(),
            frontier: self
                .frontier
                .nodes()
                .map(|(_, _, h)| STANDARD.encode(h))
                .collect(),
            urls: self.urls.clone(),
            leaves_counted: self.counts.leaves(),
            malformed_leaves: self.malformed,
            stats: self.counts.rows(),
            intake: self.counts.intake_rows(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("serialisable");
        text.push('\n');
        let io = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let tmp = sibling(path, ".tmp");
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)?;
        sync_dir(path).map_err(io)
    }
}

/// `path` with `suffix` added to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// The leaf hashes of the verified tree, 32 bytes a leaf, in a file (the state's, or an
/// unnamed temporary one when there is no state).
#[derive(Debug)]
pub struct Hashes {
    file: File,
    path: PathBuf,
    /// Leaves in the file, written or buffered.
    len: u64,
    buffer: Vec<u8>,
}

const BUFFER: usize = 1 << 20;

impl Hashes {
    /// The file beside the state at `state` (`STATE.hashes`), holding at least `size` leaves
    /// (cut back to that); without a state, a temporary file of none.
    pub fn open(state: Option<&Path>, size: u64) -> Result<Hashes, StateError> {
        let Some(state) = state else {
            let path = PathBuf::from("(temporary file)");
            let file = tempfile::tempfile().map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
            return Ok(Hashes {
                file,
                path,
                len: 0,
                buffer: Vec::new(),
            });
        };
        let path = sibling(state, ".hashes");
        let io = |source| StateError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let have = file.metadata().map_err(io)?.len();
        if have < size * 32 {
            return Err(StateError::Corrupt {
                path: path.clone(),
                reason: format!("{} leaf hashes for a tree of {size}", have / 32),
            });
        }
        file.set_len(size * 32).map_err(io)?;
        Ok(Hashes {
            file,
            path,
            len: size,
            buffer: Vec::new(),
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn io(&self) -> impl Fn(io::Error) -> StateError + '_ {
        |source| StateError::Io {
            path: self.path.clone(),
            source,
        }
    }

    pub fn push(&mut self, hash: &Hash) -> Result<(), StateError> {
        self.buffer.extend_from_slice(hash);
        self.len += 1;
        if self.buffer.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StateError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let at = self.len * 32 - self.buffer.len() as u64;
        self.file
            .write_all_at(&self.buffer, at)
            .map_err(self.io())?;
        self.buffer.clear();
        Ok(())
    }

    /// Flushes and makes durable what was pushed.
    pub fn sync(&mut self) -> Result<(), StateError> {
        self.flush()?;
        self.file.sync_data().map_err(self.io())
    }

    /// Forgets the leaves past `size` (those of a pass that did not verify).
    pub fn truncate(&mut self, size: u64) -> Result<(), StateError> {
        self.flush()?;
        self.file.set_len(size * 32).map_err(self.io())?;
        self.len = size.min(self.len);
        Ok(())
    }

    /// The root of the first `size` leaves (no more than there are).
    pub fn root_at(&mut self, size: u64) -> Result<Hash, StateError> {
        assert!(size <= self.len, "root_at({size}) of {} leaves", self.len);
        self.flush()?;
        let mut frontier = Frontier::new();
        let mut chunk = vec![0u8; BUFFER];
        let mut at = 0u64;
        while at < size {
            let n = ((size - at) as usize).min(BUFFER / 32);
            let bytes = &mut chunk[..n * 32];
            self.file.read_exact_at(bytes, at * 32).map_err(self.io())?;
            for h in bytes.chunks_exact(32) {
                frontier.push(h.try_into().expect("32 bytes"), |_, _, _| {});
            }
            at += n as u64;
        }
        Ok(frontier.root())
    }
}
