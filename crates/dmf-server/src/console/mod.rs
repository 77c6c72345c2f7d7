//! The caseworker console at `/console`: server-rendered pages, no outside asset, no script (but
//! the letter's Print button, from this server); also the public letter check at `/letters`.
//! Sessions are cookies (HttpOnly, SameSite=Strict) over the user store; every form carries the
//! session's CSRF token and is refused without it; every page that shows a person's record is
//! accounted to that person.

mod agreements;
mod cases;
mod identity;
mod letters;
mod oversight;
mod person;
mod search;
mod words;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};

use crate::accounting::Disclosure;
use crate::error::ApiError;
use crate::services::corrections::Actor;
use crate::users::{LoginError, Session, UserRole};
use crate::{App, now_ms};

const SESSION_COOKIE: &str = "dmf_session";
const LOGIN_COOKIE: &str = "dmf_login";

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/search", get(search::search))
        .route("/console/people/{ssn}", get(person::person))
        .route(
            "/console/people/{ssn}/notices/{seq}/contest",
            get(person::contest_form).post(person::contest_notice),
        )
        .route(
            "/console/people/{ssn}/notices/{seq}/decide",
            get(person::decide_form).post(person::decide_notice),
        )
        .route(
            "/console/people/{ssn}/correct",
            get(cases::correction_form).post(cases::file_correction),
        )
        .route("/console/held", get(identity::queue))
        .route("/console/held/{seq}/review", post(identity::review_held))
        .route(
            "/console/identity-changes/{seq}/review",
            post(identity::review_change),
        )
        .route("/console/people/{ssn}/identity", post(identity::propose))
        .route("/console/corrections", get(cases::queue))
        .route("/console/corrections/{id}", get(cases::correction))
        .route("/console/corrections/{id}/approve", post(cases::approve))
        .route("/console/corrections/{id}/reject", post(cases::reject))
        .route(
            "/console/corrections/{id}/send-back",
            post(cases::send_back),
        )
        .route("/console/corrections/{id}/withdraw", post(cases::withdraw))
        .route("/console/corrections/{id}/resubmit", post(cases::resubmit))
        .route("/console/corrections/{id}/letter", get(letters::letter))
        .route("/console/print.js", get(letters::print_script))
        .route("/letters", get(letters::check_form))
        .route("/letters/{code}", get(letters::check))
        .route("/letters/{code}/proof", get(letters::proof))
        .route("/console/notices", get(oversight::notices))
        .route("/console/oversight", get(oversight::oversight))
        .route("/console/agreements", get(agreements::list))
        .route("/console/agreements/{id}", get(agreements::show))
        .route("/console/style.css", get(style))
        .layer(axum::middleware::from_fn(remember_session))
}

tokio::task_local! {
    /// The signed-in user of the request being answered, once the `Staff` extractor has found
    /// it: an error page made where no `Staff` is at hand (a `?` on a service's error) still
    /// shows the navigation.
    static SIGNED_IN: std::cell::RefCell<Option<Session>>;
}

