//! The store changed behind the registry's back, on both backends, as processes: a death report
//! put at the end of `events` with a raw SQL connection is named by the audit, never signed and
//! never answered from; a store rolled back behind its log stops `dmf serve` at start.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use dmf_postgres::testing::{TestDb, server};
use serde_json::Value;

use super::{dmf, s, stderr, stdout};

const TODAY: &str = "2026-11-23";

/// A registry of a small synthetic population on SQLite (`db` is `None`) or PostgreSQL, with
/// one state death report submitted.
struct Registry {
    dir: tempfile::TempDir,
    data: PathBuf,
    db: Option<TestDb>,
    living: Vec<csv::StringRecord>,
}

impl Registry {
    fn new(db: Option<TestDb>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let synth = dir.path().join("synth");
        let out = dmf(&[
            "synth",
            "--people",
            "400",
            "--seed",
            "5",
            "--as-of",
            TODAY,
            "--out",
            s(&synth),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let mut dead = std::collections::HashSet::new();
        for r in csv::Reader::from_path(synth.join("truth_deaths.csv"))
            .unwrap()
            .records()
        {
            dead.insert(r.unwrap()[0].to_owned());
        }
        let living = csv::Reader::from_path(synth.join("people.csv"))
            .unwrap()
            .records()
            .map(Result::unwrap)
            .filter(|p| !dead.contains(&p[0]) && p[6].len() == 10)
            .take(10)
            .collect();
        let r = Registry {
            dir,
            data,
            db,
            living,
        };
        r.ok(&["init", "--origin", "dmf.test/tamper"]);
        let people = synth.join("people.csv");
        let deaths = synth.join("dmf.txt");
        r.ok(&["import", "--today", TODAY, s(&people), s(&deaths)]);
        r.submit(0);
        r
    }

    /// `dmf` with `args`, then the data folder and the database.
    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data", s(&self.data)]);
        if let Some(db) = &self.db {
            all.extend(["--database", &db.url]);
        }
        dmf(&all)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A state death report of the `i`th living person, as a reporter would submit it.
    fn report(&self, i: usize) -> String {
        let p = &self.living[i];
        format!(
            r#"{{"type":"death_report","ssn":"{}","first":"{}","last":"{}","suffix":"{}","dob":"{}","dod":"2026-11-20","source":"state","evidence":"EDRS-{i}"}}"#,
            &p[0], &p[1], &p[3], &p[4], &p[6]
        )
    }

    fn submit(&self, i: usize) -> Output {
        let file = self.dir.path().join(format!("report-{i}.ndjson"));
        std::fs::write(&file, self.report(i)).unwrap();
        self.run(&["submit", s(&file), "--today", TODAY])
    }

    /// Rows in `events` and the last sequence number, read with a raw connection.
    fn events(&self) -> u64 {
        match &self.db {
            None => {
                let conn = rusqlite::Connection::open(self.data.join("registry.sqlite")).unwrap();
                conn.query_row("SELECT max(seq) FROM events", [], |r| r.get::<_, i64>(0))
                    .unwrap() as u64
            }
            Some(db) => db
                .owner()
                .query_one("SELECT max(seq) FROM events", &[])
                .unwrap()
                .get::<_, i64>(0) as u64,
        }
    }

    /// The size of the latest checkpoint signed: in the data folder, and in the database.
    fn signed(&self) -> u64 {
        let note = std::fs::read_to_string(self.data.join("log/checkpoint")).unwrap();
        let own: u64 = note.lines().nth(1).unwrap().parse().unwrap();
        if let Some(db) = &self.db {
            let published: i64 = db
                .owner()
                .query_one("SELECT max(size) FROM checkpoints", &[])
                .unwrap()
                .get(0);
            assert_eq!(
                published as u64, own,
                "the database has what the node signed"
            );
        }
        own
    }

    /// Puts a death report of the `i`th living person at the end of `events` with a raw SQL
    /// connection, as the registry would have stored it but for its MAC; returns its seq.
    fn insert_forged(&self, i: usize) -> u64 {
        let sub = dmf_registry::parse_line(&self.report(i), TODAY.parse().unwrap()).unwrap();
        let body = dmf_registry::encode(&sub.event);
        let subject = i64::from(sub.event.ssn().as_u32());
        let at = 1_795_000_000_000_i64;
        match &self.db {
            None => {
                let conn = rusqlite::Connection::open(self.data.join("registry.sqlite")).unwrap();
                conn.execute(
                    "INSERT INTO events (kind, subject, recorded_at, body) \
                     VALUES ('death_report', ?1, ?2, ?3)",
                    rusqlite::params![subject, at, body],
                )
                .unwrap();
                conn.last_insert_rowid() as u64
            }
            Some(db) => {
                let row = db
                    .owner()
                    .query_one(
                        "INSERT INTO events (seq, kind, subject, recorded_at, body) \
                         SELECT max(seq) + 1, 'death_report', $1, $2, $3 FROM events \
                         RETURNING seq",
                        &[&(subject as i32), &at, &body],
                    )
                    .unwrap();
                row.get::<_, i64>(0) as u64
            }
        }
    }

    fn show(&self, i: usize) -> Output {
        self.run(&["show", "--ssn", &self.living[i][0], "--json"])
    }
}

/// The attack of the review: two death reports put at the end of `events` (no trigger stops an
/// insert). The audit exits 1 naming both; nothing is signed over them, not even by the audit;
/// `dmf show` and `dmf submit` refuse the registry naming the first, rather than showing the
/// death or catching up and signing it.
fn inserted_rows_are_refused_not_signed(r: &Registry) {
    let before = r.events();
    let signed = r.signed();
    assert_eq!(signed, before, "everything stored is signed");
    let out = r.show(1);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["current"]["death"], Value::Null, "alive before: {v}");

    let forged = [r.insert_forged(1), r.insert_forged(2)];
    assert_eq!(forged, [before + 1, before + 2]);

    let out = r.run(&["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["first_bad_seq"], forged[0], "{v}");
    let named: Vec<u64> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(named, forged, "{v}");
    let out = r.run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for seq in forged {
        assert!(
            text.contains(&format!(
                "BAD event {seq} carries no MAC and lies beyond the signed log ({signed} events)"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!("FAILED: the first bad event is {}", forged[0])),
        "{text}"
    );
    assert_eq!(r.signed(), signed, "the audit signed nothing");

    let refused = format!(
        "event {} is not the registry writer's: it carries no MAC and lies beyond the signed log",
        forged[0]
    );
    for out in [r.show(1), r.submit(3)] {
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        assert!(stderr(&out).contains(&refused), "{}", stderr(&out));
    }
    assert_eq!(r.events(), before + 2, "nothing was stored after them");
    assert_eq!(r.signed(), signed, "nothing was signed over them");
}

#[test]
fn a_row_inserted_into_events_is_refused_not_signed() {
    inserted_rows_are_refused_not_signed(&Registry::new(None));
}

#[test]
fn a_row_inserted_into_events_on_postgres_is_refused_not_signed() {
    let Some(server) = server() else { return };
    inserted_rows_are_refused_not_signed(&Registry::new(Some(server.database())));
}

/// `dmf serve` on the registry: it must exit at start with `expect` in its error, never serve.
fn serve_refuses(r: &Registry, expect: &str) {
    let mut args = vec![
        "serve".to_owned(),
        "--data".into(),
        s(&r.data).to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    if let Some(db) = &r.db {
        args.extend(["--database".into(), db.url.clone()]);
    }
    let mut child = super::serve::Running(
        Command::new(env!("CARGO_BIN_EXE_dmf"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // A server that started says where it listens; one that did not closes its output.
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "", "it served");
    let status = child.0.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains(expect), "{err}");
}

#[test]
fn a_store_rolled_back_behind_its_log_stops_the_server_at_start() {
    let r = Registry::new(None);
    let old = r.dir.path().join("old.sqlite");
    std::fs::copy(r.data.join("registry.sqlite"), &old).unwrap();
    let before = r.events();
    for i in 1..4 {
        let out = r.submit(i);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let signed = r.signed();
    assert_eq!(signed, before + 3);
    // An older copy of the store file, the log kept.
    std::fs::copy(&old, r.data.join("registry.sqlite")).unwrap();
    serve_refuses(
        &r,
        &format!(
            "the store holds {before} events but the log covers {signed}: the store was rolled back"
        ),
    );
}

#[test]
fn a_database_rolled_back_behind_its_log_stops_the_server_at_start() {
    let Some(server) = server() else { return };
    let r = Registry::new(Some(server.database()));
    for i in 1..4 {
        let out = r.submit(i);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let signed = r.signed();
    // The last two events deleted by the owner, who may drop the triggers that refuse it.
    r.db.as_ref()
        .unwrap()
        .owner()
        .batch_execute(&format!(
            "ALTER TABLE events DISABLE TRIGGER events_no_update_delete;
             DELETE FROM events WHERE seq > {};
             ALTER TABLE events ENABLE TRIGGER events_no_update_delete;",
            signed - 2
        ))
        .unwrap();
    serve_refuses(
        &r,
        &format!(
            "the store holds {} events but the log covers {signed}: the store was rolled back",
            signed - 2
        ),
    );
}

/// A dump's trailer is a hash anyone can make again: a death report added to a dump after its
/// events is refused at restore, where a dump as made restores and audits clean.
#[test]
fn an_event_added_to_a_dump_is_refused_at_restore() {
    use dmf_store::dump::{DumpReader, DumpWriter, Record};
    let r = Registry::new(None);
    let dump = r.dir.path().join("registry.dump");
    r.ok(&["dump", "--out", s(&dump), "--with-secrets"]);
    let clean = r.dir.path().join("clean");
    let out = dmf(&["restore", "--in", s(&dump), "--data", s(&clean)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dmf(&["audit", "verify", "--data", s(&clean)]);
    assert!(out.status.success(), "{}", stdout(&out));

    let file = std::fs::File::open(&dump).unwrap();
    let mut reader = DumpReader::new(std::io::BufReader::new(file)).unwrap();
    let mut records = Vec::new();
    while let Some(rec) = reader.next_record().unwrap() {
        records.push(rec);
    }
    let mut header = reader.header.clone();
    let sub = dmf_registry::parse_line(&r.report(1), TODAY.parse().unwrap()).unwrap();
    let forged = dmf_registry::dmf_store::StoredEvent {
        seq: header.events + 1,
        kind: "death_report".into(),
        subject: Some(sub.event.ssn().as_u32()),
        idempotency_key: None,
        recorded_at: 1_795_000_000_000,
        body: dmf_registry::encode(&sub.event),
        mac: None,
    };
    header.events += 1;
    let altered = r.dir.path().join("altered.dump");
    let out = std::fs::File::create(&altered).unwrap();
    let mut w = DumpWriter::new(std::io::BufWriter::new(out), &header).unwrap();
    for rec in records
        .iter()
        .filter(|r| matches!(r, Record::Secret { .. }))
    {
        if let Record::Secret { file, text } = rec {
            w.secret(file, text).unwrap();
        }
    }
    for rec in &records {
        if let Record::Event(e) = rec {
            w.event(e).unwrap();
        }
    }
    w.event(&forged).unwrap();
    for rec in &records {
        if let Record::Other(v) = rec {
            w.other(v).unwrap();
        }
    }
    w.finish().unwrap();

    let target = r.dir.path().join("restored");
    let out = dmf(&["restore", "--in", s(&altered), "--data", s(&target)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "event {} is not the registry writer's: it carries no MAC and lies beyond the signed log",
            forged.seq
        )),
        "{}",
        stderr(&out)
    );
}
