//! A letter from the user's side about an existing ticket: completing the
//! form (a form or a sentence), confirming, thanking, «не помогло», writing
//! more. The engineers' side is [`super::reply`].

use super::apply::{rejected_rows, Ctx, Effects};
use super::carry::{self, Answering};
use super::Parts;
use crate::store::tickets::Ticket;
use crate::workflow::auth::Trust;
use crate::workflow::decide;
use crate::workflow::rules::TicketFacts;

/// A letter from the user's side (here: the signed status link's
/// buttons): decided by [`decide::decide`], carried out.
#[allow(clippy::too_many_arguments)]
pub(super) fn user_letter(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    t: &mut Ticket,
    effects: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
    routed: bool,
    trust: &Trust,
) {
    let event = decide::Event::UserLetter(decide::UserLetter {
        sender: sender.to_string(),
        trust: match trust {
            Trust::Fail(why) => Err(why.clone()),
            _ => Ok(()),
        },
        text: incoming.parsed.text.clone(),
    });
    let state = carry::state(t, routed);
    let decided = decide::decide(&event, &state, &carry::context(parts, incoming.now));
    let then = decided.then;
    let answering = Answering {
        message_id: incoming.parsed.message_id.as_deref(),
        files: kept,
        rejected: &[],
        thread: None,
        notes: &[],
    };
    carry::carry_out(parts, t, decided, effects, incoming.now, &answering);
    if then == Some(decide::Then::CompleteForm) {
        complete(parts, incoming, t, effects, sender, kept);
    }
}

/// The user's answer to a clarification: its fields read (a sentence
/// first, «кабинет 305, 3 этаж, тел. 55-12-34», then the form's lines),
/// decided by [`decide::decide`], carried out.
pub(super) fn complete(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    t: &mut Ticket,
    effects: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
) {
    let parsed = incoming.parsed;
    let own = crate::workflow::speech::without_greeting(&parsed.text);
    let said = crate::parse::sentence::fields_in_text(own, &parts.cfg.desk.default_area_code);
    let event = decide::Event::FormAnswer(Box::new(decide::FormAnswer {
        sender: sender.to_string(),
        text: parsed.text.clone(),
        said,
        form: parsed.form.clone(),
        has_files: !kept.is_empty(),
        auto_submitted: parsed.auto_submitted.clone(),
    }));
    let routed = super::create::routings(&t.history) > 0;
    let state = carry::state(t, routed);
    let decided = decide::decide(&event, &state, &carry::context(parts, incoming.now));
    let rejected = rejected_rows(parsed);
    let answering = Answering {
        message_id: parsed.message_id.as_deref(),
        files: kept,
        rejected: &rejected,
        thread: None,
        notes: &parsed.notes,
    };
    carry::carry_out(parts, t, decided, effects, incoming.now, &answering);
}

/// Routing facts of a stored ticket.
pub fn ticket_facts(t: &Ticket) -> TicketFacts {
    TicketFacts {
        kind: t.kind,
        priority: t.priority.clone(),
        organization: t.form.organization.clone(),
        sender: t.requester.clone(),
        subject: t.subject.clone(),
        description: t.form.description.clone().unwrap_or_default(),
        has_attachments: !t.attachments.is_empty(),
    }
}
