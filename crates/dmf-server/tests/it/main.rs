//! `dmf serve` end to end: a real registry on disk, a real server on 127.0.0.1, real HTTP.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use dmf_registry::Registry;
use dmf_server::keys::{NewKey, Role};
use dmf_server::{App, Config};
use serde_json::{Value, json};

mod console;
mod console_cases;
mod described_answers;
mod fhir;
mod hardening;
mod identity;
mod letters;
mod outside_client;
mod oversight;
mod pg_stores;
mod pg_workflow;
mod programs;
mod receipts;
mod schema_agreement;
mod tiles;

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
123456789,Alice,Mae,Walker,,F,1980-05-17,OH
234567890,Bob,,Jones,Jr,M,1975-01-02,TX
345678901,Carol,,Diaz,,F,1990-09-09,CA
456789012,Dan,,Okafor,,M,1962-12-01,NY
";

/// A server on a free port with one key per role (and a second reporter, a hospital).
struct Server {
    _dir: tempfile::TempDir,
    data: PathBuf,
    base: String,
    keys: HashMap<&'static str, String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    agent: ureq::Agent,
    app: Arc<App>,
}

impl Server {
    fn start() -> Server {
        Server::with(Config {
            today: Some("2026-11-23".parse().unwrap()),
            ..Config::default()
        })
    }

    fn with(config: Config) -> Server {
        Server::build(config, None)
    }

    /// A server whose numberholders are those of `people` (a people.csv).
    fn with_people(people: &str) -> Server {
        Server::build_with(
            Config {
                today: Some("2026-11-23".parse().unwrap()),
                ..Config::default()
            },
            None,
            people,
        )
    }

    /// A server whose events live in the PostgreSQL database at `url` (migrated).
    fn on_postgres(url: &str) -> Server {
        Server::build(
            Config {
                today: Some("2026-11-23".parse().unwrap()),
                ..Config::default()
            },
            Some(url),
        )
    }

    fn build(config: Config, database: Option<&str>) -> Server {
        Server::build_with(config, database, PEOPLE)
    }

    fn build_with(config: Config, database: Option<&str>, people_csv: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = || -> Arc<dyn dmf_store::EventStore> {
            Arc::new(dmf_postgres::PgStore::connect(database.unwrap()).unwrap())
        };
        let registry = match database {
            None => Registry::init(&data, Some("dmf.test/registry")).unwrap(),
            Some(_) => Registry::init_with(&data, Some("dmf.test/registry"), store()).unwrap(),
        };
        let people = dir.path().join("people.csv");
        std::fs::write(&people, people_csv).unwrap();
        dmf_registry::import_file(&registry, &people, config.today.unwrap(), 0, &|_| {}).unwrap();
        drop(registry);
        let registry = match database {
            None => Registry::open(&data).unwrap(),
            Some(_) => Registry::open_with(&data, store()).unwrap(),
        };
        let app = Arc::new(App::with_registry(registry, config).unwrap());
        let mut keys = HashMap::new();
        for (name, role, source, authority) in [
            ("identity", Role::Identity, None, None),
            ("employment", Role::Employment, None, None),
            ("benefits", Role::Benefits, None, None),
            ("subscriber", Role::Subscriber, None, None),
            ("certified", Role::Subscriber, None, None),
            ("reporter", Role::Reporter, Some("state"), None),
            ("state-ny", Role::Reporter, Some("state"), None),
            ("hospital", Role::Reporter, Some("hospital"), None),
            ("funeral", Role::Reporter, Some("funeral_home"), None),
            ("authority", Role::Authority, None, Some("DHS USCIS")),
            ("caseworker", Role::Caseworker, None, None),
            ("caseworker2", Role::Caseworker, None, None),
            ("oversight", Role::Oversight, None, None),
            // Bound to no agreement.
            ("agency", Role::Agency, None, None),
        ] {
            let (_, secret) = app
                .keys()
                .create(
                    NewKey {
                        name: format!("test-{name}"),
                        role,
                        certified: name == "certified",
                        source: source.map(str::to_owned),
                        authority: authority.map(str::to_owned),
                        jurisdiction: (name == "state-ny").then(|| "NY".to_owned()),
                        daily_quota: None,
                    },
                    0,
                )
                .unwrap();
            keys.insert(name, secret);
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let handle = app.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            // The last handle is dropped outside the runtime (a database client may not be).
            let keep = app.clone();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                dmf_server::serve(app, listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
            drop(rt);
            drop(keep);
        });
        let addr = addr_rx.recv().unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Server {
            _dir: dir,
            data,
            base: format!("http://{addr}"),
            keys,
            shutdown: Some(tx),
            thread: Some(thread),
            agent,
            app: handle,
        }
    }

    /// POST with a key (or none), JSON or NDJSON, and a body: the status and the body text.
    fn post(&self, path: &str, key: Option<&str>, ndjson: bool, body: &str) -> (u16, String) {
        let content_type = if ndjson {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        self.post_as(path, key, content_type, body)
    }

    /// POST with a key (or none), a content type and a body: the status and the body text.
    fn post_as(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> (u16, String) {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {}", self.keys[k]));
        }
        let req = req.header("Content-Type", content_type);
        let resp = req
            .send(body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap();
        (status, text)
    }

    fn post_json(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        let (status, text) = self.post(path, Some(key), false, &body.to_string());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn get(&self, path: &str, key: Option<&str>) -> (u16, String) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {}", self.keys[k]));
        }
        let resp = req.call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().read_to_string().unwrap())
    }

