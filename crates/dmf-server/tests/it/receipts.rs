//! Answers with receipts (`?receipt=true`): each receipt checks offline with the log's public
//! key alone, proves the events the answer stands on, opens no more than the purpose may see,
//! and leaves the answer and its accounting as they are without it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dmf_ledger::receipt::{self, Checked, Receipt};
use dmf_log::{Policy, VerifierKey};
use serde_json::{Value, json};

use super::{ALICE, Server};

impl Server {
    /// The answer of `purpose` about `who` with a receipt, checked: the answer (its receipt
    /// taken out) and what the receipt proves.
    fn receipted(&self, purpose: &str, who: (&str, &str, &str, &str)) -> (Value, Checked) {
        let (ssn, first, last, dob) = who;
        let (status, mut v) = self.post_json(
            &format!("/v1/verify/{purpose}?receipt=true"),
            purpose,
            json!({ "ssn": ssn, "first": first, "last": last, "dob": dob }),
        );
        assert_eq!(status, 200, "{v}");
        let receipt: Receipt = serde_json::from_value(v["receipt"].clone()).unwrap();
        let checked = receipt::check(&receipt, &self.log_key(), &Policy::default()).unwrap();
        checked.check_answer(v.as_object().unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("receipt");
        // The statement holds the query as sent and the answer as given.
        let query: Value = serde_json::from_str(checked.statement.query.get()).unwrap();
        assert_eq!(
            query,
            json!({ "ssn": ssn, "first": first, "last": last, "dob": dob })
        );
        let answer: Value = serde_json::from_str(checked.statement.answer.get()).unwrap();
        assert_eq!(answer, v);
        assert_eq!(checked.statement.purpose, purpose);
        // Every opening is the leaf key's commitment of the value stored.
        let leaf_key = dmf_ledger::log::read_leaf_key(&self.data).unwrap();
        for e in &checked.statement.events {
            for o in &e.openings {
                let c = leaf_key.field_commitment(e.seq, &o.field, o.value.get().as_bytes());
                assert_eq!(BASE64.encode(c), o.commitment, "event {}", e.seq);
            }
        }
        (v, checked)
    }

    fn log_key(&self) -> VerifierKey {
        VerifierKey::parse(&std::fs::read_to_string(self.data.join("log/key.pub")).unwrap())
            .unwrap()
    }
}

/// The events a receipt proves, in words: `seq type source` with the fields opened and their
/// values.
fn events(c: &Checked) -> Vec<String> {
    c.leaves
        .iter()
        .zip(&c.statement.events)
        .map(|(leaf, stated)| {
            let mut words = format!("{} {}", leaf.seq, leaf.kind);
            if let Some(Value::String(source)) = leaf.clear.get("source") {
                words.push_str(&format!(" {source}"));
            }
            for o in &stated.openings {
                words.push_str(&format!(" {}={}", o.field, o.value.get()));
            }
            words
        })
        .collect()
}

const CAROL: (&str, &str, &str, &str) = ("345678901", "Carol", "Diaz", "1990-09-09");

#[test]
fn each_purposes_receipt_proves_what_its_answer_stands_on() {
    let s = Server::start();
    let (ssn, first, last, dob) = ALICE;

    // Living and verified: the numberholder record (event 1), its SSN alone opened.
    let (answer, c) = s.receipted("identity", ALICE);
    assert_eq!(
        answer,
        json!({"purpose": "identity", "code": "V", "deceased": false})
    );
    assert_eq!(events(&c), ["1 person ssn=\"123456789\""]);
    assert_eq!(c.checkpoint.size, 4);

    // Not in the file, and a name that does not agree: no event (a log cannot prove absence),
    // the statement and its checkpoint alone.
    let (answer, c) = s.receipted("identity", ("512345678", first, last, dob));
    assert_eq!(answer["code"], "1");
    assert!(c.leaves.is_empty() && c.statement.events.is_empty());
    assert_eq!(c.checkpoint.size, 4);
    let (answer, c) = s.receipted("benefits", (ssn, "Zed", last, dob));
    assert_eq!(answer["code"], "5");
    assert!(c.leaves.is_empty());

    // A state reports Alice's death (event 5): a benefit program's receipt proves the report,
    // in the checkpoint that covers it; a bank and an employer are answered as for the living,
    // on the numberholder record, and shown nothing of the state's report.
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!((status, r["seq"].as_u64()), (201, Some(5)), "{r}");
    let (answer, c) = s.receipted("benefits", ALICE);
    assert_eq!(answer["deceased"], true);
    assert_eq!(events(&c), ["5 death_report state ssn=\"123456789\""]);
    assert_eq!(c.checkpoint.size, 5);
    for purpose in ["identity", "employment"] {
        let (answer, c) = s.receipted(purpose, ALICE);
        assert_ne!(answer["deceased"], true, "{answer}");
        assert_eq!(events(&c), ["1 person ssn=\"123456789\""], "{purpose}");
    }

    // A funeral home agrees (event 6): everyone sees the death now; those who may not receive
    // a state's death data are shown the funeral home's report.
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "funeral",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "FH-1"}),
    );
    assert_eq!((status, r["seq"].as_u64()), (201, Some(6)), "{r}");
    let (answer, c) = s.receipted("identity", ALICE);
    assert_eq!(
        answer,
        json!({"purpose": "identity", "code": "X", "deceased": true})
    );
    assert_eq!(
        events(&c),
        ["6 death_report funeral_home ssn=\"123456789\""]
    );
    let (answer, c) = s.receipted("employment", ALICE);
    assert_eq!(answer["reason"], "death_recorded");
    assert_eq!(
        events(&c),
        ["6 death_report funeral_home ssn=\"123456789\""]
    );
    let (_, c) = s.receipted("benefits", ALICE);
    assert_eq!(events(&c), ["5 death_report state ssn=\"123456789\""]);

    // An employment authorization ended for Carol (event 7): the mismatch gives the notice's
    // contest deadline, so the receipt may open that field of the notice, and no other.
    let (status, r) = s.post_json(
        "/v1/notices/status",
        "authority",
        json!({"ssn": CAROL.0, "first": CAROL.1, "last": CAROL.2, "dob": CAROL.3, "kind": "employment_authorization_ended", "legal_basis": "8 CFR 274a.14", "document": "N-1", "effective": "2026-11-20"}),
    );
    assert_eq!((status, r["seq"].as_u64()), (201, Some(7)), "{r}");
    let (answer, c) = s.receipted("employment", CAROL);
    assert_eq!(answer["result"], "mismatch", "{answer}");
    let deadline = answer["contest_deadline"].as_str().unwrap();
    assert_eq!(
        events(&c),
        [
            "3 person ssn=\"345678901\"".to_owned(),
            format!("7 status_notice ssn=\"345678901\" contest_deadline=\"{deadline}\""),
        ]
    );
    assert_eq!(c.leaves[1].clear["kind"], "employment_authorization_ended");
    assert_eq!(c.leaves[1].clear["authority"], "DHS USCIS");
    // An identity check of Carol stands on her record alone: the notice is not its business.
    let (_, c) = s.receipted("identity", CAROL);
    assert_eq!(events(&c), ["3 person ssn=\"345678901\""]);

    // What the command line prints is in words.
    let words = c.describe().join("\n");
    assert!(
        words.contains("event 3 (person, recorded ") && words.contains("in the log at size 7"),
        "{words}"
    );
}

