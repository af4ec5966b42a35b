//! Letters taken in (the exactly-once record), quarantine and small state;
//! and the unit of work a letter is written in ([`Unit`]): its own
//! transaction, or a savepoint inside a batch transaction
//! ([`Store::batch_begin`]) that commits several letters at once.
//!
//! Hot statements go through rusqlite's statement cache
//! (`prepare_cached`): the daemon runs the same dozen statements for every
//! letter, and compiling them again each time cost about a tenth of its CPU.

use super::{ts, Result, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Savepoint, Transaction};

/// Where one letter's rows are written: its own IMMEDIATE transaction, or a
/// savepoint in the open batch transaction. Dropping it without
/// [`Unit::commit`] undoes the letter's rows only.
pub enum Unit<'a> {
    Own(Transaction<'a>),
    InBatch(Savepoint<'a>),
}

impl Unit<'_> {
    /// Commit the letter (in a batch: keep its rows for the batch's commit).
    pub fn commit(self) -> Result<()> {
        match self {
            Unit::Own(tx) => tx.commit()?,
            Unit::InBatch(sp) => sp.commit()?,
        }
        Ok(())
    }
}

impl Unit<'_> {
    /// The connection inside the unit (store modules only).
    pub(super) fn conn(&self) -> &Connection {
        match self {
            Unit::Own(tx) => tx,
            Unit::InBatch(sp) => sp,
        }
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
            Ok(Unit::InBatch(self.conn.savepoint()?))
        } else {
            Ok(Unit::Own(self.begin()?))
        }
    }

    /// Open a batch transaction (IMMEDIATE: the write lock is taken now).
    /// Until [`Store::batch_commit`], every [`Store::unit`] is a savepoint in
    /// it; nothing is durable or visible to others before that commit.
    pub fn batch_begin(&mut self) -> Result<()> {
        // A batch left open by a panic must not swallow later letters.
        self.batch_rollback();
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
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
        !self.conn.is_autocommit()
    }

    pub fn batch_commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Undo the open batch, if any (best effort: a failed rollback leaves
    /// SQLite to roll back on close).
    pub fn batch_rollback(&mut self) {
        if self.batch_open() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rolling back a batch failed");
            }
        }
    }

    /// Has a letter with this identity been processed?
    pub fn seen(&self, identity: &str) -> Result<Option<SeenLetter>> {
        Ok(self
            .conn
            .prepare_cached("SELECT outcome, ticket_id FROM letters WHERE identity = ?1")?
            .query_row([identity], |r| {
                Ok(SeenLetter {
                    outcome: r.get(0)?,
                    ticket_id: r.get(1)?,
                })
            })
            .optional()?)
    }

    pub fn state_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM state WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn state_set(&self, key: &str, value: &str) -> Result<()> {
        state_set_in(&self.conn, key, value)
    }
}

/// Set a state value on `conn` (inside the caller's transaction).
pub fn state_set_in(conn: &Connection, key: &str, value: &str) -> Result<()> {
    {
        conn.prepare_cached(
            "INSERT INTO state(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![key, value])?;
        Ok(())
    }
}

impl Store {
    pub fn quarantine_list(&self, all: bool) -> Result<Vec<QuarantineRow>> {
        let mut st = self.conn.prepare(
            "SELECT id, message_id, reason, created_at, released_at, length(raw) FROM quarantine
             WHERE ?1 OR released_at IS NULL ORDER BY id DESC",
        )?;
        let rows = st.query_map([all], |r| {
            Ok(QuarantineRow {
                id: r.get(0)?,
                message_id: r.get(1)?,
                reason: r.get(2)?,
                created_at: r.get(3)?,
                released_at: r.get(4)?,
                size: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// A quarantined letter with its raw bytes.
    pub fn quarantine_get(&self, id: i64) -> Result<Option<(QuarantineRow, Vec<u8>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, message_id, reason, created_at, released_at, length(raw), raw
                 FROM quarantine WHERE id = ?1",
                [id],
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
            .optional()?)
    }

    /// Forget that a quarantined letter was processed, so that it can be
    /// ingested again; marks the quarantine row released.
    pub fn quarantine_release(&mut self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let tx = self.begin()?;
        let letter: Option<Option<i64>> = tx
            .query_row(
                "SELECT letter_id FROM quarantine WHERE id = ?1 AND released_at IS NULL",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(letter) = letter else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE quarantine SET released_at = ?2 WHERE id = ?1",
            params![id, ts(at)],
        )?;
        if let Some(l) = letter {
            tx.execute("UPDATE quarantine SET letter_id = NULL WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM letters WHERE id = ?1", [l])?;
        }
        tx.commit()?;
        Ok(true)
    }
}

/// The latest letter `sender` wrote about `ticket`: its Message-ID and the
/// start of its bytes (the header block, for its References), so that the
/// desk's answer threads under it in the user's mail client.
pub fn last_letter_from(
    tx: &Connection,
    ticket: &str,
    sender: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    Ok(tx
        .prepare_cached(
            "SELECT message_id, substr(raw, 1, 65536) FROM letters
              WHERE ticket_id = ?1 AND lower(sender) = lower(?2) AND message_id IS NOT NULL
              ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![ticket, sender], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The Message-ID of the letter that opened `ticket` (the root of the
/// user's thread), if it had one.
pub fn opening_letter_id(tx: &Connection, ticket: &str) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached(
            "SELECT message_id FROM letters WHERE ticket_id = ?1 AND outcome = 'created'
              ORDER BY id LIMIT 1",
        )?
        .query_row(params![ticket], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Record a processed letter; returns its row id.
pub fn insert_letter(tx: &Connection, l: &LetterRecord<'_>) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO letters(identity, message_id, received_at, outcome, ticket_id, reason, sender, raw, mailbox)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![l.identity, l.message_id, ts(l.at), l.outcome, l.ticket_id, l.reason, l.sender, l.raw, l.mailbox])?;
    Ok(tx.last_insert_rowid())
}

/// Keep a letter aside for an admin.
pub fn insert_quarantine(
    tx: &Connection,
    letter_id: Option<i64>,
    message_id: Option<&str>,
    reason: &str,
    raw: &[u8],
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO quarantine(letter_id, message_id, reason, raw, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![letter_id, message_id, reason, raw, ts(at)])?;
    Ok(tx.last_insert_rowid())
}
