//! The desk's workflow against the real servers (issue 6, "Must show" 1, 2,
//! 3, 5, 6): routing to a line's mailbox, commands by reply with proof of
//! receipt, the user's confirmation, spoofing refused, escalation, the daily
//! limit against an auto-responder, `статус` letters. Letters are read back
//! over IMAP from the mailboxes they really reached through Postfix → LMTP.
//!
//! Each test has its own folder of the support mailbox and its own ticket
//! prefix (`support::desk`), so tests running side by side never take each
//! other's letters.

mod support;

use std::time::Duration;

use support::daemon::ticketd;
use support::desk::{about, about_prefix, appeal, body, desk_key, reply, smtp_send, start, WAIT};
use support::imap;
use support::SUPPORT;

/// Must show 1: the full life cycle by mail, through Postfix and Dovecot.
#[test]
fn full_life_cycle_by_mail() {
    let desk = start("lifecycle", "LC", "INBOX", "1d", 10);
    smtp_send(
        "user1@example.com",
        SUPPORT,
        &appeal(
            "user1@example.com",
            "lc-1",
            "Не печатает принтер в кабинете",
        ),
    );
    // The user's auto-reply, and the routed letter in line 2's mailbox.
    let ack = imap::wait_until("user1@example.com", "INBOX", WAIT, "the auto-reply", |l| {
        l.iter().any(|m| {
            m.header("In-Reply-To")
                .is_some_and(|v| v.contains("lc-1@test.example"))
        })
    });
    let ack = ack
        .iter()
        .find(|m| {
            m.header("In-Reply-To")
                .is_some_and(|v| v.contains("lc-1@test.example"))
        })
        .unwrap();
    let id = desk.id_in(ack).expect("ticket id in the auto-reply");
    assert!(ack.header("Auto-Submitted").is_some());
    let routed = about("line2@sed.example.org", &id, 1, "the routed letter");
    let routed = &routed[0];
    let reply_to = routed
        .header("Reply-To")
        .expect("routed letter has a Reply-To");
    let token = regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .unwrap()
        .find(&reply_to)
        .expect("proof address")
        .as_str()
        .to_string();
    assert!(
        body(routed).contains("Смирнова Ольга Викторовна"),
        "the form travels with the ticket"
    );
    assert_eq!(desk.show(&id)["status"], "assigned");

    // The engineer replies to the routed letter: the reply goes to the proof address.
    let subject = format!("Re: [{id}] Не печатает принтер");
    let text = "Статус: Предложено решение\r\n\r\nПереустановите драйвер принтера: Пуск → Принтеры → Удалить, затем подключите снова.\r\n\r\n-- \r\nИнженер Петров\r\n\r\n> Обращение направлено на линию 2";
    smtp_send(
        "eng1@sed.example.org",
        &token,
        &reply(
            "Eng One <eng1@sed.example.org>",
            &token,
            &subject,
            routed.header("Message-ID"),
            text,
        ),
    );
    desk.wait_status(&id, "solution_proposed");
    // The user receives the engineer's words, from the support address, with the tag.
    let to_user = about("user1@example.com", &id, 2, "the proposed solution");
    let solution = to_user
        .iter()
        .find(|m| body(m).contains("Переустановите драйвер"))
        .expect("solution letter");
    let sb = body(solution);
    assert!(
        !sb.contains("Инженер Петров") && !sb.contains("eng1@"),
        "no signature, no engineer address: {sb}"
    );
    assert!(
        !solution.text().contains(&token),
        "the proof never reaches the user"
    );
    // The engineer gets a one-line confirmation.
    let done = about("eng1@sed.example.org", &id, 1, "the command confirmation");
    assert!(done[0].header("Subject").unwrap_or_default().contains(&id));

    // The user confirms by replying to the letter they got.
    smtp_send(
        "user1@example.com",
        SUPPORT,
        &reply(
            "user1@example.com",
            SUPPORT,
            &format!("Re: [{id}] решение"),
            solution.header("Message-ID"),
            "Подтверждаю, всё работает.\r\n\r\n> По вашему обращению предложено решение",
        ),
    );
    let t = desk.wait_status(&id, "confirmed");
    // Line 2 is told.
    about("line2@sed.example.org", &id, 2, "the confirmation notice");
    // The history lists every step with its actor.
    let steps: Vec<(String, String)> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["actor"].as_str().unwrap_or("").to_string(),
                h["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (actor, action) in [
        ("user1@example.com", "created"),
        ("system", "routed"),
        ("eng1@sed.example.org", "command"),
        ("user1@example.com", "confirmed"),
    ] {
        assert!(
            steps.iter().any(|(a, x)| a == actor && x == action),
            "history lacks {actor} {action}: {steps:?}"
        );
    }
    drop(desk);
}

