//! The period a report covers: whole local days of the desk, from the
//! first day's midnight to the midnight after the last day.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// `[from, to)` in UTC, and the local days it spans (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub tz: Tz,
}

/// Local midnight of `d` in `tz` (a skipped midnight: the first moment after).
pub fn midnight(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..4)
        .find_map(|h| {
            tz.from_local_datetime(&(naive + Duration::minutes(30 * h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

impl Period {
    /// The local days `first..=last`.
    pub fn days(first: NaiveDate, last: NaiveDate, tz: Tz) -> Result<Period, String> {
        if last < first {
            return Err(format!(
                "the period ends ({last}) before it starts ({first})"
            ));
        }
        let after = last
            .succ_opt()
            .ok_or("the period ends after the calendar")?;
        Ok(Period {
            from: midnight(first, tz),
            to: midnight(after, tz),
            first_day: first,
            last_day: last,
            tz,
        })
    }

    /// The month `year-month`.
    pub fn month(year: i32, month: u32, tz: Tz) -> Result<Period, String> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or_else(|| format!("no month {year}-{month:02}"))?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .ok_or_else(|| format!("no month after {year}-{month:02}"))?;
        Period::days(first, next.pred_opt().unwrap_or(first), tz)
    }

    /// `--period 2026-11`.
    pub fn parse_month(s: &str, tz: Tz) -> Result<Period, String> {
        let bad = || format!("--period `{s}`: not a month like 2026-11");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) || !(1970..=9999).contains(&y) {
            return Err(bad());
        }
        Period::month(y, m, tz)
    }

    /// The week (Monday to Sunday) holding local day `d`.
    pub fn week_of(d: NaiveDate, tz: Tz) -> Result<Period, String> {
        let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
        Period::days(monday, monday + Duration::days(6), tz)
    }

    /// The month holding local day `d`.
    pub fn month_of(d: NaiveDate, tz: Tz) -> Result<Period, String> {
        Period::month(d.year(), d.month(), tz)
    }

    /// The period of the same length just before this one (a week before
    /// a week, the previous month before a month).
    pub fn previous(&self) -> Result<Period, String> {
        let before = self
            .first_day
            .pred_opt()
            .ok_or("no day before the period")?;
        if self.first_day.day() == 1 && self.last_day.succ_opt().is_some_and(|d| d.day() == 1) {
            Period::month_of(before, self.tz)
        } else {
            let len = (self.last_day - self.first_day).num_days();
            Period::days(before - Duration::days(len), before, self.tz)
        }
    }

    /// The local days, in order.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first_day
            .iter_days()
            .take_while(move |d| *d <= self.last_day)
    }

    /// A name for the period: `2026-11` for a month, else `first_last`.
    pub fn name(&self) -> String {
        let month = Period::month_of(self.first_day, self.tz).ok();
        if month.is_some_and(|m| m == *self) {
            self.first_day.format("%Y-%m").to_string()
        } else {
            format!("{}_{}", self.first_day, self.last_day)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_weeks_and_their_predecessors() {
        let tz = chrono_tz::Europe::Kaliningrad;
        let nov = Period::parse_month("2026-11", tz).unwrap();
        assert_eq!(nov.from.to_rfc3339(), "2026-10-31T22:00:00+00:00");
        assert_eq!(nov.to.to_rfc3339(), "2026-11-30T22:00:00+00:00");
        assert_eq!(nov.name(), "2026-11");
        assert_eq!(nov.previous().unwrap().name(), "2026-10");
        assert_eq!(
            Period::parse_month("2026-01", tz)
                .unwrap()
                .previous()
                .unwrap()
                .name(),
            "2025-12"
        );
        let d = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let w = Period::week_of(d, tz).unwrap();
        assert_eq!(w.name(), "2026-11-30_2026-12-06");
        assert_eq!(w.previous().unwrap().name(), "2026-11-23_2026-11-29");
        assert_eq!(w.each_day().count(), 7);
        for bad in ["2026", "2026-13", "x-1", "2026-00"] {
            assert!(Period::parse_month(bad, tz).is_err(), "{bad}");
        }
    }
}
