//! Letters taken in (the exactly-once record), quarantine and small state;
//! and the unit of work a letter is written in ([`Unit`]): its own
//! transaction, or a savepoint inside a batch transaction
//! ([`Store::batch_begin`]) that commits several letters at once.
//!
//! Hot statements go through the statement caches (SQLite's
//! `prepare_cached`, PostgreSQL's statements kept per connection): the
//! daemon runs the same dozen statements for every letter, and compiling
//! them again each time cost about a tenth of its CPU.

use super::engine::{params, Conn, Tx};
use super::{ts, Result, Store};
use chrono::{DateTime, Utc};

/// Where one letter's rows are written: its own write transaction, or a
/// savepoint in the open batch transaction. Dropping it without
/// [`Unit::commit`] undoes the letter's rows only.
pub struct Unit<'a>(Tx<'a>);

impl Unit<'_> {
    /// Commit the letter (in a batch: keep its rows for the batch's commit).
    pub fn commit(self) -> Result<()> {
        self.0.commit()
    }

    /// The connection inside the unit (store modules only).
    pub(super) fn conn(&self) -> &Conn {
        &self.0
    }
}

/// What an earlier processing of the same letter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenLetter {
    pub outcome: String,
    pub ticket_id: Option<String>,
}

/// A letter to record as processed.
pub struct LetterRecord<'a> {
    pub identity: &'a str,
    pub message_id: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub outcome: &'a str,
    pub ticket_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub raw: &'a [u8],
    pub at: DateTime<Utc>,
    /// The mailbox it came through (schema 9), if any.
    pub mailbox: Option<&'a str>,
}

/// A quarantined letter as an admin sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub message_id: Option<String>,
    pub reason: String,
    pub created_at: String,
    pub released_at: Option<String>,
    pub size: i64,
}

impl Store {
    /// Begin one letter's unit of work: a savepoint when a batch transaction
    /// is open, else its own IMMEDIATE transaction (takes the write lock now,
    /// so a busy database fails here, before any work is done).
    pub fn unit(&mut self) -> Result<Unit<'_>> {
        if self.batch_open() {
            Ok(Unit(self.conn.savepoint()?))
        } else {
            Ok(Unit(self.begin()?))
        }
    }

    /// Open a batch transaction (SQLite: IMMEDIATE, the write lock is taken
    /// now).
    /// Until [`Store::batch_commit`], every [`Store::unit`] is a savepoint in
    /// it; nothing is durable or visible to others before that commit.
    pub fn batch_begin(&mut self) -> Result<()> {
        // A batch left open by a panic must not swallow later letters.
        self.batch_rollback();
        self.conn.begin_raw()?;
        if let Some(f) = &self.fence {
            if let Err(e) = super::cluster::check_fence(&self.conn, f) {
                self.batch_rollback();
                return Err(e);
            }
        }
        Ok(())
    }

    /// Is a batch transaction open? False after SQLite rolled it back by
    /// itself (disk full, I/O error): the letters in it were not stored.
    pub fn batch_open(&self) -> bool {
        self.conn.in_transaction()
    }

    pub fn batch_commit(&mut self) -> Result<()> {
        self.conn.commit_raw()
    }

    /// Undo the open batch, if any (best effort: a failed rollback leaves
    /// SQLite to roll back on close).
    pub fn batch_rollback(&mut self) {
        if self.batch_open() {
            if let Err(e) = self.conn.rollback_raw() {
                tracing::warn!(error = %e, "rolling back a batch failed");
            }
        }
    }

    /// Has a letter with this identity been processed?
    pub fn seen(&self, identity: &str) -> Result<Option<SeenLetter>> {
        self.conn.query_opt(
            "SELECT outcome, ticket_id FROM letters WHERE identity = ?1",
            &params![identity],
            |r| {
                Ok(SeenLetter {
                    outcome: r.get(0)?,
                    ticket_id: r.get(1)?,
                })
            },
        )
    }

    pub fn state_get(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_opt(
            "SELECT value FROM state WHERE key = ?1",
            &params![key],
            |r| r.get(0),
        )
    }

    pub fn state_set(&self, key: &str, value: &str) -> Result<()> {
        state_set_in(&self.conn, key, value)
    }
}

