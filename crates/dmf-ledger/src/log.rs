//! The Merkle log on disk: its keys, the stored levels of the tree and the signed checkpoints.
//!
//! Layout of `DATA/log/`:
//! - `signing.key` (owner-only): the Ed25519 checkpoint key, in the signed-note text form;
//! - `leaf.key` (owner-only): the secret of the leaf commitments, hex;
//! - `mac.key` (owner-only): the secret of the MAC every stored event carries (see
//!   [`crate::mac`]), hex; a folder made before events carried one gets it at its next open;
//! - `key.pub`: the verifier key anyone checks checkpoints with;
//! - `level-NN.hashes`: the perfect nodes of every eighth tree level (0, 8, 16, …), 32 bytes
//!   each, in order; other nodes are recomputed from the stored level below, at most 128
//!   hashes each, so proofs stay fast at 64 bytes per 2,000 leaves beyond the leaf hashes;
//! - `checkpoint`: the latest signed checkpoint note;
//! - `checkpoints.ndjson`: every checkpoint ever signed, one JSON line each.
//!
//! The stored levels are derived from the events and the leaf key: after a crash they are cut
//! back to their longest consistent prefix and rebuilt from the events. The checkpoints are
//! not derived: the log refuses to sign a tree that does not extend the last one it signed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use dmf_log::{Checkpoint, Frontier, Hash, NodeSource, NoteError, SigningKey, VerifierKey};

use crate::leaf::LeafKey;
use crate::mac::MacKey;

/// The log's folder inside the data folder.
pub const LOG_DIR: &str = "log";
pub const SIGNING_KEY_FILE: &str = "signing.key";
pub const LEAF_KEY_FILE: &str = "leaf.key";
pub const MAC_KEY_FILE: &str = "mac.key";
pub const PUBLIC_KEY_FILE: &str = "key.pub";
pub const CHECKPOINT_FILE: &str = "checkpoint";
pub const HISTORY_FILE: &str = "checkpoints.ndjson";

/// Every `STRIDE`th level of the tree is stored.
const STRIDE: u8 = 8;
const LEVELS: usize = 64 / STRIDE as usize;

/// Why the log could not be read, extended or signed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "{path} can be read by others (mode {mode:o}); a secret key must be owner-only: chmod 600 {path}"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path}: {source}")]
    Note { path: PathBuf, source: NoteError },
    #[error("{path}: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error(
        "the store holds {store} events but the log covers {log}: the store was rolled back or replaced; restore it (run `dmf audit verify`)"
    )]
    Ahead { log: u64, store: u64 },
    #[error("refusing to sign a checkpoint: {0}")]
    Inconsistent(String),
    #[error("no log in {0}: this data folder was not made by `dmf init`")]
    Missing(PathBuf),
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Read {
        path: path.to_owned(),
        source,
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Write {
        path: path.to_owned(),
        source,
    }
}

/// 32 bytes from the operating system's generator.
fn random32() -> Result<[u8; 32], LogError> {
    let mut b = [0; 32];
    getrandom::fill(&mut b).map_err(|e| LogError::Write {
        path: PathBuf::from("(random)"),
        source: io::Error::other(e.to_string()),
    })?;
    Ok(b)
}

/// Writes a new owner-only file; fails if it exists.
fn write_secret(path: &Path, text: &str) -> Result<(), LogError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_err(path))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(write_err(path))
}

