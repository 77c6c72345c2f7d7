//! `dmf serve`: the registry over HTTP. Verification for banks, employers and benefit programs,
//! submissions from reporters and authorities, the public log, oversight statistics, and the
//! accounting of every disclosure.
//!
//! Handlers never block the async runtime on disk: answers come from an in-memory index
//! (rebuilt at start, updated after every write this server makes), writes and log scans run
//! on the blocking pool, and disclosures are queued to a background writer.

pub mod accounting;
mod auth;
mod conn;
mod console;
pub mod error;
pub mod keys;
mod metrics;
pub mod openapi;
mod pg;
pub mod programs;
pub mod ratelimit;
mod routes;
pub mod services;
mod tiles;
pub mod users;
pub mod views;
pub mod workflow;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use dmf_model::Date;
use dmf_registry::{Index, Registry, RegistryError};

pub use auth::Caller;

use crate::accounting::Accounting;
use crate::keys::KeyStore;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;

pub use dmf_service::{
    ACCOUNTING_FILE, KEYS_FILE, PROGRAMS_FILE, ServiceDb, USERS_FILE, WORKFLOW_FILE,
};
pub use pg::Stores;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The day answers are given for; `None` is today (UTC).
    pub today: Option<Date>,
    /// Largest body of a single-object request.
    pub body_limit: usize,
    /// Largest body of a streamed NDJSON request (batch verification).
    pub bulk_limit: usize,
    /// Largest body of an NDJSON bulk submission (read, stored and answered a bounded batch at
    /// a time), of a program's matching list and of a published file to compare (read whole).
    pub submit_limit: usize,
    /// Requests a second per key, and the burst a key may spend at once.
    pub rate_per_second: u32,
    pub rate_burst: u32,
    /// Console cookies only over HTTPS (behind a TLS-terminating proxy, say).
    pub secure_cookies: bool,
    /// Thresholds of the intake anomaly alerts over their defaults.
    pub alert_thresholds: dmf_registry::oversight::anomaly::Thresholds,
    /// Connections: how many, and how long a client may stall.
    pub conn: ConnLimits,
    /// Events one feed request reads past those its key may not see before it answers an
    /// empty page with its cursor moved on (the client asks again from there).
    pub feed_read_limit: usize,
    /// The address the public reaches the registry at, printed on letters; without it a letter
    /// shows the check page's path alone, and says so to the caseworker.
    pub public_url: Option<services::letters::PublicUrl>,
    /// The letterhead's lines (the office's name, its address); none: the log's origin.
    pub letterhead: Vec<String>,
    /// Where the person or a bank may ask about a letter ("Questions: …").
    pub letter_contact: Option<String>,
    /// Letter checks a second, by anyone, on the page and the API together (five seconds' worth
    /// at once): they need no key, and each found letter is a durable disclosure.
    pub letter_check_rate: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            today: None,
            body_limit: 64 * 1024,
            bulk_limit: 4 << 30,
            submit_limit: 256 << 20,
            rate_per_second: 2_000,
            rate_burst: 4_000,
            secure_cookies: false,
            alert_thresholds: Default::default(),
            conn: ConnLimits::default(),
            feed_read_limit: 100_000,
            public_url: None,
            letterhead: Vec::new(),
            letter_contact: None,
            letter_check_rate: 20,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error(transparent)]
    Accounting(#[from] accounting::AccountingError),
    #[error(transparent)]
    Workflow(#[from] workflow::WorkflowError),
    #[error(transparent)]
    Users(#[from] users::UserError),
    #[error(transparent)]
    Programs(#[from] programs::ProgramStoreError),
    #[error(transparent)]
    Log(#[from] dmf_ledger::log::LogError),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Everything a request may need, shared by all handlers.
pub struct App {
    pub(crate) dir: PathBuf,
    pub(crate) registry: Arc<Registry>,
    pub(crate) index: RwLock<Index>,
    pub(crate) keys: KeyStore,
    pub(crate) accounting: Accounting,
    pub(crate) limiter: RateLimiter,
    /// Letter checks, by anyone: one bucket for all.
    pub(crate) letter_checks: RateLimiter,
    /// Records answered today per verification key, against its daily allowance.
    pub(crate) quotas: ratelimit::DailyQuotas,
    pub(crate) metrics: Metrics,
    /// Open, anonymous, refused and evicted connections.
    pub(crate) conns: Arc<conn::ConnCounts>,
    pub(crate) config: Config,
    /// Statistics and intake alerts as last computed, with what carrying them on to the next
    /// event needs.
    pub(crate) oversight: services::statistics::Oversight,
    /// Writes go one at a time, as the registry has one writer.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// FHIR VRDR bodies waiting for the writer: whoever takes the write lock stores every body
    /// waiting in one durable transaction (group commit).
    pub(crate) vrdr_waiting: services::vrdr::Waiting,
    /// Subscribers' positions and corrections awaiting approval.
    pub(crate) workflow: workflow::Workflow,
    /// The last event in the store, for feed requests waiting for something new.
    pub(crate) head_tx: tokio::sync::watch::Sender<u64>,
    /// Console users and their sessions.
    pub(crate) users: users::Users,
    /// The registry's key, which signs letters (the log writer signs checkpoints with it).
    pub(crate) signer: dmf_log::SigningKey,
    /// Name tables for the console's fuzzy search, built on first use.
    pub(crate) names: std::sync::OnceLock<dmf_match::NameTables>,
    /// Computer-matching programs: agreements, requests, due process.
    pub(crate) programs: programs::Programs,
    /// Everyone on file prepared for matching programs, per event head.
    pub(crate) program_master: Mutex<Option<Arc<services::matching::Master>>>,
    /// Serving a subscriber's mirror: it holds deaths, not numberholders.
    pub(crate) mirror: bool,
    /// How the answer index was loaded, for the log at start.
    index_start: String,
    /// The tree size of the index snapshot on disk (0: none), so that a stop writes a new one
    /// only when the index moved on.
    snapshot_size: std::sync::atomic::AtomicU64,
    /// The name index is still to be built ([`App::build_name_index`]).
    names_later: std::sync::atomic::AtomicBool,
    /// The events under the snapshot the index started from, read once serving.
    store_check: Mutex<StoreCheck>,
}

/// What is known of the events a start from the index snapshot did not read (those under it):
/// they are read and checked once serving ([`App::check_store`]), as a rebuild at start reads
/// them, and `/healthz` fails once one is found damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreCheck {
    /// Nothing left to read: the index was rebuilt from every event at start.
    ReadAtStart,
    /// Being read: events checked so far, of how many.
    Checking { checked: u64, of: u64 },
    /// Every event under the snapshot read and checked.
    Clean { of: u64 },
    /// The first event that failed, and why.
    Damaged(String),
}

impl std::fmt::Display for StoreCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreCheck::ReadAtStart => f.write_str("every event read at start"),
            StoreCheck::Checking { checked, of } => write!(
                f,
                "reading the events under the index snapshot: {checked} of {of} checked"
            ),
            StoreCheck::Clean { of } => {
                write!(
                    f,
                    "the {of} events under the index snapshot read and checked"
                )
            }
            StoreCheck::Damaged(why) => write!(f, "damaged: {why}"),
        }
    }
}

/// Events read at a time by [`App::check_store`].
const CHECK_PAGE: u64 = 10_000;

/// People up to whom the name index is built before serving (a second or less); above, it is
/// built once serving.
const NAMES_AT_ONCE: usize = 2_000_000;

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("dir", &self.dir).finish()
    }
}

