//! The registry's witnesses and the quorum of them a checkpoint needs, kept as C2SP tlog-policy
//! text in `DATA/log/witnesses.policy`: the file verifiers and monitors take as their policy.
//!
//! The policy kept: `log <the registry's key>`, one `witness <name> <vkey> <url>` per witness
//! (named by its key's own name), then `group witnesses <k> <names...>` and `quorum witnesses`,
//! or `quorum none` while there are none. A registry without the file has no witnesses.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use dmf_ledger::log::{LOG_DIR, LogError, PUBLIC_KEY_FILE, read_verifier};
use dmf_log::policy::{Group, PolicyLog, PolicyWitness};
use dmf_log::{CosignerVerifier, Policy, PolicyError, VerifierKey};

use crate::files;

/// The policy's file in the registry's `log/` folder.
pub const POLICY_FILE: &str = "witnesses.policy";
/// The name of the group of all the registry's witnesses, which the quorum names.
pub const GROUP: &str = "witnesses";

/// Why the registry's witness list could not be read, changed or written.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: {source}")]
    Policy { path: PathBuf, source: PolicyError },
    #[error("{path}: the policy's one log must be the registry's key {expected}; it lists {found}")]
    WrongLog {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "{path} is not in the form the registry keeps its witnesses in ({reason}): edit it by hand, or remove it and add the witnesses again"
    )]
    Shape { path: PathBuf, reason: String },
    #[error("bad witness URL {url:?}: {reason}")]
    Url { url: String, reason: &'static str },
    #[error(
        "a witness's key may not be named {0:?}: the policy uses that name for the group or as a keyword"
    )]
    ReservedName(String),
    #[error("a witness named {0} is listed already")]
    DuplicateName(String),
    #[error("this key is listed already, as witness {0}")]
    DuplicateKey(String),
    #[error("no witness {0} is listed")]
    NotListed(String),
    #[error("quorum {k} is out of range: with {n} witness(es) it must be 1 to {n}")]
    Quorum { k: usize, n: usize },
    #[error("no witness is left, so no quorum can be set")]
    NoWitnessLeft,
}

/// The policy's file of the registry in `data`.
pub fn policy_path(data: &Path) -> PathBuf {
    data.join(LOG_DIR).join(POLICY_FILE)
}

/// The registry's key, from `DATA/log/key.pub`.
fn registry_key(data: &Path) -> Result<VerifierKey, RegistryError> {
    let path = data.join(LOG_DIR).join(PUBLIC_KEY_FILE);
    if !path.is_file() {
        return Err(LogError::Missing(data.to_owned()).into());
    }
    Ok(read_verifier(&path)?)
}

/// The registry's policy: its file read strictly, whose one log must be the registry's key; or,
/// without the file, the registry's log and `quorum none`.
pub fn load(data: &Path) -> Result<Policy, RegistryError> {
    let key = registry_key(data)?;
    let path = policy_path(data);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Policy {
                logs: vec![PolicyLog { key, url: None }],
                ..Policy::default()
            });
        }
        Err(source) => return Err(RegistryError::Read { path, source }),
    };
    let policy = Policy::parse(&text).map_err(|source| RegistryError::Policy {
        path: path.clone(),
        source,
    })?;
    check_log(&policy, &key, &path)?;
    Ok(policy)
}

/// Replaces the registry's policy file with `policy`, whose one log must be the registry's key.
pub fn save(data: &Path, policy: &Policy) -> Result<(), RegistryError> {
    let key = registry_key(data)?;
    let path = policy_path(data);
    check_log(policy, &key, &path)?;
    files::write_atomic(&path, policy.to_text().as_bytes())
        .map_err(|source| RegistryError::Write { path, source })
}

