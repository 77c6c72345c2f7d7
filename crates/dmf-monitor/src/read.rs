//! Reading a log's entries from the tree's size to a larger one: entry bundles fetched on
//! several threads at once, each bundle's leaves hashed and counted on the thread that
//! fetched it, and the hashes folded into the tree in order on the caller's. The root the
//! leaves build is the consistency check: the caller compares it with the checkpoint's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError, mpsc};

use dmf_log::tiles::TILE_WIDTH;
use dmf_log::{Frontier, Hash, leaf_hash};

use crate::fetch::{Client, FetchError};
use crate::leaf::scan;
use crate::state::{Hashes, StateError};
use crate::tally::Tally;

/// Why entries could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The tree extended by the leaves read.
#[derive(Debug)]
pub struct Extension {
    pub frontier: Frontier,
    /// The root at each size asked for, in order.
    pub snapshots: Vec<(u64, Hash)>,
    pub tally: Tally,
    /// The first leaves that could not be counted ([`FAULTS_KEPT`] at most): their index and
    /// why.
    pub faults: Vec<(u64, String)>,
    /// Leaves that could not be counted, in all.
    pub faulty: u64,
    /// Leaves read.
    pub leaves: u64,
}

/// One bundle's work.
struct TileOut {
    hashes: Vec<Hash>,
    faults: Vec<(u64, String)>,
}

/// How entries are read: the client, how many requests at a time, and who is told the leaves
/// read so far after each bundle.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub client: &'a Client,
    pub workers: usize,
    pub progress: &'a (dyn Fn(u64) + Sync),
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// Bundles fetched ahead of the first one not yet folded, at most: a slow answer holds back
/// this many, not the whole log.
const AHEAD: u64 = 1024;

/// Faulty leaves named in an extension; the rest are counted.
pub const FAULTS_KEPT: usize = 10;

impl Reader<'_> {
    /// Reads the leaves from `frontier.size()` to `end` from the log at `base`; pushes their
    /// hashes onto `frontier` and into `hashes`, and notes the root at each size of `snapshots`
    /// (sorted, within the range).
    pub fn extend(
        &self,
        base: &str,
        mut frontier: Frontier,
        end: u64,
        snapshots: &[u64],
        hashes: &mut Hashes,
    ) -> Result<Extension, ReadError> {
        let (client, workers, progress) = (self.client, self.workers.max(1), self.progress);
        let start = frontier.size();
        let mut out = Extension {
            frontier: Frontier::new(),
            snapshots: Vec::new(),
            tally: Tally::new(),
            faults: Vec::new(),
            faulty: 0,
            leaves: 0,
        };
        if end <= start {
            out.frontier = frontier;
            return Ok(out);
        }
        let (first_tile, last_tile) = (start / TILE_WIDTH, (end - 1) / TILE_WIDTH);
        let next = AtomicU64::new(first_tile);
        let stop = AtomicBool::new(false);
        // The first bundle not yet folded, which no worker may run too far ahead of.
        let folded = (Mutex::new(first_tile), Condvar::new());
        let (tx, rx) = mpsc::sync_channel::<(u64, Result<TileOut, FetchError>)>(workers * 2);
        let mut error: Option<ReadError> = None;
        let mut tallies = Vec::new();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let tx = tx.clone();
                    let (next, stop, folded) = (&next, &stop, &folded);
                    s.spawn(move || {
                        let mut tally = Tally::new();
                        let mut buf = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            if k > last_tile {
                                break;
                            }
                            let (lock, ahead) = folded;
                            let mut f = lock.lock().unwrap_or_else(PoisonError::into_inner);
                            while k >= *f + AHEAD && !stop.load(Ordering::Relaxed) {
                                f = ahead.wait(f).unwrap_or_else(PoisonError::into_inner);
                            }
                            drop(f);
                            let work = client
                                .entries(base, k, end, &mut buf)
                                .map(|entries| work_on(&entries, k, start, &mut tally));
                            if tx.send((k, work)).is_err() {
                                break;
                            }
                        }
                        tally
                    })
                })
                .collect();
            drop(tx);
            let halt = |error: &mut Option<ReadError>, e: ReadError| {
                error.get_or_insert(e);
                stop.store(true, Ordering::Relaxed);
                folded.1.notify_all();
            };
            // Bundles arrive in any order; they are folded in order.
            let mut pending: BTreeMap<u64, TileOut> = BTreeMap::new();
            let mut want = first_tile;
            let mut snap = snapshots.iter().peekable();
            'receive: for (k, work) in rx.iter() {
                if error.is_some() {
                    continue;
                }
                match work {
                    Ok(t) => {
                        pending.insert(k, t);
                    }
                    Err(e) => {
                        halt(&mut error, e.into());
                        continue;
                    }
                }
                while let Some(t) = pending.remove(&want) {
                    for h in &t.hashes {
                        if let Err(e) = hashes.push(h) {
                            halt(&mut error, e.into());
                            continue 'receive;
                        }
                        frontier.push(*h, |_, _, _| {});
                        if snap.peek() == Some(&&frontier.size()) {
                            out.snapshots.push((frontier.size(), frontier.root()));
                            snap.next();
                        }
                    }
                    out.leaves += t.hashes.len() as u64;
                    out.faulty += t.faults.len() as u64;
                    let room = FAULTS_KEPT.saturating_sub(out.faults.len());
                    out.faults.extend(t.faults.into_iter().take(room));
                    want += 1;
                    *folded.0.lock().unwrap_or_else(PoisonError::into_inner) = want;
                    folded.1.notify_all();
                    progress(out.leaves);
                }
            }
            tallies = handles
                .into_iter()
                .map(|h| h.join().expect("a reader thread panicked"))
                .collect();
        });
        if let Some(e) = error {
            return Err(e);
        }
        for t in tallies {
            out.tally.merge(t);
        }
        out.frontier = frontier;
        Ok(out)
    }
}

/// One bundle's leaves from `start` on: hashed, and counted into the worker's `tally`.
fn work_on(entries: &[&[u8]], k: u64, start: u64, tally: &mut Tally) -> TileOut {
    let skip = start.saturating_sub(k * TILE_WIDTH) as usize;
    let mut out = TileOut {
        hashes: Vec::with_capacity(entries.len().saturating_sub(skip)),
        faults: Vec::new(),
    };
    for (i, e) in entries.iter().enumerate().skip(skip) {
        let index = k * TILE_WIDTH + i as u64;
        out.hashes.push(leaf_hash(e));
        if let Err(reason) = scan(e, index).and_then(|v| tally.add(&v)) {
            out.faults.push((index, reason));
        }
    }
    out
}
