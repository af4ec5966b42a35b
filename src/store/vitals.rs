//! The counts behind the daemon's vital signs (`[metrics]`): read by the
//! metrics refresher on its own connection, every count from an index.

use super::engine::params;
use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};

/// What the database says about the desk at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Letters taken in, by outcome (`created`, `updated`, `ignored`,
    /// `quarantined`) and the mailbox they came through (`main` for a
    /// letter with none recorded: `ingest`, or from before schema 9, as
    /// `tickets list` shows such tickets), since the database began.
    pub letters: Vec<(String, String, u64)>,
    /// Tickets by (status, line).
    pub tickets: Vec<(String, u8, u64)>,
    pub outbox_pending: u64,
    pub outbox_oldest_pending: Option<DateTime<Utc>>,
    /// Letters in quarantine, not released.
    pub quarantine: u64,
    pub escalations: u64,
    /// Tickets whose deadline was missed at least once.
    pub deadlines_breached: u64,
}

impl Store {
    pub fn vital_counts(&self) -> Result<Counts> {
        let c = &self.conn;
        // One walk of the index letters_outcome_mailbox; NULL sorts first
        // there (last on PostgreSQL), so "main" may come twice for one
        // outcome: summed below.
        let mut letters: Vec<(String, String, u64)> = Vec::new();
        c.query_each(
            "SELECT outcome, COALESCE(mailbox, ?1), count(*) FROM letters GROUP BY outcome, mailbox",
            &params![super::DEFAULT_MAILBOX],
            |r| {
                let (o, m): (String, String) = (r.get(0)?, r.get(1)?);
                let n = r.get::<i64>(2)?.max(0) as u64;
                match letters.iter_mut().find(|x| x.0 == o && x.1 == m) {
                    Some(x) => x.2 += n,
                    None => letters.push((o, m, n)),
                }
                Ok::<(), super::StoreError>(())
            },
        )?;
        let tickets = c.query_map(
            "SELECT status, line, count(*) FROM tickets GROUP BY status, line",
            &params![],
            |r| {
                let line: i64 = r.get(1)?;
                Ok((
                    r.get(0)?,
                    u8::try_from(line).unwrap_or(0),
                    r.get::<i64>(2)?.max(0) as u64,
                ))
            },
        )?;
        let backlog = self.outbox_backlog()?;
        let one = |sql: &str| -> Result<u64> { Ok(c.one::<i64>(sql, &params![])?.max(0) as u64) };
        Ok(Counts {
            letters,
            tickets,
            outbox_pending: backlog.pending.max(0) as u64,
            outbox_oldest_pending: backlog.oldest_pending.as_deref().and_then(parse_ts),
            quarantine: one("SELECT count(*) FROM quarantine WHERE released_at IS NULL")?,
            escalations: one("SELECT count(*) FROM history WHERE action = 'escalated'")?,
            deadlines_breached: one(
                "SELECT count(*) FROM ticket_facts WHERE deadline_breached_at IS NOT NULL",
            )?,
        })
    }

    /// Prove the database takes writes: a heartbeat row in `state`, in
    /// its own transaction.
    pub fn heartbeat(&self, at: DateTime<Utc>) -> Result<()> {
        self.state_set("metrics.heartbeat", &ts(at))
    }
}
