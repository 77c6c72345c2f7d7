//! Receipts of verification answers and proofs of letters: the events an answer stands on
//! (the registry's `grounds`), their public leaves with the committed fields the caller may see
//! opened, a C2SP tlog-proof of each against the checkpoint the server serves (waiting a little
//! for one that covers them), and the statement signed with the log's key. Made on request
//! only: the answer index keeps nothing more for them, and the events that put an identity on
//! file are read from the person's history.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dmf_ledger::receipt::{self, Opening, PublicLeaf, Receipt, Stated, Statement};
use dmf_log::{Checkpoint, TlogProof};
use dmf_model::Seq;
use dmf_registry::PersonState;
use dmf_registry::answers::IdentityQuery;
use dmf_registry::grounds::{Grounds, identity_events};
use dmf_registry::render::{Answer, Purpose};
use serde_json::value::RawValue;

use crate::error::{ApiError, Code};
use crate::services::blocking;
use crate::{App, now_ms};

/// How long a receipt waits for a signed checkpoint that covers its events.
pub const WAIT: Duration = Duration::from_secs(5);
/// How often the served checkpoint is looked at meanwhile.
const POLL: Duration = Duration::from_millis(25);

/// An answer as asked and given, with what it stands on: what a receipt states.
#[derive(Debug)]
pub struct Answered<'a> {
    pub purpose: Purpose,
    pub query: &'a IdentityQuery,
    /// The query's fields as the caller sent them.
    pub sent: Box<RawValue>,
    pub answer: &'a Answer,
    pub grounds: Grounds,
    /// The person's state the answer was made from.
    pub state: Option<PersonState>,
}

/// An event to prove and the raw JSON values of the fields to open.
type Wanted = (Seq, Vec<(&'static str, Vec<u8>)>);

/// The receipt of an answer.
pub async fn receipt(app: &Arc<App>, a: Answered<'_>) -> Result<Receipt, ApiError> {
    let answer = serde_json::value::to_raw_value(a.answer).map_err(ApiError::internal)?;
    let app2 = app.clone();
    let (ssn, grounds, state) = (a.query.ssn, a.grounds, a.state);
    let asked = format!("\"{ssn}\"");
    let answer_text = answer.get().to_owned();
    let wanted: Vec<Wanted> = blocking(move || {
        let history = app2.registry.history(ssn).map_err(ApiError::internal)?;
        let mut seqs: Vec<(Seq, &'static [&'static str])> =
            grounds.events.iter().map(|g| (g.seq, g.open)).collect();
        if grounds.identity
            && let Some(state) = &state
        {
            let on_file = identity_events(history.iter().map(|(s, e)| (s.seq, e)), state);
            seqs.extend(on_file.into_iter().map(|seq| (seq, &["ssn"][..])));
        }
        seqs.sort_by_key(|&(seq, open)| (seq, std::cmp::Reverse(open.len())));
        seqs.dedup_by_key(|&mut (seq, _)| seq);
        seqs.into_iter()
            .map(|(seq, open)| {
                // The person's own events, or (should a rule name another's) read alone: its
                // SSN is then not the one asked about, and stays closed.
                let body = match history.iter().find(|(s, _)| s.seq == seq) {
                    Some((stored, _)) => stored.body.clone(),
                    None => {
                        let found = app2.registry.event(seq).map_err(ApiError::internal)?;
                        let (stored, _) = found.ok_or_else(|| {
                            ApiError::internal(format!("event {seq} is not in the store"))
                        })?;
                        stored.body
                    }
                };
                let fields =
                    dmf_registry::public::leaf_fields(&body).map_err(ApiError::internal)?;
                let opened = open
                    .iter()
                    .filter_map(|&name| {
                        let f = fields.iter().find(|f| f.name == name && !f.clear)?;
                        // Never a value the answer does not give already: the SSN asked
                        // about, or a field of the answer with the same value.
                        let given = if name == "ssn" {
                            f.value == asked.as_bytes()
                        } else {
                            let value = std::str::from_utf8(f.value).ok()?;
                            answer_text.contains(&format!("\"{name}\":{value}"))
                        };
                        given.then(|| (name, f.value.to_vec()))
                    })
                    .collect();
                Ok((seq, opened))
            })
            .collect()
    })
    .await?;
    let seqs: Vec<Seq> = wanted.iter().map(|(seq, _)| *seq).collect();
    let (note, checkpoint, proofs) = proved(app, &seqs).await?;
    let mut events = Vec::with_capacity(wanted.len());
    for ((seq, opened), proof) in wanted.into_iter().zip(&proofs) {
        let leaf = proof
            .extra
            .as_deref()
            .map(PublicLeaf::parse)
            .and_then(Result::ok)
            .ok_or_else(|| ApiError::internal(format!("the leaf of event {seq} does not read")))?;
        let openings = opened
            .iter()
            .map(|(name, value)| {
                Opening::of(&leaf, name, value)
                    .ok_or_else(|| ApiError::internal(format!("event {seq} commits no {name}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        events.push(Stated {
            seq,
            kind: leaf.kind,
            openings,
        });
    }
    let statement = Statement {
        v: receipt::VERSION,
        origin: checkpoint.origin.clone(),
        purpose: a.purpose.code().to_owned(),
        query: a.sent,
        answer,
        time: dmf_ledger::leaf::format_time(now_ms()),
        tree_size: checkpoint.size,
        root: dmf_ledger::log::base64_hash(&checkpoint.root),
        events,
    };
    Ok(Receipt::sign(&app.signer, &statement, note, &proofs))
}

/// The checkpoint the server serves, once it covers every event of `seqs` (waiting up to
/// [`WAIT`] for one), and a tlog-proof of each event against it.
pub async fn proved(
    app: &Arc<App>,
    seqs: &[Seq],
) -> Result<(String, Checkpoint, Vec<TlogProof>), ApiError> {
    let needed = seqs.iter().copied().max().unwrap_or(0);
    let deadline = Instant::now() + WAIT;
    let (note, checkpoint) = loop {
        let app2 = app.clone();
        let served = blocking(move || {
            // A node of a shared store brings its tree files up to what the store holds.
            app2.registry
                .sign_pending(false)
                .map_err(ApiError::internal)?;
            let note = crate::services::log::latest_note(&app2)?;
            let checkpoint = dmf_log::open_checkpoint(&note, &app2.signer.verifier())
                .map_err(ApiError::internal)?;
            Ok((note, checkpoint))
        })
        .await?;
        if served.1.size >= needed {
            break served;
        }
        if Instant::now() >= deadline {
            let mut e = ApiError::new(
                Code::Unavailable,
                format!(
                    "event {needed} is not in a signed checkpoint yet (the latest has {} events): ask again in a moment",
                    served.1.size
                ),
            );
            e.retry_after = Some(1);
            return Err(e);
        }
        tokio::time::sleep(POLL).await;
    };
    let registry = app.registry.clone();
    let seqs = seqs.to_vec();
    blocking(move || {
        // The tree files of a node of a shared store may lag the checkpoint another signed.
        if registry.shared() {
            registry.sign_pending(true).map_err(ApiError::internal)?;
        }
        let proofs = seqs
            .iter()
            .map(|&seq| {
                dmf_ledger::publish::tlog_proof(registry.ledger(), seq, &note, &checkpoint)
                    .map_err(ApiError::internal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((note, checkpoint, proofs))
    })
    .await
}
