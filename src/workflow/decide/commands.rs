//! An engineer's (or a line mailbox's) commands: all of them, or none.
//!
//! The proof of receipt must hold and the keyword lines must read; then
//! [`crate::workflow::plan::plan`] checks them against the ticket and the
//! engineer (the status move through the table). Refused: the engineer is
//! told every reason, nothing changes. Applied: the fields, the move, one
//! `command` history row, the routed letter when the line or the assignee
//! changes, the words to the user, copies for the 1st line, and the
//! confirmation to the engineer.

use super::user::refuse;
use super::{send_to_line, Commands, Context, Effects, Entry, Letter, TicketState};
use crate::workflow::plan::{self, CommandPlan};
use crate::workflow::status::Status;

pub(super) fn decide(c: &Commands, state: &TicketState, ctx: &Context<'_>) -> Effects {
    let mut effects = Effects::default();
    let sender = c.sender.as_str();
    if let Err(why) = &c.proof {
        refuse(&mut effects, sender, vec![why.clone()]);
        return effects;
    }
    let set = match &c.set {
        Ok(set) => set,
        Err(reasons) => {
            refuse(&mut effects, sender, reasons.clone());
            return effects;
        }
    };
    if !set.has_commands() {
        effects.log(Entry::new(sender, "engineer_note", c.excerpt.clone()));
        // It looks like it meant a command: say what was understood.
        if let Some(h) = &c.hint {
            refuse(
                &mut effects,
                sender,
                vec![format!(
                    "{h}: письмо записано как заметка. Ключи команд — в начале письма (можно после одной строки приветствия), по одному на строке; текст для пользователя — после них"
                )],
            );
        }
        return effects;
    }
    let Some(actor) = &c.actor else {
        refuse(
            &mut effects,
            sender,
            vec![format!("{sender} не инженер ни одной из линий")],
        );
        return effects;
    };
    let now = plan::TicketState {
        status: state.status,
        line: state.line,
        priority: state.priority.clone(),
        kind: state.kind,
        assignee: state.assignee.clone(),
    };
    let plan = match plan::plan(set, &now, actor, ctx.workflow) {
        Ok(plan) => plan,
        Err(reasons) => {
            refuse(&mut effects, sender, reasons);
            return effects;
        }
    };
    apply(effects, c, &plan, &set.message, state, ctx)
}

fn apply(
    mut effects: Effects,
    c: &Commands,
    plan: &CommandPlan,
    message: &str,
    state: &TicketState,
    ctx: &Context<'_>,
) -> Effects {
    let wf = ctx.workflow;
    let sender = c.sender.as_str();
    let st = state.status;
    let mut status = st;
    if let Some(s) = plan.status {
        if let Some(actor) = &c.actor {
            // The plan checked the move against the table already.
            if let Err(r) = effects.move_status(st, s, actor.clone()) {
                refuse(&mut effects, sender, vec![r.to_string()]);
                return effects;
            }
            status = s;
        }
    }
    let fields = &mut effects.fields;
    fields.kind = plan.kind;
    if let Some(p) = &plan.priority {
        fields.priority = Some(p.clone());
        fields.deadline = Some(wf.deadline(ctx.now, p));
        fields.escalated_for = Some(None);
    }
    let reassigned = plan
        .assignee
        .as_ref()
        .is_some_and(|a| state.assignee.as_deref() != Some(a.as_str()));
    if let Some(a) = &plan.assignee {
        fields.assignee = Some(Some(a.clone()));
    } else if let Some((new_line, _)) = &plan.line {
        // An assignee of the old line is nobody's on the new one.
        let stays = state.assignee.as_deref().is_some_and(|a| {
            wf.line(*new_line)
                .is_some_and(|l| l.engineers.iter().any(|e| e.eq_ignore_ascii_case(a)))
        });
        if !stays {
            fields.assignee = Some(None);
        }
    }
    effects.replay = Some(c.replay_key.clone());
    let changed = plan.status.filter(|s| *s != st);
    effects.log(Entry {
        from: changed.map(|_| st.machine_name().to_string()),
        to: changed.map(|s| s.machine_name().to_string()),
        ..Entry::new(sender, "command", plan.history.join("; "))
    });
    // A handover's words (the text after `Линия:` / `Исполнитель:` when
    // nothing goes to the user) travel with the routed letter.
    let comment = message.trim();
    let why = if plan.to_user.is_none() && !comment.is_empty() {
        effects.log(Entry::new(sender, "handover_comment", comment));
        format!("по команде {sender}\n\nКомментарий {sender}:\n{comment}\n")
    } else {
        format!("по команде {sender}")
    };
    let mut line = state.line;
    if let Some((new_line, mailbox)) = &plan.line {
        send_to_line(
            &mut effects,
            ctx,
            status,
            &state.id,
            *new_line,
            mailbox,
            &why,
            true,
        );
        line = *new_line;
    } else if reassigned {
        // The proofs issued before name the old assignment: the line gets
        // the ticket again with a fresh one.
        if let Some(l) = wf.line(line).map(|l| l.mailbox.clone()) {
            send_to_line(&mut effects, ctx, status, &state.id, line, &l, &why, false);
        }
    }
    if plan.status == Some(Status::SolutionProposed)
        || (plan.to_user.is_some() && st == Status::SolutionProposed)
    {
        if let Some(text) = &plan.to_user {
            super::copy_to_first_line(
                &mut effects,
                ctx,
                line,
                format!(
                    "{sender} предложил решение пользователю:\n\n{}",
                    text.trim()
                ),
            );
        }
    }
    if plan.status == Some(Status::Confirmed) {
        // Closed on the user's behalf (after a phone call): the user is told.
        effects.send(Letter::ClosedByDesk {
            by: sender.to_string(),
        });
        super::copy_to_first_line(
            &mut effects,
            ctx,
            line,
            format!("{sender} закрыл обращение («Подтверждено»)."),
        );
    }
    // The engineer's files travel with their words (they were checked like
    // a user's: the refused ones are named in the confirmation).
    let with_files = plan.to_user.is_some();
    if let Some(text) = &plan.to_user {
        effects.send(Letter::ToUser {
            text: text.clone(),
            with_files,
        });
    }
    effects.send(Letter::CommandDone {
        to: sender.to_string(),
        summary: plan.summary(),
        with_files,
    });
    effects
}
