//! `dmf witness`: run a witness (C2SP tlog-witness) through `dmf-witness`, and keep the
//! registry's list of witnesses and their quorum (`add`, `remove`, `list`, `policy`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{ArgGroup, Args, Subcommand};
use dmf_log::{CosignerVerifier, VerifierKey};
use dmf_witness::Witness;
use dmf_witness::registry::{self, Which, WitnessUrl, Witnesses};
use serde_json::json;

use crate::args::Output;

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Run a witness: cosign each checkpoint of the logs it follows that extends the last one
    /// it cosigned of that log, and never one that does not (C2SP tlog-witness). Prints its
    /// key and the address it listens on.
    Serve(ServeArgs),
    /// Add a witness to the registry's list, by its submission URL and its key.
    Add(AddArgs),
    /// Remove a witness from the registry's list, by its key or its name.
    Remove(RemoveArgs),
    /// The registry's witnesses and how many of them must cosign a checkpoint.
    List(ListArgs),
    /// Print the registry's policy (C2SP tlog-policy): the file verifiers and monitors take
    /// as their `--policy`.
    Policy(PolicyArgs),
    /// Ask the registry's witnesses to cosign its latest signed checkpoint now, and publish it
    /// once the quorum has (`dmf serve` does this by itself after each new checkpoint). Exits
    /// 1 when the quorum did not cosign.
    Publish(PublishArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The witness's own folder: its key, the latest checkpoint it cosigned of each log, and
    /// evidence of forks. Made if missing.
    #[arg(long)]
    pub data: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// A log to follow, by its verifier key (`name+keyid+key`; the name is the log's origin).
    /// Once for each log.
    #[arg(long = "log", value_name = "VKEY", required = true, value_parser = log_key)]
    pub logs: Vec<VerifierKey>,
    /// The name of the witness's key, given when it is made (a URL-like name without a scheme,
    /// such as witness.example.org/w1; by default dmf-witness/ and 16 random hex digits).
    /// Later starts may leave it out, or must give the same.
    #[arg(long)]
    pub name: Option<String>,
}

/// The registry whose witnesses a command lists or changes.
#[derive(Debug, Args)]
pub struct RegistryData {
    /// The data folder of the registry.
    #[arg(long)]
    pub data: PathBuf,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub registry: RegistryData,
    /// Where the witness takes checkpoints: the prefix `/add-checkpoint` is added to.
    #[arg(long)]
    pub url: String,
    /// The witness's key (`name+keyid+key`, a cosignature/v1 key): what `dmf witness serve`
    /// printed and wrote to its folder's key.pub.
    #[arg(long, value_name = "VKEY", value_parser = witness_key)]
    pub key: CosignerVerifier,
    /// How many of the witnesses must cosign a checkpoint (default: all of them, or the number
    /// set before if it was set below all).
    #[arg(long, value_name = "K")]
    pub quorum: Option<usize>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["key", "name"])))]
pub struct RemoveArgs {
    #[command(flatten)]
    pub registry: RegistryData,
    /// The witness's key.
    #[arg(long, value_name = "VKEY", value_parser = witness_key)]
    pub key: Option<CosignerVerifier>,
    /// The witness's name (its key's name).
    #[arg(long)]
    pub name: Option<String>,
    /// How many of the witnesses left must cosign a checkpoint (default: as before, or all of
    /// those left if fewer).
    #[arg(long, value_name = "K")]
    pub quorum: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub registry: RegistryData,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub registry: RegistryData,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub registry: RegistryData,
    #[command(flatten)]
    pub output: Output,
}

fn log_key(text: &str) -> Result<VerifierKey, String> {
    VerifierKey::parse(text).map_err(|e| e.to_string())
}

fn witness_key(text: &str) -> Result<CosignerVerifier, String> {
    CosignerVerifier::parse(text).map_err(|e| e.to_string())
}