impl App {
    /// Opens the registry in `data`, its keys and its accounting, and loads the answer index.
    pub fn open(data: &Path, config: Config) -> Result<App, ServerError> {
        App::with_registry(Registry::open(data)?, config)
    }

    /// Serves an opened registry (its events in the data folder or in a shared database); the
    /// keys, accounting, workflow and users are files of its data folder.
    pub fn with_registry(registry: Registry, config: Config) -> Result<App, ServerError> {
        let files = ServiceDb::Files(registry.dir().to_owned());
        App::with_service(registry, config, files)
    }

    /// As [`App::with_registry`], with the service's own records where `service` says.
    pub fn with_service(
        registry: Registry,
        config: Config,
        service: ServiceDb,
    ) -> Result<App, ServerError> {
        let data = &registry.dir().to_owned();
        let (mut index, start) = registry.open_index()?;
        let snapshot_size = start.snapshot.unwrap_or(0).into();
        let index_start = start.to_string();
        // The console's search finds people through it, never by a scan of everyone. A large
        // index gets it once serving (`serve`), on a thread of its own, so that answers start
        // in seconds; searches scan until it is in.
        let names_later = index.len() > NAMES_AT_ONCE;
        if !names_later {
            index.index_names();
        }
        let (head_tx, _) = tokio::sync::watch::channel(index.head);
        let signer = dmf_ledger::log::read_signer(&dmf_ledger::log::LogFiles::open(data)?)?;
        let stores = Stores::open(&service)?;
        Ok(App {
            mirror: registry.is_mirror(),
            users: stores.users,
            programs: stores.programs,
            program_master: Mutex::new(None),
            signer,
            names: std::sync::OnceLock::new(),
            workflow: stores.workflow,
            head_tx,
            dir: data.to_owned(),
            keys: stores.keys,
            accounting: stores.accounting,
            limiter: RateLimiter::new(config.rate_per_second, config.rate_burst),
            letter_checks: RateLimiter::new(
                config.letter_check_rate,
                config.letter_check_rate.saturating_mul(5),
            ),
            quotas: Default::default(),
            conns: Default::default(),
            metrics: Metrics::default(),
            registry: Arc::new(registry),
            index: RwLock::new(index),
            config,
            oversight: Default::default(),
            write_lock: tokio::sync::Mutex::new(()),
            vrdr_waiting: Default::default(),
            index_start,
            snapshot_size,
            names_later: names_later.into(),
            store_check: Mutex::new(match start.snapshot {
                Some(of) if of > 0 => StoreCheck::Checking { checked: 0, of },
                _ => StoreCheck::ReadAtStart,
            }),
        })
    }

