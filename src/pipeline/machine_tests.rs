//! The desk's own moves (registration, routing, a completed form,
//! reopening), checked against the one transition table
//! ([`crate::workflow::status::TRANSITIONS`] through [`transition`]).
//! Every event (a new appeal, a completed form, engineers' commands, the
//! user's letters, the timer) × every status is a table test of
//! [`crate::workflow::decide`] (`decide/tests_appeal.rs`,
//! `decide/tests.rs`, `decide/tests_commands.rs`). The ticket's status has one writer,
//! `store::tickets::Ticket::move_to`, which applies the same table; the
//! field is private, so no other code can set it.

use crate::store::tickets::Ticket;
use crate::workflow::status::{transition, Actor, Line, Status};

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
