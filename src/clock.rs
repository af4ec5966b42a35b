//! Where the time comes from: one [`Clock`] handed to everything that
//! decides by the time, so tests can set it.
//!
//! [`SystemClock`] reads the system's UTC time; [`ManualClock`] holds a time
//! a test sets and moves forward ([`ManualClock::advance`]). Both are cheap
//! to clone and share (`Arc<dyn Clock>`). Written by hand: the trait is three
//! lines and no crate's clock matches chrono's `DateTime<Utc>` without glue.
//!
//! The daemon's timers sleep with [`sleep_until`]: on the system clock a
//! plain tokio sleep; on a manual clock they also wake the moment a test
//! moves the time, so a test drives deadlines without waiting.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tokio::sync::watch;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Told whenever the time is set by hand (a manual clock); `None` for a
    /// clock that simply runs.
    fn moves(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        None
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock a test sets: it stands still until set or advanced; every move
/// wakes the timers sleeping on it ([`sleep_until`]).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<watch::Sender<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(watch::Sender::new(at)))
    }

    /// Set the time (backwards too).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_replace(at);
    }

    /// Move the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.send_modify(|t| *t += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn moves(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        Some(self.0.subscribe())
    }
}

/// Sleep until `at` on `clock`, but at least `min` and at most `max` of
/// real time (`at: None`: `max`). On a manual clock, a move of the time
/// wakes the sleep early once `at` is reached.
pub async fn sleep_until(
    clock: &dyn Clock,
    at: Option<DateTime<Utc>>,
    min: std::time::Duration,
    max: std::time::Duration,
) {
    let mut moves = clock.moves();
    if let Some(m) = moves.as_mut() {
        m.borrow_and_update();
    }
    let wait = |now: DateTime<Utc>| match at {
        Some(t) => (t - now)
            .to_std()
            .unwrap_or(std::time::Duration::ZERO)
            .clamp(min, max.max(min)),
        None => max,
    };
    let sleep = tokio::time::sleep(wait(clock.now()));
    tokio::pin!(sleep);
    loop {
        let Some(m) = moves.as_mut() else {
            sleep.await;
            return;
        };
        tokio::select! {
            _ = &mut sleep => return,
            changed = m.changed() => {
                if changed.is_err() {
                    moves = None;
                    continue;
                }
                let now = *m.borrow_and_update();
                if at.is_some_and(|t| now >= t) {
                    return;
                }
            }
        }
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

    #[tokio::test]
    async fn a_sleep_on_a_manual_clock_ends_when_the_time_is_moved_past_it() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-04T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time");
        let c = ManualClock::new(t0);
        let long = std::time::Duration::from_secs(3600);
        let sleeper = {
            let c = c.clone();
            tokio::spawn(
                async move { sleep_until(&c, Some(t0 + Duration::hours(5)), long, long).await },
            )
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        c.advance(Duration::hours(1));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!sleeper.is_finished(), "not yet at the deadline");
        c.advance(Duration::hours(5));
        tokio::time::timeout(std::time::Duration::from_secs(2), sleeper)
            .await
            .expect("woken by the move, not after an hour")
            .expect("no panic");
    }
}
