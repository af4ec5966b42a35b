//! A letter on a ticket, the way [`crate::workflow::follow_up::decide`]
//! sent it: recorded in the history, then refused (command lines from
//! someone who may not command, an unproven engineer, a line mailbox
//! without its proof), given to the engineers' side, or to the user's.

use super::{user, Context, Effects, Entry, FollowUpLetter, Letter, Then, TicketState};
use crate::workflow::follow_up::FollowUp;

pub(super) fn decide(letter: &FollowUpLetter, state: &TicketState, ctx: &Context<'_>) -> Effects {
    let mut effects = Effects::default();
    let sender = letter.letter.sender.as_str();
    effects.log(Entry::new(sender, "letter", letter.excerpt.clone()));
    match &letter.way {
        // Changes no ticket; the pipeline records these apart.
        FollowUp::Replayed | FollowUp::RelatedAppeal => {}
        FollowUp::Commands => effects.then = Some(Then::Commands),
        FollowUp::Unauthenticated(why) => {
            // Recorded; the (maybe forged) sender gets nothing.
            effects.log(Entry::new(sender, "command_refused", why.clone()));
        }
        FollowUp::LineMailboxRecorded => effects.log(Entry::new(
            sender,
            "command_refused",
            "письмо с ящика линии без действующего подтверждения получения: записано, не применено",
        )),
        FollowUp::RefusedCommands => {
            user::refuse(
                &mut effects,
                sender,
                vec![format!(
                    "{sender} не инженер ни одной из линий: строки «Статус:», «Линия:» и другие команды принимаются только от инженеров. \
                     Напишите, пожалуйста, ответ своими словами, без этих строк: письмо будет передано инженеру."
                )],
            );
            // The line hears of it: the words are not lost.
            effects.send(Letter::TextToLine {
                line: state.line,
                text: format!(
                    "Письмо с адреса {sender} похоже на команду и не применено (отправитель не инженер); текст письма:\n\n{}",
                    letter.letter.text.trim()
                ),
            });
        }
        FollowUp::UserWords => return user::decide_into(effects, &letter.letter, state, ctx),
    }
    effects
}