    fn get_json(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let (status, text) = self.get(path, key);
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn verify(
        &self,
        purpose: &str,
        key: &str,
        ssn: &str,
        first: &str,
        last: &str,
        dob: &str,
    ) -> Value {
        let (status, v) = self.post_json(
            &format!("/v1/verify/{purpose}"),
            key,
            json!({ "ssn": ssn, "first": first, "last": last, "dob": dob }),
        );
        assert_eq!(status, 200, "{v}");
        v
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const ALICE: (&str, &str, &str, &str) = ("123456789", "Alice", "Walker", "1980-05-17");

#[test]
fn answers_per_purpose_and_state_deaths_only_to_benefit_programs() {
    let s = Server::start();
    let (ssn, first, last, dob) = ALICE;
    assert_eq!(
        s.verify("identity", "identity", ssn, first, last, dob),
        json!({"purpose": "identity", "code": "V", "deceased": false})
    );
    assert_eq!(
        s.verify("identity", "identity", ssn, "Alicia", "Smith", dob)["code"],
        "5"
    );
    assert_eq!(
        s.verify("identity", "identity", "512345678", first, last, dob)["code"],
        "1"
    );
    assert_eq!(
        s.verify("employment", "employment", ssn, first, last, dob),
        json!({"purpose": "employment", "result": "authorized"})
    );

    // A state reports Alice's death: a benefit program sees it, a bank and an employer do not.
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["outcome"], "deceased", "{r}");
    assert_eq!(
        s.verify("benefits", "benefits", ssn, first, last, dob),
        json!({"purpose": "benefits", "code": "X", "deceased": true, "suspended": false})
    );
    assert_eq!(
        s.verify("identity", "identity", ssn, first, last, dob)["deceased"],
        false
    );
    assert_eq!(
        s.verify("employment", "employment", ssn, first, last, dob)["result"],
        "authorized"
    );

    // A death from two non-state sources is seen by every purpose.
    let (bssn, bfirst, blast, bdob) = ("234567890", "Bob", "Jones", "1975-01-02");
    let report = json!({"ssn": bssn, "first": bfirst, "last": blast, "suffix": "Jr", "dob": bdob, "dod": "2026-11-19", "evidence": "H-1"});
    let (status, r) = s.post_json("/v1/reports/death", "hospital", report.clone());
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("pending")),
        "{r}"
    );
    assert_eq!(
        s.verify("identity", "identity", bssn, bfirst, blast, bdob)["deceased"],
        false
    );
    let (status, r) = s.post_json("/v1/reports/death", "funeral", report);
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    assert_eq!(
        s.verify("identity", "identity", bssn, bfirst, blast, bdob),
        json!({"purpose": "identity", "code": "X", "deceased": true})
    );
}

#[test]
fn keys_fix_the_source_and_the_authority() {
    let s = Server::start();
    let (ssn, first, last, _) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "hospital",
        json!({"ssn": ssn, "first": first, "last": last, "dod": "2026-11-20", "evidence": "x", "source": "state"}),
    );
    assert_eq!(status, 422, "{r}");
    assert_eq!(r["error"]["path"], "$.source", "{r}");
    assert_eq!(r["error"]["code"], "unprocessable", "{r}");

    let notice = |ssn: &str, extra: &str| {
        let (first, last) = match ssn {
            "345678901" => ("Carol", "Diaz"),
            _ => ("Dan", "Okafor"),
        };
        let dob = if first == "Carol" {
            "1990-09-09"
        } else {
            "1962-12-01"
        };
        format!(
            r#"{{"ssn":"{ssn}","first":"{first}","last":"{last}","dob":"{dob}","kind":"employment_authorization_ended","legal_basis":"8 CFR 274a.14","document":"N-1","effective":"2026-11-20"{extra}}}"#
        )
    };
    let body = [
        notice("345678901", ""),
        notice("456789012", r#","authority":"Someone Else""#),
        "{not json".to_owned(),
        notice("456789012", r#","authority":"DHS USCIS""#),
    ]
    .join("\n");
    let (status, text) = s.post("/v1/notices/status", Some("authority"), true, &body);
    assert_eq!(status, 200, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0]["outcome"], "notice_recorded");
    assert_eq!(
        (lines[1]["status"].as_str(), lines[1]["path"].as_str()),
        (Some("rejected"), Some("$.authority"))
    );
    assert_eq!(
        (lines[2]["line"].as_u64(), lines[2]["path"].as_str()),
        (Some(3), Some("$"))
    );
    assert_eq!(lines[3]["outcome"], "notice_recorded");
    let v = s.verify(
        "employment",
        "employment",
        "345678901",
        "Carol",
        "Diaz",
        "1990-09-09",
    );
    assert_eq!(v["result"], "mismatch", "{v}");
    assert_eq!(v["reason"], "employment_authorization_ended", "{v}");

    // The public statistics count them under the key's authority.
    let (status, stats) = s.get_json("/v1/stats?period=day", None);
    assert_eq!(status, 200, "{stats}");
    let count: u64 = stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["authority"] == "DHS USCIS")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(count, 2, "{stats}");
}

