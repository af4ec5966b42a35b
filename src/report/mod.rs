//! Typical reports on the desk's work (п. 81.1): what was received in a
//! period, by kind, priority, channel, organisation and line; statuses
//! now; deadlines met and breached; response and solution times in working
//! hours; the backlog; what each engineer did.
//!
//! Pure code over plain data: the store streams tickets with their facts
//! ([`crate::store::Store::each_ticket_with_facts`]); [`Builder`] folds
//! them into a [`Report`]; [`render`] writes text, CSV, JSON or HTML, and
//! [`listing`] the per-ticket rows. Nothing here opens a database.

pub mod charts;
pub mod csv;
mod fold;
pub mod html;
pub mod letters;
pub mod listing;
pub mod make;
pub mod period;
pub mod render;
pub mod schedule;

use crate::store::facts::Facts;
use chrono::{DateTime, NaiveDate, Utc};
pub use fold::Builder;
pub use period::Period;
use serde::Serialize;
use std::collections::BTreeMap;

/// Channels a ticket can come by.
pub const CHANNELS: [&str; 3] = ["email", "web", "phone"];

/// Counts by name, in a fixed order (serialised as a JSON object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    pub fn get(&self, name: &str) -> u64 {
        self.0.iter().find(|(n, _)| n == name).map_or(0, |x| x.1)
    }
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub received: u64,
    pub by_status: Counts,
    pub by_kind: Counts,
    pub by_priority: Counts,
    pub by_channel: Counts,
    /// By the mailbox a ticket came through (its config name; `main` for a
    /// letter from before mailboxes were recorded): the configured
    /// mailboxes in order, even at 0, then any other seen. Tickets from the
    /// web form or by phone came through none and are not counted here.
    pub by_mailbox: Counts,
    pub by_line: Counts,
    pub by_organization: Counts,
}

