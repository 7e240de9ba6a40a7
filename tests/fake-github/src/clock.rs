//! The fake's clock and GitHub's timestamp format.
//!
//! Real UTC time in whole seconds, but every write takes a strictly later second than the one
//! before, so an edit is always visible as `updated_at > created_at` even within one second.
//! Nothing here sleeps.
use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Seconds since the Unix epoch, printed as GitHub prints times (`2026-11-20T10:00:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(i64);

impl Timestamp {
    /// Parses RFC 3339 (any offset), truncating to the second.
    pub(crate) fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| Timestamp(t.unix_timestamp()))
    }

    /// The time this many seconds after the Unix epoch.
    pub(crate) fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch.
    pub(crate) fn unix(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    /// Never fails: a time outside what `time` can print (a commit with a forged date) shows
    /// as the epoch rather than aborting the response.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        let text = OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.to_offset(UtcOffset::UTC).format(&format).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
        f.write_str(&text)
    }
}

/// A clock that never repeats a second for writes.
#[derive(Debug)]
pub(crate) struct Clock {
    last: i64,
}

impl Clock {
    /// A clock whose first tick is now.
    pub(crate) fn new() -> Clock {
        Clock { last: i64::MIN }
    }

    /// The time for a read: now, or the last write if that is later.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp(wall_seconds().max(self.last))
    }

    /// The time for a write: now, but at least one second after the previous write.
    pub(crate) fn tick(&mut self) -> Timestamp {
        let next = wall_seconds().max(self.last.saturating_add(1));
        self.last = next;
        Timestamp(next)
    }

    /// Records a time that exists in the data (a seeded comment), so later writes come after it.
    pub(crate) fn observe(&mut self, at: Timestamp) {
        self.last = self.last.max(at.0);
    }
}

fn wall_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_strictly_increase_within_one_second() {
        let mut clock = Clock::new();
        let a = clock.tick();
        let b = clock.tick();
        let c = clock.tick();
        assert!(a < b && b < c);
        assert!(clock.now() >= c);
    }

    #[test]
    fn formats_like_github_and_round_trips() {
        let t = Timestamp::parse("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-20T10:00:00Z");
        let shifted = Timestamp::parse("2026-11-20T12:00:00+02:00").unwrap();
        assert_eq!(shifted, t);
        assert!(Timestamp::parse("yesterday").is_none());
        assert_eq!(Timestamp(i64::MAX).to_string(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn observed_times_push_later_writes_forward() {
        let mut clock = Clock::new();
        let future = Timestamp(wall_seconds() + 3600);
        clock.observe(future);
        assert!(clock.tick() > future);
    }
}
