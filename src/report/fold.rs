//! The fold of a period's tickets into a [`Report`]: one call per ticket,
//! no allocation per ticket. Statuses, kinds and lines are indexes into
//! small arrays; priorities, channels and organisations are numbered the
//! first time they are seen (the configured ones first), so a ticket costs
//! a few comparisons of short strings and array increments, not map
//! lookups by name. The maps of the report are built once, at the end.

use super::{
    earlier, hours, judge, period, pick, stat, Backlog, Counts, Day, Deadlines, Engineer, Moments,
    Period, PeriodOut, Report, Stat, TimeStats, Times, Totals, CHANNELS,
};
use crate::store::report::{EngineerRow, ReportRow};
use crate::workflow::status::{Kind, Status};
use crate::workflow::{working_time_between, Calendar};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// Names numbered in the order they are first seen.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn with<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Names {
        Names(names.into_iter().map(Into::into).collect())
    }

    /// The number of `name`, given one if new.
    fn slot(&mut self, name: &str) -> usize {
        match self.0.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.0.push(name.to_string());
                self.0.len() - 1
            }
        }
    }
}

/// A count per slot, growing with the slots.
fn bump(v: &mut Vec<u64>, i: usize) {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += 1;
}

fn counts(names: &Names, n: &[u64]) -> Counts {
    Counts(
        names
            .0
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), n.get(i).copied().unwrap_or(0)))
            .collect(),
    )
}

/// Samples by priority slot and by line, and all of them.
#[derive(Default)]
struct Samples {
    all: Vec<i64>,
    by_priority: Vec<Vec<i64>>,
    by_line: [Vec<i64>; 3],
}

impl Samples {
    fn add(&mut self, secs: i64, priority: usize, line: usize) {
        self.all.push(secs);
        if self.by_priority.len() <= priority {
            self.by_priority.resize_with(priority + 1, Vec::new);
        }
        self.by_priority[priority].push(secs);
        self.by_line[line].push(secs);
    }

    /// `other`'s samples of its priority slot `from` into slot `to`.
    fn take(&mut self, other: &Samples, from: usize, to: usize) {
        let Some(v) = other.by_priority.get(from).filter(|v| !v.is_empty()) else {
            return;
        };
        if self.by_priority.len() <= to {
            self.by_priority.resize_with(to + 1, Vec::new);
        }
        self.by_priority[to].extend_from_slice(v);
    }

    /// Only the priorities and lines with samples are listed.
    fn finish(self, priorities: &Names) -> TimeStats {
        let keep = |(k, v): (String, Vec<i64>)| (!v.is_empty()).then(|| (k, stat(v)));
        TimeStats {
            all: stat(self.all),
            by_priority: priorities
                .0
                .iter()
                .cloned()
                .zip(self.by_priority)
                .filter_map(keep)
                .collect::<BTreeMap<String, Stat>>(),
            by_line: ["1", "2", "3"]
                .map(String::from)
                .into_iter()
                .zip(self.by_line)
                .filter_map(keep)
                .collect(),
        }
    }
}

