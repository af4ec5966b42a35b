//! Facts about a ticket recorded when they happen (table `ticket_facts`):
//! the first response, the first proposed solution, the confirmation, the
//! first missed deadline and the lines the ticket has been on, with the
//! response and solution times in working time on the desk's calendar.
//!
//! Recorded in the store's own write path, not by the pipeline: every
//! history row ([`on_history`]), outgoing letter ([`on_letter`]) and ticket
//! write ([`on_insert`], [`on_line`]) passes here inside the same
//! transaction, so a fact exists exactly when the event that makes it was
//! committed. The working time is computed by the SQL function
//! `ticketd_working_secs(from, to)` registered on the SQLite connection
//! with the desk's calendar ([`Store::set_calendar`]; until then,
//! wall-clock time); on PostgreSQL, which cannot call into ticketd, the
//! same Rust function is applied here before the row is written.

use super::engine::{params, Conn};
use super::outbox::OutgoingLetter;
use super::tickets::HistoryRow;
use super::{parse_ts, Result, Store};
use crate::workflow::{working_time_between, Calendar};
use chrono::{DateTime, Utc};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use serde::Serialize;

/// A ticket's recorded facts, as reports read them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// `email`, `web` or `phone`.
    pub channel: String,
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub first_response_at: Option<DateTime<Utc>>,
    /// Working seconds from creation to the first response.
    pub first_response_secs: Option<i64>,
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub solution_proposed_at: Option<DateTime<Utc>>,
    /// Working seconds from creation to the first proposed solution.
    pub solution_secs: Option<i64>,
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::serialize_opt_ts")]
    pub deadline_breached_at: Option<DateTime<Utc>>,
    /// The lines the ticket has been on, ascending.
    pub lines: Vec<u8>,
}

/// The name of the SQL function computing working seconds.
const WORKING_SECS: &str = "ticketd_working_secs";

/// Register `ticketd_working_secs(from, to)` on `conn` for `cal`: NULL when
/// either time is NULL or unreadable.
pub(super) fn register(conn: &Connection, cal: Calendar) -> Result<()> {
    conn.create_scalar_function(
        WORKING_SECS,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let a: Option<String> = ctx.get(0)?;
            let b: Option<String> = ctx.get(1)?;
            Ok(
                match (
                    a.as_deref().and_then(parse_ts),
                    b.as_deref().and_then(parse_ts),
                ) {
                    (Some(a), Some(b)) => Some(working_time_between(a, b, &cal).num_seconds()),
                    _ => None,
                },
            )
        },
    )?;
    Ok(())
}

fn line_bit(line: u8) -> i64 {
    1 << (i64::from(line.clamp(1, 3)) - 1)
}

/// A new ticket: its facts row, on its first line.
pub(super) fn on_insert(tx: &Conn, ticket: &str, line: u8) -> Result<()> {
    tx.execute(
        "INSERT INTO ticket_facts(ticket_id, lines) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &params![ticket, line_bit(line)],
    )?;
    Ok(())
}

/// A ticket written back: the line it is on now joins the lines it passed.
pub(super) fn on_line(tx: &Conn, ticket: &str, line: u8) -> Result<()> {
    tx.execute(
        "UPDATE ticket_facts SET lines = lines | ?2 WHERE ticket_id = ?1",
        &params![ticket, line_bit(line)],
    )?;
    Ok(())
}

/// Set the time column `at_col` (and `secs_col`, the working seconds since
/// the ticket's registration) of `ticket` to `at` if not set yet.
fn first_fact(tx: &Conn, ticket: &str, at: &str, at_col: &str, secs_col: &str) -> Result<()> {
    match tx {
        Conn::Sqlite(_) => {
            tx.execute(
                &format!(
                    "UPDATE ticket_facts SET {at_col} = ?2,
                        {secs_col} = {WORKING_SECS}((SELECT created_at FROM tickets WHERE id = ?1), ?2)
                     WHERE ticket_id = ?1 AND {at_col} IS NULL"
                ),
                &params![ticket, at],
            )?;
        }
        Conn::Pg(c) => {
            let created: Option<String> = tx
                .query_opt(
                    &format!(
                        "SELECT t.created_at FROM ticket_facts f JOIN tickets t ON t.id = f.ticket_id
                          WHERE f.ticket_id = ?1 AND f.{at_col} IS NULL"
                    ),
                    &params![ticket],
                    |r| r.get(0),
                )?
                .flatten();
            let Some(created) = created else {
                return Ok(());
            };
            let secs = working_secs(&c.calendar.borrow(), Some(&created), Some(at));
            tx.execute(
                &format!(
                    "UPDATE ticket_facts SET {at_col} = ?2, {secs_col} = ?3
                     WHERE ticket_id = ?1 AND {at_col} IS NULL"
                ),
                &params![ticket, at, secs],
            )?;
        }
    }
    Ok(())
}

