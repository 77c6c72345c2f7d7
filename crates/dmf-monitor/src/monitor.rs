//! One pass of the monitor: the checkpoints of every URL (and files) fetched and verified,
//! held against each other and the tree verified before, the tree extended by the entries
//! served to the largest trusted checkpoint, the statistics and intake recounted, and the
//! state saved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dmf_log::Hash;
use dmf_registry::oversight::anomaly::Thresholds;

use crate::alerts::alerts;
use crate::checks::{self, Seen, b64};
use crate::fetch::{Client, FetchError};
use crate::finding::{Evidence, Finding, Kind, Status};
use crate::read::{ReadError, Reader};
use crate::report::{AGE_TEST, Report, UrlReport};
use crate::state::{Hashes, State, StateError};
use crate::trust::{Refusal, Trust};

/// What to monitor and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URLs of the log's nodes or mirrors (see [`crate::base_url`]).
    pub urls: Vec<String>,
    pub trust: Trust,
    /// Checkpoint notes from elsewhere, each with a name for it (its file).
    pub checkpoints: Vec<(String, String)>,
    pub thresholds: Thresholds,
    /// Requests at a time while reading entries.
    pub workers: usize,
    /// The longest one request may take.
    pub timeout: Duration,
}

/// A monitor and the state it carries from pass to pass.
#[derive(Debug)]
pub struct Monitor {
    config: Config,
    client: Client,
    state: State,
    hashes: Hashes,
    path: Option<PathBuf>,
    /// Roots of the verified tree at smaller sizes, as computed: the tree only grows, so they
    /// hold from pass to pass (a mirror behind is asked about again and again).
    roots: BTreeMap<u64, Hash>,
}

/// Roots remembered, at most.
const ROOTS_KEPT: usize = 64;

/// A checkpoint as judged this pass.
struct Judged {
    seen: Seen,
    /// Cosigned as required: `Some` with the witnesses that did.
    trusted: Option<Vec<String>>,
}

