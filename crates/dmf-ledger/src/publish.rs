//! What the registry publishes from its log: inclusion and consistency proofs, the public
//! export (leaves, checkpoints, key, statistics), and the offline checks a third party runs on
//! them with nothing but the public key.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_log::tiles::{TILE_HEIGHT, TILE_WIDTH, Tile, TileKind, tile_at};
use dmf_log::{Checkpoint, Frontier, Hash, VerifierKey};
use dmf_store::Seq;
use serde::{Deserialize, Serialize};

use crate::audit::scan_leaves_after;
use crate::leaf::{self, EventRef};
use crate::log::{LogError, LogFiles, Signed, base64_hash, history_line};
use crate::stats::{Counter, Period, Row, Stats};
use crate::{Ledger, LedgerError};

/// Files of an export.
pub const EXPORT_LEAVES: &str = "leaves.ndjson";
pub const EXPORT_CHECKPOINT: &str = "checkpoint";
pub const EXPORT_HISTORY: &str = "checkpoints.ndjson";
pub const EXPORT_KEY: &str = "key.pub";

pub fn export_stats_file(period: Period) -> String {
    format!("stats-{}.json", period.name())
}

/// A proof as published: JSON that `dmf log verify --proof` reads, and the API's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Proof {
    Inclusion {
        origin: String,
        seq: Seq,
        leaf_index: u64,
        tree_size: u64,
        /// The leaf data, so that anyone can check `leaf_hash` and read its clear fields.
        leaf: String,
        leaf_hash: String,
        root: String,
        proof: Vec<String>,
    },
    Consistency {
        origin: String,
        from: u64,
        to: u64,
        root_from: String,
        root_to: String,
        proof: Vec<String>,
    },
}

fn b64s(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(base64_hash).collect()
}

fn log_err(files: &LogFiles) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |source| LogError::Read {
        path: files.dir().to_owned(),
        source,
    }
}

fn proof_err(e: dmf_log::ProofError<std::io::Error>, files: &LogFiles) -> LedgerError {
    match e {
        dmf_log::ProofError::Source(source) => log_err(files)(source).into(),
        other => LedgerError::Input {
            path: files.dir().to_owned(),
            reason: other.to_string(),
        },
    }
}

/// The latest checkpoint, or an error saying there is none yet.
pub fn latest(files: &LogFiles) -> Result<Signed, LedgerError> {
    files.latest()?.ok_or_else(|| LedgerError::Input {
        path: files.dir().to_owned(),
        reason: "no checkpoint has been signed yet".into(),
    })
}

fn check_size(files: &LogFiles, size: u64, what: &str) -> Result<(), LedgerError> {
    if size > files.size() {
        return Err(LedgerError::Input {
            path: files.dir().to_owned(),
            reason: format!("{what} {size} is beyond the log's {} leaves", files.size()),
        });
    }
    Ok(())
}

/// The inclusion proof of event `seq` in the tree of `size` leaves (default: the latest
/// checkpoint's).
pub fn prove(ledger: &Ledger, seq: Seq, size: Option<u64>) -> Result<Proof, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let size = match size {
        Some(s) => s,
        None => latest(&files)?.checkpoint.size,
    };
    let Included { data, hash, proof } = included(ledger, &files, seq, size)?;
    let root = dmf_log::root(&files, size).map_err(log_err(&files))?;
    Ok(Proof::Inclusion {
        origin: files.verifier.name().to_owned(),
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf: String::from_utf8_lossy(&data).into_owned(),
        leaf_hash: base64_hash(&hash),
        root: base64_hash(&root),
        proof: b64s(&proof),
    })
}

