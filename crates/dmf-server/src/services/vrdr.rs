//! FHIR VRDR messages from a state's vital records office: read, then stored by the one writer
//! and answered (`dmf_registry::vrdr`), the index brought up to date and the feed woken.

use std::sync::Arc;

use dmf_registry::vrdr::{self, Read};
use dmf_vrdr::{CertificateKey, Jurisdiction};

use crate::error::{ApiError, Code};
use crate::metrics::Metrics;
use crate::services::blocking;
use crate::services::corrections::told;
use crate::views::{SubscriberView, VrdrRecordView, VrdrVersionView};
use crate::{App, now_ms};

/// The answer to a request, as serialized FHIR JSON.
#[derive(Debug)]
pub struct FhirAnswer {
    pub body: Vec<u8>,
}

/// Reads a request body, off the runtime (a batch may be large).
pub async fn read(bytes: Vec<u8>) -> Result<Read, ApiError> {
    blocking(move || Ok(vrdr::read(&bytes))).await
}

/// Stores what the messages ask as the one writer and answers each, for a state bound to
/// `jurisdiction`.
pub async fn store(
    app: &Arc<App>,
    jurisdiction: Jurisdiction,
    read: Read,
) -> Result<FhirAnswer, ApiError> {
    let today = app.today();
    let guard = app.write_lock.lock().await;
    let app2 = app.clone();
    let answer = blocking(move || {
        let at = now_ms();
        let answers = vrdr::store_and_answer(&app2.registry, &read, Some(jurisdiction), today, at)
            .map_err(ApiError::internal)?;
        app2.refresh_index().map_err(ApiError::internal)?;
        let ok = answers.iter().filter(|a| a.ok).count() as u64;
        let m = &app2.metrics;
        Metrics::add(&m.submissions_accepted, ok);
        Metrics::add(&m.submissions_rejected, answers.len() as u64 - ok);
        let body = serde_json::to_vec(&vrdr::response(read.batch, answers, at))
            .map_err(ApiError::internal)?;
        Ok(FhirAnswer { body })
    })
    .await?;
    drop(guard);
    app.notify_head();
    Ok(answer)
}

/// A state's record: its versions, and where the latest change stands with the subscribers
/// that had received the record before it.
pub async fn record(app: &Arc<App>, key: CertificateKey) -> Result<VrdrRecordView, ApiError> {
    let app2 = app.clone();
    blocking(move || {
        let versions = vrdr::versions(&app2.registry, &key).map_err(ApiError::internal)?;
        let Some(last) = versions.last() else {
            return Err(ApiError::new(
                Code::NotFound,
                format!("no record {key} was received"),
            ));
        };
        let standing = last.report
            && vrdr::standing(&app2.registry, last.ssn, last.seq).map_err(ApiError::internal)?;
        let (change, subscribers) = if versions.len() > 1 {
            let told = told(&app2, last.ssn, last.seq)?;
            (Some(last.seq), told)
        } else {
            (None, Vec::new())
        };
        Ok(VrdrRecordView {
            record: key.to_string(),
            versions: versions
                .iter()
                .map(|v| VrdrVersionView {
                    version: v.number,
                    event: v.seq,
                    kind: if v.report {
                        "death_report"
                    } else {
                        "report_withdrawal"
                    },
                    message: v.message.clone(),
                })
                .collect(),
            standing,
            change,
            complete: change.map(|_| subscribers.iter().all(|s| s.acknowledged)),
            subscribers: subscribers
                .into_iter()
                .map(|s| SubscriberView {
                    subscriber: s.subscriber,
                    received: true,
                    sent_correction: s.sent_correction,
                    acknowledged: s.acknowledged,
                })
                .collect(),
        })
    })
    .await
}
