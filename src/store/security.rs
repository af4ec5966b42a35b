//! Counts and records for the reply channel's security: replayed
//! commands, automatic letters per address, new tickets per sender, and
//! the quarantine's rate-limit reasons for `ticketd status`.

use super::engine::{params, Conn};
use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};

/// When a command with this replay key was last applied.
pub fn replay_last(tx: &Conn, key: &str) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = tx.query_opt(
        "SELECT at FROM command_replays WHERE key = ?1",
        &params![key],
        |r| r.get(0),
    )?;
    Ok(at.as_deref().and_then(parse_ts))
}

/// Record that a command with this replay key was applied now.
pub fn replay_record(tx: &Conn, key: &str, ticket: &str, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO command_replays(key, ticket_id, at) VALUES (?1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET at = excluded.at, ticket_id = excluded.ticket_id",
        &params![key, ticket, ts(at)],
    )?;
    Ok(())
}

/// The count of [`count_to_address`]: one range of the index on
/// `outbox_recipients(address, created_at)`, no outbox row read.
pub(super) const COUNT_TO_ADDRESS: &str = "SELECT count(*) FROM outbox_recipients
     WHERE address = lower(?1) AND created_at >= ?2";

/// Letters queued to `addr` since `since`, all tickets (one per recipient
/// row, as the letter names it).
pub fn count_to_address(tx: &Conn, addr: &str, since: DateTime<Utc>) -> Result<i64> {
    tx.one(COUNT_TO_ADDRESS, &params![addr, ts(since)])
}

/// Tickets opened since `since` by `requester`, and naming `reply_to`.
pub fn count_new_tickets(
    tx: &Conn,
    requester: &str,
    reply_to: Option<&str>,
    since: DateTime<Utc>,
) -> Result<(i64, i64)> {
    let by_from: i64 = tx.one(
        "SELECT count(*) FROM tickets WHERE requester = ?1 AND created_at >= ?2",
        &params![requester, ts(since)],
    )?;
    let by_reply_to: i64 = match reply_to {
        Some(r) => tx.one(
            "SELECT count(*) FROM tickets WHERE reply_to = ?1 AND created_at >= ?2",
            &params![r, ts(since)],
        )?,
        None => 0,
    };
    Ok((by_from, by_reply_to))
}

/// The prefix of every quarantine reason given by a rate limit.
pub const RATE_LIMIT_REASON: &str = "too many new tickets";

impl Store {
    /// Letters in quarantine (not released) held back by a rate limit.
    pub fn quarantined_by_rate_limit(&self) -> Result<i64> {
        self.conn.one(
            "SELECT count(*) FROM quarantine WHERE released_at IS NULL AND reason LIKE ?1",
            &params![format!("{RATE_LIMIT_REASON}%")],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::outbox::{enqueue, OutgoingLetter};
    use super::super::MIGRATIONS;
    use super::*;
    use rusqlite::Connection;
    use std::time::Duration;

    fn letter(n: u32, to: &[&str]) -> OutgoingLetter {
        OutgoingLetter {
            message_id: format!("m{n}@desk"),
            ticket_id: Some(format!("TP-2026-{n:06}")),
            kind: "confirmation".into(),
            from: "support@desk".into(),
            to: to.iter().map(|s| s.to_string()).collect(),
            raw: vec![b'x'; 4096],
        }
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + h * 3600, 0).unwrap()
    }

    /// Letters to an address are counted from their recipients (any case,
    /// every recipient of a letter), only since the start of the window.
    #[test]
    fn counts_letters_to_an_address_since_a_moment() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("db"), Duration::from_millis(100)).unwrap();
        let c = s.db();
        enqueue(c, &letter(1, &["User@Agency.example"]), at(0)).unwrap();
        enqueue(c, &letter(2, &["other@x", "user@agency.example"]), at(5)).unwrap();
        enqueue(c, &letter(3, &["other@x"]), at(6)).unwrap();
        enqueue(c, &letter(4, &["USER@AGENCY.EXAMPLE"]), at(30)).unwrap();
        assert_eq!(
            count_to_address(c, "user@agency.example", at(0)).unwrap(),
            3
        );
        assert_eq!(
            count_to_address(c, "user@AGENCY.example", at(1)).unwrap(),
            2
        );
        assert_eq!(
            count_to_address(c, "user@agency.example", at(6)).unwrap(),
            1
        );
        assert_eq!(count_to_address(c, "other@x", at(0)).unwrap(), 2);
        assert_eq!(count_to_address(c, "nobody@x", at(0)).unwrap(), 0);
    }

    /// The count reads the index of the recipients alone: never the outbox
    /// (whose rows carry the raw letters), never `json_each`.
    #[test]
    fn the_count_reads_an_index_not_the_letters() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("db"), Duration::from_millis(100)).unwrap();
        let mut st = s
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {COUNT_TO_ADDRESS}"))
            .unwrap();
        let plan: Vec<String> = st
            .query_map(rusqlite::params!["a@b", ts(at(0))], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains(
                "USING COVERING INDEX outbox_recipients_address (address=? AND created_at>?)"
            ),
            "{plan}"
        );
        assert!(!plan.contains("outbox "), "{plan}");
        assert!(!plan.contains("json_each"), "{plan}");
    }

    /// A version-4 database's outbox is back-filled on open: the limit
    /// counts the letters queued before the upgrade.
    #[test]
    fn a_version_4_outbox_is_back_filled_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db");
        {
            let c = Connection::open(&p).unwrap();
            for m in &MIGRATIONS[..4] {
                c.execute_batch(m).unwrap();
            }
            c.execute_batch(
                r#"INSERT INTO outbox(message_id, ticket_id, kind, sender, recipients, raw,
                                      created_at, next_attempt) VALUES
                   ('a@d', 'TP-2026-000001', 'confirmation', 'support@d', '["User@Agency.example"]',
                    x'00', '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z'),
                   ('b@d', 'TP-2026-000002', 'to_user', 'support@d', '["other@x", "user@agency.example"]',
                    x'00', '2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.000Z');
                   PRAGMA user_version = 4;"#,
            )
            .unwrap();
        }
        let s = Store::open(&p, Duration::from_millis(100)).unwrap();
        let c = s.conn();
        let rows: Vec<(i64, String, String)> = c
            .prepare("SELECT outbox_id, address, created_at FROM outbox_recipients ORDER BY outbox_id, address")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let want = |id: i64, a: &str, t: &str| (id, a.to_string(), t.to_string());
        assert_eq!(
            rows,
            vec![
                want(1, "user@agency.example", "2026-12-01T10:00:00.000Z"),
                want(2, "other@x", "2026-12-02T10:00:00.000Z"),
                want(2, "user@agency.example", "2026-12-02T10:00:00.000Z"),
            ]
        );
        let since = parse_ts("2026-12-01T12:00:00.000Z").unwrap();
        assert_eq!(
            count_to_address(s.db(), "USER@agency.example", since).unwrap(),
            1
        );
        // Opening again adds nothing.
        drop(s);
        let s = Store::open(&p, Duration::from_millis(100)).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM outbox_recipients", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }
}
