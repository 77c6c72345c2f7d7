//! The correction letter and its public check. The letter (for caseworkers to print) has a
//! letterhead, the statement in plain words, the public check address with the short code, a
//! QR code holding the address with the signed long code, and a contact line; the address is
//! the configured public one, never the Host a request came with. The check page at
//! `/letters/CODE` (and its form at `/letters`) is for anyone: no sign-in, the same security
//! headers as the console, the same allowance of checks as the API, each found letter accounted
//! to its person. It tells a typing mistake from a code the registry never issued, and shows the
//! correction's proof in the public log (a C2SP tlog-proof, also to download at
//! `/letters/CODE/proof`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dmf_ledger::letter::CodeError;
use dmf_model::Ssn;
use maud::{Markup, html};

use super::{FormErrors, Page, PageResult, Staff, name_on_file};
use crate::App;
use crate::error::ApiError;
use crate::services::{corrections, letters};

/// The letter's one script: it shows the Print button and prints. Served from this server, and
/// allowed on the letter page alone.
const PRINT_SCRIPT: &str = "\
// The letter's Print button: shown only where this script runs, so it never does nothing.
(function () {
  var button = document.getElementById(\"print\");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener(\"click\", function () { window.print(); });
})();
";

pub(crate) async fn print_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PRINT_SCRIPT,
    )
}

/// A day as the letter gives it.
fn day(ms: i64) -> String {
    dmf_ledger::leaf::format_time(ms)[..10].to_owned()
}

/// A QR code of `text` as inline SVG: dark modules on white with the four-module quiet zone
/// readers need, named for people who cannot see it.
fn qr_svg(text: &str, label: &str) -> Result<Markup, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let width = code.width();
    let mut path = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
        }
    }
    let side = width + 8;
    Ok(html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (side) " " (side) } role="img" aria-label=(label) shape-rendering="crispEdges" {
            rect width=(side) height=(side) fill="#fff" {}
            path d=(path) fill="#000" {}
        }
    })
}

/// `/console/corrections/{id}/letter`: the letter of an approved correction, to print and give
/// to the person.
pub(crate) async fn letter(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    staff.require_case_role("print letters")?;
    let id: i64 = id
        .parse()
        .map_err(|_| Page::error(StatusCode::NOT_FOUND, format!("No correction {id:?}.")))?;
    let c = corrections::get(&app, id)?;
    let codes = letters::letter(&app, &c)?;
    let approval = c
        .approval
        .clone()
        .expect("a letter is of an approved correction");
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    let text = ssn.to_string();
    let name = name_on_file(&app, ssn).unwrap_or_default();
    staff
        .disclosed(
            &app,
            [c.ssn],
            "letter",
            &["name", "ssn_last4", "correction"],
        )
        .await?;
    let printed = codes.printed();
    let config = &app.config;
    let public = config.public_url.as_ref().map(|u| u.as_str());
    let check_page = format!("{}/letters", public.unwrap_or_default());
    let check_url = format!("{check_page}/{printed}");
    let qr = match public {
        Some(p) => Some(qr_svg(
            &format!("{p}/letters/{}", codes.long.to_text()),
            "QR code of the address that checks this letter's signed code",
        )?),
        None => None,
    };
    let long_url = format!(
        "{}/letters/{}",
        public.unwrap_or_default(),
        codes.long.to_text()
    );
    let from: Vec<&str> = if config.letterhead.is_empty() {
        vec![app.signer.name()]
    } else {
        config.letterhead.iter().map(String::as_str).collect()
    };
    let missing: Vec<&str> = [
        (public.is_none(), "--public-url (the address the public reaches the registry at, for example https://registry.example.gov): without it the letter shows the check page's path alone, and no QR code"),
        (config.letter_contact.is_none(), "--letter-contact (who the person or a bank may ask, for example \"call 1-800-000-0000, weekdays 8 am to 7 pm\"): without it the letter has no contact line"),
    ]
    .into_iter()
    .filter_map(|(m, what)| m.then_some(what))
    .collect();
    Ok(Page::new(
        &staff,
        "Correction letter",
        html! {
            @if !missing.is_empty() {
                div.summary-box.noprint #letter-setup role="status" {
                    h2 { "This letter is missing part of its setup" }
                    p { "Ask whoever runs the registry to start it with:" }
                    ul { @for m in &missing { li { (m) } } }
                }
            }
            div.noprint {
                p { "Print this letter and give it to the person. It says what the registry states about them; anyone they show it to can check it." }
                p { button #print type="button" hidden { "Print this letter" } }
            }
            div.letter #letter {
                div.letterhead {
                    @for (i, line) in from.iter().enumerate() {
                        p.org[i == 0] { (line) }
                    }
                }
                p #letter-date { "Date: " (app.today()) }
                h2 { "Correction of a death record" }
                p { "To whom it may concern," }
                p #letter-statement {
                    "The registry's record for " strong #letter-name { (name) } ", whose Social Security number ends in "
                    strong { (&text[text.len() - 4..]) } ", listed this person as deceased. That was wrong. "
                    "The record was corrected on " (day(approval.at)) ", and the registry does not list this person as deceased."
                }
                p { "Subscribers to the Death Master File that received the wrong record have been sent the correction. Please restore any account or benefit closed because of it." }
                h2 { "Check this letter" }
                div.letter-check {
                    div {
                        p { "Anyone can check this letter at:" }
                        p.code #letter-url { (check_url) }
                        p { "or by going to " span.code { (check_page) } " and typing this code:" }
                        p.code.letter-code #letter-code { (printed) }
                        p { "The page says what the registry states about the person on the day it is checked. A code with a typing mistake is told apart from one the registry did not issue." }
                    }
                    @if let Some(svg) = &qr {
                        figure.letter-qr #letter-qr {
                            (svg)
                            figcaption { "Or scan this with a phone: it checks the letter's signed code." }
                        }
                    }
                }
                @if let Some(contact) = &config.letter_contact {
                    p #letter-contact { "Questions: " (contact) }
                }
            }
            details.noprint {
                summary { "The letter's signed code" }
                p { "The QR code holds this address. Its code carries the registry's signature, which anyone with the registry's public key can check." }
                p.code #letter-long-url { (long_url) }
            }
        },
    )
    .with_script("/console/print.js"))
}

