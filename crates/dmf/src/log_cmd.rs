//! `dmf log …`, `dmf audit verify` and `dmf stats`: the signed Merkle log from the command
//! line.

use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dmf_ledger::log::{LogError, LogFiles, base64_hash};
use dmf_ledger::publish::{self, Proof};
use dmf_ledger::receipt::{self, Receipt};
use dmf_ledger::stats::{Period, Stats};
use dmf_log::{Checkpoint, CosignerVerifier, Policy, VerifierKey};
use dmf_registry::RegistryError;
use serde_json::json;

use clap::{Args, Subcommand, ValueEnum};

use crate::args::{AlertArgs, Database, Output, RegistryArgs};
use crate::progress;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A verifier key given as its text or as a file holding it.
pub(crate) fn verifier(arg: &str) -> Result<VerifierKey> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        read(path)?
    } else {
        arg.to_owned()
    };
    // The usual slip: the signing key next to the verifier key in the log folder.
    if text.trim_start().starts_with("PRIVATE+KEY+") {
        bail!(
            "--key {arg:?} is the log's secret signing key, not its verifier key: give the \
             verifier key (log/key.pub, or `key` of `dmf log checkpoint --json`), and keep the \
             signing key from leaving the registry"
        );
    }
    VerifierKey::parse(&text).with_context(|| format!("--key {arg:?}"))
}

/// A signed checkpoint note saved in a file, refusing with a hint the JSON form
/// `dmf log checkpoint --json` prints (a checkpoint saved that way is the usual slip).
pub(crate) fn read_checkpoint(path: &Path) -> Result<String> {
    let text = read(path)?;
    if text.trim_start().starts_with('{') {
        bail!(
            "{} is JSON, not a signed checkpoint note: save the note with `dmf log checkpoint` \
             (without --json), or its `note` field (`jq -r .note`)",
            path.display()
        );
    }
    Ok(text)
}

fn checkpoint_json(c: &Checkpoint) -> serde_json::Value {
    json!({ "origin": c.origin, "size": c.size, "root": base64_hash(&c.root) })
}

pub fn checkpoint(args: &CheckpointArgs) -> Result<ExitCode> {
    if let Some(url) = args.registry.database.url() {
        crate::backend::open_current(&args.registry.data, Some(url))?;
    }
    let files = LogFiles::open(&args.registry.data)?;
    let signed = publish::latest(&files)?;
    if args.output.json {
        let mut v = checkpoint_json(&signed.checkpoint);
        v["note"] = json!(signed.note);
        v["key"] = json!(files.verifier.to_text());
        println!("{v}");
    } else {
        print!("{}", signed.note);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_proof(proof: &Proof, json: bool) {
    if json {
        println!("{}", serde_json::to_string(proof).expect("serialisable"));
        return;
    }
    match proof {
        Proof::Inclusion {
            seq,
            tree_size,
            leaf,
            leaf_hash,
            root,
            proof,
            ..
        } => {
            println!("event {seq} in the tree of {tree_size} events (root {root})");
            println!("leaf: {leaf}");
            println!("leaf hash: {leaf_hash}");
            println!("proof ({} hashes):", proof.len());
            for h in proof {
                println!("  {h}");
            }
        }
        Proof::Consistency {
            from,
            to,
            root_from,
            root_to,
            proof,
            ..
        } => {
            println!("tree of {from} events (root {root_from})");
            println!("extended by the tree of {to} events (root {root_to})");
            println!("proof ({} hashes):", proof.len());
            for h in proof {
                println!("  {h}");
            }
        }
    }
}

pub fn prove(args: &ProveArgs) -> Result<ExitCode> {
    let registry = crate::backend::open_current(&args.registry.data, args.registry.database.url())?;
    let proof = publish::prove(registry.ledger(), args.seq, args.size)?;
    print_proof(&proof, args.json);
    Ok(ExitCode::SUCCESS)
}

pub fn consistency(args: &ConsistencyArgs) -> Result<ExitCode> {
    crate::backend::open_current(&args.registry.data, args.registry.database.url())?;
    let proof = publish::consistency(&args.registry.data, args.from, args.to)?;
    print_proof(&proof, args.json);
    Ok(ExitCode::SUCCESS)
}

/// A witness's cosignature verifier key given as its text or as a file holding it.
fn cosigner(arg: &str) -> Result<CosignerVerifier> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        read(path)?
    } else {
        arg.to_owned()
    };
    CosignerVerifier::parse(&text).with_context(|| format!("--witness {arg:?}"))
}

