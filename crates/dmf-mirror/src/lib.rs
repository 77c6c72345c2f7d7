//! A mirror of a registry: follows its feed of DMF change records into a local registry, so
//! that a copy kept up to date can answer.
//!
//! Each page is applied as one batch named by its cursors, and the cursor is saved only once
//! the batch is durable; a crash at any point repeats at most the last page, which the
//! registry then skips whole. [`Mirror`] holds the folder and its position, [`Feed`] speaks
//! to the registry's `/v1/feed`; the caller loops and reports.

mod feed;

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use dmf_format::{ChangeCode, DmfRecord};
use dmf_registry::{ImportSummary, Registry, RegistryError};
use serde::{Deserialize, Serialize};

pub use feed::{Feed, FeedRecord, Page};

/// The mirror's position, in the data folder.
const POSITION_FILE: &str = dmf_registry::MIRROR_FILE;
/// Held by the one mirror following into a data folder.
const LOCK_FILE: &str = "mirror.lock";

/// Why the mirror stopped.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// What was asked cannot be done as given; the text says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// The registry's answer or the network failed; the text names the URL.
    #[error("{0}")]
    Feed(String),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Registry {
        context: String,
        #[source]
        source: RegistryError,
    },
    #[error(transparent)]
    Open(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] dmf_registry::dmf_store::StoreError),
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> MirrorError {
    move |source| MirrorError::Io { context, source }
}

/// Where a mirror stands in its registry's feed.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    from: String,
    cursor: u64,
    /// The page being applied: if the process died, its batch may be stored already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    applying: Option<Span>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Span {
    after: u64,
    cursor: u64,
}

/// The registry's base URL without a trailing slash; plain HTTP only.
pub fn base_url(given: &str) -> Result<String, MirrorError> {
    let url = given.trim().trim_end_matches('/');
    let refused = |why: String| Err(MirrorError::Refused(why));
    if url.starts_with("https://") {
        return refused(format!(
            "--from {given:?}: this build speaks plain HTTP only; use an http:// URL"
        ));
    }
    let Some(host) = url.strip_prefix("http://") else {
        return refused(format!("--from {given:?}: expected an http:// URL"));
    };
    if host.is_empty() || url.contains(['?', '#']) {
        return refused(format!(
            "--from {given:?}: expected the registry's base URL, such as http://host:8080"
        ));
    }
    Ok(url.to_owned())
}

/// A data folder following one registry: its registry, its lock and its position.
#[derive(Debug)]
pub struct Mirror {
    dir: PathBuf,
    registry: Registry,
    position: Position,
    /// Held while the mirror lives; the lock goes with the process.
    _lock: File,
}

impl Mirror {
    /// Opens `dir` to follow `from` (a base URL from [`base_url`]): the registry there is
    /// created if the folder holds none, the folder is locked against a second mirror, and a
    /// page interrupted by a crash is settled.
    pub fn open(dir: &Path, from: &str) -> Result<Mirror, MirrorError> {
        let registry = open_registry(dir)?;
        let lock = lock(dir)?;
        let mut position = load_position(dir, from, &registry)?;
        recover(dir, &registry, &mut position)?;
        Ok(Mirror {
            dir: dir.to_owned(),
            registry,
            position,
            _lock: lock,
        })
    }

    /// The cursor the next page is asked after.
    pub fn cursor(&self) -> u64 {
        self.position.cursor
    }

    /// The feed's page after [`Mirror::cursor`]: its records checked against the fields sent
    /// beside them, or an error if the page contradicts the cursor or itself.
    pub fn check(&self, page: &Page) -> Result<Vec<DmfRecord>, MirrorError> {
        let after = self.position.cursor;
        if page.cursor < after || (page.cursor == after && !page.records.is_empty()) {
            return Err(MirrorError::Feed(format!(
                "{}: the feed answered the cursor after {after} with cursor {} and {} records",
                self.position.from,
                page.cursor,
                page.records.len()
            )));
        }
        parse_page(page, after)
    }

    /// Applies a checked page and moves the position to `cursor`, each step durable before
    /// the next.
    pub fn apply(
        &mut self,
        records: &[DmfRecord],
        cursor: u64,
        today: dmf_model::Date,
        now_ms: i64,
    ) -> Result<ImportSummary, MirrorError> {
        let after = self.position.cursor;
        let mut summary = ImportSummary::default();
        if !records.is_empty() {
            self.position.applying = Some(Span { after, cursor });
            save(&self.dir, &self.position)?;
            let label = format!("{}/v1/feed?after={after}", self.position.from);
            let key = batch_key(&self.position.from, after, cursor);
            summary = dmf_registry::apply_dmf_records(
                &self.registry,
                records,
                &label,
                key,
                today,
                now_ms,
            )
            .map_err(|source| MirrorError::Registry {
                context: format!("cannot apply the feed page after cursor {after}"),
                source,
            })?;
        }
        self.position.cursor = cursor;
        self.position.applying = None;
        save(&self.dir, &self.position)?;
        Ok(summary)
    }
}

