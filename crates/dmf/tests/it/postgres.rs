//! The registry on PostgreSQL, as processes: writers in several processes at once, two
//! `dmf serve` nodes over one database, and a dump of an embedded registry restored into
//! PostgreSQL that audits clean against the old checkpoint. The server comes from
//! `DMF_TEST_DATABASE_URL` (default: the local one); each test gets its own database.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dmf_postgres::testing::{TestDb, server};
use serde_json::{Value, json};

use super::serve::{eventually, key, serve};
use super::{dmf, s, stderr, stdout};

const TODAY: &str = "2026-11-23";

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// A small synthetic population imported into a new registry on `db` (data folder `data`).
fn registry_on(db: &TestDb, dir: &Path, data: &str) {
    let synth = dir.join("synth");
    ok(dmf(&[
        "synth",
        "--people",
        "3000",
        "--seed",
        "3",
        "--out",
        s(&synth),
        "--as-of",
        TODAY,
    ]));
    ok(dmf(&[
        "init",
        "--data",
        data,
        "--database",
        &db.url,
        "--origin",
        "example.org/pg",
    ]));
    ok(dmf(&[
        "import",
        "--data",
        data,
        "--database",
        &db.url,
        "--today",
        TODAY,
        s(&synth.join("people.csv")),
        s(&synth.join("dmf.txt")),
    ]));
}