    /// Where the reading of the events under the index snapshot stands.
    pub fn store_check(&self) -> StoreCheck {
        self.store_check.lock().expect("store check lock").clone()
    }

    /// Reads every event under the snapshot the index started from, checking each one's MAC
    /// and that it decodes, as a rebuild at start does; the first that fails marks the store
    /// damaged (logged, and `/healthz` answers 503). Does nothing after a rebuild.
    pub fn check_store(&self) {
        let StoreCheck::Checking { of, .. } = self.store_check() else {
            return;
        };
        let set = |state: StoreCheck| *self.store_check.lock().expect("store check lock") = state;
        let mut after = 0;
        while after < of {
            let page = match self
                .registry
                .read_checked(after, CHECK_PAGE.min(of - after) as usize)
            {
                Ok(page) if page.is_empty() => Err(format!(
                    "the store ends at event {after}, under the index snapshot's {of}"
                )),
                Ok(page) => page
                    .iter()
                    .find_map(|e| {
                        dmf_registry::decode(&e.kind, &e.body)
                            .err()
                            .map(|source| format!("event {}: {source}", e.seq))
                    })
                    .map_or(Ok(page), Err),
                Err(e) => Err(e.to_string()),
            };
            match page {
                Ok(page) => after = page.last().map_or(of, |e| e.seq),
                Err(why) => {
                    tracing::error!(reason = %why, "the store is damaged under the index snapshot");
                    return set(StoreCheck::Damaged(why));
                }
            }
            set(StoreCheck::Checking { checked: after, of });
        }
        tracing::info!(
            events = of,
            "the events under the index snapshot are read and checked"
        );
        set(StoreCheck::Clean { of });
    }

