//! The witness: its key, the logs it follows, the latest checkpoint it cosigned of each, and
//! C2SP tlog-witness `add-checkpoint` answered without HTTP.
//!
//! Its folder:
//! - `witness.key` (owner-only): its `cosignature/v1` key, made at the first start;
//! - `key.pub`: its verifier key, for logs to list it and verifiers to check it;
//! - `witness.lock`: held by the one process serving from the folder;
//! - `state/<SHA-256 of the origin, hex>`: per log, the latest checkpoint note it cosigned,
//!   with the log's signature and its own, replaced whole (temporary file, fsync, rename,
//!   fsync of the folder) before the cosignature is given out;
//! - `evidence/<size>-<hash>`: requests refused with a checkpoint the log validly signed that
//!   does not extend the one cosigned (422, or 409 at the same size with another root), each
//!   as sent: a signed checkpoint inconsistent with another is proof that the log forked.
//!
//! The state is what makes the witness worth asking: a witness that loses it may cosign a fork
//! of what it cosigned before, so it must start again under a new key (docs/WITNESS.md).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use dmf_log::{
    AddCheckpoint, Checkpoint, CosignerKey, CosignerVerifier, EMPTY_ROOT, Hash, Note, NoteError,
    VerifierKey, open_checkpoint, verify_consistency,
};
use sha2::{Digest, Sha256};

use crate::files;

pub const KEY_FILE: &str = "witness.key";
pub const PUBLIC_KEY_FILE: &str = "key.pub";
pub const LOCK_FILE: &str = "witness.lock";
pub const STATE_DIR: &str = "state";
pub const EVIDENCE_DIR: &str = "evidence";
/// A key made without a name is named this and 16 random hex digits: no two witnesses share a
/// name by default, which a log's policy requires of the witnesses it lists.
pub const DEFAULT_NAME_PREFIX: &str = "dmf-witness/";

/// The content type of a `409 Conflict` answer.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";
/// The content type of every other answer.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Why a witness could not start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "{path} can be read by others (mode {mode:o}); a secret key must be owner-only: chmod 600 {path}"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: NoteError },
    #[error("bad witness name: {0}")]
    Name(NoteError),
    #[error(
        "the witness's key in {path} is named {stored}, not {given}: a witness keeps its name; leave out the name or give {stored}"
    )]
    NameMismatch {
        path: PathBuf,
        stored: String,
        given: String,
    },
    #[error("{0} is in use by another witness process")]
    Busy(PathBuf),
    #[error("no log to follow: give the verifier key of each log the witness follows")]
    NoLogs,
    #[error("{path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Read {
        path: path.to_owned(),
        source,
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Write {
        path: path.to_owned(),
        source,
    }
}

/// An answer to `add-checkpoint`: the status, its content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    /// A refusal with a one-line reason.
    fn refuse(status: u16, reason: impl std::fmt::Display) -> Answer {
        Answer {
            status,
            content_type: TEXT_CONTENT_TYPE,
            body: format!("{reason}\n"),
        }
    }

    /// `409 Conflict` with the size the witness holds.
    fn size(size: u64) -> Answer {
        Answer {
            status: 409,
            content_type: SIZE_CONTENT_TYPE,
            body: format!("{size}\n"),
        }
    }
}

/// The latest checkpoint cosigned of one log: `(0, EMPTY_ROOT)` before the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Latest {
    size: u64,
    root: Hash,
    /// Whether it is on disk (a witness that never cosigned for the log has no file).
    stored: bool,
}

/// A log the witness follows: the keys trusted for its origin, and what it cosigned last.
#[derive(Debug)]
struct Followed {
    keys: Vec<VerifierKey>,
    file: PathBuf,
    /// Held from the check of the old size to the end of the write, so that two requests can
    /// never both build on one state and the later write roll back the earlier.
    latest: Mutex<Latest>,
}

impl Followed {
    fn latest(&self) -> MutexGuard<'_, Latest> {
        // A panic while the lock was held changed nothing: the state is replaced only after
        // its file is.
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A log as the witness shows it: its origin, the keys it trusts for it, the latest size and
/// root it cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogState {
    pub origin: String,
    pub keys: Vec<VerifierKey>,
    pub size: u64,
    pub root: Hash,
}

/// A witness serving from its folder.
#[derive(Debug)]
pub struct Witness {
    dir: PathBuf,
    key: CosignerKey,
    logs: BTreeMap<String, Followed>,
    /// Held while the witness is open: two processes on one folder would each cosign from a
    /// state the other does not see.
    _lock: File,
}

