//! Retries owned by shipgate, not by the HTTP client (DESIGN 11).
//!
//! Reads are retried on 5xx, timeouts and connection failures with jittered exponential
//! backoff. Any request that GitHub rate-limits (429, or 403 with `Retry-After` or an exhausted
//! `x-ratelimit-remaining`) is retried after the wait GitHub asks for: GitHub refuses those
//! before acting, so the retry cannot duplicate an effect. Writes that fail ambiguously are
//! never retried here; the client reads back first. Every wait comes out of one bounded budget,
//! and what was waited is reported.

use std::time::Duration;

use http::HeaderMap;

/// How patient the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries of one read before it fails as unavailable (1 = no retry).
    pub read_attempts: u32,
    /// The first backoff; it doubles per retry (with jitter in its upper half).
    pub base_backoff: Duration,
    /// The most the client waits, over all retries of one command, before giving up.
    pub max_total_wait: Duration,
    /// The longest one request may take before it counts as a timeout.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            read_attempts: 4,
            base_backoff: Duration::from_millis(250),
            max_total_wait: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): a random point in the upper half of
    /// `base * 2^retry`, capped at 8 s.
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let cap = self
            .base_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(Duration::from_secs(8));
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(cap_ms / 2 + random % (cap_ms / 2 + 1))
    }
}

/// What the client waited for, so commands can report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryReport {
    /// Requests retried after a 5xx, timeout or connection failure.
    pub retries: u32,
    /// Requests retried after a rate limit.
    pub rate_limited: u32,
    /// Total time spent waiting.
    pub waited: Duration,
}

/// How a response status and headers should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// 2xx.
    Success,
    /// Rate limited: GitHub did not act; come back after this long.
    RateLimited(Duration),
    /// 5xx: GitHub may or may not have acted.
    ServerError,
    /// Any other status: final.
    ClientError,
}

/// The wait GitHub asks for when it does not say: its guidance for secondary limits is "at
/// least one minute".
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Classifies a response. `now_unix` reads `x-ratelimit-reset`.
pub fn classify(status: u16, headers: &HeaderMap, now_unix: u64) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        429 => Disposition::RateLimited(rate_limit_wait(headers, now_unix)),
        403 if headers.contains_key("retry-after") || primary_limit_exhausted(headers) => {
            Disposition::RateLimited(rate_limit_wait(headers, now_unix))
        }
        500..=599 => Disposition::ServerError,
        _ => Disposition::ClientError,
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn primary_limit_exhausted(headers: &HeaderMap) -> bool {
    header_u64(headers, "x-ratelimit-remaining") == Some(0)
}

fn rate_limit_wait(headers: &HeaderMap, now_unix: u64) -> Duration {
    if let Some(seconds) = header_u64(headers, "retry-after") {
        return Duration::from_secs(seconds);
    }
    if primary_limit_exhausted(headers)
        && let Some(reset) = header_u64(headers, "x-ratelimit-reset")
    {
        return Duration::from_secs(reset.saturating_sub(now_unix));
    }
    DEFAULT_RATE_LIMIT_WAIT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn statuses_are_classified_by_what_github_did() {
        let none = HeaderMap::new();
        assert_eq!(classify(201, &none, 0), Disposition::Success);
        assert_eq!(classify(502, &none, 0), Disposition::ServerError);
        assert_eq!(classify(404, &none, 0), Disposition::ClientError);
        assert_eq!(classify(422, &none, 0), Disposition::ClientError);
        assert_eq!(
            classify(403, &none, 0),
            Disposition::ClientError,
            "a plain 403 is a permission problem, not a rate limit"
        );
    }

    #[test]
    fn retry_after_is_honoured_on_403_and_429() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            classify(403, &h, 0),
            Disposition::RateLimited(Duration::from_secs(7))
        );
        assert_eq!(
            classify(429, &h, 0),
            Disposition::RateLimited(Duration::from_secs(7))
        );
        assert_eq!(
            classify(429, &HeaderMap::new(), 0),
            Disposition::RateLimited(DEFAULT_RATE_LIMIT_WAIT)
        );
    }

    #[test]
    fn an_exhausted_primary_limit_waits_until_the_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000"),
        ]);
        assert_eq!(
            classify(403, &h, 990),
            Disposition::RateLimited(Duration::from_secs(10))
        );
    }

    #[test]
    fn backoff_doubles_stays_in_its_upper_half_and_is_capped() {
        let policy = RetryPolicy {
            base_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        for random in [0, 7, u64::MAX] {
            let first = policy.backoff(0, random);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let third = policy.backoff(2, random);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&third));
            assert!(policy.backoff(30, random) <= Duration::from_secs(8));
        }
    }
}