pub fn serve(args: &ServeArgs) -> Result<ExitCode> {
    crate::serve_cmd::init_tracing();
    let witness = Witness::open(&args.data, args.name.as_deref(), args.logs.clone())?;
    let listener = std::net::TcpListener::bind(&args.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "witness key: {}", witness.verifier().to_text())?;
        writeln!(out, "listening on http://{addr}")?;
        // Whoever started it reads the address before any request is made.
        out.flush()?;
        drop(out);
        for log in witness.logs() {
            tracing::info!(origin = %log.origin, size = log.size, "following");
        }
        dmf_witness::server::serve(
            Arc::new(witness),
            listener,
            crate::serve_cmd::shutdown_signal(),
        )
        .await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// "K of N witnesses", or that there are none.
fn quorum_text(w: &Witnesses) -> String {
    if w.list.is_empty() {
        "none (no witnesses: checkpoints need no cosignature)".into()
    } else {
        format!("{} of {} witnesses", w.quorum, w.list.len())
    }
}

pub fn add(args: &AddArgs) -> Result<ExitCode> {
    let data = &args.registry.data;
    let url = WitnessUrl::parse(&args.url)?;
    let mut witnesses = Witnesses::load(data)?;
    witnesses.add(url.clone(), args.key.clone(), args.quorum)?;
    witnesses.save(data)?;
    println!("added witness {} at {}", args.key.name(), url.as_str());
    println!("quorum: {}", quorum_text(&witnesses));
    Ok(ExitCode::SUCCESS)
}

pub fn remove(args: &RemoveArgs) -> Result<ExitCode> {
    let data = &args.registry.data;
    let which = match &args.key {
        Some(key) => Which::Key(key.clone()),
        None => Which::Name(args.name.clone().context("give --key or --name")?),
    };
    let mut witnesses = Witnesses::load(data)?;
    let removed = witnesses.remove(&which, args.quorum)?;
    witnesses.save(data)?;
    println!(
        "removed witness {} at {}",
        removed.witness.name,
        removed.witness.url.as_str()
    );
    if let Some(before) = removed.lowered_from {
        println!(
            "the quorum was {before}, more than the {} witness(es) left: lowered to {}",
            witnesses.list.len(),
            witnesses.quorum
        );
    }
    println!("quorum: {}", quorum_text(&witnesses));
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: &ListArgs) -> Result<ExitCode> {
    let witnesses = Witnesses::load(&args.registry.data)?;
    let mut out = std::io::stdout().lock();
    if args.output.json {
        let list: Vec<_> = witnesses
            .list
            .iter()
            .map(|w| json!({"name": w.name, "url": w.url.as_str(), "key": w.key.to_text()}))
            .collect();
        let quorum = (!list.is_empty()).then(|| json!({"k": witnesses.quorum, "n": list.len()}));
        let v = json!({"log": witnesses.log.to_text(), "witnesses": list, "quorum": quorum});
        writeln!(out, "{v}")?;
    } else {
        for w in &witnesses.list {
            writeln!(out, "witness {}", w.name)?;
            writeln!(out, "  url {}", w.url.as_str())?;
            writeln!(out, "  key {}", w.key.to_text())?;
        }
        writeln!(out, "quorum: {}", quorum_text(&witnesses))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn policy(args: &PolicyArgs) -> Result<ExitCode> {
    let policy = registry::load(&args.registry.data)?;
    print!("{}", policy.to_text());
    Ok(ExitCode::SUCCESS)
}

pub fn publish(args: &PublishArgs) -> Result<ExitCode> {
    let data = &args.registry.data;
    let policy = registry::load(data)?;
    let round = dmf_witness::cosigning::round(data, &policy, &dmf_witness::client::agent())?;
    let published = dmf_witness::cosigning::published(data, &policy)?;
    let published_size = published.as_ref().map_or(0, |p| p.checkpoint.size);
    let ok = published_size >= round.signed;
    let mut out = std::io::stdout().lock();
    if args.output.json {
        let v = json!({
            "signed": round.signed,
            "published": published_size,
            "cosigned_now": round.cosigned,
            "witnesses": round.witnesses,
        });
        writeln!(out, "{v}")?;
    } else {
        for (name, w) in &round.witnesses {
            match &w.error {
                Some(e) => writeln!(out, "witness {name}: failed: {e}")?,
                None => writeln!(out, "witness {name}: cosigned up to {}", w.size)?,
            }
        }
        writeln!(
            out,
            "signed up to {}; published up to {published_size}{}",
            round.signed,
            if ok {
                ""
            } else {
                " (the quorum has not cosigned the latest)"
            }
        )?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