/// A C2SP tlog-proof of event `seq` against the signed checkpoint `note` of the tree
/// `checkpoint`: the event's public leaf as its extra data (so that a verifier recomputes the
/// leaf hash and reads the clear fields), its index `seq - 1` and its inclusion proof. The
/// checkpoint must be of this log's tree.
pub fn tlog_proof(
    ledger: &Ledger,
    seq: Seq,
    note: &str,
    checkpoint: &Checkpoint,
) -> Result<dmf_log::TlogProof, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let Included { data, proof, .. } = included(ledger, &files, seq, checkpoint.size)?;
    let root = dmf_log::root(&files, checkpoint.size).map_err(log_err(&files))?;
    if root != checkpoint.root {
        return Err(LedgerError::Input {
            path: files.dir().to_owned(),
            reason: format!(
                "the checkpoint of {} leaves is not of this log's tree: run `dmf audit verify`",
                checkpoint.size
            ),
        });
    }
    Ok(dmf_log::TlogProof {
        extra: Some(data),
        index: seq - 1,
        proof,
        note: note.to_owned(),
    })
}

/// An event's leaf, its hash and its inclusion proof.
struct Included {
    data: Vec<u8>,
    hash: Hash,
    proof: Vec<Hash>,
}

/// Event `seq`'s leaf recomputed from the store and held to the leaf the log holds, and its
/// inclusion proof in the tree of `size` leaves.
fn included(
    ledger: &Ledger,
    files: &LogFiles,
    seq: Seq,
    size: u64,
) -> Result<Included, LedgerError> {
    check_size(files, size, "tree size")?;
    if seq == 0 || seq > size {
        return Err(LedgerError::Input {
            path: files.dir().to_owned(),
            reason: format!("event {seq} is not in a tree of {size} events"),
        });
    }
    let event = ledger
        .store()
        .read_after(seq - 1, 1)?
        .into_iter()
        .next()
        .filter(|e| e.seq == seq)
        .ok_or_else(|| LedgerError::Input {
            path: files.dir().to_owned(),
            reason: format!("event {seq} is not in the store"),
        })?;
    let data = leaf::leaf(&ledger.leaf_key()?, ledger.fields(), EventRef::from(&event))?;
    let hash = dmf_log::leaf_hash(&data);
    let logged = files.leaf(seq - 1)?;
    if logged != Some(hash) {
        return Err(LedgerError::Input {
            path: files.dir().to_owned(),
            reason: format!("event {seq} differs from its leaf in the log: run `dmf audit verify`"),
        });
    }
    let proof = dmf_log::inclusion_proof(files, seq - 1, size).map_err(|e| proof_err(e, files))?;
    Ok(Included { data, hash, proof })
}

/// The consistency proof between the trees of `from` and `to` leaves.
pub fn consistency(data: &Path, from: u64, to: u64) -> Result<Proof, LedgerError> {
    let files = LogFiles::open(data)?;
    check_size(&files, to, "tree size")?;
    let proof = dmf_log::consistency_proof(&files, from, to).map_err(|e| proof_err(e, &files))?;
    Ok(Proof::Consistency {
        origin: files.verifier.name().to_owned(),
        from,
        to,
        root_from: base64_hash(&dmf_log::root(&files, from).map_err(log_err(&files))?),
        root_to: base64_hash(&dmf_log::root(&files, to).map_err(log_err(&files))?),
        proof: b64s(&proof),
    })
}

/// Why a published proof or export does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Failed(String),
}

fn hash_field(name: &str, text: &str) -> Result<Hash, CheckError> {
    BASE64
        .decode(text)
        .ok()
        .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
        .ok_or_else(|| CheckError::Malformed(format!("{name} is not a base64 SHA-256 hash")))
}

fn hash_list(list: &[String]) -> Result<Vec<Hash>, CheckError> {
    list.iter()
        .enumerate()
        .map(|(i, h)| hash_field(&format!("proof[{i}]"), h))
        .collect()
}

fn same_origin(origin: &str, checkpoint: &Checkpoint) -> Result<(), CheckError> {
    if origin == checkpoint.origin {
        return Ok(());
    }
    Err(CheckError::Failed(format!(
        "the proof is for log {origin:?}, the checkpoint for {:?}",
        checkpoint.origin
    )))
}

