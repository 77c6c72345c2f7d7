//! The registry's feed over HTTP: pages after a cursor, acknowledgements, and retries of what
//! may pass (a failed connection, a rate limit, a restarting server).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::http::{Response, StatusCode};

use crate::MirrorError;

/// The longest pause between attempts while the registry cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The largest response read; a full feed page is a few megabytes.
const BODY_LIMIT: u64 = 256 << 20;

/// A page of the feed, as the server sends it.
#[derive(Debug, Deserialize)]
pub struct Page {
    pub cursor: u64,
    pub records: Vec<FeedRecord>,
}

/// One record of a page: the DMF line and the fields sent beside it.
#[derive(Debug, Deserialize)]
pub struct FeedRecord {
    pub change: String,
    pub ssn: String,
    pub line: String,
}

#[derive(Serialize)]
struct Ack {
    cursor: u64,
}

#[derive(Deserialize)]
struct Acknowledged {
    acknowledged: Option<u64>,
}

/// The error body every route of the registry answers with.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
    path: Option<String>,
}

/// The feed's HTTP side.
#[derive(Debug)]
pub struct Feed {
    agent: ureq::Agent,
    base: String,
    authorization: String,
    /// Following: wait out failures to connect. Otherwise they end the exchange.
    retry: bool,
}

/// Why an exchange failed.
enum Failure {
    /// Worth another attempt: the connection failed or the server asked for a pause.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    Fatal(String),
}

impl Feed {
    /// A client of the registry at `base` with API key `key`; polls are held by the server up
    /// to `wait` seconds; with `retry`, transient failures are waited out.
    pub fn new(base: &str, key: &str, wait: u64, retry: bool) -> Feed {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Above the longest the server holds a poll, so only a dead peer times out.
            .timeout_global(Some(Duration::from_secs(wait + 30)))
            .build()
            .into();
        Feed {
            agent,
            base: base.to_owned(),
            authorization: format!("Bearer {key}"),
            retry,
        }
    }

    /// The page after `after`, the server holding the request up to `wait` seconds.
    pub fn page(&self, after: u64, wait: u64) -> Result<Page, MirrorError> {
        let url = format!("{}/v1/feed", self.base);
        let body = self.exchange(&url, || {
            self.agent
                .get(&url)
                .query("after", after.to_string())
                .query("wait", wait.to_string())
                .header("Authorization", &self.authorization)
                .call()
        })?;
        serde_json::from_slice(&body).map_err(|e| MirrorError::Io {
            context: format!("{url}: the answer is not a feed page"),
            source: e.into(),
        })
    }

    /// Tells the registry that everything up to `cursor` is applied.
    pub fn ack(&self, cursor: u64) -> Result<(), MirrorError> {
        let url = format!("{}/v1/feed/ack", self.base);
        let request = serde_json::to_string(&Ack { cursor }).map_err(|e| MirrorError::Io {
            context: format!("{url}: cannot write the acknowledgement"),
            source: e.into(),
        })?;
        let body = self.exchange(&url, || {
            self.agent
                .post(&url)
                .header("Authorization", &self.authorization)
                .header("Content-Type", "application/json")
                .send(&request)
        })?;
        let answer: Acknowledged = serde_json::from_slice(&body).map_err(|e| MirrorError::Io {
            context: format!("{url}: the answer is not JSON"),
            source: e.into(),
        })?;
        if answer.acknowledged != Some(cursor) {
            return Err(MirrorError::Feed(format!(
                "{url}: cursor {cursor} was sent but the answer was {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }
        Ok(())
    }

    /// The body of a successful answer to `send`; while following, transient failures are
    /// retried with a growing pause (1 s, 2 s, ... up to 30 s) or the one the server asks for.
    fn exchange(
        &self,
        url: &str,
        send: impl Fn() -> Result<Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, MirrorError> {
        let mut backoff = Duration::from_secs(1);
        loop {
            let (reason, retry_after) = match attempt(url, &send) {
                Ok(body) => return Ok(body),
                Err(Failure::Fatal(e)) => return Err(MirrorError::Feed(e)),
                Err(Failure::Transient {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
            };
            if !self.retry {
                return Err(MirrorError::Feed(reason));
            }
            let pause = retry_after.unwrap_or(backoff);
            eprintln!(
                "dmf mirror: {reason}; trying again in {} s",
                pause.as_secs()
            );
            std::thread::sleep(pause);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

fn attempt(
    url: &str,
    send: impl Fn() -> Result<Response<ureq::Body>, ureq::Error>,
) -> Result<Vec<u8>, Failure> {
    let transport = |e: ureq::Error| {
        use ureq::Error as E;
        if matches!(
            e,
            E::Io(_)
                | E::Timeout(_)
                | E::HostNotFound
                | E::ConnectionFailed
                | E::Protocol(_)
                | E::BodyStalled
        ) {
            Failure::Transient {
                reason: format!("{url}: {e}"),
                retry_after: None,
            }
        } else {
            Failure::Fatal(format!("{url}: {e}"))
        }
    };
    let mut response = send().map_err(transport)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .map(|secs: u64| Duration::from_secs(secs.max(1)));
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(transport)?;
    if status.is_success() {
        return Ok(body);
    }
    let reason = server_error(url, status, &body);
    // Rate limits and a server (or the proxy before it) restarting pass; anything else is an
    // answer that asking again will not change.
    Err(match status.as_u16() {
        429 | 502 | 503 | 504 => Failure::Transient {
            reason,
            retry_after,
        },
        _ => Failure::Fatal(reason),
    })
}

/// The server's error message, `{"error": {"code", "message", "path"?}}`, with the status.
fn server_error(url: &str, status: StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error: e }) => {
            let at = e.path.map_or(String::new(), |p| format!(" (at {p})"));
            format!(
                "{url}: HTTP {status}: {}: {}{at}",
                e.code.as_deref().unwrap_or("error"),
                e.message.as_deref().unwrap_or("")
            )
        }
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
            format!("{url}: HTTP {status}: {}", text.trim())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_error_is_named_with_its_code_message_and_path() {
        let check = |body: &str, expect: &str| {
            let got = server_error("http://r/v1/feed", StatusCode::BAD_REQUEST, body.as_bytes());
            assert_eq!(got, expect, "{body}");
        };
        check(
            r#"{"error":{"code":"bad_request","message":"no","path":"$.after"}}"#,
            "http://r/v1/feed: HTTP 400 Bad Request: bad_request: no (at $.after)",
        );
        check(
            r#"{"error":{"code":"forbidden","message":"not yours"}}"#,
            "http://r/v1/feed: HTTP 400 Bad Request: forbidden: not yours",
        );
        check(
            "<html>proxy</html>",
            "http://r/v1/feed: HTTP 400 Bad Request: <html>proxy</html>",
        );
    }
}
