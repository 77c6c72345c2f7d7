//! Every route's real answers validate against the description it serves: each route of the
//! table is asked for a success and, where it has one, an error, and each answer's body (each
//! line of an NDJSON one) goes through a JSON Schema validator that knows nothing of the server,
//! against that route's schema for that status and content type in `/openapi.json`. A route of
//! the table that no request here reached fails the test.

use std::collections::{BTreeMap, BTreeSet};

use dmf_server::keys::{NewKey, Role};
use serde_json::{Value, json};

use super::Server;

const DOC: &str = "https://dmf.test/openapi.json";

/// The served description with every answer's schema lifted into a named component, so that
/// the validator compiles each by name with the document's own references resolved.
struct Described {
    schemas: boon::Schemas,
    compiler: boon::Compiler,
    /// (method, path, status, content type) to the component holding its schema.
    answers: BTreeMap<(String, String, String, String), String>,
}

impl Described {
    fn of(s: &Server) -> Described {
        let (status, mut doc) = s.get_json("/openapi.json", None);
        assert_eq!(status, 200);
        let mut answers = BTreeMap::new();
        let mut lifted = serde_json::Map::new();
        let paths = doc["paths"].as_object().unwrap().clone();
        for (path, item) in &paths {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    for (content, media) in response["content"].as_object().into_iter().flatten() {
                        let name = format!("answer{}", answers.len());
                        lifted.insert(name.clone(), media["schema"].clone());
                        answers.insert(
                            (
                                method.clone(),
                                path.clone(),
                                status.clone(),
                                content.clone(),
                            ),
                            name,
                        );
                    }
                }
            }
        }
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .extend(lifted);
        let mut compiler = boon::Compiler::new();
        compiler.add_resource(DOC, doc).unwrap();
        Described {
            schemas: boon::Schemas::new(),
            compiler,
            answers,
        }
    }

    /// Where `value` does not validate against the answer described for the route, status and
    /// content type; `Err` naming what is not described at all.
    fn check(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        content: &str,
        value: &Value,
    ) -> Result<(), String> {
        let key = (
            method.to_owned(),
            path.to_owned(),
            status.to_string(),
            content.to_owned(),
        );
        let Some(name) = self.answers.get(&key) else {
            return Err(format!(
                "{method} {path}: {status} {content} is not described"
            ));
        };
        let at = format!("{DOC}#/components/schemas/{name}");
        let index = self.compiler.compile(&at, &mut self.schemas).unwrap();
        self.schemas
            .validate(value, index)
            .map_err(|e| format!("{method} {path} {status}: {e}\n{value:#}"))
    }
}

/// One request of the exercise: the route it is for (its path as the table gives it), the
/// path asked, the key, the content type and body (for a POST).
struct Ask<'a> {
    method: &'static str,
    route: &'static str,
    path: String,
    key: Option<&'a str>,
    body: Option<(&'static str, String)>,
}

fn get<'a>(route: &'static str, path: impl Into<String>, key: Option<&'a str>) -> Ask<'a> {
    Ask {
        method: "get",
        route,
        path: path.into(),
        key,
        body: None,
    }
}

fn post<'a>(
    route: &'static str,
    path: impl Into<String>,
    key: Option<&'a str>,
    content: &'static str,
    body: impl Into<String>,
) -> Ask<'a> {
    Ask {
        method: "post",
        route,
        path: path.into(),
        key,
        body: Some((content, body.into())),
    }
}

const JSON: &str = "application/json";
const NDJSON: &str = "application/x-ndjson";
const TEXT: &str = "text/plain";
const FHIR: &str = "application/fhir+json";

/// Asks the server, validates the answer against the description and records which routes
/// answered with a success and with an error.
struct Exercise<'s> {
    s: &'s Server,
    described: Described,
    successes: BTreeSet<(String, String)>,
    errors: BTreeSet<(String, String)>,
    wrong: Vec<String>,
}

