//! A letter about an existing ticket: which way it goes.
//!
//! The pipeline gathers the facts (who the sender is to the desk, whether
//! the MTA vouched for them, the proof of receipt, the replay record, the
//! ticket's status) and [`decide`] says what the letter is: a replayed
//! command, a requester's new appeal on a closed ticket, commands to plan,
//! a line mailbox's letter to record, command lines from someone who may
//! not command, or words for the user's side of the conversation. Each way
//! is then carried out by its own part of the pipeline (`pipeline/reply.rs`,
//! `pipeline/user_reply.rs`); what the commands change is
//! [`super::plan::plan`]'s decision, what the user's words do
//! [`super::user`]'s.

use super::loops::SenderRole;

/// What the pipeline knows about a follow-up letter when deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpFacts {
    /// The sender's role; several From addresses make anyone an outsider.
    pub role: SenderRole,
    /// `Err(why)` when `[security]` is on and the MTA did not vouch for
    /// the From domain.
    pub authenticated: Result<(), String>,
    /// The same command by the same sender on this ticket was applied
    /// within `[commands] replay_window`.
    pub replayed: bool,
    /// The ticket is closed (`confirmed`), the sender is its requester, and
    /// the letter asks for more than thanks.
    pub requester_reopens_closed: bool,
    /// `[desk] closed_reply = "new"`: such a letter opens a related appeal.
    pub closed_reply_new: bool,
    /// The letter came to a valid proof-of-receipt address of this ticket
    /// for the sender (checked for a line mailbox only).
    pub line_mailbox_proof: bool,
    /// The letter came to some proof-of-receipt address of this ticket.
    pub to_proof_address: bool,
    /// The letter reads as commands: its first line is a keyword line and
    /// the keyword lines parse (or fail to parse) as commands.
    pub reads_as_commands: bool,
}

/// Which way a follow-up goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// The same command again: recorded, nothing changes, nothing is sent.
    Replayed,
    /// A new appeal, related to the closed ticket.
    RelatedAppeal,
    /// An engineer's (or a line mailbox's, with its proof) commands: check
    /// the proof and plan them.
    Commands,
    /// An engineer the MTA did not vouch for: recorded with the reason, the
    /// (maybe forged) sender gets nothing.
    Unauthenticated(String),
    /// A line mailbox without a valid proof (or not vouched for): recorded;
    /// no answer (an answer to a shared mailbox could start a loop).
    LineMailboxRecorded,
    /// Command lines (or a proof address) from someone who may not
    /// command: refused with a word on what to do, the line gets the text.
    RefusedCommands,
    /// Words for the user's side: a confirmation, an answer, a question.
    UserWords,
}

