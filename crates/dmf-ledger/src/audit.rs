//! The audit: every leaf recomputed from the stored events, the tree rebuilt, every signed
//! checkpoint (the log's own, and one an outsider saved) checked against it, and every event's
//! MAC checked, which is all that vouches for the events beyond the signed log.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};

use dmf_log::{Checkpoint, Frontier, Hash, VerifierKey};
use dmf_store::{EventStore, Seq, StoredEvent};

use crate::leaf::{self, EventRef, Fields, LeafError, LeafKey};
use crate::log::LogFiles;
use crate::mac::MacKey;
use crate::{Ledger, LedgerError};

/// Events read from the store at a time.
const PAGE: usize = 20_000;

/// One event with its leaf, as the scan hands it over.
#[derive(Debug)]
pub struct Scanned<'a> {
    pub event: &'a StoredEvent,
    pub leaf: Result<(&'a [u8], Hash), &'a LeafError>,
    /// Given a MAC key: whether the event's MAC follows the stored MAC of the event before it.
    /// `None` for an event stored without a MAC, or when no key was given.
    pub mac_valid: Option<bool>,
}

/// Reads events `1..=upto` in order (all when `upto` is `None`) on one thread while their
/// leaves (and, given `macs`, their MACs) are computed on every core, and hands each to `f` in
/// order.
pub fn scan_leaves(
    store: &dyn EventStore,
    key: &LeafKey,
    fields: Fields,
    macs: Option<&MacKey>,
    upto: Option<Seq>,
    f: impl FnMut(Scanned<'_>) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    scan_leaves_after(store, key, fields, macs, 0, upto, f)
}

/// As [`scan_leaves`], for the events after `after` only: what counting on from an earlier
/// scan reads.
pub fn scan_leaves_after(
    store: &dyn EventStore,
    key: &LeafKey,
    fields: Fields,
    macs: Option<&MacKey>,
    after: Seq,
    upto: Option<Seq>,
    mut f: impl FnMut(Scanned<'_>) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    use rayon::prelude::*;
    // The stored MAC of the event before the page: the first page's follows event `after`.
    let mut before: Option<Vec<u8>> = match (macs, after) {
        (Some(_), 1..) => store
            .read_after(after - 1, 1)?
            .into_iter()
            .find(|e| e.seq == after)
            .and_then(|e| e.mac),
        _ => None,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<StoredEvent>, LedgerError>>(2);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut after = after;
            loop {
                let limit = match upto {
                    Some(u) if after >= u => break,
                    Some(u) => PAGE.min((u - after) as usize),
                    None => PAGE,
                };
                let page = store.read_after(after, limit).map_err(LedgerError::from);
                let last = page.as_ref().ok().and_then(|p| p.last().map(|e| e.seq));
                let failed = page.is_err();
                if tx.send(page).is_err() || failed {
                    break;
                }
                match last {
                    Some(seq) => after = seq,
                    None => break,
                }
            }
        });
        for page in rx {
            let page = page?;
            if page.is_empty() {
                break;
            }
            type Computed = (Result<(Vec<u8>, Hash), LeafError>, Option<bool>);
            let computed: Vec<Computed> = page
                .par_iter()
                .enumerate()
                .with_min_len(256)
                .map(|(i, e)| {
                    let leaf = leaf::leaf(key, fields, EventRef::from(e)).map(|l| {
                        let h = dmf_log::leaf_hash(&l);
                        (l, h)
                    });
                    let prev = match i {
                        0 => before.as_deref(),
                        _ => page[i - 1].mac.as_deref(),
                    };
                    let mac_valid = macs
                        .zip(e.mac.as_deref())
                        .map(|(k, mac)| k.verifies(prev, EventRef::from(e), mac));
                    (leaf, mac_valid)
                })
                .collect();
            for (event, (leaf, mac_valid)) in page.iter().zip(&computed) {
                f(Scanned {
                    event,
                    leaf: leaf.as_ref().map(|(l, h)| (l.as_slice(), *h)),
                    mac_valid: *mac_valid,
                })?;
            }
            before = page.last().and_then(|e| e.mac.clone());
        }
        Ok(())
    })
}

