//! Per-key rate limits: a token bucket for each API key, kept cheap enough to consult on every
//! request.
//!
//! Each bucket is stored as the time at which it would be full again (the "theoretical arrival
//! time" of the generic cell rate algorithm), so a check is a little exact `Duration` arithmetic
//! with no floating point and no background refill. A batch is charged per record, paced to the
//! rate; verification keys may also have a daily allowance of records ([`DailyQuotas`]).

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

    /// The most tokens one request may take.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes `cost` tokens for `key_id`, waiting for them as they refill: a batch is paced to
    /// its key's rate, a piece of at most the burst at a time. A limiter that never refills
    /// does not pace.
    pub async fn pace(&self, key_id: i64, cost: u64) {
        let mut left = cost;
        while left > 0 && self.per_second > 0 && self.burst > 0 {
            let part = left.min(u64::from(self.burst)) as u32;
            match self.try_take(key_id, part, Instant::now()) {
                Ok(()) => left -= u64::from(part),
                Err(e) => tokio::time::sleep(e.retry_after()).await,
            }
        }
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

/// Milliseconds in a day: allowances run from one UTC midnight to the next.
const DAY_MS: i64 = 86_400_000;

/// Records answered per key in the current UTC day, against each key's daily allowance. Kept in
/// memory: a restart, or another node on the same database, starts its own count.
#[derive(Debug, Default)]
pub struct DailyQuotas {
    /// Per key: the day (days since 1970) and the records answered in it.
    used: Mutex<HashMap<i64, (i64, u64)>>,
}

/// A request over what is left of a key's daily allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{asked} records asked, {left} left of the {quota} a day")]
pub struct QuotaExceeded {
    pub asked: u64,
    pub left: u64,
    pub quota: u64,
    /// Until the allowance is whole again (the next UTC midnight).
    pub retry_after: Duration,
}

impl DailyQuotas {
    /// Takes `n` records of `key_id`'s allowance of `quota` a day at `now_ms`: all of them, or
    /// none and what is left.
    pub fn take(&self, key_id: i64, quota: u64, n: u64, now_ms: i64) -> Result<(), QuotaExceeded> {
        let day = now_ms.div_euclid(DAY_MS);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = used.entry(key_id).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        let left = quota.saturating_sub(entry.1);
        if n > left {
            let until = (day + 1) * DAY_MS - now_ms;
            return Err(QuotaExceeded {
                asked: n,
                left,
                quota,
                retry_after: Duration::from_millis(until.max(0) as u64),
            });
        }
        entry.1 += n;
        Ok(())
    }

    /// What is left of `key_id`'s allowance at `now_ms`.
    pub fn left(&self, key_id: i64, quota: u64, now_ms: i64) -> u64 {
        let day = now_ms.div_euclid(DAY_MS);
        let used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        match used.get(&key_id) {
            Some(&(d, n)) if d == day => quota.saturating_sub(n),
            _ => quota,
        }
    }
}
