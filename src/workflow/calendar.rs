//! The business calendar: when the desk works, and deadlines counted in
//! working time.
//!
//! A deadline of "4h" set at 17:00 on a Friday falls at 12:00 on Monday
//! (09:00–18:00, lunch 13:00–14:00), not at 21:00 on Friday: the regulation
//! counts execution time in the desk's working time. The calendar knows the
//! desk's time zone, its working hours with an optional lunch break, the
//! weekly days off, public holidays, and transferred working days (a
//! Saturday declared a working day by government decree). Everything is a
//! plain value; the config builds one in `config::sections`.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use std::collections::BTreeSet;

pub use super::duration::WorkDuration;

/// Seconds in a day; a working period may end at 24:00.
const DAY: u32 = 86_400;

/// A business calendar. Build with [`Calendar::new`], which refuses one
/// without any working time (a deadline on it would never come).
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Working periods of a working day, seconds after local midnight,
    /// sorted, not overlapping: `[(09:00, 13:00), (14:00, 18:00)]`.
    periods: Vec<(u32, u32)>,
    /// Indexed by `Weekday::num_days_from_monday`.
    weekends: [bool; 7],
    holidays: BTreeSet<NaiveDate>,
    working_days: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("`{0}` is not a time range like \"09:00-18:00\"")]
    BadRange(String),
    #[error("the lunch break {0} is not inside the working hours")]
    LunchOutside(String),
    #[error("no working time: every weekday is a day off or the working hours are empty")]
    NoWorkingTime,
    #[error("`{0}` is not a day of the week (mon, tue, … or пн, вт, …)")]
    BadWeekday(String),
    #[error("`{0}` is not a date like \"2026-01-07\"")]
    BadDate(String),
    #[error("`{0}` is not a time zone (IANA name like \"Europe/Kaliningrad\")")]
    BadZone(String),
}

impl Calendar {
    /// `hours` like `"09:00-18:00"` (`"00:00-24:00"` for round the clock),
    /// `lunch` like `"13:00-14:00"`.
    pub fn new(
        tz: Tz,
        hours: &str,
        lunch: Option<&str>,
        weekends: impl IntoIterator<Item = Weekday>,
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_days: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Calendar, CalendarError> {
        let (start, end) = parse_range(hours)?;
        let periods = match lunch {
            None => vec![(start, end)],
            Some(l) => {
                let (ls, le) = parse_range(l)?;
                if ls <= start || le >= end {
                    return Err(CalendarError::LunchOutside(l.to_string()));
                }
                vec![(start, ls), (le, end)]
            }
        };
        let mut off = [false; 7];
        for w in weekends {
            off[w.num_days_from_monday() as usize] = true;
        }
        if off.iter().all(|x| *x) || periods.is_empty() {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(Calendar {
            tz,
            periods,
            weekends: off,
            holidays: holidays.into_iter().collect(),
            working_days: working_days.into_iter().collect(),
        })
    }

    /// Round the clock, every day, UTC: for tests and desks that never sleep.
    pub fn always() -> Calendar {
        Calendar {
            tz: Tz::UTC,
            periods: vec![(0, DAY)],
            weekends: [false; 7],
            holidays: BTreeSet::new(),
            working_days: BTreeSet::new(),
        }
    }

    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// A transferred working day works even on a weekend; a holiday does not
    /// work even on a weekday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.working_days.contains(&d) {
            return true;
        }
        !self.holidays.contains(&d) && !self.weekends[d.weekday().num_days_from_monday() as usize]
    }

    /// Working time in one working day: what "1d" in a deadline means.
    pub fn day_length(&self) -> Duration {
        Duration::seconds(self.periods.iter().map(|(a, b)| i64::from(b - a)).sum())
    }

    /// A [`WorkDuration`] as working time on this calendar.
    pub fn resolve(&self, d: WorkDuration) -> Duration {
        self.day_length() * d.days as i32 + Duration::seconds(d.seconds as i64)
    }