/// Something the audit found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The first event concerned, when one can be named.
    pub seq: Option<Seq>,
    pub message: String,
}

/// What the audit checked and found.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub events: u64,
    pub log_leaves: u64,
    pub checkpoints_checked: usize,
    pub latest: Option<Checkpoint>,
    pub against: Option<Checkpoint>,
    pub problems: Vec<Problem>,
    /// Problems beyond the first ones kept.
    pub more_problems: u64,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn add(&mut self, seq: Option<Seq>, message: String) {
        if self.problems.len() < KEEP_PROBLEMS {
            self.problems.push(Problem { seq, message });
        } else {
            self.more_problems += 1;
        }
    }

    /// The first sequence number found bad.
    pub fn first_bad_seq(&self) -> Option<Seq> {
        self.problems.iter().filter_map(|p| p.seq).min()
    }
}

const KEEP_PROBLEMS: usize = 50;

/// Level-0 hashes of the log, read in order alongside the events.
struct LeafHashes {
    reader: Option<BufReader<File>>,
    left: u64,
}

impl LeafHashes {
    fn open(files: &LogFiles) -> LeafHashes {
        let path = files.leaf_hashes_path();
        let count = files.stored_leaves();
        LeafHashes {
            reader: File::open(path)
                .ok()
                .map(|f| BufReader::with_capacity(1 << 20, f)),
            left: count,
        }
    }

    fn next(&mut self) -> Option<Hash> {
        if self.left == 0 {
            return None;
        }
        let mut h = [0; 32];
        self.reader.as_mut()?.read_exact(&mut h).ok()?;
        self.left -= 1;
        Some(h)
    }
}