/// Must show 2: commands without a valid proof, or from a non-engineer, are
/// refused, change nothing, and are recorded.
#[test]
fn spoofed_commands_are_refused_and_recorded() {
    let desk = start("spoof", "SP", "spoof", "1d", 20);
    desk.deliver(&appeal(
        "user2@example.com",
        "sp-1",
        "Принтер печатает пустые листы",
    ));
    desk.deliver(&appeal(
        "user2@example.com",
        "sp-2",
        "Принтер зажёвывает бумагу",
    ));
    let routed = imap::wait_until(
        "line2@sed.example.org",
        "INBOX",
        WAIT,
        "two routed letters",
        |l| {
            l.iter()
                .filter(|m| m.header("Subject").unwrap_or_default().contains("[SP-"))
                .count()
                >= 2
        },
    );
    let ids: Vec<String> = routed.iter().filter_map(|m| desk.id_in(m)).collect();
    let (a, b) = (
        ids.iter().min().unwrap().clone(),
        ids.iter().max().unwrap().clone(),
    );
    let token_of = |id: &str| {
        let l = routed
            .iter()
            .find(|m| desk.id_in(m).as_deref() == Some(id))
            .unwrap();
        let rt = l.header("Reply-To").unwrap();
        regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
            .unwrap()
            .find(&rt)
            .unwrap()
            .as_str()
            .to_string()
    };
    let key = desk_key(&desk.config);
    let other_engineer = ticketd::workflow::token::make_reply_address(
        SUPPORT,
        &a,
        "line3@dev.example.org",
        &ticketd::workflow::token::Binding {
            line: 2,
            assignee: None,
            routing: 1,
        },
        &key,
    );
    let cmd = "Статус: Предложено решение\r\n\r\nВсё исправлено.";
    let subject = format!("Re: [{a}] принтер");
    let attempts = [
        ("no secret", "eng1@sed.example.org", SUPPORT.to_string()),
        (
            "another ticket's secret",
            "eng1@sed.example.org",
            token_of(&b),
        ),
        (
            "a secret issued to another line",
            "eng1@sed.example.org",
            other_engineer,
        ),
        (
            "a non-engineer with a valid secret",
            "user2@example.com",
            token_of(&a),
        ),
    ];
    for (n, (what, from, to)) in attempts.iter().enumerate() {
        desk.deliver(&reply(from, to, &subject, None, cmd));
        let t = desk.wait_history(&a, "command_refused", n + 1);
        assert_eq!(t["status"], "assigned", "{what}: nothing changed");
        let last = t["history"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|h| h["action"] == "command_refused")
            .unwrap()
            .clone();
        assert_eq!(last["actor"], *from, "{what}: recorded with the sender");
        eprintln!("{what}: {}", last["detail"]);
    }
    // The refusals reach the senders (within the daily limit).
    about("eng1@sed.example.org", &a, 3, "three refusals to eng1");
    // And the genuine reply still works afterwards.
    desk.deliver(&reply(
        "eng1@sed.example.org",
        &token_of(&a),
        &subject,
        None,
        cmd,
    ));
    desk.wait_status(&a, "solution_proposed");
    assert_eq!(
        desk.show(&b)["status"],
        "assigned",
        "the other ticket is untouched"
    );
}

