//! The buttons of the user's status link (`/t/<ticket>-<sig>`): «Подтверждаю»
//! and «Не решено» go through the same decisions as the user's letter
//! saying so (`user_reply::user_letter`), recorded with the actor
//! `user (link)`. The signature proved the requester; only a ticket whose
//! solution is proposed is changed, so a second click changes nothing.

use super::apply::{commit_ticket, excerpt, Ctx, Effects, TicketCommit};
use super::{IngestError, Pipeline};
use crate::outbox::compose::Composer;
use crate::parse::{Address, ParsedLetter};
use crate::workflow::auth::Trust;
use crate::workflow::status::Status;

/// The actor the link's actions are recorded with.
pub const LINK_ACTOR: &str = "user (link)";

/// What the user pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
    /// «Подтверждаю»: the proposed solution helped.
    Confirm,
    /// «Не решено», with the user's words.
    NotSolved(String),
}

/// What came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The ticket changed (confirmed, or back with the line).
    Done,
    /// Nothing to do: no solution is proposed (already confirmed, or
    /// returned).
    Unchanged,
    /// No such ticket.
    Unknown,
}

impl Pipeline {
    /// Apply a status link's button to `ticket` (its signature already
    /// checked). `nonce` makes this press its own record.
    pub fn link_action(
        &mut self,
        ticket: &str,
        action: &LinkAction,
        nonce: &str,
    ) -> Result<LinkOutcome, IngestError> {
        let Some(mut t) = self.store.ticket_full(ticket)? else {
            return Ok(LinkOutcome::Unknown);
        };
        if t.status() != Status::SolutionProposed {
            return Ok(LinkOutcome::Unchanged);
        }
        let text = match action {
            LinkAction::Confirm => "Подтверждаю".to_string(),
            LinkAction::NotSolved(words) => {
                let words = words.trim();
                if words.is_empty() {
                    "Не помогло.".to_string()
                } else {
                    format!("Не помогло. {words}")
                }
            }
        };
        let routed = self.store.was_routed(&t.id)?;
        let requester = t.requester.clone();
        let parsed = ParsedLetter {
            subject: Composer::tagged_subject(&t.id, &t.subject),
            from: Some(Address {
                name: None,
                email: requester.clone(),
            }),
            text: text.clone(),
            ..Default::default()
        };
        let identity = format!("link:{}:{}", t.id, nonce);
        let incoming = Ctx {
            identity: &identity,
            raw: &[],
            parsed: &parsed,
            now: self.clock.now(),
            kept: None,
            channel: t.channel,
            registered_by: None,
            mailbox: None,
        };
        let (store, parts) = self.split();
        let mut effects = Effects::default();
        if matches!(action, LinkAction::NotSolved(_)) {
            effects.log(incoming.history(LINK_ACTOR, "letter", None, None, Some(excerpt(&text))));
        }
        let trust = Trust::Pass("signed status link".into());
        super::user_reply::user_letter(
            &parts,
            &incoming,
            &mut t,
            &mut effects,
            &requester,
            &[],
            routed,
            &trust,
        );
        for h in &mut effects.history {
            if h.actor == requester {
                h.actor = LINK_ACTOR.to_string();
            }
        }
        t.updated_at = incoming.now;
        let tx = store.unit()?;
        commit_ticket(
            tx,
            &parts,
            &incoming,
            TicketCommit {
                ticket: &t,
                new_ticket: false,
                outcome: "updated",
                kept: &[],
                rejected: &[],
                effects,
            },
        )?;
        Ok(LinkOutcome::Done)
    }
}