#[test]
fn without_the_parameter_the_answer_and_its_accounting_are_as_ever() {
    let s = Server::start();
    let (ssn, first, last, dob) = ALICE;
    let body = json!({ "ssn": ssn, "first": first, "last": last, "dob": dob }).to_string();
    for (path, expect) in [
        (
            "/v1/verify/identity",
            r#"{"purpose":"identity","code":"V","deceased":false}"#,
        ),
        (
            "/v1/verify/identity?receipt=false",
            r#"{"purpose":"identity","code":"V","deceased":false}"#,
        ),
    ] {
        let (status, text) = s.post(path, Some("identity"), false, &body);
        assert_eq!((status, text.as_str()), (200, expect), "{path}");
    }
    let (status, text) = s.post("/v1/verify/employment", Some("employment"), false, &body);
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"purpose":"employment","result":"authorized"}"#)
    );

    // With a receipt: the same fields first, then the receipt; one disclosure as without.
    let (status, text) = s.post(
        "/v1/verify/identity?receipt=true",
        Some("identity"),
        false,
        &body,
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        text.starts_with(
            r#"{"purpose":"identity","code":"V","deceased":false,"receipt":{"statement":""#
        ),
        "{text}"
    );
    let (status, v) = s.get_json(&format!("/v1/people/{ssn}/accounting"), Some("caseworker"));
    assert_eq!(status, 200, "{v}");
    let d: Vec<(&str, &Value)> = v["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["purpose"].as_str().unwrap(), &x["fields"]))
        .collect();
    let fields = json!(["code", "deceased"]);
    let employment = json!(["result", "reason", "contest_deadline", "contested"]);
    assert_eq!(
        d,
        [
            ("identity", &fields),
            ("identity", &fields),
            ("employment", &employment),
            ("identity", &fields),
        ]
    );

    // The batch takes no receipts, and no parameter is taken unknown.
    let (status, v) = s.post(
        "/v1/verify/batch?receipt=true",
        Some("identity"),
        true,
        &format!("{body}\n"),
    );
    assert_eq!(status, 400, "{v}");
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["error"]["path"], "receipt", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("receipts come with single answers"),
        "{v}"
    );
    let (status, v) = s.post(
        "/v1/verify/identity?reciept=true",
        Some("identity"),
        false,
        &body,
    );
    assert_eq!(status, 400, "{v}");
    assert!(v.contains("reciept"), "{v}");
}

