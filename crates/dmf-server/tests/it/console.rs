//! The console over plain HTTP: sign-in with its CSRF cookie, lockout, security headers,
//! roles, and a contest recorded by a caseworker and decided by a supervisor. (The browser
//! test of the `dmf` crate drives the same pages in Chromium.)

use dmf_server::users::{UserRole, Users};
use serde_json::json;

use super::{ALICE, Server};

/// A browser-like client: no redirects followed, cookies kept by hand.
pub(crate) struct Client<'a> {
    s: &'a Server,
    agent: ureq::Agent,
    cookies: Vec<(String, String)>,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) location: String,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl<'a> Client<'a> {
    pub(crate) fn new(s: &'a Server) -> Client<'a> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Client {
            s,
            agent,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take(&mut self, resp: ureq::http::Response<ureq::Body>) -> Reply {
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        for (_, c) in headers.iter().filter(|(k, _)| k == "set-cookie") {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !c.contains("Max-Age=0") {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let location = headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Reply {
            status,
            location,
            headers,
            body: resp.into_body().read_to_string().unwrap(),
        }
    }

    pub(crate) fn get(&mut self, path: &str) -> Reply {
        let resp = self
            .agent
            .get(format!("{}{path}", self.s.base))
            .header("Cookie", self.cookie_header())
            .call()
            .unwrap();
        self.take(resp)
    }

    pub(crate) fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .agent
            .post(format!("{}{path}", self.s.base))
            .header("Cookie", self.cookie_header())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .unwrap();
        self.take(resp)
    }

    /// The CSRF token in a page's forms.
    pub(crate) fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        token(&page.body)
    }

    pub(crate) fn login(&mut self, name: &str, password: &str) -> Reply {
        let t = self.csrf("/console/login");
        self.post(
            "/console/login",
            &[
                ("csrf", &t),
                ("name", name),
                ("password", password),
                ("next", "/console"),
            ],
        )
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn token(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

pub(crate) fn users(s: &Server) {
    let users = Users::open(&s.data.join(dmf_server::USERS_FILE)).unwrap();
    for (name, role) in [
        ("cw", UserRole::Caseworker),
        ("sup", UserRole::Supervisor),
        ("watch", UserRole::Oversight),
    ] {
        users.create(name, role, "a long password 1", 0).unwrap();
    }
}

#[test]
fn sign_in_needs_its_form_token_and_locks_after_repeated_failures() {
    let s = Server::start();
    users(&s);
    let mut c = Client::new(&s);
    let r = c.get("/console/people/123456789");
    assert_eq!(r.status, 303);
    assert_eq!(r.location, "/console/login?next=/console/people/123456789");
    let page = c.get("/console/login");
    for (header, value) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert!(
            page.headers.iter().any(|(k, v)| k == header && v == value),
            "{header}: {:?}",
            page.headers
        );
    }
    let csp = &page
        .headers
        .iter()
        .find(|(k, _)| k == "content-security-policy")
        .unwrap()
        .1;
    assert!(
        csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    assert!(page.body.contains(r#"<label for="password">"#));

    // No form token, or one that is not the cookie's: refused before the password is looked at.
    let t = token(&page.body);
    let r = c.post(
        "/console/login",
        &[("name", "cw"), ("password", "a long password 1")],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = c.post(
        "/console/login",
        &[
            ("csrf", "x"),
            ("name", "cw"),
            ("password", "a long password 1"),
        ],
    );
    assert_eq!(r.status, 403);
    // Each refusal hands out a new form token: the old one no longer signs in.
    let r = c.post(
        "/console/login",
        &[
            ("csrf", &t),
            ("name", "cw"),
            ("password", "a long password 1"),
        ],
    );
    assert_eq!(r.status, 403);
    let r = c.post(
        "/console/login",
        &[
            ("csrf", &token(&r.body)),
            ("name", "cw"),
            ("password", "wrong"),
        ],
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong name or password"));
    let r = c.login("nobody", "a long password 1");
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains("Wrong name or password"),
        "the same answer for an unknown name"
    );

    // Five failures lock the account, even against the right password.
    for _ in 0..4 {
        assert_eq!(c.login("cw", "wrong").status, 401);
    }
    let r = c.login("cw", "a long password 1");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("locked"), "{}", r.body);

    // Another account is not affected; its session cookie is HttpOnly and SameSite.
    let r = c.login("sup", "a long password 1");
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/console");
    let cookie = &r
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("dmf_session="))
        .unwrap()
        .1;
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(c.get("/console").body.contains("sup (supervisor)"));

    // Signing out needs the token too, and ends the session.
    assert_eq!(c.post("/console/logout", &[]).status, 403);
    let t = c.csrf("/console");
    assert_eq!(c.post("/console/logout", &[("csrf", &t)]).status, 303);
    assert_eq!(c.get("/console").status, 303);
}

/// The message a refused sign-in shows.
fn alert(page: &str) -> &str {
    let summary = page
        .find(r#"id="error-summary""#)
        .expect("an error summary");
    let at = summary + page[summary..].find("<p>").expect("a message") + 3;
    page[at..].split('<').next().unwrap()
}

/// A locked account was told it was locked, which an unknown name never is: the lockout showed
/// which names exist. Now a locked account, an unknown name and a wrong password read alike.
#[test]
fn a_locked_account_and_an_unknown_name_read_alike() {
    let s = Server::start();
    users(&s);
    let mut c = Client::new(&s);
    for _ in 0..dmf_server::users::MAX_FAILURES {
        assert_eq!(c.login("cw", "wrong").status, 401);
    }
    let locked = c.login("cw", "a long password 1");
    let unknown = c.login("nobody", "a long password 1");
    let wrong = c.login("sup", "wrong");
    for r in [&locked, &unknown, &wrong] {
        assert_eq!(r.status, 401, "{}", r.body);
    }
    assert_eq!(alert(&locked.body), alert(&unknown.body));
    assert_eq!(alert(&wrong.body), alert(&unknown.body));
    assert!(
        alert(&unknown.body).starts_with("Wrong name or password"),
        "{}",
        unknown.body
    );
}

#[test]
fn roles_limit_what_each_user_sees_and_does() {
    let s = Server::start();
    users(&s);
    let mut watch = Client::new(&s);
    assert_eq!(watch.login("watch", "a long password 1").status, 303);
    for path in [
        "/console/people/123456789",
        "/console/search?ssn=123456789",
        "/console/notices",
    ] {
        let r = watch.get(path);
        assert_eq!(r.status, 403, "{path}");
        assert!(r.body.contains("oversight may not"), "{}", r.body);
    }
    let r = watch.get("/console/oversight");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<svg")
            && r.body.contains("dmf.test/registry")
            && r.body.contains("Data quality"),
        "{}",
        r.body
    );

    let mut cw = Client::new(&s);
    cw.login("cw", "a long password 1");
    let r = cw.get("/console/search?ssn=123-45-6789");
    assert_eq!(
        (r.status, r.location.as_str()),
        (303, "/console/people/123456789")
    );
    let r = cw.get("/console/search?ssn=12345");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("SSN of 9 digits"), "{}", r.body);
    let r = cw.get("/console/search?first=Alicia&last=Walker&dob=1980-05-17");
    assert!(r.body.contains("123456789"), "fuzzy: {}", r.body);
    let r = cw.get("/console/people/123456789");
    assert!(r.body.contains("Not recorded as deceased"));
    // Nothing to correct for a living person.
    let t = token(&r.body);
    let r = cw.post(
        "/console/people/123456789/correct",
        &[
            ("csrf", &t),
            ("reason", "x"),
            ("ev_photo_id", "on"),
            ("ev_in_person", "on"),
        ],
    );
    assert_eq!(r.status, 422);
    assert!(r.body.contains("nothing to correct"), "{}", r.body);
    // The views are in the person's accounting.
    let (_, acc) = s.get_json("/v1/people/123456789/accounting", Some("caseworker"));
    let to: Vec<&str> = acc["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["to"].as_str().unwrap())
        .collect();
    assert!(to.contains(&"console user cw"), "{acc}");
}

#[test]
fn a_contest_is_recorded_by_a_caseworker_and_decided_by_a_supervisor() {
    let s = Server::start();
    users(&s);
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/notices/status",
        "authority",
        json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "kind": "employment_authorization_ended", "legal_basis": "8 CFR 274a.14", "document": "N-1", "effective": "2026-11-20"}),
    );
    assert_eq!(status, 201, "{r}");
    let notice = r["seq"].as_u64().unwrap().to_string();
    assert_eq!(
        s.verify("employment", "employment", ssn, first, last, dob)["result"],
        "mismatch"
    );

    let person = format!("/console/people/{ssn}");
    let mut cw = Client::new(&s);
    cw.login("cw", "a long password 1");
    let page = cw.get(&person);
    assert!(
        page.body.contains("In force; may be contested until")
            && page.body.contains("Record a contest"),
        "{}",
        page.body
    );
    let t = token(&page.body);
    // Without the token nothing is recorded.
    let r = cw.post(
        &format!("{person}/notices/{notice}/contest"),
        &[("notice", &notice), ("reason", "my papers are valid")],
    );
    assert_eq!(r.status, 403);
    let r = cw.post(
        &format!("{person}/notices/{notice}/contest"),
        &[
            ("csrf", &t),
            ("notice", &notice),
            ("reason", "my papers are valid"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Contest recorded"), "{}", r.body);
    let page = cw.get(&person);
    assert!(
        page.body
            .contains("Contested: suspended until a supervisor decides"),
        "{}",
        page.body
    );
    let r = cw.post(
        &format!("{person}/notices/{notice}/decide"),
        &[
            ("csrf", &t),
            ("notice", &notice),
            ("decision", "upheld"),
            ("reason", "x"),
        ],
    );
    assert_eq!(r.status, 403, "caseworkers do not decide");

    let mut sup = Client::new(&s);
    sup.login("sup", "a long password 1");
    let t = sup.csrf(&person);
    let r = sup.post(
        &format!("{person}/notices/{notice}/decide"),
        &[
            ("csrf", &t),
            ("notice", &notice),
            ("decision", "granted"),
            ("reason", "hearing"),
        ],
    );
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Choose whether the contest is upheld or denied")
            && r.body.contains("<title>Error: ")
            && r.body.contains(r#"aria-invalid="true""#)
            && !r.body.contains("$."),
        "{}",
        r.body
    );
    // No decision is chosen for the supervisor.
    let form = sup.get(&format!("{person}/notices/{notice}/decide"));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(!form.body.contains("checked"), "{}", form.body);
    let r = sup.post(
        &format!("{person}/notices/{notice}/decide"),
        &[("csrf", &t), ("reason", "hearing")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = sup.post(
        &format!("{person}/notices/{notice}/decide"),
        &[
            ("csrf", &t),
            ("notice", &notice),
            ("decision", "upheld"),
            ("reason", "hearing H-1"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Contest upheld"), "{}", r.body);
    let page = sup.get(&person);
    assert!(
        page.body.contains("Withdrawn: the contest was upheld")
            && page.body.contains("Contest decision"),
        "{}",
        page.body
    );
    assert_eq!(
        s.verify("employment", "employment", ssn, first, last, dob)["result"],
        "authorized"
    );
}

#[test]
fn agreements_and_their_requests_are_shown_to_every_console_role() {
    let s = Server::start();
    users(&s);
    let today: dmf_model::Date = "2026-11-23".parse().unwrap();
    let terms = dmf_server::programs::terms_from_json(&serde_json::json!({
        "recipient": "State Benefits Agency", "source": "Registry", "purpose": "stop payments",
        "legal_authority": "42 U.S.C. 1320b-7", "recipient_receives": ["deceased"],
        "source_receives": ["name", "dob"], "retention_days": 90,
        "start": "2026-11-01", "expiry": "2027-10-31", "adverse_action": true
    }))
    .unwrap();
    let p = s.app.programs();
    let id = p.create(&terms, "ann", today, 0).unwrap();
    p.approve(id, "oscar", today, 0).unwrap();
    for user in ["watch", "cw", "sup"] {
        let mut c = Client::new(&s);
        assert_eq!(c.login(user, "a long password 1").status, 303);
        let r = c.get("/console/agreements");
        assert_eq!(r.status, 200, "{user}");
        assert!(
            r.body.contains("State Benefits Agency") && r.body.contains(">active<"),
            "{}",
            r.body
        );
        let r = c.get(&format!("/console/agreements/{id}"));
        assert_eq!(r.status, 200);
        assert!(
            r.body.contains("42 U.S.C. 1320b-7") && r.body.contains("oscar on 2026-11-23"),
            "{}",
            r.body
        );
        assert_eq!(c.get("/console/agreements/99").status, 404);
    }
}

#[test]
fn a_held_report_is_confirmed_by_a_caseworker_and_a_supervisor_in_the_console() {
    let s = Server::start();
    users(&s);
    let (ssn, first, last, dob) = ALICE;
    let (status, r) = s.post_json(
        "/v1/reports/death",
        "reporter",
        json!({"ssn": ssn, "first": "Alicia", "last": "Jones", "dob": "1950-01-01", "dod": "2026-11-20", "evidence": "EDRS-OH-9"}),
    );
    assert_eq!((status, r["outcome"].as_str()), (201, Some("held")), "{r}");
    let seq = r["seq"].as_u64().unwrap().to_string();
    let mut cw = Client::new(&s);
    cw.login("cw", "a long password 1");
    let home = cw.get("/console");
    assert!(
        home.body.contains("1 person(s) with reports"),
        "{}",
        home.body
    );
    let queue = cw.get("/console/held");
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(
        queue.body.contains(
            "last: reported JONES, on file WALKER; dob: reported 1950-01-01, on file 1980-05-17"
        ),
        "{}",
        queue.body
    );
    let t = token(&queue.body);
    let review = format!("/console/held/{seq}/review");
    let confirm = |c: &mut Client, t: &str| {
        c.post(
            &review,
            &[
                ("csrf", t),
                ("decision", "confirm"),
                ("evidence", "called the Ohio registrar"),
            ],
        )
    };
    let r = confirm(&mut cw, &t);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("First confirmation recorded")
            && r.body.contains(&format!("href=\"/console/people/{ssn}\"")),
        "{}",
        r.body
    );
    // The second confirmation is a supervisor's, whoever else asks.
    let r = confirm(&mut cw, &t);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        s.verify("benefits", "benefits", ssn, first, last, dob)["deceased"],
        false
    );
    let mut sup = Client::new(&s);
    sup.login("sup", "a long password 1");
    let page = sup.get(&format!("/console/people/{ssn}"));
    assert!(
        page.body.contains("Confirm (second person)"),
        "{}",
        page.body
    );
    let t = token(&page.body);
    let r = confirm(&mut sup, &t);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Confirmed and applied"), "{}", r.body);
    assert_eq!(
        s.verify("benefits", "benefits", ssn, first, last, dob)["deceased"],
        true
    );
    // Oversight does not review.
    let mut watch = Client::new(&s);
    watch.login("watch", "a long password 1");
    assert_eq!(watch.get("/console/held").status, 403);

    // An identity change: asked for by the caseworker, confirmed by the supervisor.
    let (bssn, ..) = ("234567890", "Bob", "Jones", "1975-01-02");
    let page = cw.get(&format!("/console/people/{bssn}"));
    let t = token(&page.body);
    let r = cw.post(
        &format!("/console/people/{bssn}/identity"),
        &[
            ("csrf", &t),
            ("first", "Robert"),
            ("last", "Jones"),
            ("suffix", "Jr"),
            ("sex", ""),
            ("reason", "legal name on the birth certificate"),
            ("evidence", "birth certificate TX-1975-88"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Identity change asked for"), "{}", r.body);
    let (_, q) = s.get_json("/v1/held", Some("caseworker"));
    let change = q["proposed_identity_changes"][0]["seq"].as_u64().unwrap();
    let path = format!("/console/identity-changes/{change}/review");
    let form = |t: &str| {
        vec![
            ("csrf", t.to_owned()),
            ("decision", "confirm".into()),
            ("evidence", "seen".into()),
        ]
    };
    let f = form(&t);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        cw.post(&path, &f).status,
        403,
        "a caseworker does not confirm it"
    );
    let page = sup.get(&format!("/console/people/{bssn}"));
    let t = token(&page.body);
    let f = form(&t);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = sup.post(&path, &f);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Identity change confirmed"), "{}", r.body);
    assert_eq!(
        s.verify(
            "identity",
            "identity",
            bssn,
            "Robert",
            "Jones",
            "1975-01-02"
        )["code"],
        "V"
    );
}

/// Signs in a caseworker and opens each page (200 each), for tests elsewhere that look at
/// what the pages leave behind.
pub(crate) fn sign_in_and_get(s: &Server, pages: &[&str]) {
    users(s);
    let mut c = Client::new(s);
    c.login("cw", "a long password 1");
    for page in pages {
        let r = c.get(page);
        assert_eq!(r.status, 200, "{page}: {}", r.body);
    }
}

/// A state's report showed in the timeline with the level its sender gave ("none"), though a
/// state's report is verified on receipt; and a death a funeral home also reported was kept
/// from every purpose but benefits. The person page now shows both as they are.
#[test]
fn a_state_report_showed_as_unverified_in_the_timeline() {
    let s = Server::start();
    users(&s);
    let mut cw = Client::new(&s);
    assert_eq!(cw.login("cw", "a long password 1").status, 303);
    let (ssn, first, last, dob) = ALICE;
    let report = json!({"ssn": ssn, "first": first, "last": last, "dob": dob, "dod": "2020-05-01", "evidence": "EDRS-OH-7"});
    let (status, r) = s.post_json("/v1/reports/death", "reporter", report.clone());
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("deceased")),
        "{r}"
    );
    let page = cw.get(&format!("/console/people/{ssn}")).body;
    assert!(
        page.contains("verification: verified on receipt (from a state)"),
        "{page}"
    );
    assert!(
        page.contains("reported by a state's vital records office (verified, event"),
        "{page}"
    );
    assert!(page.contains("A state is its sole source"), "{page}");
    assert_eq!(
        s.verify("identity", "identity", ssn, first, last, dob)["deceased"],
        false
    );
    // The funeral home reports the same death (told only that its report was received): no
    // longer a state's alone.
    let (status, r) = s.post_json("/v1/reports/death", "funeral", report);
    assert_eq!(
        (status, r["outcome"].as_str()),
        (201, Some("received")),
        "{r}"
    );
    let page = cw.get(&format!("/console/people/{ssn}")).body;
    assert!(
        page.contains("reported by a state's vital records office and a funeral home ("),
        "{page}"
    );
    assert!(!page.contains("A state is its sole source"), "{page}");
    assert!(
        page.contains("verification: not verified"),
        "the funeral home's own: {page}"
    );
    assert_eq!(
        s.verify("identity", "identity", ssn, first, last, dob)["deceased"],
        true
    );
    assert_eq!(
        s.verify("employment", "employment", ssn, first, last, dob)["reason"],
        "death_recorded"
    );
}

/// The correction page reloaded itself every 2 s until every subscriber had applied the
/// correction (a page that moves under a screen reader, and axe's one violation). It now says
/// the correction is in progress and offers to check again, on request.
#[test]
fn a_correction_page_reloaded_itself_every_two_seconds() {
    let s = Server::start();
    super::two_source_death(&s, "234567890", "Bob", "Jones", "2026-11-19");
    // A certified subscriber receives the death, so the correction has somewhere to go.
    let (cursor, got) = super::feed(&s, "certified", 0);
    assert_eq!(got.len(), 1);
    assert_eq!(super::ack(&s, "certified", cursor), 200);
    let body = json!({"ssn": "234567890", "reason": "seen alive", "evidence": ["passport 1"]});
    let (status, v) = s.post_json("/v1/corrections", "caseworker", body);
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, _) = s.post(
        &format!("/v1/corrections/{id}/approve"),
        Some("caseworker2"),
        false,
        "",
    );
    assert_eq!(status, 200);
    users(&s);
    let mut c = Client::new(&s);
    c.login("cw", "a long password 1");
    let page = c.get(&format!("/console/corrections/{id}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("http-equiv"), "{}", page.body);
    assert!(page.body.contains("In progress"), "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "id=\"check-again\" href=\"/console/corrections/{id}\""
        )),
        "{}",
        page.body
    );
}

/// A page refused by a service's error (an unknown correction, a person not on file) was a
/// bare "Not Found" with no menu. Every refusal now keeps the navigation, and says "Error:" in
/// its title.
#[test]
fn a_refusal_lost_the_menu() {
    let s = Server::start();
    users(&s);
    let mut cw = Client::new(&s);
    cw.login("cw", "a long password 1");
    for (path, status) in [
        ("/console/corrections/99999", 404),
        ("/console/people/999887777", 400),
        ("/console/people/123121234", 404),
        ("/console/agreements/99999", 404),
    ] {
        let r = cw.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(
            r.body.contains(r#"<nav aria-label="Console">"#)
                && r.body.contains("cw (caseworker)")
                && r.body.contains("<title>Error: "),
            "{path}: {}",
            r.body
        );
    }
}

/// The search asked for a date of birth with every name ("Date of birth: expected YYYY-MM-DD,
/// YYYY-MM or YYYY, found \"\""), refused 10/31/1970 and an SSN with spaces, and explained its
/// results in codes (jw92, compatible_partial). Now the date is optional and read in the usual
/// forms, a bad one is named at its field, and the reasons are words.
#[test]
fn a_name_search_needed_a_date_of_birth_and_refused_the_usual_forms() {
    let s = Server::start();
    users(&s);
    let mut cw = Client::new(&s);
    assert_eq!(cw.login("cw", "a long password 1").status, 303);
    let jargon = [
        "jw92",
        "jw85",
        "compatible_partial",
        "day_month_swapped",
        "year_pm1",
    ];
    // (query, a reason that must be shown)
    for (query, reason) in [
        ("first=Alicia&last=Walker&dob=", "no date of birth given"),
        ("last=Walker", "no first name given"),
        (
            "first=Alice&last=Walker&dob=05%2F17%2F1980",
            "born the same day",
        ),
        ("first=Alice&last=Walker&dob=1980", "born the same year"),
        (
            "first=Alice&last=Walker&dob=1980-17-05",
            "born the same day",
        ),
    ] {
        let r = cw.get(&format!("/console/search?{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert!(
            r.body.contains(r#"href="/console/people/123456789""#) && r.body.contains(reason),
            "{query}: {}",
            r.body
        );
        for code in jargon {
            assert!(!r.body.contains(code), "{query}: {code} in {}", r.body);
        }
    }
    let r = cw.get("/console/search?ssn=123+45+6789");
    assert_eq!(
        (r.status, r.location.as_str()),
        (303, "/console/people/123456789")
    );
    // A date that cannot be read either way round is named at its field.
    let r = cw.get("/console/search?first=Alice&last=Walker&dob=1980-02-30");
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("<title>Error: "), "{}", r.body);
    assert!(
        r.body
            .contains(r#"id="dob" type="text" name="dob" value="1980-02-30""#)
            && r.body.contains(r#"aria-invalid="true""#)
            && r.body.contains("1980-02-30 is not a date"),
        "{}",
        r.body
    );
    let r = cw.get("/console/search?first=Alice");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Enter a last name"), "{}", r.body);
    // Someone new since the server started is found at once: the name index follows the
    // answer index.
    let people = s.data.join("new-people.csv");
    std::fs::write(
        &people,
        "ssn,first,middle,last,suffix,sex,dob,birth_state\n567890123,Zelda,,Quimby,,F,1944-04-04,OH\n",
    )
    .unwrap();
    dmf_registry::import_file(
        s.app.registry(),
        &people,
        "2026-11-23".parse().unwrap(),
        0,
        &|_| {},
    )
    .unwrap();
    s.app.follow().unwrap();
    let r = cw.get("/console/search?last=Quimbey");
    assert!(
        r.body.contains(r#"href="/console/people/567890123""#),
        "{}",
        r.body
    );
}
