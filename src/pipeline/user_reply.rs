//! A letter from the user's side about an existing ticket: completing the
//! form (a form or a sentence), confirming, thanking, «не помогло», writing
//! more. The engineers' side is [`super::reply`].

use super::apply::{self, rejected_rows, Ctx, Effects};
use super::carry::{self, Answering};
use super::create::route;
use super::Parts;
use crate::store::tickets::Ticket;
use crate::workflow::auth::Trust;
use crate::workflow::decide;
use crate::workflow::rules::TicketFacts;
use crate::workflow::status::{Actor, Line, Status};
use crate::workflow::token;

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
    };
    carry::carry_out(parts, t, decided, effects, incoming.now, &answering);
    if then == Some(decide::Then::CompleteForm) {
        complete(parts, incoming, t, effects, sender, kept);
    }
}

/// The user's answer to a clarification: fill what was missing; once
/// nothing is, the ticket is `new` again, routed, and confirmed to the user.
pub(super) fn complete(
    parts: &Parts<'_>,
    incoming: &Ctx<'_>,
    t: &mut Ticket,
    effects: &mut Effects,
    sender: &str,
    kept: &[crate::store::tickets::AttachmentRow],
) {
    let parsed = incoming.parsed;
    // Answers as people write them: fields in a sentence first («кабинет
    // 305, 3 этаж, тел. 55-12-34»), then the form's lines.
    let own = crate::workflow::speech::without_greeting(&parsed.text);
    let said = crate::parse::sentence::fields_in_text(own, &parts.cfg.desk.default_area_code);
    let mut filled = t.form.fill_from(&said);
    for f in t.form.fill_from(&parsed.form) {
        if !filled.contains(&f) {
            filled.push(f);
        }
    }
    let missing = apply::form_of(t).missing();
    if filled.is_empty() {
        // Nothing completed: a person of the 1st line reads it and acts.
        if let Some(m) = parts
            .cfg
            .workflow
            .line(Line::First)
            .map(|l| l.mailbox.clone())
        {
            let text = format!(
                "Ответ пользователя {sender} на запрос недостающих сведений ничего не дополнил; прочтите и свяжитесь с пользователем:\n\n{}",
                parsed.text.trim()
            );
            let binding = super::create::binding(t);
            let proof = token::make_reply_address(
                &parts.cfg.workflow.support_address,
                &t.id,
                &m,
                &binding,
                parts.key,
            );
            effects.send_to_desk(parts.composer.relay_to_line(
                t,
                &m,
                Some(proof),
                &text,
                apply::read_files(parts, kept),
            ));
        }
    }
    if !filled.is_empty() {
        let names: Vec<&str> = filled
            .iter()
            .map(|f| crate::outbox::texts::field_name(f))
            .collect();
        effects.log(incoming.history(sender, "fields_added", None, None, Some(names.join(", "))));
    }
    let mut all = t.attachments.clone();
    all.extend_from_slice(kept);
    let mut rejected = t.rejected_attachments.clone();
    rejected.extend(rejected_rows(parsed));
    // RFC 3834: an auto-forwarded (or otherwise automatic, but read) letter
    // completes the form, and gets no automatic answer.
    let silent = crate::workflow::intake::no_auto_answer(parsed.auto_submitted.as_deref());
    if let Some(why) = &silent {
        effects.log(incoming.history("system", "no_auto_answer", None, None, Some(why.clone())));
    }
    if missing.is_empty() {
        let before = t.status();
        // System: the table allows this move; a refusal would be a bug, said.
        if let Err(r) = t.move_to(Status::New, &Actor::System) {
            tracing::error!(ticket = %t.id, refusal = %r, "status move refused");
        }
        effects.log(incoming.history(
            "system",
            "status",
            Some(before.machine_name()),
            Some("new"),
            Some("все обязательные сведения получены".into()),
        ));
        t.attachments = all.clone();
        let mut facts = ticket_facts(t);
        facts.has_attachments = !all.is_empty();
        // Classified again now that the description is known, and the
        // deadline runs from now (it stood still while fields were missing).
        let class = parts.cfg.workflow.classify(&facts);
        facts.kind = class.kind;
        facts.priority = class.priority.clone();
        t.kind = class.kind;
        t.priority = class.priority.clone();
        t.deadline = Some(parts.cfg.workflow.deadline(incoming.now, &t.priority));
        t.escalated_for = None;
        route(parts, t, &facts, incoming.now, effects, false);
        if silent.is_none() {
            effects.send(parts.composer.registration(
                t,
                &[],
                &rejected,
                &all,
                &parsed.notes,
                parsed.message_id.as_deref(),
            ));
        }
    } else if silent.is_none() && (!filled.is_empty() || !kept.is_empty()) {
        effects.send(parts.composer.registration(
            t,
            &missing,
            &rejected,
            &all,
            &parsed.notes,
            parsed.message_id.as_deref(),
        ));
    }
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