/// Decide. Order matters: a replay is recognised before anything is
/// applied again; a requester's new question on a closed ticket opens a
/// related appeal before it could be read as anything else.
pub fn decide(f: &FollowUpFacts) -> FollowUp {
    let acts_for_line = matches!(f.role, SenderRole::Engineer(_) | SenderRole::LineMailbox(_));
    if acts_for_line && f.authenticated.is_ok() && f.replayed {
        return FollowUp::Replayed;
    }
    let engineer = matches!(f.role, SenderRole::Engineer(_));
    if f.requester_reopens_closed && !engineer && f.authenticated.is_ok() && f.closed_reply_new {
        return FollowUp::RelatedAppeal;
    }
    match (&f.role, &f.authenticated) {
        (SenderRole::Engineer(_), Err(why)) => FollowUp::Unauthenticated(why.clone()),
        (SenderRole::Engineer(_), Ok(())) => FollowUp::Commands,
        (SenderRole::LineMailbox(_), Ok(())) if f.line_mailbox_proof => FollowUp::Commands,
        (SenderRole::LineMailbox(_), _) => FollowUp::LineMailboxRecorded,
        _ if f.to_proof_address || f.reads_as_commands => FollowUp::RefusedCommands,
        _ => FollowUp::UserWords,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::status::Line;

    fn facts(role: SenderRole) -> FollowUpFacts {
        FollowUpFacts {
            role,
            authenticated: Ok(()),
            replayed: false,
            requester_reopens_closed: false,
            closed_reply_new: true,
            line_mailbox_proof: false,
            to_proof_address: false,
            reads_as_commands: false,
        }
    }

    #[test]
    fn every_way_a_follow_up_goes() {
        let eng = || SenderRole::Engineer(vec![Line::Second]);
        let mailbox = || SenderRole::LineMailbox(Line::Second);
        let user = || SenderRole::Outsider;
        let bad = || Err("dmarc=fail".to_string());
        type Case = (&'static str, FollowUpFacts, FollowUp);
        let cases: Vec<Case> = vec![
            ("an engineer's letter", facts(eng()), FollowUp::Commands),
            (
                "the same command again",
                FollowUpFacts {
                    replayed: true,
                    ..facts(eng())
                },
                FollowUp::Replayed,
            ),
            (
                "a replay claim by a sender not vouched for is no replay",
                FollowUpFacts {
                    replayed: true,
                    authenticated: bad(),
                    ..facts(eng())
                },
                FollowUp::Unauthenticated("dmarc=fail".into()),
            ),
            (
                "an engineer not vouched for",
                FollowUpFacts {
                    authenticated: bad(),
                    ..facts(eng())
                },
                FollowUp::Unauthenticated("dmarc=fail".into()),
            ),
            (
                "a line mailbox with its proof",
                FollowUpFacts {
                    line_mailbox_proof: true,
                    ..facts(mailbox())
                },
                FollowUp::Commands,
            ),
            (
                "a line mailbox without a proof",
                facts(mailbox()),
                FollowUp::LineMailboxRecorded,
            ),
            (
                "a line mailbox with a proof, not vouched for",
                FollowUpFacts {
                    line_mailbox_proof: true,
                    authenticated: bad(),
                    ..facts(mailbox())
                },
                FollowUp::LineMailboxRecorded,
            ),
            (
                "a line mailbox's replay",
                FollowUpFacts {
                    replayed: true,
                    ..facts(mailbox())
                },
                FollowUp::Replayed,
            ),
            ("the user's words", facts(user()), FollowUp::UserWords),
            (
                "a user writing command lines",
                FollowUpFacts {
                    reads_as_commands: true,
                    ..facts(user())
                },
                FollowUp::RefusedCommands,
            ),
            (
                "a user writing to a proof address",
                FollowUpFacts {
                    to_proof_address: true,
                    ..facts(user())
                },
                FollowUp::RefusedCommands,
            ),
            (
                "a user's replay claim is only words",
                FollowUpFacts {
                    replayed: true,
                    ..facts(user())
                },
                FollowUp::UserWords,
            ),
            (
                "the requester asks more on a closed ticket",
                FollowUpFacts {
                    requester_reopens_closed: true,
                    ..facts(user())
                },
                FollowUp::RelatedAppeal,
            ),
            (
                "... with closed_reply = reopen: the user's side reopens",
                FollowUpFacts {
                    requester_reopens_closed: true,
                    closed_reply_new: false,
                    ..facts(user())
                },
                FollowUp::UserWords,
            ),
            (
                "... not vouched for: words only",
                FollowUpFacts {
                    requester_reopens_closed: true,
                    authenticated: bad(),
                    ..facts(user())
                },
                FollowUp::UserWords,
            ),
            (
                "an engineer who is the requester commands",
                FollowUpFacts {
                    requester_reopens_closed: true,
                    ..facts(eng())
                },
                FollowUp::Commands,
            ),
            (
                "our own address is no engineer",
                FollowUpFacts {
                    reads_as_commands: true,
                    ..facts(SenderRole::Support)
                },
                FollowUp::RefusedCommands,
            ),
        ];
        for (what, f, want) in cases {
            assert_eq!(decide(&f), want, "{what}");
        }
    }

    #[test]
    fn what_reads_as_a_command_line() {
        use crate::workflow::commands::opens_with_command;
        for (text, want) in [
            ("Статус: Решено\nготово", true),
            ("\n\n  статус: в работе", true),
            ("Line: 2", true),
            ("ИСПОЛНИТЕЛЬ: eng1@sed.example.org", true),
            ("Добрый день!\nСтатус: Решено", false),
            ("Вопрос: не открывается карточка", false),
            ("https://sed.example.org/card/1", false),
            ("статус", false),
            ("", false),
        ] {
            assert_eq!(opens_with_command(text), want, "{text:?}");
        }
    }
}