/// Reads a secret file, refusing one that others can read.
fn read_secret(path: &Path) -> Result<String, LogError> {
    let meta = fs::metadata(path).map_err(read_err(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(LogError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    fs::read_to_string(path).map_err(read_err(path))
}

/// Creates the log of a new registry: keys, and no leaves yet.
pub fn create(data: &Path, origin: &str) -> Result<VerifierKey, LogError> {
    let dir = data.join(LOG_DIR);
    fs::create_dir(&dir).map_err(write_err(&dir))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(write_err(&dir))?;
    let signer = SigningKey::from_seed(origin, random32()?).map_err(|source| LogError::Note {
        path: dir.join(SIGNING_KEY_FILE),
        source,
    })?;
    write_secret(&dir.join(SIGNING_KEY_FILE), &(signer.to_text() + "\n"))?;
    write_secret(&dir.join(LEAF_KEY_FILE), &(hex(&random32()?) + "\n"))?;
    write_secret(&dir.join(MAC_KEY_FILE), &(hex(&random32()?) + "\n"))?;
    let verifier = signer.verifier();
    let path = dir.join(PUBLIC_KEY_FILE);
    fs::write(&path, verifier.to_text() + "\n").map_err(write_err(&path))?;
    Ok(verifier)
}

/// Bytes as lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits (around white space) as 32 bytes.
pub fn unhex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A checkpoint as kept in the history: its note and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub checkpoint: Checkpoint,
    pub note: String,
}

/// The log's files, read-only: the public key, checkpoints and stored tree levels.
#[derive(Debug)]
pub struct LogFiles {
    dir: PathBuf,
    levels: Vec<Option<File>>,
    /// Complete nodes in each stored level.
    lens: Vec<u64>,
    pub verifier: VerifierKey,
}

impl LogFiles {
    /// Opens the log of the data folder `data`.
    pub fn open(data: &Path) -> Result<LogFiles, LogError> {
        let dir = data.join(LOG_DIR);
        let key_path = dir.join(PUBLIC_KEY_FILE);
        if !key_path.is_file() {
            return Err(LogError::Missing(data.to_owned()));
        }
        let verifier = read_verifier(&key_path)?;
        let mut files = LogFiles {
            dir,
            levels: Vec::new(),
            lens: Vec::new(),
            verifier,
        };
        for i in 0..LEVELS {
            let path = files.level_path(i);
            let file = match File::open(&path) {
                Ok(f) => Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(read_err(&path)(e)),
            };
            let len = match &file {
                Some(f) => f.metadata().map_err(read_err(&path))?.len() / 32,
                None => 0,
            };
            files.levels.push(file);
            files.lens.push(len);
        }
        Ok(files)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn level_path(&self, i: usize) -> PathBuf {
        self.dir
            .join(format!("level-{:02}.hashes", i * STRIDE as usize))
    }

    /// Leaves whose hashes are stored, with every stored level above consistent with them.
    pub fn size(&self) -> u64 {
        let mut n = self.lens[0];
        for (i, &len) in self.lens.iter().enumerate().skip(1) {
            let shift = i as u32 * STRIDE as u32;
            if len < n >> shift {
                n = len << shift;
            }
        }
        n
    }

    /// The file of leaf hashes (level 0 of the tree).
    pub fn leaf_hashes_path(&self) -> PathBuf {
        self.level_path(0)
    }

    /// Leaves in the leaf-hash file, consistent or not: what an audit compares with.
    pub fn stored_leaves(&self) -> u64 {
        self.lens[0]
    }

    /// The stored hash of leaf `index`, if stored.
    pub fn leaf(&self, index: u64) -> Result<Option<Hash>, LogError> {
        if index >= self.lens[0] {
            return Ok(None);
        }
        self.node(0, index)
            .map(Some)
            .map_err(read_err(&self.level_path(0)))
    }

    /// `count` stored nodes of tree level `level` (a multiple of 8) from node `start`, 32 bytes
    /// each: a hash tile of C2SP tlog-tiles, whose levels are the ones stored. `None` when
    /// the level is not stored or does not hold them all.
    pub fn stored_nodes(
        &self,
        level: u8,
        start: u64,
        count: u64,
    ) -> Result<Option<Vec<u8>>, LogError> {
        let stored = usize::from(level / STRIDE);
        if !level.is_multiple_of(STRIDE) || stored >= LEVELS {
            return Ok(None);
        }
        let (Some(end), Some(file)) = (start.checked_add(count), &self.levels[stored]) else {
            return Ok(None);
        };
        if end > self.lens[stored] {
            return Ok(None);
        }
        let mut buf = vec![0u8; count as usize * 32];
        file.read_exact_at(&mut buf, start * 32)
            .map_err(read_err(&self.level_path(stored)))?;
        Ok(Some(buf))
    }

    /// The latest signed checkpoint, if any, checked against the public key.
    pub fn latest(&self) -> Result<Option<Signed>, LogError> {
        let path = self.dir.join(CHECKPOINT_FILE);
        let note = match fs::read_to_string(&path) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(read_err(&path)(e)),
        };
        let checkpoint = dmf_log::open_checkpoint(&note, &self.verifier)
            .map_err(|source| LogError::Note { path, source })?;
        Ok(Some(Signed { checkpoint, note }))
    }

    /// Every checkpoint signed, in order, each checked against the public key. A last line
    /// cut short by a crash is left out.
    pub fn history(&self) -> Result<Vec<Signed>, LogError> {
        let path = self.dir.join(HISTORY_FILE);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(read_err(&path)(e)),
        };
        let mut out = Vec::new();
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        let mut n = 0;
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(read_err(&path))? == 0 {
                break;
            }
            n += 1;
            if !line.ends_with('\n') {
                break;
            }
            let malformed = |reason: String| LogError::Malformed {
                path: path.clone(),
                reason: format!("line {n}: {reason}"),
            };
            let value: serde_json::Value =
                serde_json::from_str(&line).map_err(|e| malformed(e.to_string()))?;
            let note = value["note"]
                .as_str()
                .ok_or_else(|| malformed("no \"note\"".into()))?
                .to_owned();
            let checkpoint = dmf_log::open_checkpoint(&note, &self.verifier)
                .map_err(|e| malformed(e.to_string()))?;
            out.push(Signed { checkpoint, note });
        }
        Ok(out)
    }
}

