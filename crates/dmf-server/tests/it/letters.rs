//! The correction letter and its public check over plain HTTP: the letter's short code and its
//! address from `--public-url` (never from the request's Host), the check page at
//! `/letters/CODE` and its form, told apart for a typing mistake, a code never issued and a
//! malformed one, the JSON route taking both codes, the accounting of each check and the one
//! allowance of checks shared by the page and the API. (The browser test of the `dmf` crate
//! drives the same pages in Chromium.)

use std::io::{Read, Write};

use dmf_ledger::letter::ShortCode;
use dmf_server::Config;
use dmf_server::services::letters::PublicUrl;
use dmf_server::users::UserRole;
use serde_json::json;

use super::{ALICE, Server};

const PUBLIC: &str = "https://registry.example.gov";

fn configured() -> Config {
    Config {
        today: Some("2026-11-23".parse().unwrap()),
        public_url: Some(PublicUrl::parse(&format!("{PUBLIC}/")).unwrap()),
        letterhead: vec![
            "Death Master File Registry".into(),
            "PO Box 1000, Baltimore MD 21235".into(),
        ],
        letter_contact: Some("call 1-800-000-0000, weekdays 8 am to 7 pm".into()),
        ..Config::default()
    }
}

/// Alice is reported dead by her state, wrongly; a caseworker asks for a correction and
/// another approves it. The correction's id.
fn corrected(s: &Server) -> i64 {
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-20", "evidence": "EDRS-OH-9"}),
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    let (status, c) = s.post_json(
        "/v1/corrections",
        "caseworker",
        json!({"ssn": ssn, "kind": "reinstate", "reason": "seen in person", "evidence": "passport"}),
    );
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    let (status, a) = s.post_json(
        &format!("/v1/corrections/{id}/approve"),
        "caseworker2",
        json!({}),
    );
    assert_eq!(status, 200, "{a}");
    id
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v)
    }

    /// The text of the element with this id (up to its first tag).
    fn text(&self, id: &str) -> String {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}: {}", self.body));
        let from = at + self.body[at..].find('>').unwrap() + 1;
        let to = from + self.body[from..].find('<').unwrap();
        self.body[from..to].trim().to_owned()
    }
}