    /// Builds the name index of a large index away from its lock and installs it: a copy of
    /// what it files is taken under the readers' lock, every change of identity meanwhile is
    /// noted and refiled at the install. Does nothing when it is built already.
    pub fn build_name_index(&self) {
        use std::sync::atomic::Ordering;
        if !self.names_later.swap(false, Ordering::AcqRel) {
            return;
        }
        let started = std::time::Instant::now();
        self.index
            .write()
            .expect("index lock")
            .note_identity_changes();
        let source = self.index.read().expect("index lock").name_copy();
        let names = source.build();
        self.index
            .write()
            .expect("index lock")
            .install_names(names, source);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "name index for searches built"
        );
    }

    /// How the answer index was loaded: from a snapshot and the events after it, or rebuilt
    /// from every event and why.
    pub fn index_start(&self) -> &str {
        &self.index_start
    }

    /// Writes the answer index's snapshot if it moved on since the one on disk and stands at
    /// the log's latest signed checkpoint; returns the tree size written. Writers wait while it
    /// is written (answers do not); `serve` calls it once stopped.
    pub fn write_snapshot(&self) -> Result<Option<u64>, RegistryError> {
        use std::sync::atomic::Ordering;
        if self.registry.shared() {
            return Ok(None);
        }
        let index = self.index.read().expect("index lock");
        if index.head == self.snapshot_size.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let written = self.registry.write_snapshot(&index)?;
        self.snapshot_size.store(written.size, Ordering::Relaxed);
        Ok(Some(written.size))
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    pub fn accounting(&self) -> &Accounting {
        &self.accounting
    }

    pub fn programs(&self) -> &programs::Programs {
        &self.programs
    }

    pub fn users(&self) -> &users::Users {
        &self.users
    }

    /// People in the answer index.
    pub fn people(&self) -> usize {
        self.index.read().expect("index lock").len()
    }

    pub(crate) fn today(&self) -> Date {
        self.config.today.unwrap_or_else(today_utc)
    }

    /// Waits until the disclosures recorded up to `ticket` are durable: no answer about a
    /// person leaves before. If they cannot be made durable, the request fails with nothing
    /// disclosed.
    pub(crate) async fn disclosed(
        &self,
        ticket: accounting::Ticket,
    ) -> Result<(), error::ApiError> {
        self.accounting.durable(ticket).await.map_err(|e| {
            error::ApiError::internal(format!(
                "the disclosure could not be recorded, so no answer is given: {e}"
            ))
        })
    }

    /// Wakes feed requests waiting for new events.
    pub(crate) fn notify_head(&self) {
        let head = self.index.read().expect("index lock").head;
        self.head_tx.send_replace(head);
    }

    /// Follows a shared store: applies what other nodes appended, wakes the feed's waiting
    /// requests, and signs the log if no other node is signing. Returns the events applied.
    pub fn follow(&self) -> Result<u64, RegistryError> {
        let before = self.index.read().expect("index lock").head;
        self.refresh_index()?;
        let after = self.index.read().expect("index lock").head;
        if after > before {
            self.notify_head();
        }
        if self.registry.shared() {
            let signed = self
                .registry
                .store()
                .latest_checkpoint()?
                .map_or(0, |(size, _)| size);
            if signed < after {
                self.registry.sign_pending(false)?;
            }
        }
        Ok(after - before)
    }

    /// The registry served.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Applies events stored since the index was last brought up to date.
    pub(crate) fn refresh_index(&self) -> Result<(), RegistryError> {
        let mut index = self.index.write().expect("index lock");
        loop {
            // Only what a writer wrote: a row put into a shared store behind the nodes' backs
            // is refused here, before any answer is given from it.
            let page = self.registry.read_checked(index.head, 10_000)?;
            if page.is_empty() {
                return Ok(());
            }
            for e in &page {
                let event = dmf_registry::decode(&e.kind, &e.body)
                    .map_err(|source| RegistryError::Decode { seq: e.seq, source })?;
                index.apply(e.seq, &event);
            }
        }
    }
}

pub use conn::ConnLimits;
pub use dmf_registry::{now_ms, today_utc};

/// The router of every route.
pub fn router(app: Arc<App>) -> axum::Router {
    routes::router(app)
}

/// Serves on `listener` until `shutdown` completes, then finishes the requests in flight and
/// makes every queued disclosure durable.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, people = app.people(), index = app.index_start(), "serving");
    let witnessing = tokio::spawn(services::witnesses::run(app.clone()));
    // A thread of its own, not the runtime's: a stop does not wait for it.
    let names = app.clone();
    std::thread::Builder::new()
        .name("dmf-name-index".into())
        .spawn(move || names.build_name_index())?;
    let checking = app.clone();
    std::thread::Builder::new()
        .name("dmf-store-check".into())
        .spawn(move || {
            // Behind the answers: the lowest priority for this thread (on Linux `who` 0 is
            // the calling thread). A failure leaves it at the normal one.
            // SAFETY: a plain system call on the calling thread, with no pointers.
            let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
            checking.check_store()
        })?;
    let served = conn::serve_connections(
        listener,
        router(app.clone()),
        app.config.conn,
        app.conns.clone(),
        shutdown,
    )
    .await;
    witnessing.abort();
    served?;
    app.accounting
        .flush()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // The next start reads the index instead of replaying every event; a failure here costs
    // that start time, not data.
    let snapshot = app.clone();
    match tokio::task::spawn_blocking(move || snapshot.write_snapshot()).await {
        Ok(Ok(Some(size))) => tracing::info!(size, "index snapshot written"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "no index snapshot written"),
        Err(e) => tracing::warn!(error = %e, "no index snapshot written"),
    }
    tracing::info!("stopped");
    Ok(())
}
