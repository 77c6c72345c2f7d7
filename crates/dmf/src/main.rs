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
mod progress;
mod registry_cmd;
mod serve_cmd;
mod synth_cmd;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use args::{AlertArgs, Database};
use clap::{Args, Parser, Subcommand};

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
    Serve(ServeArgs),
    /// API keys of the service: one role each, stored hashed, shown once.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// People who use the console: caseworkers, supervisors and oversight staff.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Computer-matching agreements under which other agencies match their lists against the
    /// file: record, approve (a second person), renew once, list, show.
    #[command(subcommand)]
    Agreements(AgreementsCommand),
    /// Oversight statistics from the log: events by type, source kind, status kind, issuing
    /// authority and legal basis per day or month, tied to a signed tree size.
    Stats(log_cmd::StatsArgs),
    /// Follow a registry's feed into a local copy that `dmf verify` answers from.
    Mirror(mirror_cmd::MirrorArgs),
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
    /// Load a dump into a new registry, embedded or in PostgreSQL; its log is rebuilt and
    /// signed, and audits clean against the checkpoints the dump carries.
    Restore(dump_cmd::RestoreArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The data folder of the registry.
    #[arg(long, required_unless_present = "demo")]
    data: Option<PathBuf>,
    #[command(flatten)]
    database: Database,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Make a demo registry (a synthetic population, one key per role in
    /// DATA/demo-credentials.json) in a new folder (--data, or a temporary one) and serve it.
    #[arg(long)]
    demo: bool,
    /// People of the demo population.
    #[arg(long, default_value_t = 1_000_000)]
    demo_people: u64,
    /// The day answers are given for, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Requests (records, in a batch) a second each API key may make on average.
    #[arg(long, default_value_t = 2_000)]
    rate: u32,
    /// Requests (records) an API key may make at once beyond its rate.
    #[arg(long, default_value_t = 4_000)]
    burst: u32,
    #[command(flatten)]
    thresholds: AlertArgs,
    #[command(flatten)]
    conn: ConnArgs,
}

/// How many connections, and how long a client may stall.
#[derive(Debug, Args)]
struct ConnArgs {
    /// Seconds a client has to send a request's headers (and the longest a kept-alive
    /// connection may sit idle).
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    header_timeout: u64,
    /// Seconds a request body may send nothing before it is cut with 408.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    body_timeout: u64,
    /// Seconds a client may read nothing of an answer before it is disconnected.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    send_timeout: u64,
    /// Most open connections (default: three quarters of the open-file limit).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Most open connections that have shown no key or session yet; a new one closes the
    /// oldest (default: half of --max-connections).
    #[arg(long)]
    max_anonymous: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key; prints it once.
    Create(KeysCreateArgs),
    /// List keys (never their secrets).
    List(KeysListArgs),
    /// Revoke a key by name.
    Revoke(KeysRevokeArgs),
    /// Set or clear a verification key's daily allowance of records answered.
    Quota(KeysQuotaArgs),
}

#[derive(Debug, Subcommand)]
enum AgreementsCommand {
    /// Record an agreement; it is inactive until a second person approves it.
    Create(AgreementsCreateArgs),
    /// Approve an agreement (not by the person who recorded it).
    Approve(AgreementIdArgs),
    /// Renew an agreement once, within 3 months before its expiry, for at most 12 months.
    Renew(AgreementsRenewArgs),
    /// Every agreement and its status.
    List(AgreementsListArgs),
    /// One agreement: terms, approval, keys, requests, each match's due process, statistics.
    Show(AgreementIdArgs),
}

#[derive(Debug, Args)]
struct AgreementsCreateArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The agency that sends its list and receives the matches.
    #[arg(long)]
    recipient: String,
    /// The agency whose records are matched (the registry's operator).
    #[arg(long)]
    source: String,
    #[arg(long)]
    purpose: String,
    /// The statute or rule that allows the program.
    #[arg(long)]
    legal_authority: String,
    /// What the recipient may receive of a matched record, comma-separated: ssn, name, dob,
    /// deceased, date_of_death, death_source, status.
    #[arg(long)]
    recipient_receives: String,
    /// What the registry may receive of each listed person: name (required), dob, ssn.
    #[arg(long, default_value = "name,dob")]
    source_receives: String,
    /// Days the recipient may keep what it received.
    #[arg(long)]
    retention_days: u32,
    /// YYYY-MM-DD.
    #[arg(long)]
    start: String,
    /// YYYY-MM-DD, at most 18 months after the start.
    #[arg(long)]
    expiry: String,
    /// Matches may lead to adverse action (after verification, notice and 30 days).
    #[arg(long)]
    adverse_action: bool,
    /// A law-enforcement program: the criterion each listed person must meet (a case
    /// reference is then required per record).
    #[arg(long)]
    law_enforcement_criterion: Option<String>,
    /// Who records it.
    #[arg(long)]
    by: String,
    /// The day it is recorded on, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AgreementIdArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The agreement's number.
    #[arg(long)]
    id: u64,
    /// Who approves (for `approve`).
    #[arg(long)]
    by: Option<String>,
    /// The day, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AgreementsRenewArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    #[arg(long)]
    id: u64,
    /// The new expiry, YYYY-MM-DD: at most 12 months after the current one.
    #[arg(long)]
    expiry: String,
    #[arg(long)]
    by: String,
    #[arg(long)]
    today: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AgreementsListArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    #[arg(long)]
    today: Option<String>,
    /// One JSON object an agreement.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a console user. The password is asked for (or read from standard input, one line).
    Create(UsersCreateArgs),
    /// List the console users.
    List(UsersListArgs),
}