async fn remember_session(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    SIGNED_IN
        .scope(std::cell::RefCell::new(None), next.run(req))
        .await
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub(crate) struct Staff(pub Session);

impl Staff {
    fn actor(&self) -> Actor {
        Actor::user(&self.0.user)
    }

    fn role(&self) -> UserRole {
        self.0.user.role
    }

    /// Caseworkers and supervisors only: the pages that show or change people's records.
    fn require_case_role(&self, what: &str) -> Result<(), Page> {
        self.require(&[UserRole::Caseworker, UserRole::Supervisor], what)
    }

    /// Refuses users whose role may not do this, on a page that keeps the navigation.
    fn require(&self, roles: &[UserRole], what: &str) -> Result<(), Page> {
        if roles.contains(&self.role()) {
            return Ok(());
        }
        Err(self.refuse(
            StatusCode::FORBIDDEN,
            format!(
                "{} {} may not {what}.",
                match dmf_model::article(self.role().code()) {
                    "an" => "An",
                    _ => "A",
                },
                self.role().code()
            ),
            None,
        ))
    }

    /// A refusal shown with the navigation, and a link back to where the user came from.
    pub(crate) fn refuse(
        &self,
        status: StatusCode,
        message: impl Into<String>,
        back: Option<(&str, &str)>,
    ) -> Page {
        let message = message.into();
        let mut page = Page::error(status, message.clone());
        page.staff = Some(self.0.clone());
        page.body = html! {
            p.error role="alert" { (message) }
            p {
                @if let Some((href, text)) = back { a #back href=(href) { (text) } } @else { a #back href="/console" { "Back to the console" } }
            }
        };
        page
    }

    /// Refuses a form whose CSRF token is missing or is not this session's.
    fn check_form(&self, form: &HashMap<String, String>) -> Result<(), Page> {
        let given = form.get("csrf").map(String::as_bytes).unwrap_or_default();
        if !given.is_empty() && constant_time_eq(given, self.0.csrf.as_bytes()) {
            return Ok(());
        }
        Err(self.refuse(
            StatusCode::FORBIDDEN,
            "This form did not come from your console session (its CSRF token is missing or \
             wrong). Nothing was changed. Reload the page and try again.",
            None,
        ))
    }

    /// Records that this user is shown part of these people's records, and waits until that is
    /// durable: the page is sent only then.
    async fn disclosed(
        &self,
        app: &App,
        ssns: impl IntoIterator<Item = u32>,
        purpose: &str,
        fields: &[&str],
    ) -> Result<(), Page> {
        let at_ms = now_ms();
        let ds: Vec<Disclosure> = ssns
            .into_iter()
            .map(|ssn| Disclosure {
                ssn,
                at_ms,
                key_id: -self.0.user.id,
                key_name: format!("console user {}", self.0.user.name),
                purpose: purpose.to_owned(),
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            })
            .collect();
        if ds.is_empty() {
            return Ok(());
        }
        let ticket = app.accounting.record_many(ds);
        Ok(app.disclosed(ticket).await?)
    }
}

fn parse_ssn(text: &str) -> Result<dmf_model::Ssn, Page> {
    text.parse()
        .map_err(|e| Page::error(StatusCode::BAD_REQUEST, format!("SSN {text:?}: {e}")))
}

/// The name on file for an SSN, or nothing.
fn name_on_file(app: &App, ssn: dmf_model::Ssn) -> Option<String> {
    let index = app.index.read().expect("index lock");
    let id = index.get(ssn)?.identity.as_ref()?;
    Some(format!("{} {}", id.first, id.last))
}

/// The heading of a refusal, in words.
fn status_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "There is a problem",
        401 | 403 => "You cannot do this",
        404 => "Not found",
        409 => "Already done",
        429 => "Too many requests: try again shortly",
        _ => "Something went wrong",
    }
}

/// A message as a sentence: its first letter in capitals.
pub(crate) fn upper_first(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Percent-encodes everything but unreserved characters and '/'.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<Arc<App>> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Staff, Response> {
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => app
                .users
                .session(token, now_ms())
                .map_err(|e| Page::from(ApiError::internal(e)).into_response())?,
            None => None,
        };
        match session {
            Some(s) => {
                crate::conn::mark_known(&parts.extensions);
                // Outside the console's routes there is no scope, and nothing to remember.
                let _ = SIGNED_IN.try_with(|c| *c.borrow_mut() = Some(s.clone()));
                Ok(Staff(s))
            }
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/console", |p| p.as_str());
                Err(Redirect::to(&format!("/console/login?next={}", pct(next))).into_response())
            }
        }
    }
}

/// A rendered page, or an error shown as one (boxed: it travels in `Err`).
#[derive(Debug)]
pub(crate) struct Page(Box<PageParts>);

impl std::ops::Deref for Page {
    type Target = PageParts;
    fn deref(&self) -> &PageParts {
        &self.0
    }
}

impl std::ops::DerefMut for Page {
    fn deref_mut(&mut self) -> &mut PageParts {
        &mut self.0
    }
}

#[derive(Debug)]
pub(crate) struct PageParts {
    status: StatusCode,
    title: String,
    /// The page shows errors: its title starts with "Error: ".
    has_errors: bool,
    body: Markup,
    /// The user, for the navigation bar.
    staff: Option<Session>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    /// A public page (the letter check): no console navigation.
    public: bool,
    /// The one script a page may load, from this server (the letter's Print button).
    script: Option<&'static str>,
}

impl Page {
    fn new(staff: &Staff, title: impl Into<String>, body: Markup) -> Page {
        Page(Box::new(PageParts {
            status: StatusCode::OK,
            title: title.into(),
            has_errors: false,
            body,
            staff: Some(staff.0.clone()),
            headers: Vec::new(),
            public: false,
            script: None,
        }))
    }

    /// A page for anyone, signed in or not: the frame without the console's navigation.
    fn public(title: impl Into<String>, body: Markup) -> Page {
        Page(Box::new(PageParts {
            status: StatusCode::OK,
            title: title.into(),
            has_errors: false,
            body,
            staff: None,
            headers: Vec::new(),
            public: true,
            script: None,
        }))
    }

    fn error(status: StatusCode, message: impl Into<String>) -> Page {
        let message = message.into();
        Page(Box::new(PageParts {
            status,
            title: status_title(status).to_owned(),
            has_errors: true,
            body: html! { p.error role="alert" { (message) } p { a href="/console" { "Back to the console" } } },
            staff: None,
            headers: Vec::new(),
            public: false,
            script: None,
        }))
    }
}