impl Exercise<'_> {
    /// The status and the body as JSON (NDJSON: an array of its lines; text: a string).
    fn ask(&mut self, a: Ask<'_>) -> (u16, Value) {
        let url = format!("{}{}", self.s.base, a.path);
        let resp = match &a.body {
            None => {
                let mut r = self.s.agent.get(&url);
                if let Some(k) = a.key {
                    r = r.header("Authorization", format!("Bearer {}", self.s.keys[k]));
                }
                r.call()
            }
            Some((content, body)) => {
                let mut r = self.s.agent.post(&url).header("Content-Type", *content);
                if let Some(k) = a.key {
                    r = r.header("Authorization", format!("Bearer {}", self.s.keys[k]));
                }
                r.send(body.as_str())
            }
        }
        .unwrap_or_else(|e| panic!("{} {}: {e}", a.method, a.path));
        let status = resp.status().as_u16();
        let content = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let text = resp.into_body().read_to_string().unwrap();
        let values: Vec<Value> = match content.as_str() {
            JSON | FHIR => vec![serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!(
                    "{} {}: {status} is not JSON ({e}): {text}",
                    a.method, a.path
                )
            })],
            NDJSON => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            TEXT => vec![Value::String(text.clone())],
            other => panic!("{} {}: {status} in {other:?}", a.method, a.path),
        };
        for v in &values {
            if let Err(e) = self.described.check(a.method, a.route, status, &content, v) {
                self.wrong.push(e);
            }
        }
        let route = (a.method.to_owned(), a.route.to_owned());
        if (200..300).contains(&status) {
            self.successes.insert(route);
        } else {
            self.errors.insert(route);
        }
        let body = match content.as_str() {
            NDJSON => Value::Array(values),
            _ => values.into_iter().next().unwrap_or(Value::Null),
        };
        (status, body)
    }

    /// Asks and expects `status`.
    fn expect(&mut self, status: u16, a: Ask<'_>) -> Value {
        let what = format!("{} {}", a.method, a.path);
        let (got, v) = self.ask(a);
        assert_eq!(got, status, "{what}: {v}");
        v
    }
}

