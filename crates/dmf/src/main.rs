//! The `dmf` command line: argument parsing and glue over the dmf libraries.

mod agreements_cmd;
mod backend;
mod cleanup;
mod dump_cmd;
mod format_cmd;
mod log_cmd;
mod match_cmd;
mod match_report;
mod mirror_cmd;
mod progress;
mod registry_cmd;
mod serve_cmd;
mod service_cmd;
mod synth_cmd;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    Synth(SynthArgs),
    /// Check and convert DMF fixed-width files.
    #[command(subcommand)]
    Format(FormatCommand),
    /// Create an empty registry in a data folder.
    Init(InitArgs),
    /// Import numberholders (people.csv) and DMF full or update files into a registry.
    Import(ImportArgs),
    /// Submit events (death reports, status notices, corrections, verifications, contests) as
    /// NDJSON, one object a line; prints one result a line. Exits 1 when any line is rejected.
    Submit(SubmitArgs),
    /// Show a person's current state per purpose and full history.
    Show(ShowArgs),
    /// Answer a verification request for one purpose.
    Verify(VerifyArgs),
    /// The signed Merkle log: checkpoints, proofs, offline verification, public export.
    #[command(subcommand)]
    Log(LogCommand),
    /// Audit the registry against its log and signed checkpoints.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Match a client file (CSV) against the master file: a DMF file or a registry.
    Match(MatchArgs),
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
    Stats(StatsArgs),
    /// Follow a registry's feed into a local copy that `dmf verify` answers from.
    Mirror(MirrorArgs),
    /// The quality report: implausible ages and dates, overdue reports, unresolved conflicts,
    /// contested notices past their deadline; counts and examples.
    Quality(QualityArgs),
    /// Presume deceased, in bulk, every living person past an age (no death recorded, never
    /// reinstated): a typed status of its own, never a death, naming its criterion and legal
    /// basis. A later death report or a correction ends it.
    Presume(PresumeArgs),
    /// Write a registry to one portable, versioned file: events, checkpoints, API key metadata
    /// and the disclosure accounting (the log's secret keys only with --with-secrets).
    Dump(DumpArgs),
    /// Load a dump into a new registry, embedded or in PostgreSQL; its log is rebuilt and
    /// signed, and audits clean against the checkpoints the dump carries.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