/// Reads a verifier key: the text itself, or a file holding it.
pub fn read_verifier(path: &Path) -> Result<VerifierKey, LogError> {
    let text = fs::read_to_string(path).map_err(read_err(path))?;
    VerifierKey::parse(&text).map_err(|source| LogError::Note {
        path: path.to_owned(),
        source,
    })
}

impl NodeSource for LogFiles {
    type Error = io::Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash, io::Error> {
        let stored = level / STRIDE;
        let up = level % STRIDE;
        let file = self.levels[stored as usize]
            .as_ref()
            .ok_or_else(|| io::Error::other(format!("tree level {level} is not stored")))?;
        let count = 1usize << up;
        let mut buf = vec![0u8; count * 32];
        file.read_exact_at(&mut buf, (index << up) * 32)?;
        let mut hashes: Vec<Hash> = buf
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        while hashes.len() > 1 {
            hashes = hashes
                .chunks_exact(2)
                .map(|p| dmf_log::node_hash(&p[0], &p[1]))
                .collect();
        }
        Ok(hashes[0])
    }
}

/// The writer's side of the log: appends leaves and signs checkpoints.
#[derive(Debug)]
pub struct LogWriter {
    files: LogFiles,
    writable: Vec<Option<File>>,
    frontier: Frontier,
    signer: SigningKey,
    leaf_key: LeafKey,
    last: Option<Checkpoint>,
    buffers: Vec<Vec<u8>>,
}

impl LogWriter {
    /// Opens the log for writing: the stored levels are cut back to their consistent prefix.
    pub fn open(data: &Path) -> Result<LogWriter, LogError> {
        let mut files = LogFiles::open(data)?;
        let dir = files.dir.clone();
        let signer = read_signer(&files)?;
        let leaf_key = read_leaf_key(data)?;
        let size = files.size();
        let mut writable = Vec::new();
        for i in 0..LEVELS {
            let path = files.level_path(i);
            let want = size >> (i as u32 * STRIDE as u32);
            if files.levels[i].is_none() && want == 0 {
                writable.push(None);
                continue;
            }
            let f = open_rw(&path)?;
            f.set_len(want * 32).map_err(write_err(&path))?;
            files.lens[i] = want;
            files.levels[i] = Some(f.try_clone().map_err(write_err(&path))?);
            writable.push(Some(f));
        }
        let frontier = Frontier::at(&files, size).map_err(read_err(&files.level_path(0)))?;
        let last = files.latest()?.map(|s| s.checkpoint);
        cut_partial_line(&dir.join(HISTORY_FILE))?;
        Ok(LogWriter {
            files,
            writable,
            frontier,
            signer,
            leaf_key,
            last,
            buffers: vec![Vec::new(); LEVELS],
        })
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The size of the last checkpoint signed, if any.
    pub fn signed_size(&self) -> Option<u64> {
        self.last.as_ref().map(|c| c.size)
    }

    pub fn leaf_key(&self) -> &LeafKey {
        &self.leaf_key
    }

    pub fn files(&self) -> &LogFiles {
        &self.files
    }

    /// Appends leaf hashes and stores the nodes they complete.
    pub fn append(&mut self, leaves: &[Hash]) -> Result<(), LogError> {
        let buffers = &mut self.buffers;
        for &leaf in leaves {
            self.frontier.push(leaf, |level, _index, hash| {
                if level % STRIDE == 0 {
                    buffers[(level / STRIDE) as usize].extend_from_slice(hash);
                }
            });
        }
        for i in 0..LEVELS {
            if self.buffers[i].is_empty() {
                continue;
            }
            let path = self.files.level_path(i);
            if self.writable[i].is_none() {
                let f = open_rw(&path)?;
                self.files.levels[i] = Some(f.try_clone().map_err(write_err(&path))?);
                self.writable[i] = Some(f);
            }
            let f = self.writable[i].as_ref().expect("opened");
            f.write_all_at(&self.buffers[i], self.files.lens[i] * 32)
                .map_err(write_err(&path))?;
            self.files.lens[i] += self.buffers[i].len() as u64 / 32;
            self.buffers[i].clear();
        }
        Ok(())
    }

    /// Signs a checkpoint of the current tree, unless the last one already covers it. Refuses
    /// when the tree does not extend the last checkpoint signed.
    pub fn sign(&mut self) -> Result<Checkpoint, LogError> {
        let size = self.frontier.size();
        let root = self.frontier.root();
        if let Some(last) = &self.last {
            if size < last.size {
                return Err(LogError::Inconsistent(format!(
                    "the tree has {size} leaves, fewer than the {} of the last checkpoint signed",
                    last.size
                )));
            }
            let old = dmf_log::root(&self.files, last.size)
                .map_err(read_err(&self.files.level_path(0)))?;
            if old != last.root {
                return Err(LogError::Inconsistent(format!(
                    "the first {} leaves no longer hash to the root signed for that size",
                    last.size
                )));
            }
            if size == last.size {
                return Ok(last.clone());
            }
        }
        let checkpoint = Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        };
        let note = self.signer.sign(&checkpoint);
        let path = self.files.dir.join(HISTORY_FILE);
        let mut history = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(write_err(&path))?;
        let line = history_line(&Signed {
            checkpoint: checkpoint.clone(),
            note: note.clone(),
        });
        history
            .write_all(line.as_bytes())
            .and_then(|()| history.sync_data())
            .map_err(write_err(&path))?;
        let path = self.files.dir.join(CHECKPOINT_FILE);
        let tmp = self.files.dir.join("checkpoint.tmp");
        fs::write(&tmp, &note).map_err(write_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(write_err(&path))?;
        self.last = Some(checkpoint.clone());
        Ok(checkpoint)
    }
}

/// Opens a tree level for reading and appending, creating it if missing.
fn open_rw(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(write_err(path))
}

/// Cuts a last line left without its newline by a crash, so that the next line starts clean.
fn cut_partial_line(path: &Path) -> Result<(), LogError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(read_err(path)(e)),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(write_err(path))?;
    f.set_len(keep as u64).map_err(write_err(path))
}

