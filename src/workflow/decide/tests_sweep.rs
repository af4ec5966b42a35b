//! Every event of every kind × every status × line, the form complete or
//! not, checked against the one transition table
//! ([`crate::workflow::status::TRANSITIONS`]).

use super::fixture::*;
use super::tests_appeal::{answer, appeal, decide_on, new_appeal, routed_wf};
use super::*;
use crate::workflow::follow_up::FollowUp;

/// One event of every kind, several of each.
fn every_event() -> Vec<Event> {
    let mut events = Vec::new();
    for text in [
        "Подтверждаю",
        "Спасибо, всё получилось",
        "Не помогло, ошибка осталась",
        "Кабинет 305, 3 этаж",
    ] {
        for sender in [REQUESTER, COLLEAGUE] {
            let letter = UserLetter {
                sender: sender.into(),
                trust: Ok(()),
                text: text.into(),
            };
            events.push(Event::UserLetter(letter.clone()));
            events.push(Event::FollowUp(FollowUpLetter {
                way: FollowUp::UserWords,
                letter,
                excerpt: text.into(),
            }));
        }
    }
    for body in [
        "Статус: Предложено решение\n\nПерезагрузите.",
        "Статус: В работе",
        "Статус: Подтверждено",
        "Линия: 2",
        "Статус: Действие пользователя\n\nУточните номер кабинета.",
    ] {
        for (sender, actor) in [
            (ENGINEER, engineer(ENGINEER, Line::Second)),
            (OPERATOR, engineer(OPERATOR, Line::First)),
        ] {
            events.push(Event::Commands(Commands {
                sender: sender.into(),
                proof: Ok(()),
                set: wf()
                    .parse_reply(body)
                    .map_err(|e| e.iter().map(|e| e.to_string()).collect()),
                hint: None,
                actor: Some(actor),
                excerpt: body.into(),
                replay_key: format!("replay:{sender}"),
            }));
        }
    }
    events.push(Event::Timer(Timer {
        escalation: crate::workflow::escalate::Escalation {
            ticket: "SD-1".into(),
            from_line: Line::First,
            to_line: Line::Second,
            missed_deadline: now(),
            new_deadline: now(),
            notify: vec![Line::First, Line::Second],
            reason: "срок пропущен".into(),
        },
        missed_shown: "02.03.2026 12:00".into(),
    }));
    let short = Form {
        phone: None,
        ..full_form()
    };
    events.push(new_appeal(appeal(full_form())));
    events.push(new_appeal(appeal(short)));
    let phone = Form {
        phone: Some("+74951234567".into()),
        ..Form::default()
    };
    events.push(Event::FormAnswer(Box::new(answer(
        phone,
        Form::default(),
        false,
    ))));
    events.push(Event::FormAnswer(Box::new(answer(
        Form::default(),
        Form::default(),
        true,
    ))));
    events
}

/// Every event × every status × line, the form complete or not: the move
/// decided starts from the ticket's status and is one the table allows for
/// its actor; the status rows of the history (and a new ticket's
/// `created` row) chain from the ticket's status to the move's end; no
/// move, no status change in the history.
#[test]
fn every_event_follows_the_table() {
    let wf = routed_wf();
    for event in every_event() {
        for from in Status::ALL {
            for line in [Line::First, Line::Second] {
                for form in [full_form(), Form::default()] {
                    let mut st = state(from, line);
                    st.form = form;
                    let got = decide_on(&wf, &event, &st);
                    let moves: Vec<(&str, &str)> = got
                        .history
                        .iter()
                        .filter_map(|e| {
                            // A new ticket's `created` row names the status
                            // it is registered in.
                            let before = match e.action.as_str() {
                                "created" => Some(from.machine_name()),
                                _ => e.from.as_deref(),
                            };
                            Some((before?, e.to.as_deref()?))
                        })
                        .filter(|(a, b)| a != b)
                        .collect();
                    let at = format!("{from}, line {line}: {event:?}");
                    match &got.transition {
                        Some(m) => {
                            assert_eq!(m.from, from, "{at}");
                            assert!(
                                transition(m.from, m.to, &m.actor).is_ok(),
                                "{at}: {} → {} by {} decided, the table refuses",
                                m.from,
                                m.to,
                                m.actor
                            );
                            if m.from != m.to {
                                assert_eq!(moves.first().map(|m| m.0), Some(from.machine_name()));
                                assert_eq!(moves.last().map(|m| m.1), Some(m.to.machine_name()));
                                for pair in moves.windows(2) {
                                    assert_eq!(pair[0].1, pair[1].0, "{at}");
                                }
                            }
                        }
                        None => assert!(moves.is_empty(), "{at}: {moves:?} without a move"),
                    }
                }
            }
        }
    }
}