impl Page {
    fn with_status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    /// Loads `src`, a script of this server: the policy admits scripts from 'self' on this
    /// page alone.
    fn with_script(mut self, src: &'static str) -> Page {
        self.script = Some(src);
        self
    }

    /// A form shown again with its errors: "Error: " in the title, and 422 (or the status
    /// given after) when there are any.
    pub(crate) fn with_errors(mut self, errors: &FormErrors) -> Page {
        if !errors.is_empty() {
            self.has_errors = true;
            self.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        self
    }

    /// The page that ends an action: what happened, in a green panel, and what comes next.
    pub(crate) fn confirmation(
        staff: &Staff,
        title: impl Into<String>,
        happened: Markup,
        next: Markup,
    ) -> Page {
        Page::new(
            staff,
            title,
            html! {
                div.panel #confirmation role="status" { (happened) }
                h2 { "What happens next" }
                (next)
            },
        )
    }
}

/// A form's errors, each tied to its field (by the field's `id`): a summary at the top of the
/// page links to each field, and each field carries its message and `aria-invalid`, as the
/// GOV.UK and U.S. Web Design Systems show them.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub(crate) fn new() -> FormErrors {
        FormErrors::default()
    }

    /// Adds a message, in words, for the field with this `id`.
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The box at the top of the form: "There is a problem", each message linking to its field.
    pub(crate) fn summary(&self) -> Markup {
        html! {
            @if !self.0.is_empty() {
                div.error-summary #error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                    h2 #error-summary-title { "There is a problem" }
                    ul {
                        @for (field, m) in &self.0 { li { a href={ "#" (field) } { (m) } } }
                    }
                }
            }
        }
    }

    /// The message shown above a field (nothing when the field is fine); its id is
    /// `FIELD-error`, for the field's `aria-describedby`.
    pub(crate) fn message(&self, field: &str) -> Markup {
        html! {
            @for (f, m) in &self.0 {
                @if *f == field {
                    p.field-error id={ (field) "-error" } { span.visually-hidden { "Error: " } (m) }
                }
            }
        }
    }

    /// `Some("true")` for a field with an error: the value of its `aria-invalid`.
    pub(crate) fn invalid(&self, field: &str) -> Option<&'static str> {
        self.0.iter().any(|(f, _)| *f == field).then_some("true")
    }

    /// The id of the field's message, for its `aria-describedby`.
    pub(crate) fn described_by(&self, field: &str) -> Option<String> {
        self.invalid(field).map(|_| format!("{field}-error"))
    }

    /// The `aria-describedby` of a field with a hint (`FIELD-hint`): the hint, and the field's
    /// message when it has one.
    pub(crate) fn described_with_hint(&self, field: &str) -> String {
        match self.described_by(field) {
            Some(e) => format!("{field}-hint {e}"),
            None => format!("{field}-hint"),
        }
    }
}

impl From<ApiError> for Page {
    fn from(e: ApiError) -> Page {
        // The message in words; the JSON path is for API clients, not for people.
        Page::error(e.code.status(), upper_first(&e.message))
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut this = *self.0;
        if this.staff.is_none() {
            this.staff = SIGNED_IN.try_with(|c| c.borrow().clone()).ok().flatten();
        }
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { @if this.has_errors { "Error: " } (this.title) @if this.public { " · correction letters" } @else { " · dmf console" } }
                    link rel="stylesheet" href="/console/style.css";
                    @if let Some(src) = this.script { script src=(src) defer {} }
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header {
                        // A public page has no user, so no more than its one link.
                        nav aria-label=(if this.public { "Letters" } else { "Console" }) {
                            @if this.public { a href="/letters" { "Check a correction letter" } } @else { a href="/console" { "dmf console" } }
                            @if let Some(s) = &this.staff {
                                @if s.user.role.handles_cases() {
                                    a href="/console" { "Search" }
                                    a href="/console/notices" { "Notices" }
                                    a href="/console/held" { "Held" }
                                }
                                a href="/console/corrections" { "Corrections" }
                                a href="/console/agreements" { "Agreements" }
                                a href="/console/oversight" { "Oversight" }
                                span.who { (s.user.name) " (" (s.user.role.code()) ")" }
                                form.inline method="post" action="/console/logout" {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    button #sign-out type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    main #main {
                        h1 { (this.title) }
                        (this.body)
                    }
                }
            }
        };
        let mut resp = (this.status, markup).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if this.script.is_some() {
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            } else {
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            }),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        for (k, v) in this.headers {
            h.append(k, v);
        }
        resp
    }
}

pub(crate) type PageResult = Result<Page, Page>;

fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.0.csrf); }
}

