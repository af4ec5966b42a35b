//! The reads reports are made of: tickets with their facts, streamed in
//! order of registration; the backlog at a moment; engineers' commands.
//! Plain data out; the figures are computed in `crate::report`.

use super::engine::{params, Row};
use super::facts::{lines_of, Facts};
use super::tickets::Ticket;
use super::{parse_ts, ts, Result, Store, StoreError};
use crate::workflow::status::{Kind, Line, Status};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// One engineer's figures over a period, as the history recorded them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineerRow {
    /// The engineer's address.
    pub actor: String,
    /// Commands applied.
    pub commands: u64,
    /// Tickets moved to a proposed solution or confirmed.
    pub closed: u64,
    /// The stored solution times (working seconds from registration) of
    /// the tickets whose first solution this engineer proposed.
    pub solution_secs: Vec<i64>,
}

/// What the figures of a report need of one ticket: borrowed from the
/// row as it is read (no copies of the strings).
#[derive(Debug, Clone, Copy)]
pub struct ReportRow<'a> {
    pub id: &'a str,
    pub created_at: DateTime<Utc>,
    pub status: Status,
    pub kind: Kind,
    pub priority: &'a str,
    pub line: Line,
    pub channel: &'a str,
    pub organization: Option<&'a str>,
    pub deadline: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub first_response_secs: Option<i64>,
    pub solution_proposed_at: Option<DateTime<Utc>>,
    pub solution_secs: Option<i64>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub deadline_breached_at: Option<DateTime<Utc>>,
    /// The mailbox the ticket is shown under
    /// ([`Ticket::mailbox_shown`]): its own, `main` for a letter from
    /// before mailboxes were recorded, `None` for the web form and phone.
    pub mailbox: Option<&'a str>,
}

fn bad(i: usize, what: &'static str) -> StoreError {
    StoreError::Column {
        column: i,
        want: what,
        found: "a value ticketd does not know (report_rows)".into(),
    }
}

/// The columns of `report_rows` in the order [`report_row`] reads them.
const REPORT_COLUMNS: &str = "ticket_id, created_ms, status, kind, priority, line, channel,
    organization, deadline_ms, first_response_ms, first_response_secs, solution_proposed_ms,
    solution_secs, confirmed_ms, deadline_breached_ms, mailbox";

/// The short texts of a column (priorities, channels, organisations),
/// checked as UTF-8 once each instead of once a row: the first
/// [`Texts::MAX`] different values are kept, the rest read as they come.
#[derive(Default)]
struct Texts(Vec<String>);

impl Texts {
    const MAX: usize = 64;

    /// The index of `b` in the kept values, keeping it when there is room.
    fn index(&mut self, b: &[u8], col: usize) -> Result<Option<usize>> {
        if let Some(i) = self.0.iter().position(|s| s.as_bytes() == b) {
            return Ok(Some(i));
        }
        if self.0.len() >= Self::MAX {
            return Ok(None);
        }
        let s = std::str::from_utf8(b).map_err(|e| utf8(col, e))?;
        self.0.push(s.to_string());
        Ok(Some(self.0.len() - 1))
    }

    /// The value at `i`, else `b` itself.
    fn get<'a>(&'a self, i: Option<usize>, b: &'a [u8], col: usize) -> Result<&'a str> {
        match i {
            Some(i) => Ok(&self.0[i]),
            None => std::str::from_utf8(b).map_err(|e| utf8(col, e)),
        }
    }
}

fn utf8(col: usize, e: std::str::Utf8Error) -> StoreError {
    StoreError::Column {
        column: col,
        want: "UTF-8 text",
        found: e.to_string(),
    }
}

