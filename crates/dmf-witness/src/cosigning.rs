//! The registry's side of witnessing: after the log signs a checkpoint, ask each witness of the
//! registry's policy to cosign it (proving consistency from the size that witness last
//! cosigned), gather the cosignatures, and publish the checkpoint once the policy's quorum has
//! cosigned. What is published is what `/log/checkpoint` serves and what feeds and files name.
//!
//! Files of `DATA/log/`:
//! - `published`: the latest published checkpoint note, with every cosignature gathered;
//! - `published.ndjson`: every checkpoint published, one JSON line each;
//! - `witnesses.json`: what each witness last answered (for `/metrics`, the console and
//!   `dmf witness list`), rewritten whole after each round.
//!
//! With `quorum none` (no witnesses) the latest signed checkpoint is published as it is signed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use dmf_ledger::log::{LOG_DIR, LogFiles, Signed, base64_hash, history_line};
use dmf_log::{AddCheckpoint, Policy, PolicyWitness, add_signatures, open_cosignature};
use serde::{Deserialize, Serialize};

use crate::client::{WitnessAnswer, add_checkpoint};

pub const PUBLISHED_FILE: &str = "published";
pub const PUBLISHED_HISTORY_FILE: &str = "published.ndjson";
pub const WITNESS_STATE_FILE: &str = "witnesses.json";

/// Times a witness is asked again within one round after a 409 names another size.
const RETRIES: usize = 3;

/// Why a round could not run (a witness's refusal is not an error: it is recorded).
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    #[error(transparent)]
    Log(#[from] dmf_ledger::log::LogError),
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: {reason}")]
    Malformed { path: PathBuf, reason: String },
}

/// What the registry knows of one witness, as last answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// The size this witness last cosigned for us (0 before its first answer).
    pub size: u64,
    /// When it last cosigned (ms since 1970).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosigned_at: Option<i64>,
    /// When it was last asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_at: Option<i64>,
    /// Why its last answer was not a cosignature, if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its last round trip, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip_ms: Option<u64>,
}

impl WitnessState {
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.cosigned_at.is_some()
    }
}

/// What one round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// The size of the latest signed checkpoint (0 when none is signed yet).
    pub signed: u64,
    /// The checkpoint published by this round, if it published one.
    pub published: Option<u64>,
    /// Witnesses whose cosignature this round gathered.
    pub cosigned: Vec<String>,
    /// Each witness's state after the round, by name.
    pub witnesses: BTreeMap<String, WitnessState>,
}