/// Every protected route: no key, a wrong key, a wrong role, bad JSON, an unknown field, a
/// body too large.
#[test]
fn every_protected_route_refuses_what_it_must() {
    let s = Server::with(Config {
        today: Some("2026-11-23".parse().unwrap()),
        body_limit: 4096,
        ..Config::default()
    });
    let query =
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"})
            .to_string();
    let report = json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "E"}).to_string();
    let notice = json!({"ssn": "123456789", "kind": "benefits_suspended", "legal_basis": "B", "document": "D", "effective": "2026-11-20"}).to_string();
    let routes: [(&str, &str, &str, &str); 6] = [
        ("/v1/verify/identity", "identity", "caseworker", &query),
        ("/v1/verify/employment", "employment", "identity", &query),
        ("/v1/verify/benefits", "benefits", "subscriber", &query),
        ("/v1/verify/batch", "identity", "reporter", &query),
        ("/v1/reports/death", "reporter", "authority", &report),
        ("/v1/notices/status", "authority", "reporter", &notice),
    ];
    for (path, right, wrong, valid) in routes {
        let valid = valid.to_owned();
        let (status, text) = s.post(path, None, false, &valid);
        assert_eq!(status, 401, "{path}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], "unauthorized");

        let resp = s
            .agent
            .post(format!("{}{path}", s.base))
            .header("Authorization", "Bearer dmf_identity_not-a-real-key")
            .send(valid.as_str())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{path}");

        let (status, text) = s.post(path, Some(wrong), false, &valid);
        assert_eq!(status, 403, "{path} with a {wrong} key: {text}");

        if path == "/v1/verify/batch" {
            let (status, text) = s.post(
                path,
                Some(right),
                true,
                "{bad\n{\"ssn\":\"123456789\",\"x\":1}\n",
            );
            assert_eq!(status, 200, "{text}");
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines[0]["error"]["path"], "$", "{text}");
            assert_eq!(lines[1]["error"]["path"], "$.x", "{text}");
            continue;
        }
        let (status, text) = s.post(path, Some(right), false, "{\"ssn\": ");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(status == 400 || status == 422, "{path}: {status} {text}");
        assert_eq!(v["error"]["path"], "$", "{path}: {text}");

        let mut unknown: Value = serde_json::from_str(&valid).unwrap();
        unknown["nickname"] = json!("Al");
        let (status, text) = s.post(path, Some(right), false, &unknown.to_string());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(status == 400 || status == 422, "{path}: {status} {text}");
        assert_eq!(v["error"]["path"], "$.nickname", "{path}: {text}");

        let big = format!("{{\"ssn\":\"{}\"}}", "1".repeat(5000));
        let (status, text) = s.post(path, Some(right), false, &big);
        assert_eq!(status, 413, "{path}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], "payload_too_large");
    }

    // The caseworker's accounting route.
    let (status, _) = s.get("/v1/people/123456789/accounting", None);
    assert_eq!(status, 401);
    let (status, _) = s.get("/v1/people/123456789/accounting", Some("identity"));
    assert_eq!(status, 403);
    let (status, v) = s.get_json("/v1/people/12345/accounting", Some("caseworker"));
    assert_eq!(status, 400, "{v}");
    let (status, v) = s.get_json("/v1/nowhere", None);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[test]
fn batch_verification_streams_one_answer_a_line() {
    let s = Server::start();
    let n = 20_000;
    let mut body = String::new();
    for i in 0..n {
        if i % 1000 == 7 {
            body.push_str(
                "{\"ssn\":\"000000000\",\"first\":\"A\",\"last\":\"B\",\"dob\":\"1980\"}\n",
            );
        } else {
            let (ssn, first, last, dob) = ALICE;
            body.push_str(&format!("{{\"ssn\":\"{ssn}\",\"first\":\"{first}\",\"last\":\"{last}\",\"dob\":\"{dob}\"}}\n"));
        }
    }
    let (status, text) = s.post("/v1/verify/batch", Some("identity"), true, &body);
    assert_eq!(status, 200);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["line"], i + 1, "{l}");
        if i % 1000 == 7 {
            assert_eq!(l["error"]["path"], "$.ssn", "{l}");
        } else {
            assert_eq!(l["code"], "V", "{l}");
        }
    }
}