/// The form of the check page, with the code as typed and its errors.
fn code_form(typed: &str, errors: &FormErrors) -> Markup {
    let described = match errors.described_by("code") {
        Some(e) => format!("code-hint {e}"),
        None => "code-hint".to_owned(),
    };
    html! {
        form method="get" action="/letters" novalidate {
            (errors.summary())
            label for="code" { "Letter code" }
            p.hint #code-hint { "The 16 letters and digits printed under “Check this letter”, such as 4F7K-Q2MX-9RTD-8W3N. Capital or small letters, with or without the dashes." }
            (errors.message("code"))
            input #code type="text" name="code" value=(typed) autocomplete="off" spellcheck="false" autocapitalize="characters" aria-describedby=(described) aria-invalid=[errors.invalid("code")];
            p { button #check type="submit" { "Check the letter" } }
        }
    }
}

/// The check page with the form alone, or with what was wrong with the code typed.
fn form_page(typed: &str, errors: &FormErrors) -> Page {
    Page::public(
        "Check a correction letter",
        html! {
            p { "A letter from the registry says that a person's record was corrected: the registry had listed them as deceased by mistake. Type the code on the letter to see what the registry states about the person today." }
            (code_form(typed, errors))
        },
    )
    .with_errors(errors)
}

/// A failure of the server, on a public page: no console link.
fn failed(e: ApiError) -> Page {
    Page::public(
        "Sorry, there is a problem with the service",
        html! {
            p.error role="alert" { (super::upper_first(&e.message)) }
            p { "Nothing you typed was kept. Try again later." }
        },
    )
    .with_status(e.code.status())
}

/// Checks what was typed and says, in words, what it is.
async fn check_page(app: &Arc<App>, typed: &str) -> Page {
    let typed = typed.trim();
    let mut errors = FormErrors::new();
    if typed.is_empty() {
        errors.add("code", "Enter the code printed on the letter.");
        return form_page(typed, &errors);
    }
    if let Err(wait) = letters::take_check(app) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut page = Page::public(
            "Too many letters are being checked",
            html! {
                p.error role="alert" { "Too many letters are being checked just now. Try again in " (secs) " seconds." }
                p { a href="/letters" { "Check a letter" } }
            },
        )
        .with_status(StatusCode::TOO_MANY_REQUESTS);
        page.headers.push((
            header::RETRY_AFTER,
            HeaderValue::from_str(&secs.to_string()).expect("digits"),
        ));
        return page;
    }
    let outcome = match letters::check_letter(app, typed).await {
        Ok(o) => o,
        Err(e) => return failed(e),
    };
    let checked = match outcome {
        letters::CheckOutcome::Issued(c) => c,
        letters::CheckOutcome::Typo => {
            errors.add(
                "code",
                "This code has a typing mistake. Check each character against the letter.",
            );
            return form_page(typed, &errors);
        }
        letters::CheckOutcome::NotIssued => {
            errors.add("code", "This is not a code the registry issued.");
            return form_page(typed, &errors).with_status(StatusCode::NOT_FOUND);
        }
        letters::CheckOutcome::Malformed(e) => {
            errors.add("code", malformed(&e));
            return form_page(typed, &errors);
        }
    };
    if let Err(e) = letters::disclosed(app, &checked, "letter check page").await {
        return failed(e);
    }
    // The page says what the registry states without it if the log cannot prove it just now.
    let proof = letters::proof(app, &checked).await.ok();
    let who = html! {
        strong #check-name { (checked.first) " " (checked.last) } " (Social Security number ending " (checked.ssn_last4()) ")"
    };
    let corrected = day(checked.corrected_at_ms);
    let body = if checked.in_effect {
        html! {
            div.panel #check-result role="status" {
                p { strong { "Correction letter checked." } }
                p #check-statement {
                    "The registry's record for " (who) " was corrected on " (corrected)
                    ": the registry does not list this person as deceased."
                }
            }
            h2 { "What this means" }
            p { "The registry had listed this person as deceased by mistake, and has corrected its record. An account or benefit closed because of the wrong record may be restored." }
        }
    } else {
        html! {
            div.summary-box #check-result role="status" {
                p { span.tag.tag-yellow { "No longer holds" } }
                p #check-statement {
                    "The registry issued this letter: its record for " (who) " was corrected on " (corrected)
                    ". Since then a death has been recorded for this person again, so the correction no longer holds."
                }
            }
            h2 { "What this means" }
            p { "The letter is genuine, but it no longer describes the registry's record. Ask the person, or the registry, about the death recorded since." }
        }
    };
    let file = letters::proof_file_name(&checked);
    let link: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    Page::public(
        "Correction letter checked",
        html! {
            (body)
            p { "This is what the registry states today, " (app.today()) "." }
            h2 { "Proof in the public log" }
            @if let Some(proof) = &proof {
                p { "The correction is an entry of the registry's public log, which anyone can follow. This proof shows the entry in a checkpoint the registry signed; it holds nothing personal (the entry keeps the person's details as sealed commitments)." }
                pre #check-proof { (proof) }
                p { a #check-proof-download href={ "/letters/" (link) "/proof" } download=(file) { "Download the proof (" (file) ")" } }
                p { "To check it yourself, save it and run " code { "dmf log verify --proof " (file) " --key " (app.signer.verifier().to_text()) } ": the key is the registry's public key." }
            } @else {
                p #check-proof-later { "The public log has not signed this correction's entry yet. Check the letter again in a minute to see its proof." }
            }
            h2 { "Check another letter" }
            (code_form("", &FormErrors::new()))
        },
    )
}

