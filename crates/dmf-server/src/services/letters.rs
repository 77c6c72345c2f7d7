//! The letter of a corrected record and its check, the same for the API and the pages: the
//! codes of an approved correction's letter, what a typed or scanned code stands for (a typing
//! mistake and a code the registry never issued are told apart), the proof of its correction
//! in the public log, the public address printed on the letter, and the limit on checks, which
//! anyone may make.

use std::time::{Duration, Instant};

use dmf_ledger::letter::{AnyCode, CodeError, LetterCode, ShortCode};
use dmf_model::Ssn;
use dmf_registry::Event;

use crate::accounting::Disclosure;
use crate::error::{ApiError, Code};
use crate::services::blocking;
use crate::workflow::CorrectionRequest;
use crate::{App, now_ms};

/// The codes of a letter.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Signed with the registry's key: in the QR code, checkable by anyone with the public key.
    pub long: LetterCode,
    /// Printed for people to type; none past the event numbers it holds.
    pub short: Option<ShortCode>,
}

impl Letter {
    /// The code printed for people to type, grouped: the short code, or the long one where
    /// there is none.
    pub fn printed(&self) -> String {
        self.short
            .map_or_else(|| self.long.to_grouped_text(), |s| s.to_grouped_text())
    }
}

/// The letter of an approved correction: its codes, made with the registry's key.
pub fn letter(app: &App, c: &CorrectionRequest) -> Result<Letter, ApiError> {
    let approval = c.approval.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::Unprocessable,
            format!(
                "correction {} is not approved yet: there is no letter",
                c.id
            ),
        )
    })?;
    let ssn = Ssn::from_number(c.ssn).map_err(ApiError::internal)?;
    Ok(Letter {
        long: LetterCode::issue(&app.signer, approval.seq, ssn),
        short: ShortCode::issue(&app.signer, approval.seq, ssn),
    })
}

/// What a letter's code stands for, once checked against the registry.
#[derive(Debug, Clone)]
pub struct CheckedLetter {
    pub seq: u64,
    pub ssn: Ssn,
    pub first: String,
    pub last: String,
    pub corrected_at_ms: i64,
    /// No death has been recorded for the person since.
    pub in_effect: bool,
}

impl CheckedLetter {
    /// The SSN's last four digits, all a letter shows of it.
    pub fn ssn_last4(&self) -> String {
        let text = self.ssn.to_string();
        text[text.len() - 4..].to_owned()
    }
}

/// The outcome of checking a code.
#[derive(Debug, Clone)]
pub enum CheckOutcome {
    /// The registry issued it; what the registry states now.
    Issued(CheckedLetter),
    /// Not a code at all: a character or a length no code has.
    Malformed(CodeError),
    /// Every character is a code's, but the check character does not match: one was mistyped.
    Typo,
    /// Well formed, and not a code the registry issued (made up, or altered past the check).
    NotIssued,
}

impl CheckOutcome {
    /// The checked letter, or the answer of the API for a code that is not one.
    pub fn issued(self) -> Result<CheckedLetter, ApiError> {
        match self {
            CheckOutcome::Issued(c) => Ok(c),
            CheckOutcome::Malformed(e) => {
                Err(ApiError::at(Code::BadRequest, "code", e.to_string()))
            }
            CheckOutcome::Typo => Err(ApiError::at(
                Code::BadRequest,
                "code",
                "the code has a typing mistake (its check character does not match the others): \
                 check each character against the letter",
            )),
            CheckOutcome::NotIssued => Err(ApiError::new(
                Code::NotFound,
                "this is not a letter issued by this registry",
            )),
        }
    }
}

