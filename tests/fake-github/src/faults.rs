//! Fault injection: rules that make matching requests fail, stall or lose their response.
//!
//! Rules are kept in insertion order; a request takes the first rule whose method and path
//! pattern match, which spends one of its `times` and is removed at zero. A rule left with
//! times to spend is a problem at the end of a test (strict mode) unless it was queued as
//! optional. This module only decides which fault applies; the server carries it out.
use std::time::Duration;

use serde::Deserialize;

/// A fault rule, made with [`Fault::new`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Fault {
    /// The HTTP method to match (any case); `None` matches any.
    pub method: Option<String>,
    /// An exact path or one with `*` segments, e.g. `/repos/*/*/git/refs`; the query is
    /// not part of the match. Each `*` matches exactly one segment.
    pub path: String,
    /// What happens to a matching request.
    pub kind: FaultKind,
    /// How many matching requests it hits.
    pub times: u32,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this 5xx with GitHub's body; the effect is not performed.
    Status(u16),
    /// Answer 403 or 429 with `Retry-After` and the secondary-rate-limit message; the effect
    /// is not performed.
    RateLimited {
        /// 403 or 429.
        status: u16,
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Wait, then serve normally.
    Latency(Duration),
    /// Perform the effect, then close the connection without a response.
    DropAfterEffect,
    /// Perform the effect, then answer this status (an ambiguous write).
    StatusAfterEffect(u16),
}

/// The JSON form of a fault for `POST /_fake/faults`, e.g.
/// `{"method": "POST", "path": "/repos/*/*/releases", "kind": {"status": 502}, "times": 1}`,
/// with `"optional": true` for a rule that may legitimately not fire.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    #[serde(default)]
    method: Option<String>,
    path: String,
    kind: FaultKindSpec,
    #[serde(default = "one")]
    times: u32,
    #[serde(default)]
    pub(crate) optional: bool,
}

fn one() -> u32 {
    1
}

/// `{"status": 502}`, `{"rate_limited": {"status": 429, "retry_after_secs": 3}}`,
/// `{"latency_ms": 200}`, `"drop_after_effect"`, `{"status_after_effect": 502}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum FaultKindSpec {
    Status(u16),
    RateLimited { status: u16, retry_after_secs: u64 },
    LatencyMs(u64),
    DropAfterEffect,
    StatusAfterEffect(u16),
}

impl From<FaultSpec> for Fault {
    fn from(spec: FaultSpec) -> Fault {
        let kind = match spec.kind {
            FaultKindSpec::Status(status) => FaultKind::Status(status),
            FaultKindSpec::RateLimited {
                status,
                retry_after_secs,
            } => FaultKind::RateLimited {
                status,
                retry_after_secs,
            },
            FaultKindSpec::LatencyMs(ms) => FaultKind::Latency(Duration::from_millis(ms)),
            FaultKindSpec::DropAfterEffect => FaultKind::DropAfterEffect,
            FaultKindSpec::StatusAfterEffect(status) => FaultKind::StatusAfterEffect(status),
        };
        Fault {
            method: spec.method,
            path: spec.path,
            kind,
            times: spec.times,
        }
    }
}

impl Fault {
    /// A rule hitting the next `times` requests of `method` (any when `None`, any case) to
    /// `path` (exact, or with `*` segments) with `kind`.
    pub fn new(method: Option<&str>, path: impl Into<String>, kind: FaultKind, times: u32) -> Self {
        Self {
            method: method.map(str::to_owned),
            path: path.into(),
            kind,
            times,
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let mut pattern = self.path.split('/');
        let mut actual = path.split('/');
        let path_ok = loop {
            match (pattern.next(), actual.next()) {
                (None, None) => break true,
                (Some(p), Some(a)) if p == "*" || p == a => {}
                _ => break false,
            }
        };
        method_ok && path_ok
    }
}

/// A queued rule: a fault, and whether it may be left unspent.
#[derive(Debug)]
struct Rule {
    fault: Fault,
    optional: bool,
}

/// The queue of active rules.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    rules: Vec<Rule>,
}

impl FaultQueue {
    /// Queues a rule; an `optional` one is not reported when it never fires.
    pub(crate) fn push(&mut self, fault: Fault, optional: bool) {
        if fault.times > 0 {
            self.rules.push(Rule { fault, optional });
        }
    }

    /// The rules that must fire and still have times left, in queue order.
    pub(crate) fn unspent(&self) -> Vec<Fault> {
        self.rules
            .iter()
            .filter(|r| !r.optional)
            .map(|r| r.fault.clone())
            .collect()
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Removes the rules that must fire, keeping the optional ones.
    pub(crate) fn clear_required(&mut self) {
        self.rules.retain(|r| r.optional);
    }

    /// The fault for this request, if any rule matches; spends one of its times.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let index = self
            .rules
            .iter()
            .position(|r| r.fault.matches(method, path))?;
        let rule = &mut self.rules[index].fault;
        rule.times -= 1;
        let kind = rule.kind.clone();
        if rule.times == 0 {
            self.rules.remove(index);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(method: Option<&str>, path: &str, status: u16, times: u32) -> Fault {
        Fault::new(method, path, FaultKind::Status(status), times)
    }

    #[test]
    fn stars_match_one_segment_and_methods_any_case() {
        let f = fault(Some("post"), "/repos/*/*/git/refs", 500, 1);
        assert!(f.matches("POST", "/repos/acme/widget/git/refs"));
        assert!(!f.matches("GET", "/repos/acme/widget/git/refs"));
        assert!(!f.matches("POST", "/repos/acme/git/refs"));
        assert!(!f.matches("POST", "/repos/acme/widget/git/refs/heads/main"));
    }

    #[test]
    fn rules_apply_in_order_and_expire() {
        let mut queue = FaultQueue::default();
        queue.push(fault(None, "/a", 500, 2), false);
        queue.push(fault(None, "/a", 502, 1), false);
        let seen: Vec<_> = (0..4).map(|_| queue.take("GET", "/a")).collect();
        assert_eq!(
            seen,
            vec![
                Some(FaultKind::Status(500)),
                Some(FaultKind::Status(500)),
                Some(FaultKind::Status(502)),
                None
            ]
        );
        assert!(queue.unspent().is_empty());
    }

    #[test]
    fn rules_left_with_times_are_unspent_unless_optional() {
        let mut queue = FaultQueue::default();
        queue.push(fault(None, "/a", 500, 2), false);
        queue.push(fault(None, "/b", 502, 1), true);
        queue.take("GET", "/a");
        let unspent = queue.unspent();
        assert_eq!(unspent.len(), 1);
        assert_eq!((unspent[0].path.as_str(), unspent[0].times), ("/a", 1));
    }

    #[test]
    fn the_json_form_converts() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"path": "/x", "kind": {"rate_limited": {"status": 429, "retry_after_secs": 7}}}"#,
        )
        .unwrap();
        let fault = Fault::from(spec);
        assert_eq!(fault.times, 1);
        assert_eq!(
            fault.kind,
            FaultKind::RateLimited {
                status: 429,
                retry_after_secs: 7
            }
        );
        let drop: FaultSpec =
            serde_json::from_str(r#"{"path": "/x", "kind": "drop_after_effect", "times": 2}"#)
                .unwrap();
        assert_eq!(Fault::from(drop).kind, FaultKind::DropAfterEffect);
    }
}