/// Working seconds between two stored times on `cal`; None when either
/// is missing or unreadable.
fn working_secs(cal: &Calendar, a: Option<&str>, b: Option<&str>) -> Option<i64> {
    match (a.and_then(parse_ts), b.and_then(parse_ts)) {
        (Some(a), Some(b)) => Some(working_time_between(a, b, cal).num_seconds()),
        _ => None,
    }
}

fn first_response(tx: &Conn, ticket: &str, at: &str) -> Result<()> {
    first_fact(tx, ticket, at, "first_response_at", "first_response_secs")
}

/// A history row: an engineer's status command is a response; a move to
/// `solution_proposed` or `confirmed` and an escalation are facts.
pub(super) fn on_history(tx: &Conn, ticket: &str, h: &HistoryRow) -> Result<()> {
    if h.action == "command" && h.to.is_some() {
        first_response(tx, ticket, &h.at)?;
    }
    match h.to.as_deref() {
        Some("solution_proposed") => {
            first_fact(tx, ticket, &h.at, "solution_proposed_at", "solution_secs")?;
        }
        Some("confirmed") => {
            tx.execute(
                "UPDATE ticket_facts SET confirmed_at = ?2 WHERE ticket_id = ?1",
                &params![ticket, h.at],
            )?;
        }
        _ => {}
    }
    if h.action == "escalated" {
        tx.execute(
            "UPDATE ticket_facts SET deadline_breached_at = ?2
             WHERE ticket_id = ?1 AND deadline_breached_at IS NULL",
            &params![ticket, h.at],
        )?;
    }
    Ok(())
}

/// An outgoing letter: a line's words to the user are a response.
pub(super) fn on_letter(tx: &Conn, l: &OutgoingLetter, at: &str) -> Result<()> {
    match (&l.ticket_id, l.kind.as_str()) {
        (Some(t), "to_user") => first_response(tx, t, at),
        _ => Ok(()),
    }
}

/// The lines in a `lines` bit set, ascending.
pub(super) fn lines_of(bits: i64) -> Vec<u8> {
    (1..=3u8).filter(|l| bits & line_bit(*l) != 0).collect()
}

impl Store {
    /// Compute working times on `cal` from now on, and fill the ones a
    /// migration back-filled without a calendar.
    pub fn set_calendar(&mut self, cal: &Calendar) -> Result<()> {
        let sqlite = match &self.conn {
            Conn::Sqlite(c) => c,
            Conn::Pg(c) => {
                *c.calendar.borrow_mut() = cal.clone();
                return self.back_fill_working_times(cal);
            }
        };
        register(sqlite, cal.clone())?;
        let n = sqlite.execute(
            &format!(
                "UPDATE ticket_facts SET
                   first_response_secs = coalesce(first_response_secs,
                     {WORKING_SECS}((SELECT created_at FROM tickets WHERE id = ticket_id), first_response_at)),
                   solution_secs = coalesce(solution_secs,
                     {WORKING_SECS}((SELECT created_at FROM tickets WHERE id = ticket_id), solution_proposed_at))
                 WHERE (first_response_at IS NOT NULL AND first_response_secs IS NULL)
                    OR (solution_proposed_at IS NOT NULL AND solution_secs IS NULL)"
            ),
            [],
        )?;
        if n > 0 {
            tracing::info!(tickets = n, "working times of back-filled tickets computed");
        }
        Ok(())
    }

