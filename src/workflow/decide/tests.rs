//! Table tests of [`decide`]: rows of event + ticket state → the expected
//! effects, whole; and every user's letter × status × sender checked
//! against the transition table.

use super::fixture::*;
use super::*;
use Status::*;

fn letter(sender: &str, trust: Result<(), String>, text: &str) -> Event {
    Event::UserLetter(UserLetter {
        sender: sender.into(),
        trust,
        text: text.into(),
    })
}

fn relay(line: Line, who: &str, text: &str) -> Letter {
    Letter::RelayToLine {
        line,
        text: format!("{who}:\n\n{text}"),
    }
}

fn comment(sender: &str) -> String {
    format!("Комментарий с адреса {sender} (не заявитель; поля и статус не изменены)")
}

#[test]
fn a_users_letter_table() {
    let ok = || Ok(());
    let forged = || Err("dmarc=fail header.from=example.org".to_string());
    let restart = wf().deadline(now(), "high");
    let confirmed_text = format!("Пользователь {REQUESTER} подтвердил решение. Обращение закрыто.");
    let mut incomplete = state(AwaitingUser, Line::First);
    incomplete.form = Form::default();
    let rows: Vec<(&str, Event, TicketState, Effects)> = vec![
        (
            "the requester confirms a proposed solution: closed, the line told, the 1st line copied",
            letter(REQUESTER, ok(), "Подтверждаю"),
            state(SolutionProposed, Line::Second),
            Effects {
                transition: Some(Transition {
                    from: SolutionProposed,
                    to: Confirmed,
                    actor: user(REQUESTER),
                }),
                history: vec![entry(
                    REQUESTER,
                    "confirmed",
                    Some(SolutionProposed),
                    Some(Confirmed),
                    "пользователь подтвердил решение",
                )],
                letters: vec![
                    Letter::LineNotice {
                        line: Line::Second,
                        text: confirmed_text.clone(),
                    },
                    Letter::CopyToFirstLine {
                        text: confirmed_text,
                    },
                ],
                ..Effects::default()
            },
        ),
        (
            "a confirmation from someone else: no status change, a comment for the line only",
            letter(COLLEAGUE, ok(), "Подтверждаю"),
            state(SolutionProposed, Line::Second),
            Effects {
                letters: vec![relay(Line::Second, &comment(COLLEAGUE), "Подтверждаю")],
                ..Effects::default()
            },
        ),
        (
            "the requester's address unproven: refused row, no status change, a comment",
            letter(REQUESTER, forged(), "Подтверждаю"),
            state(SolutionProposed, Line::Second),
            Effects {
                history: vec![Entry::new(
                    REQUESTER,
                    "refused",
                    "dmarc=fail header.from=example.org",
                )],
                letters: vec![relay(Line::Second, &comment(REQUESTER), "Подтверждаю")],
                ..Effects::default()
            },
        ),
        (
            "thanks without the word: the requester asked to confirm, the line told",
            letter(REQUESTER, ok(), "Спасибо, всё получилось"),
            state(SolutionProposed, Line::Second),
            Effects {
                history: vec![Entry::new(
                    REQUESTER,
                    "asked_to_confirm",
                    "благодарность без слова «Подтверждаю»: пользователя просят подтвердить",
                )],
                letters: vec![
                    Letter::AskToConfirm,
                    Letter::RelayToLine {
                        line: Line::Second,
                        text: format!(
                            "Пользователь {REQUESTER} благодарит, но решение не подтвердил; его попросили ответить «Подтверждаю»:\n\nСпасибо, всё получилось"
                        ),
                    },
                ],
                ..Effects::default()
            },
        ),
        (
            "«не помогло»: back in work, the deadline runs again from now",
            letter(REQUESTER, ok(), "Не помогло, ошибка осталась"),
            state(SolutionProposed, Line::Second),
            Effects {
                fields: Fields {
                    deadline: Some(restart),
                    escalated_for: Some(None),
                    ..Fields::default()
                },
                transition: Some(Transition {
                    from: SolutionProposed,
                    to: Assigned,
                    actor: user(REQUESTER),
                }),
                history: vec![entry(
                    REQUESTER,
                    "status",
                    Some(SolutionProposed),
                    Some(Assigned),
                    "пользователь ответил",
                )],
                letters: vec![relay(
                    Line::Second,
                    &format!("Письмо пользователя {REQUESTER} по обращению"),
                    "Не помогло, ошибка осталась",
                )],
                ..Effects::default()
            },
        ),
        (
            "the requester answers a clarification with fields missing: the form is completed",
            letter(REQUESTER, ok(), "Кабинет 305"),
            incomplete.clone(),
            Effects {
                then: Some(Then::CompleteForm),
                ..Effects::default()
            },
        ),
        (
            "someone else's answer to a clarification completes nothing",
            letter(COLLEAGUE, ok(), "Кабинет 305"),
            incomplete,
            Effects {
                letters: vec![relay(Line::First, &comment(COLLEAGUE), "Кабинет 305")],
                ..Effects::default()
            },
        ),
        (
            "the requester answers a question on a routed ticket: assigned again",
            letter(REQUESTER, ok(), "Принтер HP, модель 1020"),
            state(AwaitingUser, Line::Second),
            Effects {
                fields: Fields {
                    deadline: Some(restart),
                    escalated_for: Some(None),
                    ..Fields::default()
                },
                transition: Some(Transition {
                    from: AwaitingUser,
                    to: Assigned,
                    actor: user(REQUESTER),
                }),
                history: vec![entry(
                    REQUESTER,
                    "status",
                    Some(AwaitingUser),
                    Some(Assigned),
                    "пользователь ответил",
                )],
                letters: vec![relay(
                    Line::Second,
                    &format!("Письмо пользователя {REQUESTER} по обращению"),
                    "Принтер HP, модель 1020",
                )],
                ..Effects::default()
            },
        ),
        (
            "a closed ticket reopened by the desk's rule: the system moves it",
            letter(REQUESTER, ok(), "Опять не печатает"),
            state(Confirmed, Line::Second),
            Effects {
                fields: Fields {
                    deadline: Some(restart),
                    escalated_for: Some(None),
                    ..Fields::default()
                },
                transition: Some(Transition {
                    from: Confirmed,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: vec![entry(
                    REQUESTER,
                    "status",
                    Some(Confirmed),
                    Some(Assigned),
                    "пользователь ответил",
                )],
                letters: vec![relay(
                    Line::Second,
                    &format!("Письмо пользователя {REQUESTER} по обращению"),
                    "Опять не печатает",
                )],
                ..Effects::default()
            },
        ),
        (
            "«Подтверждаю» on a ticket in work closes nothing",
            letter(REQUESTER, ok(), "Подтверждаю"),
            state(Assigned, Line::Second),
            Effects {
                letters: vec![relay(
                    Line::Second,
                    &format!("Письмо пользователя {REQUESTER} по обращению"),
                    "Подтверждаю",
                )],
                ..Effects::default()
            },
        ),
    ];
    for (name, event, state, want) in rows {
        assert_eq!(decide_with(&event, &state, true), want, "{name}");
    }
}

/// Every status × sender (the requester, proven or not; someone else) ×
/// kind of letter: a move decided is one the table allows for its actor,
/// and only the proven requester moves anything.
#[test]
fn every_users_letter_follows_the_table() {
    let bodies = [
        "Подтверждаю",
        "Добрый день!\n\nПодтверждаю, уведомления пришли",
        "Спасибо, всё получилось",
        "Не помогло, ошибка осталась",
        "Кабинет 305, 3 этаж, тел. 55-12-34",
    ];
    let senders = [
        (REQUESTER, Ok(())),
        (REQUESTER, Err("spf=fail".to_string())),
        (COLLEAGUE, Ok(())),
    ];
    for from in Status::ALL {
        for line in [Line::First, Line::Second] {
            for (sender, trust) in &senders {
                for body in bodies {
                    let event = letter(sender, trust.clone(), body);
                    let got = decide_with(&event, &state(from, line), false);
                    let proven_requester = *sender == REQUESTER && trust.is_ok();
                    if let Some(m) = &got.transition {
                        assert!(proven_requester, "{from}, {sender}, «{body}»: moved");
                        assert_eq!(m.from, from);
                        assert!(
                            transition(m.from, m.to, &m.actor).is_ok(),
                            "{from} → {} by {}: decided, the table refuses",
                            m.to,
                            m.actor
                        );
                    }
                    if !proven_requester {
                        assert_eq!(got.fields, Fields::default(), "{from}, {sender}");
                        assert!(!got.letters.contains(&Letter::AskToConfirm));
                        assert_eq!(got.then, None);
                    }
                    // The ticket's line always hears of the letter.
                    assert!(
                        got.letters.iter().any(|l| matches!(
                            l,
                            Letter::RelayToLine { line: l2, .. } | Letter::LineNotice { line: l2, .. }
                                if *l2 == line
                        )),
                        "{from}, {sender}, «{body}»: {got:?}"
                    );
                }
            }
        }
    }
}

fn escalation(from: Line, to: Line, notify: Vec<Line>) -> Escalation {
    Escalation {
        ticket: "SD-1".into(),
        from_line: from,
        to_line: to,
        missed_deadline: now() - chrono::Duration::hours(1),
        new_deadline: now() + chrono::Duration::hours(1),
        notify,
        reason: "срок пропущен".into(),
    }
}

fn timer(from: Line, to: Line, notify: Vec<Line>) -> Event {
    Event::Timer(Timer {
        escalation: escalation(from, to, notify),
        missed_shown: "02.03.2026 11:00".into(),
    })
}

#[test]
fn the_timer_table() {
    let fields = |line: Option<Line>| Fields {
        line,
        deadline: Some(now() + chrono::Duration::hours(1)),
        escalated_for: Some(Some(now() - chrono::Duration::hours(1))),
        touched: true,
        ..Fields::default()
    };
    let why = "эскалация: срок 02.03.2026 11:00 пропущен";
    let lead = format!("Обращение SD-1 направлено на линию 2 ({why}).");
    let routed = || Letter::Routed {
        line: Line::Second,
        mailbox: "line2@sed.example.org".into(),
        lead: lead.clone(),
    };
    let notice = |line| Letter::LineNotice {
        line,
        text: "Эскалация обращения SD-1: срок пропущен".into(),
    };
    let escalated = || Entry::new("system", "escalated", "срок пропущен");
    let routed_row = || Entry::new("system", "routed", why);
    // (name, event, state, first-line copies, expected)
    let rows: Vec<(&str, Event, TicketState, bool, Effects)> = vec![
        (
            "new on the 1st line, past due: assigned to the 2nd, routed, the 1st line copied",
            timer(Line::First, Line::Second, vec![Line::Second, Line::First]),
            state(New, Line::First),
            true,
            Effects {
                fields: fields(Some(Line::Second)),
                transition: Some(Transition {
                    from: New,
                    to: Assigned,
                    actor: Actor::System,
                }),
                history: vec![
                    escalated(),
                    entry(
                        "system",
                        "status",
                        Some(New),
                        Some(Assigned),
                        "передано на линию 2",
                    ),
                    routed_row(),
                ],
                letters: vec![routed(), Letter::CopyToFirstLine { text: lead.clone() }],
                ..Effects::default()
            },
        ),
        (
            "the same without copies: the 1st line gets the escalation notice",
            timer(Line::First, Line::Second, vec![Line::Second, Line::First]),
            state(Assigned, Line::First),
            false,
            Effects {
                fields: fields(Some(Line::Second)),
                history: vec![escalated(), routed_row()],
                letters: vec![routed(), notice(Line::First)],
                ..Effects::default()
            },
        ),
        (
            "on the last line: it stays, its line reminded and the 1st line told",
            timer(Line::Second, Line::Second, vec![Line::Second, Line::First]),
            state(Assigned, Line::Second),
            true,
            Effects {
                fields: fields(None),
                history: vec![escalated()],
                letters: vec![notice(Line::Second), notice(Line::First)],
                ..Effects::default()
            },
        ),
        (
            "to a line the config does not declare: it stays where it is, notices only",
            timer(Line::Second, Line::Third, vec![Line::Third, Line::First]),
            state(Assigned, Line::Second),
            true,
            Effects {
                fields: fields(None),
                history: vec![escalated()],
                // The 1st line would have had the routing's copy.
                letters: vec![],
                ..Effects::default()
            },
        ),
    ];
    for (name, event, state, copies, want) in rows {
        assert_eq!(decide_with(&event, &state, copies), want, "{name}");
    }
}

fn follow_up(way: FollowUp, sender: &str, text: &str) -> Event {
    Event::FollowUp(FollowUpLetter {
        way,
        letter: UserLetter {
            sender: sender.into(),
            trust: Ok(()),
            text: text.into(),
        },
        excerpt: text.into(),
    })
}

#[test]
fn a_follow_up_table() {
    const ENGINEER: &str = "eng1@sed.example.org";
    const MAILBOX: &str = "line2@sed.example.org";
    let command = "Статус: Решено\n\nПереустановите драйвер.";
    let row = |who: &str| Entry::new(who, "letter", command);
    let refusal = format!(
        "{COLLEAGUE} не инженер ни одной из линий: строки «Статус:», «Линия:» и другие команды принимаются только от инженеров. \
         Напишите, пожалуйста, ответ своими словами, без этих строк: письмо будет передано инженеру."
    );
    let rows: Vec<(&str, Event, Effects)> = vec![
        (
            "an engineer's commands: recorded, then checked and planned",
            follow_up(FollowUp::Commands, ENGINEER, command),
            Effects {
                history: vec![row(ENGINEER)],
                then: Some(Then::Commands),
                ..Effects::default()
            },
        ),
        (
            "an engineer the MTA did not vouch for: recorded with why, nothing sent, nothing moved",
            follow_up(
                FollowUp::Unauthenticated("dkim=fail".into()),
                ENGINEER,
                command,
            ),
            Effects {
                history: vec![
                    row(ENGINEER),
                    Entry::new(ENGINEER, "command_refused", "dkim=fail"),
                ],
                ..Effects::default()
            },
        ),
        (
            "a line mailbox without its proof: recorded, no answer to a shared mailbox",
            follow_up(FollowUp::LineMailboxRecorded, MAILBOX, command),
            Effects {
                history: vec![
                    row(MAILBOX),
                    Entry::new(
                        MAILBOX,
                        "command_refused",
                        "письмо с ящика линии без действующего подтверждения получения: записано, не применено",
                    ),
                ],
                ..Effects::default()
            },
        ),
        (
            "commands from a non-engineer: refused to the sender, the text to the line without a proof",
            follow_up(FollowUp::RefusedCommands, COLLEAGUE, command),
            Effects {
                history: vec![
                    row(COLLEAGUE),
                    Entry::new(COLLEAGUE, "command_refused", refusal.clone()),
                ],
                letters: vec![
                    Letter::Refusal {
                        to: COLLEAGUE.into(),
                        reasons: vec![refusal],
                    },
                    Letter::TextToLine {
                        line: Line::Second,
                        text: format!(
                            "Письмо с адреса {COLLEAGUE} похоже на команду и не применено (отправитель не инженер); текст письма:\n\n{command}"
                        ),
                    },
                ],
                ..Effects::default()
            },
        ),
        (
            "the requester's words: recorded, then a user's letter",
            follow_up(FollowUp::UserWords, REQUESTER, "Подтверждаю"),
            {
                let mut want = decide_with(
                    &letter(REQUESTER, Ok(()), "Подтверждаю"),
                    &state(SolutionProposed, Line::Second),
                    true,
                );
                want.history
                    .insert(0, Entry::new(REQUESTER, "letter", "Подтверждаю"));
                want
            },
        ),
    ];
    for (name, event, want) in rows {
        let got = decide_with(&event, &state(SolutionProposed, Line::Second), true);
        assert_eq!(got, want, "{name}");
        // Nobody but the proven requester moves the ticket here.
        if !name.starts_with("the requester") {
            assert_eq!(got.transition, None, "{name}");
        }
    }
}
