//! A new appeal: classification, deadline, routing, the user's letter; and
//! routing a ticket later (when its form becomes complete, or on command).

use super::apply::{self, commit_ticket, history_at, rejected_rows, Ctx, Effects, TicketCommit};
use super::carry::{self, Answering};
use super::{IngestError, IngestReport, Outcome, Pipeline};
use crate::store::tickets::Ticket;
use crate::workflow::decide::{self, Appeal, Opened, Registrar, Related};
use crate::workflow::token;

pub(super) fn create(p: &mut Pipeline, incoming: &Ctx<'_>) -> Result<IngestReport, IngestError> {
    create_with(p, incoming, None)
}

/// The requester writes on a closed ticket (`[desk] closed_reply = "new"`):
/// a new appeal with the closed one's form (what the letter does not say
/// anew), linked to it both ways (`related` in both histories).
pub(super) fn create_related(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    old: &Ticket,
) -> Result<IngestReport, IngestError> {
    let related = Related {
        id: old.id.clone(),
        form: old.form.clone(),
    };
    create_with(p, incoming, Some(related))
}

/// A new appeal: its facts loaded, decided by [`decide::decide`], carried
/// out and committed with the letter.
fn create_with(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
    related: Option<Related>,
) -> Result<IngestReport, IngestError> {
    let appeal = appeal_of(p, incoming, related)?;
    // Before the files are written: a refused appeal keeps none.
    if let Some(reason) = decide::too_many_new(&appeal, &p.cfg.workflow) {
        return apply::quarantine(p, incoming, &reason);
    }
    let (store, parts) = p.split();
    let parsed = incoming.parsed;
    let kept = apply::kept_files(&parts, incoming)?;
    let rejected = rejected_rows(parsed);
    let requester = incoming.sender().unwrap_or_default().to_string();
    // Letters about the ticket go to the requester (From) alone; a
    // differing Reply-To is kept for the per-Reply-To bound only.
    let named_reply_to = parsed.differing_reply_to().map(|a| a.email.clone());
    let mut t = Ticket::default();
    t.reply_to = named_reply_to.unwrap_or_else(|| requester.clone());
    t.requester = requester;
    t.subject = parsed.subject.trim().to_string();
    t.channel = incoming.channel;
    t.registered_by = incoming.registered_by.map(str::to_string);
    t.created_at = incoming.now;
    t.updated_at = incoming.now;
    t.attachments = kept.clone();
    t.rejected_attachments = rejected.clone();
    let tx = store.unit()?;
    t.id = tx.allocate_id(&parts.cfg.tickets.prefix, incoming.now)?;
    let event = decide::Event::NewAppeal(Box::new(appeal));
    let mut decided = decide::decide(
        &event,
        &carry::state(&t, false),
        &carry::context(&parts, incoming.now),
    );
    if let Some(reason) = decided.quarantine.take() {
        // Checked above already; the decision stands all the same.
        drop(tx);
        return apply::quarantine(p, incoming, &reason);
    }
    for (other, h) in std::mem::take(&mut decided.elsewhere) {
        let row = history_at(
            incoming.now,
            &h.actor,
            &h.action,
            h.from.as_deref(),
            h.to.as_deref(),
            h.detail,
        );
        tx.add_history(&other, &row, None)?;
    }
    let mut effects = Effects::default();
    let answering = Answering {
        message_id: parsed.message_id.as_deref(),
        // The ticket holds the letter's files and refusals already.
        files: &[],
        rejected: &[],
        thread: None,
        notes: &parsed.notes,
    };
    carry::carry_out(
        &parts,
        &mut t,
        decided,
        &mut effects,
        incoming.now,
        &answering,
    );
    let queued = commit_ticket(
        tx,
        &parts,
        incoming,
        TicketCommit {
            ticket: &t,
            new_ticket: true,
            outcome: "created",
            kept: &kept,
            rejected: &rejected,
            effects,
        },
    )?;
    Ok(incoming.report(Outcome::Created, Some(t.id), None, queued))
}

