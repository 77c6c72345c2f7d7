//! `dmf format check` and `dmf format convert`.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use dmf_format::convert::CsvWriter;
use dmf_format::{ChangeCode, DmfReader, LineError, Scan, ScanMode, write_ndjson};
use serde_json::json;

use clap::{Args, Subcommand, ValueEnum};

use crate::args::Output;
use crate::progress;

/// A whole input in memory: a file mapped read-only, or standard input read to the end.
enum Input {
    Mapped(memmap2::Mmap),
    Empty,
}

impl Input {
    fn open(path: &Path) -> Result<Input> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?
            .len();
        if len == 0 {
            return Ok(Input::Empty);
        }
        // SAFETY: the map is read-only and private to this process; a file changed by another
        // process while it is checked can give wrong counts, never unsafety in our code, since
        // every byte is read as plain data.
        let map = unsafe { memmap2::MmapOptions::new().map(&file) }
            .with_context(|| format!("cannot map {}", path.display()))?;
        Ok(Input::Mapped(map))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(map) => map,
            Input::Empty => &[],
        }
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Refuses, before any work, a file that is sure to be of another kind than `wanted` (a CSV of
/// people handed to a command that reads DMF files), naming what it is and what takes it.
pub fn refuse_wrong_kind(
    path: &Path,
    wanted: &[dmf_format::FileKind],
    command: &str,
    reads: &str,
) -> Result<()> {
    if is_stdin(path) {
        return Ok(());
    }
    let mut head = Vec::with_capacity(dmf_format::sniff::SNIFF_LEN);
    File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .take(dmf_format::sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    match dmf_format::sniff::refuse(&path.display().to_string(), &head, wanted, command, reads) {
        Some(reason) => anyhow::bail!(reason),
        None => Ok(()),
    }
}

/// A DMF file, or an empty one.
const DMF_KINDS: [dmf_format::FileKind; 2] =
    [dmf_format::FileKind::Dmf, dmf_format::FileKind::Empty];
const READS_DMF: &str = "DMF files (100-character fixed-width records)";

pub fn check(args: &CheckArgs) -> Result<ExitCode> {
    let mode = if args.first_error {
        ScanMode::FirstError
    } else {
        ScanMode::AllErrors {
            keep: args.max_errors,
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = io::stdout().lock();
    let mut any_error = false;
    for path in &args.files {
        refuse_wrong_kind(path, &DMF_KINDS, "dmf format check", READS_DMF)?;
    }
    for path in &args.files {
        let scan = if is_stdin(path) {
            DmfReader::new(io::stdin().lock())
                .scan(mode)
                .context("cannot read standard input")?
        } else {
            let input = Input::open(path)?;
            dmf_format::scan_parallel(input.bytes(), mode, threads)
        };
        any_error |= scan.summary.error_lines > 0;
        let name = path.display().to_string();
        if args.output.json {
            serde_json::to_writer(&mut out, &scan_json(&name, &scan))?;
            writeln!(out)?;
        } else {
            print_scan(&mut out, &name, &scan)?;
        }
    }
    out.flush()?;
    Ok(if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn error_rows<'a>(
    file: &'a str,
    errors: &'a [LineError],
) -> impl Iterator<Item = serde_json::Value> + 'a {
    errors.iter().flat_map(move |e| {
        e.errors.iter().map(move |f| {
            let (from, to) = f.field.columns();
            json!({
                "file": file,
                "line": e.line,
                "columns": [from, to],
                "field": f.field.name(),
                "reason": f.reason.to_string(),
            })
        })
    })
}

fn scan_json(file: &str, scan: &Scan) -> serde_json::Value {
    let s = &scan.summary;
    let by_change: serde_json::Map<String, serde_json::Value> = ChangeCode::ALL
        .iter()
        .zip(s.by_change)
        .map(|(c, n)| (c.name().to_owned(), n.into()))
        .collect();
    json!({
        "file": file,
        "lines": s.lines,
        "records": s.records(),
        "by_change": by_change,
        "error_lines": s.error_lines,
        "short_lines": s.short_lines,
        "line_ends": { "lf": s.lf_lines, "crlf": s.crlf_lines },
        "partial_dod": s.partial_dod,
        "missing_dob": s.missing_dob,
        "verification": {
            "blank": s.by_verification[0],
            "V": s.by_verification[1],
            "P": s.by_verification[2],
        },
        "errors": error_rows(file, &scan.errors).collect::<Vec<_>>(),
    })
}

fn print_scan(out: &mut impl Write, file: &str, scan: &Scan) -> io::Result<()> {
    for e in &scan.errors {
        for f in &e.errors {
            writeln!(out, "{file}:{}: {f}", e.line)?;
        }
    }
    let s = &scan.summary;
    if s.error_lines > scan.errors.len() as u64 {
        writeln!(
            out,
            "{file}: {} more wrong lines not listed",
            s.error_lines - scan.errors.len() as u64
        )?;
    }
    let kinds: Vec<String> = ChangeCode::ALL
        .iter()
        .zip(s.by_change)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    let kinds = if kinds.is_empty() {
        String::new()
    } else {
        format!(" ({})", kinds.join(", "))
    };
    writeln!(
        out,
        "{file}: {} lines, {} records{kinds}, {} wrong lines",
        s.lines,
        s.records(),
        s.error_lines
    )?;
    writeln!(
        out,
        "{file}: {} dates of death without the day, {} without date of birth, {} short lines, \
         line ends {} LF and {} CR LF, verification {} V / {} P / {} blank",
        s.partial_dod,
        s.missing_dob,
        s.short_lines,
        s.lf_lines,
        s.crlf_lines,
        s.by_verification[1],
        s.by_verification[2],
        s.by_verification[0],
    )
}

pub fn convert(args: &ConvertArgs, quiet: bool) -> Result<ExitCode> {
    refuse_wrong_kind(&args.file, &DMF_KINDS, "dmf format convert", READS_DMF)?;
    let (input, total): (Box<dyn Read>, u64) = if is_stdin(&args.file) {
        (Box::new(io::stdin().lock()), 0)
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), len)
    };
    let bar = progress::bytes_bar(total, quiet || total == 0);
    let input = bar.wrap_read(input);
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let sink = BufWriter::with_capacity(1 << 20, sink);
    let name = args.file.display().to_string();
    let mut reader = DmfReader::new(input);
    let mut wrong = 0u64;
    let mut report = |e: LineError| {
        wrong += 1;
        for f in &e.errors {
            eprintln!("{name}:{}: {f}", e.line);
        }
    };
    let read_error = || format!("cannot read {name}");
    match args.to {
        Target::Csv => {
            let mut csv = CsvWriter::new(sink)?;
            while let Some(rec) = reader.next_record().with_context(read_error)? {
                match rec {
                    Ok(rec) => csv.write(&rec)?,
                    Err(e) => report(e),
                }
            }
            csv.finish()?.flush()?;
        }
        Target::Ndjson => {
            let mut sink = sink;
            let mut buf = Vec::with_capacity(1 << 16);
            while let Some(rec) = reader.next_record().with_context(read_error)? {
                match rec {
                    Ok(rec) => write_ndjson(&rec, &mut buf),
                    Err(e) => report(e),
                }
                if buf.len() > (1 << 16) - 512 {
                    sink.write_all(&buf)?;
                    buf.clear();
                }
            }
            sink.write_all(&buf)?;
            sink.flush()?;
        }
    }
    bar.finish_and_clear();
    if wrong > 0 {
        eprintln!("{name}: {wrong} wrong lines were left out of the output");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub enum FormatCommand {
    /// Check DMF files: counts and every error with its line, columns, field and reason.
    /// Exits 1 when any line is wrong.
    Check(CheckArgs),
    /// Convert a DMF file to CSV or NDJSON (dates ISO 8601, partial as YYYY-MM or YYYY).
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// DMF files (full or update); `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: Output,
    /// Stop at the first wrong line.
    #[arg(long)]
    pub first_error: bool,
    /// Wrong lines to list (all are counted).
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Csv,
    Ndjson,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// A DMF file; `-` reads standard input.
    pub file: PathBuf,
    /// The output format.
    #[arg(long)]
    pub to: Target,
    /// Where to write (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
