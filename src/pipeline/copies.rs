//! What the 1st line sees (п. 81: it coordinates and closes): a copy of
//! every routing to another line, handover, proposed solution and
//! confirmation (`[desk] first_line_copies = "all"`), each with a proof of
//! receipt issued to the 1st line's mailbox, so an operator may answer any
//! of them with commands. Reminders and escalation notices carry a proof
//! too.

use super::apply::{history_at, Effects};
use super::create::binding_after;
use super::Parts;
use crate::config::FirstLineCopies;
use crate::store::tickets::Ticket;
use crate::workflow::status::Line;
use crate::workflow::token;
use chrono::{DateTime, Utc};

/// The proof-of-receipt address for `mailbox` on `t` as it will be after
/// this letter's changes (`effects`'s routings count).
pub(super) fn proof_for(parts: &Parts<'_>, t: &Ticket, mailbox: &str, effects: &Effects) -> String {
    let binding = binding_after(t, effects);
    token::make_reply_address(
        &parts.cfg.workflow.support_address,
        &t.id,
        mailbox,
        &binding,
        parts.key,
    )
}

/// The 1st line's mailbox, when it should get copies of `t` (the ticket is
/// on another line and the desk wants copies).
pub(super) fn first_line_wants(parts: &Parts<'_>, t: &Ticket) -> Option<String> {
    if parts.cfg.desk.first_line_copies == FirstLineCopies::None || t.line == Line::First {
        return None;
    }
    parts
        .cfg
        .workflow
        .line(Line::First)
        .map(|l| l.mailbox.clone())
}

/// A copy of `text` to the 1st line, answerable.
pub(super) fn copy_to_first_line(
    parts: &Parts<'_>,
    t: &Ticket,
    effects: &mut Effects,
    text: &str,
    now: DateTime<Utc>,
) {
    let Some(m) = first_line_wants(parts, t) else {
        return;
    };
    if parts.cfg.desk.first_line_copies == FirstLineCopies::Digest {
        // Kept for the next digest (pipeline/digest.rs); the proof is made
        // when it is sent, for the ticket as it is then.
        effects.log(history_at(
            now,
            "system",
            crate::store::digest::DIGEST_ACTION,
            None,
            None,
            Some(text.to_string()),
        ));
        return;
    }
    let proof = proof_for(parts, t, &m, effects);
    let text = format!(
        "Копия для 1-й линии (координация, п. 81). Ответьте на это письмо командами, чтобы распорядиться обращением.\n\n{text}"
    );
    effects.send_to_desk(parts.composer.first_line_copy(t, &m, &proof, &text));
}
