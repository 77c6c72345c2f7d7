//! What a newcomer hits on the command line (issue 21): each test is named after what went
//! wrong, and keeps it fixed.

use crate::{dmf, s, sample, stderr};

/// A numberholder CSV, a client CSV and NDJSON events, written by hand (not by `dmf synth`).
fn wrong_files(dir: &std::path::Path) -> [std::path::PathBuf; 3] {
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         078051120,Hilda,,Whitcher,,F,1912-06-14,NY\n",
    )
    .unwrap();
    let clients = dir.join("clients.csv");
    std::fs::write(
        &clients,
        "id,ssn,first,last,dob\nC1,078051120,Hilda,Whitcher,1912-06-14\n",
    )
    .unwrap();
    let events = dir.join("reports.ndjson");
    std::fs::write(
        &events,
        "{\"kind\":\"death_report\",\"ssn\":\"078051120\",\"date_of_death\":\"2001-02-03\"}\n",
    )
    .unwrap();
    [people, clients, events]
}

#[test]
fn a_file_of_the_wrong_kind_is_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let [people, clients, events] = wrong_files(dir.path());
    let data = dir.path().join("reg");
    assert!(dmf(&["init", "--data", s(&data)]).status.success());
    let dmf_file = sample("ssdm1.txt");
    // (arguments, what the error must say)
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["format", "check", s(&dmf_file), s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf format check` reads DMF files",
        ),
        (
            vec!["format", "convert", s(&events), "--to", "csv"],
            "reports.ndjson is NDJSON (a JSON object a line): `dmf format convert` reads DMF files",
        ),
        (
            vec!["submit", "--data", s(&data), s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf submit` reads NDJSON events",
        ),
        (
            vec!["import", "--data", s(&data), s(&events)],
            "it is NDJSON (a JSON object a line), not a numberholder CSV or a DMF file; NDJSON events are sent with `dmf submit`",
        ),
        (
            vec!["match", "--client", s(&clients), "--master", s(&people)],
            "people.csv is a CSV with columns ssn, first, middle, last, suffix, sex, dob, birth_state: `dmf match --master` reads a DMF file",
        ),
        (
            vec!["match", "--client", s(&dmf_file), "--master", s(&dmf_file)],
            "ssdm1.txt is a DMF file (100-character records): `dmf match --client` reads a CSV",
        ),
    ];
    for (args, expect) in cases {
        let out = dmf(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        // Before any work: nothing was checked, converted, stored or matched.
        assert!(out.stdout.is_empty(), "{args:?}: {}", crate::stdout(&out));
    }
    let show = dmf(&["show", "--data", s(&data), "--ssn", "078051120", "--json"]);
    assert!(
        !crate::stdout(&show).contains("death"),
        "{}",
        crate::stdout(&show)
    );
}

/// "Rust 1.88 or later" was false: locked crates needed 1.95. The workspace's `rust-version`
/// is the highest any locked crate declares, and README states it.
#[test]
fn the_stated_rust_version_was_lower_than_the_locked_crates_need() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The crates built here: those of other platforms may not even be downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8(rustc.stdout).unwrap();
    let host = host
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .to_owned();
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(&root)
        .output()
        .expect("runs cargo metadata");
    assert!(out.status.success(), "{}", stderr(&out));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = |v: &str| -> (u32, u32) {
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap_or(0))
    };
    let packages = meta["packages"].as_array().unwrap();
    let (needed, by) = packages
        .iter()
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["name"].as_str()?)))
        .max()
        .unwrap();
    let stated: Vec<(u32, u32)> = packages
        .iter()
        .filter(|p| p["source"].is_null())
        .map(|p| {
            version(
                p["rust_version"]
                    .as_str()
                    .expect("every crate of ours states it"),
            )
        })
        .collect();
    assert!(
        stated.iter().all(|&v| v == needed),
        "{stated:?} vs {needed:?} ({by})"
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let said = format!("Rust toolchain ({}.{} or later", needed.0, needed.1);
    assert!(readme.contains(&said), "README does not say {said:?}");
}

/// Runs `dmf` and gives its exit code and what it printed on both streams.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = dmf(args);
    let text = format!("{}{}", crate::stdout(&out), stderr(&out));
    (out.status.code(), text)
}

