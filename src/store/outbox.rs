//! The outbox queue: letters composed, waiting to be delivered.

use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A letter composed and ready to be queued.
#[derive(Debug, Clone)]
pub struct OutgoingLetter {
    /// Message-ID without angle brackets, generated at compose time.
    pub message_id: String,
    pub ticket_id: Option<String>,
    /// What the letter is (`confirmation`, `clarification`, ...): for the
    /// admin's outbox listing.
    pub kind: String,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The whole RFC 5322 letter.
    pub raw: Vec<u8>,
}

/// A queued letter as the sender sees it.
#[derive(Debug, Clone)]
pub struct QueuedLetter {
    pub id: i64,
    pub message_id: String,
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// An outbox row as an admin sees it (`ticketd outbox list`).
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: String,
    pub ticket_id: Option<String>,
    pub kind: String,
    pub recipients: Vec<String>,
    pub status: String,
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

/// The outcome of one delivery, to be written ([`Store::outbox_marks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Sent {
        id: i64,
        at: DateTime<Utc>,
    },
    Retry {
        id: i64,
        next: DateTime<Utc>,
        error: String,
    },
    Failed {
        id: i64,
        error: String,
    },
}

/// Backlog summary for `ticketd status`.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    pub pending: i64,
    pub failed: i64,
    pub oldest_pending: Option<String>,
}