impl Monitor {
    /// A monitor resuming from the state at `state` (from nothing if it does not exist yet),
    /// or starting from nothing each time it is opened without one.
    pub fn open(config: Config, state: Option<&Path>) -> Result<Monitor, StateError> {
        let loaded = match state {
            Some(path) => State::load(path, config.trust.log())?,
            None => None,
        };
        let state_now = loaded.unwrap_or_else(|| State::new(config.trust.log()));
        let hashes = Hashes::open(state, state_now.size())?;
        Ok(Monitor {
            client: Client::new(config.timeout, config.workers),
            config,
            state: state_now,
            hashes,
            path: state.map(Path::to_owned),
            roots: BTreeMap::new(),
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The tree verified before this pass, as a checkpoint seen.
    fn verified(&self) -> Option<Seen> {
        let note = self.state.note.clone()?;
        let checkpoint = self.config.trust.log().clone();
        let checkpoint = dmf_log::open_checkpoint(&note, &checkpoint).ok()?;
        Some(Seen {
            from: match &self.state.note_from {
                Some(f) => format!("{f} (verified before)"),
                None => "the tree verified before".into(),
            },
            note,
            checkpoint,
            served: false,
        })
    }

    /// The root of the verified tree at `size` (no larger than it).
    fn root_at(&mut self, size: u64) -> Result<Hash, StateError> {
        if size == self.state.size() {
            return Ok(self.state.root());
        }
        if let Some(r) = self.roots.get(&size) {
            return Ok(*r);
        }
        let r = self.hashes.root_at(size)?;
        if self.roots.len() >= ROOTS_KEPT {
            self.roots.clear();
        }
        self.roots.insert(size, r);
        Ok(r)
    }

    /// One pass. `progress` is told the leaves read and to read. Only the state's own files
    /// failing is an error; whatever the log does is in the report.
    pub fn pass(&mut self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Report, StateError> {
        let started = Instant::now();
        let mut findings: Vec<Finding> = Vec::new();
        let mut urls: Vec<UrlReport> = Vec::new();
        let mut judged: Vec<Judged> = Vec::new();

        // The checkpoints, every URL's at once.
        let client = &self.client;
        let fetched: Vec<(String, Result<String, FetchError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (self.config.urls.iter())
                .map(|u| s.spawn(move || (u.clone(), client.checkpoint(u))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a checkpoint fetch panicked"))
                .collect()
        });
        let files = self.config.checkpoints.clone();
        let notes = fetched
            .into_iter()
            .map(|(u, r)| (u, r, true))
            .chain(files.into_iter().map(|(f, n)| (f, Ok(n), false)));
        for (from, note, served) in notes {
            let note = match note {
                Ok(n) => n,
                Err(e) => {
                    findings.push(Finding::new(
                        Kind::Unchecked,
                        format!("no checkpoint from {from}: {e}"),
                        Vec::new(),
                    ));
                    urls.push(url_report(&from, None));
                    continue;
                }
            };
            let j = self.judge(from.clone(), note, served, &mut findings);
            if served {
                urls.push(url_report(&from, j.as_ref()));
            }
            judged.extend(j);
        }

        let verified = self.verified();
        let before = self.state.size();
        // Checkpoints of one size, and those smaller than the tree, against each other.
        let all: Vec<&Seen> = verified
            .iter()
            .chain(judged.iter().map(|j| &j.seen))
            .collect();
        findings.extend(checks::same_size(&all));
        if let Some(v) = &verified {
            for j in &judged {
                if j.seen.size() < before {
                    let root = self.root_at(j.seen.size())?;
                    findings.extend(checks::against_tree(v, &j.seen, &root));
                }
            }
        }
        let served: Vec<&Seen> = (judged.iter().filter(|j| j.seen.served))
            .map(|j| &j.seen)
            .collect();
        let from_files: Vec<&Seen> = (judged.iter().filter(|j| !j.seen.served))
            .map(|j| &j.seen)
            .collect();
        findings.extend(checks::rollbacks(
            verified.as_ref(),
            &self.state.urls,
            &served,
            &from_files,
        ));

        // The tree extended to the largest trusted checkpoint whose entries build its root.
        let mut candidates: Vec<&Judged> = (judged.iter())
            .filter(|j| j.seen.served && j.trusted.is_some() && j.seen.size() > before)
            .collect();
        candidates.sort_by_key(|j| std::cmp::Reverse(j.seen.size()));
        let mut leaves_read = 0;
        let mut read_from = None;
        let mut cosigned = Vec::new();
        let mut found_alerts = Vec::new();
        for cand in candidates {
            let target = &cand.seen;
            let mut sizes: Vec<u64> = (judged.iter().map(|j| j.seen.size()))
                .filter(|&n| n > before && n < target.size())
                .collect();
            sizes.sort_unstable();
            sizes.dedup();
            let total = target.size() - before;
            let report = |n: u64| progress(n, total);
            let reader = Reader {
                client: &self.client,
                workers: self.config.workers,
                progress: &report,
            };
            let ext = match reader.extend(
                &target.from,
                self.state.frontier.clone(),
                target.size(),
                &sizes,
                &mut self.hashes,
            ) {
                Ok(ext) => ext,
                Err(ReadError::State(e)) => return Err(e),
                Err(ReadError::Fetch(e)) => {
                    self.hashes.truncate(before)?;
                    findings.push(Finding::new(
                        Kind::Unchecked,
                        format!(
                            "the entries of {}'s checkpoint of {} leaves could not be read: {e}",
                            target.from,
                            target.size()
                        ),
                        vec![target.evidence()],
                    ));
                    continue;
                }
            };
            leaves_read += ext.leaves;
            if let Some(f) = checks::extension(verified.as_ref(), target, &ext.frontier.root()) {
                self.hashes.truncate(before)?;
                findings.push(f);
                continue;
            }
            // The checkpoints between the two trees, against the tree just built.
            for j in &judged {
                if let Some((_, root)) = ext.snapshots.iter().find(|(n, _)| *n == j.seen.size()) {
                    findings.extend(checks::against_tree(target, &j.seen, root));
                }
            }
            for (index, reason) in &ext.faults {
                findings.push(Finding::new(
                    Kind::MalformedLeaf,
                    format!(
                        "leaf {index} (from {}) is not counted: {reason}",
                        target.from
                    ),
                    Vec::new(),
                ));
            }
            if ext.faulty > ext.faults.len() as u64 {
                findings.push(Finding::new(
                    Kind::MalformedLeaf,
                    format!(
                        "{} more leaves are not counted",
                        ext.faulty - ext.faults.len() as u64
                    ),
                    Vec::new(),
                ));
            }
            self.state.malformed += ext.faulty;
            let new_days = self.state.counts.add(ext.tally);
            self.state.frontier = ext.frontier;
            self.state.note = Some(target.note.clone());
            self.state.note_from = Some(target.from.clone());
            found_alerts = alerts(
                self.state.counts.intake(),
                &new_days,
                &self.config.thresholds,
            );
            read_from = Some(target.from.clone());
            cosigned = cand.trusted.clone().unwrap_or_default();
            break;
        }
        // Nothing larger: a trusted checkpoint of the verified tree keeps the note fresh
        // (the latest cosignatures), and a first pass over an empty log starts from it.
        if read_from.is_none()
            && let Some(j) = judged.iter().find(|j| {
                j.seen.served
                    && j.trusted.is_some()
                    && j.seen.size() == self.state.size()
                    && j.seen.checkpoint.root == self.state.root()
            })
        {
            self.state.note = Some(j.seen.note.clone());
            self.state.note_from = Some(j.seen.from.clone());
            cosigned = j.trusted.clone().unwrap_or_default();
        }

        // URLs behind the tree, consistent with it: named, not blamed.
        let blamed: BTreeSet<&str> = (findings.iter())
            .filter(|f| matches!(f.kind, Kind::SplitView | Kind::Rollback))
            .flat_map(|f| f.evidence.iter().map(|e| e.from.as_str()))
            .collect();
        let mut behind = Vec::new();
        for c in &served {
            if c.size() < self.state.size() && !blamed.contains(c.from.as_str()) {
                let root = self.root_at(c.size())?;
                if root == c.checkpoint.root {
                    behind.push(Finding::new(
                        Kind::Behind,
                        format!(
                            "{} serves a tree of {} leaves, consistent with the {} verified",
                            c.from,
                            c.size(),
                            self.state.size()
                        ),
                        Vec::new(),
                    ));
                }
            }
        }
        findings.extend(behind);
        for c in &served {
            let was = self.state.urls.entry(c.from.clone()).or_default();
            *was = (*was).max(c.size());
        }
        if let Some(path) = &self.path {
            self.hashes.sync()?;
            self.state.save(path)?;
        }

        let size = self.state.size();
        let status = Status::of(&findings, found_alerts.len());
        Ok(Report {
            log: self.config.trust.log().name().to_owned(),
            size,
            root: b64(&self.state.root()),
            read_from,
            cosigned,
            witnesses_required: self.config.trust.requires_witnesses(),
            urls,
            leaves_read,
            seconds: started.elapsed().as_secs_f64(),
            findings,
            alerts: found_alerts.iter().map(|a| a.view(size)).collect(),
            age_test: AGE_TEST,
            stats: (self.state.counts).stats(self.config.trust.log().name(), &self.state.root()),
            status,
            exit: status.code(),
        })
    }

    /// A note from `from`, checked: what it proves is reported, and a checkpoint the log
    /// signed is kept to be held against the others.
    fn judge(
        &self,
        from: String,
        note: String,
        served: bool,
        findings: &mut Vec<Finding>,
    ) -> Option<Judged> {
        let evidence = || {
            vec![Evidence {
                from: from.clone(),
                note: note.clone(),
            }]
        };
        match self.config.trust.check(&note) {
            Ok(t) => Some(Judged {
                seen: Seen {
                    from,
                    note,
                    checkpoint: t.checkpoint,
                    served,
                },
                trusted: Some(t.cosigned),
            }),
            Err(Refusal::Signature(reason)) => {
                findings.push(Finding::new(
                    Kind::BadSignature,
                    format!("the checkpoint from {from} is not the log's: {reason}"),
                    evidence(),
                ));
                None
            }
            Err(Refusal::Quorum {
                checkpoint, reason, ..
            }) => {
                findings.push(Finding::new(
                    Kind::MissingQuorum,
                    format!(
                        "the checkpoint of {} leaves from {from} is signed by the log but lacks \
                         the cosignatures required: {reason}; it must not be served as published",
                        checkpoint.size
                    ),
                    evidence(),
                ));
                Some(Judged {
                    seen: Seen {
                        from,
                        note,
                        checkpoint: *checkpoint,
                        served,
                    },
                    trusted: None,
                })
            }
        }
    }
}

fn url_report(url: &str, j: Option<&Judged>) -> UrlReport {
    UrlReport {
        url: url.to_owned(),
        size: j.map(|j| j.seen.size()),
        root: j.map(|j| b64(&j.seen.checkpoint.root)),
        cosigned: j.and_then(|j| j.trusted.clone()).unwrap_or_default(),
        trusted: j.is_some_and(|j| j.trusted.is_some()),
    }
}
