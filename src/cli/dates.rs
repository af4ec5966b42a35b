//! Dates typed on the command line (`tickets list --since`), as people at
//! the desk write them: `04.12.2026`, `2026-12-04`, either with a time, or
//! an RFC 3339 time. A date or time without an offset is the desk's local
//! time (the calendar's time zone, as every time ticketd shows).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// What `--since` accepts, for the error message.
pub const ACCEPTED: &str = "DD.MM.YYYY or YYYY-MM-DD, optionally with a time HH:MM[:SS] \
     (04.12.2026, 04.12.2026 09:30, 2026-12-04, 2026-12-04 09:30), or an RFC 3339 time \
     (2026-12-04T09:30:00+02:00)";

const DATES: [&str; 2] = ["%d.%m.%Y", "%Y-%m-%d"];
const TIMES: [&str; 2] = ["%H:%M:%S", "%H:%M"];

/// The moment a `--since` value names; `tz` is the desk's time zone.
pub fn parse_since(s: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = DATES
        .iter()
        .find_map(|d| NaiveDate::parse_from_str(s, d).ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .or_else(|| {
            DATES.iter().find_map(|d| {
                [" ", "T"].iter().find_map(|sep| {
                    TIMES.iter().find_map(|t| {
                        NaiveDateTime::parse_from_str(s, &format!("{d}{sep}{t}")).ok()
                    })
                })
            })
        });
    let Some(local) = local else {
        return Err(format!("--since `{s}`: not a date; accepted: {ACCEPTED}"));
    };
    // A time that a clock change skips is taken at the later offset.
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("--since `{s}`: no such local time in {tz}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_the_desk_writes_them() {
        let tz: Tz = "Europe/Kaliningrad".parse().expect("tz");
        // (typed, the moment in UTC); the desk is at UTC+2.
        let cases = [
            ("04.12.2026", "2026-12-03T22:00:00Z"),
            ("4.12.2026", "2026-12-03T22:00:00Z"),
            ("2026-12-04", "2026-12-03T22:00:00Z"),
            ("04.12.2026 09:30", "2026-12-04T07:30:00Z"),
            ("04.12.2026 09:30:15", "2026-12-04T07:30:15Z"),
            ("2026-12-04 09:30", "2026-12-04T07:30:00Z"),
            ("2026-12-04T09:30", "2026-12-04T07:30:00Z"),
            (" 2026-12-04T09:30:00+03:00 ", "2026-12-04T06:30:00Z"),
            ("2026-12-04T09:30:00Z", "2026-12-04T09:30:00Z"),
        ];
        for (typed, want) in cases {
            let got = parse_since(typed, tz)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            assert_eq!(got.as_deref(), Ok(want), "{typed:?}");
        }
        for bad in [
            "04.12",
            "31.02.2026",
            "вчера",
            "2026-13-01",
            "04.12.2026 25:00",
            "",
        ] {
            let e = parse_since(bad, tz).expect_err(bad);
            assert!(
                e.contains("DD.MM.YYYY") && e.contains("YYYY-MM-DD"),
                "{bad:?}: {e}"
            );
            assert!(e.contains(&format!("`{}`", bad.trim())), "{bad:?}: {e}");
        }
    }
}