/// `GET /letters/{code}/proof`: the proof of a checked letter's correction in the public log,
/// as a C2SP tlog-proof file to download; only for a code the registry issued, and counted
/// against the checks everyone shares.
pub(crate) async fn proof(State(app): State<Arc<App>>, Path(code): Path<String>) -> Response {
    let text = |status: StatusCode, body: String| {
        (
            status,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response()
    };
    if let Err(wait) = letters::take_check(&app) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut r = text(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many letters are being checked just now. Try again in {secs} seconds.\n"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let checked = match letters::check_letter(&app, code.trim()).await {
        Ok(letters::CheckOutcome::Issued(c)) => c,
        Ok(letters::CheckOutcome::Typo | letters::CheckOutcome::Malformed(_)) => {
            return text(
                StatusCode::BAD_REQUEST,
                "This is not a letter code: check each character against the letter.\n".into(),
            );
        }
        Ok(letters::CheckOutcome::NotIssued) => {
            return text(
                StatusCode::NOT_FOUND,
                "This is not a code the registry issued.\n".into(),
            );
        }
        Err(e) => return text(e.code.status(), format!("{}\n", e.message)),
    };
    match letters::proof(&app, &checked).await {
        Ok(proof) => {
            let mut r = text(StatusCode::OK, proof);
            let disposition = format!(
                "attachment; filename=\"{}\"",
                letters::proof_file_name(&checked)
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => {
            let mut r = text(e.code.status(), format!("{}\n", e.message));
            if let Some(s) = e.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
    }
}

/// A code no code is like, in words.
fn malformed(e: &CodeError) -> String {
    match e {
        CodeError::Character { ch, .. } => format!(
            "A letter code does not have the character “{ch}”. Check each character against the letter."
        ),
        CodeError::Length { got } => format!(
            "A letter code has 16 letters and digits; this has {got}. Check that you typed all of it, and nothing else."
        ),
        // An altered long code (from a QR code): no one typed it.
        CodeError::Long(_) => "This is not a code the registry issued.".to_owned(),
        CodeError::Typo => {
            "This code has a typing mistake. Check each character against the letter.".to_owned()
        }
    }
}

/// `GET /letters`: the form; `GET /letters?code=…`: the check of the code typed into it.
pub(crate) async fn check_form(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    match q.get("code") {
        Some(code) => check_page(&app, code).await,
        None => form_page("", &FormErrors::new()),
    }
}

/// `GET /letters/{code}`: the check of the code the letter prints (or its QR code holds).
pub(crate) async fn check(State(app): State<Arc<App>>, Path(code): Path<String>) -> Page {
    check_page(&app, &code).await
}