#[test]
fn every_disclosure_is_in_the_persons_accounting() {
    let s = Server::start();
    let (ssn, first, last, dob) = ALICE;
    s.verify("identity", "identity", ssn, first, last, dob);
    s.verify("employment", "employment", ssn, first, last, dob);
    let line = format!(
        "{{\"ssn\":\"{ssn}\",\"first\":\"{first}\",\"last\":\"{last}\",\"dob\":\"{dob}\"}}\n"
    );
    let (status, _) = s.post("/v1/verify/batch", Some("benefits"), true, &line.repeat(3));
    assert_eq!(status, 200);
    // Someone not on file: nothing about a person was disclosed.
    s.verify("identity", "identity", "512345678", first, last, dob);

    let (status, v) = s.get_json(&format!("/v1/people/{ssn}/accounting"), Some("caseworker"));
    assert_eq!(status, 200, "{v}");
    let d = v["disclosures"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = d
        .iter()
        .map(|x| (x["to"].as_str().unwrap(), x["purpose"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("test-identity", "identity"),
            ("test-employment", "employment"),
            ("test-benefits", "benefits"),
            ("test-benefits", "benefits"),
            ("test-benefits", "benefits"),
        ]
    );
    assert_eq!(d[0]["fields"], json!(["code", "deceased"]));
    // The caseworker's own look is accounted too.
    let (_, v) = s.get_json(&format!("/v1/people/{ssn}/accounting"), Some("caseworker"));
    assert_eq!(
        v["disclosures"].as_array().unwrap().last().unwrap()["purpose"],
        "accounting"
    );
    let (_, v) = s.get_json("/v1/people/512345678/accounting", Some("caseworker"));
    assert_eq!(v["disclosures"], json!([]));
}

#[test]
fn the_public_log_is_served_and_verifies() {
    let s = Server::start();
    let (ssn, first, last, dob) = ALICE;
    s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "E"}),
    );
    let (status, note) = s.get("/v1/log/checkpoint", None);
    assert_eq!(status, 200);
    let key =
        dmf_log::VerifierKey::parse(&std::fs::read_to_string(s.data.join("log/key.pub")).unwrap())
            .unwrap();
    let checkpoint = dmf_log::open_checkpoint(&note, &key).unwrap();
    assert_eq!(checkpoint.size, 5, "4 people and a report");

    let (status, proof) = s.get(
        &format!("/v1/log/proof/inclusion?seq=5&size={}", checkpoint.size),
        None,
    );
    assert_eq!(status, 200, "{proof}");
    let shown = dmf_ledger::publish::check_proof(&checkpoint, None, &proof).unwrap();
    assert!(shown.contains("event 5"), "{shown}");
    let (status, proof) = s.get("/v1/log/proof/consistency?from=2&to=5", None);
    assert_eq!(status, 200, "{proof}");
    dmf_ledger::publish::check_proof(&checkpoint, None, &proof).unwrap();
    let (status, v) = s.get_json("/v1/log/proof/inclusion?seq=99", None);
    assert_eq!(status, 404, "{v}");
    let (status, v) = s.get_json("/v1/log/proof/inclusion?sequence=1", None);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );
    let (status, v) = s.get_json("/v1/stats?period=year", None);
    assert_eq!(status, 400, "{v}");
    let (status, v) = s.get_json("/v1/stats?period=month", None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["tree_size"], 5);

    let (status, v) = s.get_json("/healthz", None);
    assert_eq!((status, v["events"].as_u64()), (200, Some(5)));
    let (status, text) = s.get("/metrics", None);
    assert_eq!(status, 200);
    assert!(text.contains("dmf_log_tree_size 5"), "{text}");
    assert!(text.contains("dmf_submissions_accepted_total 1"), "{text}");
}

/// Another node's write is in the shared store before this node's index has it: the feed
/// never hands out a cursor beyond this node's head (the next request would be refused).
#[test]
fn a_node_behind_the_shared_store_keeps_feed_cursors_within_its_head() {
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let s = Server::on_postgres(&db.url);
    let (_, health) = s.get_json("/healthz", None);
    let head = health["events"].as_u64().unwrap();
    // Another node: a second registry handle on the same database and data folder.
    let other = Registry::open_with(
        &s.data,
        Arc::new(dmf_postgres::PgStore::connect(&db.url).unwrap()),
    )
    .unwrap();
    let (ssn, first, last, dob) = ALICE;
    let report = dmf_registry::parse_line(
        &format!(
            r#"{{"type":"death_report","ssn":"{ssn}","first":"{first}","last":"{last}","dob":"{dob}","dod":"2026-11-20","source":"state","evidence":"EDRS-1"}}"#
        ),
        "2026-11-23".parse().unwrap(),
    )
    .unwrap();
    other.submit(vec![report], 0).unwrap();
    assert_eq!(other.store().head().unwrap(), head + 1);
    // From a cursor behind this node's head, so that the node reads the store.
    let (status, page) = s.get_json(
        &format!("/v1/feed?after={}&wait=0", head - 1),
        Some("benefits"),
    );
    assert_eq!(status, 200, "{page}");
    let cursor = page["cursor"].as_u64().unwrap();
    assert_eq!(cursor, head, "{page}");
    let (status, page) = s.get_json(&format!("/v1/feed?after={cursor}&wait=0"), Some("benefits"));
    assert_eq!(status, 200, "{page}");
    let (status, text) = s.get(
        &format!("/v1/files/updates?since={}", head - 1),
        Some("benefits"),
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains(ALICE.0),
        "not yet in this node's index: {text}"
    );
}

/// A death report put at the end of a shared store's `events` by a raw SQL connection: the node
/// following the store refuses it and answers as before, no node opens on it or signs it, and
/// the audit names it.
#[test]
fn a_row_inserted_into_a_shared_store_is_refused_by_every_node() {
    use dmf_ledger::mac::MacFault;
    use dmf_registry::RegistryError;
    let Some(pg) = dmf_postgres::testing::server() else {
        return;
    };
    let db = pg.migrated();
    let s = Server::on_postgres(&db.url);
    let (_, health) = s.get_json("/healthz", None);
    let head = health["events"].as_u64().unwrap();
    let (ssn, first, last, dob) = ALICE;
    let sub = dmf_registry::parse_line(
        &format!(
            r#"{{"type":"death_report","ssn":"{ssn}","first":"{first}","last":"{last}","dob":"{dob}","dod":"2026-11-20","source":"state","evidence":"EDRS-1"}}"#
        ),
        "2026-11-23".parse().unwrap(),
    )
    .unwrap();
    let forged = head + 1;
    db.owner()
        .execute(
            "INSERT INTO events (seq, kind, subject, recorded_at, body) \
             VALUES ($1, 'death_report', $2, 0, $3)",
            &[
                &(forged as i64),
                &(sub.event.ssn().as_u32() as i32),
                &dmf_registry::encode(&sub.event),
            ],
        )
        .unwrap();
    let refused = |e: RegistryError| {
        assert!(
            matches!(
                e,
                RegistryError::Unauthenticated { seq, fault: MacFault::Missing } if seq == forged
            ),
            "{e:?}"
        );
    };

    refused(s.app.follow().unwrap_err());
    let (_, health) = s.get_json("/healthz", None);
    assert_eq!(health["events"].as_u64(), Some(head), "not applied");
    let v = s.verify("benefits", "benefits", ssn, first, last, dob);
    assert_eq!(v["deceased"], false, "{v}");

    let store = || Arc::new(dmf_postgres::PgStore::connect(&db.url).unwrap());
    refused(Registry::open_with(&s.data, store()).unwrap_err());
    let other = Registry::open_with_for_audit(&s.data, store()).unwrap();
    refused(other.sign_pending(true).unwrap_err());
    refused(other.submit(vec![sub], 0).unwrap_err());
    let published = other.store().latest_checkpoint().unwrap().unwrap().0;
    assert_eq!(published, head, "nothing signed over it");
    let report = dmf_ledger::audit::audit(other.ledger(), None, None).unwrap();
    assert_eq!(
        report.first_bad_seq(),
        Some(forged),
        "{:?}",
        report.problems
    );
}

