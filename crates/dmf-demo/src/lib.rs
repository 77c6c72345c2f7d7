//! A demo data folder: a synthetic population with its deaths imported into a new registry,
//! one API key per role (and a second caseworker's), console users with random passwords, and
//! an approved example agreement for the agency key; the secrets in `demo-credentials.json`,
//! readable by its owner alone.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use dmf_ledger::log::hex;
use dmf_model::Date;
use dmf_registry::{Registry, RegistryError, now_ms};
use dmf_service::keys::{ApiKey, KeyError, KeyStore, NewKey, Role};
use dmf_service::programs::{ProgramStoreError, Programs, terms_from_json};
use dmf_service::users::{UserError, UserRole, Users};
use dmf_service::{KEYS_FILE, PROGRAMS_FILE, USERS_FILE};
use serde::{Deserialize, Serialize};

/// The file of the demo's secrets, in its data folder.
pub const CREDENTIALS_FILE: &str = "demo-credentials.json";
/// Where the synthetic files go, inside the data folder.
pub const SYNTH_DIR: &str = "synth";

/// Why the demo could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no randomness: {0}")]
    Random(getrandom::Error),
    #[error("cannot generate into {path}")]
    Synth {
        path: PathBuf,
        #[source]
        source: dmf_synth::SynthError,
    },
    #[error("cannot import {file}")]
    Import {
        file: &'static str,
        #[source]
        source: RegistryError,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Users(#[from] UserError),
    #[error(transparent)]
    Programs(#[from] ProgramStoreError),
    #[error("demo agreement {0}: {1}")]
    Agreement(String, String),
    #[error("{path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("nobody alive in the demo population")]
    NobodyAlive,
}

/// The demo's secrets: each role's API key (and `caseworker2`, a second caseworker's, since a
/// correction needs two people), and the console users' passwords under `console`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(flatten)]
    pub keys: BTreeMap<String, String>,
    pub console: BTreeMap<String, String>,
}

/// A living person of the demo population, for the examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub ssn: String,
    pub first: String,
    pub last: String,
    pub dob: String,
}

/// A new folder's name under the system's temporary folder (`TMPDIR`).
pub fn temporary_folder() -> Result<PathBuf, DemoError> {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).map_err(DemoError::Random)?;
    Ok(std::env::temp_dir().join(format!("dmf-demo-{}", hex(&b))))
}

/// Makes the demo in `dir`: `people` synthetic people as of `today`, imported file by file
/// (`progress` hears each file's records so far, and `None` when it is done), then the keys,
/// users and agreement. Returns the secrets, also written to [`CREDENTIALS_FILE`].
pub fn build(
    dir: &Path,
    people: u64,
    today: Date,
    progress: &dyn Fn(&str, Option<u64>),
) -> Result<Credentials, DemoError> {
    let synth = dir.join(SYNTH_DIR);
    let config = dmf_synth::Config::new(people, 1, today);
    dmf_synth::generate(&config, &synth, &|_| {}).map_err(|source| DemoError::Synth {
        path: synth.clone(),
        source,
    })?;
    let registry = Registry::init(dir, Some("dmf-demo/registry"))?;
    for file in ["people.csv", "dmf.txt"] {
        dmf_registry::import_file(&registry, &synth.join(file), today, now_ms(), &|n| {
            progress(file, Some(n));
        })
        .map_err(|source| DemoError::Import { file, source })?;
        progress(file, None);
    }
    drop(registry);
    let store = KeyStore::open(&dir.join(KEYS_FILE))?;
    let mut keys = BTreeMap::new();
    let mut agency = None;
    for role in Role::ALL {
        let (source, authority) = match role {
            Role::Reporter => (Some("state".to_owned()), None),
            Role::Authority => (None, Some("DHS USCIS".to_owned())),
            _ => (None, None),
        };
        let (key, secret) = store.create(
            NewKey {
                name: format!("demo-{}", role.code()),
                role,
                certified: role == Role::Subscriber,
                source,
                authority,
                // The state key sends FHIR VRDR messages too, as New York's.
                jurisdiction: (role == Role::Reporter).then(|| "NY".to_owned()),
                daily_quota: None,
            },
            now_ms(),
        )?;
        keys.insert(role.code().to_owned(), secret);
        if role == Role::Agency {
            agency = Some(key);
        }
    }
    // The agency key matches under an approved example agreement.
    if let Some(key) = agency {
        agreement(dir, &key, today)?;
    }
    // Corrections need a second person to approve them.
    let (_, secret) = store.create(
        NewKey {
            name: "demo-caseworker-2".into(),
            role: Role::Caseworker,
            certified: false,
            source: None,
            authority: None,
            jurisdiction: None,
            daily_quota: None,
        },
        now_ms(),
    )?;
    keys.insert("caseworker2".into(), secret);
    // Console users, one per role and a second caseworker, with random passwords.
    let users = Users::open(&dir.join(USERS_FILE))?;
    let mut console = BTreeMap::new();
    for (name, role) in [
        ("caseworker", UserRole::Caseworker),
        ("caseworker2", UserRole::Caseworker),
        ("supervisor", UserRole::Supervisor),
        ("oversight", UserRole::Oversight),
    ] {
        let mut b = [0u8; 12];
        getrandom::fill(&mut b).map_err(DemoError::Random)?;
        let password = hex(&b);
        users.create(name, role, &password, now_ms())?;
        console.insert(name.to_owned(), password);
    }
    let credentials = Credentials { keys, console };
    let path = dir.join(CREDENTIALS_FILE);
    let io = |source| DemoError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    };
    let text = serde_json::to_string_pretty(&credentials).map_err(|e| io(e.into()))? + "\n";
    write_owner_only(&path, &text).map_err(io)?;
    Ok(credentials)
}