/// Checks a published proof against a checkpoint already verified; `old` is an older verified
/// checkpoint for a consistency proof. Returns what was shown.
pub fn check_proof(
    checkpoint: &Checkpoint,
    old: Option<&Checkpoint>,
    proof_json: &str,
) -> Result<String, CheckError> {
    let proof: Proof = serde_json::from_str(proof_json)
        .map_err(|e| CheckError::Malformed(format!("the proof is not valid JSON: {e}")))?;
    let fail = |m: String| Err(CheckError::Failed(m));
    match proof {
        Proof::Inclusion {
            origin,
            seq,
            leaf_index,
            tree_size,
            leaf,
            leaf_hash,
            proof,
            ..
        } => {
            same_origin(&origin, checkpoint)?;
            if tree_size != checkpoint.size {
                return fail(format!(
                    "the proof is for a tree of {tree_size} leaves, the checkpoint has {}",
                    checkpoint.size
                ));
            }
            if seq != leaf_index + 1 {
                return fail(format!("event {seq} is not leaf {leaf_index}"));
            }
            let hash = hash_field("leaf_hash", &leaf_hash)?;
            if dmf_log::leaf_hash(leaf.as_bytes()) != hash {
                return fail("the leaf does not hash to leaf_hash".into());
            }
            dmf_log::verify_inclusion(
                leaf_index,
                tree_size,
                &hash,
                &hash_list(&proof)?,
                &checkpoint.root,
            )
            .map_err(|e| CheckError::Failed(format!("the inclusion proof fails: {e}")))?;
            Ok(format!("event {seq} is in the tree of {tree_size} events"))
        }
        Proof::Consistency {
            origin,
            from,
            to,
            root_from,
            proof,
            ..
        } => {
            same_origin(&origin, checkpoint)?;
            if to != checkpoint.size {
                return fail(format!(
                    "the proof leads to a tree of {to} leaves, the checkpoint has {}",
                    checkpoint.size
                ));
            }
            let old_root = hash_field("root_from", &root_from)?;
            if let Some(old) = old
                && (old.size != from || old.root != old_root)
            {
                return fail(format!(
                    "the proof starts from a tree of {from} leaves with another root than the older checkpoint ({} leaves)",
                    old.size
                ));
            }
            dmf_log::verify_consistency(from, to, &hash_list(&proof)?, &old_root, &checkpoint.root)
                .map_err(|e| CheckError::Failed(format!("the consistency proof fails: {e}")))?;
            Ok(format!(
                "the tree of {to} events extends the tree of {from} events{}",
                if old.is_some() {
                    " of the older checkpoint"
                } else {
                    ""
                }
            ))
        }
    }
}

/// What an export holds.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub dir: PathBuf,
    pub checkpoint: Checkpoint,
    pub leaves: u64,
    pub bytes: u64,
}

fn create_file(path: &Path) -> Result<BufWriter<File>, LedgerError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| LedgerError::Write {
            path: path.to_owned(),
            source,
        })
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Hands every leaf up to the latest checkpoint to `f`, in order, checking each against the
/// log and the whole against the checkpoint's root, so that nothing is published that the
/// log does not hold.
fn scan_checked(
    ledger: &Ledger,
    files: &LogFiles,
    signed: &Signed,
    f: impl FnMut(&[u8]) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    scan_checked_from(ledger, files, signed, &mut Frontier::new(), f)
}

