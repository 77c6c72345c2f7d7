//! Computer-matching programs over HTTP: agreements and their approval, agency requests held to
//! the agreement, disclosures on the record, and due process before adverse action.

use dmf_server::keys::{NewKey, Role};
use serde_json::{Value, json};

use super::Server;

impl Server {
    /// An agency key bound to `agreement`, under `name`.
    fn agency_key(&mut self, name: &'static str, agreement: u64) {
        let (key, secret) = self
            .app
            .keys()
            .create(NewKey::plain(&format!("test-{name}"), Role::Agency), 0)
            .unwrap();
        self.app
            .programs()
            .bind_key(
                agreement,
                key.id,
                &key.name,
                "test",
                "2026-11-23".parse().unwrap(),
                0,
            )
            .unwrap();
        self.keys.insert(name, secret);
    }

    fn post_csv(&self, path: &str, key: &str, body: &str) -> (u16, String) {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.keys[key]))
            .header("Content-Type", "text/csv")
            .send(body)
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.into_body().read_to_string().unwrap())
    }
}

fn terms() -> Value {
    json!({
        "recipient": "State Benefits Agency", "source": "Registry",
        "purpose": "stop payments to deceased beneficiaries",
        "legal_authority": "42 U.S.C. 1320b-7",
        "recipient_receives": ["deceased", "date_of_death"],
        "source_receives": ["name", "dob"],
        "retention_days": 90, "start": "2026-11-01", "expiry": "2027-10-31",
        "adverse_action": true
    })
}

fn list(lines: &[Value]) -> String {
    lines.iter().map(|l| l.to_string() + "\n").collect()
}

