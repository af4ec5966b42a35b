//! Counts and records for the reply channel's security: replayed
//! commands, automatic letters per address, new tickets per sender, and
//! the quarantine's rate-limit reasons for `ticketd status`.

use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

/// When a command with this replay key was last applied.
pub fn replay_last(tx: &Connection, key: &str) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = tx
        .prepare_cached("SELECT at FROM command_replays WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(at.as_deref().and_then(parse_ts))
}

/// Record that a command with this replay key was applied now.
pub fn replay_record(tx: &Connection, key: &str, ticket: &str, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO command_replays(key, ticket_id, at) VALUES (?1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET at = excluded.at, ticket_id = excluded.ticket_id",
    )?
    .execute(params![key, ticket, ts(at)])?;
    Ok(())
}

/// Letters queued to `addr` since `since`, all tickets.
pub fn count_to_address(tx: &Connection, addr: &str, since: DateTime<Utc>) -> Result<i64> {
    Ok(tx
        .prepare_cached(
            "SELECT count(*) FROM outbox, json_each(outbox.recipients) AS r
             WHERE outbox.created_at >= ?2 AND lower(r.value) = lower(?1)",
        )?
        .query_row(params![addr, ts(since)], |r| r.get(0))?)
}

/// Tickets opened since `since` by `requester`, and naming `reply_to`.
pub fn count_new_tickets(
    tx: &Connection,
    requester: &str,
    reply_to: Option<&str>,
    since: DateTime<Utc>,
) -> Result<(i64, i64)> {
    let by_from: i64 = tx
        .prepare_cached("SELECT count(*) FROM tickets WHERE requester = ?1 AND created_at >= ?2")?
        .query_row(params![requester, ts(since)], |r| r.get(0))?;
    let by_reply_to: i64 = match reply_to {
        Some(r) => tx
            .prepare_cached(
                "SELECT count(*) FROM tickets WHERE reply_to = ?1 AND created_at >= ?2",
            )?
            .query_row(params![r, ts(since)], |r| r.get(0))?,
        None => 0,
    };
    Ok((by_from, by_reply_to))
}

/// The prefix of every quarantine reason given by a rate limit.
pub const RATE_LIMIT_REASON: &str = "too many new tickets";

impl Store {
    /// Letters in quarantine (not released) held back by a rate limit.
    pub fn quarantined_by_rate_limit(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM quarantine WHERE released_at IS NULL AND reason LIKE ?1",
            [format!("{RATE_LIMIT_REASON}%")],
            |r| r.get(0),
        )?)
    }
}