#[test]
fn openapi_describes_every_route() {
    let s = Server::start();
    let (status, doc) = s.get_json("/openapi.json", None);
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let described = dmf_server::openapi::described();
    for (method, path, _) in &described {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    // Every described route is served: none answers 404 for a missing route.
    for (method, path, _) in &described {
        let url = path
            .replace("{ssn}", "123456789")
            .replace("{id}", "1")
            .replace("{seq}", "1")
            .replace("{code}", "0")
            .replace("{record}", "2026NY000001");
        let (status, text) = if *method == "get" {
            s.get(&url, None)
        } else {
            s.post(&url, None, false, "{}")
        };
        if status == 404 {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(
                v["error"]["message"], "no such route (see /openapi.json)",
                "{method} {path}"
            );
        }
    }
    assert_eq!(described.len(), 45);
    // The success each route answers, as it answers it: created is 201; many submissions in
    // NDJSON are answered 200 in NDJSON, one result a line.
    let ok = |method: &str, path: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    for path in ["/v1/corrections", "/v1/agreements"] {
        assert_eq!(ok("post", path, "201"), ["application/json"], "{path}");
        assert!(ok("post", path, "200").is_empty(), "{path}");
    }
    for path in ["/v1/reports/death", "/v1/notices/status"] {
        assert_eq!(ok("post", path, "201"), ["application/json"], "{path}");
        assert_eq!(ok("post", path, "200"), ["application/x-ndjson"], "{path}");
        let takes = doc["paths"][path]["post"]["requestBody"]["content"]
            .as_object()
            .unwrap();
        assert!(takes.contains_key("application/x-ndjson"), "{path}");
    }
    let (status, text) = s.post(
        "/v1/reports/death",
        Some("reporter"),
        true,
        "[1]\n{\"ssn\": \"123456789\"}\n",
    );
    assert_eq!(status, 200, "{text}");
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["status"], "rejected", "{v}");
        assert!(v["line"].is_u64() && v["path"].is_string(), "{v}");
    }
    // A route that takes one JSON object says so, and only so.
    let takes = &doc["paths"]["/v1/feed/ack"]["post"]["requestBody"]["content"];
    assert_eq!(
        takes.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["application/json"]
    );
}