/// GET with the headers given (a console session's cookie, a forged Host).
fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut req = agent.get(format!("{}{path}", s.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.call().unwrap();
    Reply {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: resp.into_body().read_to_string().unwrap(),
    }
}

/// The letter page of correction `id` as a signed-in caseworker sees it, asked for with a
/// forged Host.
fn letter_page(s: &Server, id: i64) -> Reply {
    let users = s.app.users();
    if users.login("cw", "a long password 1", 0).is_err() {
        users
            .create("cw", UserRole::Caseworker, "a long password 1", 0)
            .unwrap();
    }
    let session = users
        .login("cw", "a long password 1", dmf_server::now_ms())
        .unwrap();
    // Written by hand, so that the Host sent is surely the forged one.
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET /console/corrections/{id}/letter HTTP/1.1\r\nHost: attacker.example\r\n\
         Cookie: dmf_session={}\r\nConnection: close\r\n\r\n",
        session.token
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    assert!(
        !headers.iter().any(|(k, _)| k == "transfer-encoding"),
        "{head}"
    );
    let page = Reply {
        status,
        headers,
        body: body.to_owned(),
    };
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// The long code, from the address the QR code holds (shown under the letter).
fn long_code(page: &Reply) -> String {
    let url = page.text("letter-long-url");
    url.rsplit('/').next().unwrap().to_owned()
}

/// A code changed at one character, with its check character set right again: well formed,
/// and not one the registry issued.
fn made_up(code: &str) -> String {
    let plain: String = code.chars().filter(|c| *c != '-').collect();
    let swap = if plain.starts_with('7') { "8" } else { "7" };
    let data = format!("{swap}{}", &plain[1..15]);
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        .chars()
        .map(|c| format!("{data}{c}"))
        .find(|t| ShortCode::parse(t).is_ok())
        .unwrap()
}

/// A one-character change of the code, as a person might mistype it.
fn typo(code: &str, at: usize) -> String {
    let mut t: Vec<char> = code.chars().collect();
    t[at] = if t[at] == 'K' { 'X' } else { 'K' };
    t.into_iter().collect()
}

/// Regression (issue 23): the letter's code was 117 characters. Now it prints a code of 16, in
/// groups of four, that the public page and the API both resolve; the long signed code is in
/// the QR code, and resolves too.
#[test]
fn the_letter_code_was_117_characters() {
    let s = Server::with(configured());
    let id = corrected(&s);
    let page = letter_page(&s, id);
    let code = page.text("letter-code");
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!(code.matches('-').count(), 3, "{code}");
    assert_eq!(code.replace('-', "").len(), 16);
    let long = long_code(&page);
    assert_eq!(long.len(), 117);
    for c in [code.as_str(), &code.to_lowercase().replace('-', " "), &long] {
        let r = get(&s, &format!("/letters/{}", c.replace(' ', "%20")), &[]);
        assert_eq!(r.status, 200, "{c}: {}", r.body);
        assert!(
            r.body.contains("ALICE WALKER")
                && r.body.contains("Social Security number ending 6789")
                && r.body
                    .contains("the registry does not list this person as deceased"),
            "{}",
            r.body
        );
        let (status, v) = s.get_json(&format!("/v1/letters/{}", c.replace(' ', "")), None);
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            (&v["valid"], &v["in_effect"], &v["ssn_last4"]),
            (&json!(true), &json!(true), &json!("6789"))
        );
    }
    // The form sends the code typed as `?code=`: the same check.
    let r = get(&s, &format!("/letters?code={code}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Correction letter checked."));
}

/// Regression (issue 23): the letter printed whatever host the caseworker's browser had used.
/// Now the address is `--public-url`'s, whatever Host the request carries; without one the
/// letter shows the path alone and tells the caseworker what is missing.
#[test]
fn the_letter_printed_the_callers_host() {
    let s = Server::with(configured());
    let id = corrected(&s);
    let page = letter_page(&s, id);
    assert!(!page.body.contains("attacker.example"), "{}", page.body);
    let code = page.text("letter-code");
    assert_eq!(page.text("letter-url"), format!("{PUBLIC}/letters/{code}"));
    assert!(
        page.text("letter-long-url")
            .starts_with(&format!("{PUBLIC}/letters/")),
        "{}",
        page.body
    );
    // Letterhead, contact, the QR code and the Print button's script (the one script, from
    // this server, on this page alone).
    assert!(page.body.contains("Death Master File Registry"));
    assert!(page.body.contains("PO Box 1000, Baltimore MD 21235"));
    assert_eq!(
        page.text("letter-contact"),
        "Questions: call 1-800-000-0000, weekdays 8 am to 7 pm"
    );
    assert!(page.body.contains("<svg") && page.body.contains("role=\"img\""));
    assert!(
        page.body
            .contains(r#"<script src="/console/print.js" defer>"#)
    );
    assert!(page.body.contains(r#"id="print" type="button" hidden"#));
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!page.body.contains("letter-setup"));
    let script = get(&s, "/console/print.js", &[]);
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert!(script.body.contains("window.print()"));

    // No public address configured: the path alone, no QR code, and a notice naming the flags.
    let bare = Server::start();
    let id = corrected(&bare);
    let page = letter_page(&bare, id);
    assert!(!page.body.contains("attacker.example"), "{}", page.body);
    let code = page.text("letter-code");
    assert_eq!(page.text("letter-url"), format!("/letters/{code}"));
    assert!(!page.body.contains("<svg"));
    assert!(
        page.body.contains("letter-setup")
            && page.body.contains("--public-url")
            && page.body.contains("--letter-contact"),
        "{}",
        page.body
    );
    // The registry's name stands at the head of the letter: the log's origin.
    assert!(page.body.contains("dmf.test/registry"));
}

/// Regression (issue 23): a one-character typo was refused as a forgery would be. Now a typing
/// mistake, a code the registry never issued and text that is no code are three answers, in
/// words on the page and distinct in the API.
#[test]
fn a_one_character_typo_looked_like_a_forgery() {
    let s = Server::with(configured());
    let id = corrected(&s);
    let code = letter_page(&s, id).text("letter-code");
    let typing = "This code has a typing mistake. Check each character against the letter.";
    let not_issued = "This is not a code the registry issued.";
    let cases: Vec<(String, u16, &str, u16)> = vec![
        (typo(&code, 0), 422, typing, 400),
        (typo(&code, 10), 422, typing, 400),
        (typo(&code, 18), 422, typing, 400),
        // Neighbours swapped.
        (
            {
                let mut c: Vec<char> = code.chars().collect();
                let at = (0..18)
                    .find(|&i| c[i] != '-' && c[i + 1] != '-' && c[i] != c[i + 1])
                    .unwrap();
                c.swap(at, at + 1);
                c.into_iter().collect()
            },
            422,
            typing,
            400,
        ),
        (made_up(&code), 404, not_issued, 404),
        (
            format!("{}U", &code[..18]),
            422,
            "does not have the character “U”",
            400,
        ),
        (
            code[..14].to_owned(),
            422,
            "has 16 letters and digits; this has 12",
            400,
        ),
    ];
    for (typed, page_status, says, api_status) in cases {
        let r = get(&s, &format!("/letters/{typed}"), &[]);
        assert_eq!(r.status, page_status, "{typed}: {}", r.body);
        assert!(r.body.contains(says), "{typed}: {}", r.body);
        // The GOV.UK pattern: a summary linking to the field, the message by the field, the
        // field marked invalid, "Error:" in the title, what was typed kept.
        assert!(
            r.body.contains("<title>Error: Check a correction letter"),
            "{}",
            r.body
        );
        assert!(r.body.contains(r##"href="#code""##));
        assert!(r.body.contains(r#"id="code-error""#));
        assert!(
            r.body
                .contains(r#"aria-describedby="code-hint code-error""#)
        );
        assert!(r.body.contains(r#"aria-invalid="true""#));
        assert!(r.body.contains(&format!("value=\"{typed}\"")));
        if says != typing {
            assert!(!r.body.contains("typing mistake"), "{typed}: {}", r.body);
        }
        let (status, v) = s.get_json(&format!("/v1/letters/{typed}"), None);
        assert_eq!(status, api_status, "{typed}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert_eq!(
            message.contains("typing mistake"),
            says == typing,
            "{typed}: {v}"
        );
    }
    // Nothing typed.
    let r = get(&s, "/letters?code=+", &[]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Enter the code printed on the letter."));
    // The form alone.
    let r = get(&s, "/letters", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(r#"<label for="code">Letter code</label>"#),
        "{}",
        r.body
    );
    assert!(!r.body.contains("aria-invalid"));
}

/// The check page is public (no sign-in, no console navigation) with the console's security
/// headers and no script; each letter found is accounted to its person.
#[test]
fn the_check_page_is_public_and_accounted() {
    let s = Server::with(configured());
    let id = corrected(&s);
    let code = letter_page(&s, id).text("letter-code");
    let r = get(&s, &format!("/letters/{code}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    for (header, value) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        assert_eq!(r.header(header), value, "{header}");
    }
    assert!(r.body.contains(r#"<html lang="en">"#));
    assert!(!r.body.contains("/console/corrections") && !r.body.contains("<script"));
    let (_, acc) = s.get_json("/v1/people/123456789/accounting", Some("caseworker"));
    let to: Vec<&str> = acc["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["to"].as_str().unwrap())
        .collect();
    assert!(to.contains(&"letter check page"), "{acc}");
    assert!(to.contains(&"console user cw"), "{acc}");
}

/// A death recorded again after the correction: the letter is genuine, and the page says the
/// correction no longer holds.
#[test]
fn the_check_page_says_when_a_correction_no_longer_holds() {
    let s = Server::with(configured());
    let id = corrected(&s);
    let code = letter_page(&s, id).text("letter-code");
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2026-11-22", "evidence": "EDRS-OH-12"}),
    );
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    let r = get(&s, &format!("/letters/{code}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("No longer holds")
            && r.body.contains("the correction no longer holds")
            && !r.body.contains("does not list this person as deceased"),
        "{}",
        r.body
    );
    let (_, v) = s.get_json(&format!("/v1/letters/{code}"), None);
    assert_eq!(v["in_effect"], false, "{v}");
}

/// Checks need no key: the page and the API share one allowance, and past it both answer 429
/// with the wait, in words on the page.
#[test]
fn letter_checks_share_one_allowance() {
    let s = Server::with(Config {
        letter_check_rate: 1,
        ..configured()
    });
    let id = corrected(&s);
    let code = letter_page(&s, id).text("letter-code");
    // A burst of five seconds' worth: five checks, by either way.
    for i in 0..5 {
        let status = if i % 2 == 0 {
            get(&s, &format!("/letters/{code}"), &[]).status
        } else {
            s.get_json(&format!("/v1/letters/{code}"), None).0
        };
        assert_eq!(status, 200, "check {i}");
    }
    let r = get(&s, &format!("/letters/{code}"), &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.body
            .contains("Too many letters are being checked just now")
    );
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    let (status, v) = s.get_json(&format!("/v1/letters/{code}"), None);
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited", "{v}");
    // The form alone costs nothing.
    assert_eq!(get(&s, "/letters", &[]).status, 200);
}

/// `--public-url` takes an address alone: a scheme, a host, perhaps a path.
#[test]
fn a_public_url_is_an_address_alone() {
    for (text, ok) in [
        (
            "https://registry.example.gov",
            Some("https://registry.example.gov"),
        ),
        (
            "https://registry.example.gov/",
            Some("https://registry.example.gov"),
        ),
        (
            "http://127.0.0.1:8080/dmf/",
            Some("http://127.0.0.1:8080/dmf"),
        ),
        ("registry.example.gov", None),
        ("https://", None),
        ("https:///letters", None),
        ("https://registry.example.gov/?x=1", None),
        ("https://registry.example.gov/#top", None),
        ("https://registry example.gov", None),
    ] {
        let got = PublicUrl::parse(text).ok();
        assert_eq!(got.as_ref().map(PublicUrl::as_str), ok, "{text}");
    }
}

/// The check page shows the correction's proof in the public log, and `/letters/CODE/proof`
/// gives it as a C2SP tlog-proof file that checks offline with the log's public key alone; a
/// code the registry did not issue gets none, and each download is a check of the allowance.
#[test]
fn the_check_page_proves_the_correction_in_the_public_log() {
    let s = Server::with(Config {
        letter_check_rate: 1,
        ..configured()
    });
    let id = corrected(&s);
    let code = letter_page(&s, id).text("letter-code");
    let key =
        dmf_log::VerifierKey::parse(&std::fs::read_to_string(s.data.join("log/key.pub")).unwrap())
            .unwrap();
    let r = get(&s, &format!("/letters/{code}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = r.text("check-proof");
    assert!(shown.starts_with("c2sp.org/tlog-proof@v1\n"), "{shown}");
    assert!(
        r.body.contains(&format!(
            r#"href="/letters/{code}/proof" download="correction-6.tlog-proof""#
        )),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(
            "dmf log verify --proof correction-6.tlog-proof --key {}",
            key.to_text()
        )),
        "{}",
        r.body
    );

    let r = get(&s, &format!("/letters/{code}/proof"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        r.header("content-disposition"),
        r#"attachment; filename="correction-6.tlog-proof""#
    );
    // What the page shows is the file (the page's text is read trimmed).
    assert_eq!(r.body.trim_end(), shown);
    let policy = dmf_log::Policy::parse("quorum none\n").unwrap();
    let entry = dmf_ledger::receipt::check_proof_file(&r.body, &key, &policy).unwrap();
    assert_eq!(
        (entry.leaf.seq, entry.leaf.kind.as_str()),
        (6, "correction")
    );
    assert_eq!(entry.leaf.clear["kind"], "reinstate");
    // Nothing personal in the leaf: the SSN is a commitment.
    assert!(!r.body.contains("123456789"));

    // Not issued: no proof.
    let r = get(&s, &format!("/letters/{}/proof", made_up(&code)), &[]);
    assert_eq!(r.status, 404, "{}", r.body);
    // Five checks were the allowance: the page, two proofs (one refused) and one more.
    assert_eq!(get(&s, &format!("/letters/{code}/proof"), &[]).status, 200);
    assert_eq!(get(&s, &format!("/letters/{code}"), &[]).status, 200);
    let r = get(&s, &format!("/letters/{code}/proof"), &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
}
