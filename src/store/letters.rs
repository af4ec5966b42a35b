//! Letters taken in (the exactly-once record), quarantine and small state.

use super::{ts, Result, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

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
    /// Has a letter with this identity been processed?
    pub fn seen(&self, identity: &str) -> Result<Option<SeenLetter>> {
        Ok(self
            .conn
            .query_row(
                "SELECT outcome, ticket_id FROM letters WHERE identity = ?1",
                [identity],
                |r| {
                    Ok(SeenLetter {
                        outcome: r.get(0)?,
                        ticket_id: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn state_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn state_set(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO state(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

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

/// Record a processed letter; returns its row id.
pub fn insert_letter(tx: &Transaction<'_>, l: &LetterRecord<'_>) -> Result<i64> {
    tx.execute(
        "INSERT INTO letters(identity, message_id, received_at, outcome, ticket_id, reason, sender, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![l.identity, l.message_id, ts(l.at), l.outcome, l.ticket_id, l.reason, l.sender, l.raw],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Keep a letter aside for an admin.
pub fn insert_quarantine(
    tx: &Transaction<'_>,
    letter_id: Option<i64>,
    message_id: Option<&str>,
    reason: &str,
    raw: &[u8],
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO quarantine(letter_id, message_id, reason, raw, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![letter_id, message_id, reason, raw, ts(at)],
    )?;
    Ok(tx.last_insert_rowid())
}