struct MatchArgs {
    /// The client file: CSV with a header naming id, first, last (and ssn, middle, suffix,
    /// dob); other columns are passed through to the output.
    #[arg(long)]
    client: PathBuf,
    /// The dob column's format, when the data cannot tell: YYYY-MM-DD (also YYYY-MM, YYYY),
    /// YYYYMMDD, MMDDYYYY, MM/DD/YYYY, DD/MM/YYYY, MM/DD/YY or DD/MM/YY (a two-digit year is
    /// the latest such year not after today). Found from the data by default.
    #[arg(long, value_name = "FORMAT")]
    dob_format: Option<dmf_match::client::DobFormat>,
    /// The client file's encoding: utf-8, windows-1252 or latin-1. By default UTF-8, or
    /// windows-1252 for a file that is not UTF-8 (with a note).
    #[arg(long, value_name = "ENCODING")]
    encoding: Option<dmf_match::client::Encoding>,
    /// The master: a DMF file (full or update).
    #[arg(long, conflicts_with = "data")]
    master: Option<PathBuf>,
    /// The master: a registry's data folder (what a certified subscriber may receive).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    database: Database,
    /// With --data: match only the master records changed since this cursor (new deaths,
    /// and withdrawn ones, marked `delete` in the `change` column).
    #[arg(long)]
    since: Option<u64>,
    /// Rename client columns: OURS=THEIRS pairs, comma-separated (e.g. dob=birth_date).
    #[arg(long)]
    columns: Vec<String>,
    /// The matches as CSV (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A trained model: used if the file exists, written after training otherwise.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Train even when --model exists, and overwrite it.
    #[arg(long)]
    train: bool,
    /// Keep each client and each master record in one match at most, the heaviest (the
    /// default; kept for scripts that give it).
    #[arg(long, conflicts_with = "many")]
    one_to_one: bool,
    /// Keep every pair above the threshold, not only each record's best.
    #[arg(long)]
    many: bool,
    /// Matches below this probability are left out.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// A self-contained HTML report: weights, m and u, waterfalls, and every pair of
    /// probability 0.05 to 0.95 for clerical review, whose decisions it exports as labels.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Labels of clerical review (CSV `client_id,ssn,label`, as the report exports): m is
    /// re-estimated from them, the pairs scored with the refit model, and calibration checked
    /// band by band of probability.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Stop at the first bad cell or ragged row instead of treating it as missing or
    /// skipping it.
    #[arg(long)]
    strict: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// The blocking rules, comma-separated (see docs/MATCHING.md); the default set when not
    /// given.
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    rules: Vec<dmf_match::Rule>,
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

#[derive(Debug, Args)]
struct QualityArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The day the report is made for, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Alive past this age is implausible.
    #[arg(long, default_value_t = 115)]
    max_age: i32,
    /// A report pending longer than this many days is overdue.
    #[arg(long, default_value_t = 30)]
    pending_days: i32,
    /// Examples shown of each finding.
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// A published DMF full file to hold against what the registry publishes today for
    /// `--audience`: deaths missing from it, records in it the registry does not publish, and
    /// records whose fields differ.
    #[arg(long, value_name = "FILE")]
    published: Option<PathBuf>,
    /// Whom the published file was made for.
    #[arg(long, value_enum, default_value = "certified", requires = "published")]
    audience: AudienceArg,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// Thresholds of the intake anomaly alerts; each left out keeps its default.
#[derive(Debug, Args, Clone, Default)]
struct AlertArgs {
    /// Days of a group's history each day is compared with [default: 28].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(i32).range(1..=3650))]
    alert_window: Option<i32>,
    /// Standard deviations above the usual daily count for a volume alert [default: 6].
    #[arg(long, value_name = "SD")]
    alert_volume_z: Option<f64>,
    /// Fewest reports on a day for a volume alert [default: 50].
    #[arg(long, value_name = "N")]
    alert_min_volume: Option<u64>,
    /// A day of a group with too little history alerts from this many [default: 1000].
    #[arg(long, value_name = "N")]
    alert_new_group: Option<u64>,
    /// Deaths under this age count as young for the age alert [default: 65].
    #[arg(long, value_name = "YEARS")]
    alert_young_age: Option<u16>,
    /// Standard errors above the expected young share for an age alert [default: 6].
    #[arg(long, value_name = "SE")]
    alert_age_z: Option<f64>,
    /// Fewest ages on a day for an age alert [default: 30].
    #[arg(long, value_name = "N")]
    alert_age_min: Option<usize>,
    /// Points of share above expected for an age alert, 0-1 [default: 0.15].
    #[arg(long, value_name = "SHARE")]
    alert_age_excess: Option<f64>,
    /// Standard errors above a group's usual share held for their identity for a mismatch
    /// alert [default: 6].
    #[arg(long, value_name = "SE")]
    alert_mismatch_z: Option<f64>,
    /// Fewest held for their identity on a day for a mismatch alert [default: 20].
    #[arg(long, value_name = "N")]
    alert_mismatch_min: Option<u64>,
    /// Points of share above the usual for a mismatch alert, 0-1 [default: 0.10].
    #[arg(long, value_name = "SHARE")]
    alert_mismatch_excess: Option<f64>,
}

impl AlertArgs {
    fn thresholds(&self) -> anyhow::Result<dmf_registry::anomaly::Thresholds> {
        for (flag, v) in [
            ("--alert-volume-z", self.alert_volume_z),
            ("--alert-age-z", self.alert_age_z),
            ("--alert-age-excess", self.alert_age_excess),
            ("--alert-mismatch-z", self.alert_mismatch_z),
            ("--alert-mismatch-excess", self.alert_mismatch_excess),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v <= 0.0) {
                anyhow::bail!("{flag} must be a positive number");
            }
        }
        for (flag, v) in [
            ("--alert-age-excess", self.alert_age_excess),
            ("--alert-mismatch-excess", self.alert_mismatch_excess),
        ] {
            if v.is_some_and(|v| v >= 1.0) {
                anyhow::bail!("{flag} is a share: give a number below 1");
            }
        }
        Ok(dmf_registry::anomaly::Thresholds {
            window_days: self.alert_window,
            new_group_volume: self.alert_new_group,
            volume_z: self.alert_volume_z,
            min_volume: self.alert_min_volume,
            young_age: self.alert_young_age,
            age_z: self.alert_age_z,
            age_min_n: self.alert_age_min,
            age_min_excess: self.alert_age_excess,
            held_z: self.alert_mismatch_z,
            held_min: self.alert_mismatch_min,
            held_min_excess: self.alert_mismatch_excess,
        })
    }
}