    /// Is `at` inside working time?
    pub fn is_working_time(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz).naive_local();
        let secs = local.time().num_seconds_from_midnight();
        self.is_working_day(local.date())
            && self.periods.iter().any(|(a, b)| *a <= secs && secs < *b)
    }

    /// The working periods of local day `d`, in UTC (empty on a day off).
    fn periods_of(&self, d: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_working_day(d) {
            return Vec::new();
        }
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or(NaiveDateTime::MIN);
        self.periods
            .iter()
            .map(|(a, b)| {
                (
                    self.to_utc(midnight + Duration::seconds(i64::from(*a))),
                    self.to_utc(midnight + Duration::seconds(i64::from(*b))),
                )
            })
            .collect()
    }

    /// Local wall time → UTC. In a spring-forward gap the wall time does not
    /// exist: take the moment the clocks jump to; in a fall-back overlap take
    /// the earlier instant.
    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }
}

/// Add `dur` of working time to `start`. A start outside working time
/// counts from the next working period; a zero duration returns `start`.
pub fn add_working_time(start: DateTime<Utc>, dur: Duration, cal: &Calendar) -> DateTime<Utc> {
    if dur <= Duration::zero() {
        return start;
    }
    let mut left = dur;
    let mut day = start.with_timezone(&cal.tz).date_naive();
    // A calendar has a working weekday (`Calendar::new`) and finitely many
    // holidays, so this ends; the bound is a guard against a bad build.
    for _ in 0..(366 * 200) {
        for (a, b) in cal.periods_of(day) {
            let from = a.max(start);
            if from >= b {
                continue;
            }
            let avail = b - from;
            if left <= avail {
                return from + left;
            }
            left -= avail;
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    start + dur
}

/// Working time between `from` and `to` (zero when `to` is not later):
/// what a response or solution time is in the desk's hours. Walks the
/// days between, so a span of years costs a few thousand steps.
pub fn working_time_between(from: DateTime<Utc>, to: DateTime<Utc>, cal: &Calendar) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    let mut total = Duration::zero();
    let mut day = from.with_timezone(&cal.tz).date_naive();
    let last = to.with_timezone(&cal.tz).date_naive();
    while day <= last {
        for (a, b) in cal.periods_of(day) {
            let (s, e) = (a.max(from), b.min(to));
            if e > s {
                total += e - s;
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    total
}

/// `"09:00-18:00"` → seconds after midnight; the end may be `24:00`.
pub fn parse_range(s: &str) -> Result<(u32, u32), CalendarError> {
    let bad = || CalendarError::BadRange(s.to_string());
    let (a, b) = s.split_once(['-', '–']).ok_or_else(bad)?;
    let t = |x: &str| -> Option<u32> {
        let (h, m) = x.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3600 + m * 60)
    };
    let (a, b) = (t(a).ok_or_else(bad)?, t(b).ok_or_else(bad)?);
    if a >= b {
        return Err(bad());
    }
    Ok((a, b))
}

/// `mon`…`sun`, `monday`, `пн`…`вс`, `понедельник`…
pub fn parse_weekday(s: &str) -> Result<Weekday, CalendarError> {
    let l = s.trim().to_lowercase();
    let w = match l.as_str() {
        "mon" | "monday" | "пн" | "понедельник" => Weekday::Mon,
        "tue" | "tuesday" | "вт" | "вторник" => Weekday::Tue,
        "wed" | "wednesday" | "ср" | "среда" => Weekday::Wed,
        "thu" | "thursday" | "чт" | "четверг" => Weekday::Thu,
        "fri" | "friday" | "пт" | "пятница" => Weekday::Fri,
        "sat" | "saturday" | "сб" | "суббота" => Weekday::Sat,
        "sun" | "sunday" | "вс" | "воскресенье" => Weekday::Sun,
        _ => return Err(CalendarError::BadWeekday(s.to_string())),
    };
    Ok(w)
}

pub fn parse_date(s: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| CalendarError::BadDate(s.to_string()))
}

pub fn parse_zone(s: &str) -> Result<Tz, CalendarError> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| CalendarError::BadZone(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::{Sat, Sun};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Kaliningrad, 09:00–18:00 with lunch 13:00–14:00, Sat/Sun off, the
    /// New Year holidays of 2026, and November 2025 with its transfer
    /// (Saturday 1 Nov worked, Monday 3 Nov off).
    fn russia() -> Calendar {
        let mut holidays: Vec<NaiveDate> = (1..=9).map(|i| d(2026, 1, i)).collect();
        holidays.extend([d(2025, 12, 31), d(2025, 11, 3), d(2025, 11, 4)]);
        Calendar::new(
            chrono_tz::Europe::Kaliningrad,
            "09:00-18:00",
            Some("13:00-14:00"),
            [Sat, Sun],
            holidays,
            [d(2025, 11, 1)],
        )
        .unwrap()
    }

    fn at(cal: &Calendar, s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        cal.tz
            .from_local_datetime(&naive)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn local(cal: &Calendar, t: DateTime<Utc>) -> String {
        t.with_timezone(&cal.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn working_time_between_counts_only_working_hours() {
        let cal = russia();
        let h = Duration::hours;
        let cases = [
            ("2026-11-23 10:00", "2026-11-23 12:00", h(2)),
            ("2026-11-23 12:00", "2026-11-23 15:00", h(2)),
            ("2026-11-27 17:00", "2026-11-30 10:00", h(2)),
            ("2026-11-23 19:00", "2026-11-24 08:00", h(0)),
            ("2026-11-24 10:00", "2026-11-23 10:00", h(0)),
            ("2026-11-23 09:00", "2026-11-24 09:00", h(8)),
        ];
        for (a, b, want) in cases {
            let got = working_time_between(at(&cal, a), at(&cal, b), &cal);
            assert_eq!(got, want, "{a} → {b}");
            if want > Duration::zero() {
                let back = add_working_time(at(&cal, a), want, &cal);
                assert_eq!(working_time_between(at(&cal, a), back, &cal), want);
            }
        }
    }

    #[test]
    fn adds_working_time() {
        let cal = russia();
        let h = Duration::hours;
        // (start, duration, expected end), local time
        let cases = [
            (
                "2026-11-23 10:00",
                h(2),
                "2026-11-23 12:00",
                "within a morning",
            ),
            ("2026-11-23 12:00", h(2), "2026-11-23 15:00", "across lunch"),
            (
                "2026-11-23 13:30",
                h(1),
                "2026-11-23 15:00",
                "start in lunch",
            ),
            (
                "2026-11-23 09:00",
                h(4),
                "2026-11-23 13:00",
                "ends exactly at lunch",
            ),
            (
                "2026-11-23 17:00",
                h(4),
                "2026-11-24 12:00",
                "across the evening",
            ),
            (
                "2026-11-23 22:00",
                h(1),
                "2026-11-24 10:00",
                "start at night",
            ),
            (
                "2026-11-24 03:00",
                Duration::minutes(30),
                "2026-11-24 09:30",
                "start before dawn",
            ),
            (
                "2026-11-27 17:00",
                h(4),
                "2026-11-30 12:00",
                "Friday evening over the weekend",
            ),
            (
                "2026-11-28 10:00",
                h(1),
                "2026-11-30 10:00",
                "start on a Saturday",
            ),
            (
                "2025-12-30 17:00",
                h(10),
                "2026-01-13 10:00",
                "New Year holidays",
            ),
            (
                "2025-10-31 17:00",
                h(2),
                "2025-11-01 10:00",
                "transferred working Saturday",
            ),
            (
                "2025-11-01 17:00",
                h(2),
                "2025-11-05 10:00",
                "Sunday, then the transferred holiday and 4 Nov",
            ),
            (
                "2026-11-23 09:00",
                h(40),
                "2026-11-27 18:00",
                "a working week",
            ),
            (
                "2026-11-23 09:00",
                h(80),
                "2026-12-04 18:00",
                "two working weeks",
            ),
            (
                "2026-07-15 17:00",
                h(2),
                "2026-07-16 10:00",
                "summer: no DST in Kaliningrad",
            ),
            (
                "2026-11-23 22:00",
                Duration::zero(),
                "2026-11-23 22:00",
                "zero duration",
            ),
        ];
        for (start, dur, want, what) in cases {
            let got = add_working_time(at(&cal, start), dur, &cal);
            assert_eq!(local(&cal, got), want, "{what}: {start} + {dur}");
        }
        // Kaliningrad is UTC+2 all year: 10:00 local is 08:00 UTC in summer and winter.
        let summer = add_working_time(at(&cal, "2026-07-15 17:00"), h(2), &cal);
        assert_eq!(summer.format("%H:%M").to_string(), "08:00");
    }

    #[test]
    fn follows_daylight_saving_where_there_is_some() {
        let cal = Calendar::new(
            chrono_tz::Europe::Berlin,
            "09:00-18:00",
            None,
            [Sat, Sun],
            [],
            [],
        )
        .unwrap();
        // Clocks go forward on Sunday 29 March 2026: Friday 17:00 CET is 16:00 UTC,
        // Monday 10:00 CEST is 08:00 UTC.
        let got = add_working_time(at(&cal, "2026-03-27 17:00"), Duration::hours(2), &cal);
        assert_eq!(got.to_rfc3339(), "2026-03-30T08:00:00+00:00");
    }

    #[test]
    fn round_the_clock() {
        let cal = Calendar::always();
        let start = Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 50).unwrap();
        let got = add_working_time(start, Duration::seconds(20), &cal);
        assert_eq!(got, Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 10).unwrap());
        let cal = Calendar::new(
            chrono_tz::Europe::Kaliningrad,
            "00:00-24:00",
            None,
            [],
            [],
            [],
        )
        .unwrap();
        assert_eq!(cal.day_length(), Duration::hours(24));
        let got = add_working_time(start, Duration::days(3), &cal);
        assert_eq!(got, start + Duration::days(3));
    }

    #[test]
    fn working_days_and_time() {
        let cal = russia();
        let cases = [
            (d(2026, 11, 23), true, "Monday"),
            (d(2026, 11, 28), false, "Saturday"),
            (d(2026, 1, 5), false, "holiday on a Monday"),
            (d(2025, 11, 1), true, "transferred working Saturday"),
            (d(2025, 11, 3), false, "transferred holiday Monday"),
        ];
        for (day, want, what) in cases {
            assert_eq!(cal.is_working_day(day), want, "{what}");
        }
        assert!(cal.is_working_time(at(&cal, "2026-11-23 09:00")));
        assert!(!cal.is_working_time(at(&cal, "2026-11-23 13:15")));
        assert!(!cal.is_working_time(at(&cal, "2026-11-23 18:00")));
        assert_eq!(cal.day_length(), Duration::hours(8));
        assert_eq!(
            cal.resolve(WorkDuration {
                days: 2,
                seconds: 3600
            }),
            Duration::hours(17)
        );
    }

    #[test]
    fn refuses_bad_calendars() {
        let tz = chrono_tz::Europe::Kaliningrad;
        let all = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Sat,
            Sun,
        ];
        let cases = [
            (
                Calendar::new(tz, "18:00-09:00", None, [], [], []),
                CalendarError::BadRange("18:00-09:00".into()),
            ),
            (
                Calendar::new(tz, "9-18", None, [], [], []),
                CalendarError::BadRange("9-18".into()),
            ),
            (
                Calendar::new(tz, "09:00-25:00", None, [], [], []),
                CalendarError::BadRange("09:00-25:00".into()),
            ),
            (
                Calendar::new(tz, "09:00-18:00", Some("08:00-10:00"), [], [], []),
                CalendarError::LunchOutside("08:00-10:00".into()),
            ),
            (
                Calendar::new(tz, "09:00-18:00", None, all, [], []),
                CalendarError::NoWorkingTime,
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap_err(), want);
        }
        assert_eq!(parse_weekday("Сб"), Ok(Sat));
        assert_eq!(parse_weekday("sunday"), Ok(Sun));
        assert!(parse_weekday("holiday").is_err());
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_zone("Europe/Kaliningrad").is_ok());
        assert!(parse_zone("Mars/Olympus").is_err());
    }
}
