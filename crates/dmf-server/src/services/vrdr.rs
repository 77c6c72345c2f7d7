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

/// A body waiting to be stored, and where its answer goes.
#[derive(Debug)]
struct Job {
    jurisdiction: Jurisdiction,
    read: Read,
    answer: tokio::sync::oneshot::Sender<Result<FhirAnswer, ApiError>>,
}

/// FHIR VRDR bodies waiting for the writer.
#[derive(Debug, Default)]
pub struct Waiting(std::sync::Mutex<Vec<Job>>);

impl Waiting {
    fn push(&self, job: Job) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(job);
    }

    fn take(&self) -> Vec<Job> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Stores what the messages ask as the one writer and answers each, for a state bound to
/// `jurisdiction`. Bodies that arrive while the writer is busy wait, and the next to take the
/// write lock stores all that wait in one durable transaction: concurrent senders share a
/// commit, and each answer still leaves only once its events are durable.
pub async fn store(
    app: &Arc<App>,
    jurisdiction: Jurisdiction,
    read: Read,
) -> Result<FhirAnswer, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.vrdr_waiting.push(Job {
        jurisdiction,
        read,
        answer: tx,
    });
    let guard = app.write_lock.lock().await;
    // Empty when another request took this body with its own.
    let jobs = app.vrdr_waiting.take();
    if !jobs.is_empty() {
        let today = app.today();
        let app2 = app.clone();
        blocking(move || {
            store_jobs(&app2, jobs, today);
            Ok(())
        })
        .await?;
        app.notify_head();
    }
    drop(guard);
    rx.await
        .map_err(|_| ApiError::internal("the writer dropped a FHIR body unanswered"))?
}

/// Stores the bodies waiting in one call and sends each its answer.
fn store_jobs(app: &App, jobs: Vec<Job>, today: dmf_model::Date) {
    let at = now_ms();
    let reads: Vec<(&Read, Option<Jurisdiction>)> = jobs
        .iter()
        .map(|j| (&j.read, Some(j.jurisdiction)))
        .collect();
    let stored = vrdr::store_and_answer_all(&app.registry, &reads, today, at)
        .map_err(ApiError::internal)
        .and_then(|answers| {
            app.refresh_index().map_err(ApiError::internal)?;
            Ok(answers)
        });
    let m = &app.metrics;
    match stored {
        Ok(answers) => {
            for (job, answers) in jobs.into_iter().zip(answers) {
                let ok = answers.iter().filter(|a| a.ok).count() as u64;
                Metrics::add(&m.submissions_accepted, ok);
                Metrics::add(&m.submissions_rejected, answers.len() as u64 - ok);
                let body = serde_json::to_vec(&vrdr::response(job.read.batch, answers, at))
                    .map(|body| FhirAnswer { body })
                    .map_err(ApiError::internal);
                // A sender that went away needs no answer.
                let _ = job.answer.send(body);
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.answer.send(Err(e.clone()));
            }
        }
    }
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