#[derive(Debug, Args)]
struct UsersCreateArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The user's sign-in name: letters, digits and . - _ @.
    #[arg(long)]
    name: String,
    /// caseworker, supervisor (also approves other people's corrections and decides
    /// contests) or oversight (reads statistics and correction progress).
    #[arg(long)]
    role: String,
}

#[derive(Debug, Args)]
struct UsersListArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Print one JSON object a user.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct KeysCreateArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// A unique name for the key's holder.
    #[arg(long)]
    name: String,
    /// identity, employment, benefits, subscriber, reporter, authority, caseworker, oversight
    /// or agency.
    #[arg(long)]
    role: String,
    /// A subscriber certified under the limited-access DMF rule (sees deaths of the last 3
    /// years).
    #[arg(long)]
    certified: bool,
    /// A reporter's source kind: state, funeral_home, family, hospital, federal_agency,
    /// financial_institution.
    #[arg(long)]
    source: Option<String>,
    /// An authority's name, fixed on every notice it submits.
    #[arg(long)]
    authority: Option<String>,
    /// An agency key's computer-matching agreement: the key acts under it alone.
    #[arg(long)]
    agreement: Option<u64>,
    /// Verification keys: the records the key may have answered in a UTC day (a batch over
    /// what is left is refused whole).
    #[arg(long)]
    daily_quota: Option<u64>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct KeysListArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Print one JSON object a key.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct KeysRevokeArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The key's name.
    #[arg(long)]
    name: String,
}

#[derive(Debug, Args)]
struct KeysQuotaArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The key's name.
    #[arg(long)]
    name: String,
    /// Records the key may have answered in a UTC day.
    #[arg(long, conflicts_with = "none")]
    daily: Option<u64>,
    /// No daily allowance beyond the key's rate.
    #[arg(long)]
    none: bool,
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
    // an error or a panic. The server and the mirror keep ignoring it: their peers come and go.
    if !matches!(cli.command, Command::Serve(_) | Command::Mirror(_)) {
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
        Command::Quality(args) => registry_cmd::quality(args),
        Command::Presume(args) => registry_cmd::presume(args),
        Command::Dump(args) => dump_cmd::dump(args, cli.quiet),
        Command::Restore(args) => dump_cmd::restore(args, cli.quiet),
        Command::Match(args) => match_cmd::run(args, cli.quiet),
        Command::Serve(args) => serve_cmd::serve(args, cli.quiet),
        Command::Keys(KeysCommand::Create(args)) => serve_cmd::keys_create(args),
        Command::Keys(KeysCommand::List(args)) => serve_cmd::keys_list(args),
        Command::Users(UsersCommand::Create(args)) => serve_cmd::users_create(args),
        Command::Users(UsersCommand::List(args)) => serve_cmd::users_list(args),
        Command::Agreements(AgreementsCommand::Create(args)) => agreements_cmd::create(args),
        Command::Agreements(AgreementsCommand::Approve(args)) => agreements_cmd::approve(args),
        Command::Agreements(AgreementsCommand::Renew(args)) => agreements_cmd::renew(args),
        Command::Agreements(AgreementsCommand::List(args)) => agreements_cmd::list(args),
        Command::Agreements(AgreementsCommand::Show(args)) => agreements_cmd::show(args),
        Command::Keys(KeysCommand::Revoke(args)) => serve_cmd::keys_revoke(args),
        Command::Keys(KeysCommand::Quota(args)) => serve_cmd::keys_quota(args),
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