fn log_dir(data: &Path) -> PathBuf {
    data.join(LOG_DIR)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Each witness's state as last written; empty before the first round.
pub fn witness_states(data: &Path) -> Result<BTreeMap<String, WitnessState>, CosignError> {
    let path = log_dir(data).join(WITNESS_STATE_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CosignError::Malformed {
            path,
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(CosignError::Read { path, source }),
    }
}

/// Writes `bytes` to `path` whole or not at all.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), CosignError> {
    crate::files::write_atomic(path, bytes).map_err(|source| CosignError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The checkpoint the registry has published: with `quorum none`, the latest signed one;
/// otherwise the last one its witnesses' quorum cosigned, checked against the log's key (it
/// carries the cosignatures). `None` before the first.
pub fn published(data: &Path, policy: &Policy) -> Result<Option<Signed>, CosignError> {
    published_in(&LogFiles::open(data)?, data, policy)
}

/// [`published`] of the log whose files are open.
fn published_in(
    files: &LogFiles,
    data: &Path,
    policy: &Policy,
) -> Result<Option<Signed>, CosignError> {
    if policy.quorum.is_none() {
        return Ok(files.latest()?);
    }
    let path = log_dir(data).join(PUBLISHED_FILE);
    let note = match fs::read_to_string(&path) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CosignError::Read { path, source }),
    };
    let checkpoint =
        dmf_log::open_checkpoint(&note, &files.verifier).map_err(|e| CosignError::Malformed {
            path,
            reason: e.to_string(),
        })?;
    Ok(Some(Signed { checkpoint, note }))
}

/// Asks every witness of `policy` to cosign the latest signed checkpoint and publishes it when
/// the quorum has. Witnesses are asked at once, each from the size it last cosigned. A round
/// with nothing new to publish asks nobody.
pub fn round(data: &Path, policy: &Policy, agent: &ureq::Agent) -> Result<Round, CosignError> {
    let files = LogFiles::open(data)?;
    let mut states = witness_states(data)?;
    states.retain(|name, _| policy.witnesses.iter().any(|w| &w.name == name));
    let Some(latest) = files.latest()? else {
        return Ok(Round {
            signed: 0,
            published: None,
            cosigned: Vec::new(),
            witnesses: states,
        });
    };
    let signed = latest.checkpoint.size;
    let done = match published_in(&files, data, policy)? {
        _ if policy.quorum.is_none() => true,
        Some(p) => p.checkpoint.size >= signed,
        None => false,
    };
    if done {
        return Ok(Round {
            signed,
            published: None,
            cosigned: Vec::new(),
            witnesses: states,
        });
    }
    let answers: Vec<(String, WitnessState, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = policy
            .witnesses
            .iter()
            .map(|w| {
                let state = states.get(&w.name).cloned().unwrap_or_default();
                let files = &files;
                let latest = &latest;
                s.spawn(move || {
                    let (state, line) = ask(files, latest, w, state, agent);
                    (w.name.clone(), state, line)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a witness's thread panicked"))
            .collect()
    });
    let mut note = latest.note.clone();
    let mut cosigned = Vec::new();
    for (name, state, line) in answers {
        if let Some(line) = line {
            note = add_signatures(&note, &line).map_err(|e| CosignError::Malformed {
                path: log_dir(data).join(PUBLISHED_FILE),
                reason: e.to_string(),
            })?;
            cosigned.push(name.clone());
        }
        states.insert(name, state);
    }
    let names: BTreeSet<&str> = cosigned.iter().map(String::as_str).collect();
    let mut published = None;
    if policy.satisfied_by(&names) {
        let dir = log_dir(data);
        let entry = Signed {
            checkpoint: latest.checkpoint.clone(),
            note: note.clone(),
        };
        let path = dir.join(PUBLISHED_HISTORY_FILE);
        let mut history = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| CosignError::Write {
                path: path.clone(),
                source,
            })?;
        history
            .write_all(history_line(&entry).as_bytes())
            .and_then(|()| history.sync_data())
            .map_err(|source| CosignError::Write { path, source })?;
        replace(&dir.join(PUBLISHED_FILE), note.as_bytes())?;
        published = Some(signed);
    }
    let json = serde_json::to_vec_pretty(&states).expect("states serialize");
    replace(&log_dir(data).join(WITNESS_STATE_FILE), &json)?;
    Ok(Round {
        signed,
        published,
        cosigned,
        witnesses: states,
    })
}

/// Asks one witness, re-proving from the size it names after a 409, and gives its state after
/// and its cosignature line, checked against its key.
fn ask(
    files: &LogFiles,
    latest: &Signed,
    witness: &PolicyWitness,
    mut state: WitnessState,
    agent: &ureq::Agent,
) -> (WitnessState, Option<String>) {
    let new = latest.checkpoint.size;
    let started = std::time::Instant::now();
    state.asked_at = Some(now_ms());
    let Some(url) = &witness.url else {
        state.error = Some("the policy gives this witness no URL".into());
        return (state, None);
    };
    let mut old = state.size;
    let mut conflicts = 0;
    let outcome = loop {
        if old > new {
            break Err(format!(
                "the witness holds size {old}, beyond the {new} this log signed: the log was \
                 rolled back or forked"
            ));
        }
        let proof = if old == 0 || old == new {
            Ok(Vec::new())
        } else {
            dmf_log::consistency_proof(files, old, new).map_err(|e| e.to_string())
        };
        let request = match proof {
            Ok(proof) => AddCheckpoint {
                old,
                proof,
                note: latest.note.clone(),
            },
            Err(e) => break Err(format!("cannot prove consistency from {old}: {e}")),
        };
        match add_checkpoint(agent, url, &request) {
            Ok(WitnessAnswer::Cosigned(lines)) => break check_cosignature(latest, witness, &lines),
            Ok(WitnessAnswer::Conflict(size)) if conflicts < RETRIES && size != old => {
                conflicts += 1;
                old = size;
            }
            Ok(WitnessAnswer::Conflict(size)) if size == new => {
                break Err(format!(
                    "the witness holds another root for size {new}: a split view of this log"
                ));
            }
            Ok(WitnessAnswer::Conflict(size)) => {
                break Err(format!("409: the witness still holds size {size}"));
            }
            Ok(WitnessAnswer::Refused { status, body }) => {
                break Err(format!("{status}: {}", body.trim()));
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    state.round_trip_ms = Some(started.elapsed().as_millis() as u64);
    match outcome {
        Ok(line) => {
            state.size = new;
            state.cosigned_at = Some(now_ms());
            state.error = None;
            (state, Some(line))
        }
        Err(e) => {
            state.error = Some(e);
            (state, None)
        }
    }
}

/// The witness's own cosignature line among those it answered, verified on the checkpoint.
fn check_cosignature(
    latest: &Signed,
    witness: &PolicyWitness,
    lines: &str,
) -> Result<String, String> {
    let merged = add_signatures(&latest.note, lines)
        .map_err(|e| format!("200 with a malformed answer: {e}"))?;
    open_cosignature(&merged, &witness.key)
        .map_err(|e| format!("200 without a cosignature: {e}"))?;
    let parsed = dmf_log::Note::parse(&merged).map_err(|e| e.to_string())?;
    parsed
        .signatures
        .iter()
        .find(|s| s.name == witness.key.name() && s.key_id == witness.key.key_id())
        .map(dmf_log::SignatureLine::to_line)
        .ok_or_else(|| "200 without a cosignature".to_owned())
}

/// The published checkpoint's size and root as one header value: `<size> <base64 root>`.
pub fn header_value(signed: &Signed) -> String {
    format!(
        "{} {}",
        signed.checkpoint.size,
        base64_hash(&signed.checkpoint.root)
    )
}
