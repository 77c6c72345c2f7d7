//! `dmf agreements`: computer-matching agreements from the command line — record one, approve
//! it (a second person), renew it once, list them, and show one with its requests, each
//! match's due process and the statistics.

use std::process::ExitCode;

use anyhow::{Result, bail};
use dmf_service::programs::{Programs, State};
use serde_json::{Value, json};

use clap::{Args, Subcommand};
use dmf_model::Date;

use crate::args::{Output, RegistryArgs, Today};

fn open(data: &std::path::Path, database: Option<&str>) -> Result<Programs> {
    crate::service_cmd::require_registry(data)?;
    Ok(crate::backend::service(data, database)?.programs()?)
}

fn list_arg(s: &str) -> Value {
    s.split(',')
        .map(|x| x.trim())
        .filter(|x| !x.is_empty())
        .collect()
}

pub fn create(args: &AgreementsCreateArgs) -> Result<ExitCode> {
    let programs = open(&args.registry.data, args.registry.database.url())?;
    let v = json!({
        "recipient": args.recipient, "source": args.source, "purpose": args.purpose,
        "legal_authority": args.legal_authority,
        "recipient_receives": list_arg(&args.recipient_receives),
        "source_receives": list_arg(&args.source_receives),
        "retention_days": args.retention_days, "start": args.start.to_string(), "expiry": args.expiry.to_string(),
        "adverse_action": args.adverse_action,
        "law_enforcement_criterion": args.law_enforcement_criterion,
    });
    // The JSON path of a problem is the flag that gave it.
    let terms = dmf_service::programs::terms_from_json(&v).map_err(|(path, msg)| {
        let flag = path
            .trim_start_matches("$.")
            .split('[')
            .next()
            .unwrap_or_default()
            .replace('_', "-");
        anyhow::anyhow!("--{flag}: {msg}")
    })?;
    let today = args.today.get();
    let id = programs.create(&terms, &args.by, today, crate::registry_cmd::now_ms())?;
    let state = programs.state()?;
    print_one(&state, id, today, args.output.json, false)?;
    if !args.output.json {
        // The command as the approver runs it, with what it needs to work as written.
        // A URL with a password is not printed: it is named by the variable instead.
        let database = match args.registry.database.url() {
            Some(url) if crate::backend::redact(url) == url => {
                format!(" --database {}", crate::shell_quote(url))
            }
            Some(_) => " --database \"$DMF_DATABASE_URL\"".to_owned(),
            None => String::new(),
        };
        eprintln!(
            "inactive until a second person approves it; the approver runs:\n  \
             dmf agreements approve --data {} --id {id}{database} --by \"$USER\"",
            crate::shell_quote(&args.registry.data.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn approve(args: &AgreementIdArgs) -> Result<ExitCode> {
    let programs = open(&args.registry.data, args.registry.database.url())?;
    let Some(by) = &args.by else {
        bail!("--by: say who approves (not the person who recorded the agreement)");
    };
    let today = args.today.get();
    programs.approve(args.id, by, today, crate::registry_cmd::now_ms())?;
    print_one(&programs.state()?, args.id, today, args.output.json, false)?;
    Ok(ExitCode::SUCCESS)
}

pub fn renew(args: &AgreementsRenewArgs) -> Result<ExitCode> {
    let programs = open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let to = args.expiry;
    programs.renew(args.id, to, &args.by, today, crate::registry_cmd::now_ms())?;
    print_one(&programs.state()?, args.id, today, args.output.json, false)?;
    Ok(ExitCode::SUCCESS)
}

pub fn list(args: &AgreementsListArgs) -> Result<ExitCode> {
    let programs = open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let state = programs.state()?;
    for a in state.agreements.values() {
        if args.output.json {
            let view = dmf_service::programs::agreement_view(a, &state, today);
            println!("{}", serde_json::to_value(view)?);
        } else {
            println!(
                "{:>4}  {:<18} {} to {}  {} ({})",
                a.id,
                a.status(today).code(),
                a.terms.start,
                a.expiry(),
                a.terms.recipient.as_str(),
                a.terms.purpose.as_str()
            );
        }
    }
    if !args.output.json && state.agreements.is_empty() {
        println!("no agreements");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: &AgreementIdArgs) -> Result<ExitCode> {
    let programs = open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    print_one(&programs.state()?, args.id, today, args.output.json, true)?;
    Ok(ExitCode::SUCCESS)
}

fn print_one(state: &State, id: u64, today: dmf_model::Date, json: bool, full: bool) -> Result<()> {
    use dmf_service::programs::{agreement_view, request_view, stats_rows};
    let a = state.agreement(id)?;
    let requests: Vec<_> = state
        .requests
        .values()
        .filter(|r| r.agreement == id)
        .collect();
    if json {
        let mut view = agreement_view(a, state, today);
        if full {
            view.requests = Some(
                requests
                    .iter()
                    .map(|r| request_view(r, state, today))
                    .collect(),
            );
        }
        // Printed as a JSON value, its keys in order, as before.
        let mut v = serde_json::to_value(view)?;
        if full {
            let rows: Vec<_> = stats_rows(state, true)
                .into_iter()
                .filter(|r| r.agreement == id)
                .collect();
            v["statistics"] = serde_json::to_value(rows)?;
        }
        println!("{v}");
        return Ok(());
    }
    let t = &a.terms;
    let codes = |xs: Vec<&str>| xs.join(", ");
    println!("agreement {id}: {}", a.status(today));
    println!("  recipient        {}", t.recipient.as_str());
    println!("  source           {}", t.source.as_str());
    println!("  purpose          {}", t.purpose.as_str());
    println!("  legal authority  {}", t.legal_authority.as_str());
    println!(
        "  recipient gets   {}",
        codes(t.recipient_receives.iter().map(|e| e.code()).collect())
    );
    println!(
        "  registry gets    {}",
        codes(t.source_receives.iter().map(|e| e.code()).collect())
    );
    println!("  retention        {} days", t.retention_days);
    println!("  term             {} to {}", t.start, a.expiry());
    println!(
        "  adverse action   {}",
        if t.adverse_action {
            "may follow a verified match, after notice and 30 days"
        } else {
            "none"
        }
    );
    if let Some(c) = &t.law_enforcement {
        println!("  law enforcement  each record must show: {}", c.as_str());
    }
    println!("  recorded by      {} on {}", a.created.by, a.created.on);
    match &a.approved {
        Some(x) => println!("  approved by      {} on {}", x.by, x.on),
        None => println!("  approved by      (nobody yet)"),
    }
    if let Some((to, x)) = &a.renewed {
        println!("  renewed to       {to} by {} on {}", x.by, x.on);
    }
    let keys: Vec<&str> = state
        .keys
        .values()
        .filter(|(a, _)| *a == id)
        .map(|(_, n)| n.as_str())
        .collect();
    println!(
        "  agency keys      {}",
        if keys.is_empty() {
            "(none)".into()
        } else {
            keys.join(", ")
        }
    );
    if full {
        println!("requests:");
        for r in &requests {
            match &r.refused {
                Some(why) => println!("  {:>4}  {}  {}  refused: {why}", r.id, r.day, r.key),
                None => println!(
                    "  {:>4}  {}  {}  {} records, {} matched, {} disclosed{}",
                    r.id,
                    r.day,
                    r.key,
                    r.records,
                    r.matches.len(),
                    r.disclosed,
                    if r.law_enforcement.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} for law enforcement)", r.law_enforcement.len())
                    }
                ),
            }
            for n in 0..r.matches.len() as u32 {
                if let Some(c) = state.cases.get(&(r.id, n)) {
                    println!("        match {n}: {}", c.status(today).code());
                }
            }
        }
        if requests.is_empty() {
            println!("  (none)");
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AgreementsCommand {
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
pub struct AgreementsCreateArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The agency that sends its list and receives the matches.
    #[arg(long)]
    pub recipient: String,
    /// The agency whose records are matched (the registry's operator).
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub purpose: String,
    /// The statute or rule that allows the program.
    #[arg(long)]
    pub legal_authority: String,
    /// What the recipient may receive of a matched record, comma-separated: ssn, name, dob,
    /// deceased, date_of_death, death_source, status.
    #[arg(long)]
    pub recipient_receives: String,
    /// What the registry may receive of each listed person: name (required), dob, ssn.
    #[arg(long, default_value = "name,dob")]
    pub source_receives: String,
    /// Days the recipient may keep what it received.
    #[arg(long)]
    pub retention_days: u32,
    /// YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Date,
    /// YYYY-MM-DD, at most 18 months after the start.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expiry: Date,
    /// Matches may lead to adverse action (after verification, notice and 30 days).
    #[arg(long)]
    pub adverse_action: bool,
    /// A law-enforcement program: the criterion each listed person must meet (a case
    /// reference is then required per record).
    #[arg(long)]
    pub law_enforcement_criterion: Option<String>,
    /// Who records it.
    #[arg(long)]
    pub by: String,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct AgreementIdArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The agreement's number.
    #[arg(long)]
    pub id: u64,
    /// Who approves (for `approve`).
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct AgreementsRenewArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long)]
    pub id: u64,
    /// The new expiry, YYYY-MM-DD: at most 12 months after the current one.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub expiry: Date,
    #[arg(long)]
    pub by: String,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct AgreementsListArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}
