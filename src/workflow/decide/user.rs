//! A letter from the user's side: only the requester, authenticated where
//! `[security]` asks for it, completes the form, confirms, or moves the
//! status; anyone else's letter is a comment for the line.

use super::{Context, Effects, Entry, Letter, Then, TicketState, UserLetter};
use crate::workflow::address;
use crate::workflow::status::{Actor, Status};
use crate::workflow::user::{user_reply, UserReply};

pub(super) fn decide(letter: &UserLetter, state: &TicketState, ctx: &Context<'_>) -> Effects {
    decide_into(Effects::default(), letter, state, ctx)
}

/// [`decide`], adding to `effects`.
pub(super) fn decide_into(
    mut effects: Effects,
    letter: &UserLetter,
    state: &TicketState,
    ctx: &Context<'_>,
) -> Effects {
    let sender = letter.sender.as_str();
    let is_requester = address::canonical(sender) == address::canonical(&state.requester);
    if is_requester {
        if let Err(why) = &letter.trust {
            effects.log(Entry::new(sender, "refused", why.clone()));
        }
    }
    let from_requester = is_requester && letter.trust.is_ok();
    if from_requester && state.status == Status::AwaitingUser && state.form_incomplete() {
        effects.then = Some(Then::CompleteForm);
        return effects;
    }
    let st = state.status;
    let line = state.line;
    match user_reply(st, state.routed, from_requester, &letter.text) {
        UserReply::Confirm => {
            let actor = Actor::User {
                address: sender.to_string(),
            };
            if let Err(r) = effects.move_status(st, Status::Confirmed, actor) {
                refuse(&mut effects, sender, vec![r.to_string()]);
                return effects;
            }
            effects.log(Entry {
                from: Some(st.machine_name().to_string()),
                to: Some(Status::Confirmed.machine_name().to_string()),
                ..Entry::new(sender, "confirmed", "пользователь подтвердил решение")
            });
            let text = format!("Пользователь {sender} подтвердил решение. Обращение закрыто.");
            effects.send(Letter::LineNotice {
                line,
                text: text.clone(),
            });
            super::copy_to_first_line(&mut effects, ctx, line, text);
        }
        UserReply::Refuse { reason } => refuse(&mut effects, sender, vec![reason]),
        UserReply::AskConfirm => {
            effects.log(Entry::new(
                sender,
                "asked_to_confirm",
                "благодарность без слова «Подтверждаю»: пользователя просят подтвердить",
            ));
            effects.send(Letter::AskToConfirm);
            effects.send(Letter::RelayToLine {
                line,
                text: format!(
                    "Пользователь {sender} благодарит, но решение не подтвердил; его попросили ответить «Подтверждаю»:\n\n{}",
                    letter.text.trim()
                ),
            });
        }
        UserReply::Forward { to } => {
            if let Some(new) = to.filter(|s| *s != st) {
                // A closed ticket is reopened by the desk's rule ([desk]
                // closed_reply = "reopen"), not by the user's say-so.
                let actor = if st == Status::Confirmed {
                    Actor::System
                } else {
                    Actor::User {
                        address: sender.to_string(),
                    }
                };
                match effects.move_status(st, new, actor) {
                    Ok(()) => {
                        // The clock stood still while the desk waited for
                        // the user: the deadline runs again from now.
                        if st == Status::AwaitingUser || new == Status::Assigned {
                            effects.fields.deadline =
                                Some(ctx.workflow.deadline(ctx.now, &state.priority));
                            effects.fields.escalated_for = Some(None);
                        }
                        effects.log(Entry::status(sender, st, new, "пользователь ответил"));
                    }
                    Err(r) => effects.log(Entry::new("system", "status_refused", r.to_string())),
                }
            }
            let who = if from_requester {
                format!("Письмо пользователя {sender} по обращению")
            } else {
                format!("Комментарий с адреса {sender} (не заявитель; поля и статус не изменены)")
            };
            effects.send(Letter::RelayToLine {
                line,
                text: format!("{who}:\n\n{}", letter.text.trim()),
            });
        }
    }
    effects
}

/// Nothing changes; the refusal is recorded and the sender told why.
pub(super) fn refuse(effects: &mut Effects, sender: &str, reasons: Vec<String>) {
    effects.log(Entry::new(sender, "command_refused", reasons.join("; ")));
    effects.send(Letter::Refusal {
        to: sender.to_string(),
        reasons,
    });
}