/// Must show 3: an untouched ticket moves to line 2, then line 3, with the
/// notices, exactly once each.
#[test]
fn untouched_ticket_escalates_once_per_deadline() {
    let desk = start("escalation", "ES", "escalation", "3s", 20);
    desk.deliver(&appeal(
        "user1@example.com",
        "es-1",
        "Не открывается карточка документа",
    ));
    let id = {
        let l = imap::wait_until("user1@example.com", "INBOX", WAIT, "the auto-reply", |l| {
            l.iter()
                .any(|m| m.header("Subject").unwrap_or_default().contains("[ES-"))
        });
        l.iter().find_map(|m| desk.id_in(m)).unwrap()
    };
    assert_eq!(desk.show(&id)["line"], 1);
    let t = desk.wait_history(&id, "escalated", 1);
    assert_eq!(t["line"], 2);
    assert_eq!(t["status"], "assigned");
    let t = desk.wait_history(&id, "escalated", 2);
    assert_eq!(t["line"], 3);
    // Each line got its routed letter exactly once; the 1st line, which
    // coordinates, is told of both.
    about("line2@sed.example.org", &id, 1, "the escalation to line 2");
    about("line3@dev.example.org", &id, 1, "the escalation to line 3");
    about("line1@sed.example.org", &id, 2, "the notices to line 1");
    std::thread::sleep(Duration::from_secs(4)); // past one more deadline at the top line
    let count = |u: &str| {
        imap::list(u, "INBOX")
            .iter()
            .filter(|m| {
                m.header("Subject")
                    .unwrap_or_default()
                    .contains(&format!("[{id}]"))
            })
            .count()
    };
    assert_eq!(count("line2@sed.example.org"), 1, "line 2: exactly once");
    assert_eq!(desk.show(&id)["line"], 3, "the top line keeps it");
    // Line 3: its routed letter once, then one reminder per missed deadline
    // while it holds the ticket (issue 13, item 5).
    let t = desk.show(&id);
    let stays = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "escalated" && h["detail"].to_string().contains("остаётся"))
        .count();
    let to3: Vec<String> = imap::list("line3@dev.example.org", "INBOX")
        .iter()
        .filter(|m| {
            m.header("Subject")
                .unwrap_or_default()
                .contains(&format!("[{id}]"))
        })
        .map(support::desk::body)
        .collect();
    assert_eq!(
        to3.iter()
            .filter(|b| b.contains("направлено на линию 3"))
            .count(),
        1,
        "line 3: routed exactly once"
    );
    let reminders = to3
        .iter()
        .filter(|b| b.contains("остаётся на линии 3"))
        .count();
    assert!(
        reminders <= stays && stays <= reminders + 1,
        "line 3: one reminder per missed deadline ({reminders} letters, {stays} in the history; the last may be in flight)"
    );
    // Once per deadline: the history has exactly one escalation per missed deadline.
    let t = desk.show(&id);
    let missed: Vec<String> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "escalated")
        .map(|h| h["detail"].to_string())
        .collect();
    let mut unique = missed.clone();
    unique.dedup();
    assert_eq!(missed, unique, "no deadline escalated twice");
}

/// Must show 5: an auto-responder that answers every letter without
/// auto-reply headers gets at most the daily limit, and opens no tickets.
#[test]
fn vacation_responder_is_limited_per_day() {
    let desk = start("vacation", "VA", "vacation", "1d", 3);
    // The user asks for clarification rounds by sending an incomplete form;
    // their "auto-responder" then answers every letter, each time adding a
    // field-free reply with the tag and an attachment-free body.
    desk.deliver(&reply(
        "vacation@example.com",
        SUPPORT,
        "Нужна помощь",
        None,
        "ФИО: Отпускной Иван\r\nОписание: не работает вход",
    ));
    let first = imap::wait_until(
        "vacation@example.com",
        "INBOX",
        WAIT,
        "the clarification",
        |l| {
            l.iter()
                .any(|m| m.header("Subject").unwrap_or_default().contains("[VA-"))
        },
    );
    let id = first.iter().find_map(|m| desk.id_in(m)).unwrap();
    for i in 0..8 {
        // A badly behaved responder: no Auto-Submitted, quotes our letter,
        // and (to make ticketd want to answer) adds one more field each time.
        let extra = [
            "Кабинет 12",
            "Этаж 3",
            "Телефон: 8 (4012) 55-00-01",
            "Примечание: в отпуске",
        ][i % 4];
        desk.deliver(&reply(
            "vacation@example.com",
            SUPPORT,
            &format!("Re: [{id}] Я в отпуске {i}"),
            None,
            &format!("Я в отпуске до понедельника.\r\n{extra}"),
        ));
    }
    desk.wait_history(&id, "letter", 8);
    std::thread::sleep(Duration::from_secs(2));
    let got = imap::list("vacation@example.com", "INBOX")
        .iter()
        .filter(|m| {
            m.header("Subject")
                .unwrap_or_default()
                .contains(&format!("[{id}]"))
        })
        .count();
    assert!(
        got <= 3,
        "at most 3 automatic letters a day to one address about one ticket, got {got}"
    );
    let t = desk.show(&id);
    let suppressed = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "suppressed")
        .count();
    assert!(suppressed >= 1, "the limit was reached and recorded: {t}");
    let out = ticketd(&desk.config, &["tickets", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "no new tickets from the responder"
    );
}