/// As [`scan_checked`], for the leaves after the tree of `frontier` (of leaves handed over
/// before): `frontier` is extended by the leaves after it, and the whole must hash to the
/// checkpoint's root.
fn scan_checked_from(
    ledger: &Ledger,
    files: &LogFiles,
    signed: &Signed,
    frontier: &mut Frontier,
    mut f: impl FnMut(&[u8]) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    let key = ledger.leaf_key()?;
    let mismatch = || LedgerError::Input {
        path: files.dir().to_owned(),
        reason: "the events do not hash to the latest checkpoint: run `dmf audit verify`".into(),
    };
    if frontier.size() > signed.checkpoint.size {
        return Err(mismatch());
    }
    scan_leaves_after(
        ledger.store(),
        &key,
        ledger.fields(),
        None,
        frontier.size(),
        Some(signed.checkpoint.size),
        |s| {
            let (data, hash) = s.leaf.map_err(|e| LedgerError::Leaf(e.clone()))?;
            let seq = s.event.seq;
            if seq != frontier.size() + 1 || files.leaf(seq - 1)? != Some(hash) {
                return Err(LedgerError::Input {
                    path: files.dir().to_owned(),
                    reason: format!("event {seq} differs from the log: run `dmf audit verify`"),
                });
            }
            frontier.push(hash, |_, _, _| {});
            f(data)
        },
    )?;
    if frontier.size() != signed.checkpoint.size || frontier.root() != signed.checkpoint.root {
        return Err(mismatch());
    }
    Ok(())
}

fn count_err(e: crate::stats::LeafFormatError, files: &LogFiles) -> LedgerError {
    LedgerError::Input {
        path: files.dir().to_owned(),
        reason: e.to_string(),
    }
}

/// Statistics of every event up to the latest checkpoint.
pub fn stats(ledger: &Ledger, period: Period) -> Result<Stats, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let signed = latest(&files)?;
    let mut counter = Counter::new(period);
    scan_checked(ledger, &files, &signed, |data| {
        counter.add(data).map_err(|e| count_err(e, &files))
    })?;
    Ok(counter.finish(&signed.checkpoint.origin, &signed.checkpoint.root))
}

/// Statistics counted up to a signed tree size, with the right edge of that tree: counting on
/// to the next checkpoint reads only the leaves after it.
#[derive(Debug, Clone)]
pub struct RunningStats {
    counter: Counter,
    frontier: Frontier,
}

impl RunningStats {
    /// Nothing counted yet.
    pub fn new(period: Period) -> RunningStats {
        RunningStats {
            counter: Counter::new(period),
            frontier: Frontier::new(),
        }
    }

    pub fn period(&self) -> Period {
        self.counter.period()
    }

    /// The leaves counted: the tree size counted up to.
    pub fn tree_size(&self) -> u64 {
        self.frontier.size()
    }
}

/// What [`stats_since`] counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedOn {
    /// Statistics of every event up to the latest checkpoint.
    pub stats: Stats,
    /// The leaves read and counted this time: the new ones alone, or all after a recount.
    pub leaves_read: u64,
    /// Whether the count started over from the first leaf.
    pub recounted: bool,
}

/// Statistics of every event up to the latest checkpoint, counting on from `kept` (counted at
/// an earlier one): only the leaves after it are read and counted, and the tree they extend
/// must hash, with them, to the checkpoint's root, as a full count's must. A checkpoint older
/// than `kept`, or a log that does not extend the tree counted, is counted again from the
/// first leaf; a log that does not hash to its checkpoint then is refused as [`stats`] refuses
/// it. `kept` is left at the checkpoint counted, or, on an error, at nothing counted.
pub fn stats_since(ledger: &Ledger, kept: &mut RunningStats) -> Result<CountedOn, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let signed = latest(&files)?;
    let period = kept.period();
    let counted = |kept: &RunningStats, leaves_read, recounted| CountedOn {
        stats: kept
            .counter
            .stats(&signed.checkpoint.origin, &signed.checkpoint.root),
        leaves_read,
        recounted,
    };
    let from = kept.tree_size();
    if from > 0 && from <= signed.checkpoint.size {
        let mut read = 0;
        let (counter, frontier) = (&mut kept.counter, &mut kept.frontier);
        let on = scan_checked_from(ledger, &files, &signed, frontier, |data| {
            read += 1;
            counter.add(data).map_err(|e| count_err(e, &files))
        });
        if on.is_ok() {
            return Ok(counted(kept, read, false));
        }
        // Whatever went wrong, a count from the first leaf says it if it is still wrong.
    }
    *kept = RunningStats::new(period);
    let (counter, frontier) = (&mut kept.counter, &mut kept.frontier);
    let all = scan_checked_from(ledger, &files, &signed, frontier, |data| {
        counter.add(data).map_err(|e| count_err(e, &files))
    });
    if let Err(e) = all {
        *kept = RunningStats::new(period);
        return Err(e);
    }
    let read = kept.tree_size();
    Ok(counted(kept, read, true))
}

