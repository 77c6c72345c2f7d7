//! A command that fails leaves nothing it made: `dmf serve --demo` and `dmf restore`, run again
//! as they were (or mended), work.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::serve::Running;
use super::{dmf, s, stderr};

/// `dmf` with its temporary folder (where a demo goes without `--data`) at `tmp`.
fn dmf_in(tmp: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dmf"));
    c.args(args)
        .env("TMPDIR", tmp)
        .env_remove("DMF_DATABASE_URL");
    c
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `dmf serve --demo` built its registry (half a minute for the default million people) before
/// it found the port in use, and left the folder behind; a start that failed while building
/// did too. Now the flags and the address are checked first, and what a failed start made is
/// removed, never a folder the user had.
#[test]
fn a_demo_on_a_port_in_use_was_built_first_and_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "kept").unwrap();
    let nested = dir.path().join("new/demo");
    let check = |args: &[&str], expect: &str, built: bool| {
        let mut all = vec!["serve", "--demo"];
        all.extend(args);
        if !args.contains(&"--demo-people") {
            all.extend(["--demo-people", "50"]);
        }
        let out: Output = dmf_in(&tmp, &all).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(
            err.contains("making a demo registry"),
            built,
            "{args:?}: {err}"
        );
        assert!(names_in(&tmp).is_empty(), "{args:?}: {:?}", names_in(&tmp));
        assert_eq!(names_in(dir.path()), ["mine", "tmp"], "{args:?}");
        assert_eq!(names_in(&mine), ["notes.txt"], "{args:?}");
    };
    let listen = format!("cannot listen on {busy}");
    check(&["--listen", &busy], &listen, false);
    check(&["--listen", &busy, "--data", s(&nested)], &listen, false);
    check(
        &["--listen", "127.0.0.1:0", "--data", s(&mine)],
        "exists",
        false,
    );
    check(
        &["--listen", "127.0.0.1:0", "--rate", "0"],
        "--rate and --burst",
        false,
    );
    // Too many people for the generator: the start fails while building.
    check(
        &["--listen", "127.0.0.1:0", "--demo-people", "800000000"],
        "cannot generate",
        true,
    );
    check(
        &[
            "--listen",
            "127.0.0.1:0",
            "--demo-people",
            "800000000",
            "--data",
            s(&nested),
        ],
        "cannot generate",
        true,
    );

    // A start that succeeds keeps its folder after the service stops.
    let mut child = dmf_in(
        &tmp,
        &[
            "serve",
            "--demo",
            "--demo-people",
            "50",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    let mut server = Running(
        child
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("dmf demo listening on "), "{line:?}");
    drop(server);
    let made = names_in(&tmp);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(made[0].starts_with("dmf-demo-"), "{made:?}");
    assert!(tmp.join(&made[0]).join("demo-credentials.json").is_file());
}

/// A restore given the keys of another registry failed after it had made the data folder (the
/// store, half the log), and the same command with the right `--keys-from` was refused: "not
/// empty". Now the keys are checked before anything is made, and a restore that fails later,
/// with its events stored, removes what it made.
#[test]
fn a_failed_restore_left_a_folder_the_retry_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let ok = |args: &[&str]| {
        let out = dmf(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    let source = p("source");
    ok(&["init", "--data", s(&source), "--origin", "dmf.test/source"]);
    let people = p("people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n\
         123456789,Alice,Mae,Walker,,F,1980-05-17,OH\n\
         234567890,Bob,,Jones,Jr,M,1975-01-02,TX\n",
    )
    .unwrap();
    ok(&["import", "--data", s(&source), s(&people)]);
    let other = p("other");
    ok(&["init", "--data", s(&other), "--origin", "dmf.test/other"]);
    let dump = p("registry.dump");
    ok(&["dump", "--data", s(&source), "--out", s(&dump)]);
    // The source's keys but for another MAC key: found out only once the events are stored.
    let wrong_mac = p("wrong-mac");
    std::fs::create_dir_all(wrong_mac.join("log")).unwrap();
    for file in ["signing.key", "leaf.key", "mac.key", "key.pub"] {
        std::fs::copy(
            source.join("log").join(file),
            wrong_mac.join("log").join(file),
        )
        .unwrap();
    }
    std::fs::write(wrong_mac.join("log/mac.key"), "0".repeat(64) + "\n").unwrap();

    let empty = p("empty");
    std::fs::create_dir(&empty).unwrap();
    let nested = p("new/restored");
    let check = |target: &Path, keys: &Path, expect: &str| {
        let out = dmf(&[
            "restore",
            "--in",
            s(&dump),
            "--data",
            s(target),
            "--keys-from",
            s(keys),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{keys:?}: {err}");
        assert!(err.contains(expect), "{keys:?}: {err}");
        if target == empty {
            assert!(names_in(&empty).is_empty(), "{:?}", names_in(&empty));
        } else {
            assert!(!p("new").exists(), "{keys:?}: {err}");
        }
    };
    for target in [&nested, &empty] {
        check(target, &other, "another registry's keys");
        check(target, &p("nowhere"), "--keys-from");
        check(
            target,
            &wrong_mac,
            "its events and the log's keys do not agree",
        );
        // The same command with the right keys.
        ok(&[
            "restore",
            "--in",
            s(&dump),
            "--data",
            s(target),
            "--keys-from",
            s(&source),
        ]);
        ok(&["audit", "verify", "--data", s(target)]);
    }
}
