//! The engineers' figures of a report, read from the tables migration 7
//! keeps as commands happen (`engineers`, `engineer_days`,
//! `engineer_recloses`, `engineer_solutions`; see
//! `m007_engineer_figures.sql`): the whole UTC days of a period are a few
//! thousand rows of daily counts, the partial days at its ends are counted
//! from the history itself, and the solution times are one narrow range.
//! Every time is compared as an instant (integer milliseconds), as the
//! report's tickets are (`report_rows`).

use super::engine::params;
use super::report::EngineerRow;
use super::{ts, Result, Store};
use chrono::{DateTime, Duration, Utc};

/// Milliseconds in a (UTC) day: `engineer_days.day` is `ms / DAY`.
const DAY: i64 = 86_400_000;

/// A stored text time as milliseconds (SQL), as the migration computes it.
macro_rules! ms {
    ($col:literal) => {
        concat!(
            "CAST(round((julianday(",
            $col,
            ") - 2440587.5) * 86400000.0) AS INTEGER)"
        )
    };
}

/// The commands of `[from, to)` counted per engineer: whole days from
/// `engineer_days`, the two partial ends from `history` (its text times
/// narrowed with a day's margin, then compared as instants), minus the
/// repeated closes of one ticket by one engineer within the period.
macro_rules! counts {
    ($ms:ident, $indexed:literal) => {
        concat!(
    "WITH edge(actor, to_status) AS (
        SELECT actor, to_status FROM history ", $indexed, "
         WHERE action = 'command' AND at >= ?3 AND at < ?4
           AND ",
    $ms!("at"),
    " >= ?7 AND ",
    $ms!("at"),
    " < ?8
        UNION ALL
        SELECT actor, to_status FROM history ", $indexed, "
         WHERE action = 'command' AND at >= ?5 AND at < ?6
           AND ",
    $ms!("at"),
    " >= ?9 AND ",
    $ms!("at"),
    " < ?10
     ),
     ev(engineer, commands, closes) AS (
        SELECT engineer, commands, closes FROM engineer_days WHERE day >= ?1 AND day < ?2
        UNION ALL
        SELECT e.id, 1, CASE WHEN c.to_status IN ('solution_proposed', 'confirmed') THEN 1 ELSE 0 END
          FROM edge c JOIN engineers e ON e.address = c.actor
        UNION ALL
        SELECT engineer, 0, -1 FROM engineer_recloses
         WHERE at_ms >= ?7 AND at_ms < ?10 AND prev_ms >= ?7
     )
     SELECT e.id, e.address, CAST(sum(ev.commands) AS BIGINT), CAST(sum(ev.closes) AS BIGINT)
       FROM ev JOIN engineers e ON e.id = ev.engineer
      GROUP BY e.id HAVING sum(ev.commands) > 0
      ORDER BY e.address"

        )
    };
}

/// PostgreSQL's instant of a stored time: the baseline's `ticketd_ms`.
macro_rules! pg_ms {
    ($col:literal) => {
        concat!("ticketd_ms(", $col, ")")
    };
}

const COUNTS: &str = counts!(ms, "INDEXED BY history_commands");
/// PostgreSQL chooses its index itself.
const COUNTS_PG: &str = counts!(pg_ms, "");

/// How `[from_ms, to_ms)` splits: the whole UTC days `[d0, d1)` and the
/// two partial ends `[from_ms, d0 · DAY)` and `[d1 · DAY, to_ms)`. No whole
/// day (or a period before the second day of 1970, where SQL's integer
/// division would not be the floor): no days, all of it one end.
pub(super) fn split(from_ms: i64, to_ms: i64) -> ((i64, i64), [(i64, i64); 2]) {
    let d0 = from_ms.div_euclid(DAY) + i64::from(from_ms.rem_euclid(DAY) != 0);
    let d1 = to_ms.div_euclid(DAY);
    if d0 >= 1 && d0 < d1 {
        ((d0, d1), [(from_ms, d0 * DAY), (d1 * DAY, to_ms)])
    } else {
        ((0, 0), [(from_ms, to_ms), (to_ms, to_ms)])
    }
}

/// The stored text time `ms` milliseconds since 1970, moved by `days`
/// (the margin that catches times stored with an offset).
fn text_at(ms: i64, days: i64) -> String {
    let t = DateTime::from_timestamp_millis(ms).unwrap_or_default() + Duration::days(days);
    ts(t)
}

impl Store {
    /// Engineers' figures over `[from, to)`, by address: the commands,
    /// the distinct tickets moved to a proposed solution or confirmed, and
    /// the solution times of the first proposals made in the period.
    pub fn engineers_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<EngineerRow>> {
        let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
        if f >= t {
            return Ok(Vec::new());
        }
        let ((d0, d1), [(a0, a1), (b0, b1)]) = split(f, t);
        let rows: Vec<(i64, EngineerRow)> = self.conn.query_map(
            self.conn.pick(COUNTS, COUNTS_PG),
            &params![
                d0,
                d1,
                text_at(a0, -1),
                text_at(a1, 1),
                text_at(b0, -1),
                text_at(b1, 1),
                a0,
                a1,
                b0,
                b1
            ],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    EngineerRow {
                        actor: r.get(1)?,
                        commands: r.get::<i64>(2)?.max(0) as u64,
                        closed: r.get::<i64>(3)?.max(0) as u64,
                        solution_secs: Vec::new(),
                    },
                ))
            },
        )?;
        let mut ids: Vec<(i64, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut out: Vec<EngineerRow> = rows.into_iter().map(|(_, e)| e).collect();
        ids.sort_unstable();
        self.conn.query_each(
            "SELECT engineer, secs FROM engineer_solutions WHERE at_ms >= ?1 AND at_ms < ?2",
            &params![f, t],
            |r| {
                let id: i64 = r.get(0)?;
                if let Ok(i) = ids.binary_search_by_key(&id, |x| x.0) {
                    out[ids[i].1].solution_secs.push(r.get(1)?);
                }
                Ok::<(), super::StoreError>(())
            },
        )?;
        Ok(out)
    }
}