/// Set a state value on `conn` (inside the caller's transaction).
pub fn state_set_in(conn: &Conn, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO state(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        &params![key, value],
    )?;
    Ok(())
}

impl Store {
    pub fn quarantine_list(&self, all: bool) -> Result<Vec<QuarantineRow>> {
        self.conn.query_map(
            "SELECT id, message_id, reason, created_at, released_at, CAST(length(raw) AS BIGINT)
             FROM quarantine WHERE ?1 OR released_at IS NULL ORDER BY id DESC",
            &params![all],
            |r| {
                Ok(QuarantineRow {
                    id: r.get(0)?,
                    message_id: r.get(1)?,
                    reason: r.get(2)?,
                    created_at: r.get(3)?,
                    released_at: r.get(4)?,
                    size: r.get(5)?,
                })
            },
        )
    }

    /// A quarantined letter with its raw bytes.
    pub fn quarantine_get(&self, id: i64) -> Result<Option<(QuarantineRow, Vec<u8>)>> {
        self.conn.query_opt(
                "SELECT id, message_id, reason, created_at, released_at, CAST(length(raw) AS BIGINT), raw
                 FROM quarantine WHERE id = ?1",
                &params![id],
                |r| {
                    Ok((
                        QuarantineRow {
                            id: r.get(0)?,
                            message_id: r.get(1)?,
                            reason: r.get(2)?,
                            created_at: r.get(3)?,
                            released_at: r.get(4)?,
                            size: r.get(5)?,
                        },
                        r.get(6)?,
                    ))
                },
            )
    }

    /// Forget that a quarantined letter was processed, so that it can be
    /// ingested again; marks the quarantine row released.
    pub fn quarantine_release(&mut self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let tx = self.begin()?;
        let letter: Option<Option<i64>> = tx.query_opt(
            "SELECT letter_id FROM quarantine WHERE id = ?1 AND released_at IS NULL",
            &params![id],
            |r| r.get(0),
        )?;
        let Some(letter) = letter else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE quarantine SET released_at = ?2 WHERE id = ?1",
            &params![id, ts(at)],
        )?;
        if let Some(l) = letter {
            tx.execute(
                "UPDATE quarantine SET letter_id = NULL WHERE id = ?1",
                &params![id],
            )?;
            tx.execute("DELETE FROM letters WHERE id = ?1", &params![l])?;
        }
        tx.commit()?;
        Ok(true)
    }
}

/// The latest letter `sender` wrote about `ticket`: its Message-ID and the
/// start of its bytes (the header block, for its References), so that the
/// desk's answer threads under it in the user's mail client.
pub fn last_letter_from(
    tx: &Conn,
    ticket: &str,
    sender: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    tx.query_opt(
        "SELECT message_id, substr(raw, 1, 65536) FROM letters
          WHERE ticket_id = ?1 AND lower(sender) = lower(?2) AND message_id IS NOT NULL
          ORDER BY id DESC LIMIT 1",
        &params![ticket, sender],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The Message-ID of the letter that opened `ticket` (the root of the
/// user's thread), if it had one.
pub fn opening_letter_id(tx: &Conn, ticket: &str) -> Result<Option<String>> {
    Ok(tx
        .query_opt(
            "SELECT message_id FROM letters WHERE ticket_id = ?1 AND outcome = 'created'
              ORDER BY id LIMIT 1",
            &params![ticket],
            |r| r.get(0),
        )?
        .flatten())
}

/// Record a processed letter; returns its row id.
pub fn insert_letter(tx: &Conn, l: &LetterRecord<'_>) -> Result<i64> {
    tx.one(
        "INSERT INTO letters(identity, message_id, received_at, outcome, ticket_id, reason, sender, raw, mailbox)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        &params![l.identity, l.message_id, ts(l.at), l.outcome, l.ticket_id, l.reason, l.sender, l.raw, l.mailbox],
    )
}

/// Keep a letter aside for an admin.
pub fn insert_quarantine(
    tx: &Conn,
    letter_id: Option<i64>,
    message_id: Option<&str>,
    reason: &str,
    raw: &[u8],
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.one(
        "INSERT INTO quarantine(letter_id, message_id, reason, raw, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        &params![letter_id, message_id, reason, raw, ts(at)],
    )
}
