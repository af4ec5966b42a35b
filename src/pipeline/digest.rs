//! Sending the 1st line's digest (`[desk] first_line_copies = "digest"`):
//! the events kept by [`super::copies::copy_to_first_line`] go out in one
//! letter once the oldest has waited `[desk] digest_interval_secs`. Run by
//! the daemon's timer beside escalation.

use super::copies::proof_for;
use super::{apply::Effects, IngestError, Pipeline};
use crate::config::FirstLineCopies;
use crate::outbox::digest::DigestTicket;
use crate::workflow::status::Line;
use chrono::{DateTime, Duration, Utc};

/// The most events one digest letter lists (the rest go in the next one,
/// sent at once).
const MAX_EVENTS: usize = 500;

impl Pipeline {
    fn digest_interval(&self) -> Option<Duration> {
        (self.cfg.desk.first_line_copies == FirstLineCopies::Digest).then(|| {
            Duration::seconds(i64::try_from(self.cfg.desk.digest_interval_secs).unwrap_or(3600))
        })
    }

    /// When the waiting events are due to go out (None: nothing waits, or
    /// the desk sends no digest).
    pub fn next_digest(&self) -> Result<Option<DateTime<Utc>>, IngestError> {
        let Some(every) = self.digest_interval() else {
            return Ok(None);
        };
        let oldest = self.store.digest_pending(1)?;
        Ok(oldest.first().map(|i| i.at + every))
    }

    /// Send the digest when it is due at `now`; returns whether a letter
    /// was queued.
    pub fn send_first_line_digest(&mut self, now: DateTime<Utc>) -> Result<bool, IngestError> {
        let Some(every) = self.digest_interval() else {
            return Ok(false);
        };
        let mut queued = false;
        loop {
            let items = self.store.digest_pending(MAX_EVENTS)?;
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                return Ok(queued);
            };
            if first.at + every > now {
                return Ok(queued);
            }
            let through = last.history_id;
            let (store, parts) = self.split();
            let Some(mailbox) = parts
                .cfg
                .workflow
                .line(Line::First)
                .map(|l| l.mailbox.clone())
            else {
                return Ok(queued);
            };
            // Grouped by ticket in the order of their first event; each
            // ticket with a proof for it as it is now.
            let mut tickets: Vec<DigestTicket> = Vec::new();
            for item in items {
                if let Some(dt) = tickets.iter_mut().find(|t| t.ticket.id == item.ticket_id) {
                    dt.events.push((item.at, item.text));
                    continue;
                }
                let Some(t) = store.ticket_full(&item.ticket_id)? else {
                    continue;
                };
                let proof = proof_for(&parts, &t, &mailbox, &Effects::default());
                tickets.push(DigestTicket {
                    ticket: t,
                    proof,
                    events: vec![(item.at, item.text)],
                });
            }
            match parts.composer.first_line_digest(&mailbox, &tickets) {
                Ok(letter) => store.digest_sent(&letter, through, now)?,
                Err(e) => {
                    // Not composable (a template problem): the events stay
                    // in the tickets' history; the next pass tries again.
                    tracing::error!(error = %e, "the 1st line's digest cannot be composed");
                    return Ok(queued);
                }
            }
            tracing::info!(tickets = tickets.len(), "1st line digest queued");
            queued = true;
        }
    }
}