/// The longest an outbox claim of a daemon alive holds (a sender stuck
/// that long lets another daemon send the row).
pub const CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// Queue a composed letter inside the caller's transaction.
pub fn enqueue(tx: &Connection, l: &OutgoingLetter, at: DateTime<Utc>) -> Result<i64> {
    let to = serde_json::to_string(&l.to).unwrap_or_else(|_| "[]".into());
    tx.prepare_cached(
        "INSERT INTO outbox(message_id, ticket_id, kind, sender, recipients, raw, created_at, next_attempt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![l.message_id, l.ticket_id, l.kind, l.from, to, l.raw, ts(at)])?;
    let id = tx.last_insert_rowid();
    // The recipients, where the per-address daily limit counts them.
    let mut add = tx.prepare_cached(
        "INSERT INTO outbox_recipients(outbox_id, address, created_at) VALUES (?1, lower(?2), ?3)",
    )?;
    for addr in &l.to {
        add.execute(params![id, addr, ts(at)])?;
    }
    super::facts::on_letter(tx, l, &ts(at))?;
    Ok(id)
}

/// How many automatic letters went (or are queued) to `addr` about `ticket`
/// since `since` — for the per-day loop limit.
pub fn count_auto_to(
    tx: &Connection,
    ticket: &str,
    addr: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    Ok(tx
        .prepare_cached(
            "SELECT count(*) FROM outbox, json_each(outbox.recipients) AS r
             WHERE outbox.ticket_id = ?1 AND lower(r.value) = lower(?2) AND outbox.created_at >= ?3
               AND outbox.kind <> 'to_user'",
        )?
        .query_row(params![ticket, addr, ts(since)], |r| r.get(0))?)
}

/// The ids of the pending rows due at `?1` that the owner `?3` may take
/// (oldest first, at most `?2`): unclaimed, its own, a claim run out, or
/// a claimant no longer alive in the daemons registry.
macro_rules! free_rows {
    () => {
        "SELECT id FROM outbox
         WHERE status = 'pending' AND next_attempt <= ?1
           AND (claimed_by IS NULL OR claimed_by = ?3 OR claim_until <= ?1
                OR claimed_by NOT IN (SELECT id FROM daemons WHERE expires_at > ?1))
         ORDER BY next_attempt, id LIMIT ?2"
    };
}

/// The columns [`queued_letter_at`] reads, in its order.
macro_rules! queued_columns {
    () => {
        "id, message_id, sender, recipients, raw, attempts, created_at"
    };
}

fn queued_letter(r: &rusqlite::Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<QueuedLetter> {
    queued_letter_at(r, 0, now)
}

/// A [`QueuedLetter`] from the [`queued_columns`] starting at column `at`.
fn queued_letter_at(
    r: &rusqlite::Row<'_>,
    at: usize,
    now: DateTime<Utc>,
) -> rusqlite::Result<QueuedLetter> {
    let to: String = r.get(at + 3)?;
    let created: String = r.get(at + 6)?;
    Ok(QueuedLetter {
        id: r.get(at)?,
        message_id: r.get(at + 1)?,
        from: r.get(at + 2)?,
        to: serde_json::from_str(&to).unwrap_or_default(),
        raw: r.get(at + 4)?,
        attempts: r.get(at + 5)?,
        created_at: parse_ts(&created).unwrap_or(now),
    })
}

impl Store {
    /// The pending letters due at `now` for this connection's sender,
    /// oldest first, at most `limit`, claimed ([`Store::outbox_claim`]).
    /// The claim is a write: while another writer (intake's transaction)
    /// holds the lock and no other daemon is alive on the database, the
    /// free rows are read unclaimed instead, so sending never waits for
    /// intake — but at most `unclaimed` of them, the letters the caller
    /// sends at once: a daemon starting in that very moment finds those
    /// rows free and may send them too, so the window is bounded by what is
    /// in hand, not by a whole batch read ahead (the kill test of
    /// `tests/mail_cluster.rs` once saw 30 duplicate replies from a
    /// read-ahead of 65 unclaimed rows).
    pub fn outbox_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        unclaimed: usize,
    ) -> Result<Vec<QueuedLetter>> {
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let claimed = self.outbox_claim(now, limit);
        self.conn.busy_timeout(self.busy)?;
        match claimed {
            Err(super::StoreError::Sql(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                if self.others_alive(now)? {
                    self.outbox_claim(now, limit)
                } else {
                    self.outbox_free(now, limit.min(unclaimed))
                }
            }
            other => other,
        }
    }

    /// Is another daemon than this connection's owner alive?
    fn others_alive(&self, now: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM daemons WHERE expires_at > ?1 AND id <> ?2)",
            )?
            .query_row(params![ts(now), self.owner], |r| r.get(0))?)
    }

    /// The free rows of [`Store::outbox_claim`], read without claiming.
    fn outbox_free(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedLetter>> {
        let mut st = self.conn.prepare_cached(concat!(
            "SELECT ",
            queued_columns!(),
            " FROM outbox WHERE id IN (",
            free_rows!(),
            ") ORDER BY next_attempt, id"
        ))?;
        let rows = st.query_map(params![ts(now), limit as i64, self.owner], |r| {
            queued_letter(r, now)
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Claim the pending letters due at `now` (oldest first, at most
    /// `limit`) for this connection's owner ([`Store::set_owner`]) and
    /// return them, in one statement: a row is free when unclaimed, claimed
    /// by this owner, its claim ran out, or its claimant is no longer
    /// alive in the daemons registry. So no letter is sent by two daemons,
    /// and the claims of a daemon killed are taken over once its heartbeat
    /// expires ([`CLAIM`] bounds a claim of a daemon alive but stuck).
    fn outbox_claim(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedLetter>> {
        let mut st = self.conn.prepare_cached(concat!(
            "UPDATE outbox SET claimed_by = ?3, claim_until = ?4 WHERE id IN (",
            free_rows!(),
            ") RETURNING next_attempt, ",
            queued_columns!()
        ))?;
        let rows = st.query_map(
            params![ts(now), limit as i64, self.owner, ts(now + CLAIM)],
            |r| Ok((r.get::<_, String>(0)?, queued_letter_at(r, 1, now)?)),
        )?;
        let mut rows: Vec<(String, QueuedLetter)> = rows.collect::<std::result::Result<_, _>>()?;
        // RETURNING gives no order: the queue's (times sort as text).
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(rows.into_iter().map(|(_, l)| l).collect())
    }

    /// When the next pending letter falls due (None: nothing pending); a
    /// row another daemon alive has claimed counts from its claim's end.
    pub fn outbox_next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let now = ts(now);
        let s: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT min(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> ?2 AND claim_until > ?1
                                  AND claimed_by IN (SELECT id FROM daemons WHERE expires_at > ?1)
                            THEN max(next_attempt, claim_until) ELSE next_attempt END)
                 FROM outbox WHERE status = 'pending'",
            )?
            .query_row(params![now, self.owner], |r| r.get(0))?;
        Ok(s.as_deref().and_then(parse_ts))
    }

    pub fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            )?
            .execute(params![id, ts(at)])?;
        Ok(())
    }

    pub fn outbox_mark_retry(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2, last_error = ?3, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            )?
            .execute(params![id, ts(next), error])?;
        Ok(())
    }

    pub fn outbox_mark_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            )?
            .execute(params![id, error])?;
        Ok(())
    }

    /// Write several outcomes in one transaction. With `wait` false the
    /// call does not wait for the database's write lock: `Ok(false)` when
    /// another writer (intake's transaction) holds it, nothing written.
    pub fn outbox_marks(&self, marks: &[Mark], wait: bool) -> Result<bool> {
        if marks.is_empty() {
            return Ok(true);
        }
        if !wait {
            self.conn.busy_timeout(std::time::Duration::ZERO)?;
        }
        let begun = self.conn.execute_batch("BEGIN IMMEDIATE");
        if !wait {
            self.conn.busy_timeout(self.busy)?;
        }
        match begun {
            Ok(()) => {}
            Err(e) if !wait && e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        }
        let written = marks.iter().try_for_each(|m| match m {
            Mark::Sent { id, at } => self.outbox_mark_sent(*id, *at),
            Mark::Retry { id, next, error } => self.outbox_mark_retry(*id, *next, error),
            Mark::Failed { id, error } => self.outbox_mark_failed(*id, error),
        });
        match written.and_then(|()| Ok(self.conn.execute_batch("COMMIT")?)) {
            Ok(()) => Ok(true),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Requeue failed letters (all, or one by id); returns how many.
    pub fn outbox_retry(&self, id: Option<i64>, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE outbox SET status = 'pending', next_attempt = ?2, attempts = 0
             WHERE status = 'failed' AND (?1 IS NULL OR id = ?1)",
            params![id, ts(now)],
        )?)
    }

    pub fn outbox_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut st = self.conn.prepare(
            "SELECT id, message_id, ticket_id, kind, recipients, status, attempts, created_at, next_attempt,
                    last_error, sent_at
             FROM outbox WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![status, limit as i64], |r| {
            let to: String = r.get(4)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                message_id: r.get(1)?,
                ticket_id: r.get(2)?,
                kind: r.get(3)?,
                recipients: serde_json::from_str(&to).unwrap_or_default(),
                status: r.get(5)?,
                attempts: r.get(6)?,
                created_at: r.get(7)?,
                next_attempt: r.get(8)?,
                last_error: r.get(9)?,
                sent_at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub fn outbox_backlog(&self) -> Result<Backlog> {
        Ok(self.conn.query_row(
            "SELECT coalesce(sum(status = 'pending'), 0), coalesce(sum(status = 'failed'), 0),
                    min(CASE WHEN status = 'pending' THEN created_at END) FROM outbox",
            [],
            |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    failed: r.get(1)?,
                    oldest_pending: r.get(2)?,
                })
            },
        )?)
    }

    /// Raw bytes of one outbox letter.
    pub fn outbox_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT raw FROM outbox WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }
}