/// The registry's signing key, checked against its public key. It signs checkpoints and the
/// registry's letters.
pub fn read_signer(files: &LogFiles) -> Result<SigningKey, LogError> {
    let path = files.dir.join(SIGNING_KEY_FILE);
    let signer = SigningKey::parse(&read_secret(&path)?).map_err(|source| LogError::Note {
        path: path.clone(),
        source,
    })?;
    if signer.verifier() != files.verifier {
        return Err(LogError::Malformed {
            path,
            reason: format!("the signing key does not match {PUBLIC_KEY_FILE}"),
        });
    }
    Ok(signer)
}

/// Reads the leaf key of a data folder (owner-only file).
pub fn read_leaf_key(data: &Path) -> Result<LeafKey, LogError> {
    let path = data.join(LOG_DIR).join(LEAF_KEY_FILE);
    let secret = unhex32(&read_secret(&path)?).ok_or_else(|| LogError::Malformed {
        path: path.clone(),
        reason: "not 64 hex digits".into(),
    })?;
    Ok(LeafKey::new(&secret))
}

/// Reads the MAC key of a data folder (owner-only file).
pub fn read_mac_key(data: &Path) -> Result<MacKey, LogError> {
    let path = data.join(LOG_DIR).join(MAC_KEY_FILE);
    let secret = unhex32(&read_secret(&path)?).ok_or_else(|| LogError::Malformed {
        path: path.clone(),
        reason: "not 64 hex digits".into(),
    })?;
    Ok(MacKey::new(&secret))
}

/// Gives a data folder made before events carried a MAC its MAC key. Returns whether it made
/// one; a key already there is kept.
pub fn create_mac_key(data: &Path) -> Result<bool, LogError> {
    let path = data.join(LOG_DIR).join(MAC_KEY_FILE);
    if path.exists() {
        return Ok(false);
    }
    write_secret(&path, &(hex(&random32()?) + "\n"))?;
    Ok(true)
}

/// The secret files of a data folder's log, by name: what a dump carries when asked to. A
/// folder made before events carried a MAC has no `mac.key`.
pub fn read_secrets(data: &Path) -> Result<Vec<(String, String)>, LogError> {
    let dir = data.join(LOG_DIR);
    let mut out = Vec::new();
    for name in [SIGNING_KEY_FILE, LEAF_KEY_FILE, MAC_KEY_FILE] {
        let path = dir.join(name);
        if name == MAC_KEY_FILE && !path.exists() {
            continue;
        }
        out.push((name.to_owned(), read_secret(&path)?));
    }
    Ok(out)
}