/// A receipt waits for a published checkpoint that covers its events: with the registry's one
/// witness down, a new death report is signed but never published, and a benefit program's
/// receipt on it is refused after the wait (503, with `Retry-After`), while the same answer
/// without a receipt is given at once.
#[test]
fn a_receipt_on_an_event_no_published_checkpoint_covers_is_503() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (key, url, stop) = super::oversight::witness(&s, dir.path());
    let policy = Policy::parse(&format!(
        "log {}\nwitness witness.test/w1 {} {url}\ngroup witnesses 1 witness.test/w1\nquorum witnesses\n",
        s.log_key().to_text(),
        key.to_text()
    ))
    .unwrap();
    dmf_witness::registry::save(&s.data, &policy).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while policy
        .verify(&s.get("/log/checkpoint", None).1, None)
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline, "never published");
        std::thread::yield_now();
    }

    drop(stop);
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-OH-2"}),
    );
    assert_eq!(status, 201, "{r}");
    let query = json!({"ssn": ssn, "first": first, "last": last, "dob": dob});
    let (status, answer) = s.post_json("/v1/verify/benefits", "benefits", query.clone());
    assert_eq!(
        (status, &answer["deceased"]),
        (200, &json!(true)),
        "{answer}"
    );

    let response = s
        .agent
        .post(format!("{}/v1/verify/benefits?receipt=true", s.base))
        .header("Authorization", format!("Bearer {}", s.keys["benefits"]))
        .header("Content-Type", "application/json")
        .send(query.to_string())
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let published = policy
        .verify(&s.get("/log/checkpoint", None).1, None)
        .unwrap();
    assert_eq!(
        published.checkpoint.size, 4,
        "nothing past the witness's last cosignature"
    );
}