/// The seconds a 429 says to wait.
fn retry_after<B>(resp: &ureq::http::Response<B>) -> u64 {
    resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_key_over_its_rate_is_told_when_to_retry() {
    let s = Server::with(Config {
        today: Some("2026-11-23".parse().unwrap()),
        rate_per_second: 1,
        rate_burst: 3,
        ..Config::default()
    });
    let (ssn, first, last, dob) = ALICE;
    let body = json!({ "ssn": ssn, "first": first, "last": last, "dob": dob }).to_string();
    let statuses: Vec<u16> = (0..5)
        .map(|_| {
            s.post("/v1/verify/identity", Some("identity"), false, &body)
                .0
        })
        .collect();
    assert_eq!(&statuses[..3], [200, 200, 200]);
    assert_eq!(statuses[4], 429);
    let resp = s
        .agent
        .post(format!("{}/v1/verify/identity", s.base))
        .header("Authorization", format!("Bearer {}", s.keys["identity"]))
        .send(body.as_str())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry = retry_after(&resp);
    assert!((1..=2).contains(&retry), "{retry}");
    // Another key has its own rate.
    assert_eq!(
        s.post("/v1/verify/employment", Some("employment"), false, &body)
            .0,
        200
    );
}

/// Reports a non-state death (a hospital, then a funeral home) and returns the last seq.
fn two_source_death(s: &Server, ssn: &str, first: &str, last: &str, dod: &str) -> u64 {
    // As the numberholder file has them: a report gives the date of birth and the generation
    // (Bob is a junior) on file.
    let row: Vec<&str> = PEOPLE
        .lines()
        .find(|l| l.starts_with(ssn))
        .unwrap()
        .split(',')
        .collect();
    let report = json!({"ssn": ssn, "first": first, "last": last, "suffix": row[4], "dob": row[6], "dod": dod, "evidence": "E"});
    let (status, r) = s.post_json("/v1/reports/death", "hospital", report.clone());
    assert_eq!(status, 201, "{r}");
    let (status, r) = s.post_json("/v1/reports/death", "funeral", report);
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    r["seq"].as_u64().unwrap()
}

fn feed(s: &Server, key: &str, after: u64) -> (u64, Vec<(String, String)>) {
    let (status, v) = s.get_json(&format!("/v1/feed?after={after}&wait=0"), Some(key));
    assert_eq!(status, 200, "{v}");
    let records = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let line = r["line"].as_str().unwrap();
            assert_eq!(line.len(), 100);
            assert_eq!(&line[..1], r["change"].as_str().unwrap());
            (
                r["change"].as_str().unwrap().to_owned(),
                r["ssn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (v["cursor"].as_u64().unwrap(), records)
}

fn ack(s: &Server, key: &str, cursor: u64) -> u16 {
    s.post(
        "/v1/feed/ack",
        Some(key),
        false,
        &json!({ "cursor": cursor }).to_string(),
    )
    .0
}

#[test]
fn feeds_follow_the_rules_and_corrections_reach_who_received_the_record() {
    let s = Server::start();
    // Alice: a state death (benefit programs only). Bob: a recent death from two sources
    // (certified subscribers only, for three years). Dan: a death of 2010 (everyone).
    let (status, _) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "EDRS"}),
    );
    assert_eq!(status, 201);
    two_source_death(&s, "234567890", "Bob", "Jones", "2026-11-19");
    two_source_death(&s, "456789012", "Dan", "Okafor", "2010-01-01");

    let (cursor, certified) = feed(&s, "certified", 0);
    assert_eq!(
        certified,
        [
            ("A".into(), "234567890".into()),
            ("A".into(), "456789012".into())
        ]
    );
    let (_, uncertified) = feed(&s, "subscriber", 0);
    assert_eq!(uncertified, [("A".to_owned(), "456789012".to_owned())]);
    let (_, benefits) = feed(&s, "benefits", 0);
    assert_eq!(benefits.len(), 3, "{benefits:?}");
    let (status, v) = s.get_json("/v1/feed?after=0", Some("identity"));
    assert_eq!(status, 403, "{v}");
    let (same, nothing) = feed(&s, "certified", cursor);
    assert_eq!((same, nothing.len()), (cursor, 0));
    assert_eq!(ack(&s, "certified", cursor), 200);
    assert_eq!(ack(&s, "certified", cursor + 5), 422, "a cursor never sent");

    // Files: the same rules, fixed width.
    let (status, full) = s.get("/v1/files/full", Some("certified"));
    assert_eq!(status, 200);
    let lines: Vec<&str> = full.lines().collect();
    assert_eq!(lines.len(), 2, "{full}");
    assert!(lines.iter().all(|l| l.len() == 100 && l.starts_with(' ')));
    assert_eq!(&lines[0][1..10], "234567890");
    let (_, full) = s.get("/v1/files/full", Some("subscriber"));
    assert_eq!(full.lines().count(), 1);

    // Bob is alive: a caseworker asks, a second approves.
    let body = json!({"ssn": "234567890", "reason": "seen alive at the field office", "evidence": ["passport 123"]}).to_string();
    let (status, text) = s.post("/v1/corrections", Some("caseworker"), false, &body);
    assert_eq!(status, 201, "{text}");
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, _) = s.post(
        &format!("/v1/corrections/{id}/approve"),
        Some("caseworker"),
        false,
        "",
    );
    assert_eq!(status, 403, "the requester cannot approve");
    let (status, v) = s.get_json(
        &format!("/v1/corrections/{id}/propagation"),
        Some("oversight"),
    );
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("awaiting_approval")),
        "{v}"
    );
    let (status, text) = s.post(
        &format!("/v1/corrections/{id}/approve"),
        Some("caseworker2"),
        false,
        "",
    );
    assert_eq!(status, 200, "{text}");
    let approved: Value = serde_json::from_str(&text).unwrap();
    let seq = approved["seq"].as_u64().unwrap();
    let (status, _) = s.post(
        &format!("/v1/corrections/{id}/approve"),
        Some("caseworker2"),
        false,
        "",
    );
    assert_eq!(status, 422, "approved once");
    let (status, _) = s.post(
        "/v1/corrections/999/approve",
        Some("caseworker2"),
        false,
        "",
    );
    assert_eq!(status, 404);

    let (status, v) = s.get_json(
        &format!("/v1/corrections/{id}/propagation"),
        Some("caseworker"),
    );
    assert_eq!(status, 200, "{v}");
    let subs: Vec<(&str, bool)> = v["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["subscriber"].as_str().unwrap(),
                x["acknowledged"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        subs,
        [("test-benefits", false), ("test-certified", false)],
        "{v}"
    );
    assert_eq!(v["complete"], false);

    // The certified subscriber gets the D, applies it and says so.
    let (next, records) = feed(&s, "certified", cursor);
    assert_eq!(records, [("D".to_owned(), "234567890".to_owned())]);
    assert!(next >= seq);
    let (_, records) = feed(&s, "subscriber", cursor);
    assert!(records.is_empty(), "it never had Bob: {records:?}");
    assert_eq!(ack(&s, "certified", next), 200);
    let (_, v) = s.get_json(
        &format!("/v1/corrections/{id}/propagation"),
        Some("caseworker"),
    );
    assert_eq!(v["subscribers"][1]["acknowledged"], true, "{v}");
    assert_eq!(v["subscribers"][0]["acknowledged"], false, "{v}");

    let (status, updates) = s.get(
        &format!("/v1/files/updates?since={cursor}"),
        Some("certified"),
    );
    assert_eq!(status, 200);
    assert_eq!(updates.lines().count(), 1);
    assert!(updates.starts_with("D234567890"), "{updates}");
    let (_, v) = s.get_json("/v1/people/234567890/accounting", Some("caseworker"));
    let purposes: Vec<&str> = v["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["purpose"].as_str().unwrap())
        .collect();
    assert!(
        purposes.contains(&"feed") && purposes.contains(&"file"),
        "{purposes:?}"
    );
}

#[test]
fn a_waiting_feed_request_wakes_on_a_new_death() {
    let s = Arc::new(Server::start());
    let (head, _) = feed(&s, "certified", 0);
    let waiter = {
        let s = s.clone();
        std::thread::spawn(move || {
            let (status, v) =
                s.get_json(&format!("/v1/feed?after={head}&wait=30"), Some("certified"));
            assert_eq!(status, 200, "{v}");
            v["records"].as_array().unwrap().len()
        })
    };
    two_source_death(&s, "456789012", "Dan", "Okafor", "2010-01-01");
    assert_eq!(waiter.join().unwrap(), 1);
}

/// Deny by default: every route that takes a key refuses no key (401), an unknown key (401)
/// and a key of every role it does not name (403).
#[test]
fn every_guarded_route_refuses_other_roles() {
    let s = Server::start();
    let all = [
        "identity",
        "employment",
        "benefits",
        "subscriber",
        "reporter",
        "authority",
        "caseworker",
        "oversight",
        "agency",
    ];
    let mut checked = 0;
    for (method, path, roles) in dmf_server::openapi::described() {
        if roles.is_empty() {
            continue;
        }
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{ssn}", "123456789").replace("{id}", "1")
        );
        let call = |key: Option<&str>| -> u16 {
            let resp = if method == "get" {
                let mut r = s.agent.get(&url);
                if let Some(k) = key {
                    r = r.header("Authorization", format!("Bearer {k}"));
                }
                r.call()
            } else {
                let mut r = s.agent.post(&url);
                if let Some(k) = key {
                    r = r.header("Authorization", format!("Bearer {k}"));
                }
                r.send("{}")
            };
            resp.unwrap().status().as_u16()
        };
        assert_eq!(call(None), 401, "{method} {path} without a key");
        if method == "post" {
            // Refused before its body was read: the connection is not kept for reuse.
            let resp = s.agent.post(&url).send("{}").unwrap();
            assert_eq!(resp.headers()["connection"], "close", "{path}");
        }
        assert_eq!(
            call(Some("dmf_caseworker_unknown")),
            401,
            "{method} {path} with an unknown key"
        );
        for role in all.iter().filter(|r| !roles.contains(r)) {
            assert_eq!(
                call(Some(&s.keys[role])),
                403,
                "{method} {path} with a {role} key"
            );
            checked += 1;
        }
    }
    let expected: usize = dmf_server::openapi::described()
        .iter()
        .filter(|(_, _, roles)| !roles.is_empty())
        .map(|(_, _, roles)| all.len() - roles.len())
        .sum();
    assert_eq!(checked, expected);
}

