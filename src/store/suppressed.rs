//! Automatic letters held back by the loop limits (`[loops]`): each is a
//! `suppressed` history row on its ticket, detail `kind: reason` (the reason
//! names the recipient and the limit). Read here for `ticketd status` and
//! `ticketd outbox list`, so that an admin sees them without opening every
//! ticket.

use super::engine::params;
use super::{ts, Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One letter that was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedRow {
    pub ticket_id: String,
    /// When it was held back (RFC 3339, as stored).
    pub at: String,
    /// What the letter was (`confirmation`, `refusal`, ...).
    pub kind: String,
    pub reason: String,
}

/// `kind: reason` as written by the pipeline; a detail without a kind is
/// all reason.
fn split_detail(detail: &str) -> (String, String) {
    match detail.split_once(": ") {
        Some((k, r)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
            (k.to_string(), r.to_string())
        }
        _ => (String::new(), detail.to_string()),
    }
}

impl Store {
    /// How many letters were held back since `since` (all of them: `None`).
    pub fn suppressed_count(&self, since: Option<DateTime<Utc>>) -> Result<i64> {
        self.conn.one(
            "SELECT count(*) FROM history WHERE action = 'suppressed'
               AND (CAST(?1 AS TEXT) IS NULL OR at >= ?1)",
            &params![since.map(ts)],
        )
    }

    /// The latest `limit` letters held back, newest first.
    pub fn suppressed_latest(&self, limit: usize) -> Result<Vec<SuppressedRow>> {
        self.conn.query_map(
            "SELECT ticket_id, at, coalesce(detail, '') FROM history
             WHERE action = 'suppressed' ORDER BY at DESC, id DESC LIMIT ?1",
            &params![i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                let detail: String = r.get(2)?;
                let (kind, reason) = split_detail(&detail);
                Ok(SuppressedRow {
                    ticket_id: r.get(0)?,
                    at: r.get(1)?,
                    kind,
                    reason,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_split_into_kind_and_reason() {
        let cases = [
            (
                "confirmation: не отправлено a@b: уже 5 (предел 5)",
                ("confirmation", "не отправлено a@b: уже 5 (предел 5)"),
            ),
            (
                "refusal: not sent to a@b: 10",
                ("refusal", "not sent to a@b: 10"),
            ),
            ("без вида письма", ("", "без вида письма")),
            ("два слова: причина", ("", "два слова: причина")),
        ];
        for (detail, (kind, reason)) in cases {
            assert_eq!(
                split_detail(detail),
                (kind.into(), reason.into()),
                "{detail}"
            );
        }
    }
}