/// The witnesses a checkpoint must carry: a tlog-policy file, or every `--witness` given (none:
/// the log's signature alone).
fn witness_policy(args: &LogVerifyArgs) -> Result<Policy> {
    if let Some(path) = &args.policy {
        return Policy::parse(&read(path)?).with_context(|| format!("--policy {}", path.display()));
    }
    let witnesses = args
        .witness
        .iter()
        .map(|w| cosigner(w))
        .collect::<Result<Vec<_>>>()?;
    let mut text = String::new();
    for w in &witnesses {
        text.push_str(&format!("witness {} {}\n", w.name(), w.to_text()));
    }
    let names: Vec<&str> = witnesses.iter().map(|w| w.name()).collect();
    match names.as_slice() {
        [] => text.push_str("quorum none\n"),
        [one] => text.push_str(&format!("quorum {one}\n")),
        all => text.push_str(&format!(
            "group every-witness-given all {}\nquorum every-witness-given\n",
            all.join(" ")
        )),
    }
    Policy::parse(&text).context("--witness")
}

/// What `--proof` holds.
enum ProofFile {
    /// `dmf log prove --json` or `dmf log consistency --json`: needs `--checkpoint`.
    Json(String),
    /// A receipt, and the answer it came in (when the whole answer was saved).
    Receipt(Receipt, Option<serde_json::Map<String, serde_json::Value>>),
    /// A C2SP tlog-proof.
    TlogProof(String),
}

fn read_proof_file(path: &Path) -> Result<ProofFile> {
    let text = read(path)?;
    if text.starts_with(dmf_log::texts::PROOF_HEADER) {
        return Ok(ProofFile::TlogProof(text));
    }
    if !text.trim_start().starts_with('{') {
        bail!(
            "{} is not JSON: save the proof with `dmf log prove --json` or `dmf log consistency --json` (a receipt is the JSON of an answer asked for with ?receipt=true; a C2SP tlog-proof starts with its header line)",
            path.display()
        );
    }
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let receipt_of = |v: &serde_json::Value| {
        serde_json::from_value::<Receipt>(v.clone())
            .with_context(|| format!("{}: the receipt is malformed", path.display()))
    };
    Ok(match value.as_object() {
        // What a refused request saved: no receipt to check, and the reason is in it.
        Some(o) if o.get("error").is_some_and(serde_json::Value::is_object) => bail!(
            "{} is an error answer, not a receipt: {}",
            path.display(),
            o["error"]["message"].as_str().unwrap_or("(no message)")
        ),
        Some(answer) if answer.contains_key("receipt") => {
            ProofFile::Receipt(receipt_of(&answer["receipt"])?, Some(answer.clone()))
        }
        Some(o) if o.contains_key("statement") => ProofFile::Receipt(receipt_of(&value)?, None),
        _ => ProofFile::Json(text),
    })
}

