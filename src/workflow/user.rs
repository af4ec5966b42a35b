//! What a reply from the user's side does to a ticket.
//!
//! The requester confirms a proposed solution by answering «Подтверждаю»
//! (the first word, after at most one greeting line); thanks without the
//! word ask for it; «Не помогло» returns the ticket to the line; a
//! confirmation from any other address is only a
//! comment for the line (the requester is told nothing), so a colleague in
//! Cc — or a stranger — cannot close someone else's ticket. Any other reply is
//! added to the ticket and sent on to the line; on a ticket that waits for
//! the user it puts the ticket back in work.

use super::speech::{self, Answer};
use super::status::Status;

/// The decision on one reply from a non-engineer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserReply {
    /// `solution_proposed` → `confirmed`; tell the line.
    Confirm,
    /// Change nothing, record `reason`, tell the sender briefly.
    Refuse { reason: String },
    /// Add the text to the ticket and forward it to the line; move the
    /// status to `to` when set.
    Forward { to: Option<Status> },
    /// Thanks without the confirmation word: forward it to the line and ask
    /// the user to confirm with «Подтверждаю».
    AskConfirm,
}

/// `routed`: the ticket has been sent to a line before (it was `assigned`
/// at some point), so an answer returns it to `assigned` rather than `new`.
pub fn user_reply(status: Status, routed: bool, from_requester: bool, body: &str) -> UserReply {
    match status {
        Status::SolutionProposed if from_requester => match speech::answer(body) {
            Answer::Confirm => UserReply::Confirm,
            Answer::Thanks => UserReply::AskConfirm,
            // «Не помогло»: the ticket is the line's again.
            Answer::NotHelped => UserReply::Forward {
                to: Some(Status::Assigned),
            },
            Answer::Other => UserReply::Forward { to: None },
        },
        Status::AwaitingUser if from_requester => UserReply::Forward {
            to: Some(if routed {
                Status::Assigned
            } else {
                Status::New
            }),
        },
        // Only when the desk reopens closed tickets does the pipeline let
        // the requester's letter on one come here.
        // Thanks after closing change nothing.
        Status::Confirmed if from_requester && reopens(body) => UserReply::Forward {
            to: Some(Status::Assigned),
        },
        _ => UserReply::Forward { to: None },
    }
}

/// Does the requester's letter on a closed ticket ask for more (not just
/// thanks or a late «Подтверждаю»)?
pub fn reopens(body: &str) -> bool {
    matches!(speech::answer(body), Answer::NotHelped | Answer::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn decisions() {
        let fwd = |to| UserReply::Forward { to };
        // (status, routed, from requester, body, expected)
        let cases = [
            (
                SolutionProposed,
                true,
                true,
                "Подтверждаю",
                UserReply::Confirm,
            ),
            (
                SolutionProposed,
                true,
                true,
                "confirm, thanks",
                UserReply::Confirm,
            ),
            (
                SolutionProposed,
                true,
                true,
                "Не помогло",
                fwd(Some(Assigned)),
            ),
            (
                SolutionProposed,
                true,
                true,
                "Добрый день!\n\nПодтверждаю, уведомления пришли",
                UserReply::Confirm,
            ),
            (
                SolutionProposed,
                true,
                true,
                "Спасибо, всё получилось",
                UserReply::AskConfirm,
            ),
            (SolutionProposed, true, true, "А мастер придёт?", fwd(None)),
            (AwaitingUser, true, true, "Chrome 120", fwd(Some(Assigned))),
            (AwaitingUser, false, true, "Кабинет 305", fwd(Some(New))),
            (AwaitingUser, true, false, "Я коллега", fwd(None)),
            (Assigned, true, true, "Подтверждаю", fwd(None)),
            (New, false, true, "Дополнение", fwd(None)),
            (Confirmed, true, true, "Ошибка снова", fwd(Some(Assigned))),
            (Confirmed, true, false, "Ошибка снова", fwd(None)),
            (Confirmed, true, true, "Спасибо!", fwd(None)),
        ];
        for (status, routed, requester, body, want) in cases {
            assert_eq!(
                user_reply(status, routed, requester, body),
                want,
                "{status} {body:?}"
            );
        }
        assert_eq!(
            user_reply(SolutionProposed, true, false, "Подтверждаю"),
            fwd(None),
            "a confirmation from another address is a comment"
        );
    }
}