/// What [`decide::decide`] needs to know of a new appeal: the letter's
/// facts, and the sender's new tickets of the last hour when `[loops]
/// max_new_tickets_per_sender_per_hour` bounds them.
fn appeal_of(
    p: &Pipeline,
    incoming: &Ctx<'_>,
    related: Option<Related>,
) -> Result<Appeal, IngestError> {
    let parsed = incoming.parsed;
    let parts = p.desk();
    let sender = incoming.sender().unwrap_or_default();
    let reply_to = parsed.differing_reply_to().map(|a| a.email.as_str());
    let counted = incoming.registered_by.is_none()
        && p.cfg
            .workflow
            .reflection
            .max_new_tickets_per_sender_per_hour
            != 0;
    let opened = if counted {
        let since = crate::workflow::reflect::hour_start(incoming.now);
        let (by_from, by_reply_to) = p.store.count_new_tickets(sender, reply_to, since)?;
        let n = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        Some(Opened {
            by_sender: n(by_from),
            reply_to: reply_to.map(str::to_string),
            by_reply_to: n(by_reply_to),
        })
    } else {
        None
    };
    Ok(Appeal {
        requester: sender.to_string(),
        subject: parsed.subject.clone(),
        form: parsed.form.clone(),
        text: parsed.text.clone(),
        has_files: !parsed.attachments.is_empty(),
        auto_submitted: parsed.auto_submitted.clone(),
        answerable: apply::answer_to(&parts, parsed).is_some(),
        other_reply_to: parsed
            .differing_reply_to()
            .filter(|r| !apply::is_own(&parts, &r.email))
            .map(|r| r.email.clone()),
        related,
        registered_by: incoming.registered_by.map(|engineer| Registrar {
            engineer: engineer.to_string(),
            message_id: crate::pipeline::quick_message_id(incoming.raw),
        }),
        opened,
    })
}

/// How many times a ticket was routed (its `routed` history rows): the
/// What a proof of receipt for `t` is bound to: its line, assignee and
/// the routings stored so far ([`token::Binding`]).
pub(super) fn binding(t: &Ticket) -> token::Binding<'_> {
    token::Binding {
        line: t.line.number(),
        assignee: t.assignee.as_deref(),
        routing: routings(&t.history),
    }
}

/// [`binding`] as it will be once `effects` is stored (its routings count).
pub(super) fn binding_after<'a>(t: &'a Ticket, effects: &Effects) -> token::Binding<'a> {
    token::Binding {
        routing: routings(&t.history) + routings(&effects.history),
        ..binding(t)
    }
}

/// routing a proof of receipt is bound to.
pub(super) fn routings(history: &[crate::store::tickets::HistoryRow]) -> u32 {
    let n = history.iter().filter(|h| h.action == "routed").count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A `статус` letter: answer with the sender's open tickets; no ticket.
/// The list goes to From alone (never Reply-To), and only when the MTA
/// vouched for the sender (`[security]`); a refused request is recorded and
/// answered with nothing.
pub(super) fn status_request(
    p: &mut Pipeline,
    incoming: &Ctx<'_>,
) -> Result<IngestReport, IngestError> {
    let (store, parts) = p.split();
    let Some(to) = apply::answer_to(&parts, incoming.parsed) else {
        return apply::ignore(p, incoming, "status request from our own address");
    };
    let sender = incoming.sender().unwrap_or_default().to_string();
    let trust = crate::workflow::auth::sender_trust(
        &parts.cfg.security_policy(),
        &incoming.parsed.trace.headers,
        &sender,
    );
    if let crate::workflow::auth::Trust::Fail(why) = &trust {
        tracing::warn!("status request refused: the sender is not authenticated");
        let reason = format!("status request refused: {why}");
        return apply::ignore(p, incoming, &reason);
    }
    let reason = "status request: answered with the sender's open tickets";
    let open = store.tickets_of(&sender)?;
    let letter = parts
        .composer
        .status_list(&to, &open, incoming.parsed.message_id.as_deref());
    let tx = store.unit()?;
    let mut outcome_reason = reason.to_string();
    let mut queued = false;
    match letter {
        Ok(l) => match apply::over_address_limit(&tx, &parts, &l, incoming.now)? {
            Some(why) => outcome_reason = format!("status request not answered: {why}"),
            None => {
                tx.enqueue(&l, incoming.now)?;
                queued = true;
            }
        },
        Err(e) => tracing::warn!(error = %e, "status list not composed"),
    }
    tx.insert_letter(&incoming.record("ignored", None, Some(&outcome_reason)))?;
    tx.commit()?;
    Ok(incoming.report(Outcome::Ignored, None, Some(outcome_reason), queued))
}