/// The alerts file of an export: intake anomaly alerts at the exported tree size.
pub const EXPORT_ALERTS: &str = "alerts.json";

/// Writes the public log up to the latest checkpoint into `out`: the leaves, the checkpoint
/// and its history, the public key, the statistics by day and month, and the JSON object
/// `alerts` makes for the signed checkpoint (the intake anomaly alerts at its tree size),
/// tied to the checkpoint's origin and root.
pub fn export<E>(
    ledger: &Ledger,
    out: &Path,
    alerts: impl FnOnce(&Checkpoint) -> Result<serde_json::Value, E>,
) -> Result<ExportSummary, E>
where
    E: From<LedgerError>,
{
    let summary = export_log(ledger, out)?;
    // Ages are committed in the leaves, so alerts cannot be recounted from them: they are
    // published as computed, tied to the signed tree size and root like the statistics.
    let mut alerts = alerts(&summary.checkpoint)?;
    alerts["origin"] = summary.checkpoint.origin.clone().into();
    alerts["root"] = base64_hash(&summary.checkpoint.root).into();
    let path = out.join(EXPORT_ALERTS);
    fs::write(&path, pretty(&alerts)).map_err(write_err(&path))?;
    Ok(summary)
}

/// A JSON value as an export's files hold it.
fn pretty(value: &impl Serialize) -> String {
    // Values made of maps with string keys, strings and numbers always serialise.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Everything of an export but the alerts.
fn export_log(ledger: &Ledger, out: &Path) -> Result<ExportSummary, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let signed = latest(&files)?;
    fs::create_dir_all(out).map_err(write_err(out))?;
    let leaves_path = out.join(EXPORT_LEAVES);
    let mut leaves = create_file(&leaves_path)?;
    let mut day = Counter::new(Period::Day);
    let mut month = Counter::new(Period::Month);
    let mut bytes = 0u64;
    // The entry bundles, 256 leaves each, written as the leaves go by.
    let mut bundle: Vec<Vec<u8>> = Vec::with_capacity(TILE_WIDTH as usize);
    let mut bundles = 0u64;
    let write_bundle = |bundle: &mut Vec<Vec<u8>>, index: u64| -> Result<(), LedgerError> {
        let tile = tile_at(
            TileKind::Entries,
            index,
            index * TILE_WIDTH + bundle.len() as u64,
        )
        .expect("a bundle of one leaf or more");
        let data = dmf_log::tiles::bundle(bundle.iter().map(Vec::as_slice)).map_err(|e| {
            LedgerError::Input {
                path: out.to_owned(),
                reason: e.to_string(),
            }
        })?;
        write_tile(out, &tile, &data)?;
        bundle.clear();
        Ok(())
    };
    scan_checked(ledger, &files, &signed, |data| {
        leaves
            .write_all(data)
            .and_then(|()| leaves.write_all(b"\n"))
            .map_err(write_err(&leaves_path))?;
        bytes += data.len() as u64 + 1;
        bundle.push(data.to_vec());
        if bundle.len() as u64 == TILE_WIDTH {
            write_bundle(&mut bundle, bundles)?;
            bundles += 1;
        }
        day.add(data).map_err(|e| count_err(e, &files))?;
        month.add(data).map_err(|e| count_err(e, &files))
    })?;
    if !bundle.is_empty() {
        write_bundle(&mut bundle, bundles)?;
    }
    leaves.flush().map_err(write_err(&leaves_path))?;
    write_hash_tiles(&files, signed.checkpoint.size, out)?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        fs::write(&path, text).map_err(write_err(&path))
    };
    write(EXPORT_CHECKPOINT, &signed.note)?;
    write(EXPORT_KEY, &(files.verifier.to_text() + "\n"))?;
    let mut history = String::new();
    for s in files.history()? {
        history.push_str(&history_line(&s));
    }
    write(EXPORT_HISTORY, &history)?;
    for counter in [day, month] {
        let stats = counter.finish(&signed.checkpoint.origin, &signed.checkpoint.root);
        write(&export_stats_file(stats.period), &pretty(&stats))?;
    }
    write("README.md", EXPORT_README)?;
    Ok(ExportSummary {
        dir: out.to_owned(),
        leaves: signed.checkpoint.size,
        checkpoint: signed.checkpoint,
        bytes,
    })
}

