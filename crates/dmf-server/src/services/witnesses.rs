//! The registry's witnesses as the server runs them: a task that, whenever the log has signed
//! more than is published, asks the witnesses of the registry's policy to cosign and publishes
//! the checkpoint once the quorum has; and what `/metrics` and the console show of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dmf_ledger::log::Signed;
use dmf_log::Policy;
use dmf_witness::cosigning::{self, WitnessState};

use crate::App;
use crate::error::ApiError;

/// How often the task looks for a newly signed checkpoint when no event wakes it, and the
/// longest it waits before asking a witness that failed again.
const IDLE: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// The registry's witness policy (`quorum none` when it has no witnesses).
pub fn policy(dir: &Path) -> Result<Policy, ApiError> {
    dmf_witness::registry::load(dir).map_err(ApiError::internal)
}

/// The checkpoint published: signed, and cosigned by the policy's quorum.
pub fn published(dir: &Path) -> Result<Option<Signed>, ApiError> {
    published_under(dir, &policy(dir)?)
}

/// [`published`] under a policy read already.
fn published_under(dir: &Path, policy: &Policy) -> Result<Option<Signed>, ApiError> {
    cosigning::published(dir, policy).map_err(ApiError::internal)
}

/// Gathers cosignatures until the server stops: after each new event (once the log has signed
/// it) and every [`IDLE`]; a witness that failed is asked again after a pause that grows to
/// [`MAX_RETRY`]. A shared store's nodes publish the store's checkpoint as they sign it.
pub async fn run(app: Arc<App>) {
    if app.registry.shared() {
        return;
    }
    let agent = dmf_witness::client::agent();
    let mut heads = app.head_tx.subscribe();
    let mut retry = IDLE;
    loop {
        let dir = app.dir.clone();
        let agent = agent.clone();
        let round = tokio::task::spawn_blocking(move || -> Result<cosigning::Round, ApiError> {
            let policy = policy(&dir)?;
            cosigning::round(&dir, &policy, &agent).map_err(ApiError::internal)
        })
        .await;
        match round {
            Ok(Ok(r)) => {
                if let Some(size) = r.published {
                    tracing::info!(size, cosigned = ?r.cosigned, "checkpoint published");
                }
                if r.witnesses.values().any(|w| w.error.is_some()) {
                    for (name, w) in r.witnesses.iter().filter(|(_, w)| w.error.is_some()) {
                        tracing::warn!(witness = %name, error = ?w.error, "witness did not cosign");
                    }
                    retry = (retry * 2).min(MAX_RETRY);
                } else {
                    retry = IDLE;
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e.message, "witness round failed"),
            Err(e) => tracing::warn!(error = %e, "witness round panicked"),
        }
        // A new event wakes the task; a witness that failed is not asked again before its
        // pause is over.
        if retry > IDLE {
            tokio::time::sleep(retry).await;
        } else if let Ok(Err(_)) = tokio::time::timeout(IDLE, heads.changed()).await {
            return;
        }
    }
}

/// What the oversight page and `/metrics` show: the policy, each witness's state as last
/// recorded, and the checkpoint published, the policy read once.
#[derive(Debug)]
pub struct Witnessing {
    pub policy: Policy,
    pub states: BTreeMap<String, WitnessState>,
    pub published: Option<Signed>,
}

pub fn witnessing(dir: &Path) -> Result<Witnessing, ApiError> {
    let policy = policy(dir)?;
    let mut states = cosigning::witness_states(dir).map_err(ApiError::internal)?;
    states.retain(|name, _| policy.witnesses.iter().any(|w| &w.name == name));
    let published = published_under(dir, &policy)?;
    Ok(Witnessing {
        policy,
        states,
        published,
    })
}

/// The Prometheus lines of the witnesses: the published size, and per witness the size it
/// last cosigned, whether its last answer was a cosignature, and its round trip.
pub fn metrics(dir: &Path) -> String {
    let mut out = String::new();
    let shown = witnessing(dir).ok();
    let published = shown
        .as_ref()
        .and_then(|w| w.published.as_ref())
        .map_or(0, |s| s.checkpoint.size);
    let _ = writeln!(
        out,
        "# HELP dmf_log_published_size Leaves of the latest checkpoint published (cosigned by the witnesses' quorum).\n\
         # TYPE dmf_log_published_size gauge\ndmf_log_published_size {published}"
    );
    let Some(Witnessing { policy, states, .. }) = shown else {
        return out;
    };
    let gauges = [
        (
            "dmf_witness_size",
            "Leaves of the latest checkpoint each witness cosigned.",
        ),
        (
            "dmf_witness_up",
            "1 when the witness's last answer was a valid cosignature.",
        ),
        (
            "dmf_witness_round_trip_ms",
            "The witness's last add-checkpoint round trip, in milliseconds.",
        ),
    ];
    for (i, (name, help)) in gauges.iter().enumerate() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for w in &policy.witnesses {
            let s = states.get(&w.name).cloned().unwrap_or_default();
            let value = match i {
                0 => s.size,
                1 => u64::from(s.ok()),
                _ => s.round_trip_ms.unwrap_or(0),
            };
            let label = w.name.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "{name}{{witness=\"{label}\"}} {value}");
        }
    }
    out
}
