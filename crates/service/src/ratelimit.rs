//! Per-token rate limiting: an in-process token bucket per API token.
//!
//! Buckets are made for every token presented, known or not (the limit applies before the
//! token is looked up), so the map is swept when it grows: a bucket that has refilled is the
//! same as no bucket, and is dropped. Random tokens cannot grow it without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Above this many buckets, refilled ones are dropped.
const SWEEP_ABOVE: usize = 4096;

/// Token buckets keyed by token hash.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Each key may make `burst` requests at once and `per_second` on average.
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            per_second,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket; `false` when it is empty.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_ABOVE && !buckets.contains_key(key) {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_others_are_untouched() {
        let limiter = RateLimiter::new(0.0001, 3.0);
        assert!((0..3).all(|_| limiter.allow("a")));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
    }

    #[test]
    fn refilled_buckets_are_swept() {
        let limiter = RateLimiter::new(1e9, 2.0);
        for i in 0..3 * SWEEP_ABOVE {
            assert!(limiter.allow(&i.to_string()));
        }
        assert!(limiter.buckets.lock().unwrap().len() <= SWEEP_ABOVE);
        // Buckets still draining are kept.
        let slow = RateLimiter::new(0.0001, 2.0);
        for i in 0..SWEEP_ABOVE + 10 {
            slow.allow(&i.to_string());
        }
        assert_eq!(slow.buckets.lock().unwrap().len(), SWEEP_ABOVE + 10);
        assert!(slow.allow("0"));
        assert!(!slow.allow("0"));
    }
}
