//! C2SP tlog-tiles, the static read API of a log: the paths of hash tiles and entry bundles,
//! which tiles a tree size has and how wide, and the entry bundle format. No IO: what serves
//! or reads the bytes is the caller's.
//!
//! A tile holds 256 hashes of one tree level (tile level `L` is tree level `8L`): tile `N` of
//! level `L` the nodes `256N .. 256N + 256` of that level. A tile still growing at a tree size
//! is partial, served as `.p/W` with its first `W` hashes. An entry bundle holds the entries
//! (leaf data) of the 256 leaves of hash tile `0/N`, each as a big-endian 16-bit length and
//! its bytes.

use std::fmt;

/// Tree levels a tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes of tree level `8 * level`.
    Hashes { level: u8 },
    /// The entries of the leaves of hash tile `0/N`.
    Entries,
}

/// One tile as a path names it: `tile/L/N[.p/W]` or `tile/entries/N[.p/W]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    pub kind: TileKind,
    pub index: u64,
    /// A partial tile's width, 1 to 255; `None` for a full tile.
    pub partial: Option<u8>,
}

/// Why a path is not a tile's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilePathError {
    #[error("a tile path starts with tile/")]
    Prefix,
    #[error("{0:?} is not a tile level (a number from 0 to 63, or entries)")]
    Level(String),
    #[error(
        "{0:?} is not a tile index: groups of three digits, each but the last after an x (x001/x234/067)"
    )]
    Index(String),
    #[error("{0:?} is not a partial tile's width (a number from 1 to 255)")]
    Width(String),
}

impl Tile {
    /// The tile of a path relative to the log's prefix, such as `tile/0/x001/x234/067.p/8`.
    /// Only the canonical spelling is read (no leading `x000` group, no signs or spaces), so
    /// that one tile has one path and one cache entry.
    pub fn parse(path: &str) -> Result<Tile, TilePathError> {
        let rest = path.strip_prefix("tile/").ok_or(TilePathError::Prefix)?;
        let (level, rest) = rest.split_once('/').ok_or(TilePathError::Prefix)?;
        let kind = match level {
            "entries" => TileKind::Entries,
            l => TileKind::Hashes {
                level: decimal(l)
                    .filter(|&n| n <= 63)
                    .ok_or_else(|| TilePathError::Level(l.to_owned()))?
                    as u8,
            },
        };
        let (index, partial) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w = decimal(width)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or_else(|| TilePathError::Width(width.to_owned()))?;
                (index, Some(w as u8))
            }
            None => (rest, None),
        };
        Ok(Tile {
            kind,
            index: parse_index(index).ok_or_else(|| TilePathError::Index(index.to_owned()))?,
            partial,
        })
    }

    /// How many hashes (or entries) the tile holds: 256, or its partial width.
    pub fn width(&self) -> u64 {
        self.partial.map_or(TILE_WIDTH, u64::from)
    }

    /// The tree level of its hashes (0 for an entry bundle).
    pub fn tree_level(&self) -> u32 {
        match self.kind {
            TileKind::Hashes { level } => u32::from(level) * TILE_HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// The first node of its tree level it holds (`None` past the largest tree).
    pub fn first(&self) -> Option<u64> {
        self.index.checked_mul(TILE_WIDTH)
    }

    /// Whether a tree of `size` leaves has the tile as named: its nodes exist, and a partial
    /// tile is no wider than the nodes there are (a narrower one is a prefix of what a client
    /// saw at an earlier size, still served).
    pub fn within(&self, size: u64) -> bool {
        // Levels up to 63 are named; a tree of 2^64 leaves has none above 64.
        let nodes = size.checked_shr(self.tree_level()).unwrap_or(0);
        match self.first().and_then(|f| f.checked_add(self.width())) {
            Some(end) => end <= nodes,
            None => false,
        }
    }
}

/// The tile of `kind` at `index` as a tree of `size` leaves has it: full, partial, or none
/// (not begun at that size).
pub fn tile_at(kind: TileKind, index: u64, size: u64) -> Option<Tile> {
    let full = Tile {
        kind,
        index,
        partial: None,
    };
    let nodes = size.checked_shr(full.tree_level()).unwrap_or(0);
    let have = nodes.checked_sub(full.first()?).filter(|&n| n > 0)?;
    Some(Tile {
        partial: (have < TILE_WIDTH).then_some(have as u8),
        ..full
    })
}

fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // One spelling a number: no leading zeros.
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

/// `x001/x234/067`: groups of three digits, each but the last after an `x`, no leading `x000`.
fn parse_index(text: &str) -> Option<u64> {
    let groups: Vec<&str> = text.split('/').collect();
    let (last, rest) = groups.split_last()?;
    let mut n: u64 = 0;
    for (i, g) in rest.iter().enumerate() {
        let g = g.strip_prefix('x')?;
        if i == 0 && g == "000" {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(three(g)?)?;
    }
    n.checked_mul(1000)?.checked_add(three(last)?)
}

fn three(g: &str) -> Option<u64> {
    if g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()) {
        g.parse().ok()
    } else {
        None
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hashes { level } => write!(f, "tile/{level}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            if i + 1 < groups.len() {
                write!(f, "x{g:03}/")?;
            } else {
                write!(f, "{g:03}")?;
            }
        }
        if let Some(w) = self.partial {
            write!(f, ".p/{w}")?;
        }
        Ok(())
    }
}

/// Why bytes are not an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("entry {index} is {len} bytes: at most 65,535 fit an entry bundle")]
    TooLong { index: usize, len: usize },
    #[error("entry {index} is cut short at byte {at}")]
    Truncated { index: usize, at: usize },
}

/// An entry bundle of `entries`, each a big-endian 16-bit length and its bytes.
pub fn bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::new();
    for (index, e) in entries.into_iter().enumerate() {
        let len = u16::try_from(e.len()).map_err(|_| BundleError::TooLong {
            index,
            len: e.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of an entry bundle, in order.
pub fn unbundle(bytes: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let index = out.len();
        let head = bytes
            .get(at..at + 2)
            .ok_or(BundleError::Truncated { index, at })?;
        let len = usize::from(u16::from_be_bytes([head[0], head[1]]));
        let entry = bytes
            .get(at + 2..at + 2 + len)
            .ok_or(BundleError::Truncated { index, at })?;
        out.push(entry);
        at += 2 + len;
    }
    Ok(out)
}