/// The usual slips with the log's files get a hint, each error is said once, and a recount
/// checked with the export's own key says that it trusted that key.
#[test]
fn log_slips_get_hints_and_errors_are_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (data, other) = (p("reg"), p("other"));
    for d in [&data, &other] {
        assert!(dmf(&["init", "--data", s(d)]).status.success());
    }
    let save = |name: &str, args: &[&str]| {
        let out = dmf(args);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::write(p(name), &out.stdout).unwrap();
        p(name)
    };
    let note = save("cp.note", &["log", "checkpoint", "--data", s(&data)]);
    let json = save(
        "cp.json",
        &["log", "checkpoint", "--data", s(&data), "--json"],
    );
    let others = save("other.note", &["log", "checkpoint", "--data", s(&other)]);
    let proof = save(
        "proof.txt",
        &[
            "log",
            "consistency",
            "--data",
            s(&data),
            "--from",
            "0",
            "--to",
            "0",
        ],
    );
    let public = data.join("log/key.pub");
    let secret = data.join("log/signing.key");
    let export = p("export");
    assert!(
        dmf(&["log", "export", "--data", s(&data), "--out", s(&export)])
            .status
            .success()
    );
    // (arguments, exit code, what the output must say)
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&json),
                "--key",
                s(&public),
            ],
            1,
            "cp.json is JSON, not a signed checkpoint note: save the note with `dmf log checkpoint` (without --json)",
        ),
        (
            vec![
                "audit",
                "verify",
                "--data",
                s(&data),
                "--checkpoint",
                s(&json),
            ],
            2,
            "cp.json is JSON, not a signed checkpoint note",
        ),
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&note),
                "--key",
                s(&secret),
            ],
            2,
            "is the log's secret signing key, not its verifier key: give the verifier key (log/key.pub",
        ),
        (
            vec![
                "log",
                "verify",
                "--checkpoint",
                s(&note),
                "--key",
                s(&public),
                "--proof",
                s(&proof),
            ],
            1,
            "proof.txt is not JSON: save the proof with `dmf log prove --json` or `dmf log consistency --json`",
        ),
        (
            vec![
                "audit",
                "verify",
                "--data",
                s(&data),
                "--checkpoint",
                s(&others),
            ],
            2,
            "dmf: error: the checkpoint given: note has no signature by key",
        ),
        (
            vec!["stats", "--verify", s(&export)],
            0,
            "NOTE the checkpoint was checked with the key in the export itself",
        ),
    ];
    for (args, code, expect) in cases {
        let (got, text) = run(&args);
        assert_eq!(got, Some(code), "{args:?}: {text}");
        assert!(text.contains(expect), "{args:?}: {text}");
        // No sentence twice (the error printed with its own cause said everything twice).
        for line in text.lines() {
            let parts: Vec<&str> = line.split(": ").collect();
            for (i, part) in parts.iter().enumerate() {
                assert!(
                    part.len() < 12 || !parts[i + 1..].contains(part),
                    "{args:?}: said twice: {line}"
                );
            }
        }
    }
    // With the key from elsewhere, nothing was trusted, and nothing is said about it.
    let (code, text) = run(&["stats", "--verify", s(&export), "--key", s(&public)]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("NOTE"), "{text}");
}

