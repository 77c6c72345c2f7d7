//! The client side of `add-checkpoint`: one request to one witness, its answer typed.

use std::time::Duration;

use dmf_log::{AddCheckpoint, parse_size_answer};

/// How long one witness may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What a witness answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessAnswer {
    /// 200: its cosignature line(s), to be checked against its key.
    Cosigned(String),
    /// 409 with a `text/x.tlog.size` body: the size it last cosigned (or the same size with
    /// another root, when it equals the checkpoint's).
    Conflict(u64),
    /// Any other status, with the start of its body.
    Refused { status: u16, body: String },
}

/// Why a witness could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url}: 409 without a size: {reason}")]
    BadConflict { url: String, reason: String },
}

/// An agent for witnesses: statuses are answers, not errors; one timeout for the whole call.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

/// `POST <prefix>/add-checkpoint` with `request`. `prefix` is the witness's submission prefix,
/// with or without a final `/`.
pub fn add_checkpoint(
    agent: &ureq::Agent,
    prefix: &str,
    request: &AddCheckpoint,
) -> Result<WitnessAnswer, ClientError> {
    let url = format!("{}/add-checkpoint", prefix.trim_end_matches('/'));
    let transport = |e: ureq::Error| ClientError::Transport {
        url: url.clone(),
        reason: e.to_string(),
    };
    let mut response = agent
        .post(&url)
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(request.to_text())
        .map_err(transport)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .map_err(transport)?;
    Ok(match status {
        200 => WitnessAnswer::Cosigned(body),
        409 => WitnessAnswer::Conflict(parse_size_answer(&body).map_err(|e| {
            ClientError::BadConflict {
                url: url.clone(),
                reason: e.to_string(),
            }
        })?),
        status => WitnessAnswer::Refused {
            status,
            body: body.chars().take(500).collect(),
        },
    })
}