/// Checks the secret keys of a registry to restore before anything is written: the signing key
/// is the one `public_key` verifies (keys of another registry are refused), the leaf key is
/// there, and each key reads as one. Errors name each key as a file of `dir`, where the keys
/// come from.
pub fn check_secrets(
    dir: &Path,
    public_key: &str,
    secrets: &[(String, String)],
) -> Result<(), LogError> {
    let verifier = VerifierKey::parse(public_key).map_err(|source| LogError::Note {
        path: dir.join(PUBLIC_KEY_FILE),
        source,
    })?;
    let find = |name: &str| secrets.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    let missing = |name: &str| LogError::Malformed {
        path: dir.join(name),
        reason: "missing from the dump and from the folder given for keys".into(),
    };
    let path = dir.join(SIGNING_KEY_FILE);
    let text = find(SIGNING_KEY_FILE).ok_or_else(|| missing(SIGNING_KEY_FILE))?;
    let signer = SigningKey::parse(text).map_err(|source| LogError::Note {
        path: path.clone(),
        source,
    })?;
    if signer.verifier() != verifier {
        return Err(LogError::Malformed {
            path,
            reason: format!(
                "not the signing key of the registry {:?}: these are another registry's keys",
                verifier.name()
            ),
        });
    }
    let leaf = find(LEAF_KEY_FILE).ok_or_else(|| missing(LEAF_KEY_FILE))?;
    for (name, text) in [
        (LEAF_KEY_FILE, Some(leaf)),
        (MAC_KEY_FILE, find(MAC_KEY_FILE)),
    ] {
        if text.is_some_and(|t| unhex32(t).is_none()) {
            return Err(LogError::Malformed {
                path: dir.join(name),
                reason: "not 64 hex digits".into(),
            });
        }
    }
    Ok(())
}

/// Makes the log folder of a restored registry: its public key, its secret keys (as dumped, or
/// read from another data folder; a new MAC key when they hold none) and the checkpoints it had
/// signed, each checked against the key. The tree levels are rebuilt from the events afterwards.
/// Keys that [`check_secrets`] refuses are refused before anything is written.
pub fn restore(
    data: &Path,
    public_key: &str,
    secrets: &[(String, String)],
    history: &[String],
) -> Result<(), LogError> {
    let dir = data.join(LOG_DIR);
    check_secrets(&dir, public_key, secrets)?;
    let verifier = VerifierKey::parse(public_key).map_err(|source| LogError::Note {
        path: dir.join(PUBLIC_KEY_FILE),
        source,
    })?;
    fs::create_dir_all(data).map_err(write_err(data))?;
    fs::create_dir(&dir).map_err(write_err(&dir))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(write_err(&dir))?;
    for name in [SIGNING_KEY_FILE, LEAF_KEY_FILE] {
        let text = secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .ok_or_else(|| LogError::Malformed {
                path: dir.join(name),
                reason: "missing from the dump and from the folder given for keys".into(),
            })?;
        write_secret(&dir.join(name), text)?;
    }
    // A dump made before events carried a MAC has none: its events have none either, and the
    // ones to come get a new key.
    match secrets.iter().find(|(n, _)| n == MAC_KEY_FILE) {
        Some((_, text)) => write_secret(&dir.join(MAC_KEY_FILE), text)?,
        None => write_secret(&dir.join(MAC_KEY_FILE), &(hex(&random32()?) + "\n"))?,
    }
    let path = dir.join(PUBLIC_KEY_FILE);
    fs::write(&path, verifier.to_text() + "\n").map_err(write_err(&path))?;
    let files = LogFiles::open(data)?;
    read_signer(&files)?;
    read_leaf_key(data)?;
    read_mac_key(data)?;
    let mut lines = String::new();
    for note in history {
        let checkpoint =
            dmf_log::open_checkpoint(note, &verifier).map_err(|source| LogError::Note {
                path: dir.join(HISTORY_FILE),
                source,
            })?;
        lines.push_str(&history_line(&Signed {
            checkpoint,
            note: note.clone(),
        }));
    }
    let path = dir.join(HISTORY_FILE);
    fs::write(&path, lines).map_err(write_err(&path))?;
    if let Some(last) = history.last() {
        let path = dir.join(CHECKPOINT_FILE);
        fs::write(&path, last).map_err(write_err(&path))?;
    }
    Ok(())
}

/// One line of the checkpoint history.
pub fn history_line(s: &Signed) -> String {
    let line = serde_json::json!({
        "size": s.checkpoint.size,
        "root": base64_hash(&s.checkpoint.root),
        "note": s.note,
    });
    format!("{line}\n")
}

pub fn base64_hash(h: &Hash) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}
