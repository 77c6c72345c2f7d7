//! The `dmf` command line: argument parsing and glue over the dmf libraries.

mod agreements_cmd;
mod args;
mod backend;
mod cleanup;
mod dump_cmd;
mod format_cmd;
mod log_cmd;
mod match_cmd;
mod mirror_cmd;
mod monitor_cmd;
mod progress;
mod registry_cmd;
mod serve_cmd;
mod service_cmd;
mod snapshot_cmd;
mod synth_cmd;
mod witness_cmd;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dmf",
    version,
    about = "A master file of deaths and SSN status"
)]
struct Cli {
    /// Print no progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic population, its deaths, death reports and a client file.
    Synth(synth_cmd::SynthArgs),
    /// Check and convert DMF fixed-width files.
    #[command(subcommand)]
    Format(format_cmd::FormatCommand),
    /// Create an empty registry in a data folder.
    Init(registry_cmd::InitArgs),
    /// Import numberholders (people.csv) and DMF full or update files into a registry.
    Import(registry_cmd::ImportArgs),
    /// Submit events (death reports, status notices, corrections, verifications, contests) as
    /// NDJSON, one object a line; prints one result a line. Exits 1 when any line is rejected.
    Submit(registry_cmd::SubmitArgs),
    /// Show a person's current state per purpose and full history.
    Show(registry_cmd::ShowArgs),
    /// Answer a verification request for one purpose.
    Verify(registry_cmd::VerifyArgs),
    /// The signed Merkle log: checkpoints, proofs, offline verification, public export.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Audit the registry against its log and signed checkpoints.
    #[command(subcommand)]
    Audit(log_cmd::AuditCommand),
    /// Match a client file (CSV) against the master file: a DMF file or a registry.
    Match(match_cmd::MatchArgs),
    /// Serve the registry over HTTP: verification, submissions, the public log, statistics.
    Serve(serve_cmd::ServeArgs),
    /// API keys of the service: one role each, stored hashed, shown once.
    #[command(subcommand)]
    Keys(service_cmd::KeysCommand),
    /// People who use the console: caseworkers, supervisors and oversight staff.
    #[command(subcommand)]
    Users(service_cmd::UsersCommand),
    /// Computer-matching agreements under which other agencies match their lists against the
    /// file: record, approve (a second person), renew once, list, show.
    #[command(subcommand)]
    Agreements(agreements_cmd::AgreementsCommand),
    /// Oversight statistics from the log: events by type, source kind, status kind, issuing
    /// authority and legal basis per day or month, tied to a signed tree size.
    Stats(log_cmd::StatsArgs),
    /// Follow a registry's feed into a local copy that `dmf verify` answers from.
    Mirror(mirror_cmd::MirrorArgs),
    /// Check a registry's public log from its URL and key alone: signatures, cosignatures,
    /// consistency (split views, rollbacks), recounted statistics and intake alerts. Exits 0
    /// when nothing is found, 1 on intake alerts only, 2 on misbehaviour, 3 when it could not
    /// check.
    Monitor(monitor_cmd::MonitorArgs),
    /// The quality report: implausible ages and dates, overdue reports, unresolved conflicts,
    /// contested notices past their deadline; counts and examples.
    Quality(registry_cmd::QualityArgs),
    /// Presume deceased, in bulk, every living person past an age (no death recorded, never
    /// reinstated): a typed status of its own, never a death, naming its criterion and legal
    /// basis. A later death report or a correction ends it.
    Presume(registry_cmd::PresumeArgs),
    /// Write a registry to one portable, versioned file: events, checkpoints, API key metadata
    /// and the disclosure accounting (the log's secret keys only with --with-secrets).
    Dump(dump_cmd::DumpArgs),
    /// Witnesses (C2SP tlog-witness): run one (`serve`), and keep the registry's list of
    /// witnesses and the quorum a checkpoint needs (`add`, `remove`, `list`, `policy`).
    #[command(subcommand)]
    Witness(witness_cmd::WitnessCommand),
    /// Load a dump into a new registry, embedded or in PostgreSQL; its log is rebuilt and
    /// signed, and audits clean against the checkpoints the dump carries.
    Restore(dump_cmd::RestoreArgs),
    /// Write the answer index's snapshot at the log's latest signed checkpoint (`dmf serve`
    /// writes one when it stops, `dmf import` after loading an empty registry): a start reads
    /// it and replays only the events after it.
    Snapshot(snapshot_cmd::SnapshotArgs),
}