    /// PostgreSQL's [`Store::set_calendar`]: the working times a copy or a
    /// migration left empty, computed here row by row.
    fn back_fill_working_times(&self, cal: &Calendar) -> Result<()> {
        type Gap = (String, String, Option<String>, Option<String>);
        let gaps: Vec<Gap> = self.conn.query_map(
            "SELECT f.ticket_id, t.created_at, f.first_response_at, f.solution_proposed_at
               FROM ticket_facts f JOIN tickets t ON t.id = f.ticket_id
              WHERE (f.first_response_at IS NOT NULL AND f.first_response_secs IS NULL)
                 OR (f.solution_proposed_at IS NOT NULL AND f.solution_secs IS NULL)",
            &params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        for (id, created, response, solution) in &gaps {
            self.conn.execute(
                "UPDATE ticket_facts SET first_response_secs = coalesce(first_response_secs, ?2),
                        solution_secs = coalesce(solution_secs, ?3)
                  WHERE ticket_id = ?1",
                &params![
                    id,
                    working_secs(cal, Some(created), response.as_deref()),
                    working_secs(cal, Some(created), solution.as_deref())
                ],
            )?;
        }
        if !gaps.is_empty() {
            tracing::info!(
                tickets = gaps.len(),
                "working times of back-filled tickets computed"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A version-2 database with a ticket whose history holds an
    /// engineer's proposal, an escalation and a confirmation: the facts are
    /// back-filled on open, the working times once the calendar is set.
    #[test]
    fn a_version_2_database_is_back_filled_from_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite3");
        {
            let c = Connection::open(&p).unwrap();
            c.execute_batch(super::super::SCHEMA).unwrap();
            c.execute_batch(include_str!("m002_security.sql")).unwrap();
            c.execute_batch(
                "INSERT INTO tickets(id, status, kind, priority, line, requester, reply_to, subject,
                    created_at, updated_at)
                 VALUES ('TP-2026-000001', 'confirmed', 'incident', 'высокий', 2, 'u@x', 'u@x', 's',
                    '2026-11-23T07:00:00.000Z', '2026-11-24T07:00:00.000Z');
                 INSERT INTO history(ticket_id, at, actor, action, from_status, to_status) VALUES
                    ('TP-2026-000001', '2026-11-23T07:00:00.000Z', 'system', 'created', NULL, 'new'),
                    ('TP-2026-000001', '2026-11-23T13:00:00.000Z', 'system', 'escalated', NULL, NULL),
                    ('TP-2026-000001', '2026-11-23T14:00:00.000Z', 'eng@x', 'command', 'assigned', 'solution_proposed'),
                    ('TP-2026-000001', '2026-11-24T07:00:00.000Z', 'u@x', 'confirmed', 'solution_proposed', 'confirmed');
                 PRAGMA user_version = 2;",
            )
            .unwrap();
        }
        let mut s = Store::open(&p, Duration::from_millis(100)).unwrap();
        let get = |s: &Store| {
            let mut got = None;
            s.each_ticket_with_facts(None, None, |_, f| {
                got = Some(f);
                Ok::<(), super::super::StoreError>(())
            })
            .unwrap();
            got.unwrap()
        };
        let f = get(&s);
        let at = |x: &str| parse_ts(x);
        assert_eq!(f.first_response_at, at("2026-11-23T14:00:00.000Z"));
        assert_eq!(f.solution_proposed_at, at("2026-11-23T14:00:00.000Z"));
        assert_eq!(f.confirmed_at, at("2026-11-24T07:00:00.000Z"));
        assert_eq!(f.deadline_breached_at, at("2026-11-23T13:00:00.000Z"));
        assert_eq!(f.lines, vec![2]);
        assert_eq!(f.first_response_secs, None, "no calendar yet");
        // 09:00 → 16:00 local (UTC+2) with lunch 13–14: six working hours.
        let cal = Calendar::new(
            chrono_tz::Europe::Kaliningrad,
            "09:00-18:00",
            Some("13:00-14:00"),
            [chrono::Weekday::Sat, chrono::Weekday::Sun],
            [],
            [],
        )
        .unwrap();
        s.set_calendar(&cal).unwrap();
        let f = get(&s);
        assert_eq!(f.first_response_secs, Some(6 * 3600));
        assert_eq!(f.solution_secs, Some(6 * 3600));
    }
}
