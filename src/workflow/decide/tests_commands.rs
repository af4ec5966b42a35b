//! Table tests of [`decide`] for command letters: event + state → the
//! effects; and every engineer × status × status asked, against the
//! transition table.

use super::fixture::*;
use super::*;
use crate::workflow::plan;
use Status::*;

fn commands(sender: &str, actor: Option<Actor>, body: &str) -> Commands {
    Commands {
        sender: sender.into(),
        proof: Ok(()),
        set: wf()
            .parse_reply(body)
            .map_err(|e| e.iter().map(|e| e.to_string()).collect()),
        hint: None,
        actor,
        excerpt: body.into(),
        replay_key: format!("replay:{sender}"),
    }
}

fn commands_decided(c: Commands, state: &TicketState) -> Effects {
    decide_with(&Event::Commands(c), state, true)
}

fn refused(sender: &str, reasons: Vec<String>) -> Effects {
    Effects {
        history: vec![Entry::new(sender, "command_refused", reasons.join("; "))],
        letters: vec![Letter::Refusal {
            to: sender.into(),
            reasons,
        }],
        ..Effects::default()
    }
}

/// The plan's own words for `body` (history and summary): what
/// [`plan::plan`] decides is its table's business; here, what follows.
fn planned(body: &str, st: &TicketState, actor: &Actor) -> plan::CommandPlan {
    let now = plan::TicketState {
        status: st.status,
        line: st.line,
        priority: st.priority.clone(),
        kind: st.kind,
        assignee: st.assignee.clone(),
    };
    plan::plan(&wf().parse_reply(body).unwrap(), &now, actor, &wf()).unwrap()
}

#[test]
fn refused_command_letters_change_nothing() {
    let body = "Статус: Предложено решение\n\nПереустановите драйвер.";
    let on = state(Assigned, Line::Second);
    let eng = || Some(engineer(ENGINEER, Line::Second));
    let unproven = Commands {
        proof: Err("письмо пришло не на адрес подтверждения".into()),
        ..commands(ENGINEER, eng(), body)
    };
    let bad = commands(ENGINEER, eng(), "Статус: Непонятно\n\nтекст");
    let bad_reasons = bad.set.clone().unwrap_err();
    let note = commands(ENGINEER, eng(), "Посмотрю завтра.");
    let hinted = Commands {
        hint: Some("строка «Статус: Решено» стоит не в начале письма".into()),
        ..commands(ENGINEER, eng(), "Посмотрю завтра.")
    };
    let rows: Vec<(&str, Commands, Effects)> = vec![
        (
            "no proof of receipt: refused to the sender",
            unproven,
            refused(
                ENGINEER,
                vec!["письмо пришло не на адрес подтверждения".into()],
            ),
        ),
        (
            "keyword lines that do not read: every reason",
            bad,
            refused(ENGINEER, bad_reasons),
        ),
        (
            "no command at all: a note, nothing sent",
            note,
            Effects {
                history: vec![Entry::new(ENGINEER, "engineer_note", "Посмотрю завтра.")],
                ..Effects::default()
            },
        ),
        (
            "a note that seems to mean a command: the engineer is told",
            hinted,
            {
                let mut e = refused(
                    ENGINEER,
                    vec!["строка «Статус: Решено» стоит не в начале письма: письмо записано как заметка. Ключи команд — в начале письма (можно после одной строки приветствия), по одному на строке; текст для пользователя — после них".into()],
                );
                e.history
                    .insert(0, Entry::new(ENGINEER, "engineer_note", "Посмотрю завтра."));
                e
            },
        ),
        (
            "a command from someone who is no engineer (with a proof): refused",
            commands("stranger@example.org", None, body),
            refused(
                "stranger@example.org",
                vec!["stranger@example.org не инженер ни одной из линий".into()],
            ),
        ),
    ];
    for (name, c, want) in rows {
        let got = commands_decided(c, &on);
        assert_eq!(got, want, "{name}");
        assert_eq!(got.transition, None, "{name}");
        assert_eq!(got.replay, None, "{name}");
    }
}

