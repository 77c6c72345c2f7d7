//! C2SP tlog-policy: which logs a verifier accepts and which witnesses must have cosigned a
//! checkpoint (the quorum, single witnesses and k-of-n groups) before it is believed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::note::{
    Checkpoint, CosignerVerifier, NoteError, VerifierKey, open_checkpoint, open_cosignature,
};

/// Why a policy file was refused, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {reason}")]
pub struct PolicyError {
    pub line: usize,
    pub reason: String,
}

/// Why a checkpoint does not satisfy a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyCheckError {
    #[error("the checkpoint is not signed by any log of the policy ({0})")]
    NoLog(String),
    #[error(
        "the quorum is not met: {got} witness(es) cosigned ({names}), the policy needs {needed}"
    )]
    NoQuorum {
        got: usize,
        names: String,
        needed: String,
    },
    #[error("{0}")]
    Note(#[from] NoteError),
}

/// A log the policy accepts, by its checkpoint key; its name is its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    pub key: VerifierKey,
    pub url: Option<String>,
}

/// A named witness of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    pub name: String,
    pub key: CosignerVerifier,
    pub url: Option<String>,
}

/// A group: at least `k` of its members (witnesses or earlier groups) witnessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub k: usize,
    pub members: Vec<String>,
}

/// A parsed policy. Names of witnesses and groups share one namespace; `quorum` is one of them
/// or `None` for `quorum none`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub logs: Vec<PolicyLog>,
    pub witnesses: Vec<PolicyWitness>,
    pub groups: Vec<Group>,
    pub quorum: Option<String>,
}

/// What a checkpoint verified under a policy: the checkpoint and the witnesses that cosigned it
/// validly, with their times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub checkpoint: Checkpoint,
    pub cosigned: Vec<(String, u64)>,
}

const MAX_ENTRIES: usize = 256;