impl Totals {
    /// Whether the mailboxes are worth a table of their own: the desk has
    /// more than one, or one not called `main`. (JSON always has them.)
    pub fn shows_mailboxes(&self) -> bool {
        self.by_mailbox
            .0
            .iter()
            .any(|(n, _)| n != crate::store::DEFAULT_MAILBOX)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    pub met: u64,
    pub breached: u64,
    pub open_overdue: u64,
}

/// A median and a 90th percentile (nearest rank) in working hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stat {
    pub count: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeStats {
    pub all: Stat,
    pub by_priority: BTreeMap<String, Stat>,
    pub by_line: BTreeMap<String, Stat>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Times {
    pub first_response: TimeStats,
    pub solution: TimeStats,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Engineer {
    pub address: String,
    /// Commands applied in the period.
    pub commands: u64,
    /// Tickets this engineer moved to a proposed solution or confirmed.
    pub closed: u64,
    /// Median working hours from registration to the solution, over the
    /// tickets whose first solution this engineer proposed in the period.
    pub median_hours_to_solution: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Backlog {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodOut {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub received: u64,
}

/// The report of one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: PeriodOut,
    pub totals: Totals,
    pub deadlines: Deadlines,
    /// Deadlines by priority (the compliance chart).
    pub deadlines_by_priority: BTreeMap<String, Deadlines>,
    pub times: Times,
    pub backlog: Backlog,
    pub engineers: Vec<Engineer>,
    pub per_day: Vec<Day>,
}

/// How one ticket stands against its deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Solved (a solution proposed or confirmed) in time, never escalated.
    pub met: bool,
    /// Escalated for a missed deadline, solved late, or open past it now.
    pub breached: bool,
    /// Not solved at the end of the period and past its deadline then.
    pub open_overdue: bool,
}

/// When the ticket was solved: its first proposed solution or its
/// confirmation, whichever came first.
pub fn solved_at(f: &Facts) -> Option<DateTime<Utc>> {
    earlier(f.solution_proposed_at, f.confirmed_at)
}

fn earlier(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The moments a deadline is judged by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moments {
    pub deadline: Option<DateTime<Utc>>,
    /// Solved: the first proposed solution or the confirmation.
    pub solved: Option<DateTime<Utc>>,
    /// The first missed deadline (escalation).
    pub breached: Option<DateTime<Utc>>,
}

/// Judge a ticket for a period ending at `end`, as known at `now`. No
/// deadline: nothing to judge.
pub fn judge(m: Moments, end: DateTime<Utc>, now: DateTime<Utc>) -> Judgement {
    let Some(dl) = m.deadline else {
        return Judgement::default();
    };
    let solved = m.solved;
    let late = m.breached.is_some()
        || match solved {
            Some(s) => s > dl,
            None => dl < now,
        };
    let open_at_end = solved.is_none_or(|s| s >= end);
    let overdue_at_end = m.breached.is_some_and(|b| b < end) || dl < end;
    Judgement {
        met: solved.is_some() && !late,
        breached: late,
        open_overdue: open_at_end && overdue_at_end,
    }
}

/// Nearest-rank percentile `p` (0–100] of sorted `v`.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank - 1).copied()
}

fn hours(secs: i64) -> f64 {
    (secs as f64 / 36.0).round() / 100.0
}

/// The statistic of `v` (any order): the two ranks picked in linear time,
/// the same values [`percentile`] finds in the sorted samples.
fn stat(mut v: Vec<i64>) -> Stat {
    let (median, p90) = pick(&mut v, 50, 90);
    Stat {
        count: v.len() as u64,
        median_hours: median.map(hours),
        p90_hours: p90.map(hours),
    }
}

/// Nearest-rank percentiles `p ≤ q` of `v`, reordering it (no full sort).
fn pick(v: &mut [i64], p: u32, q: u32) -> (Option<i64>, Option<i64>) {
    let n = v.len() as u64;
    if n == 0 {
        return (None, None);
    }
    let rank = |p: u32| (u64::from(p) * n).div_ceil(100).max(1) as usize - 1;
    let (kp, kq) = (rank(p), rank(q));
    let (_, at_p, above) = v.select_nth_unstable(kp);
    let at_p = *at_p;
    let at_q = if kq > kp {
        *above.select_nth_unstable(kq - kp - 1).1
    } else {
        at_p
    };
    (Some(at_p), Some(at_q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn judging_deadlines() {
        let facts = |dl: Option<i64>, solved: Option<i64>, breached: Option<i64>| Moments {
            deadline: dl.map(t),
            solved: solved.map(t),
            breached: breached.map(t),
        };
        // (deadline, solved, breach recorded, period end, now) → (met, breached, open_overdue)
        let cases = [
            (
                Some(10),
                Some(5),
                None,
                20,
                30,
                (true, false, false),
                "solved in time",
            ),
            (
                Some(10),
                Some(15),
                None,
                20,
                30,
                (false, true, false),
                "solved late",
            ),
            (
                Some(10),
                Some(15),
                None,
                12,
                30,
                (false, true, true),
                "late, open at the end",
            ),
            (
                Some(10),
                Some(9),
                Some(8),
                20,
                30,
                (false, true, false),
                "escalated before",
            ),
            (
                Some(10),
                None,
                None,
                20,
                30,
                (false, true, true),
                "open and overdue",
            ),
            (
                Some(10),
                None,
                None,
                5,
                8,
                (false, false, false),
                "open, not yet due",
            ),
            (
                Some(40),
                None,
                Some(12),
                20,
                30,
                (false, true, true),
                "escalated, new deadline",
            ),
            (
                None,
                None,
                None,
                20,
                30,
                (false, false, false),
                "no deadline",
            ),
        ];
        for (dl, solved, breached, end, now, want, why) in cases {
            let j = judge(facts(dl, solved, breached), t(end), t(now));
            assert_eq!((j.met, j.breached, j.open_overdue), want, "{why}");
        }
    }

    /// The linear-time picks equal the percentiles of the sorted samples.
    #[test]
    fn picks_equal_sorted_percentiles() {
        let mut x: u64 = 7;
        for n in [0usize, 1, 2, 3, 9, 10, 11, 99, 100, 101, 1000] {
            let v: Vec<i64> = (0..n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 50) as i64 % 50
                })
                .collect();
            let mut s = v.clone();
            s.sort_unstable();
            for (p, q) in [(50, 90), (50, 50), (10, 99), (1, 100)] {
                let got = pick(&mut v.clone(), p, q);
                assert_eq!(
                    got,
                    (percentile(&s, p), percentile(&s, q)),
                    "n {n}, {p}/{q}"
                );
            }
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2], 50), Some(1));
        assert_eq!(percentile(&[1, 2], 90), Some(2));
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!((percentile(&v, 50), percentile(&v, 90)), (Some(5), Some(9)));
    }
}
