//! The signed Merkle log from the command line: audit, rollback, keys, export, proofs, stats.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{dmf, s, stderr, stdout};

/// A registry made from a synthetic population: its people, its DMF file and the death
/// reports received after it.
struct Fixture {
    dir: tempfile::TempDir,
    data: PathBuf,
    synth: PathBuf,
}

impl Fixture {
    fn new(people: u64) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let synth = dir.path().join("synth");
        let people_arg = people.to_string();
        let out = dmf(&[
            "synth",
            "--people",
            &people_arg,
            "--seed",
            "7",
            "--as-of",
            "2025-06-30",
            "--out",
            s(&synth),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = dmf(&["init", "--data", s(&data), "--origin", "dmf.test/registry"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = dmf(&[
            "-q",
            "import",
            "--data",
            s(&data),
            s(&synth.join("people.csv")),
            s(&synth.join("dmf.txt")),
            "--today",
            "2025-06-30",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = dmf(&[
            "submit",
            "--data",
            s(&data),
            s(&synth.join("reports.ndjson")),
            "--today",
            "2025-07-30",
            "--batch-size",
            "100",
        ]);
        // Some synthetic reports are meant to be refused (exit 1); none may fail (exit 2).
        assert!(out.status.code() != Some(2), "{}", stderr(&out));
        Fixture { dir, data, synth }
    }

    fn d(&self) -> &str {
        s(&self.data)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn audit(&self, extra: &[&str]) -> (bool, Value) {
        let mut args = vec!["audit", "verify", "--data", self.d(), "--json"];
        args.extend(extra);
        let out = dmf(&args);
        assert!(out.status.code() != Some(2), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.success(), v)
    }

    fn head(&self) -> u64 {
        let out = dmf(&["log", "checkpoint", "--data", self.d(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["size"].as_u64().unwrap()
    }

    fn save_checkpoint(&self, name: &str) -> PathBuf {
        let out = dmf(&["log", "checkpoint", "--data", self.d()]);
        assert!(out.status.success(), "{}", stderr(&out));
        let path = self.path(name);
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    /// Submits status notices for `ssns` from one authority; returns how many were recorded.
    fn notices(&self, ssns: &[String], authority: &str, basis: &str) -> u64 {
        // Each notice names the person as the authority has them: the numberholder's name.
        type Named = (String, String, String, String);
        let names: std::collections::HashMap<String, Named> = self
            .people()
            .iter()
            .map(|p| {
                let named = (
                    p[1].to_owned(),
                    p[3].to_owned(),
                    p[4].to_owned(),
                    p[6].to_owned(),
                );
                (p[0].to_owned(), named)
            })
            .collect();
        let lines: Vec<String> = ssns
            .iter()
            .enumerate()
            .map(|(i, ssn)| {
                let (first, last, suffix, dob) = &names[ssn];
                serde_json::json!({
                    "type": "status_notice",
                    "ssn": ssn,
                    "first": first,
                    "last": last,
                    "suffix": suffix,
                    "dob": dob,
                    "kind": "employment_authorization_ended",
                    "authority": authority,
                    "legal_basis": basis,
                    "document": format!("N-{i}"),
                    "effective": "2025-07-01",
                })
                .to_string()
            })
            .collect();
        let file = self.path("notices.ndjson");
        std::fs::write(&file, lines.join("\n")).unwrap();
        let out = dmf(&[
            "submit",
            "--data",
            self.d(),
            s(&file),
            "--json",
            "--today",
            "2025-07-01",
        ]);
        assert!(out.status.code() != Some(2), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .filter(|l| l.contains("\"notice_recorded\""))
            .count() as u64
    }

    fn people(&self) -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(self.synth.join("people.csv")).unwrap();
        r.records().map(Result::unwrap).collect()
    }
}

/// A copy as `cp -a` makes it, the owner-only modes kept.
pub fn copy_dir(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn audit_names_the_event_changed_in_the_store() {
    let f = Fixture::new(300);
    let (ok, v) = f.audit(&[]);
    assert!(ok, "a fresh registry audits clean: {v}");
    assert_eq!(v["first_bad_seq"], Value::Null);
    let events = v["events"].as_u64().unwrap();
    assert!(events > 300, "{v}");

    let target = (events / 2) as i64;
    let db = rusqlite::Connection::open(f.data.join("registry.sqlite")).unwrap();
    db.execute_batch("DROP TRIGGER events_no_update").unwrap();
    let body: Vec<u8> = db
        .query_row("SELECT body FROM events WHERE seq = ?1", [target], |r| {
            r.get(0)
        })
        .unwrap();
    let mut changed = body.clone();
    // One byte of the SSN's digits: the JSON stays valid, the person changes.
    let at = changed.windows(7).position(|w| w == b"\"ssn\":\"").unwrap() + 9;
    changed[at] = if changed[at] == b'1' { b'2' } else { b'1' };
    assert_ne!(changed, body);
    db.execute(
        "UPDATE events SET body = ?1 WHERE seq = ?2",
        rusqlite::params![changed, target],
    )
    .unwrap();
    drop(db);

    let (ok, v) = f.audit(&[]);
    assert!(!ok, "{v}");
    assert_eq!(v["first_bad_seq"], target, "{v}");
    let out = dmf(&["audit", "verify", "--data", f.d()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(&format!("the first bad event is {target}")),
        "{}",
        stdout(&out)
    );
    // Nothing is published or signed over the changed event.
    let out = dmf(&["log", "export", "--data", f.d(), "--out", s(&f.path("pub"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("event {target}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rollback_is_caught_against_a_later_checkpoint() {
    let f = Fixture::new(300);
    let old_head = f.head();
    let old_dir = f.path("old-data");
    copy_dir(&f.data, &old_dir);
    let old_store = f.path("old-registry.sqlite");
    std::fs::copy(f.data.join("registry.sqlite"), &old_store).unwrap();

    let ssns: Vec<String> = f
        .people()
        .iter()
        .take(50)
        .map(|p| p[0].to_owned())
        .collect();
    assert!(f.notices(&ssns, "DHS USCIS", "8 CFR 274a.14") > 0);
    let saved = f.save_checkpoint("later.checkpoint");
    assert!(f.head() > old_head);

    // The store alone is replaced by its older copy: the log itself shows the rollback, and
    // the registry refuses to write on it.
    std::fs::copy(&old_store, f.data.join("registry.sqlite")).unwrap();
    let (ok, v) = f.audit(&[]);
    assert!(!ok, "{v}");
    assert_eq!(v["first_bad_seq"], old_head + 1, "{v}");
    let again: Vec<String> = ssns[..1].to_vec();
    let file = f.path("one.ndjson");
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"status_notice","ssn":"{}","kind":"benefits_suspended","authority":"X","legal_basis":"Y","document":"Z","effective":"2025-07-01"}}"#,
            again[0]
        ),
    )
    .unwrap();
    let out = dmf(&["submit", "--data", f.d(), s(&file), "--today", "2025-07-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rolled back"), "{}", stderr(&out));

    // The whole data folder is replaced by its older copy, log and all: only a checkpoint
    // saved outside catches it.
    std::fs::remove_dir_all(&f.data).unwrap();
    copy_dir(&old_dir, &f.data);
    let (ok, v) = f.audit(&[]);
    assert!(ok, "the old copy is consistent in itself: {v}");
    let (ok, v) = f.audit(&["--checkpoint", s(&saved)]);
    assert!(!ok, "{v}");
    assert_eq!(v["first_bad_seq"], old_head + 1, "{v}");
    let text = v["problems"].to_string();
    assert!(text.contains("rolled back"), "{text}");
}

#[test]
fn keys_are_owner_only_and_refused_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dmf(&["init", "--data", s(&data), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let public = v["public_key"].as_str().unwrap();
    assert!(public.starts_with(v["origin"].as_str().unwrap()), "{v}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("log")), 0o700);
    assert_eq!(mode(&data.join("log/signing.key")), 0o600);
    assert_eq!(mode(&data.join("log/leaf.key")), 0o600);
    assert_eq!(mode(&data.join("log/mac.key")), 0o600);
    let key = std::fs::read_to_string(data.join("log/key.pub")).unwrap();
    assert_eq!(key.trim(), public);

    std::fs::set_permissions(
        data.join("log/signing.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let file = dir.path().join("e.ndjson");
    std::fs::write(
        &file,
        r#"{"type":"status_notice","ssn":"123456789","kind":"benefits_suspended","authority":"X","legal_basis":"Y","document":"Z","effective":"2025-07-01"}"#,
    )
    .unwrap();
    let out = dmf(&[
        "submit",
        "--data",
        s(&data),
        s(&file),
        "--today",
        "2025-07-01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));

    let out = dmf(&["init", "--data", s(&data)]);
    assert_eq!(out.status.code(), Some(2), "a second init is refused");
}

#[test]
fn public_export_holds_no_personal_data_and_recounts() {
    let f = Fixture::new(2_000);
    let export = f.path("public");
    let out = dmf(&[
        "log",
        "export",
        "--data",
        f.d(),
        "--out",
        s(&export),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let leaves = v["leaves"].as_u64().unwrap();
    assert!(leaves > 2_000, "{v}");

    let mut files = Vec::new();
    for entry in std::fs::read_dir(&export).unwrap() {
        let path = entry.unwrap().path();
        // `tile/` holds the same leaves as tlog-tiles, checked below.
        if path.is_dir() {
            continue;
        }
        files.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
    }
    let leaf_text = std::fs::read_to_string(export.join("leaves.ndjson")).unwrap();
    assert_eq!(leaf_text.lines().count() as u64, leaves);

    // The tiles: the entry bundles hold the leaves in order, the level-0 hash tiles their
    // hashes, and the tree rebuilt from the tiles has the checkpoint's root.
    let mut tree = dmf_log::MemoryTree::new();
    let mut bundled = Vec::new();
    for n in 0..leaves.div_ceil(256) {
        let width = (leaves - n * 256).min(256);
        let partial = (width < 256).then_some(width as u8);
        let tile = |kind| {
            dmf_log::tiles::Tile {
                kind,
                index: n,
                partial,
            }
            .to_string()
        };
        let hashes =
            std::fs::read(export.join(tile(dmf_log::tiles::TileKind::Hashes { level: 0 })))
                .unwrap();
        let bundle = std::fs::read(export.join(tile(dmf_log::tiles::TileKind::Entries))).unwrap();
        let entries = dmf_log::tiles::unbundle(&bundle).unwrap();
        assert_eq!(entries.len() as u64, width);
        for (e, h) in entries.iter().zip(hashes.chunks_exact(32)) {
            assert_eq!(&dmf_log::leaf_hash(e)[..], h);
            tree.push(h.try_into().unwrap());
            bundled.push(String::from_utf8(e.to_vec()).unwrap());
        }
    }
    assert_eq!(bundled, leaf_text.lines().collect::<Vec<_>>());
    let key =
        dmf_log::VerifierKey::parse(&std::fs::read_to_string(export.join("key.pub")).unwrap())
            .unwrap();
    let checkpoint = dmf_log::open_checkpoint(
        &std::fs::read_to_string(export.join("checkpoint")).unwrap(),
        &key,
    )
    .unwrap();
    assert_eq!(dmf_log::root(&tree, leaves).unwrap(), checkpoint.root);
    let level1 = std::fs::read(export.join(format!("tile/1/000.p/{}", leaves / 256))).unwrap();
    assert_eq!(
        &level1[..32],
        &dmf_log::range_hash(&tree, 0, 256).unwrap()[..]
    );
    // Leaf times are of the recording day, not anyone's birth: leave them out of the date search.
    let untimed: String = leaf_text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let mut v = v.as_object().unwrap().clone();
            v.remove("time");
            serde_json::to_string(&v).unwrap()
        })
        .collect();
    let people = f.people();
    assert_eq!(people.len(), 2_000);
    // Everything a file could leak, gathered once: every nine-digit window of a digit run,
    // every SSN-shaped `ddd-dd-dddd`, every JSON string value.
    let all: String = files
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let windows = |text: &str, len: usize| -> HashSet<String> {
        let b = text.as_bytes();
        (0..b.len().saturating_sub(len - 1))
            .map(|i| &b[i..i + len])
            .filter(|w| w.iter().all(|c| c.is_ascii_digit() || *c == b'-'))
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect()
    };
    let nine = windows(&all, 9);
    let eleven = windows(&all, 11);
    let strings: HashSet<&str> = all.split('"').collect();
    let untimed_dates = windows(&untimed, 10);
    let untimed_eight = windows(&untimed, 8);
    // The search finds what it looks for: the population's own file is full of it.
    let source = std::fs::read_to_string(f.synth.join("people.csv")).unwrap();
    assert!(windows(&source, 9).contains(&people[0][0]));
    assert!(source.split(',').any(|v| v == &people[0][3]));
    for p in &people {
        let ssn = &p[0];
        let dashed = format!("{}-{}-{}", &ssn[..3], &ssn[3..5], &ssn[5..]);
        assert!(!nine.contains(ssn), "the export holds SSN {ssn}");
        assert!(!eleven.contains(&dashed), "the export holds {dashed}");
        for name in [&p[1], &p[2], &p[3]].into_iter().filter(|n| n.len() > 1) {
            assert!(!strings.contains(name), "the export holds the name {name}");
            assert!(
                !strings.contains(name.to_uppercase().as_str()),
                "the export holds {name}"
            );
        }
        let dob = &p[6];
        if dob.len() == 10 {
            let compact = format!("{}{}{}", &dob[5..7], &dob[8..10], &dob[..4]);
            assert!(!untimed_dates.contains(dob), "a leaf holds {dob}");
            assert!(!untimed_eight.contains(&compact), "a leaf holds {compact}");
        }
    }
    // Every leaf has the clear fields and nothing but commitments besides.
    for line in leaf_text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for (k, value) in v["commit"].as_object().unwrap() {
            assert_eq!(value.as_str().unwrap().len(), 44, "{k} in {line}");
        }
        for k in v.as_object().unwrap().keys() {
            assert!(
                [
                    "v",
                    "seq",
                    "type",
                    "time",
                    "commit",
                    "source",
                    "verification",
                    "origin",
                    "kind",
                    "authority",
                    "legal_basis",
                    "decision"
                ]
                .contains(&k.as_str()),
                "{k} in {line}"
            );
        }
    }

    let out = dmf(&["stats", "--verify", s(&export), "--json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let key = export.join("key.pub");
    let out = dmf(&["stats", "--verify", s(&export), "--key", s(&key)]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("OK:"), "{}", stdout(&out));

    // One changed count in the published statistics, or one changed leaf, is caught.
    let stats_path = export.join("stats-day.json");
    let published = std::fs::read_to_string(&stats_path).unwrap();
    let at = published.find("\"count\": ").unwrap() + 9;
    let mut bumped = published.clone();
    bumped.insert(at, '1');
    std::fs::write(&stats_path, bumped).unwrap();
    let out = dmf(&["stats", "--verify", s(&export)]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    std::fs::write(&stats_path, published).unwrap();
    let changed = leaf_text.replacen("\"source\":\"state\"", "\"source\":\"family\"", 1);
    assert_ne!(changed, leaf_text);
    std::fs::write(export.join("leaves.ndjson"), changed).unwrap();
    let out = dmf(&["stats", "--verify", s(&export)]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("does not hash"), "{}", stdout(&out));
}

#[test]
fn bulk_notices_are_counted_under_their_authority_and_basis() {
    let f = Fixture::new(4_000);
    let ssns: Vec<String> = f.people().iter().map(|p| p[0].to_owned()).collect();
    let authority = "Department of Homeland Security, USCIS";
    let basis = "8 U.S.C. 1324a; 8 CFR 274a.14";
    let recorded = f.notices(&ssns[..3_000], authority, basis);
    assert_eq!(recorded, 3_000, "every notice is recorded");
    let other = f.notices(&ssns[3_000..3_100], "Another Agency", basis);
    assert_eq!(other, 100);

    for period in ["day", "month"] {
        let out = dmf(&["stats", "--data", f.d(), "--period", period, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["tree_size"].as_u64(), Some(f.head()), "{v}");
        let rows = v["rows"].as_array().unwrap();
        let count = |authority: &str| -> u64 {
            rows.iter()
                .filter(|r| r["type"] == "status_notice" && r["authority"] == authority)
                .map(|r| {
                    assert_eq!(r["legal_basis"], basis);
                    assert_eq!(r["kind"], "employment_authorization_ended");
                    r["count"].as_u64().unwrap()
                })
                .sum()
        };
        assert_eq!(count(authority), recorded, "{period}");
        assert_eq!(count("Another Agency"), other, "{period}");
        let total: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
        assert_eq!(total, f.head(), "every event is counted once");
    }
    let out = dmf(&["stats", "--data", f.d(), "--period", "month"]);
    assert!(stdout(&out).contains(authority), "{}", stdout(&out));
}

#[test]
fn proofs_verify_offline_with_the_public_key() {
    let f = Fixture::new(300);
    let old = f.save_checkpoint("old.checkpoint");
    let old_size = f.head();
    let ssns: Vec<String> = f
        .people()
        .iter()
        .take(20)
        .map(|p| p[0].to_owned())
        .collect();
    f.notices(&ssns, "DHS", "8 CFR 274a.14");
    let new = f.save_checkpoint("new.checkpoint");
    let new_size = f.head();
    assert!(new_size > old_size);
    let key = f.data.join("log/key.pub");

    let verify = |extra: &[&str]| {
        let mut args = vec!["log", "verify", "--checkpoint", s(&new), "--key", s(&key)];
        args.extend(extra);
        dmf(&args)
    };
    let out = verify(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    for seq in [1, old_size, new_size] {
        let seq_arg = seq.to_string();
        let out = dmf(&["log", "prove", "--data", f.d(), "--seq", &seq_arg, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let proof = f.path(&format!("inclusion-{seq}.json"));
        std::fs::write(&proof, &out.stdout).unwrap();
        let out = verify(&["--proof", s(&proof)]);
        assert!(out.status.success(), "event {seq}: {}", stdout(&out));
        assert!(stdout(&out).contains(&format!("event {seq} is in")));

        // A proof for another event, or with one hash changed, fails.
        let mut v: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
        let hashes = v["proof"].as_array_mut().unwrap();
        if let Some(first) = hashes.first_mut() {
            let mut h = first.as_str().unwrap().to_owned();
            h.replace_range(0..1, if h.starts_with('A') { "B" } else { "A" });
            *first = Value::String(h);
            std::fs::write(&proof, v.to_string()).unwrap();
            let out = verify(&["--proof", s(&proof)]);
            assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        }
    }

    let (a, b) = (old_size.to_string(), new_size.to_string());
    let out = dmf(&[
        "log",
        "consistency",
        "--data",
        f.d(),
        "--from",
        &a,
        "--to",
        &b,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let proof = f.path("consistency.json");
    std::fs::write(&proof, &out.stdout).unwrap();
    let out = verify(&["--proof", s(&proof), "--old-checkpoint", s(&old)]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("extends"), "{}", stdout(&out));

    // A checkpoint under another key, or altered, fails.
    let other = tempfile::tempdir().unwrap();
    let out = dmf(&["init", "--data", s(&other.path().join("d")), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = dmf(&[
        "log",
        "verify",
        "--checkpoint",
        s(&new),
        "--key",
        v["public_key"].as_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let note = std::fs::read_to_string(&new).unwrap();
    let altered = note.replacen(
        &format!("\n{new_size}\n"),
        &format!("\n{}\n", new_size + 1),
        1,
    );
    assert_ne!(altered, note);
    std::fs::write(&new, altered).unwrap();
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}
