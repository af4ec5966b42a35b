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
pub mod html;
pub mod letters;
pub mod listing;
pub mod make;
pub mod period;
pub mod render;
pub mod schedule;

use crate::store::facts::Facts;
use crate::store::report::{EngineerRow, ReportRow};
use crate::workflow::status::{Kind, Status};
use crate::workflow::{working_time_between, Calendar};
use chrono::{DateTime, NaiveDate, Utc};
pub use period::Period;
use serde::Serialize;
use std::collections::BTreeMap;

/// Channels a ticket can come by.
pub const CHANNELS: [&str; 3] = ["email", "web", "phone"];

/// Counts by name, in a fixed order (serialised as a JSON object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts(pub Vec<(String, u64)>);

impl Counts {
    fn with(names: impl IntoIterator<Item = String>) -> Counts {
        Counts(names.into_iter().map(|n| (n, 0)).collect())
    }

    fn add(&mut self, name: &str) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += 1,
            None => self.0.push((name.to_string(), 1)),
        }
    }

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
    pub by_line: Counts,
    pub by_organization: Counts,
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

fn stat(mut v: Vec<i64>) -> Stat {
    v.sort_unstable();
    Stat {
        count: v.len() as u64,
        median_hours: percentile(&v, 50).map(hours),
        p90_hours: percentile(&v, 90).map(hours),
    }
}

/// The entry for `key`, allocating the key only the first time.
fn entry<'m, V: Default>(m: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !m.contains_key(key) {
        m.insert(key.to_string(), V::default());
    }
    m.get_mut(key).expect("inserted above")
}

fn line_name(t: &ReportRow<'_>) -> &'static str {
    ["1", "2", "3"][usize::from(t.line.number().clamp(1, 3)) - 1]
}

#[derive(Default)]
struct Samples {
    all: Vec<i64>,
    by_priority: BTreeMap<String, Vec<i64>>,
    by_line: BTreeMap<String, Vec<i64>>,
}

impl Samples {
    fn add(&mut self, secs: i64, t: &ReportRow<'_>) {
        self.all.push(secs);
        entry(&mut self.by_priority, t.priority).push(secs);
        entry(&mut self.by_line, line_name(t)).push(secs);
    }

    fn finish(self) -> TimeStats {
        TimeStats {
            all: stat(self.all),
            by_priority: self
                .by_priority
                .into_iter()
                .map(|(k, v)| (k, stat(v)))
                .collect(),
            by_line: self
                .by_line
                .into_iter()
                .map(|(k, v)| (k, stat(v)))
                .collect(),
        }
    }
}

/// Folds tickets (with facts) into a [`Report`].
pub struct Builder<'a> {
    period: Period,
    now: DateTime<Utc>,
    cal: &'a Calendar,
    totals: Totals,
    deadlines: Deadlines,
    by_priority: BTreeMap<String, Deadlines>,
    first: Samples,
    solution: Samples,
    per_day: BTreeMap<NaiveDate, u64>,
    /// The local day of the last ticket, `[start, end)` in UTC: tickets
    /// come in order of registration, so most fall in the same day.
    day: Option<(DateTime<Utc>, DateTime<Utc>, NaiveDate)>,
}

impl<'a> Builder<'a> {
    /// `priorities`: the configured names, in order (listed even at 0).
    pub fn new(
        period: Period,
        now: DateTime<Utc>,
        cal: &'a Calendar,
        priorities: &[String],
    ) -> Self {
        let totals = Totals {
            by_status: Counts::with(Status::ALL.iter().map(|s| s.machine_name().to_string())),
            by_kind: Counts::with(Kind::ALL.iter().map(|k| k.machine_name().to_string())),
            by_priority: Counts::with(priorities.iter().cloned()),
            by_channel: Counts::with(CHANNELS.iter().map(|c| c.to_string())),
            by_line: Counts::with((1..=3).map(|l: u8| l.to_string())),
            ..Default::default()
        };
        Builder {
            period,
            now,
            cal,
            totals,
            deadlines: Deadlines::default(),
            by_priority: BTreeMap::new(),
            first: Samples::default(),
            solution: Samples::default(),
            per_day: period.each_day().map(|d| (d, 0)).collect(),
            day: None,
        }
    }

    /// The desk's local day of `at`: the time-zone lookup only when `at`
    /// leaves the day of the ticket before.
    fn local_day(&mut self, at: DateTime<Utc>) -> NaiveDate {
        if let Some((start, end, d)) = self.day {
            if start <= at && at < end {
                return d;
            }
        }
        let tz = self.period.tz;
        let d = at.with_timezone(&tz).date_naive();
        let start = period::midnight(d, tz);
        let end = d.succ_opt().map(|n| period::midnight(n, tz));
        // Remembered only when the bounds agree with the lookup.
        self.day = match end {
            Some(end) if start <= at && at < end => Some((start, end, d)),
            _ => None,
        };
        d
    }

    /// Working seconds from registration to `at`: as stored, or computed
    /// now for a back-filled ticket.
    fn secs(
        &self,
        t: &ReportRow<'_>,
        stored: Option<i64>,
        at: Option<DateTime<Utc>>,
    ) -> Option<i64> {
        stored.or_else(|| at.map(|a| working_time_between(t.created_at, a, self.cal).num_seconds()))
    }

    pub fn add(&mut self, t: &ReportRow<'_>) {
        let tt = &mut self.totals;
        tt.received += 1;
        tt.by_status.add(t.status.machine_name());
        tt.by_kind.add(t.kind.machine_name());
        tt.by_priority.add(t.priority);
        tt.by_channel.add(t.channel);
        tt.by_line.add(line_name(t));
        tt.by_organization.add(t.organization.unwrap_or("—"));
        let m = Moments {
            deadline: t.deadline,
            solved: earlier(t.solution_proposed_at, t.confirmed_at),
            breached: t.deadline_breached_at,
        };
        let j = judge(m, self.period.to.min(self.now), self.now);
        let d = entry(&mut self.by_priority, t.priority);
        for x in [&mut self.deadlines, d] {
            x.met += u64::from(j.met);
            x.breached += u64::from(j.breached);
            x.open_overdue += u64::from(j.open_overdue);
        }
        if let Some(s) = self.secs(t, t.first_response_secs, t.first_response_at) {
            self.first.add(s, t);
        }
        if let Some(s) = self.secs(t, t.solution_secs, t.solution_proposed_at) {
            self.solution.add(s, t);
        }
        let day = self.local_day(t.created_at);
        *self.per_day.entry(day).or_default() += 1;
    }

    /// The report, with the backlog counts and the engineers' figures.
    pub fn finish(self, backlog: Backlog, engineers: Vec<EngineerRow>) -> Report {
        let engineers = engineers
            .into_iter()
            .map(|mut e| {
                e.solution_secs.sort_unstable();
                Engineer {
                    median_hours_to_solution: percentile(&e.solution_secs, 50).map(hours),
                    address: e.actor,
                    commands: e.commands,
                    closed: e.closed,
                }
            })
            .collect();
        Report {
            period: PeriodOut {
                from: self.period.first_day,
                to: self.period.last_day,
                time_zone: self.period.tz.name().to_string(),
            },
            totals: self.totals,
            deadlines: self.deadlines,
            deadlines_by_priority: self.by_priority,
            times: Times {
                first_response: self.first.finish(),
                solution: self.solution.finish(),
            },
            backlog,
            engineers,
            per_day: self
                .per_day
                .into_iter()
                .filter(|(d, _)| *d >= self.period.first_day && *d <= self.period.last_day)
                .map(|(date, received)| Day { date, received })
                .collect(),
        }
    }
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
