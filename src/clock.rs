//! Where the time comes from: one [`Clock`] handed to everything that
//! decides by the time, so tests can set it.
//!
//! [`SystemClock`] reads the system's UTC time; [`ManualClock`] holds a time
//! a test sets and moves forward ([`ManualClock::advance`]). Both are cheap
//! to clone and share (`Arc<dyn Clock>`). Written by hand: the trait is three
//! lines and no crate's clock matches chrono's `DateTime<Utc>` without glue.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock a test sets: it stands still until set or advanced.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Set the time (backwards too).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Move the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The system clock, shared.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_stands_still_and_moves_when_told() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-04T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time");
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(Duration::hours(2));
        assert_eq!(c.now(), t0 + Duration::hours(2));
        let shared: Arc<dyn Clock> = Arc::new(c.clone());
        c.set(t0);
        assert_eq!(shared.now(), t0, "clones share one time");
    }
}
