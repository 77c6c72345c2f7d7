//! `dmf dump` and `dmf restore`: a registry into one portable file and back, into either
//! backend. The dump holds the events, the checkpoints, API key metadata (secret hashes, never
//! secrets), the disclosure accounting and the journal of matching programs; the log's secret
//! keys only with `--with-secrets`.

use std::fs::{File, Permissions};
use std::io::{BufReader, BufWriter};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use dmf_ledger::log::LogFiles;
use dmf_registry::dmf_store::{EventStore, SqliteStore};
use dmf_registry::restore::{RestoreError, restore_events};
use dmf_service::dump::{Restored, ServiceRecord};
use dmf_service::{ACCOUNTING_FILE, KEYS_FILE};
use dmf_store::dump::{DumpReader, DumpWriter, Header, Record};

use clap::Args;

use crate::args::{Database, RegistryArgs};

pub fn dump(args: &DumpArgs, quiet: bool) -> Result<ExitCode> {
    let registry = crate::backend::open_current(&args.registry.data, args.registry.database.url())?;
    let files = LogFiles::open(registry.dir())?;
    let history: Vec<String> = files.history()?.into_iter().map(|s| s.note).collect();
    let events = registry.store().head()?;
    let header = Header {
        origin: files.verifier.name().to_owned(),
        key: files.verifier.to_text(),
        events,
        checkpoints: history,
        created_at: dmf_ledger::leaf::format_time(crate::registry_cmd::now_ms()),
        secrets: args.with_secrets,
    };
    let out =
        File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut w = DumpWriter::new(BufWriter::new(out), &header)?;
    // Secrets first: a restore makes the log folder before it stores the first event.
    if args.with_secrets {
        for (file, text) in dmf_ledger::log::read_secrets(registry.dir())? {
            w.secret(&file, &text)?;
        }
    }
    let bar = crate::progress::bar(events, "events", quiet);
    let mut after = 0;
    loop {
        let page = registry.store().read_after(after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            w.event(e)?;
        }
        bar.set_position(after);
    }
    bar.finish_and_clear();
    let service = crate::backend::service(&args.registry.data, args.registry.database.url())?;
    let has_files =
        |f: &str| args.registry.database.url().is_some() || registry.dir().join(f).is_file();
    let mut keys = 0;
    if has_files(KEYS_FILE) {
        for (k, digest) in service.keys()?.export()? {
            w.other(&ServiceRecord::key(&k, &digest).to_value())?;
            keys += 1;
        }
    }
    let mut disclosures = 0;
    if has_files(ACCOUNTING_FILE) {
        let accounting = service.accounting()?;
        disclosures =
            accounting.for_each(|d| w.other(&ServiceRecord::disclosure(&d).to_value()))?;
    }
    let mut program_entries = 0;
    if has_files(dmf_service::PROGRAMS_FILE) {
        for e in service.programs()?.entries()? {
            w.other(&ServiceRecord::entry(&e).to_value())?;
            program_entries += 1;
        }
    }
    w.finish()?;
    println!(
        "dumped {events} events, {} checkpoints, {keys} API keys, {disclosures} disclosures and {program_entries} entries of matching programs{} to {}",
        header.checkpoints.len(),
        if args.with_secrets {
            ", with the log's secret keys"
        } else {
            ""
        },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: &RestoreArgs, quiet: bool) -> Result<ExitCode> {
    let name = args.input.display().to_string();
    let open = || -> Result<DumpReader<BufReader<File>>> {
        let file = File::open(&args.input).with_context(|| format!("cannot open {name}"))?;
        DumpReader::new(BufReader::new(file)).with_context(|| format!("{name}: not a dump"))
    };
    // A first pass checks the whole file against its trailer, then its events' order and count,
    // every other record and the log's keys: a cut, altered or wrong dump, or keys of another
    // registry, are refused before anything is made.
    let mut check = open()?;
    let header = check.header.clone();
    let (mut secrets, mut others, mut events, mut disorder) = (Vec::new(), Vec::new(), 0, None);
    while let Some(rec) = check.next_record().with_context(|| name.clone())? {
        match rec {
            Record::Event(e) => {
                events += 1;
                if e.seq != events && disorder.is_none() {
                    disorder = Some(format!(
                        "{name}: line {}: event {} is out of order (expected {events})",
                        check.line(),
                        e.seq
                    ));
                }
            }
            Record::Secret { file, text } => secrets.push((file, text)),
            Record::Other(v) => others.push((check.line(), v)),
        }
    }
    if let Some(disorder) = disorder {
        bail!(disorder);
    }
    let others = others
        .into_iter()
        .map(|(line, v)| {
            let record =
                ServiceRecord::restore(v).with_context(|| format!("{name}: line {line}"))?;
            Ok((line, record))
        })
        .collect::<Result<Vec<_>>>()?;
    if events != header.events {
        bail!(
            "{name}: the header promises {} events, the dump holds {events}",
            header.events
        );
    }
    if args.data.exists() && std::fs::read_dir(&args.data)?.next().is_some() {
        bail!(
            "{} is not empty: restore into a new data folder",
            args.data.display()
        );
    }
    // Secrets from the dump, or from the data folder the registry came from.
    if header.secrets {
        dmf_ledger::log::check_secrets(Path::new(""), &header.key, &secrets)
            .with_context(|| format!("{name}: the log's keys"))?;
    } else {
        let Some(from) = &args.keys_from else {
            bail!(
                "{name} holds no secret keys (dumped without --with-secrets): give --keys-from DIR, a data folder with the registry's log keys"
            );
        };
        let flag = || format!("--keys-from {}", from.display());
        secrets = dmf_ledger::log::read_secrets(from).with_context(flag)?;
        let dir = from.join(dmf_ledger::log::LOG_DIR);
        dmf_ledger::log::check_secrets(&dir, &header.key, &secrets).with_context(flag)?;
    }
    // Whatever fails from here on, what this restore made in the data folder goes again, so
    // that the same command, mended, can be run again. Events stored in a database stay: it is
    // append-only.
    let mut made = crate::cleanup::Made::new(&args.data);
    let counts = load(args, quiet, &name, &header, open()?, &secrets, others)?;
    made.keep();
    let (events, n_keys, n_disclosures, n_program) = counts;
    println!(
        "restored {events} events, {} checkpoints, {n_keys} API keys, {n_disclosures} disclosures and {n_program} entries of matching programs into {}{}",
        header.checkpoints.len(),
        args.data.display(),
        args.database
            .url()
            .map(|u| format!(" (events in {})", crate::backend::redact(u)))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Stores a checked dump: its events, the log rebuilt and signed, and the other records.
/// Returns how many events, API keys, disclosures and entries of matching programs it stored.
fn load(
    args: &RestoreArgs,
    quiet: bool,
    name: &str,
    header: &Header,
    mut r: DumpReader<BufReader<File>>,
    secrets: &[(String, String)],
    others: Vec<(u64, Restored)>,
) -> Result<(u64, usize, usize, usize)> {
    // Owner-only, as `dmf init` makes it: everything in it is personal data.
    std::fs::create_dir_all(&args.data)
        .and_then(|()| std::fs::set_permissions(&args.data, Permissions::from_mode(0o700)))
        .with_context(|| format!("cannot make {}", args.data.display()))?;
    let store: Arc<dyn EventStore> = match args.database.url() {
        None => Arc::new(SqliteStore::open(
            &args.data.join(dmf_registry::STORE_FILE),
        )?),
        Some(url) => crate::backend::postgres_store(url)?,
    };
    let bar = crate::progress::bar(header.events, "events", quiet);
    let registry = restore_events(&args.data, store, header, secrets, &mut r, &|n| {
        bar.set_position(n);
    })
    .map_err(|e| match e {
        RestoreError::Unsigned(_) | RestoreError::Read(_) => {
            anyhow::Error::new(e).context(name.to_owned())
        }
        e => e.into(),
    })?;
    bar.finish_and_clear();
    let events = registry.store().head()?;
    let service = crate::backend::service(&args.data, args.database.url())?;
    let keys = service.keys()?;
    let accounting = service.accounting()?;
    let (mut n_keys, mut disclosures) = (0, Vec::new());
    let mut programs = None;
    let mut n_program = 0;
    for (line, o) in others {
        match o {
            Restored::ProgramEntry(entry) => {
                let programs = match &mut programs {
                    Some(p) => p,
                    None => programs.insert(service.programs()?),
                };
                programs
                    .import(&entry)
                    .with_context(|| format!("{name}: line {line}"))?;
                n_program += 1;
            }
            Restored::Key(key, digest) => {
                keys.import(&key, &digest)?;
                n_keys += 1;
            }
            Restored::Disclosure(d) => disclosures.push(d),
        }
    }
    let n_disclosures = disclosures.len();
    // Restored, not disclosed: made durable by the flush before anything is said.
    let _restored = accounting.record_many(disclosures);
    accounting.flush()?;
    Ok((events, n_keys, n_disclosures, n_program))
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The dump file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the log's signing and leaf keys (keep such a dump as secret as the keys).
    #[arg(long)]
    pub with_secrets: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The dump to read.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// The new registry's data folder (missing or empty).
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub database: Database,
    /// A data folder holding the registry's log keys, for a dump made without --with-secrets.
    #[arg(long)]
    pub keys_from: Option<PathBuf>,
}