/// A stored status or kind: the machine names compared as bytes first.
fn enum_of<T: Copy>(
    all: &[T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
    b: &[u8],
    col: usize,
    what: &'static str,
) -> Result<T> {
    if let Some(v) = all.iter().find(|v| name(**v).as_bytes() == b) {
        return Ok(*v);
    }
    let s = std::str::from_utf8(b).map_err(|e| utf8(col, e))?;
    parse(s).ok_or_else(|| bad(col, what))
}

/// Milliseconds to times with the date of the last day kept: the times of
/// neighbouring rows mostly fall on the same days, and finding a day's
/// date is most of the cost of a conversion.
#[derive(Default)]
struct Days(Option<(i64, NaiveDate)>);

impl Days {
    const MS: i64 = 86_400_000;

    fn at(&mut self, ms: i64) -> Option<DateTime<Utc>> {
        let (day, rest) = (ms.div_euclid(Self::MS), ms.rem_euclid(Self::MS));
        let date = match self.0 {
            Some((d, date)) if d == day => date,
            _ => {
                let date = DateTime::from_timestamp(day.checked_mul(86_400)?, 0)?.date_naive();
                self.0 = Some((day, date));
                date
            }
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(
            u32::try_from(rest / 1000).ok()?,
            u32::try_from(rest % 1000 * 1_000_000).ok()?,
        )?;
        Some(date.and_time(time).and_utc())
    }

    /// Column `i` of `r`, a time as milliseconds or NULL.
    fn get(&mut self, r: &Row<'_>, i: usize) -> Result<Option<DateTime<Utc>>> {
        Ok(r.get::<Option<i64>>(i)?.and_then(|ms| self.at(ms)))
    }
}

/// What one walk keeps between rows: the texts seen, and per time column
/// its last day.
#[derive(Default)]
struct RowTexts {
    priority: Texts,
    channel: Texts,
    organization: Texts,
    mailbox: Texts,
    days: [Days; 6],
}

/// A column's bytes that must not be NULL.
fn bytes<'a>(r: &Row<'a>, i: usize) -> Result<&'a [u8]> {
    r.bytes(i)?.ok_or_else(|| bad(i, "text"))
}

fn report_row<'a>(r: &Row<'a>, t: &'a mut RowTexts) -> Result<ReportRow<'a>> {
    let line: i64 = r.get(5)?;
    let (pb, cb) = (bytes(r, 4)?, bytes(r, 6)?);
    let ob = r.bytes(7)?;
    let pi = t.priority.index(pb, 4)?;
    let ci = t.channel.index(cb, 6)?;
    let oi = match ob {
        Some(b) => t.organization.index(b, 7)?,
        None => None,
    };
    let mb = r.bytes(15)?;
    let mi = match mb {
        Some(b) => t.mailbox.index(b, 15)?,
        None => None,
    };
    let [d1, d8, d9, d11, d13, d14] = &mut t.days;
    let created_at = d1.get(r, 1)?.ok_or_else(|| bad(1, "time"))?;
    let deadline = d8.get(r, 8)?;
    let first_response_at = d9.get(r, 9)?;
    let solution_proposed_at = d11.get(r, 11)?;
    let confirmed_at = d13.get(r, 13)?;
    let deadline_breached_at = d14.get(r, 14)?;
    let t: &'a RowTexts = t;
    let channel = t.channel.get(ci, cb, 6)?;
    Ok(ReportRow {
        id: r.get::<&str>(0)?,
        created_at,
        status: enum_of(
            &Status::ALL,
            Status::machine_name,
            Status::parse,
            bytes(r, 2)?,
            2,
            "status",
        )?,
        kind: enum_of(
            &Kind::ALL,
            Kind::machine_name,
            Kind::parse,
            bytes(r, 3)?,
            3,
            "kind",
        )?,
        priority: t.priority.get(pi, pb, 4)?,
        line: u8::try_from(line)
            .ok()
            .and_then(Line::from_number)
            .ok_or_else(|| bad(5, "line"))?,
        channel,
        organization: match ob {
            Some(b) => Some(t.organization.get(oi, b, 7)?),
            None => None,
        },
        deadline,
        first_response_at,
        first_response_secs: r.get(10)?,
        solution_proposed_at,
        solution_secs: r.get(12)?,
        confirmed_at,
        deadline_breached_at,
        mailbox: match mb {
            Some(b) => Some(t.mailbox.get(mi, b, 15)?),
            None if cb == b"email" => Some(super::DEFAULT_MAILBOX),
            None => None,
        },
    })
}

fn opt_time(r: &Row<'_>, i: usize) -> Result<Option<DateTime<Utc>>> {
    let s: Option<String> = r.get(i)?;
    Ok(s.as_deref().and_then(parse_ts))
}

