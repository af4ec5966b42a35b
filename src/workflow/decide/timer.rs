//! The escalation timer (п. 81, 83): a ticket past its deadline moves to
//! the next line, once per deadline, with the routed letter to the new line
//! and notices to the lines [`crate::workflow::escalate`] names.

use super::{send_to_line, Context, Effects, Entry, Letter, TicketState, Timer};
use crate::workflow::status::Line;

pub(super) fn decide(timer: &Timer, state: &TicketState, ctx: &Context<'_>) -> Effects {
    let esc = &timer.escalation;
    let wf = ctx.workflow;
    let mut effects = Effects::default();
    effects.log(Entry::new("system", "escalated", esc.reason.clone()));
    effects.fields.deadline = Some(esc.new_deadline);
    effects.fields.escalated_for = Some(Some(esc.missed_deadline));
    effects.fields.touched = true;
    let stays = esc.to_line == esc.from_line;
    let mut line_after = state.line;
    if !stays {
        if let Some(def) = wf.line(esc.to_line) {
            let why = format!("эскалация: срок {} пропущен", timer.missed_shown);
            send_to_line(
                &mut effects,
                ctx,
                state.status,
                &state.id,
                esc.to_line,
                &def.mailbox,
                &why,
                false,
            );
            line_after = esc.to_line;
        }
    }
    let first_line_copied = super::first_line_copied(ctx, line_after);
    let text = format!("Эскалация обращения {}: {}", state.id, esc.reason);
    for line in &esc.notify {
        // The new line got the routed letter; the 1st line got its copy
        // with it, unless the desk wants no copies.
        if *line == esc.to_line && !stays {
            continue;
        }
        if *line == Line::First && !stays && first_line_copied {
            continue;
        }
        // The line that holds the ticket is reminded (the last line too),
        // the 1st line told; every notice answerable.
        effects.send(Letter::LineNotice {
            line: *line,
            text: text.clone(),
        });
    }
    effects
}