#[derive(Debug, Args)]
struct PresumeArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Presume people older than this many whole years (counted from the latest day their
    /// date of birth allows).
    #[arg(long, value_parser = clap::value_parser!(i32).range(100..=150))]
    older_than: i32,
    /// The criterion recorded on each event (default: "age over N with no death recorded").
    #[arg(long)]
    criterion: Option<String>,
    /// The law or rule that allows the presumption, recorded on each event.
    #[arg(long)]
    legal_basis: String,
    /// Who records it (operator name or id).
    #[arg(long)]
    recorded_by: String,
    /// The day ages are counted on, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Count and list whom it would cover; record nothing.
    #[arg(long)]
    dry_run: bool,
    /// Examples listed.
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AudienceArg {
    /// Subscribers certified under the limited-access rule (recent deaths included).
    Certified,
    /// Uncertified subscribers (deaths of the last three years withheld).
    Uncertified,
    /// Federal benefit programs (state-reported deaths included).
    Benefits,
}

impl AudienceArg {
    fn audience(self) -> dmf_registry::distribution::Audience {
        use dmf_registry::distribution::Audience;
        match self {
            AudienceArg::Certified => Audience {
                certified: true,
                state_deaths: false,
            },
            AudienceArg::Uncertified => Audience {
                certified: false,
                state_deaths: false,
            },
            AudienceArg::Benefits => Audience {
                certified: true,
                state_deaths: true,
            },
        }
    }
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The dump file to write.
    #[arg(long)]
    out: PathBuf,
    /// Also write the log's signing and leaf keys (keep such a dump as secret as the keys).
    #[arg(long)]
    with_secrets: bool,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// The dump to read.
    #[arg(long = "in")]
    input: PathBuf,
    /// The new registry's data folder (missing or empty).
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// A data folder holding the registry's log keys, for a dump made without --with-secrets.
    #[arg(long)]
    keys_from: Option<PathBuf>,
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

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Print the latest signed checkpoint (the note text).
    Checkpoint(CheckpointArgs),
    /// Print the inclusion proof of one event.
    Prove(ProveArgs),
    /// Print the consistency proof between two tree sizes.
    Consistency(ConsistencyArgs),
    /// Verify a checkpoint, and a proof, offline with nothing but the public key. Exits 1 when
    /// anything fails.
    Verify(LogVerifyArgs),
    /// Write the public log (leaves, checkpoints, public key, statistics) into a folder.
    Export(ExportArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every leaf from the stored events, rebuild the tree and check every signed
    /// checkpoint (and one saved earlier). Exits 1 and names the first bad event on any
    /// difference.
    Verify(AuditArgs),
}

/// Where the registry's events live, for every command that opens a registry.
#[derive(Debug, Args)]
struct Database {
    /// The PostgreSQL database of the registry (`postgres://USER@HOST:PORT/DB`): its events,
    /// and then also its API keys, console users and agreements. By default the data folder's
    /// embedded store and files. `init` and `restore` take an empty one.
    #[arg(long = "database", env = "DMF_DATABASE_URL")]
    url: Option<String>,
}

impl Database {
    /// The database's URL, if one was given.
    fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

#[derive(Debug, Args)]
struct CheckpointArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ProveArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The event's sequence number.
    #[arg(long)]
    seq: u64,
    /// The tree size (default: the latest checkpoint's).
    #[arg(long)]
    size: Option<u64>,
    /// Print the proof as JSON: the file `dmf log verify --proof` reads.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ConsistencyArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The older tree size.
    #[arg(long)]
    from: u64,
    /// The newer tree size.
    #[arg(long)]
    to: u64,
    /// Print the proof as JSON: the file `dmf log verify --proof` reads.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct LogVerifyArgs {
    /// A signed checkpoint note.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The log's verifier key (`name+keyid+base64`), or a file holding it.
    #[arg(long)]
    key: String,
    /// A proof from `dmf log prove --json` or `dmf log consistency --json`.
    #[arg(long)]
    proof: Option<PathBuf>,
    /// For a consistency proof: the older signed checkpoint it starts from.
    #[arg(long)]
    old_checkpoint: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The folder to write the public log into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    thresholds: AlertArgs,
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// A signed checkpoint saved earlier, which the registry must still extend.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// The verifier key to hold the log to (default: the log's own key.pub).
    #[arg(long)]
    key: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PeriodArg {
    Day,
    Month,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["data", "verify"]))]
struct StatsArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    database: Database,
    /// The period each row counts.
    #[arg(long, value_enum, default_value = "day")]
    period: PeriodArg,
    /// Recount an export (from `dmf log export`) from its leaves and check its checkpoint and
    /// published statistics. Exits 1 on any difference.
    #[arg(long, value_name = "EXPORT_DIR")]
    verify: Option<PathBuf>,
    /// With --verify: the verifier key to hold the export to (default: its key.pub).
    #[arg(long)]
    key: Option<String>,
    /// Intake anomaly alerts instead of counts: days on which one source kind or issuing
    /// authority sent far more than usual, or people far younger than deaths are.
    #[arg(long, conflicts_with = "verify")]
    alerts: bool,
    #[command(flatten)]
    thresholds: AlertArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The data folder (created if missing).
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// The name of the log in its checkpoints, a schema-less URL such as
    /// `registry.example.gov/dmf` (default: `dmf-registry/` and 8 random hex digits).
    #[arg(long)]
    origin: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// Files to import: a CSV with a header naming ssn, first, last (and middle, suffix, sex,
    /// dob, birth_state), or DMF fixed-width files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The day the records are received, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SubmitArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    /// NDJSON events; `-` reads standard input.
    file: PathBuf,
    /// The day taken for dates a submission leaves out, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Lines stored per transaction; their results are printed once they are durable.
    #[arg(long, default_value_t = 10_000)]
    batch_size: usize,
    /// Print one JSON result a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    #[arg(long)]
    ssn: String,
    /// The day answers are given for, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Purpose {
    Identity,
    Employment,
    Benefits,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    database: Database,
    #[arg(long)]
    ssn: String,
    #[arg(long)]
    first: String,
    #[arg(long)]
    last: String,
    /// Date of birth: YYYY-MM-DD, YYYY-MM or YYYY.
    #[arg(long)]
    dob: String,
    #[arg(long)]
    purpose: Purpose,
    /// The day the answer is given for, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SynthArgs {
    /// How many people hold an SSN in the synthetic population.
    #[arg(long, default_value_t = 100_000)]
    people: u64,
    /// Seed: the same seed, size and date give the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The folder to write into (created if missing). A folder holding a registry or files
    /// other than an earlier run's is refused unless --overwrite.
    #[arg(long)]
    out: PathBuf,
    /// Write into a folder that holds a registry or other files (the synthetic files of the
    /// same names are replaced; nothing else is touched).
    #[arg(long)]
    overwrite: bool,
    /// The day the population is drawn up to, YYYY-MM-DD (default: today).
    #[arg(long)]
    as_of: Option<String>,
    /// Customers in client.csv (default: a tenth of the people).
    #[arg(long)]
    clients: Option<u64>,
    /// Days of new death reports in reports.ndjson, received after dmf.txt was cut.
    #[arg(long, default_value_t = 30)]
    report_days: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum FormatCommand {
    /// Check DMF files: counts and every error with its line, columns, field and reason.
    /// Exits 1 when any line is wrong.
    Check(CheckArgs),
    /// Convert a DMF file to CSV or NDJSON (dates ISO 8601, partial as YYYY-MM or YYYY).
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// DMF files (full or update); `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the result as JSON, one object a file.
    #[arg(long)]
    json: bool,
    /// Stop at the first wrong line.
    #[arg(long)]
    first_error: bool,
    /// Wrong lines to list (all are counted).
    #[arg(long, default_value_t = 100)]
    max_errors: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Csv,
    Ndjson,
}

#[derive(Debug, Args)]
struct ConvertArgs {
    /// A DMF file; `-` reads standard input.
    file: PathBuf,
    /// The output format.
    #[arg(long)]
    to: Target,
    /// Where to write (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MirrorArgs {
    /// The registry's base URL, such as http://registry.example:8080 (plain HTTP).
    #[arg(long)]
    from: String,
    /// An API key whose role may read the feed.
    #[arg(long)]
    key: String,
    /// The local data folder (a registry is created in it if it has none).
    #[arg(long)]
    data: PathBuf,
    /// Seconds the server may hold each request open while nothing is new.
    #[arg(long, default_value_t = 25)]
    wait: u64,
    /// Fetch until the feed has nothing new, then exit.
    #[arg(long)]
    once: bool,
    /// The day the records are received, YYYY-MM-DD (default: today).
    #[arg(long)]
    today: Option<String>,
    /// Print one JSON object a page.
    #[arg(long)]
    json: bool,
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
        Command::Format(FormatCommand::Check(args)) => format_cmd::check(args),
        Command::Format(FormatCommand::Convert(args)) => format_cmd::convert(args, cli.quiet),
        Command::Init(args) => registry_cmd::init(args),
        Command::Import(args) => registry_cmd::import(args, cli.quiet),
        Command::Submit(args) => registry_cmd::submit(args),
        Command::Show(args) => registry_cmd::show(args),
        Command::Verify(args) => registry_cmd::verify(args),
        Command::Log(LogCommand::Checkpoint(args)) => log_cmd::checkpoint(args),
        Command::Log(LogCommand::Prove(args)) => log_cmd::prove(args),
        Command::Log(LogCommand::Consistency(args)) => log_cmd::consistency(args),
        Command::Log(LogCommand::Verify(args)) => log_cmd::verify(args),
        Command::Log(LogCommand::Export(args)) => log_cmd::export(args, cli.quiet),
        Command::Audit(AuditCommand::Verify(args)) => log_cmd::audit(args),
        Command::Stats(args) => log_cmd::stats(args),
        Command::Mirror(args) => mirror_cmd::run(args, cli.quiet),
        Command::Quality(args) => registry_cmd::quality(args),
        Command::Presume(args) => registry_cmd::presume(args),
        Command::Dump(args) => dump_cmd::dump(args, cli.quiet),
        Command::Restore(args) => dump_cmd::restore(args, cli.quiet),
        Command::Match(args) => match_cmd::run(args, cli.quiet),
        Command::Serve(args) => serve_cmd::serve(args, cli.quiet),
        Command::Keys(KeysCommand::Create(args)) => service_cmd::keys_create(args),
        Command::Keys(KeysCommand::List(args)) => service_cmd::keys_list(args),
        Command::Users(UsersCommand::Create(args)) => service_cmd::users_create(args),
        Command::Users(UsersCommand::List(args)) => service_cmd::users_list(args),
        Command::Agreements(AgreementsCommand::Create(args)) => agreements_cmd::create(args),
        Command::Agreements(AgreementsCommand::Approve(args)) => agreements_cmd::approve(args),
        Command::Agreements(AgreementsCommand::Renew(args)) => agreements_cmd::renew(args),
        Command::Agreements(AgreementsCommand::List(args)) => agreements_cmd::list(args),
        Command::Agreements(AgreementsCommand::Show(args)) => agreements_cmd::show(args),
        Command::Keys(KeysCommand::Revoke(args)) => service_cmd::keys_revoke(args),
        Command::Keys(KeysCommand::Quota(args)) => service_cmd::keys_quota(args),
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
