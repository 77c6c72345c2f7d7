//! `dmf init`, `dmf import`, `dmf submit`, `dmf show` and `dmf verify`: the registry from the
//! command line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use dmf_model::{Date, Ssn};
use dmf_registry::answers::{self, IdentityQuery};
use dmf_registry::event::decision_code;
use dmf_registry::render;
use dmf_registry::state::{NoticeStatus, PersonState};
use dmf_registry::{Outcome, Registry, Rejection, Submission, parse_line};
use serde_json::{Value, json};

use clap::{Args, ValueEnum};

use crate::args::{Database, Output, RegistryArgs, Today};
use crate::progress;

pub use dmf_registry::now_ms;

pub fn init(args: &InitArgs) -> Result<ExitCode> {
    let registry = crate::backend::init(&args.data, args.origin.as_deref(), args.database.url())?;
    let key = dmf_ledger::log::LogFiles::open(registry.dir())?.verifier;
    if args.output.json {
        println!(
            "{}",
            json!({
                "data": args.data.display().to_string(),
                "initialized": true,
                "origin": key.name(),
                "public_key": key.to_text(),
            })
        );
    } else {
        println!("initialized an empty registry in {}", args.data.display());
        println!("log origin: {}", key.name());
        println!("public key: {}", key.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import(args: &ImportArgs, quiet: bool) -> Result<ExitCode> {
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let mut files = Vec::new();
    let (mut added, mut rejected, mut records, mut conflicts, mut held) = (0, 0, 0, 0, 0);
    for path in &args.files {
        let bar = progress::spinner("records", quiet);
        let summary =
            dmf_registry::import_file(&registry, path, today, now_ms(), &|n| bar.set_position(n))
                .with_context(|| format!("cannot import {}", path.display()))?;
        bar.finish_and_clear();
        added += summary.events_added;
        rejected += summary.rejected;
        records += summary.records;
        conflicts += summary.conflicts;
        held += summary.held;
        if !args.output.json {
            let mut notes = Vec::new();
            if summary.conflicts > 0 {
                notes.push(format!(
                    "{} conflicting with the identity on file",
                    summary.conflicts
                ));
            }
            if summary.held > 0 {
                notes.push(format!(
                    "{} held: they name someone other than the numberholder on file",
                    summary.held
                ));
            }
            println!(
                "{}: {} records ({}), {} events added, {} already imported, {} rejected{}{}",
                path.display(),
                summary.records,
                summary.format,
                summary.events_added,
                summary.already_imported,
                summary.rejected,
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                },
                summary
                    .rejects_file
                    .as_ref()
                    .map_or(String::new(), |p| format!(" (reasons in {})", p.display())),
            );
        }
        files.push(json!({
            "file": path.display().to_string(),
            "format": summary.format,
            "records": summary.records,
            "events_added": summary.events_added,
            "already_imported": summary.already_imported,
            "rejected": summary.rejected,
            "conflicts": summary.conflicts,
            "held": summary.held,
            "rejects_file": summary.rejects_file.map(|p| p.display().to_string()),
        }));
    }
    // After loading an empty registry the writer holds everyone: written now, the first start
    // of `dmf serve` reads it instead of replaying what was just imported.
    // Everything is stored already: a snapshot that cannot be written costs the next start
    // its time, not the import its result.
    let snapshot = if added > 0 && !registry.shared() {
        registry.snapshot_writer_index().unwrap_or_else(|e| {
            eprintln!("warning: no index snapshot written: {e}");
            None
        })
    } else {
        None
    };
    if args.output.json {
        let snapshot =
            snapshot.map(|w| json!({ "size": w.size, "people": w.people, "bytes": w.bytes }));
        println!(
            "{}",
            json!({ "files": files, "records": records, "events_added": added, "rejected": rejected, "conflicts": conflicts, "held": held, "snapshot": snapshot })
        );
    } else if let Some(w) = snapshot {
        println!(
            "index snapshot at tree size {}: {} people, {} bytes",
            w.size, w.people, w.bytes
        );
    }
    // A numberholder record that would change an identity is an error the operator must see.
    Ok(if conflicts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn submit(args: &SubmitArgs) -> Result<ExitCode> {
    for file in &args.files {
        let (kinds, reads): (&[dmf_format::FileKind], &str) = match args.format {
            SubmitFormat::Ndjson => (
                &[dmf_format::FileKind::Ndjson, dmf_format::FileKind::Empty],
                "NDJSON events (one JSON object a line)",
            ),
            SubmitFormat::Vrdr => (
                &[
                    dmf_format::FileKind::Json,
                    dmf_format::FileKind::Ndjson,
                    dmf_format::FileKind::Empty,
                ],
                "FHIR VRDR messages (JSON: one message, a batch Bundle, or one message a line)",
            ),
        };
        crate::format_cmd::refuse_wrong_kind(file, kinds, "dmf submit", reads)?;
    }
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let mut rejected = 0u64;
    for file in &args.files {
        rejected += match args.format {
            SubmitFormat::Ndjson => submit_events(args, &registry, file)?,
            SubmitFormat::Vrdr => submit_vrdr(args, &registry, file)?,
        };
    }
    Ok(if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The bytes of a file, or of standard input for `-`.
fn read_input(file: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        io::stdin().lock().read_to_end(&mut bytes)
    } else {
        File::open(file)
            .with_context(|| format!("cannot open {}", file.display()))?
            .read_to_end(&mut bytes)
    }
    .with_context(|| format!("cannot read {}", file.display()))?;
    Ok(bytes)
}

/// FHIR VRDR messages of one file, stored `--batch-size` messages a transaction; one answer
/// printed a message. The number refused.
fn submit_vrdr(args: &SubmitArgs, registry: &Registry, file: &Path) -> Result<u64> {
    use dmf_registry::vrdr;
    let today = args.today.get();
    let name = file.display().to_string();
    let bytes = read_input(file)?;
    // One message a line, or one document (a message or a batch) over many.
    let kind = dmf_format::sniff::sniff(&bytes);
    let docs: Vec<(Option<usize>, &[u8])> = if kind == dmf_format::FileKind::Ndjson {
        bytes
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, l)| l.iter().any(|b| !b.is_ascii_whitespace()))
            .map(|(i, l)| (Some(i + 1), l))
            .collect()
    } else if kind == dmf_format::FileKind::Empty {
        Vec::new()
    } else {
        vec![(None, &bytes[..])]
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut rejected = 0u64;
    for chunk in docs.chunks(args.batch_size.max(1)) {
        let mut at = Vec::new();
        let mut read = vrdr::Read {
            batch: true,
            messages: Vec::new(),
        };
        for (line, doc) in chunk {
            let r = vrdr::read(doc);
            at.extend(std::iter::repeat_n(*line, r.messages.len()));
            read.messages.extend(r.messages);
        }
        let answers = vrdr::store_and_answer(registry, &read, None, today, now_ms())?;
        for (line, a) in at.into_iter().zip(answers) {
            rejected += u64::from(!a.ok);
            if args.output.json {
                serde_json::to_writer(&mut out, &a.answer)?;
                writeln!(out)?;
            } else {
                let place = line.map_or(name.clone(), |l| format!("{name}:{l}"));
                let message = a.message.as_deref().unwrap_or("(no id)");
                writeln!(out, "{place}: message {message}: {}", a.summary)?;
            }
        }
        // What is printed is durable: let whoever reads it know at once.
        out.flush()?;
    }
    Ok(rejected)
}

/// NDJSON events of one file; the number rejected.
fn submit_events(args: &SubmitArgs, registry: &Registry, file: &Path) -> Result<u64> {
    let today = args.today.get();
    let name = file.display().to_string();
    let input: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(BufReader::new(
            File::open(file).with_context(|| format!("cannot open {name}"))?,
        ))
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut rejected = 0u64;
    let mut pending: Vec<(u64, Result<Submission, Rejection>)> = Vec::new();
    let mut flush = |pending: &mut Vec<(u64, Result<Submission, Rejection>)>,
                     out: &mut dyn Write|
     -> Result<()> {
        let (lines, parsed): (Vec<u64>, Vec<_>) = pending.drain(..).unzip();
        let ok: Vec<Submission> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut results = registry.submit(ok, now_ms())?.into_iter();
        for (line, p) in lines.into_iter().zip(parsed) {
            let result = match p {
                Ok(_) => results.next().expect("one result per submission"),
                Err(r) => Err(r),
            };
            rejected += u64::from(result.is_err());
            if args.output.json {
                serde_json::to_writer(&mut *out, &dmf_registry::render::result(line, &result))?;
                writeln!(out)?;
            } else {
                match &result {
                    Ok(a) => {
                        let detail = match &a.outcome {
                            Outcome::HeldForReview(reason) => format!(": {reason}"),
                            Outcome::Held {
                                reason,
                                differences,
                            } => {
                                let said: Vec<String> =
                                    differences.iter().map(ToString::to_string).collect();
                                if said.is_empty() {
                                    format!(": {}", reason.code())
                                } else {
                                    format!(": {} ({})", reason.code(), said.join("; "))
                                }
                            }
                            Outcome::NoticeRecorded { contest_deadline } => {
                                format!(", contest deadline {contest_deadline}")
                            }
                            Outcome::Decided { notice, upheld } => {
                                format!(": contest of notice {notice} {}", decision_code(*upheld))
                            }
                            _ => String::new(),
                        };
                        writeln!(
                            out,
                            "{name}:{line}: accepted as event {}: {}{detail}",
                            a.seq,
                            a.outcome.code()
                        )?;
                    }
                    Err(r) => writeln!(out, "{name}:{line}: rejected: {}: {}", r.path, r.reason)?,
                }
            }
        }
        // What is printed is durable: let whoever reads it know at once.
        out.flush()?;
        Ok(())
    };
    for (i, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = parse_line(&line, today).map(|sub| {
            let caller = sub.command_line_caller();
            sub.scoped(&caller)
        });
        pending.push((i as u64 + 1, parsed));
        if pending.len() >= args.batch_size.max(1) {
            flush(&mut pending, &mut out)?;
        }
    }
    flush(&mut pending, &mut out)?;
    out.flush()?;
    Ok(rejected)
}

fn state_json(state: Option<&PersonState>, today: Date) -> Value {
    let Some(s) = state else {
        return json!({ "on_file": false });
    };
    let death = s.death.map(|d| {
        json!({
            "dod": d.dod.to_string(),
            "source": d.source.code(),
            "verification": match d.verification.code() { b' ' => Value::Null, c => (c as char).to_string().into() },
            "established_by": d.established_by,
        })
    });
    let extra = s.extra();
    let notices: Vec<Value> = s
        .notices()
        .iter()
        .map(|n| {
            // An uncontested notice in force is still `open` to a contest until its deadline.
            let status = match n.status(today) {
                NoticeStatus::InForce if today <= n.contest_deadline => "open",
                NoticeStatus::InForce => "final",
                other => other.code(),
            };
            let mut v = json!({
                "seq": n.seq, "kind": n.kind.code(), "authority": n.authority.as_str(),
                "effective": n.effective.to_string(), "notice_sent": n.notice_sent.to_string(),
                "contest_deadline": n.contest_deadline.to_string(), "status": status,
                "contested_by": n.contested_by,
            });
            if let Some(d) = n.decision {
                v["decision"] = json!({ "seq": d.seq, "decision": decision_code(d.upheld) });
            }
            v
        })
        .collect();
    let employment = answers::employment_status(s, today).code();
    let benefits_suspended = s
        .notices()
        .iter()
        .any(|n| n.kind.affects_benefits() && n.in_force(today));
    let mut current = json!({
        "on_file": true,
        "issued": s.issued(),
        "name": s.identity.as_ref().map(|i| format!("{} {}", i.first, i.last)),
        "dob": s.identity.as_ref().and_then(|i| i.dob).map(|d| d.to_string()),
        "answers": {
            "identity": { "deceased": s.death.is_some() },
            "employment": employment,
            "benefits": { "deceased": s.death.is_some(), "suspended": benefits_suspended },
        },
        "death": death,
        "pending_reports": extra.map_or(vec![], |e| e.pending.iter().map(|p| json!({"seq": p.seq, "dod": p.dod.to_string(), "source": p.source.code()})).collect()),
        "held_for_review": extra.map_or(vec![], |e| e.review.iter().map(|r| json!({"seq": r.seq, "reason": r.reason})).collect()),
        "held_for_identity": s.held().iter().map(held_json).collect::<Vec<_>>(),
        "corrected_deaths": extra.map_or(vec![], |e| e.corrected.iter().map(|c| json!({"dod": c.dod.to_string(), "corrected_by": c.corrected_by})).collect()),
        "notices": notices,
    });
    if let Some(id) = &s.identity {
        current["sex"] = id.sex.map(|x| x.code()).into();
    }
    if let Some(e) = extra.filter(|e| !e.former.is_empty() || !e.proposed.is_empty()) {
        current["former_identities"] = e
            .former
            .iter()
            .map(|i| json!({ "name": format!("{} {}", i.first, i.last), "dob": i.dob.map(|d| d.to_string()) }))
            .collect();
        current["proposed_identity_changes"] = e
            .proposed
            .iter()
            .filter(|p| p.decided.is_none())
            .map(|p| json!({ "seq": p.seq, "requested_by": p.change.requested_by.as_str() }))
            .collect();
    }
    // Only when presumed, so that every other person's state reads as before.
    if let Some(seq) = s.presumed() {
        current["presumed_deceased"] = json!({ "seq": seq });
        current["answers"]["identity"]["presumed_deceased"] = true.into();
        current["answers"]["benefits"]["presumed_deceased"] = true.into();
    }
    current
}

/// A report or notice held for its identity, with each field that differs.
fn held_json(h: &dmf_registry::state::Held) -> Value {
    use dmf_registry::state::HeldStatus;
    let status = match &h.status {
        HeldStatus::Open { confirmed_by: None } => json!({ "status": "open" }),
        HeldStatus::Open {
            confirmed_by: Some(by),
        } => json!({ "status": "open", "confirmed_by": by.as_str() }),
        HeldStatus::Confirmed { by } => json!({ "status": "confirmed", "by_event": by }),
        HeldStatus::Rejected { by } => json!({ "status": "rejected", "by_event": by }),
        HeldStatus::Withdrawn { by } => json!({ "status": "withdrawn", "by_event": by }),
    };
    let mut v = json!({
        "seq": h.seq,
        "reason": h.reason.code(),
        "from": h.item.group(),
        "differences": render::differences_json(&h.differences),
    });
    for (k, x) in status.as_object().expect("an object") {
        v[k] = x.clone();
    }
    v
}

pub fn show(args: &ShowArgs) -> Result<ExitCode> {
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let ssn: Ssn = args
        .ssn
        .parse()
        .with_context(|| format!("--ssn {:?}", args.ssn))?;
    let today = args.today.get();
    let history = registry.history(ssn)?;
    let mut state = PersonState::default();
    let mut events = Vec::new();
    for (stored, event) in &history {
        let outcome = state.apply(stored.seq, event);
        let body: Value = serde_json::from_slice(&stored.body).unwrap_or(Value::Null);
        events.push(json!({
            "seq": stored.seq,
            "recorded_at": format_ms(stored.recorded_at),
            "type": stored.kind,
            "outcome": outcome.code(),
            "event": body,
        }));
    }
    // The wrong records stay in the history, marked with the correction that undid them.
    if let Some(extra) = state.extra() {
        for c in &extra.corrected {
            if let Some(e) = events.iter_mut().find(|e| e["seq"] == c.report) {
                e["corrected_by"] = c.corrected_by.into();
            }
        }
    }
    let current = state_json((!history.is_empty()).then_some(&state), today);
    let mut out = io::stdout().lock();
    if args.output.json {
        writeln!(
            out,
            "{}",
            json!({ "ssn": ssn.to_string(), "current": current, "history": events })
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "SSN {}", ssn.dashed())?;
    if let Some(seq) = state.presumed() {
        // Said apart from the JSON so that nobody reads a presumption as a death.
        writeln!(
            out,
            "presumed deceased (event {seq}), not recorded as deceased"
        )?;
    }
    writeln!(
        out,
        "current:\n{}",
        indent(&serde_json::to_string_pretty(&current)?)
    )?;
    writeln!(out, "history ({} events):", events.len())?;
    for e in &events {
        let mut fields = Vec::new();
        if let Some(map) = e["event"].as_object() {
            for (k, v) in map {
                if k != "ssn" {
                    fields.push(format!(
                        "{k}={}",
                        v.as_str().map_or(v.to_string(), str::to_owned)
                    ));
                }
            }
        }
        let corrected = e["corrected_by"]
            .as_u64()
            .map_or(String::new(), |c| format!(" [corrected by #{c}]"));
        writeln!(
            out,
            "  #{} {} {} -> {}: {}{corrected}",
            e["seq"],
            e["recorded_at"].as_str().unwrap_or(""),
            e["type"].as_str().unwrap_or(""),
            e["outcome"].as_str().unwrap_or(""),
            fields.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A timestamp in ISO 8601, UTC, to the second.
fn format_ms(ms: i64) -> String {
    // The leaf's time, to the second.
    let t = dmf_ledger::leaf::format_time(ms);
    format!("{}Z", &t[..19])
}

pub fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let query = IdentityQuery {
        ssn: args
            .ssn
            .parse()
            .with_context(|| format!("--ssn {:?}", args.ssn))?,
        first: args.first.clone(),
        last: args.last.clone(),
        dob: args
            .dob
            .parse()
            .with_context(|| format!("--dob {:?}", args.dob))?,
    };
    let state = registry.state_of(query.ssn)?;
    let purpose = match args.purpose {
        Purpose::Identity => render::Purpose::Identity,
        Purpose::Employment => render::Purpose::Employment,
        Purpose::Benefits => render::Purpose::Benefits,
    };
    // What a key of this purpose gets; the operator's full view is `dmf show`.
    let answer = render::answer_for(purpose, &query, state.as_ref(), today, registry.is_mirror());
    if args.output.json {
        println!("{answer}");
    } else {
        let fields: Vec<String> = answer
            .as_object()
            .expect("an object")
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", v.as_str().map_or(v.to_string(), str::to_owned)))
            .collect();
        println!("{}", fields.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn quality(args: &QualityArgs) -> Result<ExitCode> {
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let index = registry.load_index()?;
    let cfg = dmf_registry::oversight::quality::QualityConfig {
        today,
        max_age: args.max_age,
        pending_days: args.pending_days,
        samples: args.samples,
    };
    let mut report = dmf_registry::oversight::quality::report(
        &index,
        &cfg,
        &dmf_registry::oversight::quality::received_in(&registry),
    );
    if let Some(path) = &args.published {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let published =
            dmf_registry::oversight::quality::read_published(std::io::BufReader::new(file))
                .with_context(|| format!("reading {}", path.display()))?;
        let (_, ours) =
            dmf_registry::distribution::full_file(&registry, args.audience.audience(), today)?;
        report
            .findings
            .extend(dmf_registry::oversight::quality::compare_published(
                &ours,
                &published,
                args.samples,
            ));
    }
    if args.output.json {
        println!("{}", report.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "quality of {} people ({} events) on {}",
        report.people, report.head, report.today
    );
    for f in &report.findings {
        println!("{:>10}  {} ({})", f.count, f.description, f.code);
        for (ssn, detail) in &f.samples {
            println!("            {ssn}  {detail}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `dmf presume`: presumed_deceased for everyone past an age, in batches that are each
/// durable before the next; a re-run after an interruption covers the rest.
pub fn presume(args: &PresumeArgs) -> Result<ExitCode> {
    use dmf_model::Reference;
    use dmf_registry::event::{Event, PresumptionEvent};
    let registry = crate::backend::open(&args.registry.data, args.registry.database.url())?;
    let today = args.today.get();
    let reference =
        |flag: &str, text: &str| Reference::new(text).with_context(|| format!("--{flag} {text:?}"));
    let criterion = reference(
        "criterion",
        &args
            .criterion
            .clone()
            .unwrap_or_else(|| format!("age over {} with no death recorded", args.older_than)),
    )?;
    let legal_basis = reference("legal-basis", &args.legal_basis)?;
    let recorded_by = reference("recorded-by", &args.recorded_by)?;
    let index = registry.load_index()?;
    let candidates =
        dmf_registry::oversight::quality::presumption_candidates(&index, today, args.older_than);
    drop(index);
    let mut recorded = 0u64;
    let mut refused = 0u64;
    if !args.dry_run {
        for chunk in candidates.chunks(10_000) {
            let subs = chunk
                .iter()
                .map(|&ssn| Submission {
                    event: Event::Presumption(PresumptionEvent {
                        ssn,
                        criterion: criterion.clone(),
                        legal_basis: legal_basis.clone(),
                        recorded_by: recorded_by.clone(),
                    }),
                    idempotency_key: None,
                })
                .collect();
            for r in registry.submit(subs, now_ms())? {
                // Someone else's write between the scan and this batch (a death, say) is
                // refused by the registry's own checks, not overwritten.
                match r {
                    Ok(_) => recorded += 1,
                    Err(_) => refused += 1,
                }
            }
        }
    }
    let samples: Vec<String> = candidates
        .iter()
        .take(args.samples)
        .map(|s| s.to_string())
        .collect();
    if args.output.json {
        println!(
            "{}",
            json!({
                "today": today.to_string(), "older_than": args.older_than,
                "criterion": criterion.as_str(), "legal_basis": legal_basis.as_str(),
                "candidates": candidates.len(), "recorded": recorded, "refused": refused,
                "dry_run": args.dry_run, "samples": samples,
            })
        );
    } else {
        let verb = if args.dry_run {
            "would presume"
        } else {
            "presumed"
        };
        println!(
            "{verb} {} people older than {} on {today} ({}; {})",
            if args.dry_run {
                candidates.len() as u64
            } else {
                recorded
            },
            args.older_than,
            criterion.as_str(),
            legal_basis.as_str()
        );
        if refused > 0 {
            println!("{refused} refused: their state changed since the scan");
        }
        for s in &samples {
            println!("  {s}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data folder (created if missing).
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub database: Database,
    /// The name of the log in its checkpoints, a schema-less URL such as
    /// `registry.example.gov/dmf` (default: `dmf-registry/` and 8 random hex digits).
    #[arg(long)]
    pub origin: Option<String>,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Files to import: a CSV with a header naming ssn, first, last (and middle, suffix, sex,
    /// dob, birth_state), or DMF fixed-width files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Files of events (NDJSON), or of FHIR VRDR messages with `--format vrdr`; `-` reads
    /// standard input.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// `ndjson`: the registry's events, one JSON object a line. `vrdr`: FHIR VRDR messages
    /// (submission, update, void, alias) as a state sends them: a file of one message, of a
    /// `batch` Bundle, or NDJSON of messages; each is answered with an acknowledgement or an
    /// extraction error (the FHIR answer itself with `--json`).
    #[arg(long, value_enum, default_value_t = SubmitFormat::Ndjson)]
    pub format: SubmitFormat,
    #[command(flatten)]
    pub today: Today,
    /// Lines stored per transaction; their results are printed once they are durable.
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: usize,
    #[command(flatten)]
    pub output: Output,
}

/// What `dmf submit` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubmitFormat {
    Ndjson,
    Vrdr,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long)]
    pub ssn: String,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Purpose {
    Identity,
    Employment,
    Benefits,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long)]
    pub ssn: String,
    #[arg(long)]
    pub first: String,
    #[arg(long)]
    pub last: String,
    /// Date of birth: YYYY-MM-DD, YYYY-MM or YYYY.
    #[arg(long)]
    pub dob: String,
    #[arg(long)]
    pub purpose: Purpose,
    #[command(flatten)]
    pub today: Today,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct QualityArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub today: Today,
    /// Alive past this age is implausible.
    #[arg(long, default_value_t = 115)]
    pub max_age: i32,
    /// A report pending longer than this many days is overdue.
    #[arg(long, default_value_t = 30)]
    pub pending_days: i32,
    /// Examples shown of each finding.
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    /// A published DMF full file to hold against what the registry publishes today for
    /// `--audience`: deaths missing from it, records in it the registry does not publish, and
    /// records whose fields differ.
    #[arg(long, value_name = "FILE")]
    pub published: Option<PathBuf>,
    /// Whom the published file was made for.
    #[arg(long, value_enum, default_value = "certified", requires = "published")]
    pub audience: AudienceArg,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct PresumeArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Presume people older than this many whole years (counted from the latest day their
    /// date of birth allows).
    #[arg(long, value_parser = clap::value_parser!(i32).range(100..=150))]
    pub older_than: i32,
    /// The criterion recorded on each event (default: "age over N with no death recorded").
    #[arg(long)]
    pub criterion: Option<String>,
    /// The law or rule that allows the presumption, recorded on each event.
    #[arg(long)]
    pub legal_basis: String,
    /// Who records it (operator name or id).
    #[arg(long)]
    pub recorded_by: String,
    #[command(flatten)]
    pub today: Today,
    /// Count and list whom it would cover; record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Examples listed.
    #[arg(long, default_value_t = 10)]
    pub samples: usize,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudienceArg {
    /// Subscribers certified under the limited-access rule (recent deaths included).
    Certified,
    /// Uncertified subscribers (deaths of the last three years withheld).
    Uncertified,
    /// Federal benefit programs (state-reported deaths included).
    Benefits,
}

impl AudienceArg {
    pub fn audience(self) -> dmf_registry::distribution::Audience {
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