/// The demo's log carried colour codes into a pipe (and so into log files), its credentials
/// were left to the umask, and `dmf keys list` left out what a reporter reports as and which
/// authority an authority's key speaks for.
#[test]
fn the_demo_logged_colour_codes_into_a_pipe_and_keys_list_hid_sources_and_authorities() {
    use std::io::{BufRead, Read};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dmf"))
        .args(["serve", "--demo", "--demo-people", "50", "--data", s(&data)])
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("dmf demo listening on "), "{line:?}");
    let mode = std::fs::metadata(data.join("demo-credentials.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let keys = dmf(&["keys", "list", "--data", s(&data)]);
    let _ = child.kill();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = child.wait();
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
    let keys = crate::stdout(&keys);
    let reporter = keys.lines().find(|l| l.contains("\treporter")).unwrap();
    assert!(
        // The demo's state key is New York's, for FHIR VRDR messages.
        reporter.ends_with("\treporter\tsource state\tjurisdiction NY"),
        "{reporter:?}"
    );
    let authority = keys.lines().find(|l| l.contains("\tauthority")).unwrap();
    assert!(
        authority.contains("\tauthority\tauthority "),
        "{authority:?}"
    );
}

/// `dmf synth --out` wrote its files into a folder holding a registry or other files.
#[test]
fn synth_wrote_into_a_folder_holding_a_registry_or_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("reg");
    assert!(dmf(&["init", "--data", s(&registry)]).status.success());
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let synth = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["synth", "--people", "100", "--seed", "2", "--out", s(out)];
        args.extend(extra);
        dmf(&args)
    };
    for (out, expect) in [
        (
            &registry,
            "holds a registry: write the synthetic files elsewhere, or give --overwrite",
        ),
        (
            &mine,
            "holds other files (notes.txt): write the synthetic files elsewhere, or give --overwrite",
        ),
    ] {
        let o = synth(out, &[]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
        assert!(!out.join("people.csv").exists());
    }
    // A new folder, a rerun into the same folder, and --overwrite are fine.
    let fresh = dir.path().join("fresh");
    assert!(synth(&fresh, &[]).status.success());
    assert!(synth(&fresh, &[]).status.success());
    assert!(synth(&mine, &["--overwrite"]).status.success());
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// `dmf agreements create` printed `dmf agreements approve --id N` as the next command, which
/// fails as written (no --data, no --by). The command printed runs as the approver would.
#[test]
fn agreements_create_printed_a_next_command_that_did_not_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("my registry");
    assert!(dmf(&["init", "--data", s(&data)]).status.success());
    let today = dmf_registry::today_utc().to_string();
    let start = format!("{}-01", &today[..7]);
    let year: u32 = today[..4].parse().unwrap();
    let expiry = format!("{}{}", year + 1, &start[4..]);
    let out = dmf(&[
        "agreements",
        "create",
        "--data",
        s(&data),
        "--recipient",
        "State Benefits Agency",
        "--source",
        "Registry",
        "--purpose",
        "stop payments to the deceased",
        "--legal-authority",
        "42 U.S.C. 1320b-7",
        "--recipient-receives",
        "deceased,date_of_death",
        "--retention-days",
        "90",
        "--start",
        &start,
        "--expiry",
        &expiry,
        "--by",
        "ann",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let next = err
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("dmf agreements approve"))
        .unwrap_or_else(|| panic!("no next command: {err}"));
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(next.replacen("dmf", "\"$DMF\"", 1))
        .env("DMF", env!("CARGO_BIN_EXE_dmf"))
        .env("USER", "bob")
        .output()
        .unwrap();
    assert!(run.status.success(), "{next}: {}", stderr(&run));
    let shown = dmf(&[
        "agreements",
        "show",
        "--data",
        s(&data),
        "--id",
        "1",
        "--json",
    ]);
    assert!(
        crate::stdout(&shown).contains("bob"),
        "{}",
        crate::stdout(&shown)
    );
}

/// Every `dmf` command README's shell blocks show exists, with every flag it names: the tour is
/// what a newcomer types first.
#[test]
fn the_readme_shows_commands_and_flags_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut in_shell = false;
    let mut checked = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        if !in_shell {
            continue;
        }
        let code = line.split(" #").next().unwrap();
        for command in code.split("&&").flat_map(|c| c.split(" | ")) {
            let words: Vec<&str> = command.split_whitespace().collect();
            if words.first() != Some(&"dmf") {
                continue;
            }
            // The subcommands: the lower-case words before the first flag or argument, with
            // `list|show` for either.
            let path: Vec<&str> = words[1..]
                .iter()
                .copied()
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '|'))
                .take(2)
                .collect();
            let second: Vec<Option<&str>> = match path.get(1) {
                Some(w) => w.split('|').map(Some).collect(),
                None => vec![None],
            };
            for sub in second {
                let mut args = vec![path[0]];
                args.extend(sub);
                args.push("--help");
                let help = dmf(&args);
                let mut text = crate::stdout(&help);
                if !help.status.success() {
                    // `dmf log checkpoint` is a subcommand; `dmf show FOO` is not.
                    let out = dmf(&[path[0], "--help"]);
                    assert!(out.status.success(), "README: {line}: {}", stderr(&out));
                    text = crate::stdout(&out);
                }
                flags_exist(line, &words, &args, &text);
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} commands found in README");
    assert!(
        root.join("crates/dmf/Cargo.toml").is_file(),
        "the install path README gives"
    );
}

/// Every `--flag` among `words` is in the `help` of the command `args` ran.
fn flags_exist(line: &str, words: &[&str], args: &[&str], help: &str) {
    for flag in words.iter().filter_map(|w| {
        let w = w.trim_start_matches('[');
        w.starts_with("--").then(|| {
            w.trim_end_matches([']', '.'])
                .split(['=', '|', ']'])
                .next()
                .unwrap()
        })
    }) {
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "README: {line}: `dmf {}` has no {flag}",
            args.join(" ")
        );
    }
}
