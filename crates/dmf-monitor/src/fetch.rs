//! The log's static read API over plain HTTP (C2SP tlog-tiles): `/log/checkpoint` and the
//! entry bundles `/log/tile/entries/<N>[.p/<W>]` under a registry's base URL.

use std::io::Read;
use std::time::Duration;

use dmf_log::tiles::{self, TILE_WIDTH, Tile, TileKind};

/// The largest checkpoint note read.
const NOTE_LIMIT: u64 = 1 << 20;
/// The largest entry bundle: 256 entries of at most 65,535 bytes and their lengths.
const BUNDLE_LIMIT: u64 = TILE_WIDTH * (2 + 65_535);

/// Why something could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: {reason}")]
    Malformed { url: String, reason: String },
}

/// A registry's base URL as given: plain HTTP, no query, no final `/`.
pub fn base_url(given: &str) -> Result<String, String> {
    let url = given.trim().trim_end_matches('/');
    if url.starts_with("https://") {
        return Err(format!(
            "{given:?}: this build speaks plain HTTP only; use an http:// URL (or a local proxy)"
        ));
    }
    match url.strip_prefix("http://") {
        Some(host) if !host.is_empty() && !url.contains(['?', '#']) => Ok(url.to_owned()),
        _ => Err(format!(
            "{given:?}: expected the registry's base URL, such as http://registry.example:8080"
        )),
    }
}

/// An HTTP client of registries: one connection pool, statuses as answers.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// A client whose every request must be answered within `timeout`, keeping up to
    /// `connections` connections to a host open between requests.
    pub fn new(timeout: Duration, connections: usize) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_idle_connections(connections.max(1) * 4)
            .max_idle_connections_per_host(connections.max(1))
            .build()
            .new_agent();
        Client { agent }
    }

    /// GETs `url` into `buf` (cleared first), at most `limit` bytes.
    fn get(&self, url: &str, buf: &mut Vec<u8>, limit: u64) -> Result<(), FetchError> {
        let transport = |e: &dyn std::fmt::Display| FetchError::Transport {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let mut response = self.agent.get(url).call().map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        buf.clear();
        let mut reader = response.body_mut().with_config().limit(limit).reader();
        if status != 200 {
            let mut body = Vec::new();
            let _ = reader.take(512).read_to_end(&mut body);
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
                body: String::from_utf8_lossy(&body).trim().to_owned(),
            });
        }
        reader.read_to_end(buf).map_err(|e| transport(&e))?;
        Ok(())
    }

    /// The signed checkpoint note `base` serves.
    pub fn checkpoint(&self, base: &str) -> Result<String, FetchError> {
        let url = format!("{base}/log/checkpoint");
        let mut buf = Vec::new();
        self.get(&url, &mut buf, NOTE_LIMIT)?;
        String::from_utf8(buf).map_err(|_| FetchError::Malformed {
            url,
            reason: "the checkpoint is not UTF-8 text".into(),
        })
    }

    /// The entry bundle of tile `index` as a tree of `size` leaves has it (full, or partial at
    /// the tree's edge), into `buf`; its entries, as many as the tile holds.
    pub fn entries<'b>(
        &self,
        base: &str,
        index: u64,
        size: u64,
        buf: &'b mut Vec<u8>,
    ) -> Result<Vec<&'b [u8]>, FetchError> {
        let tile: Tile = tiles::tile_at(TileKind::Entries, index, size).ok_or_else(|| {
            FetchError::Malformed {
                url: base.to_owned(),
                reason: format!("no entry bundle {index} in a tree of {size}"),
            }
        })?;
        let url = format!("{base}/log/{tile}");
        self.get(&url, buf, BUNDLE_LIMIT)?;
        let entries = tiles::unbundle(buf).map_err(|e| FetchError::Malformed {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        if entries.len() as u64 != tile.width() {
            return Err(FetchError::Malformed {
                url,
                reason: format!("{} entries in a bundle of {}", entries.len(), tile.width()),
            });
        }
        Ok(entries)
    }
}