/// Checks a letter's code, short or long: it must name a correction event and carry what only
/// the registry's key makes for that event's SSN. A code no one issued and an altered long code
/// are refused alike; a short code with a wrong check character is a typing mistake.
pub async fn check_letter(app: &std::sync::Arc<App>, text: &str) -> Result<CheckOutcome, ApiError> {
    let code = match AnyCode::parse(text) {
        Ok(code) => code,
        Err(CodeError::Typo) => return Ok(CheckOutcome::Typo),
        Err(e) => return Ok(CheckOutcome::Malformed(e)),
    };
    let app2 = app.clone();
    let seq = code.seq();
    let found = blocking(move || {
        let found = app2.registry.event(seq).map_err(ApiError::internal)?;
        Ok(found.map(|(stored, event)| (stored.recorded_at, event)))
    })
    .await?;
    let Some((at_ms, Event::Correction(c))) = found else {
        return Ok(CheckOutcome::NotIssued);
    };
    if !code.verify(&app.signer, c.ssn()) {
        return Ok(CheckOutcome::NotIssued);
    }
    let index = app.index.read().expect("index lock");
    let state = index.get(c.ssn());
    let (first, last) = state
        .and_then(|s| s.identity.as_ref())
        .map(|i| (i.first.to_string(), i.last.to_string()))
        .unwrap_or_default();
    Ok(CheckOutcome::Issued(CheckedLetter {
        seq,
        ssn: c.ssn(),
        first,
        last,
        corrected_at_ms: at_ms,
        in_effect: state.is_some_and(|s| s.death.is_none()),
    }))
}

/// The C2SP tlog-proof of a checked letter's correction event, against the checkpoint the
/// registry serves: its public leaf (the type, time and kind of the correction in clear,
/// everything personal committed) and its inclusion proof. It tells nothing of the person the
/// code does not (the code names the event), so it is not a disclosure.
pub async fn proof(app: &std::sync::Arc<App>, checked: &CheckedLetter) -> Result<String, ApiError> {
    let (_, _, proofs) = crate::services::receipts::proved(app, &[checked.seq]).await?;
    proofs
        .first()
        .map(dmf_log::TlogProof::to_text)
        .ok_or_else(|| ApiError::internal("no proof of a letter's event"))
}

/// The name a letter's proof is downloaded under.
pub fn proof_file_name(checked: &CheckedLetter) -> String {
    format!("correction-{}.tlog-proof", checked.seq)
}

/// Records that whoever holds the letter was told this much of the person's record, and waits
/// until that is durable: the answer is sent only then.
pub async fn disclosed(app: &App, checked: &CheckedLetter, by: &str) -> Result<(), ApiError> {
    let ticket = app.accounting.record(Disclosure {
        ssn: checked.ssn.as_u32(),
        at_ms: now_ms(),
        key_id: 0,
        key_name: by.to_owned(),
        purpose: "letter".into(),
        fields: vec!["name".into(), "ssn_last4".into(), "in_effect".into()],
    });
    app.disclosed(ticket).await
}

/// Takes one check from the allowance all checkers share (the page and the API alike: they need
/// no key, so there is no one to charge but everyone); how long to wait when it is spent.
pub fn take_check(app: &App) -> Result<(), Duration> {
    app.letter_checks.check(0, 1, Instant::now())
}

/// The address the registry is reached at by the public, printed on letters: never the Host a
/// request came with, which its sender chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

/// Why a text is not a public address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    #[error("{0:?} does not start with https:// or http://")]
    Scheme(String),
    #[error("{0:?} names no host")]
    NoHost(String),
    #[error(
        "{0:?} has a space, a control character, a query (?) or a fragment (#): give the address alone"
    )]
    Character(String),
}

impl PublicUrl {
    /// `https://registry.example.gov`, or with a path the registry is served under; a
    /// trailing slash is dropped.
    pub fn parse(text: &str) -> Result<PublicUrl, PublicUrlError> {
        let t = text.trim().trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or_else(|| PublicUrlError::Scheme(text.to_owned()))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(PublicUrlError::NoHost(text.to_owned()));
        }
        if t.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>')
        }) {
            return Err(PublicUrlError::Character(text.to_owned()));
        }
        Ok(PublicUrl(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