fn add(into: &mut [u64], from: &[u64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

fn merge(into: &mut Deadlines, from: &Deadlines) {
    into.met += from.met;
    into.breached += from.breached;
    into.open_overdue += from.open_overdue;
}

fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

/// Folds tickets (with facts) into a [`Report`].
pub struct Builder<'a> {
    period: Period,
    now: DateTime<Utc>,
    /// The end the deadlines are judged at: the period's, or now.
    end: DateTime<Utc>,
    cal: &'a Calendar,
    received: u64,
    by_status: [u64; Status::ALL.len()],
    by_kind: [u64; Kind::ALL.len()],
    by_line: [u64; 3],
    priorities: Names,
    by_priority: Vec<u64>,
    channels: Names,
    by_channel: Vec<u64>,
    /// The configured mailboxes first; tickets with none are not counted.
    mailboxes: Names,
    by_mailbox: Vec<u64>,
    organizations: Names,
    by_organization: Vec<u64>,
    deadlines: Deadlines,
    /// Deadlines by priority slot; `None` until a ticket of it is seen.
    deadlines_by_priority: Vec<Option<Deadlines>>,
    first: Samples,
    solution: Samples,
    /// Tickets per local day of the period, from its first day.
    per_day: Vec<u64>,
    /// The local day of the last ticket, `[start, end)` in UTC, and its
    /// index in `per_day` (`None` outside the period): tickets come in
    /// order of registration, so most fall in the same day.
    day: Option<(DateTime<Utc>, DateTime<Utc>, Option<usize>)>,
}

impl<'a> Builder<'a> {
    /// `priorities`, `mailboxes`: the configured names, in order (listed
    /// even at 0).
    pub fn new(
        period: Period,
        now: DateTime<Utc>,
        cal: &'a Calendar,
        priorities: &[String],
        mailboxes: &[String],
    ) -> Self {
        Builder {
            period,
            now,
            end: period.to.min(now),
            cal,
            received: 0,
            by_status: [0; Status::ALL.len()],
            by_kind: [0; Kind::ALL.len()],
            by_line: [0; 3],
            priorities: Names::with(priorities.iter().cloned()),
            by_priority: vec![0; priorities.len()],
            channels: Names::with(CHANNELS),
            by_channel: vec![0; CHANNELS.len()],
            mailboxes: Names::with(mailboxes.iter().cloned()),
            by_mailbox: vec![0; mailboxes.len()],
            organizations: Names::default(),
            by_organization: Vec::new(),
            deadlines: Deadlines::default(),
            deadlines_by_priority: Vec::new(),
            first: Samples::default(),
            solution: Samples::default(),
            per_day: vec![0; period.each_day().count()],
            day: None,
        }
    }

    /// The index in `per_day` of the desk's local day of `at`: the
    /// time-zone lookup only when `at` leaves the day of the ticket before.
    fn local_day(&mut self, at: DateTime<Utc>) -> Option<usize> {
        if let Some((start, end, i)) = self.day {
            if start <= at && at < end {
                return i;
            }
        }
        let tz = self.period.tz;
        let d = at.with_timezone(&tz).date_naive();
        let i = self.day_index(d);
        let start = period::midnight(d, tz);
        let end = d.succ_opt().map(|n| period::midnight(n, tz));
        // Remembered only when the bounds agree with the lookup.
        self.day = match end {
            Some(end) if start <= at && at < end => Some((start, end, i)),
            _ => None,
        };
        i
    }

    fn day_index(&self, d: NaiveDate) -> Option<usize> {
        let i = usize::try_from((d - self.period.first_day).num_days()).ok()?;
        (i < self.per_day.len()).then_some(i)
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
        self.received += 1;
        self.by_status[position(&Status::ALL, &t.status)] += 1;
        self.by_kind[position(&Kind::ALL, &t.kind)] += 1;
        let line = usize::from(t.line.number().clamp(1, 3)) - 1;
        self.by_line[line] += 1;
        let p = self.priorities.slot(t.priority);
        bump(&mut self.by_priority, p);
        let c = self.channels.slot(t.channel);
        bump(&mut self.by_channel, c);
        if let Some(m) = t.mailbox {
            let m = self.mailboxes.slot(m);
            bump(&mut self.by_mailbox, m);
        }
        let o = self.organizations.slot(t.organization.unwrap_or("—"));
        bump(&mut self.by_organization, o);
        let m = Moments {
            deadline: t.deadline,
            solved: earlier(t.solution_proposed_at, t.confirmed_at),
            breached: t.deadline_breached_at,
        };
        let j = judge(m, self.end, self.now);
        if self.deadlines_by_priority.len() <= p {
            self.deadlines_by_priority.resize(p + 1, None);
        }
        let d = self.deadlines_by_priority[p].get_or_insert_with(Deadlines::default);
        for x in [&mut self.deadlines, d] {
            x.met += u64::from(j.met);
            x.breached += u64::from(j.breached);
            x.open_overdue += u64::from(j.open_overdue);
        }
        if let Some(s) = self.secs(t, t.first_response_secs, t.first_response_at) {
            self.first.add(s, p, line);
        }
        if let Some(s) = self.secs(t, t.solution_secs, t.solution_proposed_at) {
            self.solution.add(s, p, line);
        }
        if let Some(i) = self.local_day(t.created_at) {
            self.per_day[i] += 1;
        }
    }

    /// This fold followed by `other`, the fold of the tickets registered
    /// after all of this one's (the same period): names keep the order in
    /// which the whole sequence first showed them.
    pub fn then(mut self, other: Builder<'_>) -> Self {
        self.received += other.received;
        add(&mut self.by_status, &other.by_status);
        add(&mut self.by_kind, &other.by_kind);
        add(&mut self.by_line, &other.by_line);
        add(&mut self.per_day, &other.per_day);
        merge(&mut self.deadlines, &other.deadlines);
        for (i, name) in other.priorities.0.iter().enumerate() {
            let p = self.priorities.slot(name);
            if self.by_priority.len() <= p {
                self.by_priority.resize(p + 1, 0);
            }
            self.by_priority[p] += other.by_priority.get(i).copied().unwrap_or(0);
            if let Some(Some(d)) = other.deadlines_by_priority.get(i) {
                if self.deadlines_by_priority.len() <= p {
                    self.deadlines_by_priority.resize(p + 1, None);
                }
                merge(
                    self.deadlines_by_priority[p].get_or_insert_with(Deadlines::default),
                    d,
                );
            }
            self.first.take(&other.first, i, p);
            self.solution.take(&other.solution, i, p);
        }
        for (names, n, other_names, other_n) in [
            (
                &mut self.channels,
                &mut self.by_channel,
                &other.channels,
                &other.by_channel,
            ),
            (
                &mut self.mailboxes,
                &mut self.by_mailbox,
                &other.mailboxes,
                &other.by_mailbox,
            ),
            (
                &mut self.organizations,
                &mut self.by_organization,
                &other.organizations,
                &other.by_organization,
            ),
        ] {
            for (i, name) in other_names.0.iter().enumerate() {
                let k = names.slot(name);
                if n.len() <= k {
                    n.resize(k + 1, 0);
                }
                n[k] += other_n.get(i).copied().unwrap_or(0);
            }
        }
        self.first.all.extend_from_slice(&other.first.all);
        self.solution.all.extend_from_slice(&other.solution.all);
        for l in 0..3 {
            self.first.by_line[l].extend_from_slice(&other.first.by_line[l]);
            self.solution.by_line[l].extend_from_slice(&other.solution.by_line[l]);
        }
        self
    }

    /// The report, with the backlog counts and the engineers' figures.
    pub fn finish(self, backlog: Backlog, engineers: Vec<EngineerRow>) -> Report {
        let engineers = engineers
            .into_iter()
            .map(|mut e| Engineer {
                median_hours_to_solution: pick(&mut e.solution_secs, 50, 50).0.map(hours),
                address: e.actor,
                commands: e.commands,
                closed: e.closed,
            })
            .collect();
        let named = |all: &[&str], n: &[u64]| {
            Counts(
                all.iter()
                    .zip(n)
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
            )
        };
        let totals = Totals {
            received: self.received,
            by_status: named(&Status::ALL.map(Status::machine_name), &self.by_status),
            by_kind: named(&Kind::ALL.map(Kind::machine_name), &self.by_kind),
            by_priority: counts(&self.priorities, &self.by_priority),
            by_channel: counts(&self.channels, &self.by_channel),
            by_mailbox: counts(&self.mailboxes, &self.by_mailbox),
            by_line: named(&["1", "2", "3"], &self.by_line),
            by_organization: counts(&self.organizations, &self.by_organization),
        };
        let deadlines_by_priority = self
            .priorities
            .0
            .iter()
            .zip(&self.deadlines_by_priority)
            .filter_map(|(k, d)| d.map(|d| (k.clone(), d)))
            .collect();
        let first_day = self.period.first_day;
        Report {
            period: PeriodOut {
                from: self.period.first_day,
                to: self.period.last_day,
                time_zone: self.period.tz.name().to_string(),
            },
            totals,
            deadlines: self.deadlines,
            deadlines_by_priority,
            times: Times {
                first_response: self.first.finish(&self.priorities),
                solution: self.solution.finish(&self.priorities),
            },
            backlog,
            engineers,
            per_day: self
                .per_day
                .iter()
                .zip(first_day.iter_days())
                .map(|(n, date)| Day { date, received: *n })
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