/// A checked receipt as JSON: what it states and proves.
fn receipt_json(c: &receipt::Checked) -> serde_json::Value {
    let s = &c.statement;
    let raw = |r: &serde_json::value::RawValue| {
        serde_json::from_str::<serde_json::Value>(r.get()).unwrap_or_default()
    };
    json!({
        "origin": s.origin,
        "purpose": s.purpose,
        "query": raw(&s.query),
        "answer": raw(&s.answer),
        "time": s.time,
        "tree_size": s.tree_size,
        "root": s.root,
        "cosigned": c.cosigned.iter().map(|(name, time)| json!({"witness": name, "time": time})).collect::<Vec<_>>(),
        "events": c.leaves.iter().zip(&s.events).map(|(leaf, e)| json!({
            "seq": e.seq,
            "type": e.kind,
            "time": leaf.time,
            "clear": leaf.clear,
            "openings": e.openings.iter().map(|o| json!({"field": o.field, "value": raw(&o.value), "commitment": o.commitment})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Keeps the first failure: it is the one to name.
fn failed(failure: &mut Option<String>, e: &anyhow::Error) {
    failure.get_or_insert_with(|| format!("{e:#}"));
}

pub fn verify(args: &LogVerifyArgs) -> Result<ExitCode> {
    if args.checkpoint.is_none() && args.proof.is_none() {
        bail!("give --checkpoint, --proof or both");
    }
    let key = verifier(&args.key)?;
    let policy = witness_policy(args)?;
    let open = |path: &Path| -> Result<Checkpoint> {
        let note = read_checkpoint(path)?;
        dmf_log::open_checkpoint(&note, &key)
            .map_err(anyhow::Error::from)
            .and_then(|c| {
                policy.verify(&note, Some(&key))?;
                Ok(c)
            })
            .with_context(|| format!("checkpoint {}", path.display()))
    };
    let mut shown = Vec::new();
    let mut failure = None;
    let mut receipt_shown = None;
    let checkpoint = match args.checkpoint.as_deref().map(open) {
        Some(Ok(c)) => {
            shown.push(format!(
                "checkpoint signed by {}: {} events, root {}",
                key.name(),
                c.size,
                base64_hash(&c.root)
            ));
            Some(c)
        }
        Some(Err(e)) => {
            failure = Some(format!("{e:#}"));
            None
        }
        None => None,
    };
    let old = args.old_checkpoint.as_deref().map(open).transpose()?;
    if let Some(path) = &args.proof {
        let context = || path.display().to_string();
        match read_proof_file(path) {
            Err(e) => failed(&mut failure, &e),
            Ok(ProofFile::Json(text)) => match (&checkpoint, &args.checkpoint) {
                (Some(checkpoint), _) => {
                    match publish::check_proof(checkpoint, old.as_ref(), &text)
                        .with_context(context)
                    {
                        Ok(what) => shown.push(what),
                        Err(e) => failed(&mut failure, &e),
                    }
                }
                // The checkpoint failed: said already.
                (None, Some(_)) => {}
                (None, None) => bail!(
                    "{} is a proof of `dmf log prove` or `dmf log consistency`: give the checkpoint it is against with --checkpoint",
                    path.display()
                ),
            },
            Ok(ProofFile::Receipt(r, answer)) => {
                let checked = receipt::check(&r, &key, &policy).and_then(|c| {
                    if let Some(answer) = &answer {
                        c.check_answer(answer)?;
                    }
                    Ok(c)
                });
                match checked.with_context(context) {
                    Ok(c) => {
                        shown.extend(c.describe());
                        receipt_shown = Some(receipt_json(&c));
                    }
                    Err(e) => failed(&mut failure, &e),
                }
            }
            Ok(ProofFile::TlogProof(text)) => {
                match receipt::check_proof_file(&text, &key, &policy).with_context(context) {
                    Ok(entry) => shown.push(entry.describe()),
                    Err(e) => failed(&mut failure, &e),
                }
            }
        }
    }
    if args.output.json {
        let mut v = json!({
            "ok": failure.is_none(),
            "checkpoint": checkpoint.as_ref().map(checkpoint_json),
            "verified": shown,
            "error": failure,
        });
        if let Some(r) = receipt_shown {
            v["receipt"] = r;
        }
        println!("{v}");
    } else {
        for line in &shown {
            println!("OK {line}");
        }
        if let Some(f) = &failure {
            println!("FAILED {f}");
        }
    }
    Ok(if failure.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn export(args: &ExportArgs, quiet: bool) -> Result<ExitCode> {
    let registry = crate::backend::open_current(&args.registry.data, args.registry.database.url())?;
    let bar = progress::spinner("leaves", quiet || args.output.json);
    let summary = dmf_registry::oversight::export(
        &registry,
        &args.out,
        &args.thresholds.thresholds()?,
        crate::today(),
    )?;
    bar.finish_and_clear();
    if args.output.json {
        println!(
            "{}",
            json!({
                "out": summary.dir.display().to_string(),
                "leaves": summary.leaves,
                "bytes": summary.bytes,
                "checkpoint": checkpoint_json(&summary.checkpoint),
            })
        );
    } else {
        println!(
            "exported {} leaves ({} bytes) up to the checkpoint of {} events into {}",
            summary.leaves,
            summary.bytes,
            summary.checkpoint.size,
            summary.dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit(args: &AuditArgs) -> Result<ExitCode> {
    let key = args.key.as_deref().map(verifier).transpose()?;
    let against = args
        .checkpoint
        .as_deref()
        .map(read_checkpoint)
        .transpose()?;
    let registry =
        crate::backend::open_for_audit(&args.registry.data, args.registry.database.url())?;
    // With a database, what others appended is signed first, as far as the writer wrote it;
    // what the log refuses to sign (a rolled-back store, an event the writer did not write) is
    // what the audit reports.
    match registry.sign_pending(true) {
        Ok(_)
        | Err(RegistryError::Unauthenticated { .. })
        | Err(RegistryError::Log(LogError::Ahead { .. })) => {}
        Err(e) => return Err(e.into()),
    }
    let report = dmf_ledger::audit::audit(registry.ledger(), against.as_deref(), key.as_ref())?;
    if args.output.json {
        println!(
            "{}",
            json!({
                "ok": report.ok(),
                "events": report.events,
                "log_leaves": report.log_leaves,
                "checkpoints_checked": report.checkpoints_checked,
                "latest": report.latest.as_ref().map(checkpoint_json),
                "against": report.against.as_ref().map(checkpoint_json),
                "first_bad_seq": report.first_bad_seq(),
                "problems": report.problems.iter().map(|p| json!({"seq": p.seq, "message": p.message})).collect::<Vec<_>>(),
                "more_problems": report.more_problems,
            })
        );
    } else {
        println!(
            "{} events, {} leaves in the log, {} signed checkpoints checked",
            report.events, report.log_leaves, report.checkpoints_checked
        );
        if let Some(c) = &report.against {
            println!(
                "checked against the checkpoint given: {} events, root {}",
                c.size,
                base64_hash(&c.root)
            );
        }
        for p in &report.problems {
            println!("BAD {}", p.message);
        }
        if report.more_problems > 0 {
            println!("BAD and {} more problems", report.more_problems);
        }
        match report.first_bad_seq() {
            Some(seq) => println!("FAILED: the first bad event is {seq}"),
            None if !report.ok() => println!("FAILED"),
            None => println!("OK: every event matches the log and every checkpoint"),
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_stats(stats: &Stats) {
    println!(
        "{} by {}, counted at tree size {} (root {})",
        stats.log_origin,
        stats.period.name(),
        stats.tree_size,
        stats.root
    );
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("date\ttype\tsource\torigin\tkind\tauthority\tlegal_basis\tdecision\tcount");
    for r in &stats.rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.date,
            r.event_type,
            dash(&r.source),
            dash(&r.origin),
            dash(&r.kind),
            dash(&r.authority),
            dash(&r.legal_basis),
            dash(&r.decision),
            r.count
        );
    }
}

pub fn stats(args: &StatsArgs) -> Result<ExitCode> {
    let period = match args.period {
        PeriodArg::Day => Period::Day,
        PeriodArg::Month => Period::Month,
    };
    if let Some(dir) = &args.verify {
        let key = args.key.as_deref().map(verifier).transpose()?;
        let check = publish::check_export(dir, key.as_ref())?;
        let ok = check.problems.is_empty();
        // Without --key the export vouches for itself: say so, for a recount is only as good
        // as the key it was checked with.
        let trusted = key.is_none().then(|| {
            format!(
                "the checkpoint was checked with the key in the export itself ({}): give --key \
                 with the log's verifier key from another source to know the export is the \
                 registry's",
                dir.join("key.pub").display()
            )
        });
        let stats = check
            .stats
            .iter()
            .find(|s| s.period == period)
            .expect("both periods are counted");
        if args.output.json {
            println!(
                "{}",
                json!({
                    "ok": ok,
                    "checkpoint": checkpoint_json(&check.checkpoint),
                    "leaves": check.leaves,
                    "problems": check.problems,
                    "key": if key.is_some() { "given" } else { "trusted from the export" },
                    "stats": stats,
                })
            );
        } else {
            print_stats(stats);
            for p in &check.problems {
                println!("BAD {p}");
            }
            if ok {
                println!(
                    "OK: {} leaves hash to the signed checkpoint and the published statistics are their recount",
                    check.leaves
                );
            }
            if let Some(note) = &trusted {
                println!("NOTE {note}");
            }
        }
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let Some(data) = &args.data else {
        bail!("give --data DIR or --verify EXPORT_DIR");
    };
    let registry = crate::backend::open_current(data, args.database.url())?;
    if args.alerts {
        return alerts(&registry, &args.thresholds.thresholds()?, args.output.json);
    }
    let stats = publish::stats(registry.ledger(), period)?;
    if args.output.json {
        println!("{}", serde_json::to_string(&stats).expect("serialisable"));
    } else {
        print_stats(&stats);
    }
    Ok(ExitCode::SUCCESS)
}

/// `dmf stats --alerts`: every day and group unlike its history or the life tables.
fn alerts(
    registry: &dmf_registry::Registry,
    thresholds: &dmf_registry::oversight::anomaly::Thresholds,
    json: bool,
) -> Result<ExitCode> {
    use dmf_registry::oversight::anomaly;
    let index = registry.load_index()?;
    let lookup = |ssn, seq| anomaly::known_in(index.get(ssn), seq);
    if json {
        // The document `GET /v1/alerts` answers, whether or not there are alerts.
        let v = anomaly::alerts_json(
            registry,
            &lookup,
            index.head,
            thresholds,
            crate::today().year(),
        )?;
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    let observations = anomaly::observations_of(registry, &lookup)?;
    let year = observations
        .last()
        .map_or(crate::today().year(), |o| o.day.year());
    let alerts = anomaly::detect(&observations, &thresholds.config(year));
    for a in &alerts {
        println!("{}  {}  {}: {}", a.day, a.group, a.kind.code(), a.detail);
    }
    println!(
        "{} alerts over {} reports and notices (tree size {})",
        alerts.len(),
        observations.len(),
        index.head
    );
    // Held for their identity, by source or authority and reason (JSON: GET /v1/alerts and the
    // export's alerts.json).
    for ((group, reason), count) in anomaly::held_counts(&observations) {
        println!(
            "held for their identity: {group} {}: {count}",
            reason.code()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print the latest signed checkpoint (the note text).
    Checkpoint(CheckpointArgs),
    /// Print the inclusion proof of one event.
    Prove(ProveArgs),
    /// Print the consistency proof between two tree sizes.
    Consistency(ConsistencyArgs),
    /// Verify a checkpoint, a proof, a receipt or a tlog-proof offline with nothing but the
    /// public key (and the witnesses' keys). Exits 1 when anything fails, naming it.
    Verify(LogVerifyArgs),
    /// Write the public log (leaves, checkpoints, public key, statistics) into a folder.
    Export(ExportArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every leaf from the stored events, rebuild the tree and check every signed
    /// checkpoint (and one saved earlier). Exits 1 and names the first bad event on any
    /// difference.
    Verify(AuditArgs),
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The event's sequence number.
    #[arg(long)]
    pub seq: u64,
    /// The tree size (default: the latest checkpoint's).
    #[arg(long)]
    pub size: Option<u64>,
    /// Print the proof as JSON: the file `dmf log verify --proof` reads.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConsistencyArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The older tree size.
    #[arg(long)]
    pub from: u64,
    /// The newer tree size.
    #[arg(long)]
    pub to: u64,
    /// Print the proof as JSON: the file `dmf log verify --proof` reads.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogVerifyArgs {
    /// A signed checkpoint note (a receipt and a tlog-proof carry their own).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The log's verifier key (`name+keyid+base64`), or a file holding it.
    #[arg(long)]
    pub key: String,
    /// A proof: JSON from `dmf log prove --json` or `dmf log consistency --json` (with
    /// --checkpoint), a receipt (an answer asked for with `?receipt=true`, or its `receipt`
    /// object), or a C2SP tlog-proof file (a correction letter's `.tlog-proof`).
    #[arg(long)]
    pub proof: Option<PathBuf>,
    /// For a consistency proof: the older signed checkpoint it starts from.
    #[arg(long)]
    pub old_checkpoint: Option<PathBuf>,
    /// A C2SP tlog-policy file: the witnesses whose cosignatures a checkpoint must carry.
    #[arg(long, conflicts_with = "witness")]
    pub policy: Option<PathBuf>,
    /// A witness's verifier key (`name+keyid+base64`, type 0x04), or a file holding it; give
    /// it once for each witness: every one given must have cosigned the checkpoint.
    #[arg(long)]
    pub witness: Vec<String>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The folder to write the public log into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub thresholds: AlertArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// A signed checkpoint saved earlier, which the registry must still extend.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The verifier key to hold the log to (default: the log's own key.pub).
    #[arg(long)]
    pub key: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Day,
    Month,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["data", "verify"]))]
pub struct StatsArgs {
    /// The data folder of the registry.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub database: Database,
    /// The period each row counts.
    #[arg(long, value_enum, default_value = "day")]
    pub period: PeriodArg,
    /// Recount an export (from `dmf log export`) from its leaves and check its checkpoint and
    /// published statistics. Exits 1 on any difference.
    #[arg(long, value_name = "EXPORT_DIR")]
    pub verify: Option<PathBuf>,
    /// With --verify: the verifier key to hold the export to (default: its key.pub).
    #[arg(long)]
    pub key: Option<String>,
    /// Intake anomaly alerts instead of counts: days on which one source kind or issuing
    /// authority sent far more than usual, or people far younger than deaths are.
    #[arg(long, conflicts_with = "verify")]
    pub alerts: bool,
    #[command(flatten)]
    pub thresholds: AlertArgs,
    #[command(flatten)]
    pub output: Output,
}
