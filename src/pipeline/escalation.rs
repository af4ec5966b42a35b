//! Escalation (п. 81, 83): a ticket past its deadline in `new` or
//! `assigned` moves to the next line, once per deadline, with the routed
//! letter to the new line and a notice to the 1st line, which coordinates.
//! The decisions are [`crate::workflow::escalate`]'s; this module finds the
//! candidates and commits each escalation in its own transaction.

use super::apply::{commit_system, Effects};
use super::carry;
use super::{IngestError, Pipeline};
use crate::store::tickets::Ticket;
use crate::workflow::decide;
use crate::workflow::escalate::{self, EscalationSnapshot};
use chrono::{DateTime, Utc};

fn snapshot(t: &Ticket) -> Option<EscalationSnapshot> {
    Some(EscalationSnapshot {
        ticket: t.id.clone(),
        status: t.status(),
        line: t.line,
        deadline: t.deadline?,
        escalated_for: t.escalated_for,
    })
}

impl Pipeline {
    /// Escalate every ticket due at `now`; returns how many moved. Queued
    /// letters wake the sender through the handle.
    /// The 1st line's digest, when due, goes out in the same pass.
    pub fn escalate_due(&mut self, now: DateTime<Utc>) -> Result<(usize, bool), IngestError> {
        let digest = self.send_first_line_digest(now)?;
        let (moved, queued) = self.escalate_tickets(now)?;
        Ok((moved, queued || digest))
    }

    fn escalate_tickets(&mut self, now: DateTime<Utc>) -> Result<(usize, bool), IngestError> {
        if self.cfg.workflow.lines.is_empty() {
            return Ok((0, false));
        }
        let due = self.store.escalation_candidates(Some(now))?;
        let mut moved = 0;
        let mut queued = false;
        for id in due.iter().map(|t| t.id.clone()) {
            let Some(mut t) = self.store.ticket_full(&id)? else {
                continue;
            };
            let Some(snap) = snapshot(&t) else { continue };
            let (store, parts) = self.split();
            let Some(esc) = parts.cfg.workflow.escalate(&snap, &t.priority, now) else {
                continue;
            };
            let state = carry::state(&t, super::create::routings(&t.history) > 0);
            let event = decide::Event::Timer(decide::Timer {
                missed_shown: parts.composer.show_time(Some(esc.missed_deadline)),
                escalation: esc.clone(),
            });
            let decided = decide::decide(&event, &state, &carry::context(&parts, now));
            let mut effects = Effects::default();
            carry::carry_out(
                &parts,
                &mut t,
                decided,
                &mut effects,
                now,
                &carry::NO_LETTER,
            );
            tracing::info!(ticket = %t.id, to_line = esc.to_line.number(), "ticket escalated");
            queued |= commit_system(store, &parts, &t, effects, now)?;
            moved += 1;
        }
        Ok((moved, queued))
    }

    /// When the next escalation or the 1st line's digest falls due (for
    /// the daemon's timer).
    pub fn next_escalation(&self) -> Result<Option<DateTime<Utc>>, IngestError> {
        let digest = self.next_digest()?;
        if !self.cfg.workflow.escalation_enabled || self.cfg.workflow.lines.is_empty() {
            return Ok(digest);
        }
        let open = self.store.escalation_candidates(None)?;
        let snaps: Vec<EscalationSnapshot> = open.iter().filter_map(snapshot).collect();
        let escalation = escalate::next_wake(snaps.iter());
        Ok(match (escalation, digest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }
}
