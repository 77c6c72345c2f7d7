//! The `dmf` command line: argument parsing and glue over the dmf libraries.

mod format_cmd;
mod progress;
mod registry_cmd;
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
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The data folder (created if missing).
    #[arg(long)]
    data: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The data folder of the registry.
    #[arg(long)]
    data: PathBuf,
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
    /// The folder to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Synth(args) => synth_cmd::run(args, cli.quiet),
        Command::Format(FormatCommand::Check(args)) => format_cmd::check(args),
        Command::Format(FormatCommand::Convert(args)) => format_cmd::convert(args, cli.quiet),
        Command::Init(args) => registry_cmd::init(args),
        Command::Import(args) => registry_cmd::import(args, cli.quiet),
        Command::Submit(args) => registry_cmd::submit(args),
        Command::Show(args) => registry_cmd::show(args),
        Command::Verify(args) => registry_cmd::verify(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = io::stdout().flush();
            eprintln!("dmf: error: {err:#}");
            ExitCode::from(2)
        }
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
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    dmf_model::Date::from_days_since_epoch(days as i32).expect("the clock is within 1800-2199")
}