/// Audits a registry's ledger: its events against its log. `against` is a checkpoint note saved earlier
/// (by anyone); `key` the verifier key to hold the log to (by default the log's own `key.pub`).
pub fn audit(
    ledger: &Ledger,
    against: Option<&str>,
    key: Option<&VerifierKey>,
) -> Result<AuditReport, LedgerError> {
    let files = LogFiles::open(ledger.dir())?;
    let mut report = AuditReport {
        events: 0,
        log_leaves: files.stored_leaves(),
        checkpoints_checked: 0,
        latest: None,
        against: None,
        problems: Vec::new(),
        more_problems: 0,
    };
    let verifier = key.cloned().unwrap_or_else(|| files.verifier.clone());
    if verifier != files.verifier {
        report.add(
            None,
            "the log's key.pub is not the key given: checkpoints are checked with the key given"
                .into(),
        );
    }
    // Every root the tree must have at some size: (label, root) by size.
    let mut targets: BTreeMap<u64, Vec<(String, Hash)>> = BTreeMap::new();
    match files.history() {
        Ok(history) => {
            for (i, signed) in history.iter().enumerate() {
                let note_ok = dmf_log::open_checkpoint(&signed.note, &verifier).is_ok();
                if !note_ok {
                    report.add(
                        None,
                        format!(
                            "checkpoint {} of the history is not signed by the key",
                            i + 1
                        ),
                    );
                }
                targets.entry(signed.checkpoint.size).or_default().push((
                    format!("checkpoint {} of the history", i + 1),
                    signed.checkpoint.root,
                ));
            }
            let sizes: Vec<u64> = history.iter().map(|s| s.checkpoint.size).collect();
            if let Some(i) = sizes.windows(2).position(|w| w[1] < w[0]) {
                report.add(None, format!("the history shrinks at checkpoint {}", i + 2));
            }
        }
        Err(e) => report.add(None, e.to_string()),
    }
    match files.latest() {
        Ok(Some(signed)) => {
            targets
                .entry(signed.checkpoint.size)
                .or_default()
                .push(("the latest checkpoint".into(), signed.checkpoint.root));
            report.latest = Some(signed.checkpoint);
        }
        Ok(None) => {}
        Err(e) => report.add(None, e.to_string()),
    }
    if let Some(note) = against {
        let checkpoint = dmf_log::open_checkpoint(note, &verifier).map_err(|source| {
            crate::log::LogError::Note {
                path: "the checkpoint given".into(),
                source,
            }
        })?;
        targets
            .entry(checkpoint.size)
            .or_default()
            .push(("the checkpoint given".into(), checkpoint.root));
        report.against = Some(checkpoint);
    }
    report.checkpoints_checked = targets.values().map(Vec::len).sum();

    let key = ledger.leaf_key()?;
    let macs = ledger.mac_key();
    // Events stored before events carried a MAC are vouched for by the signed log alone.
    let signed = ledger.signed_size()?;
    let mut stored = LeafHashes::open(&files);
    let mut frontier = Frontier::new();
    let mut expected: Seq = 1;
    let mut first_mismatch: Option<Seq> = None;
    let check_roots =
        |report: &mut AuditReport, frontier: &Frontier, first_mismatch: Option<Seq>| {
            let mut found = Vec::new();
            if let Some(list) = targets.get(&frontier.size()) {
                let root = frontier.root();
                for (label, want) in list {
                    if *want != root {
                        let at = first_mismatch.map_or_else(String::new, |s| {
                            format!(" (the first event that differs from the log is {s})")
                        });
                        found.push((
                            first_mismatch.or(Some(1)),
                            format!(
                                "the first {} events do not hash to the root of {label}{at}",
                                frontier.size()
                            ),
                        ));
                    }
                }
            }
            for (seq, message) in found {
                report.add(seq, message);
            }
        };
    check_roots(&mut report, &frontier, None);
    scan_leaves(
        ledger.store(),
        &key,
        ledger.fields(),
        Some(macs),
        None,
        |s| {
            let seq = s.event.seq;
            if seq != expected {
                report.add(
                    Some(expected),
                    format!("event {expected} is missing from the store (the next is {seq})"),
                );
                expected = seq;
            }
            let hash = match s.leaf {
                Ok((_, h)) => h,
                Err(e) => {
                    report.add(Some(seq), e.to_string());
                    [0; 32]
                }
            };
            if let Some(logged) = stored.next()
                && logged != hash
            {
                first_mismatch.get_or_insert(seq);
                report.add(
                Some(seq),
                format!("event {seq} differs from its leaf in the log: it was changed after it was logged"),
            );
            }
            let beyond = if seq > signed {
                " (beyond the signed log)"
            } else {
                ""
            };
            match (s.mac_valid, &s.event.mac) {
            (Some(false), _) => report.add(
                Some(seq),
                format!(
                    "event {seq}{beyond} fails its MAC: it is not as the registry's writer wrote it (a row put into or changed in the store)"
                ),
            ),
            (None, None) if seq > signed => report.add(
                Some(seq),
                format!(
                    "event {seq} carries no MAC and lies beyond the signed log ({signed} events): the registry's writer did not write it (a row put into the store)"
                ),
            ),
            _ => {}
        }
            frontier.push(hash, |_, _, _| {});
            check_roots(&mut report, &frontier, first_mismatch);
            expected += 1;
            report.events += 1;
            Ok(())
        },
    )?;
    let head = expected - 1;
    let leaves = report.log_leaves;
    if leaves > head {
        report.add(
            Some(head + 1),
            format!(
                "the log holds {leaves} leaves but the store ends at event {head}: events {} to {leaves} are missing (the store was rolled back or cut)",
                head + 1,
            ),
        );
    }
    for (&size, list) in targets.range(head + 1..) {
        for (label, _) in list {
            report.add(
                Some(head + 1),
                format!(
                    "{label} covers {size} events but the store ends at event {head}: the store was rolled back"
                ),
            );
        }
    }
    Ok(report)
}