impl Witness {
    /// Opens the witness's folder `dir`, making it, and the witness's key, on the first start.
    /// `name` names a new key (by default [`DEFAULT_NAME_PREFIX`] and random digits) and must
    /// be the stored key's name on later starts. `logs` are the verifier keys of the logs it
    /// follows; a log's origin is its key's name, and keys of one name are all trusted for it.
    pub fn open(
        dir: &Path,
        name: Option<&str>,
        logs: Vec<VerifierKey>,
    ) -> Result<Witness, WitnessError> {
        if logs.is_empty() {
            return Err(WitnessError::NoLogs);
        }
        if let Some(name) = name {
            CosignerKey::from_seed(name, [0; 32]).map_err(WitnessError::Name)?;
        }
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(write_err(dir))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(write_err(dir))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(write_err(&lock_path))?;
        lock.try_lock()
            .map_err(|_| WitnessError::Busy(dir.to_owned()))?;
        let key = key_of(dir, name)?;
        let public = dir.join(PUBLIC_KEY_FILE);
        let text = key.verifier().to_text() + "\n";
        if fs::read_to_string(&public).ok().as_deref() != Some(text.as_str()) {
            files::write_atomic(&public, text.as_bytes()).map_err(write_err(&public))?;
        }
        for sub in [STATE_DIR, EVIDENCE_DIR] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(write_err(&path))?;
        }
        let mut by_origin: BTreeMap<String, Vec<VerifierKey>> = BTreeMap::new();
        for log in logs {
            let keys = by_origin.entry(log.name().to_owned()).or_default();
            if !keys.contains(&log) {
                keys.push(log);
            }
        }
        let mut followed = BTreeMap::new();
        for (origin, keys) in by_origin {
            let file = dir.join(STATE_DIR).join(state_name(&origin));
            let latest = read_state(&file, &origin)?;
            followed.insert(
                origin,
                Followed {
                    keys,
                    file,
                    latest: Mutex::new(latest),
                },
            );
        }
        Ok(Witness {
            dir: dir.to_owned(),
            key,
            logs: followed,
            _lock: lock,
        })
    }

    pub fn name(&self) -> &str {
        self.key.name()
    }

    /// The key its cosignatures are checked with.
    pub fn verifier(&self) -> CosignerVerifier {
        self.key.verifier()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The logs it follows, by origin, with what it cosigned last.
    pub fn logs(&self) -> Vec<LogState> {
        self.logs
            .iter()
            .map(|(origin, f)| {
                let latest = *f.latest();
                LogState {
                    origin: origin.clone(),
                    keys: f.keys.clone(),
                    size: latest.size,
                    root: latest.root,
                }
            })
            .collect()
    }

    /// C2SP tlog-witness `add-checkpoint`: the request body in, the answer out. Checks, in the
    /// specification's order: a well-formed body (400), a followed origin (404), a signature by
    /// a key trusted for it (403; other signature lines are ignored), the old size not beyond
    /// the checkpoint (400), the old size the one it cosigned last (409 with its size), the
    /// consistency proof (422), the same root at the same size (409). Then it cosigns, stores
    /// the checkpoint as the latest, and only then answers with the cosignature line.
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let Ok(text) = std::str::from_utf8(body) else {
            return Answer::refuse(400, "the body is not UTF-8");
        };
        let request = match AddCheckpoint::parse(text) {
            Ok(r) => r,
            Err(e) => return Answer::refuse(400, format_args!("malformed request: {e}")),
        };
        let note = match Note::parse(&request.note) {
            Ok(n) => n,
            Err(e) => return Answer::refuse(400, format_args!("checkpoint: {e}")),
        };
        let checkpoint = match Checkpoint::parse_body(note.body) {
            Ok(c) => c,
            Err(e) => return Answer::refuse(400, format_args!("checkpoint: {e}")),
        };
        let Some(log) = self.logs.get(&checkpoint.origin) else {
            return Answer::refuse(
                404,
                format_args!("this witness does not follow {:?}", checkpoint.origin),
            );
        };
        let trusted: Vec<&VerifierKey> = log
            .keys
            .iter()
            .filter(|k| open_checkpoint(&request.note, k).is_ok())
            .collect();
        if trusted.is_empty() {
            return Answer::refuse(
                403,
                format_args!(
                    "no signature by a key this witness trusts for {}",
                    checkpoint.origin
                ),
            );
        }
        if request.old > checkpoint.size {
            return Answer::refuse(
                400,
                format_args!(
                    "old size {} is beyond the checkpoint's size {}",
                    request.old, checkpoint.size
                ),
            );
        }
        let mut latest = log.latest();
        if request.old != latest.size {
            return Answer::size(latest.size);
        }
        let proved = if checkpoint.size == latest.size {
            if !request.proof.is_empty() {
                Err("a proof between equal sizes must be empty".to_owned())
            } else if checkpoint.root != latest.root {
                self.keep_evidence(&checkpoint, &request.note, text);
                return Answer::size(latest.size);
            } else {
                Ok(())
            }
        } else if latest.size == 0 {
            // Every tree extends the empty one; the parser refused a proof from size 0.
            Ok(())
        } else {
            verify_consistency(
                latest.size,
                checkpoint.size,
                &request.proof,
                &latest.root,
                &checkpoint.root,
            )
            .map_err(|e| e.to_string())
        };
        if let Err(reason) = proved {
            // Evidence only for what differs from what was cosigned: the same checkpoint sent
            // again with a bad proof proves nothing.
            if checkpoint.size != latest.size || checkpoint.root != latest.root {
                self.keep_evidence(&checkpoint, &request.note, text);
            }
            return Answer::refuse(
                422,
                format_args!(
                    "the consistency proof from size {} to {} does not verify: {reason}",
                    latest.size, checkpoint.size
                ),
            );
        }
        let line = self.key.cosign(&checkpoint, now());
        if checkpoint.size != latest.size || !latest.stored {
            // Kept: the body, the trusted keys' lines and this cosignature; lines by keys the
            // witness does not know are not its to keep.
            let mut kept = note.clone();
            kept.signatures.retain(|s| {
                trusted
                    .iter()
                    .any(|k| s.name == k.name() && s.key_id == k.key_id())
            });
            let stored = kept.to_text() + &line;
            if let Err(e) = files::write_atomic(&log.file, stored.as_bytes()) {
                tracing::error!(file = %log.file.display(), error = %e, "cannot store the witness's state");
                return Answer::refuse(500, "the witness cannot store its state");
            }
        }
        *latest = Latest {
            size: checkpoint.size,
            root: checkpoint.root,
            stored: true,
        };
        Answer {
            status: 200,
            content_type: TEXT_CONTENT_TYPE,
            body: line,
        }
    }

    /// Keeps a request whose validly signed checkpoint does not extend the cosigned one. One
    /// file per signed note, so that nobody can fill the disk by sending one note with ever
    /// new proofs: only the log can make new notes.
    fn keep_evidence(&self, checkpoint: &Checkpoint, note: &str, body: &str) {
        let digest = Sha256::digest(note.as_bytes());
        let path =
            self.dir
                .join(EVIDENCE_DIR)
                .join(format!("{}-{}", checkpoint.size, hex(&digest[..16])));
        match files::write_secret(&path, body) {
            Ok(()) => tracing::warn!(
                origin = %checkpoint.origin,
                size = checkpoint.size,
                file = %path.display(),
                "a signed checkpoint inconsistent with the one cosigned: kept as evidence"
            ),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => tracing::error!(file = %path.display(), error = %e, "cannot keep evidence"),
        }
    }
}