fn living(dir: &Path, n: usize) -> Vec<csv::StringRecord> {
    let mut dead = std::collections::HashSet::new();
    for r in csv::Reader::from_path(dir.join("synth/truth_deaths.csv"))
        .unwrap()
        .records()
    {
        dead.insert(r.unwrap()[0].to_owned());
    }
    csv::Reader::from_path(dir.join("synth/people.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .filter(|p| !dead.contains(&p[0]) && p[6].len() == 10)
        .take(n)
        .collect()
}

fn report(p: &csv::StringRecord) -> Value {
    json!({"type": "death_report", "ssn": &p[0], "first": &p[1], "last": &p[3], "suffix": &p[4], "dob": &p[6],
           "dod": "2026-11-20", "source": "state", "evidence": format!("EDRS-{}", &p[0])})
}

fn events_in(db: &TestDb) -> (i64, i64) {
    let row = db
        .owner()
        .query_one("SELECT count(*), coalesce(max(seq), 0) FROM events", &[])
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn writers_in_several_processes_share_one_gap_free_sequence() {
    let Some(server) = server() else { return };
    let db = server.database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    registry_on(&db, dir.path(), d);
    let (before, _) = events_in(&db);
    // Four processes submit at once, 50 reports each, each report about another person.
    let people = living(dir.path(), 200);
    let children: Vec<_> = people
        .chunks(50)
        .enumerate()
        .map(|(i, chunk)| {
            let file = dir.path().join(format!("reports-{i}.ndjson"));
            let lines: Vec<String> = chunk.iter().map(|p| report(p).to_string()).collect();
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
            Command::new(env!("CARGO_BIN_EXE_dmf"))
                .args([
                    "submit",
                    "--data",
                    d,
                    "--database",
                    &db.url,
                    s(&file),
                    "--json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seqs = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        for line in ok(out).lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["outcome"], "deceased", "{v}");
            seqs.push(v["seq"].as_i64().unwrap());
        }
    }
    seqs.sort_unstable();
    let (count, max) = events_in(&db);
    assert_eq!(count, before + 200);
    assert_eq!(max, count, "no gaps");
    assert_eq!(seqs, ((before + 1)..=(before + 200)).collect::<Vec<i64>>());
    // The log covers every event and audits clean.
    let audit = ok(dmf(&[
        "audit",
        "verify",
        "--data",
        d,
        "--database",
        &db.url,
        "--json",
    ]));
    let audit: Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["events"], count, "{audit}");
    // And the answers follow.
    let p = &people[7];
    let v = ok(dmf(&[
        "verify",
        "--data",
        d,
        "--database",
        &db.url,
        "--ssn",
        &p[0],
        "--first",
        &p[1],
        "--last",
        &p[3],
        "--dob",
        &p[6],
        // A death only a state reported goes to benefit programs.
        "--purpose",
        "benefits",
        "--json",
    ]));
    assert!(v.contains("\"deceased\":true"), "{v}");
}

#[test]
fn two_nodes_over_one_database_answer_each_others_writes() {
    let Some(server) = server() else { return };
    let db = server.database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    registry_on(&db, dir.path(), d);
    // Node B runs on its own data folder, as on another machine: a copy of the log's keys. API
    // keys, accounting and workflow are tables of the database, shared by both.
    let data_b = dir.path().join("node-b");
    std::fs::create_dir(&data_b).unwrap();
    std::fs::set_permissions(&data_b, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let copied = Command::new("cp")
        .args(["-a", s(&data.join("log")), s(&data_b.join("log"))])
        .status()
        .unwrap();
    assert!(copied.success());
    let db_args = ["--database", db.url.as_str()];
    let reporter = key(
        d,
        "state-reporter",
        "reporter",
        &["--source", "state", db_args[0], db_args[1]],
    );
    // A state's report is verified on receipt and, by law, seen only by benefit programs.
    let benefits = key(d, "pension-fund", "benefits", &db_args);
    let (_a, node_a) = serve(d, &["--database", &db.url, "--today", TODAY]);
    let (_b, node_b) = serve(s(&data_b), &["--database", &db.url, "--today", TODAY]);
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let post = |base: &str, path: &str, key: &str, body: &Value| -> (u16, Value) {
        let r = http
            .post(format!("{base}{path}"))
            .header("Authorization", format!("Bearer {key}"))
            .send(body.to_string())
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap(),
        )
    };
    let people = living(dir.path(), 40);
    let mut lags = Vec::new();
    for (i, p) in people.iter().enumerate() {
        // Alternate: written through one node, asked of the other.
        let (write, read) = if i % 2 == 0 {
            (&node_a, &node_b)
        } else {
            (&node_b, &node_a)
        };
        let mut body = report(p);
        body.as_object_mut().unwrap().remove("type");
        body.as_object_mut().unwrap().remove("source");
        let (status, r) = post(write, "/v1/reports/death", &reporter, &body);
        assert_eq!(status, 201, "{r}");
        let written = Instant::now();
        let query = json!({"ssn": &p[0], "first": &p[1], "last": &p[3], "dob": &p[6]});
        eventually("the other node to answer the new death", || {
            post(read, "/v1/verify/benefits", &benefits, &query).1["deceased"] == true
        });
        lags.push(written.elapsed());
    }
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "two nodes: a death written through one node answered by the other after p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} writes)",
        ms(lags[lags.len() / 2]),
        ms(lags[lags.len() * 99 / 100]),
        ms(lags[lags.len() - 1]),
        lags.len()
    );
    // One log: both nodes serve the same checkpoint once signing has caught up, and it covers
    // every event.
    let (count, _) = events_in(&db);
    let checkpoint = |base: &str| {
        http.get(format!("{base}/v1/log/checkpoint"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap()
    };
    eventually("both nodes to serve the checkpoint of every event", || {
        let a = checkpoint(&node_a);
        a.lines().nth(1) == Some(&count.to_string()) && a == checkpoint(&node_b)
    });
    let audit = ok(dmf(&[
        "audit",
        "verify",
        "--data",
        d,
        "--database",
        &db.url,
        "--json",
    ]));
    assert!(audit.contains("\"ok\":true"), "{audit}");
}

#[test]
fn an_embedded_registry_dumped_and_restored_into_postgres_audits_clean() {
    let Some(server) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let synth = dir.path().join("synth");
    let data = dir.path().join("data");
    let d = s(&data);
    ok(dmf(&[
        "synth",
        "--people",
        "3000",
        "--seed",
        "4",
        "--out",
        s(&synth),
        "--as-of",
        TODAY,
    ]));
    ok(dmf(&[
        "init",
        "--data",
        d,
        "--origin",
        "example.org/embedded",
    ]));
    ok(dmf(&[
        "import",
        "--data",
        d,
        "--today",
        TODAY,
        s(&synth.join("people.csv")),
        s(&synth.join("dmf.txt")),
    ]));
    ok(dmf(&[
        "submit",
        "--data",
        d,
        s(&synth.join("reports.ndjson")),
    ]));
    key(d, "bank", "identity", &[]);
    // A matching agreement, approved: it goes with the dump.
    ok(dmf(&[
        "agreements",
        "create",
        "--data",
        d,
        "--recipient",
        "State Benefits Agency",
        "--source",
        "Registry",
        "--purpose",
        "stop payments",
        "--legal-authority",
        "42 U.S.C. 1320b-7",
        "--recipient-receives",
        "deceased",
        "--retention-days",
        "90",
        "--start",
        "2026-11-01",
        "--expiry",
        "2027-10-31",
        "--by",
        "ann",
    ]));
    ok(dmf(&[
        "agreements",
        "approve",
        "--data",
        d,
        "--id",
        "1",
        "--by",
        "oscar",
    ]));
    let old = dir.path().join("old.checkpoint");
    std::fs::write(&old, ok(dmf(&["log", "checkpoint", "--data", d]))).unwrap();
    let before = ok(dmf(&["audit", "verify", "--data", d, "--json"]));
    let before: Value = serde_json::from_str(&before).unwrap();

    // Without secrets: the keys come from the old folder.
    let dump = dir.path().join("registry.dump");
    let said = ok(dmf(&["dump", "--data", d, "--out", s(&dump)]));
    assert!(
        said.contains(&format!("dumped {} events", before["events"])),
        "{said}"
    );
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(
        !text.contains("PRIVATE+KEY"),
        "no signing key without --with-secrets"
    );
    let db = server.database();
    let restored = dir.path().join("restored");
    let out = dmf(&[
        "restore",
        "--in",
        s(&dump),
        "--data",
        s(&restored),
        "--database",
        &db.url,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--keys-from"), "{}", stderr(&out));
    let restored = dir.path().join("restored2");
    ok(dmf(&[
        "restore",
        "--in",
        s(&dump),
        "--data",
        s(&restored),
        "--database",
        &db.url,
        "--keys-from",
        d,
    ]));
    let audit = ok(dmf(&[
        "audit",
        "verify",
        "--data",
        s(&restored),
        "--database",
        &db.url,
        "--checkpoint",
        s(&old),
        "--json",
    ]));
    let audit: Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(audit["ok"], true, "{audit}");
    assert_eq!(audit["events"], before["events"]);
    assert_eq!(
        ok(dmf(&["log", "checkpoint", "--data", s(&restored)])),
        std::fs::read_to_string(&old).unwrap(),
        "the same tree, signed by the same key"
    );
    // The API key still works: its hash came along.
    let keys = ok(dmf(&[
        "keys",
        "list",
        "--data",
        s(&restored),
        "--database",
        &db.url,
        "--json",
    ]));
    assert!(keys.contains("\"bank\""), "{keys}");
    let agreements = ok(dmf(&[
        "agreements",
        "list",
        "--data",
        s(&restored),
        "--database",
        &db.url,
        "--json",
        "--today",
        TODAY,
    ]));
    assert!(
        agreements.contains("\"approved_by\":\"oscar\"")
            && agreements.contains("\"status\":\"active\""),
        "{agreements}"
    );

    // With secrets, into another embedded registry.
    let with = dir.path().join("with-secrets.dump");
    ok(dmf(&[
        "dump",
        "--data",
        d,
        "--out",
        s(&with),
        "--with-secrets",
    ]));
    let again = dir.path().join("again");
    ok(dmf(&["restore", "--in", s(&with), "--data", s(&again)]));
    let audit = ok(dmf(&[
        "audit",
        "verify",
        "--data",
        s(&again),
        "--checkpoint",
        s(&old),
        "--json",
    ]));
    assert!(audit.contains("\"ok\":true"), "{audit}");

    // A dump cut short, or with one event changed, is refused and leaves nothing half-loaded.
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines[..lines.len() / 2].join("\n") + "\n";
    let altered = text.replacen("\"kind\":\"death_report\"", "\"kind\":\"death_reporT\"", 1);
    for (name, content, expect) in [("cut", cut, "cut short"), ("altered", altered, "altered")] {
        let file = dir.path().join(format!("{name}.dump"));
        std::fs::write(&file, content).unwrap();
        let target = dir.path().join(format!("restored-{name}"));
        let out = dmf(&[
            "restore",
            "--in",
            s(&file),
            "--data",
            s(&target),
            "--keys-from",
            d,
        ]);
        assert!(!out.status.success(), "{name}");
        assert!(stderr(&out).contains(expect), "{name}: {}", stderr(&out));
        assert!(!target.exists(), "{name}: nothing stored");
    }
}

/// A data folder whose events are in PostgreSQL, opened without `--database`, said so instead
/// of sending the user to `dmf init` (which then said the folder already held a registry); and
/// `dmf log checkpoint` takes `--database` like the other commands that open the registry.
#[test]
fn a_folder_whose_events_are_in_postgres_says_so_and_log_checkpoint_takes_database() {
    let Some(server) = server() else { return };
    let db = server.database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    ok(dmf(&[
        "init",
        "--data",
        d,
        "--database",
        &db.url,
        "--origin",
        "example.org/pg",
    ]));
    for args in [
        vec!["show", "--data", d, "--ssn", "078051120"],
        vec!["stats", "--data", d, "--period", "day"],
        vec!["audit", "verify", "--data", d],
    ] {
        let out = dmf(&args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains("is a registry whose events are in PostgreSQL: give --database URL or DMF_DATABASE_URL"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("dmf init"), "{args:?}: {err}");
    }
    let note = ok(dmf(&[
        "log",
        "checkpoint",
        "--data",
        d,
        "--database",
        &db.url,
    ]));
    assert!(note.starts_with("example.org/pg\n0\n"), "{note}");
}
