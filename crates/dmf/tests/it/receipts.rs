//! `dmf log verify --proof` on what a running registry hands out: an answer saved with its
//! receipt, the receipt alone, edited copies of them (each refused naming the fault), witness
//! quorums, and a correction letter's `.tlog-proof`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::serve::{key, serve};
use super::{dmf, registry_of, s, stdout};

const PEOPLE: &str = "ssn,first,middle,last,suffix,sex,dob,birth_state
123456789,Alice,Mae,Walker,,F,1980-05-17,OH
234567890,Bob,,Jones,Jr,M,1975-01-02,TX
";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into()
}

fn post(base: &str, path: &str, key: &str, body: &Value) -> Value {
    let text = agent()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {key}"))
        .send(body.to_string().as_str())
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

/// `dmf log verify` of `proof` with the registry's key and `extra` arguments: exit code and
/// standard output.
fn verify(data: &Path, proof: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let key = data.join("log/key.pub");
    let mut args = vec!["log", "verify", "--proof", s(proof), "--key", s(&key)];
    args.extend(extra);
    let out = dmf(&args);
    (out.status.code(), stdout(&out))
}

/// Writes `text` into the folder as `name`.
fn save(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_saved_receipt_verifies_offline_and_an_edited_one_is_refused_naming_the_fault() {
    let (dir, data) = registry_of(PEOPLE);
    let d = s(&data);
    let identity = key(d, "bank", "identity", &[]);
    let reporter = key(d, "ohio", "reporter", &["--source", "state"]);
    let benefits = key(d, "ssa", "benefits", &[]);
    let (_server, base) = serve(d, &["--today", "2026-11-23"]);
    let alice =
        json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17"});

    // A bank's answer with its receipt, saved whole: it verifies and says what it proves.
    let answer = post(&base, "/v1/verify/identity?receipt=true", &identity, &alice);
    assert_eq!(answer["code"], "V", "{answer}");
    let whole = save(dir.path(), "answer.json", &answer.to_string());
    let (code, out) = verify(&data, &whole, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("OK the registry ")
            && out.contains(r#"answered {"purpose":"identity","code":"V","deceased":false} to the identity query"#),
        "{out}"
    );
    assert!(
        out.contains("OK event 1 (person, recorded ") && out.contains("in the log at size 2"),
        "{out}"
    );
    assert!(
        out.contains(r#"event 1's committed ssn is "123456789""#),
        "{out}"
    );
    // The receipt alone, and as JSON for scripts.
    let alone = save(dir.path(), "receipt.json", &answer["receipt"].to_string());
    let (code, out) = verify(&data, &alone, &[]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(&data, &alone, &["--json"]);
    assert_eq!(code, Some(0), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["receipt"]["events"][0]["seq"], 1, "{v}");
    assert_eq!(v["receipt"]["events"][0]["type"], "person", "{v}");
    assert_eq!(v["receipt"]["answer"]["code"], "V", "{v}");

    // Edited copies, each refused with its fault and exit status 1.
    let receipt = &answer["receipt"];
    let mut edited_answer = answer.clone();
    edited_answer["deceased"] = json!(true);
    let statement = {
        let mut r = receipt.clone();
        let text = r["statement"].as_str().unwrap();
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 1;
        r["statement"] = json!(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            bytes
        ));
        r
    };
    let leaf = {
        let mut r = receipt.clone();
        let proof = r["proofs"][0].as_str().unwrap().to_owned();
        let moved = proof.replacen("index 0\n", "index 1\n", 1);
        assert_ne!(moved, proof);
        r["proofs"][0] = json!(moved);
        r
    };
    let stale = {
        let mut r = receipt.clone();
        let note = r["checkpoint"].as_str().unwrap().to_owned();
        r["checkpoint"] = json!(note.replacen("\n2\n", "\n3\n", 1));
        r
    };
    for (name, edited, fault) in [
        (
            "answer",
            edited_answer,
            "the answer beside the receipt is not the answer its statement signs",
        ),
        (
            "statement",
            statement,
            "the statement is not signed by the log's key",
        ),
        (
            "index",
            leaf,
            "proof 1 is of entry 1, but its leaf is event 1 (entry 0)",
        ),
        ("checkpoint", stale, "the checkpoint: signature by key"),
    ] {
        let path = save(dir.path(), &format!("{name}.json"), &edited.to_string());
        let (code, out) = verify(&data, &path, &[]);
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(
            out.contains("FAILED ") && out.contains(fault),
            "{name}: {out}"
        );
    }

    // Witnesses: one the verifier asks for must have cosigned the checkpoint.
    let witness = dmf_log::CosignerKey::from_seed("witness.test/w1", [3; 32]).unwrap();
    let vkey = witness.verifier().to_text();
    let (code, out) = verify(&data, &alone, &["--witness", &vkey]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the quorum is not met"), "{out}");
    let mut cosigned = receipt.clone();
    let note = cosigned["checkpoint"].as_str().unwrap().to_owned();
    let checkpoint =
        dmf_log::Checkpoint::parse_body(&note[..note.find("\n\n").unwrap() + 1]).unwrap();
    let note = dmf_log::add_signatures(&note, &witness.cosign(&checkpoint, 1_795_000_000)).unwrap();
    cosigned["checkpoint"] = json!(note);
    let path = save(dir.path(), "cosigned.json", &cosigned.to_string());
    let (code, out) = verify(&data, &path, &["--witness", &vkey]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("cosigned by witness.test/w1 (at "), "{out}");
    let policy = save(
        dir.path(),
        "policy.txt",
        &format!(
            "witness w1 {vkey}\nwitness w2 {}\ngroup both all w1 w2\nquorum both\n",
            dmf_log::CosignerKey::from_seed("witness.test/w2", [4; 32])
                .unwrap()
                .verifier()
                .to_text()
        ),
    );
    let (code, out) = verify(&data, &path, &["--policy", s(&policy)]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("1 witness(es) cosigned (w1), the policy needs both"),
        "{out}"
    );

    // A benefit program's answer on a state's death report: the receipt proves the report.
    let report = post(
        &base,
        "/v1/reports/death",
        &reporter,
        &json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!(report["seq"], 3, "{report}");
    let answer = post(&base, "/v1/verify/benefits?receipt=true", &benefits, &alice);
    let path = save(dir.path(), "benefits.json", &answer.to_string());
    let (code, out) = verify(&data, &path, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("OK event 3 (death_report, source state")
            && out.contains("in the log at size 3"),
        "{out}"
    );

    // Not in the file: a statement and its checkpoint, no event.
    let answer = post(
        &base,
        "/v1/verify/identity?receipt=true",
        &identity,
        &json!({"ssn": "512345678", "first": "Alice", "last": "Walker", "dob": "1980-05-17"}),
    );
    let path = save(dir.path(), "absent.json", &answer.to_string());
    let (code, out) = verify(&data, &path, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("stands on no event (a log cannot prove absence)"),
        "{out}"
    );

    // A proof of `dmf log prove` still needs its checkpoint, and is checked as ever with it.
    let out = dmf(&["log", "prove", "--data", d, "--seq", "1", "--json"]);
    let proof = save(dir.path(), "prove.json", &stdout(&out));
    let out = dmf(&[
        "log",
        "verify",
        "--proof",
        s(&proof),
        "--key",
        s(&data.join("log/key.pub")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        super::stderr(&out).contains("give the checkpoint it is against with --checkpoint"),
        "{}",
        super::stderr(&out)
    );
    let out = dmf(&["log", "checkpoint", "--data", d]);
    let checkpoint = save(dir.path(), "checkpoint", &stdout(&out));
    let (code, out) = verify(&data, &proof, &["--checkpoint", s(&checkpoint)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("event 1 is in the tree of 3 events"), "{out}");
}

#[test]
fn a_letters_tlog_proof_verifies_offline() {
    let (dir, data) = registry_of(PEOPLE);
    let d = s(&data);
    let reporter = key(d, "ohio", "reporter", &["--source", "state"]);
    let caseworker = key(d, "cw-1", "caseworker", &[]);
    let supervisor = key(d, "cw-2", "caseworker", &[]);
    let (_server, base) = serve(d, &["--today", "2026-11-23"]);
    let report = post(
        &base,
        "/v1/reports/death",
        &reporter,
        &json!({"ssn": "123456789", "first": "Alice", "last": "Walker", "dob": "1980-05-17", "dod": "2026-11-20", "evidence": "EDRS-OH-1"}),
    );
    assert_eq!(report["outcome"], "deceased", "{report}");
    let asked = post(
        &base,
        "/v1/corrections",
        &caseworker,
        &json!({"ssn": "123456789", "reason": "alive, seen at the office", "evidence": ["passport 1"]}),
    );
    let id = asked["id"].as_i64().unwrap_or_else(|| panic!("{asked}"));
    let approved = post(
        &base,
        &format!("/v1/corrections/{id}/approve"),
        &supervisor,
        &json!({}),
    );
    let seq = approved["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("{approved}"));
    // The letter's signed code, as the registry's key makes it.
    let files = dmf_ledger::log::LogFiles::open(&data).unwrap();
    let signer = dmf_ledger::log::read_signer(&files).unwrap();
    let code = dmf_ledger::letter::LetterCode::issue(&signer, seq, "123456789").to_text();
    let resp = agent()
        .get(format!("{base}/letters/{code}/proof"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.into_body().read_to_string().unwrap();
    let path = save(dir.path(), &format!("correction-{seq}.tlog-proof"), &text);
    let (status, out) = verify(&data, &path, &[]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains(&format!("OK event {seq} (correction, kind "))
            && out.contains(&format!("at size {seq}")),
        "{out}"
    );
    // Its leaf edited: refused.
    let edited = text.replacen("index ", "index 1", 1);
    let path = save(dir.path(), "edited.tlog-proof", &edited);
    let (status, out) = verify(&data, &path, &[]);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.contains("FAILED ") && out.contains("proof 1 is of entry 1"),
        "{out}"
    );
}

/// An error answer saved where a receipt was expected (a request sent without its JSON
/// content type) is named as such, with the server's reason, not taken for another proof.
#[test]
fn an_error_answer_saved_in_place_of_a_receipt_is_named() {
    let (dir, data) = registry_of("ssn,first,last,dob\n521234567,Carmen,Stanley,1971-04-30\n");
    let saved = save(
        dir.path(),
        "answer.json",
        r#"{"error":{"code":"unsupported_media_type","message":"send application/json","path":"Content-Type"}}"#,
    );
    let out = dmf(&[
        "log",
        "verify",
        "--proof",
        s(&saved),
        "--key",
        s(&data.join("log/key.pub")),
    ]);
    assert!(!out.status.success());
    let said = format!("{}{}", stdout(&out), super::stderr(&out));
    assert!(
        said.contains("is an error answer, not a receipt: send application/json"),
        "{said}"
    );
}