/// The stored key, or a new one made and stored.
fn key_of(dir: &Path, name: Option<&str>) -> Result<CosignerKey, WitnessError> {
    let path = dir.join(KEY_FILE);
    match files::read_secret(&path) {
        Ok(Ok(text)) => {
            let key = CosignerKey::parse(&text).map_err(|source| WitnessError::Key {
                path: path.clone(),
                source,
            })?;
            match name {
                Some(given) if given != key.name() => Err(WitnessError::NameMismatch {
                    path,
                    stored: key.name().to_owned(),
                    given: given.to_owned(),
                }),
                _ => Ok(key),
            }
        }
        Ok(Err(mode)) => Err(WitnessError::Permissions { path, mode }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut random = [0u8; 40];
            getrandom::fill(&mut random).map_err(|e| WitnessError::Random(e.to_string()))?;
            let name = match name {
                Some(n) => n.to_owned(),
                None => format!("{DEFAULT_NAME_PREFIX}{}", hex(&random[32..])),
            };
            let seed: [u8; 32] = random[..32].try_into().expect("32 bytes");
            let key = CosignerKey::from_seed(&name, seed).map_err(WitnessError::Name)?;
            files::write_secret(&path, &(key.to_text() + "\n")).map_err(write_err(&path))?;
            Ok(key)
        }
        Err(e) => Err(read_err(&path)(e)),
    }
}

/// The state file's name for an origin: origins hold `/` and may be long.
fn state_name(origin: &str) -> String {
    hex(&Sha256::digest(origin.as_bytes()))
}

/// The latest cosigned checkpoint of `origin` from its file, if it has one.
fn read_state(path: &Path, origin: &str) -> Result<Latest, WitnessError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Latest {
                size: 0,
                root: EMPTY_ROOT,
                stored: false,
            });
        }
        Err(e) => return Err(read_err(path)(e)),
    };
    let bad = |reason: String| WitnessError::State {
        path: path.to_owned(),
        reason,
    };
    let note = Note::parse(&text).map_err(|e| bad(e.to_string()))?;
    let checkpoint = Checkpoint::parse_body(note.body).map_err(|e| bad(e.to_string()))?;
    if checkpoint.origin != origin {
        return Err(bad(format!(
            "holds a checkpoint of {:?}, not of {origin:?}",
            checkpoint.origin
        )));
    }
    Ok(Latest {
        size: checkpoint.size,
        root: checkpoint.root,
        stored: true,
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