/// An approved example agreement (a state benefits agency, matching names and dates of birth
/// for deaths, adverse action possible), with the demo's agency key bound to it.
fn agreement(dir: &Path, key: &ApiKey, today: Date) -> Result<(), DemoError> {
    let programs = Programs::open(&dir.join(PROGRAMS_FILE))?;
    let expiry = dmf_registry::program::add_months(today, 12);
    let terms = terms_from_json(&serde_json::json!({
        "recipient": "Demo State Benefits Agency", "source": "dmf demo registry",
        "purpose": "stop benefit payments to deceased beneficiaries",
        "legal_authority": "42 U.S.C. 1320b-7 (demo)",
        "recipient_receives": ["deceased", "date_of_death"], "source_receives": ["name", "dob"],
        "retention_days": 90, "start": today.to_string(), "expiry": expiry.to_string(),
        "adverse_action": true,
    }))
    .map_err(|(path, msg)| DemoError::Agreement(path, msg))?;
    let now = now_ms();
    let id = programs.create(&terms, "demo-caseworker", today, now)?;
    programs.approve(id, "demo-oversight", today, now)?;
    programs.bind_key(id, key.id, &key.name, "dmf serve --demo", today, now)?;
    Ok(())
}

/// The secrets of the demo in `dir`.
pub fn credentials(dir: &Path) -> Result<Credentials, DemoError> {
    let path = dir.join(CREDENTIALS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| DemoError::Io {
        context: format!("cannot read {}", path.display()),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| DemoError::Read {
        path,
        reason: e.to_string(),
    })
}

/// A living person of the demo in `dir` with a full date of birth, so that the examples show
/// a death being reported.
pub fn example(dir: &Path) -> Result<Example, DemoError> {
    let synth = dir.join(SYNTH_DIR);
    let read = |file: &str| {
        let path = synth.join(file);
        csv::Reader::from_path(&path).map_err(|e| DemoError::Read {
            path,
            reason: e.to_string(),
        })
    };
    let mut dead = HashSet::new();
    for r in read("truth_deaths.csv")?.records().filter_map(Result::ok) {
        dead.insert(r[0].to_owned());
    }
    let mut people = read("people.csv")?;
    let p = people
        .records()
        .filter_map(Result::ok)
        .find(|p| !dead.contains(&p[0]) && p[6].len() == 10)
        .ok_or(DemoError::NobodyAlive)?;
    Ok(Example {
        ssn: p[0].to_owned(),
        first: p[1].to_owned(),
        last: p[3].to_owned(),
        dob: p[6].to_owned(),
    })
}

/// Secrets (API keys, passwords) readable by their owner alone, whatever the umask and
/// whatever the mode of a file already there.
fn write_owner_only(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