/// Pages are for people; times in UTC, to the minute.
fn time(ms: i64) -> String {
    let t = dmf_ledger::leaf::format_time(ms);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

fn set_cookie(app: &App, name: &str, value: &str, path: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if app.config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie text is ASCII")
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("style.css"),
    )
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct NextParam {
    next: Option<String>,
    /// Set after a sign-out, which the page confirms.
    signed_out: Option<String>,
}

/// Only console pages are followed after a login.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/console") && !n.contains("//") && !n.contains('\\') => n,
        _ => "/console",
    }
}

fn random_text() -> String {
    use base64::Engine;
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("system random numbers");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What the sign-in page says above its form.
enum Notice<'a> {
    None,
    Error(&'a str),
    SignedOut,
}

fn login_form(app: &App, next: &str, message: Option<&str>, status: StatusCode) -> Response {
    let notice = message.map_or(Notice::None, Notice::Error);
    login_form_with(app, next, notice, status)
}

fn login_form_with(app: &App, next: &str, notice: Notice<'_>, status: StatusCode) -> Response {
    let token = random_text();
    let message = match notice {
        Notice::Error(m) => Some(m),
        _ => None,
    };
    let body = html! {
        @match notice {
            Notice::Error(m) => { div.error-summary #error-summary role="alert" { h2 { "There is a problem" } p { (upper_first(m)) } } }
            Notice::SignedOut => { div.panel #confirmation role="status" { p { "You have signed out. Your session has ended on this computer." } } }
            Notice::None => {}
        }
        form method="post" action="/console/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            p { label for="name" { "Name" } input #name type="text" name="name" autocomplete="username" required autofocus; }
            p { label for="password" { "Password" } input #password type="password" name="password" autocomplete="current-password" required; }
            p { button type="submit" { "Sign in" } }
        }
    };
    let mut page = Page::error(status, "");
    page.title = "Sign in".into();
    page.has_errors = message.is_some();
    page.body = body;
    page.headers.push((
        header::SET_COOKIE,
        set_cookie(app, LOGIN_COOKIE, &token, "/console/login", Some(3600)),
    ));
    page.into_response()
}

async fn login_page(State(app): State<Arc<App>>, Query(q): Query<NextParam>) -> Response {
    let next = safe_next(q.next.as_deref());
    if q.signed_out.is_some() {
        return login_form_with(&app, next, Notice::SignedOut, StatusCode::OK);
    }
    login_form(&app, next, None, StatusCode::OK)
}

async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let next = safe_next(form.get("next").map(String::as_str)).to_owned();
    // Double-submit: the form's token must equal the cookie set with the form.
    let given = form.get("csrf").map(String::as_str).unwrap_or_default();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if given.is_empty() || !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return login_form(
            &app,
            &next,
            Some(
                "This sign-in form had expired or did not come from this console. Please sign in again.",
            ),
            StatusCode::FORBIDDEN,
        );
    }
    let name = form.get("name").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let app2 = app.clone();
    let result =
        tokio::task::spawn_blocking(move || app2.users.login(name.trim(), &password, now_ms()))
            .await;
    match result {
        Ok(Ok(session)) => {
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, SESSION_COOKIE, &session.token, "/console", None),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, LOGIN_COOKIE, "", "/console/login", Some(0)),
            );
            resp
        }
        Ok(Err(e @ (LoginError::Invalid | LoginError::Locked { .. }))) => {
            login_form(&app, &next, Some(&e.to_string()), StatusCode::UNAUTHORIZED)
        }
        Ok(Err(e)) => Page::from(ApiError::internal(e)).into_response(),
        Err(e) => Page::from(ApiError::internal(e)).into_response(),
    }
}

async fn logout(
    State(app): State<Arc<App>>,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(p) = staff.check_form(&form) {
        return p.into_response();
    }
    if let Err(e) = app.users.logout(&staff.0.token) {
        return Page::from(ApiError::internal(e)).into_response();
    }
    let mut resp = Redirect::to("/console/login?signed_out=1").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, "", "/console", Some(0)),
    );
    resp
}

async fn home(State(app): State<Arc<App>>, staff: Staff) -> PageResult {
    if !staff.role().handles_cases() {
        return Ok(Page::new(
            &staff,
            "Console",
            html! {
                p { "Oversight: see " a href="/console/oversight" { "statistics and checkpoints" } " and " a href="/console/corrections" { "corrections" } "." }
            },
        ));
    }
    let waiting = app
        .workflow
        .corrections(true, 1000)
        .map_err(ApiError::internal)?
        .len();
    let held = app.index.read().expect("index lock").open_work().count();
    Ok(Page::new(
        &staff,
        "Find a person",
        html! {
            (search::search_form(&Default::default(), &FormErrors::new()))
            p { (waiting) " correction(s) " a href="/console/corrections" { "awaiting approval" } "." }
            p #held-waiting { (held) " person(s) with reports, notices or identity changes " a href="/console/held" { "waiting for review" } "." }
        },
    ))
}
