//! Leases of several daemons on one database (issue 17): what a daemon
//! does with a lease (a mailbox's, or the leader's) given the time, the
//! lease's row as stored and what the daemon believes it holds.
//!
//! A lease is a row (holder, generation, expiry). A daemon takes a lease
//! nobody holds or whose holder stopped renewing it (the expiry passed),
//! with the next generation; renews its own; waits while another holds it;
//! and, when it believed it held a lease that is now another's (or under
//! another generation), has lost it and must stop touching what it guards.
//! The generation is what fences a stale holder: the letter commit checks it.

use chrono::{DateTime, Utc};

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub holder: String,
    pub generation: i64,
    pub expires_at: DateTime<Utc>,
}

/// What to do with one lease now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseStep {
    /// Take it under this generation (write the row, start the work).
    Take { generation: i64 },
    /// It is ours under the generation we hold: push the expiry on.
    Renew,
    /// Another daemon holds it until `until`: do nothing and look again.
    Wait {
        holder: String,
        until: DateTime<Utc>,
    },
    /// We held it, and it is another's now (or ours no more under our
    /// generation): stop the work at once; do not write the row.
    Lost { holder: String },
}

/// Decide the step for a lease: `row` as read (inside the transaction
/// that will write the step), `me` this daemon's id, `mine` the
/// generation this daemon believes it holds (None: it holds nothing),
/// `holder_alive` whether the row's holder is alive in the daemons
/// registry (a daemon killed on this host is removed from it at once: its
/// leases need not run out).
pub fn decide(
    now: DateTime<Utc>,
    row: Option<&LeaseRow>,
    me: &str,
    mine: Option<i64>,
    holder_alive: bool,
) -> LeaseStep {
    let Some(row) = row else {
        // Nobody ever held it, or it was given back.
        return LeaseStep::Take { generation: 1 };
    };
    if row.holder == me && mine == Some(row.generation) {
        // Ours. Even past its expiry nobody took it (taking changes the
        // row), so renewing is safe.
        return LeaseStep::Renew;
    }
    if mine.is_some() {
        // We believed we held it, and the row says otherwise: another took
        // it after our expiry. Stop first; take it again only on a later
        // look, as a newcomer.
        return LeaseStep::Lost {
            holder: row.holder.clone(),
        };
    }
    if row.holder == me || row.expires_at <= now || !holder_alive {
        // Given up by its holder's silence or death (or a row of ours
        // from a former life): the next generation.
        return LeaseStep::Take {
            generation: row.generation + 1,
        };
    }
    LeaseStep::Wait {
        holder: row.holder.clone(),
        until: row.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    fn row(holder: &str, generation: i64, expires: i64) -> LeaseRow {
        LeaseRow {
            holder: holder.into(),
            generation,
            expires_at: at(expires),
        }
    }

    /// (what, now, the row, the generation we hold, the holder alive in
    /// the registry, the step).
    type Case = (
        &'static str,
        i64,
        Option<LeaseRow>,
        Option<i64>,
        bool,
        LeaseStep,
    );

    #[test]
    fn the_lease_decision_table() {
        use LeaseStep::*;
        let wait = |h: &str, until: i64| Wait {
            holder: h.into(),
            until: at(until),
        };
        let lost = |h: &str| Lost { holder: h.into() };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("nobody holds it: take generation 1",
                0, None, None, false, Take { generation: 1 }),
            ("nobody holds it, though we thought we did: take",
                0, None, Some(3), false, Take { generation: 1 }),
            ("ours, in time: renew",
                0, Some(row("a", 4, 10)), Some(4), true, Renew),
            ("ours, past its expiry but untouched: renew",
                20, Some(row("a", 4, 10)), Some(4), true, Renew),
            ("another's, in time: wait until its expiry",
                0, Some(row("b", 4, 10)), None, true, wait("b", 10)),
            ("another's, expiring this very instant: take the next generation",
                10, Some(row("b", 4, 10)), None, true, Take { generation: 5 }),
            ("another's, expired: take the next generation",
                30, Some(row("b", 4, 10)), None, true, Take { generation: 5 }),
            ("another's, in time, its holder gone (killed on this host): take",
                0, Some(row("b", 4, 10)), None, false, Take { generation: 5 }),
            ("we held it and another took it: lost",
                0, Some(row("b", 5, 10)), Some(4), true, lost("b")),
            ("we held it, another took it and is gone: lost first",
                0, Some(row("b", 5, 10)), Some(4), false, lost("b")),
            ("we held it, another took it, and let it expire: lost first",
                30, Some(row("b", 5, 10)), Some(4), true, lost("b")),
            ("our id under a generation we do not hold: lost, not renewed",
                0, Some(row("a", 6, 10)), Some(4), true, lost("a")),
            ("our id from before, holding nothing: take the next generation",
                0, Some(row("a", 6, 10)), None, true, Take { generation: 7 }),
        ];
        for (what, now, row, mine, alive, want) in cases {
            assert_eq!(
                decide(at(now), row.as_ref(), "a", mine, alive),
                want,
                "{what}"
            );
        }
    }
}
