//! A whole conversation through the real servers (issue 13, "Must show" 2):
//! Postfix → Dovecot, every letter read back over IMAP from the mailbox it
//! reached — the user, the 1st line, line 2, line 3 and the assignee.
//!
//! Registration with missing fields answered in free text, a handover with a
//! comment to an assignee, a handover to line 3 with a comment, a question
//! to the user, «Не помогло», a second proposal, a confirmation after a
//! greeting. Each mailbox receives exactly the letters the table in
//! `tests/conversation.rs` (and docs/workflow.md) says, and every deadline
//! shown lies after the conversation began.

mod support;

use chrono::{NaiveDateTime, TimeZone, Utc};
use support::desk::{about, body, reply, smtp_send, start};
use support::imap::Stored;
use support::SUPPORT;

const USER: &str = "user2@example.com";
const L1: &str = "line1@sed.example.org";
const L2: &str = "line2@sed.example.org";
const L3: &str = "line3@dev.example.org";
const ENG: &str = "eng1@sed.example.org";
const ENG2: &str = "eng2@sed.example.org";
const DEV: &str = "dev1@dev.example.org";

fn proof_in(l: &Stored) -> String {
    let rt = l.header("Reply-To").expect("a Reply-To with the proof");
    regex::Regex::new(r"support\+[^@>\s]+@sed\.example\.org")
        .unwrap()
        .find(&rt)
        .expect("proof address")
        .as_str()
        .to_string()
}

/// The newest letter about `id` in `mailbox` whose body contains `needle`
/// (waiting for it), there being at least `n` letters about `id`.
fn letter_with(mailbox: &str, id: &str, n: usize, needle: &str) -> Stored {
    let tag = format!("[{id}]");
    let ours = |m: &Stored| m.header("Subject").unwrap_or_default().contains(&tag);
    support::imap::wait_until(mailbox, "INBOX", support::desk::WAIT, needle, |l| {
        l.iter().filter(|m| ours(m)).count() >= n
            && l.iter().any(|m| ours(m) && body(m).contains(needle))
    })
    .into_iter()
    .rev()
    .find(|m| ours(m) && body(m).contains(needle))
    .unwrap_or_else(|| panic!("{mailbox}: no letter about {id} with «{needle}»"))
}

/// An engineer answers `to_answer` (a letter with a proof) with `text`.
fn answer(from: &str, id: &str, to_answer: &Stored, text: &str) {
    let proof = proof_in(to_answer);
    smtp_send(
        from,
        &proof,
        &reply(
            from,
            &proof,
            &format!("RE: [{id}] Не работает принтер"),
            to_answer.header("Message-ID"),
            text,
        ),
    );
}

/// The user's reply on the ticket; its Message-ID (with brackets).
fn user_says(id: &str, text: &str) -> String {
    let raw = reply(
        USER,
        SUPPORT,
        &format!("Re: [{id}] Не работает принтер"),
        None,
        text,
    );
    smtp_send(USER, SUPPORT, &raw);
    String::from_utf8_lossy(&raw)
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .map(str::to_string)
        .expect("a Message-ID")
}

/// An engineer's letter to the user answers the user's last letter
/// (item 14): mail clients thread it.
fn threads_under(l: &Stored, users_last: &str) {
    assert_eq!(l.header("In-Reply-To").as_deref(), Some(users_last));
    let refs = l.header("References").unwrap_or_default();
    assert!(
        refs.starts_with("<cv-1@test.example>") && refs.ends_with(users_last),
        "References from the appeal to the user's last letter: {refs}"
    );
}