#[test]
fn every_route_answers_as_the_description_says() {
    let mut s = Server::start();
    let (ssn, first, last, dob) = super::ALICE;
    let verify = json!({ "ssn": ssn, "first": first, "last": last, "dob": dob }).to_string();
    let report = |ssn: &str, first: &str, last: &str, key: &str| {
        json!({ "ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": format!("EDRS {key}"), "idempotency_key": key }).to_string()
    };

    // The agreement and its agency key are made before the exercise borrows the server.
    let (status, agreement) = s.post_json(
        "/v1/agreements",
        "caseworker",
        json!({
            "recipient": "State Benefits Agency", "source": "Registry",
            "purpose": "stop payments to deceased beneficiaries", "legal_authority": "42 U.S.C. 1320b-7",
            "recipient_receives": ["ssn", "name", "dob", "deceased", "date_of_death", "death_source", "status"],
            "source_receives": ["name", "dob", "ssn"],
            "retention_days": 90, "start": "2026-11-01", "expiry": "2027-10-31", "adverse_action": true
        }),
    );
    assert_eq!(status, 201, "{agreement}");
    let id = agreement["id"].as_u64().unwrap();
    let (status, v) = s.post_json(
        &format!("/v1/agreements/{id}/approve"),
        "oversight",
        json!({}),
    );
    assert_eq!(status, 200, "{v}");
    let (key, secret) = s
        .app
        .keys()
        .create(NewKey::plain("test-bound-agency", Role::Agency), 0)
        .unwrap();
    s.app
        .programs()
        .bind_key(
            id,
            key.id,
            &key.name,
            "test",
            "2026-11-23".parse().unwrap(),
            0,
        )
        .unwrap();
    s.keys.insert("bound", secret);

    let described = Described::of(&s);
    let mut x = Exercise {
        s: &s,
        described,
        successes: BTreeSet::new(),
        errors: BTreeSet::new(),
        wrong: Vec::new(),
    };

    // Verification, one purpose a route, and in bulk.
    for purpose in ["identity", "employment", "benefits"] {
        let route = match purpose {
            "identity" => "/v1/verify/identity",
            "employment" => "/v1/verify/employment",
            _ => "/v1/verify/benefits",
        };
        x.expect(200, post(route, route, Some(purpose), JSON, verify.clone()));
        // With its receipt, and a receipt parameter that is not a boolean.
        let receipted = format!("{route}?receipt=true");
        let v = x.expect(
            200,
            post(route, receipted, Some(purpose), JSON, verify.clone()),
        );
        assert!(v["receipt"]["statement"].is_string(), "{v}");
        let wrong = format!("{route}?receipt=yes");
        x.expect(400, post(route, wrong, Some(purpose), JSON, verify.clone()));
        x.expect(400, post(route, route, Some(purpose), JSON, "{}"));
        x.expect(401, post(route, route, None, JSON, verify.clone()));
        x.expect(
            403,
            post(route, route, Some("reporter"), JSON, verify.clone()),
        );
    }
    let batch = format!("{verify}\n{{\"ssn\": 1}}\n");
    let lines = x.expect(
        200,
        post(
            "/v1/verify/batch",
            "/v1/verify/batch",
            Some("benefits"),
            NDJSON,
            batch,
        ),
    );
    assert_eq!(lines.as_array().unwrap().len(), 2, "{lines}");
    x.expect(
        403,
        post(
            "/v1/verify/batch",
            "/v1/verify/batch",
            Some("caseworker"),
            NDJSON,
            "{}",
        ),
    );

    // A state's FHIR VRDR message, and a key that may not send one.
    let route = "/v1/fhir/vrdr";
    let message = super::fhir::message(
        "DeathRecordSubmissionMessage.json",
        "described-1",
        "NY",
        1,
        Some(("111223333", "Zed", "Nobody", "1950-01-01")),
        "2026-11-01",
    );
    x.expect(
        200,
        post(route, route, Some("state-ny"), FHIR, message.to_string()),
    );
    x.expect(403, post(route, route, Some("reporter"), FHIR, "{}"));
    let route = "/v1/fhir/vrdr/records/{record}";
    x.expect(
        200,
        get(
            route,
            "/v1/fhir/vrdr/records/2026NY000001",
            Some("caseworker"),
        ),
    );
    x.expect(
        404,
        get(
            route,
            "/v1/fhir/vrdr/records/2026NY999999",
            Some("oversight"),
        ),
    );

    // Submissions: accepted, refused, and in bulk; reports held for their identity.
    let route = "/v1/reports/death";
    x.expect(
        201,
        post(
            route,
            route,
            Some("reporter"),
            JSON,
            report(ssn, first, last, "r-1"),
        ),
    );
    x.expect(
        422,
        post(
            route,
            route,
            Some("reporter"),
            JSON,
            r#"{"ssn": "123456789"}"#,
        ),
    );
    let bulk = format!(
        "{}\n{{\"ssn\": \"x\"}}\n",
        report("234567890", "Bob", "Jones", "r-2")
    );
    x.expect(200, post(route, route, Some("hospital"), NDJSON, bulk));
    let held: Vec<u64> = (0..2)
        .map(|i| {
            let body = report("567890123", "Nobody", "Known", &format!("h-{i}"));
            let v = x.expect(201, post(route, route, Some("reporter"), JSON, body));
            assert_eq!(v["outcome"], "held", "{v}");
            v["seq"].as_u64().unwrap()
        })
        .collect();
    let route = "/v1/notices/status";
    let notice = json!({
        "ssn": "345678901", "first": "Carol", "last": "Diaz", "kind": "benefits_suspended",
        "legal_basis": "42 USC 402", "document": "N-9", "effective": "2026-12-01"
    });
    x.expect(
        201,
        post(route, route, Some("authority"), JSON, notice.to_string()),
    );
    x.expect(
        422,
        post(
            route,
            route,
            Some("authority"),
            JSON,
            r#"{"ssn": "345678901"}"#,
        ),
    );

    // A person's accounting.
    let route = "/v1/people/{ssn}/accounting";
    x.expect(
        200,
        get(
            route,
            format!("/v1/people/{ssn}/accounting"),
            Some("caseworker"),
        ),
    );
    x.expect(
        400,
        get(route, "/v1/people/12345/accounting", Some("caseworker")),
    );

    // The feed, its acknowledgement and the files.
    let page = x.expect(
        200,
        get("/v1/feed", "/v1/feed?after=0&wait=0", Some("benefits")),
    );
    let cursor = page["cursor"].as_u64().unwrap();
    x.expect(
        400,
        get("/v1/feed", "/v1/feed?after=999999&wait=0", Some("benefits")),
    );
    let route = "/v1/feed/ack";
    let ack = json!({ "cursor": cursor }).to_string();
    x.expect(200, post(route, route, Some("benefits"), JSON, ack));
    x.expect(
        422,
        post(
            route,
            route,
            Some("benefits"),
            JSON,
            r#"{"cursor": 999999}"#,
        ),
    );
    x.expect(
        200,
        get("/v1/files/full", "/v1/files/full", Some("subscriber")),
    );
    x.expect(
        403,
        get("/v1/files/full", "/v1/files/full", Some("reporter")),
    );
    let route = "/v1/files/updates";
    x.expect(
        200,
        get(route, "/v1/files/updates?since=0", Some("subscriber")),
    );
    x.expect(400, get(route, "/v1/files/updates", Some("subscriber")));

    // The held queue, reviews and identity changes.
    x.expect(200, get("/v1/held", "/v1/held", Some("caseworker")));
    x.expect(400, get("/v1/held", "/v1/held?limit=0", Some("caseworker")));
    let confirm = "/v1/held/{seq}/confirm";
    let checked = r#"{"evidence": "called the family", "reason": "checked"}"#;
    let path = format!("/v1/held/{}/confirm", held[0]);
    x.expect(201, post(confirm, path, Some("caseworker"), JSON, checked));
    x.expect(
        404,
        post(
            confirm,
            "/v1/held/1/confirm",
            Some("caseworker"),
            JSON,
            checked,
        ),
    );
    let reject = "/v1/held/{seq}/reject";
    let path = format!("/v1/held/{}/reject", held[1]);
    x.expect(201, post(reject, path, Some("caseworker"), JSON, "{}"));
    x.expect(
        404,
        post(reject, "/v1/held/1/reject", Some("caseworker"), JSON, "{}"),
    );
    let route = "/v1/people/{ssn}/identity";
    let change =
        r#"{"first": "Robert", "last": "Jones", "reason": "court order", "evidence": "order 7"}"#;
    let changes: Vec<u64> = (0..2)
        .map(|_| {
            let path = "/v1/people/234567890/identity";
            let v = x.expect(201, post(route, path, Some("caseworker"), JSON, change));
            v["seq"].as_u64().unwrap()
        })
        .collect();
    let path = "/v1/people/234567890/identity";
    x.expect(
        400,
        post(route, path, Some("caseworker"), JSON, r#"{"note": 1}"#),
    );
    let route = "/v1/identity-changes/{seq}/confirm";
    let path = format!("/v1/identity-changes/{}/confirm", changes[0]);
    x.expect(201, post(route, path, Some("caseworker2"), JSON, checked));
    let path = "/v1/identity-changes/1/confirm";
    x.expect(404, post(route, path, Some("caseworker2"), JSON, checked));
    let route = "/v1/identity-changes/{seq}/reject";
    let path = format!("/v1/identity-changes/{}/reject", changes[1]);
    x.expect(201, post(route, path, Some("caseworker2"), JSON, "{}"));
    x.expect(
        404,
        post(
            route,
            "/v1/identity-changes/1/reject",
            Some("caseworker2"),
            JSON,
            "{}",
        ),
    );

    // A correction, its approval by a second person, its propagation, its letter.
    let route = "/v1/corrections";
    let correction =
        json!({ "ssn": ssn, "kind": "reinstate", "reason": "seen alive", "evidence": "passport" });
    let c = x.expect(
        201,
        post(
            route,
            route,
            Some("caseworker"),
            JSON,
            correction.to_string(),
        ),
    );
    let correction_id = c["id"].as_i64().unwrap();
    let living = json!({ "ssn": "456789012", "kind": "reinstate", "reason": "alive", "evidence": "passport" });
    x.expect(
        422,
        post(route, route, Some("caseworker"), JSON, living.to_string()),
    );
    let route = "/v1/corrections/{id}/propagation";
    let path = format!("/v1/corrections/{correction_id}/propagation");
    x.expect(200, get(route, path.clone(), Some("oversight")));
    // Sent back for evidence by another key (not by its requester), it cannot be approved or
    // sent back again until its requester resubmits it.
    let route = "/v1/corrections/{id}/send-back";
    let send_back = format!("/v1/corrections/{correction_id}/send-back");
    let missing = r#"{"reason": "a second document with the date of birth"}"#;
    x.expect(
        403,
        post(route, send_back.clone(), Some("caseworker"), JSON, missing),
    );
    x.expect(
        400,
        post(route, send_back.clone(), Some("caseworker2"), JSON, "{}"),
    );
    let sent = x.expect(
        200,
        post(route, send_back.clone(), Some("caseworker2"), JSON, missing),
    );
    assert_eq!(sent["status"], "sent_back", "{sent}");
    x.expect(
        422,
        post(route, send_back, Some("caseworker2"), JSON, missing),
    );
    x.expect(
        404,
        post(
            route,
            "/v1/corrections/999/send-back",
            Some("caseworker2"),
            JSON,
            missing,
        ),
    );
    let route = "/v1/corrections/{id}/approve";
    let approve = format!("/v1/corrections/{correction_id}/approve");
    x.expect(
        422,
        post(route, approve.clone(), Some("caseworker2"), JSON, ""),
    );
    let route = "/v1/corrections/{id}/resubmit";
    let resubmit = format!("/v1/corrections/{correction_id}/resubmit");
    let more = json!({ "ssn": ssn, "kind": "reinstate", "reason": "seen alive", "evidence": ["passport", "birth certificate"] });
    x.expect(
        403,
        post(
            route,
            resubmit.clone(),
            Some("caseworker2"),
            JSON,
            more.to_string(),
        ),
    );
    x.expect(
        400,
        post(
            route,
            resubmit.clone(),
            Some("caseworker"),
            JSON,
            r#"{"note": 1}"#,
        ),
    );
    let again = x.expect(
        200,
        post(route, resubmit, Some("caseworker"), JSON, more.to_string()),
    );
    assert_eq!(again["status"], "awaiting_approval", "{again}");
    let route = "/v1/corrections/{id}/approve";
    x.expect(
        403,
        post(route, approve.clone(), Some("caseworker"), JSON, ""),
    );
    let approved = x.expect(200, post(route, approve, Some("caseworker2"), JSON, ""));
    let route = "/v1/corrections/{id}/propagation";
    x.expect(200, get(route, path, Some("caseworker")));

    // Rejected with a reason; another, withdrawn by its requester; nothing after either.
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({ "ssn": "345678901", "first": "Carol", "last": "Diaz", "dob": "1990-09-09", "dod": "2026-11-20", "evidence": "EDRS c-1" }),
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    let carol = json!({ "ssn": "345678901", "kind": "reinstate", "reason": "called in", "evidence": ["photo id"] }).to_string();
    let ask = |x: &mut Exercise<'_>| {
        let c = x.expect(
            201,
            post(
                "/v1/corrections",
                "/v1/corrections",
                Some("caseworker"),
                JSON,
                carol.clone(),
            ),
        );
        assert_eq!(c["filed"], "new", "{c}");
        c["id"].as_i64().unwrap()
    };
    let rejected = ask(&mut x);
    let route = "/v1/corrections/{id}/reject";
    let reject = format!("/v1/corrections/{rejected}/reject");
    let why = r#"{"reason": "the caller could not answer the security questions"}"#;
    x.expect(
        403,
        post(route, reject.clone(), Some("caseworker"), JSON, why),
    );
    x.expect(
        400,
        post(
            route,
            reject.clone(),
            Some("caseworker2"),
            JSON,
            r#"{"reason": 1}"#,
        ),
    );
    x.expect(
        422,
        post(
            route,
            reject.clone(),
            Some("caseworker2"),
            JSON,
            r#"{"reason": " "}"#,
        ),
    );
    let r = x.expect(
        200,
        post(route, reject.clone(), Some("caseworker2"), JSON, why),
    );
    assert_eq!(r["status"], "rejected", "{r}");
    x.expect(422, post(route, reject, Some("caseworker2"), JSON, why));
    let route = "/v1/corrections/{id}/propagation";
    let r = x.expect(
        200,
        get(
            route,
            format!("/v1/corrections/{rejected}/propagation"),
            Some("oversight"),
        ),
    );
    assert_eq!(
        (r["status"].as_str(), r["reason"].as_str()),
        (
            Some("rejected"),
            Some("the caller could not answer the security questions")
        )
    );
    let withdrawn = ask(&mut x);
    let route = "/v1/corrections/{id}/withdraw";
    let withdraw = format!("/v1/corrections/{withdrawn}/withdraw");
    x.expect(
        403,
        post(route, withdraw.clone(), Some("caseworker2"), JSON, ""),
    );
    x.expect(
        400,
        post(
            route,
            withdraw.clone(),
            Some("caseworker"),
            JSON,
            r#"{"why": "x"}"#,
        ),
    );
    let w = x.expect(
        200,
        post(route, withdraw.clone(), Some("caseworker"), JSON, ""),
    );
    assert_eq!(w["status"], "withdrawn", "{w}");
    x.expect(422, post(route, withdraw, Some("caseworker"), JSON, ""));
    x.expect(
        404,
        post(
            route,
            "/v1/corrections/999/withdraw",
            Some("caseworker"),
            JSON,
            "",
        ),
    );
    let route = "/v1/corrections/{id}/propagation";
    x.expect(
        404,
        get(route, "/v1/corrections/999/propagation", Some("caseworker")),
    );
    let signer =
        dmf_ledger::log::read_signer(&dmf_ledger::log::LogFiles::open(&s.data).unwrap()).unwrap();
    let seq = approved["seq"].as_u64().unwrap();
    let subject = ssn.parse::<dmf_model::Ssn>().unwrap();
    let letter = dmf_ledger::letter::LetterCode::issue(&signer, seq, subject);
    let short = dmf_ledger::letter::ShortCode::issue(&signer, seq, subject).unwrap();
    let route = "/v1/letters/{code}";
    x.expect(
        200,
        get(route, format!("/v1/letters/{}", letter.to_text()), None),
    );
    x.expect(
        200,
        get(
            route,
            format!("/v1/letters/{}", short.to_grouped_text()),
            None,
        ),
    );
    x.expect(400, get(route, "/v1/letters/not-a-code", None));
    // A short code with a typing mistake: its first character changed.
    let printed = short.to_text();
    let changed = if printed.starts_with('7') { "8" } else { "7" };
    let typo = format!("{changed}{}", &printed[1..]);
    x.expect(400, get(route, format!("/v1/letters/{typo}"), None));

    // The public log.
    x.expect(200, get("/v1/log/checkpoint", "/v1/log/checkpoint", None));
    let route = "/v1/log/proof/inclusion";
    x.expect(200, get(route, "/v1/log/proof/inclusion?seq=1", None));
    x.expect(400, get(route, "/v1/log/proof/inclusion?seq=0", None));
    x.expect(
        404,
        get(route, "/v1/log/proof/inclusion?seq=1&size=99999", None),
    );
    let route = "/v1/log/proof/consistency";
    x.expect(
        200,
        get(route, "/v1/log/proof/consistency?from=1&to=2", None),
    );
    x.expect(
        400,
        get(route, "/v1/log/proof/consistency?from=2&to=1", None),
    );

    // Oversight.
    x.expect(200, get("/v1/stats", "/v1/stats?period=month", None));
    x.expect(200, get("/v1/stats", "/v1/stats", None));
    x.expect(400, get("/v1/stats", "/v1/stats?period=week", None));
    x.expect(200, get("/v1/alerts", "/v1/alerts", None));
    x.expect(
        200,
        get("/v1/quality", "/v1/quality?samples=2", Some("oversight")),
    );
    x.expect(
        400,
        get("/v1/quality", "/v1/quality?max_age=10", Some("oversight")),
    );
    let (_, file) = s.get("/v1/files/full", Some("certified"));
    let route = "/v1/quality/published";
    x.expect(200, post(route, route, Some("oversight"), TEXT, file));
    x.expect(
        422,
        post(route, route, Some("oversight"), TEXT, "too short\n"),
    );

    // Matching programs.
    let route = "/v1/agreements";
    x.expect(200, get(route, route, Some("oversight")));
    x.expect(403, get(route, route, Some("agency")));
    let terms = json!({
        "recipient": "Pension Fund", "source": "Registry", "purpose": "stop pensions",
        "legal_authority": "5 U.S.C. 552a", "recipient_receives": ["deceased"],
        "source_receives": ["name"], "retention_days": 30, "start": "2026-01-01",
        "expiry": "2027-01-31"
    });
    let renewable = x.expect(
        201,
        post(route, route, Some("caseworker"), JSON, terms.to_string()),
    );
    let renewable = renewable["id"].as_u64().unwrap();
    x.expect(
        400,
        post(
            route,
            route,
            Some("caseworker"),
            JSON,
            r#"{"recipient": 1}"#,
        ),
    );
    let route = "/v1/agreements/{id}/approve";
    let path = format!("/v1/agreements/{renewable}/approve");
    x.expect(200, post(route, path.clone(), Some("oversight"), JSON, ""));
    x.expect(422, post(route, path, Some("oversight"), JSON, ""));
    let route = "/v1/agreements/{id}/renew";
    let path = format!("/v1/agreements/{renewable}/renew");
    x.expect(
        400,
        post(route, path.clone(), Some("oversight"), JSON, "{}"),
    );
    let to = r#"{"expiry": "2028-01-31"}"#;
    x.expect(200, post(route, path, Some("oversight"), JSON, to));
    let route = "/v1/agreements/stats";
    x.expect(200, get(route, route, Some("caseworker")));
    x.expect(
        400,
        get(
            route,
            "/v1/agreements/stats?period=year",
            Some("caseworker"),
        ),
    );
    let route = "/v1/agreements/{id}";
    x.expect(
        200,
        get(route, format!("/v1/agreements/{id}"), Some("bound")),
    );
    x.expect(404, get(route, "/v1/agreements/999", Some("oversight")));
    let route = "/v1/agreements/{id}/matches";
    let list = [
        json!({ "id": "a", "first": first, "last": last, "dob": dob, "ssn": ssn }),
        json!({ "id": "b", "first": "Bob", "last": "Jones", "dob": "1975-01-02", "ssn": "234567890" }),
        json!({ "id": "c", "first": "Carol", "last": "Diaz", "dob": "1990-09-09", "sex": "Q" }),
        json!({ "nope": 1 }),
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect::<String>();
    let path = format!("/v1/agreements/{id}/matches");
    let answer = x.expect(
        200,
        post(route, path.clone(), Some("bound"), NDJSON, list.clone()),
    );
    let request = answer["request"].as_u64().unwrap();
    x.expect(403, post(route, path, Some("agency"), NDJSON, list));
    let route = "/v1/agreements/{id}/matches/{request}/{n}/{step}";
    let step = format!("/v1/agreements/{id}/matches/{request}/0/verification");
    x.expect(
        200,
        post(route, step, Some("bound"), JSON, r#"{"method": "checked"}"#),
    );
    let step = format!("/v1/agreements/{id}/matches/{request}/0/notice");
    let sent = r#"{"sent": "2026-11-23", "reference": "letter 1"}"#;
    x.expect(200, post(route, step, Some("bound"), JSON, sent));
    let step = format!("/v1/agreements/{id}/matches/{request}/0/nothing");
    x.expect(404, post(route, step, Some("bound"), JSON, "{}"));

    // Operations.
    x.expect(200, get("/healthz", "/healthz", None));
    x.expect(200, get("/metrics", "/metrics", None));
    x.expect(200, get("/openapi.json", "/openapi.json", None));

    let Exercise {
        successes,
        errors,
        wrong,
        ..
    } = x;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every route of the table answered, and every route that can fail answered an error.
    for (method, path, roles) in dmf_server::openapi::described() {
        let route = (method.to_owned(), path.to_owned());
        assert!(
            successes.contains(&route),
            "{method} {path}: no success asked"
        );
        // Only the public routes without parameters have no error to ask for.
        let can_fail = !roles.is_empty()
            || path.contains('{')
            || path.contains("/v1/log/proof")
            || path == "/v1/stats";
        if can_fail {
            assert!(errors.contains(&route), "{method} {path}: no error asked");
        }
    }
}