/// A path parameter that is not what the route takes (an id that is not a number, a segment
/// that is not UTF-8) is a JSON 404 from the error table, not the framework's text/plain 400;
/// and only once the key's role is checked, so a key that may not use the route still gets 403.
#[test]
fn a_path_parameter_that_does_not_parse_is_a_json_404_after_the_role_check() {
    let s = Server::start();
    let mut checked = 0;
    for (method, path, roles) in dmf_server::openapi::described() {
        if !path.contains('{') {
            continue;
        }
        for bad in ["null%2Cnull", "%FF", "-1.5"] {
            let url = path
                .replace("{id}", bad)
                .replace("{ssn}", bad)
                .replace("{code}", bad)
                .replace("{request}", "0")
                .replace("{n}", "0")
                .replace("{step}", "notice");
            if url == path {
                continue;
            }
            let call = |key: Option<&str>| -> (u16, Option<String>, Value) {
                let url = format!("{}{url}", s.base);
                let auth = key.map(|k| format!("Bearer {}", s.keys[k]));
                let resp = if method == "get" {
                    let mut r = s.agent.get(&url);
                    if let Some(a) = &auth {
                        r = r.header("Authorization", a);
                    }
                    r.call()
                } else {
                    let mut r = s.agent.post(&url);
                    if let Some(a) = &auth {
                        r = r.header("Authorization", a);
                    }
                    r.header("Content-Type", "application/json").send("{}")
                };
                let resp = resp.unwrap();
                let status = resp.status().as_u16();
                let content_type = resp
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned());
                let text = resp.into_body().read_to_string().unwrap();
                let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (status, content_type, v)
            };
            let admitted = roles.first().copied();
            let (status, content_type, v) = call(admitted);
            let what = format!("{method} {url} with a {admitted:?} key");
            // Text the ssn and code routes take as a string, and refuse themselves.
            if bad != "%FF" && (path.contains("{ssn}") || path.contains("{code}")) {
                assert_eq!(status, 400, "{what}: {v}");
                assert_eq!(v["error"]["code"], "bad_request", "{what}: {v}");
            } else {
                assert_eq!(status, 404, "{what}: {v}");
                assert_eq!(v["error"]["code"], "not_found", "{what}: {v}");
            }
            assert_eq!(content_type.as_deref(), Some("application/json"), "{what}");
            if !roles.is_empty() {
                let other = ["identity", "reporter", "subscriber"]
                    .into_iter()
                    .find(|r| !roles.contains(r))
                    .unwrap();
                let (status, _, v) = call(Some(other));
                assert_eq!(status, 403, "{method} {url} with a {other} key: {v}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 27, "{checked}");
}

#[test]
fn the_quality_report_is_for_oversight_and_accounted() {
    let s = Server::start();
    let (status, r) = s.get_json("/v1/quality", Some("oversight"));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["people"], 4, "{r}");
    assert_eq!(r["today"], "2026-11-23");
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"alive_past_max_age") && codes.contains(&"pending_overdue"));
    assert_eq!(s.get_json("/v1/quality", Some("caseworker")).0, 403);
}

