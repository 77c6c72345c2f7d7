//! `dmf mirror`: follows a registry's feed of DMF change records into a local registry, so
//! that `dmf verify --data DIR` answers from a copy kept up to date.
//!
//! Each page is applied as one batch named by its cursors, and the cursor is saved only once
//! the batch is durable; a crash at any point repeats at most the last page, which the
//! registry then skips whole.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use dmf_format::{ChangeCode, DmfRecord};
use dmf_registry::{ImportSummary, Registry, RegistryError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ureq::http::{Response, StatusCode};

use crate::MirrorArgs;
use crate::registry_cmd::{now_ms, today_or};

/// The mirror's position, in the data folder.
const POSITION_FILE: &str = dmf_registry::MIRROR_FILE;
/// Held by the one mirror following into a data folder.
const LOCK_FILE: &str = "mirror.lock";
/// The longest pause between attempts while the registry cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The largest response read; a full feed page is a few megabytes.
const BODY_LIMIT: u64 = 256 << 20;
/// The least time between two polls that found nothing, whatever the server's wait.
const MIN_POLL: Duration = Duration::from_secs(1);

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

/// A page of the feed, as the server sends it.
#[derive(Debug, Deserialize)]
struct Page {
    cursor: u64,
    records: Vec<FeedRecord>,
}

#[derive(Debug, Deserialize)]
struct FeedRecord {
    change: String,
    ssn: String,
    line: String,
}

pub fn run(args: &MirrorArgs, _quiet: bool) -> Result<ExitCode> {
    let from = base_url(&args.from)?;
    let dir = args.data.as_path();
    let registry = open_registry(dir)?;
    let _lock = lock(dir)?;
    let mut position = load_position(dir, &from, &registry)?;
    recover(dir, &registry, &mut position)?;

    // --once asks for what is there now, not for what may come.
    let wait = if args.once { 0 } else { args.wait };
    let feed = Feed::new(&from, &args.key, wait, !args.once);
    loop {
        let after = position.cursor;
        let started = Instant::now();
        let page = feed.page(after, wait)?;
        if page.cursor < after || (page.cursor == after && !page.records.is_empty()) {
            bail!(
                "{from}: the feed answered the cursor after {after} with cursor {} and {} records",
                page.cursor,
                page.records.len()
            );
        }
        if page.cursor == after {
            if args.once {
                break;
            }
            // A server that does not hold requests open is not polled in a tight loop.
            std::thread::sleep(MIN_POLL.saturating_sub(started.elapsed()));
            continue;
        }
        let records = parse_page(&page, after)?;
        let today = today_or(args.today.as_deref())?;
        let summary = apply_page(dir, &registry, &mut position, &records, page.cursor, today)?;
        print_page(args.json, after, page.cursor, &summary)?;
        // Acknowledged only once applied and saved: the server may count on it.
        feed.ack(page.cursor)?;
    }
    if !args.json {
        println!("{from}: up to date at cursor {}", position.cursor);
    }
    Ok(ExitCode::SUCCESS)
}

/// The registry's base URL without a trailing slash; plain HTTP only.
fn base_url(given: &str) -> Result<String> {
    let url = given.trim().trim_end_matches('/');
    if url.starts_with("https://") {
        bail!("--from {given:?}: this build speaks plain HTTP only; use an http:// URL");
    }
    let Some(host) = url.strip_prefix("http://") else {
        bail!("--from {given:?}: expected an http:// URL");
    };
    if host.is_empty() || url.contains(['?', '#']) {
        bail!("--from {given:?}: expected the registry's base URL, such as http://host:8080");
    }
    Ok(url.to_owned())
}

/// The registry in `dir`, created if the folder holds none.
fn open_registry(dir: &Path) -> Result<Registry> {
    match Registry::open(dir) {
        Ok(registry) => Ok(registry),
        Err(RegistryError::NotInitialized(_)) => {
            if dir.join(POSITION_FILE).exists() {
                bail!(
                    "{} has a {POSITION_FILE} but no registry: its records are gone, so start in an empty folder",
                    dir.display()
                );
            }
            Ok(Registry::init(dir, Some("dmf-mirror"))?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Locks the folder against a second mirror; released when the process ends.
fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    if file.try_lock().is_err() {
        bail!("another dmf mirror is following into {}", dir.display());
    }
    Ok(file)
}

fn load_position(dir: &Path, from: &str, registry: &Registry) -> Result<Position> {
    let path = dir.join(POSITION_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Records of another origin would mix with the mirrored ones unnoticed.
            if registry.store().head()? > 0 {
                bail!(
                    "{} holds a registry that is not a mirror; mirror into a new folder",
                    dir.display()
                );
            }
            return Ok(Position {
                from: from.to_owned(),
                cursor: 0,
                applying: None,
            });
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let position: Position = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a mirror position", path.display()))?;
    if position.from != from {
        bail!(
            "{} mirrors {}, not {from}; mirror {from} into another folder",
            dir.display(),
            position.from
        );
    }
    Ok(position)
}

/// After a crash while a page was applied: if its batch was stored, the position moves past
/// it. Fetching again instead could bring a page cut at other cursors, whose batch name
/// would differ and whose records would then be applied twice.
fn recover(dir: &Path, registry: &Registry, position: &mut Position) -> Result<()> {
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
fn parse_page(page: &Page, after: u64) -> Result<Vec<DmfRecord>> {
    page.records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = || format!("record {} of the feed page after cursor {after}", i + 1);
            let rec = dmf_format::parse_record(r.line.trim_end_matches(['\r', '\n']).as_bytes())
                .map_err(|errors| {
                    let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    anyhow!("{}: {}", at(), reasons.join("; "))
                })?;
            if rec.ssn().to_string() != r.ssn {
                bail!("{}: ssn {:?} but the line holds {}", at(), r.ssn, rec.ssn());
            }
            if !change_agrees(&r.change, rec.change()) {
                bail!(
                    "{}: change {:?} but the line holds {:?}",
                    at(),
                    r.change,
                    rec.change().code() as char
                );
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

/// Applies a page and moves the position past it, each step durable before the next.
fn apply_page(
    dir: &Path,
    registry: &Registry,
    position: &mut Position,
    records: &[DmfRecord],
    cursor: u64,
    today: dmf_model::Date,
) -> Result<ImportSummary> {
    let after = position.cursor;
    let mut summary = ImportSummary::default();
    if !records.is_empty() {
        position.applying = Some(Span { after, cursor });
        save(dir, position)?;
        let label = format!("{}/v1/feed?after={after}", position.from);
        let key = batch_key(&position.from, after, cursor);
        summary = dmf_registry::apply_dmf_records(registry, records, &label, key, today, now_ms())
            .with_context(|| format!("cannot apply the feed page after cursor {after}"))?;
    }
    position.cursor = cursor;
    position.applying = None;
    save(dir, position)?;
    Ok(summary)
}

/// Replaces the position file whole: a crash leaves the old one or the new one.
fn save(dir: &Path, position: &Position) -> Result<()> {
    let path = dir.join(POSITION_FILE);
    let tmp = dir.join(format!("{POSITION_FILE}.tmp"));
    let text = serde_json::to_string(position)? + "\n";
    let mut file =
        File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    // The rename itself is durable once the folder is.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

fn print_page(json: bool, after: u64, cursor: u64, s: &ImportSummary) -> Result<()> {
    let rejects = s.rejects_file.as_ref().map(|p| p.display().to_string());
    let mut out = std::io::stdout().lock();
    if json {
        let line = json!({
            "after": after,
            "cursor": cursor,
            "records": s.records,
            "events_added": s.events_added,
            "already_applied": s.already_imported,
            "rejected": s.rejected,
            "rejects_file": rejects,
        });
        writeln!(out, "{line}")?;
    } else {
        writeln!(
            out,
            "cursor {after} to {cursor}: {} records, {} events added, {} already applied, {} rejected{}",
            s.records,
            s.events_added,
            s.already_imported,
            s.rejected,
            rejects.map_or(String::new(), |p| format!(" (reasons in {p})")),
        )?;
    }
    // Whoever reads the output learns of each page as soon as it is durable.
    out.flush()?;
    Ok(())
}

/// The feed's HTTP side.
struct Feed {
    agent: ureq::Agent,
    base: String,
    authorization: String,
    /// Following: wait out failures to connect. With --once they end the command.
    retry: bool,
}

/// Why an exchange failed.
enum Failure {
    /// Worth another attempt: the connection failed or the server asked for a pause.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    Fatal(anyhow::Error),
}

impl Feed {
    fn new(base: &str, key: &str, wait: u64, retry: bool) -> Feed {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Above the longest the server holds a poll, so only a dead peer times out.
            .timeout_global(Some(Duration::from_secs(wait + 30)))
            .build()
            .into();
        Feed {
            agent,
            base: base.to_owned(),
            authorization: format!("Bearer {key}"),
            retry,
        }
    }

    fn page(&self, after: u64, wait: u64) -> Result<Page> {
        let url = format!("{}/v1/feed", self.base);
        let body = self.exchange(&url, || {
            self.agent
                .get(&url)
                .query("after", after.to_string())
                .query("wait", wait.to_string())
                .header("Authorization", &self.authorization)
                .call()
        })?;
        serde_json::from_slice(&body)
            .with_context(|| format!("{url}: the answer is not a feed page"))
    }

    fn ack(&self, cursor: u64) -> Result<()> {
        let url = format!("{}/v1/feed/ack", self.base);
        let request = json!({ "cursor": cursor }).to_string();
        let body = self.exchange(&url, || {
            self.agent
                .post(&url)
                .header("Authorization", &self.authorization)
                .header("Content-Type", "application/json")
                .send(&request)
        })?;
        let answer: Value = serde_json::from_slice(&body)
            .with_context(|| format!("{url}: the answer is not JSON"))?;
        if answer["acknowledged"].as_u64() != Some(cursor) {
            bail!("{url}: cursor {cursor} was sent but the answer was {answer}");
        }
        Ok(())
    }

    /// The body of a successful answer to `send`; while following, transient failures are
    /// retried with a growing pause (1 s, 2 s, ... up to 30 s) or the one the server asks for.
    fn exchange(
        &self,
        url: &str,
        send: impl Fn() -> Result<Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>> {
        let mut backoff = Duration::from_secs(1);
        loop {
            let (reason, retry_after) = match attempt(url, &send) {
                Ok(body) => return Ok(body),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
            };
            if !self.retry {
                bail!(reason);
            }
            let pause = retry_after.unwrap_or(backoff);
            eprintln!(
                "dmf mirror: {reason}; trying again in {} s",
                pause.as_secs()
            );
            std::thread::sleep(pause);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

fn attempt(
    url: &str,
    send: impl Fn() -> Result<Response<ureq::Body>, ureq::Error>,
) -> Result<Vec<u8>, Failure> {
    let transport = |e: ureq::Error| {
        use ureq::Error as E;
        if matches!(
            e,
            E::Io(_)
                | E::Timeout(_)
                | E::HostNotFound
                | E::ConnectionFailed
                | E::Protocol(_)
                | E::BodyStalled
        ) {
            Failure::Transient {
                reason: format!("{url}: {e}"),
                retry_after: None,
            }
        } else {
            Failure::Fatal(anyhow!(e).context(url.to_owned()))
        }
    };
    let mut response = send().map_err(transport)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .map(|secs: u64| Duration::from_secs(secs.max(1)));
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(transport)?;
    if status.is_success() {
        return Ok(body);
    }
    let reason = server_error(url, status, &body);
    // Rate limits and a server (or the proxy before it) restarting pass; anything else is an
    // answer that asking again will not change.
    Err(match status.as_u16() {
        429 | 502 | 503 | 504 => Failure::Transient {
            reason,
            retry_after,
        },
        _ => Failure::Fatal(anyhow!(reason)),
    })
}

/// The server's error message, `{"error": {"code", "message", "path"?}}`, with the status.
fn server_error(url: &str, status: StatusCode, body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    match parsed
        .as_ref()
        .map(|v| &v["error"])
        .filter(|e| e.is_object())
    {
        Some(e) => {
            let at = e["path"]
                .as_str()
                .map_or(String::new(), |p| format!(" (at {p})"));
            format!(
                "{url}: HTTP {status}: {}: {}{at}",
                e["code"].as_str().unwrap_or("error"),
                e["message"].as_str().unwrap_or("")
            )
        }
        None => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
            format!("{url}: HTTP {status}: {}", text.trim())
        }
    }
}