/// Must show 6: a `статус` letter gets the list of the sender's tickets.
#[test]
fn status_letter_lists_the_senders_tickets() {
    let desk = start("status", "ST", "status", "1d", 20);
    desk.deliver(&appeal(
        "user2@example.com",
        "st-1",
        "Не открывается карточка документа",
    ));
    desk.deliver(&appeal("user2@example.com", "st-2", "Не работает поиск"));
    imap::wait_until(
        "user2@example.com",
        "INBOX",
        WAIT,
        "two auto-replies",
        |l| {
            l.iter()
                .filter(|m| m.header("Subject").unwrap_or_default().contains("[ST-"))
                .count()
                >= 2
        },
    );
    desk.deliver(&reply("user2@example.com", SUPPORT, "статус", None, ""));
    let list = imap::wait_until("user2@example.com", "INBOX", WAIT, "the status list", |l| {
        l.iter()
            .any(|m| body(m).contains("Ваши открытые обращения"))
    });
    let letter = list
        .iter()
        .find(|m| body(m).contains("Ваши открытые обращения"))
        .unwrap();
    let text = body(letter);
    assert!(
        text.contains("ST-2026-000001") || text.contains("-000001"),
        "{text}"
    );
    assert!(text.contains("-000002"), "{text}");
    assert!(text.contains("срок"), "deadlines shown: {text}");
}

/// The user's side: an engineer's question puts the ticket in
/// `awaiting_user`; the user's answer returns it to `assigned` and reaches
/// the line; an unknown command is reported back and changes nothing; a
/// confirmation from another address than the requester's is refused.
#[test]
fn user_answers_return_the_ticket_to_work_and_only_the_requester_confirms() {
    let desk = start("user-side", "US", "user-side", "1d", 20);
    desk.deliver(&appeal(
        "user1@example.com",
        "us-1",
        "Принтер не видит бумагу",
    ));
    let routed = about_prefix("line2@sed.example.org", "[US-", "the routed letter");
    let id = desk.id_in(&routed).unwrap();
    let token = regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .unwrap()
        .find(&routed.header("Reply-To").unwrap())
        .unwrap()
        .as_str()
        .to_string();
    let subject = format!("Re: [{id}] принтер");
    // An unknown key: reported back, nothing applied.
    desk.deliver(&reply(
        "eng2@sed.example.org",
        &token,
        &subject,
        None,
        "Статус: Действие пользователя\r\nСрочность: высокая\r\n\r\nКакая модель?",
    ));
    let t = desk.wait_history(&id, "command_refused", 1);
    assert_eq!(t["status"], "assigned", "nothing of that letter applied");
    let refusal = about("eng2@sed.example.org", &id, 1, "the refusal");
    assert!(
        body(&refusal[0]).contains("Срочность"),
        "the unknown key is named: {}",
        body(&refusal[0])
    );
    // A proper question to the user.
    desk.deliver(&reply(
        "eng2@sed.example.org",
        &token,
        &subject,
        None,
        "Статус: Действие пользователя\r\n\r\nУкажите модель принтера, пожалуйста.",
    ));
    desk.wait_status(&id, "awaiting_user");
    let asked = about("user1@example.com", &id, 2, "the engineer's question");
    assert!(asked
        .iter()
        .any(|m| body(m).contains("Укажите модель принтера")));
    // The user answers: back in work, and the line gets the answer.
    desk.deliver(&reply(
        "user1@example.com",
        SUPPORT,
        &format!("Re: [{id}] принтер"),
        None,
        "Модель HP LaserJet 1320.\r\n\r\n> Укажите модель принтера",
    ));
    desk.wait_status(&id, "assigned");
    let forwarded = about(
        "line2@sed.example.org",
        &id,
        2,
        "the user's answer forwarded to the line",
    );
    assert!(forwarded
        .iter()
        .any(|m| body(m).contains("HP LaserJet 1320")));
    // A solution; then a "confirmation" from someone else is a comment.
    desk.deliver(&reply(
        "eng2@sed.example.org",
        &token,
        &subject,
        None,
        "Статус: Предложено решение\r\n\r\nЗамените картридж.",
    ));
    desk.wait_status(&id, "solution_proposed");
    desk.deliver(&reply(
        "user2@example.com",
        SUPPORT,
        &format!("Re: [{id}] принтер"),
        None,
        "Подтверждаю",
    ));
    // Only a comment for the line (issue 12, property 4): nothing changes.
    let t = desk.wait_history(&id, "letter", 5);
    assert_eq!(
        t["status"], "solution_proposed",
        "a stranger cannot confirm"
    );
    desk.deliver(&reply(
        "user1@example.com",
        SUPPORT,
        &format!("Re: [{id}] принтер"),
        None,
        "Подтверждаю",
    ));
    desk.wait_status(&id, "confirmed");
}
