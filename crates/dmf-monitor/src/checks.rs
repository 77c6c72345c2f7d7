//! The consistency checks between signed checkpoints and the verified tree, as findings with
//! their evidence. Pure: the roots they compare are computed by the caller.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dmf_log::{Checkpoint, Hash};

use crate::finding::{Evidence, Finding, Kind};

/// A checkpoint signed by the log, and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// A URL, a file, or `state` for the tree verified by an earlier pass.
    pub from: String,
    pub note: String,
    pub checkpoint: Checkpoint,
    /// Served by a URL given (not a file or the state).
    pub served: bool,
}

impl Seen {
    pub fn evidence(&self) -> Evidence {
        Evidence {
            from: self.from.clone(),
            note: self.note.clone(),
        }
    }

    pub fn size(&self) -> u64 {
        self.checkpoint.size
    }
}

/// A root as checkpoints write it.
pub fn b64(root: &Hash) -> String {
    STANDARD.encode(root)
}

/// Checkpoints of one size with different roots: one split view per pair of roots, each
/// named by the first checkpoint seen with it.
pub fn same_size(seen: &[&Seen]) -> Vec<Finding> {
    let mut firsts: BTreeMap<u64, Vec<&Seen>> = BTreeMap::new();
    for s in seen {
        let roots = firsts.entry(s.size()).or_default();
        if !roots.iter().any(|r| r.checkpoint.root == s.checkpoint.root) {
            roots.push(s);
        }
    }
    let mut out = Vec::new();
    for (size, roots) in firsts {
        for (i, a) in roots.iter().enumerate() {
            for b in &roots[i + 1..] {
                out.push(Finding::new(
                    Kind::SplitView,
                    format!(
                        "{} and {} show trees of {size} leaves with different roots ({} and {})",
                        a.from,
                        b.from,
                        b64(&a.checkpoint.root),
                        b64(&b.checkpoint.root)
                    ),
                    vec![a.evidence(), b.evidence()],
                ));
            }
        }
    }
    out
}

/// A checkpoint smaller than a verified tree, against that tree's root at its size.
pub fn against_tree(tree: &Seen, c: &Seen, root_at: &Hash) -> Option<Finding> {
    (c.checkpoint.root != *root_at).then(|| {
        Finding::new(
            Kind::SplitView,
            format!(
                "{}'s checkpoint of {} leaves (root {}) is not a prefix of the tree of {} \
                 verified from {}, whose root at that size is {}",
                c.from,
                c.size(),
                b64(&c.checkpoint.root),
                tree.size(),
                tree.from,
                b64(root_at)
            ),
            vec![tree.evidence(), c.evidence()],
        )
    })
}

/// The entries `target.from` served from the size of `previous` (or from the first leaf) to
/// its checkpoint's size, against that checkpoint's root.
pub fn extension(previous: Option<&Seen>, target: &Seen, rebuilt: &Hash) -> Option<Finding> {
    if target.checkpoint.root == *rebuilt {
        return None;
    }
    Some(match previous.filter(|p| p.size() > 0) {
        Some(p) => Finding::new(
            Kind::SplitView,
            format!(
                "the entries {} serves from leaf {} to {} do not extend the tree of {} verified \
                 from {} to its checkpoint's root {} (they build {}): its tree does not extend \
                 the one verified, or its entries are not its log's",
                target.from,
                p.size(),
                target.size(),
                p.size(),
                p.from,
                b64(&target.checkpoint.root),
                b64(rebuilt)
            ),
            vec![p.evidence(), target.evidence()],
        ),
        None => Finding::new(
            Kind::BadEntries,
            format!(
                "the {} entries {} serves do not build its checkpoint's root {} (they build {})",
                target.size(),
                target.from,
                b64(&target.checkpoint.root),
                b64(rebuilt)
            ),
            vec![target.evidence()],
        ),
    })
}

/// Rollbacks: a URL serving a smaller tree than it served before (`before`, the largest size
/// each URL served); every URL serving less than the tree verified (`verified`); a checkpoint
/// file larger than anything served. `served` are the checkpoints the URLs serve now.
pub fn rollbacks(
    verified: Option<&Seen>,
    before: &BTreeMap<String, u64>,
    served: &[&Seen],
    files: &[&Seen],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in served {
        if let Some(&was) = before.get(&c.from)
            && was > c.size()
        {
            let mut evidence = verified.map(Seen::evidence).into_iter().collect::<Vec<_>>();
            evidence.push(c.evidence());
            out.push(Finding::new(
                Kind::Rollback,
                format!(
                    "{} serves a tree of {} leaves after serving one of {was}",
                    c.from,
                    c.size()
                ),
                evidence,
            ));
        }
    }
    let Some(largest) = served.iter().max_by_key(|c| c.size()) else {
        return out;
    };
    if let Some(v) = verified
        && v.size() > largest.size()
        && out.is_empty()
    {
        out.push(Finding::new(
            Kind::Rollback,
            format!(
                "the log serves a tree of {} leaves at most ({}), after one of {} was verified \
                 from {}",
                largest.size(),
                largest.from,
                v.size(),
                v.from
            ),
            vec![v.evidence(), largest.evidence()],
        ));
    }
    for f in files {
        if f.size() > largest.size() {
            out.push(Finding::new(
                Kind::Rollback,
                format!(
                    "{} holds a checkpoint of {} leaves, but the log serves {} at most ({})",
                    f.from,
                    f.size(),
                    largest.size(),
                    largest.from
                ),
                vec![f.evidence(), largest.evidence()],
            ));
        }
    }
    out
}