#[test]
fn a_whole_conversation_by_mail() {
    let began = Utc::now();
    let desk = start("conversation", "CV", "INBOX", "1d", 5);
    // 1. The appeal without room, floor and phone.
    smtp_send(
        USER,
        SUPPORT,
        format!(
            "From: {USER}\r\nTo: {SUPPORT}\r\nSubject: Не работает принтер\r\nMessage-ID: <cv-1@test.example>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
             Добрый день!\r\n\r\nОрганизация: Министерство финансов\r\nФИО: Смирнова Ольга Викторовна\r\n\
             Описание проблемы: Не работает принтер, ошибка драйвера.\r\n\r\nС уважением, Ольга\r\n"
        )
        .as_bytes(),
    );
    let ack = support::imap::wait_until(
        USER,
        "INBOX",
        support::desk::WAIT,
        "the clarification",
        |l| {
            l.iter()
                .any(|m| m.header("Subject").unwrap_or_default().contains("[CV-"))
        },
    );
    let id = ack.iter().find_map(|m| desk.id_in(m)).expect("ticket id");
    desk.wait_status(&id, "awaiting_user");
    // 2. Free text completes the form: routed to line 2, the 1st line copied.
    let completed = user_says(&id, "Добрый вечер, кабинет 305, 3 этаж, тел. 55-12-34");
    desk.wait_status(&id, "assigned");
    let routed2 = letter_with(L2, &id, 1, "Смирнова");
    letter_with(L1, &id, 1, "Копия для 1-й линии");
    // 3. Line 2 hands it to a colleague with a comment: to the assignee, line 2 in copy.
    answer(
        ENG,
        &id,
        &routed2,
        &format!("Добрый день!\r\n\r\nИсполнитель: {ENG2}\r\n\r\nЖеня, возьми, пожалуйста: я до пятницы в отпуске."),
    );
    let to_assignee = letter_with(ENG2, &id, 1, "я до пятницы в отпуске");
    assert!(to_assignee.header("Cc").unwrap_or_default().contains(L2));
    // 4. The assignee hands it to line 3 with a comment.
    answer(
        ENG2,
        &id,
        &to_assignee,
        "Линия: 3\r\n\r\nКоллеги, это не консультация, прошу посмотреть индекс очереди печати.",
    );
    let routed3 = letter_with(L3, &id, 1, "прошу посмотреть индекс");
    // 5. Line 3 (which does not write to users, п. 82) hands it back with the fix.
    answer(
        DEV,
        &id,
        &routed3,
        "Линия: 2\r\n\r\nИндекс очереди перестроен, уточните у пользователя версию драйвера.",
    );
    let back = letter_with(L2, &id, 2, "Индекс очереди перестроен");
    // 6. A question to the user; the answer reaches line 2.
    answer(
        ENG2,
        &id,
        &back,
        "Добрый день!\r\n\r\nСтатус: Действие пользователя\r\n\r\nКакая версия драйвера установлена?",
    );
    desk.wait_status(&id, "awaiting_user");
    threads_under(
        &letter_with(USER, &id, 3, "Какая версия драйвера"),
        &completed,
    );
    let version = user_says(&id, "Здравствуйте!\r\n\r\nВерсия 5.1.\r\n\r\nОльга");
    desk.wait_status(&id, "assigned");
    letter_with(L2, &id, 3, "Версия 5.1");
    // 7. A proposal; «Не помогло»; a second proposal; confirmation after a greeting.
    answer(
        ENG2,
        &id,
        &back,
        "Статус: Предложено решение\r\n\r\nОбновите драйвер до 6.0.",
    );
    desk.wait_status(&id, "solution_proposed");
    threads_under(
        &letter_with(USER, &id, 4, "Обновите драйвер до 6.0"),
        &version,
    );
    let not_helped = user_says(&id, "Добрый день!\r\n\r\nНе помогло, ошибка осталась.");
    desk.wait_status(&id, "assigned");
    letter_with(L2, &id, 4, "Не помогло");
    answer(
        ENG2,
        &id,
        &back,
        "Статус: Предложено решение\r\n\r\nОчистите очередь печати и перезапустите службу «Диспетчер печати».",
    );
    desk.wait_status(&id, "solution_proposed");
    threads_under(
        &letter_with(USER, &id, 5, "Очистите очередь печати"),
        &not_helped,
    );
    user_says(&id, "Добрый день!\r\n\r\nПодтверждаю, печать пошла.");
    desk.wait_status(&id, "confirmed");
    letter_with(L2, &id, 5, "подтвердил решение");
    letter_with(L1, &id, 5, "подтвердил решение");

    // Each mailbox got exactly the table's letters (read once the last is in).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let count = |mb: &str| about(mb, &id, 0, "count").len();

    // user: clarification, registration, the question, two proposals.
    assert_eq!(count(USER), 5, "the user's letters");
    // line 1: copies of the routings (to line 2, to the assignee, to line 3,
    // back to line 2), of the two proposals and of the confirmation.
    assert_eq!(count(L1), 7, "the 1st line's letters");
    // line 2: routed, the assignee's in copy, back from line 3, the user's
    // answer, «Не помогло», the confirmation.
    assert_eq!(count(L2), 6, "line 2's letters");
    // the assignee: the routed letter, and «принято» for each of their four
    // commands (line 3, the question, two proposals).
    assert_eq!(count(ENG2), 5, "the assignee's letters");
    // line 3: the routed letter only (the ticket went back to line 2).
    assert_eq!(count(L3), 1, "line 3's letters");
    assert_eq!(count(ENG), 1, "eng1's «принято»");
    assert_eq!(count(DEV), 1, "dev1's «принято»");
    // The handover to line 3 is addressed to line 3, not to line 2's assignee.
    let to3 = letter_with(L3, &id, 1, "прошу посмотреть индекс");
    assert!(to3.header("To").unwrap_or_default().contains(L3));

    // Every deadline shown is after the conversation began.
    let tz = chrono_tz::Europe::Kaliningrad;
    let re = regex::Regex::new(r"Срок(?: решения)?: (\d\d\.\d\d\.\d{4} \d\d:\d\d)").unwrap();
    for mb in [USER, L1, L2, ENG2, L3] {
        for l in about(mb, &id, 0, "deadlines") {
            for c in re.captures_iter(&body(&l)) {
                let at = NaiveDateTime::parse_from_str(&c[1], "%d.%m.%Y %H:%M").unwrap();
                let at = tz
                    .from_local_datetime(&at)
                    .single()
                    .unwrap()
                    .with_timezone(&Utc);
                assert!(
                    at > began,
                    "{mb}: a deadline in the past ({}) in {:?}",
                    &c[1],
                    l.header("Subject")
                );
            }
        }
    }
    drop(desk);
}
