//! Every event × every status, checked against the one transition table
//! ([`crate::workflow::status::TRANSITIONS`] through [`transition`]): engineers'
//! `Статус:` commands (as [`plan::plan`] decides them), the user's replies
//! (as [`user::user_reply`] decides them, with the actor the pipeline
//! moves the ticket as) and the desk's own moves (registration, routing,
//! a completed form, reopening). The ticket's status has one writer,
//! `store::tickets::Ticket::move_to`, which applies the same table; the
//! field is private, so no other code can set it.

use crate::store::tickets::Ticket;
use crate::workflow::plan::{self, tests::wf, TicketState};
use crate::workflow::status::{transition, Actor, Kind, Line, Status};
use crate::workflow::user::{self, UserReply};

fn state(status: Status, line: Line) -> TicketState {
    TicketState {
        status,
        line,
        priority: "normal".into(),
        kind: Kind::Incident,
        assignee: None,
    }
}

fn engineers() -> Vec<Actor> {
    [
        (Line::First, "op1@sed.example.org"),
        (Line::Second, "eng1@sed.example.org"),
        (Line::Third, "dev1@dev.example.org"),
    ]
    .into_iter()
    .map(|(line, a)| Actor::Engineer {
        line,
        address: a.into(),
    })
    .collect()
}

/// A ticket in `status`, brought there through the table as the desk does.
fn ticket_in(status: Status) -> Ticket {
    let sys = Actor::System;
    let eng = Actor::Engineer {
        line: Line::Second,
        address: "eng1@sed.example.org".into(),
    };
    let user = Actor::User {
        address: "u@example.org".into(),
    };
    let path: &[(Status, &Actor)] = match status {
        Status::New => &[],
        Status::Assigned => &[(Status::Assigned, &sys)],
        Status::AwaitingUser => &[(Status::AwaitingUser, &sys)],
        Status::SolutionProposed => &[(Status::Assigned, &sys), (Status::SolutionProposed, &eng)],
        Status::Confirmed => &[
            (Status::Assigned, &sys),
            (Status::SolutionProposed, &eng),
            (Status::Confirmed, &user),
        ],
    };
    let mut t = Ticket::default();
    for (to, actor) in path {
        t.move_to(*to, actor).expect("a path through the table");
    }
    assert_eq!(t.status(), status);
    t
}

#[test]
fn engineers_commands_follow_the_table() {
    let wf = wf();
    for from in Status::ALL {
        for to in Status::ALL {
            for actor in engineers() {
                let Actor::Engineer { line, .. } = &actor else {
                    continue;
                };
                let body = format!(
                    "Статус: {}\n\nПереустановите драйвер принтера.",
                    to.display_name()
                );
                let set = wf.parse_reply(&body).expect("a command");
                let allowed = transition(from, to, &actor).is_ok();
                let decided = plan::plan(&set, &state(from, *line), &actor, &wf);
                let mut t = ticket_in(from);
                match decided {
                    Ok(p) => {
                        assert!(allowed, "{from} → {to} by {actor}: planned, table refuses");
                        if from != to {
                            assert_eq!(p.status, Some(to), "{from} → {to} by {actor}");
                            // The one writer agrees.
                            assert_eq!(t.move_to(to, &actor), Ok(Some(from)));
                        }
                    }
                    Err(reasons) => {
                        assert!(
                            !allowed,
                            "{from} → {to} by {actor}: refused ({reasons:?}), table allows"
                        );
                        assert!(t.move_to(to, &actor).is_err(), "{from} → {to} by {actor}");
                        assert_eq!(t.status(), from, "a refused move leaves the status");
                    }
                }
            }
        }
    }
}

#[test]
fn users_replies_follow_the_table() {
    use Status::*;
    let bodies = [
        ("Подтверждаю", "confirm"),
        ("Добрый день!\n\nПодтверждаю, уведомления пришли", "confirm"),
        ("Спасибо, всё получилось", "thanks"),
        ("Не помогло, ошибка осталась", "not helped"),
        ("Кабинет 305, 3 этаж, тел. 55-12-34", "words"),
    ];
    // (status, from the requester, routed, body kind) → the move the desk
    // makes; anything not listed moves nothing.
    let moves = [
        (SolutionProposed, true, "confirm", Confirmed),
        (SolutionProposed, true, "not helped", Assigned),
        (AwaitingUser, true, "confirm", Assigned),
        (AwaitingUser, true, "thanks", Assigned),
        (AwaitingUser, true, "not helped", Assigned),
        (AwaitingUser, true, "words", Assigned),
        (Confirmed, true, "not helped", Assigned),
        (Confirmed, true, "words", Assigned),
    ];
    for from in Status::ALL {
        for from_requester in [true, false] {
            for (body, what) in bodies {
                let decided = match user::user_reply(from, true, from_requester, body) {
                    UserReply::Confirm => Some(Confirmed),
                    UserReply::Forward { to } => to.filter(|t| *t != from),
                    UserReply::Refuse { .. } | UserReply::AskConfirm => None,
                };
                let want = moves
                    .iter()
                    .find(|(s, r, w, _)| *s == from && *r == from_requester && *w == what)
                    .map(|m| m.3);
                assert_eq!(
                    decided, want,
                    "{from}, requester {from_requester}, «{body}»"
                );
                let Some(to) = decided else { continue };
                // The pipeline moves as the user, or as the desk when its
                // rule reopens a closed ticket.
                let actor = if from == Confirmed {
                    Actor::System
                } else {
                    Actor::User {
                        address: "u@example.org".into(),
                    }
                };
                assert!(
                    transition(from, to, &actor).is_ok(),
                    "{from} → {to} by {actor}: decided, but the table refuses"
                );
                assert_eq!(ticket_in(from).move_to(to, &actor), Ok(Some(from)));
            }
        }
    }
}

#[test]
fn the_desks_own_moves_follow_the_table() {
    use Status::*;
    // (event, from, to)
    let moves = [
        ("registered with fields missing", New, AwaitingUser),
        ("routed to line 2 or 3", New, Assigned),
        ("the form completed, not yet routed", AwaitingUser, New),
        ("the form completed, routed", AwaitingUser, Assigned),
        ("closed_reply = reopen", Confirmed, Assigned),
    ];
    for (event, from, to) in moves {
        assert!(transition(from, to, &Actor::System).is_ok(), "{event}");
        assert_eq!(
            ticket_in(from).move_to(to, &Actor::System),
            Ok(Some(from)),
            "{event}"
        );
    }
    // And nothing else: the desk never proposes, asks or closes by itself.
    for from in Status::ALL {
        for to in Status::ALL {
            if from == to || moves.iter().any(|m| m.1 == from && m.2 == to) {
                continue;
            }
            if transition(from, to, &Actor::System).is_ok() {
                // New → Assigned etc. are covered above; any other
                // system move would be a new event needing a row here.
                panic!("{from} → {to} by the system is allowed but no event makes it");
            }
        }
    }
}
