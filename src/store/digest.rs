//! The 1st line's digest (`[desk] first_line_copies = "digest"`): the
//! events waiting for it are history rows of action `first_line_digest`;
//! the id of the last one sent is kept in the state table, and the digest
//! letter is queued in the same transaction that moves it on, so an event
//! is neither lost nor sent twice across a crash.

use super::engine::params;
use super::outbox::enqueue;
use super::outbox::OutgoingLetter;
use super::{parse_ts, Result, Store};
use chrono::{DateTime, Utc};

/// The history action of an event kept for the digest.
pub const DIGEST_ACTION: &str = "first_line_digest";
/// The state key holding the id of the last history row sent in a digest.
const SENT_THROUGH: &str = "desk.first_line_digest.sent_through";

/// One event waiting for the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub history_id: i64,
    pub ticket_id: String,
    pub at: DateTime<Utc>,
    pub text: String,
}

impl Store {
    /// Events not yet sent, oldest first, at most `limit`.
    pub fn digest_pending(&self, limit: usize) -> Result<Vec<DigestItem>> {
        let after: i64 = self
            .state_get(SENT_THROUGH)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let rows: Vec<(i64, String, String, String)> = self.conn.query_map(
            "SELECT id, ticket_id, at, COALESCE(detail, '') FROM history
              WHERE action = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            &params![
                DIGEST_ACTION,
                after,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let mut out = Vec::new();
        for (history_id, ticket_id, at, text) in rows {
            // A row whose time cannot be read counts as old: sent at once.
            let at = parse_ts(&at).unwrap_or(DateTime::<Utc>::MIN_UTC);
            out.push(DigestItem {
                history_id,
                ticket_id,
                at,
                text,
            });
        }
        Ok(out)
    }

    /// Queue the digest letter and mark every event through `through` sent,
    /// in one transaction.
    pub fn digest_sent(
        &mut self,
        letter: &OutgoingLetter,
        through: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.begin()?;
        enqueue(&tx, letter, now)?;
        tx.execute(
            "INSERT INTO state(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &params![SENT_THROUGH, through.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }
}