fn stats_row(s: &Server, agreement: u64) -> Value {
    let (status, v) = s.get_json("/v1/agreements/stats", Some("oversight"));
    assert_eq!(status, 200, "{v}");
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agreement"] == agreement)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn an_agency_matches_under_an_approved_agreement_and_gets_only_the_agreed_elements() {
    let mut s = Server::start();
    // Alice is reported dead by a state; Bob is alive.
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!(status, 201, "{r}");

    // Terms beyond the law or unknown elements are refused with their path.
    let mut long = terms();
    long["expiry"] = "2028-06-01".into();
    let (status, v) = s.post_json("/v1/agreements", "caseworker", long);
    assert_eq!(
        (status, v["error"]["path"].as_str()),
        (400, Some("$.expiry")),
        "{v}"
    );
    let mut odd = terms();
    odd["recipient_receives"] = json!(["deceased", "income"]);
    let (status, v) = s.post_json("/v1/agreements", "caseworker", odd);
    assert_eq!(
        (status, v["error"]["path"].as_str()),
        (400, Some("$.recipient_receives[1]")),
        "{v}"
    );
    assert_eq!(
        s.post("/v1/agreements", None, false, &terms().to_string())
            .0,
        401
    );
    assert_eq!(s.post_json("/v1/agreements", "subscriber", terms()).0, 403);

    let (status, a) = s.post_json("/v1/agreements", "caseworker", terms());
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["status"], "awaiting_approval");
    let id = a["id"].as_u64().unwrap();
    s.agency_key("agency1", id);

    let people = list(&[
        json!({"id": "A-1", "first": "Alice", "last": "Walker", "dob": "1980-05-17"}),
        json!({"id": "A-2", "first": "Robert", "last": "Jones", "dob": "1975-01-02"}),
        json!({"id": "A-3", "first": "Nobody", "last": "Here", "dob": "1950-01-01"}),
        json!({"id": "A-4", "first": "No"}),
    ]);
    let path = format!("/v1/agreements/{id}/matches");
    let (status, text) = s.post(&path, Some("agency"), true, "");
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("bound to no agreement"), "{text}");
    // Not yet approved: refused, and on the record.
    let (status, text) = s.post(&path, Some("agency1"), true, &people);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("awaiting approval"), "{text}");

    // The caseworker who wrote it cannot approve; oversight can.
    assert_eq!(
        s.post_json(
            &format!("/v1/agreements/{id}/approve"),
            "caseworker",
            json!({})
        )
        .0,
        403
    );
    let (status, a) = s.post_json(
        &format!("/v1/agreements/{id}/approve"),
        "oversight",
        json!({}),
    );
    assert_eq!((status, a["status"].as_str()), (200, Some("active")), "{a}");
    assert_eq!(a["approved_by"], "test-oversight");
    // Oversight cannot approve what it wrote itself.
    let (_, mine) = s.post_json("/v1/agreements", "oversight", terms());
    let (status, v) = s.post_json(
        &format!("/v1/agreements/{}/approve", mine["id"]),
        "oversight",
        json!({}),
    );
    assert_eq!(status, 403, "{v}");

    // Elements or fields the agreement does not name: refused and recorded.
    let (status, text) = s.post(
        &format!("{path}?elements=deceased,name"),
        Some("agency1"),
        true,
        &people,
    );
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("name may not be disclosed"), "{text}");
    let with_ssn = list(&[json!({"first": "Alice", "last": "Walker", "ssn": "123456789"})]);
    let (status, text) = s.post(&path, Some("agency1"), true, &with_ssn);
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("ssn may not be received"), "{text}");

    let (status, text) = s.post(&path, Some("agency1"), true, &people);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (v["records"].as_u64(), v["matched"].as_u64()),
        (Some(4), Some(2)),
        "{v}"
    );
    let matches = v["matches"].as_array().unwrap();
    // Exactly the agreed elements, the match class and the due-process handle; nothing else.
    for m in matches {
        let mut keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "class",
                "date_of_death",
                "deceased",
                "id",
                "line",
                "match",
                "probability",
                "status"
            ],
            "{m}"
        );
        assert_eq!(m["status"], "unverified");
    }
    let alice = matches.iter().find(|m| m["id"] == "A-1").unwrap();
    assert_eq!(
        (&alice["deceased"], &alice["date_of_death"]),
        (&json!(true), &json!("2026-11-20"))
    );
    let bob = matches.iter().find(|m| m["id"] == "A-2").unwrap();
    assert_eq!(
        (&bob["deceased"], &bob["date_of_death"]),
        (&json!(false), &Value::Null)
    );
    assert!(
        matches.iter().all(|m| m["id"] != "A-3"),
        "nothing for the unmatched"
    );
    assert_eq!(
        v["errors"],
        json!([{"line": 4, "path": "last", "message": "required"}])
    );
    assert!(
        !text.contains("123456789") && !text.contains("WALKER"),
        "{text}"
    );

    // On the record: the person's accounting names the agreement; statistics count it all.
    let (_, acct) = s.get_json("/v1/people/123456789/accounting", Some("caseworker"));
    let purposes: Vec<&str> = acct["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["purpose"].as_str())
        .collect();
    assert!(
        purposes.contains(&format!("matching program, agreement {id}").as_str()),
        "{acct}"
    );
    let row = stats_row(&s, id);
    assert_eq!(
        (
            &row["requests"],
            &row["refused"],
            &row["records"],
            &row["matched"],
            &row["disclosed"]
        ),
        (&json!(1), &json!(3), &json!(4), &json!(2), &json!(2)),
        "{row}"
    );
    // Another agency's key sees neither the agreement nor its cases.
    let (_, other) = s.post_json("/v1/agreements", "caseworker", terms());
    let other_id = other["id"].as_u64().unwrap();
    s.agency_key("agency2", other_id);
    assert_eq!(
        s.get_json(&format!("/v1/agreements/{id}"), Some("agency2"))
            .0,
        403
    );
    assert_eq!(s.post(&path, Some("agency2"), true, &people).0, 403);

    // Due process before adverse action on Alice's match.
    let n = alice["match"].as_u64().unwrap();
    let step = |name: &str, body: Value| {
        let (status, text) = s.post(
            &format!("{path}/{}/{n}/{name}", v["request"]),
            Some("agency1"),
            false,
            &body.to_string(),
        );
        (status, serde_json::from_str::<Value>(&text).unwrap())
    };
    let (status, r) = step("adverse-action", json!({}));
    assert_eq!(status, 422, "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("verified"),
        "{r}"
    );
    let (status, r) = step(
        "verification",
        json!({"method": "state death record EDRS-OH-1 checked"}),
    );
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("verified")),
        "{r}"
    );
    let (status, r) = step("notice", json!({"reference": "letter 2026-0042"}));
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("notice_sent")),
        "{r}"
    );
    assert_eq!(r["contest_until"], "2026-12-23");
    let (status, r) = step("adverse-action", json!({}));
    assert_eq!(status, 422, "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("30 days"),
        "{r}"
    );
    let (status, r) = step("contest", json!({}));
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("contested")),
        "{r}"
    );
    let (status, r) = step("adverse-action", json!({}));
    assert_eq!(status, 422, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("contest is open"),
        "{r}"
    );
    let (status, r) = step("decision", json!({"decision": "maybe"}));
    assert_eq!(
        (status, r["error"]["path"].as_str()),
        (400, Some("$.decision")),
        "{r}"
    );
    let (status, r) = step("notice", json!({"reference": "again"}));
    assert_eq!(status, 422, "{r}");
    // The agreement shows the case for staff.
    let (_, shown) = s.get_json(&format!("/v1/agreements/{id}"), Some("caseworker"));
    let req = shown["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["refused"].is_null())
        .unwrap();
    assert_eq!(
        req["cases"],
        json!([{"match": n, "status": "contested"}]),
        "{shown}"
    );
    // A bad field is a fault, not a refusal: the person is matched on the rest, and the answer
    // says which field was read as missing and why.
    let faulty = list(&[
        json!({"id": "F-1", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "sex": "X"}),
        json!({"id": "F-2", "first": "Robert", "last": "Jones", "dob": "1975-13-02"}),
    ]);
    let (status, text) = s.post(&path, Some("agency1"), true, &faulty);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["errors"], json!([]), "{v}");
    let faults: Vec<(u64, &str)> = v["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(faults, [(1, "sex"), (2, "dob")], "{v}");
    assert!(
        v["faults"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("matched as missing"),
        "{v}"
    );
    assert!(
        v["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "F-1"),
        "{v}"
    );
}

#[test]
fn law_enforcement_disclosures_need_the_criterion_per_record_and_are_listed_as_such() {
    let mut s = Server::start();
    let mut t = terms();
    t["recipient"] = "State Police".into();
    t["purpose"] = "locate a suspect".into();
    t["recipient_receives"] = json!(["deceased", "name"]);
    t["adverse_action"] = false.into();
    t["law_enforcement_criterion"] = "an indictment or conviction for a violent crime".into();
    let (_, a) = s.post_json("/v1/agreements", "caseworker", t);
    let id = a["id"].as_u64().unwrap();
    assert_eq!(
        s.post_json(
            &format!("/v1/agreements/{id}/approve"),
            "oversight",
            json!({})
        )
        .0,
        200
    );
    s.agency_key("police", id);
    let csv = "id,first,last,dob,case_reference\n\
               P-1,Carol,Diaz,1990-09-09,Indictment 26-CR-117\n\
               P-2,Dan,Okafor,1962-12-01,\n";
    let (status, text) = s.post_csv(&format!("/v1/agreements/{id}/matches"), "police", csv);
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["matched"], 1, "{v}");
    assert_eq!(
        v["matches"][0]["name"],
        json!({"first": "CAROL", "last": "DIAZ"})
    );
    assert!(
        v["matches"][0].get("match").is_none(),
        "no adverse action under this agreement"
    );
    assert_eq!(v["errors"][0]["line"], 3);
    assert_eq!(v["errors"][0]["path"], "case_reference");
    let (_, acct) = s.get_json("/v1/people/345678901/accounting", Some("caseworker"));
    assert!(
        acct.to_string().contains(&format!(
            "law enforcement, agreement {id}, case Indictment 26-CR-117"
        )),
        "{acct}"
    );
    assert_eq!(stats_row(&s, id)["law_enforcement_disclosures"], 1);
    // No due process on a program that may not lead to adverse action.
    let (status, _) = s.post(
        &format!(
            "/v1/agreements/{id}/matches/{}/0/verification",
            v["request"]
        ),
        Some("police"),
        false,
        r#"{"method": "x"}"#,
    );
    assert_eq!(status, 422);
}