/// A tile's file under `out`, at its C2SP tlog-tiles path.
fn write_tile(out: &Path, tile: &Tile, data: &[u8]) -> Result<(), LedgerError> {
    let path = out.join(tile.to_string());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(write_err(dir))?;
    }
    fs::write(&path, data).map_err(write_err(&path))
}

/// Every hash tile of a tree of `size` leaves, full ones and the last partial one of each
/// level, from the stored levels (which are the tiles' levels).
fn write_hash_tiles(files: &LogFiles, size: u64, out: &Path) -> Result<(), LedgerError> {
    for level in 0..=u8::MAX {
        let kind = TileKind::Hashes { level };
        let nodes = size
            .checked_shr(u32::from(level) * TILE_HEIGHT)
            .unwrap_or(0);
        if nodes == 0 {
            break;
        }
        for index in 0..nodes.div_ceil(TILE_WIDTH) {
            let tile = tile_at(kind, index, size).expect("within the tree");
            let first = tile.first().expect("within the tree");
            let data = files
                .stored_nodes(level * TILE_HEIGHT as u8, first, tile.width())?
                .ok_or_else(|| LedgerError::Input {
                    path: files.dir().to_owned(),
                    reason: format!(
                        "the stored tree levels do not hold {tile}: run `dmf audit verify`"
                    ),
                })?;
            write_tile(out, &tile, &data)?;
        }
    }
    Ok(())
}

const EXPORT_README: &str = "\
# Public log of a dmf registry

