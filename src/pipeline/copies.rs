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
/// this letter's changes (`fx`'s routings count).
pub(super) fn proof_for(d: &Parts<'_>, t: &Ticket, mailbox: &str, fx: &Effects) -> String {
    let binding = binding_after(t, fx);
    token::make_reply_address(
        &d.cfg.workflow.support_address,
        &t.id,
        mailbox,
        &binding,
        d.key,
    )
}

/// The 1st line's mailbox, when it should get copies of `t` (the ticket is
/// on another line and the desk wants copies).
pub(super) fn first_line_wants(d: &Parts<'_>, t: &Ticket) -> Option<String> {
    if d.cfg.desk.first_line_copies == FirstLineCopies::None || t.line == Line::First {
        return None;
    }
    d.cfg.workflow.line(Line::First).map(|l| l.mailbox.clone())
}

/// A copy of `text` to the 1st line, answerable.
pub(super) fn copy_to_first_line(
    d: &Parts<'_>,
    t: &Ticket,
    fx: &mut Effects,
    text: &str,
    now: DateTime<Utc>,
) {
    let Some(m) = first_line_wants(d, t) else {
        return;
    };
    if d.cfg.desk.first_line_copies == FirstLineCopies::Digest {
        // Kept for the next digest (pipeline/digest.rs); the proof is made
        // when it is sent, for the ticket as it is then.
        fx.log(history_at(
            now,
            "system",
            crate::store::digest::DIGEST_ACTION,
            None,
            None,
            Some(text.to_string()),
        ));
        return;
    }
    let proof = proof_for(d, t, &m, fx);
    let text = format!(
        "Копия для 1-й линии (координация, п. 81). Ответьте на это письмо командами, чтобы распорядиться обращением.\n\n{text}"
    );
    fx.send_to_desk(d.composer.first_line_copy(t, &m, &proof, &text));
}
