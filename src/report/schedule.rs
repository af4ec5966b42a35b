//! When a `[[reports]]` entry sends: the report of the finished week or
//! month, at `at` (desk time) on the first working day of the new period.
//! Pure functions of the entry, the calendar and the time.

use super::period::Period;
use crate::config::vitals::Every;
use crate::workflow::Calendar;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// The period of kind `every` holding local day `d`.
pub fn period_of(every: Every, d: NaiveDate, cal: &Calendar) -> Result<Period, String> {
    match every {
        Every::Week => Period::week_of(d, cal.time_zone()),
        Every::Month => Period::month_of(d, cal.time_zone()),
    }
}

/// The first working day on or after `d` (within a year; else `d`).
pub fn first_working_day(d: NaiveDate, cal: &Calendar) -> NaiveDate {
    d.iter_days()
        .take(366)
        .find(|x| cal.is_working_day(*x))
        .unwrap_or(d)
}

/// `at_secs` after local midnight of `d`.
fn local_at(d: NaiveDate, at_secs: u32, cal: &Calendar) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(i64::from(at_secs));
    (0..4)
        .find_map(|h| {
            cal.time_zone()
                .from_local_datetime(&(naive + Duration::minutes(30 * h)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// When the report of the period before `current` is sent.
pub fn send_time(current: &Period, at_secs: u32, cal: &Calendar) -> DateTime<Utc> {
    local_at(first_working_day(current.first_day, cal), at_secs, cal)
}

/// The report due at `now`: the latest finished period whose sending time
/// has come, with that time.
pub fn due(
    every: Every,
    at_secs: u32,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Result<(Period, DateTime<Utc>), String> {
    let today = now.with_timezone(&cal.time_zone()).date_naive();
    let current = period_of(every, today, cal)?;
    let t = send_time(&current, at_secs, cal);
    if now >= t {
        Ok((current.previous()?, t))
    } else {
        let prev = current.previous()?;
        Ok((prev.previous()?, send_time(&prev, at_secs, cal)))
    }
}

/// The next sending time after `now`.
pub fn next_send(
    every: Every,
    at_secs: u32,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let today = now.with_timezone(&cal.time_zone()).date_naive();
    let current = period_of(every, today, cal)?;
    let t = send_time(&current, at_secs, cal);
    if t > now {
        return Ok(t);
    }
    let after = current.last_day.succ_opt().ok_or("no next period")?;
    Ok(send_time(&period_of(every, after, cal)?, at_secs, cal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday::{Sat, Sun};

    fn cal() -> Calendar {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        Calendar::new(
            chrono_tz::Europe::Kaliningrad,
            "09:00-18:00",
            None,
            [Sat, Sun],
            [d(11, 2), d(1, 1)],
            [],
        )
        .unwrap()
    }

    fn local(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}+02:00"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn due_reports_and_their_times() {
        let c = cal();
        let nine = 9 * 3600;
        // (every, now, due period, its time, next time) — 1 Nov 2026 is a
        // Sunday and 2 Nov a holiday: the October report goes on Tue 3 Nov.
        let cases = [
            (
                Every::Month,
                "2026-11-03T09:00:00",
                "2026-10",
                "2026-11-03T09:00:00",
                "2026-12-01T09:00:00",
            ),
            (
                Every::Month,
                "2026-11-03T08:59:00",
                "2026-09",
                "2026-10-01T09:00:00",
                "2026-11-03T09:00:00",
            ),
            (
                Every::Month,
                "2026-11-20T12:00:00",
                "2026-10",
                "2026-11-03T09:00:00",
                "2026-12-01T09:00:00",
            ),
            (
                Every::Week,
                "2026-12-07T09:30:00",
                "2026-11-30_2026-12-06",
                "2026-12-07T09:00:00",
                "2026-12-14T09:00:00",
            ),
            (
                Every::Week,
                "2026-11-02T10:00:00",
                "2026-10-19_2026-10-25",
                "2026-10-26T09:00:00",
                "2026-11-03T09:00:00",
            ),
        ];
        for (every, now, name, at, next) in cases {
            let (p, t) = due(every, nine, &c, local(now)).unwrap();
            assert_eq!((p.name(), t), (name.to_string(), local(at)), "{now}");
            assert_eq!(
                next_send(every, nine, &c, local(now)).unwrap(),
                local(next),
                "{now}"
            );
        }
    }
}