- `checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note).
- `key.pub`: the verifier key of the log (`name+keyid+base64`); pin it from a trusted source.
- `leaves.ndjson`: leaf data, one per line, line N is event N. Leaf hash = SHA-256(0x00 || line
  without its newline); the tree is RFC 6962. Personal fields are keyed commitments (HMAC-SHA256)
  under `commit`; type, time, source kind, verification level, origin, status or correction kind,
  issuing authority, legal basis and contest decision (upheld or denied) are in clear.
- `checkpoints.ndjson`: every checkpoint signed so far.
- `tile/`: the same log as C2SP tlog-tiles (this folder is its prefix, beside `checkpoint`):
  hash tiles `tile/L/N[.p/W]` and entry bundles `tile/entries/N[.p/W]` (each leaf as a
  big-endian 16-bit length and its bytes); full tiles never change. Serve the folder with any
  web server, and tlog-tiles clients can follow the log.
- `stats-day.json`, `stats-month.json`: event counts recounted from the leaves, tied to the tree
  size and root they were counted at.
- `alerts.json`: intake anomaly alerts (days on which one source kind or issuing authority sent
  far more than usual, or people far younger than deaths are), computed at the same tree size
  and root. Ages are committed in the leaves, so these are published as computed, not recounted.

Check it all with `dmf stats --verify THIS_DIR --key KEY` and `dmf log verify --checkpoint
checkpoint --key KEY`.
";

/// What checking an export found.
#[derive(Debug, Clone)]
pub struct ExportCheck {
    pub checkpoint: Checkpoint,
    pub leaves: u64,
    pub stats: Vec<Stats>,
    pub problems: Vec<String>,
}

/// Checks an export offline: the checkpoint's signature, that the leaves hash to its root,
/// and that the published statistics are the recount of the leaves.
pub fn check_export(dir: &Path, key: Option<&VerifierKey>) -> Result<ExportCheck, LedgerError> {
    let read = |name: &str| {
        let path = dir.join(name);
        fs::read_to_string(&path).map_err(|source| LedgerError::Read { path, source })
    };
    let key = match key {
        Some(k) => k.clone(),
        None => crate::log::read_verifier(&dir.join(EXPORT_KEY))?,
    };
    let note = read(EXPORT_CHECKPOINT)?;
    let checkpoint = dmf_log::open_checkpoint(&note, &key).map_err(|source| LogError::Note {
        path: dir.join(EXPORT_CHECKPOINT),
        source,
    })?;
    let leaves_path = dir.join(EXPORT_LEAVES);
    let file = File::open(&leaves_path).map_err(|source| LedgerError::Read {
        path: leaves_path.clone(),
        source,
    })?;
    let mut problems = Vec::new();
    let mut frontier = Frontier::new();
    let mut day = Counter::new(Period::Day);
    let mut month = Counter::new(Period::Month);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| LedgerError::Read {
                path: leaves_path.clone(),
                source,
            })?;
        if n == 0 {
            break;
        }
        if line.pop() != Some(b'\n') {
            problems.push(format!("{EXPORT_LEAVES}: the last line has no newline"));
        }
        frontier.push(dmf_log::leaf_hash(&line), |_, _, _| {});
        for counter in [&mut day, &mut month] {
            if let Err(e) = counter.add(&line) {
                problems.push(format!(
                    "{EXPORT_LEAVES} line {}: {}",
                    frontier.size(),
                    e.reason
                ));
            }
        }
        if problems.len() > 50 {
            break;
        }
    }
    if frontier.size() != checkpoint.size {
        problems.push(format!(
            "{EXPORT_LEAVES} holds {} leaves, the checkpoint {}",
            frontier.size(),
            checkpoint.size
        ));
    } else if frontier.root() != checkpoint.root {
        problems.push(format!(
            "{EXPORT_LEAVES} does not hash to the checkpoint's root"
        ));
    }
    let mut stats = Vec::new();
    for counter in [day, month] {
        let recount = counter.finish(&checkpoint.origin, &frontier.root());
        let name = export_stats_file(recount.period);
        if let Ok(text) = read(&name) {
            match serde_json::from_str::<Stats>(&text) {
                Ok(published) => problems.extend(compare_stats(&name, &published, &recount)),
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
        stats.push(recount);
    }
    // The alerts cannot be recounted (ages are committed), but they must be tied to this tree.
    if let Ok(text) = read(EXPORT_ALERTS) {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => {
                let root = base64_hash(&checkpoint.root);
                let each = v["alerts"].as_array().into_iter().flatten();
                if v["tree_size"].as_u64() != Some(checkpoint.size)
                    || v["root"].as_str() != Some(root.as_str())
                    || each.clone().any(|a| a["tree_size"] != v["tree_size"])
                {
                    problems.push(format!(
                        "{EXPORT_ALERTS}: computed at tree size {} (root {}), the checkpoint is {} (root {root})",
                        v["tree_size"], v["root"], checkpoint.size
                    ));
                }
            }
            Err(e) => problems.push(format!("{EXPORT_ALERTS}: {e}")),
        }
    }
    Ok(ExportCheck {
        checkpoint,
        leaves: frontier.size(),
        stats,
        problems,
    })
}

/// How published statistics differ from a recount.
pub fn compare_stats(name: &str, published: &Stats, recount: &Stats) -> Vec<String> {
    let mut out = Vec::new();
    if published.tree_size != recount.tree_size || published.root != recount.root {
        out.push(format!(
            "{name}: counted at tree size {} (root {}), the leaves give {} (root {})",
            published.tree_size, published.root, recount.tree_size, recount.root
        ));
    }
    if published.rows != recount.rows {
        let a: BTreeSet<&Row> = published.rows.iter().collect();
        let b: BTreeSet<&Row> = recount.rows.iter().collect();
        let differ = a.symmetric_difference(&b).count();
        out.push(format!(
            "{name}: {differ} rows differ from the recount of the leaves"
        ));
    }
    out
}
