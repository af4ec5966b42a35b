//! The counts behind the daemon's vital signs (`[metrics]`): read by the
//! metrics refresher on its own connection, every count from an index.

use super::engine::params;
use super::{parse_ts, ts, Result, Store};
use chrono::{DateTime, Utc};

/// What the database says about the desk at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Letters taken in, by outcome (`created`, `updated`, `ignored`,
    /// `quarantined`), since the database began.
    pub letters: Vec<(String, u64)>,
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
        let letters = c.query_map(
            "SELECT outcome, count(*) FROM letters GROUP BY outcome",
            &params![],
            |r| Ok((r.get(0)?, r.get::<i64>(1)?.max(0) as u64)),
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