#[test]
fn alerts_are_public_counted_in_metrics_and_tied_to_a_tree_size() {
    let s = Server::start();
    let (status, v) = s.get_json("/v1/alerts", None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["alerts"], json!([]));
    // Sixty people in their thirties reported dead by one funeral home on one day.
    let lines: Vec<String> = (0..60)
        .map(|i| {
            format!(
                r#"{{"ssn":"{}","first":"Pat","last":"Doe","dob":"1990-01-01","dod":"2026-11-20","evidence":"FH-{i}"}}"#,
                100_010_001 + i
            )
        })
        .collect();
    let (status, text) = s.post(
        "/v1/reports/death",
        Some("funeral"),
        true,
        &lines.join("\n"),
    );
    assert_eq!(status, 200, "{text}");
    let (_, v) = s.get_json("/v1/alerts", None);
    let alerts = v["alerts"].as_array().unwrap();
    // None of the sixty is a numberholder: the list names the wrong people, and says so twice.
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["age", "identity_mismatch"], "{v}");
    assert!(alerts.iter().all(|a| a["group"] == "source:funeral_home"));
    assert_eq!(alerts[0]["median_age"], 36);
    assert_eq!(alerts[0]["tree_size"], v["tree_size"]);
    assert_eq!(
        v["held"],
        json!([{"group": "source:funeral_home", "reason": "unknown_ssn", "count": 60}])
    );
    let (_, metrics) = s.get("/metrics", None);
    assert!(metrics.contains("dmf_intake_alerts 2"), "{metrics}");
}

#[test]
fn a_published_file_is_held_against_what_the_registry_publishes() {
    let s = Server::start();
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!(status, 201, "{r}");
    let (status, full) = s.get("/v1/files/full", Some("benefits"));
    assert_eq!(status, 200, "{full}");
    let counts = |audience: &str, body: &str| -> Vec<(String, u64)> {
        let (status, text) = s.post_as(
            &format!("/v1/quality/published?audience={audience}"),
            Some("oversight"),
            "text/plain",
            body,
        );
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let expect = |missing: u64, extra: u64, differs: u64| {
        vec![
            ("published_missing".to_owned(), missing),
            ("published_not_in_registry".to_owned(), extra),
            ("published_differs".to_owned(), differs),
        ]
    };
    // The registry's own file agrees with itself.
    assert_eq!(counts("benefits", &full), expect(0, 0, 0));
    // A state-only death is not the certified subscribers' to have.
    assert_eq!(counts("certified", &full), expect(0, 1, 0));
    // Nothing published: the death is missing.
    assert_eq!(counts("benefits", ""), expect(1, 0, 0));
    // Alice under another first name, and Bob (alive) published as dead.
    let alice = full.lines().next().unwrap();
    let changed = format!("{}{:<15}{}", &alice[..34], "ALICIA", &alice[49..]);
    let bob = format!("{}234567890{}", &alice[..1], &alice[10..]);
    let (_, text) = s.post_as(
        "/v1/quality/published?audience=benefits&samples=5",
        Some("oversight"),
        "text/plain",
        &format!("{changed}\n{bob}\n"),
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["findings"][1]["samples"][0]["ssn"], "234567890", "{v}");
    assert!(
        v["findings"][2]["samples"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(r#"first name: registry "ALICE", published "ALICIA""#),
        "{v}"
    );
    // The people named are accounted; a bad line is refused with its number.
    let (_, acct) = s.get_json("/v1/people/234567890/accounting", Some("caseworker"));
    assert!(acct.to_string().contains("quality"), "{acct}");
    let (status, text) = s.post_as(
        "/v1/quality/published",
        Some("oversight"),
        "text/plain",
        &format!("{changed}\nshort line\n"),
    );
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("line 2"), "{text}");
    let (status, text) = s.post_as(
        "/v1/quality/published?audience=all",
        Some("oversight"),
        "text/plain",
        "",
    );
    assert_eq!(status, 400, "{text}");
    // A DMF file is not JSON: sent as JSON, it is refused before it is read.
    let (status, text) = s.post(
        "/v1/quality/published",
        Some("oversight"),
        false,
        &format!("{changed}\n"),
    );
    assert_eq!(status, 415, "{text}");
    assert_eq!(
        s.post("/v1/quality/published", Some("caseworker"), false, "")
            .0,
        403
    );
    // The report's own thresholds can be set per request.
    let (status, r) = s.get_json("/v1/quality?max_age=50&samples=2", Some("oversight"));
    assert_eq!(status, 200, "{r}");
    let old = r["findings"][0]["count"].as_u64().unwrap();
    assert!(old >= 2, "{r}");
    assert_eq!(r["findings"][0]["samples"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.get_json("/v1/quality?max_age=7", Some("oversight")).0,
        400
    );
}
