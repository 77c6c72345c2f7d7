//! Per-key rate limits: a token bucket for each API key, kept cheap enough to consult on every
//! request.
//!
//! Each bucket is stored as the time at which it would be full again (the "theoretical arrival
//! time" of the generic cell rate algorithm), so a check is a little exact `Duration` arithmetic
//! with no floating point and no background refill.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Shards of the bucket map; key ids are sequential, so `id % SHARDS` spreads them evenly.
const SHARDS: usize = 16;

/// Why a request was refused, for callers that want more than the retry delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    /// The bucket holds too few tokens now; enough will have refilled after `retry_after`.
    #[error("rate limit exceeded: retry after {retry_after:?}")]
    Exhausted { retry_after: Duration },
    /// The request costs more than a full bucket holds (or the limiter never refills): it can
    /// never pass and must be split.
    #[error("a request costing {cost} tokens exceeds the burst of {burst}")]
    TooCostly { cost: u32, burst: u32 },
}

impl RateLimitError {
    /// How long to wait; [`Duration::MAX`] for a request that can never pass.
    pub fn retry_after(self) -> Duration {
        match self {
            RateLimitError::Exhausted { retry_after } => retry_after,
            RateLimitError::TooCostly { .. } => Duration::MAX,
        }
    }
}

/// Token buckets of `burst` tokens refilled at `per_second`, one per key id.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: u32,
    burst: u32,
    /// Per key: when its bucket is full again (in the past or absent means full now).
    shards: [Mutex<HashMap<i64, Instant>>; SHARDS],
}

impl RateLimiter {
    /// A limiter allowing `burst` tokens at once and `per_second` tokens a second sustained.
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second,
            burst,
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    /// Takes `cost` tokens for `key_id` at time `now`, or returns how long to wait before the
    /// same request would pass: [`Duration::MAX`] if it never can (`cost` above the burst).
    pub fn check(&self, key_id: i64, cost: u32, now: Instant) -> Result<(), Duration> {
        self.try_take(key_id, cost, now)
            .map_err(RateLimitError::retry_after)
    }

    /// [`RateLimiter::check`] with the reason for a refusal.
    pub fn try_take(&self, key_id: i64, cost: u32, now: Instant) -> Result<(), RateLimitError> {
        if cost == 0 {
            return Ok(());
        }
        if cost > self.burst || self.per_second == 0 {
            return Err(RateLimitError::TooCostly {
                cost,
                burst: self.burst,
            });
        }
        let window = self.refill_time(self.burst);
        let shard = &self.shards[key_id.rem_euclid(SHARDS as i64) as usize];
        let mut buckets = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let full_at = buckets.get(&key_id).copied().unwrap_or(now).max(now);
        let after = full_at + self.refill_time(cost);
        // The bucket may be at most one full refill away from full.
        let debt = after - now;
        if debt > window {
            return Err(RateLimitError::Exhausted {
                retry_after: debt - window,
            });
        }
        buckets.insert(key_id, after);
        Ok(())
    }

    /// How long `tokens` tokens take to refill; computed per call so that it does not round
    /// per token.
    fn refill_time(&self, tokens: u32) -> Duration {
        let nanos = u128::from(tokens) * 1_000_000_000 / u128::from(self.per_second);
        Duration::from_nanos(nanos as u64)
    }
}