#[test]
fn applied_command_letters_table() {
    let propose = "Статус: Предложено решение\n\nПереустановите драйвер.";
    let eng = engineer(ENGINEER, Line::Second);
    let on = state(Assigned, Line::Second);
    let p = planned(propose, &on, &eng);
    let got = commands_decided(commands(ENGINEER, Some(eng.clone()), propose), &on);
    assert_eq!(
        got,
        Effects {
            transition: Some(Transition {
                from: Assigned,
                to: SolutionProposed,
                actor: eng.clone(),
            }),
            history: vec![Entry {
                from: Some("assigned".into()),
                to: Some("solution_proposed".into()),
                ..Entry::new(ENGINEER, "command", p.history.join("; "))
            }],
            letters: vec![
                Letter::CopyToFirstLine {
                    text: format!(
                        "{ENGINEER} предложил решение пользователю:\n\nПереустановите драйвер."
                    ),
                },
                Letter::ToUser {
                    text: p.to_user.clone().unwrap(),
                    with_files: true,
                },
                Letter::CommandDone {
                    to: ENGINEER.into(),
                    summary: p.summary(),
                    with_files: true,
                },
            ],
            replay: Some(format!("replay:{ENGINEER}")),
            ..Effects::default()
        },
        "a proposed solution: moved, the words to the user, the 1st line copied"
    );

    // The 1st line hands a new ticket to the 2nd with a comment.
    let hand = "Линия: 2\n\nПринтер в 305, посмотрите.";
    let op = engineer(OPERATOR, Line::First);
    let on = state(New, Line::First);
    let p = planned(hand, &on, &op);
    let why =
        format!("по команде {OPERATOR}\n\nКомментарий {OPERATOR}:\nПринтер в 305, посмотрите.\n");
    let lead = format!("Обращение SD-1 направлено на линию 2 ({why}).");
    let got = commands_decided(commands(OPERATOR, Some(op.clone()), hand), &on);
    assert_eq!(
        got,
        Effects {
            fields: Fields {
                line: Some(Line::Second),
                assignee: Some(None),
                ..Fields::default()
            },
            transition: Some(Transition {
                from: New,
                to: Assigned,
                actor: op,
            }),
            history: vec![
                Entry {
                    from: Some("new".into()),
                    to: Some("assigned".into()),
                    ..Entry::new(OPERATOR, "command", p.history.join("; "))
                },
                Entry::new(OPERATOR, "handover_comment", "Принтер в 305, посмотрите."),
                Entry::new("system", "routed", why.clone()),
            ],
            letters: vec![
                Letter::Routed {
                    line: Line::Second,
                    mailbox: "line2@sed.example.org".into(),
                    lead: lead.clone(),
                },
                Letter::CopyToFirstLine { text: lead },
                Letter::CommandDone {
                    to: OPERATOR.into(),
                    summary: p.summary(),
                    with_files: false,
                },
            ],
            replay: Some(format!("replay:{OPERATOR}")),
            ..Effects::default()
        },
        "a handover: assigned, routed with the comment, the engineer told"
    );

    // The line closes a ticket for the user (after a phone call).
    let close = "Статус: Подтверждено";
    let on = state(SolutionProposed, Line::Second);
    let got = commands_decided(commands(ENGINEER, Some(eng.clone()), close), &on);
    assert_eq!(got.transition.as_ref().map(|m| m.to), Some(Confirmed));
    assert_eq!(
        got.letters[..2],
        [
            Letter::ClosedByDesk {
                by: ENGINEER.into()
            },
            Letter::CopyToFirstLine {
                text: format!("{ENGINEER} закрыл обращение («Подтверждено»).")
            },
        ],
        "closed by the desk: the user is told, the 1st line copied"
    );
}

/// Every status × every status asked × every engineer: moved exactly when
/// the table allows it, otherwise refused to the engineer with nothing
/// changed.
#[test]
fn every_engineers_command_follows_the_table() {
    let engineers = [
        engineer(OPERATOR, Line::First),
        engineer(ENGINEER, Line::Second),
        engineer("dev1@dev.example.org", Line::Third),
    ];
    for from in Status::ALL {
        for to in Status::ALL {
            for actor in &engineers {
                let Actor::Engineer { line, address } = actor else {
                    continue;
                };
                let body = format!(
                    "Статус: {}\n\nПереустановите драйвер принтера.",
                    to.display_name()
                );
                let got = commands_decided(
                    commands(address, Some(actor.clone()), &body),
                    &state(from, *line),
                );
                let allowed = transition(from, to, actor).is_ok();
                match &got.transition {
                    Some(m) => {
                        assert!(
                            allowed,
                            "{from} → {to} by {actor}: moved, the table refuses"
                        );
                        assert_eq!((m.from, m.to, &m.actor), (from, to, actor));
                    }
                    None if from != to && allowed => {
                        panic!("{from} → {to} by {actor}: allowed, not moved: {got:?}")
                    }
                    None => {}
                }
                if !allowed && from != to {
                    assert!(
                        matches!(got.letters.as_slice(), [Letter::Refusal { .. }]),
                        "{from} → {to} by {actor}: {got:?}"
                    );
                    assert_eq!(got.fields, Fields::default());
                }
            }
        }
    }
}
