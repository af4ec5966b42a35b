//! Deadline lengths as admins write them: `"4h"`, `"2d"`, `"1d 4h"`.
//!
//! A day here is a *working* day: "2d" on a 09:00–18:00 calendar with an
//! hour's lunch is 16 working hours, which is what the regulation's
//! "срок исполнения" means. [`super::Calendar::resolve`] turns a
//! [`WorkDuration`] into working time on a given calendar.

use std::fmt;

/// A deadline length as written in the config: whole working days plus
/// working hours/minutes/seconds. "1d" is one working day's worth of
/// working time ([`Calendar::day_length`](crate::workflow::calendar::Calendar::day_length)), not 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkDuration {
    pub days: u32,
    pub seconds: u64,
}

impl WorkDuration {
    /// `"4h"`, `"2d"`, `"1d 4h"`, `"30m"`, `"90s"`, `"1h30m"`; also `ч`,
    /// `д`, `м`/`мин`, `с`/`сек`. At least one part, no zero total.
    pub fn parse(s: &str) -> Result<WorkDuration, String> {
        let bad = || {
            format!("`{s}` is not a duration like \"4h\", \"2d\", \"1d 4h\", \"30m\" or \"10s\"")
        };
        let mut out = WorkDuration::default();
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = rest[digits..].trim_start();
            let unit_len = rest
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum::<usize>();
            let unit = rest[..unit_len].to_lowercase();
            rest = rest[unit_len..].trim_start();
            let secs_per = match unit.as_str() {
                "d" | "д" | "day" | "days" | "дн" => {
                    out.days = out
                        .days
                        .checked_add(u32::try_from(n).map_err(|_| bad())?)
                        .ok_or_else(bad)?;
                    continue;
                }
                "h" | "ч" => 3600,
                "m" | "min" | "м" | "мин" => 60,
                "s" | "sec" | "с" | "сек" => 1,
                _ => return Err(bad()),
            };
            out.seconds = n
                .checked_mul(secs_per)
                .and_then(|v| out.seconds.checked_add(v))
                .ok_or_else(bad)?;
        }
        if out.days == 0 && out.seconds == 0 {
            return Err(format!(
                "`{s}` is zero: a deadline must be later than registration"
            ));
        }
        if out.days > 3660 || out.seconds > 3660 * 86_400 {
            return Err(format!("`{s}` is more than ten years"));
        }
        Ok(out)
    }
}

impl fmt::Display for WorkDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.days > 0 {
            parts.push(format!("{}d", self.days));
        }
        let (h, m, s) = (
            self.seconds / 3600,
            self.seconds % 3600 / 60,
            self.seconds % 60,
        );
        for (v, u) in [(h, "h"), (m, "m"), (s, "s")] {
            if v > 0 {
                parts.push(format!("{v}{u}"));
            }
        }
        if parts.is_empty() {
            parts.push("0s".into());
        }
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        let w = |days, seconds| Ok(WorkDuration { days, seconds });
        let cases = [
            ("4h", w(0, 4 * 3600)),
            ("2d", w(2, 0)),
            ("1d 4h", w(1, 4 * 3600)),
            ("1h30m", w(0, 5400)),
            ("30m", w(0, 1800)),
            ("10s", w(0, 10)),
            ("2 ч", w(0, 7200)),
            ("3д", w(3, 0)),
            (" 15 мин ", w(0, 900)),
        ];
        for (s, want) in cases {
            assert_eq!(WorkDuration::parse(s), want, "{s:?}");
        }
        for bad in [
            "",
            "4",
            "h",
            "4x",
            "-4h",
            "0h",
            "4h five",
            "99999999999999999999h",
            "4000d",
        ] {
            assert!(WorkDuration::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            WorkDuration {
                days: 1,
                seconds: 5410
            }
            .to_string(),
            "1d 1h 30m 10s"
        );
    }
}
