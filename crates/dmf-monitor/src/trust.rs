//! What a checkpoint must carry to be believed: the log's signature, and the cosignatures a
//! policy (C2SP tlog-policy) or a list of witnesses requires. Pure.

use dmf_log::{
    Checkpoint, CosignerVerifier, Policy, PolicyCheckError, VerifierKey, open_checkpoint,
    open_cosignature,
};

/// Why a trust could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("the policy names logs, but not the log of the key given ({0})")]
    LogNotInPolicy(String),
}

/// The keys a checkpoint is checked with.
#[derive(Debug, Clone)]
pub struct Trust {
    log: VerifierKey,
    policy: Option<Policy>,
    witnesses: Vec<CosignerVerifier>,
}

/// A checkpoint that passed: the checkpoint and the witnesses whose cosignatures verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    pub checkpoint: Checkpoint,
    pub cosigned: Vec<String>,
}

/// Why a note was not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a checkpoint signed by the log's key: malformed, signed by another key, a signature
    /// that does not verify, or another origin than the key's name.
    Signature(String),
    /// Signed by the log, without the cosignatures required. The checkpoint is still the log's
    /// statement, so it is held against the others.
    Quorum {
        checkpoint: Box<Checkpoint>,
        cosigned: Vec<String>,
        reason: String,
    },
}

impl Trust {
    /// The log's key, an optional policy and witnesses that must all have cosigned. A policy
    /// that lists logs must list this one.
    pub fn new(
        log: VerifierKey,
        policy: Option<Policy>,
        witnesses: Vec<CosignerVerifier>,
    ) -> Result<Trust, TrustError> {
        if let Some(p) = &policy
            && !p.logs.is_empty()
            && !p.logs.iter().any(|l| l.key == log)
        {
            return Err(TrustError::LogNotInPolicy(log.name().to_owned()));
        }
        Ok(Trust {
            log,
            policy,
            witnesses,
        })
    }

    pub fn log(&self) -> &VerifierKey {
        &self.log
    }

    /// Whether any cosignature is required (and so checked).
    pub fn requires_witnesses(&self) -> bool {
        !self.witnesses.is_empty() || self.policy.as_ref().is_some_and(|p| p.quorum.is_some())
    }

    /// Checks a signed checkpoint note.
    pub fn check(&self, note: &str) -> Result<Trusted, Refusal> {
        let checkpoint =
            open_checkpoint(note, &self.log).map_err(|e| Refusal::Signature(e.to_string()))?;
        if checkpoint.origin != self.log.name() {
            return Err(Refusal::Signature(format!(
                "the checkpoint's origin {:?} is not the name of the log's key {:?}",
                checkpoint.origin,
                self.log.name()
            )));
        }
        let mut cosigned: Vec<String> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        if let Some(policy) = &self.policy {
            match policy.verify(note, Some(&self.log)) {
                Ok(v) => cosigned.extend(v.cosigned.into_iter().map(|(name, _)| name)),
                Err(PolicyCheckError::NoQuorum { .. }) => {
                    // The policy's witnesses that did cosign, for the report.
                    cosigned.extend(
                        policy
                            .witnesses
                            .iter()
                            .filter(|w| open_cosignature(note, &w.key).is_ok())
                            .map(|w| w.name.clone()),
                    );
                    missing.push(format!(
                        "the policy's quorum {}",
                        policy.quorum.as_deref().unwrap_or("none")
                    ));
                }
                Err(e) => return Err(Refusal::Signature(e.to_string())),
            }
        }
        for w in &self.witnesses {
            match open_cosignature(note, w) {
                Ok(_) => {
                    if !cosigned.iter().any(|n| n == w.name()) {
                        cosigned.push(w.name().to_owned());
                    }
                }
                Err(_) => missing.push(format!("witness {}", w.name())),
            }
        }
        if missing.is_empty() {
            Ok(Trusted {
                checkpoint,
                cosigned,
            })
        } else {
            let reason = format!(
                "no valid cosignature for {}{}",
                missing.join(", "),
                if cosigned.is_empty() {
                    " (no required witness cosigned)".to_owned()
                } else {
                    format!(" (cosigned by {})", cosigned.join(", "))
                }
            );
            Err(Refusal::Quorum {
                checkpoint: Box::new(checkpoint),
                cosigned,
                reason,
            })
        }
    }
}
