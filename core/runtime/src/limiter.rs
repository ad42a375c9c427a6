//! Per-sender rate limiting: one account sending a flood (a stuck client, a script, a person
//! in distress pasting the same line) must not slow everyone else down or fill the database.
//!
//! A token bucket per (platform, sender), in memory: `burst` messages at once, refilled at
//! `per_minute`. It runs on the runtime's [`Clock`](crate::clock::Clock), so tests drive it
//! with the manual clock. A message over the limit is refused before the store is touched
//! (it changes nothing, not even the de-duplication table, so a platform that redelivers it
//! later gets it handled then). The sender is told once, kindly, per flood: the note is not
//! repeated until their bucket has filled up again.
//!
//! A call for help is never refused: the caller checks for the urgent intent first.
//! In memory is enough: a restart forgets the buckets, which only lets a flood restart.

use std::collections::HashMap;
use std::sync::Mutex;

/// How fast one sender may write.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Messages accepted at once from a quiet start.
    pub burst: u32,
    /// Messages per minute after that.
    pub per_minute: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            burst: 20,
            per_minute: 20,
        }
    }
}

/// What to do with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Handle it.
    Allow,
    /// Refuse it, and tell the sender (once per flood) to slow down.
    RefuseAndWarn,
    /// Refuse it silently: the sender has been told.
    Refuse,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
    warned: bool,
}

/// Buckets for every sender seen lately.
#[derive(Debug, Default)]
pub struct RateLimiter {
    /// The limit.
    pub limit: RateLimit,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

/// Senders tracked before full (idle) buckets are forgotten.
const PRUNE_AT: usize = 10_000;

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `sender` on `platform` at `now_ms`, if there is one.
    pub fn check(&self, platform: &str, sender: &str, now_ms: i64) -> Verdict {
        let burst = f64::from(self.limit.burst.max(1));
        let per_ms = f64::from(self.limit.per_minute.max(1)) / 60_000.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| b.tokens + (now_ms - b.at_ms) as f64 * per_ms < burst);
        }
        let b = buckets
            .entry((platform.to_string(), sender.to_string()))
            .or_insert(Bucket {
                tokens: burst,
                at_ms: now_ms,
                warned: false,
            });
        // A clock that steps backwards refills nothing.
        let elapsed = (now_ms - b.at_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(burst);
        b.at_ms = b.at_ms.max(now_ms);
        if b.tokens >= burst {
            // Quiet again: a later flood gets its own note.
            b.warned = false;
        }
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Verdict::Allow
        } else if !b.warned {
            b.warned = true;
            Verdict::RefuseAndWarn
        } else {
            Verdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_note_then_silence_then_refill() {
        let l = RateLimiter::new(RateLimit {
            burst: 3,
            per_minute: 6,
        });
        let v: Vec<Verdict> = (0..6).map(|_| l.check("t", "a", 0)).collect();
        use Verdict::*;
        assert_eq!(v, [Allow, Allow, Allow, RefuseAndWarn, Refuse, Refuse]);
        assert_eq!(l.check("t", "b", 0), Allow, "others are not affected");
        assert_eq!(l.check("t", "a", 10_000), Allow, "one token per 10 s");
        assert_eq!(l.check("t", "a", 10_001), Refuse, "still the same flood");
        assert_eq!(l.check("t", "a", 100_000), Allow, "full again");
        for _ in 0..2 {
            l.check("t", "a", 100_000);
        }
        assert_eq!(l.check("t", "a", 100_000), RefuseAndWarn, "a new flood");
    }
}
