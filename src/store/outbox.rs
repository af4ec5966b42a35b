//! The outbox queue: letters composed, waiting to be delivered.

use super::engine::{params, Conn, Row};
use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};
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
pub fn enqueue(tx: &Conn, l: &OutgoingLetter, at: DateTime<Utc>) -> Result<i64> {
    let to = serde_json::to_string(&l.to).unwrap_or_else(|_| "[]".into());
    let id: i64 = tx.one(
        "INSERT INTO outbox(message_id, ticket_id, kind, sender, recipients, raw, created_at, next_attempt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
        &params![l.message_id, l.ticket_id, l.kind, l.from, to, l.raw, ts(at)],
    )?;
    // The recipients, where the per-address daily limit counts them.
    for addr in &l.to {
        tx.execute(
            "INSERT INTO outbox_recipients(outbox_id, address, created_at) VALUES (?1, lower(?2), ?3)",
            &params![id, addr, ts(at)],
        )?;
    }
    super::facts::on_letter(tx, l, &ts(at))?;
    Ok(id)
}

/// How many automatic letters went (or are queued) to `addr` about `ticket`
/// since `since` — for the per-day loop limit.
pub fn count_auto_to(tx: &Conn, ticket: &str, addr: &str, since: DateTime<Utc>) -> Result<i64> {
    tx.one(
        tx.pick(
            "SELECT count(*) FROM outbox, json_each(outbox.recipients) AS r
             WHERE outbox.ticket_id = ?1 AND lower(r.value) = lower(?2) AND outbox.created_at >= ?3
               AND outbox.kind <> 'to_user'",
            "SELECT count(*) FROM outbox, jsonb_array_elements_text(outbox.recipients::jsonb) AS r(value)
             WHERE outbox.ticket_id = ?1 AND lower(r.value) = lower(?2) AND outbox.created_at >= ?3
               AND outbox.kind <> 'to_user'",
        ),
        &params![ticket, addr, ts(since)],
    )
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

fn queued_letter(r: &Row<'_>, now: DateTime<Utc>) -> Result<QueuedLetter> {
    queued_letter_at(r, 0, now)
}

/// A [`QueuedLetter`] from the [`queued_columns`] starting at column `at`.
fn queued_letter_at(r: &Row<'_>, at: usize, now: DateTime<Utc>) -> Result<QueuedLetter> {
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
    /// On SQLite the claim is a write: while another writer (intake's
    /// transaction) holds the lock and no other daemon is alive on the
    /// database, the free rows are read unclaimed instead, so sending never
    /// waits for intake — but at most `unclaimed` of them, the letters the
    /// caller sends at once: a daemon starting in that very moment finds
    /// those rows free and may send them too, so the window is bounded by
    /// what is in hand, not by a whole batch read ahead (the kill test of
    /// `tests/mail_cluster.rs` once saw 30 duplicate replies from a
    /// read-ahead of 65 unclaimed rows). On PostgreSQL the claim locks only
    /// its rows and skips the ones another claim holds (`FOR UPDATE SKIP
    /// LOCKED`): it never waits for intake.
    pub fn outbox_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        unclaimed: usize,
    ) -> Result<Vec<QueuedLetter>> {
        let Some(c) = self.conn.sqlite() else {
            return self.outbox_claim(now, limit);
        };
        c.busy_timeout(std::time::Duration::ZERO)?;
        let claimed = self.outbox_claim(now, limit);
        c.busy_timeout(self.busy)?;
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
        self.conn.one(
            "SELECT EXISTS(SELECT 1 FROM daemons WHERE expires_at > ?1 AND id <> ?2)",
            &params![ts(now), self.owner],
        )
    }

    /// The free rows of [`Store::outbox_claim`], read without claiming.
    fn outbox_free(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedLetter>> {
        self.conn.query_map(
            concat!(
                "SELECT ",
                queued_columns!(),
                " FROM outbox WHERE id IN (",
                free_rows!(),
                ") ORDER BY next_attempt, id"
            ),
            &params![ts(now), limit, self.owner],
            |r| queued_letter(r, now),
        )
    }

    /// Claim the pending letters due at `now` (oldest first, at most
    /// `limit`) for this connection's owner ([`Store::set_owner`]) and
    /// return them, in one statement: a row is free when unclaimed, claimed
    /// by this owner, its claim ran out, or its claimant is no longer
    /// alive in the daemons registry. So no letter is sent by two daemons,
    /// and the claims of a daemon killed are taken over once its heartbeat
    /// expires ([`CLAIM`] bounds a claim of a daemon alive but stuck).
    fn outbox_claim(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedLetter>> {
        let sql = self.conn.pick(
            concat!(
                "UPDATE outbox SET claimed_by = ?3, claim_until = ?4 WHERE id IN (",
                free_rows!(),
                ") RETURNING next_attempt, ",
                queued_columns!()
            ),
            // Row by row: a row another daemon's claim has locked is
            // skipped, not waited for, and never claimed twice.
            concat!(
                "UPDATE outbox SET claimed_by = ?3, claim_until = ?4 WHERE id IN (",
                free_rows!(),
                " FOR UPDATE SKIP LOCKED) RETURNING next_attempt, ",
                queued_columns!()
            ),
        );
        let mut rows: Vec<(String, QueuedLetter)> = self.conn.query_map(
            sql,
            &params![ts(now), limit, self.owner, ts(now + CLAIM)],
            |r| Ok((r.get::<String>(0)?, queued_letter_at(r, 1, now)?)),
        )?;
        // RETURNING gives no order: the queue's (times sort as text).
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(rows.into_iter().map(|(_, l)| l).collect())
    }

    /// When the next pending letter falls due (None: nothing pending); a
    /// row another daemon alive has claimed counts from its claim's end.
    pub fn outbox_next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let now = ts(now);
        let s: Option<String> = self.conn.one(
            self.conn.pick(
                "SELECT min(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> ?2 AND claim_until > ?1
                                  AND claimed_by IN (SELECT id FROM daemons WHERE expires_at > ?1)
                            THEN max(next_attempt, claim_until) ELSE next_attempt END)
                 FROM outbox WHERE status = 'pending'",
                "SELECT min(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> ?2 AND claim_until > ?1
                                  AND claimed_by IN (SELECT id FROM daemons WHERE expires_at > ?1)
                            THEN greatest(next_attempt, claim_until) ELSE next_attempt END)
                 FROM outbox WHERE status = 'pending'",
            ),
            &params![now, self.owner],
        )?;
        Ok(s.as_deref().and_then(parse_ts))
    }

    pub fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            &params![id, ts(at)],
        )?;
        Ok(())
    }

    pub fn outbox_mark_retry(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2, last_error = ?3, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            &params![id, ts(next), error],
        )?;
        Ok(())
    }

    pub fn outbox_mark_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2, claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            &params![id, error],
        )?;
        Ok(())
    }

    /// Write several outcomes in one transaction. With `wait` false the
    /// call does not wait for SQLite's write lock: `Ok(false)` when
    /// another writer (intake's transaction) holds it, nothing written.
    /// (PostgreSQL locks the rows alone: it never waits for intake.)
    pub fn outbox_marks(&self, marks: &[Mark], wait: bool) -> Result<bool> {
        if marks.is_empty() {
            return Ok(true);
        }
        let sqlite = self.conn.sqlite().filter(|_| !wait);
        if let Some(c) = sqlite {
            c.busy_timeout(std::time::Duration::ZERO)?;
        }
        let begun = self.conn.begin();
        if let Some(c) = sqlite {
            c.busy_timeout(self.busy)?;
        }
        let tx = match begun {
            Ok(tx) => tx,
            Err(super::StoreError::Sql(e))
                if sqlite.is_some()
                    && e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e),
        };
        for m in marks {
            match m {
                Mark::Sent { id, at } => self.outbox_mark_sent(*id, *at)?,
                Mark::Retry { id, next, error } => self.outbox_mark_retry(*id, *next, error)?,
                Mark::Failed { id, error } => self.outbox_mark_failed(*id, error)?,
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Requeue failed letters (all, or one by id); returns how many.
    pub fn outbox_retry(&self, id: Option<i64>, now: DateTime<Utc>) -> Result<usize> {
        self.conn.execute(
            "UPDATE outbox SET status = 'pending', next_attempt = ?2, attempts = 0
             WHERE status = 'failed' AND (CAST(?1 AS BIGINT) IS NULL OR id = ?1)",
            &params![id, ts(now)],
        )
    }

    pub fn outbox_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<OutboxRow>> {
        self.conn.query_map(
            "SELECT id, message_id, ticket_id, kind, recipients, status, attempts, created_at, next_attempt,
                    last_error, sent_at
             FROM outbox WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2",
            &params![status, limit],
            |r| {
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
            },
        )
    }

    pub fn outbox_backlog(&self) -> Result<Backlog> {
        self.conn.query_row(
            "SELECT count(CASE WHEN status = 'pending' THEN 1 END),
                    count(CASE WHEN status = 'failed' THEN 1 END),
                    min(CASE WHEN status = 'pending' THEN created_at END) FROM outbox",
            &params![],
            |r| {
                Ok(Backlog {
                    pending: r.get(0)?,
                    failed: r.get(1)?,
                    oldest_pending: r.get(2)?,
                })
            },
        )
    }

    /// Raw bytes of one outbox letter.
    pub fn outbox_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_opt("SELECT raw FROM outbox WHERE id = ?1", &params![id], |r| {
                r.get(0)
            })
    }
}