fn main() -> ExitCode {
    // Everything this program writes (registries, keys, accounting, credentials, rejects,
    // dumps) holds personal data or secrets: owner-only, whatever the caller's umask.
    // SAFETY: umask only sets the process's file-creation mask; no memory is involved.
    unsafe {
        libc::umask(0o077);
    }
    // An empty DMF_DATABASE_URL (`export DMF_DATABASE_URL=` to switch PostgreSQL off) means
    // not set, as an empty variable does for most tools, not a URL to fail on.
    if std::env::var_os("DMF_DATABASE_URL").is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
        // SAFETY: no other thread runs yet to read the environment at the same time.
        unsafe {
            std::env::remove_var("DMF_DATABASE_URL");
        }
    }
    let cli = Cli::parse();
    // A command whose reader went away (`dmf format convert FILE | head`) ends as `cat` does,
    // by the pipe's signal, quietly; Rust ignores SIGPIPE, which turns every later write into
    // an error or a panic. The servers, the monitor and the mirror keep ignoring it: their
    // peers come and go.
    if !matches!(
        cli.command,
        Command::Serve(_)
            | Command::Mirror(_)
            | Command::Monitor(_)
            | Command::Witness(witness_cmd::WitnessCommand::Serve(_))
    ) {
        // SAFETY: restores the default disposition of one signal before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match &cli.command {
        Command::Synth(args) => synth_cmd::run(args, cli.quiet),
        Command::Format(format_cmd::FormatCommand::Check(args)) => format_cmd::check(args),
        Command::Format(format_cmd::FormatCommand::Convert(args)) => {
            format_cmd::convert(args, cli.quiet)
        }
        Command::Init(args) => registry_cmd::init(args),
        Command::Import(args) => registry_cmd::import(args, cli.quiet),
        Command::Snapshot(args) => snapshot_cmd::snapshot(args),
        Command::Submit(args) => registry_cmd::submit(args),
        Command::Show(args) => registry_cmd::show(args),
        Command::Verify(args) => registry_cmd::verify(args),
        Command::Log(log_cmd::LogCommand::Checkpoint(args)) => log_cmd::checkpoint(args),
        Command::Log(log_cmd::LogCommand::Prove(args)) => log_cmd::prove(args),
        Command::Log(log_cmd::LogCommand::Consistency(args)) => log_cmd::consistency(args),
        Command::Log(log_cmd::LogCommand::Verify(args)) => log_cmd::verify(args),
        Command::Log(log_cmd::LogCommand::Export(args)) => log_cmd::export(args, cli.quiet),
        Command::Audit(log_cmd::AuditCommand::Verify(args)) => log_cmd::audit(args),
        Command::Stats(args) => log_cmd::stats(args),
        Command::Mirror(args) => mirror_cmd::run(args, cli.quiet),
        Command::Monitor(args) => monitor_cmd::run(args, cli.quiet),
        Command::Quality(args) => registry_cmd::quality(args),
        Command::Presume(args) => registry_cmd::presume(args),
        Command::Dump(args) => dump_cmd::dump(args, cli.quiet),
        Command::Restore(args) => dump_cmd::restore(args, cli.quiet),
        Command::Match(args) => match_cmd::run(args, cli.quiet),
        Command::Serve(args) => serve_cmd::serve(args, cli.quiet),
        Command::Keys(service_cmd::KeysCommand::Create(args)) => service_cmd::keys_create(args),
        Command::Keys(service_cmd::KeysCommand::List(args)) => service_cmd::keys_list(args),
        Command::Users(service_cmd::UsersCommand::Create(args)) => service_cmd::users_create(args),
        Command::Users(service_cmd::UsersCommand::List(args)) => service_cmd::users_list(args),
        Command::Agreements(agreements_cmd::AgreementsCommand::Create(args)) => {
            agreements_cmd::create(args)
        }
        Command::Agreements(agreements_cmd::AgreementsCommand::Approve(args)) => {
            agreements_cmd::approve(args)
        }
        Command::Agreements(agreements_cmd::AgreementsCommand::Renew(args)) => {
            agreements_cmd::renew(args)
        }
        Command::Agreements(agreements_cmd::AgreementsCommand::List(args)) => {
            agreements_cmd::list(args)
        }
        Command::Agreements(agreements_cmd::AgreementsCommand::Show(args)) => {
            agreements_cmd::show(args)
        }
        Command::Witness(witness_cmd::WitnessCommand::Serve(args)) => witness_cmd::serve(args),
        Command::Witness(witness_cmd::WitnessCommand::Add(args)) => witness_cmd::add(args),
        Command::Witness(witness_cmd::WitnessCommand::Remove(args)) => witness_cmd::remove(args),
        Command::Witness(witness_cmd::WitnessCommand::List(args)) => witness_cmd::list(args),
        Command::Witness(witness_cmd::WitnessCommand::Policy(args)) => witness_cmd::policy(args),
        Command::Witness(witness_cmd::WitnessCommand::Publish(args)) => witness_cmd::publish(args),
        Command::Keys(service_cmd::KeysCommand::Revoke(args)) => service_cmd::keys_revoke(args),
        Command::Keys(service_cmd::KeysCommand::Quota(args)) => service_cmd::keys_quota(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = io::stdout().flush();
            eprintln!("dmf: error: {}", error_text(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, joined by ": ", leaving out a cause whose words the message
/// before it already holds (an error that prints its source, and also names it as its cause,
/// would otherwise say everything twice).
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let words = cause.to_string();
        if text.contains(&words) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&words);
    }
    text
}

/// `text` as one shell word: as it is when it holds nothing the shell reads, else in single
/// quotes; for commands printed for the user to run.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@%,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A closed pipe downstream (`dmf ... | head`) ends the command quietly.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Today's date in UTC, from the system clock.
fn today() -> dmf_model::Date {
    dmf_registry::today_utc()
}