impl Store {
    /// Every ticket registered in `[from, to)` (either end open when
    /// `None`) with its facts, oldest first, handed to `each` one at a time:
    /// memory stays flat however many there are. `each` may stop the walk
    /// with an error, which is returned.
    pub fn each_ticket_with_facts<E>(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        mut each: impl FnMut(Ticket, Facts) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E>
    where
        E: From<super::StoreError>,
    {
        let cols = super::tickets::COLUMNS
            .split(',')
            .map(|c| format!("t.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let n = super::tickets::COLUMN_COUNT;
        let sql = format!(
            "SELECT {cols}, t.channel, f.first_response_at, f.first_response_secs,
                    f.solution_proposed_at, f.solution_secs, f.confirmed_at,
                    f.deadline_breached_at, coalesce(f.lines, 1 << CAST(t.line - 1 AS INTEGER))
               FROM tickets t LEFT JOIN ticket_facts f ON f.ticket_id = t.id
              WHERE (CAST(?1 AS TEXT) IS NULL OR t.created_at >= ?1)
                AND (CAST(?2 AS TEXT) IS NULL OR t.created_at < ?2)
              ORDER BY t.created_at, t.id"
        );
        self.conn
            .query_each(&sql, &params![from.map(ts), to.map(ts)], |r| {
                let read = || -> Result<(Ticket, Facts)> {
                    let t = super::tickets::from_row(r)?;
                    let f = Facts {
                        channel: r.get(n)?,
                        first_response_at: opt_time(r, n + 1)?,
                        first_response_secs: r.get(n + 2)?,
                        solution_proposed_at: opt_time(r, n + 3)?,
                        solution_secs: r.get(n + 4)?,
                        confirmed_at: opt_time(r, n + 5)?,
                        deadline_breached_at: opt_time(r, n + 6)?,
                        lines: lines_of(r.get(n + 7)?),
                    };
                    Ok((t, f))
                };
                let (t, f) = read()?;
                each(t, f)
            })
    }

    /// The tickets registered in `[from, to)` as the report's figures need
    /// them, oldest first, one at a time: one range of `report_rows` (kept
    /// from `tickets` and `ticket_facts` by triggers, migration 5).
    pub fn each_report_row(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        mut each: impl FnMut(&ReportRow<'_>),
    ) -> Result<()> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM report_rows
              WHERE created_ms >= ?1 AND created_ms < ?2
              ORDER BY created_ms, ticket_id"
        );
        let mut texts = RowTexts::default();
        self.conn.query_each(
            &sql,
            &params![from.timestamp_millis(), to.timestamp_millis()],
            |r| {
                each(&report_row(r, &mut texts)?);
                Ok::<(), StoreError>(())
            },
        )
    }

    /// Tickets registered before `at` and not confirmed by then.
    pub fn backlog_at(&self, at: DateTime<Utc>) -> Result<i64> {
        // A ticket is confirmed after it is registered: the confirmed ones
        // before `at` are among those registered before it. Two index counts.
        self.conn.one(
            "SELECT (SELECT count(*) FROM tickets WHERE created_at < ?1)
                  - (SELECT count(*) FROM ticket_facts
                      WHERE confirmed_at IS NOT NULL AND confirmed_at < ?1)",
            &params![ts(at)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Days;
    use chrono::DateTime;

    /// The kept day gives the same times as a conversion from scratch,
    /// across midnights, backwards, before 1970 and out of range.
    #[test]
    fn times_from_milliseconds_with_the_day_kept() {
        let mut d = Days::default();
        let day = 86_400_000i64;
        let mut ms = vec![0, 1, -1, day - 1, day, -day, -day - 1, i64::MAX, i64::MIN];
        for k in [19_000i64, 20_427, 20_792] {
            for off in [
                0,
                1,
                999,
                1000,
                3_599_999,
                day - 1,
                day,
                day + 1,
                2 * day - 1,
            ] {
                ms.push(k * day + off);
                ms.push(k * day - off);
            }
        }
        for m in ms {
            assert_eq!(d.at(m), DateTime::from_timestamp_millis(m), "{m} ms");
        }
    }
}