impl Mirror {
    /// Writes the mirror's index snapshot if this handle applied every event the mirror holds
    /// (it followed from an empty folder): the next start of `dmf serve` on the mirror reads it
    /// instead of replaying every page. `dmf snapshot` writes one in any case.
    pub fn snapshot(&self) -> Result<Option<dmf_registry::snapshot::Written>, MirrorError> {
        self.registry
            .snapshot_writer_index()
            .map_err(|source| MirrorError::Registry {
                context: "cannot write the index snapshot".into(),
                source,
            })
    }
}

/// The registry in `dir`, created if the folder holds none.
fn open_registry(dir: &Path) -> Result<Registry, MirrorError> {
    match Registry::open(dir) {
        Ok(registry) => Ok(registry),
        Err(RegistryError::NotInitialized(_)) => {
            if dir.join(POSITION_FILE).exists() {
                return Err(MirrorError::Refused(format!(
                    "{} has a {POSITION_FILE} but no registry: its records are gone, so start in an empty folder",
                    dir.display()
                )));
            }
            Ok(Registry::init(dir, Some("dmf-mirror"))?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Locks the folder against a second mirror; released when the process ends.
fn lock(dir: &Path) -> Result<File, MirrorError> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    if file.try_lock().is_err() {
        return Err(MirrorError::Refused(format!(
            "another dmf mirror is following into {}",
            dir.display()
        )));
    }
    Ok(file)
}

fn load_position(dir: &Path, from: &str, registry: &Registry) -> Result<Position, MirrorError> {
    let path = dir.join(POSITION_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Records of another origin would mix with the mirrored ones unnoticed.
            if registry.store().head()? > 0 {
                return Err(MirrorError::Refused(format!(
                    "{} holds a registry that is not a mirror; mirror into a new folder",
                    dir.display()
                )));
            }
            return Ok(Position {
                from: from.to_owned(),
                cursor: 0,
                applying: None,
            });
        }
        Err(e) => return Err(io(format!("cannot read {}", path.display()))(e)),
    };
    let position: Position = serde_json::from_str(&text).map_err(|e| MirrorError::Io {
        context: format!("{} is not a mirror position", path.display()),
        source: e.into(),
    })?;
    if position.from != from {
        return Err(MirrorError::Refused(format!(
            "{} mirrors {}, not {from}; mirror {from} into another folder",
            dir.display(),
            position.from
        )));
    }
    Ok(position)
}

/// After a crash while a page was applied: if its batch was stored, the position moves past
/// it. Fetching again instead could bring a page cut at other cursors, whose batch name
/// would differ and whose records would then be applied twice.
fn recover(dir: &Path, registry: &Registry, position: &mut Position) -> Result<(), MirrorError> {
    let Some(span) = position.applying.take() else {
        return Ok(());
    };
    let key = batch_key(&position.from, span.after, span.cursor);
    if span.after == position.cursor && registry.store().seq_of_key(&key)?.is_some() {
        position.cursor = span.cursor;
    }
    save(dir, position)
}

fn batch_key(from: &str, after: u64, cursor: u64) -> String {
    format!("mirror:{from}:{after}-{cursor}")
}

/// The page's records, each checked against the fields sent beside it. A page that
/// contradicts itself is refused whole: its records are applied in order or not at all.
fn parse_page(page: &Page, after: u64) -> Result<Vec<DmfRecord>, MirrorError> {
    page.records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = || format!("record {} of the feed page after cursor {after}", i + 1);
            let rec = dmf_format::parse_record(r.line.trim_end_matches(['\r', '\n']).as_bytes())
                .map_err(|errors| {
                    let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    MirrorError::Feed(format!("{}: {}", at(), reasons.join("; ")))
                })?;
            if rec.ssn().to_string() != r.ssn {
                return Err(MirrorError::Feed(format!(
                    "{}: ssn {:?} but the line holds {}",
                    at(),
                    r.ssn,
                    rec.ssn()
                )));
            }
            if !change_agrees(&r.change, rec.change()) {
                return Err(MirrorError::Feed(format!(
                    "{}: change {:?} but the line holds {:?}",
                    at(),
                    r.change,
                    rec.change().code() as char
                )));
            }
            Ok(rec)
        })
        .collect()
}

fn change_agrees(given: &str, code: ChangeCode) -> bool {
    match code {
        // A full file's record (blank code) adds, as `A` does.
        ChangeCode::Full => matches!(given.trim(), "" | "A"),
        _ => given.len() == 1 && given.as_bytes()[0] == code.code(),
    }
}

/// Replaces the position file whole: a crash leaves the old one or the new one.
fn save(dir: &Path, position: &Position) -> Result<(), MirrorError> {
    let path = dir.join(POSITION_FILE);
    let tmp = dir.join(format!("{POSITION_FILE}.tmp"));
    let text = serde_json::to_string(position).map_err(|e| MirrorError::Io {
        context: format!("cannot write {}", tmp.display()),
        source: e.into(),
    })? + "\n";
    let mut file = File::create(&tmp).map_err(io(format!("cannot create {}", tmp.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    fs::rename(&tmp, &path).map_err(io(format!("cannot replace {}", path.display())))?;
    // The rename itself is durable once the folder is.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("cannot sync {}", dir.display())))
}

#[cfg(test)]
mod tests;