impl Policy {
    /// Parses policy text strictly: every rule of the specification, each fault with its line.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let mut policy = Policy::default();
        let mut quorum_seen = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let err = |reason: String| PolicyError { line, reason };
            if raw
                .bytes()
                .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f || b == b'\r')
            {
                return Err(err("a control character other than tab".into()));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let Some(&keyword) = words.first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            if policy.logs.len() + policy.witnesses.len() + policy.groups.len() >= MAX_ENTRIES {
                return Err(err(format!("more than {MAX_ENTRIES} entries")));
            }
            match keyword {
                "log" => {
                    let (key, url) = match words.as_slice() {
                        [_, key] => (key, None),
                        [_, key, url] => (key, Some((*url).to_owned())),
                        _ => return Err(err("expected \"log <vkey> [<url>]\"".into())),
                    };
                    let key = VerifierKey::parse(key).map_err(|e| err(e.to_string()))?;
                    if policy.logs.iter().any(|l| l.key == key) {
                        return Err(err("the same log twice".into()));
                    }
                    policy.logs.push(PolicyLog { key, url });
                }
                "witness" => {
                    let (name, key, url) = match words.as_slice() {
                        [_, name, key] => (name, key, None),
                        [_, name, key, url] => (name, key, Some((*url).to_owned())),
                        _ => {
                            return Err(err("expected \"witness <name> <vkey> [<url>]\"".into()));
                        }
                    };
                    policy.check_new_name(name).map_err(err)?;
                    let key = CosignerVerifier::parse(key).map_err(|e| err(e.to_string()))?;
                    if policy.witnesses.iter().any(|w| w.key.same_key(&key)) {
                        return Err(err("the same witness key twice".into()));
                    }
                    policy.witnesses.push(PolicyWitness {
                        name: (*name).to_owned(),
                        key,
                        url,
                    });
                }
                "group" => {
                    let [_, name, k, members @ ..] = words.as_slice() else {
                        return Err(err("expected \"group <name> <all|any|k> <name>...\"".into()));
                    };
                    policy.check_new_name(name).map_err(err)?;
                    if members.is_empty() {
                        return Err(err("a group needs at least one member".into()));
                    }
                    let mut seen = BTreeSet::new();
                    for m in members {
                        if *m == "none" || !policy.defined(m) {
                            return Err(err(format!("{m:?} is not defined above")));
                        }
                        if !seen.insert(*m) {
                            return Err(err(format!("{m:?} is listed twice")));
                        }
                    }
                    let k = match *k {
                        "all" => members.len(),
                        "any" => 1,
                        k => crate::note::parse_size(k)
                            .ok()
                            .and_then(|k| usize::try_from(k).ok())
                            .filter(|k| (1..=members.len()).contains(k))
                            .ok_or_else(|| {
                                err(format!(
                                    "threshold {k:?} must be all, any or 1 to {}",
                                    members.len()
                                ))
                            })?,
                    };
                    policy.groups.push(Group {
                        name: (*name).to_owned(),
                        k,
                        members: members.iter().map(|m| (*m).to_owned()).collect(),
                    });
                }
                "quorum" => {
                    let [_, name] = words.as_slice() else {
                        return Err(err("expected \"quorum <name>\"".into()));
                    };
                    if quorum_seen {
                        return Err(err("a second quorum line".into()));
                    }
                    quorum_seen = true;
                    if *name != "none" && !policy.defined(name) {
                        return Err(err(format!("{name:?} is not defined above")));
                    }
                    policy.quorum = (*name != "none").then(|| (*name).to_owned());
                }
                other => return Err(err(format!("unknown line {other:?}"))),
            }
        }
        if !quorum_seen {
            return Err(PolicyError {
                line: text.split('\n').count(),
                reason: "no quorum line".into(),
            });
        }
        Ok(policy)
    }

    fn defined(&self, name: &str) -> bool {
        self.witnesses.iter().any(|w| w.name == name) || self.groups.iter().any(|g| g.name == name)
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" || name == "all" || name == "any" {
            Err(format!("{name:?} is a reserved name"))
        } else if self.defined(name) {
            Err(format!("{name:?} is defined twice"))
        } else {
            Ok(())
        }
    }

    /// The policy as text that [`Policy::parse`] reads back to the same policy.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for l in &self.logs {
            let _ = write!(out, "log {}", l.key.to_text());
            if let Some(url) = &l.url {
                let _ = write!(out, " {url}");
            }
            out.push('\n');
        }
        for w in &self.witnesses {
            let _ = write!(out, "witness {} {}", w.name, w.key.to_text());
            if let Some(url) = &w.url {
                let _ = write!(out, " {url}");
            }
            out.push('\n');
        }
        for g in &self.groups {
            let _ = writeln!(out, "group {} {} {}", g.name, g.k, g.members.join(" "));
        }
        let _ = writeln!(out, "quorum {}", self.quorum.as_deref().unwrap_or("none"));
        out
    }

    /// Whether the witnesses named in `cosigned` meet the quorum.
    pub fn satisfied_by(&self, cosigned: &BTreeSet<&str>) -> bool {
        match &self.quorum {
            None => true,
            Some(q) => self.witnessed(q, cosigned, 0),
        }
    }

    fn witnessed(&self, name: &str, cosigned: &BTreeSet<&str>, depth: usize) -> bool {
        if self.witnesses.iter().any(|w| w.name == name) {
            return cosigned.contains(name);
        }
        // Groups only name what was defined before them, so the depth is bounded; the guard
        // is for a policy built by hand.
        if depth > MAX_ENTRIES {
            return false;
        }
        self.groups
            .iter()
            .find(|g| g.name == name)
            .is_some_and(|g| {
                g.members
                    .iter()
                    .filter(|m| self.witnessed(m, cosigned, depth + 1))
                    .count()
                    >= g.k
            })
    }

    /// Checks a checkpoint note: signed by one of the policy's logs (its origin the log key's
    /// name) and cosigned by a quorum of witnesses. Invalid cosignatures are ignored, as are
    /// lines by unknown keys. A policy without logs accepts any log key in `log`, if given.
    pub fn verify(
        &self,
        note: &str,
        log: Option<&VerifierKey>,
    ) -> Result<Verified, PolicyCheckError> {
        let mut keys: Vec<&VerifierKey> = self.logs.iter().map(|l| &l.key).collect();
        if keys.is_empty() {
            keys.extend(log);
        }
        let checkpoint = keys
            .iter()
            .find_map(|k| {
                open_checkpoint(note, k)
                    .ok()
                    .filter(|c| c.origin == k.name())
            })
            .ok_or_else(|| {
                PolicyCheckError::NoLog(
                    keys.iter()
                        .map(|k| k.name().to_owned())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })?;
        let cosigned: Vec<(String, u64)> = self
            .witnesses
            .iter()
            .filter_map(|w| {
                open_cosignature(note, &w.key)
                    .ok()
                    .map(|(time, _)| (w.name.clone(), time))
            })
            .collect();
        let names: BTreeSet<&str> = cosigned.iter().map(|(n, _)| n.as_str()).collect();
        if !self.satisfied_by(&names) {
            return Err(PolicyCheckError::NoQuorum {
                got: names.len(),
                names: names.iter().copied().collect::<Vec<_>>().join(", "),
                needed: self.quorum.clone().unwrap_or_else(|| "none".into()),
            });
        }
        Ok(Verified {
            checkpoint,
            cosigned,
        })
    }
}