fn check_log(policy: &Policy, key: &VerifierKey, path: &Path) -> Result<(), RegistryError> {
    match policy.logs.as_slice() {
        [only] if only.key == *key => Ok(()),
        logs => Err(RegistryError::WrongLog {
            path: path.to_owned(),
            expected: key.to_text(),
            found: if logs.is_empty() {
                "none".into()
            } else {
                logs.iter()
                    .map(|l| l.key.to_text())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}

/// A witness's submission prefix: an `http` or `https` URL that `/add-checkpoint` is added to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessUrl(String);

impl WitnessUrl {
    pub fn parse(text: &str) -> Result<WitnessUrl, RegistryError> {
        let bad = |reason| RegistryError::Url {
            url: text.to_owned(),
            reason,
        };
        let lower = text.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or(bad("it must start with http:// or https://"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(bad("it has no host"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it holds a space or a control character"));
        }
        if text.contains(['?', '#']) {
            return Err(bad(
                "it holds a query or a fragment, so /add-checkpoint cannot be added to it",
            ));
        }
        Ok(WitnessUrl(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One of the registry's witnesses: its key's name, its key and its submission prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub key: CosignerVerifier,
    pub url: WitnessUrl,
}

/// A witness to remove, by key or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    Key(CosignerVerifier),
    Name(String),
}

/// What a removal did: the witness removed, and the quorum it had before if it had to be
/// lowered to the witnesses left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub witness: Listed,
    pub lowered_from: Option<usize>,
}

/// The registry's witnesses and the number of them (`quorum`, 1 to n; 0 without witnesses)
/// that must cosign a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnesses {
    pub log: VerifierKey,
    pub list: Vec<Listed>,
    pub quorum: usize,
}

impl Witnesses {
    /// The witnesses of the registry in `data`.
    pub fn load(data: &Path) -> Result<Witnesses, RegistryError> {
        let policy = load(data)?;
        Witnesses::of(&policy).map_err(|reason| RegistryError::Shape {
            path: policy_path(data),
            reason,
        })
    }

    /// Writes them as the registry's policy.
    pub fn save(&self, data: &Path) -> Result<(), RegistryError> {
        save(data, &self.policy())
    }

    /// The witnesses of a policy in the form [`Witnesses::policy`] writes, or why it is not.
    pub fn of(policy: &Policy) -> Result<Witnesses, String> {
        let [log] = policy.logs.as_slice() else {
            return Err(format!("{} log lines, not one", policy.logs.len()));
        };
        let mut list = Vec::new();
        for w in &policy.witnesses {
            let Some(url) = &w.url else {
                return Err(format!("witness {} has no URL", w.name));
            };
            if w.name != w.key.name() {
                return Err(format!(
                    "witness {} is not named by its key's name {}",
                    w.name,
                    w.key.name()
                ));
            }
            let url = WitnessUrl::parse(url).map_err(|e| e.to_string())?;
            list.push(Listed {
                name: w.name.clone(),
                key: w.key.clone(),
                url,
            });
        }
        let names: Vec<&str> = list.iter().map(|w| w.name.as_str()).collect();
        let quorum = match (policy.groups.as_slice(), &policy.quorum) {
            ([], None) if list.is_empty() => 0,
            ([g], Some(q)) if g.name == GROUP && *q == GROUP && g.members == names => g.k,
            _ => {
                return Err(format!(
                    "expected one group {GROUP:?} of every witness in order, and \"quorum {GROUP}\" (or no witness and \"quorum none\")"
                ));
            }
        };
        Ok(Witnesses {
            log: log.key.clone(),
            list,
            quorum,
        })
    }

    /// The policy text's model: the log, the witnesses, their group and the quorum.
    pub fn policy(&self) -> Policy {
        let witnesses: Vec<PolicyWitness> = self
            .list
            .iter()
            .map(|w| PolicyWitness {
                name: w.name.clone(),
                key: w.key.clone(),
                url: Some(w.url.as_str().to_owned()),
            })
            .collect();
        let (groups, quorum) = if witnesses.is_empty() {
            (Vec::new(), None)
        } else {
            let members = witnesses.iter().map(|w| w.name.clone()).collect();
            (
                vec![Group {
                    name: GROUP.to_owned(),
                    k: self.quorum,
                    members,
                }],
                Some(GROUP.to_owned()),
            )
        };
        Policy {
            logs: vec![PolicyLog {
                key: self.log.clone(),
                url: None,
            }],
            witnesses,
            groups,
            quorum,
        }
    }

    /// Adds a witness by its key and URL. The quorum becomes `quorum` if given; otherwise a
    /// quorum of all stays all, and one set lower stays as it was.
    pub fn add(
        &mut self,
        url: WitnessUrl,
        key: CosignerVerifier,
        quorum: Option<usize>,
    ) -> Result<(), RegistryError> {
        let name = key.name().to_owned();
        if [GROUP, "none", "all", "any"].contains(&name.as_str()) {
            return Err(RegistryError::ReservedName(name));
        }
        if let Some(w) = self.list.iter().find(|w| w.key.same_key(&key)) {
            return Err(RegistryError::DuplicateKey(w.name.clone()));
        }
        if self.list.iter().any(|w| w.name == name) {
            return Err(RegistryError::DuplicateName(name));
        }
        let n = self.list.len() + 1;
        let k = match quorum {
            Some(k) => check_quorum(k, n)?,
            None if self.quorum == self.list.len() => n,
            None => self.quorum,
        };
        self.list.push(Listed { name, key, url });
        self.quorum = k;
        Ok(())
    }

    /// Removes a witness. The quorum becomes `quorum` if given; otherwise it stays, lowered to
    /// the witnesses left if it was more.
    pub fn remove(
        &mut self,
        which: &Which,
        quorum: Option<usize>,
    ) -> Result<Removed, RegistryError> {
        let at = self
            .list
            .iter()
            .position(|w| match which {
                Which::Key(k) => w.key.same_key(k),
                Which::Name(n) => w.name == *n,
            })
            .ok_or_else(|| {
                RegistryError::NotListed(match which {
                    Which::Key(k) => k.to_text(),
                    Which::Name(n) => n.clone(),
                })
            })?;
        let n = self.list.len() - 1;
        let (k, lowered_from) = match quorum {
            Some(_) if n == 0 => return Err(RegistryError::NoWitnessLeft),
            Some(k) => (check_quorum(k, n)?, None),
            // No witness left: `quorum none`, which is no lowering of a quorum.
            None if n == 0 => (0, None),
            None if self.quorum > n => (n, Some(self.quorum)),
            None => (self.quorum, None),
        };
        let witness = self.list.remove(at);
        self.quorum = k;
        Ok(Removed {
            witness,
            lowered_from,
        })
    }
}

fn check_quorum(k: usize, n: usize) -> Result<usize, RegistryError> {
    if (1..=n).contains(&k) {
        Ok(k)
    } else {
        Err(RegistryError::Quorum { k, n })
    }
}
